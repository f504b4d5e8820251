// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(loom-check-static-shapes))'

// A loop that loom-unroll-control-flow left runs at run time only with a
// bound on its trip count (a constant M, or the max-trip-count option), no
// scan outputs and loop-invariant carried types; a scan left is an error.
// The cases that pass are in loom-check-static-shapes-run-time-loops.mlir.

func.func @negative_loop_input_trip_count(%m: tensor<i64> {loom.name = "trip_count"}, %x: tensor<2xf32>) -> tensor<2xf32> {
  %t = loom.constant dense<true> : tensor<i1>
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: it depends on input 'trip_count') and it has no bound: give one with --max-trip-count N; or bind the inputs it depends on with --const-input}}
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
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
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: 'loom.relu' computes it from constants but does not fold) and it has no bound: give one with --max-trip-count N}}
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
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: it is computed by 'loom.add') and it has no bound: give one with --max-trip-count N; or bind the inputs it depends on with --const-input}}
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %cond, %v : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_loop_scan_outputs(%m: tensor<i64>, %x: tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  %none = loom.none
  // expected-error @+1 {{loop trip count is not known at compile time (M is not a constant: it depends on input #0) and it has scan outputs, whose length would depend on the run; or bind the inputs it depends on with --const-input}}
  %r:2 = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v, %v : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>)
  return %r#0, %r#1 : tensor<2xf32>, tensor<3x2xf32>
}

// -----

func.func @negative_loop_carried_type_changes(%x: tensor<2xf32>, %a: tensor<i1>) -> tensor<2xf32> {
  %m = loom.constant dense<3> : tensor<i64>
  // expected-error @+1 {{loop trip count is not known at compile time (cond is not a constant: it depends on input #1) and loop-carried value 0 does not keep one static type across iterations ('tensor<2xf32>' initially, 'tensor<?xf32>' after an iteration); a run-time loop needs one}}
  %r = loom.loop(%m, %a, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %w = loom.concat(%v, %v) {axis = 0 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<?xf32>
    loom.yield %c, %w : tensor<i1>, tensor<?xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_if_branch_types_differ(%c: tensor<i1>, %x: tensor<2xf32>, %y: tensor<3xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{the branches of an If whose condition is known only at run time yield different types for result 0: 'tensor<2xf32>' and 'tensor<3xf32>' (a plan needs one static type; bind the inputs the condition depends on with --const-input)}}
  %r = loom.if(%c) {
    loom.yield %x : tensor<2xf32>
  } {
    loom.yield %y : tensor<3xf32>
  } : (tensor<i1>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}
