//===- Algorithms.cpp - Fixed, single-device, greedy and HEFT schedules ---===//
#include "loom/Partition/Algorithms.h"

#include "ListScheduler.h"

using namespace loom::partition;
using namespace loom::partition::detail;

static ScheduleResult failure(std::string error) {
  ScheduleResult r;
  r.error = std::move(error);
  return r;
}

static ScheduleResult success(Schedule schedule) {
  ScheduleResult r;
  r.schedule = std::move(schedule);
  return r;
}

std::vector<int> loom::partition::priorityOrder(const Problem &problem) {
  if (!problem.check().empty())
    return {};
  return Prepared(problem).order;
}

ScheduleResult
loom::partition::scheduleFixed(const Problem &problem,
                               const std::vector<int> &assignment) {
  if (std::string error = problem.check(); !error.empty())
    return failure(error);
  Prepared prep(problem);
  if (std::string error = prep.checkAssignment(assignment); !error.empty())
    return failure(error);
  ListScheduler scheduler(prep);
  scheduler.run(assignment);
  return success(scheduler.result());
}

ScheduleResult loom::partition::singleDevice(const Problem &problem,
                                             int device) {
  if (device < 0 || device >= problem.numDevices())
    return failure("device " + std::to_string(device) + " does not exist");
  return scheduleFixed(problem,
                       std::vector<int>(size_t(problem.numTasks()), device));
}

namespace loom::partition::detail {
/// Greedy's assignment, or an error.
std::string greedyAssignment(const Prepared &prep, std::vector<int> &out) {
  if (std::string error = prep.checkForcedMemory(); !error.empty())
    return error;
  MemoryBudget memory(prep);
  out.assign(size_t(prep.n), -1);
  for (int v = 0; v < prep.n; ++v) {
    int best = -1;
    for (int d = 0; d < prep.p; ++d)
      if (prep.allowed(v, d) && memory.fits(v, d) &&
          (best < 0 || prep.cost(v, d) < prep.cost(v, best)))
        best = d;
    if (best < 0)
      return "memory limits leave no device for task " + prep.taskName(v);
    memory.place(v, best);
    out[size_t(v)] = best;
  }
  return "";
}

/// HEFT on prepared tables; fills `scheduler` with the schedule.
std::string runHeft(const Prepared &prep, ListScheduler &scheduler) {
  if (std::string error = prep.checkForcedMemory(); !error.empty())
    return error;
  MemoryBudget memory(prep);
  scheduler.reset();
  for (int v : prep.order) {
    int bestDevice = -1;
    double bestEnd = kInfinity;
    for (int d = 0; d < prep.p; ++d) {
      if (!prep.allowed(v, d) || !memory.fits(v, d))
        continue;
      ListScheduler::Placement placement = scheduler.evaluate(v, d);
      if (bestDevice < 0 || placement.end < bestEnd) {
        bestDevice = d;
        bestEnd = placement.end;
      }
    }
    if (bestDevice < 0)
      return "memory limits leave no device for task " + prep.taskName(v);
    // Evaluate again: the pending transfers are those of the last device
    // evaluated. Same state, same answer.
    ListScheduler::Placement placement = scheduler.evaluate(v, bestDevice);
    scheduler.commit(v, bestDevice, placement);
    memory.place(v, bestDevice);
  }
  return "";
}
} // namespace loom::partition::detail

ScheduleResult loom::partition::greedy(const Problem &problem) {
  if (std::string error = problem.check(); !error.empty())
    return failure(error);
  Prepared prep(problem);
  std::vector<int> assignment;
  if (std::string error = greedyAssignment(prep, assignment); !error.empty())
    return failure(error);
  ListScheduler scheduler(prep);
  scheduler.run(assignment);
  return success(scheduler.result());
}

ScheduleResult loom::partition::heft(const Problem &problem) {
  if (std::string error = problem.check(); !error.empty())
    return failure(error);
  Prepared prep(problem);
  ListScheduler scheduler(prep);
  if (std::string error = runHeft(prep, scheduler); !error.empty())
    return failure(error);
  return success(scheduler.result());
}
