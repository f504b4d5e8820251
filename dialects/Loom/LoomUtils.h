//===- LoomUtils.h - Helpers shared by folders and shape helpers -*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOMUTILS_H
#define LOOM_DIALECT_LOOMUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

#include <optional>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace loom {

/// The largest constant (in elements) that folding materializes. Folding is
/// meant for shape-computing subgraphs; larger tensors are left to the runtime
/// so that no weight is ever duplicated inside the IR.
constexpr int64_t kMaxFoldElements = 1 << 16;

/// A dense view of a constant: a `dense` attribute as is, a `dense_resource`
/// blob converted (when at most kMaxFoldElements). Null otherwise.
mlir::DenseElementsAttr toDense(mlir::Attribute attr);

/// The bytes of a constant as the runtime stores them (row-major,
/// little-endian; bool one byte per element, every other type its bit width
/// rounded up to bytes). False when the attribute's data is not available.
bool constantBytes(mlir::ElementsAttr attr, std::string &out);

/// f32 `values` of `type` as a resource blob named `name` (a copy, aligned
/// for the runtime): how large float weights are held without a per-element
/// attribute.
mlir::ElementsAttr f32Resource(mlir::RankedTensorType type,
                               llvm::ArrayRef<float> values, llvm::StringRef name);

/// A constant of `i8` elements in `shape` holding `values` (the stored
/// integers of a quantized constant): a `dense` attribute up to 64 values,
/// a `dense_resource` blob beyond.
mlir::ElementsAttr storedIntegers(mlir::MLIRContext *ctx,
                                  llvm::ArrayRef<int64_t> shape,
                                  llvm::ArrayRef<int8_t> values);

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
/// The graph inputs (their loom.name, or #N) of `func` that `v`'s value is
/// computed from, in argument order.
llvm::SmallVector<std::string> inputsFeeding(mlir::func::FuncOp func,
                                             mlir::Value v);

/// The first op under `root` (post-order) that fails its own verification,
/// found with diagnostics silenced; null when every op verifies.
mlir::Operation *firstInvalidOp(mlir::Operation *root);

/// After an error on `op` (shape inference or verification) inside a branch
/// of an If whose condition is known only at run time: such an If keeps both
/// branches, so both must hold for the bound shapes. Exporters write Ifs
/// whose other branch serves other inputs (Hugging Face Optimum's merged
/// decoder: with and without a cache). Emits an error on the If saying which
/// branch failed and which inputs decide its condition; nothing when `op` is
/// in no such branch.
void explainRunTimeBranch(mlir::func::FuncOp func, mlir::Operation *op);

inline bool isNone(mlir::Value v) {
  return !v || llvm::isa<mlir::NoneType>(v.getType());
}

} // namespace loom

#endif // LOOM_DIALECT_LOOMUTILS_H
