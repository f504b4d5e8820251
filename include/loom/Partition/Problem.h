//===- Problem.h - Device assignment and scheduling problems ----*- C++ -*-===//
//
// The abstract problem the partitioner solves: tasks (given in a topological
// order) with an estimated cost on every device that can run them, data
// edges with byte sizes, and a transfer-cost function over the target's
// links. A `Schedule` places every task on a device queue at a start time and
// every cross-device edge on the link between the two devices. Plain C++, no
// MLIR: the compiler builds a `Problem` from the plan IR and calls the
// algorithms of Algorithms.h from its passes.
//
// Resource model (what `verify` enforces and the algorithms produce):
//  - a device has `queues` in-order queues; a queue runs one task at a time;
//  - each ordered device pair (from, to), from != to, is one link that
//    carries one transfer at a time;
//  - an edge u -> v between two devices needs its own transfer, which lies on
//    the link between end(u) and start(v) and lasts transferUs(from, to,
//    bytes); an edge within one device needs only end(u) <= start(v);
//  - memory (simplified): a device with a memory limit holds the outputs of
//    the tasks placed on it, so the sum of their `outputBytes` must not exceed
//    the limit. Buffer lifetimes are ignored here; the memory planner
//    (loom/Schedule/MemoryPlanner.h) places the real buffers later.
//
// Times are in µs, sizes in bytes. Every number comes from the problem (task
// costs, edge bytes, the transfer function): the algorithms add none.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PARTITION_PROBLEM_H
#define LOOM_PARTITION_PROBLEM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace loom::partition {

/// One device of the target as the partitioner sees it.
struct Device {
  std::string name;
  int queues = 1; ///< in-order queues, >= 1
  /// Bytes of task outputs the device may hold (see the memory rule above);
  /// nullopt: unlimited.
  std::optional<uint64_t> memoryLimitBytes;
};

/// One unit of work: an op or a fused group of ops.
struct Task {
  std::string name;
  /// Estimated µs on each device (size == number of devices); nullopt where
  /// the device cannot run the task. Finite and >= 0 otherwise.
  std::vector<std::optional<double>> cost;
  /// Bytes of the tensor(s) the task produces (for the memory rule).
  uint64_t outputBytes = 0;
  /// When set, the task must run on this device.
  std::optional<int> pinnedDevice;
};

/// Data flowing from task `from` to task `to` (from < to).
struct Edge {
  int from = 0, to = 0;
  uint64_t bytes = 0;
};

/// µs to move `bytes` from `fromDevice` to `toDevice` (from != to). Must be
/// deterministic, finite and >= 0 (check() samples it on every edge).
using TransferFn =
    std::function<double(int fromDevice, int toDevice, uint64_t bytes)>;

struct Problem {
  std::vector<Device> devices;
  std::vector<Task> tasks; ///< in a topological order
  std::vector<Edge> edges;
  TransferFn transfer; ///< may be empty when no edge can cross devices

  int numDevices() const { return int(devices.size()); }
  int numTasks() const { return int(tasks.size()); }
  /// The sum of the devices' queue counts.
  int totalQueues() const;

  /// True when `device` has a cost for `task` (ignores pinning).
  bool canRun(int task, int device) const;
  /// True when `task` may be placed on `device`: it can run there and is not
  /// pinned to another device.
  bool allowed(int task, int device) const;
  /// The cheapest cost of `task` over the devices it is allowed on.
  double cheapestCost(int task) const;
  /// 0 when fromDevice == toDevice, else transfer(fromDevice, toDevice, bytes).
  double transferUs(int fromDevice, int toDevice, uint64_t bytes) const;

  /// Returns an empty string for a well-formed problem, else the first
  /// problem found: no device, a device with no queue, a cost vector of the
  /// wrong size, a negative or non-finite cost, a bad pinned device or one
  /// that cannot run its task, a task no device can run, an edge with a bad
  /// index or from >= to, a missing transfer function, or a transfer cost
  /// that is negative or non-finite for some edge and device pair.
  /// O((tasks + edges) · devices²) (the transfer function is sampled).
  std::string check() const;
};

/// Where and when one task runs.
struct ScheduledTask {
  int device = -1;
  int queue = -1; ///< 0 .. devices[device].queues - 1
  double start = 0, end = 0;
};

/// The transfer of one cross-device edge on link (fromDevice, toDevice).
struct ScheduledTransfer {
  int edge = -1;
  int fromDevice = -1, toDevice = -1;
  double start = 0, end = 0;
};

struct Schedule {
  std::vector<ScheduledTask> tasks;         ///< one per task
  std::vector<ScheduledTransfer> transfers; ///< one per cross-device edge,
                                            ///< sorted by edge index
  double makespan = 0;                      ///< max over tasks of end

  /// The device of every task.
  std::vector<int> assignment() const;
};

/// Checks `schedule` against `problem` (which must pass check()). Returns an
/// empty string when valid, else the first violated rule, in this order:
/// shape (one entry per task, device and queue indices in range); a task on
/// a device that cannot run it; a task on a device other than its pinned
/// one; end - start != cost; a device over its memory limit; for each edge,
/// a consumer starting before its producer ends (same device), or a missing,
/// duplicate or misplaced transfer (wrong devices, starting before the
/// producer ends, ending after the consumer starts, lasting other than
/// transferUs); a transfer for an edge that needs none; two tasks
/// overlapping on one queue; two transfers overlapping on one link; makespan
/// != max end. Times compare with a relative tolerance of 1e-9.
/// O((tasks + edges) log(tasks + edges)).
std::string verify(const Problem &problem, const Schedule &schedule);

/// A lower bound on the makespan of every valid schedule: the larger of
///  (a) the critical path with each task at its cheapest allowed device and
///      free transfers, and
///  (b) the total cheapest work divided by the total number of queues.
/// (b) divides by queues, not devices: a device with k queues can run k
/// tasks at once, so dividing by the number of devices (as the product
/// spec's wording has it) would not be a bound on multi-queue targets; the
/// two agree when every device has one queue. Memory limits are ignored (a
/// relaxation). The problem must pass check(). O(tasks · devices + edges).
double lowerBound(const Problem &problem);

/// A lower bound on the makespan from work alone, tighter than (b) above
/// when devices differ in speed or capability. The LP relaxation "split each
/// task fractionally over the devices that can run it; minimize T with
/// device d's load at most queues[d] · T" has the dual: maximize
/// Σ_t min_d cost[t][d] · y[d] over y ≥ 0 with Σ_d queues[d] · y[d] = 1
/// (devices that cannot run t are left out of its min). Every feasible y
/// gives a valid bound (weak duality); this evaluates the uniform point
/// y[d] = 1 / Σ queues (which is (b)) and a grid on the simplex refined
/// around its best point, so it is never below (b). `cost[t][d]` nullopt:
/// device d cannot run task t. O(tasks · devices · grid points), the grid
/// shrinking as the task count grows (a few hundred evaluations at most).
double workLowerBound(const std::vector<std::vector<std::optional<double>>> &cost,
                      const std::vector<int> &queues);

} // namespace loom::partition

#endif // LOOM_PARTITION_PROBLEM_H
