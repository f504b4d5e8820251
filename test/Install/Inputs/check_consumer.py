"""consumer.test: runs loom-run on the consumer's plan with the input
classify used by default (x[i] = sin(0.01 i), f32 [1, 3, 32, 32]) and
compares its probabilities with classify's printed ones."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

plan, printed, loom_run, xpb = sys.argv[1:5]
x = np.sin(0.01 * np.arange(3 * 32 * 32, dtype=np.float64)).astype(np.float32)
with open(xpb, "wb") as f:
    f.write(numpy_helper.from_array(x.reshape(1, 3, 32, 32)).SerializeToString())
out = os.path.join(os.path.dirname(xpb), "loom-run-out")
subprocess.run([loom_run, plan, "--input", "image=" + xpb, "--output-dir", out,
                "--quiet"], check=True)
want = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "output_0.pb"))).ravel()
lines = open(printed).read().split()
got = np.array([float(v) for v in lines[:-2]], dtype=np.float32)
cls = int(lines[-1])
if got.shape != want.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-6):
    print("MISMATCH: classify %s, loom-run %s" % (got, want))
    sys.exit(1)
if cls != int(np.argmax(want)):
    print("MISMATCH: class %d, loom-run's argmax %d" % (cls, int(np.argmax(want))))
    sys.exit(1)
print("classify matches loom-run: %d probabilities, class %d" % (got.size, cls))
