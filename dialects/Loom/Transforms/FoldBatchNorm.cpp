//===- FoldBatchNorm.cpp - loom-fold-batchnorm ----------------------------===//
//
// Fold BatchNormalization into the weights and bias of Conv/ConvTranspose/Gemm/MatMul.
//
// An inference BatchNormalization is a per-channel affine map
// y = x · s + t with s = scale / sqrt(var + epsilon), t = B - mean · s; when
// its input is the only use of a producer with constant weights, the map is
// folded into the producer's weights (scaled per output channel) and bias.
//
// The helpers the producer folds share are in ProducerFold.h.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"
#include "Loom/Transforms/ProducerFold.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFOLDBATCHNORM
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
using namespace loom::producer_fold;

struct FoldBatchNormPattern : OpRewritePattern<BatchNormalizationOp> {
  FoldBatchNormPattern(MLIRContext *ctx, int64_t &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(BatchNormalizationOp bn,
                                PatternRewriter &rewriter) const override {
    // Inference form only: no training, no running statistics used.
    if (bn.getTrainingMode() != 0 || !bn.getRunningMean().use_empty() ||
        !bn.getRunningVar().use_empty())
      return failure();
    Value x = bn.getX();
    Operation *producer = x.getDefiningOp();
    if (!producer || !x.hasOneUse() || bn.getY().getType() != x.getType())
      return failure();
    std::optional<int64_t> axis = channelAxis(producer);
    // BatchNormalization normalizes dimension 1.
    if (!axis || *axis != 1)
      return failure();
    int64_t channels = cast<RankedTensorType>(x.getType()).getDimSize(1);
    std::vector<float> params[4];
    Value operands[4] = {bn.getScale(), bn.getB(), bn.getInputMean(),
                         bn.getInputVar()};
    for (int i = 0; i < 4; ++i) {
      auto t = dyn_cast<RankedTensorType>(operands[i].getType());
      if (!t || t.getRank() != 1 || t.getDimSize(0) != channels)
        return failure();
      std::optional<std::vector<float>> data = readF32(operands[i]);
      if (!data || int64_t(data->size()) != channels)
        return failure();
      params[i] = std::move(*data);
    }
    double eps = bn.getEpsilonAttr().getValueAsDouble();
    SmallVector<double> scale(channels), shift(channels);
    for (int64_t c = 0; c < channels; ++c) {
      double var = double(params[3][c]) + eps;
      if (!(var > 0))
        return failure();
      scale[c] = double(params[0][c]) / std::sqrt(var);
      shift[c] = double(params[1][c]) - double(params[2][c]) * scale[c];
    }
    if (failed(foldChannelAffine(rewriter, producer, scale, shift, bn)))
      return failure();
    ++count;
    return success();
  }

  int64_t &count;
};

struct LoomFoldBatchNormPass : public loom::impl::LoomFoldBatchNormBase<LoomFoldBatchNormPass> {
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNormPattern>(&getContext(), count);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
    numRewritten += count;
  }
};

} // namespace
