//===- Passes.td - Passes that run the model ----------------*- tablegen -*-===//
//
// Passes that need more than the loom dialect: they compile a copy of the
// graph for the host and run it with the runtime (HostRun.h).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PIPELINES_PASSES
#define LOOM_PIPELINES_PASSES

include "mlir/Pass/PassBase.td"

def LoomCalibrate : Pass<"loom-calibrate", "mlir::ModuleOp"> {
  let summary = "Collect activation ranges by running the float model";
  let description = [{
    Runs the graph (compiled for the `host` target, in process) on the input
    sets in `data` and observes the activation operand (operand 0) of every
    op loom-quantize handles (`matmul`, `fused_matmul`, `gemm`, `fused_gemm`,
    `conv`, `fused_conv`). Leaves on each op `loom.calib_range` = [lo, hi]
    (by `method`: minmax, percentile (at `percentile`), or entropy (KL)) and,
    for the MatMul-like ops, `loom.calib_sample`: up to `samples` rows of the
    activation as [T, K] (rows spread evenly over all the rows seen), which
    awq-w4 uses, and `loom.calib_channels`: [C, 3] per channel of the
    activation (its last axis for the MatMul-like ops, axis 1 for a Conv)
    its min, max and mean square, which int8's smoothing uses.
    Implemented in Calibrate.cpp; docs/quantization.md.
  }];
  let options = [
    ListOption<"data", "data", "std::string",
               "Folders of input sets (ONNX test-data layout or .pb files)">,
    Option<"method", "method", "std::string", "\"minmax\"",
           "minmax, percentile or entropy">,
    Option<"percentile", "percentile", "double", "99.99",
           "Percentile of the percentile method">,
    Option<"samples", "samples", "int64_t", "128",
           "Activation rows kept per MatMul for awq-w4">,
  ];
  let statistics = [
    Statistic<"numObserved", "num-observed", "Number of activations observed">,
  ];
}

#endif // LOOM_PIPELINES_PASSES
