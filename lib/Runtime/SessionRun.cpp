//===- SessionRun.cpp - Executing a loaded plan ---------------------------===//
//
// One worker per (device, queue) that has tasks. workers[0] runs on the
// thread that calls run(); the others are threads started at load that sleep
// between runs. Each worker executes its queue's tasks in plan order: within
// a queue, order alone satisfies the deps; a dep on another queue is waited
// for through a per-task completion generation (an atomic, with the mutex and
// condition variable for sleeping). The first failing task records its error
// and wakes everyone; the other workers stop before their next task.
// A control task (if, loop) runs its bodies' tasks itself, in order, on its
// worker, copying params and results as docs/plan-format.md prescribes.
//
//===----------------------------------------------------------------------===//
#include "SessionImpl.h"

#include <cstring>
#include <optional>

namespace loom::rt {

using detail::BoundBody;
using detail::BoundTask;
using detail::MappedMemory;
using detail::SessionImpl;

namespace {

/// A failure inside a body: the message starts at the body, e.g. `body
/// 'then_branch', task 0 'relu' (kernel relu): ...`.
struct BodyError {
  std::string message;
};

/// `task 4 'conv1' (kernel conv)`, `task 6 'If_0' (if)`.
std::string taskLabel(const BoundTask &task) {
  const PlanTask &t = *task.task;
  return "task " + std::to_string(task.id) + " '" + t.name + "' (" +
         (isControlTask(t.kind) ? std::string(taskKindName(t.kind))
                                : "kernel " + t.kernel) +
         ")";
}

/// Runs `fn`; turns any failure into the message that follows the task's
/// label (": MESSAGE", or ", body ..." for a failure inside a body).
template <typename Fn> std::optional<std::string> failureOf(Fn fn) {
  try {
    fn();
  } catch (const BodyError &e) {
    return ", " + e.message;
  } catch (const KernelError &e) {
    return ": " + e.message;
  } catch (const std::exception &e) {
    return std::string(": ") + e.what();
  } catch (...) {
    return std::string(": unknown exception");
  }
  return std::nullopt;
}

double microsSince(std::chrono::steady_clock::time_point start,
                   std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::micro>(t - start).count();
}
} // namespace

SessionImpl::~SessionImpl() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  cv.notify_all();
  for (Worker &w : workers)
    if (w.thread.joinable())
      w.thread.join();
}

void SessionImpl::startWorkers() {
  for (size_t w = 1; w < workers.size(); ++w)
    workers[w].thread = std::thread([this, w] { workerLoop(w); });
}

void SessionImpl::workerLoop(size_t w) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen;
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = gen = generation;
    }
    runQueue(w, gen);
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++finished;
    }
    cv.notify_all();
  }
}

void SessionImpl::fail(const std::string &message) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failed.load()) {
      error = message;
      failed.store(true);
    }
  }
  cv.notify_all();
}

bool SessionImpl::waitForDeps(const BoundTask &task, uint64_t gen) {
  auto ready = [&] {
    for (size_t d : task.waitFor)
      if (doneGen[d].load(std::memory_order_acquire) != gen)
        return false;
    return true;
  };
  if (!ready()) {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return failed.load() || ready(); });
  }
  return !failed.load();
}

void SessionImpl::runQueue(size_t w, uint64_t gen) {
  for (size_t id : workers[w].tasks) {
    BoundTask &task = tasks[id];
    if (!waitForDeps(task, gen))
      return;
    auto start = std::chrono::steady_clock::now();
    std::optional<std::string> failure = failureOf([&] { execute(task); });
    auto end = std::chrono::steady_clock::now();
    timings[id] =
        TaskTiming{id, workers[w].device, workers[w].queue,
                   microsSince(runStart, start), microsSince(runStart, end)};
    timingGen[id] = gen;
    if (failure) {
      fail(taskLabel(task) + *failure);
      return;
    }
    if (task.signals) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        doneGen[id].store(gen, std::memory_order_release);
      }
      cv.notify_all();
    }
    if (failed.load())
      return;
  }
}

void SessionImpl::execute(BoundTask &task) {
  if (task.kernel)
    task.kernel->fn(task.args);
  else if (!task.bodies.empty())
    runControl(task);
  else if (task.bytes)
    std::memmove(task.dst, task.src, task.bytes);
}

void SessionImpl::runBody(BoundBody &body) {
  for (BoundTask &task : body.tasks) {
    // Another queue failed: stop here (the first failure is reported).
    if (failed.load())
      throw BodyError{"stopped after a failure elsewhere"};
    if (std::optional<std::string> failure =
            failureOf([&] { execute(task); }))
      throw BodyError{"body '" + body.body->name + "', " + taskLabel(task) +
                      *failure};
  }
}

void SessionImpl::runControl(BoundTask &task) {
  const PlanTask &t = *task.task;
  // Buffers may coincide (a result passed through): memmove throughout.
  auto copy = [&](size_t to, size_t from) {
    if (size_t bytes = plan.buffers[to].sizeBytes)
      std::memmove(bufferData[to], bufferData[from], bytes);
  };
  if (t.kind == TaskKind::If) {
    BoundBody &body = task.bodies[bufferData[*t.inputs[0]][0] ? 0 : 1];
    runBody(body);
    for (size_t i = 0; i < t.outputs.size(); ++i)
      copy(*t.outputs[i], body.body->results[i]);
    return;
  }
  // Loop (docs/plan-format.md, "Control tasks"): params are [iter, cond_in,
  // c_1..c_N], results [cond_out, r_1..r_N], inputs [M, cond, v_1..v_N, ...].
  BoundBody &body = task.bodies[0];
  const PlanBody &pb = *body.body;
  const size_t n = t.outputs.size();
  const int64_t bound = t.attrs.getInt("max_trip_count", 0);
  for (size_t k = 0; k < n; ++k)
    copy(pb.params[2 + k], *t.inputs[2 + k]);
  bool go = !t.inputs[1] || bufferData[*t.inputs[1]][0] != 0;
  std::optional<int64_t> trips;
  if (t.inputs[0]) {
    int64_t m;
    std::memcpy(&m, bufferData[*t.inputs[0]], sizeof m);
    trips = m;
  }
  for (int64_t i = 0; (!trips || i < *trips) && go; ++i) {
    if (i == bound)
      throw SessionError("loop task '" + t.name + "' ran past its bound of " +
                         std::to_string(bound) + " iterations");
    std::memcpy(bufferData[pb.params[0]], &i, sizeof i);
    bufferData[pb.params[1]][0] = go ? 1 : 0;
    runBody(body);
    go = bufferData[pb.results[0]][0] != 0;
    for (size_t k = 0; k < n; ++k)
      copy(pb.params[2 + k], pb.results[1 + k]);
  }
  for (size_t k = 0; k < n; ++k)
    copy(*t.outputs[k], pb.params[2 + k]);
}

void SessionImpl::runOnce() {
  haveResult = false;
  if (workers.empty()) {
    haveResult = true;
    return;
  }
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mutex);
    failed.store(false);
    error.clear();
    finished = 0;
    runStart = std::chrono::steady_clock::now();
    gen = ++generation;
  }
  cv.notify_all();
  try {
    runQueue(0, gen);
  } catch (const std::exception &e) {
    fail(std::string("internal error: ") + e.what());
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return finished == workers.size() - 1; });
    if (failed.load())
      throw SessionError(error);
  }
  haveResult = true;
}

void Session::run() {
  SessionImpl &s = *impl;
  std::string unset;
  for (size_t i = 0; i < s.inputInfos.size(); ++i)
    if (!isInputSet(i))
      unset += (unset.empty() ? "'" : ", '") + s.inputInfos[i].name + "'";
  if (!unset.empty())
    throw SessionError("inputs not set: " + unset);
  s.runOnce();
}

std::vector<TaskTiming> Session::lastTimings() const {
  std::vector<TaskTiming> out;
  for (size_t id = 0; id < impl->timings.size(); ++id)
    if (impl->timingGen[id] == impl->generation && impl->generation != 0)
      out.push_back(impl->timings[id]);
  return out;
}

} // namespace loom::rt
