//===- Kernels.cpp - Kernel names, op classes, element types --------------===//
//
// The table of kernel names (`loom` op mnemonics) and their op classes, used
// by the target parser (to check `ops` / `unsupported_ops`) and by the cost
// model (efficiency per class). docs/targets.md lists it; the unit test
// KernelTable.CoversEveryLoomOp keeps it in step with dialects/Loom/*.td.
//
//===----------------------------------------------------------------------===//
#include "loom/Target/Target.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>

using namespace loom::target;

llvm::StringRef loom::target::dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I8:
    return "i8";
  case DType::I4:
    return "i4";
  }
  return "?";
}

std::optional<DType> loom::target::parseDType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("f32", DType::F32)
      .Case("f16", DType::F16)
      .Case("bf16", DType::BF16)
      .Case("i8", DType::I8)
      .Case("i4", DType::I4)
      .Default(std::nullopt);
}

llvm::StringRef loom::target::opClassName(OpClass c) {
  switch (c) {
  case OpClass::MatMul:
    return "matmul";
  case OpClass::Conv:
    return "conv";
  case OpClass::Attention:
    return "attention";
  case OpClass::Elementwise:
    return "elementwise";
  case OpClass::Reduction:
    return "reduction";
  case OpClass::Normalization:
    return "normalization";
  case OpClass::DataMovement:
    return "data_movement";
  case OpClass::Other:
    return "other";
  }
  return "?";
}

std::optional<OpClass> loom::target::parseOpClass(llvm::StringRef name) {
  for (size_t i = 0; i < kNumOpClasses; ++i)
    if (opClassName(OpClass(i)) == name)
      return OpClass(i);
  return std::nullopt;
}

/// Round guesses for a device whose file does not say better (documented in
/// docs/targets.md): dense kernels reach a good part of peak, attention a bit
/// less (softmax between two matmuls), everything else is mostly memory bound
/// and gets a quarter, and the odd kernels (recurrences, sorting, signal
/// processing) a tenth.
double loom::target::defaultEfficiency(OpClass c) {
  switch (c) {
  case OpClass::MatMul:
    return 0.6;
  case OpClass::Conv:
    return 0.5;
  case OpClass::Attention:
    return 0.4;
  case OpClass::Elementwise:
  case OpClass::Reduction:
  case OpClass::Normalization:
  case OpClass::DataMovement:
    return 0.25;
  case OpClass::Other:
    return 0.1;
  }
  return 0.1;
}

std::array<double, kNumOpClasses> loom::target::defaultEfficiencies() {
  std::array<double, kNumOpClasses> e;
  for (size_t c = 0; c < kNumOpClasses; ++c)
    e[c] = defaultEfficiency(OpClass(c));
  return e;
}

namespace {
struct KernelEntry {
  const char *name;
  OpClass opClass;
};

// Sorted by name (checked by the unit tests through knownKernels()).
// Every region-free `loom` op mnemonic, the fused ops of the fusion passes
// (LoomFusedOps.td, docs/fused-ops.md, `fused_elementwise` included) and `copy` (the kernel name the cost model
// gives plan.transfer).
constexpr KernelEntry kKernels[] = {
    {"abs", OpClass::Elementwise},
    {"acos", OpClass::Elementwise},
    {"acosh", OpClass::Elementwise},
    {"add", OpClass::Elementwise},
    {"and", OpClass::Elementwise},
    {"arg_max", OpClass::Reduction},
    {"arg_min", OpClass::Reduction},
    {"asin", OpClass::Elementwise},
    {"asinh", OpClass::Elementwise},
    {"atan", OpClass::Elementwise},
    {"atanh", OpClass::Elementwise},
    {"attention", OpClass::Attention},
    {"average_pool", OpClass::Reduction},
    {"batch_normalization", OpClass::Normalization},
    {"bit_shift", OpClass::Elementwise},
    {"blackman_window", OpClass::Other},
    {"cast", OpClass::Elementwise},
    {"cast_like", OpClass::Elementwise},
    {"ceil", OpClass::Elementwise},
    {"celu", OpClass::Elementwise},
    {"clip", OpClass::Elementwise},
    {"compress", OpClass::Other},
    {"concat", OpClass::DataMovement},
    {"constant_of_shape", OpClass::DataMovement},
    {"conv", OpClass::Conv},
    {"conv_integer", OpClass::Conv},
    {"conv_transpose", OpClass::Conv},
    {"copy", OpClass::DataMovement},
    {"cos", OpClass::Elementwise},
    {"cosh", OpClass::Elementwise},
    {"cum_sum", OpClass::Reduction},
    {"depth_to_space", OpClass::DataMovement},
    {"dequantize_linear", OpClass::Elementwise},
    {"det", OpClass::Other},
    {"dft", OpClass::Other},
    {"div", OpClass::Elementwise},
    {"dropout", OpClass::Elementwise},
    {"dynamic_quantize_linear", OpClass::Elementwise},
    {"einsum", OpClass::Other},
    {"elu", OpClass::Elementwise},
    {"equal", OpClass::Elementwise},
    {"erf", OpClass::Elementwise},
    {"exp", OpClass::Elementwise},
    {"expand", OpClass::DataMovement},
    {"eye_like", OpClass::DataMovement},
    {"flatten", OpClass::DataMovement},
    {"floor", OpClass::Elementwise},
    {"fused_conv", OpClass::Conv},
    {"fused_conv_transpose", OpClass::Conv},
    {"fused_elementwise", OpClass::Elementwise},
    {"fused_gemm", OpClass::MatMul},
    {"fused_matmul", OpClass::MatMul},
    {"gather", OpClass::DataMovement},
    {"gather_elements", OpClass::DataMovement},
    {"gather_nd", OpClass::DataMovement},
    {"gelu", OpClass::Elementwise},
    {"gemm", OpClass::MatMul},
    {"global_average_pool", OpClass::Reduction},
    {"global_max_pool", OpClass::Reduction},
    {"greater", OpClass::Elementwise},
    {"greater_or_equal", OpClass::Elementwise},
    {"grid_sample", OpClass::Other},
    {"group_norm", OpClass::Normalization},
    {"gru", OpClass::Other},
    {"hamming_window", OpClass::Other},
    {"hann_window", OpClass::Other},
    {"hard_sigmoid", OpClass::Elementwise},
    {"hard_swish", OpClass::Elementwise},
    {"hardmax", OpClass::Reduction},
    {"identity", OpClass::DataMovement},
    {"instance_normalization", OpClass::Normalization},
    {"is_inf", OpClass::Elementwise},
    {"is_nan", OpClass::Elementwise},
    {"layer_normalization", OpClass::Normalization},
    {"leaky_relu", OpClass::Elementwise},
    {"less", OpClass::Elementwise},
    {"less_or_equal", OpClass::Elementwise},
    {"log", OpClass::Elementwise},
    {"log_softmax", OpClass::Normalization},
    {"lrn", OpClass::Normalization},
    {"lstm", OpClass::Other},
    {"matmul", OpClass::MatMul},
    {"matmul_integer", OpClass::MatMul},
    {"max", OpClass::Elementwise},
    {"max_pool", OpClass::Reduction},
    {"max_unpool", OpClass::Other},
    {"mean", OpClass::Elementwise},
    {"mean_variance_normalization", OpClass::Normalization},
    {"mel_weight_matrix", OpClass::Other},
    {"min", OpClass::Elementwise},
    {"mod", OpClass::Elementwise},
    {"mul", OpClass::Elementwise},
    {"neg", OpClass::Elementwise},
    {"negative_log_likelihood_loss", OpClass::Other},
    {"non_max_suppression", OpClass::Other},
    {"non_zero", OpClass::Other},
    {"not", OpClass::Elementwise},
    {"one_hot", OpClass::DataMovement},
    {"or", OpClass::Elementwise},
    {"pad", OpClass::DataMovement},
    {"pow", OpClass::Elementwise},
    {"prelu", OpClass::Elementwise},
    {"qconv", OpClass::Conv},
    {"qlinear_conv", OpClass::Conv},
    {"qlinear_matmul", OpClass::MatMul},
    {"qmatmul", OpClass::MatMul},
    {"quantize_linear", OpClass::Elementwise},
    {"range", OpClass::DataMovement},
    {"reciprocal", OpClass::Elementwise},
    {"reduce_l1", OpClass::Reduction},
    {"reduce_l2", OpClass::Reduction},
    {"reduce_log_sum", OpClass::Reduction},
    {"reduce_log_sum_exp", OpClass::Reduction},
    {"reduce_max", OpClass::Reduction},
    {"reduce_mean", OpClass::Reduction},
    {"reduce_min", OpClass::Reduction},
    {"reduce_prod", OpClass::Reduction},
    {"reduce_sum", OpClass::Reduction},
    {"reduce_sum_square", OpClass::Reduction},
    {"relu", OpClass::Elementwise},
    {"reshape", OpClass::DataMovement},
    {"resize", OpClass::DataMovement},
    {"reverse_sequence", OpClass::DataMovement},
    {"rms_norm", OpClass::Normalization},
    {"rnn", OpClass::Other},
    {"roi_align", OpClass::Other},
    {"round", OpClass::Elementwise},
    {"scatter_elements", OpClass::DataMovement},
    {"scatter_nd", OpClass::DataMovement},
    {"selu", OpClass::Elementwise},
    {"shape", OpClass::DataMovement},
    {"shrink", OpClass::Elementwise},
    {"sigmoid", OpClass::Elementwise},
    {"sign", OpClass::Elementwise},
    {"silu", OpClass::Elementwise},
    {"sin", OpClass::Elementwise},
    {"sinh", OpClass::Elementwise},
    {"size", OpClass::DataMovement},
    {"skip_layer_norm", OpClass::Normalization},
    {"skip_rms_norm", OpClass::Normalization},
    {"slice", OpClass::DataMovement},
    {"softmax", OpClass::Normalization},
    {"softmax_cross_entropy_loss", OpClass::Other},
    {"softplus", OpClass::Elementwise},
    {"softsign", OpClass::Elementwise},
    {"space_to_depth", OpClass::DataMovement},
    {"split", OpClass::DataMovement},
    {"sqrt", OpClass::Elementwise},
    {"squeeze", OpClass::DataMovement},
    {"state_write", OpClass::DataMovement},
    {"stft", OpClass::Other},
    {"sub", OpClass::Elementwise},
    {"sum", OpClass::Elementwise},
    {"swiglu", OpClass::MatMul},
    {"tan", OpClass::Elementwise},
    {"tanh", OpClass::Elementwise},
    {"tfidf_vectorizer", OpClass::Other},
    {"thresholded_relu", OpClass::Elementwise},
    {"tile", OpClass::DataMovement},
    {"top_k", OpClass::Other},
    {"transpose", OpClass::DataMovement},
    {"trilu", OpClass::DataMovement},
    {"unique", OpClass::Other},
    {"unsqueeze", OpClass::DataMovement},
    {"where", OpClass::Elementwise},
    {"xor", OpClass::Elementwise},
};
} // namespace

std::optional<OpClass> loom::target::kernelClass(llvm::StringRef kernel) {
  const KernelEntry *end = std::end(kKernels);
  const KernelEntry *it = std::lower_bound(
      std::begin(kKernels), end, kernel,
      [](const KernelEntry &e, llvm::StringRef k) { return e.name < k; });
  if (it != end && it->name == kernel)
    return it->opClass;
  return std::nullopt;
}

std::vector<llvm::StringRef> loom::target::knownKernels() {
  std::vector<llvm::StringRef> names;
  for (const KernelEntry &e : kKernels)
    names.push_back(e.name);
  return names;
}

std::optional<llvm::StringRef>
loom::target::fusionFamily(llvm::StringRef kernel) {
  return llvm::StringSwitch<std::optional<llvm::StringRef>>(kernel)
      .Cases({"fused_conv", "fused_conv_transpose"}, "conv_bias_act")
      .Cases({"fused_matmul", "fused_gemm", "swiglu"}, "matmul_bias_act")
      .Case("attention", "attention")
      .Cases({"rms_norm", "group_norm", "skip_layer_norm", "skip_rms_norm"},
             "layer_norm")
      .Case("fused_elementwise", "elementwise")
      .Default(std::nullopt);
}

std::optional<unsigned> loom::target::rhsOperandIndex(llvm::StringRef kernel) {
  return llvm::StringSwitch<std::optional<unsigned>>(kernel)
      .Cases({"matmul", "matmul_integer", "gemm", "fused_matmul", "fused_gemm",
              "swiglu"},
             1u)
      .Cases({"conv", "conv_integer", "conv_transpose", "fused_conv",
              "fused_conv_transpose"},
             1u)
      // QLinear*(a, a_scale, a_zero_point, b, ...): b is operand 3.
      .Cases({"qlinear_matmul", "qlinear_conv", "qmatmul", "qconv"}, 3u)
      .Default(std::nullopt);
}
