//===- loom-profile.cpp - Measure a plan's kernels into a cost table ------===//
//
//   loom-profile OUT_DIR -o costs.json [--repeat N] [--device NAME]
//                [--input NAME=FILE.pb ...] [--threads N] [--quiet] [--help]
//   loom-profile --calibrate TARGET -o FITTED.yaml [--device NAME] [--full]
//                [--threads N] [--only TEXT] [--measurements FILE.json]
//                [--device-library LIB.so]
//   loom-profile --fit FILE.json --target TARGET -o FITTED.yaml
//                [--device NAME] [--threads N]
//
// Loads a plan folder written by loomc with the runtime Session, binds its
// inputs (from files, else deterministic pseudo-random values), runs it once
// to warm up and then N times, and writes a cost table (docs/targets.md)
// with, for every kernel signature of the plan, the median measured µs of
// its tasks under the device they ran on. With --calibrate, runs the
// calibration suite (loom/Pipelines/CostCalibration.h) on a device of a
// target and writes the target file with the device's fitted cost model;
// --fit fits measurements saved earlier (--measurements) without running. `loomc --cost-table=costs.json`
// (the `cost-table` option of plan-estimate-costs) then uses these times
// instead of the estimates. Exit codes: 0 success, 2 usage, load or run
// error.
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/CostModel.h"
#include "loom/CostModel/Fit.h"
#include "loom/Pipelines/CostCalibration.h"
#include "loom/Runtime/Float16.h"
#include "loom/Runtime/Session.h"
#include "../common/ToolSupport.h"
#include "loom/Runtime/TensorProtoIO.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <dlfcn.h>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace loom::rt;
using namespace loom::tools;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

const char *const kUsage =
    R"(usage: loom-profile OUT_DIR -o COSTS.json [options]

Measures the kernels of the executable plan in OUT_DIR (plan.json +
weights.bin, as written by loomc) and writes a cost table: for every kernel
signature (kernel name and operand shapes/types) the median measured time in
µs of its tasks, dispatch included, under the device they ran on. Compile
again with `loomc --cost-table=COSTS.json` to use the measured times instead
of the cost model's estimates (docs/targets.md, "Calibration").

options:
  -o FILE               the cost table to write (JSON, docs/targets.md)
  --repeat N            measured runs after one warm-up run (default 20)
  --device NAME         record every time under device NAME (default: the
                        device each task runs on)
  --input NAME=FILE.pb  bind input NAME from a TensorProto file (repeatable);
                        other inputs get deterministic pseudo-random values
                        (floats in [-1, 1], integers in [0, 3], bools 0/1):
                        kernels whose time depends on the data (gather
                        indices, non_zero, top_k, ...) may time differently
                        on real inputs
  --threads N           threads each kernel may use (default 1, as loom-run)
  --quiet               print nothing on success
  --help                print this help and exit
  --version             print Loom's version (and LLVM's) and exit

Transfers are not measured. Tasks with the same signature on the same device
get the median of all their measured times.

exit codes: 0 success, 2 usage error, or the plan cannot be loaded or run.

usage: loom-profile --calibrate TARGET -o FITTED.yaml [options]
       loom-profile --fit MEASUREMENTS.json --target TARGET -o FITTED.yaml

Fits a device's cost model (docs/targets.md, "Fitted cost model"): runs
generated microkernels of every kernel family (convolutions by window,
stride, groups and channels; matmuls by M/N/K; elementwise kernels by size;
normalizations, pooling, resize, transposes, ...) on the device, fits each
family's fixed overhead, compute and memory rates and a cache term, and
writes TARGET's file with the device's `fitted` mapping (machine, date,
held-out error). Compile with `loomc --target=FITTED.yaml`. Progress on
stderr; the default suite takes about a minute at most.

  --calibrate TARGET    a built-in target name or a target file
  --device NAME         the device to fit (default: the target's first CPU);
                        with --fit, the device the measurements are for
  --full                the fuller grid (several times longer)
  --flush-mb N          MiB of other memory written before every run, to
                        evict the core's caches (default 4; 0: none)
  --llc-kb N            the last-level cache in KiB, for the cold-weight
                        measurements (default: read from sysfs; 0: none)
  --only TEXT           only the microkernels whose name contains TEXT
  --measurements FILE   also write the measurements (a cost table, device
                        NAME) to refit them later with --fit
  --device-library LIB  run the tasks through the device kernels of LIB
                        (a shared library defining the stubs' symbols
                        loom_DEVICE_KERNEL_DTYPE, or loom_DEVICE_any_kernel for
                        every kernel); the rest run the runtime's kernels
  --threads N           threads each kernel may use (recorded in the fit)
  --fit FILE            fit the measurements of FILE (no runs)
  --target TARGET       with --fit: the target file to write the fit into

example:
  loomc model.onnx -o out --target=host
  loom-profile out -o costs.json
  loomc model.onnx -o out --target=host --cost-table=costs.json
)";

/// An error that ends the tool with exit code 2.
struct Options {
  std::string planDir;
  std::string output;
  long repeat = 20;
  std::string device;
  std::vector<std::pair<std::string, std::string>> inputs;
  long threads = 1;
  bool quiet = false;
  // --calibrate / --fit
  std::string calibrate, fit, target, only, measurements, deviceLibrary;
  bool full = false;
  double flushMB = 4;
  double llcKB = -1; ///< --llc-kb; < 0: from sysfs
};

/// Parses argv; returns nullopt after printing --help.
std::optional<Options> parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--version") {
      std::cout << "loom-profile (Loom) " LOOM_VERSION "\n"
                << "built with LLVM " LLVM_VERSION_STRING "\n";
      return std::nullopt;
    }
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return std::nullopt;
    }
    if (arg.empty() || arg[0] != '-') {
      if (!o.planDir.empty())
        throw ToolError{"unexpected argument '" + arg +
                        "' (the plan folder is '" + o.planDir + "')"};
      o.planDir = arg;
      continue;
    }
    // -o FILE, -oFILE, -o=FILE, --flag VALUE, --flag=VALUE.
    auto [flag, value, inlineValue] = splitFlag(arg);
    if (!inlineValue && arg.size() > 2 && arg[0] == '-' && arg[1] == 'o') {
      flag = "-o";
      value = arg.substr(2);
      inlineValue = true;
    }
    if (flag == "--quiet" || flag == "--full") {
      if (inlineValue)
        throw ToolError{flag + " takes no value"};
      (flag == "--quiet" ? o.quiet : o.full) = true;
      continue;
    }
    static const char *const withValue[] = {"-o",
                                            "--repeat",
                                            "--device",
                                            "--input",
                                            "--threads",
                                            "--calibrate",
                                            "--fit",
                                            "--target",
                                            "--only",
                                            "--measurements",
                                            "--device-library",
                                            "--flush-mb",
                                            "--llc-kb"};
    if (std::find_if(std::begin(withValue), std::end(withValue),
                     [&](const char *f) { return flag == f; }) ==
        std::end(withValue))
      throw ToolError{"unknown option '" + flag + "' (see --help)"};
    if (!inlineValue) {
      if (i + 1 >= argc)
        throw ToolError{flag + " expects a value"};
      value = argv[++i];
    }
    if (flag == "-o") {
      if (value.empty())
        throw ToolError{"-o expects a file name"};
      o.output = value;
    } else if (flag == "--repeat") {
      o.repeat = parseCount(flag, value, 1, 1000000);
    } else if (flag == "--device") {
      if (value.empty())
        throw ToolError{"--device expects a device name"};
      o.device = value;
    } else if (flag == "--input") {
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        throw ToolError{"--input expects NAME=FILE.pb, got '" + value + "'"};
      o.inputs.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (flag == "--threads") {
      o.threads = parseCount(flag, value, 1, 1024);
    } else if (value.empty()) {
      throw ToolError{flag + " expects a value"};
    } else if (flag == "--calibrate") {
      o.calibrate = value;
    } else if (flag == "--fit") {
      o.fit = value;
    } else if (flag == "--target") {
      o.target = value;
    } else if (flag == "--only") {
      o.only = value;
    } else if (flag == "--measurements") {
      o.measurements = value;
    } else if (flag == "--device-library") {
      o.deviceLibrary = value;
    } else if (flag == "--flush-mb") {
      o.flushMB = double(parseCount(flag, value, 0, 65536));
    } else if (flag == "--llc-kb") {
      o.llcKB = double(parseCount(flag, value, 0, 1 << 22));
    }
  }
  if (!o.calibrate.empty() || !o.fit.empty()) {
    if (!o.calibrate.empty() && !o.fit.empty())
      throw ToolError{"--calibrate and --fit exclude each other"};
    if (!o.planDir.empty())
      throw ToolError{"unexpected argument '" + o.planDir + "' with " +
                      (o.fit.empty() ? "--calibrate" : "--fit")};
    if (!o.fit.empty() && o.target.empty())
      throw ToolError{"--fit needs --target TARGET (see --help)"};
    if (o.output.empty())
      throw ToolError{"missing -o FITTED.yaml (see --help)"};
    return o;
  }
  if (o.planDir.empty())
    throw ToolError{"missing the plan folder OUT_DIR (see --help)"};
  if (o.output.empty())
    throw ToolError{"missing -o COSTS.json (see --help)"};
  return o;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

/// Binds --input files, and pseudo-random values to the other inputs.
void bindInputs(Session &session, const Options &o) {
  const std::vector<TensorInfo> &infos = session.inputs();
  std::vector<std::optional<std::string>> files(infos.size());
  placeNamedInputs(session, o.inputs, files);
  for (size_t i = 0; i < infos.size(); ++i) {
    if (!files[i]) {
      if (!infos[i].folded)
        session.setInput(i, randomTensor(infos[i].dtype, infos[i].shape, i));
      continue;
    }
    bindInputFile(session, i, *files[i]);
  }
}

//===----------------------------------------------------------------------===//
// Kernel signatures
//===----------------------------------------------------------------------===//

/// The MLIR spelling of a plan dtype, as the compiler's memref element types
/// print (docs/plan-format.md names them; signed integers are signless).
const char *mlirElementType(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::I8: return "i8";
  case DType::I16: return "i16";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::U8: return "ui8";
  case DType::U16: return "ui16";
  case DType::U32: return "ui32";
  case DType::U64: return "ui64";
  case DType::Bool: return "i1";
  }
  return "?";
}

/// The kernel call of task `id` as plan-estimate-costs describes it from the
/// IR (dialects/Plan/Transforms/EstimateCosts.cpp): the same kernel name,
/// operands in order, absent ones nullopt, and `constant` for weights. The
/// partitioner may have replaced a task's operand by a transfer's copy of
/// it; the copy of a weight is still a weight, as it was when the costs
/// were estimated.
loom::cost::KernelDesc kernelDesc(const Plan &plan, size_t id,
                                  const std::vector<bool> &constant) {
  const PlanTask &task = plan.tasks[id];
  auto describe = [&](std::optional<size_t> buffer)
      -> std::optional<loom::cost::TensorDesc> {
    if (!buffer)
      return std::nullopt;
    const PlanBuffer &b = plan.buffers[*buffer];
    loom::cost::TensorDesc t;
    t.shape.assign(b.shape.begin(), b.shape.end());
    t.elementBytes = int64_t(dtypeSize(b.dtype));
    t.elementType = mlirElementType(b.dtype);
    t.constant = constant[*buffer];
    return t;
  };
  loom::cost::KernelDesc k;
  k.kernel = task.kernel;
  for (std::optional<size_t> b : task.inputs)
    k.inputs.push_back(describe(b));
  for (std::optional<size_t> b : task.outputs)
    k.outputs.push_back(describe(b));
  return k;
}

/// Which buffers hold compile-time constants: weights, and transfer copies of
/// them (tasks are in schedule order, so a copy's source is known first).
std::vector<bool> constantBuffers(const Plan &plan) {
  std::vector<bool> constant(plan.buffers.size(), false);
  for (size_t b = 0; b < plan.buffers.size(); ++b)
    constant[b] = plan.buffers[b].isWeights();
  for (const PlanTask &task : plan.tasks)
    if (task.kind == TaskKind::Transfer && task.inputs.size() == 1 &&
        task.outputs.size() == 1 && task.inputs[0] && task.outputs[0] &&
        constant[*task.inputs[0]])
      constant[*task.outputs[0]] = true;
  return constant;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

//===----------------------------------------------------------------------===//
// Measuring
//===----------------------------------------------------------------------===//


//===----------------------------------------------------------------------===//
// Calibration
//===----------------------------------------------------------------------===//

/// "host name (CPU model)" for the fitted model's `machine`.
std::string machineName() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::string cpu;
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);)
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  unsigned cores = std::thread::hardware_concurrency();
  return std::string(host) + " (" + (cpu.empty() ? "unknown CPU" : cpu) +
         ", " + std::to_string(cores) + " cores)";
}

std::string today() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", std::gmtime(&now));
  return buf;
}

/// What the fit found, for the user (stdout).
void printFit(const loom::target::FittedModel &m,
              const loom::cost::FitReport &r, size_t measurements,
              const std::string &device, const std::string &output) {
  std::cout << "loom-profile: fitted " << m.families.size()
            << " kernel families of " << device << " on " << measurements
            << " measurements (" << r.heldOut << " held out); cache "
            << formatDouble(m.cacheKB, "%.0f") << " KiB, dispatch "
            << formatDouble(m.dispatchUs.value_or(0), "%.2f") << " us\n"
            << "  held-out median error: fitted "
            << formatDouble(100 * (std::exp(m.error) - 1), "%.1f")
            << "%, roofline "
            << formatDouble(100 * (std::exp(r.rooflineError) - 1), "%.1f")
            << "%";
  if (r.derivedError)
    std::cout << ", the one-thread fit's rates x " << m.threads << " + "
              << formatDouble(r.forkJoinUs, "%.2f") << " us per call "
              << formatDouble(100 * (std::exp(*r.derivedError) - 1), "%.1f")
              << "%";
  std::cout << "\n";
  for (const auto &[name, f] : m.families)
    std::cout << "  " << name << ": fixed " << formatDouble(f.fixedUs, "%.2f")
              << " us, " << formatDouble(f.gops, "%.1f") << " GOP/s, "
              << formatDouble(f.gbs, "%.1f") << " GB/s, spill "
              << formatDouble(f.spillGbs, "%.1f") << " GB/s, "
              << formatDouble(f.transcendentalGops, "%.3f") << " G exp/s ("
              << f.samples << " samples, error "
              << formatDouble(100 * (std::exp(f.error) - 1), "%.1f") << "%)\n";
  std::cout << "  wrote " << output << "\n";
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out)
    throw ToolError{"cannot write '" + path + "'"};
}

/// The device kernels of `--device-library` (kept loaded for the process).
std::function<LoomKernelFn(const Plan &, const PlanTask &)>
deviceLibraryKernels(const std::string &path) {
  void *lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    throw ToolError{"cannot load '" + path + "': " + ::dlerror()};
  return [lib](const Plan &plan, const PlanTask &task) -> LoomKernelFn {
    std::string dtype = "f32";
    for (std::optional<size_t> b : task.inputs)
      if (b) {
        dtype = dtypeName(plan.buffers[*b].dtype);
        break;
      }
    for (std::string name :
         {"loom_" + task.device + "_" + task.kernel + "_" + dtype,
          "loom_" + task.device + "_any_kernel"})
      if (void *sym = ::dlsym(lib, name.c_str()))
        return reinterpret_cast<LoomKernelFn>(sym);
    return nullptr;
  };
}

int runCalibrate(const Options &o) {
  loom::CostCalibrationOptions c;
  c.target = o.calibrate;
  c.device = o.device;
  c.full = o.full;
  c.threads = int(o.threads);
  c.filter = o.only;
  c.flushMB = o.flushMB;
  c.llcKB = o.llcKB;
  c.progress = !o.quiet;
  c.machine = machineName();
  c.date = today();
  if (!o.deviceLibrary.empty())
    c.deviceKernels = deviceLibraryKernels(o.deviceLibrary);
  llvm::Expected<loom::CostCalibrationResult> r = loom::calibrateCosts(c);
  if (!r)
    throw ToolError{llvm::toString(r.takeError())};
  if (r->measurements.empty())
    throw ToolError{"no microkernel was measured (see --only)"};
  if (!o.measurements.empty()) {
    loom::cost::CostTable table;
    std::string device = o.device;
    llvm::Expected<loom::target::TargetDesc> t =
        loom::target::loadTarget(o.calibrate);
    if (t && device.empty())
      device = t->firstCpu()->name;
    if (t)
      table.target = t->name;
    // (A cost table has no cache state: the cold measurements stay out.)
    for (const loom::CalibrationMeasurement &m : r->measurements)
      if (!m.kernel.coldWeights)
        table.set(m.kernel, device, m.us);
    if (llvm::Error e = table.save(o.measurements))
      throw ToolError{llvm::toString(std::move(e))};
  }
  writeText(o.output, r->targetYaml);
  if (!o.quiet)
    printFit(r->model, r->report, r->measurements.size(),
             o.device.empty() ? "the CPU" : o.device, o.output);
  return kExitOk;
}

int runFit(const Options &o) {
  llvm::Expected<loom::cost::CostTable> table =
      loom::cost::CostTable::load(o.fit);
  if (!table)
    throw ToolError{llvm::toString(table.takeError())};
  llvm::Expected<loom::target::TargetDesc> target =
      loom::target::loadTarget(o.target);
  if (!target)
    throw ToolError{llvm::toString(target.takeError())};
  const loom::target::DeviceDesc *device =
      o.device.empty() ? target->firstCpu() : target->findDevice(o.device);
  if (!device)
    throw ToolError{"target '" + target->name + "' has no device '" +
                    o.device + "'"};
  loom::target::DeviceDesc roof = *device;
  roof.fitted.reset();
  std::vector<loom::CalibrationMeasurement> ms;
  for (auto &[kernel, us] : table->kernels()) {
    auto it = us.find(device->name);
    if (it == us.end())
      continue;
    loom::CalibrationMeasurement m;
    m.kernel = kernel;
    m.us = it->second;
    std::optional<loom::cost::Roofline> r =
        loom::cost::estimateRoofline(kernel, roof);
    if (!r)
      continue; // the device cannot run it
    m.rooflineUs = r->totalUs();
    ms.push_back(std::move(m));
  }
  if (ms.empty())
    throw ToolError{"'" + o.fit + "' has no measurements for device '" +
                    device->name + "' that it can run"};
  loom::CostCalibrationOptions c;
  c.threads = int(o.threads);
  c.machine = machineName();
  c.date = today();
  loom::cost::FitReport report;
  loom::target::FittedModel model =
      loom::fitMeasurements(ms, *device, c, &report);
  std::string text;
  if (std::optional<llvm::StringRef> builtin =
          loom::target::builtinTargetText(o.target)) {
    text = builtin->str();
  } else {
    std::ifstream in(o.target, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  llvm::Expected<std::string> yaml = loom::cost::withFittedModels(
      text, device->name, loom::cost::mergeFits(device->fits, model));
  if (!yaml)
    throw ToolError{llvm::toString(yaml.takeError())};
  writeText(o.output, *yaml);
  if (!o.quiet)
    printFit(model, report, ms.size(), device->name, o.output);
  return kExitOk;
}

int runTool(const Options &o) {
  if (!o.calibrate.empty())
    return runCalibrate(o);
  if (!o.fit.empty())
    return runFit(o);
  SessionOptions sessionOptions;
  sessionOptions.threads = int(o.threads);
  std::unique_ptr<Session> session = Session::load(o.planDir, sessionOptions);
  const Plan &plan = session->plan();
  bindInputs(*session, o);

  session->run(); // Warm-up.
  std::vector<std::vector<double>> samples(plan.tasks.size());
  std::vector<double> latenciesUs;
  for (long r = 0; r < o.repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    session->run();
    latenciesUs.push_back(std::chrono::duration<double, std::micro>(
                              std::chrono::steady_clock::now() - start)
                              .count());
    std::vector<std::optional<double>> times =
        taskTimes(plan, session->lastTimings());
    for (size_t id = 0; id < times.size(); ++id)
      if (times[id])
        samples[id].push_back(*times[id]);
  }

  // Per (signature, device): the kernel and every task's median.
  struct Group {
    loom::cost::KernelDesc kernel;
    std::string device;
    std::vector<double> us;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  std::vector<bool> constant = constantBuffers(plan);
  size_t measured = 0;
  for (size_t id = 0; id < plan.tasks.size(); ++id) {
    const PlanTask &task = plan.tasks[id];
    if (task.kind != TaskKind::Kernel || samples[id].empty())
      continue;
    loom::cost::KernelDesc k = kernelDesc(plan, id, constant);
    std::string device = o.device.empty() ? task.device : o.device;
    Group &g = groups[{loom::cost::kernelSignature(k), device}];
    g.kernel = std::move(k);
    g.device = device;
    g.us.push_back(median(samples[id]));
    ++measured;
  }

  loom::cost::CostTable table;
  table.target = plan.target;
  for (const auto &[key, g] : groups)
    table.set(g.kernel, g.device, median(g.us));
  if (llvm::Error e = table.save(o.output))
    throw ToolError{llvm::toString(std::move(e))};
  if (!o.quiet)
    std::cout << "loom-profile: " << measured << " tasks, " << table.size()
              << " kernel signatures, " << o.repeat << " runs: median "
              << formatDouble(median(latenciesUs) / 1000, "%.3f")
              << " ms measured, " << formatDouble(plan.makespanUs / 1000, "%.3f")
              << " ms predicted by the plan; wrote " << o.output << "\n";
  return kExitOk;
}

} // namespace

int main(int argc, char **argv) {
  try {
    std::optional<Options> options = parseArgs(argc, argv);
    if (!options)
      return kExitOk;
    return runTool(*options);
  } catch (const ToolError &e) {
    std::cerr << "loom-profile: error: " << e.message << "\n";
  } catch (const KernelError &e) {
    std::cerr << "loom-profile: error: " << e.message << "\n";
  } catch (const std::exception &e) {
    std::cerr << "loom-profile: error: " << e.what() << "\n";
  }
  return kExitError;
}
