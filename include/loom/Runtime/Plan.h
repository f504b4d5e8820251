//===- Plan.h - The executable plan (plan.json + weights.bin) ---*- C++ -*-===//
//
// Plain structs mirroring plan.json (see docs/plan-format.md, the contract
// between loomc and the runtime) and the loader that parses and validates a
// plan folder. No MLIR and no ONNX dependency.
//
// Every id in the structs below has been checked at load: it names an existing
// element, so consumers may index the vectors without further checks.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_PLAN_H
#define LOOM_RUNTIME_PLAN_H

#include "loom/Runtime/Kernel.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::rt {

/// A malformed plan folder, or a plan the runtime cannot execute. The message
/// names the file and the JSON path, e.g.
/// `out/plan.json: tasks[4].inputs[1]: buffer 99 does not exist`.
class PlanError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The plan format version this runtime reads.
constexpr int64_t kPlanVersion = 1;
/// The arena name of buffers that live in weights.bin.
constexpr std::string_view kWeightsArenaName = "weights";
/// The arena name of state buffers (`state`): each is its own block, owned
/// by the program that runs the plan and kept from one run to the next.
constexpr std::string_view kStateArenaName = "state";

/// `model`: where the plan came from (informational).
struct PlanModel {
  std::string source;
  std::string graph;
  int64_t opset = 0;
};

/// `weights`: the weights file.
struct PlanWeights {
  /// File name relative to the plan's folder.
  std::string file;
  uint64_t sizeBytes = 0;
  uint64_t alignment = 1;
};

enum class DeviceKind { Cpu, Gpu, Npu };
const char *deviceKindName(DeviceKind kind);

/// `devices[i]`.
struct PlanDevice {
  std::string name;
  DeviceKind kind = DeviceKind::Cpu;
  /// Number of in-order queues (>= 1).
  size_t queues = 1;
  /// The device's arena (name and index into Plan::arenas).
  std::string arena;
  size_t arenaIndex = 0;
};

/// `arenas[i]`.
struct PlanArena {
  std::string name;
  std::string device;
  size_t deviceIndex = 0;
  uint64_t peakBytes = 0;
  uint64_t alignment = 1;
};

/// `buffers[i]`.
struct PlanBuffer {
  std::string name;
  /// Arena name as written (a device arena, "weights" or "state").
  std::string arena;
  /// Index into Plan::arenas; nullopt for a weights or state buffer.
  std::optional<size_t> arenaIndex;
  /// Index into Plan::states for a state buffer.
  std::optional<size_t> stateIndex;
  uint64_t offset = 0;
  uint64_t sizeBytes = 0;
  DType dtype = DType::F32;
  Shape shape;
  /// For a view (`view_of`): the buffer whose bytes it is part of (an
  /// earlier buffer, not itself a view); `offset` is still the view's own
  /// offset in the arena.
  std::optional<size_t> viewOf;

  bool isWeights() const { return !arenaIndex && !stateIndex; }
  bool isState() const { return stateIndex.has_value(); }
};

/// `inputs[i]` and `outputs[i]`.
struct PlanValue {
  std::string name;
  size_t buffer = 0;
  DType dtype = DType::F32;
  Shape shape;
  /// Inputs only: the value was folded at compile time; `buffer` is the
  /// weights buffer holding it.
  bool folded = false;
};

/// `state[i]`: a buffer that keeps its bytes from one run to the next; a
/// runtime may give plans the same storage for the same name.
struct PlanState {
  std::string name;
  size_t buffer = 0;
};

/// `kernel` and `transfer` tasks, and the control tasks `if` and `loop`,
/// which run their bodies' tasks themselves.
enum class TaskKind { Kernel, Transfer, If, Loop };
/// The `kind` as written in plan.json.
const char *taskKindName(TaskKind kind);
inline bool isControlTask(TaskKind kind) {
  return kind == TaskKind::If || kind == TaskKind::Loop;
}

struct PlanTask;

/// `tasks[i].bodies[j]`: a sub-schedule of a control task. Its tasks have
/// ids equal to their position in `tasks`, the control task's device and
/// queue, and no deps.
struct PlanBody {
  /// Informational (the ONNX attribute name: then_branch, body, ...).
  std::string name;
  /// Buffers the control task writes before each run of the body.
  std::vector<size_t> params;
  /// Buffers the control task reads after each run of the body.
  std::vector<size_t> results;
  std::vector<PlanTask> tasks;
};

/// `tasks[i]`, or a task of a control task's body.
struct PlanTask {
  std::string name;
  TaskKind kind = TaskKind::Kernel;
  std::string device;
  size_t deviceIndex = 0;
  size_t queue = 0;
  /// Kernel name (the loom op mnemonic); "copy" for transfers.
  std::string kernel;
  Attrs attrs;
  /// Buffer ids in operand order; nullopt for an absent optional operand.
  std::vector<std::optional<size_t>> inputs;
  std::vector<std::optional<size_t>> outputs;
  /// Earlier tasks this task waits for.
  std::vector<size_t> deps;
  double startUs = 0;
  double endUs = 0;
  /// ONNX node names covered by the task.
  std::vector<std::string> ops;
  /// Estimated time per device name; nullopt where the device cannot run it.
  std::vector<std::pair<std::string, std::optional<double>>> costUs;
  /// Control tasks only: `if` has [then, else], `loop` its one body.
  std::vector<PlanBody> bodies;
  /// Kernel tasks only: the 16-bit float (bf16 or f16) the task's device
  /// computes its f32 work in (device precision `auto`); a runtime on the
  /// host emulates it (SessionOptions::emulatePrecision).
  std::optional<DType> precision;
};

/// `events[i]`: a cross-queue dependency signalled by `task`.
struct PlanEvent {
  size_t task = 0;
  std::vector<size_t> waiters;
};

/// A parsed and validated plan.
struct Plan {
  /// The plan's folder and the path of its plan.json (used in messages).
  std::string dir;
  std::string planPath;

  int64_t version = kPlanVersion;
  std::string producer;
  PlanModel model;
  std::string target;
  PlanWeights weights;
  std::vector<PlanDevice> devices;
  std::vector<PlanArena> arenas;
  std::vector<PlanBuffer> buffers;
  std::vector<PlanValue> inputs;
  std::vector<PlanValue> outputs;
  std::vector<PlanState> states;
  std::vector<PlanTask> tasks;
  std::vector<PlanEvent> events;
  double makespanUs = 0;

  /// The path of the weights file (dir / weights.file).
  std::string weightsPath() const;
  /// Index of the device named `name`, if any.
  std::optional<size_t> findDevice(std::string_view name) const;
  /// Index of the arena named `name`, if any ("weights" is not an arena).
  std::optional<size_t> findArena(std::string_view name) const;
};

/// Parses and validates plan.json text (everything in the "Validation"
/// section of docs/plan-format.md except the weights file itself). `file` is
/// the name used in error messages. Throws PlanError.
Plan parsePlan(std::string_view jsonText, const std::string &file);

/// Reads `dir`/plan.json, parses and validates it, and checks that the weights
/// file exists and has exactly `weights.size_bytes` bytes. Throws PlanError.
Plan loadPlan(const std::string &dir);

} // namespace loom::rt

#endif // LOOM_RUNTIME_PLAN_H
