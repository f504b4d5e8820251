//===- MemoryPlanner.cpp - Best-fit offsets over buffer lifetimes ---------===//
//
// Walks the schedule step by step. At each step it first frees the buffers
// whose last reader ran at an earlier step (a buffer read at step t and one
// written at step t must not share memory), then places the buffers written
// at this step, largest first, in the smallest free gap that holds them
// (lowest offset among equals), or on top of the arena. Free gaps are kept
// merged, indexed both by offset and by size, so each step costs O(log n).
//
//===----------------------------------------------------------------------===//
#include "loom/Schedule/MemoryPlanner.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <string>

using namespace loom::sched;

static uint64_t roundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

namespace {
/// Free gaps below the arena's top, merged with their neighbours.
class FreeList {
public:
  /// The offset of the best-fitting gap for `size`, taking it; or nullopt.
  bool take(uint64_t size, uint64_t &offset) {
    auto it = bySize.lower_bound({size, 0});
    if (it == bySize.end())
      return false;
    auto [gapSize, gapOffset] = *it;
    erase(gapOffset);
    offset = gapOffset;
    if (gapSize > size)
      insert(gapOffset + size, gapSize - size);
    return true;
  }
  /// Returns [offset, offset + size) to the free list, merging neighbours.
  void give(uint64_t offset, uint64_t size) {
    auto next = byOffset.lower_bound(offset);
    if (next != byOffset.end() && next->first == offset + size) {
      size += next->second;
      erase(next->first);
    }
    auto prev = byOffset.lower_bound(offset);
    if (prev != byOffset.begin()) {
      --prev;
      if (prev->first + prev->second == offset) {
        offset = prev->first;
        size += prev->second;
        erase(prev->first);
      }
    }
    insert(offset, size);
  }
  /// Drops a gap that ends at `top`, returning its offset (else `top`).
  uint64_t trimTop(uint64_t top) {
    if (byOffset.empty())
      return top;
    auto last = std::prev(byOffset.end());
    if (last->first + last->second != top)
      return top;
    uint64_t offset = last->first;
    erase(offset);
    return offset;
  }

private:
  void insert(uint64_t offset, uint64_t size) {
    byOffset[offset] = size;
    bySize.insert({size, offset});
  }
  void erase(uint64_t offset) {
    auto it = byOffset.find(offset);
    bySize.erase({it->second, offset});
    byOffset.erase(it);
  }
  std::map<uint64_t, uint64_t> byOffset;
  std::set<std::pair<uint64_t, uint64_t>> bySize;
};
} // namespace

MemoryPlan loom::sched::planMemory(const std::vector<BufferLifetime> &buffers,
                                   uint64_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  if (alignment == 0)
    alignment = 1;
  // Allocation order: by first step, then largest first, then index.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].first != buffers[b].first)
      return buffers[a].first < buffers[b].first;
    if (buffers[a].size != buffers[b].size)
      return buffers[a].size > buffers[b].size;
    return a < b;
  });
  // Release order: by last step.
  std::vector<size_t> byLast(order);
  std::sort(byLast.begin(), byLast.end(), [&](size_t a, size_t b) {
    if (buffers[a].last != buffers[b].last)
      return buffers[a].last < buffers[b].last;
    return a < b;
  });

  FreeList free;
  uint64_t top = 0;
  size_t released = 0;
  for (size_t idx : order) {
    const BufferLifetime &buf = buffers[idx];
    while (released < byLast.size() && buffers[byLast[released]].last < buf.first) {
      size_t r = byLast[released++];
      uint64_t size = roundUp(buffers[r].size, alignment);
      if (size)
        free.give(plan.offsets[r], size);
    }
    uint64_t size = roundUp(buf.size, alignment);
    if (size == 0)
      continue; // empty tensors take no space (offset 0)
    uint64_t offset;
    if (!free.take(size, offset)) {
      // Grow the arena, absorbing a free gap that ends at the top.
      offset = free.trimTop(top);
      top = offset + size;
    }
    plan.offsets[idx] = offset;
    plan.peakBytes = std::max(plan.peakBytes, offset + buf.size);
  }
  return plan;
}

uint64_t
loom::sched::liveSetLowerBound(const std::vector<BufferLifetime> &buffers,
                               uint64_t alignment) {
  if (alignment == 0)
    alignment = 1;
  // +size at `first`, -size after `last`; frees sort before allocations at
  // the same step (their buffers ended at an earlier step).
  std::vector<std::pair<int64_t, int64_t>> events; // (step*2+kind, delta)
  for (const BufferLifetime &b : buffers) {
    int64_t size = int64_t(roundUp(b.size, alignment));
    events.push_back({b.first * 2 + 1, size});
    events.push_back({(b.last + 1) * 2, -size});
  }
  std::sort(events.begin(), events.end());
  int64_t live = 0, best = 0;
  for (auto [when, delta] : events) {
    live += delta;
    best = std::max(best, live);
  }
  return uint64_t(best);
}

std::string
loom::sched::verifyMemoryPlan(const std::vector<BufferLifetime> &buffers,
                              uint64_t alignment, const MemoryPlan &plan) {
  if (plan.offsets.size() != buffers.size())
    return "plan has " + std::to_string(plan.offsets.size()) +
           " offsets for " + std::to_string(buffers.size()) + " buffers";
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (alignment && plan.offsets[i] % alignment)
      return "buffer " + std::to_string(i) + " is misaligned";
    if (plan.offsets[i] + buffers[i].size > plan.peakBytes)
      return "buffer " + std::to_string(i) + " ends above the peak";
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const BufferLifetime &a = buffers[i], &b = buffers[j];
      if (!a.size || !b.size || a.last < b.first || b.last < a.first)
        continue;
      uint64_t oa = plan.offsets[i], ob = plan.offsets[j];
      if (oa < ob + b.size && ob < oa + a.size)
        return "buffers " + std::to_string(i) + " and " + std::to_string(j) +
               " are alive together and overlap";
    }
  }
  return "";
}
