//===- ScenarioFuzzer.cpp - libFuzzer harness: scenario YAML -> spec ------===//
//
// Parses and checks each input as a scenario (parseScenario, what
// loomc --scenario runs first), without looking for its model files. A bad
// file must end as an llvm::Error naming file, line, column and field, never
// as a crash.
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Scenario.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool verbose = std::getenv("LOOM_FUZZ_VERBOSE") != nullptr;
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto spec = loom::scenario::parseScenario(text, "/nonexistent-loom-fuzz/scenario.yaml", "",
                                            /*checkFiles=*/false);
  if (!spec) {
    std::string message = llvm::toString(spec.takeError());
    if (verbose)
      llvm::errs() << message << "\n";
  } else if (verbose) {
    llvm::errs() << "loom-fuzz-scenario: parsed\n";
  }
  return 0;
}
