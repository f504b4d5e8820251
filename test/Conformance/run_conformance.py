#!/usr/bin/python3
"""Compiles and runs the ONNX backend tests with loomc + loom-run.

For every in-scope model under /usr/share/libonnx-testdata/data/{node,
pytorch-converted,pytorch-operator,simple}: `loomc model.onnx -o OUT` then,
for each test_data_set_*, `loom-run OUT --test-data SET` (outputs compared
elementwise: |got-want| <= atol + rtol*|want|, rtol 1e-3, atol 1e-7 as in
ONNX's own backend test runner (docs/testing.md); integers and bools
exactly). A test passes when every data set matches.

Models whose shapes or control flow depend on input values are compiled once
per data set with those inputs folded (`--const-input NAME=SET/input_K.pb`),
as listed in const_inputs.txt; loom-run checks the folded value against the
data set.

Expected failures live in conformance_xfail.txt (`folder/test  [category]
reason`, category one of onnx_testdata.FAILURE_CATEGORIES). A listed test
that passes, or fails in another category than its entry names, is reported
and fails the run; so does an entry without a known category or a reason. Writes a CSV with one
line per test (status and failure category: import, unsupported op, compile,
runtime error, mismatch) and ends with `N passed, N failed, N skipped`
(skipped: out of scope or expected failure).
"""
import argparse
import concurrent.futures
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_testdata  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def classify_compile_error(msg):
    """Failure category of a loomc error message."""
    if re.search(r"cannot plan|no kernel|not supported by the runtime", msg):
        return "unsupported op"
    if re.search(r"not a valid ONNX|cannot parse|cannot upgrade|shape inference "
                 r"failed|cannot import|is not defined|unsupported data type|"
                 r"not a tensor of a supported type|unknown op|no ONNX op",
                 msg):
        return "import"
    return "compile"


def graph_inputs(model_path):
    m = onnx.load(model_path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits]


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, (p.stderr + p.stdout).strip()
    except subprocess.TimeoutExpired:
        return -1, "timed out after %d s" % timeout


def first_lines(text, n=2):
    lines = [l for l in text.splitlines() if l.strip()]
    return " | ".join(lines[:n])


def run_test(args, key, test_dir, const_names):
    """-> (status 'pass'|'fail', category, data sets, message)."""
    model = os.path.join(test_dir, "model.onnx")
    sets = sorted(d for d in os.listdir(test_dir)
                  if d.startswith("test_data_set_")
                  and os.path.isdir(os.path.join(test_dir, d)))
    if not sets:
        return "fail", "runtime error", 0, "no test data sets"
    inputs = graph_inputs(model) if const_names else []
    tmp = tempfile.mkdtemp(prefix="loom-conf-")
    try:
        compiled = None
        for s in sets:
            set_dir = os.path.join(test_dir, s)
            out = os.path.join(tmp, "out" if not const_names else s)
            if compiled is None or const_names:
                cmd = [args.loomc, model, "-o", out, "--quiet"] + args.loomc_arg
                for name in const_names:
                    if name not in inputs:
                        return ("fail", "compile", len(sets),
                                "const_inputs.txt names '%s', not an input" % name)
                    cmd += ["--const-input", "%s=%s" % (
                        name, os.path.join(set_dir, "input_%d.pb" % inputs.index(name)))]
                rc, msg = run(cmd, args.timeout)
                if rc != 0:
                    return ("fail", classify_compile_error(msg), len(sets),
                            "loomc: " + first_lines(msg))
                compiled = out
            # f32 even where the plan puts a task on a device in its bf16
            # (loomc --device-precision=auto): the ONNX outputs are exact.
            rc, msg = run([args.loom_run, compiled, "--test-data", set_dir,
                           "--rtol", str(args.rtol), "--atol", str(args.atol),
                           "--quiet", "--exact-precision"], args.timeout)
            if rc == 1:
                return "fail", "mismatch", len(sets), "%s: %s" % (s, first_lines(msg, 3))
            if rc != 0:
                category = "unsupported op" if "no kernel" in msg else "runtime error"
                return "fail", category, len(sets), "%s: loom-run: %s" % (s, first_lines(msg))
        return "pass", "", len(sets), ""
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loomc", required=True, help="path of loomc")
    ap.add_argument("--loom-run", required=True, help="path of loom-run")
    ap.add_argument("--csv", help="write one line per test to this CSV file")
    ap.add_argument("--loomc-arg", action="append", default=[],
                    help="extra loomc flag, e.g. --loomc-arg=--target=ryzen-ai-300 (repeatable)")
    ap.add_argument("--xfail", default=os.path.join(HERE, "conformance_xfail.txt"))
    ap.add_argument("--const-inputs", default=os.path.join(HERE, "const_inputs.txt"))
    ap.add_argument("--filter", default="", help="only tests whose key matches this regex")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per process")
    ap.add_argument("--rtol", type=float, default=1e-3,
                    help="relative tolerance of loom-run's comparison (default 1e-3)")
    ap.add_argument("--atol", type=float, default=1e-7,
                    help="absolute tolerance of loom-run's comparison (default 1e-7, "
                    "as ONNX's backend test runner; docs/testing.md says why)")
    args = ap.parse_args()

    try:
        xfail = onnx_testdata.load_xfail_table(args.xfail)
    except (OSError, ValueError) as e:
        print("error: %s" % e)
        return 1
    const_inputs = {k: v.split()[0].split(",")
                    for k, v in onnx_testdata.load_table(args.const_inputs).items()}
    tests = [t for t in onnx_testdata.all_tests() if re.search(args.filter, t[0])]
    todo = [t for t in tests if t[2] is None]
    if not args.filter and len(todo) < 500:
        print("error: only %d in-scope tests found under %s" % (len(todo), onnx_testdata.DATA))
        return 1
    for key in list(xfail) + list(const_inputs):
        if not any(t[0] == key for t in tests) and not args.filter:
            print("error: %s lists %s, which is not a test" % (
                "conformance_xfail.txt" if key in xfail else "const_inputs.txt", key))
            return 1

    start = time.time()
    rows = []
    for key, _, reason in tests:
        if reason is not None:
            rows.append([key, "skip", "out of scope", 0, 0.0, reason])

    def job(t):
        t0 = time.time()
        result = run_test(args, t[0], t[1], const_inputs.get(t[0], []))
        return t[0], result, time.time() - t0

    passed = failed = xfailed = 0
    categories = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for key, (status, category, nsets, msg), secs in pool.map(job, todo):
            if status == "pass" and key in xfail:
                failed += 1
                status, msg = "unexpected pass", "listed in %s: %s" % (
                    os.path.basename(args.xfail), xfail[key][1])
                print("UNEXPECTED PASS %s (remove it from %s)" % (key, os.path.basename(args.xfail)))
            elif status == "pass":
                passed += 1
            elif key in xfail and xfail[key][0] == category:
                xfailed += 1
                status = "xfail"
                msg = "%s [expected: %s]" % (msg, xfail[key][1])
            elif key in xfail:
                failed += 1
                msg = "fails as [%s], but %s expects [%s] (%s): %s" % (
                    category, os.path.basename(args.xfail), xfail[key][0], xfail[key][1], msg)
                print("FAIL %s: %s" % (key, msg))
            else:
                failed += 1
                print("FAIL %s (%s): %s" % (key, category, msg))
            if status in ("fail", "xfail"):
                categories[category] = categories.get(category, 0) + 1
            rows.append([key, status, category, nsets, round(secs, 2), msg])
    rows.sort()
    if args.csv:
        os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["test", "status", "category", "data_sets", "seconds", "message"])
            w.writerows(rows)
    in_scope = len(todo)
    skipped = len(tests) - in_scope
    rate = 100.0 * passed / in_scope if in_scope else 0.0
    print("conformance: %d tests, %d in scope, %d out of scope; %d pass (%.1f%% "
          "of in scope), %d expected failures, %d unexpected failures; %.0f s"
          % (len(tests), in_scope, skipped, passed, rate, xfailed, failed,
             time.time() - start))
    if categories:
        print("failures by category: " + ", ".join(
            "%s %d" % kv for kv in sorted(categories.items())))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped + xfailed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
