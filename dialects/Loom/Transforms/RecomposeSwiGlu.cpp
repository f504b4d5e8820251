//===- RecomposeSwiGlu.cpp - loom-recompose-swiglu ------------------------===//
//
// Recognize SwiGLU, the gated MLP of Llama-style models:
//
//   Mul(SiLU(MatMul(x, W1)), MatMul(x, W3))   (either operand order)
//
// with SiLU as loom.silu or x · Sigmoid(x) (either order), W1 and W3
// constant 2-D f32 tensors of one type, and every intermediate value used
// only inside the pattern, becomes loom.swiglu(x, W1, W3). A MatMul may also
// be a loom.fused_matmul that is a plain MatMul (no bias, no transposes,
// alpha 1, no activation).
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
#define GEN_PASS_DEF_LOOMRECOMPOSESWIGLU
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

/// `v` = x @ W with W a constant 2-D f32 tensor: returns {x, W}.
std::optional<std::pair<Value, Value>> matchMatMul(Value v) {
  Operation *def = v.getDefiningOp();
  Value x, w;
  if (auto mm = dyn_cast_or_null<MatMulOp>(def)) {
    x = mm.getA();
    w = mm.getB();
  } else if (auto fm = dyn_cast_or_null<FusedMatMulOp>(def)) {
    if (!isNone(fm.getBias()) || fm.getTransA() || fm.getTransB() ||
        fm.getAlpha().convertToDouble() != 1.0 || fm.getActivation() != "none")
      return std::nullopt;
    x = fm.getA();
    w = fm.getB();
  } else {
    return std::nullopt;
  }
  auto wt = dyn_cast<RankedTensorType>(w.getType());
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  if (!wt || !xt || wt.getRank() != 2 || !wt.hasStaticShape() ||
      !xt.hasStaticShape() || xt.getRank() < 1 ||
      !wt.getElementType().isF32() || !xt.getElementType().isF32() ||
      !getConstantAttr(w))
    return std::nullopt;
  return std::make_pair(x, w);
}

/// `v` = silu(h), as loom.silu or h · Sigmoid(h) (either order). Returns h
/// and appends the ops to `ops`; h must be used by the SiLU only.
Value matchSilu(Value v, SmallVectorImpl<Operation *> &ops) {
  if (!v.hasOneUse())
    return {};
  Operation *def = v.getDefiningOp();
  if (auto silu = dyn_cast_or_null<SiluOp>(def)) {
    if (!silu.getX().hasOneUse())
      return {};
    ops.push_back(silu);
    return silu.getX();
  }
  auto mul = dyn_cast_or_null<MulOp>(def);
  if (!mul)
    return {};
  for (auto [h, s] : {std::pair(mul.getA(), mul.getB()),
                      std::pair(mul.getB(), mul.getA())}) {
    auto sig = s.getDefiningOp<SigmoidOp>();
    if (!sig || sig.getX() != h || !s.hasOneUse())
      continue;
    // h feeds the Sigmoid and the Mul, nothing else.
    for (Operation *u : h.getUsers())
      if (u != sig && u != mul)
        return {};
    ops.append({sig.getOperation(), mul.getOperation()});
    return h;
  }
  return {};
}

struct SwiGlu : OpRewritePattern<MulOp> {
  SwiGlu(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern<MulOp>(ctx), count(count) {}
  int64_t &count;

  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (auto [gate, up] : {std::pair(mul.getA(), mul.getB()),
                            std::pair(mul.getB(), mul.getA())}) {
      SmallVector<Operation *> ops;
      Value h = matchSilu(gate, ops);
      if (!h || !up.hasOneUse() || gate == up)
        continue;
      auto gateMm = matchMatMul(h);
      auto upMm = matchMatMul(up);
      if (!gateMm || !upMm || gateMm->first != upMm->first ||
          gateMm->second.getType() != upMm->second.getType())
        continue;
      Value x = gateMm->first, w1 = gateMm->second, w3 = upMm->second;
      if (mul.getC().getType() != up.getType() ||
          h.getType() != up.getType())
        continue;
      SmallVector<Operation *> all = {h.getDefiningOp(), up.getDefiningOp()};
      all.append(ops);
      all.push_back(mul);
      SmallVector<Location> locs;
      for (Operation *op : all)
        locs.push_back(op->getLoc());
      auto swiglu = SwiGluOp::create(rewriter, rewriter.getFusedLoc(locs),
                                     mul.getC().getType(), x, w1, w3);
      rewriter.replaceOp(mul, swiglu.getY());
      for (Operation *op : llvm::reverse(ops))
        rewriter.eraseOp(op);
      rewriter.eraseOp(up.getDefiningOp());
      rewriter.eraseOp(h.getDefiningOp());
      ++count;
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not silu(x @ W1) · (x @ W3)");
  }
};

struct LoomRecomposeSwiGluPass
    : public loom::impl::LoomRecomposeSwiGluBase<LoomRecomposeSwiGluPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    int64_t count = 0;
    RewritePatternSet patterns(ctx);
    patterns.add<SwiGlu>(ctx, count);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numRewritten += count;
  }
};

} // namespace
