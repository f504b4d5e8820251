//===- HostRun.h - Run a loom graph on the host, in process -----*- C++ -*-===//
//
// Calibration and the quantization report need the float (or quantized)
// model's values on real inputs: runOnHost compiles a copy of a loom-dialect
// module for the `host` target with the plan pipeline, loads the plan with
// the runtime (loom::rt::Session, no files written) and runs it on each input
// set. Values inside the graph can be observed: they become extra outputs of
// the copy.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PIPELINES_HOSTRUN_H
#define LOOM_PIPELINES_HOSTRUN_H

#include "loom/Runtime/Kernel.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace loom {

/// One set of graph inputs, by input name.
using InputSet = std::map<std::string, rt::Tensor>;

/// Reads input sets from folders: a folder with `test_data_set_*`
/// subfolders (the ONNX test-data layout) gives one set per subfolder; a
/// folder of `.pb` files gives one set. A TensorProto whose name is a graph
/// input binds that input, an unnamed one the input at its position (files
/// in name order). `inputNames` are the graph's inputs in order. Errors name
/// the folder or file. The ONNX layout's expected outputs (`output_N.pb`,
/// side by side with `input_N.pb`) are no inputs: with `references`, they
/// are read into it, one vector per set indexed by N (empty for a set
/// without them); without it, they are skipped.
llvm::Expected<std::vector<InputSet>>
readInputSets(const std::vector<std::string> &folders,
              const std::vector<std::string> &inputNames,
              std::vector<std::vector<rt::Tensor>> *references = nullptr);

/// The graph inputs of a loom module in order (loom.name argument
/// attributes), without the inputs folded at import.
std::vector<std::string> graphInputNames(mlir::ModuleOp module);

/// The graph outputs of a loom module in order (loom.name result
/// attributes).
std::vector<std::string> graphOutputNames(mlir::ModuleOp module);

/// The result of one run: the graph outputs by name, then the observed
/// values in the order asked.
struct HostRunResult {
  std::map<std::string, rt::Tensor> outputs;
  std::vector<rt::Tensor> observed;
};

/// Compiles a copy of `module` (loom dialect, static shapes) for the host
/// and runs it on every set in `inputs`; `observe` are values of `module`'s
/// @main (each must be a ranked f32 tensor produced in the body or an
/// argument). `threads` as loom-run's --threads (0 = all cores).
llvm::Expected<std::vector<HostRunResult>>
runOnHost(mlir::ModuleOp module, const std::vector<InputSet> &inputs,
          llvm::ArrayRef<mlir::Value> observe = {}, int threads = 0);

} // namespace loom

#endif // LOOM_PIPELINES_HOSTRUN_H
