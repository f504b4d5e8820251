"""An int8 layer whose activation channels differ by 10^4 in range while
its weights compensate (channel j of the input scaled by c_j, log-uniform
over [1e-2, 1e2], the weights reading it by 1 / c_j): every channel
carries as much of the output, but one u8 scale for the whole activation
rounds the small channels to zero. Dividing channel j by s_j = c_j and
multiplying its weights (SmoothQuant with alpha = 0.5 gives exactly that
here) makes the activation's channels alike. `matmul`: x [8, 64] @ W [64,
32]; `conv`: a 3x3 Conv of 16 -> 8 channels on [1, 16, 12, 12]. Writes
DIR/model.onnx and four input sets DIR/test_data_set_{0..3}."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, kind = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(17)
if kind == "matmul":
    c = 10.0 ** rng.uniform(-2, 2, 64)
    w = (rng.standard_normal((64, 32)) / c[:, None]).astype(np.float32)
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")
    xs, ys, cshape = [8, 64], [8, 32], (1, 64)
else:
    c = 10.0 ** rng.uniform(-2, 2, 16)
    w = (rng.standard_normal((8, 16, 3, 3)) / c[None, :, None, None]).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])
    xs, ys, cshape = [1, 16, 12, 12], [1, 8, 12, 12], (1, 16, 1, 1)
g = helper.make_graph([node], "smooth_" + kind,
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, xs)],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ys)],
                      [numpy_helper.from_array(w, "w")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
os.makedirs(out, exist_ok=True)
onnx.save(m, os.path.join(out, "model.onnx"))
for s in range(4):
    d = os.path.join(out, "test_data_set_%d" % s)
    os.makedirs(d, exist_ok=True)
    # Non-negative, as after a ReLU, so the u8 range starts at 0.
    x = (np.abs(rng.standard_normal(xs)) * c.reshape(cshape)).astype(np.float32)
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
