//===- FitTest.cpp - Fitted cost models on synthetic measurements ---------===//
//
// The "measurements" here are made from known parameters by the formula of
// docs/targets.md, written out again in this file; the fit must recover
// the parameters. No timing.
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/Fit.h"

#include "llvm/ADT/STLExtras.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

using namespace loom::cost;
using loom::target::DType;
using loom::target::FittedFamily;
using loom::target::FittedModel;

namespace {

TensorDesc t(std::vector<int64_t> shape) {
  return TensorDesc{std::move(shape), 4, "f32", false};
}

/// fixed + ops / (gops·1e3) + bytes / (gbs·1e3) + spill / (spill·1e3), µs.
double truth(double dispatch, double fixed, double gops, double gbs,
             double spillGbs, double cacheKB, double flops, double bytes) {
  double us = dispatch + fixed;
  if (gops > 0)
    us += flops / (gops * 1000);
  if (gbs > 0)
    us += bytes / (gbs * 1000);
  if (spillGbs > 0 && bytes > cacheKB * 1024)
    us += (bytes - cacheKB * 1024) / (spillGbs * 1000);
  return us;
}

/// A grid of (flops, bytes) with ratios from 0.25 to 64 op/byte and sizes
/// from 1 KiB to 64 MiB.
std::vector<Sample> grid(const std::string &family, double dispatch,
                         double fixed, double gops, double gbs,
                         double spillGbs, double cacheKB) {
  std::vector<Sample> s;
  for (double bytes = 1024; bytes <= 64.0 * 1024 * 1024; bytes *= 4)
    for (double intensity : {0.25, 2.0, 16.0, 64.0}) {
      double flops = bytes * intensity;
      s.push_back({family, flops, bytes,
                   truth(dispatch, fixed, gops, gbs, spillGbs, cacheKB, flops,
                         bytes)});
    }
  return s;
}

loom::target::DeviceDesc device(double dispatch) {
  loom::target::DeviceDesc d;
  d.name = "cpu";
  d.kind = "cpu";
  d.peakGops[size_t(DType::F32)] = 100;
  d.bandwidthGBs = 10;
  d.dispatchUs = dispatch;
  return d;
}

TEST(Fit, RecoversRooflineAndOverhead) {
  // 3 µs overhead, 40 GOP/s, 12 GB/s, no cache term; dispatch 1 µs.
  std::vector<Sample> s = grid("conv", 1, 3, 40, 12, 0, 0);
  FittedFamily f = fitFamily(s, 1, 0);
  EXPECT_NEAR(f.fixedUs, 3, 1e-6);
  EXPECT_NEAR(f.gops, 40, 40e-6);
  EXPECT_NEAR(f.gbs, 12, 12e-6);
  EXPECT_EQ(f.spillGbs, 0);
  EXPECT_EQ(f.samples, int(s.size()));
}

TEST(Fit, LeavesOutTermsThatDoNotPay) {
  // Pure memory: 0.5 µs overhead, 8 GB/s, no compute. The unconstrained
  // solution on noisy data may give a negative operation rate; the fit
  // keeps every parameter >= 0.
  std::vector<Sample> s = grid("add", 1, 0.5, 0, 8, 0, 0);
  for (size_t i = 0; i < s.size(); ++i)
    s[i].us *= 1 + ((i % 3) - 1) * 0.02; // +-2 % noise
  FittedFamily f = fitFamily(s, 1, 0);
  EXPECT_GE(f.fixedUs, 0);
  EXPECT_GE(f.gops, 0);
  EXPECT_GE(f.gbs, 0);
  EXPECT_NEAR(f.gbs, 8, 0.4);
  // A compute rate, if any, must be negligible: > 1000x the memory's
  // time per op-byte.
  EXPECT_TRUE(f.gops == 0 || f.gops > 8 * 64 * 20) << f.gops;
}

TEST(Fit, ChoosesTheCacheSizeByHeldOutError) {
  // Spill beyond 1 MiB at 4 GB/s on top of 20 GB/s; 2 µs overhead.
  std::vector<Sample> s = grid("conv", 1, 2, 50, 20, 4, 1024);
  FitReport report;
  std::vector<double> roofline;
  for (const Sample &x : s) // the device's roofline: 1 + max(op/1e5, B/1e4)
    roofline.push_back(1 + std::max(x.flops / 1e5, x.bytes / 1e4));
  FittedModel m = fitModel(s, device(1), {}, &report, roofline);
  EXPECT_EQ(m.cacheKB, 1024);
  ASSERT_EQ(m.families.size(), 1u);
  const FittedFamily &f = m.families[0].second;
  // The one family's intercept, dispatch 1 + overhead 2, is the model's
  // dispatch.
  ASSERT_TRUE(m.dispatchUs);
  EXPECT_NEAR(*m.dispatchUs, 3, 1e-6);
  EXPECT_NEAR(f.fixedUs, 0, 1e-6);
  EXPECT_NEAR(f.gops, 50, 50e-6);
  EXPECT_NEAR(f.gbs, 20, 20e-6);
  EXPECT_NEAR(f.spillGbs, 4, 4e-6);
  EXPECT_LT(m.error, 1e-6);
  // 9 sizes x 4 intensities, every 4th held out.
  EXPECT_EQ(report.heldOut, 9u);
  ASSERT_EQ(report.candidateErrors.size(), 5u);
  EXPECT_GT(report.candidateErrors[0], 1e-3); // no cache term: worse
  EXPECT_GT(report.rooflineError, 0.1);
}

TEST(Fit, SpillTermNeedsSamplesPastTheCache) {
  // Three sizes, the largest (64 KiB) just past a 48 KiB cache in two
  // samples, which spill slightly more than 12 GB/s predicts: without
  // enough samples past the cache the spill rate is not fitted (it would
  // come out as a tiny rate that prices a 100 MiB kernel in seconds).
  std::vector<Sample> s;
  for (double bytes : {4096.0, 16384.0, 65536.0})
    for (double intensity : {0.25, 64.0})
      s.push_back({"matmul_row", bytes * intensity, bytes,
                   truth(1, 0.5, 40, 12, 0, 0, bytes * intensity, bytes) *
                       (bytes > 48 * 1024 ? 1.05 : 1.0)});
  FittedFamily f = fitFamily(s, 1, 48);
  EXPECT_EQ(f.spillGbs, 0);
  // With a third sample past the cache the term is fitted again.
  s.push_back({"matmul_row", 65536.0 * 2, 65536.0,
               truth(1, 0.5, 40, 12, 0, 0, 65536.0 * 2, 65536.0) * 1.05});
  EXPECT_GT(fitFamily(s, 1, 48).spillGbs, 0);
}

TEST(Fit, RecoversTheTranscendentalRate) {
  // A depthwise family whose calls with a silu epilogue pay one exp per
  // output element at 0.1 G/s (10 ns each) on top of 2 µs + 5 GOP/s +
  // 10 GB/s; half of the samples have the epilogue.
  std::vector<Sample> s;
  for (double bytes = 4096; bytes <= 16.0 * 1024 * 1024; bytes *= 4)
    for (double intensity : {2.0, 9.0})
      for (bool silu : {false, true}) {
        double flops = bytes * intensity, exps = silu ? bytes / 8 : 0;
        s.push_back({"conv_depthwise", flops, bytes,
                     truth(1, 2, 5, 10, 0, 0, flops, bytes) + exps / 100,
                     exps});
      }
  FittedFamily f = fitFamily(s, 1, 0);
  EXPECT_NEAR(f.fixedUs, 2, 1e-6);
  EXPECT_NEAR(f.gops, 5, 5e-6);
  EXPECT_NEAR(f.gbs, 10, 10e-6);
  EXPECT_NEAR(f.transcendentalGops, 0.1, 1e-7);
  // Without such samples there is no term to fit.
  llvm::erase_if(s, [](const Sample &x) { return x.transcendentals > 0; });
  EXPECT_EQ(fitFamily(s, 1, 0).transcendentalGops, 0);
}

TEST(Fit, RecoversTheColdWeightRate) {
  // Matmuls measured warm and with their weights cold: the cold ones pay
  // 12 µs and their weight bytes again at 6 GB/s on top of 1 µs +
  // 50 GOP/s + 20 GB/s.
  std::vector<Sample> s;
  for (double k : {64.0, 256.0, 1024.0})
    for (double n : {64.0, 512.0})
      for (double m : {1.0, 32.0})
        for (bool cold : {false, true}) {
          double flops = 2 * m * k * n, bytes = 4 * (m * k + k * n + m * n);
          double weights = cold ? 4 * k * n : 0;
          s.push_back({"matmul", flops, bytes,
                       truth(0, 1, 50, 20, 0, 0, flops, bytes) + weights / 6e3 +
                           (cold ? 12 : 0),
                       0, weights, cold ? 1.0 : 0.0});
        }
  FittedFamily f = fitFamily(s, 0, 0);
  EXPECT_NEAR(f.fixedUs, 1, 1e-6);
  EXPECT_NEAR(f.gops, 50, 50e-6);
  EXPECT_NEAR(f.gbs, 20, 20e-6);
  EXPECT_NEAR(f.coldGbs, 6, 6e-6);
  EXPECT_NEAR(f.coldFixedUs, 12, 1e-6);
  // A kernel's cold bytes: its constant operands, only when cold.
  KernelDesc mm{"matmul",
                {t({32, 64}), TensorDesc{{64, 16}, 4, "f32", true}},
                {t({32, 16})}};
  EXPECT_EQ(estimateWork(mm).coldBytes, 0);
  EXPECT_EQ(estimateWork(mm).coldCalls, 0);
  mm.coldWeights = 1;
  EXPECT_EQ(estimateWork(mm).coldBytes, 4096);
  EXPECT_EQ(estimateWork(mm).coldCalls, 1);
  // Only matmul- and conv-class kernels have weights: a mul by a constant
  // does not read cold weights.
  KernelDesc mul{"mul", {t({64}), TensorDesc{{64}, 4, "f32", true}}, {t({64})}};
  mul.coldWeights = 1;
  EXPECT_EQ(estimateWork(mul).coldBytes, 0);
  EXPECT_EQ(estimateWork(mul).coldCalls, 0);
  // Priced: 1 (dispatch) + 12 + 4096 B at 6 GB/s beyond the warm terms.
  loom::target::DeviceDesc d = device(1);
  FittedModel m;
  m.families.push_back({"matmul", f});
  d.fitted = m;
  std::optional<CostTerms> terms = estimateTerms(mm, d);
  ASSERT_TRUE(terms);
  EXPECT_NEAR(terms->coldUs, 12 + 4096 / 6e3, 1e-6);
  // A quarter of the weights cold: a quarter of both cold terms.
  mm.coldWeights = 0.25;
  terms = estimateTerms(mm, d);
  EXPECT_NEAR(terms->coldUs, 0.25 * (12 + 4096 / 6e3), 1e-6);
  // A plan's layer (plan-estimate-costs): the share of its weight bytes,
  // none of the per-call cost.
  mm.coldCallShare = 0;
  EXPECT_EQ(estimateWork(mm).coldCalls, 0);
  terms = estimateTerms(mm, d);
  EXPECT_NEAR(terms->coldUs, 0.25 * 4096 / 6e3, 1e-6);
}

TEST(Fit, ColdShareOfAPlan) {
  // A ramp of 4 MiB centred on 8 MiB: warm up to 6 MiB, cold from 10.
  FittedModel m;
  m.coldAboveKB = 8192;
  m.coldRampKB = 4096;
  EXPECT_EQ(m.coldShare(5.0 * 1024 * 1024), 0);
  EXPECT_NEAR(m.coldShare(7.0 * 1024 * 1024), 0.25, 1e-12);
  EXPECT_NEAR(m.coldShare(8.0 * 1024 * 1024), 0.5, 1e-12);
  EXPECT_EQ(m.coldShare(11.0 * 1024 * 1024), 1);
  // Without a ramp, a step at cold_above_kb; without either, twice the
  // weights against llc_kb; without that, never.
  m.coldRampKB = 0;
  EXPECT_EQ(m.coldShare(7.9 * 1024 * 1024), 0);
  EXPECT_EQ(m.coldShare(8.1 * 1024 * 1024), 1);
  m.coldAboveKB = 0;
  m.llcKB = 32768;
  EXPECT_EQ(m.coldShare(15.0 * 1024 * 1024), 0);
  EXPECT_EQ(m.coldShare(17.0 * 1024 * 1024), 1);
  m.llcKB = 0;
  EXPECT_EQ(m.coldShare(1e12), 0);
}

TEST(Fit, ColdRateNeedsASpreadOfWeights) {
  // Cold samples whose weights are all 256 B (a per-call cold cost of
  // 9 µs): a per-byte rate cannot be told from the per-call one, so only
  // the per-call one is fitted (a rate from them would price 2 MB of
  // weights at 70 ms).
  std::vector<Sample> s;
  for (double bytes : {4096.0, 65536.0, 1048576.0})
    for (bool cold : {false, true})
      s.push_back({"conv", bytes * 8, bytes,
                   truth(0, 1, 50, 20, 0, 0, bytes * 8, bytes) + (cold ? 9 : 0),
                   0, cold ? 256.0 : 0.0, cold ? 1.0 : 0.0});
  FittedFamily f = fitFamily(s, 0, 0);
  EXPECT_EQ(f.coldGbs, 0);
  EXPECT_NEAR(f.coldFixedUs, 9, 1e-6);
}

TEST(Fit, TranscendentalsOfAKernel) {
  // fused_conv with a silu epilogue: one exp per output element (2048);
  // with hard_swish none; a fused_elementwise body of add, mul, sigmoid,
  // tanh: two per element; sigmoid on its own: one per element.
  KernelDesc dw{"fused_conv",
                {t({1, 8, 16, 16}), t({8, 1, 3, 3}), t({8})},
                {t({1, 8, 16, 16})}};
  EXPECT_EQ(estimateWork(dw).transcendentals, 0);
  dw.elementOps = {"silu"};
  EXPECT_EQ(estimateWork(dw).transcendentals, 2048);
  dw.elementOps = {"hard_swish"};
  EXPECT_EQ(estimateWork(dw).transcendentals, 0);
  KernelDesc chain{"fused_elementwise", {t({4, 64}), t({4, 64})}, {t({4, 64})}};
  chain.elementOps = {"add", "mul", "sigmoid", "tanh"};
  EXPECT_EQ(estimateWork(chain).transcendentals, 512);
  KernelDesc sig{"sigmoid", {t({100})}, {t({100})}};
  EXPECT_EQ(estimateWork(sig).transcendentals, 100);
  // Priced by a family's rate: 2048 exps at 0.5 G/s = 4.096 µs on top of
  // dispatch 1 and fixed 3.
  loom::target::DeviceDesc d = device(1);
  FittedModel m;
  FittedFamily f;
  f.fixedUs = 3;
  f.transcendentalGops = 0.5;
  m.families.push_back({"conv_depthwise", f});
  d.fitted = m;
  dw.elementOps = {"silu"};
  std::optional<CostTerms> terms = estimateTerms(dw, d);
  ASSERT_TRUE(terms);
  EXPECT_NEAR(terms->transcendentalUs, 4.096, 1e-12);
  EXPECT_NEAR(terms->totalUs(), 1 + 3 + 4.096, 1e-12);
  EXPECT_STREQ(terms->dominant(), "transcendental");
}

TEST(Fit, FamiliesAreFittedApart) {
  std::vector<Sample> s = grid("conv", 1, 2, 50, 20, 0, 0);
  std::vector<Sample> dw = grid("conv_depthwise", 1, 6, 5, 10, 0, 0);
  s.insert(s.end(), dw.begin(), dw.end());
  FittedModel m = fitModel(s, device(1), {{0}});
  ASSERT_NE(m.find("conv_depthwise"), nullptr);
  EXPECT_NEAR(m.find("conv_depthwise")->gops, 5, 5e-6);
  // Intercepts 1 + 2 and 1 + 6: dispatch 3, the depthwise family 4 more.
  EXPECT_NEAR(*m.dispatchUs, 3, 1e-6);
  EXPECT_NEAR(m.find("conv")->fixedUs, 0, 1e-6);
  EXPECT_NEAR(m.find("conv_depthwise")->fixedUs, 4, 1e-6);
  EXPECT_NEAR(m.find("conv")->gops, 50, 50e-6);
}

TEST(Fit, FamilyChains) {
  // Depthwise: W [32, 1, 3, 3] on X [1, 32, 16, 16].
  KernelDesc dw{"fused_conv",
                {t({1, 32, 16, 16}), t({32, 1, 3, 3}), t({32})},
                {t({1, 32, 16, 16})}};
  EXPECT_EQ(fittedFamilyChain(dw),
            (std::vector<std::string>{"conv_depthwise", "fused_conv", "conv"}));
  KernelDesc pw{"conv", {t({1, 32, 16, 16}), t({64, 32, 1, 1})},
                {t({1, 64, 16, 16})}};
  EXPECT_EQ(fittedFamilyChain(pw),
            (std::vector<std::string>{"conv_1x1", "conv"}));
  KernelDesc dense{"conv", {t({1, 32, 16, 16}), t({64, 32, 3, 3})},
                   {t({1, 64, 16, 16})}};
  EXPECT_EQ(fittedFamilyChain(dense), (std::vector<std::string>{"conv"}));
  KernelDesc row{"matmul", {t({1, 1, 512}), t({512, 256})}, {t({1, 1, 256})}};
  EXPECT_EQ(fittedFamilyChain(row),
            (std::vector<std::string>{"matmul_row", "matmul"}));
  // Quantized products: integer (8-bit activation), 4-bit weight-only,
  // 8-bit weight-only (the kernel's own family, even with one row).
  TensorDesc x8{{1, 512}, 1, "i8", false};
  KernelDesc qint{"qmatmul",
                  {x8, t({1}), t({1}), TensorDesc{{512, 256}, 1, "i8", true}},
                  {TensorDesc{{1, 256}, 1, "i8", false}}};
  EXPECT_EQ(fittedFamilyChain(qint),
            (std::vector<std::string>{"qmatmul_int8", "qmatmul", "matmul"}));
  KernelDesc w4{
      "qmatmul",
      {t({1, 512}), t({1}), t({1}), TensorDesc{{65536}, 1, "ui8", true}},
      {t({1, 256})}};
  w4.weightFormats = {"int4"};
  EXPECT_EQ(fittedFamilyChain(w4),
            (std::vector<std::string>{"qmatmul_w4", "qmatmul", "matmul"}));
  w4.weightFormats = {"int8"};
  EXPECT_EQ(fittedFamilyChain(w4),
            (std::vector<std::string>{"qmatmul", "matmul"}));
  KernelDesc relu{"relu", {t({64})}, {t({64})}};
  EXPECT_EQ(fittedFamilyChain(relu),
            (std::vector<std::string>{"relu", "elementwise"}));
}

TEST(Fit, EstimatesUseTheFittedFamily) {
  loom::target::DeviceDesc d = device(1);
  FittedModel m;
  m.cacheKB = 1; // 1024 bytes
  m.families.push_back({"conv_1x1", FittedFamily{4, 20, 8, 2, 0, 0}});
  m.families.push_back({"elementwise", FittedFamily{0.5, 0, 10, 0, 0, 0}});
  d.fitted = m;
  // conv 1x1: X [1,8,4,4] (128), W [16,8,1,1] (128), Y [1,16,4,4] (256):
  // 512 elements = 2048 B; 2·256·8 = 4096 op. 1 + 4 + 4096/2e4 + 2048/8e3
  // + (2048 − 1024)/2e3 = 5 + 0.2048 + 0.256 + 0.512.
  KernelDesc pw{"conv", {t({1, 8, 4, 4}), t({16, 8, 1, 1})},
                {t({1, 16, 4, 4})}};
  std::optional<CostTerms> terms = estimateTerms(pw, d);
  ASSERT_TRUE(terms);
  EXPECT_TRUE(terms->fitted);
  EXPECT_EQ(terms->family, "conv_1x1");
  EXPECT_NEAR(terms->totalUs(), 5 + 0.2048 + 0.256 + 0.512, 1e-9);
  EXPECT_STREQ(terms->dominant(), "overhead");
  EXPECT_NEAR(*estimateMicros(pw, d), terms->totalUs(), 1e-12);
  // relu on 1M f32: 8 MB at 10 GB/s = 800 µs, + 0.5 + 1: memory dominates.
  KernelDesc relu{"relu", {t({1 << 20})}, {t({1 << 20})}};
  terms = estimateTerms(relu, d);
  EXPECT_EQ(terms->family, "elementwise");
  EXPECT_NEAR(terms->totalUs(), 1 + 0.5 + 8388608 / 1e4, 1e-6);
  EXPECT_STREQ(terms->dominant(), "memory");
  // A kernel no family covers keeps the roofline: matmul 64x256x128 is
  // 4194304 op at 100·0.6 GOP/s (default efficiency) = 69.90506 µs.
  KernelDesc mm{"matmul", {t({64, 256}), t({256, 128})}, {t({64, 128})}};
  terms = estimateTerms(mm, d);
  EXPECT_FALSE(terms->fitted);
  EXPECT_TRUE(terms->family.empty());
  EXPECT_NEAR(terms->totalUs(), 1 + 4194304 / 6e4, 1e-6);
  EXPECT_STREQ(terms->dominant(), "compute");
}

TEST(Fit, WrittenIntoATargetFileAndParsedBack) {
  const char *yaml = "name: t\n"
                     "devices:\n"
                     "  - name: cpu\n"
                     "    kind: cpu\n"
                     "    peak: {f32: 100}\n"
                     "    bandwidth_gbs: 10\n"
                     "    dispatch_us: 1\n"
                     "    fitted:\n"
                     "      families:\n"
                     "        relu: {fixed_us: 9}\n"
                     "\n"
                     "  - name: gpu\n"
                     "    kind: gpu\n"
                     "    peak: {f32: 1000}\n"
                     "    bandwidth_gbs: 50\n"
                     "    dispatch_us: 5\n";
  FittedModel m;
  m.machine = "test box";
  m.date = "2026-01-02";
  m.threads = 2;
  m.dispatchUs = 0.75;
  m.cacheKB = 512;
  m.error = 0.125;
  m.families.push_back({"matmul_row", FittedFamily{1.5, 30, 12, 0, 16, 0.25}});
  m.families.push_back({"conv", FittedFamily{2, 40, 0, 3, 20, 0.0625, 0.25}});
  llvm::Expected<std::string> text = withFittedModel(yaml, "cpu", m);
  ASSERT_TRUE(bool(text)) << llvm::toString(text.takeError());
  llvm::Expected<loom::target::TargetDesc> target =
      loom::target::parseTarget(*text, "t.yaml");
  ASSERT_TRUE(bool(target)) << llvm::toString(target.takeError()) << *text;
  ASSERT_EQ(target->devices.size(), 2u);
  const auto &f = target->devices[0].fitted;
  ASSERT_TRUE(f);
  EXPECT_EQ(f->machine, "test box");
  EXPECT_EQ(f->date, "2026-01-02");
  EXPECT_EQ(f->threads, 2);
  EXPECT_EQ(f->dispatchUs, 0.75);
  EXPECT_EQ(f->cacheKB, 512);
  EXPECT_EQ(f->error, 0.125);
  EXPECT_EQ(f->find("relu"), nullptr); // the old mapping is replaced
  ASSERT_NE(f->find("conv"), nullptr);
  EXPECT_EQ(f->find("conv")->spillGbs, 3);
  EXPECT_EQ(f->find("conv")->gbs, 0);
  EXPECT_EQ(f->find("conv")->transcendentalGops, 0.25);
  EXPECT_EQ(f->find("matmul_row")->transcendentalGops, 0);
  EXPECT_EQ(f->find("matmul_row")->fixedUs, 1.5);
  EXPECT_EQ(f->find("matmul_row")->samples, 16);
  EXPECT_EQ(f->find("matmul_row")->error, 0.25);
  EXPECT_FALSE(target->devices[1].fitted);
  // The fitted dispatch replaces the device's in fitted estimates: a 1x1
  // conv under `conv` (2 us fixed, 40 GOP/s, spill 3 GB/s beyond 512 KiB):
  // X 1x8x4x4, W 16x8x1x1, Y 1x16x4x4: 4096 op, 2048 B (no spill):
  // 0.75 + 2 + 4096/4e4.
  KernelDesc pw{"conv", {t({1, 8, 4, 4}), t({16, 8, 1, 1})},
                {t({1, 16, 4, 4})}};
  EXPECT_NEAR(*estimateMicros(pw, target->devices[0]), 0.75 + 2 + 0.1024,
              1e-9);
  EXPECT_FALSE(bool(withFittedModel(yaml, "npu", m)));
}

TEST(Fit, OneFitPerThreadCount) {
  // Measurements of the same elementwise family with one thread (0.5 µs,
  // 8 GB/s) and with two (3 µs for the team's fork and join, 15 GB/s),
  // made from those parameters: each fit recovers its own, both go into
  // the target file, and a plan priced for N threads gets the fit for N.
  const char *yaml = "name: t\n"
                     "devices:\n"
                     "  - name: cpu\n"
                     "    kind: cpu\n"
                     "    peak: {f32: 100}\n"
                     "    bandwidth_gbs: 10\n"
                     "    dispatch_us: 1\n";
  std::vector<FittedModel> fits;
  for (auto [threads, fixed, gbs] :
       {std::tuple{1, 0.5, 8.0}, std::tuple{2, 3.0, 15.0}}) {
    FittedModel m =
        fitModel(grid("add", 0, fixed, 0, gbs, 0, 0), device(1), {{0}});
    m.threads = threads;
    EXPECT_NEAR(*m.dispatchUs, fixed, 1e-6);
    EXPECT_NEAR(m.find("add")->gbs, gbs, gbs * 1e-6);
    fits = mergeFits(fits, m);
  }
  // Refitting one thread count replaces only its fit.
  fits = mergeFits(fits, fits[0]);
  ASSERT_EQ(fits.size(), 2u);
  llvm::Expected<std::string> text = withFittedModels(yaml, "cpu", fits);
  ASSERT_TRUE(bool(text)) << llvm::toString(text.takeError());
  EXPECT_NE(text->find("    fitted:\n      - threads: 1\n"), std::string::npos)
      << *text;
  llvm::Expected<loom::target::TargetDesc> target =
      loom::target::parseTarget(*text, "t.yaml");
  ASSERT_TRUE(bool(target)) << llvm::toString(target.takeError()) << *text;
  const loom::target::DeviceDesc &d = target->devices[0];
  ASSERT_EQ(d.fits.size(), 2u);
  ASSERT_TRUE(d.fitted);
  EXPECT_EQ(d.fitted->threads, 1); // estimates use the one-thread fit
  EXPECT_EQ(d.fitFor(2)->threads, 2);
  EXPECT_EQ(d.fitFor(3)->threads, 2); // the most threads below 3
  EXPECT_EQ(d.fitFor(1)->threads, 1);
  // add of 2 x 1 Ki f32 (12 KiB): 1 thread 0.5 + 12288/8e3, 2 threads
  // 3 + 12288/15e3.
  KernelDesc add{"add", {t({1024}), t({1024})}, {t({1024})}};
  loom::target::DeviceDesc two = d;
  two.fitted = *d.fitFor(2);
  EXPECT_NEAR(*estimateMicros(add, d), 0.5 + 12288 / 8e3, 1e-6);
  EXPECT_NEAR(*estimateMicros(add, two), 3 + 12288 / 15e3, 1e-6);
  // A fit with a thread count of its own, written over the list, keeps
  // the list; one thread count twice is an error naming the item.
  std::string twice = *text;
  size_t at = twice.find("threads: 2");
  twice.replace(at, 10, "threads: 1");
  llvm::Expected<loom::target::TargetDesc> bad =
      loom::target::parseTarget(twice, "t.yaml");
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError())
                .find("devices[0].fitted[1]: a second fit for threads: 1 "
                      "(one per thread count)"),
            std::string::npos);
}

TEST(Fit, TargetErrors) {
  auto parse = [](const std::string &fitted) {
    std::string yaml = "name: t\ndevices:\n  - name: cpu\n    kind: cpu\n"
                       "    peak: {f32: 100}\n    bandwidth_gbs: 10\n"
                       "    dispatch_us: 1\n    fitted:\n" +
                       fitted;
    llvm::Expected<loom::target::TargetDesc> t =
        loom::target::parseTarget(yaml, "t.yaml");
    return t ? std::string() : llvm::toString(t.takeError());
  };
  EXPECT_EQ(parse("      families:\n        conv: {gops: 3}\n"), "");
  EXPECT_EQ(parse("      cache_kb: 4\n"),
            "t.yaml:9:7: devices[0].fitted.families: missing required key");
  EXPECT_EQ(parse("      families:\n        convv: {gops: 3}\n"),
            "t.yaml:10:9: devices[0].fitted.families.convv: unknown kernel "
            "family (a kernel name, an op class, conv_depthwise, conv_1x1, "
            "matmul_row, qmatmul_int8, qmatmul_w4 or qconv_int8)");
  EXPECT_EQ(parse("      families:\n        conv: {gops: -3}\n"),
            "t.yaml:10:22: devices[0].fitted.families.conv.gops: expected a "
            "non-negative number");
  EXPECT_EQ(
      parse("      families:\n        conv: {transcendental_gops: -1}\n"),
      "t.yaml:10:37: devices[0].fitted.families.conv.transcendental_gops: "
      "expected a non-negative number");
  EXPECT_EQ(parse("      families: {}\n      threads: 0\n"),
            "t.yaml:10:16: devices[0].fitted.threads: expected an integer >= 1");
}

} // namespace
