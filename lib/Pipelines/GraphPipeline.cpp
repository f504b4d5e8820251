//===- GraphPipeline.cpp - The graph pipeline loomc runs -----------------===//
//
// Kept apart from the plan pipeline so that a driver that needs only the
// graph passes (the import fuzz harness) links no planner, emitter or runtime.
//
//===----------------------------------------------------------------------===//
#include "loom/Pipelines/Pipelines.h"

#include "Loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void loom::addGraphPipeline(OpPassManager &pm,
                            const GraphPipelineOptions &options) {
  auto &funcPm = pm.nest<func::FuncOp>();
  // Folding can expose new constants (e.g. an If's condition or a Loop's trip
  // count), and inlining a branch or unrolling a loop can expose new shapes:
  // loom-propagate-shapes itself inlines the Ifs whose condition folds, level
  // by level; loops and scans are unrolled between the two rounds (the
  // runtime has no control flow), so the second round refines what the
  // unrolled bodies compute.
  for (int round = 0; round < 2; ++round) {
    if (round == 1)
      funcPm.addPass(createLoomUnrollControlFlow());
    funcPm.addPass(createLoomPropagateShapes());
    funcPm.addPass(createCanonicalizerPass());
  }
  funcPm.addPass(createCSEPass());
  if (options.requireStaticShapes)
    funcPm.addPass(createLoomCheckStaticShapes(
        LoomCheckStaticShapesOptions{options.maxTripCount}));
  // Fewer, larger kernels (docs/fused-ops.md).
  if (options.optLevel >= OptLevel::O1)
    addFusionPasses(funcPm);
}
