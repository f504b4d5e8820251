//===- LoomUtils.h - Helpers shared by folders and shape helpers -*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOMUTILS_H
#define LOOM_DIALECT_LOOMUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace loom {

/// The largest constant (in elements) that folding materializes. Folding is
/// meant for shape-computing subgraphs; larger tensors are left to the runtime
/// so that no weight is ever duplicated inside the IR.
constexpr int64_t kMaxFoldElements = 1 << 16;

/// A dense view of a constant: a `dense` attribute as is, a `dense_resource`
/// blob converted (when at most kMaxFoldElements). Null otherwise.
mlir::DenseElementsAttr toDense(mlir::Attribute attr);

/// The integer values of a constant integer tensor.
std::optional<llvm::SmallVector<int64_t>> getInts(mlir::Attribute attr);
/// The integer values of `v` when it is defined by a constant.
std::optional<llvm::SmallVector<int64_t>> getConstantInts(mlir::Value v);
/// The constant attribute defining `v`, if any.
mlir::Attribute getConstantAttr(mlir::Value v);

/// The value of a one-element (scalar or [1, ...]) numeric constant.
std::optional<double> getScalarConstant(mlir::Value v);
/// Whether `v` is a one-element constant equal to `want` within a relative
/// 1e-4 (an absolute 1e-6 when `want` is 0): how the fusion passes recognize
/// the constants exporters write (0.5, √2, 0.044715, ...).
bool isScalarConstant(mlir::Value v, double want);

/// ONNX multidirectional broadcasting of two shapes (dynamic dims allowed).
/// Fails when two static dimensions differ and neither is 1.
llvm::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// `axis` made non-negative for a tensor of `rank`.
inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// Whether `v` is an absent optional operand (a value of type `none`).
inline bool isNone(mlir::Value v) {
  return !v || llvm::isa<mlir::NoneType>(v.getType());
}

} // namespace loom

#endif // LOOM_DIALECT_LOOMUTILS_H
