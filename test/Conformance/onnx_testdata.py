"""The ONNX backend test data Loom is measured against, and what is in scope.

Debian's libonnx-testdata installs the ONNX backend tests (model.onnx plus
test_data_set_*/{input,output}_N.pb) under /usr/share/libonnx-testdata/data.
Out of scope, and counted as skipped only: models using training,
random-number, sequence, optional or string operators, or with non-tensor
(or string/complex) graph inputs or outputs.
"""
import os

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


def load_table(path):
    """`key  rest of line` per line ('#' starts a comment) -> {key: rest}."""
    table = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, rest = line.partition(" ")
                table[key] = rest.strip()
    return table


# The ways a conformance test fails (run_conformance.py's categories); an
# expected failure names the one it expects.
FAILURE_CATEGORIES = ("import", "unsupported op", "compile", "runtime error", "mismatch")


def load_xfail_table(path):
    """`key  [category] reason` per line ('#' starts a comment) ->
    {key: (category, reason)}. Raises ValueError naming the file and line of
    an entry without a known category or without a reason, or listed twice."""
    table = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            rest = rest.strip()
            where = "%s:%d: %s" % (os.path.basename(path), n, key)
            if not rest.startswith("[") or "]" not in rest:
                raise ValueError("%s: no [category] (one of: %s)" % (
                    where, ", ".join(FAILURE_CATEGORIES)))
            category, _, reason = rest[1:].partition("]")
            reason = reason.strip()
            if category not in FAILURE_CATEGORIES:
                raise ValueError("%s: unknown category '%s' (one of: %s)" % (
                    where, category, ", ".join(FAILURE_CATEGORIES)))
            if not reason:
                raise ValueError("%s: no reason given" % where)
            if key in table:
                raise ValueError("%s is listed twice" % where)
            table[key] = (category, reason)
    return table


def all_tests():
    """[(key, dir, out_of_scope_reason or None)] for every test directory."""
    tests = []
    for folder in FOLDERS:
        base = os.path.join(DATA, folder)
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            d = os.path.join(base, name)
            path = os.path.join(d, "model.onnx")
            if not os.path.exists(path):
                continue
            reason = out_of_scope(onnx.load(path, load_external_data=False))
            tests.append(("%s/%s" % (folder, name), d, reason))
    return tests
