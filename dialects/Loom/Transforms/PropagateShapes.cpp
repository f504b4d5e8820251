//===- PropagateShapes.cpp - loom-propagate-shapes ------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/FoldUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMPROPAGATESHAPES
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {
/// Combines what is known about one type: `current` (from import or an
/// earlier walk) and `inferred` (from the shape helper). Returns null on a
/// contradiction.
Type refine(Type current, Type inferred) {
  auto cur = dyn_cast<TensorType>(current);
  auto inf = dyn_cast<RankedTensorType>(inferred);
  if (!cur || !inf)
    return current;
  Type element = cur.getElementType();
  auto curRanked = dyn_cast<RankedTensorType>(cur);
  if (!curRanked)
    return RankedTensorType::get(inf.getShape(), element);
  if (curRanked.getRank() != inf.getRank())
    return nullptr;
  SmallVector<int64_t> shape;
  for (auto [a, b] : llvm::zip(curRanked.getShape(), inf.getShape())) {
    if (ShapedType::isDynamic(a))
      shape.push_back(b);
    else if (ShapedType::isDynamic(b) || a == b)
      shape.push_back(a);
    else
      return nullptr;
  }
  return RankedTensorType::get(shape, element, curRanked.getEncoding());
}

/// Whether `op` sits in a branch of a loom.if (at any depth) whose condition
/// is a constant that selects the other branch: such a branch never runs, and
/// its shapes may not even be valid for these inputs (a model's 8 kHz branch
/// when it is compiled for 16 kHz), so it is neither refined nor checked.
/// Canonicalization then drops it.
bool inDeadBranch(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent; op = parent, parent = parent->getParentOp()) {
    auto ifOp = dyn_cast<IfOp>(parent);
    if (!ifOp)
      continue;
    std::optional<double> cond = getScalarConstant(ifOp.getCond());
    if (!cond)
      continue;
    Region *taken = *cond != 0 ? &ifOp.getThenBranch() : &ifOp.getElseBranch();
    if (op->getParentRegion() != taken)
      return true;
  }
  return false;
}

struct PropagateShapesPass
    : loom::impl::LoomPropagateShapesBase<PropagateShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Exporters nest Ifs whose conditions fold one level at a time (a
    // sample-rate check, then checks on the shapes it selects): refine,
    // inline the branches whose condition became a constant, and refine
    // again, until no If with a constant condition is left.
    RewritePatternSet ifPatterns(&getContext());
    IfOp::getCanonicalizationPatterns(ifPatterns, &getContext());
    FrozenRewritePatternSet frozen(std::move(ifPatterns));
    for (int round = 0; round < kMaxRounds; ++round) {
      if (failed(refineOnce(func)))
        return signalPassFailure();
      bool constantIf = false;
      func.walk([&](IfOp op) {
        constantIf |= getScalarConstant(op.getCond()).has_value();
      });
      if (!constantIf)
        break;
      (void)applyPatternsGreedily(func, frozen);
    }
    // The function returns what its body computes.
    for (Block &block : func.getBody())
      if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
        func.setType(FunctionType::get(&getContext(),
                                       func.getArgumentTypes(),
                                       ret.getOperandTypes()));
    // An If decided at run time keeps both branches: refining them with the
    // bound shapes may show that one does not hold for these inputs (an
    // exporter's branch for other inputs). Report the op and the If.
    bool runTimeIf = false;
    func.walk([&](IfOp op) {
      runTimeIf |= !getScalarConstant(op.getCond()).has_value();
    });
    if (runTimeIf)
      if (Operation *bad = firstInvalidOp(func)) {
        (void)verify(bad, /*verifyRecursively=*/false); // reports it
        explainRunTimeBranch(func, bad);
        return signalPassFailure();
      }
  }

  /// Bounds the refine / inline rounds (each inlines one level of Ifs).
  static constexpr int kMaxRounds = 16;

  /// One walk over the function: every op's result types refined with its
  /// shape helper, constants folded.
  LogicalResult refineOnce(func::FuncOp func) {
    OperationFolder folder(&getContext());
    bool failedAny = false;
    // Pre-order: an op is refined before the ops nested in its regions, and
    // every operand is visited before its users.
    func.walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (failedAny)
        return WalkResult::interrupt();
      if (inDeadBranch(op))
        return WalkResult::advance();
      if (auto shaped = dyn_cast<ShapeInferenceOpInterface>(op)) {
        SmallVector<Type> inferred;
        if (failed(shaped.inferResultTypes(inferred))) {
          explainRunTimeBranch(func, op);
          failedAny = true;
          return WalkResult::interrupt();
        }
        for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
          Type refined = refine(result.getType(), type);
          if (!refined) {
            op->emitOpError() << "result #" << result.getResultNumber()
                              << " has type " << result.getType()
                              << " but its operands imply " << type;
            explainRunTimeBranch(func, op);
            failedAny = true;
            return WalkResult::interrupt();
          }
          if (refined != result.getType()) {
            result.setType(refined);
            ++numRefined;
          }
        }
      }
      if (op->getNumRegions() == 0 && !op->hasTrait<mlir::OpTrait::ConstantLike>() &&
          isa<LoomDialect>(op->getDialect())) {
        bool erased = false;
        if (succeeded(folder.tryToFold(op, &erased)) && erased)
          ++numFolded;
      }
      return WalkResult::advance();
    });
    return failure(failedAny);
  }
};
} // namespace
