// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(loom-unroll-control-flow))' | FileCheck %s
// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(loom-unroll-control-flow,loom-propagate-shapes,canonicalize))' | FileCheck %s --check-prefix=PROP

// A constant trip count: the body runs three times, each iteration on the
// value the previous one carried.
// CHECK-LABEL: func @unroll_carried
// CHECK-NOT: loom.loop
// CHECK: %[[N0:.*]] = loom.neg(%arg0)
// CHECK: %[[N1:.*]] = loom.neg(%[[N0]])
// CHECK: %[[N2:.*]] = loom.neg(%[[N1]])
// CHECK-NOT: loom.neg
// CHECK: return %[[N2]] : tensor<2xf32>
func.func @unroll_carried(%x: tensor<2xf32>) -> tensor<2xf32> {
  %m = loom.constant dense<3> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.neg(%v) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %n : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Scan outputs are stacked along a new axis 0; the iteration number becomes
// a constant that folds into the body. The importer's dynamic result type
// becomes static and the function signature follows.
// CHECK-LABEL: func @unroll_scan_output
// CHECK-SAME: -> (tensor<2xf32>, tensor<3x2xf32>)
// CHECK-NOT: loom.loop
// CHECK: %[[F0:.*]] = loom.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[A0:.*]] = loom.add(%arg0, %[[F0]])
// CHECK: %[[F1:.*]] = loom.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[A1:.*]] = loom.add(%[[A0]], %[[F1]])
// CHECK: %[[F2:.*]] = loom.constant dense<2.000000e+00> : tensor<f32>
// CHECK: %[[A2:.*]] = loom.add(%[[A1]], %[[F2]])
// CHECK: %[[AX:.*]] = loom.constant dense<0> : tensor<1xi64>
// CHECK: %[[U0:.*]] = loom.unsqueeze(%[[A0]], %[[AX]]) : (tensor<2xf32>, tensor<1xi64>) -> tensor<1x2xf32>
// CHECK: %[[U1:.*]] = loom.unsqueeze(%[[A1]], %[[AX]])
// CHECK: %[[U2:.*]] = loom.unsqueeze(%[[A2]], %[[AX]])
// CHECK: %[[S:.*]] = loom.concat(%[[U0]], %[[U1]], %[[U2]]) {axis = 0 : i64} : ({{.*}}) -> tensor<3x2xf32>
// CHECK: return %[[A2]], %[[S]] : tensor<2xf32>, tensor<3x2xf32>
func.func @unroll_scan_output(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  %m = loom.constant dense<3> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %r:2 = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %f = loom.cast(%i) {to = f32} : (tensor<i64>) -> tensor<f32>
    %s = loom.add(%v, %f) : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    loom.yield %c, %s, %s : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>)
  return %r#0, %r#1 : tensor<2xf32>, tensor<?x2xf32>
}

// -----

// cond_out = iter_num < 2 folds in every iteration: the loop stops after the
// iteration that computes false (i = 2), well before M = 10.
// CHECK-LABEL: func @unroll_early_exit
// CHECK-NOT: loom.loop
// CHECK-NOT: loom.less
// CHECK: %[[N0:.*]] = loom.neg(%arg0)
// CHECK: %[[N1:.*]] = loom.neg(%[[N0]])
// CHECK: %[[N2:.*]] = loom.neg(%[[N1]])
// CHECK-NOT: loom.neg
// CHECK: return %[[N2]]
func.func @unroll_early_exit(%x: tensor<2xf32>) -> tensor<2xf32> {
  %m = loom.constant dense<10> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %two = loom.constant dense<2> : tensor<i64>
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.neg(%v) : (tensor<2xf32>) -> tensor<2xf32>
    %more = loom.less(%i, %two) : (tensor<i64>, tensor<i64>) -> tensor<i1>
    loom.yield %more, %n : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// No M: a while loop whose condition folds. It runs for i = 0..3 (the
// iteration i = 3 computes false) and its scan output has four rows.
// CHECK-LABEL: func @unroll_while
// CHECK-SAME: -> tensor<4xi64>
// CHECK-NOT: loom.loop
// CHECK: %[[R:.*]] = loom.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK: return %[[R]] : tensor<4xi64>
// PROP-LABEL: func @unroll_while
// PROP-SAME: -> tensor<4xi64>
func.func @unroll_while() -> tensor<?xi64> {
  %none = loom.none
  %t = loom.constant dense<true> : tensor<i1>
  %three = loom.constant dense<3> : tensor<i64>
  %r = loom.loop(%none, %t) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>):
    %more = loom.less(%i, %three) : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %id = loom.identity(%i) : (tensor<i64>) -> tensor<i64>
    loom.yield %more, %id : tensor<i1>, tensor<i64>
  } : (none, tensor<i1>) -> tensor<?xi64>
  return %r : tensor<?xi64>
}

// -----

// A body that uses a value of the enclosing scope keeps using it.
// CHECK-LABEL: func @unroll_outer_value
// CHECK-NOT: loom.loop
// CHECK: %[[A0:.*]] = loom.add(%arg0, %arg1)
// CHECK: %[[A1:.*]] = loom.add(%[[A0]], %arg1)
// CHECK: return %[[A1]]
func.func @unroll_outer_value(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {
  %m = loom.constant dense<2> : tensor<i64>
  %none = loom.none
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %s = loom.add(%v, %y) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %s : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Zero iterations: the initial values come out and a scan output is an empty
// constant of the body's element shape.
// CHECK-LABEL: func @unroll_zero_trip
// CHECK-SAME: -> (tensor<2xf32>, tensor<0x2xf32>)
// CHECK-NOT: loom.loop
// CHECK-NOT: loom.neg
// CHECK: %[[E:.*]] = loom.constant dense<> : tensor<0x2xf32>
// CHECK: return %arg0, %[[E]] : tensor<2xf32>, tensor<0x2xf32>
func.func @unroll_zero_trip(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  %m = loom.constant dense<0> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %r:2 = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.neg(%v) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %n, %n : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>)
  return %r#0, %r#1 : tensor<2xf32>, tensor<?x2xf32>
}

// -----

// The inner loop's trip count is the outer iteration number + 1: it becomes
// a constant once the outer loop is unrolled (1 + 2 inner iterations).
// CHECK-LABEL: func @unroll_nested
// CHECK-NOT: loom.loop
// CHECK: %[[N0:.*]] = loom.neg(%arg0)
// CHECK: %[[N1:.*]] = loom.neg(%[[N0]])
// CHECK: %[[N2:.*]] = loom.neg(%[[N1]])
// CHECK-NOT: loom.neg
// CHECK: return %[[N2]]
func.func @unroll_nested(%x: tensor<2xf32>) -> tensor<2xf32> {
  %m = loom.constant dense<2> : tensor<i64>
  %one = loom.constant dense<1> : tensor<i64>
  %none = loom.none
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.add(%i, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %inner = loom.loop(%n, %none, %v) {
    ^bb0(%j: tensor<i64>, %d: tensor<i1>, %w: tensor<2xf32>):
      %neg = loom.neg(%w) : (tensor<2xf32>) -> tensor<2xf32>
      loom.yield %d, %neg : tensor<i1>, tensor<2xf32>
    } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %inner : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// A trip count that is a graph input is not known: the loop stays.
// CHECK-LABEL: func @negative_unknown_trip_count
// CHECK: loom.loop
func.func @negative_unknown_trip_count(%m: tensor<i64>, %x: tensor<2xf32>) -> tensor<2xf32> {
  %t = loom.constant dense<true> : tensor<i1>
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.neg(%v) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %n : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// A condition computed from data does not fold: the loop stays and the
// iterations cloned before that was found out are removed again.
// CHECK-LABEL: func @negative_data_dependent_cond
// CHECK-NEXT: loom.constant dense<4>
// CHECK-NEXT: loom.constant dense<true>
// CHECK-NEXT: loom.loop
func.func @negative_data_dependent_cond(%x: tensor<f32>, %lim: tensor<f32>) -> tensor<f32> {
  %m = loom.constant dense<4> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %r = loom.loop(%m, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<f32>):
    %n = loom.neg(%v) : (tensor<f32>) -> tensor<f32>
    %more = loom.less(%n, %lim) : (tensor<f32>, tensor<f32>) -> tensor<i1>
    loom.yield %more, %n : tensor<i1>, tensor<f32>
  } : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// Neither M nor cond: an infinite loop stays.
// CHECK-LABEL: func @negative_infinite
// CHECK: loom.loop
func.func @negative_infinite(%x: tensor<2xf32>) -> tensor<2xf32> {
  %none = loom.none
  %r = loom.loop(%none, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.neg(%v) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %n : tensor<i1>, tensor<2xf32>
  } : (none, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @negative_too_many_iterations(%x: tensor<2xf32>) -> tensor<2xf32> {
  %m = loom.constant dense<5000> : tensor<i64>
  %none = loom.none
  // expected-error @+1 {{loop trip count 5000 exceeds max-iterations=4096}}
  %r = loom.loop(%m, %none, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %n = loom.neg(%v) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %c, %n : tensor<i1>, tensor<2xf32>
  } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// A condition that stays true is found out after max-iterations iterations.
func.func @negative_condition_stays_true(%x: tensor<2xf32>) -> tensor<2xf32> {
  %none = loom.none
  %t = loom.constant dense<true> : tensor<i1>
  // expected-error @+1 {{loop trip count exceeds max-iterations=4096 (the condition is still true after 4096 iterations)}}
  %r = loom.loop(%none, %t, %x) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    loom.yield %c, %v : tensor<i1>, tensor<2xf32>
  } : (none, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// A forward scan: the scan input is sliced with a scalar-index gather per
// iteration and the scan output is stacked along axis 0.
// CHECK-LABEL: func @unroll_scan
// CHECK-NOT: loom.scan
// CHECK: %[[I0:.*]] = loom.constant dense<0> : tensor<i64>
// CHECK: %[[G0:.*]] = loom.gather(%arg1, %[[I0]]) {{.*}} -> tensor<2xf32>
// CHECK: %[[S0:.*]] = loom.add(%arg0, %[[G0]])
// CHECK: %[[I1:.*]] = loom.constant dense<1> : tensor<i64>
// CHECK: %[[G1:.*]] = loom.gather(%arg1, %[[I1]])
// CHECK: %[[S1:.*]] = loom.add(%[[S0]], %[[G1]])
// CHECK: %[[I2:.*]] = loom.constant dense<2> : tensor<i64>
// CHECK: %[[G2:.*]] = loom.gather(%arg1, %[[I2]])
// CHECK: %[[S2:.*]] = loom.add(%[[S1]], %[[G2]])
// CHECK: %[[U0:.*]] = loom.unsqueeze(%[[S0]]
// CHECK: %[[U1:.*]] = loom.unsqueeze(%[[S1]]
// CHECK: %[[U2:.*]] = loom.unsqueeze(%[[S2]]
// CHECK: %[[C:.*]] = loom.concat(%[[U0]], %[[U1]], %[[U2]]) {axis = 0 : i64} {{.*}} -> tensor<3x2xf32>
// CHECK: return %[[S2]], %[[C]] : tensor<2xf32>, tensor<3x2xf32>
func.func @unroll_scan(%init: tensor<2xf32>, %x: tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  %r:2 = loom.scan(%init, %x) {
  ^bb0(%sum: tensor<2xf32>, %next: tensor<2xf32>):
    %s = loom.add(%sum, %next) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    loom.yield %s, %s : tensor<2xf32>, tensor<2xf32>
  } {num_scan_inputs = 1 : i64} : (tensor<2xf32>, tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>)
  return %r#0, %r#1 : tensor<2xf32>, tensor<3x2xf32>
}

// -----

// A reverse scan along axis 1 whose output is also reversed and stacked along
// axis 1: the input is read from the last column and the output's column k is
// the value of iteration 2 - k.
// CHECK-LABEL: func @unroll_scan_reverse
// CHECK-SAME: -> tensor<2x3xf32>
// CHECK-NOT: loom.scan
// CHECK: %[[I2:.*]] = loom.constant dense<2> : tensor<i64>
// CHECK: %[[G2:.*]] = loom.gather(%arg0, %[[I2]]) {axis = 1 : i64} {{.*}} -> tensor<2xf32>
// CHECK: %[[N0:.*]] = loom.neg(%[[G2]])
// CHECK: %[[I1:.*]] = loom.constant dense<1> : tensor<i64>
// CHECK: %[[G1:.*]] = loom.gather(%arg0, %[[I1]]) {axis = 1 : i64}
// CHECK: %[[N1:.*]] = loom.neg(%[[G1]])
// CHECK: %[[I0:.*]] = loom.constant dense<0> : tensor<i64>
// CHECK: %[[G0:.*]] = loom.gather(%arg0, %[[I0]]) {axis = 1 : i64}
// CHECK: %[[N2:.*]] = loom.neg(%[[G0]])
// CHECK: %[[AX:.*]] = loom.constant dense<1> : tensor<1xi64>
// CHECK: %[[U2:.*]] = loom.unsqueeze(%[[N2]], %[[AX]]) {{.*}} -> tensor<2x1xf32>
// CHECK: %[[U1:.*]] = loom.unsqueeze(%[[N1]], %[[AX]])
// CHECK: %[[U0:.*]] = loom.unsqueeze(%[[N0]], %[[AX]])
// CHECK: %[[C:.*]] = loom.concat(%[[U2]], %[[U1]], %[[U0]]) {axis = 1 : i64} {{.*}} -> tensor<2x3xf32>
// CHECK: return %[[C]] : tensor<2x3xf32>
func.func @unroll_scan_reverse(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %r = loom.scan(%x) {
  ^bb0(%col: tensor<2xf32>):
    %n = loom.neg(%col) : (tensor<2xf32>) -> tensor<2xf32>
    loom.yield %n : tensor<2xf32>
  } {num_scan_inputs = 1 : i64, scan_input_axes = array<i64: 1>,
     scan_input_directions = array<i64: 1>, scan_output_axes = array<i64: -1>,
     scan_output_directions = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// A scan whose length is not static stays.
// CHECK-LABEL: func @negative_scan_dynamic_length
// CHECK: loom.scan
func.func @negative_scan_dynamic_length(%init: tensor<2xf32>, %x: tensor<?x2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  %r:2 = loom.scan(%init, %x) {
  ^bb0(%sum: tensor<2xf32>, %next: tensor<2xf32>):
    %s = loom.add(%sum, %next) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    loom.yield %s, %s : tensor<2xf32>, tensor<2xf32>
  } {num_scan_inputs = 1 : i64} : (tensor<2xf32>, tensor<?x2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>)
  return %r#0, %r#1 : tensor<2xf32>, tensor<?x2xf32>
}

// -----

// An unrolling abandoned after an iteration was cloned (the condition comes
// out of an If on computed values) erases what it cloned and leaves the loop
// for run time; the carried argument takes the initial value's type.
// CHECK-LABEL: func @abandoned_after_clone
// CHECK-NOT: loom.gemm
// CHECK: loom.loop
// CHECK-NEXT: ^bb0(%{{.*}}: tensor<i64>, %{{.*}}: tensor<i1>, %{{.*}}: tensor<2x4xf32>, %{{.*}}: tensor<i64>):
// CHECK: loom.gemm
// CHECK: loom.if
func.func @abandoned_after_clone(%x: tensor<2x4xf32>, %w: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %m = loom.constant dense<20> : tensor<i64>
  %t = loom.constant dense<true> : tensor<i1>
  %f = loom.constant dense<false> : tensor<i1>
  %zero = loom.constant dense<0> : tensor<i64>
  %one = loom.constant dense<1> : tensor<i64>
  %eps = loom.constant dense<1.0e-3> : tensor<f32>
  %none = loom.none
  %r:2 = loom.loop(%m, %t, %x, %zero) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<?x4xf32>, %n: tensor<i64>):
    %g = loom.gemm(%v, %w, %none) : (tensor<?x4xf32>, tensor<4x4xf32>, none) -> tensor<?x4xf32>
    %a = loom.abs(%g) : (tensor<?x4xf32>) -> tensor<?x4xf32>
    %s = loom.reduce_max(%a) {keepdims = 0 : i64} : (tensor<?x4xf32>) -> tensor<f32>
    %n1 = loom.add(%n, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %big = loom.greater(%s, %eps) : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %k = loom.if(%big) {
      loom.yield %big : tensor<i1>
    } {
      loom.yield %f : tensor<i1>
    } : (tensor<i1>) -> tensor<i1>
    loom.yield %k, %g, %n1 : tensor<i1>, tensor<?x4xf32>, tensor<i64>
  } : (tensor<i64>, tensor<i1>, tensor<2x4xf32>, tensor<i64>) -> (tensor<2x4xf32>, tensor<i64>)
  return %r#0 : tensor<2x4xf32>
}
