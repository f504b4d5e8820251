//===- RecomposeSwiGlu.cpp - loom-recompose-swiglu ------------------------===//
//
// Recognize SwiGLU.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMRECOMPOSESWIGLU
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomRecomposeSwiGluPass : public loom::impl::LoomRecomposeSwiGluBase<LoomRecomposeSwiGluPass> {
  void runOnOperation() override {}
};

} // namespace
