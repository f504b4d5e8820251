//===- CostModel.h - Estimated time of kernels and transfers ----*- C++ -*-===//
//
// A roofline estimate per kernel and device: the work of a kernel (FLOPs and
// bytes moved, from its operand shapes) against the device's peak for the
// kernel's compute element type, scaled by the efficiency of the kernel's op
// class, and its memory bandwidth, plus the device's dispatch overhead.
// Transfers cost what the link between two devices says. A measured cost
// table, when given, overrides the estimates. docs/targets.md documents the
// formulas. Plain C++ with LLVM Support types, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_COSTMODEL_COSTMODEL_H
#define LOOM_COSTMODEL_COSTMODEL_H

#include "loom/Target/Target.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace loom::cost {

/// A statically shaped tensor operand; `elementBytes` as stored (bool: 1).
struct TensorDesc {
  std::vector<int64_t> shape;
  int64_t elementBytes = 4;
  /// The element type in MLIR spelling: f32, f16, bf16, f64, i8, ui8, i1,
  /// i64, complex<f32>, ...
  std::string elementType = "f32";
  /// Known at compile time (a weight): the `dynamic_rhs` qualifier asks this.
  bool constant = false;

  int64_t numElements() const;
  int64_t bytes() const { return numElements() * elementBytes; }
};

/// One kernel call: its name (a `loom` op mnemonic) and operands; an absent
/// optional operand is nullopt.
struct KernelDesc {
  std::string kernel;
  std::vector<std::optional<TensorDesc>> inputs, outputs;
  /// The packed weight formats a quantized kernel reads (int8, int4,
  /// ternary, 2:4); a device runs it only if its target lists them all.
  std::vector<std::string> weightFormats;
  /// The elementwise ops the kernel applies to every output element beside
  /// its main work: a fused kernel's epilogue `activation` (`silu`), a
  /// `fused_elementwise`'s body ops (`add`, `sigmoid`, ...). Only counted
  /// by Work::transcendentals.
  std::vector<std::string> elementOps;
  /// The share (0 to 1) of the call's weights it finds out of the caches,
  /// as a layer of a model whose weights do not stay in the caches between
  /// runs does (plan-estimate-costs decides: docs/targets.md, "Cold
  /// weights"). Only counted by Work::coldBytes and Work::coldCalls.
  double coldWeights = 0;
  /// The share of its family's per-call cold cost (`cold_fixed_us`) a call
  /// with cold weights pays, times coldWeights: 1 for a microkernel
  /// measured after a whole-cache flush (the calibration), 0 for a layer of
  /// a plan (plan-estimate-costs), which finds its code and the runtime's
  /// tables warm; only its weights come from memory (docs/targets.md,
  /// "Cold weights").
  double coldCallShare = 1;
};

/// The work of one kernel call.
struct Work {
  double flops = 0; ///< operations (FLOPs, or integer ops for i8 kernels)
  double bytes = 0; ///< bytes read and written (every operand once)
  /// Evaluations of a transcendental function (exp, tanh, erf, log, ...:
  /// isTranscendental) per call: an elementwise kernel of such a function
  /// once per element, a fused kernel once per output element and such op
  /// of its KernelDesc::elementOps. The runtime computes most of them in
  /// scalar double precision, at 10-100x the time of a relu per element,
  /// which operations and bytes cannot tell apart.
  double transcendentals = 0;
  /// Bytes of weights read from memory rather than the caches: with
  /// KernelDesc::coldWeights, the constant operands' bytes of a matmul- or
  /// conv-class kernel; else 0.
  double coldBytes = 0;
  /// KernelDesc::coldWeights for a call with weights (else 0): the share
  /// of a cold call's per-call cost it pays (its code and tables out of
  /// the caches too).
  double coldCalls = 0;
  target::OpClass opClass = target::OpClass::Other;
};

Work estimateWork(const KernelDesc &kernel);

/// Whether an elementwise op or activation (a kernel name, an epilogue
/// activation or a fused_elementwise body op) evaluates a transcendental
/// function: exp, log, sigmoid, tanh, erf, gelu, gelu_tanh, silu, elu,
/// softplus, mish, sin, cos, pow and the like.
bool isTranscendental(llvm::StringRef op);

/// The element type whose peak a kernel runs at: for matmul- and conv-class
/// kernels the type of the first input (the activation), for the others the
/// widest floating-point type among all operands, else i8 (8-bit integers),
/// else f32 (integer index/shape work, bools). f64 counts as f32.
target::DType computeType(const KernelDesc &kernel);

/// Whether `device` can run `kernel`: the kernel is in its `ops` and not in
/// its `unsupported_ops` (qualifiers checked against the operands), and the
/// device lists a peak for the kernel's compute type.
bool isSupported(const KernelDesc &kernel, const target::DeviceDesc &device);

/// The 16-bit float type `device` runs an f32 `kernel` in when it has no
/// f32 arithmetic of its own (`peak` has no f32) but bf16 (preferred) or
/// f16, and everything else about the kernel is supported there: the
/// device precision `auto` of docs/targets.md. nullopt otherwise.
std::optional<target::DType> reducedFloatType(const KernelDesc &kernel,
                                              const target::DeviceDesc &device);

class CostTable;

/// The terms of the roofline estimate of one kernel call on one device (µs).
struct Roofline {
  double dispatchUs = 0, computeUs = 0, memoryUs = 0;
  double totalUs() const { return dispatchUs + std::max(computeUs, memoryUs); }
  bool computeBound() const { return computeUs >= memoryUs; }
};

/// The roofline terms of `kernel` on `device` (no cost table); nullopt when
/// the device cannot run it. With `reduced` (reducedFloatType's answer), an
/// f32 kernel the device runs in that 16-bit type: its peak, 2 bytes per
/// element of every f32 operand, plus converting them at the device
/// boundary (one elementwise operation per element).
std::optional<Roofline>
estimateRoofline(const KernelDesc &kernel, const target::DeviceDesc &device,
                 std::optional<target::DType> reduced = std::nullopt);

/// The families a kernel's fitted cost is looked up under, most specific
/// first: its variant, if it has one (`conv_depthwise`: a conv-class kernel
/// whose groups equal its input channels, > 1; `conv_1x1`: one whose
/// weights have a 1x1 window; `matmul_row`: a matmul-class kernel with one
/// output row), then its kernel name, then its op class.
std::vector<std::string> fittedFamilyChain(const KernelDesc &kernel);

/// The terms of one estimate of a kernel call on a device (µs) and which
/// model they come from: the device's fitted family (`fitted`, `family`:
/// the sum of the terms), or the roofline (dispatch + max(compute,
/// memory)).
struct CostTerms {
  double dispatchUs = 0; ///< the device's dispatch_us
  double overheadUs = 0; ///< the family's fixed_us (fitted only)
  double computeUs = 0, memoryUs = 0;
  double cacheUs = 0; ///< bytes beyond the cache (fitted only)
  double transcendentalUs = 0; ///< exp/tanh/erf evaluations (fitted only)
  double coldUs = 0;           ///< weights read from memory (fitted only)
  std::string family; ///< the fitted family (empty for the roofline)
  bool fitted = false; ///< the terms add up; else the roofline's max
  double totalUs() const {
    return fitted ? dispatchUs + overheadUs + computeUs + memoryUs + cacheUs +
                        transcendentalUs + coldUs
                  : dispatchUs + std::max(computeUs, memoryUs);
  }
  /// The largest term: "dispatch", "overhead", "compute", "memory",
  /// "cache", "transcendental" or "cold" (the first of them on a tie).
  const char *dominant() const;
};

/// The terms of `kernel` on `device` (no cost table): the device's fitted
/// model when it lists one of fittedFamilyChain(kernel), else the roofline.
/// nullopt when the device cannot run it.
std::optional<CostTerms> estimateTerms(const KernelDesc &kernel,
                                       const target::DeviceDesc &device);

/// The fitted terms of a call with `work` under `family` (no support
/// check): dispatch + fixed + compute + memory + cache + transcendental +
/// cold weights.
CostTerms fittedTerms(const Work &work, const target::FittedFamily &family,
                      double cacheKB, double dispatchUs);

/// Estimated µs of `kernel` on `device`; nullopt when the device cannot run
/// it: estimateTerms' total. A `table` entry for the kernel's signature on this device replaces
/// the estimate (for a kernel the device can run).
std::optional<double> estimateMicros(const KernelDesc &kernel,
                                     const target::DeviceDesc &device,
                                     const CostTable *table = nullptr);

/// µs to make `bytes` written on device `from` readable on device `to`:
/// 0 on the same device; over a shared-memory link its sync_us; over a copy
/// link latency_us + bytes / bandwidth_gbs; with no link, one copy through
/// the CPU's memory at the slower of the two devices' bandwidth_gbs. nullopt
/// if a device is not in the target.
std::optional<double> transferMicros(double bytes, llvm::StringRef from,
                                     llvm::StringRef to,
                                     const target::TargetDesc &target);

/// The cost-table key of a kernel call: `name(in,...)->(out,...)` with each
/// operand as `DIMSxTYPE` (`64x256xf32`, a scalar is `f32`, absent `none`).
std::string kernelSignature(const KernelDesc &kernel);

/// Measured kernel times (µs per device) keyed by kernel signature. File
/// format (JSON, docs/targets.md):
///   {"version": 1, "target": "NAME",
///    "entries": [{"kernel": "matmul", "inputs": ["64x256xf32", ...],
///                 "outputs": ["64x128xf32"], "us": {"cpu": 12.5}}, ...]}
class CostTable {
public:
  /// The target the times were measured on (informational).
  std::string target;

  void set(const KernelDesc &kernel, llvm::StringRef device, double us);
  std::optional<double> lookup(const KernelDesc &kernel,
                               llvm::StringRef device) const;
  std::optional<double> lookup(llvm::StringRef signature,
                               llvm::StringRef device) const;
  size_t size() const { return entries.size(); }
  /// Every entry as a kernel call (operands from the signature; `constant`
  /// is not recorded) and its µs per device, in signature order.
  std::vector<std::pair<KernelDesc, std::map<std::string, double>>>
  kernels() const;

  /// Errors read `FILE: entries[3].us.cpu: expected a non-negative number`.
  static llvm::Expected<CostTable> parse(llvm::StringRef json,
                                         llvm::StringRef fileName);
  static llvm::Expected<CostTable> load(llvm::StringRef path);
  /// Deterministic JSON (entries sorted by signature, devices by name).
  std::string toJSON() const;
  llvm::Error save(llvm::StringRef path) const;

private:
  struct Entry {
    std::string kernel;
    std::vector<std::string> inputs, outputs;
    std::map<std::string, double> us;
  };
  std::map<std::string, Entry> entries; ///< by signature
};

} // namespace loom::cost

#endif // LOOM_COSTMODEL_COSTMODEL_H
