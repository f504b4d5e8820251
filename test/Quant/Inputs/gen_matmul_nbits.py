"""Models with ONNX Runtime's MatMulNBits (domain com.microsoft, the format of
onnxruntime-genai's int4 LLMs), and their outputs evaluated here with numpy:
unpack the codes, dequantize (code - zero_point) * scale per block along K,
multiply, add the bias.

  y1: 4 bits, block 32, K 64, N 48, packed uint8 zero points, bias, A [2, 3, 64]
  y2: 4 bits, block 16, K 64, N 24, no zero points (8), A [5, 64]
  y3: 4 bits, block 128, K 256, N 16, zero points (two blocks per column),
      A [1, 256]
  y4: 4 bits, block 16, K 40 (the last block padded), N 8, zero points
  y5: 4 bits, block 32, K 64, N 8, float zero points
  y6: 8 bits, block 32, K 64, N 8, uint8 zero points
  y7: 2 bits, block 16, K 32, N 8, packed zero points (four per byte)
  y8: 4 bits, block 64, K 64, N 8 (one block: per output channel), zero points

Writes DIR/model.onnx, DIR/test_data_set_0/input_*.pb (fixed seed) and
DIR/expected/output_*.pb (named after the outputs)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)


def pack(codes, bits):
    """Packs the last axis of uint codes low-first into bytes."""
    per = 8 // bits
    codes = codes.reshape(codes.shape[:-1] + (-1, per)).astype(np.uint16)
    byte = np.zeros(codes.shape[:-1], np.uint16)
    for i in range(per):
        byte |= codes[..., i] << (bits * i)
    return byte.astype(np.uint8)


def variant(name, k, n, bits, block, a_shape, zp="packed", bias=False):
    kb = -(-k // block)
    codes = rng.integers(0, 1 << bits, (n, kb * block))
    scales = rng.uniform(0.01, 0.1, (n, kb)).astype(np.float32)
    b = pack(codes, bits).reshape(n, kb, block * bits // 8)
    inits = [numpy_helper.from_array(b, name + "_B"),
             numpy_helper.from_array(scales.reshape(-1), name + "_scales")]
    inputs = ["a_" + name, name + "_B", name + "_scales"]
    if zp == "packed":
        zcodes = rng.integers(0, 1 << bits, (n, kb))
        per = 8 // bits
        padded = np.zeros((n, -(-kb // per) * per), np.int64)
        padded[:, :kb] = zcodes
        inits.append(numpy_helper.from_array(pack(padded, bits).reshape(-1), name + "_zp"))
        zvals = zcodes.astype(np.float32)
        inputs.append(name + "_zp")
    elif zp == "float":
        zvals = rng.uniform(0, (1 << bits) - 1, (n, kb)).astype(np.float32)
        inits.append(numpy_helper.from_array(zvals.reshape(-1), name + "_zp"))
        inputs.append(name + "_zp")
    else:
        zvals = np.full((n, kb), 1 << (bits - 1), np.float32)
    if bias:
        bvals = rng.uniform(-1, 1, n).astype(np.float32)
        inits.append(numpy_helper.from_array(bvals, name + "_bias"))
        inputs += [""] * (5 - len(inputs)) + [name + "_bias"]
    node = helper.make_node("MatMulNBits", inputs, [name], domain="com.microsoft",
                            name="mm_" + name, K=k, N=n, bits=bits, block_size=block)
    # The reference: W[n, k] = (code - zp) * scale of k's block, in f32 as
    # the format defines it; the product in double.
    blk = np.arange(k) // block
    w = (codes[:, :k].astype(np.float32) - zvals[:, blk]) * scales[:, blk]
    a = rng.uniform(-1, 1, a_shape).astype(np.float32)
    y = a.astype(np.float64) @ w.T.astype(np.float64)
    if bias:
        y = y + bvals
    y_shape = list(a_shape[:-1]) + [n]
    return (node, inits, helper.make_tensor_value_info("a_" + name, TensorProto.FLOAT, list(a_shape)),
            helper.make_tensor_value_info(name, TensorProto.FLOAT, y_shape), a, y.astype(np.float32))


variants = [
    variant("y1", 64, 48, 4, 32, (2, 3, 64), bias=True),
    variant("y2", 64, 24, 4, 16, (5, 64), zp=None),
    variant("y3", 256, 16, 4, 128, (1, 256)),
    variant("y4", 40, 8, 4, 16, (3, 40)),
    variant("y5", 64, 8, 4, 32, (3, 64), zp="float"),
    variant("y6", 64, 8, 8, 32, (3, 64)),
    variant("y7", 32, 8, 2, 16, (3, 32)),
    variant("y8", 64, 8, 4, 64, (3, 64)),
]
graph = helper.make_graph([v[0] for v in variants], "matmul_nbits",
                          [v[2] for v in variants], [v[3] for v in variants],
                          [t for v in variants for t in v[1]])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("com.microsoft", 1)])
model.ir_version = 8
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
os.makedirs(os.path.join(out, "expected"), exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
for i, v in enumerate(variants):
    with open(os.path.join(out, "test_data_set_0", "input_%d.pb" % i), "wb") as f:
        f.write(numpy_helper.from_array(v[4], "a_" + v[0].output[0]).SerializeToString())
    with open(os.path.join(out, "expected", "output_%d.pb" % i), "wb") as f:
        f.write(numpy_helper.from_array(v[5], v[0].output[0]).SerializeToString())
