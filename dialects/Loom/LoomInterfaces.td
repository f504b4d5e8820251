//===- LoomInterfaces.td - Interfaces of the loom dialect ---*- tablegen -*-===//
#ifndef LOOM_INTERFACES
#define LOOM_INTERFACES

include "mlir/IR/OpBase.td"

def Loom_ShapeInferenceOpInterface : OpInterface<"ShapeInferenceOpInterface"> {
  let cppNamespace = "::loom";
  let description = [{
    The shape helper of an op: computes its result types from its operand
    types, the values of constant operands and its attributes. It is the one
    source of truth for shapes, used by `loom-propagate-shapes` after import
    and by the lowering to plans. A dimension that cannot be known yet is
    dynamic; a contradiction between operands is reported on the op.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Fills `resultTypes` with one type per result. Returns failure
        (after emitting an error) when the operands contradict each other.}],
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"inferResultTypes",
      /*args=*/(ins "::llvm::SmallVectorImpl<::mlir::Type> &":$resultTypes),
      /*methodBody=*/[{}],
      /*defaultImplementation=*/[{
        return ::loom::detail::inferElementwiseResultTypes($_op, resultTypes);
      }]>
  ];
}

#endif // LOOM_INTERFACES
