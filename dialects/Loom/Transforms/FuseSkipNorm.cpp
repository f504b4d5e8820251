//===- FuseSkipNorm.cpp - loom-fuse-skip-norm -----------------------------===//
//
// Fuse a residual Add into the LayerNorm/RMSNorm that follows it:
//
//   layer_normalization(Add(a, b), scale, bias) -> skip_layer_norm(a, b, ...)
//   rms_norm(Add(a, b), scale)                   -> skip_rms_norm(a, b, ...)
//
// a and b must be f32 of one static type (no broadcasting). When the sum
// has other uses (the residual stream), the fused op's second result (Sum)
// replaces them; otherwise Sum is absent (a none-typed result). A
// layer_normalization whose Mean or InvStdDev is used is left alone.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFUSESKIPNORM
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

/// The residual Add feeding a norm: both operands and the sum of one static
/// f32 type.
AddOp matchResidualAdd(Value input) {
  auto add = input.getDefiningOp<AddOp>();
  if (!add)
    return {};
  auto t = dyn_cast<RankedTensorType>(add.getC().getType());
  if (!t || !t.hasStaticShape() || !t.getElementType().isF32() ||
      t.getRank() == 0 || add.getA().getType() != t ||
      add.getB().getType() != t)
    return {};
  return add;
}

/// The type of the fused op's Sum result: the sum's type when it has uses
/// besides `norm`, none otherwise.
Type sumType(AddOp add, Operation *norm) {
  for (Operation *u : add.getC().getUsers())
    if (u != norm)
      return add.getC().getType();
  return NoneType::get(add.getContext());
}

/// Replaces the norm's Y by `y`, the Add's remaining uses by `sum`, and
/// erases both.
void replaceNormAndAdd(PatternRewriter &rewriter, Operation *norm, Value y,
                       AddOp add, Value sum) {
  rewriter.replaceAllUsesWith(norm->getResult(0), y);
  rewriter.eraseOp(norm);
  if (!add.getC().use_empty())
    rewriter.replaceAllUsesWith(add.getC(), sum);
  rewriter.eraseOp(add);
}

/// Whether `v` is available right before `op` (defined before it, in its
/// block or an enclosing one).
bool availableBefore(Value v, Operation *op) {
  Block *block = v.getParentBlock();
  Operation *anchor = block ? block->findAncestorOpInBlock(*op) : nullptr;
  if (!anchor)
    return false;
  Operation *def = v.getDefiningOp();
  return !def || def->isBeforeInBlock(anchor);
}

/// Sets the insertion point of the fused op: at the norm when every other
/// use of the sum comes after it; else at the Add (the Sum may replace uses
/// anywhere after the Add) when the norm's other operands are available
/// there, constants defined later being moved up. Fails when neither holds.
LogicalResult setInsertionPoint(PatternRewriter &rewriter, AddOp add,
                                Operation *norm) {
  bool usesAfterNorm = true;
  for (Operation *u : add.getC().getUsers()) {
    if (u == norm)
      continue;
    Operation *anchor = norm->getBlock()->findAncestorOpInBlock(*u);
    if (!anchor || anchor->isBeforeInBlock(norm))
      usesAfterNorm = false;
  }
  if (usesAfterNorm) {
    rewriter.setInsertionPoint(norm);
    return success();
  }
  SmallVector<Operation *> toMove;
  for (Value v : norm->getOperands().drop_front()) {
    if (availableBefore(v, add))
      continue;
    Operation *def = v.getDefiningOp();
    if (!def || !def->hasTrait<mlir::OpTrait::ConstantLike>() ||
        def->getNumOperands() != 0 || def->getNumRegions() != 0 ||
        def->getBlock() != add->getBlock())
      return failure();
    toMove.push_back(def);
  }
  for (Operation *def : toMove)
    rewriter.moveOpBefore(def, add);
  rewriter.setInsertionPoint(add);
  return success();
}

template <typename OpTy>
struct CountingPattern : OpRewritePattern<OpTy> {
  CountingPattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern<OpTy>(ctx), count(count) {}
  int64_t &count;
};

struct SkipLayerNorm : CountingPattern<LayerNormalizationOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(LayerNormalizationOp ln,
                                PatternRewriter &rewriter) const override {
    AddOp add = matchResidualAdd(ln.getX());
    if (!add)
      return rewriter.notifyMatchFailure(ln, "input is not a same-shape Add");
    if (!ln.getMean().use_empty() || !ln.getInvStdDev().use_empty())
      return rewriter.notifyMatchFailure(ln, "Mean or InvStdDev is used");
    if (ln.getY().getType() != add.getC().getType() ||
        !cast<RankedTensorType>(ln.getScale().getType()).getElementType().isF32() ||
        (!isNone(ln.getB()) &&
         !cast<RankedTensorType>(ln.getB().getType()).getElementType().isF32()))
      return rewriter.notifyMatchFailure(ln, "not f32");
    Type sum = sumType(add, ln);
    if (failed(setInsertionPoint(rewriter, add, ln)))
      return rewriter.notifyMatchFailure(ln, "no place for the fused op");
    auto fused = SkipLayerNormOp::create(
        rewriter, rewriter.getFusedLoc({add.getLoc(), ln.getLoc()}),
        ln.getY().getType(), sum, add.getA(), add.getB(),
        ln.getScale(), ln.getB(), ln.getAxisAttr(), ln.getEpsilonAttr());
    replaceNormAndAdd(rewriter, ln, fused.getY(), add, fused.getSum());
    ++count;
    return success();
  }
};

struct SkipRmsNorm : CountingPattern<RmsNormOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(RmsNormOp rms,
                                PatternRewriter &rewriter) const override {
    AddOp add = matchResidualAdd(rms.getX());
    if (!add)
      return rewriter.notifyMatchFailure(rms, "input is not a same-shape Add");
    if (rms.getY().getType() != add.getC().getType() ||
        !cast<RankedTensorType>(rms.getScale().getType()).getElementType().isF32())
      return rewriter.notifyMatchFailure(rms, "not f32");
    Type sum = sumType(add, rms);
    if (failed(setInsertionPoint(rewriter, add, rms)))
      return rewriter.notifyMatchFailure(rms, "no place for the fused op");
    auto fused = SkipRmsNormOp::create(
        rewriter, rewriter.getFusedLoc({add.getLoc(), rms.getLoc()}),
        rms.getY().getType(), sum, add.getA(), add.getB(),
        rms.getScale(), rms.getAxisAttr(), rms.getEpsilonAttr());
    replaceNormAndAdd(rewriter, rms, fused.getY(), add, fused.getSum());
    ++count;
    return success();
  }
};

struct LoomFuseSkipNormPass
    : public loom::impl::LoomFuseSkipNormBase<LoomFuseSkipNormPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    int64_t count = 0;
    RewritePatternSet patterns(ctx);
    patterns.add<SkipLayerNorm, SkipRmsNorm>(ctx, count);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numRewritten += count;
  }
};

} // namespace
