//===- DepthwiseConv.cpp - Depthwise convolution on NCHW buffers ----------===//
//
// Fast path for conv and fused_conv when every channel is convolved with a
// filter of its own (group = C = M, W is [C, 1, KH, KW]): the depthwise
// layers of MobileNet-style networks; more generally any grouped conv with
// at most four input channels and two filters per group. oneDNN runs these
// only in NHWC or blocked layouts, so on a plan's plain NCHW buffers each
// call paid a reorder in and a reorder out, about as long as the
// convolution itself on small images. This kernel works on the NCHW planes
// directly:
//
//  - per input channel, the plane is copied once into a zero-padded
//    scratch; with stride s each padded row is stored as its s phases
//    (elements s*j + p), so that every tap of every output row reads
//    consecutive floats;
//  - the output is cut into tiles of eight columns of one row; eight
//    accumulators at a time (eight tiles of one filter, or four tiles of a
//    group's two filters, which share the loads) take bias + sum over the
//    taps in a fixed order (bias first, then W's [Cg, KH, KW] order), so
//    results do not depend on the tiling;
//  - relu, leaky_relu, clip, hard_sigmoid and hard_swish are applied in
//    registers before the store; other epilogue activations run over the
//    finished planes (fused::applyActivation).
//
// AVX2 + FMA when the CPU has them (chosen at run time), a scalar loop over
// the same scratch otherwise. 1-D and 2-D, dilation 1, strides 1-4; with
// more threads (KernelArgs::threads), chunks of groups are shared out over
// OpenMP threads when the call has enough work. Any other call declines and
// the next registered kernel runs.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "FusedUtil.h"
#include "KernelUtil.h"
#include "NNUtil.h"
#include "VecEpilogue.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace loom::rt {
namespace {

using fused::Act;
using fused::Activation;
using vec::activate8;
using vec::VecAct;
using vec::vectorActivation;

/// The geometry of one call, with the scratch layout. G groups of Cg input
/// channels and Mg filters each (depthwise: Cg = Mg = 1, G = C).
struct DwShape {
  int64_t N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0, KH = 0, KW = 0;
  int64_t G = 0, Cg = 1, Mg = 1;
  int64_t SH = 1, SW = 1, PT = 0, PL = 0;
  int64_t OWr = 0;    ///< OW rounded up to a multiple of 8 (whole tiles).
  int64_t rowLen = 0; ///< Floats per phase of a scratch row (multiple of 8).
  int64_t PH = 0;     ///< Scratch rows: the padded input rows the output reads.
  /// Floats of scratch between the first input rows of output rows oy, oy+1.
  int64_t outRowStride() const { return SH * SW * rowLen; }
  int64_t scratchFloats() const { return PH * SW * rowLen; }
  /// Multiply-adds per output: every tap of every input channel of a group.
  int64_t taps() const { return Cg * KH * KW; }
};

/// Input channels and filters per group this kernel takes. The work per
/// output grows with the channels; every filter reloads the inputs. Wider
/// groups, and more filters per group (a CNN's RGB stem: 3 channels, 16
/// filters), run faster in oneDNN's direct kernels despite the reorders.
constexpr int64_t kMaxGroupChannels = 4, kMaxGroupFilters = 2;

bool isF32(const TensorRef &t) { return t.present && t.data && t.dtype == DType::F32; }

/// The epilogue activation of `a` (none for conv); nullopt when invalid.
std::optional<Activation> epilogueOf(const KernelArgs &a, bool fusedConv) {
  if (!fusedConv)
    return Activation{};
  return fused::activationIfValid("fused_conv", a.attrs);
}

/// The geometry of conv call `a`, or nullopt when this kernel does not take
/// it.
std::optional<DwShape> depthwiseShape(const KernelArgs &a) {
  if (a.inputs.size() < 2 || a.inputs.size() > 3 || a.outputs.size() != 1)
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &w = a.inputs[1], &y = a.outputs[0];
  if (!isF32(x) || !isF32(w) || !isF32(y) || x.rank() < 3 || x.rank() > 4 ||
      w.rank() != x.rank() || y.rank() != x.rank())
    return std::nullopt;
  nn::ConvGeometry g;
  try {
    g = nn::convGeometry(a.attrs, x.shape, w.shape, y.shape, "conv");
  } catch (const KernelError &) {
    return std::nullopt;
  }
  if (w.shape[1] > kMaxGroupChannels || w.shape[1] * g.group != g.inChannels ||
      g.outChannels % g.group != 0 || g.outChannels / g.group > kMaxGroupFilters)
    return std::nullopt;
  for (int i = 1; i < 3; ++i)
    if (g.dilations[i] != 1 || g.strides[i] < 1 || g.strides[i] > 4 || g.padBegin[i] < 0 ||
        g.in[i] < 1 || g.out[i] < 1)
      return std::nullopt;
  // The output must have the size ONNX defines for these pads and strides.
  try {
    const size_t n = x.rank() - 2;
    nn::Window win = nn::readWindow(a.attrs, n, "conv", Shape(w.shape.begin() + 2, w.shape.end()));
    nn::applyAutoPad(win, a.attrs, Shape(x.shape.begin() + 2, x.shape.end()), "conv");
    for (size_t i = 0; i < n; ++i)
      if ((x.shape[2 + i] + win.pads[i] + win.pads[n + i] - win.kernel[i]) / win.strides[i] + 1 !=
          y.shape[2 + i])
        return std::nullopt;
  } catch (const KernelError &) {
    return std::nullopt;
  }
  if (const TensorRef *b = nn::optInput(a, 2))
    if (!isF32(*b) || b->numElements() != g.outChannels)
      return std::nullopt;
  DwShape s;
  s.N = g.batch;
  s.C = g.inChannels;
  s.G = g.group;
  s.Cg = w.shape[1];
  s.Mg = g.outChannels / g.group;
  s.H = g.in[1];
  s.W = g.in[2];
  s.OH = g.out[1];
  s.OW = g.out[2];
  s.KH = g.kernel[1];
  s.KW = g.kernel[2];
  s.SH = g.strides[1];
  s.SW = g.strides[2];
  s.PT = g.padBegin[1];
  s.PL = g.padBegin[2];
  if (s.N < 1 || s.C < 1)
    return std::nullopt;
  s.OWr = (s.OW + 7) / 8 * 8;
  s.rowLen = (s.OWr + (s.KW - 1) / s.SW + 7) / 8 * 8;
  s.PH = (s.OH - 1) * s.SH + s.KH;
  return s;
}

/// dst[q] = the input row at padded column q (zero outside the row), for q
/// in [0, len).
void padRow(const float *src, int64_t W, int64_t PL, float *dst, int64_t len) {
  for (int64_t q = 0; q < len; ++q)
    dst[q] = q - PL >= 0 && q - PL < W ? src[q - PL] : 0.0f;
}

/// Splits the padded row `row` (SW * rowLen floats) into its SW phases:
/// dst[p * rowLen + j] = row[j * SW + p].
void splitPhases(const float *row, int64_t SW, int64_t rowLen, float *dst) {
  for (int64_t p = 0; p < SW; ++p)
    for (int64_t j = 0; j < rowLen; ++j)
      dst[p * rowLen + j] = row[j * SW + p];
}

/// How the AVX2 fill gets eight consecutive floats src[base .. base + 8) of
/// an input row, zeros outside [0, W): the same for every row and plane of
/// a call, so worked out once.
struct RowLoad {
  enum Kind { Zero, Inside, Edge } kind = Zero;
  int64_t base = 0;
  alignas(32) int32_t mask[8] = {}; ///< Edge: the lanes inside the row.
};

RowLoad rowLoad(int64_t base, int64_t W) {
  RowLoad l;
  l.base = base;
  if (base >= 0 && base + 8 <= W) {
    l.kind = RowLoad::Inside;
  } else if (base < W && base + 8 > 0) {
    l.kind = RowLoad::Edge;
    for (int i = 0; i < 8; ++i)
      l.mask[i] = base + i >= 0 && base + i < W ? -1 : 0;
  }
  return l;
}

/// The loads of one scratch row, block by block: for stride 1 one per eight
/// floats of the padded row; for stride 2 two per block (sixteen padded
/// floats give eight of each phase).
std::vector<RowLoad> rowLoads(const DwShape &s) {
  std::vector<RowLoad> loads;
  for (int64_t j = 0; j < s.rowLen; j += 8) {
    if (s.SW == 1) {
      loads.push_back(rowLoad(j - s.PL, s.W));
    } else {
      loads.push_back(rowLoad(2 * j - s.PL, s.W));
      loads.push_back(rowLoad(2 * j - s.PL + 8, s.W));
    }
  }
  return loads;
}

__attribute__((target("avx2,fma"), always_inline)) inline __m256 load8(const float *src,
                                                                       const RowLoad &l) {
  switch (l.kind) {
  case RowLoad::Inside:
    return _mm256_loadu_ps(src + l.base);
  case RowLoad::Edge: {
    // The address of lane 0 may lie before the row; only inside lanes are read.
    const auto *at = reinterpret_cast<const float *>(reinterpret_cast<uintptr_t>(src) +
                                                     l.base * int64_t(sizeof(float)));
    return _mm256_maskload_ps(at,
                              _mm256_load_si256(reinterpret_cast<const __m256i *>(l.mask)));
  }
  default:
    return _mm256_setzero_ps();
  }
}

/// Fills the scratch of plane `x` with AVX2 (strides 1 and 2), every float
/// written once by an 8-wide store (no zero fill overwritten later: a load
/// that only partly overlaps a pending store stalls). Stride 2 splits the
/// phases in registers (shuffle, then a lane permutation).
__attribute__((target("avx2,fma"))) void fillScratchAvx2(const DwShape &s, const float *x,
                                                         const std::vector<RowLoad> &loads,
                                                         float *scratch) {
  const int64_t len = s.SW * s.rowLen;
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
  for (int64_t r = 0; r < s.PH; ++r) {
    float *dst = scratch + r * len;
    const int64_t iy = r - s.PT;
    if (iy < 0 || iy >= s.H) {
      for (int64_t j = 0; j < len; j += 8)
        _mm256_storeu_ps(dst + j, _mm256_setzero_ps());
      continue;
    }
    const float *src = x + iy * s.W;
    if (s.SW == 1) {
      for (int64_t j = 0, i = 0; j < s.rowLen; j += 8, ++i)
        _mm256_storeu_ps(dst + j, load8(src, loads[size_t(i)]));
      continue;
    }
    for (int64_t j = 0, i = 0; j < s.rowLen; j += 8, i += 2) {
      const __m256 a = load8(src, loads[size_t(i)]), b = load8(src, loads[size_t(i) + 1]);
      // a0 a2 b0 b2 | a4 a6 b4 b6, then ordered.
      const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
      const __m256 odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
      _mm256_storeu_ps(dst + j, _mm256_permutevar8x32_ps(even, order));
      _mm256_storeu_ps(dst + s.rowLen + j, _mm256_permutevar8x32_ps(odd, order));
    }
  }
}

/// Copies plane `x` (H x W) into the scratch without AVX2 (or for strides
/// above 2): PH rows of SW phases each; `row` is room for one padded row
/// (SW * rowLen floats).
void fillScratch(const DwShape &s, const float *x, float *scratch, float *row) {
  const int64_t len = s.SW * s.rowLen;
  for (int64_t r = 0; r < s.PH; ++r) {
    float *dst = scratch + r * len;
    const int64_t iy = r - s.PT;
    if (iy < 0 || iy >= s.H) {
      std::fill(dst, dst + len, 0.0f);
      continue;
    }
    padRow(x + iy * s.W, s.W, s.PL, s.SW == 1 ? dst : row, len);
    if (s.SW > 1)
      splitPhases(row, s.SW, s.rowLen, dst);
  }
}

/// Scratch offsets of the taps relative to an output row's first input row,
/// in the order of W's [Cg, KH, KW]: tap (c, ky, kx) reads phase kx % SW of
/// row ky of input channel c's scratch, shifted by kx / SW.
std::vector<int64_t> tapOffsets(const DwShape &s) {
  std::vector<int64_t> off;
  off.reserve(size_t(s.taps()));
  for (int64_t c = 0; c < s.Cg; ++c)
    for (int64_t ky = 0; ky < s.KH; ++ky)
      for (int64_t kx = 0; kx < s.KW; ++kx)
        off.push_back(c * s.scratchFloats() + (ky * s.SW + kx % s.SW) * s.rowLen + kx / s.SW);
  return off;
}

/// T output tiles of F filters of one group with AVX2, from tile (oy, b) on
/// (a tile is eight columns [8b, 8b + 8) of output row oy); advances (oy, b)
/// past them. T x F independent accumulators: each input load serves F
/// filters, each broadcast of a filter tap T tiles. Filter f's weights are
/// at w + f * taps, its output plane at yp + f * plane. A row's last tile
/// may be partial: its extra lanes land on the next row of the plane, which
/// a later tile overwrites; past the plane's end they are cut off (AVX2's
/// masked store is slow on some CPUs).
template <int T, int F>
__attribute__((target("avx2,fma"), always_inline)) inline void
tilesAvx2(const DwShape &s, const float *scratch, float *yp, int64_t &oy, int64_t &b,
          const float *w, const float *bias, const int64_t *off, const VecAct &act) {
  static_assert(T >= 1 && T <= 8 && F >= 1 && T * F <= 8, "at most eight accumulators");
  const int64_t blocks = s.OWr / 8, taps = s.taps(), plane = s.OH * s.OW;
  const float *src[T];
  int64_t at[T];
  __m256 acc[T][F];
#pragma GCC unroll 8
  for (int i = 0; i < T; ++i) {
    src[i] = scratch + oy * s.outRowStride() + b * 8;
    at[i] = oy * s.OW + b * 8;
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f)
      acc[i][f] = _mm256_set1_ps(bias ? bias[f] : 0.0f);
    if (++b == blocks) {
      b = 0;
      ++oy;
    }
  }
  for (int64_t k = 0; k < taps; ++k) {
    const int64_t o = off[k];
    __m256 x[T];
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i)
      x[i] = _mm256_loadu_ps(src[i] + o);
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f) {
      const __m256 wk = _mm256_broadcast_ss(w + f * taps + k);
#pragma GCC unroll 8
      for (int i = 0; i < T; ++i)
        acc[i][f] = _mm256_fmadd_ps(wk, x[i], acc[i][f]);
    }
  }
#pragma GCC unroll 8
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i) {
      const __m256 v = activate8(act, acc[i][f]);
      float *dst = yp + f * plane + at[i];
      if (at[i] + 8 > plane) {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, v);
        std::copy(lanes, lanes + (plane - at[i]), dst);
      } else {
        _mm256_storeu_ps(dst, v);
      }
    }
}

/// The last n (< T) tiles of a plane: tilesAvx2<n, F> for n known at run
/// time.
template <int T, int F>
__attribute__((target("avx2,fma"), always_inline)) inline void
lastTilesAvx2(int64_t n, const DwShape &s, const float *scratch, float *yp, int64_t &oy,
              int64_t &b, const float *w, const float *bias, const int64_t *off,
              const VecAct &va) {
  if constexpr (T > 0) {
    if (n == T)
      return tilesAvx2<T, F>(s, scratch, yp, oy, b, w, bias, off, va);
    lastTilesAvx2<T - 1, F>(n, s, scratch, yp, oy, b, w, bias, off, va);
  }
}

/// The tiles of a plane for filters [0, F) of a group (see tilesAvx2),
/// eight accumulators at a time: 8 / F tiles, then the rest of the plane.
template <int F>
__attribute__((target("avx2,fma"), always_inline)) inline void
planeTilesAvx2(const DwShape &s, const float *scratch, float *yp, const float *w,
               const float *bias, const int64_t *off, const VecAct &va) {
  constexpr int T = 8 / F;
  const int64_t tiles = s.OH * (s.OWr / 8);
  int64_t oy = 0, b = 0, t = 0;
  for (; t + T <= tiles; t += T)
    tilesAvx2<T, F>(s, scratch, yp, oy, b, w, bias, off, va);
  lastTilesAvx2<T - 1, F>(tiles - t, s, scratch, yp, oy, b, w, bias, off, va);
}

/// The Mg (1 or 2) output planes of one group (at `yp`, `plane` floats
/// apart) from the group's filled scratch, with AVX2.
__attribute__((target("avx2,fma"))) void groupPlanesAvx2(const DwShape &s, const float *scratch,
                                                         const float *w, const float *bias,
                                                         const int64_t *off, const VecAct &va,
                                                         float *yp) {
  if (s.Mg == 2)
    planeTilesAvx2<2>(s, scratch, yp, w, bias, off, va);
  else
    planeTilesAvx2<1>(s, scratch, yp, w, bias, off, va);
}

/// The outputs of `groups` consecutive groups (from group index g0 of
/// image n) whose input scratches lie one after the other (Cg per group),
/// with AVX2.
__attribute__((target("avx2,fma"))) void groupsAvx2(const DwShape &s, const float *scratch,
                                                    const float *w, const float *bias,
                                                    int64_t n, int64_t g0, int64_t groups,
                                                    const std::vector<int64_t> &off,
                                                    const Activation &act, float *y) {
  const VecAct va = vec::vecAct(act);
  const int64_t plane = s.OH * s.OW, m0 = g0 * s.Mg;
  float *yp = y + (n * s.G * s.Mg + m0) * plane;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t m = m0 + g * s.Mg;
    groupPlanesAvx2(s, scratch + g * s.Cg * s.scratchFloats(), w + m * s.taps(),
                    bias ? bias + m : nullptr, off.data(), va, yp + g * s.Mg * plane);
  }
  if (!vectorActivation(act.kind))
    fused::applyActivation(act, yp, groups * s.Mg * plane);
}

/// groupsAvx2 for the baseline instruction set (same order of operations).
void groupsBase(const DwShape &s, const float *scratch, const float *w, const float *bias,
                int64_t n, int64_t g0, int64_t groups, const std::vector<int64_t> &off,
                const Activation &act, float *y) {
  const int64_t plane = s.OH * s.OW, m0 = g0 * s.Mg;
  float *yp = y + (n * s.G * s.Mg + m0) * plane;
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t j = 0; j < s.Mg; ++j) {
      const int64_t m = m0 + g * s.Mg + j;
      const float *wp = w + m * s.taps();
      for (int64_t oy = 0; oy < s.OH; ++oy) {
        const float *src = scratch + g * s.Cg * s.scratchFloats() + oy * s.outRowStride();
        float *yr = yp + (g * s.Mg + j) * plane + oy * s.OW;
        for (int64_t ox = 0; ox < s.OW; ++ox) {
          float acc = bias ? bias[m] : 0.0f;
          for (size_t k = 0; k < off.size(); ++k)
            acc += wp[k] * src[off[k] + ox];
          yr[ox] = acc;
        }
      }
    }
  fused::applyActivation(act, yp, groups * s.Mg * plane);
}

bool acceptsAs(const KernelArgs &a, bool fusedConv) {
  return depthwiseShape(a) && epilogueOf(a, fusedConv);
}

/// A thread's scratch of at least `floats` floats (kept between calls).
float *scratchBuffer(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats)
    buffer.resize(floats);
  return buffer.data();
}

/// Multiply-adds per thread below which a call stays on fewer threads
/// (waking a thread costs about as much as this much work).
constexpr int64_t kWorkPerThread = 1 << 18;

void runDepthwise(KernelArgs &a, bool fusedConv) {
  const std::optional<DwShape> shape = depthwiseShape(a);
  const std::optional<Activation> act = epilogueOf(a, fusedConv);
  if (!shape || !act)
    kern::fail(fusedConv ? "fused_conv" : "conv", "not a call for the depthwise fast path");
  const DwShape &s = *shape;
  const bool avx2 = vec::hasAvx2Fma();
  // Groups are filled in chunks (up to ~32 KiB of scratch) before any is
  // read: the stores of a fill have left the store queue by then. Each
  // chunk of each image is one unit of work, for one thread.
  const int64_t groupFloats = s.Cg * s.scratchFloats(),
                chunk = std::clamp<int64_t>(8192 / groupFloats, 1, s.G),
                chunks = (s.G + chunk - 1) / chunk, units = s.N * chunks;
  const size_t need = size_t(chunk * groupFloats + s.SW * s.rowLen);
  const std::vector<int64_t> off = tapOffsets(s);
  const std::vector<RowLoad> loads = rowLoads(s);
  const float *x = a.inputs[0].as<float>(), *w = a.inputs[1].as<float>();
  const TensorRef *b = nn::optInput(a, 2);
  const float *bias = b ? b->as<float>() : nullptr;
  float *y = a.outputs[0].as<float>();
  auto unit = [&](int64_t u) {
    float *scratch = scratchBuffer(need), *row = scratch + chunk * groupFloats;
    const int64_t n = u / chunks, g0 = u % chunks * chunk, groups = std::min(chunk, s.G - g0);
    for (int64_t c = 0; c < groups * s.Cg; ++c) {
      const float *xp = x + (n * s.C + g0 * s.Cg + c) * s.H * s.W;
      float *sp = scratch + c * s.scratchFloats();
      if (avx2 && s.SW <= 2)
        fillScratchAvx2(s, xp, loads, sp);
      else
        fillScratch(s, xp, sp, row);
    }
    (avx2 ? groupsAvx2 : groupsBase)(s, scratch, w, bias, n, g0, groups, off, *act, y);
  };
  const int64_t work = s.N * s.G * s.Mg * s.OH * s.OW * s.taps();
  const int threads = int(std::clamp<int64_t>(
      std::min<int64_t>(work / kWorkPerThread, units), 1, std::max(a.threads, 1)));
#if defined(LOOM_HAVE_OPENMP) && LOOM_HAVE_OPENMP
  if (threads > 1) {
    // Units are independent and each is computed the same way whichever
    // thread takes it: the result does not depend on the thread count.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t u = 0; u < units; ++u)
      unit(u);
    return;
  }
#endif
  for (int64_t u = 0; u < units; ++u)
    unit(u);
}

} // namespace

bool depthwiseConvAccepts(const KernelArgs &a, bool fusedConv) { return acceptsAs(a, fusedConv); }

void registerDepthwiseKernels(KernelRegistry &r) {
  auto add = [&r](const char *name, bool fusedConv) {
    KernelEntry e;
    e.name = name;
    e.impl = KernelImpl::Fast;
    e.fn = [fusedConv](KernelArgs &a) { runDepthwise(a, fusedConv); };
    e.accepts = [fusedConv](const KernelArgs &a) { return acceptsAs(a, fusedConv); };
    r.add(std::move(e));
  };
  add("conv", false);
  add("fused_conv", true);
}

} // namespace loom::rt
