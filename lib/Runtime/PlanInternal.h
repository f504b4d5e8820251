//===- PlanInternal.h - Shared helpers of the plan loader -------*- C++ -*-===//
//
// Private to lib/Runtime: the error helper and the cross-reference validation
// that Plan.cpp (JSON parsing) hands its result to.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_PLANINTERNAL_H
#define LOOM_RUNTIME_PLANINTERNAL_H

#include "loom/Runtime/Plan.h"

#include <cstdint>
#include <string>

namespace loom::rt::detail {

/// Largest size, offset or dimension a plan may contain (256 TiB): anything
/// larger is rejected before it can overflow 64-bit arithmetic.
constexpr uint64_t kMaxPlanBytes = uint64_t(1) << 48;
/// Largest number of queues per device (each queue gets a thread).
constexpr uint64_t kMaxQueues = 1024;
/// Largest arena or weights alignment (arenas and weights are page-aligned).
constexpr uint64_t kMaxAlignment = 4096;

/// Throws PlanError("FILE: PATH: MESSAGE"); an empty path is left out.
[[noreturn]] void planFail(const std::string &file, const std::string &path,
                           const std::string &message);

/// `base[index]`, the JSON path of an array element.
std::string elementPath(const std::string &base, size_t index);

/// Resolves names and checks every cross-reference rule of the format
/// (devices <-> arenas, buffer placement, ids, deps, writers, events). Fills
/// the index fields of `plan`. Throws PlanError naming plan.planPath.
void validatePlan(Plan &plan);

} // namespace loom::rt::detail

#endif // LOOM_RUNTIME_PLANINTERNAL_H
