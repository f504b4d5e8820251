//===- Target.h - Target descriptions (devices of a SoC) --------*- C++ -*-===//
//
// What the compiler knows about the machine a plan runs on: its devices, their
// queues, the figures the cost model uses, what each device can run, and the
// links between devices. Targets are YAML files (schema: docs/targets.md);
// the built-in ones live in targets/*.yaml and are embedded into the library
// at build time. Plain C++ with LLVM Support types, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_TARGET_H
#define LOOM_TARGET_TARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::target {

/// The element types a device's peak throughput is given for (`peak` keys).
enum class DType { F32, F16, BF16, I8, I4 };
inline constexpr size_t kNumDTypes = 5;
/// "f32", "f16", "bf16", "i8", "i4".
llvm::StringRef dtypeName(DType t);
std::optional<DType> parseDType(llvm::StringRef name);

/// Classes of kernels, each with its own fraction of peak (`efficiency`).
enum class OpClass {
  MatMul,
  Conv,
  Attention,
  Elementwise,
  Reduction,
  Normalization,
  DataMovement,
  Other
};
inline constexpr size_t kNumOpClasses = 8;
/// "matmul", "conv", "attention", "elementwise", "reduction",
/// "normalization", "data_movement", "other".
llvm::StringRef opClassName(OpClass c);
std::optional<OpClass> parseOpClass(llvm::StringRef name);
/// The efficiency a device gets for `c` when its `efficiency` map omits it.
double defaultEfficiency(OpClass c);
/// defaultEfficiency of every class, indexed by OpClass.
std::array<double, kNumOpClasses> defaultEfficiencies();

/// The fusion family of a fused kernel (docs/fused-ops.md), as a device's
/// `fusions` list names it: `conv_bias_act` (fused_conv,
/// fused_conv_transpose), `matmul_bias_act` (fused_matmul, fused_gemm,
/// swiglu), `attention`, `layer_norm` (rms_norm, group_norm,
/// skip_layer_norm, skip_rms_norm) or `elementwise` (fused_elementwise);
/// nullopt for every other kernel.
std::optional<llvm::StringRef> fusionFamily(llvm::StringRef kernel);

/// The class of a kernel (a `loom` op mnemonic, or `copy`); nullopt for a
/// name Loom does not know. The table is in lib/Target/Kernels.cpp and
/// documented in docs/targets.md.
std::optional<OpClass> kernelClass(llvm::StringRef kernel);
/// Every kernel name of the table, sorted.
std::vector<llvm::StringRef> knownKernels();
/// The operand index of the "right-hand side" (weights / B) of a kernel that
/// has one (matmul, gemm, conv, ...: the operand the `dynamic_rhs` qualifier
/// is about), else nullopt.
std::optional<unsigned> rhsOperandIndex(llvm::StringRef kernel);

/// Qualifiers of an `unsupported_ops` entry (`kernel:qualifier`).
enum class OpQualifier {
  None,       ///< the kernel in every form
  DynamicRhs, ///< only when its rhs operand is not a constant (weight)
};

/// One `unsupported_ops` entry.
struct OpRule {
  std::string kernel;
  OpQualifier qualifier = OpQualifier::None;
};

/// The fitted cost of one kernel family on a device (docs/targets.md,
/// "Fitted cost model"): a call costs the device's `dispatch_us` plus
///   fixed_us + operations / (gops · 1e3) + bytes / (gbs · 1e3)
///            + max(0, bytes - cache_kb · 1024) / (spill_gbs · 1e3)
///            + transcendentals / (transcendental_gops · 1e3)
///            + cold weight bytes / (cold_gbs · 1e3) + cold_fixed_us
///              (the last two for a call whose weights are cold)
/// A rate of 0 leaves its term out (the fit found it does not pay). The
/// model's own `dispatch_us`, when it has one, replaces the device's.
struct FittedFamily {
  double fixedUs = 0;  ///< per-call overhead beyond dispatch (small sizes)
  double gops = 0;     ///< operations per µs / 1e3; 0: no compute term
  double gbs = 0;      ///< bytes per µs / 1e3; 0: no memory term
  double spillGbs = 0; ///< extra time per byte beyond the cache; 0: none
  int samples = 0;     ///< microkernels the family was fitted on
  /// Median |log(predicted / measured)| over the held-out microkernels.
  double error = 0;
  /// exp/tanh/erf evaluations per µs / 1e3 (cost::Work::transcendentals,
  /// e.g. a silu epilogue); 0: no such term
  double transcendentalGops = 0;
  /// Extra time per byte of constant operands read from memory (weights
  /// out of the caches, cost::Work::coldBytes), GB/s; 0: no such term
  double coldGbs = 0;
  /// Extra µs per call with cold weights; 0: none
  double coldFixedUs = 0;
};

/// A device's fitted cost model: measured by `loom-profile --calibrate`,
/// written into the target file as the device's `fitted` mapping.
struct FittedModel {
  std::string machine; ///< where it was measured (informational)
  std::string date;    ///< when (informational, YYYY-MM-DD)
  int threads = 1;     ///< the kernels' threads during the measurement
  /// The per-call cost every family shares (the least fitted intercept),
  /// replacing the device's `dispatch_us` in fitted estimates; nullopt:
  /// the device's.
  std::optional<double> dispatchUs;
  double cacheKB = 0;  ///< bytes beyond which `spill_gbs` applies, KiB
  /// The machine's last-level cache, KiB (read where it was measured): a
  /// plan whose weights, twice over, do not fit in it reads them cold
  /// (`cold_gbs`); 0: unknown, never cold.
  double llcKB = 0;
  /// Measured (loom::coldThresholdKB): the plan weight bytes (KiB) beyond
  /// which a plan's calls are priced cold; 0: twice the weights against
  /// `llcKB` instead.
  double coldAboveKB = 0;
  /// Measured with it: the weights over which a plan goes from warm to
  /// cold, centred on `coldAboveKB` (a plan with W KiB of weights prices
  /// the share clamp((W - coldAboveKB) / coldRampKB + 1/2, 0, 1) of its
  /// calls' cold terms); 0: all at once.
  double coldRampKB = 0;

  /// The share of a plan's calls' weights that are cold when the plan has
  /// `weightBytes` of weights (0 to 1; 0 without a rule).
  double coldShare(double weightBytes) const;
  /// Median |log(predicted / measured)| over all held-out microkernels.
  double error = 0;
  /// Parameters per family name: a kernel takes the first of its
  /// variant (`conv_depthwise`, `conv_1x1`, `matmul_row`), its kernel name
  /// and its op class that is listed (cost::fittedFamilyChain).
  std::vector<std::pair<std::string, FittedFamily>> families;

  const FittedFamily *find(llvm::StringRef family) const {
    for (const auto &[name, f] : families)
      if (name == family)
        return &f;
    return nullptr;
  }
};

/// One device of a target and the figures its cost estimates come from.
struct DeviceDesc {
  std::string name; ///< symbol in the plan: "cpu", "gpu", "npu"
  std::string kind; ///< cpu, gpu or npu
  int queues = 1;   ///< in-order queues
  /// Peak throughput per element type in GOP/s (1 GOP/s = 1e3 op/µs); 0 for
  /// an element type the device does not run.
  std::array<double, kNumDTypes> peakGops{};
  double bandwidthGBs = 0; ///< memory bandwidth, GB/s (1 GB/s = 1e3 B/µs)
  double dispatchUs = 0;   ///< fixed cost of launching one kernel, µs
  std::optional<double> memoryMB; ///< arena limit in MiB; nullopt: unlimited
  /// Fraction of peak per op class, in (0, 1].
  std::array<double, kNumOpClasses> efficiency = defaultEfficiencies();
  bool allOps = true;           ///< `ops: all`
  std::vector<std::string> ops; ///< supported kernels when !allOps
  std::vector<OpRule> unsupportedOps;
  std::vector<std::string> fusions; ///< fused patterns run as one kernel
  bool staticShapesOnly = false;
  std::optional<double> powerW, idlePowerW;
  /// Weight formats of quantized kernels the device runs (`weight_formats`:
  /// int8, int4, ternary, 2:4); the parser fills in the default.
  std::vector<std::string> weightFormats;
  /// The fitted cost model (`fitted`), replacing the roofline for the
  /// kernel families it lists.
  std::optional<FittedModel> fitted;
  /// Every fit the target lists for the device (`fitted`: one mapping, or
  /// a list of them with different `threads`), in file order. `fitted` is
  /// the one estimates use: fitFor(1) after parsing, fitFor(N) for plans
  /// priced for N threads (plan-estimate-costs' `threads`).
  std::vector<FittedModel> fits;

  /// The fit for kernels run with `threads` threads: the one measured with
  /// that many, else the one with the most threads below it, else the one
  /// with the fewest; nullptr when the device has none.
  const FittedModel *fitFor(int threads) const;

  double peak(DType t) const { return peakGops[size_t(t)]; }
  bool runs(DType t) const { return peak(t) > 0; }
  double efficiencyOf(OpClass c) const { return efficiency[size_t(c)]; }
  /// Whether `kernel` is listed by `ops` (or `ops: all`) and not ruled out
  /// unconditionally by `unsupported_ops`. Qualified rules need the operands:
  /// see cost::isSupported.
  bool listsKernel(llvm::StringRef kernel) const;
  /// Whether an `unsupported_ops` entry `kernel:q` exists.
  bool hasRule(llvm::StringRef kernel, OpQualifier q) const;
};

/// A link between two devices (symmetric unless `directed`).
struct LinkDesc {
  std::string from, to;
  bool directed = false;
  /// Both devices address the same memory: a transfer is a cache flush /
  /// sync (`syncUs`) and no copy.
  bool sharedMemory = false;
  double bandwidthGBs = 0; ///< copy links: GB/s
  double latencyUs = 0;    ///< copy links: fixed cost per transfer, µs
  double syncUs = 0;       ///< shared-memory links: cost of a sync, µs

  bool connects(llvm::StringRef a, llvm::StringRef b) const {
    return (from == a && to == b) || (!directed && from == b && to == a);
  }
};

struct TargetDesc {
  std::string name;
  std::string description;
  std::vector<std::string> sources; ///< where the figures come from
  std::vector<DeviceDesc> devices;
  std::vector<LinkDesc> links;

  const DeviceDesc *findDevice(std::string_view deviceName) const;
  /// The link carrying data from `from` to `to`, or nullptr.
  const LinkDesc *findLink(llvm::StringRef from, llvm::StringRef to) const;
  /// The first device of kind cpu (every valid target has one).
  const DeviceDesc *firstCpu() const;
};

/// Parses and checks a target description (docs/targets.md). Errors read
/// `FILE:LINE:COL: FIELD.PATH: message`, e.g.
/// `ryzen.yaml:12:5: devices[1].peak.i8: expected a positive number`.
llvm::Expected<TargetDesc> parseTarget(llvm::StringRef yamlText,
                                       llvm::StringRef fileName);
/// A built-in target by name, else the YAML file at `nameOrPath`. A name that
/// is neither gives an error listing the built-in targets.
llvm::Expected<TargetDesc> loadTarget(llvm::StringRef nameOrPath);
/// Whether `name` is a built-in target.
bool isBuiltinTarget(llvm::StringRef name);
/// The YAML text of a built-in target (embedded from targets/NAME.yaml), or
/// nullopt.
std::optional<llvm::StringRef> builtinTargetText(llvm::StringRef name);
/// The built-in target called `name`, or nullopt.
std::optional<TargetDesc> getBuiltinTarget(std::string_view name);
/// Names of the built-in targets, sorted.
std::vector<std::string> builtinTargetNames();
/// "a, b, c": the built-in names for messages.
std::string builtinTargetList();

} // namespace loom::target

#endif // LOOM_TARGET_TARGET_H
