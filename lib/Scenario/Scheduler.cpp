//===- Scheduler.cpp - Policies over job instances ------------------------===//
//
// Job-ordered list scheduling with insertion. Jobs are taken one at a time
// in the policy's order among the jobs whose release is known (every
// periodic instance and prefill from the start; a decode step once its
// predecessor is placed); the tasks of the job are placed in topological
// order, each at the earliest idle gap of a queue of its device at or after
// its job's start and its inputs' arrival. A task of a later-placed job may
// fill a gap before the tasks of an earlier-placed one, so a job is
// preempted by more urgent ones at task boundaries only. Each cross-device
// edge gets its own transfer on the link (the target's link cost), as in
// lib/Partition. A job starts no earlier than its release and than the end
// of the previous instance of its model (they share the model's buffers).
//
// Policies:
//  back-to-back   jobs in release order (FIFO), a whole compiled plan at a
//                 time: start = max(release, end of the previous job), each
//                 task at its compiled offset on its compiled device.
//  edf            order by absolute deadline; compiled devices.
//  fixed-priority order by priority (larger first), then release; compiled
//                 devices.
//  utilization    each model on one device (all its tasks): models by
//                 decreasing demand, each on the device whose utilization
//                 (work in the horizon / queues / horizon) ends up lowest;
//                 then edf.
//  joint          edf order; a job is placed on its compiled devices when it
//                 then meets its deadline (and is not a prefill), else also
//                 with each task on the device where it finishes first (any
//                 device with a cost for it, transfers counted) and with all
//                 its tasks on each device that runs them all; the placement
//                 that ends first is kept.
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Scheduler.h"
#include "loom/Scenario/Percentile.h"

#include "loom/Runtime/GenerationRules.h"

#include "../Partition/Timeline.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <set>
#include <tuple>

using namespace loom::scenario;
using loom::partition::detail::Timeline;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = 1e-6;

//===----------------------------------------------------------------------===//
// Resources
//===----------------------------------------------------------------------===//

/// Queue and link timelines.
struct Resources {
  std::vector<int> queueBase; ///< per device, prefix sums of queues
  std::vector<Timeline> queues;
  std::vector<Timeline> links; ///< from × p + to
  int p = 0;

  explicit Resources(const Platform &platform) {
    p = int(platform.devices.size());
    queueBase.push_back(0);
    for (const auto &d : platform.devices)
      queueBase.push_back(queueBase.back() + std::max(1, d.queues));
    queues.resize(size_t(queueBase.back()));
    links.resize(size_t(p * p));
  }
};

struct Scheduler {
  const ScenarioProblem &P;
  Policy policy;
  Resources res;
  PolicyResult out;
  std::vector<double> lastEnd; ///< per graph: end of its last placed job

  Scheduler(const ScenarioProblem &P, Policy policy)
      : P(P), policy(policy), res(P.platform) {
    out.policy = policy;
    out.jobs.resize(P.jobs.size());
    lastEnd.assign(P.graphs.size(), 0);
  }

  double transferUs(int from, int to, uint64_t bytes) const {
    return from == to ? 0 : P.platform.transfer(from, to, bytes);
  }

  /// Places every task of job `j` from `start`. `device[v]` fixes a task's
  /// device, or -1: the device where it finishes first. Returns the end.
  double placeJob(int j, double start, const std::vector<int> &device,
                  std::vector<PlacedTransfer> &transfers) {
    const Job &job = P.jobs[size_t(j)];
    const ModelGraph &g = P.graphs[size_t(job.graph)];
    JobResult &r = out.jobs[size_t(j)];
    r.tasks.assign(g.tasks.size(), PlacedTask{});
    std::vector<std::vector<int>> in(g.tasks.size());
    for (size_t e = 0; e < g.edges.size(); ++e)
      in[size_t(g.edges[e].to)].push_back(int(e));
    double end = start;
    for (size_t v = 0; v < g.tasks.size(); ++v) {
      const GraphTask &t = g.tasks[v];
      int chosen = device[v];
      if (chosen < 0) {
        // Earliest finish over the capable devices (transfers estimated
        // independently); lowest device index among equals.
        double best = kInf;
        for (int d = 0; d < res.p; ++d) {
          if (!t.cost[size_t(d)])
            continue;
          double ready = start;
          for (int e : in[v]) {
            const GraphEdge &edge = g.edges[size_t(e)];
            const PlacedTask &u = r.tasks[size_t(edge.from)];
            if (u.device == d)
              ready = std::max(ready, u.end);
            else {
              double tr = transferUs(u.device, d, edge.bytes);
              double at = res.links[size_t(u.device * res.p + d)].earliestFit(
                  u.end, tr);
              ready = std::max(ready, at + tr);
            }
          }
          double c = *t.cost[size_t(d)];
          for (int q = res.queueBase[size_t(d)];
               q < res.queueBase[size_t(d) + 1]; ++q) {
            double s = res.queues[size_t(q)].earliestFit(ready, c);
            if (s + c < best - kEps) {
              best = s + c;
              chosen = d;
            }
          }
        }
      }
      // Commit: incoming transfers (earliest-ready producer first), then the
      // task on the queue of its device where it starts first.
      std::vector<int> edges = in[v];
      std::stable_sort(edges.begin(), edges.end(), [&](int a, int b) {
        return r.tasks[size_t(g.edges[size_t(a)].from)].end <
               r.tasks[size_t(g.edges[size_t(b)].from)].end;
      });
      double ready = start;
      for (int e : edges) {
        const GraphEdge &edge = g.edges[size_t(e)];
        const PlacedTask &u = r.tasks[size_t(edge.from)];
        if (u.device == chosen) {
          ready = std::max(ready, u.end);
          continue;
        }
        double tr = transferUs(u.device, chosen, edge.bytes);
        Timeline &link = res.links[size_t(u.device * res.p + chosen)];
        double at = link.earliestFit(u.end, tr);
        link.occupy(at, tr);
        transfers.push_back({j, e, u.device, chosen, at, at + tr});
        ready = std::max(ready, at + tr);
      }
      double c = *t.cost[size_t(chosen)];
      int bestQ = -1;
      double bestS = kInf;
      for (int q = res.queueBase[size_t(chosen)];
           q < res.queueBase[size_t(chosen) + 1]; ++q) {
        double s = res.queues[size_t(q)].earliestFit(ready, c);
        if (s < bestS - kEps) {
          bestS = s;
          bestQ = q;
        }
      }
      res.queues[size_t(bestQ)].occupy(bestS, c);
      r.tasks[v] = {chosen, bestQ - res.queueBase[size_t(chosen)], bestS,
                    bestS + c};
      end = std::max(end, bestS + c);
    }
    return end;
  }

  /// The policy's order of known jobs (smaller first).
  std::tuple<double, double, double, int, int> key(int j) const {
    const Job &job = P.jobs[size_t(j)];
    double release = out.jobs[size_t(j)].release;
    double deadline = job.deadlineAt(release);
    switch (policy) {
    case Policy::BackToBack:
      return {release, 0, 0, job.workload, job.instance};
    case Policy::FixedPriority:
      return {-double(job.priority), release, deadline, job.workload,
              job.instance};
    default:
      return {deadline, release, 0, job.workload, job.instance};
    }
  }

  /// Devices of the utilization policy: one per graph (-1: compiled).
  std::vector<int> utilizationAssignment() const {
    size_t n = P.graphs.size();
    int p = int(P.platform.devices.size());
    std::vector<int> count(n, 0);
    for (const Job &job : P.jobs)
      ++count[size_t(job.graph)];
    std::vector<std::vector<double>> demand(
        n, std::vector<double>(size_t(p), kInf));
    std::vector<double> minDemand(n, kInf);
    for (size_t g = 0; g < n; ++g)
      for (int d = 0; d < p; ++d) {
        double sum = 0;
        bool ok = true;
        for (const GraphTask &t : P.graphs[g].tasks) {
          if (!t.cost[size_t(d)]) {
            ok = false;
            break;
          }
          sum += *t.cost[size_t(d)];
        }
        if (ok) {
          demand[g][size_t(d)] = sum * count[g];
          minDemand[g] = std::min(minDemand[g], demand[g][size_t(d)]);
        }
      }
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      bool fa = std::isfinite(minDemand[size_t(a)]),
           fb = std::isfinite(minDemand[size_t(b)]);
      if (fa != fb)
        return fa;
      return minDemand[size_t(a)] > minDemand[size_t(b)];
    });
    std::vector<double> load(size_t(p), 0);
    std::vector<int> assign(n, -1);
    double horizon = std::max(P.horizonUs, 1.0);
    for (int g : order) {
      int best = -1;
      double bestU = kInf;
      for (int d = 0; d < p; ++d) {
        if (!std::isfinite(demand[size_t(g)][size_t(d)]))
          continue;
        double u =
            (load[size_t(d)] + demand[size_t(g)][size_t(d)]) /
            (std::max(1, P.platform.devices[size_t(d)].queues) * horizon);
        if (u < bestU - kEps) {
          bestU = u;
          best = d;
        }
      }
      assign[size_t(g)] = best;
      if (best >= 0)
        load[size_t(best)] += demand[size_t(g)][size_t(best)];
    }
    return assign;
  }

  PolicyResult run() {
    size_t nJobs = P.jobs.size();
    std::vector<std::vector<int>> next(nJobs); // chain successors
    using Key = std::tuple<double, double, double, int, int>;
    std::priority_queue<std::pair<Key, int>, std::vector<std::pair<Key, int>>,
                        std::greater<>>
        known;
    for (size_t j = 0; j < nJobs; ++j) {
      const Job &job = P.jobs[j];
      if (job.chainPrev >= 0)
        next[size_t(job.chainPrev)].push_back(int(j));
      else {
        out.jobs[j].release = job.release;
        known.push({key(int(j)), int(j)});
      }
    }
    std::vector<int> graphDevice;
    if (policy == Policy::Utilization) {
      graphDevice = utilizationAssignment();
      out.graphDevice = graphDevice;
    }
    double globalEnd = 0; // back-to-back: the end of the last job
    while (!known.empty()) {
      int j = known.top().second;
      known.pop();
      const Job &job = P.jobs[size_t(j)];
      const ModelGraph &g = P.graphs[size_t(job.graph)];
      JobResult &r = out.jobs[size_t(j)];
      r.deadline = job.deadlineAt(r.release);
      double start = std::max(r.release, lastEnd[size_t(job.graph)]);
      double end = start;
      if (policy == Policy::BackToBack) {
        start = std::max(start, globalEnd);
        r.tasks.clear();
        for (const GraphTask &t : g.tasks)
          r.tasks.push_back(
              {t.device, t.queue, start + t.start, start + t.end});
        end = start + g.makespanUs;
        for (const PlacedTask &t : r.tasks)
          end = std::max(end, t.end);
        globalEnd = end;
      } else {
        std::vector<int> compiled(g.tasks.size());
        for (size_t v = 0; v < g.tasks.size(); ++v)
          compiled[v] = g.tasks[v].device;
        if (policy == Policy::Utilization) {
          int d = graphDevice[size_t(job.graph)];
          if (d >= 0)
            std::fill(compiled.begin(), compiled.end(), d);
        }
        if (policy != Policy::Joint) {
          end = placeJob(j, start, compiled, out.transfers);
        } else {
          // Compiled devices first; when the job then misses (or is a
          // prefill, whose end is the LLM's time to first token), try moving
          // its tasks: each to the device where it finishes first, or all
          // to one device; keep the placement that ends first.
          Resources saved = res;
          std::vector<PlacedTransfer> bestTr;
          end = placeJob(j, start, compiled, bestTr);
          bool keepA =
              end <= r.deadline + kEps && job.role != Job::Role::Prefill;
          if (!keepA) {
            std::vector<std::vector<int>> variants;
            variants.push_back(std::vector<int>(g.tasks.size(), -1));
            for (int d = 0; d < res.p; ++d) {
              bool all = !g.tasks.empty();
              for (const GraphTask &t : g.tasks)
                all &= t.cost[size_t(d)].has_value();
              if (all)
                variants.push_back(std::vector<int>(g.tasks.size(), d));
            }
            Resources bestRes = std::move(res);
            std::vector<PlacedTask> bestTasks = r.tasks;
            bool moved = false;
            for (const std::vector<int> &devices : variants) {
              res = saved;
              std::vector<PlacedTransfer> tr;
              double e = placeJob(j, start, devices, tr);
              if (e < end - kEps) {
                end = e;
                bestRes = std::move(res);
                bestTasks = r.tasks;
                bestTr = std::move(tr);
                moved = true;
              }
            }
            res = std::move(bestRes);
            r.tasks = std::move(bestTasks);
            if (moved)
              for (size_t v = 0; v < g.tasks.size(); ++v)
                out.movedTasks += r.tasks[v].device != g.tasks[v].device;
          }
          out.transfers.insert(out.transfers.end(), bestTr.begin(),
                               bestTr.end());
        }
      }
      // The job starts with its first task (a later-placed job's tasks may
      // wait for gaps after its release).
      r.start = r.tasks.empty() ? start : r.tasks.front().start;
      for (const PlacedTask &t : r.tasks)
        r.start = std::min(r.start, t.start);
      r.end = end;
      lastEnd[size_t(job.graph)] = end;
      for (int s : next[size_t(j)]) {
        out.jobs[size_t(s)].release = end;
        known.push({key(s), s});
      }
    }
    // Numbers.
    for (size_t j = 0; j < nJobs; ++j) {
      JobResult &r = out.jobs[j];
      r.missed = r.end > r.deadline + kEps;
      out.misses += r.missed;
      out.totalLatenessUs += std::max(0.0, r.end - r.deadline);
      out.makespanUs = std::max(out.makespanUs, r.end);
      const Job &job = P.jobs[j];
      // TTFT: from the arrival (the release of the first prefill chunk) to
      // the end of the last.
      if (job.role == Job::Role::Prefill)
        out.worstTtftUs = std::max(
            out.worstTtftUs,
            r.end - P.workloads[size_t(job.workload)].atMs * 1000);
    }
    std::sort(out.transfers.begin(), out.transfers.end(),
              [](const PlacedTransfer &a, const PlacedTransfer &b) {
                return std::tie(a.job, a.edge) < std::tie(b.job, b.edge);
              });
    return std::move(out);
  }
};

int64_t gcd64(int64_t a, int64_t b) {
  while (b) {
    int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}


std::string fmtMs(double us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f ms", us / 1000);
  return buf;
}

} // namespace

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

const char *loom::scenario::policyName(Policy p) {
  switch (p) {
  case Policy::BackToBack:
    return "back-to-back";
  case Policy::EDF:
    return "edf";
  case Policy::FixedPriority:
    return "fixed-priority";
  case Policy::Utilization:
    return "utilization";
  case Policy::Joint:
    return "joint";
  }
  return "?";
}

std::optional<Policy> loom::scenario::parsePolicy(llvm::StringRef name) {
  for (Policy p : kAllPolicies)
    if (name == policyName(p))
      return p;
  return std::nullopt;
}

std::string loom::scenario::policyList() {
  std::string s;
  for (Policy p : kAllPolicies)
    s += (s.empty() ? "" : ", ") + std::string(policyName(p));
  return s;
}

const char *loom::scenario::roleName(Job::Role r) {
  switch (r) {
  case Job::Role::Periodic:
    return "periodic";
  case Job::Role::Prefill:
    return "prefill";
  case Job::Role::Decode:
    return "decode";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Problem
//===----------------------------------------------------------------------===//

llvm::Expected<ScenarioProblem>
loom::scenario::buildProblem(const ScenarioSpec &spec, Platform platform,
                             std::vector<ModelGraph> graphs) {
  ScenarioProblem P;
  P.platform = std::move(platform);
  P.graphs = std::move(graphs);
  P.workloads = spec.workloads;
  size_t next = 0;
  for (const Workload &w : spec.workloads) {
    size_t need =
        w.isGenerate() ? 2 * w.capacities.size() : w.isRequest() ? 2 : 1;
    if (next + need > P.graphs.size())
      return llvm::createStringError("scenario '" + spec.name +
                                     "': fewer compiled models than entries");
    std::vector<int> gs;
    for (size_t i = 0; i < need; ++i)
      gs.push_back(int(next++));
    P.workloadGraphs.push_back(gs);
  }
  // Hyperperiod over periods rounded to 1 µs; 0 when it overflows the cap.
  double cap = spec.maxHorizonMs * 1000;
  int64_t lcm = 0;
  bool overflow = false;
  for (const Workload &w : spec.workloads) {
    if (w.isRequest())
      continue;
    int64_t p = std::max<int64_t>(1, std::llround(w.periodMs * 1000));
    if (lcm == 0)
      lcm = p;
    else if (!overflow) {
      int64_t g = gcd64(lcm, p);
      if (lcm / g > int64_t(1e15) / p)
        overflow = true;
      else
        lcm = lcm / g * p;
    }
  }
  double H = overflow ? kInf : double(lcm);
  P.hyperperiodUs = overflow ? 0 : double(lcm);
  double span = 0;
  for (const Workload &w : spec.workloads)
    if (w.isRequest())
      span = std::max(
          span, (w.atMs + w.ttftMs + w.decodeTokens * w.perTokenMs) * 1000);
  double horizon;
  if (lcm == 0)
    horizon = span;
  else if (!std::isfinite(H))
    horizon = kInf;
  else
    horizon = span > H ? std::ceil(span / H - 1e-9) * H : H;
  if (horizon > cap) {
    horizon = cap;
    P.horizonCapped = true;
  }
  P.horizonUs = horizon;
  // Jobs.
  for (size_t wi = 0; wi < spec.workloads.size(); ++wi) {
    const Workload &w = spec.workloads[wi];
    if (!w.isRequest()) {
      double period = w.periodMs * 1000;
      for (int k = 0;; ++k) {
        double release = w.offsetMs * 1000 + k * period;
        if (release >= horizon - kEps && !(k == 0 && horizon == 0))
          break;
        Job job;
        job.workload = int(wi);
        job.graph = P.workloadGraphs[wi][0];
        job.instance = k;
        job.release = release;
        job.relDeadline = w.deadlineMs * 1000;
        job.priority = w.priority;
        P.jobs.push_back(job);
        if (P.jobs.size() > size_t(kMaxJobs))
          break;
      }
    } else if (!w.isGenerate()) {
      Job pre;
      pre.workload = int(wi);
      pre.graph = P.workloadGraphs[wi][0];
      pre.role = Job::Role::Prefill;
      pre.release = w.atMs * 1000;
      pre.relDeadline = w.ttftMs * 1000;
      pre.priority = w.priority;
      P.jobs.push_back(pre);
      int prev = int(P.jobs.size()) - 1;
      for (int k = 1; k <= w.decodeTokens; ++k) {
        Job d;
        d.workload = int(wi);
        d.graph = P.workloadGraphs[wi][1];
        d.role = Job::Role::Decode;
        d.instance = k;
        d.relDeadline = w.perTokenMs * 1000;
        d.priority = w.priority;
        d.chainPrev = prev;
        P.jobs.push_back(d);
        prev = int(P.jobs.size()) - 1;
      }
    } else {
      // The runs of loom::rt::Generator: the prompt chunk by chunk, then one
      // token per decode step, each on the smallest context that holds the
      // tokens so far, so the predicted cost grows with the KV length.
      // The context in use: as in the Generator, it only grows.
      size_t current = 0;
      auto graphFor = [&](int64_t need, int which, bool commit = false) {
        size_t c = std::max(
            current,
            std::min(contextFor(w.capacities, need), w.capacities.size() - 1));
        if (commit)
          current = c;
        return P.workloadGraphs[wi][2 * c + size_t(which)];
      };
      int prev = -1;
      const int64_t N = w.prefillChunk, prompt = w.prefillTokens;
      auto prefillJob = [&](int instance, int64_t position, int64_t tokens,
                            int graph) {
        Job c;
        c.workload = int(wi);
        c.role = Job::Role::Prefill;
        c.instance = instance;
        c.position = position;
        c.tokens = tokens;
        c.graph = graph;
        c.release = w.atMs * 1000;
        c.absDeadline = (w.atMs + w.ttftMs) * 1000;
        c.relDeadline = w.ttftMs * 1000;
        c.priority = w.priority;
        c.chainPrev = prev;
        P.jobs.push_back(c);
        prev = int(P.jobs.size()) - 1;
      };
      int instance = 0;
      for (int64_t at = 0; at < prompt && P.jobs.size() <= size_t(kMaxJobs);
           at += N) {
        const int64_t count = std::min(N, prompt - at);
        namespace gen = loom::rt::generation;
        const int chunk = graphFor(gen::capacityNeeded(at, N), 0),
                  step = graphFor(gen::capacityNeeded(at + count - 1, 1), 1);
        // As loom::rt::Generator::prefill: a short last chunk (or one no
        // context can hold as a prefill run) runs as decode steps.
        if (gen::chunkAsDecodeSteps(at, count, N, w.maxContext,
                                    P.graphs[size_t(step)].makespanUs,
                                    P.graphs[size_t(chunk)].makespanUs)) {
          for (int64_t i = 0; i < count; ++i)
            prefillJob(instance++, at + i, 1,
                       graphFor(gen::capacityNeeded(at + i, 1), 1, true));
          continue;
        }
        prefillJob(instance++, at, count,
                   graphFor(gen::capacityNeeded(at, N), 0, true));
      }
      for (int k = 1; k <= w.decodeTokens; ++k) {
        Job d;
        d.workload = int(wi);
        d.role = Job::Role::Decode;
        d.instance = k;
        d.position = prompt + k - 1;
        d.tokens = 1;
        d.graph = graphFor(loom::rt::generation::capacityNeeded(d.position, 1),
                           1, true);
        d.relDeadline = w.perTokenMs * 1000;
        d.priority = w.priority;
        d.chainPrev = prev;
        P.jobs.push_back(d);
        prev = int(P.jobs.size()) - 1;
      }
    }
    if (P.jobs.size() > size_t(kMaxJobs))
      return llvm::createStringError(
          spec.file + ": more than " + std::to_string(kMaxJobs) +
          " job instances in the horizon of " + fmtMs(horizon) +
          " (lower max_horizon_ms or use periods with a smaller LCM)");
  }
  return P;
}

//===----------------------------------------------------------------------===//
// Scheduling
//===----------------------------------------------------------------------===//

PolicyResult loom::scenario::schedule(const ScenarioProblem &problem,
                                      Policy policy) {
  return Scheduler(problem, policy).run();
}

std::vector<PolicyResult>
loom::scenario::scheduleAll(const ScenarioProblem &problem) {
  std::vector<PolicyResult> all;
  for (Policy p : kAllPolicies)
    all.push_back(schedule(problem, p));
  return all;
}

size_t loom::scenario::chooseBest(const std::vector<PolicyResult> &results) {
  size_t best = 0;
  for (size_t i = 1; i < results.size(); ++i) {
    const PolicyResult &a = results[i], &b = results[best];
    auto better = [](double x, double y) { return x < y - 1e-6; };
    auto same = [](double x, double y) { return std::fabs(x - y) <= 1e-6; };
    if (a.misses != b.misses) {
      if (a.misses < b.misses)
        best = i;
      continue;
    }
    if (!same(a.worstTtftUs, b.worstTtftUs)) {
      if (better(a.worstTtftUs, b.worstTtftUs))
        best = i;
      continue;
    }
    if (better(a.totalLatenessUs, b.totalLatenessUs))
      best = i;
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Verification
//===----------------------------------------------------------------------===//

std::string loom::scenario::verifySchedule(const ScenarioProblem &P,
                                           const PolicyResult &R) {
  auto jobName = [&](size_t j) {
    const Job &job = P.jobs[j];
    return "job " + std::to_string(j) + " (" +
           P.workloads[size_t(job.workload)].name + " " + roleName(job.role) +
           " #" + std::to_string(job.instance) + ")";
  };
  if (R.jobs.size() != P.jobs.size())
    return "one result per job expected";
  std::vector<std::vector<size_t>> byGraph(P.graphs.size());
  for (size_t j = 0; j < P.jobs.size(); ++j) {
    const Job &job = P.jobs[j];
    const JobResult &r = R.jobs[j];
    const ModelGraph &g = P.graphs[size_t(job.graph)];
    if (r.tasks.size() != g.tasks.size())
      return jobName(j) + ": one placement per task expected";
    if (job.chainPrev >= 0 &&
        std::fabs(r.release - R.jobs[size_t(job.chainPrev)].end) > kEps)
      return jobName(j) + ": not released at its predecessor's end";
    if (job.chainPrev < 0 && std::fabs(r.release - job.release) > kEps)
      return jobName(j) + ": release differs from the scenario's";
    if (r.start < r.release - kEps)
      return jobName(j) + ": starts before its release";
    for (const PlacedTask &t : r.tasks)
      if (t.start < r.start - kEps || t.end > r.end + kEps)
        return jobName(j) + ": a task lies outside the job";
    if (std::fabs(r.deadline - job.deadlineAt(r.release)) > kEps ||
        r.missed != (r.end > r.deadline + kEps))
      return jobName(j) + ": deadline or missed flag wrong";
    byGraph[size_t(job.graph)].push_back(j);
  }
  for (auto &list : byGraph) {
    std::sort(list.begin(), list.end(), [&](size_t a, size_t b) {
      return R.jobs[a].start < R.jobs[b].start;
    });
    for (size_t i = 1; i < list.size(); ++i)
      if (R.jobs[list[i]].start < R.jobs[list[i - 1]].end - kEps)
        return jobName(list[i]) + ": overlaps " + jobName(list[i - 1]) +
               " of the same model";
  }
  if (R.policy == Policy::BackToBack) {
    std::vector<size_t> order(P.jobs.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return R.jobs[a].start < R.jobs[b].start;
    });
    for (size_t i = 1; i < order.size(); ++i)
      if (R.jobs[order[i]].start < R.jobs[order[i - 1]].end - kEps)
        return jobName(order[i]) + ": overlaps " + jobName(order[i - 1]) +
               " (back-to-back runs one job at a time)";
    return "";
  }
  // The union problem: every job's tasks and edges, checked by the
  // partition library's verifier.
  partition::Problem U;
  U.devices = P.platform.devices;
  U.transfer = P.platform.transfer;
  partition::Schedule S;
  std::vector<size_t> base(P.jobs.size());
  std::vector<std::vector<size_t>> edgeBase(P.jobs.size());
  for (size_t j = 0; j < P.jobs.size(); ++j) {
    const ModelGraph &g = P.graphs[size_t(P.jobs[j].graph)];
    base[j] = U.tasks.size();
    for (size_t v = 0; v < g.tasks.size(); ++v) {
      partition::Task t;
      t.name = g.tasks[v].name;
      t.cost = g.tasks[v].cost;
      U.tasks.push_back(t);
      const PlacedTask &pt = R.jobs[j].tasks[v];
      S.tasks.push_back({pt.device, pt.queue, pt.start, pt.end});
      S.makespan = std::max(S.makespan, pt.end);
    }
  }
  std::vector<std::vector<int>> edgeIndex(P.jobs.size());
  for (size_t j = 0; j < P.jobs.size(); ++j) {
    const ModelGraph &g = P.graphs[size_t(P.jobs[j].graph)];
    for (const GraphEdge &e : g.edges) {
      edgeIndex[j].push_back(int(U.edges.size()));
      U.edges.push_back({int(base[j]) + e.from, int(base[j]) + e.to, e.bytes});
    }
  }
  for (const PlacedTransfer &t : R.transfers)
    S.transfers.push_back({edgeIndex[size_t(t.job)][size_t(t.edge)],
                           t.fromDevice, t.toDevice, t.start, t.end});
  std::sort(S.transfers.begin(), S.transfers.end(),
            [](const auto &a, const auto &b) { return a.edge < b.edge; });
  if (std::string e = U.check(); !e.empty())
    return "union problem: " + e;
  return partition::verify(U, S);
}

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

double loom::scenario::criticalPathUs(const ModelGraph &g) {
  std::vector<double> finish(g.tasks.size(), 0);
  std::vector<std::vector<int>> in(g.tasks.size());
  for (const GraphEdge &e : g.edges)
    in[size_t(e.to)].push_back(e.from);
  double cp = 0;
  for (size_t v = 0; v < g.tasks.size(); ++v) {
    double ready = 0;
    for (int u : in[v])
      ready = std::max(ready, finish[size_t(u)]);
    double c = kInf;
    for (const auto &x : g.tasks[v].cost)
      if (x)
        c = std::min(c, *x);
    finish[v] = ready + (std::isfinite(c) ? c : 0);
    cp = std::max(cp, finish[v]);
  }
  return cp;
}

std::vector<std::string>
loom::scenario::analyzeFeasibility(const ScenarioProblem &P) {
  std::vector<std::string> reasons;
  auto cpMsg = [&](const std::string &who, const std::string &what,
                   double deadlineUs, const ModelGraph &g) {
    double cp = criticalPathUs(g);
    if (deadlineUs < cp - kEps)
      reasons.push_back("model '" + who + "': " + what + " " +
                        fmtMs(deadlineUs) +
                        " is below its best critical path " + fmtMs(cp) +
                        " (every task on its fastest device, no contention; "
                        "compiled plan: " +
                        fmtMs(g.makespanUs) + ")");
  };
  for (size_t w = 0; w < P.workloads.size(); ++w) {
    const Workload &wl = P.workloads[w];
    const auto &gs = P.workloadGraphs[w];
    if (!wl.isRequest())
      cpMsg(wl.name, "deadline", wl.deadlineMs * 1000, P.graphs[size_t(gs[0])]);
    else if (wl.isGenerate()) {
      // The prefill chunks run one after the other: their critical paths
      // add up against the TTFT target; every decode step must fit the
      // per-token target on its own (the slowest is the largest context's).
      double chain = 0, slowest = 0;
      const ModelGraph *slowGraph = nullptr;
      for (const Job &job : P.jobs) {
        if (size_t(job.workload) != w)
          continue;
        double cp = criticalPathUs(P.graphs[size_t(job.graph)]);
        if (job.role == Job::Role::Prefill)
          chain += cp;
        else if (cp > slowest) {
          slowest = cp;
          slowGraph = &P.graphs[size_t(job.graph)];
        }
      }
      if (wl.ttftMs * 1000 < chain - kEps)
        reasons.push_back("model '" + wl.name + "': TTFT target " +
                          fmtMs(wl.ttftMs * 1000) +
                          " is below the best critical path of its " +
                          std::to_string(wl.prefillChunks()) +
                          " prefill chunk(s) " + fmtMs(chain) +
                          " (every task on its fastest device, no "
                          "contention)");
      if (slowGraph)
        cpMsg(wl.name, "per-token target", wl.perTokenMs * 1000, *slowGraph);
    } else {
      cpMsg(wl.name, "TTFT target", wl.ttftMs * 1000, P.graphs[size_t(gs[0])]);
      if (wl.decodeTokens > 0)
        cpMsg(wl.name, "per-token target", wl.perTokenMs * 1000,
              P.graphs[size_t(gs[1])]);
    }
  }
  // Utilization: for a set S of devices, the tasks that can run only on
  // devices of S must fit in S's queues over the horizon. S: the devices
  // that can run some task of each model, each single device, and all.
  int p = int(P.platform.devices.size());
  if (P.horizonUs <= 0 || p > 30)
    return reasons;
  std::vector<uint32_t> sets;
  auto capMask = [&](const GraphTask &t) {
    uint32_t m = 0;
    for (int d = 0; d < p; ++d)
      if (t.cost[size_t(d)])
        m |= 1u << d;
    return m;
  };
  for (const ModelGraph &g : P.graphs) {
    uint32_t m = 0;
    for (const GraphTask &t : g.tasks)
      m |= capMask(t);
    if (m)
      sets.push_back(m);
  }
  for (int d = 0; d < p; ++d)
    sets.push_back(1u << d);
  sets.push_back(p >= 32 ? ~0u : (1u << p) - 1);
  std::sort(sets.begin(), sets.end());
  sets.erase(std::unique(sets.begin(), sets.end()), sets.end());
  // Work per job of each graph restricted to a set, computed per set.
  std::vector<int> jobsOf(P.graphs.size(), 0);
  for (const Job &job : P.jobs)
    ++jobsOf[size_t(job.graph)];
  for (uint32_t S : sets) {
    double work = 0;
    std::vector<std::pair<double, size_t>> per; // (work, workload)
    std::vector<double> perWorkload(P.workloads.size(), 0);
    for (size_t gi = 0; gi < P.graphs.size(); ++gi) {
      double w = 0;
      for (const GraphTask &t : P.graphs[gi].tasks) {
        uint32_t m = capMask(t);
        if (m && (m & ~S) == 0) {
          double c = kInf;
          for (int d = 0; d < p; ++d)
            if (t.cost[size_t(d)])
              c = std::min(c, *t.cost[size_t(d)]);
          w += c;
        }
      }
      w *= jobsOf[gi];
      work += w;
      for (size_t wl = 0; wl < P.workloads.size(); ++wl)
        for (int g : P.workloadGraphs[wl])
          if (size_t(g) == gi)
            perWorkload[wl] += w;
    }
    int queues = 0;
    std::string names;
    for (int d = 0; d < p; ++d)
      if (S & (1u << d)) {
        queues += std::max(1, P.platform.devices[size_t(d)].queues);
        names +=
            (names.empty() ? "" : ", ") + P.platform.devices[size_t(d)].name;
      }
    double capacity = queues * P.horizonUs;
    if (work > capacity * (1 + 1e-9)) {
      char u[32];
      std::snprintf(u, sizeof u, "%.0f%%", 100 * work / capacity);
      std::string who;
      for (size_t wl = 0; wl < P.workloads.size(); ++wl)
        if (perWorkload[wl] > 0) {
          char pct[32];
          std::snprintf(pct, sizeof pct, "%.0f%%",
                        100 * perWorkload[wl] / capacity);
          who += (who.empty() ? "" : ", ") + std::string("'") +
                 P.workloads[wl].name + "' " + fmtMs(perWorkload[wl]) + " (" +
                 pct + ")";
        }
      reasons.push_back("devices {" + names + "} (" + std::to_string(queues) +
                        " queue(s)): utilization " + u + " > 100% over the " +
                        fmtMs(P.horizonUs) +
                        " horizon: the work only they can run, at its fastest "
                        "device, is " +
                        fmtMs(work) + ": " + who);
    }
  }
  return reasons;
}

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

std::vector<WorkloadStats>
loom::scenario::workloadStats(const ScenarioProblem &P, const PolicyResult &R) {
  std::vector<WorkloadStats> stats(P.workloads.size());
  std::vector<std::vector<double>> lat(P.workloads.size());
  std::vector<double> prefillEnd(P.workloads.size(), 0),
      lastDecodeEnd(P.workloads.size(), 0);
  for (size_t j = 0; j < P.jobs.size(); ++j) {
    const Job &job = P.jobs[j];
    const JobResult &r = R.jobs[j];
    WorkloadStats &s = stats[size_t(job.workload)];
    ++s.jobs;
    s.misses += r.missed;
    if (job.role == Job::Role::Prefill) {
      // The end of the last prefill chunk, from the arrival.
      prefillEnd[size_t(job.workload)] =
          std::max(prefillEnd[size_t(job.workload)], r.end);
      s.ttftUs = prefillEnd[size_t(job.workload)] -
                 P.workloads[size_t(job.workload)].atMs * 1000;
      continue;
    }
    lat[size_t(job.workload)].push_back(r.end - r.release);
    if (job.role == Job::Role::Decode)
      lastDecodeEnd[size_t(job.workload)] =
          std::max(lastDecodeEnd[size_t(job.workload)], r.end);
  }
  for (size_t w = 0; w < stats.size(); ++w) {
    WorkloadStats &s = stats[w];
    const auto &v = lat[w];
    if (!v.empty()) {
      s.minUs = *std::min_element(v.begin(), v.end());
      s.maxUs = *std::max_element(v.begin(), v.end());
      s.medianUs = percentile(v, 0.5);
      s.p95Us = percentile(v, 0.95);
    }
    const Workload &wl = P.workloads[w];
    if (wl.isRequest() && wl.decodeTokens > 0 &&
        lastDecodeEnd[w] > prefillEnd[w])
      s.tokensPerS =
          wl.decodeTokens / ((lastDecodeEnd[w] - prefillEnd[w]) / 1e6);
  }
  return stats;
}
