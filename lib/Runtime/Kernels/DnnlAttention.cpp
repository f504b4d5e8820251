//===- DnnlAttention.cpp - The attention and softmax fast paths -------------===//
//
// attention(Q, K, V, mask?) -> Y (docs/fused-ops.md) with GEMMs: for each
// batch and key/value head, the query rows of the heads that share it
// (grouped-query attention: heads hk*G .. hk*G+G-1, contiguous in Q and Y)
// form one [G*Sq, D] matrix. In blocks of rows:
//   S = scale * Q_blk · Kᵀ            (dnnl_sgemm)
//   S += mask; row max (and NaN check)
//   S = softmax(S) along rows          (oneDNN softmax primitive, in place)
//   Y_blk = S · V                      (dnnl_sgemm)
// Rows whose scores hold a NaN or whose maximum is not finite (all -inf:
// NaN by definition) take the reference's formula. Blocks are independent;
// with threads > 1 they are spread over OpenMP threads (each block always
// computed by one thread the same way: deterministic for a thread count).
//
// softmax(X) along the last axis of an f32 tensor runs the same way: one
// oneDNN softmax over [rows, cols], the odd rows through the reference's
// formula.
//
// Compiled only with oneDNN (LOOM_HAVE_DNNL).
//
//===----------------------------------------------------------------------===//
#include "FusedUtil.h"
#include "KernelUtil.h"

#if defined(LOOM_HAVE_DNNL) && LOOM_HAVE_DNNL

#include "DnnlUtil.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace loom::rt {
namespace {

/// The checked geometry of one attention call.
struct AttnShape {
  int64_t B = 0, Hq = 0, Hkv = 0, Sq = 0, Sk = 0, D = 0, Dv = 0, group = 1;
  bool kT = false;
  float scale = 1;
  bool hasMask = false;
  std::vector<int64_t> ms; ///< Mask strides over [B, Hq, Sq, Sk].
};

using fused::broadcastsTo;

/// The geometry when the fast path can run the call exactly as the
/// reference does (else the reference runs and reports any error).
std::optional<AttnShape> attnShape(const KernelArgs &a) {
  if (a.inputs.size() < 3 || a.inputs.size() > 4 || a.outputs.size() != 1)
    return std::nullopt;
  for (const TensorRef &t : a.inputs)
    if (t.present && t.data && t.dtype != DType::F32)
      return std::nullopt;
  const TensorRef &q = a.inputs[0], &k = a.inputs[1], &v = a.inputs[2], &y = a.outputs[0];
  if (!q.present || !k.present || !v.present || !y.present || y.dtype != DType::F32)
    return std::nullopt;
  if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || y.rank() != 4)
    return std::nullopt;
  AttnShape s;
  s.kT = a.attrs.getInt("k_transposed", 0) != 0;
  s.B = q.shape[0], s.Hq = q.shape[1], s.Sq = q.shape[2], s.D = q.shape[3];
  s.Hkv = k.shape[1];
  s.Sk = s.kT ? k.shape[3] : k.shape[2];
  const int64_t Dk = s.kT ? k.shape[2] : k.shape[3];
  s.Dv = v.shape[3];
  if (k.shape[0] != s.B || Dk != s.D || v.shape != Shape{s.B, s.Hkv, s.Sk, s.Dv} ||
      y.shape != Shape{s.B, s.Hq, s.Sq, s.Dv})
    return std::nullopt;
  if (a.attrs.has("q_heads") && a.attrs.getInt("q_heads", 0) != s.Hq)
    return std::nullopt;
  if (a.attrs.has("kv_heads") && a.attrs.getInt("kv_heads", 0) != s.Hkv)
    return std::nullopt;
  // Empty problems are left to the reference.
  if (s.B <= 0 || s.Hq <= 0 || s.Hkv <= 0 || s.Sq <= 0 || s.Sk <= 0 || s.D <= 0 ||
      s.Dv <= 0 || s.Hq % s.Hkv != 0)
    return std::nullopt;
  s.group = s.Hq / s.Hkv;
  const double scale = a.attrs.has("scale") ? a.attrs.getFloat("scale", 1.0)
                                            : 1.0 / std::sqrt(double(s.D));
  s.scale = float(scale);
  s.ms.assign(4, 0);
  if (a.inputs.size() == 4 && a.inputs[3].present && a.inputs[3].data) {
    const TensorRef &m = a.inputs[3];
    const Shape scoreShape = {s.B, s.Hq, s.Sq, s.Sk};
    if (m.dtype != DType::F32 || !broadcastsTo(m.shape, scoreShape))
      return std::nullopt;
    s.hasMask = true;
    s.ms = kern::broadcastStrides(m.shape, scoreShape);
  }
  return s;
}

/// A row softmax over [rows, cols] (in place), cached per shape.
struct SoftmaxEntry : dnnlcache::Entry {
  dnnl::memory::desc md;
  dnnl::softmax_forward prim;
};

std::shared_ptr<SoftmaxEntry> softmaxFor(int64_t rows, int64_t cols) {
  std::string key = "attention.softmax";
  key.push_back('\0');
  dnnlcache::put(key, rows);
  dnnlcache::put(key, cols);
  return dnnlcache::ThreadCache::current().get<SoftmaxEntry>(key, [&] {
    auto e = std::make_shared<SoftmaxEntry>();
    e->md = dnnl::memory::desc({rows, cols}, dnnl::memory::data_type::f32,
                               dnnl::memory::format_tag::ab);
    dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, e->md, 1);
    e->prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(d, dnnlutil::cpuEngine()));
    return e;
  });
}

/// The reference's formula for one row of scores `s` (scaled and masked)
/// into probabilities (in double, then rounded).
void exactSoftmaxRow(float *s, int64_t n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < n; ++j)
    if (double(s[j]) > mx)
      mx = s[j];
  std::vector<double> e(static_cast<size_t>(n));
  double sum = 0;
  for (int64_t j = 0; j < n; ++j)
    sum += (e[size_t(j)] = std::exp(double(s[j]) - mx));
  for (int64_t j = 0; j < n; ++j)
    s[j] = float(e[size_t(j)] / sum);
}

using dnnlutil::setThreads;

/// One block: rows [r0, r0 + rows) of the [G*Sq, *] problem of (b, hk).
void runBlock(const AttnShape &s, const float *pq, const float *pk, const float *pv,
              const float *mask, float *py, int64_t b, int64_t hk, int64_t r0, int64_t rows,
              std::vector<float> &scores) {
  const int64_t Sk = s.Sk, D = s.D, Dv = s.Dv;
  // Q rows of heads hk*G.. are contiguous: row r is head hk*G + r/Sq,
  // position r%Sq.
  const int64_t qBase = (b * s.Hq + hk * s.group) * s.Sq;
  const float *q = pq + (qBase + r0) * D;
  const float *k = pk + (b * s.Hkv + hk) * Sk * D;
  const float *v = pv + (b * s.Hkv + hk) * Sk * Dv;
  float *y = py + (qBase + r0) * Dv;
  scores.resize(size_t(rows * Sk));
  float *S = scores.data();
  const dnnl_status_t st =
      s.kT ? dnnl_sgemm('N', 'N', rows, Sk, D, s.scale, q, D, k, Sk, 0.0f, S, Sk)
           : dnnl_sgemm('N', 'T', rows, Sk, D, s.scale, q, D, k, D, 0.0f, S, Sk);
  if (st != dnnl_success)
    throw std::runtime_error("dnnl_sgemm failed (Q·Kᵀ)");
  // Mask, and find the rows the primitive must not take.
  bool anyOdd = false;
  std::vector<uint8_t> odd(size_t(rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    float *sr = S + r * Sk;
    const int64_t rr = r0 + r, h = hk * s.group + rr / s.Sq, i = rr % s.Sq;
    if (mask) {
      const float *mr = mask + b * s.ms[0] + h * s.ms[1] + i * s.ms[2];
      const int64_t m3 = s.ms[3];
      if (m3 == 1)
        for (int64_t j = 0; j < Sk; ++j)
          sr[j] += mr[j];
      else if (m3 == 0) {
        const float m0 = mr[0];
        for (int64_t j = 0; j < Sk; ++j)
          sr[j] += m0;
      } else
        for (int64_t j = 0; j < Sk; ++j)
          sr[j] += mr[j * m3];
    }
    float mx = -std::numeric_limits<float>::infinity();
    bool nan = false;
    for (int64_t j = 0; j < Sk; ++j) {
      mx = sr[j] > mx ? sr[j] : mx;
      nan |= sr[j] != sr[j];
    }
    if (nan || !std::isfinite(mx)) {
      odd[size_t(r)] = 1;
      anyOdd = true;
    }
  }
  std::vector<float> oddRows;
  if (anyOdd) {
    // Keep the odd rows' scores (the primitive overwrites every row).
    for (int64_t r = 0; r < rows; ++r)
      if (odd[size_t(r)])
        oddRows.insert(oddRows.end(), S + r * Sk, S + (r + 1) * Sk);
  }
  {
    std::shared_ptr<SoftmaxEntry> sm = softmaxFor(rows, Sk);
    dnnl::memory m(sm->md, dnnlutil::cpuEngine(), S);
    sm->prim.execute(dnnlutil::cpuStream(), {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
    dnnlutil::cpuStream().wait();
  }
  if (anyOdd) {
    size_t o = 0;
    for (int64_t r = 0; r < rows; ++r)
      if (odd[size_t(r)]) {
        std::copy(oddRows.begin() + o, oddRows.begin() + o + size_t(Sk), S + r * Sk);
        exactSoftmaxRow(S + r * Sk, Sk);
        o += size_t(Sk);
      }
  }
  if (dnnl_sgemm('N', 'N', rows, Dv, Sk, 1.0f, S, Sk, v, Dv, 0.0f, y, Dv) != dnnl_success)
    throw std::runtime_error("dnnl_sgemm failed (P·V)");
}

void attentionFast(KernelArgs &a) {
  std::optional<AttnShape> sh = attnShape(a);
  if (!sh)
    throw KernelError{"attention: fast path called for a call it does not accept"};
  const AttnShape &s = *sh;
  const float *pq = a.inputs[0].as<float>(), *pk = a.inputs[1].as<float>(),
              *pv = a.inputs[2].as<float>();
  const float *mask = s.hasMask ? a.inputs[3].as<float>() : nullptr;
  float *py = a.outputs[0].as<float>();
  const int64_t M = s.group * s.Sq;
  // Scores blocks of about 64K floats (256 KB).
  const int64_t R = std::max<int64_t>(1, std::min<int64_t>(M, 65536 / s.Sk));
  const int64_t blocks = (M + R - 1) / R, units = s.B * s.Hkv * blocks;
  const int threads = std::max(1, a.threads);
  // No exception may leave an OpenMP region: the first error is kept.
  std::string error;
  auto unit = [&](int64_t u, std::vector<float> &scores) {
    const int64_t blk = u % blocks, bh = u / blocks;
    const int64_t b = bh / s.Hkv, hk = bh % s.Hkv, r0 = blk * R;
    try {
      runBlock(s, pq, pk, pv, mask, py, b, hk, r0, std::min(R, M - r0), scores);
    } catch (const std::exception &e) {
#ifdef LOOM_HAVE_OPENMP
#pragma omp critical(loom_attention_error)
#endif
      if (error.empty())
        error = e.what();
    }
  };
#ifdef LOOM_HAVE_OPENMP
  if (threads > 1 && units >= threads) {
    // Each unit runs single-threaded inside the parallel region (oneDNN
    // does not nest).
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> scores;
#pragma omp for schedule(static)
      for (int64_t u = 0; u < units; ++u)
        unit(u, scores);
    }
  } else
#endif
  {
    setThreads(threads);
    std::vector<float> scores;
    for (int64_t u = 0; u < units && error.empty(); ++u)
      unit(u, scores);
  }
  if (!error.empty())
    throw KernelError{"attention: " + error};
}

/// softmax along the last axis of an f32 tensor (the form attention
/// exports write); anything else is the reference's.
bool softmaxAccepts(const KernelArgs &a) {
  if (a.inputs.size() != 1 || a.outputs.size() != 1)
    return false;
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  const int64_t rank = int64_t(x.rank());
  if (x.dtype != DType::F32 || y.dtype != DType::F32 || rank == 0 ||
      y.shape != x.shape || numElements(x.shape) == 0)
    return false;
  int64_t axis = a.attrs.getInt("axis", -1);
  return axis == -1 || axis == rank - 1;
}

void softmaxFast(KernelArgs &a) {
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  const int64_t cols = x.shape.back(), rows = numElements(x.shape) / cols;
  const float *px = x.as<float>();
  float *py = y.as<float>();
  // Rows with a NaN or no finite maximum, kept before the primitive runs
  // (the output may be the input's buffer).
  std::vector<int64_t> odd;
  std::vector<float> oddRows;
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = px + r * cols;
    float mx = -std::numeric_limits<float>::infinity();
    bool nan = false;
    for (int64_t j = 0; j < cols; ++j) {
      mx = xr[j] > mx ? xr[j] : mx;
      nan |= xr[j] != xr[j];
    }
    if (nan || !std::isfinite(mx)) {
      odd.push_back(r);
      oddRows.insert(oddRows.end(), xr, xr + cols);
    }
  }
  setThreads(a.threads);
  std::shared_ptr<SoftmaxEntry> sm = softmaxFor(rows, cols);
  sm->prim.execute(dnnlutil::cpuStream(),
                   {{DNNL_ARG_SRC, dnnlutil::wrap(sm->md, px)},
                    {DNNL_ARG_DST, dnnlutil::wrap(sm->md, py)}});
  dnnlutil::cpuStream().wait();
  for (size_t i = 0; i < odd.size(); ++i) {
    float *yr = py + odd[i] * cols;
    std::copy(oddRows.begin() + int64_t(i) * cols,
              oddRows.begin() + int64_t(i + 1) * cols, yr);
    exactSoftmaxRow(yr, cols);
  }
}

} // namespace

void registerAttentionFastPath(KernelRegistry &r) {
  KernelEntry e;
  e.name = "attention";
  e.impl = KernelImpl::Fast;
  e.fn = attentionFast;
  e.accepts = [](const KernelArgs &a) { return attnShape(a).has_value(); };
  r.add(std::move(e));
  KernelEntry sm;
  sm.name = "softmax";
  sm.impl = KernelImpl::Fast;
  sm.fn = softmaxFast;
  sm.accepts = softmaxAccepts;
  r.add(std::move(sm));
}

} // namespace loom::rt

#else // !LOOM_HAVE_DNNL

namespace loom::rt {
/// oneDNN is unavailable: the reference runs.
void registerAttentionFastPath(KernelRegistry &) {}
} // namespace loom::rt

#endif
