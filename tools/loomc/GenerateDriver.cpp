//===- GenerateDriver.cpp - loomc --generate ------------------------------===//
//
// Finds the decoder's inputs and outputs by the exporters' names (input_ids,
// attention_mask, position_ids, past_key_values.N.key/value -> logits,
// present.N.key/value), then compiles it twice with every dimension bound:
// a prefill plan over --prefill-chunk tokens and a decode plan over one,
// both over a cache of --max-context positions, and writes generate.json
// naming them (docs/generation.md). The output folder is written like
// loomc's: into a temporary sibling, moved into place at the end.
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
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

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

int error(const Twine &msg) {
  errs() << "loomc: error: " << msg << "\n";
  return 1;
}

/// One cache tensor: its past input, its present output and its index.
struct KvPair {
  std::string past, present;
  int64_t heads = 0, headDim = 0;
};
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
  for (auto [dirName, n] : {std::pair<const char *, int64_t>{"prefill", prefillChunk},
                            {"decode", 1}}) {
    loom::scenario::ModelFile file;
    file.path = model;
    file.constInputs = constInputs;
    file.inputShapes = {"input_ids=1x" + std::to_string(n),
                        "attention_mask=1x" + std::to_string(C + n),
                        "position_ids=1x" + std::to_string(n)};
    for (const KvPair &p : kv)
      file.inputShapes.push_back(p.past + "=1x" + std::to_string(p.heads) +
                                 "x" + std::to_string(C) + "x" +
                                 std::to_string(p.headDim));
    loom::scenario::ScenarioCompileOptions options;
    options.graph = graph;
    options.plan = plan;
    options.producer = "loomc " LOOM_VERSION;
    SmallString<256> dir(pending->path());
    sys::path::append(dir, dirName);
    if (!loom::scenario::compileModel(file, std::string(dirName) + " plan",
                                      options, dir))
      return 1;
    if (!quiet)
      outs() << "loomc: compiled the " << dirName << " plan (" << n
             << " token" << (n == 1 ? "" : "s") << " over a cache of " << C
             << ")\n";
  }

  SmallString<256> jsonPath(pending->path());
  sys::path::append(jsonPath, "generate.json");
  std::error_code ec;
  raw_fd_ostream os(jsonPath, ec);
  if (ec)
    return error("cannot write '" + jsonPath + "': " + ec.message());
  json::OStream j(os, 2);
  j.object([&] {
    j.attribute("format", "loom-generate");
    j.attribute("version", 1);
    j.attribute("producer", "loomc " LOOM_VERSION);
    j.attribute("model", sys::path::filename(model));
    j.attribute("max_context", C);
    j.attribute("prefill_chunk", int64_t(prefillChunk));
    j.attribute("prefill", "prefill");
    j.attribute("decode", "decode");
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
           << kv.size() << " cache tensors of " << C
           << " positions; run it with loom-run " << outDir
           << " --generate --prompt-ids ...)\n";
  return 0;
}
