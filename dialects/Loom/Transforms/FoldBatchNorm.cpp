//===- FoldBatchNorm.cpp - loom-fold-batchnorm ----------------------------===//
//
// Fold BatchNormalization into the weights and bias of Conv/ConvTranspose/Gemm/MatMul.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFOLDBATCHNORM
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomFoldBatchNormPass : public loom::impl::LoomFoldBatchNormBase<LoomFoldBatchNormPass> {
  void runOnOperation() override {}
};

} // namespace
