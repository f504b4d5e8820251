//===- TensorProtoIO.h - ONNX TensorProto <-> runtime Tensor ----*- C++ -*-===//
//
// Conversions between ONNX protobuf messages and the runtime's Tensor and
// AttrValue, for the tools and tests that read ONNX test data (`*.pb`). Lives
// in the LoomRuntimeIO library so that LoomRuntime itself does not depend on
// ONNX or protobuf.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_TENSORPROTOIO_H
#define LOOM_RUNTIME_TENSORPROTOIO_H

#include "loom/Runtime/Kernel.h"

#include <cstdint>
#include <optional>
#include <string>

namespace onnx {
class TensorProto;
class AttributeProto;
} // namespace onnx

namespace loom::rt {

/// ONNX TensorProto::DataType -> DType; nullopt for types the runtime does not
/// have (string, complex, ...).
std::optional<DType> dtypeFromOnnx(int32_t onnxType);
/// DType -> ONNX TensorProto::DataType.
int32_t dtypeToOnnx(DType t);

/// Converts a TensorProto (raw_data or typed fields) to a Tensor. Throws
/// KernelError for unsupported element types and external data.
Tensor tensorFromProto(const onnx::TensorProto &proto);
/// Converts a Tensor to a TensorProto with raw_data.
void tensorToProto(const Tensor &tensor, onnx::TensorProto &proto);

/// Reads a serialized TensorProto file (e.g. test_data_set_0/input_0.pb).
Tensor readTensorFile(const std::string &path);
/// Writes `tensor` as a serialized TensorProto file.
void writeTensorFile(const Tensor &tensor, const std::string &path);

/// Converts an ONNX attribute to the runtime's AttrValue (INT -> int64_t,
/// FLOAT -> double, STRING -> std::string, INTS, FLOATS, STRINGS, TENSOR ->
/// Tensor). Returns nullopt for kinds the runtime does not model (graphs,
/// sparse tensors, type protos). Dtype-valued attributes arrive as INT; use
/// dtypeFromOnnx on them.
std::optional<AttrValue> attrFromProto(const onnx::AttributeProto &attr);

} // namespace loom::rt

#endif // LOOM_RUNTIME_TENSORPROTOIO_H
