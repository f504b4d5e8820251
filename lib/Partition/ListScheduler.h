//===- ListScheduler.h - Shared machinery of the algorithms -----*- C++ -*-===//
//
// `Prepared` holds what every algorithm derives from a problem once (cost
// and transfer tables, adjacency, upward ranks, the priority order, memory
// reservations); `ListScheduler` places tasks one at a time on device queues
// and links with insertion (see Algorithms.h). HEFT and scheduleFixed drive
// the same ListScheduler, so they agree on a given assignment.
//
// Internal to LoomPartition.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_PARTITION_LISTSCHEDULER_H
#define LOOM_LIB_PARTITION_LISTSCHEDULER_H

#include "Timeline.h"

#include "loom/Partition/Problem.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace loom::partition::detail {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// Per-problem tables. The problem must pass check().
struct Prepared {
  explicit Prepared(const Problem &problem);

  const Problem &problem;
  int n, p, m;
  std::vector<double> costTable;       ///< n × p; +inf where not allowed
  std::vector<double> transferTable;   ///< m × p × p, 0 on the diagonal
  std::vector<int> inBegin, inEdges;   ///< CSR: edges into each task
  std::vector<int> outBegin, outEdges; ///< CSR: edges out of each task
  std::vector<double> rank;            ///< upward rank (Algorithms.h)
  std::vector<int> order;              ///< priority order
  std::vector<int> queueBase;          ///< p + 1 prefix sums of queues
  std::vector<double> cheapest;        ///< per task, over allowed devices
  /// The only device a task is allowed on, or -1 when it has a choice.
  std::vector<int> forcedDevice;
  /// Per device: bytes of the tasks forced onto it.
  std::vector<uint64_t> forcedBytes;

  bool allowed(int v, int d) const {
    return costTable[size_t(v) * size_t(p) + size_t(d)] != kInfinity;
  }
  double cost(int v, int d) const {
    return costTable[size_t(v) * size_t(p) + size_t(d)];
  }
  double transfer(int e, int from, int to) const {
    return transferTable[(size_t(e) * size_t(p) + size_t(from)) * size_t(p) +
                         size_t(to)];
  }
  bool hasLimit(int d) const {
    return problem.devices[size_t(d)].memoryLimitBytes.has_value();
  }
  uint64_t limit(int d) const {
    return *problem.devices[size_t(d)].memoryLimitBytes;
  }
  uint64_t bytes(int v) const { return problem.tasks[size_t(v)].outputBytes; }
  std::string taskName(int v) const;
  std::string deviceName(int d) const;
  /// Empty when the tasks forced onto each device fit its memory, else why
  /// no assignment can.
  std::string checkForcedMemory() const;
  /// Empty when `assignment` is allowed and within memory limits, else why.
  std::string checkAssignment(const std::vector<int> &assignment) const;
};

/// Memory use while tasks are assigned one by one, keeping room for the
/// tasks that can only run on one device.
class MemoryBudget {
public:
  explicit MemoryBudget(const Prepared &prep);
  /// Whether `v`'s output fits on `d` next to what is placed there and what
  /// must still go there.
  bool fits(int v, int d) const;
  void place(int v, int d);

private:
  const Prepared &prep;
  std::vector<uint64_t> used, forcedLeft;
};

/// Insertion list scheduling, one task at a time.
class ListScheduler {
public:
  explicit ListScheduler(const Prepared &prep);

  /// Forgets every placement.
  void reset();

  struct Placement {
    int queue = -1;
    double start = 0, end = 0;
  };
  /// Where `v` would run on device `d` given the tasks placed so far (all of
  /// its predecessors must be placed): its incoming transfers are placed as
  /// early as possible on their links (earliest-ready producer first), then
  /// the task at the earliest start over the device's queues (lowest queue
  /// among equals). Remembers the transfers for commit().
  Placement evaluate(int v, int d);
  /// Places `v` on `d` as the last evaluate(v, d) computed.
  void commit(int v, int d, const Placement &placement);

  /// Schedules every task on `assignment` in priority order. Stops early and
  /// returns false as soon as a task would end at or after `cutoff` (the
  /// makespan could not be below it).
  bool run(const std::vector<int> &assignment, double cutoff = kInfinity);

  /// The largest end time placed so far.
  double makespan() const { return maxEnd; }
  /// The schedule placed so far (complete after a full run or HEFT).
  Schedule result() const;

private:
  struct Pending {
    int edge, fromDevice;
    double start, duration;
  };
  const Prepared &prep;
  std::vector<Timeline> queues; ///< indexed by queueBase[d] + q
  std::vector<Timeline> links;  ///< indexed by from × p + to
  std::vector<ScheduledTask> slots;
  std::vector<ScheduledTransfer> transfers;
  double maxEnd = 0;
  // Scratch of evaluate().
  std::vector<int> cross;
  std::vector<Pending> pending;
  int pendingTask = -1, pendingDevice = -1;
};

/// Greedy's assignment (Algorithms.h) into `out`; returns why there is none.
std::string greedyAssignment(const Prepared &prep, std::vector<int> &out);

/// HEFT's schedule into `scheduler`; returns why there is none.
std::string runHeft(const Prepared &prep, ListScheduler &scheduler);

/// The tasks of the critical path of `schedule`, from the last task back:
/// at each task, the producer whose data (or transfer) arrives last, or the
/// task before it on its queue when the queue, not the data, held it back.
std::vector<int> criticalTasks(const Prepared &prep, const Schedule &schedule);

} // namespace loom::partition::detail

#endif // LOOM_LIB_PARTITION_LISTSCHEDULER_H
