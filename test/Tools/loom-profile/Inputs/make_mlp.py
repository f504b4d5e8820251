#!/usr/bin/python3
"""Writes an MLP whose kernels each take hundreds of µs on one CPU thread.

    make_mlp.py OUT.onnx [--layers L] [--batch B] [--width W]

Gemm + Relu blocks (x: B x W) and a residual Add every two blocks, so that
kernel times dominate the executor's dispatch and threading noise when
loom-profile and loom-run time the plan. Fixed seed: the same file every run.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--layers", type=int, default=6)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--width", type=int, default=512)
args = ap.parse_args()

rng = np.random.default_rng(11)
B, W = args.batch, args.width
inits, nodes = [], []
x = "x"
for i in range(args.layers):
    inits.append(numpy_helper.from_array(
        (rng.standard_normal((W, W)) / np.sqrt(W)).astype(np.float32), f"w{i}"))
    inits.append(numpy_helper.from_array(
        (rng.standard_normal(W) * 0.1).astype(np.float32), f"b{i}"))
    nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"g{i}"],
                                  name=f"fc{i}"))
    nodes.append(helper.make_node("Relu", [f"g{i}"], [f"r{i}"], name=f"relu{i}"))
    y = f"r{i}"
    if i % 2 == 1:
        nodes.append(helper.make_node("Add", [y, x_block], [f"s{i}"],
                                      name=f"add{i}"))
        y = f"s{i}"
    else:
        x_block = x
    x = y
graph = helper.make_graph(
    nodes, "mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, W])],
    [helper.make_tensor_value_info(x, TensorProto.FLOAT, [B, W])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="loom-tests")
onnx.checker.check_model(model)
onnx.save(model, args.out)
