//===- LoomFusedOps.cpp - Fused ops: definitions and verifiers ------------===//
//
// The fused ops are created by the fusion passes with their result types
// known; the verifiers check what the runtime kernels rely on
// (docs/fused-ops.md).
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace loom;

#define GET_OP_CLASSES
#include "Loom/LoomFusedOps.cpp.inc"

bool loom::isFusedActivation(StringRef name) {
  return llvm::is_contained({"none", "relu", "leaky_relu", "clip", "sigmoid",
                             "hard_sigmoid", "hard_swish", "tanh", "gelu",
                             "gelu_tanh", "silu"},
                            name);
}

template <typename OpTy> static LogicalResult verifyActivation(OpTy op) {
  if (!isFusedActivation(op.getActivation()))
    return op.emitOpError("unknown activation '") << op.getActivation() << "'";
  return success();
}

static int64_t rankOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getRank();
}

LogicalResult FusedConvOp::verify() {
  if (rankOf(getX()) < 3 || rankOf(getW()) != rankOf(getX()))
    return emitOpError("expects X and W of one rank >= 3");
  return verifyActivation(*this);
}

LogicalResult FusedConvTransposeOp::verify() {
  if (rankOf(getX()) < 3 || rankOf(getW()) != rankOf(getX()))
    return emitOpError("expects X and W of one rank >= 3");
  return verifyActivation(*this);
}

LogicalResult FusedGemmOp::verify() {
  if (rankOf(getA()) != 2 || rankOf(getB()) != 2)
    return emitOpError("expects 2-D A and B");
  return verifyActivation(*this);
}

LogicalResult FusedMatMulOp::verify() {
  if ((getTransA() && rankOf(getA()) < 2) || (getTransB() && rankOf(getB()) < 2))
    return emitOpError("trans_a/trans_b need an operand of rank >= 2");
  return verifyActivation(*this);
}

LogicalResult RmsNormOp::verify() {
  int64_t r = rankOf(getX()), axis = int64_t(getAxis());
  if (axis < -r || axis >= r)
    return emitOpError("axis ") << axis << " is out of range for rank " << r;
  return success();
}

LogicalResult GroupNormOp::verify() {
  auto x = cast<RankedTensorType>(getX().getType());
  if (x.getRank() < 2)
    return emitOpError("expects X of rank >= 2 ([N, C, ...])");
  int64_t c = x.getDimSize(1), groups = int64_t(getNumGroups());
  if (groups <= 0 || (!ShapedType::isDynamic(c) && c % groups))
    return emitOpError("num_groups ")
           << groups << " does not divide the " << c << " channels";
  return success();
}

template <typename OpTy> static LogicalResult verifySkipNorm(OpTy op) {
  if (op.getX().getType() != op.getS().getType())
    return op.emitOpError("X and S must have one type");
  int64_t r = rankOf(op.getX()), axis = int64_t(op.getAxis());
  if (axis < -r || axis >= r)
    return op.emitOpError("axis ") << axis << " is out of range for rank " << r;
  return success();
}

LogicalResult SkipLayerNormOp::verify() { return verifySkipNorm(*this); }
LogicalResult SkipRmsNormOp::verify() { return verifySkipNorm(*this); }

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be 'none' or 'tanh', not '")
           << getApproximate() << "'";
  return success();
}

LogicalResult SiluOp::verify() { return success(); }

LogicalResult AttentionOp::verify() {
  auto q = cast<RankedTensorType>(getQ().getType());
  auto k = cast<RankedTensorType>(getK().getType());
  auto v = cast<RankedTensorType>(getV().getType());
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOpError("expects 4-D Q, K and V ([batch, heads, seq, dim])");
  int64_t qh = int64_t(getQHeads()), kvh = int64_t(getKvHeads());
  if (qh <= 0 || kvh <= 0 || qh % kvh)
    return emitOpError("q_heads ") << qh
                                   << " must be a positive multiple of kv_heads "
                                   << kvh;
  auto staticNe = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && a != b;
  };
  if (staticNe(q.getDimSize(1), qh) || staticNe(k.getDimSize(1), kvh) ||
      staticNe(v.getDimSize(1), kvh))
    return emitOpError("head dimensions do not match q_heads/kv_heads");
  return success();
}

LogicalResult SwiGluOp::verify() {
  if (getW1().getType() != getW3().getType() || rankOf(getW1()) != 2)
    return emitOpError("expects 2-D W1 and W3 of one type");
  return success();
}

LogicalResult FusedElementwiseOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body has ") << body.getNumArguments()
                                    << " arguments for " << getInputs().size()
                                    << " inputs";
  for (auto [arg, in] : llvm::zip(body.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError("body argument types must equal the input types");
  auto yield = dyn_cast<FusedYieldOp>(body.getTerminator());
  if (!yield || yield.getResults().size() != getResults().size())
    return emitOpError("body must end with a loom.fused_yield of one value "
                       "per result");
  for (auto [y, r] : llvm::zip(yield.getResults(), getResults()))
    if (y.getType() != r.getType())
      return emitOpError("yielded types must equal the result types");
  return success();
}
