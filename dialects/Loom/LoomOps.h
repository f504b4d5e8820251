//===- LoomOps.h - Ops of the loom dialect ----------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOMOPS_H
#define LOOM_DIALECT_LOOMOPS_H

#include "Loom/LoomDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace loom {
namespace OpTrait {
/// Elementwise op whose operands broadcast to the result (ONNX
/// multidirectional broadcasting).
template <typename ConcreteType>
class BroadcastingElementwise
    : public mlir::OpTrait::TraitBase<ConcreteType, BroadcastingElementwise> {};
/// Op whose first result has the shape of its first operand.
template <typename ConcreteType>
class SameShapeAsFirstOperand
    : public mlir::OpTrait::TraitBase<ConcreteType, SameShapeAsFirstOperand> {};
} // namespace OpTrait

namespace detail {
/// Shape helper shared by the elementwise ops (broadcast or same-as-first).
llvm::LogicalResult
inferElementwiseResultTypes(mlir::Operation *op,
                            llvm::SmallVectorImpl<mlir::Type> &resultTypes);
/// Checks that the values bound to one ONNX type variable have one element
/// type (absent optional values, of type `none`, are skipped).
llvm::LogicalResult verifyTypeVariable(mlir::Operation *op,
                                       llvm::StringRef typeVar,
                                       llvm::ArrayRef<mlir::Value> values);
} // namespace detail

/// The activations a fused producer's `activation` attribute may name
/// (docs/fused-ops.md).
bool isFusedActivation(llvm::StringRef name);
/// The quantized element type of a tensor type (or a quantized scalar type),
/// or null.
mlir::quant::QuantizedType quantElementType(mlir::Type t);
/// Whether `t` is quantized per tensor (one scale and zero point).
bool isPerTensorQuant(mlir::Type t);
} // namespace loom

#include "Loom/LoomInterfaces.h.inc"

#define GET_OP_CLASSES
#include "Loom/LoomAll.h.inc"

#define GET_OP_CLASSES
#include "Loom/LoomFusedOps.h.inc"

#define GET_OP_CLASSES
#include "Loom/LoomQuantOps.h.inc"

namespace loom {
#include "Loom/LoomHandVerifiers.inc"
} // namespace loom

#endif // LOOM_DIALECT_LOOMOPS_H
