//===- ScenarioRun.cpp - loom-run --scenario ------------------------------===//
//
// Reads OUT_DIR/scenario.json (docs/scenarios.md), loads one Session per
// plan folder the jobs name (models/<name>, or each plan of a generate
// request's program), binds zero-filled inputs, runs each plan once to warm
// up, then runs the job instances one at a time in the chosen schedule's
// order (its start order), each no earlier than its release on the wall
// clock (a decode step or a later prefill chunk: no earlier than the
// measured end of the job before it), for N repetitions of the horizon.
// A generate request's job gets the position_ids and attention_mask of its
// position. Measured latency = end - release; a miss = end after the
// deadline; per request TTFT (arrival to the end of the last prefill
// chunk) and decode tokens/s. The table compares them, per model, with the
// schedule's predictions.
//
//===----------------------------------------------------------------------===//
#include "ScenarioRun.h"

#include "../common/ToolSupport.h"
#include "loom/Runtime/Session.h"
#include "loom/Scenario/Percentile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace loom::rt;
using namespace loom::tools;
using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

namespace {

const char *const kScenarioUsage =
    R"(usage: loom-run --scenario OUT_DIR [--periods N] [--json FILE] [--threads N] [--quiet]

Runs the scenario compiled by `loomc --scenario=FILE.yaml -o OUT_DIR` on this
machine: the job instances of OUT_DIR/scenario.json in the chosen schedule's
order at their release times (wall clock), each model's plan through the
runtime with zero-filled inputs (a generation program's jobs with the
positions and mask of their tokens), and prints, per model, the measured
latency and deadline misses next to the predicted ones, and per LLM request
the time to first token and the decode tokens/s.

options:
  --periods N    run the horizon N times (default 1)
  --json FILE    also write the comparison as JSON
  --threads N    threads each kernel may use (default 1)
  --quiet        print only the table

Jobs run one at a time on the host, in the schedule's order; every device's
tasks run through the host kernels, so only a scenario compiled for the
`host` target has predictions that are expected to be close.
)";

struct ScenarioOptions {
  std::string dir, json;
  long periods = 1, threads = 1;
  bool quiet = false;
};

ScenarioOptions parseScenarioArgs(int argc, char **argv, bool &help) {
  ScenarioOptions o;
  // --help anywhere, before or after the mode's flag (never a value).
  if (hasHelpFlag(argc, argv)) {
    help = true;
    return o;
  }
  forEachModeArg(
      argc, argv, "--scenario", {"--quiet"},
      {"--scenario", "--periods", "--json", "--threads"},
      [&](const std::string &) { o.quiet = true; },
      [&](const std::string &flag, const std::string &value) {
        if (flag == "--scenario")
          o.dir = value;
        else if (flag == "--periods")
          o.periods = parseCount(flag, value, 1, 100000);
        else if (flag == "--threads")
          o.threads = parseCount(flag, value, 1, 1024);
        else
          o.json = value;
      },
      [&](const std::string &arg) {
        throw ToolError{"--scenario: unknown option '" + arg +
                        "' (see loom-run --scenario --help)"};
      });
  if (o.dir.empty())
    throw ToolError{
        "--scenario expects the folder written by loomc --scenario"};
  return o;
}

/// A zero-filled tensor of `info`'s dtype and shape.
Tensor zeros(const TensorInfo &info) {
  Tensor t;
  t.dtype = info.dtype;
  t.shape = info.shape;
  t.bytes.assign(size_t(numElements(info.shape)) * dtypeSize(info.dtype), 0);
  return t;
}

using loom::scenario::percentile;

struct Stats {
  int jobs = 0, misses = 0;
  std::vector<double> latencies; ///< µs (periodic jobs, decode steps)
  std::vector<double> ttft;      ///< µs (requests, per period)
  std::vector<double> tokensPerS; ///< decode steps per second (per period)
};

struct JobEntry {
  std::string model, plan, role;
  int instance = 0;
  /// generate requests: the run's first position and tokens (-1: none).
  int64_t position = -1, tokens = 0;
  double release = 0, relDeadline = 0, predictedLatency = 0;
  double deadline = 0, predictedEnd = 0; ///< µs, as scheduled
  bool predictedMiss = false;
  /// A prefill chunk after the first: released by the chunk before it, due
  /// at the request's absolute deadline (arrival + TTFT target).
  bool chainedPrefill() const { return role == "prefill" && instance > 0; }
};

/// One request's times in one period (µs): its arrival, the end of its
/// last prefill chunk and of its last decode step, and its decode steps.
struct RequestTimes {
  double arrival = -1, prefillEnd = 0, decodeEnd = 0;
  int steps = 0;
  void add(const JobEntry &e, double release, double end) {
    if (e.role == "prefill") {
      if (!e.chainedPrefill())
        arrival = release;
      prefillEnd = std::max(prefillEnd, end);
    } else if (e.role == "decode") {
      decodeEnd = std::max(decodeEnd, end);
      ++steps;
    }
  }
  /// TTFT and decode tokens/s into `s`.
  void record(Stats &s) const {
    if (arrival < 0)
      return;
    s.ttft.push_back(prefillEnd - arrival);
    if (steps > 0 && decodeEnd > prefillEnd)
      s.tokensPerS.push_back(steps / ((decodeEnd - prefillEnd) / 1e6));
  }
};

/// The inputs of a generation program's plan for a run of `tokens` tokens
/// at `position` (loom::rt::Generator's, with token 0 for every id):
/// positions position .. position + n - 1, and the mask 1 for the cached
/// slots [0, position) and the run's real tokens, which are the last n
/// positions of the mask. Nothing for a plan without these inputs.
void setGenerateInputs(Session &s, int64_t position, int64_t tokens) {
  std::optional<size_t> mask = s.findInput("attention_mask"),
                        pos = s.findInput("position_ids");
  if (!mask || !pos)
    return;
  const TensorInfo &mi = s.inputs()[*mask], &pi = s.inputs()[*pos];
  if (mi.shape.size() != 2 || pi.shape.size() != 2 ||
      mi.dtype != DType::I64 || pi.dtype != DType::I64)
    return;
  int64_t n = pi.shape[1], capacity = mi.shape[1] - n;
  Tensor m = zeros(mi), p = zeros(pi);
  auto *mv = reinterpret_cast<int64_t *>(m.bytes.data());
  auto *pv = reinterpret_cast<int64_t *>(p.bytes.data());
  for (int64_t i = 0; i < std::min(position, capacity); ++i)
    mv[i] = 1;
  for (int64_t i = 0; i < n; ++i) {
    pv[i] = position + i;
    mv[capacity + i] = i < tokens ? 1 : 0;
  }
  s.setInput(*mask, m);
  s.setInput(*pos, p);
}

std::string ms(double us) { return formatDouble(us / 1000, "%.3f"); }

} // namespace

bool loom::tools::isScenarioInvocation(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--scenario") == 0 ||
        std::strncmp(argv[i], "--scenario=", 11) == 0)
      return true;
  return false;
}

int loom::tools::runScenario(int argc, char **argv) {
  bool help = false;
  ScenarioOptions o = parseScenarioArgs(argc, argv, help);
  if (help) {
    std::cout << kScenarioUsage;
    return 0;
  }
  fs::path file = fs::path(o.dir) / "scenario.json";
  std::ifstream in(file);
  if (!in)
    throw ToolError{file.string() + ": no such file (compile the scenario "
                                    "with loomc --scenario first)"};
  Json doc;
  try {
    doc = Json::parse(in);
  } catch (const std::exception &e) {
    throw ToolError{file.string() + ": " + e.what()};
  }
  if (doc.value("format", "") != "loom-scenario" ||
      doc.value("version", 0) != 1)
    throw ToolError{file.string() + ": not a version-1 loom-scenario file"};
  std::string target = doc.value("target", "");
  double horizon = doc.value("horizon_us", 0.0);
  std::vector<JobEntry> jobs;
  for (const Json &j : doc.at("jobs")) {
    JobEntry e;
    e.model = j.at("model").get<std::string>();
    e.plan = j.at("plan").get<std::string>();
    e.role = j.at("role").get<std::string>();
    e.instance = j.value("instance", 0);
    e.position = j.value("position", int64_t(-1));
    e.tokens = j.value("tokens", int64_t(0));
    e.release = j.at("release_us").get<double>();
    e.deadline = j.at("deadline_us").get<double>();
    e.relDeadline = e.deadline - e.release;
    e.predictedEnd = j.at("end_us").get<double>();
    e.predictedLatency = e.predictedEnd - e.release;
    e.predictedMiss = j.at("missed").get<bool>();
    jobs.push_back(e);
  }
  std::vector<std::string> models;
  for (const Json &m : doc.at("models"))
    models.push_back(m.at("name").get<std::string>());

  // One session per plan folder, zero inputs, one warm-up run.
  std::map<std::string, std::unique_ptr<Session>> sessions;
  SessionOptions sessionOptions;
  sessionOptions.threads = int(o.threads);
  for (const JobEntry &e : jobs) {
    if (sessions.count(e.plan))
      continue;
    std::unique_ptr<Session> s =
        Session::load((fs::path(o.dir) / e.plan).string(), sessionOptions);
    for (size_t i = 0; i < s->inputs().size(); ++i)
      if (!s->inputs()[i].folded)
        s->setInput(i, zeros(s->inputs()[i]));
    s->run();
    sessions[e.plan] = std::move(s);
  }
  if (!o.quiet) {
    std::cout << "loom-run: scenario '" << doc.value("scenario", "")
              << "' (target '" << target << "', policy '"
              << doc.value("policy", "") << "'): " << jobs.size()
              << " jobs per " << ms(horizon) << " ms horizon, " << o.periods
              << " period(s); jobs run one at a time on the host\n";
    if (target != "host")
      std::cout << "note: compiled for '" << target
                << "': every device's tasks run through the host kernels "
                   "here, so the measured times are not the target's; only "
                   "the 'host' target's predictions are expected to be "
                   "close\n";
  }

  // Run.
  std::map<std::string, Stats> measured, predicted;
  std::map<std::string, double> lastEnd; // model -> measured end (µs)
  using Clock = std::chrono::steady_clock;
  Clock::time_point t0 = Clock::now();
  auto now = [&] {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0)
        .count();
  };
  for (long p = 0; p < o.periods; ++p) {
    double offset = double(p) * horizon;
    std::map<std::string, RequestTimes> measuredReq, predictedReq;
    for (const JobEntry &e : jobs) {
      bool chained = e.role == "decode" || e.chainedPrefill();
      double release = chained ? lastEnd[e.model] : offset + e.release;
      if (e.position >= 0)
        setGenerateInputs(*sessions[e.plan], e.position, e.tokens);
      // Sleep until the release (a sleeping thread wakes up somewhat late;
      // that delay counts as latency, as it would in an application).
      double wait = release - now();
      if (wait > 0)
        std::this_thread::sleep_for(
            std::chrono::duration<double, std::micro>(wait));
      sessions[e.plan]->run();
      double end = now();
      lastEnd[e.model] = end;
      Stats &m = measured[e.model];
      Stats &pr = predicted[e.model];
      ++m.jobs;
      ++pr.jobs;
      // A chained prefill chunk is due at the request's deadline, not at
      // a time after its own release.
      bool miss = end > (e.chainedPrefill() ? offset + e.deadline
                                            : release + e.relDeadline);
      m.misses += miss;
      pr.misses += e.predictedMiss;
      if (e.role == "prefill" || e.role == "decode") {
        measuredReq[e.model].add(e, release, end);
        predictedReq[e.model].add(e, e.release, e.predictedEnd);
      }
      if (e.role != "prefill") {
        m.latencies.push_back(end - release);
        pr.latencies.push_back(e.predictedLatency);
      }
    }
    for (auto &[model, times] : measuredReq)
      times.record(measured[model]);
    for (auto &[model, times] : predictedReq)
      times.record(predicted[model]);
  }

  // Table.
  std::ostringstream table;
  auto pad = [](std::string s, size_t w) {
    if (s.size() < w)
      s.insert(0, w - s.size(), ' ');
    return s;
  };
  size_t nameW = 5;
  for (const std::string &m : models)
    nameW = std::max(nameW, m.size());
  table << std::string("model") + std::string(nameW - 5, ' ')
        << pad("jobs", 6) << pad("misses pred", 13) << pad("misses meas", 13)
        << pad("median pred", 13) << pad("median meas", 13)
        << pad("p95 pred", 10) << pad("p95 meas", 10) << pad("max pred", 10)
        << pad("max meas", 10) << pad("ttft pred", 11) << pad("ttft meas", 11)
        << pad("tok/s pred", 12) << pad("tok/s meas", 12) << "\n";
  OJson out = OJson::object();
  out["scenario"] = doc.value("scenario", "");
  out["target"] = target;
  out["policy"] = doc.value("policy", "");
  out["periods"] = o.periods;
  out["models"] = OJson::array();
  for (const std::string &name : models) {
    const Stats &m = measured[name], &pr = predicted[name];
    auto cell = [&](const std::vector<double> &v, double q) {
      return v.empty() ? std::string("-") : ms(percentile(v, q));
    };
    // The slowest period's decode rate.
    auto rateCell = [&](const std::vector<double> &v) {
      return v.empty() ? std::string("-")
                       : formatDouble(*std::min_element(v.begin(), v.end()),
                                      "%.1f");
    };
    auto maxCell = [&](const std::vector<double> &v) {
      return v.empty() ? std::string("-")
                       : ms(*std::max_element(v.begin(), v.end()));
    };
    table << name << std::string(nameW - name.size(), ' ')
          << pad(std::to_string(m.jobs), 6)
          << pad(std::to_string(pr.misses), 13)
          << pad(std::to_string(m.misses), 13)
          << pad(cell(pr.latencies, 0.5), 13)
          << pad(cell(m.latencies, 0.5), 13)
          << pad(cell(pr.latencies, 0.95), 10)
          << pad(cell(m.latencies, 0.95), 10)
          << pad(maxCell(pr.latencies), 10) << pad(maxCell(m.latencies), 10)
          << pad(maxCell(pr.ttft), 11) << pad(maxCell(m.ttft), 11)
          << pad(rateCell(pr.tokensPerS), 12) << pad(rateCell(m.tokensPerS), 12)
          << "\n";
    auto stats = [&](const Stats &s) {
      OJson j = OJson::object();
      j["jobs"] = s.jobs;
      j["misses"] = s.misses;
      if (!s.latencies.empty()) {
        j["latency_median_us"] = percentile(s.latencies, 0.5);
        j["latency_p95_us"] = percentile(s.latencies, 0.95);
        j["latency_max_us"] =
            *std::max_element(s.latencies.begin(), s.latencies.end());
      }
      if (!s.ttft.empty())
        j["ttft_us"] = *std::max_element(s.ttft.begin(), s.ttft.end());
      if (!s.tokensPerS.empty())
        j["tokens_per_s"] =
            *std::min_element(s.tokensPerS.begin(), s.tokensPerS.end());
      return j;
    };
    out["models"].push_back(OJson{
        {"name", name}, {"predicted", stats(pr)}, {"measured", stats(m)}});
  }
  std::cout << table.str()
            << "(latencies in ms: end - release; decode steps for LLM "
               "requests, whose ttft runs from the arrival to the end of the "
               "last prefill chunk; tok/s: decode steps per second after it; "
               "the worst period)\n";
  std::cout.flush();
  if (!o.json.empty()) {
    std::ofstream j(o.json, std::ios::binary);
    j << out.dump(2) << "\n";
    if (!j)
      throw ToolError{o.json + ": cannot write"};
  }
  return 0;
}
