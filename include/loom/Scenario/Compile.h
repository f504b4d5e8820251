//===- Compile.h - loomc --scenario -----------------------------*- C++ -*-===//
//
// Compiles every model of a scenario in-process with the pipelines loomc
// runs (loom/Pipelines/Pipelines.h), then schedules the scenario under every
// policy and writes OUT_DIR/models/<name>/{plan.json,weights.bin},
// OUT_DIR/scenario.json, OUT_DIR/trace.json and OUT_DIR/report.html
// (docs/scenarios.md). OUT_DIR is written only on success (a temporary
// directory renamed at the end).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCENARIO_COMPILE_H
#define LOOM_SCENARIO_COMPILE_H

#include "loom/Pipelines/Pipelines.h"
#include "loom/Scenario/Scenario.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace loom::scenario {

struct ScenarioCompileOptions {
  std::string scenarioFile;
  std::string outDir;
  /// Replaces the scenario's models_dir when set.
  std::string modelsDir;
  /// "best" or a policy name (Scheduler.h).
  std::string policy = "best";
  /// Infeasibility findings are warnings instead of errors.
  bool allowMisses = false;
  bool quiet = false;
  std::string producer = "loomc";
  GraphPipelineOptions graph;
  /// Its `target` is the scenario's target.
  PlanPipelineOptions plan;
};

/// Runs the whole compilation; diagnostics go to stderr as
/// `loomc: error: ...`, the summary to stdout. Returns the exit code: 0
/// success, 1 bad scenario, compile error or infeasible scenario, 2 usage
/// error (unknown policy).
int compileScenario(const ScenarioCompileOptions &options);

/// Compiles one model file into `dir` (plan.json + weights.bin) with the
/// graph and plan pipelines of `options`; returns the plan.json text, or
/// nullopt after printing the diagnostics (`loomc: error: WHAT: FILE: ...`).
std::optional<std::string> compileModel(const ModelFile &model,
                                        const std::string &what,
                                        const ScenarioCompileOptions &options,
                                        llvm::StringRef dir);

} // namespace loom::scenario

#endif // LOOM_SCENARIO_COMPILE_H
