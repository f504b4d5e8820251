//===- Timeline.h - Idle intervals of one resource --------------*- C++ -*-===//
//
// The idle time of one resource (a device queue or a link), for insertion
// scheduling: a set of disjoint free intervals [a, b), initially [0, +inf),
// kept in a treap ordered by `a` whose nodes also hold the largest interval
// length of their subtree. Finding the earliest gap that holds an interval of
// a given length after a given time, and occupying it, take O(log n)
// expected time (n: intervals placed so far). The treap's priorities come
// from a fixed hash of a counter, so its shape is deterministic; schedules do
// not depend on the shape anyway.
//
// Internal to LoomPartition.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_PARTITION_TIMELINE_H
#define LOOM_LIB_PARTITION_TIMELINE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace loom::partition::detail {

class Timeline {
public:
  Timeline() { reset(); }

  /// Back to a single free interval [0, +inf) (keeps the allocation).
  void reset();

  /// The earliest x >= t such that [x, x + length) is free (length >= 0).
  /// A zero-length interval is a point: it must lie in the closure of a free
  /// interval, so it may touch busy intervals but not lie strictly inside one
  /// (nor between two abutting ones, where no free time is left: a
  /// conservative choice). Once occupied, a point splits its free interval,
  /// so no later interval spans it (verify() would reject that).
  double earliestFit(double t, double length) const;

  /// Marks [x, x + length) busy. It must be free, as earliestFit returns.
  void occupy(double x, double length);

private:
  struct Node {
    double a, b;   ///< the free interval [a, b); b may be +inf
    double maxLen; ///< largest b - a in the subtree
    uint32_t priority;
    int left, right;
  };
  std::vector<Node> nodes;
  std::vector<int> spare; ///< indices of erased nodes, for reuse
  std::vector<int> path;  ///< scratch of occupy()
  int root = -1;
  uint32_t counter = 0;

  double length(int n) const { return nodes[size_t(n)].b - nodes[size_t(n)].a; }
  double maxLen(int n) const { return n < 0 ? -1.0 : nodes[size_t(n)].maxLen; }
  int makeNode(double a, double b);
  void pull(int n);
  /// Splits the subtree `n` into keys < key (or <= key when `orEqual`) and
  /// the rest. Recursion depth is the treap's depth, O(log n) expected.
  void split(int n, double key, bool orEqual, int &l, int &r);
  int merge(int l, int r);
  /// The free interval with the largest a <= t, or -1.
  int containing(double t) const;
  /// The first free interval (by a) with a > t and b - a >= length, or -1.
  int firstFitAfter(double t, double length) const;
};

} // namespace loom::partition::detail

#endif // LOOM_LIB_PARTITION_TIMELINE_H
