// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-estimate-costs=cost-model=roofline | FileCheck %s
// A device precision that is neither auto nor exact:
// RUN: not loom-opt %s -split-input-file -plan-estimate-costs=device-precision=half 2>&1 | FileCheck %s --check-prefix=PRECISION
// PRECISION: error: plan-estimate-costs: device-precision is 'half'; expected auto or exact

// Roofline costs (cost-model=roofline leaves host.yaml's fitted model aside;
// plan-estimate-costs-fitted.mlir tests that) on the built-in `host` target
// (targets/host.yaml: 160 GFLOP/s
// peak, dense efficiency 0.5, other 0.05, 20 GB/s, 1 us dispatch):
//   relu 4xf32:      4 FLOP, 32 B   -> 1 + max(4/8e3, 32/2e4)   = 1.0016 us
//   matmul 2x3 3x4: 48 FLOP, 104 B  -> 1 + max(48/8e4, 104/2e4) = 1.0052 us

// CHECK-LABEL: plan.schedule @main
// CHECK: plan.task "relu" {{.*}}cost_us = {cpu = 1.001600e+00 : f64}
// CHECK: plan.task "matmul" {{.*}}cost_us = {cpu = 1.005200e+00 : f64}
module attributes {plan.target = "host"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem : memref<4xf32>
    %y = plan.alloc @cpu_mem : memref<4xf32>
    %t0 = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) {kernel_attrs = {}, name = "r", ops = ["r"]}
    %a = plan.alloc @cpu_mem : memref<2x3xf32>
    %b = plan.weight dense<1.0> : tensor<3x4xf32> : memref<3x4xf32>
    %c = plan.alloc @cpu_mem : memref<2x4xf32>
    %t1 = plan.task "matmul" on @cpu[0] ins(%a, %b : memref<2x3xf32>, memref<3x4xf32>) outs(%c : memref<2x4xf32>) {kernel_attrs = {}, name = "m", ops = ["m"]}
  }
}

// -----

// expected-error @+1 {{plan-estimate-costs: the module has no plan.target attribute (run plan-from-loom first)}}
module {
}

// -----

module attributes {plan.target = "host"} {
  // expected-error @+1 {{device @npu is not in target 'host'}}
  plan.device @npu {kind = "npu", queues = 1 : i64}
}

// -----

// expected-error @+1 {{unknown target 'nosuchsoc'}}
module attributes {plan.target = "nosuchsoc"} {
}
