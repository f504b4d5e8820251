//===- CostCalibration.cpp - The calibration suite and its fit ------------===//
//
// Each microkernel is a small ONNX graph built here (onnx::ModelProto, weights
// as initializers), imported and compiled in process exactly as loomc would
// (graph pipeline at -O1, so Conv + Relu becomes the fused_conv a model
// gets; plan pipeline for the target with every task on the device being
// fitted), loaded with Session::loadEmbedded and run: two warm-up runs,
// then runs until the time budget. Every kernel task of the plan is a
// measurement: its median time from the moment it could start to its end
// (loom-profile's definition, dispatch included).
//
//===----------------------------------------------------------------------===//
#include "loom/Pipelines/CostCalibration.h"

#include "Plan/PlanOps.h"
#include "Plan/Transforms/Passes.h"
#include "loom/Emit/PlanEmitter.h"
#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/InitAll.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Runtime/Session.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>

using namespace mlir;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// One generated graph.
struct Micro {
  std::string name;
  onnx::ModelProto model;
};

/// Builds one ONNX graph: f32 inputs, deterministic pseudo-random weights.
class GraphBuilder {
public:
  explicit GraphBuilder(std::string name) : m{std::move(name), {}} {
    m.model.set_ir_version(8);
    auto *opset = m.model.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    g = m.model.mutable_graph();
    g->set_name("calibration");
  }
  std::string input(const std::vector<int64_t> &shape) {
    std::string name = "x" + std::to_string(g->input_size());
    auto *t = g->add_input();
    t->set_name(name);
    setType(t, shape);
    return name;
  }
  std::string weight(const std::vector<int64_t> &shape) {
    std::string name = "w" + std::to_string(g->initializer_size());
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : shape) {
      t->add_dims(d);
      n *= d;
    }
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v) { // xorshift: values in [-0.5, 0.5)
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      x = float(seed % 1000) / 1000.0f - 0.5f;
    }
    t->set_raw_data(std::string(reinterpret_cast<const char *>(v.data()),
                                v.size() * sizeof(float)));
    return name;
  }
  /// An initializer of 8-bit codes (pseudo-random, all of [lo, hi]):
  /// quantized weights, zero points, packed 4-bit codes.
  std::string codes(const std::vector<int64_t> &shape, bool isSigned,
                    int lo = -127, int hi = 127) {
    std::string name = "q" + std::to_string(g->initializer_size());
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(isSigned ? onnx::TensorProto::INT8
                              : onnx::TensorProto::UINT8);
    int64_t n = 1;
    for (int64_t d : shape) {
      t->add_dims(d);
      n *= d;
    }
    std::string raw(static_cast<size_t>(n), '\0');
    for (char &c : raw) {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      c = char(lo + int(seed % uint64_t(hi - lo + 1)));
    }
    t->set_raw_data(raw);
    return name;
  }
  /// Positive f32 values (scales) of `shape`, in [0.01, 0.02).
  std::string scales(const std::vector<int64_t> &shape) {
    std::string name = weight(shape);
    auto *t = g->mutable_initializer(g->initializer_size() - 1);
    std::string &raw = *t->mutable_raw_data();
    for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
      float v;
      std::memcpy(&v, &raw[i], 4);
      v = 0.015f + v * 0.01f;
      std::memcpy(&raw[i], &v, 4);
    }
    return name;
  }
  /// Declares the com.microsoft contrib domain (MatMulNBits).
  void useContribDomain() {
    auto *opset = m.model.add_opset_import();
    opset->set_domain("com.microsoft");
    opset->set_version(1);
  }
  /// A 1-D int64 initializer (shapes, axes, pads).
  std::string ints(const std::vector<int64_t> &values) {
    std::string name = "c" + std::to_string(g->initializer_size());
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(values.size()));
    for (int64_t v : values)
      t->add_int64_data(v);
    return name;
  }
  std::string floats(const std::vector<float> &values) {
    std::string name = "c" + std::to_string(g->initializer_size());
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(int64_t(values.size()));
    for (float v : values)
      t->add_float_data(v);
    return name;
  }
  onnx::NodeProto *node(const std::string &op,
                        const std::vector<std::string> &inputs,
                        std::string *out) {
    auto *n = g->add_node();
    n->set_op_type(op);
    n->set_name(op + std::to_string(g->node_size()));
    for (const std::string &i : inputs)
      n->add_input(i);
    *out = "t" + std::to_string(g->node_size());
    n->add_output(*out);
    return n;
  }
  std::string op(const std::string &type, const std::vector<std::string> &in,
                 std::map<std::string, std::vector<int64_t>> intAttrs = {},
                 std::map<std::string, std::string> strAttrs = {}) {
    std::string out;
    onnx::NodeProto *n = node(type, in, &out);
    for (auto &[key, values] : intAttrs) {
      auto *a = n->add_attribute();
      a->set_name(key);
      if (values.size() == 1 &&
          (key == "group" || key == "axis" || key == "keepdims" ||
           key == "transB" || key == "K" || key == "N" || key == "bits" ||
           key == "block_size")) {
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(values[0]);
      } else {
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t v : values)
          a->add_ints(v);
      }
    }
    for (auto &[key, value] : strAttrs) {
      auto *a = n->add_attribute();
      a->set_name(key);
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(value);
    }
    return out;
  }
  /// QuantizeLinear + DequantizeLinear of `v` with `scale` and zero point
  /// 0 (per tensor, signed 8-bit): a QDQ model's quantized activation.
  std::string qdq(const std::string &v, float scale) {
    std::string s = floats({scale}), zp = codes({1}, true, 0, 0);
    for (int i : {1, 2}) // scalars
      g->mutable_initializer(g->initializer_size() - i)->clear_dims();
    return op("DequantizeLinear", {op("QuantizeLinear", {v, s, zp}), s, zp});
  }
  Micro finish(const std::string &output) {
    auto *o = g->add_output();
    o->set_name(output);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::FLOAT);
    return std::move(m);
  }

private:
  static void setType(onnx::ValueInfoProto *t,
                      const std::vector<int64_t> &shape) {
    auto *tt = t->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto *s = tt->mutable_shape();
    for (int64_t d : shape)
      s->add_dim()->set_dim_value(d);
  }
  Micro m;
  onnx::GraphProto *g;
  uint64_t seed = 0x9e3779b97f4a7c15ull;
};

std::string tag(const char *key, int64_t v) {
  return std::string("_") + key + std::to_string(v);
}

/// Applies activation `act` to `y` as an exporter writes it (`silu`:
/// y * Sigmoid(y), which loom-recompose-activations turns into silu).
std::string activate(GraphBuilder &b, const std::string &act,
                     const std::string &y) {
  if (act == "silu")
    return b.op("Mul", {y, b.op("Sigmoid", {y})});
  if (act == "sigmoid")
    return b.op("Sigmoid", {y});
  if (act == "hard_swish")
    return b.op("HardSwish", {y});
  if (act == "hard_sigmoid")
    return b.op("HardSigmoid", {y});
  return b.op("Relu", {y});
}

/// Conv + an activation (Relu by default: the fused_conv of a model) over
/// X [1, C, H, H]. Activations whose epilogue the runtime computes apart
/// (silu, sigmoid: one exp per output element) price differently.
Micro conv(int64_t c, int64_t m, int64_t h, int64_t k, int64_t stride,
           int64_t groups, const std::string &act = "relu") {
  GraphBuilder b("conv" + tag("k", k) + tag("s", stride) + tag("g", groups) +
                 tag("c", c) + tag("m", m) + tag("h", h) +
                 (act == "relu" ? "" : "_" + act));
  std::string x = b.input({1, c, h, h});
  std::string w = b.weight({m, c / groups, k, k});
  std::string bias = b.weight({m});
  int64_t p = k / 2;
  std::string y = b.op("Conv", {x, w, bias},
                       {{"kernel_shape", {k, k}},
                        {"strides", {stride, stride}},
                        {"pads", {p, p, p, p}},
                        {"group", {groups}}});
  return b.finish(activate(b, act, y));
}

/// MatMul X [M, K] · W [K, N] (+ bias: fused_matmul; + an activation
/// `act`, none when empty).
Micro matmul(int64_t m, int64_t k, int64_t n, bool bias,
             const std::string &act = "") {
  GraphBuilder b(std::string(bias ? "matmul_bias" : "matmul") + tag("m", m) +
                 tag("k", k) + tag("n", n) + (act.empty() ? "" : "_" + act));
  std::string x = b.input({m, k});
  std::string y = b.op("MatMul", {x, b.weight({k, n})});
  if (bias)
    y = b.op("Add", {y, b.weight({n})});
  if (!act.empty())
    y = activate(b, act, y);
  return b.finish(y);
}

/// Scaled dot-product attention over Q, K, V [B, H, S, D] (activations):
/// Softmax(Q · Kᵀ · c) · V, which loom-recompose-attention makes one
/// attention kernel.
Micro attention(int64_t batchHeads, int64_t s, int64_t d) {
  GraphBuilder b("attention" + tag("bh", batchHeads) + tag("s", s) +
                 tag("d", d));
  std::vector<int64_t> shape = {1, batchHeads, s, d};
  std::string q = b.input(shape), k = b.input(shape), v = b.input(shape);
  std::string kt = b.op("Transpose", {k}, {{"perm", {0, 1, 3, 2}}});
  std::string scores = b.op(
      "Mul", {b.op("MatMul", {q, kt}), b.floats({1.0f / std::sqrt(float(d))})});
  std::string p = b.op("Softmax", {scores}, {{"axis", {-1}}});
  return b.finish(b.op("MatMul", {p, v}));
}

/// Quantized products as pre-quantized models carry them (loom-fold-qdq,
/// the MatMulNBits contrib op): `kind` w8 (weight-only: int8 weights with
/// a scale per output column, f32 activations), w4 (MatMulNBits, 4-bit
/// codes in blocks of 32 along K) or int8 (QDQ on the activation, the
/// weights and the result: an integer product).
Micro qmatmul(const std::string &kind, int64_t m, int64_t k, int64_t n) {
  GraphBuilder b("qmatmul_" + kind + tag("m", m) + tag("k", k) + tag("n", n));
  std::string x = b.input({m, k});
  if (kind == "w4") {
    b.useContribDomain();
    const int64_t block = 32, blocks = (k + block - 1) / block;
    std::string out;
    onnx::NodeProto *node =
        b.node("MatMulNBits",
               {x, b.codes({n, blocks, block / 2}, false, 0, 255),
                b.scales({n * blocks})},
               &out);
    node->set_domain("com.microsoft");
    for (auto [key, value] : std::vector<std::pair<const char *, int64_t>>{
             {"K", k}, {"N", n}, {"bits", 4}, {"block_size", block}}) {
      auto *a = node->add_attribute();
      a->set_name(key);
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(value);
    }
    return b.finish(out);
  }
  std::string w =
      b.op("DequantizeLinear",
           {b.codes({k, n}, true), b.scales({n}), b.codes({n}, true, 0, 0)},
           {{"axis", {1}}});
  if (kind == "w8")
    return b.finish(b.op("MatMul", {x, w}));
  return b.finish(b.qdq(b.op("MatMul", {b.qdq(x, 0.01f), w}), 0.05f));
}

/// An int8 QDQ convolution (activation, per-channel weights and result
/// quantized: an integer qconv) over X [1, C, H, H], k x k, stride 1.
Micro qconv(int64_t c, int64_t m, int64_t h, int64_t k) {
  GraphBuilder b("qconv_int8" + tag("k", k) + tag("c", c) + tag("m", m) +
                 tag("h", h));
  std::string x = b.input({1, c, h, h});
  std::string w = b.op(
      "DequantizeLinear",
      {b.codes({m, c, k, k}, true), b.scales({m}), b.codes({m}, true, 0, 0)},
      {{"axis", {0}}});
  int64_t p = k / 2;
  std::string y = b.op("Conv", {b.qdq(x, 0.01f), w},
                       {{"kernel_shape", {k, k}}, {"pads", {p, p, p, p}}});
  return b.finish(b.qdq(y, 0.05f));
}

/// The footprint sweep: a chain of `layers` identical 3x3 convolutions
/// (C = 128 on a 7x7 map, 576 KiB of weights each) run back to back as a
/// model runs, no eviction between runs: where the chain's weights stop
/// staying in the caches, each layer's time moves from its warm to its
/// cold measurement.
constexpr const char *kFootprint = "footprint";
Micro footprintChain(int64_t layers) {
  GraphBuilder b(std::string(kFootprint) + tag("l", layers));
  std::string y = b.input({1, 128, 7, 7});
  for (int64_t l = 0; l < layers; ++l)
    y = b.op("Relu",
             {b.op("Conv", {y, b.weight({128, 128, 3, 3}), b.weight({128})},
                   {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}})});
  return b.finish(y);
}

/// A squeeze-excite scale: X [1, C, H, H] times a per-channel S [1, C, 1, 1]
/// (both activations), as EfficientNet and MobileNetV3 run it.
Micro channelScale(int64_t c, int64_t h) {
  GraphBuilder b("channel_scale" + tag("c", c) + tag("h", h));
  std::string x = b.input({1, c, h, h}), s = b.input({1, c, 1, 1});
  return b.finish(b.op("Mul", {x, s}));
}

/// Gemm X [M, K] · Wᵀ (W [N, K]) + b: a Linear layer as exporters write it.
Micro gemm(int64_t m, int64_t k, int64_t n) {
  GraphBuilder b("gemm" + tag("m", m) + tag("k", k) + tag("n", n));
  std::string x = b.input({m, k});
  return b.finish(b.op("Gemm", {x, b.weight({n, k}), b.weight({n})},
                       {{"transB", {1}}}));
}

/// Batched activation x activation MatMul [B, M, K] x [B, K, N].
Micro bmm(int64_t batch, int64_t m, int64_t k, int64_t n) {
  GraphBuilder b("bmm" + tag("b", batch) + tag("m", m) + tag("k", k) +
                 tag("n", n));
  std::string x = b.input({batch, m, k}), y = b.input({batch, k, n});
  return b.finish(b.op("MatMul", {x, y}));
}

/// A unary or binary elementwise op (or a chain: fused_elementwise) on
/// `n` elements.
Micro elementwise(const std::string &kind, int64_t n) {
  GraphBuilder b(kind + tag("n", n));
  std::vector<int64_t> shape = {n / 64, 64};
  std::string x = b.input(shape);
  std::string y;
  if (kind == "relu")
    y = b.op("Relu", {x});
  else if (kind == "sigmoid")
    y = b.op("Sigmoid", {x});
  else if (kind == "add")
    y = b.op("Add", {x, b.input(shape)});
  else if (kind == "mul_const")
    y = b.op("Mul", {x, b.weight({64})});
  else if (kind == "residual") // Add + Relu: one fused_elementwise
    y = b.op("Relu", {b.op("Add", {x, b.input(shape)})});
  else // chain: Add, Mul, Sigmoid (one fused_elementwise)
    y = b.op("Sigmoid",
             {b.op("Mul", {b.op("Add", {x, b.input(shape)}), b.weight({64})})});
  return b.finish(y);
}

/// Softmax, LayerNormalization or ReduceMean over the last axis of
/// [rows, d].
Micro rowwise(const std::string &kind, int64_t rows, int64_t d) {
  GraphBuilder b(kind + tag("r", rows) + tag("d", d));
  std::string x = b.input({rows, d});
  std::string y;
  if (kind == "softmax")
    y = b.op("Softmax", {x}, {{"axis", {-1}}});
  else if (kind == "layer_norm")
    y = b.op("LayerNormalization", {x, b.weight({d}), b.weight({d})},
             {{"axis", {-1}}});
  else
    y = b.op("ReduceMean", {x}, {{"axes", {-1}}, {"keepdims", {1}}});
  return b.finish(y);
}

/// Pooling, resize, transposes and normalizations over [1, C, H, H].
Micro spatial(const std::string &kind, int64_t c, int64_t h) {
  GraphBuilder b(kind + tag("c", c) + tag("h", h));
  std::string x = b.input({1, c, h, h});
  std::string y;
  if (kind == "max_pool")
    y = b.op("MaxPool", {x},
             {{"kernel_shape", {3, 3}}, {"strides", {2, 2}},
              {"pads", {1, 1, 1, 1}}});
  else if (kind == "average_pool")
    y = b.op("AveragePool", {x},
             {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  else if (kind == "global_average_pool")
    y = b.op("GlobalAveragePool", {x});
  else if (kind == "resize")
    y = b.op("Resize", {x, "", b.floats({1, 1, 2, 2})}, {},
             {{"mode", "nearest"}});
  else if (kind == "transpose")
    y = b.op("Transpose", {x}, {{"perm", {0, 2, 3, 1}}});
  else if (kind == "concat")
    y = b.op("Concat", {x, b.input({1, c, h, h})}, {{"axis", {1}}});
  else // batch_normalization on its own (not after a conv)
    y = b.op("BatchNormalization",
             {x, b.weight({c}), b.weight({c}), b.weight({c}),
              b.floats(std::vector<float>(size_t(c), 1.0f))});
  return b.finish(y);
}

/// The grid: the default one about a minute at most, `full` several times that.
std::vector<Micro> suite(bool full) {
  std::vector<Micro> s;
  // Convolutions: dense 3x3 and 1x1 (strides 1 and 2), depthwise 3x3, and
  // a 5x5 / 7x7 stem; channels x spatial sizes kept under ~1e9 ops.
  std::vector<std::pair<int64_t, int64_t>> dense = {
      {8, 56}, {16, 56}, {32, 28}, {64, 28}, {64, 14}, {128, 14}, {256, 7},
      {16, 112}, {128, 7}, {32, 56}};
  if (full)
    dense.insert(dense.end(), {{24, 40}, {48, 20}, {96, 14}, {192, 7},
                               {512, 7}, {256, 14}, {8, 112}, {64, 56}});
  for (auto [c, h] : dense) {
    s.push_back(conv(c, c, h, 3, 1, 1));
    s.push_back(conv(c, 2 * c, h, 1, 1, 1));
    s.push_back(conv(c, 2 * c, h, 3, 2, 1));
    s.push_back(conv(2 * c, c, h, 1, 1, 1));
  }
  for (auto [c, h] : std::vector<std::pair<int64_t, int64_t>>{
           {3, 224}, {3, 112}, {3, 64}})
    s.push_back(conv(c, 16, h, full ? 7 : 5, 2, 1));
  std::vector<std::pair<int64_t, int64_t>> dw = {
      {16, 112}, {32, 56}, {64, 56}, {96, 28}, {144, 28}, {192, 14},
      {384, 14}, {576, 7}, {960, 7}, {32, 28}};
  if (full)
    dw.insert(dw.end(), {{24, 56}, {240, 14}, {480, 14}, {1024, 7}});
  for (auto [c, h] : dw) {
    s.push_back(conv(c, c, h, 3, 1, c));
    s.push_back(conv(c, c, h, 3, 2, c));
  }
  // Epilogue activations with an exp per output element (silu, sigmoid)
  // against the cheap ones (hard_swish), on depthwise, 1x1 and 3x3
  // convolutions, and the squeeze-excite layers: 1x1 convolutions on a
  // 1x1 map after a global average pool, and the channel scale after them.
  for (auto [c, h] : std::vector<std::pair<int64_t, int64_t>>{
           {16, 112}, {96, 56}, {144, 28}, {240, 14}, {672, 7}}) {
    s.push_back(conv(c, c, h, 3, 1, c, "silu"));
    s.push_back(conv(c, c, h, 3, 2, c, "silu"));
    s.push_back(conv(c, c, h, 3, 1, c, "hard_swish"));
    s.push_back(conv(c, c, h, 3, 1, c, "sigmoid"));
  }
  for (auto [c, h] : std::vector<std::pair<int64_t, int64_t>>{
           {16, 112}, {32, 56}, {64, 28}, {128, 14}, {256, 7}}) {
    s.push_back(conv(c, 2 * c, h, 1, 1, 1, "silu"));
    s.push_back(conv(2 * c, c, h, 1, 1, 1, "hard_swish"));
    s.push_back(conv(c, c, h, 3, 1, 1, "silu"));
  }
  for (auto [c, r] : std::vector<std::pair<int64_t, int64_t>>{
           {16, 4}, {96, 4}, {240, 4}, {672, 4}, {1152, 4}}) {
    s.push_back(conv(c, c / r, 1, 1, 1, 1, "silu"));
    s.push_back(conv(c / r, c, 1, 1, 1, 1, "sigmoid"));
    s.push_back(conv(c, c / r, 1, 1, 1, 1));
    s.push_back(conv(c / r, c, 1, 1, 1, 1, "hard_sigmoid"));
  }
  for (auto [c, h] : std::vector<std::pair<int64_t, int64_t>>{
           {16, 112}, {96, 56}, {144, 28}, {240, 14}, {672, 7}, {1152, 7}})
    s.push_back(channelScale(c, h));
  // MatMuls: one row (decode steps), a few rows, square-ish; batched.
  std::vector<int64_t> ks = {64, 256, 1024};
  if (full)
    ks.push_back(2048);
  for (int64_t m : {1, 8, 64, 256})
    for (int64_t k : ks)
      for (int64_t n : ks) {
        if (m * k * n > 256ll * 1024 * 1024 / (full ? 1 : 2))
          continue;
        s.push_back(matmul(m, k, n, /*bias=*/(k + n + m) % 3 == 0));
      }
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{1, 256, 1024},
                                                            {8, 256, 1024},
                                                            {64, 256, 1024},
                                                            {256, 256, 1024},
                                                            {64, 1024, 256}})
    s.push_back(matmul(m, k, n, /*bias=*/true, "silu"));
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{
           {1, 512, 1000}, {1, 1024, 1000}, {1, 1280, 1000}, {1, 2048, 1000},
           {1, 4096, 1024}, {4, 512, 512}, {16, 256, 1024}, {64, 1024, 256}})
    s.push_back(gemm(m, k, n));
  for (auto [bt, m, k, n] : std::vector<std::array<int64_t, 4>>{
           {4, 64, 64, 64}, {12, 128, 64, 128}, {12, 128, 128, 64},
           {8, 1, 64, 256}, {8, 1, 256, 64}, {4, 256, 32, 256}})
    s.push_back(bmm(bt, m, k, n));
  // Attention (one kernel): batch-heads x sequence x head size.
  for (auto [bh, sq, d] : std::vector<std::array<int64_t, 3>>{{4, 64, 64},
                                                              {12, 128, 64},
                                                              {12, 256, 64},
                                                              {8, 512, 64},
                                                              {16, 32, 128},
                                                              {6, 197, 64}})
    s.push_back(attention(bh, sq, d));
  // Quantized products: weight-only 8 and 4 bits (one row and a few rows,
  // as decode and prefill run them, from a tiny model's 64-wide layers
  // up), and integer int8 products and convolutions.
  for (const char *kind : {"w8", "w4", "int8"})
    for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{1, 64, 64},
                                                              {16, 64, 64},
                                                              {16, 64, 256},
                                                              {64, 256, 64},
                                                              {1, 1024, 1024},
                                                              {1, 2048, 2048},
                                                              {1, 4096, 1024},
                                                              {16, 1024, 1024},
                                                              {64, 512, 512},
                                                              {256, 256, 1024}})
      s.push_back(qmatmul(kind, m, k, n));
  for (auto [c, h, k] : std::vector<std::array<int64_t, 3>>{{16, 56, 3},
                                                            {32, 28, 3},
                                                            {64, 28, 1},
                                                            {64, 14, 3},
                                                            {128, 7, 3},
                                                            {128, 14, 1}})
    s.push_back(qconv(c, 2 * c, h, k));
  // Elementwise by size: 4 Ki .. 4 Mi elements.
  for (const char *kind :
       {"relu", "add", "sigmoid", "mul_const", "chain", "residual"})
    for (int64_t n = 4096; n <= 4 * 1024 * 1024; n *= full ? 2 : 4)
      s.push_back(elementwise(kind, n));
  // Row-wise normalizations and reductions.
  std::vector<std::pair<int64_t, int64_t>> rows = {
      {1, 512}, {16, 256}, {64, 768}, {128, 128}, {256, 1024}, {1024, 64},
      {2048, 512}, {49, 384}};
  for (const char *kind : {"softmax", "layer_norm", "reduce_mean"})
    for (auto [r, d] : rows)
      s.push_back(rowwise(kind, r, d));
  // Spatial kernels.
  std::vector<std::pair<int64_t, int64_t>> maps = {
      {16, 112}, {32, 56}, {64, 56}, {128, 28}, {256, 14}, {512, 7},
      {64, 28}, {8, 64}};
  if (full)
    maps.insert(maps.end(), {{24, 80}, {96, 20}, {1024, 7}, {3, 224}});
  for (const char *kind :
       {"max_pool", "average_pool", "global_average_pool", "resize",
        "transpose", "concat", "batch_norm"})
    for (auto [c, h] : maps)
      s.push_back(spatial(kind, c, h));
  // The footprint sweep last: 1 layer (its warm and cold times) to 96
  // (54 MiB of weights).
  for (int64_t layers : {1, 4, 8, 16, 24, 32, 48, 64, 96})
    s.push_back(footprintChain(layers));
  return s;
}

/// The largest cache of cpu0 in sysfs (KiB), 0 when none is listed.
double lastLevelCacheKB() {
  double best = 0;
  for (int i = 0; i < 8; ++i) {
    // (sysfs files report a size their reads do not have: read a stream.)
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" +
                     std::to_string(i) + "/size");
    std::string line;
    if (!std::getline(in, line))
      continue;
    llvm::StringRef text = llvm::StringRef(line).trim();
    double scale = text.consume_back("K")   ? 1
                   : text.consume_back("M") ? 1024
                                            : 1.0 / 1024;
    unsigned long long n = 0;
    if (!text.getAsInteger(10, n))
      best = std::max(best, double(n) * scale);
  }
  return best;
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}


} // namespace

std::vector<std::string> loom::calibrationSuite(bool full) {
  std::vector<std::string> names;
  for (const Micro &m : suite(full))
    names.push_back(m.name);
  return names;
}

loom::ColdRamp loom::coldRamp(const std::vector<FootprintPoint> &sweep) {
  // Warm: the one-layer chain; cold: the mean of the three longest
  // chains, measured back to back like the rest (their weights are far
  // past any cache).
  if (sweep.size() < 5)
    return {};
  const double warm = sweep[0].layerUs;
  double cold = 0;
  for (size_t i = sweep.size() - 3; i < sweep.size(); ++i)
    cold += sweep[i].layerUs / 3;
  if (cold <= warm)
    return {};
  // The weights (KiB) where the layer time first reaches `share` of the
  // way from warm to cold, interpolated between sweep points.
  auto reach = [&](double share) -> std::optional<double> {
    const double level = warm + share * (cold - warm);
    for (size_t i = 1; i < sweep.size(); ++i) {
      if (sweep[i].layerUs < level)
        continue;
      const FootprintPoint &a = sweep[i - 1], &b = sweep[i];
      double t = b.layerUs > a.layerUs
                     ? (level - a.layerUs) / (b.layerUs - a.layerUs)
                     : 1.0;
      t = std::clamp(t, 0.0, 1.0);
      return (a.weightBytes + t * (b.weightBytes - a.weightBytes)) / 1024;
    }
    return std::nullopt;
  };
  std::optional<double> quarter = reach(0.25), threeQuarters = reach(0.75);
  if (!quarter || !threeQuarters)
    return {};
  ColdRamp r;
  r.aboveKB = (*quarter + *threeQuarters) / 2;
  // A quarter to three quarters is half of a linear ramp.
  r.rampKB = 2 * std::max(0.0, *threeQuarters - *quarter);
  return r;
}

loom::target::FittedModel
loom::fitMeasurements(const std::vector<CalibrationMeasurement> &measurements,
                      const target::DeviceDesc &device,
                      const CostCalibrationOptions &options,
                      cost::FitReport *report) {
  std::vector<cost::Sample> samples;
  std::vector<double> roofline;
  for (const CalibrationMeasurement &m : measurements) {
    samples.push_back(cost::makeSample(m.kernel, m.us));
    roofline.push_back(m.rooflineUs);
  }
  target::FittedModel model =
      cost::fitModel(samples, device, {}, report, roofline);
  // With more threads, how the one-thread fit scaled by N would do.
  if (report && options.threads > 1)
    if (const target::FittedModel *one = device.fitFor(1);
        one && one->threads == 1)
      report->derivedError = cost::derivedThreadsError(
          samples, *one, options.threads, &report->forkJoinUs);
  model.machine = options.machine;
  model.date = options.date;
  model.threads = options.threads;
  // The cache the cold measurements were made against, where there are any.
  if (llvm::any_of(samples,
                   [](const cost::Sample &s) { return s.coldBytes > 0; }))
    model.llcKB = options.llcKB < 0 ? lastLevelCacheKB() : options.llcKB;
  return model;
}

llvm::Expected<loom::CostCalibrationResult>
loom::calibrateCosts(const CostCalibrationOptions &options) {
  llvm::Expected<target::TargetDesc> target = target::loadTarget(options.target);
  if (!target)
    return target.takeError();
  const target::DeviceDesc *device =
      options.device.empty() ? target->firstCpu()
                             : target->findDevice(options.device);
  if (!device)
    return error("target '" + target->name + "' has no device '" +
                 options.device + "'");
  // The roofline the fit is compared with: the device without its fit.
  target::DeviceDesc roofDevice = *device;
  roofDevice.fitted.reset();

  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  std::string lastDiagnostic;
  context.getDiagEngine().registerHandler([&](Diagnostic &diag) {
    lastDiagnostic = diag.str();
    return success();
  });

  CostCalibrationResult result;
  std::vector<Micro> micros = suite(options.full);
  if (!options.filter.empty())
    llvm::erase_if(micros, [&](const Micro &m) {
      return m.name.find(options.filter) == std::string::npos;
    });
  size_t done = 0;
  auto started = std::chrono::steady_clock::now();
  // Evicts the caches: read and write flushMB of other memory.
  std::vector<uint64_t> flushBuffer(size_t(options.flushMB * 1024 * 1024 / 8));
  uint64_t flushSum = 0;
  auto flush = [&] {
    for (uint64_t &x : flushBuffer)
      flushSum += ++x;
  };
  // The cold state: twice the last-level cache written.
  const double llcKB = options.llcKB < 0 ? lastLevelCacheKB() : options.llcKB;
  std::vector<uint64_t> coldBuffer(size_t(llcKB * 2 * 1024 / 8));
  auto flushCold = [&] {
    for (uint64_t &x : coldBuffer)
      flushSum += ++x;
  };
  for (const Micro &micro : micros) {
    ++done;
    auto fail = [&](const llvm::Twine &why) {
      return error("microkernel " + micro.name + ": " + why +
                   (lastDiagnostic.empty() ? "" : ": " + lastDiagnostic));
    };
    std::string bytes;
    micro.model.SerializeToString(&bytes);
    ImportOptions importOptions;
    OwningOpRef<ModuleOp> module = importOnnxBuffer(
        context, bytes, micro.name + ".onnx", /*isText=*/false, importOptions);
    if (!module)
      return fail("cannot import the generated graph");
    PassManager pm(&context);
    addGraphPipeline(pm, GraphPipelineOptions{});
    PlanPipelineOptions planOptions;
    planOptions.target = options.target;
    planOptions.partitioner = "single:" + device->name;
    planOptions.split = false;
    planOptions.devicePrecision = "exact";
    addPlanPipeline(pm, planOptions);
    if (failed(pm.run(*module)))
      return fail("cannot compile it for " + device->name);
    // Kernel calls by task name, as plan-estimate-costs describes them.
    std::map<std::string, cost::KernelDesc> kernels;
    module->walk([&](plan::TaskOp task) {
      cost::KernelDesc k;
      if (!task.isControl() && plan::describeKernel(task, k))
        kernels[task.getName().str()] = std::move(k);
    });
    std::string planJson, weights;
    {
      llvm::raw_string_ostream planOs(planJson), weightsOs(weights);
      if (failed(emit::emitPlan(*module, planOs, weightsOs)))
        return fail("cannot emit its plan");
    }
    try {
      rt::SessionOptions so;
      so.threads = options.threads;
      so.deviceKernels = options.deviceKernels;
      auto session = rt::Session::loadEmbedded(planJson, weights.data(),
                                               weights.size(), micro.name, so);
      uint64_t seed = 12345;
      std::vector<std::pair<size_t, rt::Tensor>> bound;
      for (size_t i = 0; i < session->inputs().size(); ++i) {
        const rt::TensorInfo &info = session->inputs()[i];
        if (info.folded)
          continue;
        rt::Tensor t;
        t.dtype = info.dtype;
        t.shape = info.shape;
        t.bytes.resize(size_t(t.numElements()) * rt::dtypeSize(info.dtype));
        std::vector<float> v(size_t(t.numElements()));
        for (float &x : v) {
          seed = seed * 6364136223846793005ull + 1442695040888963407ull;
          x = float((seed >> 33) % 2001) / 1000.0f - 1.0f;
        }
        if (info.dtype == rt::DType::F32)
          std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
        session->setInput(i, t);
        bound.push_back({i, std::move(t)});
      }
      const rt::Plan &plan = session->plan();
      session->run(); // warm-up: first-call setup (oneDNN primitives, packing)
      flush();
      session->run();
      std::vector<std::vector<double>> times(plan.tasks.size());
      double spentMs = 0;
      const bool sweep = llvm::StringRef(micro.name).starts_with(kFootprint);
      for (int r = 0; r < options.maxRuns; ++r) {
        if (!sweep) // the sweep runs back to back, as a model does
          flush();
        auto t0 = std::chrono::steady_clock::now();
        session->run();
        spentMs += std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count();
        std::vector<std::optional<double>> ts =
            loom::rt::taskTimes(plan, session->lastTimings());
        for (size_t id = 0; id < ts.size(); ++id)
          if (ts[id])
            times[id].push_back(*ts[id]);
        if (r + 1 >= options.minRuns && spentMs >= options.budgetMs)
          break;
      }
      // Cold weights: only for microkernels with weights (a task with a
      // constant operand), `minRuns` runs.
      bool hasWeights = llvm::any_of(kernels, [](const auto &k) {
        return llvm::any_of(k.second.inputs,
                            [](const auto &t) { return t && t->constant; });
      });
      std::vector<std::vector<double>> coldTimes(plan.tasks.size());
      for (int r = 0; hasWeights && !coldBuffer.empty() && r < options.minRuns;
           ++r) {
        flushCold();
        for (const auto &[i, t] : bound) // the inputs, warm again
          session->setInput(i, t);
        session->run();
        std::vector<std::optional<double>> ts =
            loom::rt::taskTimes(plan, session->lastTimings());
        for (size_t id = 0; id < ts.size(); ++id)
          if (ts[id])
            coldTimes[id].push_back(*ts[id]);
      }
      if (sweep) {
        // The mean of the layers' median times (and, for one layer, its
        // cold time); no samples for the fit.
        FootprintPoint p;
        double n = 0;
        for (size_t id = 0; id < plan.tasks.size(); ++id) {
          auto k = kernels.find(plan.tasks[id].name);
          if (times[id].empty() || k == kernels.end() ||
              k->second.kernel != "fused_conv")
            continue;
          p.layerUs += median(times[id]);
          if (!coldTimes[id].empty())
            p.coldUs += median(coldTimes[id]);
          for (const auto &t : k->second.inputs)
            if (t && t->constant)
              p.weightBytes += double(t->bytes());
          ++n;
        }
        if (n > 0) {
          p.layerUs /= n;
          p.coldUs /= n;
          if (options.progress)
            llvm::errs()
                << llvm::format("loom-profile: [%zu/%zu] ", done, micros.size())
                << micro.name << ": "
                << llvm::format("%.1f MiB of weights, %.1f us",
                                p.weightBytes / (1 << 20), p.layerUs)
                << " per layer"
                << (p.coldUs > 0
                        ? llvm::formatv(" ({0:f1} us cold)", p.coldUs).str()
                        : std::string())
                << "\n";
          result.footprint.push_back(p);
        }
        continue;
      }
      for (size_t id = 0; id < plan.tasks.size(); ++id) {
        const rt::PlanTask &task = plan.tasks[id];
        auto k = kernels.find(task.name);
        if (task.kind != rt::TaskKind::Kernel || times[id].empty() ||
            k == kernels.end())
          continue;
        CalibrationMeasurement m;
        m.microkernel = micro.name;
        m.kernel = k->second;
        m.us = median(times[id]);
        std::optional<cost::Roofline> roof =
            cost::estimateRoofline(m.kernel, roofDevice);
        m.rooflineUs = roof ? roof->totalUs() : 0;
        if (options.progress)
          llvm::errs() << llvm::format("loom-profile: [%zu/%zu] ", done,
                                       micros.size())
                       << micro.name << ": " << m.kernel.kernel << " "
                       << llvm::format("%.1f", m.us) << " us (roofline "
                       << llvm::format("%.1f", m.rooflineUs) << ")\n";
        if (!roof)
          continue;
        if (!coldTimes[id].empty() &&
            llvm::any_of(m.kernel.inputs,
                         [](const auto &t) { return t && t->constant; })) {
          CalibrationMeasurement cold = m;
          cold.kernel.coldWeights = 1;
          cold.us = median(coldTimes[id]);
          if (options.progress)
            llvm::errs() << llvm::format("loom-profile: [%zu/%zu] ", done,
                                         micros.size())
                         << micro.name << ": " << m.kernel.kernel
                         << " with cold weights "
                         << llvm::format("%.1f", cold.us) << " us\n";
          result.measurements.push_back(std::move(m));
          result.measurements.push_back(std::move(cold));
        } else {
          result.measurements.push_back(std::move(m));
        }
      }
    } catch (const std::exception &e) {
      return fail(e.what());
    }
  }
  result.model =
      fitMeasurements(result.measurements, *device, options, &result.report);
  ColdRamp ramp = coldRamp(result.footprint);
  result.model.coldAboveKB = ramp.aboveKB;
  result.model.coldRampKB = ramp.rampKB;
  std::optional<llvm::StringRef> builtin =
      target::builtinTargetText(options.target);
  std::string text;
  if (builtin) {
    text = builtin->str();
  } else {
    auto buffer = llvm::MemoryBuffer::getFile(options.target);
    if (!buffer)
      return error("cannot read '" + options.target + "'");
    text = (*buffer)->getBuffer().str();
  }
  // The device's fits for other thread counts stay.
  llvm::Expected<std::string> yaml = cost::withFittedModels(
      text, device->name, cost::mergeFits(device->fits, result.model));
  if (!yaml)
    return yaml.takeError();
  result.targetYaml = std::move(*yaml);
  if (options.progress && flushSum != 1) // (flushSum keeps the flush alive)
    llvm::errs() << llvm::format(
        "loom-profile: %zu measurements from %zu microkernels in %.0f s\n",
        result.measurements.size(), micros.size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                      started)
            .count());
  return result;
}
