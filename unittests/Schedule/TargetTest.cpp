//===- TargetTest.cpp - Target descriptions: YAML, built-ins, kernels -----===//
#include "loom/Target/Target.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

using namespace loom::target;

namespace {

/// Lines joined with '\n': line N of the file is lines[N - 1].
std::string lines(std::initializer_list<const char *> ls) {
  std::string s;
  for (const char *l : ls)
    s += std::string(l) + "\n";
  return s;
}

/// The error of parsing `text` as t.yaml ("no error" if it parses).
std::string errorOf(const std::string &text) {
  llvm::Expected<TargetDesc> t = parseTarget(text, "t.yaml");
  if (t)
    return "no error";
  return llvm::toString(t.takeError());
}

/// A valid one-device target whose device has `extra` lines appended.
std::string oneCpu(std::initializer_list<const char *> extra = {}) {
  std::string s = lines({"name: t",                // 1
                         "devices:",               // 2
                         "  - name: cpu",          // 3
                         "    kind: cpu",          // 4
                         "    peak: {f32: 10}",    // 5
                         "    bandwidth_gbs: 5",   // 6
                         "    dispatch_us: 0.5"}); // 7
  for (const char *l : extra)
    s += std::string(l) + "\n";
  return s;
}

/// cpu + gpu, then `extra` lines (links) appended.
std::string twoDevices(std::initializer_list<const char *> extra) {
  std::string s = lines({"name: t",  // 1
                         "devices:", // 2
                         "  - {name: cpu, kind: cpu, peak: {f32: 1}, "
                         "bandwidth_gbs: 1, dispatch_us: 1}", // 3
                         "  - {name: gpu, kind: gpu, peak: {f16: 1}, "
                         "bandwidth_gbs: 1, dispatch_us: 1}", // 4
                         "links:"});                          // 5
  for (const char *l : extra)
    s += std::string(l) + "\n";
  return s;
}

// --- built-in targets -------------------------------------------------------

TEST(Target, BuiltinNames) {
  EXPECT_EQ(builtinTargetNames(),
            (std::vector<std::string>{"apple-m4", "host", "intel-lunar-lake",
                                      "ryzen-ai-300", "snapdragon-x-elite"}));
  EXPECT_EQ(
      builtinTargetList(),
      "apple-m4, host, intel-lunar-lake, ryzen-ai-300, snapdragon-x-elite");
}

TEST(Target, EveryBuiltinLoadsAndIsConsistent) {
  for (const std::string &name : builtinTargetNames()) {
    SCOPED_TRACE(name);
    llvm::Expected<TargetDesc> t = loadTarget(name);
    ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
    EXPECT_EQ(t->name, name);
    EXPECT_FALSE(t->description.empty());
    EXPECT_FALSE(t->sources.empty());
    ASSERT_NE(t->firstCpu(), nullptr);
    EXPECT_EQ(&t->devices[0], t->firstCpu()) << "the cpu comes first";
    for (const DeviceDesc &d : t->devices) {
      SCOPED_TRACE(d.name);
      EXPECT_EQ(d.name, d.kind) << "built-in devices are called cpu/gpu/npu";
      EXPECT_GT(d.bandwidthGBs, 0);
      // CPUs run every element type of the ONNX models (the trivial
      // placement puts every kernel there).
      if (d.kind == "cpu") {
        for (DType ty : {DType::F32, DType::F16, DType::BF16, DType::I8})
          EXPECT_TRUE(d.runs(ty)) << dtypeName(ty).str();
      }
      // NPUs: no f32, and tens of µs to dispatch.
      if (d.kind == "npu") {
        EXPECT_FALSE(d.runs(DType::F32));
        EXPECT_GE(d.dispatchUs, 10);
        EXPECT_TRUE(d.staticShapesOnly);
        EXPECT_FALSE(d.listsKernel("non_max_suppression"));
        EXPECT_FALSE(d.listsKernel("unique"));
        EXPECT_FALSE(d.listsKernel("non_zero"));
      }
    }
    // Unified memory: every pair of devices shares memory.
    for (size_t i = 0; i < t->devices.size(); ++i)
      for (size_t j = i + 1; j < t->devices.size(); ++j) {
        const LinkDesc *l = t->findLink(t->devices[i].name, t->devices[j].name);
        ASSERT_NE(l, nullptr)
            << t->devices[i].name << "-" << t->devices[j].name;
        EXPECT_TRUE(l->sharedMemory);
        EXPECT_EQ(l, t->findLink(t->devices[j].name, t->devices[i].name));
      }
    // The built-in text parses under its own file name too.
    EXPECT_TRUE(bool(getBuiltinTarget(name)));
  }
}

TEST(Target, HostFigures) {
  llvm::Expected<TargetDesc> t = loadTarget("host");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  ASSERT_EQ(t->devices.size(), 1u);
  const DeviceDesc &cpu = t->devices[0];
  EXPECT_EQ(cpu.name, "cpu");
  EXPECT_EQ(cpu.queues, 1);
  EXPECT_EQ(cpu.peak(DType::F32), 160);
  EXPECT_EQ(cpu.bandwidthGBs, 20);
  EXPECT_EQ(cpu.dispatchUs, 1);
  for (OpClass c : {OpClass::MatMul, OpClass::Conv, OpClass::Attention,
                    OpClass::Normalization})
    EXPECT_EQ(cpu.efficiencyOf(c), 0.5) << opClassName(c).str();
  for (OpClass c : {OpClass::Elementwise, OpClass::Reduction,
                    OpClass::DataMovement, OpClass::Other})
    EXPECT_EQ(cpu.efficiencyOf(c), 0.05) << opClassName(c).str();
  EXPECT_TRUE(t->links.empty());
}

TEST(Target, ProductOwnerFigures) {
  auto get = [](const char *name) {
    llvm::Expected<TargetDesc> t = loadTarget(name);
    EXPECT_TRUE(bool(t)) << name;
    return t ? *t : TargetDesc();
  };
  TargetDesc ryzen = get("ryzen-ai-300");
  EXPECT_EQ(ryzen.findDevice("npu")->peak(DType::I8), 50000);
  EXPECT_EQ(ryzen.findDevice("cpu")->bandwidthGBs, 120);
  // Activation x activation matmul stays off the XDNA 2 NPU.
  EXPECT_TRUE(
      ryzen.findDevice("npu")->hasRule("matmul", OpQualifier::DynamicRhs));
  TargetDesc snapdragon = get("snapdragon-x-elite");
  EXPECT_EQ(snapdragon.findDevice("gpu")->peak(DType::F32), 4600);
  EXPECT_EQ(snapdragon.findDevice("npu")->peak(DType::I8), 45000);
  EXPECT_EQ(snapdragon.findDevice("cpu")->bandwidthGBs, 135);
  TargetDesc m4 = get("apple-m4");
  EXPECT_EQ(m4.findDevice("npu")->peak(DType::F16), 38000);
  EXPECT_EQ(m4.findDevice("cpu")->bandwidthGBs, 120);
  TargetDesc lunar = get("intel-lunar-lake");
  EXPECT_EQ(lunar.findDevice("npu")->peak(DType::I8), 48000);
  EXPECT_EQ(lunar.findDevice("cpu")->bandwidthGBs, 136);
}

// --- parsing
// ------------------------------------------------------------------

TEST(Target, MinimalFileGetsTheDefaults) {
  llvm::Expected<TargetDesc> t = parseTarget(oneCpu(), "t.yaml");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->name, "t");
  EXPECT_TRUE(t->description.empty());
  EXPECT_TRUE(t->sources.empty());
  ASSERT_EQ(t->devices.size(), 1u);
  const DeviceDesc &d = t->devices[0];
  EXPECT_EQ(d.queues, 1);
  EXPECT_EQ(d.peak(DType::F32), 10);
  EXPECT_FALSE(d.runs(DType::F16));
  EXPECT_EQ(d.bandwidthGBs, 5);
  EXPECT_EQ(d.dispatchUs, 0.5);
  EXPECT_FALSE(d.memoryMB.has_value());
  EXPECT_TRUE(d.allOps);
  EXPECT_TRUE(d.unsupportedOps.empty());
  EXPECT_FALSE(d.staticShapesOnly);
  EXPECT_FALSE(d.powerW.has_value());
  for (size_t c = 0; c < kNumOpClasses; ++c)
    EXPECT_EQ(d.efficiency[c], defaultEfficiency(OpClass(c)));
  EXPECT_TRUE(t->links.empty());
}

TEST(Target, EveryField) {
  std::string text = lines({
      "name: soc",
      "description: a test SoC",
      "sources: [\"spec sheet\", 'review']",
      "devices:",
      "  - name: cpu",
      "    kind: cpu",
      "    queues: 2",
      "    peak: {f32: 100, f16: 200, bf16: 200, i8: 400, i4: 800}",
      "    bandwidth_gbs: 50",
      "    dispatch_us: 1",
      "    memory_mb: 1024",
      "    efficiency: {matmul: 0.7, other: 1}",
      "    ops: [matmul, relu, add]",
      "    unsupported_ops: [\"matmul:dynamic_rhs\"]",
      "    fusions: [matmul_bias_act]",
      "    static_shapes_only: true",
      "    power_w: 15",
      "    idle_power_w: 0.5",
      "  - name: npu",
      "    kind: npu",
      "    peak: {i8: 1000}",
      "    bandwidth_gbs: 40",
      "    dispatch_us: 30",
      "links:",
      "  - from: cpu",
      "    to: npu",
      "    directed: true",
      "    shared_memory: false",
      "    bandwidth_gbs: 8",
      "    latency_us: 2",
      "  - {from: npu, to: cpu, directed: true, shared_memory: true, sync_us: "
      "4}",
  });
  llvm::Expected<TargetDesc> t = parseTarget(text, "soc.yaml");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->description, "a test SoC");
  EXPECT_EQ(t->sources, (std::vector<std::string>{"spec sheet", "review"}));
  const DeviceDesc &cpu = t->devices[0];
  EXPECT_EQ(cpu.queues, 2);
  EXPECT_EQ(cpu.peak(DType::I4), 800);
  EXPECT_EQ(cpu.peak(DType::BF16), 200);
  EXPECT_EQ(*cpu.memoryMB, 1024);
  EXPECT_EQ(cpu.efficiencyOf(OpClass::MatMul), 0.7);
  EXPECT_EQ(cpu.efficiencyOf(OpClass::Other), 1);
  EXPECT_EQ(cpu.efficiencyOf(OpClass::Conv), defaultEfficiency(OpClass::Conv));
  EXPECT_FALSE(cpu.allOps);
  EXPECT_EQ(cpu.ops, (std::vector<std::string>{"matmul", "relu", "add"}));
  EXPECT_TRUE(cpu.listsKernel("relu"));
  EXPECT_FALSE(cpu.listsKernel("conv"));
  EXPECT_TRUE(cpu.listsKernel("matmul")); // only the dynamic-rhs form is out
  EXPECT_TRUE(cpu.hasRule("matmul", OpQualifier::DynamicRhs));
  EXPECT_EQ(cpu.fusions, (std::vector<std::string>{"matmul_bias_act"}));
  EXPECT_TRUE(cpu.staticShapesOnly);
  EXPECT_EQ(*cpu.powerW, 15);
  EXPECT_EQ(*cpu.idlePowerW, 0.5);
  ASSERT_EQ(t->links.size(), 2u);
  const LinkDesc *down = t->findLink("cpu", "npu");
  ASSERT_NE(down, nullptr);
  EXPECT_FALSE(down->sharedMemory);
  EXPECT_TRUE(down->directed);
  EXPECT_EQ(down->bandwidthGBs, 8);
  EXPECT_EQ(down->latencyUs, 2);
  const LinkDesc *up = t->findLink("npu", "cpu");
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE(up->sharedMemory);
  EXPECT_EQ(up->syncUs, 4);
}

// One test per kind of error, each with its exact message.

TEST(TargetErrors, YamlSyntax) {
  EXPECT_EQ(errorOf(lines({"name: t", "devices: [", "  {name: cpu"})),
            "t.yaml:3:13: Unexpected token. Expected Key, Flow Entry, or Flow "
            "Mapping End.");
}

TEST(TargetErrors, OneDocument) {
  EXPECT_EQ(errorOf(oneCpu({"---", "name: u"})),
            "t.yaml:9:1: a target file holds one YAML document");
}

TEST(TargetErrors, TopLevelNotAMapping) {
  EXPECT_EQ(errorOf("- a\n- b\n"),
            "t.yaml:1:1: expected a mapping (a target: name, devices, ...)");
  EXPECT_EQ(errorOf(""),
            "t.yaml:1:1: expected a mapping (a target: name, devices, ...)");
}

TEST(TargetErrors, UnknownKeyIsATypo) {
  EXPECT_EQ(errorOf(lines({"name: t", "devises: []"})),
            "t.yaml:2:1: devises: unknown key; did you mean 'devices'?");
  EXPECT_EQ(errorOf(oneCpu({"    bandwith_gbs: 5"})),
            "t.yaml:8:5: devices[0].bandwith_gbs: unknown key; did you mean "
            "'bandwidth_gbs'?");
  EXPECT_EQ(errorOf(oneCpu({"    colour: blue"})),
            "t.yaml:8:5: devices[0].colour: unknown key (known: name, kind, "
            "queues, peak, bandwidth_gbs, dispatch_us, memory_mb, efficiency, "
            "ops, unsupported_ops, fusions, static_shapes_only, power_w, "
            "idle_power_w, float_accumulation, fitted, weight_formats)");
  // The one accumulation the host emulates.
  EXPECT_EQ(errorOf(oneCpu({"    float_accumulation: bf16"})),
            "t.yaml:8:25: devices[0].float_accumulation: expected f32 (the "
            "only accumulation the host emulates)");
}

TEST(TargetTest, WeightFormats) {
  // Default: a CPU runs every packed format.
  llvm::Expected<TargetDesc> t = parseTarget(oneCpu(), "t.yaml");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->devices[0].weightFormats,
            (std::vector<std::string>{"int8", "int4", "ternary", "2:4"}));
  // Listed: exactly those.
  t = parseTarget(oneCpu({"    weight_formats: [int8, \"2:4\"]"}), "t.yaml");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->devices[0].weightFormats, (std::vector<std::string>{"int8", "2:4"}));
  // A GPU or NPU without the key: 8 and 4 bits (the built-in SoCs' NPUs).
  llvm::Expected<TargetDesc> soc = loadTarget("ryzen-ai-300");
  ASSERT_TRUE(bool(soc)) << llvm::toString(soc.takeError());
  for (const auto &d : soc->devices)
    EXPECT_EQ(d.weightFormats.size(), d.kind == "cpu" ? 4u : 2u) << d.name;
  std::string dup = errorOf(oneCpu({"    weight_formats: [int8, int8]"}));
  EXPECT_NE(dup.find("devices[0].weight_formats[1]: duplicate weight format 'int8'"),
            std::string::npos)
      << dup;
}

TEST(TargetErrors, DuplicateKey) {
  EXPECT_EQ(errorOf(oneCpu({"    kind: gpu"})),
            "t.yaml:8:5: devices[0].kind: duplicate key (first on line 4)");
}

TEST(TargetErrors, MissingRequiredKey) {
  EXPECT_EQ(errorOf(lines({"name: t"})),
            "t.yaml:1:1: devices: missing required key");
  EXPECT_EQ(
      errorOf(lines({"name: t", "devices:", "  - name: cpu", "    kind: cpu",
                     "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
      "t.yaml:3:5: devices[0].peak: missing required key");
}

TEST(TargetErrors, WrongType) {
  EXPECT_EQ(errorOf(lines({"name: [t]", "devices: []"})),
            "t.yaml:1:8: name: expected a string");
  EXPECT_EQ(errorOf(lines({"name: t", "devices: {cpu: 1}"})),
            "t.yaml:2:11: devices: expected a list of devices");
  EXPECT_EQ(errorOf(oneCpu({"    static_shapes_only: yes please"})),
            "t.yaml:8:25: devices[0].static_shapes_only: expected true or "
            "false");
  EXPECT_EQ(errorOf(oneCpu({"    memory_mb:"})),
            "t.yaml:8:5: devices[0].memory_mb: expected a positive number");
}

TEST(TargetErrors, PeakMustBePositive) {
  EXPECT_EQ(
      errorOf(lines({"name: t", "devices:", "  - name: cpu", "    kind: cpu",
                     "    peak:", "      f32: 10", "      i8: -3",
                     "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
      "t.yaml:7:11: devices[0].peak.i8: expected a positive number");
  EXPECT_EQ(errorOf(lines({"name: t", "devices:", "  - name: cpu",
                           "    kind: cpu", "    peak: {f32: fast}",
                           "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
            "t.yaml:5:17: devices[0].peak.f32: expected a positive number");
}

TEST(TargetErrors, PeakNeedsAnElementType) {
  EXPECT_EQ(errorOf(lines({"name: t", "devices:", "  - name: cpu",
                           "    kind: cpu", "    peak: {}",
                           "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
            "t.yaml:5:12: devices[0].peak: a device needs the peak of at "
            "least one element type (f32, f16, bf16, i8, i4)");
  EXPECT_EQ(errorOf(lines({"name: t", "devices:", "  - name: cpu",
                           "    kind: cpu", "    peak: {int8: 5}",
                           "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
            "t.yaml:5:12: devices[0].peak.int8: unknown key; did you mean "
            "'i8'?");
}

TEST(TargetErrors, QueuesAtLeastOne) {
  EXPECT_EQ(errorOf(oneCpu({"    queues: 0"})),
            "t.yaml:8:13: devices[0].queues: expected an integer >= 1");
  EXPECT_EQ(errorOf(oneCpu({"    queues: 1.5"})),
            "t.yaml:8:13: devices[0].queues: expected an integer >= 1");
}

TEST(TargetErrors, EfficiencyIsAFraction) {
  EXPECT_EQ(errorOf(oneCpu({"    efficiency: {matmul: 1.5}"})),
            "t.yaml:8:26: devices[0].efficiency.matmul: expected a fraction "
            "in (0, 1]");
  EXPECT_EQ(errorOf(oneCpu({"    efficiency: {conv: 0}"})),
            "t.yaml:8:24: devices[0].efficiency.conv: expected a fraction in "
            "(0, 1]");
  EXPECT_EQ(errorOf(oneCpu({"    efficiency: {dense: 0.5}"})),
            "t.yaml:8:18: devices[0].efficiency.dense: unknown key (known: "
            "matmul, conv, attention, elementwise, reduction, normalization, "
            "data_movement, other)");
}

TEST(TargetErrors, DeviceKindAndName) {
  EXPECT_EQ(errorOf(lines({"name: t", "devices:", "  - name: cpu",
                           "    kind: dsp", "    peak: {f32: 10}",
                           "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
            "t.yaml:4:11: devices[0].kind: expected cpu, gpu or npu");
  EXPECT_EQ(errorOf(lines({"name: t", "devices:", "  - name: big core",
                           "    kind: cpu", "    peak: {f32: 10}",
                           "    bandwidth_gbs: 5", "    dispatch_us: 0.5"})),
            "t.yaml:3:11: devices[0].name: expected an identifier "
            "([A-Za-z_][A-Za-z0-9_]*)");
}

TEST(TargetErrors, DuplicateDeviceName) {
  EXPECT_EQ(errorOf(oneCpu({"  - {name: cpu, kind: gpu, peak: {f16: 1}, "
                            "bandwidth_gbs: 1, dispatch_us: 1}"})),
            "t.yaml:8:12: devices[1].name: duplicate device name 'cpu' (also "
            "devices[0])");
  EXPECT_EQ(errorOf(oneCpu({"  - {name: cpu_mem, kind: gpu, peak: {f16: 1}, "
                            "bandwidth_gbs: 1, dispatch_us: 1}"})),
            "t.yaml:8:12: devices[1].name: device name 'cpu_mem' clashes with "
            "the arena of devices[0] (arenas are NAME_mem)");
}

TEST(TargetErrors, NoCpu) {
  EXPECT_EQ(errorOf(lines({"name: t", "devices:",
                           "  - {name: npu, kind: npu, peak: {i8: 1}, "
                           "bandwidth_gbs: 1, dispatch_us: 1}"})),
            "t.yaml:3:3: devices: a target needs at least one device of kind "
            "cpu");
  EXPECT_EQ(errorOf(lines({"name: t", "devices: []"})),
            "t.yaml:2:11: devices: a target needs at least one device of kind "
            "cpu");
}

TEST(TargetErrors, OpsAndUnsupportedOps) {
  EXPECT_EQ(errorOf(oneCpu({"    ops: some"})),
            "t.yaml:8:10: devices[0].ops: expected 'all' or a list of kernel "
            "names");
  EXPECT_EQ(errorOf(oneCpu({"    ops: [matmul, reluu]"})),
            "t.yaml:8:19: devices[0].ops[1]: unknown kernel 'reluu'; did you "
            "mean 'relu'?");
  EXPECT_EQ(errorOf(oneCpu({"    ops: [FancyOp]"})),
            "t.yaml:8:11: devices[0].ops[0]: unknown kernel 'FancyOp' (kernels "
            "are loom op mnemonics, see docs/targets.md)");
  EXPECT_EQ(errorOf(oneCpu({"    unsupported_ops: [\"matmul:constant_lhs\"]"})),
            "t.yaml:8:23: devices[0].unsupported_ops[0]: unknown qualifier "
            "'constant_lhs' (known: dynamic_rhs)");
  EXPECT_EQ(errorOf(oneCpu({"    unsupported_ops: [\"relu:dynamic_rhs\"]"})),
            "t.yaml:8:23: devices[0].unsupported_ops[0]: qualifier "
            "'dynamic_rhs' needs a kernel with a weight operand (conv, "
            "conv_integer, conv_transpose, gemm, matmul, matmul_integer, "
            "qlinear_conv, qlinear_matmul)");
  EXPECT_EQ(errorOf(oneCpu({"    unsupported_ops: [relu]", "    ops: [relu]"})),
            "t.yaml:8:23: devices[0].unsupported_ops[0]: kernel 'relu' is "
            "listed both in ops and in unsupported_ops");
}

TEST(TargetErrors, Power) {
  EXPECT_EQ(errorOf(oneCpu({"    power_w: 5", "    idle_power_w: 6"})),
            "t.yaml:9:19: devices[0].idle_power_w: exceeds power_w of the "
            "same device");
}

TEST(TargetErrors, LinkToUnknownDevice) {
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: npu, shared_memory: "
                                "true, sync_us: 1}"})),
            "t.yaml:6:21: links[0].to: unknown device 'npu' (devices: cpu, "
            "gpu)");
  EXPECT_EQ(errorOf(twoDevices({"  - {from: gpu, to: gpu, shared_memory: "
                                "true, sync_us: 1}"})),
            "t.yaml:6:21: links[0].to: a link joins two different devices");
}

TEST(TargetErrors, DuplicateLink) {
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: gpu, shared_memory: "
                                "true, sync_us: 1}",
                                "  - {from: gpu, to: cpu, shared_memory: "
                                "true, sync_us: 2}"})),
            "t.yaml:7:6: links[1]: duplicate link between 'gpu' and 'cpu' "
            "(also links[0])");
  // Two directed links, one each way, are fine.
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: gpu, directed: true, "
                                "shared_memory: false, bandwidth_gbs: 1}",
                                "  - {from: gpu, to: cpu, directed: true, "
                                "shared_memory: false, bandwidth_gbs: 2}"})),
            "no error");
}

TEST(TargetErrors, LinkFieldsOfTheOtherKind) {
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: gpu, shared_memory: "
                                "false, bandwidth_gbs: 1, sync_us: 1}"})),
            "t.yaml:6:66: links[0].sync_us: only shared-memory links have a "
            "sync cost (this link has shared_memory: false)");
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: gpu, shared_memory: "
                                "true, bandwidth_gbs: 1}"})),
            "t.yaml:6:47: links[0].bandwidth_gbs: a shared-memory link copies "
            "nothing: give its sync_us (or set shared_memory: false)");
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: gpu, shared_memory: "
                                "true}"})),
            "t.yaml:6:6: links[0].sync_us: missing required key (shared-memory "
            "links)");
  EXPECT_EQ(errorOf(twoDevices({"  - {from: cpu, to: gpu, shared_memory: "
                                "false}"})),
            "t.yaml:6:6: links[0].bandwidth_gbs: missing required key (copy "
            "links)");
}

// --- loading
// ------------------------------------------------------------------

TEST(Target, LoadTargetFromAFile) {
  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("soc", "yaml", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << oneCpu();
  }
  llvm::Expected<TargetDesc> t = loadTarget(path);
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->name, "t");
  // Errors name the file as given.
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << oneCpu({"    queues: 0"});
  }
  llvm::Expected<TargetDesc> bad = loadTarget(path);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(
      llvm::toString(bad.takeError()),
      (path + ":8:13: devices[0].queues: expected an integer >= 1").str());
  llvm::sys::fs::remove(path);
}

TEST(Target, UnknownTargetListsTheBuiltins) {
  llvm::Expected<TargetDesc> t = loadTarget("nosuchsoc");
  ASSERT_FALSE(bool(t));
  EXPECT_EQ(llvm::toString(t.takeError()),
            "unknown target 'nosuchsoc' (built-in targets: apple-m4, host, "
            "intel-lunar-lake, ryzen-ai-300, snapdragon-x-elite; or the path "
            "of a YAML target file)");
}

// --- the kernel table
// ---------------------------------------------------------

TEST(KernelTable, SortedAndClassified) {
  std::vector<llvm::StringRef> names = knownKernels();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::set<llvm::StringRef>(names.begin(), names.end()).size(),
            names.size());
  EXPECT_EQ(kernelClass("matmul"), OpClass::MatMul);
  EXPECT_EQ(kernelClass("qlinear_conv"), OpClass::Conv);
  EXPECT_EQ(kernelClass("layer_normalization"), OpClass::Normalization);
  EXPECT_EQ(kernelClass("reduce_mean"), OpClass::Reduction);
  EXPECT_EQ(kernelClass("transpose"), OpClass::DataMovement);
  EXPECT_EQ(kernelClass("relu"), OpClass::Elementwise);
  EXPECT_EQ(kernelClass("copy"), OpClass::DataMovement);
  EXPECT_FALSE(kernelClass("nosuchop").has_value());
  EXPECT_EQ(rhsOperandIndex("qlinear_matmul"), 3u);
  EXPECT_EQ(rhsOperandIndex("gemm"), 1u);
  EXPECT_FALSE(rhsOperandIndex("add").has_value());
}

/// Every region-free op of the loom dialect has a class: reads the op
/// definitions (dialects/Loom/*.td) and checks each mnemonic.
TEST(KernelTable, CoversEveryLoomOp) {
  // quantize / dequantize run as the quantize_linear / dequantize_linear
  // kernels; qconstant is a weight.
  const std::set<std::string> notKernels = {
      "constant", "none",     "yield",      "if",        "loop",
      "scan",     "fused_yield", "qconstant", "quantize", "dequantize"};
  const std::regex def(R"re(^def\s+\w+\s*:\s*Loom_\w*Op<"([a-z0-9_]+)")re");
  size_t seen = 0;
  for (const char *file : {"LoomOnnxOps.td", "LoomOps.td", "LoomFusedOps.td",
                           "LoomQuantOps.td"}) {
    std::string path = std::string(LOOM_SOURCE_DIR) + "/dialects/Loom/" + file;
    auto buffer = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(bool(buffer)) << path;
    llvm::SmallVector<llvm::StringRef> fileLines;
    (*buffer)->getBuffer().split(fileLines, '\n');
    for (llvm::StringRef line : fileLines) {
      std::smatch m;
      std::string l = line.str();
      if (!std::regex_search(l, m, def))
        continue;
      ++seen;
      std::string mnemonic = m[1];
      if (notKernels.count(mnemonic))
        continue;
      EXPECT_TRUE(kernelClass(mnemonic).has_value())
          << "loom op '" << mnemonic << "' (" << file
          << ") has no op class: add it to lib/Target/Kernels.cpp and "
             "docs/targets.md";
    }
  }
  EXPECT_GT(seen, 100u);
}

} // namespace
