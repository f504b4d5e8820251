//===- Plan.cpp - Parsing plan.json into the Plan structs -----------------===//
//
// Reads plan.json with nlohmann-json and converts it to the structs of
// loom/Runtime/Plan.h, checking every key's presence and JSON type and the
// rules that concern one element alone (id == index, known dtypes, sizes that
// match shapes, attribute encodings). Cross-references are checked afterwards
// by validatePlan (PlanValidate.cpp). The structure of plan.json has a fixed
// depth, so the walk is a set of plain loops, except for the bodies of
// control tasks, whose tasks are parsed like top-level tasks (recursively, at
// most kMaxControlDepth deep).
//
//===----------------------------------------------------------------------===//
#include "PlanInternal.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

namespace fs = std::filesystem;

namespace loom::rt {

const char *deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Cpu: return "cpu";
  case DeviceKind::Gpu: return "gpu";
  case DeviceKind::Npu: return "npu";
  }
  return "?";
}

const char *taskKindName(TaskKind kind) {
  switch (kind) {
  case TaskKind::Kernel: return "kernel";
  case TaskKind::Transfer: return "transfer";
  case TaskKind::If: return "if";
  case TaskKind::Loop: return "loop";
  }
  return "?";
}

std::string Plan::weightsPath() const {
  return (fs::path(dir) / weights.file).string();
}

std::optional<size_t> Plan::findDevice(std::string_view name) const {
  for (size_t i = 0; i < devices.size(); ++i)
    if (devices[i].name == name)
      return i;
  return std::nullopt;
}

std::optional<size_t> Plan::findArena(std::string_view name) const {
  for (size_t i = 0; i < arenas.size(); ++i)
    if (arenas[i].name == name)
      return i;
  return std::nullopt;
}

namespace detail {

void planFail(const std::string &file, const std::string &path,
              const std::string &message) {
  throw PlanError(file + ": " + (path.empty() ? "" : path + ": ") + message);
}

std::string elementPath(const std::string &base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

} // namespace detail

namespace {

using detail::kMaxAlignment;
using detail::kMaxPlanBytes;
using detail::kMaxQueues;
using Json = nlohmann::json;

//===----------------------------------------------------------------------===//
// Node: a JSON value with its path, for typed access with good messages
//===----------------------------------------------------------------------===//

/// The JSON type of `v` with an article, for messages.
std::string typeName(const Json &v) {
  switch (v.type()) {
  case Json::value_t::null: return "null";
  case Json::value_t::object: return "an object";
  case Json::value_t::array: return "an array";
  case Json::value_t::string: return "a string";
  case Json::value_t::boolean: return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned: return "an integer";
  case Json::value_t::number_float: return "a number";
  default: return "an unsupported value";
  }
}

class Node {
public:
  Node(const Json &value, std::string path, const std::string &file)
      : value(&value), jsonPath(std::move(path)), file(&file) {}

  const Json &json() const { return *value; }
  const std::string &path() const { return jsonPath; }
  bool isNull() const { return value->is_null(); }

  [[noreturn]] void fail(const std::string &message) const {
    detail::planFail(*file, jsonPath, message);
  }
  [[noreturn]] void wrongType(const char *expected) const {
    fail(std::string("expected ") + expected + ", got " + typeName(*value));
  }

  /// The member `key` of this object; fails when this is not an object or the
  /// key is missing.
  Node key(const char *key) const {
    if (!value->is_object())
      wrongType("an object");
    auto it = value->find(key);
    if (it == value->end())
      fail(std::string("missing key '") + key + "'");
    return child(*it, key);
  }
  /// The member `key`, or nullopt when it is absent.
  std::optional<Node> optionalKey(const char *key) const {
    if (!value->is_object())
      wrongType("an object");
    auto it = value->find(key);
    if (it == value->end())
      return std::nullopt;
    return child(*it, key);
  }
  /// This array's elements; fails when this is not an array.
  std::vector<Node> elements() const {
    if (!value->is_array())
      wrongType("an array");
    std::vector<Node> out;
    out.reserve(value->size());
    for (size_t i = 0; i < value->size(); ++i)
      out.emplace_back((*value)[i], detail::elementPath(jsonPath, i), *file);
    return out;
  }
  /// This object's members in key order; fails when this is not an object.
  std::vector<std::pair<std::string, Node>> members() const {
    if (!value->is_object())
      wrongType("an object");
    std::vector<std::pair<std::string, Node>> out;
    for (auto it = value->begin(); it != value->end(); ++it)
      out.emplace_back(it.key(), child(it.value(), it.key()));
    return out;
  }

  std::string str() const {
    if (!value->is_string())
      wrongType("a string");
    return value->get<std::string>();
  }
  bool boolean() const {
    if (!value->is_boolean())
      wrongType("a boolean");
    return value->get<bool>();
  }
  /// Any JSON number.
  double number() const {
    if (!value->is_number())
      wrongType("a number");
    return value->get<double>();
  }
  /// A JSON integer that fits int64_t.
  int64_t integer() const {
    if (!value->is_number_integer())
      wrongType("an integer");
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      fail(std::to_string(value->get<uint64_t>()) + " is out of range");
    return value->get<int64_t>();
  }
  /// A JSON integer in [0, max].
  uint64_t count(uint64_t max, const char *what = "value") const {
    int64_t v = integer();
    if (v < 0)
      fail(std::string(what) + " " + std::to_string(v) + " is negative");
    if (uint64_t(v) > max)
      fail(std::string(what) + " " + std::to_string(v) +
           " is too large (at most " + std::to_string(max) + ")");
    return uint64_t(v);
  }
  /// A floating-point attribute value: a number or "nan", "inf", "-inf".
  double floatValue() const {
    if (value->is_string()) {
      const std::string &s = value->get_ref<const std::string &>();
      if (s == "nan")
        return std::numeric_limits<double>::quiet_NaN();
      if (s == "inf")
        return std::numeric_limits<double>::infinity();
      if (s == "-inf")
        return -std::numeric_limits<double>::infinity();
      fail("expected a number, \"nan\", \"inf\" or \"-inf\", got \"" + s +
           "\"");
    }
    return number();
  }

private:
  Node child(const Json &v, const std::string &key) const {
    return Node(v, jsonPath.empty() ? key : jsonPath + "." + key, *file);
  }

  const Json *value;
  std::string jsonPath;
  const std::string *file;
};

//===----------------------------------------------------------------------===//
// Element parsers
//===----------------------------------------------------------------------===//

DType parseDTypeNode(const Node &n) {
  std::string name = n.str();
  if (auto t = parseDType(name))
    return *t;
  n.fail("unknown dtype '" + name + "'");
}

/// A shape and its byte size for `dtype`; fails on negative or huge
/// dimensions and when the byte size exceeds kMaxPlanBytes.
Shape parseShape(const Node &n, DType dtype, uint64_t &byteSize) {
  Shape shape;
  uint64_t bytes = dtypeSize(dtype);
  for (const Node &d : n.elements()) {
    uint64_t dim = d.count(kMaxPlanBytes, "dimension");
    shape.push_back(int64_t(dim));
    if (__builtin_mul_overflow(bytes, dim, &bytes) || bytes > kMaxPlanBytes)
      n.fail("tensor is too large");
  }
  byteSize = bytes;
  return shape;
}

/// A power of two in [1, kMaxAlignment].
uint64_t parseAlignment(const Node &n) {
  uint64_t a = n.count(kMaxAlignment, "alignment");
  if (a == 0 || (a & (a - 1)) != 0)
    n.fail("alignment " + std::to_string(a) + " is not a power of two");
  return a;
}

/// Checks that `n` (an `id` member) equals the element's index.
void checkId(const Node &n, size_t index) {
  int64_t id = n.integer();
  if (id < 0 || uint64_t(id) != index)
    n.fail("id " + std::to_string(id) + " must equal the position " +
           std::to_string(index));
}

/// A buffer or task id (existence is checked in validatePlan).
size_t parseRef(const Node &n, const char *what) {
  return size_t(n.count(uint64_t(std::numeric_limits<uint32_t>::max()), what));
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

Tensor parseTensorAttr(const Node &n) {
  Tensor t;
  t.dtype = parseDTypeNode(n.key("dtype"));
  uint64_t bytes = 0;
  t.shape = parseShape(n.key("shape"), t.dtype, bytes);
  Node hexNode = n.key("hex");
  std::string hex = hexNode.str();
  if (hex.size() != 2 * bytes)
    hexNode.fail("has " + std::to_string(hex.size()) +
                 " hex digits, expected " + std::to_string(2 * bytes) +
                 " for " + dtypeName(t.dtype) + " tensor of " +
                 std::to_string(bytes) + " bytes");
  t.bytes.resize(bytes);
  for (size_t i = 0; i < bytes; ++i) {
    int hi = hexDigit(hex[2 * i]), lo = hexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      hexNode.fail("invalid hex digit at position " +
                   std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    t.bytes[i] = uint8_t(hi * 16 + lo);
  }
  return t;
}

/// One attribute value: an object with exactly one key naming its kind.
AttrValue parseAttr(const Node &n) {
  auto members = n.members();
  if (members.size() != 1)
    n.fail("an attribute value must have exactly one key (int, float, string, "
           "ints, floats, strings, dtype or tensor), got " +
           std::to_string(members.size()));
  const std::string &kind = members[0].first;
  const Node &v = members[0].second;
  if (kind == "int")
    return v.integer();
  if (kind == "float")
    return v.floatValue();
  if (kind == "string")
    return v.str();
  if (kind == "dtype")
    return parseDTypeNode(v);
  if (kind == "tensor")
    return parseTensorAttr(v);
  if (kind == "ints") {
    std::vector<int64_t> out;
    for (const Node &e : v.elements())
      out.push_back(e.integer());
    return out;
  }
  if (kind == "floats") {
    std::vector<double> out;
    for (const Node &e : v.elements())
      out.push_back(e.floatValue());
    return out;
  }
  if (kind == "strings") {
    std::vector<std::string> out;
    for (const Node &e : v.elements())
      out.push_back(e.str());
    return out;
  }
  v.fail("unknown attribute kind '" + kind + "'");
}

/// `inputs`/`outputs` of a task: buffer ids or null.
std::vector<std::optional<size_t>> parseOperands(const Node &n) {
  std::vector<std::optional<size_t>> out;
  for (const Node &e : n.elements())
    out.push_back(e.isNull() ? std::nullopt
                             : std::optional<size_t>(parseRef(e, "buffer id")));
  return out;
}

PlanDevice parseDevice(const Node &n) {
  PlanDevice d;
  d.name = n.key("name").str();
  Node kind = n.key("kind");
  std::string k = kind.str();
  if (k == "cpu")
    d.kind = DeviceKind::Cpu;
  else if (k == "gpu")
    d.kind = DeviceKind::Gpu;
  else if (k == "npu")
    d.kind = DeviceKind::Npu;
  else
    kind.fail("unknown device kind '" + k + "' (expected cpu, gpu or npu)");
  Node queues = n.key("queues");
  d.queues = size_t(queues.count(kMaxQueues, "queue count"));
  if (d.queues == 0)
    queues.fail("a device needs at least one queue");
  d.arena = n.key("arena").str();
  return d;
}

PlanArena parseArena(const Node &n) {
  PlanArena a;
  a.name = n.key("name").str();
  a.device = n.key("device").str();
  a.peakBytes = n.key("peak_bytes").count(kMaxPlanBytes, "size");
  a.alignment = parseAlignment(n.key("alignment"));
  return a;
}

PlanBuffer parseBuffer(const Node &n, size_t index) {
  PlanBuffer b;
  checkId(n.key("id"), index);
  b.name = n.key("name").str();
  b.arena = n.key("arena").str();
  b.offset = n.key("offset").count(kMaxPlanBytes, "offset");
  Node size = n.key("size_bytes");
  b.sizeBytes = size.count(kMaxPlanBytes, "size");
  b.dtype = parseDTypeNode(n.key("dtype"));
  uint64_t bytes = 0;
  b.shape = parseShape(n.key("shape"), b.dtype, bytes);
  if (b.sizeBytes != bytes)
    size.fail(std::to_string(b.sizeBytes) + " does not match " +
              std::to_string(numElements(b.shape)) + " elements x " +
              std::to_string(dtypeSize(b.dtype)) +
              " bytes = " + std::to_string(bytes));
  if (auto view = n.optionalKey("view_of")) {
    b.viewOf = parseRef(*view, "buffer id");
    if (*b.viewOf >= index)
      view->fail("buffer " + std::to_string(*b.viewOf) +
                 " is not an earlier buffer (a view names the buffer it is "
                 "part of, listed before it)");
  }
  return b;
}

PlanValue parseValue(const Node &n, bool isInput) {
  PlanValue v;
  v.name = n.key("name").str();
  v.buffer = parseRef(n.key("buffer"), "buffer id");
  v.dtype = parseDTypeNode(n.key("dtype"));
  uint64_t bytes = 0;
  v.shape = parseShape(n.key("shape"), v.dtype, bytes);
  if (auto folded = n.optionalKey("folded")) {
    v.folded = folded->boolean();
    if (v.folded && !isInput)
      folded->fail("only inputs can be folded");
  }
  return v;
}

/// How deeply control tasks may nest (bodies within bodies).
constexpr size_t kMaxControlDepth = 64;

PlanTask parseTask(const Node &n, size_t index, size_t depth);

/// `bodies[i]` of a control task at nesting depth `depth`.
PlanBody parseBody(const Node &n, size_t depth) {
  PlanBody b;
  b.name = n.key("name").str();
  for (const Node &e : n.key("params").elements())
    b.params.push_back(parseRef(e, "buffer id"));
  for (const Node &e : n.key("results").elements())
    b.results.push_back(parseRef(e, "buffer id"));
  std::vector<Node> tasks = n.key("tasks").elements();
  for (size_t i = 0; i < tasks.size(); ++i)
    b.tasks.push_back(parseTask(tasks[i], i, depth + 1));
  return b;
}

/// A task; `depth` is the number of control tasks it lies inside.
PlanTask parseTask(const Node &n, size_t index, size_t depth) {
  PlanTask t;
  checkId(n.key("id"), index);
  t.name = n.key("name").str();
  Node kind = n.key("kind");
  std::string k = kind.str();
  if (k == "kernel")
    t.kind = TaskKind::Kernel;
  else if (k == "transfer")
    t.kind = TaskKind::Transfer;
  else if (k == "if")
    t.kind = TaskKind::If;
  else if (k == "loop")
    t.kind = TaskKind::Loop;
  else
    kind.fail("unknown task kind '" + k +
              "' (expected kernel, transfer, if or loop)");
  t.device = n.key("device").str();
  t.queue = size_t(n.key("queue").count(kMaxQueues, "queue"));
  t.kernel = n.key("kernel").str();
  for (const auto &[name, value] : n.key("attrs").members())
    t.attrs.set(name, parseAttr(value));
  t.inputs = parseOperands(n.key("inputs"));
  t.outputs = parseOperands(n.key("outputs"));
  for (const Node &d : n.key("deps").elements())
    t.deps.push_back(parseRef(d, "task id"));
  t.startUs = n.key("start_us").number();
  t.endUs = n.key("end_us").number();
  for (const Node &op : n.key("ops").elements())
    t.ops.push_back(op.str());
  for (const auto &[device, cost] : n.key("cost_us").members())
    t.costUs.emplace_back(device, cost.isNull()
                                      ? std::nullopt
                                      : std::optional<double>(cost.number()));
  if (auto precision = n.optionalKey("precision")) {
    DType d = parseDTypeNode(*precision);
    if (t.kind != TaskKind::Kernel)
      precision->fail(std::string("only kernel tasks have a precision, this "
                                  "is a ") +
                      k + " task");
    if (d != DType::BF16 && d != DType::F16)
      precision->fail(std::string("'") + dtypeName(d) +
                      "' is no reduced float precision (bf16 or f16)");
    t.precision = d;
  }
  if (!isControlTask(t.kind)) {
    if (auto bodies = n.optionalKey("bodies"))
      bodies->fail(std::string("a ") + k +
                   " task has no bodies (only if and loop tasks do)");
    return t;
  }
  Node bodies = n.key("bodies");
  std::vector<Node> list = bodies.elements();
  const size_t want = t.kind == TaskKind::If ? 2 : 1;
  if (list.size() != want)
    bodies.fail(t.kind == TaskKind::If
                    ? "an if task has 2 bodies (then, else), got " +
                          std::to_string(list.size())
                    : "a loop task has 1 body, got " +
                          std::to_string(list.size()));
  if (depth >= kMaxControlDepth)
    bodies.fail("control tasks are nested more than " +
                std::to_string(kMaxControlDepth) + " deep");
  for (const Node &b : list)
    t.bodies.push_back(parseBody(b, depth));
  return t;
}

PlanEvent parseEvent(const Node &n, size_t index) {
  PlanEvent e;
  checkId(n.key("id"), index);
  e.task = parseRef(n.key("task"), "task id");
  for (const Node &w : n.key("waiters").elements())
    e.waiters.push_back(parseRef(w, "task id"));
  return e;
}

/// Converts the parsed document; every structural error names its path.
Plan convert(const Node &root) {
  Plan p;
  if (!root.json().is_object())
    root.wrongType("an object at the top level");
  Node format = root.key("format");
  if (format.str() != "loom-plan")
    format.fail("expected \"loom-plan\", got \"" + format.str() + "\"");
  Node version = root.key("version");
  p.version = version.integer();
  if (p.version != kPlanVersion)
    version.fail("unsupported plan version " + std::to_string(p.version) +
                 " (this runtime reads version " +
                 std::to_string(kPlanVersion) + ")");
  p.producer = root.key("producer").str();
  Node model = root.key("model");
  p.model.source = model.key("source").str();
  p.model.graph = model.key("graph").str();
  p.model.opset = model.key("opset").integer();
  p.target = root.key("target").str();

  Node weights = root.key("weights");
  Node file = weights.key("file");
  p.weights.file = file.str();
  // A file of the plan's folder, or `../NAME`: the weights a generation
  // program's plans share (docs/generation.md). Nothing further out.
  fs::path wp(p.weights.file);
  bool up = wp.begin() != wp.end() && *wp.begin() == "..";
  fs::path inner = up ? wp.lexically_relative("..") : wp;
  if (p.weights.file.empty() || wp.is_absolute() || inner.empty() ||
      (up && std::distance(inner.begin(), inner.end()) != 1) ||
      std::any_of(inner.begin(), inner.end(), [](const fs::path &c) {
        return c == ".." || c == "." || c.empty();
      }))
    file.fail("'" + p.weights.file +
              "' is not a file name relative to the plan's folder (or "
              "'../NAME', a generation program's shared weights)");
  p.weights.sizeBytes = weights.key("size_bytes").count(kMaxPlanBytes, "size");
  p.weights.alignment = parseAlignment(weights.key("alignment"));

  for (const Node &n : root.key("devices").elements())
    p.devices.push_back(parseDevice(n));
  for (const Node &n : root.key("arenas").elements())
    p.arenas.push_back(parseArena(n));
  std::vector<Node> buffers = root.key("buffers").elements();
  for (size_t i = 0; i < buffers.size(); ++i)
    p.buffers.push_back(parseBuffer(buffers[i], i));
  for (const Node &n : root.key("inputs").elements())
    p.inputs.push_back(parseValue(n, /*isInput=*/true));
  for (const Node &n : root.key("outputs").elements())
    p.outputs.push_back(parseValue(n, /*isInput=*/false));
  if (auto state = root.optionalKey("state"))
    for (const Node &n : state->elements())
      p.states.push_back(
          PlanState{n.key("name").str(), parseRef(n.key("buffer"), "buffer id")});
  std::vector<Node> tasks = root.key("tasks").elements();
  for (size_t i = 0; i < tasks.size(); ++i)
    p.tasks.push_back(parseTask(tasks[i], i, /*depth=*/0));
  std::vector<Node> events = root.key("events").elements();
  for (size_t i = 0; i < events.size(); ++i)
    p.events.push_back(parseEvent(events[i], i));
  p.makespanUs = root.key("makespan_us").number();
  return p;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

Plan parsePlan(std::string_view jsonText, const std::string &file) {
  Json doc;
  try {
    doc = Json::parse(jsonText.begin(), jsonText.end());
  } catch (const Json::exception &e) {
    detail::planFail(file, "", std::string("invalid JSON: ") + e.what());
  }
  Plan plan;
  try {
    plan = convert(Node(doc, "", file));
  } catch (const Json::exception &e) {
    // Not expected (every access is type-checked first), but never crash.
    detail::planFail(file, "", std::string("malformed plan: ") + e.what());
  }
  plan.planPath = file;
  detail::validatePlan(plan);
  return plan;
}

Plan loadPlan(const std::string &dir) {
  const std::string planPath = (fs::path(dir) / "plan.json").string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw PlanError(dir + ": not a plan folder (no such directory)");
  if (!fs::is_regular_file(planPath, ec))
    throw PlanError(planPath + ": no such file");
  std::ifstream in(planPath, std::ios::binary);
  if (!in)
    throw PlanError(planPath + ": cannot open: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad())
    throw PlanError(planPath + ": cannot read: " + std::strerror(errno));

  Plan plan = parsePlan(text, planPath);
  plan.dir = dir;

  // The weights file must exist and have exactly the declared size.
  const std::string weightsPath = plan.weightsPath();
  if (!fs::is_regular_file(weightsPath, ec))
    detail::planFail(planPath, "weights.file",
                     "weights file " + weightsPath + " does not exist");
  uint64_t actual = fs::file_size(weightsPath, ec);
  if (ec)
    detail::planFail(planPath, "weights.file",
                     "cannot read " + weightsPath + ": " + ec.message());
  if (actual != plan.weights.sizeBytes)
    detail::planFail(planPath, "weights.size_bytes",
                     std::to_string(plan.weights.sizeBytes) + ", but " +
                         weightsPath + " has " + std::to_string(actual) +
                         " bytes");
  return plan;
}

} // namespace loom::rt
