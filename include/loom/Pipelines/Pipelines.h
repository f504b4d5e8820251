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

#include "mlir/Pass/PassManager.h"

#include <string>

namespace loom {

enum class OptLevel { O0, O1, O2 };

/// What the graph pipeline does.
struct GraphPipelineOptions {
  OptLevel optLevel = OptLevel::O1;
  /// Check that every shape is static (needed to build a plan).
  bool requireStaticShapes = true;
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
};

/// loom graph -> verified plan: plan-from-loom, plan-estimate-costs,
/// plan-partition, plan-schedule, plan-allocate-memory, plan-verify.
void addPlanPipeline(mlir::OpPassManager &pm,
                     const PlanPipelineOptions &options);

} // namespace loom

#endif // LOOM_PIPELINES_PIPELINES_H
