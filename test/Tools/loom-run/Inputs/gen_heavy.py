#!/usr/bin/python3
"""Writes models with one heavy op each (for the co-execution tests), plus a
random input for each: OUT_DIR/{matmul,gemm,conv}.onnx and OUT_DIR/*.x.pb.

  matmul: x [1, 256, 512] @ W [512, 512], then Relu (batch 1: rows = M)
  gemm:   Gemm(x [256, 512], W [384, 512], C [384], transB = 1), then Tanh
  conv:   Conv(x [1, 64, 32, 32], W [96, 64, 3, 3], B [96], pads 1), then Relu
          (batch 1: rows = output channels)
Weights and inputs come from a fixed seed."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)


def rand(*shape):
    return (rng.standard_normal(shape) * 0.1).astype(np.float32)


def save(name, nodes, x, inits, y_shape):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name + ".onnx"))
    with open(os.path.join(out, name + ".x.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x).SerializeToString())


save("matmul", [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
                helper.make_node("Relu", ["m"], ["y"], name="act")],
     rand(1, 256, 512), {"w": rand(512, 512)}, [1, 256, 512])
save("gemm", [helper.make_node("Gemm", ["x", "w", "c"], ["g"], name="gemm",
                               transB=1),
              helper.make_node("Tanh", ["g"], ["y"], name="act")],
     rand(256, 512), {"w": rand(384, 512), "c": rand(384)}, [256, 384])
save("conv", [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv",
                               pads=[1, 1, 1, 1]),
              helper.make_node("Relu", ["c"], ["y"], name="act")],
     rand(1, 64, 32, 32), {"w": rand(96, 64, 3, 3), "b": rand(96)},
     [1, 96, 32, 32])
