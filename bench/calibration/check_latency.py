#!/usr/bin/python3
"""Checks a plan's predicted latency against loom-run's measured median.

    check_latency.py PLAN_DIR --runner BIN [--repeat N] [--tolerance T]
                     [--attempts K] [--input NAME=FILE.pb ...]
                     [--uncalibrated OTHER_PLAN_DIR] [--recalibrate CMD]

Reads `makespan_us` from PLAN_DIR/plan.json, runs `loom-run PLAN_DIR
--repeat N --quiet` and parses its `median X ms` line. Passes when
|predicted - measured| <= T * measured (default T = 0.25). The machine may
be shared, and its load may change between profiling and measuring: an
attempt outside the tolerance is repeated, up to K attempts (default 4),
each time after running the shell command CMD (--recalibrate: profile
again and recompile PLAN_DIR, so that the table and the measurement are
taken under the same load), and every attempt is printed with both numbers. With
--uncalibrated, also prints that plan's prediction against the same
measurement (informational, never checked).
"""
import argparse
import json
import os
import re
import subprocess
import sys


def makespan(plan_dir):
    with open(os.path.join(plan_dir, "plan.json")) as f:
        return float(json.load(f)["makespan_us"])


def measure(runner, plan_dir, repeat, inputs):
    cmd = [runner, plan_dir, "--repeat", str(repeat), "--quiet"]
    for i in inputs:
        cmd += ["--input", i]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"median ([0-9.]+) ms", out)
    if not m:
        sys.exit(f"check_latency: no 'median X ms' line in loom-run's output:\n{out}")
    return float(m.group(1)) * 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("plan_dir")
    ap.add_argument("--runner", required=True)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--tolerance", type=float, default=0.25)
    ap.add_argument("--attempts", type=int, default=4)
    ap.add_argument("--recalibrate")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--uncalibrated")
    args = ap.parse_args()

    for attempt in range(1, args.attempts + 1):
        if attempt > 1 and args.recalibrate:
            subprocess.run(args.recalibrate, shell=True, check=True)
        predicted = makespan(args.plan_dir)
        measured = measure(args.runner, args.plan_dir, args.repeat, args.input)
        ratio = predicted / measured if measured > 0 else float("inf")
        print(f"attempt {attempt}: predicted {predicted:.1f} us, measured "
              f"median {measured:.1f} us, predicted/measured {ratio:.3f}")
        if args.uncalibrated:
            u = makespan(args.uncalibrated)
            print(f"  uncalibrated prediction {u:.1f} us, "
                  f"predicted/measured {u / measured:.3f}")
        if abs(predicted - measured) <= args.tolerance * measured:
            print(f"ok: within {args.tolerance:.0%}")
            return 0
    print(f"FAIL: predicted {predicted:.1f} us is not within "
          f"{args.tolerance:.0%} of the measured median {measured:.1f} us "
          f"after {args.attempts} attempts")
    return 1


if __name__ == "__main__":
    sys.exit(main())
