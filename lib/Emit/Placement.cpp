//===- Placement.cpp - Why a task runs on its device ----------------------===//
#include "loom/Emit/Placement.h"

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace loom::plan;

loom::emit::PlacementExplanation loom::emit::explainPlacement(ModuleOp module,
                                                              TaskOp task) {
  PlacementExplanation e;
  auto costs = task.getCostUsAttr();
  StringRef chosen = task.getDevice();
  e.chosen = chosen.str();
  std::optional<double> here, best;
  StringRef bestDevice;
  unsigned capable = 0;
  for (auto dev : module.getOps<DeviceOp>()) {
    auto c = costs ? costs.getAs<FloatAttr>(dev.getSymName()) : nullptr;
    if (!c) {
      e.costs.push_back({dev.getSymName().str(), std::nullopt});
      continue;
    }
    ++capable;
    double us = c.getValueAsDouble();
    e.costs.push_back({dev.getSymName().str(), us});
    if (dev.getSymName() == chosen)
      here = us;
    if (!best || us < *best) {
      best = us;
      bestDevice = dev.getSymName();
    }
  }
  if (capable == 0)
    e.reason =
        "placed on " + chosen.str() + " (the plan has no cost estimates)";
  else if (capable == 1)
    e.reason = "only " + chosen.str() + " can run it";
  else if (here && best && *here <= *best)
    e.reason = "fastest on " + chosen.str();
  else
    e.reason = "faster on " + bestDevice.str() + ", but on " + chosen.str() +
               " the whole schedule ends sooner (data stays where it is, or " +
               bestDevice.str() + " is busy)";
  if (auto why = task->getAttrOfType<StringAttr>("fallback"))
    e.reason += "; " + why.getValue().str();
  if (auto split = task->getAttrOfType<StringAttr>("split"))
    e.reason += "; co-executed part: " + split.getValue().str();
  return e;
}
