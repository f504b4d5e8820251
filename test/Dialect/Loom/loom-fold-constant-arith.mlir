// RUN: loom-opt %s -split-input-file -loom-fold-constant-arith | FileCheck %s

// Conv + [C,1,1]: the constant becomes the bias.
// CHECK-LABEL: func @conv_add
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.conv(%arg0, %{{.*}}, %[[B]]) :
// CHECK-NOT: loom.add
// CHECK: return %[[Y]]
func.func @conv_add(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) {group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %c = loom.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %r = loom.add(%y, %c) : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// The constant first, [1,C,1,1], added to an existing bias.
// CHECK-LABEL: func @conv_add_commuted
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.500000e+00, 2.500000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.conv(%arg0, %{{.*}}, %[[B]])
// CHECK-NOT: loom.add
// CHECK: return %[[Y]]
func.func @conv_add_commuted(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %cb = loom.constant dense<0.5> : tensor<2xf32>
  %y = loom.conv(%x, %w, %cb) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %c = loom.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %r = loom.add(%c, %y) : (tensor<1x2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Conv · [1,C,1,1] then + scalar: weights and bias scaled, then shifted.
// CHECK-LABEL: func @conv_mul_add
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}{{\[}}{{\[}}[2.000000e+00]], {{\[}}[4.000000e+00]]], {{\[}}{{\[}}[9.000000e+00]], {{\[}}[1.200000e+01]]]]> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[3.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.conv(%arg0, %[[W]], %[[B]])
// CHECK-NOT: loom.mul
// CHECK-NOT: loom.add
// CHECK: return %[[Y]]
func.func @conv_mul_add(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %cb = loom.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %y = loom.conv(%x, %w, %cb) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[[[[2.0]], [[3.0]]]]> : tensor<1x2x1x1xf32>
  %m = loom.mul(%y, %s) : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %r = loom.add(%one, %m) : (tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Gemm (transB = 1) + [N]: C created.
// CHECK-LABEL: func @gemm_add
// CHECK-DAG: %[[C:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.gemm(%arg0, %{{.*}}, %[[C]]) {transB = 1 : i64} :
// CHECK-NOT: loom.add
// CHECK: return %[[Y]]
func.func @gemm_add(%a: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x3xf32>
  %none = loom.none
  %y = loom.gemm(%a, %w, %none) {transB = 1 : i64} : (tensor<5x3xf32>, tensor<2x3xf32>, none) -> tensor<5x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %r = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// Gemm with C and beta 2, times [1,N]: B's columns and beta · C scaled.
// CHECK-LABEL: func @gemm_mul
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}[2.000000e+00, 3.000000e+00], [4.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[C:.*]] = loom.constant dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.gemm(%arg0, %[[W]], %[[C]]) :
// CHECK-NOT: loom.mul
// CHECK: return %[[Y]]
func.func @gemm_mul(%a: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<[[1.0, 1.0], [2.0, 2.0]]> : tensor<2x2xf32>
  %c0 = loom.constant dense<1.0> : tensor<2xf32>
  %y = loom.gemm(%a, %w, %c0) {beta = 2.0 : f32} : (tensor<5x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<[[2.0, 3.0]]> : tensor<1x2xf32>
  %r = loom.mul(%s, %y) : (tensor<1x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// MatMul + [N] becomes fused_matmul with the bias.
// CHECK-LABEL: func @matmul_add
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %{{.*}}, %[[B]]) : (tensor<2x5x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<2x5x2xf32>
// CHECK-NOT: loom.add
// CHECK: return %[[Y]]
func.func @matmul_add(%a: tensor<2x5x3xf32>) -> tensor<2x5x2xf32> {
  %w = loom.constant dense<1.0> : tensor<3x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<2x5x3xf32>, tensor<3x2xf32>) -> tensor<2x5x2xf32>
  %c = loom.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %r = loom.add(%c, %y) : (tensor<1x2xf32>, tensor<2x5x2xf32>) -> tensor<2x5x2xf32>
  return %r : tensor<2x5x2xf32>
}

// -----

// MatMul · scalar: B scaled, still a MatMul.
// CHECK-LABEL: func @matmul_mul_scalar
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}[5.000000e-01, 5.000000e-01], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[Y:.*]] = loom.matmul(%arg0, %[[W]])
// CHECK-NOT: loom.mul
// CHECK: return %[[Y]]
func.func @matmul_mul_scalar(%a: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<[[1.0, 1.0], [2.0, 2.0]]> : tensor<2x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<0.5> : tensor<1xf32>
  %r = loom.mul(%y, %s) : (tensor<5x2xf32>, tensor<1xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// fused_matmul (activation none, trans_b = 1: B is [N, K]) with a bias, · [N].
// CHECK-LABEL: func @fused_matmul_mul
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}[2.000000e+00, 2.000000e+00], [3.000000e+00, 3.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[2.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %[[W]], %[[B]]) {trans_b = 1 : i64}
// CHECK-NOT: loom.mul
// CHECK: return %[[Y]]
func.func @fused_matmul_mul(%a: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = loom.fused_matmul(%a, %w, %b) {trans_b = 1 : i64} : (tensor<5x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %r = loom.mul(%y, %s) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// fused_conv with activation none.
// CHECK-LABEL: func @fused_conv_add
// CHECK: loom.fused_conv(%arg0, %{{.*}}, %{{.*}}) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>)
// CHECK-NOT: loom.add
func.func @fused_conv_add(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.fused_conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %c = loom.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %r = loom.add(%y, %c) : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// [C] after an NCHW conv broadcasts along W, not the channels.
// CHECK-LABEL: func @negative_conv_wrong_axis
// CHECK: loom.add
func.func @negative_conv_wrong_axis(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %r = loom.add(%y, %c) : (tensor<1x2x2x2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %r : tensor<1x2x2x2xf32>
}

// -----

// [M, 1] after a MatMul varies along the rows.
// CHECK-LABEL: func @negative_matmul_rows
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.add
func.func @negative_matmul_rows(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %c = loom.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %r = loom.add(%y, %c) : (tensor<2x2xf32>, tensor<2x1xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

// A constant of higher rank than the result (broadcasting grows it).
// CHECK-LABEL: func @negative_grows_result
// CHECK: loom.mul
func.func @negative_grows_result(%a: tensor<5x2xf32>) -> tensor<1x5x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<2.0> : tensor<1x1x2xf32>
  %r = loom.mul(%y, %s) : (tensor<5x2xf32>, tensor<1x1x2xf32>) -> tensor<1x5x2xf32>
  return %r : tensor<1x5x2xf32>
}

// -----

// The producer's result has another use.
// CHECK-LABEL: func @negative_producer_other_use
// CHECK: loom.add
func.func @negative_producer_other_use(%a: tensor<5x2xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>) {
  %w = loom.constant dense<1.0> : tensor<2x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %r = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %r, %y : tensor<5x2xf32>, tensor<5x2xf32>
}

// -----

// The added value is not a constant.
// CHECK-LABEL: func @negative_dynamic_addend
// CHECK: loom.add
func.func @negative_dynamic_addend(%a: tensor<5x2xf32>, %c: tensor<2xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
  %r = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// The weights are not constant.
// CHECK-LABEL: func @negative_dynamic_weights
// CHECK: loom.mul
func.func @negative_dynamic_weights(%a: tensor<5x2xf32>, %w: tensor<2x2xf32>) -> tensor<5x2xf32> {
  %y = loom.matmul(%a, %w) : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %r = loom.mul(%y, %s) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// A fused producer with an activation: the arithmetic comes after it.
// CHECK-LABEL: func @negative_fused_activation
// CHECK: loom.add
func.func @negative_fused_activation(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.fused_conv(%x, %w, %none) {activation = "relu"} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %c = loom.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %r = loom.add(%y, %c) : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Gemm whose C is not constant: the bias cannot be folded.
// CHECK-LABEL: func @negative_gemm_dynamic_c
// CHECK: loom.add
func.func @negative_gemm_dynamic_c(%a: tensor<5x2xf32>, %c0: tensor<2xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2xf32>
  %y = loom.gemm(%a, %w, %c0) : (tensor<5x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %r = loom.add(%y, %c) : (tensor<5x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}
