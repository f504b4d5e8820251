//===- FoldConstantArith.cpp - loom-fold-constant-arith -------------------===//
//
// Fold Add/Mul by constants into Conv/Gemm/MatMul bias and weights.
//
// `producer + c` / `c + producer` and `producer · c` / `c · producer` where
// the producer (Conv, ConvTranspose, Gemm, MatMul, or their fused forms with
// activation "none") has constant weights and no other use, and the
// constant c varies along the producer's output channels only (Conv NCHW:
// [C,1,1], [1,C,1,1], ...; Gemm/MatMul: [N], [1,N]; a scalar or one-element
// tensor broadcasts to every channel). An Add goes into the bias (created
// when absent; a MatMul becomes loom.fused_matmul), a Mul scales the weights
// per output channel and the bias. A Gemm's new bias includes beta (then 1).
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"
#include "Loom/Transforms/ProducerFold.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFOLDCONSTANTARITH
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom


using namespace loom;

namespace {
using namespace loom::producer_fold;

template <typename OpTy> struct FoldArithPattern : OpRewritePattern<OpTy> {
  FoldArithPattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern<OpTy>(ctx), count(count) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isMul = std::is_same_v<OpTy, MulOp>;
    for (int i = 0; i < 2; ++i) {
      Value y = op->getOperand(i), c = op->getOperand(1 - i);
      Operation *producer = y.getDefiningOp();
      if (!producer || !y.hasOneUse() || y == c ||
          op.getType() != y.getType())
        continue;
      std::optional<SmallVector<double>> values = perChannelValues(c, producer);
      if (!values)
        continue;
      LogicalResult folded =
          isMul ? foldChannelAffine(rewriter, producer, *values, {}, op)
                : foldChannelAffine(rewriter, producer, {}, *values, op);
      if (succeeded(folded)) {
        ++count;
        return success();
      }
    }
    return failure();
  }

  int64_t &count;
};

struct LoomFoldConstantArithPass : public loom::impl::LoomFoldConstantArithBase<LoomFoldConstantArithPass> {
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldArithPattern<AddOp>, FoldArithPattern<MulOp>>(
        &getContext(), count);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
    numRewritten += count;
  }
};

} // namespace
