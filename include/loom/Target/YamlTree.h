//===- YamlTree.h - A YAML document read into a tree ------------*- C++ -*-===//
//
// LLVM's YAML parser streams (a node can be visited once, in file order);
// the target and scenario parsers read the whole document into this tree
// first and then check it against their schema, with source locations for
// their messages.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_YAMLTREE_H
#define LOOM_TARGET_YAMLTREE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/YAMLParser.h"

#include <memory>
#include <string>
#include <vector>

namespace loom::yamltree {

struct YEntry;

/// A YAML node: a scalar, a mapping (entries in file order) or a sequence.
struct YNode {
  enum Kind { Null, Scalar, Map, Seq } kind = Null;
  llvm::SMLoc loc;
  std::string value;                         ///< Scalar
  std::vector<YEntry> entries;               ///< Map, in file order
  std::vector<std::unique_ptr<YNode>> items; ///< Seq

  /// The value of `key` in a mapping (the first one), or null.
  const YNode *get(llvm::StringRef key) const;
};

struct YEntry {
  std::string key;
  llvm::SMLoc keyLoc;
  std::unique_ptr<YNode> value;
};

/// Copies `node` into `out`; false (with `errorLoc` and `error` set) for
/// what the schemas never use: aliases ("YAML aliases are not supported in
/// <fileKind>"), non-scalar keys. A null or empty value takes its key's
/// location.
bool build(llvm::yaml::Node *node, YNode &out, llvm::SMLoc &errorLoc,
           std::string &error, llvm::StringRef fileKind);

} // namespace loom::yamltree

#endif // LOOM_TARGET_YAMLTREE_H
