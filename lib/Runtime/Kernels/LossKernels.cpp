//===- LossKernels.cpp - NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
//
// Reference kernels for the ONNX loss operators. Both gather -input[n, t, d]
// at the target class t, weight it by weight[t] (1 without weights, 0 for
// ignore_index) and reduce: none, sum, or mean = sum / sum of the weights.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "NNUtil.h"

#include <limits>

namespace loom::rt {
namespace nn {
namespace {

/// The shared NLL computation on `logp` ([N, C, D...] flattened, as double).
void nllLoss(KernelArgs &a, const char *K, const std::vector<double> &logp,
             const Shape &inShape, const TensorRef &target, const TensorRef *weight,
             const TensorRef &out) {
  if (inShape.size() < 2)
    fail(K, "input must have rank >= 2");
  const int64_t N = inShape[0], C = inShape[1];
  const int64_t D = N * C != 0 ? numElements(inShape) / (N * C) : 0;
  if (target.numElements() != N * D || target.rank() + 1 != inShape.size())
    fail(K, "target must have shape [N, d1, ...] matching the input");
  std::vector<double> w;
  if (weight) {
    w = toDoubles(*weight);
    if (int64_t(w.size()) != C)
      fail(K, "weight must have C elements");
  }
  const bool hasIgnore = a.attrs.has("ignore_index");
  const int64_t ignore = a.attrs.getInt("ignore_index", 0);
  const std::string reduction = a.attrs.getString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    fail(K, "unknown reduction '" + reduction + "'");

  std::vector<double> loss(size_t(N * D), 0.0);
  double sum = 0, weightSum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t t = loadI(target, n * D + d);
      if (hasIgnore && t == ignore)
        continue;
      if (t < 0 || t >= C)
        fail(K, "target " + std::to_string(t) + " is outside [0, " + std::to_string(C) + ")");
      const double wt = w.empty() ? 1.0 : w[size_t(t)];
      const double l = -logp[size_t((n * C + t) * D + d)] * wt;
      loss[size_t(n * D + d)] = l;
      sum += l;
      weightSum += wt;
    }
  if (reduction == "none") {
    if (out.numElements() != N * D)
      fail(K, "output must have the shape of target for reduction 'none'");
    fromDoubles(out, loss);
    return;
  }
  if (out.numElements() != 1)
    fail(K, "output must be a scalar for reduction '" + reduction + "'");
  storeD(out, 0, reduction == "sum" ? sum : sum / weightSum);
}

void nllKernel(KernelArgs &a) {
  const char *K = "negative_log_likelihood_loss";
  const TensorRef &x = input(a, 0, K);
  nllLoss(a, K, toDoubles(x), x.shape, input(a, 1, K), optInput(a, 2), output(a, 0, K));
}

/// SoftmaxCrossEntropyLoss: log-softmax over the class axis, then NLL.
void sceKernel(KernelArgs &a) {
  const char *K = "softmax_cross_entropy_loss";
  const TensorRef &x = input(a, 0, K);
  if (x.rank() < 2)
    fail(K, "scores must have rank >= 2");
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t D = N * C != 0 ? x.numElements() / (N * C) : 0;
  std::vector<double> v = toDoubles(x);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      auto at = [&](int64_t c) -> double & { return v[size_t((n * C + c) * D + d)]; };
      double mx = -std::numeric_limits<double>::infinity(), s = 0;
      for (int64_t c = 0; c < C; ++c)
        mx = std::max(mx, at(c));
      for (int64_t c = 0; c < C; ++c)
        s += std::exp(at(c) - mx);
      const double lse = mx + std::log(s);
      for (int64_t c = 0; c < C; ++c)
        at(c) -= lse;
    }
  if (const TensorRef *lp = optOutput(a, 1)) {
    if (lp->numElements() != x.numElements())
      fail(K, "log_prob must have the shape of scores");
    fromDoubles(*lp, v);
  }
  nllLoss(a, K, v, x.shape, input(a, 1, K), optInput(a, 2), output(a, 0, K));
}

void add(KernelRegistry &r, const char *name, KernelFn fn) {
  r.add(KernelEntry{name, {}, KernelImpl::Reference, std::move(fn), nullptr});
}

} // namespace
} // namespace nn

/// Registers the loss reference kernels.
void registerLossKernels(KernelRegistry &r) {
  using namespace nn;
  add(r, "negative_log_likelihood_loss", nllKernel);
  add(r, "softmax_cross_entropy_loss", sceKernel);
}

} // namespace loom::rt
