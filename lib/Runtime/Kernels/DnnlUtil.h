//===- DnnlUtil.h - What every oneDNN fast path shares ----------*- C++ -*-===//
//
// The CPU engine, the per-thread stream and thread count, memory objects over
// caller buffers, constant weights reordered into a primitive's layout, and
// the eltwise algorithm of an epilogue activation.
// Included only when the runtime build found oneDNN (LOOM_HAVE_DNNL).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_DNNLUTIL_H
#define LOOM_RUNTIME_KERNELS_DNNLUTIL_H

#include "DnnlCache.h"
#include "FusedUtil.h"

#include <oneapi/dnnl/dnnl.hpp>
#ifdef LOOM_HAVE_OPENMP
#include <omp.h>
#elif defined(LOOM_HAVE_OPENMP_API)
// libgomp's API without the compiler's OpenMP (lib/Runtime/CMakeLists.txt).
extern "C" {
void omp_set_num_threads(int);
void omp_set_dynamic(int);
int omp_get_thread_limit(void);
int omp_get_active_level(void);
int omp_get_max_active_levels(void);
}
#endif
#include <algorithm>

namespace loom::rt::dnnlutil {

/// oneDNN's eltwise algorithm and parameters computing activation `act`
/// (docs/fused-ops.md); false when it has no exact equivalent.
inline bool eltwiseOf(const fused::Activation &act, dnnl::algorithm &alg, float &alpha,
                      float &beta) {
  using Alg = dnnl::algorithm;
  alpha = beta = 0;
  switch (act.kind) {
  case fused::Act::Relu:
    alg = Alg::eltwise_relu;
    return true;
  case fused::Act::LeakyRelu: // relu with a negative slope
    alg = Alg::eltwise_relu;
    alpha = float(act.alpha);
    return true;
  case fused::Act::Clip:
    if (!std::isfinite(act.alpha) || !std::isfinite(act.beta) || act.alpha > act.beta)
      return false;
    alg = Alg::eltwise_clip_v2;
    alpha = float(act.alpha);
    beta = float(act.beta);
    return true;
  case fused::Act::Sigmoid:
    alg = Alg::eltwise_logistic;
    return true;
  case fused::Act::HardSwish:
    alg = Alg::eltwise_hardswish;
    return true;
  case fused::Act::Tanh:
    alg = Alg::eltwise_tanh;
    return true;
  case fused::Act::Gelu:
    alg = Alg::eltwise_gelu_erf;
    return true;
  case fused::Act::GeluTanh:
    alg = Alg::eltwise_gelu_tanh;
    return true;
  case fused::Act::Silu: // x * sigmoid(alpha * x)
    alg = Alg::eltwise_swish;
    alpha = 1;
    return true;
  default: // none (nothing to run), hard_sigmoid (not in oneDNN 2.6), elu
    return false;
  }
}

/// The CPU engine of every primitive.
inline dnnl::engine &cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

/// One stream per thread: the queues of a plan run kernels concurrently.
inline dnnl::stream &cpuStream() {
  static thread_local dnnl::stream s(cpuEngine());
  return s;
}

/// Sets the OpenMP thread count of this thread (oneDNN, Debian's build,
/// parallelizes with OpenMP, whose thread count is a per-thread setting:
/// each queue's worker sets its own). Also before planning: some oneDNN
/// implementations size their work split by the thread count at creation.
///
/// oneDNN splits its work for the team size it asks for and does not check
/// the one it gets, so the team must be what omp_get_max_threads() says:
/// dynamic adjustment is turned off for this thread, and the count is
/// clamped to OMP_THREAD_LIMIT and to 1 where a new team cannot be formed
/// (a call from inside the application's own parallel region, past its
/// max-active-levels). Otherwise part of a convolution would silently not
/// be computed.
inline void setThreads(int threads) {
#if defined(LOOM_HAVE_OPENMP) || defined(LOOM_HAVE_OPENMP_API)
  int n = threads > 0 ? threads : 1;
  omp_set_dynamic(0);
  n = std::min(n, std::max(1, omp_get_thread_limit()));
  if (omp_get_active_level() >= omp_get_max_active_levels())
    n = 1;
  omp_set_num_threads(n);
#else
  (void)threads;
#endif
}

/// A memory object over a caller buffer.
inline dnnl::memory wrap(const dnnl::memory::desc &d, const void *data) {
  return dnnl::memory(d, cpuEngine(), const_cast<void *>(data));
}

/// `d` with its layout left to the primitive (format_tag::any).
inline dnnl::memory::desc anyLayout(const dnnl::memory::desc &d) {
  return dnnl::memory::desc(d.dims(), d.data_type(), dnnl::memory::format_tag::any);
}

/// Weights reordered into a primitive's layout (int8 ones with the
/// compensation oneDNN keeps beside them), made again only when the caller's
/// weights change: their address or any byte, compared with a snapshot on
/// every call.
struct ReorderedWeights {
  bool needed = false;
  dnnl::memory::desc user;
  dnnl::memory mem;
  dnnl::reorder reorder;
  dnnlcache::Snapshot snap;

  /// Prepares the reorder from the caller's layout `userDesc` to the
  /// primitive's `primDesc` (none when they are the same).
  void init(const dnnl::memory::desc &userDesc, const dnnl::memory::desc &primDesc) {
    user = userDesc;
    needed = primDesc != userDesc;
    if (needed) {
      mem = dnnl::memory(primDesc, cpuEngine());
      reorder = dnnl::reorder(dnnl::memory(userDesc, cpuEngine(), DNNL_MEMORY_NONE), mem);
    }
  }
  /// The weights memory to pass to the primitive for the caller's `data`.
  dnnl::memory get(const void *data) {
    if (!needed)
      return wrap(user, data);
    const size_t n = user.get_size();
    if (!snap.matches(data, n)) {
      dnnl::memory src = wrap(user, data);
      reorder.execute(cpuStream(), src, mem);
      cpuStream().wait();
      snap.take(data, n);
    }
    return mem;
  }
  /// The snapshot and the reordered copy, for the cache's byte bound.
  size_t bytes() const { return needed ? user.get_size() + mem.get_desc().get_size() : 0; }
};

} // namespace loom::rt::dnnlutil

#endif // LOOM_RUNTIME_KERNELS_DNNLUTIL_H
