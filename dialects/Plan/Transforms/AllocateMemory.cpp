//===- AllocateMemory.cpp - Arena offsets by liveness, weights offsets ----===//
#include "Plan/Transforms/Passes.h"

#include "loom/Schedule/MemoryPlanner.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <set>
#include <tuple>

namespace loom::plan {
#define GEN_PASS_DEF_PLANALLOCATEMEMORY
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

/// The queue a task or transfer runs on.
std::pair<StringRef, int64_t> queueOf(Operation *op) {
  if (auto t = dyn_cast<TaskOp>(op))
    return {t.getDevice(), int64_t(t.getQueue())};
  auto t = cast<TransferOp>(op);
  return {t.getDevice(), int64_t(t.getQueue())};
}

struct PlanAllocateMemoryPass
    : public loom::plan::impl::PlanAllocateMemoryBase<PlanAllocateMemoryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto schedule : module.getOps<ScheduleOp>())
      if (failed(allocate(module, schedule)))
        return signalPassFailure();
  }

  LogicalResult allocate(ModuleOp module, ScheduleOp schedule) {
    Builder b(module.getContext());
    Block &body = schedule.getBodyBlock();

    // Steps: the tasks and transfers in schedule order.
    SmallVector<Operation *> steps;
    std::set<std::pair<std::string, int64_t>> queues;
    for (Operation &op : body)
      if (isa<TaskOp, TransferOp>(op)) {
        steps.push_back(&op);
        auto [dev, q] = queueOf(&op);
        queues.insert({dev.str(), q});
      }
    // Ticks order the moments a step starts (writes) and ends (last reads).
    // Without predicted times, step i starts and ends at tick i: a buffer
    // last read at step i and one written at step j > i may share memory.
    // With times (after plan-schedule), the ticks follow the predicted
    // clock, so queues running side by side never share live memory, and
    // the dependencies that reuse adds agree with the predicted schedule.
    SmallVector<int64_t> startTick(steps.size()), endTick(steps.size());
    bool timed = llvm::all_of(steps, [](Operation *op) {
      return op->hasAttr("start_us") && op->hasAttr("end_us");
    });
    if (timed) {
      // (time, kind, step): ends before starts at one instant, except a
      // zero-length step's end, which follows every start at that instant.
      std::vector<std::tuple<double, int, size_t, bool>> events;
      for (auto [i, op] : llvm::enumerate(steps)) {
        double s0 = op->getAttrOfType<FloatAttr>("start_us").getValueAsDouble();
        double e0 = op->getAttrOfType<FloatAttr>("end_us").getValueAsDouble();
        events.push_back({s0, 1, i, true});
        events.push_back({e0, e0 > s0 ? 0 : 2, i, false});
      }
      llvm::sort(events);
      for (auto [tick, e] : llvm::enumerate(events))
        (std::get<3>(e) ? startTick : endTick)[std::get<2>(e)] = int64_t(tick);
    } else {
      for (size_t i = 0; i < steps.size(); ++i)
        startTick[i] = endTick[i] = int64_t(i);
    }
    int64_t end = timed ? int64_t(2 * steps.size()) : int64_t(steps.size());

    // Lifetimes of the arena buffers, and the steps touching each. Graph
    // inputs and outputs live for the whole run.
    struct Info {
      int64_t first = -1, last = -1;
      SmallVector<Operation *> touching;
      /// The steps writing it: one, or the parts of a split op writing
      /// views of it (possibly on different queues, unordered).
      SmallVector<Operation *> writers;
    };
    llvm::MapVector<Value, Info> infos;
    for (Operation &op : body)
      if (auto alloc = dyn_cast<AllocOp>(op))
        infos[alloc.getBuffer()];
    // A view's reads and writes are its source buffer's.
    auto touch = [&](Value v, int64_t step, bool write) {
      auto it = infos.find(rootBuffer(v));
      if (it == infos.end())
        return;
      Info &info = it->second;
      int64_t tick = write ? startTick[step] : endTick[step];
      if (write && (info.first < 0 || tick < info.first))
        info.first = tick;
      if (!write)
        info.last = std::max(info.last, tick);
      if (info.touching.empty() || info.touching.back() != steps[step])
        info.touching.push_back(steps[step]);
      if (write && !llvm::is_contained(info.writers, steps[step]))
        info.writers.push_back(steps[step]);
    };
    for (auto [step, op] : llvm::enumerate(steps)) {
      if (auto task = dyn_cast<TaskOp>(op)) {
        for (Value v : task.getInputs())
          touch(v, int64_t(step), false);
        for (Value v : task.getOutputs())
          touch(v, int64_t(step), true);
        // A control task's bodies touch their buffers during its step: a
        // body-local buffer lives for the whole control task.
        forEachBodyAccess(task, [&](Value v, bool write) {
          touch(v, int64_t(step), write);
        });
      } else {
        auto transfer = cast<TransferOp>(op);
        touch(transfer.getSource(), int64_t(step), false);
        touch(transfer.getTarget(), int64_t(step), true);
      }
    }
    for (Operation &op : body) {
      if (auto in = dyn_cast<InputOp>(op)) {
        if (infos.count(in.getBuffer())) {
          infos[in.getBuffer()].first = 0;
          infos[in.getBuffer()].last = end;
        }
      } else if (auto out = dyn_cast<OutputOp>(op)) {
        // Outputs own their memory for the whole run, like inputs: a caller
        // may bind them to its own storage.
        if (infos.count(out.getBuffer())) {
          infos[out.getBuffer()].first = 0;
          infos[out.getBuffer()].last = end;
        }
      }
    }

    // Plan each arena.
    llvm::MapVector<StringRef, SmallVector<Value>> byArena;
    for (auto &[v, info] : infos) {
      if (info.first < 0)
        info.first = 0; // never written: alive from the start
      if (info.last < info.first)
        info.last = info.first; // never read: alive while written
      byArena[v.getDefiningOp<AllocOp>().getArena()].push_back(v);
    }
    for (auto arena : module.getOps<ArenaOp>()) {
      auto it = byArena.find(arena.getSymName());
      ArrayRef<Value> bufs;
      if (it != byArena.end())
        bufs = it->second;
      std::vector<loom::sched::BufferLifetime> lifetimes;
      for (Value v : bufs) {
        const Info &info = infos[v];
        lifetimes.push_back({uint64_t(v.getDefiningOp<AllocOp>().getSizeInBytes()),
                             info.first, info.last});
        totalBytes += lifetimes.back().size;
      }
      loom::sched::MemoryPlan plan =
          loom::sched::planMemory(lifetimes, arena.getAlignment());
      for (auto [i, v] : llvm::enumerate(bufs))
        v.getDefiningOp<AllocOp>().setOffsetAttr(
            b.getI64IntegerAttr(int64_t(plan.offsets[i])));
      if (std::optional<uint64_t> capacity = arena.getCapacityBytes();
          capacity && plan.peakBytes > *capacity)
        return arena.emitError("the tensors alive at once on @")
               << arena.getDevice() << " need " << plan.peakBytes
               << " bytes, more than its " << *capacity
               << " bytes of memory (capacity_bytes of arena @"
               << arena.getSymName() << ")";
      arena.setPeakBytesAttr(b.getI64IntegerAttr(int64_t(plan.peakBytes)));
      numBuffers += bufs.size();
      peakBytes += plan.peakBytes;

      // With more than one queue, memory reuse needs explicit ordering: the
      // first writer of a buffer waits for every task that touched an
      // earlier buffer sharing its memory on another queue.
      if (queues.size() > 1)
        addReuseDependencies(bufs, lifetimes, plan, infos);
    }
    // A dependency just added may point to an op listed later (the memory
    // order follows the predicted clock, the list the partitioner's): list
    // the steps again in a topological order by predicted start.
    if (timed && queues.size() > 1)
      reorderSteps(body, steps);

    // Weights: consecutive, aligned offsets in weights.bin.
    int64_t offset = 0;
    for (Operation &op : body)
      if (auto w = dyn_cast<WeightOp>(op)) {
        offset = (offset + kWeightsAlignment - 1) / kWeightsAlignment *
                 kWeightsAlignment;
        w.setOffsetAttr(b.getI64IntegerAttr(offset));
        offset += w.getSizeInBytes();
      }
    return success();
  }

  /// Moves the steps (tasks and transfers, at the end of the body) into a
  /// topological order of their event dependencies, earliest predicted start
  /// first (ties: the current order). Each queue keeps its order: its steps
  /// never overlap in time, and every dependency ends before its user starts.
  static void reorderSteps(Block &body, ArrayRef<Operation *> steps) {
    DenseMap<Operation *, size_t> index;
    for (auto [i, op] : llvm::enumerate(steps))
      index[op] = i;
    std::vector<size_t> pending(steps.size(), 0);
    std::vector<SmallVector<size_t>> users(steps.size());
    for (auto [i, op] : llvm::enumerate(steps))
      for (Value v : op->getOperands())
        if (isa<EventType>(v.getType()))
          if (auto it = index.find(v.getDefiningOp()); it != index.end()) {
            ++pending[i];
            users[it->second].push_back(i);
          }
    auto start = [&](size_t i) {
      return steps[i]->getAttrOfType<FloatAttr>("start_us").getValueAsDouble();
    };
    std::set<std::pair<double, size_t>> ready;
    for (size_t i = 0; i < steps.size(); ++i)
      if (pending[i] == 0)
        ready.insert({start(i), i});
    while (!ready.empty()) {
      size_t i = ready.begin()->second;
      ready.erase(ready.begin());
      steps[i]->moveBefore(&body, body.end());
      for (size_t u : users[i])
        if (--pending[u] == 0)
          ready.insert({start(u), u});
    }
  }

  template <typename InfoMap>
  void addReuseDependencies(ArrayRef<Value> bufs,
                            const std::vector<loom::sched::BufferLifetime> &life,
                            const loom::sched::MemoryPlan &plan,
                            InfoMap &infos) {
    for (size_t i = 0; i < bufs.size(); ++i)
      for (size_t j = 0; j < bufs.size(); ++j) {
        const auto &a = life[i], &c = life[j];
        if (i == j || !a.size || !c.size || a.last >= c.first)
          continue;
        uint64_t oa = plan.offsets[i], oc = plan.offsets[j];
        if (!(oa < oc + c.size && oc < oa + a.size))
          continue;
        // bufs[j] reuses memory of bufs[i]: every writer of bufs[j] waits
        // (its readers wait for its writers). A buffer written by the parts
        // of a split op has several writers that need not be ordered with
        // each other, so waiting in the first one alone would not do.
        auto &later = infos[bufs[j]];
        for (Operation *writer : later.writers) {
          auto writerQueue = queueOf(writer);
          for (Operation *earlier : infos[bufs[i]].touching) {
            if (queueOf(earlier) == writerQueue || earlier == writer)
              continue;
            Value event = earlier->getResult(0);
            if (auto task = dyn_cast<TaskOp>(writer)) {
              if (!llvm::is_contained(task.getDeps(), event))
                task.getDepsMutable().append(event);
            } else if (auto transfer = dyn_cast<TransferOp>(writer)) {
              if (!llvm::is_contained(transfer.getDeps(), event))
                transfer.getDepsMutable().append(event);
            }
          }
        }
      }
  }
};

} // namespace
