// RUN: loom-translate --plan-to-report %s | FileCheck %s

// The page states the predicted latency against the bound and the
// single-device plans, draws one Gantt row per queue and per link, and lists
// fallbacks with their reasons.

// CHECK: <title>Loom plan: m.onnx</title>
// CHECK: <p>Model <code>/x/m.onnx</code>, target <code>host</code>, 2 tasks (+1 transfers).</p>
// CHECK: <tr><td>this plan</td><td>6.5</td><td>1.00×</td></tr>
// CHECK: <tr><td>lower bound</td><td>4.0</td><td>0.62×</td></tr>
// CHECK: <tr><td>everything on cpu</td><td>9.0</td><td>1.38×</td></tr>
// CHECK: <tr><td>everything on npu</td><td>cannot run</td><td>-</td></tr>
// CHECK: <text x="4" y="15.0">cpu[0]</text>
// CHECK: <text x="4" y="37.0">npu[0]</text>
// CHECK: <text x="4" y="59.0">link cpu-&gt;npu</text>
// CHECK: <title>op0 (relu): 0.00–2.00 µs</title>
// CHECK: <title>to npu (copy): 2.00–3.00 µs</title>
// CHECK: <title>op2 (neg): 3.00–6.50 µs</title>
// CHECK: <tr><td>cpu</td><td>cpu</td><td>1</td><td>2.0</td><td>31%</td><td>128</td></tr>
// CHECK: <tr><td>npu</td><td>npu</td><td>1</td><td>3.5</td><td>54%</td><td>16</td></tr>
// CHECK: <tr><td>op0</td><td>the npu cannot run relu in f32</td></tr>
module attributes {loom.source = "/x/m.onnx", plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 128 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64, peak_bytes = 16 : i64}
  plan.schedule @main attributes {makespan_us = 6.5 : f64, lower_bound_us = 4.0 : f64, single_device_us = {cpu = 9.0 : f64, npu}} {
    %x = plan.alloc @cpu_mem {offset = 0 : i64} : memref<4xf32>
    %a = plan.alloc @cpu_mem {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {start_us = 0.0 : f64, end_us = 2.0 : f64, name = "op0", ops = [], kernel_attrs = {}, fallback = "the npu cannot run relu in f32"}
    %b = plan.alloc @npu_mem {offset = 0 : i64} : memref<4xf32>
    %t1 = plan.transfer %a -> %b on @npu[0] after(%t0) {name = "to npu", start_us = 2.0 : f64, end_us = 3.0 : f64} : memref<4xf32> -> memref<4xf32>
    %y = plan.alloc @npu_mem {offset = 0 : i64} : memref<4xf32>
    %t2 = plan.task "neg" on @npu[0] ins(%b : memref<4xf32>) outs(%y : memref<4xf32>) after(%t1) {start_us = 3.0 : f64, end_us = 6.5 : f64, name = "op2", ops = [], kernel_attrs = {}}
  }
}
