//===- Quantize.cpp - Insert quantize/dequantize by mode ------------------===//
//
// loom-quantize: the weights of MatMul/Gemm/Conv/SwiGLU become quantized
// constants behind a `loom.dequantize`, and (int8) the activations a
// quantize / dequantize pair; loom-fold-qdq then forms the quantized
// kernels (a SwiGLU is split into its two products first). The
// numbers (scales, zero points, AWQ's search) come from the LoomQuant
// library; see the pass description in Passes.td and docs/quantization.md.
//
//===----------------------------------------------------------------------===//
#include "Loom/Transforms/Passes.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "ProducerFold.h"
#include "loom/CostModel/CostModel.h"
#include "loom/Quant/Quant.h"
#include "loom/Target/Target.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <functional>

namespace loom {
#define GEN_PASS_DEF_LOOMQUANTIZE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;
using namespace loom;
namespace lq = loom::quant;

namespace {

enum class Mode { W8, W4, Int8, AwqW4, Dynamic, Auto, Ternary };

std::optional<Mode> parseMode(StringRef m) {
  return llvm::StringSwitch<std::optional<Mode>>(m)
      .Case("w8", Mode::W8)
      .Case("w4", Mode::W4)
      .Case("int8", Mode::Int8)
      .Case("awq-w4", Mode::AwqW4)
      .Case("dynamic", Mode::Dynamic)
      .Case("auto", Mode::Auto)
      .Case("ternary", Mode::Ternary)
      .Default(std::nullopt);
}

/// A MatMul-like op in the canonical form the quantized kernel takes:
/// Y = act(A @ W + bias) with W [K, N] and bias [N] (or none).
struct MatmulSite {
  Operation *op;
  Value a;
  std::vector<float> w; ///< [K, N] row-major
  int64_t k = 0, n = 0;
  Value bias; ///< f32 [N] or null
  StringAttr activation;
  FloatAttr alpha, beta;
  double cBeta = 1.0; ///< Gemm's beta, scaling the bias
};

/// A Conv-like op: W is operand 1.
struct ConvSite {
  Operation *op;
  std::vector<float> w;
  SmallVector<int64_t> shape;
};

bool isF32Tensor(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getElementType().isF32() && t.hasStaticShape();
}

/// The transpose of a row-major [rows, cols] matrix.
std::vector<float> transposed(ArrayRef<float> m, int64_t rows, int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[c * rows + r] = m[r * cols + c];
  return t;
}

/// A bias usable as the kernel's [N] bias: none, or a constant with N
/// elements laid along the last axis ([N], [1, N]); std::nullopt otherwise.
std::optional<Value> kernelBias(OpBuilder &b, Location loc, Value c, int64_t n,
                                double beta) {
  if (isNone(c))
    return Value();
  auto type = dyn_cast<RankedTensorType>(c.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != n ||
      type.getShape().back() != n)
    return std::nullopt;
  std::optional<std::vector<float>> values = producer_fold::readF32(c);
  if (!values)
    return std::nullopt;
  if (beta == 1.0 && type.getRank() == 1)
    return c;
  for (float &v : *values)
    v = float(v * beta);
  return producer_fold::createF32Constant(b, loc, {n}, *values, "bias");
}

/// The [K, N] product X @ W of a SwiGLU operand `w` (constant f32 2-D),
/// with the epilogue `activation`.
std::optional<MatmulSite> swigluSite(SwiGluOp op, Value w,
                                     StringRef activation) {
  auto type = dyn_cast<RankedTensorType>(w.getType());
  if (!isF32Tensor(w) || type.getRank() != 2)
    return std::nullopt;
  std::optional<std::vector<float>> values = producer_fold::readF32(w);
  if (!values)
    return std::nullopt;
  MatmulSite s;
  s.op = op;
  s.a = op.getX();
  s.w = std::move(*values);
  s.k = type.getDimSize(0);
  s.n = type.getDimSize(1);
  s.activation = StringAttr::get(op.getContext(), activation);
  return s;
}

std::optional<MatmulSite> matmulSite(Operation *op) {
  MatmulSite s;
  s.op = op;
  Value bValue;
  bool transB = false;
  if (auto m = dyn_cast<MatMulOp>(op)) {
    s.a = m.getA();
    bValue = m.getB();
  } else if (auto m = dyn_cast<FusedMatMulOp>(op)) {
    if (m.getTransA() || m.getAlpha().convertToDouble() != 1.0)
      return std::nullopt;
    s.a = m.getA();
    bValue = m.getB();
    transB = m.getTransB();
    if (!isNone(m.getBias()))
      s.bias = m.getBias();
    s.activation = m.getActivationAttr();
    s.alpha = m.getActivationAlphaAttr();
    s.beta = m.getActivationBetaAttr();
  } else if (isa<GemmOp, FusedGemmOp>(op)) {
    auto get = [&](auto g) {
      if (g.getTransA() || g.getAlpha().convertToDouble() != 1.0)
        return false;
      s.a = g.getA();
      bValue = g.getB();
      transB = g.getTransB();
      if (!isNone(g.getC()))
        s.bias = g.getC();
      s.cBeta = g.getBeta().convertToDouble();
      return cast<RankedTensorType>(g.getA().getType()).getRank() == 2;
    };
    if (auto g = dyn_cast<GemmOp>(op); g && !get(g))
      return std::nullopt;
    if (auto g = dyn_cast<FusedGemmOp>(op)) {
      if (!get(g))
        return std::nullopt;
      s.activation = g.getActivationAttr();
      s.alpha = g.getActivationAlphaAttr();
      s.beta = g.getActivationBetaAttr();
    }
  } else {
    return std::nullopt;
  }
  if (!isF32Tensor(s.a) || !isF32Tensor(bValue) ||
      !isF32Tensor(op->getResult(0)))
    return std::nullopt;
  auto bType = cast<RankedTensorType>(bValue.getType());
  if (bType.getRank() != 2)
    return std::nullopt;
  std::optional<std::vector<float>> w = producer_fold::readF32(bValue);
  if (!w)
    return std::nullopt;
  int64_t rows = bType.getDimSize(0), cols = bType.getDimSize(1);
  s.k = transB ? cols : rows;
  s.n = transB ? rows : cols;
  s.w = transB ? transposed(*w, rows, cols) : std::move(*w);
  return s;
}

/// The products `op` computes in the canonical form: one for MatMul/Gemm
/// and their fused forms; two for a SwiGLU, silu(X @ W1) (the gate, with
/// the silu epilogue) and X @ W3, whose product is Y; none when `op` does
/// not qualify (a non-constant weight, a transposed A, ...).
SmallVector<MatmulSite, 2> matmulSites(Operation *op) {
  auto swiglu = dyn_cast<SwiGluOp>(op);
  if (!swiglu) {
    if (std::optional<MatmulSite> s = matmulSite(op))
      return {std::move(*s)};
    return {};
  }
  auto xType = dyn_cast<RankedTensorType>(swiglu.getX().getType());
  if (!isF32Tensor(swiglu.getX()) || xType.getRank() < 2 ||
      !isF32Tensor(swiglu.getY()))
    return {};
  std::optional<MatmulSite> gate = swigluSite(swiglu, swiglu.getW1(), "silu");
  std::optional<MatmulSite> up = swigluSite(swiglu, swiglu.getW3(), "none");
  if (!gate || !up)
    return {};
  return {std::move(*gate), std::move(*up)};
}

std::optional<ConvSite> convSite(Operation *op) {
  if (!isa<ConvOp, FusedConvOp>(op))
    return std::nullopt;
  Value w = op->getOperand(1);
  if (!isF32Tensor(op->getOperand(0)) || !isF32Tensor(w) ||
      !isF32Tensor(op->getResult(0)))
    return std::nullopt;
  std::optional<std::vector<float>> values = producer_fold::readF32(w);
  if (!values)
    return std::nullopt;
  auto type = cast<RankedTensorType>(w.getType());
  return ConvSite{op, std::move(*values), llvm::to_vector(type.getShape())};
}

/// Per channel of a layer's activation, from loom-calibrate
/// (loom.calib_channels): min, max and mean square.
struct ChannelStats {
  std::vector<double> lo, hi, ms;
};

std::optional<ChannelStats> channelStats(Operation *op, int64_t channels) {
  auto a = op->getAttrOfType<DenseElementsAttr>("loom.calib_channels");
  if (!a || a.getType().getRank() != 2 || a.getType().getDimSize(0) != channels ||
      a.getType().getDimSize(1) != 3)
    return std::nullopt;
  ChannelStats st;
  SmallVector<float> v = llvm::to_vector(a.getValues<float>());
  for (int64_t c = 0; c < channels; ++c) {
    st.lo.push_back(v[size_t(3 * c)]);
    st.hi.push_back(v[size_t(3 * c + 1)]);
    st.ms.push_back(v[size_t(3 * c + 2)]);
  }
  return st;
}

/// A layer's weights as its outputs see them: output o reads `perOutput`
/// weights, the r-th of which is w[index(o, r)] and multiplies activation
/// channel channel(o, r).
struct WeightView {
  int64_t outputs = 0, perOutput = 0;
  std::function<size_t(int64_t, int64_t)> index;
  std::function<int64_t(int64_t, int64_t)> channel;
};

/// A Conv weight [O, C / group, window...].
WeightView convView(ArrayRef<int64_t> shape, int64_t group) {
  WeightView v;
  v.outputs = shape[0];
  int64_t window = 1;
  for (int64_t d : shape.drop_front(2))
    window *= d;
  const int64_t cpg = shape[1], opg = shape[0] / group;
  v.perOutput = cpg * window;
  const int64_t per = v.perOutput;
  v.index = [per](int64_t o, int64_t r) { return size_t(o * per + r); };
  v.channel = [=](int64_t o, int64_t r) {
    return (o / opg) * cpg + r / window;
  };
  return v;
}

/// A MatMul weight [K, N] (row-major).
WeightView matmulView(int64_t k, int64_t n) {
  WeightView v;
  v.outputs = n;
  v.perOutput = k;
  v.index = [n](int64_t o, int64_t r) { return size_t(r * n + o); };
  v.channel = [](int64_t, int64_t r) { return r; };
  return v;
}

/// The rounding noise, summed over the outputs, of a layer whose u8
/// activation is quantized per tensor and whose i8 weights per output
/// channel, after activation channel j is divided by s_j and the weights
/// reading it multiplied (the product is unchanged): the activation's step
/// (its range over all channels / 255) against the weights, plus each
/// output's weight step against the activation's mean squares (uniform
/// rounding noise, step^2 / 12 per value).
double smoothedNoise(ArrayRef<float> w, const WeightView &v,
                     const ChannelStats &st, ArrayRef<double> s) {
  double lo = 0, hi = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    lo = std::min(lo, st.lo[j] / s[j]);
    hi = std::max(hi, st.hi[j] / s[j]);
  }
  const double dx = (hi - lo) / 255.0;
  double total = 0;
  for (int64_t o = 0; o < v.outputs; ++o) {
    double maxW = 0, sumW2 = 0, sumX2 = 0;
    for (int64_t r = 0; r < v.perOutput; ++r) {
      int64_t j = v.channel(o, r);
      double x = double(w[v.index(o, r)]) * s[size_t(j)];
      maxW = std::max(maxW, std::fabs(x));
      sumW2 += x * x;
      sumX2 += st.ms[size_t(j)] / (s[size_t(j)] * s[size_t(j)]);
    }
    const double dw = maxW / 127.0;
    total += dx * dx / 12.0 * sumW2 + dw * dw / 12.0 * sumX2;
  }
  return total;
}

/// What smoothing must gain in smoothedNoise to be applied: 1 dB (it
/// costs an elementwise multiply of the activation).
constexpr double kSmoothGainDb = 1.0;

/// SmoothQuant's migration (Xiao et al. 2023) for an int8 layer: the
/// per-channel divisors s_j = a_j^alpha / w_j^(1 - alpha) (a_j: channel
/// j's largest |activation|, w_j: the largest |weight| reading it; alpha
/// in 0.25, 0.5, 0.75) with the least smoothedNoise, when that is
/// kSmoothGainDb below no smoothing; else nothing. Channels without
/// activation or weight keep 1; the divisors are normalized to a geometric
/// mean of 1.
std::optional<std::vector<double>> chooseSmoothing(ArrayRef<float> w,
                                                   const WeightView &v,
                                                   const ChannelStats &st) {
  const size_t channels = st.lo.size();
  std::vector<double> a(channels), wmax(channels, 0.0);
  for (size_t j = 0; j < channels; ++j)
    a[j] = std::max(std::fabs(st.lo[j]), std::fabs(st.hi[j]));
  for (int64_t o = 0; o < v.outputs; ++o)
    for (int64_t r = 0; r < v.perOutput; ++r) {
      size_t j = size_t(v.channel(o, r));
      wmax[j] = std::max(wmax[j], double(std::fabs(w[v.index(o, r)])));
    }
  std::vector<double> identity(channels, 1.0);
  const double plain = smoothedNoise(w, v, st, identity);
  double best = plain;
  std::optional<std::vector<double>> chosen;
  for (double alpha : {0.25, 0.5, 0.75}) {
    std::vector<double> s(channels, 1.0);
    double logSum = 0;
    size_t counted = 0;
    for (size_t j = 0; j < channels; ++j)
      if (a[j] > 0 && wmax[j] > 0 && std::isfinite(a[j])) {
        s[j] = std::pow(a[j], alpha) / std::pow(wmax[j], 1.0 - alpha);
        logSum += std::log(s[j]);
        ++counted;
      }
    if (!counted)
      return std::nullopt;
    const double norm = std::exp(logSum / double(counted));
    for (size_t j = 0; j < channels; ++j)
      if (a[j] > 0 && wmax[j] > 0 && std::isfinite(a[j]))
        s[j] /= norm;
    double noise = smoothedNoise(w, v, st, s);
    if (noise < best) {
      best = noise;
      chosen = std::move(s);
    }
  }
  if (!chosen || !(best <= plain * std::pow(10.0, -kSmoothGainDb / 10.0)))
    return std::nullopt;
  return chosen;
}

/// Applies chooseSmoothing's divisors: the weights reading channel j
/// times s_j, the activation divided by s_j (a constant loom.mul of shape
/// [C, 1, ...] for a Conv's NC... activation, [K] for a MatMul's), and the
/// activation's range as the divided channels give it.
Value applySmoothing(OpBuilder &b, Location loc, Value x,
                     std::vector<float> &w, const WeightView &v,
                     const ChannelStats &st, ArrayRef<double> s, bool conv,
                     std::pair<float, float> &range) {
  for (int64_t o = 0; o < v.outputs; ++o)
    for (int64_t r = 0; r < v.perOutput; ++r)
      w[v.index(o, r)] =
          float(double(w[v.index(o, r)]) * s[size_t(v.channel(o, r))]);
  std::vector<float> inv;
  double lo = 0, hi = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    inv.push_back(float(1.0 / s[j]));
    lo = std::min(lo, st.lo[j] / s[j]);
    hi = std::max(hi, st.hi[j] / s[j]);
  }
  range = {float(lo), float(hi)};
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape = {int64_t(s.size())};
  if (conv)
    shape.append(size_t(t.getRank() - 2), 1);
  Value c = producer_fold::createF32Constant(b, loc, shape, inv,
                                             "smooth_scale");
  return MulOp::create(b, loc, x.getType(), x, c);
}

/// The quant type of weights quantized with `blockShape` (one scale per
/// block; symmetric, zero point 0).
mlir::quant::QuantizedType weightType(MLIRContext *ctx, ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> blockShape, int bits,
                                const lq::QuantizedWeights &q) {
  Type storage = IntegerType::get(ctx, bits);
  Type f32 = Float32Type::get(ctx);
  // 2 bits are ternary: {-1, 0, +1}.
  int64_t qmin = bits == 2 ? -1 : bits == 4 ? -8 : -128,
          qmax = bits == 2 ? 1 : bits == 4 ? 7 : 127;
  unsigned flags = mlir::quant::QuantizationFlags::Signed;
  bool perTensor = llvm::all_of(llvm::enumerate(blockShape), [&](auto e) {
    return e.value() == shape[e.index()];
  });
  if (perTensor)
    return mlir::quant::UniformQuantizedType::get(flags, storage, f32, q.scales[0], 0,
                                            qmin, qmax);
  // One axis with one scale per element along it: per axis.
  int64_t axis = -1;
  int numFine = 0, numCoarse = 0;
  for (auto [d, blk] : llvm::enumerate(blockShape)) {
    if (blk == 1 && shape[d] > 1) {
      axis = int64_t(d);
      ++numFine;
    } else if (blk < shape[d]) {
      ++numCoarse;
    }
  }
  if (numFine == 1 && numCoarse == 0) {
    SmallVector<double> scales(q.scales.begin(), q.scales.end());
    SmallVector<int64_t> zps(scales.size(), 0);
    return mlir::quant::UniformQuantizedPerAxisType::get(flags, storage, f32, scales,
                                                   zps, int32_t(axis), qmin,
                                                   qmax);
  }
  // Sub-channel: scales of shape shape / blockShape.
  auto scaleType = RankedTensorType::get(q.scaleShape, f32);
  auto scales = DenseElementsAttr::get(scaleType, ArrayRef<float>(q.scales));
  auto zps = DenseElementsAttr::get(
      RankedTensorType::get(q.scaleShape, storage),
      APInt(bits, 0, /*isSigned=*/true));
  SmallVector<int32_t> dims;
  SmallVector<int64_t> sizes;
  for (auto [d, blk] : llvm::enumerate(blockShape))
    if (blk > 1) {
      dims.push_back(int32_t(d));
      sizes.push_back(blk);
    }
  return mlir::quant::UniformQuantizedSubChannelType::get(
      flags, storage, f32, scales, zps, dims, sizes, qmin, qmax);
}

/// qconstant + dequantize for `w` quantized symmetric with `blockShape`
/// (bits 2: ternary); `sparse24` marks a weight pruned to 2:4 along K.
Value quantizedWeight(OpBuilder &b, Location loc, ArrayRef<float> w,
                      ArrayRef<int64_t> shape, ArrayRef<int64_t> blockShape,
                      int bits, bool searchClip, bool sparse24 = false) {
  std::vector<int64_t> shapeV(shape.begin(), shape.end());
  std::vector<int64_t> blockV(blockShape.begin(), blockShape.end());
  lq::QuantizedWeights q =
      lq::quantizeWeights(w.data(), shapeV, blockV, bits, searchClip);
  mlir::quant::QuantizedType type =
      weightType(b.getContext(), shape, blockShape, bits, q);
  auto qType = RankedTensorType::get(shape, type);
  Value c = QConstantOp::create(
      b, loc, qType, loom::storedIntegers(b.getContext(), shape, q.values),
      sparse24 ? b.getStringAttr("2:4") : StringAttr());
  return DequantizeOp::create(b, loc, RankedTensorType::get(shape, b.getF32Type()),
                              c);
}

/// The float weight a layer was quantized from, as the attribute
/// `loom.float_weight` (keep-float-weights): a resource blob, as the
/// weights are, so that large layers are not copied element by element.
ElementsAttr floatWeightAttr(MLIRContext *ctx, ArrayRef<int64_t> shape,
                             ArrayRef<float> values) {
  return loom::f32Resource(RankedTensorType::get(shape, Float32Type::get(ctx)),
                           values, "float_weight");
}

/// dequantize(quantize(x)) per tensor, u8, asymmetric over [lo, hi].
Value quantizedActivation(OpBuilder &b, Location loc, Value x, float lo,
                          float hi) {
  lq::QParams p = lq::chooseAsymmetric(lo, hi, lq::Storage::U8);
  auto t = cast<RankedTensorType>(x.getType());
  auto q = mlir::quant::UniformQuantizedType::get(
      /*flags=*/0, IntegerType::get(b.getContext(), 8), b.getF32Type(),
      p.scale, p.zeroPoint, 0, 255);
  Value qx = QuantizeOp::create(b, loc, RankedTensorType::get(t.getShape(), q), x);
  return DequantizeOp::create(b, loc, t, qx);
}

/// The group size along a reduction of `k` weights for --group-size
/// `group`: `group` when it divides k; else the largest multiple of 8 that
/// divides k and is at least half of `group` (576 input channels take
/// groups of 96 for 128), so that a reduction the group does not divide
/// still gets groups of about the asked size; 0 when k is no longer than
/// the group or none fits (one scale per output channel).
int64_t groupAlong(int64_t k, int64_t group) {
  if (group <= 0 || group >= k)
    return 0;
  if (k % group == 0)
    return group;
  for (int64_t g = group - group % 8; g >= 8 && 2 * g >= group; g -= 8)
    if (k % g == 0)
      return g;
  return 0;
}

/// The blocks of a w4 / ternary [K, N] matmul weight: groupAlong(K) rows
/// per scale, else per output channel.
SmallVector<int64_t> matmulBlocks(int64_t k, int64_t group, int bits) {
  if (int64_t g = groupAlong(k, group); bits <= 4 && g)
    return {g, 1};
  return {k, 1};
}

/// The SQNR gain (dB) at which 8-bit weights take groups along the
/// reduction axis instead of one scale per output channel: 6 dB, a
/// quarter of the rounding noise, for scales that cost 4 bytes per group.
constexpr double kW8GroupGainDb = 6.0;

/// For 8-bit weights: `grouped` (blocks along the reduction axis `axis`)
/// instead of `perChannel` when that keeps the weights kW8GroupGainDb
/// closer to their float values, measured per slice along `axis` and
/// averaged (every input channel counts alike, as when the input
/// compensates a channel's scale): a layer whose slices along the
/// reduction differ by orders of magnitude (a trained network around an
/// outlier channel), where one scale per output channel rounds the small
/// slices to zero.
SmallVector<int64_t> chooseW8Blocks(ArrayRef<float> w, ArrayRef<int64_t> shape,
                                    int64_t axis,
                                    SmallVector<int64_t> perChannel,
                                    SmallVector<int64_t> grouped) {
  if (grouped == perChannel)
    return perChannel;
  std::vector<int64_t> s(shape.begin(), shape.end());
  int64_t inner = 1;
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d)
    inner *= s[d];
  const int64_t slices = s[size_t(axis)];
  auto meanSqnr = [&](ArrayRef<int64_t> blocks) {
    std::vector<int64_t> b(blocks.begin(), blocks.end());
    std::vector<float> d =
        lq::dequantizeWeights(lq::quantizeWeights(w.data(), s, b, 8), s);
    std::vector<double> signal(static_cast<size_t>(slices), 0.0),
        noise(static_cast<size_t>(slices), 0.0);
    for (size_t i = 0; i < w.size(); ++i) {
      size_t slice = (i / size_t(inner)) % size_t(slices);
      signal[slice] += double(w[i]) * w[i];
      noise[slice] += (double(d[i]) - w[i]) * (double(d[i]) - w[i]);
    }
    double sum = 0;
    int64_t counted = 0;
    for (int64_t k = 0; k < slices; ++k) {
      if (signal[size_t(k)] == 0)
        continue;
      // An exact slice counts as 100 dB.
      sum += noise[size_t(k)] == 0
                 ? 100.0
                 : std::min(100.0, 10 * std::log10(signal[size_t(k)] /
                                                    noise[size_t(k)]));
      ++counted;
    }
    return counted ? sum / double(counted) : 100.0;
  };
  return meanSqnr(grouped) >= meanSqnr(perChannel) + kW8GroupGainDb
             ? grouped
             : perChannel;
}

struct QuantizePass : public loom::impl::LoomQuantizeBase<QuantizePass> {
  using LoomQuantizeBase::LoomQuantizeBase;

  void runOnOperation() override {
    std::optional<Mode> m = parseMode(mode);
    if (!m) {
      getOperation().emitError("loom-quantize: unknown mode '")
          << mode << "' (known: w8, w4, int8, awq-w4, dynamic, auto, ternary)";
      return signalPassFailure();
    }
    if (!sparsity.empty() && sparsity != "2:4") {
      getOperation().emitError("loom-quantize: unknown sparsity '")
          << sparsity << "' (known: 2:4)";
      return signalPassFailure();
    }
    if (!sparsity.empty() && *m != Mode::W8 && *m != Mode::W4 &&
        *m != Mode::Ternary) {
      getOperation().emitError("loom-quantize: sparsity 2:4 goes with the "
                               "weight-only modes w8, w4 and ternary, not ")
          << mode;
      return signalPassFailure();
    }
    if (groupSize <= 0) {
      getOperation().emitError("loom-quantize: group-size must be > 0");
      return signalPassFailure();
    }
    std::optional<target::TargetDesc> desc;
    if (*m == Mode::Auto) {
      if (target.empty()) {
        getOperation().emitError("loom-quantize: mode auto needs a target");
        return signalPassFailure();
      }
      llvm::Expected<target::TargetDesc> d = target::loadTarget(target);
      if (!d) {
        getOperation().emitError(llvm::toString(d.takeError()));
        return signalPassFailure();
      }
      desc = std::move(*d);
    }
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isQuantizationCandidate(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      Mode opMode = *m;
      if (opMode == Mode::Auto) {
        if (!paysOff(op, *desc))
          continue;
        opMode = Mode::Int8;
      }
      FailureOr<bool> done = quantize(op, opMode);
      if (failed(done))
        return signalPassFailure();
      if (*done)
        ++numQuantized;
    }
    // The calibration results are consumed here (they would otherwise reach
    // the kernels as attributes).
    getOperation().walk([](Operation *op) {
      op->removeAttr("loom.calib_range");
      op->removeAttr("loom.calib_sample");
      op->removeAttr("loom.calib_channels");
    });
  }

  /// Plain w4 searches each group's clip ratio (a little clipping of the
  /// largest weights for finer steps); awq-w4 keeps round-to-nearest with
  /// the max, the quantizer its scale search assumed; 8 bits gain nothing.
  static bool clipSearch(Mode m, int bits) { return m == Mode::W4 && bits == 4; }

  /// The activation range loom-calibrate left on `op`.
  FailureOr<std::pair<float, float>> calibRange(Operation *op) {
    auto r = op->getAttrOfType<DenseF32ArrayAttr>("loom.calib_range");
    if (!r || r.size() != 2)
      return op->emitError("loom-quantize: mode ")
             << mode << " needs the activation range of this op "
             << "(loom.calib_range, from loom-calibrate / "
                "--calibration-data)";
    return std::pair{r[0], r[1]};
  }

  FailureOr<bool> quantize(Operation *op, Mode m) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    int bits = (m == Mode::W4 || m == Mode::AwqW4) ? 4
               : m == Mode::Ternary                 ? 2
                                                    : 8;
    std::optional<std::pair<float, float>> range;
    if (m == Mode::Int8) {
      FailureOr<std::pair<float, float>> r = calibRange(op);
      if (failed(r))
        return failure();
      range = *r;
    }
    if (std::optional<ConvSite> c = convSite(op)) {
      // A reduction shorter than one group (depthwise and small convs)
      // keeps 8 bits: a 4-bit scale over a handful of weights costs more
      // accuracy than it saves bytes.
      int64_t reduction = 1;
      for (int64_t d : ArrayRef<int64_t>(c->shape).drop_front())
        reduction *= d;
      // Ternary is for MatMul-like layers (as BitNet's); convs keep 8 bits.
      if ((bits == 4 && reduction < groupSize) || bits == 2)
        bits = 8;
      // int8: the activation's channels smoothed into the weights where
      // that lowers the layer's rounding noise (chooseSmoothing).
      int64_t group = 1;
      if (auto conv = dyn_cast<ConvOp>(op))
        group = conv.getGroup();
      else if (auto fused = dyn_cast<FusedConvOp>(op))
        group = fused.getGroup();
      auto xType = cast<RankedTensorType>(op->getOperand(0).getType());
      if (range && smooth != "none" && xType.getRank() >= 3)
        if (std::optional<ChannelStats> st =
                channelStats(op, xType.getDimSize(1))) {
          WeightView view = convView(c->shape, group);
          if (std::optional<std::vector<double>> sm =
                  chooseSmoothing(c->w, view, *st)) {
            op->setOperand(0, applySmoothing(b, loc, op->getOperand(0), c->w,
                                             view, *st, *sm, /*conv=*/true,
                                             *range));
            op->setAttr("loom.smoothed", b.getUnitAttr());
          }
        }
      // Reduction blocks along axis 1 (input channels) for w4; for 8 bits
      // where they keep the weights much closer (chooseW8Blocks).
      SmallVector<int64_t> blocks(c->shape.begin(), c->shape.end());
      blocks[0] = 1;
      if (int64_t g = groupAlong(c->shape[1], groupSize)) {
        SmallVector<int64_t> grouped = blocks;
        grouped[1] = g;
        blocks = bits < 8
                     ? grouped
                     : chooseW8Blocks(c->w, c->shape, 1, blocks, grouped);
      }
      Value w = quantizedWeight(b, loc, c->w, c->shape, blocks, bits,
                                clipSearch(m, bits));
      op->setOperand(1, w);
      if (keepFloatWeights)
        op->setAttr("loom.float_weight",
                    floatWeightAttr(op->getContext(), c->shape, c->w));
      if (range)
        op->setOperand(0, quantizedActivation(b, loc, op->getOperand(0),
                                              range->first, range->second));
      if (m == Mode::Dynamic)
        op->setAttr("loom.dynamic", b.getUnitAttr());
      return true;
    }
    SmallVector<MatmulSite, 2> sites = matmulSites(op);
    if (sites.empty())
      return false;
    // Only SwiGLU has two products, and it has no bias.
    MatmulSite &first = sites.front();
    std::optional<Value> bias =
        first.bias ? kernelBias(b, loc, first.bias, first.n, first.cBeta)
                   : std::optional<Value>(Value());
    if (!bias)
      return false; // a bias the kernel cannot take: stays float
    // The products share their activation and its K.
    Value a = first.a;
    int64_t k = first.k;
    if (m == Mode::AwqW4) {
      auto sample = op->getAttrOfType<DenseElementsAttr>("loom.calib_sample");
      if (!sample || sample.getType().getRank() != 2 ||
          sample.getType().getDimSize(1) != k)
        return op->emitError("loom-quantize: mode awq-w4 needs activation "
                             "samples of this op (loom.calib_sample [T, ")
               << k << "], from loom-calibrate / --calibration-data)";
      std::vector<float> x(sample.getValues<float>().begin(),
                           sample.getValues<float>().end());
      int64_t t = sample.getType().getDimSize(0);
      // One scale vector for all the products of `a` (as AWQ scales a
      // gated MLP's gate and up projections): the search runs over their
      // weights side by side, [K, sum of N], so its error is the sum of
      // theirs.
      int64_t n = 0;
      for (const MatmulSite &s : sites)
        n += s.n;
      std::vector<float> joint;
      joint.reserve(size_t(k * n));
      for (int64_t r = 0; r < k; ++r)
        for (const MatmulSite &s : sites)
          joint.insert(joint.end(), s.w.begin() + r * s.n,
                       s.w.begin() + (r + 1) * s.n);
      SmallVector<int64_t> blocks = matmulBlocks(k, groupSize, 4);
      std::vector<float> scales =
          lq::awqScales(joint.data(), k, n, x.data(), t, blocks[0], 4);
      if (llvm::any_of(scales, [](float v) { return v != 1.0f; })) {
        for (MatmulSite &s : sites)
          for (int64_t r = 0; r < k; ++r)
            for (int64_t c = 0; c < s.n; ++c)
              s.w[r * s.n + c] *= scales[r];
        std::vector<float> inv(scales.size());
        for (size_t i = 0; i < scales.size(); ++i)
          inv[i] = 1.0f / scales[i];
        Value invC =
            producer_fold::createF32Constant(b, loc, {k}, inv, "awq_scale");
        a = MulOp::create(b, loc, a.getType(), a, invC);
      }
    }
    // int8: the activation's channels smoothed into the weights where that
    // lowers the layer's rounding noise (chooseSmoothing; one product only:
    // a SwiGLU's two would need one choice for both).
    bool smoothed = false;
    if (range && smooth != "none" && sites.size() == 1)
      if (std::optional<ChannelStats> st = channelStats(op, k)) {
        WeightView view = matmulView(k, first.n);
        if (std::optional<std::vector<double>> sm =
                chooseSmoothing(first.w, view, *st)) {
          a = applySmoothing(b, loc, a, first.w, view, *st, *sm,
                             /*conv=*/false, *range);
          smoothed = true;
        }
      }
    if (range)
      a = quantizedActivation(b, loc, a, range->first, range->second);
    if (bits == 4 && k < groupSize)
      bits = 8; // as for convs: shorter than one group keeps 8 bits
    // 2:4 along K: groups of four rows, which a scale block must not split.
    const bool sparse24 = sparsity == "2:4" && k % 4 == 0;
    Type yType = op->getResult(0).getType();
    Value biasValue =
        *bias ? *bias : Value(NoneOp::create(b, loc, b.getNoneType()));
    // The product, or (SwiGLU) the product of the products.
    Value y;
    for (MatmulSite &s : sites) {
      SmallVector<int64_t> blocks = matmulBlocks(k, groupSize, bits);
      if (int64_t g = groupAlong(k, groupSize); bits == 8 && g)
        blocks = chooseW8Blocks(s.w, {k, s.n}, 0, blocks, {g, 1});
      // The float weight (loom.float_weight) stays unpruned: the layer's
      // error counts the pruning, and a layer kept in float keeps it all.
      const bool prune = sparse24 && blocks[0] % 4 == 0;
      std::vector<float> pruned;
      if (prune) {
        pruned = s.w;
        lq::prune24(pruned.data(), k, s.n);
      }
      Value w = quantizedWeight(b, loc, prune ? pruned : s.w, {k, s.n}, blocks,
                                bits, clipSearch(m, bits), prune);
      auto fused = FusedMatMulOp::create(
          b, loc, yType, a, w, biasValue,
          /*trans_a=*/0, /*trans_b=*/0, /*alpha=*/b.getF32FloatAttr(1.0f),
          s.activation ? s.activation : b.getStringAttr("none"), s.alpha,
          s.beta);
      if (m == Mode::Dynamic)
        fused->setAttr("loom.dynamic", b.getUnitAttr());
      if (smoothed)
        fused->setAttr("loom.smoothed", b.getUnitAttr());
      if (keepFloatWeights)
        fused->setAttr("loom.float_weight",
                       floatWeightAttr(op->getContext(), {k, s.n}, s.w));
      y = y ? MulOp::create(b, loc, yType, y, fused.getResult()).getResult()
            : fused.getResult();
    }
    op->getResult(0).replaceAllUsesWith(y);
    op->erase();
    return true;
  }

  /// Whether int8 beats float on the target's best device for `op` (for a
  /// SwiGLU: its two qmatmuls and the product, each on its best device,
  /// against the float swiglu kernel).
  bool paysOff(Operation *op, const target::TargetDesc &desc) {
    auto shapeOf = [](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return std::vector<int64_t>(t.getShape().begin(), t.getShape().end());
    };
    auto tensor = [](std::vector<int64_t> shape, const char *type, int64_t bytes,
                     bool constant) {
      cost::TensorDesc d;
      d.shape = std::move(shape);
      d.elementType = type;
      d.elementBytes = bytes;
      d.constant = constant;
      return std::optional<cost::TensorDesc>(d);
    };
    cost::KernelDesc f, q, mul;
    std::vector<int64_t> x, w, y = shapeOf(op->getResult(0));
    SmallVector<MatmulSite, 2> sites;
    if (std::optional<ConvSite> c = convSite(op)) {
      x = shapeOf(op->getOperand(0));
      w = std::vector<int64_t>(c->shape.begin(), c->shape.end());
      f.kernel = "fused_conv";
      q.kernel = "qconv";
    } else if (sites = matmulSites(op); !sites.empty()) {
      x = shapeOf(sites.front().a);
      w = {sites.front().k, sites.front().n};
      f.kernel = sites.size() == 2 ? "swiglu" : "fused_matmul";
      q.kernel = "qmatmul";
    } else {
      return false;
    }
    std::vector<int64_t> one(w.size(), 1);
    f.inputs = {tensor(x, "f32", 4, false), tensor(w, "f32", 4, true)};
    if (sites.size() == 2)
      f.inputs.push_back(tensor(w, "f32", 4, true));
    f.outputs = {tensor(y, "f32", 4, false)};
    q.inputs = {tensor(x, "ui8", 1, false), tensor({}, "f32", 4, true),
                tensor({}, "ui8", 1, true), tensor(w, "i8", 1, true),
                tensor(one, "f32", 4, true)};
    q.outputs = {tensor(y, "f32", 4, false)};
    // A SwiGLU quantized is two qmatmuls and the product of their results.
    mul.kernel = "mul";
    mul.inputs = {tensor(y, "f32", 4, false), tensor(y, "f32", 4, false)};
    mul.outputs = {tensor(y, "f32", 4, false)};
    const cost::KernelDesc *kernels[] = {&f, &q, &mul};
    std::optional<double> best[3];
    for (const auto &d : desc.devices)
      for (int i = 0; i < 3; ++i)
        if (std::optional<double> us = cost::estimateMicros(*kernels[i], d))
          best[i] = best[i] ? std::min(*best[i], *us) : *us;
    if (sites.size() == 2) {
      if (!best[1] || !best[2])
        return false;
      best[1] = 2 * *best[1] + *best[2];
    }
    return best[1] && (!best[0] || *best[1] < *best[0]);
  }
};

} // namespace

bool loom::isQuantizationCandidate(Operation *op) {
  return isa<MatMulOp, FusedMatMulOp, GemmOp, FusedGemmOp, ConvOp, FusedConvOp,
             SwiGluOp>(op);
}
