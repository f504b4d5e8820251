//===- RecomposeNorms.cpp - loom-recompose-norms --------------------------===//
//
// Recognize LayerNorm, RMSNorm and GroupNorm written out in elementary ops,
// as exporters emit them.
//
// LayerNorm and RMSNorm are anchored on the ReduceMean of the square:
//
//   [LayerNorm only]  mean = ReduceMean(x); t = Sub(x, mean)
//   [RMSNorm]         t = x
//   var = ReduceMean(Pow(t, 2) or Mul(t, t))     (same trailing axes, keepdims)
//   s   = Sqrt(Add(var, eps))
//   n   = Div(t, s), or Mul(t, r) with r = Reciprocal(s) or Div(1, s)
//   y   = Mul(n, scale)       (optional; the scale may also multiply t first)
//   y   = Add(y, bias)        (optional, LayerNorm only)
//
// becomes loom.layer_normalization{axis, epsilon} (Mean and InvStdDev
// absent) or loom.rms_norm{axis, epsilon}. The normalized axes must be the
// trailing ones [axis, rank); scale and bias are constants. A LayerNorm
// scale or bias must hold the normalized shape (leading ones aside) or one
// element; it is given to the op with exactly the normalized shape. An
// absent scale becomes ones. When x - mean has uses outside the pattern the
// LayerNorm cannot absorb it; what follows it is then exactly an RMSNorm of
// x - mean and is rewritten as one. (ReduceMean is the opset-17 op: its axes
// are an attribute; the importer reads newer opsets with opset-17 forms.)
//
// GroupNorm is anchored on the InstanceNormalization of the exported form:
//
//   r = Reshape(x [N, C, ...], [N, G, -1]); i = InstanceNormalization(r,
//   ones[G], zeros[G]); y = Reshape(i, back to x's shape);
//   y = Mul(y, scale[C, 1, ...]); y = Add(y, bias[C, 1, ...])   (optional)
//
// becomes loom.group_norm{num_groups = G, epsilon} with scale and bias as
// [C] constants (the same data when reshaped; ones and zeros when absent).
//
// Every intermediate value must be used only inside the pattern; only f32
// tensors of static shapes are rewritten.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMRECOMPOSENORMS
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

//===----------------------------------------------------------------------===//
// Matching helpers
//===----------------------------------------------------------------------===//

RankedTensorType f32Type(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape() || !t.getElementType().isF32())
    return {};
  return t;
}

/// The only user of `v` when it has exactly one use.
Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.user_begin() : nullptr;
}

/// For a binary op using `v`, the other operand (null when both are `v`).
Value otherOperand(Operation *op, Value v) {
  if (!op || op->getNumOperands() != 2)
    return {};
  Value a = op->getOperand(0), b = op->getOperand(1);
  if (a == v && b != v)
    return b;
  if (b == v && a != v)
    return a;
  return {};
}

/// Whether `v` is an f32 constant (dense or dense_resource) of static shape.
bool isF32Constant(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() && t.getElementType().isF32() &&
         getConstantAttr(v);
}

/// The first normalized axis when `op` averages over trailing axes
/// [axis, rank) with keepdims = 1 (no axes: all of them).
std::optional<int64_t> trailingAxis(ReduceMeanOp op, int64_t rank) {
  if (op.getKeepdims() != 1)
    return std::nullopt;
  std::optional<ArrayRef<int64_t>> axes = op.getAxes();
  if (!axes || axes->empty())
    return 0;
  SmallVector<int64_t> sorted;
  for (int64_t a : *axes) {
    if (a < -rank || a >= rank)
      return std::nullopt;
    sorted.push_back(normalizeAxis(a, rank));
  }
  llvm::sort(sorted);
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != rank - int64_t(sorted.size()) + int64_t(i))
      return std::nullopt;
  return sorted.front();
}

/// `shape` without its leading ones.
ArrayRef<int64_t> stripLeadingOnes(ArrayRef<int64_t> shape) {
  while (!shape.empty() && shape.front() == 1)
    shape = shape.drop_front();
  return shape;
}

/// The attribute of constant `c` as an attribute of type `want`: the same
/// data under the new shape when the element counts match (the caller
/// checked that this keeps the meaning), a splat of its value when it holds
/// one element. Null when neither applies.
ElementsAttr constantAttrAs(Value c, RankedTensorType want) {
  auto t = cast<RankedTensorType>(c.getType());
  Attribute attr = getConstantAttr(c);
  if (t.getElementType() != want.getElementType())
    return {};
  if (t.getNumElements() == want.getNumElements()) {
    if (auto dense = dyn_cast<DenseElementsAttr>(attr))
      return dense.reshape(want);
    if (auto res = dyn_cast<DenseResourceElementsAttr>(attr))
      return DenseResourceElementsAttr::get(want, res.getRawHandle());
  } else if (t.getNumElements() == 1) {
    if (DenseElementsAttr dense = toDense(attr))
      return DenseElementsAttr::get(want, *dense.getValues<APFloat>().begin());
  }
  return {};
}

/// Whether constant `c` can be given as a constant of type `want`.
bool canBeAs(Value c, RankedTensorType want) {
  return !c || c.getType() == want || constantAttrAs(c, want);
}

/// `c` as a constant of type `want` (itself when the type matches; `fill`
/// splat when `c` is null). Only after canBeAs(c, want).
Value constantAs(PatternRewriter &rewriter, Location loc, Value c,
                 RankedTensorType want, float fill) {
  if (!c)
    return ConstantOp::create(rewriter, loc,
                              DenseElementsAttr::get(want, APFloat(fill)));
  if (c.getType() == want)
    return c;
  return ConstantOp::create(rewriter, loc, constantAttrAs(c, want));
}

Location fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return rewriter.getFusedLoc(locs);
}

/// Replaces `root` with `replacement` and erases the other matched ops
/// (now dead), last first.
void replaceMatched(PatternRewriter &rewriter, Operation *root,
                    Value replacement, ArrayRef<Operation *> ops) {
  SmallVector<Operation *> rest;
  for (Operation *op : ops)
    if (op != root)
      rest.push_back(op);
  llvm::sort(rest, [](Operation *a, Operation *b) {
    return b->isBeforeInBlock(a);
  });
  rewriter.replaceOp(root, replacement);
  for (Operation *op : rest)
    if (op->use_empty())
      rewriter.eraseOp(op);
}

template <typename OpTy>
struct CountingPattern : OpRewritePattern<OpTy> {
  CountingPattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern<OpTy>(ctx), count(count) {}
  int64_t &count;
};

//===----------------------------------------------------------------------===//
// LayerNorm and RMSNorm
//===----------------------------------------------------------------------===//

struct LayerOrRmsNorm : CountingPattern<ReduceMeanOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(ReduceMeanOp var,
                                PatternRewriter &rewriter) const override {
    // The square.
    Value sq = var.getData();
    Operation *sqOp = sq.getDefiningOp();
    if (!sqOp || !sq.hasOneUse())
      return rewriter.notifyMatchFailure(var, "input is not a square");
    Value t;
    if (auto pow = dyn_cast<PowOp>(sqOp)) {
      if (isScalarConstant(pow.getY(), 2.0))
        t = pow.getX();
    } else if (auto mul = dyn_cast<MulOp>(sqOp)) {
      if (mul.getA() == mul.getB())
        t = mul.getA();
    }
    RankedTensorType type = t ? f32Type(t) : RankedTensorType();
    if (!type || sq.getType() != type || type.getRank() == 0)
      return rewriter.notifyMatchFailure(var, "input is not an f32 square");
    int64_t rank = type.getRank();
    std::optional<int64_t> axis = trailingAxis(var, rank);
    if (!axis)
      return rewriter.notifyMatchFailure(var, "not over trailing axes");

    // LayerNorm when t = x - ReduceMean(x) over the same axes.
    SmallVector<Operation *> ops = {sqOp, var};
    Value x;
    Operation *centering = nullptr;
    if (auto sub = t.getDefiningOp<SubOp>()) {
      auto mean = sub.getB().getDefiningOp<ReduceMeanOp>();
      if (mean && mean.getData() == sub.getA() && sub.getB().hasOneUse() &&
          sub.getA().getType() == type && trailingAxis(mean, rank) == axis) {
        centering = sub;
      }
    }

    // sqrt(var + eps).
    auto addEps = dyn_cast_or_null<AddOp>(soleUser(var.getReduced()));
    Value epsV = otherOperand(addEps, var.getReduced());
    std::optional<double> eps = epsV ? getScalarConstant(epsV) : std::nullopt;
    if (!eps)
      return rewriter.notifyMatchFailure(var, "not followed by + epsilon");
    auto sqrt = dyn_cast_or_null<SqrtOp>(soleUser(addEps.getC()));
    if (!sqrt)
      return rewriter.notifyMatchFailure(var, "no sqrt(var + eps)");
    ops.append({addEps.getOperation(), sqrt.getOperation()});

    // n = num / s or num · (1 / s).
    Value s = sqrt.getY();
    Operation *user = soleUser(s);
    Operation *normOp = nullptr;
    Value num;
    Operation *recip = nullptr;
    if (auto div = dyn_cast_or_null<DivOp>(user)) {
      if (div.getB() == s && div.getA() != s) {
        if (isScalarConstant(div.getA(), 1.0))
          recip = div;
        else {
          normOp = div;
          num = div.getA();
        }
      }
    } else if (auto rec = dyn_cast_or_null<ReciprocalOp>(user)) {
      recip = rec;
    }
    if (recip) {
      Value r = recip->getResult(0);
      auto mul = dyn_cast_or_null<MulOp>(soleUser(r));
      num = otherOperand(mul, r);
      if (num) {
        normOp = mul;
        ops.push_back(recip);
      }
    }
    if (!normOp)
      return rewriter.notifyMatchFailure(var, "no division by the sqrt");
    ops.push_back(normOp);

    // The numerator: t, or t · scale.
    Value scale, bias;
    Operation *tUser = normOp;
    if (num != t) {
      auto mul = num.getDefiningOp<MulOp>();
      Value c = otherOperand(mul, t);
      if (!mul || !num.hasOneUse() || !c || !isF32Constant(c) ||
          num.getType() != type)
        return rewriter.notifyMatchFailure(var, "the numerator is not t");
      scale = c;
      tUser = mul;
      ops.push_back(mul);
    }
    // A LayerNorm's centered value is used by the square and the numerator
    // only; otherwise this is an RMSNorm of the centered value.
    if (centering)
      for (Operation *u : t.getUsers())
        if (u != sqOp && u != tUser)
          centering = nullptr;
    bool layerNorm = centering != nullptr;
    if (layerNorm) {
      x = centering->getOperand(0);
      ops.push_back(centering->getOperand(1).getDefiningOp());
      ops.push_back(centering);
    } else {
      x = t;
    }

    // A LayerNorm scale or bias acts on the normalized axes as a whole: it
    // has the normalized shape (leading ones aside) or one element.
    auto normShape = type.getShape().drop_front(*axis);
    auto normType = RankedTensorType::get(normShape, type.getElementType());
    auto paramOk = [&](Value c) {
      if (!layerNorm)
        return true;
      auto ct = cast<RankedTensorType>(c.getType());
      bool same = stripLeadingOnes(ct.getShape()) == stripLeadingOnes(normShape);
      return (same || ct.getNumElements() == 1) && canBeAs(c, normType);
    };
    if (scale && !paramOk(scale))
      return rewriter.notifyMatchFailure(var, "the scale is not per element");

    Value cur = normOp->getResult(0);
    if (cur.getType() != type)
      return rewriter.notifyMatchFailure(var, "the normalized value broadcasts");
    // Optional scale, then (LayerNorm) optional bias.
    if (!scale) {
      Operation *u = soleUser(cur);
      Value c = isa_and_nonnull<MulOp>(u) ? otherOperand(u, cur) : Value();
      if (c && isF32Constant(c) && u->getResult(0).getType() == type &&
          paramOk(c)) {
        scale = c;
        ops.push_back(u);
        cur = u->getResult(0);
      }
    }
    if (layerNorm) {
      Operation *u = soleUser(cur);
      Value c = isa_and_nonnull<AddOp>(u) ? otherOperand(u, cur) : Value();
      if (c && isF32Constant(c) && u->getResult(0).getType() == type &&
          paramOk(c)) {
        bias = c;
        ops.push_back(u);
        cur = u->getResult(0);
      }
    }
    Operation *root = cur.getDefiningOp();

    rewriter.setInsertionPoint(root);
    Location loc = fusedLoc(rewriter, ops);
    int64_t axisAttr = *axis - rank;
    Value result;
    if (layerNorm) {
      Value newScale = constantAs(rewriter, loc, scale, normType, 1.0f);
      Value newBias = bias ? constantAs(rewriter, loc, bias, normType, 0.0f)
                           : Value(NoneOp::create(rewriter, loc));
      Type none = rewriter.getNoneType();
      auto ln = LayerNormalizationOp::create(
          rewriter, loc, type, none, none, x, newScale, newBias,
          rewriter.getI64IntegerAttr(axisAttr),
          rewriter.getF32FloatAttr(float(*eps)), rewriter.getI64IntegerAttr(1));
      result = ln.getY();
    } else {
      // rms_norm broadcasts its scale as the Mul did.
      Value newScale =
          scale ? scale : constantAs(rewriter, loc, Value(), normType, 1.0f);
      auto rms = RmsNormOp::create(rewriter, loc, type, x, newScale,
                                   rewriter.getI64IntegerAttr(axisAttr),
                                   rewriter.getF32FloatAttr(float(*eps)));
      result = rms.getY();
    }
    replaceMatched(rewriter, root, result, ops);
    ++count;
    return success();
  }
};

//===----------------------------------------------------------------------===//
// GroupNorm
//===----------------------------------------------------------------------===//

/// Whether `c` is an f32 constant whose every element is `want` (±1e-6).
bool isFilledWith(Value c, float want) {
  DenseElementsAttr dense = toDense(getConstantAttr(c));
  if (!dense || !dense.getElementType().isF32())
    return false;
  for (float v : dense.getValues<float>())
    if (std::fabs(v - want) > 1e-6f)
      return false;
  return true;
}

/// Whether constant `c` broadcasts along the channel axis (1) of a tensor
/// of `rank` only: [C, 1, ...] aligned on axis 1, or one element.
bool isPerChannel(Value c, int64_t rank, int64_t channels) {
  if (!isF32Constant(c))
    return false;
  auto t = cast<RankedTensorType>(c.getType());
  if (t.getNumElements() == 1)
    return true;
  if (t.getRank() > rank)
    return false;
  SmallVector<int64_t> padded(rank - t.getRank(), 1);
  llvm::append_range(padded, t.getShape());
  for (int64_t i = 0; i < rank; ++i)
    if (padded[i] != (i == 1 ? channels : 1))
      return false;
  return true;
}

struct GroupNorm : CountingPattern<InstanceNormalizationOp> {
  using CountingPattern::CountingPattern;
  LogicalResult matchAndRewrite(InstanceNormalizationOp in,
                                PatternRewriter &rewriter) const override {
    auto pre = in.getInput().getDefiningOp<ReshapeOp>();
    if (!pre || !in.getInput().hasOneUse())
      return rewriter.notifyMatchFailure(in, "input is not a reshape");
    Value x = pre.getData();
    RankedTensorType type = f32Type(x);
    RankedTensorType grouped = f32Type(in.getInput());
    if (!type || !grouped || type.getRank() < 2 || grouped.getRank() != 3)
      return rewriter.notifyMatchFailure(in, "not [N, C, ...] -> [N, G, M]");
    int64_t n = type.getDimSize(0), c = type.getDimSize(1);
    int64_t g = grouped.getDimSize(1);
    if (grouped.getDimSize(0) != n || g <= 0 || c % g != 0 ||
        grouped.getDimSize(2) * g * n != type.getNumElements())
      return rewriter.notifyMatchFailure(in, "not a grouping of the channels");
    if (!isFilledWith(in.getScale(), 1.0f) || !isFilledWith(in.getB(), 0.0f))
      return rewriter.notifyMatchFailure(in, "scale/B are not ones/zeros");
    auto post = dyn_cast_or_null<ReshapeOp>(soleUser(in.getOutput()));
    if (!post || post.getReshaped().getType() != type)
      return rewriter.notifyMatchFailure(in, "not reshaped back");
    SmallVector<Operation *> ops = {pre, in, post};
    Value cur = post.getReshaped();
    Value scale, bias;
    if (Operation *u = soleUser(cur); isa_and_nonnull<MulOp>(u)) {
      Value k = otherOperand(u, cur);
      if (k && isPerChannel(k, type.getRank(), c) &&
          u->getResult(0).getType() == type) {
        scale = k;
        ops.push_back(u);
        cur = u->getResult(0);
      }
    }
    if (Operation *u = soleUser(cur); isa_and_nonnull<AddOp>(u)) {
      Value k = otherOperand(u, cur);
      if (k && isPerChannel(k, type.getRank(), c) &&
          u->getResult(0).getType() == type) {
        bias = k;
        ops.push_back(u);
        cur = u->getResult(0);
      }
    }
    Operation *root = cur.getDefiningOp();
    auto chanType = RankedTensorType::get({c}, type.getElementType());
    if (!canBeAs(scale, chanType) || !canBeAs(bias, chanType))
      return rewriter.notifyMatchFailure(in, "cannot reshape scale/bias");
    rewriter.setInsertionPoint(root);
    Location loc = fusedLoc(rewriter, ops);
    Value newScale = constantAs(rewriter, loc, scale, chanType, 1.0f);
    Value newBias = constantAs(rewriter, loc, bias, chanType, 0.0f);
    auto gn = GroupNormOp::create(rewriter, loc, type, x, newScale, newBias,
                                  rewriter.getI64IntegerAttr(g),
                                  in.getEpsilonAttr());
    replaceMatched(rewriter, root, gn.getY(), ops);
    ++count;
    return success();
  }
};

struct LoomRecomposeNormsPass
    : public loom::impl::LoomRecomposeNormsBase<LoomRecomposeNormsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    int64_t count = 0;
    RewritePatternSet patterns(ctx);
    patterns.add<LayerOrRmsNorm, GroupNorm>(ctx, count);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numRewritten += count;
  }
};

} // namespace
