//===- DevicePrecision.cpp - The accuracy check of device precision auto --===//
//
// With device precision `auto`, plan-estimate-costs lets an f32 task run on
// a device without f32 arithmetic in the device's bf16 or f16, and the
// partitioner takes that where it pays. Before such a plan is kept, it is
// run here twice on the host (the runtime in process, from the emitted plan
// in memory): once as the devices would compute (SessionOptions::
// emulatePrecision) and once in f32, on two seeded input sets, and the SQNR
// of every f32 output is measured. Below kMinDevicePrecisionSqnrDb the plan
// is made again with precision `exact` (docs/targets.md).
//
//===----------------------------------------------------------------------===//
#include "loom/Pipelines/Pipelines.h"

#include "Plan/PlanOps.h"
#include "loom/Emit/PlanEmitter.h"
#include "loom/Quant/Quant.h"
#include "loom/Runtime/Session.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <cmath>
#include <cstring>
#include <map>
#include <random>

using namespace mlir;

namespace {

/// What runs in reduced precision: device -> (type, tasks).
std::map<std::string, std::pair<std::string, int>> reducedTasks(ModuleOp m) {
  std::map<std::string, std::pair<std::string, int>> out;
  m.walk([&](loom::plan::TaskOp task) {
    auto dict = task->getAttrOfType<DictionaryAttr>("reduced_precision");
    if (auto type = dict ? dict.getAs<StringAttr>(task.getDevice()) : nullptr) {
      auto &e = out[task.getDevice().str()];
      e.first = type.getValue().str();
      ++e.second;
    }
  });
  return out;
}

/// The lowest SQNR (dB) over the f32 outputs of the plan in `module` run
/// with and without precision emulation on two seeded input sets, and the
/// output it was measured on. Errors from the runtime are returned.
llvm::Expected<std::pair<double, std::string>> measure(ModuleOp module) {
  std::string json, weights;
  llvm::raw_string_ostream jsonOs(json), weightsOs(weights);
  loom::emit::PlanEmitOptions emitOptions;
  emitOptions.producer = "loomc precision check";
  if (failed(loom::emit::emitPlan(module, jsonOs, weightsOs, emitOptions)))
    return llvm::createStringError("cannot emit the plan");
  try {
    loom::rt::SessionOptions exactOptions;
    exactOptions.emulatePrecision = false;
    auto emulated = loom::rt::Session::loadEmbedded(
        json, weights.data(), weights.size(), "precision check");
    auto exact = loom::rt::Session::loadEmbedded(
        json, weights.data(), weights.size(), "precision check", exactOptions);
    std::mt19937 rng(0);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    // Per output: signal and noise summed over the sets.
    std::vector<double> signal(exact->outputs().size()),
        noise(exact->outputs().size());
    for (int set = 0; set < 2; ++set) {
      for (size_t i = 0; i < exact->inputs().size(); ++i) {
        const loom::rt::TensorInfo &info = exact->inputs()[i];
        if (info.folded)
          continue;
        loom::rt::Tensor t;
        t.dtype = info.dtype;
        t.shape = info.shape;
        t.bytes.assign(size_t(loom::rt::numElements(info.shape)) *
                           loom::rt::dtypeSize(info.dtype),
                       0);
        // f32 inputs N(0, 1); others zero (token ids, masks, indices).
        if (info.dtype == loom::rt::DType::F32) {
          auto *f = reinterpret_cast<float *>(t.bytes.data());
          for (int64_t k = 0; k < loom::rt::numElements(info.shape); ++k)
            f[k] = normal(rng);
        }
        exact->setInput(i, t);
        emulated->setInput(i, t);
      }
      exact->run();
      emulated->run();
      for (size_t o = 0; o < exact->outputs().size(); ++o) {
        if (exact->outputs()[o].dtype != loom::rt::DType::F32)
          continue;
        const auto *r = reinterpret_cast<const float *>(exact->outputStorage(o));
        const auto *g =
            reinterpret_cast<const float *>(emulated->outputStorage(o));
        for (int64_t k = 0; k < loom::rt::numElements(exact->outputs()[o].shape);
             ++k) {
          signal[o] += double(r[k]) * r[k];
          noise[o] += (double(g[k]) - r[k]) * (double(g[k]) - r[k]);
        }
      }
    }
    double worst = INFINITY;
    std::string name;
    for (size_t o = 0; o < signal.size(); ++o) {
      // An output that is zero on these inputs says nothing.
      if (exact->outputs()[o].dtype != loom::rt::DType::F32 || signal[o] == 0)
        continue;
      double db =
          noise[o] == 0 ? INFINITY : 10 * std::log10(signal[o] / noise[o]);
      if (db < worst || name.empty()) {
        worst = db;
        name = exact->outputs()[o].name;
      }
    }
    return std::make_pair(worst, name);
  } catch (const std::exception &e) {
    return llvm::createStringError(e.what());
  }
}

} // namespace

FailureOr<std::optional<loom::DevicePrecisionReport>>
loom::checkDevicePrecision(ModuleOp module, const PlanPipelineOptions &options,
                           ModuleOp beforePlan) {
  auto reduced = reducedTasks(module);
  if (reduced.empty())
    return std::optional<DevicePrecisionReport>();
  DevicePrecisionReport report;
  for (auto &[device, e] : reduced)
    report.devices.push_back({device, e.first, e.second});
  auto measured = measure(module);
  if (!measured) {
    module.emitError("device precision check: ")
        << llvm::toString(measured.takeError());
    return failure();
  }
  report.sqnrDb = measured->first;
  report.output = measured->second;
  // For the summary and the report: module attribute loom.device_precision.
  auto record = [&] {
    Builder b(module.getContext());
    SmallVector<Attribute> devices;
    for (const auto &d : report.devices)
      devices.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("device", b.getStringAttr(d.name)),
           b.getNamedAttr("type", b.getStringAttr(d.type)),
           b.getNamedAttr("tasks", b.getI64IntegerAttr(d.tasks))}));
    module->setAttr(
        "loom.device_precision",
        b.getDictionaryAttr(
            {b.getNamedAttr("devices", b.getArrayAttr(devices)),
             b.getNamedAttr("sqnr_db", b.getF64FloatAttr(report.sqnrDb)),
             b.getNamedAttr("output", b.getStringAttr(report.output)),
             b.getNamedAttr("kept_exact", b.getBoolAttr(report.keptExact))}));
  };
  if (report.sqnrDb >= kMinDevicePrecisionSqnrDb) {
    record();
    return std::optional<DevicePrecisionReport>(report);
  }
  // Too inaccurate: the plan again, f32 everywhere.
  report.keptExact = true;
  OwningOpRef<ModuleOp> fresh = cast<ModuleOp>(beforePlan->clone());
  PlanPipelineOptions exact = options;
  exact.devicePrecision = "exact";
  PassManager pm(module.getContext());
  addPlanPipeline(pm, exact);
  if (failed(pm.run(*fresh)))
    return failure();
  module.getBody()->getOperations().clear();
  module.getBody()->getOperations().splice(
      module.getBody()->end(), fresh->getBody()->getOperations());
  module->setAttrs(fresh->getOperation()->getAttrDictionary());
  record();
  return std::optional<DevicePrecisionReport>(report);
}
