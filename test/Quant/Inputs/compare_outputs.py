"""compare_outputs.py PLAN_DIR OUT_DIR EXPECTED_DIR RTOL: compares loom-run's
outputs (OUT_DIR/output_<i>.pb, in the order of PLAN_DIR/plan.json's
outputs) with EXPECTED_DIR's .pb files (matched by tensor name, or, for
another loom-run's OUT_DIR whose files carry no names, by index): each
output passes when max |got - expected| <= RTOL * max |expected|. Exits 1
when any output does not."""
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t).astype(np.float64)


plan, out, expected, rtol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
names = [o["name"] for o in json.load(open(os.path.join(plan, "plan.json")))["outputs"]]
want = dict(load(f) for f in sorted(glob.glob(os.path.join(expected, "*.pb"))))
bad = 0
for i, name in enumerate(names):
    _, got = load(os.path.join(out, "output_%d.pb" % i))
    ref = want[name] if name in want else load(os.path.join(expected, "output_%d.pb" % i))[1]
    scale = np.abs(ref).max()
    err = np.abs(got - ref).max() if got.shape == ref.shape else np.inf
    print("%s: %s (max error %.3g of max |expected| %.3g)"
          % (name, "ok" if err <= rtol * scale else "MISMATCH", err, scale))
    bad += not err <= rtol * scale
sys.exit(1 if bad else 0)
