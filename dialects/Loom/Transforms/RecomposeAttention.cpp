//===- RecomposeAttention.cpp - loom-recompose-attention ------------------===//
//
// Recognize scaled dot-product attention, including grouped-query attention.
//
// The pattern is rooted at the final MatMul(P, V) and walks up:
//
//   P      = Softmax(x, axis = last)
//   x      = Add(s, mask) | Add(mask, s) | s
//   s      = scale ops around scores: Mul(·, c), Mul(c, ·), Div(·, c)
//   scores = MatMul(Q', Kt') | fused_matmul(Q', K', trans_b) (no bias, no
//            activation; alpha folds into the scale)
//   Q'     = scale ops around Q
//   Kt'    = scale ops and Transposes swapping the last two dims around K
//            (each swap flips `k_transposed`)
//   K, V   = optionally HF's repeat_kv of the unrepeated tensor:
//            Reshape(Expand(Unsqueeze(x, [2]) | Reshape(x, [B,H,1,S,D]),
//                           [B,H,n,S,D]), [B,H·n,S,D])
//
// c is a constant f32 scalar or one-element tensor. Every intermediate must
// have no use outside the pattern; a Transpose of K with other uses stays
// (its input is read and it is not part of the fused op), scale ops with
// other uses are not absorbed (the scaled value is read instead).
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
#define GEN_PASS_DEF_LOOMRECOMPOSEATTENTION
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

/// The static shape of an f32 ranked tensor value, or nullopt.
std::optional<ArrayRef<int64_t>> f32Shape(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  return type.getShape();
}

/// The value of a constant f32 scalar or one-element tensor.
std::optional<double> scalarConstant(Value v) {
  DenseElementsAttr dense = toDense(getConstantAttr(v));
  if (!dense || !dense.getElementType().isF32() || dense.getNumElements() != 1)
    return std::nullopt;
  return (*dense.getValues<APFloat>().begin()).convertToDouble();
}

/// If `v` (with a single use) is `x · c`, `c · x` or `x / c` with `c` a
/// constant scalar and the result of `x`'s type, returns x and multiplies
/// `scale` by c (or 1/c).
Value peelOneScale(Value v, double &scale, SmallVectorImpl<Operation *> &ops) {
  if (!v.hasOneUse())
    return {};
  Operation *def = v.getDefiningOp();
  if (!def)
    return {};
  Value x;
  double factor;
  if (auto mul = dyn_cast<MulOp>(def)) {
    if (auto c = scalarConstant(mul.getB())) {
      x = mul.getA();
      factor = *c;
    } else if (auto c = scalarConstant(mul.getA())) {
      x = mul.getB();
      factor = *c;
    } else {
      return {};
    }
  } else if (auto div = dyn_cast<DivOp>(def)) {
    auto c = scalarConstant(div.getB());
    if (!c || *c == 0.0)
      return {};
    x = div.getA();
    factor = 1.0 / *c;
  } else {
    return {};
  }
  if (x.getType() != v.getType() || !std::isfinite(factor))
    return {};
  scale *= factor;
  ops.push_back(def);
  return x;
}

/// Peels every scale op off `v` (see peelOneScale).
Value peelScales(Value v, double &scale, SmallVectorImpl<Operation *> &ops) {
  while (Value x = peelOneScale(v, scale, ops))
    v = x;
  return v;
}

/// Whether `t` is a Transpose of a 4-D tensor swapping its last two dims.
bool isLastTwoSwap(TransposeOp t) {
  auto perm = t.getPerm();
  if (!perm || perm->size() != 4)
    return false;
  return llvm::equal(*perm, ArrayRef<int64_t>{0, 1, 3, 2});
}

enum class Repeat { None, Matched, Failed };

/// Recognizes HF's repeat_kv: v = Reshape(Expand(U, [B,H,n,X,Y]),
/// [B,H·n,X,Y]) with U = Unsqueeze(x, [2]) or Reshape(x, [B,H,1,X,Y]) and x
/// of shape [B,H,X,Y] (query head h uses head h / n of x). The shapes decide
/// (Unsqueeze, Reshape and Expand are fully determined by their static input
/// and result shapes). On a match with every intermediate of a single use,
/// sets `x` and appends the ops; a repetition whose intermediates have other
/// uses is `Failed`.
Repeat matchRepeat(Value v, Value &x, SmallVectorImpl<Operation *> &ops) {
  auto outer = v.getDefiningOp<ReshapeOp>();
  if (!outer)
    return Repeat::None;
  auto expand = outer.getData().getDefiningOp<ExpandOp>();
  if (!expand)
    return Repeat::None;
  Operation *unsq = expand.getInput().getDefiningOp();
  Value src;
  if (auto u = dyn_cast_or_null<UnsqueezeOp>(unsq))
    src = u.getData();
  else if (auto r = dyn_cast_or_null<ReshapeOp>(unsq))
    src = r.getData();
  else
    return Repeat::None;
  auto rShape = f32Shape(outer.getReshaped());
  auto eShape = f32Shape(expand.getOutput());
  auto uShape = f32Shape(unsq->getResult(0));
  auto xShape = f32Shape(src);
  if (!rShape || !eShape || !uShape || !xShape || rShape->size() != 4 ||
      eShape->size() != 5 || uShape->size() != 5 || xShape->size() != 4)
    return Repeat::None;
  ArrayRef<int64_t> r = *rShape, e = *eShape, u = *uShape, s = *xShape;
  // x [B,H,X,Y] -> U [B,H,1,X,Y] -> E [B,H,n,X,Y] -> R [B,H*n,X,Y].
  if (u[0] != s[0] || u[1] != s[1] || u[2] != 1 || u[3] != s[2] ||
      u[4] != s[3])
    return Repeat::None;
  if (e[0] != u[0] || e[1] != u[1] || e[3] != u[3] || e[4] != u[4])
    return Repeat::None;
  if (r[0] != s[0] || r[1] != s[1] * e[2] || r[2] != s[2] || r[3] != s[3])
    return Repeat::None;
  if (!v.hasOneUse() || !expand.getOutput().hasOneUse() ||
      !unsq->getResult(0).hasOneUse())
    return Repeat::Failed;
  ops.push_back(outer);
  ops.push_back(expand);
  ops.push_back(unsq);
  x = src;
  return Repeat::Matched;
}

/// What the walk up from the final MatMul found.
struct Match {
  SmallVector<Operation *> ops; // Ops the fused op replaces, users first.
  double scale = 1.0;
  Value q, k, v, mask;
  bool kTransposed = false;
};

/// Matches the scaled scores `s` (scale ops around MatMul(Q, Kᵀ)); fills
/// m.q, m.k, m.kTransposed, m.scale and the ops.
LogicalResult matchScores(Value s, Match &m) {
  s = peelScales(s, m.scale, m.ops);
  if (!s.hasOneUse())
    return failure();
  Value qIn, kIn;
  bool kT; // Whether kIn is in the [B, H, D, Sk] layout.
  if (auto mm = s.getDefiningOp<MatMulOp>()) {
    qIn = mm.getA();
    kIn = mm.getB();
    kT = true;
    m.ops.push_back(mm);
  } else if (auto fm = s.getDefiningOp<FusedMatMulOp>()) {
    if (fm.getTransA() != 0 || !isNone(fm.getBias()) ||
        fm.getActivation() != "none")
      return failure();
    qIn = fm.getA();
    kIn = fm.getB();
    kT = fm.getTransB() == 0;
    m.scale *= fm.getAlpha().convertToDouble();
    m.ops.push_back(fm);
  } else {
    return failure();
  }
  if (qIn == kIn)
    return failure();
  m.q = peelScales(qIn, m.scale, m.ops);

  // K: scale ops and last-two-dims swaps, then an optional repetition.
  Value k = kIn;
  bool exclusive = true; // Every value so far is used only by the pattern.
  while (true) {
    if (exclusive)
      k = peelScales(k, m.scale, m.ops);
    auto t = k.getDefiningOp<TransposeOp>();
    if (!t || !isLastTwoSwap(t))
      break;
    if (exclusive && k.hasOneUse())
      m.ops.push_back(t);
    else
      exclusive = false; // The Transpose stays for its other users.
    k = t.getData();
    kT = !kT;
  }
  Value unrepeated;
  switch (matchRepeat(k, unrepeated, m.ops)) {
  case Repeat::None:
    break;
  case Repeat::Matched:
    if (!exclusive)
      return failure();
    k = unrepeated;
    break;
  case Repeat::Failed:
    return failure();
  }
  m.k = k;
  m.kTransposed = kT;
  return success();
}

struct RecomposeAttention : OpRewritePattern<MatMulOp> {
  RecomposeAttention(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(MatMulOp root,
                                PatternRewriter &rewriter) const override {
    auto yShape = f32Shape(root.getY());
    if (!yShape || yShape->size() != 4)
      return failure();
    auto softmax = root.getA().getDefiningOp<SoftmaxOp>();
    if (!softmax || !softmax.getOutput().hasOneUse())
      return failure();
    auto pShape = f32Shape(softmax.getOutput());
    int64_t axis = static_cast<int64_t>(softmax.getAxis());
    if (!pShape || pShape->size() != 4 || normalizeAxis(axis, 4) != 3)
      return failure();
    Value x = softmax.getInput();
    if (!x.hasOneUse())
      return failure();

    Match m;
    m.ops.push_back(root);
    m.ops.push_back(softmax);
    size_t prefix = m.ops.size();
    bool matched = false;
    if (auto add = x.getDefiningOp<AddOp>()) {
      for (auto [s, mask] : {std::pair(add.getA(), add.getB()),
                             std::pair(add.getB(), add.getA())}) {
        m.ops.resize(prefix);
        m.scale = 1.0;
        m.ops.push_back(add);
        if (s != mask && succeeded(matchScores(s, m))) {
          m.mask = mask;
          matched = true;
          break;
        }
      }
    } else {
      matched = succeeded(matchScores(x, m));
    }
    if (!matched)
      return failure();

    // V, possibly repeated.
    Value v = root.getB();
    Value unrepeated;
    switch (matchRepeat(v, unrepeated, m.ops)) {
    case Repeat::None:
      break;
    case Repeat::Matched:
      v = unrepeated;
      break;
    case Repeat::Failed:
      return failure();
    }
    m.v = v;

    // Shapes: Q [B,Hq,Sq,D], K [B,Hkv,Sk,D] (or [B,Hkv,D,Sk]),
    // V [B,Hkv,Sk,Dv], P [B,Hq,Sq,Sk], Y [B,Hq,Sq,Dv].
    auto qShape = f32Shape(m.q), kShape = f32Shape(m.k), vShape = f32Shape(m.v);
    if (!qShape || !kShape || !vShape || qShape->size() != 4 ||
        kShape->size() != 4 || vShape->size() != 4)
      return failure();
    ArrayRef<int64_t> q = *qShape, k = *kShape, vs = *vShape, p = *pShape,
                      y = *yShape;
    int64_t b = q[0], hq = q[1], sq = q[2], d = q[3];
    int64_t hkv = k[1], sk = m.kTransposed ? k[3] : k[2],
            dk = m.kTransposed ? k[2] : k[3], dv = vs[3];
    if (k[0] != b || dk != d || vs[0] != b || vs[1] != hkv || vs[2] != sk)
      return failure();
    if (hkv <= 0 || hq % hkv != 0)
      return failure();
    if (!llvm::equal(p, ArrayRef<int64_t>{b, hq, sq, sk}) ||
        !llvm::equal(y, ArrayRef<int64_t>{b, hq, sq, dv}))
      return failure();
    if (m.mask) {
      auto maskShape = f32Shape(m.mask);
      if (!maskShape || maskShape->size() > 4)
        return failure();
      auto bc = broadcastShapes(*maskShape, p);
      if (failed(bc) || !llvm::equal(*bc, p))
        return failure();
    }
    if (!std::isfinite(m.scale))
      return failure();

    SmallVector<Location> locs;
    for (Operation *op : m.ops)
      locs.push_back(op->getLoc());
    Location loc = rewriter.getFusedLoc(locs);
    Value mask = m.mask;
    if (!mask)
      mask = NoneOp::create(rewriter, loc);
    auto attention = AttentionOp::create(
        rewriter, loc, root.getY().getType(), m.q, m.k, m.v, mask,
        rewriter.getF32FloatAttr(static_cast<float>(m.scale)),
        rewriter.getI64IntegerAttr(hq), rewriter.getI64IntegerAttr(hkv),
        rewriter.getI64IntegerAttr(m.kTransposed ? 1 : 0));
    rewriter.replaceOp(root, attention.getY());
    // Users come before their producers in m.ops.
    for (Operation *op : llvm::drop_begin(m.ops))
      if (op->use_empty())
        rewriter.eraseOp(op);
    ++count;
    return success();
  }

  int64_t &count;
};

struct LoomRecomposeAttentionPass
    : public loom::impl::LoomRecomposeAttentionBase<LoomRecomposeAttentionPass> {
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<RecomposeAttention>(&getContext(), count);
    // Only this rewrite: no folding, no region simplification, no constant
    // CSE (the canonicalizer at the end of the pipeline does those).
    GreedyRewriteConfig config;
    config.enableFolding(false).enableConstantCSE(false);
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);
    numRewritten += count;
  }
};

} // namespace
