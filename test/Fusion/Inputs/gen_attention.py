#!/usr/bin/python3
"""Writes attention blocks as PyTorch/HF exporters write them (for
attention.test), plus random inputs: OUT_DIR/{gpt2,llama,vit}.onnx and
OUT_DIR/<model>.<input>.pb.

  gpt2:  x [1, 16, 64] -> MatMul + Add (QKV) -> Split -> Reshape [1,16,4,16]
         -> Transpose [0,2,1,3]; K again Transpose [0,1,3,2]; scores / 4
         (sqrt(16)) + constant causal mask [1,1,16,16] (finfo.min above the
         diagonal) -> Softmax -> @ V -> Transpose/Reshape back -> output
         projection.
  llama: x [1, 12, 64] (8 query heads, 2 KV heads, head dim 8, no biases),
         Q/K/V by Slice of one QKV MatMul; K and V repeated as HF's repeat_kv
         (K: Unsqueeze(axes=[2]), V: Reshape to [1,2,1,12,8]; then Expand
         [1,2,4,12,8] and Reshape [1,8,12,8]); scores * 1/sqrt(8); an
         additive mask [1,1,12,12] given as the graph input `mask`.
  vit:   x [1, 17, 64] (4 heads, head dim 16, no mask), Q scaled by 0.25
         before the MatMul (timm), K transposed by Transpose(Reshape(k),
         perm [0,2,3,1]).
Weights and inputs come from a fixed seed."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(11)
NEG = np.finfo(np.float32).min


def rand(*shape, s=0.2):
    return (rng.standard_normal(shape) * s).astype(np.float32)


def i64(*v):
    return np.array(v, dtype=np.int64)


def f32(v):
    return np.array(v, dtype=np.float32)


def causal(s):
    m = np.zeros((1, 1, s, s), dtype=np.float32)
    m[0, 0][np.triu_indices(s, 1)] = NEG
    return m


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], {}, 0

    def init(self, name, value):
        self.inits[name] = value
        return name

    def op(self, op_type, inputs, outputs=1, **attrs):
        self.n += 1
        name = "%s_%d" % (op_type.lower(), self.n)
        outs = ["%s_out%d" % (name, i) for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name,
                                           **attrs))
        return outs[0] if outputs == 1 else outs

    def save(self, model_name, inputs, y, y_shape):
        self.nodes.append(helper.make_node("Identity", [y], ["y"], name="out"))
        graph = helper.make_graph(
            self.nodes, model_name,
            [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape))
             for k, v in inputs.items()],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
            [numpy_helper.from_array(v, k) for k, v in self.inits.items()])
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, model_name + ".onnx"))
        for k, v in inputs.items():
            with open(os.path.join(out, "%s.%s.pb" % (model_name, k)), "wb") as f:
                f.write(numpy_helper.from_array(v, k).SerializeToString())


def heads(g, t, s, h, d, perm=(0, 2, 1, 3)):
    r = g.op("Reshape", [t, g.init("shape_%d" % g.n, i64(1, s, h, d))])
    return g.op("Transpose", [r], perm=list(perm))


def merge_heads(g, t, s, hidden):
    t = g.op("Transpose", [t], perm=[0, 2, 1, 3])
    return g.op("Reshape", [t, g.init("shape_%d" % g.n, i64(1, s, hidden))])


def gpt2():
    g, s, h, d = Graph(), 16, 4, 16
    qkv = g.op("MatMul", ["x", g.init("c_attn.w", rand(64, 192))])
    qkv = g.op("Add", [qkv, g.init("c_attn.b", rand(192))])
    q, k, v = g.op("Split", [qkv, g.init("split", i64(64, 64, 64))],
                   outputs=3, axis=2)
    q, k, v = (heads(g, t, s, h, d) for t in (q, k, v))
    kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
    w = g.op("MatMul", [q, kt])
    w = g.op("Div", [w, g.init("scale", f32(4.0))])
    w = g.op("Add", [w, g.init("causal_mask", causal(s))])
    p = g.op("Softmax", [w], axis=-1)
    a = merge_heads(g, g.op("MatMul", [p, v]), s, h * d)
    y = g.op("MatMul", [a, g.init("c_proj.w", rand(64, 64))])
    y = g.op("Add", [y, g.init("c_proj.b", rand(64))])
    g.save("gpt2", {"x": rand(1, s, 64, s=1.0)}, y, [1, s, 64])


def repeat_kv(g, t, hkv, n, s, d, unsqueeze):
    if unsqueeze:
        u = g.op("Unsqueeze", [t, g.init("axes_%d" % g.n, i64(2))])
    else:
        u = g.op("Reshape", [t, g.init("shape_%d" % g.n, i64(1, hkv, 1, s, d))])
    e = g.op("Expand", [u, g.init("shape_%d" % g.n, i64(1, hkv, n, s, d))])
    return g.op("Reshape", [e, g.init("shape_%d" % g.n, i64(1, hkv * n, s, d))])


def llama():
    g, s, hq, hkv, d = Graph(), 12, 8, 2, 8
    qkv = g.op("MatMul", ["x", g.init("qkv_proj", rand(64, 96))])

    def part(lo, hi):
        return g.op("Slice", [qkv, g.init("starts_%d" % lo, i64(lo)),
                              g.init("ends_%d" % lo, i64(hi)),
                              g.init("axes_slice", i64(2))])
    q = heads(g, part(0, 64), s, hq, d)
    k = heads(g, part(64, 80), s, hkv, d)
    v = heads(g, part(80, 96), s, hkv, d)
    k = repeat_kv(g, k, hkv, hq // hkv, s, d, unsqueeze=True)
    v = repeat_kv(g, v, hkv, hq // hkv, s, d, unsqueeze=False)
    kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
    w = g.op("MatMul", [q, kt])
    w = g.op("Mul", [w, g.init("scaling", f32(1.0 / np.sqrt(d)))])
    w = g.op("Add", [w, "mask"])
    p = g.op("Softmax", [w], axis=-1)
    a = merge_heads(g, g.op("MatMul", [p, v]), s, hq * d)
    y = g.op("MatMul", [a, g.init("o_proj", rand(64, 64))])
    # A causal mask plus padding of the first two keys, as HF builds it.
    mask = causal(s)
    mask[..., :2] = NEG
    mask[..., 0, 0] = 0.0
    mask[..., 1, :2] = 0.0
    g.save("llama", {"x": rand(1, s, 64, s=1.0), "mask": mask}, y, [1, s, 64])


def vit():
    g, s, h, d = Graph(), 17, 4, 16
    q = g.op("MatMul", ["x", g.init("wq", rand(64, 64))])
    k = g.op("MatMul", ["x", g.init("wk", rand(64, 64))])
    v = g.op("MatMul", ["x", g.init("wv", rand(64, 64))])
    q = heads(g, q, s, h, d)
    q = g.op("Mul", [q, g.init("scale", f32(0.25))])
    kt = heads(g, k, s, h, d, perm=(0, 2, 3, 1))
    v = heads(g, v, s, h, d)
    p = g.op("Softmax", [g.op("MatMul", [q, kt])], axis=-1)
    a = merge_heads(g, g.op("MatMul", [p, v]), s, h * d)
    y = g.op("MatMul", [a, g.init("proj", rand(64, 64))])
    g.save("vit", {"x": rand(1, s, 64, s=1.0)}, y, [1, s, 64])


gpt2()
llama()
vit()
