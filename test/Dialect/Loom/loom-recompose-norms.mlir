// RUN: loom-opt %s -split-input-file -loom-recompose-norms | FileCheck %s

// LayerNorm as PyTorch (opset < 17) exports it, with scale and bias.
// CHECK-LABEL: func @layer_norm_torch
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>)
// CHECK-DAG: %[[S:.*]] = loom.constant dense<{{.*}}> : tensor<8xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<{{.*}}> : tensor<8xf32>
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = loom.layer_normalization(%[[X]], %[[S]], %[[B]]) : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x3x8xf32>, none, none)
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm_torch(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %scale = loom.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  %bias = loom.constant dense<[0.5, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5, -0.5]> : tensor<8xf32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: -1>, keepdims = 1 : i64} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<2x3x8xf32>, tensor<f32>) -> tensor<2x3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: -1>, keepdims = 1 : i64} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<2x3x1xf32>, tensor<f32>) -> tensor<2x3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %n = loom.div(%d, %s) : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
  %m = loom.mul(%n, %scale) : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %y = loom.add(%m, %bias) : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// Two trailing axes, Mul(d, d), Reciprocal + Mul, commuted operands, a
// [1, 4, 8] scale (reshaped to [4, 8]) and no bias.
// CHECK-LABEL: func @layer_norm_two_axes
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x8xf32>, %[[W:.*]]: tensor<1x4x8xf32>)
// CHECK: %[[S:.*]] = loom.constant dense<{{.*}}> : tensor<4x8xf32>
// CHECK: %[[N:.*]] = loom.none
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = loom.layer_normalization(%[[X]], %[[S]], %[[N]]) {axis = -2 : i64} : (tensor<2x4x8xf32>, tensor<4x8xf32>, none) -> (tensor<2x4x8xf32>, none, none)
// CHECK: return %[[Y]]
func.func @layer_norm_two_axes(%x: tensor<2x4x8xf32>, %w: tensor<1x4x8xf32>) -> tensor<2x4x8xf32> {
  %eps = loom.constant dense<9.99999974E-6> : tensor<1xf32>
  %scale = loom.constant dense<1.5> : tensor<1x4x8xf32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 2, 1>, keepdims = 1 : i64} : (tensor<2x4x8xf32>) -> tensor<2x1x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %sq = loom.mul(%d, %d) : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: -2, -1>, keepdims = 1 : i64} : (tensor<2x4x8xf32>) -> tensor<2x1x1xf32>
  %ve = loom.add(%eps, %var) : (tensor<1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %s = loom.sqrt(%ve) : (tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %r = loom.reciprocal(%s) : (tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %n = loom.mul(%r, %d) : (tensor<2x1x1xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %y = loom.mul(%scale, %n) : (tensor<1x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// No scale, no bias: a ones scale.
// CHECK-LABEL: func @layer_norm_plain
// CHECK: %[[ONES:.*]] = loom.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK: loom.layer_normalization(%{{.*}}, %[[ONES]], %{{.*}}) {epsilon = 1.000000e-03 : f32}
// CHECK-NOT: loom.reduce_mean
func.func @layer_norm_plain(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %two = loom.constant dense<2> : tensor<i64>
  %eps = loom.constant dense<1.000000e-03> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<i64>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// Not the trailing axis: no norm at all.
// CHECK-LABEL: func @negative_layer_norm_wrong_axis
// CHECK-NOT: loom.layer_normalization
// CHECK-NOT: loom.rms_norm
func.func @negative_layer_norm_wrong_axis(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 0>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<1x8xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 0>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<1x8xf32>
  %ve = loom.add(%var, %eps) : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %s = loom.sqrt(%ve) : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// The mean over another axis than the variance: an RMSNorm of the
// difference, not a LayerNorm.
// CHECK-LABEL: func @negative_layer_norm_mean_axes_differ
// CHECK-NOT: loom.layer_normalization
// CHECK: loom.sub
// CHECK: loom.rms_norm
func.func @negative_layer_norm_mean_axes_differ(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 0, 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<1x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<1x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// keepdims = 0, a cube instead of a square, and the variance also
// returned: no norm.
// CHECK-LABEL: func @negative_layer_norm_keepdims
// CHECK-NOT: loom.layer_normalization
// CHECK-NOT: loom.rms_norm
func.func @negative_layer_norm_keepdims(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 0 : i64} : (tensor<3x8xf32>) -> tensor<3xf32>
  %ve = loom.add(%var, %eps) : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %s = loom.sqrt(%ve) : (tensor<3xf32>) -> tensor<3xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// CHECK-LABEL: func @negative_layer_norm_cube
// CHECK-NOT: loom.layer_normalization
// CHECK-NOT: loom.rms_norm
func.func @negative_layer_norm_cube(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %three = loom.constant dense<3.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %three) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// CHECK-LABEL: func @negative_layer_norm_var_used
// CHECK-NOT: loom.layer_normalization
// CHECK-NOT: loom.rms_norm
func.func @negative_layer_norm_var_used(%x: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x1xf32>) {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n, %var : tensor<3x8xf32>, tensor<3x1xf32>
}

// -----

// x - mean is also returned: not a LayerNorm, but the rest is exactly an
// RMSNorm of x - mean.
// CHECK-LABEL: func @layer_norm_centered_used
// CHECK-NOT: loom.layer_normalization
// CHECK: %[[D:.*]] = loom.sub
// CHECK: %[[Y:.*]] = loom.rms_norm(%[[D]], %{{.*}})
// CHECK: return %[[Y]], %[[D]]
func.func @layer_norm_centered_used(%x: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n, %d : tensor<3x8xf32>, tensor<3x8xf32>
}

// -----

// A scale that varies along a non-normalized axis cannot be a LayerNorm
// scale: the LayerNorm stops before it.
// CHECK-LABEL: func @layer_norm_row_scale_left_out
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = loom.layer_normalization
// CHECK: loom.mul(%[[Y]], %{{.*}}) : (tensor<3x8xf32>, tensor<3x1xf32>)
func.func @layer_norm_row_scale_left_out(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<1.000000e-05> : tensor<f32>
  %scale = loom.constant dense<[[1.0], [2.0], [3.0]]> : tensor<3x1xf32>
  %mean = loom.reduce_mean(%x) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %d = loom.sub(%x, %mean) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %sq = loom.pow(%d, %two) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = loom.sqrt(%ve) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = loom.div(%d, %s) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %y = loom.mul(%n, %scale) : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// RMSNorm as T5 / Llama export it: x · (1 / sqrt(mean(x²) + eps)), then
// weight · (…).
// CHECK-LABEL: func @rms_norm_llama
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
// CHECK: %[[W:.*]] = loom.constant
// CHECK: %[[Y:.*]] = loom.rms_norm(%[[X]], %[[W]]) : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm_llama(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %eps = loom.constant dense<9.99999997E-7> : tensor<f32>
  %w = loom.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  %sq = loom.pow(%x, %two) : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: -1>, keepdims = 1 : i64} : (tensor<1x4x8xf32>) -> tensor<1x4x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %r = loom.div(%one, %s) : (tensor<f32>, tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %n = loom.mul(%x, %r) : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %y = loom.mul(%w, %n) : (tensor<8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Mul(x, x), Div(x, sqrt), the scale last.
// CHECK-LABEL: func @rms_norm_div
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK: %[[Y:.*]] = loom.rms_norm(%[[X]], %{{.*}}) {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm_div(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %w = loom.constant dense<2.0> : tensor<8xf32>
  %sq = loom.mul(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.add(%eps, %var) : (tensor<f32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = loom.div(%x, %s) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %y = loom.mul(%n, %w) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// The scale multiplies x first: (x · w) · rsqrt(…) with Reciprocal; x has
// other uses (the residual stream).
// CHECK-LABEL: func @rms_norm_scale_first
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK: %[[Y:.*]] = loom.rms_norm(%[[X]], %{{.*}})
// CHECK: loom.add(%[[Y]], %[[X]])
func.func @rms_norm_scale_first(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %w = loom.constant dense<2.0> : tensor<8xf32>
  %sq = loom.pow(%x, %two) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %r = loom.reciprocal(%s) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %xw = loom.mul(%x, %w) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %n = loom.mul(%xw, %r) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %y = loom.add(%n, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A wrong exponent, a Sub instead of an Add of epsilon, a non-constant
// epsilon: no RMSNorm.
// CHECK-LABEL: func @negative_rms_norm_exponent
// CHECK-NOT: loom.rms_norm
func.func @negative_rms_norm_exponent(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %p = loom.constant dense<2.5> : tensor<f32>
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %sq = loom.pow(%x, %p) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = loom.div(%x, %s) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// CHECK-LABEL: func @negative_rms_norm_sub_eps
// CHECK-NOT: loom.rms_norm
func.func @negative_rms_norm_sub_eps(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %sq = loom.mul(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.sub(%var, %eps) : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = loom.div(%x, %s) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// CHECK-LABEL: func @negative_rms_norm_eps_not_constant
// CHECK-NOT: loom.rms_norm
func.func @negative_rms_norm_eps_not_constant(%x: tensor<4x8xf32>, %eps: tensor<f32>) -> tensor<4x8xf32> {
  %sq = loom.mul(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = loom.div(%x, %s) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// The sqrt is also returned: no RMSNorm.
// CHECK-LABEL: func @negative_rms_norm_sqrt_used
// CHECK-NOT: loom.rms_norm
func.func @negative_rms_norm_sqrt_used(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x1xf32>) {
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %sq = loom.mul(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = loom.div(%x, %s) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n, %s : tensor<4x8xf32>, tensor<4x1xf32>
}

// Divided by the sqrt of another tensor's mean square: no RMSNorm.
// CHECK-LABEL: func @negative_rms_norm_other_numerator
// CHECK-NOT: loom.rms_norm
func.func @negative_rms_norm_other_numerator(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = loom.constant dense<9.99999974E-6> : tensor<f32>
  %sq = loom.mul(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %var = loom.reduce_mean(%sq) {axes = array<i64: 1>, keepdims = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = loom.add(%var, %eps) : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = loom.sqrt(%ve) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = loom.div(%z, %s) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// GroupNorm as PyTorch exports it: 8 channels in 2 groups.
// CHECK-LABEL: func @group_norm_torch
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x3x3xf32>)
// CHECK-DAG: %[[S:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00]> : tensor<8xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<5.000000e-01> : tensor<8xf32>
// CHECK: %[[Y:.*]] = loom.group_norm(%[[X]], %[[S]], %[[B]]) {num_groups = 2 : i64} : (tensor<2x8x3x3xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8x3x3xf32>
// CHECK-NEXT: return %[[Y]]
func.func @group_norm_torch(%x: tensor<2x8x3x3xf32>) -> tensor<2x8x3x3xf32> {
  %shape1 = loom.constant dense<[2, 2, -1]> : tensor<3xi64>
  %shape2 = loom.constant dense<[2, 8, 3, 3]> : tensor<4xi64>
  %ones = loom.constant dense<1.0> : tensor<2xf32>
  %zeros = loom.constant dense<0.0> : tensor<2xf32>
  %scale = loom.constant dense<[[[1.0]], [[2.0]], [[3.0]], [[4.0]], [[5.0]], [[6.0]], [[7.0]], [[8.0]]]> : tensor<8x1x1xf32>
  %bias = loom.constant dense<0.5> : tensor<8x1x1xf32>
  %r = loom.reshape(%x, %shape1) : (tensor<2x8x3x3xf32>, tensor<3xi64>) -> tensor<2x2x36xf32>
  %i = loom.instance_normalization(%r, %ones, %zeros) {epsilon = 9.99999974E-6 : f32} : (tensor<2x2x36xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2x36xf32>
  %b = loom.reshape(%i, %shape2) : (tensor<2x2x36xf32>, tensor<4xi64>) -> tensor<2x8x3x3xf32>
  %m = loom.mul(%b, %scale) : (tensor<2x8x3x3xf32>, tensor<8x1x1xf32>) -> tensor<2x8x3x3xf32>
  %y = loom.add(%m, %bias) : (tensor<2x8x3x3xf32>, tensor<8x1x1xf32>) -> tensor<2x8x3x3xf32>
  return %y : tensor<2x8x3x3xf32>
}

// -----

// Without the affine part: ones and zeros.
// CHECK-LABEL: func @group_norm_no_affine
// CHECK-DAG: %[[S:.*]] = loom.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: loom.group_norm(%{{.*}}, %[[S]], %[[B]]) {epsilon = 1.000000e-03 : f32, num_groups = 2 : i64} : (tensor<1x4x5xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x5xf32>
// CHECK-NOT: loom.instance_normalization
func.func @group_norm_no_affine(%x: tensor<1x4x5xf32>) -> tensor<1x4x5xf32> {
  %shape1 = loom.constant dense<[0, 2, -1]> : tensor<3xi64>
  %shape2 = loom.constant dense<[1, 4, 5]> : tensor<3xi64>
  %ones = loom.constant dense<1.0> : tensor<2xf32>
  %zeros = loom.constant dense<0.0> : tensor<2xf32>
  %r = loom.reshape(%x, %shape1) : (tensor<1x4x5xf32>, tensor<3xi64>) -> tensor<1x2x10xf32>
  %i = loom.instance_normalization(%r, %ones, %zeros) {epsilon = 1.000000e-03 : f32} : (tensor<1x2x10xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x10xf32>
  %b = loom.reshape(%i, %shape2) : (tensor<1x2x10xf32>, tensor<3xi64>) -> tensor<1x4x5xf32>
  return %b : tensor<1x4x5xf32>
}

// -----

// An InstanceNormalization scale that is not all ones; a reshape to another
// shape than the input's; a bias varying along a spatial axis (the norm
// stops before it).
// CHECK-LABEL: func @negative_group_norm_scale
// CHECK-NOT: loom.group_norm
func.func @negative_group_norm_scale(%x: tensor<2x8x3x3xf32>) -> tensor<2x8x3x3xf32> {
  %shape1 = loom.constant dense<[2, 2, -1]> : tensor<3xi64>
  %shape2 = loom.constant dense<[2, 8, 3, 3]> : tensor<4xi64>
  %ones = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %zeros = loom.constant dense<0.0> : tensor<2xf32>
  %r = loom.reshape(%x, %shape1) : (tensor<2x8x3x3xf32>, tensor<3xi64>) -> tensor<2x2x36xf32>
  %i = loom.instance_normalization(%r, %ones, %zeros) {epsilon = 9.99999974E-6 : f32} : (tensor<2x2x36xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2x36xf32>
  %b = loom.reshape(%i, %shape2) : (tensor<2x2x36xf32>, tensor<4xi64>) -> tensor<2x8x3x3xf32>
  return %b : tensor<2x8x3x3xf32>
}

// CHECK-LABEL: func @negative_group_norm_other_shape
// CHECK-NOT: loom.group_norm
func.func @negative_group_norm_other_shape(%x: tensor<2x8x3x3xf32>) -> tensor<2x8x9xf32> {
  %shape1 = loom.constant dense<[2, 2, -1]> : tensor<3xi64>
  %shape2 = loom.constant dense<[2, 8, 9]> : tensor<3xi64>
  %ones = loom.constant dense<1.0> : tensor<2xf32>
  %zeros = loom.constant dense<0.0> : tensor<2xf32>
  %r = loom.reshape(%x, %shape1) : (tensor<2x8x3x3xf32>, tensor<3xi64>) -> tensor<2x2x36xf32>
  %i = loom.instance_normalization(%r, %ones, %zeros) {epsilon = 9.99999974E-6 : f32} : (tensor<2x2x36xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2x36xf32>
  %b = loom.reshape(%i, %shape2) : (tensor<2x2x36xf32>, tensor<3xi64>) -> tensor<2x8x9xf32>
  return %b : tensor<2x8x9xf32>
}

// CHECK-LABEL: func @group_norm_spatial_bias_left_out
// CHECK: %[[G:.*]] = loom.group_norm
// CHECK: loom.add(%[[G]], %{{.*}}) : (tensor<1x4x2x2xf32>, tensor<2x1xf32>)
func.func @group_norm_spatial_bias_left_out(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %shape1 = loom.constant dense<[1, 2, -1]> : tensor<3xi64>
  %shape2 = loom.constant dense<[1, 4, 2, 2]> : tensor<4xi64>
  %ones = loom.constant dense<1.0> : tensor<2xf32>
  %zeros = loom.constant dense<0.0> : tensor<2xf32>
  %bias = loom.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %r = loom.reshape(%x, %shape1) : (tensor<1x4x2x2xf32>, tensor<3xi64>) -> tensor<1x2x8xf32>
  %i = loom.instance_normalization(%r, %ones, %zeros) {epsilon = 9.99999974E-6 : f32} : (tensor<1x2x8xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x8xf32>
  %b = loom.reshape(%i, %shape2) : (tensor<1x2x8xf32>, tensor<4xi64>) -> tensor<1x4x2x2xf32>
  %y = loom.add(%b, %bias) : (tensor<1x4x2x2xf32>, tensor<2x1xf32>) -> tensor<1x4x2x2xf32>
  return %y : tensor<1x4x2x2xf32>
}
