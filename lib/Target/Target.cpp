//===- Target.cpp - Built-in target descriptions --------------------------===//
#include "loom/Target/Target.h"

using namespace loom::target;

const DeviceDesc *TargetDesc::findDevice(std::string_view deviceName) const {
  for (const DeviceDesc &d : devices)
    if (d.name == deviceName)
      return &d;
  return nullptr;
}

/// `host`: the machine Loom runs on, CPU only, one queue. The figures are
/// deliberately round estimates for a 2-core x86-64 host with AVX2 + FMA
/// (2 cores × 2 FMA units × 8 f32 lanes × 2 FLOP × ~2.5 GHz ≈ 160 GFLOP/s
/// peak), dual-channel DDR4/DDR5 (~20 GB/s sustained), ~1 µs to dispatch a
/// kernel from the executor's queue, and the fractions of peak that the
/// oneDNN fast paths (dense) and the scalar reference kernels (other) reach.
static TargetDesc hostTarget() {
  TargetDesc t;
  t.name = "host";
  t.description = "this machine's CPU only (round figures, see Target.cpp)";
  DeviceDesc cpu;
  cpu.name = "cpu";
  cpu.kind = "cpu";
  cpu.queues = 1;
  cpu.peakGflopsF32 = 160;
  cpu.bandwidthGBs = 20;
  cpu.dispatchUs = 1;
  cpu.denseEfficiency = 0.5;
  cpu.otherEfficiency = 0.05;
  t.devices.push_back(cpu);
  return t;
}

std::optional<TargetDesc> loom::target::getBuiltinTarget(std::string_view name) {
  if (name == "host")
    return hostTarget();
  return std::nullopt;
}

std::vector<std::string> loom::target::builtinTargetNames() { return {"host"}; }
