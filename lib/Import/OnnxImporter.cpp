//===- OnnxImporter.cpp - ONNX model to loom dialect ----------------------===//
//
// The import runs in stages, each of which can fail with a message naming the
// model and the node or value at fault:
// Stages 1-5 run on the ModelProto (ModelPreparation.cpp); this file builds
// the IR (stage 6):
//   1. parse (binary protobuf or ONNX text format),
//   2. stable topological sort (GraphOrder.cpp) and structural checks
//      (domains, dangling names),
//   3. dimension binding (--input-shape, --dim, --const-input),
//   4. version adapters: every node rewritten into its opset-17 form from
//      one table (VersionAdapters.cpp; no ONNX version converter),
//   5. ONNX shape inference (strict, with data propagation),
//   6. IR construction (one loom op per node; initializers become
//      dense_resource constants; subgraphs become regions).
//
//===----------------------------------------------------------------------===//
#include "loom/Import/OnnxImporter.h"
#include "ImportSupport.h"
#include "ContribOps.h"
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <google/protobuf/io/coded_stream.h>

#include <deque>
#include <map>
#include <memory>

using namespace mlir;
using namespace loom;
using namespace loom::import;

namespace {

/// The opset every model is upgraded to; the dialect mirrors its op forms.
constexpr int64_t kTargetOpset = 17;
/// Tensors with at most this many elements are imported as `dense` (readable,
/// directly foldable); larger ones as `dense_resource` blobs.
constexpr int64_t kInlineConstantElements = 64;

//===----------------------------------------------------------------------===//
// The op table generated from ONNX schemas (scripts/gen_loom_ops.py)
//===----------------------------------------------------------------------===//

enum class ParamKind { Single, Optional, Variadic };
enum class AttrKind { Int, Float, String, Ints, Floats, Strings, Tensor, DType, Graph };

struct ParamInfo {
  const char *name;
  ParamKind kind;
};
struct AttrInfo {
  const char *name;
  AttrKind kind;
};
struct OpInfo {
  const char *onnxName;
  const char *loomName;
  int sinceVersion;
  std::vector<ParamInfo> inputs;
  std::vector<ParamInfo> outputs;
  std::vector<AttrInfo> attrs;
};

const std::vector<OpInfo> &opTable() {
  static const std::vector<OpInfo> table = {
#include "OnnxOpTable.inc"
  };
  return table;
}

const OpInfo *lookupOp(llvm::StringRef opType) {
  static const llvm::StringMap<const OpInfo *> index = [] {
    llvm::StringMap<const OpInfo *> m;
    for (const OpInfo &info : opTable())
      m[info.onnxName] = &info;
    return m;
  }();
  auto it = index.find(opType);
  return it == index.end() ? nullptr : it->second;
}

const char *attrTypeName(int t) {
  switch (t) {
  case onnx::AttributeProto::INT: return "INT";
  case onnx::AttributeProto::FLOAT: return "FLOAT";
  case onnx::AttributeProto::STRING: return "STRING";
  case onnx::AttributeProto::INTS: return "INTS";
  case onnx::AttributeProto::FLOATS: return "FLOATS";
  case onnx::AttributeProto::STRINGS: return "STRINGS";
  case onnx::AttributeProto::TENSOR: return "TENSOR";
  case onnx::AttributeProto::GRAPH: return "GRAPH";
  case onnx::AttributeProto::SPARSE_TENSOR: return "SPARSE_TENSOR";
  case onnx::AttributeProto::TYPE_PROTO: return "TYPE_PROTO";
  default: return "UNDEFINED";
  }
}

int expectedAttrType(AttrKind k) {
  switch (k) {
  case AttrKind::Int: case AttrKind::DType: return onnx::AttributeProto::INT;
  case AttrKind::Float: return onnx::AttributeProto::FLOAT;
  case AttrKind::String: return onnx::AttributeProto::STRING;
  case AttrKind::Ints: return onnx::AttributeProto::INTS;
  case AttrKind::Floats: return onnx::AttributeProto::FLOATS;
  case AttrKind::Strings: return onnx::AttributeProto::STRINGS;
  case AttrKind::Tensor: return onnx::AttributeProto::TENSOR;
  case AttrKind::Graph: return onnx::AttributeProto::GRAPH;
  }
  return 0;
}

using loom::import::dataTypeName;
using loom::import::describeNode;
using loom::import::fail;
using loom::import::FoldedInput;
using loom::import::ImportError;
using loom::import::prepareModel;

//===----------------------------------------------------------------------===//
// Types and tensors
//===----------------------------------------------------------------------===//

Type elementType(MLIRContext *ctx, int dataType) {
  Builder b(ctx);
  switch (dataType) {
  case onnx::TensorProto::FLOAT: return b.getF32Type();
  case onnx::TensorProto::DOUBLE: return b.getF64Type();
  case onnx::TensorProto::FLOAT16: return b.getF16Type();
  case onnx::TensorProto::BFLOAT16: return b.getBF16Type();
  case onnx::TensorProto::BOOL: return b.getI1Type();
  case onnx::TensorProto::INT8: return b.getIntegerType(8);
  case onnx::TensorProto::INT16: return b.getIntegerType(16);
  case onnx::TensorProto::INT32: return b.getIntegerType(32);
  case onnx::TensorProto::INT64: return b.getIntegerType(64);
  case onnx::TensorProto::UINT8: return b.getIntegerType(8, false);
  case onnx::TensorProto::UINT16: return b.getIntegerType(16, false);
  case onnx::TensorProto::UINT32: return b.getIntegerType(32, false);
  case onnx::TensorProto::UINT64: return b.getIntegerType(64, false);
  default: return {};
  }
}


/// Bytes of one element as stored in raw_data (bool: one byte).
size_t elementBytes(Type t) {
  return std::max<size_t>(1, t.getIntOrFloatBitWidth() / 8);
}

/// The MLIR type of an ONNX value type, or null when it is not a tensor.
Type convertType(MLIRContext *ctx, const onnx::TypeProto &type) {
  if (!type.has_tensor_type())
    return {};
  const auto &tt = type.tensor_type();
  Type element = elementType(ctx, tt.elem_type());
  if (!element)
    return {};
  if (!tt.has_shape())
    return UnrankedTensorType::get(element);
  SmallVector<int64_t> shape;
  for (const auto &d : tt.shape().dim())
    shape.push_back(d.has_dim_value() ? d.dim_value() : ShapedType::kDynamic);
  return RankedTensorType::get(shape, element);
}

/// Memory-mapped external data files, shared by the blobs that point in them.
class ExternalData {
public:
  explicit ExternalData(std::string modelDir) : modelDir(std::move(modelDir)) {}

  /// The bytes [offset, offset + length) of `location` (relative to the
  /// model's folder); `length` < 0 means to the end of the file.
  std::pair<ArrayRef<char>, std::shared_ptr<llvm::MemoryBuffer>>
  get(const std::string &location, int64_t offset, int64_t length,
      const std::string &tensorName) {
    if (llvm::sys::path::is_absolute(location) ||
        llvm::StringRef(location).contains(".."))
      fail("tensor '" + tensorName + "': external data location '" + location +
           "' must be a path inside the model's folder");
    llvm::SmallString<256> path(modelDir);
    llvm::sys::path::append(path, location);
    auto &buffer = files[std::string(path)];
    if (!buffer) {
      auto fileOrErr = llvm::MemoryBuffer::getFile(
          path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
      if (!fileOrErr)
        fail("tensor '" + tensorName + "': cannot open external data file '" +
             std::string(path) + "': " + fileOrErr.getError().message());
      buffer = std::shared_ptr<llvm::MemoryBuffer>(std::move(*fileOrErr));
    }
    int64_t size = int64_t(buffer->getBufferSize());
    if (length < 0)
      length = size - offset;
    if (offset < 0 || offset + length > size)
      fail("tensor '" + tensorName + "': external data [" +
           std::to_string(offset) + ", " + std::to_string(offset + length) +
           ") lies outside '" + std::string(path) + "' (" +
           std::to_string(size) + " bytes)");
    return {ArrayRef<char>(buffer->getBufferStart() + offset, size_t(length)),
            buffer};
  }

private:
  std::string modelDir;
  std::map<std::string, std::shared_ptr<llvm::MemoryBuffer>> files;
};

/// Converts a TensorProto to an elements attribute of its own type. Small
/// tensors become `dense`, larger ones `dense_resource` blobs (external data
/// stays memory-mapped, never copied).
ElementsAttr convertTensor(MLIRContext *ctx, const onnx::TensorProto &tensor,
                           ExternalData &external, llvm::StringRef what) {
  std::string name = tensor.name().empty() ? std::string(what) : tensor.name();
  Type element = elementType(ctx, tensor.data_type());
  if (!element)
    fail("tensor '" + name + "' has unsupported data type " +
         dataTypeName(tensor.data_type()));
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      fail("tensor '" + name + "' has a negative dimension");
    shape.push_back(d);
    count *= d;
  }
  auto type = RankedTensorType::get(shape, element);
  size_t eltBytes = elementBytes(element);
  size_t bytes = size_t(count) * eltBytes;

  // Gather the bytes: external data, raw_data or the typed fields.
  std::vector<char> owned;
  ArrayRef<char> data;
  std::shared_ptr<llvm::MemoryBuffer> mapped;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : tensor.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::stoll(kv.value());
      else if (kv.key() == "length")
        length = std::stoll(kv.value());
    }
    if (location.empty())
      fail("tensor '" + name + "' has external data without a location");
    std::tie(data, mapped) = external.get(location, offset, length, name);
  } else if (tensor.has_raw_data()) {
    data = ArrayRef<char>(tensor.raw_data().data(), tensor.raw_data().size());
  } else {
    owned.resize(bytes);
    auto fill = [&](const auto &field, auto convert) {
      if (int64_t(field.size()) != count)
        fail("tensor '" + name + "' has " + std::to_string(field.size()) +
             " values but its shape holds " + std::to_string(count));
      for (int64_t i = 0; i < count; ++i) {
        auto v = convert(field.Get(int(i)));
        std::memcpy(owned.data() + i * eltBytes, &v, eltBytes);
      }
    };
    switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      fill(tensor.float_data(), [](float v) { return v; });
      break;
    case onnx::TensorProto::DOUBLE:
      fill(tensor.double_data(), [](double v) { return v; });
      break;
    case onnx::TensorProto::INT64:
      fill(tensor.int64_data(), [](int64_t v) { return v; });
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      fill(tensor.uint64_data(), [](uint64_t v) { return v; });
      break;
    default: // int32 and narrower, bool, float16, bfloat16: int32_data
      fill(tensor.int32_data(), [](int32_t v) { return v; });
      break;
    }
    data = owned;
  }
  if (data.size() != bytes)
    fail("tensor '" + name + "' holds " + std::to_string(data.size()) +
         " bytes but its type " + dataTypeName(tensor.data_type()) +
         " and shape need " + std::to_string(bytes));

  if (count <= kInlineConstantElements) {
    if (element.isInteger(1)) {
      SmallVector<bool> bools;
      for (char c : data)
        bools.push_back(c != 0);
      return DenseElementsAttr::get(type, ArrayRef<bool>(bools));
    }
    return DenseElementsAttr::getFromRawBuffer(type, data);
  }
  std::string blobName = name.empty() ? "tensor" : name;
  auto &manager = DenseResourceElementsHandle::getManagerInterface(ctx);
  if (mapped && reinterpret_cast<uintptr_t>(data.data()) % eltBytes == 0) {
    AsmResourceBlob blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        data, eltBytes,
        [mapped](void *, size_t, size_t) mutable { mapped.reset(); });
    return DenseResourceElementsAttr::get(
        type, manager.insert(blobName, std::move(blob)));
  }
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocateAndCopyWithAlign(data, alignof(uint64_t));
  return DenseResourceElementsAttr::get(type,
                                        manager.insert(blobName, std::move(blob)));
}

//===----------------------------------------------------------------------===//
// IR construction
//===----------------------------------------------------------------------===//

class GraphImporter {
public:
  GraphImporter(MLIRContext *ctx, llvm::StringRef path, std::string modelDir)
      : ctx(ctx), builder(ctx), path(path), external(std::move(modelDir)) {}

  OwningOpRef<ModuleOp> importModel(const onnx::ModelProto &model,
                                    llvm::ArrayRef<FoldedInput> folded) {
    const onnx::GraphProto &graph = model.graph();
    Location fileLoc = FileLineColLoc::get(ctx, path, 0, 0);
    OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
    module->getOperation()->setAttr("loom.source", builder.getStringAttr(path));
    module->getOperation()->setAttr("loom.graph_name",
                                    builder.getStringAttr(graph.name()));
    module->getOperation()->setAttr("loom.opset",
                                    builder.getI64IntegerAttr(kTargetOpset));
    if (!model.producer_name().empty())
      module->getOperation()->setAttr(
          "loom.producer",
          builder.getStringAttr(model.producer_name() +
                                (model.producer_version().empty()
                                     ? ""
                                     : " " + model.producer_version())));
    collectTypes(graph);

    std::set<std::string> initializers;
    for (const auto &t : graph.initializer())
      initializers.insert(t.name());
    SmallVector<Type> argTypes;
    SmallVector<const onnx::ValueInfoProto *> args;
    for (const auto &in : graph.input()) {
      if (initializers.count(in.name()))
        continue;
      Type t = convertType(ctx, in.type());
      if (!t)
        fail("graph input '" + in.name() + "' is not a tensor of a supported "
             "type (sequences, maps, optionals and strings are not supported)");
      argTypes.push_back(t);
      args.push_back(&in);
    }
    SmallVector<Type> resultTypes;
    for (const auto &out : graph.output()) {
      Type t = typeOf(out.name(), "graph output");
      resultTypes.push_back(t);
    }

    builder.setInsertionPointToEnd(module->getBody());
    auto func = func::FuncOp::create(builder, fileLoc, "main",
                                     builder.getFunctionType(argTypes, resultTypes));
    Block *entry = func.addEntryBlock();
    scopes.emplace_back();
    for (auto [i, in] : llvm::enumerate(args)) {
      func.setArgAttr(i, "loom.name", builder.getStringAttr(in->name()));
      SmallVector<Attribute> params;
      bool anyParam = false;
      if (in->type().tensor_type().has_shape())
        for (const auto &d : in->type().tensor_type().shape().dim()) {
          params.push_back(builder.getStringAttr(d.dim_param()));
          anyParam |= !d.has_dim_value() && !d.dim_param().empty();
        }
      if (anyParam)
        func.setArgAttr(i, "loom.dim_params", builder.getArrayAttr(params));
      define(in->name(), entry->getArgument(i));
    }
    for (auto [i, out] : llvm::enumerate(graph.output()))
      func.setResultAttr(i, "loom.name", builder.getStringAttr(out.name()));

    builder.setInsertionPointToStart(entry);
    importInitializers(graph);
    recordFoldedInputs(*module, folded);
    importNodes(graph);
    SmallVector<Value> results;
    for (const auto &out : graph.output())
      results.push_back(lookup(out.name(), "graph output"));
    func::ReturnOp::create(builder, fileLoc, results);
    scopes.pop_back();
    return module;
  }

private:
  /// Records the inferred type of every value of `graph` (and subgraphs).
  void collectTypes(const onnx::GraphProto &graph) {
    auto add = [&](const onnx::ValueInfoProto &v) {
      if (v.has_type())
        valueTypes[v.name()] = &v.type();
    };
    for (const auto &v : graph.input())
      add(v);
    for (const auto &v : graph.value_info())
      add(v);
    for (const auto &v : graph.output())
      add(v);
    for (const auto &n : graph.node())
      for (const auto &a : n.attribute()) {
        if (a.has_g())
          collectTypes(a.g());
        for (const auto &g : a.graphs())
          collectTypes(g);
      }
  }

  Type typeOf(const std::string &name, llvm::StringRef what) {
    auto it = valueTypes.find(name);
    if (it == valueTypes.end()) {
      if (Value v = tryLookup(name))
        return v.getType();
      fail(std::string(what) + " '" + name +
           "' has no type: ONNX shape inference could not infer it");
    }
    Type t = convertType(ctx, *it->second);
    if (!t) {
      if (Value v = tryLookup(name))
        return v.getType();
      fail(std::string(what) + " '" + name +
           "' is not a tensor of a supported type");
    }
    return t;
  }

  void define(const std::string &name, Value v) { scopes.back()[name] = v; }
  Value tryLookup(const std::string &name) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end())
        return f->second;
    }
    return {};
  }
  Value lookup(const std::string &name, llvm::StringRef what) {
    if (Value v = tryLookup(name))
      return v;
    fail(std::string(what) + " refers to '" + name + "', which is not defined");
  }

  Location nodeLoc(const onnx::NodeProto &node, int index) {
    std::string name = node.name().empty()
                           ? node.op_type() + "#" + std::to_string(index)
                           : node.name();
    return NameLoc::get(builder.getStringAttr(name));
  }

  /// Records the inputs bound by --const-input as the module attribute
  /// `loom.folded_inputs` ([{name, index, value}] in input order), so that the
  /// plan can list them and a runtime can check a given value against them.
  void recordFoldedInputs(ModuleOp module, llvm::ArrayRef<FoldedInput> folded) {
    if (folded.empty())
      return;
    SmallVector<FoldedInput> sorted(folded.begin(), folded.end());
    llvm::sort(sorted, [](const FoldedInput &a, const FoldedInput &b) {
      return a.index < b.index;
    });
    SmallVector<Attribute> entries;
    for (const FoldedInput &f : sorted) {
      auto c = lookup(f.name, "--const-input").getDefiningOp<ConstantOp>();
      if (!c)
        fail("--const-input " + f.name + ": the input is not a constant");
      entries.push_back(builder.getDictionaryAttr(
          {builder.getNamedAttr("name", builder.getStringAttr(f.name)),
           builder.getNamedAttr("index", builder.getI64IntegerAttr(f.index)),
           builder.getNamedAttr("value", c.getValue())}));
    }
    module->setAttr("loom.folded_inputs", builder.getArrayAttr(entries));
  }

  void importInitializers(const onnx::GraphProto &graph) {
    for (const auto &t : graph.initializer()) {
      ElementsAttr value = convertTensor(ctx, t, external, "initializer");
      auto c = ConstantOp::create(
          builder, NameLoc::get(builder.getStringAttr(t.name())), value);
      define(t.name(), c);
    }
  }

  void importNodes(const onnx::GraphProto &graph) {
    for (int i = 0; i < graph.node_size(); ++i) {
      const auto &node = graph.node(i);
      try {
        importNode(node, i);
      } catch (ImportError &e) {
        if (llvm::StringRef(e.message).starts_with("node "))
          throw;
        fail(describeNode(node, i) + ": " + e.message);
      }
    }
  }

  Attribute convertAttr(const onnx::AttributeProto &a, AttrKind kind) {
    switch (kind) {
    case AttrKind::Int:
      return builder.getI64IntegerAttr(a.i());
    case AttrKind::Float:
      return builder.getF32FloatAttr(a.f());
    case AttrKind::String:
      return builder.getStringAttr(a.s());
    case AttrKind::Ints:
      return builder.getDenseI64ArrayAttr(
          SmallVector<int64_t>(a.ints().begin(), a.ints().end()));
    case AttrKind::Floats:
      return builder.getDenseF32ArrayAttr(
          SmallVector<float>(a.floats().begin(), a.floats().end()));
    case AttrKind::Strings: {
      SmallVector<Attribute> s;
      for (const auto &x : a.strings())
        s.push_back(builder.getStringAttr(x));
      return builder.getArrayAttr(s);
    }
    case AttrKind::Tensor:
      return convertTensor(ctx, a.t(), external, a.name());
    case AttrKind::DType: {
      Type t = elementType(ctx, int(a.i()));
      if (!t)
        fail("attribute '" + a.name() + "' names unsupported data type " +
             dataTypeName(int(a.i())));
      return TypeAttr::get(t);
    }
    case AttrKind::Graph:
      break;
    }
    return {};
  }

  /// ONNX `Constant`, whatever its attribute form, becomes loom.constant.
  void importConstant(const onnx::NodeProto &node, int index) {
    if (node.attribute_size() != 1 || node.output_size() != 1)
      fail("a Constant needs exactly one value attribute and one output");
    const auto &a = node.attribute(0);
    ElementsAttr value;
    const std::string &n = a.name();
    auto f32 = builder.getF32Type();
    auto i64 = builder.getI64Type();
    if (n == "value") {
      value = convertTensor(ctx, a.t(), external, node.output(0));
    } else if (n == "value_float") {
      value = DenseElementsAttr::get(RankedTensorType::get({}, f32), a.f());
    } else if (n == "value_floats") {
      SmallVector<float> v(a.floats().begin(), a.floats().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({int64_t(v.size())}, f32), ArrayRef<float>(v));
    } else if (n == "value_int") {
      value = DenseElementsAttr::get(RankedTensorType::get({}, i64),
                                     int64_t(a.i()));
    } else if (n == "value_ints") {
      SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({int64_t(v.size())}, i64), ArrayRef<int64_t>(v));
    } else {
      fail("Constant attribute '" + n + "' is not supported (sparse and string "
           "constants are out of scope)");
    }
    define(node.output(0), ConstantOp::create(builder, nodeLoc(node, index), value));
  }

  /// ONNX Runtime's MatMulNBits (checked in preparation: constant B,
  /// scales and zero points; ContribOps.h).
  void importMatMulNBits(const onnx::NodeProto &node, int index) {
    const std::string where = describeNode(node, index);
    MatMulNBitsOperands in;
    in.a = lookup(node.input(0), "input");
    auto given = [&](int i) {
      return i < node.input_size() && !node.input(i).empty();
    };
    // The bytes of constant input `i`, and its element type.
    auto bytesOf = [&](int i, std::string &out) -> Type {
      auto c = lookup(node.input(i), "input").getDefiningOp<ConstantOp>();
      if (!c || !loom::constantBytes(c.getValue(), out))
        fail(where + ": cannot read the constant '" + node.input(i) + "'");
      return cast<ShapedType>(c.getValue().getType()).getElementType();
    };
    bytesOf(1, in.b);
    bytesOf(2, in.scales);
    if (given(3))
      in.zeroPointType = bytesOf(3, in.zeroPoints).isF32()
                             ? onnx::TensorProto::FLOAT
                             : onnx::TensorProto::UINT8;
    if (given(4)) {
      bytesOf(4, in.gIdx);
      in.hasGIdx = true;
    }
    if (given(5))
      in.bias = lookup(node.input(5), "input");
    auto aType = dyn_cast<RankedTensorType>(in.a.getType());
    auto yType = dyn_cast<RankedTensorType>(typeOf(node.output(0), "value"));
    if (!aType || !aType.getElementType().isF32() || !yType)
      fail(where + ": Loom imports MatMulNBits with a ranked float (f32) "
                   "activation A");
    define(node.output(0), lowerMatMulNBits(builder, nodeLoc(node, index), node,
                                            in, yType));
  }

  /// ONNX's blocked or 4-bit DequantizeLinear-21, as the version adapters
  /// rewrote it (constant operands; ContribOps.h).
  void importBlockedDequantize(const onnx::NodeProto &node, int index) {
    const std::string where = describeNode(node, index);
    BlockedDequantizeOperands in;
    auto bytesOf = [&](int i, std::string &out) {
      auto c = lookup(node.input(i), "input").getDefiningOp<ConstantOp>();
      if (!c || !loom::constantBytes(c.getValue(), out))
        fail(where + ": cannot read the constant '" + node.input(i) + "'");
    };
    bytesOf(0, in.x);
    bytesOf(1, in.scales);
    if (node.input_size() > 2 && !node.input(2).empty()) {
      bytesOf(2, in.zeroPoints);
      in.hasZeroPoint = true;
    }
    auto yType = dyn_cast<RankedTensorType>(typeOf(node.output(0), "value"));
    if (!yType || !yType.getElementType().isF32())
      fail(where + ": the dequantized weight must be a ranked f32 tensor");
    define(node.output(0), lowerBlockedDequantize(builder, nodeLoc(node, index),
                                                  node, in, yType));
  }

  void importNode(const onnx::NodeProto &node, int index) {
    if (node.op_type() == "Constant")
      return importConstant(node, index);
    if (isSupportedContribOp(node))
      return importMatMulNBits(node, index);
    if (isBlockedDequantize(node))
      return importBlockedDequantize(node, index);
    const OpInfo *info = lookupOp(node.op_type());
    if (!info)
      fail(describeNode(node, index) + ": ONNX operator '" + node.op_type() +
           "' is not supported by Loom");
    Location loc = nodeLoc(node, index);
    OperationState state(loc, info->loomName);

    // Operands in formal order; absent optional inputs are loom.none.
    int pos = 0;
    for (const ParamInfo &p : info->inputs) {
      if (p.kind == ParamKind::Variadic) {
        for (; pos < node.input_size(); ++pos)
          state.addOperands(lookup(node.input(pos), "input"));
        continue;
      }
      bool present = pos < node.input_size() && !node.input(pos).empty();
      if (present) {
        state.addOperands(lookup(node.input(pos), "input"));
      } else if (p.kind == ParamKind::Optional) {
        state.addOperands(getNone(loc));
      } else {
        fail(describeNode(node, index) + ": required input '" +
             std::string(p.name) + "' (#" + std::to_string(pos) + ") is missing");
      }
      ++pos;
    }
    if (pos < node.input_size())
      fail(describeNode(node, index) + ": has " +
           std::to_string(node.input_size()) + " inputs but " +
           node.op_type() + " takes at most " + std::to_string(pos));

    // Result types in formal order; absent optional outputs are `none`.
    SmallVector<std::string> outputNames;
    pos = 0;
    for (const ParamInfo &p : info->outputs) {
      if (p.kind == ParamKind::Variadic) {
        for (; pos < node.output_size(); ++pos) {
          state.addTypes(typeOf(node.output(pos), "value"));
          outputNames.push_back(node.output(pos));
        }
        continue;
      }
      bool present = pos < node.output_size() && !node.output(pos).empty();
      if (present) {
        state.addTypes(typeOf(node.output(pos), "value"));
        outputNames.push_back(node.output(pos));
      } else if (p.kind == ParamKind::Optional) {
        state.addTypes(builder.getNoneType());
        outputNames.push_back("");
      } else {
        fail(describeNode(node, index) + ": required output '" +
             std::string(p.name) + "' is missing");
      }
      ++pos;
    }

    // Attributes: checked against the schema's kinds.
    std::vector<std::pair<const onnx::AttributeProto *, const AttrInfo *>> graphs;
    for (const auto &a : node.attribute()) {
      const AttrInfo *ai = nullptr;
      for (const AttrInfo &x : info->attrs)
        if (a.name() == x.name)
          ai = &x;
      if (!ai) {
        // Attributes the dialect does not model (e.g. of newer opsets).
        fail(describeNode(node, index) + ": unknown attribute '" + a.name() +
             "' for " + node.op_type() + " (opset " +
             std::to_string(kTargetOpset) + ")");
      }
      if (a.type() != expectedAttrType(ai->kind) &&
          a.type() != onnx::AttributeProto::UNDEFINED)
        fail(describeNode(node, index) + ": attribute '" + a.name() +
             "' must be " + attrTypeName(expectedAttrType(ai->kind)) +
             ", got " + attrTypeName(a.type()));
      if (ai->kind == AttrKind::Graph) {
        graphs.push_back({&a, ai});
        continue;
      }
      state.addAttribute(a.name(), convertAttr(a, ai->kind));
    }

    // Regions, in the order the op declares them (alphabetical by name).
    SmallVector<const AttrInfo *> regionAttrs;
    for (const AttrInfo &x : info->attrs)
      if (x.kind == AttrKind::Graph)
        regionAttrs.push_back(&x);
    for (size_t r = 0; r < regionAttrs.size(); ++r)
      state.addRegion();
    Operation *op = builder.create(state);
    for (auto [r, ai] : llvm::enumerate(regionAttrs)) {
      const onnx::AttributeProto *attr = nullptr;
      for (auto &g : graphs)
        if (g.second == ai)
          attr = g.first;
      if (!attr)
        fail(describeNode(node, index) + ": missing graph attribute '" +
             std::string(ai->name) + "'");
      importSubgraph(attr->g(), op->getRegion(r), op, node, index);
    }
    for (auto [name, result] : llvm::zip(outputNames, op->getResults()))
      if (!name.empty())
        define(name, result);
  }

  /// Types for the block arguments of a subgraph whose inputs lack them.
  Type subgraphArgType(Operation *op, int argIndex) {
    if (isa<LoopOp>(op)) {
      if (argIndex == 0)
        return RankedTensorType::get({}, builder.getI64Type());
      if (argIndex == 1)
        return RankedTensorType::get({}, builder.getI1Type());
      auto loop = cast<LoopOp>(op);
      if (argIndex - 2 < int(loop.getVInitial().size()))
        return loop.getVInitial()[argIndex - 2].getType();
    }
    if (auto scan = dyn_cast<ScanOp>(op)) {
      auto inputs = scan.getInitialStateAndScanInputs();
      if (argIndex < int(inputs.size())) {
        int64_t numScan = scan.getNumScanInputs();
        int64_t numState = int64_t(inputs.size()) - numScan;
        Type t = inputs[argIndex].getType();
        if (argIndex < numState)
          return t;
        // A scan input's slice drops the scan axis (0 unless stated).
        auto rt = dyn_cast<RankedTensorType>(t);
        int64_t axis = 0;
        if (auto axes = scan.getScanInputAxes())
          axis = (*axes)[argIndex - numState];
        if (rt && rt.getRank() > 0) {
          SmallVector<int64_t> shape(rt.getShape());
          shape.erase(shape.begin() + normalizeAxis(axis, rt.getRank()));
          return RankedTensorType::get(shape, rt.getElementType());
        }
        return UnrankedTensorType::get(getElementTypeOrSelf(t));
      }
    }
    return {};
  }

  void importSubgraph(const onnx::GraphProto &graph, Region &region,
                      Operation *op, const onnx::NodeProto &node, int index) {
    OpBuilder::InsertionGuard guard(builder);
    Block *block = new Block();
    region.push_back(block);
    scopes.emplace_back();
    for (auto [i, in] : llvm::enumerate(graph.input())) {
      Type t = convertType(ctx, in.type());
      if (!t || (isa<UnrankedTensorType>(t) && subgraphArgType(op, int(i))))
        if (Type fallback = subgraphArgType(op, int(i)))
          t = fallback;
      if (!t)
        fail(describeNode(node, index) + ": subgraph input '" + in.name() +
             "' has no tensor type");
      define(in.name(), block->addArgument(t, nodeLoc(node, index)));
    }
    builder.setInsertionPointToStart(block);
    importInitializers(graph);
    importNodes(graph);
    SmallVector<Value> results;
    for (const auto &out : graph.output())
      results.push_back(lookup(out.name(), "subgraph output"));
    YieldOp::create(builder, nodeLoc(node, index), results);
    scopes.pop_back();
  }

  Value getNone(Location loc) {
    return NoneOp::create(builder, loc);
  }

  MLIRContext *ctx;
  OpBuilder builder;
  std::string path;
  ExternalData external;
  std::deque<std::map<std::string, Value>> scopes;
  std::map<std::string, const onnx::TypeProto *> valueTypes;
};

} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

llvm::Expected<std::pair<std::string, std::vector<int64_t>>>
loom::parseInputShapeFlag(llvm::StringRef flag) {
  auto [name, dims] = flag.rsplit('=');
  if (name.empty() || !flag.contains('='))
    return llvm::createStringError("expected NAME=D0xD1x..., got '" + flag.str() + "'");
  std::vector<int64_t> shape;
  if (!dims.empty() && dims != "scalar") {
    SmallVector<llvm::StringRef> parts;
    dims.split(parts, 'x');
    for (llvm::StringRef p : parts) {
      int64_t d;
      if (p.trim().getAsInteger(10, d) || d < 0)
        return llvm::createStringError("'" + flag.str() + "': dimension '" +
                                       p.str() +
                                       "' is not a non-negative integer");
      shape.push_back(d);
    }
  }
  return std::make_pair(name.str(), shape);
}

llvm::Expected<std::pair<std::string, int64_t>>
loom::parseDimFlag(llvm::StringRef flag) {
  auto [name, value] = flag.rsplit('=');
  int64_t v;
  if (name.empty() || !flag.contains('=') || value.getAsInteger(10, v) || v < 0)
    return llvm::createStringError("expected PARAM=VALUE with a non-negative "
                                   "integer VALUE, got '" + flag.str() + "'");
  return std::make_pair(name.str(), v);
}

llvm::Expected<std::pair<std::string, std::string>>
loom::parseConstInputFlag(llvm::StringRef flag) {
  auto [name, value] = flag.split('=');
  if (name.empty() || !flag.contains('=') || value.empty())
    return llvm::createStringError("expected NAME=VALUE or NAME=FILE.pb, got '" +
                                   flag.str() + "'");
  return std::make_pair(name.str(), value.str());
}

void loom::registerImportDialects(DialectRegistry &registry) {
  registry.insert<LoomDialect, func::FuncDialect>();
}

namespace {
/// An If whose condition is a constant already (an input folded with
/// --const-input) keeps only the branch it takes, before verification: the
/// other branch may serve other inputs and not hold for these shapes (ONNX's
/// shape inference typed it with them). Nothing is folded here.
void inlineConstantIfs(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  RewritePatternSet patterns(ctx);
  IfOp::getCanonicalizationPatterns(patterns, ctx);
  GreedyRewriteConfig config;
  config.enableFolding(false).enableConstantCSE(false).setRegionSimplificationLevel(
      GreedySimplifyRegionLevel::Disabled);
  (void)applyPatternsGreedily(module, std::move(patterns), config);
}

/// After a failed verification: when the first op that fails lies in a
/// branch of an If decided at run time, say so (loom::explainRunTimeBranch).
void explainFailedBranch(ModuleOp module) {
  Operation *culprit = firstInvalidOp(module);
  if (!culprit)
    return;
  if (auto func = culprit->getParentOfType<func::FuncOp>())
    explainRunTimeBranch(func, culprit);
}
} // namespace

OwningOpRef<ModuleOp> loom::importOnnxBuffer(MLIRContext &context,
                                            llvm::StringRef bytes,
                                            llvm::StringRef path, bool isText,
                                            const ImportOptions &options) {
  context.loadDialect<LoomDialect, func::FuncDialect>();
  Location loc = FileLineColLoc::get(&context, path, 0, 0);
  try {
    std::vector<std::string> warnings;
    std::vector<FoldedInput> folded;
    onnx::ModelProto model =
        prepareModel(bytes, isText, options, warnings, folded);
    for (const std::string &w : warnings)
      emitWarning(loc) << w;
    llvm::SmallString<256> dir(path);
    llvm::sys::path::remove_filename(dir);
    if (dir.empty())
      dir = ".";
    GraphImporter importer(&context, path, std::string(dir));
    OwningOpRef<ModuleOp> module = importer.importModel(model, folded);
    inlineConstantIfs(*module);
    if (failed(verify(*module))) {
      explainFailedBranch(*module);
      return {};
    }
    return module;
  } catch (const ImportError &e) {
    emitError(loc) << e.message;
  } catch (const std::exception &e) {
    emitError(loc) << "cannot import the model: " << e.what();
  }
  return {};
}


OwningOpRef<ModuleOp> loom::importOnnxFile(MLIRContext &context,
                                          llvm::StringRef path,
                                          const ImportOptions &options) {
  auto fileOrErr = llvm::MemoryBuffer::getFileOrSTDIN(
      path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!fileOrErr) {
    emitError(FileLineColLoc::get(&context, path, 0, 0))
        << "cannot read the model: " << fileOrErr.getError().message();
    return {};
  }
  bool isText = path.ends_with(".onnxtext");
  return importOnnxBuffer(context, (*fileOrErr)->getBuffer(), path, isText,
                          options);
}
