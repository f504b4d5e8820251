#!/usr/bin/python3
"""Scenario check of the cost model (issue: "A cost model that predicts",
scenario goal): compiles each scenario for the host (`loomc --scenario`,
whose schedule and per-model predictions come from the cost model) and
runs it (`loom-run --scenario --json`), then prints per model the
predicted and measured deadline misses and median latency.

    scenario.py [--build DIR] [--scenarios FILE,...] [--models-dir DIR]
                [--periods N] [--threads N] [--out RESULTS.json]

Goals (per model): |predicted - measured misses| <= 10% of its jobs, and
the median latency within 25% (|ln(pred/meas)| <= ln 1.25). Default
scenarios: bench/calibration/scenarios/*.yaml (real models of the corpus,
bench/models/real/out) and the shipped scenarios/*.yaml whose models are
found (their zoo, or --models-dir). A benchmark for a quiet machine, not a
test: the load (`uptime`) is printed with every scenario.
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--scenarios")
    ap.add_argument("--models-dir")
    ap.add_argument("--target", default="host")
    ap.add_argument("--periods", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    bindir = os.path.join(a.build, "bin")
    files = (a.scenarios.split(",") if a.scenarios else
             sorted(glob.glob(os.path.join(ROOT, "bench/calibration/scenarios/*.yaml"))) +
             sorted(glob.glob(os.path.join(ROOT, "scenarios/*.yaml"))))
    tmp = tempfile.mkdtemp(prefix="loom-scenario-")
    date = datetime.date.today().isoformat()
    machine = platform.node()
    rows = []
    print("| scenario | model | jobs | misses pred | misses meas | within 10% | median pred (ms) "
          "| median meas (ms) | median ratio | date | machine | load |")
    print("| --- " * 12 + "|")
    try:
        for f in files:
            name = os.path.splitext(os.path.basename(f))[0]
            out = os.path.join(tmp, name)
            cmd = [os.path.join(bindir, "loomc"), "--scenario=" + f, "-o", out,
                   "--target=" + a.target, "--quiet", "--kernel-threads", str(a.threads),
                   "--allow-misses"]
            if a.models_dir:
                cmd += ["--models-dir", a.models_dir]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print("%s: not compiled: %s" % (name, r.stderr.strip()[-200:]), file=sys.stderr)
                continue
            before = load()
            js = os.path.join(tmp, name + ".json")
            r = subprocess.run([os.path.join(bindir, "loom-run"), "--scenario", out, "--json", js,
                                "--periods", str(a.periods), "--threads", str(a.threads),
                                "--quiet"], capture_output=True, text=True)
            if r.returncode != 0:
                print("%s: not run: %s" % (name, r.stderr.strip()[-200:]), file=sys.stderr)
                continue
            ld = round((before + load()) / 2, 2)
            with open(js) as fh:
                res = json.load(fh)
            for m in res["models"]:
                p, q = m["predicted"], m["measured"]
                jobs = q["jobs"] or 1
                within = abs(p["misses"] - q["misses"]) <= 0.1 * jobs
                pm, qm = p["latency_median_us"], q["latency_median_us"]
                ratio = pm / qm if qm else float("nan")
                row = {"scenario": name, "model": m["name"], "jobs": q["jobs"],
                       "misses_pred": p["misses"], "misses_meas": q["misses"],
                       "misses_within": within, "median_pred_us": pm, "median_meas_us": qm,
                       "policy": res.get("policy"), "load": ld}
                rows.append(row)
                print("| %s | %s | %d | %d | %d | %s | %.2f | %.2f | %.2f | %s | %s | %.2f |" % (
                    name, m["name"], q["jobs"], p["misses"], q["misses"],
                    "yes" if within else "no", pm / 1000, qm / 1000, ratio, date, machine, ld),
                    flush=True)
        if rows:
            ok_m = sum(r["misses_within"] for r in rows)
            ok_l = sum(r["median_meas_us"] > 0 and
                       abs(math.log(r["median_pred_us"] / r["median_meas_us"])) <= math.log(1.25)
                       for r in rows)
            print("misses within 10%% of the jobs: %d/%d models; median latency within 25%%: "
                  "%d/%d models" % (ok_m, len(rows), ok_l, len(rows)))
        if a.out:
            with open(a.out, "w") as fh:
                json.dump(rows, fh, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
