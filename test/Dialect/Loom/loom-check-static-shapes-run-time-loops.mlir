// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-check-static-shapes))' | FileCheck %s
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-check-static-shapes{max-trip-count=8}))' | FileCheck %s --check-prefix=BOUND

// A loop whose trip count is known only at run time stays for the plan's
// run-time loop, with its bound recorded: a constant M, or max-trip-count
// (the smaller of the two).

// CHECK-LABEL: func @constant_m_computed_cond
// CHECK: loom.loop
// CHECK: loom.max_trip_count = 3 : i64
// BOUND-LABEL: func @constant_m_computed_cond
// BOUND: loom.max_trip_count = 3 : i64
func.func @constant_m_computed_cond(%x: tensor<f32>) -> tensor<f32> {
  %m = loom.constant dense<3> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<f32>):
    %more = loom.less(%v, %v) : (tensor<f32>, tensor<f32>) -> tensor<i1>
    loom.yield %more, %v : tensor<i1>, tensor<f32>
  } : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// CHECK-LABEL: func @large_constant_m
// CHECK: loom.max_trip_count = 100 : i64
// BOUND-LABEL: func @large_constant_m
// BOUND: loom.max_trip_count = 8 : i64
func.func @large_constant_m(%x: tensor<f32>, %a: tensor<i1>) -> tensor<f32> {
  %m = loom.constant dense<100> : tensor<i64>
  %r = loom.loop(%m, %a, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<f32>):
    loom.yield %c, %v : tensor<i1>, tensor<f32>
  } : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}
