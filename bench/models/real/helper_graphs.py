"""Graphs written with onnx.helper the way the TensorFlow (tf2onnx) and
PaddlePaddle (paddle2onnx) exporters and graph-surgery tools write them.

Each builder takes an opset and returns a ModelProto with random weights
from a fixed seed. What each graph exercises:

- tf_nhwc_cnn: NHWC input, a Transpose to NCHW before every Conv and back
  after it (tf2onnx's layout handling), "SAME" padding computed from a
  Shape -> Slice -> Div/Mul/Sub/Max chain into Pad's pads (opset >= 11:
  pads as input), ReduceMean over H, W in NHWC, MatMul + Add, Softmax.
- paddle_cnn: Conv + BatchNormalization + Relu, MaxPool, Upsample/Resize
  by 2 (Upsample at opset 9, Resize with sizes from a Shape -> Slice ->
  Mul -> Concat -> Cast chain at >= 11), a Reshape whose shape comes from
  Shape -> Gather -> Unsqueeze -> Concat, Flatten, Gemm, Softmax.
- softmax_rank3: Softmax/LogSoftmax on a rank-3 tensor with axis=1, which
  before opset 13 means "flatten to 2-D at axis 1" (over C*L), as old Paddle
  and Keras exports write attention over [N, C, L].
- ort_dynamic_quant, ort_dynamic_quant_seg: ONNX Runtime's quantize_dynamic
  form (DynamicQuantizeLinear -> ConvInteger / MatMulInteger with u8 weights
  and zero points -> Cast -> Mul -> Add -> Relu); the second at a realistic
  resolution (the benchmark of the integer convolutions).
- shuffled_*: a graph's nodes in a seeded random order (what graph-surgery
  and optimizer tools write); ONNX Runtime sorts them.
"""
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _seed(name):
    return zlib.crc32(name.encode())


class G:
    """A tiny graph builder: nodes named <op>_<n>, values v<n>."""

    def __init__(self, name, opset):
        self.name, self.opset = name, opset
        self.rng = np.random.default_rng(_seed(name))
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.n = 0

    def op(self, op_type, inputs, n_out=1, **attrs):
        self.n += 1
        outs = ["v%d_%d" % (self.n, i) if n_out > 1 else "v%d" % self.n for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name="%s_%d" % (op_type, self.n), **attrs))
        return outs[0] if n_out == 1 else outs

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weight(self, name, shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        s = scale if scale is not None else (2.0 / max(fan_in, 1)) ** 0.5
        return self.init(name, (self.rng.standard_normal(shape) * s).astype(np.float32))

    def i64(self, name, vals):
        return self.init(name, np.asarray(vals, dtype=np.int64))

    def model(self):
        g = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="loom-corpus")
        m.ir_version = 7 if self.opset >= 13 else 6
        return m


def _conv_nhwc(g, x, cin, cout, k, stride, tag):
    """tf2onnx's Conv on an NHWC tensor with "SAME" padding: Transpose to
    NCHW, pads computed from the input's shape, Pad, Conv (VALID), Transpose
    back to NHWC."""
    xt = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    shp = g.op("Shape", [xt])
    if g.opset >= 10:
        hw = g.op("Slice", [shp, g.i64(tag + "_s0", [2]), g.i64(tag + "_s1", [4])])
    else:
        hw = g.op("Slice", [shp], starts=[2], ends=[4], axes=[0])
    s = g.i64(tag + "_stride", [stride, stride])
    one = g.i64(tag + "_one", [1])
    out = g.op("Div", [g.op("Sub", [g.op("Add", [hw, s]), one]), s])       # ceil(in / s)
    need = g.op("Add", [g.op("Mul", [g.op("Sub", [out, one]), s]), g.i64(tag + "_k", [k, k])])
    diff = g.op("Sub", [need, hw])
    zero = g.i64(tag + "_zero", [0, 0])
    if g.opset >= 12:
        total = g.op("Max", [diff, zero])
    else:  # Max takes integers from opset 12: tf2onnx writes Where(Greater)
        total = g.op("Where", [g.op("Greater", [diff, zero]), diff, zero])
    beg = g.op("Div", [total, g.i64(tag + "_two", [2, 2])])
    end = g.op("Sub", [total, beg])
    zz = g.i64(tag + "_nc", [0, 0])
    pads = g.op("Concat", [zz, beg, zz, end], axis=0)
    if g.opset >= 11:
        xp = g.op("Pad", [xt, pads], mode="constant")
    else:  # before 11 pads are an attribute: tf2onnx folds them to constants
        p = (k - 1) // 2
        xp = g.op("Pad", [xt], mode="constant", pads=[0, 0, p, p, 0, 0, k - 1 - p, k - 1 - p])
    w = g.weight(tag + "_w", [cout, cin, k, k])
    b = g.init(tag + "_b", (g.rng.standard_normal(cout) * 0.1).astype(np.float32))
    y = g.op("Conv", [xp, w, b], kernel_shape=[k, k], strides=[stride, stride])
    y = g.op("Relu", [y])
    return g.op("Transpose", [y], perm=[0, 2, 3, 1])


def tf_nhwc_cnn(opset, name="tf_nhwc_cnn"):
    g = G(name, opset)
    g.inputs.append(helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [1, 64, 64, 3]))
    x = _conv_nhwc(g, "input_1", 3, 16, 3, 2, "conv1")
    x = _conv_nhwc(g, x, 16, 32, 3, 2, "conv2")
    x = _conv_nhwc(g, x, 32, 32, 5, 1, "conv3")
    if opset >= 18:
        x = g.op("ReduceMean", [x, g.i64("mean_axes", [1, 2])], keepdims=0)
    else:
        x = g.op("ReduceMean", [x], axes=[1, 2], keepdims=0)
    w = g.weight("dense_w", [32, 10], scale=0.2)
    b = g.init("dense_b", np.zeros(10, np.float32))
    x = g.op("Add", [g.op("MatMul", [x, w]), b])
    g.op("Softmax", [x], axis=1 if opset < 13 else -1)
    g.nodes[-1].output[0] = "Identity:0"
    g.outputs.append(helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, [1, 10]))
    return g.model()


def paddle_cnn(opset, name="paddle_cnn"):
    g = G(name, opset)
    g.inputs.append(helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32]))

    def conv_bn(x, cin, cout, tag):
        w = g.weight(tag + "_w", [cout, cin, 3, 3])
        y = g.op("Conv", [x, w], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        sc = g.init(tag + "_scale", (1 + 0.1 * g.rng.standard_normal(cout)).astype(np.float32))
        bi = g.init(tag + "_bias", (0.1 * g.rng.standard_normal(cout)).astype(np.float32))
        mu = g.init(tag + "_mean", (0.1 * g.rng.standard_normal(cout)).astype(np.float32))
        var = g.init(tag + "_var", (1 + 0.1 * g.rng.random(cout)).astype(np.float32))
        attrs = {"epsilon": 1e-5, "momentum": 0.9}
        if opset < 9:
            attrs["spatial"] = 1
        y = g.op("BatchNormalization", [y, sc, bi, mu, var], **attrs)
        return g.op("Relu", [y])

    x = conv_bn("image", 3, 8, "c1")
    x = g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])        # 16x16
    x = conv_bn(x, 8, 16, "c2")
    if opset < 10:
        x = g.op("Upsample", [x, g.init("up_scales", np.array([1, 1, 2, 2], np.float32))],
                 mode="nearest")
    elif opset == 10:
        x = g.op("Resize", [x, g.init("up_scales", np.array([1, 1, 2, 2], np.float32))],
                 mode="nearest")
    else:  # paddle2onnx: sizes = Concat(Shape(x)[:2], Shape(x)[2:] * 2), cast to int64
        shp = g.op("Shape", [x])
        nc = g.op("Slice", [shp, g.i64("sl_0", [0]), g.i64("sl_2", [2])])
        hw = g.op("Slice", [shp, g.i64("sl_2b", [2]), g.i64("sl_4", [4])])
        hwf = g.op("Cast", [hw], to=TensorProto.FLOAT)
        hw2 = g.op("Cast", [g.op("Mul", [hwf, g.init("two_f", np.array([2.0], np.float32))])],
                   to=TensorProto.INT64)
        sizes = g.op("Concat", [nc, hw2], axis=0)
        empty = g.init("empty_f", np.zeros([0], np.float32))
        x = g.op("Resize", [x, empty, empty, sizes], mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    x = conv_bn(x, 16, 8, "c3")                                            # [1, 8, 32, 32]
    # Reshape to [N, C, H*W] with the shape from a Shape -> Gather chain
    shp = g.op("Shape", [x])
    n = g.op("Gather", [shp, g.i64("g0", 0)], axis=0)
    c = g.op("Gather", [shp, g.i64("g1", 1)], axis=0)
    if opset >= 13:
        n = g.op("Unsqueeze", [n, g.i64("ax0", [0])])
        c = g.op("Unsqueeze", [c, g.i64("ax0b", [0])])
    else:
        n = g.op("Unsqueeze", [n], axes=[0])
        c = g.op("Unsqueeze", [c], axes=[0])
    shape = g.op("Concat", [n, c, g.i64("minus1", [-1])], axis=0)
    x = g.op("Reshape", [x, shape])
    # attention-like softmax over the last axis of a rank-3 tensor
    x = g.op("Softmax", [x], axis=2 if opset < 13 else -1)
    x = g.op("Flatten", [x], axis=1)
    w = g.weight("fc_w", [8 * 32 * 32, 10], scale=2.0)
    b = g.init("fc_b", np.zeros(10, np.float32))
    x = g.op("Gemm", [x, w, b])
    g.op("Softmax", [x], axis=1)
    g.nodes[-1].output[0] = "save_infer_model/scale_0.tmp_0"
    g.outputs.append(helper.make_tensor_value_info(g.nodes[-1].output[0], TensorProto.FLOAT, [1, 10]))
    return g.model()


def softmax_rank3(opset, name="softmax_rank3"):
    """Softmax, LogSoftmax and Hardmax on [N, C, L] with axis=1: before opset
    13 they normalize over C*L (coerced to 2-D), from 13 over C only."""
    g = G(name, opset)
    g.inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 6]))
    w = g.weight("w", [6, 6], scale=0.5)
    h = g.op("MatMul", ["x", w])
    s = g.op("Softmax", [h], axis=1)
    ls = g.op("LogSoftmax", [h], axis=1)
    y = g.op("Add", [s, ls])
    g.nodes[-1].output[0] = "y"
    g.outputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 6]))
    return g.model()


def ort_dynamic_quant(opset, name="ort_dynamic_quant"):
    """What ONNX Runtime's quantize_dynamic writes for a CNN: per layer
    DynamicQuantizeLinear -> ConvInteger / MatMulInteger (u8 weights with a
    zero point) -> Cast -> Mul by x_scale * w_scale -> Add bias -> Relu, the
    next layer quantizing the previous one's f32 output again."""
    g = G(name, opset)
    g.inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 12, 12]))

    def u8_weight(wname, shape):
        return g.init(wname, g.rng.integers(0, 256, size=shape).astype(np.uint8))

    wz = g.init("w_zero_point", np.array(131, np.uint8))
    h = "x"
    for i, (cin, cout) in enumerate([(8, 16), (16, 16)]):
        xq, xs, xz = g.op("DynamicQuantizeLinear", [h], n_out=3)
        acc = g.op("ConvInteger", [xq, u8_weight("w%d" % i, [cout, cin, 3, 3]), xz, wz],
                   pads=[1, 1, 1, 1])
        accf = g.op("Cast", [acc], to=TensorProto.FLOAT)
        ws = g.init("w_scale%d" % i, np.array(0.002 + 0.001 * i, np.float32))
        scale = g.op("Mul", [xs, ws])
        y = g.op("Mul", [accf, scale])
        b = g.init("b%d" % i, (g.rng.standard_normal([cout, 1, 1]) * 0.1).astype(np.float32))
        h = g.op("Relu", [g.op("Add", [y, b])])
    flat = g.op("Reshape", [h, g.i64("flat_shape", [1, 16 * 12 * 12])])
    xq, xs, xz = g.op("DynamicQuantizeLinear", [flat], n_out=3)
    acc = g.op("MatMulInteger", [xq, u8_weight("w_fc", [16 * 12 * 12, 10]), xz, wz])
    accf = g.op("Cast", [acc], to=TensorProto.FLOAT)
    g.op("Mul", [accf, g.op("Mul", [xs, g.init("w_scale_fc", np.array(0.0005, np.float32))])])
    g.nodes[-1].output[0] = "y"
    g.outputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10]))
    return g.model()


def ort_dynamic_quant_seg(opset, name="ort_dynamic_quant_seg"):
    """A segmentation-like CNN in quantize_dynamic's form at a realistic
    resolution (the benchmark of the integer convolutions): a 3x256x256
    image, 3x3 convolutions of 32 and 64 channels (one with stride 2), 1x1
    convolutions, each DynamicQuantizeLinear -> ConvInteger (u8 weights,
    per-tensor zero point) -> Cast -> Mul by x_scale * w_scale -> Add bias
    -> Relu, and a 1x1 head of 8 classes without the Relu."""
    g = G(name, opset)
    g.inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 256, 256]))
    # (cin, cout, kernel, stride, relu)
    layers = [(3, 32, 3, 1, True), (32, 32, 3, 1, True), (32, 64, 3, 2, True),
              (64, 64, 3, 1, True), (64, 64, 1, 1, True), (64, 32, 3, 1, True),
              (32, 8, 1, 1, False)]
    h = "x"
    for i, (cin, cout, k, stride, relu) in enumerate(layers):
        xq, xs, xz = g.op("DynamicQuantizeLinear", [h], n_out=3)
        w = g.init("w%d" % i, g.rng.integers(0, 256, size=[cout, cin, k, k]).astype(np.uint8))
        wz = g.init("w_zero_point%d" % i, np.array(120 + 3 * i, np.uint8))
        p = k // 2
        acc = g.op("ConvInteger", [xq, w, xz, wz], pads=[p, p, p, p], strides=[stride, stride],
                   kernel_shape=[k, k])
        accf = g.op("Cast", [acc], to=TensorProto.FLOAT)
        # Keeps the activations near unit range: |w - zp| ~ 74 on average.
        ws = g.init("w_scale%d" % i, np.array(1.0 / (74.0 * (cin * k * k) ** 0.5), np.float32))
        y = g.op("Mul", [accf, g.op("Mul", [xs, ws])])
        b = g.init("b%d" % i, (g.rng.standard_normal([cout, 1, 1]) * 0.1).astype(np.float32))
        h = g.op("Add", [y, b])
        if relu:
            h = g.op("Relu", [h])
    g.nodes[-1].output[0] = "y"
    g.outputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 128, 128]))
    return g.model()


def shuffled(base, opset, name):
    """base(opset)'s nodes in a seeded random order (not topological)."""
    m = base(opset, name=name)
    onnx.checker.check_model(m)
    rng = np.random.default_rng(_seed(name))
    nodes = list(m.graph.node)
    order = rng.permutation(len(nodes))
    del m.graph.node[:]
    m.graph.node.extend([nodes[i] for i in order])
    return m


def mlp_tanh(opset, name="mlp"):
    g = G(name, opset)
    g.inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16]))
    x = "x"
    for i in range(3):
        w = g.weight("w%d" % i, [16, 16], scale=0.3)
        b = g.init("b%d" % i, np.zeros(16, np.float32))
        x = g.op("Tanh", [g.op("Gemm", [x, w, b])])
    g.nodes[-1].output[0] = "y"
    g.outputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16]))
    return g.model()


# name -> (builder(opset) -> ModelProto, opsets, fast opsets)
HELPER_MODELS = {
    "tf_nhwc_cnn": (tf_nhwc_cnn, [9, 11, 13], [11]),
    "paddle_cnn": (paddle_cnn, [9, 11, 13], [9]),
    "softmax_rank3": (softmax_rank3, [9, 11, 13], [9]),
    "ort_dynamic_quant": (ort_dynamic_quant, [11, 13], [13]),
    "ort_dynamic_quant_seg": (ort_dynamic_quant_seg, [13], []),
    "shuffled_mlp": (lambda o, name="shuffled_mlp": shuffled(mlp_tanh, o, name), [13], [13]),
    "shuffled_tf_nhwc_cnn": (lambda o, name="shuffled_tf_nhwc_cnn": shuffled(tf_nhwc_cnn, o, name),
                             [11], []),
    "shuffled_paddle_cnn": (lambda o, name="shuffled_paddle_cnn": shuffled(paddle_cnn, o, name),
                            [9], []),
}
