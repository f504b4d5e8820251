//===- Target.h - Target descriptions (devices of a SoC) --------*- C++ -*-===//
//
// What the compiler knows about the machine a plan runs on: its devices, their
// queues and the figures the cost model uses. Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_TARGET_H
#define LOOM_TARGET_TARGET_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::target {

/// One device of a target and the figures its cost estimates come from.
struct DeviceDesc {
  std::string name;    ///< symbol in the plan: "cpu", "gpu", "npu"
  std::string kind;    ///< cpu, gpu or npu
  int queues = 1;      ///< in-order queues
  double peakGflopsF32 = 0;  ///< peak f32 throughput, GFLOP/s
  double bandwidthGBs = 0;   ///< memory bandwidth, GB/s
  double dispatchUs = 0;     ///< fixed cost of launching one kernel, µs
  /// Fraction of peak reached by dense kernels (matmul, conv, ...) and by
  /// everything else (elementwise, data movement).
  double denseEfficiency = 1, otherEfficiency = 1;
};

struct TargetDesc {
  std::string name;
  std::string description; ///< where the figures come from
  std::vector<DeviceDesc> devices;

  const DeviceDesc *findDevice(std::string_view deviceName) const;
};

/// The built-in target called `name`, or nullopt.
std::optional<TargetDesc> getBuiltinTarget(std::string_view name);
/// Names of the built-in targets, sorted.
std::vector<std::string> builtinTargetNames();

} // namespace loom::target

#endif // LOOM_TARGET_TARGET_H
