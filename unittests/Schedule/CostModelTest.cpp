//===- CostModelTest.cpp - Roofline estimates and transfers ---------------===//
//
// Every expected value is worked out by hand in the comment above it:
// GOP/s = 1e3 op/µs, GB/s = 1e3 B/µs, time = dispatch + max(compute, memory).
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/CostModel.h"

#include <gtest/gtest.h>

using namespace loom::cost;
using loom::target::DType;
using loom::target::OpClass;

namespace {

/// f32 100 GOP/s, f16 400, i8 1600; 10 GB/s; 2 µs dispatch; matmul/conv at
/// half of peak, everything else at a tenth.
loom::target::DeviceDesc device() {
  loom::target::DeviceDesc d;
  d.name = "cpu";
  d.kind = "cpu";
  d.peakGops[size_t(DType::F32)] = 100; // 1e5 op/us
  d.peakGops[size_t(DType::F16)] = 400; // 4e5 op/us
  d.peakGops[size_t(DType::I8)] = 1600; // 1.6e6 op/us
  d.bandwidthGBs = 10;                  // 1e4 B/us
  d.dispatchUs = 2;
  d.efficiency.fill(0.1);
  d.efficiency[size_t(OpClass::MatMul)] = 0.5;
  d.efficiency[size_t(OpClass::Conv)] = 0.5;
  return d;
}

TensorDesc t(std::vector<int64_t> shape, const char *type = "f32",
             bool constant = false) {
  int64_t bytes = 4;
  std::string s = type;
  if (s == "f16" || s == "bf16")
    bytes = 2;
  else if (s == "i8" || s == "ui8" || s == "i1")
    bytes = 1;
  else if (s == "i64" || s == "f64")
    bytes = 8;
  return TensorDesc{std::move(shape), bytes, s, constant};
}

TEST(CostModel, MatMulIsComputeBound) {
  // [64, 256] x [256, 128]: 2·64·128·256 = 4194304 FLOP at 5e4 FLOP/us =
  // 83.88608 us; bytes (16384 + 32768 + 8192)·4 = 229376 B at 1e4 B/us =
  // 22.9376 us. Compute wins: 2 + 83.88608.
  KernelDesc k{"matmul", {t({64, 256}), t({256, 128})}, {t({64, 128})}};
  Work w = estimateWork(k);
  EXPECT_DOUBLE_EQ(w.flops, 4194304.0);
  EXPECT_DOUBLE_EQ(w.bytes, 229376.0);
  EXPECT_EQ(w.opClass, OpClass::MatMul);
  EXPECT_EQ(computeType(k), DType::F32);
  EXPECT_NEAR(*estimateMicros(k, device()), 2 + 83.88608, 1e-9);
}

TEST(CostModel, F16MatMulUsesTheF16Peak) {
  // The same matmul in f16: 4194304 FLOP at 400·0.5 = 2e5 FLOP/us =
  // 20.97152 us; bytes halve to 114688 B = 11.4688 us. Compute-bound:
  // 2 + 20.97152.
  KernelDesc k{"matmul",
               {t({64, 256}, "f16"), t({256, 128}, "f16")},
               {t({64, 128}, "f16")}};
  EXPECT_EQ(computeType(k), DType::F16);
  EXPECT_NEAR(*estimateMicros(k, device()), 2 + 20.97152, 1e-9);
}

TEST(CostModel, I8MatMulIsMemoryBoundAtTheI8Peak) {
  // matmul_integer i8 x i8 -> i32: 4194304 op at 1600·0.5 = 8e5 op/us =
  // 5.24288 us; bytes 16384 + 32768 (i8) + 8192·4 (i32) = 81920 B =
  // 8.192 us. Memory-bound: 2 + 8.192.
  KernelDesc k{
      "matmul_integer",
      {t({64, 256}, "i8"), t({256, 128}, "i8"), std::nullopt, std::nullopt},
      {t({64, 128}, "i32")}};
  EXPECT_EQ(computeType(k), DType::I8);
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 4194304.0);
  EXPECT_NEAR(*estimateMicros(k, device()), 2 + 8.192, 1e-9);
}

TEST(CostModel, ElementwiseIsMemoryBound) {
  // add of two 1000-element f32 tensors: 12000 B -> 1.2 us; 1000 FLOP at
  // 1e4 FLOP/us -> 0.1 us.
  KernelDesc k{"add", {t({1000}), t({1000})}, {t({1000})}};
  EXPECT_EQ(estimateWork(k).opClass, OpClass::Elementwise);
  EXPECT_NEAR(*estimateMicros(k, device()), 2 + 1.2, 1e-9);
  // In f16: 6000 B -> 0.6 us; 1000 FLOP at 4e4 FLOP/us -> 0.025 us.
  KernelDesc h{"add", {t({1000}, "f16"), t({1000}, "f16")}, {t({1000}, "f16")}};
  EXPECT_NEAR(*estimateMicros(h, device()), 2 + 0.6, 1e-9);
}

TEST(CostModel, ConvCountsWeightsPerOutput) {
  // W [16, 8, 3, 3]: 72 MACs per output; Y [1, 16, 10, 10] = 1600 outputs.
  KernelDesc k{"conv",
               {t({1, 8, 12, 12}), t({16, 8, 3, 3}), std::nullopt},
               {t({1, 16, 10, 10})}};
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 2.0 * 1600 * 72);
  EXPECT_EQ(estimateWork(k).opClass, OpClass::Conv);
  // qlinear_conv(x, x_scale, x_zp, w, ...): the weights are operand 3.
  KernelDesc q{"qlinear_conv",
               {t({1, 8, 12, 12}, "ui8"), t({}), t({}, "ui8"),
                t({16, 8, 3, 3}, "i8"), t({16}), t({16}, "i8"), t({}),
                t({}, "ui8")},
               {t({1, 16, 10, 10}, "ui8")}};
  EXPECT_DOUBLE_EQ(estimateWork(q).flops, 2.0 * 1600 * 72);
  EXPECT_EQ(computeType(q), DType::I8);
}

TEST(CostModel, QuantizedKernels) {
  // qmatmul(A, a_scale, a_zp, W, ...): 2·K per output; the compute type is
  // A's: i8 for a u8 activation, f32 for weight-only quantization.
  KernelDesc mm{"qmatmul",
                {t({4, 64}, "ui8"), t({}), t({}, "ui8"), t({64, 32}, "i8"),
                 t({1, 32})},
                {t({4, 32})}};
  EXPECT_DOUBLE_EQ(estimateWork(mm).flops, 2.0 * 4 * 32 * 64);
  EXPECT_EQ(computeType(mm), DType::I8);
  KernelDesc weightOnly = mm;
  weightOnly.inputs[0] = t({4, 64});
  EXPECT_EQ(computeType(weightOnly), DType::F32);
  // qconv with a packed int4 W (1-D, 16·8·3·3 / 2 bytes): 72 weights per
  // output, M = 16 from the scale [16, 1, 1, 1]; the bytes read are the
  // packed ones.
  KernelDesc cv{"qconv",
                {t({1, 8, 12, 12}), std::nullopt, std::nullopt,
                 t({576}, "i8"), t({16, 1, 1, 1})},
                {t({1, 16, 10, 10})}};
  EXPECT_DOUBLE_EQ(estimateWork(cv).flops, 2.0 * 1600 * 72);
  KernelDesc cv8 = cv;
  cv8.inputs[3] = t({16, 8, 3, 3}, "i8");
  EXPECT_DOUBLE_EQ(estimateWork(cv8).flops, 2.0 * 1600 * 72);
  EXPECT_LT(estimateWork(cv).bytes, estimateWork(cv8).bytes);
}

TEST(CostModel, GemmUsesInnerDimension) {
  // A [8, 32], Y [8, 16]: K = 32.
  KernelDesc k{"gemm", {t({8, 32}), t({32, 16})}, {t({8, 16})}};
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 2.0 * 128 * 32);
}

TEST(CostModel, AttentionCountsBothProductsAndSoftmax) {
  // Q [2, 8, 16], K [2, 32, 16], V [2, 32, 8]: 2 heads, S = 8, T = 32,
  // D = 16, Dv = 8: 2·8·32·(2·16 + 5 + 2·8) = 512·53 = 27136.
  KernelDesc k{"attention",
               {t({2, 8, 16}), t({2, 32, 16}), t({2, 32, 8})},
               {t({2, 8, 8})}};
  EXPECT_EQ(estimateWork(k).opClass, OpClass::Attention);
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 27136.0);
}

TEST(CostModel, AttentionTakesTheKeyLengthFromV) {
  // K given transposed ([B, H, D, T], k_transposed = 1): T = 32 comes from V
  // [1, 2, 32, 8], so the work equals the untransposed case above:
  // 2 heads · 8 · 32 · (2·16 + 5 + 2·8) = 27136.
  KernelDesc k{"attention",
               {t({1, 2, 8, 16}), t({1, 2, 16, 32}), t({1, 2, 32, 8})},
               {t({1, 2, 8, 8})}};
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 27136.0);
}

TEST(CostModel, FusedMatMulIsOneKernelWithItsEpilogue) {
  // [64, 256] x [256, 128] plus bias [128]: 2·64·128·256 = 4194304 FLOP
  // plus one epilogue operation per output (8192) = 4202496, whether A is
  // given as [64, 256] or transposed as [256, 64] (K = 256 either way).
  // Bytes: the operands only (the intermediate product never touches
  // memory): (16384 + 32768 + 128 + 8192)·4 = 229888.
  for (auto a : {t({64, 256}), t({256, 64})}) {
    KernelDesc k{"fused_matmul", {a, t({256, 128}), t({128})}, {t({64, 128})}};
    Work w = estimateWork(k);
    EXPECT_DOUBLE_EQ(w.flops, 4202496.0);
    EXPECT_DOUBLE_EQ(w.bytes, 229888.0);
    EXPECT_EQ(w.opClass, OpClass::MatMul);
  }
  // SwiGLU: X [4, 64], W1 and W3 [64, 32]: per output element two products
  // of 2·64 operations and ~5 for the gate: 128·(4·64 + 5) = 33408.
  KernelDesc s{"swiglu", {t({4, 64}), t({64, 32}), t({64, 32})}, {t({4, 32})}};
  EXPECT_DOUBLE_EQ(estimateWork(s).flops, 33408.0);
  // An elementwise region: inputs and output only, (1024·2 + 1024)·4 bytes.
  KernelDesc e{"fused_elementwise", {t({1024}), t({1024})}, {t({1024})}};
  EXPECT_DOUBLE_EQ(estimateWork(e).bytes, 12288.0);
  EXPECT_EQ(estimateWork(e).opClass, OpClass::Elementwise);
}

TEST(CostModel, FusedKernelsNeedTheirFamilyOnGpusAndNpus) {
  KernelDesc fm{"fused_matmul", {t({4, 8}), t({8, 8}, "f32", true), t({8})},
                {t({4, 8})}};
  KernelDesc gelu{"gelu", {t({4, 8})}, {t({4, 8})}};
  loom::target::DeviceDesc gpu = device();
  gpu.kind = "gpu";
  // Not listed: the GPU cannot run the fused kernel; a plain kernel is
  // unaffected.
  EXPECT_FALSE(isSupported(fm, gpu));
  EXPECT_TRUE(isSupported(gelu, gpu));
  gpu.fusions = {"matmul_bias_act"};
  EXPECT_TRUE(isSupported(fm, gpu));
  // A CPU runs every fused kernel (the runtime has them), listed or not.
  EXPECT_TRUE(isSupported(fm, device()));
  EXPECT_EQ(*loom::target::fusionFamily("fused_conv"), "conv_bias_act");
  EXPECT_EQ(*loom::target::fusionFamily("skip_rms_norm"), "layer_norm");
  EXPECT_FALSE(loom::target::fusionFamily("matmul").has_value());
}

TEST(CostModel, ComputeTypeRules) {
  // Widest float among the operands for non-dense kernels.
  EXPECT_EQ(computeType({"cast", {t({4}, "f16")}, {t({4})}}), DType::F32);
  EXPECT_EQ(
      computeType(
          {"dequantize_linear", {t({4}, "i8"), t({}), t({}, "i8")}, {t({4})}}),
      DType::F32);
  EXPECT_EQ(computeType({"where",
                         {t({4}, "i1"), t({4}, "f16"), t({4}, "f16")},
                         {t({4}, "f16")}}),
            DType::F16);
  EXPECT_EQ(computeType({"relu", {t({4}, "bf16")}, {t({4}, "bf16")}}),
            DType::BF16);
  EXPECT_EQ(computeType({"relu", {t({4}, "f64")}, {t({4}, "f64")}}),
            DType::F32);
  // 8-bit data with 64-bit indices: i8.
  EXPECT_EQ(
      computeType({"gather", {t({4}, "ui8"), t({2}, "i64")}, {t({2}, "ui8")}}),
      DType::I8);
  // Index / shape work and bools run at the f32 peak.
  EXPECT_EQ(
      computeType({"add", {t({4}, "i64"), t({4}, "i64")}, {t({4}, "i64")}}),
      DType::F32);
  // Dense kernels: the activation's type, whatever the scales are.
  EXPECT_EQ(computeType({"qlinear_matmul",
                         {t({4, 4}, "i8"), t({}), t({}, "i8"), t({4, 4}, "i8"),
                          t({}), t({}, "i8"), t({}), t({}, "i8")},
                         {t({4, 4}, "i8")}}),
            DType::I8);
}

TEST(CostModel, DeviceWithoutTheDtypeCannotRun) {
  loom::target::DeviceDesc npu = device();
  npu.kind = "npu";
  npu.peakGops = {};
  npu.peakGops[size_t(DType::I8)] = 1000;
  KernelDesc f32{"relu", {t({4})}, {t({4})}};
  KernelDesc i8{"relu", {t({4}, "i8")}, {t({4}, "i8")}};
  KernelDesc bf16{
      "matmul", {t({4, 4}, "bf16"), t({4, 4}, "bf16")}, {t({4, 4}, "bf16")}};
  EXPECT_FALSE(estimateMicros(f32, npu).has_value());
  EXPECT_FALSE(estimateMicros(bf16, npu).has_value());
  EXPECT_FALSE(estimateMicros(bf16, device()).has_value()); // no bf16 peak
  EXPECT_TRUE(estimateMicros(i8, npu).has_value());
}

TEST(CostModel, OpsListAndUnsupportedOps) {
  loom::target::DeviceDesc d = device();
  d.allOps = false;
  d.ops = {"matmul", "relu", "non_zero"};
  d.unsupportedOps = {{"non_zero", loom::target::OpQualifier::None}};
  EXPECT_TRUE(estimateMicros({"relu", {t({4})}, {t({4})}}, d).has_value());
  EXPECT_FALSE(
      estimateMicros({"add", {t({4}), t({4})}, {t({4})}}, d).has_value());
  EXPECT_FALSE(estimateMicros({"non_zero", {t({4})}, {t({1, 4}, "i64")}}, d)
                   .has_value());
}

TEST(CostModel, DynamicRhsQualifier) {
  loom::target::DeviceDesc d = device();
  d.unsupportedOps = {
      {"matmul", loom::target::OpQualifier::DynamicRhs},
      {"qlinear_matmul", loom::target::OpQualifier::DynamicRhs}};
  KernelDesc weights{
      "matmul", {t({4, 8}), t({8, 4}, "f32", true)}, {t({4, 4})}};
  KernelDesc activations{"matmul", {t({4, 8}), t({8, 4})}, {t({4, 4})}};
  EXPECT_TRUE(isSupported(weights, d));
  EXPECT_FALSE(isSupported(activations, d));
  EXPECT_FALSE(estimateMicros(activations, d).has_value());
  // gemm has no rule: a dynamic B is fine.
  EXPECT_TRUE(isSupported({"gemm", {t({4, 8}), t({8, 4})}, {t({4, 4})}}, d));
  // qlinear_matmul: the rule looks at operand 3 (b), not operand 1 (a_scale).
  auto q = [&](bool bConstant) {
    return KernelDesc{"qlinear_matmul",
                      {t({4, 8}, "i8"), t({}), t({}, "i8"),
                       t({8, 4}, "i8", bConstant), t({}, "f32", true),
                       t({}, "i8", true), t({}, "f32", true),
                       t({}, "i8", true)},
                      {t({4, 4}, "i8")}};
  };
  EXPECT_TRUE(isSupported(q(true), d));
  EXPECT_FALSE(isSupported(q(false), d));
}

loom::target::TargetDesc threeDevices() {
  loom::target::TargetDesc target;
  target.name = "t";
  loom::target::DeviceDesc cpu = device(), gpu = device(), npu = device();
  gpu.name = "gpu";
  gpu.kind = "gpu";
  gpu.bandwidthGBs = 100;
  npu.name = "npu";
  npu.kind = "npu";
  npu.bandwidthGBs = 50;
  target.devices = {cpu, gpu, npu};
  loom::target::LinkDesc shared;
  shared.from = "cpu";
  shared.to = "gpu";
  shared.sharedMemory = true;
  shared.syncUs = 5;
  loom::target::LinkDesc copy;
  copy.from = "cpu";
  copy.to = "npu";
  copy.directed = true;
  copy.bandwidthGBs = 10; // 1e4 B/us
  copy.latencyUs = 3;
  target.links = {shared, copy};
  return target;
}

TEST(CostModel, TransferOverSharedMemoryIsASync) {
  loom::target::TargetDesc target = threeDevices();
  // Shared memory: sync_us whatever the size, in both directions.
  EXPECT_DOUBLE_EQ(*transferMicros(1e6, "cpu", "gpu", target), 5);
  EXPECT_DOUBLE_EQ(*transferMicros(16, "gpu", "cpu", target), 5);
  EXPECT_DOUBLE_EQ(*transferMicros(1e6, "gpu", "gpu", target), 0);
}

TEST(CostModel, TransferOverACopyLink) {
  loom::target::TargetDesc target = threeDevices();
  // cpu -> npu: 3 + 1e6 B / 1e4 B/us = 103 us.
  EXPECT_DOUBLE_EQ(*transferMicros(1e6, "cpu", "npu", target), 103);
  // npu -> cpu: the link is directed, so no link: one copy through the CPU's
  // memory at min(10, 50) GB/s = 1e4 B/us -> 100 us.
  EXPECT_DOUBLE_EQ(*transferMicros(1e6, "npu", "cpu", target), 100);
  // gpu <-> npu has no link: min(100, 50) GB/s = 5e4 B/us -> 20 us.
  EXPECT_DOUBLE_EQ(*transferMicros(1e6, "gpu", "npu", target), 20);
  EXPECT_FALSE(transferMicros(1, "cpu", "tpu", target).has_value());
}

TEST(CostModel, HostFiguresAreUnchanged) {
  // The roofline numbers of test/Dialect/Plan/plan-estimate-costs.mlir: 160
  // GFLOP/s, 20 GB/s, 1 us; relu 4xf32: 1 + max(4/8e3, 32/2e4) = 1.0016 us;
  // matmul 2x3 · 3x4: 1 + max(48/8e4, 104/2e4) = 1.0052 us.
  auto host = loom::target::loadTarget("host");
  ASSERT_TRUE(bool(host)) << llvm::toString(host.takeError());
  const loom::target::DeviceDesc &cpu = host->devices[0];
  KernelDesc relu{"relu", {t({4})}, {t({4})}};
  KernelDesc mm{"matmul", {t({2, 3}), t({3, 4}, "f32", true)}, {t({2, 4})}};
  EXPECT_NEAR(estimateRoofline(relu, cpu)->totalUs(), 1.0016, 1e-12);
  EXPECT_NEAR(estimateRoofline(mm, cpu)->totalUs(), 1.0052, 1e-12);
  // The host ships a fitted cost model (targets/host.yaml), which prices
  // both (two rows: matmul, not matmul_row).
  ASSERT_TRUE(cpu.fitted);
  EXPECT_EQ(estimateTerms(relu, cpu)->family, "relu");
  EXPECT_EQ(estimateTerms(mm, cpu)->family, "matmul");
  EXPECT_NEAR(*estimateMicros(relu, cpu), estimateTerms(relu, cpu)->totalUs(),
              1e-12);
}

} // namespace
