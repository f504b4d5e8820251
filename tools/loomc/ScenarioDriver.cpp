//===- ScenarioDriver.cpp - loomc --scenario ------------------------------===//
//
//   loomc --scenario=FILE.yaml -o OUT_DIR [--target=T]
//         [--scenario-policy=best|back-to-back|edf|fixed-priority|
//                            utilization|joint]
//         [--allow-misses] [--models-dir=DIR]
//
// See docs/scenarios.md. The flags below only matter with --scenario.
//
//===----------------------------------------------------------------------===//
#include "ScenarioDriver.h"

#include "loom/Scenario/Compile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::OptionCategory scenarioCategory("loomc --scenario options");

cl::OptionCategory &loom::scenario::scenarioOptionCategory() {
  return scenarioCategory;
}
static cl::opt<std::string> scenarioPolicy(
    "scenario-policy",
    cl::desc("With --scenario: the schedule to write: best (default: the "
             "policy with the fewest predicted deadline misses), "
             "back-to-back, edf, fixed-priority, utilization or joint; every "
             "policy is reported"),
    cl::value_desc("NAME"), cl::init("best"), cl::cat(scenarioCategory));
static cl::opt<bool> allowMisses(
    "allow-misses",
    cl::desc("With --scenario: an infeasible scenario is a warning, and the "
             "schedule is still written"),
    cl::init(false), cl::cat(scenarioCategory));
static cl::opt<std::string> modelsDir(
    "models-dir",
    cl::desc("With --scenario: the folder the model files are relative to, "
             "instead of the scenario's models_dir"),
    cl::value_desc("DIR"), cl::init(""), cl::cat(scenarioCategory));

int loom::scenario::runScenarioCompile(const std::string &file,
                                       const std::string &outDir,
                                       const std::string &target,
                                       const std::string &partitioner,
                                       bool split, const std::string &costTable,
                                       bool allowForeignCostTable, int optLevel,
                                       bool quiet, int threads) {
  if (outDir.empty()) {
    llvm::errs() << "loomc: no output directory given (-o OUT_DIR)\n"
                 << "usage: loomc --scenario=FILE.yaml -o OUT_DIR [options]; "
                    "see docs/scenarios.md\n";
    return 2;
  }
  ScenarioCompileOptions options;
  options.scenarioFile = file;
  options.outDir = outDir;
  options.modelsDir = modelsDir;
  options.policy = scenarioPolicy;
  options.allowMisses = allowMisses;
  options.quiet = quiet;
  options.producer = "loomc " LOOM_VERSION;
  options.graph.optLevel = OptLevel(optLevel);
  options.graph.requireStaticShapes = true;
  options.plan.target = target;
  options.plan.partitioner = partitioner;
  options.plan.split = split;
  options.plan.costTable = costTable;
  options.plan.allowForeignCostTable = allowForeignCostTable;
  options.plan.threads = threads;
  return compileScenario(options);
}
