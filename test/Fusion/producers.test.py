"""Helper of producers.test: for each model NAME, reads the -O0 and -O1 plans
(DIR/NAME-O0, DIR/NAME-O1), prints the -O1 kernels with the ONNX nodes each
one computes and whether -O1 has fewer kernels, then compares the outputs
(DIR/NAME-O0-out, DIR/NAME-O1-out) with numpy allclose (rtol 1e-4,
atol 1e-5).

  producers.test.py DIR NAME..."""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

d = sys.argv[1]


def kernels(plan_dir):
    plan = json.load(open(os.path.join(plan_dir, "plan.json")))
    return [t for t in plan["tasks"] if t["kind"] == "kernel"]


def outputs(out_dir):
    names = sorted(f for f in os.listdir(out_dir) if f.endswith(".pb"))
    return [numpy_helper.to_array(onnx.load_tensor(os.path.join(out_dir, f)))
            for f in names]


for name in sys.argv[2:]:
    base = os.path.join(d, name)
    k0, k1 = kernels(base + "-O0"), kernels(base + "-O1")
    print("%s: -O1 kernels %s" % (name, " ".join(
        "%s[%s]" % (t["kernel"], ",".join(t.get("ops", []))) for t in k1)))
    print("%s: -O1 %s kernels than -O0 (%d vs %d)" % (
        name, "fewer" if len(k1) < len(k0) else "NOT fewer", len(k1), len(k0)))
    o0, o1 = outputs(base + "-O0-out"), outputs(base + "-O1-out")
    same = len(o0) == len(o1) and len(o0) > 0 and all(
        a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-5)
        for a, b in zip(o0, o1))
    worst = max((float(np.max(np.abs(a - b))) if a.shape == b.shape else
                 float("inf")) for a, b in zip(o0, o1)) if o0 and o1 else -1
    print("%s: outputs %s (max abs diff %.2e)" % (
        name, "match" if same else "DIFFER", worst))
