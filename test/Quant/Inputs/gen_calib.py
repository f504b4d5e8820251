"""Writes a tiny model (Y = MatMul(X, W), X [2, 3]) and two input sets whose
values are known: set 0 holds -2 .. 3, set 1 holds -1 .. 5, so the min-max
range over both is [-2, 5]. With --with-outputs, each set also holds its
expected output_0.pb (X @ W, exact in f32), as the ONNX test layout does."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
with_outputs = "--with-outputs" in sys.argv[2:]
os.makedirs(out, exist_ok=True)
w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), "W")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "calib",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 2])], [w])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.save(model, os.path.join(out, "model.onnx"))
sets = [np.array([[-2, 0, 1], [3, 2, 1]], np.float32),
        np.array([[-1, 5, 0], [0, 4, 2]], np.float32)]
for i, x in enumerate(sets):
    d = os.path.join(out, "data", "test_data_set_%d" % i)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "X").SerializeToString())
    if with_outputs:
        with open(os.path.join(d, "output_0.pb"), "wb") as f:
            y = x @ numpy_helper.to_array(w)
            f.write(numpy_helper.from_array(y, "Y").SerializeToString())
