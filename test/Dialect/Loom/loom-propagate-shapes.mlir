// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-propagate-shapes,canonicalize))' | FileCheck %s

// An exporter-style flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
// folds to a constant shape and the Reshape gets a static result.
// CHECK-LABEL: func @fold_shape_chain
// CHECK-SAME: -> tensor<2x48xf32>
func.func @fold_shape_chain(%x: tensor<2x3x4x4xf32>) -> tensor<?x?xf32> {
  %zero = loom.constant dense<0> : tensor<i64>
  %axes = loom.constant dense<0> : tensor<1xi64>
  %m1 = loom.constant dense<-1> : tensor<1xi64>
  %s = loom.shape(%x) : (tensor<2x3x4x4xf32>) -> tensor<4xi64>
  %n = loom.gather(%s, %zero) {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %n1 = loom.unsqueeze(%n, %axes) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = loom.concat(%n1, %m1) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // CHECK: %[[SHAPE:.*]] = loom.constant dense<[2, -1]> : tensor<2xi64>
  // CHECK: loom.reshape(%{{.*}}, %[[SHAPE]]) {{.*}} -> tensor<2x48xf32>
  %r = loom.reshape(%x, %shape) : (tensor<2x3x4x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// A dynamic reshape target that is not a constant stays dynamic.
// CHECK-LABEL: func @negative_unknown_shape
// CHECK: loom.reshape{{.*}} -> tensor<?x?xf32>
func.func @negative_unknown_shape(%x: tensor<2x3xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = loom.reshape(%x, %s) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
