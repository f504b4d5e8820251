//===- Passes.td - Passes of the plan dialect ---------------*- tablegen -*-===//
#ifndef PLAN_TRANSFORMS_PASSES
#define PLAN_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def PlanFromLoom : Pass<"plan-from-loom", "mlir::ModuleOp"> {
  let summary = "Turn the loom graph into a plan: buffers, weights and tasks";
  let description = [{
    Replaces `func.func @main` of a statically shaped `loom` module by a
    `plan.schedule @main` and declares the target's devices and arenas.
    Placement is trivial: every op becomes a task on queue 0 of the target's
    first CPU, in program (topological) order. Every `loom` op without a
    region becomes a task whose kernel is its mnemonic (fused and quantized
    ops of later passes pass through the same way); constants become
    `plan.weight`s, tensors `plan.alloc`s in the CPU arena. Each task waits
    for the tasks producing its inputs. Graph inputs and outputs get their own
    buffers (an output that is an input, a constant or another output is
    copied by an `identity` task); inputs folded at import
    (`--const-input`) are kept as folded inputs so that a runtime can check
    a given value against them.
  }];
  let dependentDialects = ["::loom::plan::PlanDialect"];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Name of the built-in target whose devices the plan uses">,
  ];
  let statistics = [
    Statistic<"numTasks", "num-tasks", "Number of tasks created">,
    Statistic<"numWeights", "num-weights", "Number of constants moved to weights">,
  ];
}

def PlanEstimateCosts : Pass<"plan-estimate-costs", "mlir::ModuleOp"> {
  let summary = "Estimate each task's time on every device of the target";
  let description = [{
    Sets `cost_us` on every task: for each `plan.device`, the roofline
    estimate of the cost model (FLOPs and bytes from the operand shapes
    against the device's figures in the target named by the module's
    `plan.target` attribute, plus its dispatch overhead), or `unit` where the
    device cannot run the kernel.
  }];
}

def PlanSchedule : Pass<"plan-schedule", "mlir::ModuleOp"> {
  let summary = "Predict start and end times in schedule order";
  let description = [{
    List scheduling over the given order: a task starts when its queue is
    free and every event it waits for is signalled, and takes its
    `cost_us` on its device. Sets `start_us`/`end_us` on every task and
    transfer and `makespan_us` on the schedule. Tasks without a cost on their
    device are an error.
  }];
}

def PlanAllocateMemory : Pass<"plan-allocate-memory", "mlir::ModuleOp"> {
  let summary = "Assign arena offsets by buffer liveness, and weights offsets";
  let description = [{
    Computes each buffer's lifetime over the schedule (first writer to last
    reader; graph inputs and outputs live for the whole run, so they never
    share memory with another buffer), places the
    buffers of each arena with the greedy best-fit planner and sets their
    `offset` and the arena's `peak_bytes`. Where a buffer reuses memory of an
    earlier one and the tasks involved run on different queues, the first
    writer of the new buffer also waits for every task that touched the old
    one. Weights get consecutive offsets in weights.bin, aligned to 64 bytes.
  }];
  let statistics = [
    Statistic<"numBuffers", "num-buffers", "Number of arena buffers placed">,
    Statistic<"peakBytes", "peak-bytes", "Sum of the arenas' peak bytes">,
    Statistic<"totalBytes", "total-bytes", "Sum of all arena buffer sizes">,
  ];
}

#endif // PLAN_TRANSFORMS_PASSES
