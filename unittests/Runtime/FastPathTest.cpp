//===- FastPathTest.cpp - oneDNN fast paths against the references --------===//
//
// Runs every fast path on random f32 data for several shapes and attribute
// combinations and compares it with the reference kernel of the same name;
// also checks that `accepts` declines calls the fast path cannot express.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Kernel.h"

#include "../Common/Poison.h"

#include <gtest/gtest.h>
#if defined(LOOM_TEST_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

using namespace loom::rt;
using loom::test::kPoisons;
using loom::test::otherPoison;
using loom::test::poisonName;

namespace loom::rt {
// The acceptance tests of the depthwise (DepthwiseConv.cpp) and one-row
// gemm (Gemv.cpp) fast paths.
bool depthwiseConvAccepts(const KernelArgs &a, bool fusedConv);
bool oneRowGemmAccepts(const KernelArgs &a, bool fusedGemm);
} // namespace loom::rt

namespace {

/// One kernel call: inputs (an empty optional means "absent"), output shapes
/// (nullopt = absent output) and attributes.
struct Call {
  std::string kernel;
  Attrs attrs;
  std::vector<std::optional<Tensor>> inputs;
  std::vector<std::optional<Shape>> outputs;
  DType outType = DType::F32;
  /// Threads the fast path may use (the reference is serial).
  int threads = 1;
};

Tensor randomTensor(const Shape &shape, std::mt19937 &rng, float lo = -1, float hi = 1,
                    DType type = DType::F32) {
  Tensor t;
  t.dtype = type;
  t.shape = shape;
  t.bytes.resize(size_t(numElements(shape)) * dtypeSize(type));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < numElements(shape); ++i) {
    if (type == DType::F32)
      reinterpret_cast<float *>(t.bytes.data())[i] = dist(rng);
    else if (type == DType::F64)
      reinterpret_cast<double *>(t.bytes.data())[i] = dist(rng);
  }
  return t;
}

/// The arguments of `call` with fresh outputs in `outs`, every byte of them
/// `poison` (Poison.h).
KernelArgs makeArgs(const Call &call, std::vector<Tensor> &outs,
                    uint8_t poison = kPoisons[0]) {
  KernelArgs args{call.attrs, {}, {}, call.threads};
  for (const std::optional<Tensor> &in : call.inputs) {
    if (!in) {
      args.inputs.push_back(TensorRef{DType::F32, {}, nullptr, false});
      continue;
    }
    Tensor &t = const_cast<Tensor &>(*in);
    args.inputs.push_back(t.ref());
  }
  outs.clear();
  outs.reserve(call.outputs.size());
  for (const std::optional<Shape> &s : call.outputs) {
    Tensor t;
    t.dtype = call.outType;
    t.shape = s ? *s : Shape{};
    // Poison the output so that unwritten elements show up.
    t.bytes.assign(s ? size_t(numElements(*s)) * dtypeSize(call.outType) : 0, poison);
    outs.push_back(std::move(t));
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    TensorRef r = outs[i].ref();
    if (!call.outputs[i]) {
      r.present = false;
      r.data = nullptr;
    }
    args.outputs.push_back(r);
  }
  return args;
}

std::vector<DType> inputTypes(const Call &call) {
  std::vector<DType> types;
  for (const std::optional<Tensor> &in : call.inputs)
    types.push_back(in ? in->dtype : DType::F32);
  return types;
}

KernelRegistry &registry() {
  registerBuiltinKernels();
  return KernelRegistry::global();
}

/// Runs `call` through the fast path (which must accept it) and through the
/// reference, once per poison (the reference's outputs get the other one),
/// and compares every present output.
void expectFastMatchesReference(const Call &call, uint8_t poison);
void expectFastMatchesReference(const Call &call) {
  for (uint8_t poison : kPoisons) {
    SCOPED_TRACE(call.kernel + ", " + poisonName(poison));
    expectFastMatchesReference(call, poison);
  }
}

void expectFastMatchesReference(const Call &call, uint8_t poison) {
  std::vector<Tensor> fastOut, refOut;
  KernelArgs fastArgs = makeArgs(call, fastOut, poison);
  const KernelEntry *fast = registry().lookup(call.kernel, fastArgs, true);
  ASSERT_NE(fast, nullptr) << "no kernel " << call.kernel;
  ASSERT_EQ(fast->impl, KernelImpl::Fast) << "the fast path declined the call";
  const KernelEntry *ref = registry().lookupReference(call.kernel, inputTypes(call));
  ASSERT_NE(ref, nullptr) << "no reference kernel " << call.kernel;

  KernelArgs refArgs = makeArgs(call, refOut, otherPoison(poison));
  try {
    fast->fn(fastArgs);
    ref->fn(refArgs);
  } catch (const KernelError &e) {
    FAIL() << e.message;
  }
  for (size_t o = 0; o < call.outputs.size(); ++o) {
    if (!call.outputs[o])
      continue;
    const float *f = reinterpret_cast<const float *>(fastOut[o].bytes.data());
    const float *r = reinterpret_cast<const float *>(refOut[o].bytes.data());
    int64_t n = numElements(*call.outputs[o]);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      double tol = 1e-4 * std::max(1.0, std::fabs(double(r[i])));
      if ((std::isnan(r[i]) && std::isnan(f[i])) || f[i] == r[i]) // NaN or equal infinities
        continue;
      if (!(std::fabs(double(f[i]) - double(r[i])) <= tol)) {
        if (bad++ < 5)
          ADD_FAILURE() << "output " << o << " element " << i << ": fast " << f[i]
                        << ", reference " << r[i];
      }
    }
    EXPECT_EQ(bad, 0) << "mismatching elements in output " << o;
  }
}

/// Runs `call` through the fast path (which must accept it) and through the
/// reference, once per poison (the reference gets the other one); the first
/// output must be the same bytes.
void expectFastMatchesReferenceBitwise(const Call &call) {
  for (uint8_t poison : kPoisons) {
    SCOPED_TRACE(poisonName(poison));
    std::vector<Tensor> fo, ro;
    KernelArgs fa = makeArgs(call, fo, poison), ra = makeArgs(call, ro, otherPoison(poison));
    const KernelEntry *fast = registry().lookup(call.kernel, fa, true);
    ASSERT_TRUE(fast && fast->impl == KernelImpl::Fast) << "the fast path declined the call";
    fast->fn(fa);
    registry().lookupReference(call.kernel, inputTypes(call))->fn(ra);
    EXPECT_EQ(fo[0].bytes, ro[0].bytes);
  }
}

/// Whether the fast path of `call.kernel` accepts `call`.
bool fastAccepts(const Call &call) {
  std::vector<Tensor> outs;
  KernelArgs args = makeArgs(call, outs);
  const KernelEntry *e = registry().lookup(call.kernel, args, true);
  return e && e->impl == KernelImpl::Fast;
}

/// Whether the runtime was built with oneDNN (FastPath.cmake defines
/// LOOM_TEST_HAVE_DNNL from the same find_package as the runtime).
#if defined(LOOM_TEST_HAVE_DNNL)
constexpr bool kHaveDnnl = true;
#else
constexpr bool kHaveDnnl = false;
#endif

class FastPath : public ::testing::Test {
protected:
  void SetUp() override {
    if (!kHaveDnnl)
      GTEST_SKIP() << "runtime built without oneDNN";
  }
  std::mt19937 rng{1234};
  Tensor rand(const Shape &s) { return randomTensor(s, rng); }
};

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

Shape convOut(const Shape &x, const Shape &w, std::vector<int64_t> strides,
              std::vector<int64_t> dil, std::vector<int64_t> pads) {
  size_t n = x.size() - 2;
  Shape y = {x[0], w[0]};
  for (size_t i = 0; i < n; ++i) {
    int64_t ext = (w[2 + i] - 1) * dil[i] + 1;
    y.push_back((x[2 + i] + pads[i] + pads[n + i] - ext) / strides[i] + 1);
  }
  return y;
}

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, dil, pads;
  bool bias;
};

TEST_F(FastPath, ConvMatchesReference) {
  const std::vector<ConvCase> cases = {
      {{1, 3, 8, 8}, {4, 3, 3, 3}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, false},
      {{2, 4, 9, 7}, {6, 4, 3, 3}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 4, 10, 10}, {8, 2, 3, 3}, 2, {1, 2}, {2, 1}, {2, 0, 1, 2}, true},
      {{1, 6, 7, 7}, {6, 1, 3, 3}, 6, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, // depthwise
      {{1, 3, 6, 8}, {2, 3, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
      {{2, 3, 6, 5}, {4, 3, 2, 2}, 1, {3, 2}, {1, 1}, {1, 0, 1, 0}, false},
      {{1, 2, 12}, {3, 2, 3}, 1, {2}, {1}, {1, 1}, true},                    // 1-D
      {{1, 2, 5, 6, 4}, {3, 2, 2, 3, 2}, 1, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 0}, true}, // 3-D
  };
  for (const ConvCase &c : cases) {
    Call call{"conv", {}, {rand(c.x), rand(c.w)}, {}};
    if (c.bias)
      call.inputs.push_back(rand({c.w[0]}));
    call.attrs.set("group", c.group);
    call.attrs.set("strides", c.strides);
    call.attrs.set("dilations", c.dil);
    call.attrs.set("pads", c.pads);
    call.outputs = {convOut(c.x, c.w, c.strides, c.dil, c.pads)};
    expectFastMatchesReference(call);
  }
}

TEST_F(FastPath, ConvAutoPadMatchesReference) {
  for (const char *mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    Shape x = {1, 2, 7, 6}, w = {3, 2, 4, 3};
    Call call{"conv", {}, {rand(x), rand(w), rand({3})}, {}};
    call.attrs.set("auto_pad", std::string(mode));
    call.attrs.set("strides", std::vector<int64_t>{2, 1});
    Shape y = std::string(mode) == "VALID" ? Shape{1, 3, 2, 4} : Shape{1, 3, 4, 6};
    call.outputs = {y};
    SCOPED_TRACE(mode);
    expectFastMatchesReference(call);
  }
}

TEST_F(FastPath, ConvDeclines) {
  // f64 data.
  Call f64{"conv", {}, {randomTensor({1, 1, 4, 4}, rng, -1, 1, DType::F64),
                        randomTensor({1, 1, 3, 3}, rng, -1, 1, DType::F64)},
           {Shape{1, 1, 2, 2}}, DType::F64};
  EXPECT_FALSE(fastAccepts(f64));
  // An output shape that does not match the attributes.
  Call wrong{"conv", {}, {rand({1, 1, 4, 4}), rand({1, 1, 3, 3})}, {Shape{1, 1, 3, 3}}};
  EXPECT_FALSE(fastAccepts(wrong));
  // Rank 6 (4 spatial dimensions).
  Call rank6{"conv", {}, {rand({1, 1, 3, 3, 3, 3}), rand({1, 1, 1, 1, 1, 1})},
             {Shape{1, 1, 3, 3, 3, 3}}};
  EXPECT_FALSE(fastAccepts(rank6));
  // And a plain call is accepted.
  Call ok{"conv", {}, {rand({1, 1, 4, 4}), rand({1, 1, 3, 3})}, {Shape{1, 1, 2, 2}}};
  EXPECT_TRUE(fastAccepts(ok));
}

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

TEST_F(FastPath, ConvTransposeMatchesReference) {
  struct Case {
    Shape x, w, y;
    int64_t group;
    std::vector<int64_t> strides, dil, pads, outPad;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 2, 4, 4}, {2, 3, 3, 3}, {1, 3, 6, 6}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false},
      {{2, 3, 4, 5}, {3, 2, 3, 3}, {2, 2, 7, 9}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0, 0}, true},
      {{1, 4, 3, 3}, {4, 2, 3, 3}, {1, 4, 8, 8}, 2, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},
      {{1, 2, 3, 4}, {2, 1, 2, 2}, {1, 1, 5, 6}, 1, {1, 1}, {2, 2}, {0, 0, 0, 0}, {0, 0}, true},
      {{1, 2, 5}, {2, 3, 4}, {1, 3, 11}, 1, {2}, {1}, {1, 0}, {0}, true}, // 1-D
  };
  for (const Case &c : cases) {
    Call call{"conv_transpose", {}, {rand(c.x), rand(c.w)}, {c.y}};
    if (c.bias)
      call.inputs.push_back(rand({c.y[1]}));
    call.attrs.set("group", c.group);
    call.attrs.set("strides", c.strides);
    call.attrs.set("dilations", c.dil);
    call.attrs.set("pads", c.pads);
    call.attrs.set("output_padding", c.outPad);
    expectFastMatchesReference(call);
  }
  // output_shape and auto_pad.
  Call os{"conv_transpose", {}, {rand({1, 1, 3, 3}), rand({1, 2, 3, 3})}, {Shape{1, 2, 10, 8}}};
  os.attrs.set("strides", std::vector<int64_t>{3, 2});
  os.attrs.set("output_shape", std::vector<int64_t>{10, 8});
  expectFastMatchesReference(os);
  Call same{"conv_transpose", {}, {rand({1, 1, 3, 3}), rand({1, 2, 3, 3})}, {Shape{1, 2, 6, 6}}};
  same.attrs.set("strides", std::vector<int64_t>{2, 2});
  same.attrs.set("auto_pad", std::string("SAME_UPPER"));
  expectFastMatchesReference(same);
}

//===----------------------------------------------------------------------===//
// MatMul / Gemm
//===----------------------------------------------------------------------===//

TEST_F(FastPath, MatMulMatchesReference) {
  struct Case {
    Shape a, b, y;
  };
  const std::vector<Case> cases = {
      {{3, 4}, {4, 5}, {3, 5}},
      {{2, 3, 4}, {2, 4, 6}, {2, 3, 6}},
      {{2, 3, 4}, {4, 6}, {2, 3, 6}},
      {{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}},
      {{4}, {4, 3}, {3}},
      {{3, 4}, {4}, {3}},
      {{17, 33}, {33, 9}, {17, 9}},
  };
  for (const Case &c : cases) {
    Call call{"matmul", {}, {rand(c.a), rand(c.b)}, {c.y}};
    expectFastMatchesReference(call);
  }
}

TEST_F(FastPath, MatMulDeclines) {
  Call mismatch{"matmul", {}, {rand({3, 4}), rand({5, 2})}, {Shape{3, 2}}};
  EXPECT_FALSE(fastAccepts(mismatch));
  Call f64{"matmul", {},
           {randomTensor({2, 2}, rng, -1, 1, DType::F64), randomTensor({2, 2}, rng, -1, 1, DType::F64)},
           {Shape{2, 2}}, DType::F64};
  EXPECT_FALSE(fastAccepts(f64));
}

/// A gemm call Y[M, N] = alpha * A' B' + beta * C on random operands.
Call gemmCall(int64_t M, int64_t K, int64_t N, bool ta, bool tb, double alpha, double beta,
              const std::optional<Shape> &c, std::mt19937 &rng) {
  Shape a = ta ? Shape{K, M} : Shape{M, K}, b = tb ? Shape{N, K} : Shape{K, N};
  Call call{"gemm", {}, {randomTensor(a, rng), randomTensor(b, rng)}, {Shape{M, N}}};
  if (c)
    call.inputs.push_back(randomTensor(*c, rng));
  call.attrs.set("transA", int64_t(ta));
  call.attrs.set("transB", int64_t(tb));
  call.attrs.set("alpha", alpha);
  call.attrs.set("beta", beta);
  return call;
}

TEST_F(FastPath, GemmMatchesReference) {
  struct Case {
    bool ta, tb;
    double alpha, beta;
    std::optional<Shape> c;
  };
  const int64_t M = 5, K = 7, N = 6;
  const std::vector<Case> cases = {
      {false, false, 1.0, 1.0, std::nullopt},
      {true, false, 1.0, 1.0, Shape{N}},
      {false, true, 0.5, 2.0, Shape{M, N}},
      {true, true, 2.0, 0.5, Shape{M, 1}},
      {false, false, 1.0, 3.0, Shape{}},
      {false, false, 1.5, 0.0, Shape{1, N}},
  };
  for (const Case &c : cases) {
    expectFastMatchesReference(gemmCall(M, K, N, c.ta, c.tb, c.alpha, c.beta, c.c, rng));
  }
}

TEST_F(FastPath, GemmDeclines) {
  Call badC{"gemm", {}, {rand({2, 3}), rand({3, 4}), rand({3, 4})}, {Shape{2, 4}}};
  EXPECT_FALSE(fastAccepts(badC));
  Call ok{"gemm", {}, {rand({2, 3}), rand({3, 4}), rand({4})}, {Shape{2, 4}}};
  EXPECT_TRUE(fastAccepts(ok));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolCase {
  Shape x, y;
  std::vector<int64_t> kernel, strides, pads, dil;
  int64_t ceil, includePad;
};

Call poolCall(const char *kernel, const PoolCase &c, Tensor x) {
  Call call{kernel, {}, {std::move(x)}, {c.y}};
  call.attrs.set("kernel_shape", c.kernel);
  call.attrs.set("strides", c.strides);
  call.attrs.set("pads", c.pads);
  call.attrs.set("ceil_mode", c.ceil);
  if (!c.dil.empty())
    call.attrs.set("dilations", c.dil);
  if (std::string(kernel) == "average_pool")
    call.attrs.set("count_include_pad", c.includePad);
  return call;
}

TEST_F(FastPath, MaxPoolMatchesReference) {
  const std::vector<PoolCase> cases = {
      {{1, 3, 8, 8}, {1, 3, 4, 4}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {}, 0, 0},
      {{2, 2, 7, 7}, {2, 2, 4, 4}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 0, 0},
      {{1, 1, 6, 6}, {1, 1, 3, 3}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {}, 1, 0},   // ceil
      {{1, 2, 9, 9}, {1, 2, 5, 5}, {3, 3}, {1, 1}, {0, 0, 0, 0}, {2, 2}, 0, 0}, // dilated
      {{1, 2, 10}, {1, 2, 5}, {3}, {2}, {1, 0}, {}, 0, 0},                    // 1-D
      {{1, 1, 4, 5, 6}, {1, 1, 2, 2, 3}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0, 0, 0, 0}, {}, 0, 0},
  };
  for (const PoolCase &c : cases)
    expectFastMatchesReference(poolCall("max_pool", c, rand(c.x)));
}

TEST_F(FastPath, AveragePoolMatchesReference) {
  const std::vector<PoolCase> cases = {
      {{1, 3, 8, 8}, {1, 3, 4, 4}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {}, 0, 0},
      {{2, 2, 7, 7}, {2, 2, 4, 4}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 0, 0},
      {{2, 2, 7, 7}, {2, 2, 4, 4}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 0, 1},
      {{1, 1, 6, 6}, {1, 1, 3, 3}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {}, 1, 0}, // ceil
      {{1, 2, 5, 5}, {1, 2, 2, 2}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {}, 0, 0}, // floor drops a row
  };
  for (const PoolCase &c : cases)
    expectFastMatchesReference(poolCall("average_pool", c, rand(c.x)));
}

TEST_F(FastPath, PoolDeclines) {
  // MaxPool with the Indices output.
  PoolCase c{{1, 1, 4, 4}, {1, 1, 2, 2}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {}, 0, 0};
  Call withIndices = poolCall("max_pool", c, rand(c.x));
  withIndices.outputs.push_back(Shape{1, 1, 2, 2});
  EXPECT_FALSE(fastAccepts(withIndices));
  EXPECT_TRUE(fastAccepts(poolCall("max_pool", c, rand(c.x))));
  // count_include_pad with a ceil_mode window beyond the padding: oneDNN
  // would divide by the full window.
  PoolCase ceilPad{{1, 1, 6, 6}, {1, 1, 3, 3}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {}, 1, 1};
  EXPECT_FALSE(fastAccepts(poolCall("average_pool", ceilPad, rand(ceilPad.x))));
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

TEST_F(FastPath, BatchNormMatchesReference) {
  for (const Shape &x : {Shape{2, 3, 4, 5}, Shape{4, 6}, Shape{1, 5, 3, 2, 2}}) {
    int64_t C = x[1];
    Call call{"batch_normalization", {},
              {rand(x), rand({C}), rand({C}), rand({C}), randomTensor({C}, rng, 0.1f, 2.0f)},
              {x}};
    call.attrs.set("epsilon", 1e-3);
    expectFastMatchesReference(call);
  }
}

TEST_F(FastPath, BatchNormDeclines) {
  Shape x = {2, 3, 4};
  Call training{"batch_normalization", {},
                {rand(x), rand({3}), rand({3}), rand({3}), randomTensor({3}, rng, 0.1f, 2.0f)},
                {x, Shape{3}, Shape{3}}};
  training.attrs.set("training_mode", int64_t(1));
  EXPECT_FALSE(fastAccepts(training));
}

TEST_F(FastPath, LayerNormMatchesReference) {
  struct Case {
    Shape x;
    int64_t axis;
    bool bias, stats;
  };
  const std::vector<Case> cases = {
      {{4, 16}, -1, true, false},
      {{2, 3, 8}, -1, false, false},
      {{2, 3, 4, 5}, 1, true, true},
      {{3, 7}, 0, true, true},
  };
  for (const Case &c : cases) {
    int64_t axis = c.axis < 0 ? c.axis + int64_t(c.x.size()) : c.axis;
    Shape inner(c.x.begin() + axis, c.x.end()), stat = c.x;
    for (size_t d = size_t(axis); d < stat.size(); ++d)
      stat[d] = 1;
    Call call{"layer_normalization", {}, {rand(c.x), rand(inner)}, {c.x}};
    if (c.bias)
      call.inputs.push_back(rand(inner));
    if (c.stats) {
      call.outputs.push_back(stat);
      call.outputs.push_back(stat);
    }
    call.attrs.set("axis", c.axis);
    call.attrs.set("epsilon", 1e-5);
    expectFastMatchesReference(call);
  }
}

TEST_F(FastPath, LayerNormDeclines) {
  // A broadcast scale is valid ONNX but not a oneDNN layer normalization.
  Call broadcastScale{"layer_normalization", {}, {rand({2, 8}), rand({1})}, {Shape{2, 8}}};
  EXPECT_FALSE(fastAccepts(broadcastScale));
  Call ok{"layer_normalization", {}, {rand({2, 8}), rand({8})}, {Shape{2, 8}}};
  EXPECT_TRUE(fastAccepts(ok));
}

//===----------------------------------------------------------------------===//
// fused_conv / fused_matmul (epilogue activation as a oneDNN post-op)
//===----------------------------------------------------------------------===//

/// The epilogue activations oneDNN expresses, with the parameters to set.
struct FusedAct {
  const char *name;
  std::optional<double> alpha, beta;
};
const std::vector<FusedAct> kFusedActs = {
    {"none", {}, {}},       {"relu", {}, {}},        {"leaky_relu", 0.2, {}},
    {"leaky_relu", {}, {}}, {"clip", 0.0, 6.0},      {"clip", -0.3, 0.4},
    {"sigmoid", {}, {}},    {"hard_swish", {}, {}},  {"tanh", {}, {}},
    {"gelu", {}, {}},       {"gelu_tanh", {}, {}},   {"silu", {}, {}},
};

/// kFusedActs and hard_sigmoid (default and explicit parameters), which
/// Loom's own epilogues compute though oneDNN has no equivalent.
std::vector<FusedAct> allEpilogueActs() {
  std::vector<FusedAct> acts = kFusedActs;
  acts.push_back({"hard_sigmoid", {}, {}});
  acts.push_back({"hard_sigmoid", 0.3, 0.4});
  return acts;
}

void setActivation(Attrs &at, const FusedAct &act) {
  at.set("activation", std::string(act.name));
  if (act.alpha)
    at.set("activation_alpha", *act.alpha);
  if (act.beta)
    at.set("activation_beta", *act.beta);
}

TEST_F(FastPath, FusedConvMatchesReference) {
  const std::vector<ConvCase> cases = {
      {{1, 3, 8, 8}, {4, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{2, 4, 9, 7}, {6, 2, 3, 3}, 2, {2, 1}, {1, 2}, {1, 0, 1, 2}, false},
      {{1, 2, 12}, {3, 2, 3}, 1, {2}, {1}, {1, 1}, true}, // 1-D
  };
  for (const FusedAct &act : kFusedActs)
    for (const ConvCase &c : cases) {
      SCOPED_TRACE(act.name);
      Call call{"fused_conv", {}, {rand(c.x), rand(c.w)}, {}};
      if (c.bias)
        call.inputs.push_back(rand({c.w[0]}));
      call.attrs.set("group", c.group);
      call.attrs.set("strides", c.strides);
      call.attrs.set("dilations", c.dil);
      call.attrs.set("pads", c.pads);
      setActivation(call.attrs, act);
      call.outputs = {convOut(c.x, c.w, c.strides, c.dil, c.pads)};
      expectFastMatchesReference(call);
    }
}

TEST_F(FastPath, FusedConvDeclines) {
  // Five input channels: oneDNN's path (DepthwiseConv.cpp, which takes
  // every activation, runs groups of up to four channels).
  auto conv = [&](const char *act) {
    Call c{"fused_conv", {}, {rand({1, 5, 4, 4}), rand({1, 5, 3, 3})}, {Shape{1, 1, 2, 2}}};
    c.attrs.set("activation", std::string(act));
    return c;
  };
  EXPECT_FALSE(fastAccepts(conv("hard_sigmoid"))); // no oneDNN equivalent
  EXPECT_FALSE(fastAccepts(conv("swish")));        // unknown: the reference reports it
  EXPECT_FALSE(fastAccepts(conv("clip")));         // infinite default bounds
  EXPECT_TRUE(fastAccepts(conv("relu")));
}

TEST_F(FastPath, FusedMatmulMatchesReference) {
  struct Case {
    Shape a, b, y;
    bool ta, tb;
    double alpha;
    std::optional<Shape> bias;
  };
  const std::vector<Case> cases = {
      {{3, 4}, {4, 5}, {3, 5}, false, false, 1.0, Shape{5}},
      {{2, 4, 3}, {5, 4}, {2, 3, 5}, true, true, 0.5, Shape{5}},
      {{2, 3, 4}, {2, 5, 4}, {2, 3, 5}, false, true, 2.0, Shape{3, 1}},
      {{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}, false, false, 1.0, std::nullopt},
      {{4}, {4, 3}, {3}, false, false, 1.5, std::nullopt},
      {{17, 33}, {9, 33}, {17, 9}, false, true, 1.0, Shape{1, 9}},
  };
  for (const FusedAct &act : kFusedActs)
    for (const Case &c : cases) {
      SCOPED_TRACE(act.name);
      Call call{"fused_matmul", {}, {rand(c.a), rand(c.b)}, {c.y}};
      if (c.bias)
        call.inputs.push_back(rand(*c.bias));
      call.attrs.set("trans_a", int64_t(c.ta));
      call.attrs.set("trans_b", int64_t(c.tb));
      call.attrs.set("alpha", c.alpha);
      setActivation(call.attrs, act);
      expectFastMatchesReference(call);
    }
}

// One-row products (Gemv.cpp): chunks of 2048 columns, K not a multiple of
// 4, N not a multiple of 8, batch dims of one.
TEST_F(FastPath, OneRowProductsMatchReference) {
  struct Case {
    Shape a, b, y;
  };
  const std::vector<Case> cases = {
      {{1, 301}, {301, 2100}, {1, 2100}},
      {{1, 1, 64}, {64, 37}, {1, 1, 37}},
      {{7}, {7, 5}, {5}},
  };
  for (const Case &c : cases) {
    expectFastMatchesReference(Call{"matmul", {}, {rand(c.a), rand(c.b)}, {c.y}});
    for (const FusedAct &act : kFusedActs) {
      SCOPED_TRACE(act.name);
      Call call{"fused_matmul", {}, {rand(c.a), rand(c.b), rand({c.b[1]})}, {c.y}};
      setActivation(call.attrs, act);
      expectFastMatchesReference(call);
    }
    expectFastMatchesReference(
        Call{"swiglu", {}, {rand(c.a), rand(c.b), rand(c.b)}, {c.y}});
  }
}

TEST_F(FastPath, FusedMatmulDeclines) {
  Call hs{"fused_matmul", {}, {rand({3, 4}), rand({4, 5})}, {Shape{3, 5}}};
  hs.attrs.set("activation", std::string("hard_sigmoid"));
  EXPECT_FALSE(fastAccepts(hs));
  Call vecT{"fused_matmul", {}, {rand({4}), rand({4, 5})}, {Shape{5}}};
  vecT.attrs.set("trans_a", int64_t(1));
  EXPECT_FALSE(fastAccepts(vecT));
  Call ok{"fused_matmul", {}, {rand({3, 4}), rand({4, 5}), rand({5})}, {Shape{3, 5}}};
  ok.attrs.set("activation", std::string("gelu"));
  EXPECT_TRUE(fastAccepts(ok));
}

/// Gemm with one row of output (a classifier head) takes the one-row path
/// (Gemv.cpp): every transpose, alpha, beta, each C shape that broadcasts
/// onto [1, N], K and N that leave partial vectors; fused_gemm with each
/// epilogue activation.
TEST_F(FastPath, OneRowGemmMatchesReference) {
  struct Case {
    int64_t K, N;
    bool ta, tb;
    double alpha, beta;
    std::optional<Shape> c;
  };
  const std::vector<Case> cases = {
      {576, 1001, false, true, 1.0, 1.0, Shape{1001}},
      {37, 6, false, false, 1.0, 1.0, std::nullopt},
      {37, 6, true, true, 0.5, 2.0, Shape{1, 6}},
      {64, 13, true, false, 2.0, 0.5, Shape{}},
      {20, 1, false, true, 1.0, 1.0, Shape{1, 1}},
      {130, 9, false, true, 1.5, 0.0, Shape{9}},
  };
  for (const Case &c : cases) {
    Call call = gemmCall(1, c.K, c.N, c.ta, c.tb, c.alpha, c.beta, c.c, rng);
    SCOPED_TRACE("K " + std::to_string(c.K) + " N " + std::to_string(c.N));
    std::vector<Tensor> outs;
    EXPECT_TRUE(oneRowGemmAccepts(makeArgs(call, outs), false));
    expectFastMatchesReference(call);
    for (const FusedAct &act : kFusedActs) {
      SCOPED_TRACE(act.name);
      Call fusedCall = call;
      fusedCall.kernel = "fused_gemm";
      setActivation(fusedCall.attrs, act);
      EXPECT_TRUE(oneRowGemmAccepts(makeArgs(fusedCall, outs), true));
      expectFastMatchesReference(fusedCall);
    }
  }
  // Two rows, two threads, a C that does not broadcast onto one row: the
  // one-row path declines (oneDNN's path or the reference runs).
  std::vector<Tensor> outs;
  Call two{"gemm", {}, {rand({2, 8}), rand({8, 4})}, {Shape{2, 4}}};
  EXPECT_FALSE(oneRowGemmAccepts(makeArgs(two, outs), false));
  Call threads{"gemm", {}, {rand({1, 8}), rand({8, 4})}, {Shape{1, 4}}};
  threads.threads = 2;
  EXPECT_FALSE(oneRowGemmAccepts(makeArgs(threads, outs), false));
  Call column{"gemm", {}, {rand({1, 8}), rand({8, 4}), rand({4, 1})}, {Shape{1, 4}}};
  EXPECT_FALSE(oneRowGemmAccepts(makeArgs(column, outs), false));
}

/// 1x1 convs on the plain NCHW buffers (DnnlKernels.cpp's pointwise path):
/// one pixel (squeeze-excite: a matrix-vector product), many pixels in
/// blocks of columns, every epilogue activation including hard_sigmoid
/// (oneDNN has none: the pointwise path applies it itself).
TEST_F(FastPath, PointwiseConvEpiloguesMatchReference) {
  struct Case {
    Shape x;
    int64_t out;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 40, 1, 1}, 13, true}, {{2, 24, 1, 1}, 30, false}, {{1, 16, 9, 11}, 20, true},
      {{1, 8, 40, 40}, 300, true}, {{2, 5, 3, 7}, 6, false},
  };
  const std::vector<FusedAct> acts = allEpilogueActs();
  for (const Case &c : cases)
    for (const FusedAct &act : acts) {
      SCOPED_TRACE(std::string(act.name) + " x " + std::to_string(c.x[1]) + " out " +
                   std::to_string(c.out));
      const Shape w = {c.out, c.x[1], 1, 1};
      const bool plain = std::string(act.name) == "none";
      Call call{plain ? "conv" : "fused_conv", {}, {rand(c.x), rand(w)}, {}};
      if (c.bias)
        call.inputs.push_back(rand({c.out}));
      if (!plain)
        setActivation(call.attrs, act);
      call.outputs = {Shape{c.x[0], c.out, c.x[2], c.x[3]}};
      expectFastMatchesReference(call);
    }
}

//===----------------------------------------------------------------------===//
// Depthwise conv on NCHW planes (DepthwiseConv.cpp)
//===----------------------------------------------------------------------===//

struct DepthwiseCase {
  Shape x;
  std::vector<int64_t> kernel, strides, pads;
  bool bias;
  int64_t group = 0, out = 0; ///< 0: depthwise (one filter per channel)
};

/// Depthwise calls: MobileNet's layers (3x3 / 5x5, stride 1 / 2, widths that
/// leave partial tiles of eight), asymmetric and large pads, strides 3 and
/// 4, 1x1 and 1xK filters, a batch of two, 1-D; and groups of up to four
/// channels with one or two filters each; each
/// with every epilogue activation (hard_sigmoid too). The registry must pick
/// the depthwise path.
TEST_F(FastPath, DepthwiseConvMatchesReference) {
  const std::vector<DepthwiseCase> cases = {
      {{1, 16, 24, 24}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true},
      {{1, 24, 14, 14}, {5, 5}, {1, 1}, {2, 2, 2, 2}, true},
      {{1, 12, 15, 13}, {5, 5}, {2, 2}, {2, 2, 2, 2}, true},
      {{1, 8, 7, 7}, {3, 3}, {1, 1}, {1, 1, 1, 1}, false},
      {{2, 5, 9, 21}, {3, 5}, {1, 2}, {0, 2, 1, 0}, true},
      {{1, 3, 10, 11}, {7, 7}, {3, 3}, {3, 3, 3, 3}, true},
      {{1, 4, 17, 19}, {2, 3}, {4, 4}, {0, 0, 1, 2}, false},
      {{1, 6, 5, 9}, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
      {{1, 6, 6, 33}, {1, 3}, {1, 1}, {0, 4, 0, 4}, true},
      {{1, 4, 4, 4}, {3, 3}, {1, 1}, {0, 0, 0, 0}, true},
      {{2, 8, 40}, {5}, {2}, {2, 2}, true},                         // 1-D
      {{1, 8, 10, 10}, {3, 3}, {1, 1}, {1, 1, 1, 1}, true, 4, 8},   // 2 in, 2 out per group
      {{2, 4, 9, 9}, {5, 5}, {2, 2}, {2, 2, 2, 2}, false, 4, 8},    // multiplier 2
      {{1, 4, 7, 12}, {3, 3}, {1, 1}, {0, 1, 2, 0}, true, 1, 1},    // 4 channels, one filter
      {{1, 3, 30, 31}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, 3, 6},   // 1 in, 2 out per group
  };
  const std::vector<FusedAct> acts = allEpilogueActs();
  for (const DepthwiseCase &c : cases)
    for (const FusedAct &act : acts) {
      SCOPED_TRACE(std::string(act.name) + " x " + std::to_string(c.x[2]) + " group " +
                   std::to_string(c.group));
      const int64_t group = c.group ? c.group : c.x[1], out = c.out ? c.out : c.x[1];
      Shape w = {out, c.x[1] / group};
      w.insert(w.end(), c.kernel.begin(), c.kernel.end());
      const bool plain = std::string(act.name) == "none";
      Call call{plain ? "conv" : "fused_conv", {}, {rand(c.x), rand(w)}, {}};
      if (c.bias)
        call.inputs.push_back(rand({out}));
      call.attrs.set("group", group);
      call.attrs.set("strides", c.strides);
      call.attrs.set("pads", c.pads);
      if (!plain)
        setActivation(call.attrs, act);
      call.outputs = {convOut(c.x, w, c.strides, std::vector<int64_t>(c.strides.size(), 1),
                              c.pads)};
      std::vector<Tensor> outs;
      EXPECT_TRUE(depthwiseConvAccepts(makeArgs(call, outs), !plain));
      expectFastMatchesReference(call);
    }
}

/// NaN and infinities go through the epilogue as the reference's activations
/// take them (relu: NaN -> 0; clip keeps NaN; hard_sigmoid: NaN -> 1).
TEST_F(FastPath, DepthwiseConvNonFinite) {
  for (const char *act : {"none", "relu", "leaky_relu", "clip", "hard_sigmoid", "hard_swish"}) {
    SCOPED_TRACE(act);
    Tensor x = rand({1, 2, 6, 10});
    float *xd = reinterpret_cast<float *>(x.bytes.data());
    xd[3] = std::numeric_limits<float>::quiet_NaN();
    xd[25] = std::numeric_limits<float>::infinity();
    xd[70] = -std::numeric_limits<float>::infinity();
    Call call{"fused_conv", {}, {x, rand({2, 1, 3, 3})}, {Shape{1, 2, 6, 10}}};
    call.attrs.set("group", int64_t(2));
    call.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    call.attrs.set("activation", std::string(act));
    if (std::string(act) == "clip") {
      call.attrs.set("activation_alpha", -0.5);
      call.attrs.set("activation_beta", 0.5);
    }
    expectFastMatchesReference(call);
  }
}

/// On two threads (chunks of channels shared out when a call has enough
/// work) the result matches the reference and is bit-identical to one
/// thread's.
TEST_F(FastPath, DepthwiseConvThreads) {
  for (const int64_t stride : {1, 2}) {
    Call call{"fused_conv", {}, {rand({2, 40, 57, 57}), rand({40, 1, 3, 3}), rand({40})}, {}};
    call.attrs.set("group", int64_t(40));
    call.attrs.set("strides", std::vector<int64_t>{stride, stride});
    call.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    call.attrs.set("activation", std::string("hard_swish"));
    call.outputs = {convOut({2, 40, 57, 57}, {40, 1, 3, 3}, {stride, stride}, {1, 1},
                            {1, 1, 1, 1})};
    call.threads = 2;
    std::vector<Tensor> two, one;
    KernelArgs a2 = makeArgs(call, two);
    ASSERT_TRUE(depthwiseConvAccepts(a2, true));
    expectFastMatchesReference(call);
    registry().lookup("fused_conv", a2, true)->fn(a2);
    call.threads = 1;
    KernelArgs a1 = makeArgs(call, one, kPoisons[1]);
    registry().lookup("fused_conv", a1, true)->fn(a1);
    EXPECT_EQ(two[0].bytes, one[0].bytes);
  }
}

TEST_F(FastPath, DepthwiseConvDeclines) {
  auto dw = [&](Shape x, Shape w, int64_t group) {
    Call c{"conv", {}, {rand(x), rand(w)}, {}};
    c.attrs.set("group", group);
    c.outputs = {convOut(x, w, std::vector<int64_t>(x.size() - 2, 1),
                         std::vector<int64_t>(x.size() - 2, 1),
                         std::vector<int64_t>(2 * (x.size() - 2), 0))};
    return c;
  };
  auto accepts = [&](const Call &c) {
    std::vector<Tensor> outs;
    return depthwiseConvAccepts(makeArgs(c, outs), false);
  };
  EXPECT_TRUE(accepts(dw({1, 4, 6, 6}, {4, 1, 3, 3}, 4)));
  EXPECT_TRUE(accepts(dw({1, 4, 6, 6}, {8, 1, 3, 3}, 4)));   // two filters per channel
  EXPECT_TRUE(accepts(dw({1, 4, 6, 6}, {2, 4, 3, 3}, 1)));   // four channels, one group
  EXPECT_FALSE(accepts(dw({1, 4, 6, 6}, {12, 1, 3, 3}, 4))); // three filters per group
  EXPECT_FALSE(accepts(dw({1, 3, 8, 8}, {16, 3, 3, 3}, 1))); // an RGB stem: oneDNN's
  EXPECT_FALSE(accepts(dw({1, 5, 6, 6}, {1, 5, 3, 3}, 1)));  // five channels per group
  EXPECT_FALSE(accepts(dw({1, 10, 6, 6}, {2, 5, 3, 3}, 2)));
  EXPECT_FALSE(accepts(dw({1, 4, 4, 4, 4}, {4, 1, 3, 3, 3}, 4))); // 3-D
  Call dilated = dw({1, 4, 6, 6}, {4, 1, 3, 3}, 4);
  dilated.attrs.set("dilations", std::vector<int64_t>{2, 2});
  dilated.outputs = {Shape{1, 4, 2, 2}};
  EXPECT_FALSE(accepts(dilated));
  Call wrong = dw({1, 4, 6, 6}, {4, 1, 3, 3}, 4);
  wrong.outputs = {Shape{1, 4, 5, 5}}; // not the size the attributes give
  EXPECT_FALSE(accepts(wrong));
  Call strided = dw({1, 4, 12, 12}, {4, 1, 3, 3}, 4);
  strided.attrs.set("strides", std::vector<int64_t>{5, 5});
  strided.outputs = {Shape{1, 4, 2, 2}};
  EXPECT_FALSE(accepts(strided));
}

//===----------------------------------------------------------------------===//
// Cached plans and blocked layouts (DnnlCache.h)
//===----------------------------------------------------------------------===//

/// Convolutions at the sizes of real networks, where oneDNN picks blocked
/// layouts (reorders of the activations, cached reordered weights): plain,
/// pointwise, depthwise 3x3/5x5, strided, padded, dilated, grouped, the first
/// conv of a CNN (3 channels), 1-D, with and without bias and epilogues, on
/// 1 and 2 threads.
TEST_F(FastPath, ConvBlockedLayoutsMatchReference) {
  struct Case {
    ConvCase c;
    const char *act; // nullptr: plain conv
  };
  const std::vector<Case> cases = {
      {{{1, 3, 32, 32}, {16, 3, 3, 3}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}, true}, "hard_swish"},
      {{{1, 16, 20, 20}, {16, 1, 3, 3}, 16, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, "relu"},
      {{{1, 24, 15, 15}, {24, 1, 5, 5}, 24, {2, 2}, {1, 1}, {2, 2, 2, 2}, true}, "hard_swish"},
      {{{1, 32, 14, 14}, {40, 32, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true}, nullptr},
      {{{2, 16, 12, 12}, {32, 16, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, false}, "relu"},
      {{{1, 24, 7, 9}, {72, 24, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true}, "hard_swish"},
      {{{2, 40, 5, 5}, {16, 40, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true}, "sigmoid"},
      {{{1, 16, 9, 9}, {24, 16, 1, 1}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, true}, "relu"}, // strided 1x1
      {{{1, 16, 9, 9}, {24, 16, 1, 1}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, nullptr}, // padded 1x1
      {{{1, 16, 40}, {24, 16, 1}, 1, {1}, {1}, {0, 0}, true}, "gelu_tanh"},           // 1-D 1x1
      {{{1, 32, 17, 13}, {32, 32, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, nullptr},
      {{{1, 16, 16, 16}, {32, 16, 3, 3}, 1, {2, 2}, {2, 2}, {2, 2, 2, 2}, true}, "silu"},
      {{{1, 32, 10, 10}, {32, 8, 3, 3}, 4, {1, 1}, {1, 1}, {1, 0, 1, 0}, true}, "clip"},
      {{{1, 64, 9, 9}, {64, 64, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, false}, "gelu"},
      {{{1, 16, 50}, {32, 16, 3}, 1, {1}, {1}, {1, 1}, true}, "gelu"}, // 1-D (whisper)
      {{{1, 32, 50}, {32, 32, 3}, 1, {2}, {1}, {1, 1}, true}, nullptr},
  };
  for (int threads : {1, 2})
    for (const Case &k : cases) {
      const ConvCase &c = k.c;
      SCOPED_TRACE(std::string(k.act ? k.act : "conv") + " threads " +
                   std::to_string(threads) + " x " + std::to_string(c.x[1]) + " w " +
                   std::to_string(c.w[0]));
      Call call{k.act ? "fused_conv" : "conv", {}, {rand(c.x), rand(c.w)}, {}};
      if (c.bias)
        call.inputs.push_back(rand({c.w[0]}));
      call.attrs.set("group", c.group);
      call.attrs.set("strides", c.strides);
      call.attrs.set("dilations", c.dil);
      call.attrs.set("pads", c.pads);
      if (k.act) {
        call.attrs.set("activation", std::string(k.act));
        if (std::string(k.act) == "clip") {
          call.attrs.set("activation_alpha", 0.0);
          call.attrs.set("activation_beta", 6.0);
        }
      }
      call.outputs = {convOut(c.x, c.w, c.strides, c.dil, c.pads)};
      call.threads = threads;
      expectFastMatchesReference(call);
    }
}

/// The weights a conv keeps reordered are revalidated on every call: new
/// values at the same address, and a new tensor of the same shape, are used.
TEST_F(FastPath, ConvCachedWeightsFollowTheirBuffer) {
  const Shape xs = {1, 16, 12, 12}, ws = {32, 16, 3, 3}, ys = {1, 32, 12, 12};
  Call call{"fused_conv", {}, {rand(xs), rand(ws), rand({32})}, {ys}};
  call.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  call.attrs.set("activation", std::string("relu"));
  expectFastMatchesReference(call);
  // Same buffer, new weights.
  Tensor &w = *call.inputs[1];
  Tensor fresh = rand(ws);
  std::memcpy(w.bytes.data(), fresh.bytes.data(), w.bytes.size());
  expectFastMatchesReference(call);
  // Only one value changes.
  reinterpret_cast<float *>(w.bytes.data())[100] += 0.75f;
  expectFastMatchesReference(call);
  // Another tensor (another address) of the same shape.
  call.inputs[1] = rand(ws);
  expectFastMatchesReference(call);
}

/// A cached fast path gives the same bytes on every call (deterministic).
TEST_F(FastPath, CachedCallsAreDeterministic) {
  std::vector<Call> calls;
  Call conv{"fused_conv", {}, {rand({1, 24, 14, 14}), rand({24, 1, 5, 5}), rand({24})},
            {Shape{1, 24, 14, 14}}};
  conv.attrs.set("group", int64_t(24));
  conv.attrs.set("pads", std::vector<int64_t>{2, 2, 2, 2});
  conv.attrs.set("activation", std::string("hard_swish"));
  calls.push_back(conv);
  Call mm{"fused_matmul", {}, {rand({2, 40, 64}), rand({64, 96}), rand({96})},
          {Shape{2, 40, 96}}};
  mm.attrs.set("activation", std::string("gelu"));
  calls.push_back(mm);
  Call att{"attention", {}, {rand({1, 4, 33, 16}), rand({1, 2, 40, 16}), rand({1, 2, 40, 8})},
           {Shape{1, 4, 33, 8}}};
  calls.push_back(att);
  for (int threads : {1, 2})
    for (Call &c : calls) {
      SCOPED_TRACE(c.kernel + " threads " + std::to_string(threads));
      c.threads = threads;
      std::vector<Tensor> out1, out2;
      KernelArgs a1 = makeArgs(c, out1, kPoisons[0]), a2 = makeArgs(c, out2, kPoisons[1]);
      const KernelEntry *e = registry().lookup(c.kernel, a1, true);
      ASSERT_TRUE(e && e->impl == KernelImpl::Fast);
      for (int rep = 0; rep < 3; ++rep) {
        e->fn(a1);
        e->fn(a2);
        EXPECT_EQ(out1[0].bytes, out2[0].bytes);
      }
    }
}

//===----------------------------------------------------------------------===//
// attention (GEMMs + oneDNN softmax, DnnlAttention.cpp)
//===----------------------------------------------------------------------===//

TEST_F(FastPath, AttentionMatchesReference) {
  struct Case {
    int64_t B, Hq, Hkv, Sq, Sk, D, Dv;
    bool kT;
    std::optional<double> scale;
    std::optional<Shape> mask;
    bool causal; // mask values -inf above the diagonal (else random)
  };
  const std::vector<Case> cases = {
      {1, 2, 2, 5, 7, 8, 8, false, std::nullopt, std::nullopt, false},
      {2, 4, 4, 16, 16, 16, 16, false, 0.25, Shape{2, 4, 16, 16}, false},
      {1, 8, 2, 12, 12, 16, 8, false, std::nullopt, Shape{1, 1, 12, 12}, true}, // GQA, causal
      {1, 4, 1, 9, 20, 8, 12, true, 0.5, Shape{20}, false},                      // k_transposed, MQA
      {2, 3, 3, 6, 10, 4, 4, true, std::nullopt, Shape{2, 1, 1, 10}, false},      // padding mask
      {1, 2, 2, 7, 9, 8, 8, false, 1.0, Shape{1, 2, 7, 1}, false},                // broadcast over Sk
      {1, 4, 2, 200, 300, 32, 16, false, std::nullopt, Shape{200, 300}, true},    // several blocks
      {1, 2, 1, 1, 64, 16, 16, false, std::nullopt, std::nullopt, false},         // decode
  };
  for (int threads : {1, 2})
    for (const Case &c : cases) {
      SCOPED_TRACE("attention Hq " + std::to_string(c.Hq) + " Hkv " + std::to_string(c.Hkv) +
                   " Sq " + std::to_string(c.Sq) + " Sk " + std::to_string(c.Sk) +
                   " threads " + std::to_string(threads));
      Shape ks = c.kT ? Shape{c.B, c.Hkv, c.D, c.Sk} : Shape{c.B, c.Hkv, c.Sk, c.D};
      Call call{"attention", {},
                {randomTensor({c.B, c.Hq, c.Sq, c.D}, rng, -2, 2), randomTensor(ks, rng, -2, 2),
                 rand({c.B, c.Hkv, c.Sk, c.Dv})},
                {Shape{c.B, c.Hq, c.Sq, c.Dv}}};
      if (c.mask) {
        Tensor m = rand(*c.mask);
        if (c.causal) {
          const int64_t cols = c.mask->back(), rows = c.mask->size() >= 2
                                                          ? (*c.mask)[c.mask->size() - 2]
                                                          : 1;
          float *pm = reinterpret_cast<float *>(m.bytes.data());
          for (int64_t i = 0; i < numElements(*c.mask); ++i) {
            const int64_t row = (i / cols) % rows, col = i % cols;
            pm[i] = col > row + (cols - rows) ? -std::numeric_limits<float>::infinity() : 0.0f;
          }
        }
        call.inputs.push_back(std::move(m));
      }
      if (c.kT)
        call.attrs.set("k_transposed", int64_t(1));
      if (c.scale)
        call.attrs.set("scale", *c.scale);
      call.attrs.set("q_heads", c.Hq);
      call.attrs.set("kv_heads", c.Hkv);
      call.threads = threads;
      expectFastMatchesReference(call);
    }
}

/// Rows whose scores are all -inf are NaN, as in the reference; other rows
/// of the same block are unaffected.
TEST_F(FastPath, AttentionFullyMaskedRowsAreNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor mask = rand({4, 6});
  float *pm = reinterpret_cast<float *>(mask.bytes.data());
  for (int j = 0; j < 6; ++j)
    pm[1 * 6 + j] = -inf; // row 1 fully masked
  pm[2 * 6 + 3] = -inf;   // row 2 partly
  Call call{"attention", {}, {rand({1, 2, 4, 8}), rand({1, 2, 6, 8}), rand({1, 2, 6, 8}), mask},
            {Shape{1, 2, 4, 8}}};
  expectFastMatchesReference(call);
  std::vector<Tensor> out;
  KernelArgs args = makeArgs(call, out);
  registry().lookup("attention", args, true)->fn(args);
  const float *y = reinterpret_cast<const float *>(out[0].bytes.data());
  EXPECT_TRUE(std::isnan(y[1 * 8]));
  EXPECT_FALSE(std::isnan(y[2 * 8]));
}

TEST_F(FastPath, AttentionDeclines) {
  // Mismatched head dimension: the reference reports the error.
  Call badD{"attention", {}, {rand({1, 2, 4, 8}), rand({1, 2, 6, 4}), rand({1, 2, 6, 8})},
            {Shape{1, 2, 4, 8}}};
  EXPECT_FALSE(fastAccepts(badD));
  // Hq not a multiple of Hkv.
  Call badH{"attention", {}, {rand({1, 3, 4, 8}), rand({1, 2, 6, 8}), rand({1, 2, 6, 8})},
            {Shape{1, 3, 4, 8}}};
  EXPECT_FALSE(fastAccepts(badH));
  // A mask that does not broadcast.
  Call badM{"attention", {},
            {rand({1, 2, 4, 8}), rand({1, 2, 6, 8}), rand({1, 2, 6, 8}), rand({4, 5})},
            {Shape{1, 2, 4, 8}}};
  EXPECT_FALSE(fastAccepts(badM));
  Call ok{"attention", {}, {rand({1, 2, 4, 8}), rand({1, 2, 6, 8}), rand({1, 2, 6, 8})},
          {Shape{1, 2, 4, 8}}};
  EXPECT_TRUE(fastAccepts(ok));
}

//===----------------------------------------------------------------------===//
// einsum as batched products (EinsumFast.cpp)
//===----------------------------------------------------------------------===//

TEST_F(FastPath, EinsumMatchesReference) {
  struct Case {
    std::string eq;
    std::vector<Shape> in;
    Shape out;
  };
  const std::vector<Case> cases = {
      {"BGHID,BGHJD->BGHIJ", {{1, 4, 2, 7, 8}, {1, 4, 2, 9, 8}}, {1, 4, 2, 7, 9}}, // MaxViT
      {"BGHIJ,BGHJD->BGHID", {{1, 4, 2, 7, 9}, {1, 4, 2, 9, 8}}, {1, 4, 2, 7, 8}},
      {"ij,jk->ik", {{5, 6}, {6, 7}}, {5, 7}},
      {"ji,jk->ik", {{6, 5}, {6, 7}}, {5, 7}},     // A transposed
      {"ij,kj->ik", {{5, 6}, {7, 6}}, {5, 7}},     // B transposed
      {"bij,bjk->bki", {{3, 4, 5}, {3, 5, 2}}, {3, 2, 4}}, // output permuted
      {"ibj,jbk->bik", {{4, 3, 5}, {5, 3, 2}}, {3, 4, 2}}, // batch in the middle
      {"i,i->", {{11}, {11}}, {}},                 // dot
      {"i,j->ij", {{4}, {3}}, {4, 3}},             // outer product
      {"...ij,...jk->...ik", {{2, 3, 4, 5}, {2, 3, 5, 6}}, {2, 3, 4, 6}},
      {"bhqd,bhkd->bhqk", {{2, 3, 1, 16}, {2, 3, 40, 16}}, {2, 3, 1, 40}},
  };
  for (int threads : {1, 2})
    for (const Case &c : cases) {
      SCOPED_TRACE(c.eq + ", threads " + std::to_string(threads));
      Call call{"einsum", {}, {}, {c.out}};
      for (const Shape &s : c.in)
        call.inputs.push_back(rand(s));
      call.attrs.set("equation", c.eq);
      call.threads = threads;
      expectFastMatchesReference(call);
    }
}

TEST_F(FastPath, EinsumDeclines) {
  auto call = [&](const std::string &eq, std::vector<Shape> in, Shape out) {
    Call c{"einsum", {}, {}, {out}};
    for (const Shape &s : in)
      c.inputs.push_back(rand(s));
    c.attrs.set("equation", eq);
    return c;
  };
  EXPECT_FALSE(fastAccepts(call("ii->i", {{3, 3}}, {3})));              // one operand
  EXPECT_FALSE(fastAccepts(call("iij,jk->ik", {{3, 3, 4}, {4, 2}}, {3, 2}))); // diagonal
  EXPECT_FALSE(fastAccepts(call("ij,jk->i", {{3, 4}, {4, 2}}, {3})));   // k summed in B only
  EXPECT_FALSE(fastAccepts(
      call("...ij,...jk->...ik", {{1, 4, 5}, {3, 5, 6}}, {3, 4, 6}))); // broadcast
  EXPECT_FALSE(fastAccepts(call("ij,jk->ik", {{3, 4}, {5, 2}}, {3, 2}))); // sizes differ
  EXPECT_TRUE(fastAccepts(call("ij,jk->ik", {{3, 4}, {4, 2}}, {3, 2})));
}

//===----------------------------------------------------------------------===//
// softmax along the last axis (oneDNN softmax, DnnlAttention.cpp)
//===----------------------------------------------------------------------===//

TEST_F(FastPath, SoftmaxMatchesReference) {
  const std::vector<std::pair<Shape, std::optional<int64_t>>> cases = {
      {{3, 7}, std::nullopt},       // default axis (-1)
      {{1, 4, 16, 33}, -1},         // attention scores
      {{2, 1, 5}, 2},               // the last axis by its index
      {{1, 1}, -1},                 // one element per row
      {{1, 2, 128, 256}, -1},       // rows of a prefill chunk
      {{9}, 0},                     // rank 1
  };
  for (int threads : {1, 2})
    for (const auto &[shape, axis] : cases) {
      SCOPED_TRACE("softmax of " + std::to_string(shape.size()) + "-D, last dim " +
                   std::to_string(shape.back()) + ", threads " + std::to_string(threads));
      Call call{"softmax", {}, {randomTensor(shape, rng, -8, 8)}, {shape}};
      if (axis)
        call.attrs.set("axis", *axis);
      call.threads = threads;
      expectFastMatchesReference(call);
    }
}

/// Rows with a NaN, all -inf or +inf follow the reference (NaN); a row with
/// some -inf entries is an ordinary row.
TEST_F(FastPath, SoftmaxOddRowsFollowTheReference) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = rand({5, 6});
  float *px = reinterpret_cast<float *>(x.bytes.data());
  for (int j = 0; j < 6; ++j)
    px[1 * 6 + j] = -inf;                        // row 1: all -inf
  px[2 * 6 + 3] = -inf;                          // row 2: partly masked
  px[3 * 6 + 0] = std::numeric_limits<float>::quiet_NaN(); // row 3: NaN
  px[4 * 6 + 5] = inf;                           // row 4: +inf
  Call call{"softmax", {}, {x}, {Shape{5, 6}}};
  expectFastMatchesReference(call);
  std::vector<Tensor> out;
  KernelArgs args = makeArgs(call, out);
  registry().lookup("softmax", args, true)->fn(args);
  const float *y = reinterpret_cast<const float *>(out[0].bytes.data());
  EXPECT_TRUE(std::isnan(y[1 * 6]));
  EXPECT_EQ(y[2 * 6 + 3], 0.0f);
  EXPECT_TRUE(std::isnan(y[3 * 6 + 1]));
  EXPECT_TRUE(std::isnan(y[4 * 6 + 5]));
  EXPECT_FALSE(std::isnan(y[0]));
}

TEST_F(FastPath, SoftmaxDeclines) {
  Call inner{"softmax", {}, {rand({4, 6})}, {Shape{4, 6}}};
  inner.attrs.set("axis", int64_t(0)); // not the last axis
  EXPECT_FALSE(fastAccepts(inner));
  Call f64{"softmax", {}, {randomTensor({4, 6}, rng, -1, 1, DType::F64)}, {Shape{4, 6}}};
  EXPECT_FALSE(fastAccepts(f64));
  Call last{"softmax", {}, {rand({4, 6})}, {Shape{4, 6}}};
  last.attrs.set("axis", int64_t(1));
  EXPECT_TRUE(fastAccepts(last));
}

//===----------------------------------------------------------------------===//
// transpose / global_average_pool (plain C++ fast paths, NNKernels.cpp)
//===----------------------------------------------------------------------===//

TEST_F(FastPath, TransposeMatchesReference) {
  struct Case {
    Shape x;
    std::vector<int64_t> perm;
  };
  const std::vector<Case> cases = {
      {{1, 128, 6, 64}, {0, 2, 1, 3}},  // heads split
      {{1, 6, 128, 64}, {0, 1, 3, 2}},  // K transposed
      {{2, 6, 33, 16}, {0, 2, 1, 3}},
      {{37, 45}, {}},                   // default: reversed
      {{3, 1, 5, 7}, {3, 1, 0, 2}},
      {{4, 5, 6}, {2, 0, 1}},
      {{4, 5, 6}, {0, 1, 2}},           // identity
      {{2, 3, 4, 5, 6}, {4, 2, 0, 3, 1}},
      {{1, 64, 7, 7}, {0, 2, 3, 1}},    // NCHW -> NHWC
  };
  for (const Case &c : cases) {
    Shape y;
    std::vector<int64_t> perm = c.perm;
    if (perm.empty())
      for (int64_t d = int64_t(c.x.size()); d-- > 0;)
        perm.push_back(d);
    for (int64_t p : perm)
      y.push_back(c.x[size_t(p)]);
    Call call{"transpose", {}, {rand(c.x)}, {y}};
    if (!c.perm.empty())
      call.attrs.set("perm", c.perm);
    expectFastMatchesReference(call);
  }
  // Other element sizes, compared bit for bit.
  for (DType t : {DType::I64, DType::F64}) {
    Call call{"transpose", {}, {randomTensor({3, 4, 5}, rng, -9, 9, t)}, {Shape{5, 3, 4}}, t};
    call.attrs.set("perm", std::vector<int64_t>{2, 0, 1});
    expectFastMatchesReferenceBitwise(call);
  }
}

/// silu's vectorized exp against the double-precision reference: ordinary
/// values, the clamp range's edges, overflow of exp(-x), non-finite values,
/// and lengths that leave a partial vector.
TEST_F(FastPath, SiluMatchesReference) {
  // The fast path needs AVX2 + FMA (and LOOM_RUNTIME_NO_AVX2 unset).
  const char *noAvx2 = std::getenv("LOOM_RUNTIME_NO_AVX2");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    !(noAvx2 && *noAvx2 && std::string(noAvx2) != "0");
  EXPECT_EQ(fastAccepts(Call{"silu", {}, {rand({4})}, {Shape{4}}}), avx2);
  if (!avx2)
    GTEST_SKIP() << "silu's fast path needs AVX2 + FMA";
  const float inf = std::numeric_limits<float>::infinity();
  for (const int64_t n : {int64_t(1), int64_t(13), int64_t(4099)}) {
    Tensor x = randomTensor({n}, rng, -30, 30);
    float *xd = reinterpret_cast<float *>(x.bytes.data());
    const float special[] = {0.0f, -0.0f, 87.0f, -87.0f, 88.9f, -88.9f, -100.0f, 100.0f,
                             1e-30f, -1e-30f, inf, -inf, std::nanf("")};
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]) && int64_t(i) < n; ++i)
      xd[n - 1 - int64_t(i)] = special[i];
    SCOPED_TRACE(n);
    expectFastMatchesReference(Call{"silu", {}, {x}, {Shape{n}}});
  }
  // Tighter than the generic tolerance: a dense sweep, relative error below
  // 5e-7 of float(reference) where x >= -87, absolute below 5e-37 below.
  const int64_t n = 200001;
  Tensor x = randomTensor({n}, rng);
  float *xd = reinterpret_cast<float *>(x.bytes.data());
  for (int64_t i = 0; i < n; ++i)
    xd[i] = -95.0f + 190.0f * float(i) / float(n - 1);
  Call call{"silu", {}, {x}, {Shape{n}}};
  std::vector<Tensor> fo, ro;
  KernelArgs fa = makeArgs(call, fo, kPoisons[0]), ra = makeArgs(call, ro, kPoisons[1]);
  registry().lookup("silu", fa, true)->fn(fa);
  registry().lookupReference("silu", inputTypes(call))->fn(ra);
  const float *f = reinterpret_cast<const float *>(fo[0].bytes.data()),
              *r = reinterpret_cast<const float *>(ro[0].bytes.data());
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(double(f[i]) - double(r[i]));
    const bool ok = xd[i] >= -87.0f ? err <= 5e-7 * std::fabs(double(r[i])) : err < 5e-37;
    if (!ok && bad++ < 5)
      ADD_FAILURE() << "silu(" << xd[i] << "): fast " << f[i] << ", reference " << r[i];
  }
  EXPECT_EQ(bad, 0);
}

/// A 1-D tensor of `type` (f32 or i64) holding `values`.
Tensor vectorOf(DType type, const std::vector<double> &values) {
  Tensor t;
  t.dtype = type;
  t.shape = {int64_t(values.size())};
  t.bytes.resize(values.size() * dtypeSize(type));
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == DType::F32)
      reinterpret_cast<float *>(t.bytes.data())[i] = float(values[i]);
    else
      reinterpret_cast<int64_t *>(t.bytes.data())[i] = int64_t(values[i]);
  }
  return t;
}

/// Nearest-mode resize as a gather (ImageKernels.cpp): bit-identical to the
/// reference for every coordinate mode and rounding, up- and down-scaling,
/// scales or sizes, ranks 1 to 4; other modes and extrapolating crops take
/// the reference.
/// Nearest-mode resize written here from the ONNX operator description, not
/// from the runtime's tap tables (which the fast path shares with the
/// reference kernel): per axis the source coordinate of output index o
/// (`coord`, scale = out / in when sizes are given), rounded as
/// `rounding` says, clamped to the axis; Y gathers X at those indices.
/// align_corners and pytorch_half_pixel use the resized length as ONNX
/// 1.12's reference evaluator (and so its test data) does, scale * in, not
/// the integer output length: the two differ when scales are given and
/// scale * in is not an integer in f32.
Tensor resizeNearestByHand(const Tensor &x, const Shape &yShape, const std::vector<double> &scales,
                           const std::string &coord, const std::string &rounding) {
  const size_t rank = x.shape.size();
  std::vector<std::vector<int64_t>> src(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t in = x.shape[d], out = yShape[d];
    const double scale = scales[d], resized = scale * double(in);
    for (int64_t o = 0; o < out; ++o) {
      double c;
      if (coord == "half_pixel")
        c = (double(o) + 0.5) / scale - 0.5;
      else if (coord == "pytorch_half_pixel")
        c = resized > 1 ? (double(o) + 0.5) / scale - 0.5 : 0.0;
      else if (coord == "align_corners")
        c = resized == 1 ? 0.0 : double(o) * double(in - 1) / (resized - 1);
      else if (coord == "asymmetric")
        c = double(o) / scale;
      else // tf_half_pixel_for_nn
        c = (double(o) + 0.5) / scale;
      const bool half = c - std::floor(c) == 0.5;
      double r;
      if (rounding == "round_prefer_floor")
        r = half ? std::floor(c) : std::round(c);
      else if (rounding == "round_prefer_ceil")
        r = half ? std::ceil(c) : std::round(c);
      else if (rounding == "floor")
        r = std::floor(c);
      else // ceil
        r = std::ceil(c);
      src[d].push_back(std::clamp<int64_t>(int64_t(r), 0, in - 1));
    }
  }
  Tensor y;
  y.dtype = DType::F32;
  y.shape = yShape;
  y.bytes.resize(size_t(numElements(yShape)) * sizeof(float));
  const float *xd = reinterpret_cast<const float *>(x.bytes.data());
  float *yd = reinterpret_cast<float *>(y.bytes.data());
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < numElements(yShape); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < rank; ++d)
      off = off * x.shape[d] + src[d][size_t(idx[d])];
    yd[i] = xd[off];
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < yShape[d])
        break;
      idx[d] = 0;
    }
  }
  return y;
}

/// Bit-identical to the reference kernel and to resizeNearestByHand, for
/// every coordinate mode and rounding of nearest mode.
TEST_F(FastPath, ResizeNearestMatchesReferenceBitwise) {
  struct Case {
    Shape x, y;
    bool bySizes;
  };
  const std::vector<Case> cases = {
      {{1, 3, 5, 7}, {1, 3, 10, 14}, false}, {{2, 2, 9, 6}, {2, 2, 4, 3}, false},
      {{1, 2, 5, 7}, {1, 2, 12, 9}, true},   {{3, 8}, {3, 20}, true},
      {{11}, {4}, true},
  };
  const char *coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                          "tf_half_pixel_for_nn"};
  const char *roundings[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  for (const Case &c : cases)
    for (const char *coord : coords)
      for (const char *rounding : roundings) {
        SCOPED_TRACE(std::string(coord) + " " + rounding + " rank " + std::to_string(c.x.size()));
        std::vector<double> v;
        for (size_t d = 0; d < c.x.size(); ++d)
          v.push_back(c.bySizes ? double(c.y[d]) : double(c.y[d]) / double(c.x[d]));
        Call call{"resize", {}, {rand(c.x), std::nullopt}, {c.y}};
        if (c.bySizes) {
          call.inputs.push_back(std::nullopt);
          call.inputs.push_back(vectorOf(DType::I64, v));
        } else {
          call.inputs.push_back(vectorOf(DType::F32, v));
        }
        call.attrs.set("mode", std::string("nearest"));
        call.attrs.set("coordinate_transformation_mode", std::string(coord));
        call.attrs.set("nearest_mode", std::string(rounding));
        expectFastMatchesReferenceBitwise(call);
        std::vector<double> scales;
        for (size_t d = 0; d < c.x.size(); ++d) // given scales are f32
          scales.push_back(c.bySizes ? double(c.y[d]) / double(c.x[d])
                                     : double(float(double(c.y[d]) / double(c.x[d]))));
        const Tensor want = resizeNearestByHand(*call.inputs[0], c.y, scales, coord, rounding);
        for (uint8_t poison : kPoisons) {
          std::vector<Tensor> out;
          KernelArgs a = makeArgs(call, out, poison);
          registry().lookup("resize", a, true)->fn(a);
          EXPECT_EQ(out[0].bytes, want.bytes) << "against the hand-written resize, "
                                              << poisonName(poison);
        }
      }
  Call linear{"resize", {}, {rand({1, 1, 4, 4}), std::nullopt,
                             vectorOf(DType::F32, {1, 1, 2, 2})}, {Shape{1, 1, 8, 8}}};
  linear.attrs.set("mode", std::string("linear"));
  EXPECT_FALSE(fastAccepts(linear));
  Call crop{"resize", {}, {rand({1, 1, 4, 4}), vectorOf(DType::F32, {0, 0, -0.5, 0, 1, 1, 1, 1}),
                           vectorOf(DType::F32, {1, 1, 2, 2})}, {Shape{1, 1, 8, 8}}};
  crop.attrs.set("coordinate_transformation_mode", std::string("tf_crop_and_resize"));
  EXPECT_FALSE(fastAccepts(crop)); // rows above the input extrapolate
}

TEST_F(FastPath, GlobalAveragePoolMatchesReference) {
  for (const Shape &x :
       {Shape{1, 96, 7, 7}, Shape{2, 3, 5}, Shape{1, 4, 2, 3, 4}, Shape{1, 3, 56, 57}}) {
    Shape y = {x[0], x[1]};
    y.resize(x.size(), 1);
    expectFastMatchesReference(Call{"global_average_pool", {}, {rand(x)}, {y}});
  }
}

/// f32 add/sub/mul/div with one full-size operand: bit-identical to the
/// reference for every broadcast form the fast path takes, and declined
/// for the others.
TEST_F(FastPath, BinaryMatchesReferenceBitwise) {
  struct Case {
    Shape a, b, y;
  };
  const std::vector<Case> cases = {
      {{1, 16, 5, 5}, {1, 16, 5, 5}, {1, 16, 5, 5}}, // same shape
      {{1, 16, 1, 1}, {1, 16, 5, 7}, {1, 16, 5, 7}}, // SE scale (broadcast first)
      {{2, 8, 3, 3}, {1, 8, 1, 1}, {2, 8, 3, 3}},    // per-channel
      {{2, 3, 10}, {10}, {2, 3, 10}},                // bias over the last dim
      {{4, 6}, {}, {4, 6}},                          // scalar
      {{1}, {3, 4}, {3, 4}},                         // one-element
      {{2, 3, 4, 5}, {3, 4, 1}, {2, 3, 4, 5}},       // middle run
  };
  for (const char *k : {"add", "sub", "mul", "div"})
    for (const Case &c : cases) {
      SCOPED_TRACE(std::string(k));
      Call call{k, {}, {randomTensor(c.a, rng, 0.5f, 2), randomTensor(c.b, rng, 0.5f, 2)}, {c.y}};
      expectFastMatchesReferenceBitwise(call);
    }
  // Both operands broadcast, or a run with a gap: the reference runs.
  EXPECT_FALSE(fastAccepts(Call{"add", {}, {rand({3, 1}), rand({1, 4})}, {Shape{3, 4}}}));
  EXPECT_FALSE(
      fastAccepts(Call{"mul", {}, {rand({2, 3, 4}), rand({2, 1, 4})}, {Shape{2, 3, 4}}}));
  EXPECT_TRUE(fastAccepts(Call{"mul", {}, {rand({2, 3, 4}), rand({3, 1})}, {Shape{2, 3, 4}}}));
}

/// relu (NNKernels.cpp): bit-identical to the reference, NaN and -0
/// included (both give +0), in the AVX2 and the scalar form (ScalarForms).
TEST_F(FastPath, ReluMatchesReferenceBitwise) {
  for (const Shape &s : {Shape{1, 64, 7, 9}, Shape{5}, Shape{3, 17}}) {
    Tensor x = randomTensor(s, rng, -2, 2);
    float *px = reinterpret_cast<float *>(x.bytes.data());
    px[0] = std::numeric_limits<float>::quiet_NaN();
    px[1] = -0.0f;
    px[2] = -std::numeric_limits<float>::infinity();
    px[3] = std::numeric_limits<float>::infinity();
    Call call{"relu", {}, {x}, {s}};
    expectFastMatchesReferenceBitwise(call);
  }
  EXPECT_FALSE(fastAccepts(
      Call{"relu", {}, {randomTensor({4}, rng, -1, 1, DType::F64)}, {Shape{4}}, DType::F64}));
}

/// where (NNKernels.cpp): a selection with any broadcast, f32 and i32,
/// identical to the reference; a shape that is not the broadcast declines.
TEST_F(FastPath, WhereMatchesReferenceBitwise) {
  auto bools = [&](const Shape &s) {
    Tensor t;
    t.dtype = DType::Bool;
    t.shape = s;
    t.bytes.resize(size_t(numElements(s)));
    for (uint8_t &b : t.bytes)
      b = uint8_t(rng() & 1);
    return t;
  };
  auto i32 = [&](const Shape &s) {
    Tensor t;
    t.dtype = DType::I32;
    t.shape = s;
    t.bytes.resize(size_t(numElements(s)) * 4);
    for (uint8_t &b : t.bytes)
      b = uint8_t(rng());
    return t;
  };
  struct Case {
    Shape c, x, y, out;
  };
  const std::vector<Case> cases = {
      {{1, 1, 16, 33}, {1, 4, 16, 33}, {}, {1, 4, 16, 33}}, // causal mask, scalar fill
      {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}},         // same shapes
      {{4}, {3, 1}, {1, 4}, {3, 4}},                         // all three broadcast
      {{}, {5, 6}, {6}, {5, 6}},                             // scalar condition
      {{2, 1, 3, 1}, {1, 5, 1, 7}, {2, 5, 3, 7}, {2, 5, 3, 7}}, // alternating
      {{1}, {1}, {1}, {1}},                                  // one element
      {{3, 1, 1}, {1}, {3, 2, 2}, {3, 2, 2}},                // merged inner dims
  };
  for (const Case &c : cases) {
    Call f{"where", {}, {bools(c.c), rand(c.x), rand(c.y)}, {c.out}};
    expectFastMatchesReferenceBitwise(f);
    Call n{"where", {}, {bools(c.c), i32(c.x), i32(c.y)}, {c.out}, DType::I32};
    expectFastMatchesReferenceBitwise(n);
  }
  // An output larger than the broadcast, or f64: the reference runs.
  EXPECT_FALSE(fastAccepts(Call{"where", {}, {bools({4}), rand({4}), rand({4})}, {Shape{3, 4}}}));
  EXPECT_FALSE(fastAccepts(
      Call{"where", {}, {bools({4}), rand({1}), rand({1})}, {Shape{1, 4}}}));
  EXPECT_FALSE(fastAccepts(Call{"where",
                                {},
                                {bools({4}), randomTensor({4}, rng, -1, 1, DType::F64),
                                 randomTensor({4}, rng, -1, 1, DType::F64)},
                                {Shape{4}},
                                DType::F64}));
  EXPECT_TRUE(fastAccepts(Call{"where", {}, {bools({4}), rand({1}), rand({1})}, {Shape{4}}}));
}

/// quantize_linear per tensor (QuantKernels.cpp): bit-identical to the
/// reference, including ties (x an odd multiple of scale / 2), saturation,
/// NaN and both output types, with and without a zero point.
TEST(QuantizeLinearFastPath, MatchesReferenceBitwise) {
  std::mt19937 rng(99);
  const float scale = 5.0f / 255.0f;
  Tensor x = randomTensor({4, 300}, rng, -3, 3);
  float *px = reinterpret_cast<float *>(x.bytes.data());
  for (int i = 0; i < 40; ++i)
    px[i] = float(i - 20) * 0.5f * scale; // ties
  px[40] = std::numeric_limits<float>::quiet_NaN();
  px[41] = 1e9f;
  px[42] = -1e9f;
  Tensor s = randomTensor({}, rng);
  *reinterpret_cast<float *>(s.bytes.data()) = scale;
  for (DType yType : {DType::U8, DType::I8})
    for (bool withZp : {false, true}) {
      SCOPED_TRACE(std::string(dtypeName(yType)) + (withZp ? " with zero point" : ""));
      Call call{"quantize_linear", {}, {x, s}, {Shape{4, 300}}, yType};
      if (withZp) {
        Tensor z;
        z.dtype = yType;
        z.shape = {};
        z.bytes = {uint8_t(yType == DType::U8 ? 128 : 0xF6)}; // 128 / -10
        call.inputs.push_back(z);
      }
      expectFastMatchesReferenceBitwise(call);
    }
  // Per-axis parameters and f64 inputs take the reference.
  Tensor s2 = randomTensor({4}, rng, 0.01f, 0.1f);
  EXPECT_FALSE(fastAccepts(
      Call{"quantize_linear", {}, {randomTensor({4, 3}, rng), s2}, {Shape{4, 3}}, DType::U8}));
}

//===----------------------------------------------------------------------===//
// qmatmul / qconv integer path: int32 sums from oneDNN (DnnlQuantized.cpp)
//===----------------------------------------------------------------------===//

/// Whether oneDNN sums int8 products exactly on this CPU (VNNI): only then
/// do the oneDNN int8 fast paths take calls.
bool haveVnni() {
#if defined(LOOM_TEST_HAVE_DNNL)
  const unsigned isa = unsigned(dnnl::get_effective_cpu_isa());
  auto has = [isa](dnnl::cpu_isa want) { return (isa & unsigned(want)) == unsigned(want); };
  return has(dnnl::cpu_isa::avx512_core_vnni) || has(dnnl::cpu_isa::avx2_vnni);
#else
  return false;
#endif
}

/// Uniform random integers over the whole range of `type` (u8 or i8).
Tensor randomInts(const Shape &shape, std::mt19937 &rng, DType type) {
  Tensor t;
  t.dtype = type;
  t.shape = shape;
  t.bytes.resize(size_t(numElements(shape)));
  std::uniform_int_distribution<int> dist(0, 255);
  for (uint8_t &b : t.bytes)
    b = uint8_t(dist(rng));
  return t;
}

/// A one-element tensor of dtype `type` holding `v`.
Tensor scalarOf(DType type, double v) {
  Tensor t;
  t.dtype = type;
  t.shape = {1};
  t.bytes.resize(dtypeSize(type));
  if (type == DType::F32) {
    const float f = float(v);
    std::memcpy(t.bytes.data(), &f, sizeof f);
  } else {
    t.bytes[0] = uint8_t(int(v) & 0xFF); // u8, or i8 in two's complement
  }
  return t;
}

/// The form of an integer-path call: the activation dtype (f32 means
/// `dynamic` = 1), the weight scale, weight zero point (random i8 values of
/// the scale's shape when set), bias, epilogue and output dtype.
struct QForm {
  DType act = DType::U8;
  bool perChannel = true;
  bool weightZeroPoint = false;
  bool bias = false;
  std::string activation = "none";
  DType y = DType::F32;
};

/// The nine operands of qmatmul / qconv for activation shape `xs`, logical
/// weight shape `ws` (i8, random in [-128, 127]), scale shape `ss` and a
/// bias of `channels` values (when `f.bias`); the activation is quantized
/// per tensor with a non-zero zero point.
void setQuantOperands(Call &call, const Shape &xs, const Shape &ws, const Shape &ss,
                      int64_t channels, const QForm &f, std::mt19937 &rng) {
  call.inputs.assign(9, std::nullopt);
  if (f.act == DType::F32) {
    call.inputs[0] = randomTensor(xs, rng, -1.0f, 2.0f);
    call.attrs.set("dynamic", int64_t(1));
  } else {
    call.inputs[0] = randomInts(xs, rng, f.act);
    call.inputs[1] = scalarOf(DType::F32, 0.0173);
    call.inputs[2] = scalarOf(f.act, f.act == DType::U8 ? 121 : -9);
  }
  call.inputs[3] = randomInts(ws, rng, DType::I8);
  call.inputs[4] = randomTensor(ss, rng, 0.002f, 0.02f);
  if (f.weightZeroPoint)
    call.inputs[5] = randomInts(ss, rng, DType::I8);
  if (f.bias)
    call.inputs[6] = randomTensor({channels}, rng, -1.0f, 1.0f);
  call.attrs.set("activation", f.activation);
  if (f.activation == "clip") {
    call.attrs.set("activation_alpha", -0.5);
    call.attrs.set("activation_beta", 1.0);
  }
}

/// For a quantized output (`f.y` u8/i8): runs the reference with an f32
/// output, then sets y_scale / y_zero_point so that the results span a bit
/// more than the dtype's range (some saturate at both ends).
void quantizeOutput(Call &call, const QForm &f) {
  if (f.y == DType::F32)
    return;
  std::vector<Tensor> out;
  call.outType = DType::F32;
  KernelArgs a = makeArgs(call, out);
  registry().lookupReference(call.kernel, inputTypes(call))->fn(a);
  const float *y = reinterpret_cast<const float *>(out[0].bytes.data());
  const auto [lo, hi] = std::minmax_element(y, y + numElements(*call.outputs[0]));
  const double scale = (double(*hi) - double(*lo)) / 270 + 1e-6;
  const int qmin = f.y == DType::U8 ? 0 : -128;
  call.inputs[7] = scalarOf(DType::F32, scale);
  call.inputs[8] = scalarOf(f.y, std::clamp(qmin - int(std::lround(*lo / scale)) - 8, qmin, qmin + 255));
  call.outType = f.y;
}

/// The integer-loop fast path of `kernel`: the entry the registry picks for
/// a call with packed int4 weights, which the oneDNN int8 path declines.
const KernelEntry *loopEntry(const std::string &kernel) {
  std::mt19937 rng(5);
  const bool conv = kernel == "qconv";
  const Shape xs = conv ? Shape{1, 2, 4, 4} : Shape{2, 8};
  const Shape ws = conv ? Shape{3, 2, 3, 3} : Shape{8, 4};
  const Shape ss = conv ? Shape{3, 1, 1, 1} : Shape{1, 4};
  Call call{kernel, {}, {}, {conv ? Shape{1, 3, 2, 2} : Shape{2, 4}}};
  setQuantOperands(call, xs, ws, ss, ws[conv ? 0 : 1], QForm{}, rng);
  call.inputs[3] = randomInts({(numElements(ws) + 1) / 2}, rng, DType::I8);
  call.attrs.set("w_bits", int64_t(4));
  call.attrs.set("w_shape", std::vector<int64_t>(ws.begin(), ws.end()));
  std::vector<Tensor> out;
  KernelArgs a = makeArgs(call, out);
  return registry().lookup(kernel, a, true);
}

/// Runs an integer-path call through the registry's choice (as a session
/// does) and through the reference, and compares: f32 within 1e-4
/// relative, quantized within +-1. `viaInt8` says whether the registry
/// must pick the oneDNN int8 path (on a CPU with VNNI) or the integer loop.
void expectIntegerPathMatches(const Call &call, bool viaInt8, uint8_t poison);
void expectIntegerPathMatches(const Call &call, bool viaInt8) {
  for (uint8_t poison : kPoisons) {
    SCOPED_TRACE(poisonName(poison));
    expectIntegerPathMatches(call, viaInt8, poison);
  }
}

void expectIntegerPathMatches(const Call &call, bool viaInt8, uint8_t poison) {
  std::vector<Tensor> fastOut, refOut;
  KernelArgs fa = makeArgs(call, fastOut, poison), ra = makeArgs(call, refOut, otherPoison(poison));
  const KernelEntry *fast = registry().lookup(call.kernel, fa, true);
  const KernelEntry *loop = loopEntry(call.kernel);
  ASSERT_TRUE(fast && fast->impl == KernelImpl::Fast);
  ASSERT_TRUE(loop && loop->impl == KernelImpl::Fast);
  if (viaInt8 && haveVnni())
    EXPECT_NE(fast, loop) << "the oneDNN int8 path declined the call";
  else
    EXPECT_EQ(fast, loop) << "the oneDNN int8 path took a call it must decline";
  const KernelEntry *ref = registry().lookupReference(call.kernel, inputTypes(call));
  ASSERT_NE(ref, nullptr);
  try {
    fast->fn(fa);
    ref->fn(ra);
  } catch (const KernelError &e) {
    FAIL() << e.message;
  }
  const int64_t n = numElements(*call.outputs[0]);
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    double f, r, tol;
    if (call.outType == DType::F32) {
      f = reinterpret_cast<const float *>(fastOut[0].bytes.data())[i];
      r = reinterpret_cast<const float *>(refOut[0].bytes.data())[i];
      tol = 1e-4 * std::fabs(r) + 1e-6;
    } else {
      const bool u8 = call.outType == DType::U8;
      f = u8 ? fastOut[0].bytes[size_t(i)] : int8_t(fastOut[0].bytes[size_t(i)]);
      r = u8 ? refOut[0].bytes[size_t(i)] : int8_t(refOut[0].bytes[size_t(i)]);
      tol = 1;
    }
    if (!(std::fabs(f - r) <= tol) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": fast " << f << ", reference " << r;
  }
  EXPECT_EQ(bad, 0);
}

/// A qmatmul call: A `as` [..., M, K], W [K, N].
Call qmatmulCall(const Shape &as, int64_t N, const QForm &f, std::mt19937 &rng) {
  const int64_t K = as.back();
  Shape ys = as;
  ys.back() = N;
  Call call{"qmatmul", {}, {}, {ys}};
  setQuantOperands(call, as, {K, N}, f.perChannel ? Shape{1, N} : Shape{1, 1}, N, f, rng);
  quantizeOutput(call, f);
  return call;
}

/// The integer-path forms the tests cycle through: u8, i8 and dynamic
/// activations, each with per-channel and per-tensor scales and f32, u8
/// and i8 outputs; bias and epilogue vary with `i`.
std::vector<QForm> integerForms() {
  const char *acts[] = {"none", "relu", "clip", "gelu", "leaky_relu", "relu"};
  std::vector<QForm> forms;
  for (DType act : {DType::U8, DType::I8, DType::F32})
    for (DType y : {DType::F32, DType::U8, DType::I8})
      for (bool perChannel : {true, false}) {
        QForm f;
        f.act = act;
        f.y = y;
        f.perChannel = perChannel;
        f.bias = forms.size() % 3 != 1;
        f.activation = acts[forms.size() % 6];
        forms.push_back(f);
      }
  return forms;
}

std::string formName(const QForm &f) {
  return std::string(f.act == DType::F32 ? "dynamic" : dtypeName(f.act)) + " -> " +
         dtypeName(f.y) + (f.perChannel ? " per-channel" : " per-tensor") +
         (f.weightZeroPoint ? " w_zp" : "") + (f.bias ? " bias " : " ") + f.activation;
}

TEST_F(FastPath, QMatmulInt8MatchesReference) {
  auto dim = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int threads = 1;
  for (QForm f : integerForms())
    for (int rep = 0; rep < 2; ++rep) {
      f.weightZeroPoint = rep == 1; // compensated after oneDNN's sums
      Shape as;
      for (int64_t b = dim(0, 2); b > 0; --b) // batch dimensions
        as.push_back(dim(1, 3));
      as.push_back(dim(1, 24));
      as.push_back(dim(1, 200));
      Call call = qmatmulCall(as, dim(1, 70), f, rng);
      call.threads = threads = 3 - threads;
      SCOPED_TRACE(formName(f) + " A " + std::to_string(numElements(as)) + " threads " +
                   std::to_string(threads));
      expectIntegerPathMatches(call, true);
    }
  // Sizes of a transformer layer, one token and a prompt.
  for (int64_t M : {1, 48}) {
    QForm f;
    f.act = DType::F32;
    f.bias = true;
    f.activation = "gelu";
    Call call = qmatmulCall({1, M, 256}, 384, f, rng);
    call.threads = 2;
    expectIntegerPathMatches(call, true);
  }
}

/// A qconv call: X [N, C, spatial...], W [O, C/group, k...], per-channel or
/// per-tensor w_scale; the pads attribute as given (none when empty).
Call qconvCall(const Shape &xs, int64_t O, const Shape &k, int64_t group,
               const std::vector<int64_t> &strides, const std::vector<int64_t> &dil,
               const std::vector<int64_t> &pads, const QForm &f, std::mt19937 &rng) {
  Shape ws = {O, xs[1] / group};
  ws.insert(ws.end(), k.begin(), k.end());
  Shape ss(ws.size(), 1);
  if (f.perChannel)
    ss[0] = O;
  const std::vector<int64_t> zeros(2 * k.size(), 0);
  Call call{"qconv", {}, {}, {convOut(xs, ws, strides, dil, pads.empty() ? zeros : pads)}};
  setQuantOperands(call, xs, ws, ss, O, f, rng);
  call.attrs.set("group", group);
  call.attrs.set("strides", strides);
  call.attrs.set("dilations", dil);
  if (!pads.empty())
    call.attrs.set("pads", pads);
  quantizeOutput(call, f);
  return call;
}

TEST_F(FastPath, QConvInt8MatchesReference) {
  auto dim = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int threads = 1;
  int i = 0;
  for (QForm f : integerForms())
    for (int rep = 0; rep < 2; ++rep, ++i) {
      f.weightZeroPoint = rep == 1; // compensated after oneDNN's sums
      // Random geometry: 1-3 spatial dims, plain / grouped / depthwise.
      const size_t ns = size_t(1 + i % 3);
      const int kind = (i / 3) % 3;
      const int64_t group = kind == 0 ? 1 : kind == 1 ? dim(2, 3) : dim(3, 8);
      const int64_t C = kind == 2 ? group : group * dim(1, 6);
      const int64_t O = kind == 2 ? group * dim(1, 2) : group * dim(1, 5);
      Shape xs = {dim(1, 2), C}, k;
      std::vector<int64_t> strides, dil, pads(2 * ns);
      for (size_t d = 0; d < ns; ++d) {
        k.push_back(dim(1, ns == 3 ? 2 : 3));
        strides.push_back(dim(1, 2));
        dil.push_back(dim(1, 2));
        pads[d] = dim(0, 2);
        pads[ns + d] = dim(0, 2);
        xs.push_back((k[d] - 1) * dil[d] + 1 + dim(0, ns == 3 ? 3 : 9));
      }
      Call call = qconvCall(xs, O, k, group, strides, dil, pads, f, rng);
      call.threads = threads = 3 - threads;
      SCOPED_TRACE(formName(f) + " X " + std::to_string(numElements(xs)) + " spatial " +
                   std::to_string(ns) + " group " + std::to_string(group));
      expectIntegerPathMatches(call, true);
    }
}

/// Layers of a quantized CNN (MobileNet-like): the first conv, depthwise,
/// pointwise; and auto_pad.
TEST_F(FastPath, QConvInt8NetworkLayersMatchReference) {
  struct Layer {
    Shape x;
    int64_t O, k, group, stride;
  };
  const std::vector<Layer> layers = {{{1, 3, 32, 32}, 16, 3, 1, 2},
                                     {{1, 32, 28, 28}, 32, 3, 32, 1},
                                     {{1, 32, 28, 28}, 32, 3, 32, 2},
                                     {{1, 32, 14, 14}, 64, 1, 1, 1},
                                     {{2, 64, 7, 7}, 128, 3, 1, 1}};
  QForm f;
  f.bias = true;
  f.activation = "clip";
  for (DType act : {DType::U8, DType::F32})
    for (const Layer &l : layers) {
      f.act = act;
      f.weightZeroPoint = act == DType::F32; // as ONNX Runtime's u8 weights
      const int64_t p = l.k / 2;
      Call call = qconvCall(l.x, l.O, {l.k, l.k}, l.group, {l.stride, l.stride}, {1, 1},
                            {p, p, p, p}, f, rng);
      call.threads = 2;
      SCOPED_TRACE("X " + std::to_string(l.x[1]) + " O " + std::to_string(l.O));
      expectIntegerPathMatches(call, true);
    }
  for (const char *mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    Call call = qconvCall({1, 4, 7, 6}, 6, {4, 3}, 2, {2, 1}, {1, 1}, {}, QForm{}, rng);
    call.attrs.set("auto_pad", std::string(mode));
    call.outputs = {std::string(mode) == "VALID" ? Shape{1, 6, 2, 4} : Shape{1, 6, 4, 6}};
    SCOPED_TRACE(mode);
    expectIntegerPathMatches(call, true);
  }
}

/// An all-zero dynamic activation quantizes with scale 1, zero point 0.
TEST_F(FastPath, QMatmulInt8DynamicAllZero) {
  QForm f;
  f.act = DType::F32;
  f.bias = true;
  Call call = qmatmulCall({3, 16}, 5, f, rng);
  std::fill(call.inputs[0]->bytes.begin(), call.inputs[0]->bytes.end(), 0);
  expectIntegerPathMatches(call, true);
}

/// Calls the oneDNN int8 path declines run the integer loop: packed int4
/// weights, group-wise scales along the reduction axes, f32 activations
/// without `dynamic` (weight-only). A weight zero point, non-zero or all
/// zero, takes oneDNN.
TEST_F(FastPath, QuantizedInt8Declines) {
  QForm f;
  f.bias = true;
  // int4 weights.
  Call w4 = qmatmulCall({4, 32}, 8, f, rng);
  w4.inputs[3] = randomInts({32 * 8 / 2}, rng, DType::I8);
  w4.attrs.set("w_bits", int64_t(4));
  w4.attrs.set("w_shape", std::vector<int64_t>{32, 8});
  expectIntegerPathMatches(w4, false);
  Call c4 = qconvCall({1, 4, 6, 6}, 6, {3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, f, rng);
  c4.inputs[3] = randomInts({6 * 4 * 9 / 2}, rng, DType::I8);
  c4.attrs.set("w_bits", int64_t(4));
  c4.attrs.set("w_shape", std::vector<int64_t>{6, 4, 3, 3});
  expectIntegerPathMatches(c4, false);
  // Group-wise scales along K / along the input channels.
  Call gk = qmatmulCall({4, 64}, 8, f, rng);
  gk.inputs[4] = randomTensor({4, 8}, rng, 0.002f, 0.02f);
  expectIntegerPathMatches(gk, false);
  Call gc = qconvCall({1, 4, 6, 6}, 6, {3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, f, rng);
  gc.inputs[4] = randomTensor({6, 2, 1, 1}, rng, 0.002f, 0.02f);
  expectIntegerPathMatches(gc, false);
  // Weight-only: f32 activations, dynamic = 0.
  QForm wf = f;
  wf.act = DType::F32;
  Call wo = qmatmulCall({4, 32}, 8, wf, rng);
  wo.attrs.set("dynamic", int64_t(0));
  expectIntegerPathMatches(wo, false);
  // Weight zero points: non-zero (compensated after oneDNN's sums), all
  // zero.
  for (int zp : {3, 0}) {
    Call mz = qmatmulCall({5, 40}, 9, f, rng);
    Tensor z = randomInts({1, 9}, rng, DType::I8);
    std::fill(z.bytes.begin(), z.bytes.end(), uint8_t(zp));
    mz.inputs[5] = z;
    expectIntegerPathMatches(mz, true);
    Call cz = qconvCall({1, 4, 6, 6}, 6, {3, 3}, 2, {1, 1}, {1, 1}, {1, 1, 1, 1}, f, rng);
    Tensor zc = randomInts({6, 1, 1, 1}, rng, DType::I8);
    std::fill(zc.bytes.begin(), zc.bytes.end(), uint8_t(zp));
    cz.inputs[5] = zc;
    expectIntegerPathMatches(cz, true);
  }
}

/// Runs reference kernel `name` on `ins` into `outs` (allocated here with
/// the given shapes and dtypes).
void runReference(const std::string &name, const Attrs &attrs,
                  const std::vector<const Tensor *> &ins, std::vector<Tensor> &outs) {
  KernelArgs a{attrs, {}, {}, 1};
  std::vector<DType> types;
  for (const Tensor *t : ins) {
    a.inputs.push_back(const_cast<Tensor *>(t)->ref());
    types.push_back(t->dtype);
  }
  for (Tensor &t : outs) {
    t.bytes.assign(size_t(numElements(t.shape)) * dtypeSize(t.dtype), 0);
    a.outputs.push_back(t.ref());
  }
  const KernelEntry *e = registry().lookupReference(name, types);
  ASSERT_NE(e, nullptr) << name;
  e->fn(a);
}

/// A dynamic qconv with a weight zero point (ONNX Runtime's u8 weights
/// shifted to i8) computes exactly what ONNX Runtime's graph does:
/// DynamicQuantizeLinear and ConvInteger (their reference kernels, which
/// share no code with the fast path), then Cast(acc) * (x_scale * w_scale)
/// + bias and Relu in f32. Bit for bit, on both layers' geometries.
TEST_F(FastPath, QConvInt8MatchesDynamicQuantizationGraph) {
  struct Layer {
    Shape x;
    int64_t O, k, stride;
  };
  for (const Layer &l : {Layer{{1, 16, 20, 19}, 24, 3, 1}, Layer{{1, 8, 17, 17}, 16, 3, 2},
                         Layer{{1, 32, 9, 9}, 40, 1, 1}}) {
    const int64_t C = l.x[1], p = l.k / 2;
    Tensor x = randomTensor(l.x, rng, -1.0f, 2.0f);
    x.bytes[40] = 0; // exact zeros and repeated values quantize like the rest
    Tensor wu = randomInts({l.O, C, l.k, l.k}, rng, DType::U8);
    const uint8_t wzU8 = 131;
    Tensor wz;
    wz.dtype = DType::U8;
    wz.shape = {};
    wz.bytes = {wzU8};
    // The graph: DynamicQuantizeLinear -> ConvInteger.
    std::vector<Tensor> dq(3);
    dq[0].dtype = DType::U8;
    dq[0].shape = l.x;
    dq[1].dtype = DType::F32;
    dq[1].shape = {};
    dq[2].dtype = DType::U8;
    dq[2].shape = {};
    runReference("dynamic_quantize_linear", {}, {&x}, dq);
    Attrs convAt;
    convAt.set("pads", std::vector<int64_t>{p, p, p, p});
    convAt.set("strides", std::vector<int64_t>{l.stride, l.stride});
    const Shape ys = convOut(l.x, {l.O, C, l.k, l.k}, {l.stride, l.stride}, {1, 1},
                             {p, p, p, p});
    std::vector<Tensor> acc(1);
    acc[0].dtype = DType::I32;
    acc[0].shape = ys;
    runReference("conv_integer", convAt, {&dq[0], &wu, &dq[2], &wz}, acc);
    // The same layer as the fast path's qconv: W and its zero point minus 128.
    Call call{"qconv", convAt, {}, {ys}};
    call.inputs.assign(9, std::nullopt);
    call.inputs[0] = x;
    call.attrs.set("dynamic", int64_t(1));
    call.attrs.set("activation", std::string("relu"));
    Tensor wi = wu;
    wi.dtype = DType::I8;
    for (uint8_t &b : wi.bytes)
      b = uint8_t(int(b) - 128);
    call.inputs[3] = wi;
    const float wScale = 0.0037f;
    call.inputs[4] = scalarOf(DType::F32, wScale);
    call.inputs[4]->shape = {1, 1, 1, 1};
    call.inputs[5] = scalarOf(DType::I8, int(wzU8) - 128);
    call.inputs[5]->shape = {1, 1, 1, 1};
    call.inputs[6] = randomTensor({l.O}, rng, -0.5f, 0.5f);
    std::vector<Tensor> out;
    KernelArgs a = makeArgs(call, out);
    const KernelEntry *fast = registry().lookup("qconv", a, true);
    ASSERT_TRUE(fast && fast->impl == KernelImpl::Fast);
    fast->fn(a);
    float xs;
    std::memcpy(&xs, dq[1].bytes.data(), sizeof xs);
    const float mult = xs * wScale;
    const float *bias = reinterpret_cast<const float *>(call.inputs[6]->bytes.data());
    const int32_t *sums = reinterpret_cast<const int32_t *>(acc[0].bytes.data());
    const float *got = reinterpret_cast<const float *>(out[0].bytes.data());
    const int64_t plane = ys[2] * ys[3];
    int bad = 0;
    for (int64_t i = 0; i < numElements(ys); ++i) {
      float want = float(sums[i]) * mult;
      want = want + bias[i / plane];
      want = want > 0 ? want : 0.0f;
      if (std::memcmp(&want, &got[i], sizeof want) != 0 && bad++ < 5)
        ADD_FAILURE() << "O " << l.O << " element " << i << ": " << got[i] << ", graph "
                      << want;
    }
    EXPECT_EQ(bad, 0);
  }
}

/// The int8 weights qconv keeps reordered (with oneDNN's compensation) are
/// revalidated on every call: new values at the same address, one changed
/// value, and another tensor of the same shape are all used.
TEST_F(FastPath, QConvInt8CachedWeightsFollowTheirBuffer) {
  QForm f;
  f.act = DType::I8;
  Call call = qconvCall({1, 16, 12, 12}, 32, {3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, f, rng);
  expectIntegerPathMatches(call, true);
  Tensor &w = *call.inputs[3];
  const Tensor fresh = randomInts(w.shape, rng, DType::I8);
  std::memcpy(w.bytes.data(), fresh.bytes.data(), w.bytes.size());
  expectIntegerPathMatches(call, true);
  w.bytes[100] = uint8_t(w.bytes[100] ^ 0x55);
  expectIntegerPathMatches(call, true);
  call.inputs[3] = randomInts(w.shape, rng, DType::I8);
  expectIntegerPathMatches(call, true);
}

} // namespace
