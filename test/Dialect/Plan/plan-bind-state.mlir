// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-from-loom '-plan-bind-state=bind=past=present' | FileCheck %s
// An entry that is not INPUT=OUTPUT, and an output the plan does not have:
// RUN: not loom-opt %s -split-input-file -plan-from-loom '-plan-bind-state=bind=past' 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: error: plan-bind-state: 'past' is not INPUT=OUTPUT
// RUN: not loom-opt %s -split-input-file -plan-from-loom '-plan-bind-state=bind=past=cache' 2>&1 | FileCheck %s --check-prefix=NOOUTPUT
// NOOUTPUT: error: plan-bind-state: the plan has no graph output 'cache'

// A KV cache: present = Concat(past, new) along the sequence axis. The
// output becomes a plan.state, the input is gone, and the concat writes the
// new entries alone at the past's extent (6); the reader of present reads
// the state.

// CHECK-LABEL: plan.schedule @main
// CHECK-NOT: plan.input "past"
// CHECK: %[[S:.*]] = plan.state {name = "present"} : memref<1x2x8x4xf32>
// CHECK: %[[W:.*]] = plan.task "state_write" on @cpu[0] ins(%[[NEW:.*]] : memref<1x2x2x4xf32>) outs(%[[S]] : memref<1x2x8x4xf32>) after(%{{.*}}) {kernel_attrs = {axis = 2 : i64, offset = 6 : i64}, name = "cat", ops = ["cat"]}
// CHECK: plan.task "reduce_sum" on @cpu[0] ins(%[[S]], %{{.*}} : memref<1x2x8x4xf32>, memref<1xi64>) {{.*}} after(%[[W]])
// CHECK: plan.output "present" %[[S]] : memref<1x2x8x4xf32>
// CHECK-NOT: plan.alloc @cpu_mem {name = "past"}
module {
  func.func @main(%x: tensor<1x2x2x4xf32> {loom.name = "x"},
                  %past: tensor<1x2x6x4xf32> {loom.name = "past"})
      -> (tensor<1x2x8x4xf32> {loom.name = "present"},
          tensor<1x2x1x4xf32> {loom.name = "y"}) {
    %new = loom.neg(%x) : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> loc("new")
    %present = loom.concat(%past, %new) {axis = -2 : i64} : (tensor<1x2x6x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x8x4xf32> loc("cat")
    %axes = loom.constant dense<2> : tensor<1xi64>
    %y = loom.reduce_sum(%present, %axes) {keepdims = 1 : i64} : (tensor<1x2x8x4xf32>, tensor<1xi64>) -> tensor<1x2x1x4xf32> loc("sum")
    return %present, %y : tensor<1x2x8x4xf32>, tensor<1x2x1x4xf32>
  }
}

// -----

// An empty past that nothing reads (the concat folded away): the task that
// writes present writes the state.

// CHECK-LABEL: plan.schedule @main
// CHECK-NOT: plan.input "past"
// CHECK: %[[S:.*]] = plan.state {name = "present"} : memref<1x2x2x4xf32>
// CHECK: plan.task "neg" on @cpu[0] ins(%{{.*}} : memref<1x2x2x4xf32>) outs(%[[S]] : memref<1x2x2x4xf32>)
// CHECK: plan.output "present" %[[S]]
module {
  func.func @main(%x: tensor<1x2x2x4xf32> {loom.name = "x"},
                  %past: tensor<1x2x0x4xf32> {loom.name = "past"})
      -> (tensor<1x2x2x4xf32> {loom.name = "present"}) {
    %new = loom.neg(%x) : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> loc("new")
    return %new : tensor<1x2x2x4xf32>
  }
}

// -----

// The past is read by something besides the concat: keeping the cache in
// place would change what that reader sees.

module {
  // expected-error@below {{'past' cannot be kept in place: expected 'present' = Concat('past', new entries) along axis 2 with 'past' read by nothing else; it is read by 2 tasks (first 'sum', kernel reduce_sum)}}
  func.func @main(%x: tensor<1x2x2x4xf32> {loom.name = "x"},
                  %past: tensor<1x2x6x4xf32> {loom.name = "past"})
      -> (tensor<1x2x8x4xf32> {loom.name = "present"},
          tensor<1x2x1x4xf32> {loom.name = "y"}) {
    %axes = loom.constant dense<2> : tensor<1xi64>
    %y = loom.reduce_sum(%past, %axes) {keepdims = 1 : i64} : (tensor<1x2x6x4xf32>, tensor<1xi64>) -> tensor<1x2x1x4xf32> loc("sum")
    %present = loom.concat(%past, %x) {axis = 2 : i64} : (tensor<1x2x6x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x8x4xf32> loc("cat")
    return %present, %y : tensor<1x2x8x4xf32>, tensor<1x2x1x4xf32>
  }
}

// -----

// The new entries come first: the cache would not stay where it is.

module {
  // expected-error@below {{'past' cannot be kept in place: expected 'present' = Concat('past', new entries) along axis 2 with 'past' read by nothing else; it is read by 1 task (first 'cat', kernel concat)}}
  func.func @main(%x: tensor<1x2x2x4xf32> {loom.name = "x"},
                  %past: tensor<1x2x6x4xf32> {loom.name = "past"})
      -> (tensor<1x2x8x4xf32> {loom.name = "present"}) {
    %present = loom.concat(%x, %past) {axis = 2 : i64} : (tensor<1x2x2x4xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x8x4xf32> loc("cat")
    return %present : tensor<1x2x8x4xf32>
  }
}

// -----

// Shapes that do not grow along one axis.

module {
  // expected-error@below {{'past' (memref<1x2x6x4xf32>) and 'present' (memref<1x2x8x8xf32>) must differ in one dimension only, the output's larger}}
  func.func @main(%x: tensor<1x2x8x8xf32> {loom.name = "x"},
                  %past: tensor<1x2x6x4xf32> {loom.name = "past"})
      -> (tensor<1x2x8x8xf32> {loom.name = "present"}) {
    %present = loom.neg(%x) : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
    return %present : tensor<1x2x8x8xf32>
  }
}

// -----

// A binding that names no input.

// expected-error@below {{plan-bind-state: the plan has no graph input 'past'}}
module {
  func.func @main(%x: tensor<2xf32> {loom.name = "x"}) -> (tensor<2xf32> {loom.name = "present"}) {
    %y = loom.neg(%x) : (tensor<2xf32>) -> tensor<2xf32>
    return %y : tensor<2xf32>
  }
}
