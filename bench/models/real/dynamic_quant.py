#!/usr/bin/python3
"""Dynamic quantization in ONNX Runtime's form, without ONNX Runtime's Python
package: rewrites a float model the way
`onnxruntime.quantization.quantize_dynamic(model, out, weight_type=QuantType.QUInt8)`
(per tensor, default options) writes it, so that the real-model corpus has
dynamically quantized versions of its CNNs and transformers.

  dynamic_quant.py IN.onnx OUT.onnx      (build.py's *_dynq models use quantize())

What quantize_dynamic writes (onnxruntime/python/tools/quantization,
operators/conv.py and matmul.py, quant_utils.py), and so what this writes:

  - each float activation that feeds a quantized node goes through one
    DynamicQuantizeLinear (`X_quantized`, `X_scale`, `X_zero_point`, node
    `X_QuantizeLinear`), shared by every consumer of X;
  - Conv with a constant weight W -> ConvInteger(X_quantized, W_quantized,
    X_zero_point, W_zero_point) (the Conv's attributes) -> Cast to float ->
    Mul by Mul(X_scale, W_scale) -> with a bias B, Add of B reshaped to
    [1, -1, 1, ...] (the weight's rank);
  - MatMul whose B is a constant (MatMulConstBOnly, quantize_dynamic's
    default) -> MatMulInteger -> Cast -> Mul by the product of the scales;
    the weight is quantized with reduce_range (7 bits: 0..127), as
    MatMulInteger.quantize asks;
  - weights: u8, asymmetric (QUInt8's default), per tensor, with a zero
    point: rmin = min(W, 0), rmax = max(W, 0), scale = (rmax - rmin) / qmax
    (in double, stored as float), zero point = round(-rmin / scale),
    W_quantized = clip(round(W / scale) + zero point, 0, qmax);
  - Gemm is not quantized (quantize_dynamic's IntegerOps registry has Conv,
    MatMul, Attention, LSTM, Gather and Transpose only); the float weights
    that no node reads any more are dropped; producer `onnx.quantize`.

Not written, refused with an error instead: what quantize_dynamic would
also rewrite (Gather of a float initializer, Transpose of a tensor already
quantized, ORT's Attention and LSTM, nodes in subgraphs) and Conv weights
that are computed rather than stored (quantize_dynamic quantizes those at
run time too). The models
build.py rewrites have none of them. Deterministic: no randomness.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PRODUCER = ("onnx.quantize", "0.1.0")  # what quantize_dynamic writes

# The corpus models build.py also writes in this form, as <arch>_dynq_op<opset>
# (torch_models.py's architectures, exported as for <arch>_op<opset>): CNNs
# (ConvInteger) and transformers (MatMulInteger; their Gemms stay float).
DYNQ_MODELS = {
    "resnet18": [13],
    "mobilenet_v2": [13],
    "squeezenet1_1": [13],
    "vit_b_16": [13],
    "conformer": [13],
}
SUFFIX = "_dynq"


def quantize_weight(w, reduce_range):
    """(u8 array, scale, zero point) of a float weight, per tensor and
    asymmetric, as quant_utils.quantize_data does for QUInt8."""
    qmax = 127 if reduce_range else 255
    w = w.astype(np.float32)
    rmin = np.minimum(w.min(), np.float32(0))
    rmax = np.maximum(w.max(), np.float32(0))
    scale = float(np.float64(rmax - rmin) / qmax)
    if scale < np.finfo(np.float32).tiny:
        scale, zero = np.float32(1.0), np.uint8(0)
    else:
        zero = np.uint8(np.round(0 - np.float64(rmin) / scale))
        scale = np.float32(scale)
    q = np.clip((w / scale).round() + zero, 0, qmax).astype(np.uint8)
    return q, scale, zero


def replace_nodes(g, nodes, new_inits):
    """Gives graph `g` the node list `nodes` and the initializers
    `new_inits`, and drops the initializers no node or output reads any
    more (the float weights the rewrite replaced)."""
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)


def quantize(model):
    """The quantize_dynamic form of a float ModelProto (a new ModelProto)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 11:
        raise ValueError("DynamicQuantizeLinear needs opset 11 or later (the model has %d)" % opset)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    quantized = {}  # float tensor -> (quantized, scale, zero point) names
    nodes, new_inits = [], []

    def activation(x):
        if x not in quantized:
            names = (x + "_quantized", x + "_scale", x + "_zero_point")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(names),
                                          x + "_QuantizeLinear"))
            quantized[x] = names
        return quantized[x]

    def weight(w, reduce_range):
        if w not in quantized:
            q, scale, zero = quantize_weight(numpy_helper.to_array(inits[w]), reduce_range)
            names = (w + "_quantized", w + "_scale", w + "_zero_point")
            new_inits.extend([numpy_helper.from_array(q, names[0]),
                              numpy_helper.from_array(np.array(scale, np.float32), names[1]),
                              numpy_helper.from_array(np.array(zero, np.uint8), names[2])])
            quantized[w] = names
        return quantized[w]

    def integer_op(node, op, w, reduce_range, out, **attrs):
        """DynamicQuantizeLinear + op + Cast + Mul by the scales: out."""
        xq, xs, xz = activation(node.input[0])
        wq, ws, wz = weight(w, reduce_range)
        name = node.name + "_quant" if node.name else ""
        acc = node.output[0] + "_output_quantized"
        nodes.append(helper.make_node(op, [xq, wq, xz, wz], [acc], name, **attrs))
        nodes.append(helper.make_node("Cast", [acc], [acc + "_cast_output"], acc + "_cast",
                                      to=TensorProto.FLOAT))
        scales = name + "_scales_mul" if name else xs + "_" + ws + "_mul"
        nodes.append(helper.make_node("Mul", [xs, ws], [scales + ":0"], scales))
        nodes.append(helper.make_node("Mul", [acc + "_cast_output", scales + ":0"], [out],
                                      name + "_output_scale_mul" if name else ""))

    for node in g.node:
        if any(a.type == onnx.AttributeProto.GRAPH for a in node.attribute):
            raise NotImplementedError("%s '%s': subgraphs are not rewritten" % (node.op_type, node.name))
        if node.op_type in ("Attention", "LSTM") or \
                (node.op_type == "Gather" and node.input[0] in inits) or \
                (node.op_type == "Transpose" and node.input[0] in quantized):
            raise NotImplementedError("%s '%s': quantize_dynamic would rewrite it too, which "
                                      "this does not" % (node.op_type, node.name))
        if node.op_type == "Conv" and node.input[1] not in inits:
            raise NotImplementedError("Conv '%s': a computed weight" % node.name)
        if node.op_type == "MatMul" and node.input[1] not in inits:
            nodes.append(node)  # B is not an initializer: left in float (MatMulConstBOnly)
        elif node.op_type == "Conv":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
            out = node.output[0] + "quant_scaled_output" if bias else node.output[0]
            integer_op(node, "ConvInteger", node.input[1], False, out, **attrs)
            if bias:
                shape = np.ones(len(inits[node.input[1]].dims), np.int64)
                shape[1] = -1
                sname = node.output[0] + "_bias_reshape_shape"
                new_inits.append(numpy_helper.from_array(shape, sname))
                reshaped = node.output[0] + "_bias_reshape_output"
                nodes.append(helper.make_node("Reshape", [bias, sname], [reshaped]))
                nodes.append(helper.make_node("Add", [out, reshaped], [node.output[0]],
                                              node.output[0] + "_bias_add"))
        elif node.op_type == "MatMul":
            integer_op(node, "MatMulInteger", node.input[1], True, node.output[0])
        else:
            nodes.append(node)
    replace_nodes(g, nodes, new_inits)
    model.producer_name, model.producer_version = PRODUCER
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dynamic_quant.py IN.onnx OUT.onnx")
    onnx.save(quantize(onnx.load(sys.argv[1])), sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
