//===- Quant.h - Quantization parameters, calibration, AWQ ------*- C++ -*-===//
//
// Plain C++17 (no MLIR/LLVM) helpers of the compiler's quantization passes:
// choosing scales and zero points, collecting activation statistics over
// calibration batches (min/max, percentile, entropy), symmetric block-wise
// weight quantization, int4 packing in the runtime's layout
// (docs/fused-ops.md, "Quantized kernels"), the AWQ per-input-channel scale
// search, and accuracy metrics.
//
// Rounding is always half to even (std::nearbyint in the default rounding
// mode), as in ONNX QuantizeLinear and the runtime kernels.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_QUANT_QUANT_H
#define LOOM_QUANT_QUANT_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace loom::quant {

/// Integer storage of quantized values.
enum class Storage { U8, I8, I4 };

/// Smallest / largest value of `s`: U8 [0, 255], I8 [-128, 127], I4 [-8, 7].
int32_t qmin(Storage s);
int32_t qmax(Storage s);

/// Per-tensor affine parameters: real = (q - zeroPoint) * scale.
struct QParams {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};

/// Asymmetric parameters for the range [min, max] (finite): the range is
/// first widened to include 0, scale = (max - min) / (qmax - qmin) (computed
/// in float), zeroPoint = round(qmin - min / scale) clamped to [qmin, qmax].
/// A degenerate range (min == max == 0) gives scale 1 and zeroPoint qmin
/// (then 0 is represented exactly, as q = qmin).
QParams chooseAsymmetric(float min, float max, Storage s);

/// Symmetric parameters for values in [-absMax, absMax]: for I8 / I4
/// zeroPoint 0 and scale = absMax / qmax (127, 7); for U8 zeroPoint 128 and
/// scale = absMax / 127. absMax <= 0 gives scale 1.
QParams chooseSymmetric(float absMax, Storage s);

/// How RangeObserver::range turns the statistics into a clipping range.
enum class Method {
  /// [min, max] as observed.
  MinMax,
  /// Asymmetric clip at percentiles of the (signed) values:
  /// [q(100 - p), q(p)], where q(x) is the x-th percentile estimated from
  /// the histogram (linear within a bin), and the result is kept inside
  /// [min, max]. For a symmetric clip use RangeObserver::absPercentile.
  Percentile,
  /// TensorRT-style KL-divergence calibration on the histogram of |x|
  /// (2048 bins): threshold t with the smallest KL(P || Q); returns
  /// [max(min, -t), min(max, t)]. For a non-negative tensor (e.g. after a
  /// ReLU) this is [min, t], usable as an asymmetric range; otherwise it is
  /// the symmetric clip intersected with the observed range.
  Entropy,
};

/// Statistics of one activation tensor over calibration batches.
///
/// Histogram choice: a signed histogram of 2 * 2048 bins over [-R, R] (2048
/// bins of width R / 2048 on each side of 0). R is set from the first batch
/// with a non-zero value (its max |x|); when a later batch exceeds R, R is
/// doubled (as often as needed) and adjacent bin pairs are merged, which is
/// exact: no count ever moves across a bin edge of the new histogram. The
/// folded |x| histogram (2048 bins over [0, R]) feeds the entropy method.
/// The bins are therefore coarser than a fresh histogram over the final
/// range by at most a factor 2.
class RangeObserver {
public:
  static constexpr int kBins = 2048; ///< bins per sign (|x| bins)

  RangeObserver();

  /// Adds `n` values (NaNs are ignored; infinities update min/max only).
  void observe(const float *data, size_t n);

  /// Number of finite values observed.
  uint64_t count() const { return count_; }
  float min() const { return min_; }
  float max() const { return max_; }

  /// The clipping range by `m`; `percentile` (in (0, 100]) is used by
  /// Method::Percentile only. Before any observation: [0, 0].
  std::pair<float, float> range(Method m, double percentile = 99.99) const;

  /// The `percentile`-th percentile of |x| (symmetric clip threshold).
  float absPercentile(double percentile) const;

  /// The entropy threshold t (in |x| units) of Method::Entropy.
  float entropyThreshold() const;

private:
  void grow(double absMax);
  /// Value below which a fraction `frac` of the signed values lie.
  double signedQuantile(double frac) const;

  uint64_t count_ = 0;
  float min_ = 0, max_ = 0;
  bool any_ = false;
  double range_ = 0; ///< R; 0 until a non-zero value was seen
  std::vector<uint64_t> hist_; ///< 2 * kBins: [0, kBins) negative side
};

/// Symmetric block-wise quantized weights.
struct QuantizedWeights {
  std::vector<int8_t> values;      ///< row-major, shape of the input
  std::vector<float> scales;       ///< row-major, shape `scaleShape`
  std::vector<int64_t> scaleShape; ///< shape[d] / blockShape[d]
};

/// Quantizes `w` (row-major, `shape`) symmetrically per block: `blockShape`
/// has the rank of `shape` and each block dim divides the shape's (for
/// shape [K, N]: block [K, N] = per tensor, [K, 1] = one scale per column
/// (per output channel of a MatMul weight), [g, 1] = group-wise along K). Per block: scale = max|w| / qmax (qmax = 7 for bits 4, 127 for
/// bits 8), an all-zero block gets scale 1; values = round_half_even(w /
/// scale) clamped to [qmin, qmax] ([-8, 7] / [-128, 127]). Throws
/// std::invalid_argument on a bad block shape or bits. With `searchClip`,
/// each block's scale is r * max|w| / qmax with the clip ratio r in
/// [0.5, 1] (21 steps) that gives the least squared error (rounding plus
/// clipping) over the block.
///
/// bits 2 is ternary (BitNet b1.58): per block, scale = mean |w| (absmean,
/// an all-zero block 1) and values = round_half_even(w / scale) clamped to
/// [-1, 1]; `searchClip` is ignored.
QuantizedWeights quantizeWeights(const float *w, const std::vector<int64_t> &shape,
                                 const std::vector<int64_t> &blockShape, int bits,
                                 bool searchClip = false);

/// Dequantizes QuantizedWeights of logical shape `shape` to floats.
std::vector<float> dequantizeWeights(const QuantizedWeights &q, const std::vector<int64_t> &shape);

/// Packs n int4 values (each in [-8, 7]) into ceil(n/2) bytes: element i in
/// byte i/2, low nibble when i is even; an odd n leaves the last high
/// nibble 0.
std::vector<uint8_t> packInt4(const int8_t *values, size_t n);

/// The n signed int4 values of a packed buffer.
std::vector<int8_t> unpackInt4(const uint8_t *packed, size_t n);

/// Packs n int2 values (each in [-2, 1]; ternary weights use [-1, 1]) into
/// ceil(n/4) bytes: element i in byte i/4 at bits 2*(i%4), two's complement.
std::vector<uint8_t> packInt2(const int8_t *values, size_t n);

/// The n signed int2 values of a packed buffer.
std::vector<int8_t> unpackInt2(const uint8_t *packed, size_t n);

/// 2:4 semi-structured pruning of [K, N] row-major weights along K, in
/// place: in every group of four rows 4g..4g+3 of each column the two
/// values of largest magnitude are kept (the lower row on ties), the other
/// two set to 0. Throws std::invalid_argument unless K % 4 == 0.
void prune24(float *w, int64_t K, int64_t N);

/// 2:4 storage of [K, N] quantized weights with at most two non-zeros in
/// every group of four along K (docs/fused-ops.md, "Quantized kernels"):
/// the kept values as a [K/2, N] matrix (row 2g + j holds group g's j-th
/// kept value of each column) at `bits` (8: one byte each; 4 / 2: packed as
/// packInt4 / packInt2), then one 4-bit index per group and column (element
/// g*N + n, two per byte, low nibble first): bits 0-1 the row of the first
/// kept value within its group, bits 2-3 the second's, first < second. A
/// group with fewer than two non-zeros keeps zeros at its first free rows.
/// Throws std::invalid_argument on K % 4 != 0, bad bits, or a group with
/// more than two non-zeros.
std::vector<uint8_t> packSparse24(const int8_t *values, int64_t K, int64_t N, int bits);

/// The [K, N] values of a packSparse24 buffer.
std::vector<int8_t> unpackSparse24(const uint8_t *packed, int64_t K, int64_t N, int bits);

/// The size in bytes of packSparse24's output.
size_t sparse24Bytes(int64_t K, int64_t N, int bits);

/// AWQ (activation-aware weight quantization) scale search for a linear
/// layer Y = X·W, W [K, N] row-major, calibration activations X [T, K].
/// For alpha = i / (gridPoints - 1), i = 0..gridPoints-1 (0 and 1
/// included): s_k = max(mean_t |x_tk|, 1e-8)^alpha, normalized by
/// sqrt(max(s) · min(s)) (as in the AWQ reference code); W' = diag(s)·W is
/// quantized symmetrically group-wise (groups of `groupSize` rows along K,
/// per column; `bits` 4 or 8) and the error awqError is measured. Returns
/// the s of the smallest error (the first one on ties). alpha = 0 gives s
/// = 1 exactly, so the result is never worse than plain group-wise
/// quantization on the calibration set. groupSize must divide K.
std::vector<float> awqScales(const float *w, int64_t K, int64_t N, const float *x, int64_t T,
                             int64_t groupSize, int bits, int gridPoints = 20);

/// ||X·W − (X / s)·deq(Q(diag(s)·W))||² (sum of squares over [T, N]) with Q
/// as in awqScales. `s` null means all ones (plain quantization).
double awqError(const float *w, int64_t K, int64_t N, const float *x, int64_t T,
                const float *s, int64_t groupSize, int bits);

/// Signal-to-quantization-noise ratio in dB: 10·log10(Σref² / Σ(ref−test)²).
/// +inf when test == ref exactly (including all zeros); -inf when ref is
/// all zeros but test is not.
double sqnrDb(const float *ref, const float *test, size_t n);

/// max_i |ref_i − test_i| (0 for n = 0).
double maxAbsError(const float *ref, const float *test, size_t n);

} // namespace loom::quant

#endif // LOOM_QUANT_QUANT_H
