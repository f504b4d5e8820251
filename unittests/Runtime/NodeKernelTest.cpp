//===- NodeKernelTest.cpp - Reference kernels vs. ONNX node tests ---------===//
//
// For every directory of the ONNX backend node tests whose model is a single
// node with a Loom kernel: upgrade the model to opset 17, convert the node's
// attributes, run the reference kernel on each test_data_set_* and compare
// with the expected outputs. Floats match when |got - want| <= 1e-7 +
// 1e-3 * |want| (NaN equals NaN); integers and bools match exactly.
//
// node_kernel_xfail.txt lists tests that fail for a known reason
// (`test_name  [category] reason`): such a failure in that category is
// reported as a skip with the reason; a listed test that passes or fails in
// another category fails, so the table stays honest.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Compare.h"
#include "loom/Runtime/Kernel.h"
#include "loom/Runtime/TensorProtoIO.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <onnx/version_converter/convert.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace loom::rt;

namespace {

//===----------------------------------------------------------------------===//
// The ONNX op table (ONNX op type -> kernel name, attribute kinds)
//===----------------------------------------------------------------------===//

enum class ParamKind { Single, Optional, Variadic };
enum class AttrKind { Int, Float, String, Ints, Floats, Strings, DType, Tensor, Graph };
struct ParamSpec {
  const char *name;
  ParamKind kind;
};
struct AttrSpec {
  const char *name;
  AttrKind kind;
};
struct OpSpec {
  const char *onnxName;
  const char *loomName;
  int sinceVersion;
  std::vector<ParamSpec> inputs, outputs;
  std::vector<AttrSpec> attrs;
};

const std::vector<OpSpec> &opTable() {
  static const std::vector<OpSpec> table = {
#include "OnnxOpTable.inc"
  };
  return table;
}

const OpSpec *findOp(const std::string &onnxName) {
  for (const OpSpec &op : opTable())
    if (onnxName == op.onnxName)
      return &op;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Test discovery and the xfail table
//===----------------------------------------------------------------------===//

std::vector<std::string> nodeTestNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(LOOM_NODE_TEST_DIR, ec))
    if (entry.is_directory() && fs::exists(entry.path() / "model.onnx"))
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// The ways a node test fails; an xfail entry names the one it expects.
const std::vector<std::string> &failureCategories() {
  static const std::vector<std::string> c = {"setup", "kernel error", "mismatch"};
  return c;
}

/// One line of node_kernel_xfail.txt: `test_name  [category] reason`.
struct XfailEntry {
  std::string category, reason;
};

/// The xfail table and the problems found reading it (an entry without a
/// reason or with an unknown category is one, and is left out of the
/// table, so the test it names runs as unlisted).
struct XfailTable {
  std::map<std::string, XfailEntry> entries;
  std::vector<std::string> problems;
};

const XfailTable &xfailTable() {
  static const XfailTable table = [] {
    XfailTable t;
    std::ifstream in(LOOM_NODE_XFAIL_FILE);
    if (!in)
      t.problems.push_back(std::string("cannot read ") + LOOM_NODE_XFAIL_FILE);
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
      ++lineNo;
      if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#')
        continue;
      std::istringstream ls(line);
      std::string name, rest;
      ls >> name;
      std::getline(ls, rest);
      rest.erase(0, rest.find_first_not_of(" \t"));
      const std::string where = "node_kernel_xfail.txt:" + std::to_string(lineNo) + ": ";
      size_t close = rest.find(']');
      if (rest.empty() || rest[0] != '[' || close == std::string::npos) {
        t.problems.push_back(where + name + ": no [category] (one of: setup, kernel error, mismatch)");
        continue;
      }
      XfailEntry e{rest.substr(1, close - 1), rest.substr(close + 1)};
      e.reason.erase(0, e.reason.find_first_not_of(" \t"));
      const auto &cats = failureCategories();
      if (std::find(cats.begin(), cats.end(), e.category) == cats.end())
        t.problems.push_back(where + name + ": unknown category '" + e.category + "'");
      else if (e.reason.empty())
        t.problems.push_back(where + name + ": no reason given");
      else if (!t.entries.emplace(name, e).second)
        t.problems.push_back(where + name + " is listed twice");
    }
    return t;
  }();
  return table;
}

//===----------------------------------------------------------------------===//
// Running one node test
//===----------------------------------------------------------------------===//

/// The result of one node test before the xfail table is applied.
struct Outcome {
  enum Kind { Pass, Fail, Skip } kind = Pass;
  std::string message;
  /// For a failure: one of failureCategories().
  std::string category;
};

Outcome skip(std::string why) { return {Outcome::Skip, std::move(why), ""}; }
Outcome failure(std::string category, std::string why) {
  return {Outcome::Fail, std::move(why), std::move(category)};
}

/// The one node of a single-node model, ignoring Constant nodes with a
/// `value` tensor that feed it; null when there is no such single node.
const onnx::NodeProto *mainNode(const onnx::GraphProto &graph) {
  const onnx::NodeProto *found = nullptr;
  for (const auto &n : graph.node()) {
    if (n.op_type() == "Constant" && graph.node_size() > 1)
      continue;
    if (found)
      return nullptr;
    found = &n;
  }
  return found;
}

/// The ONNX test data stores bfloat16 tensors as uint16 (numpy has no
/// bfloat16): retag such a tensor with the type the graph declares.
void applyDeclaredType(Tensor &t, const onnx::ValueInfoProto &info) {
  auto declared = dtypeFromOnnx(info.type().tensor_type().elem_type());
  if (declared && *declared == DType::BF16 && t.dtype == DType::U16)
    t.dtype = *declared;
}

bool readModel(const fs::path &path, onnx::ModelProto &model) {
  std::ifstream in(path, std::ios::binary);
  return in && model.ParseFromIstream(&in);
}

/// Compares one output with the shared runtime comparison at the tolerances
/// of ONNX's own backend test runner (rtol 1e-3, atol 1e-7; docs/testing.md),
/// NaN equals NaN, integers and bools exact; returns an empty string when it
/// matches.
std::string compare(const std::string &what, const Tensor &got,
                    const Tensor &want) {
  CompareResult r = compareTensors(got, want, CompareOptions{1e-3, 1e-7});
  return r.match ? "" : what + ": " + r.describe();
}

Outcome runNodeTest(const std::string &name) {
  fs::path dir = fs::path(LOOM_NODE_TEST_DIR) / name;
  onnx::ModelProto model;
  if (!readModel(dir / "model.onnx", model))
    return failure("setup", "cannot parse model.onnx");
  const onnx::NodeProto *first = mainNode(model.graph());
  if (!first)
    return skip("not a single-node model (" +
                std::to_string(model.graph().node_size()) + " nodes)");
  if (!first->domain().empty() && first->domain() != "ai.onnx")
    return skip("op domain '" + first->domain() + "' is not ai.onnx");
  const OpSpec *op = findOp(first->op_type());
  if (!op)
    return skip("op " + first->op_type() + " is not in Loom's op table");
  KernelRegistry &registry = KernelRegistry::global();
  auto names = registry.names();
  std::string kernel = std::string(op->loomName).substr(5); // drop "loom."
  if (!std::binary_search(names.begin(), names.end(), kernel))
    return skip("no kernel '" + kernel + "' yet");

  // Upgrade to the opset-17 forms the kernels implement.
  int64_t opset = -1;
  for (const auto &imp : model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx")
      opset = imp.version();
  if (opset < 17) {
    try {
      model = onnx::version_conversion::ConvertVersion(model, 17);
    } catch (const std::exception &e) {
      return skip(std::string("cannot convert the model to opset 17: ") +
                  e.what());
    }
    if (!mainNode(model.graph()))
      return skip("opset-17 conversion produced " +
                  std::to_string(model.graph().node_size()) + " nodes");
  } else if (opset > 17) {
    return skip("model opset " + std::to_string(opset) + " is newer than 17");
  }
  const onnx::GraphProto &graph = model.graph();
  const onnx::NodeProto &node = *mainNode(graph);

  Attrs attrs;
  for (const auto &attr : node.attribute()) {
    std::optional<AttrValue> v = attrFromProto(attr);
    if (!v)
      return skip("attribute '" + attr.name() + "' has an unsupported kind");
    for (const AttrSpec &spec : op->attrs)
      if (attr.name() == spec.name && spec.kind == AttrKind::DType) {
        auto dt = dtypeFromOnnx(int32_t(attr.i()));
        if (!dt)
          return skip("dtype attribute '" + attr.name() +
                      "' names an unsupported type");
        v = AttrValue(*dt);
      }
    attrs.set(attr.name(), std::move(*v));
  }

  std::vector<std::string> dataSets;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.is_directory() &&
        entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      dataSets.push_back(entry.path().string());
  std::sort(dataSets.begin(), dataSets.end());
  if (dataSets.empty())
    return skip("no test data sets");

  // Initializers and the outputs of Constant nodes (the version converter
  // turns some attributes into Constant-fed inputs).
  std::map<std::string, Tensor> initializers;
  try {
    for (const auto &init : graph.initializer())
      initializers[init.name()] = tensorFromProto(init);
    for (const auto &n : graph.node())
      if (n.op_type() == "Constant") {
        if (n.attribute_size() != 1 || n.attribute(0).name() != "value")
          return skip("Constant node without a 'value' tensor");
        initializers[n.output(0)] = tensorFromProto(n.attribute(0).t());
      }
  } catch (const KernelError &e) {
    return skip("unsupported initializer: " + e.message);
  }

  for (const std::string &set : dataSets) {
    // Graph inputs (not initializers) are input_0.pb, input_1.pb, ...
    std::map<std::string, Tensor> values = initializers;
    int inputIndex = 0;
    try {
      for (const auto &in : graph.input()) {
        if (initializers.count(in.name()))
          continue;
        fs::path file = fs::path(set) / ("input_" + std::to_string(inputIndex++) + ".pb");
        if (!in.type().has_tensor_type())
          return skip("input '" + in.name() + "' is not a tensor");
        values[in.name()] = readTensorFile(file.string());
        applyDeclaredType(values[in.name()], in);
      }
    } catch (const KernelError &e) {
      return skip("unsupported input: " + e.message);
    }
    std::map<std::string, Tensor> expected;
    try {
      for (int i = 0; i < graph.output_size(); ++i) {
        if (!graph.output(i).type().has_tensor_type())
          return skip("output '" + graph.output(i).name() + "' is not a tensor");
        fs::path file = fs::path(set) / ("output_" + std::to_string(i) + ".pb");
        Tensor &want = expected[graph.output(i).name()];
        want = readTensorFile(file.string());
        applyDeclaredType(want, graph.output(i));
      }
    } catch (const KernelError &e) {
      return skip("unsupported output: " + e.message);
    }

    KernelArgs args{attrs, {}, {}, 1};
    std::vector<DType> inputDTypes;
    for (const std::string &in : node.input()) {
      if (in.empty()) {
        args.inputs.push_back(TensorRef{DType::F32, {}, nullptr, false});
        continue;
      }
      auto it = values.find(in);
      if (it == values.end())
        return failure("setup", "node input '" + in + "' has no value");
      args.inputs.push_back(it->second.ref());
      inputDTypes.push_back(it->second.dtype);
    }
    // Outputs take the expected outputs' shapes and dtypes; node outputs the
    // graph does not expose are treated as not requested.
    std::vector<Tensor> got(size_t(node.output_size()));
    for (int i = 0; i < node.output_size(); ++i) {
      auto it = expected.find(node.output(i));
      if (node.output(i).empty() || it == expected.end()) {
        args.outputs.push_back(TensorRef{DType::F32, {}, nullptr, false});
        continue;
      }
      got[i].dtype = it->second.dtype;
      got[i].shape = it->second.shape;
      got[i].bytes.assign(it->second.bytes.size(), 0xcd); // poison
      args.outputs.push_back(got[i].ref());
    }
    // Absent trailing optional outputs are simply not passed.
    while (!args.outputs.empty() && !args.outputs.back().present)
      args.outputs.pop_back();

    const KernelEntry *entry = registry.lookupReference(kernel, inputDTypes);
    if (!entry)
      return skip("no reference kernel '" + kernel + "' for these dtypes");
    try {
      entry->fn(args);
    } catch (const KernelError &e) {
      return failure("kernel error", "kernel error: " + e.message);
    }
    std::string setName = fs::path(set).filename().string();
    for (int i = 0; i < node.output_size(); ++i) {
      auto it = expected.find(node.output(i));
      if (it == expected.end())
        continue;
      std::string diff =
          compare(setName + " output " + std::to_string(i), got[i], it->second);
      if (!diff.empty())
        return failure("mismatch", diff);
    }
  }
  return {};
}

//===----------------------------------------------------------------------===//
// The parameterized test
//===----------------------------------------------------------------------===//

class NodeKernelTest : public ::testing::TestWithParam<std::string> {
protected:
  static void SetUpTestSuite() { registerBuiltinKernels(); }
};

TEST_P(NodeKernelTest, MatchesExpectedOutputs) {
  const std::string &name = GetParam();
  Outcome outcome = runNodeTest(name);
  const auto &entries = xfailTable().entries;
  auto xfail = entries.find(name);
  bool listed = xfail != entries.end();
  switch (outcome.kind) {
  case Outcome::Skip:
    GTEST_SKIP() << outcome.message;
  case Outcome::Fail:
    if (listed && xfail->second.category == outcome.category)
      GTEST_SKIP() << "xfail [" << outcome.category << "] (" << xfail->second.reason
                   << "): " << outcome.message;
    if (listed)
      FAIL() << "fails as [" << outcome.category << "], but node_kernel_xfail.txt expects ["
             << xfail->second.category << "] (" << xfail->second.reason
             << "): " << outcome.message;
    FAIL() << "[" << outcome.category << "] " << outcome.message;
  case Outcome::Pass:
    if (listed)
      FAIL() << "listed in node_kernel_xfail.txt (" << xfail->second.reason
             << ") but passes: remove it from the table";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Onnx, NodeKernelTest, ::testing::ValuesIn(nodeTestNames()),
    [](const ::testing::TestParamInfo<std::string> &info) {
      std::string n = info.param;
      for (char &c : n)
        if (!std::isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return n;
    });

/// Guards against a silently empty suite (e.g. a missing test data package).
TEST(NodeKernelTestData, TestDataIsInstalled) {
  EXPECT_GT(nodeTestNames().size(), 100u)
      << "no ONNX node tests found under " << LOOM_NODE_TEST_DIR;
}

/// Every line of node_kernel_xfail.txt names a node test, a failure
/// category and a reason.
TEST(NodeKernelTestData, XfailTableIsWellFormed) {
  for (const std::string &p : xfailTable().problems)
    ADD_FAILURE() << p;
  const std::vector<std::string> names = nodeTestNames();
  for (const auto &[name, entry] : xfailTable().entries)
    EXPECT_TRUE(std::binary_search(names.begin(), names.end(), name))
        << "node_kernel_xfail.txt lists " << name << ", which is not a node test";
}

} // namespace
