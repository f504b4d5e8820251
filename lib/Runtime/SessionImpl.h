//===- SessionImpl.h - The state behind loom::rt::Session -------*- C++ -*-===//
//
// Private to lib/Runtime. Session.cpp builds this state at load (memory,
// bound tasks, workers); SessionRun.cpp executes it.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_SESSIONIMPL_H
#define LOOM_RUNTIME_SESSIONIMPL_H

#include "loom/Runtime/Session.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loom::rt::detail {

/// A memory mapping (the weights file, or an anonymous arena) that is
/// unmapped on destruction.
class MappedMemory {
public:
  MappedMemory() = default;
  MappedMemory(void *data, size_t size) : data(data), size(size) {}
  /// Memory the session does not own (embedded weights): never unmapped.
  static MappedMemory borrowed(const void *data, size_t size) {
    MappedMemory m(const_cast<void *>(data), size);
    m.owned = false;
    return m;
  }
  MappedMemory(MappedMemory &&other) noexcept { *this = std::move(other); }
  MappedMemory &operator=(MappedMemory &&other) noexcept;
  MappedMemory(const MappedMemory &) = delete;
  MappedMemory &operator=(const MappedMemory &) = delete;
  ~MappedMemory() { reset(); }

  uint8_t *bytes() const { return static_cast<uint8_t *>(data); }
  void reset();

private:
  void *data = nullptr;
  size_t size = 0;
  bool owned = true;
};

struct BoundTask;

/// The tasks of one body of a control task, bound like top-level tasks.
struct BoundBody {
  const PlanBody *body = nullptr;
  std::vector<BoundTask> tasks;
};

/// One task, ready to execute: its kernel and arguments, built once at load.
struct BoundTask {
  const PlanTask *task;
  /// The id of a top-level task; the position in its body for a body task.
  size_t id;
  /// Null for transfers.
  const KernelEntry *kernel;
  KernelArgs args;
  /// Transfers: memmove(dst, src, bytes).
  const void *src = nullptr;
  void *dst = nullptr;
  size_t bytes = 0;
  /// Deps on other queues, which this task must wait for.
  std::vector<size_t> waitFor;
  /// Whether a task on another queue waits for this one.
  bool signals = false;
  /// Control tasks: their bodies (kernel is null).
  std::vector<BoundBody> bodies;
};

/// The tasks of one (device, queue), in plan order.
struct Worker {
  size_t device = 0;
  size_t queue = 0;
  std::vector<size_t> tasks;
  /// Empty for workers[0], which runs on the thread calling run().
  std::thread thread;
};

struct SessionImpl {
  ~SessionImpl();

  //--- Built at load (Session.cpp) ----------------------------------------
  Plan plan;
  SessionOptions options;
  /// Entries of the device kernels bound to tasks (SessionOptions).
  std::vector<std::unique_ptr<KernelEntry>> deviceKernels;
  /// Shared with the sessions loaded by Session::loadSharing.
  std::shared_ptr<MappedMemory> weights;
  std::vector<MappedMemory> arenas;
  /// One block per state buffer (Plan::states order); shared with the
  /// sessions loaded by Session::loadSharing for the same name.
  std::vector<std::shared_ptr<MappedMemory>> states;
  std::vector<TensorInfo> stateInfos;
  /// Address of a zero-size buffer whose memory block is empty, so that a
  /// present empty tensor never has a null data pointer.
  alignas(64) uint8_t emptyStorage[64] = {};
  /// Address of every buffer.
  std::vector<uint8_t *> bufferData;
  std::vector<TensorInfo> inputInfos, outputInfos;
  std::vector<bool> inputSet;
  std::vector<BoundTask> tasks;
  std::vector<Worker> workers;
  /// Whether the last run() succeeded (outputs are readable).
  bool haveResult = false;

  //--- Execution state (SessionRun.cpp) -----------------------------------
  std::mutex mutex;
  std::condition_variable cv;
  /// Incremented by each run; a worker runs one pass per generation.
  uint64_t generation = 0;
  bool stopping = false;
  /// Threaded workers that finished the current generation.
  size_t finished = 0;
  /// Per task: the generation in which it last completed (signalling tasks).
  std::unique_ptr<std::atomic<uint64_t>[]> doneGen;
  std::atomic<bool> failed{false};
  /// The first failure of the current run (guarded by `mutex`).
  std::string error;
  std::chrono::steady_clock::time_point runStart;
  /// Per task: measured times and the generation they belong to; each entry
  /// is written only by the task's worker.
  std::vector<TaskTiming> timings;
  std::vector<uint64_t> timingGen;

  /// Starts the threads of workers[1..].
  void startWorkers();
  /// Executes one generation of the tasks of worker `w`.
  void runQueue(size_t w, uint64_t gen);
  /// Runs one task (kernel, transfer or control task). Throws KernelError,
  /// SessionError (a loop past its bound) or BodyError (a failure inside a
  /// body).
  void execute(BoundTask &task);
  /// Runs control task `task`'s `if` or `loop` semantics.
  void runControl(BoundTask &task);
  /// Runs the tasks of `body` in order.
  void runBody(BoundBody &body);
  /// Waits for the cross-queue deps of `task`; false if the run failed.
  bool waitForDeps(const BoundTask &task, uint64_t gen);
  /// Records the first failure and wakes every waiter.
  void fail(const std::string &message);
  /// The run loop of a threaded worker.
  void workerLoop(size_t w);
  /// One run of all workers; throws SessionError on failure.
  void runOnce();
};

} // namespace loom::rt::detail

#endif // LOOM_RUNTIME_SESSIONIMPL_H
