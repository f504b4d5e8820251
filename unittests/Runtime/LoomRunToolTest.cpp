//===- LoomRunToolTest.cpp - loom-run's behaviour and exit codes ----------===//
//
// Runs the loom-run binary (LOOM_RUN_PATH) through std::system on plan
// folders and TensorProto test data written here: 0 when the outputs match,
// 1 on a mismatch, 2 on usage errors and on corrupt plans or weights.
//
//===----------------------------------------------------------------------===//
#include "PlanTestUtil.h"

#include "loom/Runtime/Float16.h"
#include "loom/Runtime/TensorProtoIO.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

using namespace loom::rt;
using namespace loom::rt::test;

namespace {

struct ToolResult {
  int exitCode = -1;
  std::string out, err;
};

std::string readText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

/// Runs `loom-run ARGS` with stdout/stderr captured in files under `tmp`.
ToolResult runTool(const TempDir &tmp, const std::string &args) {
  fs::path out = tmp.path() / "stdout.txt", err = tmp.path() / "stderr.txt";
  std::string cmd = std::string("'") + LOOM_RUN_PATH + "' " + args + " >'" +
                    out.string() + "' 2>'" + err.string() + "'";
  int status = std::system(cmd.c_str());
  ToolResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = readText(out);
  r.err = readText(err);
  return r;
}

std::string q(const fs::path &p) { return "'" + p.string() + "'"; }

/// The MatMul/Add/Relu plan in tmp/plan and test data in tmp/data for input
/// `x`, with expected output `want` (the correct one unless overridden).
struct MlpFixture {
  MlpData data;
  std::vector<float> x = {1, 2, 3, -1, 0.5f, 4};
  fs::path plan, testData;

  explicit MlpFixture(const TempDir &tmp,
                      std::optional<std::vector<float>> want = std::nullopt) {
    plan = tmp.sub("plan");
    testData = tmp.sub("data");
    PlanFiles f = mlpPlan(data.w, data.b);
    writePlanDir(plan, f.plan, f.weights);
    writeTensorFile(f32Tensor({2, 3}, x), (testData / "input_0.pb").string());
    writeTensorFile(f32Tensor({2, 4}, want ? *want : data.expected(x)),
                    (testData / "output_0.pb").string());
  }
};

TEST(LoomRun, HelpExitsZeroAndExplainsEveryOption) {
  TempDir tmp;
  ToolResult r = runTool(tmp, "--help");
  EXPECT_EQ(r.exitCode, 0);
  for (const char *opt :
       {"--test-data", "--input", "--random-inputs", "--output-dir", "--rtol",
        "--atol", "--repeat", "--threads", "--profile", "--quiet",
        "exit codes"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

TEST(LoomRun, MatchingOutputsExitZero) {
  TempDir tmp;
  MlpFixture fx(tmp);
  ToolResult r = runTool(tmp, q(fx.plan) + " --test-data " + q(fx.testData));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("y  f32[2,4]  max abs err"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  ok\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  // --quiet prints nothing when everything matches.
  r = runTool(tmp, q(fx.plan) + " --test-data=" + q(fx.testData) + " --quiet");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(LoomRun, MismatchExitsOneAndSaysWhich) {
  TempDir tmp;
  MlpData data;
  std::vector<float> wrong = data.expected({1, 2, 3, -1, 0.5f, 4});
  wrong[5] += 1.0f;
  MlpFixture fx(tmp, wrong);
  ToolResult r = runTool(tmp, q(fx.plan) + " --test-data " + q(fx.testData));
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.out.find("MISMATCH (1 of 8 elements; first at 5: got"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("1 of 1 outputs differ from the expected outputs: 'y'"),
            std::string::npos)
      << r.err;
  // A tolerance that covers the difference makes it pass.
  r = runTool(tmp,
              q(fx.plan) + " --test-data " + q(fx.testData) + " --atol 1.5");
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}

TEST(LoomRun, CorruptPlanExitsTwoWithTheLoaderMessage) {
  TempDir tmp;
  MlpFixture fx(tmp);
  MlpData data;
  PlanFiles f = mlpPlan(data.w, data.b);
  f.plan["tasks"][1]["inputs"][1] = 99;
  writePlanDir(fx.plan, f.plan, f.weights);
  ToolResult r = runTool(tmp, q(fx.plan) + " --test-data " + q(fx.testData));
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_EQ(r.err,
            "loom-run: error: " + (fx.plan / "plan.json").string() +
                ": tasks[1].inputs[1]: buffer 99 does not exist (the plan "
                "has 6 buffers)\n");

  writeFile(fx.plan / "plan.json", "{\"format\": [");
  r = runTool(tmp, q(fx.plan) + " --test-data " + q(fx.testData));
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("plan.json: invalid JSON"), std::string::npos) << r.err;
}

TEST(LoomRun, TruncatedWeightsExitTwo) {
  TempDir tmp;
  MlpFixture fx(tmp);
  writeFile(fx.plan / "weights.bin", std::string(40, '\0'));
  ToolResult r = runTool(tmp, q(fx.plan) + " --test-data " + q(fx.testData));
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("plan.json: weights.size_bytes: 80, but"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("has 40 bytes"), std::string::npos) << r.err;
}

TEST(LoomRun, UsageErrorsExitTwo) {
  TempDir tmp;
  MlpFixture fx(tmp);
  struct Case {
    std::string args, message;
  } cases[] = {
      {"", "missing the plan folder"},
      {q(fx.plan) + " --bogus", "unknown option '--bogus'"},
      {q(fx.plan) + " --rtol", "--rtol expects a value"},
      {q(fx.plan) + " --rtol abc", "--rtol expects a non-negative number"},
      {q(fx.plan) + " --repeat -1", "--repeat expects an integer"},
      {q(fx.plan) + " --input x", "--input expects NAME=FILE.pb"},
      {q(fx.plan), "no value for input(s) 'x'"},
      {q(fx.plan) + " --input nope=" + q(fx.testData / "input_0.pb"),
       "the plan has no input 'nope' (inputs: 'x')"},
      {q(fx.plan) + " --input x=" + q(fx.testData / "output_0.pb"),
       "input 'x': expected f32[2,3], got f32[2,4]"},
      {q(tmp.path() / "nowhere"), "not a plan folder"},
  };
  for (const Case &c : cases) {
    ToolResult r = runTool(tmp, c.args);
    EXPECT_EQ(r.exitCode, 2) << c.args;
    EXPECT_EQ(r.err.rfind("loom-run: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos)
        << c.args << ": " << r.err;
  }
}

TEST(LoomRun, InputsOutputDirProfileAndRepeat) {
  TempDir tmp;
  MlpFixture fx(tmp);
  // --input overrides the test data's input_0.pb.
  std::vector<float> x2 = {-1, 0, 2, 3, 1, -2};
  fs::path x2File = tmp.path() / "x2.pb";
  writeTensorFile(f32Tensor({2, 3}, x2), x2File.string());
  fs::path outDir = tmp.path() / "out" / "nested";
  fs::path profile = tmp.path() / "trace.json";
  ToolResult r = runTool(tmp, q(fx.plan) + " --input x=" + q(x2File) +
                                  " --output-dir " + q(outDir) + " --profile " +
                                  q(profile) + " --repeat 3 --threads 2");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  // Nothing to compare with: the line shows the first values.
  EXPECT_NE(r.out.find("y  f32[2,4]  ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency over 3 runs: median "), std::string::npos)
      << r.out;

  Tensor y = readTensorFile((outDir / "output_0.pb").string());
  EXPECT_EQ(y.shape, (Shape{2, 4}));
  std::vector<float> got = floatsOf(y), want = fx.data.expected(x2);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-5) << i;

  Json trace = Json::parse(readText(profile));
  ASSERT_TRUE(trace.contains("traceEvents"));
  std::vector<std::string> names;
  for (const Json &e : trace["traceEvents"]) {
    if (e["ph"] != "X")
      continue;
    names.push_back(e["name"]);
    EXPECT_EQ(e["pid"], 0);
    EXPECT_EQ(e["tid"], 0);
    EXPECT_GE(e["dur"].get<double>(), 0.0);
    // Keys in a fixed order.
    std::vector<std::string> keys;
    for (auto it = e.begin(); it != e.end(); ++it)
      keys.push_back(it.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"name", "cat", "ph", "pid", "tid",
                                              "ts", "dur", "args"}));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"matmul0", "add0", "relu0"}));
}

TEST(LoomRun, FoldedInputInTestDataIsCheckedNotCopied) {
  TempDir tmp;
  PlanFiles f = foldedPlan(); // y = x + z, x = {1, 2} folded
  fs::path plan = tmp.sub("plan"), data = tmp.sub("data");
  writePlanDir(plan, f.plan, f.weights);
  writeTensorFile(f32Tensor({2}, {10, 20}), (data / "input_1.pb").string());
  writeTensorFile(f32Tensor({2}, {11, 22}), (data / "output_0.pb").string());
  // Without input_0.pb: the folded value is used.
  ToolResult r = runTool(tmp, q(plan) + " --test-data " + q(data));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  // With the folded value: accepted.
  writeTensorFile(f32Tensor({2}, {1, 2}), (data / "input_0.pb").string());
  r = runTool(tmp, q(plan) + " --test-data " + q(data));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  // With another value: an error, not a silent copy.
  writeTensorFile(f32Tensor({2}, {1, 5}), (data / "input_0.pb").string());
  r = runTool(tmp, q(plan) + " --test-data " + q(data));
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("input_0.pb: input 'x' was folded into the plan"),
            std::string::npos)
      << r.err;
}

TEST(LoomRun, Bf16TestDataStoredAsUint16IsRetagged) {
  // y = identity(x) over bf16[3]; the test data stores bf16 as u16.
  PlanFiles f;
  f.plan = planSkeleton(0);
  addDevice(f.plan, "cpu", "cpu", 1, 128);
  f.plan["buffers"] = Json::array({bufferJson(0, "x", "cpu", 0, "bf16", {3}),
                                   bufferJson(1, "y", "cpu", 64, "bf16", {3})});
  f.plan["inputs"] = Json::array({valueJson("x", 0, "bf16", {3})});
  f.plan["outputs"] = Json::array({valueJson("y", 1, "bf16", {3})});
  f.plan["tasks"].push_back(taskJson(0, "id", "kernel", "cpu", 0, "identity",
                                     Json::array({0}), Json::array({1}),
                                     Json::array()));
  TempDir tmp;
  fs::path plan = tmp.sub("plan"), data = tmp.sub("data");
  writePlanDir(plan, f.plan, "");
  std::vector<uint16_t> bits = {floatToBf16Bits(1.5f), floatToBf16Bits(-2.0f),
                                floatToBf16Bits(0.25f)};
  Tensor t = makeTensor(DType::U16, {3}, rawBytes(bits));
  writeTensorFile(t, (data / "input_0.pb").string());
  writeTensorFile(t, (data / "output_0.pb").string());
  ToolResult r = runTool(tmp, q(plan) + " --test-data " + q(data));
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("y  bf16[3]"), std::string::npos) << r.out;
}

} // namespace
