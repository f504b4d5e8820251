// RUN: loom-opt %s -split-input-file -loom-quantize=mode=w8 | FileCheck %s --check-prefix=W8
// RUN: loom-opt %s -split-input-file -loom-quantize="mode=w4 group-size=2" | FileCheck %s --check-prefix=W4
// RUN: loom-opt %s -split-input-file -loom-quantize=mode=int8 | FileCheck %s --check-prefix=INT8
// RUN: loom-opt %s -split-input-file -loom-quantize=mode=dynamic | FileCheck %s --check-prefix=DYN
// RUN: loom-opt %s -split-input-file -loom-quantize="mode=awq-w4 group-size=2" | FileCheck %s --check-prefix=AWQ
// RUN: loom-opt %s -split-input-file -loom-quantize=mode=int8 -loom-fold-qdq | FileCheck %s --check-prefix=FOLD
// RUN: loom-opt %s -split-input-file -loom-quantize=mode=ternary | FileCheck %s --check-prefix=TERN
// RUN: loom-opt %s -split-input-file -loom-quantize="mode=w8 sparsity=2:4" | FileCheck %s --check-prefix=SP24
// RUN: loom-opt %s -split-input-file -loom-quantize="mode=w8 keep-float-weights=1" | FileCheck %s --check-prefix=KEEPF

// W [K=4, N=2]. w8, per output channel (axis 1): column 0 has max |w| 4
// (scale 4/127), column 1 max 8 (scale 8/127); values round half to even of
// w / scale: column 0 [31.75, 63.5, 95.25, 127], column 1 [31.75, 63.5,
// 79.375, 127].
// W8-LABEL: func @matmul
// W8: %[[W:.*]] = loom.qconstant dense<{{\[\[}}32, 32], [64, 64], [95, 79], [127, 127]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.031496062{{[0-9]*}},0.062992125{{[0-9]*}}}>>
// W8: %[[D:.*]] = loom.dequantize %[[W]]
// W8: loom.fused_matmul(%arg0, %[[D]], %{{.*}}) :
// w4, groups of 2 along K: scales [K/2, N], each r * max|w| / 7 with the
// clip ratio r of least squared error: rows 0-1 of column 0 ({1, 2}): r = 1
// gives scale 2/7 and values {3.5 -> 4, 7}, error 0.143^2 = 0.0204; r = 0.975
// gives 0.2786, values {4, 7}, error 0.114^2 + 0.05^2 = 0.0155; r = 0.95
// gives 0.0174, so 0.975 (column 1, {2, 4}, likewise). Rows 2-3: r = 1
// ({3, 4}: 0.0204 vs 0.046 at 0.975).
// W4-LABEL: func @matmul
// W4: loom.qconstant dense<{{\[\[}}4, 4], [7, 7], [5, 4], [7, 7]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i4:f32:{0:2}, {{.*}}0.278571{{[0-9]*}}, 0.557142{{[0-9]*}}}, {0.571428{{[0-9]*}}, 1.142857{{[0-9]*}}}}>>
// int8: the activation range [-1, 3] -> u8 scale 4/255, zero point 64.
// INT8-LABEL: func @matmul
// INT8: %[[Q:.*]] = loom.quantize %arg0 : tensor<3x4xf32> -> tensor<3x4x!quant.uniform<u8:f32, 0.015686{{[0-9]*}}:64>>
// INT8: %[[A:.*]] = loom.dequantize %[[Q]]
// INT8: loom.fused_matmul(%[[A]],
// INT8-NOT: loom.calib_range
// DYN-LABEL: func @matmul
// DYN: loom.fused_matmul{{.*}}loom.dynamic
// ternary (K = 4 < the group size: one scale per column, the column's mean
// |w|): column 0 2.5, w / 2.5 = [0.4, 0.8, 1.2, 1.6] -> [0, 1, 1, 1]
// (clamped); column 1 4.75, [0.42, 0.84, 1.05, 1.68] -> [0, 1, 1, 1].
// TERN-LABEL: func @matmul
// TERN: loom.qconstant dense<{{\[\[}}0, 0], [1, 1], [1, 1], [1, 1]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i2<-1:1>:f32:1, {2.500000e+00,4.750000e+00}>>
// 2:4 then w8: each column keeps its two largest rows (2 and 3): column 0
// [0, 0, 3, 4] (scale 4/127: 95.25 -> 95, 127), column 1 [0, 0, 5, 8]
// (scale 8/127: 79.375 -> 79, 127).
// SP24-LABEL: func @matmul
// SP24: loom.qconstant {sparsity = "2:4"} dense<{{\[\[}}0, 0], [0, 0], [95, 79], [127, 127]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1,
// keep-float-weights: the float weight [K, N] on the layer, f32 1, 2, 2, 4,
// 3, 5, 4, 8 little-endian after the blob's alignment (8).
// KEEPF-LABEL: func @matmul
// KEEPF: loom.fused_matmul{{.*}}loom.float_weight = dense_resource<[[FW:float_weight[_0-9]*]]> : tensor<4x2xf32>
// KEEPF: [[FW]]: "0x080000000000803F000000400000004000008040000040400000A0400000804000000041"
func.func @matmul(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = loom.constant dense<[[1.0, 2.0], [2.0, 4.0], [3.0, 5.0], [4.0, 8.0]]> : tensor<4x2xf32>
  %y = loom.matmul(%a, %w) {loom.calib_range = array<f32: -1.0, 3.0>, loom.calib_sample = dense<[[1.0, 1.0, 1.0, 1.0]]> : tensor<1x4xf32>} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Gemm with transB = 1 and a bias: a fused_matmul over the stored [K, N]
// weight (the transpose of B), the bias as is.
// W8-LABEL: func @gemm_trans_b
// W8: loom.qconstant dense<{{\[\[}}127, 0], [0, 127]]> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32:1, {0.007874{{[0-9]*}},0.015748{{[0-9]*}}}>>
// W8: loom.fused_matmul(%arg0, %{{.*}}, %{{.*}}) {{.*}}activation = "relu"
// W8-NOT: loom.fused_gemm
func.func @gemm_trans_b(%a: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = loom.constant dense<[[1.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>
  %c = loom.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %y = loom.fused_gemm(%a, %w, %c) {transB = 1 : i64, activation = "relu", loom.calib_range = array<f32: -1.0, 1.0>, loom.calib_sample = dense<[[1.0, 1.0]]> : tensor<1x2xf32>} : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Conv: per output channel along axis 0.
// W8-LABEL: func @conv
// W8: loom.qconstant {{.*}} -> tensor<2x1x1x1x!quant.uniform<i8:f32:0, {0.007874{{[0-9]*}},0.023622{{[0-9]*}}}>>
// W8: loom.conv(%arg0, %{{.*}}, %{{.*}})
func.func @conv(%x: tensor<1x1x4x4xf32>) -> tensor<2x1x4x4xf32> {
  %w = loom.constant dense<[[[[1.0]]], [[[-3.0]]]]> : tensor<2x1x1x1xf32>
  %n = loom.none
  %y = loom.conv(%x, %w, %n) {loom.calib_range = array<f32: 0.0, 1.0>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<2x1x4x4xf32>
  return %y : tensor<2x1x4x4xf32>
}

// -----

// A weight that is not a constant stays float.
// W8-LABEL: func @negative_dynamic_weight
// W8-NOT: loom.qconstant
// W8: loom.matmul
func.func @negative_dynamic_weight(%a: tensor<3x4xf32>, %w: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %y = loom.matmul(%a, %w) {loom.calib_range = array<f32: -1.0, 3.0>} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// awq-w4: the activation sample has one large channel; the weight rows are
// scaled and the activation divided by the same scales (a loom.mul).
// AWQ-LABEL: func @awq
// AWQ: %[[S:.*]] = loom.constant {{.*}} : tensor<4xf32>
// AWQ: %[[M:.*]] = loom.mul(%arg0, %[[S]])
// AWQ: loom.qconstant {{.*}}!quant.uniform<i4:f32:{0:2}
// AWQ: loom.fused_matmul(%[[M]],
func.func @awq(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = loom.constant dense<[[0.13, 0.47], [0.7, -0.3], [0.2, 0.5], [-0.6, 0.9]]> : tensor<4x2xf32>
  %y = loom.matmul(%a, %w) {loom.calib_range = array<f32: -1.0, 30.0>, loom.calib_sample = dense<[[30.0, 0.1, 0.2, -0.1], [25.0, -0.2, 0.1, 0.3], [28.0, 0.3, -0.1, 0.2]]> : tensor<3x4xf32>} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// SwiGLU: silu(X @ W1) * (X @ W3) becomes its two products, the gate with
// the silu epilogue, each quantized as a MatMul, and their product. W1 as
// @matmul's W; W3 = 2 * W1 has twice its scales and the same integers.
// W8-LABEL: func @swiglu
// W8: %[[Q1:.*]] = loom.qconstant dense<{{\[\[}}32, 32], [64, 64], [95, 79], [127, 127]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.031496062{{[0-9]*}},0.062992125{{[0-9]*}}}>>
// W8: %[[W1:.*]] = loom.dequantize %[[Q1]]
// W8: %[[G:.*]] = loom.fused_matmul(%arg0, %[[W1]], %{{.*}}) {activation = "silu"
// W8: %[[Q3:.*]] = loom.qconstant dense<{{\[\[}}32, 32], [64, 64], [95, 79], [127, 127]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.062992125{{[0-9]*}},0.12598425{{[0-9]*}}}>>
// W8: %[[W3:.*]] = loom.dequantize %[[Q3]]
// W8: %[[U:.*]] = loom.fused_matmul(%arg0, %[[W3]], %{{.*}}) :
// W8: %[[Y:.*]] = loom.mul(%[[G]], %[[U]])
// W8: return %[[Y]]
// W8-NOT: loom.swiglu
// w4 in groups of 2 along K, both weights.
// W4-LABEL: func @swiglu
// W4: loom.qconstant {{.*}}!quant.uniform<i4:f32:{0:2}
// W4: loom.fused_matmul({{.*}}activation = "silu"
// W4: loom.qconstant {{.*}}!quant.uniform<i4:f32:{0:2}
// W4: loom.fused_matmul({{.*}}) :
// W4: loom.mul
// int8: one quantize of X, shared by both products.
// INT8-LABEL: func @swiglu
// INT8: %[[Q:.*]] = loom.quantize %arg0 : tensor<3x4xf32> -> tensor<3x4x!quant.uniform<u8:f32, 0.015686{{[0-9]*}}:64>>
// INT8: %[[A:.*]] = loom.dequantize %[[Q]]
// INT8-NOT: loom.quantize
// INT8: loom.fused_matmul(%[[A]], {{.*}}activation = "silu"
// INT8: loom.fused_matmul(%[[A]], {{.*}}) :
// INT8: loom.mul
// INT8-NOT: loom.calib
// DYN-LABEL: func @swiglu
// DYN: loom.fused_matmul({{.*}}activation = "silu"{{.*}}loom.dynamic
// DYN: loom.fused_matmul({{.*}}) {loom.dynamic}
// awq-w4: one scale vector for both weights (the sample's large channel 0),
// one division of X.
// AWQ-LABEL: func @swiglu
// AWQ: %[[S:.*]] = loom.constant {{.*}} : tensor<4xf32>
// AWQ: %[[M:.*]] = loom.mul(%arg0, %[[S]])
// AWQ-NOT: loom.mul(%arg0
// AWQ: loom.fused_matmul(%[[M]], {{.*}}activation = "silu"
// AWQ: loom.fused_matmul(%[[M]], {{.*}}) :
// The products of an int8 SwiGLU fold into two qmatmuls of one quantized X.
// FOLD-LABEL: func @swiglu
// FOLD: %[[Q:.*]] = loom.quantize %arg0
// FOLD: %[[G:.*]] = loom.qmatmul(%[[Q]], {{.*}}activation = "silu"
// FOLD: %[[U:.*]] = loom.qmatmul(%[[Q]],
// FOLD: loom.mul(%[[G]], %[[U]])
func.func @swiglu(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w1 = loom.constant dense<[[1.0, 2.0], [2.0, 4.0], [3.0, 5.0], [4.0, 8.0]]> : tensor<4x2xf32>
  %w3 = loom.constant dense<[[2.0, 4.0], [4.0, 8.0], [6.0, 10.0], [8.0, 16.0]]> : tensor<4x2xf32>
  %y = loom.swiglu(%x, %w1, %w3) {loom.calib_range = array<f32: -1.0, 3.0>, loom.calib_sample = dense<[[30.0, 0.1, 0.2, -0.1], [25.0, -0.2, 0.1, 0.3], [28.0, 0.3, -0.1, 0.2]]> : tensor<3x4xf32>} : (tensor<3x4xf32>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A SwiGLU with a weight that is not a constant stays as it is.
// W8-LABEL: func @negative_swiglu_dynamic_weight
// W8-NOT: loom.qconstant
// W8: loom.swiglu
func.func @negative_swiglu_dynamic_weight(%x: tensor<3x4xf32>, %w3: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %w1 = loom.constant dense<1.0> : tensor<4x2xf32>
  %y = loom.swiglu(%x, %w1, %w3) {loom.calib_range = array<f32: -1.0, 3.0>} : (tensor<3x4xf32>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
