//===- Session.cpp - Loading a plan and binding inputs and outputs --------===//
//
// Session::load: validate the plan, memory-map weights.bin, map one zeroed
// arena per device, resolve every buffer's address, build each task's
// KernelArgs and choose its kernel once, and assign tasks to workers. Also
// the input/output API. Execution is in SessionRun.cpp.
//
//===----------------------------------------------------------------------===//
#include "SessionImpl.h"

#include "PlanInternal.h"

#include "loom/Runtime/Float16.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace loom::rt {

using detail::BoundBody;
using detail::BoundTask;
using detail::MappedMemory;
using detail::SessionImpl;

//===----------------------------------------------------------------------===//
// MappedMemory
//===----------------------------------------------------------------------===//

MappedMemory &MappedMemory::operator=(MappedMemory &&other) noexcept {
  if (this != &other) {
    reset();
    data = other.data;
    size = other.size;
    owned = other.owned;
    other.data = nullptr;
    other.size = 0;
  }
  return *this;
}

void MappedMemory::reset() {
  if (data && size && owned)
    ::munmap(data, size);
  data = nullptr;
  size = 0;
}

namespace {

std::string shapeText(DType dtype, const Shape &shape) {
  std::string out = std::string(dtypeName(dtype)) + "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

/// Maps the weights file read-only and checks its size again (the file may
/// have changed since loadPlan looked at it). An empty file maps to nothing.
MappedMemory mapWeights(const Plan &plan) {
  const std::string path = plan.weightsPath();
  auto failHere = [&](const std::string &what) {
    detail::planFail(plan.planPath, "weights.file",
                     "cannot map " + path + ": " + what);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    failHere(std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    failHere(std::strerror(err));
  }
  if (uint64_t(st.st_size) != plan.weights.sizeBytes) {
    ::close(fd);
    detail::planFail(plan.planPath, "weights.size_bytes",
                     std::to_string(plan.weights.sizeBytes) + ", but " + path +
                         " has " + std::to_string(st.st_size) + " bytes");
  }
  if (plan.weights.sizeBytes == 0) {
    ::close(fd);
    return {};
  }
  void *p =
      ::mmap(nullptr, plan.weights.sizeBytes, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  if (p == MAP_FAILED)
    failHere(std::strerror(err));
  return MappedMemory(p, plan.weights.sizeBytes);
}

/// Maps `bytes` (at least one) of zero-filled anonymous memory for `what`
/// (at JSON path `path` in messages). Mappings are page-aligned, which
/// satisfies every valid alignment.
MappedMemory mapZeroed(const Plan &plan, const std::string &path,
                       uint64_t bytes, const std::string &what) {
  size_t size = std::max<uint64_t>(bytes, 1);
  void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    detail::planFail(plan.planPath, path,
                     "cannot allocate " + std::to_string(bytes) +
                         " bytes for " + what + ": " + std::strerror(errno));
  return MappedMemory(p, size);
}

/// Maps a zero-filled arena of `arena.peakBytes`.
MappedMemory mapArena(const Plan &plan, size_t index) {
  const PlanArena &arena = plan.arenas[index];
  MappedMemory m = mapZeroed(plan, detail::elementPath("arenas", index),
                             arena.peakBytes, "arena '" + arena.name + "'");
  if (reinterpret_cast<uintptr_t>(m.bytes()) % arena.alignment != 0)
    detail::planFail(plan.planPath, detail::elementPath("arenas", index),
                     "cannot align arena '" + arena.name + "' to " +
                         std::to_string(arena.alignment) + " bytes");
  return m;
}

/// Rounds `n` floats to `type` (bf16 or f16, to nearest even) and back.
void roundFloats(const float *in, float *out, int64_t n, DType type) {
  if (type == DType::BF16)
    for (int64_t i = 0; i < n; ++i)
      out[i] = bf16BitsToFloat(floatToBf16Bits(in[i]));
  else
    for (int64_t i = 0; i < n; ++i)
      out[i] = halfBitsToFloat(floatToHalfBits(in[i]));
}

/// `inner` as a device computing in `type` runs it: f32 inputs rounded to
/// `type` (weights once, here; activations per call into storage kept
/// between calls), then `inner` in f32, then its f32 outputs rounded.
KernelFn emulatedKernel(KernelFn inner, DType type, const KernelArgs &args,
                          const std::vector<bool> &constant) {
  struct State {
    std::vector<bool> rounds;               // per input: an f32 operand
    std::vector<std::vector<float>> copies; // its rounded values
  };
  auto state = std::make_shared<State>();
  state->rounds.assign(args.inputs.size(), false);
  state->copies.resize(args.inputs.size());
  for (size_t i = 0; i < args.inputs.size(); ++i) {
    const TensorRef &in = args.inputs[i];
    if (!in.present || in.dtype != DType::F32)
      continue;
    state->rounds[i] = true;
    state->copies[i].resize(size_t(in.numElements()));
    if (constant[i])
      roundFloats(in.as<float>(), state->copies[i].data(), in.numElements(),
                  type);
  }
  return [inner = std::move(inner), type, state, constant](KernelArgs &a) {
    KernelArgs rounded = a;
    for (size_t i = 0; i < a.inputs.size() && i < state->rounds.size(); ++i) {
      if (!state->rounds[i])
        continue;
      std::vector<float> &copy = state->copies[i];
      if (!constant[i])
        roundFloats(a.inputs[i].as<float>(), copy.data(),
                    a.inputs[i].numElements(), type);
      rounded.inputs[i].data = copy.data();
    }
    inner(rounded);
    for (const TensorRef &out : a.outputs)
      if (out.present && out.dtype == DType::F32)
        roundFloats(out.as<float>(), out.as<float>(), out.numElements(), type);
  };
}

/// The view of buffer `id` (or an absent operand).
TensorRef operandRef(const SessionImpl &s, const std::optional<size_t> &id) {
  if (!id)
    return TensorRef{DType::F32, {}, nullptr, false};
  const PlanBuffer &b = s.plan.buffers[*id];
  return TensorRef{b.dtype, b.shape, s.bufferData[*id], true};
}

/// The load error of task `t` (at JSON path `path`, described as `label`)
/// without a usable kernel.
[[noreturn]] void noKernel(const Plan &plan, const PlanTask &t,
                           const std::string &path, const std::string &label,
                           const KernelArgs &args) {
  std::string msg = label + ": ";
  std::vector<std::string> names = KernelRegistry::global().names();
  if (!std::binary_search(names.begin(), names.end(), t.kernel)) {
    msg += "no kernel named '" + t.kernel + "' in the runtime";
  } else {
    msg += "kernel '" + t.kernel + "' has no implementation for input dtypes (";
    for (size_t i = 0; i < args.inputs.size(); ++i)
      msg +=
          std::string(i ? ", " : "") +
          (args.inputs[i].present ? dtypeName(args.inputs[i].dtype) : "none");
    msg += ")";
  }
  detail::planFail(plan.planPath, path + ".kernel", msg);
}

/// Builds the arguments of task `t` (task `id` of the plan or of its body,
/// at JSON path `path`, described as `label` in messages) and chooses its
/// kernel; binds the tasks of a control task's bodies likewise.
BoundTask bindTask(SessionImpl &s, const PlanTask &t, size_t id,
                   const std::string &path, const std::string &label) {
  const bool shortTask = t.endUs - t.startUs < s.options.minParallelTaskUs;
  BoundTask bt{&t, id, nullptr,
               KernelArgs{t.attrs, {}, {},
                          shortTask ? 1 : std::max(1, s.options.threads)}};
  if (isControlTask(t.kind)) {
    for (size_t b = 0; b < t.bodies.size(); ++b) {
      const PlanBody &body = t.bodies[b];
      const std::string bpath = detail::elementPath(path + ".bodies", b);
      BoundBody bound{&body, {}};
      for (size_t j = 0; j < body.tasks.size(); ++j)
        bound.tasks.push_back(bindTask(
            s, body.tasks[j], j, detail::elementPath(bpath + ".tasks", j),
            label + ", body '" + body.name + "', task " + std::to_string(j) +
                " '" + body.tasks[j].name + "'"));
      bt.bodies.push_back(std::move(bound));
    }
    return bt;
  }
  for (const auto &in : t.inputs)
    bt.args.inputs.push_back(operandRef(s, in));
  for (const auto &out : t.outputs)
    bt.args.outputs.push_back(operandRef(s, out));
  if (t.kind == TaskKind::Transfer) {
    bt.src = bt.args.inputs[0].data;
    bt.dst = bt.args.outputs[0].data;
    bt.bytes = s.plan.buffers[*t.inputs[0]].sizeBytes;
    return bt;
  }
  // Trailing absent operands are simply not passed (as ONNX omits them).
  while (!bt.args.inputs.empty() && !bt.args.inputs.back().present)
    bt.args.inputs.pop_back();
  while (!bt.args.outputs.empty() && !bt.args.outputs.back().present)
    bt.args.outputs.pop_back();
  const KernelRegistry &registry = KernelRegistry::global();
  try {
    bt.kernel = registry.lookup(t.kernel, bt.args, s.options.allowFastPaths);
  } catch (const KernelError &) {
    // A fast path's `accepts` that throws does not accept the call.
    bt.kernel = registry.lookup(t.kernel, bt.args, /*allowFast=*/false);
  }
  if (!bt.kernel)
    noKernel(s.plan, t, path, label, bt.args);
  if (s.options.deviceKernels)
    if (LoomKernelFn fn = s.options.deviceKernels(s.plan, t)) {
      auto entry = std::make_unique<KernelEntry>(*bt.kernel);
      entry->name = t.kernel;
      entry->fn = wrapDeviceKernel(fn, t, bt.kernel);
      entry->accepts = nullptr;
      bt.kernel = entry.get();
      s.deviceKernels.push_back(std::move(entry));
    }
  if (t.precision && s.options.emulatePrecision) {
    std::vector<bool> constant;
    for (const auto &in : t.inputs)
      constant.push_back(in && s.plan.buffers[*in].isWeights());
    auto entry = std::make_unique<KernelEntry>(*bt.kernel);
    entry->fn = emulatedKernel(bt.kernel->fn, *t.precision, bt.args, constant);
    entry->accepts = nullptr;
    bt.kernel = entry.get();
    s.deviceKernels.push_back(std::move(entry));
  }
  return bt;
}

TensorInfo infoOf(const PlanValue &v) {
  return TensorInfo{v.name, v.dtype, v.shape, v.folded};
}

} // namespace

//===----------------------------------------------------------------------===//
// Session::load
//===----------------------------------------------------------------------===//

namespace {
/// Loads the plan folder `dir`; its weights through `shareFrom`'s mapping
/// when that session's plan names the same file, and its state buffers in
/// `shareFrom`'s storage where the names match (see loadSharing).
std::unique_ptr<SessionImpl> loadFolder(const std::string &dir,
                                        SessionOptions options,
                                        const SessionImpl *shareFrom,
                                        bool shareState) {
  registerBuiltinKernels();
  auto impl = std::make_unique<SessionImpl>();
  SessionImpl &s = *impl;
  s.plan = loadPlan(dir);
  s.options = options;
  std::error_code ec;
  if (shareFrom &&
      s.plan.weights.sizeBytes == shareFrom->plan.weights.sizeBytes &&
      std::filesystem::equivalent(s.plan.weightsPath(),
                                  shareFrom->plan.weightsPath(), ec) &&
      !ec)
    s.weights = shareFrom->weights;
  else
    s.weights = std::make_shared<MappedMemory>(mapWeights(s.plan));
  s.states.resize(s.plan.states.size());
  if (shareFrom && shareState)
    for (size_t i = 0; i < s.plan.states.size(); ++i) {
      const PlanState &st = s.plan.states[i];
      const PlanBuffer &b = s.plan.buffers[st.buffer];
      for (size_t j = 0; j < shareFrom->plan.states.size(); ++j) {
        if (shareFrom->plan.states[j].name != st.name)
          continue;
        const PlanBuffer &o =
            shareFrom->plan.buffers[shareFrom->plan.states[j].buffer];
        if (o.dtype != b.dtype || o.shape != b.shape)
          detail::planFail(s.plan.planPath, detail::elementPath("state", i),
                           "state '" + st.name + "' is " +
                               shapeText(b.dtype, b.shape) + " here but " +
                               shapeText(o.dtype, o.shape) + " in " +
                               shareFrom->plan.planPath +
                               ", which shares its state");
        s.states[i] = shareFrom->states[j];
      }
    }
  return impl;
}
} // namespace

std::unique_ptr<Session> Session::load(const std::string &dir,
                                       SessionOptions options) {
  return start(loadFolder(dir, options, nullptr, false));
}

std::unique_ptr<Session> Session::loadSharing(const std::string &dir,
                                              const Session &other,
                                              SessionOptions options,
                                              Sharing sharing) {
  return start(loadFolder(dir, options, other.impl.get(),
                          sharing == Sharing::WeightsAndState));
}

std::unique_ptr<Session> Session::loadEmbedded(std::string_view planJson,
                                               const void *weights,
                                               size_t weightsSize,
                                               const std::string &name,
                                               SessionOptions options) {
  registerBuiltinKernels();
  auto impl = std::make_unique<SessionImpl>();
  SessionImpl &s = *impl;
  s.plan = parsePlan(planJson, name + "/plan.json");
  s.plan.dir = name;
  if (s.plan.weights.sizeBytes != weightsSize)
    detail::planFail(s.plan.planPath, "weights.size_bytes",
                     std::to_string(s.plan.weights.sizeBytes) +
                         ", but the embedded weights have " +
                         std::to_string(weightsSize) + " bytes");
  s.options = options;
  s.weights = std::make_shared<MappedMemory>(
      MappedMemory::borrowed(weights, weightsSize));
  s.states.resize(s.plan.states.size());
  return start(std::move(impl));
}

std::unique_ptr<Session>
Session::start(std::unique_ptr<detail::SessionImpl> impl) {
  SessionImpl &s = *impl;
  const Plan &plan = s.plan;
  // Memory: arenas, and every buffer's address.
  for (size_t i = 0; i < plan.arenas.size(); ++i)
    s.arenas.push_back(mapArena(plan, i));
  for (size_t i = 0; i < plan.states.size(); ++i) {
    const PlanBuffer &b = plan.buffers[plan.states[i].buffer];
    if (!s.states[i])
      s.states[i] = std::make_shared<MappedMemory>(
          mapZeroed(plan, detail::elementPath("state", i), b.sizeBytes,
                    "state '" + plan.states[i].name + "'"));
    s.stateInfos.push_back(
        TensorInfo{plan.states[i].name, b.dtype, b.shape, false});
  }
  for (const PlanBuffer &b : plan.buffers) {
    uint8_t *base = b.arenaIndex ? s.arenas[*b.arenaIndex].bytes()
                    : b.stateIndex ? s.states[*b.stateIndex]->bytes()
                                   : s.weights->bytes();
    s.bufferData.push_back(base ? base + b.offset : s.emptyStorage);
  }

  for (const PlanValue &v : plan.inputs)
    s.inputInfos.push_back(infoOf(v));
  for (const PlanValue &v : plan.outputs)
    s.outputInfos.push_back(infoOf(v));
  s.inputSet.assign(plan.inputs.size(), false);

  // Tasks, and one worker per (device, queue) that has tasks, in order of
  // first appearance.
  s.tasks.reserve(plan.tasks.size());
  std::map<std::pair<size_t, size_t>, size_t> workerOf;
  for (size_t id = 0; id < plan.tasks.size(); ++id) {
    const PlanTask &t = plan.tasks[id];
    s.tasks.push_back(bindTask(s, t, id, detail::elementPath("tasks", id),
                               "task " + std::to_string(id) + " '" + t.name +
                                   "'"));
    auto key = std::make_pair(t.deviceIndex, t.queue);
    auto [it, inserted] = workerOf.emplace(key, s.workers.size());
    if (inserted) {
      s.workers.emplace_back();
      s.workers.back().device = t.deviceIndex;
      s.workers.back().queue = t.queue;
    }
    s.workers[it->second].tasks.push_back(id);
  }
  // Within a queue, plan order suffices; only cross-queue deps are waited on.
  for (size_t id = 0; id < plan.tasks.size(); ++id) {
    const PlanTask &t = plan.tasks[id];
    for (size_t d : t.deps) {
      const PlanTask &dep = plan.tasks[d];
      if (dep.deviceIndex == t.deviceIndex && dep.queue == t.queue)
        continue;
      s.tasks[id].waitFor.push_back(d);
      s.tasks[d].signals = true;
    }
    std::sort(s.tasks[id].waitFor.begin(), s.tasks[id].waitFor.end());
    s.tasks[id].waitFor.erase(
        std::unique(s.tasks[id].waitFor.begin(), s.tasks[id].waitFor.end()),
        s.tasks[id].waitFor.end());
  }
  s.doneGen.reset(new std::atomic<uint64_t>[plan.tasks.size()]);
  for (size_t i = 0; i < plan.tasks.size(); ++i)
    s.doneGen[i].store(0);
  s.timings.resize(plan.tasks.size());
  s.timingGen.assign(plan.tasks.size(), 0);

  s.startWorkers();
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Session::Session(std::unique_ptr<detail::SessionImpl> impl)
    : impl(std::move(impl)) {}
Session::~Session() = default;

const Plan &Session::plan() const { return impl->plan; }
const std::vector<TensorInfo> &Session::inputs() const {
  return impl->inputInfos;
}
const std::vector<TensorInfo> &Session::outputs() const {
  return impl->outputInfos;
}

std::optional<size_t> Session::findInput(std::string_view name) const {
  for (size_t i = 0; i < impl->inputInfos.size(); ++i)
    if (impl->inputInfos[i].name == name)
      return i;
  return std::nullopt;
}

std::optional<size_t> Session::findOutput(std::string_view name) const {
  for (size_t i = 0; i < impl->outputInfos.size(); ++i)
    if (impl->outputInfos[i].name == name)
      return i;
  return std::nullopt;
}

const KernelEntry *Session::taskKernel(size_t task) const {
  return task < impl->tasks.size() ? impl->tasks[task].kernel : nullptr;
}

//===----------------------------------------------------------------------===//
// Inputs and outputs
//===----------------------------------------------------------------------===//

void Session::setInput(size_t index, const Tensor &value) {
  SessionImpl &s = *impl;
  if (index >= s.inputInfos.size())
    throw SessionError("input index " + std::to_string(index) +
                       " is out of range (the plan has " +
                       std::to_string(s.inputInfos.size()) + " inputs)");
  const TensorInfo &info = s.inputInfos[index];
  const std::string what = "input '" + info.name + "'";
  if (value.dtype != info.dtype || value.shape != info.shape)
    throw SessionError(what + ": expected " +
                       shapeText(info.dtype, info.shape) + ", got " +
                       shapeText(value.dtype, value.shape));
  const PlanBuffer &b = s.plan.buffers[s.plan.inputs[index].buffer];
  if (value.bytes.size() != b.sizeBytes)
    throw SessionError(what + ": the value has " +
                       std::to_string(value.bytes.size()) +
                       " bytes, expected " + std::to_string(b.sizeBytes) +
                       " for " + shapeText(info.dtype, info.shape));
  uint8_t *dst = s.bufferData[s.plan.inputs[index].buffer];
  if (info.folded) {
    // A folded value is part of the compiled plan: accept only that value.
    for (size_t i = 0; i < b.sizeBytes; ++i)
      if (dst[i] != value.bytes[i])
        throw SessionError(
            what +
            " was folded into the plan at compile time; the given "
            "value differs from the folded value (first at element " +
            std::to_string(i / dtypeSize(info.dtype)) + ")");
  } else if (b.sizeBytes) {
    std::memcpy(dst, value.bytes.data(), b.sizeBytes);
  }
  s.inputSet[index] = true;
}

void Session::setInput(std::string_view name, const Tensor &value) {
  if (std::optional<size_t> index = findInput(name))
    return setInput(*index, value);
  std::string known;
  for (const TensorInfo &info : impl->inputInfos)
    known += (known.empty() ? "'" : ", '") + info.name + "'";
  throw SessionError("no input named '" + std::string(name) +
                     "' (inputs: " + (known.empty() ? "none" : known) + ")");
}

bool Session::isInputSet(size_t index) const {
  return index < impl->inputSet.size() &&
         (impl->inputSet[index] || impl->inputInfos[index].folded);
}

Tensor Session::getOutput(size_t index) const {
  const SessionImpl &s = *impl;
  if (index >= s.outputInfos.size())
    throw SessionError("output index " + std::to_string(index) +
                       " is out of range (the plan has " +
                       std::to_string(s.outputInfos.size()) + " outputs)");
  const TensorInfo &info = s.outputInfos[index];
  if (!s.haveResult)
    throw SessionError("output '" + info.name + "': no successful run yet");
  size_t id = s.plan.outputs[index].buffer;
  Tensor t;
  t.dtype = info.dtype;
  t.shape = info.shape;
  t.bytes.assign(s.bufferData[id],
                 s.bufferData[id] + s.plan.buffers[id].sizeBytes);
  return t;
}

uint8_t *Session::inputStorage(size_t index) {
  SessionImpl &s = *impl;
  if (index >= s.inputInfos.size())
    throw SessionError("input index " + std::to_string(index) +
                       " is out of range (the plan has " +
                       std::to_string(s.inputInfos.size()) + " inputs)");
  if (s.inputInfos[index].folded)
    throw SessionError("input '" + s.inputInfos[index].name +
                       "' was folded into the plan at compile time");
  s.inputSet[index] = true;
  return s.bufferData[s.plan.inputs[index].buffer];
}

const std::vector<TensorInfo> &Session::states() const {
  return impl->stateInfos;
}

std::optional<size_t> Session::findState(std::string_view name) const {
  for (size_t i = 0; i < impl->stateInfos.size(); ++i)
    if (impl->stateInfos[i].name == name)
      return i;
  return std::nullopt;
}

uint8_t *Session::stateStorage(size_t index) {
  SessionImpl &s = *impl;
  if (index >= s.states.size())
    throw SessionError("state index " + std::to_string(index) +
                       " is out of range (the plan has " +
                       std::to_string(s.states.size()) + " state buffers)");
  return s.bufferData[s.plan.states[index].buffer];
}

void Session::resetStates() {
  SessionImpl &s = *impl;
  for (size_t i = 0; i < s.states.size(); ++i)
    std::memset(s.bufferData[s.plan.states[i].buffer], 0,
                s.plan.buffers[s.plan.states[i].buffer].sizeBytes);
}

const uint8_t *Session::outputStorage(size_t index) const {
  const SessionImpl &s = *impl;
  if (index >= s.outputInfos.size())
    throw SessionError("output index " + std::to_string(index) +
                       " is out of range (the plan has " +
                       std::to_string(s.outputInfos.size()) + " outputs)");
  if (!s.haveResult)
    throw SessionError("output '" + s.outputInfos[index].name +
                       "': no successful run yet");
  return s.bufferData[s.plan.outputs[index].buffer];
}

Tensor Session::getOutput(std::string_view name) const {
  if (std::optional<size_t> index = findOutput(name))
    return getOutput(*index);
  throw SessionError("no output named '" + std::string(name) + "'");
}

} // namespace loom::rt

std::vector<std::optional<double>> loom::rt::taskTimes(const Plan &plan,
                                                       const std::vector<TaskTiming> &ts) {
  std::vector<std::optional<TaskTiming>> byTask(plan.tasks.size());
  for (const TaskTiming &t : ts)
    if (t.task < byTask.size())
      byTask[t.task] = t;
  std::map<std::pair<size_t, size_t>, double> queueEnd;
  std::vector<std::optional<double>> out(plan.tasks.size());
  for (size_t id = 0; id < plan.tasks.size(); ++id) {
    if (!byTask[id])
      continue;
    const TaskTiming &t = *byTask[id];
    double ready = 0;
    auto q = queueEnd.find({t.device, t.queue});
    if (q != queueEnd.end())
      ready = q->second;
    for (size_t dep : plan.tasks[id].deps)
      if (byTask[dep])
        ready = std::max(ready, byTask[dep]->endUs);
    out[id] = t.endUs - std::min(t.startUs, std::max(ready, 0.0));
    queueEnd[{t.device, t.queue}] = t.endUs;
  }
  return out;
}
