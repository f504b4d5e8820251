//===- StateTest.cpp - State buffers: validation, runtime, sharing --------===//
//
// A hand-written plan with one state buffer, the shape of a one-layer KV
// cache [1, 2, 4, 3] (batch, heads, slots, head): task 0 `state_write`s the
// input x [1, 2, 1, 3] into slot 3 (the tail), task 1 copies the whole state
// into the output y. The expected bytes are built here slot by slot. Then
// the Session API (states, stateStorage, resetStates), sharing between two
// sessions, one corrupt variant per validation rule of the state, and the
// position arithmetic of generation programs (GenerationRules.h).
//
//===----------------------------------------------------------------------===//
#include "PlanTestUtil.h"

#include "loom/Runtime/GenerationRules.h"
#include "loom/Runtime/Plan.h"
#include "loom/Runtime/Session.h"

#include <gtest/gtest.h>

using namespace loom::rt;
using namespace loom::rt::test;

namespace {

constexpr int64_t kHeads = 2, kSlots = 4, kHead = 3;

/// Buffers: 0 x (cpu), 1 kv (state), 2 y (cpu).
Json statePlan(int64_t offset = kSlots - 1) {
  Json p = planSkeleton(0);
  addDevice(p, "cpu", "cpu", 1, 256);
  p["buffers"].push_back(bufferJson(0, "x", "cpu", 0, "f32", {1, kHeads, 1, kHead}));
  p["buffers"].push_back(
      bufferJson(1, "kv", "state", 0, "f32", {1, kHeads, kSlots, kHead}));
  p["buffers"].push_back(
      bufferJson(2, "y", "cpu", 64, "f32", {1, kHeads, kSlots, kHead}));
  p["inputs"].push_back(valueJson("x", 0, "f32", {1, kHeads, 1, kHead}));
  p["outputs"].push_back(valueJson("y", 2, "f32", {1, kHeads, kSlots, kHead}));
  p["outputs"].push_back(valueJson("kv", 1, "f32", {1, kHeads, kSlots, kHead}));
  p["state"] = Json::array({Json{{"name", "kv"}, {"buffer", 1}}});
  p["tasks"].push_back(taskJson(
      0, "write", "kernel", "cpu", 0, "state_write", {0}, {1}, Json::array(),
      Json{{"axis", {{"int", 2}}}, {"offset", {{"int", offset}}}}));
  p["tasks"].push_back(
      taskJson(1, "read", "kernel", "cpu", 0, "identity", {1}, {2}, {0}));
  p["makespan_us"] = 2.0;
  return p;
}

fs::path writeStatePlan(const TempDir &tmp, const std::string &sub,
                        const Json &plan) {
  fs::path dir = tmp.sub(sub);
  writePlanDir(dir, plan, "");
  return dir;
}

/// x for run `r`: head h, element e = 100 r + 10 h + e.
std::vector<float> xValues(int r) {
  std::vector<float> x;
  for (int h = 0; h < kHeads; ++h)
    for (int e = 0; e < kHead; ++e)
      x.push_back(float(100 * r + 10 * h + e));
  return x;
}

/// The state after `x` written into slot `slot` of `state`.
std::vector<float> withSlot(std::vector<float> state,
                            const std::vector<float> &x, int slot) {
  for (int h = 0; h < kHeads; ++h)
    for (int e = 0; e < kHead; ++e)
      state[size_t((h * kSlots + slot) * kHead + e)] = x[size_t(h * kHead + e)];
  return state;
}

std::vector<float> stateOf(Session &s) {
  std::vector<float> out(size_t(kHeads * kSlots * kHead));
  std::memcpy(out.data(), s.stateStorage(0), out.size() * sizeof(float));
  return out;
}

TEST(PlanState, WriteInPlaceKeepsTheRestAcrossRuns) {
  TempDir tmp;
  auto s = Session::load(writeStatePlan(tmp, "p", statePlan()).string());
  ASSERT_EQ(s->states().size(), 1u);
  EXPECT_EQ(s->states()[0].name, "kv");
  EXPECT_EQ(s->states()[0].shape, (Shape{1, kHeads, kSlots, kHead}));
  EXPECT_EQ(s->findState("kv"), std::optional<size_t>(0));
  EXPECT_EQ(s->findState("x"), std::nullopt);
  // Zeroed at load.
  std::vector<float> want(size_t(kHeads * kSlots * kHead), 0.0f);
  EXPECT_EQ(stateOf(*s), want);

  s->setInput("x", f32Tensor({1, kHeads, 1, kHead}, xValues(1)));
  s->run();
  want = withSlot(want, xValues(1), 3);
  EXPECT_EQ(floatsOf(s->getOutput("y")), want);
  EXPECT_EQ(floatsOf(s->getOutput("kv")), want);

  // A caller moves the entry to slot 0 between runs (as the Generator
  // does); the next run writes the tail again and sees slot 0 kept.
  want = withSlot(want, xValues(1), 0);
  std::memcpy(s->stateStorage(0), want.data(), want.size() * sizeof(float));
  s->setInput("x", f32Tensor({1, kHeads, 1, kHead}, xValues(2)));
  s->run();
  want = withSlot(want, xValues(2), 3);
  EXPECT_EQ(floatsOf(s->getOutput("y")), want);

  s->resetStates();
  EXPECT_EQ(stateOf(*s),
            std::vector<float>(size_t(kHeads * kSlots * kHead), 0.0f));
  EXPECT_THROW(s->stateStorage(1), SessionError);
}

TEST(PlanState, SessionsShareStateByName) {
  TempDir tmp;
  fs::path a = writeStatePlan(tmp, "a", statePlan());
  // The second plan writes slot 1 instead of the tail.
  fs::path b = writeStatePlan(tmp, "b", statePlan(1));
  auto sa = Session::load(a.string());
  auto sb = Session::loadSharing(b.string(), *sa);
  auto own = Session::loadSharing(b.string(), *sa, {},
                                  Session::Sharing::Weights);
  sa->setInput("x", f32Tensor({1, kHeads, 1, kHead}, xValues(1)));
  sa->run();
  sb->setInput("x", f32Tensor({1, kHeads, 1, kHead}, xValues(2)));
  sb->run();
  std::vector<float> want(size_t(kHeads * kSlots * kHead), 0.0f);
  want = withSlot(withSlot(want, xValues(1), 3), xValues(2), 1);
  // b's run saw a's write, and a sees b's.
  EXPECT_EQ(floatsOf(sb->getOutput("y")), want);
  EXPECT_EQ(stateOf(*sa), want);
  // Weights-only sharing keeps a state of its own.
  EXPECT_EQ(stateOf(*own),
            std::vector<float>(size_t(kHeads * kSlots * kHead), 0.0f));
  // The shared storage outlives the session that made it.
  sa.reset();
  EXPECT_EQ(stateOf(*sb), want);
}

TEST(PlanState, SharingAStateOfAnotherShapeIsALoadError) {
  TempDir tmp;
  fs::path a = writeStatePlan(tmp, "a", statePlan());
  Json other = statePlan();
  other["buffers"][1] =
      bufferJson(1, "kv", "state", 0, "f32", {1, kHeads, kSlots + 1, kHead});
  other["buffers"][2]["shape"] = {1, kHeads, kSlots + 1, kHead};
  other["buffers"][2]["size_bytes"] = 4 * kHeads * (kSlots + 1) * kHead;
  other["arenas"][0]["peak_bytes"] = 512;
  other["outputs"][0]["shape"] = {1, kHeads, kSlots + 1, kHead};
  other["outputs"][1]["shape"] = {1, kHeads, kSlots + 1, kHead};
  fs::path b = writeStatePlan(tmp, "b", other);
  auto sa = Session::load(a.string());
  try {
    Session::loadSharing(b.string(), *sa);
    FAIL() << "loaded";
  } catch (const PlanError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  (b / "plan.json").string() +
                  ": state[0]: state 'kv' is f32[1,2,5,3] here but "
                  "f32[1,2,4,3] in " +
                  (a / "plan.json").string()),
              std::string::npos)
        << e.what();
  }
}

TEST(PlanState, AWriteOutsideTheStateIsARunError) {
  TempDir tmp;
  auto s = Session::load(writeStatePlan(tmp, "p", statePlan(4)).string());
  s->setInput("x", f32Tensor({1, kHeads, 1, kHead}, xValues(1)));
  try {
    s->run();
    FAIL() << "ran";
  } catch (const SessionError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "the update's 1 entries at offset 4 do not fit the state's 4"),
              std::string::npos)
        << e.what();
  }
}

struct StateCase {
  const char *name;
  std::function<void(Json &)> corrupt;
  const char *expected;
};
void PrintTo(const StateCase &c, std::ostream *os) { *os << c.name; }

const std::vector<StateCase> &stateCases() {
  static const std::vector<StateCase> cases = {
      {"Unlisted", [](Json &p) { p["state"] = Json::array(); },
       "buffers[1].arena: buffer 1 lies in arena 'state' but no entry of "
       "'state' names it"},
      {"NotAStateBuffer",
       [](Json &p) { p["state"][0]["buffer"] = 2; },
       "state[0].buffer: buffer 2 lies in arena 'cpu', not 'state'"},
      {"MissingBuffer", [](Json &p) { p["state"][0]["buffer"] = 9; },
       "state[0].buffer: buffer 9 does not exist"},
      {"NoName", [](Json &p) { p["state"][0]["name"] = ""; },
       "state[0].name: a state buffer needs a name"},
      {"TwiceListed",
       [](Json &p) { p["state"].push_back(Json{{"name", "kv2"}, {"buffer", 1}}); },
       "state[1].buffer: buffer 1 is also state[0]"},
      {"DuplicateName",
       [](Json &p) {
         p["buffers"].push_back(bufferJson(3, "kv2", "state", 0, "f32", {2}));
         p["state"].push_back(Json{{"name", "kv"}, {"buffer", 3}});
       },
       "state[1].name: duplicate state name 'kv'"},
      {"Offset", [](Json &p) { p["buffers"][1]["offset"] = 64; },
       "buffers[1].offset: 64; a state buffer is its own block and has "
       "offset 0"},
      {"View",
       [](Json &p) {
         Json v = bufferJson(3, "kv[0]", "state", 0, "f32", {2});
         v["view_of"] = 1;
         p["buffers"].push_back(v);
       },
       "buffers[3].view_of: a state buffer cannot be a view"},
      {"Input",
       [](Json &p) {
         p["inputs"].push_back(
             valueJson("kv_in", 1, "f32", {1, kHeads, kSlots, kHead}));
       },
       "inputs[1].buffer: buffer 1 is a state buffer; a state buffer holds "
       "its own value and is no input"},
      {"ReservedArenaName",
       [](Json &p) {
         p["devices"][0]["arena"] = "state";
         p["arenas"][0]["name"] = "state";
       },
       "arenas[0].name: 'state' is reserved for the state buffers"},
  };
  return cases;
}

class CorruptStateTest : public ::testing::TestWithParam<StateCase> {};

TEST_P(CorruptStateTest, LoadFailsNamingFileAndPath) {
  const StateCase &c = GetParam();
  Json plan = statePlan();
  c.corrupt(plan);
  TempDir tmp;
  fs::path dir = writeStatePlan(tmp, "p", plan);
  try {
    Session::load(dir.string());
    FAIL() << "the corrupt plan loaded";
  } catch (const PlanError &e) {
    std::string want = (dir / "plan.json").string() + ": " + c.expected;
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << want;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, CorruptStateTest,
                         ::testing::ValuesIn(stateCases()),
                         [](const ::testing::TestParamInfo<StateCase> &info) {
                           return std::string(info.param.name);
                         });

} // namespace

namespace {

namespace gen = loom::rt::generation;

/// The KV position arithmetic of generation programs: a run of n tokens at
/// position p sits in the last n of a context's c slots, so it needs
/// c >= p + n.
TEST(GenerationRules, ARunNeedsItsTailAfterTheCachedSlots) {
  EXPECT_EQ(gen::capacityNeeded(0, 8), 8);   // the first chunk
  EXPECT_EQ(gen::capacityNeeded(8, 8), 16);  // the second
  EXPECT_EQ(gen::capacityNeeded(63, 1), 64); // the last decode step of 64
}

TEST(GenerationRules, WhenAChunkRunsAsDecodeSteps) {
  // A full chunk always runs as a prefill run where one fits.
  EXPECT_FALSE(gen::chunkAsDecodeSteps(0, 8, 8, 64, 1.0, 100.0));
  // A short chunk: whichever the plans predict cheaper (ties: prefill).
  EXPECT_TRUE(gen::chunkAsDecodeSteps(16, 2, 8, 64, 1.0, 3.0));
  EXPECT_FALSE(gen::chunkAsDecodeSteps(16, 2, 8, 64, 1.5, 3.0));
  EXPECT_FALSE(gen::chunkAsDecodeSteps(16, 5, 8, 64, 1.0, 3.0));
  // No context holds a prefill run at 56 of a context of 60: decode steps
  // however cheap the chunk.
  EXPECT_TRUE(gen::chunkAsDecodeSteps(56, 2, 8, 60, 100.0, 1.0));
  EXPECT_FALSE(gen::chunkAsDecodeSteps(56, 2, 8, 64, 100.0, 1.0));
}

} // namespace
