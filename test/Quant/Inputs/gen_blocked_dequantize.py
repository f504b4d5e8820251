"""Opset-21 models whose MatMul weights are ONNX's blocked DequantizeLinear
(attribute block_size) of constant 8- and 4-bit codes, and their outputs
evaluated here with numpy: dequantize y = (x - zero_point) * scale with the
scale of each element's block along `axis`, multiply.

  b1: INT8 codes, block 16 along K (axis 0), K 64, N 24, INT8 zero points
  b2: UINT8 codes, block 32, K 64, N 8, UINT8 zero points, A [2, 3, 64]
  b3: INT4 codes (data_type 22, raw_data packed two per byte, low first),
      block 32, K 64, N 16, INT4 zero points
  b4: UINT4 codes (data_type 21, int32_data holding the packed bytes),
      block 16, K 32, N 8, no zero points
  b5: INT8, block 16, K 40 (the last block holds 8 rows), N 8
  b6: INT8, blocks of 4 along N (axis 1), K 32, N 8
  b7: INT4 per output channel (block_size 0, axis 1, 1-D scale), K 32, N 8
  b8: INT8, one block spanning K (block 64 = K), N 8
  b9: UINT4 per tensor (block_size 0, one scale and zero point, no axis),
      K 32, N 8

ONNX 1.12 (Debian 12) predates opset 21 and the 4-bit types: onnx.helper
cannot make an INT4 tensor, so their TensorProtos are written field by
field (data_type is a plain int32 in the proto). Writes DIR/model.onnx,
DIR/test_data_set_0/input_*.pb (fixed seed) and DIR/expected/output_*.pb.

With --errors, writes DIR/<case>.onnx for the forms Loom refuses."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT4, UINT4 = 22, 21
rng = np.random.default_rng(11)


def pack4(values):
    """Two 4-bit values per byte, the first in the low nibble (odd counts
    padded with 0)."""
    v = (np.asarray(values).reshape(-1) & 0xF).astype(np.uint8)
    if v.size % 2:
        v = np.concatenate([v, np.zeros(1, np.uint8)])
    return v[0::2] | (v[1::2] << 4)


def int_tensor(values, name, kind, int32_data=False):
    """A TensorProto of integer codes: INT8/UINT8 through numpy_helper, the
    4-bit types by hand."""
    if kind in ("int8", "uint8"):
        return numpy_helper.from_array(values.astype(kind), name)
    t = TensorProto()
    t.name = name
    t.data_type = INT4 if kind == "int4" else UINT4
    t.dims.extend(values.shape)
    packed = pack4(values)
    if int32_data:
        t.int32_data.extend(int(b) for b in packed)
    else:
        t.raw_data = packed.tobytes()
    return t


RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}


def variant(name, k, n, kind, block, axis, a_shape, zp=True, int32_data=False):
    lo, hi = RANGES[kind]
    codes = rng.integers(lo, hi + 1, (k, n))
    if block:
        sshape = [k, n]
        sshape[axis] = -(-sshape[axis] // block)
    elif axis is None:
        sshape = []  # per tensor
    else:
        sshape = [(k, n)[axis]]
    scales = rng.uniform(0.01, 0.1, sshape).astype(np.float32)
    zvals = rng.integers(lo, hi + 1, sshape) if zp else np.zeros(sshape, np.int64)
    inits = [int_tensor(codes, name + "_x", kind, int32_data),
             numpy_helper.from_array(scales, name + "_scale")]
    inputs = [name + "_x", name + "_scale"]
    if zp:
        inits.append(int_tensor(zvals, name + "_zp", kind, int32_data))
        inputs.append(name + "_zp")
    attrs = {} if axis is None else {"axis": axis}
    if block:
        attrs["block_size"] = block
    dq = helper.make_node("DequantizeLinear", inputs, [name + "_w"], name="dq_" + name, **attrs)
    mm = helper.make_node("MatMul", ["a_" + name, name + "_w"], [name], name="mm_" + name)
    # The reference: each element's scale and zero point by its block index.
    if block:
        r = np.arange(k)[:, None] // (block if axis == 0 else 1)
        c = np.arange(n)[None, :] // (block if axis == 1 else 1)
        s, z = scales[r, c], zvals[r, c]
    elif axis is None:
        s, z = scales, zvals
    else:
        s = scales[None, :] if axis == 1 else scales[:, None]
        z = zvals[None, :] if axis == 1 else zvals[:, None]
    w = (codes - z).astype(np.float32) * s
    a = rng.uniform(-1, 1, a_shape).astype(np.float32)
    y = (a.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
    return ([dq, mm], inits, helper.make_tensor_value_info("a_" + name, TensorProto.FLOAT, list(a_shape)),
            helper.make_tensor_value_info(name, TensorProto.FLOAT, list(a_shape[:-1]) + [n]), a, y)


def model_of(variants):
    graph = helper.make_graph([nd for v in variants for nd in v[0]], "blocked_dq",
                              [v[2] for v in variants], [v[3] for v in variants],
                              [t for v in variants for t in v[1]])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    return model


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if len(sys.argv) > 2 and sys.argv[2] == "--errors":
        errors(out)
        return
    variants = [
        variant("b1", 64, 24, "int8", 16, 0, (3, 64)),
        variant("b2", 64, 8, "uint8", 32, 0, (2, 3, 64)),
        variant("b3", 64, 16, "int4", 32, 0, (3, 64)),
        variant("b4", 32, 8, "uint4", 16, 0, (3, 32), zp=False, int32_data=True),
        variant("b5", 40, 8, "int8", 16, 0, (3, 40)),
        variant("b6", 32, 8, "int8", 4, 1, (3, 32)),
        variant("b7", 32, 8, "int4", 0, 1, (3, 32)),
        variant("b8", 64, 8, "int8", 64, 0, (3, 64)),
        variant("b9", 32, 8, "uint4", 0, None, (3, 32)),
    ]
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    onnx.save(model_of(variants), os.path.join(out, "model.onnx"))
    for i, v in enumerate(variants):
        with open(os.path.join(out, "test_data_set_0", "input_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(v[4], v[2].name).SerializeToString())
        with open(os.path.join(out, "expected", "output_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(v[5], v[3].name).SerializeToString())


def errors(out):
    """One model per refused form."""
    def save(case, variants, edit=None):
        m = model_of(variants)
        if edit:
            edit(m)
        onnx.save(m, os.path.join(out, case + ".onnx"))

    def dynamic_codes(m):
        # The codes come from a graph input instead of an initializer.
        x = [t for t in m.graph.initializer if t.name == "e_x"][0]
        m.graph.initializer.remove(x)
        m.graph.input.append(helper.make_tensor_value_info("e_x", TensorProto.INT8, [32, 8]))
    save("dynamic_codes", [variant("e", 32, 8, "int8", 16, 0, (3, 32))], dynamic_codes)

    def bad_scale(m):
        s = [t for t in m.graph.initializer if t.name == "e_scale"][0]
        s.CopyFrom(numpy_helper.from_array(np.ones((3, 8), np.float32), "e_scale"))
    save("bad_scale", [variant("e", 32, 8, "int8", 16, 0, (3, 32), zp=False)], bad_scale)

    def int16_codes(m):
        x = [t for t in m.graph.initializer if t.name == "e_x"][0]
        x.CopyFrom(numpy_helper.from_array(np.ones((32, 8), np.int16), "e_x"))
    save("int16_codes", [variant("e", 32, 8, "int8", 16, 0, (3, 32), zp=False)], int16_codes)

    def short_int4(m):
        x = [t for t in m.graph.initializer if t.name == "e_x"][0]
        x.raw_data = x.raw_data[:-1]
    save("short_int4", [variant("e", 32, 8, "int4", 16, 0, (3, 32), zp=False)], short_int4)


if __name__ == "__main__":
    main()
