"""Writes a model with parallel heavy branches (a mixture-of-experts-like
block): x [256, 512] -> 4 x (MatMul [512, 512] -> Relu) -> Sum, so that the
partitioner has work to spread over devices. Usage: gen_branches.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
nodes, inits, outs = [], [], []
for b in range(4):
    w = "w%d" % b
    inits.append(numpy_helper.from_array(
        (rng.standard_normal((512, 512)) * 0.05).astype(np.float32), w))
    nodes.append(helper.make_node("MatMul", ["x", w], ["m%d" % b], name="expert%d" % b))
    nodes.append(helper.make_node("Relu", ["m%d" % b], ["r%d" % b], name="act%d" % b))
    outs.append("r%d" % b)
nodes.append(helper.make_node("Sum", outs, ["y"], name="combine"))
graph = helper.make_graph(nodes, "branches",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [256, 512])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [256, 512])],
                          initializer=inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
