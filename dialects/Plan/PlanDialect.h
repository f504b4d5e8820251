//===- PlanDialect.h - The plan dialect -------------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_PLANDIALECT_H
#define LOOM_DIALECT_PLANDIALECT_H

#include "mlir/IR/Dialect.h"

#include "Plan/PlanDialect.h.inc"

#endif // LOOM_DIALECT_PLANDIALECT_H
