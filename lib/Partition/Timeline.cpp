//===- Timeline.cpp - Treap of free intervals -----------------------------===//
#include "Timeline.h"

#include <algorithm>
#include <cassert>
#include <limits>

using namespace loom::partition::detail;

static constexpr double kInf = std::numeric_limits<double>::infinity();

void Timeline::reset() {
  nodes.clear();
  spare.clear();
  counter = 0;
  root = makeNode(0, kInf);
}

int Timeline::makeNode(double a, double b) {
  // A fixed mixing of a counter (splitmix32-like): deterministic priorities.
  uint32_t z = ++counter * 0x9E3779B9u;
  z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
  z = (z ^ (z >> 13)) * 0xC2B2AE35u;
  z ^= z >> 16;
  Node node{a, b, b - a, z, -1, -1};
  if (!spare.empty()) {
    int n = spare.back();
    spare.pop_back();
    nodes[size_t(n)] = node;
    return n;
  }
  nodes.push_back(node);
  return int(nodes.size()) - 1;
}

void Timeline::pull(int n) {
  Node &node = nodes[size_t(n)];
  node.maxLen =
      std::max({node.b - node.a, maxLen(node.left), maxLen(node.right)});
}

void Timeline::split(int n, double key, bool orEqual, int &l, int &r) {
  if (n < 0) {
    l = r = -1;
    return;
  }
  double a = nodes[size_t(n)].a;
  if (a < key || (orEqual && a == key)) {
    split(nodes[size_t(n)].right, key, orEqual, nodes[size_t(n)].right, r);
    l = n;
  } else {
    split(nodes[size_t(n)].left, key, orEqual, l, nodes[size_t(n)].left);
    r = n;
  }
  pull(n);
}

int Timeline::merge(int l, int r) {
  if (l < 0)
    return r;
  if (r < 0)
    return l;
  if (nodes[size_t(l)].priority > nodes[size_t(r)].priority) {
    nodes[size_t(l)].right = merge(nodes[size_t(l)].right, r);
    pull(l);
    return l;
  }
  nodes[size_t(r)].left = merge(l, nodes[size_t(r)].left);
  pull(r);
  return r;
}

int Timeline::containing(double t) const {
  int best = -1;
  for (int n = root; n >= 0;) {
    if (nodes[size_t(n)].a <= t) {
      best = n;
      n = nodes[size_t(n)].right;
    } else {
      n = nodes[size_t(n)].left;
    }
  }
  return best;
}

int Timeline::firstFitAfter(double t, double len) const {
  // The nodes with a > t are the nodes where the search for t turns left,
  // each followed (in key order) by its right subtree; deeper ones come
  // first. Remember the deepest fitting candidate seen so far.
  int fitNode = -1, fitSubtree = -1;
  for (int n = root; n >= 0;) {
    const Node &node = nodes[size_t(n)];
    if (node.a > t) {
      if (length(n) >= len) {
        fitNode = n;
        fitSubtree = -1;
      } else if (maxLen(node.right) >= len) {
        fitNode = -1;
        fitSubtree = node.right;
      }
      n = node.left;
    } else {
      n = node.right;
    }
  }
  if (fitNode >= 0)
    return fitNode;
  // The leftmost fitting node of a subtree known to hold one.
  for (int n = fitSubtree; n >= 0;) {
    const Node &node = nodes[size_t(n)];
    if (maxLen(node.left) >= len)
      n = node.left;
    else if (length(n) >= len)
      return n;
    else
      n = node.right;
  }
  return -1;
}

double Timeline::earliestFit(double t, double len) const {
  int c = containing(t);
  if (c >= 0 && t + len <= nodes[size_t(c)].b)
    return t;
  // b - a >= len guides the search; a + len <= b is the test occupy() uses,
  // and may differ by rounding: then look further on. The last interval is
  // infinite, so the loop ends.
  for (double after = t;;) {
    int f = firstFitAfter(after, len);
    assert(f >= 0 && "the last free interval is unbounded");
    if (nodes[size_t(f)].a + len <= nodes[size_t(f)].b)
      return nodes[size_t(f)].a;
    after = nodes[size_t(f)].a;
  }
}

void Timeline::occupy(double x, double len) {
  // Find the free interval holding x, remembering the path to it.
  path.clear();
  int c = -1;
  size_t depth = 0;
  for (int n = root; n >= 0;) {
    path.push_back(n);
    if (nodes[size_t(n)].a <= x) {
      c = n;
      depth = path.size();
      n = nodes[size_t(n)].right;
    } else {
      n = nodes[size_t(n)].left;
    }
  }
  assert(c >= 0 && x + len <= nodes[size_t(c)].b && "interval is not free");
  path.resize(depth); // the root .. c
  double a = nodes[size_t(c)].a, b = nodes[size_t(c)].b;
  bool keepLeft = x > a, keepRight = b > x + len;
  if (keepLeft || keepRight) {
    // Shrink c in place. Its key may move from a to x + len, but no other
    // interval starts within [a, b], so the order holds.
    if (keepLeft)
      nodes[size_t(c)].b = x;
    else
      nodes[size_t(c)].a = x + len;
    for (size_t i = path.size(); i-- > 0;)
      pull(path[i]);
    if (keepLeft && keepRight) {
      int less, greater;
      split(root, x + len, /*orEqual=*/false, less, greater);
      root = merge(merge(less, makeNode(x + len, b)), greater);
    }
    return;
  }
  // The interval is filled exactly: erase c.
  int less, rest, self, greater;
  split(root, a, /*orEqual=*/false, less, rest);
  split(rest, a, /*orEqual=*/true, self, greater);
  assert(self == c && nodes[size_t(c)].left < 0 && nodes[size_t(c)].right < 0);
  spare.push_back(self);
  root = merge(less, greater);
}
