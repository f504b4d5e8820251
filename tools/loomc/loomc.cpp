//===- loomc.cpp - The Loom compiler driver --------------------------------===//
//
//   loomc MODEL.onnx -o OUT_DIR [--target=NAME|FILE] [--input-shape NAME=DIMS]
//         [--dim PARAM=VALUE] [--const-input NAME=VALUE|FILE.pb]
//         [--emit=LIST] [-O0|-O1|-O2]
//
// Imports the model, binds its dimensions, folds shape computations, checks
// that every shape is static, turns the graph into a plan (tasks, buffers,
// weights; docs/plan-format.md) and writes OUT_DIR/plan.json,
// OUT_DIR/weights.bin and OUT_DIR/model.mlir (the plan-level IR). OUT_DIR
// must be new, empty or a previous loomc output (loom/Support/OutputDir.h);
// it is written only when compilation succeeds (files go to a temporary
// folder next to it that is moved into place at the end).
// Exit codes: 0 success, 1 bad input or compile error, 2 usage error.
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/PlanEmitter.h"
#include "loom/Emit/Placement.h"
#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/InitAll.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Support/OutputDir.h"
#include "loom/Target/Target.h"
#include "Loom/LoomOps.h"
#include "Plan/PlanOps.h"
#include "GenerateDriver.h"
#include "ScenarioDriver.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include <cmath>
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory loomCategory("loomc options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::cat(loomCategory));
static cl::opt<std::string> outDir("o", cl::desc("Output directory"),
                                   cl::value_desc("OUT_DIR"),
                                   cl::cat(loomCategory));
static cl::opt<std::string>
    target("target",
           cl::desc("Target SoC: a built-in name or a YAML file, see "
                    "docs/targets.md (default: ryzen-ai-300)"),
           cl::value_desc("NAME|FILE"), cl::init("ryzen-ai-300"),
           cl::cat(loomCategory));
static cl::opt<std::string> partitioner(
    "partitioner",
    cl::desc("How tasks are placed on the target's devices: auto (HEFT plus "
             "local search, never worse than the best single device), heft, "
             "greedy, exact (at most 20 tasks) or single:DEVICE"),
    cl::value_desc("ALGORITHM"), cl::init("auto"), cl::cat(loomCategory));
static cl::opt<bool> noSplit(
    "no-split",
    cl::desc("Never split a heavy MatMul/Gemm/Conv across two devices "
             "(co-execution is tried by default and kept only when it lowers "
             "the predicted latency)"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<std::string> costTable(
    "cost-table",
    cl::desc("Measured kernel times (JSON, e.g. written by loom-profile) that "
             "replace the cost model's estimates, see docs/targets.md"),
    cl::value_desc("FILE"), cl::init(""), cl::cat(loomCategory));
static cl::opt<bool> allowForeignCostTable(
    "allow-foreign-cost-table",
    cl::desc("Use a --cost-table measured on another target (its `target` "
             "differs) with a warning instead of an error"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<std::string> costModel(
    "cost-model",
    cl::desc("auto (default): a device's fitted cost model where the target "
             "has one (loom-profile --calibrate), else the roofline; "
             "roofline: the roofline everywhere (docs/targets.md)"),
    cl::value_desc("auto|roofline"), cl::init("auto"), cl::cat(loomCategory));
// (`--threads` is an option of LLVM's own, registered by libLLVM.)
static cl::opt<int> threads(
    "kernel-threads",
    cl::desc("Threads each kernel will run with (loom-run --threads): a "
             "device with fitted cost models for several thread counts is "
             "priced by the one for N (docs/targets.md); default 1"),
    cl::value_desc("N"), cl::init(1), cl::cat(loomCategory));
static cl::opt<std::string> devicePrecision(
    "device-precision",
    cl::desc("auto (default): an f32 task may run on a device without f32 "
             "arithmetic (the built-in NPUs) in the device's bf16 or f16, "
             "where the cost model says it pays and the accuracy check "
             "passes; exact: f32 everywhere (docs/targets.md)"),
    cl::value_desc("auto|exact"), cl::init("auto"), cl::cat(loomCategory));
static cl::opt<bool> explainPlacement(
    "explain-placement",
    cl::desc("Print, per task, its estimated cost on every device, the "
             "device chosen and why"),
    cl::init(false), cl::cat(loomCategory));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Shape of a graph input, e.g. images=1x3x640x640 "
                         "(repeatable)"),
                cl::value_desc("NAME=DIMS"), cl::cat(loomCategory));
static cl::list<std::string>
    dims("dim", cl::desc("Value of an ONNX dim_param, everywhere (repeatable)"),
         cl::value_desc("PARAM=VALUE"), cl::cat(loomCategory));
static cl::list<std::string> constInputs(
    "const-input",
    cl::desc("Fold a graph input into the model: a comma-separated value list "
             "or a TensorProto file (repeatable)"),
    cl::value_desc("NAME=VALUE|NAME=FILE.pb"), cl::cat(loomCategory));
static cl::opt<int64_t> maxTripCount(
    "max-trip-count",
    cl::desc("Bound on the iterations of a Loop whose trip count is known "
             "only at run time (a run that needs more fails); a constant M "
             "is a bound already"),
    cl::value_desc("N"), cl::init(-1), cl::cat(loomCategory));
static cl::list<std::string>
    emit("emit",
         cl::desc("What to write into OUT_DIR, comma-separated: plan "
                  "(plan.json + weights.bin), trace (trace.json, the "
                  "predicted schedule as a Chrome trace), report "
                  "(report.html), mlir (model.mlir, the plan-level IR), "
                  "loom-mlir (model.loom.mlir, the optimized graph before "
                  "planning), stubs (runtime/: the typed C++ API, the "
                  "device kernels and a CMakeLists.txt, see docs/tools.md); "
                  "default: plan,trace,report,mlir. With loom-mlir alone, no "
                  "plan is built"),
         cl::value_desc("LIST"), cl::CommaSeparated, cl::cat(loomCategory));
// -O0, -O1, -O2 with one dash (a prefix option, as compilers spell them).
static cl::opt<unsigned> optLevel(
    "O", cl::Prefix,
    cl::desc("Optimization level: -O0 imports, binds and folds only; -O1 "
             "(default) and -O2 also fuse (docs/fused-ops.md) and form the "
             "quantized kernels of a pre-quantized model"),
    cl::value_desc("0|1|2"), cl::init(1), cl::cat(loomCategory));
static cl::opt<std::string> stubName(
    "stub-name",
    cl::desc("Name of the model in the runtime stubs (--emit=stubs): file "
             "names and the class name (default: the model file's name)"),
    cl::value_desc("NAME"), cl::init(""), cl::cat(loomCategory));
static cl::opt<bool> embedWeights(
    "embed-weights",
    cl::desc("With --emit=stubs: also write runtime/NAME_embedded.cpp, which "
             "embeds plan.json and weights.bin (from OUT_DIR, by absolute "
             "path) into the program, and give the class loadEmbedded()"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<bool> listDevices(
    "list-devices",
    cl::desc("Print the devices of --target, one per line, and exit (no "
             "model needed; loom_add_model uses it to name the stub files)"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<bool> listTargets(
    "list-targets",
    cl::desc("Print the built-in targets, one line each (devices, memory), "
             "and exit"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<std::string> scenarioFile(
    "scenario",
    cl::desc("Compile a real-time scenario instead of one model: every model "
             "of FILE.yaml, then one static schedule (also "
             "--scenario-policy=NAME, --allow-misses, --models-dir=DIR; see "
             "docs/scenarios.md)"),
    cl::value_desc("FILE.yaml"), cl::init(""), cl::cat(loomCategory));
static cl::opt<std::string> quantizeMode(
    "quantize",
    cl::desc("Quantize MatMul/Gemm/Conv after fusion: w8, w4 (weight-only), "
             "int8 (static, needs --calibration-data), awq-w4 (needs "
             "--calibration-data), dynamic, auto (int8 where the target's "
             "cost model says it pays, needs --calibration-data), ternary "
             "(MatMul weights in {-1, 0, +1} x a scale per group, 2 bits "
             "each; convs w8); the report gives the SQNR against the float "
             "model, see docs/quantization.md"),
    cl::value_desc("MODE"), cl::init(""), cl::cat(loomCategory));
static cl::opt<std::string> sparsity(
    "sparsity",
    cl::desc("Prune MatMul weights to 2:4 along the reduction axis (two of "
             "every four kept, by magnitude) and store only the kept values "
             "and their positions; with --quantize=w8, w4 or ternary"),
    cl::value_desc("2:4"), cl::init(""), cl::cat(loomCategory));
static cl::list<std::string> calibrationData(
    "calibration-data",
    cl::desc("Input sets for calibration: a folder in the ONNX test-data "
             "layout (test_data_set_*/input_*.pb) or a folder of .pb inputs "
             "(repeatable, comma-separated)"),
    cl::value_desc("DIR"), cl::CommaSeparated, cl::cat(loomCategory));
static cl::opt<std::string> calibrationMethod(
    "calibration-method",
    cl::desc("How activation ranges are chosen: minmax (default), "
             "percentile, entropy"),
    cl::value_desc("METHOD"), cl::init("minmax"), cl::cat(loomCategory));
static cl::opt<double> calibrationPercentile(
    "calibration-percentile",
    cl::desc("Percentile of --calibration-method=percentile (default 99.99)"),
    cl::init(99.99), cl::cat(loomCategory));
static cl::opt<int64_t> groupSize(
    "group-size",
    cl::desc("Weights per scale along the reduction axis for w4 / awq-w4 "
             "(default 128); 8-bit weights take such groups where they keep "
             "a layer's weights 6 dB closer than one scale per output "
             "channel"),
    cl::init(128), cl::cat(loomCategory));
static cl::opt<bool> biasCorrection(
    "bias-correction",
    cl::desc("With --quantize: add to each quantized layer's bias the mean "
             "error its weight rounding causes (empirical bias correction, "
             "measured on the calibration data, else seeded random inputs), "
             "where that lowers the layer's output error (always on with "
             "--quantize=auto)"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<std::string> keepFloat(
    "keep-float",
    cl::desc("With --quantize: keep in f32 the layers whose quantization "
             "costs most (lowest SQNR of their own output) while their f32 "
             "weights fit PERCENT of the quantizable layers' f32 weight "
             "bytes (default 0: none)"),
    cl::value_desc("PERCENT"), cl::init("0"), cl::cat(loomCategory));
static cl::opt<std::string> keepFloatBy(
    "keep-float-by",
    cl::desc("What ranks the layers for --keep-float: layer (default: the "
             "SQNR of the layer's own output, one host run) or output (the "
             "SQNR of the model outputs with that layer alone quantized, one "
             "host run per layer)"),
    cl::value_desc("MEASURE"), cl::init("layer"), cl::cat(loomCategory));
static cl::opt<std::string> equalize(
    "equalize",
    cl::desc("With --quantize: cross-layer equalization of consecutive "
             "convolutions: auto (default: a pair is equalized where its "
             "second convolution quantizes with less error equalized than "
             "not, measured on the calibration data, else seeded random "
             "inputs), all or none"),
    cl::value_desc("WHICH"), cl::init("auto"), cl::cat(loomCategory));
static cl::opt<std::string> smooth(
    "smooth",
    cl::desc("With --quantize=int8 or auto: auto (default: divide each "
             "activation channel by a scale folded into the weights, "
             "SmoothQuant, where that lowers the layer's estimated rounding "
             "noise by 1 dB or more) or none"),
    cl::value_desc("WHICH"), cl::init("auto"), cl::cat(loomCategory));
static cl::list<std::string> evalData(
    "eval-data",
    cl::desc("Input sets the quantization accuracy is measured on (default: "
             "the calibration data, else seeded random inputs)"),
    cl::value_desc("DIR"), cl::CommaSeparated, cl::cat(loomCategory));
static cl::opt<bool> quiet("quiet", cl::desc("Print no summary"),
                           cl::init(false), cl::cat(loomCategory));

namespace {

/// Per task: the estimate on every device, where it runs and why (the
/// reason is report.html's too: loom::emit::explainPlacement).
void explain(ModuleOp module) {
  auto &os = llvm::outs();
  os << "placement (estimated us per device; * = chosen):\n";
  module.walk([&](loom::plan::TaskOp task) {
    loom::emit::PlacementExplanation e =
        loom::emit::explainPlacement(module, task);
    os << "  " << task.getName() << " (" << task.getKernel() << "):";
    for (const auto &[device, us] : e.costs) {
      os << " " << device << (device == e.chosen ? "*" : "") << "=";
      if (us)
        os << llvm::format("%.2f", *us);
      else
        os << "-";
    }
    os << " -> " << e.reason << "\n";
  });
}

/// The plan pipeline as loomc's flags choose it.
loom::PlanPipelineOptions planPipelineOptions() {
  loom::PlanPipelineOptions options;
  options.target = target;
  options.partitioner = partitioner;
  options.split = !noSplit;
  options.costTable = costTable;
  options.allowForeignCostTable = allowForeignCostTable;
  options.costModel = costModel;
  options.devicePrecision = devicePrecision;
  options.threads = threads;
  return options;
}

/// `bytes` in the largest binary unit that keeps it >= 1 (`512 B`,
/// `1.5 KiB`, `12.0 MiB`, `1.2 GiB`).
std::string humanBytes(int64_t bytes) {
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes) / 1024;
  size_t u = 0;
  for (; v >= 1024 && u + 1 < std::size(units); ++u)
    v /= 1024;
  return llvm::formatv("{0:f1} {1}", v, units[u]).str();
}

/// One sentence per device of the plan that can run none of its tasks
/// because it runs none of the model's element types (the built-in NPUs
/// run only i8/bf16), with the remedy; empty when there is none.
std::string idleDeviceNotes(ModuleOp module,
                            const loom::target::TargetDesc &desc) {
  std::map<std::string, size_t> capable;
  size_t tasks = 0;
  module.walk([&](loom::plan::TaskOp task) {
    ++tasks;
    if (auto costs = task.getCostUsAttr())
      for (NamedAttribute n : costs)
        if (isa<FloatAttr>(n.getValue()))
          ++capable[n.getName().str()];
  });
  std::string notes;
  // A plan made again in f32 by the precision check: its `precision:` line
  // says why the device stays idle.
  if (auto p = module->getAttrOfType<DictionaryAttr>("loom.device_precision"))
    if (p.getAs<BoolAttr>("kept_exact").getValue())
      return notes;
  for (const auto &d : desc.devices) {
    if (!tasks || capable[d.name] || d.runs(loom::target::DType::F32))
      continue;
    std::string types;
    for (size_t t = 0; t < loom::target::kNumDTypes; ++t)
      if (d.runs(loom::target::DType(t)))
        types += (types.empty() ? "" : ", ") +
                 loom::target::dtypeName(loom::target::DType(t)).str();
    // With --device-precision=exact, its 16-bit float is the other remedy.
    std::string reduced;
    for (auto t : {loom::target::DType::BF16, loom::target::DType::F16})
      if (reduced.empty() && d.runs(t))
        reduced = loom::target::dtypeName(t).str();
    notes += "  note:      " + d.name + " can run none of the " +
             std::to_string(tasks) + " tasks: it runs only " +
             (types.empty() ? std::string("no element type") : types) +
             " kernels and this model computes in f32; quantize it "
             "(--quantize=int8 with --calibration-data, or "
             "--quantize=dynamic; docs/quantization.md)" +
             (reduced.empty() ? std::string()
                              : " or let it compute in " + reduced +
                                    " (--device-precision=auto)") +
             " to use " + d.name + "\n";
  }
  return notes;
}

/// The per-layer line of the quantization summary: the worst quantized
/// layer (its own output against the same op in f32), the bias corrections
/// and the layers kept float.
void printLayerSummary(llvm::raw_ostream &os, DictionaryAttr q) {
  auto layers = q.getAs<ArrayAttr>("layers");
  if (!layers || layers.empty())
    return;
  int64_t quantized = 0, measured = 0, corrected = 0;
  DictionaryAttr worst;
  std::string kept;
  for (Attribute a : layers) {
    auto d = cast<DictionaryAttr>(a);
    if (d.get("kept_float")) {
      kept += (kept.empty() ? "" : ", ") +
              d.getAs<StringAttr>("name").getValue().str();
      continue;
    }
    ++quantized;
    if (auto c = d.getAs<BoolAttr>("bias_correction")) {
      ++measured;
      corrected += c.getValue();
    }
    if (!worst || d.getAs<FloatAttr>("sqnr_db").getValueAsDouble() <
                      worst.getAs<FloatAttr>("sqnr_db").getValueAsDouble())
      worst = d;
  }
  int64_t sets = q.getAs<IntegerAttr>("layer_input_sets").getInt();
  os << "    layers: " << quantized << " quantized";
  if (worst)
    os << ", worst " << worst.getAs<StringAttr>("name").getValue() << " ("
       << worst.getAs<StringAttr>("kind").getValue() << ", "
       << worst.getAs<StringAttr>("format").getValue() << ") SQNR "
       << llvm::format("%.1f",
                       worst.getAs<FloatAttr>("sqnr_db").getValueAsDouble())
       << " dB against the layer in f32 on its own input (" << sets
       << " input set" << (sets == 1 ? "" : "s") << ")";
  if (measured)
    os << "; bias correction on " << corrected << " of " << measured;
  if (!kept.empty())
    os << "; kept f32 ("
       << llvm::format("%g", q.getAs<FloatAttr>("keep_float_percent")
                                 .getValueAsDouble())
       << "% of the weights"
       << (q.getAs<StringAttr>("keep_float_by") &&
                   q.getAs<StringAttr>("keep_float_by").getValue() == "output"
               ? ", ranked by the outputs' SQNR with each layer alone "
                 "quantized"
               : "")
       << "): " << kept;
  os << "\n";
  if (int64_t pairs = q.getAs<IntegerAttr>("equalizable_pairs")
                          ? q.getAs<IntegerAttr>("equalizable_pairs").getInt()
                          : 0) {
    llvm::StringRef how = q.getAs<StringAttr>("equalize").getValue();
    os << "    equalized: " << q.getAs<IntegerAttr>("equalized_pairs").getInt()
       << " of " << pairs << " conv pair" << (pairs == 1 ? "" : "s");
    if (how == "auto")
      os << " (where that raised the second conv's SQNR by 1 dB or more, on "
         << q.getAs<StringAttr>("tuning_inputs").getValue() << " inputs)";
    else
      os << " (--equalize=" << how << ")";
    os << "\n";
  }
  if (auto n = q.getAs<IntegerAttr>("smoothed_layers"); n && n.getInt())
    os << "    smoothed: " << n.getInt() << " of " << quantized
       << " layers (activation channels divided into the weights where that "
          "lowered the layer's estimated rounding noise by 1 dB or more)\n";
}

/// The closing summary: sizes, predicted latency against the lower bound
/// and the best single-device plan, memory per device.
void printSummary(ModuleOp module, const loom::target::TargetDesc &desc,
                  bool emitPlan, bool emitTrace,
                  bool emitReport, bool emitMlir, bool emitLoom,
                  bool emitStubs) {
  size_t inputs = 0, outputs = 0, tasks = 0, transfers = 0, weights = 0,
         splitParts = 0;
  int64_t weightBytes = 0;
  double makespan = 0, bound = 0;
  std::optional<double> bestSingle;
  std::string bestSingleDevice;
  module->walk([&](Operation *op) {
    if (isa<loom::plan::InputOp>(op))
      ++inputs;
    else if (isa<loom::plan::OutputOp>(op))
      ++outputs;
    else if (isa<loom::plan::TaskOp>(op)) {
      ++tasks;
      if (op->hasAttr("split"))
        ++splitParts;
    }
    else if (isa<loom::plan::TransferOp>(op))
      ++transfers;
    else if (auto w = dyn_cast<loom::plan::WeightOp>(op)) {
      ++weights;
      weightBytes += w.getSizeInBytes();
    } else if (auto s = dyn_cast<loom::plan::ScheduleOp>(op)) {
      makespan = s.getMakespanUs() ? s.getMakespanUs()->convertToDouble() : 0;
      if (auto b = s->getAttrOfType<FloatAttr>("lower_bound_us"))
        bound = b.getValueAsDouble();
      if (auto singles = s->getAttrOfType<DictionaryAttr>("single_device_us"))
        for (NamedAttribute n : singles)
          if (auto f = dyn_cast<FloatAttr>(n.getValue()))
            if (!bestSingle || f.getValueAsDouble() < *bestSingle) {
              bestSingle = f.getValueAsDouble();
              bestSingleDevice = n.getName().str();
            }
    }
  });
  std::string memory;
  for (auto a : module.getOps<loom::plan::ArenaOp>())
    memory += (memory.empty() ? "" : ", ") + a.getDevice().str() + " " +
              humanBytes(int64_t(a.getPeakBytes().value_or(0)));
  std::string wrote;
  StringRef dir = outDir.getValue();
  while (dir.size() > 1 && dir.ends_with("/"))
    dir = dir.drop_back();
  auto add = [&](bool on, const char *file) {
    if (on)
      wrote += (wrote.empty() ? "" : ", ") + dir.str() + "/" + file;
  };
  add(emitPlan, "plan.json");
  add(emitPlan, "weights.bin");
  add(emitPlan && module->hasAttr("loom.quantization"), "quantization.json");
  add(emitTrace, "trace.json");
  add(emitReport, "report.html");
  add(emitMlir, "model.mlir");
  add(emitLoom, "model.loom.mlir");
  add(emitStubs, "runtime/");
  auto &os = llvm::outs();
  os << "loomc: compiled " << modelPath << " for target '" << target << "'\n"
     << "  inputs:    " << inputs << "\n"
     << "  outputs:   " << outputs << "\n"
     << "  tasks:     " << tasks << " (+" << transfers << " transfers)";
  if (splitParts)
    os << "; " << splitParts << " are parts of ops split across two devices";
  os << "\n"
     << "  weights:   " << weights << " (" << humanBytes(weightBytes)
     << ")\n";
  if (auto table = module->getAttrOfType<DictionaryAttr>("plan.cost_table")) {
    int64_t measured = table.getAs<IntegerAttr>("measured_tasks").getInt();
    os << "  costs:     " << measured << " of " << tasks
       << " tasks from the cost table "
       << table.getAs<StringAttr>("file").getValue()
       << (size_t(measured) < tasks ? ", the others estimated by the cost model"
                                    : "")
       << "\n";
  }
  if (!memory.empty()) {
    os << "  memory:    " << memory << " peak\n"
       << "  predicted: " << llvm::format("%.1f", makespan) << " us (lower bound "
       << llvm::format("%.1f", bound) << " us";
    if (bestSingle && makespan > 0)
      os << "; best single device " << bestSingleDevice << " "
         << llvm::format("%.1f", *bestSingle) << " us, speed-up "
         << llvm::format("%.2f", *bestSingle / makespan) << "x";
    os << ")\n";
  }
  os << idleDeviceNotes(module, desc);
  if (auto p = module->getAttrOfType<DictionaryAttr>("loom.device_precision")) {
    double db = p.getAs<FloatAttr>("sqnr_db").getValueAsDouble();
    std::string sqnr = std::isinf(db) ? std::string(db > 0 ? "inf" : "-inf")
                                      : llvm::formatv("{0:F1}", db).str();
    std::string devices;
    for (Attribute a : p.getAs<ArrayAttr>("devices")) {
      auto d = cast<DictionaryAttr>(a);
      devices += (devices.empty() ? "" : ", ") +
                 d.getAs<StringAttr>("device").getValue().str() + " " +
                 d.getAs<StringAttr>("type").getValue().str() + " (" +
                 std::to_string(d.getAs<IntegerAttr>("tasks").getInt()) +
                 (d.getAs<IntegerAttr>("tasks").getInt() == 1 ? " task)"
                                                              : " tasks)");
    }
    std::string output = p.getAs<StringAttr>("output").getValue().str();
    if (p.getAs<BoolAttr>("kept_exact").getValue())
      os << "  precision: f32 everywhere: " << devices << " gave an SQNR of "
         << sqnr << " dB against f32 at output '" << output << "', below "
         << llvm::formatv("{0:F0}", loom::kMinDevicePrecisionSqnrDb)
         << " dB\n";
    else
      os << "  precision: " << devices << ", the rest f32; SQNR " << sqnr
         << " dB against f32 (output '" << output
         << "', 2 seeded input sets; --device-precision=exact keeps f32)\n";
  }
  if (auto q = module->getAttrOfType<DictionaryAttr>("loom.quantization")) {
    os << "  quantized: " << q.getAs<StringAttr>("mode").getValue();
    if (auto sp = q.getAs<StringAttr>("sparsity"); sp && !sp.getValue().empty())
      os << " " << sp.getValue() << " sparse";
    os << ", "
       << q.getAs<IntegerAttr>("quantized_kernels").getInt()
       << " quantized kernels";
    if (int64_t c = q.getAs<IntegerAttr>("calibration_sets").getInt())
      os << ", calibrated on " << c << " input set" << (c == 1 ? "" : "s");
    os << "; vs float on "
       << q.getAs<IntegerAttr>("input_sets").getInt() << " input sets ("
       << q.getAs<StringAttr>("inputs").getValue() << "):\n";
    for (Attribute a : q.getAs<ArrayAttr>("outputs")) {
      auto d = cast<DictionaryAttr>(a);
      os << "    " << d.getAs<StringAttr>("name").getValue() << ": SQNR "
         << llvm::format("%.1f", d.getAs<FloatAttr>("sqnr_db").getValueAsDouble())
         << " dB, max abs error "
         << llvm::format("%.3g",
                         d.getAs<FloatAttr>("max_abs_error").getValueAsDouble());
      if (auto t = d.getAs<FloatAttr>("top1_agreement"))
        os << ", top-1 agreement "
           << llvm::format("%.1f", 100 * t.getValueAsDouble()) << "%";
      if (auto r = d.getAs<FloatAttr>("vs_reference_max_abs_error"))
        os << "; vs the expected outputs: max abs error "
           << llvm::format("%.3g", r.getValueAsDouble()) << " (float model "
           << llvm::format("%.3g", d.getAs<FloatAttr>(
                                        "float_vs_reference_max_abs_error")
                                        .getValueAsDouble())
           << ")";
      os << "\n";
    }
    printLayerSummary(os, q);
  }
  os << "  wrote:     " << wrote << "\n";
}
/// Prints diagnostics as `loomc: error: <file>: node 'x': message`.
void printDiagnostic(Diagnostic &diag) {
  llvm::raw_ostream &os = llvm::errs();
  os << "loomc: ";
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error: os << "error: "; break;
  case DiagnosticSeverity::Warning: os << "warning: "; break;
  case DiagnosticSeverity::Note: os << "note: "; break;
  case DiagnosticSeverity::Remark: os << "remark: "; break;
  }
  os << modelPath << ": ";
  Location loc = diag.getLocation();
  if (auto name = dyn_cast<NameLoc>(loc))
    os << "node '" << name.getName().getValue() << "': ";
  os << diag << "\n";
  for (Diagnostic &note : diag.getNotes())
    printDiagnostic(note);
}

/// One line per built-in target: its devices (kind, queues, the element
/// types they run) and its memory (bandwidth, shared or not, limits).
void printTargets() {
  auto &os = llvm::outs();
  for (const std::string &name : loom::target::builtinTargetNames()) {
    std::optional<loom::target::TargetDesc> t =
        loom::target::getBuiltinTarget(name);
    if (!t)
      continue;
    os << name << ":";
    double bandwidth = 0;
    std::string limits;
    for (const auto &d : t->devices) {
      std::string types;
      for (size_t i = 0; i < loom::target::kNumDTypes; ++i)
        if (d.runs(loom::target::DType(i)))
          types += (types.empty() ? "" : " ") +
                   loom::target::dtypeName(loom::target::DType(i)).str();
      os << (&d == &t->devices.front() ? " " : ", ") << d.name << " ("
         << types << (d.queues > 1 ? ", " + std::to_string(d.queues) +
                                         " queues"
                                   : std::string())
         << ")";
      bandwidth = std::max(bandwidth, d.bandwidthGBs);
      if (d.memoryMB)
        limits += (limits.empty() ? "" : ", ") + d.name + " " +
                  llvm::formatv("{0}", llvm::format("%g", *d.memoryMB)).str() +
                  " MiB";
    }
    bool shared = llvm::all_of(
        t->links, [](const loom::target::LinkDesc &l) { return l.sharedMemory; });
    os << "; memory: " << llvm::format("%g", bandwidth) << " GB/s";
    if (t->devices.size() > 1)
      os << (shared ? ", shared by every device" : ", copies between devices");
    os << (limits.empty() ? "" : "; limits: " + limits) << "\n";
  }
}

int usage(llvm::StringRef message) {
  llvm::errs() << "loomc: " << message << "\n"
               << "usage: loomc MODEL.onnx -o OUT_DIR [options]; see loomc --help\n";
  return 2;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // Stamped into the runtime stubs (argv[0] as "loomc", whatever its path).
  std::string commandLine = "loomc";
  for (int i = 1; i < argc; ++i)
    commandLine += std::string(" ") + argv[i];
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  loom::registerAllPasses();
  // libLLVM registers every backend's flags in the general category: show
  // only loomc's own options and the MLIR debugging flags users need.
  static cl::OptionCategory debugCategory("MLIR debugging options");
  for (const char *name :
       {"mlir-timing", "mlir-timing-display", "mlir-print-ir-after-all",
        "mlir-print-ir-before-all", "mlir-print-ir-after-failure",
        "mlir-pass-statistics", "mlir-print-debuginfo"}) {
    auto &options = cl::getRegisteredOptions();
    if (auto it = options.find(name); it != options.end())
      it->second->addCategory(debugCategory);
  }
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "loomc (Loom) " LOOM_VERSION "\n"
       << "built with LLVM " LLVM_VERSION_STRING "\n";
  });
  cl::HideUnrelatedOptions({&loomCategory,
                            &loom::scenario::scenarioOptionCategory(),
                            &loom::generate::generateOptionCategory(),
                            &debugCategory});
  std::string errors;
  llvm::raw_string_ostream errStream(errors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "loomc: the Loom ahead-of-time compiler for heterogeneous SoCs\n\n"
          "Compiles an ONNX model for a CPU+GPU+NPU target and writes the "
          "result to OUT_DIR.\nExit codes: 0 success, 1 bad input or compile "
          "error, 2 usage error.\n",
          &errStream)) {
    llvm::errs() << errors;
    return 2;
  }
  if (listTargets) {
    printTargets();
    return 0;
  }
  if (maxTripCount < -1 || (maxTripCount.getNumOccurrences() && maxTripCount < 0))
    return usage("--max-trip-count=" + std::to_string(maxTripCount) +
                 ": the bound must be 0 or more");
  if (optLevel > 2)
    return usage("-O" + std::to_string(optLevel) +
                 ": unknown optimization level (known: -O0, -O1, -O2)");
  if (devicePrecision != "auto" && devicePrecision != "exact")
    return usage("--device-precision: unknown precision '" + devicePrecision +
                 "' (known: auto, exact)");
  if (embedWeights && !llvm::is_contained(emit, std::string("stubs")))
    return usage("--embed-weights needs --emit=stubs");
  if (!quantizeMode.empty() && !loom::isQuantizeMode(quantizeMode))
    return usage("--quantize: unknown mode '" + quantizeMode +
                 "' (known: w8, w4, int8, awq-w4, dynamic, auto, ternary)");
  if (!sparsity.empty() && sparsity != "2:4")
    return usage("--sparsity: unknown pattern '" + sparsity + "' (known: 2:4)");
  if (!sparsity.empty() &&
      !llvm::is_contained({"w8", "w4", "ternary"}, quantizeMode.getValue()))
    return usage("--sparsity=2:4 needs --quantize=w8, w4 or ternary (" +
                 (quantizeMode.empty() ? std::string("no --quantize given")
                                       : "not " + quantizeMode) +
                 ")");
  if (loom::modeNeedsCalibration(quantizeMode) && calibrationData.empty())
    return usage("--quantize=" + quantizeMode +
                 " needs --calibration-data=DIR (input sets to calibrate on)");
  if (quantizeMode.empty() && (!calibrationData.empty() || !evalData.empty()))
    return usage("--calibration-data / --eval-data need --quantize=MODE");
  if (!llvm::is_contained({"minmax", "percentile", "entropy"},
                          calibrationMethod.getValue()))
    return usage("--calibration-method: unknown method '" + calibrationMethod +
                 "' (known: minmax, percentile, entropy)");
  if (!(calibrationPercentile > 0 && calibrationPercentile <= 100))
    return usage("--calibration-percentile must be in (0, 100]");
  if (groupSize <= 0)
    return usage("--group-size must be > 0");
  double keepFloatPercent = 0;
  if (llvm::StringRef(keepFloat).getAsDouble(keepFloatPercent) ||
      !(keepFloatPercent >= 0 && keepFloatPercent <= 100))
    return usage("--keep-float=" + keepFloat +
                 ": expected a percentage in [0, 100]");
  if (keepFloatBy != "layer" && keepFloatBy != "output")
    return usage("--keep-float-by: unknown measure '" + keepFloatBy +
                 "' (known: layer, output)");
  if (equalize != "auto" && equalize != "all" && equalize != "none")
    return usage("--equalize: unknown choice '" + equalize +
                 "' (known: auto, all, none)");
  if (smooth != "auto" && smooth != "none")
    return usage("--smooth: unknown choice '" + smooth +
                 "' (known: auto, none)");
  if (smooth.getNumOccurrences() && quantizeMode != "int8" &&
      quantizeMode != "auto")
    return usage("--smooth=" + smooth +
                 " needs --quantize=int8 or --quantize=auto (the modes with "
                 "calibrated activations)");
  if (quantizeMode.empty() && equalize.getNumOccurrences())
    return usage("--equalize=" + equalize + " needs --quantize=MODE");
  if (quantizeMode.empty() && (biasCorrection || keepFloatPercent > 0))
    return usage(std::string(biasCorrection ? "--bias-correction"
                                            : "--keep-float=" + keepFloat) +
                 " needs --quantize=MODE");
  // The correction is the weight error times the layer's mean input: seeded
  // random inputs give a mean the model never sees (on a trained VAD they
  // turned w8's 37.5 dB into 5.0 dB).
  if (biasCorrection && calibrationData.empty())
    return usage("--bias-correction needs --calibration-data=DIR (the "
                 "layers' mean inputs are measured on it)");
  // A built-in name or a YAML file: neither is a usage error, a file that
  // does not parse a compile error.
  if (!loom::target::isBuiltinTarget(target) &&
      !llvm::sys::fs::exists(target)) {
    // A path (a separator or a YAML extension) names a file that is not
    // there; anything else is a target name that is not built in.
    StringRef ext = llvm::sys::path::extension(target);
    if (StringRef(target).contains('/') || ext == ".yaml" || ext == ".yml") {
      llvm::errs() << "loomc: error: --target=" << target
                   << ": no such file (built-in targets: "
                   << loom::target::builtinTargetList() << ")\n";
      return 1;
    }
    return usage("--target: unknown target '" + target +
                 "' (built-in targets: " + loom::target::builtinTargetList() +
                 "; or the path of a YAML target file)");
  }
  llvm::Expected<loom::target::TargetDesc> desc =
      loom::target::loadTarget(target);
  if (!desc) {
    llvm::errs() << "loomc: error: " << llvm::toString(desc.takeError())
                 << "\n";
    return 1;
  }
  // The partitioner and its device, checked like the target (exit 2).
  if (StringRef algo = partitioner.getValue(); algo.consume_front("single:")) {
    std::string names;
    bool found = false;
    for (const auto &d : desc->devices) {
      names += (names.empty() ? "" : ", ") + d.name;
      found |= d.name == algo;
    }
    if (!found)
      return usage("--partitioner: target '" + desc->name +
                   "' has no device '" + algo.str() + "' (devices: " + names +
                   ")");
  } else if (!llvm::is_contained({"auto", "heft", "greedy", "exact"},
                                 partitioner.getValue())) {
    return usage("--partitioner: unknown algorithm '" + partitioner +
                 "' (known: auto, heft, greedy, exact, single:DEVICE)");
  }
  if (costModel != "auto" && costModel != "roofline")
    return usage("--cost-model: expected auto or roofline, got '" + costModel +
                 "'");
  if (threads < 1)
    return usage("--kernel-threads: expected 1 or more, got " +
                 std::to_string(int(threads)));
  if (!scenarioFile.empty())
    return loom::scenario::runScenarioCompile(
        scenarioFile, outDir, target, partitioner, !noSplit, costTable,
        allowForeignCostTable, int(optLevel), quiet, threads);
  if (listDevices) {
    for (const auto &d : desc->devices)
      llvm::outs() << d.name << "\n";
    return 0;
  }

  if (modelPath.empty())
    return usage("no model given");
  if (outDir.empty())
    return usage("no output directory given (-o OUT_DIR)");
  if (loom::generate::generateRequested()) {
    if (!emit.empty() || !quantizeMode.empty() || !inputShapes.empty() ||
        !dims.empty())
      return usage("--generate writes its own plans: --emit, --quantize, "
                   "--input-shape and --dim do not apply");
    loom::GraphPipelineOptions graph;
    graph.optLevel = loom::OptLevel(int(optLevel));
    graph.maxTripCount = maxTripCount;
    return loom::generate::runGenerateCompile(
        modelPath, outDir, graph, planPipelineOptions(),
        std::vector<std::string>(constInputs.begin(), constInputs.end()),
        quiet);
  }
  // Before any work: OUT_DIR must be new, empty or a previous loomc output.
  if (std::string why =
          loom::output::checkOutputDir(outDir, loom::output::planOutput());
      !why.empty()) {
    llvm::errs() << "loomc: error: " << why << "\n";
    return 1;
  }
  bool emitPlan = emit.empty(), emitMlir = emit.empty(),
       emitTrace = emit.empty(), emitReport = emit.empty(), emitLoom = false,
       emitStubs = false;
  for (const std::string &e : emit) {
    if (e == "plan")
      emitPlan = true;
    else if (e == "mlir")
      emitMlir = true;
    else if (e == "trace")
      emitTrace = true;
    else if (e == "report")
      emitReport = true;
    else if (e == "loom-mlir")
      emitLoom = true;
    else if (e == "stubs")
      emitStubs = true;
    else
      return usage("--emit: unknown output '" + e +
                   "' (known: plan, trace, report, mlir, loom-mlir, stubs)");
  }
  bool buildPlan = emitPlan || emitMlir || emitTrace || emitReport || emitStubs;
  loom::ImportOptions options;
  for (const std::string &f : inputShapes) {
    auto parsed = loom::parseInputShapeFlag(f);
    if (!parsed)
      return usage("--input-shape: " + llvm::toString(parsed.takeError()));
    options.inputShapes[parsed->first] = parsed->second;
  }
  for (const std::string &f : dims) {
    auto parsed = loom::parseDimFlag(f);
    if (!parsed)
      return usage("--dim: " + llvm::toString(parsed.takeError()));
    options.dims[parsed->first] = parsed->second;
  }
  for (const std::string &f : constInputs) {
    auto parsed = loom::parseConstInputFlag(f);
    if (!parsed)
      return usage("--const-input: " + llvm::toString(parsed.takeError()));
    options.constInputs[parsed->first] = parsed->second;
  }

  DialectRegistry registry;
  loom::registerAllDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  context.getDiagEngine().registerHandler([](Diagnostic &diag) {
    printDiagnostic(diag);
    return success();
  });

  DefaultTimingManager tm;
  applyDefaultTimingManagerCLOptions(tm);
  TimingScope timing = tm.getRootScope();

  OwningOpRef<ModuleOp> module;
  {
    TimingScope importTiming = timing.nest("import");
    module = loom::importOnnxFile(context, modelPath, options);
  }
  if (!module)
    return 1;

  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 2;
  pm.enableTiming(timing);
  loom::GraphPipelineOptions graphOptions;
  graphOptions.optLevel = loom::OptLevel(int(optLevel));
  graphOptions.requireStaticShapes = buildPlan;
  graphOptions.maxTripCount = maxTripCount;
  loom::addGraphPipeline(pm, graphOptions);
  if (failed(pm.run(*module)))
    return 1;
  if (!quantizeMode.empty()) {
    TimingScope quantTiming = timing.nest("quantize");
    loom::QuantizeOptions q;
    q.mode = quantizeMode;
    q.sparsity = sparsity;
    q.groupSize = groupSize;
    q.calibrationData.assign(calibrationData.begin(), calibrationData.end());
    q.calibrationMethod = calibrationMethod;
    q.percentile = calibrationPercentile;
    q.evalData.assign(evalData.begin(), evalData.end());
    q.target = target;
    q.biasCorrection = biasCorrection;
    q.keepFloatPercent = keepFloatPercent;
    q.keepFloatBy = keepFloatBy;
    q.equalize = equalize;
    q.smooth = smooth;
    if (failed(loom::quantizeModule(*module, q)))
      return 1;
  }
  // The optimized graph, before planning (printed now, written below).
  std::string loomIR;
  if (emitLoom) {
    llvm::raw_string_ostream os(loomIR);
    OpPrintingFlags flags;
    flags.elideLargeResourceString(1024);
    flags.elideLargeElementsAttrs(64);
    module->print(os, flags);
  }

  // The plan: trivial placement, costs, predicted schedule, memory.
  if (buildPlan) {
    PassManager planPm(&context);
    if (failed(applyPassManagerCLOptions(planPm)))
      return 2;
    planPm.enableTiming(timing);
    loom::addPlanPipeline(planPm, planPipelineOptions());
    // The graph before planning, should the device precision check want
    // the plan made again in f32.
    OwningOpRef<ModuleOp> beforePlan;
    if (devicePrecision == "auto")
      beforePlan = cast<ModuleOp>((*module)->clone());
    if (failed(planPm.run(*module)))
      return 1;
    if (beforePlan &&
        failed(loom::checkDevicePrecision(*module, planPipelineOptions(),
                                          *beforePlan)))
      return 1;
  }

  // Write into a temporary folder next to OUT_DIR, then move it into place:
  // a failed run leaves OUT_DIR as it was (docs/tools.md, "Output folders").
  std::string why;
  std::optional<loom::output::PendingOutput> pending =
      loom::output::PendingOutput::begin(outDir, loom::output::planOutput(),
                                         why);
  if (!pending) {
    llvm::errs() << "loomc: error: " << why << "\n";
    return 1;
  }
  StringRef tmp = pending->path();
  auto openOutput = [&](StringRef name,
                        std::unique_ptr<llvm::raw_fd_ostream> &os) {
    llvm::SmallString<256> path(tmp);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    os = std::make_unique<llvm::raw_fd_ostream>(path, ec);
    if (ec) {
      llvm::errs() << "loomc: error: cannot write '" << path
                   << "': " << ec.message() << "\n";
      return false;
    }
    return true;
  };
  if (emitPlan) {
    std::unique_ptr<llvm::raw_fd_ostream> json, weights;
    if (!openOutput("plan.json", json) || !openOutput("weights.bin", weights))
      return 1;
    loom::emit::PlanEmitOptions emitOptions;
    emitOptions.producer = "loomc " LOOM_VERSION;
    if (failed(loom::emit::emitPlan(*module, *json, *weights, emitOptions)))
      return 1;
  }
  if (emitPlan && (*module)->hasAttr("loom.quantization")) {
    std::unique_ptr<llvm::raw_fd_ostream> os;
    if (!openOutput("quantization.json", os) ||
        failed(loom::emit::emitQuantization(*module, *os)))
      return 1;
  }
  if (emitTrace) {
    std::unique_ptr<llvm::raw_fd_ostream> os;
    if (!openOutput("trace.json", os) ||
        failed(loom::emit::emitTrace(*module, *os)))
      return 1;
  }
  if (emitReport) {
    std::unique_ptr<llvm::raw_fd_ostream> os;
    if (!openOutput("report.html", os) ||
        failed(loom::emit::emitReport(*module, *os)))
      return 1;
  }
  if (emitLoom) {
    std::unique_ptr<llvm::raw_fd_ostream> os;
    if (!openOutput("model.loom.mlir", os))
      return 1;
    *os << loomIR;
  }
  if (emitStubs) {
    loom::emit::StubEmitOptions stubOptions;
    stubOptions.producer = "loomc " LOOM_VERSION;
    stubOptions.modelName =
        stubName.empty() ? llvm::sys::path::stem(modelPath).str() : stubName;
    stubOptions.commandLine = commandLine;
    if (embedWeights) {
      llvm::SmallString<256> abs(outDir);
      llvm::sys::fs::make_absolute(abs);
      llvm::sys::path::remove_dots(abs, /*remove_dot_dot=*/true);
      stubOptions.embedFrom = abs.str().str();
    }
    auto files = loom::emit::emitStubs(*module, stubOptions);
    if (failed(files))
      return 1;
    llvm::SmallString<256> dir(tmp);
    llvm::sys::path::append(dir, "runtime");
    llvm::sys::fs::create_directories(dir);
    for (auto &[name, text] : *files) {
      std::unique_ptr<llvm::raw_fd_ostream> os;
      if (!openOutput(("runtime/" + name), os))
        return 1;
      *os << text;
    }
  }
  if (emitMlir) {
    std::unique_ptr<llvm::raw_fd_ostream> os;
    if (!openOutput("model.mlir", os))
      return 1;
    // Weights live in weights.bin; model.mlir elides their bytes.
    OpPrintingFlags flags;
    flags.elideLargeResourceString(1024);
    flags.elideLargeElementsAttrs(64);
    module->print(*os, flags);
  }
  if (std::string failure = pending->commit(); !failure.empty()) {
    llvm::errs() << "loomc: error: " << failure << "\n";
    return 1;
  }

  if (explainPlacement && buildPlan)
    explain(*module);
  if (!quiet)
    printSummary(*module, *desc, emitPlan, emitTrace, emitReport, emitMlir, emitLoom,
                 emitStubs);
  return 0;
}
