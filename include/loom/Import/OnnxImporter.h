//===- OnnxImporter.h - ONNX model to loom dialect --------------*- C++ -*-===//
//
// Reads an ONNX model (binary protobuf, or ONNX text format for files ending
// in .onnxtext), binds its dynamic dimensions, upgrades it to opset 17 with
// ONNX's version converter, runs ONNX shape inference and builds a module
// with one `func.func @main` whose body is the graph in the `loom` dialect.
// Every error names the model, the node (or value) and what is wrong; errors
// are reported through MLIR diagnostics.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_IMPORT_ONNXIMPORTER_H
#define LOOM_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loom {

/// How dynamic dimensions and inputs are bound at compile time.
struct ImportOptions {
  /// `--input-shape NAME=1x3x224x224`: the full shape of a graph input.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// `--dim PARAM=VALUE`: a value for an ONNX `dim_param`, everywhere.
  std::map<std::string, int64_t> dims;
  /// `--const-input NAME=VALUE|FILE.pb`: an input folded into the graph. The
  /// value is a comma-separated list of numbers (or true/false), or the path
  /// of a serialized TensorProto.
  std::map<std::string, std::string> constInputs;
};

/// Parses `NAME=D0xD1x...` (`NAME=` alone or `NAME=scalar` for a scalar).
llvm::Expected<std::pair<std::string, std::vector<int64_t>>>
parseInputShapeFlag(llvm::StringRef flag);
/// Parses `PARAM=VALUE` with a non-negative integer value.
llvm::Expected<std::pair<std::string, int64_t>> parseDimFlag(llvm::StringRef flag);
/// Splits `NAME=VALUE` at the first '='.
llvm::Expected<std::pair<std::string, std::string>>
parseConstInputFlag(llvm::StringRef flag);

/// Imports the model at `path`. Returns null after reporting an error.
mlir::OwningOpRef<mlir::ModuleOp> importOnnxFile(mlir::MLIRContext &context,
                                                 llvm::StringRef path,
                                                 const ImportOptions &options);

/// Imports a model given as bytes (binary protobuf or, when `isText`, ONNX text
/// format). `path` is used for messages and to find external data files.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(mlir::MLIRContext &context, llvm::StringRef bytes,
                 llvm::StringRef path, bool isText,
                 const ImportOptions &options);

/// Registers the dialects an imported module uses.
void registerImportDialects(mlir::DialectRegistry &registry);

} // namespace loom

#endif // LOOM_IMPORT_ONNXIMPORTER_H
