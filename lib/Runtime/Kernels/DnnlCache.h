//===- DnnlCache.h - Per-thread cache of planned kernel calls ---*- C++ -*-===//
//
// The fast paths plan a call (check it, build oneDNN primitive descriptors
// and primitives, reorder constant weights) once per distinct call and keep
// the result here, so that the run of a plan does not re-create primitives.
//
// - Key: `callKey` = the kernel's tag, the thread count, every input and
//   output's presence, dtype and shape, and every attribute (name and
//   value). That is everything a plan depends on; data pointers are not part
//   of the key (the same entry serves every call of that signature), except
//   for kernels whose entry holds reordered weights: `weightsCallKey` adds
//   the weights' address, so that layers of one signature keep one reordered
//   copy each instead of reordering again on every call.
// - Values that depend on data (weights reordered into oneDNN's blocked
//   layout) are kept in `WeightCache`, which is keyed by the weights' address
//   AND validated by comparing the bytes with a snapshot on every use (exact:
//   a buffer whose contents changed, or a new tensor at a reused address, is
//   reordered again).
// - Thread safety: one cache per thread (thread_local), so entries and their
//   primitives/scratch memory are never used by two threads at once. The
//   queues of a plan run on their own worker threads, each with its own
//   cache.
// - Bound: at most kMaxEntries entries and kMaxBytes bytes (weights
//   snapshots + reordered weights + scratch buffers, as reported by each
//   entry) per thread; the least recently used entries are dropped first.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_DNNLCACHE_H
#define LOOM_RUNTIME_KERNELS_DNNLCACHE_H

#include "loom/Runtime/Kernel.h"

#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace loom::rt::dnnlcache {

/// Appends the raw bytes of `v` to `k`.
template <typename T> inline void put(std::string &k, const T &v) {
  k.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

inline void putShape(std::string &k, const Shape &s) {
  put(k, uint32_t(s.size()));
  if (!s.empty())
    k.append(reinterpret_cast<const char *>(s.data()), s.size() * sizeof(int64_t));
}

inline void putTensor(std::string &k, const TensorRef &t) {
  const bool present = t.present && t.data;
  put(k, uint8_t(present ? 1 + uint8_t(t.dtype) : 0));
  if (present)
    putShape(k, t.shape);
}

/// The key of a call: everything but the data (see the file comment).
inline std::string callKey(std::string_view tag, const KernelArgs &a) {
  std::string k;
  k.reserve(256);
  k.append(tag);
  k.push_back('\0');
  put(k, int32_t(a.threads));
  put(k, uint32_t(a.inputs.size()));
  for (const TensorRef &t : a.inputs)
    putTensor(k, t);
  put(k, uint32_t(a.outputs.size()));
  for (const TensorRef &t : a.outputs)
    putTensor(k, t);
  for (const auto &[name, v] : a.attrs.all()) {
    k.append(name);
    k.push_back('\0');
    put(k, uint8_t(v.index()));
    if (const auto *i = std::get_if<int64_t>(&v)) {
      put(k, *i);
    } else if (const auto *d = std::get_if<double>(&v)) {
      put(k, *d);
    } else if (const auto *s = std::get_if<std::string>(&v)) {
      put(k, uint32_t(s->size()));
      k.append(*s);
    } else if (const auto *is = std::get_if<std::vector<int64_t>>(&v)) {
      putShape(k, *is);
    } else if (const auto *ds = std::get_if<std::vector<double>>(&v)) {
      put(k, uint32_t(ds->size()));
      for (double x : *ds)
        put(k, x);
    } else if (const auto *ss = std::get_if<std::vector<std::string>>(&v)) {
      put(k, uint32_t(ss->size()));
      for (const std::string &x : *ss) {
        put(k, uint32_t(x.size()));
        k.append(x);
      }
    } else if (const auto *dt = std::get_if<DType>(&v)) {
      put(k, uint8_t(*dt));
    } else if (const auto *t = std::get_if<Tensor>(&v)) {
      put(k, uint8_t(t->dtype));
      putShape(k, t->shape);
      put(k, uint64_t(t->bytes.size()));
      k.append(reinterpret_cast<const char *>(t->bytes.data()), t->bytes.size());
    }
  }
  return k;
}

/// The key of a call whose entry holds a copy of input `w` reordered:
/// `callKey` and that input's address (see the file comment).
inline std::string weightsCallKey(std::string_view tag, const KernelArgs &a, size_t w) {
  std::string k = callKey(tag, a);
  put(k, w < a.inputs.size() ? a.inputs[w].data : nullptr);
  return k;
}

/// A cached value; `bytes()` is what it holds beyond its plan (weights
/// copies, scratch buffers), for the byte bound.
struct Entry {
  virtual ~Entry() = default;
  virtual size_t bytes() const { return 0; }
};

class ThreadCache {
public:
  static constexpr size_t kMaxEntries = 1024;
  static constexpr size_t kMaxBytes = size_t(1) << 30; // 1 GiB per thread

  /// The entry of `key`, made with `make()` (a std::shared_ptr<T>) on a
  /// miss. The returned pointer keeps the entry alive even if it is evicted
  /// meanwhile (e.g. by a nested call).
  template <typename T, typename Make>
  std::shared_ptr<T> get(const std::string &key, Make &&make) {
    auto it = index.find(key);
    if (it != index.end()) {
      lru.splice(lru.begin(), lru, it->second);
      return std::static_pointer_cast<T>(it->second->second);
    }
    std::shared_ptr<T> e = make();
    lru.emplace_front(key, e);
    index.emplace(key, lru.begin());
    trim();
    return e;
  }

  /// Drops entries until the bounds hold (the most recent one is kept).
  void trim() {
    size_t total = 0;
    for (const auto &kv : lru)
      total += kv.second->bytes() + kv.first.size();
    while (lru.size() > 1 && (lru.size() > kMaxEntries || total > kMaxBytes)) {
      total -= lru.back().second->bytes() + lru.back().first.size();
      index.erase(lru.back().first);
      lru.pop_back();
    }
  }

  size_t size() const { return lru.size(); }
  void clear() {
    index.clear();
    lru.clear();
  }

  static ThreadCache &current() {
    static thread_local ThreadCache cache;
    return cache;
  }

private:
  using Item = std::pair<std::string, std::shared_ptr<Entry>>;
  std::list<Item> lru;
  std::unordered_map<std::string, std::list<Item>::iterator> index;
};

/// A copy of the bytes some derived value (e.g. reordered weights) was made
/// from: `matches` is true only when `data` still holds exactly those bytes
/// at the same address.
struct Snapshot {
  const void *ptr = nullptr;
  std::vector<uint8_t> copy;
  bool valid = false;

  bool matches(const void *data, size_t n) const {
    return valid && ptr == data && copy.size() == n &&
           (n == 0 || std::memcmp(copy.data(), data, n) == 0);
  }
  void take(const void *data, size_t n) {
    ptr = data;
    copy.assign(static_cast<const uint8_t *>(data), static_cast<const uint8_t *>(data) + n);
    valid = true;
  }
  void reset() {
    valid = false;
    ptr = nullptr;
    copy.clear();
    copy.shrink_to_fit();
  }
};

} // namespace loom::rt::dnnlcache

#endif // LOOM_RUNTIME_KERNELS_DNNLCACHE_H
