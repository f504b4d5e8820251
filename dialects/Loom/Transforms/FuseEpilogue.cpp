//===- FuseEpilogue.cpp - loom-fuse-epilogue ------------------------------===//
//
// Fuse a bias Add and an activation into Conv/ConvTranspose/Gemm/MatMul.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFUSEEPILOGUE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomFuseEpiloguePass : public loom::impl::LoomFuseEpilogueBase<LoomFuseEpiloguePass> {
  void runOnOperation() override {}
};

} // namespace
