//===- FoldConstantArith.cpp - loom-fold-constant-arith -------------------===//
//
// Fold Add/Mul by constants into Conv/Gemm/MatMul bias and weights.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFOLDCONSTANTARITH
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

struct LoomFoldConstantArithPass : public loom::impl::LoomFoldConstantArithBase<LoomFoldConstantArithPass> {
  void runOnOperation() override {}
};

} // namespace
