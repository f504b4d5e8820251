#!/usr/bin/python3
"""Writes examples/models/tiny_cnn.onnx: the bundled example model.

A small image classifier as exporters write it: Conv/BatchNorm/Relu blocks,
a dynamic batch dimension ("batch") and a flatten computed through
Shape -> Gather -> Unsqueeze -> Concat -> Reshape. Fixed seed: rerunning the
script writes the same file.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
def w(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, name)

inits = [w("c1.w", 8, 3, 3, 3), w("c1.b", 8),
         numpy_helper.from_array(np.ones(8, np.float32), "bn.scale"),
         numpy_helper.from_array(np.zeros(8, np.float32), "bn.bias"),
         numpy_helper.from_array(np.zeros(8, np.float32), "bn.mean"),
         numpy_helper.from_array(np.ones(8, np.float32), "bn.var"),
         w("c2.w", 16, 8, 3, 3), w("fc.w", 10, 16), w("fc.b", 10),
         numpy_helper.from_array(np.array(0, np.int64), "zero"),
         numpy_helper.from_array(np.array([-1], np.int64), "minus_one"),
         numpy_helper.from_array(np.array([0], np.int64), "axes0")]
nodes = [
    helper.make_node("Conv", ["image", "c1.w", "c1.b"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bn1"], name="bn1"),
    helper.make_node("Relu", ["bn1"], ["r1"], name="relu1"),
    helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["p1", "c2.w"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
    helper.make_node("GlobalAveragePool", ["r2"], ["gap"], name="gap"),
    helper.make_node("Shape", ["gap"], ["gap_shape"], name="shape"),
    helper.make_node("Gather", ["gap_shape", "zero"], ["n"], name="gather_batch", axis=0),
    helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsqueeze_batch"),
    helper.make_node("Concat", ["n1", "minus_one"], ["flat_shape"], name="concat_shape", axis=0),
    helper.make_node("Reshape", ["gap", "flat_shape"], ["flat"], name="flatten"),
    helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
]
graph = helper.make_graph(
    nodes, "tiny_cnn",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 32, 32])],
    [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="loom-examples")
onnx.checker.check_model(model)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_cnn.onnx"))
