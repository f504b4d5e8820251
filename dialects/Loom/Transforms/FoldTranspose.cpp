//===- FoldTranspose.cpp - loom-fold-transpose ----------------------------===//
//
// Fold Transposes into MatMul/Gemm and merge consecutive Transposes/Reshapes.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFOLDTRANSPOSE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomFoldTransposePass : public loom::impl::LoomFoldTransposeBase<LoomFoldTransposePass> {
  void runOnOperation() override {}
};

} // namespace
