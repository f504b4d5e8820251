//===- EqualizeChannels.cpp - Cross-layer equalization of conv pairs ------===//
//
// Data-free quantization's cross-layer equalization (Nagel et al. 2019, as
// Qualcomm's AIMET applies it): for two convolutions in a row, conv1 -> (an
// activation f with f(s x) = s f(x) for s > 0: none, relu, leaky_relu) ->
// conv2, output channel i of conv1 and input channel i of conv2 can trade
// a scale s_i without changing the function:
//   W1[i] / s_i, B1[i] / s_i, W2[:, i] * s_i.
// With s_i = sqrt(r1_i / r2_i) (r1_i = max |W1[i]|, r2_i = max |W2[:, i]|)
// both ranges become sqrt(r1_i * r2_i): channels that a trained network
// shrank in one layer and blew up in the next (batch norm folding does
// this) stop dominating conv2's per-output-channel quantization range.
// loomc --quantize applies it per pair through loom::equalize (where a pair
// pays on data: docs/quantization.md, "Cross-layer equalization").
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"
#include "Loom/Transforms/EqualizeChannels.h"
#include "Loom/Transforms/ProducerFold.h"

#include "mlir/IR/Builders.h"

#include <cmath>

namespace loom {
#define GEN_PASS_DEF_LOOMEQUALIZECHANNELS
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;
using namespace loom;
using loom::producer_fold::createF32Constant;
using loom::producer_fold::readF32;

namespace {

/// A convolution (conv or fused_conv): its operands and group.
struct Conv {
  Operation *op = nullptr;
  Value x, w, b;
  int64_t group = 1;
  StringRef activation = "none";
};

std::optional<Conv> asConv(Operation *op) {
  Conv c;
  c.op = op;
  if (auto conv = dyn_cast_or_null<ConvOp>(op)) {
    c.x = conv.getX();
    c.w = conv.getW();
    c.b = conv.getB();
    c.group = conv.getGroup();
  } else if (auto fused = dyn_cast_or_null<FusedConvOp>(op)) {
    c.x = fused.getX();
    c.w = fused.getW();
    c.b = fused.getB();
    c.group = fused.getGroup();
    c.activation = fused.getActivation();
  } else {
    return std::nullopt;
  }
  return c;
}

/// A pair cross-layer equalization can rescale: conv1 (feeding conv2
/// through nothing or a relu only conv2 reads) and conv2.
struct Pair {
  Conv c1, c2;
  RankedTensorType w1Type, w2Type;
};

std::optional<Pair> matchPair(Operation *op2) {
  std::optional<Conv> c2 = asConv(op2);
  if (!c2 || c2->group != 1)
    return std::nullopt;
  // Between the two: nothing, or a relu that only conv2 reads.
  Value link = c2->x;
  if (auto relu = link.getDefiningOp<ReluOp>()) {
    if (!relu->hasOneUse())
      return std::nullopt;
    link = relu.getX();
  }
  std::optional<Conv> c1 = asConv(link.getDefiningOp());
  if (!c1 || !c1->op->hasOneUse() ||
      !llvm::is_contained({StringRef("none"), StringRef("relu"),
                           StringRef("leaky_relu")},
                          c1->activation))
    return std::nullopt;
  auto w1Type = dyn_cast<RankedTensorType>(c1->w.getType());
  auto w2Type = dyn_cast<RankedTensorType>(c2->w.getType());
  if (!w1Type || !w2Type || w1Type.getRank() < 3 ||
      w2Type.getRank() != w1Type.getRank() ||
      w1Type.getDimSize(0) != w2Type.getDimSize(1))
    return std::nullopt;
  if (!readF32(c1->w) || !readF32(c2->w) ||
      (!isNone(c1->b) && !readF32(c1->b)))
    return std::nullopt;
  return Pair{*c1, *c2, w1Type, w2Type};
}

struct LoomEqualizeChannelsPass
    : public loom::impl::LoomEqualizeChannelsBase<LoomEqualizeChannelsPass> {
  void runOnOperation() override {
    for (Operation *op : equalize::pairs(getOperation()))
      if (equalize::equalizePair(op))
        ++numEqualized;
  }
};

} // namespace

SmallVector<Operation *> loom::equalize::pairs(Operation *root) {
  SmallVector<Operation *> second;
  root->walk([&](Operation *op) {
    if (isa<ConvOp, FusedConvOp>(op) && matchPair(op))
      second.push_back(op);
  });
  return second;
}

bool loom::equalize::equalizePair(Operation *op2) {
  std::optional<Pair> p = matchPair(op2);
  if (!p)
    return false;
  Conv *c1 = &p->c1, *c2 = &p->c2;
  RankedTensorType w1Type = p->w1Type, w2Type = p->w2Type;
  std::optional<std::vector<float>> w1 = readF32(c1->w), w2 = readF32(c2->w);
  std::optional<std::vector<float>> b1;
  if (!isNone(c1->b))
    b1 = readF32(c1->b);
  const int64_t channels = w1Type.getDimSize(0);
  const int64_t per1 = int64_t(w1->size()) / channels;
  const int64_t outs2 = w2Type.getDimSize(0);
  const int64_t per2 = int64_t(w2->size()) / (outs2 * channels);
  std::vector<double> s(size_t(channels), 1.0);
  bool changes = false;
  for (int64_t i = 0; i < channels; ++i) {
    double r1 = 0, r2 = 0;
    for (int64_t k = 0; k < per1; ++k)
      r1 = std::max(r1, double(std::fabs((*w1)[size_t(i * per1 + k)])));
    for (int64_t o = 0; o < outs2; ++o)
      for (int64_t k = 0; k < per2; ++k)
        r2 = std::max(r2, double(std::fabs(
                              (*w2)[size_t((o * channels + i) * per2 + k)])));
    if (r1 > 0 && r2 > 0 && std::isfinite(r1) && std::isfinite(r2))
      s[size_t(i)] = std::sqrt(r1 / r2);
    changes |= s[size_t(i)] != 1.0;
  }
  if (!changes)
    return false;
  for (int64_t i = 0; i < channels; ++i) {
    for (int64_t k = 0; k < per1; ++k)
      (*w1)[size_t(i * per1 + k)] =
          float(double((*w1)[size_t(i * per1 + k)]) / s[size_t(i)]);
    if (b1)
      (*b1)[size_t(i)] = float(double((*b1)[size_t(i)]) / s[size_t(i)]);
    for (int64_t o = 0; o < outs2; ++o)
      for (int64_t k = 0; k < per2; ++k) {
        float &v = (*w2)[size_t((o * channels + i) * per2 + k)];
        v = float(double(v) * s[size_t(i)]);
      }
  }
  OpBuilder b(c1->op);
  Location loc = c1->op->getLoc();
  c1->op->setOperand(1, createF32Constant(b, loc, w1Type.getShape(), *w1,
                                          "equalized_weight"));
  if (b1)
    c1->op->setOperand(2, createF32Constant(
                              b, loc,
                              cast<RankedTensorType>(c1->b.getType()).getShape(),
                              *b1, "equalized_bias"));
  b.setInsertionPoint(op2);
  op2->setOperand(1, createF32Constant(b, op2->getLoc(), w2Type.getShape(),
                                       *w2, "equalized_weight"));
  return true;
}
