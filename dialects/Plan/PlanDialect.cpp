//===- PlanDialect.cpp - The plan dialect: types, ops, verifiers ----------===//
#include "Plan/PlanOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace loom::plan;

#include "Plan/PlanDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "Plan/PlanTypes.cpp.inc"

#define GET_OP_CLASSES
#include "Plan/PlanOps.cpp.inc"

void PlanDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "Plan/PlanTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Plan/PlanOps.cpp.inc"
      >();
}

int64_t loom::plan::elementBytes(Type type) {
  if (auto complex = dyn_cast<ComplexType>(type))
    return 2 * elementBytes(complex.getElementType());
  unsigned bits = type.getIntOrFloatBitWidth();
  return bits <= 8 ? 1 : int64_t(bits) / 8;
}

int64_t loom::plan::byteSize(ShapedType type) {
  return type.getNumElements() * elementBytes(type.getElementType());
}

Value loom::plan::rootBuffer(Value buffer) {
  if (auto view = buffer.getDefiningOp<ViewOp>())
    return view.getSource();
  return buffer;
}

int64_t loom::plan::offsetInRoot(Value buffer) {
  if (auto view = buffer.getDefiningOp<ViewOp>())
    return int64_t(view.getByteOffset());
  return 0;
}

std::pair<int64_t, int64_t> loom::plan::bytesInRoot(Value buffer) {
  int64_t lo = offsetInRoot(buffer);
  return {lo, lo + byteSize(cast<ShapedType>(buffer.getType()))};
}

llvm::StringRef loom::plan::arenaDevice(Value buffer) {
  auto alloc = rootBuffer(buffer).getDefiningOp<AllocOp>();
  if (!alloc)
    return "";
  auto arena = SymbolTable::lookupNearestSymbolFrom<ArenaOp>(
      alloc, alloc.getArenaAttr().getAttr());
  return arena ? arena.getDevice() : "";
}

FailureOr<ScheduleOp> loom::plan::getPlanSchedule(ModuleOp module) {
  auto schedules = llvm::to_vector(module.getOps<ScheduleOp>());
  if (schedules.size() != 1)
    return module.emitError("a plan module needs exactly one plan.schedule, "
                            "found ")
           << schedules.size();
  return schedules.front();
}

std::string TransferOp::getLink() {
  return (arenaDevice(getSource()) + "->" + arenaDevice(getTarget())).str();
}

//===----------------------------------------------------------------------===//
// Symbol lookups shared by the verifiers
//===----------------------------------------------------------------------===//

template <typename OpTy>
static OpTy lookup(Operation *from, SymbolTableCollection &tables,
                   FlatSymbolRefAttr ref) {
  return tables.lookupNearestSymbolFrom<OpTy>(from, ref.getAttr());
}

/// Checks that `device` names a plan.device with more than `queue` queues.
static LogicalResult verifyDeviceQueue(Operation *op,
                                       SymbolTableCollection &tables,
                                       FlatSymbolRefAttr device,
                                       int64_t queue) {
  auto dev = lookup<DeviceOp>(op, tables, device);
  if (!dev)
    return op->emitOpError("device ") << device << " is not a plan.device";
  if (queue < 0 || queue >= int64_t(dev.getQueues()))
    return op->emitOpError("queue ")
           << queue << " does not exist on device " << device << " ("
           << dev.getQueues() << " queues)";
  return success();
}

/// Checks a `cost_us` dictionary: every entry a non-negative f64 or unit.
static LogicalResult verifyCosts(Operation *op, DictionaryAttr costs) {
  if (!costs)
    return success();
  for (NamedAttribute entry : costs) {
    if (isa<UnitAttr>(entry.getValue()))
      continue;
    auto f = dyn_cast<FloatAttr>(entry.getValue());
    if (!f || f.getValueAsDouble() < 0)
      return op->emitOpError("cost_us entry '")
             << entry.getName().getValue()
             << "' must be a non-negative float or unit (cannot run)";
  }
  return success();
}

static LogicalResult verifyTimes(Operation *op,
                                 std::optional<APFloat> startAttr,
                                 std::optional<APFloat> endAttr) {
  if (!startAttr || !endAttr)
    return success();
  double start = startAttr->convertToDouble(), end = endAttr->convertToDouble();
  if (end < start)
    return op->emitOpError("ends (")
           << end << " us) before it starts (" << start << " us)";
  return success();
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

LogicalResult DeviceOp::verify() {
  StringRef kind = getKind();
  if (kind != "cpu" && kind != "gpu" && kind != "npu")
    return emitOpError("kind must be cpu, gpu or npu, not '") << kind << "'";
  return success();
}

LogicalResult ArenaOp::verify() {
  if (std::optional<uint64_t> peak = getPeakBytes())
    if (std::optional<uint64_t> capacity = getCapacityBytes())
      if (*peak > *capacity)
        return emitOpError("peak_bytes ")
               << *peak << " exceeds the arena's capacity_bytes " << *capacity;
  return success();
}

LogicalResult ArenaOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (!lookup<DeviceOp>(*this, tables, getDeviceAttr()))
    return emitOpError("device ") << getDeviceAttr() << " is not a plan.device";
  return success();
}

int64_t AllocOp::getSizeInBytes() {
  return byteSize(cast<ShapedType>(getBuffer().getType()));
}

LogicalResult AllocOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto arena = lookup<ArenaOp>(*this, tables, getArenaAttr());
  if (!arena)
    return emitOpError("arena ") << getArenaAttr() << " is not a plan.arena";
  if (std::optional<uint64_t> offset = getOffset()) {
    if (*offset % arena.getAlignment() != 0)
      return emitOpError("offset ")
             << *offset << " is not a multiple of the arena's alignment "
             << arena.getAlignment();
    if (std::optional<uint64_t> peak = arena.getPeakBytes())
      if (*offset + uint64_t(getSizeInBytes()) > *peak)
        return emitOpError("buffer [")
               << *offset << ", " << *offset + getSizeInBytes()
               << ") exceeds the arena's peak_bytes " << *peak;
  }
  return success();
}

int64_t WeightOp::getSizeInBytes() {
  return byteSize(cast<ShapedType>(getBuffer().getType()));
}

LogicalResult WeightOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  auto bufferType = cast<ShapedType>(getBuffer().getType());
  if (valueType.getShape() != bufferType.getShape() ||
      valueType.getElementType() != bufferType.getElementType())
    return emitOpError("value of type ")
           << valueType << " does not match the buffer type " << bufferType;
  if (std::optional<uint64_t> offset = getOffset())
    if (*offset % kWeightsAlignment != 0)
      return emitOpError("offset ") << *offset << " is not a multiple of "
                                    << kWeightsAlignment;
  return success();
}

LogicalResult ViewOp::verify() {
  if (!isa_and_nonnull<AllocOp, WeightOp>(getSource().getDefiningOp()))
    return emitOpError("source must be a plan.alloc or plan.weight buffer");
  auto from = cast<ShapedType>(getSource().getType());
  auto to = cast<ShapedType>(getResult().getType());
  if (from.getElementType() != to.getElementType())
    return emitOpError("element type ")
           << to.getElementType() << " differs from the source's "
           << from.getElementType();
  uint64_t offset = getByteOffset();
  if (offset % uint64_t(elementBytes(to.getElementType())) != 0)
    return emitOpError("byte_offset ")
           << offset << " is not a multiple of the element size "
           << elementBytes(to.getElementType());
  if (offset + uint64_t(byteSize(to)) > uint64_t(byteSize(from)))
    return emitOpError("bytes [")
           << offset << ", " << offset + uint64_t(byteSize(to))
           << ") lie outside the source's " << byteSize(from) << " bytes";
  return success();
}

LogicalResult InputOp::verify() {
  Operation *def = getBuffer().getDefiningOp();
  if (getFolded() ? !isa_and_nonnull<WeightOp>(def)
                  : !isa_and_nonnull<AllocOp>(def))
    return emitOpError(getFolded()
                           ? "folded input must name a plan.weight buffer"
                           : "input must name a plan.alloc buffer");
  return success();
}

LogicalResult OutputOp::verify() {
  if (!isa_and_nonnull<AllocOp, StateOp>(getBuffer().getDefiningOp()))
    return emitOpError("output must name a plan.alloc or plan.state buffer");
  return success();
}

int64_t StateOp::getSizeInBytes() {
  return byteSize(cast<ShapedType>(getBuffer().getType()));
}

LogicalResult StateOp::verify() {
  if (getName().empty())
    return emitOpError("name must not be empty");
  // The name is what a runtime shares the storage by: one per plan.
  for (Operation &other : *(*this)->getBlock())
    if (auto s = dyn_cast<StateOp>(other); s && s != *this &&
                                            s.getName() == getName())
      return emitOpError("another plan.state is named '") << getName() << "'";
  return success();
}

LogicalResult TaskOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(verifyDeviceQueue(*this, tables, getDeviceAttr(),
                               int64_t(getQueue()))))
    return failure();
  return success();
}

LogicalResult TaskOp::verify() {
  if (getKernel().empty())
    return emitOpError("kernel name must not be empty");
  for (auto [i, out] : llvm::enumerate(getOutputs()))
    if (isa_and_nonnull<WeightOp>(rootBuffer(out).getDefiningOp()))
      return emitOpError("output ") << i << " writes a read-only plan.weight";
  if (failed(verifyCosts(*this, getCostUsAttr())))
    return failure();
  return verifyTimes(*this, getStartUs(), getEndUs());
}

void loom::plan::forEachBodyAccess(TaskOp control,
                                   function_ref<void(Value, bool)> fn) {
  for (Region &body : control.getBodies()) {
    YieldOp yield = control.getBodyYield(body.getRegionNumber());
    for (Value v : yield.getParams())
      fn(v, /*isWrite=*/true);
    for (auto task : body.front().getOps<TaskOp>()) {
      for (Value v : task.getInputs())
        fn(v, false);
      for (Value v : task.getOutputs())
        fn(v, true);
      forEachBodyAccess(task, fn);
    }
    for (Value v : yield.getResults())
      fn(v, false);
  }
}

YieldOp TaskOp::getBodyYield(unsigned i) {
  return cast<YieldOp>(getBodies()[i].front().getTerminator());
}

namespace {
/// A buffer type with exactly one element of `elem` (a scalar condition,
/// trip count or iteration number).
bool isOneElement(Type t, Type elem) {
  auto m = dyn_cast<MemRefType>(t);
  return m && m.getElementType() == elem && m.getNumElements() == 1;
}
} // namespace

LogicalResult TaskOp::verifyRegions() {
  StringRef kernel = getKernel();
  unsigned want = kernel == "if" ? 2 : kernel == "loop" ? 1 : 0;
  if (getBodies().size() != want)
    return emitOpError("'") << kernel << "' task has " << getBodies().size()
                            << " bodies; expected " << want;
  if (want == 0)
    return success();
  for (auto [i, out] : llvm::enumerate(getOutputs()))
    if (!isa<MemRefType>(out.getType()))
      return emitOpError("output ") << i << " of a control task is none";
  for (Region &body : getBodies()) {
    for (Operation &op : body.front().without_terminator()) {
      auto task = dyn_cast<TaskOp>(op);
      if (!task)
        return op.emitOpError("in a control task's body; only plan.task is");
      if (task.getDevice() != getDevice() || task.getQueue() != getQueue())
        return task.emitOpError("runs on ")
               << task.getDevice() << "[" << task.getQueue()
               << "], not on its control task's queue " << getDevice() << "["
               << getQueue() << "]";
      if (!task.getDeps().empty())
        return task.emitOpError("in a body has dependencies; a body runs in "
                                "order");
    }
  }
  Type i1 = IntegerType::get(getContext(), 1);
  Type i64 = IntegerType::get(getContext(), 64);
  auto sameTypes = [&](StringRef what, TypeRange got,
                       TypeRange expected) -> LogicalResult {
    if (got.size() != expected.size())
      return emitOpError() << what << ": " << got.size()
                           << " buffers; expected " << expected.size();
    for (auto [k, pair] : llvm::enumerate(llvm::zip(got, expected)))
      if (std::get<0>(pair) != std::get<1>(pair))
        return emitOpError() << what << " " << k << " has type "
                             << std::get<0>(pair) << "; expected "
                             << std::get<1>(pair);
    return success();
  };
  if (kernel == "if") {
    if (getInputs().empty() || !isOneElement(getInputs()[0].getType(), i1))
      return emitOpError("'if' needs a one-element i1 condition as input 0");
    for (unsigned b = 0; b < 2; ++b) {
      YieldOp y = getBodyYield(b);
      if (!y.getParams().empty())
        return emitOpError("an 'if' body has no params");
      if (failed(sameTypes("body " + std::to_string(b) + " results",
                           y.getResults().getTypes(), getOutputs().getTypes())))
        return failure();
    }
    return success();
  }
  auto trip = getKernelAttrs().getAs<IntegerAttr>("max_trip_count");
  auto carried = getKernelAttrs().getAs<IntegerAttr>("num_carried");
  if (!trip || trip.getInt() < 0 || !carried || carried.getInt() < 0)
    return emitOpError("'loop' needs non-negative integer attributes "
                       "max_trip_count and num_carried");
  size_t n = size_t(carried.getInt());
  if (getInputs().size() < 2 + n || getOutputs().size() != n)
    return emitOpError("'loop' with ")
           << n << " carried values needs at least " << 2 + n
           << " inputs and exactly " << n << " outputs";
  Value m = getInputs()[0], cond = getInputs()[1];
  if (!isa<NoneType>(m.getType()) && !isOneElement(m.getType(), i64))
    return emitOpError("'loop' input 0 (M) must be none or one i64");
  if (!isa<NoneType>(cond.getType()) && !isOneElement(cond.getType(), i1))
    return emitOpError("'loop' input 1 (cond) must be none or one i1");
  SmallVector<Type> initial(getInputs().slice(2, n).getTypes());
  if (failed(sameTypes("outputs", getOutputs().getTypes(), initial)))
    return failure();
  YieldOp y = getBodyYield(0);
  if (y.getParams().size() != 2 + n ||
      !isOneElement(y.getParams()[0].getType(), i64) ||
      !isOneElement(y.getParams()[1].getType(), i1))
    return emitOpError("a 'loop' body's params are the iteration number "
                       "(one i64), the condition (one i1) and the ")
           << n << " carried values";
  if (y.getResults().size() != 1 + n ||
      !isOneElement(y.getResults()[0].getType(), i1))
    return emitOpError("a 'loop' body's results are the condition (one i1) "
                       "and the ")
           << n << " carried values";
  if (failed(sameTypes("body params",
                       TypeRange(y.getParams().getTypes()).drop_front(2),
                       initial)) ||
      failed(sameTypes("body results",
                       TypeRange(y.getResults().getTypes()).drop_front(1),
                       initial)))
    return failure();
  return success();
}

LogicalResult TransferOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyDeviceQueue(*this, tables, getDeviceAttr(), int64_t(getQueue()));
}

LogicalResult TransferOp::verify() {
  auto from = cast<ShapedType>(getSource().getType());
  auto to = cast<ShapedType>(getTarget().getType());
  if (from.getShape() != to.getShape() ||
      from.getElementType() != to.getElementType())
    return emitOpError("copies ") << from << " into a different type " << to;
  if (!isa_and_nonnull<AllocOp>(rootBuffer(getTarget()).getDefiningOp()))
    return emitOpError("target must be a plan.alloc buffer or a view of one");
  if (failed(verifyCosts(*this, getCostUsAttr())))
    return failure();
  return verifyTimes(*this, getStartUs(), getEndUs());
}
