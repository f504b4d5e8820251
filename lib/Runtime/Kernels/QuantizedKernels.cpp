//===- QuantizedKernels.cpp - qmatmul, qconv ------------------------------===//
//
// The quantized kernels the quantization passes (loom-fold-qdq) emit; the
// contract is docs/fused-ops.md, "Quantized kernels".
//
//   qmatmul(A, a_scale?, a_zero_point?, W, w_scale, w_zero_point?, bias?,
//           y_scale?, y_zero_point?) -> Y
//   qconv  (X, x_scale?, x_zero_point?, W, w_scale, w_zero_point?, bias?,
//           y_scale?, y_zero_point?) -> Y
//
// Each has a reference kernel (dequantize everything to double, plain
// loops, double accumulation) and a fast kernel:
//  - weight-only (f32 activations): W is dequantized to f32 and the
//    registered fused_matmul / fused_conv kernel (oneDNN when available)
//    runs with the bias and the epilogue activation;
//  - integer (u8/i8 activations, or f32 activations quantized at run time
//    with `dynamic` = 1): (a - a_zp) * (w - w_zp) is accumulated exactly in
//    int32 per block of the weight scale along the reduction axes, then
//    scaled by a_scale * w_scale and summed over the blocks. With int8
//    weights and one scale block along the reduction axes, oneDNN computes
//    the int32 sums Σ (a - a_zp) * w (DnnlQuantized.cpp; a fast path of its
//    own, registered first, with its epilogue in f32), a weight zero point
//    then subtracting w_zp * Σ (a - a_zp) over each sum's inputs (the row of
//    A, the convolution window); otherwise a plain int32 loop does.
// The output is f32, or u8/i8 when y_scale is given.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "FusedUtil.h"
#include "KernelUtil.h"
#include "VecEpilogue.h"
#include "NNUtil.h"
#include "QuantizedUtil.h"

#include <algorithm>
#include <cmath>
#include <immintrin.h>
#include <limits>
#include <memory>
#include <thread>
#include <type_traits>

namespace loom::rt {
namespace {

using kern::fail;
using kern::shapeStr;
using qnt::BlockMap;
using qnt::LogicalWeights;

/// Operand names in error messages.
struct Names {
  const char *kernel, *act, *actScale, *actZp;
};
const Names kMatmul{"qmatmul", "A", "a_scale", "a_zero_point"};
const Names kConv{"qconv", "X", "x_scale", "x_zero_point"};

const TensorRef *opt(const KernelArgs &a, size_t i) { return nn::optInput(a, i); }

/// The f32 value of a one-element f32 tensor `what`.
float scalarF32(const Names &n, const char *what, const TensorRef &t) {
  if (t.dtype != DType::F32)
    fail(n.kernel, std::string(what) + " must be f32, got " + dtypeName(t.dtype));
  if (t.numElements() != 1)
    fail(n.kernel, std::string(what) + " must have exactly one element (per-tensor), got shape " +
                       shapeStr(t.shape));
  return t.as<float>()[0];
}

/// The value of a one-element u8/i8 zero point `what` that must have dtype
/// `want`.
int32_t scalarZp(const Names &n, const char *what, const TensorRef &t, DType want) {
  if (t.dtype != want)
    fail(n.kernel, std::string(what) + " must have dtype " + dtypeName(want) + ", got " +
                       dtypeName(t.dtype));
  if (t.numElements() != 1)
    fail(n.kernel, std::string(what) + " must have exactly one element (per-tensor), got shape " +
                       shapeStr(t.shape));
  return int32_t(nn::loadI(t, 0));
}

/// Everything common to qmatmul and qconv, checked.
struct QCall {
  const Names *names = nullptr;
  const TensorRef *act = nullptr; ///< A or X.
  bool actQuant = false;          ///< A is u8/i8.
  bool dynamic = false;           ///< A is f32, quantized at run time.
  float actScale = 1;
  int32_t actZp = 0;
  LogicalWeights w;               ///< values only when unpacked.
  const float *wScale = nullptr;
  BlockMap wMap;
  const int8_t *wZp = nullptr;    ///< null = 0; shape of w_scale.
  const TensorRef *bias = nullptr;
  const TensorRef *y = nullptr;
  bool yQuant = false;
  float yScale = 1;
  int32_t yZp = 0;
  fused::Activation actFn;

  bool integerPath() const { return actQuant || dynamic; }
};

/// Checks the operands shared by both kernels; `channels` (from the logical
/// weight shape) is the bias length. Unpacks W when `unpack`.
QCall parseCommon(const Names &n, const KernelArgs &a, bool unpack) {
  const char *K = n.kernel;
  kern::checkArity(K, a, 1, 9, 1, 1);
  for (size_t i : {size_t(0), size_t(3), size_t(4)})
    if (!opt(a, i))
      fail(K, "required input " + std::to_string(i) + " (" +
                  (i == 0 ? n.act : i == 3 ? "W" : "w_scale") + ") is absent");
  if (!nn::optOutput(a, 0))
    fail(K, "the output Y is absent");
  QCall c;
  c.names = &n;
  c.act = &a.inputs[0];
  c.dynamic = a.attrs.getInt("dynamic", 0) != 0;
  const DType ad = c.act->dtype;
  if (ad == DType::F32) {
    if (opt(a, 1) || opt(a, 2))
      fail(K, std::string(n.actScale) + "/" + n.actZp + " given but " + n.act +
                  " is f32 (weight-only or dynamic)");
  } else if (ad == DType::U8 || ad == DType::I8) {
    if (c.dynamic)
      fail(K, std::string("dynamic = 1 requires an f32 ") + n.act + ", got " + dtypeName(ad));
    if (!opt(a, 1))
      fail(K, std::string(n.act) + " is quantized (" + dtypeName(ad) + ") but " + n.actScale +
                  " is absent");
    c.actQuant = true;
    c.actScale = scalarF32(n, n.actScale, a.inputs[1]);
    if (const TensorRef *z = opt(a, 2))
      c.actZp = scalarZp(n, n.actZp, *z, ad);
  } else {
    fail(K, std::string(n.act) + " must be f32, u8 or i8, got " + dtypeName(ad));
  }
  // Weights: dtype, packing, scale blocks, zero point.
  if (unpack) {
    c.w = qnt::logicalWeights(K, "W", a.inputs[3], a.attrs);
  } else {
    // Same checks without unpacking (accepts of the fast path).
    const TensorRef &w = a.inputs[3];
    qnt::weightPacking(K, a.attrs, c.w.bits, c.w.sparse24);
    if (w.dtype != DType::I8)
      c.w = qnt::logicalWeights(K, "W", w, a.attrs); // throws
    c.w.shape = c.w.bits == 8 && !c.w.sparse24
                    ? w.shape
                    : qnt::packedWeightShape(K, "W", w, a.attrs, c.w.bits, c.w.sparse24);
  }
  const TensorRef &s = a.inputs[4];
  if (s.dtype != DType::F32)
    fail(K, std::string("w_scale must be f32, got ") + dtypeName(s.dtype));
  c.wMap = qnt::blockMap(K, "w_scale", s.shape, c.w.shape);
  c.wScale = s.as<float>();
  if (const TensorRef *z = opt(a, 5)) {
    if (z->dtype != DType::I8)
      fail(K, std::string("w_zero_point must be i8, got ") + dtypeName(z->dtype));
    if (z->shape != s.shape)
      fail(K, "w_zero_point of shape " + shapeStr(z->shape) + " must have w_scale's shape " +
                  shapeStr(s.shape));
    c.wZp = z->as<int8_t>();
  }
  if (const TensorRef *b = opt(a, 6)) {
    if (b->dtype != DType::F32)
      fail(K, std::string("bias must be f32, got ") + dtypeName(b->dtype));
    c.bias = b;
  }
  // Output.
  c.y = &a.outputs[0];
  if (const TensorRef *ys = opt(a, 7)) {
    c.yQuant = true;
    c.yScale = scalarF32(n, "y_scale", *ys);
    if (c.y->dtype != DType::U8 && c.y->dtype != DType::I8)
      fail(K, std::string("Y must be u8 or i8 when y_scale is given, got ") +
                  dtypeName(c.y->dtype));
    if (const TensorRef *z = opt(a, 8))
      c.yZp = scalarZp(n, "y_zero_point", *z, c.y->dtype);
  } else {
    if (c.y->dtype != DType::F32)
      fail(K, std::string("Y must be f32 when y_scale is absent, got ") + dtypeName(c.y->dtype));
    if (opt(a, 8))
      fail(K, "y_zero_point given without y_scale");
  }
  c.actFn = fused::activationFromAttrs(K, a.attrs);
  return c;
}

/// Checks the bias length against the number of output channels.
void checkBias(const QCall &c, int64_t channels) {
  if (c.bias && c.bias->numElements() != channels)
    fail(c.names->kernel, "bias of shape " + shapeStr(c.bias->shape) + " must have " +
                              std::to_string(channels) + " elements (one per output channel)");
}

/// Writes one output value: + bias, activation, then f32 or quantized.
struct Epilogue {
  const QCall &c;
  const float *bias;
  explicit Epilogue(const QCall &call)
      : c(call), bias(call.bias ? call.bias->as<float>() : nullptr) {}
  /// `v` is the product (before bias) of output element `i`, channel `ch`.
  void store(int64_t i, int64_t ch, double v) const {
    if (bias)
      v += bias[ch];
    v = fused::activate(c.actFn, v);
    storeFinal(i, v);
  }
  /// One reduction block: exact int32 sum `acc` times `mult` (a_scale *
  /// w_scale, an f32 product), plus the bias, each step rounded to f32 in
  /// the order of the graphs ONNX Runtime's dynamic quantization writes
  /// (Cast(acc) * (x_scale * w_scale) + bias), so those results are the same
  /// bits. (This file is built with -ffp-contract=off: no fused multiply-add
  /// merges the two roundings.)
  void storeBlock(int64_t i, int64_t ch, int32_t acc, float mult) const {
    float v = float(acc) * mult;
    if (bias)
      v = v + bias[ch];
    storeFinal(i, fused::activate(c.actFn, double(v)));
  }
  /// `v` already includes bias and activation.
  void storeFinal(int64_t i, double v) const {
    if (!c.yQuant) {
      c.y->as<float>()[i] = float(v);
      return;
    }
    const int32_t q = qnt::saturateRound(std::nearbyint(v / double(c.yScale)) + c.yZp,
                                         c.y->dtype);
    if (c.y->dtype == DType::U8)
      c.y->as<uint8_t>()[i] = uint8_t(q);
    else
      c.y->as<int8_t>()[i] = int8_t(q);
  }
};

/// ONNX DynamicQuantizeLinear of `x` to u8 (f32 arithmetic): scale =
/// (max(0, max x) - min(0, min x)) / 255, zp = saturate(round(-min / scale)).
/// An all-zero x (scale 0) gets scale 1, zp 0 (all values 0).
struct DynQuant {
  std::vector<uint8_t> q;
  float scale = 1;
  int32_t zp = 0;
};
/// The running minimum (from 0) and maximum (from 0) of `n` floats, eight
/// lanes at a time with AVX2 (vminps / vmaxps return their second operand
/// on a NaN, as `v < lo ? v : lo`: a NaN never replaces a bound, nor does
/// -0 replace +0, as std::min / std::max in order).
__attribute__((target("avx2"))) void minMaxAvx2(const float *p, int64_t n, float &lo,
                                                float &hi) {
  __m256 l = _mm256_setzero_ps(), h = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(p + i);
    l = _mm256_min_ps(v, l);
    h = _mm256_max_ps(v, h);
  }
  alignas(32) float ls[8], hs[8];
  _mm256_store_ps(ls, l);
  _mm256_store_ps(hs, h);
  lo = 0;
  hi = 0;
  for (int j = 0; j < 8; ++j) {
    lo = ls[j] < lo ? ls[j] : lo;
    hi = hs[j] > hi ? hs[j] : hi;
  }
  for (; i < n; ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
}

/// qnt::quantizeRun to u8 with AVX2, eight values at a time, the same steps
/// (f32 quotient, clamp, round half to even by adding and subtracting
/// 1.5 * 2^23, + zp); a NaN quotient is replaced by -zp first, which gives
/// the 0 of the scalar loop.
__attribute__((target("avx2"))) void quantizeU8Avx2(const float *v, int64_t n, float scale,
                                                    int32_t zp, uint8_t *out) {
  const float zf = float(zp);
  const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(zf);
  const __m256 lo = _mm256_set1_ps(-zf), hi = _mm256_set1_ps(255.0f - zf);
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 q = _mm256_div_ps(_mm256_loadu_ps(v + i), s);
    q = _mm256_blendv_ps(q, lo, _mm256_cmp_ps(q, q, _CMP_UNORD_Q));
    q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
    q = _mm256_add_ps(_mm256_sub_ps(_mm256_add_ps(q, magic), magic), z);
    const __m256i k = _mm256_cvtps_epi32(q);
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out + i), _mm_packus_epi16(w, w));
  }
  qnt::quantizeRun(v + i, n - i, scale, zp, out + i);
}

DynQuant dynamicQuantize(const TensorRef &x) {
  DynQuant d;
  const float *p = x.as<float>();
  const int64_t n = x.numElements();
  const bool avx2 = vec::hasAvx2Fma();
  float lo = 0, hi = 0;
  if (avx2) {
    minMaxAvx2(p, n, lo, hi);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, p[i]);
      hi = std::max(hi, p[i]);
    }
  }
  d.q.assign(size_t(n), 0);
  const float scale = (hi - lo) / 255.0f;
  if (scale == 0 || !std::isfinite(scale))
    return d; // scale 1, zp 0: every value is 0 (or non-finite input).
  d.scale = scale;
  d.zp = qnt::saturateRound(double(-lo / scale), DType::U8);
  // saturate(round_half_even(x / scale) + zp), the quotient in f32.
  if (avx2)
    quantizeU8Avx2(p, n, scale, d.zp, d.q.data());
  else
    qnt::quantizeRun(p, n, scale, d.zp, d.q.data());
  return d;
}

/// The activation operand dequantized to double (f32 as is).
std::vector<double> dequantActivation(const QCall &c) {
  const TensorRef &x = *c.act;
  const int64_t n = x.numElements();
  std::vector<double> out(static_cast<size_t>(n));
  if (c.dynamic) {
    DynQuant d = dynamicQuantize(x);
    for (int64_t i = 0; i < n; ++i)
      out[size_t(i)] = (double(d.q[size_t(i)]) - d.zp) * double(d.scale);
  } else if (c.actQuant) {
    for (int64_t i = 0; i < n; ++i)
      out[size_t(i)] = (nn::loadD(x, i) - c.actZp) * double(c.actScale);
  } else {
    const float *p = x.as<float>();
    for (int64_t i = 0; i < n; ++i)
      out[size_t(i)] = p[i];
  }
  return out;
}

/// Calls `f(flatIndex, paramIndex)` for every element of the weight.
template <typename F> void forEachWeight(const BlockMap &m, F &&f) {
  const Shape &shape = m.tensorShape;
  const int64_t n = numElements(shape);
  if (n == 0)
    return;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, m.at(idx));
    kern::nextIndex(idx, shape);
  }
}

/// The weights dequantized: (w - w_zp[block]) * w_scale[block].
template <typename T> std::vector<T> dequantWeights(const QCall &c) {
  std::vector<T> out(c.w.values.size());
  if (c.wMap.tensorShape.size() == 2) {
    // [rows, cols]: one scale row per block of rows.
    const int64_t R = c.wMap.tensorShape[0], C = c.wMap.tensorShape[1];
    const int64_t br = c.wMap.block[0], bc = c.wMap.block[1], sc = c.wMap.paramShape[1];
    std::vector<T> s(static_cast<size_t>(C)), z(static_cast<size_t>(C));
    for (int64_t r = 0; r < R; ++r) {
      if (r % br == 0)
        for (int64_t j = 0; j < C; ++j) {
          const int64_t p = (r / br) * sc + j / bc;
          s[size_t(j)] = T(c.wScale[p]);
          z[size_t(j)] = T(c.wZp ? c.wZp[p] : 0);
        }
      const int8_t *q = c.w.values.data() + r * C;
      T *o = out.data() + r * C;
      for (int64_t j = 0; j < C; ++j)
        o[j] = (T(q[j]) - z[size_t(j)]) * s[size_t(j)];
    }
    return out;
  }
  forEachWeight(c.wMap, [&](int64_t i, int64_t p) {
    const double z = c.wZp ? c.wZp[p] : 0;
    out[size_t(i)] = T((double(c.w.values[size_t(i)]) - z) * double(c.wScale[p]));
  });
  return out;
}

/// Splits [0, n) into chunks run on up to `threads` threads.
template <typename F> void parallelFor(int threads, int64_t n, int64_t work, F &&f) {
  const int64_t t = std::min<int64_t>({int64_t(std::max(threads, 1)), n,
                                       std::max<int64_t>(1, work / (1 << 16))});
  if (t <= 1) {
    f(int64_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t chunk = (n + t - 1) / t;
  for (int64_t i = 1; i < t; ++i) {
    const int64_t b = i * chunk, e = std::min(n, b + chunk);
    if (b < e)
      pool.emplace_back([&f, b, e] { f(b, e); });
  }
  f(int64_t(0), std::min(n, chunk));
  for (std::thread &th : pool)
    th.join();
}

/// Runs registered kernel `name` (its fast path when one accepts the call);
/// errors are re-thrown prefixed with `k`.
void callRegistered(const char *k, const char *name, const Attrs &attrs,
                    std::vector<TensorRef> ins, std::vector<TensorRef> outs, int threads) {
  KernelArgs args{attrs, std::move(ins), std::move(outs), std::max(1, threads)};
  const KernelRegistry &r = KernelRegistry::global();
  const KernelEntry *e = nullptr;
  try {
    e = r.lookup(name, args, true);
  } catch (const KernelError &) {
    e = r.lookup(name, args, false);
  }
  if (!e)
    fail(k, std::string("kernel '") + name + "' is not registered");
  try {
    e->fn(args);
  } catch (const KernelError &err) {
    throw KernelError{std::string(k) + ": " + err.message};
  }
}

/// The epilogue attributes (and, for conv, the Conv attributes) of `a`.
Attrs forwardedAttrs(const Attrs &a, bool conv) {
  Attrs out;
  std::vector<const char *> keys = {"activation", "activation_alpha", "activation_beta"};
  if (conv)
    for (const char *k : {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
      keys.push_back(k);
  for (const char *k : keys)
    if (const AttrValue *v = a.find(k))
      out.set(k, *v);
  return out;
}

/// Writes a finished f32 result (bias and activation applied) into Y.
void storeAll(const QCall &c, const std::vector<float> &v) {
  Epilogue ep(c);
  for (size_t i = 0; i < v.size(); ++i)
    ep.storeFinal(int64_t(i), v[i]);
}

//===----------------------------------------------------------------------===//
// int32 dot products
//===----------------------------------------------------------------------===//

/// Σ a[i] * b[i] in int32 (exact for |a|, |b| <= 255 and n < 33025).
inline int32_t dot16(const int16_t *a, const int16_t *b, int64_t n) {
  int32_t acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i)
    acc += int32_t(a[i]) * int32_t(b[i]);
  return acc;
}

/// Four dot products of `a` with b0..b3.
inline void dot16x4(const int16_t *a, const int16_t *b0, const int16_t *b1, const int16_t *b2,
                    const int16_t *b3, int64_t n, int32_t out[4]) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (int64_t i = 0; i < n; ++i) {
    const int32_t av = a[i];
    s0 += av * int32_t(b0[i]);
    s1 += av * int32_t(b1[i]);
    s2 += av * int32_t(b2[i]);
    s3 += av * int32_t(b3[i]);
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

//===----------------------------------------------------------------------===//
// The oneDNN int8 path (sums from DnnlQuantized.cpp)
//===----------------------------------------------------------------------===//

/// Whether call `c` has the form of the oneDNN int8 path: integer path,
/// `w_bits` = 8, one w_scale block along the weight axes [redBegin, redEnd)
/// (the reduction axes), and a non-empty reduction of `red` elements short
/// enough for exact int32 sums (as the integer loop's).
bool int8Form(const QCall &c, size_t redBegin, size_t redEnd, int64_t red) {
  if (!c.integerPath() || c.w.bits != 8 || c.w.sparse24 || red <= 0 || red >= 33025)
    return false;
  for (size_t d = redBegin; d < redEnd; ++d)
    if (c.wMap.paramShape[d] != 1)
      return false;
  return true;
}

/// Whether w_zero_point is absent or all zero (oneDNN takes no weight zero
/// points: a non-zero one is compensated after oneDNN's sums).
bool noWeightZeroPoint(const QCall &c) {
  if (!c.wZp)
    return true;
  return std::all_of(c.wZp, c.wZp + numElements(c.wMap.paramShape),
                     [](int8_t z) { return z == 0; });
}

/// The activation as the oneDNN path reads it, and its scale in `scale`.
/// In dynamic mode it is quantized here (kept in `dq`).
qnt::Int8Activation int8Activation(const QCall &c, DynQuant &dq, float &scale) {
  if (c.dynamic) {
    dq = dynamicQuantize(*c.act);
    scale = dq.scale;
    return {dq.q.data(), dq.zp};
  }
  scale = c.actScale;
  return {c.act->data, c.actZp};
}

/// The per-output-channel weight zero points of an int8-form call (one
/// w_scale block along the reduction axes, so w_zero_point varies along the
/// output channels only): `out` gets one value per channel of the `channels`
/// along weight axis `axis`; false (out untouched) when they are all zero.
bool channelZeroPoints(const QCall &c, size_t axis, int64_t channels,
                       std::vector<int32_t> &out) {
  if (noWeightZeroPoint(c))
    return false;
  out.resize(size_t(channels));
  const int64_t b = c.wMap.block[axis];
  for (int64_t m = 0; m < channels; ++m)
    out[size_t(m)] = c.wZp[m / b];
  return true;
}

/// One activation value minus its zero point, as oneDNN reads it.
inline int32_t actAt(const qnt::Int8Activation &act, bool u8, int64_t i) {
  return (u8 ? int32_t(static_cast<const uint8_t *>(act.data)[i])
             : int32_t(static_cast<const int8_t *>(act.data)[i])) -
         act.zeroPoint;
}

/// col[i] += x[i] for `n` u8 (or i8) activation values, AVX2 when `avx2`.
__attribute__((target("avx2"))) void addColumnAvx2(const void *x, bool u8, int64_t n,
                                                   int32_t *col) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(
        static_cast<const uint8_t *>(x) + i));
    const __m256i w = u8 ? _mm256_cvtepu8_epi32(b) : _mm256_cvtepi8_epi32(b);
    __m256i *c = reinterpret_cast<__m256i *>(col + i);
    _mm256_storeu_si256(c, _mm256_add_epi32(_mm256_loadu_si256(c), w));
  }
  for (; i < n; ++i)
    col[i] += u8 ? int32_t(static_cast<const uint8_t *>(x)[i])
                 : int32_t(static_cast<const int8_t *>(x)[i]);
}

void addColumn(const void *x, bool u8, int64_t n, int32_t *col, bool avx2) {
  if (avx2)
    return addColumnAvx2(x, u8, n, col);
  for (int64_t i = 0; i < n; ++i)
    col[i] += u8 ? int32_t(static_cast<const uint8_t *>(x)[i])
                 : int32_t(static_cast<const int8_t *>(x)[i]);
}

/// ceil(a / b) for b > 0.
inline int64_t ceilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/// The weight zero-point term of the int8 convolution: oneDNN sums
/// Σ (x − x_zp) · w, the call needs Σ (x − x_zp) · (w − w_zp[m]), so
/// w_zp[m] times the window sum of (x − x_zp) (over the group's input
/// channels and the kernel window, padding contributing 0 as in the
/// integer loop) is subtracted. Writes the window sums, [N, group, out
/// positions], to `sums` (exact in int32: |x − x_zp| ≤ 255 and a reduction
/// below 33025). The channel sums come first (one pass over X), then each
/// kernel tap adds its run of the last spatial axis to a row of sums.
void convWindowSums(const nn::ConvGeometry &g, const qnt::Int8Activation &act, bool u8,
                    int threads, std::vector<int32_t> &sums) {
  const int64_t cPerG = g.inChannels / g.group;
  const int64_t inSize = g.in[0] * g.in[1] * g.in[2];
  const int64_t outSize = g.out[0] * g.out[1] * g.out[2];
  const bool avx2 = vec::hasAvx2Fma();
  // Per tap k2 of the last axis: the outputs o2 whose input is inside.
  std::vector<int64_t> o2Begin(size_t(g.kernel[2])), o2End(size_t(g.kernel[2]));
  for (int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
    const int64_t shift = k2 * g.dilations[2] - g.padBegin[2]; // i2 = o2 * s + shift
    o2Begin[size_t(k2)] = std::clamp<int64_t>(ceilDiv(-shift, g.strides[2]), 0, g.out[2]);
    o2End[size_t(k2)] =
        std::clamp<int64_t>(ceilDiv(g.in[2] - shift, g.strides[2]), 0, g.out[2]);
  }
  sums.assign(size_t(g.batch * g.group * outSize), 0);
  parallelFor(threads, g.batch * g.group, g.batch * g.inChannels * inSize,
              [&](int64_t jb, int64_t je) {
    std::vector<int32_t> col(static_cast<size_t>(inSize));
    for (int64_t job = jb; job < je; ++job) {
      const int64_t n = job / g.group, grp = job % g.group;
      // Σ over the group's channels at every input position.
      std::fill(col.begin(), col.end(), 0);
      const int64_t base = (n * g.inChannels + grp * cPerG) * inSize;
      for (int64_t ci = 0; ci < cPerG; ++ci)
        addColumn(static_cast<const uint8_t *>(act.data) + base + ci * inSize, u8, inSize,
                  col.data(), avx2);
      const int32_t colZp = int32_t(cPerG) * act.zeroPoint;
      for (int64_t i = 0; i < inSize; ++i)
        col[size_t(i)] -= colZp;
      // Σ over the kernel window, a row of outputs (last axis) at a time.
      int32_t *out = sums.data() + job * outSize;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
          int32_t *row = out + (o0 * g.out[1] + o1) * g.out[2];
          for (int64_t k0 = 0; k0 < g.kernel[0]; ++k0) {
            const int64_t i0 = o0 * g.strides[0] - g.padBegin[0] + k0 * g.dilations[0];
            if (i0 < 0 || i0 >= g.in[0])
              continue;
            for (int64_t k1 = 0; k1 < g.kernel[1]; ++k1) {
              const int64_t i1 = o1 * g.strides[1] - g.padBegin[1] + k1 * g.dilations[1];
              if (i1 < 0 || i1 >= g.in[1])
                continue;
              const int32_t *cr = col.data() + (i0 * g.in[1] + i1) * g.in[2];
              for (int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                const int64_t shift = k2 * g.dilations[2] - g.padBegin[2];
                const int64_t b = o2Begin[size_t(k2)], e = o2End[size_t(k2)];
                if (g.strides[2] == 1) {
                  const int32_t *src = cr + (b + shift);
                  int32_t *dst = row + b;
#pragma omp simd
                  for (int64_t j = 0; j < e - b; ++j)
                    dst[j] += src[j];
                } else {
                  for (int64_t o2 = b; o2 < e; ++o2)
                    row[o2] += cr[o2 * g.strides[2] + shift];
                }
              }
            }
          }
        }
    }
  });
}

/// The exact sum acc − zp · window: the result is the call's exact int32
/// sum (see convWindowSums), so computing modulo 2^32 gives it.
inline int32_t compensated(int32_t acc, int32_t zp, int32_t window) {
  return int32_t(uint32_t(acc) - uint32_t(zp) * uint32_t(window));
}

/// Y's value in f32 from its exact sum: Cast(acc) · mult + bias, each step
/// rounded to f32 as ONNX Runtime's dynamic quantization graphs do, then a
/// ReLU when `relu` (exact; other activations follow in finishInt8).
inline float scaled(int32_t acc, float mult, float bias, bool relu) {
  const float v = float(acc) * mult + bias;
  return relu ? (v > 0 ? v : 0.0f) : v;
}

/// y[i] = scaled(compensated(acc[i], zp, window[i]), mult, bias, relu) for
/// `n` values (no compensation when `window` is null), eight at a time with
/// AVX2: the same int32 arithmetic modulo 2^32, the same f32 conversion,
/// product and sum (no fused multiply-add), and vmaxps(v, 0), which gives
/// 0 for a NaN as `v > 0 ? v : 0`.
__attribute__((target("avx2"))) void scaledRunAvx2(const int32_t *acc, const int32_t *window,
                                                   int32_t zp, float mult, float bias,
                                                   bool relu, float *y, int64_t n) {
  const __m256i z = _mm256_set1_epi32(zp);
  const __m256 m = _mm256_set1_ps(mult), b = _mm256_set1_ps(bias), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(acc + i));
    if (window)
      a = _mm256_sub_epi32(
          a, _mm256_mullo_epi32(
                 z, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(window + i))));
    __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a), m), b);
    if (relu)
      v = _mm256_max_ps(v, zero);
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i)
    y[i] = scaled(window ? compensated(acc[i], zp, window[i]) : acc[i], mult, bias, relu);
}

/// The rest of the oneDNN int8 path's epilogue, in f32 (the contract's
/// 1e-4 / ±1): `v` holds Y's values with scale and bias applied (Y itself
/// when it is f32), and a ReLU (which the callers apply with the scale).
/// Applies any other activation (oneDNN's eltwise when it has it, else per
/// element in double) and writes a quantized Y.
void finishInt8(const QCall &c, float *v, int threads) {
  const int64_t n = c.y->numElements();
  if (c.actFn.kind != fused::Act::None && c.actFn.kind != fused::Act::Relu &&
      !qnt::dnnlActivate(c.actFn, v, n, threads))
    fused::applyActivation(c.actFn, v, n);
  if (!c.yQuant)
    return;
  parallelFor(threads, n, n, [&](int64_t b, int64_t e) {
    if (c.y->dtype == DType::U8)
      qnt::quantizeRun(v + b, e - b, c.yScale, c.yZp, c.y->as<uint8_t>() + b);
    else
      qnt::quantizeRun(v + b, e - b, c.yScale, c.yZp, c.y->as<int8_t>() + b);
  });
}

//===----------------------------------------------------------------------===//
// qmatmul
//===----------------------------------------------------------------------===//

struct MatmulDims {
  int64_t rows = 0, K = 0, N = 0;
};

MatmulDims checkMatmul(const QCall &c) {
  const char *K = "qmatmul";
  if (c.w.shape.size() != 2)
    fail(K, "W must be 2-D [K, N] (logical shape), got " + shapeStr(c.w.shape));
  const TensorRef &A = *c.act;
  MatmulDims d;
  d.K = c.w.shape[0];
  d.N = c.w.shape[1];
  if (A.rank() < 1 || A.shape.back() != d.K)
    fail(K, "A of shape " + shapeStr(A.shape) + " does not match W " + shapeStr(c.w.shape) +
                " (last dimension of A must be K = " + std::to_string(d.K) + ")");
  Shape ys(A.shape.begin(), A.shape.end() - 1);
  ys.push_back(d.N);
  if (c.y->shape != ys)
    fail(K, "Y has shape " + shapeStr(c.y->shape) + ", expected " + shapeStr(ys));
  d.rows = d.K ? A.numElements() / d.K : numElements(Shape(A.shape.begin(), A.shape.end() - 1));
  checkBias(c, d.N);
  return d;
}

/// Reference: everything dequantized to double, triple loop.
void qmatmulReference(KernelArgs &a) {
  QCall c = parseCommon(kMatmul, a, true);
  const MatmulDims d = checkMatmul(c);
  const std::vector<double> A = dequantActivation(c), W = dequantWeights<double>(c);
  Epilogue ep(c);
  std::vector<double> row(static_cast<size_t>(d.N));
  for (int64_t r = 0; r < d.rows; ++r) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int64_t k = 0; k < d.K; ++k) {
      const double av = A[size_t(r * d.K + k)];
      for (int64_t n = 0; n < d.N; ++n)
        row[size_t(n)] += av * W[size_t(k * d.N + n)];
    }
    for (int64_t n = 0; n < d.N; ++n)
      ep.store(r * d.N + n, n, row[size_t(n)]);
  }
}

//===----------------------------------------------------------------------===//
// Weight-only qmatmul, streaming the weights
//===----------------------------------------------------------------------===//

/// Row `k`, columns [n0, n0 + nb), of the stored weights `w` (int8 [K, N],
/// or packed int4 / int2 of that logical shape) as f32 values (no scale).
inline __attribute__((always_inline)) void loadWeightRow(const int8_t *w, int bits, int64_t N,
                                                         int64_t k, int64_t n0, int64_t nb,
                                                         float *out) {
  const int64_t base = k * N + n0;
  if (bits == 8) {
    const int8_t *p = w + base;
    for (int64_t j = 0; j < nb; ++j)
      out[j] = float(p[j]);
    return;
  }
  for (int64_t j = 0; j < nb; ++j)
    out[j] = float(qnt::weightAtBits(w, bits, base + j));
}

/// loadWeightRow for a 2:4 sparse weight: row k's kept values where the
/// index names row k % 4 of its group, zeros elsewhere.
inline void loadSparseRow(const qnt::Sparse24View &s, int64_t k, int64_t n0, int64_t nb,
                          float *out) {
  const int64_t g = k / 4;
  const int t = int(k % 4);
  for (int64_t j = 0; j < nb; ++j) {
    const int nib = s.nibble(g, n0 + j);
    out[j] = (nib & 3) == t    ? float(s.kept(g, 0, n0 + j))
             : (nib >> 2) == t ? float(s.kept(g, 1, n0 + j))
                               : 0.0f;
  }
}

/// accumulateRows for a 2:4 sparse weight (any rows, any k range): each
/// row of W expanded, then multiply-added.
void accumulateSparseRows(const float *a, int64_t rows, int64_t K, const qnt::Sparse24View &s,
                          int64_t k0, int64_t k1, int64_t n0, int64_t nb, float *wf,
                          float *acc) {
  for (int64_t k = k0; k < k1; ++k) {
    loadSparseRow(s, k, n0, nb, wf);
    for (int64_t r = 0; r < rows; ++r) {
      const float av = a[r * K + k];
      float *ar = acc + r * nb;
      for (int64_t j = 0; j < nb; ++j)
        ar[j] += av * wf[j];
    }
  }
}

/// acc[r * nb + j] += sum over k in [k0, k1) of a[r * K + k] * w[k, n0 + j]
/// for `rows` rows (the unscaled weights, a row at a time).
inline __attribute__((always_inline)) void accumulateRows(const float *a, int64_t rows,
                                                          int64_t K, const int8_t *w, int bits,
                                                          int64_t N, int64_t k0, int64_t k1,
                                                          int64_t n0, int64_t nb, float *wf,
                                                          float *acc) {
  for (int64_t k = k0; k < k1; ++k) {
    loadWeightRow(w, bits, N, k, n0, nb, wf);
    for (int64_t r = 0; r < rows; ++r) {
      const float av = a[r * K + k];
      float *ar = acc + r * nb;
      for (int64_t j = 0; j < nb; ++j)
        ar[j] += av * wf[j];
    }
  }
}

/// Eight int8 values at `p` widened to f32.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 widen8(const int8_t *p) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p))));
}

/// Eight packed int4 values starting at element `index` (even) of `w`
/// widened to f32: bytes index/2 .. index/2 + 3, low nibble first, each a
/// signed two's-complement int4.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 widen8Int4(const int8_t *w,
                                                                           int64_t index) {
  int32_t u;
  std::memcpy(&u, w + index / 2, 4);
  const __m128i b = _mm_cvtsi32_si128(u), m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(8);
  __m128i x = _mm_unpacklo_epi8(_mm_and_si128(b, m), _mm_and_si128(_mm_srli_epi16(b, 4), m));
  x = _mm_sub_epi8(_mm_xor_si128(x, e), e); // 0..15 -> -8..7
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(x));
}

/// Sixteen packed int4 values starting at element `index` (even) widened to
/// f32, the first eight in `lo`: one 8-byte load for both.
__attribute__((target("avx2,fma"), always_inline)) inline void
widen16Int4(const int8_t *w, int64_t index, __m256 &lo, __m256 &hi) {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(w + index / 2));
  const __m128i m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(8);
  __m128i x = _mm_unpacklo_epi8(_mm_and_si128(b, m), _mm_and_si128(_mm_srli_epi16(b, 4), m));
  x = _mm_sub_epi8(_mm_xor_si128(x, e), e); // 0..15 -> -8..7
  lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(x));
  hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(x, 8)));
}

/// The f32 value of each 2-bit code for a lane permute: an index's low three
/// bits address it, so the next code's low bit (bit 2) does not matter.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 int2Table() {
  return _mm256_setr_ps(0.0f, 1.0f, -2.0f, -1.0f, 0.0f, 1.0f, -2.0f, -1.0f);
}

/// Eight packed int2 values starting at element `index` (a multiple of 4)
/// widened to f32: each lane shifts its code to the bottom and looks its
/// value up with a lane permute.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 widen8Int2(const int8_t *w,
                                                                           int64_t index) {
  uint16_t u;
  std::memcpy(&u, w + index / 4, 2);
  const __m256i v = _mm256_set1_epi32(int32_t(u));
  const __m256i sh = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  return _mm256_permutevar8x32_ps(int2Table(), _mm256_srlv_epi32(v, sh));
}

/// Sixteen packed int2 values starting at element `index` (a multiple of 4)
/// widened to f32, the first eight in `lo`: one 4-byte load for both.
__attribute__((target("avx2,fma"), always_inline)) inline void
widen16Int2(const int8_t *w, int64_t index, __m256 &lo, __m256 &hi) {
  uint32_t u;
  std::memcpy(&u, w + index / 4, 4);
  const __m256i v = _mm256_set1_epi32(int32_t(u));
  const __m256i shLo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i shHi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
  const __m256 table = int2Table();
  lo = _mm256_permutevar8x32_ps(table, _mm256_srlv_epi32(v, shLo));
  hi = _mm256_permutevar8x32_ps(table, _mm256_srlv_epi32(v, shHi));
}

/// Eight weights of `Bits` (8, or 4 / 2 packed) starting at element `index`.
template <int Bits>
__attribute__((target("avx2,fma"), always_inline)) inline __m256 widenAt(const int8_t *w,
                                                                        int64_t index) {
  if constexpr (Bits == 8)
    return widen8(w + index);
  else if constexpr (Bits == 4)
    return widen8Int4(w, index);
  else
    return widen8Int2(w, index);
}

/// Sixteen packed weights of `Bits` (4 or 2) starting at element `index`.
template <int Bits>
__attribute__((target("avx2,fma"), always_inline)) inline void widen16At(const int8_t *w,
                                                                        int64_t index,
                                                                        __m256 &lo, __m256 &hi) {
  if constexpr (Bits == 4)
    widen16Int4(w, index, lo, hi);
  else
    widen16Int2(w, index, lo, hi);
}

/// Weight `index` of `w` (8-bit, or 4 / 2-bit packed) as f32.
template <int Bits> inline float weightAt(const int8_t *w, int64_t index) {
  if constexpr (Bits == 8)
    return float(w[index]);
  else if constexpr (Bits == 4)
    return float(qnt::int4At(w, index));
  else
    return float(qnt::int2At(w, index));
}

/// accumulateRows for one row of A (decode) with AVX2 + FMA: W streamed row
/// by row, eight rows per pass over the panel's accumulators (which stay in
/// L1), 8- or 4-bit weights widened eight at a time (4-bit: N and n0 even,
/// so every group of eight starts on a byte).
template <int Bits>
__attribute__((target("avx2,fma"))) void accumulateOneRowAvx2(const float *a, const int8_t *w,
                                                              int64_t N, int64_t k0, int64_t k1,
                                                              int64_t n0, int64_t nb,
                                                              float *acc) {
  const int64_t nv = nb & ~int64_t(7);
  int64_t k = k0;
  for (; k + 8 <= k1; k += 8) {
    __m256 x[8];
    int64_t p[8];
    for (int i = 0; i < 8; ++i) {
      x[i] = _mm256_set1_ps(a[k + i]);
      p[i] = (k + i) * N + n0;
    }
    int64_t j = 0;
    if constexpr (Bits < 8) {
      // Sixteen columns per pass: one load widens two registers.
      const int64_t nv16 = nb & ~int64_t(15);
      for (; j < nv16; j += 16) {
        if ((j & 63) == 0)
          for (int i = 0; i < 8; ++i)
            _mm_prefetch(reinterpret_cast<const char *>(w + (p[i] + 16 * N + j) * Bits / 8),
                         _MM_HINT_T0);
        __m256 l, h, c0, c1, d0, d1;
        widen16At<Bits>(w, p[0] + j, l, h);
        c0 = _mm256_mul_ps(x[0], l);
        d0 = _mm256_mul_ps(x[0], h);
        widen16At<Bits>(w, p[4] + j, l, h);
        c1 = _mm256_mul_ps(x[4], l);
        d1 = _mm256_mul_ps(x[4], h);
        for (int i : {1, 2, 3}) {
          widen16At<Bits>(w, p[i] + j, l, h);
          c0 = _mm256_fmadd_ps(x[i], l, c0);
          d0 = _mm256_fmadd_ps(x[i], h, d0);
          widen16At<Bits>(w, p[i + 4] + j, l, h);
          c1 = _mm256_fmadd_ps(x[i + 4], l, c1);
          d1 = _mm256_fmadd_ps(x[i + 4], h, d1);
        }
        _mm256_storeu_ps(acc + j,
                         _mm256_add_ps(_mm256_loadu_ps(acc + j), _mm256_add_ps(c0, c1)));
        _mm256_storeu_ps(acc + j + 8,
                         _mm256_add_ps(_mm256_loadu_ps(acc + j + 8), _mm256_add_ps(d0, d1)));
      }
    }
    for (; j < nv; j += 8) {
      // Each row is a short stream (one panel) that the hardware prefetcher
      // barely learns before it ends: fetch the next eight rows' line ahead
      // of time (a prefetch past the weights' end does not fault).
      if ((j & 63) == 0)
        for (int i = 0; i < 8; ++i)
          _mm_prefetch(reinterpret_cast<const char *>(w + (p[i] + 16 * N + j) * Bits / 8),
                       _MM_HINT_T0);
      // Two independent chains of four products each (written out: the
      // runtime builds at -O2, which does not unroll a loop here).
      __m256 c0 = _mm256_mul_ps(x[0], widenAt<Bits>(w, p[0] + j));
      __m256 c1 = _mm256_mul_ps(x[4], widenAt<Bits>(w, p[4] + j));
      c0 = _mm256_fmadd_ps(x[1], widenAt<Bits>(w, p[1] + j), c0);
      c1 = _mm256_fmadd_ps(x[5], widenAt<Bits>(w, p[5] + j), c1);
      c0 = _mm256_fmadd_ps(x[2], widenAt<Bits>(w, p[2] + j), c0);
      c1 = _mm256_fmadd_ps(x[6], widenAt<Bits>(w, p[6] + j), c1);
      c0 = _mm256_fmadd_ps(x[3], widenAt<Bits>(w, p[3] + j), c0);
      c1 = _mm256_fmadd_ps(x[7], widenAt<Bits>(w, p[7] + j), c1);
      _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(acc + j), _mm256_add_ps(c0, c1)));
    }
    for (int64_t j = nv; j < nb; ++j)
      for (int i = 0; i < 8; ++i)
        acc[j] += a[k + i] * weightAt<Bits>(w, p[i] + j);
  }
  for (; k < k1; ++k)
    for (int64_t j = 0; j < nb; ++j)
      acc[j] += a[k] * weightAt<Bits>(w, k * N + n0 + j);
}

/// accumulateRows with AVX2 + FMA (chosen at run time): int8 weights, and
/// int4 ones when N and n0 are even, are widened to f32 eight at a time in
/// registers (other int4 calls take the generic loop).
template <int Bits>
__attribute__((target("avx2,fma"))) void accumulateRowsAvx2Bits(const float *a, int64_t rows,
                                                                int64_t K, const int8_t *w,
                                                                int64_t N, int64_t k0, int64_t k1,
                                                                int64_t n0, int64_t nb,
                                                                float *acc) {
  if (rows == 1) {
    accumulateOneRowAvx2<Bits>(a, w, N, k0, k1, n0, nb, acc);
    return;
  }
  const int64_t nv = nb & ~int64_t(7);
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t p = k * N + n0;
    for (int64_t j = 0; j < nv; j += 8) {
      const __m256 wv = widenAt<Bits>(w, p + j);
      for (int64_t r = 0; r < rows; ++r) {
        float *ar = acc + r * nb + j;
        _mm256_storeu_ps(ar, _mm256_fmadd_ps(_mm256_set1_ps(a[r * K + k]), wv,
                                             _mm256_loadu_ps(ar)));
      }
    }
    for (int64_t j = nv; j < nb; ++j)
      for (int64_t r = 0; r < rows; ++r)
        acc[r * nb + j] += a[r * K + k] * weightAt<Bits>(w, p + j);
  }
}

void accumulateRowsAvx2(const float *a, int64_t rows, int64_t K, const int8_t *w, int bits,
                        int64_t N, int64_t k0, int64_t k1, int64_t n0, int64_t nb, float *wf,
                        float *acc) {
  if (bits == 8)
    accumulateRowsAvx2Bits<8>(a, rows, K, w, N, k0, k1, n0, nb, acc);
  else if (bits == 4 && N % 2 == 0 && n0 % 2 == 0)
    accumulateRowsAvx2Bits<4>(a, rows, K, w, N, k0, k1, n0, nb, acc);
  else if (bits == 2 && N % 4 == 0 && n0 % 4 == 0)
    accumulateRowsAvx2Bits<2>(a, rows, K, w, N, k0, k1, n0, nb, acc);
  else
    accumulateRows(a, rows, K, w, bits, N, k0, k1, n0, nb, wf, acc);
}

/// One row of A against a 2:4 sparse W with AVX2 + FMA, groups [g0, g1) of
/// four rows of W: per group and eight columns the two kept values are
/// widened and each multiplies the activation its index picks, a lane
/// permute of the group's four activations (vpermilps reads an index's low
/// two bits). Two groups per pass over the accumulators. Needs N % 4 == 0
/// and n0 % 4 == 0 (every load starts on a byte).
/// The 2:4 indices of eight columns from element `at` (even) of the index
/// nibbles: i0 the first kept row of each column (in the low two bits), i1
/// the second.
__attribute__((target("avx2,fma"), always_inline)) inline void
sparseIndices(const uint8_t *index, int64_t at, __m256i &i0, __m256i &i1) {
  uint32_t u;
  std::memcpy(&u, index + at / 2, 4);
  i0 = _mm256_srlv_epi32(_mm256_set1_epi32(int32_t(u)),
                         _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
  i1 = _mm256_srli_epi32(i0, 2);
}

template <int Bits>
__attribute__((target("avx2,fma"))) void
accumulateSparseOneRowAvx2(const float *a, const qnt::Sparse24View &s, int64_t g0, int64_t g1,
                           int64_t n0, int64_t nb, float *acc) {
  const int64_t N = s.N, nv = nb & ~int64_t(7);
  int64_t g = g0;
  for (; g + 2 <= g1; g += 2) {
    const __m256 xa = _mm256_broadcast_ps(reinterpret_cast<const __m128 *>(a + 4 * g));
    const __m256 xb = _mm256_broadcast_ps(reinterpret_cast<const __m128 *>(a + 4 * g + 4));
    const int64_t pa = 2 * g * N + n0, pb = pa + 2 * N;
    for (int64_t j = 0; j < nv; j += 8) {
      __m256i a0, a1, b0, b1;
      sparseIndices(s.index, g * N + n0 + j, a0, a1);
      sparseIndices(s.index, (g + 1) * N + n0 + j, b0, b1);
      __m256 c0 = _mm256_mul_ps(_mm256_permutevar_ps(xa, a0), widenAt<Bits>(s.values, pa + j));
      __m256 c1 = _mm256_mul_ps(_mm256_permutevar_ps(xb, b0), widenAt<Bits>(s.values, pb + j));
      c0 = _mm256_fmadd_ps(_mm256_permutevar_ps(xa, a1), widenAt<Bits>(s.values, pa + N + j), c0);
      c1 = _mm256_fmadd_ps(_mm256_permutevar_ps(xb, b1), widenAt<Bits>(s.values, pb + N + j), c1);
      _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(acc + j), _mm256_add_ps(c0, c1)));
    }
  }
  for (; g < g1; ++g) {
    const __m256 xa = _mm256_broadcast_ps(reinterpret_cast<const __m128 *>(a + 4 * g));
    const int64_t pa = 2 * g * N + n0;
    for (int64_t j = 0; j < nv; j += 8) {
      __m256i a0, a1;
      sparseIndices(s.index, g * N + n0 + j, a0, a1);
      __m256 c0 = _mm256_mul_ps(_mm256_permutevar_ps(xa, a0), widenAt<Bits>(s.values, pa + j));
      c0 = _mm256_fmadd_ps(_mm256_permutevar_ps(xa, a1), widenAt<Bits>(s.values, pa + N + j), c0);
      _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(acc + j), c0));
    }
  }
  // The columns past the last group of eight.
  for (int64_t gg = g0; gg < g1; ++gg)
    for (int64_t j = nv; j < nb; ++j) {
      const int nib = s.nibble(gg, n0 + j);
      acc[j] += a[4 * gg + (nib & 3)] * float(s.kept(gg, 0, n0 + j)) +
                a[4 * gg + (nib >> 2)] * float(s.kept(gg, 1, n0 + j));
    }
}

/// The product of a 2:4 sparse W's rows [k0, k1) with `rows` rows of A into
/// `acc` (accumulateRows' contract): one row with AVX2 when the range is
/// whole groups and the layout allows, else row by row expanded.
void accumulateSparse(bool avx2, const float *a, int64_t rows, int64_t K,
                      const qnt::Sparse24View &s, int64_t k0, int64_t k1, int64_t n0,
                      int64_t nb, float *wf, float *acc) {
  if (avx2 && rows == 1 && k0 % 4 == 0 && k1 % 4 == 0 && s.N % 4 == 0 && n0 % 4 == 0) {
    if (s.bits == 8)
      accumulateSparseOneRowAvx2<8>(a, s, k0 / 4, k1 / 4, n0, nb, acc);
    else if (s.bits == 4)
      accumulateSparseOneRowAvx2<4>(a, s, k0 / 4, k1 / 4, n0, nb, acc);
    else
      accumulateSparseOneRowAvx2<2>(a, s, k0 / 4, k1 / 4, n0, nb, acc);
    return;
  }
  accumulateSparseRows(a, rows, K, s, k0, k1, n0, nb, wf, acc);
}

/// y[j] += (acc[j] - zp[j] * sum) * scale[j] for j < nb (a block's
/// accumulators scaled per column: zero points and scales one per column).
__attribute__((target("avx2,fma"))) void scaleBlockAvx2(float *y, const float *acc, int64_t nb,
                                                        const float *scale, const int8_t *zp,
                                                        float sum) {
  const int64_t nv = nb & ~int64_t(7);
  const __m256 s = _mm256_set1_ps(sum);
  for (int64_t j = 0; j < nv; j += 8) {
    __m256 v = _mm256_loadu_ps(acc + j);
    if (zp)
      v = _mm256_sub_ps(v, _mm256_mul_ps(widen8(zp + j), s));
    _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_loadu_ps(y + j),
                                          _mm256_mul_ps(v, _mm256_loadu_ps(scale + j))));
  }
  for (int64_t j = nv; j < nb; ++j)
    y[j] += (acc[j] - (zp ? float(zp[j]) : 0.0f) * sum) * scale[j];
}

/// accumulateRows for the baseline instruction set.
void accumulateRowsBase(const float *a, int64_t rows, int64_t K, const int8_t *w, int bits,
                        int64_t N, int64_t k0, int64_t k1, int64_t n0, int64_t nb, float *wf,
                        float *acc) {
  accumulateRows(a, rows, K, w, bits, N, k0, k1, n0, nb, wf, acc);
}

/// Weight-only fast path for few rows (LLM decode): W is read once, a row
/// of a column panel at a time, and never dequantized as a whole; the
/// block's scale (and zero point, through the row sums of A) is applied
/// once per block of K. Panels run on up to a.threads threads.
void qmatmulWeightOnlyRows(KernelArgs &a, const QCall &c, const MatmulDims &d) {
  const bool avx2 = vec::hasAvx2Fma();
  const int64_t rows = d.rows, K = d.K, N = d.N;
  const int8_t *w = a.inputs[3].as<int8_t>();
  const float *A = c.act->as<float>();
  const int64_t bk = c.wMap.block[0], bn = c.wMap.block[1], sc = c.wMap.paramShape[1];
  // Panels of 2048 columns for one row (W streamed along its rows), 256
  // otherwise (the rows' accumulators stay in L1).
  const int64_t kPanel = rows == 1 ? 2048 : 256;
  const int64_t panels = (N + kPanel - 1) / kPanel;
  // Row sums of A per block of K, for the zero point.
  std::vector<float> sums;
  if (c.wZp) {
    const int64_t blocks = (K + bk - 1) / bk;
    sums.assign(size_t(rows * blocks), 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k)
        sums[size_t(r * blocks + k / bk)] += A[r * K + k];
  }
  Epilogue ep(c);
  parallelFor(a.threads, panels, rows * K * N, [&](int64_t pb, int64_t pe) {
    std::vector<float> wf(kPanel), acc(size_t(rows * kPanel)), y(size_t(rows * kPanel));
    for (int64_t p = pb; p < pe; ++p) {
      const int64_t n0 = p * kPanel, nb = std::min(kPanel, N - n0);
      std::fill(y.begin(), y.end(), 0.0f);
      for (int64_t k0 = 0; k0 < K; k0 += bk) {
        const int64_t k1 = std::min(K, k0 + bk);
        std::fill(acc.begin(), acc.end(), 0.0f);
        if (c.w.sparse24)
          accumulateSparse(avx2, A, rows, K, qnt::Sparse24View(w, K, N, c.w.bits), k0, k1, n0, nb,
                           wf.data(), acc.data());
        else
          (avx2 ? accumulateRowsAvx2 : accumulateRowsBase)(A, rows, K, w, c.w.bits, N, k0, k1,
                                                          n0, nb, wf.data(), acc.data());
        const int64_t prow = (k0 / bk) * sc;
        for (int64_t r = 0; r < rows; ++r) {
          const float sum = c.wZp ? sums[size_t(r * ((K + bk - 1) / bk) + k0 / bk)] : 0.0f;
          if (avx2 && bn == 1) {
            scaleBlockAvx2(y.data() + r * nb, acc.data() + r * nb, nb, c.wScale + prow + n0,
                           c.wZp ? c.wZp + prow + n0 : nullptr, sum);
            continue;
          }
          for (int64_t j = 0; j < nb; ++j) {
            const int64_t pi = prow + (n0 + j) / bn;
            const float zp = c.wZp ? float(c.wZp[pi]) : 0.0f;
            y[size_t(r * nb + j)] += (acc[size_t(r * nb + j)] - zp * sum) * c.wScale[pi];
          }
        }
      }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < nb; ++j)
          ep.store(r * N + n0 + j, n0 + j, y[size_t(r * nb + j)]);
    }
  });
}

/// Row k of W's columns [n0, n0 + cols) dequantized into `row` with AVX2:
/// one scale (and zero point) per column along the row (bn = 1), 8-, 4- or
/// 2-bit weights (4-bit: N and n0 even; 2-bit: multiples of 4). Returns
/// false for other calls.
__attribute__((target("avx2,fma"))) bool dequantRowAvx2(const int8_t *w, int bits, int64_t N,
                                                        int64_t k, int64_t n0, int64_t cols,
                                                        const float *scale, const int8_t *zp,
                                                        float *row) {
  if ((bits == 4 && (N % 2 || n0 % 2)) || (bits == 2 && (N % 4 || n0 % 4)))
    return false;
  const int64_t base = k * N + n0, nv = cols & ~int64_t(7);
  for (int64_t j = 0; j < nv; j += 8) {
    __m256 v = bits == 8   ? widenAt<8>(w, base + j)
               : bits == 4 ? widenAt<4>(w, base + j)
                           : widenAt<2>(w, base + j);
    if (zp)
      v = _mm256_sub_ps(v, widen8(zp + j));
    _mm256_storeu_ps(row + j, _mm256_mul_ps(v, _mm256_loadu_ps(scale + j)));
  }
  for (int64_t j = nv; j < cols; ++j)
    row[j] = (float(qnt::weightAtBits(w, bits, base + j)) - (zp ? float(zp[j]) : 0.0f)) *
             scale[j];
  return true;
}

/// Weight-only fast path for many rows: W is dequantized a panel of
/// columns at a time (at most ~1 MiB of f32) and multiplied by sgemm
/// (oneDNN's when the runtime has it), so the weights are never
/// dequantized as a whole.
void qmatmulWeightOnlyPanels(KernelArgs &a, const QCall &c, const MatmulDims &d) {
  const int64_t rows = d.rows, K = d.K, N = d.N;
  const int8_t *w = a.inputs[3].as<int8_t>();
  const float *A = c.act->as<float>();
  const int64_t bk = c.wMap.block[0], bn = c.wMap.block[1], sc = c.wMap.paramShape[1];
  const int64_t nb = std::clamp<int64_t>((int64_t(1) << 18) / std::max<int64_t>(K, 1), 16, 256);
  std::vector<float> deq(size_t(K * std::min(nb, N))), prod(size_t(rows * std::min(nb, N)));
  Epilogue ep(c);
  const bool avx2 = vec::hasAvx2Fma() && bn == 1;
  for (int64_t n0 = 0; n0 < N; n0 += nb) {
    const int64_t cols = std::min(nb, N - n0);
    if (c.w.sparse24) {
      // A 2:4 weight a group of four rows at a time: zeros, then each
      // column's two kept values at the rows its index names.
      const qnt::Sparse24View sv(w, K, N, c.w.bits);
      std::fill(deq.begin(), deq.begin() + K * cols, 0.0f);
      for (int64_t g = 0; g < K / 4; ++g) {
        float *rows4 = deq.data() + 4 * g * cols;
        for (int64_t j = 0; j < cols; ++j) {
          const int nib = sv.nibble(g, n0 + j);
          rows4[(nib & 3) * cols + j] = float(sv.kept(g, 0, n0 + j));
          rows4[(nib >> 2) * cols + j] = float(sv.kept(g, 1, n0 + j));
        }
      }
    }
    for (int64_t k = 0; k < K; ++k) {
      float *row = deq.data() + k * cols;
      const int64_t prow = (k / bk) * sc;
      if (!c.w.sparse24 && avx2 &&
          dequantRowAvx2(w, c.w.bits, N, k, n0, cols, c.wScale + prow + n0,
                         c.wZp ? c.wZp + prow + n0 : nullptr, row))
        continue;
      if (!c.w.sparse24)
        loadWeightRow(w, c.w.bits, N, k, n0, cols, row);
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t pi = prow + (n0 + j) / bn;
        row[j] = (row[j] - (c.wZp ? float(c.wZp[pi]) : 0.0f)) * c.wScale[pi];
      }
    }
    if (!qnt::dnnlSgemm(a.threads, rows, cols, K, A, deq.data(), prod.data())) {
      std::fill(prod.begin(), prod.end(), 0.0f);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < K; ++k) {
          const float av = A[r * K + k];
          const float *row = deq.data() + k * cols;
          float *pr = prod.data() + r * cols;
          for (int64_t j = 0; j < cols; ++j)
            pr[j] += av * row[j];
        }
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j)
        ep.store(r * N + n0 + j, n0 + j, prod[size_t(r * cols + j)]);
  }
}

/// Integer fast path: int16 operands with the zero points subtracted, int32
/// dot products per K block, scaled per block in double.
void qmatmulInteger(KernelArgs &a, QCall &c, const MatmulDims &d) {
  const int64_t rows = d.rows, K = d.K, N = d.N;
  // Activations minus their zero point.
  std::vector<int16_t> A(static_cast<size_t>(rows * K));
  float aScale = c.actScale;
  if (c.dynamic) {
    DynQuant dq = dynamicQuantize(*c.act);
    aScale = dq.scale;
    for (size_t i = 0; i < A.size(); ++i)
      A[i] = int16_t(int32_t(dq.q[i]) - dq.zp);
  } else if (c.act->dtype == DType::U8) {
    const uint8_t *p = c.act->as<uint8_t>();
    for (size_t i = 0; i < A.size(); ++i)
      A[i] = int16_t(int32_t(p[i]) - c.actZp);
  } else {
    const int8_t *p = c.act->as<int8_t>();
    for (size_t i = 0; i < A.size(); ++i)
      A[i] = int16_t(int32_t(p[i]) - c.actZp);
  }
  // Weights minus their zero point, transposed to [N, K].
  std::vector<int16_t> Wt(static_cast<size_t>(N * K));
  forEachWeight(c.wMap, [&](int64_t i, int64_t p) {
    const int64_t k = i / N, n = i % N;
    Wt[size_t(n * K + k)] = int16_t(int32_t(c.w.values[size_t(i)]) - (c.wZp ? c.wZp[p] : 0));
  });
  // Per (K block, column) multipliers a_scale * w_scale.
  const int64_t nkb = c.wMap.paramShape[0], bk = c.wMap.block[0], bn = c.wMap.block[1];
  const int64_t sn = c.wMap.paramShape[1];
  std::vector<double> mult(static_cast<size_t>(nkb * N));
  for (int64_t kb = 0; kb < nkb; ++kb)
    for (int64_t n = 0; n < N; ++n)
      mult[size_t(kb * N + n)] = double(aScale) * double(c.wScale[kb * sn + n / bn]);
  Epilogue ep(c);
  // One block along K (per-tensor or per-column scales): f32 as ONNX Runtime.
  std::vector<float> multF;
  if (nkb == 1)
    for (int64_t n = 0; n < N; ++n)
      multF.push_back(aScale * c.wScale[n / bn]);
  auto work = [&](int64_t rb, int64_t re) {
    int32_t acc[4];
    for (int64_t r = rb; r < re; ++r) {
      const int16_t *ar = A.data() + r * K;
      int64_t n = 0;
      for (; nkb == 1 && n + 4 <= N; n += 4) {
        dot16x4(ar, Wt.data() + n * K, Wt.data() + (n + 1) * K, Wt.data() + (n + 2) * K,
                Wt.data() + (n + 3) * K, K, acc);
        for (int j = 0; j < 4; ++j)
          ep.storeBlock(r * N + n + j, n + j, acc[j], multF[size_t(n + j)]);
      }
      for (; n + 4 <= N; n += 4) {
        double v[4] = {0, 0, 0, 0};
        for (int64_t kb = 0; kb < nkb; ++kb) {
          const int64_t o = kb * bk;
          dot16x4(ar + o, Wt.data() + n * K + o, Wt.data() + (n + 1) * K + o,
                  Wt.data() + (n + 2) * K + o, Wt.data() + (n + 3) * K + o, bk, acc);
          for (int j = 0; j < 4; ++j)
            v[j] += double(acc[j]) * mult[size_t(kb * N + n + j)];
        }
        for (int j = 0; j < 4; ++j)
          ep.store(r * N + n + j, n + j, v[j]);
      }
      for (; n < N; ++n) {
        if (nkb == 1) {
          ep.storeBlock(r * N + n, n, dot16(ar, Wt.data() + n * K, K), multF[size_t(n)]);
          continue;
        }
        double v = 0;
        for (int64_t kb = 0; kb < nkb; ++kb)
          v += double(dot16(ar + kb * bk, Wt.data() + n * K + kb * bk, bk)) *
               mult[size_t(kb * N + n)];
        ep.store(r * N + n, n, v);
      }
    }
  };
  if (rows >= 2 * std::max(1, a.threads) || N < 64) {
    parallelFor(a.threads, rows, rows * K * N, work);
  } else {
    // Few rows (e.g. one token): split the columns instead, in groups of 4.
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t groups = (N + 3) / 4;
      parallelFor(a.threads, groups, K * N, [&](int64_t gb, int64_t ge) {
        const int16_t *ar = A.data() + r * K;
        for (int64_t n = gb * 4; n < std::min(N, ge * 4); ++n) {
          if (nkb == 1) {
            ep.storeBlock(r * N + n, n, dot16(ar, Wt.data() + n * K, K), multF[size_t(n)]);
            continue;
          }
          double v = 0;
          for (int64_t kb = 0; kb < nkb; ++kb)
            v += double(dot16(ar + kb * bk, Wt.data() + n * K + kb * bk, bk)) *
                 mult[size_t(kb * N + n)];
          ep.store(r * N + n, n, v);
        }
      });
    }
  }
}

void qmatmulFast(KernelArgs &a) {
  QCall c = parseCommon(kMatmul, a, /*unpack=*/false);
  const MatmulDims d = checkMatmul(c);
  if (!c.integerPath()) {
    if (d.rows <= 8)
      qmatmulWeightOnlyRows(a, c, d);
    else
      qmatmulWeightOnlyPanels(a, c, d);
    return;
  }
  c = parseCommon(kMatmul, a, /*unpack=*/true);
  qmatmulInteger(a, c, d);
}

bool qmatmulAccepts(const KernelArgs &a) {
  try {
    QCall c = parseCommon(kMatmul, a, false);
    checkMatmul(c);
    return true;
  } catch (const KernelError &) {
    return false;
  }
}

/// oneDNN int8 fast path: the exact int32 sums from oneDNN, then per column
/// the weight zero point's term w_zp[n] * Σ_k (a[r, k] - a_zp) subtracted
/// (exact in int32), the scale a_scale * w_scale[n], the bias and a ReLU in
/// f32, and finishInt8. oneDNN failing to run the call leaves it to
/// qmatmulFast.
void qmatmulInt8(KernelArgs &a) {
  QCall c = parseCommon(kMatmul, a, false);
  const MatmulDims d = checkMatmul(c);
  DynQuant dq;
  float aScale = 1;
  const qnt::Int8Activation act = int8Activation(c, dq, aScale);
  std::vector<int32_t> acc(static_cast<size_t>(d.rows * d.N));
  if (!qnt::dnnlInt8Sums(a, /*conv=*/false, act, acc.data()))
    return qmatmulFast(a);
  const int64_t N = d.N, K = d.K, bn = c.wMap.block[1];
  // A weight zero point: w_zp[n] · Σ_k (a[r, k] − a_zp) is subtracted.
  std::vector<int32_t> wzp, rowSums;
  if (channelZeroPoints(c, 1, N, wzp)) {
    const bool u8 = c.dynamic || c.act->dtype == DType::U8;
    rowSums.resize(size_t(d.rows));
    for (int64_t r = 0; r < d.rows; ++r) {
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += actAt(act, u8, r * K + k);
      rowSums[size_t(r)] = sum;
    }
  }
  std::vector<float> mult(static_cast<size_t>(N)), bias(static_cast<size_t>(N), 0.0f);
  for (int64_t n = 0; n < N; ++n)
    mult[size_t(n)] = float(double(aScale) * double(c.wScale[n / bn]));
  if (c.bias)
    std::copy(c.bias->as<float>(), c.bias->as<float>() + N, bias.begin());
  const bool relu = c.actFn.kind == fused::Act::Relu;
  std::vector<float> tmp(c.yQuant ? acc.size() : 0);
  float *y = c.yQuant ? tmp.data() : c.y->as<float>();
  parallelFor(a.threads, d.rows, d.rows * N, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      int32_t *ar = acc.data() + r * N;
      float *yr = y + r * N;
      if (!wzp.empty()) {
        const int32_t rs = rowSums[size_t(r)];
        for (int64_t n = 0; n < N; ++n)
          ar[n] = compensated(ar[n], wzp[size_t(n)], rs);
      }
#pragma omp simd
      for (int64_t n = 0; n < N; ++n)
        yr[n] = scaled(ar[n], mult[size_t(n)], bias[size_t(n)], relu);
    }
  });
  finishInt8(c, y, a.threads);
}

/// Whether the oneDNN int8 path takes qmatmul call `a` (see int8Form and
/// qnt::dnnlInt8Accepts).
bool qmatmulInt8Accepts(const KernelArgs &a) {
  try {
    QCall c = parseCommon(kMatmul, a, false);
    const MatmulDims d = checkMatmul(c);
    return d.rows > 0 && d.N > 0 && int8Form(c, 0, 1, d.K) &&
           qnt::dnnlInt8Accepts(a, /*conv=*/false);
  } catch (const KernelError &) {
    return false;
  }
}

//===----------------------------------------------------------------------===//
// qconv
//===----------------------------------------------------------------------===//

nn::ConvGeometry checkConv(const QCall &c, const Attrs &attrs) {
  const char *K = "qconv";
  const TensorRef &x = *c.act;
  if (x.rank() < 3 || x.rank() > 5)
    fail(K, "X must be N x C x D1 [x D2 [x D3]], got " + shapeStr(x.shape));
  if (c.w.shape.size() != x.rank())
    fail(K, "W (logical shape " + shapeStr(c.w.shape) + ") must have X's rank " +
                std::to_string(x.rank()));
  nn::ConvGeometry g = nn::convGeometry(attrs, x.shape, c.w.shape, c.y->shape, K);
  // The output spatial sizes must be Conv's.
  const size_t n = x.rank() - 2;
  nn::Window win = nn::readWindow(attrs, n, K, Shape(c.w.shape.begin() + 2, c.w.shape.end()));
  nn::applyAutoPad(win, attrs, Shape(x.shape.begin() + 2, x.shape.end()), K);
  for (size_t i = 0; i < n; ++i) {
    const int64_t ext = (win.kernel[i] - 1) * win.dilations[i] + 1;
    const int64_t expect =
        (x.shape[2 + i] + win.pads[i] + win.pads[n + i] - ext) / win.strides[i] + 1;
    if (expect != c.y->shape[2 + i])
      fail(K, "Y has shape " + shapeStr(c.y->shape) + " but Conv gives spatial size " +
                  std::to_string(expect) + " along dimension " + std::to_string(2 + i));
  }
  checkBias(c, g.outChannels);
  return g;
}

void qconvReference(KernelArgs &a) {
  QCall c = parseCommon(kConv, a, true);
  const nn::ConvGeometry g = checkConv(c, a.attrs);
  const std::vector<double> X = dequantActivation(c), W = dequantWeights<double>(c);
  std::vector<double> Y(static_cast<size_t>(c.y->numElements()));
  nn::convForward(g, X.data(), W.data(), nullptr, Y.data());
  const int64_t plane = g.out[0] * g.out[1] * g.out[2];
  Epilogue ep(c);
  for (size_t i = 0; i < Y.size(); ++i)
    ep.store(int64_t(i), (int64_t(i) / plane) % g.outChannels, Y[i]);
}

void qconvWeightOnly(KernelArgs &a, QCall &c) {
  std::vector<float> W = dequantWeights<float>(c);
  TensorRef wRef{DType::F32, c.w.shape, W.data(), true};
  std::vector<TensorRef> ins = {*c.act, wRef};
  if (c.bias)
    ins.push_back(TensorRef{DType::F32, {c.w.shape[0]}, c.bias->data, true});
  std::vector<float> tmp;
  TensorRef out = *c.y;
  if (c.yQuant) {
    tmp.resize(size_t(c.y->numElements()));
    out = TensorRef{DType::F32, c.y->shape, tmp.data(), true};
  }
  callRegistered("qconv", "fused_conv", forwardedAttrs(a.attrs, true), std::move(ins), {out},
                 a.threads);
  if (c.yQuant)
    storeAll(c, tmp);
}

/// Integer direct convolution: int32 accumulators, one per block of the
/// weight scale along the reduction dims (input channel, kernel).
void qconvInteger(KernelArgs &a, QCall &c, const nn::ConvGeometry &g) {
  const TensorRef &x = *c.act;
  std::vector<int16_t> X(static_cast<size_t>(x.numElements()));
  float xScale = c.actScale;
  if (c.dynamic) {
    DynQuant dq = dynamicQuantize(x);
    xScale = dq.scale;
    for (size_t i = 0; i < X.size(); ++i)
      X[i] = int16_t(int32_t(dq.q[i]) - dq.zp);
  } else {
    for (size_t i = 0; i < X.size(); ++i)
      X[i] = int16_t(nn::loadI(x, int64_t(i)) - c.actZp);
  }
  const int64_t O = g.outChannels, cPerG = g.inChannels / g.group, mPerG = O / g.group;
  const int64_t kSize = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const int64_t red = cPerG * kSize; // reduction elements per output channel
  std::vector<int16_t> W(c.w.values.size());
  forEachWeight(c.wMap, [&](int64_t i, int64_t p) {
    W[size_t(i)] = int16_t(int32_t(c.w.values[size_t(i)]) - (c.wZp ? c.wZp[p] : 0));
  });
  // Reduction blocks: the scale index is o-block * nrb + rb(j).
  const int64_t nrb = c.wMap.paramShape.empty()
                          ? 1
                          : numElements(Shape(c.wMap.paramShape.begin() + 1,
                                              c.wMap.paramShape.end()));
  std::vector<int32_t> rbOf(static_cast<size_t>(red));
  {
    Shape redShape(c.w.shape.begin() + 1, c.w.shape.end());
    BlockMap rm;
    rm.tensorShape = redShape;
    rm.paramShape = Shape(c.wMap.paramShape.begin() + 1, c.wMap.paramShape.end());
    rm.block = Shape(c.wMap.block.begin() + 1, c.wMap.block.end());
    rm.paramStrides = kern::stridesOf(rm.paramShape);
    forEachWeight(rm, [&](int64_t i, int64_t p) { rbOf[size_t(i)] = int32_t(p); });
  }
  const int64_t bo = c.wMap.block[0];
  const int64_t inSize = g.in[0] * g.in[1] * g.in[2];
  const int64_t outSize = g.out[0] * g.out[1] * g.out[2];
  Epilogue ep(c);
  auto work = [&](int64_t jb, int64_t je) {
    std::vector<int32_t> acc(static_cast<size_t>(nrb));
    for (int64_t job = jb; job < je; ++job) {
      const int64_t n = job / O, m = job % O, grp = m / mPerG;
      const int16_t *wm = W.data() + m * red;
      const float *sm = c.wScale + (m / bo) * nrb;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            std::fill(acc.begin(), acc.end(), 0);
            const int64_t b0 = o0 * g.strides[0] - g.padBegin[0];
            const int64_t b1 = o1 * g.strides[1] - g.padBegin[1];
            const int64_t b2 = o2 * g.strides[2] - g.padBegin[2];
            for (int64_t ci = 0; ci < cPerG; ++ci) {
              const int16_t *xc = X.data() + (n * g.inChannels + grp * cPerG + ci) * inSize;
              const int64_t jc = ci * kSize;
              for (int64_t k0 = 0; k0 < g.kernel[0]; ++k0) {
                const int64_t i0 = b0 + k0 * g.dilations[0];
                if (i0 < 0 || i0 >= g.in[0])
                  continue;
                for (int64_t k1 = 0; k1 < g.kernel[1]; ++k1) {
                  const int64_t i1 = b1 + k1 * g.dilations[1];
                  if (i1 < 0 || i1 >= g.in[1])
                    continue;
                  const int16_t *xr = xc + (i0 * g.in[1] + i1) * g.in[2];
                  const int64_t jr = jc + (k0 * g.kernel[1] + k1) * g.kernel[2];
                  for (int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                    const int64_t i2 = b2 + k2 * g.dilations[2];
                    if (i2 < 0 || i2 >= g.in[2])
                      continue;
                    const int64_t j = jr + k2;
                    acc[size_t(nrb == 1 ? 0 : rbOf[size_t(j)])] +=
                        int32_t(xr[i2]) * int32_t(wm[j]);
                  }
                }
              }
            }
            const int64_t at = (n * O + m) * outSize + (o0 * g.out[1] + o1) * g.out[2] + o2;
            if (nrb == 1) { // f32 as ONNX Runtime (Epilogue::storeBlock)
              ep.storeBlock(at, m, acc[0], xScale * sm[0]);
              continue;
            }
            double v = 0;
            for (int64_t b = 0; b < nrb; ++b)
              v += double(acc[size_t(b)]) * double(sm[b]);
            v *= double(xScale);
            ep.store(at, m, v);
          }
    }
  };
  parallelFor(a.threads, g.batch * O, g.batch * O * outSize * red, work);
}

void qconvFast(KernelArgs &a) {
  QCall c = parseCommon(kConv, a, true);
  const nn::ConvGeometry g = checkConv(c, a.attrs);
  if (c.integerPath())
    qconvInteger(a, c, g);
  else
    qconvWeightOnly(a, c);
}

bool qconvAccepts(const KernelArgs &a) {
  try {
    QCall c = parseCommon(kConv, a, false);
    checkConv(c, a.attrs);
    return true;
  } catch (const KernelError &) {
    return false;
  }
}

/// oneDNN int8 fast path of qconv: the exact int32 sums from oneDNN, then
/// per output channel the weight zero point's term w_zp[m] times the window
/// sums of (x - x_zp) subtracted (convWindowSums; exact in int32), the scale
/// x_scale * w_scale[m], the bias and a ReLU in f32, and finishInt8. oneDNN
/// failing to run the call leaves it to qconvFast.
void qconvInt8(KernelArgs &a) {
  QCall c = parseCommon(kConv, a, false);
  const nn::ConvGeometry g = checkConv(c, a.attrs);
  DynQuant dq;
  float xScale = 1;
  const qnt::Int8Activation act = int8Activation(c, dq, xScale);
  // Every element is written by oneDNN (no zero fill).
  std::unique_ptr<int32_t[]> acc(new int32_t[size_t(c.y->numElements())]);
  if (!qnt::dnnlInt8Sums(a, /*conv=*/true, act, acc.get()))
    return qconvFast(a);
  const int64_t O = g.outChannels, bo = c.wMap.block[0], mPerG = O / g.group;
  const int64_t plane = g.out[0] * g.out[1] * g.out[2];
  // A weight zero point: w_zp[m] times the window sums is subtracted.
  std::vector<int32_t> wzp, windows;
  if (channelZeroPoints(c, 0, O, wzp))
    convWindowSums(g, act, c.dynamic || c.act->dtype == DType::U8, a.threads, windows);
  const bool relu = c.actFn.kind == fused::Act::Relu;
  const bool avx2 = vec::hasAvx2Fma();
  std::vector<float> tmp(c.yQuant ? size_t(c.y->numElements()) : 0);
  float *y = c.yQuant ? tmp.data() : c.y->as<float>();
  parallelFor(a.threads, g.batch * O, g.batch * O * plane, [&](int64_t jb, int64_t je) {
    for (int64_t job = jb; job < je; ++job) {
      const int64_t n = job / O, m = job % O;
      const float s = float(double(c.wScale[m / bo]) * double(xScale));
      const float b = c.bias ? c.bias->as<float>()[m] : 0.0f;
      const int32_t *am = acc.get() + job * plane;
      float *ym = y + job * plane;
      const int32_t *wm =
          wzp.empty() ? nullptr : windows.data() + (n * g.group + m / mPerG) * plane;
      if (avx2) {
        scaledRunAvx2(am, wm, wzp.empty() ? 0 : wzp[size_t(m)], s, b, relu, ym, plane);
        continue;
      }
      if (wm) {
        const int32_t z = wzp[size_t(m)];
#pragma omp simd
        for (int64_t i = 0; i < plane; ++i)
          ym[i] = scaled(compensated(am[i], z, wm[i]), s, b, relu);
        continue;
      }
#pragma omp simd
      for (int64_t i = 0; i < plane; ++i)
        ym[i] = scaled(am[i], s, b, relu);
    }
  });
  finishInt8(c, y, a.threads);
}

/// Whether the oneDNN int8 path takes qconv call `a` (see int8Form and
/// qnt::dnnlInt8Accepts).
bool qconvInt8Accepts(const KernelArgs &a) {
  try {
    QCall c = parseCommon(kConv, a, false);
    const nn::ConvGeometry g = checkConv(c, a.attrs);
    const int64_t red = g.inChannels / g.group * g.kernel[0] * g.kernel[1] * g.kernel[2];
    return c.y->numElements() > 0 && c.act->numElements() > 0 &&
           int8Form(c, 1, c.w.shape.size(), red) && qnt::dnnlInt8Accepts(a, /*conv=*/true);
  } catch (const KernelError &) {
    return false;
  }
}

void add(KernelRegistry &r, const char *name, KernelImpl impl, KernelFn fn,
         std::function<bool(const KernelArgs &)> accepts) {
  KernelEntry e;
  e.name = name;
  e.impl = impl;
  e.fn = std::move(fn);
  e.accepts = std::move(accepts);
  r.add(std::move(e));
}

} // namespace

/// Registers qmatmul and qconv: a reference and two fast paths each, the
/// oneDNN int8 one first (the registry takes the first fast path that
/// accepts a call).
void registerQuantizedKernels(KernelRegistry &r) {
  add(r, "qmatmul", KernelImpl::Reference, qmatmulReference, nullptr);
  add(r, "qmatmul", KernelImpl::Fast, qmatmulInt8, qmatmulInt8Accepts);
  add(r, "qmatmul", KernelImpl::Fast, qmatmulFast, qmatmulAccepts);
  add(r, "qconv", KernelImpl::Reference, qconvReference, nullptr);
  add(r, "qconv", KernelImpl::Fast, qconvInt8, qconvInt8Accepts);
  add(r, "qconv", KernelImpl::Fast, qconvFast, qconvAccepts);
}

} // namespace loom::rt
