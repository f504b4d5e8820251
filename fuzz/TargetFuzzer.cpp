//===- TargetFuzzer.cpp - libFuzzer harness: target YAML -> TargetDesc ----===//
//
// Parses and checks each input as a target description (parseTarget, what
// loomc --target=FILE.yaml runs). A bad file must end as an llvm::Error
// naming file, line, column and field, never as a crash.
//
//===----------------------------------------------------------------------===//
#include "loom/Target/Target.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool verbose = std::getenv("LOOM_FUZZ_VERBOSE") != nullptr;
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<loom::target::TargetDesc> target = loom::target::parseTarget(text, "fuzz.yaml");
  if (!target) {
    std::string message = llvm::toString(target.takeError());
    if (verbose)
      llvm::errs() << message << "\n";
  } else if (verbose) {
    llvm::errs() << "loom-fuzz-target: parsed\n";
  }
  return 0;
}
