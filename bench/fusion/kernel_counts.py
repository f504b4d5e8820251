#!/usr/bin/python3
"""Helper of bench/fusion/run.sh (and of test/Fusion/zoo.test).

  kernel_counts.py nodes MODEL.onnx      node count of the graph (a fused
                                         ORT op such as SkipLayerNormalization
                                         counts as one node)
  kernel_counts.py kernels PLAN_DIR      number of tasks of kind "kernel" in
                                         PLAN_DIR/plan.json
  kernel_counts.py no-more NAME O0_DIR O1_DIR
                                         "NAME: O0 <n> kernels, O1 <m>
                                         kernels: ok" when m <= n, else
                                         "...: MORE" (exit 0 either way)
  kernel_counts.py input-args DATA_DIR   loom-run arguments binding
                                         DATA_DIR/input_<i>.pb by the names
                                         stored in the files:
                                         --input NAME=FILE ...
  kernel_counts.py compare A B [RTOL ATOL]
                                         every output_<i>.pb of folder A
                                         against B (numpy allclose, defaults
                                         rtol 1e-3, atol 1e-4); prints
                                         "match" or "MISMATCH ..." and exits 0
                                         either way (1 if a folder is empty)
  kernel_counts.py report ROWS.tsv CSV   the markdown table of the rows that
                                         run.sh collected, the goals, and the
                                         same numbers as CSV
"""
import csv
import glob
import json
import os
import re
import sys

TRANSFORMERS = ("gpt2", "llama_prefill", "llama_decode", "whisper_encoder", "vit")


def nodes(path):
    import onnx
    model = onnx.load(path, load_external_data=False)
    return len(model.graph.node)


def kernels(plan_dir):
    with open(os.path.join(plan_dir, "plan.json")) as f:
        plan = json.load(f)
    return sum(1 for t in plan["tasks"] if t["kind"] == "kernel")


def numbered(folder, prefix):
    files = glob.glob(os.path.join(folder, prefix + "_*.pb"))
    return sorted(files, key=lambda f: int(re.search(r"_(\d+)\.pb$", f).group(1)))


def input_args(data_dir):
    import onnx
    args = []
    for f in numbered(data_dir, "input"):
        args.append("--input %s=%s" % (onnx.load_tensor(f).name, f))
    return " ".join(args)


def compare(a, b, rtol=1e-3, atol=1e-4):
    """(ok, text) for the outputs in folder a against folder b."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    files = numbered(a, "output")
    if not files:
        return False, "no outputs in %s" % a
    worst, bad = 0.0, []
    for fa in files:
        name = os.path.basename(fa)
        fb = os.path.join(b, name)
        if not os.path.exists(fb):
            bad.append(name + " missing")
            continue
        x = numpy_helper.to_array(onnx.load_tensor(fa))
        y = numpy_helper.to_array(onnx.load_tensor(fb))
        if x.shape != y.shape:
            bad.append("%s shape %s vs %s" % (name, x.shape, y.shape))
            continue
        if x.size and np.issubdtype(x.dtype, np.floating):
            worst = max(worst, float(np.max(np.abs(x.astype(np.float64) - y))))
        if not np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True):
            bad.append(name)
    if bad:
        return False, "MISMATCH %s (max abs error %.3g)" % (", ".join(bad), worst)
    return True, "match (max abs error %.3g)" % worst


def fmt_ratio(loom, ort):
    try:
        return "%.2f" % (int(loom) / int(ort))
    except (ValueError, ZeroDivisionError):
        return "-"


def report(rows_path, csv_path):
    with open(rows_path) as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t")]
    cols = ["model", "onnx_nodes", "ort_nodes", "loom_O0", "loom_O1", "ratio",
            "O0_vs_O1", "loomc_O1_s", "ort_session_ms"]
    heads = ["model", "ONNX nodes", "ORT nodes (extended)", "Loom kernels -O0",
             "Loom kernels -O1", "Loom -O1 / ORT", "-O1 = -O0 outputs",
             "loomc -O1 (s)", "ORT session (ms)"]
    for r in rows:
        r["ratio"] = fmt_ratio(r["loom_O1"], r["ort_nodes"])
        try:
            r["ort_session_ms"] = "%.0f" % float(r["ort_session_ms"])
        except ValueError:
            pass
    print("| " + " | ".join(heads) + " |")
    print("|" + "|".join(" --- " for _ in heads) + "|")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    print()

    # Goals.
    fewer, transformer = [], []
    for r in rows:
        try:
            loom, ort = int(r["loom_O1"]), int(r["ort_nodes"])
        except ValueError:
            fewer.append((r["model"], False, "no count"))
            if r["model"] in TRANSFORMERS:
                transformer.append((r["model"], False, "no count"))
            continue
        fewer.append((r["model"], loom < ort, "%d vs %d" % (loom, ort)))
        if r["model"] in TRANSFORMERS:
            cut = 1.0 - loom / ort
            transformer.append((r["model"], cut >= 0.30, "%+.0f%%" % (-100 * cut)))
    same = [(r["model"], r["O0_vs_O1"].startswith("match"), r["O0_vs_O1"]) for r in rows]

    def goal(title, results):
        if not results:
            print("- [n/a] %s (no such model measured)" % title)
            return
        ok = all(g for _, g, _ in results)
        print("- [%s] %s" % ("x" if ok else " ", title))
        misses = ["%s (%s)" % (m, why) for m, g, why in results if not g]
        if misses:
            print("  - not met: " + ", ".join(misses))

    print("Goals:")
    goal("Loom -O1 has fewer kernels than ORT's optimized graph has nodes, on every model", fewer)
    goal("at least 30%% fewer on the transformer models (%s)" % ", ".join(TRANSFORMERS), transformer)
    goal("fusion does not change results (-O1 outputs match -O0, rtol 1e-3, atol 1e-4)", same)

    os.makedirs(os.path.dirname(os.path.abspath(csv_path)), exist_ok=True)
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "nodes":
        print(nodes(args[0]))
    elif cmd == "kernels":
        print(kernels(args[0]))
    elif cmd == "no-more":
        k0, k1 = kernels(args[1]), kernels(args[2])
        print("%s: O0 %d kernels, O1 %d kernels: %s" % (args[0], k0, k1, "ok" if k1 <= k0 else "MORE"))
    elif cmd == "input-args":
        print(input_args(args[0]))
    elif cmd == "compare":
        tol = [float(x) for x in args[2:4]]
        ok, text = compare(args[0], args[1], *tol)
        print(text)
        return 0 if ok or not text.startswith("no outputs") else 1
    elif cmd == "report":
        report(args[0], args[1])
    else:
        sys.exit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
