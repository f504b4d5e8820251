//===- Passes.h - Passes of the plan dialect --------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H
#define LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace loom::plan {
#define GEN_PASS_DECL
#include "Plan/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

#endif // LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H
