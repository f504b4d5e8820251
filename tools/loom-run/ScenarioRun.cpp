//===- ScenarioRun.cpp - loom-run --scenario ------------------------------===//
//
// Reads OUT_DIR/scenario.json (docs/scenarios.md), loads one Session per
// compiled model (models/<name>), binds zero-filled inputs, runs each model
// once to warm up, then runs the job instances one at a time in the chosen
// schedule's order (its start order), each no earlier than its release on
// the wall clock (a decode step: no earlier than the measured end of the
// step before it), for N repetitions of the horizon. Measured latency =
// end - release; a miss = end after release + the relative deadline. The
// table compares them, per model, with the schedule's predictions.
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
runtime with zero-filled inputs, and prints, per model, the measured latency
and deadline misses next to the predicted ones.

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
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto [flag, value, inlineValue] = splitFlag(arg);
    if (flag == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (flag != "--scenario" && flag != "--periods" && flag != "--json" &&
        flag != "--threads")
      throw ToolError{"--scenario: unknown option '" + arg +
                      "' (see loom-run --scenario --help)"};
    if (!inlineValue) {
      if (i + 1 >= argc)
        throw ToolError{flag + " expects a value"};
      value = argv[++i];
    }
    if (flag == "--scenario")
      o.dir = value;
    else if (flag == "--periods")
      o.periods = parseCount(flag, value, 1, 100000);
    else if (flag == "--threads")
      o.threads = parseCount(flag, value, 1, 1024);
    else
      o.json = value;
  }
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
  std::vector<double> ttft;      ///< µs (prefills)
};

struct JobEntry {
  std::string model, plan, role;
  double release = 0, relDeadline = 0, predictedLatency = 0;
  bool predictedMiss = false;
};

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
    e.release = j.at("release_us").get<double>();
    e.relDeadline = j.at("deadline_us").get<double>() - e.release;
    e.predictedLatency = j.at("end_us").get<double>() - e.release;
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
    for (const JobEntry &e : jobs) {
      double release =
          e.role == "decode" ? lastEnd[e.model] : offset + e.release;
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
      bool miss = end > release + e.relDeadline;
      m.misses += miss;
      pr.misses += e.predictedMiss;
      if (e.role == "prefill") {
        m.ttft.push_back(end - release);
        pr.ttft.push_back(e.predictedLatency);
      } else {
        m.latencies.push_back(end - release);
        pr.latencies.push_back(e.predictedLatency);
      }
    }
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
        << "\n";
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
          << pad(maxCell(pr.ttft), 11) << pad(maxCell(m.ttft), 11) << "\n";
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
      return j;
    };
    out["models"].push_back(OJson{
        {"name", name}, {"predicted", stats(pr)}, {"measured", stats(m)}});
  }
  std::cout << table.str()
            << "(latencies in ms: end - release; decode steps for LLM "
               "requests, whose ttft is the prefill's)\n";
  std::cout.flush();
  if (!o.json.empty()) {
    std::ofstream j(o.json, std::ios::binary);
    j << out.dump(2) << "\n";
    if (!j)
      throw ToolError{o.json + ": cannot write"};
  }
  return 0;
}
