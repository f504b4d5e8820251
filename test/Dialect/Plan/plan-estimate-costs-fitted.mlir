// RUN: sed 's#@TARGET@#%S/Inputs/fitted-target.yaml#' %s | loom-opt -plan-estimate-costs | FileCheck %s
// RUN: sed 's#@TARGET@#%S/Inputs/fitted-target.yaml#' %s | loom-opt -plan-estimate-costs=cost-model=roofline | FileCheck %s --check-prefix=ROOF
// RUN: sed 's#@TARGET@#%S/Inputs/fitted-target.yaml#' %s | not loom-opt -plan-estimate-costs=cost-model=measured 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: plan-estimate-costs: cost-model is 'measured'; expected auto or roofline
// RUN: sed 's#@TARGET@#%S/Inputs/fitted-target.yaml#' %s | not loom-opt -plan-estimate-costs=threads=0 2>&1 | FileCheck %s --check-prefix=BADTHREADS
// BADTHREADS: error: plan-estimate-costs: threads is 0; expected 1 or more

// A target with a fit per thread count (Inputs/fitted-threads-target.yaml):
// relu 256xf32, 2048 B, with the fit for the plan's threads: 1 thread
// 1 + 2048/8e3 = 1.256 us, 2 threads 3 + 2048/16e3 = 3.128 us; 4 threads
// take the fit with the most threads below 4 (2).
// The one-thread fit measured weights going cold over 0 to 1 KiB
// (cold_above_kb 0.5, cold_ramp_kb 1): the plan's 144 + 48 = 192 B price
// 192/1024 = 0.1875 of the cold terms: the matmul costs 1 + 104/1e4 +
// 0.1875 * 48/2e3 = 1.0149 us. Without cold_above_kb, its 256-byte
// last-level cache (llc_kb
// 0.25) decides: the weights, twice over, do not fit in it, so the matmul
// reads its 48 weight bytes cold at 2 GB/s: 1 + 104/1e4 + 48/2e3 =
// 1.0344 us. The two-thread fit has no matmul family: the roofline,
// 1.0104 us.
// RUN: sed "/cold_above_kb/d; /cold_ramp_kb/d" %S/Inputs/fitted-threads-target.yaml > %t.llc.yaml
// RUN: sed 's#@TARGET@#%t.llc.yaml#' %s | loom-opt -plan-estimate-costs | FileCheck %s --check-prefix=LLC
// RUN: sed 's#@TARGET@#%S/Inputs/fitted-threads-target.yaml#' %s | loom-opt -plan-estimate-costs | FileCheck %s --check-prefix=T1
// RUN: sed 's#@TARGET@#%S/Inputs/fitted-threads-target.yaml#' %s | loom-opt -plan-estimate-costs=threads=2 | FileCheck %s --check-prefix=T2
// RUN: sed 's#@TARGET@#%S/Inputs/fitted-threads-target.yaml#' %s | loom-opt -plan-estimate-costs=threads=4 | FileCheck %s --check-prefix=T2
// T1: plan.task "relu" {{.*}}cost_us = {cpu = 1.256000e+00 : f64}
// T1: plan.task "matmul" {{.*}}cost_terms = {cpu = {cold = 4.500000e-03 : f64, dispatch = 1.000000e+00 : f64, dominant = "dispatch", memory = 1.040000e-02 : f64, model = "matmul"}}, cost_us = {cpu = 1.014900e+00 : f64}
// LLC: plan.task "matmul" {{.*}}cost_terms = {cpu = {cold = 2.400000e-02 : f64, dispatch = 1.000000e+00 : f64, dominant = "dispatch", memory = 1.040000e-02 : f64, model = "matmul"}}, cost_us = {cpu = 1.034400e+00 : f64}
// T2: plan.task "relu" {{.*}}cost_us = {cpu = 3.128000e+00 : f64}
// T2: plan.task "matmul" {{.*}}cost_us = {cpu = 1.010400e+00 : f64}

// The target's fitted families (Inputs/fitted-target.yaml), cache 1 KiB:
//   relu 256xf32 (elementwise: the class; relu has no family of its own):
//     2048 B: 1 + 0.5 + 2048/1e4 + (2048 - 1024)/5e3 = 1.9096 us, dispatch
//     the largest term.
//   depthwise conv X 1x4x8x8, W 4x1x3x3 (conv_depthwise): 2·256·9 = 4608
//     op, (256 + 36 + 256)·4 = 2192 B: 1 + 4 + 4608/2e3 + 2192/8e3 =
//     7.578 us, overhead the largest term.
//   the same conv with a silu epilogue (fused_conv, activation silu): one
//     exp per output element, 256 at 0.5 G/s = 0.512 us more: 8.09 us.
//   matmul 2x3 3x4: no family covers it: the roofline, 1 + max(48/6e4,
//     104/1e4) = 1.0104 us (default matmul efficiency 0.6).
// The roofline (cost-model=roofline) for relu: 1 + max(256/2.5e4, 2048/1e4)
// = 1.2048 us (default elementwise efficiency 0.25).

// CHECK: plan.task "relu" {{.*}}cost_terms = {cpu = {cache = 2.048000e-01 : f64, dispatch = 1.000000e+00 : f64, dominant = "dispatch", memory = 2.048000e-01 : f64, model = "elementwise", overhead = 5.000000e-01 : f64}}, cost_us = {cpu = 1.9096{{[0-9]*}} : f64}
// CHECK: plan.task "conv" {{.*}}cost_terms = {cpu = {compute = 2.304000e+00 : f64, dispatch = 1.000000e+00 : f64, dominant = "overhead", memory = 2.740000e-01 : f64, model = "conv_depthwise", overhead = 4.000000e+00 : f64}}, cost_us = {cpu = 7.578000e+00 : f64}
// CHECK: plan.task "fused_conv" {{.*}}cost_terms = {cpu = {compute = 2.304000e+00 : f64, dispatch = 1.000000e+00 : f64, dominant = "overhead", memory = 2.740000e-01 : f64, model = "conv_depthwise", overhead = 4.000000e+00 : f64, transcendental = 5.120000e-01 : f64}}, cost_us = {cpu = {{8\.09000|8\.08999}}{{[0-9e+]*}} : f64}
// CHECK: plan.task "matmul" {{.*}}cost_terms = {cpu = {compute = 8.000000e-04 : f64, dispatch = 1.000000e+00 : f64, dominant = "dispatch", memory = 1.040000e-02 : f64, model = "roofline"}}, cost_us = {cpu = 1.010400e+00 : f64}
// ROOF: plan.task "relu" {{.*}}cost_terms = {cpu = {compute = 1.024000e-02 : f64, dispatch = 1.000000e+00 : f64, dominant = "dispatch", memory = 2.048000e-01 : f64, model = "roofline"}}, cost_us = {cpu = 1.204800e+00 : f64}
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem : memref<256xf32>
    %y = plan.alloc @cpu_mem : memref<256xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<256xf32>) outs(%y : memref<256xf32>) {kernel_attrs = {}, name = "r", ops = ["r"]}
    %i = plan.alloc @cpu_mem : memref<1x4x8x8xf32>
    %w = plan.weight dense<1.0> : tensor<4x1x3x3xf32> : memref<4x1x3x3xf32>
    %o = plan.alloc @cpu_mem : memref<1x4x8x8xf32>
    %t1 = plan.task "conv" on @cpu[0] ins(%i, %w : memref<1x4x8x8xf32>, memref<4x1x3x3xf32>) outs(%o : memref<1x4x8x8xf32>) {kernel_attrs = {group = 4 : i64}, name = "c", ops = ["c"]}
    %o2 = plan.alloc @cpu_mem : memref<1x4x8x8xf32>
    %t3 = plan.task "fused_conv" on @cpu[0] ins(%i, %w : memref<1x4x8x8xf32>, memref<4x1x3x3xf32>) outs(%o2 : memref<1x4x8x8xf32>) {kernel_attrs = {group = 4 : i64, activation = "silu"}, name = "cs", ops = ["cs"]}
    %a = plan.alloc @cpu_mem : memref<2x3xf32>
    %b = plan.weight dense<1.0> : tensor<3x4xf32> : memref<3x4xf32>
    %c = plan.alloc @cpu_mem : memref<2x4xf32>
    %t2 = plan.task "matmul" on @cpu[0] ins(%a, %b : memref<2x3xf32>, memref<3x4xf32>) outs(%c : memref<2x4xf32>) {kernel_attrs = {}, name = "m", ops = ["m"]}
  }
}
