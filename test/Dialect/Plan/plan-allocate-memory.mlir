// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-allocate-memory | FileCheck %s

// A chain x -> a -> b -> c -> y of 16-byte buffers (alignment 64). Lifetimes
// in steps: x [0, 4] and y [0, 4] (input and output: the whole run),
// a [0, 1], b [1, 2], c [2, 3]. By first use, then index: x @0, a @64,
// y @128; b @192 (a is still read at step 1, where b is written); c @64 (a's
// space is free from step 2). Peak 192 + 16 = 208.
// Weights: 16 B @0, 100 B @64, 4 B @192 (64-byte aligned).

// CHECK: plan.arena @m {alignment = 64 : i64, device = @cpu, peak_bytes = 208 : i64}
// CHECK-LABEL: plan.schedule @main
// CHECK: plan.alloc @m {name = "x", offset = 0 : i64}
// CHECK: plan.alloc @m {name = "a", offset = 64 : i64}
// CHECK: plan.alloc @m {name = "b", offset = 192 : i64}
// CHECK: plan.alloc @m {name = "c", offset = 64 : i64}
// CHECK: plan.alloc @m {name = "y", offset = 128 : i64}
// CHECK: plan.weight {{.*}}{offset = 0 : i64} : memref<4xf32>
// CHECK: plan.weight {{.*}}{offset = 64 : i64} : memref<25xf32>
// CHECK: plan.weight {{.*}}{offset = 192 : i64} : memref<1xf32>
module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {name = "x"} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %a = plan.alloc @m {name = "a"} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {kernel_attrs = {}, name = "t0", ops = []}
    %b = plan.alloc @m {name = "b"} : memref<4xf32>
    %t1 = plan.task "relu" on @cpu[0] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) after(%t0) {kernel_attrs = {}, name = "t1", ops = []}
    %c = plan.alloc @m {name = "c"} : memref<4xf32>
    %t2 = plan.task "relu" on @cpu[0] ins(%b : memref<4xf32>) outs(%c : memref<4xf32>) after(%t1) {kernel_attrs = {}, name = "t2", ops = []}
    %y = plan.alloc @m {name = "y"} : memref<4xf32>
    %t3 = plan.task "relu" on @cpu[0] ins(%c : memref<4xf32>) outs(%y : memref<4xf32>) after(%t2) {kernel_attrs = {}, name = "t3", ops = []}
    plan.output "y" %y : memref<4xf32>
    %w0 = plan.weight dense<1.0> : tensor<4xf32> : memref<4xf32>
    %w1 = plan.weight dense<1.0> : tensor<25xf32> : memref<25xf32>
    %w2 = plan.weight dense<1.0> : tensor<1xf32> : memref<1xf32>
  }
}

// -----

// Two queues: c (written by t2 on queue 1) reuses a's memory, which t0 on
// queue 0 wrote: t2 must also wait for t0. t1 (same queue as t2) needs no
// extra event. Step 0 places x @0, a @64, b @128, d @192 (outputs live for
// the whole run); c @64 from step 2.

// CHECK-LABEL: plan.schedule @main
// CHECK: plan.alloc @m {name = "a", offset = 64 : i64}
// CHECK: %[[T0:.*]] = plan.task "relu" on @cpu[0] {{.*}}name = "t0"
// CHECK: plan.alloc @m {name = "c", offset = 64 : i64}
// CHECK: plan.task "neg" on @cpu[1] ins(%{{.*}} : memref<4xf32>) outs(%{{.*}} : memref<4xf32>) after(%[[T0]]) {{.*}}name = "t2"
module {
  plan.device @cpu {kind = "cpu", queues = 2 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {name = "x"} : memref<4xf32>
    plan.input "x" %x : memref<4xf32>
    %a = plan.alloc @m {name = "a"} : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {kernel_attrs = {}, name = "t0", ops = []}
    %b = plan.alloc @m {name = "b"} : memref<4xf32>
    %t1 = plan.task "relu" on @cpu[1] ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) after(%t0) {kernel_attrs = {}, name = "t1", ops = []}
    %c = plan.alloc @m {name = "c"} : memref<4xf32>
    %t2 = plan.task "neg" on @cpu[1] ins(%x : memref<4xf32>) outs(%c : memref<4xf32>) {kernel_attrs = {}, name = "t2", ops = []}
    %d = plan.alloc @m {name = "d"} : memref<4xf32>
    %t3 = plan.task "relu" on @cpu[1] ins(%c : memref<4xf32>) outs(%d : memref<4xf32>) after(%t2) {kernel_attrs = {}, name = "t3", ops = []}
    plan.output "b" %b : memref<4xf32>
    plan.output "d" %d : memref<4xf32>
  }
}

// -----

// Two 64-byte buffers alive together do not fit a 100-byte arena.
module {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  // expected-error @+1 {{the tensors alive at once on @cpu need 128 bytes, more than its 100 bytes of memory (capacity_bytes of arena @m)}}
  plan.arena @m {device = @cpu, alignment = 64 : i64, capacity_bytes = 100 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {name = "x"} : memref<16xf32>
    plan.input "x" %x : memref<16xf32>
    %y = plan.alloc @m {name = "y"} : memref<16xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<16xf32>) outs(%y : memref<16xf32>) {kernel_attrs = {}, name = "t0", ops = []}
    plan.output "y" %y : memref<16xf32>
  }
}

// -----

// Memory reuse with a buffer written in parts (an op split across queues):
// c reuses a's memory once a's last reader (t1, queue 0, 0-2 us) is done.
// c is written by two parts on different queues (t2 on queue 0 and t3 on
// queue 1, both from 3 us), so each writer waits for t1 — not only the
// first. The steps are then listed by predicted start (t3's new dependency
// is listed before it).

// CHECK-LABEL: plan.schedule @main
// CHECK-DAG: plan.alloc @m {name = "a", offset = [[OFF:[0-9]+]] : i64}
// CHECK-DAG: plan.alloc @m {name = "c", offset = [[OFF]] : i64}
// CHECK: %[[T1:.*]] = plan.task "neg" on @cpu[0] {{.*}}name = "t1"
// CHECK: plan.task "relu" on @cpu[1] {{.*}}after({{.*}}%[[T1]]) {{.*}}name = "t3"
module {
  plan.device @cpu {kind = "cpu", queues = 2 : i64}
  plan.arena @m {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @m {name = "x"} : memref<8xf32>
    plan.input "x" %x : memref<8xf32>
    %a = plan.alloc @m {name = "a"} : memref<8xf32>
    %b = plan.alloc @m {name = "b"} : memref<8xf32>
    %c = plan.alloc @m {name = "c"} : memref<8xf32>
    %lo = plan.view %c[0] : memref<8xf32> to memref<4xf32>
    %hi = plan.view %c[16] : memref<8xf32> to memref<4xf32>
    %xlo = plan.view %x[0] : memref<8xf32> to memref<4xf32>
    %xhi = plan.view %x[16] : memref<8xf32> to memref<4xf32>
    %y = plan.alloc @m {name = "y"} : memref<8xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<8xf32>) outs(%a : memref<8xf32>) {kernel_attrs = {}, name = "t0", ops = [], start_us = 0.0 : f64, end_us = 1.0 : f64}
    %t1 = plan.task "neg" on @cpu[0] ins(%a : memref<8xf32>) outs(%b : memref<8xf32>) after(%t0) {kernel_attrs = {}, name = "t1", ops = [], start_us = 1.0 : f64, end_us = 2.0 : f64}
    %t3 = plan.task "relu" on @cpu[1] ins(%xhi : memref<4xf32>) outs(%hi : memref<4xf32>) {kernel_attrs = {}, name = "t3", ops = [], start_us = 3.0 : f64, end_us = 4.0 : f64}
    %t2 = plan.task "relu" on @cpu[0] ins(%xlo : memref<4xf32>) outs(%lo : memref<4xf32>) after(%t1) {kernel_attrs = {}, name = "t2", ops = [], start_us = 3.0 : f64, end_us = 4.0 : f64}
    %t4 = plan.task "add" on @cpu[0] ins(%b, %c : memref<8xf32>, memref<8xf32>) outs(%y : memref<8xf32>) after(%t1, %t2, %t3) {kernel_attrs = {}, name = "t4", ops = [], start_us = 4.0 : f64, end_us = 5.0 : f64}
    plan.output "y" %y : memref<8xf32>
  }
}
