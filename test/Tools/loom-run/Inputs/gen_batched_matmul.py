#!/usr/bin/python3
"""Writes OUT/model.onnx (MatMul of [8, 64, 128] x [8, 128, 96], large
enough for the runtime to run it on every thread it is given) and
OUT/test_data_set_0 with inputs from a fixed seed and the product computed
by numpy in double precision.

usage: gen_batched_matmul.py OUT
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [8, 64, 128])
b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [8, 128, 96])
c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [8, 64, 96])
graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "bmm", [a, b], [c])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
          os.path.join(out, "model.onnx"))
rng = np.random.RandomState(0)
A = rng.randn(8, 64, 128).astype(np.float32)
B = rng.randn(8, 128, 96).astype(np.float32)
C = (A.astype(np.float64) @ B.astype(np.float64)).astype(np.float32)
for name, value, file in (("a", A, "input_0.pb"), ("b", B, "input_1.pb"), ("c", C, "output_0.pb")):
    with open(os.path.join(out, "test_data_set_0", file), "wb") as f:
        f.write(numpy_helper.from_array(value, name).SerializeToString())
