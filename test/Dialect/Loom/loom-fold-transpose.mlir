// RUN: loom-opt %s -split-input-file -loom-fold-transpose | FileCheck %s

// CHECK-LABEL: func @matmul_transpose_a
// CHECK-NOT: loom.transpose
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %arg1, %{{.*}}) {trans_a = 1 : i64} : (tensor<3x4xf32>, tensor<3x5xf32>, none) -> tensor<4x5xf32>
// CHECK: return %[[Y]]
func.func @matmul_transpose_a(%a: tensor<3x4xf32>, %b: tensor<3x5xf32>) -> tensor<4x5xf32> {
  %t = loom.transpose(%a) {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %y = loom.matmul(%t, %b) : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// Rank 3, B transposed with perm [0, 2, 1].
// CHECK-LABEL: func @matmul_transpose_b
// CHECK-NOT: loom.transpose
// CHECK: loom.fused_matmul(%arg0, %arg1, %{{.*}}) {trans_b = 1 : i64} : (tensor<2x4x3xf32>, tensor<2x5x3xf32>, none) -> tensor<2x4x5xf32>
func.func @matmul_transpose_b(%a: tensor<2x4x3xf32>, %b: tensor<2x5x3xf32>) -> tensor<2x4x5xf32> {
  %t = loom.transpose(%b) {perm = array<i64: 0, 2, 1>} : (tensor<2x5x3xf32>) -> tensor<2x3x5xf32>
  %y = loom.matmul(%a, %t) : (tensor<2x4x3xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
  return %y : tensor<2x4x5xf32>
}

// -----

// Both operands; a 2-D Transpose without perm reverses (swaps) the dims.
// CHECK-LABEL: func @matmul_transpose_both
// CHECK-NOT: loom.transpose
// CHECK: loom.fused_matmul(%arg0, %arg1, %{{.*}}) {trans_a = 1 : i64, trans_b = 1 : i64}
func.func @matmul_transpose_both(%a: tensor<3x4xf32>, %b: tensor<5x3xf32>) -> tensor<4x5xf32> {
  %ta = loom.transpose(%a) : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %tb = loom.transpose(%b) {perm = array<i64: 1, 0>} : (tensor<5x3xf32>) -> tensor<3x5xf32>
  %y = loom.matmul(%ta, %tb) : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// The Transpose has another use: it stays for that use.
// CHECK-LABEL: func @matmul_transpose_other_use
// CHECK: %[[T:.*]] = loom.transpose(%arg1)
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %arg1, %{{.*}}) {trans_b = 1 : i64}
// CHECK: return %[[Y]], %[[T]]
func.func @matmul_transpose_other_use(%a: tensor<4x3xf32>, %b: tensor<5x3xf32>) -> (tensor<4x5xf32>, tensor<3x5xf32>) {
  %t = loom.transpose(%b) {perm = array<i64: 1, 0>} : (tensor<5x3xf32>) -> tensor<3x5xf32>
  %y = loom.matmul(%a, %t) : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  return %y, %t : tensor<4x5xf32>, tensor<3x5xf32>
}

// -----

// fused_matmul already transposing B: the two transposes cancel; its bias
// and epilogue stay.
// CHECK-LABEL: func @fused_matmul_toggle
// CHECK-NOT: loom.transpose
// CHECK: loom.fused_matmul(%arg0, %arg1, %arg2) {activation = "relu", alpha = 2.000000e+00 : f32} :
func.func @fused_matmul_toggle(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>, %bias: tensor<5xf32>) -> tensor<4x5xf32> {
  %t = loom.transpose(%b) {perm = array<i64: 1, 0>} : (tensor<3x5xf32>) -> tensor<5x3xf32>
  %y = loom.fused_matmul(%a, %t, %bias) {trans_b = 1 : i64, alpha = 2.0 : f32, activation = "relu"} : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// CHECK-LABEL: func @gemm_transpose_a
// CHECK-NOT: loom.transpose
// CHECK: loom.gemm(%arg0, %arg1, %{{.*}}) {transA = 1 : i64}
func.func @gemm_transpose_a(%a: tensor<3x4xf32>, %b: tensor<3x5xf32>) -> tensor<4x5xf32> {
  %none = loom.none
  %t = loom.transpose(%a) {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %y = loom.gemm(%t, %b, %none) : (tensor<4x3xf32>, tensor<3x5xf32>, none) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// transB = 1 on a transposed B: transB becomes 0.
// CHECK-LABEL: func @gemm_transpose_b_toggle
// CHECK-NOT: loom.transpose
// CHECK: loom.gemm(%arg0, %arg1, %{{.*}}) {alpha = 5.000000e-01 : f32} :
func.func @gemm_transpose_b_toggle(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>) -> tensor<4x5xf32> {
  %none = loom.none
  %t = loom.transpose(%b) : (tensor<3x5xf32>) -> tensor<5x3xf32>
  %y = loom.gemm(%a, %t, %none) {alpha = 0.5 : f32, transB = 1 : i64} : (tensor<4x3xf32>, tensor<5x3xf32>, none) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// CHECK-LABEL: func @transpose_transpose
// CHECK: %[[T:.*]] = loom.transpose(%arg0) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NOT: loom.transpose
// CHECK: return %[[T]]
func.func @transpose_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %t1 = loom.transpose(%x) {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %t2 = loom.transpose(%t1) {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  return %t2 : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_transpose_identity
// CHECK-NOT: loom.transpose
// CHECK: return %arg0
func.func @transpose_transpose_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %t1 = loom.transpose(%x) {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %t2 = loom.transpose(%t1) {perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  return %t2 : tensor<2x3x4xf32>
}

// -----

// Without perms (reversals) they cancel too; the inner one has another use.
// CHECK-LABEL: func @transpose_transpose_default_perm
// CHECK: %[[T:.*]] = loom.transpose(%arg0) : (tensor<2x3x4xi64>) -> tensor<4x3x2xi64>
// CHECK-NOT: loom.transpose
// CHECK: return %arg0, %[[T]]
func.func @transpose_transpose_default_perm(%x: tensor<2x3x4xi64>) -> (tensor<2x3x4xi64>, tensor<4x3x2xi64>) {
  %t1 = loom.transpose(%x) : (tensor<2x3x4xi64>) -> tensor<4x3x2xi64>
  %t2 = loom.transpose(%t1) : (tensor<4x3x2xi64>) -> tensor<2x3x4xi64>
  return %t2, %t1 : tensor<2x3x4xi64>, tensor<4x3x2xi64>
}

// -----

// CHECK-LABEL: func @reshape_reshape
// CHECK: %[[S:.*]] = loom.constant dense<[3, 8]> : tensor<2xi64>
// CHECK: %[[R:.*]] = loom.reshape(%arg0, %[[S]]) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<3x8xf32>
// CHECK-NOT: loom.reshape
// CHECK: return %[[R]]
func.func @reshape_reshape(%x: tensor<2x3x4xf32>) -> tensor<3x8xf32> {
  %s1 = loom.constant dense<[6, -1]> : tensor<2xi64>
  %r1 = loom.reshape(%x, %s1) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %s2 = loom.constant dense<[3, -1]> : tensor<2xi64>
  %r2 = loom.reshape(%r1, %s2) : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<3x8xf32>
  return %r2 : tensor<3x8xf32>
}

// -----

// CHECK-LABEL: func @reshape_reshape_identity
// CHECK-NOT: loom.reshape
// CHECK: return %arg0
func.func @reshape_reshape_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %s1 = loom.constant dense<[6, 4]> : tensor<2xi64>
  %r1 = loom.reshape(%x, %s1) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %s2 = loom.constant dense<[2, 3, 4]> : tensor<3xi64>
  %r2 = loom.reshape(%r1, %s2) : (tensor<6x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  return %r2 : tensor<2x3x4xf32>
}

// -----

// The Transpose moves a batch dimension, not the last two.
// CHECK-LABEL: func @negative_matmul_not_last_two
// CHECK: loom.transpose
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.matmul
func.func @negative_matmul_not_last_two(%a: tensor<4x2x3xf32>, %b: tensor<2x3x5xf32>) -> tensor<2x4x5xf32> {
  %t = loom.transpose(%a) {perm = array<i64: 1, 0, 2>} : (tensor<4x2x3xf32>) -> tensor<2x4x3xf32>
  %y = loom.matmul(%t, %b) : (tensor<2x4x3xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
  return %y : tensor<2x4x5xf32>
}

// -----

// A rank-3 Transpose without perm reverses all three dimensions.
// CHECK-LABEL: func @negative_matmul_reverse_3d
// CHECK: loom.transpose
// CHECK-NOT: loom.fused_matmul
func.func @negative_matmul_reverse_3d(%a: tensor<3x4x2xf32>, %b: tensor<2x3x5xf32>) -> tensor<2x4x5xf32> {
  %t = loom.transpose(%a) : (tensor<3x4x2xf32>) -> tensor<2x4x3xf32>
  %y = loom.matmul(%t, %b) : (tensor<2x4x3xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
  return %y : tensor<2x4x5xf32>
}

// -----

// Only f32 MatMuls become fused_matmul.
// CHECK-LABEL: func @negative_matmul_i64
// CHECK: loom.transpose
// CHECK-NOT: loom.fused_matmul
func.func @negative_matmul_i64(%a: tensor<3x4xi64>, %b: tensor<3x5xi64>) -> tensor<4x5xi64> {
  %t = loom.transpose(%a) {perm = array<i64: 1, 0>} : (tensor<3x4xi64>) -> tensor<4x3xi64>
  %y = loom.matmul(%t, %b) : (tensor<4x3xi64>, tensor<3x5xi64>) -> tensor<4x5xi64>
  return %y : tensor<4x5xi64>
}

// -----

// The Transpose feeds Gemm's C, not A or B.
// CHECK-LABEL: func @negative_gemm_c
// CHECK: loom.transpose
// CHECK: loom.gemm(%arg0, %arg1, %{{.*}}) : 
func.func @negative_gemm_c(%a: tensor<4x3xf32>, %b: tensor<3x4xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %t = loom.transpose(%c) {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = loom.gemm(%a, %b, %t) : (tensor<4x3xf32>, tensor<3x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}
