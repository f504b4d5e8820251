#!/usr/bin/python3
"""Loom's benchmark: one command, a markdown report, CSVs and PNG plots.

  bench/run.py [--size tiny|small] [--repeat N] [--models a,b,...]
               [--sections 1,2,...] [--work DIR] [--results DIR]
               [--corpus DIR] [--real-models REGEX]

(bench/run.sh is the wrapper that installs the dependencies first.)
Sections, each a table (timings: median with min-max):

  1. compile time: loomc (-O1, --target=host, --emit=plan) against ONNX
     Runtime session creation with all graph optimizations, alternated;
  2. scaling: loomc wall time and peak RSS on decoder_L1..L64 and
     synthetic_100k (+ scaling.png);
  3. schedule quality (the cost model's predictions) per model x built-in
     SoC target: auto, best single device, greedy, heft, exact, lower bound;
  4. fusion: Loom kernels per inference vs ORT's optimized node count;
  5. CPU run time on this machine: loom-run vs ORT run(), 1 thread and
     nproc threads, alternated batches; predicted vs measured (+ runtime.png);
  6. memory: peak arena bytes vs the sum of intermediates vs the largest
     live set;
  7. the real-model corpus (bench/models/real, --corpus): loomc compile
     time, and CPU run time against ORT at 1 and 2 threads as in section 5,
     one model per architecture plus the dynamically quantized ones.

What each section measures, the goals and the caveats: bench/README.md.
Environment: LOOMC, LOOM_RUN (default build/bin/loomc, build/bin/loom-run),
NODE (default node), TIMEOUT (seconds per command, default 900).
"""
import argparse
import csv
import importlib.util
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench", "fusion"))
import kernel_counts  # noqa: E402  (nodes, kernels, input_args, compare)

PYTHON = "/usr/bin/python3"
NODE = os.environ.get("NODE", "node")
TIMEOUT = float(os.environ.get("TIMEOUT", "900"))
TARGETS = ["host", "ryzen-ai-300", "snapdragon-x-elite", "apple-m4",
           "intel-lunar-lake"]
# The application models (sections 3 and 5 run on these only); the scaling
# series is for section 2 (and 1, 4, 6 except synthetic_100k).
APPS = ["gpt2", "llama_prefill", "llama_decode", "llama_wide_decode", "whisper_encoder",
        "vit", "mobilenet", "unet_block"]
SCALING = ["decoder_L1", "decoder_L4", "decoder_L16", "decoder_L64",
           "synthetic_100k"]
PREFILL = ["gpt2", "llama_prefill"]  # the LLM prefill models (section 3 goal)
EXACT_LIMIT = 20
CORPUS = os.path.join(ROOT, "bench", "models", "real", "out")  # section 7's default

PROBLEMS = []  # (section, text): failures of Loom or of the peer


def problem(section, text):
    text = " ".join(text.split())
    if len(text) > 400:
        text = text[:400] + " ..."
    PROBLEMS.append((section, text))
    print("  problem: %s" % text, file=sys.stderr)


# ---------------------------------------------------------------- helpers


class Run:
    """One finished child process: rc, wall seconds, peak RSS (KiB), output."""

    def __init__(self, rc, wall_s, maxrss_kb, out, err):
        self.rc, self.wall_s, self.maxrss_kb = rc, wall_s, maxrss_kb
        self.out, self.err = out, err

    def why(self):
        text = (self.err or self.out).strip()
        if self.rc == -9:
            text = "timed out after %.0f s" % TIMEOUT
        return "exit %s: %s" % (self.rc, text[-600:])


def run(cmd, timeout=None):
    """Runs cmd in a fresh subprocess; wall time and the child's own peak RSS
    (os.wait4's rusage, so it is this child's, not the maximum over all
    children so far)."""
    timeout = timeout or TIMEOUT
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen([str(c) for c in cmd], stdout=fo, stderr=fe,
                                 stdin=subprocess.DEVNULL)
        except OSError as e:  # e.g. the binary is being rebuilt: a failed run
            return Run(127, 0.0, 0, "", "cannot start %s: %s" % (cmd[0], e))
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return Run(p.returncode, wall, ru.ru_maxrss,
                   fo.read().decode(errors="replace"),
                   fe.read().decode(errors="replace"))


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def geomean(xs):
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def fmt(x, digits=2):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return "%.*f" % (digits, x)


def fmt_mmm(xs, digits=2, scale=1.0):
    """median (min-max) of xs, scaled."""
    if not xs:
        return "-"
    xs = [x * scale for x in xs]
    return "%s (%s-%s)" % (fmt(med(xs), digits), fmt(min(xs), digits), fmt(max(xs), digits))


def batch_stats(batches):
    """(median of the batch medians, min, max) of (median, min, max) batches;
    Nones when there are none."""
    if not batches:
        return None, None, None
    return (med([b[0] for b in batches]), min(b[1] for b in batches),
            max(b[2] for b in batches))


def fmt_batches(batches):
    """median of the batch medians (min-max over all runs), ms."""
    if not batches:
        return "-"
    m, lo, hi = batch_stats(batches)
    return "%s (%s-%s)" % (fmt(m, 3), fmt(lo, 3), fmt(hi, 3))


def fmt_ms(x):
    """ms with about 3 significant digits (0.021, 4.56, 78.9, 1234)."""
    if x is None:
        return "-"
    return fmt(x, 0 if x >= 100 else 1 if x >= 10 else 2 if x >= 1 else 3)


def fmt_bytes(n):
    if n is None:
        return "-"
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k:
            return "%.1f %s" % (n / k, unit)
    return "%d B" % n


def table(heads, rows):
    lines = ["| " + " | ".join(heads) + " |",
             "|" + "|".join(" --- " for _ in heads) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def goal_line(ok, text, misses=()):
    mark = "n/a" if ok is None else ("x" if ok else " ")
    line = "- [%s] %s" % (mark, text)
    if misses:
        line += "\n  - not met: " + "; ".join(misses)
    return line


def write_csv(path, heads, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(heads)
        w.writerows(rows)


class Bench:
    def __init__(self, args):
        self.args = args
        self.loomc = os.path.realpath(os.environ.get("LOOMC", os.path.join(ROOT, "build/bin/loomc")))
        self.loom_run = os.path.realpath(os.environ.get("LOOM_RUN", os.path.join(ROOT, "build/bin/loom-run")))
        self.work = args.work
        self.zoo = os.path.join(self.work, "zoo")
        self.results = args.results
        self.nproc = os.cpu_count() or 1
        self.plans = {}  # model -> host plan dir (-O1, the default)
        self.ort_all = {}  # model -> ORT's optimized graph at 'all'
        self.csvs, self.pngs = [], []

    def model(self, m):
        return os.path.join(self.zoo, m, "model.onnx")

    def data(self, m):
        return os.path.join(self.zoo, m, "test_data_set_0")

    def loomc_cmd(self, m, out, target="host", extra=()):
        return self.loomc_file_cmd(self.model(m), out, target, extra)

    def loomc_file_cmd(self, model, out, target="host", extra=()):
        """loomc on a model file: the default optimization level (-O1), a plan."""
        return [self.loomc, model, "-o", out, "--quiet", "--emit=plan",
                "--target=" + target] + list(extra)

    def host_plan(self, m):
        """The host plan at -O1 (compiled once, by section 1 or here)."""
        if m not in self.plans:
            out = os.path.join(self.work, "plans", m)
            r = run(self.loomc_cmd(m, out))
            if r.rc != 0:
                problem("plan", "%s: loomc --target=host: %s" % (m, r.why()))
                self.plans[m] = None
            else:
                self.plans[m] = out
        return self.plans[m]

    def load_plan(self, d):
        with open(os.path.join(d, "plan.json")) as f:
            return json.load(f)

    def save_csv(self, name, heads, rows):
        path = os.path.join(self.results, name)
        write_csv(path, heads, rows)
        self.csvs.append(path)

    # ------------------------------------------------------------ section 1

    def compile_time(self, models):
        """loomc vs ORT session creation (level all), alternated."""
        rows, csv_rows, ratios = [], [], []
        for m in models:
            print("[1] compile time: %s" % m, file=sys.stderr)
            out = os.path.join(self.work, "plans", m)
            ort_out = os.path.join(self.work, "ort", m + ".all.onnx")
            os.makedirs(os.path.dirname(ort_out), exist_ok=True)
            loom, ort = [], []
            for _ in range(self.args.repeat):
                r = run(self.loomc_cmd(m, out))
                if r.rc != 0:
                    problem("1", "%s: loomc: %s" % (m, r.why()))
                    break
                loom.append(r.wall_s)
                o = run([NODE, os.path.join(ROOT, "bench/ort/optimize.js"),
                         self.model(m), ort_out, "--level", "all"])
                if o.rc != 0:
                    problem("1", "%s: ORT optimize.js: %s" % (m, o.why()))
                    break
                ort.append(json.loads(o.out.strip().splitlines()[-1])["session_ms"] / 1000)
            if loom:
                self.plans[m] = out
            if ort:
                self.ort_all[m] = ort_out
            ratio = med(loom) / med(ort) if loom and ort else float("nan")
            if math.isfinite(ratio):
                ratios.append((m, ratio))
            rows.append([m, fmt_mmm(loom, 0, 1000), fmt_mmm(ort, 0, 1000), fmt(ratio)])
            csv_rows.append([m, len(loom), fmt(med(loom), 4), fmt(min(loom) if loom else None, 4),
                             fmt(max(loom) if loom else None, 4), fmt(med(ort), 4),
                             fmt(min(ort) if ort else None, 4), fmt(max(ort) if ort else None, 4),
                             fmt(ratio, 3)])
        self.save_csv("compile_time.csv",
                      ["model", "n", "loomc_median_s", "loomc_min_s", "loomc_max_s",
                       "ort_median_s", "ort_min_s", "ort_max_s", "loomc_over_ort"], csv_rows)
        text = ["## 1. Compile time",
                "",
                "loomc wall time (process start to exit: `-O1 --target=host --emit=plan`, "
                "writes plan.json + weights.bin) vs ONNX Runtime's session creation with "
                "`graphOptimizationLevel: all` (optimize.js's `session_ms`: in-process, "
                "Node start-up not counted, writes the optimized model), measured "
                "alternately, %d times each; ms, median (min-max)." % self.args.repeat,
                "",
                table(["model", "loomc (ms)", "ORT session (ms)", "loomc / ORT"], rows),
                ""]
        slow = ["%s %.2f" % (m, r) for m, r in ratios if r > 2]
        not_faster = ["%s %.2f" % (m, r) for m, r in ratios if r >= 1]
        text.append(goal_line(bool(ratios) and not slow and len(ratios) == len(models),
                              "loomc within 2x of ORT's session creation on every model", slow))
        text.append(goal_line(bool(ratios) and not not_faster and len(ratios) == len(models),
                              "stretch: loomc faster than ORT on every model", not_faster))
        return "\n".join(text)

    # ------------------------------------------------------------ section 2

    def scaling(self, models):
        rows, csv_rows, points = [], [], []
        for m in models:
            print("[2] scaling: %s" % m, file=sys.stderr)
            nodes = kernel_counts.nodes(self.model(m))
            out = os.path.join(self.work, "scaling", m)
            walls, rss = [], []
            for _ in range(self.args.repeat):
                r = run(self.loomc_cmd(m, out))
                if r.rc != 0:
                    problem("2", "%s: loomc: %s" % (m, r.why()))
                    break
                walls.append(r.wall_s)
                rss.append(r.maxrss_kb * 1024)
            tasks = None
            if walls:
                tasks = sum(1 for t in self.load_plan(out)["tasks"] if t["kind"] == "kernel")
                points.append((m, nodes, med(walls), max(rss)))
                shutil.rmtree(out, ignore_errors=True)  # written by loomc
            us_per_node = med(walls) / nodes * 1e6 if walls else None
            rows.append([m, nodes, tasks if tasks is not None else "-", fmt_mmm(walls, 3),
                         fmt(us_per_node, 1), fmt_bytes(max(rss)) if rss else "-"])
            csv_rows.append([m, nodes, tasks, fmt(med(walls), 4),
                             fmt(min(walls) if walls else None, 4),
                             fmt(max(walls) if walls else None, 4),
                             max(rss) if rss else ""])
        self.save_csv("scaling.csv", ["model", "onnx_nodes", "kernels", "loomc_median_s",
                                      "loomc_min_s", "loomc_max_s", "peak_rss_bytes"], csv_rows)
        text = ["## 2. Compile-time scaling",
                "",
                "loomc (`-O1 --target=host --emit=plan`) wall time and peak RSS (the "
                "child's own `ru_maxrss`, os.wait4), %d runs each; s, median (min-max)."
                % self.args.repeat,
                "",
                table(["model", "ONNX nodes", "kernels", "loomc (s)", "us / node", "peak RSS"], rows),
                ""]
        # Exponent of time in nodes: a least-squares fit on log-log, and
        # between the two largest models (start-up cost dominates the small ones).
        slope_all = slope_top = None
        if len(points) >= 2:
            xs = [math.log(p[1]) for p in points]
            ys = [math.log(p[2]) for p in points]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            den = sum((x - mx) ** 2 for x in xs)
            if den > 0:
                slope_all = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den
            a, b = sorted(points, key=lambda p: p[1])[-2:]
            if b[1] > a[1]:
                slope_top = math.log(b[2] / a[2]) / math.log(b[1] / a[1])
            text.append("Time ~ nodes^k: k = %s (fit over all), k = %s (between the two "
                        "largest). Start-up (MLIR context, dialects) dominates the small "
                        "models, so the fit over all understates k." % (fmt(slope_all), fmt(slope_top)))
            text.append("")
        big = [p for p in points if p[0] == "synthetic_100k"]
        if "synthetic_100k" in models:
            text.append(goal_line(bool(big) and big[0][2] < 10,
                                  "synthetic_100k (~100k ops) compiles in < 10 s",
                                  ["%.2f s" % big[0][2]] if big and big[0][2] >= 10 else
                                  ([] if big else ["did not compile"])))
        if slope_top is not None:
            text.append(goal_line(slope_top <= 1.2,
                                  "near-linear: exponent between the two largest models <= 1.2",
                                  [] if slope_top <= 1.2 else ["k = %.2f" % slope_top]))
        self.plot_scaling(points)
        return "\n".join(text)

    def plot_scaling(self, points):
        if len(points) < 2 or self.args.no_plots:
            return
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            problem("2", "matplotlib missing: no scaling.png (bench/setup.sh installs it)")
            return
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        xs = [p[1] for p in points]
        a1.loglog(xs, [p[2] for p in points], "o-", label="loomc")
        x0, y0 = xs[-1], points[-1][2]
        a1.loglog([xs[0], x0], [y0 * xs[0] / x0, y0], "k:", label="linear (through the largest)")
        for p in points:
            a1.annotate(p[0], (p[1], p[2]), fontsize=7)
        a1.set_xlabel("ONNX nodes")
        a1.set_ylabel("loomc wall time (s)")
        a1.set_title("compile time vs graph size")
        a1.legend(fontsize=8)
        a2.loglog(xs, [p[3] / 2**20 for p in points], "s-", color="C1")
        a2.set_xlabel("ONNX nodes")
        a2.set_ylabel("peak RSS (MiB)")
        a2.set_title("loomc peak RSS vs graph size")
        fig.tight_layout()
        path = os.path.join(self.results, "scaling.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        self.pngs.append(path)

    # ------------------------------------------------------------ section 3

    def schedule_one(self, m, target):
        """All the partitioners for one model on one target: a dict."""
        base = os.path.join(self.work, "sched", "%s.%s" % (m, target))

        def makespan(partitioner, extra=()):
            out = base + "." + partitioner.replace(":", "_") + "".join(extra).replace("-", "")
            r = run(self.loomc_cmd(m, out, target, ["--partitioner=" + partitioner] + list(extra)))
            if r.rc != 0:  # loomc wrote nothing (or refused a folder not its own)
                return None, r.why()
            try:
                return self.load_plan(out), ""
            finally:
                shutil.rmtree(out, ignore_errors=True)

        res = {"model": m, "target": target, "errors": []}
        plan, err = makespan("auto")
        if plan is None:
            res["errors"].append("auto: " + err)
            return res
        res["auto"] = plan["makespan_us"]
        res["bound"] = plan["lower_bound_us"]
        res["kernels"] = sum(1 for t in plan["tasks"] if t["kind"] == "kernel")
        res["split"] = sum(1 for t in plan["tasks"]
                           if t["kind"] == "kernel" and "[part 1/" in t["name"])
        singles = {}
        for dev in plan["devices"]:
            p, err = makespan("single:" + dev["name"])
            if p is not None:
                singles[dev["name"]] = p["makespan_us"]
        if singles:
            res["single_dev"] = min(singles, key=singles.get)
            res["single"] = singles[res["single_dev"]]
        for alg in ("greedy", "heft"):
            p, err = makespan(alg)
            if p is None:
                res["errors"].append("%s: %s" % (alg, err))
            else:
                res[alg] = p["makespan_us"]
        if res["kernels"] <= EXACT_LIMIT:
            p, err = makespan("exact", ["--no-split"])
            if p is None:
                res["errors"].append("exact: " + err)
            else:
                res["exact"] = p["makespan_us"]
        return res

    def schedule(self, models):
        jobs = [(m, t) for m in models for t in TARGETS]
        print("[3] schedule quality: %d plans x partitioners" % len(jobs), file=sys.stderr)
        with ThreadPoolExecutor(max_workers=self.nproc) as ex:
            results = list(ex.map(lambda j: self.schedule_one(*j), jobs))
        rows, csv_rows, ratios = [], [], []
        worse, prefill_best = [], {m: [] for m in models if m in PREFILL}
        for r in results:
            for e in r["errors"]:
                problem("3", "%s on %s: loomc %s" % (r["model"], r["target"], e))
            if "auto" not in r:
                rows.append([r["model"], r["target"]] + ["-"] * 10)
                continue
            auto, bound, single = r["auto"], r["bound"], r.get("single")
            ratio = auto / bound if bound > 0 else 1.0
            ratios.append(ratio)
            speed = single / auto if single and auto > 0 else None
            if single is not None and auto > single * (1 + 1e-9):
                worse.append("%s on %s: %.1f vs %.1f us" % (r["model"], r["target"], auto, single))
            if r["model"] in prefill_best and r["target"] != "host" and speed:
                prefill_best[r["model"]].append((speed, r["target"]))
            rows.append([r["model"], r["target"], r["kernels"], fmt(auto, 1),
                         "%s (%s)" % (fmt(single, 1), r.get("single_dev", "-")),
                         fmt(speed), fmt(r.get("greedy"), 1), fmt(r.get("heft"), 1),
                         fmt(r.get("exact"), 1), fmt(bound, 1), fmt(ratio, 3), r["split"]])
            csv_rows.append([r["model"], r["target"], r["kernels"], auto, single,
                             r.get("single_dev", ""), r.get("greedy", ""), r.get("heft", ""),
                             r.get("exact", ""), bound, ratio, speed or "", r["split"]])
        self.save_csv("schedule.csv", ["model", "target", "kernels", "auto_us", "best_single_us",
                                       "best_single_device", "greedy_us", "heft_us", "exact_us",
                                       "lower_bound_us", "auto_over_bound",
                                       "speedup_over_single", "split_tasks"], csv_rows)
        geo = geomean(ratios)
        text = ["## 3. Schedule quality (predicted)",
                "",
                "**These are the cost model's predictions** (plan.json `makespan_us`, "
                "`lower_bound_us`), not measurements: the SoC targets' GPUs and NPUs are "
                "not on this machine. Per model x built-in target: `--partitioner=auto` "
                "(default), the best `single:DEVICE` plan, `greedy`, `heft`, `exact` "
                "(with `--no-split`, only for plans of <= %d kernels) and the lower "
                "bound; us. `split`: tasks co-executed on two devices." % EXACT_LIMIT,
                "",
                table(["model", "target", "kernels", "auto", "best single (device)",
                       "speed-up", "greedy", "heft", "exact", "lower bound",
                       "auto / bound", "split"], rows),
                "",
                "Geometric mean of auto / lower bound over %d plans: %s." % (len(ratios), fmt(geo, 3)),
                ""]
        text.append(goal_line(bool(ratios) and not worse,
                              "auto never worse than the best single device", worse))
        text.append(goal_line(geo <= 1.25 if ratios else None,
                              "geomean makespan / lower bound <= 1.25 (%s)" % fmt(geo, 3)))
        text.append(goal_line(geo <= 1.10 if ratios else None,
                              "stretch: geomean makespan / lower bound <= 1.10"))
        if prefill_best:
            misses, got = [], []
            for m, xs in prefill_best.items():
                best = max(xs) if xs else (0, "-")
                got.append("%s %.2fx on %s" % (m, best[0], best[1]))
                if best[0] < 1.3:
                    misses.append("%s: best %.2fx (%s)" % (m, best[0], best[1]))
            text.append(goal_line(not misses,
                                  ">= 1.3x over the best single device on the LLM prefill "
                                  "models on at least one SoC target (%s)" % ", ".join(got), misses))
        return "\n".join(text)

    # ------------------------------------------------------------ section 4

    def fusion(self, models):
        rows, csv_rows, fewer, cut30 = [], [], [], []
        for m in models:
            print("[4] fusion: %s" % m, file=sys.stderr)
            onnx_nodes = kernel_counts.nodes(self.model(m))
            ort_ext = ort_all = None
            out = os.path.join(self.work, "ort", m + ".extended.onnx")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            o = run([NODE, os.path.join(ROOT, "bench/ort/optimize.js"), self.model(m), out,
                     "--level", "extended"])
            if o.rc == 0:
                ort_ext = kernel_counts.nodes(out)
            else:
                problem("4", "%s: ORT optimize.js: %s" % (m, o.why()))
            if m in self.ort_all:
                ort_all = kernel_counts.nodes(self.ort_all[m])
            k1 = k0 = None
            plan = self.host_plan(m)
            if plan:
                k1 = kernel_counts.kernels(plan)
            o0 = os.path.join(self.work, "plans", m + ".O0")
            r = run(self.loomc_cmd(m, o0, extra=["-O0"]))
            if r.rc == 0:
                k0 = kernel_counts.kernels(o0)
                shutil.rmtree(o0, ignore_errors=True)  # written by loomc
            else:
                problem("4", "%s: loomc -O0: %s" % (m, r.why()))
            ratio = k1 / ort_ext if k1 is not None and ort_ext else None
            if ratio is not None:
                fewer.append((m, k1 < ort_ext, "%d vs %d" % (k1, ort_ext)))
                if m in kernel_counts.TRANSFORMERS:
                    cut30.append((m, ratio <= 0.70, "%+.0f%%" % (100 * (ratio - 1))))
            rows.append([m, onnx_nodes, ort_ext if ort_ext is not None else "-",
                         ort_all if ort_all is not None else "-",
                         k0 if k0 is not None else "-", k1 if k1 is not None else "-", fmt(ratio)])
            csv_rows.append([m, onnx_nodes, ort_ext, ort_all, k0, k1, fmt(ratio, 3)])
        self.save_csv("fusion_kernels.csv", ["model", "onnx_nodes", "ort_nodes_extended",
                                             "ort_nodes_all", "loom_kernels_O0",
                                             "loom_kernels_O1", "loom_O1_over_ort_extended"],
                      csv_rows)
        text = ["## 4. Fusion: kernels per inference",
                "",
                "Loom's kernels per inference (tasks of kind `kernel` in the host plan) at "
                "`-O0` and `-O1` vs the node count of ONNX Runtime's optimized graph (a fused "
                "ORT op counts as one) at `extended` (the comparison of `bench/fusion/run.sh`) "
                "and at `all` (adds layout transforms: NCHWc reorders can add nodes).",
                "",
                table(["model", "ONNX nodes", "ORT nodes (extended)", "ORT nodes (all)",
                       "Loom -O0", "Loom -O1", "Loom -O1 / ORT extended"], rows),
                ""]
        text.append(goal_line(bool(fewer) and all(g for _, g, _ in fewer),
                              "Loom -O1 has fewer kernels than ORT (extended) has nodes, on every model",
                              ["%s (%s)" % (m, w) for m, g, w in fewer if not g]))
        if cut30:
            text.append(goal_line(all(g for _, g, _ in cut30),
                                  "at least 30% fewer on the transformer models",
                                  ["%s (%s)" % (m, w) for m, g, w in cut30 if not g]))
        return "\n".join(text)

    # ------------------------------------------------------------ section 5

    def basic_match(self, name, model, data, lout, why_all, tol):
        """When Loom's outputs differ from ORT's at `all`: ORT's own level-2
        rewrites change numerics on some models (e.g. DequantizeLinear
        weights into MatMulIntegerToFloat, which quantizes the activations),
        so compare once more with ORT at `basic` (level 1, no such rewrites).
        Returns (cell text, whether Loom matches that)."""
        bout = os.path.join(self.work, "out", name, "ort-basic")
        o = run([NODE, os.path.join(ROOT, "bench/ort/run.js"), model, "--test-data",
                 data, "--level", "basic", "--threads", 1, "--output-dir", bout])
        if o.rc != 0:
            return why_all, False
        ok, why = kernel_counts.compare(lout, bout, *tol)
        if not ok:
            return why_all, False
        return "yes with ORT `basic` (ORT `all` differs: %s)" % why_all.split(" (")[-1].rstrip(")"), True

    def measure_runtime(self, section, name, model, data, plan, threads, tol=(1e-3, 1e-4)):
        """Loom's plan against ONNX Runtime's run() on one model (sections 5
        and 7): per thread count, --repeat alternating batches (loom-run, ORT,
        loom-run, ORT, ...) on the inputs in data (test_data_set_0), each one
        warm-up + --repeat timed runs; ORT at `all`. The first 1-thread batch
        of each writes its outputs, and Loom's are checked against ORT's at
        tol (rtol, atol), then against ORT at `basic` where they differ.
        Returns (match, {threads: (loom, ort)}): match the cell text ("-" when
        nothing was compared), loom and ort lists of (median, min, max) ms per
        batch (shorter when a command failed: reported under Problems)."""
        n = self.args.repeat
        inputs = kernel_counts.input_args(data).split()
        lout = os.path.join(self.work, "out", name, "loom")
        oout = os.path.join(self.work, "out", name, "ort")
        match, times = "-", {}
        for t in threads:
            print("[%s] run time: %s, %d thread(s)" % (section, name, t), file=sys.stderr)
            loom, ort = [], []
            for b in range(n):
                extra = ["--output-dir", lout] if b == 0 and t == 1 else []
                r = run([self.loom_run, plan] + inputs + ["--repeat", n, "--threads", t,
                                                          "--quiet"] + extra)
                if r.rc != 0:
                    problem(section, "%s: loom-run --threads %d: %s" % (name, t, r.why()))
                    break
                loom.append(parse_loom_latency(r.out + r.err))
                extra = ["--output-dir", oout] if b == 0 and t == 1 else []
                o = run([NODE, os.path.join(ROOT, "bench/ort/run.js"), model,
                         "--test-data", data, "--level", "all", "--repeat", n,
                         "--threads", t] + extra)
                if o.rc != 0:
                    problem(section, "%s: ORT run.js --threads %d: %s" % (name, t, o.why()))
                    break
                j = json.loads(o.out.strip().splitlines()[-1])
                ort.append((j["median_ms"], j["min_ms"], j["max_ms"]))
                if extra:
                    ok, why = kernel_counts.compare(lout, oout, *tol)
                    match = "yes" if ok else why
                    if not ok:
                        match, ok = self.basic_match(name, model, data, lout, why, tol)
                    if not ok:
                        problem(section, "%s: Loom's outputs differ from ORT's: %s" % (name, why))
            times[t] = (loom, ort)
        return match, times

    def runtime(self, models):
        threads = sorted({1, self.nproc})
        n = self.args.repeat
        rows, csv_rows, pred_rows, bars = [], [], [], []
        for m in models:
            plan = self.host_plan(m)
            if not plan:
                continue
            makespan = self.load_plan(plan)["makespan_us"]
            match, times = self.measure_runtime("5", m, self.model(m), self.data(m), plan, threads)
            for t in threads:
                loom, ort = times[t]
                lm, lmin, lmax = batch_stats(loom)
                om, omin, omax = batch_stats(ort)
                ratio = lm / om if lm and om else None
                rows.append([m, t, fmt_batches(loom), fmt_batches(ort), fmt(ratio),
                             match if t == 1 else ""])
                csv_rows.append([m, t, lm, lmin, lmax, om, omin, omax, ratio or "",
                                 makespan / 1000, match if t == 1 else ""])
                bars.append((m, t, lm, om))
                if t == 1 and lm:
                    pred_rows.append([m, fmt(makespan / 1000, 3), fmt(lm, 3),
                                      fmt(makespan / 1000 / lm, 2)])
        self.save_csv("runtime.csv", ["model", "threads", "loom_median_ms", "loom_min_ms",
                                      "loom_max_ms", "ort_median_ms", "ort_min_ms",
                                      "ort_max_ms", "loom_over_ort", "loom_predicted_ms",
                                      "outputs_match_ort"], csv_rows)
        text = ["## 5. CPU run time on this machine (measured)",
                "",
                "Host-target plan (`-O1`) under `loom-run --repeat %d --threads T` vs "
                "ONNX Runtime's `run()` (`bench/ort/run.js --level all --repeat %d "
                "--threads T`), same inputs (test_data_set_0), %d alternating batches "
                "(loom, ORT, loom, ORT, ...); each batch warms up once then times %d runs. "
                "ms: median of the batch medians (min-max over all runs). This machine has "
                "%d cores. `outputs match`: Loom's outputs against ORT's (rtol 1e-3, atol 1e-4); "
                "where they differ, against ORT at `basic` too (no level-2 rewrites, some of "
                "which change the numerics)."
                % (n, n, n, n, self.nproc),
                "",
                table(["model", "threads", "Loom (ms)", "ORT (ms)", "Loom / ORT",
                       "outputs match"], rows),
                "",
                "Predicted (host plan `makespan_us`, targets/host.yaml's uncalibrated cost "
                "model) vs measured (Loom, 1 thread):",
                "",
                table(["model", "predicted (ms)", "measured (ms)", "predicted / measured"],
                      pred_rows)]
        self.plot_runtime(bars)
        return "\n".join(text)

    def plot_runtime(self, bars):
        bars = [b for b in bars if b[2] and b[3]]
        if not bars or self.args.no_plots:
            return
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            problem("5", "matplotlib missing: no runtime.png")
            return
        labels = ["%s %dT" % (b[0], b[1]) for b in bars]
        x = range(len(bars))
        fig, ax = plt.subplots(figsize=(max(6, len(bars) * 0.9), 4))
        ax.bar([i - 0.2 for i in x], [b[2] for b in bars], 0.4, label="Loom (loom-run)")
        ax.bar([i + 0.2 for i in x], [b[3] for b in bars], 0.4, label="ONNX Runtime")
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, fontsize=7, rotation=45, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("median latency (ms, log)")
        ax.set_title("CPU run time, host plan vs ORT")
        ax.legend()
        fig.tight_layout()
        path = os.path.join(self.results, "runtime.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        self.pngs.append(path)

    # ------------------------------------------------------------ section 6

    def memory(self, models):
        rows, csv_rows = [], []
        for m in models:
            plan_dir = self.host_plan(m)
            if not plan_dir:
                continue
            s = memory_stats(self.load_plan(plan_dir))
            rows.append([m, fmt_bytes(s["peak"]), fmt_bytes(s["intermediates"]),
                         fmt_bytes(s["io"]), fmt_bytes(s["live"]),
                         fmt(s["peak"] / s["live"] if s["live"] else None),
                         fmt(s["peak"] / (s["intermediates"] + s["io"])
                             if s["intermediates"] + s["io"] else None)])
            csv_rows.append([m, s["peak"], s["intermediates"], s["io"], s["live"]])
        self.save_csv("memory.csv", ["model", "peak_arena_bytes", "intermediates_bytes",
                                     "io_bytes", "largest_live_set_bytes"], csv_rows)
        return "\n".join([
            "## 6. Memory (host plan)",
            "",
            "Peak arena bytes (sum of `arenas[].peak_bytes`) vs the sum of all "
            "intermediate tensors (arena buffers that are not graph inputs/outputs, views "
            "excluded: what a planner without reuse would allocate, plus I/O) vs the "
            "largest live set (a lower bound on any planner: the maximum over tasks of the "
            "bytes live at that task, a buffer living from its first writer to its last "
            "reader in task order, a view counting as its buffer, inputs and outputs always "
            "live). `peak / live` = 1.00 is optimal.",
            "",
            table(["model", "peak arena", "intermediates", "inputs+outputs",
                   "largest live set", "peak / live", "peak / (intermediates+I/O)"], rows)])

    # ------------------------------------------------------------ section 7

    def real_runtime(self):
        """The real-model corpus: loomc's compile time, and the CPU run time
        of section 5 (measure_runtime) at 1, 2 (and nproc) threads."""
        corpus = self.args.corpus
        real = real_corpus_module()
        title = ["## 7. Real models: compile time and CPU run time vs ONNX Runtime", ""]
        names = select_real_models(corpus, real.load_xfail(real.XFAIL), self.args.real_models)
        if names is None:
            problem("7", "no real-model corpus in %s: build it with `/usr/bin/python3 "
                    "bench/models/real/build.py --jobs 2` (or name one with --corpus)" % corpus)
            return "\n".join(title + ["No corpus in `%s`: nothing measured (see Problems)." % corpus])
        if not names:
            return "\n".join(title + ["No corpus model matches `--real-models %s`."
                                      % self.args.real_models])
        threads = sorted({1, 2, self.nproc})
        tolerances = real.load_tolerances(real.TOLERANCES)
        rows, csv_rows, ratios = [], [], {t: [] for t in threads}
        for name in names:
            d = os.path.join(corpus, name)
            model, data = os.path.join(d, "model.onnx"), os.path.join(d, "test_data_set_0")
            plan = os.path.join(self.work, "real", name)
            print("[7] %s: compile" % name, file=sys.stderr)
            # the flags the corpus check compiles it with (--input-shape, done.json's)
            r = run(self.loomc_file_cmd(model, plan, "host", real.loomc_args(d)))
            if r.rc != 0:
                problem("7", "%s: loomc --target=host: %s" % (name, r.why()))
                rows.append([name, "-"] + ["-"] * (3 * len(threads)) + ["-"])
                continue
            rtol, atol = tolerances.get(name, real.ORT_TOLERANCE)[:2]
            match, times = self.measure_runtime("7", name, model, data, plan, threads,
                                                (float(rtol), float(atol)))
            if name in tolerances and match.startswith("yes"):
                match += " (stated tolerance rtol %s atol %s)" % (rtol, atol)
            shutil.rmtree(plan, ignore_errors=True)  # up to hundreds of MB each
            row = [name, fmt(r.wall_s, 2)]
            for t in threads:
                loom, ort = times[t]
                lm, lmin, lmax = batch_stats(loom)
                om, omin, omax = batch_stats(ort)
                ratio = lm / om if lm and om else None
                if ratio:
                    ratios[t].append(ratio)
                row += [fmt_ms(lm), fmt_ms(om), fmt(ratio)]
                csv_rows.append([name, t, fmt(r.wall_s, 3), lm, lmin, lmax, om, omin, omax,
                                 ratio or "", match])
            rows.append(row + [match])
        geo = ["**geomean** (%s models)" % "/".join(str(len(ratios[t])) for t in threads), ""]
        for t in threads:
            geo += ["", "", "**%s**" % fmt(geomean(ratios[t]))]
        rows.append(geo + [""])
        self.save_csv("real_runtime.csv", ["model", "threads", "loomc_s", "loom_median_ms",
                                           "loom_min_ms", "loom_max_ms", "ort_median_ms",
                                           "ort_min_ms", "ort_max_ms", "loom_over_ort",
                                           "outputs_match_ort"], csv_rows)
        heads = ["model", "compile (s)"]
        for t in threads:
            heads += ["Loom %dT (ms)" % t, "ORT %dT (ms)" % t, "Loom / ORT %dT" % t]
        n = self.args.repeat
        return "\n".join(title + [
            "The real-model corpus (`%s`, bench/models/real): of each architecture the "
            "highest opset built (the name less `_opNN`), the dynamically quantized "
            "`*_dynq` models (ONNX Runtime's quantize_dynamic form, u8 weights) among them; "
            "models in xfail.txt left out%s. `compile`: one `loomc --target=host "
            "--emit=plan` (-O1, with the flags the corpus check uses), wall time. Run "
            "time as section 5: host plan under `loom-run --repeat %d --threads T` vs "
            "`bench/ort/run.js --level all --repeat %d --threads T`, inputs test_data_set_0, "
            "%d alternating batches (loom, ORT, ...), each one warm-up + N timed runs; ms: median of the batch medians (min-max in "
            "real_runtime.csv). `outputs match`: Loom's against ORT's in this run (rtol 1e-3, "
            "atol 1e-4, or the model's stated tolerance in tolerances.txt; where they differ, "
            "against ORT at `basic` too). CPU: %s, %d cores."
            % (os.path.relpath(corpus, ROOT) if corpus.startswith(ROOT) else corpus,
               "; `--real-models %s`" % self.args.real_models if self.args.real_models else "",
               n, n, n, cpu_name(), self.nproc),
            "",
            table(heads + ["outputs match"], rows)])


def parse_loom_latency(text):
    """(median, min, max) ms from loom-run's 'latency over N runs: median X ms,
    min Y ms, max Z ms'."""
    m = re.search(r"median ([0-9.]+) ms, min ([0-9.]+) ms, max ([0-9.]+) ms", text)
    if not m:
        raise RuntimeError("no latency line in loom-run's output: " + text[-300:])
    return tuple(float(x) for x in m.groups())


def real_corpus_module():
    """bench/models/real/run.py (the corpus check) as a module: its flags per
    model, expected-failure and tolerance tables. Loaded by path: `import
    run` would find this file."""
    path = os.path.join(ROOT, "bench", "models", "real", "run.py")
    spec = importlib.util.spec_from_file_location("real_corpus_run", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def select_real_models(corpus, xfail, regex):
    """Section 7's models: those of the corpus that were built (done.json),
    are not expected failures and match regex (re.search), and of each
    architecture (the name less its `_opNN`) the highest opset. None when
    there is no corpus."""
    if not os.path.isdir(corpus):
        return None
    best = {}  # architecture -> (opset, name)
    for name in sorted(os.listdir(corpus)):
        if name in xfail or not os.path.exists(os.path.join(corpus, name, "done.json")):
            continue
        if regex and not re.search(regex, name):
            continue
        m = re.match(r"(.+)_op(\d+)$", name)
        arch, opset = (m.group(1), int(m.group(2))) if m else (name, 0)
        if arch not in best or opset > best[arch][0]:
            best[arch] = (opset, name)
    return sorted(name for _, name in best.values())


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def memory_stats(plan):
    arena_bufs = {b["id"]: b for b in plan["buffers"] if b["arena"] != "weights"}
    io = {x["buffer"] for x in plan["inputs"] + plan["outputs"] if not x.get("folded")}
    io &= set(arena_bufs)
    root = {i: b.get("view_of", i) for i, b in arena_bufs.items()}
    inter = sum(b["size_bytes"] for i, b in arena_bufs.items()
                if "view_of" not in b and i not in io)
    io_bytes = sum(arena_bufs[i]["size_bytes"] for i in io)
    first, last = {}, {}
    for k, t in enumerate(plan["tasks"]):
        for i in t["outputs"]:
            if i is not None and i in root:
                first.setdefault(root[i], k)
                last[root[i]] = max(last.get(root[i], k), k)
        for i in t["inputs"]:
            if i is not None and i in root:
                r = root[i]
                first.setdefault(r, k)  # read before written: lives from here
                last[r] = max(last.get(r, k), k)
    n = len(plan["tasks"])
    delta = [0] * (n + 1)
    for r, f in first.items():
        if r in io:
            continue
        delta[f] += arena_bufs[r]["size_bytes"]
        delta[last[r] + 1] -= arena_bufs[r]["size_bytes"]
    live, cur = 0, 0
    for k in range(n):
        cur += delta[k]
        live = max(live, cur)
    return {"peak": sum(a["peak_bytes"] for a in plan["arenas"]), "intermediates": inter,
            "io": io_bytes, "live": live + io_bytes}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=["tiny", "small"], default="small")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--models", default="", help="comma-separated zoo models (default: all)")
    ap.add_argument("--sections", default="1,2,3,4,5,6,7")
    ap.add_argument("--work", default="", help="keep the zoo and the plans here "
                    "(default: a temporary folder, removed at the end)")
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--no-plots", action="store_true",
                    help="write no PNG (no matplotlib needed)")
    ap.add_argument("--corpus", default=CORPUS,
                    help="section 7's real-model corpus (bench/models/real/build.py's OUT_DIR)")
    ap.add_argument("--real-models", default="", metavar="REGEX",
                    help="section 7: only corpus models matching REGEX (re.search; still "
                    "the highest opset of each architecture)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    sections = {int(s) for s in args.sections.split(",") if s}
    keep = bool(args.work)
    args.work = os.path.realpath(args.work or tempfile.mkdtemp(prefix="loom-bench-"))
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.results, exist_ok=True)
    b = Bench(args)
    for tool in (b.loomc, b.loom_run):
        if not os.access(tool, os.X_OK):
            sys.exit("run.py: %s is not built (set LOOMC / LOOM_RUN)" % tool)
    listed = subprocess.run([PYTHON, os.path.join(ROOT, "bench/models/gen_zoo.py"), "--list"],
                            capture_output=True, text=True, check=True).stdout.split()
    models = [m for m in args.models.split(",") if m] or listed
    unknown = [m for m in models if m not in listed]
    if unknown:
        sys.exit("run.py: unknown models %s (gen_zoo.py --list)" % ", ".join(unknown))
    try:
        t0 = time.time()
        if sections & {1, 2, 3, 4, 5, 6}:  # section 7 runs on the corpus, not the zoo
            print("generating the zoo (--size %s) in %s" % (args.size, b.zoo), file=sys.stderr)
            subprocess.run([PYTHON, os.path.join(ROOT, "bench/models/gen_zoo.py"), b.zoo,
                            "--size", args.size, "--only", ",".join(models), "--quiet"],
                           check=True)
        no_synth = [m for m in models if m != "synthetic_100k"]
        apps = [m for m in models if m in APPS]
        scaling = [m for m in SCALING if m in models]
        # The peer is optional (CI's smoke run has no npm packages).
        ort_package = os.path.join(ROOT, "bench/ort/node_modules/onnxruntime-node/package.json")
        ort_version = (json.load(open(ort_package))["version"]
                       if os.path.exists(ort_package) else "not installed")
        out = ["# Loom benchmark",
               "",
               "zoo `--size %s`, `--repeat %d`; loomc `%s`; ONNX Runtime %s (onnxruntime-node, "
               "CPU EP); %d cores (`nproc`); %s."
               % (args.size, args.repeat, b.loomc, ort_version, b.nproc,
                  time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
               ""]
        # (section, function, its zoo models; None: not on the zoo, picks its own)
        parts = [(1, b.compile_time, no_synth), (2, b.scaling, scaling), (3, b.schedule, apps),
                 (4, b.fusion, no_synth), (5, b.runtime, apps), (6, b.memory, no_synth),
                 (7, b.real_runtime, None)]
        for num, fn, ms in parts:
            if num not in sections:
                continue
            if ms is not None and not ms:
                out += ["## %d. (no models selected for this section)" % num, ""]
                continue
            s0 = time.time()
            out += [fn(ms) if ms is not None else fn(), "",
                    "_(section %d: %.0f s)_" % (num, time.time() - s0), ""]
        if PROBLEMS:
            out += ["## Problems", ""] + ["- [section %s] %s" % p for p in PROBLEMS] + [""]
        out += ["Files: " + ", ".join(os.path.relpath(p, ROOT) for p in b.csvs + b.pngs),
                "", "Total: %.0f s." % (time.time() - t0)]
        report = "\n".join(out) + "\n"
        with open(os.path.join(args.results, "report.md"), "w") as f:
            f.write(report)
        print(report)
    finally:
        if not keep:
            shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
