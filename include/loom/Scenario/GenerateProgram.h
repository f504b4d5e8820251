//===- GenerateProgram.h - Generation programs ------------------*- C++ -*-===//
//
// The compiler of generation programs (docs/generation.md), shared by its
// two users: `loomc MODEL --generate -o OUT` and the scenario compiler's
// `generate:` requests (docs/scenarios.md). It recognises a decoder in
// Hugging Face Optimum's layout (input_ids, attention_mask, position_ids,
// past_key_values.N.key/value -> logits, present.N.key/value; other names
// through GenerateNames), compiles a
// prefill plan over the prefill chunk and a decode plan over one token per
// context capacity with the scenario compiler's per-model path
// (compileModel), each present bound to a state buffer the context's two
// plans share (the KV cache, plan-bind-state), merges the plans' weights
// into one weights.bin and writes generate.json. The caller owns the output folder (OutputDir.h).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCENARIO_GENERATEPROGRAM_H
#define LOOM_SCENARIO_GENERATEPROGRAM_H

#include "loom/Scenario/Compile.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::scenario {

/// The decoder's inputs and outputs a generation program feeds and reads:
/// the exporters' names by default (docs/generation.md), or the user's.
struct GenerateNames {
  std::string inputIds = "input_ids", attentionMask = "attention_mask",
              positionIds = "position_ids", logits = "logits";
  /// (past input, present output) pairs; empty: every input
  /// past_key_values.N.key|value with its output present.N.key|value.
  std::vector<std::pair<std::string, std::string>> kv;
};

struct GenerateProgramOptions {
  GenerateNames names;
  /// Positions of the KV cache (C) and tokens per prefill run (N), >= 1.
  int64_t maxContext = 2048, prefillChunk = 128;
  /// Capacities to compile besides C (each in [1, C]); empty: N, 2N, 4N, ...
  /// below C (contextCapacities, Scenario.h).
  std::vector<int64_t> contextSizes;
  /// `--const-input` values, NAME=VALUE|FILE.pb.
  std::vector<std::string> constInputs;
  /// The graph and plan pipelines and the producer of the plans and of
  /// generate.json.
  ScenarioCompileOptions compile;
  /// Where to say `loomc: compiled prefill-c (...)` per plan and how much
  /// the shared weights saved; nullptr: silent.
  llvm::raw_ostream *progress = nullptr;
};

/// One context of a compiled program: its capacity and its two plan folders
/// (relative to the program's folder).
struct GenerateContext {
  int64_t capacity = 0;
  std::string prefill, decode;
};

/// What compileGenerateProgram wrote.
struct GenerateProgram {
  int64_t maxContext = 0, prefillChunk = 0;
  /// Smallest capacity first; the last one is maxContext.
  std::vector<GenerateContext> contexts;
  /// Cache tensors (past/present pairs).
  size_t kvTensors = 0;
  /// Bytes of the shared weights.bin, and of the plans' own before merging.
  uint64_t sharedBytes = 0, planBytes = 0;
};

/// Compiles the decoder `model` (a path) into the generation program in the
/// existing folder `dir`: per context `prefill-c/` and `decode-c/`
/// (plan.json naming ../weights.bin), `weights.bin` and `generate.json`.
/// On failure returns nullopt with `error` set to the message (without the
/// `loomc: error: ` prefix), or empty when the compiler's diagnostics were
/// already printed to stderr.
std::optional<GenerateProgram>
compileGenerateProgram(const std::string &model,
                       const GenerateProgramOptions &options,
                       llvm::StringRef dir, std::string &error);

} // namespace loom::scenario

#endif // LOOM_SCENARIO_GENERATEPROGRAM_H
