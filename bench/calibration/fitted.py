#!/usr/bin/python3
"""Leave-models-out check of the fitted cost model (docs/targets.md, "Fitted
cost model"): the fit saw only microkernels; here it predicts whole models.

    fitted.py [--build DIR] [--target FITTED.yaml] [--models NAME,...]
              [--repeat N] [--threads N] [--zoo] [--out RESULTS.json]

For each model (a dozen torchvision exports of the real corpus, and with
--zoo the model zoo of bench/models/gen_zoo.py, small size), compiles it
twice for N threads (default 1) on the host: with the fitted target (default: the
built-in `host`, which ships a fit) and with `--cost-model=roofline`
(today's roofline, the baseline), then
  - measures the whole model: loom-run --repeat N --threads N, median;
  - measures every task: loom-profile --repeat N (median per signature);
and prints per model the predicted makespan of both plans against the
measured median, per task the median |error| over tasks of >= 20 us, and
Kendall's tau between predicted and measured times over the model's 10
costliest tasks. Goals (for the fit): |ln(pred/meas)| <= ln 1.25 per model,
geomean of the ratios' distance from 1 <= 1.10x, per-task median error <=
20 %, tau >= 0.7. A benchmark for a quiet machine, not a test: the load
(`uptime`) is printed with every model.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The real-model corpus (bench/models/real/build.py writes it there).
CORPUS = os.path.join(ROOT, "bench/models/real/out")
MODELS = ["mobilenet_v2_op13", "mobilenet_v3_small_op13", "resnet18_op13",
          "squeezenet1_1_op13", "shufflenet_v2_x1_0_op13", "mnasnet1_0_op13",
          "efficientnet_b0_op13", "regnet_x_400mf_op13", "googlenet_op13",
          "alexnet_op13", "densenet121_op13", "resnet50_op13"]

DTYPES = {"f32": "f32", "f64": "f64", "f16": "f16", "bf16": "bf16",
          "i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64", "u8": "ui8",
          "u16": "ui16", "u32": "ui32", "u64": "ui64", "bool": "i1"}


def load():
    return os.getloadavg()[0]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def signature(plan, task):
    def op(b):
        if b is None:
            return "none"
        buf = plan["buffers"][b]
        return "".join("%dx" % d for d in buf["shape"]) + DTYPES.get(buf["dtype"], buf["dtype"])
    ins = ",".join(op(b) for b in task["inputs"])
    outs = ",".join(op(b) for b in task["outputs"])
    return "%s(%s)->(%s)" % (task["kernel"], ins, outs)


def kendall(a, b):
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            x = (a[i] - a[j]) * (b[i] - b[j])
            s += (x > 0) - (x < 0)
    return s / (n * (n - 1) / 2) if n > 1 else 1.0


def input_flags(model_dir, plan):
    """--input flags for the model's test data (input_N.pb is the N-th graph
    input, as in ONNX's test-data layout; names from the plan, so that no
    onnx module is needed)."""
    data = os.path.join(model_dir, "test_data_set_0")
    flags = []
    for i, inp in enumerate(plan["inputs"]):
        f = os.path.join(data, "input_%d.pb" % i)
        if os.path.exists(f):
            flags += ["--input", "%s=%s" % (inp["name"], f)]
    return flags


def measure_model(name, model_dir, bindir, fitted_target, repeat, tmp, threads=1):
    model = os.path.join(model_dir, "model.onnx")
    plans = {}
    for kind, model_flag in (("fitted", "auto"), ("roofline", "roofline")):
        out = os.path.join(tmp, name + "." + kind)
        run([os.path.join(bindir, "loomc"), model, "-o", out, "--target=" + fitted_target,
             "--cost-model=" + model_flag, "--quiet", "--device-precision=exact",
             "--kernel-threads", str(threads)])
        with open(os.path.join(out, "plan.json")) as f:
            plans[kind] = json.load(f)
    out = os.path.join(tmp, name + ".fitted")
    flags = input_flags(model_dir, plans["fitted"])
    load_before = load()
    text = run([os.path.join(bindir, "loom-run"), out, "--repeat", str(repeat),
                "--threads", str(threads), "--quiet"] + flags)
    m = re.search(r"median ([0-9.]+) ms", text)
    measured = float(m.group(1)) * 1000
    costs = os.path.join(tmp, name + ".costs.json")
    run([os.path.join(bindir, "loom-profile"), out, "-o", costs, "--repeat",
         str(max(3, repeat // 2)), "--threads", str(threads), "--quiet"] + flags)
    with open(costs) as f:
        table = {}
        for e in json.load(f)["entries"]:
            sig = "%s(%s)->(%s)" % (e["kernel"], ",".join(e["inputs"]), ",".join(e["outputs"]))
            table[sig] = e["us"].get("cpu")
    row = {"model": name, "measured_us": measured,
           "load": round((load_before + load()) / 2, 2)}
    for kind, plan in plans.items():
        row[kind + "_us"] = plan["makespan_us"]
        tasks = []
        for t in plan["tasks"]:
            if t["kind"] != "kernel":
                continue
            meas = table.get(signature(plan, t))
            pred = (t.get("cost_us") or {}).get("cpu")
            if meas is not None and pred is not None:
                tasks.append((meas, pred))
        big = [abs(p / m - 1) for m, p in tasks if m >= 20]
        big.sort()
        row[kind + "_task_median_err"] = big[len(big) // 2] if big else None
        top = sorted(tasks, reverse=True)[:10]
        row[kind + "_tau"] = kendall([m for m, _ in top], [p for _, p in top])
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--target", default="host")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--zoo", action="store_true")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    bindir = os.path.join(a.build, "bin")
    tmp = tempfile.mkdtemp(prefix="loom-fitted-")
    try:
        if os.path.exists(a.target):
            a.target = os.path.abspath(a.target)
        models = [(n, os.path.join(CORPUS, n)) for n in a.models.split(",") if n]
        if a.zoo:
            zoo = os.path.join(tmp, "zoo")
            run(["/usr/bin/python3", os.path.join(ROOT, "bench/models/gen_zoo.py"), zoo,
                 "--size", "tiny"])
            models += [("zoo:" + n, os.path.join(zoo, n)) for n in sorted(os.listdir(zoo))
                       if os.path.exists(os.path.join(zoo, n, "model.onnx"))]
        rows = []
        date = datetime.date.today().isoformat()
        machine = platform.node()
        print("| model | fitted (ms) | roofline (ms) | measured (ms) | fitted/meas | roofline/meas "
              "| task err fitted / roofline | tau fitted / roofline | date | machine | load |")
        print("| --- " * 11 + "|")
        for name, d in models:
            try:
                r = measure_model(name.replace("zoo:", ""), d, bindir, a.target, a.repeat, tmp,
                                  a.threads)
            except subprocess.CalledProcessError as e:
                print("%s: failed: %s" % (name, (e.stderr or "")[-300:]), file=sys.stderr)
                continue
            r["model"] = name
            rows.append(r)
            fe = r["fitted_task_median_err"]
            re_ = r["roofline_task_median_err"]
            print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s / %s | %.2f / %.2f | %s | %s | %.2f |" % (
                name, r["fitted_us"] / 1000, r["roofline_us"] / 1000, r["measured_us"] / 1000,
                r["fitted_us"] / r["measured_us"], r["roofline_us"] / r["measured_us"],
                "-" if fe is None else "%.0f%%" % (100 * fe),
                "-" if re_ is None else "%.0f%%" % (100 * re_),
                r["fitted_tau"], r["roofline_tau"], date, machine, r["load"]), flush=True)
        for kind in ("fitted", "roofline"):
            logs = [abs(math.log(r[kind + "_us"] / r["measured_us"])) for r in rows]
            within = sum(l <= math.log(1.25) for l in logs)
            geo = math.exp(sum(logs) / len(logs)) if logs else float("nan")
            errs = sorted(r[kind + "_task_median_err"] for r in rows
                          if r[kind + "_task_median_err"] is not None)
            taus = [r[kind + "_tau"] for r in rows]
            print("%s: %d/%d models within 25%%; geomean distance %.2fx; per-task median "
                  "error (median over models) %.0f%%; tau >= 0.7 in %d/%d models" % (
                      kind, within, len(rows), geo,
                      100 * errs[len(errs) // 2] if errs else float("nan"),
                      sum(t >= 0.7 for t in taus), len(taus)))
        if a.out:
            with open(a.out, "w") as f:
                json.dump(rows, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
