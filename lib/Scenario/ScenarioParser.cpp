//===- ScenarioParser.cpp - Scenario YAML files ---------------------------===//
//
// Reads a scenario (schema: docs/scenarios.md) with LLVM's YAML parser and
// checks it. Every error names the file, line and column, the entry
// (`models[1] (upscaler)`) and the field; the first error stops the parse.
// Unknown keys are errors.
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Scenario.h"
#include "loom/Target/YamlTree.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <cmath>
#include <memory>

using namespace loom::scenario;
namespace yaml = llvm::yaml;
using llvm::StringRef;
using loom::yamltree::YEntry;
using loom::yamltree::YNode;

namespace {

bool isIdentifier(StringRef s) {
  if (s.empty() || !(std::isalpha((unsigned char)s[0]) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum((unsigned char)c) || c == '_' || c == '-'))
      return false;
  return true;
}

class Parser {
public:
  Parser(llvm::SourceMgr &sm, StringRef fileName, StringRef baseDir,
         bool checkFiles)
      : sm(sm), fileName(fileName.str()), baseDir(baseDir.str()),
        checkFiles(checkFiles) {}

  bool parse(const YNode &root, ScenarioSpec &out, StringRef modelsDirOverride);
  std::string error;

private:
  llvm::SourceMgr &sm;
  std::string fileName, baseDir;
  bool checkFiles;

  /// `FILE:LINE:COL: PATH`.
  std::string where(llvm::SMLoc loc, const std::string &path) const {
    unsigned line = 1, col = 1;
    if (loc.isValid() && sm.FindBufferContainingLoc(loc))
      std::tie(line, col) = sm.getLineAndColumn(loc);
    return fileName + ":" + std::to_string(line) + ":" + std::to_string(col) +
           (path.empty() ? "" : ": " + path);
  }
  bool fail(llvm::SMLoc loc, const std::string &path, const llvm::Twine &msg) {
    if (error.empty())
      error = where(loc, path) + ": " + msg.str();
    return false;
  }
  static std::string join(const std::string &path, StringRef key) {
    return path.empty() ? key.str() : path + "." + key.str();
  }
  bool checkKeys(const YNode &map, const std::string &path,
                 std::initializer_list<const char *> known) {
    llvm::StringSet<> seen;
    for (size_t i = 0; i < map.entries.size(); ++i) {
      const std::string &k = map.entries[i].key;
      bool ok = false;
      for (const char *n : known)
        ok |= k == n;
      if (!ok) {
        std::string list;
        for (const char *n : known)
          list += (list.empty() ? "" : ", ") + std::string(n);
        return fail(map.entries[i].keyLoc, join(path, k),
                    "unknown key (known: " + list + ")");
      }
      if (!seen.insert(k).second)
        return fail(map.entries[i].keyLoc, join(path, k), "duplicate key");
    }
    return true;
  }
  bool expectMap(const YNode *n, const std::string &path) {
    if (n->kind != YNode::Map)
      return fail(n->loc, path, "expected a mapping");
    return true;
  }
  bool getString(const YNode &map, StringRef key, const std::string &path,
                 std::string &out, bool required) {
    const YNode *n = map.get(key);
    if (!n) {
      if (required)
        return fail(map.loc, join(path, key), "missing required key");
      return true;
    }
    if (n->kind != YNode::Scalar)
      return fail(n->loc, join(path, key), "expected a string");
    out = n->value;
    return true;
  }
  /// A number; `strictlyPositive` or >= 0.
  bool getNumber(const YNode &map, StringRef key, const std::string &path,
                 double &out, bool required, bool strictlyPositive) {
    const YNode *n = map.get(key);
    if (!n) {
      if (required)
        return fail(map.loc, join(path, key), "missing required key");
      return true;
    }
    double v = 0;
    if (n->kind != YNode::Scalar || StringRef(n->value).getAsDouble(v) ||
        !std::isfinite(v) || v < 0 || (strictlyPositive && v == 0))
      return fail(n->loc, join(path, key),
                  strictlyPositive ? "expected a positive number"
                                   : "expected a non-negative number");
    out = v;
    return true;
  }
  bool getInt(const YNode &map, StringRef key, const std::string &path,
              int &out, bool required, long long min, long long max) {
    const YNode *n = map.get(key);
    if (!n) {
      if (required)
        return fail(map.loc, join(path, key), "missing required key");
      return true;
    }
    long long v = 0;
    if (n->kind != YNode::Scalar || StringRef(n->value).getAsInteger(10, v) ||
        v < min || v > max)
      return fail(n->loc, join(path, key),
                  "expected an integer in [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
    out = int(v);
    return true;
  }
  bool parseModelFile(const YNode &map, const std::string &path, ModelFile &out,
                      const std::string &modelsDir);
  bool parseWorkload(const YNode &n, const std::string &path, Workload &w,
                     const std::string &modelsDir);
  bool parseGenerate(const YNode &g, const std::string &path, Workload &w,
                     const std::string &modelsDir);
};

bool Parser::parseModelFile(const YNode &map, const std::string &path,
                            ModelFile &out, const std::string &modelsDir) {
  if (!getString(map, "file", path, out.file, true))
    return false;
  if (out.file.empty())
    return fail(map.get("file")->loc, join(path, "file"),
                "expected a model file name");
  llvm::SmallString<256> p;
  if (llvm::sys::path::is_absolute(out.file))
    p = out.file;
  else {
    p = modelsDir;
    llvm::sys::path::append(p, out.file);
  }
  out.path = std::string(p);
  if (checkFiles && !llvm::sys::fs::exists(p))
    return fail(map.get("file")->loc, join(path, "file"),
                "no such model file '" + out.path + "'" + " (models_dir is '" +
                    modelsDir +
                    "'; see docs/scenarios.md to generate the zoo)");
  if (const YNode *shapes = map.get("input_shapes")) {
    std::string sp = join(path, "input_shapes");
    if (shapes->kind != YNode::Seq)
      return fail(shapes->loc, sp, "expected a list of NAME=DIMS strings");
    for (size_t i = 0; i < shapes->items.size(); ++i) {
      const YNode &s = *shapes->items[i];
      StringRef v = s.value;
      size_t eq = v.find('=');
      bool ok = s.kind == YNode::Scalar && eq != StringRef::npos && eq > 0;
      if (ok)
        for (char c : v.drop_front(eq + 1))
          ok &= std::isdigit((unsigned char)c) || c == 'x';
      if (!ok)
        return fail(s.loc, sp + "[" + std::to_string(i) + "]",
                    "expected NAME=D0xD1x... (e.g. x=1x3x64x64)");
      out.inputShapes.push_back(v.str());
    }
  }
  if (!getString(map, "quantize", path, out.quantize, false))
    return false;
  if (const YNode *q = map.get("quantize"))
    out.quantizeWhere = where(q->loc, join(path, "quantize"));
  return true;
}

bool Parser::parseWorkload(const YNode &n, const std::string &index,
                           Workload &w, const std::string &modelsDir) {
  if (!expectMap(&n, index))
    return false;
  if (!getString(n, "name", index, w.name, true))
    return false;
  if (!isIdentifier(w.name))
    return fail(n.get("name")->loc, index + ".name",
                "expected a name of letters, digits, '_' and '-' starting "
                "with a letter or '_'");
  std::string path = index + " (" + w.name + ")";
  bool request = n.get("request") != nullptr;
  if (request && n.get("file"))
    return fail(n.get("file")->loc, path + ".file",
                "an entry has either 'file' (a periodic model) or 'request' "
                "(an LLM request), not both");
  if (!request && !n.get("file"))
    return fail(n.loc, path,
                "missing 'file' (a periodic model) or 'request' (an LLM "
                "request: prefill and decode models)");
  if (!getInt(n, "priority", path, w.priority, false, -1000000, 1000000))
    return false;
  if (!request) {
    w.kind = Workload::Kind::Periodic;
    if (!checkKeys(n, path,
                   {"name", "file", "input_shapes", "quantize", "period_ms",
                    "deadline_ms", "offset_ms", "priority"}) ||
        !parseModelFile(n, path, w.model, modelsDir) ||
        !getNumber(n, "period_ms", path, w.periodMs, true, true) ||
        !getNumber(n, "offset_ms", path, w.offsetMs, false, false))
      return false;
    w.deadlineMs = w.periodMs;
    return getNumber(n, "deadline_ms", path, w.deadlineMs, false, true);
  }
  w.kind = Workload::Kind::Request;
  if (!checkKeys(n, path,
                 {"name", "request", "ttft_ms", "per_token_ms", "priority"}))
    return false;
  const YNode &r = *n.get("request");
  std::string rp = path + ".request";
  if (!expectMap(&r, rp) ||
      !checkKeys(r, rp,
                 {"prefill", "decode", "generate", "prefill_tokens",
                  "decode_tokens", "at_ms"}))
    return false;
  const YNode *gen = r.get("generate");
  if (gen && (r.get("prefill") || r.get("decode")))
    return fail(gen->loc, join(rp, "generate"),
                "a request has either 'generate' (one decoder compiled into "
                "a generation program) or 'prefill' and 'decode' (two model "
                "files), not both");
  if (!gen && !r.get("prefill") && !r.get("decode"))
    return fail(r.loc, rp,
                "missing 'generate' (one decoder compiled into a generation "
                "program) or 'prefill' and 'decode' (two model files)");
  if (gen) {
    w.generate = true;
    if (!parseGenerate(*gen, join(rp, "generate"), w, modelsDir))
      return false;
  } else {
    for (auto [key, file] :
         {std::pair<const char *, ModelFile *>{"prefill", &w.prefill},
          {"decode", &w.decode}}) {
      const YNode *m = r.get(key);
      std::string mp = join(rp, key);
      if (!m)
        return fail(r.loc, mp, "missing required key");
      if (!expectMap(m, mp) ||
          !checkKeys(*m, mp, {"file", "input_shapes", "quantize"}) ||
          !parseModelFile(*m, mp, *file, modelsDir))
        return false;
    }
  }
  if (!getInt(r, "prefill_tokens", rp, w.prefillTokens, true, 1, 1 << 20) ||
      !getInt(r, "decode_tokens", rp, w.decodeTokens, true, 0, 4096) ||
      !getNumber(r, "at_ms", rp, w.atMs, false, false) ||
      !getNumber(n, "ttft_ms", path, w.ttftMs, true, true) ||
      !getNumber(n, "per_token_ms", path, w.perTokenMs, true, true))
    return false;
  // The program's cache holds the prompt and the token of every decode step
  // (the token the last step generates needs no slot).
  if (w.generate && w.prefillTokens + int64_t(w.decodeTokens) > w.maxContext) {
    const YNode *c = gen->get("max_context");
    return fail(c ? c->loc : gen->loc, join(rp, "generate.max_context"),
                "prefill_tokens (" + std::to_string(w.prefillTokens) +
                    ") + decode_tokens (" + std::to_string(w.decodeTokens) +
                    ") exceed max_context (" + std::to_string(w.maxContext) +
                    "): the KV cache holds the prompt and one token per "
                    "decode step");
  }
  return true;
}

bool Parser::parseGenerate(const YNode &g, const std::string &gp, Workload &w,
                           const std::string &modelsDir) {
  if (!expectMap(&g, gp) ||
      !checkKeys(g, gp,
                 {"file", "max_context", "prefill_chunk", "context_sizes",
                  "const_inputs"}) ||
      !parseModelFile(g, gp, w.program, modelsDir))
    return false;
  // loomc --generate's defaults.
  int C = 2048, N = 128;
  if (!getInt(g, "max_context", gp, C, false, 1, 1 << 20) ||
      !getInt(g, "prefill_chunk", gp, N, false, 1, 1 << 20))
    return false;
  // A context holds at least one prefill chunk.
  if (!g.get("prefill_chunk"))
    N = std::min(N, C);
  else if (N > C)
    return fail(g.get("prefill_chunk")->loc, join(gp, "prefill_chunk"),
                std::to_string(N) + " is longer than max_context (" +
                    std::to_string(C) + ")");
  w.maxContext = C;
  w.prefillChunk = N;
  std::vector<int64_t> sizes;
  if (const YNode *list = g.get("context_sizes")) {
    std::string sp = join(gp, "context_sizes");
    if (list->kind != YNode::Seq)
      return fail(list->loc, sp, "expected a list of cache capacities");
    for (size_t i = 0; i < list->items.size(); ++i) {
      const YNode &c = *list->items[i];
      long long v = 0;
      if (c.kind != YNode::Scalar || StringRef(c.value).getAsInteger(10, v) ||
          v < N || v > C)
        return fail(c.loc, sp + "[" + std::to_string(i) + "]",
                    "expected a capacity from prefill_chunk (" +
                        std::to_string(N) + ") to max_context (" +
                        std::to_string(C) + ")");
      sizes.push_back(v);
    }
  }
  w.capacities = contextCapacities(C, N, sizes);
  if (const YNode *list = g.get("const_inputs")) {
    std::string cp = join(gp, "const_inputs");
    if (list->kind != YNode::Seq)
      return fail(list->loc, cp, "expected a list of NAME=VALUE strings");
    for (size_t i = 0; i < list->items.size(); ++i) {
      const YNode &c = *list->items[i];
      size_t eq = StringRef(c.value).find('=');
      if (c.kind != YNode::Scalar || eq == StringRef::npos || eq == 0 ||
          eq + 1 == c.value.size())
        return fail(c.loc, cp + "[" + std::to_string(i) + "]",
                    "expected NAME=VALUE (e.g. use_cache_branch=true)");
      w.program.constInputs.push_back(c.value);
    }
  }
  return true;
}

bool Parser::parse(const YNode &root, ScenarioSpec &out,
                   StringRef modelsDirOverride) {
  if (root.kind != YNode::Map)
    return fail(root.loc, "", "expected a mapping (name, models_dir, models)");
  if (!checkKeys(
          root, "",
          {"name", "description", "models_dir", "max_horizon_ms", "models"}) ||
      !getString(root, "name", "", out.name, true) ||
      !getNumber(root, "max_horizon_ms", "", out.maxHorizonMs, false, true))
    return false;
  std::string dir;
  if (!getString(root, "models_dir", "", dir, false))
    return false;
  if (!modelsDirOverride.empty())
    out.modelsDir = modelsDirOverride.str();
  else if (dir.empty())
    out.modelsDir = baseDir;
  else if (llvm::sys::path::is_absolute(dir))
    out.modelsDir = dir;
  else {
    llvm::SmallString<256> p(baseDir);
    llvm::sys::path::append(p, dir);
    llvm::sys::path::remove_dots(p, /*remove_dot_dot=*/true);
    out.modelsDir = std::string(p);
  }
  const YNode *models = root.get("models");
  if (!models)
    return fail(root.loc, "models", "missing required key");
  if (models->kind != YNode::Seq || models->items.empty())
    return fail(models->loc, "models", "expected a non-empty list of models");
  llvm::StringSet<> names;
  for (size_t i = 0; i < models->items.size(); ++i) {
    Workload w;
    std::string index = "models[" + std::to_string(i) + "]";
    if (!parseWorkload(*models->items[i], index, w, out.modelsDir))
      return false;
    if (!names.insert(w.name).second)
      return fail(models->items[i]->get("name")->loc,
                  index + " (" + w.name + ").name",
                  "duplicate model name '" + w.name + "'");
    out.workloads.push_back(std::move(w));
  }
  return true;
}

} // namespace

llvm::Expected<ScenarioSpec>
loom::scenario::parseScenario(StringRef yamlText, StringRef fileName,
                              StringRef modelsDirOverride, bool checkFiles) {
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(yamlText, fileName), llvm::SMLoc());
  std::string diag;
  struct DiagContext {
    std::string *diag;
    std::string file;
  } diagContext{&diag, fileName.str()};
  sm.setDiagHandler(
      [](const llvm::SMDiagnostic &d, void *ctx) {
        auto *c = static_cast<DiagContext *>(ctx);
        if (c->diag->empty())
          *c->diag = c->file + ":" + std::to_string(d.getLineNo()) + ":" +
                     std::to_string(d.getColumnNo() + 1) + ": " +
                     d.getMessage().str();
      },
      &diagContext);
  yaml::Stream stream(yamlText, sm);
  YNode root;
  llvm::SMLoc errLoc;
  std::string err;
  size_t docs = 0;
  for (yaml::Document &doc : stream) {
    if (++docs > 1)
      return llvm::createStringError(fileName.str() +
                                     ": expected one YAML document");
    if (!loom::yamltree::build(doc.getRoot(), root, errLoc, err, "scenario files") && diag.empty()) {
      unsigned line = 1, col = 1;
      if (errLoc.isValid())
        std::tie(line, col) = sm.getLineAndColumn(errLoc);
      return llvm::createStringError(fileName.str() + ":" +
                                     std::to_string(line) + ":" +
                                     std::to_string(col) + ": " + err);
    }
  }
  if (stream.failed() || !diag.empty())
    return llvm::createStringError(
        diag.empty() ? fileName.str() + ": invalid YAML" : diag);
  llvm::SmallString<256> base(fileName);
  llvm::sys::path::remove_filename(base);
  if (base.empty())
    base = ".";
  Parser parser(sm, fileName, base, checkFiles);
  ScenarioSpec spec;
  spec.file = fileName.str();
  if (!parser.parse(root, spec, modelsDirOverride))
    return llvm::createStringError(parser.error);
  return spec;
}

llvm::Expected<ScenarioSpec>
loom::scenario::loadScenario(StringRef path, StringRef modelsDirOverride) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(
        path.str() + ": cannot read: " + buffer.getError().message());
  return parseScenario((*buffer)->getBuffer(), path, modelsDirOverride);
}

std::vector<int64_t> loom::scenario::contextCapacities(
    int64_t C, int64_t N, llvm::ArrayRef<int64_t> sizes) {
  std::vector<int64_t> out;
  if (sizes.empty()) {
    for (int64_t c = std::min(N, C); c < C; c *= 2)
      out.push_back(c);
  } else {
    out.assign(sizes.begin(), sizes.end());
  }
  out.push_back(C);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t loom::scenario::contextFor(llvm::ArrayRef<int64_t> capacities,
                                  int64_t need) {
  size_t i = 0;
  while (i < capacities.size() && capacities[i] < need)
    ++i;
  return i;
}
