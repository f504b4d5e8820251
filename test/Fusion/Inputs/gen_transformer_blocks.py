#!/usr/bin/python3
"""Writes small transformer / conv blocks in the decomposed forms exporters
emit (opset 17), plus one random input each: OUT_DIR/<name>.onnx and
OUT_DIR/<name>.x.pb. Used by transformer-blocks.test to check that -O1
recomposes the norms and activations and computes what -O0 computes.

  gpt_tanh: LayerNorm (torch export: ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/
            Div/Mul/Add) -> MatMul + bias -> tanh-GELU (torch form,
            x * (x * x)) -> MatMul + bias -> residual Add -> LayerNorm;
            outputs the norm and the residual sum.
  gpt_erf:  the same with erf-GELU as torch exports it (Div by sqrt 2, then
            ((x * (1 + erf)) * 0.5)), LayerNorms with Mul(d, d) and
            Reciprocal + Mul; one output.
  bert_erf: erf-GELU as BERT writes it ((x * 0.5) * (1 + erf(x * 1/sqrt 2))),
            tanh-GELU with Pow(x, 3) and 0.5 first; residual + LayerNorm.
  llama:    RMSNorm (Llama export: Pow/ReduceMean/Add/Sqrt/Div(1, .)/Mul,
            weight * h) -> SwiGLU MLP (x * Sigmoid(x) gate) -> MatMul ->
            residual Add -> RMSNorm (Mul(x, x), Div(x, sqrt), scale last);
            outputs the norm and the residual sum.
  conv:     Conv + bias -> GroupNorm (torch export: Reshape [0, G, -1] /
            InstanceNormalization / Reshape(Shape(x)) / Mul / Add with
            Unsqueezed weights) -> SiLU -> Conv -> HardSwish as
            x * Clip(x + 3, 0, 6) / 6, and HardSigmoid-form HardSwish.
Weights and inputs come from a fixed seed."""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(11)


def rand(*shape, scale=0.2):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


class Graph:
    """Collects nodes and initializers; names nodes after their output."""

    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inits = []
        self.count = 0

    def const(self, value, dtype=np.float32):
        self.count += 1
        name = "%s_c%d" % (self.name, self.count)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, prefix, **attrs):
        self.count += 1
        out_name = "%s_%d" % (prefix, self.count)
        self.nodes.append(helper.make_node(op_type, inputs, [out_name],
                                           name=out_name, **attrs))
        return out_name

    def save(self, x, outputs, shape=None):
        """Every output has `shape` (default: the input's)."""
        shape = list(x.shape) if shape is None else shape
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, shape)
             for o in outputs],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, self.name + ".onnx"))
        with open(os.path.join(out, self.name + ".x.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x).SerializeToString())


def layer_norm(g, x, dim, variant="torch", eps=1e-5):
    mean = g.op("ReduceMean", [x], "ln_mean", axes=[-1])
    d = g.op("Sub", [x, mean], "ln_sub")
    if variant == "torch":
        sq = g.op("Pow", [d, g.const(2.0)], "ln_pow")
    else:
        sq = g.op("Mul", [d, d], "ln_sq")
    var = g.op("ReduceMean", [sq], "ln_var", axes=[-1])
    ve = g.op("Add", [var, g.const(eps)], "ln_add_eps")
    s = g.op("Sqrt", [ve], "ln_sqrt")
    if variant == "torch":
        n = g.op("Div", [d, s], "ln_div")
    else:
        r = g.op("Reciprocal", [s], "ln_recip")
        n = g.op("Mul", [r, d], "ln_norm")
    m = g.op("Mul", [n, g.const(1.0 + rand(dim))], "ln_scale")
    return g.op("Add", [m, g.const(rand(dim))], "ln_bias")


def linear(g, x, k, n, bias=True):
    y = g.op("MatMul", [x, g.const(rand(k, n))], "mm")
    if bias:
        y = g.op("Add", [y, g.const(rand(n))], "bias")
    return y


def gelu_tanh_torch(g, x):
    sq = g.op("Mul", [x, x], "gelu_sq")
    cube = g.op("Mul", [x, sq], "gelu_cube")
    k = g.op("Mul", [g.const(0.044715), cube], "gelu_kappa")
    inner = g.op("Add", [x, k], "gelu_inner")
    s = g.op("Mul", [g.const(math.sqrt(2 / math.pi)), inner], "gelu_beta")
    t = g.op("Tanh", [s], "gelu_tanh")
    a = g.op("Add", [g.const(1.0), t], "gelu_one")
    m = g.op("Mul", [x, a], "gelu_mul")
    return g.op("Mul", [g.const(0.5), m], "gelu_half")


def gelu_tanh_pow(g, x):
    cube = g.op("Pow", [x, g.const(3.0)], "gelu_pow")
    k = g.op("Mul", [cube, g.const(0.044715)], "gelu_kappa")
    inner = g.op("Add", [k, x], "gelu_inner")
    s = g.op("Mul", [inner, g.const(math.sqrt(2 / math.pi))], "gelu_beta")
    t = g.op("Tanh", [s], "gelu_tanh")
    a = g.op("Add", [t, g.const(1.0)], "gelu_one")
    h = g.op("Mul", [g.const(0.5), x], "gelu_half")
    return g.op("Mul", [h, a], "gelu_mul")


def gelu_erf_torch(g, x):
    d = g.op("Div", [x, g.const(1.4142135623730951)], "gelu_div")
    e = g.op("Erf", [d], "gelu_erf")
    a = g.op("Add", [e, g.const(1.0)], "gelu_one")
    m = g.op("Mul", [x, a], "gelu_mul")
    return g.op("Mul", [m, g.const(0.5)], "gelu_half")


def gelu_erf_bert(g, x):
    h = g.op("Mul", [x, g.const(0.5)], "gelu_half")
    d = g.op("Mul", [x, g.const(0.7071067811865476)], "gelu_scale")
    e = g.op("Erf", [d], "gelu_erf")
    a = g.op("Add", [g.const(1.0), e], "gelu_one")
    return g.op("Mul", [h, a], "gelu_mul")


def gpt(name, gelu, variant, outputs_sum):
    dim, hidden = 32, 64
    g = Graph(name)
    h = layer_norm(g, "x", dim, variant)
    h = linear(g, h, dim, hidden)
    h = gelu(g, h)
    h = linear(g, h, hidden, dim)
    res = g.op("Add", ["x", h], "residual")
    y = layer_norm(g, res, dim, variant)
    g.save(rand(2, 8, dim, scale=1.0), [y, res] if outputs_sum else [y])


def bert():
    dim, hidden = 32, 48
    g = Graph("bert_erf")
    h = linear(g, "x", dim, hidden)
    h = gelu_erf_bert(g, h)
    h = linear(g, h, hidden, hidden)
    h = gelu_tanh_pow(g, h)
    h = linear(g, h, hidden, dim)
    res = g.op("Add", [h, "x"], "residual")
    y = layer_norm(g, res, dim, "torch", eps=1e-12)
    g.save(rand(1, 8, dim, scale=1.0), [y])


def rms_norm_llama(g, x, dim, eps=1e-6):
    sq = g.op("Pow", [x, g.const(2.0)], "rms_pow")
    var = g.op("ReduceMean", [sq], "rms_mean", axes=[-1])
    ve = g.op("Add", [var, g.const(eps)], "rms_add_eps")
    s = g.op("Sqrt", [ve], "rms_sqrt")
    r = g.op("Div", [g.const([1.0]), s], "rms_rsqrt")
    n = g.op("Mul", [x, r], "rms_norm")
    return g.op("Mul", [g.const(1.0 + rand(dim)), n], "rms_weight")


def rms_norm_div(g, x, dim, eps=1e-5):
    sq = g.op("Mul", [x, x], "rms_sq")
    var = g.op("ReduceMean", [sq], "rms_mean", axes=[-1])
    ve = g.op("Add", [g.const(eps), var], "rms_add_eps")
    s = g.op("Sqrt", [ve], "rms_sqrt")
    n = g.op("Div", [x, s], "rms_div")
    return g.op("Mul", [n, g.const(1.0 + rand(dim))], "rms_weight")


def llama():
    dim, hidden = 32, 80
    g = Graph("llama")
    h = rms_norm_llama(g, "x", dim)
    gate = linear(g, h, dim, hidden, bias=False)
    sig = g.op("Sigmoid", [gate], "mlp_sigmoid")
    silu = g.op("Mul", [gate, sig], "mlp_silu")
    up = linear(g, h, dim, hidden, bias=False)
    prod = g.op("Mul", [silu, up], "mlp_gate_up")
    down = linear(g, prod, hidden, dim, bias=False)
    res = g.op("Add", ["x", down], "residual")
    y = rms_norm_div(g, res, dim)
    g.save(rand(1, 8, dim, scale=1.0), [y, res])


def group_norm_torch(g, x, channels, groups, eps=1e-5):
    r = g.op("Reshape", [x, g.const([0, groups, -1], np.int64)], "gn_reshape")
    i = g.op("InstanceNormalization",
             [r, g.const(np.ones(groups)), g.const(np.zeros(groups))],
             "gn_instance_norm", epsilon=eps)
    shape = g.op("Shape", [x], "gn_shape")
    back = g.op("Reshape", [i, shape], "gn_reshape_back")
    axes = g.const([1, 2], np.int64)
    w = g.op("Unsqueeze", [g.const(1.0 + rand(channels)), axes], "gn_weight")
    b = g.op("Unsqueeze", [g.const(rand(channels)), axes], "gn_bias_w")
    m = g.op("Mul", [back, w], "gn_scale")
    return g.op("Add", [m, b], "gn_bias")


def conv():
    cin, c = 8, 16
    g = Graph("conv")
    h = g.op("Conv", ["x", g.const(rand(c, cin, 3, 3)), g.const(rand(c))],
             "conv", pads=[1, 1, 1, 1])
    h = group_norm_torch(g, h, c, 4)
    sig = g.op("Sigmoid", [h], "silu_sigmoid")
    h = g.op("Mul", [h, sig], "silu")
    h = g.op("Conv", [h, g.const(rand(c, c, 3, 3)), g.const(rand(c))],
             "conv", pads=[1, 1, 1, 1])
    a = g.op("Add", [h, g.const(3.0)], "hswish_add")
    cl = g.op("Clip", [a, g.const(0.0), g.const(6.0)], "hswish_clip")
    m = g.op("Mul", [h, cl], "hswish_mul")
    h = g.op("Div", [m, g.const(6.0)], "hswish_div")
    h = group_norm_torch(g, h, c, 2)
    hs = g.op("HardSigmoid", [h], "hswish2_hsig", alpha=1.0 / 6, beta=0.5)
    y = g.op("Mul", [hs, h], "hswish2_mul")
    g.save(rand(1, cin, 6, 6, scale=1.0), [y], [1, c, 6, 6])


gpt("gpt_tanh", gelu_tanh_torch, "torch", True)
gpt("gpt_erf", gelu_erf_torch, "recip", False)
bert()
llama()
conv()
