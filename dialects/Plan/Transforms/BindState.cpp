//===- BindState.cpp - Cache outputs as state buffers written in place ----===//
//
// A decoder exported with its KV cache as inputs and outputs computes
// `present = Concat(past, new)`: every run copies the whole cache into a new
// tensor. A generation program keeps the cache instead: the output becomes a
// plan.state (its bytes live from one run to the next), the input is gone,
// and the concat becomes a `state_write` of the new entries alone into the
// state's tail. See docs/plan-format.md ("state") and docs/generation.md.
//
//===----------------------------------------------------------------------===//
#include "Plan/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace loom::plan {
#define GEN_PASS_DEF_PLANBINDSTATE
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

/// The tasks (outer schedule order) whose inputs or outputs name `buffer`
/// (or a view of it).
SmallVector<TaskOp> tasksTouching(Block &body, Value buffer, bool outputs) {
  SmallVector<TaskOp> found;
  for (auto task : body.getOps<TaskOp>()) {
    auto list = outputs ? task.getOutputs() : task.getInputs();
    if (llvm::any_of(list, [&](Value v) {
          return isa<MemRefType>(v.getType()) && rootBuffer(v) == buffer;
        }))
      found.push_back(task);
  }
  return found;
}

/// The axis where `past` and `present` differ (same rank, same element
/// type, every other dimension equal), or -1.
int64_t growAxis(MemRefType past, MemRefType present) {
  if (past.getRank() != present.getRank() ||
      past.getElementType() != present.getElementType())
    return -1;
  int64_t axis = -1;
  for (int64_t d = 0; d < past.getRank(); ++d)
    if (past.getDimSize(d) != present.getDimSize(d)) {
      if (axis >= 0 || past.getDimSize(d) > present.getDimSize(d))
        return -1;
      axis = d;
    }
  return axis;
}

struct PlanBindStatePass
    : public loom::plan::impl::PlanBindStateBase<PlanBindStatePass> {
  using Base::Base;

  void runOnOperation() override {
    if (bindings.empty())
      return;
    FailureOr<ScheduleOp> schedule = getPlanSchedule(getOperation());
    if (failed(schedule))
      return signalPassFailure();
    for (const std::string &entry : bindings) {
      auto [input, output] = StringRef(entry).split('=');
      if (input.empty() || output.empty()) {
        getOperation().emitError("plan-bind-state: '")
            << entry << "' is not INPUT=OUTPUT";
        return signalPassFailure();
      }
      if (failed(bind(schedule->getBodyBlock(), input, output)))
        return signalPassFailure();
      ++numStates;
    }
  }

  LogicalResult bind(Block &body, StringRef inputName, StringRef outputName) {
    InputOp in;
    OutputOp out;
    for (Operation &op : body) {
      if (auto i = dyn_cast<InputOp>(op); i && i.getName() == inputName)
        in = i;
      if (auto o = dyn_cast<OutputOp>(op); o && o.getName() == outputName)
        out = o;
    }
    ModuleOp module = getOperation();
    if (!in || in.getFolded())
      return module.emitError("plan-bind-state: the plan has no graph input '")
             << inputName << "'" << (in ? " (it was folded)" : "");
    if (!out)
      return module.emitError("plan-bind-state: the plan has no graph output '")
             << outputName << "'";
    Value past = in.getBuffer(), present = out.getBuffer();
    auto pastType = cast<MemRefType>(past.getType());
    auto presentType = cast<MemRefType>(present.getType());
    auto presentAlloc = present.getDefiningOp<AllocOp>();
    if (!presentAlloc || llvm::any_of(body.getOps<OutputOp>(), [&](OutputOp o) {
          return o != out && o.getBuffer() == present;
        }))
      return out.emitError("'")
             << outputName << "' cannot become a state buffer: it shares its "
                              "buffer with another output";
    int64_t axis = growAxis(pastType, presentType);
    if (axis < 0) {
      std::string pastText, presentText;
      llvm::raw_string_ostream(pastText) << pastType;
      llvm::raw_string_ostream(presentText) << presentType;
      return in.emitError("'")
             << inputName << "' (" << pastText << ") and '" << outputName
             << "' (" << presentText
             << ") must differ in one dimension only, the output's larger";
    }

    SmallVector<TaskOp> readers = tasksTouching(body, past, /*outputs=*/false);
    OpBuilder b(presentAlloc);
    auto makeState = [&] {
      return StateOp::create(b, presentAlloc.getLoc(), presentType,
                             b.getStringAttr(outputName))
          .getBuffer();
    };

    // OUTPUT = concat(INPUT, NEW): write NEW alone, in place.
    if (readers.size() == 1) {
      TaskOp t = readers.front();
      auto axisAttr = t.getKernelAttrs().getAs<IntegerAttr>("axis");
      int64_t concatAxis = axisAttr ? axisAttr.getInt() : 0;
      if (concatAxis < 0)
        concatAxis += pastType.getRank();
      if (t.getKernel() == "concat" && t.getInputs().size() == 2 &&
          t.getInputs()[0] == past && t.getInputs()[1] != past &&
          t.getOutputs().size() == 1 && t.getOutputs()[0] == present &&
          concatAxis == axis) {
        Value state = makeState();
        Value update = t.getInputs()[1];
        t.setKernel("state_write");
        t.getInputsMutable().assign(update);
        t.setKernelAttrsAttr(b.getDictionaryAttr(
            {b.getNamedAttr("axis", b.getI64IntegerAttr(axis)),
             b.getNamedAttr("offset",
                            b.getI64IntegerAttr(pastType.getDimSize(axis)))}));
        present.replaceAllUsesWith(state);
        return finish(in, presentAlloc);
      }
    }
    // An empty INPUT nothing reads: OUTPUT's writers write the state.
    if (readers.empty() && pastType.getNumElements() == 0 &&
        !tasksTouching(body, present, /*outputs=*/true).empty()) {
      present.replaceAllUsesWith(makeState());
      return finish(in, presentAlloc);
    }

    InFlightDiagnostic diag = in.emitError("'");
    diag << inputName << "' cannot be kept in place: expected '" << outputName
         << "' = Concat('" << inputName << "', new entries) along axis "
         << axis << " with '" << inputName << "' read by nothing else; ";
    if (readers.empty())
      diag << "no task reads it";
    else
      diag << "it is read by " << readers.size() << " task"
           << (readers.size() == 1 ? "" : "s") << " (first '"
           << readers.front().getName() << "', kernel "
           << readers.front().getKernel() << ")";
    return diag;
  }

  /// Drops the bound input and the buffers nothing uses any more.
  LogicalResult finish(InputOp in, AllocOp presentAlloc) {
    Value past = in.getBuffer();
    in.erase();
    if (past.use_empty())
      if (Operation *def = past.getDefiningOp())
        def->erase();
    if (presentAlloc.getBuffer().use_empty())
      presentAlloc.erase();
    return success();
  }
};

} // namespace
