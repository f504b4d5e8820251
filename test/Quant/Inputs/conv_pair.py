"""The model of equalize.test's generators: x [1, 8, 16, 16] -> conv1 (w1,
b1) -> relu -> conv2 (w2, b2) -> y [1, 4, 16, 16], 1x1 convolutions,
written to DIR/model.onnx."""
import os

import onnx
from onnx import TensorProto, helper, numpy_helper


def save_conv_pair(out, name, w1, b1, w2, b2):
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], name="conv1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2", "b2"], ["y"], name="conv2")]
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])],
                          [numpy_helper.from_array(a, n) for a, n in
                           ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, "model.onnx"))
