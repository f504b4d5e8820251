//===- Linalg.cpp - MatMul, Gemm, Einsum ----------------------------------===//
//
// Float products accumulate in double; integer products in the element type.
//
//===----------------------------------------------------------------------===//
#include "Einsum.h"
#include "Families.h"
#include "KernelUtil.h"

namespace loom::rt {
using namespace kern;

namespace {

template <typename T>
using AccT = std::conditional_t<isFloatT<T>, double, T>;

void matmul(KernelArgs &a) {
  const char *k = "matmul";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &A = a.inputs[0], &B = a.inputs[1], &Y = a.outputs[0];
  if (A.rank() == 0 || B.rank() == 0)
    fail(k, "operands must have rank >= 1");
  if (A.dtype != B.dtype)
    fail(k, "operand dtypes differ");
  // Promote 1-D operands to matrices; the added dims are dropped again.
  Shape as = A.shape, bs = B.shape;
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != K)
    fail(k, "inner dimensions differ: " + shapeStr(A.shape) + " x " +
                shapeStr(B.shape));
  Shape aBatch(as.begin(), as.end() - 2), bBatch(bs.begin(), bs.end() - 2);
  Shape batch = broadcastShapes(k, {aBatch, bBatch});
  Shape want = batch;
  if (A.rank() > 1)
    want.push_back(M);
  if (B.rank() > 1)
    want.push_back(N);
  checkDType(k, "output", Y, A.dtype);
  checkShape(k, "output", Y, want);
  std::array<std::vector<int64_t>, 2> strides = {
      broadcastStrides(aBatch, batch), broadcastStrides(bBatch, batch)};
  dispatch<kNumeric>(k, A.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *pa = A.as<T>(), *pb = B.as<T>();
    T *py = Y.as<T>();
    auto body = [&](int64_t o, const auto &off) {
      const T *ma = pa + off[0] * M * K, *mb = pb + off[1] * K * N;
      T *my = py + o * M * N;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          AccT<T> s = 0;
          for (int64_t p = 0; p < K; ++p)
            s += AccT<T>(ComputeT<T>(ma[i * K + p])) *
                 AccT<T>(ComputeT<T>(mb[p * N + j]));
          my[i * N + j] = toT<T>(ComputeT<T>(s));
        }
    };
    if (batch.empty())
      body(0, std::array<int64_t, 2>{0, 0});
    else
      forEachBroadcast<2>(batch, strides, body);
  });
}

void gemm(KernelArgs &a) {
  const char *k = "gemm";
  checkArity(k, a, 2, 3, 1, 1);
  const TensorRef &A = a.inputs[0], &B = a.inputs[1], &Y = a.outputs[0];
  if (A.rank() != 2 || B.rank() != 2)
    fail(k, "A and B must be 2-D");
  if (A.dtype != B.dtype)
    fail(k, "operand dtypes differ");
  bool ta = a.attrs.getInt("transA", 0) != 0;
  bool tb = a.attrs.getInt("transB", 0) != 0;
  double alpha = a.attrs.getFloat("alpha", 1.0);
  double beta = a.attrs.getFloat("beta", 1.0);
  int64_t M = ta ? A.shape[1] : A.shape[0], K = ta ? A.shape[0] : A.shape[1];
  int64_t Kb = tb ? B.shape[1] : B.shape[0], N = tb ? B.shape[0] : B.shape[1];
  if (K != Kb)
    fail(k, "inner dimensions differ: " + shapeStr(A.shape) + " x " +
                shapeStr(B.shape));
  checkDType(k, "output", Y, A.dtype);
  checkShape(k, "output", Y, {M, N});
  bool hasC = hasInput(a, 2) && a.inputs[2].numElements() > 0;
  std::vector<int64_t> cs;
  if (hasC) {
    const TensorRef &C = a.inputs[2];
    checkDType(k, "C", C, A.dtype);
    if (broadcastShapes(k, {C.shape, {M, N}}) != Shape{M, N})
      fail(k, "C of shape " + shapeStr(C.shape) + " does not broadcast to " +
                  shapeStr({M, N}));
    cs = broadcastStrides(C.shape, {M, N});
  }
  dispatch<kNumeric>(k, A.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *pa = A.as<T>(), *pb = B.as<T>();
    T *py = Y.as<T>();
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        AccT<T> s = 0;
        for (int64_t p = 0; p < K; ++p) {
          T av = ta ? pa[p * M + i] : pa[i * K + p];
          T bv = tb ? pb[j * K + p] : pb[p * N + j];
          s += AccT<T>(ComputeT<T>(av)) * AccT<T>(ComputeT<T>(bv));
        }
        double v = alpha * double(s);
        if (hasC)
          v += beta * double(ComputeT<T>(
                          a.inputs[2].as<T>()[i * cs[0] + j * cs[1]]));
        py[i * N + j] = toT<T>(ComputeT<T>(v));
      }
  });
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

} // namespace

static int letterId(std::string_view k, char c) {
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return 26 + (c - 'A');
  fail(k, std::string("invalid label '") + c + "' in equation");
}

/// Parses one operand's term into label ids, expanding "..." into
/// `ellRank` ellipsis labels right-aligned to the global ellipsis rank
/// `maxEll`. `rank` is the operand's rank (or -1 for the output).
static std::vector<int> parseTerm(std::string_view k, std::string_view term,
                           int64_t rank, int64_t maxEll, int64_t *ellRankOut) {
  std::vector<int> labels;
  size_t dots = term.find("...");
  int64_t letters = 0;
  for (char c : term)
    letters += c != '.' && c != ' ';
  int64_t ellRank =
      dots == std::string_view::npos ? 0 : (rank < 0 ? maxEll : rank - letters);
  if (ellRankOut)
    *ellRankOut = ellRank;
  if (rank >= 0 && dots == std::string_view::npos && letters != rank)
    fail(k, "term '" + std::string(term) + "' does not match operand rank " +
                std::to_string(rank));
  if (ellRank < 0)
    fail(k, "term '" + std::string(term) + "' has more labels than dims");
  for (size_t i = 0; i < term.size(); ++i) {
    if (term[i] == ' ')
      continue;
    if (i == dots) {
      for (int64_t j = 0; j < ellRank; ++j)
        labels.push_back(int(kEllipsisBase + (maxEll - ellRank) + j));
      i += 2;
      continue;
    }
    labels.push_back(letterId(k, term[i]));
  }
  return labels;
}

EinsumSpec einsumSpec(const KernelArgs &a) {
  const char *k = "einsum";
  if (a.inputs.empty())
    fail(k, "expected at least one input");
  checkArity(k, a, a.inputs.size(), a.inputs.size(), 1, 1);
  std::string eq = a.attrs.getString("equation", "");
  std::string clean;
  for (char c : eq)
    if (c != ' ')
      clean += c;
  size_t arrow = clean.find("->");
  std::string lhs = clean.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (terms.size() != a.inputs.size())
    fail(k, "equation has " + std::to_string(terms.size()) + " terms for " +
                std::to_string(a.inputs.size()) + " inputs");
  // First pass: ellipsis ranks, to find the global ellipsis rank.
  int64_t maxEll = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    int64_t ell;
    parseTerm(k, terms[i], int64_t(a.inputs[i].rank()), 0, &ell);
    maxEll = std::max(maxEll, ell);
  }
  const int numLabels = kEllipsisBase + int(maxEll);
  std::vector<int64_t> size(size_t(numLabels), -1);
  std::vector<int> count(size_t(numLabels), 0);
  std::vector<std::vector<int>> inLabels;
  for (size_t i = 0; i < terms.size(); ++i) {
    const TensorRef &in = a.inputs[i];
    if (in.dtype != a.inputs[0].dtype)
      fail(k, "inputs must have the same dtype");
    inLabels.push_back(parseTerm(k, terms[i], int64_t(in.rank()), maxEll, nullptr));
    for (size_t d = 0; d < in.rank(); ++d) {
      int l = inLabels[i][d];
      ++count[l];
      int64_t &s = size[l];
      if (s == -1 || s == 1)
        s = in.shape[d];
      else if (in.shape[d] != s && !(l >= kEllipsisBase && in.shape[d] == 1))
        fail(k, "label size mismatch in '" + eq + "'");
    }
  }
  std::vector<int> outLabels;
  if (arrow != std::string::npos) {
    outLabels = parseTerm(k, clean.substr(arrow + 2), -1, maxEll, nullptr);
  } else {
    // Implicit output: ellipsis dims, then labels used once, alphabetically.
    for (int j = 0; j < maxEll; ++j)
      outLabels.push_back(kEllipsisBase + j);
    for (int l = 0; l < kEllipsisBase; ++l)
      if (count[l] == 1)
        outLabels.push_back(l);
  }
  std::vector<bool> inOut(size_t(numLabels), false);
  Shape want;
  for (int l : outLabels) {
    if (size[l] == -1)
      fail(k, "output label does not appear in any input");
    if (inOut[l])
      fail(k, "output label repeated");
    inOut[l] = true;
    want.push_back(size[l]);
  }
  checkDType(k, "output", a.outputs[0], a.inputs[0].dtype);
  checkShape(k, "output", a.outputs[0], want);
  EinsumSpec spec;
  spec.numLabels = numLabels;
  spec.size = std::move(size);
  spec.count = std::move(count);
  spec.inLabels = std::move(inLabels);
  spec.outLabels = std::move(outLabels);
  spec.equation = eq;
  return spec;
}

namespace {

void einsum(KernelArgs &a) {
  const char *k = "einsum";
  EinsumSpec spec = einsumSpec(a);
  const int numLabels = spec.numLabels;
  const std::vector<int64_t> &size = spec.size;
  const std::vector<std::vector<int>> &inLabels = spec.inLabels;
  const std::vector<int> &outLabels = spec.outLabels;
  const size_t numTerms = inLabels.size();
  // Loop labels: output labels first, then the summed ones.
  std::vector<int> loop = outLabels;
  std::vector<bool> inOut(size_t(numLabels), false);
  for (int l : outLabels)
    inOut[l] = true;
  for (int l = 0; l < numLabels; ++l)
    if (size[l] != -1 && !inOut[l])
      loop.push_back(l);
  Shape loopShape;
  for (int l : loop)
    loopShape.push_back(size[l]);
  const TensorRef &Y = a.outputs[0];
  // Per input: its stride along each loop label (sums for repeated labels,
  // 0 where an ellipsis dim of size 1 broadcasts).
  std::vector<std::vector<int64_t>> inStrides;
  for (size_t i = 0; i < numTerms; ++i) {
    const TensorRef &in = a.inputs[i];
    std::vector<int64_t> st = stridesOf(in.shape), byLabel(size_t(numLabels), 0);
    for (size_t d = 0; d < in.rank(); ++d)
      if (in.shape[d] != 1 || size[inLabels[i][d]] == 1)
        byLabel[inLabels[i][d]] += st[d];
    std::vector<int64_t> s;
    for (int l : loop)
      s.push_back(byLabel[l]);
    inStrides.push_back(s);
  }
  int64_t outCount = Y.numElements();
  int64_t inner = 1;
  for (size_t j = outLabels.size(); j < loop.size(); ++j)
    inner *= loopShape[j];
  dispatch<kNumeric>(k, Y.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *py = Y.as<T>();
    std::vector<AccT<T>> acc(static_cast<size_t>(outCount), AccT<T>(0));
    int64_t total = numElements(loopShape);
    std::vector<int64_t> idx(loop.size(), 0);
    for (int64_t t = 0; t < total; ++t) {
      AccT<T> prod = 1;
      for (size_t i = 0; i < numTerms; ++i) {
        int64_t off = 0;
        for (size_t j = 0; j < loop.size(); ++j)
          off += idx[j] * inStrides[i][j];
        prod *= AccT<T>(ComputeT<T>(a.inputs[i].as<T>()[off]));
      }
      acc[size_t(t / inner)] += prod; // output labels lead the loop order
      nextIndex(idx, loopShape);
    }
    for (int64_t o = 0; o < outCount; ++o)
      py[o] = toT<T>(ComputeT<T>(acc[o]));
  });
}

} // namespace

void registerLinalgKernels(KernelRegistry &r) {
  addReference(r, "matmul", matmul);
  addReference(r, "gemm", gemm);
  addReference(r, "einsum", einsum);
  registerEinsumFastPath(r);
}

} // namespace loom::rt
