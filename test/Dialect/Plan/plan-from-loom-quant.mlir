// RUN: loom-opt %s -split-input-file -plan-from-loom=target=host | FileCheck %s

// The quantized ops' parameters become weights passed to the kernels
// (docs/fused-ops.md, "Quantized kernels"): quantize -> quantize_linear with
// a scalar scale and zero point; qmatmul -> qmatmul with W's scale of W's
// rank; quantized buffers hold the stored integers (ui8 for u8).
// CHECK-LABEL: plan.schedule @main
// CHECK-DAG: %[[W:.*]] = plan.weight dense<{{\[\[}}1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1]]> : tensor<4x3xi8> : memref<4x3xi8>
// CHECK-DAG: %[[YS:.*]] = plan.weight dense<2.000000e-02> : tensor<f32> {name = "quantize#2:y_scale"}
// CHECK-DAG: %[[YZ:.*]] = plan.weight dense<128> : tensor<ui8> {name = "quantize#2:y_zero_point"}
// CHECK: %[[Q:.*]] = plan.alloc @cpu_mem {name = "quantize#2"} : memref<2x4xui8>
// CHECK: plan.task "quantize_linear" on @cpu[0] ins(%{{.*}}, %[[YS]], %[[YZ]] : memref<2x4xf32>, memref<f32>, memref<ui8>) outs(%[[Q]] : memref<2x4xui8>) {kernel_attrs = {axis = 0 : i64}
// CHECK-DAG: %[[AS:.*]] = plan.weight dense<2.000000e-02> : tensor<f32> {name = "qmatmul#4:a_scale"}
// CHECK-DAG: %[[AZ:.*]] = plan.weight dense<128> : tensor<ui8> {name = "qmatmul#4:a_zero_point"}
// CHECK-DAG: %[[WS:.*]] = plan.weight dense<{{\[\[}}1.000000e-01, 2.000000e-01, 3.000000e-01]]> : tensor<1x3xf32> {name = "qmatmul#4:w_scale"}
// CHECK-DAG: %[[WZ:.*]] = plan.weight dense<0> : tensor<1x3xi8> {name = "qmatmul#4:w_zero_point"}
// CHECK: plan.task "qmatmul" on @cpu[0] ins(%[[Q]], %[[AS]], %[[AZ]], %[[W]], %[[WS]], %[[WZ]], %{{.*}} : memref<2x4xui8>, memref<f32>, memref<ui8>, memref<4x3xi8>, memref<1x3xf32>, memref<1x3xi8>, none)
func.func @main(%a: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = loom.qconstant dense<[[1,2,3],[4,5,6],[7,8,9],[1,1,1]]> : tensor<4x3xi8> -> tensor<4x3x!quant.uniform<i8:f32:1, {0.1,0.2,0.3}>>
  %q = loom.quantize %a : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<u8:f32, 0.02:128>>
  %n = loom.none
  %y = loom.qmatmul(%q, %w, %n) : (tensor<2x4x!quant.uniform<u8:f32, 0.02:128>>, tensor<4x3x!quant.uniform<i8:f32:1, {0.1,0.2,0.3}>>, none) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// int4 weights are packed two per byte (element i in byte i / 2, low nibble
// first): [1, -2, 3, -8, 7] -> 0xE1 = -31, 0x83 = -125, 0x07 = 7; the kernel
// gets the logical shape. Group-wise scales keep W's rank ([K / 2, N] =
// [1, 5]: K = 2 rows in one group). A dequantize of such a weight is the
// blocked dequantize_linear.
// CHECK-LABEL: plan.schedule @main
// CHECK: %[[W:.*]] = plan.weight dense<[-31, -125, 7, {{.*}}]> : tensor<5xi8>
// CHECK: plan.task "qmatmul"{{.*}}kernel_attrs = {activation = "none", dynamic = 0 : i64, w_bits = 4 : i64, w_shape = array<i64: 2, 5>}
// CHECK: plan.task "dequantize_linear"{{.*}}kernel_attrs = {axis = 0 : i64, block_size = 2 : i64, w_bits = 4 : i64, w_shape = array<i64: 2, 5>}
func.func @main(%a: tensor<3x2xf32>) -> (tensor<3x5xf32>, tensor<2x5xf32>) {
  %w = loom.qconstant dense<[[1, -2, 3, -8, 7], [0, 0, 0, 0, 0]]> : tensor<2x5xi8> -> tensor<2x5x!quant.uniform<i4:f32:{0:2}, {{0.1, 0.1, 0.1, 0.1, 0.1}}>>
  %n = loom.none
  %y = loom.qmatmul(%a, %w, %n) : (tensor<3x2xf32>, tensor<2x5x!quant.uniform<i4:f32:{0:2}, {{0.1, 0.1, 0.1, 0.1, 0.1}}>>, none) -> tensor<3x5xf32>
  %d = loom.dequantize %w : tensor<2x5x!quant.uniform<i4:f32:{0:2}, {{0.1, 0.1, 0.1, 0.1, 0.1}}>> -> tensor<2x5xf32>
  return %y, %d : tensor<3x5xf32>, tensor<2x5xf32>
}

// -----

// dequantize_linear blocks one axis (ONNX's form): a type blocked along
// two keeps the larger blocks on their axis (here axis 1, blocks of 3; a
// conv weight's input channels) and repeats the scales and zero points of
// the other one (axis 2, its 2-tap window in one block) per element:
// scales [[[1], [2]], [[3], [4]]] (shape [2, 2, 1]) become shape [2, 2, 2]
// with each value twice.
// CHECK-LABEL: plan.schedule @main
// CHECK-DAG: plan.weight dense<{{\[\[\[}}1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00]], {{\[\[}}3.000000e+00, 3.000000e+00], [4.000000e+00, 4.000000e+00]]]> : tensor<2x2x2xf32>
// CHECK-DAG: plan.weight dense<{{\[\[\[}}0, 0], [1, 1]], {{\[\[}}2, 2], [3, 3]]]> : tensor<2x2x2xi8>
// CHECK: plan.task "dequantize_linear"{{.*}}kernel_attrs = {axis = 1 : i64, block_size = 3 : i64}
func.func @main() -> tensor<2x6x2xf32> {
  %w = loom.qconstant dense<1> : tensor<2x6x2xi8> -> tensor<2x6x2x!quant.uniform<i8:f32:{1:3,2:2}, {{{1.0:0}, {2.0:1}}, {{3.0:2}, {4.0:3}}}>>
  %d = loom.dequantize %w : tensor<2x6x2x!quant.uniform<i8:f32:{1:3,2:2}, {{{1.0:0}, {2.0:1}}, {{3.0:2}, {4.0:3}}}>> -> tensor<2x6x2xf32>
  return %d : tensor<2x6x2xf32>
}
