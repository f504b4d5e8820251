//===- PlanTestUtil.h - Hand-written plans for the runtime tests -*- C++
//-*-===//
//
// Builds small plan.json documents (as nlohmann::ordered_json, so that a test
// can corrupt any key) and writes plan folders into temporary directories.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_UNITTESTS_RUNTIME_PLANTESTUTIL_H
#define LOOM_UNITTESTS_RUNTIME_PLANTESTUTIL_H

#include "loom/Runtime/Kernel.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace loom::rt::test {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// A fresh directory under the system temp directory, removed on destruction.
class TempDir {
public:
  TempDir() {
    std::string templ =
        (fs::temp_directory_path() / "loom-plan-XXXXXX").string();
    if (!::mkdtemp(templ.data()))
      throw std::runtime_error("mkdtemp failed");
    dir = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const fs::path &path() const { return dir; }
  /// A subdirectory (created).
  fs::path sub(const std::string &name) const {
    fs::create_directories(dir / name);
    return dir / name;
  }

private:
  fs::path dir;
};

inline void writeFile(const fs::path &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
}

/// Writes DIR/plan.json and DIR/weights.bin (creating DIR).
inline void writePlanDir(const fs::path &dir, const Json &plan,
                         const std::string &weights) {
  fs::create_directories(dir);
  writeFile(dir / "plan.json", plan.dump(2) + "\n");
  writeFile(dir / "weights.bin", weights);
}

/// Little-endian bytes of `values` (the host is little-endian).
template <typename T> std::string rawBytes(const std::vector<T> &values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty())
    std::memcpy(out.data(), values.data(), out.size());
  return out;
}

/// Places `bytes` at `offset` of `weights` (zero-padding as needed).
inline void placeWeights(std::string &weights, size_t offset,
                         const std::string &bytes) {
  if (weights.size() < offset + bytes.size())
    weights.resize(offset + bytes.size(), '\0');
  weights.replace(offset, bytes.size(), bytes);
}

inline Tensor makeTensor(DType dtype, Shape shape, const std::string &bytes) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.assign(bytes.begin(), bytes.end());
  return t;
}

inline Tensor f32Tensor(Shape shape, const std::vector<float> &values) {
  return makeTensor(DType::F32, std::move(shape), rawBytes(values));
}

inline std::vector<float> floatsOf(const Tensor &t) {
  std::vector<float> out(t.bytes.size() / sizeof(float));
  if (!out.empty())
    std::memcpy(out.data(), t.bytes.data(), out.size() * sizeof(float));
  return out;
}

//===----------------------------------------------------------------------===//
// Plan elements
//===----------------------------------------------------------------------===//

inline Json bufferJson(int id, const std::string &name,
                       const std::string &arena, uint64_t offset,
                       const std::string &dtype,
                       const std::vector<int64_t> &shape) {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= uint64_t(d);
  return Json{{"id", id},
              {"name", name},
              {"arena", arena},
              {"offset", offset},
              {"size_bytes", n * dtypeSize(*parseDType(dtype))},
              {"dtype", dtype},
              {"shape", shape}};
}

inline Json valueJson(const std::string &name, int buffer,
                      const std::string &dtype,
                      const std::vector<int64_t> &shape) {
  return Json{
      {"name", name}, {"buffer", buffer}, {"dtype", dtype}, {"shape", shape}};
}

/// A task; `inputs`/`outputs` may contain nullptr for absent operands.
inline Json taskJson(int id, const std::string &name, const std::string &kind,
                     const std::string &device, int queue,
                     const std::string &kernel, Json inputs, Json outputs,
                     Json deps, Json attrs = Json::object()) {
  return Json{{"id", id},
              {"name", name},
              {"kind", kind},
              {"device", device},
              {"queue", queue},
              {"kernel", kernel},
              {"attrs", std::move(attrs)},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)},
              {"deps", std::move(deps)},
              // Sequential predicted times: task i runs in [i, i + 1].
              {"start_us", double(id)},
              {"end_us", double(id) + 1.0},
              {"ops", Json::array({name})},
              {"cost_us", Json{{device, 1.0}}}};
}

/// The top level with empty element lists.
inline Json planSkeleton(uint64_t weightsSize) {
  return Json{
      {"format", "loom-plan"},
      {"version", 1},
      {"producer", "hand-written test"},
      {"model", Json{{"source", "test.onnx"}, {"graph", "g"}, {"opset", 17}}},
      {"target", "host"},
      {"weights", Json{{"file", "weights.bin"},
                       {"size_bytes", weightsSize},
                       {"alignment", 64}}},
      {"devices", Json::array()},
      {"arenas", Json::array()},
      {"buffers", Json::array()},
      {"inputs", Json::array()},
      {"outputs", Json::array()},
      {"tasks", Json::array()},
      {"events", Json::array()},
      {"makespan_us", 3.0}};
}

inline void addDevice(Json &plan, const std::string &name,
                      const std::string &kind, int queues, uint64_t peakBytes) {
  plan["devices"].push_back(Json{
      {"name", name}, {"kind", kind}, {"queues", queues}, {"arena", name}});
  plan["arenas"].push_back(Json{{"name", name},
                                {"device", name},
                                {"peak_bytes", peakBytes},
                                {"alignment", 64}});
}

/// A plan folder's contents.
struct PlanFiles {
  Json plan;
  std::string weights;
};

/// Plan (a): y = relu(x · W + b) with x: f32[2,3] (input), W: f32[3,4] and
/// b: f32[4] (weights); three tasks on one CPU queue.
/// Buffers: 0 x, 1 W, 2 b, 3 x·W, 4 x·W+b, 5 y.
inline PlanFiles mlpPlan(const std::vector<float> &w,
                         const std::vector<float> &b) {
  PlanFiles f;
  placeWeights(f.weights, 0, rawBytes(w));
  placeWeights(f.weights, 64, rawBytes(b));
  f.plan = planSkeleton(f.weights.size());
  addDevice(f.plan, "cpu", "cpu", 1, 224);
  Json &bufs = f.plan["buffers"];
  bufs.push_back(bufferJson(0, "x", "cpu", 0, "f32", {2, 3}));
  bufs.push_back(bufferJson(1, "W", "weights", 0, "f32", {3, 4}));
  bufs.push_back(bufferJson(2, "b", "weights", 64, "f32", {4}));
  bufs.push_back(bufferJson(3, "mm", "cpu", 64, "f32", {2, 4}));
  bufs.push_back(bufferJson(4, "sum", "cpu", 128, "f32", {2, 4}));
  bufs.push_back(bufferJson(5, "y", "cpu", 192, "f32", {2, 4}));
  f.plan["inputs"].push_back(valueJson("x", 0, "f32", {2, 3}));
  f.plan["outputs"].push_back(valueJson("y", 5, "f32", {2, 4}));
  Json &tasks = f.plan["tasks"];
  tasks.push_back(taskJson(0, "matmul0", "kernel", "cpu", 0, "matmul",
                           Json::array({0, 1}), Json::array({3}),
                           Json::array()));
  tasks.push_back(taskJson(1, "add0", "kernel", "cpu", 0, "add",
                           Json::array({3, 2}), Json::array({4}),
                           Json::array({0})));
  tasks.push_back(taskJson(2, "relu0", "kernel", "cpu", 0, "relu",
                           Json::array({4}), Json::array({5}),
                           Json::array({1})));
  return f;
}

/// The weights and expected results of mlpPlan, computed independently.
struct MlpData {
  std::vector<float> w = {0.5f,  -1.0f, 2.0f,  0.0f, //
                          1.5f,  0.25f, -0.5f, 1.0f, //
                          -2.0f, 0.75f, 1.0f,  -1.0f};
  std::vector<float> b = {0.1f, -0.2f, 0.3f, -4.0f};

  /// relu(x · W + b) for x: [2,3].
  std::vector<float> expected(const std::vector<float> &x) const {
    std::vector<float> y(8);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j) {
        double s = b[j];
        for (int k = 0; k < 3; ++k)
          s += double(x[i * 3 + k]) * double(w[k * 4 + j]);
        y[i * 4 + j] = s > 0 ? float(s) : 0.0f;
      }
    return y;
  }
};

/// y = x + z where x: f32[2] = {1, 2} was folded into the weights.
inline PlanFiles foldedPlan() {
  PlanFiles f;
  placeWeights(f.weights, 0, rawBytes(std::vector<float>{1, 2}));
  f.plan = planSkeleton(f.weights.size());
  addDevice(f.plan, "cpu", "cpu", 1, 128);
  f.plan["buffers"] = Json::array({bufferJson(0, "x", "weights", 0, "f32", {2}),
                                   bufferJson(1, "z", "cpu", 0, "f32", {2}),
                                   bufferJson(2, "y", "cpu", 64, "f32", {2})});
  Json x = valueJson("x", 0, "f32", {2});
  x["folded"] = true;
  f.plan["inputs"] = Json::array({x, valueJson("z", 1, "f32", {2})});
  f.plan["outputs"] = Json::array({valueJson("y", 2, "f32", {2})});
  f.plan["tasks"].push_back(taskJson(0, "add", "kernel", "cpu", 0, "add",
                                     Json::array({0, 1}), Json::array({2}),
                                     Json::array()));
  return f;
}

//===----------------------------------------------------------------------===//
// Control tasks (if, loop)
//===----------------------------------------------------------------------===//

inline Json bodyJson(const std::string &name, Json params, Json results,
                     Json tasks) {
  return Json{{"name", name},
              {"params", std::move(params)},
              {"results", std::move(results)},
              {"tasks", std::move(tasks)}};
}

/// y = c ? relu(x) : neg(x) as one `if` task, x: f32[4], c: bool[]; with
/// `passThrough`, the else branch has no tasks and returns x itself.
/// Buffers: 0 c, 1 x, 2 y, 3 relu(x) (then), 4 neg(x) (else).
inline PlanFiles ifPlan(bool passThrough = false) {
  PlanFiles f;
  f.plan = planSkeleton(0);
  addDevice(f.plan, "cpu", "cpu", 1, 320);
  Json &b = f.plan["buffers"];
  b.push_back(bufferJson(0, "c", "cpu", 0, "bool", {}));
  b.push_back(bufferJson(1, "x", "cpu", 64, "f32", {4}));
  b.push_back(bufferJson(2, "y", "cpu", 128, "f32", {4}));
  b.push_back(bufferJson(3, "then_y", "cpu", 192, "f32", {4}));
  b.push_back(bufferJson(4, "else_y", "cpu", 256, "f32", {4}));
  f.plan["inputs"] = Json::array(
      {valueJson("c", 0, "bool", {}), valueJson("x", 1, "f32", {4})});
  f.plan["outputs"].push_back(valueJson("y", 2, "f32", {4}));
  Json task = taskJson(0, "If_0", "if", "cpu", 0, "if", Json::array({0, 1}),
                       Json::array({2}), Json::array());
  Json thenTasks = Json::array({taskJson(0, "relu", "kernel", "cpu", 0, "relu",
                                         Json::array({1}), Json::array({3}),
                                         Json::array())});
  Json elseTasks = Json::array({taskJson(0, "neg", "kernel", "cpu", 0, "neg",
                                         Json::array({1}), Json::array({4}),
                                         Json::array())});
  task["bodies"] = Json::array(
      {bodyJson("then_branch", Json::array(), Json::array({3}), thenTasks),
       passThrough
           ? bodyJson("else_branch", Json::array(), Json::array({1}),
                      Json::array())
           : bodyJson("else_branch", Json::array(), Json::array({4}),
                      elseTasks)});
  f.plan["tasks"].push_back(task);
  f.plan["makespan_us"] = 1.0;
  return f;
}

/// y = x * 2^k over x: f32[2] as one `loop` task with one carried value:
/// the body computes r = c * two and cond_out = iter < limit, so the loop
/// stops after min(M, limit + 1) iterations; with `withM` false, M is null.
/// Buffers: 0 M (i64[] input), 1 x, 2 y, 3 iter, 4 cond_in, 5 c,
/// 6 cond_out, 7 r, 8 two (weights {2, 2}), 9 limit (weights).
inline PlanFiles loopPlan(int64_t limit, int64_t maxTripCount, bool withM) {
  PlanFiles f;
  placeWeights(f.weights, 0, rawBytes(std::vector<float>{2, 2}));
  placeWeights(f.weights, 64, rawBytes(std::vector<int64_t>{limit}));
  f.plan = planSkeleton(f.weights.size());
  addDevice(f.plan, "cpu", "cpu", 1, 512);
  Json &b = f.plan["buffers"];
  b.push_back(bufferJson(0, "M", "cpu", 0, "i64", {}));
  b.push_back(bufferJson(1, "x", "cpu", 64, "f32", {2}));
  b.push_back(bufferJson(2, "y", "cpu", 128, "f32", {2}));
  b.push_back(bufferJson(3, "iter", "cpu", 192, "i64", {}));
  b.push_back(bufferJson(4, "cond_in", "cpu", 256, "bool", {}));
  b.push_back(bufferJson(5, "c", "cpu", 320, "f32", {2}));
  b.push_back(bufferJson(6, "cond_out", "cpu", 384, "bool", {}));
  b.push_back(bufferJson(7, "r", "cpu", 448, "f32", {2}));
  b.push_back(bufferJson(8, "two", "weights", 0, "f32", {2}));
  b.push_back(bufferJson(9, "limit", "weights", 64, "i64", {}));
  f.plan["inputs"] = Json::array(
      {valueJson("M", 0, "i64", {}), valueJson("x", 1, "f32", {2})});
  f.plan["outputs"].push_back(valueJson("y", 2, "f32", {2}));
  Json task = taskJson(0, "Loop_0", "loop", "cpu", 0, "loop",
                       Json::array({withM ? Json(0) : Json(nullptr), nullptr,
                                    1, 8, 9}),
                       Json::array({2}), Json::array(),
                       Json{{"max_trip_count", {{"int", maxTripCount}}},
                            {"num_carried", {{"int", 1}}}});
  Json tasks = Json::array(
      {taskJson(0, "double", "kernel", "cpu", 0, "mul", Json::array({5, 8}),
                Json::array({7}), Json::array()),
       taskJson(1, "more", "kernel", "cpu", 0, "less", Json::array({3, 9}),
                Json::array({6}), Json::array())});
  task["bodies"] = Json::array({bodyJson("body", Json::array({3, 4, 5}),
                                         Json::array({6, 7}), tasks)});
  f.plan["tasks"].push_back(task);
  f.plan["makespan_us"] = 1.0;
  return f;
}

/// loopPlan(limit, maxTripCount, true) whose body doubles c inside a nested
/// `if` on cond_in (always true in the body): then computes c * two into
/// buffer 10, else returns c unchanged.
inline PlanFiles nestedPlan(int64_t limit, int64_t maxTripCount) {
  PlanFiles f = loopPlan(limit, maxTripCount, /*withM=*/true);
  f.plan["arenas"][0]["peak_bytes"] = 576;
  f.plan["buffers"].push_back(bufferJson(10, "then_r", "cpu", 512, "f32", {2}));
  Json &body = f.plan["tasks"][0]["bodies"][0];
  Json inner = taskJson(0, "If_1", "if", "cpu", 0, "if",
                        Json::array({4, 5, 8}), Json::array({7}),
                        Json::array());
  Json thenTasks = body["tasks"][0];
  thenTasks["outputs"] = Json::array({10});
  inner["bodies"] = Json::array(
      {bodyJson("then_branch", Json::array(), Json::array({10}),
                Json::array({thenTasks})),
       bodyJson("else_branch", Json::array(), Json::array({5}),
                Json::array())});
  body["tasks"][0] = inner;
  return f;
}

} // namespace loom::rt::test

#endif // LOOM_UNITTESTS_RUNTIME_PLANTESTUTIL_H
