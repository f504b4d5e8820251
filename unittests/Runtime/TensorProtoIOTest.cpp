//===- TensorProtoIOTest.cpp - Untrusted TensorProtos ---------------------===//
//
// tensorFromProto reads files a user hands to loom-run (--input, --test-data)
// and loomc (--const-input NAME=FILE.pb): dims and data that disagree must
// end as a KernelError naming the tensor, before anything is allocated.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Kernel.h"
#include "loom/Runtime/TensorProtoIO.h"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <string>

using namespace loom::rt;

namespace {

std::string errorOf(const onnx::TensorProto &proto) {
  try {
    tensorFromProto(proto);
  } catch (const KernelError &e) {
    return e.message;
  }
  return "";
}

onnx::TensorProto floats(std::initializer_list<int64_t> dims) {
  onnx::TensorProto p;
  p.set_name("t");
  p.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    p.add_dims(d);
  return p;
}

TEST(TensorProtoIO, NegativeDimension) {
  onnx::TensorProto p = floats({2, -3});
  EXPECT_EQ(errorOf(p), "tensor 't' has a negative dimension (-3)");
}

TEST(TensorProtoIO, DimsWhoseProductOverflows) {
  onnx::TensorProto p = floats({int64_t(1) << 40, int64_t(1) << 40});
  EXPECT_EQ(errorOf(p), "tensor 't': the product of its dims overflows");
  p = floats({int64_t(1) << 62});
  EXPECT_EQ(errorOf(p), "tensor 't': its size in bytes overflows");
}

TEST(TensorProtoIO, HugeDimsWithoutDataAllocateNothing) {
  // 2^40 floats would be 4 TiB: refused by the count check, not by an
  // allocation failure.
  onnx::TensorProto p = floats({int64_t(1) << 40});
  p.add_float_data(1.0f);
  EXPECT_EQ(errorOf(p), "tensor 't' has 1 values for 1099511627776 elements");
  p.clear_float_data();
  p.set_raw_data(std::string(8, '\0'));
  EXPECT_EQ(errorOf(p), "tensor 't' has 8 raw bytes, expected 4398046511104");
}

TEST(TensorProtoIO, EmptyTensorFromRawData) {
  onnx::TensorProto p = floats({0, 3});
  p.set_raw_data("");
  Tensor t = tensorFromProto(p);
  EXPECT_EQ(t.shape, (Shape{0, 3}));
  EXPECT_TRUE(t.bytes.empty());
}

TEST(TensorProtoIO, RoundTrip) {
  onnx::TensorProto p = floats({2});
  p.add_float_data(1.5f);
  p.add_float_data(-2.0f);
  Tensor t = tensorFromProto(p);
  onnx::TensorProto back;
  tensorToProto(t, back);
  Tensor again = tensorFromProto(back);
  EXPECT_EQ(again.bytes, t.bytes);
  EXPECT_EQ(again.shape, t.shape);
}

} // namespace
