//===- PropagateShapes.cpp - loom-propagate-shapes ------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/FoldUtils.h"

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

struct PropagateShapesPass
    : loom::impl::LoomPropagateShapesBase<PropagateShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    OperationFolder folder(&getContext());
    bool failedAny = false;
    // Pre-order: an op is refined before the ops nested in its regions, and
    // every operand is visited before its users.
    func.walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (failedAny)
        return WalkResult::interrupt();
      if (auto shaped = dyn_cast<ShapeInferenceOpInterface>(op)) {
        SmallVector<Type> inferred;
        if (failed(shaped.inferResultTypes(inferred))) {
          failedAny = true;
          return WalkResult::interrupt();
        }
        for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
          Type refined = refine(result.getType(), type);
          if (!refined) {
            op->emitOpError() << "result #" << result.getResultNumber()
                              << " has type " << result.getType()
                              << " but its operands imply " << type;
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
    if (failedAny)
      return signalPassFailure();
    // The function returns what its body computes.
    for (Block &block : func.getBody())
      if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
        func.setType(FunctionType::get(&getContext(),
                                       func.getArgumentTypes(),
                                       ret.getOperandTypes()));
  }
};
} // namespace
