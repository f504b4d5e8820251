//===- FuseElementwise.cpp - loom-fuse-elementwise ------------------------===//
//
// Fuse chains and trees of elementwise ops into loom.fused_elementwise.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFUSEELEMENTWISE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomFuseElementwisePass : public loom::impl::LoomFuseElementwiseBase<LoomFuseElementwisePass> {
  void runOnOperation() override {}
};

} // namespace
