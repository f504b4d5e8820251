#!/usr/bin/python3
"""For the fusion end-to-end tests.

  compare_plans.py kernels DIR...      per plan: kernel count and the sorted
                                       set of kernel names
  compare_plans.py outputs A B [RTOL ATOL]
                                       every output_N.pb of folder A against
                                       B (numpy allclose; defaults 1e-4, 1e-5)
"""
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

if sys.argv[1] == "kernels":
    for d in sys.argv[2:]:
        plan = json.load(open(os.path.join(d, "plan.json")))
        kernels = [t["kernel"] for t in plan["tasks"] if t["kind"] == "kernel"]
        print("%s: %d kernels: %s" % (os.path.basename(d), len(kernels),
                                      " ".join(sorted(set(kernels)))))
elif sys.argv[1] == "outputs":
    a, b = sys.argv[2], sys.argv[3]
    rtol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-4
    atol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-5
    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(a, "output_*.pb")))
    if not files:
        print("no outputs in %s" % a)
        sys.exit(1)
    for name in files:
        x = numpy_helper.to_array(onnx.load_tensor(os.path.join(a, name)))
        y = numpy_helper.to_array(onnx.load_tensor(os.path.join(b, name)))
        ok = x.shape == y.shape and np.allclose(x, y, rtol=rtol, atol=atol)
        err = float(np.max(np.abs(x - y))) if x.shape == y.shape and x.size else 0.0
        print("%s %s: %s" % (os.path.basename(a), name,
                             "match" if ok else "MISMATCH max abs error %g" % err))
else:
    sys.exit("unknown command " + sys.argv[1])
