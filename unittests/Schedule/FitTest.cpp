//===- FitTest.cpp - Fitted cost models on synthetic measurements ---------===//
//
// The "measurements" here are made from known parameters by the formula of
// docs/targets.md, written out again in this file; the fit must recover
// the parameters. No timing.
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/Fit.h"

#include <gtest/gtest.h>

#include <cmath>

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
  m.families.push_back({"conv", FittedFamily{2, 40, 0, 3, 20, 0.0625}});
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
            "family (a kernel name, an op class, conv_depthwise, conv_1x1 or "
            "matmul_row)");
  EXPECT_EQ(parse("      families:\n        conv: {gops: -3}\n"),
            "t.yaml:10:22: devices[0].fitted.families.conv.gops: expected a "
            "non-negative number");
  EXPECT_EQ(parse("      families: {}\n      threads: 0\n"),
            "t.yaml:10:16: devices[0].fitted.threads: expected an integer >= 1");
}

} // namespace
