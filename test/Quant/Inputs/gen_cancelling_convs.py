"""The pattern that breaks per-output-channel weight quantization in trained
CNNs with folded batch norm: two 1x1 convolutions whose channel scales
differ by 10^4 and cancel. conv1 (8 -> 16 channels) has output channel i
scaled by c_i (log-uniform over [1e-2, 1e2]), a ReLU follows, and conv2
(16 -> 4) has input channel i scaled by 1 / c_i: the float function is an
ordinary one, but each output row of conv2 mixes weights of magnitudes
10^-2 to 10^2, so rounding it to 8 bits with one scale per row zeroes the
small ones. Writes DIR/model.onnx and DIR/test_data_set_0/input_0.pb."""
import os
import sys

import numpy as np
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conv_pair import save_conv_pair  # noqa: E402

out = sys.argv[1]
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
rng = np.random.default_rng(3)
c = 10.0 ** rng.uniform(-2, 2, 16)
w1 = (rng.standard_normal((16, 8, 1, 1)) * c[:, None, None, None]).astype(np.float32)
b1 = (rng.standard_normal(16) * c * 0.1).astype(np.float32)
w2 = (rng.standard_normal((4, 16, 1, 1)) / c[None, :, None, None]).astype(np.float32)
b2 = rng.standard_normal(4).astype(np.float32)
save_conv_pair(out, "cancelling_convs", w1, b1, w2, b2)
x = rng.standard_normal((1, 8, 16, 16)).astype(np.float32)
with open(os.path.join(out, "test_data_set_0", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, "x").SerializeToString())
