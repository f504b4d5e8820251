// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | loom-opt -split-input-file -verify-diagnostics -plan-partition | FileCheck %s --check-prefix=AUTO
// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | loom-opt -split-input-file -verify-diagnostics -plan-partition=algorithm=heft | FileCheck %s --check-prefix=AUTO
// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | loom-opt -split-input-file -verify-diagnostics -plan-partition=algorithm=exact | FileCheck %s --check-prefix=AUTO
// RUN: sed 's|@TARGET@|%S/Inputs/cpu-npu.yaml|' %s | loom-opt -split-input-file -verify-diagnostics -plan-partition=algorithm=single:cpu | FileCheck %s --check-prefix=CPU

// A chain x -> a -> b: on the CPU 10 + 10 = 20 us; on the NPU 5 (sync of the
// input) + 1 + 1 = 7 us. Everything moves to the NPU: a transfer of x into
// the NPU arena first, a and b with their buffers on the NPU.

// AUTO-LABEL: plan.schedule @main attributes {single_device_us = {cpu = 2.000000e+01 : f64, npu = 7.000000e+00 : f64}}
// AUTO: %[[X:.*]] = plan.alloc @cpu_mem {name = "x"}
// AUTO: %[[A:.*]] = plan.alloc @npu_mem {name = "a"}
// AUTO: %[[XN:.*]] = plan.alloc @npu_mem {name = "x@npu"}
// AUTO: %[[B:.*]] = plan.alloc @npu_mem {name = "b"}
// AUTO: %[[T:.*]] = plan.transfer %[[X]] -> %[[XN]] on @npu[0] {cost_us = {cpu = 5.000000e+00 : f64, npu = 5.000000e+00 : f64}, name = "copy x@npu"}
// AUTO: %[[TA:.*]] = plan.task "relu" on @npu[0] ins(%[[XN]] : memref<4xf32>) outs(%[[A]] : memref<4xf32>) after(%[[T]])
// AUTO: plan.task "neg" on @npu[0] ins(%[[A]] : memref<4xf32>) outs(%[[B]] : memref<4xf32>) after(%[[TA]])

// CPU-LABEL: plan.schedule @main
// CPU-NOT: plan.transfer
// CPU: plan.task "relu" on @cpu[0]
// CPU: plan.task "neg" on @cpu[0]
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %a = plan.alloc @cpu_mem {name = "a"} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 10.0 : f64, npu = 1.0 : f64}, kernel_attrs = {}, name = "a", ops = ["a"]}
    %b = plan.alloc @cpu_mem {name = "b"} : memref<4xf32>
    %t1 = plan.task "neg" on @cpu[0] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) after(%t0) {cost_us = {cpu = 10.0 : f64, npu = 1.0 : f64}, kernel_attrs = {}, name = "b", ops = ["b"]}
    plan.output "b" %b : memref<4xf32>
  }
}

// -----

// A task the NPU cannot run stays on the CPU, with a note; the rest is cheap
// enough on the CPU that no transfer pays (sync 5 us > the 1 us saved).

// AUTO-LABEL: plan.schedule @main attributes {single_device_us = {cpu = 3.000000e+00 : f64, npu}}
// AUTO-NOT: plan.transfer
// AUTO: plan.task "top_k" on @cpu[0] {{.*}}fallback = "no estimate on @npu (kernel or dtype not supported there)"
// AUTO: plan.task "neg" on @cpu[0]
// CPU-LABEL: plan.schedule @main
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %a = plan.alloc @cpu_mem {name = "a"} : memref<4xf32>
    %t0 = plan.task "top_k" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 2.0 : f64, npu}, kernel_attrs = {}, name = "a", ops = ["a"]}
    %b = plan.alloc @cpu_mem {name = "b"} : memref<4xf32>
    %t1 = plan.task "neg" on @cpu[0] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) after(%t0) {cost_us = {cpu = 1.0 : f64, npu = 0.5 : f64}, kernel_attrs = {}, name = "b", ops = ["b"]}
    plan.output "b" %b : memref<4xf32>
  }
}

// -----

module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<4xf32>
    // expected-error @+1 {{no device of target 'cpu-npu' can run 'a' (kernel relu)}}
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {cost_us = {cpu, npu}, kernel_attrs = {}, name = "a", ops = ["a"]}
  }
}

// -----

// expected-error @+1 {{plan-partition: the module has no plan.target attribute (run plan-from-loom first)}}
module {
}
