#!/usr/bin/python3
"""Helper of transformer-blocks.test. For each model name, reads
DIR/<name>-O0/plan.json and DIR/<name>-O1/plan.json and the outputs run into
DIR/<name>-O0-out and DIR/<name>-O1-out, and prints one line:

  <name>: <fused kernels of the -O1 plan>; fewer kernels|NOT FEWER;
  leftover <decomposed ops still in the -O1 plan or none>;
  outputs match|MISMATCH (...)

The fused kernels are counted by what they compute, whichever pass placed
them: `gelu` / `gelu_tanh` / `silu` / `hard_swish` are the activation ops or
the same activation fused into a producer (`fused_*` with `activation`);
`skip_*_norm(sum)` is a skip norm that also writes its Sum output. Outputs
must agree to rtol 1e-4, atol 1e-5."""
import collections
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

ACTIVATIONS = {"gelu", "gelu_tanh", "silu", "hard_swish"}
NORMS = {"layer_normalization", "rms_norm", "group_norm", "swiglu",
         "skip_layer_norm", "skip_rms_norm"}
# Ops of the decomposed patterns that must not survive -O1 in these models.
DECOMPOSED = {"reduce_mean", "sqrt", "reciprocal", "pow", "erf", "tanh",
              "sigmoid", "hard_sigmoid", "clip", "instance_normalization",
              "reshape"}


def kernels(plan):
    return [t for t in plan["tasks"] if t["kind"] == "kernel"]


def attr(task, name):
    a = task.get("attrs", {}).get(name)
    return None if a is None else next(iter(a.values()))


def fused(task):
    """The token of a task this test cares about, or None."""
    k = task["kernel"]
    if k == "gelu":
        return "gelu_tanh" if attr(task, "approximate") == "tanh" else "gelu"
    if k in ACTIVATIONS:
        return k
    if k.startswith("skip_"):
        outs = task.get("outputs", [])
        return k + ("(sum)" if len(outs) > 1 and outs[1] is not None else "")
    if k in NORMS:
        return k
    if k.startswith("fused_") and attr(task, "activation") in ACTIVATIONS:
        return attr(task, "activation")
    return None


def leftovers(tasks):
    left = set()
    for t in tasks:
        if t["kernel"] in DECOMPOSED:
            left.add(t["kernel"])
        for op in attr(t, "body_ops") or []:
            if op in DECOMPOSED:
                left.add(op)
    return sorted(left)


def outputs(d):
    return {os.path.basename(f): numpy_helper.to_array(onnx.load_tensor(f))
            for f in sorted(glob.glob(os.path.join(d, "output_*.pb")))}


root = sys.argv[1]
for name in sys.argv[2:]:
    base = os.path.join(root, name)
    o0 = kernels(json.load(open(base + "-O0/plan.json")))
    o1 = kernels(json.load(open(base + "-O1/plan.json")))
    counts = collections.Counter(f for f in map(fused, o1) if f)
    desc = " ".join("%s x%d" % (k, counts[k]) for k in sorted(counts))
    ref, got = outputs(base + "-O0-out"), outputs(base + "-O1-out")
    bad = [k for k in ref if k not in got or ref[k].shape != got[k].shape or
           not np.allclose(got[k], ref[k], rtol=1e-4, atol=1e-5)]
    if not ref or set(ref) != set(got):
        bad.append("output sets differ")
    left = leftovers(o1)
    print("%s: %s; %s kernels (%d -> %d); leftover %s; outputs %s" % (
        name, desc or "nothing fused", "fewer" if len(o1) < len(o0) else "NOT FEWER",
        len(o0), len(o1), " ".join(left) or "none",
        "match (%d)" % len(ref) if not bad else "MISMATCH %s" % bad))
