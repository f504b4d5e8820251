// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-schedule | FileCheck %s

// A task starts when its queue is free and its events are signalled:
//   a: cpu[0], 2 us, no deps        -> [0, 2]
//   b: npu[0], 3 us, after a        -> [2, 5]
//   c: cpu[0], 1 us, no deps        -> [2, 3]   (queue busy until 2)
//   d: npu[1], 1 us, after c        -> [3, 4]   (other npu queue is free)
//   e: cpu[0], 4 us, after b and d  -> [5, 9]
// makespan 9. Lower bound: cheapest costs a 2, b 3, c 1, d 1, e 4; critical
// path a -> b -> e = 9; total 11 over 3 queues = 3.7; bound 9.

// CHECK-LABEL: plan.schedule @main attributes {lower_bound_us = 9.000000e+00 : f64, makespan_us = 9.000000e+00 : f64}
// CHECK: end_us = 2.000000e+00 : f64, {{.*}}name = "a", ops = [], start_us = 0.000000e+00 : f64}
// CHECK: end_us = 5.000000e+00 : f64, {{.*}}name = "b", ops = [], start_us = 2.000000e+00 : f64}
// CHECK: end_us = 3.000000e+00 : f64, {{.*}}name = "c", ops = [], start_us = 2.000000e+00 : f64}
// CHECK: end_us = 4.000000e+00 : f64, {{.*}}name = "d", ops = [], start_us = 3.000000e+00 : f64}
// CHECK: end_us = 9.000000e+00 : f64, {{.*}}name = "e", ops = [], start_us = 5.000000e+00 : f64}
module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.device @npu {kind = "npu", queues = 2 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @m : memref<4xf32>
    %a = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {cost_us = {cpu = 2.0 : f64, npu = 9.0 : f64}, kernel_attrs = {}, name = "a", ops = []}
    %b = plan.task "relu" on @npu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) after(%a) {cost_us = {cpu = 9.0 : f64, npu = 3.0 : f64}, kernel_attrs = {}, name = "b", ops = []}
    %c = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {cost_us = {cpu = 1.0 : f64, npu}, kernel_attrs = {}, name = "c", ops = []}
    %d = plan.task "relu" on @npu[1] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) after(%c) {cost_us = {cpu = 9.0 : f64, npu = 1.0 : f64}, kernel_attrs = {}, name = "d", ops = []}
    %e = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) after(%b, %d) {cost_us = {cpu = 4.0 : f64, npu}, kernel_attrs = {}, name = "e", ops = []}
  }
}

// -----

// A transfer occupies the link between its arenas' devices, not a queue:
//   a: cpu[0] 2 us            -> [0, 2]
//   T: cpu->npu link, 3 us    -> [2, 5]
//   c: cpu[0] 1 us, after a   -> [2, 3]   (the cpu queue is free)
//   b: npu[0] 1 us, after T   -> [5, 6]
// Bound: a -> T -> b with free transfers = 2 + 1 = 3; work 4 / 2 queues = 2.

// CHECK-LABEL: plan.schedule @main attributes {lower_bound_us = 3.000000e+00 : f64, makespan_us = 6.000000e+00 : f64}
// CHECK: plan.transfer {{.*}}end_us = 5.000000e+00 : f64, name = "T", start_us = 2.000000e+00 : f64}
// CHECK: end_us = 3.000000e+00 : f64, {{.*}}name = "c", ops = [], start_us = 2.000000e+00 : f64}
// CHECK: end_us = 6.000000e+00 : f64, {{.*}}name = "b", ops = [], start_us = 5.000000e+00 : f64}
module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @cm {device = @cpu, alignment = 64 : i64}
  plan.arena @nm {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cm : memref<4xf32>
    %y = plan.alloc @cm : memref<4xf32>
    %a = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) {cost_us = {cpu = 2.0 : f64, npu = 5.0 : f64}, kernel_attrs = {}, name = "a", ops = []}
    %z = plan.alloc @nm : memref<4xf32>
    %t = plan.transfer %y -> %z on @npu[0] after(%a) {cost_us = {cpu = 3.0 : f64, npu = 3.0 : f64}, name = "T"} : memref<4xf32> -> memref<4xf32>
    %w = plan.alloc @cm : memref<4xf32>
    %c = plan.task "neg" on @cpu[0] ins(%y : memref<4xf32>) outs(%w : memref<4xf32>) after(%a) {cost_us = {cpu = 1.0 : f64, npu}, kernel_attrs = {}, name = "c", ops = []}
    %v = plan.alloc @nm : memref<4xf32>
    %b = plan.task "abs" on @npu[0] ins(%z : memref<4xf32>) outs(%v : memref<4xf32>) after(%t) {cost_us = {cpu = 4.0 : f64, npu = 1.0 : f64}, kernel_attrs = {}, name = "b", ops = []}
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @m : memref<4xf32>
    // expected-error @+1 {{'a' has no cost on its device @npu (run plan-estimate-costs first)}}
    %a = plan.task "relu" on @npu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {cost_us = {cpu = 2.0 : f64, npu}, kernel_attrs = {}, name = "a", ops = []}
  }
}
