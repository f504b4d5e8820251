#!/usr/bin/python3
"""Loom's model zoo: real-time generative-AI workloads written the way real
exporters write them (torch.onnx.export / Hugging Face, opset 17, ops
decomposed), with random weights.

  gen_zoo.py OUT_DIR [--size tiny|small] [--only NAME[,NAME...]] [--list]

(without --only: every model --list prints; llama_hf, a decoder for
generation programs, and llama_wide4_decode, llama_wide's shapes with four
layers of f32 weights, only when named)

writes OUT_DIR/<name>/model.onnx and OUT_DIR/<name>/test_data_set_0/
input_<i>.pb (one TensorProto per graph input, in graph order, named as the
input). Weights and inputs come from fixed seeds (numpy default_rng), so
the files are the same on every run. Every model passes
onnx.checker.check_model and strict shape inference (the saved model holds
the inferred value_info, as torch.onnx.export's output does); every input
shape is static, except llama_hf's sequence and cache lengths (a decoder
for generation programs binds them per plan).

What each model is and which exporter forms it contains: bench/models/README.md.
Needs onnx (1.12 or newer) and numpy: run it with /usr/bin/python3.
"""
import argparse
import contextlib
import os
import sys
import time
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
NEG = float(np.finfo(np.float32).min)
INT64_MAX = np.iinfo(np.int64).max


# ---------------------------------------------------------------- builder


class Builder:
    """Builds a graph with torch.onnx.export's naming: a node is named
    /<module scope>/<OpType>[_<n>] (n counts repeats of the op type in the
    scope), its outputs <node name>_output_<i>; parameters keep their
    state_dict names; folded constants (transposed Linear weights, shape
    tensors) are initializers named onnx::<Consumer>_<n>; Python scalars
    are Constant nodes in the scope that uses them."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.scope, self.counts = [], {}
        self.anon = 1000  # torch numbers folded constants after the graph's values
        # Linear weights as int8 initializers behind DequantizeLinear (per
        # output channel), as weight-only quantized exports write them.
        self.int8_weights = False

    # --- scopes and nodes
    @contextlib.contextmanager
    def sc(self, *parts):
        self.scope.extend(parts)
        try:
            yield
        finally:
            del self.scope[len(self.scope) - len(parts):]

    def _node_name(self, op_type):
        base = "/" + "/".join(self.scope + [op_type])
        k = self.counts.get(base, 0)
        self.counts[base] = k + 1
        return base if k == 0 else "%s_%d" % (base, k)

    def op(self, op_type, inputs, n_out=1, **attrs):
        name = self._node_name(op_type)
        outs = ["%s_output_%d" % (name, i) for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=np.float32):
        """A Constant node (how torch exports a Python scalar or a literal)."""
        arr = np.asarray(value, dtype=dtype)
        return self.op("Constant", [], value=numpy_helper.from_array(arr))

    # --- initializers
    def param(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def folded(self, consumer, arr):
        """A constant that torch's constant folding turned into an initializer."""
        self.anon += 1
        return self.param("onnx::%s_%d" % (consumer, self.anon), arr)

    def shape(self, consumer, *dims):
        return self.folded(consumer, np.array(dims, dtype=np.int64))

    # --- random tensors
    def normal(self, *shape, std=0.02):
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def uniform(self, lo, hi, *shape):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    # --- graph interface
    def input(self, name, dtype, shape):
        self.inputs.append(helper.make_tensor_value_info(name, dtype, list(shape)))
        return name

    def output(self, value, name, dtype, shape):
        """Marks `value` as graph output `name` (the producing node's output
        is renamed, as torch names graph outputs)."""
        for node in reversed(self.nodes):
            for i, o in enumerate(node.output):
                if o == value:
                    node.output[i] = name
                    for n in self.nodes:
                        for j, x in enumerate(n.input):
                            if x == value:
                                n.input[j] = name
                    self.outputs.append(helper.make_tensor_value_info(name, dtype, list(shape)))
                    return name
        raise ValueError("no node produces " + value)

    def model(self, infer=True):
        graph = helper.make_graph(self.nodes, "main_graph", self.inputs,
                                  self.outputs, self.inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="loom-gen-zoo", producer_version="1",
            doc_string="%s: random weights, written in torch.onnx.export's "
                       "forms (bench/models/gen_zoo.py)" % self.name)
        model.ir_version = 8
        onnx.checker.check_model(model)
        inferred = onnx.shape_inference.infer_shapes(
            model, check_type=True, strict_mode=True, data_prop=True)
        if infer:
            model = inferred
        return model


# ------------------------------------------------------- exporter patterns


def layer_norm(b, x, hidden, eps, wname, bname):
    """nn.LayerNorm as torch exported it before LayerNormalization (opset < 17)
    and as many opset-17 models still carry it."""
    mean = b.op("ReduceMean", [x], axes=[-1])
    d = b.op("Sub", [x, mean])
    var = b.op("ReduceMean", [b.op("Pow", [d, b.const(2.0)])], axes=[-1])
    den = b.op("Sqrt", [b.op("Add", [var, b.const(eps)])])
    y = b.op("Div", [d, den])
    y = b.op("Mul", [y, b.param(wname, 1.0 + b.normal(hidden, std=0.05))])
    return b.op("Add", [y, b.param(bname, b.normal(hidden))])


def rms_norm(b, x, hidden, eps, wname):
    """LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w; rsqrt is Div(1, Sqrt)."""
    var = b.op("ReduceMean", [b.op("Pow", [x, b.const(2.0)])], axes=[-1])
    r = b.op("Div", [b.const([1.0]), b.op("Sqrt", [b.op("Add", [var, b.const(eps)])])])
    y = b.op("Mul", [x, r])
    return b.op("Mul", [b.param(wname, 1.0 + b.normal(hidden, std=0.05)), y])


def linear(b, x, n_in, n_out, wname=None, bname=None, bias=True, bias_first=True):
    """nn.Linear on a rank-3 input: MatMul by the folded transposed weight
    (onnx::MatMul_N), then Add(bias, y) (torch's operand order)."""
    if b.int8_weights:
        # Integers drawn directly (uniform in [-127, 127]) with scales that
        # give the weights std ~0.02: no float copy of a large matrix.
        q = b.rng.integers(-127, 128, size=(n_in, n_out), dtype=np.int8)
        scale = np.full(n_out, 0.02 * np.sqrt(3.0) / 127.0, np.float32)
        deq = b.op("DequantizeLinear", [b.folded("DequantizeLinear", q),
                                        b.folded("DequantizeLinear", scale),
                                        b.folded("DequantizeLinear", np.zeros(n_out, np.int8))],
                   axis=1)
        y = b.op("MatMul", [x, deq])
    else:
        w = b.normal(n_in, n_out)
        y = b.op("MatMul", [x, b.param(wname, w) if wname else b.folded("MatMul", w)])
    if bias:
        bv = b.param(bname, b.normal(n_out))
        y = b.op("Add", [bv, y] if bias_first else [y, bv])
    return y


def gelu_erf(b, x):
    """F.gelu (approximate='none'): x * 0.5 * (1 + erf(x / sqrt(2)))."""
    e = b.op("Erf", [b.op("Div", [x, b.const(1.4142135381698608)])])
    y = b.op("Mul", [x, b.op("Add", [e, b.const(1.0)])])
    return b.op("Mul", [y, b.const(0.5)])


def gelu_tanh(b, x):
    """GPT-2's NewGELU / F.gelu(approximate='tanh'):
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))."""
    half = b.op("Mul", [x, b.const(0.5)])
    cube = b.op("Pow", [x, b.const(3.0)])
    inner = b.op("Add", [x, b.op("Mul", [cube, b.const(0.044715)])])
    t = b.op("Tanh", [b.op("Mul", [inner, b.const(0.7978845608028654)])])
    return b.op("Mul", [half, b.op("Add", [t, b.const(1.0)])])


def silu(b, x):
    """nn.SiLU / F.silu: x * sigmoid(x)."""
    return b.op("Mul", [x, b.op("Sigmoid", [x])])


def split_heads(b, x, s, h, d, perm=(0, 2, 1, 3)):
    r = b.op("Reshape", [x, b.shape("Reshape", 1, s, h, d)])
    return b.op("Transpose", [r], perm=list(perm))


def merge_heads(b, x, s, hidden):
    t = b.op("Transpose", [x], perm=[0, 2, 1, 3])
    return b.op("Reshape", [t, b.shape("Reshape", 1, s, hidden)])


def causal_mask(s):
    m = np.zeros((1, 1, s, s), dtype=np.float32)
    m[0, 0][np.triu_indices(s, 1)] = NEG
    return m


def mha(b, x, s, hidden, heads, prefix, q_scale=None, k_bias=True):
    """Encoder self-attention as HF exports it (ViT, Whisper): q/k/v Linear,
    heads split by Reshape + Transpose, scores = q @ k^T (k transposed by
    Transpose [0,1,3,2]) scaled (Div by sqrt(D), or q pre-multiplied by
    `q_scale`), Softmax, @ v, heads merged, no mask."""
    d = hidden // heads
    q = linear(b, x, hidden, hidden, None, prefix % "query" + ".bias")
    if q_scale is not None:
        q = b.op("Mul", [q, b.const(q_scale)])
    k = linear(b, x, hidden, hidden, None, prefix % "key" + ".bias", bias=k_bias)
    v = linear(b, x, hidden, hidden, None, prefix % "value" + ".bias")
    q, k, v = (split_heads(b, t, s, heads, d) for t in (q, k, v))
    w = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])])
    if q_scale is None:
        w = b.op("Div", [w, b.const(float(np.sqrt(d)))])
    p = b.op("Softmax", [w], axis=-1)
    return merge_heads(b, b.op("MatMul", [p, v]), s, hidden)


# ------------------------------------------------------------------ models

SIZES = {
    "tiny": dict(
        gpt2=dict(layers=2, hidden=64, heads=4, seq=16, vocab=256),
        decoder=dict(hidden=32, heads=2, seq=16, vocab=256),
        llama=dict(layers=2, hidden=64, heads=8, kv_heads=2, inter=176, seq=16, vocab=256),
        llama_wide=dict(layers=2, hidden=128, heads=8, kv_heads=2, inter=352, seq=16, vocab=256),
        llama_hf=dict(layers=2, hidden=64, heads=8, kv_heads=2, inter=176, vocab=256, max_pos=512),
        whisper=dict(layers=2, hidden=64, heads=4, mels=80, frames=32),
        vit=dict(layers=2, hidden=64, heads=4, image=32, patch=8, classes=100),
        mobilenet=dict(image=32, width=0.5, blocks=6, last=256, classes=100),
        unet=dict(channels=32, hw=8, groups=8, temb=64, heads=2),
    ),
    "small": dict(
        gpt2=dict(layers=6, hidden=384, heads=6, seq=128, vocab=4096),
        decoder=dict(hidden=128, heads=4, seq=64, vocab=2048),
        llama=dict(layers=4, hidden=512, heads=8, kv_heads=2, inter=1024, seq=128, vocab=4096),
        # Realistic width (TinyLlama-1.1B's shapes, 16 of its 22 layers):
        # int8 weights keep the file ~0.8 GB.
        llama_wide=dict(layers=16, hidden=2048, heads=32, kv_heads=4, inter=5632, seq=128,
                        vocab=32000),
        # llama's shapes with the cache in Optimum's layout, for generation
        # programs (RoPE table of 2048 positions, loomc's default context).
        llama_hf=dict(layers=4, hidden=512, heads=8, kv_heads=2, inter=1024, vocab=4096,
                      max_pos=2048),
        whisper=dict(layers=4, hidden=384, heads=6, mels=80, frames=512),
        vit=dict(layers=6, hidden=384, heads=6, image=224, patch=16, classes=1000),
        mobilenet=dict(image=224, width=1.0, blocks=11, last=1024, classes=1000),
        unet=dict(channels=320, hw=32, groups=32, temb=1280, heads=8),
    ),
}


def ids_input(b, name, shape, vocab):
    b.input(name, TensorProto.INT64, shape)
    return b.rng.integers(0, vocab, size=shape, dtype=np.int64)


def gpt2(b, layers, hidden, heads, seq, vocab):
    """GPT-2 prefill (HF GPT2LMHeadModel, no KV cache outputs)."""
    s, d = seq, hidden // heads
    feeds = {"input_ids": ids_input(b, "input_ids", [1, s], vocab)}
    with b.sc("transformer"):
        with b.sc("wte"):
            wte = b.normal(vocab, hidden)
            x = b.op("Gather", [b.param("transformer.wte.weight", wte), "input_ids"])
        with b.sc("wpe"):
            pos = b.const(np.arange(s)[None], dtype=np.int64)
            pe = b.op("Gather", [b.param("transformer.wpe.weight", b.normal(s, hidden, std=0.01)), pos])
        x = b.op("Add", [x, pe])
        mask = b.folded("Add", causal_mask(s))
        for l in range(layers):
            p = "transformer.h.%d." % l
            with b.sc("h.%d" % l):
                with b.sc("ln_1"):
                    h = layer_norm(b, x, hidden, 1e-5, p + "ln_1.weight", p + "ln_1.bias")
                with b.sc("attn"):
                    with b.sc("c_attn"):
                        qkv = linear(b, h, hidden, 3 * hidden, p + "attn.c_attn.weight",
                                     p + "attn.c_attn.bias", bias_first=False)
                    q, k, v = b.op("Split", [qkv, b.const([hidden] * 3, dtype=np.int64)],
                                   n_out=3, axis=2)
                    q = split_heads(b, q, s, heads, d)
                    k = split_heads(b, k, s, heads, d, perm=(0, 2, 3, 1))
                    v = split_heads(b, v, s, heads, d)
                    w = b.op("MatMul", [q, k])
                    w = b.op("Div", [w, b.const(float(np.sqrt(d)))])
                    w = b.op("Add", [w, mask])
                    a = b.op("MatMul", [b.op("Softmax", [w], axis=-1), v])
                    a = merge_heads(b, a, s, hidden)
                    with b.sc("c_proj"):
                        a = linear(b, a, hidden, hidden, p + "attn.c_proj.weight",
                                   p + "attn.c_proj.bias", bias_first=False)
                x = b.op("Add", [a, x])
                with b.sc("ln_2"):
                    h = layer_norm(b, x, hidden, 1e-5, p + "ln_2.weight", p + "ln_2.bias")
                with b.sc("mlp"):
                    with b.sc("c_fc"):
                        h = linear(b, h, hidden, 4 * hidden, p + "mlp.c_fc.weight",
                                   p + "mlp.c_fc.bias", bias_first=False)
                    with b.sc("act"):
                        h = gelu_tanh(b, h)
                    with b.sc("c_proj"):
                        h = linear(b, h, 4 * hidden, hidden, p + "mlp.c_proj.weight",
                                   p + "mlp.c_proj.bias", bias_first=False)
                x = b.op("Add", [x, h])
        with b.sc("ln_f"):
            x = layer_norm(b, x, hidden, 1e-5, "transformer.ln_f.weight", "transformer.ln_f.bias")
    with b.sc("lm_head"):
        # The tied head: torch folds wte's transpose into an initializer.
        logits = b.op("MatMul", [x, b.folded("MatMul", np.ascontiguousarray(wte.T))])
    b.output(logits, "logits", TensorProto.FLOAT, [1, s, vocab])
    return feeds


def rope_tables(d, positions, theta=10000.0):
    inv = 1.0 / (theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
    freqs = np.outer(np.asarray(positions, dtype=np.float64), inv)
    emb = np.concatenate([freqs, freqs], axis=-1)[None]  # [1, S, D]
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


def rotate_half_embed(b, x, cos, sin, d):
    """apply_rotary_pos_emb: x * cos + rotate_half(x) * sin, rotate_half =
    cat(-x[..., D/2:], x[..., :D/2])."""
    one = lambda v: b.const([v], dtype=np.int64)
    x1 = b.op("Slice", [x, one(0), one(d // 2), one(3), one(1)])
    x2 = b.op("Slice", [x, one(d // 2), one(INT64_MAX), one(3), one(1)])
    rot = b.op("Concat", [b.op("Neg", [x2]), x1], axis=-1)
    return b.op("Add", [b.op("Mul", [x, cos]), b.op("Mul", [rot, sin])])


def repeat_kv(b, x, hkv, n_rep, s, d):
    """HF repeat_kv: x[:, :, None].expand(B, Hkv, n_rep, S, D).reshape(B, Hkv*n_rep, S, D)."""
    u = b.op("Unsqueeze", [x, b.const([2], dtype=np.int64)])
    e = b.op("Expand", [u, b.shape("Expand", 1, hkv, n_rep, s, d)])
    return b.op("Reshape", [e, b.shape("Reshape", 1, hkv * n_rep, s, d)])


def llama_mlp_block(b, x, hidden, inter, p):
    """The second half of a LlamaDecoderLayer, after the attention's
    residual: x + mlp(post_attention_layernorm(x)), SwiGLU."""
    with b.sc("post_attention_layernorm"):
        h = rms_norm(b, x, hidden, 1e-5, p + "post_attention_layernorm.weight")
    with b.sc("mlp"):
        with b.sc("gate_proj"):
            g = linear(b, h, hidden, inter, bias=False)
        with b.sc("act_fn"):
            g = silu(b, g)
        with b.sc("up_proj"):
            u = linear(b, h, hidden, inter, bias=False)
        m = b.op("Mul", [g, u])
        with b.sc("down_proj"):
            m = linear(b, m, inter, hidden, bias=False)
    return b.op("Add", [x, m])


def qkv_proj(b, h, hidden, heads, kv_heads, d):
    """A Llama layer's q, k and v projections (no bias), in their scopes."""
    with b.sc("q_proj"):
        q = linear(b, h, hidden, heads * d, bias=False)
    with b.sc("k_proj"):
        k = linear(b, h, hidden, kv_heads * d, bias=False)
    with b.sc("v_proj"):
        v = linear(b, h, hidden, kv_heads * d, bias=False)
    return q, k, v


def llama(b, layers, hidden, heads, kv_heads, inter, seq, vocab, decode):
    """HF LlamaForCausalLM: prefill (input_ids [1, S] -> logits, present k/v)
    or one decode step (input_ids [1, 1] + past k/v [1, Hkv, P, D], P = S - 1,
    -> logits, present k/v [1, Hkv, P + 1, D])."""
    d, n_rep = hidden // heads, heads // kv_heads
    s = 1 if decode else seq
    past = seq - 1
    total = past + 1 if decode else s
    feeds = {"input_ids": ids_input(b, "input_ids", [1, s], vocab)}
    if decode:
        for l in range(layers):
            for kind in ("key", "value"):
                name = "past_%s_%d" % (kind, l)
                b.input(name, TensorProto.FLOAT, [1, kv_heads, past, d])
                feeds[name] = b.rng.standard_normal((1, kv_heads, past, d)).astype(np.float32)
    presents = []
    with b.sc("model"):
        with b.sc("embed_tokens"):
            x = b.op("Gather", [b.param("model.embed_tokens.weight", b.normal(vocab, hidden)), "input_ids"])
        with b.sc("rotary_emb"):
            cos, sin = rope_tables(d, [past] if decode else range(s))
            cos_t, sin_t = b.folded("Unsqueeze", cos), b.folded("Unsqueeze", sin)
        mask = None if decode else b.folded("Add", causal_mask(s))
        for l in range(layers):
            p = "model.layers.%d." % l
            with b.sc("layers.%d" % l):
                with b.sc("input_layernorm"):
                    h = rms_norm(b, x, hidden, 1e-5, p + "input_layernorm.weight")
                with b.sc("self_attn"):
                    q, k, v = qkv_proj(b, h, hidden, heads, kv_heads, d)
                    q = split_heads(b, q, s, heads, d)
                    k = split_heads(b, k, s, kv_heads, d)
                    v = split_heads(b, v, s, kv_heads, d)
                    c = b.op("Unsqueeze", [cos_t, b.const([1], dtype=np.int64)])
                    sn = b.op("Unsqueeze", [sin_t, b.const([1], dtype=np.int64)])
                    q = rotate_half_embed(b, q, c, sn, d)
                    k = rotate_half_embed(b, k, c, sn, d)
                    if decode:
                        k = b.op("Concat", ["past_key_%d" % l, k], axis=2)
                        v = b.op("Concat", ["past_value_%d" % l, v], axis=2)
                    presents += [(k, "present_key_%d" % l), (v, "present_value_%d" % l)]
                    kr = repeat_kv(b, k, kv_heads, n_rep, total, d)
                    vr = repeat_kv(b, v, kv_heads, n_rep, total, d)
                    w = b.op("MatMul", [q, b.op("Transpose", [kr], perm=[0, 1, 3, 2])])
                    w = b.op("Mul", [w, b.const(float(1.0 / np.sqrt(d)))])
                    if mask is not None:
                        w = b.op("Add", [w, mask])
                    a = b.op("MatMul", [b.op("Softmax", [w], axis=-1), vr])
                    a = merge_heads(b, a, s, heads * d)
                    with b.sc("o_proj"):
                        a = linear(b, a, heads * d, hidden, bias=False)
                x = llama_mlp_block(b, b.op("Add", [x, a]), hidden, inter, p)
        with b.sc("norm"):
            x = rms_norm(b, x, hidden, 1e-5, "model.norm.weight")
    with b.sc("lm_head"):
        logits = linear(b, x, hidden, vocab, bias=False)
    b.output(logits, "logits", TensorProto.FLOAT, [1, s, vocab])
    for value, name in presents:
        b.output(value, name, TensorProto.FLOAT, [1, kv_heads, total, d])
    return feeds


def llama_hf(b, layers, hidden, heads, kv_heads, inter, vocab, max_pos):
    """HF LlamaForCausalLM with its KV cache as inputs and outputs, in
    Hugging Face Optimum's decoder layout (what `optimum-cli export onnx`
    writes and `loomc --generate` compiles, docs/generation.md): input_ids
    [1, sequence_length], attention_mask [1, past_sequence_length +
    sequence_length], position_ids [1, sequence_length],
    past_key_values.N.key/value [1, Hkv, past_sequence_length, D] -> logits,
    present.N.key/value. The positions come from position_ids (RoPE tables
    gathered by them) and the mask from attention_mask combined with the
    causal rule over the shapes (transformers' 4-D causal mask), so every
    sequence and past length compiles from the one file. The feeds: a run
    of 4 tokens after 4 cached ones."""
    d, n_rep = hidden // heads, heads // kv_heads
    feed_s, feed_past = 4, 4
    i64 = lambda v: b.const(v, dtype=np.int64)
    b.input("input_ids", TensorProto.INT64, [1, "sequence_length"])
    feeds = {"input_ids": b.rng.integers(0, vocab, size=(1, feed_s), dtype=np.int64)}
    b.input("attention_mask", TensorProto.INT64, [1, "total_sequence_length"])
    feeds["attention_mask"] = np.ones((1, feed_past + feed_s), np.int64)
    b.input("position_ids", TensorProto.INT64, [1, "sequence_length"])
    feeds["position_ids"] = np.arange(feed_past, feed_past + feed_s, dtype=np.int64)[None]
    for l in range(layers):
        for kind in ("key", "value"):
            name = "past_key_values.%d.%s" % (l, kind)
            b.input(name, TensorProto.FLOAT, [1, kv_heads, "past_sequence_length", d])
            feeds[name] = b.rng.standard_normal((1, kv_heads, feed_past, d)).astype(np.float32)
    presents = []
    with b.sc("model"):
        with b.sc("embed_tokens"):
            x = b.op("Gather", [b.param("model.embed_tokens.weight", b.normal(vocab, hidden)),
                                "input_ids"])
        with b.sc("rotary_emb"):
            cos, sin = rope_tables(d, range(max_pos))
            cos_t = b.op("Gather", [b.folded("Gather", cos[0]), "position_ids"])
            sin_t = b.op("Gather", [b.folded("Gather", sin[0]), "position_ids"])
        # Query i (position past + i) sees key j where j <= past + i and the
        # attention mask holds 1 at j: 0 there, the float minimum elsewhere.
        seq = b.op("Squeeze", [b.op("Shape", ["input_ids"], start=1), i64([0])])
        total = b.op("Squeeze", [b.op("Shape", ["attention_mask"], start=1), i64([0])])
        qpos = b.op("Range", [b.op("Sub", [total, seq]), total, i64(1)])
        kpos = b.op("Range", [i64(0), total, i64(1)])
        causal = b.op("LessOrEqual", [b.op("Unsqueeze", [kpos, i64([0])]),
                                      b.op("Unsqueeze", [qpos, i64([1])])])
        padding = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", i64([1, 2])])],
                       to=TensorProto.BOOL)
        allowed = b.op("And", [b.op("Unsqueeze", [causal, i64([0, 1])]), padding])
        mask = b.op("Where", [allowed, b.const(0.0), b.const(NEG)])
        for l in range(layers):
            p = "model.layers.%d." % l
            with b.sc("layers.%d" % l):
                with b.sc("input_layernorm"):
                    h = rms_norm(b, x, hidden, 1e-5, p + "input_layernorm.weight")
                with b.sc("self_attn"):
                    q, k, v = qkv_proj(b, h, hidden, heads, kv_heads, d)
                    # Heads split and merged over the dynamic sequence (-1).
                    q, k, v = (b.op("Transpose", [b.op("Reshape", [t, b.shape("Reshape", 1, -1, n, d)])],
                                    perm=[0, 2, 1, 3])
                               for t, n in ((q, heads), (k, kv_heads), (v, kv_heads)))
                    c = b.op("Unsqueeze", [cos_t, i64([1])])
                    sn = b.op("Unsqueeze", [sin_t, i64([1])])
                    q = rotate_half_embed(b, q, c, sn, d)
                    k = rotate_half_embed(b, k, c, sn, d)
                    k = b.op("Concat", ["past_key_values.%d.key" % l, k], axis=2)
                    v = b.op("Concat", ["past_key_values.%d.value" % l, v], axis=2)
                    presents += [(k, "present.%d.key" % l), (v, "present.%d.value" % l)]
                    # repeat_kv: broadcast a new axis to n_rep, then merge it.
                    kr, vr = (b.op("Reshape", [
                        b.op("Expand", [b.op("Unsqueeze", [t, i64([2])]),
                                        b.shape("Expand", 1, 1, n_rep, 1, 1)]),
                        b.shape("Reshape", 1, heads, -1, d)]) for t in (k, v))
                    w = b.op("MatMul", [q, b.op("Transpose", [kr], perm=[0, 1, 3, 2])])
                    w = b.op("Add", [b.op("Mul", [w, b.const(float(1.0 / np.sqrt(d)))]), mask])
                    a = b.op("MatMul", [b.op("Softmax", [w], axis=-1), vr])
                    a = b.op("Reshape", [b.op("Transpose", [a], perm=[0, 2, 1, 3]),
                                         b.shape("Reshape", 1, -1, heads * d)])
                    with b.sc("o_proj"):
                        a = linear(b, a, heads * d, hidden, bias=False)
                x = llama_mlp_block(b, b.op("Add", [x, a]), hidden, inter, p)
        with b.sc("norm"):
            x = rms_norm(b, x, hidden, 1e-5, "model.norm.weight")
    with b.sc("lm_head"):
        logits = linear(b, x, hidden, vocab, bias=False)
    b.output(logits, "logits", TensorProto.FLOAT, [1, "sequence_length", vocab])
    for value, name in presents:
        b.output(value, name, TensorProto.FLOAT,
                 [1, kv_heads, "total_sequence_length", d])
    return feeds


def whisper_encoder(b, layers, hidden, heads, mels, frames):
    """HF WhisperEncoder (as optimum exports encoder_model.onnx)."""
    t = frames // 2
    b.input("input_features", TensorProto.FLOAT, [1, mels, frames])
    feeds = {"input_features": (b.rng.standard_normal((1, mels, frames)) * 0.5).astype(np.float32)}

    def conv1d(x, cin, stride, name):
        with b.sc(name):
            w = b.normal(hidden, cin, 3, std=float(np.sqrt(1.0 / (cin * 3))))
            return b.op("Conv", [x, b.param(name + ".weight", w), b.param(name + ".bias", b.normal(hidden))],
                        dilations=[1], group=1, kernel_shape=[3], pads=[1, 1], strides=[stride])

    x = gelu_erf(b, conv1d("input_features", mels, 1, "conv1"))
    x = gelu_erf(b, conv1d(x, hidden, 2, "conv2"))
    x = b.op("Transpose", [x], perm=[0, 2, 1])
    x = b.op("Add", [x, b.param("embed_positions.weight", b.normal(t, hidden, std=0.1))])
    for l in range(layers):
        p = "layers.%d." % l
        with b.sc("layers.%d" % l):
            with b.sc("self_attn_layer_norm"):
                h = layer_norm(b, x, hidden, 1e-5, p + "self_attn_layer_norm.weight",
                               p + "self_attn_layer_norm.bias")
            with b.sc("self_attn"):
                d = hidden // heads
                with b.sc("q_proj"):
                    q = linear(b, h, hidden, hidden, None, p + "self_attn.q_proj.bias")
                q = b.op("Mul", [q, b.const(float(d ** -0.5))])
                with b.sc("k_proj"):
                    k = linear(b, h, hidden, hidden, bias=False)
                with b.sc("v_proj"):
                    v = linear(b, h, hidden, hidden, None, p + "self_attn.v_proj.bias")
                q, k, v = (split_heads(b, z, t, heads, d) for z in (q, k, v))
                w = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])])
                a = b.op("MatMul", [b.op("Softmax", [w], axis=-1), v])
                a = merge_heads(b, a, t, hidden)
                with b.sc("out_proj"):
                    a = linear(b, a, hidden, hidden, None, p + "self_attn.out_proj.bias")
            x = b.op("Add", [x, a])
            with b.sc("final_layer_norm"):
                h = layer_norm(b, x, hidden, 1e-5, p + "final_layer_norm.weight",
                               p + "final_layer_norm.bias")
            with b.sc("fc1"):
                h = linear(b, h, hidden, 4 * hidden, None, p + "fc1.bias")
            with b.sc("activation_fn"):
                h = gelu_erf(b, h)
            with b.sc("fc2"):
                h = linear(b, h, 4 * hidden, hidden, None, p + "fc2.bias")
            x = b.op("Add", [x, h])
    with b.sc("layer_norm"):
        x = layer_norm(b, x, hidden, 1e-5, "layer_norm.weight", "layer_norm.bias")
    b.output(x, "last_hidden_state", TensorProto.FLOAT, [1, t, hidden])
    return feeds


def vit(b, layers, hidden, heads, image, patch, classes):
    """HF ViTForImageClassification."""
    n = (image // patch) ** 2 + 1
    b.input("pixel_values", TensorProto.FLOAT, [1, 3, image, image])
    feeds = {"pixel_values": b.rng.standard_normal((1, 3, image, image)).astype(np.float32)}
    with b.sc("vit"):
        with b.sc("embeddings"):
            with b.sc("patch_embeddings"):
                with b.sc("projection"):
                    w = b.normal(hidden, 3, patch, patch, std=float(np.sqrt(1.0 / (3 * patch * patch))))
                    x = b.op("Conv", ["pixel_values",
                                      b.param("vit.embeddings.patch_embeddings.projection.weight", w),
                                      b.param("vit.embeddings.patch_embeddings.projection.bias", b.normal(hidden))],
                             dilations=[1, 1], group=1, kernel_shape=[patch, patch],
                             pads=[0, 0, 0, 0], strides=[patch, patch])
                x = b.op("Reshape", [x, b.shape("Reshape", 1, hidden, -1)])  # flatten(2)
                x = b.op("Transpose", [x], perm=[0, 2, 1])
            x = b.op("Concat", [b.param("vit.embeddings.cls_token", b.normal(1, 1, hidden)), x], axis=1)
            x = b.op("Add", [x, b.param("vit.embeddings.position_embeddings", b.normal(1, n, hidden))])
        with b.sc("encoder"):
            for l in range(layers):
                p = "vit.encoder.layer.%d." % l
                with b.sc("layer.%d" % l):
                    with b.sc("layernorm_before"):
                        h = layer_norm(b, x, hidden, 1e-12, p + "layernorm_before.weight",
                                       p + "layernorm_before.bias")
                    with b.sc("attention"):
                        with b.sc("attention"):
                            a = mha(b, h, n, hidden, heads, p + "attention.attention.%s")
                        with b.sc("output", "dense"):
                            a = linear(b, a, hidden, hidden, None, p + "attention.output.dense.bias")
                    x = b.op("Add", [a, x])
                    with b.sc("layernorm_after"):
                        h = layer_norm(b, x, hidden, 1e-12, p + "layernorm_after.weight",
                                       p + "layernorm_after.bias")
                    with b.sc("intermediate"):
                        with b.sc("dense"):
                            h = linear(b, h, hidden, 4 * hidden, None, p + "intermediate.dense.bias")
                        with b.sc("intermediate_act_fn"):
                            h = gelu_erf(b, h)
                    with b.sc("output"):
                        with b.sc("dense"):
                            h = linear(b, h, 4 * hidden, hidden, None, p + "output.dense.bias")
                        x = b.op("Add", [h, x])
        with b.sc("layernorm"):
            x = layer_norm(b, x, hidden, 1e-12, "vit.layernorm.weight", "vit.layernorm.bias")
    cls = b.op("Gather", [x, b.const(0, dtype=np.int64)], axis=1)
    with b.sc("classifier"):
        y = b.op("Gemm", [cls, b.param("classifier.weight", b.normal(classes, hidden)),
                          b.param("classifier.bias", b.normal(classes))],
                 alpha=1.0, beta=1.0, transB=1)
    b.output(y, "logits", TensorProto.FLOAT, [1, classes])
    return feeds


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# torchvision mobilenet_v3_small: (in, kernel, expanded, out, use_se, activation, stride)
MOBILENET_V3_SMALL = [
    (16, 3, 16, 16, True, "RE", 2),
    (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


def mobilenet(b, image, width, blocks, last, classes):
    """torchvision mobilenet_v3_small, exported with its BatchNormalization
    nodes kept (training=PRESERVE-style export, or a tf2onnx/keras2onnx-like
    exporter) rather than folded into the convolutions."""
    b.input("input", TensorProto.FLOAT, [1, 3, image, image])
    feeds = {"input": b.rng.standard_normal((1, 3, image, image)).astype(np.float32)}
    names = iter(range(10 ** 6))

    def conv_bn(x, prefix, cin, cout, k, stride, groups, act):
        i = next(names)
        with b.sc("features", *prefix):
            w = b.normal(cout, cin // groups, k, k, std=float(np.sqrt(2.0 / (cin // groups * k * k))))
            with b.sc("0"):
                x = b.op("Conv", [x, b.param("features.%d.weight" % i, w)],
                         dilations=[1, 1], group=groups, kernel_shape=[k, k],
                         pads=[(k - 1) // 2] * 4, strides=[stride, stride])
            with b.sc("1"):
                x = b.op("BatchNormalization", [
                    x, b.param("features.%d.bn.weight" % i, b.uniform(0.7, 1.3, cout)),
                    b.param("features.%d.bn.bias" % i, b.normal(cout, std=0.1)),
                    b.param("features.%d.bn.running_mean" % i, b.normal(cout, std=0.1)),
                    b.param("features.%d.bn.running_var" % i, b.uniform(0.8, 1.5, cout))],
                    epsilon=0.001, momentum=0.99)
            with b.sc("2"):
                if act == "HS":
                    x = b.op("HardSwish", [x])
                elif act == "RE":
                    x = b.op("Relu", [x])
        return x

    def se(x, prefix, c):
        sq = make_divisible(c // 4, 8)
        i = next(names)
        with b.sc("features", *prefix):
            s = b.op("GlobalAveragePool", [x])
            with b.sc("fc1"):
                s = b.op("Conv", [s, b.param("se.%d.fc1.weight" % i, b.normal(sq, c, 1, 1, std=float(np.sqrt(2.0 / c)))),
                                  b.param("se.%d.fc1.bias" % i, b.normal(sq, std=0.1))],
                         dilations=[1, 1], group=1, kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1])
            with b.sc("activation"):
                s = b.op("Relu", [s])
            with b.sc("fc2"):
                s = b.op("Conv", [s, b.param("se.%d.fc2.weight" % i, b.normal(c, sq, 1, 1, std=float(np.sqrt(1.0 / sq)))),
                                  b.param("se.%d.fc2.bias" % i, b.normal(c, std=0.1) + 1.0)],
                         dilations=[1, 1], group=1, kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1])
            with b.sc("scale_activation"):
                s = b.op("HardSigmoid", [s], alpha=1.0 / 6, beta=0.5)
            return b.op("Mul", [s, x])

    ch = lambda c: make_divisible(c * width, 8)
    c = ch(16)
    x = conv_bn("input", ["0"], 3, c, 3, 2, 1, "HS")
    size = (image + 1) // 2
    for j, (cin, k, exp, cout, use_se, act, stride) in enumerate(MOBILENET_V3_SMALL[:blocks]):
        cin, exp, cout = ch(cin), ch(exp), ch(cout)
        assert cin == c
        blk = ["%d" % (j + 1), "block"]
        inp = x
        li = 0
        if exp != cin:
            x = conv_bn(x, blk + ["%d" % li], cin, exp, 1, 1, 1, act)
            li += 1
        x = conv_bn(x, blk + ["%d" % li], exp, exp, k, stride, exp, act)
        li += 1
        if use_se:
            x = se(x, blk + ["%d" % li], exp)
            li += 1
        x = conv_bn(x, blk + ["%d" % li], exp, cout, 1, 1, 1, None)
        if stride == 1 and cin == cout:
            with b.sc("features", "%d" % (j + 1)):
                x = b.op("Add", [x, inp])
        c = cout
        size = (size + stride - 1) // stride
    lastconv = 6 * c
    x = conv_bn(x, ["%d" % (blocks + 1)], c, lastconv, 1, 1, 1, "HS")
    with b.sc("avgpool"):
        x = b.op("GlobalAveragePool", [x])
    x = b.op("Flatten", [x], axis=1)
    with b.sc("classifier", "0"):
        x = b.op("Gemm", [x, b.param("classifier.0.weight", b.normal(last, lastconv, std=float(np.sqrt(2.0 / lastconv)))),
                          b.param("classifier.0.bias", b.normal(last))], alpha=1.0, beta=1.0, transB=1)
    with b.sc("classifier", "1"):
        x = b.op("HardSwish", [x])
    with b.sc("classifier", "3"):
        x = b.op("Gemm", [x, b.param("classifier.3.weight", b.normal(classes, last, std=float(np.sqrt(1.0 / last)))),
                          b.param("classifier.3.bias", b.normal(classes))], alpha=1.0, beta=1.0, transB=1)
    b.output(x, "logits", TensorProto.FLOAT, [1, classes])
    return feeds


def group_norm(b, x, c, hw, groups, eps, wname, bname):
    """nn.GroupNorm as torch exports it (opset < 18): Reshape [N, G, -1],
    InstanceNormalization with unit scale and zero bias per group, Reshape
    back, then the affine per channel with [C, 1, 1] parameters."""
    r = b.op("Reshape", [x, b.shape("Reshape", 1, groups, -1)])
    n = b.op("InstanceNormalization", [r, b.const(np.ones(groups)), b.const(np.zeros(groups))],
             epsilon=eps)
    n = b.op("Reshape", [n, b.shape("Reshape", 1, c, hw[0], hw[1])])
    n = b.op("Mul", [n, b.folded("Mul", (1.0 + b.normal(c, std=0.05)).reshape(c, 1, 1))])
    return b.op("Add", [n, b.folded("Add", b.normal(c, std=0.02).reshape(c, 1, 1))])


def conv2d(b, x, name, cin, cout, k, stride=1):
    w = b.normal(cout, cin, k, k, std=float(np.sqrt(1.0 / (cin * k * k))))
    return b.op("Conv", [x, b.param(name + ".weight", w), b.param(name + ".bias", b.normal(cout))],
                dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[k // 2] * 4,
                strides=[stride, stride])


def resnet_block(b, x, temb, p, cin, cout, hw, groups, temb_dim):
    """diffusers ResnetBlock2D."""
    with b.sc("norm1"):
        h = group_norm(b, x, cin, hw, groups, 1e-5, p + "norm1.weight", p + "norm1.bias")
    with b.sc("nonlinearity"):
        h = silu(b, h)
    with b.sc("conv1"):
        h = conv2d(b, h, p + "conv1", cin, cout, 3)
    with b.sc("nonlinearity"):
        t = silu(b, temb)
    with b.sc("time_emb_proj"):
        t = b.op("Gemm", [t, b.param(p + "time_emb_proj.weight", b.normal(cout, temb_dim)),
                          b.param(p + "time_emb_proj.bias", b.normal(cout))],
                 alpha=1.0, beta=1.0, transB=1)
    t = b.op("Unsqueeze", [t, b.const([2], dtype=np.int64)])
    t = b.op("Unsqueeze", [t, b.const([3], dtype=np.int64)])
    h = b.op("Add", [h, t])
    with b.sc("norm2"):
        h = group_norm(b, h, cout, hw, groups, 1e-5, p + "norm2.weight", p + "norm2.bias")
    with b.sc("nonlinearity"):
        h = silu(b, h)
    with b.sc("conv2"):
        h = conv2d(b, h, p + "conv2", cout, cout, 3)
    if cin != cout:
        with b.sc("conv_shortcut"):
            x = conv2d(b, x, p + "conv_shortcut", cin, cout, 1)
    y = b.op("Add", [x, h])
    return b.op("Div", [y, b.const(1.0)])  # output_scale_factor


def spatial_attention(b, x, p, c, hw, groups, heads):
    """diffusers' AttentionBlock (the VAE / SD 1.x spatial self-attention):
    GroupNorm, [N, C, H, W] -> [N, HW, C], q/k/v Linear, scaled attention,
    out projection, back to [N, C, H, W], residual."""
    n, d = hw[0] * hw[1], c // heads
    with b.sc("group_norm"):
        h = group_norm(b, x, c, hw, groups, 1e-6, p + "group_norm.weight", p + "group_norm.bias")
    h = b.op("Reshape", [h, b.shape("Reshape", 1, c, n)])
    h = b.op("Transpose", [h], perm=[0, 2, 1])
    qs = []
    for proj in ("query", "key", "value"):
        with b.sc(proj):
            qs.append(linear(b, h, c, c, None, p + proj + ".bias"))
    q, k, v = (split_heads(b, t, n, heads, d) for t in qs)
    w = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])])
    w = b.op("Mul", [w, b.const(float(1.0 / np.sqrt(d)))])
    a = b.op("MatMul", [b.op("Softmax", [w], axis=-1), v])
    a = merge_heads(b, a, n, c)
    with b.sc("proj_attn"):
        a = linear(b, a, c, c, None, p + "proj_attn.bias")
    a = b.op("Transpose", [a], perm=[0, 2, 1])
    a = b.op("Reshape", [a, b.shape("Reshape", 1, c, hw[0], hw[1])])
    y = b.op("Add", [a, x])
    return b.op("Div", [y, b.const(1.0)])  # rescale_output_factor


def unet_block(b, channels, hw, groups, temb, heads):
    """A Stable-Diffusion up block (diffusers AttnUpBlock2D-like): the skip
    connection concatenated to the hidden states, ResnetBlock2D + attention,
    twice, then Upsample2D (nearest x2 + Conv 3x3)."""
    c, size = channels, (hw, hw)
    shape = [1, c, hw, hw]
    for name in ("hidden_states", "res_hidden_states"):
        b.input(name, TensorProto.FLOAT, shape)
    b.input("temb", TensorProto.FLOAT, [1, temb])
    feeds = {n: b.rng.standard_normal(s).astype(np.float32)
             for n, s in (("hidden_states", shape), ("res_hidden_states", shape), ("temb", (1, temb)))}
    x = b.op("Concat", ["hidden_states", "res_hidden_states"], axis=1)
    cin = 2 * c
    for i in range(2):
        with b.sc("resnets.%d" % i):
            x = resnet_block(b, x, "temb", "resnets.%d." % i, cin, c, size, groups, temb)
        with b.sc("attentions.%d" % i):
            x = spatial_attention(b, x, "attentions.%d." % i, c, size, groups, heads)
        cin = c
    with b.sc("upsamplers.0"):
        x = b.op("Resize", [x, b.const(np.zeros(0)), b.const([1.0, 1.0, 2.0, 2.0])],
                 coordinate_transformation_mode="asymmetric", cubic_coeff_a=-0.75,
                 mode="nearest", nearest_mode="floor")
        with b.sc("conv"):
            x = conv2d(b, x, "upsamplers.0.conv", c, c, 3)
    b.output(x, "sample", TensorProto.FLOAT, [1, c, 2 * hw, 2 * hw])
    return feeds


def synthetic(b, target_ops=100_000, width=64):
    """~target_ops cheap element-wise ops on [1, width]: a ladder of blocks
    x -> relu(0.5 * (x + c_i)) + 0.25 * x, with every 8th block also taking
    a branch from 8 blocks back (x + 0.125 * branch), bounded so the values
    stay O(1). Built directly as NodeProtos: no per-node shape inference."""
    b.input("x", TensorProto.FLOAT, [1, width])
    feeds = {"x": b.rng.standard_normal((1, width)).astype(np.float32)}
    consts = [b.param("c.%d" % i, b.normal(width, std=0.1)) for i in range(16)]
    half = b.param("half", np.full(width, 0.5, np.float32))
    quarter = b.param("quarter", np.full(width, 0.25, np.float32))
    eighth = b.param("eighth", np.full(width, 0.125, np.float32))
    nodes = []
    counter = [0]

    def node(op_type, inputs, scope):
        counter[0] += 1
        name = "/%s/%s_%d" % (scope, op_type, counter[0])
        out = name + "_output_0"
        nodes.append(helper.make_node(op_type, inputs, [out], name=name))
        return out

    x, branch, i = "x", "x", 0
    while len(nodes) < target_ops - 8:
        scope = "blocks.%d" % i
        a = node("Add", [x, consts[i % 16]], scope)
        a = node("Mul", [a, half], scope)
        a = node("Relu", [a], scope)
        y = node("Add", [a, node("Mul", [x, quarter], scope)], scope)
        if i % 8 == 7:
            y = node("Add", [y, node("Mul", [branch, eighth], scope)], scope)
            branch = y
        x, i = y, i + 1
    nodes.append(helper.make_node("Identity", [x], ["y"], name="/Identity"))
    b.nodes = nodes
    b.outputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width]))
    return feeds


def build(name, size):
    cfg = SIZES[size]
    b = Builder(name, zlib.crc32(name.encode()))
    if name == "gpt2":
        feeds = gpt2(b, **cfg["gpt2"])
    elif name.startswith("decoder_L"):
        feeds = gpt2(b, layers=int(name[len("decoder_L"):]), **cfg["decoder"])
    elif name in ("llama_prefill", "llama_decode"):
        feeds = llama(b, decode=name == "llama_decode", **cfg["llama"])
    elif name == "llama_hf":
        feeds = llama_hf(b, **cfg["llama_hf"])
    elif name == "llama_wide_decode":
        b.int8_weights = True
        feeds = llama(b, decode=True, **cfg["llama_wide"])
    elif name == "llama_wide4_decode":
        # llama_wide's shapes with f32 weights and 4 layers (the file stays
        # below protobuf's 2 GB), for modes that quantize float weights.
        feeds = llama(b, decode=True, **dict(cfg["llama_wide"], layers=4))
    elif name == "whisper_encoder":
        feeds = whisper_encoder(b, **cfg["whisper"])
    elif name == "vit":
        feeds = vit(b, **cfg["vit"])
    elif name == "mobilenet":
        feeds = mobilenet(b, **cfg["mobilenet"])
    elif name == "unet_block":
        feeds = unet_block(b, **cfg["unet"])
    elif name == "synthetic_100k":
        feeds = synthetic(b)
    else:
        raise ValueError(name)
    return b.model(), [feeds[i.name] for i in b.inputs], [i.name for i in b.inputs]


MODELS = ["gpt2", "llama_prefill", "llama_decode", "llama_wide_decode", "whisper_encoder",
          "vit", "mobilenet", "unet_block", "decoder_L1", "decoder_L4", "decoder_L16",
          "decoder_L64", "synthetic_100k"]

# Written only when named (--only): their symbolic shapes are bound per plan
# by loomc --generate, so the benchmark's whole-zoo sections (bench/run.py,
# which takes the default list from --list) skip them.
ON_REQUEST = ["llama_hf", "llama_wide4_decode"]

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--only", help="comma-separated model names (default: all)")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(MODELS))
        return
    if not args.out_dir:
        ap.error("OUT_DIR is required")
    names = MODELS
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        bad = [n for n in names if n not in MODELS + ON_REQUEST]
        if bad:
            ap.error("unknown model(s): %s (known: %s)"
                     % (", ".join(bad), ", ".join(MODELS + ON_REQUEST)))
    for name in names:
        t0 = time.time()
        model, values, input_names = build(name, args.size)
        d = os.path.join(args.out_dir, name)
        data = os.path.join(d, "test_data_set_0")
        # Replace only what an earlier run of this script wrote: a folder
        # holding another model is refused, nothing in it touched.
        old = os.path.join(d, "model.onnx")
        if os.path.exists(old):
            try:
                producer = onnx.load(old, load_external_data=False).producer_name
            except Exception:
                producer = None
            if producer != "loom-gen-zoo":
                sys.exit("gen_zoo: %s holds a model this script did not write; "
                         "choose another output folder" % old)
        os.makedirs(data, exist_ok=True)
        for f in os.listdir(data):
            if f.startswith("input_") and f.endswith(".pb") and os.path.exists(old):
                os.remove(os.path.join(data, f))  # this script's own earlier inputs
        onnx.save(model, os.path.join(d, "model.onnx"))
        for i, (n, v) in enumerate(zip(input_names, values)):
            with open(os.path.join(data, "input_%d.pb" % i), "wb") as f:
                f.write(numpy_helper.from_array(v, n).SerializeToString())
        if not args.quiet:
            print("%-16s %7d nodes %8.1f MB  %.1fs" % (
                name, len(model.graph.node),
                os.path.getsize(os.path.join(d, "model.onnx")) / 1e6, time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
