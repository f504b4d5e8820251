//===- Passes.h - Passes of the loom dialect --------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_H

#include "Loom/LoomDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace loom {
#define GEN_PASS_DECL
#include "Loom/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Loom/Transforms/Passes.h.inc"

/// Adds the fusion passes to a func.func pass manager in the order loomc
/// runs them at -O1 and above (FusionPipeline.cpp).
void addFusionPasses(mlir::OpPassManager &funcPm);
/// Whether loom-quantize quantizes `op` (MatMul/Gemm/Conv and their fused
/// forms, SwiGLU) and so loom-calibrate observes its operand 0.
bool isQuantizationCandidate(mlir::Operation *op);
/// Registers the pipeline `loom-fusion` (for loom-opt).
void registerFusionPipeline();
} // namespace loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_H
