//===- Passes.td - Passes of the loom dialect ---------------*- tablegen -*-===//
#ifndef LOOM_TRANSFORMS_PASSES
#define LOOM_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def LoomPropagateShapes : Pass<"loom-propagate-shapes", "mlir::func::FuncOp"> {
  let summary = "Refine result shapes with the shape helpers and fold constants";
  let description = [{
    Walks the function in program order. For each op it asks the op's shape
    helper for its result types and keeps every dimension the helper knows
    that the current type does not; then it tries to fold the op. Because
    operands are visited before their users, one walk turns exporter-style
    `Shape -> Gather -> Concat -> Reshape` chains into constants and gives the
    `Reshape` a static result. The function's result types are updated to
    match what it returns. A contradiction between a helper and a known
    dimension is an error on the op.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRefined", "num-refined", "Number of results whose type was refined">,
    Statistic<"numFolded", "num-folded", "Number of ops folded away">,
  ];
}

def LoomCheckStaticShapes : Pass<"loom-check-static-shapes", "mlir::func::FuncOp"> {
  let summary = "Fail on any tensor whose shape is not static";
  let description = [{
    After dimension binding and shape propagation every tensor must have a
    static shape (plans allocate every buffer ahead of time). The error names
    the first op whose result is not static and, for function arguments, the
    ONNX input and its unbound dimensions, with the flags that bind them.
  }];
}

#endif // LOOM_TRANSFORMS_PASSES
