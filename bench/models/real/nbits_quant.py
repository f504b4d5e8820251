#!/usr/bin/python3
"""ONNX Runtime's 4-bit weight format (MatMulNBits) without ONNX Runtime's
Python package: rewrites a float model the way
`onnxruntime.quantization.matmul_4bits_quantizer.MatMul4BitsQuantizer`
(its default round-to-nearest algorithm) and onnxruntime-genai's model
builder write int4 LLMs, so that the real-model corpus has int4 versions of
its decoders.

  nbits_quant.py IN.onnx OUT.onnx [--block-size 32] [--symmetric]
  (build.py's *_int4 models use quantize())

What is written:

  - each MatMul whose B is a 2-D float initializer W [K, N] becomes
    MatMulNBits(A, W_Q4, W_scales[, W_zero_points]) (domain com.microsoft,
    node `<name>_Q4`, attributes K, N, bits 4, block_size), the float W
    dropped when nothing else reads it; other MatMuls stay;
  - per column n and block of `block_size` rows along K (the last block of a
    K that is not a multiple zero-padded): asymmetric (the default): rmin =
    min(block, 0), rmax = max(block, 0), scale = (rmax - rmin) / 15, zero
    point = clip(round(-rmin / scale), 0, 15); symmetric: scale = the value
    of largest magnitude / -8, zero point 8 (not stored); a block of zeros
    has scale 1; code = clip(round(w / scale) + zero point, 0, 15);
  - B: uint8 [N, k_blocks, block_size / 2], two codes per byte, the lower k
    in the low nibble; scales: float [N * k_blocks]; zero points: uint8
    [N * ceil(k_blocks / 2)], packed the same way per column;
  - the opset import of com.microsoft version 1.

Deterministic: no randomness.
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

import dynamic_quant

# The corpus models build.py also writes in this form, as <arch>_int4_op<opset>
# (hf_decoders.py's decoders, exported as for <arch>_op<opset>).
NBITS_MODELS = {
    "gpt2_hf": [17],
    "llama_hf": [17],
    "gpt2_hf_wide": [17],
    "llama_hf_wide": [17],
}
SUFFIX = "_int4"


def pack4(codes):
    """uint8 bytes of 4-bit codes along the last axis (even count), low
    nibble first."""
    codes = codes.astype(np.uint8)
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)


def quantize_weight(w, block_size, symmetric):
    """(B [N, k_blocks, block/2], scales [N * k_blocks], zero points or None)
    of a float W [K, N]."""
    k, n = w.shape
    kb = -(-k // block_size)
    wt = np.zeros((n, kb * block_size), np.float32)
    wt[:, :k] = w.T
    blocks = wt.reshape(n, kb, block_size)
    if symmetric:
        idx = np.abs(blocks).argmax(axis=2)
        amax = np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0]
        scale = (amax / np.float32(-8)).astype(np.float32)
        zero = np.full((n, kb), 8, np.int64)
    else:
        rmin = np.minimum(blocks.min(axis=2), np.float32(0))
        rmax = np.maximum(blocks.max(axis=2), np.float32(0))
        scale = ((rmax - rmin) / np.float32(15)).astype(np.float32)
        zero = None
    scale = np.where(scale == 0, np.float32(1), scale).astype(np.float32)
    if zero is None:
        zero = np.clip(np.round(-rmin / scale), 0, 15).astype(np.int64)
    codes = np.clip(np.round(blocks / scale[..., None]) + zero[..., None], 0, 15)
    b = pack4(codes.astype(np.int64)).reshape(n, kb, block_size // 2)
    zp = None
    if not symmetric:
        padded = np.zeros((n, kb + kb % 2), np.int64)
        padded[:, :kb] = zero
        zp = pack4(padded).reshape(-1)
    return b, scale.reshape(-1), zp


def quantize(model, block_size=32, symmetric=False):
    """The MatMulNBits form of a float ModelProto (a new ModelProto)."""
    if block_size < 16 or block_size & (block_size - 1):
        raise ValueError("block_size must be a power of two, at least 16")
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes, new_inits, done = [], [], {}
    for node in g.node:
        if any(a.type == onnx.AttributeProto.GRAPH for a in node.attribute):
            raise NotImplementedError("%s '%s': subgraphs are not rewritten"
                                      % (node.op_type, node.name))
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2 or w.data_type != onnx.TensorProto.FLOAT:
            nodes.append(node)
            continue
        k, n = w.dims
        if w.name not in done:
            b, s, zp = quantize_weight(numpy_helper.to_array(w), block_size, symmetric)
            names = [w.name + "_Q4", w.name + "_scales"]
            new_inits += [numpy_helper.from_array(b, names[0]),
                          numpy_helper.from_array(s, names[1])]
            if zp is not None:
                names.append(w.name + "_zero_points")
                new_inits.append(numpy_helper.from_array(zp, names[2]))
            done[w.name] = names
        nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0]] + done[w.name], list(node.output),
            (node.name or w.name) + "_Q4", domain="com.microsoft",
            K=k, N=n, bits=4, block_size=block_size))
    dynamic_quant.replace_nodes(g, nodes, new_inits)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--block-size", type=int, default=32)
    ap.add_argument("--symmetric", action="store_true")
    a = ap.parse_args()
    onnx.save(quantize(onnx.load(a.input), a.block_size, a.symmetric), a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
