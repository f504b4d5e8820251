// RUN: loom-opt %s -split-input-file -loom-fuse-epilogue | FileCheck %s

// Conv + [1,C,1,1] + Relu: the attributes are kept.
// CHECK-LABEL: func @conv_bias_relu
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.fused_conv(%arg0, %arg1, %[[B]]) {activation = "relu", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NOT: loom.add
// CHECK-NOT: loom.relu
// CHECK: return %[[Y]]
func.func @conv_bias_relu(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32> {
  %none = loom.none
  %y = loom.conv(%x, %w, %none) {group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>, none) -> tensor<1x2x4x4xf32>
  %c = loom.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %a = loom.add(%y, %c) : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %r = loom.relu(%a) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Bias only, the constant first ([C,1,1]), summed with the conv's bias.
// CHECK-LABEL: func @conv_bias_only
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.500000e+00, 2.500000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.fused_conv(%arg0, %arg1, %[[B]]) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NOT: loom.add
// CHECK: return %[[Y]]
func.func @conv_bias_only(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %cb = loom.constant dense<0.5> : tensor<2xf32>
  %y = loom.conv(%x, %w, %cb) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %c = loom.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %a = loom.add(%c, %y) : (tensor<2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

// Activation only: Clip(0, 6) with scalar bounds.
// CHECK-LABEL: func @conv_relu6
// CHECK: %[[Y:.*]] = loom.fused_conv(%arg0, %arg1, %arg2) {activation = "clip", activation_alpha = 0.000000e+00 : f32, activation_beta = 6.000000e+00 : f32}
// CHECK-NOT: loom.clip
// CHECK: return %[[Y]]
func.func @conv_relu6(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>, %b: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %y = loom.conv(%x, %w, %b) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %lo = loom.constant dense<0.0> : tensor<f32>
  %hi = loom.constant dense<6.0> : tensor<1xf32>
  %r = loom.clip(%y, %lo, %hi) : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<1xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Clip with only a max: no activation_alpha (unbounded below).
// CHECK-LABEL: func @conv_clip_max_only
// CHECK: loom.fused_conv(%arg0, %arg1, %{{.*}}) {activation = "clip", activation_beta = 6.000000e+00 : f32}
// CHECK-NOT: loom.clip
func.func @conv_clip_max_only(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %hi = loom.constant dense<6.0> : tensor<f32>
  %r = loom.clip(%y, %none, %hi) : (tensor<1x2x4x4xf32>, none, tensor<f32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// CHECK-LABEL: func @conv_transpose_hard_sigmoid
// CHECK: loom.fused_conv_transpose(%arg0, %arg1, %{{.*}}) {activation = "hard_sigmoid", activation_alpha = 2.500000e-01 : f32, activation_beta = 5.000000e-01 : f32, group = 2 : i64, strides = array<i64: 2, 2>}
// CHECK-NOT: loom.hard_sigmoid
func.func @conv_transpose_hard_sigmoid(%x: tensor<1x2x3x3xf32>, %w: tensor<2x1x1x1xf32>) -> tensor<1x2x5x5xf32> {
  %none = loom.none
  %y = loom.conv_transpose(%x, %w, %none) {group = 2 : i64, strides = array<i64: 2, 2>} : (tensor<1x2x3x3xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x5x5xf32>
  %r = loom.hard_sigmoid(%y) {alpha = 0.25 : f32} : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  return %r : tensor<1x2x5x5xf32>
}

// -----

// Gemm (transB) + [1,N] + Sigmoid: C created.
// CHECK-LABEL: func @gemm_bias_sigmoid
// CHECK-DAG: %[[C:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: loom.fused_gemm(%arg0, %arg1, %[[C]]) {activation = "sigmoid", alpha = 5.000000e-01 : f32, transB = 1 : i64}
// CHECK-NOT: loom.sigmoid
func.func @gemm_bias_sigmoid(%a: tensor<5x3xf32>, %b: tensor<2x3xf32>) -> tensor<5x2xf32> {
  %none = loom.none
  %y = loom.gemm(%a, %b, %none) {alpha = 0.5 : f32, transB = 1 : i64} : (tensor<5x3xf32>, tensor<2x3xf32>, none) -> tensor<5x2xf32>
  %c = loom.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %s = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<1x2xf32>) -> tensor<5x2xf32>
  %r = loom.sigmoid(%s) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// Gemm with C [2] and beta 3, + [N]: C becomes beta · C + c, beta 1.
// CHECK-LABEL: func @gemm_sum_bias_tanh
// CHECK-DAG: %[[C:.*]] = loom.constant dense<[4.000000e+00, 5.000000e+00]> : tensor<2xf32>
// CHECK: loom.fused_gemm(%arg0, %arg1, %[[C]]) {activation = "tanh"} :
// CHECK-NOT: loom.tanh
func.func @gemm_sum_bias_tanh(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>) -> tensor<5x2xf32> {
  %c0 = loom.constant dense<1.0> : tensor<2xf32>
  %y = loom.gemm(%a, %b, %c0) {beta = 3.0 : f32} : (tensor<5x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = loom.add(%c, %y) : (tensor<2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  %r = loom.tanh(%s) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// Gemm activation only: beta and C stay.
// CHECK-LABEL: func @gemm_hard_swish
// CHECK: loom.fused_gemm(%arg0, %arg1, %arg2) {activation = "hard_swish", beta = 3.000000e+00 : f32}
func.func @gemm_hard_swish(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>, %c: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %y = loom.gemm(%a, %b, %c) {beta = 3.0 : f32} : (tensor<5x3xf32>, tensor<3x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  %r = loom.hard_swish(%y) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// MatMul (batched) + [N] + GELU (tanh form).
// CHECK-LABEL: func @matmul_bias_gelu_tanh
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %arg1, %[[B]]) {activation = "gelu_tanh"} : (tensor<2x5x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<2x5x2xf32>
// CHECK-NOT: loom.gelu
// CHECK: return %[[Y]]
func.func @matmul_bias_gelu_tanh(%a: tensor<2x5x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x5x2xf32> {
  %y = loom.matmul(%a, %b) : (tensor<2x5x3xf32>, tensor<3x2xf32>) -> tensor<2x5x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = loom.add(%y, %c) : (tensor<2x5x2xf32>, tensor<2xf32>) -> tensor<2x5x2xf32>
  %r = loom.gelu(%s) {approximate = "tanh"} : (tensor<2x5x2xf32>) -> tensor<2x5x2xf32>
  return %r : tensor<2x5x2xf32>
}

// -----

// MatMul + GELU (erf form): no bias.
// CHECK-LABEL: func @matmul_gelu
// CHECK: %[[N:.*]] = loom.none
// CHECK: loom.fused_matmul(%arg0, %arg1, %[[N]]) {activation = "gelu"}
func.func @matmul_gelu(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>) -> tensor<5x2xf32> {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %r = loom.gelu(%y) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// CHECK-LABEL: func @matmul_leaky_relu
// CHECK: loom.fused_matmul(%arg0, %arg1, %{{.*}}) {activation = "leaky_relu", activation_alpha = 2.000000e-01 : f32}
func.func @matmul_leaky_relu(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>) -> tensor<5x2xf32> {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %r = loom.leaky_relu(%y) {alpha = 0.2 : f32} : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// fused_matmul (activation none, from the folds) + SiLU: its attributes
// stay.
// CHECK-LABEL: func @fused_matmul_silu
// CHECK: loom.fused_matmul(%arg0, %arg1, %arg2) {activation = "silu", alpha = 2.000000e+00 : f32, trans_b = 1 : i64}
// CHECK-NOT: loom.silu
func.func @fused_matmul_silu(%a: tensor<5x3xf32>, %b: tensor<2x3xf32>, %bias: tensor<2xf32>) -> tensor<5x2xf32> {
  %y = loom.fused_matmul(%a, %b, %bias) {trans_b = 1 : i64, alpha = 2.0 : f32} : (tensor<5x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %r = loom.silu(%y) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// The sum has another use: the bias is fused, the Relu stays.
// CHECK-LABEL: func @bias_other_use
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %arg1, %{{.*}}) : (tensor<5x3xf32>, tensor<3x2xf32>, tensor<2xf32>)
// CHECK: %[[R:.*]] = loom.relu(%[[Y]])
// CHECK: return %[[R]], %[[Y]]
func.func @bias_other_use(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>) {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %r = loom.relu(%s) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r, %s : tensor<5x2xf32>, tensor<5x2xf32>
}

// -----

// [C] after an NCHW conv broadcasts along W: no bias; the Relu after the
// Add is not the conv's.
// CHECK-LABEL: func @negative_conv_bias_wrong_axis
// CHECK-NOT: loom.fused_conv
// CHECK: loom.conv
// CHECK: loom.add
// CHECK: loom.relu
func.func @negative_conv_bias_wrong_axis(%x: tensor<1x2x2x2xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32> {
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = loom.add(%y, %c) : (tensor<1x2x2x2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %r = loom.relu(%a) : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %r : tensor<1x2x2x2xf32>
}

// -----

// The producer's result has another use.
// CHECK-LABEL: func @negative_producer_other_use
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.relu
func.func @negative_producer_other_use(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>) {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %r = loom.relu(%y) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r, %y : tensor<5x2xf32>, tensor<5x2xf32>
}

// -----

// The added value is not a constant.
// CHECK-LABEL: func @negative_dynamic_bias
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.add
// CHECK: loom.relu
func.func @negative_dynamic_bias(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>, %c: tensor<2xf32>) -> tensor<5x2xf32> {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %s = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %r = loom.relu(%s) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// The Clip bound is not a constant.
// CHECK-LABEL: func @negative_dynamic_clip_bound
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.clip
func.func @negative_dynamic_clip_bound(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>, %hi: tensor<f32>) -> tensor<5x2xf32> {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %none = loom.none
  %r = loom.clip(%y, %none, %hi) : (tensor<5x2xf32>, none, tensor<f32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// A fused producer that already has an activation.
// CHECK-LABEL: func @negative_already_activated
// CHECK: loom.fused_conv(%arg0, %arg1, %{{.*}}) {activation = "relu"}
// CHECK: loom.sigmoid
func.func @negative_already_activated(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %none = loom.none
  %y = loom.fused_conv(%x, %w, %none) {activation = "relu"} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %r = loom.sigmoid(%y) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Not an epilogue activation (Exp), on a non-f32 producer nothing fuses.
// CHECK-LABEL: func @negative_not_activation
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.exp
// CHECK: loom.relu
func.func @negative_not_activation(%a: tensor<5x3xf32>, %b: tensor<3x2xf32>, %ai: tensor<5x3xi32>, %bi: tensor<3x2xi32>) -> (tensor<5x2xf32>, tensor<5x2xi32>) {
  %y = loom.matmul(%a, %b) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %r = loom.exp(%y) : (tensor<5x2xf32>) -> tensor<5x2xf32>
  %yi = loom.matmul(%ai, %bi) : (tensor<5x3xi32>, tensor<3x2xi32>) -> tensor<5x2xi32>
  %ri = loom.relu(%yi) : (tensor<5x2xi32>) -> tensor<5x2xi32>
  return %r, %ri : tensor<5x2xf32>, tensor<5x2xi32>
}

// -----

// A dynamic qconv (ONNX Runtime's ConvInteger chain, bias included) takes
// the Relu after it.
// CHECK-LABEL: func @fuse_qconv_relu
// CHECK: %[[Y:.*]] = loom.qconv(%arg0, %{{.*}}, %{{.*}}) {activation = "relu", dynamic = 1 : i64, pads = array<i64: 1, 1, 1, 1>}
// CHECK-NOT: loom.relu
// CHECK: return %[[Y]]
func.func @fuse_qconv_relu(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = loom.qconstant dense<[[[[2, 1, 0], [1, -3, 4], [0, 0, 5]]], [[[-3, 1, 1], [1, 2, 4], [7, 0, 1]]]]> : tensor<2x1x3x3xi8> -> tensor<2x1x3x3x!quant.uniform<i8:f32, 0.25:3>>
  %b = loom.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %y = loom.qconv(%x, %w, %b) {dynamic = 1 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x3x3x!quant.uniform<i8:f32, 0.25:3>>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  %r = loom.relu(%y) : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %r : tensor<1x2x3x3xf32>
}

// -----

// A qmatmul takes a Clip with constant bounds.
// CHECK-LABEL: func @fuse_qmatmul_clip
// CHECK: %[[Y:.*]] = loom.qmatmul(%arg0, %{{.*}}, %{{.*}}) {activation = "clip", activation_alpha = 0.000000e+00 : f32, activation_beta = 6.000000e+00 : f32, dynamic = 1 : i64}
// CHECK-NOT: loom.clip
// CHECK: return %[[Y]]
func.func @fuse_qmatmul_clip(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = loom.qconstant dense<3> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32, 0.1>>
  %none = loom.none
  %y = loom.qmatmul(%a, %w, %none) {dynamic = 1 : i64} : (tensor<3x4xf32>, tensor<4x2x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<3x2xf32>
  %lo = loom.constant dense<0.0> : tensor<f32>
  %hi = loom.constant dense<6.0> : tensor<f32>
  %r = loom.clip(%y, %lo, %hi) : (tensor<3x2xf32>, tensor<f32>, tensor<f32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// Quantized kernels that keep their activation: one already activated, one
// whose result has another use.
// CHECK-LABEL: func @negative_qconv_activation
// CHECK: loom.qconv({{.*}}) {activation = "relu"
// CHECK: loom.sigmoid
// CHECK: loom.qmatmul
// CHECK-NOT: activation
// CHECK: loom.relu
func.func @negative_qconv_activation(%x: tensor<1x1x3x3xf32>, %f: tensor<3x4xf32>) -> (tensor<1x2x3x3xf32>, tensor<3x2xf32>, tensor<3x2xf32>) {
  %w = loom.qconstant dense<1> : tensor<2x1x3x3xi8> -> tensor<2x1x3x3x!quant.uniform<i8:f32, 0.25>>
  %none = loom.none
  %y = loom.qconv(%x, %w, %none) {activation = "relu", dynamic = 1 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x3x3x!quant.uniform<i8:f32, 0.25>>, none) -> tensor<1x2x3x3xf32>
  %s = loom.sigmoid(%y) : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %wm = loom.qconstant dense<3> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32, 0.1>>
  %m = loom.qmatmul(%f, %wm, %none) {dynamic = 1 : i64} : (tensor<3x4xf32>, tensor<4x2x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<3x2xf32>
  %r = loom.relu(%m) : (tensor<3x2xf32>) -> tensor<3x2xf32>
  return %s, %m, %r : tensor<1x2x3x3xf32>, tensor<3x2xf32>, tensor<3x2xf32>
}
