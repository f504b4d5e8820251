"""A conv pair that cross-layer equalization makes worse on the model's own
data. The input's channels 4-7 are nearly silent in the calibration sets
(scale 1e-3; a microphone band, an unused colour plane), and conv1 reads
them (and only them) with weights 100x larger than the others, so conv1's rows 4-7 have
the largest ranges while their outputs stay small. conv2's columns are
alike. Equalization scales conv2's columns 4-7 up by about 10 to match
conv1's ranges: each conv2 row's range then comes from the near-silent
channels, and the loud channels 0-3 are rounded 10x coarser. On N(0, 1)
inputs (no calibration data) the same channels are loud and equalization
pays. Writes DIR/model.onnx and four input sets DIR/test_data_set_{0..3}."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(5)
# Block diagonal: rows 0-3 read channels 0-3, rows 4-7 channels 4-7.
w1 = np.zeros((8, 8, 1, 1), np.float32)
w1[:4, :4] = rng.standard_normal((4, 4, 1, 1))
w1[4:, 4:] = rng.standard_normal((4, 4, 1, 1)) * 100.0
b1 = np.zeros(8, np.float32)
w2 = rng.standard_normal((4, 8, 1, 1)).astype(np.float32)
b2 = rng.standard_normal(4).astype(np.float32)
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], name="conv1"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("Conv", ["r", "w2", "b2"], ["y"], name="conv2")]
g = helper.make_graph(nodes, "quiet_channels",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])],
                      [numpy_helper.from_array(a, n) for a, n in
                       ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "model.onnx"))
for s in range(4):
    d = os.path.join(out, "test_data_set_%d" % s)
    os.makedirs(d, exist_ok=True)
    x = rng.standard_normal((1, 8, 16, 16)).astype(np.float32)
    x[:, 4:] *= 1e-3
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
