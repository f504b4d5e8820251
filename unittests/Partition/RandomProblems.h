//===- RandomProblems.h - Seeded random partition problems ------*- C++ -*-===//
//
// Problem generators for the property and scale tests. A splitmix64 stream
// and hand-written distributions (not <random>'s, whose outputs differ
// between standard libraries) make every problem a function of its seed.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_UNITTESTS_PARTITION_RANDOMPROBLEMS_H
#define LOOM_UNITTESTS_PARTITION_RANDOMPROBLEMS_H

#include "loom/Partition/Problem.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace loom::partition::testing {

class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi].
  int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }
  bool chance(double p) { return uniform() < p; }

private:
  uint64_t state;
};

/// Link model of the generated targets: latency + bytes / bandwidth, per
/// ordered device pair. 1 GB/s moves 1000 bytes per µs.
struct LinkModel {
  int numDevices = 0;
  std::vector<double> latencyUs, bandwidthGBs; ///< numDevices²
  double operator()(int from, int to, uint64_t bytes) const {
    size_t i = size_t(from) * size_t(numDevices) + size_t(to);
    return latencyUs[i] + double(bytes) / (bandwidthGBs[i] * 1e3);
  }
};

/// Devices: cpu (runs everything), then gpu and/or npu, faster but unable
/// to run some tasks. Costs are a per-task base (5-200 µs) scaled per
/// device; edges join each task to 0-3 of the 8 tasks before it; edge bytes
/// are log-uniform in 1 kB-4 MB; links have 2-20 µs latency and 5-40 GB/s.
/// With `extras`: an accelerator with two queues, tasks pinned to the cpu
/// (5%), and a memory limit on one accelerator (1 problem in 4).
inline Problem randomProblem(uint64_t seed, int numTasks, int numDevices,
                             bool extras = true) {
  Rng rng(seed);
  Problem p;
  p.devices.push_back({"cpu", 1, std::nullopt});
  // Kinds after the cpu: 2 devices take a gpu or an npu, 3 take both.
  std::vector<std::string> kinds;
  if (numDevices == 3)
    kinds = {"gpu", "npu"};
  else
    kinds = {rng.chance(0.5) ? "gpu" : "npu"};
  for (const std::string &k : kinds)
    p.devices.push_back(
        {k, extras && k == "gpu" && rng.chance(0.3) ? 2 : 1, std::nullopt});

  for (int v = 0; v < numTasks; ++v) {
    Task t;
    t.name = "t" + std::to_string(v);
    double base = rng.uniform(5, 200);
    for (const Device &d : p.devices) {
      if (d.name == "cpu")
        t.cost.push_back(base * rng.uniform(0.8, 1.2));
      else if (d.name == "gpu")
        t.cost.push_back(rng.chance(0.1) ? std::nullopt
                                         : std::optional<double>(
                                               base * rng.uniform(0.15, 0.6)));
      else
        t.cost.push_back(rng.chance(0.3) ? std::nullopt
                                         : std::optional<double>(
                                               base * rng.uniform(0.08, 0.5)));
    }
    if (extras && rng.chance(0.05))
      t.pinnedDevice = 0;
    p.tasks.push_back(t);
  }
  for (int v = 1; v < numTasks; ++v) {
    int preds = rng.range(0, 3);
    std::vector<int> chosen;
    for (int i = 0; i < preds; ++i) {
      int u = rng.range(std::max(0, v - 8), v - 1);
      if (std::find(chosen.begin(), chosen.end(), u) != chosen.end())
        continue;
      chosen.push_back(u);
      uint64_t bytes = uint64_t(std::pow(10.0, rng.uniform(3.0, 6.6)));
      p.edges.push_back({u, v, bytes});
    }
  }
  std::sort(p.edges.begin(), p.edges.end(), [](const Edge &a, const Edge &b) {
    return a.to != b.to ? a.to < b.to : a.from < b.from;
  });
  // A task's output: its largest outgoing edge, or 1 kB-1 MB for a sink.
  uint64_t totalBytes = 0;
  for (int v = 0; v < numTasks; ++v) {
    uint64_t out = 0;
    for (const Edge &e : p.edges)
      if (e.from == v)
        out = std::max(out, e.bytes);
    if (out == 0)
      out = uint64_t(std::pow(10.0, rng.uniform(3.0, 6.0)));
    p.tasks[size_t(v)].outputBytes = out;
    totalBytes += out;
  }
  if (extras && numDevices > 1 && rng.chance(0.25)) {
    // Room for a part of the outputs on one accelerator, at least what the
    // tasks that can only run there need.
    int d = rng.range(1, numDevices - 1);
    uint64_t forced = 0;
    for (const Task &t : p.tasks) {
      int allowedCount = 0;
      bool onD = false;
      for (int e = 0; e < numDevices; ++e)
        if (t.cost[size_t(e)] && (!t.pinnedDevice || *t.pinnedDevice == e)) {
          ++allowedCount;
          onD |= e == d;
        }
      if (allowedCount == 1 && onD)
        forced += t.outputBytes;
    }
    p.devices[size_t(d)].memoryLimitBytes =
        std::max(forced, uint64_t(double(totalBytes) * rng.uniform(0.2, 0.6)));
  }

  LinkModel links;
  links.numDevices = numDevices;
  for (int a = 0; a < numDevices * numDevices; ++a) {
    links.latencyUs.push_back(rng.uniform(2, 20));
    links.bandwidthGBs.push_back(rng.uniform(5, 40));
  }
  p.transfer = links;
  return p;
}

/// A layered DAG: `layers` × `width` tasks on cpu/gpu/npu, each task (past
/// the first layer) reading 1-3 tasks of the previous two layers.
inline Problem layeredProblem(uint64_t seed, int layers, int width) {
  Rng rng(seed);
  Problem p = randomProblem(seed, 0, 3, /*extras=*/false);
  for (int l = 0; l < layers; ++l)
    for (int i = 0; i < width; ++i) {
      int v = l * width + i;
      Task t;
      t.name = "l" + std::to_string(l) + "_" + std::to_string(i);
      double base = rng.uniform(5, 200);
      t.cost = {base * rng.uniform(0.8, 1.2),
                rng.chance(0.1)
                    ? std::nullopt
                    : std::optional<double>(base * rng.uniform(0.15, 0.6)),
                rng.chance(0.3)
                    ? std::nullopt
                    : std::optional<double>(base * rng.uniform(0.08, 0.5))};
      t.outputBytes = uint64_t(std::pow(10.0, rng.uniform(3.0, 6.0)));
      p.tasks.push_back(t);
      if (l == 0)
        continue;
      int preds = rng.range(1, 3);
      std::vector<int> chosen;
      for (int k = 0; k < preds; ++k) {
        int back = l >= 2 && rng.chance(0.3) ? 2 : 1;
        int u = (l - back) * width + rng.range(0, width - 1);
        if (std::find(chosen.begin(), chosen.end(), u) != chosen.end())
          continue;
        chosen.push_back(u);
        p.edges.push_back({u, v, p.tasks[size_t(u)].outputBytes});
      }
    }
  return p;
}

} // namespace loom::partition::testing

#endif // LOOM_UNITTESTS_PARTITION_RANDOMPROBLEMS_H
