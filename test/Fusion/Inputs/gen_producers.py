#!/usr/bin/python3
"""Writes the end-to-end models of the producer folds and epilogues
(producers.test), each with a random input: OUT_DIR/NAME.onnx and
OUT_DIR/NAME.x.pb.

  convnet: Conv(bias) -> BatchNormalization -> Relu,
           Conv(no bias) -> Add([C,1,1]) -> HardSwish,
           Conv(bias) -> Clip(0, 6)
  mlp:     MatMul -> Add(bias [N]) -> Relu,
           Gemm(transB = 1, C) -> Sigmoid,
           MatMul(x, Transpose(W)) -> Tanh (W large enough not to be folded)
  convt:   ConvTranspose(group 2, stride 2, no bias) -> BatchNormalization
           -> LeakyRelu(0.1)
  scaled:  Conv -> Mul([1,C,1,1]) -> Add([C,1,1]), Gemm -> Mul([N]) -> Add([1,N])
           (folded by loom-fold-constant-arith)

Weights and inputs come from a fixed seed; BatchNormalization runs in
inference mode (its training outputs absent), as exporters write it."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(11)


def rand(*shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def bn_params(prefix, c):
    return {prefix + "_scale": rand(c, scale=0.5) + 1.0,
            prefix + "_b": rand(c),
            prefix + "_mean": rand(c),
            prefix + "_var": np.abs(rand(c)) + 0.5}


def bn(prefix, x, y):
    return helper.make_node(
        "BatchNormalization",
        [x, prefix + "_scale", prefix + "_b", prefix + "_mean", prefix + "_var"],
        [y], name=prefix, epsilon=1e-5)


def save(name, nodes, x, inits, y_shape):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name + ".onnx"))
    with open(os.path.join(out, name + ".x.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x).SerializeToString())


# The conv net.
inits = {"w1": rand(8, 3, 3, 3), "b1": rand(8), "w2": rand(8, 8, 3, 3),
         "c2": rand(8, 1, 1), "w3": rand(4, 8, 1, 1), "b3": rand(4),
         "lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)}
inits.update(bn_params("bn1", 8))
save("convnet", [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1",
                     pads=[1, 1, 1, 1]),
    bn("bn1", "c1", "n1"),
    helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
    helper.make_node("Conv", ["r1", "w2"], ["c2o"], name="conv2",
                     pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node("Add", ["c2o", "c2"], ["a2"], name="bias2"),
    helper.make_node("HardSwish", ["a2"], ["h2"], name="hswish2"),
    helper.make_node("Conv", ["h2", "w3", "b3"], ["c3"], name="conv3"),
    helper.make_node("Clip", ["c3", "lo", "hi"], ["y"], name="relu6"),
], rand(1, 3, 8, 8, scale=1.0), inits, [1, 4, 4, 4])

# The MLP.
save("mlp", [
    helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1"),
    helper.make_node("Add", ["m1", "b1"], ["a1"], name="fc1_bias"),
    helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
    helper.make_node("Gemm", ["r1", "w2", "b2"], ["g2"], name="fc2", transB=1),
    helper.make_node("Sigmoid", ["g2"], ["s2"], name="sigmoid2"),
    helper.make_node("Transpose", ["w3"], ["w3t"], name="w3_t", perm=[1, 0]),
    helper.make_node("MatMul", ["s2", "w3t"], ["m3"], name="fc3"),
    helper.make_node("Tanh", ["m3"], ["y"], name="tanh3"),
], rand(4, 16, scale=1.0),
    {"w1": rand(16, 32), "b1": rand(32), "w2": rand(256, 32), "b2": rand(256),
     "w3": rand(300, 256, scale=0.1)}, [4, 300])

# ConvTranspose -> BatchNormalization -> LeakyRelu.
inits = {"wt": rand(4, 3, 3, 3)}
inits.update(bn_params("bnt", 6))
save("convt", [
    helper.make_node("ConvTranspose", ["x", "wt"], ["t"], name="deconv",
                     group=2, strides=[2, 2]),
    bn("bnt", "t", "n"),
    helper.make_node("LeakyRelu", ["n"], ["y"], name="leaky", alpha=0.1),
], rand(1, 4, 5, 5, scale=1.0), inits, [1, 6, 11, 11])

# Constant Mul/Add folded into the producers.
save("scaled", [
    helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    helper.make_node("Mul", ["cs", "c"], ["cm"], name="conv_scale"),
    helper.make_node("Add", ["cm", "cb"], ["ca"], name="conv_shift"),
    helper.make_node("Flatten", ["ca"], ["f"], name="flatten"),
    helper.make_node("Gemm", ["f", "g"], ["gm"], name="gemm"),
    helper.make_node("Mul", ["gm", "gs"], ["gms"], name="gemm_scale"),
    helper.make_node("Add", ["gb", "gms"], ["y"], name="gemm_shift"),
], rand(2, 3, 6, 6, scale=1.0),
    {"w": rand(5, 3, 3, 3), "cs": rand(1, 5, 1, 1) + 1.0, "cb": rand(5, 1, 1),
     "g": rand(180, 10, scale=0.1), "gs": rand(10) + 1.0, "gb": rand(1, 10)},
    [2, 10])
