// RUN: loom-translate --plan-to-report %s | FileCheck %s

// The page states the predicted latency against the bound and the
// single-device plans, gives the timeline script one row per queue and per
// link with a bar per task and transfer (coloured by kernel family, with a
// legend), lists fallbacks with their reasons, charts memory over time per
// arena against its planned peak, and lists the tasks with their cost on
// every device and the reason for their placement. The script that draws
// the chart is tested in a browser (report-browser.test).

// CHECK: <title>Loom plan: m.onnx</title>
// CHECK: <script>window.loomErrors=[];
// CHECK: <p>Model <code>/x/m.onnx</code>, target <code>host</code>, 2 tasks (+1 transfers).</p>
// CHECK: <tr><td>this plan</td><td>6.5</td><td>1.00×</td></tr>
// CHECK: <tr><td>lower bound</td><td>4.0</td><td>0.62×</td></tr>
// CHECK: <tr><td>everything on cpu</td><td>9.0</td><td>1.38×</td></tr>
// CHECK: <tr><td>everything on npu</td><td>cannot run</td><td>-</td></tr>

// The legend names only the families in the plan.
// CHECK: <h2>Schedule</h2>
// CHECK-NEXT: <div class="legend"><span><span class="sw" style="background:#76b7b2"></span>elementwise</span><span><span class="sw" style="background:#d4d4d4"></span>transfer</span></div>
// CHECK-NEXT: <script type="application/json" id="loom-schedule">
// CHECK-NEXT: {"unit": "µs", "scale": 1, "end": 6.5, "maxBars": 2000,
// CHECK-NEXT: "rows": ["cpu[0]", "npu[0]", "link cpu->npu"],
// CHECK-NEXT: "groups": [{"name": "matmul", "color": "#4e79a7"}, {"name": "conv", "color": "#f28e2b"}, {"name": "attention", "color": "#e15759"}, {"name": "elementwise", "color": "#76b7b2"}, {{.*}}, {"name": "transfer", "color": "#d4d4d4"}],
// CHECK-NEXT: "bars": [
// CHECK-NEXT: [0, 0, 2, 3, "op0", "op0 (relu): 0.00–2.00 µs", 0],
// CHECK-NEXT: [2, 2, 3, 8, "to npu", "to npu (copy): 2.00–3.00 µs", 0],
// CHECK-NEXT: [1, 3, 6.5, 3, "op2", "op2 (neg): 3.00–6.50 µs", 0]
// CHECK-NEXT: ],
// CHECK-NEXT: "marks": []}
// CHECK-NEXT: </script>
// CHECK-NEXT: <div class="loom-timeline" data-src="loom-schedule"></div>

// CHECK: <tr><td>cpu</td><td>cpu</td><td>1</td><td>2.0</td><td>31%</td><td>128</td></tr>
// CHECK: <tr><td>npu</td><td>npu</td><td>1</td><td>3.5</td><td>54%</td><td>16</td></tr>
// CHECK: <tr><th>reason</th><th>tasks</th><th>for example</th></tr>
// CHECK-NEXT: <tr><td>the npu cannot run relu in f32</td><td>1</td><td>op0</td></tr>

// Memory, 16 bytes per buffer: in cpu_mem %x (never written: from 0, read
// until 2 µs) and %a (written at 0, read by the transfer until 3 µs); in
// npu_mem %b (2-6.5 µs) and %y (3-6.5 µs). The chart is 600 px for 6.5 µs.
// CHECK: <h2>Memory over time</h2>
// CHECK: <figcaption><b>cpu_mem</b> (cpu): at most 32 B alive, planned peak 128 B</figcaption>
// CHECK-NEXT: <svg class="memory"
// CHECK-NEXT: <path d="M70 98.0H70V75.5H{{[0-9]+}}V86.8H{{[0-9]+}}V98.0H670V98.0Z"
// CHECK-NEXT: <line x1="70" x2="670" y1="8.0" y2="8.0" stroke="#c00" stroke-dasharray="4,3"/>
// CHECK: <text x="66" y="12.0" text-anchor="end">128 B</text>
// CHECK: <figcaption><b>npu_mem</b> (npu): at most 32 B alive, planned peak 16 B</figcaption>

// Tasks by start, with the placement reason explainPlacement gives
// (loomc --explain-placement prints the same).
// CHECK: <h2>Tasks</h2>
// CHECK-NEXT: <p class="note">All 2 tasks, by predicted start;
// CHECK-NEXT: <table class="sortable tasks"><thead><tr><th>#</th><th>task</th><th>kernel</th><th>device</th><th>start (µs)</th><th>duration (µs)</th><th>cpu (µs)</th><th>npu (µs)</th><th>placement</th></tr></thead><tbody>
// CHECK-NEXT: <tr><td data-v="0">0</td>{{.*}}>op0</td>{{.*}}>relu</td>{{.*}}>cpu[0]</td><td data-v="0">0.00</td><td data-v="2">2.00</td><td class="here" data-v="2">2.00</td><td data-v="Infinity">-</td><td class="reason">only cpu can run it; the npu cannot run relu in f32</td></tr>
// CHECK-NEXT: <tr><td data-v="1">1</td>{{.*}}>op2</td>{{.*}}>neg</td>{{.*}}>npu[0]</td><td data-v="3">3.00</td><td data-v="3.5">3.50</td><td data-v="5">5.00</td><td class="here" data-v="3.5">3.50</td><td class="reason">fastest on npu</td></tr>
// CHECK-NEXT: </tbody></table>
// CHECK: ok.id = 'loom-report-ok';
// CHECK: </body></html>
module attributes {loom.source = "/x/m.onnx", plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 128 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64, peak_bytes = 16 : i64}
  plan.schedule @main attributes {makespan_us = 6.5 : f64, lower_bound_us = 4.0 : f64, single_device_us = {cpu = 9.0 : f64, npu}} {
    %x = plan.alloc @cpu_mem {offset = 0 : i64} : memref<4xf32>
    %a = plan.alloc @cpu_mem {offset = 64 : i64} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = 2.0 : f64, npu}, start_us = 0.0 : f64, end_us = 2.0 : f64, name = "op0", ops = [], kernel_attrs = {}, fallback = "the npu cannot run relu in f32"}
    %b = plan.alloc @npu_mem {offset = 0 : i64} : memref<4xf32>
    %t1 = plan.transfer %a -> %b on @npu[0] after(%t0) {name = "to npu", start_us = 2.0 : f64, end_us = 3.0 : f64} : memref<4xf32> -> memref<4xf32>
    %y = plan.alloc @npu_mem {offset = 0 : i64} : memref<4xf32>
    %t2 = plan.task "neg" on @npu[0] ins(%b : memref<4xf32>) outs(%y : memref<4xf32>) after(%t1) {cost_us = {cpu = 5.0 : f64, npu = 3.5 : f64}, start_us = 3.0 : f64, end_us = 6.5 : f64, name = "op2", ops = [], kernel_attrs = {}}
  }
}
