//===- GenerateDriver.cpp - loomc --generate ------------------------------===//
//
// Finds the decoder's inputs and outputs by the exporters' names (input_ids,
// attention_mask, position_ids, past_key_values.N.key/value -> logits,
// present.N.key/value), then compiles it with every dimension bound: per
// context capacity (--context-sizes, up to --max-context), a prefill plan
// over --prefill-chunk tokens and a decode plan over one. The plans' weights
// are then merged into one weights.bin of the program, each distinct
// constant stored once, and generate.json names it all (docs/generation.md).
// The output folder is written like loomc's: into a temporary sibling, moved
// into place at the end.
//
//===----------------------------------------------------------------------===//
#include "GenerateDriver.h"

#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/InitAll.h"
#include "loom/Scenario/Compile.h"
#include "loom/Support/OutputDir.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <map>

using namespace llvm;

namespace {
cl::OptionCategory &category() {
  static cl::OptionCategory c("Generation program (--generate)");
  return c;
}
cl::opt<bool> generateFlag(
    "generate",
    cl::desc("Compile a decoder exported with past key/values into a "
             "generation program: a prefill plan and a decode plan over one "
             "KV cache (docs/generation.md; run it with loom-run OUT "
             "--generate)"),
    cl::init(false), cl::cat(category()));
cl::opt<int64_t> prefillChunk(
    "prefill-chunk",
    cl::desc("Tokens per prefill run; a longer prompt runs in chunks, the "
             "last one padded and masked (default 128)"),
    cl::value_desc("N"), cl::init(128), cl::cat(category()));
cl::opt<int64_t> maxContext(
    "max-context",
    cl::desc("Positions of the KV cache: prompt and generated tokens together "
             "(default 2048)"),
    cl::value_desc("N"), cl::init(2048), cl::cat(category()));
cl::list<int64_t> contextSizes(
    "context-sizes",
    cl::desc("Cache capacities to compile a prefill and a decode plan for "
             "(comma-separated, each at most --max-context, which is always "
             "one); a run uses the smallest that holds its tokens, so a short "
             "conversation attends over a short cache (default: the prefill "
             "chunk doubled until --max-context)"),
    cl::value_desc("N,N,..."), cl::CommaSeparated, cl::cat(category()));

int error(const Twine &msg) {
  errs() << "loomc: error: " << msg << "\n";
  return 1;
}

/// One cache tensor: its past input, its present output and its index.
struct KvPair {
  std::string past, present;
  int64_t heads = 0, headDim = 0;
};

/// The capacities to compile for: --context-sizes, or the prefill chunk
/// doubled until the context; always ending with --max-context.
std::vector<int64_t> capacities(int64_t C, int64_t N) {
  std::vector<int64_t> out;
  if (contextSizes.empty()) {
    for (int64_t c = std::min(N, C); c < C; c *= 2)
      out.push_back(c);
  } else {
    out.assign(contextSizes.begin(), contextSizes.end());
  }
  out.push_back(C);
  llvm::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

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

cl::OptionCategory &loom::generate::generateOptionCategory() {
  return category();
}
bool loom::generate::generateRequested() { return generateFlag; }

int loom::generate::runGenerateCompile(
    const std::string &model, const std::string &outDir,
    const GraphPipelineOptions &graph, const PlanPipelineOptions &plan,
    const std::vector<std::string> &constInputs, bool quiet) {
  if (prefillChunk < 1 || maxContext < 1) {
    errs() << "loomc: error: --prefill-chunk and --max-context must be at "
              "least 1\n";
    return 2;
  }
  if (std::string why =
          loom::output::checkOutputDir(outDir, loom::output::generateOutput());
      !why.empty())
    return error(why);

  // The model's inputs and outputs, as the importer sees them.
  std::vector<std::pair<std::string, mlir::RankedTensorType>> inputs;
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
    loom::ImportOptions options;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        loom::importOnnxFile(context, model, options);
    if (!module)
      return 1;
    auto func = module->lookupSymbol<mlir::func::FuncOp>("main");
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "loom.name");
      inputs.push_back({name ? name.str() : "",
                        dyn_cast<mlir::RankedTensorType>(
                            func.getArgument(i).getType())});
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
  for (const char *need : {"input_ids", "attention_mask", "position_ids"})
    if (!hasInput(need))
      return error(model + ": --generate expects the inputs input_ids, "
                           "attention_mask and position_ids (Hugging Face "
                           "Optimum's decoder layout, docs/generation.md); "
                           "the model has no '" +
                   need + "' (inputs: " + inputList + ")");
  if (!hasOutput("logits"))
    return error(model + ": --generate expects an output 'logits' (outputs: " +
                 outputList + ")");

  // Cache tensors: past_key_values.N.key|value -> present.N.key|value.
  Regex pastName("^past_key_values\\.([0-9]+)\\.(key|value)$");
  std::vector<KvPair> kv;
  std::vector<std::string> bound; // --input-shape values for both plans
  for (auto &[name, type] : inputs) {
    SmallVector<StringRef> m;
    if (!pastName.match(name, &m))
      continue;
    KvPair p;
    p.past = name;
    p.present = ("present." + m[1] + "." + m[2]).str();
    if (!hasOutput(p.present))
      return error(model + ": input '" + name +
                   "' has no matching output '" + p.present +
                   "' (outputs: " + outputList + ")");
    if (!type || type.getRank() != 4 || type.isDynamicDim(1) ||
        type.isDynamicDim(3))
      return error(model + ": input '" + name +
                   "' must be [batch, heads, past_sequence_length, head] "
                   "with static heads and head size");
    p.heads = type.getDimSize(1);
    p.headDim = type.getDimSize(3);
    kv.push_back(p);
  }
  if (kv.empty())
    return error(model + ": --generate expects cache inputs named "
                         "past_key_values.N.key / .value (inputs: " +
                 inputList + ")");
  std::vector<std::string> extra;
  for (auto &[name, type] : inputs)
    if (!pastName.match(name) && name != "input_ids" &&
        name != "attention_mask" && name != "position_ids" &&
        llvm::none_of(constInputs, [&, n = name](const std::string &c) {
          return StringRef(c).starts_with(n + "=");
        }))
      extra.push_back(name);
  if (!extra.empty())
    return error(model + ": input '" + extra.front() +
                 "' is not one a generation program feeds; bind it with "
                 "--const-input " +
                 extra.front() + "=VALUE");

  std::string why;
  std::optional<loom::output::PendingOutput> pending =
      loom::output::PendingOutput::begin(outDir, loom::output::generateOutput(),
                                         why);
  if (!pending)
    return error(why);
  const int64_t C = maxContext;
  for (int64_t c : contextSizes)
    if (c < 1 || c > C) {
      errs() << "loomc: error: --context-sizes: " << c
             << " is not a capacity from 1 to --max-context (" << C << ")\n";
      return 2;
    }
  const std::vector<int64_t> sizes = capacities(C, prefillChunk);
  // (folder, tokens per run, capacity) of every plan, smallest capacity first.
  struct Stage {
    std::string dir;
    int64_t n, capacity;
  };
  std::vector<Stage> stages;
  for (int64_t c : sizes)
    for (auto [kind, n] : {std::pair<const char *, int64_t>{"prefill", prefillChunk},
                           {"decode", 1}})
      stages.push_back({std::string(kind) + "-" + std::to_string(c), n, c});
  std::vector<std::string> planDirs;
  for (const Stage &st : stages) {
    loom::scenario::ModelFile file;
    file.path = model;
    file.constInputs = constInputs;
    file.inputShapes = {"input_ids=1x" + std::to_string(st.n),
                        "attention_mask=1x" + std::to_string(st.capacity + st.n),
                        "position_ids=1x" + std::to_string(st.n)};
    for (const KvPair &p : kv)
      file.inputShapes.push_back(p.past + "=1x" + std::to_string(p.heads) +
                                 "x" + std::to_string(st.capacity) + "x" +
                                 std::to_string(p.headDim));
    loom::scenario::ScenarioCompileOptions options;
    options.graph = graph;
    options.plan = plan;
    options.producer = "loomc " LOOM_VERSION;
    SmallString<256> dir(pending->path());
    sys::path::append(dir, st.dir);
    if (!loom::scenario::compileModel(file, st.dir + " plan", options, dir))
      return 1;
    planDirs.push_back(std::string(dir));
    if (!quiet)
      outs() << "loomc: compiled " << st.dir << " (" << st.n << " token"
             << (st.n == 1 ? "" : "s") << " over a cache of " << st.capacity
             << ")\n";
  }
  uint64_t sharedBytes = 0, planBytes = 0;
  if (std::string why =
          shareWeights(pending->path(), planDirs, sharedBytes, planBytes);
      !why.empty())
    return error(why);
  if (!quiet)
    outs() << "loomc: weights.bin holds the " << planDirs.size()
           << " plans' constants once: " << sharedBytes << " bytes (the plans "
           << "had " << planBytes << ")\n";

  SmallString<256> jsonPath(pending->path());
  sys::path::append(jsonPath, "generate.json");
  std::error_code ec;
  raw_fd_ostream os(jsonPath, ec);
  if (ec)
    return error("cannot write '" + jsonPath + "': " + ec.message());
  json::OStream j(os, 2);
  j.object([&] {
    j.attribute("format", "loom-generate");
    j.attribute("version", 2);
    j.attribute("producer", "loomc " LOOM_VERSION);
    j.attribute("model", sys::path::filename(model));
    j.attribute("max_context", C);
    j.attribute("prefill_chunk", int64_t(prefillChunk));
    j.attribute("weights", "weights.bin");
    j.attributeArray("contexts", [&] {
      for (int64_t c : sizes)
        j.object([&] {
          j.attribute("capacity", c);
          j.attribute("prefill", "prefill-" + std::to_string(c));
          j.attribute("decode", "decode-" + std::to_string(c));
        });
    });
    j.attribute("input_ids", "input_ids");
    j.attribute("attention_mask", "attention_mask");
    j.attribute("position_ids", "position_ids");
    j.attribute("logits", "logits");
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
  if (std::string failure = pending->commit(); !failure.empty())
    return error(failure);
  if (!quiet)
    outs() << "loomc: wrote the generation program " << outDir << " ("
           << kv.size() << " cache tensors, contexts of " << [&] {
                std::string t;
                for (int64_t c : sizes)
                  t += (t.empty() ? "" : ", ") + std::to_string(c);
                return t;
              }() << " positions; run it with loom-run " << outDir
           << " --generate --prompt-ids ...)\n";
  return 0;
}
