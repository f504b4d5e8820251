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
//   - the dims of declared value types (graph inputs, outputs, value_info):
//     within [0, 2^31 - 1];
//   - attribute kinds against the op's schema (e.g. `axes` given as INT where
//     the schema wants INTS), and the ranges of the attributes that size or
//     divide (strides, dilations, kernel_shape, pads, group, blocksize,
//     num_scan_inputs), and `axis` against the declared rank of input 0;
//   - node input/output counts and required attributes against the schema,
//     and the bodies of If, Loop and Scan.
// Models of opsets past 17 (newer than ONNX 1.12's registry) are checked
// again against the opset 17 schemas once the version adapters have
// rewritten them, before shape inference. The ranks of values the model
// does not declare are found by ONNX's own type inference, run on the graph
// in chunks that each end before a node whose inference reads ranks
// unchecked (checkInferredRanks).
// Every problem is an ImportError naming the node (or tensor), the op and
// the field.
//
//===----------------------------------------------------------------------===//
#include "ImportSupport.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <limits>
#include <map>
#include <optional>
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
  // INT4 / UINT4 (ONNX 1.16; the proto's data_type is a plain int32, so
  // ONNX 1.12 parses them): two values per byte, in raw_data or one packed
  // byte per int32_data value. Only DequantizeLinear reads them (the
  // version adapters).
  if (t.data_type() == kInt4 || t.data_type() == kUInt4) {
    const int64_t want = (count + 1) / 2;
    const int64_t have =
        t.has_raw_data() ? int64_t(t.raw_data().size()) : t.int32_data_size();
    if (have != want)
      fail(what + " (" + (t.data_type() == kInt4 ? "INT4" : "UINT4") + ") holds " +
           std::to_string(have) + (t.has_raw_data() ? " bytes of raw_data" : " int32_data values") +
           ", but its dims need " + std::to_string(want) + " (two 4-bit values per byte)");
    return;
  }
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
/// [M, C/group, kernel...], STFT its signal as [batch, length, 1 or 2]:
/// ranks ONNX's shape inference takes for granted.
/// `inferred`: `ranks` holds what ONNX could infer, so an unknown rank is
/// one it cannot infer at all.
void checkWindowRanks(const onnx::NodeProto &node, const std::string &where,
                      const Ranks &ranks, bool inferred = false) {
  static const std::set<std::string> conv = {"Conv", "ConvTranspose", "ConvInteger",
                                             "QLinearConv"};
  static const std::set<std::string> pool = {"MaxPool", "AveragePool", "LpPool", "MaxUnpool"};
  auto rank = [&](int i) {
    auto it = i < node.input_size() ? ranks.find(node.input(i)) : ranks.end();
    return it == ranks.end() ? -1 : it->second;
  };
  if (node.op_type() == "STFT") {
    // signal [batch, length, 1 or 2], frame_step a scalar, window
    // [window_length], frame_length a scalar; ONNX reads the signal's dims
    // even when its type is unknown.
    if (inferred && rank(0) < 0 && node.input_size() > 0)
      fail(where + ": the rank of the signal '" + node.input(0) +
           "' is not known (its producer's type could not be inferred)");
    if (rank(1) > 0)
      fail(where + ": frame_step has rank " + std::to_string(rank(1)) +
           "; STFT needs a scalar");
    if (rank(0) >= 0 && rank(0) != 3)
      fail(where + ": the signal has rank " + std::to_string(rank(0)) +
           "; STFT needs [batch, length, 1 or 2] (rank 3)");
    if (rank(2) >= 0 && rank(2) != 1)
      fail(where + ": the window has rank " + std::to_string(rank(2)) + "; STFT needs rank 1");
    return;
  }
  if (!conv.count(node.op_type()) && !pool.count(node.op_type()))
    return;
  const int x = rank(0);
  if (x >= 0 && x < 3)
    fail(where + ": input X has rank " + std::to_string(x) + "; " + node.op_type() +
         " needs [N, C, spatial...] (rank 3 or more)");
  if (node.op_type() == "MaxUnpool" && inferred && rank(1) < 0 && node.input_size() > 1)
    fail(where + ": the rank of the indices '" + node.input(1) +
         "' is not known (ONNX's inference reads their dims unchecked)");
  if (node.op_type() == "MaxUnpool" && x >= 0 && rank(1) >= 0 && rank(1) != x)
    fail(where + ": the indices have rank " + std::to_string(rank(1)) + " but X has rank " +
         std::to_string(x));
  if (conv.count(node.op_type())) {
    const int w = rank(node.op_type() == "QLinearConv" ? 3 : 1);
    if (w >= 0 && w < 3)
      fail(where + ": the weight has rank " + std::to_string(w) + "; " + node.op_type() +
           " needs [M, C/group, kernel...] (rank 3 or more)");
    if (w >= 0 && x >= 0 && w != x)
      fail(where + ": the weight has rank " + std::to_string(w) + " but X has rank " +
           std::to_string(x));
  }
}

/// An `axis` against the declared rank r of input 0: within [-r, r-1] for
/// LayerNormalization (whose shape inference indexes the input's dims with
/// it unchecked), within [-r-1, r] for every op (an axis past the end, as
/// Concat, Flatten or OneHot allow, is still a position in or next to the
/// dims).
void checkAxis(const onnx::NodeProto &node, const std::string &where, const Ranks &ranks) {
  auto it = node.input_size() > 0 ? ranks.find(node.input(0)) : ranks.end();
  if (it == ranks.end())
    return;
  const int64_t r = it->second;
  const bool exact = node.op_type() == "LayerNormalization";
  std::optional<int64_t> axis;
  for (const auto &a : node.attribute())
    if (a.name() == "axis" && a.has_i()) // read by ONNX whatever its declared kind
      axis = a.i();
  if (!axis && exact)
    axis = -1; // LayerNormalization's default
  const int64_t lo = exact ? -r : -r - 1, hi = exact ? r - 1 : r;
  if (axis && (*axis < lo || *axis > hi))
    fail(where + ": attribute 'axis' is " + std::to_string(*axis) + ", outside [" +
         std::to_string(lo) + ", " + std::to_string(hi) + "] for input '" + node.input(0) +
         "' of rank " + std::to_string(r));
}

void checkNode(const onnx::NodeProto &node, int index, int opset, const Ranks &ranks) {
  const std::string where = describeNode(node, index);
  // ONNX's inference dereferences the schema of an empty op type.
  if (node.op_type().empty())
    fail(where + ": the node has no op_type");
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
  checkAxis(node, where, ranks);
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
  // ONNX's inference skips a node it has no schema for and leaves its
  // outputs untyped, and the inference of some consumers (Shape) reads those
  // types unchecked. Such an op is no ONNX operator Loom could import anyway.
  if (!schema)
    fail(where + ": '" + node.op_type() + "' is not an ONNX operator at opset " +
         std::to_string(opset) + ", so Loom does not support it");
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
  // Experimental schemas (Upsample-1) are the version adapters' to refuse.
  const bool experimental =
      schema->support_level() == onnx::OpSchema::SupportType::EXPERIMENTAL;
  for (const auto &[name, attr] : schema->attributes()) {
    if (!attr.required || experimental)
      continue;
    bool present = false;
    for (const auto &a : node.attribute())
      present |= a.name() == name;
    if (!present)
      fail(where + ": required attribute '" + name + "' is missing");
  }
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

/// The dims of a declared value type (graph inputs, outputs, value_info):
/// ONNX's shape inference computes with them unchecked (a negative one
/// indexes out of range; a huge one makes the SAME padding of a pool loop
/// for as many steps).
void checkValueType(const onnx::ValueInfoProto &v, const std::string &graphName) {
  constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
  if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
    return;
  for (const auto &d : v.type().tensor_type().shape().dim())
    if (d.has_dim_value() && (d.dim_value() < 0 || d.dim_value() > kMaxDim))
      fail("graph '" + graphName + "': value '" + v.name() + "' has dimension " +
           std::to_string(d.dim_value()) + " in its type, outside [0, " +
           std::to_string(kMaxDim) + "]");
}

void checkGraphTree(const onnx::GraphProto &graph, int opset) {
  for (const auto &t : graph.initializer())
    checkTensor(t, "graph '" + graph.name() + "'");
  for (const auto *values : {&graph.input(), &graph.output(), &graph.value_info()})
    for (const auto &v : *values)
      checkValueType(v, graph.name());
  const Ranks ranks = declaredRanks(graph);
  for (int i = 0; i < graph.node_size(); ++i)
    checkNode(graph.node(i), i, opset, ranks);
}

/// The ops whose shape inference (ONNX 1.12) reads its inputs' dims by the
/// ranks it expects, unchecked.
bool readsRanksUnchecked(const onnx::NodeProto &node) {
  static const std::set<std::string> ops = {
      "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool",
      "MaxUnpool", "LayerNormalization", "STFT"};
  return isDefaultDomain(node.domain()) && ops.count(node.op_type());
}

/// Records the rank of every tensor-typed value of `values` in `ranks`.
template <typename Values>
void addRanks(const Values &values, Ranks &ranks) {
  for (const auto &v : values)
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      ranks[v.name()] = v.type().tensor_type().shape().dim_size();
}

} // namespace

void checkInferredRanks(const onnx::ModelProto &model) {
  const onnx::GraphProto &graph = model.graph();
  Ranks ranks = declaredRanks(graph);
  // The known types, to declare the inputs of each chunk.
  std::map<std::string, onnx::ValueInfoProto> known;
  auto remember = [&](const onnx::ValueInfoProto &v) {
    if (v.type().has_tensor_type())
      known[v.name()] = v;
  };
  for (const auto &v : graph.input())
    remember(v);
  for (const auto &v : graph.value_info())
    remember(v);
  for (const auto &t : graph.initializer()) {
    onnx::ValueInfoProto v;
    v.set_name(t.name());
    auto *tensor = v.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(t.data_type());
    for (int64_t d : t.dims())
      tensor->mutable_shape()->add_dim()->set_dim_value(d);
    known[t.name()] = v;
  }
  int start = 0;
  for (int k = 0; k < graph.node_size(); ++k) {
    const onnx::NodeProto &node = graph.node(k);
    if (!readsRanksUnchecked(node))
      continue;
    bool missing = false;
    for (const auto &in : node.input())
      missing |= !in.empty() && !ranks.count(in);
    if (missing && k > start) {
      // Infer the types of nodes [start, k): every node before k that reads
      // ranks unchecked has been checked already. Errors are left to the
      // full inference that follows validation.
      onnx::ModelProto chunk;
      chunk.set_ir_version(model.ir_version());
      *chunk.mutable_opset_import() = model.opset_import();
      onnx::GraphProto &g = *chunk.mutable_graph();
      std::set<std::string> declared;
      for (int i = start; i < k; ++i) {
        *g.add_node() = graph.node(i);
        for (const auto &in : graph.node(i).input()) {
          auto it = known.find(in);
          if (it != known.end() && declared.insert(in).second)
            *g.add_input() = it->second;
        }
      }
      try {
        onnx::ShapeInferenceOptions lenient(/*check_type=*/false, /*error_mode=*/0,
                                            /*data_prop=*/false);
        onnx::shape_inference::InferShapes(chunk, onnx::OpSchemaRegistry::Instance(),
                                           lenient);
      } catch (const std::exception &) {
      }
      for (const auto &v : g.value_info())
        remember(v);
      addRanks(g.value_info(), ranks);
      start = k;
    }
    const std::string where = describeNode(node, k);
    checkWindowRanks(node, where, ranks, /*inferred=*/true);
    checkAxis(node, where, ranks);
  }
}

void validateModel(const onnx::ModelProto &model) {
  int opset = 0;
  for (const auto &o : model.opset_import()) {
    if (o.version() <= 0 || o.version() > (int64_t(1) << 20))
      fail("opset import of domain '" + o.domain() + "' has version " +
           std::to_string(o.version()));
    if (isDefaultDomain(o.domain()))
      opset = int(o.version());
  }
  // ONNX's inference functions read a tensor input's type unchecked; the
  // importer takes tensors only (it says so again for unsupported element
  // types).
  std::set<std::string> initializers;
  for (const auto &t : model.graph().initializer())
    initializers.insert(t.name());
  for (const auto &in : model.graph().input()) {
    if (initializers.count(in.name()))
      continue;
    if (in.type().value_case() == onnx::TypeProto::VALUE_NOT_SET)
      fail("graph input '" + in.name() + "' has no type");
    if (!in.type().has_tensor_type())
      fail("graph input '" + in.name() + "' is not a tensor (sequences, maps and "
           "optionals are not supported)");
    if (in.type().tensor_type().elem_type() == onnx::TensorProto::UNDEFINED)
      fail("graph input '" + in.name() + "' has no element type");
  }
  checkGraphTree(model.graph(), opset);
}

} // namespace loom::import
