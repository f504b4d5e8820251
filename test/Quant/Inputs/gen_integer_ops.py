"""A model in the form ONNX Runtime's dynamic quantization writes, and its
outputs evaluated here with numpy from the ONNX operator definitions:

  x -> DynamicQuantizeLinear -> (xq, xs, xz)
    MatMulInteger(xq, i8 B1 [16, 8], xz, 0) -> Cast -> Mul(., Mul(xs, per-
      column scales [8])) -> Add(., bias [8]) -> y1
    MatMulInteger(xq, u8 B2 [16, 4], xz, 131) -> Cast -> Mul(Mul(scale,
      xs), .) (operands swapped) -> y2
  img -> DynamicQuantizeLinear -> (iq, is, iz)
    ConvInteger(iq, i8 W1 [4, 3, 3, 3], iz, per-channel zero points, pads 1)
      -> Cast -> Mul(., Mul(is, scales [4, 1, 1])) -> Add(., bias [4, 1, 1])
      -> z1
    ConvInteger(iq, u8 W2 [2, 3, 3, 3], iz, 128, stride 2, pads 1) -> Cast
      -> Mul(., Mul(is, scale)) -> z2

Writes model.onnx, the inputs test_data_set_0/input_*.pb (fixed seed) and
the outputs expected/output_*.pb."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(11)

x = rng.uniform(-1.5, 2.5, (4, 16)).astype(np.float32)
img = rng.uniform(-0.5, 4.0, (1, 3, 6, 6)).astype(np.float32)
b1 = rng.integers(-128, 128, (16, 8)).astype(np.int8)
ws1 = rng.uniform(0.002, 0.01, 8).astype(np.float32)
bias1 = rng.uniform(-0.5, 0.5, 8).astype(np.float32)
b2 = rng.integers(0, 256, (16, 4)).astype(np.uint8)
b2z = np.uint8(131)
ws2 = np.float32(0.004)
w1 = rng.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8)
w1z = np.array([0, 3, -2, 5], np.int8)
ws3 = rng.uniform(0.001, 0.005, (4, 1, 1)).astype(np.float32)
bias3 = rng.uniform(-0.5, 0.5, (4, 1, 1)).astype(np.float32)
w2 = rng.integers(0, 256, (2, 3, 3, 3)).astype(np.uint8)
w2z = np.uint8(128)
ws4 = np.float32(0.003)


def dynamic_quantize(v):
    """DynamicQuantizeLinear: u8, the range widened to hold 0, f32
    arithmetic, rounding half to even."""
    lo = np.float32(min(np.float32(0), v.min()))
    hi = np.float32(max(np.float32(0), v.max()))
    scale = np.float32((hi - lo) / np.float32(255))
    zp = np.float32(np.clip(np.rint(np.float32(0) - lo / scale), 0, 255))
    q = np.clip(np.rint(v / scale) + zp, 0, 255).astype(np.uint8)
    return q, scale, np.uint8(zp)


def matmul_integer(a, a_zp, b, b_zp):
    return ((a.astype(np.int32) - np.int32(a_zp)) @
            (b.astype(np.int32) - np.int32(b_zp))).astype(np.int32)


def conv_integer(v, v_zp, w, w_zp, stride):
    """ConvInteger, NCHW, pads 1 (the padding holds the zero point)."""
    w_zp = np.asarray(w_zp, np.int32).reshape(-1, 1, 1, 1)
    vi = np.pad(v.astype(np.int32) - np.int32(v_zp), ((0, 0), (0, 0), (1, 1), (1, 1)))
    wi = w.astype(np.int32) - w_zp
    o, _, kh, kw = w.shape
    oh = (vi.shape[2] - kh) // stride + 1
    ow = (vi.shape[3] - kw) // stride + 1
    y = np.zeros((1, o, oh, ow), np.int32)
    for i in range(oh):
        for j in range(ow):
            patch = vi[0, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[0, :, i, j] = np.tensordot(wi, patch, axes=3)
    return y


xq, xs, xz = dynamic_quantize(x)
iq, is_, iz = dynamic_quantize(img)
f32 = np.float32
y1 = matmul_integer(xq, xz, b1, 0).astype(f32) * (xs * ws1) + bias1
y2 = (ws2 * xs) * matmul_integer(xq, xz, b2, b2z).astype(f32)
z1 = conv_integer(iq, iz, w1, w1z, 1).astype(f32) * (is_ * ws3) + bias3
z2 = conv_integer(iq, iz, w2, w2z, 2).astype(f32) * (is_ * ws4)

inits = [numpy_helper.from_array(np.asarray(v), n) for n, v in [
    ("b1", b1), ("b1z", np.int8(0)), ("ws1", ws1), ("bias1", bias1),
    ("b2", b2), ("b2z", b2z), ("ws2", ws2),
    ("w1", w1), ("w1z", w1z), ("ws3", ws3), ("bias3", bias3),
    ("w2", w2), ("w2z", w2z), ("ws4", ws4)]]
node = helper.make_node
nodes = [
    node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], name="dql_x"),
    node("MatMulInteger", ["xq", "b1", "xz", "b1z"], ["p1"], name="mm1"),
    node("Cast", ["p1"], ["c1"], to=TensorProto.FLOAT),
    node("Mul", ["xs", "ws1"], ["s1"]),
    node("Mul", ["c1", "s1"], ["m1"]),
    node("Add", ["m1", "bias1"], ["y1"]),
    node("MatMulInteger", ["xq", "b2", "xz", "b2z"], ["p2"], name="mm2"),
    node("Cast", ["p2"], ["c2"], to=TensorProto.FLOAT),
    node("Mul", ["ws2", "xs"], ["s2"]),
    node("Mul", ["s2", "c2"], ["y2"]),
    node("DynamicQuantizeLinear", ["img"], ["iq", "is", "iz"], name="dql_img"),
    node("ConvInteger", ["iq", "w1", "iz", "w1z"], ["p3"], name="conv1", pads=[1, 1, 1, 1]),
    node("Cast", ["p3"], ["c3"], to=TensorProto.FLOAT),
    node("Mul", ["is", "ws3"], ["s3"]),
    node("Mul", ["c3", "s3"], ["m3"]),
    node("Add", ["m3", "bias3"], ["z1"]),
    node("ConvInteger", ["iq", "w2", "iz", "w2z"], ["p4"], name="conv2", pads=[1, 1, 1, 1],
         strides=[2, 2]),
    node("Cast", ["p4"], ["c4"], to=TensorProto.FLOAT),
    node("Mul", ["is", "ws4"], ["s4"]),
    node("Mul", ["c4", "s4"], ["z2"]),
]
outputs = [("y1", y1), ("y2", y2), ("z1", z1), ("z2", z2)]
graph = helper.make_graph(
    nodes, "integer_ops",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
     helper.make_tensor_value_info("img", TensorProto.FLOAT, list(img.shape))],
    [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in outputs],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
for folder, prefix, tensors in [("test_data_set_0", "input", [("x", x), ("img", img)]),
                                ("expected", "output", outputs)]:
    os.makedirs(os.path.join(out, folder), exist_ok=True)
    for i, (name, v) in enumerate(tensors):
        assert v.dtype == np.float32, name
        with open(os.path.join(out, folder, "%s_%d.pb" % (prefix, i)), "wb") as f:
            f.write(numpy_helper.from_array(v, name).SerializeToString())
