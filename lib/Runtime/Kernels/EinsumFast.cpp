//===- EinsumFast.cpp - Einsum as batched matrix products ------------------===//
//
// An f32 einsum of two operands whose labels each appear in the output or in
// both operands (no diagonal, no label summed within one operand, no
// broadcast) is a batched matrix product. Its labels fall in four groups:
//   batch: in A, B and the output      M: in A and the output
//   N:     in B and the output         K: in A and B (summed)
// Each operand is used in place when its dims are already [batch, M, K] or
// [batch, K, M] (B: [batch, K, N] or [batch, N, K]); otherwise it is first
// gathered into that order. Then one sgemm per batch, into the output
// directly when its dims are [batch, M, N], or into a buffer scattered to
// the output's order. Vision transformers' attention (MaxViT's
// "BGHID,BGHJD->BGHIJ") is the case that matters.
//
// Compiled only with oneDNN (LOOM_HAVE_DNNL).
//
//===----------------------------------------------------------------------===//
#include "Einsum.h"
#include "KernelUtil.h"

#if defined(LOOM_HAVE_DNNL) && LOOM_HAVE_DNNL

#include "DnnlUtil.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace loom::rt {
namespace {

/// The product form of an accepted call.
struct EinsumProduct {
  std::vector<int> batch, m, n, k; ///< label groups, in the chosen orders
  int64_t B = 1, M = 1, N = 1, K = 1;
  std::vector<int64_t> size; ///< per label id
  std::vector<int> aLabels, bLabels, outLabels;
  bool aDirect = false, aTrans = false, bDirect = false, bTrans = false;
  bool outDirect = false;
};

std::vector<int> joined(std::initializer_list<const std::vector<int> *> parts) {
  std::vector<int> out;
  for (const std::vector<int> *v : parts)
    out.insert(out.end(), v->begin(), v->end());
  return out;
}

std::optional<EinsumProduct> einsumProduct(const KernelArgs &a) {
  if (a.inputs.size() != 2 || a.outputs.size() != 1)
    return std::nullopt;
  for (const TensorRef *t : {&a.inputs[0], &a.inputs[1], &a.outputs[0]})
    if (!t->present || t->dtype != DType::F32)
      return std::nullopt;
  EinsumSpec spec;
  try {
    spec = einsumSpec(a);
  } catch (const KernelError &) {
    return std::nullopt; // the reference reports it
  }
  EinsumProduct p;
  p.size = spec.size;
  p.aLabels = spec.inLabels[0];
  p.bLabels = spec.inLabels[1];
  p.outLabels = spec.outLabels;
  std::vector<int> inA(size_t(spec.numLabels), 0), inB = inA, inOut = inA;
  for (size_t i = 0; i < 2; ++i)
    for (size_t d = 0; d < spec.inLabels[i].size(); ++d) {
      int l = spec.inLabels[i][d];
      if (a.inputs[i].shape[d] != spec.size[size_t(l)])
        return std::nullopt; // a broadcast ellipsis dim
      ++(i == 0 ? inA : inB)[size_t(l)];
    }
  for (int l : spec.outLabels)
    ++inOut[size_t(l)];
  for (int l = 0; l < spec.numLabels; ++l) {
    if (inA[size_t(l)] > 1 || inB[size_t(l)] > 1)
      return std::nullopt; // a diagonal
    if (spec.size[size_t(l)] >= 0 && !inOut[size_t(l)] &&
        !(inA[size_t(l)] && inB[size_t(l)]))
      return std::nullopt; // summed within one operand
  }
  for (int l : spec.outLabels)
    (inA[size_t(l)] && inB[size_t(l)] ? p.batch
     : inA[size_t(l)]                 ? p.m
                                      : p.n)
        .push_back(l);
  for (int l : p.aLabels)
    if (inB[size_t(l)] && !inOut[size_t(l)])
      p.k.push_back(l);
  auto product = [&](const std::vector<int> &ls) {
    int64_t n = 1;
    for (int l : ls)
      n *= spec.size[size_t(l)];
    return n;
  };
  p.B = product(p.batch);
  p.M = product(p.m);
  p.N = product(p.n);
  p.K = product(p.k);
  if (p.B * p.M * p.N == 0)
    return std::nullopt;
  p.aDirect = p.aLabels == joined({&p.batch, &p.m, &p.k});
  p.aTrans = !p.aDirect && p.aLabels == joined({&p.batch, &p.k, &p.m});
  p.bDirect = p.bLabels == joined({&p.batch, &p.k, &p.n});
  p.bTrans = !p.bDirect && p.bLabels == joined({&p.batch, &p.n, &p.k});
  p.outDirect = p.outLabels == joined({&p.batch, &p.m, &p.n});
  return p;
}

/// Calls fn(o, off) for every element: `o` its index in a dense tensor whose
/// dims are labelled `packed`, `off` its index in one labelled `strided`
/// (the same labels in another order).
template <typename Fn>
void forEachPermuted(const std::vector<int> &strided, const std::vector<int> &packed,
                     const std::vector<int64_t> &size, Fn fn) {
  std::vector<int64_t> stride(size.size(), 0);
  int64_t total = 1;
  for (size_t d = strided.size(); d-- > 0;) {
    stride[size_t(strided[d])] = total;
    total *= size[size_t(strided[d])];
  }
  const size_t rank = packed.size();
  std::vector<int64_t> dims(rank), st(rank), idx(rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    dims[d] = size[size_t(packed[d])];
    st[d] = stride[size_t(packed[d])];
  }
  int64_t off = 0;
  for (int64_t o = 0; o < total; ++o) {
    fn(o, off);
    for (size_t d = rank; d-- > 0;) {
      off += st[d];
      if (++idx[d] < dims[d])
        break;
      off -= st[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/// `src` (dims labelled `labels`) gathered into a new buffer in `order`.
std::vector<float> gathered(const float *src, const std::vector<int> &labels,
                            const std::vector<int> &order,
                            const std::vector<int64_t> &size) {
  std::vector<float> out;
  forEachPermuted(labels, order, size, [&](int64_t, int64_t off) {
    out.push_back(src[off]);
  });
  return out;
}


void einsumFast(KernelArgs &a) {
  std::optional<EinsumProduct> p = einsumProduct(a);
  if (!p)
    throw KernelError{"einsum: fast path called for a call it does not accept"};
  const float *A = a.inputs[0].as<float>(), *Bm = a.inputs[1].as<float>();
  float *Y = a.outputs[0].as<float>();
  std::vector<float> aBuf, bBuf, cBuf;
  const bool aT = p->aTrans, bT = p->bTrans;
  if (!p->aDirect && !p->aTrans) {
    aBuf = gathered(A, p->aLabels, joined({&p->batch, &p->m, &p->k}), p->size);
    A = aBuf.data();
  }
  if (!p->bDirect && !p->bTrans) {
    bBuf = gathered(Bm, p->bLabels, joined({&p->batch, &p->k, &p->n}), p->size);
    Bm = bBuf.data();
  }
  float *C = Y;
  if (!p->outDirect) {
    cBuf.resize(size_t(p->B * p->M * p->N));
    C = cBuf.data();
  }
  const int64_t M = p->M, N = p->N, K = p->K;
  auto one = [&](int64_t b) {
    const float *ab = A + b * M * K, *bb = Bm + b * K * N;
    float *cb = C + b * M * N;
    if (K == 0) {
      std::fill(cb, cb + M * N, 0.0f);
      return;
    }
    dnnl_status_t st = dnnl_sgemm(aT ? 'T' : 'N', bT ? 'T' : 'N', M, N, K, 1.0f,
                                  ab, aT ? M : K, bb, bT ? K : N, 0.0f, cb, N);
    if (st != dnnl_success)
      throw std::runtime_error("dnnl_sgemm failed");
  };
  dnnlutil::setThreads(a.threads);
  if (a.threads > 1 && p->B > 1) {
    // Batches spread over the threads, each product on one thread: the
    // same sums for any thread count.
    std::string error;
#pragma omp parallel for num_threads(a.threads) schedule(dynamic)
    for (int64_t b = 0; b < p->B; ++b) {
      try {
        one(b);
      } catch (const std::exception &e) {
#pragma omp critical(loom_einsum_error)
        error = e.what();
      }
    }
    if (!error.empty())
      throw KernelError{"einsum: " + error};
  } else {
    for (int64_t b = 0; b < p->B; ++b)
      one(b);
  }
  if (!p->outDirect) // C is [batch, m, n]: into the output's order
    forEachPermuted(p->outLabels, joined({&p->batch, &p->m, &p->n}), p->size,
                    [&](int64_t o, int64_t off) { Y[off] = cBuf[size_t(o)]; });
}

} // namespace

void registerEinsumFastPath(KernelRegistry &r) {
  KernelEntry e;
  e.name = "einsum";
  e.impl = KernelImpl::Fast;
  e.fn = einsumFast;
  e.accepts = [](const KernelArgs &a) { return einsumProduct(a).has_value(); };
  r.add(std::move(e));
}

} // namespace loom::rt

#else // !LOOM_HAVE_DNNL

namespace loom::rt {
/// oneDNN is unavailable: the reference runs.
void registerEinsumFastPath(KernelRegistry &) {}
} // namespace loom::rt

#endif // LOOM_HAVE_DNNL
