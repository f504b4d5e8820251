//===- Calibrate.cpp - Activation ranges from the float model -------------===//
//
// loom-calibrate: runs the graph on the host (HostRun.h) over the input sets
// and observes the activation operand of every op loom-quantize handles; the
// statistics (loom::quant::RangeObserver) become attributes on the ops. See
// the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "loom/Pipelines/Passes.h"

#include "Loom/LoomOps.h"
#include "Loom/Transforms/Passes.h"
#include "loom/Pipelines/HostRun.h"
#include "loom/Quant/Quant.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSwitch.h"

#include <limits>

namespace loom {
#define GEN_PASS_DEF_LOOMCALIBRATE
#include "Pipelines/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

struct CalibratePass : public loom::impl::LoomCalibrateBase<CalibratePass> {
  using LoomCalibrateBase::LoomCalibrateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto m = llvm::StringSwitch<std::optional<loom::quant::Method>>(method)
                 .Case("minmax", loom::quant::Method::MinMax)
                 .Case("percentile", loom::quant::Method::Percentile)
                 .Case("entropy", loom::quant::Method::Entropy)
                 .Default(std::nullopt);
    if (!m) {
      module.emitError("loom-calibrate: unknown method '")
          << method << "' (known: minmax, percentile, entropy)";
      return signalPassFailure();
    }
    if (data.empty()) {
      module.emitError("loom-calibrate: no calibration data (data=DIR,...)");
      return signalPassFailure();
    }
    auto func = module.lookupSymbol<func::FuncOp>("main");
    if (!func)
      return;
    SmallVector<Operation *> ops;
    SmallVector<Value> observe;
    func.walk([&](Operation *op) {
      if (!loom::isQuantizationCandidate(op))
        return;
      auto t = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
      if (!t || !t.getElementType().isF32() || !t.hasStaticShape())
        return;
      ops.push_back(op);
      observe.push_back(op->getOperand(0));
    });
    if (ops.empty())
      return;
    std::vector<std::string> folders(data.begin(), data.end());
    auto sets = loom::readInputSets(folders, loom::graphInputNames(module));
    if (!sets) {
      module.emitError("loom-calibrate: ") << llvm::toString(sets.takeError());
      return signalPassFailure();
    }
    auto runs = loom::runOnHost(module, *sets, observe);
    if (!runs) {
      module.emitError("loom-calibrate: ") << llvm::toString(runs.takeError());
      return signalPassFailure();
    }
    // Ranges and AWQ statistics gather over every set: how many, for the
    // summary and the report.
    module->setAttr("loom.calibration_sets",
                    OpBuilder(module.getContext())
                        .getI64IntegerAttr(int64_t(sets->size())));
    size_t perSet = size_t(std::max<int64_t>(
        1, (samples + int64_t(runs->size()) - 1) / int64_t(runs->size())));
    OpBuilder b(module.getContext());
    for (auto [i, op] : llvm::enumerate(ops)) {
      loom::quant::RangeObserver observer;
      // Sampled rows (for AWQ) of the MatMul-like ops' activation: a
      // MatMul's or Gemm's A, a SwiGLU's X.
      bool matmulLike = !isa<loom::ConvOp, loom::FusedConvOp>(op);
      int64_t k = cast<RankedTensorType>(observe[i].getType()).getShape().back();
      std::vector<float> rows;
      int64_t numRows = 0;
      // Per channel (the last axis of a MatMul-like op's activation, axis 1
      // of a Conv's): min, max and mean square, for loom-quantize's
      // smoothing.
      auto shape = cast<RankedTensorType>(observe[i].getType()).getShape();
      const int64_t axis = matmulLike ? int64_t(shape.size()) - 1 : 1;
      const int64_t channels = axis >= 0 && axis < int64_t(shape.size())
                                   ? shape[size_t(axis)]
                                   : 0;
      int64_t inner = 1;
      for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
        inner *= shape[d];
      std::vector<double> lo(size_t(std::max<int64_t>(channels, 0)),
                             std::numeric_limits<double>::infinity()),
          hi(lo.size(), -std::numeric_limits<double>::infinity()),
          sq(lo.size(), 0.0);
      int64_t perChannel = 0;
      for (const loom::HostRunResult &r : *runs) {
        const loom::rt::Tensor &t = r.observed[i];
        const float *x = reinterpret_cast<const float *>(t.bytes.data());
        size_t n = size_t(t.numElements());
        observer.observe(x, n);
        if (channels > 0) {
          for (size_t e = 0; e < n; ++e) {
            size_t c = (e / size_t(inner)) % size_t(channels);
            double v = x[e];
            lo[c] = std::min(lo[c], v);
            hi[c] = std::max(hi[c], v);
            sq[c] += v * v;
          }
          perChannel += int64_t(n) / channels;
        }
        if (!matmulLike || samples <= 0 || k <= 0)
          continue;
        // Rows spread evenly over this set's rows.
        int64_t setRows = int64_t(n) / k;
        int64_t take = std::min<int64_t>(setRows, int64_t(perSet));
        for (int64_t j = 0; j < take && numRows < samples; ++j, ++numRows) {
          int64_t row = take > 1 ? j * (setRows - 1) / (take - 1) : 0;
          rows.insert(rows.end(), x + row * k, x + (row + 1) * k);
        }
      }
      std::pair<float, float> range = observer.range(*m, percentile);
      op->setAttr("loom.calib_range",
                  b.getDenseF32ArrayAttr({range.first, range.second}));
      if (channels > 0 && perChannel > 0) {
        std::vector<float> stats;
        for (int64_t c = 0; c < channels; ++c) {
          stats.push_back(float(lo[size_t(c)]));
          stats.push_back(float(hi[size_t(c)]));
          stats.push_back(float(sq[size_t(c)] / double(perChannel)));
        }
        op->setAttr("loom.calib_channels",
                    DenseElementsAttr::get(
                        RankedTensorType::get({channels, 3}, b.getF32Type()),
                        ArrayRef<float>(stats)));
      }
      if (numRows > 0)
        op->setAttr("loom.calib_sample",
                    DenseElementsAttr::get(
                        RankedTensorType::get({numRows, k}, b.getF32Type()),
                        ArrayRef<float>(rows)));
      ++numObserved;
    }
  }
};

} // namespace
