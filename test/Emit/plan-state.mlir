// RUN: loom-opt %s -plan-from-loom=target=ryzen-ai-300 '-plan-bind-state=bind=past=present' -plan-estimate-costs -plan-partition=algorithm=single:gpu -plan-schedule -plan-allocate-memory -plan-verify | FileCheck %s --check-prefix=PLAN
// RUN: loom-opt %s -plan-from-loom=target=ryzen-ai-300 '-plan-bind-state=bind=past=present' -plan-estimate-costs -plan-partition=algorithm=single:gpu -plan-schedule -plan-allocate-memory -plan-verify | loom-translate --plan-to-json | FileCheck %s --check-prefix=JSON

// A state buffer through the whole plan pipeline on a SoC target, every
// task on the GPU: the state lies in no arena, so the partitioner copies
// the graph input x to the GPU but never the state (every device reads it
// in place); the memory planner leaves it out of the arenas (the GPU arena
// holds x@gpu, new and y: 192 bytes); plan-verify accepts the plan.

// PLAN: plan.arena @gpu_mem {alignment = 64 : i64, device = @gpu, peak_bytes = 192 : i64}
// PLAN: %[[S:.*]] = plan.state {name = "present"} : memref<1x2x8x4xf32>
// PLAN: plan.output "present" %[[S]]
// PLAN-COUNT-1: plan.transfer
// PLAN-NOT: plan.transfer
// PLAN: plan.task "state_write" on @gpu[0] ins(%{{.*}} : memref<1x2x2x4xf32>) outs(%[[S]] : memref<1x2x8x4xf32>)
// PLAN: plan.task "reduce_sum" on @gpu[0] ins(%[[S]], %{{.*}} : memref<1x2x8x4xf32>, memref<1xi64>)

// plan.json: the state is a buffer of arena "state" at offset 0, named by
// the top-level "state" list after the outputs; the output names it.

// JSON: "name": "present",
// JSON-NEXT: "arena": "state",
// JSON-NEXT: "offset": 0,
// JSON-NEXT: "size_bytes": 256,
// JSON: "outputs": [
// JSON-NEXT: {
// JSON-NEXT: "name": "present",
// JSON-NEXT: "buffer": [[B:[0-9]+]],
// JSON: "state": [
// JSON-NEXT: {
// JSON-NEXT: "name": "present",
// JSON-NEXT: "buffer": [[B]]
// JSON-NEXT: }
// JSON-NEXT: ],
// JSON-NEXT: "tasks": [
// JSON: "kernel": "state_write",
// JSON-NEXT: "attrs": {
// JSON-NEXT: "axis": {
// JSON-NEXT: "int": 2
// JSON-NEXT: },
// JSON-NEXT: "offset": {
// JSON-NEXT: "int": 6
module {
  func.func @main(%x: tensor<1x2x2x4xf32> {loom.name = "x"},
                  %past: tensor<1x2x6x4xf32> {loom.name = "past"})
      -> (tensor<1x2x8x4xf32> {loom.name = "present"},
          tensor<1x2x1x4xf32> {loom.name = "y"}) {
    %new = loom.neg(%x) : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> loc("new")
    %present = loom.concat(%past, %new) {axis = -2 : i64} : (tensor<1x2x6x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x8x4xf32> loc("cat")
    %axes = loom.constant dense<2> : tensor<1xi64>
    %y = loom.reduce_sum(%present, %axes) {keepdims = 1 : i64} : (tensor<1x2x8x4xf32>, tensor<1xi64>) -> tensor<1x2x1x4xf32> loc("sum")
    return %present, %y : tensor<1x2x8x4xf32>, tensor<1x2x1x4xf32>
  }
}
