//===- Pipelines.cpp - The pass pipelines loomc runs ----------------------===//
#include "loom/Pipelines/Pipelines.h"

#include "Loom/Transforms/Passes.h"
#include "Plan/Transforms/Passes.h"

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

void loom::addPlanPipeline(OpPassManager &pm,
                           const PlanPipelineOptions &options) {
  plan::PlanFromLoomOptions planOptions;
  planOptions.target = options.target;
  pm.addPass(plan::createPlanFromLoom(planOptions));
  plan::PlanEstimateCostsOptions costOptions;
  costOptions.costTable = options.costTable;
  costOptions.allowForeignCostTable = options.allowForeignCostTable;
  pm.addPass(plan::createPlanEstimateCosts(costOptions));
  plan::PlanPartitionOptions partitionOptions;
  partitionOptions.algorithm = options.partitioner;
  partitionOptions.split = options.split;
  pm.addPass(plan::createPlanPartition(partitionOptions));
  // Memory by predicted time: buffers of tasks that run side by side on
  // different queues never share memory, and the dependencies reuse adds
  // agree with the schedule.
  pm.addPass(plan::createPlanSchedule());
  pm.addPass(plan::createPlanAllocateMemory());
  pm.addPass(plan::createPlanVerify());
}
