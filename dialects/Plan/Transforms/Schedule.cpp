//===- Schedule.cpp - Predicted start/end times in schedule order ---------===//
#include "Plan/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace loom::plan {
#define GEN_PASS_DEF_PLANSCHEDULE
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

struct PlanSchedulePass
    : public loom::plan::impl::PlanScheduleBase<PlanSchedulePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    for (auto schedule : module.getOps<ScheduleOp>()) {
      // When each queue is free again, and when each event is signalled.
      std::map<std::pair<std::string, int64_t>, double> queueFree;
      DenseMap<Value, double> signalled;
      double makespan = 0;
      for (Operation &op : schedule.getBodyBlock()) {
        FlatSymbolRefAttr device;
        int64_t queue;
        ValueRange deps;
        StringRef name;
        if (auto task = dyn_cast<TaskOp>(op)) {
          device = task.getDeviceAttr();
          queue = int64_t(task.getQueue());
          deps = task.getDeps();
          name = task.getName();
        } else if (auto transfer = dyn_cast<TransferOp>(op)) {
          device = transfer.getDeviceAttr();
          queue = int64_t(transfer.getQueue());
          deps = transfer.getDeps();
          name = transfer.getName();
        } else {
          continue;
        }
        auto costs = op.getAttrOfType<DictionaryAttr>("cost_us");
        auto cost = costs ? costs.getAs<FloatAttr>(device.getValue()) : nullptr;
        if (!cost) {
          op.emitError("'") << name << "' has no cost on its device " << device
                            << " (run plan-estimate-costs first)";
          return signalPassFailure();
        }
        double &free = queueFree[{device.getValue().str(), queue}];
        double start = free;
        for (Value dep : deps)
          start = std::max(start, signalled.lookup(dep));
        double end = start + cost.getValueAsDouble();
        op.setAttr("start_us", b.getF64FloatAttr(start));
        op.setAttr("end_us", b.getF64FloatAttr(end));
        signalled[op.getResult(0)] = end;
        free = end;
        makespan = std::max(makespan, end);
      }
      schedule.setMakespanUsAttr(b.getF64FloatAttr(makespan));
    }
  }
};

} // namespace
