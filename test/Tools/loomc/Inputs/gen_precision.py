"""Two f32 models for device precision (loomc --device-precision):

  mlp.onnx:    y = MatMul(Relu(MatMul(x, W1)), W2), x [256, 1024], W [1024,
               1024]: heavy enough that an NPU's bf16 pays;
  cancel.onnx: y = MatMul(x, W) - MatMul(x, W + 1e-4 * R): each product is
               large and their difference tiny, so rounding W and W + 1e-4 R
               to bf16 (8 significant bits) leaves nothing of the difference.

Writes DIR/mlp.onnx, DIR/cancel.onnx and DIR/x.pb (x, fixed seed)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(5)
n = 1024
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [256, n])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [256, n])


def save(name, nodes, inits):
    g = helper.make_graph(nodes, name, [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name + ".onnx"))


w1 = (rng.standard_normal((n, n)) / 32).astype(np.float32)
w2 = (rng.standard_normal((n, n)) / 32).astype(np.float32)
save("mlp", [helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="mm2")],
     [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
w = (1 + rng.standard_normal((n, n)) / 8).astype(np.float32)
wd = (w + 1e-4 * rng.standard_normal((n, n))).astype(np.float32)
save("cancel", [helper.make_node("MatMul", ["x", "w"], ["a"], name="mma"),
                helper.make_node("MatMul", ["x", "wd"], ["b"], name="mmb"),
                helper.make_node("Sub", ["a", "b"], ["y"], name="sub")],
     [numpy_helper.from_array(w, "w"), numpy_helper.from_array(wd, "wd")])
with open(os.path.join(out, "x.pb"), "wb") as f:
    f.write(numpy_helper.from_array(rng.standard_normal((256, n)).astype(np.float32), "x")
            .SerializeToString())
