//===- FuseElementwise.cpp - loom-fuse-elementwise ------------------------===//
//
// Groups chains and trees of f32 elementwise ops into loom.fused_elementwise.
//
// Ops are visited from the end of the function. An unvisited fusible op
// starts a group (its root); the group grows towards the operands: a fusible
// producer joins when its result has the root's shape and every use of it is
// inside the group, so the group's only result is the root's and no
// intermediate value is ever written to memory. Values from outside the
// group (graph values, constants, the results of other groups) become the
// fused op's inputs and broadcast to the root's shape in the body, exactly as
// they did in the ops. Groups of a single op stay as they are.
//
// Fusible: the unary and binary ops of the fused_elementwise program
// (docs/fused-ops.md), Clip with constant (or absent) bounds, and Max / Min
// with two operands, all on f32 tensors.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMFUSEELEMENTWISE
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {

bool isF32Tensor(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.hasStaticShape() && r.getElementType().isF32();
}

/// Whether `op` can be part of an elementwise group.
bool isFusible(Operation *op) {
  if (op->getNumResults() != 1 || !isF32Tensor(op->getResult(0).getType()))
    return false;
  if (isa<ClipOp>(op)) {
    auto clip = cast<ClipOp>(op);
    auto scalarConstant = [](Value v) {
      if (isNone(v))
        return true;
      auto attr = dyn_cast_or_null<ElementsAttr>(getConstantAttr(v));
      return attr && attr.getNumElements() == 1;
    };
    return isF32Tensor(clip.getInput().getType()) &&
           scalarConstant(clip.getMin()) && scalarConstant(clip.getMax());
  }
  if (isa<MaxOp, MinOp>(op) && op->getNumOperands() != 2)
    return false;
  if (!isa<AbsOp, NegOp, ExpOp, LogOp, SqrtOp, ReciprocalOp, ReluOp, SigmoidOp,
           TanhOp, ErfOp, FloorOp, CeilOp, SinOp, CosOp, SoftplusOp,
           HardSwishOp, GeluOp, SiluOp, IdentityOp, LeakyReluOp, HardSigmoidOp,
           EluOp, AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp>(op))
    return false;
  return llvm::all_of(op->getOperandTypes(), isF32Tensor);
}

struct LoomFuseElementwisePass
    : public loom::impl::LoomFuseElementwiseBase<LoomFuseElementwisePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> ops;
    for (Operation &op : func.getBody().front())
      ops.push_back(&op);
    DenseSet<Operation *> grouped;
    for (Operation *root : llvm::reverse(ops)) {
      if (grouped.contains(root) || !isFusible(root))
        continue;
      llvm::SetVector<Operation *> group = growGroup(root, grouped);
      for (Operation *op : group)
        grouped.insert(op);
      if (group.size() >= 2)
        fuse(root, group);
    }
  }

  /// The root and every producer that may join it (see the file comment).
  llvm::SetVector<Operation *> growGroup(Operation *root,
                                         const DenseSet<Operation *> &taken) {
    auto shape = cast<RankedTensorType>(root->getResult(0).getType()).getShape();
    llvm::SetVector<Operation *> group;
    group.insert(root);
    for (size_t i = 0; i < group.size(); ++i)
      for (Value operand : group[i]->getOperands()) {
        Operation *p = operand.getDefiningOp();
        if (!p || group.contains(p) || taken.contains(p) || !isFusible(p) ||
            p->getBlock() != root->getBlock() ||
            cast<RankedTensorType>(p->getResult(0).getType()).getShape() != shape)
          continue;
        if (llvm::all_of(p->getResult(0).getUsers(),
                         [&](Operation *u) { return group.contains(u); }))
          group.insert(p);
      }
    return group;
  }

  void fuse(Operation *root, const llvm::SetVector<Operation *> &group) {
    // Members in program order; the inputs in order of first use.
    SmallVector<Operation *> members(group.begin(), group.end());
    llvm::sort(members, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    llvm::SetVector<Value> inputs;
    for (Operation *op : members)
      for (Value v : op->getOperands())
        if (!group.contains(v.getDefiningOp()) && !isNone(v))
          inputs.insert(v);

    OpBuilder b(root);
    SmallVector<Location> locs;
    for (Operation *op : members)
      locs.push_back(op->getLoc());
    Location loc = b.getFusedLoc(locs);
    Type resultType = root->getResult(0).getType();
    auto fused = FusedElementwiseOp::create(b, loc, TypeRange{resultType},
                                            inputs.getArrayRef());
    Block *body = b.createBlock(&fused.getBody());
    IRMapping map;
    for (Value in : inputs)
      map.map(in, body->addArgument(in.getType(), in.getLoc()));
    b.setInsertionPointToStart(body);
    for (Operation *op : members) {
      // Absent optional operands (Clip's bounds) are cloned as loom.none.
      for (Value v : op->getOperands())
        if (isNone(v) && !map.contains(v))
          map.map(v, NoneOp::create(b, v.getLoc()).getResult());
      b.clone(*op, map);
    }
    FusedYieldOp::create(b, loc, ValueRange{map.lookup(root->getResult(0))});
    root->getResult(0).replaceAllUsesWith(fused.getResult(0));
    for (Operation *op : llvm::reverse(members))
      op->erase();
    numRewritten += members.size();
  }
};

} // namespace
