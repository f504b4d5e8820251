//===- Quantization.cpp - loomc --quantize: passes and accuracy -----------===//
#include "loom/Pipelines/Pipelines.h"

#include "Loom/Transforms/Passes.h"
#include "loom/Emit/PlanEmitter.h"
#include "loom/Pipelines/HostRun.h"
#include "loom/Pipelines/Passes.h"
#include "loom/Quant/Quant.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;

bool loom::isQuantizeMode(llvm::StringRef mode) {
  return llvm::is_contained(
      {"w8", "w4", "int8", "awq-w4", "dynamic", "auto", "ternary"}, mode);
}

bool loom::modeNeedsCalibration(llvm::StringRef mode) {
  return mode == "int8" || mode == "awq-w4" || mode == "auto";
}

namespace {

/// Seeded inputs for an accuracy check without data: f32 inputs N(0, 1),
/// inputs of other types zero (token ids, masks, quantized values).
std::vector<loom::InputSet> randomInputs(ModuleOp module, int sets) {
  std::vector<loom::InputSet> result;
  auto func = module.lookupSymbol<func::FuncOp>("main");
  std::vector<std::string> names = loom::graphInputNames(module);
  std::mt19937 rng(0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int s = 0; s < sets; ++s) {
    loom::InputSet set;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto t = cast<RankedTensorType>(func.getArgument(i).getType());
      loom::rt::Tensor tensor;
      tensor.shape.assign(t.getShape().begin(), t.getShape().end());
      Type e = t.getElementType();
      auto parsed = loom::rt::parseDType(loom::emit::dtypeName(e));
      if (!parsed)
        continue; // left unbound: the run reports it
      tensor.dtype = *parsed;
      tensor.bytes.assign(size_t(tensor.numElements()) *
                              loom::rt::dtypeSize(tensor.dtype),
                          0);
      if (e.isF32()) {
        auto *f = reinterpret_cast<float *>(tensor.bytes.data());
        for (int64_t k = 0; k < tensor.numElements(); ++k)
          f[k] = normal(rng);
      }
      set[names[i]] = std::move(tensor);
    }
    result.push_back(std::move(set));
  }
  return result;
}

std::vector<float> asFloats(const loom::rt::Tensor &t) {
  std::vector<float> v(size_t(t.numElements()));
  if (t.dtype == loom::rt::DType::F32)
    std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(float));
  return v;
}

} // namespace

LogicalResult loom::quantizeModule(ModuleOp module,
                                   const QuantizeOptions &options) {
  MLIRContext *ctx = module.getContext();
  OwningOpRef<ModuleOp> floatModule = cast<ModuleOp>(module->clone());

  PassManager pm(ctx);
  // Equalize consecutive convolutions first: calibration sees the
  // equalized activations.
  pm.nest<func::FuncOp>().addPass(createLoomEqualizeChannels());
  if (modeNeedsCalibration(options.mode)) {
    LoomCalibrateOptions c;
    c.data.assign(options.calibrationData.begin(), options.calibrationData.end());
    c.method = options.calibrationMethod;
    c.percentile = options.percentile;
    pm.addPass(createLoomCalibrate(c));
  }
  auto &funcPm = pm.nest<func::FuncOp>();
  LoomQuantizeOptions q;
  q.mode = options.mode;
  q.sparsity = options.sparsity;
  q.groupSize = options.groupSize;
  q.target = options.target;
  funcPm.addPass(createLoomQuantize(q));
  funcPm.addPass(createLoomFoldQdq());
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createCSEPass());
  if (failed(pm.run(module)))
    return failure();

  // Accuracy: the float and the quantized graph on the same inputs.
  std::string source = "eval-data";
  std::vector<std::string> folders = options.evalData;
  if (folders.empty()) {
    folders = options.calibrationData;
    source = "calibration-data";
  }
  std::vector<InputSet> inputs;
  // Expected outputs given with the inputs (output_N.pb): both graphs are
  // also measured against them.
  std::vector<std::vector<rt::Tensor>> references;
  if (folders.empty()) {
    inputs = randomInputs(module, 4);
    source = "random";
  } else {
    auto sets = readInputSets(folders, graphInputNames(module), &references);
    if (!sets)
      return module.emitError("quantization accuracy: ")
             << llvm::toString(sets.takeError());
    inputs = std::move(*sets);
  }
  auto ref = runOnHost(*floatModule, inputs);
  if (!ref)
    return module.emitError("quantization accuracy (float model): ")
           << llvm::toString(ref.takeError());
  auto got = runOnHost(module, inputs);
  if (!got)
    return module.emitError("quantization accuracy (quantized model): ")
           << llvm::toString(got.takeError());

  std::vector<std::string> outputNames = graphOutputNames(module);
  // The reference of output `name` in every set, or nothing.
  auto referencesOf = [&](const std::string &name) {
    std::vector<const rt::Tensor *> found;
    auto it = std::find(outputNames.begin(), outputNames.end(), name);
    size_t k = size_t(it - outputNames.begin());
    for (const std::vector<rt::Tensor> &set : references)
      if (k < set.size() && set[k].dtype == rt::DType::F32 &&
          !set[k].bytes.empty())
        found.push_back(&set[k]);
    if (found.size() != inputs.size())
      found.clear();
    return found;
  };

  Builder b(ctx);
  SmallVector<Attribute> outputs;
  for (const auto &[name, first] : (*ref)[0].outputs) {
    if (first.dtype != rt::DType::F32)
      continue;
    std::vector<float> all, allQ;
    int64_t agree = 0, rows = 0;
    for (size_t s = 0; s < ref->size(); ++s) {
      std::vector<float> r = asFloats((*ref)[s].outputs.at(name));
      std::vector<float> g = asFloats((*got)[s].outputs.at(name));
      // Top-1 agreement of [N, C] scores, C > 1.
      const rt::Tensor &t = (*ref)[s].outputs.at(name);
      if (t.shape.size() == 2 && t.shape[1] > 1) {
        int64_t c = t.shape[1];
        for (int64_t row = 0; row < t.shape[0]; ++row) {
          auto argmax = [&](const std::vector<float> &v) {
            return std::max_element(v.begin() + row * c,
                                    v.begin() + (row + 1) * c) -
                   v.begin();
          };
          agree += argmax(r) == argmax(g);
          ++rows;
        }
      }
      all.insert(all.end(), r.begin(), r.end());
      allQ.insert(allQ.end(), g.begin(), g.end());
    }
    double sqnr = quant::sqnrDb(all.data(), allQ.data(), all.size());
    double maxErr = quant::maxAbsError(all.data(), allQ.data(), all.size());
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("name", b.getStringAttr(name)),
        b.getNamedAttr("sqnr_db", b.getF64FloatAttr(sqnr)),
        b.getNamedAttr("max_abs_error", b.getF64FloatAttr(maxErr))};
    if (rows > 0)
      fields.push_back(b.getNamedAttr(
          "top1_agreement", b.getF64FloatAttr(double(agree) / double(rows))));
    if (std::vector<const rt::Tensor *> want = referencesOf(name);
        !want.empty()) {
      std::vector<float> expected;
      for (const rt::Tensor *t : want) {
        std::vector<float> v = asFloats(*t);
        expected.insert(expected.end(), v.begin(), v.end());
      }
      if (expected.size() == all.size()) {
        fields.push_back(b.getNamedAttr(
            "float_vs_reference_max_abs_error",
            b.getF64FloatAttr(quant::maxAbsError(expected.data(), all.data(),
                                                 all.size()))));
        fields.push_back(b.getNamedAttr(
            "vs_reference_max_abs_error",
            b.getF64FloatAttr(quant::maxAbsError(expected.data(),
                                                 allQ.data(), all.size()))));
      }
    }
    outputs.push_back(b.getDictionaryAttr(fields));
  }
  int64_t quantized = 0;
  module.walk([&](Operation *op) {
    quantized += op->getName().getStringRef() == "loom.qmatmul" ||
                 op->getName().getStringRef() == "loom.qconv";
  });
  auto calibrated = module->getAttrOfType<IntegerAttr>("loom.calibration_sets");
  module->removeAttr("loom.calibration_sets");
  module->setAttr(
      "loom.quantization",
      b.getDictionaryAttr(
          {b.getNamedAttr("mode", b.getStringAttr(options.mode)),
           b.getNamedAttr("sparsity", b.getStringAttr(options.sparsity)),
           b.getNamedAttr("calibration_sets",
                          calibrated ? Attribute(calibrated)
                                     : b.getI64IntegerAttr(0)),
           b.getNamedAttr("inputs", b.getStringAttr(source)),
           b.getNamedAttr("input_sets", b.getI64IntegerAttr(int64_t(inputs.size()))),
           b.getNamedAttr("quantized_kernels", b.getI64IntegerAttr(quantized)),
           b.getNamedAttr("outputs", b.getArrayAttr(outputs))}));
  return success();
}
