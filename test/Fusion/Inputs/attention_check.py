#!/usr/bin/python3
"""Helper of attention.test.

  attention_check.py plans O0_DIR O1_DIR
      prints the number of kernels of each plan and of `attention` kernels
      in the -O1 plan; fails unless -O1 has attention kernels and fewer
      kernels than -O0.
  attention_check.py compare OUT0 OUT1
      compares output_0.pb of both folders (numpy allclose, rtol 1e-4,
      atol 1e-5), prints the largest difference and fails on a mismatch."""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def kernels(d):
    plan = json.load(open(os.path.join(d, "plan.json")))
    return [t["kernel"] for t in plan["tasks"] if t.get("kind") == "kernel"]


if sys.argv[1] == "plans":
    k0, k1 = kernels(sys.argv[2]), kernels(sys.argv[3])
    n = k1.count("attention")
    print("%s: O0 %d kernels, O1 %d kernels, %d attention" % (
        os.path.basename(sys.argv[3]), len(k0), len(k1), n))
    if n == 0 or len(k1) >= len(k0):
        print("O1 kernels:", k1)
        sys.exit(1)
elif sys.argv[1] == "compare":
    a, b = sys.argv[2], sys.argv[3]
    x = numpy_helper.to_array(onnx.load_tensor(os.path.join(a, "output_0.pb")))
    y = numpy_helper.to_array(onnx.load_tensor(os.path.join(b, "output_0.pb")))
    ok = x.shape == y.shape and np.all(np.isfinite(x)) and \
        np.allclose(x, y, rtol=1e-4, atol=1e-5)
    diff = float(np.max(np.abs(x - y))) if x.shape == y.shape else float("inf")
    print("%s %s %s" % (os.path.basename(a), "=" if ok else "!=",
                        os.path.basename(b)))
    if not ok:
        print("shapes %s %s, max abs diff %g" % (x.shape, y.shape, diff))
        sys.exit(1)
else:
    sys.exit("unknown mode " + sys.argv[1])
