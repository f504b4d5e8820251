"""A two-layer MLP whose input has outlier channels, the case AWQ is for:
X [64, 256] with 4 of the 256 channels 40x larger than the others (in the
calibration/eval data, test_data_set_0), Y = Relu(X @ W1 + b1) @ W2, random
weights (fixed seed)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
k, h, n, t = 256, 256, 64, 64
w1 = (rng.standard_normal((k, h)) / np.sqrt(k)).astype(np.float32)
b1 = (0.1 * rng.standard_normal(h)).astype(np.float32)
w2 = (rng.standard_normal((h, n)) / np.sqrt(h)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w1"], ["h0"], name="fc1"),
     helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
     helper.make_node("Relu", ["h1"], ["h2"], name="act"),
     helper.make_node("MatMul", ["h2", "w2"], ["y"], name="fc2")],
    "outlier_mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [t, k])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [t, n])],
    [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
     numpy_helper.from_array(w2, "w2")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
x = rng.standard_normal((t, k)).astype(np.float32)
x[:, [3, 70, 141, 200]] *= 40.0
d = os.path.join(out, "test_data_set_0")
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, "x").SerializeToString())
