#!/usr/bin/python3
"""For the fusion end-to-end tests.

  compare_plans.py kernels DIR...      per plan: kernel count and the sorted
                                       set of kernel names
  compare_plans.py outputs A B [RTOL ATOL]
                                       every output_N.pb of folders A and B
                                       against the other's (numpy allclose;
                                       defaults 1e-4, 1e-5; same dtype and
                                       shape); exits 1 on a mismatch or a
                                       file only one folder has
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

    def outputs(d):
        return set(os.path.basename(f) for f in glob.glob(os.path.join(d, "output_*.pb")))

    in_a, in_b = outputs(a), outputs(b)
    if not in_a and not in_b:
        print("no outputs in %s or %s" % (a, b))
        sys.exit(1)
    bad = 0
    for name in sorted(in_a | in_b):
        if name not in in_a or name not in in_b:
            print("%s %s: MISSING in %s" % (os.path.basename(a), name,
                                            b if name in in_a else a))
            bad += 1
            continue
        x = numpy_helper.to_array(onnx.load_tensor(os.path.join(a, name)))
        y = numpy_helper.to_array(onnx.load_tensor(os.path.join(b, name)))
        same_shape = x.shape == y.shape and x.dtype == y.dtype
        ok = same_shape and np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
        if ok:
            print("%s %s: match" % (os.path.basename(a), name))
            continue
        bad += 1
        if not same_shape:
            print("%s %s: MISMATCH %s %s against %s %s" % (os.path.basename(a), name, x.dtype,
                                                           list(x.shape), y.dtype, list(y.shape)))
        else:
            err = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0
            print("%s %s: MISMATCH max abs error %g" % (os.path.basename(a), name, err))
    sys.exit(1 if bad else 0)
else:
    sys.exit("unknown command " + sys.argv[1])
