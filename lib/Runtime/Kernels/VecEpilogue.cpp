//===- VecEpilogue.cpp - AVX2 epilogues shared by the f32 fast paths ------===//
#include "VecEpilogue.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace loom::rt::vec {

bool hasAvx2Fma() {
  static const bool yes = [] {
    const char *off = std::getenv("LOOM_RUNTIME_NO_AVX2");
    if (off && *off && std::strcmp(off, "0") != 0)
      return false;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
}

__attribute__((target("avx2,fma"))) void biasActivateRows(float *y, int64_t rows, int64_t n,
                                                          int64_t stride, const float *bias,
                                                          const fused::Activation &act) {
  const VecAct va = vecAct(act);
  const int64_t nv = n & ~int64_t(7);
  for (int64_t r = 0; r < rows; ++r) {
    float *row = y + r * stride;
    const float b = bias ? bias[r] : 0.0f;
    const __m256 bv = _mm256_set1_ps(b);
    for (int64_t i = 0; i < nv; i += 8)
      _mm256_storeu_ps(row + i, activate8(va, _mm256_add_ps(_mm256_loadu_ps(row + i), bv)));
    if (nv < n) {
      alignas(32) float lanes[8] = {};
      for (int64_t i = nv; i < n; ++i)
        lanes[i - nv] = row[i];
      _mm256_store_ps(lanes, activate8(va, _mm256_add_ps(_mm256_load_ps(lanes), bv)));
      for (int64_t i = nv; i < n; ++i)
        row[i] = lanes[i - nv];
    }
  }
  if (!vectorActivation(act.kind))
    for (int64_t r = 0; r < rows; ++r)
      fused::applyActivation(act, y + r * stride, n);
}

__attribute__((target("avx2,fma"))) void biasActivateRow(float *y, int64_t n, const float *bias,
                                                         const fused::Activation &act) {
  const VecAct va = vecAct(act);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(y + i);
    if (bias)
      v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
    _mm256_storeu_ps(y + i, activate8(va, v));
  }
  if (i < n) {
    alignas(32) float lanes[8] = {}, b[8] = {};
    for (int64_t j = i; j < n; ++j) {
      lanes[j - i] = y[j];
      b[j - i] = bias ? bias[j] : 0.0f;
    }
    _mm256_store_ps(lanes, activate8(va, _mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(b))));
    for (int64_t j = i; j < n; ++j)
      y[j] = lanes[j - i];
  }
  if (!vectorActivation(act.kind))
    fused::applyActivation(act, y, n);
}

namespace {

/// exp(v) for v in [-87.3, 88.3] (the caller clamps): v = k ln2 + r with
/// |r| <= ln2 / 2 (ln2 split in two for an exact product), exp(r) by its
/// degree-6 Taylor polynomial (error below 2e-7 relative), times 2^k.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp8(__m256 v) {
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), v);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/// silu on eight floats (see siluAvx2).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 silu8(__m256 x) {
  // exp(-x) with -x clamped to [-87.3, 88.3], where 2^k stays a normal
  // float, and infinity above (x / inf = -0 where the reference's result is
  // below 5e-37 in magnitude). A NaN passes through the clamp (max/min
  // return their second operand).
  const __m256 minusX = _mm256_sub_ps(_mm256_setzero_ps(), x);
  const __m256 t = _mm256_min_ps(_mm256_set1_ps(88.3f),
                                 _mm256_max_ps(_mm256_set1_ps(-87.3f), minusX));
  const __m256 e = _mm256_blendv_ps(exp8(t), _mm256_set1_ps(INFINITY),
                                    _mm256_cmp_ps(minusX, _mm256_set1_ps(88.3f), _CMP_GT_OQ));
  const __m256 y = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  // -inf / (1 + inf) is NaN in the reference.
  const __m256 minusInf = _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ);
  return _mm256_blendv_ps(y, _mm256_set1_ps(NAN), minusInf);
}

} // namespace

__attribute__((target("avx2,fma"))) void siluAvx2(const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, silu8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float lanes[8] = {};
    std::copy(x + i, x + n, lanes);
    _mm256_store_ps(lanes, silu8(_mm256_load_ps(lanes)));
    std::copy(lanes, lanes + (n - i), y + i);
  }
}

__attribute__((target("avx2,fma"))) double sumAvx2(const float *p, int64_t n) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(p + i)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 4)));
    s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 8)));
    s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 12)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; ++i)
    s += p[i];
  return s;
}

} // namespace loom::rt::vec
