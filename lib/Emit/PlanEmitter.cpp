//===- PlanEmitter.cpp - plan.json + weights.bin --------------------------===//
//
// Serializes a plan module in the documented key order (docs/plan-format.md)
// with llvm::json::OStream; the output depends only on the IR, so identical
// inputs give byte-identical files.
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/PlanEmitter.h"

#include "Loom/LoomUtils.h"
#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <functional>
#include <map>

using namespace mlir;
using namespace loom::plan;
using loom::emit::dtypeName;

/// The plan-format name of an element type (PlanEmitter.h).
std::string loom::emit::dtypeName(Type t) {
  if (t.isF32()) return "f32";
  if (t.isF64()) return "f64";
  if (t.isF16()) return "f16";
  if (t.isBF16()) return "bf16";
  if (t.isInteger(1)) return "bool";
  if (auto i = dyn_cast<IntegerType>(t)) {
    unsigned w = i.getWidth();
    if (w != 8 && w != 16 && w != 32 && w != 64)
      return "";
    return (i.isUnsigned() ? "u" : "i") + std::to_string(w);
  }
  return "";
}

namespace {


std::string hex(StringRef bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s.push_back(digits[c >> 4]);
    s.push_back(digits[c & 15]);
  }
  return s;
}

/// A float as the plan format writes it: a JSON number, or "nan", "inf",
/// "-inf" (JSON has no non-finite numbers).
void floatValue(llvm::json::OStream &j, double v) {
  if (std::isnan(v))
    j.value("nan");
  else if (std::isinf(v))
    j.value(v > 0 ? "inf" : "-inf");
  else
    j.value(v);
}

void shapeArray(llvm::json::OStream &j, ArrayRef<int64_t> shape) {
  j.array([&] {
    for (int64_t d : shape)
      j.value(d);
  });
}

/// Writes one kernel attribute as a typed value; fails for kinds the format
/// cannot express.
LogicalResult attrValue(llvm::json::OStream &j, Attribute a) {
  auto ints = [&](auto range) {
    j.attributeArray("ints", [&] {
      for (auto v : range)
        j.value(int64_t(v));
    });
  };
  auto floats = [&](auto range) {
    j.attributeArray("floats", [&] {
      for (auto v : range)
        floatValue(j, double(v));
    });
  };
  if (auto i = dyn_cast<IntegerAttr>(a)) {
    j.attribute("int", i.getType().isUnsignedInteger() ? int64_t(i.getUInt())
                                                        : i.getInt());
  } else if (auto b = dyn_cast<BoolAttr>(a)) {
    j.attribute("int", int64_t(b.getValue()));
  } else if (auto f = dyn_cast<FloatAttr>(a)) {
    j.attributeBegin("float");
    floatValue(j, f.getValueAsDouble());
    j.attributeEnd();
  } else if (auto s = dyn_cast<StringAttr>(a)) {
    j.attribute("string", s.getValue());
  } else if (auto arr = dyn_cast<DenseI64ArrayAttr>(a)) {
    ints(arr.asArrayRef());
  } else if (auto arr = dyn_cast<DenseI32ArrayAttr>(a)) {
    ints(arr.asArrayRef());
  } else if (auto arr = dyn_cast<DenseF32ArrayAttr>(a)) {
    floats(arr.asArrayRef());
  } else if (auto arr = dyn_cast<DenseF64ArrayAttr>(a)) {
    floats(arr.asArrayRef());
  } else if (auto arr = dyn_cast<ArrayAttr>(a)) {
    if (llvm::all_of(arr, [](Attribute e) { return isa<StringAttr>(e); }) &&
        !arr.empty()) {
      j.attributeArray("strings", [&] {
        for (Attribute e : arr)
          j.value(cast<StringAttr>(e).getValue());
      });
    } else if (llvm::all_of(arr, [](Attribute e) { return isa<IntegerAttr>(e); })) {
      j.attributeArray("ints", [&] {
        for (Attribute e : arr)
          j.value(cast<IntegerAttr>(e).getInt());
      });
    } else if (llvm::all_of(arr, [](Attribute e) { return isa<FloatAttr>(e); })) {
      j.attributeArray("floats", [&] {
        for (Attribute e : arr)
          floatValue(j, cast<FloatAttr>(e).getValueAsDouble());
      });
    } else {
      return failure();
    }
  } else if (auto t = dyn_cast<TypeAttr>(a)) {
    std::string name = dtypeName(t.getValue());
    if (name.empty())
      return failure();
    j.attribute("dtype", name);
  } else if (auto e = dyn_cast<ElementsAttr>(a)) {
    auto type = cast<ShapedType>(e.getType());
    std::string name = dtypeName(type.getElementType()), bytes;
    if (name.empty() || !loom::constantBytes(e, bytes))
      return failure();
    j.attributeObject("tensor", [&] {
      j.attribute("dtype", name);
      j.attributeBegin("shape");
      shapeArray(j, type.getShape());
      j.attributeEnd();
      j.attribute("hex", hex(bytes));
    });
  } else if (isa<UnitAttr>(a)) {
    j.attribute("int", int64_t(1));
  } else {
    return failure();
  }
  return success();
}

struct Emitter {
  ModuleOp module;
  const loom::emit::PlanEmitOptions &options;

  LogicalResult run(llvm::raw_ostream &os, llvm::raw_ostream &weights) {
    FailureOr<ScheduleOp> found = getPlanSchedule(module);
    if (failed(found))
      return failure();
    ScheduleOp schedule = *found;
    Block &body = schedule.getBodyBlock();

    // Ids: buffers and tasks by position; events are task results.
    DenseMap<Value, int64_t> bufferId, taskId;
    SmallVector<Operation *> buffers, tasks;
    for (Operation &op : body) {
      if (isa<AllocOp, WeightOp, ViewOp, StateOp>(op)) {
        bufferId[op.getResult(0)] = int64_t(buffers.size());
        buffers.push_back(&op);
      } else if (isa<TaskOp, TransferOp>(op)) {
        taskId[op.getResult(0)] = int64_t(tasks.size());
        tasks.push_back(&op);
      }
    }

    // weights.bin, and its size.
    int64_t weightsSize = 0;
    for (Operation *op : buffers) {
      auto w = dyn_cast<WeightOp>(op);
      if (!w)
        continue;
      std::optional<uint64_t> offset = w.getOffset();
      if (!offset)
        return w.emitError("weight has no offset (run plan-allocate-memory)");
      if (int64_t(*offset) < weightsSize)
        return w.emitError("weights are not in increasing offset order");
      std::string bytes;
      if (!loom::constantBytes(w.getValue(), bytes))
        return w.emitError("the weight's data is not available");
      weights.write_zeros(*offset - uint64_t(weightsSize));
      weights << bytes;
      weightsSize = int64_t(*offset) + int64_t(bytes.size());
    }
    int64_t padded = (weightsSize + kWeightsAlignment - 1) / kWeightsAlignment *
                     kWeightsAlignment;
    weights.write_zeros(uint64_t(padded - weightsSize));
    weightsSize = padded;

    // Check everything the JSON needs before writing any of it.
    for (Operation *op : buffers) {
      auto type = cast<MemRefType>(op->getResult(0).getType());
      if (dtypeName(type.getElementType()).empty())
        return op->emitError("element type ")
               << type.getElementType() << " has no plan-format dtype";
      if (auto a = dyn_cast<AllocOp>(op); a && !a.getOffset())
        return a.emitError("buffer has no offset (run plan-allocate-memory)");
    }
    for (auto arena : module.getOps<ArenaOp>())
      if (!arena.getPeakBytes())
        return arena.emitError("arena has no peak_bytes (run "
                               "plan-allocate-memory)");
    for (Operation *op : tasks)
      if (!op->getAttr("start_us") || !op->getAttr("end_us") ||
          !op->getAttr("cost_us"))
        return op->emitError("task has no cost or schedule (run "
                             "plan-estimate-costs and plan-schedule)");
    for (Operation *op : tasks)
      if (auto task = dyn_cast<TaskOp>(op))
        for (NamedAttribute a : task.getKernelAttrs()) {
          std::string scratch;
          llvm::raw_string_ostream ss(scratch);
          llvm::json::OStream probe(ss);
          probe.objectBegin();
          probe.attributeBegin("x");
          probe.objectBegin();
          bool ok = succeeded(attrValue(probe, a.getValue()));
          probe.objectEnd();
          probe.attributeEnd();
          probe.objectEnd();
          if (!ok)
            return task.emitError("attribute '")
                   << a.getName().getValue()
                   << "' cannot be written to plan.json: " << a.getValue();
        }

    // Predicted busy time per device: the sum of its tasks' durations
    // (transfers occupy links, not devices).
    std::map<std::string, double> busy;
    for (Operation *op : tasks)
      if (auto task = dyn_cast<TaskOp>(op))
        busy[task.getDevice().str()] +=
            cast<FloatAttr>(op->getAttr("end_us")).getValueAsDouble() -
            cast<FloatAttr>(op->getAttr("start_us")).getValueAsDouble();
    double makespan = schedule.getMakespanUs()
                          ? schedule.getMakespanUs()->convertToDouble()
                          : 0.0;

    llvm::json::OStream j(os, 2);
    j.objectBegin();
    j.attribute("format", "loom-plan");
    j.attribute("version", int64_t(loom::emit::kPlanFormatVersion));
    j.attribute("producer", options.producer);
    j.attributeObject("model", [&] {
      auto source = module->getAttrOfType<StringAttr>("loom.source");
      auto graph = module->getAttrOfType<StringAttr>("loom.graph_name");
      auto opset = module->getAttrOfType<IntegerAttr>("loom.opset");
      j.attribute("source",
                  source ? llvm::sys::path::filename(source.getValue()) : "");
      j.attribute("graph", graph ? graph.getValue() : "");
      j.attribute("opset", opset ? opset.getInt() : int64_t(0));
    });
    auto target = module->getAttrOfType<StringAttr>("plan.target");
    j.attribute("target", target ? target.getValue() : "");
    j.attributeObject("weights", [&] {
      j.attribute("file", options.weightsFile);
      j.attribute("size_bytes", weightsSize);
      j.attribute("alignment", int64_t(kWeightsAlignment));
    });
    j.attributeArray("devices", [&] {
      for (auto dev : module.getOps<DeviceOp>()) {
        StringRef arena;
        for (auto a : module.getOps<ArenaOp>())
          if (a.getDevice() == dev.getSymName()) {
            arena = a.getSymName();
            break;
          }
        j.object([&] {
          j.attribute("name", dev.getSymName());
          j.attribute("kind", dev.getKind());
          j.attribute("queues", int64_t(dev.getQueues()));
          j.attribute("arena", arena);
          double b = busy[dev.getSymName().str()];
          j.attribute("busy_us", b);
          j.attribute("utilization", makespan > 0 ? b / makespan : 0.0);
        });
      }
    });
    j.attributeArray("arenas", [&] {
      for (auto a : module.getOps<ArenaOp>())
        j.object([&] {
          j.attribute("name", a.getSymName());
          j.attribute("device", a.getDevice());
          j.attribute("peak_bytes", int64_t(*a.getPeakBytes()));
          j.attribute("alignment", int64_t(a.getAlignment()));
        });
    });
    j.attributeArray("buffers", [&] {
      for (auto [id, op] : llvm::enumerate(buffers)) {
        auto type = cast<MemRefType>(op->getResult(0).getType());
        j.object([&] {
          j.attribute("id", int64_t(id));
          if (auto a = dyn_cast<AllocOp>(op)) {
            j.attribute("name", a.getName().value_or(""));
            j.attribute("arena", a.getArena());
            j.attribute("offset", int64_t(*a.getOffset()));
            j.attribute("size_bytes", a.getSizeInBytes());
          } else if (auto v = dyn_cast<ViewOp>(op)) {
            Operation *src = v.getSource().getDefiningOp();
            auto srcAlloc = dyn_cast<AllocOp>(src);
            auto srcWeight = dyn_cast<WeightOp>(src);
            std::optional<StringRef> srcName =
                srcAlloc ? srcAlloc.getName() : srcWeight.getName();
            j.attribute("name", (srcName.value_or("") + "[" +
                                 Twine(v.getByteOffset()) + "]")
                                    .str());
            j.attribute("arena", srcAlloc ? srcAlloc.getArena() : "weights");
            j.attribute("offset",
                        int64_t((srcAlloc ? *srcAlloc.getOffset()
                                          : *srcWeight.getOffset()) +
                                v.getByteOffset()));
            j.attribute("size_bytes", byteSize(type));
          } else if (auto st = dyn_cast<StateOp>(op)) {
            j.attribute("name", st.getName());
            j.attribute("arena", "state");
            j.attribute("offset", int64_t(0));
            j.attribute("size_bytes", st.getSizeInBytes());
          } else {
            auto w = cast<WeightOp>(op);
            j.attribute("name", w.getName().value_or(""));
            j.attribute("arena", "weights");
            j.attribute("offset", int64_t(*w.getOffset()));
            j.attribute("size_bytes", w.getSizeInBytes());
          }
          j.attribute("dtype", dtypeName(type.getElementType()));
          j.attributeBegin("shape");
          shapeArray(j, type.getShape());
          j.attributeEnd();
          if (auto v = dyn_cast<ViewOp>(op))
            j.attribute("view_of", bufferId.lookup(v.getSource()));
        });
      }
    });
    auto io = [&](Value buf, StringRef name, bool folded) {
      auto type = cast<MemRefType>(buf.getType());
      j.object([&] {
        j.attribute("name", name);
        j.attribute("buffer", bufferId.lookup(buf));
        j.attribute("dtype", dtypeName(type.getElementType()));
        j.attributeBegin("shape");
        shapeArray(j, type.getShape());
        j.attributeEnd();
        if (folded)
          j.attribute("folded", true);
      });
    };
    j.attributeArray("inputs", [&] {
      for (auto in : body.getOps<InputOp>())
        io(in.getBuffer(), in.getName(), in.getFolded());
    });
    j.attributeArray("outputs", [&] {
      for (auto out : body.getOps<OutputOp>())
        io(out.getBuffer(), out.getName(), false);
    });
    if (!body.getOps<StateOp>().empty())
      j.attributeArray("state", [&] {
        for (auto st : body.getOps<StateOp>())
          j.object([&] {
            j.attribute("name", st.getName());
            j.attribute("buffer", bufferId.lookup(st.getBuffer()));
          });
      });

    // Cross-queue dependencies, grouped by signalling task.
    std::map<int64_t, SmallVector<int64_t>> events;
    auto queueOf = [](Operation *op) -> std::pair<StringRef, uint64_t> {
      if (auto t = dyn_cast<TaskOp>(op))
        return {t.getDevice(), t.getQueue()};
      auto t = cast<TransferOp>(op);
      return {t.getDevice(), t.getQueue()};
    };
    // One task object; a control task's bodies hold task objects of their
    // own (ids local to the body, no deps).
    std::function<void(Operation *, int64_t)> writeTask = [&](Operation *op,
                                                              int64_t id) {
      auto bufferList = [&](StringRef key, ValueRange values) {
        j.attributeArray(key, [&] {
          for (Value v : values) {
            if (isa<NoneType>(v.getType()))
              j.value(nullptr);
            else
              j.value(bufferId.lookup(v));
          }
        });
      };
      auto task = dyn_cast<TaskOp>(op);
      auto transfer = dyn_cast<TransferOp>(op);
      ValueRange deps = task ? task.getDeps() : transfer.getDeps();
      j.object([&] {
        j.attribute("id", id);
        j.attribute("name", task ? task.getName() : transfer.getName());
        j.attribute("kind", !task               ? StringRef("transfer")
                            : task.isControl() ? task.getKernel()
                                               : StringRef("kernel"));
        j.attribute("device", task ? task.getDevice() : transfer.getDevice());
        j.attribute("queue", int64_t(task ? task.getQueue() : transfer.getQueue()));
        j.attribute("kernel", task ? task.getKernel() : StringRef("copy"));
        j.attributeObject("attrs", [&] {
          if (!task)
            return;
          for (NamedAttribute a : task.getKernelAttrs())
            j.attributeObject(a.getName().getValue(),
                              [&] { (void)attrValue(j, a.getValue()); });
        });
        if (task) {
          bufferList("inputs", task.getInputs());
          bufferList("outputs", task.getOutputs());
        } else {
          bufferList("inputs", transfer.getSource());
          bufferList("outputs", transfer.getTarget());
        }
        j.attributeArray("deps", [&] {
          for (Value d : deps) {
            int64_t dep = taskId.lookup(d);
            j.value(dep);
            if (queueOf(tasks[dep]) != queueOf(op))
              events[dep].push_back(id);
          }
        });
        j.attribute("start_us",
                    cast<FloatAttr>(op->getAttr("start_us")).getValueAsDouble());
        j.attribute("end_us",
                    cast<FloatAttr>(op->getAttr("end_us")).getValueAsDouble());
        j.attributeArray("ops", [&] {
          if (task)
            for (Attribute n : task.getOps())
              j.value(cast<StringAttr>(n).getValue());
        });
        j.attributeObject("cost_us", [&] {
          auto costs = cast<DictionaryAttr>(op->getAttr("cost_us"));
          for (auto dev : module.getOps<DeviceOp>()) {
            auto c = costs.getAs<FloatAttr>(dev.getSymName());
            if (c)
              j.attribute(dev.getSymName(), c.getValueAsDouble());
            else
              j.attribute(dev.getSymName(), nullptr);
          }
        });
        // A task that runs in its device's 16-bit float (device precision
        // auto).
        if (task)
          if (auto reduced = task->getAttrOfType<DictionaryAttr>("reduced_precision"))
            if (auto type = reduced.getAs<StringAttr>(task.getDevice()))
              j.attribute("precision", type.getValue());
        if (!task || !task.isControl())
          return;
        j.attributeArray("bodies", [&] {
          for (Region &body : task.getBodies()) {
            YieldOp yield = task.getBodyYield(body.getRegionNumber());
            j.object([&] {
              j.attribute("name", yield.getName());
              bufferList("params", yield.getParams());
              bufferList("results", yield.getResults());
              j.attributeArray("tasks", [&] {
                int64_t inner = 0;
                for (auto t : body.front().getOps<TaskOp>())
                  writeTask(t, inner++);
              });
            });
          }
        });
      });
    };
    j.attributeArray("tasks", [&] {
      for (auto [id, op] : llvm::enumerate(tasks))
        writeTask(op, int64_t(id));
    });
    j.attributeArray("events", [&] {
      int64_t id = 0;
      for (auto &[signaller, waiters] : events)
        j.object([&] {
          j.attribute("id", id++);
          j.attribute("task", signaller);
          j.attributeArray("waiters", [&] {
            for (int64_t w : waiters)
              j.value(w);
          });
        });
    });
    j.attribute("makespan_us", makespan);
    auto bound = schedule->getAttrOfType<FloatAttr>("lower_bound_us");
    j.attribute("lower_bound_us", bound ? bound.getValueAsDouble() : 0.0);
    j.objectEnd();
    os << "\n";
    return success();
  }
};

} // namespace

LogicalResult loom::emit::emitPlan(ModuleOp module, llvm::raw_ostream &planJson,
                                   llvm::raw_ostream &weights,
                                   const PlanEmitOptions &options) {
  Emitter e{module, options};
  return e.run(planJson, weights);
}
