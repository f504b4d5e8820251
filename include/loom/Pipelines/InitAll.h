//===- InitAll.h - Register every dialect and pass of Loom ------*- C++ -*-===//
#ifndef LOOM_PIPELINES_INITALL_H
#define LOOM_PIPELINES_INITALL_H

#include "Loom/LoomDialect.h"
#include "Loom/Transforms/Passes.h"
#include "Plan/PlanDialect.h"
#include "Plan/Transforms/Passes.h"
#include "loom/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace loom {
/// The dialects Loom's IR uses.
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<LoomDialect, plan::PlanDialect, mlir::func::FuncDialect,
                  mlir::quant::QuantDialect>();
}
/// Loom's passes plus the upstream ones its pipelines use.
inline void registerAllPasses() {
  registerLoomPasses();
  registerFusionPipeline();
  registerPipelinesPasses();
  plan::registerPlanPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}
} // namespace loom

#endif // LOOM_PIPELINES_INITALL_H
