#!/usr/bin/python3
"""Writes OUT_DIR/elementwise.onnx and OUT_DIR/elementwise.x.pb: a chain and a
tree of elementwise ops with broadcasts, as loom-fuse-elementwise fuses them:
  t = Clip(Exp(Neg(x)) * w + b, 0, 6)    w, b: [16] (broadcast), x: [2, 8, 16]
  y = LeakyRelu(t - Sqrt(Abs(x)), 0.1) / (1 + Sigmoid(x) ** 2)
Fixed seed."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(11)
f = lambda *s: rng.standard_normal(s).astype(np.float32)
c = lambda v: np.array(v, dtype=np.float32)
inits = {"w": f(16), "b": f(16), "zero": c(0), "six": c(6), "one": c(1),
         "two": c(2)}
nodes = [
    helper.make_node("Neg", ["x"], ["n"], name="neg"),
    helper.make_node("Exp", ["n"], ["e"], name="exp"),
    helper.make_node("Mul", ["e", "w"], ["m"], name="mul"),
    helper.make_node("Add", ["m", "b"], ["a"], name="add"),
    helper.make_node("Clip", ["a", "zero", "six"], ["t"], name="clip"),
    helper.make_node("Abs", ["x"], ["ab"], name="abs"),
    helper.make_node("Sqrt", ["ab"], ["sq"], name="sqrt"),
    helper.make_node("Sub", ["t", "sq"], ["d"], name="sub"),
    helper.make_node("LeakyRelu", ["d"], ["l"], name="leaky", alpha=0.1),
    helper.make_node("Sigmoid", ["x"], ["s"], name="sigmoid"),
    helper.make_node("Pow", ["s", "two"], ["p"], name="pow"),
    helper.make_node("Add", ["p", "one"], ["den"], name="add1"),
    helper.make_node("Div", ["l", "den"], ["y"], name="div"),
]
graph = helper.make_graph(
    nodes, "elementwise",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8, 16])],
    [numpy_helper.from_array(v, k) for k, v in inits.items()])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "elementwise.onnx"))
with open(os.path.join(out, "elementwise.x.pb"), "wb") as fh:
    fh.write(numpy_helper.from_array(f(2, 8, 16)).SerializeToString())
