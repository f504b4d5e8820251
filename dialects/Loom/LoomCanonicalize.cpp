//===- LoomCanonicalize.cpp - Canonicalization patterns -------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace loom;

namespace {
/// Dropout at inference is the identity: its output is its input and its
/// optional mask is all true. (Training mode is an input that a compiler for
/// inference folds to false; a Dropout whose training_mode is not a constant
/// false is left alone.)
struct DropoutAtInference : OpRewritePattern<DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutOp op,
                                PatternRewriter &rewriter) const override {
    if (!isNone(op.getTrainingMode())) {
      auto mode = getConstantInts(op.getTrainingMode());
      if (!mode || mode->size() != 1 || (*mode)[0] != 0)
        return rewriter.notifyMatchFailure(op, "training_mode is not false");
    }
    if (op.getData().getType() != op.getOutput().getType())
      return rewriter.notifyMatchFailure(op, "output type differs from input");
    Value mask = op.getMask();
    Value maskValue = mask;
    if (!isNone(mask)) {
      auto t = dyn_cast<RankedTensorType>(mask.getType());
      if (!t || !t.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "mask shape is not static");
      maskValue = ConstantOp::create(
          rewriter, op.getLoc(),
          DenseElementsAttr::get(t, rewriter.getBoolAttr(true)));
    }
    rewriter.replaceOp(op, {op.getData(), maskValue});
    return success();
  }
};

/// An If whose condition is a constant is replaced by the branch it takes.
struct InlineConstantIf : OpRewritePattern<IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(IfOp op,
                                PatternRewriter &rewriter) const override {
    auto cond = getConstantInts(op.getCond());
    if (!cond || cond->size() != 1)
      return rewriter.notifyMatchFailure(op, "condition is not a constant");
    Region &taken = (*cond)[0] ? op.getThenBranch() : op.getElseBranch();
    Block &block = taken.front();
    auto yield = cast<YieldOp>(block.getTerminator());
    SmallVector<Value> results(yield.getOperands());
    // A branch may yield a more precise type than the If declares: loom ops
    // accept it, any other user (e.g. func.return) must see the same type.
    for (auto [r, v] : llvm::zip(op.getResults(), results))
      if (r.getType() != v.getType())
        for (Operation *user : r.getUsers())
          if (!isa<LoomDialect>(user->getDialect()))
            return rewriter.notifyMatchFailure(op, "result type would change");
    rewriter.inlineBlockBefore(&block, op);
    rewriter.eraseOp(yield);
    rewriter.replaceOp(op, results);
    return success();
  }
};
} // namespace

void DropoutOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<DropoutAtInference>(context);
}

void IfOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                       MLIRContext *context) {
  results.add<InlineConstantIf>(context);
}
