//===- FoldTranspose.cpp - loom-fold-transpose ----------------------------===//
//
// Fold Transposes into MatMul/Gemm and merge consecutive Transposes/Reshapes.
//
// - MatMul / fused_matmul whose A or B is a Transpose swapping the last two
//   dimensions (rank >= 2, f32) -> loom.fused_matmul reading the
//   Transpose's input with trans_a / trans_b toggled (the Transpose stays
//   only when used elsewhere).
// - Gemm / fused_gemm whose A or B is a 2-D Transpose ([1, 0]) -> transA /
//   transB toggled.
// - Transpose(Transpose(x)) -> one Transpose with the composed perm, or x
//   when the composition is the identity.
// - Reshape(Reshape(x)) -> Reshape(x) to the outer (static) shape, or x when
//   that is x's shape.
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
#define GEN_PASS_DEF_LOOMFOLDTRANSPOSE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

/// The permutation of a Transpose (absent: the dimensions reversed); empty
/// when the input is not ranked.
SmallVector<int64_t> permOf(TransposeOp t) {
  auto type = dyn_cast<RankedTensorType>(t.getData().getType());
  if (!type)
    return {};
  if (std::optional<ArrayRef<int64_t>> p = t.getPerm())
    return SmallVector<int64_t>(p->begin(), p->end());
  SmallVector<int64_t> perm;
  for (int64_t i = type.getRank() - 1; i >= 0; --i)
    perm.push_back(i);
  return perm;
}

bool isValidPerm(ArrayRef<int64_t> perm) {
  SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(perm.size()) || seen[p])
      return false;
    seen[p] = true;
  }
  return true;
}

/// The Transpose defining `v` when it swaps the last two of >= 2 dimensions
/// and keeps the others in place.
TransposeOp lastTwoSwap(Value v) {
  auto t = v.getDefiningOp<TransposeOp>();
  if (!t)
    return {};
  SmallVector<int64_t> perm = permOf(t);
  int64_t r = perm.size();
  if (r < 2 || int64_t(cast<RankedTensorType>(t.getData().getType()).getRank()) != r)
    return {};
  for (int64_t i = 0; i < r - 2; ++i)
    if (perm[i] != i)
      return {};
  if (perm[r - 2] != r - 1 || perm[r - 1] != r - 2)
    return {};
  return t;
}

bool isF32(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getElementType().isF32();
}

/// Erases `op` when it has no use left.
void eraseIfDead(PatternRewriter &rewriter, Operation *op) {
  if (op && op->use_empty())
    rewriter.eraseOp(op);
}

/// MatMul / fused_matmul with a transposed operand.
struct MatMulTransposePattern : RewritePattern {
  MatMulTransposePattern(MLIRContext *ctx, int64_t &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), count(count) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    auto mm = dyn_cast<MatMulOp>(op);
    auto fm = dyn_cast<FusedMatMulOp>(op);
    if (!mm && !fm)
      return failure();
    Value a = op->getOperand(0), b = op->getOperand(1);
    if (!isF32(a) || !isF32(b) || !isF32(op->getResult(0)))
      return failure();
    TransposeOp ta = lastTwoSwap(a), tb = lastTwoSwap(b);
    if (!ta && !tb)
      return failure();
    SmallVector<Location> locs{op->getLoc()};
    if (ta)
      locs.push_back(ta.getLoc());
    if (tb && tb != ta)
      locs.push_back(tb.getLoc());
    Location loc = rewriter.getFusedLoc(locs);
    Value newA = ta ? ta.getData() : a, newB = tb ? tb.getData() : b;
    if (fm) {
      rewriter.modifyOpInPlace(fm, [&] {
        fm->setOperand(0, newA);
        fm->setOperand(1, newB);
        if (ta)
          fm.setTransA(fm.getTransA() ? 0 : 1);
        if (tb)
          fm.setTransB(fm.getTransB() ? 0 : 1);
        fm->setLoc(loc);
      });
    } else {
      rewriter.setInsertionPoint(mm);
      Value none = NoneOp::create(rewriter, mm.getLoc());
      auto fused = FusedMatMulOp::create(
          rewriter, loc, TypeRange{mm.getType()}, ValueRange{newA, newB, none},
          ArrayRef<NamedAttribute>{});
      if (ta)
        fused.setTransA(1);
      if (tb)
        fused.setTransB(1);
      rewriter.replaceOp(mm, fused.getY());
    }
    eraseIfDead(rewriter, ta);
    if (tb != ta)
      eraseIfDead(rewriter, tb);
    ++count;
    return success();
  }

  int64_t &count;
};

/// Gemm / fused_gemm with a 2-D transposed operand.
struct GemmTransposePattern : RewritePattern {
  GemmTransposePattern(MLIRContext *ctx, int64_t &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), count(count) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<GemmOp, FusedGemmOp>(op))
      return failure();
    TransposeOp t[2];
    for (int i = 0; i < 2; ++i) {
      t[i] = lastTwoSwap(op->getOperand(i));
      if (t[i] && cast<RankedTensorType>(t[i].getData().getType()).getRank() != 2)
        t[i] = {};
    }
    if (!t[0] && !t[1])
      return failure();
    SmallVector<Location> locs{op->getLoc()};
    for (int i = 0; i < 2; ++i)
      if (t[i] && (i == 0 || t[1] != t[0]))
        locs.push_back(t[i].getLoc());
    Location loc = rewriter.getFusedLoc(locs);
    const char *names[2] = {"transA", "transB"};
    rewriter.modifyOpInPlace(op, [&] {
      for (int i = 0; i < 2; ++i) {
        if (!t[i])
          continue;
        op->setOperand(i, t[i].getData());
        auto attr = op->getAttrOfType<IntegerAttr>(names[i]);
        int64_t v = attr ? attr.getInt() : 0;
        op->setAttr(names[i], rewriter.getI64IntegerAttr(v ? 0 : 1));
      }
      op->setLoc(loc);
    });
    eraseIfDead(rewriter, t[0]);
    if (t[1] != t[0])
      eraseIfDead(rewriter, t[1]);
    ++count;
    return success();
  }

  int64_t &count;
};

/// Transpose(Transpose(x)).
struct TransposeTransposePattern : OpRewritePattern<TransposeOp> {
  TransposeTransposePattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(TransposeOp outer,
                                PatternRewriter &rewriter) const override {
    auto inner = outer.getData().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> p1 = permOf(inner), p2 = permOf(outer);
    if (p1.empty() || p1.size() != p2.size() || !isValidPerm(p1) ||
        !isValidPerm(p2))
      return failure();
    // outer[i] = inner[p2[i]] = x[p1[p2[i]]].
    SmallVector<int64_t> perm;
    bool identity = true;
    for (size_t i = 0; i < p2.size(); ++i) {
      perm.push_back(p1[p2[i]]);
      identity &= perm.back() == int64_t(i);
    }
    Value x = inner.getData();
    if (identity) {
      if (x.getType() != outer.getType())
        return failure();
      rewriter.replaceOp(outer, x);
    } else {
      Location loc = rewriter.getFusedLoc({inner.getLoc(), outer.getLoc()});
      auto merged = TransposeOp::create(rewriter, loc, outer.getType(), x,
                                        rewriter.getDenseI64ArrayAttr(perm));
      rewriter.replaceOp(outer, merged.getTransposed());
    }
    eraseIfDead(rewriter, inner);
    ++count;
    return success();
  }

  int64_t &count;
};

/// Reshape(Reshape(x)).
struct ReshapeReshapePattern : OpRewritePattern<ReshapeOp> {
  ReshapeReshapePattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(ReshapeOp outer,
                                PatternRewriter &rewriter) const override {
    auto inner = outer.getData().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    auto type = dyn_cast<RankedTensorType>(outer.getType());
    // A zero in the new shape would mean "copy" (allowzero = 0): static,
    // non-empty shapes only.
    if (!type || !type.hasStaticShape() || llvm::is_contained(type.getShape(), 0))
      return failure();
    Value x = inner.getData();
    if (x.getType() == type) {
      rewriter.replaceOp(outer, x);
    } else {
      Location loc = rewriter.getFusedLoc({inner.getLoc(), outer.getLoc()});
      auto shapeType =
          RankedTensorType::get({type.getRank()}, rewriter.getI64Type());
      Value shape = ConstantOp::create(
          rewriter, outer.getShape().getLoc(),
          DenseElementsAttr::get(shapeType, type.getShape()));
      auto merged = ReshapeOp::create(rewriter, loc, TypeRange{type},
                                      ValueRange{x, shape},
                                      ArrayRef<NamedAttribute>{});
      rewriter.replaceOp(outer, merged.getReshaped());
    }
    eraseIfDead(rewriter, inner);
    ++count;
    return success();
  }

  int64_t &count;
};

struct LoomFoldTransposePass : public loom::impl::LoomFoldTransposeBase<LoomFoldTransposePass> {
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<MatMulTransposePattern, GemmTransposePattern,
                 TransposeTransposePattern, ReshapeReshapePattern>(
        &getContext(), count);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
    numRewritten += count;
  }
};

} // namespace
