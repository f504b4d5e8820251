// RUN: loom-opt %s -split-input-file -loom-fold-qdq | FileCheck %s

// Weight-only: B = dequantize(qconstant) -> qmatmul with an f32 A.
// CHECK-LABEL: func @weight_only
// CHECK: %[[W:.*]] = loom.qconstant
// CHECK: %[[Y:.*]] = loom.qmatmul(%arg0, %[[W]], %{{.*}}) {activation = "relu"} : (tensor<3x4xf32>, tensor<4x2x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}>>, none) -> tensor<3x2xf32>
// CHECK: return %[[Y]]
func.func @weight_only(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %q = loom.qconstant dense<1> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  %w = loom.dequantize %q : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> -> tensor<4x2xf32>
  %n = loom.none
  %y = loom.fused_matmul(%a, %w, %n) {activation = "relu"} : (tensor<3x4xf32>, tensor<4x2xf32>, none) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Static int8: the dequantized activation is taken quantized; a result used
// only by a per-tensor quantize is produced quantized.
// CHECK-LABEL: func @int8_quantized_output
// CHECK: %[[A:.*]] = loom.quantize %arg0
// CHECK: %[[Y:.*]] = loom.qmatmul(%[[A]], %{{.*}}, %{{.*}}) : (tensor<3x4x!quant.uniform<u8:f32, 5.000000e-02:10>>, tensor<4x2x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<2xf32>) -> tensor<3x2x!quant.uniform<u8:f32, 2.000000e-01:3>>
// CHECK: %[[D:.*]] = loom.dequantize %[[Y]]
// CHECK: return %[[D]]
func.func @int8_quantized_output(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %xq = loom.quantize %x : tensor<3x4xf32> -> tensor<3x4x!quant.uniform<u8:f32, 0.05:10>>
  %a = loom.dequantize %xq : tensor<3x4x!quant.uniform<u8:f32, 0.05:10>> -> tensor<3x4xf32>
  %q = loom.qconstant dense<3> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32, 0.1>>
  %w = loom.dequantize %q : tensor<4x2x!quant.uniform<i8:f32, 0.1>> -> tensor<4x2xf32>
  %b = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = loom.matmul(%a, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %yb = loom.fused_matmul(%a, %w, %b) : (tensor<3x4xf32>, tensor<4x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %yq = loom.quantize %yb : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<u8:f32, 0.2:3>>
  %yd = loom.dequantize %yq : tensor<3x2x!quant.uniform<u8:f32, 0.2:3>> -> tensor<3x2xf32>
  return %yd : tensor<3x2xf32>
}

// -----

// Imported ONNX QDQ: a DequantizeLinear of an integer initializer becomes a
// qconstant, a QuantizeLinear/DequantizeLinear pair with the same constant
// parameters a typed quantize/dequantize; then the conv folds.
// CHECK-LABEL: func @onnx_qdq_conv
// CHECK: %[[X:.*]] = loom.quantize %arg0 : tensor<1x2x3x3xf32> -> tensor<1x2x3x3x!quant.uniform<u8:f32, 2.500000e-01:128>>
// CHECK: %[[W:.*]] = loom.qconstant dense<{{.*}}> : tensor<4x2x1x1xi8> -> tensor<4x2x1x1x!quant.uniform<i8:f32:0, {5.000000e-01,5.000000e-01,2.500000e-01,2.500000e-01}>>
// CHECK: loom.qconv(%[[X]], %[[W]], %{{.*}}) {{.*}}: (tensor<1x2x3x3x!quant.uniform<u8:f32, 2.500000e-01:128>>, {{.*}}) -> tensor<1x4x3x3xf32>
// CHECK-NOT: loom.dequantize_linear
// CHECK-NOT: loom.quantize_linear
func.func @onnx_qdq_conv(%x: tensor<1x2x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %s = loom.constant dense<0.25> : tensor<f32>
  %z = loom.constant dense<128> : tensor<ui8>
  %q = loom.quantize_linear(%x, %s, %z) : (tensor<1x2x3x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x3x3xui8>
  %xd = loom.dequantize_linear(%q, %s, %z) : (tensor<1x2x3x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x3x3xf32>
  %wi = loom.constant dense<[[[[1]], [[2]]], [[[3]], [[4]]], [[[-5]], [[6]]], [[[7]], [[-8]]]]> : tensor<4x2x1x1xi8>
  %ws = loom.constant dense<[0.5, 0.5, 0.25, 0.25]> : tensor<4xf32>
  %wz = loom.constant dense<0> : tensor<4xi8>
  %wd = loom.dequantize_linear(%wi, %ws, %wz) {axis = 0 : i64} : (tensor<4x2x1x1xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x2x1x1xf32>
  %n = loom.none
  %y = loom.conv(%xd, %wd, %n) : (tensor<1x2x3x3xf32>, tensor<4x2x1x1xf32>, none) -> tensor<1x4x3x3xf32>
  return %y : tensor<1x4x3x3xf32>
}

// -----

// dynamic: the kernel quantizes A at run time; the marker is consumed.
// CHECK-LABEL: func @dynamic
// CHECK: loom.qmatmul(%arg0, %{{.*}}, %{{.*}}) {dynamic = 1 : i64}
// CHECK-NOT: loom.dynamic
func.func @dynamic(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %q = loom.qconstant dense<1> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  %w = loom.dequantize %q : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> -> tensor<4x2xf32>
  %y = loom.matmul(%a, %w) {loom.dynamic} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A transposed weight, or a bias the kernel cannot take, stays as it is.
// CHECK-LABEL: func @negative_trans_b_and_bias
// CHECK-NOT: loom.qmatmul
// CHECK: loom.fused_matmul
// CHECK: loom.fused_matmul
func.func @negative_trans_b_and_bias(%a: tensor<3x4xf32>, %b2: tensor<3x2xf32>) -> (tensor<3x4xf32>, tensor<3x2xf32>) {
  %q = loom.qconstant dense<1> : tensor<4x4xi8> -> tensor<4x4x!quant.uniform<i8:f32, 0.1>>
  %w = loom.dequantize %q : tensor<4x4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x4xf32>
  %n = loom.none
  %y = loom.fused_matmul(%a, %w, %n) {trans_b = 1 : i64} : (tensor<3x4xf32>, tensor<4x4xf32>, none) -> tensor<3x4xf32>
  %q2 = loom.qconstant dense<1> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32, 0.1>>
  %w2 = loom.dequantize %q2 : tensor<4x2x!quant.uniform<i8:f32, 0.1>> -> tensor<4x2xf32>
  %y2 = loom.fused_matmul(%a, %w2, %b2) : (tensor<3x4xf32>, tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y, %y2 : tensor<3x4xf32>, tensor<3x2xf32>
}

// -----

// ONNX's QOperator form: QuantizeLinear -> QLinearMatMul (constant i8
// weights, per-column scales) -> DequantizeLinear becomes the typed chain.
// CHECK-LABEL: func @qlinear_matmul
// CHECK: %[[A:.*]] = loom.quantize %arg0 : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<u8:f32, 0.0500000{{[0-9]*}}:128>>
// CHECK: %[[W:.*]] = loom.qconstant dense<3> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1000000{{[0-9]*}},0.2000000{{[0-9]*}}}>>
// CHECK: %[[Y:.*]] = loom.qmatmul(%[[A]], %[[W]], %{{.*}}) : {{.*}} -> tensor<2x2x!quant.uniform<u8:f32, 2.500000e-01:10>>
// CHECK: %[[D:.*]] = loom.dequantize %[[Y]]
// CHECK: return %[[D]]
// CHECK-NOT: loom.qlinear_matmul
func.func @qlinear_matmul(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %as = loom.constant dense<0.05> : tensor<f32>
  %az = loom.constant dense<128> : tensor<ui8>
  %a = loom.quantize_linear(%x, %as, %az) : (tensor<2x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x4xui8>
  %b = loom.constant dense<3> : tensor<4x2xi8>
  %bs = loom.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %bz = loom.constant dense<0> : tensor<2xi8>
  %ys = loom.constant dense<0.25> : tensor<f32>
  %yz = loom.constant dense<10> : tensor<ui8>
  %y = loom.qlinear_matmul(%a, %as, %az, %b, %bs, %bz, %ys, %yz) : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>, tensor<f32>, tensor<ui8>) -> tensor<2x2xui8>
  %d = loom.dequantize_linear(%y, %ys, %yz) : (tensor<2x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x2xf32>
  return %d : tensor<2x2xf32>
}

// -----

// QLinearConv with an i32 bias: the bias becomes f32, B[o] * x_scale *
// w_scale[o] = [4 * 0.5 * 0.5, -8 * 0.5 * 0.25] = [1, -1].
// CHECK-LABEL: func @qlinear_conv
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[X:.*]] = loom.quantize %arg0
// CHECK: loom.qconv(%[[X]], %{{.*}}, %[[B]]) {{.*}}-> tensor<1x2x3x3x!quant.uniform<u8:f32, 1.000000e+00:5>>
// CHECK-NOT: loom.qlinear_conv
func.func @qlinear_conv(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %xs = loom.constant dense<0.5> : tensor<f32>
  %xz = loom.constant dense<0> : tensor<ui8>
  %q = loom.quantize_linear(%x, %xs, %xz) : (tensor<1x1x3x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x1x3x3xui8>
  %w = loom.constant dense<[[[[2]]], [[[-3]]]]> : tensor<2x1x1x1xi8>
  %ws = loom.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %wz = loom.constant dense<0> : tensor<2xi8>
  %ys = loom.constant dense<1.0> : tensor<f32>
  %yz = loom.constant dense<5> : tensor<ui8>
  %b = loom.constant dense<[4, -8]> : tensor<2xi32>
  %y = loom.qlinear_conv(%q, %xs, %xz, %w, %ws, %wz, %ys, %yz, %b) : (tensor<1x1x3x3xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x1x1xi8>, tensor<2xf32>, tensor<2xi8>, tensor<f32>, tensor<ui8>, tensor<2xi32>) -> tensor<1x2x3x3xui8>
  %d = loom.dequantize_linear(%y, %ys, %yz) : (tensor<1x2x3x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x3x3xf32>
  return %d : tensor<1x2x3x3xf32>
}

// -----

// A QLinearMatMul whose activation is a graph input (no QuantizeLinear to
// take the type from) stays as it is.
// CHECK-LABEL: func @negative_qlinear_matmul_input
// CHECK: loom.qlinear_matmul
func.func @negative_qlinear_matmul_input(%a: tensor<2x4xui8>) -> tensor<2x2xf32> {
  %as = loom.constant dense<0.05> : tensor<f32>
  %az = loom.constant dense<128> : tensor<ui8>
  %b = loom.constant dense<3> : tensor<4x2xi8>
  %bs = loom.constant dense<0.1> : tensor<f32>
  %bz = loom.constant dense<0> : tensor<i8>
  %ys = loom.constant dense<0.25> : tensor<f32>
  %yz = loom.constant dense<10> : tensor<ui8>
  %y = loom.qlinear_matmul(%a, %as, %az, %b, %bs, %bz, %ys, %yz) : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x2xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<ui8>) -> tensor<2x2xui8>
  %d = loom.dequantize_linear(%y, %ys, %yz) : (tensor<2x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x2xf32>
  return %d : tensor<2x2xf32>
}

// -----

// ONNX Runtime's dynamic quantization: DynamicQuantizeLinear ->
// MatMulInteger (constant i8 weight) -> Cast -> Mul by x_scale * w_scale
// (per column) -> Add of a bias becomes a dynamic qmatmul of x.
// CHECK-LABEL: func @matmul_integer
// CHECK-DAG: %[[W:.*]] = loom.qconstant dense<{{\[\[}}1, -2], [3, -4], [5, -6], [7, -128]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1000000{{[0-9]*}},0.2000000{{[0-9]*}}}>>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.qmatmul(%arg0, %[[W]], %[[B]]) {dynamic = 1 : i64} : (tensor<3x4xf32>, {{.*}}, tensor<2xf32>) -> tensor<3x2xf32>
// CHECK: return %[[Y]]
// CHECK-NOT: loom.matmul_integer
// CHECK-NOT: loom.dynamic_quantize_linear
func.func @matmul_integer(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<3x4xf32>) -> (tensor<3x4xui8>, tensor<f32>, tensor<ui8>)
  %w = loom.constant dense<[[1, -2], [3, -4], [5, -6], [7, -128]]> : tensor<4x2xi8>
  %n = loom.none
  %p = loom.matmul_integer(%q#0, %w, %q#2, %n) : (tensor<3x4xui8>, tensor<4x2xi8>, tensor<ui8>, none) -> tensor<3x2xi32>
  %c = loom.cast(%p) {to = f32} : (tensor<3x2xi32>) -> tensor<3x2xf32>
  %ws = loom.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %s = loom.mul(%q#1, %ws) : (tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
  %m = loom.mul(%c, %s) : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %b = loom.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %y = loom.add(%m, %b) : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Both Muls with their operands swapped, u8 weights with a zero point: the
// values and the zero point become i8 minus 128 (0 -> -128, 130 -> 2, 255 ->
// 127); one scale and one zero point: per tensor.
// CHECK-LABEL: func @matmul_integer_u8_swapped
// CHECK: %[[W:.*]] = loom.qconstant dense<{{\[\[}}-128, 2], [127, -1], [2, 2], [2, 2]]> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32, 5.000000e-01:2>>
// CHECK: loom.qmatmul(%arg0, %[[W]], %{{.*}}) {dynamic = 1 : i64} : (tensor<3x4xf32>, {{.*}}, none) -> tensor<3x2xf32>
func.func @matmul_integer_u8_swapped(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<3x4xf32>) -> (tensor<3x4xui8>, tensor<f32>, tensor<ui8>)
  %w = loom.constant dense<[[0, 130], [255, 127], [130, 130], [130, 130]]> : tensor<4x2xui8>
  %wz = loom.constant dense<130> : tensor<ui8>
  %p = loom.matmul_integer(%q#0, %w, %q#2, %wz) : (tensor<3x4xui8>, tensor<4x2xui8>, tensor<ui8>, tensor<ui8>) -> tensor<3x2xi32>
  %c = loom.cast(%p) {to = f32} : (tensor<3x2xi32>) -> tensor<3x2xf32>
  %ws = loom.constant dense<0.5> : tensor<f32>
  %s = loom.mul(%ws, %q#1) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = loom.mul(%s, %c) : (tensor<f32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// The fusion passes make one region of the scale Mul and the bias Add
// (loomc quantizes after fusion); the region is matched as the two ops.
// The bias [1, 2] becomes [2].
// CHECK-LABEL: func @matmul_integer_fused_tail
// CHECK: %[[B:.*]] = loom.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.qmatmul(%arg0, %{{.*}}, %[[B]]) {dynamic = 1 : i64}
// CHECK: return %[[Y]]
// CHECK-NOT: loom.fused_elementwise
func.func @matmul_integer_fused_tail(%x: tensor<2x3x4xf32>) -> tensor<2x3x2xf32> {
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<2x3x4xf32>) -> (tensor<2x3x4xui8>, tensor<f32>, tensor<ui8>)
  %w = loom.constant dense<3> : tensor<4x2xi8>
  %n = loom.none
  %p = loom.matmul_integer(%q#0, %w, %q#2, %n) : (tensor<2x3x4xui8>, tensor<4x2xi8>, tensor<ui8>, none) -> tensor<2x3x2xi32>
  %c = loom.cast(%p) {to = f32} : (tensor<2x3x2xi32>) -> tensor<2x3x2xf32>
  %ws = loom.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %s = loom.mul(%q#1, %ws) : (tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
  %b = loom.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %y = loom.fused_elementwise(%c, %s, %b) {
  ^bb0(%ci: tensor<2x3x2xf32>, %si: tensor<2xf32>, %bi: tensor<1x2xf32>):
    %m = loom.mul(%si, %ci) : (tensor<2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
    %a = loom.add(%bi, %m) : (tensor<1x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
    loom.fused_yield %a : tensor<2x3x2xf32>
  } : (tensor<2x3x2xf32>, tensor<2xf32>, tensor<1x2xf32>) -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// A bias that is not one value per output channel stays an Add after the
// kernel.
// CHECK-LABEL: func @matmul_integer_full_bias
// CHECK: %[[Q:.*]] = loom.qmatmul(%arg0, %{{.*}}, %{{.*}}) {dynamic = 1 : i64} : (tensor<3x4xf32>, {{.*}}, none) -> tensor<3x2xf32>
// CHECK: %[[Y:.*]] = loom.add(%[[Q]], %arg1)
// CHECK: return %[[Y]]
func.func @matmul_integer_full_bias(%x: tensor<3x4xf32>, %bias: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<3x4xf32>) -> (tensor<3x4xui8>, tensor<f32>, tensor<ui8>)
  %w = loom.constant dense<3> : tensor<4x2xi8>
  %n = loom.none
  %p = loom.matmul_integer(%q#0, %w, %q#2, %n) : (tensor<3x4xui8>, tensor<4x2xi8>, tensor<ui8>, none) -> tensor<3x2xi32>
  %c = loom.cast(%p) {to = f32} : (tensor<3x2xi32>) -> tensor<3x2xf32>
  %ws = loom.constant dense<0.1> : tensor<f32>
  %s = loom.mul(%q#1, %ws) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %m = loom.mul(%c, %s) : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  %y = loom.add(%m, %bias) : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// ConvInteger with per-output-channel zero points and a scale and bias
// reshaped to [O, 1, 1] (as ONNX Runtime writes them): a dynamic qconv
// with a per-axis weight (axis 0) and the bias [O].
// CHECK-LABEL: func @conv_integer
// CHECK-DAG: %[[W:.*]] = loom.qconstant dense<{{.*}}> : tensor<2x1x1x1xi8> -> tensor<2x1x1x1x!quant.uniform<i8:f32:0, {2.500000e-01:1,5.000000e-01:-3}>>
// CHECK-DAG: %[[B:.*]] = loom.constant dense<[1.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = loom.qconv(%arg0, %[[W]], %[[B]]) {dynamic = 1 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x3x3xf32>, {{.*}}, tensor<2xf32>) -> tensor<1x2x5x5xf32>
// CHECK: return %[[Y]]
// CHECK-NOT: loom.conv_integer
func.func @conv_integer(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x5x5xf32> {
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<1x1x3x3xf32>) -> (tensor<1x1x3x3xui8>, tensor<f32>, tensor<ui8>)
  %w = loom.constant dense<[[[[2]]], [[[-3]]]]> : tensor<2x1x1x1xi8>
  %wz = loom.constant dense<[1, -3]> : tensor<2xi8>
  %p = loom.conv_integer(%q#0, %w, %q#2, %wz) {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x3x3xui8>, tensor<2x1x1x1xi8>, tensor<ui8>, tensor<2xi8>) -> tensor<1x2x5x5xi32>
  %c = loom.cast(%p) {to = f32} : (tensor<1x2x5x5xi32>) -> tensor<1x2x5x5xf32>
  %ws = loom.constant dense<[[[0.25]], [[0.5]]]> : tensor<2x1x1xf32>
  %s = loom.mul(%q#1, %ws) : (tensor<f32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %m = loom.mul(%c, %s) : (tensor<1x2x5x5xf32>, tensor<2x1x1xf32>) -> tensor<1x2x5x5xf32>
  %b = loom.constant dense<[[[[1.0]], [[-1.0]]]]> : tensor<1x2x1x1xf32>
  %y = loom.add(%m, %b) : (tensor<1x2x5x5xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x5x5xf32>
  return %y : tensor<1x2x5x5xf32>
}

// -----

// Not ONNX Runtime's chain, so the integer ops stay: a MatMulInteger of
// graph inputs (as in ONNX's backend tests), a weight that is not a
// constant, and an a_zero_point that is not the DynamicQuantizeLinear's.
// CHECK-LABEL: func @negative_matmul_integer
// CHECK-NOT: loom.qmatmul
// CHECK-COUNT-3: loom.matmul_integer
func.func @negative_matmul_integer(%a: tensor<3x4xui8>, %b: tensor<4x2xui8>, %x: tensor<3x4xf32>, %wb: tensor<4x2xi8>) -> (tensor<3x2xi32>, tensor<3x2xf32>, tensor<3x2xf32>) {
  %az = loom.constant dense<12> : tensor<ui8>
  %n = loom.none
  %p0 = loom.matmul_integer(%a, %b, %az, %n) : (tensor<3x4xui8>, tensor<4x2xui8>, tensor<ui8>, none) -> tensor<3x2xi32>
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<3x4xf32>) -> (tensor<3x4xui8>, tensor<f32>, tensor<ui8>)
  %ws = loom.constant dense<0.1> : tensor<f32>
  %s = loom.mul(%q#1, %ws) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %p1 = loom.matmul_integer(%q#0, %wb, %q#2, %n) : (tensor<3x4xui8>, tensor<4x2xi8>, tensor<ui8>, none) -> tensor<3x2xi32>
  %c1 = loom.cast(%p1) {to = f32} : (tensor<3x2xi32>) -> tensor<3x2xf32>
  %y1 = loom.mul(%c1, %s) : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  %w = loom.constant dense<3> : tensor<4x2xi8>
  %p2 = loom.matmul_integer(%q#0, %w, %n, %n) : (tensor<3x4xui8>, tensor<4x2xi8>, none, none) -> tensor<3x2xi32>
  %c2 = loom.cast(%p2) {to = f32} : (tensor<3x2xi32>) -> tensor<3x2xf32>
  %y2 = loom.mul(%c2, %s) : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  return %p0, %y1, %y2 : tensor<3x2xi32>, tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// A Conv scale of shape [O] (not reshaped to [O, 1, 1]) broadcasts along
// the last spatial axis, not the channels: not the pattern, stays.
// CHECK-LABEL: func @negative_conv_integer_flat_scale
// CHECK-NOT: loom.qconv
// CHECK: loom.conv_integer
func.func @negative_conv_integer_flat_scale(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q:3 = loom.dynamic_quantize_linear(%x) : (tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xui8>, tensor<f32>, tensor<ui8>)
  %w = loom.constant dense<[[[[2]]], [[[-3]]]]> : tensor<2x1x1x1xi8>
  %n = loom.none
  %p = loom.conv_integer(%q#0, %w, %q#2, %n) : (tensor<1x1x2x2xui8>, tensor<2x1x1x1xi8>, tensor<ui8>, none) -> tensor<1x2x2x2xi32>
  %c = loom.cast(%p) {to = f32} : (tensor<1x2x2x2xi32>) -> tensor<1x2x2x2xf32>
  %ws = loom.constant dense<[0.25, 0.5]> : tensor<2xf32>
  %s = loom.mul(%q#1, %ws) : (tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
  %y = loom.mul(%c, %s) : (tensor<1x2x2x2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
