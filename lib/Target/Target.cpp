//===- Target.cpp - Target descriptions: lookups, built-ins, loading ------===//
//
// The built-in targets are the files of targets/*.yaml, embedded at build
// time as string literals (BuiltinTargets.inc, written by
// lib/Target/EmbedTargets.cmake; see lib/CMakeLists.txt), so loomc needs no
// data files at run time.
//
//===----------------------------------------------------------------------===//
#include "loom/Target/Target.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>

using namespace loom::target;

const DeviceDesc *TargetDesc::findDevice(std::string_view deviceName) const {
  for (const DeviceDesc &d : devices)
    if (d.name == deviceName)
      return &d;
  return nullptr;
}

const LinkDesc *TargetDesc::findLink(llvm::StringRef from,
                                     llvm::StringRef to) const {
  for (const LinkDesc &l : links)
    if (l.connects(from, to))
      return &l;
  return nullptr;
}

const DeviceDesc *TargetDesc::firstCpu() const {
  for (const DeviceDesc &d : devices)
    if (d.kind == "cpu")
      return &d;
  return nullptr;
}

double FittedModel::coldShare(double weightBytes) const {
  const double kb = weightBytes / 1024;
  if (coldAboveKB > 0) {
    if (coldRampKB <= 0)
      return kb > coldAboveKB ? 1 : 0;
    return std::clamp((kb - coldAboveKB) / coldRampKB + 0.5, 0.0, 1.0);
  }
  return llcKB > 0 && 2 * kb > llcKB ? 1 : 0;
}

const FittedModel *DeviceDesc::fitFor(int threads) const {
  const FittedModel *below = nullptr, *fewest = nullptr;
  for (const FittedModel &f : fits) {
    if (f.threads == threads)
      return &f;
    if (f.threads < threads && (!below || f.threads > below->threads))
      below = &f;
    if (!fewest || f.threads < fewest->threads)
      fewest = &f;
  }
  return below ? below : fewest;
}

bool DeviceDesc::listsKernel(llvm::StringRef kernel) const {
  if (!allOps && !llvm::is_contained(ops, kernel))
    return false;
  return !hasRule(kernel, OpQualifier::None);
}

bool DeviceDesc::hasRule(llvm::StringRef kernel, OpQualifier q) const {
  for (const OpRule &r : unsupportedOps)
    if (r.kernel == kernel && r.qualifier == q)
      return true;
  return false;
}

namespace {
struct BuiltinTarget {
  const char *name; ///< the file name without .yaml
  const char *text; ///< the file's bytes
};

const BuiltinTarget kBuiltins[] = {
#include "BuiltinTargets.inc"
};
} // namespace

std::optional<llvm::StringRef>
loom::target::builtinTargetText(llvm::StringRef name) {
  for (const BuiltinTarget &b : kBuiltins)
    if (name == b.name)
      return llvm::StringRef(b.text);
  return std::nullopt;
}

bool loom::target::isBuiltinTarget(llvm::StringRef name) {
  return builtinTargetText(name).has_value();
}

std::vector<std::string> loom::target::builtinTargetNames() {
  std::vector<std::string> names;
  for (const BuiltinTarget &b : kBuiltins)
    names.push_back(b.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string loom::target::builtinTargetList() {
  std::string list;
  for (const std::string &n : builtinTargetNames())
    list += (list.empty() ? "" : ", ") + n;
  return list;
}

llvm::Expected<TargetDesc>
loom::target::loadTarget(llvm::StringRef nameOrPath) {
  if (std::optional<llvm::StringRef> text = builtinTargetText(nameOrPath))
    return parseTarget(*text, ("targets/" + nameOrPath + ".yaml").str());
  if (!llvm::sys::fs::exists(nameOrPath))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "unknown target '" + nameOrPath + "' (built-in targets: " +
            builtinTargetList() + "; or the path of a YAML target file)");
  auto buffer = llvm::MemoryBuffer::getFile(nameOrPath, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read target file '" + nameOrPath +
                                       "': " + buffer.getError().message());
  return parseTarget((*buffer)->getBuffer(), nameOrPath);
}

std::optional<TargetDesc>
loom::target::getBuiltinTarget(std::string_view name) {
  std::optional<llvm::StringRef> text = builtinTargetText(name);
  if (!text)
    return std::nullopt;
  llvm::Expected<TargetDesc> t =
      parseTarget(*text, ("targets/" + llvm::StringRef(name) + ".yaml").str());
  if (!t) {
    // The unit tests load every built-in target; this cannot happen in a
    // tested build.
    llvm::consumeError(t.takeError());
    return std::nullopt;
  }
  return std::move(*t);
}
