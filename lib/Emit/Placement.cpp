//===- Placement.cpp - Why a task runs on its device ----------------------===//
#include "loom/Emit/Placement.h"

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

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
  // Which term of the estimate dominated on the chosen device (set by
  // plan-estimate-costs: cost_terms).
  if (auto terms = task->getAttrOfType<DictionaryAttr>("cost_terms"))
    if (auto mine = terms.getAs<DictionaryAttr>(chosen)) {
      auto model = mine.getAs<StringAttr>("model");
      auto dominant = mine.getAs<StringAttr>("dominant");
      auto part = dominant ? mine.getAs<FloatAttr>(dominant.getValue())
                           : FloatAttr();
      if (model && dominant && part && here && *here > 0) {
        e.dominant = dominant.getValue().str();
        e.model = model.getValue().str();
        e.reason += "; " + e.dominant + " " +
                    std::to_string(int(std::lround(
                        100 * part.getValueAsDouble() / *here))) +
                    "% of its time on " + chosen.str() + " (" +
                    (e.model == "roofline" ? std::string("roofline")
                                           : "fitted " + e.model) +
                    ")";
      }
    }
  if (auto why = task->getAttrOfType<StringAttr>("fallback"))
    e.reason += "; " + why.getValue().str();
  if (auto split = task->getAttrOfType<StringAttr>("split"))
    e.reason += "; co-executed part: " + split.getValue().str();
  return e;
}
