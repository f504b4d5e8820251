// RUN: loom-opt %s -split-input-file -loom-fuse-skip-norm | FileCheck %s

// The sum feeds the LayerNorm only: Sum is absent.
// CHECK-LABEL: func @skip_layer_norm
// CHECK-SAME: (%[[A:.*]]: tensor<2x8xf32>, %[[B:.*]]: tensor<2x8xf32>, %[[S:.*]]: tensor<8xf32>, %[[BI:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = loom.skip_layer_norm(%[[A]], %[[B]], %[[S]], %[[BI]]) {axis = -2 : i64, epsilon = 1.000000e-03 : f32} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, none)
// CHECK-NEXT: return %[[Y]]
func.func @skip_layer_norm(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %s: tensor<8xf32>, %bias: tensor<8xf32>) -> tensor<2x8xf32> {
  %sum = loom.add(%a, %b) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y, %m, %i = loom.layer_normalization(%sum, %s, %bias) {axis = -2 : i64, epsilon = 1.000000e-03 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, none, none)
  return %y : tensor<2x8xf32>
}

// -----

// The residual stream uses the sum too: the fused op's Sum replaces it.
// No bias.
// CHECK-LABEL: func @skip_layer_norm_residual
// CHECK-SAME: (%[[A:.*]]: tensor<2x8xf32>, %[[B:.*]]: tensor<2x8xf32>, %[[S:.*]]: tensor<8xf32>)
// CHECK: %[[Y:.*]], %[[SUM:.*]] = loom.skip_layer_norm(%[[A]], %[[B]], %[[S]], %{{.*}}) {axis = 1 : i64, epsilon = 1.000000e-03 : f32} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK-NEXT: %[[R:.*]] = loom.add(%[[Y]], %[[SUM]])
// CHECK-NEXT: return %[[R]]
func.func @skip_layer_norm_residual(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  %none = loom.none
  %sum = loom.add(%a, %b) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y, %m, %i = loom.layer_normalization(%sum, %s, %none) {axis = 1 : i64, epsilon = 1.000000e-03 : f32} : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<2x8xf32>, none, none)
  %r = loom.add(%y, %sum) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// The sum is used before the norm (and the scale is defined after the
// Add): the fused op goes where every use of Sum can see it.
// CHECK-LABEL: func @skip_layer_norm_use_before
// CHECK: %[[Y:.*]], %[[SUM:.*]] = loom.skip_layer_norm
// CHECK-NEXT: %[[N:.*]] = loom.neg(%[[SUM]])
// CHECK: return %[[Y]], %[[N]]
func.func @skip_layer_norm_use_before(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %s: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %sum = loom.add(%a, %b) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %n = loom.neg(%sum) : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %none = loom.none
  %y, %m, %i = loom.layer_normalization(%sum, %s, %none) : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<2x8xf32>, none, none)
  return %y, %n : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func @skip_rms_norm
// CHECK-SAME: (%[[A:.*]]: tensor<1x4x8xf32>, %[[B:.*]]: tensor<1x4x8xf32>, %[[S:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[Y:.*]], %[[SUM:.*]] = loom.skip_rms_norm(%[[A]], %[[B]], %[[S]]) {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>)
// CHECK-NEXT: return %[[Y]], %[[SUM]]
func.func @skip_rms_norm(%a: tensor<1x4x8xf32>, %b: tensor<1x4x8xf32>, %s: tensor<8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  %sum = loom.add(%a, %b) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %y = loom.rms_norm(%sum, %s) {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %y, %sum : tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// CHECK-LABEL: func @skip_rms_norm_no_sum
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = loom.skip_rms_norm(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, none)
// CHECK-NEXT: return %[[Y]]
func.func @skip_rms_norm_no_sum(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<4x8xf32> {
  %sum = loom.add(%a, %b) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = loom.rms_norm(%sum, %s) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A broadcasting Add (a bias, not a residual): no fusion.
// CHECK-LABEL: func @negative_skip_broadcast
// CHECK-NOT: loom.skip_layer_norm
// CHECK-NOT: loom.skip_rms_norm
func.func @negative_skip_broadcast(%a: tensor<2x8xf32>, %b: tensor<8xf32>, %s: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %none = loom.none
  %sum = loom.add(%a, %b) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %y, %m, %i = loom.layer_normalization(%sum, %s, %none) : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<2x8xf32>, none, none)
  %z = loom.rms_norm(%sum, %s) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y, %z : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// The Mean output is used; the input is not an Add; f16: no fusion.
// CHECK-LABEL: func @negative_skip_mean_used
// CHECK-NOT: loom.skip_layer_norm
func.func @negative_skip_mean_used(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %s: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>) {
  %none = loom.none
  %sum = loom.add(%a, %b) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y, %m, %i = loom.layer_normalization(%sum, %s, %none) : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<2x8xf32>, tensor<2x1xf32>, none)
  return %y, %m : tensor<2x8xf32>, tensor<2x1xf32>
}

// CHECK-LABEL: func @negative_skip_sub
// CHECK-NOT: loom.skip_rms_norm
func.func @negative_skip_sub(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  %d = loom.sub(%a, %b) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = loom.rms_norm(%d, %s) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// CHECK-LABEL: func @negative_skip_f16
// CHECK-NOT: loom.skip_rms_norm
func.func @negative_skip_f16(%a: tensor<2x8xf16>, %b: tensor<2x8xf16>, %s: tensor<8xf16>) -> tensor<2x8xf16> {
  %sum = loom.add(%a, %b) : (tensor<2x8xf16>, tensor<2x8xf16>) -> tensor<2x8xf16>
  %y = loom.rms_norm(%sum, %s) : (tensor<2x8xf16>, tensor<8xf16>) -> tensor<2x8xf16>
  return %y : tensor<2x8xf16>
}
