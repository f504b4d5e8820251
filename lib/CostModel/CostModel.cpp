//===- CostModel.cpp - Roofline estimates ---------------------------------===//
#include "loom/CostModel/CostModel.h"

#include <algorithm>

using namespace loom::cost;

int64_t TensorDesc::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static int64_t elems(const std::optional<TensorDesc> &t) {
  return t ? t->numElements() : 0;
}

Work loom::cost::estimateWork(const KernelDesc &k) {
  Work w;
  int64_t inElems = 0, outElems = 0;
  for (const auto &t : k.inputs)
    if (t) {
      w.bytes += double(t->bytes());
      inElems = std::max(inElems, t->numElements());
    }
  for (const auto &t : k.outputs)
    if (t) {
      w.bytes += double(t->bytes());
      outElems += t->numElements();
    }
  auto input = [&](size_t i) -> const std::optional<TensorDesc> & {
    static const std::optional<TensorDesc> none;
    return i < k.inputs.size() ? k.inputs[i] : none;
  };
  const std::string &n = k.kernel;
  if (n == "matmul" || n == "matmulinteger") {
    // [..., M, K] x [..., K, N]: 2·K FLOPs per output element.
    const auto &a = input(0);
    int64_t kDim = a && !a->shape.empty() ? a->shape.back() : 1;
    w.flops = 2.0 * double(outElems) * double(kDim);
    w.dense = true;
  } else if (n == "gemm") {
    // Y[M, N] = A[M, K] B + C: K = |A| / M.
    int64_t m = !k.outputs.empty() && k.outputs[0] && !k.outputs[0]->shape.empty()
                    ? k.outputs[0]->shape[0]
                    : 1;
    int64_t kDim = m > 0 ? elems(input(0)) / m : 0;
    w.flops = 2.0 * double(outElems) * double(kDim);
    w.dense = true;
  } else if (n == "conv" || n == "convinteger") {
    // W[M, C/g, k...]: each output element reads |W| / M weights.
    const auto &wt = input(1);
    int64_t perOut = wt && !wt->shape.empty() && wt->shape[0] > 0
                         ? wt->numElements() / wt->shape[0]
                         : 0;
    w.flops = 2.0 * double(outElems) * double(perOut);
    w.dense = true;
  } else if (n == "convtranspose") {
    // W[C, M/g, k...]: each input element scatters into |W| / C outputs.
    const auto &wt = input(1);
    int64_t perIn = wt && !wt->shape.empty() && wt->shape[0] > 0
                        ? wt->numElements() / wt->shape[0]
                        : 0;
    w.flops = 2.0 * double(elems(input(0))) * double(perIn);
    w.dense = true;
  } else {
    // Elementwise, reductions, data movement: one operation per element.
    w.flops = double(std::max(inElems, outElems));
  }
  return w;
}

std::optional<double>
loom::cost::estimateMicros(const KernelDesc &kernel,
                           const loom::target::DeviceDesc &device) {
  if (device.kind != "cpu")
    return std::nullopt;
  Work w = estimateWork(kernel);
  double efficiency = w.dense ? device.denseEfficiency : device.otherEfficiency;
  // GFLOP/s = 1e3 FLOP/µs; GB/s = 1e3 B/µs.
  double computeUs = w.flops / (device.peakGflopsF32 * efficiency * 1e3);
  double memoryUs = w.bytes / (device.bandwidthGBs * 1e3);
  return device.dispatchUs + std::max(computeUs, memoryUs);
}
