//===- PlanEmitter.h - plan.json + weights.bin from plan IR -----*- C++ -*-===//
//
// Writes the files a runtime loads (docs/plan-format.md) from a module after
// plan-allocate-memory: every buffer has an offset, every arena a peak.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_EMIT_PLANEMITTER_H
#define LOOM_EMIT_PLANEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>
#include <vector>

namespace loom::emit {

/// The plan-format name of an element type (f32, i64, bool, ...; "" when
/// the format has none).
std::string dtypeName(mlir::Type type);

/// The plan format version this emitter writes.
constexpr int kPlanFormatVersion = 1;

struct PlanEmitOptions {
  std::string producer = "loomc";
  std::string weightsFile = "weights.bin";
};

/// Writes plan.json to `planJson` and weights.bin to `weights`. Reports an
/// error on the offending op and fails when the module is not a complete
/// plan (missing offsets, attributes the format cannot express, ...).
mlir::LogicalResult emitPlan(mlir::ModuleOp module, llvm::raw_ostream &planJson,
                             llvm::raw_ostream &weights,
                             const PlanEmitOptions &options = {});

/// Writes the predicted schedule as a Chrome trace (Trace Event Format; opens
/// in Perfetto or chrome://tracing): one process per device with one thread
/// per queue, as `loom-run --profile` writes the measured one, plus one
/// process per link that carries transfers. Fails on a task without
/// start_us/end_us.
mlir::LogicalResult emitTrace(mlir::ModuleOp module, llvm::raw_ostream &os);

/// Writes report.html: a self-contained page with the predicted latency
/// against the lower bound and the single-device plans, a Gantt chart of
/// every queue and link (legend per kernel family, labelled bars, time axis,
/// zoom; drawn by ReportScript.h's script), per-device utilization, the
/// tasks that fell back from their preferred device, memory over time per
/// arena, and a sortable table of the tasks with their cost on every device
/// and the reason for their placement (docs/tools.md).
mlir::LogicalResult emitReport(mlir::ModuleOp module, llvm::raw_ostream &os);

/// Writes quantization.json: the module's `loom.quantization` record (mode,
/// inputs measured on, per output its SQNR against the float model, per
/// layer its own SQNR and the cures applied; docs/quantization.md). Fails
/// when the module was not quantized.
mlir::LogicalResult emitQuantization(mlir::ModuleOp module,
                                     llvm::raw_ostream &os);

struct StubEmitOptions {
  /// The model's name (file names, class name): e.g. "tiny_cnn" gives
  /// tiny_cnn.h and class TinyCnn.
  std::string modelName = "model";
  std::string producer = "loomc";
  /// Stamped into every file.
  std::string commandLine;
  /// When set: also write <model>_embedded.cpp, which embeds plan.json and
  /// weights.bin from this (absolute) folder into the program (.incbin), and
  /// give the class `loadEmbedded()`.
  std::string embedFrom;
};

/// The runtime stubs of a plan (`loomc --emit=stubs`, OUT_DIR/runtime/): the
/// typed API (<model>.h/.cpp), one file of C device kernels per device of
/// the target (weak defaults running the runtime's CPU kernel) and a
/// CMakeLists.txt. Returns (file name, contents) in a fixed order.
mlir::FailureOr<std::vector<std::pair<std::string, std::string>>>
emitStubs(mlir::ModuleOp module, const StubEmitOptions &options);

} // namespace loom::emit

#endif // LOOM_EMIT_PLANEMITTER_H
