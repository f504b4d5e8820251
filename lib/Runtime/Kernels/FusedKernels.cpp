//===- FusedKernels.cpp - Kernels of the fused ops (docs/fused-ops.md) ----===//
//
// Reference kernels (f32) for the ops the fusion passes produce:
// fused_conv, fused_conv_transpose, fused_gemm, fused_matmul (an ONNX-level
// reference kernel looked up in the registry, then the epilogue activation
// in place), rms_norm, group_norm, skip_layer_norm, skip_rms_norm, gelu, silu,
// attention and swiglu. fused_elementwise lives in FusedElementwise.cpp.
//
// docs/fused-ops.md is the contract: kernel names, operand order, attribute
// names, defaults and semantics.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "FusedUtil.h"
#include "KernelUtil.h"
#include "NNUtil.h"
#include "VecEpilogue.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace loom::rt {

//===----------------------------------------------------------------------===//
// Epilogue activations
//===----------------------------------------------------------------------===//

namespace fused {

Activation parseActivation(std::string_view kernel, const std::string &name,
                           double alpha, double beta) {
  auto pick = [](double v, double dflt) { return std::isnan(v) ? dflt : v; };
  const double inf = std::numeric_limits<double>::infinity();
  Activation a;
  if (name == "none")
    a.kind = Act::None;
  else if (name == "relu")
    a.kind = Act::Relu;
  else if (name == "leaky_relu")
    a = {Act::LeakyRelu, pick(alpha, 0.01), 0};
  else if (name == "clip")
    a = {Act::Clip, pick(alpha, -inf), pick(beta, inf)};
  else if (name == "sigmoid")
    a.kind = Act::Sigmoid;
  else if (name == "hard_sigmoid")
    a = {Act::HardSigmoid, pick(alpha, 0.2), pick(beta, 0.5)};
  else if (name == "hard_swish")
    a.kind = Act::HardSwish;
  else if (name == "tanh")
    a.kind = Act::Tanh;
  else if (name == "gelu")
    a.kind = Act::Gelu;
  else if (name == "gelu_tanh")
    a.kind = Act::GeluTanh;
  else if (name == "silu")
    a.kind = Act::Silu;
  else
    kern::fail(kernel, "unknown activation '" + name + "'");
  return a;
}

Activation activationFromAttrs(std::string_view kernel, const Attrs &attrs) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return parseActivation(
      kernel, attrs.getString("activation", "none"),
      attrs.has("activation_alpha") ? attrs.getFloat("activation_alpha", 0) : nan,
      attrs.has("activation_beta") ? attrs.getFloat("activation_beta", 0) : nan);
}

void applyActivation(const Activation &act, float *data, int64_t n) {
  switch (act.kind) {
  case Act::None:
    return;
  case Act::Relu:
    for (int64_t i = 0; i < n; ++i)
      data[i] = data[i] > 0.0f ? data[i] : 0.0f;
    return;
  default:
    for (int64_t i = 0; i < n; ++i)
      data[i] = float(activate(act, double(data[i])));
    return;
  }
}

void applyActivation(std::string_view kernel, const std::string &name,
                     double alpha, double beta, float *data, int64_t n) {
  applyActivation(parseActivation(kernel, name, alpha, beta), data, n);
}

bool broadcastsTo(const Shape &from, const Shape &to) {
  if (from.size() > to.size())
    return false;
  const size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[off + i])
      return false;
  return true;
}

} // namespace fused

namespace {
using namespace fused;
using kern::fail;
using kern::shapeStr;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Every present input and output must be f32 (the passes fuse f32 graphs
/// only).
void checkF32(const char *k, const KernelArgs &a) {
  for (size_t i = 0; i < a.inputs.size(); ++i)
    if (a.inputs[i].present && a.inputs[i].dtype != DType::F32)
      fail(k, "input " + std::to_string(i) + " has dtype " +
                  dtypeName(a.inputs[i].dtype) + ", expected f32");
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (a.outputs[i].present && a.outputs[i].dtype != DType::F32)
      fail(k, "output " + std::to_string(i) + " has dtype " +
                  dtypeName(a.outputs[i].dtype) + ", expected f32");
}

/// Runs the registered kernel `ref` on `ins`/`outs`: its fast path (e.g.
/// oneDNN) when one accepts the call, else its reference. Its errors are
/// re-thrown prefixed with the fused kernel's name `k`.
void callReference(const char *k, const char *ref, const Attrs &attrs,
                   std::vector<TensorRef> ins, std::vector<TensorRef> outs,
                   int threads = 1) {
  KernelArgs args{attrs, std::move(ins), std::move(outs), std::max(1, threads)};
  const KernelRegistry &registry = KernelRegistry::global();
  const KernelEntry *e = nullptr;
  try {
    e = registry.lookup(ref, args, /*allowFast=*/true);
  } catch (const KernelError &) {
    e = registry.lookup(ref, args, /*allowFast=*/false);
  }
  if (!e)
    fail(k, std::string("kernel '") + ref + "' is not registered");
  try {
    e->fn(args);
  } catch (const KernelError &err) {
    throw KernelError{std::string(k) + ": " + err.message};
  }
}

using fused::broadcastsTo;

/// A view of a dense f32 buffer.
TensorRef viewOf(const Shape &shape, float *data) {
  return TensorRef{DType::F32, shape, data, true};
}

/// `t` with its last two dimensions swapped, copied into `store`.
TensorRef transposeLast2(const char *k, const char *what, const TensorRef &t,
                         std::vector<float> &store) {
  if (t.rank() < 2)
    fail(k, std::string(what) + " has shape " + shapeStr(t.shape) +
                ": transposing needs rank >= 2");
  Shape s = t.shape;
  const size_t r = s.size();
  const int64_t rows = s[r - 2], cols = s[r - 1], plane = rows * cols;
  store.assign(size_t(t.numElements()), 0.0f);
  const float *src = t.as<float>();
  const int64_t batch = plane ? t.numElements() / plane : 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        store[size_t(b * plane + j * rows + i)] = src[b * plane + i * cols + j];
  std::swap(s[r - 2], s[r - 1]);
  return viewOf(s, store.data());
}

//===----------------------------------------------------------------------===//
// Producers with an epilogue
//===----------------------------------------------------------------------===//

/// fused_conv / fused_conv_transpose / fused_gemm: the ONNX op's reference
/// kernel `ref`, then the activation over the whole result.
void producerWithEpilogue(const char *k, const char *ref, KernelArgs &a) {
  kern::checkArity(k, a, 2, 3, 1, 1);
  checkF32(k, a);
  const Activation act = activationFromAttrs(k, a.attrs);
  const TensorRef &y = a.outputs[0];
  callReference(k, ref, a.attrs, a.inputs, {y}, a.threads);
  applyActivation(act, y.as<float>(), y.numElements());
}

/// fused_matmul: Y = act(alpha * (A' @ B') + bias).
void fusedMatmul(KernelArgs &a) {
  const char *k = "fused_matmul";
  kern::checkArity(k, a, 2, 3, 1, 1);
  checkF32(k, a);
  const Activation act = activationFromAttrs(k, a.attrs);
  const bool ta = a.attrs.getInt("trans_a", 0) != 0;
  const bool tb = a.attrs.getInt("trans_b", 0) != 0;
  const double alpha = a.attrs.getFloat("alpha", 1.0);
  std::vector<float> aStore, bStore;
  TensorRef A = a.inputs[0], B = a.inputs[1];
  if (ta)
    A = transposeLast2(k, "A (trans_a = 1)", A, aStore);
  if (tb)
    B = transposeLast2(k, "B (trans_b = 1)", B, bStore);
  const TensorRef &Y = a.outputs[0];
  // Validate the bias before any work.
  const TensorRef *bias = kern::hasInput(a, 2) ? &a.inputs[2] : nullptr;
  if (bias && !broadcastsTo(bias->shape, Y.shape))
    fail(k, "bias of shape " + shapeStr(bias->shape) +
                " does not broadcast to the product's shape " + shapeStr(Y.shape));
  callReference(k, "matmul", a.attrs, {A, B}, {Y}, a.threads);
  float *y = Y.as<float>();
  const int64_t n = Y.numElements();
  if (alpha != 1.0) {
    const float fa = float(alpha);
    for (int64_t i = 0; i < n; ++i)
      y[i] *= fa;
  }
  if (bias) {
    const float *pb = bias->as<float>();
    std::array<std::vector<int64_t>, 1> strides = {
        kern::broadcastStrides(bias->shape, Y.shape)};
    kern::forEachBroadcast<1>(Y.shape, strides, [&](int64_t o, const auto &off) {
      y[o] += pb[off[0]];
    });
  }
  applyActivation(act, y, n);
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// y = x / sqrt(mean(x^2 over [axis, rank)) + eps) * scale over a dense
/// buffer of `shape`; `scale` broadcasts (numpy) to `shape`. `y` may alias
/// `x`.
void rmsNormCore(const char *k, const float *x, const Shape &shape,
                 const TensorRef &scale, int64_t axisAttr, double eps, float *y) {
  const int64_t rank = int64_t(shape.size());
  if (rank == 0)
    fail(k, "X must have rank >= 1");
  const int64_t axis = kern::normalizeAxis(k, axisAttr, rank);
  const Shape innerShape(shape.begin() + axis, shape.end());
  const int64_t inner = numElements(innerShape), total = numElements(shape);
  const int64_t outer = inner ? total / inner : 0;
  // A scale no longer than the normalized shape repeats for every row.
  const bool perRow = scale.rank() > innerShape.size();
  const std::vector<double> sc =
      nn::broadcastTo(scale, perRow ? shape : innerShape, k);
  for (int64_t r = 0; r < outer; ++r) {
    const float *xr = x + r * inner;
    double ss = 0;
    for (int64_t i = 0; i < inner; ++i)
      ss += double(xr[i]) * double(xr[i]);
    const double inv = 1.0 / std::sqrt(ss / double(inner) + eps);
    const double *sr = sc.data() + (perRow ? r * inner : 0);
    float *yr = y + r * inner;
    for (int64_t i = 0; i < inner; ++i)
      yr[i] = float(double(xr[i]) * inv * sr[i]);
  }
}

/// rms_norm(X, scale) -> Y.
void rmsNorm(KernelArgs &a) {
  const char *k = "rms_norm";
  kern::checkArity(k, a, 2, 2, 1, 1);
  checkF32(k, a);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  kern::checkShape(k, "Y", y, x.shape);
  rmsNormCore(k, x.as<float>(), x.shape, a.inputs[1], a.attrs.getInt("axis", -1),
              a.attrs.getFloat("epsilon", 1e-6), y.as<float>());
}

/// group_norm(X, scale, bias) -> Y.
void groupNorm(KernelArgs &a) {
  const char *k = "group_norm";
  kern::checkArity(k, a, 3, 3, 1, 1);
  checkF32(k, a);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.rank() < 2)
    fail(k, "X must be [N, C, D1, ...], got shape " + shapeStr(x.shape));
  if (!a.attrs.has("num_groups"))
    fail(k, "missing required attribute num_groups");
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t G = a.attrs.getInt("num_groups", 1);
  if (G < 1 || C % G != 0)
    fail(k, "num_groups " + std::to_string(G) + " does not divide the " +
                std::to_string(C) + " channels");
  kern::checkShape(k, "scale", a.inputs[1], {C});
  kern::checkShape(k, "bias", a.inputs[2], {C});
  kern::checkShape(k, "Y", y, x.shape);
  const double eps = a.attrs.getFloat("epsilon", 1e-5);
  const int64_t spatial = N * C != 0 ? x.numElements() / (N * C) : 0;
  const int64_t cpg = C / G, groupSize = cpg * spatial;
  if (groupSize == 0)
    return;
  const float *px = x.as<float>(), *scale = a.inputs[1].as<float>(),
              *bias = a.inputs[2].as<float>();
  float *py = y.as<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      const int64_t base = (n * C + g * cpg) * spatial;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < groupSize; ++i)
        mean += px[base + i];
      mean /= double(groupSize);
      for (int64_t i = 0; i < groupSize; ++i) {
        const double d = px[base + i] - mean;
        var += d * d;
      }
      var /= double(groupSize);
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t c = 0; c < cpg; ++c) {
        const int64_t ch = g * cpg + c, off = base + c * spatial;
        const double mul = inv * scale[ch], add = bias[ch];
        for (int64_t i = 0; i < spatial; ++i)
          py[off + i] = float((px[off + i] - mean) * mul + add);
      }
    }
}

/// Sum = X + S into the Sum output when present, else into `tmp`; returns
/// the buffer. Checks the shapes common to both skip norms.
float *skipSum(const char *k, const KernelArgs &a, std::vector<float> &tmp) {
  const TensorRef &x = a.inputs[0], &s = a.inputs[1];
  kern::checkShape(k, "S", s, x.shape);
  kern::checkShape(k, "Y", a.outputs[0], x.shape);
  float *sum;
  if (kern::hasOutput(a, 1)) {
    kern::checkShape(k, "Sum", a.outputs[1], x.shape);
    sum = a.outputs[1].as<float>();
  } else {
    tmp.resize(size_t(x.numElements()));
    sum = tmp.data();
  }
  const float *px = x.as<float>(), *ps = s.as<float>();
  for (int64_t i = 0, n = x.numElements(); i < n; ++i)
    sum[i] = px[i] + ps[i];
  return sum;
}

/// skip_layer_norm(X, S, scale, bias?) -> (Y, Sum?).
void skipLayerNorm(KernelArgs &a) {
  const char *k = "skip_layer_norm";
  kern::checkArity(k, a, 3, 4, 1, 2);
  checkF32(k, a);
  if (a.inputs[0].rank() == 0)
    fail(k, "X must have rank >= 1");
  std::vector<float> tmp;
  float *sum = skipSum(k, a, tmp);
  std::vector<TensorRef> ins = {viewOf(a.inputs[0].shape, sum), a.inputs[2]};
  if (kern::hasInput(a, 3))
    ins.push_back(a.inputs[3]);
  callReference(k, "layer_normalization", a.attrs, std::move(ins), {a.outputs[0]},
                a.threads);
}

/// skip_rms_norm(X, S, scale) -> (Y, Sum?).
void skipRmsNorm(KernelArgs &a) {
  const char *k = "skip_rms_norm";
  kern::checkArity(k, a, 3, 3, 1, 2);
  checkF32(k, a);
  std::vector<float> tmp;
  float *sum = skipSum(k, a, tmp);
  rmsNormCore(k, sum, a.inputs[0].shape, a.inputs[2], a.attrs.getInt("axis", -1),
              a.attrs.getFloat("epsilon", 1e-6), a.outputs[0].as<float>());
}

//===----------------------------------------------------------------------===//
// Activations as ops
//===----------------------------------------------------------------------===//

/// Y = act(X) elementwise.
void unaryActivation(const char *k, KernelArgs &a, const Activation &act) {
  kern::checkArity(k, a, 1, 1, 1, 1);
  checkF32(k, a);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  kern::checkShape(k, "Y", y, x.shape);
  const float *px = x.as<float>();
  float *py = y.as<float>();
  for (int64_t i = 0, n = x.numElements(); i < n; ++i)
    py[i] = float(activate(act, double(px[i])));
}

void gelu(KernelArgs &a) {
  const std::string approx = a.attrs.getString("approximate", "none");
  Activation act;
  if (approx == "none")
    act.kind = Act::Gelu;
  else if (approx == "tanh")
    act.kind = Act::GeluTanh;
  else
    fail("gelu", "unknown approximate '" + approx + "' (expected none or tanh)");
  unaryActivation("gelu", a, act);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// attention(Q, K, V, mask?) -> Y.
void attention(KernelArgs &a) {
  const char *k = "attention";
  kern::checkArity(k, a, 3, 4, 1, 1);
  checkF32(k, a);
  const TensorRef &q = a.inputs[0], &kt = a.inputs[1], &v = a.inputs[2],
                  &y = a.outputs[0];
  if (q.rank() != 4 || kt.rank() != 4 || v.rank() != 4)
    fail(k, "Q, K and V must have rank 4, got " + shapeStr(q.shape) + ", " +
                shapeStr(kt.shape) + ", " + shapeStr(v.shape));
  const bool kT = a.attrs.getInt("k_transposed", 0) != 0;
  const int64_t B = q.shape[0], Hq = q.shape[1], Sq = q.shape[2], D = q.shape[3];
  const int64_t Hkv = kt.shape[1], Sk = kT ? kt.shape[3] : kt.shape[2],
                Dk = kT ? kt.shape[2] : kt.shape[3], Dv = v.shape[3];
  if (kt.shape[0] != B || Dk != D)
    fail(k, std::string("K has shape ") + shapeStr(kt.shape) + ", expected [" +
                std::to_string(B) + ", Hkv, " +
                (kT ? std::to_string(D) + ", Sk]" : "Sk, " + std::to_string(D) + "]") +
                " for Q " + shapeStr(q.shape) + " (k_transposed = " +
                std::to_string(int(kT)) + ")");
  kern::checkShape(k, "V", v, {B, Hkv, Sk, Dv});
  if (a.attrs.has("q_heads") && a.attrs.getInt("q_heads", 0) != Hq)
    fail(k, "q_heads " + std::to_string(a.attrs.getInt("q_heads", 0)) +
                " does not match Q's head dimension " + std::to_string(Hq));
  if (a.attrs.has("kv_heads") && a.attrs.getInt("kv_heads", 0) != Hkv)
    fail(k, "kv_heads " + std::to_string(a.attrs.getInt("kv_heads", 0)) +
                " does not match K's head dimension " + std::to_string(Hkv));
  if (Hkv == 0 ? Hq != 0 : Hq % Hkv != 0)
    fail(k, "q_heads " + std::to_string(Hq) + " is not a multiple of kv_heads " +
                std::to_string(Hkv));
  kern::checkShape(k, "Y", y, {B, Hq, Sq, Dv});
  const double scale = a.attrs.has("scale")
                           ? a.attrs.getFloat("scale", 1.0)
                           : (D > 0 ? 1.0 / std::sqrt(double(D)) : 1.0);
  const Shape scoreShape = {B, Hq, Sq, Sk};
  const float *mask = nullptr;
  std::vector<int64_t> ms(4, 0);
  if (kern::hasInput(a, 3)) {
    const TensorRef &m = a.inputs[3];
    if (!broadcastsTo(m.shape, scoreShape))
      fail(k, "mask of shape " + shapeStr(m.shape) + " does not broadcast to " +
                  shapeStr(scoreShape));
    mask = m.as<float>();
    ms = kern::broadcastStrides(m.shape, scoreShape);
  }
  const int64_t group = Hkv ? Hq / Hkv : 1;
  const float *pq = q.as<float>(), *pk = kt.as<float>(), *pv = v.as<float>();
  float *py = y.as<float>();
  std::vector<double> s(static_cast<size_t>(Sk)), acc(static_cast<size_t>(Dv));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t hk = h / group;
      const float *kb = pk + (b * Hkv + hk) * Sk * D;
      const float *vb = pv + (b * Hkv + hk) * Sk * Dv;
      for (int64_t i = 0; i < Sq; ++i) {
        const float *qr = pq + ((b * Hq + h) * Sq + i) * D;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < Sk; ++j) {
          double dot = 0;
          if (kT)
            for (int64_t d = 0; d < D; ++d)
              dot += double(qr[d]) * kb[d * Sk + j];
          else
            for (int64_t d = 0; d < D; ++d)
              dot += double(qr[d]) * kb[j * D + d];
          double sj = scale * dot;
          if (mask)
            sj += mask[b * ms[0] + h * ms[1] + i * ms[2] + j * ms[3]];
          s[size_t(j)] = sj;
          if (sj > mx)
            mx = sj;
        }
        // All -inf: -inf - -inf is NaN, so the row is NaN like the unfused
        // softmax.
        double sum = 0;
        for (int64_t j = 0; j < Sk; ++j)
          sum += (s[size_t(j)] = std::exp(s[size_t(j)] - mx));
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < Sk; ++j) {
          const double p = s[size_t(j)] / sum;
          const float *vr = vb + j * Dv;
          for (int64_t d = 0; d < Dv; ++d)
            acc[size_t(d)] += p * vr[d];
        }
        float *yr = py + ((b * Hq + h) * Sq + i) * Dv;
        for (int64_t d = 0; d < Dv; ++d)
          yr[d] = float(acc[size_t(d)]);
      }
    }
}

//===----------------------------------------------------------------------===//
// Gated MLP
//===----------------------------------------------------------------------===//

/// swiglu(X, W1, W3) -> Y = silu(X @ W1) * (X @ W3).
void swiglu(KernelArgs &a) {
  const char *k = "swiglu";
  kern::checkArity(k, a, 3, 3, 1, 1);
  checkF32(k, a);
  const TensorRef &x = a.inputs[0], &w1 = a.inputs[1], &w3 = a.inputs[2],
                  &y = a.outputs[0];
  if (x.rank() < 1 || w1.rank() != 2)
    fail(k, "X must be [..., K] and W1 [K, N], got " + shapeStr(x.shape) +
                " and " + shapeStr(w1.shape));
  if (x.shape.back() != w1.shape[0])
    fail(k, "X " + shapeStr(x.shape) + " and W1 " + shapeStr(w1.shape) +
                " disagree on K");
  kern::checkShape(k, "W3", w3, w1.shape);
  Shape want(x.shape.begin(), x.shape.end() - 1);
  want.push_back(w1.shape[1]);
  kern::checkShape(k, "Y", y, want);
  const size_t n = size_t(y.numElements());
  std::vector<float> h1(n), h3(n);
  callReference(k, "matmul", a.attrs, {x, w1}, {viewOf(want, h1.data())}, a.threads);
  callReference(k, "matmul", a.attrs, {x, w3}, {viewOf(want, h3.data())}, a.threads);
  const Activation silu{Act::Silu, 0, 0};
  float *py = y.as<float>();
  for (size_t i = 0; i < n; ++i)
    py[i] = float(activate(silu, double(h1[i]))) * h3[i];
}

} // namespace

void registerFusedKernels(KernelRegistry &r) {
  using kern::addReference;
  addReference(r, "fused_conv",
               [](KernelArgs &a) { producerWithEpilogue("fused_conv", "conv", a); });
  addReference(r, "fused_conv_transpose", [](KernelArgs &a) {
    producerWithEpilogue("fused_conv_transpose", "conv_transpose", a);
  });
  addReference(r, "fused_gemm",
               [](KernelArgs &a) { producerWithEpilogue("fused_gemm", "gemm", a); });
  addReference(r, "fused_matmul", fusedMatmul);
  addReference(r, "rms_norm", rmsNorm);
  addReference(r, "group_norm", groupNorm);
  addReference(r, "skip_layer_norm", skipLayerNorm);
  addReference(r, "skip_rms_norm", skipRmsNorm);
  addReference(r, "gelu", gelu);
  addReference(r, "silu", [](KernelArgs &a) {
    unaryActivation("silu", a, Activation{Act::Silu, 0, 0});
  });
  // silu with a vectorized f32 exp (VecEpilogue.h), on CPUs with AVX2.
  r.add(KernelEntry{"silu", {}, KernelImpl::Fast,
                    [](KernelArgs &a) {
                      vec::siluAvx2(a.inputs[0].as<float>(), a.outputs[0].as<float>(),
                                    a.outputs[0].numElements());
                    },
                    [](const KernelArgs &a) {
                      return vec::hasAvx2Fma() && a.inputs.size() == 1 &&
                             a.outputs.size() == 1 && a.inputs[0].present &&
                             a.inputs[0].dtype == DType::F32 && a.outputs[0].present &&
                             a.outputs[0].dtype == DType::F32 &&
                             a.outputs[0].shape == a.inputs[0].shape;
                    }});
  addReference(r, "attention", attention);
  registerAttentionFastPath(r);
  addReference(r, "swiglu", swiglu);
  registerFusedElementwiseKernels(r);
}

} // namespace loom::rt
