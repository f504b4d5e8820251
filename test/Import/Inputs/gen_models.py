#!/usr/bin/python3
"""Writes exporter-style ONNX models for the import tests (fixed seeds).

  cnn     a CNN with dynamic batch and spatial dims (N, 3, H, W)
  gpt     a GPT-style decoder block whose reshapes are computed with
          Shape/Gather/Unsqueeze/Concat, as PyTorch's exporter writes them
  if      a model whose If condition is a graph input (`use_relu`)
"""
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
def W(name, *shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)
def I(name, vals):
    return numpy_helper.from_array(np.array(vals, np.int64), name)
N = helper.make_node

def cnn():
    nodes = [N("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[2, 2]),
             N("Relu", ["c1"], ["r1"], name="relu1"),
             N("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
             N("Resize", ["c2", "", "scales"], ["up"], name="upsample", mode="nearest"),
             N("GlobalAveragePool", ["up"], ["y"], name="pool")]
    g = helper.make_graph(nodes, "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 1, 1])],
        [W("w1", 8, 3, 3, 3), W("b1", 8), W("w2", 4, 8, 3, 3),
         numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
    return g

def gpt():
    # x: [batch, seq, 64] -> q/k/v split into 4 heads with computed shapes.
    E, H = 64, 4
    nodes, inits = [], [W("wq", E, E), W("wk", E, E), W("wv", E, E), W("wo", E, E),
                        I("i0", 0), I("i1", 1), I("ax0", [0]), I("heads", [H]), I("hd", [E // H]),
                        I("e", [E]), numpy_helper.from_array(np.array(np.sqrt(E // H), np.float32), "scale")]
    nodes.append(N("Shape", ["x"], ["xs"], name="shape_x"))
    nodes.append(N("Gather", ["xs", "i0"], ["b"], name="gather_b", axis=0))
    nodes.append(N("Gather", ["xs", "i1"], ["s"], name="gather_s", axis=0))
    nodes.append(N("Unsqueeze", ["b", "ax0"], ["b1"], name="unsq_b"))
    nodes.append(N("Unsqueeze", ["s", "ax0"], ["s1"], name="unsq_s"))
    nodes.append(N("Concat", ["b1", "s1", "heads", "hd"], ["hshape"], name="concat_heads", axis=0))
    for t in "qkv":
        nodes.append(N("MatMul", ["x", "w" + t], [t], name="proj_" + t))
        nodes.append(N("Reshape", [t, "hshape"], [t + "r"], name="reshape_" + t))
        perm = [0, 2, 3, 1] if t == "k" else [0, 2, 1, 3]
        nodes.append(N("Transpose", [t + "r"], [t + "t"], name="transpose_" + t, perm=perm))
    nodes += [N("MatMul", ["qt", "kt"], ["att"], name="qk"),
              N("Div", ["att", "scale"], ["atts"], name="scale"),
              N("Softmax", ["atts"], ["p"], name="softmax", axis=-1),
              N("MatMul", ["p", "vt"], ["o"], name="pv"),
              N("Transpose", ["o"], ["ot"], name="transpose_o", perm=[0, 2, 1, 3]),
              N("Concat", ["b1", "s1", "e"], ["oshape"], name="concat_out", axis=0),
              N("Reshape", ["ot", "oshape"], ["or"], name="reshape_o"),
              N("MatMul", ["or", "wo"], ["y"], name="proj_o")]
    return helper.make_graph(nodes, "gpt_block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", E])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", E])], inits)

def if_model():
    then_g = helper.make_graph([N("Relu", ["x"], ["t"], name="then_relu")], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2, 3])])
    else_g = helper.make_graph([N("Neg", ["x"], ["e"], name="else_neg")], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 3])])
    nodes = [N("If", ["use_relu"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)]
    return helper.make_graph(nodes, "if_model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("use_relu", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])

graphs = {"cnn": cnn, "gpt": gpt, "if": if_model}
kind, out = sys.argv[1], sys.argv[2]
m = helper.make_model(graphs[kind](), opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
onnx.checker.check_model(m)
onnx.save(m, out)
