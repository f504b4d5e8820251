// RUN: loom-opt %s | loom-opt | FileCheck %s

// A two-device plan: a task on each queue, a transfer, a folded input.

// CHECK: plan.device @cpu {kind = "cpu", queues = 1 : i64}
// CHECK: plan.device @npu {kind = "npu", queues = 2 : i64}
// CHECK: plan.arena @cpu_mem {alignment = 64 : i64, device = @cpu, peak_bytes = 128 : i64}
plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.device @npu {kind = "npu", queues = 2 : i64}
plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 128 : i64}
plan.arena @npu_mem {device = @npu, alignment = 64 : i64}

// CHECK-LABEL: plan.schedule @main attributes {makespan_us = 5.000000e+00 : f64}
plan.schedule @main attributes {makespan_us = 5.0 : f64} {
  // CHECK: %[[NONE:.*]] = plan.none
  %none = plan.none
  // CHECK: %[[X:.*]] = plan.alloc @cpu_mem {name = "x", offset = 0 : i64} : memref<4xf32>
  %x = plan.alloc @cpu_mem {name = "x", offset = 0 : i64} : memref<4xf32>
  // CHECK: plan.input "x" %[[X]] : memref<4xf32>
  plan.input "x" %x : memref<4xf32>
  // CHECK: %[[K:.*]] = plan.weight dense<2> : tensor<1xi64> {offset = 0 : i64} : memref<1xi64>
  %k = plan.weight dense<2> : tensor<1xi64> {offset = 0 : i64} : memref<1xi64>
  // CHECK: plan.input "k" %[[K]] {folded} : memref<1xi64>
  plan.input "k" %k {folded} : memref<1xi64>
  %y = plan.alloc @cpu_mem {name = "y", offset = 64 : i64} : memref<4xf32>
  %z = plan.alloc @npu_mem {offset = 0 : i64} : memref<4xf32>
  // CHECK: %[[T0:.*]] = plan.task "relu" on @cpu[0] ins(%[[X]] : memref<4xf32>) outs(%{{.*}}, %[[NONE]] : memref<4xf32>, none) {cost_us = {cpu = 1.000000e+00 : f64, npu}
  %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%y, %none : memref<4xf32>, none) {cost_us = {cpu = 1.0 : f64, npu}, end_us = 1.0 : f64, kernel_attrs = {}, name = "r", ops = ["r"], start_us = 0.0 : f64}
  // CHECK: %[[T1:.*]] = plan.transfer %{{.*}} -> %{{.*}} on @npu[1] after(%[[T0]])
  %t1 = plan.transfer %y -> %z on @npu[1] after(%t0) {name = "copy y"} : memref<4xf32> -> memref<4xf32>
  // CHECK: plan.task "neg" on @npu[0] ins({{.*}}) outs({{.*}}) after(%[[T1]])
  %w = plan.alloc @npu_mem {offset = 64 : i64} : memref<4xf32>
  %t2 = plan.task "neg" on @npu[0] ins(%z : memref<4xf32>) outs(%w : memref<4xf32>) after(%t1) {kernel_attrs = {}, name = "n", ops = ["n"]}
  %out = plan.alloc @cpu_mem {name = "out"} : memref<4xf32>
  %t3 = plan.transfer %w -> %out on @cpu[0] after(%t2) {name = "copy w"} : memref<4xf32> -> memref<4xf32>
  // CHECK: plan.output "out" %{{.*}} : memref<4xf32>
  plan.output "out" %out : memref<4xf32>
}

// Views: two tasks each write one half of a buffer, the second through a
// transfer from its own buffer into the view.
// CHECK-LABEL: plan.schedule @halves
plan.schedule @halves {
  // CHECK: %[[Y:.*]] = plan.alloc @cpu_mem {name = "y"} : memref<4x2xf32>
  %y = plan.alloc @cpu_mem {name = "y"} : memref<4x2xf32>
  // CHECK: %[[LO:.*]] = plan.view %[[Y]][0] : memref<4x2xf32> to memref<2x2xf32>
  %lo = plan.view %y[0] : memref<4x2xf32> to memref<2x2xf32>
  // CHECK: %[[HI:.*]] = plan.view %[[Y]][16] : memref<4x2xf32> to memref<2x2xf32>
  %hi = plan.view %y[16] : memref<4x2xf32> to memref<2x2xf32>
  %own = plan.alloc @npu_mem : memref<2x2xf32>
  %t0 = plan.task "fill" on @cpu[0] outs(%lo : memref<2x2xf32>) {kernel_attrs = {}, name = "lo", ops = []}
  %t1 = plan.task "fill" on @npu[0] outs(%own : memref<2x2xf32>) {kernel_attrs = {}, name = "hi", ops = []}
  // CHECK: plan.transfer %{{.*}} -> %[[HI]] on @npu[0] after(%{{.*}})
  %t2 = plan.transfer %own -> %hi on @npu[0] after(%t1) {name = "copy"} : memref<2x2xf32> -> memref<2x2xf32>
}
