//===- ProblemTest.cpp - check(), verify() and lowerBound() ---------------===//
//
// check() rejects each kind of malformed problem; verify() accepts a
// hand-made valid schedule and rejects one broken variant per rule;
// lowerBound() on problems whose bound is derived by hand.
//
//===----------------------------------------------------------------------===//
#include "loom/Partition/Problem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace loom::partition;

namespace {

constexpr auto none = std::nullopt;

/// Every transfer takes `us` µs.
TransferFn flat(double us) {
  return [us](int, int, uint64_t) { return us; };
}

Task task(std::string name, std::vector<std::optional<double>> cost,
          uint64_t outputBytes = 100) {
  return Task{std::move(name), std::move(cost), outputBytes, std::nullopt};
}

//===----------------------------------------------------------------------===//
// check()
//===----------------------------------------------------------------------===//

/// cpu + gpu, a -> b, 5 µs transfers: well formed.
Problem smallProblem() {
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("a", {1.0, 2.0}), task("b", {1.0, none})};
  p.edges = {{0, 1, 64}};
  p.transfer = flat(5);
  return p;
}

TEST(PartitionCheck, AcceptsWellFormedProblem) {
  EXPECT_EQ(smallProblem().check(), "");
}

TEST(PartitionCheck, RejectsNoDevice) {
  Problem p;
  EXPECT_EQ(p.check(), "problem has no device");
}

TEST(PartitionCheck, RejectsDeviceWithoutQueue) {
  Problem p = smallProblem();
  p.devices[1].queues = 0;
  EXPECT_EQ(p.check(), "device 'gpu' (1) has no queue");
}

TEST(PartitionCheck, RejectsWrongNumberOfCosts) {
  Problem p = smallProblem();
  p.tasks[0].cost.push_back(3.0);
  EXPECT_EQ(p.check(), "task 'a' (0) has 3 costs for 2 devices");
}

TEST(PartitionCheck, RejectsNegativeOrNonFiniteCost) {
  Problem p = smallProblem();
  p.tasks[0].cost[1] = -1.0;
  EXPECT_EQ(p.check(),
            "task 'a' (0) has a negative or non-finite cost on device 'gpu' "
            "(1)");
  p.tasks[0].cost[1] = std::nan("");
  EXPECT_NE(p.check(), "");
}

TEST(PartitionCheck, RejectsTaskNoDeviceCanRun) {
  Problem p = smallProblem();
  p.tasks[1].cost = {none, none};
  EXPECT_EQ(p.check(), "task 'b' (1) cannot run on any device");
}

TEST(PartitionCheck, RejectsBadPinnedDevice) {
  Problem p = smallProblem();
  p.tasks[0].pinnedDevice = 2;
  EXPECT_EQ(p.check(),
            "task 'a' (0) is pinned to device 2 which does not exist");
  p.tasks[0].pinnedDevice = std::nullopt;
  p.tasks[1].pinnedDevice = 1;
  EXPECT_EQ(p.check(),
            "task 'b' (1) is pinned to device 'gpu' (1) which cannot run it");
}

TEST(PartitionCheck, RejectsBadEdgeIndex) {
  Problem p = smallProblem();
  p.edges.push_back({0, 2, 1});
  EXPECT_EQ(p.check(), "edge 1 refers to a task that does not exist");
}

TEST(PartitionCheck, RejectsEdgeAgainstTopologicalOrder) {
  Problem p = smallProblem();
  p.edges[0] = {1, 0, 64};
  EXPECT_EQ(p.check(), "edge 0 goes from task 1 to task 0: tasks must be in "
                       "topological order (from < to)");
  p.edges[0] = {1, 1, 64};
  EXPECT_NE(p.check(), "");
}

TEST(PartitionCheck, RejectsMissingTransferFunction) {
  Problem p = smallProblem();
  p.transfer = nullptr;
  EXPECT_EQ(p.check(), "edge 0 may cross devices but the problem has no "
                       "transfer function");
  // One device: no edge can cross, no function needed.
  p.devices.pop_back();
  for (Task &t : p.tasks)
    t.cost.pop_back();
  EXPECT_EQ(p.check(), "");
}

TEST(PartitionCheck, RejectsBadTransferCost) {
  Problem p = smallProblem();
  p.transfer = [](int from, int, uint64_t) { return from == 1 ? -1.0 : 2.0; };
  EXPECT_EQ(p.check(), "edge 0 has a negative or non-finite transfer cost "
                       "from 'gpu' (1) to 'cpu' (0)");
}

//===----------------------------------------------------------------------===//
// verify()
//===----------------------------------------------------------------------===//

/// cpu (2 queues) + gpu (1 queue); transfers take 5 µs; outputs 100 bytes.
///   a -> b, a -> c, a -> e; d independent; b cannot run on the gpu.
/// The valid schedule, derived by hand:
///   cpu q0: a [0,10]  b [10,20]      cpu q1: d [0,10]
///   link cpu->gpu: a->c [10,15]  a->e [15,20]
///   gpu q0: c [15,25]  e [25,35]      makespan 35
struct PartitionVerify : ::testing::Test {
  Problem p;
  Schedule s;
  void SetUp() override {
    p.devices = {{"cpu", 2, none}, {"gpu", 1, none}};
    p.tasks = {task("a", {10.0, 10.0}), task("b", {10.0, none}),
               task("c", {10.0, 10.0}), task("d", {10.0, 10.0}),
               task("e", {10.0, 10.0})};
    p.edges = {{0, 1, 100}, {0, 2, 100}, {0, 4, 100}};
    p.transfer = flat(5);
    s.tasks = {{0, 0, 0, 10},
               {0, 0, 10, 20},
               {1, 0, 15, 25},
               {0, 1, 0, 10},
               {1, 0, 25, 35}};
    s.transfers = {{1, 0, 1, 10, 15}, {2, 0, 1, 15, 20}};
    s.makespan = 35;
    ASSERT_EQ(p.check(), "");
  }
  std::string check() { return verify(p, s); }
};

TEST_F(PartitionVerify, AcceptsValidSchedule) { EXPECT_EQ(check(), ""); }

TEST_F(PartitionVerify, ToleratesRounding) {
  s.tasks[2].start += 1e-12;
  s.tasks[2].end += 1e-12;
  EXPECT_EQ(check(), "");
}

TEST_F(PartitionVerify, RejectsWrongTaskCount) {
  s.tasks.pop_back();
  EXPECT_EQ(check(), "schedule has 4 tasks, problem has 5");
}

TEST_F(PartitionVerify, RejectsUnknownDevice) {
  s.tasks[3].device = 2;
  EXPECT_EQ(check(), "task 'd' (3) is on device 2 which does not exist");
}

TEST_F(PartitionVerify, RejectsUnknownQueue) {
  s.tasks[2].queue = 1;
  EXPECT_EQ(check(),
            "task 'c' (2) is on queue 1 of device 'gpu' (1) which does not "
            "exist");
}

TEST_F(PartitionVerify, RejectsNegativeStart) {
  s.tasks[3] = {0, 1, -1, 9};
  EXPECT_EQ(check(), "task 'd' (3) has a negative or non-finite start or end");
}

TEST_F(PartitionVerify, RejectsDeviceThatCannotRunTask) {
  s.tasks[1].device = 1;
  EXPECT_EQ(check(), "task 'b' (1) is on device 'gpu' (1) which cannot run it");
}

TEST_F(PartitionVerify, RejectsTaskOffItsPinnedDevice) {
  p.tasks[3].pinnedDevice = 1;
  EXPECT_EQ(check(), "task 'd' (3) is pinned to device 'gpu' (1) but is on "
                     "device 'cpu' (0)");
}

TEST_F(PartitionVerify, RejectsDurationOtherThanCost) {
  s.tasks[1].end = 21;
  EXPECT_EQ(check(), "task 'b' (1) lasts 11 us on device 'cpu' (0) but costs "
                     "10 us there");
}

TEST_F(PartitionVerify, RejectsMemoryOverLimit) {
  p.devices[1].memoryLimitBytes = 150; // c and e: 200 bytes on the gpu
  EXPECT_EQ(check(), "device 'gpu' (1) holds 200 bytes of task outputs, over "
                     "its limit of 150");
}

TEST_F(PartitionVerify, RejectsConsumerBeforeProducerOnOneDevice) {
  s.tasks[1] = {0, 1, 5, 15}; // b on cpu q1 while a still runs
  s.tasks[3] = {0, 0, 10, 20};
  EXPECT_EQ(check(), "edge 0 from task 'a' (0) to task 'b' (1): the consumer "
                     "starts at 5 before the producer ends at 10");
}

TEST_F(PartitionVerify, RejectsMissingTransfer) {
  s.transfers.erase(s.transfers.begin());
  EXPECT_EQ(check(), "edge 1 from task 'a' (0) to task 'c' (2) crosses from "
                     "device 'cpu' (0) to device 'gpu' (1) without a transfer");
}

TEST_F(PartitionVerify, RejectsDuplicateTransfer) {
  s.transfers.push_back(s.transfers[0]);
  EXPECT_EQ(check(), "edge 1 has two transfers");
}

TEST_F(PartitionVerify, RejectsTransferForUnknownEdge) {
  s.transfers[0].edge = 7;
  EXPECT_EQ(check(), "transfer 0 is for edge 7 which does not exist");
}

TEST_F(PartitionVerify, RejectsTransferOnWrongLink) {
  s.transfers[0].fromDevice = 1;
  s.transfers[0].toDevice = 0;
  EXPECT_EQ(check(), "edge 1 from task 'a' (0) to task 'c' (2): its transfer "
                     "is on link 1->0, not 0->1");
}

TEST_F(PartitionVerify, RejectsTransferBeforeProducerEnds) {
  s.transfers[0].start = 8;
  s.transfers[0].end = 13;
  EXPECT_EQ(check(), "edge 1 from task 'a' (0) to task 'c' (2): its transfer "
                     "starts at 8 before the producer ends at 10");
}

TEST_F(PartitionVerify, RejectsConsumerBeforeTransferEnds) {
  s.tasks[2] = {1, 0, 14, 24};
  EXPECT_EQ(check(), "edge 1 from task 'a' (0) to task 'c' (2): the consumer "
                     "starts at 14 before its transfer ends at 15");
}

TEST_F(PartitionVerify, RejectsTransferDurationOtherThanCost) {
  s.transfers[0].end = 14;
  EXPECT_EQ(check(), "edge 1 from task 'a' (0) to task 'c' (2): its transfer "
                     "lasts 4 us but costs 5 us");
}

TEST_F(PartitionVerify, RejectsTransferForEdgeWithinDevice) {
  s.transfers.push_back({0, 0, 0, 10, 10});
  EXPECT_EQ(check(), "edge 0 from task 'a' (0) to task 'b' (1) stays on "
                     "device 'cpu' (0) but has a transfer");
}

TEST_F(PartitionVerify, RejectsTasksOverlappingOnQueue) {
  s.tasks[3].queue = 0; // d [0,10] next to a [0,10] on cpu q0
  EXPECT_EQ(check(), "task 'a' (0) and task 'd' (3) overlap on queue 0 of "
                     "device 'cpu' (0)");
}

TEST_F(PartitionVerify, RejectsTransfersOverlappingOnLink) {
  s.transfers[1].start = 12; // a->e [12,17] against a->c [10,15]
  s.transfers[1].end = 17;
  EXPECT_EQ(check(), "transfers of edges 1 and 2 overlap on link device "
                     "'cpu' (0) -> device 'gpu' (1)");
}

TEST_F(PartitionVerify, AcceptsTransfersOnOppositeLinks) {
  // gpu -> cpu is another link than cpu -> gpu: e feeding a new cpu task
  // may transfer while a->e's link is busy.
  p.tasks.push_back(task("f", {10.0, none}));
  p.edges.push_back({4, 5, 100});
  s.tasks.push_back({0, 1, 40, 50});
  s.transfers.push_back({3, 1, 0, 35, 40});
  s.makespan = 50;
  EXPECT_EQ(check(), "");
}

TEST_F(PartitionVerify, RejectsWrongMakespan) {
  s.makespan = 30;
  EXPECT_EQ(check(), "makespan is 30 but the last task ends at 35");
}

//===----------------------------------------------------------------------===//
// lowerBound()
//===----------------------------------------------------------------------===//

TEST(PartitionLowerBound, CriticalPathAtCheapestDevices) {
  // a -> b -> c; cheapest: a 10 (pinned to the cpu though 8 on the npu), b 5
  // (npu), c 10; path 25 > work 25 / 2 queues; transfers are free here.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"npu", 1, none}};
  p.tasks = {task("a", {10.0, 8.0}), task("b", {30.0, 5.0}),
             task("c", {10.0, none})};
  p.tasks[0].pinnedDevice = 0;
  p.edges = {{0, 1, 100}, {1, 2, 100}};
  p.transfer = flat(1000);
  EXPECT_DOUBLE_EQ(lowerBound(p), 25);
}

TEST(PartitionLowerBound, WorkOverAllQueues) {
  // Four independent tasks, 5 µs on the gpu, 20 on the cpu.
  // gpu with 2 queues: path 5, cheapest work 4 × 5 / 3 queues = 6.67; the
  // fractional relaxation puts a fraction f of the work on the cpu:
  // min over f of max(80 f, 20 (1 - f) / 2) = 80 / 9 = 8.89 at f = 1/9
  // (optimum 10). The bound approaches 80 / 9 from below (a grid search on
  // the dual) and never exceeds it.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 2, none}};
  for (int i = 0; i < 4; ++i)
    p.tasks.push_back(task("t" + std::to_string(i), {20.0, 5.0}));
  EXPECT_NEAR(lowerBound(p), 80.0 / 9, 1e-3);
  EXPECT_LE(lowerBound(p), 80.0 / 9 + 1e-9);
  EXPECT_GE(lowerBound(p), 20.0 / 3);
  // gpu with 4 queues: the optimum is 5 (one task per gpu queue). Total work
  // over devices (20 / 2 = 10) would exceed it; work over queues (20 / 5 =
  // 4) does not, nor does the relaxation (80 / 17 = 4.71). The bound is the
  // path, 5.
  p.devices[1].queues = 4;
  EXPECT_DOUBLE_EQ(lowerBound(p), 5);
}

TEST(PartitionLowerBound, EmptyProblem) {
  Problem p;
  p.devices = {{"cpu", 1, none}};
  EXPECT_EQ(lowerBound(p), 0);
}

} // namespace
