//===- ScenarioRun.h - loom-run --scenario ----------------------*- C++ -*-===//
//
//   loom-run --scenario OUT_DIR [--periods N] [--json FILE] [--threads N]
//
// Executes a scenario compiled by `loomc --scenario` on the host: the job
// instances of scenario.json in the chosen schedule's order at their release
// times (wall clock), each through the runtime Session of its model, and
// compares the measured latencies and misses with the predicted ones
// (docs/scenarios.md). Runtime only, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TOOLS_LOOMRUN_SCENARIORUN_H
#define LOOM_TOOLS_LOOMRUN_SCENARIORUN_H

namespace loom::tools {

/// True when argv asks for the scenario mode (`--scenario` or
/// `--scenario=DIR`).
bool isScenarioInvocation(int argc, char **argv);

/// Runs the scenario mode and returns 0; deadline misses are reported, not
/// errors. Usage, load and run errors throw (ToolError, KernelError,
/// std::exception), which loom-run's main reports like its own (exit 2).
int runScenario(int argc, char **argv);

} // namespace loom::tools

#endif // LOOM_TOOLS_LOOMRUN_SCENARIORUN_H
