//===- GenerateProgram.cpp - Generation programs --------------------------===//
//
// Finds the decoder's inputs and outputs by the exporters' names (input_ids,
// attention_mask, position_ids, past_key_values.N.key/value -> logits,
// present.N.key/value), then compiles it with every dimension bound: per
// context capacity c, a prefill plan over the prefill chunk N and a decode
// plan over one token, each with its past cut so that present has exactly c
// slots (c - N and c - 1 past positions), and every present bound to a state
// buffer of that name (plan-bind-state): the two plans of a context share
// one KV cache, written in place. The plans' weights are then merged into
// one weights.bin of the program, each distinct constant stored once, and
// generate.json names it all (docs/generation.md). loomc --generate and the scenario
// compiler's `generate:` requests both compile through here.
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/GenerateProgram.h"

#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/xxhash.h"

#include <map>

using namespace llvm;
using namespace loom::scenario;

namespace {

/// One cache tensor: its past input, its present output and its index.
struct KvPair {
  std::string past, present;
  int64_t heads = 0, headDim = 0;
};

/// Moves the weights of the plans in `dirs` into one `weights.bin` in
/// `programDir`: every distinct weights buffer (by its bytes) is stored once,
/// at the alignment of the plans, and each plan.json names `../weights.bin`
/// with its buffers' new offsets (views keep their place in their buffer).
/// Returns an error message, empty on success.
std::string shareWeights(StringRef programDir,
                         const std::vector<std::string> &dirs,
                         uint64_t &sharedBytes, uint64_t &planBytes) {
  std::string blob;
  uint64_t alignment = 64;
  // Hash of a constant's bytes -> offsets in `blob` holding such bytes.
  std::map<uint64_t, std::vector<uint64_t>> stored;
  std::vector<std::pair<std::string, json::Value>> plans;
  planBytes = 0;
  for (const std::string &dir : dirs) {
    SmallString<256> planPath(dir), weightsPath(dir);
    sys::path::append(planPath, "plan.json");
    sys::path::append(weightsPath, "weights.bin");
    auto planText = MemoryBuffer::getFile(planPath);
    auto weights = MemoryBuffer::getFile(weightsPath, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
    if (!planText || !weights)
      return "cannot read the plan written to '" + dir + "'";
    Expected<json::Value> plan = json::parse((*planText)->getBuffer());
    if (!plan)
      return ("cannot parse '" + Twine(planPath) + "': " +
              toString(plan.takeError()))
          .str();
    json::Object *root = plan->getAsObject();
    json::Object *w = root ? root->getObject("weights") : nullptr;
    json::Array *buffers = root ? root->getArray("buffers") : nullptr;
    if (!w || !buffers)
      return ("'" + planPath + "' has no weights or buffers").str();
    if (auto a = w->getInteger("alignment"); a && uint64_t(*a) > alignment)
      alignment = uint64_t(*a);
    StringRef bytes = (*weights)->getBuffer();
    planBytes += bytes.size();
    // Each weights buffer's id -> (old offset, new offset).
    std::map<int64_t, std::pair<int64_t, int64_t>> moved;
    for (json::Value &v : *buffers) {
      json::Object *b = v.getAsObject();
      if (!b || b->getString("arena") != "weights" || b->get("view_of"))
        continue;
      int64_t id = b->getInteger("id").value_or(-1);
      int64_t off = b->getInteger("offset").value_or(-1);
      int64_t size = b->getInteger("size_bytes").value_or(-1);
      if (off < 0 || size < 0 || uint64_t(off) + uint64_t(size) > bytes.size())
        return ("'" + planPath + "': weights buffer " + Twine(id) +
                " lies outside weights.bin")
            .str();
      StringRef data = bytes.substr(off, size);
      std::vector<uint64_t> &same = stored[xxh3_64bits(data)];
      auto it = llvm::find_if(same, [&](uint64_t at) {
        return StringRef(blob).substr(at, size) == data;
      });
      uint64_t at;
      if (it != same.end()) {
        at = *it;
      } else {
        blob.resize(alignTo(blob.size(), alignment), '\0');
        at = blob.size();
        blob.append(data.begin(), data.end());
        same.push_back(at);
      }
      moved[id] = {off, int64_t(at)};
      (*b)["offset"] = int64_t(at);
    }
    for (json::Value &v : *buffers) {
      json::Object *b = v.getAsObject();
      if (!b || b->getString("arena") != "weights" || !b->get("view_of"))
        continue;
      auto parent = moved.find(b->getInteger("view_of").value_or(-1));
      if (parent == moved.end())
        return ("'" + planPath + "': a weights view of an unknown buffer").str();
      (*b)["offset"] = b->getInteger("offset").value_or(0) -
                       parent->second.first + parent->second.second;
    }
    (*w)["file"] = "../weights.bin";
    plans.push_back({std::string(planPath), std::move(*plan)});
    if (std::error_code rm = sys::fs::remove(weightsPath))
      return ("cannot remove '" + weightsPath + "': " + rm.message()).str();
  }
  blob.resize(alignTo(blob.size(), alignment), '\0');
  sharedBytes = blob.size();
  for (auto &[path, plan] : plans) {
    json::Object &w = *plan.getAsObject()->getObject("weights");
    w["size_bytes"] = int64_t(sharedBytes);
    w["alignment"] = int64_t(alignment);
    std::error_code ec;
    raw_fd_ostream os(path, ec);
    if (ec)
      return "cannot write '" + path + "': " + ec.message();
    os << formatv("{0:2}", plan) << "\n";
  }
  SmallString<256> shared(programDir);
  sys::path::append(shared, "weights.bin");
  std::error_code ec;
  raw_fd_ostream os(shared, ec);
  if (ec)
    return ("cannot write '" + shared + "': " + ec.message()).str();
  os << blob;
  return "";
}
} // namespace

std::optional<GenerateProgram> loom::scenario::compileGenerateProgram(
    const std::string &model, const GenerateProgramOptions &options,
    StringRef dir, std::string &failure) {
  auto fail = [&](const Twine &msg) -> std::optional<GenerateProgram> {
    failure = msg.str();
    return std::nullopt;
  };
  failure.clear();
  const std::vector<std::string> &constInputs = options.constInputs;
  // The model's inputs (name, dims if ranked: -1 for a dynamic one) and
  // outputs, as the importer sees them. Plain values: the MLIR context and
  // the types it owns end with the scope below.
  std::vector<std::pair<std::string, std::optional<std::vector<int64_t>>>>
      inputs;
  std::vector<std::string> outputs;
  {
    mlir::DialectRegistry registry;
    loom::registerAllDialects(registry);
    mlir::MLIRContext context(registry);
    context.printOpOnDiagnostic(false);
    context.getDiagEngine().registerHandler([&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
        errs() << "loomc: error: " << d << "\n";
      return mlir::success();
    });
    loom::ImportOptions importOptions;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        loom::importOnnxFile(context, model, importOptions);
    if (!module)
      return std::nullopt;
    auto func = module->lookupSymbol<mlir::func::FuncOp>("main");
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "loom.name");
      std::optional<std::vector<int64_t>> dims;
      if (auto t = dyn_cast<mlir::RankedTensorType>(
              func.getArgument(i).getType())) {
        dims.emplace();
        for (int64_t d : t.getShape())
          dims->push_back(mlir::ShapedType::isDynamic(d) ? -1 : d);
      }
      inputs.push_back({name ? name.str() : "", std::move(dims)});
    }
    for (unsigned i = 0; i < func.getNumResults(); ++i) {
      auto name = func.getResultAttrOfType<mlir::StringAttr>(i, "loom.name");
      outputs.push_back(name ? name.str() : "");
    }
  }
  auto hasInput = [&](StringRef n) {
    return llvm::any_of(inputs, [&](auto &p) { return p.first == n; });
  };
  auto hasOutput = [&](StringRef n) { return llvm::is_contained(outputs, n); };
  std::string inputList, outputList;
  for (auto &[n, t] : inputs)
    inputList += (inputList.empty() ? "" : ", ") + n;
  for (auto &n : outputs)
    outputList += (outputList.empty() ? "" : ", ") + n;
  const GenerateNames &names = options.names;
  const bool defaultNames = names.inputIds == "input_ids" &&
                            names.attentionMask == "attention_mask" &&
                            names.positionIds == "position_ids";
  for (const std::string *need :
       {&names.inputIds, &names.attentionMask, &names.positionIds})
    if (!hasInput(*need))
      return fail(model + ": --generate expects the inputs " +
                  names.inputIds + ", " + names.attentionMask + " and " +
                  names.positionIds +
                  (defaultNames ? " (Hugging Face Optimum's decoder layout, "
                                  "docs/generation.md; other names: "
                                  "--generate-name)"
                                : "") +
                  "; the model has no '" + *need + "' (inputs: " + inputList +
                  ")");
  if (!hasOutput(names.logits))
    return fail(model + ": --generate expects an output '" + names.logits +
                "' (outputs: " + outputList + ")");

  // Cache tensors: the pairs given, else past_key_values.N.key|value ->
  // present.N.key|value.
  Regex pastName("^past_key_values\\.([0-9]+)\\.(key|value)$");
  std::vector<KvPair> kv;
  std::vector<std::string> pastNames;
  for (auto &[name, type] : inputs) {
    KvPair p;
    p.past = name;
    if (!names.kv.empty()) {
      auto it = llvm::find_if(names.kv, [&, n = name](const auto &e) {
        return e.first == n;
      });
      if (it == names.kv.end())
        continue;
      p.present = it->second;
    } else {
      SmallVector<StringRef> m;
      if (!pastName.match(name, &m))
        continue;
      p.present = ("present." + m[1] + "." + m[2]).str();
    }
    pastNames.push_back(name);
    if (!hasOutput(p.present))
      return fail(model + ": input '" + name +
                  "' has no matching output '" + p.present +
                  "' (outputs: " + outputList + ")");
    if (!type || type->size() != 4 || (*type)[1] < 0 || (*type)[3] < 0)
      return fail(model + ": input '" + name +
                  "' must be [batch, heads, past_sequence_length, head] "
                  "with static heads and head size");
    p.heads = (*type)[1];
    p.headDim = (*type)[3];
    kv.push_back(p);
  }
  for (const auto &[past, present] : names.kv)
    if (!llvm::is_contained(pastNames, past))
      return fail(model + ": --kv-pair names the input '" + past +
                  "', which the model does not have (inputs: " + inputList +
                  ")");
  if (kv.empty())
    return fail(model + ": --generate expects cache inputs named "
                        "past_key_values.N.key / .value, or pairs given with "
                        "--kv-pair PAST=PRESENT (inputs: " +
                inputList + ")");
  std::vector<std::string> extra;
  for (auto &[name, type] : inputs)
    if (!llvm::is_contained(pastNames, name) && name != names.inputIds &&
        name != names.attentionMask && name != names.positionIds &&
        llvm::none_of(constInputs, [&, n = name](const std::string &c) {
          return StringRef(c).starts_with(n + "=");
        }))
      extra.push_back(name);
  if (!extra.empty())
    return fail(model + ": input '" + extra.front() +
                "' is not one a generation program feeds; bind it with "
                "--const-input " +
                extra.front() + "=VALUE");

  const int64_t C = options.maxContext, N = options.prefillChunk;
  if (N < 1 || C < 1)
    return fail("the prefill chunk and the context must be at least 1");
  if (N > C)
    return fail("the prefill chunk (" + Twine(N) +
                ") is longer than the context (" + Twine(C) + ")");
  for (int64_t c : options.contextSizes)
    if (c < N || c > C)
      return fail("context size " + Twine(c) +
                  " is not a capacity from the prefill chunk (" + Twine(N) +
                  ") to the context (" + Twine(C) + ")");
  const std::vector<int64_t> sizes =
      contextCapacities(C, N, options.contextSizes);
  // (folder, tokens per run, capacity) of every plan, smallest capacity first.
  struct Stage {
    std::string dir;
    int64_t n, capacity;
  };
  std::vector<Stage> stages;
  for (int64_t c : sizes)
    for (auto [kind, n] : {std::pair<const char *, int64_t>{"prefill", N},
                           {"decode", 1}})
      stages.push_back({std::string(kind) + "-" + std::to_string(c), n, c});
  std::vector<std::string> planDirs;
  // Every present becomes the state buffer its past lives in.
  ScenarioCompileOptions compile = options.compile;
  for (const KvPair &p : kv)
    compile.plan.stateBindings.push_back(p.past + "=" + p.present);
  for (const Stage &st : stages) {
    ModelFile file;
    file.path = model;
    file.constInputs = constInputs;
    // A run's n tokens take the last n of the context's c slots.
    file.inputShapes = {names.inputIds + "=1x" + std::to_string(st.n),
                        names.attentionMask + "=1x" +
                            std::to_string(st.capacity),
                        names.positionIds + "=1x" + std::to_string(st.n)};
    for (const KvPair &p : kv)
      file.inputShapes.push_back(p.past + "=1x" + std::to_string(p.heads) +
                                 "x" + std::to_string(st.capacity - st.n) +
                                 "x" + std::to_string(p.headDim));
    SmallString<256> planDir(dir);
    sys::path::append(planDir, st.dir);
    if (!compileModel(file, st.dir + " plan", compile, planDir))
      return std::nullopt;
    planDirs.push_back(std::string(planDir));
    if (options.progress)
      *options.progress << "loomc: compiled " << st.dir << " (" << st.n
                        << " token" << (st.n == 1 ? "" : "s")
                        << " over a cache of " << st.capacity << ")\n";
  }
  uint64_t sharedBytes = 0, planBytes = 0;
  if (std::string why = shareWeights(dir, planDirs, sharedBytes, planBytes);
      !why.empty())
    return fail(why);
  if (options.progress)
    *options.progress << "loomc: weights.bin holds the " << planDirs.size()
                      << " plans' constants once: " << sharedBytes
                      << " bytes (the plans had " << planBytes << ")\n";

  SmallString<256> jsonPath(dir);
  sys::path::append(jsonPath, "generate.json");
  std::error_code ec;
  raw_fd_ostream os(jsonPath, ec);
  if (ec)
    return fail("cannot write '" + jsonPath + "': " + ec.message());
  json::OStream j(os, 2);
  j.object([&] {
    j.attribute("format", "loom-generate");
    j.attribute("version", 3);
    j.attribute("producer", options.compile.producer);
    j.attribute("model", sys::path::filename(model));
    j.attribute("max_context", C);
    j.attribute("prefill_chunk", N);
    j.attribute("weights", "weights.bin");
    j.attributeArray("contexts", [&] {
      for (int64_t c : sizes)
        j.object([&] {
          j.attribute("capacity", c);
          j.attribute("prefill", "prefill-" + std::to_string(c));
          j.attribute("decode", "decode-" + std::to_string(c));
        });
    });
    j.attribute("input_ids", names.inputIds);
    j.attribute("attention_mask", names.attentionMask);
    j.attribute("position_ids", names.positionIds);
    j.attribute("logits", names.logits);
    j.attributeArray("kv", [&] {
      for (const KvPair &p : kv)
        j.object([&] {
          j.attribute("past", p.past);
          j.attribute("present", p.present);
        });
    });
  });
  os << "\n";
  os.close();
  if (os.has_error()) {
    os.clear_error();
    return fail("cannot write '" + jsonPath + "'");
  }
  GenerateProgram program;
  program.maxContext = C;
  program.prefillChunk = N;
  for (int64_t c : sizes)
    program.contexts.push_back({c, "prefill-" + std::to_string(c),
                                "decode-" + std::to_string(c)});
  program.kvTensors = kv.size();
  program.sharedBytes = sharedBytes;
  program.planBytes = planBytes;
  return program;
}
