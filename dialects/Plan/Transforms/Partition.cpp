//===- Partition.cpp - Device and queue per task, transfers ---------------===//
//
// The algorithms live in lib/Partition (plain C++ on an abstract problem);
// this pass only translates the plan to a problem and the solution back.
//
//===----------------------------------------------------------------------===//
#include "Plan/Transforms/Passes.h"

#include "loom/CostModel/CostModel.h"
#include "loom/Partition/Algorithms.h"
#include "loom/Target/Target.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Error.h"

#include <map>

namespace loom::plan {
#define GEN_PASS_DEF_PLANPARTITION
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;
namespace part = loom::partition;

namespace {

struct PlanPartitionPass
    : public loom::plan::impl::PlanPartitionBase<PlanPartitionPass> {
  using PlanPartitionBase::PlanPartitionBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<loom::target::TargetDesc> target =
        loadPlanTarget(module, getArgument());
    if (failed(target))
      return signalPassFailure();
    for (auto schedule : llvm::make_early_inc_range(module.getOps<ScheduleOp>()))
      if (failed(partition(module, schedule, *target)))
        return signalPassFailure();
  }

  LogicalResult partition(ModuleOp module, ScheduleOp schedule,
                          const loom::target::TargetDesc &target) {
    Builder b(module.getContext());
    Block &body = schedule.getBodyBlock();
    SmallVector<DeviceOp> devices = llvm::to_vector(module.getOps<DeviceOp>());
    DenseMap<StringRef, int> deviceIndex;
    std::map<std::string, ArenaOp> arenaOfDevice;
    for (auto [i, d] : llvm::enumerate(devices))
      deviceIndex[d.getSymName()] = int(i);
    for (auto arena : module.getOps<ArenaOp>())
      arenaOfDevice.emplace(arena.getDevice().str(), arena);
    int hostDevice = -1;
    for (auto [i, d] : llvm::enumerate(devices))
      if (d.getKind() == "cpu") {
        hostDevice = int(i);
        break;
      }
    if (hostDevice < 0)
      return module.emitError("plan-partition: the target has no cpu device");

    // The problem: task 0 is the graph inputs, pinned to the host CPU.
    part::Problem problem;
    for (DeviceOp d : devices) {
      part::Device dev;
      dev.name = d.getSymName().str();
      dev.queues = int(d.getQueues());
      problem.devices.push_back(dev);
    }
    part::Task source;
    source.name = "graph inputs";
    source.cost.assign(devices.size(), std::nullopt);
    source.cost[hostDevice] = 0.0;
    source.pinnedDevice = hostDevice;
    problem.tasks.push_back(source);

    SmallVector<TaskOp> tasks;
    DenseMap<Value, int> writer; // buffer -> problem task
    for (Operation &op : body)
      if (auto in = dyn_cast<InputOp>(op); in && !in.getFolded())
        writer[in.getBuffer()] = 0;
    for (Operation &op : body) {
      if (isa<TransferOp>(op))
        return op.emitError("plan-partition expects a plan without transfers");
      auto task = dyn_cast<TaskOp>(op);
      if (!task)
        continue;
      part::Task t;
      t.name = task.getName().str();
      auto costs = task.getCostUsAttr();
      if (!costs)
        return task.emitError("task has no cost_us (run plan-estimate-costs)");
      for (DeviceOp d : devices) {
        auto c = costs.getAs<FloatAttr>(d.getSymName());
        t.cost.push_back(c ? std::optional<double>(c.getValueAsDouble())
                           : std::nullopt);
      }
      if (llvm::none_of(t.cost, [](auto c) { return c.has_value(); }))
        return task.emitError("no device of target '")
               << target.name << "' can run '" << task.getName() << "' (kernel "
               << task.getKernel() << ")";
      int index = int(problem.tasks.size());
      std::map<int, uint64_t> inBytes;
      for (Value in : task.getInputs())
        if (auto it = writer.find(in); it != writer.end())
          inBytes[it->second] += uint64_t(byteSize(cast<ShapedType>(in.getType())));
      for (auto [from, bytes] : inBytes)
        problem.edges.push_back({from, index, bytes});
      for (Value out : task.getOutputs())
        if (isa<MemRefType>(out.getType())) {
          t.outputBytes += uint64_t(byteSize(cast<ShapedType>(out.getType())));
          writer[out] = index;
        }
      problem.tasks.push_back(t);
      tasks.push_back(task);
    }
    problem.transfer = [&](int from, int to, uint64_t bytes) {
      return loom::cost::transferMicros(double(bytes), problem.devices[from].name,
                                        problem.devices[to].name, target)
          .value_or(0.0);
    };
    if (std::string err = problem.check(); !err.empty())
      return schedule.emitError("plan-partition: ") << err;

    // Single-device plans (graph inputs stay in host memory), for the report
    // and for `auto`'s guarantee.
    SmallVector<NamedAttribute> singles;
    std::optional<part::Schedule> bestSingle;
    for (auto [i, d] : llvm::enumerate(devices)) {
      part::ScheduleResult r = singleDevicePlan(problem, int(i));
      singles.push_back(b.getNamedAttr(
          d.getSymName(), r ? Attribute(b.getF64FloatAttr(r->makespan))
                            : Attribute(b.getUnitAttr())));
      if (r && (!bestSingle || r->makespan < bestSingle->makespan))
        bestSingle = *r;
    }
    schedule->setAttr("single_device_us", b.getDictionaryAttr(singles));

    part::ScheduleResult result = solve(problem);
    if (!result)
      return schedule.emitError("plan-partition: algorithm '")
             << algorithm << "' found no schedule: " << result.error;
    // `auto` is never worse than the best single-device plan.
    if (algorithm == "auto" && bestSingle &&
        bestSingle->makespan < result->makespan)
      result.schedule = *bestSingle;
    if (std::string err = part::verify(problem, *result); !err.empty())
      return schedule.emitError("plan-partition: the schedule of '")
             << algorithm << "' is invalid: " << err;
    return rewrite(module, schedule, problem, *result, tasks, arenaOfDevice,
                   target);
  }

  /// Everything on `device`, the graph inputs in host memory.
  static part::ScheduleResult singleDevicePlan(const part::Problem &problem,
                                               int device) {
    std::vector<int> assignment(problem.tasks.size(), device);
    assignment[0] = *problem.tasks[0].pinnedDevice;
    for (size_t t = 1; t < problem.tasks.size(); ++t)
      if (!problem.tasks[t].cost[device]) {
        part::ScheduleResult r;
        r.error = "'" + problem.tasks[t].name + "' cannot run on " +
                  problem.devices[device].name;
        return r;
      }
    return part::scheduleFixed(problem, assignment);
  }

  part::ScheduleResult solve(const part::Problem &problem) {
    StringRef algo = algorithm;
    if (algo == "auto")
      return part::autoSchedule(problem);
    if (algo == "heft")
      return part::heft(problem);
    if (algo == "greedy")
      return part::greedy(problem);
    if (algo == "exact") {
      part::ScheduleResult r = part::exactSchedule(problem);
      if (!r && r.error.empty())
        r.error = "exact search is limited to 20 tasks";
      return r;
    }
    if (algo.consume_front("single:")) {
      for (auto [i, d] : llvm::enumerate(problem.devices))
        if (d.name == algo)
          return singleDevicePlan(problem, int(i));
      part::ScheduleResult r;
      r.error = ("no device '" + algo + "' in the target").str();
      return r;
    }
    part::ScheduleResult r;
    r.error = "unknown algorithm (known: auto, heft, greedy, exact, "
              "single:DEVICE)";
    return r;
  }

  LogicalResult rewrite(ModuleOp module, ScheduleOp schedule,
                        const part::Problem &problem,
                        const part::Schedule &solution,
                        MutableArrayRef<TaskOp> tasks,
                        std::map<std::string, ArenaOp> &arenaOfDevice,
                        const loom::target::TargetDesc &target) {
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    Block &body = schedule.getBodyBlock();
    auto deviceName = [&](int d) { return problem.devices[d].name; };

    // Sort key of every op that runs: (predicted start, original order).
    DenseMap<Operation *, std::pair<double, double>> key;
    DenseMap<Value, int> producerDevice; // buffer -> device of its writer
    for (Operation &op : body)
      if (auto in = dyn_cast<InputOp>(op); in && !in.getFolded())
        producerDevice[in.getBuffer()] = *problem.tasks[0].pinnedDevice;

    // Devices, queues and output arenas.
    for (auto [i, task] : llvm::enumerate(tasks)) {
      const part::ScheduledTask &s = solution.tasks[i + 1];
      task.setDeviceAttr(FlatSymbolRefAttr::get(ctx, deviceName(s.device)));
      task.setQueueAttr(b.getI64IntegerAttr(s.queue));
      key[task] = {s.start, double(i + 1)};
      for (Value out : task.getOutputs())
        if (auto alloc = out.getDefiningOp<AllocOp>()) {
          alloc.setArenaAttr(FlatSymbolRefAttr::get(
              ctx, arenaOfDevice.at(deviceName(s.device)).getSymName()));
          producerDevice[out] = s.device;
        }
      // Devices that cannot run the task: a note for the report.
      SmallVector<std::string> cannot;
      for (auto [d, c] : llvm::enumerate(problem.tasks[i + 1].cost))
        if (!c)
          cannot.push_back("@" + deviceName(int(d)));
      if (!cannot.empty())
        task->setAttr("fallback",
                      b.getStringAttr("no estimate on " + llvm::join(cannot, ", ") +
                                      " (kernel or dtype not supported there)"));
    }

    // Transfers: one per (buffer, consumer device), just before the first
    // consumer on that device.
    std::map<std::pair<void *, int>, std::pair<Value, TransferOp>> copies;
    for (auto [i, task] : llvm::enumerate(tasks)) {
      int dev = solution.tasks[i + 1].device;
      SmallVector<Value> inputs(task.getInputs());
      bool changed = false;
      for (auto [k, in] : llvm::enumerate(inputs)) {
        auto it = producerDevice.find(in);
        if (it == producerDevice.end() || it->second == dev)
          continue;
        auto copyKey = std::make_pair(in.getAsOpaquePointer(), dev);
        auto found = copies.find(copyKey);
        if (found == copies.end()) {
          b.setInsertionPoint(task);
          auto src = in.getDefiningOp<AllocOp>();
          std::string name = (src && src.getName() ? src.getName()->str() : "buffer") +
                             "@" + deviceName(dev);
          Value dst = AllocOp::create(
              b, task.getLoc(), in.getType(),
              FlatSymbolRefAttr::get(ctx, arenaOfDevice.at(deviceName(dev)).getSymName()),
              b.getStringAttr(name), nullptr);
          SmallVector<Value> deps;
          for (Value e : task.getDeps())
            if (Operation *w = e.getDefiningOp())
              if (auto wt = dyn_cast<TaskOp>(w);
                  wt && llvm::is_contained(wt.getOutputs(), in))
                deps.push_back(e);
          double us = loom::cost::transferMicros(
                          double(byteSize(cast<ShapedType>(in.getType()))),
                          deviceName(it->second), deviceName(dev), target)
                          .value_or(0.0);
          SmallVector<NamedAttribute> costs;
          for (const part::Device &d : problem.devices)
            costs.push_back(b.getNamedAttr(d.name, b.getF64FloatAttr(us)));
          auto transfer = TransferOp::create(
              b, task.getLoc(), b.getType<EventType>(), in, dst,
              FlatSymbolRefAttr::get(ctx, deviceName(dev)),
              b.getI64IntegerAttr(solution.tasks[i + 1].queue), deps,
              b.getStringAttr("copy " + name), b.getDictionaryAttr(costs),
              nullptr, nullptr);
          // Predicted start: the algorithm's transfer on this edge, if any.
          double start = key[task].first;
          for (const part::ScheduledTransfer &t : solution.transfers)
            if (problem.edges[t.edge].to == int(i + 1))
              start = std::min(start, t.start);
          key[transfer] = {start, double(i + 1) - 0.5};
          found = copies.emplace(copyKey, std::make_pair(dst, transfer)).first;
          ++numTransfers;
        }
        inputs[k] = found->second.first;
        changed = true;
        Value event = found->second.second.getDone();
        if (!llvm::is_contained(task.getDeps(), event))
          task.getDepsMutable().append(event);
      }
      if (changed)
        task.getInputsMutable().assign(inputs);
    }

    // Order: buffers and bindings first (as they were), then tasks and
    // transfers by predicted start.
    SmallVector<Operation *> running, rest;
    for (Operation &op : body)
      (isa<TaskOp, TransferOp>(op) ? running : rest).push_back(&op);
    llvm::stable_sort(running, [&](Operation *a, Operation *c) {
      return key[a] < key[c];
    });
    for (Operation *op : rest)
      op->moveBefore(&body, body.end());
    for (Operation *op : running)
      op->moveBefore(&body, body.end());
    return success();
  }
};

} // namespace
