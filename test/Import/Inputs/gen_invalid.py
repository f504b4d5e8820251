#!/usr/bin/python3
"""Writes small models the validation stage and the version adapters must
refuse, one per case, into OUT_DIR (for untrusted-models.test).

  gen_invalid.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto as T, helper as h  # noqa: N814

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
F = T.FLOAT


def save(name, nodes, inputs, outputs, opset, inits=()):
    g = h.make_graph(nodes, name, inputs, outputs, list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name + ".onnx"))


x = h.make_tensor_value_info("x", F, [1, 3, 4, 4])
y = h.make_tensor_value_info("y", F, None)
# A tensor with a negative dimension.
neg = T()
neg.name, neg.data_type = "w", F
neg.dims.append(-2)
save("negative_dim", [h.make_node("Add", ["x", "w"], ["y"], name="add")], [x], [y], 17, [neg])
# A required input left empty.
save("empty_input", [h.make_node("Add", ["x", ""], ["y"], name="add")], [x], [y], 17)
# BatchNormalization-9 with per-element statistics (spatial = 0).
stats = [h.make_tensor(n, F, [3], [1.0, 1.0, 1.0]) for n in ("s", "b", "m", "v")]
save("bn_spatial0", [h.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                                 name="bn", spatial=0)], [x], [y], 7, stats)
# A training statistic that another node reads.
save("bn_training_output",
     [h.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y0", "mean"], name="bn"),
      h.make_node("Identity", ["mean"], ["y"], name="use")], [x], [y], 9, stats)
# Pad-18 with an axes input.
save("pad18_axes", [h.make_node("Pad", ["x", "pads", "", "axes"], ["y"], name="pad")], [x], [y], 18,
     [h.make_tensor("pads", T.INT64, [2], [1, 1]), h.make_tensor("axes", T.INT64, [1], [3])])
