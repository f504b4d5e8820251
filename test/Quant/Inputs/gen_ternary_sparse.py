"""A two-layer MLP for the ternary and 2:4 modes, with the outputs each mode
must give, computed here independently of Loom with numpy:
h = relu(x @ W1), y = h @ W2, z = Gemm(h, W3, c, transB=1); x [1, 64], W1
[64, 96], W2 [96, 40], W3 [24, 96] (stored transposed), c [24].

The references quantize the weights as docs/quantization.md states:
- ternary: per group of 32 along K, scale = mean |w| (f32), q =
  clip(round_half_even(w / scale), -1, 1);
- w8: per output column, scale = max |w| / 127, q = round_half_even(w /
  scale);
- 2:4: before quantizing, in every group of four rows along K of each
  column, the two entries of largest |w| are kept (the lower row on ties)
  and the other two set to 0.
Writes DIR/model.onnx, DIR/test_data_set_0/input_0.pb and
DIR/expected_{ternary,w8_24,ternary_24}/{y,z}.pb."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
rng = np.random.default_rng(24)
w1 = rng.standard_normal((64, 96)).astype(np.float32)
w2 = rng.standard_normal((96, 40)).astype(np.float32)
w3 = rng.standard_normal((24, 96)).astype(np.float32)  # Gemm B, transB = 1
c = rng.standard_normal(24).astype(np.float32)
x = rng.standard_normal((1, 64)).astype(np.float32)

nodes = [
    helper.make_node("MatMul", ["x", "w1"], ["a"], name="mm1"),
    helper.make_node("Relu", ["a"], ["h"], name="relu"),
    helper.make_node("MatMul", ["h", "w2"], ["y"], name="mm2"),
    helper.make_node("Gemm", ["h", "w3", "c"], ["z"], name="gemm", transB=1),
]
g = helper.make_graph(
    nodes, "ternary_sparse",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 40]),
     helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 24])],
    [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
     numpy_helper.from_array(w3, "w3"), numpy_helper.from_array(c, "c")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "model.onnx"))
with open(os.path.join(out, "test_data_set_0", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, "x").SerializeToString())


def prune24(w):
    """[K, N]: two largest |w| of each four rows along K per column."""
    w = w.copy()
    k, n = w.shape
    for g0 in range(0, k, 4):
        for j in range(n):
            order = np.argsort(-np.abs(w[g0:g0 + 4, j]), kind="stable")
            for t in order[2:]:
                w[g0 + t, j] = 0
    return w


def ternary(w, group=32):
    k, n = w.shape
    out = np.zeros_like(w, dtype=np.float64)
    for g0 in range(0, k, group):
        blk = w[g0:g0 + group]
        mean = np.abs(blk.astype(np.float64)).mean(axis=0)
        scale = np.where(mean > 0, mean, 1.0).astype(np.float32)
        q = np.clip(np.round(blk / scale), -1, 1)
        out[g0:g0 + group] = q.astype(np.float64) * scale.astype(np.float64)
    return out


def w8(w):
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    q = np.clip(np.round(w / scale), -128, 127)
    return q.astype(np.float64) * scale.astype(np.float64)


modes = {
    "ternary": lambda w: ternary(w),
    "w8_24": lambda w: w8(prune24(w)),
    "ternary_24": lambda w: ternary(prune24(w)),
}
for mode, deq in modes.items():
    d = os.path.join(out, "expected_" + mode)
    os.makedirs(d, exist_ok=True)
    h = np.maximum(x.astype(np.float64) @ deq(w1), 0)
    y = h @ deq(w2)
    z = h @ deq(np.ascontiguousarray(w3.T)) + c
    for name, v in (("y", y), ("z", z)):
        with open(os.path.join(d, name + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(v.astype(np.float32), name).SerializeToString())
