// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | loom-opt -split-input-file -plan-partition -plan-schedule -plan-allocate-memory -plan-verify | FileCheck %s

// Memory limits: the NPU's arena holds at most 1.5 MiB. Two independent
// tasks reading a weight (no transfer), each writing 1 MiB and far faster on
// the NPU: both would go there without the limit; with it, the partitioner
// keeps one on the CPU.

// CHECK: plan.schedule @main
// CHECK-DAG: plan.task "relu" on @npu[0]
// CHECK-DAG: plan.task "neg" on @cpu[0]
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64, capacity_bytes = 1572864 : i64}
  plan.schedule @main {
    %x = plan.weight dense<1.0> : tensor<262144xf32> {name = "w"} : memref<262144xf32>
    %a = plan.alloc @cpu_mem {name = "a"} : memref<262144xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<262144xf32>) outs(%a : memref<262144xf32>) {cost_us = {cpu = 100.0 : f64, npu = 10.0 : f64}, kernel_attrs = {}, name = "a", ops = ["a"]}
    %b = plan.alloc @cpu_mem {name = "b"} : memref<262144xf32>
    %t1 = plan.task "neg" on @cpu[0] ins(%x : memref<262144xf32>) outs(%b : memref<262144xf32>) {cost_us = {cpu = 100.0 : f64, npu = 10.0 : f64}, kernel_attrs = {}, name = "b", ops = ["b"]}
    plan.output "a" %a : memref<262144xf32>
    plan.output "b" %b : memref<262144xf32>
  }
}

// -----

// The partitioner's rule is conservative (the sum of a device's task
// outputs: 3 MiB here, over the 2.5 MiB limit), but only the NPU can run
// these tasks. Placement then ignores the rule and the memory planner checks
// the real peak: a chain whose buffers are freed as it goes fits (a and b,
// or b and c, live at once: 2 MiB).

// CHECK: plan.arena @npu_mem {{.*}}peak_bytes = 2097{{[0-9]+}}
// CHECK: plan.task "relu" on @npu[0]
// CHECK: plan.task "neg" on @npu[0]
// CHECK: plan.task "abs" on @npu[0]
// CHECK: plan.task "reduce_sum" on @npu[0]
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64, capacity_bytes = 2621440 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<262144xf32>
    plan.input "x" %x : memref<262144xf32>
    %a = plan.alloc @cpu_mem {name = "a"} : memref<262144xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<262144xf32>) outs(%a : memref<262144xf32>) {cost_us = {cpu, npu = 10.0 : f64}, kernel_attrs = {}, name = "a", ops = ["a"]}
    %b = plan.alloc @cpu_mem {name = "b"} : memref<262144xf32>
    %t1 = plan.task "neg" on @cpu[0] ins(%a : memref<262144xf32>) outs(%b : memref<262144xf32>) after(%t0) {cost_us = {cpu, npu = 10.0 : f64}, kernel_attrs = {}, name = "b", ops = ["b"]}
    %c = plan.alloc @cpu_mem {name = "c"} : memref<262144xf32>
    %t2 = plan.task "abs" on @cpu[0] ins(%b : memref<262144xf32>) outs(%c : memref<262144xf32>) after(%t1) {cost_us = {cpu, npu = 10.0 : f64}, kernel_attrs = {}, name = "c", ops = ["c"]}
    %d = plan.alloc @cpu_mem {name = "d"} : memref<1xf32>
    %t3 = plan.task "reduce_sum" on @cpu[0] ins(%c : memref<262144xf32>) outs(%d : memref<1xf32>) after(%t2) {cost_us = {cpu, npu = 10.0 : f64}, kernel_attrs = {}, name = "d", ops = ["d"]}
    plan.output "d" %d : memref<1xf32>
  }
}
