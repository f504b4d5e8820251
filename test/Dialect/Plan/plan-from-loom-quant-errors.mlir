// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-from-loom=target=host

// Only weights may be int4: a 4-bit activation has no kernel.
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{cannot plan a 4-bit quantized activation; only weights may be int4}}
  %q = loom.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i4:f32, 1.000000e-01>>
  %d = loom.dequantize %q : tensor<4x!quant.uniform<i4:f32, 1.000000e-01>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// dequantize_linear blocks along one axis only.
func.func @main() -> tensor<4x4xf32> {
  %w = loom.qconstant dense<1> : tensor<4x4xi8> -> tensor<4x4x!quant.uniform<i8:f32:{0:2,1:2}, {{0.1, 0.1}, {0.1, 0.1}}>>
  // expected-error @+1 {{a quantized type blocked along more than one axis needs a quantized kernel}}
  %d = loom.dequantize %w : tensor<4x4x!quant.uniform<i8:f32:{0:2,1:2}, {{0.1, 0.1}, {0.1, 0.1}}>> -> tensor<4x4xf32>
  return %d : tensor<4x4xf32>
}

// -----

// A stored value outside int4's range.
func.func @main(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{int4 value 9 out of [-8, 7]}}
  %w = loom.qconstant dense<[[1, 9], [0, 0]]> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i4:f32:1, {0.1, 0.1}>>
  %n = loom.none
  %y = loom.qmatmul(%a, %w, %n) : (tensor<2x2xf32>, tensor<2x2x!quant.uniform<i4:f32:1, {0.1, 0.1}>>, none) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
