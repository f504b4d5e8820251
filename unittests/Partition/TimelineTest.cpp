//===- TimelineTest.cpp - Free-interval treap against a brute-force model -===//
#include "Timeline.h"

#include "RandomProblems.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

using loom::partition::detail::Timeline;
using loom::partition::testing::Rng;

namespace {

/// The free time as the complement of the merged busy intervals (positive
/// lengths only): the earliest fit is in the first free interval that holds
/// it. A point (length 0) fits anywhere in a free interval's closure.
struct BruteTimeline {
  std::vector<std::pair<double, double>> busy;
  double earliestFit(double t, double len) const {
    std::vector<std::pair<double, double>> merged = busy;
    std::sort(merged.begin(), merged.end());
    double a = 0; // start of the current free interval
    for (size_t i = 0; i <= merged.size(); ++i) {
      double b = i < merged.size() ? merged[i].first
                                   : std::numeric_limits<double>::infinity();
      if (b > a) {
        double x = std::max(t, a);
        if (x + len <= b)
          return x;
      }
      if (i < merged.size())
        a = std::max(a, merged[i].second);
    }
    return std::numeric_limits<double>::infinity();
  }
};

TEST(PartitionTimeline, FillsGapsInOrder) {
  Timeline t;
  EXPECT_EQ(t.earliestFit(0, 5), 0);
  t.occupy(0, 5);
  t.occupy(10, 5);                     // busy [0,5) [10,15)
  EXPECT_EQ(t.earliestFit(0, 5), 5);   // the gap [5,10) holds 5
  EXPECT_EQ(t.earliestFit(0, 6), 15);  // but not 6
  EXPECT_EQ(t.earliestFit(6, 4), 6);   // inside the gap
  EXPECT_EQ(t.earliestFit(7, 4), 15);  // too late for the gap
  EXPECT_EQ(t.earliestFit(12, 0), 15); // a point inside busy time moves out
  EXPECT_EQ(t.earliestFit(10, 0), 10); // a point may touch a busy start
  t.occupy(5, 5);                      // fills the gap exactly
  EXPECT_EQ(t.earliestFit(0, 1), 15);
}

TEST(PartitionTimeline, MatchesBruteForce) {
  Rng rng(99);
  for (int round = 0; round < 50; ++round) {
    Timeline t;
    BruteTimeline brute;
    for (int op = 0; op < 300; ++op) {
      // Integer times: no rounding, so results must match exactly.
      double at = double(rng.range(0, 400));
      double len = double(rng.chance(0.1) ? 0 : rng.range(1, 12));
      double x = t.earliestFit(at, len);
      ASSERT_EQ(x, brute.earliestFit(at, len))
          << "round " << round << " op " << op;
      // Points are only queried: see ZeroLengthOccupancy for them.
      if (len > 0 && rng.chance(0.7)) {
        t.occupy(x, len);
        brute.busy.push_back({x, x + len});
      }
    }
  }
}

/// A placed point splits the free time: later intervals may touch it but
/// not span it (verify() rejects a task strictly containing another's
/// instant). A point also never sits between two abutting busy intervals,
/// where no free time is left (conservative, still valid).
TEST(PartitionTimeline, ZeroLengthOccupancy) {
  Timeline t;
  t.occupy(5, 0);
  EXPECT_EQ(t.earliestFit(0, 5), 0); // [0,5) touches the point
  EXPECT_EQ(t.earliestFit(1, 5), 5); // [1,6) would span it
  EXPECT_EQ(t.earliestFit(5, 0), 5); // another point at the same instant
  t.occupy(0, 5);
  t.occupy(5, 5); // busy [0,5) [5,10), point at 5
  EXPECT_EQ(t.earliestFit(3, 0), 10);
}

} // namespace
