//===- loom-run.cpp - Run an executable plan ------------------------------===//
//
//   loom-run OUT_DIR [--test-data DIR] [--input NAME=FILE.pb ...]
//            [--random-inputs[=SEED]] [--output-dir DIR] [--rtol R]
//            [--atol A] [--repeat N] [--threads N] [--profile FILE.json]
//            [--quiet] [--help]
//
// Loads the plan folder written by loomc (plan.json + weights.bin), binds the
// inputs from ONNX TensorProto files (or seeded random values), runs, and compares the outputs with the
// expected ones and/or writes them. Exit codes: 0 success (all outputs
// match), 1 some output differs, 2 usage, load or run error.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Compare.h"
#include "loom/Runtime/Session.h"
#include "../common/ToolSupport.h"
#include "loom/Runtime/TensorProtoIO.h"
#include "loom/Support/OutputDir.h"
#include "GenerateRun.h"
#include "ScenarioRun.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace loom::rt;
using namespace loom::tools;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitMismatch = 1;
constexpr int kExitError = 2;

const char *const kUsage = R"(usage: loom-run OUT_DIR [options]

Runs the executable plan in OUT_DIR (plan.json + weights.bin, as written by
loomc), then checks and/or writes its outputs.

options:
  --test-data DIR       ONNX test data folder: DIR/input_N.pb are the graph
                        inputs in order (a folded input's file is checked for
                        equality with the folded value), DIR/output_N.pb the
                        expected outputs; every output is compared and one
                        line per output is printed
  --input NAME=FILE.pb  bind input NAME from a TensorProto file (repeatable;
                        overrides --test-data)
  --random-inputs[=SEED]
                        bind every input not given otherwise to seeded random
                        values of its dtype and shape (default seed 0; the
                        same seed gives the same values): floats in [-1, 1],
                        integers in [0, 3], bools 0/1
  --output-dir DIR      write output N as DIR/output_N.pb; DIR must be new,
                        empty or a previous --output-dir (nothing else is
                        overwritten)
  --rtol R              relative tolerance (default 1e-3)
  --atol A              absolute tolerance (default 1e-5); floats match when
                        |got - want| <= A + R * |want|, NaN matches NaN,
                        integers and bools must be equal
  --repeat N            after the first (warm-up) run, run N more times and
                        print the median, min and max latency in ms
  --threads N           threads each kernel may use (default 1)
  --reference-kernels   run every task with its reference kernel (double
                        accumulation, no fast paths): slow, for telling
                        float rounding apart from a wrong kernel
  --exact-precision     run the tasks a plan places in a device's bf16/f16
                        (loomc --device-precision=auto) in f32 instead of
                        emulating that device's rounding
  --profile FILE.json   write the last run's per-task times as a Chrome trace
                        (chrome://tracing, Perfetto); without --repeat, one
                        warm-up run precedes the profiled run
  --quiet               print only mismatches, errors and --repeat timings
  --help                print this help and exit
  --version             print Loom's version and exit

scenarios: loom-run --scenario OUT_DIR [--periods N] [--json FILE] runs a
scenario compiled by loomc --scenario (see loom-run --scenario --help).

generation: loom-run OUT_DIR --generate --prompt-ids 1,2,3 --max-new-tokens N
runs a generation program compiled by loomc --generate (see loom-run
--generate --help).

environment: LOOM_RUNTIME_NO_AVX2=1 makes the runtime's own AVX2 kernels take
their scalar forms (as on CPUs without AVX2 + FMA); OMP_WAIT_POLICY defaults to
PASSIVE.

exit codes: 0 success (every output matches), 1 some output differs from the
expected output, 2 usage error, or the plan cannot be loaded or run.

examples:
  loomc model.onnx -o out && loom-run out --test-data test_data_set_0
  loom-run out --random-inputs --repeat 20
)";

/// An error that ends the tool with exit code 2.
struct Options {
  std::string planDir;
  std::string testData;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::optional<uint64_t> randomSeed;
  std::string outputDir;
  double rtol = 1e-3;
  double atol = 1e-5;
  long repeat = 0;
  long threads = 1;
  std::string profile;
  bool quiet = false;
  bool referenceKernels = false;
  bool exactPrecision = false;
};

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

double parseTolerance(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || errno || !std::isfinite(v) || v < 0)
    throw ToolError{flag + " expects a non-negative number, got '" + text +
                    "'"};
  return v;
}

/// Parses argv; returns nullopt after printing --help.
std::optional<Options> parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return std::nullopt;
    }
    if (arg == "--version") {
      std::cout << "loom-run (Loom) " LOOM_VERSION "\n"
                << "runtime only: built without LLVM\n";
      return std::nullopt;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      if (!o.planDir.empty())
        throw ToolError{"unexpected argument '" + arg +
                        "' (the plan folder is '" + o.planDir + "')"};
      o.planDir = arg;
      continue;
    }
    // --flag VALUE or --flag=VALUE.
    auto [flag, value, inlineValue] = splitFlag(arg);
    if (flag == "--quiet") {
      if (inlineValue)
        throw ToolError{"--quiet takes no value"};
      o.quiet = true;
      continue;
    }
    if (flag == "--reference-kernels") {
      if (inlineValue)
        throw ToolError{"--reference-kernels takes no value"};
      o.referenceKernels = true;
      continue;
    }
    if (flag == "--exact-precision") {
      if (inlineValue)
        throw ToolError{"--exact-precision takes no value"};
      o.exactPrecision = true;
      continue;
    }
    if (flag == "--random-inputs") { // The seed only as --random-inputs=S.
      o.randomSeed = inlineValue ? uint64_t(parseCount(flag, value, 0,
                                                       1000000000))
                                 : 0;
      continue;
    }
    static const char *const withValue[] = {
        "--test-data", "--input",  "--output-dir", "--rtol",
        "--atol",      "--repeat", "--threads",    "--profile"};
    if (std::find_if(std::begin(withValue), std::end(withValue),
                     [&](const char *f) { return flag == f; }) ==
        std::end(withValue))
      throw ToolError{"unknown option '" + flag + "' (see --help)"};
    if (!inlineValue) {
      if (i + 1 >= argc)
        throw ToolError{flag + " expects a value"};
      value = argv[++i];
    }
    if (flag == "--test-data") {
      o.testData = value;
    } else if (flag == "--input") {
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        throw ToolError{"--input expects NAME=FILE.pb, got '" + value + "'"};
      o.inputs.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (flag == "--output-dir") {
      o.outputDir = value;
    } else if (flag == "--rtol") {
      o.rtol = parseTolerance(flag, value);
    } else if (flag == "--atol") {
      o.atol = parseTolerance(flag, value);
    } else if (flag == "--repeat") {
      o.repeat = parseCount(flag, value, 0, 1000000);
    } else if (flag == "--threads") {
      o.threads = parseCount(flag, value, 1, 1024);
    } else if (flag == "--profile") {
      o.profile = value;
    }
  }
  if (o.planDir.empty())
    throw ToolError{"missing the plan folder OUT_DIR (see --help)"};
  return o;
}

//===----------------------------------------------------------------------===//
// Tensor files
//===----------------------------------------------------------------------===//

/// Binds every input from --test-data and --input; fails naming the inputs
/// that end up without a value.
void bindInputs(Session &session, const Options &o) {
  const std::vector<TensorInfo> &infos = session.inputs();
  std::vector<std::optional<std::string>> files(infos.size());
  if (!o.testData.empty()) {
    std::error_code ec;
    if (!fs::is_directory(o.testData, ec))
      throw ToolError{o.testData + ": no such test data folder"};
    for (size_t i = 0; i < infos.size(); ++i) {
      fs::path file =
          fs::path(o.testData) / ("input_" + std::to_string(i) + ".pb");
      if (fs::exists(file, ec))
        files[i] = file.string();
    }
  }
  placeNamedInputs(session, o.inputs, files);
  std::string missing;
  for (size_t i = 0; i < infos.size(); ++i)
    if (!files[i] && !infos[i].folded && !o.randomSeed)
      missing += (missing.empty() ? "'" : ", '") + infos[i].name + "'";
  if (!missing.empty())
    throw ToolError{"no value for input(s) " + missing +
                    " (use --test-data DIR, --input NAME=FILE.pb or "
                    "--random-inputs)"};
  for (size_t i = 0; i < infos.size(); ++i) {
    if (files[i])
      bindInputFile(session, i, *files[i]);
    else if (!infos[i].folded)
      session.setInput(i, randomTensor(infos[i].dtype, infos[i].shape,
                                       *o.randomSeed * 65536 + i));
  }
}

/// On a plan for a SoC (tasks on devices other than the host CPU), one line
/// saying where they really ran: loom-run links no device kernels, so every
/// device's tasks ran through the host's kernels.
std::string describeDevices(const Plan &plan) {
  std::vector<size_t> perDevice(plan.devices.size(), 0);
  for (const PlanTask &t : plan.tasks)
    if (t.kind != TaskKind::Transfer) // kernels and control tasks
      ++perDevice[t.deviceIndex];
  std::string used;
  for (size_t d = 0; d < plan.devices.size(); ++d)
    if (perDevice[d]) {
      used += (used.empty() ? "" : ", ") + plan.devices[d].name + " (" +
              std::to_string(perDevice[d]) + ")";
    }
  if (plan.devices.size() < 2 || used.empty())
    return "";
  return "loom-run: plan for '" + plan.target + "': the tasks of " + used +
         " ran through the host's kernels; no device kernels are linked into "
         "loom-run (a program built from loomc --emit=stubs links them)";
}

/// The first values of `t`, e.g. `[0.125, -1, 3.5, ...] (1000 values)`.
std::string preview(const Tensor &t) {
  int64_t n = numElements(t.shape);
  std::string text = "[";
  for (int64_t i = 0; i < std::min<int64_t>(n, 6); ++i)
    text += (i ? ", " : "") + formatDouble(elementAsDouble(t, i), "%.4g");
  text += n > 6 ? ", ...]" : "]";
  if (n > 6)
    text += " (" + std::to_string(n) + " values)";
  return text;
}

//===----------------------------------------------------------------------===//
// Reports
//===----------------------------------------------------------------------===//

/// Writes the last run's task times as a Chrome trace (keys in a fixed order).
void writeProfile(const Session &session, const std::string &path) {
  using OJson = nlohmann::ordered_json;
  const Plan &plan = session.plan();
  OJson events = OJson::array();
  for (size_t d = 0; d < plan.devices.size(); ++d) {
    events.push_back(OJson{{"name", "process_name"},
                           {"ph", "M"},
                           {"pid", d},
                           {"args", OJson{{"name", plan.devices[d].name}}}});
    for (size_t q = 0; q < plan.devices[d].queues; ++q)
      events.push_back(
          OJson{{"name", "thread_name"},
                {"ph", "M"},
                {"pid", d},
                {"tid", q},
                {"args", OJson{{"name", "queue " + std::to_string(q)}}}});
  }
  for (const TaskTiming &t : session.lastTimings()) {
    const PlanTask &task = plan.tasks[t.task];
    events.push_back(OJson{{"name", task.name},
                           {"cat", task.kernel},
                           {"ph", "X"},
                           {"pid", t.device},
                           {"tid", t.queue},
                           {"ts", t.startUs},
                           {"dur", t.endUs - t.startUs},
                           {"args", OJson{{"task", t.task}}}});
  }
  OJson trace{{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  std::ofstream out(path, std::ios::binary);
  out << trace.dump(2) << "\n";
  if (!out)
    throw ToolError{path + ": cannot write the profile"};
}

/// Writes output N as DIR/output_N.pb, through a temporary folder moved
/// into place (DIR must be new, empty or a previous --output-dir).
void writeOutputs(const std::vector<Tensor> &outputs, const std::string &dir) {
  std::string why;
  std::optional<loom::output::PendingOutput> pending =
      loom::output::PendingOutput::begin(dir, loom::output::runOutputs(), why);
  if (!pending)
    throw ToolError{"--output-dir: " + why};
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string file = (fs::path(pending->path()) /
                        ("output_" + std::to_string(i) + ".pb"))
                           .string();
    try {
      writeTensorFile(outputs[i], file);
    } catch (const KernelError &e) {
      throw ToolError{e.message};
    }
  }
  if (std::string failure = pending->commit(); !failure.empty())
    throw ToolError{"--output-dir: " + failure};
}

/// Runs, compares and writes; returns the exit code.
int runTool(const Options &o) {
  // Before any work: DIR must be new, empty or a previous --output-dir.
  if (!o.outputDir.empty())
    if (std::string why = loom::output::checkOutputDir(
            o.outputDir, loom::output::runOutputs());
        !why.empty())
      throw ToolError{"--output-dir: " + why};
  // A scenario folder has no plan.json of its own.
  std::error_code ec;
  if (!fs::exists(fs::path(o.planDir) / "plan.json", ec) &&
      fs::exists(fs::path(o.planDir) / "scenario.json", ec))
    throw ToolError{o.planDir +
                    " holds a scenario compiled by loomc --scenario, not a "
                    "plan: run it with loom-run --scenario " +
                    o.planDir};
  SessionOptions sessionOptions;
  sessionOptions.threads = int(o.threads);
  sessionOptions.allowFastPaths = !o.referenceKernels;
  sessionOptions.emulatePrecision = !o.exactPrecision;
  std::unique_ptr<Session> session = Session::load(o.planDir, sessionOptions);
  bindInputs(*session, o);

  // Expected outputs, read before running so that a missing file is an error
  // before any work.
  const std::vector<TensorInfo> &outInfos = session->outputs();
  // A folder with inputs only (no output_N.pb at all) has nothing to
  // compare; one with some of them must have them all.
  std::vector<Tensor> expected;
  auto expectedFile = [&](size_t i) {
    return (fs::path(o.testData) / ("output_" + std::to_string(i) + ".pb"))
        .string();
  };
  bool anyExpected = false;
  for (size_t i = 0; i < outInfos.size() && !o.testData.empty(); ++i) {
    std::error_code ec;
    anyExpected = anyExpected || fs::exists(expectedFile(i), ec);
  }
  if (anyExpected)
    for (size_t i = 0; i < outInfos.size(); ++i)
      expected.push_back(readTensorAs(expectedFile(i), outInfos[i].dtype));
  else if (!o.testData.empty() && !o.quiet)
    std::cout << "loom-run: " << o.testData
              << " holds no expected outputs (output_N.pb): nothing to "
                 "compare\n";

  session->run(); // Also the warm-up for --repeat and --profile.
  if (!o.profile.empty() && o.repeat == 0)
    session->run(); // The profiled run, after the warm-up.
  std::vector<double> latenciesMs;
  for (long r = 0; r < o.repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    session->run();
    latenciesMs.push_back(std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count());
  }

  std::vector<Tensor> outputs;
  for (size_t i = 0; i < outInfos.size(); ++i)
    outputs.push_back(session->getOutput(i));
  if (!o.quiet)
    if (std::string line = describeDevices(session->plan()); !line.empty())
      std::cout << line << "\n";

  std::vector<std::string> mismatched;
  for (size_t i = 0; i < outInfos.size(); ++i) {
    std::string line = outInfos[i].name + "  " +
                       typeString(outInfos[i].dtype, outInfos[i].shape);
    bool bad = false;
    if (!expected.empty()) {
      CompareResult r =
          compareTensors(outputs[i], expected[i], {o.rtol, o.atol});
      line += "  max abs err " + formatDouble(r.maxAbsError) +
              "  max rel err " + formatDouble(r.maxRelError) + "  " +
              r.describe();
      bad = !r.match;
      if (bad)
        mismatched.push_back("'" + outInfos[i].name + "'");
    } else {
      line += "  " + preview(outputs[i]);
    }
    if (!o.quiet || bad)
      std::cout << line << "\n";
  }

  // The profile is written beside its path first and renamed into place
  // only once the outputs are in place: a failed write leaves neither.
  std::string profileTmp;
  if (!o.profile.empty()) {
    profileTmp = o.profile + ".loom-tmp";
    try {
      writeProfile(*session, profileTmp);
    } catch (const ToolError &) {
      std::error_code ignored;
      fs::remove(profileTmp, ignored);
      throw ToolError{o.profile + ": cannot write the profile"};
    }
  }
  if (!o.outputDir.empty()) {
    try {
      writeOutputs(outputs, o.outputDir);
    } catch (const ToolError &) {
      std::error_code ignored;
      if (!profileTmp.empty())
        fs::remove(profileTmp, ignored);
      throw;
    }
  }
  if (!profileTmp.empty()) {
    std::error_code ec;
    fs::rename(profileTmp, o.profile, ec);
    if (ec) {
      fs::remove(profileTmp, ec);
      throw ToolError{o.profile + ": cannot write the profile"};
    }
  }
  if (!latenciesMs.empty()) {
    std::vector<double> sorted = latenciesMs;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    double median =
        n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    std::cout << "latency over " << n << " runs: median "
              << formatDouble(median, "%.3f") << " ms, min "
              << formatDouble(sorted.front(), "%.3f") << " ms, max "
              << formatDouble(sorted.back(), "%.3f") << " ms\n";
  }
  std::cout.flush();
  if (!mismatched.empty()) {
    std::string names;
    for (const std::string &n : mismatched)
      names += (names.empty() ? "" : ", ") + n;
    std::cerr << "loom-run: " << mismatched.size() << " of " << outInfos.size()
              << " outputs differ from the expected outputs: " << names << "\n";
    return kExitMismatch;
  }
  return kExitOk;
}

} // namespace

int main(int argc, char **argv) {
  // oneDNN's OpenMP threads spin while they wait by default; with several
  // queue workers (and other processes) sharing the cores, spinning threads
  // starve the ones with work (measured: 130 ms instead of 0.6 ms per run of
  // a small model with --threads 2 on a busy 2-core machine). Sleep instead,
  // unless the user chose a policy.
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
  // `--scenario OUT_DIR`: a scenario compiled by loomc --scenario
  // (ScenarioRun.cpp, docs/scenarios.md).
  try {
    if (loom::tools::isScenarioInvocation(argc, argv))
      return loom::tools::runScenario(argc, argv);
    // `OUT_DIR --generate`: a generation program (GenerateRun.cpp).
    if (loom::tools::isGenerateInvocation(argc, argv))
      return loom::tools::runGenerate(argc, argv);
    std::optional<Options> options = parseArgs(argc, argv);
    if (!options)
      return kExitOk;
    return runTool(*options);
  } catch (const ToolError &e) {
    std::cerr << "loom-run: error: " << e.message << "\n";
  } catch (const KernelError &e) {
    std::cerr << "loom-run: error: " << e.message << "\n";
  } catch (const std::exception &e) {
    std::cerr << "loom-run: error: " << e.what() << "\n";
  }
  return kExitError;
}
