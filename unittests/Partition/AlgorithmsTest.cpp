//===- AlgorithmsTest.cpp - Hand-made problems with derived outcomes ------===//
//
// Each problem is small enough to work out by hand; the comments give the
// derivation (upward ranks, earliest finish times, the optimum) that the
// assertions check.
//
//===----------------------------------------------------------------------===//
#include "loom/Partition/Algorithms.h"

#include <gtest/gtest.h>

using namespace loom::partition;

namespace {

constexpr auto none = std::nullopt;

TransferFn flat(double us) {
  return [us](int, int, uint64_t) { return us; };
}

Task task(std::string name, std::vector<std::optional<double>> cost,
          uint64_t outputBytes = 100) {
  return Task{std::move(name), std::move(cost), outputBytes, std::nullopt};
}

/// Runs heft, greedy, auto and exact; each must succeed and verify.
struct All {
  Schedule heft, greedy, autoS, exact;
};
All runAll(const Problem &p) {
  All all;
  ScheduleResult h = heft(p), g = greedy(p), a = autoSchedule(p),
                 e = exactSchedule(p);
  EXPECT_TRUE(h) << h.error;
  EXPECT_TRUE(g) << g.error;
  EXPECT_TRUE(a) << a.error;
  EXPECT_TRUE(e) << e.error;
  if (!h || !g || !a || !e)
    return all;
  EXPECT_EQ(verify(p, *h), "");
  EXPECT_EQ(verify(p, *g), "");
  EXPECT_EQ(verify(p, *a), "");
  EXPECT_EQ(verify(p, *e), "");
  return {*h, *g, *a, *e};
}

using Assignment = std::vector<int>;

TEST(PartitionAlgorithms, ChainStaysOnOneDeviceWhenTransfersAreExpensive) {
  // in -> conv -> out; in and out are pinned to the cpu (host I/O); conv
  // costs 30 on the cpu, 5 on the npu; every transfer costs 20.
  //  - all on the cpu: 10 + 30 + 10 = 50;
  //  - conv on the npu: 10 + 20 + 5 + 20 + 10 = 65.
  // HEFT is myopic: conv's earliest finish is 35 on the npu (transfer
  // [10,30], conv [30,35]) against 40 on the cpu, so it takes the npu and
  // ends at 65; greedy (cheapest device) too. The local search moves conv
  // back: 50, the optimum.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"npu", 1, none}};
  p.tasks = {task("in", {10.0, 8.0}), task("conv", {30.0, 5.0}),
             task("out", {10.0, 8.0})};
  p.tasks[0].pinnedDevice = 0;
  p.tasks[2].pinnedDevice = 0;
  p.edges = {{0, 1, 1 << 20}, {1, 2, 1 << 20}};
  p.transfer = flat(20);
  All r = runAll(p);
  EXPECT_EQ(r.heft.assignment(), (Assignment{0, 1, 0}));
  EXPECT_DOUBLE_EQ(r.heft.makespan, 65);
  EXPECT_DOUBLE_EQ(r.greedy.makespan, 65);
  EXPECT_EQ(r.autoS.assignment(), (Assignment{0, 0, 0}));
  EXPECT_DOUBLE_EQ(r.autoS.makespan, 50);
  EXPECT_TRUE(r.autoS.transfers.empty());
  EXPECT_DOUBLE_EQ(r.exact.makespan, 50);
  ScheduleResult cpu = singleDevice(p, 0);
  ASSERT_TRUE(cpu);
  EXPECT_DOUBLE_EQ(cpu->makespan, 50);
  // path 10 + 5 + 10 (cheapest allowed devices, free transfers).
  EXPECT_DOUBLE_EQ(lowerBound(p), 25);
}

TEST(PartitionAlgorithms, ForkJoinRunsBranchesInParallel) {
  // s -> x, s -> y, x -> j, y -> j on cpu and gpu, every task as fast on
  // both (s 2, x 20, y 20, j 2), transfers 3.
  // One device: 2 + 20 + 20 + 2 = 44. Two: the branch off s's device waits
  // for a transfer (ends >= 2 + 3 + 20 = 25), and j waits for it or for its
  // transfer: >= 27. HEFT reaches 27: ranks j 2, x = y = 20 + 1.5 + 2 = 23.5
  // (mean transfer (0 + 3 + 3 + 0) / 4), s 27; s on the cpu (tie, lower
  // index) [0,2], x cpu [2,22], y gpu (cpu would end at 42) after transfer
  // [2,5]: [5,25]; j gpu after x's transfer [22,25]: [25,27].
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("s", {2.0, 2.0}), task("x", {20.0, 20.0}),
             task("y", {20.0, 20.0}), task("j", {2.0, 2.0})};
  p.edges = {{0, 1, 100}, {0, 2, 100}, {1, 3, 100}, {2, 3, 100}};
  p.transfer = flat(3);
  All r = runAll(p);
  EXPECT_EQ(r.heft.assignment(), (Assignment{0, 0, 1, 1}));
  EXPECT_DOUBLE_EQ(r.heft.tasks[2].start, 5);
  EXPECT_DOUBLE_EQ(r.heft.tasks[3].start, 25);
  EXPECT_EQ(r.heft.transfers.size(), 2u);
  EXPECT_DOUBLE_EQ(r.heft.makespan, 27);
  EXPECT_DOUBLE_EQ(r.autoS.makespan, 27);
  EXPECT_DOUBLE_EQ(r.exact.makespan, 27);
  EXPECT_NE(r.autoS.tasks[1].device, r.autoS.tasks[2].device);
  for (int d = 0; d < 2; ++d) {
    ScheduleResult single = singleDevice(p, d);
    ASSERT_TRUE(single);
    EXPECT_DOUBLE_EQ(single->makespan, 44);
  }
}

TEST(PartitionAlgorithms, TaskTheNpuCannotRunFallsBack) {
  // a -> b -> c: 10 each on the cpu, 2 on the npu, but the npu cannot run b;
  // transfers 1. npu, cpu, npu: 2 + 1 + 10 + 1 + 2 = 16, the optimum (cpu
  // only 30; a or c on the cpu 23).
  Problem p;
  p.devices = {{"cpu", 1, none}, {"npu", 1, none}};
  p.tasks = {task("a", {10.0, 2.0}), task("b", {10.0, none}),
             task("c", {10.0, 2.0})};
  p.edges = {{0, 1, 100}, {1, 2, 100}};
  p.transfer = flat(1);
  ScheduleResult npu = singleDevice(p, 1);
  EXPECT_FALSE(npu);
  EXPECT_EQ(npu.error, "task 'b' (1) is assigned to device 'npu' (1) which "
                       "cannot run it");
  All r = runAll(p);
  for (const Schedule *s : {&r.heft, &r.greedy, &r.autoS, &r.exact}) {
    EXPECT_EQ(s->assignment(), (Assignment{1, 0, 1}));
    EXPECT_DOUBLE_EQ(s->makespan, 16);
  }
}

TEST(PartitionAlgorithms, PinnedTasksStayOnTheirDevice) {
  // x (pinned to the cpu, though 1 on the gpu) -> y; y 10 on the cpu, 1 on
  // the gpu; transfers 2. y on the gpu: 5 + 2 + 1 = 8 < 15.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("x", {5.0, 1.0}), task("y", {10.0, 1.0})};
  p.tasks[0].pinnedDevice = 0;
  p.edges = {{0, 1, 100}};
  p.transfer = flat(2);
  All r = runAll(p);
  for (const Schedule *s : {&r.heft, &r.greedy, &r.autoS, &r.exact}) {
    EXPECT_EQ(s->assignment(), (Assignment{0, 1}));
    EXPECT_DOUBLE_EQ(s->makespan, 8);
  }
  EXPECT_FALSE(singleDevice(p, 1));
  ScheduleResult fixed = scheduleFixed(p, {1, 1});
  EXPECT_FALSE(fixed);
  EXPECT_EQ(fixed.error, "task 'x' (0) is assigned to device 'gpu' (1) but is "
                         "pinned to another device");
}

TEST(PartitionAlgorithms, MemoryLimitForcesAMove) {
  // Three independent tasks, 10 on the cpu, 2 on the gpu, 100 output bytes
  // each. Unlimited: all on the gpu, 6. With a 250-byte gpu only two fit:
  // the third runs on the cpu, 10 (the optimum: 2 gpu + 1 cpu).
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("a", {10.0, 2.0}), task("b", {10.0, 2.0}),
             task("c", {10.0, 2.0})};
  ScheduleResult unlimited = heft(p);
  ASSERT_TRUE(unlimited);
  EXPECT_DOUBLE_EQ(unlimited->makespan, 6);

  p.devices[1].memoryLimitBytes = 250;
  ScheduleResult gpu = singleDevice(p, 1);
  EXPECT_FALSE(gpu);
  EXPECT_EQ(gpu.error, "device 'gpu' (1) would hold 300 bytes of task "
                       "outputs, over its memory limit of 250");
  All r = runAll(p);
  // HEFT: equal ranks, index order; a and b on the gpu, c no longer fits.
  EXPECT_EQ(r.heft.assignment(), (Assignment{1, 1, 0}));
  for (const Schedule *s : {&r.heft, &r.greedy, &r.autoS, &r.exact})
    EXPECT_DOUBLE_EQ(s->makespan, 10);
}

TEST(PartitionAlgorithms, MemoryKeepsRoomForTasksOnlyOneDeviceRuns) {
  // As above, but c runs only on the gpu. HEFT takes a (ranks 6, 6, 2), then
  // keeps c's 100 bytes free: b goes to the cpu. Without the reservation b
  // would take the gpu and c would have nowhere to go.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, 250}};
  p.tasks = {task("a", {10.0, 2.0}), task("b", {10.0, 2.0}),
             task("c", {none, 2.0})};
  All r = runAll(p);
  EXPECT_EQ(r.heft.assignment(), (Assignment{1, 0, 1}));
  EXPECT_EQ(r.greedy.assignment(), (Assignment{1, 0, 1}));
  EXPECT_DOUBLE_EQ(r.exact.makespan, 10);
}

TEST(PartitionAlgorithms, MemoryLimitNoAssignmentFits) {
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, 150}};
  p.tasks = {task("a", {none, 2.0}), task("b", {none, 2.0})};
  std::string expected = "the tasks that can only run on device 'gpu' (1) "
                         "produce 200 bytes, over its memory limit of 150";
  EXPECT_EQ(heft(p).error, expected);
  EXPECT_EQ(greedy(p).error, expected);
  EXPECT_EQ(autoSchedule(p).error, expected);
  EXPECT_EQ(exactSchedule(p).error, expected);
}

TEST(PartitionAlgorithms, MultiQueueDeviceRunsTasksConcurrently) {
  // Four independent tasks, 20 on the cpu, 5 on the gpu. Two gpu queues:
  // t0 q0 [0,5], t1 q1 [0,5], t2 q0 [5,10], t3 q1 [5,10]: 10.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 2, none}};
  for (int i = 0; i < 4; ++i)
    p.tasks.push_back(task("t" + std::to_string(i), {20.0, 5.0}));
  All r = runAll(p);
  EXPECT_EQ(r.heft.assignment(), (Assignment{1, 1, 1, 1}));
  std::vector<int> queues, starts;
  for (const ScheduledTask &t : r.heft.tasks) {
    queues.push_back(t.queue);
    starts.push_back(int(t.start));
  }
  EXPECT_EQ(queues, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(starts, (std::vector<int>{0, 0, 5, 5}));
  EXPECT_DOUBLE_EQ(r.autoS.makespan, 10);
  EXPECT_DOUBLE_EQ(r.exact.makespan, 10);
  // One gpu queue: t0..t2 on the gpu until 15; t3 ends at 20 on either
  // device and takes the lower index, the cpu.
  p.devices[1].queues = 1;
  ScheduleResult one = heft(p);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->assignment(), (Assignment{1, 1, 1, 0}));
  EXPECT_DOUBLE_EQ(one->makespan, 20);
}

TEST(PartitionAlgorithms, InsertionFillsIdleGap) {
  // x (cpu only, 10) -> y (gpu only, 4); z (gpu only, 3) independent;
  // transfers 5. Ranks x 19, y 4, z 3: y is placed first at [15,19] after
  // its transfer [10,15]; z then fits the gpu's idle gap [0,15).
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("x", {10.0, none}), task("y", {none, 4.0}),
             task("z", {none, 3.0})};
  p.edges = {{0, 1, 100}};
  p.transfer = flat(5);
  EXPECT_EQ(priorityOrder(p), (std::vector<int>{0, 1, 2}));
  ScheduleResult s = scheduleFixed(p, {0, 1, 1});
  ASSERT_TRUE(s) << s.error;
  EXPECT_EQ(verify(p, *s), "");
  EXPECT_DOUBLE_EQ(s->tasks[1].start, 15);
  EXPECT_DOUBLE_EQ(s->tasks[2].start, 0);
  EXPECT_DOUBLE_EQ(s->makespan, 19);
}

TEST(PartitionAlgorithms, LinkCarriesOneTransferAtATime) {
  // a, b (cpu only, 1 each) -> c (gpu only, 1); transfers 5 on one link:
  // a [0,1], b [1,2]; a->c [1,6], b->c waits for the link: [6,11]; c
  // [11,12].
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("a", {1.0, none}), task("b", {1.0, none}),
             task("c", {none, 1.0})};
  p.edges = {{0, 2, 100}, {1, 2, 100}};
  p.transfer = flat(5);
  ScheduleResult s = heft(p);
  ASSERT_TRUE(s) << s.error;
  EXPECT_EQ(verify(p, *s), "");
  ASSERT_EQ(s->transfers.size(), 2u);
  EXPECT_DOUBLE_EQ(s->transfers[0].start, 1);
  EXPECT_DOUBLE_EQ(s->transfers[1].start, 6);
  EXPECT_DOUBLE_EQ(s->tasks[2].start, 11);
  EXPECT_DOUBLE_EQ(s->makespan, 12);
}

TEST(PartitionAlgorithms, TransferCostDependsOnLinkDirectionAndBytes) {
  // a (cpu only) -> b; b 10 on the cpu, 1 on the gpu. cpu -> gpu costs
  // 1 + bytes / 1000 µs: 1 kB: 2 µs, b on the gpu ends at 1 + 2 + 1 = 4;
  // 100 kB: 101 µs, b stays on the cpu (11).
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("a", {1.0, none}), task("b", {10.0, 1.0})};
  p.edges = {{0, 1, 1000}};
  p.transfer = [](int from, int, uint64_t bytes) {
    return from == 0 ? 1 + double(bytes) / 1000 : 1e6;
  };
  ScheduleResult small = autoSchedule(p);
  ASSERT_TRUE(small);
  EXPECT_DOUBLE_EQ(small->makespan, 4);
  p.edges[0].bytes = 100000;
  ScheduleResult large = autoSchedule(p);
  ASSERT_TRUE(large);
  EXPECT_DOUBLE_EQ(large->makespan, 11);
}

TEST(PartitionAlgorithms, EmptyProblem) {
  Problem p;
  p.devices = {{"cpu", 1, none}};
  All r = runAll(p);
  EXPECT_EQ(r.autoS.makespan, 0);
  EXPECT_EQ(r.exact.makespan, 0);
}

TEST(PartitionAlgorithms, ZeroCostTasks) {
  // Zero-cost tasks (a reshape) are instants; the schedule stays valid.
  Problem p;
  p.devices = {{"cpu", 1, none}, {"gpu", 1, none}};
  p.tasks = {task("a", {0.0, 0.0}), task("b", {4.0, 1.0}),
             task("c", {0.0, none})};
  p.edges = {{0, 1, 100}, {1, 2, 100}};
  p.transfer = [](int, int, uint64_t) { return 0.0; };
  All r = runAll(p);
  EXPECT_DOUBLE_EQ(r.exact.makespan, 1);
}

TEST(PartitionAlgorithms, ExactRefusesLargeProblems) {
  Problem p;
  p.devices = {{"cpu", 1, none}};
  for (int i = 0; i < 21; ++i)
    p.tasks.push_back(task("t" + std::to_string(i), {1.0}));
  ScheduleResult e = exactSchedule(p);
  EXPECT_FALSE(e);
  EXPECT_EQ(e.error, "problem has 21 tasks, more than the exact search's "
                     "limit of 20");
  ScheduleResult e21 = exactSchedule(p, 21);
  ASSERT_TRUE(e21);
  EXPECT_DOUBLE_EQ(e21->makespan, 21);
}

TEST(PartitionAlgorithms, MalformedProblemIsReported) {
  Problem p;
  p.devices = {{"cpu", 1, none}};
  p.tasks = {task("a", {none})};
  std::string expected = "task 'a' (0) cannot run on any device";
  EXPECT_EQ(heft(p).error, expected);
  EXPECT_EQ(greedy(p).error, expected);
  EXPECT_EQ(autoSchedule(p).error, expected);
  EXPECT_EQ(exactSchedule(p).error, expected);
  EXPECT_EQ(scheduleFixed(p, {0}).error, expected);
  EXPECT_EQ(singleDevice(p, 3).error, "device 3 does not exist");
  EXPECT_TRUE(priorityOrder(p).empty());
}

TEST(PartitionAlgorithms, FixedAssignmentOfWrongSize) {
  Problem p;
  p.devices = {{"cpu", 1, none}};
  p.tasks = {task("a", {1.0})};
  EXPECT_EQ(scheduleFixed(p, {0, 0}).error,
            "assignment has 2 devices for 1 tasks");
}

} // namespace
