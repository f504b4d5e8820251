//===- LoomOnnxOpsVerify.cpp - Generated parts of the verifiers -----------===//
//
// Each ONNX op's verifier checks that the values sharing an ONNX type variable
// share an element type (generated from the schemas by
// scripts/gen_loom_ops.py into LoomOnnxOpsVerify.inc), then calls the
// hand-written ONNX constraints in LoomVerifiers.cpp where an op has them.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"

using namespace mlir;

namespace loom {
#include "LoomOnnxOpsVerify.inc"
} // namespace loom
