// RUN: loom-translate --plan-to-json %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: loom-translate --plan-to-json %s -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=VIEW

// A complete two-device plan: every section of plan.json, typed attributes,
// a transfer, and the event for the one cross-queue dependency.

// CHECK: "format": "loom-plan",
// CHECK-NEXT: "version": 1,
// CHECK-NEXT: "producer": "loom-translate",
// CHECK-NEXT: "model": {
// CHECK-NEXT:   "source": "m.onnx",
// CHECK-NEXT:   "graph": "g",
// CHECK-NEXT:   "opset": 17
// CHECK: "target": "host",
// CHECK-NEXT: "weights": {
// CHECK-NEXT:   "file": "weights.bin",
// CHECK-NEXT:   "size_bytes": 128,
// CHECK-NEXT:   "alignment": 64
// CHECK: "devices": [
// CHECK:   "name": "cpu",
// CHECK-NEXT:   "kind": "cpu",
// CHECK-NEXT:   "queues": 1,
// CHECK-NEXT:   "arena": "cpu_mem",
// CHECK-NEXT:   "busy_us": 5.5,
// CHECK-NEXT:   "utilization": 0.84615384615384615
// CHECK:   "name": "npu",
// CHECK-NEXT:   "kind": "npu",
// CHECK-NEXT:   "queues": 1,
// CHECK-NEXT:   "arena": "npu_mem",
// CHECK-NEXT:   "busy_us": 0,
// CHECK-NEXT:   "utilization": 0
// CHECK: "arenas": [
// CHECK:   "name": "cpu_mem",
// CHECK-NEXT:   "device": "cpu",
// CHECK-NEXT:   "peak_bytes": 192,
// CHECK-NEXT:   "alignment": 64
// CHECK: "buffers": [
// CHECK:   "id": 0,
// CHECK-NEXT:   "name": "x",
// CHECK-NEXT:   "arena": "cpu_mem",
// CHECK-NEXT:   "offset": 0,
// CHECK-NEXT:   "size_bytes": 16,
// CHECK-NEXT:   "dtype": "f32",
// CHECK-NEXT:   "shape": [
// CHECK-NEXT:     4
// CHECK-NEXT:   ]
// CHECK:   "id": 1,
// CHECK-NEXT:   "name": "mask",
// CHECK-NEXT:   "arena": "weights",
// CHECK-NEXT:   "offset": 0,
// CHECK-NEXT:   "size_bytes": 4,
// CHECK-NEXT:   "dtype": "bool",
// CHECK:   "id": 2,
// CHECK:   "arena": "weights",
// CHECK-NEXT:   "offset": 64,
// CHECK-NEXT:   "size_bytes": 8,
// CHECK-NEXT:   "dtype": "u8",
// CHECK: "inputs": [
// CHECK:   "name": "x",
// CHECK-NEXT:   "buffer": 0,
// CHECK-NEXT:   "dtype": "f32",
// CHECK:   "name": "k",
// CHECK-NEXT:   "buffer": 2,
// CHECK-NEXT:   "dtype": "u8",
// CHECK:   "folded": true
// CHECK: "outputs": [
// CHECK:   "name": "y",
// CHECK-NEXT:   "buffer": 5,
// CHECK: "tasks": [
// CHECK:   "id": 0,
// CHECK-NEXT:   "name": "op0",
// CHECK-NEXT:   "kind": "kernel",
// CHECK-NEXT:   "device": "cpu",
// CHECK-NEXT:   "queue": 0,
// CHECK-NEXT:   "kernel": "test_kernel",
// CHECK-NEXT:   "attrs": {
// CHECK-NEXT:     "a_int": {
// CHECK-NEXT:       "int": -3
// CHECK:     "b_float": {
// CHECK-NEXT:       "float": 0.5
// CHECK:     "c_nan": {
// CHECK-NEXT:       "float": "nan"
// CHECK:     "d_str": {
// CHECK-NEXT:       "string": "NOTSET"
// CHECK:     "e_ints": {
// CHECK-NEXT:       "ints": [
// CHECK-NEXT:         1,
// CHECK-NEXT:         -2
// CHECK:     "f_floats": {
// CHECK-NEXT:       "floats": [
// CHECK-NEXT:         0.25,
// CHECK-NEXT:         "-inf"
// CHECK:     "g_strs": {
// CHECK-NEXT:       "strings": [
// CHECK-NEXT:         "a",
// CHECK-NEXT:         "b"
// CHECK:     "h_type": {
// CHECK-NEXT:       "dtype": "f16"
// CHECK:     "i_tensor": {
// CHECK-NEXT:       "tensor": {
// CHECK-NEXT:         "dtype": "f32",
// CHECK-NEXT:         "shape": [
// CHECK-NEXT:           1
// CHECK-NEXT:         ],
// CHECK-NEXT:         "hex": "0000803f"
// CHECK:   "inputs": [
// CHECK-NEXT:     0,
// CHECK-NEXT:     1,
// CHECK-NEXT:     null
// CHECK-NEXT:   ],
// CHECK-NEXT:   "outputs": [
// CHECK-NEXT:     3
// CHECK-NEXT:   ],
// CHECK-NEXT:   "deps": [],
// CHECK-NEXT:   "start_us": 0,
// CHECK-NEXT:   "end_us": 2,
// CHECK-NEXT:   "ops": [
// CHECK-NEXT:     "n0",
// CHECK-NEXT:     "n1"
// CHECK-NEXT:   ],
// CHECK-NEXT:   "cost_us": {
// CHECK-NEXT:     "cpu": 2,
// CHECK-NEXT:     "npu": null
// CHECK-NEXT:   }
// CHECK:   "id": 1,
// CHECK-NEXT:   "name": "to npu",
// CHECK-NEXT:   "kind": "transfer",
// CHECK-NEXT:   "device": "npu",
// CHECK-NEXT:   "queue": 0,
// CHECK-NEXT:   "kernel": "copy",
// CHECK-NEXT:   "attrs": {},
// CHECK-NEXT:   "inputs": [
// CHECK-NEXT:     3
// CHECK-NEXT:   ],
// CHECK-NEXT:   "outputs": [
// CHECK-NEXT:     4
// CHECK-NEXT:   ],
// CHECK-NEXT:   "deps": [
// CHECK-NEXT:     0
// CHECK-NEXT:   ],
// CHECK:   "id": 2,
// CHECK:   "deps": [
// CHECK-NEXT:     1
// CHECK-NEXT:   ],
// CHECK: "events": [
// CHECK-NEXT:   {
// CHECK-NEXT:     "id": 0,
// CHECK-NEXT:     "task": 0,
// CHECK-NEXT:     "waiters": [
// CHECK-NEXT:       1
// CHECK-NEXT:     ]
// CHECK-NEXT:   },
// CHECK-NEXT:   {
// CHECK-NEXT:     "id": 1,
// CHECK-NEXT:     "task": 1,
// CHECK-NEXT:     "waiters": [
// CHECK-NEXT:       2
// CHECK-NEXT:     ]
// CHECK-NEXT:   }
// CHECK-NEXT: ],
// CHECK-NEXT: "makespan_us": 6.5,
// CHECK-NEXT: "lower_bound_us": 4
// CHECK-NEXT: }
module attributes {loom.source = "/some/dir/m.onnx", loom.graph_name = "g", loom.opset = 17 : i64, plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 192 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64, peak_bytes = 16 : i64}
  plan.schedule @main attributes {makespan_us = 6.5 : f64, lower_bound_us = 4.0 : f64} {
    %none = plan.none
    %x = plan.alloc @cpu_mem {name = "x", offset = 0 : i64} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %m = plan.weight dense<[true, false, true, true]> : tensor<4xi1> {name = "mask", offset = 0 : i64} : memref<4xi1>
    %k = plan.weight dense<7> : tensor<8xui8> {name = "k", offset = 64 : i64} : memref<8xui8>
    plan.input "k" %k {folded} : memref<8xui8>
    %a = plan.alloc @cpu_mem {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "test_kernel" on @cpu[0] ins(%x, %m, %none : memref<4xf32>, memref<4xi1>, none) outs(%a : memref<4xf32>) {cost_us = {cpu = 2.0 : f64, npu}, start_us = 0.0 : f64, end_us = 2.0 : f64, name = "op0", ops = ["n0", "n1"], kernel_attrs = {a_int = -3 : i64, b_float = 0.5 : f32, c_nan = 0x7FC00000 : f32, d_str = "NOTSET", e_ints = array<i64: 1, -2>, f_floats = array<f32: 0.25, 0xFF800000>, g_strs = ["a", "b"], h_type = f16, i_tensor = dense<1.0> : tensor<1xf32>}}
    %b = plan.alloc @npu_mem {offset = 0 : i64} : memref<4xf32>
    %t1 = plan.transfer %a -> %b on @npu[0] after(%t0) {name = "to npu", cost_us = {cpu = 1.0 : f64, npu = 1.0 : f64}, start_us = 2.0 : f64, end_us = 3.0 : f64} : memref<4xf32> -> memref<4xf32>
    %y = plan.alloc @cpu_mem {name = "y", offset = 128 : i64} : memref<4xf32>
    %t2 = plan.task "neg" on @cpu[0] ins(%b : memref<4xf32>) outs(%y : memref<4xf32>) after(%t1) {cost_us = {cpu = 3.5 : f64, npu}, start_us = 3.0 : f64, end_us = 6.5 : f64, name = "op2", ops = ["n2"], kernel_attrs = {}}
    plan.output "y" %y : memref<4xf32>
  }
}

// -----

// Views (parts of an op split across devices): a buffer entry at the
// source's offset plus the view's, with `view_of` naming the source; views
// of weights lie in the weights file.

// VIEW: "target": "host-views",
// VIEW: "id": 1,
// VIEW-NEXT: "name": "y",
// VIEW-NEXT: "arena": "cpu_mem",
// VIEW-NEXT: "offset": 64,
// VIEW-NEXT: "size_bytes": 32,
// VIEW: "id": 2,
// VIEW-NEXT: "name": "y[16]",
// VIEW-NEXT: "arena": "cpu_mem",
// VIEW-NEXT: "offset": 80,
// VIEW-NEXT: "size_bytes": 16,
// VIEW-NEXT: "dtype": "f32",
// VIEW-NEXT: "shape": [
// VIEW-NEXT:   2,
// VIEW-NEXT:   2
// VIEW-NEXT: ],
// VIEW-NEXT: "view_of": 1
// VIEW: "id": 4,
// VIEW-NEXT: "name": "w[8]",
// VIEW-NEXT: "arena": "weights",
// VIEW-NEXT: "offset": 72,
// VIEW-NEXT: "size_bytes": 8,
// VIEW: "view_of": 3
module attributes {plan.target = "host-views"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 128 : i64}
  plan.schedule @main attributes {makespan_us = 2.0 : f64} {
    %x = plan.alloc @cpu_mem {name = "x", offset = 0 : i64} : memref<4x2xf32>
    plan.input "x" %x : memref<4x2xf32>
    %y = plan.alloc @cpu_mem {name = "y", offset = 64 : i64} : memref<4x2xf32>
    %hi = plan.view %y[16] : memref<4x2xf32> to memref<2x2xf32>
    %w = plan.weight dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> {name = "w", offset = 64 : i64} : memref<4xf32>
    %w2 = plan.view %w[8] : memref<4xf32> to memref<2xf32>
    %xhi = plan.view %x[16] : memref<4x2xf32> to memref<2x2xf32>
    %t0 = plan.task "add" on @cpu[0] ins(%xhi, %w2 : memref<2x2xf32>, memref<2xf32>) outs(%hi : memref<2x2xf32>) {cost_us = {cpu = 1.0 : f64}, start_us = 0.0 : f64, end_us = 1.0 : f64, name = "op0", ops = ["a"], kernel_attrs = {}}
    plan.output "y" %y : memref<4x2xf32>
  }
}

// -----

module attributes {plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 64 : i64}
  plan.schedule @main {
    // expected-error @+1 {{buffer has no offset (run plan-allocate-memory)}}
    %x = plan.alloc @cpu_mem {name = "x"} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
  }
}

// -----

module attributes {plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x", offset = 0 : i64} : memref<4xf32>
    // expected-error @+1 {{task has no cost or schedule (run plan-estimate-costs and plan-schedule)}}
    %t = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {kernel_attrs = {}, name = "r", ops = []}
  }
}

// -----

module attributes {plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x", offset = 0 : i64} : memref<4xf32>
    // expected-error @+1 {{attribute 'bad' cannot be written to plan.json: {nested = 1 : i64}}}
    %t = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) {kernel_attrs = {bad = {nested = 1 : i64}}, name = "r", ops = [], cost_us = {cpu = 1.0 : f64}, start_us = 0.0 : f64, end_us = 1.0 : f64}
  }
}

// -----

// expected-error @+1 {{a plan module needs exactly one plan.schedule, found 0}}
module {
}
