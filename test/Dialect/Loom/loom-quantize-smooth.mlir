// RUN: loom-opt %s -split-input-file -loom-quantize=mode=int8 | FileCheck %s
// RUN: loom-opt %s -split-input-file -loom-quantize="mode=int8 smooth=none" | FileCheck %s --check-prefix=NONE

// int8 smoothing (docs/quantization.md): channel 0 of the activation spans
// [0, 100] and the weights reading it are at most 0.01; channel 1 spans
// [0, 1] with weights up to 1. s_j = a_j^alpha / w_j^(1 - alpha) is
// [100, 1] for every alpha here (a_0 w_0 = 1), normalized to a geometric
// mean of 1: [10, 0.1]. The activation is multiplied by 1 / s = [0.1, 10]
// ([C, 1, 1] for the Conv's NCHW input), the weights by s: 0.01 -> 0.1,
// 0.005 -> 0.05, 1 -> 0.1, 0.5 -> 0.05 (each row one value: codes 127,
// scales 0.1 / 127 and 0.05 / 127); the range becomes
// [0, max(100 / 10, 1 / 0.1)] = [0, 10]: scale 10 / 255.
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[S:.*]] = loom.constant dense<{{\[\[\[}}1.000000e-01]], {{\[\[}}1.000000e+01]]]> : tensor<2x1x1xf32>
// CHECK-DAG: %[[M:.*]] = loom.mul(%arg0, %[[S]])
// CHECK: loom.qconstant dense<127> : tensor<2x2x1x1xi8> -> tensor<2x2x1x1x!quant.uniform<i8:f32:0, {7.8740{{[0-9]*}}E-4,3.9370{{[0-9]*}}E-4}>>
// CHECK: loom.quantize %[[M]] : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 0.039215{{[0-9]*}}>>
// CHECK: loom.conv{{.*}}loom.smoothed
// NONE-LABEL: func.func @conv
// NONE-NOT: loom.mul
// NONE: loom.quantize %arg0 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 0.39215{{[0-9]*}}>>
// NONE-NOT: loom.smoothed
func.func @conv(%x: tensor<1x2x4x4xf32>) -> tensor<2x2x4x4xf32> {
  %w = loom.constant dense<[[[[0.01]], [[1.0]]], [[[0.005]], [[0.5]]]]> : tensor<2x2x1x1xf32>
  %n = loom.none
  %y = loom.conv(%x, %w, %n) {loom.calib_range = array<f32: 0.0, 100.0>, loom.calib_channels = dense<[[0.0, 100.0, 2500.0], [0.0, 1.0, 0.25]]> : tensor<2x3xf32>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<2x2x4x4xf32>
  return %y : tensor<2x2x4x4xf32>
}
