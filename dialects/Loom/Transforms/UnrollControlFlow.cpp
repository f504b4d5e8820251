//===- UnrollControlFlow.cpp - loom-unroll-control-flow -------------------===//
//
// The runtime executes a flat list of kernels, so a loom.loop or loom.scan
// can run only once it is unrolled. A loop is unrolled when its trip count is
// decidable at compile time: M is a constant (or absent), cond is a constant
// (or absent) and, when cond is given, every unrolled iteration's cond_out
// folds to a constant. A scan is unrolled when its length along the scan axis
// is static. Ops that cannot be unrolled are left alone;
// loom-check-static-shapes reports them.
//
// Each iteration clones the body before the op, mapping the body's block
// arguments to the iteration's values (values captured from the enclosing
// scope map to themselves). Every clone gets the result types its shape
// helper infers from the now concrete operands and is then folded, so that a
// condition computed from the iteration number becomes a constant.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMUNROLLCONTROLFLOW
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {
enum class Outcome { Unrolled, Skipped, Failed };

/// `current` with every dimension `inferred` knows. The body's types only
/// approximate all iterations, so where the two disagree the helper, which
/// saw this iteration's operands, wins.
Type mergeTypes(Type current, Type inferred) {
  auto cur = dyn_cast<TensorType>(current);
  auto inf = dyn_cast<RankedTensorType>(inferred);
  if (!cur || !inf)
    return current;
  auto curRanked = dyn_cast<RankedTensorType>(cur);
  if (!curRanked || curRanked.getRank() != inf.getRank())
    return RankedTensorType::get(inf.getShape(), cur.getElementType());
  SmallVector<int64_t> shape;
  for (auto [a, b] : llvm::zip(curRanked.getShape(), inf.getShape()))
    shape.push_back(ShapedType::isDynamic(b) ? a : b);
  return RankedTensorType::get(shape, cur.getElementType(),
                               curRanked.getEncoding());
}

/// A rank-0 (or the block argument's one-element) integer tensor holding `v`.
Value makeScalar(OpBuilder &b, Location loc, Type like, Type element,
                 int64_t v) {
  auto t = dyn_cast_if_present<RankedTensorType>(like);
  if (!t || !t.hasStaticShape() || t.getNumElements() != 1 ||
      t.getElementType() != element)
    t = RankedTensorType::get({}, element);
  Attribute value = element.isInteger(1)
                        ? Attribute(b.getBoolAttr(v != 0))
                        : Attribute(b.getIntegerAttr(element, v));
  return ConstantOp::create(b, loc, DenseElementsAttr::get(t, value));
}

/// A one-element i64 tensor holding `v` (the axes of an unsqueeze).
Value makeAxes(OpBuilder &b, Location loc, int64_t v) {
  auto t = RankedTensorType::get({1}, b.getI64Type());
  return ConstantOp::create(b, loc,
                            DenseElementsAttr::get(t, ArrayRef<int64_t>{v}));
}

/// `t` with a dimension of `size` inserted at `axis` (unranked stays
/// unranked).
Type insertDim(Type t, int64_t axis, int64_t size) {
  auto r = dyn_cast<RankedTensorType>(t);
  if (!r)
    return t;
  SmallVector<int64_t> shape(r.getShape());
  shape.insert(shape.begin() + axis, size);
  return RankedTensorType::get(shape, r.getElementType());
}

struct UnrollControlFlowPass
    : loom::impl::LoomUnrollControlFlowBase<UnrollControlFlowPass> {
  using LoomUnrollControlFlowBase::LoomUnrollControlFlowBase;

  void runOnOperation() override;

private:
  Outcome unrollLoop(LoopOp loop);
  Outcome unrollScan(ScanOp scan);
  LogicalResult refineAndFold(OpBuilder &b, Operation *op,
                              SmallVectorImpl<Value> &results);
  LogicalResult cloneBody(OpBuilder &b, Block &body, IRMapping &map,
                          SmallVectorImpl<Value> &yielded);
  FailureOr<Value> stack(OpBuilder &b, Operation *owner, size_t index,
                         ArrayRef<Value> values, int64_t axis, Type resultType,
                         Type sliceType);
};

/// Gives `op` the result types its shape helper infers, then folds it.
/// `results` receives the values that stand for the op's results (the op is
/// erased when it folds away). Fails when the helper finds a contradiction
/// (it has reported it).
LogicalResult
UnrollControlFlowPass::refineAndFold(OpBuilder &b, Operation *op,
                                     SmallVectorImpl<Value> &results) {
  results.clear();
  if (auto shaped = dyn_cast<ShapeInferenceOpInterface>(op)) {
    SmallVector<Type> inferred;
    if (failed(shaped.inferResultTypes(inferred)))
      return failure();
    for (auto [result, type] : llvm::zip(op->getResults(), inferred))
      result.setType(mergeTypes(result.getType(), type));
  }
  if (op->getNumRegions() == 0 &&
      !op->hasTrait<mlir::OpTrait::ConstantLike>() &&
      isa<LoomDialect>(op->getDialect()) &&
      succeeded(b.tryFold(op, results)) && !results.empty()) {
    op->erase();
    return success();
  }
  results.clear();
  llvm::append_range(results, op->getResults());
  return success();
}

/// Clones the body's ops (not its terminator) at `b`'s insertion point with
/// `map`, which already maps the block arguments, refining and folding each
/// clone. `yielded` receives the values the body's yield stands for.
LogicalResult UnrollControlFlowPass::cloneBody(OpBuilder &b, Block &body,
                                               IRMapping &map,
                                               SmallVectorImpl<Value> &yielded) {
  SmallVector<Value> results;
  for (Operation &op : body.without_terminator()) {
    Operation *clone = b.clone(op, map);
    if (failed(refineAndFold(b, clone, results)))
      return failure();
    map.map(op.getResults(), results);
  }
  yielded.clear();
  for (Value v : body.getTerminator()->getOperands())
    yielded.push_back(map.lookupOrDefault(v));
  return success();
}

/// Stacks the per-iteration `values` along a new dimension `axis`
/// (unsqueeze + concat). With no values, a constant empty tensor whose other
/// dimensions come from `sliceType`; `owner` reports the error when that type
/// is not static.
FailureOr<Value> UnrollControlFlowPass::stack(OpBuilder &b, Operation *owner,
                                              size_t index,
                                              ArrayRef<Value> values,
                                              int64_t axis, Type resultType,
                                              Type sliceType) {
  Location loc = owner->getLoc();
  Type element = getElementTypeOrSelf(resultType);
  if (values.empty()) {
    auto slice = dyn_cast<RankedTensorType>(sliceType);
    if (!slice || !slice.hasStaticShape()) {
      owner->emitError() << "'" << owner->getName()
                         << "' runs zero times and the element shape of its "
                            "scan output #"
                         << index << " is not static";
      return failure();
    }
    auto t = cast<RankedTensorType>(insertDim(
        RankedTensorType::get(slice.getShape(), element), axis, 0));
    return ConstantOp::create(b, loc,
                              DenseElementsAttr::get(t, ArrayRef<Attribute>{}))
        .getResult();
  }
  Value axes = makeAxes(b, loc, axis);
  SmallVector<Value> parts, results;
  for (Value v : values) {
    Type t = insertDim(v.getType(), axis, 1);
    if (isa<UnrankedTensorType>(t))
      t = UnrankedTensorType::get(element);
    auto unsqueeze = UnsqueezeOp::create(b, loc, t, v, axes);
    if (failed(refineAndFold(b, unsqueeze, results)))
      return failure();
    parts.push_back(results.front());
  }
  if (parts.size() == 1)
    return parts.front();
  auto concat = ConcatOp::create(b, loc, resultType, parts, uint64_t(axis));
  if (failed(refineAndFold(b, concat, results)))
    return failure();
  return results.front();
}

/// The ops an unrolling created: those between `before` (or the block's
/// start) and `op`.
SmallVector<Operation *> createdOps(Operation *before, Operation *op) {
  SmallVector<Operation *> created;
  for (Operation *it = before ? before->getNextNode() : &op->getBlock()->front();
       it != op; it = it->getNextNode())
    created.push_back(it);
  return created;
}

/// Erases what an abandoned unrolling created, last first.
void rollBack(Operation *before, Operation *op) {
  // The list outlives the loop (llvm::reverse of a temporary would not).
  SmallVector<Operation *> created = createdOps(before, op);
  for (Operation *c : llvm::reverse(created))
    c->erase();
}

/// Replaces `op` by `replacements` and erases it together with the created
/// ops nothing uses (iteration numbers and conditions that folded away).
void replaceUnrolled(Operation *before, Operation *op,
                     ArrayRef<Value> replacements) {
  SmallVector<Operation *> created = createdOps(before, op);
  op->replaceAllUsesWith(replacements);
  op->erase();
  for (Operation *c : llvm::reverse(created))
    if (isOpTriviallyDead(c))
      c->erase();
}

Outcome UnrollControlFlowPass::unrollLoop(LoopOp loop) {
  Location loc = loop.getLoc();
  // ONNX: `for (i = 0; i < M && cond; ++i) cond = body(i, cond, ...)`; an
  // absent M or cond drops its half of the test.
  std::optional<int64_t> limit;
  if (!isNone(loop.getM())) {
    auto m = getConstantInts(loop.getM());
    if (!m || m->size() != 1)
      return Outcome::Skipped;
    limit = std::max<int64_t>((*m)[0], 0);
  }
  bool hasCond = !isNone(loop.getCond());
  bool keepGoing = true;
  if (hasCond) {
    auto c = getConstantInts(loop.getCond());
    if (!c || c->size() != 1)
      return Outcome::Skipped;
    keepGoing = (*c)[0] != 0;
  }
  if (!limit && !hasCond)
    return Outcome::Skipped; // an infinite loop
  int64_t maxIter = maxIterations;
  if (!hasCond && *limit > maxIter) {
    loop.emitError() << "loop trip count " << *limit
                     << " exceeds max-iterations=" << maxIter;
    return Outcome::Failed;
  }

  Block &body = loop.getBody().front();
  size_t numCarried = loop.getVInitial().size();
  size_t numScan = loop.getNumResults() - numCarried;
  SmallVector<Value> carried(loop.getVInitial());
  SmallVector<SmallVector<Value>> scans(numScan);
  Operation *before = loop->getPrevNode();
  OpBuilder b(loop);
  Value condIn = hasCond ? loop.getCond() : Value();
  SmallVector<Value> yielded;
  for (int64_t i = 0; keepGoing && (!limit || i < *limit); ++i) {
    if (i == maxIter) {
      rollBack(before, loop);
      loop.emitError() << "loop trip count exceeds max-iterations=" << maxIter
                       << " (the condition is still true after " << maxIter
                       << " iterations)";
      return Outcome::Failed;
    }
    IRMapping map;
    BlockArgument iterArg = body.getArgument(0), condArg = body.getArgument(1);
    if (!iterArg.use_empty())
      map.map(iterArg,
              makeScalar(b, loc, iterArg.getType(), b.getI64Type(), i));
    if (!condIn && !condArg.use_empty())
      condIn = makeScalar(b, loc, condArg.getType(), b.getI1Type(), 1);
    if (condIn)
      map.map(condArg, condIn);
    for (size_t k = 0; k < numCarried; ++k)
      map.map(body.getArgument(2 + k), carried[k]);
    if (failed(cloneBody(b, body, map, yielded)))
      return Outcome::Failed;
    // The body's condition output feeds the next iteration's condition input;
    // when the loop has a condition it also decides whether there is one.
    condIn = yielded[0];
    if (hasCond) {
      auto c = getConstantInts(condIn);
      if (!c || c->size() != 1) {
        rollBack(before, loop);
        return Outcome::Skipped;
      }
      keepGoing = (*c)[0] != 0;
    }
    for (size_t k = 0; k < numCarried; ++k)
      carried[k] = yielded[1 + k];
    for (size_t s = 0; s < numScan; ++s)
      scans[s].push_back(yielded[1 + numCarried + s]);
  }

  // Results: the last carried values, then each scan output stacked along a
  // new axis 0.
  SmallVector<Value> replacements(carried);
  auto yield = cast<YieldOp>(body.getTerminator());
  for (size_t s = 0; s < numScan; ++s) {
    Value result = loop.getResult(numCarried + s);
    auto stacked = stack(b, loop, s, scans[s], /*axis=*/0, result.getType(),
                         yield.getOperand(1 + numCarried + s).getType());
    if (failed(stacked))
      return Outcome::Failed;
    replacements.push_back(*stacked);
  }
  replaceUnrolled(before, loop, replacements);
  return Outcome::Unrolled;
}

Outcome UnrollControlFlowPass::unrollScan(ScanOp scan) {
  Location loc = scan.getLoc();
  auto inputs = scan.getInitialStateAndScanInputs();
  size_t numScanIn = scan.getNumScanInputs();
  size_t numState = inputs.size() - numScanIn;
  size_t numScanOut = scan.getNumResults() - numState;
  auto attrAt = [](std::optional<ArrayRef<int64_t>> attr, size_t i) {
    return attr && i < attr->size() ? (*attr)[i] : 0;
  };

  // The scan length: the (common) extent of the scan inputs along their axes.
  SmallVector<int64_t> inAxes;
  std::optional<int64_t> length;
  for (size_t j = 0; j < numScanIn; ++j) {
    auto t = dyn_cast<RankedTensorType>(inputs[numState + j].getType());
    if (!t)
      return Outcome::Skipped;
    int64_t axis = normalizeAxis(attrAt(scan.getScanInputAxes(), j), t.getRank());
    if (axis < 0 || axis >= t.getRank()) {
      scan.emitError() << "scan input #" << j << " has no axis "
                       << attrAt(scan.getScanInputAxes(), j);
      return Outcome::Failed;
    }
    inAxes.push_back(axis);
    int64_t n = t.getDimSize(axis);
    if (ShapedType::isDynamic(n))
      continue;
    if (length && *length != n) {
      scan.emitError() << "scan inputs have different lengths (" << *length
                       << " and " << n << ") along their scan axes";
      return Outcome::Failed;
    }
    length = n;
  }
  if (!length)
    return Outcome::Skipped;
  if (*length > int64_t(maxIterations)) {
    scan.emitError() << "scan length " << *length
                     << " exceeds max-iterations=" << int64_t(maxIterations);
    return Outcome::Failed;
  }

  Block &body = scan.getBody().front();
  Operation *before = scan->getPrevNode();
  SmallVector<Value> states(inputs.take_front(numState));
  SmallVector<SmallVector<Value>> scans(numScanOut);
  OpBuilder b(scan);
  SmallVector<Value> yielded, results;
  for (int64_t i = 0; i < *length; ++i) {
    IRMapping map;
    for (size_t k = 0; k < numState; ++k)
      map.map(body.getArgument(k), states[k]);
    for (size_t j = 0; j < numScanIn; ++j) {
      // Gather with a scalar index drops the scan axis.
      Value input = inputs[numState + j];
      bool reverse = attrAt(scan.getScanInputDirections(), j) == 1;
      Value index = makeScalar(b, loc, Type(), b.getI64Type(),
                               reverse ? *length - 1 - i : i);
      auto t = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> shape(t.getShape());
      shape.erase(shape.begin() + inAxes[j]);
      auto slice = GatherOp::create(
          b, loc, RankedTensorType::get(shape, t.getElementType()), input,
          index, uint64_t(inAxes[j]));
      if (failed(refineAndFold(b, slice, results)))
        return Outcome::Failed;
      map.map(body.getArgument(numState + j), results.front());
    }
    if (failed(cloneBody(b, body, map, yielded)))
      return Outcome::Failed;
    for (size_t k = 0; k < numState; ++k)
      states[k] = yielded[k];
    for (size_t s = 0; s < numScanOut; ++s)
      scans[s].push_back(yielded[numState + s]);
  }

  SmallVector<Value> replacements(states);
  auto yield = cast<YieldOp>(body.getTerminator());
  for (size_t s = 0; s < numScanOut; ++s) {
    Value result = scan.getResult(numState + s);
    Type sliceType = yield.getOperand(numState + s).getType();
    if (!scans[s].empty())
      sliceType = scans[s].front().getType();
    // The output axis counts the stacked dimension: rank(slice) + 1 axes.
    int64_t attrAxis = attrAt(scan.getScanOutputAxes(), s), axis = attrAxis;
    auto slice = dyn_cast<RankedTensorType>(sliceType);
    if (slice)
      axis = normalizeAxis(axis, slice.getRank() + 1);
    if (axis < 0 || (slice && axis > slice.getRank())) {
      scan.emitError() << "scan output #" << s << " has no axis " << attrAxis;
      return Outcome::Failed;
    }
    // A reverse scan output prepends each iteration's value.
    SmallVector<Value> values(scans[s]);
    if (attrAt(scan.getScanOutputDirections(), s) == 1)
      std::reverse(values.begin(), values.end());
    auto stacked = stack(b, scan, s, values, axis, result.getType(), sliceType);
    if (failed(stacked))
      return Outcome::Failed;
    replacements.push_back(*stacked);
  }
  replaceUnrolled(before, scan, replacements);
  return Outcome::Unrolled;
}

void UnrollControlFlowPass::runOnOperation() {
  func::FuncOp func = getOperation();
  // Rounds: unrolling an op clones the loops nested in its body, whose trip
  // counts may only now be constants (e.g. bounded by the outer iteration
  // number). Post-order visits nested ops before the op that holds them, so
  // no visited op has been erased with its parent.
  bool changedAny = false;
  for (bool changed = true; changed;) {
    changed = false;
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (isa<LoopOp, ScanOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      Outcome outcome = isa<LoopOp>(op) ? unrollLoop(cast<LoopOp>(op))
                                        : unrollScan(cast<ScanOp>(op));
      if (outcome == Outcome::Failed)
        return signalPassFailure();
      changed |= outcome == Outcome::Unrolled;
    }
    changedAny |= changed;
  }
  // A loop left here runs at run time (a plan control task, when
  // loom-check-static-shapes finds it bounded): its first iteration sees the
  // initial values, so its body's carried arguments take their types, and
  // the next loom-propagate-shapes refines the body and, where an iteration
  // keeps those types, the loop's results.
  func.walk([&](LoopOp loop) {
    Block &body = loop.getBody().front();
    for (auto [k, init] : llvm::enumerate(loop.getVInitial())) {
      if (body.getNumArguments() <= 2 + k)
        break;
      BlockArgument arg = body.getArgument(2 + k);
      Type merged = mergeTypes(arg.getType(), init.getType());
      if (merged != arg.getType()) {
        arg.setType(merged);
        changedAny = true;
      }
    }
  });
  if (!changedAny)
    return markAllAnalysesPreserved();
  // The unrolled values may be more precise than the op's declared results:
  // the function returns what its body now computes.
  for (Block &block : func.getBody())
    if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
      func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                     ret.getOperandTypes()));
}
} // namespace
