// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(loom-propagate-shapes))'

// A pool whose input refines to rank 0: its result is left as it is (the
// channel dim is read only from rank 2 and up) and the verifier reports the
// rank, instead of a read past the input's dims.
func.func @negative_pool_refined_rank0(%a: tensor<f32>) -> tensor<*xf32> {
  %x = loom.relu(%a) : (tensor<f32>) -> tensor<*xf32>
  // expected-error @+1 {{'loom.average_pool' op input must have rank 3 or more (N, C, spatial...)}}
  %y = loom.average_pool(%x) {kernel_shape = array<i64: 2>} : (tensor<*xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @negative_max_pool_refined_rank0(%a: tensor<f32>) -> tensor<*xf32> {
  %x = loom.relu(%a) : (tensor<f32>) -> tensor<*xf32>
  // expected-error @+1 {{'loom.max_pool' op input must have rank 3 or more (N, C, spatial...)}}
  %y, %i = loom.max_pool(%x) {kernel_shape = array<i64: 2>} : (tensor<*xf32>) -> (tensor<*xf32>, none)
  return %y : tensor<*xf32>
}
