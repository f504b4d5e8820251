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

// -----

// Reductions of constants, as exporters compute a batch's image size
// (ReduceMax over the sizes), on every axis and on one.
// CHECK-LABEL: func @fold_const_reductions
// CHECK-DAG: loom.constant dense<3.200000e+02> : tensor<f32>
// CHECK-DAG: loom.constant dense<[4, 6]> : tensor<2xi64>
// CHECK-DAG: loom.constant dense<{{\[\[}}2, 3]]> : tensor<1x2xi64>
// CHECK-DAG: loom.constant dense<[5, 10]> : tensor<2xi64>
// CHECK-DAG: loom.constant dense<[-5, 2]> : tensor<2xi64>
// CHECK-NOT: loom.reduce
func.func @fold_const_reductions() -> (tensor<f32>, tensor<2xi64>, tensor<1x2xi64>, tensor<2xi64>, tensor<2xi64>) {
  %sizes = loom.constant dense<[320.0, 240.0]> : tensor<2xf32>
  %max = loom.reduce_max(%sizes) {keepdims = 0 : i64} : (tensor<2xf32>) -> tensor<f32>
  %m = loom.constant dense<[[2, 3], [4, 6]]> : tensor<2x2xi64>
  %rmax = loom.reduce_max(%m) {axes = array<i64: 0>, keepdims = 0 : i64} : (tensor<2x2xi64>) -> tensor<2xi64>
  %rmin = loom.reduce_min(%m) {axes = array<i64: 0>, keepdims = 1 : i64} : (tensor<2x2xi64>) -> tensor<1x2xi64>
  %ax = loom.constant dense<1> : tensor<1xi64>
  %rsum = loom.reduce_sum(%m, %ax) {keepdims = 0 : i64} : (tensor<2x2xi64>, tensor<1xi64>) -> tensor<2xi64>
  %n = loom.constant dense<[[-1, 5], [1, 2]]> : tensor<2x2xi64>
  %rprod = loom.reduce_prod(%n) {axes = array<i64: -1>, keepdims = 0 : i64} : (tensor<2x2xi64>) -> tensor<2xi64>
  return %max, %rmax, %rmin, %rsum, %rprod : tensor<f32>, tensor<2xi64>, tensor<1x2xi64>, tensor<2xi64>, tensor<2xi64>
}

// -----

// 1 / size and sqrt fold, each result rounded to f32 as a runtime's f32
// operation rounds it: 320 * (1/320) is 1 in f32.
// CHECK-LABEL: func @fold_reciprocal_sqrt
// CHECK-DAG: loom.constant dense<1.000000e+00> : tensor<f32>
// CHECK-DAG: loom.constant dense<3.000000e+00> : tensor<f32>
// CHECK-NOT: loom.reciprocal
// CHECK-NOT: loom.sqrt
func.func @fold_reciprocal_sqrt() -> (tensor<f32>, tensor<f32>) {
  %s = loom.constant dense<320.0> : tensor<f32>
  %r = loom.reciprocal(%s) : (tensor<f32>) -> tensor<f32>
  %one = loom.mul(%r, %s) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %nine = loom.constant dense<9.0> : tensor<f32>
  %three = loom.sqrt(%nine) : (tensor<f32>) -> tensor<f32>
  return %one, %three : tensor<f32>, tensor<f32>
}

// -----

// A causal mask as exporters build it: the rows of Trilu(ConstantOfShape
// ([t, t])) a run needs. The slice folds without the t x t triangle (here
// 300 x 300, beyond the fold limit of 65536 elements): the last row of a
// lower triangle, kept up to the diagonal.
// CHECK-LABEL: func @fold_slice_of_splat_triangle
// CHECK-NEXT: %[[M:.*]] = loom.constant dense<true> : tensor<1x300xi1>
// CHECK-NEXT: return %[[M]]
func.func @fold_slice_of_splat_triangle() -> tensor<1x300xi1> {
  %shape = loom.constant dense<[300, 300]> : tensor<2xi64>
  %ones = loom.constant_of_shape(%shape) {value = dense<true> : tensor<1xi1>} : (tensor<2xi64>) -> tensor<300x300xi1>
  %none = loom.none
  %tri = loom.trilu(%ones, %none) {upper = 0 : i64} : (tensor<300x300xi1>, none) -> tensor<300x300xi1>
  %start = loom.constant dense<[299]> : tensor<1xi64>
  %end = loom.constant dense<[300]> : tensor<1xi64>
  %axis = loom.constant dense<[0]> : tensor<1xi64>
  %row = loom.slice(%tri, %start, %end, %axis, %none) : (tensor<300x300xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<1x300xi1>
  return %row : tensor<1x300xi1>
}

// -----

// Rows 1 and 2, columns 0..3 of an upper triangle with k = 1 over
// a fill of 2.5: kept where column - row >= 1.
// CHECK-LABEL: func @fold_slice_of_upper_triangle_with_k
// CHECK-NEXT: %[[M:.*]] = loom.constant dense<{{\[}}[0.000000e+00, 0.000000e+00, 2.500000e+00, 2.500000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00, 2.500000e+00]]> : tensor<2x4xf32>
// CHECK-NEXT: return %[[M]]
func.func @fold_slice_of_upper_triangle_with_k() -> tensor<2x4xf32> {
  %shape = loom.constant dense<[400, 400]> : tensor<2xi64>
  %fill = loom.constant_of_shape(%shape) {value = dense<2.5> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<400x400xf32>
  %k = loom.constant dense<1> : tensor<i64>
  %tri = loom.trilu(%fill, %k) : (tensor<400x400xf32>, tensor<i64>) -> tensor<400x400xf32>
  %start = loom.constant dense<[1, 0]> : tensor<2xi64>
  %end = loom.constant dense<[3, 4]> : tensor<2xi64>
  %none = loom.none
  %sub = loom.slice(%tri, %start, %end, %none, %none) : (tensor<400x400xf32>, tensor<2xi64>, tensor<2xi64>, none, none) -> tensor<2x4xf32>
  return %sub : tensor<2x4xf32>
}

// -----

// A triangle of a non-splat tensor is not described: the slice stays.
// CHECK-LABEL: func @no_fold_slice_of_triangle_of_input
// CHECK: loom.trilu
// CHECK: loom.slice
func.func @no_fold_slice_of_triangle_of_input(%x: tensor<300x300xf32>) -> tensor<1x300xf32> {
  %none = loom.none
  %tri = loom.trilu(%x, %none) : (tensor<300x300xf32>, none) -> tensor<300x300xf32>
  %start = loom.constant dense<[0]> : tensor<1xi64>
  %end = loom.constant dense<[1]> : tensor<1xi64>
  %row = loom.slice(%tri, %start, %end, %none, %none) : (tensor<300x300xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<1x300xf32>
  return %row : tensor<1x300xf32>
}
