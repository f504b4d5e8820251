"""Writes a model with control flow and its test data (ONNX test layout).

  acc = x; for i in range(3): acc = acc + x * i; scan[i] = acc   (Loop, M = 3)
  y = If(flag) then Relu(acc) else Neg(acc), flag a constant true
Outputs: y and the stacked scan values, computed here with numpy.
Usage: control_flow.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
F = TensorProto.FLOAT

body = helper.make_graph(
    [helper.make_node("Cast", ["i"], ["fi"], to=F),
     helper.make_node("Mul", ["x", "fi"], ["xi"]),
     helper.make_node("Add", ["acc_in", "xi"], ["acc_out"]),
     helper.make_node("Identity", ["cond_in"], ["cond_out"]),
     helper.make_node("Identity", ["acc_out"], ["scan_out"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("acc_in", F, [2, 3])],
    [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("acc_out", F, [2, 3]),
     helper.make_tensor_value_info("scan_out", F, [2, 3])])
then_g = helper.make_graph([helper.make_node("Relu", ["acc"], ["t"])], "then", [],
                           [helper.make_tensor_value_info("t", F, [2, 3])])
else_g = helper.make_graph([helper.make_node("Neg", ["acc"], ["e"])], "else", [],
                           [helper.make_tensor_value_info("e", F, [2, 3])])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M", "cond", "x"], ["acc", "scan"], body=body, name="loop"),
     helper.make_node("If", ["flag"], ["y"], then_branch=then_g, else_branch=else_g, name="branch")],
    "control_flow",
    [helper.make_tensor_value_info("x", F, [2, 3])],
    [helper.make_tensor_value_info("y", F, [2, 3]),
     helper.make_tensor_value_info("scan", F, [3, 2, 3])],
    initializer=[numpy_helper.from_array(np.array(3, np.int64), "M"),
                 numpy_helper.from_array(np.array(True), "cond"),
                 numpy_helper.from_array(np.array(True), "flag")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "model.onnx"))

x = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
acc, scans = x.copy(), []
for i in range(3):
    acc = acc + x * np.float32(i)
    scans.append(acc.copy())
outputs = [np.maximum(acc, 0), np.stack(scans)]
d = os.path.join(out, "test_data_set_0")
open(os.path.join(d, "input_0.pb"), "wb").write(numpy_helper.from_array(x, "x").SerializeToString())
for k, v in enumerate(outputs):
    open(os.path.join(d, "output_%d.pb" % k), "wb").write(numpy_helper.from_array(v).SerializeToString())
