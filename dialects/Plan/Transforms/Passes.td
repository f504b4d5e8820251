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
           "Built-in target name or YAML file whose devices the plan uses">,
  ];
  let statistics = [
    Statistic<"numTasks", "num-tasks", "Number of tasks created">,
    Statistic<"numWeights", "num-weights", "Number of constants moved to weights">,
  ];
}

def PlanBindState : Pass<"plan-bind-state", "mlir::ModuleOp"> {
  let summary = "Keep a cache output in a state buffer, written in place";
  let description = [{
    For each `bind` entry `INPUT=OUTPUT` (a graph input whose value is the
    graph output's value of the previous run, such as a decoder's
    `past_key_values.0.key` and `present.0.key`), turns the output into a
    `plan.state` named OUTPUT and drops the input. Two forms are accepted:

    - OUTPUT = `concat(INPUT, NEW)` along one axis, with INPUT read by
      nothing else: the concat becomes a `state_write` task that writes NEW
      into the state at offset `INPUT`'s extent along that axis (attributes
      `axis` and `offset`); the state's first part already holds the cache,
      so nothing else is copied;
    - INPUT has no elements and no task reads it: the tasks writing OUTPUT
      write the state.

    Anything else is an error at the input that names its readers. Runs
    right after `plan-from-loom`, before costs and placement.

    ```mlir
    // before: %e = plan.task "concat" ins(%past, %new) outs(%present) {axis = 2}
    // after:
    %kv = plan.state {name = "present.0.key"} : memref<1x4x8x32xf32>
    %e = plan.task "state_write" ins(%new : memref<1x4x1x32xf32>)
           outs(%kv : memref<1x4x8x32xf32>) {kernel_attrs = {axis = 2, offset = 7}}
    ```
  }];
  let options = [
    ListOption<"bindings", "bind", "std::string",
               "INPUT=OUTPUT pairs: the output becomes a state buffer that "
               "the input's value lives in">,
  ];
  let statistics = [
    Statistic<"numStates", "num-states", "Number of state buffers made">,
  ];
}

def PlanEstimateCosts : Pass<"plan-estimate-costs", "mlir::ModuleOp"> {
  let summary = "Estimate each task's time on every device of the target";
  let description = [{
    Sets `cost_us` on every task: for each `plan.device`, the roofline
    estimate of the cost model (FLOPs and bytes from the operand shapes
    against the device's figures in the target named by the module's
    `plan.target` attribute, plus its dispatch overhead), or `unit` where the
    device cannot run the kernel. With `cost-table=FILE` (a measured cost
    table, docs/targets.md, e.g. written by `loom-profile`), a task whose
    kernel signature has an entry for a device gets that measured time there
    instead. A device whose target entry has a fitted cost model
    (`fitted`, docs/targets.md) is priced by it for the kernel families it
    lists (`cost-model=roofline` ignores the fit); a target with fits for
    several thread counts is priced by the one for `threads` (the threads
    each kernel will run with, `loomc --kernel-threads`; the nearest fewer
    threads where there is none for that count). A share of every call's
    weights is priced cold by the plan's weight bytes and that fit's
    `cold_above_kb` / `cold_ramp_kb` (FittedModel::coldShare) (docs/targets.md, "Cold weights"). Each task also gets `cost_terms`: per device with an estimate
    (not a measurement), `{model, dominant, dispatch, overhead, compute,
    memory, cache, transcendental, cold}`: the model (`roofline` or the fitted family), the
    largest term, and the non-zero terms in µs. The statistic `num-measured` counts the tasks and transfers that
    found at least one entry, and so does the module attribute
    `plan.cost_table` (`{file, target, measured_tasks}`), which loomc's
    summary prints. A table whose `target` is not the plan's target is an
    error, or with `allow-foreign-cost-table` a warning.

    With `device-precision=auto`, a task whose compute type is f32 also gets
    a cost on a device that has no f32 arithmetic but bf16 or f16 (the
    built-in NPUs): `loom::cost::reducedFloatType`, priced at that type's
    peak plus converting its f32 operands; the task records those devices
    in `reduced_precision` (`{npu = "bf16"}`), and a plan places it there in
    that type (docs/plan-format.md, task `precision`).
  }];
  let options = [
    Option<"costTable", "cost-table", "std::string", "\"\"",
           "measured cost table (JSON) whose entries replace the estimates">,
    Option<"allowForeignCostTable", "allow-foreign-cost-table", "bool",
           "false",
           "use a cost table measured on another target (a warning)">,
    Option<"costModel", "cost-model", "std::string", "\"auto\"",
           "auto: a device's fitted cost model where the target has one, "
           "else the roofline; roofline: the roofline everywhere">,
    Option<"devicePrecision", "device-precision", "std::string", "\"exact\"",
           "auto: an f32 task may run on a device without f32 in its bf16 "
           "or f16 (recorded in `reduced_precision`); exact: f32 only">,
    Option<"threads", "threads", "int", "1",
           "threads each kernel runs with: a device with fits for several "
           "thread counts is priced by DeviceDesc::fitFor(threads)">,
  ];
  let statistics = [
    Statistic<"numMeasured", "num-measured",
              "Number of tasks whose cost came from the cost table">,
  ];
}

def PlanPartition : Pass<"plan-partition", "mlir::ModuleOp"> {
  let summary = "Assign each task a device and queue, with transfers between devices";
  let description = [{
    Builds a partitioning problem from the plan (tasks with their `cost_us`
    on every device, data edges with their bytes, transfer costs from the
    target's links, graph inputs as a source pinned to the first CPU) and
    solves it with `algorithm`: `auto` (HEFT refined by local search, never
    worse than the best single-device plan), `heft`, `greedy`, `exact`
    (graphs of at most 20 tasks) or `single:DEVICE`. Then moves each task to
    its device and queue, moves its output buffers to that device's arena,
    inserts a `plan.transfer` (into a new buffer on the consumer's device)
    for every buffer read on another device, and orders the schedule by the
    algorithm's start times. Sets `single_device_us` on the schedule (the
    makespan of every single-device plan, `unit` where a device cannot run
    the whole graph) and `fallback` on tasks that some device cannot run.

    Memory: a device whose arena has `capacity_bytes` may hold at most that
    many bytes of task outputs (a conservative rule: buffer reuse is
    ignored); when no placement satisfies it, the pass places without it and
    leaves the real check to `plan-allocate-memory`.

    Co-execution (`split`, not with `single:` or `exact`): a MatMul, Gemm or
    Conv task costing at least `split-min-us` on its cheapest device, compute
    bound on its two cheapest devices and predicted to run faster as two
    parts in proportion to their speeds, is split into two tasks that each
    compute a contiguous range of the output's rows into a `plan.view` of
    the one output buffer (no concat; a part on another device than the
    buffer's writes its rows into its own buffer and a transfer copies them
    into place). The split plan is solved as a whole and kept only when its
    makespan is at least 5% lower than the unsplit plan's.
  }];
  let options = [
    Option<"algorithm", "algorithm", "std::string", "\"auto\"",
           "auto, heft, greedy, exact or single:DEVICE">,
    Option<"split", "split", "bool", "true",
           "Try splitting heavy MatMul/Gemm/Conv tasks across two devices">,
    Option<"splitMinUs", "split-min-us", "double", "50.0",
           "Only tasks costing at least this many µs on their cheapest "
           "device are split">,
  ];
  let statistics = [
    Statistic<"numTransfers", "num-transfers", "Number of transfers inserted">,
    Statistic<"numSplit", "num-split", "Number of tasks split across two devices">,
  ];
}

def PlanSchedule : Pass<"plan-schedule", "mlir::ModuleOp"> {
  let summary = "Predict start and end times in schedule order";
  let description = [{
    List scheduling over the given order: a task starts when its queue is
    free and every event it waits for is signalled, and takes its
    `cost_us` on its device; a transfer occupies the link between its two
    arenas' devices instead of a queue. Sets `start_us`/`end_us` on every
    task and transfer, and on the schedule `makespan_us` and
    `lower_bound_us`: the largest of the critical path with every task at
    its cheapest device and free transfers, the total cheapest work divided
    by the number of queues of all devices (dividing by devices is not a
    bound when a device has several queues), and the work bound of the
    fractional relaxation (`loom::partition::workLowerBound`), which
    accounts for devices that are slower or cannot run a task. Tasks without a cost on their
    device are an error.
  }];
}

def PlanAllocateMemory : Pass<"plan-allocate-memory", "mlir::ModuleOp"> {
  let summary = "Assign arena offsets by buffer liveness, and weights offsets";
  let description = [{
    Computes each buffer's lifetime over the schedule (first writer to last
    reader, by predicted time when the tasks have `start_us`/`end_us`, else
    by position; graph inputs and outputs live for the whole run, so they
    never share memory with another buffer), places the
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

def PlanVerify : Pass<"plan-verify", "mlir::ModuleOp"> {
  let summary = "Check that a scheduled, allocated plan is executable as predicted";
  let description = [{
    Checks the properties a runtime relies on, beyond what op verifiers can
    see: every task runs on a device that can run it (its `cost_us` entry
    there is a number), starts no earlier than each of its dependencies ends,
    and overlaps no other task of its queue (transfers: of its link); every buffer a task reads is
    written by one of its dependencies or earlier on its own queue; buffers
    of one arena never share memory while both are live (inputs and outputs
    live for the whole run). The first violation is an error on the
    offending op. loomc runs it on every plan it writes.
  }];
}

#endif // PLAN_TRANSFORMS_PASSES
