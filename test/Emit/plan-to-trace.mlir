// RUN: loom-translate --plan-to-trace %s -split-input-file -verify-diagnostics | FileCheck %s

// One process per device (pid in plan order) with one thread per queue, as
// loom-run --profile writes; a process per link that carries transfers; one
// complete ("X") event per task at its predicted time.

// CHECK: "traceEvents": [
// CHECK:   "name": "process_name",
// CHECK-NEXT:   "ph": "M",
// CHECK-NEXT:   "pid": 0,
// CHECK-NEXT:   "args": {
// CHECK-NEXT:     "name": "cpu"
// CHECK:   "name": "thread_name",
// CHECK-NEXT:   "ph": "M",
// CHECK-NEXT:   "pid": 0,
// CHECK-NEXT:   "tid": 0,
// CHECK:   "name": "process_name",
// CHECK-NEXT:   "ph": "M",
// CHECK-NEXT:   "pid": 1,
// CHECK-NEXT:   "args": {
// CHECK-NEXT:     "name": "npu"
// CHECK:   "tid": 1,
// CHECK-NEXT:   "args": {
// CHECK-NEXT:     "name": "queue 1"
// CHECK:   "name": "process_name",
// CHECK-NEXT:   "ph": "M",
// CHECK-NEXT:   "pid": 2,
// CHECK-NEXT:   "args": {
// CHECK-NEXT:     "name": "link cpu->npu"
// CHECK:   "name": "op0",
// CHECK-NEXT:   "cat": "relu",
// CHECK-NEXT:   "ph": "X",
// CHECK-NEXT:   "pid": 0,
// CHECK-NEXT:   "tid": 0,
// CHECK-NEXT:   "ts": 0,
// CHECK-NEXT:   "dur": 2,
// CHECK-NEXT:   "args": {
// CHECK-NEXT:     "task": 0
// CHECK:   "name": "to npu",
// CHECK-NEXT:   "cat": "copy",
// CHECK-NEXT:   "ph": "X",
// CHECK-NEXT:   "pid": 2,
// CHECK-NEXT:   "tid": 0,
// CHECK-NEXT:   "ts": 2,
// CHECK-NEXT:   "dur": 1,
// CHECK:   "name": "op2",
// CHECK-NEXT:   "cat": "neg",
// CHECK-NEXT:   "ph": "X",
// CHECK-NEXT:   "pid": 1,
// CHECK-NEXT:   "tid": 1,
// CHECK-NEXT:   "ts": 3,
// CHECK-NEXT:   "dur": 3.5,
// CHECK-NEXT:   "args": {
// CHECK-NEXT:     "task": 2
// CHECK: "displayTimeUnit": "ms"
module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 2 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem : memref<4xf32>
    %a = plan.alloc @cpu_mem : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {start_us = 0.0 : f64, end_us = 2.0 : f64, name = "op0", ops = [], kernel_attrs = {}}
    %b = plan.alloc @npu_mem : memref<4xf32>
    %t1 = plan.transfer %a -> %b on @npu[0] after(%t0) {name = "to npu", start_us = 2.0 : f64, end_us = 3.0 : f64} : memref<4xf32> -> memref<4xf32>
    %y = plan.alloc @npu_mem : memref<4xf32>
    %t2 = plan.task "neg" on @npu[1] ins(%b : memref<4xf32>) outs(%y : memref<4xf32>) after(%t1) {start_us = 3.0 : f64, end_us = 6.5 : f64, name = "op2", ops = [], kernel_attrs = {}}
  }
}

// -----

module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem : memref<4xf32>
    // expected-error @+1 {{task has no predicted start_us/end_us (run plan-schedule)}}
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {name = "op0", ops = [], kernel_attrs = {}}
  }
}
