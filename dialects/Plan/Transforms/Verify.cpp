//===- Verify.cpp - A scheduled plan is executable as predicted -----------===//
//
// Time checks use the predicted start/end; memory checks use step order (the
// position of a task in the schedule), as plan-allocate-memory does. The
// memory check sweeps the steps with the live buffers of each arena kept in
// an offset-ordered map: live buffers never overlap, so a new buffer only
// needs comparing with its neighbours (O(n log n)).
//
//===----------------------------------------------------------------------===//
#include "Plan/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"

#include <map>

namespace loom::plan {
#define GEN_PASS_DEF_PLANVERIFY
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

/// Slack for comparing predicted times (µs): sums of doubles.
constexpr double kEpsilonUs = 1e-6;

struct Step {
  Operation *op;
  StringRef name, device;
  int64_t queue;
  ValueRange deps;
  SmallVector<Value> reads, writes;
};

Step describe(Operation *op) {
  Step s{op, "", "", 0, {}, {}, {}};
  if (auto t = dyn_cast<TaskOp>(op)) {
    s = {op, t.getName(), t.getDevice(), int64_t(t.getQueue()), t.getDeps(),
         {}, {}};
    s.reads.append(t.getInputs().begin(), t.getInputs().end());
    s.writes.append(t.getOutputs().begin(), t.getOutputs().end());
    // What a control task's bodies touch, the control task touches.
    forEachBodyAccess(t, [&](Value v, bool write) {
      (write ? s.writes : s.reads).push_back(v);
    });
  } else if (auto t = dyn_cast<TransferOp>(op)) {
    s = {op, t.getName(), t.getDevice(), int64_t(t.getQueue()), t.getDeps(),
         {t.getSource()}, {t.getTarget()}};
  }
  return s;
}

double timeAttr(Operation *op, StringRef name) {
  auto a = op->getAttrOfType<FloatAttr>(name);
  return a ? a.getValueAsDouble() : -1;
}

struct PlanVerifyPass : public loom::plan::impl::PlanVerifyBase<PlanVerifyPass> {
  void runOnOperation() override {
    for (auto schedule : getOperation().getOps<ScheduleOp>())
      if (failed(verifySchedule(schedule)))
        return signalPassFailure();
  }

  LogicalResult verifySchedule(ScheduleOp schedule) {
    Block &body = schedule.getBodyBlock();
    SmallVector<Step> steps;
    for (Operation &op : body)
      if (isa<TaskOp, TransferOp>(op))
        steps.push_back(describe(&op));

    // Devices, times, queue order.
    DenseMap<Value, Operation *> byEvent;
    std::map<std::string, Operation *> lastOnResource;
    // The writes into each root buffer (views are parts of their source):
    // writer and byte range; a write covering an earlier one replaces it.
    struct Write {
      Operation *op;
      int64_t lo, hi;
    };
    DenseMap<Value, SmallVector<Write, 1>> writes;
    DenseMap<Operation *, int64_t> stepOf;
    for (auto [index, s] : llvm::enumerate(steps)) {
      stepOf[s.op] = int64_t(index);
      auto costs = s.op->getAttrOfType<DictionaryAttr>("cost_us");
      if (!costs || !costs.getAs<FloatAttr>(s.device))
        return s.op->emitError("'")
               << s.name << "' runs on @" << s.device
               << ", which cannot run it (no cost_us entry there)";
      double start = timeAttr(s.op, "start_us"), end = timeAttr(s.op, "end_us");
      if (start < 0 || end < 0)
        return s.op->emitError("'") << s.name << "' has no predicted times";
      for (Value dep : s.deps) {
        Operation *d = dep.getDefiningOp();
        double depEnd = timeAttr(d, "end_us");
        if (start + kEpsilonUs < depEnd)
          return s.op->emitError("'")
                 << s.name << "' starts at " << start
                 << " us, before its dependency '" << describe(d).name
                 << "' ends at " << depEnd << " us";
      }
      // Tasks occupy their queue, transfers their link (as plan-schedule
      // predicts them).
      auto transfer = dyn_cast<TransferOp>(s.op);
      std::string resource =
          transfer ? "link " + transfer.getLink()
                   : "@" + s.device.str() + "[" + std::to_string(s.queue) + "]";
      Operation *&prev = lastOnResource[resource];
      if (prev && start + kEpsilonUs < timeAttr(prev, "end_us"))
        return s.op->emitError("'")
               << s.name << "' starts at " << start << " us while '"
               << describe(prev).name << "' still runs on " << resource
               << " until " << timeAttr(prev, "end_us") << " us";
      // Every buffer read is written by a dependency or earlier on this
      // queue (the runtime orders nothing else).
      llvm::SmallDenseSet<Operation *> depOps;
      for (Value dep : s.deps)
        depOps.insert(dep.getDefiningOp());
      for (Value in : s.reads) {
        if (!isa<MemRefType>(in.getType()))
          continue;
        auto it = writes.find(rootBuffer(in));
        if (it == writes.end())
          continue;
        auto [lo, hi] = bytesInRoot(in);
        for (const Write &w : it->second) {
          if (!(w.lo < hi && lo < w.hi) || depOps.contains(w.op))
            continue;
          Step ws = describe(w.op);
          if (ws.device == s.device && ws.queue == s.queue)
            continue;
          return s.op->emitError("'")
                 << s.name << "' reads a buffer written by '" << ws.name
                 << "' on another queue without waiting for it";
        }
      }
      for (Value out : s.writes)
        if (isa<MemRefType>(out.getType())) {
          auto [lo, hi] = bytesInRoot(out);
          auto &list = writes[rootBuffer(out)];
          llvm::erase_if(list, [&](const Write &w) {
            return lo <= w.lo && w.hi <= hi;
          });
          list.push_back({s.op, lo, hi});
        }
      prev = s.op;
    }
    return verifyMemory(body, steps, stepOf);
  }

  LogicalResult verifyMemory(Block &body, ArrayRef<Step> steps,
                             const DenseMap<Operation *, int64_t> &stepOf) {
    int64_t end = int64_t(steps.size());
    struct Life {
      AllocOp alloc;
      int64_t first = -1, last = -1;
    };
    llvm::MapVector<Value, Life> lives;
    for (Operation &op : body)
      if (auto a = dyn_cast<AllocOp>(op)) {
        if (!a.getOffset())
          return a.emitError("buffer has no offset (run plan-allocate-memory)");
        lives[a.getBuffer()].alloc = a;
      }
    for (const Step &s : steps) {
      int64_t step = stepOf.lookup(s.op);
      for (Value v : s.writes)
        if (auto it = lives.find(rootBuffer(v));
            it != lives.end() && it->second.first < 0)
          it->second.first = step;
      for (Value v : s.reads)
        if (auto it = lives.find(rootBuffer(v)); it != lives.end())
          it->second.last = std::max(it->second.last, step);
    }
    for (Operation &op : body) {
      Value v;
      if (auto in = dyn_cast<InputOp>(op))
        v = in.getBuffer();
      else if (auto out = dyn_cast<OutputOp>(op))
        v = out.getBuffer();
      if (auto it = lives.find(v); v && it != lives.end())
        it->second.first = 0, it->second.last = end;
    }
    // Per arena: (first step, index) order; sweep.
    std::map<std::string, SmallVector<Life *>> byArena;
    for (auto &[v, life] : lives) {
      if (life.first < 0)
        life.first = 0;
      if (life.last < life.first)
        life.last = life.first;
      if (life.alloc.getSizeInBytes() > 0)
        byArena[life.alloc.getArena().str()].push_back(&life);
    }
    for (auto &[arena, list] : byArena) {
      llvm::stable_sort(list, [](Life *a, Life *b) { return a->first < b->first; });
      SmallVector<Life *> byLast(list.begin(), list.end());
      llvm::stable_sort(byLast, [](Life *a, Life *b) { return a->last < b->last; });
      std::map<uint64_t, Life *> live; // offset -> buffer
      size_t released = 0;
      for (Life *l : list) {
        while (released < byLast.size() && byLast[released]->last < l->first) {
          Life *r = byLast[released++];
          auto it = live.find(*r->alloc.getOffset());
          if (it != live.end() && it->second == r)
            live.erase(it);
        }
        uint64_t off = *l->alloc.getOffset();
        uint64_t size = uint64_t(l->alloc.getSizeInBytes());
        auto next = live.lower_bound(off);
        auto clash = [&](Life *other) {
          return l->alloc.emitError("buffer [")
                 << off << ", " << off + size << ") of arena @" << arena
                 << " overlaps buffer [" << *other->alloc.getOffset() << ", "
                 << *other->alloc.getOffset() + other->alloc.getSizeInBytes()
                 << ") while both are live";
        };
        if (next != live.end() && next->first < off + size)
          return clash(next->second);
        if (next != live.begin()) {
          auto prev = std::prev(next);
          if (prev->first + uint64_t(prev->second->alloc.getSizeInBytes()) > off)
            return clash(prev->second);
        }
        live[off] = l;
      }
    }
    return success();
  }
};

} // namespace
