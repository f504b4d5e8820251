//===- Gemv.h - One-row f32 products shared by the fast paths ---*- C++ -*-===//
//
// Matrix-vector products that stream the matrix once (Gemv.cpp), for the
// fast paths whose work is one row: LLM decode, the classifier of a CNN, the
// 1x1 convolutions of a squeeze-excite block. AVX2 + FMA when the CPU has
// them, the same order of operations in scalar code otherwise; one thread.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_GEMV_H
#define LOOM_RUNTIME_KERNELS_GEMV_H

#include <cstdint>

namespace loom::rt::gemv {

/// y[N] = x[K] @ W[K, N] (W row-major): rows of W scaled and added.
void vecTimesMatrix(const float *x, const float *W, int64_t K, int64_t N, float *y);

/// y[M] = W[M, K] @ x[K] (W row-major): one dot product per row of W.
void matrixTimesVec(const float *W, const float *x, int64_t M, int64_t K, float *y);

} // namespace loom::rt::gemv

#endif // LOOM_RUNTIME_KERNELS_GEMV_H
