"""A model in ONNX's QOperator form, as quantization tools export it:
x -> QuantizeLinear -> QLinearMatMul (i8 weights, one scale)
  -> DequantizeLinear -> y, and an image branch
img -> QuantizeLinear -> QLinearConv (i8 weights per output channel, i32
  bias) -> DequantizeLinear -> z; one input set (fixed seed)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(3)
inits = [
    numpy_helper.from_array(np.array(0.02, np.float32), "xs"),
    numpy_helper.from_array(np.array(128, np.uint8), "xz"),
    numpy_helper.from_array(rng.integers(-127, 128, (16, 8)).astype(np.int8), "b"),
    numpy_helper.from_array(np.array(0.004, np.float32), "bs"),
    numpy_helper.from_array(np.array(0, np.int8), "bz"),
    numpy_helper.from_array(np.array(0.05, np.float32), "ys"),
    numpy_helper.from_array(np.array(100, np.uint8), "yz"),
    numpy_helper.from_array(np.array(0.03, np.float32), "is"),
    numpy_helper.from_array(np.array(0, np.uint8), "iz"),
    numpy_helper.from_array(rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8), "w"),
    numpy_helper.from_array(np.array([0.002, 0.003, 0.004, 0.005], np.float32), "wsc"),
    numpy_helper.from_array(np.zeros(4, np.int8), "wz"),
    numpy_helper.from_array(np.array([100, -200, 300, -400], np.int32), "cb"),
    numpy_helper.from_array(np.array(0.1, np.float32), "zs"),
    numpy_helper.from_array(np.array(120, np.uint8), "zz"),
]
nodes = [
    helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="qx"),
    helper.make_node("QLinearMatMul", ["xq", "xs", "xz", "b", "bs", "bz", "ys", "yz"], ["yq"], name="mm"),
    helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"], name="dy"),
    helper.make_node("QuantizeLinear", ["img", "is", "iz"], ["iq"], name="qi"),
    helper.make_node("QLinearConv", ["iq", "is", "iz", "w", "wsc", "wz", "zs", "zz", "cb"], ["zq"],
                     name="conv", pads=[1, 1, 1, 1]),
    helper.make_node("DequantizeLinear", ["zq", "zs", "zz"], ["z"], name="dz"),
]
graph = helper.make_graph(
    nodes, "qoperator",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16]),
     helper.make_tensor_value_info("img", TensorProto.FLOAT, [1, 3, 6, 6])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8]),
     helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4, 6, 6])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
for i, (name, shape) in enumerate([("x", (4, 16)), ("img", (1, 3, 6, 6))]):
    v = rng.uniform(0, 2.5 if name == "x" else 7.0, shape).astype(np.float32)
    if name == "x":
        v -= 1.2
    with open(os.path.join(out, "test_data_set_0", "input_%d.pb" % i), "wb") as f:
        f.write(numpy_helper.from_array(v, name).SerializeToString())
