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
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conv_pair import save_conv_pair  # noqa: E402

out = sys.argv[1]
rng = np.random.default_rng(5)
# Block diagonal: rows 0-3 read channels 0-3, rows 4-7 channels 4-7.
w1 = np.zeros((8, 8, 1, 1), np.float32)
w1[:4, :4] = rng.standard_normal((4, 4, 1, 1))
w1[4:, 4:] = rng.standard_normal((4, 4, 1, 1)) * 100.0
b1 = np.zeros(8, np.float32)
w2 = rng.standard_normal((4, 8, 1, 1)).astype(np.float32)
b2 = rng.standard_normal(4).astype(np.float32)
save_conv_pair(out, "quiet_channels", w1, b1, w2, b2)
for s in range(4):
    d = os.path.join(out, "test_data_set_%d" % s)
    os.makedirs(d, exist_ok=True)
    x = rng.standard_normal((1, 8, 16, 16)).astype(np.float32)
    x[:, 4:] *= 1e-3
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
