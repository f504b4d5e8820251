//===- PlanTarget.cpp - The target a plan module was built for ------------===//
#include "Plan/Transforms/Passes.h"

#include "loom/Target/Target.h"

#include "llvm/Support/Error.h"

using namespace mlir;

FailureOr<loom::target::TargetDesc>
loom::plan::loadPlanTarget(ModuleOp module, llvm::StringRef passName) {
  auto name = module->getAttrOfType<StringAttr>("plan.target");
  if (!name)
    return module.emitError(passName)
           << ": the module has no plan.target attribute (run plan-from-loom "
              "first)";
  // A built-in name or a YAML file (docs/targets.md).
  llvm::Expected<loom::target::TargetDesc> target =
      loom::target::loadTarget(name.getValue());
  if (!target)
    return module.emitError(llvm::toString(target.takeError()));
  return std::move(*target);
}
