//===- ImportSupport.h - Errors and names shared by the import stages -----===//
//
// The importer's stages (OnnxImporter.cpp drives them; GraphOrder.cpp,
// VersionAdapters.cpp) report a problem by throwing ImportError with one
// message that names the node, op and value at fault; importOnnxBuffer
// catches it and emits it as the model's one error.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_IMPORT_IMPORTSUPPORT_H
#define LOOM_LIB_IMPORT_IMPORTSUPPORT_H

#include "loom/Import/OnnxImporter.h"
#include "onnx/onnx_pb.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace loom::import {

/// Thrown inside the importer; caught at the top and reported as one error.
struct ImportError {
  std::string message;
};

[[noreturn]] inline void fail(std::string message) {
  throw ImportError{std::move(message)};
}

/// Whether `domain` names ONNX's default operator set.
inline bool isDefaultDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx";
}

/// "node 'conv1' (Conv)" or "node #3 (Relu)" for unnamed nodes.
inline std::string describeNode(const onnx::NodeProto &node, int index) {
  if (!node.name().empty())
    return "node '" + node.name() + "' (" + node.op_type() + ")";
  return "node #" + std::to_string(index) + " (" + node.op_type() + ")";
}

/// TensorProto data types added after ONNX 1.12 (the library Loom builds
/// on): its enum lacks them, but the proto field is a plain int32, so they
/// parse.
inline constexpr int kUInt4 = 21;
inline constexpr int kInt4 = 22;

/// The domain of the ops the version adapters write for forms ONNX 1.12's
/// schemas cannot hold (BlockedDequantizeLinear); a model's own nodes in it
/// are refused before the adapters run.
inline constexpr const char *kLoomImportDomain = "ai.loom.import";

/// "FLOAT", "INT64", ... for an ONNX TensorProto data type.
std::string dataTypeName(int dataType);

/// A graph input bound to a constant by --const-input: its name and its
/// position among the graph's (non-initializer) inputs.
struct FoldedInput {
  std::string name;
  int64_t index;
};

/// Stages 1-5 (ModelPreparation.cpp): parses `bytes` (binary protobuf, or
/// ONNX text when `isText`), sorts and checks the graphs, binds the options'
/// shapes, dims and constant inputs (recorded in `folded`), rewrites every
/// node into its opset-17 form and runs ONNX shape inference. Non-fatal
/// findings go to `warnings`.
onnx::ModelProto prepareModel(llvm::StringRef bytes, bool isText, const ImportOptions &options,
                              std::vector<std::string> &warnings,
                              std::vector<FoldedInput> &folded);

/// Stage 1b (ModelValidation.cpp): checks an untrusted model, subgraphs
/// included, before ONNX's libraries or the importer read it: tensor data
/// lengths against dims (overflow-checked), attribute kinds against the
/// schema and the ranges of sizing attributes, node arities, If/Loop/Scan
/// bodies. A problem is an ImportError naming the node, op and field.
void validateModel(const onnx::ModelProto &model);

/// Stage 4b (ModelValidation.cpp), on the opset-17 model: the rank checks of
/// validateModel for the nodes whose ONNX shape inference reads their
/// inputs' dims unchecked (convolutions, pools, LayerNormalization), with
/// the ranks of undeclared values inferred by ONNX in chunks that end before
/// each such node.
void checkInferredRanks(const onnx::ModelProto &model);

/// Stage 2a (GraphOrder.cpp): sorts the nodes of `graph` and of every
/// subgraph so that each node comes after the producers of its inputs,
/// including the values its subgraphs take from the enclosing graph. The
/// order is stable: among the nodes that are ready, the earliest in the file
/// comes first, so an already sorted graph keeps its order (as ONNX Runtime
/// sorts). A cycle is an error naming the nodes on it.
void sortTopologically(onnx::GraphProto &graph);

/// Stage 4 (VersionAdapters.cpp): rewrites every node of the default domain,
/// subgraphs included, from the version of its op in effect at the model's
/// opset (7 to 21; 6 where the old form maps cleanly) into the op's form at
/// opset 17, the one the loom dialect mirrors, and sets the model's
/// default-domain opset import to 17. One table lists every (op, version)
/// Loom reads; a version without an entry, or a form the adapter cannot
/// express (e.g. a non-constant axes input at opset 18), is an error naming
/// the node, the op and its version.
void adaptToOpset17(onnx::ModelProto &model);

} // namespace loom::import

#endif // LOOM_LIB_IMPORT_IMPORTSUPPORT_H
