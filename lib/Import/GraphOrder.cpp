//===- GraphOrder.cpp - Stable topological order of ONNX graphs -----------===//
//
// Graph-surgery and optimizer tools write ONNX graphs whose nodes are not in
// topological order; ONNX requires it and ONNX Runtime sorts them. This stage
// sorts every graph before any other check or library sees it.
//
//===----------------------------------------------------------------------===//
#include "ImportSupport.h"

#include <map>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace loom::import {
namespace {

/// The names a subgraph reads from its enclosing scopes: every input of its
/// nodes (and of nested subgraphs) and every graph output that the subgraph
/// itself does not define.
void collectFreeNames(const onnx::GraphProto &g, std::unordered_set<std::string> &free) {
  std::unordered_set<std::string> defined;
  for (const auto &i : g.input())
    defined.insert(i.name());
  for (const auto &t : g.initializer())
    defined.insert(t.name());
  for (const auto &n : g.node())
    for (const auto &o : n.output())
      defined.insert(o);
  std::unordered_set<std::string> used;
  for (const auto &n : g.node()) {
    for (const auto &in : n.input())
      used.insert(in);
    for (const auto &a : n.attribute()) {
      if (a.has_g())
        collectFreeNames(a.g(), used);
      for (const auto &sg : a.graphs())
        collectFreeNames(sg, used);
    }
  }
  for (const auto &o : g.output())
    used.insert(o.name());
  for (const std::string &n : used)
    if (!n.empty() && !defined.count(n))
      free.insert(n);
}

} // namespace

void sortTopologically(onnx::GraphProto &graph) {
  const int n = graph.node_size();
  // Subgraphs first: their order does not depend on the enclosing graph's.
  for (auto &node : *graph.mutable_node())
    for (auto &a : *node.mutable_attribute()) {
      if (a.has_g())
        sortTopologically(*a.mutable_g());
      for (auto &sg : *a.mutable_graphs())
        sortTopologically(sg);
    }

  // The first producer of each name in this graph (a name produced twice is
  // reported by the structural checks, which run next).
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < n; ++i)
    for (const auto &o : graph.node(i).output())
      if (!o.empty())
        producer.emplace(o, i);

  std::vector<std::vector<int>> users(static_cast<size_t>(n));
  std::vector<int> pending(size_t(n), 0);
  bool sorted = true;
  for (int i = 0; i < n; ++i) {
    const onnx::NodeProto &node = graph.node(i);
    std::unordered_set<std::string> reads(node.input().begin(), node.input().end());
    for (const auto &a : node.attribute()) {
      if (a.has_g())
        collectFreeNames(a.g(), reads);
      for (const auto &sg : a.graphs())
        collectFreeNames(sg, reads);
    }
    std::set<int> deps;
    for (const std::string &name : reads) {
      auto it = producer.find(name);
      if (!name.empty() && it != producer.end())
        deps.insert(it->second);
    }
    for (int d : deps) {
      users[size_t(d)].push_back(i);
      ++pending[size_t(i)];
      sorted &= d < i;
    }
  }
  if (sorted)
    return;

  // Kahn's algorithm, earliest ready node first.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (pending[size_t(i)] == 0)
      ready.push(i);
  std::vector<int> order;
  order.reserve(size_t(n));
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[size_t(i)])
      if (--pending[size_t(u)] == 0)
        ready.push(u);
  }
  if (int(order.size()) < n) {
    // Walk backwards from a node left over along dependencies that are left
    // over too until a node repeats: that closes a cycle.
    std::vector<std::vector<int>> deps(static_cast<size_t>(n));
    for (int d = 0; d < n; ++d)
      for (int u : users[size_t(d)])
        deps[size_t(u)].push_back(d);
    int at = 0;
    while (pending[size_t(at)] == 0)
      ++at;
    std::map<int, int> seenAt;
    std::vector<int> path;
    while (!seenAt.count(at)) {
      seenAt[at] = int(path.size());
      path.push_back(at);
      for (int d : deps[size_t(at)])
        if (pending[size_t(d)] > 0) {
          at = d;
          break;
        }
    }
    std::string cycle;
    for (size_t k = size_t(seenAt[at]); k < path.size(); ++k)
      cycle += describeNode(graph.node(path[k]), path[k]) + " <- ";
    cycle += describeNode(graph.node(at), at);
    fail("the graph has a cycle: " + cycle + " (each node reads an output of the next)");
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  nodes.Reserve(n);
  for (int i : order)
    *nodes.Add() = std::move(*graph.mutable_node(i));
  graph.mutable_node()->Swap(&nodes);
}

} // namespace loom::import
