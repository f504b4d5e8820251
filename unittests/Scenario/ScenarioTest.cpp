//===- ScenarioTest.cpp - Scenario parsing, analysis and scheduling -------===//
//
// The YAML validation errors (one per rule family, each naming the file,
// line, entry and field), the feasibility analysis (utilization above 100%,
// a deadline below the critical path, feasible cases, requests), and the
// scheduler's policies on hand-made graphs whose outcomes are derived in
// the comments.
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Scenario.h"
#include "loom/Scenario/Scheduler.h"

#include "gtest/gtest.h"

using namespace loom::scenario;

namespace {

std::string parseError(const std::string &yaml) {
  auto spec = parseScenario(yaml, "dir/s.yaml", "", /*checkFiles=*/false);
  if (spec)
    return "";
  return llvm::toString(spec.takeError());
}

const char *const kValid = R"(name: demo
models_dir: zoo
models:
  - name: cam
    file: mobilenet/model.onnx
    input_shapes: [input=1x3x32x32]
    period_ms: 33
    deadline_ms: 20
    priority: 2
  - name: chat
    request:
      prefill: {file: llama_prefill/model.onnx, quantize: int8}
      decode: {file: llama_decode/model.onnx}
      prefill_tokens: 16
      decode_tokens: 4
      at_ms: 5
    ttft_ms: 50
    per_token_ms: 10
)";

TEST(ScenarioParse, Valid) {
  auto spec = parseScenario(kValid, "dir/s.yaml", "", false);
  ASSERT_TRUE(bool(spec)) << llvm::toString(spec.takeError());
  EXPECT_EQ(spec->name, "demo");
  EXPECT_EQ(spec->modelsDir, "dir/zoo");
  ASSERT_EQ(spec->workloads.size(), 2u);
  const Workload &cam = spec->workloads[0];
  EXPECT_FALSE(cam.isRequest());
  EXPECT_EQ(cam.model.path, "dir/zoo/mobilenet/model.onnx");
  EXPECT_EQ(cam.model.inputShapes, std::vector<std::string>{"input=1x3x32x32"});
  EXPECT_EQ(cam.periodMs, 33);
  EXPECT_EQ(cam.deadlineMs, 20);
  EXPECT_EQ(cam.priority, 2);
  const Workload &chat = spec->workloads[1];
  EXPECT_TRUE(chat.isRequest());
  EXPECT_EQ(chat.prefill.quantize, "int8");
  EXPECT_EQ(chat.decode.path, "dir/zoo/llama_decode/model.onnx");
  EXPECT_EQ(chat.prefillTokens, 16);
  EXPECT_EQ(chat.decodeTokens, 4);
  EXPECT_EQ(chat.atMs, 5);
  EXPECT_EQ(chat.ttftMs, 50);
  EXPECT_EQ(chat.perTokenMs, 10);
}

TEST(ScenarioParse, DeadlineDefaultsToPeriodAndOverride) {
  auto spec = parseScenario("name: x\nmodels:\n  - {name: a, file: a.onnx, "
                            "period_ms: 10}\n",
                            "s.yaml", "/elsewhere", false);
  ASSERT_TRUE(bool(spec)) << llvm::toString(spec.takeError());
  EXPECT_EQ(spec->workloads[0].deadlineMs, 10);
  EXPECT_EQ(spec->workloads[0].model.path, "/elsewhere/a.onnx");
}

TEST(ScenarioParse, Errors) {
  // Each error names the file, line:column, the entry and the field.
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: a\n    file: a.onnx\n"),
            "dir/s.yaml:3:5: models[0] (a).period_ms: missing required key");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: a\n    file: a.onnx\n"
                       "    period_ms: -3\n"),
            "dir/s.yaml:5:16: models[0] (a).period_ms: expected a positive "
            "number");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: a\n    file: a.onnx\n"
                       "    period_ms: 3\n    perod: 1\n"),
            "dir/s.yaml:6:5: models[0] (a).perod: unknown key (known: name, "
            "file, input_shapes, quantize, period_ms, deadline_ms, offset_ms, "
            "priority)");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: a\n    period_ms: 3\n"),
            "dir/s.yaml:3:5: models[0] (a): missing 'file' (a periodic "
            "model) or 'request' (an LLM request: prefill and decode "
            "models)");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - {name: a, file: a.onnx, "
                       "period_ms: 3}\n  - {name: a, file: b.onnx, "
                       "period_ms: 3}\n"),
            "dir/s.yaml:4:12: models[1] (a).name: duplicate model name 'a'");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - {name: 1a, file: a.onnx, "
                       "period_ms: 3}\n"),
            "dir/s.yaml:3:12: models[0].name: expected a name of letters, "
            "digits, '_' and '-' starting with a letter or '_'");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - {name: a, file: a.onnx, "
                       "period_ms: 3, input_shapes: [x=1xy]}\n"),
            "dir/s.yaml:3:58: models[0] (a).input_shapes[0]: expected "
            "NAME=D0xD1x... (e.g. x=1x3x64x64)");
  EXPECT_EQ(parseError("name: x\nmodels: []\n"),
            "dir/s.yaml:2:10: models: expected a non-empty list of models");
  EXPECT_EQ(parseError("models:\n  - {name: a, file: a.onnx, period_ms: 3}\n"),
            "dir/s.yaml:1:1: name: missing required key");
  // Requests.
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: c\n    request:\n"
                       "      prefill: {file: p.onnx}\n      decode_tokens: 4\n"
                       "      prefill_tokens: 8\n    ttft_ms: 5\n"
                       "    per_token_ms: 1\n"),
            "dir/s.yaml:5:7: models[0] (c).request.decode: missing required "
            "key");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: c\n    request:\n"
                       "      prefill: {file: p.onnx}\n      decode: {file: "
                       "d.onnx}\n      decode_tokens: 4\n      "
                       "prefill_tokens: 8\n    ttft_ms: 5\n"),
            "dir/s.yaml:3:5: models[0] (c).per_token_ms: missing required "
            "key");
  EXPECT_EQ(
      parseError("name: x\nmodels:\n  - name: c\n    request:\n"
                 "      prefill: {file: p.onnx}\n      decode: {file: "
                 "d.onnx}\n      decode_tokens: -1\n      "
                 "prefill_tokens: 8\n    ttft_ms: 5\n    per_token_ms: 1\n"),
      "dir/s.yaml:7:22: models[0] (c).request.decode_tokens: expected "
      "an integer in [0, 4096]");
  EXPECT_EQ(parseError("name: x\nmodels:\n  - name: c\n    file: a.onnx\n"
                       "    request: {}\n"),
            "dir/s.yaml:4:11: models[0] (c).file: an entry has either 'file' "
            "(a periodic model) or 'request' (an LLM request), not both");
  // YAML syntax errors come from the parser, with the position.
  EXPECT_EQ(parseError("name: [x\n"),
            "dir/s.yaml:1:9: Could not find closing ]!");
}

TEST(ScenarioParse, MissingModelFile) {
  auto spec = parseScenario("name: x\nmodels_dir: /nonexistent\nmodels:\n"
                            "  - {name: a, file: a.onnx, period_ms: 3}\n",
                            "s.yaml");
  ASSERT_FALSE(bool(spec));
  EXPECT_EQ(llvm::toString(spec.takeError()),
            "s.yaml:4:21: models[0] (a).file: no such model file "
            "'/nonexistent/a.onnx' (models_dir is '/nonexistent'; see "
            "docs/scenarios.md to generate the zoo)");
}

//===----------------------------------------------------------------------===//
// Hand-made platforms and graphs
//===----------------------------------------------------------------------===//

/// cpu and gpu, one queue each; transfers cost `transferUs` whatever the
/// size.
Platform twoDevices(double transferUs = 0) {
  Platform p;
  p.devices = {{"cpu", 1, std::nullopt}, {"gpu", 1, std::nullopt}};
  p.transfer = [transferUs](int, int, uint64_t) { return transferUs; };
  return p;
}

/// A chain of tasks with the given (cpu, gpu) costs (< 0: cannot run),
/// compiled on `device`, back to back from 0.
ModelGraph chain(const std::string &name,
                 std::vector<std::pair<double, double>> costs, int device) {
  ModelGraph g;
  g.name = name;
  double t = 0;
  for (size_t i = 0; i < costs.size(); ++i) {
    GraphTask task;
    task.name = name + "_" + std::to_string(i);
    task.planId = int(i);
    task.device = device;
    task.cost = {costs[i].first < 0 ? std::nullopt
                                    : std::optional<double>(costs[i].first),
                 costs[i].second < 0 ? std::nullopt
                                     : std::optional<double>(costs[i].second)};
    task.start = t;
    t += *task.cost[size_t(device)];
    task.end = t;
    g.tasks.push_back(task);
    if (i)
      g.edges.push_back({int(i) - 1, int(i), 64});
  }
  g.makespanUs = t;
  return g;
}

Workload periodic(const std::string &name, double periodMs, double deadlineMs,
                  int priority = 0) {
  Workload w;
  w.name = name;
  w.periodMs = periodMs;
  w.deadlineMs = deadlineMs;
  w.priority = priority;
  return w;
}

ScenarioProblem problem(std::vector<Workload> workloads,
                        std::vector<ModelGraph> graphs, Platform platform,
                        double maxHorizonMs = 1000) {
  ScenarioSpec spec;
  spec.name = "t";
  spec.file = "t.yaml";
  spec.maxHorizonMs = maxHorizonMs;
  spec.workloads = std::move(workloads);
  auto p = buildProblem(spec, std::move(platform), std::move(graphs));
  EXPECT_TRUE(bool(p));
  return std::move(*p);
}

bool contains(const std::vector<std::string> &v, const std::string &s) {
  for (const std::string &x : v)
    if (x.find(s) != std::string::npos)
      return true;
  return false;
}

//===----------------------------------------------------------------------===//
// Horizon and jobs
//===----------------------------------------------------------------------===//

TEST(ScenarioProblem, HyperperiodAndJobs) {
  // Periods 4 and 6 ms: LCM 12 ms, so 3 + 2 jobs.
  ScenarioProblem P = problem(
      {periodic("a", 4, 4), periodic("b", 6, 6)},
      {chain("a", {{1000, -1}}, 0), chain("b", {{1000, -1}}, 0)}, twoDevices());
  EXPECT_EQ(P.hyperperiodUs, 12000);
  EXPECT_EQ(P.horizonUs, 12000);
  EXPECT_FALSE(P.horizonCapped);
  EXPECT_EQ(P.jobs.size(), 5u);
  // Capped at 5 ms: jobs released at 0, 4 (a) and 0 (b).
  ScenarioProblem Q =
      problem({periodic("a", 4, 4), periodic("b", 6, 6)},
              {chain("a", {{1000, -1}}, 0), chain("b", {{1000, -1}}, 0)},
              twoDevices(), 5);
  EXPECT_TRUE(Q.horizonCapped);
  EXPECT_EQ(Q.horizonUs, 5000);
  EXPECT_EQ(Q.jobs.size(), 3u);
}

TEST(ScenarioProblem, RequestHorizonAndChain) {
  // A request at 1 ms with a 3 ms TTFT and 2 tokens of 2 ms: span 8 ms,
  // rounded up to whole 5 ms hyperperiods: 10 ms, so 2 periodic jobs.
  Workload r;
  r.kind = Workload::Kind::Request;
  r.name = "llm";
  r.atMs = 1;
  r.ttftMs = 3;
  r.perTokenMs = 2;
  r.prefillTokens = 8;
  r.decodeTokens = 2;
  ScenarioProblem P =
      problem({periodic("a", 5, 5), r},
              {chain("a", {{1000, -1}}, 0), chain("pre", {{2000, -1}}, 0),
               chain("dec", {{500, -1}}, 0)},
              twoDevices());
  EXPECT_EQ(P.horizonUs, 10000);
  ASSERT_EQ(P.jobs.size(), 5u); // a#0, a#1, prefill, 2 decode steps
  EXPECT_EQ(P.jobs[2].role, Job::Role::Prefill);
  EXPECT_EQ(P.jobs[3].chainPrev, 2);
  EXPECT_EQ(P.jobs[4].chainPrev, 3);
  // EDF on the cpu: a#0 [0,1]; prefill released 1, deadline 4: [1,3];
  // token 1 released 3, deadline 5: [3,3.5]; token 2 [3.5,4]; a#1 [5,6].
  PolicyResult R = schedule(P, Policy::EDF);
  EXPECT_EQ(verifySchedule(P, R), "");
  EXPECT_EQ(R.misses, 0);
  EXPECT_DOUBLE_EQ(R.jobs[2].end, 3000);
  EXPECT_DOUBLE_EQ(R.jobs[3].release, 3000);
  EXPECT_DOUBLE_EQ(R.jobs[4].end, 4000);
  EXPECT_DOUBLE_EQ(R.worstTtftUs, 2000);
  std::vector<WorkloadStats> s = workloadStats(P, R);
  EXPECT_DOUBLE_EQ(s[1].ttftUs, 2000);
  // 2 tokens in 1 ms after the prefill.
  EXPECT_DOUBLE_EQ(s[1].tokensPerS, 2000);
}

TEST(ScenarioProblem, ContextCapacities) {
  // loomc --generate's default: the prefill chunk doubled below the context.
  EXPECT_EQ(contextCapacities(16, 4, {}), (std::vector<int64_t>{4, 8, 16}));
  EXPECT_EQ(contextCapacities(8, 128, {}), (std::vector<int64_t>{8}));
  EXPECT_EQ(contextCapacities(64, 8, {32, 16, 64}),
            (std::vector<int64_t>{16, 32, 64}));
  std::vector<int64_t> caps{4, 8, 16};
  EXPECT_EQ(contextFor(caps, 1), 0u);
  EXPECT_EQ(contextFor(caps, 4), 0u);
  EXPECT_EQ(contextFor(caps, 5), 1u);
  EXPECT_EQ(contextFor(caps, 16), 2u);
}

TEST(ScenarioProblem, GenerateRequestChunksAndContexts) {
  // A generate request at 1 ms: a prompt of 5 tokens in chunks of 4 over
  // contexts of 4, 8 and 16 positions, then 7 decode steps. Chunk 0
  // (positions 0-3) needs 4 positions: context 4; the last token (position
  // 4) needs 5: context 8, where one decode step (80 µs) is predicted
  // cheaper than a chunk (800 µs), so it runs as one, as the Generator
  // does. Steps at positions 5, 6, 7 need 6-8: context 8; positions 8-11
  // need 9-12: context 16.
  Workload r;
  r.kind = Workload::Kind::Request;
  r.generate = true;
  r.name = "llm";
  r.atMs = 1;
  r.ttftMs = 10;
  r.perTokenMs = 2;
  r.prefillTokens = 5;
  r.decodeTokens = 7;
  r.maxContext = 16;
  r.prefillChunk = 4;
  r.capacities = contextCapacities(16, 4, {});
  // Per context: its prefill (capacity x 100 µs) and decode (x 10 µs) graph.
  std::vector<ModelGraph> graphs;
  for (double c : {4, 8, 16}) {
    graphs.push_back(chain("pre", {{c * 100, -1}}, 0));
    graphs.push_back(chain("dec", {{c * 10, -1}}, 0));
  }
  ScenarioProblem P = problem({r}, graphs, twoDevices());
  ASSERT_EQ(P.jobs.size(), 9u);
  EXPECT_EQ(P.workloadGraphs[0].size(), 6u);
  std::vector<int> graph, prev;
  std::vector<int64_t> position;
  for (const Job &j : P.jobs) {
    graph.push_back(j.graph);
    prev.push_back(j.chainPrev);
    position.push_back(j.position);
  }
  EXPECT_EQ(graph, (std::vector<int>{0, 3, 3, 3, 3, 5, 5, 5, 5}));
  EXPECT_EQ(prev, (std::vector<int>{-1, 0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(position, (std::vector<int64_t>{0, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(P.jobs[0].tokens, 4);
  EXPECT_EQ(P.jobs[1].tokens, 1);
  EXPECT_EQ(P.jobs[1].role, Job::Role::Prefill);
  EXPECT_EQ(P.jobs[1].instance, 1);
  // EDF on the cpu: chunk 0 [1, 1.4] ms, the last prompt token's step
  // [1.4, 1.48]; both due at the arrival + TTFT (11 ms), whatever their
  // release; then 3 steps of 80 µs and 4 of 160 µs: the last ends at
  // 2.36 ms.
  PolicyResult R = schedule(P, Policy::EDF);
  EXPECT_EQ(verifySchedule(P, R), "");
  EXPECT_EQ(R.misses, 0);
  EXPECT_DOUBLE_EQ(R.jobs[1].release, 1400);
  EXPECT_DOUBLE_EQ(R.jobs[1].deadline, 11000);
  EXPECT_DOUBLE_EQ(R.jobs[8].end, 2360);
  // TTFT: from the arrival to the end of the prompt's last job.
  EXPECT_DOUBLE_EQ(R.worstTtftUs, 480);
  std::vector<WorkloadStats> s = workloadStats(P, R);
  EXPECT_DOUBLE_EQ(s[0].ttftUs, 480);
  EXPECT_NEAR(s[0].tokensPerS, 7 / 880e-6, 1e-6);
  // A TTFT target below the prompt jobs' summed critical paths (0.48 ms).
  P.workloads[0].ttftMs = 0.4;
  EXPECT_TRUE(contains(analyzeFeasibility(P), "prefill chunk(s) 0.480 ms"));
}

TEST(ScenarioProblem, ShortLastChunkRunsAsStepsOnlyWhenCheaper) {
  // Chunks of 4 over contexts of 4, 8 and 16; a chunk costs capacity x 30
  // µs, a step capacity x 10 µs. A last chunk of one token at context 8:
  // one step (80 µs) against a chunk (240 µs): a step. Of three tokens: 240
  // µs of steps is not below the chunk's 240 µs: a chunk.
  std::vector<ModelGraph> graphs;
  for (double c : {4, 8, 16}) {
    graphs.push_back(chain("pre", {{c * 30, -1}}, 0));
    graphs.push_back(chain("dec", {{c * 10, -1}}, 0));
  }
  for (auto [prompt, want] :
       {std::pair<int64_t, std::vector<int>>{5, {0, 3}}, {7, {0, 2}}}) {
    Workload r;
    r.kind = Workload::Kind::Request;
    r.generate = true;
    r.name = "llm";
    r.ttftMs = 10;
    r.perTokenMs = 2;
    r.prefillTokens = prompt;
    r.decodeTokens = 0;
    r.maxContext = 16;
    r.prefillChunk = 4;
    r.capacities = contextCapacities(16, 4, {});
    ScenarioProblem P = problem({r}, graphs, twoDevices());
    std::vector<int> graph;
    for (const Job &j : P.jobs)
      graph.push_back(j.graph);
    EXPECT_EQ(graph, want) << "prompt of " << prompt;
    EXPECT_EQ(P.jobs.back().tokens, prompt == 5 ? 1 : 3);
  }
}

//===----------------------------------------------------------------------===//
// Feasibility analysis
//===----------------------------------------------------------------------===//

TEST(ScenarioAnalysis, Feasible) {
  // cpu: 1 ms every 4 ms (25%), gpu: 2 ms every 4 ms (50%).
  ScenarioProblem P = problem(
      {periodic("a", 4, 4), periodic("b", 4, 4)},
      {chain("a", {{1000, -1}}, 0), chain("b", {{-1, 2000}}, 1)}, twoDevices());
  EXPECT_TRUE(analyzeFeasibility(P).empty());
}

TEST(ScenarioAnalysis, UtilizationAboveOne) {
  // Two cpu-only models of 3 ms every 5 ms: 6 ms of work per 5 ms on the
  // cpu's one queue (120%). The gpu cannot help.
  ScenarioProblem P = problem(
      {periodic("a", 5, 5), periodic("b", 5, 5)},
      {chain("a", {{3000, -1}}, 0), chain("b", {{3000, -1}}, 0)}, twoDevices());
  std::vector<std::string> r = analyzeFeasibility(P);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], "devices {cpu} (1 queue(s)): utilization 120% > 100% over "
                  "the 5.000 ms horizon: the work only they can run, at its "
                  "fastest device, is 6.000 ms: 'a' 3.000 ms (60%), 'b' "
                  "3.000 ms (60%)");
  // With a gpu that runs b as well, the pair has room (6 ms per 10 ms of
  // two queues): feasible.
  ScenarioProblem Q =
      problem({periodic("a", 5, 5), periodic("b", 5, 5)},
              {chain("a", {{3000, -1}}, 0), chain("b", {{3000, 3000}}, 0)},
              twoDevices());
  EXPECT_TRUE(analyzeFeasibility(Q).empty());
}

TEST(ScenarioAnalysis, UtilizationOfTheWholeSoc) {
  // Both devices run both models at 3 ms; 4 jobs of 3 ms per 5 ms on two
  // queues: 12 / 10 = 120% of the whole SoC.
  ScenarioProblem P =
      problem({periodic("a", 5, 5), periodic("b", 5, 5), periodic("c", 5, 5),
               periodic("d", 5, 5)},
              {chain("a", {{3000, 3000}}, 0), chain("b", {{3000, 3000}}, 0),
               chain("c", {{3000, 3000}}, 1), chain("d", {{3000, 3000}}, 1)},
              twoDevices());
  std::vector<std::string> r = analyzeFeasibility(P);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(contains(r, "devices {cpu, gpu} (2 queue(s)): utilization 120%"))
      << r[0];
}

TEST(ScenarioAnalysis, DeadlineBelowCriticalPath) {
  // Two tasks in a chain, each 1 ms at best (cpu 1, gpu 3 / cpu 2, gpu 1):
  // critical path 2 ms > the 1.5 ms deadline.
  ModelGraph g = chain("a", {{1000, 3000}, {2000, 1000}}, 0);
  EXPECT_DOUBLE_EQ(criticalPathUs(g), 2000);
  ScenarioProblem P = problem({periodic("a", 10, 1.5)}, {g}, twoDevices());
  std::vector<std::string> r = analyzeFeasibility(P);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], "model 'a': deadline 1.500 ms is below its best critical "
                  "path 2.000 ms (every task on its fastest device, no "
                  "contention; compiled plan: 3.000 ms)");
}

TEST(ScenarioAnalysis, Requests) {
  Workload r;
  r.kind = Workload::Kind::Request;
  r.name = "llm";
  r.ttftMs = 1;       // prefill needs 2 ms: below its critical path
  r.perTokenMs = 0.4; // a decode step needs 0.5 ms: below too
  r.prefillTokens = 8;
  r.decodeTokens = 4;
  ScenarioProblem P = problem(
      {r}, {chain("pre", {{2000, -1}}, 0), chain("dec", {{500, -1}}, 0)},
      twoDevices());
  std::vector<std::string> f = analyzeFeasibility(P);
  EXPECT_TRUE(contains(f, "model 'llm': TTFT target 1.000 ms is below its "
                          "best critical path 2.000 ms"));
  EXPECT_TRUE(contains(f, "model 'llm': per-token target 0.400 ms is below "
                          "its best critical path 0.500 ms"));
  // Horizon: 1 + 4 × 0.4 = 2.6 ms; work 2 + 4 × 0.5 = 4 ms on the cpu.
  EXPECT_TRUE(contains(f, "devices {cpu} (1 queue(s)): utilization 154%"));
  // Generous targets: feasible.
  r.ttftMs = 10;
  r.perTokenMs = 5;
  ScenarioProblem Q = problem(
      {r}, {chain("pre", {{2000, -1}}, 0), chain("dec", {{500, -1}}, 0)},
      twoDevices());
  EXPECT_TRUE(analyzeFeasibility(Q).empty());
}

//===----------------------------------------------------------------------===//
// Policies
//===----------------------------------------------------------------------===//

TEST(ScenarioSchedule, PoliciesDiffer) {
  // Both models are compiled on the gpu (their fastest device):
  //   big:   gpu 3 ms (cpu 6 ms), period 10, deadline 10, priority 2
  //   small: gpu 1 ms (cpu 2 ms), period 10, deadline 2,  priority 1
  // back-to-back (release order, ties by entry): big [0,3], small [3,4]:
  //   small misses (4 > 2).
  // edf: small first (deadline 2): small [0,1], big [1,4]: no miss.
  // fixed-priority: big first (priority 2): big [0,3], small [3,4]: a miss.
  // utilization: big on the gpu (30%), small on the gpu too (40% < cpu's
  //   20%? no: the cpu gives 2 / 10 = 20% < 3 + 1 / 10 = 40%), so small on
  //   the cpu: small [0,2] on the cpu, big [0,3] on the gpu: no miss.
  // joint: edf order, small [0,1] on the gpu meets its deadline; big then
  //   [1,4] on the gpu meets 10: no miss.
  ScenarioProblem P = problem(
      {periodic("big", 10, 10, 2), periodic("small", 10, 2, 1)},
      {chain("big", {{6000, 3000}}, 1), chain("small", {{2000, 1000}}, 1)},
      twoDevices());
  std::vector<PolicyResult> all = scheduleAll(P);
  for (const PolicyResult &r : all)
    EXPECT_EQ(verifySchedule(P, r), "") << policyName(r.policy);
  EXPECT_EQ(all[0].misses, 1);
  EXPECT_EQ(all[1].misses, 0);
  EXPECT_EQ(all[2].misses, 1);
  EXPECT_EQ(all[3].misses, 0);
  EXPECT_EQ(all[3].graphDevice, (std::vector<int>{1, 0}));
  EXPECT_DOUBLE_EQ(all[3].jobs[1].end, 2000);
  EXPECT_EQ(all[4].misses, 0);
  EXPECT_DOUBLE_EQ(all[1].jobs[1].end, 1000);
  EXPECT_DOUBLE_EQ(all[1].jobs[0].end, 4000);
  // Fewest misses: edf, utilization and joint; no request, so the total
  // lateness (0 for all three) leaves the first: edf.
  EXPECT_EQ(all[chooseBest(all)].policy, Policy::EDF);
}

TEST(ScenarioSchedule, JointMovesTasksWhenAJobWouldMiss) {
  // Three 2 ms gpu jobs (cpu 3 ms), all released at 0 with a 4 ms deadline.
  // edf (compiled on the gpu): [0,2], [2,4], [4,6]: the third misses.
  // joint: the first two fit on the gpu; the third would end at 6 > 4, so
  // it moves to the cpu: [0,3]: no miss.
  ScenarioProblem P = problem(
      {periodic("a", 10, 4), periodic("b", 10, 4), periodic("c", 10, 4)},
      {chain("a", {{3000, 2000}}, 1), chain("b", {{3000, 2000}}, 1),
       chain("c", {{3000, 2000}}, 1)},
      twoDevices());
  PolicyResult edf = schedule(P, Policy::EDF);
  PolicyResult joint = schedule(P, Policy::Joint);
  EXPECT_EQ(verifySchedule(P, edf), "");
  EXPECT_EQ(verifySchedule(P, joint), "");
  EXPECT_EQ(edf.misses, 1);
  EXPECT_EQ(joint.misses, 0);
  EXPECT_EQ(joint.movedTasks, 1);
  EXPECT_EQ(joint.jobs[2].tasks[0].device, 0);
  EXPECT_DOUBLE_EQ(joint.jobs[2].end, 3000);
}

TEST(ScenarioSchedule, JointGivesThePrefillItsFastestPlacement) {
  // A periodic gpu job (3 ms, deadline 3.5) and an LLM request at 0 whose
  // prefill is compiled on the gpu (2 ms; 2.5 ms on the cpu), TTFT target
  // 10 ms, no decode step. edf places the periodic job first (deadline 3.5
  // < 10): the prefill waits for the gpu, [3,5]: TTFT 5 ms, a hit. joint
  // also tries other placements for a prefill (its end is the TTFT): on the
  // cpu it ends at 2.5 ms, so it moves: TTFT 2.5 ms. utilization gets the
  // same (video 30% on the gpu, the prefill 25% on the cpu) and, listed
  // first, is the best; edf's TTFT loses the tie-break.
  Workload r;
  r.kind = Workload::Kind::Request;
  r.name = "llm";
  r.ttftMs = 10;
  r.perTokenMs = 1;
  r.prefillTokens = 8;
  ScenarioProblem P = problem(
      {periodic("video", 10, 3.5), r},
      {chain("video", {{-1, 3000}}, 1), chain("pre", {{2500, 2000}}, 1),
       chain("dec", {{500, -1}}, 0)},
      twoDevices());
  std::vector<PolicyResult> all = scheduleAll(P);
  for (const PolicyResult &res : all)
    EXPECT_EQ(verifySchedule(P, res), "") << policyName(res.policy);
  EXPECT_DOUBLE_EQ(all[1].worstTtftUs, 5000);
  EXPECT_DOUBLE_EQ(all[4].worstTtftUs, 2500);
  EXPECT_EQ(all[4].jobs[1].tasks[0].device, 0);
  EXPECT_EQ(all[4].misses, 0);
  EXPECT_DOUBLE_EQ(all[3].worstTtftUs, 2500);
  EXPECT_EQ(all[chooseBest(all)].policy, Policy::Utilization);
}

TEST(ScenarioSchedule, TransfersAreCounted) {
  // A two-task chain, compiled cpu then gpu, with 0.5 ms transfers: the
  // second task starts after the transfer: 1 + 0.5 + 1 = 2.5 ms.
  ModelGraph g = chain("a", {{1000, 1000}, {1000, 1000}}, 0);
  g.tasks[0].cost = {1000, std::nullopt};
  g.tasks[1].cost = {std::nullopt, 1000};
  g.tasks[1].device = 1;
  ScenarioProblem P = problem({periodic("a", 10, 10)}, {g}, twoDevices(500));
  PolicyResult R = schedule(P, Policy::EDF);
  EXPECT_EQ(verifySchedule(P, R), "");
  ASSERT_EQ(R.transfers.size(), 1u);
  EXPECT_DOUBLE_EQ(R.transfers[0].start, 1000);
  EXPECT_DOUBLE_EQ(R.jobs[0].end, 2500);
}

TEST(ScenarioSchedule, InstancesOfOneModelDoNotOverlap) {
  // A 3 ms cpu job every 2 ms (deadline 10) next to a 1 ms gpu job every
  // 4 ms (horizon 4 ms): instance 1 of a, released at 2, waits for
  // instance 0 to end at 3 (they share the model's buffers).
  ScenarioProblem P = problem(
      {periodic("a", 2, 10), periodic("b", 4, 4)},
      {chain("a", {{3000, -1}}, 0), chain("b", {{-1, 1000}}, 1)}, twoDevices());
  PolicyResult R = schedule(P, Policy::EDF);
  EXPECT_EQ(verifySchedule(P, R), "");
  ASSERT_EQ(R.jobs.size(), 3u);
  EXPECT_DOUBLE_EQ(R.jobs[1].release, 2000);
  EXPECT_DOUBLE_EQ(R.jobs[1].start, 3000);
  EXPECT_DOUBLE_EQ(R.jobs[1].end, 6000);
}

} // namespace
