// RUN: loom-opt %s -split-input-file -verify-diagnostics

func.func @qmatmul_k_mismatch(%a: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %w = loom.qconstant dense<1> : tensor<8x4xi8> -> tensor<8x4x!quant.uniform<i8:f32, 0.1>>
  %n = loom.none
  // expected-error @+1 {{A's last dimension (3) differs from W's first (8)}}
  %y = loom.qmatmul(%a, %w, %n) : (tensor<2x3xf32>, tensor<8x4x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @qmatmul_per_axis_activation(%a: tensor<2x8x!quant.uniform<u8:f32:1, {0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1}>>) -> tensor<2x4xf32> {
  %w = loom.qconstant dense<1> : tensor<8x4xi8> -> tensor<8x4x!quant.uniform<i8:f32, 0.1>>
  %n = loom.none
  // expected-error @+1 {{A must be quantized per tensor}}
  %y = loom.qmatmul(%a, %w, %n) : (tensor<2x8x!quant.uniform<u8:f32:1, {0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1}>>, tensor<8x4x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @qmatmul_dynamic_quantized(%a: tensor<2x8x!quant.uniform<u8:f32, 0.1>>) -> tensor<2x4xf32> {
  %w = loom.qconstant dense<1> : tensor<8x4xi8> -> tensor<8x4x!quant.uniform<i8:f32, 0.1>>
  %n = loom.none
  // expected-error @+1 {{dynamic = 1 needs an f32 A}}
  %y = loom.qmatmul(%a, %w, %n) {dynamic = 1 : i64} : (tensor<2x8x!quant.uniform<u8:f32, 0.1>>, tensor<8x4x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @qmatmul_bias_shape(%a: tensor<2x8xf32>, %b: tensor<3xf32>) -> tensor<2x4xf32> {
  %w = loom.qconstant dense<1> : tensor<8x4xi8> -> tensor<8x4x!quant.uniform<i8:f32, 0.1>>
  // expected-error @+1 {{bias must have shape [4]}}
  %y = loom.qmatmul(%a, %w, %b) : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i8:f32, 0.1>>, tensor<3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @qmatmul_activation(%a: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = loom.qconstant dense<1> : tensor<8x4xi8> -> tensor<8x4x!quant.uniform<i8:f32, 0.1>>
  %n = loom.none
  // expected-error @+1 {{unknown activation 'swish'}}
  %y = loom.qmatmul(%a, %w, %n) {activation = "swish"} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @qconv_rank(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = loom.qconstant dense<1> : tensor<2x2x1xi8> -> tensor<2x2x1x!quant.uniform<i8:f32, 0.1>>
  %n = loom.none
  // expected-error @+1 {{expects X and W of one rank >= 3}}
  %y = loom.qconv(%x, %w, %n) : (tensor<1x2x4x4xf32>, tensor<2x2x1x!quant.uniform<i8:f32, 0.1>>, none) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

func.func @qconstant_storage() {
  // expected-error @+1 {{value must hold 8-bit integers (the stored values)}}
  %w = loom.qconstant dense<1> : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @qconstant_shape() {
  // expected-error @+1 {{value and result shapes differ}}
  %w = loom.qconstant dense<1> : tensor<4xi8> -> tensor<2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @quantize_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{input and output shapes differ}}
  %q = loom.quantize %x : tensor<4xf32> -> tensor<2x!quant.uniform<u8:f32, 0.1>>
  return
}

// -----

func.func @quantize_expressed(%x: tensor<4xf32>) {
  // expected-error @+1 {{the result must express f32}}
  %q = loom.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f16, 0.1>>
  return
}

// -----

func.func @dequantize_wide(%q: tensor<4x!quant.uniform<i16:f32, 0.1>>) {
  // expected-error @+1 {{the input must be stored in at most 8 bits}}
  %d = loom.dequantize %q : tensor<4x!quant.uniform<i16:f32, 0.1>> -> tensor<4xf32>
  return
}

// -----

func.func @qconstant_sparsity_pattern() {
  // expected-error @+1 {{sparsity must be "2:4", got "1:2"}}
  %w = loom.qconstant {sparsity = "1:2"} dense<0> : tensor<4x2xi8> -> tensor<4x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @qconstant_sparsity_shape() {
  // expected-error @+1 {{2:4 sparsity needs a [K, N] weight with K a multiple of 4}}
  %w = loom.qconstant {sparsity = "2:4"} dense<0> : tensor<6x2xi8> -> tensor<6x2x!quant.uniform<i8:f32, 0.1>>
  return
}
