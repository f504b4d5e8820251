// RUN: loom-opt %s -split-input-file -loom-fold-batchnorm | FileCheck %s

// BN with s = scale / sqrt(var + eps) = [2, 3] and t = B - mean * s = [0, -1]
// throughout (scale [4, 9], var [3, 8], eps 1, B [1, 2], mean [0.5, 1]).

// CHECK-LABEL: func @conv_bn
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}{{\[}}{{\[}}[2.000000e+00]], {{\[}}[4.000000e+00]]], {{\[}}{{\[}}[9.000000e+00]], {{\[}}[1.200000e+01]]]]> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[0.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.conv(%arg0, %[[W]], %[[B]]) {pads = array<i64: 0, 0, 0, 0>}
// CHECK-NOT: loom.batch_normalization
// CHECK: return %[[Y]]
func.func @conv_bn(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) {group = 1 : i64, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 1.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r : tensor<1x2x4x4xf32>
}

// -----

// The conv's own bias [1, 1]: (1 - mean) * s + B = [2, 2].
// CHECK-LABEL: func @conv_bias_bn
// CHECK-DAG: %[[B:.*]] = loom.constant dense<2.000000e+00> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.conv(%arg0, %{{.*}}, %[[B]])
// CHECK-NOT: loom.batch_normalization
// CHECK: return %[[Y]]
func.func @conv_bias_bn(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %cb = loom.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %y = loom.conv(%x, %w, %cb) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 1.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r : tensor<1x2x4x4xf32>
}

// -----

// A large weight (dense_resource) is read from its blob and the folded one
// is a new blob.
// CHECK-LABEL: func @conv_bn_resource
// CHECK: %[[W:.*]] = loom.constant dense_resource<w_folded> : tensor<8x9x1x1xf32>
// CHECK: loom.conv(%arg0, %[[W]], %{{.*}})
// CHECK-NOT: loom.batch_normalization
func.func @conv_bn_resource(%x: tensor<1x9x2x2xf32>) -> tensor<1x8x2x2xf32> {
  %w = loom.constant dense_resource<w> : tensor<8x9x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x9x2x2xf32>, tensor<8x9x1x1xf32>, none) -> tensor<1x8x2x2xf32>
  %s = loom.constant dense<2.0> : tensor<8xf32>
  %b = loom.constant dense<0.0> : tensor<8xf32>
  %m = loom.constant dense<0.0> : tensor<8xf32>
  %v = loom.constant dense<1.0> : tensor<8xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 0.0 : f32} : (tensor<1x8x2x2xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<1x8x2x2xf32>, none, none)
  return %r : tensor<1x8x2x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000000000000000003F0000803F0000C03F0000004000002040000040400000604000008040000090400000A0400000B0400000C0400000D0400000E0400000F0400000004100000841000010410000184100002041000028410000304100003841000040410000484100005041000058410000604100006841000070410000784100008041000084410000884100008C4100009041000094410000984100009C410000A0410000A4410000A8410000AC410000B0410000B4410000B8410000BC410000C0410000C4410000C8410000CC410000D0410000D4410000D8410000DC410000E0410000E4410000E8410000EC410000F0410000F4410000F8410000FC41000000420000024200000442000006420000084200000A4200000C4200000E42"
    }
  }
#-}

// -----

// ConvTranspose, group 2: W is [C_in = 4, C_out / group = 1, 1, 1]; input
// channels 0, 1 feed output channel 0, channels 2, 3 output channel 1.
// CHECK-LABEL: func @conv_transpose_bn
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}{{\[}}{{\[}}[2.000000e+00]]], {{\[}}{{\[}}[4.000000e+00]]], {{\[}}{{\[}}[9.000000e+00]]], {{\[}}{{\[}}[1.200000e+01]]]]> : tensor<4x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[0.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.conv_transpose(%arg0, %[[W]], %[[B]]) {group = 2 : i64}
// CHECK-NOT: loom.batch_normalization
// CHECK: return %[[Y]]
func.func @conv_transpose_bn(%x: tensor<1x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = loom.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]], [[[4.0]]]]> : tensor<4x1x1x1xf32>
  %none = loom.none
  %y = loom.conv_transpose(%x, %w, %none) {group = 2 : i64} : (tensor<1x4x3x3xf32>, tensor<4x1x1x1xf32>, none) -> tensor<1x2x3x3xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x3x3xf32>, none, none)
  return %r : tensor<1x2x3x3xf32>
}

// -----

// Gemm, transB = 1: B is [N, K], rows scaled; C [2] with beta 2:
// (2 * [1, 1] - mean) * s + B = [4, 5]; beta becomes 1.
// CHECK-LABEL: func @gemm_trans_b_bn
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}[2.000000e+00, 4.000000e+00, 6.000000e+00], [3.000000e+00, 6.000000e+00, 9.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: %[[C:.*]] = loom.constant dense<[4.000000e+00, 5.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.gemm(%arg0, %[[W]], %[[C]]) {transB = 1 : i64} :
// CHECK-NOT: loom.batch_normalization
// CHECK: return %[[Y]]
func.func @gemm_trans_b_bn(%a: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]> : tensor<2x3xf32>
  %c = loom.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %y = loom.gemm(%a, %w, %c) {beta = 2.0 : f32, transB = 1 : i64} : (tensor<5x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<5x2xf32>, none, none)
  return %r : tensor<5x2xf32>
}

// -----

// Gemm without transB: B is [K, N], columns scaled.
// CHECK-LABEL: func @gemm_bn
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}[2.000000e+00, 3.000000e+00], [4.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[C:.*]] = loom.constant dense<[0.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: loom.gemm(%arg0, %[[W]], %[[C]]) :
// CHECK-NOT: loom.batch_normalization
func.func @gemm_bn(%a: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<[[1.0, 1.0], [2.0, 2.0]]> : tensor<2x2xf32>
  %none = loom.none
  %y = loom.gemm(%a, %w, %none) : (tensor<5x2xf32>, tensor<2x2xf32>, none) -> tensor<5x2xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<5x2xf32>, none, none)
  return %r : tensor<5x2xf32>
}

// -----

// MatMul with a constant 2-D B becomes fused_matmul with a bias.
// CHECK-LABEL: func @matmul_bn
// CHECK-DAG: %[[W:.*]] = loom.constant dense<{{\[}}[2.000000e+00, 3.000000e+00], [4.000000e+00, 6.000000e+00], [6.000000e+00, 9.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[0.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.fused_matmul(%arg0, %[[W]], %[[B]]) : (tensor<5x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
// CHECK-NOT: loom.batch_normalization
// CHECK: return %[[Y]]
func.func @matmul_bn(%a: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = loom.constant dense<[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]> : tensor<3x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<5x2xf32>, none, none)
  return %r : tensor<5x2xf32>
}

// -----

// CHECK-LABEL: func @negative_training_mode
// CHECK: loom.batch_normalization
func.func @negative_training_mode(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) {training_mode = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>)
  return %r : tensor<1x2x4x4xf32>
}

// -----

// The running statistics are used: training outputs present.
// CHECK-LABEL: func @negative_running_stats_used
// CHECK: loom.batch_normalization
func.func @negative_running_stats_used(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>) {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>)
  return %r, %rm : tensor<1x2x4x4xf32>, tensor<2xf32>
}

// -----

// The conv's result has another use.
// CHECK-LABEL: func @negative_producer_other_use
// CHECK: loom.batch_normalization
func.func @negative_producer_other_use(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r, %y : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// The weights are not constant.
// CHECK-LABEL: func @negative_dynamic_weights
// CHECK: loom.batch_normalization
func.func @negative_dynamic_weights(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r : tensor<1x2x4x4xf32>
}

// -----

// The BN parameters are not constant.
// CHECK-LABEL: func @negative_dynamic_params
// CHECK: loom.batch_normalization
func.func @negative_dynamic_params(%x: tensor<1x2x4x4xf32>, %s: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r : tensor<1x2x4x4xf32>
}

// -----

// The weight is shared with another conv: scaling it would duplicate it.
// CHECK-LABEL: func @negative_shared_weight
// CHECK: loom.batch_normalization
func.func @negative_shared_weight(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %none = loom.none
  %y = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %y2 = loom.conv(%x, %w, %none) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r, %y2 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A 3-D MatMul result: BatchNormalization normalizes dimension 1 (M), not
// the MatMul's output columns.
// CHECK-LABEL: func @negative_matmul_3d
// CHECK-NOT: loom.fused_matmul
// CHECK: loom.batch_normalization
func.func @negative_matmul_3d(%a: tensor<1x2x3xf32>) -> tensor<1x2x2xf32> {
  %w = loom.constant dense<1.0> : tensor<3x2xf32>
  %y = loom.matmul(%a, %w) : (tensor<1x2x3xf32>, tensor<3x2xf32>) -> tensor<1x2x2xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x2xf32>, none, none)
  return %r : tensor<1x2x2xf32>
}

// -----

// Not a producer (an elementwise op).
// CHECK-LABEL: func @negative_not_a_producer
// CHECK: loom.batch_normalization
func.func @negative_not_a_producer(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %y = loom.relu(%x) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = loom.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = loom.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %r, %rm, %rv = loom.batch_normalization(%y, %s, %b, %m, %v) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  return %r : tensor<1x2x4x4xf32>
}
