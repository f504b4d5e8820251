//===- QuantizedKernelTest.cpp - qmatmul, qconv, blocked dequantize --------===//
//
// The quantized kernels of docs/fused-ops.md ("Quantized kernels") against
// an independent computation written here: the test dequantizes activations
// and weights by hand with simple loops (its own int4 packing, block
// lookup and DynamicQuantizeLinear) and runs a plain triple-loop matmul or a
// direct convolution in double. Both the fast path (the registry's default
// choice) and the reference path are checked. f32 outputs must agree within
// 1e-4 relative; quantized outputs within +-1.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Kernel.h"

#include "../Common/Poison.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace loom::rt;
using loom::test::kPoisons;
using loom::test::otherPoison;
using loom::test::poisonName;

namespace {

KernelRegistry &registry() {
  registerBuiltinKernels();
  return KernelRegistry::global();
}

template <typename T> Tensor makeT(DType dt, Shape shape, const std::vector<T> &v) {
  Tensor t;
  t.dtype = dt;
  t.shape = std::move(shape);
  EXPECT_EQ(int64_t(v.size()), t.numElements());
  t.bytes.resize(v.size() * sizeof(T));
  if (!v.empty())
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}
Tensor makeF(Shape s, const std::vector<float> &v) { return makeT(DType::F32, s, v); }
Tensor makeI8(Shape s, const std::vector<int8_t> &v) { return makeT(DType::I8, s, v); }
Tensor makeU8(Shape s, const std::vector<uint8_t> &v) { return makeT(DType::U8, s, v); }
/// A one-element zero point of dtype `dt`.
Tensor zpT(DType dt, int v) {
  return dt == DType::U8 ? makeU8({1}, {uint8_t(v)}) : makeI8({1}, {int8_t(v)});
}

Tensor empty(DType dt, Shape s) {
  Tensor t;
  t.dtype = dt;
  t.shape = std::move(s);
  t.bytes.assign(size_t(t.numElements()) * dtypeSize(dt), kPoisons[0]); // Poison.h
  return t;
}

double elem(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32: return reinterpret_cast<const float *>(t.bytes.data())[i];
  case DType::U8: return t.bytes[size_t(i)];
  case DType::I8: return int8_t(t.bytes[size_t(i)]);
  default: return NAN;
  }
}

/// Packs int4 values (each in [-8, 7]): element i in byte i/2, low nibble
/// for even i.
std::vector<int8_t> pack4(const std::vector<int> &v) {
  std::vector<uint8_t> out((v.size() + 1) / 2, 0);
  for (size_t i = 0; i < v.size(); ++i)
    out[i / 2] |= uint8_t((v[i] & 0xF) << ((i % 2) * 4));
  return std::vector<int8_t>(out.begin(), out.end());
}

/// Packs int2 values (each in [-2, 1]): element i in byte i/4 at bits
/// 2*(i%4).
std::vector<int8_t> pack2(const std::vector<int> &v) {
  std::vector<uint8_t> out((v.size() + 3) / 4, 0);
  for (size_t i = 0; i < v.size(); ++i)
    out[i / 4] |= uint8_t((v[i] & 0x3) << ((i % 4) * 2));
  return std::vector<int8_t>(out.begin(), out.end());
}

/// The 2:4 layout of [K, N] values with at most two non-zeros per group of
/// four rows per column: the kept values [K/2, N] at `bits`, then one index
/// nibble per group and column (first kept row in bits 0-1, second in 2-3).
std::vector<int8_t> packSparse(const std::vector<int> &v, int64_t K, int64_t N, int bits) {
  std::vector<int> kept(size_t(K / 2 * N));
  std::vector<int> nib(size_t(K / 4 * N));
  for (int64_t g = 0; g < K / 4; ++g)
    for (int64_t n = 0; n < N; ++n) {
      std::vector<int> rows;
      for (int t = 0; t < 4; ++t)
        if (v[size_t((4 * g + t) * N + n)] != 0)
          rows.push_back(t);
      for (int t = 0; rows.size() < 2; ++t)
        if (std::find(rows.begin(), rows.end(), t) == rows.end())
          rows.push_back(t);
      std::sort(rows.begin(), rows.end());
      kept[size_t(2 * g * N + n)] = v[size_t((4 * g + rows[0]) * N + n)];
      kept[size_t((2 * g + 1) * N + n)] = v[size_t((4 * g + rows[1]) * N + n)];
      nib[size_t(g * N + n)] = rows[0] | (rows[1] << 2);
    }
  std::vector<int8_t> out = bits == 8   ? std::vector<int8_t>(kept.begin(), kept.end())
                            : bits == 4 ? pack4(kept)
                                        : pack2(kept);
  std::vector<uint8_t> idx((nib.size() + 1) / 2, 0);
  for (size_t i = 0; i < nib.size(); ++i)
    idx[i / 2] |= uint8_t(nib[i] << ((i % 2) * 4));
  out.insert(out.end(), idx.begin(), idx.end());
  return out;
}

double actRef(const std::string &act, double x) {
  if (act == "relu")
    return x > 0 ? x : 0;
  if (act == "gelu")
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (act == "clip")
    return std::min(0.5, std::max(-0.25, x));
  return x;
}

/// Round half to even, saturate to u8/i8.
int quantRef(double v, DType dt) {
  double r = std::nearbyint(v);
  double lo = dt == DType::U8 ? 0 : -128, hi = dt == DType::U8 ? 255 : 127;
  return int(std::min(hi, std::max(lo, r)));
}

/// Everything needed to call a kernel and check its result.
struct Problem {
  std::string kernel;
  Attrs attrs;
  std::vector<Tensor> inputs; ///< 9 operands; dtype/shape only when absent.
  std::vector<bool> present;
  Tensor y;
  std::vector<double> expectF; ///< expected f32 result (before quantization)
  bool yQuant = false;
  double yScale = 1;
  int yZp = 0;
};

KernelArgs argsOf(Problem &p, Tensor &out) {
  KernelArgs a{p.attrs, {}, {}, 2};
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    TensorRef r = p.inputs[i].ref();
    if (!p.present[i]) {
      r.present = false;
      r.data = nullptr;
    }
    a.inputs.push_back(r);
  }
  a.outputs.push_back(out.ref());
  return a;
}

void checkResult(const Problem &p, const Tensor &y, const char *path) {
  SCOPED_TRACE(path);
  const int64_t n = y.numElements();
  ASSERT_EQ(size_t(n), p.expectF.size());
  double maxAbs = 0;
  for (double v : p.expectF)
    maxAbs = std::max(maxAbs, std::fabs(v));
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = p.expectF[size_t(i)];
    const double g = elem(y, i);
    if (p.yQuant) {
      const int eq = quantRef(e / p.yScale + p.yZp, y.dtype);
      // Round the quotient first, then add the zero point.
      const int eq2 = quantRef(std::nearbyint(e / p.yScale) + p.yZp, y.dtype);
      if (std::fabs(g - eq2) > 1 && std::fabs(g - eq) > 1 && bad++ < 5)
        ADD_FAILURE() << "element " << i << ": got " << g << ", expected " << eq2;
    } else {
      const double tol = 1e-4 * (std::fabs(e) + 1e-2 * maxAbs) + 1e-6;
      if (!(std::fabs(g - e) <= tol) && bad++ < 5)
        ADD_FAILURE() << "element " << i << ": got " << g << ", expected " << e;
    }
  }
  EXPECT_EQ(bad, 0);
}

/// Runs the problem through the fast path (which must accept it) and the
/// reference path and checks both; once per poison of the output (Poison.h),
/// the reference's output poisoned with the other one.
void runBoth(Problem &p, bool expectFast, uint8_t poison);
void runBoth(Problem &p, bool expectFast = true) {
  for (uint8_t poison : kPoisons) {
    SCOPED_TRACE(poisonName(poison));
    runBoth(p, expectFast, poison);
  }
}

void runBoth(Problem &p, bool expectFast, uint8_t poison) {
  Tensor yf = p.y, yr = p.y;
  std::fill(yf.bytes.begin(), yf.bytes.end(), poison);
  std::fill(yr.bytes.begin(), yr.bytes.end(), otherPoison(poison));
  KernelArgs fa = argsOf(p, yf);
  const KernelEntry *fast = registry().lookup(p.kernel, fa, true);
  ASSERT_NE(fast, nullptr);
  if (expectFast) {
    ASSERT_EQ(fast->impl, KernelImpl::Fast) << "the fast path declined the call";
  }
  std::vector<DType> dts;
  for (const Tensor &t : p.inputs)
    dts.push_back(t.dtype);
  const KernelEntry *ref = registry().lookupReference(p.kernel, dts);
  ASSERT_NE(ref, nullptr);
  KernelArgs ra = argsOf(p, yr);
  try {
    fast->fn(fa);
    ref->fn(ra);
  } catch (const KernelError &e) {
    FAIL() << e.message;
  }
  checkResult(p, yf, "fast");
  checkResult(p, yr, "reference");
}

/// Picks y_scale/y_zero_point covering the expected values and sets up a
/// quantized output of dtype `dt`.
void quantizeOutput(Problem &p, DType dt) {
  double lo = 0, hi = 0;
  for (double v : p.expectF) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  p.yQuant = true;
  p.yScale = float((hi - lo) / 250.0 + 1e-6);
  const int qmin = dt == DType::U8 ? 0 : -128;
  p.yZp = quantRef(qmin + 2 - lo / p.yScale, dt);
  p.inputs[7] = makeF({1}, {float(p.yScale)});
  p.present[7] = true;
  p.inputs[8] = zpT(dt, p.yZp);
  p.present[8] = true;
  p.y = empty(dt, p.y.shape);
}

//===----------------------------------------------------------------------===//
// Random operands and their hand dequantization
//===----------------------------------------------------------------------===//

struct Rng {
  std::mt19937 g;
  explicit Rng(unsigned seed) : g(seed) {}
  int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }
  float real(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(g); }
};

/// Activation operand: tensor, optional scale/zp tensors, and the
/// dequantized values as the test computes them.
struct ActOperand {
  Tensor t, scale, zp;
  bool hasScale = false, hasZp = false;
  std::vector<double> deq;
};

/// ONNX DynamicQuantizeLinear, written out here, then dequantized.
std::vector<double> dynamicDeq(const std::vector<float> &x) {
  float lo = 0, hi = 0;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const float scale = (hi - lo) / 255.0f;
  std::vector<double> out(x.size(), 0.0);
  if (scale == 0)
    return out;
  const int zp = quantRef(double(-lo / scale), DType::U8);
  for (size_t i = 0; i < x.size(); ++i) {
    int q = quantRef(std::nearbyint(double(x[i] / scale)) + zp, DType::U8);
    out[i] = double(q - zp) * double(scale);
  }
  return out;
}

ActOperand makeAct(Rng &r, const Shape &shape, DType dt, bool dynamic, bool withZp) {
  ActOperand a;
  const int64_t n = numElements(shape);
  a.deq.resize(size_t(n));
  if (dt == DType::F32) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v)
      x = r.real(-1, 1.5f);
    a.t = makeF(shape, v);
    if (dynamic) {
      a.deq = dynamicDeq(v);
    } else {
      for (int64_t i = 0; i < n; ++i)
        a.deq[size_t(i)] = v[size_t(i)];
    }
    a.scale = makeF({1}, {1});
    a.zp = zpT(DType::U8, 0);
    return a;
  }
  const float scale = 0.0125f;
  const int zp = withZp ? (dt == DType::U8 ? 131 : -7) : 0;
  a.hasScale = true;
  a.hasZp = withZp;
  a.scale = makeF({}, {scale});
  a.zp = zpT(dt, zp);
  if (dt == DType::U8) {
    std::vector<uint8_t> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) {
      v[i] = uint8_t(r.integer(0, 255));
      a.deq[i] = (double(v[i]) - zp) * scale;
    }
    a.t = makeU8(shape, v);
  } else {
    std::vector<int8_t> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) {
      v[i] = int8_t(r.integer(-128, 127));
      a.deq[i] = (double(v[i]) - zp) * scale;
    }
    a.t = makeI8(shape, v);
  }
  return a;
}

/// Weight operand of logical shape `shape` with scale shape `sshape`.
struct WeightOperand {
  Tensor t, scale, zp;
  bool hasZp = false;
  std::vector<double> deq; ///< logical row-major
};

WeightOperand makeWeights(Rng &r, const Shape &shape, const Shape &sshape, int bits,
                          bool withZp, bool sparse = false) {
  WeightOperand w;
  const int64_t n = numElements(shape), ns = numElements(sshape);
  const int lim = bits == 2 ? 1 : bits == 4 ? 7 : 127;
  std::vector<int> q(static_cast<size_t>(n));
  for (int &v : q)
    v = r.integer(bits == 2 ? -2 : bits == 4 ? -8 : -128, lim);
  if (sparse) {
    // Two random rows of every group of four keep their values (sometimes
    // zero themselves).
    const int64_t K = shape[0], N = shape[1];
    for (int64_t g = 0; g < K / 4; ++g)
      for (int64_t c = 0; c < N; ++c) {
        const int a = r.integer(0, 3), b = (a + r.integer(1, 3)) % 4;
        for (int t = 0; t < 4; ++t)
          if (t != a && t != b)
            q[size_t((4 * g + t) * N + c)] = 0;
      }
  }
  std::vector<float> s(static_cast<size_t>(ns));
  for (float &v : s)
    v = r.real(0.01f, 0.05f);
  std::vector<int8_t> z(static_cast<size_t>(ns), 0);
  if (withZp)
    for (int8_t &v : z)
      v = int8_t(r.integer(bits == 4 ? -3 : -9, bits == 4 ? 3 : 9));
  w.hasZp = withZp;
  w.scale = makeF(sshape, s);
  w.zp = makeI8(sshape, z);
  if (sparse) {
    std::vector<int8_t> packed = packSparse(q, shape[0], shape[1], bits);
    w.t = makeI8({int64_t(packed.size())}, packed);
  } else if (bits == 4 || bits == 2) {
    std::vector<int8_t> packed = bits == 4 ? pack4(q) : pack2(q);
    w.t = makeI8({int64_t(packed.size())}, packed);
  } else {
    w.t = makeI8(shape, std::vector<int8_t>(q.begin(), q.end()));
  }
  // Hand dequantization: element idx uses scale[idx / block].
  const size_t rank = shape.size();
  std::vector<int64_t> idx(rank, 0);
  w.deq.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i;
    for (size_t d = rank; d-- > 0;) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    int64_t p = 0;
    for (size_t d = 0; d < rank; ++d)
      p = p * sshape[d] + idx[d] / (shape[d] / sshape[d]);
    w.deq[size_t(i)] = (double(q[size_t(i)]) - z[size_t(p)]) * double(s[size_t(p)]);
  }
  return w;
}

//===----------------------------------------------------------------------===//
// qmatmul
//===----------------------------------------------------------------------===//

struct MCase {
  const char *name;
  Shape aShape; ///< [..., M, K]
  int64_t N;
  DType aType = DType::F32;
  bool dynamic = false;
  int bits = 8;
  int64_t groupK = 0; ///< 0: per-output-channel scale [1, N]
  bool aZp = true, wZp = false, bias = false;
  std::string act = "none";
  DType yType = DType::F32;
  bool perTensor = false; ///< scale [1, 1]
  bool sparse = false;    ///< 2:4 along K
};

Problem matmulProblem(const MCase &c, unsigned seed) {
  Rng r(seed);
  const int64_t K = c.aShape.back();
  const int64_t rows = numElements(c.aShape) / K, N = c.N;
  Problem p;
  p.kernel = "qmatmul";
  p.inputs.resize(9);
  p.present.assign(9, false);
  ActOperand a = makeAct(r, c.aShape, c.aType, c.dynamic, c.aZp);
  Shape sshape = c.perTensor ? Shape{1, 1} : Shape{c.groupK ? K / c.groupK : 1, N};
  WeightOperand w = makeWeights(r, {K, N}, sshape, c.bits, c.wZp, c.sparse);
  std::vector<float> bias(static_cast<size_t>(N));
  for (float &b : bias)
    b = r.real(-0.5f, 0.5f);
  p.inputs[0] = a.t;
  p.present[0] = true;
  p.inputs[1] = a.scale;
  p.present[1] = a.hasScale;
  p.inputs[2] = a.zp;
  p.present[2] = a.hasZp;
  p.inputs[3] = w.t;
  p.present[3] = true;
  p.inputs[4] = w.scale;
  p.present[4] = true;
  p.inputs[5] = w.zp;
  p.present[5] = w.hasZp;
  p.inputs[6] = makeF({N}, bias);
  p.present[6] = c.bias;
  p.inputs[7] = makeF({1}, {1});
  p.inputs[8] = zpT(DType::U8, 0);
  if (c.bits != 8 || c.sparse) {
    p.attrs.set("w_bits", int64_t(c.bits));
    p.attrs.set("w_shape", std::vector<int64_t>{K, N});
  }
  if (c.sparse)
    p.attrs.set("w_sparsity", std::string("2:4"));
  if (c.dynamic)
    p.attrs.set("dynamic", int64_t(1));
  if (c.act != "none") {
    p.attrs.set("activation", c.act);
    if (c.act == "clip") {
      p.attrs.set("activation_alpha", -0.25);
      p.attrs.set("activation_beta", 0.5);
    }
  }
  Shape ys = c.aShape;
  ys.back() = N;
  p.y = empty(DType::F32, ys);
  // Plain triple loop in double.
  p.expectF.assign(size_t(rows * N), 0.0);
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += a.deq[size_t(m * K + k)] * w.deq[size_t(k * N + n)];
      if (c.bias)
        acc += bias[size_t(n)];
      p.expectF[size_t(m * N + n)] = actRef(c.act, acc);
    }
  if (c.yType != DType::F32)
    quantizeOutput(p, c.yType);
  return p;
}

class QMatmul : public ::testing::TestWithParam<MCase> {};

TEST_P(QMatmul, MatchesHandComputation) {
  Problem p = matmulProblem(GetParam(), 7);
  runBoth(p);
}

std::vector<MCase> matmulCases() {
  std::vector<MCase> cs;
  auto add = [&](MCase c) { cs.push_back(c); };
  { MCase c{"WeightOnlyW8PerChannel", {5, 32}, 24}; c.bias = true; add(c); }
  { MCase c{"WeightOnlyW8PerTensor", {4, 16}, 8}; c.perTensor = true; add(c); }
  { MCase c{"WeightOnlyW8WithZeroPoint", {3, 20}, 6}; c.wZp = true; add(c); }
  { MCase c{"WeightOnlyW4GroupwiseOddN", {3, 45}, 7}; c.bits = 4; c.groupK = 15; add(c); }
  { MCase c{"WeightOnlyW4GroupwiseZp", {4, 64}, 16}; c.bits = 4; c.groupK = 32; c.wZp = true;
    c.bias = true; c.act = "gelu"; add(c); }
  { MCase c{"WeightOnlyBatched", {2, 3, 4, 16}, 12}; c.bias = true; c.act = "relu"; add(c); }
  { MCase c{"WeightOnlyQuantOutU8", {4, 32}, 10}; c.yType = DType::U8; add(c); }
  // The streaming weight-only paths: one row (32-column register blocks,
  // 8-column and scalar tails, panels of 256), few rows, int4, and many rows
  // (panels dequantized for sgemm).
  { MCase c{"WeightOnlyOneRowWide", {1, 96}, 300}; c.groupK = 32; c.wZp = true; c.bias = true;
    add(c); }
  { MCase c{"WeightOnlyOneRowOddBlocks", {1, 45}, 43}; c.groupK = 15; c.wZp = true; add(c); } // 8 + 7 rows per block
  { MCase c{"WeightOnlyFewRowsWide", {3, 64}, 270}; c.act = "relu"; add(c); }
  { MCase c{"WeightOnlyW4OneRow", {1, 64}, 77}; c.bits = 4; c.groupK = 32; c.wZp = true; add(c); }
  // int4 with an even N: widened eight at a time (one row: eight rows of W
  // per pass, then the 6-column tail; a K of 45 leaves 5 rows of a block).
  { MCase c{"WeightOnlyW4OneRowEvenN", {1, 45}, 262}; c.bits = 4; c.groupK = 15; c.wZp = true;
    c.bias = true; add(c); }
  { MCase c{"WeightOnlyW4FewRowsEvenN", {5, 64}, 38}; c.bits = 4; c.groupK = 16; add(c); }
  { MCase c{"WeightOnlyManyRowsWide", {40, 300}, 530}; c.bias = true; c.wZp = true; add(c); }
  { MCase c{"WeightOnlyManyRowsQuantOut", {12, 40}, 50}; c.groupK = 8; c.yType = DType::U8;
    add(c); }
  { MCase c{"U8ActZpPerChannel", {6, 40}, 9}; c.aType = DType::U8; add(c); }
  { MCase c{"U8ActZpPerChannelWZp", {6, 40}, 9}; c.aType = DType::U8; c.wZp = true; add(c); }
  { MCase c{"I8ActZpPerChannelWZp", {5, 24}, 11}; c.aType = DType::I8; c.wZp = true; add(c); }
  { MCase c{"I8ActNoZp", {5, 24}, 8}; c.aType = DType::I8; c.aZp = false; add(c); }
  { MCase c{"U8ActQuantOutU8", {7, 33}, 13}; c.aType = DType::U8; c.yType = DType::U8;
    c.bias = true; add(c); }
  { MCase c{"I8ActQuantOutI8", {7, 33}, 13}; c.aType = DType::I8; c.yType = DType::I8;
    c.wZp = true; c.act = "relu"; add(c); }
  { MCase c{"U8ActW4Groupwise", {3, 64}, 5}; c.aType = DType::U8; c.bits = 4; c.groupK = 16;
    c.wZp = true; add(c); }
  { MCase c{"U8ActBatched", {2, 3, 4, 16}, 12}; c.aType = DType::U8; c.bias = true;
    c.act = "clip"; add(c); }
  { MCase c{"Dynamic", {6, 32}, 10}; c.dynamic = true; c.bias = true; add(c); }
  { MCase c{"DynamicW4QuantOutI8", {2, 3, 48}, 9}; c.dynamic = true; c.bits = 4; c.groupK = 16;
    c.yType = DType::I8; add(c); }
  { MCase c{"IntegerManyRows", {70, 96}, 37}; c.aType = DType::U8; c.wZp = true; add(c); }
  { MCase c{"IntegerOneRowWide", {1, 128}, 200}; c.aType = DType::U8; c.groupK = 64; add(c); }
  // Ternary (2-bit) weights: sixteen columns per load with N % 4 == 0, the
  // generic loop otherwise, and the panel path for many rows.
  { MCase c{"TernaryOneRow", {1, 64}, 104}; c.bits = 2; c.groupK = 32; c.bias = true; add(c); }
  { MCase c{"TernaryOneRowOddN", {1, 45}, 7}; c.bits = 2; c.groupK = 15; c.wZp = true; add(c); }
  { MCase c{"TernaryFewRows", {3, 32}, 44}; c.bits = 2; add(c); }
  { MCase c{"TernaryManyRows", {20, 64}, 36}; c.bits = 2; c.groupK = 16; c.act = "relu";
    add(c); }
  { MCase c{"TernaryDynamic", {2, 32}, 8}; c.bits = 2; c.dynamic = true; add(c); }
  // 2:4 sparse weights at 8, 4 and 2 bits: the AVX2 one-row kernel (N % 4
  // == 0; two groups per pass, one left over, 8-column tails), the
  // row-expanding loop, the panel path, and the integer path (unpacked).
  { MCase c{"Sparse24W8OneRow", {1, 64}, 40}; c.sparse = true; c.bias = true; add(c); }
  { MCase c{"Sparse24W4OneRowGroups", {1, 96}, 260}; c.sparse = true; c.bits = 4;
    c.groupK = 32; c.wZp = true; c.bias = true; add(c); }
  { MCase c{"Sparse24W4OddGroups", {1, 36}, 20}; c.sparse = true; c.bits = 4; c.groupK = 12;
    add(c); }
  { MCase c{"Sparse24TernaryOneRow", {1, 64}, 96}; c.sparse = true; c.bits = 2; c.groupK = 16;
    add(c); }
  { MCase c{"Sparse24OddN", {1, 32}, 7}; c.sparse = true; c.bits = 4; add(c); }
  { MCase c{"Sparse24FewRows", {3, 32}, 20}; c.sparse = true; c.act = "gelu"; add(c); }
  { MCase c{"Sparse24ManyRows", {20, 64}, 30}; c.sparse = true; c.bits = 4; c.groupK = 16;
    add(c); }
  { MCase c{"Sparse24U8Act", {4, 32}, 8}; c.sparse = true; c.aType = DType::U8; add(c); }
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, QMatmul, ::testing::ValuesIn(matmulCases()),
                         [](const ::testing::TestParamInfo<MCase> &i) {
                           return std::string(i.param.name);
                         });

//===----------------------------------------------------------------------===//
// qconv
//===----------------------------------------------------------------------===//

struct CCase {
  const char *name;
  Shape x; ///< N, C, spatial...
  int64_t O;
  Shape k; ///< kernel spatial
  int64_t group = 1;
  std::vector<int64_t> strides, dil, pads; ///< empty: defaults
  DType xType = DType::F32;
  bool dynamic = false;
  int bits = 8;
  int64_t groupC = 0; ///< 0: per-output-channel; else block along axis 1
  bool wZp = false, bias = false;
  std::string act = "none";
  DType yType = DType::F32;
};

Problem convProblem(const CCase &c, unsigned seed) {
  Rng r(seed);
  const size_t ns = c.x.size() - 2;
  std::vector<int64_t> strides = c.strides.empty() ? std::vector<int64_t>(ns, 1) : c.strides;
  std::vector<int64_t> dil = c.dil.empty() ? std::vector<int64_t>(ns, 1) : c.dil;
  std::vector<int64_t> pads = c.pads.empty() ? std::vector<int64_t>(2 * ns, 0) : c.pads;
  const int64_t N = c.x[0], C = c.x[1], O = c.O, cg = C / c.group, og = O / c.group;
  Shape wshape = {O, cg};
  wshape.insert(wshape.end(), c.k.begin(), c.k.end());
  Shape sshape(wshape.size(), 1);
  sshape[0] = O;
  if (c.groupC)
    sshape[1] = cg / c.groupC;
  Problem p;
  p.kernel = "qconv";
  p.inputs.resize(9);
  p.present.assign(9, false);
  ActOperand a = makeAct(r, c.x, c.xType, c.dynamic, true);
  WeightOperand w = makeWeights(r, wshape, sshape, c.bits, c.wZp);
  std::vector<float> bias(static_cast<size_t>(O));
  for (float &b : bias)
    b = r.real(-0.5f, 0.5f);
  p.inputs = {a.t, a.scale, a.zp, w.t, w.scale, w.zp, makeF({O}, bias), makeF({1}, {1}),
              zpT(DType::U8, 0)};
  p.present = {true, a.hasScale, a.hasZp, true, true, w.hasZp, c.bias, false, false};
  p.attrs.set("kernel_shape", std::vector<int64_t>(c.k.begin(), c.k.end()));
  p.attrs.set("strides", strides);
  p.attrs.set("dilations", dil);
  p.attrs.set("pads", pads);
  p.attrs.set("group", c.group);
  if (c.bits == 4) {
    p.attrs.set("w_bits", int64_t(4));
    p.attrs.set("w_shape", std::vector<int64_t>(wshape.begin(), wshape.end()));
  }
  if (c.dynamic)
    p.attrs.set("dynamic", int64_t(1));
  if (c.act != "none")
    p.attrs.set("activation", c.act);
  // Direct convolution over 2-D (1-D as height 1).
  const int64_t H = ns == 2 ? c.x[2] : 1, Wd = c.x[ns + 1];
  const int64_t KH = ns == 2 ? c.k[0] : 1, KW = c.k[ns - 1];
  const int64_t sH = ns == 2 ? strides[0] : 1, sW = strides[ns - 1];
  const int64_t dH = ns == 2 ? dil[0] : 1, dW = dil[ns - 1];
  const int64_t pT = ns == 2 ? pads[0] : 0, pL = pads[ns - 1];
  const int64_t pB = ns == 2 ? pads[2] : 0, pR = pads[2 * ns - 1];
  const int64_t OH = (H + pT + pB - ((KH - 1) * dH + 1)) / sH + 1;
  const int64_t OW = (Wd + pL + pR - ((KW - 1) * dW + 1)) / sW + 1;
  Shape ys = {N, O};
  if (ns == 2)
    ys.push_back(OH);
  ys.push_back(OW);
  p.y = empty(DType::F32, ys);
  p.expectF.assign(size_t(N * O * OH * OW), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = c.bias ? bias[size_t(o)] : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ih = oh * sH - pT + kh * dH, iw = ow * sW - pL + kw * dW;
                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                  continue;
                const int64_t cin = (o / og) * cg + ci;
                acc += a.deq[size_t(((n * C + cin) * H + ih) * Wd + iw)] *
                       w.deq[size_t(((o * cg + ci) * KH + kh) * KW + kw)];
              }
          p.expectF[size_t(((n * O + o) * OH + oh) * OW + ow)] = actRef(c.act, acc);
        }
  if (c.yType != DType::F32)
    quantizeOutput(p, c.yType);
  return p;
}

class QConv : public ::testing::TestWithParam<CCase> {};

TEST_P(QConv, MatchesHandComputation) {
  Problem p = convProblem(GetParam(), 11);
  runBoth(p);
}

std::vector<CCase> convCases() {
  std::vector<CCase> cs;
  auto add = [&](CCase c) { cs.push_back(c); };
  { CCase c{"WeightOnly1D", {2, 4, 11}, 6, {3}}; c.bias = true; add(c); }
  { CCase c{"WeightOnly2D", {1, 3, 7, 8}, 5, {3, 3}}; c.pads = {1, 1, 1, 1}; add(c); }
  { CCase c{"WeightOnly2DStridesDilationsGroups", {2, 4, 9, 10}, 6, {3, 2}}; c.group = 2;
    c.strides = {2, 1}; c.dil = {1, 2}; c.pads = {1, 0, 2, 1}; c.bias = true; c.act = "relu";
    add(c); }
  { CCase c{"WeightOnly2DW4GroupwiseC", {1, 8, 6, 6}, 4, {3, 3}}; c.bits = 4; c.groupC = 4;
    c.wZp = true; add(c); }
  { CCase c{"WeightOnlyQuantOutU8", {1, 3, 6, 5}, 4, {2, 2}}; c.yType = DType::U8; add(c); }
  { CCase c{"U8Int1D", {2, 4, 13}, 6, {3}}; c.xType = DType::U8; c.strides = {2};
    c.pads = {1, 2}; c.dil = {2}; add(c); }
  { CCase c{"U8Int2DGroupsWZp", {1, 6, 8, 7}, 9, {3, 3}}; c.xType = DType::U8; c.group = 3;
    c.wZp = true; c.pads = {1, 1, 1, 1}; c.bias = true; add(c); }
  { CCase c{"I8Int2DStridesQuantOutI8", {2, 4, 9, 9}, 4, {3, 3}}; c.xType = DType::I8;
    c.strides = {2, 2}; c.dil = {2, 1}; c.yType = DType::I8; c.act = "relu"; add(c); }
  { CCase c{"U8IntW4GroupwiseC", {1, 8, 5, 5}, 4, {3, 3}}; c.xType = DType::U8; c.bits = 4;
    c.groupC = 2; c.wZp = true; c.pads = {1, 1, 1, 1}; add(c); }
  { CCase c{"DynamicQuantOutU8", {1, 3, 6, 6}, 4, {3, 3}}; c.dynamic = true; c.bias = true;
    c.yType = DType::U8; add(c); }
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, QConv, ::testing::ValuesIn(convCases()),
                         [](const ::testing::TestParamInfo<CCase> &i) {
                           return std::string(i.param.name);
                         });

//===----------------------------------------------------------------------===//
// dequantize_linear: block_size and packed int4
//===----------------------------------------------------------------------===//

Tensor runDequant(const Attrs &attrs, const std::vector<Tensor *> &ins, Shape out) {
  Tensor y = empty(DType::F32, std::move(out));
  std::vector<TensorRef> refs;
  std::vector<DType> dts;
  for (Tensor *t : ins) {
    refs.push_back(t->ref());
    dts.push_back(t->dtype);
  }
  const KernelEntry *e = registry().lookupReference("dequantize_linear", dts);
  EXPECT_NE(e, nullptr);
  KernelArgs a{attrs, refs, {y.ref()}, 1};
  e->fn(a);
  return y;
}

TEST(DequantizeBlocked, Axis1WithZeroPoint) {
  // x [2, 5], block 2 along axis 1: scale [2, 3] (ceil(5/2)).
  Tensor x = makeI8({2, 5}, {1, 2, 3, 4, 5, -1, -2, -3, -4, -5});
  Tensor s = makeF({2, 3}, {0.5f, 2, 10, 1, 3, 0.25f});
  Tensor z = makeI8({2, 3}, {1, 0, -1, 0, 2, 1});
  Attrs at;
  at.set("axis", int64_t(1));
  at.set("block_size", int64_t(2));
  Tensor y = runDequant(at, {&x, &s, &z}, {2, 5});
  // Row 0: (1-1)*.5, (2-1)*.5, (3-0)*2, (4-0)*2, (5+1)*10
  // Row 1: (-1)*1, (-2)*1, (-3-2)*3, (-4-2)*3, (-5-1)*.25
  std::vector<double> want = {0, 0.5, 6, 8, 60, -1, -2, -15, -18, -1.5};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_DOUBLE_EQ(elem(y, int64_t(i)), want[i]) << i;
}

TEST(DequantizeBlocked, Axis0Uneven) {
  // x [5, 2], block 3 along axis 0: scale [2, 2]; rows 0-2 use row 0.
  Tensor x = makeU8({5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  Tensor s = makeF({2, 2}, {1, 10, 100, 1000});
  Attrs at;
  at.set("axis", int64_t(0));
  at.set("block_size", int64_t(3));
  Tensor y = runDequant(at, {&x, &s}, {5, 2});
  std::vector<double> want = {1, 20, 3, 40, 5, 60, 700, 8000, 900, 10000};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_DOUBLE_EQ(elem(y, int64_t(i)), want[i]) << i;
}

TEST(DequantizeBlocked, PackedInt4Blocked) {
  // w_shape [3, 3]: 9 nibbles in 5 bytes, last high nibble is padding.
  std::vector<int> q = {-8, 7, 1, -1, 0, 3, 5, -3, 2};
  std::vector<int8_t> packed = pack4(q);
  ASSERT_EQ(packed.size(), 5u);
  packed[4] = int8_t(uint8_t(packed[4]) | 0xF0); // garbage padding nibble
  Tensor x = makeI8({5}, packed);
  Tensor s = makeF({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor z = makeI8({3, 2}, {0, 1, 0, 0, -1, 0});
  Attrs at;
  at.set("axis", int64_t(1));
  at.set("block_size", int64_t(2));
  at.set("w_bits", int64_t(4));
  at.set("w_shape", std::vector<int64_t>{3, 3});
  Tensor y = runDequant(at, {&x, &s, &z}, {3, 3});
  std::vector<double> want = {-8 * 1.0, 7 * 1.0, (1 - 1) * 2.0, -1 * 3.0, 0 * 3.0, 3 * 4.0,
                              (5 + 1) * 5.0, (-3 + 1) * 5.0, 2 * 6.0};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_DOUBLE_EQ(elem(y, int64_t(i)), want[i]) << i;
}

TEST(DequantizeBlocked, PackedInt4PerTensor) {
  std::vector<int> q = {-8, 7, -1};
  Tensor x = makeI8({2}, pack4(q));
  Tensor s = makeF({}, {0.5f});
  Attrs at;
  at.set("w_bits", int64_t(4));
  at.set("w_shape", std::vector<int64_t>{3});
  Tensor y = runDequant(at, {&x, &s}, {3});
  EXPECT_DOUBLE_EQ(elem(y, 0), -4);
  EXPECT_DOUBLE_EQ(elem(y, 1), 3.5);
  EXPECT_DOUBLE_EQ(elem(y, 2), -0.5);
}

TEST(DequantizeBlocked, WrongScaleShapeThrows) {
  Tensor x = makeI8({2, 5}, std::vector<int8_t>(10, 1));
  Tensor s = makeF({2, 2}, {1, 1, 1, 1});
  Attrs at;
  at.set("axis", int64_t(1));
  at.set("block_size", int64_t(2));
  try {
    runDequant(at, {&x, &s}, {2, 5});
    FAIL() << "expected KernelError";
  } catch (const KernelError &e) {
    EXPECT_NE(e.message.find("dequantize_linear"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("x_scale"), std::string::npos) << e.message;
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Runs `p` through the registry's choice and expects a KernelError whose
/// message contains every string of `needles`.
void expectError(Problem &p, std::vector<std::string> needles) {
  Tensor y = p.y;
  KernelArgs a = argsOf(p, y);
  const KernelEntry *e = registry().lookup(p.kernel, a, true);
  ASSERT_NE(e, nullptr);
  std::vector<DType> dts;
  for (const Tensor &t : p.inputs)
    dts.push_back(t.dtype);
  for (const KernelEntry *k : {e, registry().lookupReference(p.kernel, dts)}) {
    Tensor y2 = p.y;
    KernelArgs a2 = argsOf(p, y2);
    try {
      k->fn(a2);
      ADD_FAILURE() << "expected KernelError";
    } catch (const KernelError &err) {
      for (const std::string &n : needles)
        EXPECT_NE(err.message.find(n), std::string::npos) << err.message;
    }
  }
}

Problem baseMatmul() {
  MCase c{"base", {4, 16}, 8};
  c.aType = DType::U8;
  return matmulProblem(c, 3);
}

TEST(QuantizedErrors, ActivationWrongDType) {
  Problem p = baseMatmul();
  p.inputs[0] = makeT(DType::F64, {4, 16}, std::vector<double>(64, 0.0));
  expectError(p, {"qmatmul", "A must be f32, u8 or i8"});
}

TEST(QuantizedErrors, WeightWrongDType) {
  Problem p = baseMatmul();
  p.inputs[3] = makeF({16, 8}, std::vector<float>(128, 0.0f));
  expectError(p, {"qmatmul", "W must be i8"});
}

TEST(QuantizedErrors, ScaleWrongDType) {
  Problem p = baseMatmul();
  p.inputs[4] = makeI8({1, 8}, std::vector<int8_t>(8, 1));
  expectError(p, {"qmatmul", "w_scale must be f32"});
}

TEST(QuantizedErrors, ScaleDoesNotDivide) {
  Problem p = baseMatmul();
  p.inputs[4] = makeF({3, 8}, std::vector<float>(24, 0.1f));
  expectError(p, {"qmatmul", "w_scale", "does not divide"});
}

TEST(QuantizedErrors, ScaleWrongRank) {
  Problem p = baseMatmul();
  p.inputs[4] = makeF({8}, std::vector<float>(8, 0.1f));
  expectError(p, {"qmatmul", "w_scale", "rank"});
}

TEST(QuantizedErrors, ZeroPointShape) {
  Problem p = baseMatmul();
  p.inputs[5] = makeI8({1, 4}, std::vector<int8_t>(4, 0));
  p.present[5] = true;
  expectError(p, {"qmatmul", "w_zero_point"});
}

TEST(QuantizedErrors, Int4WithoutShape) {
  MCase c{"w4", {3, 16}, 8};
  c.bits = 4;
  Problem p = matmulProblem(c, 5);
  Attrs at;
  at.set("w_bits", int64_t(4));
  p.attrs = at;
  expectError(p, {"qmatmul", "W", "w_shape"});
}

TEST(QuantizedErrors, Int4WrongBufferSize) {
  MCase c{"w4", {3, 16}, 8};
  c.bits = 4;
  Problem p = matmulProblem(c, 5);
  p.attrs.set("w_shape", std::vector<int64_t>{16, 9});
  expectError(p, {"qmatmul", "W", "packed int4"});
}

TEST(QuantizedErrors, PackedFormsChecked) {
  Problem p = baseMatmul();
  p.attrs.set("w_bits", int64_t(3));
  expectError(p, {"qmatmul", "w_bits must be 8, 4 or 2", "3"});
  p = baseMatmul();
  p.attrs.set("w_sparsity", std::string("1:2"));
  expectError(p, {"qmatmul", "w_sparsity", "1:2"});
  p = baseMatmul(); // W [16, 8] i8 dense: 128 bytes, not the 2:4 size (80)
  p.attrs.set("w_sparsity", std::string("2:4"));
  p.attrs.set("w_shape", std::vector<int64_t>{16, 8});
  p.inputs[3] = makeI8({16, 8}, std::vector<int8_t>(128, 1));
  expectError(p, {"qmatmul", "W", "2:4 sparse", "80 bytes"});
  p.attrs.set("w_bits", int64_t(2));
  p.inputs[3] = makeI8({3}, std::vector<int8_t>(3, 0));
  expectError(p, {"qmatmul", "W", "2:4 sparse", "32 bytes"}); // 16 value bytes + 16 index
  // Indices that do not name two increasing rows: the reference kernel
  // unpacks and refuses them.
  std::vector<int8_t> bad(80, 0);
  bad[64] = 0x01; // group 0, column 0: rows 1 and 0
  p.attrs.set("w_bits", int64_t(8));
  p.inputs[3] = makeI8({80}, bad);
  std::vector<DType> dts;
  for (const Tensor &t : p.inputs)
    dts.push_back(t.dtype);
  Tensor y = p.y;
  KernelArgs ra = argsOf(p, y);
  try {
    registry().lookupReference(p.kernel, dts)->fn(ra);
    ADD_FAILURE() << "decreasing 2:4 indices accepted";
  } catch (const KernelError &e) {
    EXPECT_NE(e.message.find("increasing order"), std::string::npos) << e.message;
  }
}

TEST(QuantizedErrors, MissingActivationScale) {
  Problem p = baseMatmul();
  p.present[1] = false;
  expectError(p, {"qmatmul", "a_scale"});
}

TEST(QuantizedErrors, ActivationZeroPointDType) {
  Problem p = baseMatmul();
  p.inputs[2] = zpT(DType::I8, 0);
  p.present[2] = true;
  expectError(p, {"qmatmul", "a_zero_point"});
}

TEST(QuantizedErrors, OutputDTypeWithoutScale) {
  Problem p = baseMatmul();
  p.y = empty(DType::U8, p.y.shape);
  expectError(p, {"qmatmul", "Y must be f32"});
}

TEST(QuantizedErrors, OutputZeroPointDType) {
  MCase c{"q", {4, 16}, 8};
  c.aType = DType::U8;
  c.yType = DType::U8;
  Problem p = matmulProblem(c, 3);
  p.inputs[8] = zpT(DType::I8, 0);
  expectError(p, {"qmatmul", "y_zero_point"});
}

TEST(QuantizedErrors, InnerDimensionMismatch) {
  Problem p = baseMatmul();
  p.inputs[0] = makeU8({4, 15}, std::vector<uint8_t>(60, 1));
  expectError(p, {"qmatmul", "A of shape"});
}

TEST(QuantizedErrors, BiasLength) {
  Problem p = baseMatmul();
  p.inputs[6] = makeF({7}, std::vector<float>(7, 0.0f));
  p.present[6] = true;
  expectError(p, {"qmatmul", "bias"});
}

TEST(QuantizedErrors, DynamicNeedsF32) {
  Problem p = baseMatmul();
  p.attrs.set("dynamic", int64_t(1));
  expectError(p, {"qmatmul", "dynamic"});
}

TEST(QuantizedErrors, ConvWrongDTypeAndScale) {
  CCase c{"c", {1, 4, 6, 6}, 4, {3, 3}};
  c.xType = DType::U8;
  Problem p = convProblem(c, 1);
  Problem q = p;
  q.inputs[0] = makeF({1, 4, 6, 6}, std::vector<float>(144, 0.0f)); // f32 X with x_scale
  expectError(q, {"qconv", "x_scale"});
  Problem r = p;
  r.inputs[4] = makeF({4, 3, 1, 1}, std::vector<float>(12, 0.1f)); // 3 does not divide 4
  expectError(r, {"qconv", "w_scale", "does not divide"});
  Problem s = p;
  s.inputs[3] = makeT(DType::U8, {4, 4, 3, 3}, std::vector<uint8_t>(144, 0));
  expectError(s, {"qconv", "W must be i8"});
  Problem t = p;
  t.y = empty(DType::F32, {1, 4, 5, 5});
  expectError(t, {"qconv", "Y has shape"});
}

//===----------------------------------------------------------------------===//
// Speed (run with --gtest_also_run_disabled_tests)
//===----------------------------------------------------------------------===//

double timeMs(const std::function<void()> &f, int reps) {
  f(); // warm up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i)
    f();
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count() / reps;
}

TEST(QuantizedBench, DISABLED_QmatmulVsFusedMatmul) {
  const int64_t M = 128, K = 768, N = 768;
  for (int threads : {1, 2}) {
    Rng r(1);
    std::vector<float> a(static_cast<size_t>(M * K)), w(static_cast<size_t>(K * N)),
        b(static_cast<size_t>(N));
    for (float &v : a)
      v = r.real(-1, 1);
    for (float &v : w)
      v = r.real(-1, 1);
    Tensor A = makeF({M, K}, a), W = makeF({K, N}, w), B = makeF({N}, b), Y = empty(DType::F32, {M, N});
    Attrs none;
    KernelArgs fa{none, {A.ref(), W.ref(), B.ref()}, {Y.ref()}, threads};
    const KernelEntry *fm = registry().lookup("fused_matmul", fa, true);
    double tf = timeMs([&] { fm->fn(fa); }, 20);
    auto bench = [&](MCase c) {
      Problem p = matmulProblem(c, 2);
      Tensor y = p.y;
      KernelArgs qa = argsOf(p, y);
      qa.threads = threads;
      const KernelEntry *e = registry().lookup("qmatmul", qa, true);
      return timeMs([&] { e->fn(qa); }, 20);
    };
    MCase w8{"w8", {M, K}, N};
    w8.bias = true;
    MCase w4 = w8;
    w4.bits = 4;
    w4.groupK = 128;
    MCase i8 = w8;
    i8.aType = DType::U8;
    MCase i4 = i8;
    i4.bits = 4;
    i4.groupK = 128;
    MCase dyn = w8;
    dyn.dynamic = true;
    std::printf("threads %d: fused_matmul f32 %.3f ms | qmatmul weight-only w8 %.3f ms, w4/g128 "
                "%.3f ms | u8 x w8 integer %.3f ms, u8 x w4/g128 %.3f ms, dynamic %.3f ms\n",
                threads, tf, bench(w8), bench(w4), bench(i8), bench(i4), bench(dyn));
  }
}

} // namespace
