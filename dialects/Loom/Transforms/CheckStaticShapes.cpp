//===- CheckStaticShapes.cpp - loom-check-static-shapes -------------------===//
#include "Loom/LoomOps.h"
#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMCHECKSTATICSHAPES
#include "Loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace loom;

namespace {
bool isStatic(Type t) {
  if (auto s = dyn_cast<ShapedType>(t))
    return s.hasStaticShape();
  return true;
}

struct CheckStaticShapesPass
    : loom::impl::LoomCheckStaticShapesBase<CheckStaticShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
      if (isStatic(arg.getType()))
        continue;
      auto name = func.getArgAttrOfType<StringAttr>(i, "loom.name");
      auto diag = func.emitError()
                  << "input '" << (name ? name.getValue() : StringRef("?"))
                  << "' has type " << arg.getType();
      auto t = dyn_cast<RankedTensorType>(arg.getType());
      if (!t) {
        diag << " of unknown rank";
      } else {
        diag << " with unbound dimension(s)";
        for (auto [d, size] : llvm::enumerate(t.getShape()))
          if (ShapedType::isDynamic(size))
            diag << " " << d;
      }
      diag << "; bind them with --input-shape NAME=DxDx... or --dim PARAM=VALUE";
      return signalPassFailure();
    }
    WalkResult result = func.walk([&](Operation *op) {
      for (Value r : op->getResults()) {
        if (isStatic(r.getType()))
          continue;
        op->emitError() << "result #" << cast<OpResult>(r).getResultNumber()
                        << " of '" << op->getName() << "' has non-static type "
                        << r.getType()
                        << "; its shape depends on values unknown at compile "
                           "time (bind inputs with --input-shape, --dim or "
                           "--const-input)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
