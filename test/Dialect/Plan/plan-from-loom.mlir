// RUN: loom-opt %s -split-input-file -verify-diagnostics -plan-from-loom | FileCheck %s

// Every op becomes a task on @cpu[0] in program order; constants become
// weights; each task waits for the producers of its inputs.

// CHECK: plan.device @cpu {kind = "cpu", queues = 1 : i64}
// CHECK: plan.arena @cpu_mem {alignment = 64 : i64, device = @cpu}
// CHECK-LABEL: plan.schedule @main
// CHECK: %[[X:.*]] = plan.alloc @cpu_mem {name = "x"} : memref<2x3xf32>
// CHECK: plan.input "x" %[[X]] : memref<2x3xf32>
// CHECK: %[[W:.*]] = plan.weight dense<1.000000e+00> : tensor<3x4xf32> {name = "w"} : memref<3x4xf32>
// CHECK: %[[MM:.*]] = plan.alloc @cpu_mem {name = "mm"} : memref<2x4xf32>
// CHECK: %[[T0:.*]] = plan.task "matmul" on @cpu[0] ins(%[[X]], %[[W]] : memref<2x3xf32>, memref<3x4xf32>) outs(%[[MM]] : memref<2x4xf32>) {kernel_attrs = {}, name = "mm", ops = ["mm"]}
// CHECK: %[[Y:.*]] = plan.alloc @cpu_mem {name = "y"} : memref<2x4xf32>
// CHECK: plan.task "relu" on @cpu[0] ins(%[[MM]] : memref<2x4xf32>) outs(%[[Y]] : memref<2x4xf32>) after(%[[T0]]) {kernel_attrs = {}, name = "act", ops = ["act"]}
// CHECK: plan.output "y" %[[Y]] : memref<2x4xf32>
// CHECK-NOT: func.func
module {
  func.func @main(%x: tensor<2x3xf32> {loom.name = "x"}) -> (tensor<2x4xf32> {loom.name = "y"}) {
    %w = loom.constant dense<1.0> : tensor<3x4xf32> loc("w")
    %mm = loom.matmul(%x, %w) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32> loc("mm")
    %y = loom.relu(%mm) : (tensor<2x4xf32>) -> tensor<2x4xf32> loc("act")
    return %y : tensor<2x4xf32>
  }
}

// -----

// Attributes pass through as kernel_attrs; absent optional operands and
// results nobody reads become plan.none.

// CHECK-LABEL: plan.schedule @main
// CHECK: %[[NONE:.*]] = plan.none
// CHECK: plan.task "conv" on @cpu[0] ins(%{{.*}}, %{{.*}}, %[[NONE]] : memref<1x1x4x4xf32>, memref<1x1x3x3xf32>, none) outs(%{{.*}} : memref<1x1x2x2xf32>) {kernel_attrs = {auto_pad = "NOTSET", group = 1 : i64, kernel_shape = array<i64: 3, 3>}
// CHECK: plan.task "max_pool" on @cpu[0] ins(%{{.*}} : memref<1x1x2x2xf32>) outs(%{{.*}}, %[[NONE]] : memref<1x1x1x1xf32>, none)
module {
  func.func @main(%x: tensor<1x1x4x4xf32> {loom.name = "x"}) -> (tensor<1x1x1x1xf32> {loom.name = "y"}) {
    %w = loom.constant dense<1.0> : tensor<1x1x3x3xf32>
    %n = loom.none
    %c = loom.conv(%x, %w, %n) {group = 1 : i64, kernel_shape = array<i64: 3, 3>} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>, none) -> tensor<1x1x2x2xf32> loc("c")
    %p, %i = loom.max_pool(%c) {kernel_shape = array<i64: 2, 2>} : (tensor<1x1x2x2xf32>) -> (tensor<1x1x1x1xf32>, tensor<1x1x1x1xi64>) loc("p")
    return %p : tensor<1x1x1x1xf32>
  }
}

// -----

// Outputs get their own buffers: an output that is an input, a constant or
// another output is copied by an identity task.

// CHECK-LABEL: plan.schedule @main
// CHECK: %[[X:.*]] = plan.alloc @cpu_mem {name = "x"} : memref<2xf32>
// CHECK: %[[C:.*]] = plan.weight dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[N:.*]] = plan.alloc @cpu_mem {name = "a"} : memref<2xf32>
// CHECK: %[[T:.*]] = plan.task "neg" on @cpu[0] ins(%[[X]] : memref<2xf32>) outs(%[[N]] : memref<2xf32>)
// CHECK: plan.output "a" %[[N]]
// CHECK: %[[COPY1:.*]] = plan.alloc @cpu_mem {name = "b"} : memref<2xf32>
// CHECK: plan.task "identity" on @cpu[0] ins(%[[N]] : memref<2xf32>) outs(%[[COPY1]] : memref<2xf32>) after(%[[T]]) {kernel_attrs = {}, name = "copy of output b", ops = ["copy of output b"]}
// CHECK: plan.output "b" %[[COPY1]]
// CHECK: %[[COPY2:.*]] = plan.alloc @cpu_mem {name = "c"} : memref<2xf32>
// CHECK: plan.task "identity" on @cpu[0] ins(%[[X]] : memref<2xf32>) outs(%[[COPY2]] : memref<2xf32>) {
// CHECK: plan.output "c" %[[COPY2]]
// CHECK: %[[COPY3:.*]] = plan.alloc @cpu_mem {name = "d"} : memref<2xf32>
// CHECK: plan.task "identity" on @cpu[0] ins(%[[C]] : memref<2xf32>) outs(%[[COPY3]] : memref<2xf32>) {
// CHECK: plan.output "d" %[[COPY3]]
module {
  func.func @main(%x: tensor<2xf32> {loom.name = "x"}) -> (tensor<2xf32> {loom.name = "a"}, tensor<2xf32> {loom.name = "b"}, tensor<2xf32> {loom.name = "c"}, tensor<2xf32> {loom.name = "d"}) {
    %c = loom.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %n = loom.neg(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("n")
    return %n, %n, %x, %c : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  }
}

// -----

// Inputs folded at import keep their place among the inputs.

// CHECK-LABEL: plan.schedule @main
// CHECK: %[[A:.*]] = plan.alloc @cpu_mem {name = "a"} : memref<2xf32>
// CHECK: plan.input "a" %[[A]]
// CHECK: %[[K:.*]] = plan.weight dense<[3, 4]> : tensor<2xi64> {name = "k"} : memref<2xi64>
// CHECK: plan.input "k" %[[K]] {folded}
// CHECK: %[[B:.*]] = plan.alloc @cpu_mem {name = "b"} : memref<2xf32>
// CHECK: plan.input "b" %[[B]]
module attributes {loom.folded_inputs = [{index = 1 : i64, name = "k", value = dense<[3, 4]> : tensor<2xi64>}]} {
  func.func @main(%a: tensor<2xf32> {loom.name = "a"}, %b: tensor<2xf32> {loom.name = "b"}) -> (tensor<2xf32> {loom.name = "y"}) {
    %y = loom.add(%a, %b) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    return %y : tensor<2xf32>
  }
}

// -----

module {
  func.func @main(%m: tensor<i64> {loom.name = "m"}, %x: tensor<2xf32> {loom.name = "x"}) -> (tensor<2xf32> {loom.name = "y"}) {
    %none = loom.none
    // expected-error @+1 {{loop has no bound on its trip count (loom-check-static-shapes sets loom.max_trip_count)}}
    %y = loom.loop(%m, %none, %x) {
    ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
      loom.yield %c, %v : tensor<i1>, tensor<2xf32>
    } : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32>
    return %y : tensor<2xf32>
  }
}

// -----

module {
  func.func @main(%init: tensor<2xf32> {loom.name = "init"}, %x: tensor<3x2xf32> {loom.name = "x"}) -> (tensor<2xf32> {loom.name = "y"}) {
    // expected-error @+1 {{cannot plan 'loom.scan': control flow must be folded or unrolled first (bind the inputs it depends on with --const-input)}}
    %r = loom.scan(%init, %x) {
    ^bb0(%sum: tensor<2xf32>, %next: tensor<2xf32>):
      loom.yield %sum : tensor<2xf32>
    } {num_scan_inputs = 1 : i64} : (tensor<2xf32>, tensor<3x2xf32>) -> tensor<2xf32>
    return %r : tensor<2xf32>
  }
}

// -----

module {
  // expected-error @+1 {{input 'x' has type 'tensor<?xf32>'; plans need static shapes (bind them with --input-shape or --dim)}}
  func.func @main(%x: tensor<?xf32> {loom.name = "x"}) -> (tensor<?xf32> {loom.name = "y"}) {
    return %x : tensor<?xf32>
  }
}

// -----

// expected-error @+1 {{plan-from-loom: the module has no func.func @main with a body}}
module {
}

// -----

// A fused_elementwise region becomes one task whose attributes are the body
// as a program (docs/fused-ops.md): values 0-2 are the inputs, 3.. the
// instructions; Clip's constant bounds become parameters (an absent max is
// +inf), GELU's tanh form is `gelu_tanh`, LeakyRelu keeps its alpha. The
// task covers every node of the fused location.

// CHECK-LABEL: plan.schedule @main
// CHECK: plan.task "fused_elementwise" {{.*}}kernel_attrs = {body_argc = array<i64: 2, 1, 1, 1>, body_args = array<i64: 0, 1, 3, 4, 5>, body_ops = ["mul", "gelu_tanh", "leaky_relu", "clip"], body_paramc = array<i64: 0, 0, 1, 2>, body_params = array<f64: 0.10000000149011612, 0.000000e+00, 0x7FF0000000000000>, body_results = array<i64: 6>}, name = "m", ops = ["m", "g", "l", "c"]}
module {
  func.func @main(%x: tensor<8xf32> {loom.name = "x"}, %y: tensor<8xf32> {loom.name = "y"}) -> (tensor<8xf32> {loom.name = "r"}) {
    %zero = loom.constant dense<0.0> : tensor<f32> loc("zero")
    %r = loom.fused_elementwise(%x, %y, %zero) {
    ^bb0(%a: tensor<8xf32>, %b: tensor<8xf32>, %lo: tensor<f32>):
      %none = loom.none
      %m = loom.mul(%a, %b) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
      %g = loom.gelu(%m) {approximate = "tanh"} : (tensor<8xf32>) -> tensor<8xf32>
      %l = loom.leaky_relu(%g) {alpha = 0.1 : f32} : (tensor<8xf32>) -> tensor<8xf32>
      %c = loom.clip(%l, %lo, %none) : (tensor<8xf32>, tensor<f32>, none) -> tensor<8xf32>
      loom.fused_yield %c : tensor<8xf32>
    } : (tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> tensor<8xf32> loc(fused["m", "g", "l", "c"])
    return %r : tensor<8xf32>
  }
}
