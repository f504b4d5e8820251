//===- ModelGraph.cpp - A compiled model's task DAG from plan.json --------===//
//
// The scheduler's view of one compiled model: its kernel tasks with the
// compiled placement and the estimated cost on every device (plan.json's
// `cost_us`), and its data edges. Edges come from buffers: a kernel reading
// a buffer (or a view of it, or the buffer a view belongs to) depends on
// every earlier task writing it; a transfer is looked through to the kernel
// that wrote its source, and the edge carries the transfer's bytes. Pure
// ordering dependencies of the memory planner are not edges (they belong to
// one plan's memory layout, not to the computation).
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Scheduler.h"

#include "llvm/Support/JSON.h"

#include <map>
#include <set>

using namespace loom::scenario;
namespace json = llvm::json;

int Platform::deviceIndex(llvm::StringRef name) const {
  for (size_t d = 0; d < devices.size(); ++d)
    if (devices[d].name == name)
      return int(d);
  return -1;
}

llvm::Expected<ModelGraph> loom::scenario::parseModelGraph(
    llvm::StringRef planJson, llvm::StringRef fileName,
    llvm::StringRef modelName, const Platform &platform) {
  auto fail = [&](const llvm::Twine &msg) -> llvm::Error {
    return llvm::createStringError(fileName.str() + ": " + msg.str());
  };
  llvm::Expected<json::Value> parsed = json::parse(planJson);
  if (!parsed)
    return fail("not JSON: " + llvm::toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fail("expected an object");
  const json::Array *buffers = root->getArray("buffers");
  const json::Array *tasks = root->getArray("tasks");
  if (!buffers || !tasks)
    return fail("missing 'buffers' or 'tasks'");

  // Buffers: size and root (a view's buffer).
  std::vector<uint64_t> size(buffers->size());
  std::vector<int> rootOf(buffers->size());
  for (size_t b = 0; b < buffers->size(); ++b) {
    const json::Object *o = (*buffers)[b].getAsObject();
    if (!o)
      return fail("buffers[" + llvm::Twine(b) + "]: expected an object");
    size[b] = uint64_t(o->getInteger("size_bytes").value_or(0));
    rootOf[b] = int(o->getInteger("view_of").value_or(int64_t(b)));
    if (rootOf[b] < 0 || size_t(rootOf[b]) >= buffers->size())
      return fail("buffers[" + llvm::Twine(b) + "].view_of: out of range");
  }

  ModelGraph graph;
  graph.name = modelName.str();
  graph.makespanUs = root->getNumber("makespan_us").value_or(0);
  int numDevices = int(platform.devices.size());
  // Per plan task: its kernel-task index (-1 for transfers) and, for
  // transfers, the kernel tasks whose data it carries.
  std::vector<int> kernelIndex(tasks->size(), -1);
  std::vector<std::vector<int>> carries(tasks->size());
  // Writers of each root buffer so far (plan task ids), in plan order.
  std::vector<std::vector<int>> writers(buffers->size());
  std::map<std::pair<int, int>, uint64_t> edgeBytes;

  auto bufferIds = [&](const json::Object &t, llvm::StringRef key) {
    std::vector<int> ids;
    if (const json::Array *a = t.getArray(key))
      for (const json::Value &v : *a)
        if (auto i = v.getAsInteger();
            i && *i >= 0 && size_t(*i) < buffers->size())
          ids.push_back(int(*i));
    return ids;
  };

  for (size_t id = 0; id < tasks->size(); ++id) {
    const json::Object *t = (*tasks)[id].getAsObject();
    std::string path = "tasks[" + std::to_string(id) + "]";
    if (!t)
      return fail(path + ": expected an object");
    std::optional<llvm::StringRef> kind = t->getString("kind");
    std::optional<llvm::StringRef> device = t->getString("device");
    if (!kind || !device)
      return fail(path + ": missing 'kind' or 'device'");
    std::vector<int> ins = bufferIds(*t, "inputs");
    std::vector<int> outs = bufferIds(*t, "outputs");
    // The kernel tasks whose results this task reads, with the bytes.
    std::map<int, uint64_t> producers;
    for (int b : ins)
      for (int w : writers[size_t(rootOf[size_t(b)])]) {
        if (kernelIndex[size_t(w)] >= 0) {
          uint64_t &bytes = producers[kernelIndex[size_t(w)]];
          bytes = std::max(bytes, size[size_t(b)]);
        } else {
          for (int k : carries[size_t(w)]) {
            uint64_t &bytes = producers[k];
            bytes = std::max(bytes, size[size_t(b)]);
          }
        }
      }
    if (*kind == "transfer") {
      for (auto &[k, bytes] : producers)
        carries[id].push_back(k);
    } else {
      GraphTask task;
      task.name = t->getString("name").value_or("").str();
      task.planId = int(id);
      task.device = platform.deviceIndex(*device);
      if (task.device < 0)
        return fail(path + ".device: '" + *device +
                    "' is not a device of the target");
      task.queue = int(t->getInteger("queue").value_or(0));
      task.start = t->getNumber("start_us").value_or(0);
      task.end = t->getNumber("end_us").value_or(0);
      task.cost.assign(size_t(numDevices), std::nullopt);
      const json::Object *costs = t->getObject("cost_us");
      if (!costs)
        return fail(path + ": missing 'cost_us'");
      for (int d = 0; d < numDevices; ++d)
        if (auto c = costs->getNumber(platform.devices[size_t(d)].name))
          task.cost[size_t(d)] = *c;
      if (!task.cost[size_t(task.device)])
        return fail(path + ".cost_us: no cost on its own device '" + *device +
                    "'");
      kernelIndex[id] = int(graph.tasks.size());
      for (auto &[k, bytes] : producers)
        edgeBytes[{k, kernelIndex[id]}] = bytes;
      graph.tasks.push_back(std::move(task));
    }
    for (int b : outs)
      writers[size_t(rootOf[size_t(b)])].push_back(int(id));
  }
  for (auto &[key, bytes] : edgeBytes)
    graph.edges.push_back({key.first, key.second, bytes});
  return graph;
}
