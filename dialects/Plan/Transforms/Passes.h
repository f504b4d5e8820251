//===- Passes.h - Passes of the plan dialect --------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H
#define LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace loom::target {
struct TargetDesc;
} // namespace loom::target

namespace loom::plan {
/// The target named by the module's `plan.target` attribute (a built-in name
/// or a YAML file), for the pass `passName`; errors on the module.
mlir::FailureOr<loom::target::TargetDesc>
loadPlanTarget(mlir::ModuleOp module, llvm::StringRef passName);

#define GEN_PASS_DECL
#include "Plan/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

#endif // LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H
