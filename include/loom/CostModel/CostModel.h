//===- CostModel.h - Estimated time of a kernel on a device -----*- C++ -*-===//
//
// A roofline estimate: the work of a kernel (FLOPs and bytes moved, from its
// operand shapes) against a device's peak throughput and bandwidth, plus the
// device's dispatch overhead. Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_COSTMODEL_COSTMODEL_H
#define LOOM_COSTMODEL_COSTMODEL_H

#include "loom/Target/Target.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::cost {

/// A statically shaped tensor operand; `elementBytes` as stored (bool: 1).
struct TensorDesc {
  std::vector<int64_t> shape;
  int64_t elementBytes = 4;
  int64_t numElements() const;
  int64_t bytes() const { return numElements() * elementBytes; }
};

/// One kernel call: its name (a `loom` op mnemonic) and operands; an absent
/// optional operand is nullopt.
struct KernelDesc {
  std::string kernel;
  std::vector<std::optional<TensorDesc>> inputs, outputs;
};

/// The work of one kernel call.
struct Work {
  double flops = 0;
  double bytes = 0;
  bool dense = false; ///< a matmul/conv-class kernel (dense efficiency)
};

Work estimateWork(const KernelDesc &kernel);

/// Estimated µs of `kernel` on `device`; nullopt when the device cannot run
/// it (every kernel runs on a CPU; other kinds arrive with their targets).
std::optional<double> estimateMicros(const KernelDesc &kernel,
                                     const target::DeviceDesc &device);

} // namespace loom::cost

#endif // LOOM_COSTMODEL_COSTMODEL_H
