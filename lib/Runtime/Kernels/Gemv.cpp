//===- Gemv.cpp - One-row products streaming their weights ----------------===//
//
// Fast paths for matmul, fused_matmul and swiglu when A has one row (LLM
// decode: x [1, K] times a weight [K, N]) on one thread. Such a product is
// bound by reading W once; the kernel streams W's rows in order and
// multiply-adds four of them at a time into the output row kept in L1
// (in chunks of 2048 columns), which reads W at close to the memory
// bandwidth. AVX2 + FMA when the CPU has them (chosen at run time), the
// same loop for the baseline instruction set otherwise. Bias and the
// epilogue activation follow (fused_matmul), silu(x @ W1) * (x @ W3) for
// swiglu. Any other call (more rows, transposes, alpha, more threads)
// declines and the next registered kernel runs.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "FusedUtil.h"
#include "KernelUtil.h"

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

/// y[N] = x[K] @ W[K, N].
void gemv(const float *x, const float *W, int64_t K, int64_t N, float *y) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  for (int64_t n0 = 0; n0 < N; n0 += kChunk)
    (avx2 ? gemvChunkAvx2 : gemvChunkBase)(x, W, K, N, n0, std::min(kChunk, N - n0), y + n0);
}

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
  gemv(a.inputs[0].as<float>(), w.as<float>(), w.shape[0], w.shape[1],
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
  try {
    fused::activationFromAttrs("fused_matmul", a.attrs);
  } catch (const KernelError &) {
    return false;
  }
  return true;
}

void fusedMatmulGemv(KernelArgs &a) {
  const TensorRef &w = a.inputs[1];
  const int64_t N = w.shape[1];
  float *y = a.outputs[0].as<float>();
  gemv(a.inputs[0].as<float>(), w.as<float>(), w.shape[0], N, y);
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
  gemv(a.inputs[0].as<float>(), w1.as<float>(), K, N, y);
  gemv(a.inputs[0].as<float>(), a.inputs[2].as<float>(), K, N, up.data());
  const fused::Activation silu{fused::Act::Silu, 0, 0};
  for (int64_t n = 0; n < N; ++n)
    y[n] = float(fused::activate(silu, double(y[n]))) * up[size_t(n)];
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

void registerGemvKernels(KernelRegistry &r) {
  addGemv(r, "matmul", matmulAccepts, matmulGemv);
  addGemv(r, "fused_matmul", fusedMatmulAccepts, fusedMatmulGemv);
  addGemv(r, "swiglu", swigluAccepts, swigluGemv);
}

} // namespace loom::rt
