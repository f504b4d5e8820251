//===- ModelPreparation.cpp - Parse, check, bind, adapt, infer ------------===//
//
// The importer's stages before IR construction, on the ModelProto: parse
// (binary or ONNX text), stable topological sort (GraphOrder.cpp) and
// structural checks, binding of --input-shape / --dim / --const-input, the
// version adapters (VersionAdapters.cpp), and ONNX shape inference with data
// propagation. OnnxImporter.cpp builds the IR from the result.
//
//===----------------------------------------------------------------------===//
#include "ImportSupport.h"
#include "loom/Import/OnnxImporter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"

#include "ContribOps.h"
#include "onnx/shape_inference/implementation.h"

#include <google/protobuf/io/coded_stream.h>

#include <map>
#include <set>

namespace loom::import {

std::string dataTypeName(int dataType) {
  if (dataType == kInt4)
    return "INT4";
  if (dataType == kUInt4)
    return "UINT4";
  return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(dataType));
}

namespace {

//===----------------------------------------------------------------------===//
// Model preparation: parse, check, bind, upgrade, infer
//===----------------------------------------------------------------------===//

int64_t defaultOpset(const onnx::ModelProto &model) {
  for (const auto &o : model.opset_import())
    if (isDefaultDomain(o.domain()))
      return o.version();
  return 0;
}

/// Domains, node op types and value names of one graph (and its subgraphs).
void checkGraph(const onnx::GraphProto &graph,
                std::vector<std::set<std::string>> &scopes) {
  std::set<std::string> defined;
  for (const auto &i : graph.input())
    defined.insert(i.name());
  for (const auto &t : graph.initializer())
    defined.insert(t.name());
  auto isDefined = [&](const std::string &n) {
    if (defined.count(n))
      return true;
    for (const auto &s : scopes)
      if (s.count(n))
        return true;
    return false;
  };
  // Initializers by name, for the checks of contrib ops (built on demand).
  std::map<std::string, const onnx::TensorProto *> constants;
  auto constant = [&](const std::string &name) -> const onnx::TensorProto * {
    if (constants.empty())
      for (const auto &t : graph.initializer())
        constants[t.name()] = &t;
    auto it = constants.find(name);
    return it == constants.end() ? nullptr : it->second;
  };
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto &node = graph.node(i);
    if (isSupportedContribOp(node))
      checkContribNode(node, describeNode(node, i), constant);
    else if (node.domain() == kMicrosoftDomain)
      fail(describeNode(node, i) + ": ONNX Runtime contrib operator '" +
           node.op_type() + "' is not supported (Loom imports " +
           supportedContribOps() + ")");
    else if (!isDefaultDomain(node.domain()))
      fail(describeNode(node, i) + ": unsupported operator domain '" +
           node.domain() + "' (Loom supports the default ONNX domain and " +
           supportedContribOps() + ")");
    for (const auto &in : node.input()) {
      if (in.empty() || isDefined(in))
        continue;
      // (Graphs are sorted first: a value produced later means a cycle,
      // which the sort reports.)
      fail(describeNode(node, i) + ": input '" + in +
           "' is not a graph input, an initializer or an output of an earlier "
           "node");
    }
    // Subgraphs see every enclosing scope; the (growing) set of names is
    // copied only for nodes that have subgraphs, so a flat graph is checked
    // in O(n log n).
    bool hasSubgraph = llvm::any_of(node.attribute(), [](const auto &a) {
      return a.has_g() || a.graphs_size() > 0;
    });
    if (hasSubgraph) {
      std::vector<std::set<std::string>> inner = scopes;
      inner.push_back(defined);
      for (const auto &a : node.attribute()) {
        if (a.has_g())
          checkGraph(a.g(), inner);
        for (const auto &g : a.graphs())
          checkGraph(g, inner);
      }
    }
    for (const auto &o : node.output())
      if (!o.empty()) {
        if (defined.count(o))
          fail(describeNode(node, i) + ": output '" + o +
               "' is defined more than once");
        defined.insert(o);
      }
  }
  for (const auto &o : graph.output())
    if (!isDefined(o.name()))
      fail("graph output '" + o.name() + "' is not produced by any node");
}

/// Reads a constant value given on the command line for input `input`.
onnx::TensorProto constInputTensor(const onnx::ValueInfoProto &input,
                                   const std::string &value) {
  onnx::TensorProto t;
  t.set_name(input.name());
  if (llvm::StringRef(value).ends_with(".pb") || llvm::sys::fs::is_regular_file(value)) {
    auto buf = llvm::MemoryBuffer::getFile(value, false, false);
    if (!buf)
      fail("--const-input " + input.name() + ": cannot read '" + value +
           "': " + buf.getError().message());
    if (!t.ParseFromArray((*buf)->getBufferStart(), int((*buf)->getBufferSize())))
      fail("--const-input " + input.name() + ": '" + value +
           "' is not a serialized TensorProto");
    t.set_name(input.name());
    return t;
  }
  const auto &tt = input.type().tensor_type();
  int dtype = tt.elem_type();
  t.set_data_type(dtype);
  llvm::SmallVector<llvm::StringRef> items;
  llvm::StringRef(value).split(items, ',', -1, false);
  for (llvm::StringRef item : items) {
    item = item.trim();
    if (dtype == onnx::TensorProto::FLOAT || dtype == onnx::TensorProto::DOUBLE) {
      double d;
      if (item.getAsDouble(d))
        fail("--const-input " + input.name() + ": '" + item.str() +
             "' is not a number");
      if (dtype == onnx::TensorProto::FLOAT)
        t.add_float_data(float(d));
      else
        t.add_double_data(d);
    } else if (dtype == onnx::TensorProto::BOOL) {
      if (item == "true" || item == "1")
        t.add_int32_data(1);
      else if (item == "false" || item == "0")
        t.add_int32_data(0);
      else
        fail("--const-input " + input.name() + ": '" + item.str() +
             "' is not a boolean (true/false)");
    } else if (dtype == onnx::TensorProto::INT64 || dtype == onnx::TensorProto::INT32) {
      int64_t v;
      if (item.getAsInteger(10, v))
        fail("--const-input " + input.name() + ": '" + item.str() +
             "' is not an integer");
      if (dtype == onnx::TensorProto::INT64)
        t.add_int64_data(v);
      else
        t.add_int32_data(int32_t(v));
    } else {
      fail("--const-input " + input.name() + ": inputs of type " +
           dataTypeName(dtype) + " must be given as a TensorProto file (.pb)");
    }
  }
  // Shape: the declared one when static, else a scalar or a vector.
  int64_t n = int64_t(items.size());
  bool declaredStatic = tt.has_shape();
  int64_t declaredCount = 1;
  for (const auto &d : tt.shape().dim()) {
    if (!d.has_dim_value())
      declaredStatic = false;
    declaredCount *= d.dim_value();
  }
  if (declaredStatic) {
    if (declaredCount != n)
      fail("--const-input " + input.name() + ": " + std::to_string(n) +
           " value(s) given but the input holds " + std::to_string(declaredCount));
    for (const auto &d : tt.shape().dim())
      t.add_dims(d.dim_value());
  } else if (n != 1 || (tt.has_shape() && tt.shape().dim_size() == 1)) {
    t.add_dims(n);
  }
  return t;
}

void bindDimensions(onnx::ModelProto &model, const ImportOptions &options,
                    std::vector<FoldedInput> &folded) {
  auto *graph = model.mutable_graph();
  std::set<std::string> initializers;
  for (const auto &t : graph->initializer())
    initializers.insert(t.name());
  auto inputNames = [&] {
    std::string s;
    for (const auto &i : graph->input())
      if (!initializers.count(i.name()))
        s += (s.empty() ? "" : ", ") + ("'" + i.name() + "'");
    return s.empty() ? std::string("none") : s;
  };
  auto findInput = [&](const std::string &name, const char *flag) {
    for (auto &i : *graph->mutable_input())
      if (i.name() == name && !initializers.count(name))
        return &i;
    fail(std::string(flag) + " " + name + ": the model has no input '" + name +
         "' (inputs: " + inputNames() + ")");
  };

  for (const auto &[name, shape] : options.inputShapes) {
    onnx::ValueInfoProto *in = findInput(name, "--input-shape");
    auto *tt = in->mutable_type()->mutable_tensor_type();
    if (tt->has_shape() && tt->shape().dim_size() != int(shape.size()))
      fail("--input-shape " + name + ": the input has rank " +
           std::to_string(tt->shape().dim_size()) + " but " +
           std::to_string(shape.size()) + " dimension(s) were given");
    auto *s = tt->mutable_shape();
    for (size_t d = 0; d < shape.size(); ++d) {
      if (int(d) < s->dim_size() && s->dim(int(d)).has_dim_value() &&
          s->dim(int(d)).dim_value() != shape[d])
        fail("--input-shape " + name + ": dimension " + std::to_string(d) +
             " is " + std::to_string(s->dim(int(d)).dim_value()) +
             " in the model, not " + std::to_string(shape[d]));
      auto *dim = int(d) < s->dim_size() ? s->mutable_dim(int(d)) : s->add_dim();
      dim->set_dim_value(shape[d]);
    }
  }

  if (!options.dims.empty()) {
    std::set<std::string> used, known;
    auto bind = [&](onnx::ValueInfoProto &v) {
      if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
        return;
      for (auto &d : *v.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
        if (!d.has_dim_param())
          continue;
        known.insert(d.dim_param());
        auto it = options.dims.find(d.dim_param());
        if (it == options.dims.end())
          continue;
        used.insert(it->first);
        d.set_dim_value(it->second);
      }
    };
    for (auto &v : *graph->mutable_input())
      bind(v);
    for (auto &v : *graph->mutable_output())
      bind(v);
    for (auto &v : *graph->mutable_value_info())
      bind(v);
    std::string knownList;
    for (const std::string &k : known)
      knownList += (knownList.empty() ? "'" : ", '") + k + "'";
    for (const auto &[param, value] : options.dims)
      if (!used.count(param))
        fail("--dim " + param + "=" + std::to_string(value) +
             ": no input or output of the model has a dimension named '" +
             param + "' (" +
             (known.empty() ? std::string("the model names no dimensions")
                            : "its named dimensions: " + knownList) +
             ")");
  }

  // Positions among the graph inputs, before any is removed.
  std::map<std::string, int64_t> positions;
  for (const auto &i : graph->input())
    if (!initializers.count(i.name()))
      positions.emplace(i.name(), int64_t(positions.size()));
  for (const auto &[name, value] : options.constInputs) {
    onnx::ValueInfoProto *in = findInput(name, "--const-input");
    folded.push_back({name, positions[name]});
    onnx::TensorProto t = constInputTensor(*in, value);
    if (t.data_type() != in->type().tensor_type().elem_type())
      fail("--const-input " + name + ": the tensor has type " +
           dataTypeName(t.data_type()) + " but the input is " +
           dataTypeName(in->type().tensor_type().elem_type()));
    *graph->add_initializer() = t;
    auto *inputs = graph->mutable_input();
    for (int i = 0; i < inputs->size(); ++i)
      if (inputs->Get(i).name() == name) {
        inputs->DeleteSubrange(i, 1);
        break;
      }
  }
}

} // namespace

onnx::ModelProto prepareModel(llvm::StringRef bytes, bool isText,
                              const ImportOptions &options,
                              std::vector<std::string> &warnings,
                              std::vector<FoldedInput> &folded) {
  onnx::ModelProto model;
  if (isText) {
    std::string text(bytes);
    onnx::Status status = onnx::OnnxParser::Parse(model, text.c_str());
    if (!status.IsOK())
      fail("cannot parse the ONNX text: " + status.ErrorMessage());
  } else {
    google::protobuf::io::CodedInputStream stream(
        reinterpret_cast<const uint8_t *>(bytes.data()), int(bytes.size()));
    stream.SetTotalBytesLimit(INT32_MAX);
    if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
      fail("not a valid ONNX model: the protobuf cannot be parsed (truncated "
           "or corrupt file?)");
  }
  if (!model.has_graph())
    fail("the model has no graph");
  registerContribSchemas();
  validateModel(model);
  bool importsContrib = false;
  for (const auto &o : model.opset_import()) {
    importsContrib |= o.domain() == kMicrosoftDomain;
    if (!isDefaultDomain(o.domain()) && o.domain() != "ai.onnx.ml" &&
        o.domain() != kMicrosoftDomain)
      warnings.push_back("ignoring opset import of domain '" + o.domain() + "'");
  }
  // ONNX's inference finds a contrib op's schema by the model's import of
  // its domain; some writers leave it out.
  if (!importsContrib &&
      llvm::any_of(model.graph().node(), [](const onnx::NodeProto &n) {
        return n.domain() == kMicrosoftDomain;
      })) {
    auto *o = model.add_opset_import();
    o->set_domain(kMicrosoftDomain);
    o->set_version(1);
  }
  int64_t opset = defaultOpset(model);
  if (opset == 0)
    fail("the model imports no opset of the default ONNX domain");

  loom::import::sortTopologically(*model.mutable_graph());
  std::vector<std::set<std::string>> scopes;
  checkGraph(model.graph(), scopes);
  bindDimensions(model, options, folded);
  loom::import::adaptToOpset17(model);
  if (opset != 17)
    validateModel(model); // the rewritten nodes, against the opset 17 schemas
  checkInferredRanks(model);
  try {
    // Strict inference first: ONNX's data propagation reads the types this
    // pass infers and dereferences them unchecked, so a graph whose types do
    // not infer (e.g. an Add of shapes that do not broadcast) is reported
    // here rather than crashing it.
    onnx::ModelProto typesOnly = model;
    onnx::ShapeInferenceOptions strict(/*check_type=*/true, /*error_mode=*/1,
                                       /*data_prop=*/false);
    onnx::shape_inference::InferShapes(typesOnly, onnx::OpSchemaRegistry::Instance(), strict);
    onnx::ShapeInferenceOptions inferenceOptions(/*check_type=*/true,
                                                 /*error_mode=*/1,
                                                 /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       inferenceOptions);
  } catch (const std::exception &e) {
    fail(std::string("shape inference failed: ") + e.what());
  }
  return model;
}

} // namespace loom::import
