//===- Families.h - Registration entry points of the kernel families ------===//
//
// Each kernel family (one or more .cpp files under lib/Runtime/Kernels)
// defines one registration function; registerBuiltinKernels() calls them all.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_FAMILIES_H
#define LOOM_RUNTIME_KERNELS_FAMILIES_H

#include "loom/Runtime/Kernel.h"

namespace loom::rt {

/// Elementwise unary/binary math, activations, Cast, Softmax, CumSum, ...
void registerMathKernels(KernelRegistry &registry);
/// Reduce* and ArgMax/ArgMin.
void registerReductionKernels(KernelRegistry &registry);
/// Shape manipulation, indexing, Pad, TopK, Unique, ...
void registerTensorKernels(KernelRegistry &registry);
/// MatMul, Gemm, Einsum.
void registerLinalgKernels(KernelRegistry &registry);
/// Convolution, pooling, normalization.
void registerNNKernels(KernelRegistry &registry);
/// RNN, GRU, LSTM.
void registerRNNKernels(KernelRegistry &registry);
/// Resize, GridSample, RoiAlign, NonMaxSuppression, ...
void registerImageKernels(KernelRegistry &registry);
/// DFT, STFT, windows, MelWeightMatrix.
void registerSignalKernels(KernelRegistry &registry);
/// Quantize/Dequantize, QLinear*, *Integer.
void registerQuantKernels(KernelRegistry &registry);
/// qmatmul, qconv: the quantized kernels of the quantization passes
/// (docs/fused-ops.md, "Quantized kernels").
void registerQuantizedKernels(KernelRegistry &registry);
/// NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss.
void registerLossKernels(KernelRegistry &registry);
/// The fused ops of docs/fused-ops.md (fused_conv, rms_norm, attention,
/// fused_elementwise, ...).
void registerFusedKernels(KernelRegistry &registry);
/// One-row f32 products (matmul, fused_matmul, swiglu) streaming their
/// weights (Gemv.cpp); registered before the oneDNN fast paths.
void registerGemvKernels(KernelRegistry &registry);
/// Whether the one-row gemm / fused_gemm fast path (Gemv.cpp) takes `a`.
bool oneRowGemmAccepts(const KernelArgs &a, bool fusedGemm);
/// Depthwise conv / fused_conv on NCHW planes (DepthwiseConv.cpp); registered
/// before the oneDNN fast paths, which would reorder to NHWC and back.
void registerDepthwiseKernels(KernelRegistry &registry);
/// Whether the depthwise fast path takes conv call `a` (`fusedConv`: a
/// fused_conv with its epilogue activation).
bool depthwiseConvAccepts(const KernelArgs &a, bool fusedConv);
/// oneDNN fast paths (empty when oneDNN is unavailable).
void registerDnnlKernels(KernelRegistry &registry);

// Parts of the families above that live in separate files.
void registerMathElementwiseKernels(KernelRegistry &registry);
void registerTensorShapeKernels(KernelRegistry &registry);
void registerTensorIndexKernels(KernelRegistry &registry);

} // namespace loom::rt

#endif // LOOM_RUNTIME_KERNELS_FAMILIES_H
