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

    A `loom.if` whose condition folds to a constant has its taken branch
    inlined (the If canonicalization), and the walk repeats, so nested Ifs
    whose conditions fold one level at a time are resolved in one run (at
    most 16 rounds). Ops in a branch that a constant condition does not
    take are neither refined nor checked: their shapes may serve other
    inputs.
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
    A `loom.scan` left after `loom-unroll-control-flow` is an error (its
    length is a static shape once shapes are static). A `loom.loop` left
    there runs as a run-time loop (a plan control task) when it has no scan
    outputs, its carried values keep their static types across iterations,
    and its trip count has a bound: a constant `M`, else `max-trip-count`.
    The bound is recorded as the loop's `loom.max_trip_count` attribute.
    A `loom.if` whose condition is known only at run time stays: its
    branches must yield the same static types.
  }];
  let options = [
    Option<"maxTripCount", "max-trip-count", "int64_t", /*default=*/"-1",
           "Bound on the trip count of loops whose trip count is known only "
           "at run time (-1: none; such a loop needs a constant M)">,
  ];
}

def LoomFoldBatchNorm : Pass<"loom-fold-batchnorm", "mlir::func::FuncOp"> {
  let summary = "Fold BatchNormalization into the weights and bias of Conv/ConvTranspose/Gemm/MatMul";
  let description = [{
    An inference-mode BatchNormalization whose input is the only use of a
    Conv, ConvTranspose, Gemm or MatMul with constant weights (and constant
    BN parameters) is folded into that op: weights scaled per output channel,
    bias = (bias - mean) · scale / sqrt(var + epsilon) + B. The producer gets
    a bias operand when it had none (MatMul becomes `loom.fused_matmul`).
    Implemented in FoldBatchNorm.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomEqualizeChannels : Pass<"loom-equalize-channels", "mlir::func::FuncOp"> {
  let summary = "Cross-layer equalization of consecutive convolutions before quantization";
  let description = [{
    Data-free quantization's cross-layer equalization (Nagel et al. 2019):
    for conv1 -> (nothing, or a relu only conv2 reads) -> conv2, both with
    constant weights, conv1's activation none, relu or leaky_relu and conv2
    not grouped, output channel i of conv1 and input channel i of conv2
    trade the scale s_i = sqrt(r1_i / r2_i) (r1_i = max |W1[i]|, r2_i =
    max |W2[:, i]|): W1[i] and B1[i] divided by s_i, W2[:, i] multiplied,
    so both ranges become sqrt(r1_i r2_i). The function is unchanged (up to
    f32 rounding); per-output-channel quantization of conv2 no longer
    rounds away the channels a trained network shrank in conv1 and blew up
    in conv2. Implemented in EqualizeChannels.cpp.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numEqualized", "num-equalized", "Number of conv pairs equalized">,
  ];
}

def LoomFoldConstantArith : Pass<"loom-fold-constant-arith", "mlir::func::FuncOp"> {
  let summary = "Fold Add/Mul by constants into Conv/Gemm/MatMul bias and weights";
  let description = [{
    `producer + c` and `producer · c` (either operand order) where the
    producer is a Conv, Gemm or MatMul/fused_matmul with constant weights,
    has no other use, and `c` is a constant that broadcasts along the
    producer's output channels only: an Add is folded into the bias, a Mul
    scales the weights (and bias).
    Implemented in FoldConstantArith.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomFoldTranspose : Pass<"loom-fold-transpose", "mlir::func::FuncOp"> {
  let summary = "Fold Transposes into MatMul/Gemm and merge consecutive Transposes/Reshapes";
  let description = [{
    A Transpose that swaps the last two dimensions of a MatMul operand
    becomes `trans_a`/`trans_b` of a `loom.fused_matmul` (of a Gemm:
    `transA`/`transB`); two consecutive Transposes become one (none when
    they cancel); two consecutive Reshapes become one.
    Implemented in FoldTranspose.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomFuseEpilogue : Pass<"loom-fuse-epilogue", "mlir::func::FuncOp"> {
  let summary = "Fuse a bias Add and an activation into Conv/ConvTranspose/Gemm/MatMul";
  let description = [{
    Conv, ConvTranspose, Gemm and MatMul followed by an Add of a bias that
    broadcasts along the output channels (folded into the op's bias) and
    then one of Relu, LeakyRelu, Clip (constant bounds), Sigmoid,
    HardSigmoid, HardSwish, Tanh, GELU (`loom.gelu`), SiLU (`loom.silu`)
    become one `loom.fused_conv` / `fused_conv_transpose` / `fused_gemm` /
    `fused_matmul` with `activation` set. Intermediate values with other uses
    stop the fusion. One of those activations after a `loom.qconv` /
    `loom.qmatmul` with an f32 result and no activation becomes that
    kernel's `activation`.
    Implemented in FuseEpilogue.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomRecomposeActivations : Pass<"loom-recompose-activations", "mlir::func::FuncOp"> {
  let summary = "Recognize GELU (erf and tanh forms), SiLU and HardSwish";
  let description = [{
    Decomposed forms as exporters write them, operands in either order and
    constants as scalars or one-element tensors:
    GELU erf: x · 0.5 · (1 + erf(x / √2)) (also x · (…) · 0.5, erf(x · 1/√2));
    GELU tanh: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))) (x³ as
    Pow(x, 3) or x · x · x); SiLU: x · Sigmoid(x); HardSwish:
    x · HardSigmoid(x) with alpha 1/6, beta 1/2, or x · Clip(x + 3, 0, 6) / 6.
    They become `loom.gelu`, `loom.silu` and `loom.hard_swish`.
    Implemented in RecomposeActivations.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomRecomposeNorms : Pass<"loom-recompose-norms", "mlir::func::FuncOp"> {
  let summary = "Recognize LayerNorm, RMSNorm and GroupNorm";
  let description = [{
    LayerNorm: ReduceMean / Sub / Pow(2) or Mul / ReduceMean / Add(eps) /
    Sqrt / Div / Mul(scale) / Add(bias) over the last axes becomes
    `loom.layer_normalization`; RMSNorm: Pow(2) / ReduceMean / Add(eps) /
    Sqrt / Div (or Reciprocal + Mul) / Mul(scale) becomes `loom.rms_norm`;
    GroupNorm exported as Reshape / InstanceNormalization / Reshape / Mul /
    Add becomes `loom.group_norm`.
    Implemented in RecomposeNorms.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomFuseSkipNorm : Pass<"loom-fuse-skip-norm", "mlir::func::FuncOp"> {
  let summary = "Fuse a residual Add into the LayerNorm/RMSNorm that follows it";
  let description = [{
    `layer_normalization(a + b)` and `rms_norm(a + b)` with a and b of one
    shape become `loom.skip_layer_norm` / `loom.skip_rms_norm`; when the sum
    has other uses (the residual stream), the fused op's second result
    replaces it.
    Implemented in FuseSkipNorm.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomRecomposeAttention : Pass<"loom-recompose-attention", "mlir::func::FuncOp"> {
  let summary = "Recognize scaled dot-product attention, including grouped-query attention";
  let description = [{
    MatMul(Q, Kᵀ) → scale (Mul or Div by a constant, on the scores or on Q
    or K) → optional additive mask → Softmax(last axis) → MatMul(·, V)
    becomes one `loom.attention` with the head layout explicit; key/value
    heads repeated by Unsqueeze/Expand/Reshape (grouped-query attention) are
    read unrepeated (`kv_heads` < `q_heads`).
    Implemented in RecomposeAttention.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomRecomposeSwiGlu : Pass<"loom-recompose-swiglu", "mlir::func::FuncOp"> {
  let summary = "Recognize SwiGLU";
  let description = [{
    SiLU(x · W1) ⊙ (x · W3) (either operand order; SiLU as `loom.silu` or
    x · Sigmoid(x)) with constant 2-D W1 and W3 becomes `loom.swiglu`.
    Implemented in RecomposeSwiGlu.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomFuseElementwise : Pass<"loom-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse chains and trees of elementwise ops into loom.fused_elementwise";
  let description = [{
    Maximal groups of f32 elementwise ops (unary, binary with
    broadcasting, Clip with constant bounds, the activation ops) whose
    intermediate values are used only inside the group become one
    `loom.fused_elementwise` whose body is the group; constants stay outside
    as inputs. Groups of one op are left alone.
    Implemented in FuseElementwise.cpp; see docs/fused-ops.md for the fused ops.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

def LoomQuantize : Pass<"loom-quantize", "mlir::func::FuncOp"> {
  let summary = "Quantize MatMul/Gemm/Conv/SwiGLU weights (and activations) by mode";
  let description = [{
    Inserts `loom.qconstant` + `loom.dequantize` for the constant weights of
    `matmul`, `fused_matmul`, `gemm`, `fused_gemm`, `conv` and `fused_conv`
    (a Gemm, or a MatMul with a transposed weight, becomes a `fused_matmul`
    whose stored weight is [K, N]), and for `int8` also `loom.quantize` +
    `loom.dequantize` on the activation (operand 0). A `swiglu(X, W1, W3)`
    with constant weights becomes its two products, `fused_matmul(X, W1)`
    with the `silu` epilogue and `fused_matmul(X, W3)`, quantized as any
    MatMul with one activation (one quantize for int8, one AWQ scale vector
    searched over both weights for awq-w4), and the `loom.mul` of the two.
    Modes:
    `w8`: symmetric i8 per output channel; `w4`: symmetric i4 in groups of
    `group-size` along the reduction axis (K of [K, N]; axis 1 of a Conv
    weight; a smaller divisor of the axis when the group does not divide
    it), per output channel when none fits;
    `int8`: w8 weights and u8 activations per tensor (asymmetric) from the
    range `loom.calib_range` that loom-calibrate left on the op; with
    `smooth=auto` the activation's channels are first divided by scales
    folded into the weights (a constant `loom.mul`) where the rounding
    noise predicted from `loom.calib_channels` drops by 1 dB (SmoothQuant);
    `awq-w4`: per-input-channel scales s from the activations sampled by
    loom-calibrate (`loom.calib_sample`) by AWQ's grid search; the weight
    rows are multiplied by s and the activation divided by s (a constant
    `loom.mul`), then `w4` (Conv weights: plain `w4`);
    `dynamic`: w8 weights, and the op is marked `loom.dynamic` so that
    loom-fold-qdq forms a kernel that quantizes the activation at run time;
    `auto`: `int8` for each op whose best int8 time on `target` (the cost
    model over every device; a SwiGLU's two qmatmuls and the mul) beats its
    best float time, the others float;
    `ternary`: MatMul-like weights (MatMul, Gemm, SwiGLU) in {-1, 0, +1}
    times a scale per group of `group-size` along K (per output channel
    when K does not divide), the scale the group's mean |w| (BitNet b1.58's
    absmean); Conv weights take `w8`.
    `sparsity` = `2:4` (with w8, w4 or ternary) first prunes each MatMul-like
    weight [K, N] by magnitude to two of every four rows along K per column
    and marks its `loom.qconstant` `sparsity = "2:4"` (a K that is not a
    multiple of 4 is left dense; Conv weights are never pruned).
    With `keep-float-weights`, each quantized layer op (the `fused_matmul`,
    `conv` or `fused_conv` reading the dequantized weight) also carries the
    float weight it was quantized from (`loom.float_weight`, in the layout
    of its weight operand, after AWQ's scaling): what the per-layer
    accuracy check and the float fallback of loomc --quantize read (they
    remove it).
    docs/quantization.md has the details. Implemented in Quantize.cpp.
  }];
  let options = [
    Option<"mode", "mode", "std::string", "\"w8\"",
           "w8, w4, int8, awq-w4, dynamic, auto or ternary">,
    Option<"sparsity", "sparsity", "std::string", "\"\"",
           "Structured sparsity of MatMul-like weights: empty (none) or 2:4 "
           "(modes w8, w4, ternary)">,
    Option<"groupSize", "group-size", "int64_t", "128",
           "Weights per scale along the reduction axis for w4 / awq-w4">,
    Option<"target", "target", "std::string", "\"\"",
           "Target (built-in name or YAML file) whose cost model `auto` asks">,
    Option<"keepFloatWeights", "keep-float-weights", "bool", "false",
           "Leave each quantized layer's float weight on it (loom.float_weight)">,
    Option<"smooth", "smooth", "std::string", "\"auto\"",
           "int8: auto (divide activation channels into the weights where "
           "that lowers the layer's estimated rounding noise by 1 dB; needs "
           "loom.calib_channels) or none">,
  ];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numQuantized", "num-quantized", "Number of ops quantized">,
  ];
}

def LoomFoldQdq : Pass<"loom-fold-qdq", "mlir::func::FuncOp"> {
  let summary = "Form quantized kernels from quantize/dequantize patterns";
  let description = [{
    ONNX `QuantizeLinear` / `DequantizeLinear` with constant scale and zero
    point (per tensor or per axis) become `loom.quantize` /
    `loom.dequantize` with the quant dialect's types (a constant integer
    input becomes a `loom.qconstant`), and ONNX's QOperator chains
    QuantizeLinear -> QLinearMatMul / QLinearConv (constant signed 8-bit
    weights; QLinearConv's i32 bias becomes f32) -> DequantizeLinear become
    `loom.quantize` -> `qmatmul` / `qconv` with a quantized result ->
    `loom.dequantize`. ONNX Runtime's dynamic quantization chains
    DynamicQuantizeLinear(x) -> MatMulInteger / ConvInteger (constant i8 or
    u8 weight, the DynamicQuantizeLinear's zero point, a constant or absent
    weight zero point) -> Cast to f32 -> Mul by Mul(x_scale, w_scale)
    (either order; w_scale a constant varying along the output channels
    only) [-> Add of a constant bias along the output channels], the Mul and
    Add possibly fused into one `loom.fused_elementwise`, become `qmatmul` /
    `qconv` of x with `dynamic` = 1 (u8 weights are shifted to i8 exactly:
    values and zero point - 128); other integer ops stay as they are. Then
    a `matmul` / `fused_matmul` (no transposes, alpha 1) whose B is a
    dequantized 2-D constant becomes `loom.qmatmul`, and a `conv` /
    `fused_conv` whose W is a dequantized constant becomes `loom.qconv`: a
    dequantized per-tensor activation operand is taken quantized, a result
    used only by one per-tensor `loom.quantize` is produced quantized, and
    an op marked `loom.dynamic` gets `dynamic` = 1. Dequantize/quantize
    pairs left unused are erased. Implemented in FoldQdq.cpp.
  }];
  let dependentDialects = ["::loom::LoomDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten", "Number of patterns rewritten">,
  ];
}

#endif // LOOM_TRANSFORMS_PASSES
