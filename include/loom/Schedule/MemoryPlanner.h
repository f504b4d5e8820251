//===- MemoryPlanner.h - Offsets of buffers within an arena -----*- C++ -*-===//
//
// Given buffers with sizes and lifetimes over a schedule (step indices),
// assigns each an offset in one arena so that buffers alive at the same time
// never overlap, and reports the arena's peak. Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCHEDULE_MEMORYPLANNER_H
#define LOOM_SCHEDULE_MEMORYPLANNER_H

#include <cstdint>
#include <string>
#include <vector>

namespace loom::sched {

/// One buffer: `size` bytes, alive from step `first` to step `last`
/// (inclusive): written at `first`, last read at `last`.
struct BufferLifetime {
  uint64_t size = 0;
  int64_t first = 0, last = 0;
};

struct MemoryPlan {
  std::vector<uint64_t> offsets; ///< one per buffer, multiples of alignment
  uint64_t peakBytes = 0;        ///< max over buffers of offset + size
};

/// Greedy best-fit: buffers are placed largest first (ties: earlier first,
/// then index), each at the lowest-waste gap among the placed buffers whose
/// lifetimes overlap it, else at the top. Deterministic. O(n · k) where k is
/// the number of simultaneously live buffers.
MemoryPlan planMemory(const std::vector<BufferLifetime> &buffers,
                      uint64_t alignment);

/// The largest total size of buffers alive at one step (each rounded up to
/// `alignment`): a lower bound on any plan's peak.
uint64_t liveSetLowerBound(const std::vector<BufferLifetime> &buffers,
                           uint64_t alignment);

/// Checks that `plan` is valid for `buffers` (aligned, no overlap of two
/// buffers alive at one step, peak consistent). Returns an empty string when
/// valid, else a description of the first violation.
std::string verifyMemoryPlan(const std::vector<BufferLifetime> &buffers,
                             uint64_t alignment, const MemoryPlan &plan);

} // namespace loom::sched

#endif // LOOM_SCHEDULE_MEMORYPLANNER_H
