//===- FusionPipeline.cpp - The fusion passes in loomc's order ------------===//
//
// A pre-quantized model's quantized kernels first (loom-fold-qdq), then
// folding into producers (so that the bias and weights the later
// fusions see are final), then the recompositions (larger patterns before
// the smaller ones they contain: norms and attention before the activations
// that SwiGLU and the epilogues consume), then the epilogues, the skip-norms
// and finally the elementwise regions over whatever is left.
//
//===----------------------------------------------------------------------===//
#include "Loom/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void loom::addFusionPasses(OpPassManager &funcPm) {
  // A pre-quantized model's quantize/dequantize patterns become quantized
  // kernels first (weights dequantized inside the kernel, not by a task of
  // their own on every run); the later passes then fuse around them.
  funcPm.addPass(createLoomFoldQdq());
  funcPm.addPass(createLoomFoldBatchNorm());
  funcPm.addPass(createLoomFoldConstantArith());
  funcPm.addPass(createLoomFoldTranspose());
  funcPm.addPass(createLoomRecomposeNorms());
  funcPm.addPass(createLoomRecomposeAttention());
  funcPm.addPass(createLoomRecomposeActivations());
  funcPm.addPass(createLoomRecomposeSwiGlu());
  funcPm.addPass(createLoomFuseSkipNorm());
  funcPm.addPass(createLoomFuseEpilogue());
  funcPm.addPass(createLoomFuseElementwise());
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createCSEPass());
}

void loom::registerFusionPipeline() {
  PassPipelineRegistration<>(
      "loom-fusion", "Every fusion pass, in the order loomc -O1 runs them",
      [](OpPassManager &pm) { addFusionPasses(pm.nest<func::FuncOp>()); });
}
