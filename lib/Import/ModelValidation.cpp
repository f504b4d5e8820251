//===- ModelValidation.cpp - Check an untrusted model before use ----------===//
//
// A model file is untrusted input, and ONNX's shape inference and data
// propagation trust theirs: a tensor whose raw_data is shorter than its dims
// say is read past its end, a zero stride divides by zero, a Scan without a
// body is dereferenced. This stage checks, for the whole model including
// subgraphs, what those libraries and Loom's own importer rely on, before
// either sees it:
//   - every tensor (initializers, Constant values, tensor attributes): dims
//     non-negative, an element count that does not overflow, and exactly
//     as many stored elements (raw_data bytes or typed values) as the dims
//     say;
//   - attribute kinds against the op's schema (e.g. `axes` given as INT where
//     the schema wants INTS), and the ranges of the attributes that size or
//     divide (strides, dilations, kernel_shape, pads, group, blocksize,
//     num_scan_inputs);
//   - node input/output counts against the schema, and the bodies of If,
//     Loop and Scan.
// Every problem is an ImportError naming the node (or tensor), the op and
// the field.
//
//===----------------------------------------------------------------------===//
#include "ImportSupport.h"

#include "onnx/defs/schema.h"

#include <limits>
#include <map>
#include <set>

namespace loom::import {
namespace {

/// Bytes per element of a fixed-size TensorProto data type; 0 for strings
/// and unknown types (their size is not checked against raw_data).
int64_t elementBytes(int dt) {
  switch (dt) {
  case onnx::TensorProto::FLOAT: case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32: return 4;
  case onnx::TensorProto::DOUBLE: case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64: case onnx::TensorProto::COMPLEX64: return 8;
  case onnx::TensorProto::COMPLEX128: return 16;
  case onnx::TensorProto::INT16: case onnx::TensorProto::UINT16:
  case onnx::TensorProto::FLOAT16: case onnx::TensorProto::BFLOAT16: return 2;
  case onnx::TensorProto::INT8: case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL: return 1;
  default: return 0;
  }
}

/// How many typed values an element takes in its TensorProto field.
int64_t valuesPerElement(int dt) {
  return dt == onnx::TensorProto::COMPLEX64 || dt == onnx::TensorProto::COMPLEX128 ? 2 : 1;
}

/// The number of values stored in the typed field of `t`'s data type.
int64_t typedValues(const onnx::TensorProto &t) {
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT: case onnx::TensorProto::COMPLEX64:
    return t.float_data_size();
  case onnx::TensorProto::DOUBLE: case onnx::TensorProto::COMPLEX128:
    return t.double_data_size();
  case onnx::TensorProto::INT64: return t.int64_data_size();
  case onnx::TensorProto::UINT32: case onnx::TensorProto::UINT64:
    return t.uint64_data_size();
  case onnx::TensorProto::STRING: return t.string_data_size();
  default: return t.int32_data_size();
  }
}

void checkTensor(const onnx::TensorProto &t, const std::string &where) {
  const std::string what = where + ": tensor '" + t.name() + "'";
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0)
      fail(what + " has a negative dimension (" + std::to_string(d) + ")");
    if (__builtin_mul_overflow(count, d, &count))
      fail(what + ": the product of its dims overflows");
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return; // sized against its file when it is read
  if (t.has_raw_data()) {
    const int64_t bytes = elementBytes(t.data_type());
    int64_t want = 0;
    if (bytes == 0)
      return;
    if (__builtin_mul_overflow(count, bytes, &want))
      fail(what + ": its size in bytes overflows");
    if (int64_t(t.raw_data().size()) != want)
      fail(what + " holds " + std::to_string(t.raw_data().size()) +
           " bytes of raw_data, but its dims and data type need " + std::to_string(want));
    return;
  }
  const int64_t have = typedValues(t);
  int64_t want = 0;
  if (__builtin_mul_overflow(count, valuesPerElement(t.data_type()), &want))
    fail(what + ": its element count overflows");
  if (have != want)
    fail(what + " holds " + std::to_string(have) + " values, but its dims need " +
         std::to_string(want));
}

/// Attributes that size windows or divide: the ops they belong to and the
/// smallest value each element may have.
void checkRanges(const onnx::NodeProto &node, const std::string &where) {
  static const std::set<std::string> windowed = {
      "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool",
      "LpPool", "MaxUnpool", "DeformConv", "Col2Im"};
  constexpr int64_t kMax = int64_t(1) << 31;
  for (const auto &a : node.attribute()) {
    const std::string &n = a.name();
    auto range = [&](int64_t lo, int64_t hi, int64_t v) {
      if (v < lo || v > hi)
        fail(where + ": attribute '" + n + "' is " + std::to_string(v) + ", outside [" +
             std::to_string(lo) + ", " + std::to_string(hi) + "]");
    };
    if (windowed.count(node.op_type()) &&
        (n == "strides" || n == "dilations" || n == "kernel_shape" || n == "pads")) {
      for (int64_t v : a.ints())
        range(n == "pads" ? 0 : 1, kMax, v);
    } else if (n == "group" && windowed.count(node.op_type())) {
      range(1, kMax, a.i());
    } else if (n == "blocksize") {
      range(1, 1 << 16, a.i());
    } else if (n == "num_scan_inputs") {
      range(1, std::max(node.input_size(), 1), a.i());
    }
  }
}

void checkGraphTree(const onnx::GraphProto &graph, int opset);

/// Ranks the graph declares (inputs, initializers, value_info).
using Ranks = std::map<std::string, int>;
Ranks declaredRanks(const onnx::GraphProto &g) {
  Ranks r;
  auto add = [&](const onnx::ValueInfoProto &v) {
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      r[v.name()] = v.type().tensor_type().shape().dim_size();
  };
  for (const auto &v : g.input())
    add(v);
  for (const auto &v : g.value_info())
    add(v);
  for (const auto &t : g.initializer())
    r[t.name()] = t.dims_size();
  return r;
}

/// Convolutions and pools read X as [N, C, spatial...] and W as
/// [M, C/group, kernel...]: ranks ONNX's shape inference takes for granted.
void checkWindowRanks(const onnx::NodeProto &node, const std::string &where,
                      const Ranks &ranks) {
  static const std::set<std::string> conv = {"Conv", "ConvTranspose", "ConvInteger"};
  static const std::set<std::string> pool = {"MaxPool", "AveragePool", "LpPool"};
  if (!conv.count(node.op_type()) && !pool.count(node.op_type()))
    return;
  auto rank = [&](int i) {
    auto it = i < node.input_size() ? ranks.find(node.input(i)) : ranks.end();
    return it == ranks.end() ? -1 : it->second;
  };
  const int x = rank(0);
  if (x >= 0 && x < 3)
    fail(where + ": input X has rank " + std::to_string(x) + "; " + node.op_type() +
         " needs [N, C, spatial...] (rank 3 or more)");
  if (conv.count(node.op_type())) {
    const int w = rank(1);
    if (w >= 0 && x >= 0 && w != x)
      fail(where + ": the weight has rank " + std::to_string(w) + " but X has rank " +
           std::to_string(x));
  }
}

void checkNode(const onnx::NodeProto &node, int index, int opset, const Ranks &ranks) {
  const std::string where = describeNode(node, index);
  for (const auto &a : node.attribute()) {
    if (a.has_t())
      checkTensor(a.t(), where + ", attribute '" + a.name() + "'");
    for (const auto &t : a.tensors())
      checkTensor(t, where + ", attribute '" + a.name() + "'");
    if (a.has_g())
      checkGraphTree(a.g(), opset);
    for (const auto &g : a.graphs())
      checkGraphTree(g, opset);
  }
  if (!isDefaultDomain(node.domain()))
    return;
  checkRanges(node, where);
  checkWindowRanks(node, where, ranks);
  auto needsGraph = [&](const char *name) {
    for (const auto &a : node.attribute())
      if (a.name() == name && a.has_g())
        return;
    fail(where + ": the '" + name + "' body graph is missing");
  };
  if (node.op_type() == "If") {
    needsGraph("then_branch");
    needsGraph("else_branch");
  } else if (node.op_type() == "Loop" || node.op_type() == "Scan") {
    needsGraph("body");
  }
  // Opsets past 17 are newer than ONNX 1.12's registry: their arities are
  // checked by the version adapters' rewrite instead.
  if (opset > 17)
    return;
  const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "");
  if (!schema)
    return; // unknown ops are the op table's to report
  if (node.input_size() < schema->min_input() || node.input_size() > schema->max_input())
    fail(where + " has " + std::to_string(node.input_size()) + " inputs; " + node.op_type() +
         "-" + std::to_string(schema->SinceVersion()) + " takes " +
         std::to_string(schema->min_input()) +
         (schema->max_input() == schema->min_input()
              ? ""
              : " to " + (schema->max_input() == std::numeric_limits<int>::max()
                              ? std::string("any number")
                              : std::to_string(schema->max_input()))));
  const auto &formal = schema->inputs();
  for (int i = 0; i < node.input_size() && i < int(formal.size()); ++i)
    if (node.input(i).empty() &&
        formal[size_t(i)].GetOption() == onnx::OpSchema::FormalParameterOption::Single)
      fail(where + ": required input #" + std::to_string(i) + " ('" +
           formal[size_t(i)].GetName() + "') is empty");
  if (node.output_size() < schema->min_output() || node.output_size() > schema->max_output())
    fail(where + " has " + std::to_string(node.output_size()) + " outputs; " +
         node.op_type() + "-" + std::to_string(schema->SinceVersion()) + " produces " +
         std::to_string(schema->min_output()) + " to " + std::to_string(schema->max_output()));
  for (const auto &a : node.attribute()) {
    auto it = schema->attributes().find(a.name());
    if (it == schema->attributes().end() || a.type() == onnx::AttributeProto::UNDEFINED)
      continue; // unknown attributes are the IR builder's to report
    if (int(a.type()) != int(it->second.type))
      fail(where + ": attribute '" + a.name() + "' must be " +
           onnx::AttributeProto_AttributeType_Name(
               static_cast<onnx::AttributeProto_AttributeType>(it->second.type)) +
           ", got " + onnx::AttributeProto_AttributeType_Name(a.type()));
  }
}

void checkGraphTree(const onnx::GraphProto &graph, int opset) {
  for (const auto &t : graph.initializer())
    checkTensor(t, "graph '" + graph.name() + "'");
  const Ranks ranks = declaredRanks(graph);
  for (int i = 0; i < graph.node_size(); ++i)
    checkNode(graph.node(i), i, opset, ranks);
}

} // namespace

void validateModel(const onnx::ModelProto &model) {
  int opset = 0;
  for (const auto &o : model.opset_import()) {
    if (o.version() <= 0 || o.version() > (int64_t(1) << 20))
      fail("opset import of domain '" + o.domain() + "' has version " +
           std::to_string(o.version()));
    if (isDefaultDomain(o.domain()))
      opset = int(o.version());
  }
  checkGraphTree(model.graph(), opset);
}

} // namespace loom::import
