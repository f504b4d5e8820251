//===- Kernel.cpp - Tensors, attributes and the kernel registry -----------===//
//
// Implements the dtype helpers, the attribute getters and the kernel registry
// declared in loom/Runtime/Kernel.h.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Kernel.h"

#include <algorithm>
#include <mutex>

namespace loom::rt {

//===----------------------------------------------------------------------===//
// DType helpers
//===----------------------------------------------------------------------===//

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F64:
  case DType::I64:
  case DType::U64:
    return 8;
  case DType::F32:
  case DType::I32:
  case DType::U32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
  case DType::U16:
    return 2;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 0;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::I8: return "i8";
  case DType::I16: return "i16";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::U8: return "u8";
  case DType::U16: return "u16";
  case DType::U32: return "u32";
  case DType::U64: return "u64";
  case DType::Bool: return "bool";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view name) {
  static const DType all[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                              DType::I8,  DType::I16, DType::I32, DType::I64,
                              DType::U8,  DType::U16, DType::U32, DType::U64,
                              DType::Bool};
  for (DType t : all)
    if (name == dtypeName(t))
      return t;
  return std::nullopt;
}

bool isFloat(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 ||
         t == DType::BF16;
}

bool isSigned(DType t) {
  return isFloat(t) || t == DType::I8 || t == DType::I16 || t == DType::I32 ||
         t == DType::I64;
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// Attrs
//===----------------------------------------------------------------------===//

const AttrValue *Attrs::find(std::string_view name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

namespace {
/// The name of the alternative `v` holds, for error messages.
const char *kindName(const AttrValue &v) {
  static const char *names[] = {"int",     "float",  "string", "ints",
                                "floats",  "strings", "dtype", "tensor"};
  return names[v.index()];
}

[[noreturn]] void wrongKind(std::string_view name, const AttrValue &v,
                            const char *want) {
  throw KernelError{"attribute '" + std::string(name) + "' is " +
                    kindName(v) + ", expected " + want};
}
} // namespace

int64_t Attrs::getInt(std::string_view name, int64_t dflt) const {
  const AttrValue *v = find(name);
  if (!v)
    return dflt;
  if (auto *i = std::get_if<int64_t>(v))
    return *i;
  wrongKind(name, *v, "int");
}

double Attrs::getFloat(std::string_view name, double dflt) const {
  const AttrValue *v = find(name);
  if (!v)
    return dflt;
  if (auto *d = std::get_if<double>(v))
    return *d;
  // An integer-valued float attribute may have been stored as an int.
  if (auto *i = std::get_if<int64_t>(v))
    return double(*i);
  wrongKind(name, *v, "float");
}

std::string Attrs::getString(std::string_view name, std::string dflt) const {
  const AttrValue *v = find(name);
  if (!v)
    return dflt;
  if (auto *s = std::get_if<std::string>(v))
    return *s;
  wrongKind(name, *v, "string");
}

std::vector<int64_t> Attrs::getInts(std::string_view name,
                                    std::vector<int64_t> dflt) const {
  const AttrValue *v = find(name);
  if (!v)
    return dflt;
  if (auto *xs = std::get_if<std::vector<int64_t>>(v))
    return *xs;
  // An empty list has no element type: accept an empty float list too.
  if (auto *fs = std::get_if<std::vector<double>>(v); fs && fs->empty())
    return {};
  wrongKind(name, *v, "ints");
}

std::vector<double> Attrs::getFloats(std::string_view name,
                                     std::vector<double> dflt) const {
  const AttrValue *v = find(name);
  if (!v)
    return dflt;
  if (auto *xs = std::get_if<std::vector<double>>(v))
    return *xs;
  if (auto *is = std::get_if<std::vector<int64_t>>(v))
    return std::vector<double>(is->begin(), is->end());
  wrongKind(name, *v, "floats");
}

std::vector<std::string> Attrs::getStrings(std::string_view name) const {
  const AttrValue *v = find(name);
  if (!v)
    return {};
  if (auto *xs = std::get_if<std::vector<std::string>>(v))
    return *xs;
  wrongKind(name, *v, "strings");
}

std::optional<DType> Attrs::getDType(std::string_view name) const {
  const AttrValue *v = find(name);
  if (!v)
    return std::nullopt;
  if (auto *t = std::get_if<DType>(v))
    return *t;
  if (auto *s = std::get_if<std::string>(v)) {
    if (auto t = parseDType(*s))
      return t;
    throw KernelError{"attribute '" + std::string(name) +
                      "' names unknown dtype '" + *s + "'"};
  }
  wrongKind(name, *v, "dtype");
}

const Tensor *Attrs::getTensor(std::string_view name) const {
  const AttrValue *v = find(name);
  if (!v)
    return nullptr;
  if (auto *t = std::get_if<Tensor>(v))
    return t;
  wrongKind(name, *v, "tensor");
}

int64_t Attrs::requireInt(std::string_view name) const {
  if (!has(name))
    throw KernelError{"missing required attribute '" + std::string(name) +
                      "'"};
  return getInt(name, 0);
}

//===----------------------------------------------------------------------===//
// KernelRegistry
//===----------------------------------------------------------------------===//

KernelRegistry &KernelRegistry::global() {
  static KernelRegistry registry;
  return registry;
}

void KernelRegistry::add(KernelEntry entry) {
  std::string name = entry.name;
  entries.emplace(std::move(name), std::move(entry));
}

namespace {
/// Whether `entry` accepts inputs of the given dtypes (absent inputs match
/// anything).
bool dtypesMatch(const KernelEntry &entry, const std::vector<TensorRef> &ins) {
  if (entry.inputDTypes.empty())
    return true;
  for (size_t i = 0; i < ins.size() && i < entry.inputDTypes.size(); ++i)
    if (ins[i].present && ins[i].dtype != entry.inputDTypes[i])
      return false;
  return true;
}

bool dtypesMatch(const KernelEntry &entry, const std::vector<DType> &ins) {
  if (entry.inputDTypes.empty())
    return true;
  for (size_t i = 0; i < ins.size() && i < entry.inputDTypes.size(); ++i)
    if (ins[i] != entry.inputDTypes[i])
      return false;
  return true;
}
} // namespace

const KernelEntry *KernelRegistry::lookup(std::string_view name,
                                          const KernelArgs &args,
                                          bool allowFast) const {
  auto [begin, end] = entries.equal_range(name);
  const KernelEntry *reference = nullptr;
  for (auto it = begin; it != end; ++it) {
    const KernelEntry &e = it->second;
    if (!dtypesMatch(e, args.inputs))
      continue;
    if (e.impl == KernelImpl::Fast) {
      if (allowFast && (!e.accepts || e.accepts(args)))
        return &e;
    } else if (!reference) {
      reference = &e;
    }
  }
  return reference;
}

const KernelEntry *
KernelRegistry::lookupReference(std::string_view name,
                                const std::vector<DType> &inputs) const {
  auto [begin, end] = entries.equal_range(name);
  for (auto it = begin; it != end; ++it)
    if (it->second.impl == KernelImpl::Reference &&
        dtypesMatch(it->second, inputs))
      return &it->second;
  return nullptr;
}

std::vector<std::string> KernelRegistry::names() const {
  std::vector<std::string> out;
  for (auto it = entries.begin(); it != entries.end();
       it = entries.upper_bound(it->first))
    out.push_back(it->first);
  return out;
}

} // namespace loom::rt
