//===- VecEpilogue.h - AVX2 epilogues shared by the f32 fast paths -*- C++ -*-===//
//
// The cheap epilogue activations of docs/fused-ops.md on eight floats in an
// AVX2 register (relu, leaky_relu, clip, hard_sigmoid, hard_swish), a bias +
// activation pass over rows, and a double-precision sum of a float run.
// Callers check hasAvx2Fma() and fall back to the scalar forms
// (fused::applyActivation) otherwise; every function here is compiled for
// AVX2 + FMA only, so it must not be called on CPUs without them.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_VECEPILOGUE_H
#define LOOM_RUNTIME_KERNELS_VECEPILOGUE_H

#include "FusedUtil.h"

#include <immintrin.h>

#include <cstdint>

namespace loom::rt::vec {

/// Whether the runtime's own AVX2 + FMA kernels may run: the CPU has both
/// and the environment does not set LOOM_RUNTIME_NO_AVX2 (to anything but
/// "" or "0"), which makes them take their scalar forms (how the tests
/// cover those on AVX2 machines). Checked once.
bool hasAvx2Fma();

/// Whether activate8 computes `k` (else the caller runs the scalar form).
inline bool vectorActivation(fused::Act k) {
  using fused::Act;
  return k == Act::None || k == Act::Relu || k == Act::LeakyRelu || k == Act::Clip ||
         k == Act::HardSigmoid || k == Act::HardSwish;
}

/// An activation with its parameters as broadcast registers.
struct VecAct {
  fused::Act kind = fused::Act::None;
  __m256 alpha, beta;
};

/// `act` as a VecAct (kind None when activate8 does not compute it).
__attribute__((target("avx2,fma"))) inline VecAct vecAct(const fused::Activation &act) {
  VecAct v;
  v.kind = vectorActivation(act.kind) ? act.kind : fused::Act::None;
  v.alpha = _mm256_set1_ps(float(act.alpha));
  v.beta = _mm256_set1_ps(float(act.beta));
  return v;
}

/// `act` on eight floats, with the NaN behaviour of fused::activate (relu
/// maps NaN to 0, leaky_relu and clip keep it; hard_sigmoid's clamp maps a
/// NaN argument to 1).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 activate8(const VecAct &act,
                                                                           __m256 v) {
  using fused::Act;
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  switch (act.kind) {
  case Act::Relu:
    return _mm256_max_ps(v, zero); // the second operand when v is NaN
  case Act::LeakyRelu:
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, act.alpha), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
  case Act::Clip:
    v = _mm256_blendv_ps(v, act.alpha, _mm256_cmp_ps(v, act.alpha, _CMP_LT_OQ));
    return _mm256_blendv_ps(v, act.beta, _mm256_cmp_ps(v, act.beta, _CMP_GT_OQ));
  case Act::HardSigmoid: {
    const __m256 t = _mm256_fmadd_ps(v, act.alpha, act.beta);
    return _mm256_max_ps(_mm256_min_ps(t, one), zero);
  }
  case Act::HardSwish: {
    const __m256 t = _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
    return _mm256_mul_ps(v, _mm256_max_ps(_mm256_min_ps(t, one), zero));
  }
  default:
    return v;
  }
}

/// y[r * stride + i] = act(y[r * stride + i] + bias[r]) in place for
/// `rows` rows of `n` floats (bias may be null). Activations activate8 does
/// not compute are applied afterwards in their scalar form.
__attribute__((target("avx2,fma"))) void biasActivateRows(float *y, int64_t rows, int64_t n,
                                                          int64_t stride, const float *bias,
                                                          const fused::Activation &act);

/// y[i] = act(y[i] + bias[i]) in place for i in [0, n) (bias may be null);
/// activations activate8 does not compute run afterwards in scalar form.
__attribute__((target("avx2,fma"))) void biasActivateRow(float *y, int64_t n, const float *bias,
                                                         const fused::Activation &act);

/// y[i] = silu(x[i]) = x[i] / (1 + exp(-x[i])) for i in [0, n), in f32 with
/// a polynomial exp: relative error below 4e-7 against the double-precision
/// reference for x >= -87; below, where |silu| < 1e-36, absolute error
/// below 5e-37; -inf gives NaN as the reference does. x and y may be equal.
__attribute__((target("avx2,fma"))) void siluAvx2(const float *x, float *y, int64_t n);

/// The sum of p[0, n) in double: four double accumulators of four lanes.
__attribute__((target("avx2,fma"))) double sumAvx2(const float *p, int64_t n);

} // namespace loom::rt::vec

#endif // LOOM_RUNTIME_KERNELS_VECEPILOGUE_H
