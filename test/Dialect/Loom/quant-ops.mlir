// RUN: loom-opt %s | loom-opt | FileCheck %s

// CHECK-LABEL: func @round_trip
// CHECK: loom.qconstant dense<1> : tensor<256x4xi8> -> tensor<256x4x!quant.uniform<i4:f32:{0:128}
// CHECK: loom.quantize %arg0 : tensor<2x256xf32> -> tensor<2x256x!quant.uniform<u8:f32, 2.000000e-02:128>>
// CHECK: loom.qmatmul(%{{.*}}, %{{.*}}, %{{.*}}) {activation = "gelu"}
// CHECK: loom.qconv(%arg1, %{{.*}}, %{{.*}}) {dynamic = 1 : i64, group = 2 : i64}
// CHECK: loom.dequantize
func.func @round_trip(%x: tensor<2x256xf32>, %img: tensor<1x2x4x4xf32>) -> (tensor<2x4xf32>, tensor<1x2x4x4xf32>, tensor<2x256xf32>) {
  %w = loom.qconstant dense<1> : tensor<256x4xi8> -> tensor<256x4x!quant.uniform<i4:f32:{0:128}, {{0.1, 0.2, 0.3, 0.4}, {0.1, 0.2, 0.3, 0.4}}>>
  %q = loom.quantize %x : tensor<2x256xf32> -> tensor<2x256x!quant.uniform<u8:f32, 0.02:128>>
  %b = loom.constant dense<0.5> : tensor<4xf32>
  %y = loom.qmatmul(%q, %w, %b) {activation = "gelu"} : (tensor<2x256x!quant.uniform<u8:f32, 0.02:128>>, tensor<256x4x!quant.uniform<i4:f32:{0:128}, {{0.1, 0.2, 0.3, 0.4}, {0.1, 0.2, 0.3, 0.4}}>>, tensor<4xf32>) -> tensor<2x4xf32>
  %cw = loom.qconstant dense<3> : tensor<2x1x1x1xi8> -> tensor<2x1x1x1x!quant.uniform<i8:f32:0, {0.5, 0.25}>>
  %n = loom.none
  %c = loom.qconv(%img, %cw, %n) {dynamic = 1 : i64, group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1x!quant.uniform<i8:f32:0, {0.5, 0.25}>>, none) -> tensor<1x2x4x4xf32>
  %d = loom.dequantize %q : tensor<2x256x!quant.uniform<u8:f32, 0.02:128>> -> tensor<2x256xf32>
  return %y, %c, %d : tensor<2x4xf32>, tensor<1x2x4x4xf32>, tensor<2x256xf32>
}
