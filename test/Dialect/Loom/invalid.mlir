// RUN: loom-opt %s -split-input-file -verify-diagnostics

func.func @negative_concat_rank(%a: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{inputs must have one rank, got 2 and 1}}
  %r = loom.concat(%a, %b) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

func.func @negative_conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<*xf32> {
  %none = loom.none
  // expected-error @+1 {{input has 3 channels but weight expects 2 x group 1}}
  %y = loom.conv(%x, %w, %none) : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_type_variable(%a: tensor<2xf32>, %b: tensor<2xf64>) -> tensor<2xf32> {
  // expected-error @+1 {{values bound to type variable 'T' must have one element type}}
  %r = loom.add(%a, %b) : (tensor<2xf32>, tensor<2xf64>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{perm must be a permutation of the input dimensions}}
  %r = loom.transpose(%a) {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

func.func @negative_gemm_inner(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  %none = loom.none
  // expected-error @+1 {{inner dimensions differ: 3 vs 4}}
  %r = loom.gemm(%a, %b, %none) : (tensor<2x3xf32>, tensor<4x5xf32>, none) -> tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// -----

func.func @negative_cast_to(%a: tensor<2xf32>) -> tensor<2xi64> {
  // expected-error @+1 {{'to' is 'i32' but the result element type is 'i64'}}
  %r = loom.cast(%a) {to = i32} : (tensor<2xf32>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

// -----

func.func @negative_softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %r = loom.softmax(%a) {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
