//===- RecomposeAttention.cpp - loom-recompose-attention ------------------===//
//
// Recognize scaled dot-product attention, including grouped-query attention.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMRECOMPOSEATTENTION
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomRecomposeAttentionPass : public loom::impl::LoomRecomposeAttentionBase<LoomRecomposeAttentionPass> {
  void runOnOperation() override {}
};

} // namespace
