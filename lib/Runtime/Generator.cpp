//===- Generator.cpp - Token generation over a generation program ---------===//
//
// A program has one or more contexts, each a prefill and a decode plan over
// a KV cache of `capacity` slots. The cache is the plans' state buffers
// (one per key and value, [1, H, capacity, D], named after the present
// output), shared by the context's two plans: slot i holds the token at
// position i, and the first `position` slots hold tokens. A run of n tokens
// (the plan's count) writes its keys and values into the last n slots in
// place (the plans' state_write tasks: the cache itself is never copied),
// and attention_mask marks the slots that hold tokens: [0, position) and
// the run's own. After the run, the run's real tokens move from the tail to
// [position, position + count): only the new entries move. The positions
// come from position_ids, so a token's slot is its position. A run uses the
// smallest context that holds it (GenerationRules.h); when that is a larger
// one than the last run's, the cached tokens are copied into it first (once
// per context, until reset).
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Generator.h"

#include "loom/Runtime/GenerationRules.h"
#include "loom/Runtime/Plan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

namespace loom::rt {

namespace {
std::string shapeText(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}
} // namespace

namespace gen = generation;

struct Generator::Impl {
  std::string file; // generate.json, for messages
  int64_t C = 0, N = 0, pos = 0;

  /// One plan and where its named inputs, outputs and states are.
  struct Stage {
    std::unique_ptr<Session> session;
    int64_t n = 0; // tokens per run
    size_t ids = 0, mask = 0, positions = 0, logits = 0;
    std::vector<size_t> states; // one per cache tensor
  };
  /// The prefill and decode plans over a cache of `capacity` slots.
  struct Context {
    int64_t capacity = 0;
    Stage prefill, decode;
    /// Cache tensor k's storage (shared by both plans).
    uint8_t *cache(size_t k) { return prefill.session->stateStorage(prefill.states[k]); }
  };
  /// Smallest capacity first; the last one is C.
  std::vector<Context> contexts;
  /// The context whose caches hold the tokens [0, pos).
  size_t current = 0;
  uint64_t weightsBytes = 0;
  /// Per cache tensor: heads, element size, head size in elements.
  struct Cache {
    int64_t heads = 0, headDim = 0;
    size_t elem = 0;
  };
  std::vector<Cache> caches;
  int64_t vocab = 0;

  [[noreturn]] void fail(const std::string &what) const {
    throw PlanError(file + ": " + what);
  }

  /// Loads plan folder `sub` of context `capacity` into `st`: with the
  /// weights of the program's first plan and, for the decode plan, the
  /// states of its context's prefill plan (`shareFrom`).
  void bind(Stage &st, int64_t capacity, const nlohmann::json &j,
            const std::string &sub, const std::string &dir,
            const SessionOptions &options, const Session *shareFrom,
            Session::Sharing sharing) {
    if (sub.empty() || sub.find('/') != std::string::npos || sub == "." ||
        sub == "..")
      fail("contexts: '" + sub + "' is not a folder of the program");
    st.session = shareFrom ? Session::loadSharing(dir + "/" + sub, *shareFrom,
                                                  options, sharing)
                           : Session::load(dir + "/" + sub, options);
    Session &s = *st.session;
    auto input = [&](const char *field) {
      std::string name = j.at(field).get<std::string>();
      auto i = s.findInput(name);
      if (!i)
        fail(std::string(field) + ": plan '" + sub + "' has no input '" +
             name + "'");
      return *i;
    };
    st.ids = input("input_ids");
    st.mask = input("attention_mask");
    st.positions = input("position_ids");
    std::string logitsName = j.at("logits").get<std::string>();
    auto l = s.findOutput(logitsName);
    if (!l)
      fail("logits: plan '" + sub + "' has no output '" + logitsName + "'");
    st.logits = *l;
    const Shape &idShape = s.inputs()[st.ids].shape;
    if (s.inputs()[st.ids].dtype != DType::I64 || idShape.size() != 2 ||
        idShape[0] != 1 || idShape[1] < 1 || idShape[1] > capacity)
      fail("input_ids of plan '" + sub + "' is " + shapeText(idShape) +
           "; expected int64 [1, tokens] with at most " +
           std::to_string(capacity) + " tokens");
    st.n = idShape[1];
    auto expect = [&](size_t index, DType dt, const Shape &want,
                      const std::string &what) {
      const TensorInfo &info = s.inputs()[index];
      if (info.dtype != dt || info.shape != want)
        fail(what + " of plan '" + sub + "' is " + shapeText(info.shape) +
             "; expected " + shapeText(want));
    };
    expect(st.mask, DType::I64, {1, capacity}, "attention_mask");
    expect(st.positions, DType::I64, {1, st.n}, "position_ids");
    const TensorInfo &lg = s.outputs()[st.logits];
    if (lg.dtype != DType::F32 || lg.shape.size() != 3 || lg.shape[0] != 1 ||
        lg.shape[1] != st.n)
      fail("logits of plan '" + sub + "' is " + shapeText(lg.shape) +
           "; expected f32 [1, " + std::to_string(st.n) + ", vocab]");
    if (vocab && vocab != lg.shape[2])
      fail("logits: the plans disagree on the vocabulary size");
    vocab = lg.shape[2];
    const auto &kv = j.at("kv");
    for (size_t k = 0; k < kv.size(); ++k) {
      const std::string at = "kv[" + std::to_string(k) + "]";
      std::string p = kv[k].at("past").get<std::string>();
      std::string q = kv[k].at("present").get<std::string>();
      if (s.findInput(p))
        fail(at + ": plan '" + sub + "' takes '" + p +
             "' as an input; a generation program keeps its cache in state "
             "buffers (compile it again with loomc --generate)");
      auto si = s.findState(q);
      if (!si)
        fail(at + ": plan '" + sub + "' has no state buffer '" + q + "'");
      const TensorInfo &state = s.states()[*si];
      if (state.shape.size() != 4 || state.shape[0] != 1 ||
          state.shape[2] != capacity)
        fail(at + ": state '" + q + "' of plan '" + sub + "' is " +
             shapeText(state.shape) + "; expected [1, heads, " +
             std::to_string(capacity) + ", head]");
      Cache c{state.shape[1], state.shape[3], dtypeSize(state.dtype)};
      if (caches.size() <= k)
        caches.push_back(c);
      else if (caches[k].heads != c.heads || caches[k].headDim != c.headDim ||
               caches[k].elem != c.elem)
        fail(at + ": the plans disagree on its shape");
      st.states.push_back(*si);
    }
  }

  /// Copies `count` slots of cache `k` from slot `fromSlot` of a cache of
  /// `cFrom` slots to slot `toSlot` of one of `cTo` (the same cache when the
  /// pointers are equal; the ranges may overlap).
  static void moveSlots(const Cache &c, const uint8_t *from, int64_t cFrom,
                        int64_t fromSlot, uint8_t *to, int64_t cTo,
                        int64_t toSlot, int64_t count) {
    size_t row = size_t(c.headDim) * c.elem;
    for (int64_t h = 0; h < c.heads; ++h)
      std::memmove(to + (size_t(h) * size_t(cTo) + size_t(toSlot)) * row,
                   from + (size_t(h) * size_t(cFrom) + size_t(fromSlot)) * row,
                   size_t(count) * row);
  }

  /// The smallest context whose capacity is at least `need`, and not
  /// smaller than the current one (a context only grows until reset).
  size_t contextIndex(int64_t need) const {
    size_t next = 0;
    while (next + 1 < contexts.size() && contexts[next].capacity < need)
      ++next;
    return std::max(next, current);
  }

  /// Makes context `next` current, moving the cached tokens [0, pos) into
  /// its cache when it changes.
  Context &use(size_t next) {
    if (next != current && pos > 0) {
      Context &from = contexts[current], &to = contexts[next];
      for (size_t k = 0; k < caches.size(); ++k)
        moveSlots(caches[k], from.cache(k), from.capacity, 0, to.cache(k),
                  to.capacity, 0, pos);
    }
    current = next;
    return contexts[current];
  }

  /// Runs `st` of context `cx` over `count` tokens (count <= st.n; the rest
  /// is padding). The context holds the run: pos + st.n <= capacity.
  std::vector<float> run(Context &cx, Stage &st, const int64_t *tokens,
                         int64_t count) {
    Session &s = *st.session;
    const int64_t cap = cx.capacity, tail = cap - st.n;
    auto *ids = reinterpret_cast<int64_t *>(s.inputStorage(st.ids));
    auto *positions = reinterpret_cast<int64_t *>(s.inputStorage(st.positions));
    auto *mask = reinterpret_cast<int64_t *>(s.inputStorage(st.mask));
    for (int64_t i = 0; i < st.n; ++i) {
      ids[i] = i < count ? tokens[i] : 0;
      // Padding takes the last real position: in range for any table.
      positions[i] = pos + std::min(i, count - 1);
    }
    for (int64_t slot = 0; slot < cap; ++slot)
      mask[slot] = slot < pos || (slot >= tail && slot < tail + count) ? 1 : 0;
    s.run();
    // The run's real tokens, written at the tail, to their positions.
    if (tail != pos)
      for (size_t k = 0; k < caches.size(); ++k)
        moveSlots(caches[k], cx.cache(k), cap, tail, cx.cache(k), cap, pos,
                  count);
    pos += count;
    const auto *logits =
        reinterpret_cast<const float *>(s.outputStorage(st.logits));
    return std::vector<float>(logits + (count - 1) * vocab,
                              logits + count * vocab);
  }

  /// Back to position 0. The caches keep their bytes: the mask hides every
  /// slot the next tokens have not written.
  void clearCaches() {
    pos = 0;
    current = 0;
  }
};

Generator::Generator(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Generator::~Generator() = default;

std::unique_ptr<Generator> Generator::load(const std::string &dir,
                                           SessionOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->file = dir + "/generate.json";
  std::ifstream in(impl->file);
  if (!in)
    throw PlanError(impl->file + ": cannot be read (not a generation "
                                 "program: loomc --generate writes one)");
  nlohmann::json j;
  try {
    in >> j;
    if (j.at("format").get<std::string>() != "loom-generate")
      impl->fail("format: expected \"loom-generate\"");
    if (j.at("version").get<int64_t>() != 3)
      impl->fail("version: this runtime reads version 3 (compile the program "
                 "again with loomc --generate)");
    impl->C = j.at("max_context").get<int64_t>();
    impl->N = j.at("prefill_chunk").get<int64_t>();
    if (impl->C < 1 || impl->N < 1)
      impl->fail("max_context and prefill_chunk must be at least 1");
    if (!j.at("kv").is_array() || j.at("kv").empty())
      impl->fail("kv: expected a non-empty list of {past, present}");
    const auto &contexts = j.at("contexts");
    if (!contexts.is_array() || contexts.empty())
      impl->fail("contexts: expected a non-empty list of {capacity, prefill, "
                 "decode}");
    for (size_t i = 0; i < contexts.size(); ++i) {
      int64_t cap = contexts[i].at("capacity").get<int64_t>();
      int64_t prev = i ? impl->contexts.back().capacity : 0;
      if (cap <= prev || cap > impl->C ||
          (i + 1 == contexts.size() && cap != impl->C))
        impl->fail("contexts[" + std::to_string(i) + "].capacity: " +
                   std::to_string(cap) +
                   "; capacities must increase and end at max_context (" +
                   std::to_string(impl->C) + ")");
      Impl::Context &cx = impl->contexts.emplace_back();
      cx.capacity = cap;
      // Every plan reads the weights through the first's mapping (one
      // weights.bin for the program: mapped once); a context's decode plan
      // shares its prefill plan's states (one KV cache).
      const Session *first =
          i ? impl->contexts.front().prefill.session.get() : nullptr;
      impl->bind(cx.prefill, cap, j, contexts[i].at("prefill").get<std::string>(),
                 dir, options, first, Session::Sharing::Weights);
      impl->bind(cx.decode, cap, j, contexts[i].at("decode").get<std::string>(),
                 dir, options, cx.prefill.session.get(),
                 Session::Sharing::WeightsAndState);
      if (cx.prefill.n != impl->N || cx.decode.n != 1)
        impl->fail("contexts[" + std::to_string(i) + "]: the prefill plan runs " +
                   std::to_string(cx.prefill.n) + " tokens and the decode plan " +
                   std::to_string(cx.decode.n) + "; expected " +
                   std::to_string(impl->N) + " and 1");
    }
    // The weights the plans share (or each plan's own, summed).
    std::set<std::string> files;
    for (const Impl::Context &cx : impl->contexts)
      for (const Impl::Stage *st : {&cx.prefill, &cx.decode})
        if (files.insert(std::filesystem::weakly_canonical(
                             st->session->plan().weightsPath())
                             .string())
                .second)
          impl->weightsBytes += st->session->plan().weights.sizeBytes;
  } catch (const nlohmann::json::exception &e) {
    impl->fail(std::string("malformed: ") + e.what());
  }
  impl->clearCaches();
  return std::unique_ptr<Generator>(new Generator(std::move(impl)));
}

std::vector<float> Generator::prefill(const std::vector<int64_t> &tokens) {
  Impl &g = *impl;
  if (tokens.empty())
    throw SessionError("prefill: no tokens");
  if (g.pos + int64_t(tokens.size()) > g.C)
    throw SessionError("prefill: " + std::to_string(tokens.size()) +
                       " tokens after " + std::to_string(g.pos) +
                       " exceed the context of " + std::to_string(g.C) +
                       " (loomc --max-context)");
  std::vector<float> logits;
  for (size_t at = 0; at < tokens.size(); at += size_t(g.N)) {
    int64_t count = std::min<int64_t>(g.N, int64_t(tokens.size() - at));
    // A short last chunk runs as decode steps when the plans' predicted
    // times say that is cheaper than a chunk of N padded tokens (e.g. a
    // one-token prompt), and so does a chunk too close to the end of the
    // context for a prefill run: the same results, decided from the plans
    // alone.
    size_t chunkCx = g.contextIndex(gen::capacityNeeded(g.pos, g.N));
    size_t stepCx = g.contextIndex(gen::capacityNeeded(g.pos + count - 1, 1));
    if (gen::chunkAsDecodeSteps(
            g.pos, count, g.N, g.C,
            g.contexts[stepCx].decode.session->plan().makespanUs,
            g.contexts[chunkCx].prefill.session->plan().makespanUs)) {
      for (int64_t i = 0; i < count; ++i)
        logits = step(tokens[at + size_t(i)]);
      continue;
    }
    Impl::Context &cx = g.use(chunkCx);
    logits = g.run(cx, cx.prefill, tokens.data() + at, count);
  }
  return logits;
}

std::vector<float> Generator::step(int64_t token) {
  Impl &g = *impl;
  if (g.pos >= g.C)
    throw SessionError("step: the context of " + std::to_string(g.C) +
                       " tokens is full (loomc --max-context)");
  Impl::Context &cx = g.use(g.contextIndex(gen::capacityNeeded(g.pos, 1)));
  return g.run(cx, cx.decode, &token, 1);
}

int64_t Generator::sample(const std::vector<float> &logits,
                          const SampleOptions &o) {
  if (logits.empty())
    throw SessionError("sample: no logits");
  if (o.topK <= 0)
    return int64_t(std::max_element(logits.begin(), logits.end()) -
                   logits.begin());
  std::vector<size_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  size_t k = std::min(size_t(o.topK), order.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](size_t a, size_t b) {
                      return logits[a] > logits[b] ||
                             (logits[a] == logits[b] && a < b);
                    });
  order.resize(k);
  double t = o.temperature > 0 ? o.temperature : 1.0;
  std::vector<double> p(k);
  for (size_t i = 0; i < k; ++i)
    p[i] = std::exp((logits[order[i]] - logits[order[0]]) / t);
  double total = std::accumulate(p.begin(), p.end(), 0.0);
  // Nucleus: the smallest prefix whose probability reaches top_p.
  size_t keep = k;
  double run = 0;
  for (size_t i = 0; i < k; ++i) {
    run += p[i] / total;
    if (run >= o.topP) {
      keep = i + 1;
      break;
    }
  }
  std::mt19937_64 rng(o.seed + uint64_t(impl->pos));
  std::discrete_distribution<size_t> pick(p.begin(), p.begin() + long(keep));
  return int64_t(order[pick(rng)]);
}

void Generator::reset() { impl->clearCaches(); }
int64_t Generator::position() const { return impl->pos; }
int64_t Generator::maxContext() const { return impl->C; }
int64_t Generator::prefillChunk() const { return impl->N; }

GeneratorMemory Generator::memory() const {
  GeneratorMemory m;
  m.weights = impl->weightsBytes;
  auto add = [](std::vector<std::pair<std::string, uint64_t>> &by,
                const std::string &device, uint64_t bytes) {
    for (auto &[d, b] : by)
      if (d == device) {
        b += bytes;
        return;
      }
    by.push_back({device, bytes});
  };
  for (const Impl::Context &cx : impl->contexts) {
    // The cache: the context's state buffers, which its two plans share.
    // They lie in no device arena: every device reads them in place.
    const Plan &prefill = cx.prefill.session->plan();
    for (size_t index : cx.prefill.states) {
      uint64_t bytes = prefill.buffers[prefill.states[index].buffer].sizeBytes;
      m.kvCache += bytes;
      add(m.kvCacheByDevice, "shared", bytes);
    }
    for (const Impl::Stage *st : {&cx.prefill, &cx.decode}) {
      const Plan &plan = st->session->plan();
      for (const PlanArena &a : plan.arenas) {
        m.activations += a.peakBytes;
        add(m.activationsByDevice, a.device, a.peakBytes);
      }
    }
  }
  return m;
}

} // namespace loom::rt
