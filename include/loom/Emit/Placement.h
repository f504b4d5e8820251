//===- Placement.h - Why a task runs on its device --------------*- C++ -*-===//
//
// The explanation `loomc --explain-placement` prints and report.html's task
// table shows: a task's estimated cost on every device of the plan and the
// reason for the device it got. One source for both.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_EMIT_PLACEMENT_H
#define LOOM_EMIT_PLACEMENT_H

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loom::plan {
class TaskOp;
} // namespace loom::plan

namespace loom::emit {

struct PlacementExplanation {
  /// (device, estimated µs) for every plan.device in module order; nullopt
  /// where the device cannot run the task.
  std::vector<std::pair<std::string, std::optional<double>>> costs;
  /// The device the task runs on.
  std::string chosen;
  /// Why: "fastest on gpu", "only cpu can run it", "faster on npu, but on
  /// gpu the whole schedule ends sooner (...)", then the term that
  /// dominated the estimate on the chosen device ("compute 71% of its time
  /// on cpu (fitted conv_1x1)"), the partitioner's fallback note and the
  /// co-executed part, if any, each after "; ".
  std::string reason;
  /// The largest term of the chosen device's estimate (dispatch, overhead,
  /// compute, memory, cache) and its model (roofline or the fitted
  /// family); empty when the task has no `cost_terms` there (a measured
  /// cost, or no estimate).
  std::string dominant, model;
};

PlacementExplanation explainPlacement(mlir::ModuleOp module,
                                      loom::plan::TaskOp task);

} // namespace loom::emit

#endif // LOOM_EMIT_PLACEMENT_H
