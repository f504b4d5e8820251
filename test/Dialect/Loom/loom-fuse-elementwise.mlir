// RUN: loom-opt %s -split-input-file -loom-fuse-elementwise | FileCheck %s

// A tree (x·y + sigmoid(x), then clipped) becomes one region; the broadcast
// input y ([4]) and the clip bounds (constants) are inputs of the region.
// CHECK-LABEL: func @tree
// CHECK-DAG: %[[LO:.*]] = loom.constant dense<0.000000e+00>
// CHECK-DAG: %[[HI:.*]] = loom.constant dense<6.000000e+00>
// CHECK: %[[R:.*]] = loom.fused_elementwise(%arg0, %arg1, %[[LO]], %[[HI]]) {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<2x3x4xf32>, %[[Y:.*]]: tensor<4xf32>, %[[A:.*]]: tensor<f32>, %[[B:.*]]: tensor<f32>):
// CHECK-NEXT:   %[[M:.*]] = loom.mul(%[[X]], %[[Y]])
// CHECK-NEXT:   %[[S:.*]] = loom.sigmoid(%[[X]])
// CHECK-NEXT:   %[[ADD:.*]] = loom.add(%[[M]], %[[S]])
// CHECK-NEXT:   %[[C:.*]] = loom.clip(%[[ADD]], %[[A]], %[[B]])
// CHECK-NEXT:   loom.fused_yield %[[C]] : tensor<2x3x4xf32>
// CHECK-NEXT: } : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<2x3x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @tree(%x: tensor<2x3x4xf32>, %y: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %lo = loom.constant dense<0.0> : tensor<f32>
  %hi = loom.constant dense<6.0> : tensor<f32>
  %m = loom.mul(%x, %y) : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %s = loom.sigmoid(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %a = loom.add(%m, %s) : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %c = loom.clip(%a, %lo, %hi) : (tensor<2x3x4xf32>, tensor<f32>, tensor<f32>) -> tensor<2x3x4xf32>
  return %c : tensor<2x3x4xf32>
}

// -----

// A value used outside the chain ends the group there: exp(x) is returned,
// so neg(exp) + 1 fuses without it, and exp stays alone.
// CHECK-LABEL: func @escaping_value
// CHECK: %[[E:.*]] = loom.exp(%arg0)
// CHECK: %[[R:.*]] = loom.fused_elementwise(%[[E]], %{{.*}}) {
// CHECK:   loom.neg
// CHECK:   loom.add
// CHECK: return %[[E]], %[[R]]
func.func @escaping_value(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %one = loom.constant dense<1.0> : tensor<f32>
  %e = loom.exp(%x) : (tensor<8xf32>) -> tensor<8xf32>
  %n = loom.neg(%e) : (tensor<8xf32>) -> tensor<8xf32>
  %r = loom.add(%n, %one) : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %e, %r : tensor<8xf32>, tensor<8xf32>
}

// -----

// Absent clip bounds stay absent inside the body; leaky_relu keeps alpha.
// CHECK-LABEL: func @clip_without_max
// CHECK: loom.fused_elementwise(%arg0, %{{.*}}) {
// CHECK: %[[NONE:.*]] = loom.none
// CHECK: loom.clip(%{{.*}}, %{{.*}}, %[[NONE]])
// CHECK: loom.leaky_relu(%{{.*}}) {alpha = 2.000000e-01 : f32}
func.func @clip_without_max(%x: tensor<8xf32>) -> tensor<8xf32> {
  %lo = loom.constant dense<-1.0> : tensor<f32>
  %none = loom.none
  %c = loom.clip(%x, %lo, %none) : (tensor<8xf32>, tensor<f32>, none) -> tensor<8xf32>
  %l = loom.leaky_relu(%c) {alpha = 0.2 : f32} : (tensor<8xf32>) -> tensor<8xf32>
  return %l : tensor<8xf32>
}

// -----

// Not fused: a single op; an intermediate of another shape (the broadcast
// happens at the add, so exp([4]) is not part of a [2x4] group); non-f32
// types; clip with a bound that is not a constant.
// CHECK-LABEL: func @negative_single_op
// CHECK-NOT: loom.fused_elementwise
func.func @negative_single_op(%x: tensor<8xf32>) -> tensor<8xf32> {
  %r = loom.relu(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// CHECK-LABEL: func @negative_other_shape
// CHECK: %[[E:.*]] = loom.exp(%arg1) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: loom.fused_elementwise(%arg0, %[[E]])
// CHECK:   loom.add
// CHECK:   loom.relu
func.func @negative_other_shape(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> tensor<2x4xf32> {
  %e = loom.exp(%y) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%x, %e) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %r = loom.relu(%a) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @negative_integer
// CHECK-NOT: loom.fused_elementwise
func.func @negative_integer(%x: tensor<8xi32>) -> tensor<8xi32> {
  %n = loom.neg(%x) : (tensor<8xi32>) -> tensor<8xi32>
  %a = loom.abs(%n) : (tensor<8xi32>) -> tensor<8xi32>
  return %a : tensor<8xi32>
}

// -----

// CHECK-LABEL: func @negative_dynamic_bound
// CHECK: loom.clip
// CHECK-NOT: loom.fused_elementwise
func.func @negative_dynamic_bound(%x: tensor<8xf32>, %lo: tensor<f32>) -> tensor<8xf32> {
  %none = loom.none
  %n = loom.neg(%x) : (tensor<8xf32>) -> tensor<8xf32>
  %c = loom.clip(%n, %lo, %none) : (tensor<8xf32>, tensor<f32>, none) -> tensor<8xf32>
  return %c : tensor<8xf32>
}
