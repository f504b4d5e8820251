//===- Scenario.h - Real-time scenario files ---------------------*- C++
//-*-===//
//
// A scenario names several models that share one SoC, each with its arrival
// pattern (periodic, or an LLM request: a prefill followed by decode steps),
// its deadline and its priority (schema: docs/scenarios.md). This header is
// the parsed form of the YAML file and its parser; the scheduler
// (Scheduler.h) and the compile driver (Compile.h) work from it. Plain C++
// on LLVM Support (YAML), no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCENARIO_SCENARIO_H
#define LOOM_SCENARIO_SCENARIO_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace loom::scenario {

/// The scenario format version this parser reads and scenario.json records.
constexpr int kScenarioFormatVersion = 1;

/// Default and largest horizon of a schedule (ms): the hyperperiod (LCM of
/// the periods) is cut to `max_horizon_ms`, which defaults to this.
constexpr double kDefaultMaxHorizonMs = 1000;
/// Largest number of job instances in one schedule (an error beyond).
constexpr int kMaxJobs = 20000;

/// One model file to compile.
struct ModelFile {
  /// The path as written in the YAML (relative to models_dir).
  std::string file;
  /// The path resolved against models_dir (or the YAML's folder).
  std::string path;
  /// `--input-shape` values, `NAME=D0xD1x...`.
  std::vector<std::string> inputShapes;
  /// `--const-input` values, `NAME=VALUE|FILE.pb` (loomc --generate).
  std::vector<std::string> constInputs;
  /// Passed through to the compiler as --quantize=MODE when not empty.
  std::string quantize;
  /// Where `quantize` is written (`FILE:LINE:COL: models[0] (a).quantize`),
  /// for the compile driver's errors about the mode.
  std::string quantizeWhere;
};

/// One entry of `models:`.
struct Workload {
  enum class Kind { Periodic, Request };
  Kind kind = Kind::Periodic;
  std::string name;
  /// Larger is more important (fixed-priority policy; ties elsewhere).
  int priority = 0;

  // Periodic: one job per period.
  ModelFile model;
  double periodMs = 0;
  double deadlineMs = 0; ///< relative to the release; defaults to the period
  double offsetMs = 0;   ///< release of the first instance

  // Request: a prefill job, then `decodeTokens` decode jobs in a chain (step
  // k + 1 is released when step k ends).
  ModelFile prefill, decode;
  /// A `generate:` request instead: one decoder compiled into a generation
  /// program (docs/generation.md); the prompt runs as ceil(prefillTokens /
  /// prefillChunk) prefill chunks in a chain, each on the prefill plan of
  /// the smallest context that holds its tokens, then the decode steps on
  /// the decode plans likewise.
  bool generate = false;
  ModelFile program; ///< its file and const_inputs
  int64_t maxContext = 0, prefillChunk = 0;
  /// The capacities compiled (contextCapacities of the YAML's fields).
  std::vector<int64_t> capacities;
  int prefillTokens = 0; ///< tokens of the prompt (prefill/decode files:
                         ///< informational, the prefill graph's shapes fix
                         ///< it; generate: the chunks it runs as)
  int decodeTokens = 0;
  double atMs = 0;       ///< arrival of the request
  double ttftMs = 0;     ///< deadline of the prefill, relative to the arrival
  double perTokenMs = 0; ///< deadline of each decode step, relative to its
                         ///< release

  bool isRequest() const { return kind == Kind::Request; }
  bool isGenerate() const { return isRequest() && generate; }
  /// generate: the prefill chunks of the prompt.
  int prefillChunks() const {
    int64_t n = std::max<int64_t>(1, prefillChunk);
    return int((prefillTokens + n - 1) / n);
  }
};

/// The context capacities of a generation program with context C and
/// prefill chunk N: `sizes` (each in [1, C]), or N, 2N, 4N, ... below C when
/// empty; always ending with C, sorted, each once.
std::vector<int64_t> contextCapacities(int64_t C, int64_t N,
                                       llvm::ArrayRef<int64_t> sizes);

/// The index into `capacities` (increasing) of the smallest that holds
/// `need` positions: the context a generation run of need = position +
/// tokens uses (loom::rt::Generator). `capacities.size()` when none does.
size_t contextFor(llvm::ArrayRef<int64_t> capacities, int64_t need);

struct ScenarioSpec {
  std::string name;
  /// The YAML file as given.
  std::string file;
  /// The folder model files are relative to (resolved; may be overridden).
  std::string modelsDir;
  double maxHorizonMs = kDefaultMaxHorizonMs;
  std::vector<Workload> workloads;
};

/// Parses a scenario. `fileName` names the file in errors and is the base of
/// relative paths; `modelsDirOverride`, when set, replaces `models_dir`.
/// Errors read `FILE:LINE:COL: models[1] (NAME).FIELD: message`. With
/// `checkFiles`, a model file that does not exist is an error too.
llvm::Expected<ScenarioSpec>
parseScenario(llvm::StringRef yamlText, llvm::StringRef fileName,
              llvm::StringRef modelsDirOverride = "", bool checkFiles = true);

/// Reads and parses `path`.
llvm::Expected<ScenarioSpec>
loadScenario(llvm::StringRef path, llvm::StringRef modelsDirOverride = "");

} // namespace loom::scenario

#endif // LOOM_SCENARIO_SCENARIO_H
