// RUN: loom-opt %s -split-input-file -loom-recompose-attention | FileCheck %s

// GPT-2: MatMul(Q, Transpose(K)) / sqrt(D) + constant causal mask.
// CHECK-LABEL: func @mha_transpose_div_const_mask
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x4x8xf32>, %[[K:.*]]: tensor<1x2x4x8xf32>, %[[V:.*]]: tensor<1x2x4x8xf32>)
// CHECK: %[[M:.*]] = loom.constant
// CHECK-NOT: loom.transpose
// CHECK: %[[A:.*]] = loom.attention(%[[Q]], %[[K]], %[[V]], %[[M]]) {kv_heads = 2 : i64, q_heads = 2 : i64, scale = 0.353553{{[0-9]*}} : f32} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x8xf32>
// CHECK-NOT: loom.matmul
// CHECK-NOT: loom.softmax
// CHECK: return %[[A]]
func.func @mha_transpose_div_const_mask(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %c = loom.constant dense<2.82842708> : tensor<f32>
  %mask = loom.constant dense<[[[[0.0, -1.0e+9, -1.0e+9, -1.0e+9], [0.0, 0.0, -1.0e+9, -1.0e+9], [0.0, 0.0, 0.0, -1.0e+9], [0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x4x4xf32>
  %kt = loom.transpose(%k) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %d = loom.div(%s, %c) : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %m = loom.add(%d, %mask) : (tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%m) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// Mask first in the Add, scale as Mul(c, scores) with a one-element tensor,
// Softmax axis 3.
// CHECK-LABEL: func @mask_first_mul_const_first
// CHECK-SAME: (%[[Q:.*]]: tensor<2x2x4x8xf32>, %[[K:.*]]: tensor<2x2x4x8xf32>, %[[V:.*]]: tensor<2x2x4x6xf32>, %[[M:.*]]: tensor<2x1x1x4xf32>)
// CHECK: loom.attention(%[[Q]], %[[K]], %[[V]], %[[M]]) {kv_heads = 2 : i64, q_heads = 2 : i64, scale = 1.250000e-01 : f32}
// CHECK-SAME: -> tensor<2x2x4x6xf32>
func.func @mask_first_mul_const_first(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x6xf32>, %mask: tensor<2x1x1x4xf32>) -> tensor<2x2x4x6xf32> {
  %c = loom.constant dense<0.125> : tensor<1xf32>
  %kt = loom.transpose(%k) {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x2x4x8xf32>) -> tensor<2x2x8x4xf32>
  %s = loom.matmul(%q, %kt) : (tensor<2x2x4x8xf32>, tensor<2x2x8x4xf32>) -> tensor<2x2x4x4xf32>
  %d = loom.mul(%c, %s) : (tensor<1xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %m = loom.add(%mask, %d) : (tensor<2x1x1x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = loom.softmax(%m) {axis = 3 : i64} : (tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<2x2x4x4xf32>, tensor<2x2x4x6xf32>) -> tensor<2x2x4x6xf32>
  return %y : tensor<2x2x4x6xf32>
}

// -----

// ViT: K transposed by Transpose(Reshape(k), [0, 2, 3, 1]); no scale, no
// mask. The Transpose stays: K is read transposed.
// CHECK-LABEL: func @k_transposed_no_scale_no_mask
// CHECK: %[[KT:.*]] = loom.transpose(%{{.*}}) {perm = array<i64: 0, 2, 3, 1>}
// CHECK: %[[NONE:.*]] = loom.none
// CHECK: loom.attention(%arg0, %[[KT]], %arg2, %[[NONE]]) {k_transposed = 1 : i64, kv_heads = 2 : i64, q_heads = 2 : i64, scale = 1.000000e+00 : f32}
// CHECK-NOT: loom.softmax
func.func @k_transposed_no_scale_no_mask(%q: tensor<1x2x5x8xf32>, %k: tensor<1x5x16xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32> {
  %shape = loom.constant dense<[1, 5, 2, 8]> : tensor<4xi64>
  %k4 = loom.reshape(%k, %shape) : (tensor<1x5x16xf32>, tensor<4xi64>) -> tensor<1x5x2x8xf32>
  %kt = loom.transpose(%k4) {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x5x2x8xf32>) -> tensor<1x2x8x5xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x5x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x5x5xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x5x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return %y : tensor<1x2x5x8xf32>
}

// -----

// The scale on Q only (timm): Mul(Q, c).
// CHECK-LABEL: func @scale_on_q
// CHECK-NOT: loom.mul
// CHECK: loom.attention(%arg0, %arg1, %arg2, %{{.*}}) {k_transposed = 1 : i64, kv_heads = 2 : i64, q_heads = 2 : i64, scale = 2.500000e-01 : f32}
func.func @scale_on_q(%q: tensor<1x2x5x8xf32>, %kt: tensor<1x2x8x5xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32> {
  %c = loom.constant dense<0.25> : tensor<f32>
  %qs = loom.mul(%q, %c) : (tensor<1x2x5x8xf32>, tensor<f32>) -> tensor<1x2x5x8xf32>
  %s = loom.matmul(%qs, %kt) : (tensor<1x2x5x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x5x5xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x5x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return %y : tensor<1x2x5x8xf32>
}

// -----

// The scale split over Q and K (D^-1/4 each, as torch exports
// scaled_dot_product_attention): the product.
// CHECK-LABEL: func @scale_on_q_and_k
// CHECK-NOT: loom.mul
// CHECK-NOT: loom.transpose
// CHECK: loom.attention(%arg0, %arg1, %arg2, %{{.*}}) {kv_heads = 2 : i64, q_heads = 2 : i64, scale = 0.35355{{[0-9]*}} : f32}
func.func @scale_on_q_and_k(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %c = loom.constant dense<0.594603539> : tensor<f32>
  %qs = loom.mul(%q, %c) : (tensor<1x2x4x8xf32>, tensor<f32>) -> tensor<1x2x4x8xf32>
  %kt = loom.transpose(%k) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %ks = loom.mul(%kt, %c) : (tensor<1x2x8x4xf32>, tensor<f32>) -> tensor<1x2x8x4xf32>
  %s = loom.matmul(%qs, %ks) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// Grouped-query attention: K repeated with Unsqueeze, V with Reshape to
// [B, Hkv, 1, S, D]; both read unrepeated.
// CHECK-LABEL: func @gqa_repeat_kv
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x3x8xf32>, %[[V:.*]]: tensor<1x2x3x8xf32>, %[[M:.*]]: tensor<1x1x3x3xf32>)
// CHECK-NOT: loom.expand
// CHECK: loom.attention(%[[Q]], %[[K]], %[[V]], %[[M]]) {kv_heads = 2 : i64, q_heads = 4 : i64, scale = 0.353553{{[0-9]*}} : f32} : (tensor<1x4x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x4x3x8xf32>
// CHECK-NOT: loom.expand
func.func @gqa_repeat_kv(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>, %mask: tensor<1x1x3x3xf32>) -> tensor<1x4x3x8xf32> {
  %c = loom.constant dense<0.353553385> : tensor<f32>
  %axes = loom.constant dense<2> : tensor<1xi64>
  %s5 = loom.constant dense<[1, 2, 1, 3, 8]> : tensor<5xi64>
  %e5 = loom.constant dense<[1, 2, 2, 3, 8]> : tensor<5xi64>
  %s4 = loom.constant dense<[1, 4, 3, 8]> : tensor<4xi64>
  %ku = loom.unsqueeze(%k, %axes) : (tensor<1x2x3x8xf32>, tensor<1xi64>) -> tensor<1x2x1x3x8xf32>
  %ke = loom.expand(%ku, %e5) : (tensor<1x2x1x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %kr = loom.reshape(%ke, %s4) : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %vu = loom.reshape(%v, %s5) : (tensor<1x2x3x8xf32>, tensor<5xi64>) -> tensor<1x2x1x3x8xf32>
  %ve = loom.expand(%vu, %e5) : (tensor<1x2x1x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %vr = loom.reshape(%ve, %s4) : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %kt = loom.transpose(%kr) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x3x8xf32>) -> tensor<1x4x8x3xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x4x3x8xf32>, tensor<1x4x8x3xf32>) -> tensor<1x4x3x3xf32>
  %d = loom.mul(%s, %c) : (tensor<1x4x3x3xf32>, tensor<f32>) -> tensor<1x4x3x3xf32>
  %m = loom.add(%d, %mask) : (tensor<1x4x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x4x3x3xf32>
  %p = loom.softmax(%m) {axis = -1 : i64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %y = loom.matmul(%p, %vr) : (tensor<1x4x3x3xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %y : tensor<1x4x3x8xf32>
}

// -----

// A repetition that is not head-major (Unsqueeze at axis 1: query head h
// would use kv head h % Hkv) is not read unrepeated: K and V are the
// repeated tensors (kv_heads = q_heads).
// CHECK-LABEL: func @repeat_not_head_major
// CHECK: %[[KR:.*]] = loom.reshape
// CHECK: loom.attention(%arg0, %[[KR]], %arg2, %{{.*}}) {kv_heads = 4 : i64, q_heads = 4 : i64
func.func @repeat_not_head_major(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32> {
  %axes = loom.constant dense<1> : tensor<1xi64>
  %e5 = loom.constant dense<[1, 2, 2, 3, 8]> : tensor<5xi64>
  %s4 = loom.constant dense<[1, 4, 3, 8]> : tensor<4xi64>
  %ku = loom.unsqueeze(%k, %axes) : (tensor<1x2x3x8xf32>, tensor<1xi64>) -> tensor<1x1x2x3x8xf32>
  %ke = loom.expand(%ku, %e5) : (tensor<1x1x2x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %kr = loom.reshape(%ke, %s4) : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %kt = loom.transpose(%kr) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x3x8xf32>) -> tensor<1x4x8x3xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x4x3x8xf32>, tensor<1x4x8x3xf32>) -> tensor<1x4x3x3xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x4x3x3xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %y : tensor<1x4x3x8xf32>
}

// -----

// One K head broadcast by MatMul (multi-query attention): kv_heads = 1.
// CHECK-LABEL: func @mqa_broadcast
// CHECK: loom.attention(%arg0, %arg1, %arg2, %{{.*}}) {k_transposed = 1 : i64, kv_heads = 1 : i64, q_heads = 4 : i64
func.func @mqa_broadcast(%q: tensor<1x4x3x8xf32>, %kt: tensor<1x1x8x3xf32>, %v: tensor<1x1x3x8xf32>) -> tensor<1x4x3x8xf32> {
  %s = loom.matmul(%q, %kt) : (tensor<1x4x3x8xf32>, tensor<1x1x8x3xf32>) -> tensor<1x4x3x3xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x4x3x3xf32>, tensor<1x1x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %y : tensor<1x4x3x8xf32>
}

// -----

// The Transpose of K has another use: it stays, K is read untransposed.
// CHECK-LABEL: func @transpose_other_use
// CHECK: %[[KT:.*]] = loom.transpose(%arg1)
// CHECK: %[[A:.*]] = loom.attention(%arg0, %arg1, %arg2, %{{.*}}) {kv_heads = 2 : i64, q_heads = 2 : i64, scale = 1.000000e+00 : f32}
// CHECK: return %[[A]], %[[KT]]
func.func @transpose_other_use(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) {
  %kt = loom.transpose(%k) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>
}

// -----

// The scale on Q has another use: it stays and is read as Q (scale 1).
// CHECK-LABEL: func @q_scale_other_use
// CHECK: %[[QS:.*]] = loom.mul(%arg0
// CHECK: %[[A:.*]] = loom.attention(%[[QS]], %arg1, %arg2, %{{.*}}) {k_transposed = 1 : i64, kv_heads = 2 : i64, q_heads = 2 : i64, scale = 1.000000e+00 : f32}
// CHECK: return %[[A]], %[[QS]]
func.func @q_scale_other_use(%q: tensor<1x2x5x8xf32>, %kt: tensor<1x2x8x5xf32>, %v: tensor<1x2x5x8xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %c = loom.constant dense<0.25> : tensor<f32>
  %qs = loom.mul(%q, %c) : (tensor<1x2x5x8xf32>, tensor<f32>) -> tensor<1x2x5x8xf32>
  %s = loom.matmul(%qs, %kt) : (tensor<1x2x5x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x5x5xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x5x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return %y, %qs : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// -----

// Scores from a fused_matmul (loom-fold-transpose folded the Transpose of
// K): trans_b = 1 reads K untransposed, alpha multiplies the scale.
// CHECK-LABEL: func @fused_matmul_trans_b
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.attention(%arg0, %arg1, %arg2, %{{.*}}) {kv_heads = 2 : i64, q_heads = 2 : i64, scale = 2.500000e-01 : f32}
func.func @fused_matmul_trans_b(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %none = loom.none
  %c = loom.constant dense<2.0> : tensor<f32>
  %s = loom.fused_matmul(%q, %k, %none) {trans_b = 1 : i64, alpha = 0.5 : f32} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, none) -> tensor<1x2x4x4xf32>
  %d = loom.div(%s, %c) : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%d) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// CHECK-LABEL: func @negative_softmax_axis
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_softmax_axis(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%s) {axis = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// A scale that is not a one-element constant.
// CHECK-LABEL: func @negative_scale_not_scalar
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_scale_not_scalar(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %c = loom.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %d = loom.div(%s, %c) : (tensor<1x2x4x4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%d) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// A scale that is not a constant.
// CHECK-LABEL: func @negative_scale_not_constant
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_scale_not_constant(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %c: tensor<f32>) -> tensor<1x2x4x8xf32> {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %d = loom.mul(%s, %c) : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%d) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// Div(c, scores) is not a scale.
// CHECK-LABEL: func @negative_div_const_by_scores
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_div_const_by_scores(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %c = loom.constant dense<2.0> : tensor<f32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %d = loom.div(%c, %s) : (tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%d) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// The scores have another use.
// CHECK-LABEL: func @negative_scores_other_use
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_scores_other_use(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y, %s : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// The scaled scores have another use.
// CHECK-LABEL: func @negative_scaled_other_use
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_scaled_other_use(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %c = loom.constant dense<2.0> : tensor<f32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %d = loom.div(%s, %c) : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %m = loom.add(%d, %mask) : (tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%m) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y, %d : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// The masked scores have another use.
// CHECK-LABEL: func @negative_masked_other_use
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_masked_other_use(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %m = loom.add(%s, %mask) : (tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%m) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y, %m : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// The probabilities have another use.
// CHECK-LABEL: func @negative_probs_other_use
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_probs_other_use(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y, %p : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// The repeated K has another use.
// CHECK-LABEL: func @negative_repeat_other_use
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_repeat_other_use(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x4x3x8xf32>) -> (tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>) {
  %axes = loom.constant dense<2> : tensor<1xi64>
  %e5 = loom.constant dense<[1, 2, 2, 3, 8]> : tensor<5xi64>
  %s4 = loom.constant dense<[1, 4, 3, 8]> : tensor<4xi64>
  %ku = loom.unsqueeze(%k, %axes) : (tensor<1x2x3x8xf32>, tensor<1xi64>) -> tensor<1x2x1x3x8xf32>
  %ke = loom.expand(%ku, %e5) : (tensor<1x2x1x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %kr = loom.reshape(%ke, %s4) : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %kt = loom.transpose(%kr) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x3x8xf32>) -> tensor<1x4x8x3xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x4x3x8xf32>, tensor<1x4x8x3xf32>) -> tensor<1x4x3x3xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x4x3x3xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %y, %kr : tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>
}

// -----

// K repeated but V not: the head counts differ.
// CHECK-LABEL: func @negative_kv_heads_differ
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_kv_heads_differ(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32> {
  %axes = loom.constant dense<2> : tensor<1xi64>
  %e5 = loom.constant dense<[1, 2, 2, 3, 8]> : tensor<5xi64>
  %s4 = loom.constant dense<[1, 4, 3, 8]> : tensor<4xi64>
  %ku = loom.unsqueeze(%k, %axes) : (tensor<1x2x3x8xf32>, tensor<1xi64>) -> tensor<1x2x1x3x8xf32>
  %ke = loom.expand(%ku, %e5) : (tensor<1x2x1x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %kr = loom.reshape(%ke, %s4) : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %kt = loom.transpose(%kr) {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x3x8xf32>) -> tensor<1x4x8x3xf32>
  %s = loom.matmul(%q, %kt) : (tensor<1x4x3x8xf32>, tensor<1x4x8x3xf32>) -> tensor<1x4x3x3xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x4x3x3xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %y : tensor<1x4x3x8xf32>
}

// -----

// A mask that broadcasts the scores to a larger batch.
// CHECK-LABEL: func @negative_mask_grows_batch
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_mask_grows_batch(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<3x1x4x4xf32>) -> tensor<3x2x4x8xf32> {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %m = loom.add(%s, %mask) : (tensor<1x2x4x4xf32>, tensor<3x1x4x4xf32>) -> tensor<3x2x4x4xf32>
  %p = loom.softmax(%m) {axis = -1 : i64} : (tensor<3x2x4x4xf32>) -> tensor<3x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<3x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<3x2x4x8xf32>
  return %y : tensor<3x2x4x8xf32>
}

// -----

// Not 4-D.
// CHECK-LABEL: func @negative_rank3
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_rank3(%q: tensor<2x4x8xf32>, %kt: tensor<2x8x4xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %s = loom.matmul(%q, %kt) : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<2x4x4xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Not f32.
// CHECK-LABEL: func @negative_f16
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_f16(%q: tensor<1x2x4x8xf16>, %kt: tensor<1x2x8x4xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf16>, tensor<1x2x8x4xf16>) -> tensor<1x2x4x4xf16>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  return %y : tensor<1x2x4x8xf16>
}

// -----

// A fused_matmul with a bias or an activation does not give plain scores.
// CHECK-LABEL: func @negative_fused_matmul_activation
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_fused_matmul_activation(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %none = loom.none
  %s = loom.fused_matmul(%q, %k, %none) {trans_b = 1 : i64, activation = "relu"} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, none) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%s) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

// A Where-style mask (Where(cond, scores, -inf)) is not recognized.
// CHECK-LABEL: func @negative_where_mask
// CHECK-NOT: loom.attention
// CHECK: loom.softmax
func.func @negative_where_mask(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %cond: tensor<1x1x4x4xi1>) -> tensor<1x2x4x8xf32> {
  %ninf = loom.constant dense<0xFF800000> : tensor<f32>
  %s = loom.matmul(%q, %kt) : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %w = loom.where(%cond, %s, %ninf) : (tensor<1x1x4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = loom.softmax(%w) {axis = -1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.matmul(%p, %v) : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}
