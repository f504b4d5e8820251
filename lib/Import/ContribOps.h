//===- ContribOps.h - The ONNX Runtime contrib ops Loom imports -*- C++ -*-===//
//
// Loom imports the default ONNX domain and, from ONNX Runtime's
// `com.microsoft` domain, the ops listed here (docs/quantization.md,
// "ONNX Runtime's 4-bit format"):
//
//   MatMulNBits(A, B, scales, zero_points?, g_idx?, bias?) -> Y
//     Y = A @ dequant(B)^T + bias, B's codes packed low-first along K in
//     blocks of `block_size`, dequant = (code - zero_point) * scale.
//
// Their schemas are registered with ONNX's registry (so that the model
// checks and shape inference see them like any other op), and the importer
// lowers each to loom ops: 4- and 8-bit weights with integer zero points
// become a quantized constant (sub-channel blocks along K) dequantized into
// a MatMul, which loom-fold-qdq turns into the weight-only `qmatmul`; the
// forms those types cannot hold (float zero points, g_idx, K not a multiple
// of the block, other bit widths) become their dequantized f32 weight.
//
// ONNX's own blocked or 4-bit DequantizeLinear-21 (which ONNX 1.12 cannot
// type) reaches the importer as kLoomImportDomain's BlockedDequantizeLinear
// (VersionAdapters.cpp) and is lowered to the same quantized constants.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_IMPORT_CONTRIBOPS_H
#define LOOM_LIB_IMPORT_CONTRIBOPS_H

#include "mlir/IR/Builders.h"

#include "ImportSupport.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <string>

namespace loom::import {

/// The domain of ONNX Runtime's contrib ops.
inline constexpr const char *kMicrosoftDomain = "com.microsoft";

/// Registers the schemas of the supported contrib ops with ONNX's registry
/// (once per process).
void registerContribSchemas();

/// Whether `node` is a contrib op Loom imports.
bool isSupportedContribOp(const onnx::NodeProto &node);

/// The list of supported contrib ops, for messages ("com.microsoft
/// MatMulNBits").
std::string supportedContribOps();

/// Checks what ONNX's schema cannot: attribute values and their agreement
/// with the constant operands' shapes. `where` names the node; `constant`
/// finds an initializer by name (null when the input is not one). Calls
/// fail() on error.
void checkContribNode(
    const onnx::NodeProto &node, const std::string &where,
    const std::function<const onnx::TensorProto *(const std::string &)>
        &constant);

/// The operands of a MatMulNBits node, as the importer has them.
struct MatMulNBitsOperands {
  mlir::Value a;
  /// The constants' bytes (row-major, little-endian) and element types.
  std::string b, scales, zeroPoints, gIdx;
  int zeroPointType = 0; // onnx::TensorProto::DataType; 0: absent
  bool hasGIdx = false;
  mlir::Value bias; // null when absent
};

/// Lowers a checked MatMulNBits node to loom ops at `loc`; returns Y of
/// type `resultType`.
mlir::Value lowerMatMulNBits(mlir::OpBuilder &b, mlir::Location loc,
                             const onnx::NodeProto &node,
                             const MatMulNBitsOperands &operands,
                             mlir::RankedTensorType resultType);

/// Whether `node` is the form the version adapters give ONNX's blocked or
/// 4-bit DequantizeLinear-21 (kLoomImportDomain's BlockedDequantizeLinear:
/// codes widened to INT8 / UINT8, x_scale of x's rank, attributes `blocks`
/// (the block size along each axis), `bits`, `signed`).
inline bool isBlockedDequantize(const onnx::NodeProto &node) {
  return node.domain() == kLoomImportDomain &&
         node.op_type() == "BlockedDequantizeLinear";
}

/// The constant operands of a BlockedDequantizeLinear node (row-major,
/// little-endian bytes).
struct BlockedDequantizeOperands {
  std::string x, scales, zeroPoints;
  bool hasZeroPoint = false;
};

/// Lowers a BlockedDequantizeLinear node to loom ops at `loc`: a quantized
/// constant (sub-channel blocks along K, or per output channel) and its
/// loom.dequantize where the weight is [K, N] with scales per column (or
/// one) in blocks that divide K, else the dequantized f32 constant.
mlir::Value lowerBlockedDequantize(mlir::OpBuilder &b, mlir::Location loc,
                                   const onnx::NodeProto &node,
                                   const BlockedDequantizeOperands &operands,
                                   mlir::RankedTensorType resultType);

} // namespace loom::import

#endif // LOOM_LIB_IMPORT_CONTRIBOPS_H
