//===- PropertyTest.cpp - Properties over random DAGs, and scale ----------===//
//
// Seeded random problems (RandomProblems.h): every algorithm's schedule
// verifies; HEFT is exactly the list scheduler's evaluation of its own
// assignment; autoSchedule is never worse than HEFT, greedy or any feasible
// single device; lowerBound <= exact <= auto on small problems, with the
// mean auto/exact gap reported and bounded; makespan/lowerBound geometric
// means reported. Then a 20,000-task layered DAG for run time.
//
//===----------------------------------------------------------------------===//
#include "RandomProblems.h"

#include "loom/Partition/Algorithms.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

using namespace loom::partition;
using namespace loom::partition::testing;

namespace {

/// a <= b up to rounding.
bool atMost(double a, double b) { return a <= b + 1e-9 * std::max(1.0, b); }

/// Running geometric mean of ratios.
struct GeoMean {
  double logSum = 0;
  int count = 0;
  void add(double ratio) {
    logSum += std::log(ratio);
    ++count;
  }
  double value() const { return count ? std::exp(logSum / count) : 1.0; }
};

TEST(PartitionProperties, RandomDagsVerifyAndAutoIsBest) {
  const int kProblems = 300;
  GeoMean heftRatio, greedyRatio, autoRatio, bestSingleRatio;
  int heftImproved = 0;
  for (int i = 0; i < kProblems; ++i) {
    Rng shape(1000 + uint64_t(i));
    int n = shape.range(5, 60), devices = shape.range(2, 3);
    Problem p = randomProblem(7000 + uint64_t(i), n, devices);
    SCOPED_TRACE("problem " + std::to_string(i) + ": " + std::to_string(n) +
                 " tasks, " + std::to_string(devices) + " devices");
    ASSERT_EQ(p.check(), "");
    double lb = lowerBound(p);
    ASSERT_GT(lb, 0);

    ScheduleResult h = heft(p), g = greedy(p), a = autoSchedule(p);
    ASSERT_TRUE(a) << a.error;
    EXPECT_EQ(verify(p, *a), "");
    EXPECT_TRUE(atMost(lb, a->makespan));
    autoRatio.add(a->makespan / lb);
    if (h) {
      EXPECT_EQ(verify(p, *h), "");
      EXPECT_TRUE(atMost(lb, h->makespan));
      EXPECT_LE(a->makespan, h->makespan);
      heftRatio.add(h->makespan / lb);
      heftImproved += a->makespan < h->makespan;
      // HEFT is the list scheduler's evaluation of its own assignment.
      ScheduleResult again = scheduleFixed(p, h->assignment());
      ASSERT_TRUE(again) << again.error;
      EXPECT_EQ(verify(p, *again), "");
      EXPECT_EQ(again->makespan, h->makespan);
    } else {
      // Only memory limits can defeat HEFT on a well-formed problem.
      EXPECT_NE(h.error.find("memory"), std::string::npos) << h.error;
    }
    if (g) {
      EXPECT_EQ(verify(p, *g), "");
      EXPECT_LE(a->makespan, g->makespan);
      greedyRatio.add(g->makespan / lb);
    }
    double bestSingle = INFINITY;
    for (int d = 0; d < p.numDevices(); ++d) {
      ScheduleResult s = singleDevice(p, d);
      if (!s)
        continue;
      EXPECT_EQ(verify(p, *s), "");
      EXPECT_LE(a->makespan, s->makespan);
      bestSingle = std::min(bestSingle, s->makespan);
    }
    if (bestSingle < INFINITY)
      bestSingleRatio.add(bestSingle / lb);
  }
  std::printf("[ stats    ] %d random DAGs, geometric mean of makespan / "
              "lowerBound:\n"
              "[ stats    ]   best single device %.3f (%d)  greedy %.3f (%d)  "
              "heft %.3f (%d)  auto %.3f (%d)\n"
              "[ stats    ]   auto below heft on %d problems\n",
              kProblems, bestSingleRatio.value(), bestSingleRatio.count,
              greedyRatio.value(), greedyRatio.count, heftRatio.value(),
              heftRatio.count, autoRatio.value(), autoRatio.count,
              heftImproved);
}

TEST(PartitionProperties, SmallDagsAutoNearExact) {
  const int kProblems = 150;
  double gapSum = 0, worstGap = 1;
  int optimal = 0;
  GeoMean exactRatio;
  for (int i = 0; i < kProblems; ++i) {
    Rng shape(2000 + uint64_t(i));
    int n = shape.range(5, 12), devices = shape.range(2, 3);
    Problem p = randomProblem(9000 + uint64_t(i), n, devices);
    SCOPED_TRACE("problem " + std::to_string(i) + ": " + std::to_string(n) +
                 " tasks, " + std::to_string(devices) + " devices");
    ASSERT_EQ(p.check(), "");
    ScheduleResult e = exactSchedule(p), a = autoSchedule(p);
    ASSERT_TRUE(e) << e.error;
    ASSERT_TRUE(a) << a.error;
    EXPECT_EQ(verify(p, *e), "");
    double lb = lowerBound(p);
    EXPECT_TRUE(atMost(lb, e->makespan));
    EXPECT_LE(e->makespan, a->makespan);
    if (ScheduleResult h = heft(p)) {
      EXPECT_LE(e->makespan, h->makespan);
    }
    double gap = a->makespan / e->makespan;
    gapSum += gap;
    worstGap = std::max(worstGap, gap);
    optimal += gap == 1.0;
    exactRatio.add(e->makespan / lb);
  }
  double meanGap = gapSum / kProblems;
  std::printf("[ stats    ] %d DAGs of 5-12 tasks: auto/exact mean %.4f, "
              "worst %.4f, optimal on %d; exact/lowerBound geometric mean "
              "%.3f\n",
              kProblems, meanGap, worstGap, optimal, exactRatio.value());
  EXPECT_LE(meanGap, 1.05);
}

/// The branch and bound against enumerating every assignment.
TEST(PartitionProperties, ExactMatchesEnumeration) {
  for (int i = 0; i < 40; ++i) {
    Rng shape(3000 + uint64_t(i));
    int n = shape.range(3, 7), devices = shape.range(2, 3);
    Problem p = randomProblem(11000 + uint64_t(i), n, devices);
    SCOPED_TRACE("problem " + std::to_string(i));
    double best = INFINITY;
    std::vector<int> a(size_t(n), 0);
    for (;;) {
      if (ScheduleResult s = scheduleFixed(p, a))
        best = std::min(best, s->makespan);
      int k = 0;
      while (k < n && ++a[size_t(k)] == devices)
        a[size_t(k++)] = 0;
      if (k == n)
        break;
    }
    ScheduleResult e = exactSchedule(p);
    ASSERT_TRUE(e) << e.error;
    EXPECT_EQ(e->makespan, best);
  }
}

TEST(PartitionProperties, Deterministic) {
  for (int i = 0; i < 20; ++i) {
    Problem p = randomProblem(13000 + uint64_t(i), 40, 3);
    ScheduleResult a = autoSchedule(p), b = autoSchedule(p);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->tasks.size(), b->tasks.size());
    for (size_t v = 0; v < a->tasks.size(); ++v) {
      EXPECT_EQ(a->tasks[v].device, b->tasks[v].device);
      EXPECT_EQ(a->tasks[v].queue, b->tasks[v].queue);
      EXPECT_EQ(a->tasks[v].start, b->tasks[v].start);
    }
    EXPECT_EQ(a->makespan, b->makespan);
  }
}

TEST(PartitionScale, TwentyThousandTaskLayeredDag) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point from) {
    return std::chrono::duration<double>(Clock::now() - from).count();
  };
  Problem p = layeredProblem(42, /*layers=*/200, /*width=*/100);
  ASSERT_EQ(p.numTasks(), 20000);
  ASSERT_EQ(p.check(), "");

  Clock::time_point t0 = Clock::now();
  ScheduleResult h = heft(p);
  double heftSeconds = seconds(t0);
  ASSERT_TRUE(h) << h.error;

  t0 = Clock::now();
  AutoStats stats;
  ScheduleResult a = autoSchedule(p, {}, &stats);
  double autoSeconds = seconds(t0);
  ASSERT_TRUE(a) << a.error;

  t0 = Clock::now();
  std::string heftCheck = verify(p, *h), autoCheck = verify(p, *a);
  double verifySeconds = seconds(t0);
  EXPECT_EQ(heftCheck, "");
  EXPECT_EQ(autoCheck, "");
  EXPECT_LE(a->makespan, h->makespan);
  double lb = lowerBound(p);
  std::printf("[ stats    ] 20000 tasks, %zu edges: heft %.3f s (makespan "
              "%.0f us, %.3f x lowerBound), auto %.3f s (%d evaluations, %d "
              "improvements, makespan %.0f us, %.3f x lowerBound, %s), "
              "verify x2 %.3f s\n",
              p.edges.size(), heftSeconds, h->makespan, h->makespan / lb,
              autoSeconds, stats.evaluations, stats.improvements, a->makespan,
              a->makespan / lb, stats.chosen.c_str(), verifySeconds);
  EXPECT_LT(heftSeconds, 10.0);
  EXPECT_LT(autoSeconds, 10.0);
}

} // namespace
