//===- LoomQuantOps.cpp - Quantized ops: definitions and verifiers --------===//
//
// The verifiers check what plan-from-loom and the runtime kernels rely on
// (docs/quantization.md): f32 expressed types, per-tensor activations, and
// weight scales that map onto the kernels' "scale tensor of the weight's
// rank" contract.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace loom;

#define GET_OP_CLASSES
#include "Loom/LoomQuantOps.cpp.inc"

quant::QuantizedType loom::quantElementType(Type t) {
  auto shaped = dyn_cast<ShapedType>(t);
  return dyn_cast<quant::QuantizedType>(shaped ? shaped.getElementType() : t);
}

bool loom::isPerTensorQuant(Type t) {
  return isa_and_nonnull<quant::UniformQuantizedType>(quantElementType(t));
}

/// A quantized tensor type the kernels take: uniform (per tensor, per axis
/// or sub-channel), f32 expressed type, storage of at most 8 bits.
static LogicalResult verifyQuantType(Operation *op, Type t, StringRef what) {
  quant::QuantizedType q = quantElementType(t);
  if (!q)
    return op->emitOpError() << what << " must be a quantized tensor";
  if (!isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType,
           quant::UniformQuantizedSubChannelType>(q))
    return op->emitOpError() << what << " must have a uniform quantized type";
  if (!q.getExpressedType().isF32())
    return op->emitOpError() << what << " must express f32";
  if (q.getStorageTypeIntegralWidth() > 8)
    return op->emitOpError() << what << " must be stored in at most 8 bits";
  return success();
}

static bool sameShape(Type a, Type b) {
  return cast<ShapedType>(a).getShape() == cast<ShapedType>(b).getShape();
}

LogicalResult QuantizeOp::verify() {
  if (!sameShape(getInput().getType(), getOutput().getType()))
    return emitOpError("input and output shapes differ");
  return verifyQuantType(*this, getOutput().getType(), "the result");
}

LogicalResult DequantizeOp::verify() {
  if (!sameShape(getInput().getType(), getOutput().getType()))
    return emitOpError("input and output shapes differ");
  return verifyQuantType(*this, getInput().getType(), "the input");
}

LogicalResult QConstantOp::verify() {
  if (failed(verifyQuantType(*this, getOutput().getType(), "the result")))
    return failure();
  auto valueType = dyn_cast<ShapedType>(getValue().getType());
  if (!valueType || !sameShape(valueType, getOutput().getType()))
    return emitOpError("value and result shapes differ");
  auto storage = dyn_cast<IntegerType>(valueType.getElementType());
  if (!storage || storage.getWidth() != 8)
    return emitOpError("value must hold 8-bit integers (the stored values)");
  if (std::optional<StringRef> s = getSparsity()) {
    if (*s != "2:4")
      return emitOpError("sparsity must be \"2:4\", got \"") << *s << "\"";
    if (valueType.getRank() != 2 || valueType.getDimSize(0) % 4 != 0)
      return emitOpError("2:4 sparsity needs a [K, N] weight with K a "
                         "multiple of 4, got ")
             << getOutput().getType();
  }
  return success();
}

/// Activations (A/X and a quantized Y) are quantized per tensor; W is a
/// quantized weight; bias is f32 with one element per output channel.
template <typename OpTy>
static LogicalResult verifyQuantProducer(OpTy op, Value input, int64_t outDim,
                                         StringRef inputName) {
  if (isa<quant::QuantizedType>(
          cast<ShapedType>(input.getType()).getElementType())) {
    if (!isPerTensorQuant(input.getType()))
      return op.emitOpError() << inputName << " must be quantized per tensor";
    if (failed(verifyQuantType(op, input.getType(), inputName)))
      return failure();
    if (op.getDynamic())
      return op.emitOpError("dynamic = 1 needs an f32 ") << inputName;
  }
  if (failed(verifyQuantType(op, op.getW().getType(), "W")))
    return failure();
  Type y = op.getY().getType();
  if (quantElementType(y)) {
    if (!isPerTensorQuant(y))
      return op.emitOpError("a quantized result must be quantized per tensor");
    if (failed(verifyQuantType(op, y, "the result")))
      return failure();
  }
  if (auto bias = dyn_cast<RankedTensorType>(op.getBias().getType()))
    if (bias.getRank() != 1 || bias.getDimSize(0) != outDim)
      return op.emitOpError("bias must have shape [") << outDim << "]";
  if (!isFusedActivation(op.getActivation()))
    return op.emitOpError("unknown activation '") << op.getActivation() << "'";
  return success();
}

LogicalResult QMatMulOp::verify() {
  auto a = cast<RankedTensorType>(getA().getType());
  auto w = cast<RankedTensorType>(getW().getType());
  if (w.getRank() != 2 || a.getRank() < 2)
    return emitOpError("expects A of rank >= 2 and a 2-D W");
  if (a.getShape().back() != w.getDimSize(0))
    return emitOpError("A's last dimension (")
           << a.getShape().back() << ") differs from W's first ("
           << w.getDimSize(0) << ")";
  return verifyQuantProducer(*this, getA(), w.getDimSize(1), "A");
}

LogicalResult QConvOp::verify() {
  auto x = cast<RankedTensorType>(getX().getType());
  auto w = cast<RankedTensorType>(getW().getType());
  if (x.getRank() < 3 || w.getRank() != x.getRank())
    return emitOpError("expects X and W of one rank >= 3");
  return verifyQuantProducer(*this, getX(), w.getDimSize(0), "X");
}
