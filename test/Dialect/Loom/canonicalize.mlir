// RUN: loom-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: func @fold_identity
// CHECK-NEXT: return %arg0
func.func @fold_identity(%a: tensor<2xf32>) -> tensor<2xf32> {
  %r = loom.identity(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @fold_dropout_inference
// CHECK-NEXT: return %arg0
func.func @fold_dropout_inference(%a: tensor<2xf32>) -> tensor<2xf32> {
  %none = loom.none
  %r, %m = loom.dropout(%a, %none, %none) : (tensor<2xf32>, none, none) -> (tensor<2xf32>, none)
  return %r : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @fold_constant_if
// CHECK: %[[N:.*]] = loom.neg
// CHECK-NEXT: return %[[N]]
func.func @fold_constant_if(%a: tensor<2xf32>) -> tensor<2xf32> {
  %c = loom.constant dense<false> : tensor<i1>
  %r = loom.if(%c) {
    loom.yield %a : tensor<2xf32>
  } {
    %n = loom.neg(%a) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %n : tensor<2xf32>
  } : (tensor<i1>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @fold_noop_transpose
// CHECK-NEXT: return %arg0
func.func @fold_noop_transpose(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = loom.transpose(%a) {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @fold_int_arith
// CHECK-NEXT: %[[C:.*]] = loom.constant dense<[7, 9]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]]
func.func @fold_int_arith() -> tensor<2xi64> {
  %a = loom.constant dense<[2, 3]> : tensor<2xi64>
  %b = loom.constant dense<3> : tensor<i64>
  %m = loom.mul(%a, %b) : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %one = loom.constant dense<[1, 0]> : tensor<2xi64>
  %r = loom.add(%m, %one) : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}
