//===- AutoSchedule.cpp - HEFT plus local search over assignments ---------===//
//
// Starts from HEFT's assignment and improves it by iterated local search
// over assignments:
//  - descent: first improvement over the candidates "move one task to another
//    allowed device" and "swap the devices of two tasks", each evaluated with
//    the shared list scheduler, which stops as soon as a task ends at or after
//    the current makespan; a candidate is kept only when the makespan drops,
//    and the neighbourhood is then rebuilt around the new critical path.
//    Candidates come critical-path tasks first (from the last task back),
//    then the other tasks in priority order, so a bounded budget goes where a
//    change can shorten the schedule;
//  - at a local optimum, a perturbation of the best assignment (2 to
//    min(8, n/4) random tasks moved, from a seeded splitmix64 stream) and a
//    new descent; the better local optimum is kept.
// Everything stops when the budget (AutoOptions) is spent. Deterministic:
// fixed enumeration order, seeded perturbations, budgets counted in
// evaluations and work units, never in time.
//
//===----------------------------------------------------------------------===//
#include "loom/Partition/Algorithms.h"

#include "ListScheduler.h"

#include <algorithm>
#include <cmath>
#include <tuple>

using namespace loom::partition;
using namespace loom::partition::detail;

std::vector<int> loom::partition::detail::criticalTasks(const Prepared &prep,
                                                        const Schedule &s) {
  const int n = prep.n;
  if (n == 0)
    return {};
  const std::vector<Edge> &edges = prep.problem.edges;
  std::vector<int> transferOf(size_t(prep.m), -1);
  for (size_t i = 0; i < s.transfers.size(); ++i)
    transferOf[size_t(s.transfers[i].edge)] = int(i);
  // The task before each task on its queue.
  std::vector<int> byQueue(static_cast<size_t>(n));
  for (int v = 0; v < n; ++v)
    byQueue[size_t(v)] = v;
  auto queueOf = [&](int v) {
    return prep.queueBase[size_t(s.tasks[size_t(v)].device)] +
           s.tasks[size_t(v)].queue;
  };
  std::sort(byQueue.begin(), byQueue.end(), [&](int x, int y) {
    return std::make_tuple(queueOf(x), s.tasks[size_t(x)].start, x) <
           std::make_tuple(queueOf(y), s.tasks[size_t(y)].start, y);
  });
  std::vector<int> previous(size_t(n), -1);
  for (int i = 1; i < n; ++i)
    if (queueOf(byQueue[size_t(i)]) == queueOf(byQueue[size_t(i) - 1]))
      previous[size_t(byQueue[size_t(i)])] = byQueue[size_t(i) - 1];

  int v = 0;
  for (int u = 1; u < n; ++u)
    if (s.tasks[size_t(u)].end > s.tasks[size_t(v)].end)
      v = u;
  std::vector<int> path;
  std::vector<char> seen(size_t(n), 0);
  while (v >= 0 && !seen[size_t(v)]) {
    seen[size_t(v)] = 1;
    path.push_back(v);
    int producer = -1;
    double arrival = -kInfinity;
    for (int i = prep.inBegin[size_t(v)]; i < prep.inBegin[size_t(v) + 1];
         ++i) {
      int e = prep.inEdges[size_t(i)], u = edges[size_t(e)].from;
      double t = transferOf[size_t(e)] >= 0
                     ? s.transfers[size_t(transferOf[size_t(e)])].end
                     : s.tasks[size_t(u)].end;
      if (t > arrival) {
        arrival = t;
        producer = u;
      }
    }
    int before = previous[size_t(v)];
    if (before >= 0 && s.tasks[size_t(before)].end > arrival)
      v = before;
    else
      v = producer;
  }
  return path;
}

namespace {
/// splitmix64: the perturbations' only source of randomness (seeded).
class SplitMix {
public:
  explicit SplitMix(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound).
  int below(int bound) { return int(next() % uint64_t(bound)); }

private:
  uint64_t state;
};

/// Iterated local search over assignments, within a budget.
class LocalSearch {
public:
  LocalSearch(const Prepared &prep, ListScheduler &scheduler,
              const AutoOptions &options, AutoStats &stats)
      : prep(prep), scheduler(scheduler), options(options), stats(stats),
        workPerEvaluation(uint64_t(prep.n) + uint64_t(prep.m) + 1),
        rng(options.seed) {}

  /// Improves `assignment` / `schedule` (a schedule of it) in place.
  void run(std::vector<int> &assignment, Schedule &schedule) {
    current = assignment;
    currentSchedule = schedule;
    descend();
    assignment = current;
    schedule = currentSchedule;
    // Perturb the best assignment and descend again, keeping the better.
    while (prep.n > 0 && !exhausted()) {
      current = assignment;
      if (!perturb())
        break;
      ++stats.evaluations;
      work += workPerEvaluation;
      scheduler.run(current);
      currentSchedule = scheduler.result();
      descend();
      ++stats.restarts;
      if (currentSchedule.makespan < lowered(schedule.makespan)) {
        assignment = current;
        schedule = currentSchedule;
      }
    }
  }

private:
  const Prepared &prep;
  ListScheduler &scheduler;
  const AutoOptions &options;
  AutoStats &stats;
  const uint64_t workPerEvaluation;
  uint64_t work = 0;
  SplitMix rng;
  std::vector<int> current, candidate;
  Schedule currentSchedule;
  std::vector<uint64_t> used; ///< output bytes per device under `current`

  /// Below `makespan` beyond rounding noise: the search cannot cycle.
  static double lowered(double makespan) {
    return makespan - 1e-9 * std::max(1.0, makespan);
  }

  bool exhausted() const {
    return stats.evaluations >= options.maxEvaluations ||
           work + workPerEvaluation > options.maxWork;
  }

  bool memoryOk(int d, uint64_t removed, uint64_t added) const {
    return !prep.hasLimit(d) ||
           used[size_t(d)] - removed + added <= prep.limit(d);
  }

  void countMemory() {
    used.assign(size_t(prep.p), 0);
    for (int v = 0; v < prep.n; ++v)
      used[size_t(current[size_t(v)])] += prep.bytes(v);
  }

  /// Moves a few random tasks of `current` (2 to max(2, min(8, n/4))) to
  /// random other allowed devices with room. Draws at most 8 tasks per move
  /// wanted; false when none could move.
  bool perturb() {
    countMemory();
    int wanted = 2 + rng.below(std::max(1, std::min(8, prep.n / 4) - 1));
    int moved = 0;
    for (int draw = 0; draw < 8 * wanted && moved < wanted; ++draw) {
      int v = rng.below(prep.n);
      int choices = 0, choice = -1;
      for (int d = 0; d < prep.p; ++d)
        if (d != current[size_t(v)] && prep.allowed(v, d) &&
            memoryOk(d, 0, prep.bytes(v)) && rng.below(++choices) == 0)
          choice = d; // reservoir sampling: uniform over the choices
      if (choice < 0)
        continue;
      used[size_t(current[size_t(v)])] -= prep.bytes(v);
      used[size_t(choice)] += prep.bytes(v);
      current[size_t(v)] = choice;
      ++moved;
    }
    return moved > 0;
  }

  /// First-improvement descent from `current` to a local optimum (or until
  /// the budget is spent).
  void descend() {
    countMemory();
    while (!exhausted() && improveOnce()) {
    }
  }

  /// Evaluates `candidate`; keeps it when it lowers the makespan.
  bool tryCandidate() {
    ++stats.evaluations;
    work += workPerEvaluation;
    if (!scheduler.run(candidate, lowered(currentSchedule.makespan)))
      return false;
    for (int v = 0; v < prep.n; ++v)
      if (candidate[size_t(v)] != current[size_t(v)]) {
        used[size_t(current[size_t(v)])] -= prep.bytes(v);
        used[size_t(candidate[size_t(v)])] += prep.bytes(v);
      }
    current = candidate;
    currentSchedule = scheduler.result();
    ++stats.improvements;
    return true;
  }

  /// Enumerates the neighbourhood until the first improvement (true) or its
  /// end or the budget (false).
  bool improveOnce() {
    const std::vector<int> &a = current;
    // Critical-path tasks first, then the others in priority order. Finding
    // them costs about one evaluation's worth of work.
    work += workPerEvaluation;
    std::vector<int> tasks = criticalTasks(prep, currentSchedule);
    std::vector<char> listed(size_t(prep.n), 0);
    for (int v : tasks)
      listed[size_t(v)] = 1;
    for (int v : prep.order)
      if (!listed[size_t(v)])
        tasks.push_back(v);
    candidate = a;

    for (int v : tasks) {
      for (int d = 0; d < prep.p; ++d) {
        int from = a[size_t(v)];
        // Examining a candidate costs one unit of work, evaluating it more.
        ++work;
        if (exhausted())
          return false;
        if (d == from || !prep.allowed(v, d) || !memoryOk(d, 0, prep.bytes(v)))
          continue;
        candidate[size_t(v)] = d;
        if (tryCandidate())
          return true;
        candidate[size_t(v)] = from;
      }
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      int u = tasks[i];
      for (size_t j = i + 1; j < tasks.size(); ++j) {
        int w = tasks[j], du = a[size_t(u)], dw = a[size_t(w)];
        ++work;
        if (exhausted())
          return false;
        if (du == dw || !prep.allowed(u, dw) || !prep.allowed(w, du) ||
            !memoryOk(du, prep.bytes(u), prep.bytes(w)) ||
            !memoryOk(dw, prep.bytes(w), prep.bytes(u)))
          continue;
        candidate[size_t(u)] = dw;
        candidate[size_t(w)] = du;
        if (tryCandidate())
          return true;
        candidate[size_t(u)] = du;
        candidate[size_t(w)] = dw;
      }
    }
    return false;
  }
};

struct Candidate {
  std::string name;
  std::vector<int> assignment;
  Schedule schedule;
};
} // namespace

ScheduleResult loom::partition::autoSchedule(const Problem &problem,
                                             const AutoOptions &options,
                                             AutoStats *statsOut) {
  ScheduleResult result;
  if (std::string error = problem.check(); !error.empty()) {
    result.error = error;
    return result;
  }
  Prepared prep(problem);
  if (std::string error = prep.checkForcedMemory(); !error.empty()) {
    result.error = error;
    return result;
  }
  ListScheduler scheduler(prep);
  AutoStats stats;

  // The fallbacks: greedy and every feasible single-device assignment.
  std::vector<Candidate> others;
  std::vector<int> assignment;
  if (greedyAssignment(prep, assignment).empty()) {
    scheduler.run(assignment);
    others.push_back({"greedy", assignment, scheduler.result()});
  }
  for (int d = 0; d < prep.p; ++d) {
    assignment.assign(size_t(prep.n), d);
    if (!prep.checkAssignment(assignment).empty())
      continue;
    scheduler.run(assignment);
    others.push_back({"single-device " + problem.devices[size_t(d)].name,
                      assignment, scheduler.result()});
  }

  // The start: HEFT, else the best fallback.
  Schedule current;
  std::string heftError = runHeft(prep, scheduler);
  if (heftError.empty()) {
    current = scheduler.result();
    assignment = current.assignment();
    stats.heftMakespan = current.makespan;
  } else {
    const Candidate *start = nullptr;
    for (const Candidate &c : others)
      if (!start || c.schedule.makespan < start->schedule.makespan)
        start = &c;
    if (!start) {
      result.error = "no memory-feasible assignment found: " + heftError;
      return result;
    }
    current = start->schedule;
    assignment = start->assignment;
    stats.heftMakespan = kInfinity;
  }

  LocalSearch(prep, scheduler, options, stats).run(assignment, current);
  stats.searchMakespan = current.makespan;
  stats.chosen = "local-search";
  for (const Candidate &c : others)
    if (c.schedule.makespan < current.makespan) {
      current = c.schedule;
      stats.chosen = c.name;
    }
  if (statsOut)
    *statsOut = stats;
  result.schedule = std::move(current);
  return result;
}
