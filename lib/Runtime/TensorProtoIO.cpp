//===- TensorProtoIO.cpp - ONNX TensorProto <-> runtime Tensor ------------===//
#include "loom/Runtime/TensorProtoIO.h"

#include "loom/Runtime/Float16.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace loom::rt {

using onnx::TensorProto;

std::optional<DType> dtypeFromOnnx(int32_t onnxType) {
  switch (onnxType) {
  case TensorProto::FLOAT: return DType::F32;
  case TensorProto::DOUBLE: return DType::F64;
  case TensorProto::FLOAT16: return DType::F16;
  case TensorProto::BFLOAT16: return DType::BF16;
  case TensorProto::INT8: return DType::I8;
  case TensorProto::INT16: return DType::I16;
  case TensorProto::INT32: return DType::I32;
  case TensorProto::INT64: return DType::I64;
  case TensorProto::UINT8: return DType::U8;
  case TensorProto::UINT16: return DType::U16;
  case TensorProto::UINT32: return DType::U32;
  case TensorProto::UINT64: return DType::U64;
  case TensorProto::BOOL: return DType::Bool;
  default: return std::nullopt;
  }
}

int32_t dtypeToOnnx(DType t) {
  switch (t) {
  case DType::F32: return TensorProto::FLOAT;
  case DType::F64: return TensorProto::DOUBLE;
  case DType::F16: return TensorProto::FLOAT16;
  case DType::BF16: return TensorProto::BFLOAT16;
  case DType::I8: return TensorProto::INT8;
  case DType::I16: return TensorProto::INT16;
  case DType::I32: return TensorProto::INT32;
  case DType::I64: return TensorProto::INT64;
  case DType::U8: return TensorProto::UINT8;
  case DType::U16: return TensorProto::UINT16;
  case DType::U32: return TensorProto::UINT32;
  case DType::U64: return TensorProto::UINT64;
  case DType::Bool: return TensorProto::BOOL;
  }
  return TensorProto::UNDEFINED;
}

namespace {
/// Stores the typed-field values `src` as elements of `t` (narrowing each to
/// the element type; 16-bit floats arrive as their bit patterns).
template <typename Field>
void fillFromField(Tensor &t, const Field &src, const std::string &name) {
  int64_t n = t.numElements();
  if (int64_t(src.size()) != n)
    throw KernelError{"tensor '" + name + "' has " +
                      std::to_string(src.size()) + " values for " +
                      std::to_string(n) + " elements"};
  t.bytes.resize(size_t(n) * dtypeSize(t.dtype));
  uint8_t *p = t.bytes.data();
  for (int64_t i = 0; i < n; ++i) {
    auto v = src.Get(int(i));
    switch (t.dtype) {
    case DType::F32: { float f = float(v); std::memcpy(p + 4 * i, &f, 4); break; }
    case DType::F64: { double d = double(v); std::memcpy(p + 8 * i, &d, 8); break; }
    case DType::F16:
    case DType::BF16:
    case DType::U16: { uint16_t u = uint16_t(v); std::memcpy(p + 2 * i, &u, 2); break; }
    case DType::I16: { int16_t s = int16_t(v); std::memcpy(p + 2 * i, &s, 2); break; }
    case DType::I8: { int8_t s = int8_t(v); std::memcpy(p + i, &s, 1); break; }
    case DType::U8: p[i] = uint8_t(v); break;
    case DType::Bool: p[i] = v != 0; break;
    case DType::I32: { int32_t s = int32_t(v); std::memcpy(p + 4 * i, &s, 4); break; }
    case DType::U32: { uint32_t u = uint32_t(v); std::memcpy(p + 4 * i, &u, 4); break; }
    case DType::I64: { int64_t s = int64_t(v); std::memcpy(p + 8 * i, &s, 8); break; }
    case DType::U64: { uint64_t u = uint64_t(v); std::memcpy(p + 8 * i, &u, 8); break; }
    }
  }
}
} // namespace

Tensor tensorFromProto(const TensorProto &proto) {
  const std::string &name = proto.name();
  auto dt = dtypeFromOnnx(proto.data_type());
  if (!dt)
    throw KernelError{"tensor '" + name + "' has unsupported ONNX data type " +
                      std::to_string(proto.data_type())};
  if (proto.data_location() == TensorProto::EXTERNAL)
    throw KernelError{"tensor '" + name + "' uses external data"};
  Tensor t;
  t.dtype = *dt;
  t.shape.assign(proto.dims().begin(), proto.dims().end());
  // The dims are untrusted: check them, and the data against them, before
  // anything is allocated.
  int64_t count = 1;
  for (int64_t d : t.shape) {
    if (d < 0)
      throw KernelError{"tensor '" + name + "' has a negative dimension (" +
                        std::to_string(d) + ")"};
    if (__builtin_mul_overflow(count, d, &count))
      throw KernelError{"tensor '" + name + "': the product of its dims overflows"};
  }
  int64_t size = 0;
  if (__builtin_mul_overflow(count, int64_t(dtypeSize(t.dtype)), &size))
    throw KernelError{"tensor '" + name + "': its size in bytes overflows"};
  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (int64_t(raw.size()) != size)
      throw KernelError{"tensor '" + name + "' has " +
                        std::to_string(raw.size()) + " raw bytes, expected " +
                        std::to_string(size)};
    t.bytes.assign(raw.begin(), raw.end());
    return t;
  }
  switch (t.dtype) {
  case DType::F32: fillFromField(t, proto.float_data(), name); break;
  case DType::F64: fillFromField(t, proto.double_data(), name); break;
  case DType::I64: fillFromField(t, proto.int64_data(), name); break;
  case DType::U32:
  case DType::U64: fillFromField(t, proto.uint64_data(), name); break;
  default: fillFromField(t, proto.int32_data(), name); break;
  }
  return t;
}

void tensorToProto(const Tensor &tensor, TensorProto &proto) {
  proto.set_data_type(dtypeToOnnx(tensor.dtype));
  proto.clear_dims();
  for (int64_t d : tensor.shape)
    proto.add_dims(d);
  proto.set_raw_data(tensor.bytes.data(), tensor.bytes.size());
}

Tensor readTensorFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw KernelError{"cannot open tensor file '" + path + "'"};
  std::stringstream buf;
  buf << in.rdbuf();
  TensorProto proto;
  if (!proto.ParseFromString(buf.str()))
    throw KernelError{"'" + path + "' is not a serialized TensorProto"};
  return tensorFromProto(proto);
}

void writeTensorFile(const Tensor &tensor, const std::string &path) {
  TensorProto proto;
  tensorToProto(tensor, proto);
  std::ofstream out(path, std::ios::binary);
  if (!out || !proto.SerializeToOstream(&out))
    throw KernelError{"cannot write tensor file '" + path + "'"};
}

std::optional<AttrValue> attrFromProto(const onnx::AttributeProto &attr) {
  using A = onnx::AttributeProto;
  switch (attr.type()) {
  case A::INT: return AttrValue(int64_t(attr.i()));
  case A::FLOAT: return AttrValue(double(attr.f()));
  case A::STRING: return AttrValue(attr.s());
  case A::INTS:
    return AttrValue(std::vector<int64_t>(attr.ints().begin(), attr.ints().end()));
  case A::FLOATS:
    return AttrValue(std::vector<double>(attr.floats().begin(), attr.floats().end()));
  case A::STRINGS:
    return AttrValue(std::vector<std::string>(attr.strings().begin(),
                                              attr.strings().end()));
  case A::TENSOR: return AttrValue(tensorFromProto(attr.t()));
  default: return std::nullopt;
  }
}

} // namespace loom::rt
