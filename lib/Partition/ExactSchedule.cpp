//===- ExactSchedule.cpp - Branch and bound over device assignments -------===//
//
// Depth-first over tasks in index (topological) order, each tried on its
// allowed devices cheapest first, with an explicit stack of choices (no
// recursion). The incumbent starts as autoSchedule's result. A partial
// assignment of tasks 0..k-1 is pruned when its lower bound reaches the
// incumbent's makespan; the bound is the largest of
//  - contention-free earliest finish times: assigned tasks at their device's
//    cost with the transfers their devices imply, unassigned tasks at the
//    best of their allowed devices (minimising over the producer's devices
//    where the producer is unassigned too);
//  - for each device, the assigned work divided by its queues;
//  - the assigned work plus the cheapest work of the unassigned tasks,
//    divided by all queues.
// Each is a bound for every completion under any valid schedule, so in
// particular under scheduleFixed's. A complete assignment is evaluated with
// the list scheduler, stopped as soon as it cannot beat the incumbent.
//
// Result: the minimum of scheduleFixed's makespan over all allowed,
// memory-feasible assignments (ties keep the earlier-found assignment).
//
//===----------------------------------------------------------------------===//
#include "loom/Partition/Algorithms.h"

#include "ListScheduler.h"

#include <algorithm>
#include <numeric>

using namespace loom::partition;
using namespace loom::partition::detail;

namespace {
class BranchAndBound {
public:
  explicit BranchAndBound(const Prepared &prep)
      : prep(prep), n(prep.n), p(prep.p), assignment(size_t(n), -1),
        finish(size_t(n), 0), finishPrefixMax(size_t(n) + 1, 0),
        load(size_t(p), 0), used(size_t(p), 0),
        freeFinish(size_t(n) * size_t(p), kInfinity),
        cheapestSuffix(size_t(n) + 1, 0), devices(size_t(n)) {
    for (int v = n - 1; v >= 0; --v)
      cheapestSuffix[size_t(v)] =
          cheapestSuffix[size_t(v) + 1] + prep.cheapest[size_t(v)];
    for (int v = 0; v < n; ++v) {
      for (int d = 0; d < p; ++d)
        if (prep.allowed(v, d))
          devices[size_t(v)].push_back(d);
      std::stable_sort(
          devices[size_t(v)].begin(), devices[size_t(v)].end(),
          [&](int x, int y) { return prep.cost(v, x) < prep.cost(v, y); });
    }
    totalQueues = prep.queueBase.back();
  }

  /// Searches every assignment that could beat `bestMakespan`; updates
  /// `best` and `bestMakespan` when one does.
  void search(std::vector<int> &best, double &bestMakespan) {
    if (n == 0) {
      best.clear();
      bestMakespan = 0;
      return;
    }
    ListScheduler scheduler(prep);
    std::vector<size_t> choice(size_t(n), 0);
    int k = 0;
    while (k >= 0) {
      if (choice[size_t(k)] == devices[size_t(k)].size()) {
        // Level exhausted: back to the previous task's next device.
        --k;
        if (k >= 0) {
          unassign(k);
          ++choice[size_t(k)];
        }
        continue;
      }
      int d = devices[size_t(k)][choice[size_t(k)]];
      if (prep.hasLimit(d) && used[size_t(d)] + prep.bytes(k) > prep.limit(d)) {
        ++choice[size_t(k)];
        continue;
      }
      assign(k, d);
      if (bound(k + 1) >= bestMakespan) {
        unassign(k);
        ++choice[size_t(k)];
        continue;
      }
      if (k == n - 1) {
        if (scheduler.run(assignment, bestMakespan)) {
          bestMakespan = scheduler.makespan();
          best = assignment;
        }
        unassign(k);
        ++choice[size_t(k)];
        continue;
      }
      ++k;
      choice[size_t(k)] = 0;
    }
  }

private:
  const Prepared &prep;
  const int n, p;
  int totalQueues = 0;
  std::vector<int> assignment;
  std::vector<double> finish;          ///< contention-free, assigned tasks
  std::vector<double> finishPrefixMax; ///< max of finish[0..k-1]
  std::vector<double> load;            ///< assigned work per device
  std::vector<uint64_t> used;          ///< assigned output bytes per device
  std::vector<double> freeFinish;      ///< n × p, unassigned tasks
  std::vector<double> cheapestSuffix;
  std::vector<std::vector<int>> devices; ///< allowed, cheapest first

  void assign(int k, int d) {
    assignment[size_t(k)] = d;
    load[size_t(d)] += prep.cost(k, d);
    used[size_t(d)] += prep.bytes(k);
    double ready = 0;
    for (int i = prep.inBegin[size_t(k)]; i < prep.inBegin[size_t(k) + 1];
         ++i) {
      int e = prep.inEdges[size_t(i)], u = prep.problem.edges[size_t(e)].from;
      ready = std::max(ready, finish[size_t(u)] +
                                  prep.transfer(e, assignment[size_t(u)], d));
    }
    finish[size_t(k)] = ready + prep.cost(k, d);
    finishPrefixMax[size_t(k) + 1] =
        std::max(finishPrefixMax[size_t(k)], finish[size_t(k)]);
  }

  void unassign(int k) {
    int d = assignment[size_t(k)];
    load[size_t(d)] -= prep.cost(k, d);
    used[size_t(d)] -= prep.bytes(k);
    assignment[size_t(k)] = -1;
  }

  /// A lower bound for every completion of tasks 0..k-1's assignment.
  double bound(int k) {
    double lb = finishPrefixMax[size_t(k)];
    double assignedWork = 0;
    for (int d = 0; d < p; ++d) {
      assignedWork += load[size_t(d)];
      lb = std::max(lb, load[size_t(d)] /
                            double(prep.problem.devices[size_t(d)].queues));
    }
    lb = std::max(lb, (assignedWork + cheapestSuffix[size_t(k)]) /
                          double(totalQueues));
    for (int v = k; v < n; ++v) {
      double bestFinish = kInfinity;
      for (int d : devices[size_t(v)]) {
        double ready = 0;
        for (int i = prep.inBegin[size_t(v)]; i < prep.inBegin[size_t(v) + 1];
             ++i) {
          int e = prep.inEdges[size_t(i)],
              u = prep.problem.edges[size_t(e)].from;
          double arrival;
          if (u < k) {
            arrival =
                finish[size_t(u)] + prep.transfer(e, assignment[size_t(u)], d);
          } else {
            arrival = kInfinity;
            for (int f : devices[size_t(u)])
              arrival = std::min(arrival,
                                 freeFinish[size_t(u) * size_t(p) + size_t(f)] +
                                     prep.transfer(e, f, d));
          }
          ready = std::max(ready, arrival);
        }
        double f = ready + prep.cost(v, d);
        freeFinish[size_t(v) * size_t(p) + size_t(d)] = f;
        bestFinish = std::min(bestFinish, f);
      }
      lb = std::max(lb, bestFinish);
    }
    return lb;
  }
};
} // namespace

ScheduleResult loom::partition::exactSchedule(const Problem &problem,
                                              int maxTasks) {
  ScheduleResult result;
  if (problem.numTasks() > maxTasks) {
    result.error = "problem has " + std::to_string(problem.numTasks()) +
                   " tasks, more than the exact search's limit of " +
                   std::to_string(maxTasks);
    return result;
  }
  if (std::string error = problem.check(); !error.empty()) {
    result.error = error;
    return result;
  }
  Prepared prep(problem);
  if (std::string error = prep.checkForcedMemory(); !error.empty()) {
    result.error = error;
    return result;
  }
  std::vector<int> best;
  double bestMakespan = kInfinity;
  if (ScheduleResult start = autoSchedule(problem)) {
    best = start->assignment();
    bestMakespan = start->makespan;
  }
  BranchAndBound(prep).search(best, bestMakespan);
  if (bestMakespan == kInfinity) {
    result.error = "no memory-feasible assignment exists";
    return result;
  }
  ListScheduler scheduler(prep);
  scheduler.run(best);
  result.schedule = scheduler.result();
  return result;
}
