//===- CostCalibration.h - Fit a device's cost model by measuring -*- C++ -*-===//
//
// The calibration suite of `loom-profile --calibrate TARGET`: generated
// microkernels (small ONNX graphs: convolutions by window, stride, groups
// and channels, depthwise among them; matmuls by M/N/K, one-row ones
// among them; elementwise and fused elementwise kernels by size;
// normalizations, pooling, resize, transposes, reductions) compiled in
// process for one device of a target, run with the runtime Session
// (through SessionOptions::deviceKernels when given, so a device kernel
// library is measured the same way), and fitted into the device's
// `fitted` cost model (loom/CostModel/Fit.h, docs/targets.md).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PIPELINES_COSTCALIBRATION_H
#define LOOM_PIPELINES_COSTCALIBRATION_H

#include "loom/CostModel/Fit.h"
#include "loom/Runtime/DeviceKernel.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace loom {
namespace rt {
struct Plan;
struct PlanTask;
} // namespace rt

struct CostCalibrationOptions {
  /// A built-in target name or a target file.
  std::string target = "host";
  /// The device to fit (default: the target's first CPU).
  std::string device;
  /// The fuller grid (several times longer).
  bool full = false;
  /// Threads each kernel may use (recorded in the fitted model).
  int threads = 1;
  /// Measuring stops for a microkernel after this many ms of runs (at least
  /// `minRuns`, at most `maxRuns` runs after two warm-up runs).
  double budgetMs = 30;
  int minRuns = 5, maxRuns = 40;
  /// Before every run, write this many MiB of other memory (0: none), so
  /// that a kernel meets its weights and inputs outside the core's own
  /// caches, as a layer of a whole model does: a microkernel run in a loop
  /// would find them all there. The default evicts this machine's L1/L2 (2
  /// MiB L2) and leaves most of a 32 MiB L3: on the development machine
  /// it predicts the held-out microkernels better than 64 (everything
  /// cold, 9.9% error against 8.8%) and whole models' kernels far better
  /// (64 MiB charged every small kernel ~50 µs).
  double flushMB = 4;
  /// The last-level cache of the machine, KiB (< 0: read it from
  /// /sys/devices/system/cpu/cpu0/cache; 0: unknown). When known, every
  /// microkernel with weights is also measured cold: after writing twice
  /// that much other memory, with its inputs written again (warm, as the
  /// previous layer leaves them), as a layer of a model whose weights do
  /// not stay in the cache between runs finds them. Those measurements fit
  /// the families' `cold_gbs`; the value is recorded as the fit's `llc_kb`.
  double llcKB = -1;
  /// Only the microkernels whose name contains this (empty: all).
  std::string filter;
  /// Device kernels for the Session (SessionOptions::deviceKernels).
  std::function<LoomKernelFn(const rt::Plan &, const rt::PlanTask &)>
      deviceKernels;
  /// Progress lines on stderr.
  bool progress = true;
  /// Recorded in the model.
  std::string machine, date;
};

/// One measured kernel call of the suite.
struct CalibrationMeasurement {
  std::string microkernel; ///< the generated graph, e.g. `conv_k3_s1_g1_c32_m32_h28`
  cost::KernelDesc kernel;
  double us = 0;         ///< median measured µs, dispatch included
  double rooflineUs = 0; ///< the device's roofline estimate
};

/// One point of the footprint sweep: a chain of identical convolutions run
/// back to back.
struct FootprintPoint {
  double weightBytes = 0; ///< the chain's weights
  double layerUs = 0;     ///< a layer's mean time
  double coldUs = 0;      ///< with its weights cold (measured for 1 layer)
};

/// How a model's layers go cold with its weights, from the footprint sweep
/// (FittedModel::coldAboveKB, coldRampKB): the layer time goes from the
/// one-layer chain's (warm) to the mean of the three longest chains'
/// (cold); the weights where it first gets a quarter and three quarters of
/// the way (interpolated between sweep points) give a linear ramp: its
/// middle and its width. Zeros when the sweep is too short or never gets
/// there.
struct ColdRamp {
  double aboveKB = 0, rampKB = 0;
};
ColdRamp coldRamp(const std::vector<FootprintPoint> &sweep);

struct CostCalibrationResult {
  target::FittedModel model;
  /// The footprint sweep (FittedModel::coldAboveKB comes from it).
  std::vector<FootprintPoint> footprint;
  cost::FitReport report;
  std::vector<CalibrationMeasurement> measurements;
  /// The target file's text with the device's `fitted` mapping replaced.
  std::string targetYaml;
};

/// The names of the suite's microkernels (default or `full` grid).
std::vector<std::string> calibrationSuite(bool full);

/// Runs the suite and fits. Errors name the microkernel that failed.
llvm::Expected<CostCalibrationResult>
calibrateCosts(const CostCalibrationOptions &options);

/// Fits `measurements` (as calibrateCosts does after measuring) for
/// `device`: the model and the report, machine/date/threads from
/// `options`.
target::FittedModel
fitMeasurements(const std::vector<CalibrationMeasurement> &measurements,
                const target::DeviceDesc &device,
                const CostCalibrationOptions &options,
                cost::FitReport *report);

} // namespace loom

#endif // LOOM_PIPELINES_COSTCALIBRATION_H
