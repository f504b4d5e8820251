//===- FusedUtil.h - Helpers shared by the fused-op kernels -----*- C++ -*-===//
//
// The epilogue activations of docs/fused-ops.md (one scalar function and one
// in-place buffer function, shared by fused_conv, fused_conv_transpose,
// fused_gemm, fused_matmul and the fused_elementwise interpreter), and the
// registration of the fused_elementwise part (FusedElementwise.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_FUSEDUTIL_H
#define LOOM_RUNTIME_KERNELS_FUSEDUTIL_H

#include "loom/Runtime/Kernel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace loom::rt::fused {

/// The activations of the epilogue table (plus the unary ops the
/// fused_elementwise interpreter shares with it).
enum class Act {
  None,
  Relu,
  LeakyRelu,
  Clip,
  Sigmoid,
  HardSigmoid,
  HardSwish,
  Tanh,
  Gelu,
  GeluTanh,
  Silu,
  Elu, ///< Only as a fused_elementwise body op, not an epilogue activation.
};

/// An epilogue activation with its parameters resolved (defaults applied).
struct Activation {
  Act kind = Act::None;
  double alpha = 0, beta = 0;
};

/// Parses an epilogue activation name; throws KernelError
/// "<kernel>: unknown activation '<name>'". `alpha`/`beta` NaN means "absent":
/// the defaults of the ONNX op are used (leaky_relu 0.01, clip -inf/+inf,
/// hard_sigmoid 0.2/0.5).
Activation parseActivation(std::string_view kernel, const std::string &name,
                           double alpha = std::numeric_limits<double>::quiet_NaN(),
                           double beta = std::numeric_limits<double>::quiet_NaN());

/// The activation of a fused producer: attributes `activation`,
/// `activation_alpha`, `activation_beta`.
Activation activationFromAttrs(std::string_view kernel, const Attrs &attrs);

/// activationFromAttrs, or nullopt when the activation is invalid (for a
/// fast path's `accepts`: the reference kernel then reports the error).
inline std::optional<Activation> activationIfValid(std::string_view kernel,
                                                   const Attrs &attrs) {
  try {
    return activationFromAttrs(kernel, attrs);
  } catch (const KernelError &) {
    return std::nullopt;
  }
}

/// y = act(x), computed in double.
inline double activate(const Activation &a, double x) {
  switch (a.kind) {
  case Act::None:
    return x;
  case Act::Relu:
    return x > 0 ? x : 0.0;
  case Act::LeakyRelu:
    return x < 0 ? a.alpha * x : x;
  case Act::Clip:
    x = x < a.alpha ? a.alpha : x;
    return x > a.beta ? a.beta : x;
  case Act::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case Act::HardSigmoid:
    return std::max(0.0, std::min(1.0, a.alpha * x + a.beta));
  case Act::HardSwish:
    return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5));
  case Act::Tanh:
    return std::tanh(x);
  case Act::Gelu:
    return 0.5 * x * (1.0 + std::erf(x * 0.70710678118654752440));
  case Act::GeluTanh: {
    const double k = 0.79788456080286535588; // sqrt(2/pi)
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
  }
  case Act::Silu:
    return x / (1.0 + std::exp(-x));
  case Act::Elu:
    return x < 0 ? a.alpha * (std::exp(x) - 1.0) : x;
  }
  return x;
}

/// Applies `act` in place over `n` floats (each computed in double and
/// rounded back to f32).
void applyActivation(const Activation &act, float *data, int64_t n);

/// The epilogue helper: activation `name` with `alpha`, `beta` (NaN = the
/// default) applied in place over `n` floats; throws KernelError naming
/// `kernel` and `name` for an unknown activation.
void applyActivation(std::string_view kernel, const std::string &name,
                     double alpha, double beta, float *data, int64_t n);

/// Whether `from` broadcasts (numpy rules) to exactly `to` (a bias onto a
/// product, a mask onto attention scores).
bool broadcastsTo(const Shape &from, const Shape &to);

} // namespace loom::rt::fused

namespace loom::rt {
/// fused_elementwise (FusedElementwise.cpp); called by registerFusedKernels.
void registerFusedElementwiseKernels(KernelRegistry &registry);
/// The attention and softmax fast paths (DnnlAttention.cpp; nothing without
/// oneDNN);
/// called by registerFusedKernels.
void registerAttentionFastPath(KernelRegistry &registry);
} // namespace loom::rt

#endif // LOOM_RUNTIME_KERNELS_FUSEDUTIL_H
