//===- PlanFuzzer.cpp - libFuzzer harness: plan.json + weights -> session --===//
//
// An input is plan.json's text, then optionally a NUL byte and the bytes of
// weights.bin (JSON text holds no NUL). The harness parses and validates the
// plan (parsePlan) and creates a session from it (Session::loadEmbedded: the
// weights checked against the plan, the arenas mapped, every task bound to
// its kernel), as loom-run and the generated stubs do, without running it.
// A bad plan must end as a PlanError, never as a crash.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Plan.h"
#include "loom/Runtime/Session.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool verbose = std::getenv("LOOM_FUZZ_VERBOSE") != nullptr;
  std::string_view all(reinterpret_cast<const char *>(data), size);
  const size_t nul = all.find('\0');
  std::string_view json = all.substr(0, nul);
  std::string_view weights = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  try {
    loom::rt::Plan plan = loom::rt::parsePlan(json, "fuzz/plan.json");
    (void)plan;
    auto session = loom::rt::Session::loadEmbedded(json, weights.data(), weights.size(),
                                                   "fuzz");
    if (verbose)
      std::fprintf(stderr, "loom-fuzz-plan: loaded\n");
  } catch (const loom::rt::PlanError &e) {
    if (verbose)
      std::fprintf(stderr, "%s\n", e.what());
  }
  return 0;
}
