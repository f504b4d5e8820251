"""Helper of co-execution.test: lists the split parts of plans, or compares
output folders pairwise (relative 1e-5: the parts may accumulate in another
order than the whole op)."""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

if sys.argv[1] == "--compare":
    dirs = sys.argv[2:]
    for a, b in zip(dirs[::2], dirs[1::2]):
        x = numpy_helper.to_array(onnx.load_tensor(os.path.join(a, "output_0.pb")))
        y = numpy_helper.to_array(onnx.load_tensor(os.path.join(b, "output_0.pb")))
        same = x.shape == y.shape and np.allclose(x, y, rtol=1e-5, atol=1e-6)
        print("%s %s %s" % (os.path.basename(a), "=" if same else "!=",
                            os.path.basename(b)))
    sys.exit(0)
for d in sys.argv[1:]:
    plan = json.load(open(os.path.join(d, "plan.json")))
    parts = [t for t in plan["tasks"] if t["kind"] == "kernel" and "[part" in t["name"]]
    out = plan["outputs"][0]["buffer"]
    views = [b for b in plan["buffers"] if b.get("view_of") is not None]
    # The parts' outputs (or the transfers copying them into place) are
    # views; count the views of the buffer the parts compute.
    computed = {b["view_of"] for b in views}
    print("%s: parts %s on %s, output views %d" % (
        os.path.basename(d), [t["name"] for t in parts],
        [t["device"] for t in parts],
        max([sum(1 for b in views if b["view_of"] == c) for c in computed] or [0])))
