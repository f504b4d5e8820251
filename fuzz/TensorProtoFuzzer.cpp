//===- TensorProtoFuzzer.cpp - libFuzzer harness: TensorProto -> Tensor ---===//
//
// Each input is a serialized TensorProto (an `input_N.pb` as loom-run
// --input, --test-data and loomc --const-input=NAME=FILE.pb read it). The
// harness converts it to a runtime Tensor (tensorFromProto) and back
// (tensorToProto), and the same bytes as an AttributeProto (attrFromProto).
// A bad tensor must end as a KernelError, never as a crash; a tensor that
// converts must come back with the same bytes.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Kernel.h"
#include "loom/Runtime/TensorProtoIO.h"

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool verbose = std::getenv("LOOM_FUZZ_VERBOSE") != nullptr;
  onnx::TensorProto proto;
  if (proto.ParseFromArray(data, int(size))) {
    try {
      loom::rt::Tensor tensor = loom::rt::tensorFromProto(proto);
      onnx::TensorProto back;
      loom::rt::tensorToProto(tensor, back);
      loom::rt::Tensor again = loom::rt::tensorFromProto(back);
      if (again.bytes != tensor.bytes || again.shape != tensor.shape ||
          again.dtype != tensor.dtype) {
        std::fprintf(stderr, "loom-fuzz-tensor: the tensor changed in a round trip\n");
        std::abort();
      }
      if (verbose)
        std::fprintf(stderr, "loom-fuzz-tensor: converted\n");
    } catch (const loom::rt::KernelError &e) {
      if (verbose)
        std::fprintf(stderr, "%s\n", e.message.c_str());
    }
  }
  onnx::AttributeProto attr;
  if (attr.ParseFromArray(data, int(size))) {
    try {
      (void)loom::rt::attrFromProto(attr);
    } catch (const loom::rt::KernelError &e) {
      if (verbose)
        std::fprintf(stderr, "%s\n", e.message.c_str());
    }
  }
  return 0;
}
