// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-check-static-shapes{max-trip-count=5}))' | FileCheck %s

// With max-trip-count, a loop whose trip count is an input runs at run time
// within that bound.

// CHECK-LABEL: func @input_trip_count
// CHECK: loom.loop
// CHECK: loom.max_trip_count = 5 : i64
func.func @input_trip_count(%m: tensor<i64> {loom.name = "trip_count"}, %x: tensor<2xf32>) -> tensor<2xf32> {
  %none = loom.none
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}
