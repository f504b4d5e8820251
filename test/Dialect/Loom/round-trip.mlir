// RUN: loom-opt %s | loom-opt | FileCheck %s

// CHECK-LABEL: func @round_trip_conv
func.func @round_trip_conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = loom.none
  // CHECK: loom.conv(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  %y = loom.conv(%x, %w, %none) {group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func @round_trip_if
func.func @round_trip_if(%c: tensor<i1>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: loom.if(%{{.*}}) {
  // CHECK: loom.yield %{{.*}} : tensor<2xf32>
  %r = loom.if(%c) {
    loom.yield %a : tensor<2xf32>
  } {
    %n = loom.neg(%a) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %n : tensor<2xf32>
  } : (tensor<i1>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}
