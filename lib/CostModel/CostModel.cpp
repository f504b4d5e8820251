//===- CostModel.cpp - Roofline estimates and transfer costs --------------===//
//
// The formulas are documented in docs/targets.md ("Cost model"); every
// figure comes from the target description.
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/CostModel.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>

using namespace loom::cost;
using loom::target::DType;
using loom::target::OpClass;

int64_t TensorDesc::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static int64_t elems(const std::optional<TensorDesc> &t) {
  return t ? t->numElements() : 0;
}

/// The last `n`-th dimension of `t` (1-based from the end), or 0.
static int64_t dimFromEnd(const std::optional<TensorDesc> &t, size_t n) {
  return t && t->shape.size() >= n ? t->shape[t->shape.size() - n] : 0;
}

Work loom::cost::estimateWork(const KernelDesc &k) {
  Work w;
  w.opClass = target::kernelClass(k.kernel).value_or(OpClass::Other);
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
  if (k.kernel == "state_write" && !k.inputs.empty() && k.inputs[0]) {
    // Writes its input into part of a state buffer: it moves the input's
    // bytes, not the whole state.
    w.bytes = 2.0 * double(k.inputs[0]->bytes());
    outElems = k.inputs[0]->numElements();
  }
  auto input = [&](size_t i) -> const std::optional<TensorDesc> & {
    static const std::optional<TensorDesc> none;
    return i < k.inputs.size() ? k.inputs[i] : none;
  };
  const std::string &n = k.kernel;
  // Elementwise, reductions, data movement, normalizations, and the kernels
  // below when their operands are missing: one operation per element.
  w.flops = double(std::max(inElems, outElems));
  if (n == "fused_matmul") {
    // As matmul, with A possibly transposed: K = (A's last two dimensions)
    // / M, whichever of them is M.
    const auto &a = input(0);
    int64_t m = dimFromEnd(k.outputs.empty() ? std::nullopt : k.outputs[0], 2);
    int64_t kDim = 1;
    if (a && a->shape.size() >= 2 && m > 0)
      kDim = dimFromEnd(a, 1) * dimFromEnd(a, 2) / m;
    else if (a && a->shape.size() == 1)
      kDim = a->shape[0];
    w.flops = 2.0 * double(outElems) * double(kDim) + double(outElems);
  } else if (n == "swiglu") {
    // X [..., K] · W1, W3 [K, N]: two products (2·K each per output
    // element) and the gate (~5 operations per element).
    int64_t kDim = dimFromEnd(input(0), 1);
    w.flops = double(outElems) * (4.0 * double(kDim) + 5.0);
  } else if (n == "matmul" || n == "matmul_integer" || n == "qlinear_matmul" ||
             n == "qmatmul") {
    // [..., M, K] x [..., K, N]: 2·K operations per output element.
    const auto &a = input(0);
    int64_t kDim = a && !a->shape.empty() ? a->shape.back() : 1;
    w.flops = 2.0 * double(outElems) * double(kDim);
  } else if (n == "gemm" || n == "fused_gemm") {
    // Y[M, N] = A[M, K] B + C: K = |A| / M.
    int64_t m =
        !k.outputs.empty() && k.outputs[0] && !k.outputs[0]->shape.empty()
            ? k.outputs[0]->shape[0]
            : 1;
    int64_t kDim = m > 0 ? elems(input(0)) / m : 0;
    w.flops = 2.0 * double(outElems) * double(kDim);
  } else if (n == "conv" || n == "conv_integer" || n == "qlinear_conv" ||
             n == "fused_conv") {
    // W[M, C/g, k...]: each output element reads |W| / M weights.
    const auto &wt = input(*target::rhsOperandIndex(n));
    int64_t perOut = wt && !wt->shape.empty() && wt->shape[0] > 0
                         ? wt->numElements() / wt->shape[0]
                         : 0;
    w.flops = 2.0 * double(outElems) * double(perOut);
  } else if (n == "qconv") {
    // As conv; a packed int4 W (1-D, two weights per byte) holds 2·|W|
    // weights, M from its scale (operand 4, [M, ...]).
    const auto &wt = input(3), &x = input(0), &scale = input(4);
    bool packed = wt && x && wt->shape.size() != x->shape.size();
    int64_t weights = elems(wt) * (packed ? 2 : 1);
    int64_t m = scale && !scale->shape.empty() ? scale->shape[0] : 0;
    if (!packed && wt && !wt->shape.empty())
      m = wt->shape[0];
    w.flops = m > 0 ? 2.0 * double(outElems) * double(weights / m) : 0.0;
  } else if (n == "conv_transpose" || n == "fused_conv_transpose") {
    // W[C, M/g, k...]: each input element scatters into |W| / C outputs.
    const auto &wt = input(1);
    int64_t perIn = wt && !wt->shape.empty() && wt->shape[0] > 0
                        ? wt->numElements() / wt->shape[0]
                        : 0;
    w.flops = 2.0 * double(elems(input(0))) * double(perIn);
  } else if (n == "attention") {
    // Q [..., S, D], K [..., T, D], V [..., T, Dv]: Q·Kᵀ (2·S·T·D), softmax
    // (~5 operations per score), ·V (2·S·T·Dv), for each of the |Q| / (S·D)
    // batch-heads.
    // T from V, whose layout does not depend on k_transposed.
    int64_t s = dimFromEnd(input(0), 2), d = dimFromEnd(input(0), 1);
    int64_t t = dimFromEnd(input(2), 2), dv = dimFromEnd(input(2), 1);
    if (s > 0 && d > 0 && t > 0 && dv > 0) {
      double heads = double(elems(input(0))) / double(s * d);
      w.flops = heads * double(s) * double(t) *
                (2.0 * double(d) + 5.0 + 2.0 * double(dv));
    }
  }
  // Transcendental evaluations: the kernel's own function per element, and
  // each transcendental op it applies to every output element.
  double perElement = isTranscendental(n) ? 1 : 0;
  for (const std::string &op : k.elementOps)
    perElement += isTranscendental(op) ? 1 : 0;
  w.transcendentals = perElement * double(outElems);
  // Weights: the constant operands of matmul- and conv-class kernels (the
  // other kernels' constants are shapes, scales and the like).
  if (k.coldWeights > 0 &&
      (w.opClass == OpClass::MatMul || w.opClass == OpClass::Conv))
    for (const auto &t : k.inputs)
      if (t && t->constant)
        w.coldBytes += k.coldWeights * double(t->bytes());
  w.coldCalls = w.coldBytes > 0 ? k.coldWeights * k.coldCallShare : 0;
  return w;
}

bool loom::cost::isTranscendental(llvm::StringRef op) {
  return llvm::is_contained({"exp",  "log",       "sigmoid", "tanh",  "erf",
                             "gelu", "gelu_tanh", "silu",    "elu",   "selu",
                             "celu", "softplus",  "mish",    "sin",   "cos",
                             "tan",  "asin",      "acos",    "atan",  "sinh",
                             "cosh", "asinh",     "acosh",   "atanh", "pow"},
                            op);
}

namespace {
/// The peak a floating-point element type runs at (f64 and complex count
/// as f32), or nullopt.
std::optional<DType> floatType(llvm::StringRef t) {
  if (t == "f32" || t == "f64" || t.starts_with("complex<"))
    return DType::F32;
  if (t == "f16")
    return DType::F16;
  if (t == "bf16")
    return DType::BF16;
  return std::nullopt;
}
/// i8 / ui8 / si8 -> i8, i4 / ui4 / si4 -> i4.
std::optional<DType> narrowIntType(llvm::StringRef t) {
  return llvm::StringSwitch<std::optional<DType>>(t)
      .Cases({"i8", "ui8", "si8"}, DType::I8)
      .Cases({"i4", "ui4", "si4"}, DType::I4)
      .Default(std::nullopt);
}
} // namespace

DType loom::cost::computeType(const KernelDesc &k) {
  OpClass c = target::kernelClass(k.kernel).value_or(OpClass::Other);
  if ((c == OpClass::MatMul || c == OpClass::Conv || c == OpClass::Attention) &&
      !k.inputs.empty() && k.inputs[0]) {
    const std::string &t = k.inputs[0]->elementType;
    if (auto f = floatType(t))
      return *f;
    if (auto i = narrowIntType(t))
      return *i;
    return DType::F32;
  }
  bool f32 = false, bf16 = false, f16 = false, i8 = false, i4 = false;
  auto visit = [&](const std::vector<std::optional<TensorDesc>> &operands) {
    for (const auto &t : operands) {
      if (!t)
        continue;
      if (auto f = floatType(t->elementType)) {
        f32 |= *f == DType::F32;
        bf16 |= *f == DType::BF16;
        f16 |= *f == DType::F16;
      } else if (auto i = narrowIntType(t->elementType)) {
        i8 |= *i == DType::I8;
        i4 |= *i == DType::I4;
      }
    }
  };
  visit(k.inputs);
  visit(k.outputs);
  if (f32)
    return DType::F32;
  if (bf16)
    return DType::BF16;
  if (f16)
    return DType::F16;
  if (i8)
    return DType::I8;
  if (i4)
    return DType::I4;
  return DType::F32; // index / shape / bool work
}

namespace {
/// isSupported without the compute type's peak.
bool supportsKernel(const loom::cost::KernelDesc &k,
                    const loom::target::DeviceDesc &device) {
  if (!device.listsKernel(k.kernel))
    return false;
  for (const std::string &f : k.weightFormats)
    if (!llvm::is_contained(device.weightFormats, f))
      return false;
  // A GPU or NPU runs a fused kernel only when its `fusions` list names the
  // kernel's family; CPUs run them all (the runtime has the kernels).
  if (std::optional<llvm::StringRef> family = loom::target::fusionFamily(k.kernel);
      family && device.kind != "cpu" &&
      !llvm::is_contained(device.fusions, family->str()))
    return false;
  if (device.hasRule(k.kernel, loom::target::OpQualifier::DynamicRhs)) {
    std::optional<unsigned> rhs = loom::target::rhsOperandIndex(k.kernel);
    if (rhs && *rhs < k.inputs.size() && k.inputs[*rhs] &&
        !k.inputs[*rhs]->constant)
      return false;
  }
  return true;
}
} // namespace

bool loom::cost::isSupported(const KernelDesc &k,
                             const target::DeviceDesc &device) {
  return supportsKernel(k, device) && device.runs(computeType(k));
}

std::optional<DType>
loom::cost::reducedFloatType(const KernelDesc &k,
                             const target::DeviceDesc &device) {
  if (computeType(k) != DType::F32 || device.runs(DType::F32) ||
      !supportsKernel(k, device))
    return std::nullopt;
  for (DType t : {DType::BF16, DType::F16})
    if (device.runs(t))
      return t;
  return std::nullopt;
}

std::vector<std::string>
loom::cost::fittedFamilyChain(const KernelDesc &k) {
  std::vector<std::string> chain;
  OpClass c = target::kernelClass(k.kernel).value_or(OpClass::Other);
  auto input = [&](size_t i) -> const TensorDesc * {
    return i < k.inputs.size() && k.inputs[i] ? &*k.inputs[i] : nullptr;
  };
  bool integer = !k.inputs.empty() && k.inputs[0] &&
                 llvm::is_contained({"i8", "ui8", "si8"},
                                    llvm::StringRef(k.inputs[0]->elementType));
  bool packed4 = llvm::any_of(k.weightFormats, [](const std::string &f) {
    return f == "int4" || f == "ternary";
  });
  if (k.kernel == "qmatmul" || k.kernel == "qconv") {
    // Quantized products: integer ones (8-bit activations) and 4-bit or
    // ternary weight-only ones run other code than 8-bit weight-only ones.
    if (integer)
      chain.push_back(k.kernel + "_int8");
    else if (packed4 && k.kernel == "qmatmul")
      chain.push_back("qmatmul_w4");
  } else if (c == OpClass::Conv) {
    // X [N, C, ...], W [M, C/g, k...] (qconv: W operand 3; a packed int4 W
    // is 1-D and has no window to read).
    std::optional<unsigned> wi = target::rhsOperandIndex(k.kernel);
    const TensorDesc *x = input(0), *w = wi ? input(*wi) : nullptr;
    bool transpose = llvm::StringRef(k.kernel).contains("transpose");
    if (!transpose && x && w && x->shape.size() >= 3 &&
        w->shape.size() == x->shape.size()) {
      if (w->shape[1] == 1 && x->shape[1] > 1)
        chain.push_back("conv_depthwise");
      else if (std::all_of(w->shape.begin() + 2, w->shape.end(),
                           [](int64_t d) { return d == 1; }))
        chain.push_back("conv_1x1");
    }
  } else if (c == OpClass::MatMul && !k.outputs.empty() && k.outputs[0]) {
    const auto &shape = k.outputs[0]->shape;
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i)
      rows *= shape[i];
    if (shape.size() >= 2 && rows == 1)
      chain.push_back("matmul_row");
  }
  chain.push_back(k.kernel);
  if (chain.back() != target::opClassName(c))
    chain.push_back(target::opClassName(c).str());
  return chain;
}

const char *CostTerms::dominant() const {
  std::pair<double, const char *> terms[] = {
      {dispatchUs, "dispatch"}, {overheadUs, "overhead"},
      {computeUs, "compute"},   {memoryUs, "memory"},
      {cacheUs, "cache"},       {transcendentalUs, "transcendental"},
      {coldUs, "cold"}};
  auto *best = &terms[0];
  for (auto &t : terms)
    if (t.first > best->first)
      best = &t;
  return best->second;
}

CostTerms loom::cost::fittedTerms(const Work &w,
                                  const target::FittedFamily &f,
                                  double cacheKB, double dispatchUs) {
  // GOP/s = 1e3 op/µs; GB/s = 1e3 B/µs.
  CostTerms t;
  t.fitted = true;
  t.dispatchUs = dispatchUs;
  t.overheadUs = f.fixedUs;
  t.computeUs = f.gops > 0 ? w.flops / (f.gops * 1e3) : 0;
  t.memoryUs = f.gbs > 0 ? w.bytes / (f.gbs * 1e3) : 0;
  double spill = std::max(0.0, w.bytes - cacheKB * 1024.0);
  t.cacheUs = f.spillGbs > 0 ? spill / (f.spillGbs * 1e3) : 0;
  t.transcendentalUs = f.transcendentalGops > 0
                           ? w.transcendentals / (f.transcendentalGops * 1e3)
                           : 0;
  t.coldUs = (f.coldGbs > 0 ? w.coldBytes / (f.coldGbs * 1e3) : 0) +
             f.coldFixedUs * w.coldCalls;
  return t;
}

std::optional<CostTerms>
loom::cost::estimateTerms(const KernelDesc &kernel,
                          const target::DeviceDesc &device) {
  if (!isSupported(kernel, device))
    return std::nullopt;
  if (device.fitted)
    for (const std::string &name : fittedFamilyChain(kernel))
      if (const target::FittedFamily *f = device.fitted->find(name)) {
        CostTerms t = fittedTerms(
            estimateWork(kernel), *f, device.fitted->cacheKB,
            device.fitted->dispatchUs.value_or(device.dispatchUs));
        t.family = name;
        return t;
      }
  Roofline r = *estimateRoofline(kernel, device);
  CostTerms t;
  t.dispatchUs = r.dispatchUs;
  t.computeUs = r.computeUs;
  t.memoryUs = r.memoryUs;
  return t;
}

std::optional<double>
loom::cost::estimateMicros(const KernelDesc &kernel,
                           const target::DeviceDesc &device,
                           const CostTable *table) {
  if (!isSupported(kernel, device))
    return std::nullopt;
  if (table)
    if (std::optional<double> us = table->lookup(kernel, device.name))
      return us;
  return estimateTerms(kernel, device)->totalUs();
}

std::optional<loom::cost::Roofline>
loom::cost::estimateRoofline(const KernelDesc &kernel,
                             const target::DeviceDesc &device,
                             std::optional<DType> reduced) {
  if (reduced ? reducedFloatType(kernel, device) != reduced
              : !isSupported(kernel, device))
    return std::nullopt;
  Work w = estimateWork(kernel);
  DType type = reduced ? *reduced : computeType(kernel);
  double peak = device.peak(type);
  double efficiency = device.efficiencyOf(w.opClass);
  // GOP/s = 1e3 op/µs; GB/s = 1e3 B/µs.
  Roofline r;
  r.dispatchUs = device.dispatchUs;
  r.computeUs = w.flops / (peak * efficiency * 1e3);
  r.memoryUs = w.bytes / (device.bandwidthGBs * 1e3);
  if (reduced) {
    // The device keeps its tensors in the 16-bit type (constants converted
    // at compile time: half the bytes of every f32 operand) and converts
    // the f32 it exchanges with other devices: one operation per element.
    double elements = 0;
    for (const auto *list : {&kernel.inputs, &kernel.outputs})
      for (const auto &t : *list)
        if (t && floatType(t->elementType) == DType::F32)
          elements += double(t->numElements());
    r.memoryUs -= elements * 2.0 / (device.bandwidthGBs * 1e3);
    r.computeUs += elements /
                   (peak * device.efficiencyOf(target::OpClass::Elementwise) * 1e3);
  }
  return r;
}

std::optional<double>
loom::cost::transferMicros(double bytes, llvm::StringRef from,
                           llvm::StringRef to,
                           const target::TargetDesc &target) {
  const target::DeviceDesc *a = target.findDevice(from.str());
  const target::DeviceDesc *b = target.findDevice(to.str());
  if (!a || !b)
    return std::nullopt;
  if (from == to)
    return 0.0;
  if (const target::LinkDesc *l = target.findLink(from, to))
    return l->sharedMemory ? l->syncUs
                           : l->latencyUs + bytes / (l->bandwidthGBs * 1e3);
  // No link: one copy through the CPU's memory at the slower bandwidth.
  return bytes / (std::min(a->bandwidthGBs, b->bandwidthGBs) * 1e3);
}
