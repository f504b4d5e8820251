//===- Session.h - Loading and running an executable plan -------*- C++ -*-===//
//
// The in-process runtime API: load a plan folder (plan.json + weights.bin),
// bind inputs, run, read outputs and per-task timings.
//
//   auto session = Session::load("out");
//   session->setInput("x", x);
//   session->run();
//   Tensor y = session->getOutput(0);
//
// Loading validates the plan (PlanError), memory-maps the weights, allocates
// one arena per device and binds every task to its kernel once. A run uses
// one worker per (device, queue): each runs its queue's tasks in plan order
// and waits for each task's cross-queue deps. A Session is not thread-safe:
// call its methods from one thread at a time.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_SESSION_H
#define LOOM_RUNTIME_SESSION_H

#include "loom/Runtime/DeviceKernel.h"
#include "loom/Runtime/Kernel.h"
#include "loom/Runtime/Plan.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loom::rt {

namespace detail {
struct SessionImpl;
} // namespace detail

/// A failure while binding inputs, running, or reading outputs. Messages name
/// the input/output, or the failing task as `task 4 'conv1' (kernel conv):
/// ...`.
class SessionError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct SessionOptions {
  /// Threads each kernel may use (KernelArgs::threads).
  int threads = 1;
  /// A task the plan predicts shorter than this (end_us - start_us) runs on
  /// one thread whatever `threads` says: forking and joining a team costs
  /// more than it saves on a short task, and on a busy machine every join
  /// may wait for a thread that has lost its core.
  double minParallelTaskUs = 100;
  /// Use fast paths (e.g. oneDNN) where they accept the call; otherwise every
  /// task runs its reference kernel.
  bool allowFastPaths = true;
  /// Run a task with a `precision` (bf16 or f16: a device computing f32
  /// work in its 16-bit float) as that device would: its f32 inputs and
  /// outputs rounded to that type (to nearest even), the arithmetic in
  /// between f32. False: every task computes in f32 (the exact plan).
  bool emulatePrecision = true;
  /// Device kernels (DeviceKernel.h) that replace the registry's: called at
  /// load for every kernel task; a non-null result runs that task, and its
  /// `loom_cpu_kernel` runs the kernel the registry chose. The stubs of
  /// `loomc --emit=stubs` set this.
  std::function<LoomKernelFn(const Plan &plan, const PlanTask &task)>
      deviceKernels;
};

/// The KernelFn that runs C device kernel `fn` for `task` (`cpu`: the
/// registry's kernel its loom_cpu_kernel runs). Throws KernelError naming
/// the device when `fn` returns non-zero.
KernelFn wrapDeviceKernel(LoomKernelFn fn, const PlanTask &task,
                          const KernelEntry *cpu);

/// Name, dtype and shape of a graph input or output.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  /// Inputs only: folded at compile time (setInput only checks equality).
  bool folded = false;
};

/// Measured times of one task in the last run, in microseconds since the
/// start of run().
struct TaskTiming {
  size_t task = 0;
  size_t device = 0;
  size_t queue = 0;
  double startUs = 0;
  double endUs = 0;
};

/// Each task's time in one run of `plan` (`timings`: Session::lastTimings),
/// dispatch included: from the moment it could start (the end of the
/// previous task on its queue and of its deps, or the start of the run) to
/// its end. Tasks that did not run are absent. loom-profile and the cost
/// calibration measure tasks this way.
std::vector<std::optional<double>> taskTimes(const Plan &plan,
                                             const std::vector<TaskTiming> &timings);

class Session {
public:
  /// Loads the plan folder `dir`. Throws PlanError for an invalid plan, a
  /// missing or mis-sized weights file, an arena that cannot be allocated, or
  /// a task without a kernel (naming the task id, name and kernel).
  static std::unique_ptr<Session> load(const std::string &dir,
                                       SessionOptions options = {});
  /// What loadSharing shares.
  enum class Sharing { Weights, WeightsAndState };
  /// Loads the plan folder `dir` like load(), sharing with `other` (the
  /// plans of a generation program do):
  /// - the weights, when both plans name the same weights file: it is
  ///   mapped once, and kernels that key derived data by the weights'
  ///   address share it;
  /// - with Sharing::WeightsAndState, every state buffer whose name
  ///   `other`'s plan has too: one storage, so a run of either session sees
  ///   what the other wrote. The two must agree on its dtype and shape
  ///   (else PlanError).
  /// Shared memory lives as long as any session using it.
  static std::unique_ptr<Session>
  loadSharing(const std::string &dir, const Session &other,
              SessionOptions options = {},
              Sharing sharing = Sharing::WeightsAndState);
  /// Loads a plan embedded in the program (loomc --emit=stubs
  /// --embed-weights): plan.json's text and weights.bin's bytes, which must
  /// stay valid while the session lives. `name` stands for the folder in
  /// messages. Throws PlanError as load() does.
  static std::unique_ptr<Session> loadEmbedded(std::string_view planJson,
                                               const void *weights,
                                               size_t weightsSize,
                                               const std::string &name,
                                               SessionOptions options = {});

  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// The validated plan.
  const Plan &plan() const;

  /// Graph inputs and outputs in graph order.
  const std::vector<TensorInfo> &inputs() const;
  const std::vector<TensorInfo> &outputs() const;
  std::optional<size_t> findInput(std::string_view name) const;
  std::optional<size_t> findOutput(std::string_view name) const;

  /// Copies `value` into input `index` after checking its dtype and shape.
  /// For a folded input, only checks that `value` equals the folded value.
  /// The binding stays until replaced: later runs reuse it. Throws
  /// SessionError.
  void setInput(size_t index, const Tensor &value);
  void setInput(std::string_view name, const Tensor &value);
  /// Whether input `index` has a value (folded inputs always have one).
  bool isInputSet(size_t index) const;

  /// The session's own storage of input `index` (its buffer's bytes, in the
  /// input's dtype and shape), to update a value in place instead of
  /// copying it whole with setInput: a generation loop writes only the new
  /// entries of a KV cache. Marks the input as set; the bytes stay between
  /// runs. Not for folded inputs. Throws SessionError.
  uint8_t *inputStorage(size_t index);

  /// The plan's state buffers (`state` in plan.json): tensors that keep
  /// their bytes from one run to the next, zeroed at load. Tasks read and
  /// update them in place; a caller may read or write them between runs
  /// through stateStorage().
  const std::vector<TensorInfo> &states() const;
  std::optional<size_t> findState(std::string_view name) const;
  /// The bytes of state buffer `index` (its dtype and shape). Throws
  /// SessionError for an index out of range.
  uint8_t *stateStorage(size_t index);
  /// Zeroes every state buffer (shared ones too).
  void resetStates();

  /// Output `index` of the last successful run in place (no copy), valid
  /// until the next run. Throws SessionError when there is none.
  const uint8_t *outputStorage(size_t index) const;

  /// Executes the plan once. Throws SessionError when an input is unbound or
  /// a task fails; the first failure stops the run. May be called repeatedly.
  void run();

  /// Copies output `index` (or the output named `name`) of the last
  /// successful run. Throws SessionError when there is none.
  Tensor getOutput(size_t index) const;
  Tensor getOutput(std::string_view name) const;

  /// Per-task times of the last run, by task id; tasks that did not run
  /// (after a failure) are left out.
  std::vector<TaskTiming> lastTimings() const;

  /// The kernel entry bound to task `task`; null for transfers.
  const KernelEntry *taskKernel(size_t task) const;

private:
  explicit Session(std::unique_ptr<detail::SessionImpl> impl);
  /// Arenas, buffers, tasks and workers of a plan whose weights are mapped.
  static std::unique_ptr<Session> start(std::unique_ptr<detail::SessionImpl> impl);
  std::unique_ptr<detail::SessionImpl> impl;
};

} // namespace loom::rt

#endif // LOOM_RUNTIME_SESSION_H
