//===- TensorIndex.cpp - Indexing, scatter and selection kernels ----------===//
//
// Gather, GatherElements, GatherND, ScatterElements, ScatterND, OneHot,
// Compress, ReverseSequence, TopK, NonZero, Unique. Also registers the whole
// Tensor family.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "KernelUtil.h"

#include <map>
#include <numeric>

namespace loom::rt {
using namespace kern;

namespace {

/// Maps a possibly negative index into [0, dim); throws when out of range.
int64_t wrapIndex(std::string_view k, int64_t i, int64_t dim) {
  if (i < -dim || i >= dim)
    fail(k, "index " + std::to_string(i) + " out of range for dimension " +
                std::to_string(dim));
  return i < 0 ? i + dim : i;
}

/// Copies `n` elements of `es` bytes.
inline void copyElems(char *dst, const char *src, int64_t n, size_t es) {
  if (n > 0)
    std::memcpy(dst, src, size_t(n) * es);
}

void gather(KernelArgs &a) {
  const char *k = "gather";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  std::vector<int64_t> idx = loadInts(k, a.inputs[1]);
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", 0), rank);
  Shape want(x.shape.begin(), x.shape.begin() + axis);
  want.insert(want.end(), a.inputs[1].shape.begin(), a.inputs[1].shape.end());
  want.insert(want.end(), x.shape.begin() + axis + 1, x.shape.end());
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  int64_t outer = 1, dim = x.shape[axis], inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  size_t es = dtypeSize(x.dtype);
  int64_t n = int64_t(idx.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j) {
      int64_t i = wrapIndex(k, idx[j], dim);
      copyElems(y.as<char>() + ((o * n + j) * inner) * es,
                x.as<char>() + ((o * dim + i) * inner) * es, inner, es);
    }
}

void gatherElements(KernelArgs &a) {
  const char *k = "gather_elements";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &ind = a.inputs[1], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", 0), rank);
  if (int64_t(ind.rank()) != rank)
    fail(k, "indices must have the data's rank");
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, ind.shape);
  std::vector<int64_t> idx = loadInts(k, ind), xs = stridesOf(x.shape);
  size_t es = dtypeSize(x.dtype);
  std::vector<int64_t> pos(size_t(rank), 0);
  for (int64_t o = 0; o < int64_t(idx.size()); ++o) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d)
      off += (d == axis ? wrapIndex(k, idx[o], x.shape[d]) : pos[d]) * xs[d];
    std::memcpy(y.as<char>() + o * es, x.as<char>() + off * es, es);
    nextIndex(pos, ind.shape);
  }
}

/// The element offsets in `data` that GatherND/ScatterND address: one per
/// index tuple, each the start of a slice of `sliceSize` elements.
std::vector<int64_t> ndOffsets(std::string_view k, const TensorRef &data,
                               const TensorRef &ind, int64_t batchDims,
                               int64_t &sliceSize) {
  int64_t r = int64_t(data.rank()), q = int64_t(ind.rank());
  if (q < 1)
    fail(k, "indices must have rank >= 1");
  int64_t depth = ind.shape[q - 1];
  if (batchDims < 0 || batchDims >= std::min(r, q) || batchDims + depth > r)
    fail(k, "invalid batch_dims/index depth for data " + shapeStr(data.shape) +
                " and indices " + shapeStr(ind.shape));
  for (int64_t d = 0; d < batchDims; ++d)
    if (data.shape[d] != ind.shape[d])
      fail(k, "batch dimensions of data and indices differ");
  std::vector<int64_t> idx = loadInts(k, ind), ds = stridesOf(data.shape);
  sliceSize = 1;
  for (int64_t d = batchDims + depth; d < r; ++d)
    sliceSize *= data.shape[d];
  int64_t batchElems = 1; // index tuples per batch entry
  for (int64_t d = batchDims; d < q - 1; ++d)
    batchElems *= ind.shape[d];
  int64_t tuples = depth ? int64_t(idx.size()) / depth : 0;
  if (depth == 0) {
    tuples = 1;
    for (int64_t d = 0; d < q - 1; ++d)
      tuples *= ind.shape[d];
  }
  std::vector<int64_t> offsets;
  for (int64_t t = 0; t < tuples; ++t) {
    // Batch coordinates -> offset in data.
    int64_t b = batchElems ? t / batchElems : 0, off = 0;
    for (int64_t d = batchDims; d-- > 0;) {
      off += (b % data.shape[d]) * ds[d];
      b /= data.shape[d];
    }
    for (int64_t j = 0; j < depth; ++j) {
      int64_t d = batchDims + j;
      off += wrapIndex(k, idx[t * depth + j], data.shape[d]) * ds[d];
    }
    offsets.push_back(off);
  }
  return offsets;
}

void gatherND(KernelArgs &a) {
  const char *k = "gather_nd";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &ind = a.inputs[1], &y = a.outputs[0];
  int64_t b = a.attrs.getInt("batch_dims", 0);
  int64_t slice;
  std::vector<int64_t> offs = ndOffsets(k, x, ind, b, slice);
  Shape want(ind.shape.begin(), ind.shape.end() - 1);
  want.insert(want.end(), x.shape.begin() + b + ind.shape.back(), x.shape.end());
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  size_t es = dtypeSize(x.dtype);
  for (size_t t = 0; t < offs.size(); ++t)
    copyElems(y.as<char>() + int64_t(t) * slice * es,
              x.as<char>() + offs[t] * es, slice, es);
}

/// Combines `update` into `dst` per the ScatterElements/ScatterND reduction.
template <typename T>
void combine(T &dst, T update, const std::string &reduction) {
  using C = ComputeT<T>;
  if (reduction == "none")
    dst = update;
  else if (reduction == "add")
    dst = toT<T>(C(C(dst) + C(update)));
  else if (reduction == "mul")
    dst = toT<T>(C(C(dst) * C(update)));
  else if (reduction == "max")
    dst = C(update) > C(dst) ? update : dst;
  else
    dst = C(update) < C(dst) ? update : dst;
}

std::string scatterReduction(std::string_view k, const Attrs &attrs) {
  std::string r = attrs.getString("reduction", "none");
  if (r != "none" && r != "add" && r != "mul" && r != "max" && r != "min")
    fail(k, "unknown reduction '" + r + "'");
  return r;
}

void scatterElements(KernelArgs &a) {
  const char *k = "scatter_elements";
  checkArity(k, a, 3, 3, 1, 1);
  const TensorRef &x = a.inputs[0], &ind = a.inputs[1], &upd = a.inputs[2];
  const TensorRef &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", 0), rank);
  std::string red = scatterReduction(k, a.attrs);
  checkShape(k, "updates", upd, ind.shape);
  checkDType(k, "updates", upd, x.dtype);
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, x.shape);
  if (int64_t(ind.rank()) != rank)
    fail(k, "indices must have the data's rank");
  std::memcpy(y.data, x.data, x.byteSize());
  std::vector<int64_t> idx = loadInts(k, ind), xs = stridesOf(x.shape);
  dispatch<kAll & ~kBool>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<int64_t> pos(size_t(rank), 0);
    for (int64_t o = 0; o < int64_t(idx.size()); ++o) {
      int64_t off = 0;
      for (int64_t d = 0; d < rank; ++d)
        off += (d == axis ? wrapIndex(k, idx[o], x.shape[d]) : pos[d]) * xs[d];
      combine(y.as<T>()[off], upd.as<T>()[o], red);
      nextIndex(pos, ind.shape);
    }
  });
}

void scatterND(KernelArgs &a) {
  const char *k = "scatter_nd";
  checkArity(k, a, 3, 3, 1, 1);
  const TensorRef &x = a.inputs[0], &ind = a.inputs[1], &upd = a.inputs[2];
  const TensorRef &y = a.outputs[0];
  std::string red = scatterReduction(k, a.attrs);
  checkDType(k, "updates", upd, x.dtype);
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, x.shape);
  int64_t slice;
  std::vector<int64_t> offs = ndOffsets(k, x, ind, 0, slice);
  if (upd.numElements() != int64_t(offs.size()) * slice)
    fail(k, "updates has shape " + shapeStr(upd.shape) + ", expected " +
                std::to_string(offs.size()) + " slices of " +
                std::to_string(slice));
  std::memcpy(y.data, x.data, x.byteSize());
  dispatch<kAll & ~kBool>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (size_t t = 0; t < offs.size(); ++t)
      for (int64_t e = 0; e < slice; ++e)
        combine(y.as<T>()[offs[t] + e], upd.as<T>()[int64_t(t) * slice + e],
                red);
  });
}

void oneHot(KernelArgs &a) {
  const char *k = "one_hot";
  checkArity(k, a, 3, 3, 1, 1);
  const TensorRef &ind = a.inputs[0], &vals = a.inputs[2], &y = a.outputs[0];
  if (a.inputs[1].numElements() != 1)
    fail(k, "depth must be a scalar");
  int64_t depth = int64_t(loadDouble(a.inputs[1], 0));
  if (vals.numElements() != 2)
    fail(k, "values must have two elements [off, on]");
  int64_t rank = int64_t(ind.rank()) + 1;
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", -1), rank);
  Shape want = ind.shape;
  want.insert(want.begin() + axis, depth);
  checkDType(k, "output", y, vals.dtype);
  checkShape(k, "output", y, want);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= want[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= want[d];
  size_t es = dtypeSize(vals.dtype);
  const char *off = vals.as<char>(), *on = off + es;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < depth; ++j)
      for (int64_t in = 0; in < inner; ++in) {
        int64_t v = int64_t(loadDouble(ind, o * inner + in));
        if (v < 0)
          v += depth;
        std::memcpy(y.as<char>() + ((o * depth + j) * inner + in) * es,
                    v == j ? on : off, es);
      }
}

void compress(KernelArgs &a) {
  const char *k = "compress";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &cond = a.inputs[1], &y = a.outputs[0];
  checkDType(k, "condition", cond, DType::Bool);
  if (cond.rank() != 1)
    fail(k, "condition must be 1-D");
  const bool *pc = cond.as<bool>();
  bool flat = !a.attrs.has("axis");
  Shape shape = flat ? Shape{x.numElements()} : x.shape;
  int64_t axis = flat ? 0 : normalizeAxis(k, a.attrs.getInt("axis", 0),
                                          int64_t(x.rank()));
  int64_t dim = shape[axis];
  if (cond.shape[0] > dim)
    fail(k, "condition is longer than the axis");
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond.shape[0]; ++i)
    if (pc[i])
      keep.push_back(i);
  Shape want = shape;
  want[axis] = int64_t(keep.size());
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  size_t es = dtypeSize(x.dtype);
  int64_t n = int64_t(keep.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j)
      copyElems(y.as<char>() + (o * n + j) * inner * es,
                x.as<char>() + (o * dim + keep[j]) * inner * es, inner, es);
}

void reverseSequence(KernelArgs &a) {
  const char *k = "reverse_sequence";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  if (rank < 2)
    fail(k, "input must have rank >= 2");
  int64_t batchAxis = normalizeAxis(k, a.attrs.getInt("batch_axis", 1), rank);
  int64_t timeAxis = normalizeAxis(k, a.attrs.getInt("time_axis", 0), rank);
  if (batchAxis == timeAxis)
    fail(k, "batch_axis and time_axis must differ");
  std::vector<int64_t> lens = loadInts(k, a.inputs[1]);
  if (int64_t(lens.size()) != x.shape[batchAxis])
    fail(k, "sequence_lens must have one entry per batch");
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, x.shape);
  size_t es = dtypeSize(x.dtype);
  std::vector<int64_t> xs = stridesOf(x.shape), pos(size_t(rank), 0);
  if (x.numElements() == 0)
    return;
  int64_t o = 0;
  do {
    int64_t t = pos[timeAxis], len = lens[pos[batchAxis]];
    if (len < 0 || len > x.shape[timeAxis])
      fail(k, "sequence length " + std::to_string(len) + " out of range");
    int64_t src = o + (t < len ? (len - 1 - 2 * t) * xs[timeAxis] : 0);
    std::memcpy(y.as<char>() + o * es, x.as<char>() + src * es, es);
    ++o;
  } while (nextIndex(pos, x.shape));
}

void topK(KernelArgs &a) {
  const char *k = "top_k";
  checkArity(k, a, 2, 2, 2, 2);
  const TensorRef &x = a.inputs[0], &vals = a.outputs[0], &inds = a.outputs[1];
  if (a.inputs[1].numElements() != 1)
    fail(k, "K must have one element");
  int64_t kk = loadInts(k, a.inputs[1])[0];
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", -1), rank);
  bool largest = a.attrs.getInt("largest", 1) != 0;
  int64_t len = x.shape[axis];
  if (kk < 0 || kk > len)
    fail(k, "K = " + std::to_string(kk) + " out of range for axis of size " +
                std::to_string(len));
  Shape want = x.shape;
  want[axis] = kk;
  checkDType(k, "values", vals, x.dtype);
  checkShape(k, "values", vals, want);
  checkDType(k, "indices", inds, DType::I64);
  checkShape(k, "indices", inds, want);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  dispatch<kNumeric>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T *px = x.as<T>();
    std::vector<int64_t> order(static_cast<size_t>(len));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        auto at = [&](int64_t j) { return C(px[(o * len + j) * inner + in]); };
        std::iota(order.begin(), order.end(), 0);
        // Ties keep the lower index first. Sorted output is also produced
        // for sorted=0 (any order is allowed then).
        std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
          return largest ? at(i) > at(j) : at(i) < at(j);
        });
        for (int64_t j = 0; j < kk; ++j) {
          int64_t dst = (o * kk + j) * inner + in;
          vals.as<T>()[dst] = px[(o * len + order[j]) * inner + in];
          inds.as<int64_t>()[dst] = order[j];
        }
      }
  });
}

void nonZero(KernelArgs &a) {
  const char *k = "non_zero";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  std::vector<int64_t> hits;
  for (int64_t i = 0, n = x.numElements(); i < n; ++i)
    if (loadDouble(x, i) != 0)
      hits.push_back(i);
  int64_t count = int64_t(hits.size());
  checkDType(k, "output", y, DType::I64);
  checkShape(k, "output", y, {rank, count});
  std::vector<int64_t> xs = stridesOf(x.shape);
  for (int64_t h = 0; h < count; ++h)
    for (int64_t d = 0; d < rank; ++d)
      y.as<int64_t>()[d * count + h] = (hits[h] / xs[d]) % x.shape[d];
}

void unique(KernelArgs &a) {
  const char *k = "unique";
  checkArity(k, a, 1, 1, 1, 4);
  const TensorRef &x = a.inputs[0];
  bool sorted = a.attrs.getInt("sorted", 1) != 0;
  bool flat = !a.attrs.has("axis");
  Shape shape = flat ? Shape{x.numElements()} : x.shape;
  int64_t axis = flat ? 0 : normalizeAxis(k, a.attrs.getInt("axis", 0),
                                          int64_t(x.rank()));
  int64_t outer = 1, dim = shape[axis], inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  size_t es = dtypeSize(x.dtype);
  // Slice j = all elements with axis coordinate j, as comparable values.
  std::vector<std::vector<double>> slices(static_cast<size_t>(dim));
  for (int64_t j = 0; j < dim; ++j)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in)
        slices[j].push_back(loadDouble(x, (o * dim + j) * inner + in));
  // Unique slices in first-occurrence order.
  std::map<std::vector<double>, int64_t> firstSeen;
  std::vector<int64_t> firsts, inverse(static_cast<size_t>(dim)), counts;
  for (int64_t j = 0; j < dim; ++j) {
    auto [it, isNew] = firstSeen.emplace(slices[j], int64_t(firsts.size()));
    if (isNew) {
      firsts.push_back(j);
      counts.push_back(0);
    }
    inverse[j] = it->second;
    ++counts[it->second];
  }
  int64_t n = int64_t(firsts.size());
  // rank[u] = position of unique u in the output.
  std::vector<int64_t> order(static_cast<size_t>(n)), pos(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (sorted)
    std::sort(order.begin(), order.end(), [&](int64_t p, int64_t q) {
      return slices[firsts[p]] < slices[firsts[q]];
    });
  for (int64_t i = 0; i < n; ++i)
    pos[order[i]] = i;

  const TensorRef &y = a.outputs[0];
  Shape want = shape;
  want[axis] = n;
  checkDType(k, "Y", y, x.dtype);
  checkShape(k, "Y", y, want);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < outer; ++o)
      copyElems(y.as<char>() + (o * n + i) * inner * es,
                x.as<char>() + (o * dim + firsts[order[i]]) * inner * es,
                inner, es);
  auto writeInts = [&](size_t out, const char *what,
                       const std::vector<int64_t> &v) {
    if (!hasOutput(a, out))
      return;
    checkDType(k, what, a.outputs[out], DType::I64);
    checkShape(k, what, a.outputs[out], {int64_t(v.size())});
    std::copy(v.begin(), v.end(), a.outputs[out].as<int64_t>());
  };
  std::vector<int64_t> outFirst(static_cast<size_t>(n)), outInverse(static_cast<size_t>(dim)),
      outCounts(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    outFirst[i] = firsts[order[i]];
    outCounts[i] = counts[order[i]];
  }
  for (int64_t j = 0; j < dim; ++j)
    outInverse[j] = pos[inverse[j]];
  writeInts(1, "indices", outFirst);
  writeInts(2, "inverse_indices", outInverse);
  writeInts(3, "counts", outCounts);
}

/// TfIdfVectorizer over int32/int64 token ids (string pools are not
/// supported by the runtime's dtypes).
void tfidfVectorizer(KernelArgs &a) {
  const char *k = "tfidf_vectorizer";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.dtype != DType::I32 && x.dtype != DType::I64)
    fail(k, std::string("input must be i32 or i64, got ") + dtypeName(x.dtype));
  if (x.rank() != 1 && x.rank() != 2)
    fail(k, "input must be 1-D or 2-D");
  int64_t minN = a.attrs.requireInt("min_gram_length");
  int64_t maxN = a.attrs.requireInt("max_gram_length");
  int64_t maxSkip = a.attrs.requireInt("max_skip_count");
  std::string mode = a.attrs.getString("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    fail(k, "mode must be TF, IDF or TFIDF, got '" + mode + "'");
  if (minN < 1 || maxN < minN || maxSkip < 0)
    fail(k, "invalid gram lengths or skip count");
  std::vector<int64_t> counts = a.attrs.getInts("ngram_counts");
  std::vector<int64_t> indexes = a.attrs.getInts("ngram_indexes");
  std::vector<int64_t> pool = a.attrs.getInts("pool_int64s");
  std::vector<double> weights = a.attrs.getFloats("weights");
  if (pool.empty() && a.attrs.has("pool_strings"))
    fail(k, "string pools are not supported");
  // The pool holds the n-grams of length 1, 2, ... back to back; counts[n-1]
  // is where the n-grams start. Map each n-gram to its output column.
  std::map<std::vector<int64_t>, int64_t> column;
  int64_t ngram = 0;
  for (size_t n = 1; n <= counts.size(); ++n) {
    int64_t begin = counts[n - 1];
    int64_t end = n < counts.size() ? counts[n] : int64_t(pool.size());
    if (begin < 0 || end > int64_t(pool.size()) || begin > end ||
        (end - begin) % int64_t(n))
      fail(k, "ngram_counts is inconsistent with pool_int64s");
    for (int64_t p = begin; p < end; p += int64_t(n), ++ngram) {
      if (ngram >= int64_t(indexes.size()))
        fail(k, "ngram_indexes has fewer entries than the pool has n-grams");
      column[std::vector<int64_t>(pool.begin() + p, pool.begin() + p + n)] =
          indexes[ngram];
    }
  }
  int64_t width = 0;
  for (int64_t i : indexes)
    width = std::max(width, i + 1);
  if (!weights.empty() && weights.size() != indexes.size())
    fail(k, "weights must have one entry per n-gram");
  int64_t rows = x.rank() == 2 ? x.shape[0] : 1, len = x.shape.back();
  checkDType(k, "output", y, DType::F32);
  checkShape(k, "output", y,
             x.rank() == 2 ? Shape{rows, width} : Shape{width});
  std::vector<int64_t> tokens = loadInts(k, x);
  // weights are indexed by output column (like ngram_indexes' values).
  std::vector<double> weightOf(static_cast<size_t>(width), 1.0);
  for (size_t i = 0; i < weights.size(); ++i)
    weightOf[indexes[i]] = weights[i];
  float *py = y.as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> tf(static_cast<size_t>(width), 0.0);
    const int64_t *row = tokens.data() + r * len;
    for (int64_t start = 0; start < len; ++start)
      for (int64_t n = minN; n <= maxN; ++n)
        // 1-grams do not depend on the skip: count them once.
        for (int64_t skip = 0; skip <= (n == 1 ? 0 : maxSkip); ++skip) {
          int64_t last = start + (n - 1) * (skip + 1);
          if (last >= len)
            break;
          std::vector<int64_t> gram;
          for (int64_t j = 0; j < n; ++j)
            gram.push_back(row[start + j * (skip + 1)]);
          auto it = column.find(gram);
          if (it != column.end())
            tf[it->second] += 1;
        }
    for (int64_t c = 0; c < width; ++c) {
      double v = tf[c];
      if (mode == "IDF")
        v = v > 0 ? weightOf[c] : 0;
      else if (mode == "TFIDF")
        v *= weightOf[c];
      py[r * width + c] = float(v);
    }
  }
}

} // namespace

void registerTensorIndexKernels(KernelRegistry &r) {
  addReference(r, "gather", gather);
  addReference(r, "gather_elements", gatherElements);
  addReference(r, "gather_nd", gatherND);
  addReference(r, "scatter_elements", scatterElements);
  addReference(r, "scatter_nd", scatterND);
  addReference(r, "one_hot", oneHot);
  addReference(r, "compress", compress);
  addReference(r, "reverse_sequence", reverseSequence);
  addReference(r, "top_k", topK);
  addReference(r, "non_zero", nonZero);
  addReference(r, "unique", unique);
  addReference(r, "tfidf_vectorizer", tfidfVectorizer);
}

void registerTensorKernels(KernelRegistry &r) {
  registerTensorShapeKernels(r);
  registerTensorIndexKernels(r);
}

} // namespace loom::rt
