#!/usr/bin/python3
"""Schedule quality of loomc's partitioner on every built-in SoC target.

For each model and target: compiles with `--partitioner=auto` (loomc runs
plan-verify on every plan it writes, so a compiled plan is a verified one),
reads plan.json and checks
  - auto is never worse than the best single-device plan (single_device_us),
and reports makespan / lower bound and the number of tasks split across two
devices; for plans of at most 20 tasks it also compiles with
`--partitioner=exact` and reports auto / exact (auto with `--no-split` when
it split tasks: the exact search solves the unsplit problem).
Fails when auto loses to a single device, when the geometric mean of
makespan / lower bound exceeds --max-bound-ratio (default 1.25), or when the
mean of auto / exact exceeds --max-exact-gap (default 1.05).

Usage: schedule_quality.py --loomc PATH OUT_DIR MODEL[:FLAGS] ...
(FLAGS: loomc flags for the model, separated by commas, e.g.
model.onnx:--dim=batch=1)
"""
import argparse
import json
import math
import os
import subprocess
import sys

TARGETS = ["host", "ryzen-ai-300", "snapdragon-x-elite", "apple-m4",
           "intel-lunar-lake"]


def compile_plan(loomc, model, flags, target, partitioner, out):
    cmd = [loomc, model, "-o", out, "--quiet", "--emit=plan",
           "--target=" + target, "--partitioner=" + partitioner] + flags
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, (p.stderr or p.stdout).strip()
    return json.load(open(os.path.join(out, "plan.json"))), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loomc", required=True)
    ap.add_argument("--max-bound-ratio", type=float, default=1.25,
                    help="limit on the geometric mean of makespan / lower bound; "
                         "0 reports it without checking")
    ap.add_argument("--max-exact-gap", type=float, default=1.05)
    ap.add_argument("out")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()

    failures = []
    ratios, gaps = [], []
    print("%-28s %-20s %6s %10s %10s %10s %7s %7s %6s" % (
        "model", "target", "tasks", "auto_us", "bound_us", "single_us",
        "/bound", "/exact", "split"))
    for spec in args.models:
        model, _, flagtext = spec.partition(":")
        flags = [f for f in flagtext.split(",") if f]
        name = os.path.basename(os.path.dirname(model)) if model.endswith(
            "model.onnx") else os.path.basename(model)
        for target in TARGETS:
            out = os.path.join(args.out, name + "." + target)
            plan, err = compile_plan(args.loomc, model, flags, target, "auto", out)
            if plan is None:
                failures.append("%s on %s: loomc failed: %s" % (name, target, err))
                continue
            tasks = sum(1 for t in plan["tasks"] if t["kind"] == "kernel")
            makespan, bound = plan["makespan_us"], plan["lower_bound_us"]
            # The best single-device plan, recompiled (plan.json keeps only
            # the chosen plan).
            singles = []
            for dev in plan["devices"]:
                p1, _ = compile_plan(args.loomc, model, flags, target,
                                     "single:" + dev["name"], out + ".single")
                if p1 is not None:
                    singles.append(p1["makespan_us"])
            best = min(singles) if singles else float("nan")
            if singles and makespan > best * (1 + 1e-9):
                failures.append("%s on %s: auto %.3f us is worse than the best "
                                "single device %.3f us" % (name, target, makespan, best))
            ratio = makespan / bound if bound > 0 else 1.0
            ratios.append(ratio)
            # Tasks split across two devices (co-execution): the exact search
            # solves the unsplit problem, so the heuristic's gap is measured
            # on auto without splitting.
            parts = sum(1 for t in plan["tasks"]
                        if t["kind"] == "kernel" and "[part 1/" in t["name"])
            unsplit = makespan
            if parts:
                pn, err = compile_plan(args.loomc, model, flags + ["--no-split"],
                                       target, "auto", out + ".nosplit")
                if pn is None:
                    failures.append("%s on %s: loomc --no-split failed: %s" % (
                        name, target, err))
                    continue
                unsplit = pn["makespan_us"]
                tasks = sum(1 for t in pn["tasks"] if t["kind"] == "kernel")
            gap = ""
            if tasks <= 20:
                pe, err = compile_plan(args.loomc, model, flags, target, "exact",
                                       out + ".exact")
                if pe is None:
                    failures.append("%s on %s: exact failed: %s" % (name, target, err))
                elif pe["makespan_us"] > 0:
                    g = unsplit / pe["makespan_us"]
                    gaps.append(g)
                    gap = "%.3f" % g
            print("%-28s %-20s %6d %10.2f %10.2f %10.2f %7.3f %7s %6d" % (
                name[:28], target, tasks, makespan, bound, best, ratio, gap,
                parts))
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 1.0
    mean_gap = sum(gaps) / len(gaps) if gaps else 1.0
    print("plans: %d; geometric mean makespan/lower bound %.3f (limit %.2f); "
          "mean auto/exact over %d plans of <= 20 tasks %.4f (limit %.2f)" % (
              len(ratios), geo, args.max_bound_ratio, len(gaps), mean_gap,
              args.max_exact_gap) + (" [bound ratio reported, not checked]"
                                     if args.max_bound_ratio <= 0 else ""))
    if args.max_bound_ratio > 0 and geo > args.max_bound_ratio:
        failures.append("geometric mean makespan/lower bound %.3f > %.2f" % (
            geo, args.max_bound_ratio))
    if mean_gap > args.max_exact_gap:
        failures.append("mean auto/exact %.4f > %.2f" % (mean_gap, args.max_exact_gap))
    for f in failures:
        print("FAIL " + f)
    print("schedule quality: %s" % ("ok" if not failures else "%d failures" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
