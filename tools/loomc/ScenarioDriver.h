//===- ScenarioDriver.h - loomc --scenario entry point ----------*- C++ -*-===//
//
// The one call loomc's main() makes for `--scenario=FILE.yaml`: the
// scenario-only flags (--scenario-policy, --allow-misses, --models-dir) live
// in ScenarioDriver.cpp, the work in lib/Scenario (loom/Scenario/Compile.h).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TOOLS_LOOMC_SCENARIODRIVER_H
#define LOOM_TOOLS_LOOMC_SCENARIODRIVER_H

#include "loom/Pipelines/Pipelines.h"

#include "llvm/Support/CommandLine.h"

#include <string>

namespace loom::scenario {

/// The category of the --scenario-* flags (loomc's --help lists it).
llvm::cl::OptionCategory &scenarioOptionCategory();

/// Compiles the scenario `file` into `outDir` for `target` with loomc's
/// partitioner, split, cost-table and -O options; returns loomc's exit code.
int runScenarioCompile(const std::string &file, const std::string &outDir,
                       const std::string &target,
                       const std::string &partitioner, bool split,
                       const std::string &costTable, bool allowForeignCostTable,
                       int optLevel, bool quiet, int threads = 1);

} // namespace loom::scenario

#endif // LOOM_TOOLS_LOOMC_SCENARIODRIVER_H
