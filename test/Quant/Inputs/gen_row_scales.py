"""A MatMul whose first 16 weight rows (along K) are 1000 times the others
and whose input compensates: y = x @ W with W[k, :] scaled by c_k (1000
for k < 16, else 1) and x[:, k] by 1 / c_k, as a trained network does
around outlier channels. One 8-bit scale per output column is set by the
large rows and leaves the others a few levels, though every row
contributes alike to y; scales per group of 32 rows along K separate them.
With --plain every row is alike (c_k = 1). Writes DIR/model.onnx and
DIR/test_data_set_0/input_0.pb."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
rng = np.random.default_rng(9)
k, n = 256, 64
c = np.where(np.arange(k) < 16, 1000.0, 1.0)
if "--plain" in sys.argv[2:]:
    c = np.ones(k)
w = (rng.standard_normal((k, n)) * c[:, None]).astype(np.float32)
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                      "row_scales",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, k])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, n])],
                      [numpy_helper.from_array(w, "w")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "model.onnx"))
x = (rng.standard_normal((8, k)) / c[None, :]).astype(np.float32)
with open(os.path.join(out, "test_data_set_0", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, "x").SerializeToString())
