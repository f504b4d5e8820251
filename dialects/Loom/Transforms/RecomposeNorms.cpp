//===- RecomposeNorms.cpp - loom-recompose-norms --------------------------===//
//
// Recognize LayerNorm, RMSNorm and GroupNorm.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMRECOMPOSENORMS
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomRecomposeNormsPass : public loom::impl::LoomRecomposeNormsBase<LoomRecomposeNormsPass> {
  void runOnOperation() override {}
};

} // namespace
