//===- PlanOps.td - The plan dialect ---------------------------*- tablegen -*-===//
//
// The executable plan: the target's devices and their memory arenas, buffers
// with an arena and an offset, constant weights, and tasks on device queues
// that read and write buffers. Every task and transfer produces a
// `!plan.event` that later tasks wait on; the order of the ops in a
// `plan.schedule` body is the schedule order on every queue.
//
//===----------------------------------------------------------------------===//
#ifndef PLAN_OPS
#define PLAN_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Plan_Dialect : Dialect {
  let name = "plan";
  let cppNamespace = "::loom::plan";
  let summary = "Executable plans: devices, arenas, buffers, tasks, transfers, events";
  let description = [{
    The last IR of the Loom pipeline before `plan.json` + `weights.bin`: each
    `loom` op became a task (a kernel call on one queue of one device), each
    tensor a buffer in a device arena (or a constant in the weights file),
    and each dependency an event.
  }];
  let useDefaultTypePrinterParser = 1;
}

class Plan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Plan_Dialect, mnemonic, traits>;

def Plan_EventType : TypeDef<Plan_Dialect, "Event"> {
  let mnemonic = "event";
  let summary = "completion of a task or transfer";
  let description = [{
    Signalled when the task that produced it has finished. A task that takes
    an event among its `after` operands starts only once it is signalled;
    across queues this is a runtime event, within a queue plain order.
  }];
}

def Plan_Buffer : AnyTypeOf<[AnyStaticShapeMemRef], "statically shaped buffer">;
def Plan_OptionalBuffer : AnyTypeOf<[AnyStaticShapeMemRef, NoneType],
                                    "buffer or none">;

//===----------------------------------------------------------------------===//
// Target-level ops
//===----------------------------------------------------------------------===//

def Plan_DeviceOp : Plan_Op<"device", [Symbol]> {
  let summary = "one device of the target";
  let description = [{
    A CPU, GPU or NPU with `queues` in-order queues. Tasks name it by symbol.

    ```mlir
    plan.device @cpu {kind = "cpu", queues = 1 : i64}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$kind,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$queues);
  let assemblyFormat = "$sym_name attr-dict";
  let hasVerifier = 1;
}

def Plan_ArenaOp : Plan_Op<"arena", [Symbol, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a device's memory arena";
  let description = [{
    One contiguous block of device memory; buffers live at offsets in it.
    `peak_bytes` is set by the memory planner; `capacity_bytes`, when the
    target limits the device's memory, bounds it.

    ```mlir
    plan.arena @cpu_mem {device = @cpu, alignment = 64 : i64, peak_bytes = 4096 : i64}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, FlatSymbolRefAttr:$device,
                       ConfinedAttr<I64Attr, [IntPowerOf2]>:$alignment,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$peak_bytes,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$capacity_bytes);
  let assemblyFormat = "$sym_name attr-dict";
  let hasVerifier = 1;
}

def Plan_ScheduleOp : Plan_Op<"schedule", [Symbol, NoTerminator, SingleBlock]> {
  let summary = "the tasks of one graph, in schedule order";
  let description = [{
    Holds the buffers, weights, inputs, outputs, tasks and transfers of one
    graph. On every queue, tasks run in the order they appear here.
    `makespan_us` is set by `plan-schedule`.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       OptionalAttr<F64Attr>:$makespan_us);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let extraClassDeclaration = [{
    mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

def Plan_AllocOp : Plan_Op<"alloc", [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a buffer in a device arena";
  let description = [{
    A tensor's storage: `size = elements × element bytes` at `offset` in the
    arena (set by `plan-allocate-memory`). `name` is the ONNX value name.

    ```mlir
    %0 = plan.alloc @cpu_mem {name = "y", offset = 64 : i64} : memref<1x8xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$arena, OptionalAttr<StrAttr>:$name,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$offset);
  let results = (outs Plan_Buffer:$buffer);
  let assemblyFormat = "$arena attr-dict `:` type($buffer)";
  let extraClassDeclaration = [{
    /// Bytes the buffer occupies (bool: one byte per element).
    int64_t getSizeInBytes();
  }];
}

def Plan_WeightOp : Plan_Op<"weight"> {
  let summary = "a constant tensor stored in weights.bin";
  let description = [{
    Read-only. `offset` in weights.bin is set by `plan-allocate-memory`.

    ```mlir
    %w = plan.weight dense<1.0> : tensor<4xf32> {offset = 0 : i64} : memref<4xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value, OptionalAttr<StrAttr>:$name,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$offset);
  let results = (outs Plan_Buffer:$buffer);
  let assemblyFormat = "$value attr-dict `:` type($buffer)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getSizeInBytes();
  }];
}

def Plan_StateOp : Plan_Op<"state"> {
  let summary = "a buffer that keeps its value from one run to the next";
  let description = [{
    State owned by the program that runs the plan, not by one run: a
    runtime allocates it once (zeroed), keeps its bytes between runs and may
    give several plans the same storage for the same `name` (the prefill and
    decode plans of a generation program share their KV cache this way,
    docs/generation.md). It lies in no device arena: on the shared-memory
    SoCs Loom targets every device reads and writes it in place, so no
    transfer is ever made for it. Tasks may read it before any task of the
    run writes it (they see the previous run's bytes), and a task may write
    part of it (`state_write`). A graph output may name it.

    ```mlir
    %kv = plan.state {name = "present.0.key"} : memref<1x4x256x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Plan_Buffer:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getSizeInBytes();
  }];
}

def Plan_ViewOp : Plan_Op<"view", [Pure]> {
  let summary = "a contiguous part of a buffer";
  let description = [{
    The `result`'s bytes are `[byte_offset, byte_offset + size)` of `source`
    (a plan.alloc or plan.weight buffer, not another view): the same memory,
    with its own static shape. A task that works on a slice of a tensor (one
    part of an op split across devices) reads or writes the slice in place,
    so the parts' results form their tensor without a concat.

    ```mlir
    %lo = plan.view %y[0] : memref<8x4xf32> to memref<4x4xf32>
    ```
  }];
  let arguments = (ins Plan_Buffer:$source,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$byte_offset);
  let results = (outs Plan_Buffer:$result);
  let assemblyFormat = [{
    $source `[` $byte_offset `]` attr-dict `:` type($source) `to` type($result)
  }];
  let hasVerifier = 1;
}

def Plan_NoneOp : Plan_Op<"none", [Pure]> {
  let summary = "an absent optional kernel operand";
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

def Plan_InputOp : Plan_Op<"input"> {
  let summary = "binds a graph input to its buffer";
  let description = [{
    Graph inputs in ONNX order. A `folded` input was bound to a constant at
    compile time (`--const-input`): its buffer is a `plan.weight` holding the
    value, which a runtime checks a given value against.
  }];
  let arguments = (ins StrAttr:$name, Plan_Buffer:$buffer, UnitAttr:$folded);
  let assemblyFormat = "$name $buffer attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def Plan_OutputOp : Plan_Op<"output"> {
  let summary = "binds a graph output to its buffer";
  let description = "Graph outputs in ONNX order; each has its own buffer.";
  let arguments = (ins StrAttr:$name, Plan_Buffer:$buffer);
  let assemblyFormat = "$name $buffer attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tasks
//===----------------------------------------------------------------------===//

def Plan_TaskOp : Plan_Op<"task", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "one kernel call on a device queue";
  let description = [{
    Runs `kernel` (a `loom` op mnemonic, or the name of a fused or quantized
    kernel) on queue `queue` of `device` once every `after` event is
    signalled; reads `ins`, writes `outs` (ONNX operand and result order,
    `none` for absent optional operands and unread results) and signals its
    event. `kernel_attrs` are the op's attributes; `ops` the ONNX node names
    the task covers; `cost_us` the estimate on every device of the target
    (`unit` where the device cannot run it); `start_us`/`end_us` the
    predicted schedule.

    ```mlir
    %e = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>)
           outs(%y : memref<4xf32>) {name = "relu1", ops = ["relu1"]}
    ```

    A control task (`kernel` "if" or "loop", `docs/plan-format.md`) holds
    its bodies as regions: "if" two (then, else), "loop" one. A body is one
    block of tasks that run in order on the control task's queue, without
    events between them, ended by a `plan.yield` naming the buffers the
    control task binds before each run of the body and takes after it.
    `ins` lists the control task's operands and every outer buffer its bodies
    read; its bodies write only buffers that no task outside reads or writes.

    ```mlir
    %e = plan.task "if" on @cpu[0] ins(%c, %x : memref<i1>, memref<4xf32>)
           outs(%y : memref<4xf32>) bodies {
      %t = plan.task "relu" on @cpu[0] ins(%x : memref<4xf32>)
             outs(%r : memref<4xf32>) {...}
      plan.yield "then_branch" results(%r : memref<4xf32>)
    }, {
      plan.yield "else_branch" results(%x : memref<4xf32>)
    } {name = "If_0", ...}
    ```
  }];
  let arguments = (ins StrAttr:$kernel, FlatSymbolRefAttr:$device,
                       I64Attr:$queue,
                       Variadic<Plan_OptionalBuffer>:$inputs,
                       Variadic<Plan_OptionalBuffer>:$outputs,
                       Variadic<Plan_EventType>:$deps,
                       StrAttr:$name,
                       DictionaryAttr:$kernel_attrs,
                       StrArrayAttr:$ops,
                       OptionalAttr<DictionaryAttr>:$cost_us,
                       OptionalAttr<F64Attr>:$start_us,
                       OptionalAttr<F64Attr>:$end_us);
  let results = (outs Plan_EventType:$done);
  let regions = (region VariadicRegion<SizedRegion<1>>:$bodies);
  let assemblyFormat = [{
    $kernel `on` $device `[` $queue `]`
    (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    (`outs` `(` $outputs^ `:` type($outputs) `)`)?
    (`after` `(` $deps^ `)`)? (`bodies` $bodies^)? attr-dict
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// A control task ("if" or "loop"): its bodies are sub-schedules.
    bool isControl() { return getKernel() == "if" || getKernel() == "loop"; }
    /// The plan.yield that ends body `i`.
    YieldOp getBodyYield(unsigned i);
  }];
}

def Plan_YieldOp : Plan_Op<"yield", [Terminator, HasParent<"TaskOp">,
                                     AttrSizedOperandSegments]> {
  let summary = "ends a control task's body";
  let description = [{
    `params` are the buffers the control task writes before each run of the
    body (a loop's iteration number, condition and carried values), `results`
    those it reads after (an If's branch results, a loop's next condition
    and carried values). `name` is the ONNX body's name.

    ```mlir
    plan.yield "body" params(%i, %c, %x : memref<i64>, memref<i1>, memref<4xf32>)
        results(%c2, %x2 : memref<i1>, memref<4xf32>)
    ```
  }];
  let arguments = (ins StrAttr:$name, Variadic<Plan_Buffer>:$params,
                       Variadic<Plan_Buffer>:$results);
  let assemblyFormat = [{
    $name (`params` `(` $params^ `:` type($params) `)`)?
    (`results` `(` $results^ `:` type($results) `)`)? attr-dict
  }];
}

def Plan_TransferOp : Plan_Op<"transfer", [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a copy between two buffers, usually in different arenas";
  let description = [{
    Runs on queue `queue` of `device` (the one that drives the copy).

    ```mlir
    %e = plan.transfer %a -> %b on @npu[0] : memref<4xf32> -> memref<4xf32>
    ```
  }];
  let extraClassDeclaration = [{
    /// The link it uses: "FROM->TO", the devices of the two buffers' arenas.
    std::string getLink();
  }];
  let arguments = (ins Plan_Buffer:$source, Plan_Buffer:$target,
                       FlatSymbolRefAttr:$device, I64Attr:$queue,
                       Variadic<Plan_EventType>:$deps,
                       StrAttr:$name,
                       OptionalAttr<DictionaryAttr>:$cost_us,
                       OptionalAttr<F64Attr>:$start_us,
                       OptionalAttr<F64Attr>:$end_us);
  let results = (outs Plan_EventType:$done);
  let assemblyFormat = [{
    $source `->` $target `on` $device `[` $queue `]`
    (`after` `(` $deps^ `)`)? attr-dict `:` type($source) `->` type($target)
  }];
  let hasVerifier = 1;
}

#endif // PLAN_OPS
