//===- QuantizedUtil.h - Packed weights and blocked quantization parameters -*- C++ -*-===//
//
// Helpers shared by the quantized kernels (QuantizedKernels.cpp: qmatmul,
// qconv) and the blocked / packed (int4, int2, 2:4 sparse) form of
// dequantize_linear
// (QuantKernels.cpp), and the interface of the oneDNN int8 sums of the
// quantized kernels' integer path (DnnlQuantized.cpp). docs/fused-ops.md,
// "Quantized kernels", is the contract.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_QUANTIZEDUTIL_H
#define LOOM_RUNTIME_KERNELS_QUANTIZEDUTIL_H

#include "FusedUtil.h"
#include "KernelUtil.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace loom::rt::qnt {

/// The signed int4 stored in nibble `i` of a packed buffer: element i is in
/// byte i/2, low nibble when i is even, two's complement in [-8, 7].
inline int8_t int4At(const int8_t *packed, int64_t i) {
  const uint8_t byte = uint8_t(packed[i >> 1]);
  const uint8_t nib = (i & 1) ? uint8_t(byte >> 4) : uint8_t(byte & 0x0F);
  return int8_t(nib >= 8 ? int(nib) - 16 : int(nib));
}

/// The signed int2 stored at element `i` of a packed buffer: byte i/4, bits
/// 2*(i%4), two's complement in [-2, 1] (ternary weights use [-1, 1]).
inline int8_t int2At(const int8_t *packed, int64_t i) {
  const int code = (uint8_t(packed[i >> 2]) >> ((i & 3) * 2)) & 3;
  return int8_t(code >= 2 ? code - 4 : code);
}

/// The weight at element `i` of a dense buffer of `bits` (8, 4 or 2).
inline int8_t weightAtBits(const int8_t *w, int bits, int64_t i) {
  return bits == 8 ? w[i] : bits == 4 ? int4At(w, i) : int2At(w, i);
}

/// Bytes of n dense weights of `bits` (8, 4 or 2).
inline int64_t denseBytes(int64_t n, int bits) {
  return bits == 8 ? n : bits == 4 ? (n + 1) / 2 : (n + 3) / 4;
}

/// A 2:4 sparse weight [K, N] (`w_sparsity` = "2:4"): the kept values, a
/// dense [K/2, N] matrix of `bits` (row 2g + j holds the j-th kept value of
/// group g of every column), followed by one 4-bit index per group and
/// column (element g*N + n, low nibble first): bits 0-1 the row of the first
/// kept value within its group of four, bits 2-3 the second's.
struct Sparse24View {
  const int8_t *values = nullptr;
  const uint8_t *index = nullptr;
  int bits = 8;
  int64_t K = 0, N = 0;

  static int64_t bytes(int64_t K, int64_t N, int bits) {
    return denseBytes(K / 2 * N, bits) + (K / 4 * N + 1) / 2;
  }
  Sparse24View(const int8_t *w, int64_t k, int64_t n, int b) : values(w), bits(b), K(k), N(n) {
    index = reinterpret_cast<const uint8_t *>(w) + denseBytes(K / 2 * N, bits);
  }
  /// The index nibble of group g, column n.
  int nibble(int64_t g, int64_t n) const {
    const int64_t i = g * N + n;
    return (index[i >> 1] >> ((i & 1) * 4)) & 0x0F;
  }
  /// Kept value j (0 or 1) of group g, column n.
  int8_t kept(int64_t g, int j, int64_t n) const {
    return weightAtBits(values, bits, (2 * g + j) * N + n);
  }
};

/// The weight operand of a quantized kernel as logical i8 values: the i8
/// tensor itself (`w_bits` = 8, its shape is the logical shape), or a packed
/// buffer of logical shape `w_shape` (`w_bits` = 4 or 2, or `w_sparsity` =
/// "2:4"), unpacked. Throws naming `kernel` and `what` (e.g. "W") on a
/// wrong dtype, a missing `w_shape` or a buffer of the wrong size.
struct LogicalWeights {
  Shape shape;
  std::vector<int8_t> values;
  int bits = 8;
  bool sparse24 = false;
};

/// The packing of a weight operand (w_bits, w_sparsity), checked.
inline void weightPacking(std::string_view kernel, const Attrs &attrs, int &bits,
                          bool &sparse24) {
  const int64_t b = attrs.getInt("w_bits", 8);
  if (b != 8 && b != 4 && b != 2)
    kern::fail(kernel, "w_bits must be 8, 4 or 2, got " + std::to_string(b));
  bits = int(b);
  const std::string sp = attrs.getString("w_sparsity", "");
  if (!sp.empty() && sp != "2:4")
    kern::fail(kernel, "w_sparsity must be \"2:4\" when given, got \"" + sp + "\"");
  sparse24 = !sp.empty();
}

/// The logical shape of a packed weight buffer `w`, checked against its
/// size (the fast paths read the buffer in place).
inline Shape packedWeightShape(std::string_view kernel, const char *what, const TensorRef &w,
                               const Attrs &attrs, int bits, bool sparse24) {
  const char *form = sparse24 ? "2:4 sparse" : bits == 4 ? "packed int4" : "packed int2";
  if (!attrs.has("w_shape"))
    kern::fail(kernel, std::string(what) + ": " + form +
                           " weights require the w_shape attribute (the logical shape)");
  Shape shape = attrs.getInts("w_shape");
  for (int64_t d : shape)
    if (d < 0)
      kern::fail(kernel, std::string(what) + ": negative dimension in w_shape " +
                             kern::shapeStr(shape));
  if (sparse24 && (shape.size() != 2 || shape[0] % 4 != 0))
    kern::fail(kernel, std::string(what) + ": 2:4 sparse weights need w_shape [K, N] with K a "
                                           "multiple of 4, got " +
                           kern::shapeStr(shape));
  const int64_t n = numElements(shape);
  const int64_t want =
      sparse24 ? Sparse24View::bytes(shape[0], shape[1], bits) : denseBytes(n, bits);
  if (w.rank() != 1 || w.shape[0] != want)
    kern::fail(kernel, std::string(what) + ": " + form + " buffer must be 1-D with " +
                           std::to_string(want) + " bytes for w_shape " + kern::shapeStr(shape) +
                           " and w_bits " + std::to_string(bits) + ", got shape " +
                           kern::shapeStr(w.shape));
  return shape;
}

inline LogicalWeights logicalWeights(std::string_view kernel, const char *what,
                                     const TensorRef &w, const Attrs &attrs) {
  LogicalWeights lw;
  weightPacking(kernel, attrs, lw.bits, lw.sparse24);
  if (w.dtype != DType::I8)
    kern::fail(kernel, std::string(what) + " must be i8 (" +
                           (lw.sparse24      ? "2:4 sparse"
                            : lw.bits == 4 ? "packed int4"
                            : lw.bits == 2 ? "packed int2"
                                           : "int8") +
                           " weights), got " + dtypeName(w.dtype));
  const int8_t *p = w.as<int8_t>();
  if (lw.bits == 8 && !lw.sparse24) {
    lw.shape = w.shape;
    lw.values.assign(p, p + w.numElements());
    return lw;
  }
  lw.shape = packedWeightShape(kernel, what, w, attrs, lw.bits, lw.sparse24);
  const int64_t n = numElements(lw.shape);
  lw.values.assign(size_t(n), 0);
  if (lw.sparse24) {
    const Sparse24View s(p, lw.shape[0], lw.shape[1], lw.bits);
    for (int64_t g = 0; g < s.K / 4; ++g)
      for (int64_t c = 0; c < s.N; ++c) {
        const int nib = s.nibble(g, c);
        if ((nib & 3) >= (nib >> 2))
          kern::fail(kernel, std::string(what) + ": 2:4 index of group " + std::to_string(g) +
                                 ", column " + std::to_string(c) +
                                 " must name two rows in increasing order, got " +
                                 std::to_string(nib & 3) + " and " + std::to_string(nib >> 2));
        lw.values[size_t((4 * g + (nib & 3)) * s.N + c)] = s.kept(g, 0, c);
        lw.values[size_t((4 * g + (nib >> 2)) * s.N + c)] = s.kept(g, 1, c);
      }
    return lw;
  }
  for (int64_t i = 0; i < n; ++i)
    lw.values[size_t(i)] = weightAtBits(p, lw.bits, i);
  return lw;
}

/// Blocked per-element parameters: `shape` has the rank of the quantized
/// tensor and each of its dims divides the tensor's; element idx uses
/// parameter idx / block.
struct BlockMap {
  Shape tensorShape, paramShape, block;
  std::vector<int64_t> paramStrides;

  /// The parameter index of the element at multi-index `idx`.
  int64_t at(const std::vector<int64_t> &idx) const {
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      o += (idx[d] / block[d]) * paramStrides[d];
    return o;
  }
};

/// Checks that `param` (described as `what`) has the rank of `shape` and
/// that each of its dims divides the tensor's; throws naming `kernel`.
inline BlockMap blockMap(std::string_view kernel, const char *what, const Shape &param,
                         const Shape &shape) {
  BlockMap m;
  if (param.size() != shape.size())
    kern::fail(kernel, std::string(what) + " of shape " + kern::shapeStr(param) +
                           " must have the rank of the weight " + kern::shapeStr(shape));
  for (size_t d = 0; d < shape.size(); ++d)
    if (param[d] <= 0 || shape[d] % param[d] != 0)
      kern::fail(kernel, std::string(what) + " of shape " + kern::shapeStr(param) +
                             ": dimension " + std::to_string(d) + " (" +
                             std::to_string(param[d]) + ") does not divide the weight's " +
                             kern::shapeStr(shape));
  m.tensorShape = shape;
  m.paramShape = param;
  m.block.resize(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    m.block[d] = shape[d] / param[d];
  m.paramStrides = kern::stridesOf(param);
  return m;
}

/// Rounds half to even and saturates to u8 or i8.
inline int32_t saturateRound(double v, DType t) {
  const double lo = t == DType::U8 ? 0 : -128, hi = t == DType::U8 ? 255 : 127;
  if (std::isnan(v))
    return 0;
  return int32_t(std::min(hi, std::max(lo, std::nearbyint(v))));
}

//===----------------------------------------------------------------------===//
// oneDNN int8 sums of the integer path (DnnlQuantized.cpp)
//===----------------------------------------------------------------------===//

/// The activation of an integer qmatmul / qconv call as oneDNN reads it:
/// u8 or i8 values (`dynamic` = 1: the u8 values quantized at run time) in
/// the layout of the activation operand, and their per-tensor zero point.
struct Int8Activation {
  const void *data = nullptr;
  int32_t zeroPoint = 0;
};

/// Whether oneDNN can compute the int32 sums of qmatmul (`conv` false) or
/// qconv call `a` exactly: the caller has checked the call and its form
/// (integer path, `w_bits` = 8, one w_scale block along the reduction axes,
/// a reduction short enough for int32; a weight zero point is its run-time
/// check); this checks the CPU (VNNI) and that oneDNN has an optimized
/// primitive for the shapes and attributes. Plans and caches the primitive
/// (per thread, per weights address).
bool dnnlInt8Accepts(const KernelArgs &a, bool conv);

/// Writes acc = Σ (a − a_zp) · w over the reduction axes (K for qmatmul;
/// C/group and the kernel for qconv) for every element of Y, in Y's
/// row-major order, exact in int32. False (acc unspecified) when oneDNN
/// cannot run the call; the caller then runs its integer loop.
bool dnnlInt8Sums(const KernelArgs &a, bool conv, const Int8Activation &act, int32_t *acc);

/// Applies epilogue activation `act` in place over the `n` floats at `data`
/// with oneDNN's eltwise primitive on up to `threads` threads (cached per
/// thread). False (data untouched) when oneDNN has no exact equivalent
/// (hard_sigmoid, clip with an infinite or reversed range) or is absent.
bool dnnlActivate(const fused::Activation &act, float *data, int64_t n, int threads);

/// C[M, N] = A[M, K] @ B[K, N] (row-major, dense) with oneDNN's sgemm on up
/// to `threads` threads; false when the runtime has no oneDNN or it fails.
bool dnnlSgemm(int threads, int64_t M, int64_t N, int64_t K, const float *A, const float *B,
               float *C);

/// Writes saturate(round_half_even(v / y_scale) + y_zp) for the `n` values
/// `v` to `out` (u8 or i8), the quotient in f32 as ONNX QuantizeLinear
/// computes it for f32 inputs. NaN gives 0, as in the reference kernels.
template <typename T>
void quantizeRun(const float *v, int64_t n, float yScale, int32_t yZp, T *out) {
  // Clamping v / y_scale to [qmin - zp, qmax - zp] (integers) before the
  // rounding saturates the same and keeps |q| < 2^22, where adding and
  // subtracting 1.5 * 2^23 rounds half to even.
  const bool u8 = std::is_same_v<T, uint8_t>;
  const float zp = float(yZp);
  const float lo = (u8 ? 0.0f : -128.0f) - zp, hi = (u8 ? 255.0f : 127.0f) - zp;
  for (int64_t i = 0; i < n; ++i) {
    float q = v[i] / yScale;
    q = q < lo ? lo : q;
    q = q > hi ? hi : q;
    q = (q + 12582912.0f) - 12582912.0f + zp;
    out[i] = T(q == q ? int32_t(q) : 0);
  }
}

} // namespace loom::rt::qnt

#endif // LOOM_RUNTIME_KERNELS_QUANTIZEDUTIL_H
