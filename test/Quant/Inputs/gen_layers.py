"""gen_layers.py OUT_DIR {mlp|bias}: small models for the per-layer
accuracy of --quantize, with one calibration input set (test_data_set_0).

mlp:  y = Relu(x @ w1 + b1) @ w2, x [64, 32] N(0, 1); with --outlier, four
      rows of w1 are 300x the others and the input channels they read 300x
      smaller (one scale per output channel then rounds the other rows
      away: the layer --keep-float keeps).
bias: two layers whose inputs have a large positive mean, where the mean
      effect of the weight rounding dominates the layer's error (what bias
      correction removes): y = x @ w (x [128, 64], mean 4, no bias) and
      z = Conv1x1(img, wc) + bc (img [2, 16, 8, 8], mean 3).
grouped: as bias's MatMul, with 16 outlier rows of the weight (1000x) that
      read input channels 1000x smaller: w8 with --group-size=16 takes one
      scale per 16 rows and column."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, kind = sys.argv[1], sys.argv[2]
outlier = "--outlier" in sys.argv[3:]
rng = np.random.default_rng(23)
f32 = np.float32
inputs = {}
if kind == "mlp":
    k, h, n, t = 32, 48, 16, 64
    w1 = (rng.standard_normal((k, h)) / np.sqrt(k)).astype(f32)
    b1 = (0.1 * rng.standard_normal(h)).astype(f32)
    w2 = (rng.standard_normal((h, n)) / np.sqrt(h)).astype(f32)
    if outlier:
        w1[:4] *= 300.0
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h0"], name="fc1"),
             helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
             helper.make_node("Relu", ["h1"], ["h2"], name="act"),
             helper.make_node("MatMul", ["h2", "w2"], ["y"], name="fc2")]
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [t, k])]
    graph_outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [t, n])]
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
             numpy_helper.from_array(w2, "w2")]
    inputs["x"] = rng.standard_normal((t, k)).astype(f32)
    if outlier:
        inputs["x"][:, :4] /= 300.0
elif kind == "bias":
    k, n, t = 64, 32, 128
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(f32)
    c, o = 16, 8
    wc = (rng.standard_normal((o, c, 1, 1)) / np.sqrt(c)).astype(f32)
    bc = (0.1 * rng.standard_normal(o)).astype(f32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc"),
             helper.make_node("Conv", ["img", "wc", "bc"], ["z"], name="conv")]
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [t, k]),
                    helper.make_tensor_value_info("img", TensorProto.FLOAT, [2, c, 8, 8])]
    graph_outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [t, n]),
                     helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, o, 8, 8])]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(wc, "wc"),
             numpy_helper.from_array(bc, "bc")]
    inputs["x"] = (4.0 + 0.5 * rng.standard_normal((t, k))).astype(f32)
    inputs["img"] = (3.0 + 0.5 * rng.standard_normal((2, c, 8, 8))).astype(f32)
elif kind == "grouped":
    # One MatMul whose first 16 rows are 1000x the others, reading input
    # channels 1000x smaller, the rest with mean 4: with groups of 16 along
    # K the w8 weight has one scale per group and column.
    k, n, t = 64, 32, 128
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(f32)
    w[:16] *= 1000.0
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")]
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [t, k])]
    graph_outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [t, n])]
    inits = [numpy_helper.from_array(w, "w")]
    inputs["x"] = (4.0 + 0.5 * rng.standard_normal((t, k))).astype(f32)
    inputs["x"][:, :16] /= 1000.0
else:
    sys.exit("unknown model " + kind)
graph = helper.make_graph(nodes, kind, graph_inputs, graph_outputs, inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
d = os.path.join(out, "test_data_set_0")
os.makedirs(d, exist_ok=True)
for i, (name, value) in enumerate(inputs.items()):
    with open(os.path.join(d, "input_%d.pb" % i), "wb") as f:
        f.write(numpy_helper.from_array(value, name).SerializeToString())
