// RUN: loom-opt %s --loom-fusion | FileCheck %s

// The pipeline runs every fusion pass in loomc -O1's order: BatchNorm folds
// into the conv, then bias + Relu fuse into one fused_conv.
// CHECK-LABEL: func @fuse_conv_bn_relu
// CHECK: %[[Y:.*]] = loom.fused_conv(%arg0, {{.*}}) {activation = "relu"
// CHECK-NOT: loom.batch_normalization
// CHECK-NOT: loom.relu
// CHECK: return %[[Y]]
func.func @fuse_conv_bn_relu(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %none = loom.none
  %w = loom.constant dense<1.0> : tensor<2x2x1x1xf32>
  %y = loom.conv(%x, %w, %none) {group = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = loom.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %b = loom.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %m = loom.constant dense<0.0> : tensor<2xf32>
  %v = loom.constant dense<1.0> : tensor<2xf32>
  %n:3 = loom.batch_normalization(%y, %s, %b, %m, %v) {epsilon = 0.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, none, none)
  %r = loom.relu(%n#0) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}
