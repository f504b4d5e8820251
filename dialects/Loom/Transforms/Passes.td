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

def LoomUnrollControlFlow : Pass<"loom-unroll-control-flow", "mlir::func::FuncOp"> {
  let summary = "Unroll loom.loop and loom.scan whose trip counts are known";
  let description = [{
    The runtime executes a flat list of kernels, so control flow must be gone
    before planning. A `loom.loop` is unrolled when its trip count is decided
    at compile time: `M` is a constant or absent, `cond` is a constant or
    absent (not both absent) and, when `cond` is given, each iteration's
    `cond_out` folds to a constant. A `loom.scan` is unrolled when its length
    along the scan axis is static.

    Each iteration clones the body before the op with the block arguments
    mapped to that iteration's values (the iteration number becomes a
    constant; values captured from the enclosing scope stay as they are),
    refines every clone's result types with its shape helper and folds it.
    Loop-carried and state values flow from one iteration to the next; scan
    outputs are stacked with `loom.unsqueeze` + `loom.concat` (a reverse
    direction reverses the order); scan inputs are sliced with `loom.gather`
    at a scalar index. A loop that runs zero times yields its initial values
    and constant empty scan outputs. Loops nested in a body are unrolled once
    their own trip counts become constants.

    Ops that cannot be unrolled are left in place (`loom-check-static-shapes`
    reports them); more than `max-iterations` iterations is an error. The
    function's result types are updated to what it now returns; running
    `loom-propagate-shapes` afterwards refines the remaining users.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "int64_t", /*default=*/"4096",
           "Largest number of iterations unrolled per loop or scan">,
  ];
}

def LoomCheckStaticShapes : Pass<"loom-check-static-shapes", "mlir::func::FuncOp"> {
  let summary = "Fail on any tensor whose shape is not static";
  let description = [{
    After dimension binding and shape propagation every tensor must have a
    static shape (plans allocate every buffer ahead of time). The error names
    the first op whose result is not static and, for function arguments, the
    ONNX input and its unbound dimensions, with the flags that bind them.
    A `loom.loop` or `loom.scan` left after `loom-unroll-control-flow` is an
    error too: the runtime has no control flow.
  }];
}

#endif // LOOM_TRANSFORMS_PASSES
