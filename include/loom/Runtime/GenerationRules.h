//===- GenerationRules.h - Where a generation program's runs go -*- C++ -*-===//
//
// The arithmetic a generation program's runs follow (docs/generation.md),
// shared by the runtime's Generator and the scenario scheduler, which
// predicts the same runs. A context of capacity c keeps its KV cache in
// state buffers of c slots per head: slot i holds the token at position i,
// and a run of n tokens (its plan's count: the prefill chunk N, or 1 for a
// decode step) writes its entries into the last n slots, [c - n, c), before
// they move to their positions. So a run at position p needs the cached
// slots [0, p) to end before that tail: c >= p + n.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_GENERATIONRULES_H
#define LOOM_RUNTIME_GENERATIONRULES_H

#include <cstdint>

namespace loom::rt::generation {

/// The smallest capacity that holds a run of a plan over `planTokens`
/// tokens at position `position`.
inline int64_t capacityNeeded(int64_t position, int64_t planTokens) {
  return position + planTokens;
}

/// Whether a prompt chunk of `count` tokens (at most N) at `position` runs
/// as `count` decode steps instead of one prefill run of N (padded): when
/// no context can hold a prefill run there (position + N > C, near the end
/// of the context), or when `count` decode steps are predicted cheaper
/// (`decodeUs`, `prefillUs`: the plans' makespans).
inline bool chunkAsDecodeSteps(int64_t position, int64_t count, int64_t N,
                               int64_t C, double decodeUs, double prefillUs) {
  if (capacityNeeded(position, N) > C)
    return true;
  return count < N && double(count) * decodeUs < prefillUs;
}

} // namespace loom::rt::generation

#endif // LOOM_RUNTIME_GENERATIONRULES_H
