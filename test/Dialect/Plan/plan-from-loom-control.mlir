// RUN: loom-opt %s -split-input-file -plan-from-loom | FileCheck %s

// An If or Loop decided at run time becomes a control task: its regions'
// ops become tasks in its bodies (no events), every value a body computes
// gets its own buffer in the schedule's body, the control task's inputs are
// its operands plus the outer buffers the bodies read, and each body ends
// with a plan.yield of its params and results.

// CHECK-LABEL: plan.schedule @main
// CHECK: %[[C:.*]] = plan.alloc @cpu_mem {name = "c"} : memref<i1>
// CHECK: %[[X:.*]] = plan.alloc @cpu_mem {name = "x"} : memref<2xf32>
// CHECK: %[[W:.*]] = plan.weight dense<2.000000e+00> : tensor<2xf32> : memref<2xf32>
// CHECK: %[[Y:.*]] = plan.alloc @cpu_mem {name = "y"} : memref<2xf32>
// CHECK: %[[T:.*]] = plan.alloc @cpu_mem {name = "mul#1"} : memref<2xf32>
// CHECK: plan.task "if" on @cpu[0] ins(%[[C]], %[[X]] : memref<i1>, memref<2xf32>) outs(%[[Y]] : memref<2xf32>) bodies {
// CHECK-NEXT: plan.task "mul" on @cpu[0] ins(%[[X]], %[[W]] : memref<2xf32>, memref<2xf32>) outs(%[[T]] : memref<2xf32>) {
// CHECK-NEXT: plan.yield "then_branch" results(%[[T]] : memref<2xf32>)
// CHECK-NEXT: }, {
// CHECK-NEXT: plan.yield "else_branch" results(%[[X]] : memref<2xf32>)
// CHECK-NEXT: } {{{.*}}kernel_attrs = {}, name = "if#2"
// CHECK: plan.output "y" %[[Y]]
module {
  func.func @main(%c: tensor<i1> {loom.name = "c"}, %x: tensor<2xf32> {loom.name = "x"}) -> (tensor<2xf32> {loom.name = "y"}) {
    %w = loom.constant dense<2.0> : tensor<2xf32>
    %y = loom.if(%c) {
      %t = loom.mul(%x, %w) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
      loom.yield %t : tensor<2xf32>
    } {
      loom.yield %x : tensor<2xf32>
    } : (tensor<i1>) -> tensor<2xf32>
    return %y : tensor<2xf32>
  }
}

// -----

// A loop: inputs M, cond (none), the initial value; params the iteration
// number, the condition and the carried value; a result the body passes
// through (the condition) is copied by an identity task.
// CHECK-LABEL: plan.schedule @main
// CHECK: %[[NONE:.*]] = plan.none
// CHECK: %[[M:.*]] = plan.alloc @cpu_mem {name = "m"} : memref<i64>
// CHECK: %[[X:.*]] = plan.alloc @cpu_mem {name = "x"} : memref<2xf32>
// CHECK: %[[ITER:.*]] = plan.alloc @cpu_mem {name = "loop#2:body:arg0"} : memref<i64>
// CHECK: %[[CIN:.*]] = plan.alloc @cpu_mem {name = "loop#2:body:arg1"} : memref<i1>
// CHECK: %[[V:.*]] = plan.alloc @cpu_mem {name = "loop#2:body:arg2"} : memref<2xf32>
// CHECK: %[[NEXT:.*]] = plan.alloc @cpu_mem {name = "add#1"} : memref<2xf32>
// CHECK: %[[COUT:.*]] = plan.alloc @cpu_mem {name = "loop#2:body:result0"} : memref<i1>
// CHECK: plan.task "loop" on @cpu[0] ins(%[[M]], %[[NONE]], %[[X]] : memref<i64>, none, memref<2xf32>) outs(%{{.*}} : memref<2xf32>) bodies {
// CHECK-NEXT: plan.task "add" on @cpu[0] ins(%[[V]], %[[V]] : memref<2xf32>, memref<2xf32>) outs(%[[NEXT]] : memref<2xf32>)
// CHECK-NEXT: plan.task "identity" on @cpu[0] ins(%[[CIN]] : memref<i1>) outs(%[[COUT]] : memref<i1>)
// CHECK-NEXT: plan.yield "body" params(%[[ITER]], %[[CIN]], %[[V]] : memref<i64>, memref<i1>, memref<2xf32>) results(%[[COUT]], %[[NEXT]] : memref<i1>, memref<2xf32>)
// CHECK-NEXT: } {{{.*}}kernel_attrs = {max_trip_count = 4 : i64, num_carried = 1 : i64}
module {
  func.func @main(%m: tensor<i64> {loom.name = "m"}, %x: tensor<2xf32> {loom.name = "x"}) -> (tensor<2xf32> {loom.name = "y"}) {
    %none = loom.none
    %y = loom.loop(%m, %none, %x) {
    ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
      %n = loom.add(%v, %v) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
      loom.yield %c, %n : tensor<i1>, tensor<2xf32>
    } {loom.max_trip_count = 4 : i64} : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
    return %y : tensor<2xf32>
  }
}
