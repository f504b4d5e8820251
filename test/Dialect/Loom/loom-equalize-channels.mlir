// RUN: loom-opt %s -split-input-file -loom-equalize-channels | FileCheck %s

// Two channels whose ranges differ: conv1's rows 4 and 0.01, conv2's
// columns 1 and 100. s = sqrt(r1 / r2) = 2 and 0.01: conv1's rows and bias
// divided by s, conv2's columns multiplied, every range sqrt(r1 r2) = 2 and
// 1. The ReLU between them commutes with the positive scales.

// CHECK-LABEL: func.func @pair
// CHECK-DAG: %[[W1:.*]] = loom.constant dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}1.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B1:.*]] = loom.constant dense<[1.500000e+00, 1.000000e+02]> : tensor<2xf32>
// CHECK: %[[C1:.*]] = loom.conv(%arg0, %[[W1]], %[[B1]])
// CHECK: %[[R:.*]] = loom.relu(%[[C1]])
// CHECK: %[[W2:.*]] = loom.constant dense<{{\[\[\[\[}}2.000000e+00]], {{\[\[}}1.000000e+00]]]]> : tensor<1x2x1x1xf32>
// CHECK: loom.conv(%[[R]], %[[W2]], %{{.*}})
func.func @pair(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w1 = loom.constant dense<[[[[4.0]]], [[[0.01]]]]> : tensor<2x1x1x1xf32>
  %b1 = loom.constant dense<[3.0, 1.0]> : tensor<2xf32>
  %w2 = loom.constant dense<[[[[1.0]], [[100.0]]]]> : tensor<1x2x1x1xf32>
  %none = loom.none
  %h = loom.conv(%x, %w1, %b1) : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = loom.relu(%h) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.conv(%r, %w2, %none) : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Not a pair: a sigmoid between them (sigmoid(s x) != s sigmoid(x)), and
// conv1's result read twice. Nothing changes.

// CHECK-LABEL: func.func @negative_sigmoid
// CHECK: loom.constant dense<{{\[\[\[\[}}4.000000e+00]]], {{\[\[\[}}0.00999999977]]]]>
// CHECK: loom.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}1.000000e+02]]]]>
func.func @negative_sigmoid(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w1 = loom.constant dense<[[[[4.0]]], [[[0.01]]]]> : tensor<2x1x1x1xf32>
  %w2 = loom.constant dense<[[[[1.0]], [[100.0]]]]> : tensor<1x2x1x1xf32>
  %none = loom.none
  %h = loom.conv(%x, %w1, %none) : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %r = loom.sigmoid(%h) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = loom.conv(%r, %w2, %none) : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @negative_two_uses
// CHECK: loom.constant dense<{{\[\[\[\[}}4.000000e+00]]], {{\[\[\[}}0.00999999977]]]]>
func.func @negative_two_uses(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w1 = loom.constant dense<[[[[4.0]]], [[[0.01]]]]> : tensor<2x1x1x1xf32>
  %w2 = loom.constant dense<[[[[1.0]], [[100.0]]]]> : tensor<1x2x1x1xf32>
  %none = loom.none
  %h = loom.conv(%x, %w1, %none) : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %y = loom.conv(%h, %w2, %none) : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  return %y, %h : tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32>
}
