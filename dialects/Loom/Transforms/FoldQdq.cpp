//===- FoldQdq.cpp - Quantized kernels from quantize/dequantize -----------===//
//
// loom-fold-qdq: imported ONNX QuantizeLinear/DequantizeLinear with constant
// parameters take the quant dialect's types; then MatMul/Conv whose weight
// is a dequantized constant become loom.qmatmul / loom.qconv, taking a
// dequantized activation quantized and producing a quantized result when
// only a quantize uses it. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "Loom/Transforms/Passes.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace loom {
#define GEN_PASS_DEF_LOOMFOLDQDQ
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;
using namespace loom;

namespace {

/// The quant type of ONNX (scale, zero point, axis) constants for a tensor
/// of `rank` stored as `storage` (i8 / ui8), or null when not constant or
/// not per tensor / per axis.
quant::QuantizedType onnxQuantType(Value scale, Value zeroPoint, int64_t axis,
                                   int64_t rank, IntegerType storage) {
  auto s = dyn_cast_or_null<DenseElementsAttr>(toDense(getConstantAttr(scale)));
  if (!s || !s.getElementType().isF32() || s.getType().getRank() > 1)
    return nullptr;
  SmallVector<double> scales;
  for (float v : s.getValues<float>())
    scales.push_back(v);
  SmallVector<int64_t> zps(scales.size(), 0);
  if (!isNone(zeroPoint)) {
    auto z = dyn_cast_or_null<DenseElementsAttr>(
        toDense(getConstantAttr(zeroPoint)));
    if (!z || z.getNumElements() != int64_t(scales.size()))
      return nullptr;
    int64_t i = 0;
    for (APInt v : z.getValues<APInt>())
      zps[i++] = storage.isUnsigned() ? int64_t(v.getZExtValue())
                                      : v.getSExtValue();
  }
  MLIRContext *ctx = scale.getContext();
  bool isSigned = !storage.isUnsigned();
  Type stored = IntegerType::get(ctx, 8);
  Type f32 = Float32Type::get(ctx);
  int64_t qmin = isSigned ? -128 : 0, qmax = isSigned ? 127 : 255;
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  if (llvm::any_of(scales, [](double v) { return !(v > 0); }))
    return nullptr;
  if (scales.size() == 1 && s.getType().getRank() == 0)
    return quant::UniformQuantizedType::get(flags, stored, f32, scales[0],
                                            zps[0], qmin, qmax);
  if (rank == 0)
    return nullptr;
  return quant::UniformQuantizedPerAxisType::get(
      flags, stored, f32, scales, zps, int32_t(normalizeAxis(axis, rank)),
      qmin, qmax);
}

/// DequantizeLinear(constant integers | QuantizeLinear(x), constant scale
/// and zero point) -> loom.dequantize(loom.qconstant | loom.quantize(x)).
struct ImportDequantizeLinear : OpRewritePattern<DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto storage = dyn_cast<IntegerType>(xType.getElementType());
    if (!storage || storage.getWidth() != 8 || !xType.hasStaticShape())
      return failure();
    quant::QuantizedType q =
        onnxQuantType(op.getXScale(), op.getXZeroPoint(), op.getAxis(),
                      xType.getRank(), storage);
    if (!q)
      return failure();
    auto qType = RankedTensorType::get(xType.getShape(), q);
    Value quantized;
    if (auto c = dyn_cast_or_null<ElementsAttr>(getConstantAttr(op.getX()))) {
      quantized = QConstantOp::create(rewriter, op.getLoc(), qType, c);
    } else if (auto ql = op.getX().getDefiningOp<QuantizeLinearOp>()) {
      // The pair's quantize must use the same parameters.
      quant::QuantizedType q2 = onnxQuantType(
          ql.getYScale(), ql.getYZeroPoint(), ql.getAxis(), xType.getRank(),
          storage);
      if (q2 != q || !cast<RankedTensorType>(ql.getX().getType())
                          .getElementType()
                          .isF32())
        return failure();
      quantized = QuantizeOp::create(rewriter, ql.getLoc(), qType, ql.getX());
    } else {
      return failure();
    }
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, op.getType(), quantized);
    return success();
  }
};

/// The typed quantize of `x` = QuantizeLinear(f32, scale, zp) when its
/// constant parameters give `type`'s element type, else null.
Value typedQuantizeOf(PatternRewriter &rewriter, Value x, RankedTensorType type) {
  auto ql = x.getDefiningOp<QuantizeLinearOp>();
  if (!ql || !cast<RankedTensorType>(ql.getX().getType()).getElementType().isF32())
    return Value();
  auto storage = cast<IntegerType>(
      cast<RankedTensorType>(x.getType()).getElementType());
  quant::QuantizedType q =
      onnxQuantType(ql.getYScale(), ql.getYZeroPoint(), ql.getAxis(),
                    type.getRank(), storage);
  if (q != type.getElementType())
    return Value();
  return QuantizeOp::create(rewriter, ql.getLoc(), type, ql.getX());
}

/// The quantized type of an ONNX (scale, zero point) pair for a tensor of
/// type `t` (i8 / ui8), with `axis` for a 1-D scale; null if not constant.
RankedTensorType typed(RankedTensorType t, Value scale, Value zp,
                       int64_t axis) {
  auto storage = dyn_cast<IntegerType>(t.getElementType());
  if (!storage || storage.getWidth() != 8)
    return nullptr;
  quant::QuantizedType q =
      onnxQuantType(scale, zp, axis, t.getRank(), storage);
  return q ? RankedTensorType::get(t.getShape(), q) : nullptr;
}

/// The one user of `y` when it is a DequantizeLinear whose constant
/// parameters are those of `yq`, else null.
DequantizeLinearOp dequantizeUser(Value y, RankedTensorType yq) {
  auto dq = dyn_cast_or_null<DequantizeLinearOp>(
      y.hasOneUse() ? *y.getUsers().begin() : nullptr);
  auto yType = cast<RankedTensorType>(y.getType());
  if (!dq || typed(yType, dq.getXScale(), dq.getXZeroPoint(), dq.getAxis()) != yq)
    return DequantizeLinearOp();
  return dq;
}

/// QuantizeLinear -> QLinearMatMul / QLinearConv (constant signed 8-bit
/// weights) -> DequantizeLinear, all with constant parameters (ONNX's
/// "QOperator" form) -> loom.quantize -> qmatmul / qconv (quantized
/// result) -> loom.dequantize.
struct ImportQLinearMatMul : OpRewritePattern<QLinearMatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QLinearMatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto aType = cast<RankedTensorType>(op.getA().getType());
    auto bType = cast<RankedTensorType>(op.getB().getType());
    auto yType = cast<RankedTensorType>(op.getY().getType());
    auto b = dyn_cast_or_null<ElementsAttr>(getConstantAttr(op.getB()));
    if (!b || bType.getRank() != 2 || !bType.getElementType().isSignlessInteger(8))
      return failure();
    RankedTensorType aq = typed(aType, op.getAScale(), op.getAZeroPoint(), 1);
    RankedTensorType bq = typed(bType, op.getBScale(), op.getBZeroPoint(), 1);
    RankedTensorType yq = typed(yType, op.getYScale(), op.getYZeroPoint(), 1);
    if (!aq || !bq || !yq || !isPerTensorQuant(aq) || !isPerTensorQuant(yq))
      return failure();
    DequantizeLinearOp dq = dequantizeUser(op.getY(), yq);
    if (!dq)
      return failure();
    Value a = typedQuantizeOf(rewriter, op.getA(), aq);
    if (!a)
      return failure();
    Value w = QConstantOp::create(rewriter, op.getLoc(), bq, b);
    Value none = NoneOp::create(rewriter, op.getLoc(), rewriter.getNoneType());
    auto q = QMatMulOp::create(rewriter, op.getLoc(), yq, a, w, none,
                               rewriter.getI64IntegerAttr(0),
                               rewriter.getStringAttr("none"), FloatAttr(),
                               FloatAttr());
    rewriter.replaceOpWithNewOp<DequantizeOp>(dq, dq.getType(), q.getResult());
    rewriter.eraseOp(op);
    return success();
  }
};

struct ImportQLinearConv : OpRewritePattern<QLinearConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QLinearConvOp op,
                                PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto wType = cast<RankedTensorType>(op.getW().getType());
    auto yType = cast<RankedTensorType>(op.getY().getType());
    auto w = dyn_cast_or_null<ElementsAttr>(getConstantAttr(op.getW()));
    if (!w || !wType.getElementType().isSignlessInteger(8))
      return failure();
    RankedTensorType xq = typed(xType, op.getXScale(), op.getXZeroPoint(), 1);
    RankedTensorType wq = typed(wType, op.getWScale(), op.getWZeroPoint(), 0);
    RankedTensorType yq = typed(yType, op.getYScale(), op.getYZeroPoint(), 1);
    if (!xq || !wq || !yq || !isPerTensorQuant(xq) || !isPerTensorQuant(yq))
      return failure();
    DequantizeLinearOp dq = dequantizeUser(op.getY(), yq);
    if (!dq)
      return failure();
    // The i32 bias is quantized with scale x_scale * w_scale[o]: as f32.
    Value bias = NoneOp::create(rewriter, op.getLoc(), rewriter.getNoneType());
    if (!isNone(op.getB())) {
      auto bAttr = dyn_cast_or_null<DenseElementsAttr>(toDense(getConstantAttr(op.getB())));
      int64_t o = wType.getDimSize(0);
      if (!bAttr || bAttr.getNumElements() != o)
        return failure();
      double xs = cast<quant::UniformQuantizedType>(xq.getElementType()).getScale();
      SmallVector<double> ws;
      if (auto u = dyn_cast<quant::UniformQuantizedType>(wq.getElementType()))
        ws.assign(o, u.getScale());
      else
        ws = llvm::to_vector(
            cast<quant::UniformQuantizedPerAxisType>(wq.getElementType()).getScales());
      SmallVector<float> values;
      int64_t i = 0;
      for (APInt v : bAttr.getValues<APInt>()) {
        values.push_back(float(double(v.getSExtValue()) * xs * ws[i]));
        ++i;
      }
      bias = ConstantOp::create(
          rewriter, op.getLoc(),
          DenseElementsAttr::get(RankedTensorType::get({o}, rewriter.getF32Type()),
                                 ArrayRef<float>(values)));
    }
    Value x = typedQuantizeOf(rewriter, op.getX(), xq);
    if (!x)
      return failure();
    Value wc = QConstantOp::create(rewriter, op.getLoc(), wq, w);
    auto q = QConvOp::create(
        rewriter, op.getLoc(), yq, x, wc, bias, op.getAutoPadAttr(),
        op.getDilationsAttr(), op.getGroupAttr(), op.getKernelShapeAttr(),
        op.getPadsAttr(), op.getStridesAttr(), rewriter.getI64IntegerAttr(0),
        rewriter.getStringAttr("none"), FloatAttr(), FloatAttr());
    rewriter.replaceOpWithNewOp<DequantizeOp>(dq, dq.getType(), q.getResult());
    rewriter.eraseOp(op);
    return success();
  }
};

/// The quantized operand behind `v` = loom.dequantize(q) when q is quantized
/// per tensor, else null.
Value perTensorSource(Value v) {
  auto dq = v.getDefiningOp<DequantizeOp>();
  if (!dq || !isPerTensorQuant(dq.getInput().getType()))
    return Value();
  return dq.getInput();
}

/// The quantized constant behind a weight `v` = loom.dequantize(qconstant).
Value quantizedWeight(Value v) {
  auto dq = v.getDefiningOp<DequantizeOp>();
  if (!dq || !dq.getInput().getDefiningOp<QConstantOp>())
    return Value();
  return dq.getInput();
}

/// The result type of the quantized kernel and the quantize it absorbs.
std::pair<Type, QuantizeOp> resultOf(Operation *op) {
  Value y = op->getResult(0);
  if (y.hasOneUse())
    if (auto q = dyn_cast<QuantizeOp>(*y.getUsers().begin()))
      if (isPerTensorQuant(q.getType()) &&
          quantElementType(q.getType()).getStorageTypeIntegralWidth() == 8)
        return {q.getType(), q};
  return {y.getType(), QuantizeOp()};
}

/// A bias the kernels take: none or f32 [channels].
bool kernelBias(Value bias, int64_t channels) {
  if (isNone(bias))
    return true;
  auto t = dyn_cast<RankedTensorType>(bias.getType());
  return t && t.getRank() == 1 && t.getDimSize(0) == channels &&
         t.getElementType().isF32();
}

template <typename OpTy> struct FoldMatMul : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value bias;
    StringAttr act = rewriter.getStringAttr("none");
    FloatAttr alpha, beta;
    if constexpr (std::is_same_v<OpTy, FusedMatMulOp>) {
      if (op.getTransA() || op.getTransB() ||
          op.getAlpha().convertToDouble() != 1.0)
        return failure();
      bias = op.getBias();
      act = op.getActivationAttr();
      alpha = op.getActivationAlphaAttr();
      beta = op.getActivationBetaAttr();
    }
    Value w = quantizedWeight(op.getB());
    if (!w || cast<RankedTensorType>(w.getType()).getRank() != 2)
      return failure();
    int64_t n = cast<RankedTensorType>(w.getType()).getDimSize(1);
    if (!bias)
      bias = NoneOp::create(rewriter, op.getLoc(), rewriter.getNoneType());
    if (!kernelBias(bias, n))
      return failure();
    Value a = op.getA();
    bool dynamic = op->hasAttr("loom.dynamic");
    if (Value qa = perTensorSource(a); qa && !dynamic)
      a = qa;
    auto [yType, absorbed] = resultOf(op);
    auto q = QMatMulOp::create(rewriter, op.getLoc(), yType, a, w, bias,
                               /*dynamic=*/dynamic ? 1 : 0, act, alpha, beta);
    if (absorbed)
      rewriter.replaceOp(absorbed, q.getResult());
    else
      rewriter.replaceOp(op, q.getResult());
    return success();
  }
};

template <typename OpTy> struct FoldConv : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    StringAttr act = rewriter.getStringAttr("none");
    FloatAttr alpha, beta;
    if constexpr (std::is_same_v<OpTy, FusedConvOp>) {
      act = op.getActivationAttr();
      alpha = op.getActivationAlphaAttr();
      beta = op.getActivationBetaAttr();
    }
    Value w = quantizedWeight(op.getW());
    if (!w || !kernelBias(op.getB(),
                          cast<RankedTensorType>(w.getType()).getDimSize(0)))
      return failure();
    Value x = op.getX();
    bool dynamic = op->hasAttr("loom.dynamic");
    if (Value qx = perTensorSource(x); qx && !dynamic)
      x = qx;
    auto [yType, absorbed] = resultOf(op);
    auto q = QConvOp::create(
        rewriter, op.getLoc(), yType, x, w, op.getB(), op.getAutoPadAttr(),
        op.getDilationsAttr(), op.getGroupAttr(), op.getKernelShapeAttr(),
        op.getPadsAttr(), op.getStridesAttr(),
        rewriter.getI64IntegerAttr(dynamic ? 1 : 0), act, alpha, beta);
    if (absorbed)
      rewriter.replaceOp(absorbed, q.getResult());
    else
      rewriter.replaceOp(op, q.getResult());
    return success();
  }
};

struct FoldQdqPass : public loom::impl::LoomFoldQdqBase<FoldQdqPass> {
  using LoomFoldQdqBase::LoomFoldQdqBase;
  void runOnOperation() override {
    // First the ONNX forms take the quant types, so that the folds below see
    // every quantized operand.
    RewritePatternSet imports(&getContext());
    imports.add<ImportDequantizeLinear, ImportQLinearMatMul, ImportQLinearConv>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(imports))))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldMatMul<MatMulOp>, FoldMatMul<FusedMatMulOp>,
                 FoldConv<ConvOp>, FoldConv<FusedConvOp>>(&getContext());
    // The statistic counts the quantized kernels formed.
    int64_t before = 0, after = 0;
    getOperation().walk([&](Operation *op) {
      before += isa<QMatMulOp, QConvOp>(op);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation().walk([&](Operation *op) {
      after += isa<QMatMulOp, QConvOp>(op);
    });
    numRewritten += std::max<int64_t>(0, after - before);
    // Consumed (an op that did not fold runs float).
    getOperation().walk([](Operation *op) { op->removeAttr("loom.dynamic"); });
  }
};

} // namespace
