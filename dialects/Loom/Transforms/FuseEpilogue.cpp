//===- FuseEpilogue.cpp - loom-fuse-epilogue ------------------------------===//
//
// Fuse a bias Add and an activation into Conv/ConvTranspose/Gemm/MatMul.
//
// A producer (loom.conv, conv_transpose, gemm, matmul, or fused_conv /
// fused_conv_transpose / fused_gemm / fused_matmul with activation "none";
// f32, static shapes), then optionally an Add (either operand order) of a
// constant that varies along the output channels only (Conv NCHW: [C,1,1],
// [1,C,1,1]; Gemm/MatMul: [N], [1,N]; a scalar or one-element tensor for
// every channel; a [C] constant after a Conv broadcasts along the last
// spatial dimension and is rejected), then optionally one of the epilogue
// activations (Relu, LeakyRelu, Clip with constant or absent bounds,
// Sigmoid, HardSigmoid, HardSwish, Tanh, loom.gelu, loom.silu), at least one
// of the two, becomes one loom.fused_conv / fused_conv_transpose /
// fused_gemm / fused_matmul carrying the producer's attributes and the
// activation. A present constant bias is summed with the Add's constant (a
// Gemm's bias includes beta, which becomes 1); a non-constant bias stops the
// bias fusion. Each intermediate value must have the one use.
//
// The quantized kernels (loom.qconv, loom.qmatmul with an f32 result and
// activation "none", as loom-fold-qdq writes them, their bias already
// included) take the activation after them the same way: it becomes their
// `activation` (applied after the bias, before any output quantization). A
// qmatmul without a bias also takes an Add of an f32 [N] value after it as
// its bias.
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
#define GEN_PASS_DEF_LOOMFUSEEPILOGUE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom


using namespace loom;

namespace {
using namespace loom::producer_fold;

/// An epilogue activation: its name and parameters (absent: not set).
struct Activation {
  StringRef name;
  std::optional<float> alpha, beta;
};

/// A one-element f32 constant's value.
std::optional<float> scalarConstant(Value v) {
  std::optional<std::vector<float>> data = readF32(v);
  if (!data || data->size() != 1)
    return std::nullopt;
  return (*data)[0];
}

/// The activation `op` computes of its first operand, if it is one.
std::optional<Activation> matchActivation(Operation *op) {
  Activation act;
  if (isa<ReluOp>(op))
    act.name = "relu";
  else if (auto l = dyn_cast<LeakyReluOp>(op))
    act = {"leaky_relu", float(l.getAlphaAttr().getValueAsDouble()), {}};
  else if (auto c = dyn_cast<ClipOp>(op)) {
    act.name = "clip";
    if (!isNone(c.getMin())) {
      act.alpha = scalarConstant(c.getMin());
      if (!act.alpha)
        return std::nullopt;
    }
    if (!isNone(c.getMax())) {
      act.beta = scalarConstant(c.getMax());
      if (!act.beta)
        return std::nullopt;
    }
  } else if (isa<SigmoidOp>(op))
    act.name = "sigmoid";
  else if (auto h = dyn_cast<HardSigmoidOp>(op))
    act = {"hard_sigmoid", float(h.getAlphaAttr().getValueAsDouble()),
           float(h.getBetaAttr().getValueAsDouble())};
  else if (isa<HardSwishOp>(op))
    act.name = "hard_swish";
  else if (isa<TanhOp>(op))
    act.name = "tanh";
  else if (auto g = dyn_cast<GeluOp>(op)) {
    if (g.getApproximate() == "none")
      act.name = "gelu";
    else if (g.getApproximate() == "tanh")
      act.name = "gelu_tanh";
    else
      return std::nullopt;
  } else if (isa<SiluOp>(op))
    act.name = "silu";
  else
    return std::nullopt;
  return act;
}

/// The single user of `v`, if `v` has exactly one use.
Operation *singleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

struct FuseEpiloguePattern : RewritePattern {
  FuseEpiloguePattern(MLIRContext *ctx, int64_t &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), count(count) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isProducer(op))
      return failure();
    Value cur = op->getResult(0);
    Type type = cur.getType();

    // The bias Add.
    Operation *addOp = nullptr;
    SmallVector<double> shift;
    if (auto add = dyn_cast_or_null<AddOp>(singleUser(cur))) {
      Value c = add.getA() == cur ? add.getB() : add.getA();
      if (add.getType() == type) {
        if (std::optional<SmallVector<double>> v = perChannelValues(c, op)) {
          shift = std::move(*v);
          addOp = add;
          cur = add.getC();
        }
      }
    }
    // The activation.
    Operation *actOp = nullptr;
    Activation act{"none", {}, {}};
    if (Operation *user = singleUser(cur)) {
      if (user->getNumOperands() >= 1 && user->getOperand(0) == cur &&
          user->getNumResults() == 1 && user->getResult(0).getType() == type) {
        if (std::optional<Activation> a = matchActivation(user)) {
          act = *a;
          actOp = user;
        }
      }
    }
    if (!addOp && !actOp)
      return failure();

    Operation *last = actOp ? actOp : addOp;
    rewriter.setInsertionPoint(last);
    Value bias;
    if (addOp) {
      FailureOr<Value> b = shiftedBias(rewriter, addOp->getLoc(), op, shift);
      if (failed(b))
        return failure(); // nothing was created
      bias = *b;
    } else {
      bias = op->getNumOperands() >= 3
                 ? op->getOperand(2)
                 : Value(NoneOp::create(rewriter, op->getLoc())); // MatMul
    }

    SmallVector<Location> locs{op->getLoc()};
    for (Operation *o : {addOp, actOp})
      if (o)
        locs.push_back(o->getLoc());
    Location loc = rewriter.getFusedLoc(locs);

    // The producer's attributes, then the activation.
    SmallVector<NamedAttribute> attrs;
    for (NamedAttribute a : op->getAttrs()) {
      StringRef n = a.getName().getValue();
      if (n == "activation" || n == "activation_alpha" || n == "activation_beta")
        continue;
      if (addOp && n == "beta" && isa<GemmOp, FusedGemmOp>(op))
        continue; // the new bias includes beta
      attrs.push_back(a);
    }
    attrs.push_back(rewriter.getNamedAttr("activation",
                                          rewriter.getStringAttr(act.name)));
    if (act.alpha)
      attrs.push_back(rewriter.getNamedAttr(
          "activation_alpha", rewriter.getF32FloatAttr(*act.alpha)));
    if (act.beta)
      attrs.push_back(rewriter.getNamedAttr(
          "activation_beta", rewriter.getF32FloatAttr(*act.beta)));

    SmallVector<Value, 3> operands{op->getOperand(0), op->getOperand(1), bias};
    Operation *fused;
    if (isa<ConvOp, FusedConvOp>(op))
      fused = FusedConvOp::create(rewriter, loc, TypeRange{type}, operands, attrs);
    else if (isa<ConvTransposeOp, FusedConvTransposeOp>(op))
      fused = FusedConvTransposeOp::create(rewriter, loc, TypeRange{type},
                                           operands, attrs);
    else if (isa<GemmOp, FusedGemmOp>(op))
      fused = FusedGemmOp::create(rewriter, loc, TypeRange{type}, operands, attrs);
    else
      fused = FusedMatMulOp::create(rewriter, loc, TypeRange{type}, operands,
                                    attrs);

    rewriter.replaceOp(last, fused->getResult(0));
    if (actOp && addOp)
      rewriter.eraseOp(addOp);
    rewriter.eraseOp(op);
    ++count;
    return success();
  }

  int64_t &count;
};

/// An epilogue activation after a quantized kernel (qconv, qmatmul) with an
/// f32 result and no activation yet: the kernel takes it.
struct FuseQuantizedActivationPattern : RewritePattern {
  FuseQuantizedActivationPattern(MLIRContext *ctx, int64_t &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), count(count) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<QConvOp, QMatMulOp>(op))
      return failure();
    Value cur = op->getResult(0);
    auto type = dyn_cast<RankedTensorType>(cur.getType());
    if (!type || !type.getElementType().isF32())
      return failure();
    auto current = op->getAttrOfType<StringAttr>("activation");
    if (current && current.getValue() != "none")
      return failure();
    Operation *user = singleUser(cur);
    if (!user || user->getNumOperands() < 1 || user->getOperand(0) != cur ||
        user->getNumResults() != 1 || user->getResult(0).getType() != type)
      return failure();
    std::optional<Activation> act = matchActivation(user);
    if (!act)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op->setAttr("activation", rewriter.getStringAttr(act->name));
      op->removeAttr("activation_alpha");
      op->removeAttr("activation_beta");
      if (act->alpha)
        op->setAttr("activation_alpha", rewriter.getF32FloatAttr(*act->alpha));
      if (act->beta)
        op->setAttr("activation_beta", rewriter.getF32FloatAttr(*act->beta));
      op->setLoc(rewriter.getFusedLoc({op->getLoc(), user->getLoc()}));
    });
    rewriter.replaceOp(user, cur);
    ++count;
    return success();
  }

  int64_t &count;
};

/// A bias added to a qmatmul with an f32 result, no bias and no activation
/// yet (loom-fold-qdq forms it before the epilogue passes, e.g. from
/// MatMulNBits with a bias): an f32 [N] operand of the Add becomes the
/// kernel's bias.
struct FuseQuantizedBiasPattern : OpRewritePattern<QMatMulOp> {
  FuseQuantizedBiasPattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(QMatMulOp op,
                                PatternRewriter &rewriter) const override {
    Value cur = op.getY();
    auto type = dyn_cast<RankedTensorType>(cur.getType());
    if (!type || !type.getElementType().isF32() || !isNone(op.getBias()) ||
        op.getActivation() != "none")
      return failure();
    auto add = dyn_cast_or_null<AddOp>(singleUser(cur));
    if (!add || add.getResult().getType() != type)
      return failure();
    Value bias = add.getA() == cur ? add.getB() : add.getA();
    auto bt = dyn_cast<RankedTensorType>(bias.getType());
    if (bias == cur || !bt || bt.getRank() != 1 || !bt.getElementType().isF32() ||
        bt.getDimSize(0) != type.getShape().back())
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.getBiasMutable().assign(bias);
      op->setLoc(rewriter.getFusedLoc({op->getLoc(), add->getLoc()}));
    });
    rewriter.replaceOp(add, cur);
    ++count;
    return success();
  }

  int64_t &count;
};

struct LoomFuseEpiloguePass : public loom::impl::LoomFuseEpilogueBase<LoomFuseEpiloguePass> {
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseEpiloguePattern, FuseQuantizedActivationPattern,
                 FuseQuantizedBiasPattern>(&getContext(), count);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
    numRewritten += count;
  }
};

} // namespace
