//===- FuseSkipNorm.cpp - loom-fuse-skip-norm -----------------------------===//
//
// Fuse a residual Add into the LayerNorm/RMSNorm that follows it.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFUSESKIPNORM
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomFuseSkipNormPass : public loom::impl::LoomFuseSkipNormBase<LoomFuseSkipNormPass> {
  void runOnOperation() override {}
};

} // namespace
