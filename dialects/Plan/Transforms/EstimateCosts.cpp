//===- EstimateCosts.cpp - cost_us of every task on every device ----------===//
#include "Plan/Transforms/Passes.h"

#include "loom/CostModel/CostModel.h"
#include "loom/Target/Target.h"

#include "mlir/IR/Builders.h"

namespace loom::plan {
#define GEN_PASS_DEF_PLANESTIMATECOSTS
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

static std::optional<loom::cost::TensorDesc> describe(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type)
    return std::nullopt;
  loom::cost::TensorDesc t;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  t.elementBytes = elementBytes(type.getElementType());
  t.elementType.clear();
  llvm::raw_string_ostream os(t.elementType);
  type.getElementType().print(os);
  // Weights (and folded inputs, and parts of them) are known at compile
  // time.
  t.constant = rootBuffer(v).getDefiningOp<WeightOp>() != nullptr;
  return t;
}

std::vector<std::string> loom::plan::weightFormats(Operation *op) {
  auto task = dyn_cast<TaskOp>(op);
  if (!task)
    return {};
  DictionaryAttr attrs = task.getKernelAttrs();
  auto bits = attrs.getAs<IntegerAttr>("w_bits");
  StringRef kernel = task.getKernel();
  if (kernel != "qmatmul" && kernel != "qconv" &&
      !(kernel == "dequantize_linear" && bits))
    return {};
  std::vector<std::string> formats;
  int64_t b = bits ? bits.getInt() : 8;
  formats.push_back(b == 2 ? "ternary" : b == 4 ? "int4" : "int8");
  if (attrs.get("w_sparsity"))
    formats.push_back("2:4");
  return formats;
}

bool loom::plan::describeKernel(Operation *op, loom::cost::KernelDesc &k) {
  k = {};
  if (auto task = dyn_cast<TaskOp>(op)) {
    k.kernel = task.getKernel().str();
    for (Value v : task.getInputs())
      k.inputs.push_back(describe(v));
    for (Value v : task.getOutputs())
      k.outputs.push_back(describe(v));
    k.weightFormats = weightFormats(task);
    // The per-element ops beside the main work: an epilogue activation,
    // a fused_elementwise body.
    DictionaryAttr attrs = task.getKernelAttrs();
    if (auto act = attrs ? attrs.getAs<StringAttr>("activation") : StringAttr())
      if (act.getValue() != "none")
        k.elementOps.push_back(act.getValue().str());
    if (auto body = attrs ? attrs.getAs<ArrayAttr>("body_ops") : ArrayAttr())
      for (Attribute op : body)
        if (auto name = dyn_cast<StringAttr>(op))
          k.elementOps.push_back(name.getValue().str());
    return true;
  }
  if (auto transfer = dyn_cast<TransferOp>(op)) {
    k.kernel = "copy";
    k.inputs.push_back(describe(transfer.getSource()));
    k.outputs.push_back(describe(transfer.getTarget()));
    return true;
  }
  return false;
}

std::optional<loom::target::DType>
loom::plan::reducedPrecisionOn(Operation *op, llvm::StringRef device) {
  auto dict = op->getAttrOfType<DictionaryAttr>("reduced_precision");
  auto type = dict ? dict.getAs<StringAttr>(device) : StringAttr();
  return type ? loom::target::parseDType(type.getValue()) : std::nullopt;
}

namespace {

/// A control task runs its bodies itself, on a CPU: an "if" costs its longer
/// body (the worst case, which a deadline needs), a "loop" `max_trip_count`
/// runs of its body, plus one dispatch. Other devices cannot run it.
DictionaryAttr controlCost(
    TaskOp task,
    ArrayRef<std::pair<StringAttr, const loom::target::DeviceDesc *>> devices,
    Builder &b) {
  SmallVector<NamedAttribute> costs;
  for (auto [name, d] : devices) {
    std::optional<double> worst = 0.0;
    if (d->kind != "cpu")
      worst.reset();
    for (Region &body : task.getBodies()) {
      if (!worst)
        break;
      double sum = 0;
      for (auto inner : body.front().getOps<TaskOp>()) {
        auto us = inner.getCostUsAttr()
                      ? inner.getCostUsAttr().getAs<FloatAttr>(name)
                      : FloatAttr();
        if (!us) {
          worst.reset();
          break;
        }
        sum += us.getValueAsDouble();
      }
      if (worst)
        worst = std::max(*worst, sum);
    }
    if (worst && task.getKernel() == "loop")
      *worst *= double(task.getKernelAttrs()
                           .getAs<IntegerAttr>("max_trip_count")
                           .getInt());
    if (worst)
      *worst += d->dispatchUs;
    costs.push_back(b.getNamedAttr(name, worst ? Attribute(b.getF64FloatAttr(*worst))
                                               : b.getUnitAttr()));
  }
  return b.getDictionaryAttr(costs);
}

/// `{model = "roofline" | FAMILY, dominant = TERM, TERM = µs, ...}` with
/// the non-zero terms of an estimate (explainPlacement reads it).
DictionaryAttr describeTerms(const loom::cost::CostTerms &t, Builder &b) {
  SmallVector<NamedAttribute> out;
  out.push_back(b.getNamedAttr(
      "model", b.getStringAttr(t.fitted ? t.family : "roofline")));
  out.push_back(b.getNamedAttr("dominant", b.getStringAttr(t.dominant())));
  std::pair<const char *, double> parts[] = {
      {"dispatch", t.dispatchUs}, {"overhead", t.overheadUs},
      {"compute", t.computeUs},   {"memory", t.memoryUs},
      {"cache", t.cacheUs},       {"transcendental", t.transcendentalUs},
      {"cold", t.coldUs}};
  for (auto [key, us] : parts)
    if (us > 0)
      out.push_back(b.getNamedAttr(key, b.getF64FloatAttr(us)));
  return b.getDictionaryAttr(out);
}

struct PlanEstimateCostsPass
    : public loom::plan::impl::PlanEstimateCostsBase<PlanEstimateCostsPass> {
  using PlanEstimateCostsBase::PlanEstimateCostsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<loom::target::TargetDesc> desc =
        loadPlanTarget(module, getArgument());
    if (failed(desc))
      return signalPassFailure();
    if (costModel != "auto" && costModel != "roofline") {
      module.emitError("plan-estimate-costs: cost-model is '")
          << costModel << "'; expected auto or roofline";
      return signalPassFailure();
    }
    if (threads < 1) {
      module.emitError("plan-estimate-costs: threads is ")
          << std::to_string(int(threads)) << "; expected 1 or more";
      return signalPassFailure();
    }
    for (loom::target::DeviceDesc &d : desc->devices) {
      if (costModel == "roofline")
        d.fitted.reset();
      else if (const loom::target::FittedModel *f = d.fitFor(threads))
        d.fitted = *f;
    }
    // The devices of the plan, each with its figures.
    SmallVector<std::pair<StringAttr, const loom::target::DeviceDesc *>> devices;
    for (auto dev : module.getOps<DeviceOp>()) {
      const auto *d = desc->findDevice(dev.getSymName().str());
      if (!d) {
        dev.emitError("device @") << dev.getSymName() << " is not in target '"
                                  << desc->name << "'";
        return signalPassFailure();
      }
      devices.push_back({dev.getSymNameAttr(), d});
    }
    // A measured table, when given, replaces the estimates it has entries for.
    std::optional<loom::cost::CostTable> table;
    if (!costTable.empty()) {
      llvm::Expected<loom::cost::CostTable> loaded =
          loom::cost::CostTable::load(costTable);
      if (!loaded) {
        module.emitError("plan-estimate-costs: ")
            << llvm::toString(loaded.takeError());
        return signalPassFailure();
      }
      table = std::move(*loaded);
      // Times measured on another SoC are not this target's.
      if (!table->target.empty() && table->target != desc->name) {
        auto diag = allowForeignCostTable
                        ? module.emitWarning("plan-estimate-costs: ")
                        : module.emitError("plan-estimate-costs: ");
        diag << "cost table '" << costTable << "' was measured on target '"
             << table->target << "', not '" << desc->name << "'";
        if (!allowForeignCostTable) {
          diag << " (measure it on this target with loom-profile, or "
                  "use it anyway with --allow-foreign-cost-table)";
          return signalPassFailure();
        }
      }
    }
    const loom::cost::CostTable *tablePtr = table ? &*table : nullptr;
    if (devicePrecision != "auto" && devicePrecision != "exact") {
      module.emitError("plan-estimate-costs: device-precision is '")
          << devicePrecision << "'; expected auto or exact";
      return signalPassFailure();
    }
    const bool reducedAllowed = devicePrecision == "auto";
    // Weights go cold between runs where the plan's weights, twice over
    // (the runtime's fast paths keep a reordered copy beside them), do not
    // fit in the last-level cache of the device's fit.
    double weightBytes = 0;
    module.walk([&](WeightOp w) {
      auto type = cast<MemRefType>(w.getResult().getType());
      weightBytes +=
          double(type.getNumElements()) *
          double(std::max<int64_t>(1, type.getElementTypeBitWidth() / 8));
    });
    llvm::DenseMap<const loom::target::DeviceDesc *, double> coldOn;
    for (auto [name, d] : devices)
      coldOn[d] = d->fitted ? d->fitted->coldShare(weightBytes) : 0;
    int64_t measuredTasks = 0;
    Builder b(module.getContext());
    // Post-order: a control task's bodies have their costs before it.
    module.walk([&](Operation *op) {
      if (auto task = dyn_cast<TaskOp>(op); task && task.isControl()) {
        task->setAttr("cost_us", controlCost(task, devices, b));
        return;
      }
      loom::cost::KernelDesc k;
      if (!describeKernel(op, k))
        return;
      SmallVector<NamedAttribute> costs, reduced, terms;
      bool measured = false;
      // A layer of the plan pays the cold share of its weights' bytes but
      // not the per-call cold cost of a microkernel after a whole-cache
      // flush: its code and tables stay warm (docs/targets.md).
      k.coldCallShare = 0;
      for (auto [name, d] : devices) {
        k.coldWeights = coldOn.lookup(d);
        std::optional<double> us = loom::cost::estimateMicros(k, *d, tablePtr);
        bool fromTable = us && tablePtr && tablePtr->lookup(k, d->name);
        measured |= fromTable;
        std::optional<loom::cost::CostTerms> parts;
        if (us && !fromTable)
          parts = loom::cost::estimateTerms(k, *d);
        // A device without f32 may run an f32 task in its 16-bit float.
        if (!us && reducedAllowed && isa<TaskOp>(op))
          if (std::optional<loom::target::DType> t =
                  loom::cost::reducedFloatType(k, *d)) {
            loom::cost::Roofline r = *loom::cost::estimateRoofline(k, *d, t);
            us = r.totalUs();
            parts = loom::cost::CostTerms{};
            parts->dispatchUs = r.dispatchUs;
            parts->computeUs = r.computeUs;
            parts->memoryUs = r.memoryUs;
            reduced.push_back(b.getNamedAttr(
                name, b.getStringAttr(loom::target::dtypeName(*t))));
          }
        costs.push_back(b.getNamedAttr(
            name, us ? Attribute(b.getF64FloatAttr(*us)) : b.getUnitAttr()));
        if (parts && isa<TaskOp>(op))
          terms.push_back(b.getNamedAttr(name, describeTerms(*parts, b)));
      }
      op->setAttr("cost_us", b.getDictionaryAttr(costs));
      if (!terms.empty())
        op->setAttr("cost_terms", b.getDictionaryAttr(terms));
      if (!reduced.empty())
        op->setAttr("reduced_precision", b.getDictionaryAttr(reduced));
      if (measured) {
        ++numMeasured;
        measuredTasks += isa<TaskOp>(op);
      }
    });
    if (table)
      module->setAttr(
          "plan.cost_table",
          b.getDictionaryAttr(
              {b.getNamedAttr("file", b.getStringAttr(costTable)),
               b.getNamedAttr("target", b.getStringAttr(table->target)),
               b.getNamedAttr("measured_tasks",
                              b.getI64IntegerAttr(measuredTasks))}));
  }
};

} // namespace
