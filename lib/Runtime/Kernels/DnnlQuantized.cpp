//===- DnnlQuantized.cpp - oneDNN int8 sums of qmatmul / qconv ------------===//
//
// The integer path of the quantized kernels (docs/fused-ops.md, "Quantized
// kernels") on oneDNN 2.x int8 primitives. For a u8/i8 activation (or an f32
// one quantized to u8 at run time, `dynamic` = 1) and int8 weights without
// zero points, oneDNN computes the exact int32 sums
//   acc = Σ (a − a_zp) · w   over the reduction axes (K, or C/group · k...)
// as a matmul / convolution with s8 weights, a run-time source zero point
// and an s32 destination (no scales, no post-ops). QuantizedKernels.cpp then
// scales each sum by a_scale · w_scale, adds the bias, applies the activation
// (with the eltwise primitive here when oneDNN has it) and quantizes the
// output.
//
// Exactness: u8·s8 and s8·s8 products are summed in int32 without an
// intermediate saturating 16-bit step only with VNNI (vpdpbusd); oneDNN's
// int8 kernels for older CPUs saturate, so every call declines there. Calls
// for which oneDNN would pick a reference implementation decline too (no
// faster than the integer loop).
//
// Plans are cached per thread (DnnlCache.h). The key is the call's shapes,
// dtypes and attributes and, unlike the f32 paths, the address of the
// weights: layers of the same shape (repeated blocks of a network) each keep
// their weights reordered, once, into the primitive's layout (which carries
// oneDNN's zero-point and signed-source compensation), revalidated against a
// snapshot of the caller's bytes on every call; entries of weights no longer
// used age out of the cache (least recently used first). A matmul,
// [rows, K] x [K, N], reads A and writes the sums in the caller's plain
// layouts; a convolution lets oneDNN choose its layouts, the activation is
// reordered in and the sums out on every call.
//
// Compiled only with oneDNN (LOOM_HAVE_DNNL); without it every call declines.
//
//===----------------------------------------------------------------------===//
#include "QuantizedUtil.h"

#if defined(LOOM_HAVE_DNNL) && LOOM_HAVE_DNNL

#include "DnnlUtil.h"

#include <oneapi/dnnl/dnnl.h>
#include "NNUtil.h"

#include <string>
#include <unordered_map>

namespace loom::rt::qnt {
namespace {

using dnnl::memory;
using dnnlcache::Entry;
using dnnlcache::ThreadCache;
using dnnlutil::anyLayout;
using dnnlutil::cpuEngine;
using dnnlutil::cpuStream;
using dnnlutil::ReorderedWeights;
using dnnlutil::setThreads;
using dnnlutil::wrap;
using Dims = memory::dims;
using DataType = memory::data_type;

/// Whether oneDNN's int8 kernels sum u8/s8 products exactly on this CPU:
/// it has VNNI (AVX-512 or AVX2 form).
bool exactInt8() {
  static const bool exact = [] {
    const unsigned isa = unsigned(dnnl::get_effective_cpu_isa());
    auto has = [isa](dnnl::cpu_isa want) { return (isa & unsigned(want)) == unsigned(want); };
    return has(dnnl::cpu_isa::avx512_core_vnni) || has(dnnl::cpu_isa::avx2_vnni);
  }();
  return exact;
}

/// A dense row-major memory descriptor of `dims` with element type `t`.
memory::desc dense(const Dims &dims, DataType t) {
  Dims strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;)
    strides[i - 1] = strides[i] * dims[i];
  return memory::desc(dims, t, strides);
}

/// The element type oneDNN reads the activation of call `a` as: u8 when it
/// is quantized at run time (`dynamic`), else its own u8/s8.
DataType activationType(const KernelArgs &a) {
  if (a.attrs.getInt("dynamic", 0) != 0 || a.inputs[0].dtype == DType::U8)
    return DataType::u8;
  return DataType::s8;
}

/// The primitive attributes of every plan: the source zero point is given
/// at run time (it changes with every call in dynamic mode).
dnnl::primitive_attr zeroPointAttr() {
  dnnl::primitive_attr attr;
  attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  return attr;
}

/// Whether oneDNN chose an optimized implementation (not a reference one).
bool optimized(const dnnl::primitive_desc_base &pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) != 0;
}

/// The run-time source zero point argument over `zp`.
memory zeroPointMem(int32_t &zp) {
  return memory(memory::desc({1}, DataType::s32, memory::format_tag::a), cpuEngine(), &zp);
}

//===----------------------------------------------------------------------===//
// qmatmul: [rows, K] x [K, N] -> [rows, N] s32
//===----------------------------------------------------------------------===//

/// A planned qmatmul call (`planned` false: oneDNN cannot run it).
struct MatmulExec : Entry {
  bool planned = false;
  memory::desc a, acc; ///< The caller's plain layouts.
  dnnl::matmul prim;
  ReorderedWeights w;
  size_t bytes() const override { return w.bytes(); }
};

/// Plans the matmul of qmatmul call `a` (shapes checked by the caller): the
/// batch dimensions of A are folded into its rows, W is shared and packed
/// into oneDNN's layout (much faster than plain weights for few rows).
std::shared_ptr<MatmulExec> planMatmul(const KernelArgs &a) {
  auto e = std::make_shared<MatmulExec>();
  const Shape &ws = a.inputs[3].shape;
  const int64_t K = ws[0], N = ws[1], rows = a.inputs[0].numElements() / K;
  e->a = dense({rows, K}, activationType(a));
  e->acc = dense({rows, N}, DataType::s32);
  const memory::desc wUser = dense({K, N}, DataType::s8);
  try {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e->a, anyLayout(wUser), e->acc),
                                    zeroPointAttr(), cpuEngine(), true);
    if (!pd || !optimized(pd))
      return e;
    e->prim = dnnl::matmul(pd);
    e->w.init(wUser, pd.weights_desc());
    e->planned = true;
  } catch (const dnnl::error &) {
  }
  return e;
}

/// The cache key of call `a` of `tag`: its signature and its weights'
/// address (see the file comment).
std::string keyOf(const char *tag, const KernelArgs &a) {
  return dnnlcache::weightsCallKey(tag, a, 3);
}

/// The cached plan of qmatmul call `a` (planned on its first call).
std::shared_ptr<MatmulExec> matmulExec(const KernelArgs &a) {
  setThreads(a.threads);
  return ThreadCache::current().get<MatmulExec>(keyOf("qmatmul_int8", a),
                                                [&] { return planMatmul(a); });
}

//===----------------------------------------------------------------------===//
// qconv
//===----------------------------------------------------------------------===//

/// A planned qconv call (`planned` false: oneDNN cannot run it).
struct ConvExec : Entry {
  bool planned = false;
  memory::desc x, acc; ///< The caller's plain NC... layouts.
  dnnl::convolution_forward prim;
  bool reorderX = false, reorderAcc = false;
  memory xMem, accMem; ///< In the primitive's layouts.
  dnnl::reorder xIn, accOut;
  ReorderedWeights w;
  size_t bytes() const override {
    return w.bytes() + (reorderX ? xMem.get_desc().get_size() : 0) +
           (reorderAcc ? accMem.get_desc().get_size() : 0);
  }
};

/// Plans the convolution of qconv call `a` (geometry checked by the caller).
std::shared_ptr<ConvExec> planConv(const KernelArgs &a) {
  auto e = std::make_shared<ConvExec>();
  const TensorRef &x = a.inputs[0], &w = a.inputs[3], &y = a.outputs[0];
  const nn::ConvGeometry g = nn::convGeometry(a.attrs, x.shape, w.shape, y.shape, "qconv");
  const size_t n = x.rank() - 2;
  Dims strides, dilations, padL, padR;
  for (size_t i = 3 - n; i < 3; ++i) {
    // A negative right padding crops (Conv's floor division drops the last
    // input rows).
    const int64_t ext = (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (g.padBegin[i] < 0)
      return e;
    strides.push_back(g.strides[i]);
    dilations.push_back(g.dilations[i] - 1);
    padL.push_back(g.padBegin[i]);
    padR.push_back((g.out[i] - 1) * g.strides[i] + ext - g.in[i] - g.padBegin[i]);
  }
  e->x = dense(Dims(x.shape.begin(), x.shape.end()), activationType(a));
  e->acc = dense(Dims(y.shape.begin(), y.shape.end()), DataType::s32);
  // W [O, C/g, k...] is [g, O/g, C/g, k...] for oneDNN's grouped form.
  Dims wDims(w.shape.begin(), w.shape.end());
  if (g.group > 1) {
    wDims[0] /= g.group;
    wDims.insert(wDims.begin(), g.group);
  }
  const memory::desc wUser = dense(wDims, DataType::s8);
  try {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::convolution_direct, anyLayout(e->x),
                                      anyLayout(wUser), anyLayout(e->acc), strides, dilations,
                                      padL, padR);
    dnnl::convolution_forward::primitive_desc pd(d, zeroPointAttr(), cpuEngine(), true);
    if (!pd || !optimized(pd))
      return e;
    e->prim = dnnl::convolution_forward(pd);
    e->reorderX = pd.src_desc() != e->x;
    if (e->reorderX) {
      e->xMem = memory(pd.src_desc(), cpuEngine());
      e->xIn = dnnl::reorder(memory(e->x, cpuEngine(), DNNL_MEMORY_NONE), e->xMem);
    }
    e->reorderAcc = pd.dst_desc() != e->acc;
    if (e->reorderAcc) {
      e->accMem = memory(pd.dst_desc(), cpuEngine());
      e->accOut = dnnl::reorder(e->accMem, memory(e->acc, cpuEngine(), DNNL_MEMORY_NONE));
    }
    e->w.init(wUser, pd.weights_desc());
    e->planned = true;
  } catch (const dnnl::error &) {
  }
  return e;
}

/// The cached plan of qconv call `a` (planned on its first call).
std::shared_ptr<ConvExec> convExec(const KernelArgs &a) {
  setThreads(a.threads);
  return ThreadCache::current().get<ConvExec>(keyOf("qconv_int8", a),
                                              [&] { return planConv(a); });
}

/// Runs a planned convolution of call `a`: the activation `act` in, the
/// int32 sums out into `acc` (Y's NC... order).
void runConv(ConvExec &e, const KernelArgs &a, const Int8Activation &act, int32_t *acc) {
  dnnl::stream &st = cpuStream();
  memory x = wrap(e.x, act.data), out = wrap(e.acc, acc);
  int32_t zp = act.zeroPoint;
  if (e.reorderX)
    e.xIn.execute(st, x, e.xMem);
  e.prim.execute(st, {{DNNL_ARG_SRC, e.reorderX ? e.xMem : x},
                      {DNNL_ARG_WEIGHTS, e.w.get(a.inputs[3].data)},
                      {DNNL_ARG_DST, e.reorderAcc ? e.accMem : out},
                      {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zeroPointMem(zp)}});
  if (e.reorderAcc)
    e.accOut.execute(st, e.accMem, out);
  st.wait();
}

//===----------------------------------------------------------------------===//
// Epilogue activation: oneDNN eltwise in place
//===----------------------------------------------------------------------===//

/// A planned in-place activation over a run of floats.
struct EltwiseExec : Entry {
  bool planned = false;
  memory::desc data;
  dnnl::eltwise_forward prim;
};

} // namespace

bool dnnlActivate(const fused::Activation &act, float *data, int64_t n, int threads) {
  dnnl::algorithm alg;
  float alpha, beta;
  if (n <= 0 || !dnnlutil::eltwiseOf(act, alg, alpha, beta))
    return false;
  std::string key = "qint8_eltwise";
  for (int64_t v : {int64_t(alg), n, int64_t(threads)})
    dnnlcache::put(key, v);
  dnnlcache::put(key, alpha);
  dnnlcache::put(key, beta);
  setThreads(threads);
  std::shared_ptr<EltwiseExec> e = ThreadCache::current().get<EltwiseExec>(key, [&] {
    auto x = std::make_shared<EltwiseExec>();
    x->data = dense({n}, DataType::f32);
    try {
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, x->data, alpha,
                                    beta);
      x->prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, cpuEngine()));
      x->planned = true;
    } catch (const dnnl::error &) {
    }
    return x;
  });
  if (!e->planned)
    return false;
  try {
    memory m = wrap(e->data, data);
    e->prim.execute(cpuStream(), {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
    cpuStream().wait();
    return true;
  } catch (const dnnl::error &) {
    return false;
  }
}

bool dnnlInt8Accepts(const KernelArgs &a, bool conv) {
  if (!exactInt8())
    return false;
  return conv ? convExec(a)->planned : matmulExec(a)->planned;
}

bool dnnlInt8Sums(const KernelArgs &a, bool conv, const Int8Activation &act, int32_t *acc) {
  if (!exactInt8())
    return false;
  try {
    if (conv) {
      std::shared_ptr<ConvExec> e = convExec(a);
      if (!e->planned)
        return false;
      runConv(*e, a, act, acc);
      return true;
    }
    std::shared_ptr<MatmulExec> e = matmulExec(a);
    if (!e->planned)
      return false;
    int32_t zp = act.zeroPoint;
    e->prim.execute(cpuStream(), {{DNNL_ARG_SRC, wrap(e->a, act.data)},
                               {DNNL_ARG_WEIGHTS, e->w.get(a.inputs[3].data)},
                               {DNNL_ARG_DST, wrap(e->acc, acc)},
                               {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zeroPointMem(zp)}});
    cpuStream().wait();
    return true;
  } catch (const dnnl::error &) {
    return false;
  }
}

bool dnnlSgemm(int threads, int64_t M, int64_t N, int64_t K, const float *A, const float *B,
               float *C) {
  setThreads(threads);
  return dnnl_sgemm('N', 'N', M, N, K, 1.0f, A, K, B, N, 0.0f, C, N) == dnnl_success;
}

} // namespace loom::rt::qnt

#else // !LOOM_HAVE_DNNL

namespace loom::rt::qnt {
bool dnnlActivate(const fused::Activation &, float *, int64_t, int) { return false; }
bool dnnlInt8Accepts(const KernelArgs &, bool) { return false; }
bool dnnlInt8Sums(const KernelArgs &, bool, const Int8Activation &, int32_t *) { return false; }
bool dnnlSgemm(int, int64_t, int64_t, int64_t, const float *, const float *, float *) {
  return false;
}
} // namespace loom::rt::qnt

#endif // LOOM_HAVE_DNNL
