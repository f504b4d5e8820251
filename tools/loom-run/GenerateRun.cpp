//===- GenerateRun.cpp - loom-run --generate ------------------------------===//
//
// Runs a generation program (loomc --generate, docs/generation.md): the
// prompt through the prefill plan chunk by chunk, then one decode step per
// new token, choosing each token from the last logits (greedy unless
// --top-k). Prints the token ids, the time to first token and the decode
// speed; --json writes them for scripts.
//
//===----------------------------------------------------------------------===//
#include "GenerateRun.h"

#include "../common/ToolSupport.h"
#include "loom/Runtime/Generator.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace loom::rt;
using namespace loom::tools;

namespace {

const char *const kGenerateUsage =
    R"(usage: loom-run OUT_DIR --generate --prompt-ids 1,2,3 --max-new-tokens N [options]

Runs the generation program in OUT_DIR (written by loomc --generate): the
prompt through the prefill plan in chunks, then one decode step per new
token. Prints the generated token ids (comma-separated), the time to first
token and the decode speed.

options:
  --prompt-ids LIST     the prompt's token ids, comma-separated (at least one)
  --max-new-tokens N    tokens to generate (default 16); the first comes from
                        the prefill's last logits
  --top-k K             sample among the K most likely tokens (default 0:
                        greedy, the argmax)
  --top-p P             nucleus sampling within the top-k (default 1)
  --temperature T       softmax temperature for sampling (default 1)
  --seed S              sampling seed (default 0): the same seed gives the
                        same tokens
  --threads N           threads each kernel may use (default 1)
  --warmup N            untimed generations of the same prompt and length
                        before the timed one (default 1, as bench/llm's ONNX
                        Runtime loop): the first runs of each plan create
                        their kernels' primitives and touch the weights
  --json FILE           write {"tokens", "ttft_ms", "decode_ms_median",
                        "tokens_per_s", "prompt_len", "max_context",
                        "prefill_chunk", "threads", "warmup",
                        "memory_bytes"} to FILE
  --quiet               print only the token ids
  --help                print this help and exit

exit codes: 0 success, 2 usage error, or the program cannot be loaded or run
(a prompt and new tokens beyond --max-context stop with an error).
)";

struct GenerateOptions {
  std::string dir;
  std::vector<int64_t> prompt;
  long newTokens = 16;
  SampleOptions sample;
  long threads = 1;
  long warmup = 1;
  std::string json;
  bool quiet = false;
};

std::vector<int64_t> parseIds(const std::string &text) {
  std::vector<int64_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    ids.push_back(parseCount("--prompt-ids", item, 0, (1L << 62)));
  if (ids.empty())
    throw ToolError{"--prompt-ids expects at least one token id"};
  return ids;
}

double parseReal(const std::string &flag, const std::string &text, double lo,
                 double hi) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || !(v >= lo && v <= hi))
    throw ToolError{flag + " expects a number in [" + formatDouble(lo) + ", " +
                    formatDouble(hi) + "], got '" + text + "'"};
  return v;
}

GenerateOptions parseGenerateArgs(int argc, char **argv, bool &help) {
  GenerateOptions o;
  // --help anywhere, before or after the mode's flag (never a value).
  if (hasHelpFlag(argc, argv)) {
    help = true;
    return o;
  }
  forEachModeArg(
      argc, argv, "--generate", {"--generate", "--quiet"},
      {"--prompt-ids", "--max-new-tokens", "--top-k", "--top-p",
       "--temperature", "--seed", "--threads", "--warmup", "--json"},
      [&](const std::string &flag) { o.quiet |= flag == "--quiet"; },
      [&](const std::string &flag, const std::string &value) {
        if (flag == "--prompt-ids")
          o.prompt = parseIds(value);
        else if (flag == "--max-new-tokens")
          o.newTokens = parseCount(flag, value, 0, 1L << 30);
        else if (flag == "--top-k")
          o.sample.topK = int(parseCount(flag, value, 0, 1L << 30));
        else if (flag == "--top-p")
          o.sample.topP = parseReal(flag, value, 1e-9, 1.0);
        else if (flag == "--temperature")
          o.sample.temperature = parseReal(flag, value, 1e-6, 1e6);
        else if (flag == "--seed")
          o.sample.seed = uint64_t(parseCount(flag, value, 0, 1L << 62));
        else if (flag == "--threads")
          o.threads = parseCount(flag, value, 1, 1024);
        else if (flag == "--warmup")
          o.warmup = parseCount(flag, value, 0, 1000);
        else
          o.json = value;
      },
      [&](const std::string &arg) {
        if (!o.dir.empty())
          throw ToolError{"--generate: more than one folder ('" + o.dir +
                          "', '" + arg + "')"};
        o.dir = arg;
      });
  if (o.dir.empty())
    throw ToolError{"--generate expects the folder written by loomc --generate"};
  if (o.prompt.empty())
    throw ToolError{"--generate needs --prompt-ids (the prompt's token ids)"};
  return o;
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace

bool loom::tools::isGenerateInvocation(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--generate") == 0)
      return true;
  return false;
}

int loom::tools::runGenerate(int argc, char **argv) {
  bool help = false;
  GenerateOptions o = parseGenerateArgs(argc, argv, help);
  if (help) {
    std::cout << kGenerateUsage;
    return 0;
  }
  SessionOptions sessionOptions;
  sessionOptions.threads = int(o.threads);
  std::unique_ptr<Generator> g = Generator::load(o.dir, sessionOptions);

  std::vector<int64_t> tokens;
  double ttft = 0;
  std::vector<double> steps;
  // One generation from an empty cache; the timed one is the last.
  auto generate = [&] {
    g->reset();
    tokens.clear();
    steps.clear();
    auto t0 = std::chrono::steady_clock::now();
    std::vector<float> logits = g->prefill(o.prompt);
    if (o.newTokens > 0) {
      tokens.push_back(g->sample(logits, o.sample));
      ttft = msSince(t0);
    }
    while (int64_t(tokens.size()) < o.newTokens) {
      auto t = std::chrono::steady_clock::now();
      logits = g->step(tokens.back());
      tokens.push_back(g->sample(logits, o.sample));
      steps.push_back(msSince(t));
    }
  };
  for (long w = 0; w < o.warmup; ++w)
    generate();
  generate();
  double median = 0;
  if (!steps.empty()) {
    std::vector<double> sorted = steps;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
  double perSecond = median > 0 ? 1000.0 / median : 0;

  for (size_t i = 0; i < tokens.size(); ++i)
    std::cout << (i ? "," : "") << tokens[i];
  std::cout << "\n";
  GeneratorMemory mem = g->memory();
  if (!o.quiet) {
    std::cout << "loom-run: " << o.prompt.size() << " prompt tokens ("
              << (o.prompt.size() + size_t(g->prefillChunk()) - 1) /
                     size_t(g->prefillChunk())
              << " prefill chunk(s) of " << g->prefillChunk() << "), "
              << tokens.size() << " new; time to first token "
              << formatDouble(ttft, "%.3f") << " ms, decode "
              << formatDouble(median, "%.3f") << " ms/token (median, "
              << formatDouble(perSecond, "%.1f") << " tokens/s)\n";
    auto byDevice = [](const std::vector<std::pair<std::string, uint64_t>> &v) {
      std::string t;
      for (const auto &[d, b] : v)
        t += (t.empty() ? "" : ", ") + d + " " + std::to_string(b);
      return t;
    };
    std::cout << "loom-run: memory: weights " << mem.weights << " B, KV cache "
              << mem.kvCache << " B (context " << g->maxContext() << "; "
              << byDevice(mem.kvCacheByDevice) << "), activations "
              << mem.activations << " B (" << byDevice(mem.activationsByDevice)
              << ")\n";
  }
  if (!o.json.empty()) {
    nlohmann::ordered_json j;
    j["tokens"] = tokens;
    j["ttft_ms"] = ttft;
    j["decode_ms_median"] = median;
    j["tokens_per_s"] = perSecond;
    j["prompt_len"] = o.prompt.size();
    j["max_context"] = g->maxContext();
    j["prefill_chunk"] = g->prefillChunk();
    j["threads"] = o.threads;
    j["warmup"] = o.warmup;
    nlohmann::ordered_json kvBy = nlohmann::ordered_json::object(),
                           actBy = nlohmann::ordered_json::object();
    for (const auto &[d, b] : mem.kvCacheByDevice)
      kvBy[d] = b;
    for (const auto &[d, b] : mem.activationsByDevice)
      actBy[d] = b;
    j["memory_bytes"] = {{"weights", mem.weights},
                         {"kv_cache", mem.kvCache},
                         {"activations", mem.activations},
                         {"kv_cache_by_device", kvBy},
                         {"activations_by_device", actBy}};
    std::ofstream out(o.json);
    if (!out || !(out << j.dump(2) << "\n"))
      throw ToolError{o.json + ": cannot be written"};
  }
  return 0;
}
