//===- Schedule.cpp - Predicted start/end times in schedule order ---------===//
#include "Plan/Transforms/Passes.h"

#include "loom/Partition/Problem.h"

#include "mlir/IR/Builders.h"

#include <map>

namespace loom::plan {
#define GEN_PASS_DEF_PLANSCHEDULE
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

/// Predicted times of a control task's body tasks: each body runs once,
/// in order, from the control task's start (nested bodies likewise).
LogicalResult timeBodies(TaskOp control, double start, Builder &b) {
  for (Region &body : control.getBodies()) {
    double t = start;
    for (auto task : body.front().getOps<TaskOp>()) {
      auto costs = task.getCostUsAttr();
      auto cost = costs ? costs.getAs<FloatAttr>(task.getDevice()) : nullptr;
      if (!cost)
        return task.emitError("'")
               << task.getName() << "' has no cost on its device @"
               << task.getDevice() << " (run plan-estimate-costs first)";
      double taskStart = t;
      task.setStartUsAttr(b.getF64FloatAttr(t));
      t += cost.getValueAsDouble();
      task.setEndUsAttr(b.getF64FloatAttr(t));
      if (task.isControl() && failed(timeBodies(task, taskStart, b)))
        return failure();
    }
  }
  return success();
}

struct PlanSchedulePass
    : public loom::plan::impl::PlanScheduleBase<PlanSchedulePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    // Work can spread over every queue of every device.
    int64_t numQueues = 0;
    SmallVector<DeviceOp> devices;
    std::vector<int> queues;
    for (auto dev : module.getOps<DeviceOp>()) {
      numQueues += int64_t(dev.getQueues());
      devices.push_back(dev);
      queues.push_back(int(dev.getQueues()));
    }
    for (auto schedule : module.getOps<ScheduleOp>()) {
      // When each resource (a device queue, or a link for transfers) is free
      // again, and when each event is signalled.
      std::map<std::string, double> resourceFree;
      DenseMap<Value, double> signalled;
      // For the lower bound: the earliest finish with every task at its
      // cheapest device and free transfers, and the total cheapest work.
      DenseMap<Value, double> cheapestFinish;
      double makespan = 0, criticalPath = 0, cheapestWork = 0;
      std::vector<std::vector<std::optional<double>>> taskCosts;
      for (Operation &op : schedule.getBodyBlock()) {
        FlatSymbolRefAttr device;
        ValueRange deps;
        StringRef name;
        std::string resource;
        auto task = dyn_cast<TaskOp>(op);
        if (task) {
          device = task.getDeviceAttr();
          deps = task.getDeps();
          name = task.getName();
          resource = (device.getValue() + "[" + Twine(task.getQueue()) + "]").str();
        } else if (auto transfer = dyn_cast<TransferOp>(op)) {
          device = transfer.getDeviceAttr();
          deps = transfer.getDeps();
          name = transfer.getName();
          // A transfer occupies the link between the two arenas' devices.
          resource = "link " + transfer.getLink();
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
        double &free = resourceFree[resource];
        double start = free, ready = 0;
        for (Value dep : deps) {
          start = std::max(start, signalled.lookup(dep));
          ready = std::max(ready, cheapestFinish.lookup(dep));
        }
        double end = start + cost.getValueAsDouble();
        op.setAttr("start_us", b.getF64FloatAttr(start));
        op.setAttr("end_us", b.getF64FloatAttr(end));
        if (task && task.isControl() && failed(timeBodies(task, start, b)))
          return signalPassFailure();
        signalled[op.getResult(0)] = end;
        free = end;
        makespan = std::max(makespan, end);

        double cheapest = 0;
        if (task) {
          cheapest = cost.getValueAsDouble();
          for (NamedAttribute c : costs)
            if (auto f = dyn_cast<FloatAttr>(c.getValue()))
              cheapest = std::min(cheapest, f.getValueAsDouble());
          cheapestWork += cheapest;
          std::vector<std::optional<double>> row;
          for (DeviceOp dev : devices) {
            auto f = costs.getAs<FloatAttr>(dev.getSymName());
            row.push_back(f ? std::optional<double>(f.getValueAsDouble())
                            : std::nullopt);
          }
          taskCosts.push_back(std::move(row));
        }
        cheapestFinish[op.getResult(0)] = ready + cheapest;
        criticalPath = std::max(criticalPath, ready + cheapest);
      }
      schedule.setMakespanUsAttr(b.getF64FloatAttr(makespan));
      double bound = std::max(
          {criticalPath, numQueues ? cheapestWork / double(numQueues) : 0,
           loom::partition::workLowerBound(taskCosts, queues)});
      schedule->setAttr("lower_bound_us", b.getF64FloatAttr(bound));
    }
  }
};

} // namespace
