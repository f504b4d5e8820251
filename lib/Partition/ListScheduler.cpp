//===- ListScheduler.cpp - Problem tables and insertion list scheduling ---===//
#include "ListScheduler.h"

#include <algorithm>
#include <cassert>
#include <numeric>

using namespace loom::partition;
using namespace loom::partition::detail;

//===----------------------------------------------------------------------===//
// Prepared
//===----------------------------------------------------------------------===//

/// Compressed adjacency: for each task, the edges whose `key` is that task,
/// in edge order.
static void buildCsr(int n, const std::vector<Edge> &edges, bool byTo,
                     std::vector<int> &begin, std::vector<int> &list) {
  begin.assign(size_t(n) + 1, 0);
  for (const Edge &e : edges)
    ++begin[size_t(byTo ? e.to : e.from) + 1];
  for (int v = 0; v < n; ++v)
    begin[size_t(v) + 1] += begin[size_t(v)];
  list.resize(edges.size());
  std::vector<int> fill(begin.begin(), begin.end() - 1);
  for (size_t e = 0; e < edges.size(); ++e) {
    int key = byTo ? edges[e].to : edges[e].from;
    list[size_t(fill[size_t(key)]++)] = int(e);
  }
}

Prepared::Prepared(const Problem &problem)
    : problem(problem), n(problem.numTasks()), p(problem.numDevices()),
      m(int(problem.edges.size())) {
  costTable.assign(size_t(n) * size_t(p), kInfinity);
  cheapest.assign(size_t(n), kInfinity);
  forcedDevice.assign(size_t(n), -1);
  forcedBytes.assign(size_t(p), 0);
  std::vector<double> meanCost(size_t(n), 0);
  for (int v = 0; v < n; ++v) {
    int count = 0, last = -1;
    for (int d = 0; d < p; ++d) {
      if (!problem.allowed(v, d))
        continue;
      double c = *problem.tasks[size_t(v)].cost[size_t(d)];
      costTable[size_t(v) * size_t(p) + size_t(d)] = c;
      cheapest[size_t(v)] = std::min(cheapest[size_t(v)], c);
      meanCost[size_t(v)] += c;
      ++count;
      last = d;
    }
    meanCost[size_t(v)] /= count;
    if (count == 1) {
      forcedDevice[size_t(v)] = last;
      forcedBytes[size_t(last)] += problem.tasks[size_t(v)].outputBytes;
    }
  }

  transferTable.assign(size_t(m) * size_t(p) * size_t(p), 0);
  for (int e = 0; e < m; ++e)
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b)
        if (a != b)
          transferTable[(size_t(e) * size_t(p) + size_t(a)) * size_t(p) +
                        size_t(b)] =
              problem.transferUs(a, b, problem.edges[size_t(e)].bytes);

  buildCsr(n, problem.edges, /*byTo=*/true, inBegin, inEdges);
  buildCsr(n, problem.edges, /*byTo=*/false, outBegin, outEdges);

  // Upward ranks in reverse index order (a reverse topological order): every
  // successor's rank is final when a task is reached.
  rank.assign(size_t(n), 0);
  for (int v = n - 1; v >= 0; --v) {
    double tail = 0;
    for (int i = outBegin[size_t(v)]; i < outBegin[size_t(v) + 1]; ++i) {
      int e = outEdges[size_t(i)], s = problem.edges[size_t(e)].to;
      double sum = 0;
      int pairs = 0;
      for (int a = 0; a < p; ++a) {
        if (!allowed(v, a))
          continue;
        for (int b = 0; b < p; ++b) {
          if (!allowed(s, b))
            continue;
          sum += transfer(e, a, b);
          ++pairs;
        }
      }
      tail = std::max(tail, sum / pairs + rank[size_t(s)]);
    }
    rank[size_t(v)] = meanCost[size_t(v)] + tail;
  }
  // Costs and transfers are >= 0, so rank(u) >= rank(v) along every edge
  // u -> v (u < v): decreasing rank, ties by index, is topological.
  order.resize(size_t(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int x, int y) {
    if (rank[size_t(x)] != rank[size_t(y)])
      return rank[size_t(x)] > rank[size_t(y)];
    return x < y;
  });

  queueBase.assign(size_t(p) + 1, 0);
  for (int d = 0; d < p; ++d)
    queueBase[size_t(d) + 1] =
        queueBase[size_t(d)] + problem.devices[size_t(d)].queues;
}

std::string Prepared::taskName(int v) const {
  return "'" + problem.tasks[size_t(v)].name + "' (" + std::to_string(v) + ")";
}

std::string Prepared::deviceName(int d) const {
  return "'" + problem.devices[size_t(d)].name + "' (" + std::to_string(d) +
         ")";
}

std::string Prepared::checkForcedMemory() const {
  for (int d = 0; d < p; ++d)
    if (hasLimit(d) && forcedBytes[size_t(d)] > limit(d))
      return "the tasks that can only run on device " + deviceName(d) +
             " produce " + std::to_string(forcedBytes[size_t(d)]) +
             " bytes, over its memory limit of " + std::to_string(limit(d));
  return "";
}

std::string
Prepared::checkAssignment(const std::vector<int> &assignment) const {
  if (int(assignment.size()) != n)
    return "assignment has " + std::to_string(assignment.size()) +
           " devices for " + std::to_string(n) + " tasks";
  std::vector<uint64_t> used(size_t(p), 0);
  for (int v = 0; v < n; ++v) {
    int d = assignment[size_t(v)];
    if (d < 0 || d >= p)
      return "task " + taskName(v) + " is assigned to device " +
             std::to_string(d) + " which does not exist";
    if (!allowed(v, d))
      return "task " + taskName(v) + " is assigned to device " + deviceName(d) +
             (problem.canRun(v, d) ? " but is pinned to another device"
                                   : " which cannot run it");
    used[size_t(d)] += bytes(v);
  }
  for (int d = 0; d < p; ++d)
    if (hasLimit(d) && used[size_t(d)] > limit(d))
      return "device " + deviceName(d) + " would hold " +
             std::to_string(used[size_t(d)]) +
             " bytes of task outputs, over its memory limit of " +
             std::to_string(limit(d));
  return "";
}

//===----------------------------------------------------------------------===//
// MemoryBudget
//===----------------------------------------------------------------------===//

MemoryBudget::MemoryBudget(const Prepared &prep)
    : prep(prep), used(size_t(prep.p), 0), forcedLeft(prep.forcedBytes) {}

bool MemoryBudget::fits(int v, int d) const {
  if (!prep.hasLimit(d))
    return true;
  uint64_t reserved = forcedLeft[size_t(d)];
  if (prep.forcedDevice[size_t(v)] == d)
    reserved -= prep.bytes(v);
  return used[size_t(d)] + reserved + prep.bytes(v) <= prep.limit(d);
}

void MemoryBudget::place(int v, int d) {
  used[size_t(d)] += prep.bytes(v);
  if (prep.forcedDevice[size_t(v)] == d)
    forcedLeft[size_t(d)] -= prep.bytes(v);
}

//===----------------------------------------------------------------------===//
// ListScheduler
//===----------------------------------------------------------------------===//

ListScheduler::ListScheduler(const Prepared &prep)
    : prep(prep), queues(size_t(prep.queueBase.back())),
      links(size_t(prep.p) * size_t(prep.p)) {
  reset();
}

void ListScheduler::reset() {
  for (Timeline &t : queues)
    t.reset();
  for (Timeline &t : links)
    t.reset();
  slots.assign(size_t(prep.n), ScheduledTask());
  transfers.clear();
  maxEnd = 0;
  pendingTask = pendingDevice = -1;
}

ListScheduler::Placement ListScheduler::evaluate(int v, int d) {
  const std::vector<Edge> &edges = prep.problem.edges;
  double ready = 0;
  cross.clear();
  pending.clear();
  for (int i = prep.inBegin[size_t(v)]; i < prep.inBegin[size_t(v) + 1]; ++i) {
    int e = prep.inEdges[size_t(i)];
    const ScheduledTask &from = slots[size_t(edges[size_t(e)].from)];
    assert(from.device >= 0 && "predecessor not placed");
    if (from.device == d)
      ready = std::max(ready, from.end);
    else
      cross.push_back(e);
  }
  // Transfers of the earliest-ready producers first.
  std::sort(cross.begin(), cross.end(), [&](int x, int y) {
    double ex = slots[size_t(edges[size_t(x)].from)].end;
    double ey = slots[size_t(edges[size_t(y)].from)].end;
    return ex != ey ? ex < ey : x < y;
  });
  for (int e : cross) {
    const ScheduledTask &from = slots[size_t(edges[size_t(e)].from)];
    double duration = prep.transfer(e, from.device, d);
    const Timeline &link =
        links[size_t(from.device) * size_t(prep.p) + size_t(d)];
    double t = from.end, x;
    // The earliest gap of the link that also misses this task's other
    // pending transfers on the same link.
    for (;;) {
      x = link.earliestFit(t, duration);
      bool clash = false;
      for (const Pending &q : pending) {
        if (q.fromDevice != from.device || x + duration <= q.start ||
            q.start + q.duration <= x)
          continue;
        t = q.start + q.duration;
        clash = true;
        break;
      }
      if (!clash)
        break;
    }
    pending.push_back({e, from.device, x, duration});
    ready = std::max(ready, x + duration);
  }
  Placement best;
  double cost = prep.cost(v, d);
  best.start = kInfinity;
  for (int q = 0; q < prep.problem.devices[size_t(d)].queues; ++q) {
    double x =
        queues[size_t(prep.queueBase[size_t(d)] + q)].earliestFit(ready, cost);
    if (x < best.start) {
      best.start = x;
      best.queue = q;
    }
  }
  best.end = best.start + cost;
  pendingTask = v;
  pendingDevice = d;
  return best;
}

void ListScheduler::commit(int v, int d, const Placement &placement) {
  assert(pendingTask == v && pendingDevice == d &&
         "commit must follow evaluate of the same task and device");
  double cost = prep.cost(v, d);
  queues[size_t(prep.queueBase[size_t(d)] + placement.queue)].occupy(
      placement.start, cost);
  slots[size_t(v)] = {d, placement.queue, placement.start, placement.end};
  for (const Pending &q : pending) {
    links[size_t(q.fromDevice) * size_t(prep.p) + size_t(d)].occupy(q.start,
                                                                    q.duration);
    transfers.push_back(
        {q.edge, q.fromDevice, d, q.start, q.start + q.duration});
  }
  maxEnd = std::max(maxEnd, placement.end);
  pendingTask = pendingDevice = -1;
}

bool ListScheduler::run(const std::vector<int> &assignment, double cutoff) {
  reset();
  for (int v : prep.order) {
    int d = assignment[size_t(v)];
    Placement placement = evaluate(v, d);
    if (placement.end >= cutoff)
      return false;
    commit(v, d, placement);
  }
  return true;
}

Schedule ListScheduler::result() const {
  Schedule s;
  s.tasks = slots;
  s.transfers = transfers;
  std::sort(s.transfers.begin(), s.transfers.end(),
            [](const ScheduledTransfer &x, const ScheduledTransfer &y) {
              return x.edge < y.edge;
            });
  s.makespan = maxEnd;
  return s;
}
