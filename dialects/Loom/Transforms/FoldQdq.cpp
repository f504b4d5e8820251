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
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
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

/// The per-channel values of a constant f32 `v` that broadcasts against a
/// result of rank `rank` along `axis` only (right-aligned, every other dim
/// 1): `channels` values, a one-element `v` repeated; else std::nullopt.
std::optional<SmallVector<double>>
channelValues(Value v, int64_t rank, int64_t axis, int64_t channels) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  auto d = dyn_cast_or_null<DenseElementsAttr>(toDense(getConstantAttr(v)));
  if (!t || !d || !d.getElementType().isF32() || t.getRank() > rank)
    return std::nullopt;
  for (auto [i, n] : llvm::enumerate(t.getShape()))
    if (n != 1 && (int64_t(i) + rank - t.getRank() != axis || n != channels))
      return std::nullopt;
  SmallVector<double> values;
  for (float f : d.getValues<float>())
    values.push_back(f);
  if (values.size() == 1)
    values.assign(channels, values[0]);
  return values;
}

/// The f32 tail ONNX Runtime's dynamic quantization writes after an
/// integer product cast to f32: y = cast * s (either operand order), then
/// optionally y + bias (either order). Matched as the loom ops, or as the
/// loom.fused_elementwise the fusion passes make of a Mul and an Add.
struct ScaledTail {
  Value scale;       ///< s
  Value bias;        ///< null when the tail has no Add
  Operation *scaled; ///< the op using the cast: the Mul or the region
  Operation *last;   ///< the op whose result is y
};

/// The other operand of a binary `op` one of whose operands is `v`.
Value otherOperand(Operation *op, Value v) {
  if (op->getNumOperands() != 2)
    return Value();
  if (op->getOperand(0) == v)
    return op->getOperand(1);
  return op->getOperand(1) == v ? op->getOperand(0) : Value();
}

std::optional<ScaledTail> scaledTail(Value cast) {
  if (!cast.hasOneUse())
    return std::nullopt;
  Operation *user = *cast.getUsers().begin();
  if (auto mul = dyn_cast<MulOp>(user)) {
    ScaledTail t{otherOperand(mul, cast), Value(), mul, mul};
    if (mul.getC().hasOneUse())
      if (auto add = dyn_cast<AddOp>(*mul.getC().getUsers().begin())) {
        t.bias = otherOperand(add, mul.getC());
        t.last = add;
      }
    return t;
  }
  // fused_elementwise(cast, s, bias) { mul(cast, s); add(mul, bias) }.
  auto fe = dyn_cast<FusedElementwiseOp>(user);
  if (!fe || fe.getNumResults() != 1)
    return std::nullopt;
  Block &body = fe.getBody().front();
  auto ops = llvm::map_to_vector(body, [](Operation &op) { return &op; });
  if (ops.size() != 3)
    return std::nullopt;
  auto mul = dyn_cast<MulOp>(ops[0]);
  auto add = dyn_cast<AddOp>(ops[1]);
  if (!mul || !add || ops[2]->getNumOperands() != 1 ||
      ops[2]->getOperand(0) != add.getC())
    return std::nullopt;
  // The body's arguments are the inputs, in order.
  auto input = [&](Value arg) {
    auto b = arg ? dyn_cast<BlockArgument>(arg) : BlockArgument();
    return b && b.getOwner() == &body ? fe.getInputs()[b.getArgNumber()]
                                      : Value();
  };
  Value castArg;
  for (BlockArgument arg : body.getArguments())
    if (fe.getInputs()[arg.getArgNumber()] == cast)
      castArg = arg;
  Value scale = input(otherOperand(mul, castArg));
  Value bias = input(otherOperand(add, mul.getC()));
  if (!castArg || !scale || !bias)
    return std::nullopt;
  return ScaledTail{scale, bias, fe, fe};
}

/// The i8 values of a u8 constant minus 128 (dense, or a blob of any size).
std::optional<SmallVector<int8_t>> signedFromUnsigned(ElementsAttr c) {
  SmallVector<int8_t> out;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(c)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || int64_t(blob->getData().size()) != r.getNumElements())
      return std::nullopt;
    for (char b : blob->getData())
      out.push_back(int8_t(int(uint8_t(b)) - 128));
    return out;
  }
  auto d = dyn_cast<DenseElementsAttr>(c);
  if (!d)
    return std::nullopt;
  for (APInt v : d.getValues<APInt>())
    out.push_back(int8_t(int64_t(v.getZExtValue()) - 128));
  return out;
}

/// The chain of ONNX Runtime's dynamic quantization around an integer
/// product P = MatMulInteger / ConvInteger with
///   DynamicQuantizeLinear(x) -> (xq, xs, xzp); P(xq, W, xzp, wzp)
///   -> Cast(f32) -> Mul(., Mul(xs, ws)) [-> Add(., bias)]
/// (W a constant i8 / u8, wzp none or constant, ws and bias f32 constants
/// along the output channels), as a dynamic quantized kernel takes it.
struct IntegerChain {
  Value x;           ///< f32, quantized by the kernel at run time
  Value w;           ///< the qconstant
  Value bias;        ///< f32 [channels] or none
  Operation *scaled; ///< the op using the Cast (see ScaledTail)
  Operation *last;   ///< the op whose result the kernel's replaces
  Operation *cast;   ///< P's Cast
};

/// Matches the chain of `op` (operands x, w, x_zero_point, w_zero_point),
/// whose weight has its output channels on `wAxis` and whose result has
/// them on `yAxis`; creates the qconstant and bias constant on success.
/// u8 weights become i8 exactly: values and zero point minus 128.
FailureOr<IntegerChain> matchIntegerChain(PatternRewriter &rewriter,
                                          Operation *op, int64_t wAxis,
                                          int64_t yAxis) {
  Value xq = op->getOperand(0), wValue = op->getOperand(1),
        xZp = op->getOperand(2), wZp = op->getOperand(3);
  auto dql = xq.getDefiningOp<DynamicQuantizeLinearOp>();
  if (!dql || dql.getY() != xq || dql.getYZeroPoint() != xZp ||
      !isa<RankedTensorType>(dql.getX().getType()))
    return failure();
  auto wType = cast<RankedTensorType>(wValue.getType());
  auto yType = cast<RankedTensorType>(op->getResult(0).getType());
  auto storage = dyn_cast<IntegerType>(wType.getElementType());
  auto wAttr = dyn_cast_or_null<ElementsAttr>(getConstantAttr(wValue));
  if (!wAttr || !storage || !wType.hasStaticShape() || !yType.hasStaticShape())
    return failure();
  int64_t channels = wType.getDimSize(wAxis);
  // Cast to f32, then the scale (and the bias).
  Value y = op->getResult(0);
  if (!y.hasOneUse())
    return failure();
  auto castOp = dyn_cast<CastOp>(*y.getUsers().begin());
  if (!castOp || !castOp.getOutput().getType().getElementType().isF32())
    return failure();
  std::optional<ScaledTail> tail = scaledTail(castOp.getOutput());
  if (!tail)
    return failure();
  auto scaleMul = tail->scale.getDefiningOp<MulOp>();
  Value ws = scaleMul ? otherOperand(scaleMul, dql.getYScale()) : Value();
  if (!ws)
    return failure();
  int64_t rank = yType.getRank();
  std::optional<SmallVector<double>> scales =
      channelValues(ws, rank, yAxis, channels);
  if (!scales || llvm::any_of(*scales, [](double v) { return !(v > 0); }))
    return failure();
  std::optional<SmallVector<double>> bias;
  if (tail->bias) {
    bias = channelValues(tail->bias, rank, yAxis, channels);
    if (!bias) {
      // A bias of another shape stays an Add after the kernel; inside a
      // fused region it cannot be split off.
      if (tail->scaled == tail->last)
        return failure();
      tail->last = tail->scaled;
    }
  }
  if (cast<RankedTensorType>(tail->last->getResult(0).getType()).getShape() !=
      yType.getShape())
    return failure();
  // The weight zero point: none (0), one value, or one per channel.
  SmallVector<int64_t> zps(channels, 0);
  if (!isNone(wZp)) {
    std::optional<SmallVector<int64_t>> z = getConstantInts(wZp);
    if (!z || (z->size() != 1 && int64_t(z->size()) != channels))
      return failure();
    for (int64_t c = 0; c < channels; ++c)
      zps[c] = (*z)[z->size() == 1 ? 0 : c];
  }
  bool isUnsigned = storage.isUnsigned();
  ElementsAttr stored = wAttr;
  if (isUnsigned) {
    std::optional<SmallVector<int8_t>> values = signedFromUnsigned(wAttr);
    if (!values)
      return failure();
    for (int64_t &z : zps)
      z -= 128;
    stored = DenseElementsAttr::get(
        RankedTensorType::get(wType.getShape(), rewriter.getI8Type()),
        ArrayRef<int8_t>(*values));
  }
  MLIRContext *ctx = op->getContext();
  Type f32 = Float32Type::get(ctx);
  unsigned flags = quant::QuantizationFlags::Signed;
  quant::QuantizedType q;
  if (llvm::all_equal(*scales) && llvm::all_equal(zps))
    q = quant::UniformQuantizedType::get(flags, rewriter.getI8Type(), f32,
                                         scales->front(), zps.front(), -128,
                                         127);
  else
    q = quant::UniformQuantizedPerAxisType::get(flags, rewriter.getI8Type(),
                                                f32, *scales, zps,
                                                int32_t(wAxis), -128, 127);
  IntegerChain chain;
  chain.x = dql.getX();
  chain.scaled = tail->scaled;
  chain.last = tail->last;
  chain.cast = castOp;
  Location loc = op->getLoc();
  chain.w = QConstantOp::create(
      rewriter, loc, RankedTensorType::get(wType.getShape(), q), stored);
  chain.bias = NoneOp::create(rewriter, loc, rewriter.getNoneType());
  if (bias) {
    SmallVector<float> values(bias->begin(), bias->end());
    chain.bias = ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({channels}, f32),
                               ArrayRef<float>(values)));
  }
  return chain;
}

/// Replaces the chain's last op by the kernel's result `q` and erases the
/// ops of the integer path before it (the DynamicQuantizeLinear and the
/// scale product may have other users; otherwise they are erased as dead).
void replaceChain(PatternRewriter &rewriter, Operation *op,
                  const IntegerChain &chain, Value q) {
  rewriter.replaceOp(chain.last, q);
  if (chain.scaled != chain.last)
    rewriter.eraseOp(chain.scaled);
  rewriter.eraseOp(chain.cast);
  rewriter.eraseOp(op);
}

/// DynamicQuantizeLinear -> MatMulInteger (constant 2-D weight) -> Cast ->
/// scale [-> bias] (matchIntegerChain) -> loom.qmatmul with `dynamic` = 1.
struct ImportMatMulInteger : OpRewritePattern<MatMulIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulIntegerOp op,
                                PatternRewriter &rewriter) const override {
    auto aType = cast<RankedTensorType>(op.getA().getType());
    auto bType = cast<RankedTensorType>(op.getB().getType());
    if (aType.getRank() < 2 || bType.getRank() != 2)
      return failure();
    FailureOr<IntegerChain> chain =
        matchIntegerChain(rewriter, op, /*wAxis=*/1, aType.getRank() - 1);
    if (failed(chain))
      return failure();
    auto q = QMatMulOp::create(
        rewriter, op.getLoc(), chain->last->getResult(0).getType(), chain->x,
        chain->w, chain->bias, rewriter.getI64IntegerAttr(1),
        rewriter.getStringAttr("none"), FloatAttr(), FloatAttr());
    replaceChain(rewriter, op, *chain, q.getResult());
    return success();
  }
};

/// DynamicQuantizeLinear -> ConvInteger (constant weight) -> Cast -> scale
/// [-> bias] (matchIntegerChain) -> loom.qconv with `dynamic` = 1.
struct ImportConvInteger : OpRewritePattern<ConvIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvIntegerOp op,
                                PatternRewriter &rewriter) const override {
    if (cast<RankedTensorType>(op.getX().getType()).getRank() < 3)
      return failure();
    FailureOr<IntegerChain> chain =
        matchIntegerChain(rewriter, op, /*wAxis=*/0, /*yAxis=*/1);
    if (failed(chain))
      return failure();
    auto q = QConvOp::create(
        rewriter, op.getLoc(), chain->last->getResult(0).getType(), chain->x,
        chain->w, chain->bias, op.getAutoPadAttr(), op.getDilationsAttr(),
        op.getGroupAttr(), op.getKernelShapeAttr(), op.getPadsAttr(),
        op.getStridesAttr(), rewriter.getI64IntegerAttr(1),
        rewriter.getStringAttr("none"), FloatAttr(), FloatAttr());
    replaceChain(rewriter, op, *chain, q.getResult());
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
    imports.add<ImportDequantizeLinear, ImportQLinearMatMul, ImportQLinearConv,
                ImportMatMulInteger, ImportConvInteger>(&getContext());
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
