//===- CheckStaticShapes.cpp - loom-check-static-shapes -------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMCHECKSTATICSHAPES
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {
/// Says which operand of `op` (the first op whose result shape is unknown)
/// holds values unknown at compile time, and which graph inputs they come
/// from: the remedy is to bind those, unless the op's result size depends
/// on data by definition.
void explainDynamicShape(func::FuncOp func, Operation *op, InFlightDiagnostic &diag) {
  const bool dataDependent = isa<NonZeroOp, UniqueOp, CompressOp, NonMaxSuppressionOp>(op);
  // Shape-carrying operands are integer tensors; the data operand of a
  // data-dependent op is whatever it is.
  SmallVector<unsigned> culprits;
  for (OpOperand &o : op->getOpOperands()) {
    Value v = o.get();
    if (isNone(v) || getConstantAttr(v))
      continue;
    auto t = dyn_cast<ShapedType>(v.getType());
    if (dataDependent || (t && t.getElementType().isInteger()))
      culprits.push_back(o.getOperandNumber());
  }
  if (culprits.empty()) {
    diag << "; its shape depends on values unknown at compile time (bind inputs "
            "with --input-shape, --dim or --const-input)";
    return;
  }
  unsigned k = culprits.front();
  SmallVector<std::string> from = inputsFeeding(func, op->getOperand(k));
  diag << ": its shape depends on the values of operand #" << k;
  if (from.empty()) {
    diag << ", which are not known at compile time";
  } else {
    diag << ", computed at run time from graph input" << (from.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < from.size(); ++i)
      diag << (i ? ", '" : "'") << from[i] << "'";
  }
  if (dataDependent) {
    diag << "; the size of " << op->getName()
         << "'s result depends on the data, which a static plan cannot hold";
    return;
  }
  diag << "; bind " << (from.size() > 1 ? "them" : "it")
       << " with --const-input NAME=VALUE (or the shapes it is computed from with "
          "--input-shape / --dim)";
}

bool isStatic(Type t) {
  if (auto s = dyn_cast<ShapedType>(t))
    return s.hasStaticShape();
  return true;
}

/// What keeps `v` from being a constant, for a diagnostic: follows it up
/// through ops with one non-constant operand to a graph input or to an op
/// whose operands are all constants but that does not fold (then
/// `bindable` is cleared: binding inputs does not help).
std::string describe(Value v, bool &bindable) {
  std::string out;
  llvm::raw_string_ostream os(out);
  while (Operation *def = v.getDefiningOp()) {
    Value next;
    int nonConstant = 0;
    for (Value operand : def->getOperands())
      if (!isNone(operand) && !getConstantAttr(operand)) {
        next = operand;
        ++nonConstant;
      }
    if (nonConstant == 0) {
      os << "'" << def->getName()
         << "' computes it from constants but does not fold";
      bindable = false;
      return out;
    }
    if (nonConstant > 1) {
      os << "it is computed by '" << def->getName() << "'";
      return out;
    }
    v = next;
  }
  auto arg = cast<BlockArgument>(v);
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  auto name = func ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                       "loom.name")
                   : StringAttr();
  if (name)
    os << "it depends on input '" << name.getValue() << "'";
  else if (func)
    os << "it depends on input #" << arg.getArgNumber();
  else
    os << "it depends on an argument of '"
       << arg.getOwner()->getParentOp()->getName() << "'";
  return out;
}

/// Why loom-unroll-control-flow left `loop` in place.
std::string whyNotUnrolled(LoopOp loop, bool &bindable) {
  bool hasM = !isNone(loop.getM()), hasCond = !isNone(loop.getCond());
  if (!hasM && !hasCond)
    return "it has neither M nor cond: an infinite loop";
  if (hasM && !getConstantAttr(loop.getM()))
    return "M is not a constant: " + describe(loop.getM(), bindable);
  if (hasCond && !getConstantAttr(loop.getCond()))
    return "cond is not a constant: " + describe(loop.getCond(), bindable);
  return "the body's cond_out does not fold to a constant";
}

struct CheckStaticShapesPass
    : loom::impl::LoomCheckStaticShapesBase<CheckStaticShapesPass> {
  using LoomCheckStaticShapesBase::LoomCheckStaticShapesBase;

  /// A loop left for run time: no scan outputs, loop-invariant carried
  /// types, and a bound on its trip count (recorded for plan-from-loom).
  LogicalResult checkRunTimeLoop(LoopOp loop) {
    bool bindable = true;
    std::string why = whyNotUnrolled(loop, bindable);
    auto fail = [&](const Twine &what) {
      auto diag = loop.emitError()
                  << "loop trip count is not known at compile time (" << why
                  << ") and " << what.str();
      if (bindable)
        diag << "; or bind the inputs it depends on with --const-input";
      return failure();
    };
    if (isNone(loop.getM()) && isNone(loop.getCond())) {
      loop.emitError("loop trip count is not known at compile time (")
          << why << ")";
      return failure();
    }
    size_t numCarried = loop.getVInitial().size();
    if (loop.getNumResults() != numCarried)
      return fail("it has scan outputs, whose length would depend on the run");
    Block &body = loop.getBody().front();
    Operation *yield = body.getTerminator();
    for (size_t k = 0; k < numCarried; ++k) {
      Type init = loop.getVInitial()[k].getType();
      Type arg = body.getArgument(2 + k).getType();
      Type next = yield->getOperand(1 + k).getType();
      if (!isStatic(init) || init != arg || init != next) {
        std::string types;
        llvm::raw_string_ostream os(types);
        os << "'" << init << "' initially, '" << next << "' after an iteration";
        return fail("loop-carried value " + Twine(k) +
                    " does not keep one static type across iterations (" +
                    types + "); a run-time loop needs one");
      }
    }
    int64_t bound = -1;
    if (!isNone(loop.getM()))
      if (auto m = getConstantAttr(loop.getM()))
        if (auto ints = dyn_cast<DenseIntElementsAttr>(m);
            ints && ints.getNumElements() == 1)
          bound = std::max<int64_t>(0, (*ints.begin()).getSExtValue());
    if (maxTripCount >= 0)
      bound = bound < 0 ? int64_t(maxTripCount)
                        : std::min<int64_t>(bound, maxTripCount);
    if (bound < 0)
      return fail("it has no bound: give one with --max-trip-count N");
    loop->setAttr("loom.max_trip_count",
                  Builder(loop.getContext()).getI64IntegerAttr(bound));
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
      if (isStatic(arg.getType()))
        continue;
      auto name = func.getArgAttrOfType<StringAttr>(i, "loom.name");
      auto diag = func.emitError()
                  << "input '" << (name ? name.getValue() : StringRef("?"))
                  << "' has type " << arg.getType();
      auto t = dyn_cast<RankedTensorType>(arg.getType());
      // The ONNX dim_param of each dimension ("" where it has none).
      auto params = func.getArgAttrOfType<ArrayAttr>(i, "loom.dim_params");
      std::string named;
      if (!t) {
        diag << " of unknown rank";
      } else {
        diag << " with unbound dimension(s)";
        for (auto [d, size] : llvm::enumerate(t.getShape())) {
          if (!ShapedType::isDynamic(size))
            continue;
          diag << " " << d;
          auto param = params && d < params.size()
                           ? dyn_cast<StringAttr>(params[d])
                           : StringAttr();
          if (param && !param.getValue().empty()) {
            diag << " ('" << param.getValue() << "')";
            std::string flag = "--dim " + param.str() + "=VALUE";
            if (named.find(flag) == std::string::npos)
              named += (named.empty() ? "" : " ") + flag;
          }
        }
      }
      if (!named.empty())
        diag << "; bind them with " << named << " (or --input-shape "
             << (name ? name.getValue() : StringRef("NAME")) << "=DxDx...)";
      else
        diag << "; bind them with --input-shape NAME=DxDx... or --dim "
                "PARAM=VALUE";
      return signalPassFailure();
    }
    // A loop that loom-unroll-control-flow could not unroll runs as a
    // run-time loop, within a bound; a scan cannot stay.
    WalkResult control = func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (auto loop = dyn_cast<LoopOp>(op)) {
        if (failed(checkRunTimeLoop(loop)))
          return WalkResult::interrupt();
        return WalkResult::advance();
      }
      if (auto ifOp = dyn_cast<IfOp>(op)) {
        for (auto [i, types] : llvm::enumerate(llvm::zip(
                 ifOp.getThenBranch().front().getTerminator()->getOperandTypes(),
                 ifOp.getElseBranch().front().getTerminator()->getOperandTypes())))
          if (std::get<0>(types) != std::get<1>(types) &&
              isStatic(std::get<0>(types)) && isStatic(std::get<1>(types))) {
            ifOp.emitError("the branches of an If whose condition is known "
                           "only at run time yield different types for "
                           "result ")
                << i << ": " << std::get<0>(types) << " and "
                << std::get<1>(types)
                << " (a plan needs one static type; bind the inputs the "
                   "condition depends on with --const-input)";
            return WalkResult::interrupt();
          }
        return WalkResult::advance();
      }
      if (isa<ScanOp>(op)) {
        op->emitError("scan length is not known at compile time; bind the "
                      "shapes of its scan inputs with --input-shape or --dim");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (control.wasInterrupted())
      return signalPassFailure();
    // Ops in program order: the first non-static result is where the
    // unknown values turn into an unknown shape (every earlier type is
    // static), so its non-constant operands carry them.
    WalkResult result = func.walk([&](Operation *op) {
      for (Value r : op->getResults()) {
        if (isStatic(r.getType()))
          continue;
        auto diag = op->emitError()
                    << "result #" << cast<OpResult>(r).getResultNumber() << " of '"
                    << op->getName() << "' has non-static type " << r.getType();
        explainDynamicShape(func, op, diag);
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
