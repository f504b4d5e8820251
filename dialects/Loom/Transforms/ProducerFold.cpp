//===- ProducerFold.cpp - Helpers shared by the producer folds ------------===//
//
// See ProducerFold.h.
//
//===----------------------------------------------------------------------===//
#include "Loom/Transforms/ProducerFold.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace loom;

namespace loom::producer_fold {

/// Constants up to this many elements are created `dense` (as the importer
/// does for small initializers), larger ones as `dense_resource` blobs.
constexpr int64_t kInlineElements = 64;

namespace {
enum class Kind { Conv, ConvTranspose, Gemm, MatMul };

/// A producer as the folds see it: operands in ONNX order (X/A, W/B, B/C/bias;
/// `bias` may be `none`).
struct Producer {
  Operation *op = nullptr;
  Kind kind;
  bool fused = false;
  Value x, w, bias;
  RankedTensorType type;
};

bool isStaticF32(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.hasStaticShape() && r.getElementType().isF32();
}

std::optional<Producer> getProducer(Operation *op) {
  if (!op || op->getNumResults() != 1 || !isStaticF32(op->getResult(0).getType()))
    return std::nullopt;
  Producer p;
  p.op = op;
  p.type = cast<RankedTensorType>(op->getResult(0).getType());
  auto set = [&](Kind k, bool fused, Value x, Value w, Value b) {
    p.kind = k;
    p.fused = fused;
    p.x = x;
    p.w = w;
    p.bias = b;
  };
  if (auto c = dyn_cast<ConvOp>(op))
    set(Kind::Conv, false, c.getX(), c.getW(), c.getB());
  else if (auto c = dyn_cast<FusedConvOp>(op))
    set(Kind::Conv, true, c.getX(), c.getW(), c.getB());
  else if (auto c = dyn_cast<ConvTransposeOp>(op))
    set(Kind::ConvTranspose, false, c.getX(), c.getW(), c.getB());
  else if (auto c = dyn_cast<FusedConvTransposeOp>(op))
    set(Kind::ConvTranspose, true, c.getX(), c.getW(), c.getB());
  else if (auto g = dyn_cast<GemmOp>(op))
    set(Kind::Gemm, false, g.getA(), g.getB(), g.getC());
  else if (auto g = dyn_cast<FusedGemmOp>(op))
    set(Kind::Gemm, true, g.getA(), g.getB(), g.getC());
  else if (auto m = dyn_cast<MatMulOp>(op))
    set(Kind::MatMul, false, m.getA(), m.getB(), Value());
  else if (auto m = dyn_cast<FusedMatMulOp>(op))
    set(Kind::MatMul, true, m.getA(), m.getB(), m.getBias());
  else
    return std::nullopt;
  if (p.fused) {
    auto act = op->getAttrOfType<StringAttr>("activation");
    if (act && act.getValue() != "none")
      return std::nullopt;
  }
  if (!isStaticF32(p.x.getType()) || !isStaticF32(p.w.getType()))
    return std::nullopt;
  if (p.bias && !isNone(p.bias) && !isStaticF32(p.bias.getType()))
    return std::nullopt;
  return p;
}

int64_t attrInt(Operation *op, StringRef name, int64_t dflt) {
  if (auto a = op->getAttrOfType<IntegerAttr>(name))
    return a.getInt();
  return dflt;
}

double attrFloat(Operation *op, StringRef name, double dflt) {
  if (auto a = op->getAttrOfType<FloatAttr>(name))
    return a.getValueAsDouble();
  return dflt;
}

/// Whether B of a (fused) MatMul is used transposed (B is [..., N, K]).
bool matmulTransB(const Producer &p) {
  return p.fused && attrInt(p.op, "trans_b", 0) != 0;
}

/// The output-channel axis of the producer's result, when the producer has
/// one: dimension 1 of Conv/ConvTranspose/Gemm, the last dimension of a
/// MatMul whose B has rank >= 2.
std::optional<int64_t> getChannelAxis(const Producer &p) {
  int64_t rank = p.type.getRank();
  switch (p.kind) {
  case Kind::Conv:
  case Kind::ConvTranspose:
    return rank >= 3 ? std::optional<int64_t>(1) : std::nullopt;
  case Kind::Gemm:
    return rank == 2 ? std::optional<int64_t>(1) : std::nullopt;
  case Kind::MatMul: {
    auto b = cast<RankedTensorType>(p.w.getType());
    if (b.getRank() < 2 || rank < 1)
      return std::nullopt;
    int64_t n = b.getDimSize(b.getRank() - (matmulTransB(p) ? 2 : 1));
    if (p.type.getDimSize(rank - 1) != n)
      return std::nullopt;
    return rank - 1;
  }
  }
  return std::nullopt;
}

/// For each element of the weight (row-major), the output channel it feeds;
/// empty when the weight's layout does not match `channels`.
SmallVector<int64_t> weightChannels(const Producer &p, int64_t channels) {
  auto wt = cast<RankedTensorType>(p.w.getType());
  ArrayRef<int64_t> s = wt.getShape();
  int64_t n = wt.getNumElements();
  SmallVector<int64_t> out;
  out.reserve(n);
  switch (p.kind) {
  case Kind::Conv: {
    // W is [C_out, C_in / group, k...].
    if (s.empty() || s[0] != channels)
      return {};
    int64_t inner = s[0] ? n / s[0] : 0;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(i / inner);
    return out;
  }
  case Kind::ConvTranspose: {
    // W is [C_in, C_out / group, k...]; input channel ci belongs to group
    // ci / (C_in / group), whose output channels start at group · C_out/group.
    int64_t group = attrInt(p.op, "group", 1);
    if (s.size() < 2 || group <= 0 || s[0] % group || s[1] * group != channels)
      return {};
    int64_t inner = (s[0] && s[1]) ? n / (s[0] * s[1]) : 0;
    int64_t inPerGroup = s[0] / group;
    for (int64_t i = 0; i < n; ++i) {
      int64_t j = (i / inner) % s[1];
      int64_t ci = i / (inner * s[1]);
      out.push_back((ci / inPerGroup) * s[1] + j);
    }
    return out;
  }
  case Kind::Gemm: {
    bool transB = attrInt(p.op, "transB", 0) != 0;
    if (s.size() != 2 || s[transB ? 0 : 1] != channels)
      return {};
    for (int64_t i = 0; i < n; ++i)
      out.push_back(transB ? i / s[1] : i % s[1]);
    return out;
  }
  case Kind::MatMul: {
    size_t r = s.size();
    if (r < 2)
      return {};
    bool transB = matmulTransB(p);
    if (s[r - (transB ? 2 : 1)] != channels)
      return {};
    for (int64_t i = 0; i < n; ++i)
      out.push_back(transB ? (i / s[r - 1]) % s[r - 2] : i % s[r - 1]);
    return out;
  }
  }
  return {};
}

/// `values` of `from` broadcast (numpy rules) to `to` (from broadcasts to to).
std::vector<double> broadcastValues(ArrayRef<double> values,
                                    ArrayRef<int64_t> from,
                                    ArrayRef<int64_t> to) {
  int64_t n = 1;
  for (int64_t d : to)
    n *= d;
  std::vector<double> out(n);
  size_t off = to.size() - from.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, src = 0, stride = 1;
    for (size_t d = to.size(); d-- > 0;) {
      int64_t idx = rem % to[d];
      rem /= to[d];
      if (d >= off) {
        int64_t fd = from[d - off];
        src += (fd == 1 ? 0 : idx) * stride;
        stride *= fd;
      }
    }
    out[i] = values[src];
  }
  return out;
}

/// The producer's bias after y -> y · scale + shift, as shape and values (the
/// bias of a Gemm includes beta). Fails when a present bias is not a
/// readable constant or the new bias would not broadcast to the result.
LogicalResult newBias(const Producer &p, int64_t channels,
                      ArrayRef<double> scale, ArrayRef<double> shift,
                      SmallVectorImpl<int64_t> &shape,
                      std::vector<double> &values) {
  bool present = p.bias && !isNone(p.bias);
  std::vector<double> old;
  SmallVector<int64_t> oldShape;
  if (present) {
    std::optional<std::vector<float>> data = readF32(p.bias);
    if (!data)
      return failure();
    old.assign(data->begin(), data->end());
    auto bt = cast<RankedTensorType>(p.bias.getType());
    oldShape.assign(bt.getShape().begin(), bt.getShape().end());
  }
  shape.clear();
  switch (p.kind) {
  case Kind::Conv:
  case Kind::ConvTranspose:
    shape.push_back(channels);
    if (present && !(oldShape.size() == 1 && oldShape[0] == channels))
      return failure();
    break;
  case Kind::Gemm:
  case Kind::MatMul: {
    SmallVector<int64_t> perChannel{channels};
    if (present) {
      FailureOr<SmallVector<int64_t>> b = broadcastShapes(oldShape, perChannel);
      if (failed(b))
        return failure();
      shape.assign(b->begin(), b->end());
    } else {
      shape.assign(perChannel.begin(), perChannel.end());
    }
    // The bias must still broadcast to the result, without growing it.
    FailureOr<SmallVector<int64_t>> y = broadcastShapes(shape, p.type.getShape());
    if (failed(y) || ArrayRef<int64_t>(*y) != p.type.getShape() ||
        shape.size() > size_t(p.type.getRank()))
      return failure();
    if (present && p.kind == Kind::Gemm) {
      double beta = attrFloat(p.op, "beta", 1.0);
      for (double &v : old)
        v *= beta;
    }
    break;
  }
  }
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (present)
    values = broadcastValues(old, oldShape, shape);
  else
    values.assign(n, 0.0);
  // The channel of a bias element is its last index (Gemm/MatMul: [.., N];
  // Conv: [C]).
  int64_t last = shape.back();
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = i % last;
    if (!scale.empty())
      values[i] *= scale[c];
    if (!shift.empty())
      values[i] += shift[c];
  }
  return success();
}

/// The name of a folded constant's blob: the original blob's name (or
/// `fallback`) with `_folded` appended (the manager makes it unique).
std::string blobName(Value original, StringRef fallback) {
  if (auto res = dyn_cast_or_null<DenseResourceElementsAttr>(
          getConstantAttr(original)))
    return (res.getRawHandle().getKey() + "_folded").str();
  return (fallback + "_folded").str();
}
} // namespace

std::optional<std::vector<float>> readF32(Value v) {
  Attribute attr = getConstantAttr(v);
  if (!attr)
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res)
    return std::nullopt;
  ShapedType type = res.getType();
  if (!type.hasStaticShape() || !type.getElementType().isF32())
    return std::nullopt;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  int64_t n = type.getNumElements();
  if (int64_t(data.size()) != n * int64_t(sizeof(float)))
    return std::nullopt;
  std::vector<float> out(n);
  if (n)
    std::memcpy(out.data(), data.data(), data.size());
  return out;
}

Value createF32Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                        ArrayRef<float> values, StringRef name) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  ElementsAttr attr;
  if (int64_t(values.size()) <= kInlineElements) {
    attr = DenseElementsAttr::get(type, values);
  } else {
    attr = loom::f32Resource(type, values, name);
  }
  return ConstantOp::create(b, loc, attr);
}

bool isProducer(Operation *op) { return getProducer(op).has_value(); }

std::optional<int64_t> channelAxis(Operation *op) {
  std::optional<Producer> p = getProducer(op);
  if (!p)
    return std::nullopt;
  return getChannelAxis(*p);
}

std::optional<SmallVector<double>> perChannelValues(Value c, Operation *op) {
  std::optional<Producer> p = getProducer(op);
  if (!p)
    return std::nullopt;
  std::optional<int64_t> axis = getChannelAxis(*p);
  auto ct = dyn_cast<RankedTensorType>(c.getType());
  if (!axis || !ct || !ct.hasStaticShape() || ct.getRank() > p->type.getRank())
    return std::nullopt;
  std::optional<std::vector<float>> data = readF32(c);
  if (!data)
    return std::nullopt;
  int64_t channels = p->type.getDimSize(*axis);
  int64_t off = p->type.getRank() - ct.getRank();
  bool perChannel = false;
  for (int64_t d = 0; d < ct.getRank(); ++d) {
    int64_t size = ct.getDimSize(d);
    if (size == 1)
      continue;
    if (d + off != *axis || size != channels)
      return std::nullopt;
    perChannel = true;
  }
  SmallVector<double> out;
  for (int64_t i = 0; i < channels; ++i)
    out.push_back((*data)[perChannel ? i : 0]);
  return out;
}

FailureOr<Value> shiftedBias(OpBuilder &b, Location loc, Operation *op,
                             ArrayRef<double> shift) {
  std::optional<Producer> p = getProducer(op);
  if (!p)
    return failure();
  std::optional<int64_t> axis = getChannelAxis(*p);
  if (!axis)
    return failure();
  SmallVector<int64_t> shape;
  std::vector<double> values;
  if (failed(newBias(*p, p->type.getDimSize(*axis), {}, shift, shape, values)))
    return failure();
  std::vector<float> f(values.begin(), values.end());
  return createF32Constant(b, loc, shape, f, blobName(p->bias, "bias"));
}

LogicalResult foldChannelAffine(PatternRewriter &rewriter, Operation *op,
                                ArrayRef<double> scale, ArrayRef<double> shift,
                                Operation *consumer) {
  std::optional<Producer> p = getProducer(op);
  if (!p)
    return failure();
  std::optional<int64_t> axis = getChannelAxis(*p);
  if (!axis)
    return failure();
  int64_t channels = p->type.getDimSize(*axis);
  if ((!scale.empty() && int64_t(scale.size()) != channels) ||
      (!shift.empty() && int64_t(shift.size()) != channels))
    return failure();
  // The weights must be constant; scaling them must not duplicate a weight
  // that stays in use elsewhere.
  if (!getConstantAttr(p->w))
    return failure();
  std::vector<float> weights;
  SmallVector<int64_t> wChannels;
  if (!scale.empty()) {
    if (!p->w.hasOneUse())
      return failure();
    std::optional<std::vector<float>> data = readF32(p->w);
    if (!data)
      return failure();
    weights = std::move(*data);
    wChannels = weightChannels(*p, channels);
    if (wChannels.size() != weights.size())
      return failure();
  }
  bool hasBias = p->bias && !isNone(p->bias);
  bool rebuildBias = !shift.empty() || (!scale.empty() && hasBias);
  SmallVector<int64_t> biasShape;
  std::vector<double> biasValues;
  if (rebuildBias &&
      failed(newBias(*p, channels, scale, shift, biasShape, biasValues)))
    return failure();

  // Rewrite: new constants before the producer.
  Location loc = rewriter.getFusedLoc({op->getLoc(), consumer->getLoc()});
  rewriter.setInsertionPoint(op);
  Value newW = p->w, newB = p->bias;
  if (!scale.empty()) {
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i] = float(double(weights[i]) * scale[wChannels[i]]);
    auto wt = cast<RankedTensorType>(p->w.getType());
    newW = createF32Constant(rewriter, p->w.getLoc(), wt.getShape(), weights,
                             blobName(p->w, "weight"));
  }
  if (rebuildBias) {
    std::vector<float> f(biasValues.begin(), biasValues.end());
    newB = createF32Constant(rewriter, consumer->getLoc(), biasShape, f,
                             blobName(p->bias, "bias"));
  }
  Operation *oldW = p->w.getDefiningOp();
  Operation *oldB = hasBias ? p->bias.getDefiningOp() : nullptr;
  Value result;
  if (p->kind == Kind::MatMul && !p->fused && rebuildBias) {
    auto fm = FusedMatMulOp::create(rewriter, loc, TypeRange{p->type},
                                     ValueRange{p->x, newW, newB},
                                     ArrayRef<NamedAttribute>{});
    result = fm.getY();
  } else {
    rewriter.modifyOpInPlace(op, [&] {
      op->setOperand(1, newW);
      if (rebuildBias) {
        op->setOperand(2, newB);
        if (p->kind == Kind::Gemm)
          op->setAttr("beta", rewriter.getF32FloatAttr(1.0f));
      }
      op->setLoc(loc);
    });
    result = op->getResult(0);
  }
  rewriter.replaceAllUsesWith(consumer->getResult(0), result);
  rewriter.eraseOp(consumer);
  if (result != op->getResult(0))
    rewriter.eraseOp(op);
  for (Operation *dead : {oldW, oldB})
    if (dead && dead != newW.getDefiningOp() && dead->use_empty())
      rewriter.eraseOp(dead);
  return success();
}

} // namespace loom::producer_fold
