//===- Compile.cpp - loomc --scenario -------------------------------------===//
//
// Every model of the scenario goes through the same in-process compile as
// `loomc MODEL -o DIR` (import with the entry's input shapes, the graph and
// plan pipelines, plan.json + weights.bin), each in its own MLIRContext.
// The plans are read back as ModelGraphs, the scenario is analysed and
// scheduled under every policy, and the outputs are written into a
// temporary folder that replaces OUT_DIR only at the end (OUT_DIR must be
// new, empty or a previous scenario output: loom/Support/OutputDir.h).
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Compile.h"

#include "loom/CostModel/CostModel.h"
#include "loom/Emit/PlanEmitter.h"
#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/InitAll.h"
#include "loom/Scenario/GenerateProgram.h"
#include "loom/Scenario/Output.h"
#include "loom/Scenario/Scheduler.h"
#include "loom/Support/OutputDir.h"
#include "loom/Target/Target.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace loom::scenario;
using llvm::StringRef;

namespace {

int error(const llvm::Twine &msg) {
  llvm::errs() << "loomc: error: " << msg << "\n";
  return 1;
}

} // namespace

std::optional<std::string>
loom::scenario::compileModel(const ModelFile &model, const std::string &what,
                             const ScenarioCompileOptions &options,
                             StringRef dir) {
  loom::ImportOptions importOptions;
  for (const std::string &f : model.constInputs) {
    auto parsed = loom::parseConstInputFlag(f);
    if (!parsed) {
      error(what + ": --const-input: " + llvm::toString(parsed.takeError()));
      return std::nullopt;
    }
    importOptions.constInputs[parsed->first] = parsed->second;
  }
  for (const std::string &f : model.inputShapes) {
    auto parsed = loom::parseInputShapeFlag(f);
    if (!parsed) {
      error(what + ": input_shapes: " + llvm::toString(parsed.takeError()));
      return std::nullopt;
    }
    importOptions.inputShapes[parsed->first] = parsed->second;
  }
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  std::string modelPath = model.path;
  context.getDiagEngine().registerHandler([&](mlir::Diagnostic &diag) {
    llvm::raw_ostream &os = llvm::errs();
    os << "loomc: "
       << (diag.getSeverity() == mlir::DiagnosticSeverity::Error ? "error: "
           : diag.getSeverity() == mlir::DiagnosticSeverity::Warning
               ? "warning: "
               : "note: ")
       << what << ": " << modelPath << ": ";
    if (auto name = llvm::dyn_cast<mlir::NameLoc>(diag.getLocation()))
      os << "node '" << name.getName().getValue() << "': ";
    os << diag << "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loom::importOnnxFile(context, modelPath, importOptions);
  if (!module)
    return std::nullopt;
  mlir::PassManager pm(&context);
  loom::addGraphPipeline(pm, options.graph);
  if (mlir::failed(pm.run(*module)))
    return std::nullopt;
  if (!model.quantize.empty()) {
    // As `loomc --quantize=MODE` (modes that need calibration data were
    // rejected before compiling).
    loom::QuantizeOptions q;
    q.mode = model.quantize;
    q.target = options.plan.target;
    if (mlir::failed(loom::quantizeModule(*module, q)))
      return std::nullopt;
  }
  mlir::PassManager planPm(&context);
  loom::addPlanPipeline(planPm, options.plan);
  // As loomc: the accuracy check of device precision auto (which may make
  // the plan again in f32).
  mlir::OwningOpRef<mlir::ModuleOp> beforePlan;
  if (options.plan.devicePrecision == "auto")
    beforePlan = llvm::cast<mlir::ModuleOp>((*module)->clone());
  if (mlir::failed(planPm.run(*module)))
    return std::nullopt;
  if (beforePlan && mlir::failed(loom::checkDevicePrecision(
                        *module, options.plan, *beforePlan)))
    return std::nullopt;
  if (auto ec = llvm::sys::fs::create_directories(dir)) {
    error("cannot create '" + dir + "': " + ec.message());
    return std::nullopt;
  }
  std::string planJson;
  llvm::raw_string_ostream planOs(planJson);
  llvm::SmallString<256> weightsPath(dir);
  llvm::sys::path::append(weightsPath, "weights.bin");
  std::error_code ec;
  llvm::raw_fd_ostream weights(weightsPath, ec);
  if (ec) {
    error("cannot write '" + weightsPath + "': " + ec.message());
    return std::nullopt;
  }
  loom::emit::PlanEmitOptions emitOptions;
  emitOptions.producer = options.producer;
  if (mlir::failed(loom::emit::emitPlan(*module, planOs, weights, emitOptions)))
    return std::nullopt;
  llvm::SmallString<256> planPath(dir);
  llvm::sys::path::append(planPath, "plan.json");
  llvm::raw_fd_ostream planFile(planPath, ec);
  if (ec) {
    error("cannot write '" + planPath + "': " + ec.message());
    return std::nullopt;
  }
  planFile << planJson;
  return planJson;
}

namespace {

bool writeFile(StringRef dir, StringRef name,
               llvm::function_ref<void(llvm::raw_ostream &)> write) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error("cannot write '" + path + "': " + ec.message());
    return false;
  }
  write(os);
  return true;
}

} // namespace

int loom::scenario::compileScenario(const ScenarioCompileOptions &options) {
  std::optional<Policy> forced;
  if (options.policy != "best") {
    forced = parsePolicy(options.policy);
    if (!forced) {
      llvm::errs() << "loomc: --scenario-policy: unknown policy '"
                   << options.policy << "' (known: best, " << policyList()
                   << ")\n";
      return 2;
    }
  }
  llvm::Expected<ScenarioSpec> spec =
      loadScenario(options.scenarioFile, options.modelsDir);
  if (!spec)
    return error(llvm::toString(spec.takeError()));
  // Quantization modes, checked before any work.
  for (const Workload &w : spec->workloads)
    for (const ModelFile *f : {&w.model, &w.prefill, &w.decode}) {
      if (f->quantize.empty())
        continue;
      if (!loom::isQuantizeMode(f->quantize))
        return error(f->quantizeWhere + ": unknown quantization mode '" +
                     f->quantize +
                     "' (known: w8, w4, int8, awq-w4, dynamic, auto)");
      if (loom::modeNeedsCalibration(f->quantize))
        return error(f->quantizeWhere + ": mode '" + f->quantize +
                     "' needs calibration data, which a scenario does not "
                     "give yet (use w8, w4 or dynamic, or compile the model "
                     "alone with loomc --quantize)");
    }
  llvm::Expected<loom::target::TargetDesc> target =
      loom::target::loadTarget(options.plan.target);
  if (!target)
    return error(llvm::toString(target.takeError()));

  Platform platform;
  for (const auto &d : target->devices) {
    partition::Device dev;
    dev.name = d.name;
    dev.queues = int(d.queues);
    platform.devices.push_back(dev);
  }
  auto desc = std::make_shared<loom::target::TargetDesc>(*target);
  std::vector<std::string> names;
  for (const auto &d : platform.devices)
    names.push_back(d.name);
  platform.transfer = [desc, names](int from, int to, uint64_t bytes) {
    return loom::cost::transferMicros(double(bytes), names[size_t(from)],
                                      names[size_t(to)], *desc)
        .value_or(0.0);
  };

  // Compile every model into a temporary folder next to OUT_DIR, moved into
  // place at the end (docs/tools.md, "Output folders"); it is removed when
  // `pending` goes out of scope uncommitted.
  std::string refused;
  std::optional<loom::output::PendingOutput> pending =
      loom::output::PendingOutput::begin(
          options.outDir, loom::output::scenarioOutput(), refused);
  if (!pending)
    return error(refused);
  StringRef tmp = pending->path();
  std::vector<ModelGraph> graphs;
  OutputInfo info;
  info.producer = options.producer;
  info.scenarioName = spec->name;
  info.source = options.scenarioFile;
  info.target = options.plan.target;
  info.requestedPolicy = options.policy;
  for (const Workload &w : spec->workloads) {
    if (w.isGenerate()) {
      // One generation program (the same as loomc --generate writes) in
      // models/<name>.generate; each of its plans is a graph of the
      // scenario, used by the prefill chunks and decode steps whose tokens
      // its context holds.
      std::string rel = "models/" + w.name + ".generate";
      llvm::SmallString<256> dir(tmp);
      llvm::sys::path::append(dir, rel);
      if (auto ec = llvm::sys::fs::create_directories(dir))
        return error("cannot create '" + dir + "': " + ec.message());
      GenerateProgramOptions g;
      g.maxContext = w.maxContext;
      g.prefillChunk = w.prefillChunk;
      g.contextSizes = w.capacities;
      g.constInputs = w.program.constInputs;
      g.compile = options;
      std::string why;
      std::optional<GenerateProgram> program =
          compileGenerateProgram(w.program.path, g, dir, why);
      if (!program) {
        if (!why.empty())
          error("model '" + w.name + "': " + why);
        return 1;
      }
      for (const GenerateContext &cx : program->contexts)
        for (const std::string &plan : {cx.prefill, cx.decode}) {
          std::string planRel = rel + "/" + plan;
          llvm::SmallString<256> planPath(dir);
          llvm::sys::path::append(planPath, plan, "plan.json");
          auto text = llvm::MemoryBuffer::getFile(planPath);
          if (!text)
            return error("cannot read '" + planPath +
                         "': " + text.getError().message());
          llvm::Expected<ModelGraph> graph =
              parseModelGraph((*text)->getBuffer(), planRel + "/plan.json",
                              w.name + ".generate/" + plan, platform);
          if (!graph)
            return error(llvm::toString(graph.takeError()));
          graphs.push_back(std::move(*graph));
          info.graphDirs.push_back(planRel);
        }
      continue;
    }
    std::vector<std::pair<std::string, const ModelFile *>> files;
    if (w.isRequest()) {
      files.push_back({w.name + ".prefill", &w.prefill});
      files.push_back({w.name + ".decode", &w.decode});
    } else {
      files.push_back({w.name, &w.model});
    }
    for (auto &[name, file] : files) {
      std::string rel = "models/" + name;
      llvm::SmallString<256> dir(tmp);
      llvm::sys::path::append(dir, "models", name);
      std::optional<std::string> plan =
          compileModel(*file, "model '" + name + "'", options, dir);
      if (!plan)
        return 1;
      llvm::Expected<ModelGraph> g =
          parseModelGraph(*plan, rel + "/plan.json", name, platform);
      if (!g)
        return error(llvm::toString(g.takeError()));
      graphs.push_back(std::move(*g));
      info.graphDirs.push_back(rel);
    }
  }

  llvm::Expected<ScenarioProblem> problem =
      buildProblem(*spec, platform, std::move(graphs));
  if (!problem)
    return error(llvm::toString(problem.takeError()));
  if (problem->horizonCapped)
    llvm::errs() << "loomc: warning: " << options.scenarioFile
                 << ": the hyperperiod is longer than max_horizon_ms ("
                 << llvm::format("%g", spec->maxHorizonMs)
                 << " ms): the schedule covers the first "
                 << llvm::format("%.3f", problem->horizonUs / 1000)
                 << " ms only\n";
  std::vector<std::string> findings = analyzeFeasibility(*problem);
  for (const std::string &f : findings)
    llvm::errs() << "loomc: " << (options.allowMisses ? "warning: " : "error: ")
                 << options.scenarioFile << ": infeasible on '"
                 << options.plan.target << "': " << f << "\n";
  if (!findings.empty() && !options.allowMisses) {
    llvm::errs() << "loomc: note: --allow-misses writes the schedule anyway\n";
    return 1;
  }
  info.analysis = findings;

  std::vector<PolicyResult> results = scheduleAll(*problem);
  for (const PolicyResult &r : results)
    if (std::string why = verifySchedule(*problem, r); !why.empty())
      return error("internal error: the " +
                   std::string(policyName(r.policy)) +
                   " schedule is invalid: " + why);
  size_t chosen = chooseBest(results);
  if (forced)
    for (size_t i = 0; i < results.size(); ++i)
      if (results[i].policy == *forced)
        chosen = i;

  if (!writeFile(tmp, "scenario.json",
                 [&](llvm::raw_ostream &os) {
                   writeScenarioJson(*problem, results, chosen, info, os);
                 }) ||
      !writeFile(tmp, "trace.json",
                 [&](llvm::raw_ostream &os) {
                   writeScenarioTrace(*problem, results[chosen], info, os);
                 }) ||
      !writeFile(tmp, "report.html", [&](llvm::raw_ostream &os) {
        writeScenarioReport(*problem, results, chosen, info, os);
      }))
    return 1;
  if (std::string failure = pending->commit(); !failure.empty())
    return error(failure);

  if (!options.quiet) {
    auto &os = llvm::outs();
    os << "loomc: scenario '" << spec->name << "' (" << options.scenarioFile
       << ") for target '" << options.plan.target << "'\n"
       << "  models:    " << problem->graphs.size() << " compiled, "
       << problem->jobs.size() << " job instances over "
       << llvm::format("%.3f", problem->horizonUs / 1000) << " ms\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const PolicyResult &r = results[i];
      os << "  " << llvm::left_justify(policyName(r.policy), 15) << r.misses
         << " deadline misses, lateness "
         << llvm::format("%.3f", r.totalLatenessUs / 1000) << " ms";
      if (r.worstTtftUs > 0)
        os << ", worst TTFT " << llvm::format("%.3f", r.worstTtftUs / 1000)
           << " ms";
      os << (i == chosen ? "  <- written" : "") << "\n";
    }
    os << "  wrote:     " << options.outDir << "/scenario.json, trace.json, "
       << "report.html, models/\n";
  }
  return 0;
}
