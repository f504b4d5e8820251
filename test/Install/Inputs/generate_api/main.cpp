// generate-api.test: greedy generation through loom::rt::Generator, then the
// same after reset() (identical ids), then seeded top-k sampling twice
// (identical ids for one seed).
//
// usage: generate_api PROGRAM_DIR NEW_TOKENS ID [ID...]
#include "loom/Runtime/Generator.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

namespace {
std::vector<int64_t> generate(loom::rt::Generator &g,
                              const std::vector<int64_t> &prompt, int n,
                              const loom::rt::SampleOptions &o) {
  std::vector<int64_t> out;
  std::vector<float> logits = g.prefill(prompt);
  while (int(out.size()) < n) {
    out.push_back(g.sample(logits, o));
    if (int(out.size()) < n)
      logits = g.step(out.back());
  }
  return out;
}

void print(const char *what, const std::vector<int64_t> &ids) {
  std::printf("%s:", what);
  for (size_t i = 0; i < ids.size(); ++i)
    std::printf("%s%lld", i ? "," : " ", static_cast<long long>(ids[i]));
  std::printf("\n");
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: generate_api PROGRAM_DIR NEW_TOKENS ID...\n");
    return 2;
  }
  try {
    auto g = loom::rt::Generator::load(argv[1]);
    int n = std::atoi(argv[2]);
    std::vector<int64_t> prompt;
    for (int i = 3; i < argc; ++i)
      prompt.push_back(std::atoll(argv[i]));
    std::printf("context %lld, chunk %lld\n",
                static_cast<long long>(g->maxContext()),
                static_cast<long long>(g->prefillChunk()));
    loom::rt::SampleOptions greedy;
    std::vector<int64_t> first = generate(*g, prompt, n, greedy);
    print("greedy", first);
    std::printf("position %lld\n", static_cast<long long>(g->position()));
    g->reset();
    std::printf("after reset: position %lld\n",
                static_cast<long long>(g->position()));
    std::printf("greedy again: %s\n",
                generate(*g, prompt, n, greedy) == first ? "same" : "DIFFERENT");
    loom::rt::SampleOptions topk;
    topk.topK = 8;
    topk.topP = 0.9;
    topk.seed = 42;
    g->reset();
    std::vector<int64_t> a = generate(*g, prompt, n, topk);
    g->reset();
    std::vector<int64_t> b = generate(*g, prompt, n, topk);
    std::printf("top-k seeded twice: %s\n", a == b ? "same" : "DIFFERENT");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "generate_api: %s\n", e.what());
    return 1;
  }
  return 0;
}
