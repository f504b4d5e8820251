//===- SessionRun.cpp - Executing a loaded plan ---------------------------===//
//
// One worker per (device, queue) that has tasks. workers[0] runs on the
// thread that calls run(); the others are threads started at load that sleep
// between runs. Each worker executes its queue's tasks in plan order: within
// a queue, order alone satisfies the deps; a dep on another queue is waited
// for through a per-task completion generation (an atomic, with the mutex and
// condition variable for sleeping). The first failing task records its error
// and wakes everyone; the other workers stop before their next task.
//
//===----------------------------------------------------------------------===//
#include "SessionImpl.h"

#include <cstring>

namespace loom::rt {

using detail::BoundTask;
using detail::MappedMemory;
using detail::SessionImpl;

namespace {
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
    bool ok = true;
    std::string message;
    try {
      if (task.kernel)
        task.kernel->fn(task.args);
      else if (task.bytes)
        std::memmove(task.dst, task.src, task.bytes);
    } catch (const KernelError &e) {
      ok = false, message = e.message;
    } catch (const std::exception &e) {
      ok = false, message = e.what();
    } catch (...) {
      ok = false, message = "unknown exception";
    }
    auto end = std::chrono::steady_clock::now();
    timings[id] =
        TaskTiming{id, workers[w].device, workers[w].queue,
                   microsSince(runStart, start), microsSince(runStart, end)};
    timingGen[id] = gen;
    if (!ok) {
      const PlanTask &t = *task.task;
      fail("task " + std::to_string(id) + " '" + t.name + "' (kernel " +
           t.kernel + "): " + message);
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
