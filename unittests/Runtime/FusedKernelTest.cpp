//===- FusedKernelTest.cpp - The fused-op kernels against unfused chains --===//
//
// Every fused kernel of docs/fused-ops.md is run on deterministic
// pseudo-random f32 inputs and compared with the result of the existing
// unfused reference kernels run in sequence (e.g. "conv" then "relu";
// "matmul", "mul", "add", "sigmoid"; pow/reduce_mean/add/sqrt/div/mul for
// rms_norm; matmul/mul/add/softmax/matmul for attention), plus the error
// cases that must throw KernelError. Every kernel call runs twice into
// differently poisoned outputs (run(), Poison.h).
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Kernel.h"

#include "../Common/Poison.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace loom::rt;
using loom::test::kPoisons;

namespace {

//===----------------------------------------------------------------------===//
// Tensors and kernel calls
//===----------------------------------------------------------------------===//

Tensor makeF(Shape shape, const std::vector<float> &v) {
  Tensor t;
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  if (int64_t(v.size()) != t.numElements())
    throw std::runtime_error("makeF: wrong value count");
  t.bytes.resize(v.size() * sizeof(float));
  std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

/// A tensor of zeros (an input, or an output that run() poisons).
Tensor zeros(Shape shape) {
  Tensor t;
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  t.bytes.assign(size_t(t.numElements()) * sizeof(float), 0);
  return t;
}

Tensor scalar(float v) { return makeF({}, {v}); }

std::vector<float> vals(const Tensor &t) {
  std::vector<float> v(size_t(t.numElements()));
  std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(float));
  return v;
}

float *fdata(Tensor &t) { return reinterpret_cast<float *>(t.bytes.data()); }

/// Deterministic values uniformly in [lo, hi).
Tensor randT(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(size_t(numElements(shape)));
  uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (float &x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = lo + (hi - lo) * float(double(s >> 40) / double(1ull << 24));
  }
  return makeF(std::move(shape), v);
}

/// The same values under another shape.
Tensor reshaped(const Tensor &t, Shape shape) {
  Tensor r = t;
  r.shape = std::move(shape);
  if (r.numElements() != t.numElements())
    throw std::runtime_error("reshaped: element count differs");
  return r;
}

TensorRef absentRef() { return TensorRef{DType::F32, {}, nullptr, false}; }

/// Runs the reference kernel `name` on tensor views.
void runRefs(const std::string &name, const Attrs &attrs, std::vector<TensorRef> ins,
             std::vector<TensorRef> outs) {
  registerBuiltinKernels();
  std::vector<DType> dts;
  for (const TensorRef &t : ins)
    dts.push_back(t.dtype);
  const KernelEntry *e = KernelRegistry::global().lookupReference(name, dts);
  if (!e)
    throw std::runtime_error("no reference kernel " + name);
  KernelArgs args{attrs, std::move(ins), std::move(outs), 1};
  e->fn(args);
}

/// Runs `name`; a null input or output is absent. The kernel runs twice,
/// into outputs filled with each poison of Poison.h, and every present
/// output must come out byte-identical both times: an element the kernel
/// does not write (or that depends on the buffer's old contents) fails here.
void run(const std::string &name, const Attrs &attrs, std::vector<const Tensor *> ins,
         std::vector<Tensor *> outs) {
  std::vector<TensorRef> ir, orf, orf2;
  for (const Tensor *t : ins)
    ir.push_back(t ? const_cast<Tensor *>(t)->ref() : absentRef());
  std::vector<Tensor> second(outs.size());
  for (size_t o = 0; o < outs.size(); ++o) {
    Tensor *t = outs[o];
    if (!t) {
      orf.push_back(absentRef());
      orf2.push_back(absentRef());
      continue;
    }
    std::fill(t->bytes.begin(), t->bytes.end(), kPoisons[0]);
    second[o] = *t;
    std::fill(second[o].bytes.begin(), second[o].bytes.end(), kPoisons[1]);
    orf.push_back(t->ref());
    orf2.push_back(second[o].ref());
  }
  runRefs(name, attrs, ir, std::move(orf));
  runRefs(name, attrs, std::move(ir), std::move(orf2));
  for (size_t o = 0; o < outs.size(); ++o) {
    if (!outs[o])
      continue;
    const std::vector<uint8_t> &a = outs[o]->bytes, &b = second[o].bytes;
    auto diff = std::mismatch(a.begin(), a.end(), b.begin());
    if (diff.first != a.end())
      ADD_FAILURE() << name << ": output " << o << " element "
                    << (diff.first - a.begin()) / int64_t(dtypeSize(outs[o]->dtype))
                    << " differs between runs into differently poisoned buffers"
                       " (not written by the kernel)";
  }
}

/// Runs a one-output kernel and returns its output of shape `out`.
Tensor call(const std::string &name, const Attrs &attrs, std::vector<const Tensor *> ins,
            Shape out) {
  Tensor y = zeros(std::move(out));
  run(name, attrs, std::move(ins), {&y});
  return y;
}

Attrs mkAttrs(std::vector<std::pair<std::string, AttrValue>> kv) {
  Attrs a;
  for (auto &[k, v] : kv)
    a.set(k, v);
  return a;
}

using Ints = std::vector<int64_t>;

//===----------------------------------------------------------------------===//
// The unfused chains
//===----------------------------------------------------------------------===//

Shape broadcastShape(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor un(const std::string &op, const Tensor &x, const Attrs &at = {}) {
  return call(op, at, {&x}, x.shape);
}

Tensor bin(const std::string &op, const Tensor &a, const Tensor &b) {
  return call(op, {}, {&a, &b}, broadcastShape(a.shape, b.shape));
}

Tensor bin(const std::string &op, const Tensor &a, float b) {
  Tensor s = scalar(b);
  return bin(op, a, s);
}

Tensor transposeRef(const Tensor &x, Ints perm) {
  Shape out;
  for (int64_t p : perm)
    out.push_back(x.shape[size_t(p)]);
  return call("transpose", mkAttrs({{"perm", perm}}), {&x}, out);
}

Tensor matmulRef(const Tensor &a, const Tensor &b) {
  Shape as = a.shape, bs = b.shape;
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  Shape batch = broadcastShape(Shape(as.begin(), as.end() - 2), Shape(bs.begin(), bs.end() - 2));
  if (a.shape.size() > 1)
    batch.push_back(as[as.size() - 2]);
  if (b.shape.size() > 1)
    batch.push_back(bs.back());
  return call("matmul", {}, {&a, &b}, batch);
}

/// One entry of the epilogue table with the parameters the test uses (or
/// the defaults when `setParams` is false).
struct ActCase {
  std::string name;
  double alpha = 0, beta = 0;
  bool setParams = false;
};

std::vector<ActCase> allActivations() {
  return {{"none"},
          {"relu"},
          {"leaky_relu", 0.2, 0, true},
          {"leaky_relu", 0.01, 0, false},
          {"clip", -0.5, 0.7, true},
          {"clip", 0, 6, true}, // ReLU6
          {"sigmoid"},
          {"hard_sigmoid", 0.3, 0.4, true},
          {"hard_sigmoid", 0.2, 0.5, false},
          {"hard_swish"},
          {"tanh"},
          {"gelu"},
          {"gelu_tanh"},
          {"silu"}};
}

void addActivation(Attrs &a, const ActCase &c) {
  a.set("activation", c.name);
  if (c.setParams) {
    a.set("activation_alpha", c.alpha);
    a.set("activation_beta", c.beta);
  }
}

/// The activation as the unfused ONNX graph computes it.
Tensor unfusedAct(const ActCase &c, const Tensor &x) {
  const std::string &n = c.name;
  if (n == "none")
    return x;
  if (n == "relu" || n == "sigmoid" || n == "tanh" || n == "hard_swish")
    return un(n, x);
  if (n == "leaky_relu")
    return un(n, x, mkAttrs({{"alpha", c.alpha}}));
  if (n == "hard_sigmoid")
    return un(n, x, mkAttrs({{"alpha", c.alpha}, {"beta", c.beta}}));
  if (n == "clip") {
    Tensor lo = scalar(float(c.alpha)), hi = scalar(float(c.beta));
    return call("clip", {}, {&x, &lo, &hi}, x.shape);
  }
  if (n == "gelu") {
    Tensor e = un("erf", bin("div", x, float(std::sqrt(2.0))));
    return bin("mul", bin("mul", x, bin("add", e, 1.0f)), 0.5f);
  }
  if (n == "gelu_tanh") {
    Tensor c3 = bin("mul", bin("pow", x, 3.0f), 0.044715f);
    Tensor t = un("tanh", bin("mul", bin("add", x, c3), float(std::sqrt(2.0 / 3.14159265358979323846))));
    return bin("mul", bin("mul", x, bin("add", t, 1.0f)), 0.5f);
  }
  if (n == "silu")
    return bin("mul", x, un("sigmoid", x));
  throw std::runtime_error("unfusedAct: " + n);
}

//===----------------------------------------------------------------------===//
// Comparison and errors
//===----------------------------------------------------------------------===//

void expectClose(const Tensor &got, const Tensor &want, const std::string &what = "",
                 double rtol = 1e-5, double atol = 1e-5) {
  ASSERT_EQ(got.shape, want.shape) << what;
  std::vector<float> g = vals(got), w = vals(want);
  int bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) && std::isnan(w[i]))
      continue;
    if (!(std::fabs(double(g[i]) - double(w[i])) <= atol + rtol * std::fabs(double(w[i])))) {
      if (++bad <= 5)
        ADD_FAILURE() << what << ": element " << i << " is " << g[i] << ", expected "
                      << w[i];
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << g.size() << " elements differ";
}

/// `f` must throw a KernelError whose message contains every string of
/// `parts`.
void expectKernelError(const std::function<void()> &f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected a KernelError mentioning " << parts[0];
  } catch (const KernelError &e) {
    for (const std::string &p : parts)
      EXPECT_NE(e.message.find(p), std::string::npos)
          << "message '" << e.message << "' does not mention '" << p << "'";
  }
}

//===----------------------------------------------------------------------===//
// fused_matmul
//===----------------------------------------------------------------------===//

TEST(FusedMatmul, EveryActivation) {
  Tensor A = randT({2, 3, 5}, 1, -2, 2), B = randT({5, 4}, 2), bias = randT({4}, 3);
  Tensor prod = bin("add", matmulRef(A, B), bias);
  for (const ActCase &c : allActivations()) {
    Attrs at;
    addActivation(at, c);
    Tensor y = call("fused_matmul", at, {&A, &B, &bias}, {2, 3, 4});
    expectClose(y, unfusedAct(c, prod), "fused_matmul " + c.name);
  }
}

TEST(FusedMatmul, TransposesAlphaAndBiasBroadcast) {
  // A stored [2, 5, 3] (trans_a), B stored [4, 5] (trans_b): A' @ B' is
  // [2, 3, 4]; bias [3, 1] broadcasts along N.
  Tensor A = randT({2, 5, 3}, 4), B = randT({4, 5}, 5), bias = randT({3, 1}, 6);
  Attrs at = mkAttrs({{"trans_a", int64_t(1)},
                      {"trans_b", int64_t(1)},
                      {"alpha", 0.5},
                      {"activation", std::string("sigmoid")}});
  Tensor y = call("fused_matmul", at, {&A, &B, &bias}, {2, 3, 4});
  Tensor p = matmulRef(transposeRef(A, {0, 2, 1}), transposeRef(B, {1, 0}));
  Tensor want = un("sigmoid", bin("add", bin("mul", p, 0.5f), bias));
  expectClose(y, want, "trans_a/trans_b/alpha");

  // Only trans_b, batch broadcasting of A [2, 1, 3, 5] with B [3, 4, 5].
  Tensor A2 = randT({2, 1, 3, 5}, 7), B2 = randT({3, 4, 5}, 8), bias2 = randT({4}, 9);
  Attrs at2 = mkAttrs({{"trans_b", int64_t(1)}, {"alpha", 2.0}});
  Tensor y2 = call("fused_matmul", at2, {&A2, &B2, &bias2}, {2, 3, 3, 4});
  Tensor want2 =
      bin("add", bin("mul", matmulRef(A2, transposeRef(B2, {0, 2, 1})), 2.0f), bias2);
  expectClose(y2, want2, "batch broadcast");
}

TEST(FusedMatmul, NoBiasAndVectorOperands) {
  Tensor A = randT({5}, 10), B = randT({5, 4}, 11);
  Attrs at = mkAttrs({{"activation", std::string("relu")}});
  Tensor y = call("fused_matmul", at, {&A, &B, nullptr}, {4});
  expectClose(y, un("relu", matmulRef(A, B)), "vector @ matrix");
  Tensor y2 = call("fused_matmul", at, {&A, &B}, {4});
  expectClose(y2, un("relu", matmulRef(A, B)), "two operands");
}

//===----------------------------------------------------------------------===//
// fused_conv / fused_conv_transpose
//===----------------------------------------------------------------------===//

TEST(FusedConv, EveryActivation) {
  Tensor X = randT({1, 4, 6, 6}, 20, -2, 2), W = randT({6, 4, 3, 3}, 21, -0.5f, 0.5f),
         B = randT({6}, 22);
  Attrs convAt = mkAttrs({{"pads", Ints{1, 1, 1, 1}}, {"kernel_shape", Ints{3, 3}}});
  Tensor conv = call("conv", convAt, {&X, &W, &B}, {1, 6, 6, 6});
  for (const ActCase &c : allActivations()) {
    Attrs at = convAt;
    addActivation(at, c);
    Tensor y = call("fused_conv", at, {&X, &W, &B}, {1, 6, 6, 6});
    expectClose(y, unfusedAct(c, conv), "fused_conv " + c.name);
  }
}

TEST(FusedConv, GroupedStridedNoBias) {
  Tensor X = randT({2, 4, 7, 7}, 23), W = randT({6, 2, 3, 3}, 24);
  Attrs at = mkAttrs({{"group", int64_t(2)},
                      {"strides", Ints{2, 2}},
                      {"dilations", Ints{1, 2}},
                      {"pads", Ints{1, 0, 1, 2}}});
  // H: (7 + 2 - 3) / 2 + 1 = 4; W: (7 + 2 - 5) / 2 + 1 = 3.
  Tensor conv = call("conv", at, {&X, &W, nullptr}, {2, 6, 4, 3});
  at.set("activation", std::string("leaky_relu"));
  at.set("activation_alpha", 0.1);
  Tensor y = call("fused_conv", at, {&X, &W, nullptr}, {2, 6, 4, 3});
  expectClose(y, un("leaky_relu", conv, mkAttrs({{"alpha", 0.1}})), "grouped conv");

  // auto_pad SAME_UPPER, 1-D, depthwise.
  Tensor X1 = randT({1, 3, 9}, 25), W1 = randT({3, 1, 4}, 26), B1 = randT({3}, 27);
  Attrs at1 = mkAttrs({{"group", int64_t(3)}, {"auto_pad", std::string("SAME_UPPER")},
                       {"strides", Ints{2}}});
  Tensor conv1 = call("conv", at1, {&X1, &W1, &B1}, {1, 3, 5});
  at1.set("activation", std::string("hard_swish"));
  expectClose(call("fused_conv", at1, {&X1, &W1, &B1}, {1, 3, 5}), un("hard_swish", conv1),
              "depthwise SAME_UPPER");
}

/// The epilogue activation of the quantized kernels (what loom-fuse-epilogue
/// moves into a qconv / qmatmul): the kernel with `activation` set computes
/// the kernel without it followed by the activation's own kernel.
TEST(QuantizedEpilogue, EveryActivation) {
  Tensor X = randT({1, 3, 5, 5}, 40, -2, 2);
  Tensor W;
  W.dtype = DType::I8;
  W.shape = {4, 3, 3, 3};
  for (int64_t i = 0; i < W.numElements(); ++i)
    W.bytes.push_back(uint8_t(int8_t((i * 37) % 255 - 127)));
  Tensor S = makeF({4, 1, 1, 1}, {0.01f, 0.02f, 0.005f, 0.015f});
  Tensor Z;
  Z.dtype = DType::I8;
  Z.shape = {4, 1, 1, 1};
  Z.bytes = {3, uint8_t(int8_t(-5)), 0, 7};
  Tensor B = randT({4}, 41);
  Tensor A = randT({6, 27}, 42, -2, 2);
  Tensor Wm = W;
  Wm.shape = {27, 4};
  Tensor Sm = makeF({1, 4}, {0.01f, 0.02f, 0.005f, 0.015f}), Zm = Z;
  Zm.shape = {1, 4};
  Attrs convAt = mkAttrs({{"pads", Ints{1, 1, 1, 1}}, {"dynamic", int64_t(1)}});
  Attrs mmAt = mkAttrs({{"dynamic", int64_t(1)}});
  Tensor conv = call("qconv", convAt, {&X, nullptr, nullptr, &W, &S, &Z, &B}, {1, 4, 5, 5});
  Tensor mm = call("qmatmul", mmAt, {&A, nullptr, nullptr, &Wm, &Sm, &Zm, &B}, {6, 4});
  for (const ActCase &c : allActivations()) {
    Attrs at = convAt;
    addActivation(at, c);
    Tensor y = call("qconv", at, {&X, nullptr, nullptr, &W, &S, &Z, &B}, {1, 4, 5, 5});
    expectClose(y, unfusedAct(c, conv), "qconv " + c.name);
    Attrs am = mmAt;
    addActivation(am, c);
    Tensor ym = call("qmatmul", am, {&A, nullptr, nullptr, &Wm, &Sm, &Zm, &B}, {6, 4});
    expectClose(ym, unfusedAct(c, mm), "qmatmul " + c.name);
  }
}

TEST(FusedConvTranspose, Activations) {
  Tensor X = randT({1, 3, 4, 4}, 30), W = randT({3, 2, 3, 3}, 31), B = randT({2}, 32);
  // (4 - 1) * 2 - 2 + 3 + 1 = 8.
  Attrs at = mkAttrs({{"strides", Ints{2, 2}},
                      {"pads", Ints{1, 1, 1, 1}},
                      {"output_padding", Ints{1, 1}}});
  Tensor ct = call("conv_transpose", at, {&X, &W, &B}, {1, 2, 8, 8});
  for (const ActCase &c : {ActCase{"relu"}, ActCase{"clip", 0, 6, true}, ActCase{"gelu"},
                           ActCase{"silu"}}) {
    Attrs fat = at;
    addActivation(fat, c);
    expectClose(call("fused_conv_transpose", fat, {&X, &W, &B}, {1, 2, 8, 8}),
                unfusedAct(c, ct), "fused_conv_transpose " + c.name);
  }
  // Grouped, no bias.
  Tensor X2 = randT({2, 4, 3, 3}, 33), W2 = randT({4, 1, 2, 2}, 34);
  Attrs at2 = mkAttrs({{"group", int64_t(2)}, {"activation", std::string("tanh")}});
  Tensor ct2 = call("conv_transpose", at2, {&X2, &W2}, {2, 2, 4, 4});
  expectClose(call("fused_conv_transpose", at2, {&X2, &W2, nullptr}, {2, 2, 4, 4}),
              un("tanh", ct2), "grouped conv_transpose");
}

//===----------------------------------------------------------------------===//
// fused_gemm
//===----------------------------------------------------------------------===//

TEST(FusedGemm, TransposesAndCBroadcast) {
  // M = 3, K = 5, N = 4; A stored [K, M] (transA), B stored [N, K] (transB).
  Tensor A = randT({5, 3}, 40), B = randT({4, 5}, 41);
  Tensor Cn = randT({4}, 42), Cm = randT({3, 1}, 43), Cs = randT({1}, 44);
  for (const Tensor *C : std::vector<const Tensor *>{&Cn, &Cm, &Cs, nullptr}) {
    Attrs at = mkAttrs({{"transA", int64_t(1)},
                        {"transB", int64_t(1)},
                        {"alpha", 0.7},
                        {"beta", 1.3}});
    Tensor gemm = call("gemm", at, {&A, &B, C}, {3, 4});
    for (const ActCase &c : {ActCase{"tanh"}, ActCase{"relu"}, ActCase{"hard_sigmoid", 0.2, 0.5},
                             ActCase{"gelu_tanh"}}) {
      Attrs fat = at;
      addActivation(fat, c);
      expectClose(call("fused_gemm", fat, {&A, &B, C}, {3, 4}), unfusedAct(c, gemm),
                  "fused_gemm " + c.name);
    }
  }
  // Plain layout; C [3, 4] full.
  Tensor A2 = randT({3, 5}, 45), B2 = randT({5, 4}, 46), C2 = randT({3, 4}, 47);
  Tensor gemm2 = call("gemm", {}, {&A2, &B2, &C2}, {3, 4});
  expectClose(call("fused_gemm", mkAttrs({{"activation", std::string("sigmoid")}}),
                   {&A2, &B2, &C2}, {3, 4}),
              un("sigmoid", gemm2), "plain gemm");
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// rms_norm as the unfused graph computes it over the trailing axes from
/// `axis`.
Tensor unfusedRms(const Tensor &x, const Tensor &scale, int64_t axis, float eps) {
  int64_t rank = int64_t(x.shape.size());
  if (axis < 0)
    axis += rank;
  Ints axes;
  for (int64_t d = axis; d < rank; ++d)
    axes.push_back(d);
  Shape keep = x.shape;
  for (int64_t d : axes)
    keep[size_t(d)] = 1;
  Tensor sq = bin("pow", x, 2.0f);
  Tensor m = call("reduce_mean", mkAttrs({{"axes", axes}, {"keepdims", int64_t(1)}}), {&sq},
                  keep);
  Tensor rms = un("sqrt", bin("add", m, eps));
  return bin("mul", bin("div", x, rms), scale);
}

TEST(RmsNorm, LastAxisAndEarlierAxis) {
  Tensor x = randT({2, 3, 8}, 50, -3, 3), s8 = randT({8}, 51);
  expectClose(call("rms_norm", {}, {&x, &s8}, x.shape), unfusedRms(x, s8, -1, 1e-6f),
              "axis -1");
  Tensor s34 = randT({3, 8}, 52);
  Attrs at = mkAttrs({{"axis", int64_t(1)}, {"epsilon", 1e-3}});
  expectClose(call("rms_norm", at, {&x, &s34}, x.shape), unfusedRms(x, s34, 1, 1e-3f),
              "axis 1");
  // A negative earlier axis; scale [1, 8] broadcasts over axis -2.
  Tensor s18 = randT({1, 8}, 53);
  Attrs at2 = mkAttrs({{"axis", int64_t(-2)}});
  expectClose(call("rms_norm", at2, {&x, &s18}, x.shape), unfusedRms(x, s18, -2, 1e-6f),
              "axis -2");
}

TEST(SkipRmsNorm, SumPresentAndAbsent) {
  Tensor x = randT({2, 3, 8}, 54), s = randT({2, 3, 8}, 55), scale = randT({8}, 56);
  Tensor sum = bin("add", x, s);
  Tensor want = unfusedRms(sum, scale, -1, 1e-6f);
  Tensor y = zeros(x.shape), sumOut = zeros(x.shape);
  run("skip_rms_norm", {}, {&x, &s, &scale}, {&y, &sumOut});
  expectClose(y, want, "Y");
  expectClose(sumOut, sum, "Sum");
  Tensor y2 = zeros(x.shape);
  run("skip_rms_norm", {}, {&x, &s, &scale}, {&y2, nullptr});
  expectClose(y2, want, "Y without Sum");
  Tensor y3 = zeros(x.shape);
  run("skip_rms_norm", {}, {&x, &s, &scale}, {&y3});
  expectClose(y3, want, "Y, one output");
  // Earlier axis.
  Tensor scale2 = randT({3, 8}, 57);
  Attrs at = mkAttrs({{"axis", int64_t(1)}, {"epsilon", 1e-4}});
  run("skip_rms_norm", at, {&x, &s, &scale2}, {&y, nullptr});
  expectClose(y, unfusedRms(sum, scale2, 1, 1e-4f), "axis 1");
}

TEST(SkipLayerNorm, BiasSumAndAxes) {
  Tensor x = randT({2, 3, 8}, 60), s = randT({2, 3, 8}, 61), scale = randT({8}, 62),
         bias = randT({8}, 63);
  Tensor sum = bin("add", x, s);
  Tensor want = call("layer_normalization", {}, {&sum, &scale, &bias}, x.shape);
  Tensor y = zeros(x.shape), sumOut = zeros(x.shape);
  run("skip_layer_norm", {}, {&x, &s, &scale, &bias}, {&y, &sumOut});
  expectClose(y, want, "Y");
  expectClose(sumOut, sum, "Sum");
  // No bias, no Sum.
  Tensor wantNb = call("layer_normalization", {}, {&sum, &scale}, x.shape);
  Tensor y2 = zeros(x.shape);
  run("skip_layer_norm", {}, {&x, &s, &scale, nullptr}, {&y2, nullptr});
  expectClose(y2, wantNb, "no bias");
  // axis 1 with epsilon.
  Tensor scale2 = randT({3, 8}, 64), bias2 = randT({3, 8}, 65);
  Attrs at = mkAttrs({{"axis", int64_t(1)}, {"epsilon", 1e-3}});
  Tensor want2 = call("layer_normalization", at, {&sum, &scale2, &bias2}, x.shape);
  run("skip_layer_norm", at, {&x, &s, &scale2, &bias2}, {&y2});
  expectClose(y2, want2, "axis 1");
}

/// group_norm through reshape + instance_normalization + mul + add.
Tensor unfusedGroupNorm(const Tensor &x, const Tensor &scale, const Tensor &bias,
                        int64_t G, double eps) {
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t rest = x.numElements() / (N * G);
  Tensor xg = reshaped(x, {N, G, rest});
  std::vector<float> ones(size_t(G), 1.0f), zs(size_t(G), 0.0f);
  Tensor one = makeF({G}, ones), zero = makeF({G}, zs);
  Tensor ng = call("instance_normalization", mkAttrs({{"epsilon", eps}}), {&xg, &one, &zero},
                   xg.shape);
  Shape chShape = {C};
  for (size_t d = 2; d < x.shape.size(); ++d)
    chShape.push_back(1);
  return bin("add", bin("mul", reshaped(ng, x.shape), reshaped(scale, chShape)),
             reshaped(bias, chShape));
}

TEST(GroupNorm, GroupCounts) {
  Tensor x = randT({2, 6, 3, 4}, 70, -2, 3), scale = randT({6}, 71), bias = randT({6}, 72);
  for (int64_t G : {1, 2, 3, 6}) {
    Attrs at = mkAttrs({{"num_groups", G}});
    expectClose(call("group_norm", at, {&x, &scale, &bias}, x.shape),
                unfusedGroupNorm(x, scale, bias, G, 1e-5), "G = " + std::to_string(G));
  }
  // 1-D spatial, explicit epsilon.
  Tensor x1 = randT({3, 4, 5}, 73), s1 = randT({4}, 74), b1 = randT({4}, 75);
  Attrs at = mkAttrs({{"num_groups", int64_t(2)}, {"epsilon", 1e-2}});
  expectClose(call("group_norm", at, {&x1, &s1, &b1}, x1.shape),
              unfusedGroupNorm(x1, s1, b1, 2, 1e-2), "1-D spatial");
}

//===----------------------------------------------------------------------===//
// gelu, silu, swiglu
//===----------------------------------------------------------------------===//

TEST(ActivationOps, GeluAndSilu) {
  Tensor x = randT({3, 17}, 80, -4, 4);
  expectClose(call("gelu", {}, {&x}, x.shape), unfusedAct({"gelu"}, x), "gelu");
  expectClose(call("gelu", mkAttrs({{"approximate", std::string("none")}}), {&x}, x.shape),
              unfusedAct({"gelu"}, x), "gelu none");
  expectClose(call("gelu", mkAttrs({{"approximate", std::string("tanh")}}), {&x}, x.shape),
              unfusedAct({"gelu_tanh"}, x), "gelu tanh");
  expectClose(call("silu", {}, {&x}, x.shape), unfusedAct({"silu"}, x), "silu");
}

TEST(Swiglu, MatchesUnfused) {
  Tensor x = randT({2, 3, 6}, 81), w1 = randT({6, 5}, 82), w3 = randT({6, 5}, 83);
  Tensor h1 = matmulRef(x, w1), h3 = matmulRef(x, w3);
  Tensor want = bin("mul", bin("mul", h1, un("sigmoid", h1)), h3);
  expectClose(call("swiglu", {}, {&x, &w1, &w3}, {2, 3, 5}), want, "swiglu");
  Tensor xv = randT({6}, 84);
  Tensor g1 = matmulRef(xv, w1), g3 = matmulRef(xv, w3);
  expectClose(call("swiglu", {}, {&xv, &w1, &w3}, {5}),
              bin("mul", bin("mul", g1, un("sigmoid", g1)), g3), "swiglu vector");
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

/// Unfused attention: matmul(Q, K^T) * scale + mask, softmax, matmul with V.
/// K is [B, H, Sk, D] with H = Q's heads.
Tensor unfusedAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                        const Tensor *mask, float scale) {
  Tensor s = bin("mul", matmulRef(q, transposeRef(k, {0, 1, 3, 2})), scale);
  if (mask)
    s = bin("add", s, *mask);
  Tensor p = call("softmax", mkAttrs({{"axis", int64_t(-1)}}), {&s}, s.shape);
  return matmulRef(p, v);
}

/// [B, H, S, D] -> [B, H * rep, S, D], head j being head j / rep.
Tensor repeatHeads(const Tensor &t, int64_t rep) {
  const int64_t B = t.shape[0], H = t.shape[1], plane = t.shape[2] * t.shape[3];
  Tensor out = zeros({B, H * rep, t.shape[2], t.shape[3]});
  std::vector<float> src = vals(t);
  float *dst = fdata(out);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H * rep; ++j)
      std::memcpy(dst + (b * H * rep + j) * plane, src.data() + (b * H + j / rep) * plane,
                  size_t(plane) * sizeof(float));
  return out;
}

Attrs attnAttrs(double scale, int64_t hq, int64_t hkv, int64_t kT = 0) {
  return mkAttrs({{"scale", scale},
                  {"q_heads", hq},
                  {"kv_heads", hkv},
                  {"k_transposed", kT}});
}

TEST(Attention, MultiHeadWithAndWithoutMask) {
  const int64_t B = 2, H = 4, Sq = 3, Sk = 5, D = 8, Dv = 6;
  Tensor q = randT({B, H, Sq, D}, 90, -2, 2), k = randT({B, H, Sk, D}, 91, -2, 2),
         v = randT({B, H, Sk, Dv}, 92);
  const float scale = 1.0f / std::sqrt(float(D));
  Tensor y = call("attention", attnAttrs(scale, H, H), {&q, &k, &v}, {B, H, Sq, Dv});
  expectClose(y, unfusedAttention(q, k, v, nullptr, scale), "no mask");
  Tensor y0 = call("attention", attnAttrs(scale, H, H), {&q, &k, &v, nullptr}, {B, H, Sq, Dv});
  expectClose(y0, unfusedAttention(q, k, v, nullptr, scale), "absent mask");

  // Mask [B, 1, Sq, Sk] with some -inf entries (causal-like).
  Tensor mask = randT({B, 1, Sq, Sk}, 93);
  float *m = fdata(mask);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Sq; ++i)
      for (int64_t j = i + 3; j < Sk; ++j)
        m[(b * Sq + i) * Sk + j] = -std::numeric_limits<float>::infinity();
  Tensor ym = call("attention", attnAttrs(0.3, H, H), {&q, &k, &v, &mask}, {B, H, Sq, Dv});
  expectClose(ym, unfusedAttention(q, k, v, &mask, 0.3f), "mask [B, 1, Sq, Sk]");

  // Mask [Sk] broadcast.
  Tensor mask2 = randT({Sk}, 94, -3, 3);
  Tensor ym2 = call("attention", attnAttrs(scale, H, H), {&q, &k, &v, &mask2}, {B, H, Sq, Dv});
  expectClose(ym2, unfusedAttention(q, k, v, &mask2, scale), "mask [Sk]");

  // A fully masked row is NaN, like the unfused graph.
  Tensor mask3 = zeros({Sq, Sk});
  for (int64_t j = 0; j < Sk; ++j)
    fdata(mask3)[j] = -std::numeric_limits<float>::infinity();
  Tensor ym3 = call("attention", attnAttrs(scale, H, H), {&q, &k, &v, &mask3}, {B, H, Sq, Dv});
  expectClose(ym3, unfusedAttention(q, k, v, &mask3, scale), "fully masked row");
  EXPECT_TRUE(std::isnan(vals(ym3)[0]));
  EXPECT_FALSE(std::isnan(vals(ym3)[size_t(Dv)])); // row 1 is not masked
}

TEST(Attention, GroupedQueryAndTransposedK) {
  const int64_t B = 2, Hq = 8, Hkv = 2, Sq = 4, Sk = 7, D = 5, Dv = 3;
  Tensor q = randT({B, Hq, Sq, D}, 100, -2, 2), k = randT({B, Hkv, Sk, D}, 101, -2, 2),
         v = randT({B, Hkv, Sk, Dv}, 102);
  Tensor mask = randT({B, Hq, Sq, Sk}, 103);
  Tensor want = unfusedAttention(q, repeatHeads(k, Hq / Hkv), repeatHeads(v, Hq / Hkv), &mask,
                                 0.4f);
  Tensor y = call("attention", attnAttrs(0.4, Hq, Hkv), {&q, &k, &v, &mask}, {B, Hq, Sq, Dv});
  expectClose(y, want, "GQA");

  Tensor kt = transposeRef(k, {0, 1, 3, 2});
  Tensor yt =
      call("attention", attnAttrs(0.4, Hq, Hkv, 1), {&q, &kt, &v, &mask}, {B, Hq, Sq, Dv});
  expectClose(yt, want, "GQA k_transposed");

  // Multi-head with k_transposed, no mask.
  Tensor k4 = randT({B, Hq, Sk, D}, 104), v4 = randT({B, Hq, Sk, Dv}, 105);
  Tensor k4t = transposeRef(k4, {0, 1, 3, 2});
  expectClose(call("attention", attnAttrs(0.5, Hq, Hq, 1), {&q, &k4t, &v4}, {B, Hq, Sq, Dv}),
              unfusedAttention(q, k4, v4, nullptr, 0.5f), "MHA k_transposed");
}

//===----------------------------------------------------------------------===//
// fused_elementwise
//===----------------------------------------------------------------------===//

/// Builds a body program.
struct Body {
  int64_t numInputs;
  std::vector<std::string> ops;
  Ints argc, args, paramc, results;
  std::vector<double> params;

  explicit Body(int64_t n) : numInputs(n) {}
  /// Appends an instruction; returns its value number.
  int64_t add(const std::string &op, Ints operands, std::vector<double> ps = {}) {
    ops.push_back(op);
    argc.push_back(int64_t(operands.size()));
    args.insert(args.end(), operands.begin(), operands.end());
    paramc.push_back(int64_t(ps.size()));
    params.insert(params.end(), ps.begin(), ps.end());
    return numInputs + int64_t(ops.size()) - 1;
  }
  Attrs attrs() const {
    return mkAttrs({{"body_ops", ops},
                    {"body_argc", argc},
                    {"body_args", args},
                    {"body_paramc", paramc},
                    {"body_params", params},
                    {"body_results", results}});
  }
};

Tensor clipRef(const Tensor &x, float lo, float hi) {
  Tensor l = scalar(lo), h = scalar(hi);
  return call("clip", {}, {&x, &l, &h}, x.shape);
}

TEST(FusedElementwise, BroadcastTree) {
  Tensor i0 = randT({2, 3, 4}, 110, -2, 2), i1 = randT({4}, 111, -2, 2),
         i2 = randT({3, 1}, 112, -2, 2);
  Body b(3);
  int64_t m = b.add("mul", {0, 1});
  int64_t s = b.add("add", {m, 2});
  int64_t g = b.add("sigmoid", {s});
  int64_t m2 = b.add("mul", {g, 0});
  int64_t c = b.add("clip", {m2}, {-0.2, 0.3});
  b.results = {c};
  Tensor vs = bin("add", bin("mul", i0, i1), i2);
  Tensor want = clipRef(bin("mul", un("sigmoid", vs), i0), -0.2f, 0.3f);
  expectClose(call("fused_elementwise", b.attrs(), {&i0, &i1, &i2}, {2, 3, 4}), want,
              "one result");

  // Two results: the clip and the intermediate add.
  b.results = {c, s};
  Tensor r0 = zeros({2, 3, 4}), r1 = zeros({2, 3, 4});
  run("fused_elementwise", b.attrs(), {&i0, &i1, &i2}, {&r0, &r1});
  expectClose(r0, want, "result 0");
  expectClose(r1, vs, "result 1");

  // Inputs in another order: the full-shape input last; rank-0 input.
  Tensor i3 = scalar(0.75f);
  Body b2(4);
  int64_t x = b2.add("sub", {2, 0});   // [3,1] - [4]
  int64_t y = b2.add("div", {x, 3});   // / scalar
  int64_t z = b2.add("max", {y, 1});   // max with [2,3,4]
  b2.results = {z, 0};                 // a result that is an input
  Tensor q0 = zeros({2, 3, 4}), q1 = zeros({2, 3, 4});
  run("fused_elementwise", b2.attrs(), {&i1, &i0, &i2, &i3}, {&q0, &q1});
  expectClose(q0, bin("max", bin("div", bin("sub", i2, i1), i3), i0), "reordered");
  expectClose(q1, bin("add", i1, zeros({2, 3, 4})), "input as result");
}

TEST(FusedElementwise, BlocksAndMiddleBroadcast) {
  // 3 * 37 * 29 = 3219 elements: several blocks, not a multiple of 1024.
  Tensor i0 = randT({3, 37, 29}, 120, -2, 2), i1 = randT({29}, 121), i2 = randT({37, 1}, 122),
         i3 = randT({3, 1, 29}, 123), i4 = randT({1}, 124);
  Body b(5);
  int64_t v = b.add("sub", {0, 1});
  v = b.add("mul", {v, 2});
  v = b.add("add", {v, 3});
  int64_t t = b.add("tanh", {v});
  int64_t w = b.add("min", {t, 4});
  int64_t e = b.add("exp", {w});
  b.results = {e, v};
  Tensor r0 = zeros({3, 37, 29}), r1 = zeros({3, 37, 29});
  run("fused_elementwise", b.attrs(), {&i0, &i1, &i2, &i3, &i4}, {&r0, &r1});
  Tensor wv = bin("add", bin("mul", bin("sub", i0, i1), i2), i3);
  expectClose(r1, wv, "add chain");
  expectClose(r0, un("exp", bin("min", un("tanh", wv), i4)), "exp(min(tanh))");

  // Output broader than every input: [37, 1] x [3, 1, 29].
  Body b2(2);
  b2.results = {b2.add("mul", {0, 1})};
  expectClose(call("fused_elementwise", b2.attrs(), {&i2, &i3}, {3, 37, 29}), bin("mul", i2, i3),
              "outer product broadcast");
}

TEST(FusedElementwise, EveryBodyOp) {
  Tensor x = randT({5, 7}, 130, -3, 3), y = randT({7}, 131, -2, 2);
  Tensor xp = randT({5, 7}, 132, 0.1f, 2.5f); // for log, sqrt, pow
  for (const std::string op : {"abs", "neg", "exp", "log", "sqrt", "reciprocal", "relu",
                               "sigmoid", "tanh", "erf", "floor", "ceil", "sin", "cos",
                               "softplus", "hard_swish", "identity"}) {
    const Tensor &in = (op == "log" || op == "sqrt") ? xp : x;
    Body b(1);
    b.results = {b.add(op, {0})};
    expectClose(call("fused_elementwise", b.attrs(), {&in}, in.shape), un(op, in), op);
  }
  for (const std::string op : {"gelu", "gelu_tanh", "silu"}) {
    Body b(1);
    b.results = {b.add(op, {0})};
    expectClose(call("fused_elementwise", b.attrs(), {&x}, x.shape), unfusedAct({op}, x), op);
  }
  for (const std::string op : {"add", "sub", "mul", "div", "pow", "max", "min"}) {
    const Tensor &in = op == "pow" ? xp : x;
    Body b(2);
    b.results = {b.add(op, {0, 1})};
    expectClose(call("fused_elementwise", b.attrs(), {&in, &y}, in.shape), bin(op, in, y), op);
  }
  // Parametrized ops, with explicit and default parameters.
  struct PCase {
    std::string op;
    std::vector<double> params;
    std::function<Tensor(const Tensor &)> want;
  };
  std::vector<PCase> cases = {
      {"leaky_relu", {0.3}, [](const Tensor &t) { return un("leaky_relu", t, mkAttrs({{"alpha", 0.3}})); }},
      {"leaky_relu", {}, [](const Tensor &t) { return un("leaky_relu", t); }},
      {"clip", {-1.0, 0.5}, [](const Tensor &t) { return clipRef(t, -1.0f, 0.5f); }},
      {"clip", {-1.0}, [](const Tensor &t) {
         Tensor lo = scalar(-1.0f);
         return call("clip", {}, {&t, &lo}, t.shape);
       }},
      {"hard_sigmoid", {0.25, 0.6},
       [](const Tensor &t) { return un("hard_sigmoid", t, mkAttrs({{"alpha", 0.25}, {"beta", 0.6}})); }},
      {"hard_sigmoid", {}, [](const Tensor &t) { return un("hard_sigmoid", t); }},
      {"elu", {0.7}, [](const Tensor &t) { return un("elu", t, mkAttrs({{"alpha", 0.7}})); }},
      {"elu", {}, [](const Tensor &t) { return un("elu", t); }},
  };
  for (const PCase &c : cases) {
    Body b(1);
    b.results = {b.add(c.op, {0}, c.params)};
    expectClose(call("fused_elementwise", b.attrs(), {&x}, x.shape), c.want(x),
                c.op + " with " + std::to_string(c.params.size()) + " params");
  }
}

TEST(FusedElementwise, OutputAliasesInput) {
  // In place: result 0 is written over input 0 while it is still read.
  Tensor i0 = randT({5, 300}, 140), i1 = randT({300}, 141);
  Tensor want0 = un("exp", bin("mul", i0, i1)), want1 = bin("mul", i0, i1);
  Body b(2);
  int64_t m = b.add("mul", {0, 1});
  b.results = {b.add("exp", {m}), m};
  Tensor r1 = zeros({5, 300});
  runRefs("fused_elementwise", b.attrs(), {i0.ref(), i1.ref()}, {i0.ref(), r1.ref()});
  expectClose(i0, want0, "result over input");
  expectClose(r1, want1, "second result");

  // A result that is the aliased input itself keeps its value.
  Tensor j0 = randT({3, 400}, 142), j1 = randT({400}, 143);
  Tensor j0copy = j0;
  Body b2(2);
  b2.results = {b2.add("add", {0, 1}), 0};
  Tensor s1 = zeros({3, 400});
  runRefs("fused_elementwise", b2.attrs(), {j0.ref(), j1.ref()}, {j0.ref(), s1.ref()});
  expectClose(j0, bin("add", j0copy, j1), "in-place add");
  expectClose(s1, j0copy, "original input");
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(FusedErrors, UnknownActivation) {
  Tensor A = randT({2, 3}, 150), B = randT({3, 4}, 151);
  Attrs at = mkAttrs({{"activation", std::string("swish")}});
  expectKernelError([&] { call("fused_matmul", at, {&A, &B}, {2, 4}); },
                    {"fused_matmul", "swish"});
  Tensor C = randT({2, 4}, 152);
  expectKernelError([&] { call("fused_gemm", at, {&A, &B, &C}, {2, 4}); },
                    {"fused_gemm", "swish"});
  Tensor X = randT({1, 2, 4, 4}, 154), W = randT({3, 2, 3, 3}, 155);
  Attrs cat = mkAttrs({{"activation", std::string("elu")}});
  expectKernelError([&] { call("fused_conv", cat, {&X, &W}, {1, 3, 2, 2}); },
                    {"fused_conv", "elu"});
  Tensor Wt = randT({2, 3, 3, 3}, 156);
  expectKernelError([&] { call("fused_conv_transpose", cat, {&X, &Wt}, {1, 3, 6, 6}); },
                    {"fused_conv_transpose", "elu"});
  expectKernelError(
      [&] { call("gelu", mkAttrs({{"approximate", std::string("fast")}}), {&A}, A.shape); },
      {"gelu", "fast"});
}

TEST(FusedErrors, ShapeMismatches) {
  Tensor A = randT({2, 3}, 160), B = randT({4, 5}, 161), B3 = randT({3, 5}, 162);
  expectKernelError([&] { call("fused_matmul", {}, {&A, &B}, {2, 5}); }, {"fused_matmul"});
  Tensor badBias = randT({3}, 163);
  expectKernelError([&] { call("fused_matmul", {}, {&A, &B3, &badBias}, {2, 5}); },
                    {"fused_matmul", "bias"});
  expectKernelError([&] { call("fused_matmul", {}, {&A, &B3}, {2, 4}); }, {"fused_matmul"});
  Tensor vec = randT({3}, 164);
  expectKernelError(
      [&] { call("fused_matmul", mkAttrs({{"trans_a", int64_t(1)}}), {&vec, &B3}, {5}); },
      {"fused_matmul", "trans_a"});
  // f32 only.
  Tensor d;
  d.dtype = DType::F64;
  d.shape = {2, 3};
  d.bytes.assign(6 * 8, 0);
  expectKernelError([&] { call("fused_matmul", {}, {&d, &B3}, {2, 5}); },
                    {"fused_matmul", "f64"});

  // Normalizations.
  Tensor x = randT({2, 3, 8}, 165), s7 = randT({7}, 166), s8 = randT({8}, 167);
  expectKernelError([&] { call("rms_norm", {}, {&x, &s7}, x.shape); }, {"rms_norm"});
  expectKernelError(
      [&] { call("rms_norm", mkAttrs({{"axis", int64_t(3)}}), {&x, &s8}, x.shape); },
      {"rms_norm", "axis"});
  Tensor other = randT({2, 3, 7}, 168);
  expectKernelError(
      [&] {
        Tensor y = zeros(x.shape);
        run("skip_layer_norm", {}, {&x, &other, &s8}, {&y});
      },
      {"skip_layer_norm", "S"});
  expectKernelError(
      [&] {
        Tensor y = zeros(x.shape);
        run("skip_rms_norm", {}, {&x, &other, &s8}, {&y});
      },
      {"skip_rms_norm", "S"});
  Tensor g = randT({2, 6, 4}, 169), s6 = randT({6}, 170), s5 = randT({5}, 171);
  expectKernelError(
      [&] { call("group_norm", mkAttrs({{"num_groups", int64_t(4)}}), {&g, &s6, &s6}, g.shape); },
      {"group_norm", "num_groups"});
  expectKernelError(
      [&] { call("group_norm", mkAttrs({{"num_groups", int64_t(2)}}), {&g, &s5, &s6}, g.shape); },
      {"group_norm", "scale"});
  expectKernelError([&] { call("group_norm", {}, {&g, &s6, &s6}, g.shape); },
                    {"group_norm", "num_groups"});

  // Attention.
  Tensor q = randT({1, 4, 2, 8}, 172), k = randT({1, 2, 3, 8}, 173), v = randT({1, 2, 3, 5}, 174);
  Tensor k7 = randT({1, 2, 3, 7}, 175), k3 = randT({1, 3, 3, 8}, 176), v3 = randT({1, 3, 3, 5}, 177);
  expectKernelError([&] { call("attention", attnAttrs(1, 4, 2), {&q, &k7, &v}, {1, 4, 2, 5}); },
                    {"attention", "K"});
  expectKernelError([&] { call("attention", attnAttrs(1, 4, 3), {&q, &k3, &v3}, {1, 4, 2, 5}); },
                    {"attention", "multiple"});
  expectKernelError([&] { call("attention", attnAttrs(1, 4, 4), {&q, &k, &v}, {1, 4, 2, 5}); },
                    {"attention", "kv_heads"});
  Tensor badMask = randT({2, 4}, 178);
  expectKernelError(
      [&] { call("attention", attnAttrs(1, 4, 2), {&q, &k, &v, &badMask}, {1, 4, 2, 5}); },
      {"attention", "mask"});
  expectKernelError([&] { call("attention", attnAttrs(1, 4, 2), {&q, &k, &v}, {1, 4, 2, 6}); },
                    {"attention", "Y"});
  expectKernelError(
      [&] { call("attention", attnAttrs(1, 4, 2, 1), {&q, &k, &v}, {1, 4, 2, 5}); },
      {"attention", "k_transposed"});

  // swiglu.
  Tensor sx = randT({2, 6}, 179), w1 = randT({6, 5}, 180), w3 = randT({6, 4}, 181);
  expectKernelError([&] { call("swiglu", {}, {&sx, &w1, &w3}, {2, 5}); }, {"swiglu", "W3"});
}

TEST(FusedErrors, ElementwiseProgram) {
  Tensor i0 = randT({2, 3}, 190), i1 = randT({3}, 191);
  {
    Body b(2);
    b.results = {b.add("cube", {0})};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "cube"});
  }
  {
    Body b(2); // forward reference: instruction 0 reads value 3
    int64_t a = b.add("neg", {3});
    b.results = {b.add("exp", {a})};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "body_args", "3"});
  }
  {
    Body b(2);
    b.results = {b.add("add", {0, -1})};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "body_args"});
  }
  {
    Body b(2); // binary op with one operand
    b.results = {b.add("add", {0})};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "operands"});
  }
  {
    Body b(2); // too many parameters
    b.results = {b.add("relu", {0}, {1.0})};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "parameters"});
  }
  {
    Body b(2);
    b.results = {b.add("add", {0, 1}), 7};
    expectKernelError(
        [&] {
          Tensor r0 = zeros({2, 3}), r1 = zeros({2, 3});
          run("fused_elementwise", b.attrs(), {&i0, &i1}, {&r0, &r1});
        },
        {"fused_elementwise", "body_results"});
  }
  {
    Body b(2); // two results for one output
    int64_t a = b.add("add", {0, 1});
    b.results = {a, a};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "body_results"});
  }
  {
    Body b(2);
    b.results = {b.add("add", {0, 1})};
    Attrs at = b.attrs();
    at.set("body_args", Ints{0, 1, 1}); // more operands than body_argc says
    expectKernelError([&] { call("fused_elementwise", at, {&i0, &i1}, {2, 3}); },
                      {"fused_elementwise", "body_args"});
  }
  {
    Body b(2); // output shape is not the broadcast shape
    b.results = {b.add("add", {0, 1})};
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i1}, {3, 2}); },
                      {"fused_elementwise", "shape"});
    Tensor i2 = randT({4}, 192);
    expectKernelError([&] { call("fused_elementwise", b.attrs(), {&i0, &i2}, {2, 4}); },
                      {"fused_elementwise", "broadcast"});
  }
}

} // namespace
