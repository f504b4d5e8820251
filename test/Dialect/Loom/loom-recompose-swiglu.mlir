// RUN: loom-opt %s -split-input-file -loom-recompose-swiglu | FileCheck %s

// SiLU as loom.silu (after loom-recompose-activations).
// CHECK-LABEL: func @swiglu_silu_op
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
// CHECK-DAG: %[[W1:.*]] = loom.constant dense<1.000000e+00> : tensor<8x16xf32>
// CHECK-DAG: %[[W3:.*]] = loom.constant dense<2.000000e+00> : tensor<8x16xf32>
// CHECK: %[[Y:.*]] = loom.swiglu(%[[X]], %[[W1]], %[[W3]]) : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @swiglu_silu_op(%x: tensor<1x4x8xf32>) -> tensor<1x4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  %s = loom.silu(%g) : (tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// SiLU as g · Sigmoid(g), the up projection first in the product.
// CHECK-LABEL: func @swiglu_sigmoid
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-DAG: %[[W1:.*]] = loom.constant dense<1.000000e+00> : tensor<8x16xf32>
// CHECK-DAG: %[[W3:.*]] = loom.constant dense<2.000000e+00> : tensor<8x16xf32>
// CHECK: %[[Y:.*]] = loom.swiglu(%[[X]], %[[W1]], %[[W3]])
// CHECK-NEXT: return %[[Y]]
func.func @swiglu_sigmoid(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %sig = loom.sigmoid(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %s = loom.mul(%sig, %g) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y = loom.mul(%u, %s) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Plain fused_matmul producers count as MatMuls.
// CHECK-LABEL: func @swiglu_fused_matmul
// CHECK: loom.swiglu
// CHECK-NOT: loom.fused_matmul
func.func @swiglu_fused_matmul(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %none = loom.none
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.fused_matmul(%x, %w1, %none) : (tensor<4x8xf32>, tensor<8x16xf32>, none) -> tensor<4x16xf32>
  %s = loom.silu(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.fused_matmul(%x, %w3, %none) : (tensor<4x8xf32>, tensor<8x16xf32>, none) -> tensor<4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// The two projections read different inputs: no SwiGLU.
// CHECK-LABEL: func @negative_swiglu_two_inputs
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_two_inputs(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %s = loom.silu(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%z, %w3) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A weight that is not a constant: no SwiGLU.
// CHECK-LABEL: func @negative_swiglu_weight_not_constant
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_weight_not_constant(%x: tensor<4x8xf32>, %w3: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %s = loom.silu(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Batched (3-D) weights: no SwiGLU.
// CHECK-LABEL: func @negative_swiglu_3d_weights
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_3d_weights(%x: tensor<2x4x8xf32>) -> tensor<2x4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<2x8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<2x8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<2x4x8xf32>, tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %s = loom.silu(%g) : (tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<2x4x8xf32>, tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<2x4x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// The gate projection is also returned; the up projection too; the sigmoid
// is of another value: no SwiGLU.
// CHECK-LABEL: func @negative_swiglu_gate_used
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_gate_used(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %sig = loom.sigmoid(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %s = loom.mul(%g, %sig) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y, %g : tensor<4x16xf32>, tensor<4x16xf32>
}

// CHECK-LABEL: func @negative_swiglu_up_used
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_up_used(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %s = loom.silu(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y, %u : tensor<4x16xf32>, tensor<4x16xf32>
}

// CHECK-LABEL: func @negative_swiglu_sigmoid_other
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_sigmoid_other(%x: tensor<4x8xf32>, %z: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x16xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %sig = loom.sigmoid(%z) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %s = loom.mul(%g, %sig) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Weights of different shapes (the product broadcasts): no SwiGLU.
// CHECK-LABEL: func @negative_swiglu_weight_shapes
// CHECK-NOT: loom.swiglu
func.func @negative_swiglu_weight_shapes(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w1 = loom.constant dense<1.0> : tensor<8x16xf32>
  %w3 = loom.constant dense<2.0> : tensor<8x1xf32>
  %g = loom.matmul(%x, %w1) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %s = loom.silu(%g) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %u = loom.matmul(%x, %w3) : (tensor<4x8xf32>, tensor<8x1xf32>) -> tensor<4x1xf32>
  %y = loom.mul(%s, %u) : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
