//===- FromLoom.cpp - loom graph -> plan (trivial placement) --------------===//
//
// Every region-free loom op becomes a task on queue 0 of the target's first
// CPU, in program order; constants become weights, tensors buffers in that
// CPU's arena. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "Plan/Transforms/Passes.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "loom/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <limits>

namespace loom::plan {
#define GEN_PASS_DEF_PLANFROMLOOM
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

/// The ONNX node names a location carries (NameLocs, also inside fused
/// locations after CSE), in order, without duplicates.
SmallVector<StringRef> nodeNames(Location loc) {
  llvm::SetVector<StringRef> names;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l))
      names.insert(n.getName().getValue());
    return WalkResult::advance();
  });
  return SmallVector<StringRef>(names.begin(), names.end());
}

/// The op's attributes as the kernel sees them (no segment sizes).
DictionaryAttr kernelAttrs(Operation &op) {
  SmallVector<NamedAttribute> attrs;
  for (NamedAttribute a : op.getAttrDictionary())
    if (a.getName() != "operandSegmentSizes" &&
        a.getName() != "resultSegmentSizes")
      attrs.push_back(a);
  return DictionaryAttr::get(op.getContext(), attrs);
}

/// The program of a loom.fused_elementwise body as the kernel's attributes
/// (docs/fused-ops.md, "Elementwise regions"): values 0..n-1 are the inputs,
/// n + i the result of instruction i.
FailureOr<DictionaryAttr> elementwiseProgram(loom::FusedElementwiseOp op) {
  Builder b(op.getContext());
  Block &body = op.getBody().front();
  DenseMap<Value, int64_t> number;
  for (auto [i, arg] : llvm::enumerate(body.getArguments()))
    number[arg] = int64_t(i);
  SmallVector<Attribute> names;
  SmallVector<int64_t> argc, args, paramc, results;
  SmallVector<double> params;
  int64_t next = int64_t(body.getNumArguments());
  // A scalar constant operand of the op (Clip's bounds): the fused op's input
  // bound to that block argument.
  auto constantOf = [&](Value v) -> std::optional<double> {
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg)
      return std::nullopt;
    auto attr = dyn_cast_or_null<DenseElementsAttr>(
        loom::toDense(loom::getConstantAttr(op.getInputs()[arg.getArgNumber()])));
    if (!attr || attr.getNumElements() != 1 ||
        !attr.getElementType().isF32())
      return std::nullopt;
    return double(*attr.getValues<float>().begin());
  };
  for (Operation &inner : body) {
    if (auto yield = dyn_cast<loom::FusedYieldOp>(inner)) {
      for (Value v : yield.getResults())
        results.push_back(number.lookup(v));
      continue;
    }
    if (isa<loom::NoneOp>(inner))
      continue;
    StringRef name = inner.getName().stripDialect();
    SmallVector<double> p;
    SmallVector<Value> operands(inner.getOperands());
    if (auto g = dyn_cast<loom::GeluOp>(inner)) {
      name = g.getApproximate() == "tanh" ? "gelu_tanh" : "gelu";
    } else if (auto c = dyn_cast<loom::ClipOp>(inner)) {
      std::optional<double> lo = -std::numeric_limits<double>::infinity();
      std::optional<double> hi = std::numeric_limits<double>::infinity();
      if (!loom::isNone(c.getMin()))
        lo = constantOf(c.getMin());
      if (!loom::isNone(c.getMax()))
        hi = constantOf(c.getMax());
      if (!lo || !hi)
        return inner.emitError("clip bounds in a fused_elementwise body must "
                               "be scalar f32 constants");
      p = {*lo, *hi};
      operands = {c.getInput()};
    } else if (auto l = dyn_cast<loom::LeakyReluOp>(inner)) {
      p = {l.getAlpha().convertToDouble()};
    } else if (auto h = dyn_cast<loom::HardSigmoidOp>(inner)) {
      p = {h.getAlpha().convertToDouble(), h.getBeta().convertToDouble()};
    } else if (auto e = dyn_cast<loom::EluOp>(inner)) {
      p = {e.getAlpha().convertToDouble()};
    }
    names.push_back(b.getStringAttr(name));
    argc.push_back(int64_t(operands.size()));
    for (Value v : operands) {
      auto it = number.find(v);
      if (it == number.end())
        return inner.emitError("operand of a fused_elementwise body op is "
                               "not an input or an earlier op");
      args.push_back(it->second);
    }
    paramc.push_back(int64_t(p.size()));
    params.append(p.begin(), p.end());
    for (Value r : inner.getResults())
      number[r] = next;
    ++next;
  }
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("body_ops", b.getArrayAttr(names)),
      b.getNamedAttr("body_argc", b.getDenseI64ArrayAttr(argc)),
      b.getNamedAttr("body_args", b.getDenseI64ArrayAttr(args)),
      b.getNamedAttr("body_paramc", b.getDenseI64ArrayAttr(paramc)),
      b.getNamedAttr("body_params", b.getDenseF64ArrayAttr(params)),
      b.getNamedAttr("body_results", b.getDenseI64ArrayAttr(results))};
  return b.getDictionaryAttr(attrs);
}

MemRefType bufferType(RankedTensorType t) {
  return MemRefType::get(t.getShape(), t.getElementType());
}

struct PlanFromLoomPass
    : public loom::plan::impl::PlanFromLoomBase<PlanFromLoomPass> {
  using PlanFromLoomBase::PlanFromLoomBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>("main");
    if (!func || func.isExternal()) {
      module.emitError("plan-from-loom: the module has no func.func @main "
                       "with a body");
      return signalPassFailure();
    }
    // A built-in name or a YAML file (docs/targets.md).
    llvm::Expected<loom::target::TargetDesc> desc =
        loom::target::loadTarget(target);
    if (!desc) {
      module.emitError(llvm::toString(desc.takeError()));
      return signalPassFailure();
    }
    const loom::target::DeviceDesc *cpu = desc->firstCpu();
    if (!cpu) {
      module.emitError("target '") << target << "' has no CPU device";
      return signalPassFailure();
    }
    if (failed(convert(module, func, *desc, *cpu)))
      return signalPassFailure();
  }

  LogicalResult convert(ModuleOp module, func::FuncOp func,
                        const loom::target::TargetDesc &desc,
                        const loom::target::DeviceDesc &cpu) {
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    b.setInsertionPoint(func);
    // The name or path as given: later passes load the target again.
    module->setAttr("plan.target", b.getStringAttr(target));
    for (const auto &d : desc.devices) {
      DeviceOp::create(b, func.getLoc(), d.name, d.kind, uint64_t(d.queues));
      // The target's memory_mb (MiB), if any, bounds the arena.
      IntegerAttr capacity;
      if (d.memoryMB)
        capacity = b.getI64IntegerAttr(int64_t(*d.memoryMB * 1024 * 1024));
      ArenaOp::create(b, func.getLoc(), b.getStringAttr(d.name + "_mem"),
                      FlatSymbolRefAttr::get(ctx, d.name),
                      b.getI64IntegerAttr(64), /*peak_bytes=*/nullptr,
                      capacity);
    }
    auto schedule = ScheduleOp::create(b, func.getLoc(), "main",
                                       /*makespan_us=*/nullptr);
    Block *body = new Block();
    schedule.getBody().push_back(body);
    b.setInsertionPointToEnd(body);

    auto device = FlatSymbolRefAttr::get(ctx, cpu.name);
    auto arena = FlatSymbolRefAttr::get(ctx, cpu.name + "_mem");
    DenseMap<Value, Value> buffers;  // loom value -> plan buffer
    DenseMap<Value, Value> producer; // plan buffer -> event of its writer
    Type eventType = b.getType<EventType>();
    Value none;
    auto getNone = [&]() {
      if (!none) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(body);
        none = NoneOp::create(b, func.getLoc(), b.getType<NoneType>());
      }
      return none;
    };

    // Graph inputs, in ONNX order: the function's arguments interleaved with
    // the inputs folded at import.
    SmallVector<DictionaryAttr> folded;
    if (auto list = module->getAttrOfType<ArrayAttr>("loom.folded_inputs"))
      for (Attribute a : list)
        if (auto d = dyn_cast<DictionaryAttr>(a))
          folded.push_back(d);
    unsigned nextArg = 0, nextFolded = 0;
    unsigned numInputs = func.getNumArguments() + folded.size();
    for (unsigned pos = 0; pos < numInputs; ++pos) {
      if (nextFolded < folded.size()) {
        DictionaryAttr f = folded[nextFolded];
        auto index = f.getAs<IntegerAttr>("index");
        auto name = f.getAs<StringAttr>("name");
        auto value = f.getAs<ElementsAttr>("value");
        if (!index || !name || !value)
          return module.emitError("malformed loom.folded_inputs entry ") << f;
        if (index.getInt() == int64_t(pos) || nextArg >= func.getNumArguments()) {
          auto type = cast<RankedTensorType>(value.getType());
          Value w = WeightOp::create(b, func.getLoc(), bufferType(type), value,
                                     name, /*offset=*/nullptr);
          InputOp::create(b, func.getLoc(), name, w, /*folded=*/true);
          ++nextFolded;
          continue;
        }
      }
      BlockArgument arg = func.getArgument(nextArg);
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      auto name = func.getArgAttrOfType<StringAttr>(nextArg, "loom.name");
      if (!name)
        name = b.getStringAttr("input" + std::to_string(nextArg));
      if (!type || !type.hasStaticShape())
        return func.emitError("input '")
               << name.getValue() << "' has type " << arg.getType()
               << "; plans need static shapes (bind them with --input-shape "
                  "or --dim)";
      Value buf = AllocOp::create(b, func.getLoc(), bufferType(type), arena,
                                  name, /*offset=*/nullptr);
      InputOp::create(b, func.getLoc(), name, buf, /*folded=*/false);
      buffers[arg] = buf;
      ++nextArg;
    }

    // One task per op, in program order.
    func::ReturnOp ret;
    int64_t index = 0;
    for (Operation &op : func.getBody().front()) {
      ++index;
      if (auto r = dyn_cast<func::ReturnOp>(op)) {
        ret = r;
        continue;
      }
      if (isa<loom::NoneOp>(op)) {
        buffers[op.getResult(0)] = getNone();
        continue;
      }
      SmallVector<StringRef> names = nodeNames(op.getLoc());
      if (auto c = dyn_cast<loom::ConstantOp>(op)) {
        if (c->use_empty())
          continue;
        auto type = cast<RankedTensorType>(c.getType());
        StringAttr name = names.empty() ? StringAttr() : b.getStringAttr(names[0]);
        buffers[c.getResult()] =
            WeightOp::create(b, c.getLoc(), bufferType(type), c.getValue(),
                             name, /*offset=*/nullptr);
        ++numWeights;
        continue;
      }
      DictionaryAttr attrs;
      if (auto fe = dyn_cast<loom::FusedElementwiseOp>(op)) {
        FailureOr<DictionaryAttr> program = elementwiseProgram(fe);
        if (failed(program))
          return failure();
        attrs = *program;
      } else if (op.getNumRegions() != 0)
        return op.emitError("cannot plan '")
               << op.getName()
               << "': control flow must be folded or unrolled first (bind "
                  "the inputs it depends on with --const-input)";
      if (op.getDialect() == nullptr ||
          op.getDialect()->getNamespace() != loom::LoomDialect::getDialectNamespace())
        return op.emitError("cannot plan '") << op.getName()
                                             << "': not a loom op";

      std::string taskName = names.empty()
                                 ? (op.getName().stripDialect() + "#" +
                                    std::to_string(index)).str()
                                 : names[0].str();
      SmallVector<Value> ins, outs;
      llvm::SetVector<Value> deps;
      for (Value operand : op.getOperands()) {
        Value buf = buffers.lookup(operand);
        if (!buf)
          return op.emitError("operand defined outside the graph body");
        ins.push_back(buf);
        if (Value e = producer.lookup(buf))
          deps.insert(e);
      }
      for (auto [i, result] : llvm::enumerate(op.getResults())) {
        if (isa<NoneType>(result.getType())) { // absent optional result
          outs.push_back(getNone());
          continue;
        }
        auto type = dyn_cast<RankedTensorType>(result.getType());
        if (!type || !type.hasStaticShape())
          return op.emitError("result ")
                 << i << " has type " << result.getType()
                 << "; plans need static shapes";
        if (result.use_empty()) {
          outs.push_back(getNone());
          continue;
        }
        std::string bufName = op.getNumResults() == 1
                                  ? taskName
                                  : taskName + ":" + std::to_string(i);
        Value buf = AllocOp::create(b, op.getLoc(), bufferType(type), arena,
                                    b.getStringAttr(bufName), nullptr);
        buffers[result] = buf;
        outs.push_back(buf);
      }
      SmallVector<Attribute> opNames;
      for (StringRef n : names)
        opNames.push_back(b.getStringAttr(n));
      if (opNames.empty())
        opNames.push_back(b.getStringAttr(taskName));
      auto task = TaskOp::create(
          b, op.getLoc(), eventType, b.getStringAttr(op.getName().stripDialect()),
          device, b.getI64IntegerAttr(0),
          ins, outs, deps.takeVector(), b.getStringAttr(taskName),
          attrs ? attrs : kernelAttrs(op),
          b.getArrayAttr(opNames), /*cost_us=*/nullptr, /*start_us=*/nullptr,
          /*end_us=*/nullptr);
      for (Value out : outs)
        if (isa<MemRefType>(out.getType()))
          producer[out] = task.getDone();
      ++numTasks;
    }
    if (!ret)
      return func.emitError("@main has no return");

    // Graph outputs: each gets its own task-written buffer.
    DenseSet<Value> claimed;
    for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
      auto name = func.getResultAttrOfType<StringAttr>(i, "loom.name");
      if (!name)
        name = b.getStringAttr("output" + std::to_string(i));
      Value buf = buffers.lookup(value);
      if (!buf || !isa<MemRefType>(buf.getType()))
        return ret.emitError("output '") << name.getValue()
                                         << "' has no buffer";
      bool own = producer.count(buf) && !claimed.count(buf);
      if (!own) {
        // An input, a constant or an output already claimed: copy.
        Value copy = AllocOp::create(b, ret.getLoc(), buf.getType(), arena,
                                     name, nullptr);
        SmallVector<Value> deps;
        if (Value e = producer.lookup(buf))
          deps.push_back(e);
        std::string taskName = ("copy of output " + name.getValue()).str();
        auto task = TaskOp::create(
            b, ret.getLoc(), eventType, b.getStringAttr("identity"), device,
            b.getI64IntegerAttr(0), ValueRange{buf}, ValueRange{copy}, deps,
            b.getStringAttr(taskName), b.getDictionaryAttr({}),
            b.getStrArrayAttr({taskName}), nullptr, nullptr, nullptr);
        producer[copy] = task.getDone();
        ++numTasks;
        buf = copy;
      } else {
        buf.getDefiningOp<AllocOp>().setNameAttr(name);
      }
      claimed.insert(buf);
      OutputOp::create(b, ret.getLoc(), name, buf);
    }
    func.erase();
    return success();
  }
};

} // namespace
