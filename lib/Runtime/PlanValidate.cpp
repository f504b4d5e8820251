//===- PlanValidate.cpp - Cross-reference checks of a parsed plan ---------===//
//
// The rules of docs/plan-format.md ("Validation") that relate elements to
// each other: names and ids resolve, buffers lie inside their arena, deps name
// earlier tasks, nobody writes read-only memory, every output has a value,
// input and output buffers are not shared, the events are exactly the
// cross-queue deps, cross-queue reads wait for their writers, and the
// predicted schedule is one the plan allows (each task on a device that can
// run it, after its deps, never overlapping another on its queue or link;
// buffers of one arena never overlap while both are live). Every failure
// names plan.json and the JSON path.
//
//===----------------------------------------------------------------------===//
#include "PlanInternal.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace loom::rt::detail {
namespace {

std::string quoted(const std::string &s) { return "'" + s + "'"; }

std::string shapeText(DType dtype, const Shape &shape) {
  std::string out = std::string(dtypeName(dtype)) + "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

class Validator {
public:
  explicit Validator(Plan &plan) : p(plan) {}

  void run() {
    resolveDevicesAndArenas();
    checkBuffers();
    checkStates();
    checkValues();
    checkTasks();
    checkBodyWrites();
    checkOutputsHaveValues();
    checkPinnedBuffersAreNotShared();
    checkEvents();
    checkOrderedReads();
    checkPredictedSchedule();
    checkLiveBuffersDoNotOverlap();
    checkMemoryHazards();
  }

private:
  [[noreturn]] void fail(const std::string &path, const std::string &msg) {
    planFail(p.planPath, path, msg);
  }

  /// Fails unless `id` names a buffer.
  const PlanBuffer &buffer(size_t id, const std::string &path) {
    if (id >= p.buffers.size())
      fail(path, "buffer " + std::to_string(id) +
                     " does not exist (the plan has " +
                     std::to_string(p.buffers.size()) + " buffers)");
    return p.buffers[id];
  }

  /// Devices and arenas name each other one-to-one.
  void resolveDevicesAndArenas() {
    std::map<std::string, size_t> deviceIds, arenaIds;
    for (size_t i = 0; i < p.devices.size(); ++i)
      if (!deviceIds.emplace(p.devices[i].name, i).second)
        fail(elementPath("devices", i) + ".name",
             "duplicate device name " + quoted(p.devices[i].name));
    for (size_t i = 0; i < p.arenas.size(); ++i) {
      const std::string &name = p.arenas[i].name;
      if (name == kWeightsArenaName)
        fail(elementPath("arenas", i) + ".name",
             "'weights' is reserved for the weights file");
      if (name == kStateArenaName)
        fail(elementPath("arenas", i) + ".name",
             "'state' is reserved for the state buffers");
      if (!arenaIds.emplace(name, i).second)
        fail(elementPath("arenas", i) + ".name",
             "duplicate arena name " + quoted(name));
    }
    for (size_t i = 0; i < p.devices.size(); ++i) {
      PlanDevice &d = p.devices[i];
      auto it = arenaIds.find(d.arena);
      if (it == arenaIds.end())
        fail(elementPath("devices", i) + ".arena",
             "unknown arena " + quoted(d.arena));
      d.arenaIndex = it->second;
      if (p.arenas[d.arenaIndex].device != d.name)
        fail(elementPath("devices", i) + ".arena",
             "arena " + quoted(d.arena) + " belongs to device " +
                 quoted(p.arenas[d.arenaIndex].device) + ", not " +
                 quoted(d.name));
    }
    for (size_t i = 0; i < p.arenas.size(); ++i) {
      PlanArena &a = p.arenas[i];
      auto it = deviceIds.find(a.device);
      if (it == deviceIds.end())
        fail(elementPath("arenas", i) + ".device",
             "unknown device " + quoted(a.device));
      a.deviceIndex = it->second;
      if (p.devices[a.deviceIndex].arena != a.name)
        fail(elementPath("arenas", i) + ".device",
             "device " + quoted(a.device) + " uses arena " +
                 quoted(p.devices[a.deviceIndex].arena) + ", not " +
                 quoted(a.name));
    }
  }

  /// Every buffer lies, aligned, inside its arena or the weights file.
  void checkBuffers() {
    for (size_t i = 0; i < p.buffers.size(); ++i) {
      PlanBuffer &b = p.buffers[i];
      const std::string path = elementPath("buffers", i);
      uint64_t limit, alignment;
      if (b.arena == kWeightsArenaName) {
        b.arenaIndex.reset();
        limit = p.weights.sizeBytes;
        alignment = p.weights.alignment;
      } else if (b.arena == kStateArenaName) {
        // Each state buffer is its own block (checkStates names them).
        b.arenaIndex.reset();
        if (b.viewOf)
          fail(path + ".view_of", "a state buffer cannot be a view");
        if (b.offset != 0)
          fail(path + ".offset", std::to_string(b.offset) +
                                     "; a state buffer is its own block and "
                                     "has offset 0");
        limit = b.sizeBytes;
        alignment = 1;
      } else {
        b.arenaIndex = p.findArena(b.arena);
        if (!b.arenaIndex)
          fail(path + ".arena", "unknown arena " + quoted(b.arena));
        limit = p.arenas[*b.arenaIndex].peakBytes;
        alignment = p.arenas[*b.arenaIndex].alignment;
      }
      if (b.viewOf) {
        // A view: inside its source, element-aligned.
        const PlanBuffer &src = p.buffers[*b.viewOf];
        if (src.viewOf)
          fail(path + ".view_of", "buffer " + std::to_string(*b.viewOf) +
                                      " is itself a view");
        if (src.arena != b.arena)
          fail(path + ".arena", quoted(b.arena) + " differs from the arena " +
                                    quoted(src.arena) + " of buffer " +
                                    std::to_string(*b.viewOf) +
                                    " it is a view of");
        if (b.offset < src.offset ||
            b.offset - src.offset > src.sizeBytes ||
            b.sizeBytes > src.sizeBytes - (b.offset - src.offset))
          fail(path, "bytes [" + std::to_string(b.offset) + ", " +
                         std::to_string(b.offset + b.sizeBytes) +
                         ") lie outside buffer " + std::to_string(*b.viewOf) +
                         " [" + std::to_string(src.offset) + ", " +
                         std::to_string(src.offset + src.sizeBytes) +
                         ") it is a view of");
        if (b.offset % dtypeSize(b.dtype) != 0)
          fail(path + ".offset", std::to_string(b.offset) +
                                     " is not a multiple of the element size " +
                                     std::to_string(dtypeSize(b.dtype)));
      } else if (b.offset % alignment != 0)
        fail(path + ".offset",
             std::to_string(b.offset) + " is not a multiple of the alignment " +
                 std::to_string(alignment) + " of " + quoted(b.arena));
      // Both values are at most kMaxPlanBytes, so the sum cannot overflow;
      // the comparison is written so that it would not overflow anyway.
      if (b.sizeBytes > limit || b.offset > limit - b.sizeBytes)
        fail(path, "bytes [" + std::to_string(b.offset) + ", " +
                       std::to_string(b.offset + b.sizeBytes) +
                       ") lie outside " +
                       (b.isWeights()
                            ? "the weights file (size_bytes "
                            : "arena " + quoted(b.arena) + " (peak_bytes ") +
                       std::to_string(limit) + ")");
    }
  }

  /// `state` names every buffer of arena "state" exactly once, by distinct
  /// non-empty names.
  void checkStates() {
    std::set<std::string> names;
    for (size_t i = 0; i < p.states.size(); ++i) {
      const PlanState &st = p.states[i];
      const std::string path = elementPath("state", i);
      if (st.name.empty())
        fail(path + ".name", "a state buffer needs a name");
      if (!names.insert(st.name).second)
        fail(path + ".name", "duplicate state name " + quoted(st.name));
      buffer(st.buffer, path + ".buffer");
      PlanBuffer &b = p.buffers[st.buffer];
      if (b.arena != kStateArenaName)
        fail(path + ".buffer", "buffer " + std::to_string(st.buffer) +
                                   " lies in arena " + quoted(b.arena) +
                                   ", not 'state'");
      if (b.stateIndex)
        fail(path + ".buffer", "buffer " + std::to_string(st.buffer) +
                                   " is also " +
                                   elementPath("state", *b.stateIndex));
      b.stateIndex = i;
    }
    for (size_t i = 0; i < p.buffers.size(); ++i)
      if (p.buffers[i].arena == kStateArenaName && !p.buffers[i].stateIndex)
        fail(elementPath("buffers", i) + ".arena",
             "buffer " + std::to_string(i) +
                 " lies in arena 'state' but no entry of 'state' names it");
  }

  /// Inputs and outputs name buffers of their dtype and shape; folded inputs
  /// live in the weights, the others in an arena.
  void checkValues() {
    for (int pass = 0; pass < 2; ++pass) {
      const bool isInput = pass == 0;
      const char *base = isInput ? "inputs" : "outputs";
      std::set<std::string> names;
      std::map<size_t, size_t> inputOfBuffer;
      const std::vector<PlanValue> &values = isInput ? p.inputs : p.outputs;
      for (size_t i = 0; i < values.size(); ++i) {
        const PlanValue &v = values[i];
        const std::string path = elementPath(base, i);
        if (!names.insert(v.name).second)
          fail(path + ".name", std::string("duplicate ") +
                                   (isInput ? "input" : "output") + " name " +
                                   quoted(v.name));
        const PlanBuffer &b = buffer(v.buffer, path + ".buffer");
        if (b.viewOf)
          fail(path + ".buffer", "buffer " + std::to_string(v.buffer) +
                                     " is a view; inputs and outputs name "
                                     "whole buffers");
        if (b.dtype != v.dtype || b.shape != v.shape)
          fail(path, "declared as " + shapeText(v.dtype, v.shape) +
                         " but buffer " + std::to_string(v.buffer) + " is " +
                         shapeText(b.dtype, b.shape));
        // Two inputs in one buffer would overwrite each other (two outputs
        // may share one).
        if (isInput && !inputOfBuffer.emplace(v.buffer, i).second)
          fail(path + ".buffer",
               "buffer " + std::to_string(v.buffer) +
                   " is also the buffer of " +
                   elementPath("inputs", inputOfBuffer[v.buffer]));
        if (isInput && v.folded && !b.isWeights())
          fail(path + ".buffer", "a folded input must name a weights buffer, "
                                 "buffer " +
                                     std::to_string(v.buffer) +
                                     " lies in arena " + quoted(b.arena));
        if (isInput && b.isState())
          fail(path + ".buffer", "buffer " + std::to_string(v.buffer) +
                                     " is a state buffer; a state buffer "
                                     "holds its own value and is no input");
        if (isInput && !v.folded && b.isWeights())
          fail(path + ".buffer", "buffer " + std::to_string(v.buffer) +
                                     " is a weights buffer, but the input is "
                                     "not folded");
      }
    }
  }

  /// Task placement, operands, deps, and transfer shapes.
  void checkTasks() {
    std::set<size_t> inputBuffers;
    for (const PlanValue &v : p.inputs)
      if (!v.folded)
        inputBuffers.insert(v.buffer);
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      PlanTask &t = p.tasks[i];
      const std::string path = elementPath("tasks", i);
      std::optional<size_t> device = p.findDevice(t.device);
      if (!device)
        fail(path + ".device", "unknown device " + quoted(t.device));
      t.deviceIndex = *device;
      if (t.queue >= p.devices[t.deviceIndex].queues)
        fail(path + ".queue",
             "queue " + std::to_string(t.queue) + " does not exist (device " +
                 quoted(t.device) + " has " +
                 std::to_string(p.devices[t.deviceIndex].queues) + " queues)");
      for (size_t j = 0; j < t.inputs.size(); ++j)
        if (t.inputs[j])
          buffer(*t.inputs[j], elementPath(path + ".inputs", j));
      for (size_t j = 0; j < t.outputs.size(); ++j) {
        if (!t.outputs[j])
          continue;
        const std::string opath = elementPath(path + ".outputs", j);
        const PlanBuffer &b = buffer(*t.outputs[j], opath);
        if (b.isWeights())
          fail(opath, "buffer " + std::to_string(*t.outputs[j]) +
                          " is a weights buffer (read-only); no task may "
                          "write it");
        if (inputBuffers.count(root(*t.outputs[j])))
          fail(opath, "buffer " + std::to_string(*t.outputs[j]) +
                          " holds a graph input; no task may write it");
      }
      for (size_t j = 0; j < t.deps.size(); ++j)
        if (t.deps[j] >= i)
          fail(elementPath(path + ".deps", j),
               "task " + std::to_string(t.deps[j]) +
                   " is not an earlier task (deps may only name tasks listed "
                   "before task " +
                   std::to_string(i) + ")");
      if (t.kind == TaskKind::Transfer)
        checkTransfer(t, path);
      if (isControlTask(t.kind))
        checkControlTask(t, path, {});
    }
  }

  //===--------------------------------------------------------------------===//
  // Control tasks (if, loop) and their bodies
  //===--------------------------------------------------------------------===//

  /// A buffer access inside a control task's bodies, with its JSON path.
  struct Touch {
    size_t buffer;
    bool write;
    std::string path;
    /// The control task's own write of a param of its bodies.
    bool ownParam = false;
  };

  /// `dtype[shape]` of buffer `id`.
  std::string describeBuffer(size_t id) const {
    return "buffer " + std::to_string(id) + " " +
           shapeText(p.buffers[id].dtype, p.buffers[id].shape);
  }

  /// Fails unless buffer `id` has `dtype` and one element.
  void expectScalar(size_t id, DType dtype, const std::string &path,
                    const std::string &what) {
    const PlanBuffer &b = p.buffers[id];
    if (b.dtype != dtype || numElements(b.shape) != 1)
      fail(path, what + " must be one " + dtypeName(dtype) +
                     " element, got " + describeBuffer(id));
  }

  /// Fails unless buffer `id` has the dtype and shape of buffer `like`.
  void expectLike(size_t id, size_t like, const std::string &path,
                  const std::string &likeWhat) {
    const PlanBuffer &b = p.buffers[id], &l = p.buffers[like];
    if (b.dtype != l.dtype || b.shape != l.shape)
      fail(path, describeBuffer(id) + " differs from " + likeWhat + " (" +
                     describeBuffer(like) + ")");
  }

  /// A loop attribute: an integer >= 0.
  int64_t loopCount(const PlanTask &t, const std::string &path,
                    const char *name) {
    const AttrValue *v = t.attrs.find(name);
    const int64_t *n = v ? std::get_if<int64_t>(v) : nullptr;
    if (!n || *n < 0)
      fail(path + ".attrs", std::string("a loop task needs the attribute ") +
                                name + " as {\"int\": N} with N >= 0");
    return *n;
  }

  /// The rules of one control task `t` (at `path`) and, recursively, its
  /// bodies; `readable` holds the buffers the enclosing body may read at
  /// `t` (empty at the top level).
  void checkControlTask(PlanTask &t, const std::string &path,
                        const std::set<size_t> &readable) {
    const char *kind = taskKindName(t.kind);
    if (t.kernel != kind)
      fail(path + ".kernel", std::string("the kernel of an ") + kind +
                                 " task is '" + kind + "', got " +
                                 quoted(t.kernel));
    const PlanDevice &device = p.devices[t.deviceIndex];
    if (device.kind != DeviceKind::Cpu)
      fail(path + ".device", "a control task runs on a CPU device; " +
                                 quoted(device.name) + " is a " +
                                 deviceKindName(device.kind) + " device");
    for (size_t j = 0; j < t.outputs.size(); ++j)
      if (!t.outputs[j])
        fail(elementPath(path + ".outputs", j),
             "a control task's outputs are never null");
    const std::string in = path + ".inputs";
    if (t.kind == TaskKind::If) {
      if (!t.attrs.all().empty())
        fail(path + ".attrs", "an if task has no attributes");
      if (t.inputs.empty() || !t.inputs[0])
        fail(in, "an if task's inputs[0] is its condition");
      expectScalar(*t.inputs[0], DType::Bool, elementPath(in, 0),
                   "the condition of an if task");
      for (size_t b = 0; b < t.bodies.size(); ++b) {
        const PlanBody &body = t.bodies[b];
        const std::string bpath = elementPath(path + ".bodies", b);
        if (!body.params.empty())
          fail(bpath + ".params", "the bodies of an if task have no params");
        if (body.results.size() != t.outputs.size())
          fail(bpath + ".results",
               "has " + std::to_string(body.results.size()) +
                   " results, but the if task has " +
                   std::to_string(t.outputs.size()) + " outputs");
      }
    } else {
      loopCount(t, path, "max_trip_count");
      const size_t n = size_t(loopCount(t, path, "num_carried"));
      if (t.inputs.size() < 2 || t.inputs.size() - 2 < n)
        fail(in, "a loop task with num_carried " + std::to_string(n) +
                     " has at least " + std::to_string(n + 2) +
                     " inputs (M, cond, the carried values), got " +
                     std::to_string(t.inputs.size()));
      if (t.inputs[0])
        expectScalar(*t.inputs[0], DType::I64, elementPath(in, 0),
                     "the trip count M of a loop task");
      if (t.inputs[1])
        expectScalar(*t.inputs[1], DType::Bool, elementPath(in, 1),
                     "the condition of a loop task");
      for (size_t k = 0; k < n; ++k)
        if (!t.inputs[2 + k])
          fail(elementPath(in, 2 + k),
               "the initial value of a loop-carried value is never null");
      if (t.outputs.size() != n)
        fail(path + ".outputs", "a loop task with num_carried " +
                                    std::to_string(n) + " has " +
                                    std::to_string(n) + " outputs, got " +
                                    std::to_string(t.outputs.size()));
      const PlanBody &body = t.bodies[0];
      const std::string bpath = path + ".bodies[0]";
      if (body.params.size() != n + 2)
        fail(bpath + ".params",
             "a loop body has " + std::to_string(n + 2) +
                 " params (iter, cond_in, the carried values), got " +
                 std::to_string(body.params.size()));
      if (body.results.size() != n + 1)
        fail(bpath + ".results",
             "a loop body has " + std::to_string(n + 1) +
                 " results (cond_out, the carried values), got " +
                 std::to_string(body.results.size()));
    }
    for (size_t b = 0; b < t.bodies.size(); ++b)
      checkBody(t, path, b, readable);
  }

  /// Body `b` of control task `t`: its buffers, its tasks' placement and
  /// reads (each reads only what it may), and its results.
  void checkBody(PlanTask &t, const std::string &path, size_t b,
                 std::set<size_t> readable) {
    PlanBody &body = t.bodies[b];
    const std::string bpath = elementPath(path + ".bodies", b);
    for (const auto &in : t.inputs)
      if (in)
        readable.insert(*in);
    for (size_t k = 0; k < body.params.size(); ++k) {
      buffer(body.params[k], elementPath(bpath + ".params", k));
      readable.insert(body.params[k]);
    }
    for (size_t k = 0; k < body.results.size(); ++k)
      buffer(body.results[k], elementPath(bpath + ".results", k));
    if (t.kind == TaskKind::If) {
      for (size_t k = 0; k < body.results.size(); ++k)
        expectLike(body.results[k], *t.outputs[k],
                   elementPath(bpath + ".results", k),
                   elementPath("outputs", k) + " of the if task");
    } else {
      const size_t n = t.outputs.size();
      expectScalar(body.params[0], DType::I64, bpath + ".params[0]",
                   "the iteration number (iter) of a loop body");
      expectScalar(body.params[1], DType::Bool, bpath + ".params[1]",
                   "the condition (cond_in) of a loop body");
      expectScalar(body.results[0], DType::Bool, bpath + ".results[0]",
                   "the condition (cond_out) of a loop body");
      for (size_t k = 0; k < n; ++k) {
        const std::string like =
            elementPath("inputs", 2 + k) + " of the loop task";
        expectLike(body.params[2 + k], *t.inputs[2 + k],
                   elementPath(bpath + ".params", 2 + k), like);
        expectLike(body.results[1 + k], *t.inputs[2 + k],
                   elementPath(bpath + ".results", 1 + k), like);
        expectLike(*t.outputs[k], *t.inputs[2 + k],
                   elementPath(path + ".outputs", k), like);
      }
    }
    std::set<size_t> written;
    for (size_t j = 0; j < body.tasks.size(); ++j) {
      PlanTask &bt = body.tasks[j];
      const std::string tpath = elementPath(bpath + ".tasks", j);
      if (bt.kind == TaskKind::Transfer)
        fail(tpath + ".kind",
             "a body task is a kernel task or a control task, not a transfer");
      if (bt.device != t.device)
        fail(tpath + ".device", "a body task runs on its control task's "
                                "device " +
                                    quoted(t.device) + ", got " +
                                    quoted(bt.device));
      bt.deviceIndex = t.deviceIndex;
      if (bt.queue != t.queue)
        fail(tpath + ".queue", "a body task runs on its control task's "
                               "queue " +
                                   std::to_string(t.queue) + ", got " +
                                   std::to_string(bt.queue));
      if (!bt.deps.empty())
        fail(tpath + ".deps", "a body task has no deps (a body runs in list "
                              "order)");
      for (size_t k = 0; k < bt.inputs.size(); ++k) {
        if (!bt.inputs[k])
          continue;
        const std::string ipath = elementPath(tpath + ".inputs", k);
        buffer(*bt.inputs[k], ipath);
        if (!mayRead(*bt.inputs[k], readable))
          fail(ipath, "buffer " + std::to_string(*bt.inputs[k]) +
                          " is not readable in body " + quoted(body.name) +
                          kReadableRule);
      }
      for (size_t k = 0; k < bt.outputs.size(); ++k)
        if (bt.outputs[k])
          buffer(*bt.outputs[k], elementPath(tpath + ".outputs", k));
      if (isControlTask(bt.kind))
        checkControlTask(bt, tpath, readable);
      for (const auto &o : bt.outputs)
        if (o) {
          readable.insert(*o);
          written.insert(*o);
        }
    }
    for (size_t k = 0; k < body.results.size(); ++k) {
      const std::string rpath = elementPath(bpath + ".results", k);
      if (t.kind == TaskKind::Loop && !written.count(body.results[k]))
        fail(rpath, "buffer " + std::to_string(body.results[k]) +
                        " is not written by a task of the loop body");
      if (!mayRead(body.results[k], readable))
        fail(rpath, "buffer " + std::to_string(body.results[k]) +
                        " is not readable in body " + quoted(body.name) +
                        kReadableRule);
    }
  }

  static constexpr const char *kReadableRule =
      " (a body reads weights, the plan's inputs, its control task's "
      "inputs, its params, and buffers written by earlier tasks of its body "
      "or of enclosing bodies)";

  /// Whether a body task may read buffer `id` given the `readable` buffers
  /// of its body: weights, plan inputs, or (a part of) a readable buffer.
  bool mayRead(size_t id, const std::set<size_t> &readable) const {
    if (p.buffers[id].isWeights() || p.buffers[id].isState() ||
        readable.count(id) ||
        readable.count(root(id)))
      return true;
    for (const PlanValue &v : p.inputs)
      if (root(id) == v.buffer)
        return true;
    return false;
  }

  /// Every buffer access inside the bodies of control task `t` (at `path`),
  /// recursively: the control task's writes of params and reads of results,
  /// and the inputs and outputs of every body task.
  void collectTouches(const PlanTask &t, const std::string &path,
                      std::vector<Touch> &out, bool top = true) const {
    for (size_t b = 0; b < t.bodies.size(); ++b) {
      const PlanBody &body = t.bodies[b];
      const std::string bpath = elementPath(path + ".bodies", b);
      for (size_t k = 0; k < body.params.size(); ++k)
        out.push_back(
            {body.params[k], true, elementPath(bpath + ".params", k), top});
      for (size_t j = 0; j < body.tasks.size(); ++j) {
        const PlanTask &bt = body.tasks[j];
        const std::string tpath = elementPath(bpath + ".tasks", j);
        for (size_t k = 0; k < bt.inputs.size(); ++k)
          if (bt.inputs[k])
            out.push_back(
                {*bt.inputs[k], false, elementPath(tpath + ".inputs", k)});
        collectTouches(bt, tpath, out, /*top=*/false);
        for (size_t k = 0; k < bt.outputs.size(); ++k)
          if (bt.outputs[k])
            out.push_back(
                {*bt.outputs[k], true, elementPath(tpath + ".outputs", k)});
      }
      for (size_t k = 0; k < body.results.size(); ++k)
        out.push_back({body.results[k], false,
                       elementPath(bpath + ".results", k)});
    }
  }

  /// Body-local writes: everything written inside a control task's bodies
  /// (by its body tasks, or by itself into params) is an arena buffer that
  /// no task outside the control task touches and that is not an input or
  /// output of the plan or of the control task; body tasks do not write
  /// params. Also collects, per top-level task, the accesses inside its
  /// bodies, which the whole-plan checks below count as the task's own.
  void checkBodyWrites() {
    inner.assign(p.tasks.size(), {});
    std::vector<size_t> touches(p.buffers.size(), 0);
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      const PlanTask &t = p.tasks[i];
      collectTouches(t, elementPath("tasks", i), inner[i]);
      for (const auto *list : {&t.inputs, &t.outputs})
        for (const auto &b : *list)
          if (b)
            ++touches[root(*b)];
      for (const Touch &x : inner[i])
        ++touches[root(x.buffer)];
    }
    for (size_t i = 0; i < p.tasks.size(); ++i)
      if (isControlTask(p.tasks[i].kind))
        checkLocalWrites(p.tasks[i], elementPath("tasks", i), inner[i],
                         touches);
  }

  /// The body-local rule for control task `t` at `path`, whose inner
  /// accesses are `touches` (collectTouches); `all` counts every access of
  /// the plan per root buffer. Recurses into nested control tasks.
  void checkLocalWrites(const PlanTask &t, const std::string &path,
                        const std::vector<Touch> &touches,
                        const std::vector<size_t> &all) {
    std::map<size_t, size_t> within; // root buffer -> accesses inside t
    std::set<size_t> own, params;    // roots of t's operands; params
    for (const auto *list : {&t.inputs, &t.outputs})
      for (const auto &b : *list)
        if (b) {
          ++within[root(*b)];
          own.insert(root(*b));
        }
    for (const Touch &x : touches)
      ++within[root(x.buffer)];
    for (const PlanBody &body : t.bodies)
      for (size_t b : body.params)
        params.insert(b);
    std::set<size_t> planValues;
    for (const PlanValue &v : p.inputs)
      planValues.insert(v.buffer);
    for (const PlanValue &v : p.outputs)
      planValues.insert(v.buffer);
    for (const Touch &x : touches) {
      if (!x.write)
        continue;
      const size_t r = root(x.buffer);
      std::string why;
      if (p.buffers[x.buffer].isWeights())
        why = "it is a weights buffer";
      else if (p.buffers[x.buffer].isState())
        why = "it is a state buffer";
      else if (planValues.count(r))
        why = "it holds an input or output of the plan";
      else if (own.count(r))
        why = "it holds an input or output of the control task";
      else if (!x.ownParam && params.count(x.buffer))
        why = "it is a param of the control task's body";
      else if (all[r] != within[r])
        why = "a task outside the control task touches it";
      if (!why.empty())
        fail(x.path, "buffer " + std::to_string(x.buffer) +
                         " is not body-local: " + why +
                         " (inside a control task, only buffers no other "
                         "task touches are written)");
    }
    for (size_t b = 0; b < t.bodies.size(); ++b) {
      const std::string bpath = elementPath(path + ".bodies", b);
      for (size_t j = 0; j < t.bodies[b].tasks.size(); ++j) {
        const PlanTask &bt = t.bodies[b].tasks[j];
        if (!isControlTask(bt.kind))
          continue;
        const std::string tpath = elementPath(bpath + ".tasks", j);
        std::vector<Touch> nested;
        collectTouches(bt, tpath, nested);
        checkLocalWrites(bt, tpath, nested, all);
      }
    }
  }

  void checkTransfer(const PlanTask &t, const std::string &path) {
    if (t.kernel != "copy")
      fail(path + ".kernel",
           "a transfer's kernel is 'copy', got " + quoted(t.kernel));
    if (!t.attrs.all().empty())
      fail(path + ".attrs", "a transfer has no attributes");
    if (t.inputs.size() != 1 || !t.inputs[0])
      fail(path + ".inputs", "a transfer has exactly one input buffer");
    if (t.outputs.size() != 1 || !t.outputs[0])
      fail(path + ".outputs", "a transfer has exactly one output buffer");
    const PlanBuffer &in = p.buffers[*t.inputs[0]];
    const PlanBuffer &out = p.buffers[*t.outputs[0]];
    if (in.dtype != out.dtype || in.shape != out.shape)
      fail(path, "a transfer copies between buffers of one dtype and shape, "
                 "got " +
                     shapeText(in.dtype, in.shape) + " -> " +
                     shapeText(out.dtype, out.shape));
  }

  /// Every output buffer is written by a task or holds an input or weights.
  void checkOutputsHaveValues() {
    std::vector<bool> hasValue(p.buffers.size(), false);
    for (const PlanValue &v : p.inputs)
      hasValue[v.buffer] = true;
    // A state buffer holds its previous value (zeros before the first run).
    for (size_t i = 0; i < p.buffers.size(); ++i)
      if (p.buffers[i].isWeights() || p.buffers[i].isState())
        hasValue[i] = true;
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      for (const auto &o : p.tasks[i].outputs)
        if (o)
          hasValue[root(*o)] = true;
      for (const Touch &x : inner[i])
        if (x.write)
          hasValue[root(x.buffer)] = true;
    }
    for (size_t i = 0; i < p.outputs.size(); ++i)
      if (!hasValue[p.outputs[i].buffer])
        fail(elementPath("outputs", i) + ".buffer",
             "buffer " + std::to_string(p.outputs[i].buffer) +
                 " is never written by a task and holds no input or weights");
  }

  /// Input and output buffers live for the whole run: no other buffer of
  /// their arena may overlap them. Checked per arena with buffers sorted by
  /// offset: those starting inside the pinned range are found by binary
  /// search, those starting before it through a running maximum of ends.
  void checkPinnedBuffersAreNotShared() {
    // Pinned buffer id -> JSON path of the first input/output naming it.
    std::map<size_t, std::string> pinned;
    for (size_t i = 0; i < p.inputs.size(); ++i)
      pinned.emplace(p.inputs[i].buffer, elementPath("inputs", i));
    for (size_t i = 0; i < p.outputs.size(); ++i)
      pinned.emplace(p.outputs[i].buffer, elementPath("outputs", i));

    std::vector<std::vector<size_t>> byArena(p.arenas.size());
    for (size_t i = 0; i < p.buffers.size(); ++i)
      if (p.buffers[i].arenaIndex && p.buffers[i].sizeBytes > 0)
        byArena[*p.buffers[i].arenaIndex].push_back(i);
    for (size_t arena = 0; arena < byArena.size(); ++arena) {
      std::vector<size_t> &ids = byArena[arena];
      std::sort(ids.begin(), ids.end(), [&](size_t a, size_t b) {
        return p.buffers[a].offset != p.buffers[b].offset
                   ? p.buffers[a].offset < p.buffers[b].offset
                   : a < b;
      });
      // maxEnd[k]: the buffer with the largest end among ids[0..k].
      std::vector<size_t> maxEnd(ids.size());
      for (size_t k = 0; k < ids.size(); ++k)
        maxEnd[k] =
            k == 0 || end(ids[k]) > end(maxEnd[k - 1]) ? ids[k] : maxEnd[k - 1];
      for (const auto &[id, path] : pinned) {
        const PlanBuffer &b = p.buffers[id];
        if (!b.arenaIndex || b.sizeBytes == 0 || *b.arenaIndex != arena)
          continue;
        // First position whose offset is >= b.offset.
        size_t lo = size_t(std::lower_bound(ids.begin(), ids.end(), b.offset,
                                            [&](size_t x, uint64_t off) {
                                              return p.buffers[x].offset < off;
                                            }) -
                           ids.begin());
        if (lo > 0 && end(maxEnd[lo - 1]) > b.offset)
          overlap(path, id, maxEnd[lo - 1]);
        for (size_t k = lo;
             k < ids.size() && p.buffers[ids[k]].offset < end(id); ++k)
          if (root(ids[k]) != id)
            overlap(path, id, ids[k]);
      }
    }
  }

  /// The buffer whose bytes `id` is part of: its view_of, else itself.
  size_t root(size_t id) const { return p.buffers[id].viewOf.value_or(id); }

  uint64_t end(size_t id) const {
    return p.buffers[id].offset + p.buffers[id].sizeBytes;
  }

  [[noreturn]] void overlap(const std::string &path, size_t pinnedId,
                            size_t other) {
    fail(path + ".buffer",
         "buffer " + std::to_string(pinnedId) + " overlaps buffer " +
             std::to_string(other) + " (" + quoted(p.buffers[other].name) +
             ") in arena " + quoted(p.buffers[pinnedId].arena) +
             "; input and output buffers are never shared");
  }

  /// Events are exactly the deps whose two tasks run on different queues.
  void checkEvents() {
    auto sameQueue = [&](size_t a, size_t b) {
      return p.tasks[a].deviceIndex == p.tasks[b].deviceIndex &&
             p.tasks[a].queue == p.tasks[b].queue;
    };
    std::set<std::pair<size_t, size_t>> signalled; // (task, waiter)
    for (size_t i = 0; i < p.events.size(); ++i) {
      const PlanEvent &e = p.events[i];
      const std::string path = elementPath("events", i);
      if (e.task >= p.tasks.size())
        fail(path + ".task", "task " + std::to_string(e.task) +
                                 " does not exist (the plan has " +
                                 std::to_string(p.tasks.size()) + " tasks)");
      for (size_t j = 0; j < e.waiters.size(); ++j) {
        size_t w = e.waiters[j];
        const std::string wpath = elementPath(path + ".waiters", j);
        if (w >= p.tasks.size())
          fail(wpath, "task " + std::to_string(w) +
                          " does not exist (the plan has " +
                          std::to_string(p.tasks.size()) + " tasks)");
        const std::vector<size_t> &deps = p.tasks[w].deps;
        if (std::find(deps.begin(), deps.end(), e.task) == deps.end())
          fail(wpath, "task " + std::to_string(w) +
                          " does not depend on task " + std::to_string(e.task));
        if (sameQueue(w, e.task))
          fail(wpath, "task " + std::to_string(w) +
                          " runs on the same queue "
                          "as task " +
                          std::to_string(e.task) +
                          "; events are for cross-queue dependencies");
        signalled.emplace(e.task, w);
      }
    }
    for (size_t i = 0; i < p.tasks.size(); ++i)
      for (size_t j = 0; j < p.tasks[i].deps.size(); ++j) {
        size_t d = p.tasks[i].deps[j];
        if (!sameQueue(i, d) && !signalled.count({d, i}))
          fail(elementPath(elementPath("tasks", i) + ".deps", j),
               "cross-queue dependency on task " + std::to_string(d) +
                   " has no event");
      }
  }

  /// A task that reads a buffer written by a task on another queue must
  /// depend on that writer (directly: the executor orders nothing else), or
  /// it could read the buffer before it is written.
  void checkOrderedReads() {
    // Per buffer (views count as their source): the tasks whose writes are
    // still visible, with their byte ranges; a write covering an earlier
    // one replaces it.
    struct Write {
      size_t task;
      uint64_t lo, hi;
    };
    std::vector<std::vector<Write>> writes(p.buffers.size());
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      const PlanTask &t = p.tasks[i];
      auto read = [&](size_t id, const std::string &path) {
        const PlanBuffer &b = p.buffers[id];
        for (const Write &w : writes[root(id)]) {
          if (!(w.lo < b.offset + b.sizeBytes && b.offset < w.hi))
            continue;
          const PlanTask &wt = p.tasks[w.task];
          bool sameQueue =
              wt.deviceIndex == t.deviceIndex && wt.queue == t.queue;
          if (!sameQueue &&
              std::find(t.deps.begin(), t.deps.end(), w.task) == t.deps.end())
            fail(path, "reads buffer " + std::to_string(id) +
                           ", written by task " + std::to_string(w.task) +
                           " on another queue, without depending on it");
        }
      };
      auto write = [&](size_t id) {
        const PlanBuffer &b = p.buffers[id];
        uint64_t lo = b.offset, hi = b.offset + b.sizeBytes;
        std::vector<Write> &list = writes[root(id)];
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [&](const Write &w) {
                                    return lo <= w.lo && w.hi <= hi;
                                  }),
                   list.end());
        list.push_back({i, lo, hi});
      };
      for (size_t k = 0; k < t.inputs.size(); ++k)
        if (t.inputs[k])
          read(*t.inputs[k],
               elementPath(elementPath("tasks", i) + ".inputs", k));
      for (const Touch &x : inner[i]) {
        if (x.write)
          write(x.buffer);
        else
          read(x.buffer, x.path);
      }
      for (const std::optional<size_t> &o : t.outputs)
        if (o)
          write(*o);
    }
  }

  /// Slack for comparing predicted times (sums of doubles, printed with
  /// enough digits to round-trip).
  static bool before(double a, double b) {
    return a + 1e-6 + 1e-9 * std::abs(b) < b;
  }

  /// A kernel or control task has a cost on its device; every task ends no
  /// earlier than it starts. Recurses into the tasks of bodies.
  void checkTaskTimes(const PlanTask &t, const std::string &path) {
    if (t.kind != TaskKind::Transfer) {
      auto cost = std::find_if(t.costUs.begin(), t.costUs.end(),
                               [&](const auto &c) { return c.first == t.device; });
      if (cost == t.costUs.end() || !cost->second)
        fail(path + ".cost_us", "no cost on its device " + quoted(t.device) +
                                    ": the device cannot run the task");
    }
    if (before(t.endUs, t.startUs))
      fail(path + ".end_us", "ends at " + std::to_string(t.endUs) +
                                 " us, before it starts at " +
                                 std::to_string(t.startUs) + " us");
    for (size_t b = 0; b < t.bodies.size(); ++b)
      for (size_t j = 0; j < t.bodies[b].tasks.size(); ++j)
        checkTaskTimes(t.bodies[b].tasks[j],
                       elementPath(elementPath(path + ".bodies", b) + ".tasks",
                                   j));
  }

  /// Each task runs on a device with a cost for it, takes [start_us,
  /// end_us] with start <= end, starts after its deps end, and does not
  /// overlap the previous task of its queue (kernels) or link (transfers, on
  /// the link between their two arenas' devices).
  void checkPredictedSchedule() {
    std::map<std::string, size_t> lastOn;
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      const PlanTask &t = p.tasks[i];
      const std::string path = elementPath("tasks", i);
      checkTaskTimes(t, path);
      for (size_t d : t.deps)
        if (before(t.startUs, p.tasks[d].endUs))
          fail(path + ".start_us",
               "starts at " + std::to_string(t.startUs) +
                   " us, before its dependency task " + std::to_string(d) +
                   " ends at " + std::to_string(p.tasks[d].endUs) + " us");
      std::string resource;
      if (t.kind != TaskKind::Transfer) {
        resource = t.device + "[" + std::to_string(t.queue) + "]";
      } else {
        auto arenaOf = [&](const std::optional<size_t> &b) {
          return b && p.buffers[*b].arenaIndex
                     ? p.arenas[*p.buffers[*b].arenaIndex].device
                     : b && p.buffers[*b].isState() ? std::string("state")
                                                   : std::string("weights");
        };
        resource = "link " + arenaOf(t.inputs.empty() ? std::nullopt : t.inputs[0]) +
                   "->" + arenaOf(t.outputs.empty() ? std::nullopt : t.outputs[0]);
      }
      auto [it, first] = lastOn.emplace(resource, i);
      if (!first) {
        const PlanTask &prev = p.tasks[it->second];
        if (before(t.startUs, prev.endUs))
          fail(path + ".start_us",
               "starts at " + std::to_string(t.startUs) + " us while task " +
                   std::to_string(it->second) + " still runs on " + resource +
                   " until " + std::to_string(prev.endUs) + " us");
        it->second = i;
      }
    }
  }

  /// Two buffers of one arena (a view counts as its source) may share bytes
  /// only when their lifetimes, in task order, do not meet: a buffer lives
  /// from its first writer to its last reader; inputs and outputs for the
  /// whole run. Checked per arena by a sweep over the buffers in order of
  /// their first task, the live ones kept by offset (live buffers never
  /// overlap, so a new one is compared with its neighbours only).
  void checkLiveBuffersDoNotOverlap() {
    const int64_t end = int64_t(p.tasks.size());
    std::vector<int64_t> first(p.buffers.size(), -1), last(p.buffers.size(), -1);
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      for (const auto &o : p.tasks[i].outputs)
        if (o && first[root(*o)] < 0)
          first[root(*o)] = int64_t(i);
      for (const auto &in : p.tasks[i].inputs)
        if (in)
          last[root(*in)] = std::max(last[root(*in)], int64_t(i));
      // Inside a control task: every access is the task's, reads and writes.
      for (const Touch &x : inner[i]) {
        size_t r = root(x.buffer);
        if (first[r] < 0)
          first[r] = int64_t(i);
        last[r] = std::max(last[r], int64_t(i));
      }
    }
    for (const PlanValue &v : p.inputs)
      first[v.buffer] = 0, last[v.buffer] = end;
    for (const PlanValue &v : p.outputs)
      first[v.buffer] = 0, last[v.buffer] = end;
    std::vector<std::vector<size_t>> byArena(p.arenas.size());
    for (size_t i = 0; i < p.buffers.size(); ++i) {
      const PlanBuffer &b = p.buffers[i];
      if (!b.arenaIndex || b.viewOf || b.sizeBytes == 0)
        continue;
      if (first[i] < 0)
        first[i] = 0;
      if (last[i] < first[i])
        last[i] = first[i];
      byArena[*b.arenaIndex].push_back(i);
    }
    for (std::vector<size_t> &ids : byArena) {
      std::stable_sort(ids.begin(), ids.end(),
                       [&](size_t a, size_t b) { return first[a] < first[b]; });
      std::vector<size_t> byLast = ids;
      std::stable_sort(byLast.begin(), byLast.end(),
                       [&](size_t a, size_t b) { return last[a] < last[b]; });
      std::map<uint64_t, size_t> live; // offset -> buffer
      size_t released = 0;
      for (size_t id : ids) {
        while (released < byLast.size() && last[byLast[released]] < first[id]) {
          size_t r = byLast[released++];
          auto it = live.find(p.buffers[r].offset);
          if (it != live.end() && it->second == r)
            live.erase(it);
        }
        const PlanBuffer &b = p.buffers[id];
        auto clash = [&](size_t other) {
          fail(elementPath("buffers", id),
               "bytes [" + std::to_string(b.offset) + ", " +
                   std::to_string(this->end(id)) + ") of arena " +
                   quoted(b.arena) + " overlap buffer " + std::to_string(other) +
                   " [" + std::to_string(p.buffers[other].offset) + ", " +
                   std::to_string(this->end(other)) +
                   ") while both are live (tasks " + std::to_string(first[id]) +
                   ".." + std::to_string(last[id]) + " and " +
                   std::to_string(first[other]) + ".." +
                   std::to_string(last[other]) + ")");
        };
        auto next = live.lower_bound(b.offset);
        if (next != live.end() && next->first < this->end(id))
          clash(next->second);
        if (next != live.begin() && this->end(std::prev(next)->second) > b.offset)
          clash(std::prev(next)->second);
        live[b.offset] = id;
      }
    }
  }

  /// No two tasks on different queues touch the same bytes of an arena
  /// (through any buffers: memory is reused) with at least one writing,
  /// unless one is ordered before the other by the dependencies (directly
  /// or through other tasks). Order is tracked with vector clocks: for each
  /// task, the last position on every queue known to have finished when it
  /// starts. Memory is tracked per arena as byte segments with their last
  /// writer and the readers since. O((tasks + accesses) · queues · log).
  void checkMemoryHazards() {
    // Queues and positions.
    std::map<std::pair<size_t, size_t>, size_t> queueId;
    std::vector<size_t> queueOf(p.tasks.size()), posOf(p.tasks.size());
    std::vector<int64_t> lastOnQueue;
    std::vector<std::optional<size_t>> prevOnQueue(p.tasks.size());
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      auto key = std::make_pair(p.tasks[i].deviceIndex, p.tasks[i].queue);
      auto [it, added] = queueId.emplace(key, lastOnQueue.size());
      if (added)
        lastOnQueue.push_back(-1);
      size_t q = it->second;
      queueOf[i] = q;
      if (lastOnQueue[q] >= 0)
        prevOnQueue[i] = size_t(lastOnQueue[q]);
      posOf[i] = prevOnQueue[i] ? posOf[*prevOnQueue[i]] + 1 : 0;
      lastOnQueue[q] = int64_t(i);
    }
    const size_t queues = lastOnQueue.size();
    // clock[i * queues + q]: positions on queue q finished before task i.
    std::vector<int64_t> clock(p.tasks.size() * queues, -1);
    auto join = [&](size_t into, size_t from) {
      for (size_t q = 0; q < queues; ++q)
        clock[into * queues + q] =
            std::max(clock[into * queues + q], clock[from * queues + q]);
      int64_t &own = clock[into * queues + queueOf[from]];
      own = std::max(own, int64_t(posOf[from]));
    };
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      if (prevOnQueue[i])
        join(i, *prevOnQueue[i]);
      for (size_t d : p.tasks[i].deps)
        join(i, d);
    }
    auto ordered = [&](size_t earlier, size_t later) {
      return queueOf[earlier] == queueOf[later] ||
             clock[later * queues + queueOf[earlier]] >= int64_t(posOf[earlier]);
    };

    struct Segment {
      uint64_t end;
      std::optional<size_t> writer;
      std::vector<size_t> readers;
    };
    // One memory per arena, then one per state buffer (its own block).
    std::vector<std::map<uint64_t, Segment>> memory(p.arenas.size() +
                                                    p.states.size());
    // Splits the segments of `arena` at `at` so that one starts there.
    auto split = [&](std::map<uint64_t, Segment> &m, uint64_t at) {
      auto it = m.upper_bound(at);
      if (it == m.begin())
        return;
      --it;
      if (it->first < at && at < it->second.end) {
        Segment tail = it->second;
        it->second.end = at;
        m.emplace(at, std::move(tail));
      }
    };
    auto access = [&](size_t task, size_t buffer, bool write,
                      const std::string &path) {
      const PlanBuffer &b = p.buffers[buffer];
      if (b.isWeights() || b.sizeBytes == 0)
        return;
      auto &m = memory[b.arenaIndex ? *b.arenaIndex
                                    : p.arenas.size() + *b.stateIndex];
      uint64_t lo = b.offset, hi = b.offset + b.sizeBytes;
      split(m, lo);
      split(m, hi);
      // Fill gaps so that [lo, hi) is covered by segments.
      uint64_t at = lo;
      for (auto it = m.lower_bound(lo); at < hi;) {
        if (it == m.end() || it->first > at) {
          uint64_t end = it == m.end() ? hi : std::min(hi, it->first);
          it = m.emplace(at, Segment{end, std::nullopt, {}}).first;
        }
        Segment &s = it->second;
        auto clash = [&](size_t other, const char *what) {
          fail(path, std::string(write ? "writes" : "reads") + " bytes [" +
                         std::to_string(it->first) + ", " +
                         std::to_string(s.end) + ") of arena " +
                         quoted(b.arena) + " that task " +
                         std::to_string(other) + " " + what +
                         " on another queue, with no dependency ordering "
                         "the two");
        };
        if (s.writer && !ordered(*s.writer, task))
          clash(*s.writer, "writes");
        if (write) {
          for (size_t r : s.readers)
            if (r != task && !ordered(r, task))
              clash(r, "reads");
          s.writer = task;
          s.readers.clear();
        } else if (s.readers.empty() || s.readers.back() != task) {
          s.readers.push_back(task);
        }
        at = s.end;
        ++it;
      }
    };
    for (size_t i = 0; i < p.tasks.size(); ++i) {
      const PlanTask &t = p.tasks[i];
      const std::string path = elementPath("tasks", i);
      for (size_t k = 0; k < t.inputs.size(); ++k)
        if (t.inputs[k])
          access(i, *t.inputs[k], false, elementPath(path + ".inputs", k));
      for (const Touch &x : inner[i])
        access(i, x.buffer, x.write, x.path);
      for (size_t k = 0; k < t.outputs.size(); ++k)
        if (t.outputs[k])
          access(i, *t.outputs[k], true, elementPath(path + ".outputs", k));
    }
  }

  Plan &p;
  /// Per top-level task: the accesses inside its bodies (collectTouches),
  /// which count as the task's own; empty for kernels and transfers.
  std::vector<std::vector<Touch>> inner;
};

} // namespace

void validatePlan(Plan &plan) { Validator(plan).run(); }

} // namespace loom::rt::detail
