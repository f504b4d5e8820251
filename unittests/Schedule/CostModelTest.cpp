//===- CostModelTest.cpp - Roofline estimates -----------------------------===//
#include "loom/CostModel/CostModel.h"

#include <gtest/gtest.h>

using namespace loom::cost;

namespace {

loom::target::DeviceDesc device() {
  loom::target::DeviceDesc d;
  d.name = "cpu";
  d.kind = "cpu";
  d.peakGflopsF32 = 100;  // 1e5 FLOP/us
  d.bandwidthGBs = 10;    // 1e4 B/us
  d.dispatchUs = 2;
  d.denseEfficiency = 0.5;
  d.otherEfficiency = 0.1;
  return d;
}

TEST(CostModel, MatMulIsComputeBound) {
  // [64, 256] x [256, 128]: 2·64·128·256 = 4194304 FLOP at 5e4 FLOP/us =
  // 83.88608 us; bytes (16384 + 32768 + 8192)·4 = 229376 B at 1e4 B/us =
  // 22.9376 us. Compute wins: 2 + 83.88608.
  KernelDesc k{"matmul", {TensorDesc{{64, 256}, 4}, TensorDesc{{256, 128}, 4}},
               {TensorDesc{{64, 128}, 4}}};
  Work w = estimateWork(k);
  EXPECT_DOUBLE_EQ(w.flops, 4194304.0);
  EXPECT_DOUBLE_EQ(w.bytes, 229376.0);
  EXPECT_TRUE(w.dense);
  EXPECT_NEAR(*estimateMicros(k, device()), 2 + 83.88608, 1e-9);
}

TEST(CostModel, ElementwiseIsMemoryBound) {
  // add of two 1000-element f32 tensors: 12000 B -> 1.2 us; 1000 FLOP at
  // 1e4 FLOP/us -> 0.1 us.
  KernelDesc k{"add", {TensorDesc{{1000}, 4}, TensorDesc{{1000}, 4}},
               {TensorDesc{{1000}, 4}}};
  EXPECT_NEAR(*estimateMicros(k, device()), 2 + 1.2, 1e-9);
}

TEST(CostModel, ConvCountsWeightsPerOutput) {
  // W [16, 8, 3, 3]: 72 MACs per output; Y [1, 16, 10, 10] = 1600 outputs.
  KernelDesc k{"conv",
               {TensorDesc{{1, 8, 12, 12}, 4}, TensorDesc{{16, 8, 3, 3}, 4},
                std::nullopt},
               {TensorDesc{{1, 16, 10, 10}, 4}}};
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 2.0 * 1600 * 72);
}

TEST(CostModel, GemmUsesInnerDimension) {
  // A [8, 32], Y [8, 16]: K = 32.
  KernelDesc k{"gemm", {TensorDesc{{8, 32}, 4}, TensorDesc{{32, 16}, 4}},
               {TensorDesc{{8, 16}, 4}}};
  EXPECT_DOUBLE_EQ(estimateWork(k).flops, 2.0 * 128 * 32);
}

TEST(CostModel, OnlyCpusRunKernelsForNow) {
  loom::target::DeviceDesc npu = device();
  npu.kind = "npu";
  KernelDesc k{"relu", {TensorDesc{{4}, 4}}, {TensorDesc{{4}, 4}}};
  EXPECT_FALSE(estimateMicros(k, npu).has_value());
}

} // namespace
