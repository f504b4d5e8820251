//===- Pipelines.cpp - The plan pipeline loomc runs -----------------------===//
#include "loom/Pipelines/Pipelines.h"

#include "Plan/Transforms/Passes.h"

using namespace mlir;

void loom::addPlanPipeline(OpPassManager &pm,
                           const PlanPipelineOptions &options) {
  plan::PlanFromLoomOptions planOptions;
  planOptions.target = options.target;
  pm.addPass(plan::createPlanFromLoom(planOptions));
  if (!options.stateBindings.empty()) {
    plan::PlanBindStateOptions stateOptions;
    stateOptions.bindings.assign(options.stateBindings.begin(),
                                 options.stateBindings.end());
    pm.addPass(plan::createPlanBindState(stateOptions));
  }
  plan::PlanEstimateCostsOptions costOptions;
  costOptions.costTable = options.costTable;
  costOptions.allowForeignCostTable = options.allowForeignCostTable;
  costOptions.devicePrecision = options.devicePrecision;
  costOptions.costModel = options.costModel;
  costOptions.threads = options.threads;
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
