//===- EqualizeChannels.h - Cross-layer equalization of conv pairs -*- C++ -*-===//
//
// What loom-equalize-channels does, one pair at a time, so that
// quantizeModule can choose the pairs (docs/quantization.md, "Cross-layer
// equalization"): the pairs are named by their second convolution.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_EQUALIZECHANNELS_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_EQUALIZECHANNELS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

namespace loom::equalize {

/// The second convolution of every pair under `root` that cross-layer
/// equalization can rescale (conv1 -> nothing or a relu only conv2 reads ->
/// ungrouped conv2, constant f32 weights, conv1's activation none, relu or
/// leaky_relu), in program order.
llvm::SmallVector<mlir::Operation *> pairs(mlir::Operation *root);

/// Equalizes the pair ending at `second` with the scales of its current
/// weights; false when it is not such a pair or no scale differs from 1.
bool equalizePair(mlir::Operation *second);

} // namespace loom::equalize

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_EQUALIZECHANNELS_H
