//===- PlanOps.h - Ops and types of the plan dialect ------------*- C++ -*-===//
#ifndef LOOM_DIALECT_PLANOPS_H
#define LOOM_DIALECT_PLANOPS_H

#include "Plan/PlanDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_TYPEDEF_CLASSES
#include "Plan/PlanTypes.h.inc"

#define GET_OP_CLASSES
#include "Plan/PlanOps.h.inc"

namespace loom::plan {
/// Alignment of every constant in weights.bin (bytes).
constexpr int64_t kWeightsAlignment = 64;
/// Bytes of one element of `type` as the runtime stores it (i1: one byte).
int64_t elementBytes(mlir::Type type);
/// Bytes of a statically shaped memref or tensor.
int64_t byteSize(mlir::ShapedType type);
/// The buffer `buffer` is part of: the source of a plan.view, else itself.
mlir::Value rootBuffer(mlir::Value buffer);
/// Byte offset of `buffer` inside rootBuffer(buffer) (0 unless a view).
int64_t offsetInRoot(mlir::Value buffer);
/// The bytes [first, second) of rootBuffer(buffer) that `buffer` covers.
std::pair<int64_t, int64_t> bytesInRoot(mlir::Value buffer);
/// The device whose arena holds `buffer` or its root ("" for weights and
/// none).
llvm::StringRef arenaDevice(mlir::Value buffer);
/// Calls `fn(buffer, isWrite)` for every buffer access inside a control
/// task's bodies (nested bodies included): body tasks' inputs (reads) and
/// outputs (writes), `plan.yield` params (written by the control task
/// before each run of the body) and results (read after). For lifetimes and
/// hazards, these accesses are the control task's own.
void forEachBodyAccess(TaskOp control,
                       llvm::function_ref<void(mlir::Value, bool)> fn);
/// The one plan.schedule of a plan module; an error on the module when there
/// is not exactly one.
mlir::FailureOr<ScheduleOp> getPlanSchedule(mlir::ModuleOp module);
} // namespace loom::plan

#endif // LOOM_DIALECT_PLANOPS_H
