//===- LoomOps.td - Hand-written ops of the loom dialect ----*- tablegen -*-===//
#ifndef LOOM_OPS
#define LOOM_OPS

include "LoomBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Loom_ConstantOp : Loom_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "output"]>]> {
  let summary = "A constant tensor: a weight, an initializer or a folded value";
  let description = [{
    Weights imported from ONNX initializers are `dense_resource` blobs (one
    copy of the bytes, no per-element attributes); values produced by folding
    are `dense` attributes. ONNX `Constant` nodes import to this op whatever
    their attribute form (`value`, `value_float`, `value_ints`, ...).
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Loom_NoneOp : Loom_Op<"none", [ConstantLike, Pure]> {
  let summary = "The absent value of an optional ONNX input";
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict";
  let hasFolder = 1;
}

def Loom_YieldOp : Loom_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["IfOp", "LoopOp", "ScanOp"]>]> {
  let summary = "Ends the body of loom.if, loom.loop and loom.scan";
  let description = [{
    The operands are the ONNX subgraph's outputs, in order.
  }];
  let arguments = (ins Variadic<AnyType>:$results);
  let assemblyFormat = "attr-dict ($results^ `:` type($results))?";
}

#endif // LOOM_OPS
