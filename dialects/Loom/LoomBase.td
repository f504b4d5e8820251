//===- LoomBase.td - The loom dialect and its op classes ----*- tablegen -*-===//
#ifndef LOOM_BASE
#define LOOM_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "LoomInterfaces.td"

def Loom_Dialect : Dialect {
  let name = "loom";
  let cppNamespace = "::loom";
  let summary = "ONNX-level tensor graph of the Loom compiler";
  let description = [{
    One op per ONNX operator of the default domain in its opset-17 form
    (imported models of older opsets are upgraded first), plus `loom.constant`
    for weights and folded values, `loom.none` for absent optional operands and
    `loom.yield` to end the bodies of `loom.if`, `loom.loop` and `loom.scan`.
    Shapes are static after import and shape propagation.
  }];
  let hasConstantMaterializer = 1;
  // Quantized tensors use the quant dialect's types (LoomQuantOps.td).
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

/// Base class of every loom op.
class Loom_Op<string mnemonic, list<Trait> traits = []>
    : Op<Loom_Dialect, mnemonic, traits>;

/// Base class of the ops generated from ONNX schemas (LoomOnnxOps.td).
class Loom_OnnxOp<string mnemonic, list<Trait> traits = []>
    : Loom_Op<mnemonic, traits> {
  /// The ONNX op type this op mirrors.
  string onnxName = "";
  let assemblyFormat =
      "`(` operands `)` attr-dict `:` functional-type(operands, results)";
}

/// Marks elementwise ops whose operands broadcast (ONNX multidirectional
/// broadcasting) to the result shape.
def Loom_BroadcastingElementwise : NativeOpTrait<"BroadcastingElementwise"> {
  let cppNamespace = "::loom::OpTrait";
}
/// Marks ops whose (first) result has the shape of their first operand.
def Loom_SameShapeAsFirstOperand : NativeOpTrait<"SameShapeAsFirstOperand"> {
  let cppNamespace = "::loom::OpTrait";
}

#endif // LOOM_BASE
