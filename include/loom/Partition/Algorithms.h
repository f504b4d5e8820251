//===- Algorithms.h - Device assignment and static scheduling ---*- C++ -*-===//
//
// Algorithms over a partition::Problem. Each is a plain function that returns
// a valid schedule (verify() accepts it) or the reason there is none. All are
// deterministic: the same problem gives the same schedule, bit for bit.
//
// One list scheduler evaluates every assignment (scheduleFixed): tasks are
// taken in HEFT's priority order (decreasing upward rank, see below), and
// each is placed on the queue of its device where it can start earliest,
// using idle gaps between already placed tasks (insertion); each incoming
// cross-device edge gets a transfer placed as early as possible on its link
// (also into gaps) after its producer ends. HEFT makes its device choices
// with that same placement, so heft(p) == scheduleFixed(p, its assignment),
// and the local search and the exact search compare assignments under the
// same evaluation. That is why the priority is HEFT's assignment-independent
// rank rather than one recomputed from each assignment's own costs: with it,
// autoSchedule <= heft and exactSchedule <= autoSchedule hold by
// construction. Within a queue or link, "as early as possible" means the
// earliest idle gap long enough, not merely the time the resource frees.
//
// Simplifications: every cross-device edge carries its own transfer, even
// when two edges move the same tensor to the same device (the problem
// builder can merge such edges); memory is the per-device sum of task
// outputs (Problem.h).
//
// Upward rank (Topcuoglu, Hariri, Wu 2002): rank(v) = w(v) + max over
// successors s of (c(v, s) + rank(s)), where w(v) is the mean cost of v over
// the devices it is allowed on and c(v, s) the mean transfer cost of the edge
// over all pairs (device of v, device of s) of allowed devices, equal pairs
// (cost 0) included. Ties are broken by task index, so the order is
// topological.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PARTITION_ALGORITHMS_H
#define LOOM_PARTITION_ALGORITHMS_H

#include "loom/Partition/Problem.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::partition {

/// A schedule, or why there is none (malformed problem, infeasible
/// assignment, memory limits that leave no device, problem too large).
struct ScheduleResult {
  std::optional<Schedule> schedule;
  std::string error; ///< set when `schedule` is empty

  explicit operator bool() const { return schedule.has_value(); }
  const Schedule &operator*() const { return *schedule; }
  const Schedule *operator->() const { return &*schedule; }
};

/// The tasks in HEFT's priority order (decreasing upward rank, ties by
/// index), a topological order; empty when the problem fails check().
/// O(tasks · devices + edges · devices² + tasks log tasks).
std::vector<int> priorityOrder(const Problem &problem);

/// List scheduling of a given device assignment (one device per task) as
/// described above. Fails when the assignment has the wrong size, puts a
/// task where it is not allowed, or breaks a memory limit.
/// Cost: O(tasks · devices + edges · devices² + tasks log tasks) for the
/// tables and priorities (the transfer function is called edges · devices²
/// times), then O((tasks + edges) log(tasks + edges)) expected for the
/// placement: idle gaps are found in a balanced tree per queue and link (a
/// task with k incoming transfers on one link adds O(k²)).
ScheduleResult scheduleFixed(const Problem &problem,
                             const std::vector<int> &assignment);

/// Every task on `device`; fails when some task is not allowed there or the
/// device's memory limit is exceeded.
ScheduleResult singleDevice(const Problem &problem, int device);

/// Each task (in index order) on the allowed device where it is cheapest
/// (lowest index among equals) that still has memory for it, then
/// scheduleFixed.
ScheduleResult greedy(const Problem &problem);

/// Insertion-based HEFT: tasks in priority order, each on the device (and
/// queue) giving its earliest finish time, transfers included; lowest device
/// index among equal finish times. A device whose memory limit the task's
/// output would break (keeping room for tasks that can only run there) is
/// skipped. Placement O((tasks + edges) · devices · log(tasks + edges))
/// expected, after the same tables as scheduleFixed.
ScheduleResult heft(const Problem &problem);

/// Bounds of the local search of autoSchedule. Both are counts, never wall
/// time, so results do not depend on the machine.
struct AutoOptions {
  /// Assignments evaluated with scheduleFixed during the local search.
  int maxEvaluations = 3000;
  /// Work units: each evaluation (and each critical-path search) costs
  /// tasks + edges, each candidate examined costs 1. Caps the search on large
  /// problems (20k tasks and 40k edges: ~60 evaluations by default).
  uint64_t maxWork = 4'000'000;
  /// Seed of the perturbations between descents.
  uint64_t seed = 1;
};

/// What autoSchedule did (for reports and tests).
struct AutoStats {
  int evaluations = 0;  ///< scheduleFixed calls in the local search
  int improvements = 0; ///< accepted moves and swaps
  int restarts = 0;     ///< perturbations followed by a descent
  /// HEFT's makespan (+inf when memory limits defeated it) and the best
  /// found by the search, before the comparison with the fallbacks.
  double heftMakespan = 0, searchMakespan = 0;
  std::string chosen; ///< "local-search", "single-device <name>" or "greedy"
};

/// HEFT, then an iterated local search over assignments: first-improvement
/// descents (move one task to another device, or swap the devices of two
/// tasks; accepted only when the makespan drops), trying the tasks of the
/// current critical path first, restarted from seeded random perturbations of
/// the best assignment while the budget lasts; then the best of that, greedy
/// and every feasible single-device schedule. Hence autoSchedule <= heft and
/// <= every feasible singleDevice, and it is always scheduleFixed of some
/// assignment. If HEFT finds no memory-feasible assignment, the search starts
/// from the best of greedy and the single-device schedules.
/// Cost: the budget's evaluations, each O((tasks + edges) log(tasks + edges)).
ScheduleResult autoSchedule(const Problem &problem,
                            const AutoOptions &options = {},
                            AutoStats *stats = nullptr);

/// The minimum makespan over all allowed, memory-feasible device assignments,
/// each evaluated with scheduleFixed: optimal over assignments under the
/// list-scheduling evaluation (the quantity the tests compare with
/// autoSchedule), not over all possible schedules. Branch and bound over
/// assignments in task order, seeded with autoSchedule's result, pruning a
/// partial assignment when a lower bound (contention-free earliest finish
/// times with assigned devices fixed and free choice elsewhere; per-device
/// and total work over queues) reaches the best makespan. Exponential in the
/// worst case: returns no schedule when the problem has more than
/// `maxTasks` tasks.
ScheduleResult exactSchedule(const Problem &problem, int maxTasks = 20);

} // namespace loom::partition

#endif // LOOM_PARTITION_ALGORITHMS_H
