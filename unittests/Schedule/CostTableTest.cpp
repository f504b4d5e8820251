//===- CostTableTest.cpp - Measured cost tables ---------------------------===//
#include "loom/CostModel/CostModel.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace loom::cost;
using loom::target::DType;

namespace {

loom::target::DeviceDesc cpu() {
  loom::target::DeviceDesc d;
  d.name = "cpu";
  d.kind = "cpu";
  d.peakGops[size_t(DType::F32)] = 100;
  d.bandwidthGBs = 10;
  d.dispatchUs = 2;
  d.efficiency.fill(0.5);
  return d;
}

KernelDesc matmul() {
  return {"matmul",
          {TensorDesc{{64, 256}, 4, "f32", false},
           TensorDesc{{256, 128}, 4, "f32", true}},
          {TensorDesc{{64, 128}, 4, "f32", false}}};
}

std::string errorOf(llvm::StringRef json) {
  auto t = CostTable::parse(json, "costs.json");
  if (t)
    return "no error";
  return llvm::toString(t.takeError());
}

TEST(CostTable, Signature) {
  EXPECT_EQ(kernelSignature(matmul()),
            "matmul(64x256xf32,256x128xf32)->(64x128xf32)");
  KernelDesc k{
      "conv",
      {TensorDesc{{1, 3}, 2, "f16"}, TensorDesc{{}, 1, "i8"}, std::nullopt},
      {}};
  EXPECT_EQ(kernelSignature(k), "conv(1x3xf16,i8,none)->()");
}

TEST(CostTable, OverridesTheEstimate) {
  CostTable table;
  table.set(matmul(), "cpu", 7.5);
  // Estimate without the table: 2 + 4194304 / 5e4 = 85.88608 us.
  EXPECT_NEAR(*estimateMicros(matmul(), cpu()), 85.88608, 1e-9);
  EXPECT_DOUBLE_EQ(*estimateMicros(matmul(), cpu(), &table), 7.5);
  // Another device, or other shapes: the estimate.
  loom::target::DeviceDesc gpu = cpu();
  gpu.name = "gpu";
  gpu.kind = "gpu";
  EXPECT_NEAR(*estimateMicros(matmul(), gpu, &table), 85.88608, 1e-9);
  KernelDesc other = matmul();
  other.inputs[0]->shape = {32, 256};
  other.outputs[0]->shape = {32, 128};
  EXPECT_FALSE(table.lookup(other, "cpu").has_value());
  // A device that cannot run the kernel stays unable to.
  loom::target::DeviceDesc npu = cpu();
  npu.peakGops = {};
  npu.peakGops[size_t(DType::I8)] = 100;
  table.set(matmul(), "npu", 1.0);
  EXPECT_FALSE(estimateMicros(matmul(), npu, &table).has_value());
}

TEST(CostTable, RoundTrip) {
  CostTable table;
  table.target = "ryzen-ai-300";
  table.set(matmul(), "cpu", 7.5);
  table.set(matmul(), "gpu", 0.1 + 0.2); // not exactly representable
  KernelDesc relu{"relu", {TensorDesc{{4}, 4}}, {TensorDesc{{4}, 4}}};
  table.set(relu, "cpu", 1.25);
  std::string json = table.toJSON();
  EXPECT_EQ(json, R"({
  "version": 1,
  "target": "ryzen-ai-300",
  "entries": [
    {
      "kernel": "matmul",
      "inputs": [
        "64x256xf32",
        "256x128xf32"
      ],
      "outputs": [
        "64x128xf32"
      ],
      "us": {
        "cpu": 7.5,
        "gpu": 0.30000000000000004
      }
    },
    {
      "kernel": "relu",
      "inputs": [
        "4xf32"
      ],
      "outputs": [
        "4xf32"
      ],
      "us": {
        "cpu": 1.25
      }
    }
  ]
}
)");
  auto parsed = CostTable::parse(json, "costs.json");
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  EXPECT_EQ(parsed->target, "ryzen-ai-300");
  EXPECT_EQ(parsed->size(), 2u);
  EXPECT_EQ(*parsed->lookup(matmul(), "gpu"), 0.1 + 0.2);
  EXPECT_EQ(parsed->toJSON(), json);

  // Through a file.
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("costs", "json", path));
  ASSERT_FALSE(bool(table.save(path)));
  auto loaded = CostTable::load(path);
  llvm::sys::fs::remove(path);
  ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(loaded->toJSON(), json);
  EXPECT_DOUBLE_EQ(*loaded->lookup("relu(4xf32)->(4xf32)", "cpu"), 1.25);
}

TEST(CostTable, Errors) {
  EXPECT_EQ(errorOf("[1]"),
            "costs.json: expected an object with version, target and entries");
  EXPECT_EQ(errorOf(R"({"version": 2, "entries": []})"),
            "costs.json: version: expected 1");
  EXPECT_EQ(errorOf(R"({"version": 1, "entries": [], "extra": 1})"),
            "costs.json: extra: unknown key (known: version, target, entries)");
  EXPECT_EQ(errorOf(R"({"version": 1})"),
            "costs.json: entries: expected an array");
  EXPECT_EQ(errorOf(R"({"version": 1, "entries": [{"kernel": "relu",
              "inputs": ["4xf32"], "outputs": ["4xf32"], "us": {"cpu": -1}}]})"),
            "costs.json: entries[0].us.cpu: expected a non-negative number");
  EXPECT_EQ(errorOf(R"({"version": 1, "entries": [{"kernel": "relu",
              "inputs": ["4xf32"], "outputs": ["4xf32"], "us": {}, "x": 1}]})"),
            "costs.json: entries[0].x: unknown key (known: kernel, inputs, "
            "outputs, us)");
  EXPECT_EQ(errorOf(R"({"version": 1, "entries": [{"kernel": "relu",
              "inputs": [4], "outputs": [], "us": {}}]})"),
            "costs.json: entries[0].inputs[0]: expected an operand type like "
            "64x256xf32 or none");
  EXPECT_EQ(
      errorOf(R"({"version": 1, "entries": [
        {"kernel": "relu", "inputs": ["4xf32"], "outputs": ["4xf32"], "us": {}},
        {"kernel": "relu", "inputs": ["4xf32"], "outputs": ["4xf32"], "us": {}}]})"),
      "costs.json: entries[1]: duplicate entry for relu(4xf32)->(4xf32) (also "
      "entries[0])");
  // Malformed JSON: llvm::json's message with its position.
  std::string bad = errorOf("{");
  EXPECT_EQ(bad.rfind("costs.json: ", 0), 0u) << bad;
}

} // namespace
