//===- YamlTree.cpp - A YAML document read into a tree --------------------===//
#include "loom/Target/YamlTree.h"

#include "llvm/ADT/SmallString.h"

using namespace loom::yamltree;
namespace yaml = llvm::yaml;

const YNode *YNode::get(llvm::StringRef key) const {
  for (const YEntry &e : entries)
    if (e.key == key)
      return e.value.get();
  return nullptr;
}

bool loom::yamltree::build(yaml::Node *node, YNode &out, llvm::SMLoc &errorLoc,
                           std::string &error, llvm::StringRef fileKind) {
  if (!node)
    return true;
  out.loc = node->getSourceRange().Start;
  if (auto *s = llvm::dyn_cast<yaml::ScalarNode>(node)) {
    llvm::SmallString<64> storage;
    out.kind = YNode::Scalar;
    out.value = s->getValue(storage).str();
  } else if (auto *b = llvm::dyn_cast<yaml::BlockScalarNode>(node)) {
    out.kind = YNode::Scalar;
    out.value = b->getValue().str();
  } else if (auto *m = llvm::dyn_cast<yaml::MappingNode>(node)) {
    out.kind = YNode::Map;
    for (yaml::KeyValueNode &kv : *m) {
      auto *key = llvm::dyn_cast_or_null<yaml::ScalarNode>(kv.getKey());
      if (!key) {
        errorLoc = kv.getKey() ? kv.getKey()->getSourceRange().Start : out.loc;
        error = "expected a plain key";
        return false;
      }
      YEntry e;
      llvm::SmallString<32> storage;
      e.key = key->getValue(storage).str();
      e.keyLoc = key->getSourceRange().Start;
      e.value = std::make_unique<YNode>();
      if (!build(kv.getValue(), *e.value, errorLoc, error, fileKind))
        return false;
      if (!e.value->loc.isValid() || e.value->kind == YNode::Null)
        e.value->loc = e.keyLoc;
      out.entries.push_back(std::move(e));
    }
  } else if (auto *q = llvm::dyn_cast<yaml::SequenceNode>(node)) {
    out.kind = YNode::Seq;
    for (yaml::Node &item : *q) {
      out.items.push_back(std::make_unique<YNode>());
      if (!build(&item, *out.items.back(), errorLoc, error, fileKind))
        return false;
    }
  } else if (llvm::isa<yaml::AliasNode>(node)) {
    errorLoc = out.loc;
    error = ("YAML aliases are not supported in " + fileKind).str();
    return false;
  }
  return true;
}
