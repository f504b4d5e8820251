//===- Problem.cpp - Problem checks, schedule verifier, lower bound -------===//
#include "loom/Partition/Problem.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <tuple>

using namespace loom::partition;

int Problem::totalQueues() const {
  int total = 0;
  for (const Device &d : devices)
    total += d.queues;
  return total;
}

bool Problem::canRun(int task, int device) const {
  const Task &t = tasks[size_t(task)];
  return device >= 0 && size_t(device) < t.cost.size() &&
         t.cost[size_t(device)].has_value();
}

bool Problem::allowed(int task, int device) const {
  const Task &t = tasks[size_t(task)];
  return canRun(task, device) && (!t.pinnedDevice || *t.pinnedDevice == device);
}

double Problem::cheapestCost(int task) const {
  double best = std::numeric_limits<double>::infinity();
  for (int d = 0; d < numDevices(); ++d)
    if (allowed(task, d))
      best = std::min(best, *tasks[size_t(task)].cost[size_t(d)]);
  return best;
}

double Problem::transferUs(int fromDevice, int toDevice, uint64_t bytes) const {
  if (fromDevice == toDevice)
    return 0;
  return transfer(fromDevice, toDevice, bytes);
}

static std::string quoted(const std::string &name, int index) {
  return "'" + name + "' (" + std::to_string(index) + ")";
}

std::string Problem::check() const {
  const int p = numDevices();
  if (p == 0)
    return "problem has no device";
  for (int d = 0; d < p; ++d)
    if (devices[size_t(d)].queues < 1)
      return "device " + quoted(devices[size_t(d)].name, d) + " has no queue";
  for (int v = 0; v < numTasks(); ++v) {
    const Task &t = tasks[size_t(v)];
    std::string name = "task " + quoted(t.name, v);
    if (int(t.cost.size()) != p)
      return name + " has " + std::to_string(t.cost.size()) + " costs for " +
             std::to_string(p) + " devices";
    bool any = false;
    for (int d = 0; d < p; ++d) {
      if (!t.cost[size_t(d)])
        continue;
      double c = *t.cost[size_t(d)];
      if (!std::isfinite(c) || c < 0)
        return name + " has a negative or non-finite cost on device " +
               quoted(devices[size_t(d)].name, d);
      any = true;
    }
    if (!any)
      return name + " cannot run on any device";
    if (t.pinnedDevice) {
      int d = *t.pinnedDevice;
      if (d < 0 || d >= p)
        return name + " is pinned to device " + std::to_string(d) +
               " which does not exist";
      if (!t.cost[size_t(d)])
        return name + " is pinned to device " +
               quoted(devices[size_t(d)].name, d) + " which cannot run it";
    }
  }
  for (size_t e = 0; e < edges.size(); ++e) {
    const Edge &edge = edges[e];
    std::string name = "edge " + std::to_string(e);
    if (edge.from < 0 || edge.from >= numTasks() || edge.to < 0 ||
        edge.to >= numTasks())
      return name + " refers to a task that does not exist";
    if (edge.from >= edge.to)
      return name + " goes from task " + std::to_string(edge.from) +
             " to task " + std::to_string(edge.to) +
             ": tasks must be in topological order (from < to)";
    if (p > 1 && !transfer)
      return name + " may cross devices but the problem has no transfer "
                    "function";
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        if (a == b)
          continue;
        double c = transfer(a, b, edge.bytes);
        if (!std::isfinite(c) || c < 0)
          return name + " has a negative or non-finite transfer cost from " +
                 quoted(devices[size_t(a)].name, a) + " to " +
                 quoted(devices[size_t(b)].name, b);
      }
  }
  return "";
}

std::vector<int> Schedule::assignment() const {
  std::vector<int> result;
  result.reserve(tasks.size());
  for (const ScheduledTask &t : tasks)
    result.push_back(t.device);
  return result;
}

//===----------------------------------------------------------------------===//
// verify
//===----------------------------------------------------------------------===//

namespace {
/// Relative tolerance for times computed along different paths.
double slack(double a, double b) {
  return 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
}
bool near(double a, double b) { return std::fabs(a - b) <= slack(a, b); }
bool lessEq(double a, double b) { return a <= b + slack(a, b); }
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// An interval on one resource, for the overlap checks.
struct Busy {
  int resource;
  double start, end;
  int item;
};

/// The first pair of overlapping intervals on one resource, as indices into
/// `busy` (sorted in place), or {-1, -1}.
std::pair<int, int> firstOverlap(std::vector<Busy> &busy) {
  std::sort(busy.begin(), busy.end(), [](const Busy &x, const Busy &y) {
    return std::tie(x.resource, x.start, x.end, x.item) <
           std::tie(y.resource, y.start, y.end, y.item);
  });
  // Keeps the interval that ends last on the current resource: any later
  // interval starting before it overlaps it.
  size_t last = 0;
  for (size_t i = 1; i < busy.size(); ++i) {
    if (busy[i].resource != busy[last].resource) {
      last = i;
      continue;
    }
    if (!lessEq(busy[last].end, busy[i].start))
      return {busy[last].item, busy[i].item};
    if (busy[i].end > busy[last].end)
      last = i;
  }
  return {-1, -1};
}
} // namespace

std::string loom::partition::verify(const Problem &problem,
                                    const Schedule &schedule) {
  const int n = problem.numTasks(), p = problem.numDevices();
  if (int(schedule.tasks.size()) != n)
    return "schedule has " + std::to_string(schedule.tasks.size()) +
           " tasks, problem has " + std::to_string(n);
  auto taskName = [&](int v) {
    return "task " + quoted(problem.tasks[size_t(v)].name, v);
  };
  auto deviceName = [&](int d) {
    return "device " + quoted(problem.devices[size_t(d)].name, d);
  };

  // Per task: placement, capability, pinning, duration.
  for (int v = 0; v < n; ++v) {
    const ScheduledTask &s = schedule.tasks[size_t(v)];
    if (s.device < 0 || s.device >= p)
      return taskName(v) + " is on device " + std::to_string(s.device) +
             " which does not exist";
    if (s.queue < 0 || s.queue >= problem.devices[size_t(s.device)].queues)
      return taskName(v) + " is on queue " + std::to_string(s.queue) + " of " +
             deviceName(s.device) + " which does not exist";
    if (!std::isfinite(s.start) || !std::isfinite(s.end) || s.start < 0)
      return taskName(v) + " has a negative or non-finite start or end";
  }
  for (int v = 0; v < n; ++v)
    if (!problem.canRun(v, schedule.tasks[size_t(v)].device))
      return taskName(v) + " is on " +
             deviceName(schedule.tasks[size_t(v)].device) +
             " which cannot run it";
  for (int v = 0; v < n; ++v) {
    const auto &pin = problem.tasks[size_t(v)].pinnedDevice;
    if (pin && *pin != schedule.tasks[size_t(v)].device)
      return taskName(v) + " is pinned to " + deviceName(*pin) + " but is on " +
             deviceName(schedule.tasks[size_t(v)].device);
  }
  for (int v = 0; v < n; ++v) {
    const ScheduledTask &s = schedule.tasks[size_t(v)];
    double cost = *problem.tasks[size_t(v)].cost[size_t(s.device)];
    if (!near(s.end - s.start, cost))
      return taskName(v) + " lasts " + num(s.end - s.start) + " us on " +
             deviceName(s.device) + " but costs " + num(cost) + " us there";
  }

  // Memory (simplified rule: outputs of the tasks placed on a device).
  std::vector<uint64_t> used(size_t(p), 0);
  for (int v = 0; v < n; ++v)
    used[size_t(schedule.tasks[size_t(v)].device)] +=
        problem.tasks[size_t(v)].outputBytes;
  for (int d = 0; d < p; ++d) {
    const auto &limit = problem.devices[size_t(d)].memoryLimitBytes;
    if (limit && used[size_t(d)] > *limit)
      return deviceName(d) + " holds " + std::to_string(used[size_t(d)]) +
             " bytes of task outputs, over its limit of " +
             std::to_string(*limit);
  }

  // Edges and their transfers.
  const size_t m = problem.edges.size();
  std::vector<int> transferOf(m, -1);
  for (size_t i = 0; i < schedule.transfers.size(); ++i) {
    int e = schedule.transfers[i].edge;
    if (e < 0 || size_t(e) >= m)
      return "transfer " + std::to_string(i) + " is for edge " +
             std::to_string(e) + " which does not exist";
    if (transferOf[size_t(e)] >= 0)
      return "edge " + std::to_string(e) + " has two transfers";
    transferOf[size_t(e)] = int(i);
  }
  for (size_t e = 0; e < m; ++e) {
    const Edge &edge = problem.edges[e];
    const ScheduledTask &from = schedule.tasks[size_t(edge.from)];
    const ScheduledTask &to = schedule.tasks[size_t(edge.to)];
    std::string name = "edge " + std::to_string(e) + " from " +
                       taskName(edge.from) + " to " + taskName(edge.to);
    if (from.device == to.device) {
      if (transferOf[e] >= 0)
        return name + " stays on " + deviceName(from.device) +
               " but has a transfer";
      if (!lessEq(from.end, to.start))
        return name + ": the consumer starts at " + num(to.start) +
               " before the producer ends at " + num(from.end);
      continue;
    }
    if (transferOf[e] < 0)
      return name + " crosses from " + deviceName(from.device) + " to " +
             deviceName(to.device) + " without a transfer";
    const ScheduledTransfer &t = schedule.transfers[size_t(transferOf[e])];
    if (t.fromDevice != from.device || t.toDevice != to.device)
      return name + ": its transfer is on link " +
             std::to_string(t.fromDevice) + "->" + std::to_string(t.toDevice) +
             ", not " + std::to_string(from.device) + "->" +
             std::to_string(to.device);
    if (!std::isfinite(t.start) || !std::isfinite(t.end))
      return name + ": its transfer has a non-finite start or end";
    if (!lessEq(from.end, t.start))
      return name + ": its transfer starts at " + num(t.start) +
             " before the producer ends at " + num(from.end);
    if (!lessEq(t.end, to.start))
      return name + ": the consumer starts at " + num(to.start) +
             " before its transfer ends at " + num(t.end);
    double cost = problem.transferUs(from.device, to.device, edge.bytes);
    if (!near(t.end - t.start, cost))
      return name + ": its transfer lasts " + num(t.end - t.start) +
             " us but costs " + num(cost) + " us";
  }

  // Resources: one task at a time per queue, one transfer at a time per link.
  std::vector<int> queueBase(size_t(p) + 1, 0);
  for (int d = 0; d < p; ++d)
    queueBase[size_t(d) + 1] =
        queueBase[size_t(d)] + problem.devices[size_t(d)].queues;
  std::vector<Busy> busy;
  busy.reserve(size_t(n));
  for (int v = 0; v < n; ++v) {
    const ScheduledTask &s = schedule.tasks[size_t(v)];
    busy.push_back({queueBase[size_t(s.device)] + s.queue, s.start, s.end, v});
  }
  auto [a, b] = firstOverlap(busy);
  if (a >= 0) {
    const ScheduledTask &s = schedule.tasks[size_t(a)];
    return taskName(a) + " and " + taskName(b) + " overlap on queue " +
           std::to_string(s.queue) + " of " + deviceName(s.device);
  }
  busy.clear();
  for (size_t i = 0; i < schedule.transfers.size(); ++i) {
    const ScheduledTransfer &t = schedule.transfers[i];
    busy.push_back({t.fromDevice * p + t.toDevice, t.start, t.end, int(i)});
  }
  std::tie(a, b) = firstOverlap(busy);
  if (a >= 0) {
    const ScheduledTransfer &t = schedule.transfers[size_t(a)];
    return "transfers of edges " + std::to_string(t.edge) + " and " +
           std::to_string(schedule.transfers[size_t(b)].edge) +
           " overlap on link " + deviceName(t.fromDevice) + " -> " +
           deviceName(t.toDevice);
  }

  double maxEnd = 0;
  for (const ScheduledTask &s : schedule.tasks)
    maxEnd = std::max(maxEnd, s.end);
  if (!near(schedule.makespan, maxEnd))
    return "makespan is " + num(schedule.makespan) +
           " but the last task ends at " + num(maxEnd);
  return "";
}

//===----------------------------------------------------------------------===//
// lowerBound
//===----------------------------------------------------------------------===//

double loom::partition::lowerBound(const Problem &problem) {
  const int n = problem.numTasks();
  if (n == 0)
    return 0;
  std::vector<double> cheapest(static_cast<size_t>(n));
  double work = 0;
  for (int v = 0; v < n; ++v) {
    cheapest[size_t(v)] = problem.cheapestCost(v);
    work += cheapest[size_t(v)];
  }
  // Earliest finish along data paths: tasks are in topological order, so
  // one pass in index order pushes each finish time to the successors.
  std::vector<double> readyAt(size_t(n), 0), finish(size_t(n), 0);
  std::vector<int> outCount(size_t(n) + 1, 0);
  for (const Edge &e : problem.edges)
    ++outCount[size_t(e.from) + 1];
  for (int v = 0; v < n; ++v)
    outCount[size_t(v) + 1] += outCount[size_t(v)];
  std::vector<int> out(problem.edges.size());
  std::vector<int> fill(outCount.begin(), outCount.end() - 1);
  for (const Edge &e : problem.edges)
    out[size_t(fill[size_t(e.from)]++)] = e.to;
  double path = 0;
  for (int v = 0; v < n; ++v) {
    finish[size_t(v)] = readyAt[size_t(v)] + cheapest[size_t(v)];
    path = std::max(path, finish[size_t(v)]);
    for (int i = outCount[size_t(v)]; i < outCount[size_t(v) + 1]; ++i) {
      double &r = readyAt[size_t(out[size_t(i)])];
      r = std::max(r, finish[size_t(v)]);
    }
  }
  std::vector<std::vector<std::optional<double>>> costs;
  costs.reserve(size_t(n));
  for (int v = 0; v < n; ++v) {
    std::vector<std::optional<double>> c(size_t(problem.numDevices()));
    for (int d = 0; d < problem.numDevices(); ++d)
      if (problem.allowed(v, d))
        c[size_t(d)] = problem.tasks[size_t(v)].cost[size_t(d)];
    costs.push_back(std::move(c));
  }
  std::vector<int> queues;
  for (const Device &d : problem.devices)
    queues.push_back(d.queues);
  return std::max({path, work / double(problem.totalQueues()),
                   workLowerBound(costs, queues)});
}

double loom::partition::workLowerBound(
    const std::vector<std::vector<std::optional<double>>> &cost,
    const std::vector<int> &queues) {
  const size_t k = queues.size();
  if (k == 0 || cost.empty())
    return 0;
  // The dual objective at weights w (normalized so Σ queues[d]·y[d] = 1).
  auto dual = [&](const std::vector<double> &w) {
    double norm = 0;
    for (size_t d = 0; d < k; ++d)
      norm += double(queues[d]) * w[d];
    if (norm <= 0)
      return 0.0;
    double total = 0;
    for (const auto &row : cost) {
      double best = std::numeric_limits<double>::infinity();
      for (size_t d = 0; d < k && d < row.size(); ++d)
        if (row[d])
          best = std::min(best, *row[d] * w[d] / norm);
      if (std::isfinite(best))
        total += best;
    }
    return total;
  };
  std::vector<double> bestW(k, 1.0);
  double best = dual(bestW);
  if (k == 1)
    return best;
  // Grid on the simplex (k ≤ 4 devices in practice), coarser for large
  // graphs, then halving steps around the best point.
  const size_t evaluations = cost.size() > 20000 ? 40 : 400;
  int steps = 1;
  auto gridSize = [&](int s) { // points with Σ = s over k coordinates
    double c = 1;
    for (size_t i = 1; i < k; ++i)
      c = c * double(s + int(i)) / double(i);
    return c;
  };
  while (gridSize(steps + 1) <= double(evaluations))
    ++steps;
  // Enumerate compositions of `steps` into k parts (no recursion).
  std::vector<int> idx(k, 0);
  idx[0] = steps;
  while (true) {
    std::vector<double> w(k);
    for (size_t d = 0; d < k; ++d)
      w[d] = double(idx[d]) / double(steps);
    double v = dual(w);
    if (v > best) {
      best = v;
      bestW = w;
    }
    // Next composition: move one unit from the first non-zero part (not
    // the last) to its right neighbour, gathering the rest at the front.
    size_t i = 0;
    while (i + 1 < k && idx[i] == 0)
      ++i;
    if (i + 1 >= k)
      break;
    int carry = idx[i] - 1;
    idx[i] = 0;
    ++idx[i + 1];
    idx[0] = carry;
  }
  // Local refinement: move weight between pairs of devices.
  for (double delta = 0.5 / double(steps); delta > 1e-4; delta /= 2) {
    bool improved = true;
    for (int round = 0; improved && round < 20; ++round) {
      improved = false;
      for (size_t a = 0; a < k; ++a)
        for (size_t b = 0; b < k; ++b) {
          if (a == b || bestW[b] < delta)
            continue;
          std::vector<double> w = bestW;
          w[a] += delta;
          w[b] -= delta;
          double v = dual(w);
          if (v > best * (1 + 1e-12)) {
            best = v;
            bestW = w;
            improved = true;
          }
        }
    }
  }
  return best;
}
