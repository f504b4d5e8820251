// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | not loom-opt -plan-partition=algorithm=fastest 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | not loom-opt -plan-partition=algorithm=single:gpu 2>&1 | FileCheck %s --check-prefix=NODEV
// UNKNOWN: plan-partition: algorithm 'fastest' found no schedule: unknown algorithm (known: auto, heft, greedy, exact, single:DEVICE)
// NODEV: plan-partition: algorithm 'single:gpu' found no schedule: no device 'gpu' in the target
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %a = plan.alloc @cpu_mem {name = "a"} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 1.0 : f64, npu = 1.0 : f64}, kernel_attrs = {}, name = "a", ops = ["a"]}
    plan.output "a" %a : memref<4xf32>
  }
}
