//===- Passes.h - Passes of the plan dialect --------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H
#define LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H

#include "Plan/PlanOps.h"
#include "loom/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace loom::target {
struct TargetDesc;
} // namespace loom::target
namespace loom::cost {
struct KernelDesc;
} // namespace loom::cost

namespace loom::plan {
/// The target named by the module's `plan.target` attribute (a built-in name
/// or a YAML file), for the pass `passName`; errors on the module.
mlir::FailureOr<loom::target::TargetDesc>
loadPlanTarget(mlir::ModuleOp module, llvm::StringRef passName);

/// The cost model's view of a plan.task or plan.transfer (kernel name,
/// operand shapes and types, which operands are weights); false for other
/// ops.
bool describeKernel(mlir::Operation *op, loom::cost::KernelDesc &kernel);

/// The packed weight formats task `op` reads (cost::KernelDesc's): for
/// qmatmul, qconv and a packed dequantize_linear, "int8", "int4" or
/// "ternary" by `w_bits`, plus "2:4" with `w_sparsity`; nothing for other
/// kernels.
std::vector<std::string> weightFormats(mlir::Operation *op);

/// The 16-bit float type task `op` runs in on `device`, from its
/// `reduced_precision` attribute (plan-estimate-costs with
/// device-precision=auto); nullopt: its own types.
std::optional<loom::target::DType> reducedPrecisionOn(mlir::Operation *op,
                                                      llvm::StringRef device);

/// How a task can be split into parts that each compute a contiguous range
/// of rows of its output (see SplitTasks.cpp).
struct SplitGeometry {
  /// The output dimension split (its rows are contiguous in memory: every
  /// outer dimension has size 1) and its size.
  unsigned outputAxis = 0;
  int64_t extent = 0;
  /// For each input: the dimension sliced along with the output (the same
  /// rows), or -1 when every part reads the whole input.
  llvm::SmallVector<int> inputAxis;
};

/// The split geometry of `task` (kernels matmul, gemm, conv and their fused
/// forms), or nullopt when its output cannot be split into contiguous row
/// ranges with contiguous input slices.
std::optional<SplitGeometry> splitGeometry(TaskOp task);

/// Replaces `task` by one task per range [bounds[i], bounds[i + 1]) of the
/// geometry's output axis (bounds strictly increasing from 0 to the
/// extent); each part reads and writes `plan.view`s, so the parts' results
/// form the original output buffer in place. Tasks waiting on `task` wait on
/// every part. The parts are named `NAME [part i/n]`, keep `ops` and the
/// kernel attributes, and get `cost_us` scaled from the task's by the
/// roofline estimates of part and whole on each device (so measured costs
/// stay measured in proportion).
llvm::SmallVector<TaskOp> splitTask(TaskOp task, const SplitGeometry &geometry,
                                    llvm::ArrayRef<int64_t> bounds,
                                    const loom::target::TargetDesc &target);

#define GEN_PASS_DECL
#include "Plan/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

#endif // LOOM_DIALECT_PLAN_TRANSFORMS_PASSES_H
