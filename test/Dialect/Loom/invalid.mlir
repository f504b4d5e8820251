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

// -----

func.func @negative_conv_group(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<*xf32> {
  %none = loom.none
  // expected-error @+1 {{group must be at least 1}}
  %y = loom.conv(%x, %w, %none) {group = 0 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_reshape_shape_rank(%x: tensor<6xf32>, %s: tensor<1x2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{shape must be a 1-D tensor, got rank 2}}
  %y = loom.reshape(%x, %s) : (tensor<6xf32>, tensor<1x2xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_if_yield_count(%c: tensor<i1>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{else_branch yields 0 values but 1 are expected}}
  %r = loom.if(%c) {
    loom.yield %a : tensor<2xf32>
  } {
    loom.yield
  } : (tensor<i1>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_depth_to_space_mode(%x: tensor<1x8x2x2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{mode must be one of 'DCR' 'CRD', got 'XYZ'}}
  %y = loom.depth_to_space(%x) {blocksize = 2 : i64, mode = "XYZ"} : (tensor<1x8x2x2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_pad_mode(%x: tensor<2xf32>, %p: tensor<2xi64>) -> tensor<*xf32> {
  %none = loom.none
  // expected-error @+1 {{mode must be one of 'constant' 'reflect' 'edge', got 'wrap'}}
  %y = loom.pad(%x, %p, %none) {mode = "wrap"} : (tensor<2xf32>, tensor<2xi64>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_tile_repeats(%x: tensor<2x3xf32>, %r: tensor<3xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{repeats has 3 values but the input has rank 2}}
  %y = loom.tile(%x, %r) : (tensor<2x3xf32>, tensor<3xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_gather_axis(%x: tensor<2x3xf32>, %i: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %y = loom.gather(%x, %i) {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Fused ops (docs/fused-ops.md) check what their runtime kernels rely on.
func.func @fused_matmul_bad_activation(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %none = loom.none
  // expected-error @+1 {{unknown activation 'swish2'}}
  %y = loom.fused_matmul(%a, %b, %none) {activation = "swish2"} : (tensor<2x3xf32>, tensor<3x4xf32>, none) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @rms_norm_bad_axis(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %y = loom.rms_norm(%x, %s) {axis = -3 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @group_norm_bad_groups(%x: tensor<1x6x4xf32>, %s: tensor<6xf32>) -> tensor<1x6x4xf32> {
  // expected-error @+1 {{num_groups 4 does not divide the 6 channels}}
  %y = loom.group_norm(%x, %s, %s) {num_groups = 4 : i64} : (tensor<1x6x4xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x4xf32>
  return %y : tensor<1x6x4xf32>
}

// -----

func.func @attention_bad_heads(%q: tensor<1x6x4x8xf32>, %k: tensor<1x4x4x8xf32>) -> tensor<1x6x4x8xf32> {
  %none = loom.none
  // expected-error @+1 {{q_heads 6 must be a positive multiple of kv_heads 4}}
  %y = loom.attention(%q, %k, %k, %none) {scale = 0.5 : f32, q_heads = 6 : i64, kv_heads = 4 : i64} : (tensor<1x6x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, none) -> tensor<1x6x4x8xf32>
  return %y : tensor<1x6x4x8xf32>
}

// -----

func.func @gelu_bad_approximate(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{approximate must be 'none' or 'tanh', not 'fast'}}
  %y = loom.gelu(%x) {approximate = "fast"} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
