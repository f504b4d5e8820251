// RUN: loom-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{kind must be cpu, gpu or npu, not 'dsp'}}
plan.device @d {kind = "dsp", queues = 1 : i64}

// -----

// expected-error @+1 {{device @nope is not a plan.device}}
plan.arena @m {device = @nope, alignment = 64 : i64}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 64 : i64}
plan.schedule @main {
  // expected-error @+1 {{offset 32 is not a multiple of the arena's alignment 64}}
  %a = plan.alloc @m {offset = 32 : i64} : memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 64 : i64}
plan.schedule @main {
  // expected-error @+1 {{buffer [64, 80) exceeds the arena's peak_bytes 64}}
  %a = plan.alloc @m {offset = 64 : i64} : memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<4xf32>
  // expected-error @+1 {{queue 1 does not exist on device @cpu (1 queues)}}
  %t = plan.task "relu" on @cpu[1] ins(%a : memref<4xf32>) outs(%a : memref<4xf32>) {kernel_attrs = {}, name = "r", ops = []}
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.schedule @main {
  %w = plan.weight dense<1.0> : tensor<4xf32> : memref<4xf32>
  // expected-error @+1 {{output 0 writes a read-only plan.weight}}
  %t = plan.task "relu" on @cpu[0] ins(%w : memref<4xf32>) outs(%w : memref<4xf32>) {kernel_attrs = {}, name = "r", ops = []}
}

// -----

plan.schedule @main {
  // expected-error @+1 {{value of type 'tensor<4xf32>' does not match the buffer type 'memref<2xf32>'}}
  %w = plan.weight dense<1.0> : tensor<4xf32> : memref<2xf32>
}

// -----

plan.schedule @main {
  // expected-error @+1 {{offset 8 is not a multiple of 64}}
  %w = plan.weight dense<1.0> : tensor<4xf32> {offset = 8 : i64} : memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<4xf32>
  // expected-error @+1 {{cost_us entry 'cpu' must be a non-negative float or unit (cannot run)}}
  %t = plan.task "relu" on @cpu[0] ins(%a : memref<4xf32>) outs(%a : memref<4xf32>) {cost_us = {cpu = -1.0 : f64}, kernel_attrs = {}, name = "r", ops = []}
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<4xf32>
  // expected-error @+1 {{ends (1.000000e+00 us) before it starts (2.000000e+00 us)}}
  %t = plan.task "relu" on @cpu[0] ins(%a : memref<4xf32>) outs(%a : memref<4xf32>) {start_us = 2.0 : f64, end_us = 1.0 : f64, kernel_attrs = {}, name = "r", ops = []}
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<4xf32>
  %b = plan.alloc @m : memref<2xf32>
  // expected-error @+1 {{copies 'memref<4xf32>' into a different type 'memref<2xf32>'}}
  %t = plan.transfer %a -> %b on @cpu[0] {name = "c"} : memref<4xf32> -> memref<2xf32>
}

// -----

plan.schedule @main {
  %w = plan.weight dense<1.0> : tensor<4xf32> : memref<4xf32>
  // expected-error @+1 {{input must name a plan.alloc buffer}}
  plan.input "x" %w : memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<4xf32>
  // expected-error @+1 {{folded input must name a plan.weight buffer}}
  plan.input "x" %a {folded} : memref<4xf32>
}

// -----

plan.schedule @main {
  %w = plan.weight dense<1.0> : tensor<4xf32> : memref<4xf32>
  // expected-error @+1 {{output must name a plan.alloc or plan.state buffer}}
  plan.output "y" %w : memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
// expected-error @+1 {{peak_bytes 128 exceeds the arena's capacity_bytes 64}}
plan.arena @m {device = @cpu, alignment = 64 : i64, peak_bytes = 128 : i64, capacity_bytes = 64 : i64}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<8xf32>
  // expected-error @+1 {{bytes [24, 40) lie outside the source's 32 bytes}}
  %v = plan.view %a[24] : memref<8xf32> to memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<8xf32>
  // expected-error @+1 {{byte_offset 2 is not a multiple of the element size 4}}
  %v = plan.view %a[2] : memref<8xf32> to memref<4xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<8xf32>
  // expected-error @+1 {{element type 'i32' differs from the source's 'f32'}}
  %v = plan.view %a[0] : memref<8xf32> to memref<4xi32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.arena @m {device = @cpu, alignment = 64 : i64}
plan.schedule @main {
  %a = plan.alloc @m : memref<8xf32>
  %v = plan.view %a[0] : memref<8xf32> to memref<4xf32>
  // expected-error @+1 {{source must be a plan.alloc or plan.weight buffer}}
  %w = plan.view %v[0] : memref<4xf32> to memref<2xf32>
}

// -----

plan.device @cpu {kind = "cpu", queues = 1 : i64}
plan.schedule @main {
  %w = plan.weight dense<1.0> : tensor<8xf32> : memref<8xf32>
  %v = plan.view %w[16] : memref<8xf32> to memref<4xf32>
  // expected-error @+1 {{output 0 writes a read-only plan.weight}}
  %t = plan.task "relu" on @cpu[0] ins(%v : memref<4xf32>) outs(%v : memref<4xf32>) {kernel_attrs = {}, name = "r", ops = []}
}
