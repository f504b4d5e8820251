//===- GenerateDriver.h - loomc --generate entry point ----------*- C++ -*-===//
//
// `loomc MODEL.onnx --generate -o OUT`: a generation program for a decoder
// exported with past key/values (docs/generation.md). The --generate flags
// live in GenerateDriver.cpp; the program is compiled by
// loom::scenario::compileGenerateProgram (loom/Scenario/GenerateProgram.h),
// which the scenario compiler's `generate:` requests use too.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TOOLS_LOOMC_GENERATEDRIVER_H
#define LOOM_TOOLS_LOOMC_GENERATEDRIVER_H

#include "loom/Pipelines/Pipelines.h"

#include "llvm/Support/CommandLine.h"

#include <string>
#include <vector>

namespace loom::generate {

/// The category of the --generate flags (loomc's --help lists it).
llvm::cl::OptionCategory &generateOptionCategory();
/// Whether --generate was given.
bool generateRequested();

/// Compiles `model` into the generation program `outDir`; `constInputs` are
/// loomc's --const-input values. Returns loomc's exit code.
int runGenerateCompile(const std::string &model, const std::string &outDir,
                       const GraphPipelineOptions &graph,
                       const PlanPipelineOptions &plan,
                       const std::vector<std::string> &constInputs,
                       bool quiet);

} // namespace loom::generate

#endif // LOOM_TOOLS_LOOMC_GENERATEDRIVER_H
