"""Decoders in the layout Hugging Face exports use (the corpus's LLM half).

`torch.onnx.export` of PyTorch-written GPT-2- and Llama-style modules with the
names and axes of Hugging Face Optimum's ONNX exports:

  inputs   input_ids [batch_size, sequence_length],
           attention_mask [batch_size, past_sequence_length + sequence_length],
           position_ids [batch_size, sequence_length],
           past_key_values.N.key / .value [batch_size, heads, past_sequence_length, head]
  outputs  logits, present.N.key / .value

The padding mask comes from attention_mask, the causal mask from the shapes
(as transformers builds it), positions from position_ids (learned position
embeddings for GPT-2, a RoPE cos/sin table gathered by position for Llama),
GQA with repeat_kv, RMSNorm and SwiGLU for Llama.

Most are small (width 128, 2 layers, 512 tokens, 1024 positions); the
`_wide` ones have realistic widths and 2048 positions.

`merged(...)` writes Optimum's merged decoder: one model whose If on the
input `use_cache_branch` selects the decoder with past (then) or the one
without (else), with the weights stored once.
"""
import io
import math

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

import torch_models


def _allowed(attention_mask, s, t):
    """[batch, 1, s, t] bool: causal (the new tokens are the last s of t) and
    not padding."""
    causal = torch.ones(t, t, dtype=torch.bool).tril()[t - s:, :]
    return causal[None, None] & attention_mask[:, None, None, :].bool()


class GPT2Block(torch_models.GPT2Block):
    """torch_models' block with the mask computed once by the model (causal
    and padding) instead of from the shapes alone."""

    def forward(self, x, allowed, past_k, past_v):
        b, s, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, s, self.h, self.hd).transpose(1, 2)
        k = torch.cat([past_k, k.view(b, s, self.h, self.hd).transpose(1, 2)], dim=-2)
        v = torch.cat([past_v, v.view(b, s, self.h, self.hd).transpose(1, 2)], dim=-2)
        a = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        a = torch.where(allowed, a, torch.tensor(torch.finfo(a.dtype).min))
        o = torch.matmul(F.softmax(a, dim=-1), v).transpose(1, 2).contiguous().view(b, s, d)
        x = x + self.c_proj(o)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class GPT2(nn.Module):
    def __init__(self, vocab=512, d=128, h=4, layers=2, n_pos=1024):
        super().__init__()
        self.heads, self.hd, self.num_layers, self.vocab = h, d // h, layers, vocab
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(n_pos, d)
        self.h = nn.ModuleList([GPT2Block(d, h) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        s = input_ids.shape[1]
        allowed = _allowed(attention_mask, s, attention_mask.shape[1])
        x = self.wte(input_ids) + self.wpe(position_ids)
        presents = []
        for i, blk in enumerate(self.h):
            x, k, v = blk(x, allowed, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (torch.matmul(self.ln_f(x), self.wte.weight.t()),) + tuple(presents)


class Llama(nn.Module):
    def __init__(self, vocab=512, d=128, hq=8, hkv=2, ffn=344, layers=2, max_pos=1024):
        super().__init__()
        self.heads, self.hd, self.num_layers, self.vocab = hkv, d // hq, layers, vocab
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([torch_models.LlamaLayer(d, hq, hkv, ffn) for _ in range(layers)])
        self.norm = torch_models.RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        inv = 1.0 / (10000 ** (torch.arange(0, self.hd, 2).float() / self.hd))
        emb = torch.cat([torch.outer(torch.arange(max_pos).float(), inv)] * 2, dim=-1)
        self.register_buffer("cos_cached", emb.cos())
        self.register_buffer("sin_cached", emb.sin())

    def forward(self, input_ids, attention_mask, position_ids, *past):
        s = input_ids.shape[1]
        cos = self.cos_cached[position_ids][:, None]   # transformers' rotary cache
        sin = self.sin_cached[position_ids][:, None]
        allowed = _allowed(attention_mask, s, attention_mask.shape[1])
        mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, (k, v) = layer(x, cos, sin, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.norm(x)),) + tuple(presents)


class NoPast(nn.Module):
    """The decoder without past inputs (Optimum's decoder_model): the first
    step of generation, an empty cache."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids):
        b = input_ids.shape[0]
        empty = torch.zeros(b, self.m.heads, 0, self.m.hd)
        return self.m(input_ids, attention_mask, position_ids, *([empty] * (2 * self.m.num_layers)))


KINDS = {"gpt2": GPT2, "llama": Llama}


def names(layers, with_past=True):
    ins = ["input_ids", "attention_mask", "position_ids"]
    if with_past:
        ins += ["past_key_values.%d.%s" % (i, kv) for i in range(layers) for kv in ("key", "value")]
    outs = ["logits"] + ["present.%d.%s" % (i, kv) for i in range(layers) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in ins[3:]:
        axes[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in outs[1:]:
        axes[n] = {0: "batch_size", 2: "total_sequence_length"}
    return ins, outs, axes


def example(m, seq, past_len, left_pad=0):
    """Inputs of one step: random ids, a cache of past_len, positions after it,
    and an attention mask whose first left_pad positions are padding."""
    ids = torch.randint(0, m.vocab, (1, seq), dtype=torch.int64)
    mask = torch.ones(1, past_len + seq, dtype=torch.int64)
    mask[:, :left_pad] = 0
    pos = torch.arange(past_len - left_pad, past_len - left_pad + seq, dtype=torch.int64)[None]
    past = tuple(torch.randn(1, m.heads, past_len, m.hd) for _ in range(2 * m.num_layers))
    return (ids, mask, pos) + past


def spec(kind, seq, past_len, opsets, fast=(), left_pad=0, layers=2, **dims):
    def make():
        m = KINDS[kind](layers=layers, **dims).eval()
        return m, example(m, seq, past_len, left_pad)
    i, o, a = names(layers)
    return torch_models.Spec(make, opsets, fast, input_names=i, output_names=o,
                             dynamic_axes=a, calibrate=False)


def _export(module, inputs, opset, ins, outs, axes):
    buf = io.BytesIO()
    torch.onnx.export(module, inputs, buf, opset_version=opset, do_constant_folding=True,
                      input_names=ins, output_names=outs, dynamic_axes=axes)
    return onnx.load_from_string(buf.getvalue())


def merged(kind, opset, seed, seq=1, past_len=12, layers=2):
    """Optimum's merged decoder: If(use_cache_branch) over the decoder with
    past (then) and without (else); returns the model and its input arrays
    (use_cache_branch true, a cache of past_len)."""
    torch.manual_seed(seed)
    m = KINDS[kind](layers=layers).eval()
    inputs = example(m, seq, past_len)
    ins, outs, axes = names(layers)
    with_past = _export(m, inputs, opset, ins, outs, axes)
    i0, _, a0 = names(layers, with_past=False)
    first = example(m, seq, 0)[:3]  # the first step: no cache yet
    no_past = _export(NoPast(m), first, opset, i0, outs,
                      {k: v for k, v in a0.items() if k in i0 + outs})
    # Weights once: every initializer of both exports at the top level, by
    # value (the two exports name the same tensor alike or not at all).
    inits, by_bytes, rename = [], {}, [{}, {}]
    for g, graph in enumerate((with_past.graph, no_past.graph)):
        for t in graph.initializer:
            key = (t.data_type, tuple(t.dims), numpy_helper.to_array(t).tobytes())
            if key not in by_bytes:
                name = t.name if g == 0 else "nopast/" + t.name
                by_bytes[key] = name
                c = onnx.TensorProto()
                c.CopyFrom(t)
                c.name = name
                inits.append(c)
            rename[g][t.name] = by_bytes[key]

    def branch(graph, g, prefix):
        inner = {o for n in graph.node for o in n.output}
        def r(x):
            if x in rename[g]:
                return rename[g][x]
            if x in inner:
                return prefix + x
            return x  # a graph input: the outer model's, by name
        nodes = []
        for n in graph.node:
            c = onnx.NodeProto()
            c.CopyFrom(n)
            del c.input[:]
            del c.output[:]
            c.input.extend(r(x) if x else x for x in n.input)
            c.output.extend(r(x) for x in n.output)
            c.name = prefix + n.name
            nodes.append(c)
        bouts = []
        for o in graph.output:
            v = onnx.ValueInfoProto()
            v.CopyFrom(o)
            v.name = r(o.name) if o.name in inner else o.name
            bouts.append(v)
        return helper.make_graph(nodes, prefix.strip("/"), [], bouts)

    # A branch output must be a value its branch computes: outputs that are
    # graph inputs get an Identity (there are none in these exports).
    then_g = branch(with_past.graph, 0, "with_past/")
    else_g = branch(no_past.graph, 1, "no_past/")
    node = helper.make_node("If", ["use_cache_branch"], outs, name="optimum::if",
                            then_branch=then_g, else_branch=else_g)
    graph_inputs = list(with_past.graph.input[:len(ins)])
    graph_inputs.append(helper.make_tensor_value_info("use_cache_branch", onnx.TensorProto.BOOL, [1]))
    graph = helper.make_graph([node], "merged_decoder", graph_inputs,
                              list(with_past.graph.output), inits)
    model = helper.make_model(graph, opset_imports=list(with_past.opset_import),
                              producer_name="pytorch")
    arrays = [t.detach().numpy() for t in inputs] + [np.array([True])]
    return model, arrays


def merged_spec(kind, opsets, fast=()):
    return torch_models.Spec(None, opsets, fast, calibrate=False,
                             export=lambda opset, seed: merged(kind, opset, seed),
                             loomc_args=["--const-input", "use_cache_branch=true"])


HF_MODELS = {
    # a prompt chunk of 4 after a cache of 12, the first 2 positions padding
    "gpt2_hf": spec("gpt2", 4, 12, [14, 17], fast=[17], left_pad=2),
    "llama_hf": spec("llama", 4, 12, [14, 17], fast=[17], left_pad=2),
    # one decode step
    "llama_hf_step": spec("llama", 1, 15, [17]),
    # realistic widths (GPT-2 small's 768, 12 heads; a Llama of 768 with GQA
    # 12/4 and SwiGLU 2048), 4 layers and 2048 positions: the generation
    # benchmark's long contexts (bench/llm)
    "gpt2_hf_wide": spec("gpt2", 4, 12, [17], layers=4, d=768, h=12, n_pos=2048,
                         vocab=8192),
    "llama_hf_wide": spec("llama", 4, 12, [17], layers=4, d=768, hq=12, hkv=4, ffn=2048,
                          max_pos=2048, vocab=8192),
    # Optimum's merged decoder, compiled for the step with a cache
    "gpt2_hf_merged": merged_spec("gpt2", [17]),
    "llama_hf_merged": merged_spec("llama", [14, 17], fast=[17]),
}
