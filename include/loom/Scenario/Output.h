//===- Output.h - scenario.json, trace.json, report.html --------*- C++ -*-===//
//
// The files `loomc --scenario` writes next to the compiled models
// (docs/scenarios.md). All deterministic: the same scenario, target and
// models give byte-identical files. Plain C++ on LLVM Support.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCENARIO_OUTPUT_H
#define LOOM_SCENARIO_OUTPUT_H

#include "loom/Scenario/Scheduler.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace loom::scenario {

/// What the files say besides the schedules.
struct OutputInfo {
  std::string producer = "loomc";
  std::string scenarioName;    ///< the scenario's `name`
  std::string source;          ///< the scenario file as given
  std::string target;          ///< the target as given
  std::string requestedPolicy; ///< "best" or a policy name
  /// Findings of analyzeFeasibility (written when --allow-misses kept going).
  std::vector<std::string> analysis;
  /// Per graph: its folder under OUT_DIR ("models/upscaler").
  std::vector<std::string> graphDirs;
};

/// scenario.json: the chosen schedule (`chosen` indexes `results`) job by
/// job in start order, and every policy's summary.
void writeScenarioJson(const ScenarioProblem &problem,
                       const std::vector<PolicyResult> &results, size_t chosen,
                       const OutputInfo &info, llvm::raw_ostream &os);

/// trace.json: the chosen schedule as a Chrome trace, one process per
/// device (one thread per queue) and one per link with transfers; each
/// task's args name its job and the job's plan folder.
void writeScenarioTrace(const ScenarioProblem &problem,
                        const PolicyResult &result, const OutputInfo &info,
                        llvm::raw_ostream &os);

/// report.html: the written schedule's misses and its timeline (device
/// queues with the job instances' tasks, links, one row per model with
/// each job, its release and deadline; ReportScript.h draws it); per model
/// and policy, the latency distribution (min, median, p95, max), misses,
/// and for requests TTFT and tokens/s; tables and inline SVG charts,
/// policies side by side.
void writeScenarioReport(const ScenarioProblem &problem,
                         const std::vector<PolicyResult> &results,
                         size_t chosen, const OutputInfo &info,
                         llvm::raw_ostream &os);

} // namespace loom::scenario

#endif // LOOM_SCENARIO_OUTPUT_H
