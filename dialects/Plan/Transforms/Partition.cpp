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

  /// The partitioning problem of one schedule: task 0 is the graph inputs,
  /// pinned to the host CPU; task i + 1 is `tasks[i]`.
  struct Built {
    part::Problem problem;
    SmallVector<TaskOp> tasks;
  };

  FailureOr<Built> buildProblem(ScheduleOp schedule, ArrayRef<DeviceOp> devices,
                                int hostDevice,
                                const loom::target::TargetDesc &target) {
    Built built;
    part::Problem &problem = built.problem;
    Block &body = schedule.getBodyBlock();
    for (DeviceOp d : devices) {
      part::Device dev;
      dev.name = d.getSymName().str();
      dev.queues = int(d.getQueues());
      if (withMemoryLimits)
        for (auto arena : d->getParentOfType<ModuleOp>().getOps<ArenaOp>())
          if (arena.getDevice() == d.getSymName() && arena.getCapacityBytes())
            dev.memoryLimitBytes = *arena.getCapacityBytes();
      problem.devices.push_back(dev);
    }
    part::Task source;
    source.name = "graph inputs";
    source.cost.assign(devices.size(), std::nullopt);
    source.cost[hostDevice] = 0.0;
    source.pinnedDevice = hostDevice;
    problem.tasks.push_back(source);

    // The writes into each buffer (a root buffer; parts of an op split
    // across devices write views of it): problem task and byte range. A
    // later write covering an earlier one replaces it.
    struct Write {
      int task;
      int64_t lo, hi;
    };
    DenseMap<Value, SmallVector<Write, 1>> writes;
    for (Operation &op : body)
      if (auto in = dyn_cast<InputOp>(op); in && !in.getFolded())
        writes[in.getBuffer()].push_back(
            {0, 0, byteSize(cast<ShapedType>(in.getBuffer().getType()))});
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
      for (Value in : task.getInputs()) {
        if (!isa<MemRefType>(in.getType()))
          continue;
        auto it = writes.find(rootBuffer(in));
        if (it == writes.end())
          continue;
        auto [lo, hi] = bytesInRoot(in);
        // A state buffer is read in place from every device (shared
        // memory): an ordering edge that moves no bytes.
        bool shared = it->first.getDefiningOp<StateOp>() != nullptr;
        for (const Write &w : it->second)
          if (w.lo < hi && lo < w.hi)
            inBytes[w.task] +=
                shared ? 0 : uint64_t(std::min(hi, w.hi) - std::max(lo, w.lo));
      }
      for (auto [from, bytes] : inBytes)
        problem.edges.push_back({from, index, bytes});
      for (Value out : task.getOutputs())
        if (isa<MemRefType>(out.getType())) {
          auto [lo, hi] = bytesInRoot(out);
          if (!rootBuffer(out).getDefiningOp<StateOp>()) // in no arena
            t.outputBytes += uint64_t(hi - lo);
          auto &list = writes[rootBuffer(out)];
          llvm::erase_if(list, [&](const Write &w) {
            return lo <= w.lo && w.hi <= hi;
          });
          list.push_back({index, lo, hi});
        }
      problem.tasks.push_back(t);
      built.tasks.push_back(task);
    }
    problem.transfer = [&target, devs = problem.devices](int from, int to,
                                                         uint64_t bytes) {
      return loom::cost::transferMicros(double(bytes), devs[from].name,
                                        devs[to].name, target)
          .value_or(0.0);
    };
    if (std::string err = problem.check(); !err.empty())
      return schedule.emitError("plan-partition: ") << err;
    return built;
  }

  LogicalResult partition(ModuleOp module, ScheduleOp schedule,
                          const loom::target::TargetDesc &target) {
    Builder b(module.getContext());
    SmallVector<DeviceOp> devices = llvm::to_vector(module.getOps<DeviceOp>());
    std::map<std::string, ArenaOp> arenaOfDevice;
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

    FailureOr<Built> built = buildProblem(schedule, devices, hostDevice, target);
    if (failed(built))
      return failure();
    // The partitioner's memory rule is conservative (the sum of a device's
    // task outputs, ignoring reuse): when no placement satisfies it, place
    // without it and let plan-allocate-memory check the real peak.
    if (llvm::any_of(built->problem.devices, [](const part::Device &d) {
          return d.memoryLimitBytes.has_value();
        }) &&
        !solve(built->problem)) {
      withMemoryLimits = false;
      built = buildProblem(schedule, devices, hostDevice, target);
      withMemoryLimits = true;
      if (failed(built))
        return failure();
    }
    const part::Problem &problem = built->problem;

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

    // Co-execution: the same plan with heavy tasks split across two
    // devices, kept when its makespan is lower.
    std::optional<Built> splitBuilt;
    if (FailureOr<bool> better =
            trySplitting(module, schedule, *built, devices, hostDevice, target,
                         result->makespan, splitBuilt, result);
        failed(better))
      return failure();
    else if (*better) {
      ScheduleOp original = schedule;
      schedule = cast<ScheduleOp>(splitBuilt->tasks.front()->getParentOp());
      schedule.setSymName(original.getSymName());
      original.erase();
      built = std::move(*splitBuilt);
    }
    schedule->setAttr("single_device_us", b.getDictionaryAttr(singles));
    return rewrite(module, schedule, built->problem, *result, built->tasks,
                   arenaOfDevice, target);
  }

  /// Splits the tasks for which co-execution on their two cheapest devices
  /// looks worthwhile (see `candidateBounds`) in a copy of `schedule` and
  /// solves the copy's problem. Returns true, with `splitBuilt` and `result`
  /// replaced, when the copy's makespan is lower than `makespan` (and than
  /// every single-device plan); otherwise erases the copy and returns false.
  FailureOr<bool> trySplitting(ModuleOp module, ScheduleOp schedule,
                               const Built &built, ArrayRef<DeviceOp> devices,
                               int hostDevice,
                               const loom::target::TargetDesc &target,
                               double makespan, std::optional<Built> &splitBuilt,
                               part::ScheduleResult &result) {
    StringRef algo = algorithm;
    if (!split || devices.size() < 2 || algo.starts_with("single:") ||
        algo == "exact")
      return false;
    SmallVector<std::pair<size_t, SmallVector<int64_t>>> chosen;
    SmallVector<std::string> names;
    for (const part::Device &d : built.problem.devices)
      names.push_back(d.name);
    for (auto [i, task] : llvm::enumerate(built.tasks))
      if (std::optional<SmallVector<int64_t>> bounds =
              candidateBounds(task, built.problem.tasks[i + 1], names, target))
        chosen.push_back({i, *bounds});
    if (chosen.empty())
      return false;

    OpBuilder b(schedule);
    auto copy = cast<ScheduleOp>(b.clone(*schedule));
    SmallVector<TaskOp> copies = llvm::to_vector(copy.getBodyBlock().getOps<TaskOp>());
    for (auto &[i, bounds] : chosen) {
      std::optional<SplitGeometry> g = splitGeometry(copies[i]);
      splitTask(copies[i], *g, bounds, target);
    }
    FailureOr<Built> candidate = buildProblem(copy, devices, hostDevice, target);
    part::ScheduleResult r =
        succeeded(candidate) ? solve(candidate->problem) : part::ScheduleResult();
    bool keep = r && r->makespan < makespan * (1 - kMinSplitGain) &&
                part::verify(candidate->problem, *r).empty();
    if (!keep) {
      copy.erase();
      return false;
    }
    numSplit += chosen.size();
    splitBuilt = std::move(*candidate);
    result = std::move(r);
    return true;
  }

  /// Row bounds splitting `task` in two for its two cheapest devices, in
  /// proportion to their speeds, when (a) it can be split, (b) it costs at
  /// least `split-min-us` on its cheapest device, (c) it is compute-bound on
  /// both devices (they share one memory bus, so splitting a bandwidth-bound
  /// op gains nothing), and (d) the slower part's estimate is below
  /// (1 - kMinSplitGain) of the whole on the cheapest device. nullopt
  /// otherwise.
  std::optional<SmallVector<int64_t>>
  candidateBounds(TaskOp task, const part::Task &t,
                  ArrayRef<std::string> names,
                  const loom::target::TargetDesc &target) {
    std::optional<SplitGeometry> g = splitGeometry(task);
    if (!g || g->extent < 2)
      return std::nullopt;
    SmallVector<int> order;
    for (size_t d = 0; d < t.cost.size(); ++d)
      if (t.cost[d])
        order.push_back(int(d));
    if (order.size() < 2)
      return std::nullopt;
    llvm::stable_sort(order, [&](int a, int c) { return *t.cost[a] < *t.cost[c]; });
    int d1 = order[0], d2 = order[1];
    double c1 = *t.cost[d1], c2 = *t.cost[d2];
    if (c1 < splitMinUs)
      return std::nullopt;
    loom::cost::KernelDesc k;
    describeKernel(task, k);
    const auto *dev1 = target.findDevice(names[d1]);
    const auto *dev2 = target.findDevice(names[d2]);
    if (!dev1 || !dev2)
      return std::nullopt;
    std::optional<loom::cost::Roofline> r1 = loom::cost::estimateRoofline(
        k, *dev1, reducedPrecisionOn(task, names[d1]));
    std::optional<loom::cost::Roofline> r2 = loom::cost::estimateRoofline(
        k, *dev2, reducedPrecisionOn(task, names[d2]));
    if (!r1 || !r2 || !r1->computeBound() || !r2->computeBound())
      return std::nullopt;
    // Rows for the cheapest device so that both parts take about as long
    // (dispatch overheads aside).
    double share = c2 / (c1 + c2);
    int64_t rows = std::clamp<int64_t>(int64_t(std::llround(share * double(g->extent))),
                                       1, g->extent - 1);
    double f = double(rows) / double(g->extent);
    double part1 = r1->dispatchUs + f * (c1 - r1->dispatchUs);
    double part2 = r2->dispatchUs + (1 - f) * (c2 - r2->dispatchUs);
    if (std::max(part1, part2) >= c1 * (1 - kMinSplitGain))
      return std::nullopt;
    return SmallVector<int64_t>{0, rows, g->extent};
  }

  /// Whether buildProblem gives devices the memory limits of their arenas.
  bool withMemoryLimits = true;

  /// A split must lower the predicted makespan by at least this fraction.
  static constexpr double kMinSplitGain = 0.05;

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
    // The device whose arena holds each root buffer's data.
    DenseMap<Value, int> dataDevice;
    for (Operation &op : body)
      if (auto in = dyn_cast<InputOp>(op); in && !in.getFolded())
        dataDevice[in.getBuffer()] = *problem.tasks[0].pinnedDevice;
    auto arenaRef = [&](int d) {
      return FlatSymbolRefAttr::get(
          ctx, arenaOfDevice.at(deviceName(d)).getSymName());
    };
    auto transferCosts = [&](Value buffer, int from, int to) {
      double us = loom::cost::transferMicros(
                      double(byteSize(cast<ShapedType>(buffer.getType()))),
                      deviceName(from), deviceName(to), target)
                      .value_or(0.0);
      SmallVector<NamedAttribute> costs;
      for (const part::Device &d : problem.devices)
        costs.push_back(b.getNamedAttr(d.name, b.getF64FloatAttr(us)));
      return b.getDictionaryAttr(costs);
    };
    auto bufferName = [](Value v) {
      auto src = rootBuffer(v).getDefiningOp<AllocOp>();
      return src && src.getName() ? src.getName()->str() : std::string("buffer");
    };

    // Devices, queues and output arenas. A buffer lives in the arena of the
    // first task writing it; a part of a split task on another device
    // writes its rows into a buffer of its own, copied into place.
    SmallVector<std::pair<TaskOp, unsigned>> copyBack;
    for (auto [i, task] : llvm::enumerate(tasks)) {
      const part::ScheduledTask &s = solution.tasks[i + 1];
      task.setDeviceAttr(FlatSymbolRefAttr::get(ctx, deviceName(s.device)));
      task.setQueueAttr(b.getI64IntegerAttr(s.queue));
      // A control task's bodies run on its queue.
      task->walk([&](TaskOp inner) {
        inner.setDeviceAttr(task.getDeviceAttr());
        inner.setQueueAttr(task.getQueueAttr());
      });
      key[task] = {s.start, double(i + 1)};
      for (auto [k, out] : llvm::enumerate(task.getOutputs())) {
        Value root = rootBuffer(out);
        auto alloc = root.getDefiningOp<AllocOp>();
        if (!alloc)
          continue;
        auto [it, first] = dataDevice.try_emplace(root, s.device);
        if (first)
          alloc.setArenaAttr(arenaRef(s.device));
        else if (it->second != s.device)
          copyBack.push_back({task, unsigned(k)});
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
    DenseMap<Operation *, int> taskIndex;
    for (auto [i, task] : llvm::enumerate(tasks))
      taskIndex[task] = int(i);
    for (auto [task, k] : copyBack) {
      int i = taskIndex.lookup(task);
      int dev = solution.tasks[i + 1].device;
      Value view = task.getOutputs()[k];
      b.setInsertionPoint(task);
      std::string name = bufferName(view) + " part@" + deviceName(dev);
      Value own = AllocOp::create(b, task.getLoc(), view.getType(), arenaRef(dev),
                                  b.getStringAttr(name), nullptr);
      task.getOutputsMutable()[k].set(own);
      b.setInsertionPointAfter(task);
      auto transfer = TransferOp::create(
          b, task.getLoc(), b.getType<EventType>(), own, view,
          FlatSymbolRefAttr::get(ctx, deviceName(dev)),
          b.getI64IntegerAttr(solution.tasks[i + 1].queue),
          ValueRange{task.getDone()}, b.getStringAttr("copy " + name),
          transferCosts(view, dev, dataDevice.lookup(rootBuffer(view))), nullptr,
          nullptr);
      task.getDone().replaceAllUsesExcept(transfer.getDone(), transfer);
      key[transfer] = {solution.tasks[i + 1].end, double(i + 1) + 0.25};
      ++numTransfers;
    }

    // Does `writer` (a task or transfer) write bytes of `buffer`?
    auto writesInto = [](Operation *writer, Value buffer) {
      SmallVector<Value> outs;
      if (auto t = dyn_cast<TaskOp>(writer))
        outs.append(t.getOutputs().begin(), t.getOutputs().end());
      else if (auto t = dyn_cast<TransferOp>(writer))
        outs.push_back(t.getTarget());
      auto [lo, hi] = bytesInRoot(buffer);
      return llvm::any_of(outs, [&, lo = lo, hi = hi](Value o) {
        if (!isa<MemRefType>(o.getType()) || rootBuffer(o) != rootBuffer(buffer))
          return false;
        auto [olo, ohi] = bytesInRoot(o);
        return olo < hi && lo < ohi;
      });
    };

    // Transfers: one per (buffer, consumer device), just before the first
    // consumer on that device.
    std::map<std::pair<void *, int>, std::pair<Value, TransferOp>> copies;
    for (auto [i, task] : llvm::enumerate(tasks)) {
      int dev = solution.tasks[i + 1].device;
      SmallVector<Value> inputs(task.getInputs());
      bool changed = false;
      for (auto [k, in] : llvm::enumerate(inputs)) {
        if (!isa<MemRefType>(in.getType()))
          continue;
        auto it = dataDevice.find(rootBuffer(in));
        if (it == dataDevice.end() || it->second == dev)
          continue;
        auto copyKey = std::make_pair(in.getAsOpaquePointer(), dev);
        auto found = copies.find(copyKey);
        if (found == copies.end()) {
          b.setInsertionPoint(task);
          std::string name = bufferName(in) + "@" + deviceName(dev);
          Value dst = AllocOp::create(b, task.getLoc(), in.getType(),
                                      arenaRef(dev), b.getStringAttr(name),
                                      nullptr);
          SmallVector<Value> deps;
          for (Value e : task.getDeps())
            if (Operation *w = e.getDefiningOp(); w && writesInto(w, in))
              deps.push_back(e);
          auto transfer = TransferOp::create(
              b, task.getLoc(), b.getType<EventType>(), in, dst,
              FlatSymbolRefAttr::get(ctx, deviceName(dev)),
              b.getI64IntegerAttr(solution.tasks[i + 1].queue), deps,
              b.getStringAttr("copy " + name),
              transferCosts(in, it->second, dev), nullptr, nullptr);
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
      if (changed) {
        // A control task's bodies read the copies too.
        for (auto [old, now] : llvm::zip(task.getInputs(), inputs))
          if (old != now)
            old.replaceUsesWithIf(now, [&](OpOperand &use) {
              return task->isProperAncestor(use.getOwner());
            });
        task.getInputsMutable().assign(inputs);
      }
    }

    // Order: buffers and bindings first (as they were), then tasks and
    // transfers by predicted start.
    SmallVector<Operation *> running, rest;
    for (Operation &op : body)
      (isa<TaskOp, TransferOp>(op) ? running : rest).push_back(&op);
    // The body order is a valid order (dependencies first); a key below a
    // dependency's (transfers the algorithm did not predict, such as the
    // copy of a split part's rows into place) is raised to it, so the
    // stable sort keeps every op after its dependencies.
    for (Operation *op : running)
      for (Value dep : op->getOperands())
        if (isa<EventType>(dep.getType()))
          if (Operation *d = dep.getDefiningOp(); d && key.count(d))
            key[op] = std::max(key[op], key[d]);
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
