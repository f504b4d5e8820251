//===- Generator.h - Token generation over a compiled generation program --===//
//
// `loomc MODEL.onnx --generate -o OUT` writes a generation program: per
// context capacity (the last one the full context of C positions), a
// prefill plan over chunks of N tokens and a decode plan for one token, all
// over one shared weights.bin, and `generate.json` naming the token, mask,
// position, logits and KV inputs and outputs (docs/generation.md). A
// Generator loads it and runs a prompt chunk by chunk, then one token at a
// time, on the smallest capacity that holds the tokens so far. The KV cache
// is each context's state buffers, shared by its two plans and written in
// place by them: after each run only the new tokens' keys and values move
// to their positions, and the cache moves to the next capacity once when it
// outgrows one.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_GENERATOR_H
#define LOOM_RUNTIME_GENERATOR_H

#include "loom/Runtime/Session.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loom::rt {

/// How the next token is chosen from the logits.
struct SampleOptions {
  /// 0: greedy (argmax, the first of equal maxima).
  int topK = 0;
  /// Nucleus sampling among the top-k (1: off).
  double topP = 1.0;
  double temperature = 1.0;
  uint64_t seed = 0;
};

/// What the program allocates, in bytes.
struct GeneratorMemory {
  uint64_t weights = 0;     ///< the weights file(s) of the plans, once each
  uint64_t kvCache = 0;     ///< every context's state buffers (the caches)
  uint64_t activations = 0; ///< every plan's arenas
  /// The KV cache and the activations per device, in the order the plans
  /// name them; each sums to the totals above. The cache is in memory
  /// every device reads in place: its one entry is "shared".
  std::vector<std::pair<std::string, uint64_t>> kvCacheByDevice,
      activationsByDevice;
};

class Generator {
public:
  /// Loads OUT (generate.json and its two plan folders). Throws PlanError or
  /// SessionError naming the file and field.
  static std::unique_ptr<Generator> load(const std::string &dir,
                                         SessionOptions options = {});
  ~Generator();

  /// Runs `tokens` (at least one) from the current position, chunk by
  /// chunk (the last chunk padded and masked, or run as decode steps when
  /// the plans predict that cheaper); returns the logits of the last token.
  /// Throws SessionError when the context would overflow.
  std::vector<float> prefill(const std::vector<int64_t> &tokens);
  /// Runs one token at the current position; returns its logits.
  std::vector<float> step(int64_t token);
  /// Chooses a token from `logits`.
  int64_t sample(const std::vector<float> &logits, const SampleOptions &o);
  /// Back to an empty cache at position 0.
  void reset();

  /// Tokens in the cache.
  int64_t position() const;
  int64_t maxContext() const;
  int64_t prefillChunk() const;
  GeneratorMemory memory() const;

private:
  struct Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace loom::rt

#endif // LOOM_RUNTIME_GENERATOR_H
