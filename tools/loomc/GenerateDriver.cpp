//===- GenerateDriver.cpp - loomc --generate ------------------------------===//
//
// The --generate flags and loomc's side of a generation program: the checks
// of the flags and of the output folder, which is written like loomc's (into
// a temporary sibling, moved into place at the end), and the messages. The
// program itself (recognising the decoder's layout, the plans of every
// context, the shared weights, generate.json) is compiled by
// loom::scenario::compileGenerateProgram, which the scenario compiler's
// `generate:` requests use too (loom/Scenario/GenerateProgram.h).
//
//===----------------------------------------------------------------------===//
#include "GenerateDriver.h"

#include "loom/Scenario/GenerateProgram.h"
#include "loom/Support/OutputDir.h"

#include "llvm/Support/raw_ostream.h"

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
             "last one padded and masked (default 128, or --max-context "
             "when that is shorter)"),
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

cl::list<std::string> generateNames(
    "generate-name",
    cl::desc("The model's name for one of the inputs and outputs a "
             "generation program feeds (ROLE: input_ids, attention_mask, "
             "position_ids or logits; default: the role's own name; "
             "repeatable)"),
    cl::value_desc("ROLE=NAME"), cl::cat(category()));
cl::list<std::string> kvPairs(
    "kv-pair",
    cl::desc("A cache input and the output holding its next value; given "
             "at least once, only these pairs are the cache (default: every "
             "past_key_values.N.key|value with present.N.key|value; "
             "repeatable)"),
    cl::value_desc("PAST=PRESENT"), cl::cat(category()));

int error(const Twine &msg) {
  errs() << "loomc: error: " << msg << "\n";
  return 1;
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

  const int64_t C = maxContext;
  // A context holds at least one prefill chunk.
  const int64_t N = prefillChunk.getNumOccurrences()
                        ? int64_t(prefillChunk)
                        : std::min<int64_t>(prefillChunk, C);
  if (N > C) {
    errs() << "loomc: error: --prefill-chunk " << N
           << " is longer than --max-context " << C << "\n";
    return 2;
  }
  for (int64_t c : contextSizes)
    if (c < N || c > C) {
      errs() << "loomc: error: --context-sizes: " << c
             << " is not a capacity from the prefill chunk (" << N
             << ") to --max-context (" << C << ")\n";
      return 2;
    }
  loom::scenario::GenerateProgramOptions options;
  for (const std::string &g : generateNames) {
    auto [role, name] = StringRef(g).split('=');
    std::string *slot = role == "input_ids"        ? &options.names.inputIds
                        : role == "attention_mask" ? &options.names.attentionMask
                        : role == "position_ids"   ? &options.names.positionIds
                        : role == "logits"         ? &options.names.logits
                                                   : nullptr;
    if (!slot || name.empty()) {
      errs() << "loomc: error: --generate-name: '" << g
             << "' is not ROLE=NAME with ROLE input_ids, attention_mask, "
                "position_ids or logits\n";
      return 2;
    }
    *slot = name.str();
  }
  for (const std::string &p : kvPairs) {
    auto [past, present] = StringRef(p).split('=');
    if (past.empty() || present.empty()) {
      errs() << "loomc: error: --kv-pair: '" << p
             << "' is not PAST=PRESENT\n";
      return 2;
    }
    options.names.kv.push_back({past.str(), present.str()});
  }
  std::string why;
  std::optional<loom::output::PendingOutput> pending =
      loom::output::PendingOutput::begin(outDir, loom::output::generateOutput(),
                                         why);
  if (!pending)
    return error(why);
  options.maxContext = C;
  options.prefillChunk = N;
  options.contextSizes.assign(contextSizes.begin(), contextSizes.end());
  options.constInputs = constInputs;
  options.compile.graph = graph;
  options.compile.plan = plan;
  options.compile.producer = "loomc " LOOM_VERSION;
  options.progress = quiet ? nullptr : &outs();
  std::optional<loom::scenario::GenerateProgram> program =
      loom::scenario::compileGenerateProgram(model, options, pending->path(),
                                             why);
  if (!program)
    return why.empty() ? 1 : error(why);
  if (std::string failure = pending->commit(); !failure.empty())
    return error(failure);
  if (!quiet)
    outs() << "loomc: wrote the generation program " << outDir << " ("
           << program->kvTensors << " cache tensors, contexts of " << [&] {
                std::string t;
                for (const auto &cx : program->contexts)
                  t += (t.empty() ? "" : ", ") + std::to_string(cx.capacity);
                return t;
              }() << " positions; run it with loom-run " << outDir
           << " --generate --prompt-ids ...)\n";
  return 0;
}
