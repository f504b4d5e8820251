//===- ProducerFold.h - Helpers shared by the producer folds ----*- C++ -*-===//
//
// What loom-fold-batchnorm, loom-fold-constant-arith and loom-fuse-epilogue
// share (ProducerFold.cpp): which ops are producers (Conv, ConvTranspose,
// Gemm, MatMul and their fused forms without an activation), their
// output-channel axis, reading and creating f32 constants, and folding a
// per-channel affine map into a producer's weights and bias.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_PRODUCERFOLD_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_PRODUCERFOLD_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <vector>

namespace loom::producer_fold {

/// The values of a constant f32 tensor (dense or dense_resource), or
/// nullopt.
std::optional<std::vector<float>> readF32(mlir::Value v);
/// A loom.constant holding `values` (dense up to 64 elements, else a
/// dense_resource blob named after `name`).
mlir::Value createF32Constant(mlir::OpBuilder &b, mlir::Location loc,
                              llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<float> values,
                              llvm::StringRef name);
/// Whether `op` is a producer the folds handle.
bool isProducer(mlir::Operation *op);
/// The output-channel axis of a producer's result.
std::optional<int64_t> channelAxis(mlir::Operation *op);
/// The per-channel values of constant `c` when it varies along `op`'s
/// output channels only (a scalar gives one value per channel).
std::optional<llvm::SmallVector<double>> perChannelValues(mlir::Value c,
                                                          mlir::Operation *op);
/// The producer's bias plus `shift` (per channel), as a new constant.
mlir::FailureOr<mlir::Value> shiftedBias(mlir::OpBuilder &b, mlir::Location loc,
                                         mlir::Operation *op,
                                         llvm::ArrayRef<double> shift);
/// Rewrites `consumer` (a per-channel y = x · scale + shift of `op`'s result)
/// and `op` into one producer with folded weights and bias.
mlir::LogicalResult foldChannelAffine(mlir::PatternRewriter &rewriter,
                                      mlir::Operation *op,
                                      llvm::ArrayRef<double> scale,
                                      llvm::ArrayRef<double> shift,
                                      mlir::Operation *consumer);

} // namespace loom::producer_fold

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_PRODUCERFOLD_H
