//===- Fit.h - Fitting a device's cost model to measured kernels -*- C++
//-*-===//
//
// Turns measured microkernel times into a target::FittedModel (the `fitted`
// mapping of a target's device, docs/targets.md "Fitted cost model"). Per
// family, the time beyond the device's dispatch is a non-negative linear
// combination of a fixed overhead, the operations, the bytes, the bytes
// beyond a cache size, the transcendental evaluations (exp, tanh, erf)
// and, for calls whose weights are cold, their weight bytes and a fixed
// cost, fitted by least squares on relative error (exact non-negative
// least squares over the seven terms). The cache size and
// whether the cache term is used at all are chosen by the error on
// held-out microkernels (a deterministic split of the grid), not by taste.
// Plain C++ with LLVM Support, no timing: loom-profile --calibrate measures.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_COSTMODEL_FIT_H
#define LOOM_COSTMODEL_FIT_H

#include "loom/CostModel/CostModel.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace loom::cost {

/// One measured microkernel: its family (a name FittedModel::find accepts),
/// its work and its measured µs, dispatch included.
struct Sample {
  std::string family;
  double flops = 0, bytes = 0;
  double us = 0;
  double transcendentals = 0; ///< cost::Work::transcendentals
  double coldBytes = 0;       ///< cost::Work::coldBytes
  double coldCalls = 0;       ///< cost::Work::coldCalls
};

/// The samples of `kernel` as Sample: the family is the first of
/// fittedFamilyChain(kernel) (its variant, else its kernel name).
Sample makeSample(const KernelDesc &kernel, double us);

struct FitOptions {
  /// Cache sizes (KiB) tried for the spill term; 0 stands for "no cache
  /// term". The one with the lowest held-out error wins.
  std::vector<double> cacheKBCandidates = {0, 256, 1024, 4096, 16384};
  /// Every `holdOutEvery`-th sample of a family (by position, starting at
  /// the last of each group) is held out to choose among the candidates.
  int holdOutEvery = 4;
};

/// The fit of one family on `samples` (all of the same family): the
/// parameters minimizing Σ ((pred − us) / us)² with every parameter ≥ 0.
/// `cacheKB` 0: no cache term.
target::FittedFamily fitFamily(const std::vector<Sample> &samples,
                               double dispatchUs, double cacheKB);

/// The predicted µs of a sample under a fitted family.
double predictSample(const Sample &s, const target::FittedFamily &f,
                     double cacheKB, double dispatchUs);

/// The op class of a family name (a variant, kernel name or class name).
std::optional<target::OpClass> familyClass(llvm::StringRef family);

/// What fitModel reports beside the model.
struct FitReport {
  /// Median |log(pred / meas)| over the held-out samples for each cache
  /// candidate, in FitOptions order.
  std::vector<double> candidateErrors;
  /// The same for the device's roofline (its `peak`, `efficiency`,
  /// `bandwidth_gbs`, `dispatch_us`), on the same held-out samples: the
  /// baseline the fit has to beat.
  double rooflineError = 0;
  size_t heldOut = 0;
  /// For a fit of N > 1 threads where the device has a one-thread fit:
  /// derivedThreadsError on the same samples, and its fork/join cost.
  std::optional<double> derivedError;
  double forkJoinUs = 0;
};

/// Fits every family of `samples` for `device`: chooses the cache size by held-out error, then refits each
/// family on all of its samples. Each op class with samples also gets a
/// family of its own name fitted on all of them (the fallback of the
/// class's other kernels), unless a family has that name already. The
/// least intercept of all families becomes the model's `dispatchUs` (the
/// device's dispatch_us is not assumed: the runtime's may differ), each
/// family keeping the rest as its `fixedUs`. Each family's `error` and the model's
/// `error` are the held-out median |log(pred / meas)|. `roofline` gives, per
/// sample, the device's roofline µs (for the report; may be empty).
target::FittedModel fitModel(const std::vector<Sample> &samples,
                             const target::DeviceDesc &device,
                             const FitOptions &options = {},
                             FitReport *report = nullptr,
                             const std::vector<double> &roofline = {});

/// Which samples fitModel holds out: every FitOptions::holdOutEvery-th of
/// each family, by position.
std::vector<bool> heldOutMask(const std::vector<Sample> &samples,
                              int holdOutEvery);

/// A fit for `threads` threads derived from the one-thread fit `one`:
/// every rate times `threads` and `forkJoinUs` more per call.
target::FittedModel deriveThreads(const target::FittedModel &one, int threads,
                                  double forkJoinUs);

/// How well deriveThreads predicts `samples` measured with `threads`
/// threads: the fork and join cost is the median residual of the rates
/// alone over the training samples (heldOutMask), the error the median
/// |log(pred / meas)| over the held-out ones (samples of families `one`
/// has no family or class fallback for are left out). loom-profile
/// --calibrate --threads N prints it next to the fit's own error: the
/// alternative to measuring each thread count.
double derivedThreadsError(const std::vector<Sample> &samples,
                           const target::FittedModel &one, int threads,
                           double *forkJoinUs = nullptr,
                           const FitOptions &options = {});

/// The `fitted:` mapping of a device as YAML, each line indented by
/// `indent` spaces (docs/targets.md). Deterministic: families sorted.
void writeFittedYaml(const target::FittedModel &model, llvm::raw_ostream &os,
                     unsigned indent);
/// The same for several fits (one per thread count): a list of such
/// mappings sorted by `threads`; one fit is written as a plain mapping.
void writeFittedYaml(const std::vector<target::FittedModel> &fits,
                     llvm::raw_ostream &os, unsigned indent);

/// `fits` with `model` in place of the fit for the same thread count (or
/// added), sorted by threads: what `loom-profile --calibrate --threads N`
/// writes, so that a target keeps its fits for other thread counts.
std::vector<target::FittedModel>
mergeFits(const std::vector<target::FittedModel> &fits,
          const target::FittedModel &model);

/// `targetYaml` with the `fitted` mapping of device `device` replaced by
/// (or given) `model`; an error when the device's `- name: DEVICE` line is
/// not found.
llvm::Expected<std::string> withFittedModel(llvm::StringRef targetYaml,
                                            llvm::StringRef device,
                                            const target::FittedModel &model);
/// The same with several fits (writeFittedYaml's list).
llvm::Expected<std::string>
withFittedModels(llvm::StringRef targetYaml, llvm::StringRef device,
                 const std::vector<target::FittedModel> &fits);

/// The median of |log(a_i / b_i)|, 0 for none.
double medianAbsLogRatio(const std::vector<double> &a,
                         const std::vector<double> &b);

} // namespace loom::cost

#endif // LOOM_COSTMODEL_FIT_H
