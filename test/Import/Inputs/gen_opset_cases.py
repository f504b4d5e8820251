#!/usr/bin/python3
"""Writes one-node ONNX models at old and new opsets with expected outputs
computed here in numpy from the operator's description at that opset, for
test/Import/version-adapters.test.

  gen_opset_cases.py OUT_DIR

Each case is OUT_DIR/<case>/model.onnx + test_data_set_0/{input,output}_N.pb.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
F = TensorProto.FLOAT
N = helper.make_node


def case(name, opset, nodes, inputs, outputs, feeds, expected, inits=()):
    """inputs/outputs: [(name, elem_type, shape)]; feeds/expected: arrays."""
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="gen_opset_cases")
    m.ir_version = 8
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i, (v, (n, _, _)) in enumerate(zip(feeds, inputs)):
        onnx.save_tensor(numpy_helper.from_array(v, n),
                         os.path.join(d, "test_data_set_0", "input_%d.pb" % i))
    for i, (v, (n, _, _)) in enumerate(zip(expected, outputs)):
        onnx.save_tensor(numpy_helper.from_array(v, n),
                         os.path.join(d, "test_data_set_0", "output_%d.pb" % i))


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Softmax before 13 flattens to 2-D at `axis` and normalizes the second
# dimension: over axes 1 and 2 together for a [2, 3, 4] input.
x = r(2, 3, 4)
case("softmax11_axis1", 11, [N("Softmax", ["x"], ["y"], axis=1)],
     [("x", F, [2, 3, 4])], [("y", F, [2, 3, 4])], [x],
     [softmax(x.reshape(2, 12), 1).reshape(2, 3, 4)])
case("logsoftmax9_default_axis", 9, [N("LogSoftmax", ["x"], ["y"])],
     [("x", F, [2, 3, 4])], [("y", F, [2, 3, 4])], [x],
     [np.log(softmax(x.reshape(2, 12), 1)).reshape(2, 3, 4)])
case("softmax11_last_axis", 11, [N("Softmax", ["x"], ["y"], axis=-1)],
     [("x", F, [2, 3, 4])], [("y", F, [2, 3, 4])], [x], [softmax(x, 2)])
# Attributes that became inputs.
x = r(1, 3, 1, 4)
case("squeeze11_axes_attr", 11, [N("Squeeze", ["x"], ["y"], axes=[0, 2])],
     [("x", F, [1, 3, 1, 4])], [("y", F, [3, 4])], [x], [x.reshape(3, 4)])
x = r(3, 4)
case("unsqueeze9_axes_attr", 9, [N("Unsqueeze", ["x"], ["y"], axes=[0, 3])],
     [("x", F, [3, 4])], [("y", F, [1, 3, 4, 1])], [x], [x.reshape(1, 3, 4, 1)])
x = r(2, 6)
case("split11_split_attr", 11, [N("Split", ["x"], ["a", "b"], axis=1, split=[2, 4])],
     [("x", F, [2, 6])], [("a", F, [2, 2]), ("b", F, [2, 4])], [x], [x[:, :2], x[:, 2:]])
x = r(2, 3, 4)
case("reducesum11_axes_attr", 11, [N("ReduceSum", ["x"], ["y"], axes=[1], keepdims=0)],
     [("x", F, [2, 3, 4])], [("y", F, [2, 4])], [x], [x.sum(axis=1)])
x = r(2, 3)
case("pad10_attrs", 10, [N("Pad", ["x"], ["y"], pads=[0, 1, 1, 2], value=1.5)],
     [("x", F, [2, 3])], [("y", F, [3, 6])], [x],
     [np.pad(x, ((0, 1), (1, 2)), constant_values=1.5)])
case("clip10_attrs", 10, [N("Clip", ["x"], ["y"], min=-0.5, max=0.25)],
     [("x", F, [2, 3])], [("y", F, [2, 3])], [x], [np.clip(x, -0.5, 0.25)])
x = r(4, 6)
case("slice9_attrs", 9, [N("Slice", ["x"], ["y"], starts=[1, 0], ends=[3, 5], axes=[0, 1])],
     [("x", F, [4, 6])], [("y", F, [2, 5])], [x], [x[1:3, 0:5]])
x = np.array([[0.5, 3.0, -1.0, 2.0]], np.float32)
case("topk9_k_attr", 9, [N("TopK", ["x"], ["v", "i"], k=2)],
     [("x", F, [1, 4])], [("v", F, [1, 2]), ("i", TensorProto.INT64, [1, 2])], [x],
     [np.array([[3.0, 2.0]], np.float32), np.array([[1, 3]], np.int64)])
# Upsample and Resize-10: asymmetric coordinates, nearest rounds down.
x = r(1, 1, 2, 3)
case("upsample9_nearest", 9,
     [N("Upsample", ["x", "scales"], ["y"], mode="nearest")],
     [("x", F, [1, 1, 2, 3])], [("y", F, [1, 1, 4, 6])], [x],
     [x.repeat(2, axis=2).repeat(2, axis=3)],
     [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
case("resize10_nearest", 10,
     [N("Resize", ["x", "scales"], ["y"], mode="nearest")],
     [("x", F, [1, 1, 2, 3])], [("y", F, [1, 1, 4, 6])], [x],
     [x.repeat(2, axis=2).repeat(2, axis=3)],
     [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
# Training-only outputs that nothing reads are dropped.
x = r(2, 3, 2, 2)
sc, b, mean, var = r(3), r(3), r(3), np.abs(r(3)) + 0.5
bn = (x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5) \
    * sc.reshape(1, 3, 1, 1) + b.reshape(1, 3, 1, 1)
case("batchnorm9_unused_outputs", 9,
     [N("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "", "", "sm", "sv"])],
     [("x", F, [2, 3, 2, 2])], [("y", F, [2, 3, 2, 2])], [x], [bn.astype(np.float32)],
     [numpy_helper.from_array(a, n) for a, n in ((sc, "s"), (b, "b"), (mean, "m"), (var, "v"))])
case("dropout10_ratio_attr", 10, [N("Dropout", ["x"], ["y"], ratio=0.3)],
     [("x", F, [2, 3, 2, 2])], [("y", F, [2, 3, 2, 2])], [x], [x])
# Opset 6: a per-channel PRelu slope, and Add broadcasting B at an axis.
x = r(2, 3, 4)
slope = np.abs(r(3))
case("prelu6_per_channel", 6, [N("PRelu", ["x", "slope"], ["y"])],
     [("x", F, [2, 3, 4])], [("y", F, [2, 3, 4])], [x],
     [np.where(x < 0, x * slope.reshape(1, 3, 1), x)],
     [numpy_helper.from_array(slope, "slope")])
bb = r(3)
case("add6_broadcast_axis", 6, [N("Add", ["x", "b"], ["y"], broadcast=1, axis=1)],
     [("x", F, [2, 3, 4]), ("b", F, [3])], [("y", F, [2, 3, 4])], [x, bb],
     [x + bb.reshape(1, 3, 1)])
# Opsets 18-21 read back into the opset-17 form.
x = r(2, 3, 4)
case("reducemean18_axes_input", 18,
     [N("ReduceMean", ["x", "axes"], ["y"], keepdims=1)],
     [("x", F, [2, 3, 4])], [("y", F, [2, 1, 4])], [x], [x.mean(axis=1, keepdims=True)],
     [numpy_helper.from_array(np.array([1], np.int64), "axes")])
x = r(2, 6)
case("split18_num_outputs", 18, [N("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3)],
     [("x", F, [2, 6])], [("a", F, [2, 2]), ("b", F, [2, 2]), ("c", F, [2, 2])], [x],
     [x[:, 0:2], x[:, 2:4], x[:, 4:6]])
x = r(2, 5)
from math import erf
gelu = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / np.sqrt(2.0))))(x.astype(np.float64))
case("gelu20", 20, [N("Gelu", ["x"], ["y"])],
     [("x", F, [2, 5])], [("y", F, [2, 5])], [x], [gelu.astype(np.float32)])
tanh_gelu = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
case("gelu20_tanh", 20, [N("Gelu", ["x"], ["y"], approximate="tanh")],
     [("x", F, [2, 5])], [("y", F, [2, 5])], [x], [tanh_gelu.astype(np.float32)])
case("mish18", 18, [N("Mish", ["x"], ["y"])],
     [("x", F, [2, 5])], [("y", F, [2, 5])], [x],
     [(x * np.tanh(np.log1p(np.exp(x)))).astype(np.float32)])
# Nodes out of order (a graph-surgery tool's output) run as sorted.
x = r(2, 3)
case("unsorted17", 17, [N("Neg", ["a"], ["y"]), N("Relu", ["x"], ["a"])],
     [("x", F, [2, 3])], [("y", F, [2, 3])], [x], [-np.maximum(x, 0)])
# An If whose branch reads an outer value produced by a later node: the If
# is sorted after that node.
then_g = helper.make_graph([N("Neg", ["a"], ["t"])], "then", [],
                           [helper.make_tensor_value_info("t", F, [2, 3])])
else_g = helper.make_graph([N("Identity", ["a"], ["e"])], "else", [],
                           [helper.make_tensor_value_info("e", F, [2, 3])])
case("unsorted17_subgraph", 17,
     [N("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g), N("Relu", ["x"], ["a"])],
     [("x", F, [2, 3])], [("y", F, [2, 3])], [x], [-np.maximum(x, 0)],
     [numpy_helper.from_array(np.array(True), "cond")])
