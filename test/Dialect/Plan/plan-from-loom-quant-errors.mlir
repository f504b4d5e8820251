// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-from-loom=target=host

// Only weights may be int4: a 4-bit activation has no kernel.
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{cannot plan a 4-bit quantized activation; only weights may be int4}}
  %q = loom.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i4:f32, 1.000000e-01>>
  %d = loom.dequantize %q : tensor<4x!quant.uniform<i4:f32, 1.000000e-01>> -> tensor<4xf32>
  return %d : tensor<4xf32>
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

// -----

// A stored value outside int2's range (ternary weights are 2-bit).
func.func @main(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{int2 value 2 out of [-2, 1]}}
  %w = loom.qconstant dense<[[1, 2], [0, 0]]> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i2<-1:1>:f32:1, {0.1, 0.1}>>
  %n = loom.none
  %y = loom.qmatmul(%a, %w, %n) : (tensor<2x2xf32>, tensor<2x2x!quant.uniform<i2<-1:1>:f32:1, {0.1, 0.1}>>, none) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// A weight marked 2:4 must have at most two non-zeros in each group of
// four rows of a column.
func.func @main(%a: tensor<1x4xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{2:4 sparse weight: packSparse24: more than two non-zero values among rows 0..3 of column 0}}
  %w = loom.qconstant {sparsity = "2:4"} dense<[[1], [1], [1], [0]]> : tensor<4x1xi8> -> tensor<4x1x!quant.uniform<i8:f32:1, {0.1}>>
  %n = loom.none
  %y = loom.qmatmul(%a, %w, %n) : (tensor<1x4xf32>, tensor<4x1x!quant.uniform<i8:f32:1, {0.1}>>, none) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
