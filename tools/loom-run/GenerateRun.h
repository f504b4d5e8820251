//===- GenerateRun.h - loom-run --generate ----------------------*- C++ -*-===//
#ifndef LOOM_TOOLS_LOOMRUN_GENERATERUN_H
#define LOOM_TOOLS_LOOMRUN_GENERATERUN_H

namespace loom::tools {

/// Whether the command line asks for `--generate` (anywhere).
bool isGenerateInvocation(int argc, char **argv);

/// `loom-run OUT --generate --prompt-ids 1,2,3 --max-new-tokens N ...`: runs
/// the generation program OUT (loomc --generate). Returns the exit code;
/// throws ToolError for usage and load errors.
int runGenerate(int argc, char **argv);

} // namespace loom::tools

#endif // LOOM_TOOLS_LOOMRUN_GENERATERUN_H
