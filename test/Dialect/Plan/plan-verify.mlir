// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-verify | FileCheck %s

// A valid two-queue plan passes unchanged.
// CHECK-LABEL: plan.schedule @main
// CHECK-COUNT-3: plan.task
module {
  plan.device @cpu {kind = "cpu", queues = 2 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 192 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %a = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 1.0 : f64}, start_us = 0.0 : f64, end_us = 1.0 : f64, kernel_attrs = {}, name = "t0", ops = []}
    %b = plan.alloc @m {offset = 128 : i64} : memref<4xf32>
    %t1 = plan.task "neg" on @cpu[1] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) after(%t0) {cost_us = {cpu = 1.0 : f64}, start_us = 1.0 : f64, end_us = 2.0 : f64, kernel_attrs = {}, name = "t1", ops = []}
    %c = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
    %t2 = plan.task "abs" on @cpu[1] ins(%b : memref<4xf32>) outs(%c : memref<4xf32>) after(%t1) {cost_us = {cpu = 1.0 : f64}, start_us = 2.0 : f64, end_us = 3.0 : f64, kernel_attrs = {}, name = "t2", ops = []}
    plan.output "b" %b : memref<4xf32>
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 128 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    %a = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
    // expected-error @+1 {{'t0' runs on @npu, which cannot run it (no cost_us entry there)}}
    %t0 = plan.task "relu" on @npu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 1.0 : f64, npu}, start_us = 0.0 : f64, end_us = 1.0 : f64, kernel_attrs = {}, name = "t0", ops = []}
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 2 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 192 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    %a = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 2.0 : f64}, start_us = 0.0 : f64, end_us = 2.0 : f64, kernel_attrs = {}, name = "t0", ops = []}
    %b = plan.alloc @m {offset = 128 : i64} : memref<4xf32>
    // expected-error @+1 {{'t1' starts at 1.000000e+00 us, before its dependency 't0' ends at 2.000000e+00 us}}
    %t1 = plan.task "neg" on @cpu[1] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) after(%t0) {cost_us = {cpu = 1.0 : f64}, start_us = 1.0 : f64, end_us = 2.0 : f64, kernel_attrs = {}, name = "t1", ops = []}
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 192 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    %a = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 2.0 : f64}, start_us = 0.0 : f64, end_us = 2.0 : f64, kernel_attrs = {}, name = "t0", ops = []}
    %b = plan.alloc @m {offset = 128 : i64} : memref<4xf32>
    // expected-error @+1 {{'t1' starts at 1.000000e+00 us while 't0' still runs on @cpu[0] until 2.000000e+00 us}}
    %t1 = plan.task "neg" on @cpu[0] ins(%x : memref<4xf32>) outs(%b : memref<4xf32>) {cost_us = {cpu = 1.0 : f64}, start_us = 1.0 : f64, end_us = 2.0 : f64, kernel_attrs = {}, name = "t1", ops = []}
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 2 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 192 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    %a = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 1.0 : f64}, start_us = 0.0 : f64, end_us = 1.0 : f64, kernel_attrs = {}, name = "t0", ops = []}
    %b = plan.alloc @m {offset = 128 : i64} : memref<4xf32>
    // expected-error @+1 {{'t1' reads a buffer written by 't0' on another queue without waiting for it}}
    %t1 = plan.task "neg" on @cpu[1] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) {cost_us = {cpu = 1.0 : f64}, start_us = 1.0 : f64, end_us = 2.0 : f64, kernel_attrs = {}, name = "t1", ops = []}
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 192 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    // expected-error @+1 {{buffer [0, 16) of arena @m overlaps buffer [0, 16) while both are live}}
    %a = plan.alloc @m {offset = 0 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 1.0 : f64}, start_us = 0.0 : f64, end_us = 1.0 : f64, kernel_attrs = {}, name = "t0", ops = []}
  }
}
