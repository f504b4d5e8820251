//===- TargetParser.cpp - YAML target descriptions ------------------------===//
//
// Reads a target description (schema: docs/targets.md) with LLVM's YAML
// parser and checks it. Every error names the file, line and column and the
// field path (`devices[1].peak.i8`); the first error stops the parse. Unknown
// keys are errors, and so are contradictions (duplicate device names, links
// to unknown devices, a target without a cpu, ...).
//
//===----------------------------------------------------------------------===//
#include "loom/Target/Target.h"
#include "loom/Target/YamlTree.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <cmath>

using namespace loom::target;
namespace yaml = llvm::yaml;
using llvm::StringRef;

using loom::yamltree::YEntry;
using loom::yamltree::YNode;

namespace {

class TargetParser {
public:
  TargetParser(llvm::SourceMgr &sm, StringRef fileName)
      : sm(sm), fileName(fileName.str()) {}

  bool parse(const YNode &root, TargetDesc &out);
  std::string takeError() { return std::move(error); }

  // --- errors ---------------------------------------------------------------
  std::string location(llvm::SMLoc loc) const {
    unsigned line = 1, col = 1;
    if (loc.isValid() && sm.FindBufferContainingLoc(loc))
      std::tie(line, col) = sm.getLineAndColumn(loc);
    return fileName + ":" + std::to_string(line) + ":" + std::to_string(col);
  }
  /// Records the first error: `file:line:col: path: message`.
  bool fail(llvm::SMLoc loc, const std::string &path, const llvm::Twine &msg) {
    if (error.empty())
      error =
          location(loc) + ": " + (path.empty() ? "" : path + ": ") + msg.str();
    return false;
  }
  bool fail(const YNode &node, const std::string &path,
            const llvm::Twine &msg) {
    return fail(node.loc, path, msg);
  }

private:
  std::string lineOf(llvm::SMLoc loc) const {
    return loc.isValid() && sm.FindBufferContainingLoc(loc)
               ? std::to_string(sm.getLineAndColumn(loc).first)
               : "?";
  }
  static std::string join(const std::string &path, StringRef key) {
    return path.empty() ? key.str() : path + "." + key.str();
  }
  static std::string index(const std::string &path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }
  static std::string listOf(llvm::ArrayRef<StringRef> names) {
    std::string s;
    for (StringRef n : names)
      s += (s.empty() ? "" : ", ") + n.str();
    return s;
  }
  /// The name in `known` nearest to `got` (edit distance <= 2), or "".
  static StringRef nearest(StringRef got, llvm::ArrayRef<StringRef> known) {
    StringRef best;
    unsigned bestDistance = 3;
    for (StringRef k : known) {
      unsigned d = got.edit_distance(k, true, bestDistance);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best;
  }
  /// "; did you mean 'x'?" for a near miss, else " (known: a, b, c)".
  static std::string suggest(StringRef got, llvm::ArrayRef<StringRef> known) {
    StringRef best = nearest(got, known);
    if (!best.empty())
      return "; did you mean '" + best.str() + "'?";
    return " (known: " + listOf(known) + ")";
  }

  // --- shapes ---------------------------------------------------------------
  /// Checks that `node` is a mapping without duplicate or unknown keys.
  bool checkMapping(const YNode &node, const std::string &path,
                    llvm::ArrayRef<StringRef> known, const char *what) {
    if (node.kind != YNode::Map)
      return fail(node, path, llvm::Twine("expected a mapping (") + what + ")");
    for (size_t i = 0; i < node.entries.size(); ++i) {
      const YEntry &e = node.entries[i];
      if (!llvm::is_contained(known, e.key))
        return fail(e.keyLoc, join(path, e.key),
                    "unknown key" + suggest(e.key, known));
      for (size_t j = 0; j < i; ++j)
        if (node.entries[j].key == e.key)
          return fail(e.keyLoc, join(path, e.key),
                      "duplicate key (first on line " +
                          lineOf(node.entries[j].keyLoc) + ")");
    }
    return true;
  }
  static const YNode *find(const YNode &map, StringRef key) {
    for (const YEntry &e : map.entries)
      if (e.key == key)
        return e.value.get();
    return nullptr;
  }
  /// The field `key`, or an error at the mapping when it is missing.
  const YNode *require(const YNode &map, const std::string &path,
                       StringRef key) {
    if (const YNode *v = find(map, key))
      return v;
    fail(map, join(path, key), "missing required key");
    return nullptr;
  }

  bool getString(const YNode &node, const std::string &path, std::string &out) {
    if (node.kind != YNode::Scalar)
      return fail(node, path, "expected a string");
    if (node.value.empty())
      return fail(node, path, "expected a non-empty string");
    out = node.value;
    return true;
  }
  bool getIdentifier(const YNode &node, const std::string &path,
                     std::string &out) {
    if (!getString(node, path, out))
      return false;
    bool ok = !std::isdigit(static_cast<unsigned char>(out[0]));
    for (char c : out)
      ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!ok)
      return fail(node, path,
                  "expected an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    return true;
  }
  enum class Range { Positive, NonNegative, Fraction };
  bool getNumber(const YNode &node, const std::string &path, Range range,
                 double &out) {
    static const char *const expected[] = {"expected a positive number",
                                           "expected a non-negative number",
                                           "expected a fraction in (0, 1]"};
    const char *msg = expected[int(range)];
    if (node.kind != YNode::Scalar ||
        StringRef(node.value).trim().getAsDouble(out) || !std::isfinite(out))
      return fail(node, path, msg);
    bool ok = range == Range::Positive      ? out > 0
              : range == Range::NonNegative ? out >= 0
                                            : out > 0 && out <= 1;
    return ok || fail(node, path, msg);
  }
  bool getBool(const YNode &node, const std::string &path, bool &out) {
    StringRef v = node.kind == YNode::Scalar ? StringRef(node.value) : "";
    if (v == "true" || v == "True" || v == "TRUE")
      out = true;
    else if (v == "false" || v == "False" || v == "FALSE")
      out = false;
    else
      return fail(node, path, "expected true or false");
    return true;
  }
  /// A list of non-empty scalars.
  bool getStringList(const YNode &node, const std::string &path,
                     std::vector<std::string> &out) {
    if (node.kind != YNode::Seq)
      return fail(node, path, "expected a list of strings");
    for (size_t i = 0; i < node.items.size(); ++i) {
      std::string s;
      if (!getString(*node.items[i], index(path, i), s))
        return false;
      out.push_back(std::move(s));
    }
    return true;
  }
  bool checkKernel(StringRef kernel, const YNode &node,
                   const std::string &path) {
    if (kernelClass(kernel))
      return true;
    std::vector<StringRef> known = knownKernels();
    StringRef best = nearest(kernel, known);
    return fail(node, path,
                "unknown kernel '" + kernel + "'" +
                    (best.empty()
                         ? std::string(" (kernels are loom op "
                                       "mnemonics, see docs/targets.md)")
                         : "; did you mean '" + best.str() + "'?"));
  }

  // --- the schema
  // -------------------------------------------------------------
  bool parseDevice(const YNode &node, const std::string &path, DeviceDesc &d);
  bool parsePeak(const YNode &node, const std::string &path, DeviceDesc &d);
  bool parseEfficiency(const YNode &node, const std::string &path,
                       DeviceDesc &d);
  bool parseOps(const YNode &node, const std::string &path, DeviceDesc &d);
  bool parseFitted(const YNode &node, const std::string &path, DeviceDesc &d);
  bool parseUnsupported(const YNode &node, const std::string &path,
                        DeviceDesc &d);
  bool parseLink(const YNode &node, const std::string &path,
                 const TargetDesc &t, LinkDesc &l);

  llvm::SourceMgr &sm;
  std::string fileName;
  std::string error;
};

constexpr StringRef kTopKeys[] = {"name", "description", "sources", "devices",
                                  "links"};
constexpr StringRef kDeviceKeys[] = {"name",          "kind",
                                     "queues",        "peak",
                                     "bandwidth_gbs", "dispatch_us",
                                     "memory_mb",     "efficiency",
                                     "ops",           "unsupported_ops",
                                     "fusions",       "static_shapes_only",
                                     "power_w",       "idle_power_w",
                                     "float_accumulation", "fitted",
                                     "weight_formats"};
constexpr StringRef kFittedKeys[] = {
    "machine", "date",          "threads",      "dispatch_us", "cache_kb",
    "llc_kb",  "cold_above_kb", "cold_ramp_kb", "error",       "families"};
constexpr StringRef kFamilyKeys[] = {
    "fixed_us", "gops",          "gbs",     "spill_gbs", "transcendental_gops",
    "cold_gbs", "cold_fixed_us", "samples", "error"};
constexpr StringRef kLinkKeys[] = {
    "from",          "to",         "directed", "shared_memory",
    "bandwidth_gbs", "latency_us", "sync_us"};
constexpr StringRef kKinds[] = {"cpu", "gpu", "npu"};
constexpr StringRef kWeightFormats[] = {"int8", "int4", "ternary", "2:4"};
constexpr StringRef kQualifiers[] = {"dynamic_rhs"};

bool TargetParser::parse(const YNode &root, TargetDesc &t) {
  if (!checkMapping(root, "", kTopKeys, "a target: name, devices, ..."))
    return false;
  const YNode *name = require(root, "", "name");
  if (!name || !getString(*name, "name", t.name))
    return false;
  if (const YNode *v = find(root, "description"))
    if (!getString(*v, "description", t.description))
      return false;
  if (const YNode *v = find(root, "sources"))
    if (!getStringList(*v, "sources", t.sources))
      return false;

  const YNode *devices = require(root, "", "devices");
  if (!devices)
    return false;
  if (devices->kind != YNode::Seq)
    return fail(*devices, "devices", "expected a list of devices");
  for (size_t i = 0; i < devices->items.size(); ++i) {
    const YNode &item = *devices->items[i];
    std::string path = index("devices", i);
    DeviceDesc d;
    if (!parseDevice(item, path, d))
      return false;
    llvm::SMLoc nameLoc = find(item, "name")->loc;
    for (size_t j = 0; j < t.devices.size(); ++j) {
      if (t.devices[j].name == d.name)
        return fail(nameLoc, path + ".name",
                    "duplicate device name '" + d.name + "' (also devices[" +
                        std::to_string(j) + "])");
      // Each device's arena is called NAME_mem in the plan.
      if (t.devices[j].name + "_mem" == d.name ||
          d.name + "_mem" == t.devices[j].name)
        return fail(nameLoc, path + ".name",
                    "device name '" + d.name +
                        "' clashes with the arena of "
                        "devices[" +
                        std::to_string(j) + "] (arenas are NAME_mem)");
    }
    t.devices.push_back(std::move(d));
  }
  if (!t.firstCpu())
    return fail(*devices, "devices",
                "a target needs at least one device of kind cpu");

  if (const YNode *links = find(root, "links")) {
    if (links->kind != YNode::Seq)
      return fail(*links, "links", "expected a list of links");
    for (size_t i = 0; i < links->items.size(); ++i) {
      const YNode &item = *links->items[i];
      std::string path = index("links", i);
      LinkDesc l;
      if (!parseLink(item, path, t, l))
        return false;
      for (size_t j = 0; j < t.links.size(); ++j) {
        const LinkDesc &o = t.links[j];
        bool overlap = o.connects(l.from, l.to) ||
                       (!l.directed && o.connects(l.to, l.from));
        if (overlap)
          return fail(item, path,
                      "duplicate link between '" + l.from + "' and '" + l.to +
                          "' (also links[" + std::to_string(j) + "])");
      }
      t.links.push_back(std::move(l));
    }
  }
  return true;
}

bool TargetParser::parseDevice(const YNode &node, const std::string &path,
                               DeviceDesc &d) {
  if (!checkMapping(node, path, kDeviceKeys, "a device: name, kind, peak, ..."))
    return false;
  for (StringRef key : {"name", "kind", "peak", "bandwidth_gbs", "dispatch_us"})
    if (!require(node, path, key))
      return false;
  bool weightFormatsGiven = false;

  for (const YEntry &e : node.entries) {
    const YNode &v = *e.value;
    std::string p = join(path, e.key);
    bool ok = true;
    if (e.key == "name") {
      ok = getIdentifier(v, p, d.name);
    } else if (e.key == "kind") {
      ok = getString(v, p, d.kind);
      if (ok && !llvm::is_contained(kKinds, d.kind))
        ok = fail(v, p, "expected cpu, gpu or npu");
    } else if (e.key == "queues") {
      int q = 0;
      if (v.kind != YNode::Scalar ||
          StringRef(v.value).trim().getAsInteger(10, q) || q < 1)
        ok = fail(v, p, "expected an integer >= 1");
      d.queues = q;
    } else if (e.key == "peak") {
      ok = parsePeak(v, p, d);
    } else if (e.key == "bandwidth_gbs") {
      ok = getNumber(v, p, Range::Positive, d.bandwidthGBs);
    } else if (e.key == "dispatch_us") {
      ok = getNumber(v, p, Range::NonNegative, d.dispatchUs);
    } else if (e.key == "memory_mb") {
      double mb = 0;
      ok = getNumber(v, p, Range::Positive, mb);
      d.memoryMB = mb;
    } else if (e.key == "efficiency") {
      ok = parseEfficiency(v, p, d);
    } else if (e.key == "ops") {
      ok = parseOps(v, p, d);
    } else if (e.key == "unsupported_ops") {
      // Checked after `ops` (contradictions), whatever the key order.
    } else if (e.key == "fusions") {
      std::vector<std::string> list;
      ok = getStringList(v, p, list);
      for (size_t i = 0; ok && i < list.size(); ++i) {
        if (llvm::is_contained(d.fusions, list[i]))
          ok = fail(*v.items[i], index(p, i),
                    "duplicate fusion '" + list[i] + "'");
        d.fusions.push_back(list[i]);
      }
    } else if (e.key == "weight_formats") {
      std::vector<std::string> list;
      ok = getStringList(v, p, list);
      d.weightFormats.clear();
      for (size_t i = 0; ok && i < list.size(); ++i) {
        if (!llvm::is_contained(kWeightFormats, list[i]))
          ok = fail(*v.items[i], index(p, i),
                    "unknown weight format '" + list[i] +
                        "' (known: int8, int4, ternary, 2:4)");
        else if (llvm::is_contained(d.weightFormats, list[i]))
          ok = fail(*v.items[i], index(p, i),
                    "duplicate weight format '" + list[i] + "'");
        else
          d.weightFormats.push_back(list[i]);
      }
      weightFormatsGiven = true;
    } else if (e.key == "static_shapes_only") {
      ok = getBool(v, p, d.staticShapesOnly);
    } else if (e.key == "float_accumulation") {
      // The type a device accumulates its reduced-precision float work in
      // (device precision auto): only f32 is emulated on the host.
      std::string acc;
      ok = getString(v, p, acc);
      if (ok && acc != "f32")
        ok = fail(v, p, "expected f32 (the only accumulation the host emulates)");
    } else if (e.key == "fitted") {
      ok = parseFitted(v, p, d);
    } else if (e.key == "power_w") {
      double w = 0;
      ok = getNumber(v, p, Range::Positive, w);
      d.powerW = w;
    } else if (e.key == "idle_power_w") {
      double w = 0;
      ok = getNumber(v, p, Range::NonNegative, w);
      d.idlePowerW = w;
    }
    if (!ok)
      return false;
  }
  if (const YNode *v = find(node, "unsupported_ops"))
    if (!parseUnsupported(*v, join(path, "unsupported_ops"), d))
      return false;
  // Without `weight_formats`: a CPU runs every packed weight format (the
  // runtime has the kernels); a GPU or NPU the 8- and 4-bit ones.
  if (!weightFormatsGiven)
    d.weightFormats = d.kind == "cpu"
                          ? std::vector<std::string>{"int8", "int4", "ternary", "2:4"}
                          : std::vector<std::string>{"int8", "int4"};
  if (d.powerW && d.idlePowerW && *d.idlePowerW > *d.powerW)
    return fail(*find(node, "idle_power_w"), join(path, "idle_power_w"),
                "exceeds power_w of the same device");
  return true;
}

bool TargetParser::parsePeak(const YNode &node, const std::string &path,
                             DeviceDesc &d) {
  std::vector<StringRef> names;
  for (size_t t = 0; t < kNumDTypes; ++t)
    names.push_back(dtypeName(DType(t)));
  if (!checkMapping(node, path, names, "element type -> GOP/s"))
    return false;
  if (node.entries.empty())
    return fail(node, path,
                "a device needs the peak of at least one element type (" +
                    listOf(names) + ")");
  for (const YEntry &e : node.entries)
    if (!getNumber(*e.value, join(path, e.key), Range::Positive,
                   d.peakGops[size_t(*parseDType(e.key))]))
      return false;
  return true;
}

bool TargetParser::parseEfficiency(const YNode &node, const std::string &path,
                                   DeviceDesc &d) {
  std::vector<StringRef> names;
  for (size_t c = 0; c < kNumOpClasses; ++c)
    names.push_back(opClassName(OpClass(c)));
  if (!checkMapping(node, path, names, "op class -> fraction of peak"))
    return false;
  for (const YEntry &e : node.entries)
    if (!getNumber(*e.value, join(path, e.key), Range::Fraction,
                   d.efficiency[size_t(*parseOpClass(e.key))]))
      return false;
  return true;
}

bool TargetParser::parseFitted(const YNode &node, const std::string &path,
                               DeviceDesc &d) {
  // A list: one fit per thread count.
  if (node.kind == YNode::Seq) {
    if (node.items.empty())
      return fail(node, path, "expected at least one fitted cost model");
    for (size_t i = 0; i < node.items.size(); ++i)
      if (!parseFitted(*node.items[i], index(path, i), d))
        return false;
    return true;
  }
  if (!checkMapping(node, path, kFittedKeys,
                    "a fitted cost model: machine, date, families, ..."))
    return false;
  FittedModel m;
  const YNode *families = require(node, path, "families");
  if (!families)
    return false;
  for (const YEntry &e : node.entries) {
    const YNode &v = *e.value;
    std::string p = join(path, e.key);
    bool ok = true;
    if (e.key == "machine") {
      ok = getString(v, p, m.machine);
    } else if (e.key == "date") {
      ok = getString(v, p, m.date);
    } else if (e.key == "threads") {
      if (v.kind != YNode::Scalar ||
          StringRef(v.value).trim().getAsInteger(10, m.threads) ||
          m.threads < 1)
        ok = fail(v, p, "expected an integer >= 1");
    } else if (e.key == "dispatch_us") {
      double us = 0;
      ok = getNumber(v, p, Range::NonNegative, us);
      m.dispatchUs = us;
    } else if (e.key == "cache_kb") {
      ok = getNumber(v, p, Range::NonNegative, m.cacheKB);
    } else if (e.key == "llc_kb") {
      ok = getNumber(v, p, Range::NonNegative, m.llcKB);
    } else if (e.key == "cold_above_kb") {
      ok = getNumber(v, p, Range::NonNegative, m.coldAboveKB);
    } else if (e.key == "cold_ramp_kb") {
      ok = getNumber(v, p, Range::NonNegative, m.coldRampKB);
    } else if (e.key == "error") {
      ok = getNumber(v, p, Range::NonNegative, m.error);
    }
    if (!ok)
      return false;
  }
  std::string fp = join(path, "families");
  if (families->kind != YNode::Map)
    return fail(*families, fp, "expected a mapping (family -> parameters)");
  for (const YEntry &e : families->entries) {
    std::string p = join(fp, e.key);
    // A family is a kernel name, an op class or a variant of docs/targets.md.
    static constexpr StringRef kVariants[] = {"conv_depthwise", "conv_1x1",
                                              "matmul_row",     "qmatmul_int8",
                                              "qmatmul_w4",     "qconv_int8"};
    if (!kernelClass(e.key) && !parseOpClass(e.key) &&
        !llvm::is_contained(kVariants, e.key))
      return fail(e.keyLoc, p,
                  "unknown kernel family (a kernel name, an op class, "
                  "conv_depthwise, conv_1x1, matmul_row, qmatmul_int8, "
                  "qmatmul_w4 or qconv_int8)");
    if (m.find(e.key))
      return fail(e.keyLoc, p, "duplicate family");
    if (!checkMapping(*e.value, p, kFamilyKeys,
                      "fixed_us, gops, gbs, spill_gbs, transcendental_gops, "
                      "cold_gbs, cold_fixed_us, "
                      "samples, error"))
      return false;
    FittedFamily f;
    for (const YEntry &k : e.value->entries) {
      const YNode &v = *k.value;
      std::string kp = join(p, k.key);
      bool ok = true;
      if (k.key == "fixed_us")
        ok = getNumber(v, kp, Range::NonNegative, f.fixedUs);
      else if (k.key == "gops")
        ok = getNumber(v, kp, Range::NonNegative, f.gops);
      else if (k.key == "gbs")
        ok = getNumber(v, kp, Range::NonNegative, f.gbs);
      else if (k.key == "spill_gbs")
        ok = getNumber(v, kp, Range::NonNegative, f.spillGbs);
      else if (k.key == "transcendental_gops")
        ok = getNumber(v, kp, Range::NonNegative, f.transcendentalGops);
      else if (k.key == "cold_gbs")
        ok = getNumber(v, kp, Range::NonNegative, f.coldGbs);
      else if (k.key == "cold_fixed_us")
        ok = getNumber(v, kp, Range::NonNegative, f.coldFixedUs);
      else if (k.key == "error")
        ok = getNumber(v, kp, Range::NonNegative, f.error);
      else if (k.key == "samples") {
        if (v.kind != YNode::Scalar ||
            StringRef(v.value).trim().getAsInteger(10, f.samples) ||
            f.samples < 0)
          ok = fail(v, kp, "expected an integer >= 0");
      }
      if (!ok)
        return false;
    }
    m.families.push_back({e.key, f});
  }
  for (const FittedModel &other : d.fits)
    if (other.threads == m.threads)
      return fail(node, path,
                  "a second fit for threads: " + std::to_string(m.threads) +
                      " (one per thread count)");
  d.fits.push_back(std::move(m));
  d.fitted = *d.fitFor(1);
  return true;
}

bool TargetParser::parseOps(const YNode &node, const std::string &path,
                            DeviceDesc &d) {
  if (node.kind == YNode::Scalar && node.value == "all") {
    d.allOps = true;
    return true;
  }
  if (node.kind != YNode::Seq)
    return fail(node, path, "expected 'all' or a list of kernel names");
  std::vector<std::string> list;
  if (!getStringList(node, path, list))
    return false;
  d.allOps = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const YNode &item = *node.items[i];
    if (!checkKernel(list[i], item, index(path, i)))
      return false;
    if (llvm::is_contained(d.ops, list[i]))
      return fail(item, index(path, i), "duplicate kernel '" + list[i] + "'");
    d.ops.push_back(list[i]);
  }
  return true;
}

bool TargetParser::parseUnsupported(const YNode &node, const std::string &path,
                                    DeviceDesc &d) {
  std::vector<std::string> list;
  if (!getStringList(node, path, list))
    return false;
  for (size_t i = 0; i < list.size(); ++i) {
    const YNode &item = *node.items[i];
    std::string p = index(path, i);
    StringRef entry = list[i];
    auto [kernel, qualifier] = entry.split(':');
    if (!checkKernel(kernel, item, p))
      return false;
    OpRule rule{kernel.str(), OpQualifier::None};
    if (entry.contains(':')) {
      if (qualifier != "dynamic_rhs")
        return fail(item, p,
                    "unknown qualifier '" + qualifier +
                        "' (known: " + listOf(kQualifiers) + ")");
      if (!rhsOperandIndex(kernel))
        return fail(item, p,
                    "qualifier 'dynamic_rhs' needs a kernel with a weight "
                    "operand (conv, conv_integer, conv_transpose, gemm, "
                    "matmul, matmul_integer, qlinear_conv, qlinear_matmul)");
      rule.qualifier = OpQualifier::DynamicRhs;
    }
    for (const OpRule &r : d.unsupportedOps)
      if (r.kernel == rule.kernel && r.qualifier == rule.qualifier)
        return fail(item, p, "duplicate entry '" + entry + "'");
    if (rule.qualifier == OpQualifier::None && !d.allOps &&
        llvm::is_contained(d.ops, rule.kernel))
      return fail(item, p,
                  "kernel '" + rule.kernel +
                      "' is listed both in ops and in unsupported_ops");
    d.unsupportedOps.push_back(std::move(rule));
  }
  return true;
}

bool TargetParser::parseLink(const YNode &node, const std::string &path,
                             const TargetDesc &t, LinkDesc &l) {
  if (!checkMapping(node, path, kLinkKeys,
                    "a link: from, to, shared_memory, ..."))
    return false;
  for (StringRef key : {"from", "to", "shared_memory"})
    if (!require(node, path, key))
      return false;
  std::string names;
  for (const DeviceDesc &d : t.devices)
    names += (names.empty() ? "" : ", ") + d.name;
  for (StringRef key : {"from", "to"}) {
    const YNode &v = *find(node, key);
    std::string &out = key == "from" ? l.from : l.to;
    if (!getString(v, join(path, key), out))
      return false;
    if (!t.findDevice(out))
      return fail(v, join(path, key),
                  "unknown device '" + out + "' (devices: " + names + ")");
  }
  if (l.from == l.to)
    return fail(*find(node, "to"), join(path, "to"),
                "a link joins two different devices");
  if (!getBool(*find(node, "shared_memory"), join(path, "shared_memory"),
               l.sharedMemory))
    return false;
  if (const YNode *v = find(node, "directed"))
    if (!getBool(*v, join(path, "directed"), l.directed))
      return false;
  // Shared-memory links cost a sync; copy links a latency plus the bytes
  // over their bandwidth. A field of the other kind is a contradiction.
  for (const YEntry &e : node.entries) {
    std::string p = join(path, e.key);
    if (e.key == "sync_us") {
      if (!l.sharedMemory)
        return fail(e.keyLoc, p,
                    "only shared-memory links have a sync cost (this link has "
                    "shared_memory: false)");
      if (!getNumber(*e.value, p, Range::NonNegative, l.syncUs))
        return false;
    } else if (e.key == "bandwidth_gbs" || e.key == "latency_us") {
      if (l.sharedMemory)
        return fail(e.keyLoc, p,
                    "a shared-memory link copies nothing: give its sync_us "
                    "(or set shared_memory: false)");
      bool bandwidth = e.key == "bandwidth_gbs";
      if (!getNumber(*e.value, p,
                     bandwidth ? Range::Positive : Range::NonNegative,
                     bandwidth ? l.bandwidthGBs : l.latencyUs))
        return false;
    }
  }
  if (l.sharedMemory && !find(node, "sync_us"))
    return fail(node, join(path, "sync_us"),
                "missing required key (shared-memory links)");
  if (!l.sharedMemory && !find(node, "bandwidth_gbs"))
    return fail(node, join(path, "bandwidth_gbs"),
                "missing required key (copy links)");
  return true;
}

} // namespace

llvm::Expected<TargetDesc> loom::target::parseTarget(StringRef yamlText,
                                                     StringRef fileName) {
  auto makeError = [](const std::string &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
  };
  // Syntax first: the YAML parser reports through the SourceMgr.
  std::string syntaxError;
  auto handler = [](const llvm::SMDiagnostic &diag, void *ctx) {
    auto *out = static_cast<std::string *>(ctx);
    if (out->empty())
      *out = (diag.getFilename() + ":" + llvm::Twine(diag.getLineNo()) + ":" +
              llvm::Twine(diag.getColumnNo() + 1) + ": " + diag.getMessage())
                 .str();
  };
  llvm::MemoryBufferRef buffer(yamlText, fileName);
  {
    llvm::SourceMgr sm;
    sm.setDiagHandler(handler, &syntaxError);
    yaml::Stream stream(buffer, sm, /*ShowColors=*/false);
    unsigned documents = 0;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
      if (++documents == 2 && syntaxError.empty()) {
        yaml::Node *root = it->getRoot();
        llvm::SMLoc loc = root ? root->getSourceRange().Start : llvm::SMLoc();
        unsigned line = loc.isValid() ? sm.getLineAndColumn(loc).first : 1;
        syntaxError = (fileName + ":" + llvm::Twine(line) +
                       ":1: a target file holds one YAML document")
                          .str();
      }
    }
    if (!syntaxError.empty())
      return makeError(syntaxError);
    if (stream.failed())
      return makeError((fileName + ":1:1: malformed YAML").str());
  }
  llvm::SourceMgr sm;
  sm.setDiagHandler(handler, &syntaxError);
  yaml::Stream stream(buffer, sm, /*ShowColors=*/false);
  yaml::document_iterator doc = stream.begin();
  YNode root;
  TargetParser parser(sm, fileName);
  llvm::SMLoc errorLoc;
  std::string buildError;
  if (doc != stream.end() &&
      !build(doc->getRoot(), root, errorLoc, buildError, "target files")) {
    parser.fail(errorLoc, "", buildError);
    return makeError(parser.takeError());
  }
  TargetDesc target;
  if (!parser.parse(root, target))
    return makeError(parser.takeError());
  return target;
}
