//===- Pipelines.h - The pass pipelines loomc runs --------------*- C++ -*-===//
//
// The graph pipeline (bind and fold shapes, unroll, fuse, quantize) and the
// plan pipeline (place, estimate, partition, schedule, allocate, verify), as
// loomc runs them. Other drivers (scenario compilation, calibration) build the
// same pipelines from here rather than repeating the pass lists.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PIPELINES_PIPELINES_H
#define LOOM_PIPELINES_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <optional>
#include <string>
#include <vector>

namespace loom {

enum class OptLevel { O0, O1, O2 };

/// What the graph pipeline does.
struct GraphPipelineOptions {
  OptLevel optLevel = OptLevel::O1;
  /// Check that every shape is static (needed to build a plan).
  bool requireStaticShapes = true;
  /// Bound on the trip count of loops that run at run time (-1: none).
  int64_t maxTripCount = -1;
};

/// Shape binding and folding, control-flow unrolling, CSE, the static-shape
/// check and (-O1 and up) the fusion passes, on each function of `pm`'s
/// module.
void addGraphPipeline(mlir::OpPassManager &pm,
                      const GraphPipelineOptions &options);

/// What the plan pipeline does.
struct PlanPipelineOptions {
  /// A built-in target name or a YAML target file.
  std::string target = "ryzen-ai-300";
  /// auto, heft, greedy, exact or single:DEVICE.
  std::string partitioner = "auto";
  /// Try co-execution splits of heavy tasks.
  bool split = true;
  /// Measured kernel times replacing the estimates ("" = none).
  std::string costTable;
  /// A cost table measured on another target is a warning, not an error.
  bool allowForeignCostTable = false;
  /// "auto": devices with a fitted cost model are priced by it; "roofline":
  /// the roofline everywhere (plan-estimate-costs' cost-model).
  std::string costModel = "auto";
  /// Threads each kernel will run with: the fit a device has for that many
  /// prices the plan (plan-estimate-costs' threads).
  int threads = 1;
  /// "auto": an f32 task may run on a device without f32 in the device's
  /// bf16/f16 (emulated on the host, docs/targets.md); "exact": never.
  std::string devicePrecision = "auto";
  /// INPUT=OUTPUT pairs whose output becomes a state buffer, written in
  /// place (plan-bind-state; generation programs bind their KV cache).
  std::vector<std::string> stateBindings;
};

/// loom graph -> verified plan: plan-from-loom, plan-bind-state (with
/// state bindings), plan-estimate-costs,
/// plan-partition, plan-schedule, plan-allocate-memory, plan-verify.
void addPlanPipeline(mlir::OpPassManager &pm,
                     const PlanPipelineOptions &options);

/// The SQNR (dB, against the f32 plan) below which device precision `auto`
/// keeps f32 everywhere.
inline constexpr double kMinDevicePrecisionSqnrDb = 30.0;

/// What runs in a device's 16-bit float, and how accurate that is.
struct DevicePrecisionReport {
  struct Device {
    std::string name, type;
    int tasks = 0;
  };
  std::vector<Device> devices;
  /// The lowest SQNR over the f32 outputs and the output it was measured
  /// on (two seeded input sets).
  double sqnrDb = 0;
  std::string output;
  /// Below kMinDevicePrecisionSqnrDb: the plan was made again with
  /// precision exact.
  bool keptExact = false;
};

/// The accuracy check of device precision `auto` on `module`, a plan made
/// by addPlanPipeline(options) from `beforePlan` (the loom graph): nullopt
/// when no task runs in reduced precision; else the report, after running
/// the plan on the host with and without precision emulation. When the
/// SQNR is below kMinDevicePrecisionSqnrDb, `module` is replaced by the
/// plan made with precision exact (report.keptExact).
mlir::FailureOr<std::optional<DevicePrecisionReport>>
checkDevicePrecision(mlir::ModuleOp module, const PlanPipelineOptions &options,
                     mlir::ModuleOp beforePlan);

/// What quantizeModule does (loomc --quantize, docs/quantization.md).
struct QuantizeOptions {
  /// w8, w4, int8, awq-w4, dynamic, auto or ternary.
  std::string mode;
  /// Empty, or "2:4" (modes w8, w4, ternary): MatMul weights pruned to two
  /// of every four along K.
  std::string sparsity;
  int64_t groupSize = 128;
  /// Input-set folders for loom-calibrate (needed by int8, awq-w4, auto).
  std::vector<std::string> calibrationData;
  std::string calibrationMethod = "minmax";
  double percentile = 99.99;
  /// Input-set folders the accuracy is measured on (default: the
  /// calibration data; without either, seeded random inputs).
  std::vector<std::string> evalData;
  /// The target `auto` asks the cost model about.
  std::string target;
  /// Empirical bias correction per layer, applied where it lowers the
  /// layer's output error (on the calibration data, else seeded random
  /// inputs). Always on in mode `auto`.
  bool biasCorrection = false;
  /// Keep in f32 the layers whose quantization costs most (lowest own-output
  /// SQNR) while their f32 weights fit this percentage of all quantized
  /// layers' f32 weight bytes.
  double keepFloatPercent = 0;
  /// What ranks the layers for keepFloatPercent: "layer" (the SQNR of the
  /// layer's own output, one host run) or "output" (the SQNR of the model
  /// outputs with that layer alone quantized, one host run per layer).
  std::string keepFloatBy = "layer";
  /// Cross-layer equalization of consecutive convolutions: "auto" (a pair
  /// where its second convolution quantizes with less error equalized, on
  /// the tuning inputs), "all" or "none".
  std::string equalize = "auto";
  /// int8: "auto" (divide an activation's channels into the weights where
  /// that lowers the layer's estimated rounding noise; SmoothQuant) or
  /// "none".
  std::string smooth = "auto";
};

/// The quantization modes, and whether a mode needs calibration data.
bool isQuantizeMode(llvm::StringRef mode);
bool modeNeedsCalibration(llvm::StringRef mode);

/// Quantizes `module` (a loom graph after the graph pipeline): loom-calibrate
/// when the mode needs it, loom-quantize, loom-fold-qdq, canonicalize. Then
/// runs the float graph (as it was before) and the quantized one on the
/// host on the same inputs and records, per graph output, the SQNR (dB), the
/// max abs error and (for [N, C] outputs, C > 1) the top-1 agreement, and
/// per quantized layer the SQNR of its output against the same op in f32
/// reading the same input, in the module attribute `loom.quantization` (the
/// report shows it).
mlir::LogicalResult quantizeModule(mlir::ModuleOp module,
                                   const QuantizeOptions &options);

} // namespace loom

#endif // LOOM_PIPELINES_PIPELINES_H
