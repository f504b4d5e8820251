//===- Gemv.cpp - One-row products streaming their weights ----------------===//
//
// Fast paths for matmul, fused_matmul, swiglu, gemm and fused_gemm when A
// has one row (LLM decode: x [1, K] times a weight [K, N]; a classifier
// head) on one thread. Such a product is bound by reading W once. For
// x @ W the kernel streams W's rows in order and multiply-adds four of them
// at a time into the output row kept in L1 (in chunks of 2048 columns); for
// W @ x (gemm with transB, 1x1 convs on one pixel) it takes four dot
// products at a time. Both read W at close to the memory bandwidth. AVX2 +
// FMA when the CPU has them (chosen at run time), the same loop for the
// baseline instruction set otherwise. Bias (gemm: alpha, beta * C) and the
// epilogue activation follow, silu(x @ W1) * (x @ W3) for swiglu. Any other
// call (more rows, transposes of A with more rows, more threads) declines
// and the next registered kernel runs. gemv::* (Gemv.h) serve other fast
// paths.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "FusedUtil.h"
#include "Gemv.h"
#include "KernelUtil.h"
#include "VecEpilogue.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace loom::rt {
namespace {

constexpr int64_t kChunk = 2048; ///< Output columns per pass (8 KiB).

/// y[0, nc) = sum over k of x[k] * W[k, n0 + j] for one chunk of columns;
/// W is [K, N] row-major.
inline __attribute__((always_inline)) void gemvChunk(const float *x, const float *W, int64_t K,
                                                     int64_t N, int64_t n0, int64_t nc,
                                                     float *y) {
  std::fill(y, y + nc, 0.0f);
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
    const float *w0 = W + k * N + n0, *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
    for (int64_t j = 0; j < nc; ++j)
      y[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
  }
  for (; k < K; ++k) {
    const float xk = x[k];
    const float *w = W + k * N + n0;
    for (int64_t j = 0; j < nc; ++j)
      y[j] += xk * w[j];
  }
}

/// gemvChunk with AVX2 + FMA: eight columns per register, four rows of W
/// per pass over the chunk.
__attribute__((target("avx2,fma"))) void gemvChunkAvx2(const float *x, const float *W,
                                                       int64_t K, int64_t N, int64_t n0,
                                                       int64_t nc, float *y) {
  const int64_t nv = nc & ~int64_t(7);
  std::fill(y, y + nc, 0.0f);
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const __m256 x0 = _mm256_set1_ps(x[k]), x1 = _mm256_set1_ps(x[k + 1]),
                 x2 = _mm256_set1_ps(x[k + 2]), x3 = _mm256_set1_ps(x[k + 3]);
    const float *w0 = W + k * N + n0, *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
    for (int64_t j = 0; j < nv; j += 8) {
      __m256 acc = _mm256_loadu_ps(y + j);
      acc = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + j), acc);
      acc = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w1 + j), acc);
      acc = _mm256_fmadd_ps(x2, _mm256_loadu_ps(w2 + j), acc);
      acc = _mm256_fmadd_ps(x3, _mm256_loadu_ps(w3 + j), acc);
      _mm256_storeu_ps(y + j, acc);
    }
    for (int64_t j = nv; j < nc; ++j)
      y[j] += x[k] * w0[j] + x[k + 1] * w1[j] + x[k + 2] * w2[j] + x[k + 3] * w3[j];
  }
  for (; k < K; ++k) {
    const __m256 xk = _mm256_set1_ps(x[k]);
    const float *w = W + k * N + n0;
    for (int64_t j = 0; j < nv; j += 8)
      _mm256_storeu_ps(y + j, _mm256_fmadd_ps(xk, _mm256_loadu_ps(w + j), _mm256_loadu_ps(y + j)));
    for (int64_t j = nv; j < nc; ++j)
      y[j] += x[k] * w[j];
  }
}

/// gemvChunk for the baseline instruction set.
void gemvChunkBase(const float *x, const float *W, int64_t K, int64_t N, int64_t n0, int64_t nc,
                   float *y) {
  gemvChunk(x, W, K, N, n0, nc, y);
}

/// Four dot products of rows W[m .. m + 4) with x, two accumulators of
/// eight lanes per row; the lanes are summed pairwise, then the tail of K.
__attribute__((target("avx2,fma"))) void dot4Avx2(const float *W, const float *x, int64_t K,
                                                  float *y) {
  const float *w0 = W, *w1 = W + K, *w2 = W + 2 * K, *w3 = W + 3 * K;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0,
         b3 = a0;
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m256 xa = _mm256_loadu_ps(x + k), xb = _mm256_loadu_ps(x + k + 8);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), xa, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), xa, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), xa, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), xa, a3);
    b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k + 8), xb, b0);
    b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k + 8), xb, b1);
    b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k + 8), xb, b2);
    b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k + 8), xb, b3);
  }
  alignas(32) float lanes[4][8];
  _mm256_store_ps(lanes[0], _mm256_add_ps(a0, b0));
  _mm256_store_ps(lanes[1], _mm256_add_ps(a1, b1));
  _mm256_store_ps(lanes[2], _mm256_add_ps(a2, b2));
  _mm256_store_ps(lanes[3], _mm256_add_ps(a3, b3));
  const float *rows[4] = {w0, w1, w2, w3};
  for (int r = 0; r < 4; ++r) {
    const float *l = lanes[r];
    float s = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    for (int64_t j = k; j < K; ++j)
      s += rows[r][j] * x[j];
    y[r] = s;
  }
}

/// One dot product (the rows left after the groups of four).
float dot1(const float *w, const float *x, int64_t K) {
  float s = 0;
  for (int64_t k = 0; k < K; ++k)
    s += w[k] * x[k];
  return s;
}

} // namespace

namespace gemv {

void vecTimesMatrix(const float *x, const float *W, int64_t K, int64_t N, float *y) {
  const bool avx2 = vec::hasAvx2Fma();
  for (int64_t n0 = 0; n0 < N; n0 += kChunk)
    (avx2 ? gemvChunkAvx2 : gemvChunkBase)(x, W, K, N, n0, std::min(kChunk, N - n0), y + n0);
}

void matrixTimesVec(const float *W, const float *x, int64_t M, int64_t K, float *y) {
  const bool avx2 = vec::hasAvx2Fma();
  int64_t m = 0;
  if (avx2)
    for (; m + 4 <= M; m += 4)
      dot4Avx2(W + m * K, x, K, y + m);
  for (; m < M; ++m)
    y[m] = dot1(W + m * K, x, K);
}

} // namespace gemv

namespace {

using gemv::matrixTimesVec;
using gemv::vecTimesMatrix;

/// Whether `t` is a present f32 tensor.
bool isF32(const TensorRef &t) { return t.present && t.data && t.dtype == DType::F32; }

/// Whether x (one row of K), w [K, N] and y (one row of N) fit a one-row
/// product on one thread.
bool oneRow(const KernelArgs &a, const TensorRef &x, const TensorRef &w, const TensorRef &y) {
  if (a.threads > 1 || !isF32(x) || !isF32(w) || !isF32(y) || w.rank() != 2 || x.rank() < 1)
    return false;
  const int64_t K = w.shape[0], N = w.shape[1];
  return K > 0 && N > 0 && x.shape.back() == K && x.numElements() == K && y.numElements() == N &&
         y.shape.back() == N;
}

bool matmulAccepts(const KernelArgs &a) {
  return a.inputs.size() == 2 && a.outputs.size() == 1 &&
         oneRow(a, a.inputs[0], a.inputs[1], a.outputs[0]);
}

void matmulGemv(KernelArgs &a) {
  const TensorRef &w = a.inputs[1];
  vecTimesMatrix(a.inputs[0].as<float>(), w.as<float>(), w.shape[0], w.shape[1],
       a.outputs[0].as<float>());
}

bool fusedMatmulAccepts(const KernelArgs &a) {
  if (a.inputs.size() < 2 || a.inputs.size() > 3 || a.outputs.size() != 1 ||
      a.attrs.getInt("trans_a", 0) != 0 || a.attrs.getInt("trans_b", 0) != 0 ||
      a.attrs.getFloat("alpha", 1.0) != 1.0 || !oneRow(a, a.inputs[0], a.inputs[1], a.outputs[0]))
    return false;
  if (kern::hasInput(a, 2)) {
    const TensorRef &b = a.inputs[2];
    if (!isF32(b) || b.numElements() != a.inputs[1].shape[1] ||
        !fused::broadcastsTo(b.shape, a.outputs[0].shape))
      return false;
  }
  return fused::activationIfValid("fused_matmul", a.attrs).has_value();
}

void fusedMatmulGemv(KernelArgs &a) {
  const TensorRef &w = a.inputs[1];
  const int64_t N = w.shape[1];
  float *y = a.outputs[0].as<float>();
  vecTimesMatrix(a.inputs[0].as<float>(), w.as<float>(), w.shape[0], N, y);
  if (kern::hasInput(a, 2)) {
    const float *b = a.inputs[2].as<float>();
    for (int64_t n = 0; n < N; ++n)
      y[n] += b[n];
  }
  fused::applyActivation(fused::activationFromAttrs("fused_matmul", a.attrs), y, N);
}

bool swigluAccepts(const KernelArgs &a) {
  return a.inputs.size() == 3 && a.outputs.size() == 1 &&
         oneRow(a, a.inputs[0], a.inputs[1], a.outputs[0]) && isF32(a.inputs[2]) &&
         a.inputs[2].shape == a.inputs[1].shape;
}

void swigluGemv(KernelArgs &a) {
  const TensorRef &w1 = a.inputs[1];
  const int64_t K = w1.shape[0], N = w1.shape[1];
  std::vector<float> up(static_cast<size_t>(N));
  float *y = a.outputs[0].as<float>();
  vecTimesMatrix(a.inputs[0].as<float>(), w1.as<float>(), K, N, y);
  vecTimesMatrix(a.inputs[0].as<float>(), a.inputs[2].as<float>(), K, N, up.data());
  const fused::Activation silu{fused::Act::Silu, 0, 0};
  for (int64_t n = 0; n < N; ++n)
    y[n] = float(fused::activate(silu, double(y[n]))) * up[size_t(n)];
}

/// Gemm / fused_gemm with one row of output: A is [1, K] (or [K, 1] with
/// transA: the same K floats), B is [K, N] or, with transB, [N, K]; C
/// (scalar, [N] or [1, N]) is added with beta. Classifier heads.
bool gemmRowAccepts(const KernelArgs &a, bool fusedGemm) {
  if (a.inputs.size() < 2 || a.inputs.size() > 3 || a.outputs.size() != 1 || a.threads > 1)
    return false;
  const TensorRef &A = a.inputs[0], &B = a.inputs[1], &Y = a.outputs[0];
  if (!isF32(A) || !isF32(B) || !isF32(Y) || A.rank() != 2 || B.rank() != 2 || Y.rank() != 2)
    return false;
  const bool ta = a.attrs.getInt("transA", 0) != 0, tb = a.attrs.getInt("transB", 0) != 0;
  const int64_t M = ta ? A.shape[1] : A.shape[0], K = ta ? A.shape[0] : A.shape[1];
  const int64_t K2 = tb ? B.shape[1] : B.shape[0], N = tb ? B.shape[0] : B.shape[1];
  if (M != 1 || K != K2 || K < 1 || N < 1 || Y.shape[0] != 1 || Y.shape[1] != N)
    return false;
  if (kern::hasInput(a, 2)) {
    const TensorRef &C = a.inputs[2];
    const int64_t c = C.numElements();
    if (!isF32(C) || C.rank() > 2 || (c != 1 && c != N) ||
        (C.rank() == 2 && C.shape[0] != 1) || (c == N && N > 1 && C.shape.back() != N))
      return false;
  }
  if (!fusedGemm)
    return true;
  return fused::activationIfValid("fused_gemm", a.attrs).has_value();
}

void gemmRow(KernelArgs &a, bool fusedGemm) {
  const TensorRef &B = a.inputs[1];
  const bool tb = a.attrs.getInt("transB", 0) != 0;
  const int64_t N = a.outputs[0].shape[1];
  const float *x = a.inputs[0].as<float>();
  float *y = a.outputs[0].as<float>();
  if (tb)
    matrixTimesVec(B.as<float>(), x, N, B.shape[1], y);
  else
    vecTimesMatrix(x, B.as<float>(), B.shape[0], N, y);
  const float alpha = float(a.attrs.getFloat("alpha", 1.0));
  if (alpha != 1.0f)
    for (int64_t n = 0; n < N; ++n)
      y[n] *= alpha;
  const float beta = float(a.attrs.getFloat("beta", 1.0));
  if (kern::hasInput(a, 2) && beta != 0.0f) {
    const TensorRef &C = a.inputs[2];
    const float *c = C.as<float>();
    const bool scalar = C.numElements() == 1;
    for (int64_t n = 0; n < N; ++n)
      y[n] += beta * c[scalar ? 0 : n];
  }
  if (fusedGemm)
    fused::applyActivation(fused::activationFromAttrs("fused_gemm", a.attrs), y, N);
}

/// Registers `fn` as a fast path of `name`, taken when `accepts`.
void addGemv(KernelRegistry &r, const char *name, bool (*accepts)(const KernelArgs &),
             void (*fn)(KernelArgs &)) {
  KernelEntry e;
  e.name = name;
  e.impl = KernelImpl::Fast;
  e.fn = fn;
  e.accepts = accepts;
  r.add(std::move(e));
}

} // namespace

bool oneRowGemmAccepts(const KernelArgs &a, bool fusedGemm) {
  return gemmRowAccepts(a, fusedGemm);
}

void registerGemvKernels(KernelRegistry &r) {
  addGemv(r, "matmul", matmulAccepts, matmulGemv);
  addGemv(r, "fused_matmul", fusedMatmulAccepts, fusedMatmulGemv);
  addGemv(r, "swiglu", swigluAccepts, swigluGemv);
  addGemv(
      r, "gemm", [](const KernelArgs &a) { return gemmRowAccepts(a, false); },
      [](KernelArgs &a) { gemmRow(a, false); });
  addGemv(
      r, "fused_gemm", [](const KernelArgs &a) { return gemmRowAccepts(a, true); },
      [](KernelArgs &a) { gemmRow(a, true); });
}

} // namespace loom::rt
