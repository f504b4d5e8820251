//===- RecomposeActivations.cpp - loom-recompose-activations --------------===//
//
// Recognize GELU (erf and tanh forms), SiLU and HardSwish written out in
// elementary ops, as exporters emit them:
//
//   GELU erf:  x · 0.5 · (1 + Erf(x / √2))   (x / √2 also as x · 1/√2; the
//              three factors x, 0.5 and (1 + erf) in any association and
//              operand order)                          -> loom.gelu
//   GELU tanh: 0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))
//              (x³ as Pow(x, 3), x · (x · x) or (x · x) · x)
//                                                      -> loom.gelu "tanh"
//   SiLU:      x · Sigmoid(x)                           -> loom.silu
//   HardSwish: x · HardSigmoid(x) (alpha 1/6, beta 1/2), or
//              x · Clip(x + 3, 0, 6) / 6 (Div by 6 or Mul by 1/6, applied
//              to the product or to the Clip)           -> loom.hard_swish
//
// Every constant is checked (relative tolerance 1e-4), constants may be
// scalars or one-element tensors, and every intermediate value must be used
// only inside the pattern. Each pattern is anchored on its transcendental
// op (Erf, Tanh, Sigmoid, HardSigmoid, Clip) and walks to the root from
// there.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMRECOMPOSEACTIVATIONS
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

//===----------------------------------------------------------------------===//
// Matching helpers
//===----------------------------------------------------------------------===//

/// Whether `v` is an f32 ranked tensor with a static shape.
bool isF32(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() && t.getElementType().isF32();
}

/// The only user of `v` when it has exactly one use.
Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.user_begin() : nullptr;
}

/// For a binary op using `v`, the other operand (null when both are `v`).
Value otherOperand(Operation *op, Value v) {
  if (op->getNumOperands() != 2)
    return {};
  Value a = op->getOperand(0), b = op->getOperand(1);
  if (a == v && b != v)
    return b;
  if (b == v && a != v)
    return a;
  return {};
}

/// Whether `op` is a Mul of `x` and a constant `c` (either order).
bool isMulOfConst(Operation *op, Value x, double c) {
  auto mul = dyn_cast_or_null<MulOp>(op);
  if (!mul)
    return false;
  return (mul.getA() == x && isScalarConstant(mul.getB(), c)) ||
         (mul.getB() == x && isScalarConstant(mul.getA(), c));
}

/// Finds the root of the product x · c · e, with `c` a constant, in any
/// association and operand order: ((x · e) · c), ((c · e) · x) or
/// ((x · c) · e). `e` must have a single use; the Mul ops are appended to
/// `ops`. Returns the root Mul or null.
Operation *matchProductWithConst(Value e, Value x, double c,
                                 SmallVectorImpl<Operation *> &ops) {
  auto m1 = dyn_cast_or_null<MulOp>(soleUser(e));
  if (!m1)
    return nullptr;
  Value other = otherOperand(m1, e);
  if (!other)
    return nullptr;
  if (other == x || isScalarConstant(other, c)) {
    // (x · e) · c or (c · e) · x.
    auto m2 = dyn_cast_or_null<MulOp>(soleUser(m1.getC()));
    if (!m2)
      return nullptr;
    Value last = otherOperand(m2, m1.getC());
    if (!last)
      return nullptr;
    bool ok = other == x ? isScalarConstant(last, c) : last == x;
    if (!ok)
      return nullptr;
    ops.push_back(m1);
    ops.push_back(m2);
    return m2;
  }
  // (x · c) · e.
  Operation *inner = other.getDefiningOp();
  if (!inner || !other.hasOneUse() || !isMulOfConst(inner, x, c))
    return nullptr;
  ops.push_back(inner);
  ops.push_back(m1);
  return m1;
}

/// If the only user of `v` is Add(v, 1) (either order), returns it.
AddOp matchAddOne(Value v) {
  auto add = dyn_cast_or_null<AddOp>(soleUser(v));
  if (!add)
    return {};
  Value other = otherOperand(add, v);
  if (!other || !isScalarConstant(other, 1.0))
    return {};
  return add;
}

/// Replaces `root` with `replacement` and erases the other matched ops
/// (now dead), last first.
void replaceMatched(PatternRewriter &rewriter, Operation *root,
                    Value replacement, ArrayRef<Operation *> ops) {
  rewriter.replaceOp(root, replacement);
  for (Operation *op : llvm::reverse(ops))
    if (op != root && op->use_empty())
      rewriter.eraseOp(op);
}

Location fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return rewriter.getFusedLoc(locs);
}

/// Common checks of a match: x and the root are f32 of one static type.
bool typesOk(Value x, Operation *root) {
  return isF32(x) && root->getNumResults() == 1 &&
         root->getResult(0).getType() == x.getType();
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct CountingPattern : OpRewritePattern<OpTy> {
  CountingPattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern<OpTy>(ctx), count(count) {}
  int64_t &count;
};

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;

/// x · 0.5 · (1 + Erf(x / √2)).
struct GeluErf : CountingPattern<ErfOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(ErfOp erf,
                                PatternRewriter &rewriter) const override {
    Value u = erf.getInput();
    Operation *scaleOp = u.getDefiningOp();
    if (!scaleOp || !u.hasOneUse())
      return rewriter.notifyMatchFailure(erf, "input is not x / √2");
    Value x;
    if (auto div = dyn_cast<DivOp>(scaleOp)) {
      if (isScalarConstant(div.getB(), kSqrt2))
        x = div.getA();
    } else if (auto mul = dyn_cast<MulOp>(scaleOp)) {
      if (isScalarConstant(mul.getB(), 1.0 / kSqrt2))
        x = mul.getA();
      else if (isScalarConstant(mul.getA(), 1.0 / kSqrt2))
        x = mul.getB();
    }
    if (!x)
      return rewriter.notifyMatchFailure(erf, "input is not x / √2");
    AddOp add = matchAddOne(erf.getOutput());
    if (!add)
      return rewriter.notifyMatchFailure(erf, "not followed by + 1");
    SmallVector<Operation *> ops = {scaleOp, erf, add};
    Operation *root = matchProductWithConst(add.getC(), x, 0.5, ops);
    if (!root || !typesOk(x, root))
      return rewriter.notifyMatchFailure(erf, "not x · 0.5 · (1 + erf)");
    auto gelu = GeluOp::create(rewriter, fusedLoc(rewriter, ops),
                               x.getType(), x, rewriter.getStringAttr("none"));
    replaceMatched(rewriter, root, gelu.getY(), ops);
    ++count;
    return success();
  }
};

/// Whether `v` is x³: Pow(x, 3), x · (x · x) or (x · x) · x, with every
/// intermediate single-use. Appends the ops to `ops`.
bool matchCube(Value v, Value x, SmallVectorImpl<Operation *> &ops) {
  if (!v.hasOneUse())
    return false;
  Operation *def = v.getDefiningOp();
  if (auto pow = dyn_cast_or_null<PowOp>(def)) {
    if (pow.getX() != x || !isScalarConstant(pow.getY(), 3.0))
      return false;
    ops.push_back(pow);
    return true;
  }
  auto mul = dyn_cast_or_null<MulOp>(def);
  if (!mul)
    return false;
  Value sq = otherOperand(mul, x);
  if (!sq)
    return false;
  auto sqMul = sq.getDefiningOp<MulOp>();
  if (!sqMul || !sq.hasOneUse() || sqMul.getA() != x || sqMul.getB() != x)
    return false;
  ops.push_back(sqMul);
  ops.push_back(mul);
  return true;
}

/// 0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³))).
struct GeluTanh : CountingPattern<TanhOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(TanhOp tanh,
                                PatternRewriter &rewriter) const override {
    // √(2/π) · inner.
    Value v = tanh.getInput();
    auto scale = v.getDefiningOp<MulOp>();
    if (!scale || !v.hasOneUse())
      return rewriter.notifyMatchFailure(tanh, "input is not a product");
    Value inner;
    if (isScalarConstant(scale.getA(), kSqrt2OverPi))
      inner = scale.getB();
    else if (isScalarConstant(scale.getB(), kSqrt2OverPi))
      inner = scale.getA();
    auto sum = inner ? inner.getDefiningOp<AddOp>() : AddOp();
    if (!sum || !inner.hasOneUse())
      return rewriter.notifyMatchFailure(tanh, "input is not √(2/π) · (…)");
    // inner = x + 0.044715 · x³ (either order).
    SmallVector<Operation *> ops;
    Value x;
    for (auto [cand, term] : {std::pair(sum.getA(), sum.getB()),
                              std::pair(sum.getB(), sum.getA())}) {
      auto kappa = term.getDefiningOp<MulOp>();
      if (!kappa || !term.hasOneUse())
        continue;
      Value cube;
      if (isScalarConstant(kappa.getA(), 0.044715))
        cube = kappa.getB();
      else if (isScalarConstant(kappa.getB(), 0.044715))
        cube = kappa.getA();
      SmallVector<Operation *> cubeOps;
      if (!cube || !matchCube(cube, cand, cubeOps))
        continue;
      x = cand;
      ops = cubeOps;
      ops.push_back(kappa);
      break;
    }
    if (!x)
      return rewriter.notifyMatchFailure(tanh, "not x + 0.044715 · x³");
    AddOp add = matchAddOne(tanh.getOutput());
    if (!add)
      return rewriter.notifyMatchFailure(tanh, "not followed by + 1");
    ops.append({sum.getOperation(), scale.getOperation(), tanh.getOperation(),
                add.getOperation()});
    Operation *root = matchProductWithConst(add.getC(), x, 0.5, ops);
    if (!root || !typesOk(x, root))
      return rewriter.notifyMatchFailure(tanh, "not 0.5 · x · (1 + tanh)");
    auto gelu = GeluOp::create(rewriter, fusedLoc(rewriter, ops),
                               x.getType(), x, rewriter.getStringAttr("tanh"));
    replaceMatched(rewriter, root, gelu.getY(), ops);
    ++count;
    return success();
  }
};

/// x · Sigmoid(x).
struct Silu : CountingPattern<SigmoidOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(SigmoidOp sig,
                                PatternRewriter &rewriter) const override {
    Value x = sig.getX();
    auto mul = dyn_cast_or_null<MulOp>(soleUser(sig.getY()));
    if (!mul || otherOperand(mul, sig.getY()) != x || !typesOk(x, mul))
      return rewriter.notifyMatchFailure(sig, "not x · sigmoid(x)");
    SmallVector<Operation *> ops = {sig, mul};
    auto silu = SiluOp::create(rewriter, fusedLoc(rewriter, ops), x.getType(), x);
    replaceMatched(rewriter, mul, silu.getY(), ops);
    ++count;
    return success();
  }
};

/// x · HardSigmoid(x) with alpha 1/6, beta 1/2.
struct HardSwishFromHardSigmoid : CountingPattern<HardSigmoidOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(HardSigmoidOp hs,
                                PatternRewriter &rewriter) const override {
    auto near = [](double got, double want) {
      return std::fabs(got - want) <= 1e-4 * std::fabs(want);
    };
    if (!near(hs.getAlpha().convertToDouble(), 1.0 / 6.0) ||
        !near(hs.getBeta().convertToDouble(), 0.5))
      return rewriter.notifyMatchFailure(hs, "alpha/beta are not 1/6, 1/2");
    Value x = hs.getX();
    auto mul = dyn_cast_or_null<MulOp>(soleUser(hs.getY()));
    if (!mul || otherOperand(mul, hs.getY()) != x || !typesOk(x, mul))
      return rewriter.notifyMatchFailure(hs, "not x · hard_sigmoid(x)");
    SmallVector<Operation *> ops = {hs, mul};
    auto hsw = HardSwishOp::create(rewriter, fusedLoc(rewriter, ops),
                                   x.getType(), x);
    replaceMatched(rewriter, mul, hsw.getY(), ops);
    ++count;
    return success();
  }
};

/// If the only user of `v` divides it by 6 (Div(v, 6), Mul(v, 1/6) or
/// Mul(1/6, v)), returns that op.
Operation *matchDivBy6(Value v) {
  Operation *user = soleUser(v);
  if (auto div = dyn_cast_or_null<DivOp>(user))
    return div.getA() == v && div.getB() != v && isScalarConstant(div.getB(), 6.0)
               ? user
               : nullptr;
  if (auto mul = dyn_cast_or_null<MulOp>(user)) {
    Value other = otherOperand(mul, v);
    return other && isScalarConstant(other, 1.0 / 6.0) ? user : nullptr;
  }
  return nullptr;
}

/// x · Clip(x + 3, 0, 6) / 6, the division applied to the product or to
/// the Clip.
struct HardSwishFromClip : CountingPattern<ClipOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(ClipOp clip,
                                PatternRewriter &rewriter) const override {
    if (isNone(clip.getMin()) || isNone(clip.getMax()) ||
        !isScalarConstant(clip.getMin(), 0.0) || !isScalarConstant(clip.getMax(), 6.0))
      return rewriter.notifyMatchFailure(clip, "bounds are not 0 and 6");
    Value in = clip.getInput();
    auto add = in.getDefiningOp<AddOp>();
    if (!add || !in.hasOneUse())
      return rewriter.notifyMatchFailure(clip, "input is not x + 3");
    Value x;
    if (isScalarConstant(add.getB(), 3.0))
      x = add.getA();
    else if (isScalarConstant(add.getA(), 3.0))
      x = add.getB();
    if (!x)
      return rewriter.notifyMatchFailure(clip, "input is not x + 3");
    Value c = clip.getOutput();
    Operation *user = soleUser(c);
    if (!user)
      return rewriter.notifyMatchFailure(clip, "clip has several uses");
    SmallVector<Operation *> ops = {add, clip};
    Operation *root = nullptr;
    if (Operation *div = matchDivBy6(c)) {
      // x · (clip / 6).
      auto mul = dyn_cast_or_null<MulOp>(soleUser(div->getResult(0)));
      if (mul && otherOperand(mul, div->getResult(0)) == x) {
        ops.append({div, mul.getOperation()});
        root = mul;
      }
    } else if (auto mul = dyn_cast<MulOp>(user);
               mul && otherOperand(mul, c) == x) {
      // (x · clip) / 6.
      if (Operation *div = matchDivBy6(mul.getC())) {
        ops.append({mul.getOperation(), div});
        root = div;
      }
    }
    if (!root || !typesOk(x, root))
      return rewriter.notifyMatchFailure(clip, "not x · clip(x + 3, 0, 6) / 6");
    auto hsw = HardSwishOp::create(rewriter, fusedLoc(rewriter, ops),
                                   x.getType(), x);
    replaceMatched(rewriter, root, hsw.getY(), ops);
    ++count;
    return success();
  }
};

struct LoomRecomposeActivationsPass
    : public loom::impl::LoomRecomposeActivationsBase<
          LoomRecomposeActivationsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    int64_t count = 0;
    RewritePatternSet patterns(ctx);
    patterns.add<GeluErf, GeluTanh, Silu, HardSwishFromHardSigmoid,
                 HardSwishFromClip>(ctx, count);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numRewritten += count;
  }
};

} // namespace
