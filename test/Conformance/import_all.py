#!/usr/bin/python3
"""Imports every in-scope model of Debian's ONNX backend test data with loomc.

Walks /usr/share/libonnx-testdata/data/{node,pytorch-converted,pytorch-operator,simple},
skips the out-of-scope models (training, random-number, sequence, optional and
string operators, non-tensor graph inputs/outputs), compiles each with
`loomc MODEL -o TMP --quiet` and fails on any error, except the models listed
in import_xfail.txt (one `dir/test_name  reason` per line). An expected
failure that now passes is reported and fails the run, so the table stays
honest. Prints `N passed, N failed, N skipped` at the end.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile

import onnx

DATA = "/usr/share/libonnx-testdata/data"
FOLDERS = ["node", "pytorch-converted", "pytorch-operator", "simple"]
OUT_OF_SCOPE_OPS = {
    "Bernoulli", "RandomNormal", "RandomNormalLike", "RandomUniform",
    "RandomUniformLike", "Multinomial", "ConcatFromSequence", "Optional",
    "OptionalGetElement", "OptionalHasElement", "SequenceAt",
    "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
    "SequenceLength", "SequenceMap", "SplitToSequence", "StringNormalizer",
}


def out_of_scope(model):
    """The reason a model is out of scope, or None."""
    def walk(g):
        for n in g.node:
            if n.domain not in ("", "ai.onnx"):
                return "training/other domain op %s.%s" % (n.domain, n.op_type)
            if n.op_type in OUT_OF_SCOPE_OPS:
                return "out-of-scope op %s" % n.op_type
            for a in n.attribute:
                subs = ([a.g] if a.HasField("g") else []) + list(a.graphs)
                for s in subs:
                    r = walk(s)
                    if r:
                        return r
        return None
    r = walk(model.graph)
    if r:
        return r
    for v in list(model.graph.input) + list(model.graph.output):
        if not v.type.HasField("tensor_type"):
            return "non-tensor graph input/output"
        if v.type.tensor_type.elem_type in (onnx.TensorProto.STRING,
                                            onnx.TensorProto.COMPLEX64,
                                            onnx.TensorProto.COMPLEX128):
            return "string/complex graph input/output"
    return None


def load_xfail(path):
    table = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                table[name] = reason.strip()
    return table


def run_one(loomc, key, model_path):
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([loomc, model_path, "-o", os.path.join(tmp, "out"), "--quiet"],
                           capture_output=True, text=True, timeout=300)
        return key, p.returncode, (p.stderr or p.stdout).strip().splitlines()[:3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loomc", required=True)
    ap.add_argument("--xfail", default=os.path.join(os.path.dirname(__file__), "import_xfail.txt"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    xfail = load_xfail(args.xfail)
    todo, skipped = [], 0
    for folder in FOLDERS:
        base = os.path.join(DATA, folder)
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name, "model.onnx")
            if not os.path.exists(path):
                continue
            reason = out_of_scope(onnx.load(path, load_external_data=False))
            if reason:
                skipped += 1
                continue
            todo.append(("%s/%s" % (folder, name), path))
    if len(todo) < 500:
        print("error: only %d in-scope models found under %s" % (len(todo), DATA))
        return 1
    passed = failed = xfailed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for key, rc, msg in pool.map(lambda t: run_one(args.loomc, *t), todo):
            if rc == 0 and key in xfail:
                failed += 1
                print("UNEXPECTED PASS %s (remove it from %s)" % (key, args.xfail))
            elif rc == 0:
                passed += 1
            elif key in xfail:
                xfailed += 1
            else:
                failed += 1
                print("FAIL %s: %s" % (key, " | ".join(msg)))
    print("import: %d in scope, %d expected failures (see %s), %d out of scope"
          % (len(todo), xfailed, os.path.basename(args.xfail), skipped))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped + xfailed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
