// RUN: sed 's|@TARGET@|%S/Inputs/twin-accel.yaml|' %s | loom-opt -split-input-file -plan-estimate-costs -plan-partition -mlir-elide-elementsattrs-if-larger=4 | FileCheck %s
// RUN: sed 's|@TARGET@|%S/Inputs/twin-accel.yaml|' %s | loom-opt -split-input-file -plan-estimate-costs -plan-partition=split=false -mlir-elide-elementsattrs-if-larger=4 | FileCheck %s --check-prefix=WHOLE
// RUN: sed 's|@TARGET@|%S/Inputs/twin-accel.yaml|' %s | loom-opt -split-input-file -plan-estimate-costs -plan-partition=algorithm=single:gpu -mlir-elide-elementsattrs-if-larger=4 | FileCheck %s --check-prefix=WHOLE
// RUN: sed 's|@TARGET@|%S/Inputs/twin-accel.yaml|' %s | loom-opt -split-input-file -plan-estimate-costs -plan-partition -mlir-elide-elementsattrs-if-larger=4 | FileCheck %s --check-prefix=COSTS
// RUN: sed 's|@TARGET@|%S/Inputs/twin-accel.yaml|' %s | loom-opt -split-input-file -plan-estimate-costs -plan-partition -plan-schedule -plan-allocate-memory -plan-verify -mlir-elide-elementsattrs-if-larger=4 | FileCheck %s --check-prefix=VERIFIED

// A 512x512x512 MatMul is compute bound on both accelerators (twin-accel:
// 1000 GFLOP/s each, 100 GB/s): 268 MFLOP take ~268 us on one, so it is
// split by rows of M, half per accelerator. Part 1 writes rows 0..256 of y in
// place (y lives in the GPU's arena); part 2 on the NPU writes its own buffer
// and a transfer copies it into rows 256..512 of y. Each part reads its rows
// of x (copied from host memory) and the whole weight.

// CHECK-LABEL: plan.schedule @main
// CHECK-DAG: %[[X:.*]] = plan.alloc @cpu_mem {name = "x"} : memref<512x512xf32>
// CHECK-DAG: %[[W:.*]] = plan.weight {{.*}}name = "w"
// CHECK-DAG: %[[Y:.*]] = plan.alloc @gpu_mem {name = "y"} : memref<512x512xf32>
// CHECK-DAG: %[[X0:.*]] = plan.view %[[X]][0] : memref<512x512xf32> to memref<256x512xf32>
// CHECK-DAG: %[[Y0:.*]] = plan.view %[[Y]][0] : memref<512x512xf32> to memref<256x512xf32>
// CHECK-DAG: %[[X1:.*]] = plan.view %[[X]][524288] : memref<512x512xf32> to memref<256x512xf32>
// CHECK-DAG: %[[Y1:.*]] = plan.view %[[Y]][524288] : memref<512x512xf32> to memref<256x512xf32>
// CHECK-DAG: %[[OWN:.*]] = plan.alloc @npu_mem {name = "y part@npu"} : memref<256x512xf32>
// CHECK-DAG: %[[XG:.*]] = plan.alloc @gpu_mem {name = "x@gpu"} : memref<256x512xf32>
// CHECK-DAG: %[[XN:.*]] = plan.alloc @npu_mem {name = "x@npu"} : memref<256x512xf32>
// CHECK-DAG: %[[CG:.*]] = plan.transfer %[[X0]] -> %[[XG]] on @gpu[0]
// CHECK-DAG: %[[CN:.*]] = plan.transfer %[[X1]] -> %[[XN]] on @npu[0]
// CHECK-DAG: %[[P1:.*]] = plan.task "matmul" on @gpu[0] ins(%[[XG]], %[[W]] : memref<256x512xf32>, memref<512x512xf32>) outs(%[[Y0]] : memref<256x512xf32>) after(%[[CG]]) {{.*}}name = "mm [part 1/2]", ops = ["mm"], split = "rows 0..256 of 512 along axis 0"}
// CHECK-DAG: %[[P2:.*]] = plan.task "matmul" on @npu[0] ins(%[[XN]], %[[W]] : memref<256x512xf32>, memref<512x512xf32>) outs(%[[OWN]] : memref<256x512xf32>) after(%[[CN]]) {{.*}}name = "mm [part 2/2]", ops = ["mm"], split = "rows 256..512 of 512 along axis 0"}
// CHECK-DAG: %[[BACK:.*]] = plan.transfer %[[OWN]] -> %[[Y1]] on @npu[0] after(%[[P2]]) {{.*}}name = "copy y part@npu"
// CHECK: plan.task "relu" {{.*}}after(%[[P1]], %[[BACK]]

// The parts' costs are the whole's scaled by their roofline share: on an
// accelerator, 2·256·512·512 FLOP / 1000 GFLOP/s = 134.218 us (compute bound:
// 1.5 MB / 100 GB/s = 15.7 us) plus 5 us dispatch = 139.218 us, against
// 268.435 + 5 = 273.435 us for the whole.
// COSTS: cost_us = {cpu = {{.*}}, gpu = 139.2177{{[0-9]*}} : f64, npu = 139.2177{{[0-9]*}} : f64}{{.*}}name = "mm [part 1/2]"

// WHOLE-LABEL: plan.schedule @main
// WHOLE-NOT: plan.view
// WHOLE: plan.task "matmul" {{.*}}cost_us = {cpu = {{.*}}, gpu = 273.4354{{[0-9]*}} : f64{{.*}}name = "mm", ops = ["mm"]

// VERIFIED: plan.schedule @main attributes {lower_bound_us = {{.*}}, makespan_us = {{.*}}, single_device_us = {cpu = {{.*}}, gpu = 301.4{{[0-9]*}} : f64, npu = 301.4{{[0-9]*}} : f64}}
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @gpu {kind = "gpu", queues = 1 : i64}
  plan.arena @gpu_mem {device = @gpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<512x512xf32>
    plan.input "x" %x : memref<512x512xf32>
    %w = plan.weight dense<1.0> : tensor<512x512xf32> {name = "w"} : memref<512x512xf32>
    %y = plan.alloc @cpu_mem {name = "y"} : memref<512x512xf32>
    %t0 = plan.task "matmul" on @cpu[0] ins(%x, %w : memref<512x512xf32>, memref<512x512xf32>) outs(%y : memref<512x512xf32>) {kernel_attrs = {}, name = "mm", ops = ["mm"]}
    %z = plan.alloc @cpu_mem {name = "z"} : memref<512x512xf32>
    %t1 = plan.task "relu" on @cpu[0] ins(%y : memref<512x512xf32>) outs(%z : memref<512x512xf32>) after(%t0) {kernel_attrs = {}, name = "r", ops = ["r"]}
    plan.output "z" %z : memref<512x512xf32>
  }
}

// -----

// Not split: a MatMul with one row (M = 1, a matrix-vector product: bandwidth
// bound, and only N, whose columns are strided, could be split), and a small
// MatMul (64x64x64: below split-min-us on its cheapest device).

// CHECK-LABEL: plan.schedule @main
// CHECK-NOT: plan.view
// CHECK: name = "gemv"
// CHECK: name = "small"
// WHOLE-LABEL: plan.schedule @main
// VERIFIED: plan.schedule @main
module attributes {plan.target = "@TARGET@"} {
  plan.device @cpu {kind = "cpu", queues = 1 : i64}
  plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64}
  plan.device @gpu {kind = "gpu", queues = 1 : i64}
  plan.arena @gpu_mem {device = @gpu, alignment = 64 : i64}
  plan.device @npu {kind = "npu", queues = 1 : i64}
  plan.arena @npu_mem {device = @npu, alignment = 64 : i64}
  plan.schedule @main {
    %x = plan.alloc @cpu_mem {name = "x"} : memref<1x4096xf32>
    plan.input "x" %x : memref<1x4096xf32>
    %w = plan.weight dense<1.0> : tensor<4096x4096xf32> {name = "w"} : memref<4096x4096xf32>
    %y = plan.alloc @cpu_mem {name = "y"} : memref<1x4096xf32>
    %t0 = plan.task "matmul" on @cpu[0] ins(%x, %w : memref<1x4096xf32>, memref<4096x4096xf32>) outs(%y : memref<1x4096xf32>) {kernel_attrs = {}, name = "gemv", ops = ["gemv"]}
    plan.output "y" %y : memref<1x4096xf32>
    %a = plan.alloc @cpu_mem {name = "a"} : memref<64x64xf32>
    plan.input "a" %a : memref<64x64xf32>
    %v = plan.weight dense<1.0> : tensor<64x64xf32> {name = "v"} : memref<64x64xf32>
    %b = plan.alloc @cpu_mem {name = "b"} : memref<64x64xf32>
    %t1 = plan.task "matmul" on @cpu[0] ins(%a, %v : memref<64x64xf32>, memref<64x64xf32>) outs(%b : memref<64x64xf32>) {kernel_attrs = {}, name = "small", ops = ["small"]}
    plan.output "b" %b : memref<64x64xf32>
  }
}
