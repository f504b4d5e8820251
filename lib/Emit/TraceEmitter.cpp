//===- TraceEmitter.cpp - The predicted schedule as a Chrome trace --------===//
//
// The same layout as `loom-run --profile` (pid = device index in plan order,
// tid = queue, one "X" event per task with cat = kernel and args.task = task
// id), so a predicted and a measured trace can be laid side by side. Links
// that carry transfers get their own processes after the devices. The bodies
// of a control task (if, loop) get rows of their own under its device, after
// the queues, each with the body's tasks as predicted for one run.
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/PlanEmitter.h"

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <map>

using namespace mlir;
using namespace loom::plan;


LogicalResult loom::emit::emitTrace(ModuleOp module, llvm::raw_ostream &os) {
  FailureOr<ScheduleOp> schedule = getPlanSchedule(module);
  if (failed(schedule))
    return failure();
  Block &body = schedule->getBodyBlock();

  std::map<std::string, int64_t> devicePid;
  SmallVector<DeviceOp> devices;
  for (auto dev : module.getOps<DeviceOp>()) {
    devicePid[dev.getSymName().str()] = int64_t(devices.size());
    devices.push_back(dev);
  }
  // Links in order of first use: "from->to" -> pid.
  std::map<std::string, int64_t> linkPid;
  SmallVector<std::string> links;
  for (auto transfer : body.getOps<TransferOp>()) {
    std::string key = transfer.getLink();
    if (linkPid.emplace(key, int64_t(devices.size() + links.size())).second)
      links.push_back(key);
  }

  int64_t id = 0;
  for (Operation &op : body) {
    if (!isa<TaskOp, TransferOp>(op))
      continue;
    if (!op.getAttrOfType<FloatAttr>("start_us") ||
        !op.getAttrOfType<FloatAttr>("end_us"))
      return op.emitError("task has no predicted start_us/end_us (run "
                          "plan-schedule)");
  }

  llvm::json::OStream j(os, 2);
  j.objectBegin();
  j.attributeArray("traceEvents", [&] {
    auto meta = [&](StringRef kind, int64_t pid, std::optional<int64_t> tid,
                    StringRef name) {
      j.object([&] {
        j.attribute("name", kind);
        j.attribute("ph", "M");
        j.attribute("pid", pid);
        if (tid)
          j.attribute("tid", *tid);
        j.attributeObject("args", [&] { j.attribute("name", name); });
      });
    };
    for (auto [pid, dev] : llvm::enumerate(devices)) {
      meta("process_name", int64_t(pid), std::nullopt, dev.getSymName());
      for (uint64_t q = 0; q < dev.getQueues(); ++q)
        meta("thread_name", int64_t(pid), int64_t(q),
             "queue " + std::to_string(q));
    }
    for (auto [i, link] : llvm::enumerate(links)) {
      int64_t pid = int64_t(devices.size() + i);
      meta("process_name", pid, std::nullopt, "link " + link);
      meta("thread_name", pid, int64_t(0), "transfers");
    }
    for (Operation &op : body) {
      auto task = dyn_cast<TaskOp>(op);
      auto transfer = dyn_cast<TransferOp>(op);
      if (!task && !transfer)
        continue;
      double start = op.getAttrOfType<FloatAttr>("start_us").getValueAsDouble();
      double end = op.getAttrOfType<FloatAttr>("end_us").getValueAsDouble();
      int64_t pid, tid;
      if (task) {
        pid = devicePid[task.getDevice().str()];
        tid = int64_t(task.getQueue());
      } else {
        pid = linkPid[transfer.getLink()];
        tid = 0;
      }
      j.object([&] {
        j.attribute("name", task ? task.getName() : transfer.getName());
        j.attribute("cat", task ? task.getKernel() : StringRef("copy"));
        j.attribute("ph", "X");
        j.attribute("pid", pid);
        j.attribute("tid", tid);
        j.attribute("ts", start);
        j.attribute("dur", end - start);
        j.attributeObject("args", [&] { j.attribute("task", id); });
      });
      ++id;
    }
    // Control tasks' bodies: one row each, after the device's queues.
    std::map<int64_t, int64_t> nextRow;
    for (auto [pid, dev] : llvm::enumerate(devices))
      nextRow[int64_t(pid)] = int64_t(dev.getQueues());
    std::function<void(TaskOp, int64_t, StringRef)> bodies =
        [&](TaskOp control, int64_t taskId, StringRef prefix) {
          int64_t pid = devicePid[control.getDevice().str()];
          for (Region &region : control.getBodies()) {
            YieldOp yield = control.getBodyYield(region.getRegionNumber());
            std::string row = (prefix + " / " + yield.getName()).str();
            int64_t tid = nextRow[pid]++;
            meta("thread_name", pid, tid, row);
            int64_t index = 0;
            for (auto inner : region.front().getOps<TaskOp>()) {
              auto startAttr = inner.getStartUsAttr();
              auto endAttr = inner.getEndUsAttr();
              double start = startAttr ? startAttr.getValueAsDouble() : 0;
              double end = endAttr ? endAttr.getValueAsDouble() : start;
              j.object([&] {
                j.attribute("name", inner.getName());
                j.attribute("cat", inner.getKernel());
                j.attribute("ph", "X");
                j.attribute("pid", pid);
                j.attribute("tid", tid);
                j.attribute("ts", start);
                j.attribute("dur", end - start);
                j.attributeObject("args", [&] {
                  j.attribute("task", taskId);
                  j.attribute("body", yield.getName());
                  j.attribute("body_task", index);
                });
              });
              if (inner.isControl())
                bodies(inner, taskId, row + " / " + inner.getName().str());
              ++index;
            }
          }
        };
    int64_t taskId = 0;
    for (Operation &op : body) {
      if (!isa<TaskOp, TransferOp>(op))
        continue;
      if (auto task = dyn_cast<TaskOp>(op); task && task.isControl())
        bodies(task, taskId,
               ("queue " + Twine(task.getQueue()) + ": " + task.getKernel() +
                " '" + task.getName() + "'")
                   .str());
      ++taskId;
    }
  });
  j.attribute("displayTimeUnit", "ms");
  j.objectEnd();
  os << "\n";
  return success();
}
