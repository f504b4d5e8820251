//===- MathKernelTest.cpp - Unit tests of runtime pieces the ONNX node tests
//                          do not reach -----------------------------------===//
//
// 16-bit float conversions, the registry's fast-path selection, attribute
// getters, and kernel cases the ONNX node tests do not cover (Cast of large
// integers, Einsum with broadcast ellipses, kernel error messages).
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/Float16.h"
#include "loom/Runtime/Kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

using namespace loom::rt;

namespace {

template <typename T> Tensor makeTensor(DType dt, Shape shape, std::vector<T> v) {
  Tensor t;
  t.dtype = dt;
  t.shape = std::move(shape);
  t.bytes.resize(v.size() * sizeof(T));
  std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

template <typename T> std::vector<T> values(const Tensor &t) {
  std::vector<T> v(t.bytes.size() / sizeof(T));
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

Tensor emptyLike(DType dt, Shape shape) {
  Tensor t;
  t.dtype = dt;
  t.shape = std::move(shape);
  t.bytes.assign(size_t(t.numElements()) * dtypeSize(dt), 0);
  return t;
}

/// Runs the reference kernel `name` on `ins`, filling `outs`.
void run(const std::string &name, const Attrs &attrs, std::vector<Tensor *> ins,
         std::vector<Tensor *> outs) {
  registerBuiltinKernels();
  KernelArgs args{attrs, {}, {}, 1};
  std::vector<DType> dts;
  for (Tensor *t : ins) {
    args.inputs.push_back(t->ref());
    dts.push_back(t->dtype);
  }
  for (Tensor *t : outs)
    args.outputs.push_back(t->ref());
  const KernelEntry *e = KernelRegistry::global().lookupReference(name, dts);
  ASSERT_NE(e, nullptr) << "no kernel " << name;
  e->fn(args);
}

uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Float16, EveryHalfRoundTrips) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    float f = halfBitsToFloat(uint16_t(b));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(f)))) << b;
      continue;
    }
    EXPECT_EQ(floatToHalfBits(f), b) << "bits 0x" << std::hex << b;
  }
}

TEST(Float16, RoundsToNearestEven) {
  EXPECT_EQ(floatToHalfBits(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie: even
  EXPECT_EQ(floatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalfBits(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(65520.0f), 0x7c00); // overflows to inf
  EXPECT_EQ(floatToHalfBits(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -24)), 0x0001); // min subnormal
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -25)), 0x0000); // tie: even (0)
  EXPECT_EQ(floatToHalfBits(1.5f * std::ldexp(1.0f, -25)), 0x0001);
  EXPECT_EQ(floatToHalfBits(-0.0f), 0x8000);
}

TEST(Float16, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(floatToBf16Bits(bitsFloat(0x3ef5eeb0)), 0x3ef6);
  EXPECT_EQ(floatToBf16Bits(bitsFloat(0x3f808000)), 0x3f80); // tie: even
  EXPECT_EQ(floatToBf16Bits(bitsFloat(0x3f818000)), 0x3f82); // tie: even
  EXPECT_TRUE(std::isnan(bf16BitsToFloat(floatToBf16Bits(std::nanf("")))));
  EXPECT_EQ(floatBits(bf16BitsToFloat(0x3f80)), 0x3f800000u);
}

TEST(Registry, PrefersAcceptingFastPath) {
  KernelRegistry r;
  auto entry = [](KernelImpl impl, std::vector<DType> dts, int tag,
                  std::function<bool(const KernelArgs &)> accepts = nullptr) {
    KernelEntry e;
    e.name = "op";
    e.impl = impl;
    e.inputDTypes = std::move(dts);
    e.fn = [tag](KernelArgs &a) { a.threads = tag; };
    e.accepts = std::move(accepts);
    return e;
  };
  r.add(entry(KernelImpl::Reference, {}, 1));
  r.add(entry(KernelImpl::Fast, {DType::F32}, 2,
              [](const KernelArgs &a) { return a.inputs[0].numElements() > 4; }));
  Attrs attrs;
  float data[8] = {};
  KernelArgs big{attrs, {TensorRef{DType::F32, {8}, data, true}}, {}, 1};
  KernelArgs small{attrs, {TensorRef{DType::F32, {2}, data, true}}, {}, 1};
  KernelArgs other{attrs, {TensorRef{DType::F64, {8}, data, true}}, {}, 1};
  auto tagOf = [](const KernelEntry *e) {
    Attrs none;
    KernelArgs a{none, {}, {}, 0};
    e->fn(a);
    return a.threads;
  };
  EXPECT_EQ(tagOf(r.lookup("op", big)), 2);
  EXPECT_EQ(tagOf(r.lookup("op", big, /*allowFast=*/false)), 1);
  EXPECT_EQ(tagOf(r.lookup("op", small)), 1);
  EXPECT_EQ(tagOf(r.lookup("op", other)), 1);
  EXPECT_EQ(tagOf(r.lookupReference("op", {DType::F32})), 1);
  EXPECT_EQ(r.lookup("nope", big), nullptr);
  EXPECT_EQ(r.names(), std::vector<std::string>{"op"});
}

TEST(Attrs, DefaultsKindsAndErrors) {
  Attrs a;
  a.set("i", int64_t(3));
  a.set("f", 0.5);
  a.set("s", std::string("x"));
  EXPECT_EQ(a.getInt("i", 0), 3);
  EXPECT_EQ(a.getInt("missing", 7), 7);
  EXPECT_EQ(a.getFloat("i", 0), 3.0);
  EXPECT_EQ(a.getFloat("f", 0), 0.5);
  EXPECT_EQ(a.getString("s", ""), "x");
  EXPECT_THROW(a.getInt("s", 0), KernelError);
  EXPECT_THROW(a.requireInt("missing"), KernelError);
  EXPECT_EQ(parseDType("bf16"), DType::BF16);
  EXPECT_EQ(parseDType("f8"), std::nullopt);
}

TEST(MathKernels, CastKeepsLargeIntegersAndTruncates) {
  Tensor in = makeTensor<int64_t>(DType::I64, {2}, {(1LL << 53) + 1, -5});
  Attrs attrs;
  attrs.set("to", DType::I32);
  Tensor wide = emptyLike(DType::U64, {2});
  run("cast", {}, {&in}, {&wide});
  EXPECT_EQ(values<uint64_t>(wide)[0], (1ULL << 53) + 1);
  Tensor f = makeTensor<float>(DType::F32, {3}, {-2.7f, 2.7f, 0.0f});
  Tensor ints = emptyLike(DType::I32, {3});
  run("cast", attrs, {&f}, {&ints});
  EXPECT_EQ(values<int32_t>(ints), (std::vector<int32_t>{-2, 2, 0}));
  Tensor bools = emptyLike(DType::Bool, {3});
  run("cast", {}, {&f}, {&bools});
  EXPECT_EQ(values<uint8_t>(bools), (std::vector<uint8_t>{1, 1, 0}));
}

TEST(MathKernels, ErrorsNameTheKernel) {
  Tensor a = makeTensor<float>(DType::F32, {2}, {1, 2});
  Tensor b = makeTensor<float>(DType::F32, {3}, {1, 2, 3});
  Tensor out = emptyLike(DType::F32, {3});
  try {
    run("add", {}, {&a, &b}, {&out});
    FAIL() << "expected a KernelError";
  } catch (const KernelError &e) {
    EXPECT_NE(e.message.find("add:"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("broadcast"), std::string::npos) << e.message;
  }
}

TEST(LinalgKernels, EinsumBroadcastEllipsisMatchesMatMul) {
  // [2,1,2,3] x [3,3,2] -> [2,3,2,2], by Einsum and by MatMul.
  std::vector<float> av(12), bv(18);
  for (size_t i = 0; i < av.size(); ++i)
    av[i] = float(i % 5) - 2.0f;
  for (size_t i = 0; i < bv.size(); ++i)
    bv[i] = float(i % 7) * 0.5f;
  Tensor a = makeTensor<float>(DType::F32, {2, 1, 2, 3}, av);
  Tensor b = makeTensor<float>(DType::F32, {3, 3, 2}, bv);
  Tensor e = emptyLike(DType::F32, {2, 3, 2, 2});
  Tensor m = emptyLike(DType::F32, {2, 3, 2, 2});
  Attrs attrs;
  attrs.set("equation", std::string("...ij,...jk->...ik"));
  run("einsum", attrs, {&a, &b}, {&e});
  run("matmul", {}, {&a, &b}, {&m});
  EXPECT_EQ(values<float>(e), values<float>(m));
  std::vector<float> got = values<float>(m);
  EXPECT_NE(std::count(got.begin(), got.end(), 0.0f), long(got.size()));
}

TEST(TensorKernels, SliceNegativeStepClampsStart) {
  // x[-100::-1] selects nothing before index 0: clamped start 0 gives [0].
  Tensor x = makeTensor<int32_t>(DType::I32, {4}, {10, 11, 12, 13});
  Tensor starts = makeTensor<int64_t>(DType::I64, {1}, {-100});
  Tensor ends = makeTensor<int64_t>(DType::I64, {1}, {-1000});
  Tensor axes = makeTensor<int64_t>(DType::I64, {1}, {0});
  Tensor steps = makeTensor<int64_t>(DType::I64, {1}, {-1});
  Tensor y = emptyLike(DType::I32, {1});
  run("slice", {}, {&x, &starts, &ends, &axes, &steps}, {&y});
  EXPECT_EQ(values<int32_t>(y), std::vector<int32_t>{10});
  Tensor starts2 = makeTensor<int64_t>(DType::I64, {1}, {100});
  Tensor rev = emptyLike(DType::I32, {4});
  run("slice", {}, {&x, &starts2, &ends, &axes, &steps}, {&rev});
  EXPECT_EQ(values<int32_t>(rev), (std::vector<int32_t>{13, 12, 11, 10}));
}

} // namespace
