//===- CostTable.cpp - Measured kernel times (JSON) -----------------------===//
//
// The table and its file format (docs/targets.md, "Cost tables"). loom-profile
// (tools/loom-profile) measures kernels and writes these files.
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/CostModel.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace loom::cost;

namespace {
std::string operandSignature(const std::optional<TensorDesc> &t) {
  if (!t)
    return "none";
  std::string s;
  for (int64_t d : t->shape)
    s += std::to_string(d) + "x";
  return s + t->elementType;
}

std::string joinSignature(llvm::StringRef kernel,
                          const std::vector<std::string> &ins,
                          const std::vector<std::string> &outs) {
  std::string s = kernel.str() + "(";
  for (size_t i = 0; i < ins.size(); ++i)
    s += (i ? "," : "") + ins[i];
  s += ")->(";
  for (size_t i = 0; i < outs.size(); ++i)
    s += (i ? "," : "") + outs[i];
  return s + ")";
}

std::vector<std::string>
operandSignatures(const std::vector<std::optional<TensorDesc>> &operands) {
  std::vector<std::string> out;
  for (const auto &t : operands)
    out.push_back(operandSignature(t));
  return out;
}
} // namespace

/// `64x256xf32` -> TensorDesc (bytes per element from the type); `none`
/// -> nullopt.
std::optional<TensorDesc> parseOperand(llvm::StringRef s) {
  if (s == "none")
    return std::nullopt;
  TensorDesc t;
  llvm::SmallVector<llvm::StringRef> parts;
  s.split(parts, 'x');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int64_t d = 0;
    if (parts[i].getAsInteger(10, d))
      d = 0;
    t.shape.push_back(d);
  }
  t.elementType = parts.back().str();
  llvm::StringRef ty = t.elementType;
  t.elementBytes = ty == "f64" || ty == "i64" || ty == "ui64" || ty == "complex<f32>" ? 8
                   : ty == "f16" || ty == "bf16" || ty == "i16" || ty == "ui16" ? 2
                   : ty == "i8" || ty == "ui8" || ty == "si8" || ty == "i1"     ? 1
                                                                               : 4;
  return t;
}

std::string loom::cost::kernelSignature(const KernelDesc &k) {
  return joinSignature(k.kernel, operandSignatures(k.inputs),
                       operandSignatures(k.outputs));
}

std::vector<std::pair<KernelDesc, std::map<std::string, double>>>
CostTable::kernels() const {
  std::vector<std::pair<KernelDesc, std::map<std::string, double>>> out;
  for (const auto &[signature, e] : entries) {
    KernelDesc k;
    k.kernel = e.kernel;
    for (const std::string &op : e.inputs)
      k.inputs.push_back(parseOperand(op));
    for (const std::string &op : e.outputs)
      k.outputs.push_back(parseOperand(op));
    out.push_back({std::move(k), e.us});
  }
  return out;
}

void CostTable::set(const KernelDesc &k, llvm::StringRef device, double us) {
  Entry &e = entries[kernelSignature(k)];
  e.kernel = k.kernel;
  e.inputs = operandSignatures(k.inputs);
  e.outputs = operandSignatures(k.outputs);
  e.us[device.str()] = us;
}

std::optional<double> CostTable::lookup(llvm::StringRef signature,
                                        llvm::StringRef device) const {
  auto it = entries.find(signature.str());
  if (it == entries.end())
    return std::nullopt;
  auto us = it->second.us.find(device.str());
  if (us == it->second.us.end())
    return std::nullopt;
  return us->second;
}

std::optional<double> CostTable::lookup(const KernelDesc &k,
                                        llvm::StringRef device) const {
  if (entries.empty())
    return std::nullopt;
  return lookup(kernelSignature(k), device);
}

llvm::Expected<CostTable> CostTable::parse(llvm::StringRef text,
                                           llvm::StringRef fileName) {
  auto fail = [&](const std::string &path, const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   fileName + ": " +
                                       (path.empty() ? "" : path + ": ") + msg);
  };
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (!value)
    return fail("", llvm::toString(value.takeError()));
  const llvm::json::Object *root = value->getAsObject();
  if (!root)
    return fail("", "expected an object with version, target and entries");
  for (const auto &kv : *root)
    if (kv.first != "version" && kv.first != "target" && kv.first != "entries")
      return fail(kv.first.str(),
                  "unknown key (known: version, target, entries)");
  std::optional<int64_t> version = root->getInteger("version");
  if (!version || *version != 1)
    return fail("version", "expected 1");
  CostTable table;
  if (const llvm::json::Value *t = root->get("target")) {
    std::optional<llvm::StringRef> s = t->getAsString();
    if (!s)
      return fail("target", "expected a string");
    table.target = s->str();
  }
  const llvm::json::Array *list = root->getArray("entries");
  if (!list)
    return fail("entries", "expected an array");
  std::map<std::string, size_t> firstIndex;
  for (size_t i = 0; i < list->size(); ++i) {
    std::string path = "entries[" + std::to_string(i) + "]";
    const llvm::json::Object *o = (*list)[i].getAsObject();
    if (!o)
      return fail(path, "expected an object");
    for (const auto &kv : *o)
      if (kv.first != "kernel" && kv.first != "inputs" &&
          kv.first != "outputs" && kv.first != "us")
        return fail(path + "." + kv.first.str(),
                    "unknown key (known: kernel, inputs, outputs, us)");
    Entry e;
    std::optional<llvm::StringRef> kernel = o->getString("kernel");
    if (!kernel || kernel->empty())
      return fail(path + ".kernel", "expected a kernel name");
    e.kernel = kernel->str();
    for (const char *key : {"inputs", "outputs"}) {
      const llvm::json::Array *operands = o->getArray(key);
      if (!operands)
        return fail(path + "." + key, "expected an array of operand types");
      std::vector<std::string> &out =
          std::string(key) == "inputs" ? e.inputs : e.outputs;
      for (size_t j = 0; j < operands->size(); ++j) {
        std::optional<llvm::StringRef> s = (*operands)[j].getAsString();
        if (!s || s->empty())
          return fail(path + "." + key + "[" + std::to_string(j) + "]",
                      "expected an operand type like 64x256xf32 or none");
        out.push_back(s->str());
      }
    }
    const llvm::json::Object *us = o->getObject("us");
    if (!us)
      return fail(path + ".us", "expected an object of device -> µs");
    for (const auto &kv : *us) {
      std::optional<double> v = kv.second.getAsNumber();
      if (!v || !std::isfinite(*v) || *v < 0)
        return fail(path + ".us." + kv.first.str(),
                    "expected a non-negative number");
      e.us[kv.first.str()] = *v;
    }
    std::string signature = joinSignature(e.kernel, e.inputs, e.outputs);
    auto [it, inserted] = firstIndex.try_emplace(signature, i);
    if (!inserted)
      return fail(path, "duplicate entry for " + signature + " (also entries[" +
                            std::to_string(it->second) + "])");
    table.entries[signature] = std::move(e);
  }
  return table;
}

llvm::Expected<CostTable> CostTable::load(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read cost table '" + path +
                                       "': " + buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

std::string CostTable::toJSON() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attribute("version", 1);
    j.attribute("target", target);
    j.attributeArray("entries", [&] {
      for (const auto &[signature, e] : entries)
        j.object([&] {
          j.attribute("kernel", e.kernel);
          j.attributeArray("inputs", [&] {
            for (const std::string &s : e.inputs)
              j.value(s);
          });
          j.attributeArray("outputs", [&] {
            for (const std::string &s : e.outputs)
              j.value(s);
          });
          j.attributeObject("us", [&] {
            for (const auto &[device, us] : e.us)
              j.attribute(device, us);
          });
        });
    });
  });
  os << "\n";
  return text;
}

llvm::Error CostTable::save(llvm::StringRef path) const {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError(ec, "cannot write cost table '" + path +
                                           "': " + ec.message());
  os << toJSON();
  os.close();
  if (os.has_error())
    return llvm::createStringError(os.error(),
                                   "cannot write cost table '" + path +
                                       "': " + os.error().message());
  return llvm::Error::success();
}
