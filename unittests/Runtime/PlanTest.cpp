//===- PlanTest.cpp - Plan loading, validation and execution --------------===//
//
// Hand-written plans (JSON text + weights bytes in a temporary directory):
// a three-task MatMul/Add/Relu plan checked against values computed here; a
// two-device, three-queue plan with events, transfers and buffer reuse run
// many times; folded inputs; input/output API errors; a kernel error at run
// time; control tasks (if, loop) run with their bodies; and one corrupt
// variant per validation rule, each of which must fail at load with a message
// naming plan.json and the JSON path.
//
//===----------------------------------------------------------------------===//
#include "PlanTestUtil.h"

#include "loom/Runtime/Compare.h"
#include "loom/Runtime/Plan.h"
#include "loom/Runtime/Session.h"

#include <gtest/gtest.h>

#include <functional>

using namespace loom::rt;
using namespace loom::rt::test;

namespace {

/// Runs `fn` and returns the message of the exception of type E it throws
/// ("" when it throws nothing).
template <typename E, typename Fn> std::string errorOf(Fn fn) {
  try {
    fn();
  } catch (const E &e) {
    return e.what();
  }
  return "";
}

std::unique_ptr<Session> loadFiles(const TempDir &tmp, const PlanFiles &f,
                                   SessionOptions options = {}) {
  fs::path dir = tmp.sub("plan");
  writePlanDir(dir, f.plan, f.weights);
  return Session::load(dir.string(), options);
}

void expectFloats(const Tensor &got, const std::vector<float> &want) {
  Tensor w = f32Tensor({int64_t(want.size())}, want);
  w.shape = got.shape;
  CompareResult r = compareTensors(got, w);
  EXPECT_TRUE(r.match) << r.describe();
}

//===----------------------------------------------------------------------===//
// (a) MatMul -> Add -> Relu
//===----------------------------------------------------------------------===//

TEST(PlanSession, MatMulAddReluMatchesIndependentResult) {
  TempDir tmp;
  MlpData data;
  auto session = loadFiles(tmp, mlpPlan(data.w, data.b));
  ASSERT_EQ(session->inputs().size(), 1u);
  EXPECT_EQ(session->inputs()[0].name, "x");
  EXPECT_EQ(session->inputs()[0].shape, (Shape{2, 3}));
  ASSERT_EQ(session->outputs().size(), 1u);
  EXPECT_EQ(session->outputs()[0].name, "y");
  EXPECT_EQ(session->outputs()[0].dtype, DType::F32);

  const std::vector<std::vector<float>> xs = {
      {1, 2, 3, -1, 0.5f, 4}, {0, 0, 0, 0, 0, 0}, {-3, 1, 0.25f, 2, -2, 1}};
  for (const auto &x : xs) {
    session->setInput("x", f32Tensor({2, 3}, x));
    session->run();
    Tensor y = session->getOutput("y");
    EXPECT_EQ(y.shape, (Shape{2, 4}));
    expectFloats(y, data.expected(x));
    expectFloats(session->getOutput(0), data.expected(x));
  }
  std::vector<TaskTiming> timings = session->lastTimings();
  ASSERT_EQ(timings.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(timings[i].task, i);
    EXPECT_LE(timings[i].startUs, timings[i].endUs);
    if (i)
      EXPECT_LE(timings[i - 1].endUs, timings[i].startUs);
  }
}

/// Two plans of one program naming the same weights file one folder up
/// (a generation program's layout): the second reads it through the first's
/// mapping, which outlives the first session; a plan with its own weights
/// file maps that one.
TEST(PlanSession, SessionsShareOneWeightsFile) {
  TempDir tmp;
  MlpData data;
  PlanFiles f = mlpPlan(data.w, data.b);
  f.plan["weights"]["file"] = "../weights.bin";
  for (const char *sub : {"a", "b"})
    writeFile(tmp.sub(sub) / "plan.json", f.plan.dump(2) + "\n");
  writeFile(tmp.path() / "weights.bin", f.weights);
  auto a = Session::load(tmp.sub("a").string());
  auto b = Session::loadSharing(tmp.sub("b").string(), *a);
  a.reset();
  const std::vector<float> x = {1, 2, 3, -1, 0.5f, 4};
  b->setInput("x", f32Tensor({2, 3}, x));
  b->run();
  expectFloats(b->getOutput("y"), data.expected(x));
  // A plan with its own weights.bin next to it: mapped on its own.
  PlanFiles g = mlpPlan(data.w, data.b);
  writePlanDir(tmp.sub("own"), g.plan, g.weights);
  auto c = Session::loadSharing(tmp.sub("own").string(), *b);
  c->setInput("x", f32Tensor({2, 3}, x));
  c->run();
  expectFloats(c->getOutput("y"), data.expected(x));
}

/// x rounded to bf16, to nearest even (from the format's definition: the
/// upper 16 bits of the f32, rounded on the lower 16).
float bf16Round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

/// A task with `"precision": "bf16"` (a device computing f32 work in its
/// bf16) runs on the host as that device would: its f32 inputs and its
/// output rounded to bf16; the tasks after it in f32. Without emulation,
/// the f32 result.
TEST(PlanSession, ReducedPrecisionIsEmulated) {
  TempDir tmp;
  MlpData data;
  PlanFiles f = mlpPlan(data.w, data.b);
  f.plan["tasks"][0]["precision"] = "bf16"; // the matmul
  fs::path dir = tmp.sub("plan");
  writePlanDir(dir, f.plan, f.weights);
  // 1 + 2^-8 and 1 + 3 * 2^-8 lie halfway between bf16 neighbours (ties to
  // even: 1 and 1 + 2^-6); the others are not bf16 numbers either.
  const std::vector<float> x = {1.00390625f, 1.01171875f, -0.3f,
                                2.7f,        0.1f,        -1.9f};
  std::vector<float> want(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k)
        s += double(bf16Round(x[i * 3 + k])) * double(bf16Round(data.w[k * 4 + j]));
      float y = bf16Round(float(s)) + data.b[j];
      want[i * 4 + j] = y > 0 ? y : 0.0f;
    }
  auto emulated = Session::load(dir.string());
  emulated->setInput("x", f32Tensor({2, 3}, x));
  emulated->run();
  std::vector<float> got = floatsOf(emulated->getOutput("y"));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6) << "element " << i;
  // f32: the exact plan's result, which differs from the bf16 one.
  SessionOptions exact;
  exact.emulatePrecision = false;
  auto f32 = Session::load(dir.string(), exact);
  f32->setInput("x", f32Tensor({2, 3}, x));
  f32->run();
  expectFloats(f32->getOutput("y"), data.expected(x));
  EXPECT_NE(floatsOf(f32->getOutput("y")), got);
}

TEST(PlanSession, ReferenceKernelsOnlyWhenFastPathsAreOff) {
  TempDir tmp;
  MlpData data;
  SessionOptions options;
  options.allowFastPaths = false;
  auto session = loadFiles(tmp, mlpPlan(data.w, data.b), options);
  for (size_t t = 0; t < 3; ++t) {
    ASSERT_NE(session->taskKernel(t), nullptr);
    EXPECT_EQ(session->taskKernel(t)->impl, KernelImpl::Reference);
  }
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  session->setInput(0, f32Tensor({2, 3}, x));
  session->run();
  expectFloats(session->getOutput(0), data.expected(x));
}

TEST(PlanSession, ParsesEveryAttributeKind) {
  MlpData data;
  PlanFiles f = mlpPlan(data.w, data.b);
  f.plan["tasks"][2]["attrs"] =
      Json{{"i", {{"int", -3}}},
           {"f", {{"float", 0.5}}},
           {"inf", {{"float", "-inf"}}},
           {"s", {{"string", "NOTSET"}}},
           {"is", {{"ints", Json::array({1, 2})}}},
           {"fs", {{"floats", Json::array({0.5, 1})}}},
           {"ss", {{"strings", Json::array({"a", "b"})}}},
           {"d", {{"dtype", "f16"}}},
           {"t",
            {{"tensor",
              {{"dtype", "f32"},
               {"shape", Json::array({1})},
               {"hex", "0000803f"}}}}}};
  Plan plan = parsePlan(f.plan.dump(), "test/plan.json");
  const Attrs &a = plan.tasks[2].attrs;
  EXPECT_EQ(a.getInt("i", 0), -3);
  EXPECT_EQ(a.getFloat("f", 0), 0.5);
  EXPECT_EQ(a.getFloat("inf", 0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(a.getString("s", ""), "NOTSET");
  EXPECT_EQ(a.getInts("is"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.getFloats("fs"), (std::vector<double>{0.5, 1}));
  EXPECT_EQ(a.getStrings("ss"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(a.getDType("d"), DType::F16);
  const Tensor *t = a.getTensor("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(floatsOf(*t), std::vector<float>{1.0f});
  // Resolved indices.
  EXPECT_TRUE(plan.buffers[1].isWeights());
  EXPECT_EQ(plan.buffers[3].arenaIndex, std::optional<size_t>(0));
  EXPECT_EQ(plan.tasks[1].inputs[1], std::optional<size_t>(2));
  EXPECT_EQ(plan.devices[0].arenaIndex, 0u);
}

//===----------------------------------------------------------------------===//
// (b) Two devices, three queues, events, transfers, buffer reuse
//===----------------------------------------------------------------------===//

/// y = relu(x)^2 - x over f32[4]:
///   t0 cpu/0  a  = relu(x)
///   t1 cpu/1  b  = neg(x)
///   t2 npu/0  a2 = copy(a)            (event from t0)
///   t3 npu/0  c  = a2 * a2
///   t4 cpu/0  c2 = copy(c)            (events from t2, t3; c2 reuses a's
///   bytes) t5 cpu/1  y  = c2 + b             (event from t4)
PlanFiles multiQueuePlan() {
  PlanFiles f;
  f.plan = planSkeleton(0);
  addDevice(f.plan, "cpu", "cpu", 2, 256);
  addDevice(f.plan, "npu", "npu", 1, 128);
  Json &bufs = f.plan["buffers"];
  bufs.push_back(bufferJson(0, "x", "cpu", 0, "f32", {4}));
  bufs.push_back(bufferJson(1, "a", "cpu", 64, "f32", {4}));
  bufs.push_back(bufferJson(2, "b", "cpu", 128, "f32", {4}));
  bufs.push_back(bufferJson(3, "a2", "npu", 0, "f32", {4}));
  bufs.push_back(bufferJson(4, "c", "npu", 64, "f32", {4}));
  bufs.push_back(bufferJson(5, "c2", "cpu", 64, "f32", {4}));
  bufs.push_back(bufferJson(6, "y", "cpu", 192, "f32", {4}));
  f.plan["inputs"].push_back(valueJson("x", 0, "f32", {4}));
  f.plan["outputs"].push_back(valueJson("y", 6, "f32", {4}));
  Json &tasks = f.plan["tasks"];
  using A = Json;
  tasks.push_back(taskJson(0, "relu", "kernel", "cpu", 0, "relu", A::array({0}),
                           A::array({1}), A::array()));
  tasks.push_back(taskJson(1, "neg", "kernel", "cpu", 1, "neg", A::array({0}),
                           A::array({2}), A::array()));
  tasks.push_back(taskJson(2, "to_npu", "transfer", "npu", 0, "copy",
                           A::array({1}), A::array({3}), A::array({0})));
  tasks.push_back(taskJson(3, "square", "kernel", "npu", 0, "mul",
                           A::array({3, 3}), A::array({4}), A::array({2})));
  tasks.push_back(taskJson(4, "to_cpu", "transfer", "cpu", 0, "copy",
                           A::array({4}), A::array({5}), A::array({0, 2, 3})));
  tasks.push_back(taskJson(5, "sum", "kernel", "cpu", 1, "add",
                           A::array({5, 2}), A::array({6}), A::array({1, 4})));
  Json &events = f.plan["events"];
  events.push_back(Json{{"id", 0}, {"task", 0}, {"waiters", Json::array({2})}});
  events.push_back(Json{{"id", 1}, {"task", 2}, {"waiters", Json::array({4})}});
  events.push_back(Json{{"id", 2}, {"task", 3}, {"waiters", Json::array({4})}});
  events.push_back(Json{{"id", 3}, {"task", 4}, {"waiters", Json::array({5})}});
  return f;
}

TEST(PlanSession, MultiQueuePlanIsCorrectAndRepeatable) {
  TempDir tmp;
  auto session = loadFiles(tmp, multiQueuePlan());
  for (int iter = 0; iter < 50; ++iter) {
    // Vary the input so that stale values from an earlier run would show.
    std::vector<float> x = {float(iter), -1.5f, 0.25f * float(iter % 7),
                            -float(iter % 3)};
    std::vector<float> want(4);
    for (size_t i = 0; i < 4; ++i) {
      float r = x[i] > 0 ? x[i] : 0;
      want[i] = r * r - x[i];
    }
    session->setInput("x", f32Tensor({4}, x));
    session->run();
    Tensor y = session->getOutput("y");
    ASSERT_EQ(floatsOf(y), want) << "run " << iter;
  }
  // The last run's timings: every task ran on its own (device, queue), and
  // each task started after its deps ended.
  std::vector<TaskTiming> t = session->lastTimings();
  ASSERT_EQ(t.size(), 6u);
  const std::vector<std::pair<size_t, size_t>> placement = {
      {0, 0}, {0, 1}, {1, 0}, {1, 0}, {0, 0}, {0, 1}};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(std::make_pair(t[i].device, t[i].queue), placement[i]) << i;
    for (size_t d : session->plan().tasks[i].deps)
      EXPECT_LE(t[d].endUs, t[i].startUs) << "task " << i << " dep " << d;
  }
}

//===----------------------------------------------------------------------===//
// (b') Views: an op split across two devices writes one buffer in place
//===----------------------------------------------------------------------===//

/// x: f32[4, 2] (input). Task 0 on the CPU computes relu of x's rows 0..2
/// into rows 0..2 of y; task 1 on the GPU computes neg of rows 2..4 into its
/// own buffer, and transfer 2 copies it into rows 2..4 of y; task 3 computes
/// z = abs(y). Outputs y and z.
/// Buffers: 0 x, 1 y, 2 x[rows 0..2], 3 x[rows 2..4], 4 y[rows 0..2],
/// 5 y[rows 2..4], 6 the GPU's part, 7 z.
PlanFiles viewPlan() {
  PlanFiles f;
  f.plan = planSkeleton(0);
  addDevice(f.plan, "cpu", "cpu", 1, 192);
  addDevice(f.plan, "gpu", "gpu", 1, 64);
  Json &b = f.plan["buffers"];
  b.push_back(bufferJson(0, "x", "cpu", 0, "f32", {4, 2}));
  b.push_back(bufferJson(1, "y", "cpu", 64, "f32", {4, 2}));
  auto view = [&](int id, int of, uint64_t offset) {
    Json v = bufferJson(id, "view", "cpu", offset, "f32", {2, 2});
    v["view_of"] = of;
    b.push_back(v);
  };
  view(2, 0, 0);
  view(3, 0, 16);
  view(4, 1, 64);
  view(5, 1, 80);
  b.push_back(bufferJson(6, "part", "gpu", 0, "f32", {2, 2}));
  b.push_back(bufferJson(7, "z", "cpu", 128, "f32", {4, 2}));
  f.plan["inputs"].push_back(valueJson("x", 0, "f32", {4, 2}));
  f.plan["outputs"].push_back(valueJson("y", 1, "f32", {4, 2}));
  f.plan["outputs"].push_back(valueJson("z", 7, "f32", {4, 2}));
  Json &t = f.plan["tasks"];
  t.push_back(taskJson(0, "lo", "kernel", "cpu", 0, "relu", {2}, {4}, Json::array()));
  t.push_back(taskJson(1, "hi", "kernel", "gpu", 0, "neg", {3}, {6}, Json::array()));
  Json copy = taskJson(2, "copy", "transfer", "gpu", 0, "copy", {6}, {5}, {1});
  t.push_back(copy);
  t.push_back(taskJson(3, "abs", "kernel", "cpu", 0, "abs", {1}, {7}, {2}));
  f.plan["events"].push_back(Json{{"id", 0}, {"task", 2}, {"waiters", {3}}});
  return f;
}

TEST(PlanSession, ViewsLetTwoDevicesWriteOneBuffer) {
  TempDir tmp;
  auto session = loadFiles(tmp, viewPlan());
  std::vector<float> x = {-1, 2, 3, -4, 5, -6, -7, 8};
  session->setInput("x", f32Tensor({4, 2}, x));
  session->run();
  // Rows 0..2: relu; rows 2..4: neg; z = |y|.
  std::vector<float> y = {0, 2, 3, 0, -5, 6, 7, -8};
  std::vector<float> z = {0, 2, 3, 0, 5, 6, 7, 8};
  EXPECT_EQ(floatsOf(session->getOutput("y")), y);
  EXPECT_EQ(floatsOf(session->getOutput("z")), z);
}

/// a and b share memory (a's lifetime ends before b's begins in task
/// order), but b's writer runs on the GPU queue: unless it depends on a's
/// last reader, it may overwrite a while the CPU still writes or reads it
/// (the first conflict found is a's writer, task 0).
PlanFiles reusePlan(bool ordered) {
  PlanFiles f;
  f.plan = planSkeleton(0);
  addDevice(f.plan, "cpu", "cpu", 1, 256);
  addDevice(f.plan, "gpu", "gpu", 1, 64);
  Json &b = f.plan["buffers"];
  b.push_back(bufferJson(0, "x", "cpu", 0, "f32", {4}));
  b.push_back(bufferJson(1, "a", "cpu", 64, "f32", {4}));
  b.push_back(bufferJson(2, "y", "cpu", 128, "f32", {4}));
  b.push_back(bufferJson(3, "b", "cpu", 64, "f32", {4}));
  b.push_back(bufferJson(4, "z", "cpu", 192, "f32", {4}));
  f.plan["inputs"].push_back(valueJson("x", 0, "f32", {4}));
  f.plan["outputs"].push_back(valueJson("y", 2, "f32", {4}));
  f.plan["outputs"].push_back(valueJson("z", 4, "f32", {4}));
  Json &t = f.plan["tasks"];
  t.push_back(taskJson(0, "a", "kernel", "cpu", 0, "relu", {0}, {1}, Json::array()));
  t.push_back(taskJson(1, "y", "kernel", "cpu", 0, "neg", {1}, {2}, {0}));
  t.push_back(taskJson(2, "b", "kernel", "gpu", 0, "relu", {0}, {3},
                       ordered ? Json::array({1}) : Json::array()));
  t.push_back(taskJson(3, "z", "kernel", "cpu", 0, "abs", {3}, {4}, {2}));
  if (ordered)
    f.plan["events"].push_back(Json{{"id", 0}, {"task", 1}, {"waiters", {2}}});
  f.plan["events"].push_back(
      Json{{"id", ordered ? 1 : 0}, {"task", 2}, {"waiters", {3}}});
  return f;
}

TEST(PlanLoad, MemoryReusedAcrossQueuesNeedsAnOrder) {
  TempDir ok;
  EXPECT_NO_THROW(loadFiles(ok, reusePlan(/*ordered=*/true)));
  TempDir tmp;
  fs::path dir = tmp.sub("plan");
  PlanFiles f = reusePlan(/*ordered=*/false);
  writePlanDir(dir, f.plan, f.weights);
  std::string err = errorOf<PlanError>([&] { Session::load(dir.string()); });
  std::string want = (dir / "plan.json").string() +
                     ": tasks[2].outputs[0]: writes bytes [64, 80) of arena "
                     "'cpu' that task 0 writes on another queue, with no "
                     "dependency ordering the two";
  EXPECT_NE(err.find(want), std::string::npos)
      << "message: " << err << "\nexpected to contain: " << want;
}

TEST(PlanLoad, BadViewsAreLoadErrors) {
  struct Case {
    const char *name;
    std::function<void(Json &)> corrupt;
    const char *expected;
  };
  const std::vector<Case> cases = {
      {"outside its source",
       [](Json &p) { p["buffers"][5]["offset"] = 112; },
       "buffers[5]: bytes [112, 128) lie outside buffer 1 [64, 96) it is a "
       "view of"},
      {"before its source",
       [](Json &p) { p["buffers"][4]["offset"] = 48; },
       "buffers[4]: bytes [48, 64) lie outside buffer 1"},
      {"view of a view",
       [](Json &p) {
         p["buffers"][5]["view_of"] = 4;
       },
       "buffers[5].view_of: buffer 4 is itself a view"},
      {"view of a later buffer",
       [](Json &p) { p["buffers"][2]["view_of"] = 7; },
       "buffers[2].view_of: buffer 7 is not an earlier buffer"},
      {"another arena",
       [](Json &p) { p["buffers"][6]["view_of"] = 1; },
       "buffers[6].arena: 'gpu' differs from the arena 'cpu' of buffer 1"},
      {"not element-aligned",
       [](Json &p) { p["buffers"][4]["offset"] = 66; },
       "buffers[4].offset: 66 is not a multiple of the element size 4"},
      {"an output naming a view",
       [](Json &p) {
         p["outputs"][0]["buffer"] = 4;
         p["outputs"][0]["shape"] = {2, 2};
       },
       "outputs[0].buffer: buffer 4 is a view"},
      {"a racy read of a view's rows",
       [](Json &p) {
         p["tasks"][3]["deps"] = Json::array();
         p["events"] = Json::array();
       },
       "tasks[3].inputs[0]: reads buffer 1, written by task 2 on another "
       "queue, without depending on it"},
      {"writing a view of an input",
       [](Json &p) { p["tasks"][0]["outputs"][0] = 3; },
       "tasks[0].outputs[0]: buffer 3 holds a graph input"},
  };
  for (const Case &c : cases) {
    PlanFiles f = viewPlan();
    c.corrupt(f.plan);
    TempDir tmp;
    fs::path dir = tmp.sub("plan");
    writePlanDir(dir, f.plan, f.weights);
    std::string err = errorOf<PlanError>([&] { Session::load(dir.string()); });
    std::string want = (dir / "plan.json").string() + ": " + c.expected;
    EXPECT_NE(err.find(want), std::string::npos)
        << c.name << ": message: " << err << "\nexpected to contain: " << want;
  }
}

//===----------------------------------------------------------------------===//
// (b'') Device kernels (DeviceKernel.h) replacing the registry's
//===----------------------------------------------------------------------===//

int gDeviceCalls = 0;
std::string gSeen;

/// Runs the CPU kernel, then records what the call looked like.
extern "C" int recordingKernel(const LoomKernelCall *call) {
  ++gDeviceCalls;
  int rc = loom_cpu_kernel(call);
  gSeen += std::string(call->device) + ":" + call->kernel + ":" + call->task +
           "(" + std::to_string(call->num_inputs) + "->" +
           std::to_string(call->num_outputs) + ",rank " +
           std::to_string(call->inputs[0].rank) + ") ";
  return rc;
}

/// Fails with a message.
extern "C" int failingKernel(const LoomKernelCall *) {
  loom_set_error("the accelerator is busy");
  return 3;
}

TEST(PlanSession, DeviceKernelsReplaceTheRegistrysAndCanCallIt) {
  MlpData data;
  TempDir tmp;
  SessionOptions options;
  options.deviceKernels = [](const Plan &, const PlanTask &t) -> LoomKernelFn {
    return t.kernel == "relu" || t.kernel == "add" ? recordingKernel : nullptr;
  };
  gDeviceCalls = 0;
  gSeen.clear();
  auto session = loadFiles(tmp, mlpPlan(data.w, data.b), options);
  std::vector<float> x = {1, -2, 0.5f, 3, 0.25f, -1};
  session->setInput("x", f32Tensor({2, 3}, x));
  session->run();
  // The results are the registry's (the device kernels call it).
  expectFloats(session->getOutput("y"), data.expected(x));
  EXPECT_EQ(gDeviceCalls, 2);
  EXPECT_EQ(gSeen, "cpu:add:add0(2->1,rank 2) cpu:relu:relu0(1->1,rank 2) ");

  options.deviceKernels = [](const Plan &, const PlanTask &t) -> LoomKernelFn {
    return t.kernel == "relu" ? failingKernel : nullptr;
  };
  TempDir tmp2;
  auto failing = loadFiles(tmp2, mlpPlan(data.w, data.b), options);
  failing->setInput("x", f32Tensor({2, 3}, x));
  std::string err = errorOf<SessionError>([&] { failing->run(); });
  EXPECT_NE(err.find("task 2 'relu0' (kernel relu): device kernel for cpu "
                     "failed: the accelerator is busy"),
            std::string::npos)
      << err;
}

//===----------------------------------------------------------------------===//
// (c) Folded inputs
//===----------------------------------------------------------------------===//

TEST(PlanSession, FoldedInputAcceptsOnlyTheFoldedValue) {
  TempDir tmp;
  auto session = loadFiles(tmp, foldedPlan());
  EXPECT_TRUE(session->inputs()[0].folded);
  EXPECT_TRUE(session->isInputSet(0));
  EXPECT_FALSE(session->isInputSet(1));
  // Equal: accepted (and not needed).
  EXPECT_NO_THROW(session->setInput("x", f32Tensor({2}, {1, 2})));
  std::string err = errorOf<SessionError>([&] {
    session->setInput("x", f32Tensor({2}, {1, 3}));
  });
  EXPECT_NE(err.find("input 'x' was folded"), std::string::npos) << err;
  EXPECT_NE(err.find("element 1"), std::string::npos) << err;
  session->setInput("z", f32Tensor({2}, {10, 20}));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")), (std::vector<float>{11, 22}));
}

//===----------------------------------------------------------------------===//
// Input/output API errors, empty weights, zero-size tensors
//===----------------------------------------------------------------------===//

TEST(PlanSession, InputAndOutputErrorsNameTheValue) {
  TempDir tmp;
  MlpData data;
  auto session = loadFiles(tmp, mlpPlan(data.w, data.b));
  std::string err = errorOf<SessionError>([&] { session->run(); });
  EXPECT_NE(err.find("inputs not set: 'x'"), std::string::npos) << err;
  err = errorOf<SessionError>([&] { session->getOutput(0); });
  EXPECT_NE(err.find("output 'y': no successful run yet"), std::string::npos)
      << err;
  err = errorOf<SessionError>([&] {
    session->setInput("x", f32Tensor({3, 2}, std::vector<float>(6)));
  });
  EXPECT_NE(err.find("input 'x': expected f32[2,3], got f32[3,2]"),
            std::string::npos)
      << err;
  err = errorOf<SessionError>([&] {
    session->setInput("x",
                      makeTensor(DType::I32, {2, 3}, std::string(24, '\0')));
  });
  EXPECT_NE(err.find("input 'x': expected f32[2,3], got i32[2,3]"),
            std::string::npos)
      << err;
  err = errorOf<SessionError>([&] { session->setInput("nope", Tensor{}); });
  EXPECT_NE(err.find("no input named 'nope' (inputs: 'x')"), std::string::npos)
      << err;
  err = errorOf<SessionError>([&] { session->getOutput("nope"); });
  EXPECT_NE(err.find("no output named 'nope'"), std::string::npos) << err;
}

TEST(PlanSession, EmptyWeightsAndZeroSizeTensors) {
  PlanFiles f;
  f.plan = planSkeleton(0);
  addDevice(f.plan, "cpu", "cpu", 1, 128);
  f.plan["buffers"] = Json::array({bufferJson(0, "e", "cpu", 0, "f32", {0, 3}),
                                   bufferJson(1, "x", "cpu", 0, "f32", {2}),
                                   bufferJson(2, "r", "cpu", 64, "f32", {0, 3}),
                                   bufferJson(3, "y", "cpu", 64, "f32", {2})});
  f.plan["inputs"] = Json::array(
      {valueJson("e", 0, "f32", {0, 3}), valueJson("x", 1, "f32", {2})});
  f.plan["outputs"] = Json::array(
      {valueJson("r", 2, "f32", {0, 3}), valueJson("y", 3, "f32", {2})});
  f.plan["tasks"] = Json::array(
      {taskJson(0, "relu", "kernel", "cpu", 0, "relu", Json::array({0}),
                Json::array({2}), Json::array()),
       taskJson(1, "id", "kernel", "cpu", 0, "identity", Json::array({1}),
                Json::array({3}), Json::array())});
  TempDir tmp;
  auto session = loadFiles(tmp, f);
  session->setInput("e", makeTensor(DType::F32, {0, 3}, ""));
  session->setInput("x", f32Tensor({2}, {-1, 2}));
  session->run();
  EXPECT_EQ(session->getOutput("r").bytes.size(), 0u);
  EXPECT_EQ(floatsOf(session->getOutput("y")), (std::vector<float>{-1, 2}));
}

//===----------------------------------------------------------------------===//
// (e) A kernel error at run time
//===----------------------------------------------------------------------===//

TEST(PlanSession, KernelErrorNamesTheTaskAndTheRunCanBeRepeated) {
  PlanFiles f;
  placeWeights(f.weights, 0, rawBytes(std::vector<float>{10, 20, 30}));
  f.plan = planSkeleton(f.weights.size());
  addDevice(f.plan, "cpu", "cpu", 1, 128);
  f.plan["buffers"] =
      Json::array({bufferJson(0, "data", "weights", 0, "f32", {3}),
                   bufferJson(1, "idx", "cpu", 0, "i64", {1}),
                   bufferJson(2, "out", "cpu", 64, "f32", {1})});
  f.plan["inputs"] = Json::array({valueJson("idx", 1, "i64", {1})});
  f.plan["outputs"] = Json::array({valueJson("out", 2, "f32", {1})});
  f.plan["tasks"].push_back(
      taskJson(0, "gather0", "kernel", "cpu", 0, "gather", Json::array({0, 1}),
               Json::array({2}), Json::array(), Json{{"axis", {{"int", 0}}}}));
  TempDir tmp;
  auto session = loadFiles(tmp, f);
  session->setInput(
      "idx", makeTensor(DType::I64, {1}, rawBytes(std::vector<int64_t>{5})));
  std::string err = errorOf<SessionError>([&] { session->run(); });
  EXPECT_EQ(err.rfind("task 0 'gather0' (kernel gather): ", 0), 0u) << err;
  EXPECT_NE(err.find("out of range"), std::string::npos) << err;
  EXPECT_NE(errorOf<SessionError>([&] { session->getOutput(0); }), "");
  session->setInput(
      "idx", makeTensor(DType::I64, {1}, rawBytes(std::vector<int64_t>{-1})));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput(0)), std::vector<float>{30});
}

//===----------------------------------------------------------------------===//
// (f) Control tasks: if and loop
//===----------------------------------------------------------------------===//

Tensor boolScalar(bool v) {
  return makeTensor(DType::Bool, {}, std::string(1, v ? '\1' : '\0'));
}

Tensor i64Scalar(int64_t v) {
  return makeTensor(DType::I64, {}, rawBytes(std::vector<int64_t>{v}));
}

TEST(PlanControl, IfRunsTheBranchItsConditionSelects) {
  TempDir tmp;
  auto session = loadFiles(tmp, ifPlan());
  const std::vector<std::vector<float>> xs = {{-1, 2, -3.5f, 4},
                                              {5, -6, 0.25f, -0.5f}};
  // Alternate the condition so that a stale result would show.
  for (int run = 0; run < 4; ++run) {
    const std::vector<float> &x = xs[run % 2];
    const bool cond = run < 2 ? run % 2 == 0 : run % 2 == 1;
    std::vector<float> want(4);
    for (size_t i = 0; i < 4; ++i)
      want[i] = cond ? (x[i] > 0 ? x[i] : 0.0f) : -x[i];
    session->setInput("c", boolScalar(cond));
    session->setInput("x", f32Tensor({4}, x));
    session->run();
    EXPECT_EQ(floatsOf(session->getOutput("y")), want) << "run " << run;
  }
  // Any nonzero byte is true.
  session->setInput("c", makeTensor(DType::Bool, {}, std::string(1, '\2')));
  session->setInput("x", f32Tensor({4}, {-1, 1, -2, 2}));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")),
            (std::vector<float>{0, 1, 0, 2}));
  // The if task is one entry of the timings.
  ASSERT_EQ(session->lastTimings().size(), 1u);
  EXPECT_EQ(session->lastTimings()[0].task, 0u);
}

TEST(PlanControl, IfBranchMayReturnACaptureUnchanged) {
  TempDir tmp;
  auto session = loadFiles(tmp, ifPlan(/*passThrough=*/true));
  std::vector<float> x = {-1, 2, -3, 4};
  session->setInput("x", f32Tensor({4}, x));
  session->setInput("c", boolScalar(false));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")), x);
  session->setInput("c", boolScalar(true));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")),
            (std::vector<float>{0, 2, 0, 4}));
}

TEST(PlanControl, LoopRunsMTimesAndZeroTimes) {
  TempDir tmp;
  // cond_out stays true (iter < 100): M alone decides.
  auto session = loadFiles(tmp, loopPlan(/*limit=*/100, /*maxTripCount=*/3,
                                         /*withM=*/true));
  std::vector<float> x = {1.5f, -0.25f};
  session->setInput("x", f32Tensor({2}, x));
  for (int64_t m : {3, 0, 1, 2, -1, 3}) {
    session->setInput("M", i64Scalar(m));
    session->run();
    float scale = float(1 << std::max<int64_t>(m, 0));
    EXPECT_EQ(floatsOf(session->getOutput("y")),
              (std::vector<float>{x[0] * scale, x[1] * scale}))
        << "M = " << m;
  }
}

TEST(PlanControl, LoopStopsWhenItsBodySaysSo) {
  TempDir tmp;
  // No M: cond_out = iter < 2 is false after the third run of the body.
  auto session = loadFiles(tmp, loopPlan(/*limit=*/2, /*maxTripCount=*/10,
                                         /*withM=*/false));
  session->setInput("M", i64Scalar(0)); // unused by the loop
  session->setInput("x", f32Tensor({2}, {3, -1}));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")), (std::vector<float>{24, -8}));
}

TEST(PlanControl, LoopPastItsBoundIsAnErrorNamingTheTask) {
  TempDir tmp;
  auto session = loadFiles(tmp, loopPlan(/*limit=*/100, /*maxTripCount=*/5,
                                         /*withM=*/false));
  session->setInput("M", i64Scalar(0));
  session->setInput("x", f32Tensor({2}, {1, 2}));
  std::string err = errorOf<SessionError>([&] { session->run(); });
  EXPECT_EQ(err, "task 0 'Loop_0' (loop): loop task 'Loop_0' ran past its "
                 "bound of 5 iterations");
  EXPECT_NE(errorOf<SessionError>([&] { session->getOutput(0); }), "");
  // A trip count beyond the bound fails too; within it the loop runs.
  TempDir tmp2;
  auto withM = loadFiles(tmp2, loopPlan(100, 3, /*withM=*/true));
  withM->setInput("x", f32Tensor({2}, {1, 2}));
  withM->setInput("M", i64Scalar(4));
  EXPECT_NE(errorOf<SessionError>([&] { withM->run(); })
                .find("ran past its bound of 3 iterations"),
            std::string::npos);
  withM->setInput("M", i64Scalar(3));
  withM->run();
  EXPECT_EQ(floatsOf(withM->getOutput("y")), (std::vector<float>{8, 16}));
}

TEST(PlanControl, BodyTaskFailureNamesTheBodyAndStopsTheRun) {
  TempDir tmp;
  SessionOptions options;
  options.deviceKernels = [](const Plan &, const PlanTask &t) -> LoomKernelFn {
    return t.kernel == "relu" ? failingKernel : nullptr;
  };
  auto session = loadFiles(tmp, ifPlan(), options);
  session->setInput("x", f32Tensor({4}, {1, 2, 3, 4}));
  session->setInput("c", boolScalar(true));
  std::string err = errorOf<SessionError>([&] { session->run(); });
  EXPECT_EQ(err, "task 0 'If_0' (if), body 'then_branch', task 0 'relu' "
                 "(kernel relu): device kernel for cpu failed: the "
                 "accelerator is busy");
  // The other branch does not call the failing kernel.
  session->setInput("c", boolScalar(false));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")),
            (std::vector<float>{-1, -2, -3, -4}));
}

/// Loading the plan folder `dir` fails with a message that names its
/// plan.json followed by `expected`.
void expectLoadError(const fs::path &dir, const std::string &expected) {
  std::string err = errorOf<PlanError>([&] { Session::load(dir.string()); });
  ASSERT_FALSE(err.empty()) << "the corrupt plan loaded";
  std::string want = (dir / "plan.json").string() + ": " + expected;
  EXPECT_NE(err.find(want), std::string::npos)
      << "message: " << err << "\nexpected to contain: " << want;
}

TEST(PlanControl, NestedIfInsideALoop) {
  TempDir tmp;
  auto session = loadFiles(tmp, nestedPlan(/*limit=*/100, /*maxTripCount=*/4));
  session->setInput("x", f32Tensor({2}, {0.5f, -3}));
  for (int64_t m : {3, 0, 4}) {
    session->setInput("M", i64Scalar(m));
    session->run();
    float scale = float(1 << m);
    EXPECT_EQ(floatsOf(session->getOutput("y")),
              (std::vector<float>{0.5f * scale, -3 * scale}))
        << "M = " << m;
  }
  session->setInput("M", i64Scalar(5));
  EXPECT_EQ(errorOf<SessionError>([&] { session->run(); }),
            "task 0 'Loop_0' (loop): loop task 'Loop_0' ran past its bound of "
            "4 iterations");

  // A failure two bodies deep names both.
  SessionOptions options;
  options.deviceKernels = [](const Plan &, const PlanTask &t) -> LoomKernelFn {
    return t.kernel == "mul" ? failingKernel : nullptr;
  };
  TempDir tmp2;
  auto failing = loadFiles(tmp2, nestedPlan(100, 4), options);
  failing->setInput("x", f32Tensor({2}, {1, 2}));
  failing->setInput("M", i64Scalar(2));
  EXPECT_EQ(errorOf<SessionError>([&] { failing->run(); }),
            "task 0 'Loop_0' (loop), body 'body', task 0 'If_1' (if), body "
            "'then_branch', task 0 'double' (kernel mul): device kernel for "
            "cpu failed: the accelerator is busy");
}

TEST(PlanLoad, NestedBodiesInheritWhatTheirEnclosingBodyMayRead) {
  // The nested if does not list the loop's param c (buffer 5) among its
  // inputs; its bodies may still read it (and return it).
  PlanFiles f = nestedPlan(100, 4);
  f.plan["tasks"][0]["bodies"][0]["tasks"][0]["inputs"] =
      Json::array({4, 8});
  TempDir tmp;
  auto session = loadFiles(tmp, f);
  session->setInput("x", f32Tensor({2}, {1, -2}));
  session->setInput("M", i64Scalar(2));
  session->run();
  EXPECT_EQ(floatsOf(session->getOutput("y")), (std::vector<float>{4, -8}));
}

TEST(PlanLoad, NestedBodyErrorsNameTheNestedPath) {
  // The nested then branch may not read the loop's cond_out (written
  // later), and its buffer may not be the loop's result.
  PlanFiles f = nestedPlan(100, 4);
  f.plan["tasks"][0]["bodies"][0]["tasks"][0]["bodies"][0]["tasks"][0]
       ["inputs"][0] = 6;
  TempDir tmp;
  fs::path dir = tmp.sub("plan");
  writePlanDir(dir, f.plan, f.weights);
  expectLoadError(dir, "tasks[0].bodies[0].tasks[0].bodies[0].tasks[0]."
                       "inputs[0]: buffer 6 is not readable in body "
                       "'then_branch'");
  PlanFiles g = nestedPlan(100, 4);
  g.plan["tasks"][0]["bodies"][0]["tasks"][0]["bodies"][0]["tasks"][0]
       ["outputs"][0] = 7;
  g.plan["tasks"][0]["bodies"][0]["tasks"][0]["bodies"][0]["results"][0] = 7;
  TempDir tmp2;
  fs::path dir2 = tmp2.sub("plan");
  writePlanDir(dir2, g.plan, g.weights);
  expectLoadError(dir2, "tasks[0].bodies[0].tasks[0].bodies[0].tasks[0]."
                        "outputs[0]: buffer 7 is not body-local: it holds an "
                        "input or output of the control task");
}

/// A corrupt variant of ifPlan() or loopPlan().
struct ControlCase {
  const char *name;
  bool loop;
  std::function<void(Json &)> corrupt;
  /// Expected after "<dir>/plan.json: " in the message.
  std::string expected;
};

/// The path of the task 65 control tasks deep in NestedTooDeep.
std::string deepestPath() {
  std::string path = "tasks[0]";
  for (int i = 0; i < 64; ++i)
    path += ".bodies[0].tasks[0]";
  return path;
}

void PrintTo(const ControlCase &c, std::ostream *os) { *os << c.name; }

Json &body(Json &p, int b) { return p["tasks"][0]["bodies"][b]; }
Json &bodyTask(Json &p, int b, int j) { return body(p, b)["tasks"][j]; }

const std::vector<ControlCase> &controlCases() {
  static const std::vector<ControlCase> cases = {
      {"IfWithOneBody", false,
       [](Json &p) { p["tasks"][0]["bodies"].erase(1); },
       "tasks[0].bodies: an if task has 2 bodies (then, else), got 1"},
      {"LoopWithTwoBodies", true,
       [](Json &p) { p["tasks"][0]["bodies"].push_back(body(p, 0)); },
       "tasks[0].bodies: a loop task has 1 body, got 2"},
      {"IfWithoutBodies", false,
       [](Json &p) { p["tasks"][0].erase("bodies"); },
       "tasks[0]: missing key 'bodies'"},
      {"KernelWithBodies", false,
       [](Json &p) { bodyTask(p, 0, 0)["bodies"] = Json::array(); },
       "tasks[0].bodies[0].tasks[0].bodies: a kernel task has no bodies"},
      {"BodyWithoutResults", false,
       [](Json &p) { body(p, 1).erase("results"); },
       "tasks[0].bodies[1]: missing key 'results'"},
      {"BodyTaskIdIsNotIndex", false,
       [](Json &p) { bodyTask(p, 0, 0)["id"] = 3; },
       "tasks[0].bodies[0].tasks[0].id: id 3 must equal the position 0"},
      {"NestedTooDeep", false,
       [](Json &p) {
         Json inner = p["tasks"][0];
         for (int i = 0; i < 65; ++i) {
           Json outer = p["tasks"][0];
           outer["bodies"][0]["tasks"] = Json::array({inner});
           outer["bodies"][0]["tasks"][0]["id"] = 0;
           inner = outer;
         }
         p["tasks"][0] = inner;
       },
       deepestPath() + ".bodies: control tasks are nested more than 64 deep"},
      {"ControlKernelIsNotItsKind", false,
       [](Json &p) { p["tasks"][0]["kernel"] = "iff"; },
       "tasks[0].kernel: the kernel of an if task is 'if', got 'iff'"},
      {"ControlTaskOffTheCpu", false,
       [](Json &p) { p["devices"][0]["kind"] = "npu"; },
       "tasks[0].device: a control task runs on a CPU device; 'cpu' is a npu "
       "device"},
      {"ControlOutputNull", false,
       [](Json &p) { p["tasks"][0]["outputs"][0] = nullptr; },
       "tasks[0].outputs[0]: a control task's outputs are never null"},
      {"IfWithAttrs", false,
       [](Json &p) { p["tasks"][0]["attrs"] = Json{{"a", {{"int", 1}}}}; },
       "tasks[0].attrs: an if task has no attributes"},
      {"IfConditionNotBool", false,
       [](Json &p) { p["tasks"][0]["inputs"][0] = 1; },
       "tasks[0].inputs[0]: the condition of an if task must be one bool "
       "element, got buffer 1 f32[4]"},
      {"IfBodyWithParams", false,
       [](Json &p) { body(p, 0)["params"] = Json::array({3}); },
       "tasks[0].bodies[0].params: the bodies of an if task have no params"},
      {"IfResultCount", false,
       [](Json &p) { body(p, 1)["results"] = Json::array({4, 4}); },
       "tasks[0].bodies[1].results: has 2 results, but the if task has 1 "
       "outputs"},
      {"IfResultType", false,
       [](Json &p) { body(p, 1)["results"][0] = 0; },
       "tasks[0].bodies[1].results[0]: buffer 0 bool[] differs from "
       "outputs[0] of the if task (buffer 2 f32[4])"},
      {"BodyTaskOnAnotherDevice", false,
       [](Json &p) {
         addDevice(p, "gpu", "gpu", 1, 64);
         bodyTask(p, 0, 0)["device"] = "gpu";
       },
       "tasks[0].bodies[0].tasks[0].device: a body task runs on its control "
       "task's device 'cpu', got 'gpu'"},
      {"BodyTaskOnAnotherQueue", false,
       [](Json &p) {
         p["devices"][0]["queues"] = 2;
         bodyTask(p, 0, 0)["queue"] = 1;
       },
       "tasks[0].bodies[0].tasks[0].queue: a body task runs on its control "
       "task's queue 0, got 1"},
      {"BodyTaskWithDeps", false,
       [](Json &p) { bodyTask(p, 1, 0)["deps"] = Json::array({0}); },
       "tasks[0].bodies[1].tasks[0].deps: a body task has no deps"},
      {"TransferInBody", false,
       [](Json &p) {
         bodyTask(p, 1, 0)["kind"] = "transfer";
         bodyTask(p, 1, 0)["kernel"] = "copy";
       },
       "tasks[0].bodies[1].tasks[0].kind: a body task is a kernel task or a "
       "control task, not a transfer"},
      {"BodyReadsAnotherBodysBuffer", false,
       [](Json &p) { bodyTask(p, 0, 0)["inputs"][0] = 4; },
       "tasks[0].bodies[0].tasks[0].inputs[0]: buffer 4 is not readable in "
       "body 'then_branch'"},
      {"IfResultNotReadable", false,
       [](Json &p) { body(p, 0)["results"][0] = 4; },
       "tasks[0].bodies[0].results[0]: buffer 4 is not readable in body "
       "'then_branch'"},
      {"BodyWritesAPlanOutput", false,
       [](Json &p) {
         bodyTask(p, 0, 0)["outputs"][0] = 2;
         body(p, 0)["results"][0] = 2;
       },
       "tasks[0].bodies[0].tasks[0].outputs[0]: buffer 2 is not body-local: "
       "it holds an input or output of the plan"},
      {"BodyWritesABufferUsedOutside", false,
       [](Json &p) {
         p["arenas"][0]["peak_bytes"] = 384;
         p["buffers"].push_back(bufferJson(5, "z", "cpu", 320, "f32", {4}));
         p["outputs"].push_back(valueJson("z", 5, "f32", {4}));
         p["tasks"].push_back(taskJson(1, "neg", "kernel", "cpu", 0, "neg",
                                       Json::array({3}), Json::array({5}),
                                       Json::array({0})));
       },
       "tasks[0].bodies[0].tasks[0].outputs[0]: buffer 3 is not body-local: "
       "a task outside the control task touches it"},
      {"BodyBufferLivesForTheWholeControlTask", false,
       [](Json &p) {
         // w (tasks 1..3) shares the bytes of the then branch's buffer 3,
         // which lives while the if (task 2) runs.
         p["arenas"][0]["peak_bytes"] = 448;
         p["buffers"].push_back(bufferJson(5, "a", "cpu", 320, "f32", {4}));
         p["buffers"].push_back(bufferJson(6, "w", "cpu", 192, "f32", {4}));
         p["buffers"].push_back(bufferJson(7, "z", "cpu", 384, "f32", {4}));
         p["outputs"].push_back(valueJson("z", 7, "f32", {4}));
         Json ifTask = p["tasks"][0];
         ifTask["id"] = 2;
         ifTask["start_us"] = 2.0;
         ifTask["end_us"] = 3.0;
         p["tasks"] = Json::array(
             {taskJson(0, "a", "kernel", "cpu", 0, "relu", Json::array({1}),
                       Json::array({5}), Json::array()),
              taskJson(1, "w", "kernel", "cpu", 0, "neg", Json::array({5}),
                       Json::array({6}), Json::array({0})),
              ifTask,
              taskJson(3, "z", "kernel", "cpu", 0, "abs", Json::array({6}),
                       Json::array({7}), Json::array({1}))});
       },
       "buffers[3]: bytes [192, 208) of arena 'cpu' overlap buffer 6 [192, "
       "208) while both are live (tasks 2..2 and 1..3)"},
      {"BodyWriteRacesAnotherQueue", false,
       [](Json &p) {
         p["devices"][0]["queues"] = 2;
         p["buffers"].push_back(bufferJson(5, "w", "cpu", 192, "f32", {4}));
         p["tasks"].push_back(taskJson(1, "w", "kernel", "cpu", 1, "relu",
                                       Json::array({1}), Json::array({5}),
                                       Json::array()));
       },
       "tasks[1].outputs[0]: writes bytes [192, 208) of arena 'cpu' that "
       "task 0 writes on another queue, with no dependency ordering the two"},
      {"BodyTaskWithoutCost", false,
       [](Json &p) { bodyTask(p, 1, 0)["cost_us"]["cpu"] = nullptr; },
       "tasks[0].bodies[1].tasks[0].cost_us: no cost on its device 'cpu'"},
      {"BodyTaskEndsBeforeItStarts", false,
       [](Json &p) { bodyTask(p, 1, 0)["end_us"] = -1.0; },
       "tasks[0].bodies[1].tasks[0].end_us: ends at -1.000000 us, before it "
       "starts at 0.000000 us"},
      {"UnknownKernelInBody", false,
       [](Json &p) { bodyTask(p, 1, 0)["kernel"] = "frobnicate"; },
       "tasks[0].bodies[1].tasks[0].kernel: task 0 'If_0', body "
       "'else_branch', task 0 'neg': no kernel named 'frobnicate'"},
      {"LoopWithoutMaxTripCount", true,
       [](Json &p) { p["tasks"][0]["attrs"].erase("max_trip_count"); },
       "tasks[0].attrs: a loop task needs the attribute max_trip_count as "
       "{\"int\": N} with N >= 0"},
      {"LoopNegativeNumCarried", true,
       [](Json &p) {
         p["tasks"][0]["attrs"]["num_carried"] = Json{{"int", -1}};
       },
       "tasks[0].attrs: a loop task needs the attribute num_carried"},
      {"LoopTooFewInputs", true,
       [](Json &p) {
         p["tasks"][0]["attrs"]["num_carried"] = Json{{"int", 4}};
       },
       "tasks[0].inputs: a loop task with num_carried 4 has at least 6 "
       "inputs (M, cond, the carried values), got 5"},
      {"LoopTripCountNotI64", true,
       [](Json &p) { p["tasks"][0]["inputs"][0] = 1; },
       "tasks[0].inputs[0]: the trip count M of a loop task must be one i64 "
       "element, got buffer 1 f32[2]"},
      {"LoopConditionNotBool", true,
       [](Json &p) { p["tasks"][0]["inputs"][1] = 0; },
       "tasks[0].inputs[1]: the condition of a loop task must be one bool "
       "element, got buffer 0 i64[]"},
      {"LoopCarriedValueNull", true,
       [](Json &p) { p["tasks"][0]["inputs"][2] = nullptr; },
       "tasks[0].inputs[2]: the initial value of a loop-carried value is "
       "never null"},
      {"LoopOutputCount", true,
       [](Json &p) { p["tasks"][0]["outputs"].push_back(2); },
       "tasks[0].outputs: a loop task with num_carried 1 has 1 outputs, got "
       "2"},
      {"LoopParamCount", true,
       [](Json &p) { body(p, 0)["params"].erase(2); },
       "tasks[0].bodies[0].params: a loop body has 3 params (iter, cond_in, "
       "the carried values), got 2"},
      {"LoopResultCount", true,
       [](Json &p) { body(p, 0)["results"].push_back(7); },
       "tasks[0].bodies[0].results: a loop body has 2 results (cond_out, the "
       "carried values), got 3"},
      {"LoopIterNotI64", true,
       [](Json &p) { body(p, 0)["params"][0] = 4; },
       "tasks[0].bodies[0].params[0]: the iteration number (iter) of a loop "
       "body must be one i64 element, got buffer 4 bool[]"},
      {"LoopCondInNotBool", true,
       [](Json &p) { body(p, 0)["params"][1] = 3; },
       "tasks[0].bodies[0].params[1]: the condition (cond_in) of a loop body "
       "must be one bool element, got buffer 3 i64[]"},
      {"LoopCondOutNotBool", true,
       [](Json &p) { body(p, 0)["results"][0] = 3; },
       "tasks[0].bodies[0].results[0]: the condition (cond_out) of a loop "
       "body must be one bool element, got buffer 3 i64[]"},
      {"LoopCarriedParamType", true,
       [](Json &p) { body(p, 0)["params"][2] = 9; },
       "tasks[0].bodies[0].params[2]: buffer 9 i64[] differs from inputs[2] "
       "of the loop task (buffer 1 f32[2])"},
      {"LoopResultNotWrittenByBody", true,
       [](Json &p) { body(p, 0)["results"][1] = 5; },
       "tasks[0].bodies[0].results[1]: buffer 5 is not written by a task of "
       "the loop body"},
      {"BodyWritesWeights", true,
       [](Json &p) {
         body(p, 0)["tasks"].push_back(taskJson(2, "w", "kernel", "cpu", 0,
                                                "identity", Json::array({5}),
                                                Json::array({8}),
                                                Json::array()));
       },
       "tasks[0].bodies[0].tasks[2].outputs[0]: buffer 8 is not body-local: "
       "it is a weights buffer"},
      {"BodyWritesAParam", true,
       [](Json &p) {
         body(p, 0)["tasks"].push_back(taskJson(2, "w", "kernel", "cpu", 0,
                                                "identity", Json::array({7}),
                                                Json::array({5}),
                                                Json::array()));
       },
       "tasks[0].bodies[0].tasks[2].outputs[0]: buffer 5 is not body-local: "
       "it is a param of the control task's body"},
      {"LoopParamIsAPlanInput", true,
       [](Json &p) {
         body(p, 0)["params"][2] = 1;
         bodyTask(p, 0, 0)["inputs"][0] = 1;
       },
       "tasks[0].bodies[0].params[2]: buffer 1 is not body-local: it holds "
       "an input or output of the plan"},
  };
  return cases;
}

class CorruptControlTest : public ::testing::TestWithParam<ControlCase> {};

TEST_P(CorruptControlTest, LoadFailsNamingFileAndPath) {
  const ControlCase &c = GetParam();
  PlanFiles f = c.loop ? loopPlan(2, 10, true) : ifPlan();
  c.corrupt(f.plan);
  TempDir tmp;
  fs::path dir = tmp.sub("plan");
  writePlanDir(dir, f.plan, f.weights);
  expectLoadError(dir, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Rules, CorruptControlTest,
                         ::testing::ValuesIn(controlCases()),
                         [](const ::testing::TestParamInfo<ControlCase> &info) {
                           return std::string(info.param.name);
                         });

//===----------------------------------------------------------------------===//
// (d) Corrupt plans: one case per validation rule
//===----------------------------------------------------------------------===//

/// A plan folder to corrupt: the MatMul/Add/Relu plan by default.
struct Variant {
  Json plan;
  std::string weights;
  /// Written instead of plan.dump() when set.
  std::optional<std::string> rawJson;
  bool writePlan = true;
  bool writeWeights = true;
};

struct CorruptCase {
  const char *name;
  std::function<void(Variant &)> corrupt;
  /// Expected after "<dir>/plan.json: " in the message.
  const char *expected;
};

/// For gtest's messages: a case prints as its name.
void PrintTo(const CorruptCase &c, std::ostream *os) { *os << c.name; }

const uint64_t kHuge = uint64_t(1) << 62;

const std::vector<CorruptCase> &corruptCases() {
  static const std::vector<CorruptCase> cases = {
      {"BadJson",
       [](Variant &v) { v.rawJson = "{ \"format\": \"loom-plan\", "; },
       "invalid JSON"},
      {"InvalidUtf8",
       [](Variant &v) { v.rawJson = "{ \"format\": \"\xff\" }"; },
       "invalid JSON"},
      {"DeeplyNestedJson",
       [](Variant &v) {
         v.rawJson = std::string(100000, '[') + std::string(100000, ']');
       },
       "expected an object at the top level, got an array"},
      {"TopLevelNotObject", [](Variant &v) { v.rawJson = "42"; },
       "expected an object at the top level, got an integer"},
      {"MissingPlanJson", [](Variant &v) { v.writePlan = false; },
       "no such file"},
      {"WrongFormat", [](Variant &v) { v.plan["format"] = "onnx"; },
       "format: expected \"loom-plan\""},
      {"UnknownVersion", [](Variant &v) { v.plan["version"] = 2; },
       "version: unsupported plan version 2"},
      {"VersionWrongType", [](Variant &v) { v.plan["version"] = "1"; },
       "version: expected an integer, got a string"},
      {"MissingTopLevelKey", [](Variant &v) { v.plan.erase("buffers"); },
       "missing key 'buffers'"},
      {"MissingTaskKey", [](Variant &v) { v.plan["tasks"][0].erase("kernel"); },
       "tasks[0]: missing key 'kernel'"},
      {"WrongTypeQueue", [](Variant &v) { v.plan["tasks"][0]["queue"] = "0"; },
       "tasks[0].queue: expected an integer, got a string"},
      {"WrongTypeTasks", [](Variant &v) { v.plan["tasks"] = Json::object(); },
       "tasks: expected an array, got an object"},
      {"FloatWhereIntegerExpected",
       [](Variant &v) { v.plan["buffers"][3]["offset"] = 64.5; },
       "buffers[3].offset: expected an integer, got a number"},
      {"IdIsNotIndex", [](Variant &v) { v.plan["buffers"][2]["id"] = 5; },
       "buffers[2].id: id 5 must equal the position 2"},
      {"UnknownDtype",
       [](Variant &v) { v.plan["buffers"][1]["dtype"] = "f33"; },
       "buffers[1].dtype: unknown dtype 'f33'"},
      {"NegativeDimension",
       [](Variant &v) { v.plan["buffers"][1]["shape"][0] = -3; },
       "buffers[1].shape[0]: dimension -3 is negative"},
      {"DanglingBufferId",
       [](Variant &v) { v.plan["tasks"][1]["inputs"][1] = 99; },
       "tasks[1].inputs[1]: buffer 99 does not exist"},
      {"DanglingOutputBuffer",
       [](Variant &v) { v.plan["outputs"][0]["buffer"] = 6; },
       "outputs[0].buffer: buffer 6 does not exist"},
      {"DanglingTaskIdInDeps",
       [](Variant &v) { v.plan["tasks"][1]["deps"][0] = 7; },
       "tasks[1].deps[0]: task 7 is not an earlier task"},
      {"DepOnLaterTask",
       [](Variant &v) { v.plan["tasks"][0]["deps"] = Json::array({2}); },
       "tasks[0].deps[0]: task 2 is not an earlier task"},
      {"DanglingDevice",
       [](Variant &v) { v.plan["tasks"][0]["device"] = "gpu"; },
       "tasks[0].device: unknown device 'gpu'"},
      {"QueueOutOfRange", [](Variant &v) { v.plan["tasks"][0]["queue"] = 1; },
       "tasks[0].queue: queue 1 does not exist"},
      {"TaskOnADeviceThatCannotRunIt",
       [](Variant &v) { v.plan["tasks"][1]["cost_us"]["cpu"] = nullptr; },
       "tasks[1].cost_us: no cost on its device 'cpu'"},
      {"EndsBeforeItStarts",
       [](Variant &v) { v.plan["tasks"][2]["end_us"] = 1.5; },
       "tasks[2].end_us: ends at 1.500000 us, before it starts at 2.000000 us"},
      {"StartsBeforeItsDependencyEnds",
       [](Variant &v) { v.plan["tasks"][1]["start_us"] = 0.5; },
       "tasks[1].start_us: starts at 0.500000 us, before its dependency task 0 "
       "ends at 1.000000 us"},
      {"OverlapsOnItsQueue",
       [](Variant &v) {
         // relu0 without its dep (same queue: order suffices) but predicted
         // to start while add0 still runs.
         v.plan["tasks"][2]["deps"] = Json::array();
         v.plan["tasks"][2]["start_us"] = 1.5;
       },
       "tasks[2].start_us: starts at 1.500000 us while task 1 still runs on "
       "cpu[0] until 2.000000 us"},
      {"LiveBuffersShareMemory",
       [](Variant &v) { v.plan["buffers"][4]["offset"] = 64; },
       "buffers[4]: bytes [64, 96) of arena 'cpu' overlap buffer 3 [64, 96) "
       "while both are live (tasks 1..2 and 0..1)"},
      {"RacyReadAcrossQueues",
       [](Variant &v) {
         // The Add moves to a second queue and forgets its MatMul dep.
         v.plan["devices"][0]["queues"] = 2;
         v.plan["tasks"][1]["queue"] = 1;
         v.plan["tasks"][1]["deps"] = Json::array();
         v.plan["tasks"][2]["deps"] = Json::array({1});
         v.plan["events"] = Json::array(
             {Json{{"id", 0}, {"task", 1}, {"waiters", Json::array({2})}}});
       },
       "tasks[1].inputs[0]: reads buffer"},
      {"TooManyQueues",
       [](Variant &v) { v.plan["devices"][0]["queues"] = 1000000000; },
       "devices[0].queues: queue count 1000000000 is too large"},
      {"DanglingArena",
       [](Variant &v) { v.plan["buffers"][3]["arena"] = "sram"; },
       "buffers[3].arena: unknown arena 'sram'"},
      {"DeviceArenaUnknown",
       [](Variant &v) { v.plan["devices"][0]["arena"] = "npu"; },
       "devices[0].arena: unknown arena 'npu'"},
      {"ArenaOfAnotherDevice",
       [](Variant &v) { v.plan["arenas"][0]["device"] = "gpu"; },
       "devices[0].arena: arena 'cpu' belongs to device 'gpu', not 'cpu'"},
      {"DuplicateDeviceName",
       [](Variant &v) { v.plan["devices"].push_back(v.plan["devices"][0]); },
       "devices[1].name: duplicate device name 'cpu'"},
      {"BufferOutsideArena",
       [](Variant &v) { v.plan["buffers"][5]["offset"] = 256; },
       "buffers[5]: bytes [256, 288) lie outside arena 'cpu' (peak_bytes 224)"},
      {"BufferOutsideWeights",
       [](Variant &v) { v.plan["buffers"][2]["offset"] = 128; },
       "buffers[2]: bytes [128, 144) lie outside the weights file (size_bytes "
       "80)"},
      {"MisalignedOffset",
       [](Variant &v) { v.plan["buffers"][3]["offset"] = 65; },
       "buffers[3].offset: 65 is not a multiple of the alignment 64"},
      {"SizeBytesMismatch",
       [](Variant &v) { v.plan["buffers"][3]["size_bytes"] = 20; },
       "buffers[3].size_bytes: 20 does not match 8 elements x 4 bytes = 32"},
      {"HugeOffset", [](Variant &v) { v.plan["buffers"][3]["offset"] = kHuge; },
       "buffers[3].offset: offset 4611686018427387904 is too large"},
      {"OffsetBeyondInt64",
       [](Variant &v) {
         v.plan["buffers"][3]["offset"] = uint64_t(18446744073709551552ull);
       },
       "buffers[3].offset: 18446744073709551552 is out of range"},
      {"ShapeProductOverflows",
       [](Variant &v) {
         v.plan["buffers"][3]["shape"] =
             Json::array({int64_t(1) << 40, int64_t(1) << 40});
       },
       "buffers[3].shape: tensor is too large"},
      {"OffsetPlusSizePastArenaEnd",
       [](Variant &v) {
         // Each value alone is allowed; the end lies past the arena.
         v.plan["arenas"][0]["peak_bytes"] = (uint64_t(1) << 48) - 64;
         v.plan["buffers"][5]["offset"] = (uint64_t(1) << 48) - 64;
       },
       "buffers[5]: bytes [281474976710592, 281474976710624) lie outside arena "
       "'cpu'"},
      {"NegativePeakBytes",
       [](Variant &v) { v.plan["arenas"][0]["peak_bytes"] = -1; },
       "arenas[0].peak_bytes: size -1 is negative"},
      {"AlignmentNotPowerOfTwo",
       [](Variant &v) { v.plan["arenas"][0]["alignment"] = 48; },
       "arenas[0].alignment: alignment 48 is not a power of two"},
      {"WeightsTruncated", [](Variant &v) { v.weights.resize(79); },
       "weights.size_bytes: 80, but"},
      {"WeightsOversized", [](Variant &v) { v.weights.push_back('\0'); },
       "weights.size_bytes: 80, but"},
      {"WeightsMissing", [](Variant &v) { v.writeWeights = false; },
       "weights.file: weights file"},
      {"WeightsPathEscapes",
       [](Variant &v) { v.plan["weights"]["file"] = "../../w.bin"; },
       "weights.file: '../../w.bin' is not a file name relative to the plan's "
       "folder"},
      {"WeightsPathIntoSibling",
       [](Variant &v) { v.plan["weights"]["file"] = "../other/w.bin"; },
       "weights.file: '../other/w.bin' is not a file name relative to the "
       "plan's folder (or '../NAME'"},
      {"WeightsPathAbsolute",
       [](Variant &v) { v.plan["weights"]["file"] = "/tmp/w.bin"; },
       "weights.file: '/tmp/w.bin' is not a file name"},
      // One level up is a generation program's shared weights: allowed,
      // and then checked like any weights file.
      {"SharedWeightsMissing",
       [](Variant &v) { v.plan["weights"]["file"] = "../shared-w.bin"; },
       "weights.file: weights file"},
      {"TaskWritesWeights",
       [](Variant &v) { v.plan["tasks"][2]["outputs"][0] = 1; },
       "tasks[2].outputs[0]: buffer 1 is a weights buffer"},
      {"TaskWritesInput",
       [](Variant &v) { v.plan["tasks"][2]["outputs"][0] = 0; },
       "tasks[2].outputs[0]: buffer 0 holds a graph input"},
      {"OutputNeverWritten",
       [](Variant &v) {
         v.plan["arenas"][0]["peak_bytes"] = 288;
         v.plan["buffers"].push_back(
             bufferJson(6, "z", "cpu", 256, "f32", {2, 4}));
         v.plan["outputs"][0]["buffer"] = 6;
       },
       "outputs[0].buffer: buffer 6 is never written"},
      {"OutputTypeMismatch",
       [](Variant &v) { v.plan["outputs"][0]["dtype"] = "f16"; },
       "outputs[0]: declared as f16[2,4] but buffer 5 is f32[2,4]"},
      {"InputOverlapsBuffer",
       [](Variant &v) { v.plan["buffers"][3]["offset"] = 0; },
       "inputs[0].buffer: buffer 0 overlaps buffer 3"},
      {"FoldedInputInArena",
       [](Variant &v) { v.plan["inputs"][0]["folded"] = true; },
       "inputs[0].buffer: a folded input must name a weights buffer"},
      {"TwoInputsInOneBuffer",
       [](Variant &v) {
         v.plan["inputs"].push_back(v.plan["inputs"][0]);
         v.plan["inputs"][1]["name"] = "x2";
       },
       "inputs[1].buffer: buffer 0 is also the buffer of inputs[0]"},
      {"FoldedWrongType", [](Variant &v) { v.plan["inputs"][0]["folded"] = 1; },
       "inputs[0].folded: expected a boolean, got an integer"},
      {"CrossQueueDepWithoutEvent",
       [](Variant &v) {
         v.plan["devices"][0]["queues"] = 2;
         v.plan["tasks"][1]["queue"] = 1;
       },
       "tasks[1].deps[0]: cross-queue dependency on task 0 has no event"},
      {"EventOnSameQueue",
       [](Variant &v) {
         v.plan["events"].push_back(
             Json{{"id", 0}, {"task", 0}, {"waiters", Json::array({1})}});
       },
       "events[0].waiters[0]: task 1 runs on the same queue as task 0"},
      {"DanglingEventTask",
       [](Variant &v) {
         v.plan["events"].push_back(
             Json{{"id", 0}, {"task", 9}, {"waiters", Json::array({1})}});
       },
       "events[0].task: task 9 does not exist"},
      {"TransferShapeMismatch",
       [](Variant &v) {
         Json &t = v.plan["tasks"][2];
         t["kind"] = "transfer";
         t["kernel"] = "copy";
         t["inputs"] = Json::array({0});
       },
       "tasks[2]: a transfer copies between buffers of one dtype and shape"},
      {"UnknownTaskKind",
       [](Variant &v) { v.plan["tasks"][0]["kind"] = "magic"; },
       "tasks[0].kind: unknown task kind 'magic'"},
      {"BadHexInTensorAttr",
       [](Variant &v) {
         v.plan["tasks"][2]["attrs"] = Json{{"t",
                                             {{"tensor",
                                               {{"dtype", "f32"},
                                                {"shape", Json::array({1})},
                                                {"hex", "00zz803f"}}}}}};
       },
       "tasks[2].attrs.t.tensor.hex: invalid hex digit at position 2"},
      {"HexLengthInTensorAttr",
       [](Variant &v) {
         v.plan["tasks"][2]["attrs"] = Json{{"t",
                                             {{"tensor",
                                               {{"dtype", "f32"},
                                                {"shape", Json::array({2})},
                                                {"hex", "0000803f"}}}}}};
       },
       "tasks[2].attrs.t.tensor.hex: has 8 hex digits, expected 16"},
      {"UnknownAttrKind",
       [](Variant &v) {
         v.plan["tasks"][2]["attrs"] = Json{{"a", {{"integer", 1}}}};
       },
       "tasks[2].attrs.a.integer: unknown attribute kind 'integer'"},
      {"AttrWithTwoKinds",
       [](Variant &v) {
         v.plan["tasks"][2]["attrs"] =
             Json{{"a", {{"int", 1}, {"float", 1.0}}}};
       },
       "tasks[2].attrs.a: an attribute value must have exactly one key"},
      {"PrecisionNotAReducedFloat",
       [](Variant &v) { v.plan["tasks"][1]["precision"] = "i8"; },
       "tasks[1].precision: 'i8' is no reduced float precision (bf16 or f16)"},
      {"PrecisionUnknownType",
       [](Variant &v) { v.plan["tasks"][1]["precision"] = "bf8"; },
       "tasks[1].precision: unknown dtype 'bf8'"},
      {"UnknownKernel",
       [](Variant &v) { v.plan["tasks"][1]["kernel"] = "frobnicate"; },
       "tasks[1].kernel: task 1 'add0': no kernel named 'frobnicate'"},
  };
  return cases;
}

class CorruptPlanTest : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(CorruptPlanTest, LoadFailsNamingFileAndPath) {
  const CorruptCase &c = GetParam();
  MlpData data;
  PlanFiles base = mlpPlan(data.w, data.b);
  Variant v{base.plan, base.weights, std::nullopt, true, true};
  c.corrupt(v);
  TempDir tmp;
  fs::path dir = tmp.sub("plan");
  if (v.writePlan)
    writeFile(dir / "plan.json",
              v.rawJson ? *v.rawJson : v.plan.dump(2) + "\n");
  if (v.writeWeights)
    writeFile(dir / "weights.bin", v.weights);
  expectLoadError(dir, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Rules, CorruptPlanTest,
                         ::testing::ValuesIn(corruptCases()),
                         [](const ::testing::TestParamInfo<CorruptCase> &info) {
                           return std::string(info.param.name);
                         });

TEST(PlanLoad, ArenaThatCannotBeAllocatedIsALoadError) {
  MlpData data;
  PlanFiles f = mlpPlan(data.w, data.b);
  f.plan["arenas"][0]["peak_bytes"] = uint64_t(1) << 48; // 256 TiB
  TempDir tmp;
  fs::path dir = tmp.sub("plan");
  writePlanDir(dir, f.plan, f.weights);
  std::string err = errorOf<PlanError>([&] { Session::load(dir.string()); });
  if (err.empty())
    GTEST_SKIP() << "this system maps 256 TiB of anonymous memory";
  EXPECT_NE(err.find((dir / "plan.json").string() +
                     ": arenas[0]: cannot allocate 281474976710656 bytes for "
                     "arena 'cpu'"),
            std::string::npos)
      << err;
}

TEST(PlanLoad, ValidPlansHaveNoErrors) {
  // The base of every corrupt case, and the other plans of this file, load.
  MlpData data;
  for (const PlanFiles &f :
       {mlpPlan(data.w, data.b), multiQueuePlan(), foldedPlan(), viewPlan(),
        ifPlan(), ifPlan(true), loopPlan(2, 10, true), loopPlan(2, 10, false),
        nestedPlan(2, 10)}) {
    TempDir tmp;
    EXPECT_NO_THROW(loadFiles(tmp, f));
  }
}

} // namespace
