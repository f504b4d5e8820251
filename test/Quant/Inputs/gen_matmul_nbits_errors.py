"""Malformed MatMulNBits models, one per file in DIR, each with the mistake
its name says: a weight that is not a constant, B of the wrong shape, a
block size that is no power of two, too few scales, another com.microsoft
op, and another domain."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, nodes, inits, inputs=None, domain="com.microsoft"):
    inputs = inputs or [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 32])]
    graph = helper.make_graph(nodes, name, inputs,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid(domain, 1)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out, name + ".onnx"))


def nbits(inputs, **attrs):
    a = dict(K=32, N=4, bits=4, block_size=16)
    a.update(attrs)
    return helper.make_node("MatMulNBits", inputs, ["y"], domain="com.microsoft",
                            name="mm", **a)


b = numpy_helper.from_array(np.zeros((4, 2, 8), np.uint8), "B")
s = numpy_helper.from_array(np.ones(8, np.float32), "s")
save("dynamic_weight", [nbits(["a", "Bin", "s"])], [s],
     [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 32]),
      helper.make_tensor_value_info("Bin", TensorProto.UINT8, [4, 2, 8])])
save("bad_b_shape", [nbits(["a", "B", "s"], K=48)], [b, s])
save("bad_block", [nbits(["a", "B", "s"], block_size=24)], [b, s])
save("few_scales", [nbits(["a", "B", "s4"])],
     [b, numpy_helper.from_array(np.ones(4, np.float32), "s4")])
save("other_contrib", [helper.make_node("FastGelu", ["a"], ["y"], domain="com.microsoft",
                                        name="gelu")], [])
save("other_domain", [helper.make_node("Frob", ["a"], ["y"], domain="org.example",
                                       name="frob")], [], domain="org.example")
