"""A Conv1d whose weight w4 groups along its input channels (256 = two
groups of 128) and, whole, along its 3-tap window: the per-layer accuracy
run dequantizes it with the blocked DequantizeLinear, whose scales are
repeated along the window. The two input-channel groups differ 100x in
scale and every output channel by its own factor, so a scale applied to
the wrong weights costs tens of dB. Writes DIR/model.onnx and
DIR/test_data_set_0/input_0.pb."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
matmul = len(sys.argv) > 2 and sys.argv[2] == "matmul"
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
rng = np.random.default_rng(11)
if matmul:
    w = rng.standard_normal((576, 64)).astype(np.float32)
    for blk in range(1, 6, 2):
        w[blk * 96:(blk + 1) * 96] *= 100.0
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")
    g = helper.make_graph([node], "matmul_576",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 576])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 64])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, "model.onnx"))
    x = rng.standard_normal((4, 576)).astype(np.float32)
    with open(os.path.join(out, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
    sys.exit(0)
w = rng.standard_normal((8, 256, 3)).astype(np.float32)
w[:, 128:] *= 100.0
w *= (10.0 ** rng.uniform(-1, 1, 8)).astype(np.float32)[:, None, None]
b = rng.standard_normal(8).astype(np.float32)
node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1])
g = helper.make_graph([node], "conv_window",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256, 32])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 32])],
                      [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "model.onnx"))
x = rng.standard_normal((1, 256, 32)).astype(np.float32)
with open(os.path.join(out, "test_data_set_0", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, "x").SerializeToString())
