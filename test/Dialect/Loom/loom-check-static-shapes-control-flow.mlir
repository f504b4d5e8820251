// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(loom-check-static-shapes))'

// The runtime has no control flow: a loop or scan that
// loom-unroll-control-flow left is an error, whatever its types.

func.func @negative_loop_input_trip_count(%m: tensor<i64> {loom.name = "trip_count"}, %x: tensor<2xf32>) -> tensor<2xf32> {
  %t = loom.constant dense<true> : tensor<i1>
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: it depends on input 'trip_count'); bind the inputs it depends on with --const-input}}
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_loop_computed_cond(%x: tensor<2xf32>, %a: tensor<i64>) -> tensor<2xf32> {
  %m = loom.constant dense<3> : tensor<i64>
  %z = loom.constant dense<0> : tensor<i64>
  %t = loom.less(%a, %z) : (tensor<i64>, tensor<i64>) -> tensor<i1>
  // expected-error @+1 {{loop trip count is not known at compile time (cond is not a constant: it depends on input #1)}}
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_loop_data_dependent_cond_out(%x: tensor<f32>) -> tensor<f32> {
  %m = loom.constant dense<3> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  // expected-error @+1 {{loop trip count is not known at compile time (the body's cond_out does not fold to a constant)}}
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<f32>):
    %more = loom.less(%v, %v) : (tensor<f32>, tensor<f32>) -> tensor<i1>
    loom.yield %more, %v : tensor<i1>, tensor<f32>
  } : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}

// -----

func.func @negative_loop_infinite(%x: tensor<2xf32>) -> tensor<2xf32> {
  %none = loom.none
  // expected-error @+1 {{loop trip count is not known at compile time (it has neither M nor cond: an infinite loop)}}
  %r = loom.loop(%none, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v : tensor<i1>, tensor<2xf32>
  } : (none, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_scan(%init: tensor<2xf32>, %x: tensor<3x2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{scan length is not known at compile time; bind the shapes of its scan inputs with --input-shape or --dim}}
  %r = loom.scan(%init, %x) {
  ^bb0(%sum: tensor<2xf32>, %next: tensor<2xf32>):
    loom.yield %sum : tensor<2xf32>
  } {num_scan_inputs = 1 : i64} : (tensor<2xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_loop_unfolded_trip_count(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = loom.constant dense<3.0> : tensor<f32>
  %r0 = loom.relu(%c) : (tensor<f32>) -> tensor<f32>
  %m = loom.cast(%r0) {to = i64} : (tensor<f32>) -> tensor<i64>
  %none = loom.none
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: 'loom.relu' computes it from constants but does not fold)}}
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %cond, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_loop_two_inputs(%x: tensor<2xf32>, %a: tensor<i64>, %b: tensor<i64>) -> tensor<2xf32> {
  %m = loom.add(%a, %b) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %none = loom.none
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: it is computed by 'loom.add')}}
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %cond, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}
