//===- Scheduler.h - One static schedule for several models -----*- C++ -*-===//
//
// The scenario scheduler: job instances of several compiled models (each a
// DAG of tasks with a cost on every device, read from its plan.json) share
// the devices of one target. A schedule says which instance runs where and
// when over a horizon (the hyperperiod, or the span of an LLM request),
// with preemption only at task boundaries. Policies (docs/scenarios.md):
// back-to-back, edf, fixed-priority, utilization, joint; `best` picks the
// one with the fewest predicted deadline misses.
//
// Queues and links are the free-interval timelines of lib/Partition
// (insertion scheduling), and a finished schedule is checked with
// partition::verify() on the union of its jobs (plus the release, chain and
// one-instance-at-a-time rules checked here). Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCENARIO_SCHEDULER_H
#define LOOM_SCENARIO_SCHEDULER_H

#include "loom/Partition/Problem.h"
#include "loom/Scenario/Scenario.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::scenario {

/// One kernel task of a compiled model.
struct GraphTask {
  std::string name;
  int planId = 0;            ///< its id in the model's plan.json
  int device = 0, queue = 0; ///< the compiled placement
  double start = 0, end = 0; ///< the compiled schedule (µs from the run start)
  /// µs on every device of the platform; nullopt where it cannot run.
  std::vector<std::optional<double>> cost;
};

/// Data from task `from` to task `to` (from < to), `bytes` moved when the
/// two run on different devices.
struct GraphEdge {
  int from = 0, to = 0;
  uint64_t bytes = 0;
};

/// A compiled model as the scheduler sees it.
struct ModelGraph {
  std::string name;             ///< "upscaler", "chat.prefill"
  std::vector<GraphTask> tasks; ///< topological (plan order)
  std::vector<GraphEdge> edges;
  double makespanUs = 0; ///< the compiled plan's predicted latency
};

/// The shared devices and the link costs.
struct Platform {
  std::vector<partition::Device> devices; ///< name, queues
  partition::TransferFn transfer; ///< µs to move bytes between two devices
  int deviceIndex(llvm::StringRef name) const;
};

/// Reads the kernel tasks of a plan.json (docs/plan-format.md): devices are
/// mapped to the platform's by name, data edges are found through buffers
/// (a transfer between two kernels becomes an edge with its bytes; graph
/// inputs are not edges).
llvm::Expected<ModelGraph> parseModelGraph(llvm::StringRef planJson,
                                           llvm::StringRef fileName,
                                           llvm::StringRef modelName,
                                           const Platform &platform);

enum class Policy { BackToBack, EDF, FixedPriority, Utilization, Joint };
constexpr Policy kAllPolicies[] = {Policy::BackToBack, Policy::EDF,
                                   Policy::FixedPriority, Policy::Utilization,
                                   Policy::Joint};
const char *policyName(Policy p);
std::optional<Policy> parsePolicy(llvm::StringRef name);
/// "back-to-back, edf, fixed-priority, utilization, joint".
std::string policyList();

/// One job instance: one run of a model's task DAG.
struct Job {
  int workload = 0; ///< index into ScenarioProblem::workloads
  int graph = 0;    ///< index into ScenarioProblem::graphs
  enum class Role { Periodic, Prefill, Decode } role = Role::Periodic;
  /// periodic: k; prefill: the chunk (0 unless a generate request's prompt
  /// runs in several); decode step k >= 1
  int instance = 0;
  double release = 0;     ///< µs; chained jobs: set when scheduled
  double relDeadline = 0; ///< µs after the release
  /// µs, when >= 0: the deadline regardless of the release (the prefill
  /// chunks of a generate request: arrival + TTFT target)
  double absDeadline = -1;
  int priority = 0;
  /// The job whose end releases this one (decode steps; prefill chunks
  /// after the first).
  int chainPrev = -1;
  /// generate requests: the first position and the tokens of this run
  /// (position -1 otherwise).
  int64_t position = -1, tokens = 0;

  /// The absolute deadline of this job when released at `release`.
  double deadlineAt(double release) const {
    return absDeadline >= 0 ? absDeadline : release + relDeadline;
  }
};
const char *roleName(Job::Role r);

struct ScenarioProblem {
  Platform platform;
  std::vector<ModelGraph> graphs;
  std::vector<Workload> workloads;
  /// Per workload: its graph (periodic), {prefill, decode} graphs, or for a
  /// generate request the prefill and the decode graph of each context
  /// (2i, 2i + 1 for the i-th capacity of Workload::capacities).
  std::vector<std::vector<int>> workloadGraphs;
  double hyperperiodUs = 0; ///< LCM of the periods (0: none, or too large)
  double horizonUs = 0;     ///< releases of periodic jobs lie in [0, horizon)
  bool horizonCapped = false;
  std::vector<Job> jobs;
};

/// Builds the jobs of `spec` over the horizon: the LCM of the periods
/// (rounded to 1 µs), at least the span of every request (arrival + TTFT +
/// tokens × per-token deadline, rounded up to whole hyperperiods), at most
/// spec.maxHorizonMs. `graphs` holds, per workload in order, its graph, its
/// prefill and decode graphs, or (generate) the prefill and decode graph of
/// each context, smallest capacity first. A generate request's prompt of P
/// tokens becomes ceil(P / N) prefill chunks in a chain, chunk i (position
/// i·N, count = min(N, P − i·N) tokens) on the prefill graph of the smallest
/// context with capacity >= position + count, each with the absolute
/// deadline arrival + TTFT; then decode step k (position P + k − 1) on the
/// decode graph of the smallest context with capacity >= position + 1.
/// Fails with more than kMaxJobs jobs.
llvm::Expected<ScenarioProblem> buildProblem(const ScenarioSpec &spec,
                                             Platform platform,
                                             std::vector<ModelGraph> graphs);

/// Where one task of a job ran.
struct PlacedTask {
  int device = 0, queue = 0;
  double start = 0, end = 0;
};
struct PlacedTransfer {
  int job = 0, edge = 0; ///< edge index in the job's graph
  int fromDevice = 0, toDevice = 0;
  double start = 0, end = 0;
};
struct JobResult {
  double release = 0, deadline = 0, start = 0, end = 0;
  bool missed = false;
  std::vector<PlacedTask> tasks;
};

/// One policy's schedule and its numbers.
struct PolicyResult {
  Policy policy = Policy::EDF;
  std::vector<JobResult> jobs; ///< by job index
  std::vector<PlacedTransfer> transfers;
  int misses = 0;
  double totalLatenessUs = 0; ///< sum of max(0, end - deadline)
  /// The largest time to first token over the requests (0 without one).
  double worstTtftUs = 0;
  double makespanUs = 0;
  /// utilization: the device of each graph's whole-model placement (-1:
  /// kept its compiled devices since no single device runs it all).
  std::vector<int> graphDevice;
  /// joint: tasks that ran away from their compiled device.
  int movedTasks = 0;
};

/// Schedules `problem` under `policy` (deterministic).
PolicyResult schedule(const ScenarioProblem &problem, Policy policy);

/// Every policy, in kAllPolicies order.
std::vector<PolicyResult> scheduleAll(const ScenarioProblem &problem);

/// The index of the best result: fewest misses, then the smallest worst
/// TTFT, then the smallest total lateness, then the first in order.
size_t chooseBest(const std::vector<PolicyResult> &results);

/// Checks a schedule: partition::verify() on the union of the jobs' tasks
/// (capability, durations, dependencies and transfers, queue and link
/// overlaps; not for back-to-back, which replays each compiled plan), and
/// for every policy: tasks within their job, no task before its job's
/// release, decode steps released at their predecessor's end, instances of
/// one model never overlapping, and the missed flags. "" when valid.
std::string verifySchedule(const ScenarioProblem &problem,
                           const PolicyResult &result);

/// The best latency of a graph: the longest path with every task on its
/// cheapest device, free transfers, no contention.
double criticalPathUs(const ModelGraph &graph);

/// Reasons the scenario cannot meet its deadlines on this platform:
/// utilization above 100% of the devices that can run some models' tasks,
/// or a deadline below a model's critical path. Empty when none is found
/// (necessary conditions only: a scenario that passes may still miss).
std::vector<std::string> analyzeFeasibility(const ScenarioProblem &problem);

/// Per-workload numbers of one policy (the report and scenario.json).
struct WorkloadStats {
  int jobs = 0, misses = 0;
  /// End - release of every job (periodic), or of every decode step.
  double minUs = 0, medianUs = 0, p95Us = 0, maxUs = 0;
  /// Requests: time to first token (end of the last prefill chunk -
  /// arrival), decode tokens per second (decode steps / (last decode end -
  /// prefill end)).
  double ttftUs = 0, tokensPerS = 0;
};
std::vector<WorkloadStats> workloadStats(const ScenarioProblem &problem,
                                         const PolicyResult &result);

} // namespace loom::scenario

#endif // LOOM_SCENARIO_SCHEDULER_H
