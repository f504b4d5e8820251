//===- Registry.cpp - Registration of all built-in kernels ----------------===//
#include "Families.h"

#include <mutex>

namespace loom::rt {

void registerBuiltinKernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    KernelRegistry &r = KernelRegistry::global();
    registerMathKernels(r);
    registerReductionKernels(r);
    registerTensorKernels(r);
    registerLinalgKernels(r);
    registerNNKernels(r);
    registerRNNKernels(r);
    registerImageKernels(r);
    registerSignalKernels(r);
    registerQuantKernels(r);
    registerQuantizedKernels(r);
    registerLossKernels(r);
    registerFusedKernels(r);
    registerGemvKernels(r);
    registerDepthwiseKernels(r);
    registerDnnlKernels(r);
  });
}

} // namespace loom::rt
