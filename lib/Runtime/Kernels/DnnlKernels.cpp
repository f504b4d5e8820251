//===- DnnlKernels.cpp - oneDNN fast paths ---------------------------------===//
//
// f32 fast paths backed by oneDNN 2.x (v2 API: op descriptor, then primitive
// descriptor): Conv, ConvTranspose, MatMul, Gemm, MaxPool, AveragePool,
// BatchNormalization (inference) and LayerNormalization; and the fused ops
// fused_conv and fused_matmul (docs/fused-ops.md), whose epilogue activation
// becomes an eltwise post-op (the reference runs when oneDNN has no exact
// equivalent, e.g. hard_sigmoid).
//
// Each kernel has a `plan` function that checks the call and builds the
// oneDNN primitive descriptor; it returns nothing when oneDNN cannot express
// the call exactly as ONNX defines it. `accepts` is "a plan exists". Plans,
// their primitives, the scratch buffers of layout reorders and the reordered
// weights are cached per thread (DnnlCache.h): the first call of a signature
// (usually `accepts` at load time) plans, later calls only execute.
//
// Convolutions let oneDNN choose the memory layouts (format_tag::any), which
// selects its direct/depthwise/winograd kernels instead of gemm-based ones:
// activations are reordered from/to the caller's plain NCHW buffers on every
// call, weights once (kept in the cache, revalidated against a snapshot).
//
// Compiled only when the runtime build found oneDNN (LOOM_HAVE_DNNL).
//
//===----------------------------------------------------------------------===//
#include "Families.h"

#if defined(LOOM_HAVE_DNNL) && LOOM_HAVE_DNNL

#include "DnnlUtil.h"
#include "FusedUtil.h"
#include "Gemv.h"
#include "NNUtil.h"
#include "VecEpilogue.h"

#include <optional>
#include <unordered_map>

namespace loom::rt {
namespace nn {
namespace {

using dnnl::memory;
using Dims = memory::dims;

using dnnlutil::anyLayout;
using dnnlutil::cpuEngine;
using dnnlutil::cpuStream;
using dnnlutil::ReorderedWeights;
using dnnlutil::setThreads;
using dnnlutil::wrap;

/// A dense row-major f32 memory descriptor of `shape` (rank >= 1).
memory::desc plainDesc(const Shape &shape) {
  const std::vector<int64_t> st = stridesOf(shape);
  Dims dims(shape.begin(), shape.end()), strides(st.begin(), st.end());
  return memory::desc(dims, memory::data_type::f32, strides);
}

/// Whether every present input/output in [0, n) of `a` is f32.
bool allF32(const KernelArgs &a) {
  for (const TensorRef &t : a.inputs)
    if (t.present && t.data && t.dtype != DType::F32)
      return false;
  for (const TensorRef &t : a.outputs)
    if (t.present && t.data && t.dtype != DType::F32)
      return false;
  return true;
}

/// Runs `prim` with `args` on at most `threads` threads and waits.
void run(int threads, const dnnl::primitive &prim,
         const std::unordered_map<int, memory> &args) {
  setThreads(threads);
  prim.execute(cpuStream(), args);
  cpuStream().wait();
}

using dnnlcache::Entry;
using dnnlcache::ThreadCache;

/// The cached execution state of the call `a` of kernel `tag` (made by
/// `make(a)`, a std::shared_ptr<E>, on the first call of its signature).
template <typename E, typename Make>
std::shared_ptr<E> cachedExec(const char *tag, const KernelArgs &a, Make make) {
  setThreads(a.threads);
  return ThreadCache::current().get<E>(dnnlcache::callKey(tag, a),
                                       [&] { return make(a); });
}

/// As cachedExec, for an entry holding input 1 (the weights) reordered: one
/// entry per signature and weights address.
template <typename E, typename Make>
std::shared_ptr<E> cachedWeightsExec(const char *tag, const KernelArgs &a, Make make) {
  setThreads(a.threads);
  return ThreadCache::current().get<E>(dnnlcache::weightsCallKey(tag, a, 1),
                                       [&] { return make(a); });
}

/// A plan of type P and its primitive of type Prim (built once).
/// Every plan holds its primitive descriptor as `pd`.
template <typename P> const auto &pdOf(const P &p) { return p.pd; }

template <typename P, typename Prim> struct SimpleExec : Entry {
  std::optional<P> plan;
  Prim prim;
};

template <typename P, typename Prim, typename PlanFn>
std::shared_ptr<SimpleExec<P, Prim>> makeSimple(const KernelArgs &a, PlanFn planFn) {
  auto e = std::make_shared<SimpleExec<P, Prim>>();
  e->plan = planFn(a);
  if (e->plan)
    e->prim = Prim(pdOf(*e->plan));
  return e;
}

/// Throws the error a fast kernel reports when called without a plan.
[[noreturn]] void noPlan(const char *K) {
  fail(K, "oneDNN fast path called for a call it does not accept");
}

//===----------------------------------------------------------------------===//
// Conv / ConvTranspose
//===----------------------------------------------------------------------===//

struct ConvPlan {
  dnnl::convolution_forward::primitive_desc pd;
  memory::desc src, wei, bias, dst;
  bool hasBias = false;
};

bool activationPd(const KernelArgs &a, const memory::desc &dst,
                  std::optional<dnnl::eltwise_forward::primitive_desc> &out);

/// The conv plan of `a` with primitive attributes `attr` (post-ops of the
/// fused_conv epilogue). `src`, `wei`, `dst` are always the caller's plain
/// layouts; with `any`, the primitive chooses its own (pd.*_desc()).
std::optional<ConvPlan> planConvAttr(const KernelArgs &a, const dnnl::primitive_attr &attr,
                                     bool any) {
  if (!allF32(a) || a.inputs.size() < 2 || a.outputs.empty())
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &w = a.inputs[1], &y = a.outputs[0];
  const TensorRef *b = optInput(a, 2);
  if (x.rank() < 3 || x.rank() > 5 || w.rank() != x.rank() || y.rank() != x.rank())
    return std::nullopt;
  ConvGeometry g;
  try {
    g = convGeometry(a.attrs, x.shape, w.shape, y.shape, "conv");
  } catch (const KernelError &) {
    return std::nullopt;
  }
  const size_t n = x.rank() - 2;
  Dims strides, dil, pl, pr;
  for (size_t i = 3 - n; i < 3; ++i) {
    const int64_t ext = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const int64_t right = (g.out[i] - 1) * g.strides[i] + ext - g.in[i] - g.padBegin[i];
    // oneDNN takes a negative right padding as cropping (ONNX floor division
    // drops the last rows) or extension (ConvTranspose output_padding).
    if (g.padBegin[i] < 0)
      return std::nullopt;
    strides.push_back(g.strides[i]);
    dil.push_back(g.dilations[i] - 1);
    pl.push_back(g.padBegin[i]);
    pr.push_back(right);
  }
  // The output must have the size ONNX defines for these pads.
  Window win = readWindow(a.attrs, n, "conv", Shape(w.shape.begin() + 2, w.shape.end()));
  applyAutoPad(win, a.attrs, Shape(x.shape.begin() + 2, x.shape.end()), "conv");
  for (size_t i = 0; i < n; ++i) {
    const int64_t ext = (win.kernel[i] - 1) * win.dilations[i] + 1;
    const int64_t expect =
        (x.shape[2 + i] + win.pads[i] + win.pads[n + i] - ext) / win.strides[i] + 1;
    if (expect != y.shape[2 + i])
      return std::nullopt;
  }
  ConvPlan p;
  p.src = plainDesc(x.shape);
  p.dst = plainDesc(y.shape);
  if (g.group == 1) {
    p.wei = plainDesc(w.shape);
  } else {
    Shape gw = {g.group, w.shape[0] / g.group};
    gw.insert(gw.end(), w.shape.begin() + 1, w.shape.end());
    p.wei = plainDesc(gw);
  }
  p.hasBias = b != nullptr;
  if (b) {
    if (b->numElements() != y.shape[1])
      return std::nullopt;
    p.bias = plainDesc({y.shape[1]});
  }
  try {
    const memory::desc src = any ? anyLayout(p.src) : p.src, wei = any ? anyLayout(p.wei) : p.wei,
                       dst = any ? anyLayout(p.dst) : p.dst;
    dnnl::convolution_forward::desc d =
        p.hasBias ? dnnl::convolution_forward::desc(
                        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                        src, wei, p.bias, dst, strides, dil, pl, pr)
                  : dnnl::convolution_forward::desc(
                        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                        src, wei, dst, strides, dil, pl, pr);
    p.pd = dnnl::convolution_forward::primitive_desc(d, attr, cpuEngine(), true);
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
  if (!p.pd)
    return std::nullopt;
  return p;
}

/// A conv call ready to run: the primitive, the reorders of the activations
/// between the caller's plain layout and the primitive's, and the weights.
struct ConvExec : Entry {
  std::optional<ConvPlan> plan;
  /// A 1x1, stride-1, unpadded, ungrouped conv runs as GEMMs on the plain
  /// NCHW buffers (no layout reorders): Y[n] = W · X[n], in blocks of
  /// columns small enough to stay in cache until bias and activation are
  /// applied in one AVX2 pass (vec::biasActivateRows); without AVX2, or
  /// for an activation that pass does not compute, one GEMM per image onto
  /// the bias written first (beta = 1), then oneDNN's eltwise (or the
  /// scalar activation where oneDNN has none, e.g. hard_sigmoid). On one
  /// pixel (squeeze-excite) the GEMM is a matrix-vector product (Gemv.h).
  bool pointwise = false;
  fused::Activation epilogue;
  int64_t N = 0, Cin = 0, Cout = 0, HW = 0;
  std::optional<dnnl::eltwise_forward::primitive_desc> actPd;
  dnnl::eltwise_forward act;
  dnnl::convolution_forward prim;
  bool reorderSrc = false, reorderDst = false;
  memory srcMem, dstMem;
  dnnl::reorder srcR, dstR;
  ReorderedWeights wei;
  size_t bytes() const override {
    return wei.bytes() + (reorderSrc ? srcMem.get_desc().get_size() : 0) +
           (reorderDst ? dstMem.get_desc().get_size() : 0);
  }
};

/// Plans with oneDNN's preferred layouts, else with the plain ones.
/// Whether conv call `a` is pointwise (see ConvExec::pointwise).
bool isPointwise(const KernelArgs &a) {
  const TensorRef &x = a.inputs[0], &w = a.inputs[1], &y = a.outputs[0];
  if (a.attrs.getInt("group", 1) != 1 || w.shape[1] != x.shape[1] || y.shape[1] != w.shape[0])
    return false;
  const std::string autoPad = a.attrs.getString("auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID" && !autoPad.empty())
    return false;
  const size_t n = x.rank() - 2;
  const std::vector<int64_t> strides = a.attrs.getInts("strides", std::vector<int64_t>(n, 1)),
                             pads = a.attrs.getInts("pads", std::vector<int64_t>(2 * n, 0));
  if (strides.size() != n || pads.size() != 2 * n)
    return false;
  for (size_t i = 0; i < n; ++i)
    if (w.shape[2 + i] != 1 || strides[i] != 1 || pads[i] != 0 || pads[n + i] != 0 ||
        y.shape[2 + i] != x.shape[2 + i])
      return false;
  return y.shape[0] == x.shape[0];
}

/// `fused`: `a` is a fused_conv (its activation is `attr`'s post-op).
/// `exactPostOps`: `attr` holds the activation (else only the pointwise
/// path, which applies it itself, can run the call).
std::shared_ptr<ConvExec> makeConvExec(const KernelArgs &a, const dnnl::primitive_attr &attr,
                                       bool fused = false, bool exactPostOps = true) {
  auto e = std::make_shared<ConvExec>();
  e->plan = planConvAttr(a, attr, /*any=*/false);
  if (e->plan && isPointwise(a)) {
    if (fused && !activationPd(a, plainDesc(a.outputs[0].shape), e->actPd))
      e->actPd.reset(); // no oneDNN eltwise: the scalar activation runs
    const TensorRef &x = a.inputs[0], &y = a.outputs[0];
    e->pointwise = true;
    e->N = x.shape[0];
    e->Cin = x.shape[1];
    e->Cout = y.shape[1];
    e->HW = numElements(Shape(x.shape.begin() + 2, x.shape.end()));
    if (fused)
      e->epilogue = fused::activationFromAttrs("fused_conv", a.attrs);
    if (e->actPd)
      e->act = dnnl::eltwise_forward(*e->actPd);
    return e;
  }
  e->actPd.reset();
  if (!exactPostOps) {
    e->plan.reset();
    return e;
  }
  e->plan = planConvAttr(a, attr, /*any=*/true);
  if (!e->plan)
    e->plan = planConvAttr(a, attr, /*any=*/false);
  if (!e->plan)
    return e;
  const ConvPlan &p = *e->plan;
  e->prim = dnnl::convolution_forward(p.pd);
  const memory::desc src = p.pd.src_desc(), dst = p.pd.dst_desc();
  e->reorderSrc = src != p.src;
  e->reorderDst = dst != p.dst;
  if (e->reorderSrc) {
    e->srcMem = memory(src, cpuEngine());
    e->srcR = dnnl::reorder(memory(p.src, cpuEngine(), DNNL_MEMORY_NONE), e->srcMem);
  }
  if (e->reorderDst) {
    e->dstMem = memory(dst, cpuEngine());
    e->dstR = dnnl::reorder(e->dstMem, memory(p.dst, cpuEngine(), DNNL_MEMORY_NONE));
  }
  e->wei.init(p.wei, p.pd.weights_desc());
  return e;
}

std::shared_ptr<ConvExec> convExec(const KernelArgs &a) {
  return cachedWeightsExec<ConvExec>("conv", a, [](const KernelArgs &c) {
    return makeConvExec(c, dnnl::primitive_attr());
  });
}

/// Runs a conv on the buffers of `a`.
void runConv(KernelArgs &a, ConvExec &e, const char *K) {
  if (!e.plan)
    noPlan(K);
  const ConvPlan &p = *e.plan;
  setThreads(a.threads);
  if (e.pointwise) {
    const float *x = a.inputs[0].as<float>(), *w = a.inputs[1].as<float>();
    const float *b = p.hasBias ? a.inputs[2].as<float>() : nullptr;
    float *y = a.outputs[0].as<float>();
    const bool vecEpilogue = vec::hasAvx2Fma() && vec::vectorActivation(e.epilogue.kind);
    if (e.HW == 1) {
      for (int64_t n = 0; n < e.N; ++n) {
        float *yn = y + n * e.Cout;
        gemv::matrixTimesVec(w, x + n * e.Cin, e.Cout, e.Cin, yn);
        if (vecEpilogue) {
          vec::biasActivateRow(yn, e.Cout, b, e.epilogue);
        } else {
          if (b)
            for (int64_t c = 0; c < e.Cout; ++c)
              yn[c] += b[c];
          fused::applyActivation(e.epilogue, yn, e.Cout);
        }
      }
      return;
    }
    // Columns per block: about 128 KiB of Y (in L2 for the epilogue; fewer
    // GEMM calls than blocks that fit L1).
    const int64_t block =
        vecEpilogue ? std::clamp<int64_t>((32768 / e.Cout) & ~int64_t(15), 64, e.HW) : e.HW;
    for (int64_t n = 0; n < e.N; ++n) {
      float *yn = y + n * e.Cout * e.HW;
      const float *xn = x + n * e.Cin * e.HW;
      if (b && !vecEpilogue)
        for (int64_t c = 0; c < e.Cout; ++c)
          std::fill(yn + c * e.HW, yn + (c + 1) * e.HW, b[c]);
      for (int64_t j = 0; j < e.HW; j += block) {
        const int64_t cols = std::min(block, e.HW - j);
        if (dnnl_sgemm('N', 'N', e.Cout, cols, e.Cin, 1.0f, w, e.Cin, xn + j, e.HW,
                       b && !vecEpilogue ? 1.0f : 0.0f, yn + j, e.HW) != dnnl_success)
          fail(K, "dnnl_sgemm failed");
        if (vecEpilogue && (b || e.epilogue.kind != fused::Act::None))
          vec::biasActivateRows(yn + j, e.Cout, cols, e.HW, b, e.epilogue);
      }
    }
    if (e.actPd && !vecEpilogue) {
      memory ym = wrap(e.actPd->src_desc(), y);
      e.act.execute(cpuStream(), {{DNNL_ARG_SRC, ym}, {DNNL_ARG_DST, ym}});
      cpuStream().wait();
    } else if (!vecEpilogue) {
      fused::applyActivation(e.epilogue, y, e.N * e.Cout * e.HW);
    }
    return;
  }
  dnnl::stream &st = cpuStream();
  memory userSrc = wrap(p.src, a.inputs[0].data), userDst = wrap(p.dst, a.outputs[0].data);
  if (e.reorderSrc)
    e.srcR.execute(st, userSrc, e.srcMem);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, e.reorderSrc ? e.srcMem : userSrc},
      {DNNL_ARG_WEIGHTS, e.wei.get(a.inputs[1].data)},
      {DNNL_ARG_DST, e.reorderDst ? e.dstMem : userDst}};
  if (p.hasBias)
    args[DNNL_ARG_BIAS] = wrap(p.bias, a.inputs[2].data);
  e.prim.execute(st, args);
  if (e.reorderDst)
    e.dstR.execute(st, e.dstMem, userDst);
  st.wait();
}

void convFast(KernelArgs &a) { runConv(a, *convExec(a), "conv"); }

struct DeconvPlan {
  dnnl::deconvolution_forward::primitive_desc pd;
  memory::desc src, wei, bias, dst;
  bool hasBias = false;
};

std::optional<DeconvPlan> planDeconv(const KernelArgs &a) {
  if (!allF32(a) || a.inputs.size() < 2 || a.outputs.empty())
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &w = a.inputs[1], &y = a.outputs[0];
  const TensorRef *b = optInput(a, 2);
  if (x.rank() < 3 || x.rank() > 5 || w.rank() != x.rank() || y.rank() != x.rank())
    return std::nullopt;
  const size_t n = x.rank() - 2;
  const Attrs &at = a.attrs;
  const int64_t group = at.getInt("group", 1);
  const int64_t C = x.shape[1];
  if (group < 1 || C % group || w.shape[0] != C || y.shape[1] != w.shape[1] * group ||
      y.shape[0] != x.shape[0])
    return std::nullopt;
  Window win;
  try {
    win = readWindow(at, n, "conv_transpose", Shape(w.shape.begin() + 2, w.shape.end()));
  } catch (const KernelError &) {
    return std::nullopt;
  }
  const std::vector<int64_t> outPad = at.getInts("output_padding", std::vector<int64_t>(n, 0));
  const std::string autoPad = at.getString("auto_pad", "NOTSET");
  const std::vector<int64_t> outShapeAttr = at.getInts("output_shape");
  if (outPad.size() != n)
    return std::nullopt;
  Dims strides, dil, pl, pr;
  for (size_t i = 0; i < n; ++i) {
    const int64_t ext = (win.kernel[i] - 1) * win.dilations[i] + 1;
    const int64_t full = win.strides[i] * (x.shape[2 + i] - 1) + outPad[i] + ext;
    int64_t begin;
    if (!outShapeAttr.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      const int64_t target = !outShapeAttr.empty() ? outShapeAttr[outShapeAttr.size() - n + i]
                                                   : x.shape[2 + i] * win.strides[i];
      const int64_t total = std::max<int64_t>(0, full - target);
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (autoPad == "VALID") {
      begin = 0;
    } else if (autoPad == "NOTSET" || autoPad.empty()) {
      begin = win.pads[i];
    } else {
      return std::nullopt;
    }
    // oneDNN: dst = (src - 1) * stride + ext - pl - pr.
    const int64_t right = win.strides[i] * (x.shape[2 + i] - 1) + ext - begin - y.shape[2 + i];
    if (begin < 0)
      return std::nullopt;
    strides.push_back(win.strides[i]);
    dil.push_back(win.dilations[i] - 1);
    pl.push_back(begin);
    pr.push_back(right);
  }
  DeconvPlan p;
  p.src = plainDesc(x.shape);
  p.dst = plainDesc(y.shape);
  // ONNX W is [C, M/g, k...] = [g][C/g][M/g][k...]; oneDNN wants dims
  // [g,] OC/g, IC/g, k... : describe the ONNX memory with strides.
  const int64_t cg = C / group, mg = w.shape[1];
  const int64_t kSize = numElements(Shape(w.shape.begin() + 2, w.shape.end()));
  Dims dims, str;
  if (group > 1) {
    dims.push_back(group);
    str.push_back(cg * mg * kSize);
  }
  dims.push_back(mg);
  str.push_back(kSize);
  dims.push_back(cg);
  str.push_back(mg * kSize);
  std::vector<int64_t> ks = stridesOf(Shape(w.shape.begin() + 2, w.shape.end()));
  for (size_t i = 0; i < n; ++i) {
    dims.push_back(w.shape[2 + i]);
    str.push_back(ks[i]);
  }
  p.wei = memory::desc(dims, memory::data_type::f32, str);
  p.hasBias = b != nullptr;
  if (b) {
    if (b->numElements() != y.shape[1])
      return std::nullopt;
    p.bias = plainDesc({y.shape[1]});
  }
  try {
    auto kind = dnnl::prop_kind::forward_inference;
    auto alg = dnnl::algorithm::deconvolution_direct;
    dnnl::deconvolution_forward::desc d =
        p.hasBias ? dnnl::deconvolution_forward::desc(kind, alg, p.src, p.wei, p.bias, p.dst,
                                                      strides, dil, pl, pr)
                  : dnnl::deconvolution_forward::desc(kind, alg, p.src, p.wei, p.dst, strides,
                                                      dil, pl, pr);
    p.pd = dnnl::deconvolution_forward::primitive_desc(d, cpuEngine(), true);
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
  if (!p.pd)
    return std::nullopt;
  return p;
}

struct DeconvExec : Entry {
  std::optional<DeconvPlan> plan;
  dnnl::deconvolution_forward prim;
  ReorderedWeights wei;
  size_t bytes() const override { return wei.bytes(); }
};

std::shared_ptr<DeconvExec> deconvExec(const KernelArgs &a) {
  return cachedWeightsExec<DeconvExec>("conv_transpose", a, [](const KernelArgs &c) {
    auto e = std::make_shared<DeconvExec>();
    e->plan = planDeconv(c);
    if (e->plan) {
      e->prim = dnnl::deconvolution_forward(e->plan->pd);
      // oneDNN may not accept strided weights in every implementation:
      // reorder them into the layout the primitive chose (once).
      e->wei.init(e->plan->wei, e->plan->pd.weights_desc());
    }
    return e;
  });
}

void deconvFast(KernelArgs &a) {
  std::shared_ptr<DeconvExec> e = deconvExec(a);
  if (!e->plan)
    noPlan("conv_transpose");
  const DeconvPlan &p = *e->plan;
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, wrap(p.src, a.inputs[0].data)},
                                          {DNNL_ARG_WEIGHTS, e->wei.get(a.inputs[1].data)},
                                          {DNNL_ARG_DST, wrap(p.dst, a.outputs[0].data)}};
  if (p.hasBias)
    args[DNNL_ARG_BIAS] = wrap(p.bias, a.inputs[2].data);
  run(a.threads, e->prim, args);
}

//===----------------------------------------------------------------------===//
// MatMul / Gemm
//===----------------------------------------------------------------------===//

struct MatmulPlan {
  dnnl::matmul::primitive_desc pd;
  memory::desc a, b, c;
};

/// Builds a matmul of `ad` x `bd` -> `cd` with optional output scale and
/// sum post-op.
std::optional<dnnl::matmul::primitive_desc> matmulPd(const memory::desc &ad,
                                                     const memory::desc &bd,
                                                     const memory::desc &cd, float alpha,
                                                     bool accumulate) {
  try {
    dnnl::primitive_attr attr;
    if (alpha != 1.0f)
      attr.set_output_scales(0, {alpha});
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::desc d(ad, bd, cd);
    dnnl::matmul::primitive_desc pd(d, attr, cpuEngine(), true);
    if (!pd)
      return std::nullopt;
    return pd;
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
}

std::optional<MatmulPlan> planMatmul(const KernelArgs &a) {
  if (!allF32(a) || a.inputs.size() != 2 || a.outputs.size() != 1)
    return std::nullopt;
  Shape as = a.inputs[0].shape, bs = a.inputs[1].shape;
  const Shape &ys = a.outputs[0].shape;
  if (as.empty() || bs.empty())
    return std::nullopt;
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  const size_t rank = std::max(as.size(), bs.size());
  if (rank > 12)
    return std::nullopt;
  as.insert(as.begin(), rank - as.size(), 1);
  bs.insert(bs.begin(), rank - bs.size(), 1);
  if (as[rank - 1] != bs[rank - 2])
    return std::nullopt;
  Shape cs(rank);
  for (size_t i = 0; i + 2 < rank; ++i) {
    if (as[i] != bs[i] && as[i] != 1 && bs[i] != 1)
      return std::nullopt;
    cs[i] = std::max(as[i], bs[i]);
  }
  cs[rank - 2] = as[rank - 2];
  cs[rank - 1] = bs[rank - 1];
  if (numElements(cs) != numElements(ys) || numElements(cs) == 0)
    return std::nullopt;
  MatmulPlan p{{}, plainDesc(as), plainDesc(bs), plainDesc(cs)};
  std::optional<dnnl::matmul::primitive_desc> pd = matmulPd(p.a, p.b, p.c, 1.0f, false);
  if (!pd)
    return std::nullopt;
  p.pd = *pd;
  return p;
}

using MatmulExec = SimpleExec<MatmulPlan, dnnl::matmul>;

std::shared_ptr<MatmulExec> matmulExec(const KernelArgs &a) {
  return cachedExec<MatmulExec>("matmul", a, [](const KernelArgs &c) {
    return makeSimple<MatmulPlan, dnnl::matmul>(c, planMatmul);
  });
}

void matmulFast(KernelArgs &a) {
  std::shared_ptr<MatmulExec> e = matmulExec(a);
  if (!e->plan)
    noPlan("matmul");
  const MatmulPlan &p = *e->plan;
  run(a.threads, e->prim, {{DNNL_ARG_SRC, wrap(p.a, a.inputs[0].data)},
                           {DNNL_ARG_WEIGHTS, wrap(p.b, a.inputs[1].data)},
                           {DNNL_ARG_DST, wrap(p.c, a.outputs[0].data)}});
}

/// Gemm: Y = alpha * A' B' + beta * C. Transposes are strided views; beta*C
/// is written into Y first and added by a sum post-op.
std::optional<MatmulPlan> planGemm(const KernelArgs &a) {
  if (!allF32(a) || a.inputs.size() < 2 || a.outputs.size() != 1)
    return std::nullopt;
  const TensorRef &A = a.inputs[0], &B = a.inputs[1], &Y = a.outputs[0];
  if (A.rank() != 2 || B.rank() != 2 || Y.rank() != 2)
    return std::nullopt;
  const bool ta = a.attrs.getInt("transA", 0) != 0, tb = a.attrs.getInt("transB", 0) != 0;
  const int64_t M = ta ? A.shape[1] : A.shape[0], K = ta ? A.shape[0] : A.shape[1];
  const int64_t K2 = tb ? B.shape[1] : B.shape[0], N = tb ? B.shape[0] : B.shape[1];
  if (K != K2 || Y.shape[0] != M || Y.shape[1] != N || M * N == 0)
    return std::nullopt;
  if (const TensorRef *c = optInput(a, 2)) {
    if (c->rank() > 2)
      return std::nullopt;
    Shape cs = c->shape;
    cs.insert(cs.begin(), 2 - cs.size(), 1);
    if ((cs[0] != 1 && cs[0] != M) || (cs[1] != 1 && cs[1] != N))
      return std::nullopt;
  }
  MatmulPlan p;
  p.a = memory::desc({M, K}, memory::data_type::f32, ta ? Dims{1, M} : Dims{K, 1});
  p.b = memory::desc({K, N}, memory::data_type::f32, tb ? Dims{1, K} : Dims{N, 1});
  p.c = plainDesc(Y.shape);
  const bool accumulate = optInput(a, 2) && a.attrs.getFloat("beta", 1.0) != 0.0;
  std::optional<dnnl::matmul::primitive_desc> pd =
      matmulPd(p.a, p.b, p.c, float(a.attrs.getFloat("alpha", 1.0)), accumulate);
  if (!pd)
    return std::nullopt;
  p.pd = *pd;
  return p;
}

std::shared_ptr<MatmulExec> gemmExec(const KernelArgs &a) {
  return cachedExec<MatmulExec>("gemm", a, [](const KernelArgs &c) {
    return makeSimple<MatmulPlan, dnnl::matmul>(c, planGemm);
  });
}

void gemmFast(KernelArgs &a) {
  std::shared_ptr<MatmulExec> e = gemmExec(a);
  if (!e->plan)
    noPlan("gemm");
  const MatmulPlan *p = &*e->plan;
  const TensorRef &Y = a.outputs[0];
  const double beta = a.attrs.getFloat("beta", 1.0);
  if (const TensorRef *c = optInput(a, 2); c && beta != 0.0) {
    std::vector<double> cb = broadcastTo(*c, Y.shape, "gemm");
    float *y = Y.as<float>();
    for (size_t i = 0; i < cb.size(); ++i)
      y[i] = float(beta * cb[i]);
  }
  run(a.threads, e->prim, {{DNNL_ARG_SRC, wrap(p->a, a.inputs[0].data)},
                           {DNNL_ARG_WEIGHTS, wrap(p->b, a.inputs[1].data)},
                           {DNNL_ARG_DST, wrap(p->c, Y.data)}});
}

//===----------------------------------------------------------------------===//
// fused_conv / fused_matmul: the epilogue as post-ops
//===----------------------------------------------------------------------===//

/// Appends the epilogue activation of `a` (docs/fused-ops.md) to `ops` as an
/// eltwise post-op. False when oneDNN has no exact equivalent (hard_sigmoid,
/// clip with an infinite or reversed range) or the activation is invalid
/// (the reference kernel then reports the error).
bool appendActivation(const KernelArgs &a, dnnl::post_ops &ops);

/// The epilogue activation of `a` as a standalone in-place eltwise over
/// `dst` (`out` stays empty for no activation); false as appendActivation.
bool activationPd(const KernelArgs &a, const memory::desc &dst,
                  std::optional<dnnl::eltwise_forward::primitive_desc> &out) {
  dnnl::post_ops ops;
  if (!appendActivation(a, ops))
    return false;
  if (ops.len() == 0)
    return true;
  float scale, alpha, beta;
  dnnl::algorithm alg;
  ops.get_params_eltwise(0, scale, alg, alpha, beta);
  dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, dst, alpha, beta);
  out = dnnl::eltwise_forward::primitive_desc(d, cpuEngine());
  return true;
}

bool appendActivation(const KernelArgs &a, dnnl::post_ops &ops) {
  const std::optional<fused::Activation> act = fused::activationIfValid("fused", a.attrs);
  if (!act)
    return false;
  if (act->kind == fused::Act::None)
    return true;
  dnnl::algorithm alg;
  float alpha, beta;
  if (!dnnlutil::eltwiseOf(*act, alg, alpha, beta))
    return false;
  ops.append_eltwise(1.0f, alg, alpha, beta);
  return true;
}

std::shared_ptr<ConvExec> fusedConvExec(const KernelArgs &a) {
  return cachedWeightsExec<ConvExec>("fused_conv", a, [](const KernelArgs &c) {
    if (c.inputs.size() < 2 || c.inputs.size() > 3 || c.outputs.size() != 1)
      return std::make_shared<ConvExec>();
    if (!fused::activationIfValid("fused_conv", c.attrs))
      return std::make_shared<ConvExec>(); // the reference reports it
    dnnl::post_ops ops;
    const bool exact = appendActivation(c, ops);
    try {
      dnnl::primitive_attr attr;
      if (exact)
        attr.set_post_ops(ops);
      return makeConvExec(c, attr, /*fused=*/true, exact);
    } catch (const dnnl::error &) {
      return std::make_shared<ConvExec>();
    }
  });
}

void fusedConvFast(KernelArgs &a) { runConv(a, *fusedConvExec(a), "fused_conv"); }

struct FusedMatmulPlan {
  dnnl::matmul::primitive_desc pd;
  memory::desc a, b, c, bias;
  bool hasBias = false;
  /// The activation, run in place after the matmul: oneDNN 2.6's gemm-based
  /// matmul applies eltwise post-ops (gelu, tanh, ...) with slow scalar
  /// code, its eltwise primitive is vectorized.
  std::optional<dnnl::eltwise_forward::primitive_desc> act;
};

/// fused_matmul: transposes are strided views, alpha the output scale, the
/// bias a binary-add post-op (after the scale) and the activation an eltwise
/// primitive run in place afterwards.
std::optional<FusedMatmulPlan> planFusedMatmul(const KernelArgs &a) {
  if (!allF32(a) || a.inputs.size() < 2 || a.inputs.size() > 3 || a.outputs.size() != 1)
    return std::nullopt;
  const TensorRef &A = a.inputs[0], &B = a.inputs[1], &Y = a.outputs[0];
  const TensorRef *bias = optInput(a, 2);
  const bool ta = a.attrs.getInt("trans_a", 0) != 0, tb = a.attrs.getInt("trans_b", 0) != 0;
  if (A.rank() == 0 || B.rank() == 0 || (ta && A.rank() < 2) || (tb && B.rank() < 2))
    return std::nullopt;
  // A bias broadcasts to Y; keep to ranks where Y is the full product shape.
  if (bias && (A.rank() < 2 || B.rank() < 2))
    return std::nullopt;
  // Logical shapes (after the transposes) and the strides of the buffers.
  Shape as = A.shape, bs = B.shape;
  std::vector<int64_t> ast = stridesOf(A.shape), bst = stridesOf(B.shape);
  if (ta) {
    std::swap(as[as.size() - 2], as[as.size() - 1]);
    std::swap(ast[ast.size() - 2], ast[ast.size() - 1]);
  }
  if (tb) {
    std::swap(bs[bs.size() - 2], bs[bs.size() - 1]);
    std::swap(bst[bst.size() - 2], bst[bst.size() - 1]);
  }
  if (as.size() == 1) {
    as.insert(as.begin(), 1);
    ast.insert(ast.begin(), as[1]);
  }
  if (bs.size() == 1) {
    bs.push_back(1);
    bst.push_back(1);
  }
  const size_t rank = std::max(as.size(), bs.size());
  if (rank > 12)
    return std::nullopt;
  ast.insert(ast.begin(), rank - as.size(), numElements(as));
  as.insert(as.begin(), rank - as.size(), 1);
  bst.insert(bst.begin(), rank - bs.size(), numElements(bs));
  bs.insert(bs.begin(), rank - bs.size(), 1);
  if (as[rank - 1] != bs[rank - 2])
    return std::nullopt;
  Shape cs(rank);
  for (size_t i = 0; i + 2 < rank; ++i) {
    if (as[i] != bs[i] && as[i] != 1 && bs[i] != 1)
      return std::nullopt;
    cs[i] = std::max(as[i], bs[i]);
  }
  cs[rank - 2] = as[rank - 2];
  cs[rank - 1] = bs[rank - 1];
  if (numElements(cs) != Y.numElements() || numElements(cs) == 0)
    return std::nullopt;
  FusedMatmulPlan p;
  p.a = memory::desc(Dims(as.begin(), as.end()), memory::data_type::f32,
                     Dims(ast.begin(), ast.end()));
  p.b = memory::desc(Dims(bs.begin(), bs.end()), memory::data_type::f32,
                     Dims(bst.begin(), bst.end()));
  p.c = plainDesc(cs);
  try {
    dnnl::primitive_attr attr;
    const double alpha = a.attrs.getFloat("alpha", 1.0);
    if (alpha != 1.0)
      attr.set_output_scales(0, {float(alpha)});
    dnnl::post_ops ops;
    if (bias) {
      if (Y.shape != cs || bias->rank() > rank)
        return std::nullopt;
      Shape bsh = bias->shape;
      bsh.insert(bsh.begin(), rank - bsh.size(), 1);
      for (size_t i = 0; i < rank; ++i)
        if (bsh[i] != 1 && bsh[i] != cs[i])
          return std::nullopt;
      p.bias = plainDesc(bsh);
      p.hasBias = true;
      ops.append_binary(dnnl::algorithm::binary_add, p.bias);
    }
    if (!activationPd(a, p.c, p.act))
      return std::nullopt;
    attr.set_post_ops(ops);
    dnnl::matmul::desc d(p.a, p.b, p.c);
    p.pd = dnnl::matmul::primitive_desc(d, attr, cpuEngine(), true);
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
  if (!p.pd)
    return std::nullopt;
  return p;
}

struct FusedMatmulExec : Entry {
  std::optional<FusedMatmulPlan> plan;
  dnnl::matmul prim;
  dnnl::eltwise_forward act;
};

std::shared_ptr<FusedMatmulExec> fusedMatmulExec(const KernelArgs &a) {
  return cachedExec<FusedMatmulExec>("fused_matmul", a, [](const KernelArgs &c) {
    auto e = std::make_shared<FusedMatmulExec>();
    e->plan = planFusedMatmul(c);
    if (e->plan) {
      e->prim = dnnl::matmul(e->plan->pd);
      if (e->plan->act)
        e->act = dnnl::eltwise_forward(*e->plan->act);
    }
    return e;
  });
}

void fusedMatmulFast(KernelArgs &a) {
  std::shared_ptr<FusedMatmulExec> e = fusedMatmulExec(a);
  if (!e->plan)
    noPlan("fused_matmul");
  const FusedMatmulPlan *p = &*e->plan;
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, wrap(p->a, a.inputs[0].data)},
      {DNNL_ARG_WEIGHTS, wrap(p->b, a.inputs[1].data)},
      {DNNL_ARG_DST, wrap(p->c, a.outputs[0].data)}};
  if (p->hasBias)
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = wrap(p->bias, a.inputs[2].data);
  run(a.threads, e->prim, args);
  if (p->act) {
    memory y = wrap(p->c, a.outputs[0].data);
    run(a.threads, e->act, {{DNNL_ARG_SRC, y}, {DNNL_ARG_DST, y}});
  }
}

//===----------------------------------------------------------------------===//
// swiglu: Y = silu(X @ W1) * (X @ W3) as two matmuls with post-ops
//===----------------------------------------------------------------------===//

struct SwigluExec : Entry {
  bool plan = false; ///< Whether a plan exists.
  dnnl::matmul mm1, mm2;
  memory::desc x, w, y;
  std::vector<float> h; ///< silu(X @ W1), [M, N].
  size_t bytes() const override { return h.size() * sizeof(float); }
};

std::shared_ptr<SwigluExec> makeSwiglu(const KernelArgs &a) {
  auto e = std::make_shared<SwigluExec>();
  if (!allF32(a) || a.inputs.size() != 3 || a.outputs.size() != 1)
    return e;
  const TensorRef &x = a.inputs[0], &w1 = a.inputs[1], &w3 = a.inputs[2], &y = a.outputs[0];
  if (x.rank() < 1 || w1.rank() != 2 || w3.shape != w1.shape || x.shape.back() != w1.shape[0])
    return e;
  Shape want(x.shape.begin(), x.shape.end() - 1);
  want.push_back(w1.shape[1]);
  if (y.shape != want)
    return e;
  const int64_t K = w1.shape[0], N = w1.shape[1], M = K ? x.numElements() / K : 0;
  if (M <= 0 || N <= 0 || K <= 0)
    return e;
  e->x = plainDesc({M, K});
  e->w = plainDesc({K, N});
  e->y = plainDesc({M, N});
  try {
    dnnl::primitive_attr at1, at2;
    dnnl::post_ops ops1, ops2;
    ops1.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);
    at1.set_post_ops(ops1);
    ops2.append_binary(dnnl::algorithm::binary_mul, e->y);
    at2.set_post_ops(ops2);
    dnnl::matmul::primitive_desc pd1(dnnl::matmul::desc(e->x, e->w, e->y), at1, cpuEngine(),
                                     true);
    dnnl::matmul::primitive_desc pd2(dnnl::matmul::desc(e->x, e->w, e->y), at2, cpuEngine(),
                                     true);
    if (!pd1 || !pd2)
      return e;
    e->mm1 = dnnl::matmul(pd1);
    e->mm2 = dnnl::matmul(pd2);
  } catch (const dnnl::error &) {
    return e;
  }
  e->h.resize(size_t(M * N));
  e->plan = true;
  return e;
}

std::shared_ptr<SwigluExec> swigluExec(const KernelArgs &a) {
  return cachedExec<SwigluExec>("swiglu", a, makeSwiglu);
}

void swigluFast(KernelArgs &a) {
  std::shared_ptr<SwigluExec> e = swigluExec(a);
  if (!e->plan)
    noPlan("swiglu");
  memory x = wrap(e->x, a.inputs[0].data), h = wrap(e->y, e->h.data());
  run(a.threads, e->mm1, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, wrap(e->w, a.inputs[1].data)},
                          {DNNL_ARG_DST, h}});
  run(a.threads, e->mm2, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, wrap(e->w, a.inputs[2].data)},
                          {DNNL_ARG_DST, wrap(e->y, a.outputs[0].data)},
                          {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, h}});
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolPlan {
  dnnl::pooling_v2_forward::primitive_desc pd;
  memory::desc src, dst;
};

std::optional<PoolPlan> planPool(const KernelArgs &a, bool isMax) {
  const char *K = isMax ? "max_pool" : "average_pool";
  if (!allF32(a) || a.inputs.size() != 1 || a.outputs.empty() || optOutput(a, 1))
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.rank() < 3 || x.rank() > 5 || y.rank() != x.rank() || y.shape[0] != x.shape[0] ||
      y.shape[1] != x.shape[1] || !a.attrs.has("kernel_shape"))
    return std::nullopt;
  const size_t n = x.rank() - 2;
  Window win;
  try {
    win = readWindow(a.attrs, n, K);
    applyAutoPad(win, a.attrs, Shape(x.shape.begin() + 2, x.shape.end()), K);
  } catch (const KernelError &) {
    return std::nullopt;
  }
  const bool includePad = !isMax && a.attrs.getInt("count_include_pad", 0) != 0;
  Dims kernel, strides, dil, pl, pr;
  for (size_t i = 0; i < n; ++i) {
    const int64_t ext = (win.kernel[i] - 1) * win.dilations[i] + 1;
    // Right padding that yields the preallocated output (ceil_mode adds to
    // it). oneDNN divides count_include_pad averages by the full window, so
    // no window may reach beyond the ONNX end padding there.
    const int64_t right = (y.shape[2 + i] - 1) * win.strides[i] + ext - x.shape[2 + i] -
                          win.pads[i];
    if ((includePad && right > win.pads[n + i]))
      return std::nullopt;
    // Windows that start inside the right padding only are not ONNX's.
    if ((y.shape[2 + i] - 1) * win.strides[i] - win.pads[i] >= x.shape[2 + i])
      return std::nullopt;
    kernel.push_back(win.kernel[i]);
    strides.push_back(win.strides[i]);
    dil.push_back(win.dilations[i] - 1);
    pl.push_back(win.pads[i]);
    pr.push_back(right);
  }
  PoolPlan p{{}, plainDesc(x.shape), plainDesc(y.shape)};
  auto alg = isMax ? dnnl::algorithm::pooling_max
             : includePad ? dnnl::algorithm::pooling_avg_include_padding
                          : dnnl::algorithm::pooling_avg_exclude_padding;
  try {
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, p.src, p.dst,
                                     strides, kernel, dil, pl, pr);
    p.pd = dnnl::pooling_v2_forward::primitive_desc(d, cpuEngine(), true);
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
  if (!p.pd)
    return std::nullopt;
  return p;
}

using PoolExec = SimpleExec<PoolPlan, dnnl::pooling_v2_forward>;

std::shared_ptr<PoolExec> poolExec(const KernelArgs &a, bool isMax) {
  return cachedExec<PoolExec>(isMax ? "max_pool" : "average_pool", a,
                              [isMax](const KernelArgs &c) {
                                return makeSimple<PoolPlan, dnnl::pooling_v2_forward>(
                                    c, [isMax](const KernelArgs &d) { return planPool(d, isMax); });
                              });
}

void poolFast(KernelArgs &a, bool isMax) {
  std::shared_ptr<PoolExec> e = poolExec(a, isMax);
  if (!e->plan)
    noPlan(isMax ? "max_pool" : "average_pool");
  run(a.threads, e->prim, {{DNNL_ARG_SRC, wrap(e->plan->src, a.inputs[0].data)},
                           {DNNL_ARG_DST, wrap(e->plan->dst, a.outputs[0].data)}});
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// BatchNormalization in inference form (use_global_stats).
struct BatchNormPlan {
  dnnl::batch_normalization_forward::primitive_desc pd;
};

std::optional<BatchNormPlan> planBatchNorm(const KernelArgs &a) {
  if (!allF32(a) || a.inputs.size() != 5 || a.attrs.getInt("training_mode", 0) != 0 ||
      optOutput(a, 1) || optOutput(a, 2))
    return std::nullopt;
  const TensorRef &x = a.inputs[0];
  if (x.rank() < 2 || x.rank() > 5 || a.outputs[0].shape != x.shape)
    return std::nullopt;
  for (size_t i = 1; i < 5; ++i)
    if (!optInput(a, i) || a.inputs[i].numElements() != x.shape[1])
      return std::nullopt;
  try {
    auto flags = dnnl::normalization_flags::use_global_stats |
                 dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference,
                                              plainDesc(x.shape),
                                              float(a.attrs.getFloat("epsilon", 1e-5)), flags);
    dnnl::batch_normalization_forward::primitive_desc pd(d, cpuEngine(), true);
    if (!pd)
      return std::nullopt;
    return BatchNormPlan{pd};
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
}

using BatchNormExec = SimpleExec<BatchNormPlan, dnnl::batch_normalization_forward>;

std::shared_ptr<BatchNormExec> batchNormExec(const KernelArgs &a) {
  return cachedExec<BatchNormExec>("batch_normalization", a, [](const KernelArgs &c) {
    return makeSimple<BatchNormPlan, dnnl::batch_normalization_forward>(c, planBatchNorm);
  });
}

void batchNormFast(KernelArgs &a) {
  std::shared_ptr<BatchNormExec> e = batchNormExec(a);
  if (!e->plan)
    noPlan("batch_normalization");
  const TensorRef &x = a.inputs[0];
  memory::desc data = plainDesc(x.shape), ch = plainDesc({x.shape[1]});
  run(a.threads, e->prim,
      {{DNNL_ARG_SRC, wrap(data, x.data)},
       {DNNL_ARG_DST, wrap(data, a.outputs[0].data)},
       {DNNL_ARG_SCALE, wrap(ch, a.inputs[1].data)},
       {DNNL_ARG_SHIFT, wrap(ch, a.inputs[2].data)},
       {DNNL_ARG_MEAN, wrap(ch, a.inputs[3].data)},
       {DNNL_ARG_VARIANCE, wrap(ch, a.inputs[4].data)}});
}

/// LayerNormalization over [axis, rank), viewed as a 2-D [outer, inner]
/// problem. Scale and B must hold exactly `inner` values.
struct LayerNormPlan {
  dnnl::layer_normalization_forward::primitive_desc pd;
  memory::desc data, stat, weights;
  int64_t outer = 0, inner = 0;
  bool hasShift = false, wantStats = false;
};

std::optional<LayerNormPlan> planLayerNorm(const KernelArgs &a) {
  if (!allF32(a) || a.inputs.size() < 2 || a.outputs.empty())
    return std::nullopt;
  const TensorRef &x = a.inputs[0];
  const int64_t rank = int64_t(x.rank());
  int64_t axis = a.attrs.getInt("axis", -1);
  if (rank < 1 || axis < -rank || axis >= rank || a.outputs[0].shape != x.shape)
    return std::nullopt;
  if (axis < 0)
    axis += rank;
  LayerNormPlan p;
  p.inner = numElements(Shape(x.shape.begin() + axis, x.shape.end()));
  p.outer = p.inner ? x.numElements() / p.inner : 0;
  if (p.inner == 0 || p.outer == 0 || a.inputs[1].numElements() != p.inner)
    return std::nullopt;
  const TensorRef *b = optInput(a, 2);
  if (b && b->numElements() != p.inner)
    return std::nullopt;
  p.hasShift = b != nullptr;
  p.wantStats = optOutput(a, 1) || optOutput(a, 2);
  for (size_t i = 1; i <= 2; ++i)
    if (const TensorRef *s = optOutput(a, i); s && s->numElements() != p.outer)
      return std::nullopt;
  p.data = plainDesc({p.outer, p.inner});
  p.stat = plainDesc({p.outer});
  p.weights = plainDesc({p.inner});
  try {
    auto flags = dnnl::normalization_flags::use_scale;
    if (p.hasShift)
      flags = flags | dnnl::normalization_flags::use_shift;
    auto kind = p.wantStats ? dnnl::prop_kind::forward_training
                            : dnnl::prop_kind::forward_inference;
    dnnl::layer_normalization_forward::desc d(kind, p.data, p.stat,
                                              float(a.attrs.getFloat("epsilon", 1e-5)), flags);
    p.pd = dnnl::layer_normalization_forward::primitive_desc(d, cpuEngine(), true);
  } catch (const dnnl::error &) {
    return std::nullopt;
  }
  if (!p.pd)
    return std::nullopt;
  return p;
}

using LayerNormExec = SimpleExec<LayerNormPlan, dnnl::layer_normalization_forward>;

std::shared_ptr<LayerNormExec> layerNormExec(const KernelArgs &a) {
  return cachedExec<LayerNormExec>("layer_normalization", a, [](const KernelArgs &c) {
    return makeSimple<LayerNormPlan, dnnl::layer_normalization_forward>(c, planLayerNorm);
  });
}

void layerNormFast(KernelArgs &a) {
  std::shared_ptr<LayerNormExec> e = layerNormExec(a);
  if (!e->plan)
    noPlan("layer_normalization");
  const LayerNormPlan *p = &*e->plan;
  std::vector<float> mean(size_t(p->outer)), var(size_t(p->outer));
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, wrap(p->data, a.inputs[0].data)},
      {DNNL_ARG_DST, wrap(p->data, a.outputs[0].data)},
      {DNNL_ARG_SCALE, wrap(p->weights, a.inputs[1].data)}};
  if (p->hasShift)
    args[DNNL_ARG_SHIFT] = wrap(p->weights, a.inputs[2].data);
  if (p->wantStats) {
    args[DNNL_ARG_MEAN] = wrap(p->stat, mean.data());
    args[DNNL_ARG_VARIANCE] = wrap(p->stat, var.data());
  }
  run(a.threads, e->prim, args);
  const double eps = a.attrs.getFloat("epsilon", 1e-5);
  if (const TensorRef *m = optOutput(a, 1))
    std::copy(mean.begin(), mean.end(), m->as<float>());
  if (const TensorRef *s = optOutput(a, 2))
    for (size_t i = 0; i < var.size(); ++i)
      s->as<float>()[i] = float(1.0 / std::sqrt(double(var[i]) + eps));
}

/// Registers one fast path whose `accepts` is "a plan exists" (`exec(a)`
/// plans the call and caches the plan, so the first run finds it).
template <typename Exec>
void addFast(KernelRegistry &r, const char *name, Exec exec, KernelFn fn) {
  KernelEntry e;
  e.name = name;
  e.impl = KernelImpl::Fast;
  e.fn = std::move(fn);
  e.accepts = [exec](const KernelArgs &a) { return bool(exec(a)->plan); };
  r.add(std::move(e));
}

} // namespace
} // namespace nn

/// Registers the oneDNN fast paths.
void registerDnnlKernels(KernelRegistry &r) {
  using namespace nn;
  addFast(r, "conv", convExec, convFast);
  addFast(r, "conv_transpose", deconvExec, deconvFast);
  addFast(r, "matmul", matmulExec, matmulFast);
  addFast(r, "gemm", gemmExec, gemmFast);
  addFast(r, "fused_conv", fusedConvExec, fusedConvFast);
  addFast(r, "fused_matmul", fusedMatmulExec, fusedMatmulFast);
  addFast(r, "max_pool", [](const KernelArgs &a) { return poolExec(a, true); },
          [](KernelArgs &a) { poolFast(a, true); });
  addFast(r, "average_pool", [](const KernelArgs &a) { return poolExec(a, false); },
          [](KernelArgs &a) { poolFast(a, false); });
  addFast(r, "batch_normalization", batchNormExec, batchNormFast);
  addFast(r, "swiglu", swigluExec, swigluFast);
  addFast(r, "layer_normalization", layerNormExec, layerNormFast);
}

} // namespace loom::rt

#else // !LOOM_HAVE_DNNL

namespace loom::rt {
/// oneDNN is unavailable: no fast paths.
void registerDnnlKernels(KernelRegistry &) {}
} // namespace loom::rt

#endif // LOOM_HAVE_DNNL
