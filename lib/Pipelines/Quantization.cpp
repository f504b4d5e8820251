//===- Quantization.cpp - loomc --quantize: passes and accuracy -----------===//
#include "loom/Pipelines/Pipelines.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "Loom/Transforms/EqualizeChannels.h"
#include "Loom/Transforms/Passes.h"
#include "loom/Emit/PlanEmitter.h"
#include "loom/Pipelines/HostRun.h"
#include "loom/Pipelines/Passes.h"
#include "loom/Quant/Quant.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;

bool loom::isQuantizeMode(llvm::StringRef mode) {
  return llvm::is_contained(
      {"w8", "w4", "int8", "awq-w4", "dynamic", "auto", "ternary"}, mode);
}

bool loom::modeNeedsCalibration(llvm::StringRef mode) {
  return mode == "int8" || mode == "awq-w4" || mode == "auto";
}

namespace {

/// Seeded inputs for an accuracy check without data: f32 inputs N(0, 1),
/// inputs of other types zero (token ids, masks, quantized values).
std::vector<loom::InputSet> randomInputs(ModuleOp module, int sets) {
  std::vector<loom::InputSet> result;
  auto func = module.lookupSymbol<func::FuncOp>("main");
  std::vector<std::string> names = loom::graphInputNames(module);
  std::mt19937 rng(0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int s = 0; s < sets; ++s) {
    loom::InputSet set;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto t = cast<RankedTensorType>(func.getArgument(i).getType());
      loom::rt::Tensor tensor;
      tensor.shape.assign(t.getShape().begin(), t.getShape().end());
      Type e = t.getElementType();
      auto parsed = loom::rt::parseDType(loom::emit::dtypeName(e));
      if (!parsed)
        continue; // left unbound: the run reports it
      tensor.dtype = *parsed;
      tensor.bytes.assign(size_t(tensor.numElements()) *
                              loom::rt::dtypeSize(tensor.dtype),
                          0);
      if (e.isF32()) {
        auto *f = reinterpret_cast<float *>(tensor.bytes.data());
        for (int64_t k = 0; k < tensor.numElements(); ++k)
          f[k] = normal(rng);
      }
      set[names[i]] = std::move(tensor);
    }
    result.push_back(std::move(set));
  }
  return result;
}

/// The input sets the per-layer accuracy is measured on (at most): each
/// set runs every layer twice, and the observed values are kept.
constexpr size_t kLayerSets = 4;

std::vector<float> asFloats(const loom::rt::Tensor &t) {
  std::vector<float> v(size_t(t.numElements()));
  if (t.dtype == loom::rt::DType::F32)
    std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(float));
  return v;
}

//===----------------------------------------------------------------------===//
// Per-layer accuracy, bias correction and float fallback
//===----------------------------------------------------------------------===//

/// The f32 values of a constant (row-major); empty when `v` is none or not
/// an f32 constant.
std::vector<float> constantFloats(Value v) {
  auto attr = dyn_cast_or_null<ElementsAttr>(loom::getConstantAttr(v));
  std::string bytes;
  if (!attr || !attr.getElementType().isF32() ||
      !loom::constantBytes(attr, bytes))
    return {};
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

/// The weight `loom.dequantize(loom.qconstant)` of a layer in f32, computed
/// from the stored integers and the quantized type; empty when `w` is not
/// of that form.
std::vector<float> dequantizedWeight(Value w) {
  auto dq = w.getDefiningOp<loom::DequantizeOp>();
  auto qc = dq ? dq.getInput().getDefiningOp<loom::QConstantOp>() : nullptr;
  if (!qc)
    return {};
  auto type = cast<RankedTensorType>(qc.getType());
  std::string stored;
  if (!loom::constantBytes(qc.getValue(), stored) ||
      int64_t(stored.size()) != type.getNumElements())
    return {};
  ArrayRef<int64_t> shape = type.getShape();
  const size_t rank = shape.size();
  // One scale (and zero point) per block of `block` elements.
  SmallVector<int64_t> block(shape.begin(), shape.end());
  std::vector<double> scales, zps;
  Type e = type.getElementType();
  if (auto t = dyn_cast<mlir::quant::UniformQuantizedType>(e)) {
    scales = {t.getScale()};
    zps = {double(t.getZeroPoint())};
  } else if (auto t = dyn_cast<mlir::quant::UniformQuantizedPerAxisType>(e)) {
    scales.assign(t.getScales().begin(), t.getScales().end());
    for (int64_t z : t.getZeroPoints())
      zps.push_back(double(z));
    block[size_t(t.getQuantizedDimension())] = 1;
  } else if (auto t =
                 dyn_cast<mlir::quant::UniformQuantizedSubChannelType>(e)) {
    for (float v : t.getScales().getValues<float>())
      scales.push_back(v);
    for (APInt z : t.getZeroPoints().getValues<APInt>())
      zps.push_back(double(z.getSExtValue()));
    // One scale per block: the scales' shape is the weight's divided by the
    // block sizes.
    ArrayRef<int64_t> grid = t.getScales().getType().getShape();
    if (grid.size() != rank)
      return {};
    for (size_t d = 0; d < rank; ++d)
      block[d] = grid[d] > 0 ? shape[d] / grid[d] : shape[d];
  } else {
    return {};
  }
  // Strides of the scale grid (shape / block).
  SmallVector<int64_t> grid(rank), gridStride(rank, 1), stride(rank, 1);
  for (size_t d = 0; d < rank; ++d)
    grid[d] = shape[d] / block[d];
  for (size_t d = rank; d-- > 1;) {
    gridStride[d - 1] = gridStride[d] * grid[d];
    stride[d - 1] = stride[d] * shape[d];
  }
  std::vector<float> out(stored.size());
  for (size_t i = 0; i < out.size(); ++i) {
    size_t s = 0;
    for (size_t d = 0; d < rank; ++d)
      s += size_t((int64_t(i) / stride[d] % shape[d]) / block[d] *
                  gridStride[d]);
    if (s >= scales.size())
      return {};
    out[i] = float((double(int8_t(stored[i])) - zps[s]) * scales[s]);
  }
  return out;
}

/// The f32 value an activation was quantized from: x for
/// dequantize(quantize(x)), else the activation itself.
Value floatInput(Value a) {
  if (auto dq = a.getDefiningOp<loom::DequantizeOp>())
    if (auto q = dq.getInput().getDefiningOp<loom::QuantizeOp>())
      return q.getInput();
  return a;
}

/// The ONNX node names of a location, joined by '+'.
std::string nodeNames(Location loc) {
  llvm::SetVector<StringRef> names;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l))
      names.insert(n.getName().getValue());
    return WalkResult::advance();
  });
  return llvm::join(names, "+");
}

/// How a layer's weight (and activation) is quantized, in words:
/// `i8 per channel`, `i4 groups of 128`, `i8 groups of 16, u8 activation`.
std::string layerFormat(Operation *op) {
  std::string f = "?";
  if (auto dq = op->getOperand(1).getDefiningOp<loom::DequantizeOp>()) {
    Type e = cast<RankedTensorType>(dq.getInput().getType()).getElementType();
    auto q = cast<mlir::quant::QuantizedType>(e);
    f = "i" + std::to_string(q.getStorageTypeIntegralWidth());
    if (isa<mlir::quant::UniformQuantizedType>(q))
      f += " per tensor";
    else if (isa<mlir::quant::UniformQuantizedPerAxisType>(q))
      f += " per channel";
    else if (auto s = dyn_cast<mlir::quant::UniformQuantizedSubChannelType>(q))
      for (auto [d, size] :
           llvm::zip(s.getQuantizedDimensions(), s.getBlockSizes()))
        if (size > 1)
          f += " groups of " + std::to_string(size);
  }
  if (op->hasAttr("loom.dynamic"))
    f += ", dynamic u8 activation";
  else if (floatInput(op->getOperand(0)) != op->getOperand(0))
    f += ", u8 activation";
  return f;
}

/// What equalizing a pair must gain, in its second convolution's SQNR on
/// the tuning inputs, to be applied. Smaller gains are within what the
/// choice of inputs moves: on Silero VAD v5 at w8, a pair measured +0.9 dB
/// on seeded random inputs and -3.4 dB on speech, and equalizing it cost
/// the state output 3 dB on 300 frames (docs/quantization.md).
constexpr double kEqualizeGainDb = 1.0;

/// Marks the second convolution of each equalizable pair (its index among
/// loom::equalize::pairs) until the layers are collected.
constexpr llvm::StringLiteral kPairAttr = "loom.equalize_pair";

/// A quantized layer of the module between loom-quantize and loom-fold-qdq:
/// an op reading a dequantized constant weight (operand 1) and carrying the
/// float weight it was quantized from (loom.float_weight).
struct Layer {
  Operation *op;
  std::string name, kind, format;
  int64_t floatBytes = 0;
  /// Sums over the measured sets of ref^2 and (ref - quantized)^2.
  double signal = 0, noise = 0;
  /// Bias correction: measured (noise before/after on the tuning inputs),
  /// and applied where it lowered the error.
  bool biasMeasured = false, biasApplied = false;
  double tuneSignal = 0, tuneNoise = 0, tuneNoiseCorrected = 0;
  std::vector<float> correction;
  Value originalBias; ///< before the correction
  bool keptFloat = false;
  /// With --keep-float-by=output: the model outputs' SQNR with this layer
  /// alone quantized (tuning inputs).
  std::optional<double> aloneOutputSqnr;
  /// The second convolution of an equalizable pair: whether the pair was
  /// equalized and, where both were measured (--equalize=auto), this
  /// layer's own SQNR on the tuning inputs with and without.
  bool eqPair = false, equalized = false;
  /// int8: its activation's channels were smoothed into its weights.
  bool smoothed = false;
  std::optional<double> eqSqnr, plainSqnr;
};

double sqnrOf(double signal, double noise) {
  if (noise == 0)
    return std::numeric_limits<double>::infinity();
  if (signal == 0)
    return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

/// The layers of `module` (after loom-quantize with keep-float-weights), in
/// program order.
std::vector<Layer> collectLayers(ModuleOp module) {
  std::vector<Layer> layers;
  module.walk([&](Operation *op) {
    auto w = op->getAttrOfType<ElementsAttr>("loom.float_weight");
    if (!w || op->getNumOperands() < 3)
      return;
    Layer l;
    l.op = op;
    l.name = nodeNames(op->getLoc());
    if (l.name.empty())
      l.name = op->getName().getStringRef().str() + "#" +
               std::to_string(layers.size());
    l.kind = isa<loom::FusedMatMulOp>(op) ? "matmul" : "conv";
    l.format = layerFormat(op);
    l.floatBytes = w.getNumElements() * int64_t(sizeof(float));
    l.eqPair = op->hasAttr(kPairAttr);
    l.smoothed = op->hasAttr("loom.smoothed");
    layers.push_back(std::move(l));
  });
  return layers;
}

/// Per layer, what one run of the layers observed.
struct LayerObservation {
  double signal = 0, noise = 0, noiseCorrected = 0;
  /// Per input channel: the sum of the layer's f32 input and the count.
  std::vector<double> inputSum;
  int64_t inputCount = 0;
};

/// The input channel axis of a layer's activation: the last for a
/// MatMul, 1 for a Conv.
int64_t channelAxis(const Layer &l, int64_t rank) {
  return l.kind == "matmul" ? rank - 1 : 1;
}

/// Runs a copy of `module` (between loom-quantize and loom-fold-qdq) on
/// `sets` and measures every layer of `layers` (of `module`) against its
/// float twin: the same op with the float weight, reading the f32 value the
/// layer's activation comes from in this very run (so that the error
/// measured is the layer's own). With `means`, the layers' f32 inputs are
/// summed per input channel; a layer with a `correction` is also run with
/// that added to its bias.
llvm::Expected<std::vector<LayerObservation>>
observeLayers(ModuleOp module, ArrayRef<Layer> layers,
              const std::vector<loom::InputSet> &sets, bool means) {
  IRMapping mapping;
  OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone(mapping));
  struct Probe {
    Value input, quantized, twin, corrected;
  };
  std::vector<Probe> probes;
  for (const Layer &l : layers) {
    Operation *op = mapping.lookup(l.op->getResult(0)).getDefiningOp();
    auto w = op->getAttrOfType<ElementsAttr>("loom.float_weight");
    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(op);
    Probe p;
    p.input = floatInput(op->getOperand(0));
    p.quantized = op->getResult(0);
    Value wf = loom::ConstantOp::create(b, op->getLoc(), w);
    Operation *twin = b.clone(*op);
    twin->setOperand(0, p.input);
    twin->setOperand(1, wf);
    twin->removeAttr("loom.dynamic");
    // The float layer has its own bias, not the corrected one.
    if (l.biasApplied)
      twin->setOperand(2, mapping.lookup(l.originalBias));
    p.twin = twin->getResult(0);
    if (!l.correction.empty()) {
      std::vector<float> bias = constantFloats(op->getOperand(2));
      if (bias.empty())
        bias.assign(l.correction.size(), 0.0f);
      for (size_t i = 0; i < bias.size(); ++i)
        bias[i] += l.correction[i];
      auto t = RankedTensorType::get({int64_t(bias.size())}, b.getF32Type());
      Value c = loom::ConstantOp::create(
          b, op->getLoc(), DenseElementsAttr::get(t, ArrayRef<float>(bias)));
      Operation *corrected = b.clone(*op);
      corrected->setOperand(2, c);
      p.corrected = corrected->getResult(0);
    }
    probes.push_back(p);
  }
  // The float weights must not reach the kernels as attributes.
  copy->walk([](Operation *op) { op->removeAttr("loom.float_weight"); });
  SmallVector<Value> observe;
  for (const Probe &p : probes) {
    observe.append({p.quantized, p.twin});
    if (p.corrected)
      observe.push_back(p.corrected);
    if (means)
      observe.push_back(p.input);
  }
  auto runs = loom::runOnHost(*copy, sets, observe);
  if (!runs)
    return runs.takeError();
  std::vector<LayerObservation> result(layers.size());
  for (const loom::HostRunResult &run : *runs) {
    size_t next = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      LayerObservation &o = result[i];
      std::vector<float> q = asFloats(run.observed[next++]);
      std::vector<float> f = asFloats(run.observed[next++]);
      for (size_t k = 0; k < f.size(); ++k) {
        o.signal += double(f[k]) * f[k];
        o.noise += (double(f[k]) - q[k]) * (double(f[k]) - q[k]);
      }
      if (probes[i].corrected) {
        std::vector<float> c = asFloats(run.observed[next++]);
        for (size_t k = 0; k < f.size(); ++k)
          o.noiseCorrected += (double(f[k]) - c[k]) * (double(f[k]) - c[k]);
      }
      if (means) {
        const loom::rt::Tensor &x = run.observed[next++];
        std::vector<float> v = asFloats(x);
        int64_t rank = int64_t(x.shape.size());
        int64_t axis = channelAxis(layers[i], rank);
        int64_t channels = x.shape[size_t(axis)], inner = 1;
        for (int64_t d = axis + 1; d < rank; ++d)
          inner *= x.shape[size_t(d)];
        o.inputSum.resize(size_t(channels), 0.0);
        for (size_t k = 0; k < v.size(); ++k)
          o.inputSum[(k / size_t(inner)) % size_t(channels)] += v[k];
        o.inputCount += int64_t(v.size()) / channels;
      }
    }
  }
  return result;
}

/// The bias correction of a layer (data-free quantization's empirical bias
/// correction): -(deq(Wq) - W) . E[x] per output channel, E[x] the mean of
/// each input channel of the layer's input. For a Conv, each input channel's
/// mean counts for every kernel tap (so zero padding at the borders is
/// taken as the mean too: an approximation). Empty when the layer's
/// weights cannot be read.
std::vector<float> biasCorrection(const Layer &l,
                                  const LayerObservation &o) {
  Operation *op = l.op;
  std::vector<float> deq = dequantizedWeight(op->getOperand(1));
  std::vector<float> w;
  {
    auto attr = op->getAttrOfType<ElementsAttr>("loom.float_weight");
    std::string bytes;
    if (!attr || !loom::constantBytes(attr, bytes))
      return {};
    w.resize(bytes.size() / sizeof(float));
    std::memcpy(w.data(), bytes.data(), w.size() * sizeof(float));
  }
  if (deq.size() != w.size() || o.inputCount == 0)
    return {};
  std::vector<double> mean(o.inputSum.size());
  for (size_t c = 0; c < mean.size(); ++c)
    mean[c] = o.inputSum[c] / double(o.inputCount);
  auto shape = cast<RankedTensorType>(op->getOperand(1).getType()).getShape();
  std::vector<double> c;
  if (l.kind == "matmul") {
    int64_t k = shape[0], n = shape[1];
    if (int64_t(mean.size()) != k)
      return {};
    c.assign(size_t(n), 0.0);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t j = 0; j < n; ++j)
        c[size_t(j)] -= (double(deq[size_t(r * n + j)]) - w[size_t(r * n + j)]) *
                        mean[size_t(r)];
  } else {
    int64_t outC = shape[0], inPerGroup = shape[1], taps = 1;
    for (int64_t d : shape.drop_front(2))
      taps *= d;
    int64_t groups = 1;
    if (auto g = op->getAttrOfType<IntegerAttr>("group"))
      groups = g.getInt();
    if (groups <= 0 || outC % groups ||
        int64_t(mean.size()) != inPerGroup * groups)
      return {};
    int64_t outPerGroup = outC / groups;
    c.assign(size_t(outC), 0.0);
    for (int64_t o2 = 0; o2 < outC; ++o2)
      for (int64_t ci = 0; ci < inPerGroup; ++ci) {
        double m = mean[size_t(o2 / outPerGroup * inPerGroup + ci)];
        for (int64_t t = 0; t < taps; ++t) {
          size_t i = size_t((o2 * inPerGroup + ci) * taps + t);
          c[size_t(o2)] -= (double(deq[i]) - w[i]) * m;
        }
      }
  }
  return std::vector<float>(c.begin(), c.end());
}

/// Adds `correction` to the bias of `op` (operand 2), creating one where
/// it has none.
void addToBias(Operation *op, ArrayRef<float> correction) {
  std::vector<float> bias = constantFloats(op->getOperand(2));
  if (bias.size() != correction.size())
    bias.assign(correction.size(), 0.0f);
  for (size_t i = 0; i < bias.size(); ++i)
    bias[i] += correction[i];
  OpBuilder b(op);
  auto t = RankedTensorType::get({int64_t(bias.size())}, b.getF32Type());
  op->setOperand(2, loom::ConstantOp::create(
                        b, op->getLoc(),
                        DenseElementsAttr::get(t, ArrayRef<float>(bias))));
}

/// Makes a layer float again: its float weight, and the f32 value its
/// activation was quantized from.
void keepFloat(Operation *op) {
  OpBuilder b(op);
  auto w = op->getAttrOfType<ElementsAttr>("loom.float_weight");
  SmallVector<Operation *> dropped = {op->getOperand(1).getDefiningOp(),
                                      op->getOperand(0).getDefiningOp()};
  op->setOperand(1, loom::ConstantOp::create(b, op->getLoc(), w));
  op->setOperand(0, floatInput(op->getOperand(0)));
  op->removeAttr("loom.dynamic");
  // The quantized weight (and activation) nothing reads any more: a host
  // run would have tasks without consumers.
  while (!dropped.empty()) {
    Operation *d = dropped.pop_back_val();
    if (!d || !isOpTriviallyDead(d))
      continue;
    // Each producer once: an op used twice by `d` is erased once.
    llvm::SmallSetVector<Operation *, 2> producers;
    for (Value v : d->getOperands())
      if (Operation *p = v.getDefiningOp())
        producers.insert(p);
    d->erase();
    dropped.append(producers.begin(), producers.end());
  }
}

/// The SQNR (dB) of every f32 graph output of `got` against `ref`, summed
/// over the outputs and the sets.
double outputsSqnr(const std::vector<loom::HostRunResult> &ref,
                   const std::vector<loom::HostRunResult> &got) {
  double signal = 0, noise = 0;
  for (size_t s = 0; s < ref.size() && s < got.size(); ++s)
    for (const auto &[name, t] : ref[s].outputs) {
      auto it = got[s].outputs.find(name);
      if (t.dtype != loom::rt::DType::F32 || it == got[s].outputs.end())
        continue;
      std::vector<float> r = asFloats(t), g = asFloats(it->second);
      for (size_t k = 0; k < r.size() && k < g.size(); ++k) {
        signal += double(r[k]) * r[k];
        noise += (double(r[k]) - g[k]) * (double(r[k]) - g[k]);
      }
    }
  return sqnrOf(signal, noise);
}

/// Per layer, the SQNR of the model outputs (against `ref`, the float
/// model on `sets`) when that layer alone is quantized: one host run of a
/// copy of `module` with every other layer float.
llvm::Expected<std::vector<double>>
aloneOutputSqnr(ModuleOp module, ArrayRef<Layer> layers,
                const std::vector<loom::InputSet> &sets,
                const std::vector<loom::HostRunResult> &ref) {
  std::vector<double> result;
  for (size_t i = 0; i < layers.size(); ++i) {
    IRMapping mapping;
    OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone(mapping));
    for (size_t j = 0; j < layers.size(); ++j) {
      if (j == i)
        continue;
      Operation *op = mapping.lookup(layers[j].op->getResult(0)).getDefiningOp();
      keepFloat(op);
      if (layers[j].biasApplied)
        op->setOperand(2, mapping.lookup(layers[j].originalBias));
    }
    copy->walk([](Operation *op) { op->removeAttr("loom.float_weight"); });
    auto got = loom::runOnHost(*copy, sets);
    if (!got)
      return got.takeError();
    result.push_back(outputsSqnr(ref, *got));
  }
  return result;
}

/// loom-calibrate (when the mode needs it) and loom-quantize, the float
/// weights kept on the layers.
LogicalResult calibrateAndQuantize(ModuleOp module,
                                   const loom::QuantizeOptions &options) {
  PassManager pm(module.getContext());
  if (loom::modeNeedsCalibration(options.mode)) {
    loom::LoomCalibrateOptions c;
    c.data.assign(options.calibrationData.begin(),
                  options.calibrationData.end());
    c.method = options.calibrationMethod;
    c.percentile = options.percentile;
    pm.addPass(loom::createLoomCalibrate(c));
  }
  loom::LoomQuantizeOptions q;
  q.mode = options.mode;
  q.sparsity = options.sparsity;
  q.groupSize = options.groupSize;
  q.target = options.target;
  q.keepFloatWeights = true;
  q.smooth = options.smooth;
  pm.nest<func::FuncOp>().addPass(loom::createLoomQuantize(q));
  return pm.run(module);
}

/// Per equalizable pair of `module` (float, pairs marked with kPairAttr),
/// the SQNR of its second convolution's own output on `sets` after
/// quantizing a copy with every pair equalized (`equalized`) or none; NaN
/// where that convolution is not a quantized layer.
llvm::Expected<std::vector<double>>
pairSqnr(ModuleOp module, size_t pairs, const loom::QuantizeOptions &options,
         bool equalized, const std::vector<loom::InputSet> &sets) {
  OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone());
  if (equalized)
    for (Operation *op : loom::equalize::pairs(*copy))
      loom::equalize::equalizePair(op);
  if (failed(calibrateAndQuantize(*copy, options)))
    return llvm::createStringError("quantizing the trial copy failed");
  // Only the pairs' second convolutions are measured.
  std::vector<Layer> layers = collectLayers(*copy);
  llvm::erase_if(layers, [](const Layer &l) { return !l.eqPair; });
  auto measured = observeLayers(*copy, layers, sets, /*means=*/false);
  if (!measured)
    return measured.takeError();
  std::vector<double> result(pairs, std::nan(""));
  for (size_t i = 0; i < layers.size(); ++i)
    if (size_t index = size_t(
            layers[i].op->getAttrOfType<IntegerAttr>(kPairAttr).getInt());
        index < pairs)
      result[index] = sqnrOf((*measured)[i].signal, (*measured)[i].noise);
  return result;
}

} // namespace

LogicalResult loom::quantizeModule(ModuleOp module,
                                   const QuantizeOptions &options) {
  MLIRContext *ctx = module.getContext();
  OwningOpRef<ModuleOp> floatModule = cast<ModuleOp>(module->clone());

  // Bias correction, the float fallback and the choice of equalized pairs
  // tune on the calibration data, else on the seeded random inputs.
  std::vector<InputSet> tuning;
  std::string tuningSource;
  auto loadTuning = [&]() -> LogicalResult {
    if (!tuningSource.empty())
      return success();
    if (options.calibrationData.empty()) {
      tuning = randomInputs(module, 4);
      tuningSource = "random";
      return success();
    }
    auto sets = readInputSets(options.calibrationData, graphInputNames(module));
    if (!sets)
      return module.emitError("quantization tuning: ")
             << llvm::toString(sets.takeError());
    tuning = std::move(*sets);
    tuningSource = "calibration-data";
    return success();
  };

  // Cross-layer equalization: every pair, none, or (auto) the pairs whose
  // second convolution quantizes with less error equalized than not,
  // measured on the tuning inputs. Calibration sees the equalized
  // activations.
  SmallVector<Operation *> pairs = equalize::pairs(module);
  for (size_t i = 0; i < pairs.size(); ++i)
    pairs[i]->setAttr(kPairAttr, IntegerAttr::get(IntegerType::get(ctx, 64),
                                                  int64_t(i)));
  std::vector<double> eqSqnr, plainSqnr;
  std::vector<bool> chosen(pairs.size(), options.equalize != "none");
  if (options.equalize == "auto" && !pairs.empty()) {
    if (failed(loadTuning()))
      return failure();
    std::vector<InputSet> sets(
        tuning.begin(),
        tuning.begin() + std::min(tuning.size(), size_t(kLayerSets)));
    // The trials do not smooth: equalization costs nothing at run time and
    // smoothing a multiply, so a pair either fixes is equalized, and
    // smoothing then applies only where it still pays.
    QuantizeOptions trial = options;
    trial.smooth = "none";
    auto with = pairSqnr(module, pairs.size(), trial, true, sets);
    if (!with)
      return module.emitError("equalization (equalized trial): ")
             << llvm::toString(with.takeError());
    auto without = pairSqnr(module, pairs.size(), trial, false, sets);
    if (!without)
      return module.emitError("equalization (plain trial): ")
             << llvm::toString(without.takeError());
    eqSqnr = std::move(*with);
    plainSqnr = std::move(*without);
    for (size_t i = 0; i < pairs.size(); ++i)
      chosen[i] = eqSqnr[i] >= plainSqnr[i] + kEqualizeGainDb;
  }
  int64_t equalizedPairs = 0;
  for (size_t i = 0; i < pairs.size(); ++i)
    if (chosen[i] && equalize::equalizePair(pairs[i]))
      ++equalizedPairs;
    else
      chosen[i] = false;

  // loom-quantize leaves each layer's float weight on it: the per-layer
  // accuracy, bias correction and the float fallback below read it; then
  // loom-fold-qdq forms the quantized kernels.
  if (failed(calibrateAndQuantize(module, options)))
    return failure();

  std::vector<Layer> layers = collectLayers(module);
  for (Layer &l : layers) {
    auto index = l.op->getAttrOfType<IntegerAttr>(kPairAttr);
    if (!index)
      continue;
    size_t i = size_t(index.getInt());
    l.equalized = chosen[i];
    if (i < eqSqnr.size()) {
      l.eqSqnr = eqSqnr[i];
      l.plainSqnr = plainSqnr[i];
    }
  }
  module.walk([](Operation *op) { op->removeAttr(kPairAttr); });
  // `auto` picks the cures per layer: int8 where it pays (loom-quantize),
  // groups along K where they keep the weights closer (chooseW8Blocks), bias
  // correction where it lowers the layer's error, and float within
  // --keep-float's budget.
  const bool correctBias = options.biasCorrection || options.mode == "auto";
  if (correctBias && options.calibrationData.empty())
    return module.emitError("bias correction needs calibration data: the "
                            "layers' mean inputs are measured on it");
  const bool tune = !layers.empty() &&
                    (correctBias || options.keepFloatPercent > 0);
  if (tune && failed(loadTuning()))
    return failure();
  if (tune && correctBias) {
    auto stats = observeLayers(module, layers, tuning, /*means=*/true);
    if (!stats)
      return module.emitError("bias correction: ")
             << llvm::toString(stats.takeError());
    for (size_t i = 0; i < layers.size(); ++i) {
      Value bias = layers[i].op->getOperand(2);
      std::vector<float> c = biasCorrection(layers[i], (*stats)[i]);
      // A bias the correction cannot be added to (not a constant of one
      // value per output channel) is left alone.
      if (!isNone(bias) && constantFloats(bias).size() != c.size())
        c.clear();
      layers[i].correction = std::move(c);
    }
    auto measured = observeLayers(module, layers, tuning, /*means=*/false);
    if (!measured)
      return module.emitError("bias correction: ")
             << llvm::toString(measured.takeError());
    for (size_t i = 0; i < layers.size(); ++i) {
      Layer &l = layers[i];
      const LayerObservation &o = (*measured)[i];
      l.tuneSignal = o.signal;
      l.tuneNoise = o.noise;
      if (l.correction.empty())
        continue;
      l.biasMeasured = true;
      l.tuneNoiseCorrected = o.noiseCorrected;
      // Only where it lowers the layer's own output error.
      if (o.noiseCorrected < o.noise) {
        l.biasApplied = true;
        l.originalBias = l.op->getOperand(2);
        addToBias(l.op, l.correction);
      }
    }
  }
  if (tune && options.keepFloatPercent > 0) {
    // The layers whose quantization costs the most (the lowest SQNR of
    // their own output on the tuning inputs, after bias correction; with
    // keepFloatBy "output", the lowest SQNR of the model outputs with that
    // layer alone quantized) stay float while their f32 weights fit the
    // budget.
    auto measured = observeLayers(module, layers, tuning, /*means=*/false);
    if (!measured)
      return module.emitError("keep-float: ")
             << llvm::toString(measured.takeError());
    int64_t total = 0;
    std::vector<double> cost(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
      layers[i].tuneSignal = (*measured)[i].signal;
      layers[i].tuneNoise = (*measured)[i].noise;
      total += layers[i].floatBytes;
      cost[i] = sqnrOf(layers[i].tuneSignal, layers[i].tuneNoise);
    }
    if (options.keepFloatBy == "output") {
      auto ref = runOnHost(*floatModule, tuning);
      if (!ref)
        return module.emitError("keep-float (float model): ")
               << llvm::toString(ref.takeError());
      auto alone = aloneOutputSqnr(module, layers, tuning, *ref);
      if (!alone)
        return module.emitError("keep-float: ")
               << llvm::toString(alone.takeError());
      cost = *alone;
      for (size_t i = 0; i < layers.size(); ++i)
        layers[i].aloneOutputSqnr = cost[i];
    }
    std::vector<size_t> order(layers.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return cost[a] < cost[b]; });
    double budget = double(total) * options.keepFloatPercent / 100.0;
    double used = 0;
    for (size_t i : order) {
      if (used + double(layers[i].floatBytes) > budget)
        continue;
      used += double(layers[i].floatBytes);
      layers[i].keptFloat = true;
      keepFloat(layers[i].op);
      // A float layer needs no correction of its rounding.
      if (layers[i].biasApplied)
        layers[i].op->setOperand(2, layers[i].originalBias);
      layers[i].biasMeasured = layers[i].biasApplied = false;
    }
  }

  // Accuracy: the float and the quantized graph on the same inputs.
  std::string source = "eval-data";
  std::vector<std::string> folders = options.evalData;
  if (folders.empty()) {
    folders = options.calibrationData;
    source = "calibration-data";
  }
  std::vector<InputSet> inputs;
  // Expected outputs given with the inputs (output_N.pb): both graphs are
  // also measured against them.
  std::vector<std::vector<rt::Tensor>> references;
  if (folders.empty()) {
    inputs = randomInputs(module, 4);
    source = "random";
  } else {
    auto sets = readInputSets(folders, graphInputNames(module), &references);
    if (!sets)
      return module.emitError("quantization accuracy: ")
             << llvm::toString(sets.takeError());
    inputs = std::move(*sets);
  }
  // Per layer: each quantized layer against the same op in f32 reading the
  // same input, on the first kLayerSets input sets (a layer's own error).
  std::vector<Layer *> measuredLayers;
  for (Layer &l : layers)
    if (!l.keptFloat)
      measuredLayers.push_back(&l);
  std::vector<InputSet> layerSets(
      inputs.begin(),
      inputs.begin() + std::min(inputs.size(), size_t(kLayerSets)));
  if (!measuredLayers.empty()) {
    std::vector<Layer> view;
    for (Layer *l : measuredLayers) {
      view.push_back(*l);
      view.back().correction.clear();
    }
    auto measured = observeLayers(module, view, layerSets, /*means=*/false);
    if (!measured)
      return module.emitError("quantization accuracy (per layer): ")
             << llvm::toString(measured.takeError());
    for (size_t i = 0; i < measuredLayers.size(); ++i) {
      measuredLayers[i]->signal = (*measured)[i].signal;
      measuredLayers[i]->noise = (*measured)[i].noise;
    }
  }
  module.walk([](Operation *op) {
    op->removeAttr("loom.float_weight");
    op->removeAttr("loom.smoothed");
  });
  PassManager fold(ctx);
  auto &funcPm = fold.nest<func::FuncOp>();
  funcPm.addPass(createLoomFoldQdq());
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createCSEPass());
  if (failed(fold.run(module)))
    return failure();

  auto ref = runOnHost(*floatModule, inputs);
  if (!ref)
    return module.emitError("quantization accuracy (float model): ")
           << llvm::toString(ref.takeError());
  auto got = runOnHost(module, inputs);
  if (!got)
    return module.emitError("quantization accuracy (quantized model): ")
           << llvm::toString(got.takeError());

  std::vector<std::string> outputNames = graphOutputNames(module);
  // The reference of output `name` in every set, or nothing.
  auto referencesOf = [&](const std::string &name) {
    std::vector<const rt::Tensor *> found;
    auto it = std::find(outputNames.begin(), outputNames.end(), name);
    size_t k = size_t(it - outputNames.begin());
    for (const std::vector<rt::Tensor> &set : references)
      if (k < set.size() && set[k].dtype == rt::DType::F32 &&
          !set[k].bytes.empty())
        found.push_back(&set[k]);
    if (found.size() != inputs.size())
      found.clear();
    return found;
  };

  Builder b(ctx);
  SmallVector<Attribute> outputs;
  for (const auto &[name, first] : (*ref)[0].outputs) {
    if (first.dtype != rt::DType::F32)
      continue;
    std::vector<float> all, allQ;
    int64_t agree = 0, rows = 0;
    for (size_t s = 0; s < ref->size(); ++s) {
      std::vector<float> r = asFloats((*ref)[s].outputs.at(name));
      std::vector<float> g = asFloats((*got)[s].outputs.at(name));
      // Top-1 agreement of [N, C] scores, C > 1.
      const rt::Tensor &t = (*ref)[s].outputs.at(name);
      if (t.shape.size() == 2 && t.shape[1] > 1) {
        int64_t c = t.shape[1];
        for (int64_t row = 0; row < t.shape[0]; ++row) {
          auto argmax = [&](const std::vector<float> &v) {
            return std::max_element(v.begin() + row * c,
                                    v.begin() + (row + 1) * c) -
                   v.begin();
          };
          agree += argmax(r) == argmax(g);
          ++rows;
        }
      }
      all.insert(all.end(), r.begin(), r.end());
      allQ.insert(allQ.end(), g.begin(), g.end());
    }
    double sqnr = quant::sqnrDb(all.data(), allQ.data(), all.size());
    double maxErr = quant::maxAbsError(all.data(), allQ.data(), all.size());
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("name", b.getStringAttr(name)),
        b.getNamedAttr("sqnr_db", b.getF64FloatAttr(sqnr)),
        b.getNamedAttr("max_abs_error", b.getF64FloatAttr(maxErr))};
    if (rows > 0)
      fields.push_back(b.getNamedAttr(
          "top1_agreement", b.getF64FloatAttr(double(agree) / double(rows))));
    if (std::vector<const rt::Tensor *> want = referencesOf(name);
        !want.empty()) {
      std::vector<float> expected;
      for (const rt::Tensor *t : want) {
        std::vector<float> v = asFloats(*t);
        expected.insert(expected.end(), v.begin(), v.end());
      }
      if (expected.size() == all.size()) {
        fields.push_back(b.getNamedAttr(
            "float_vs_reference_max_abs_error",
            b.getF64FloatAttr(quant::maxAbsError(expected.data(), all.data(),
                                                 all.size()))));
        fields.push_back(b.getNamedAttr(
            "vs_reference_max_abs_error",
            b.getF64FloatAttr(quant::maxAbsError(expected.data(),
                                                 allQ.data(), all.size()))));
      }
    }
    outputs.push_back(b.getDictionaryAttr(fields));
  }
  // The layers, in program order.
  SmallVector<Attribute> layerAttrs;
  for (const Layer &l : layers) {
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("name", b.getStringAttr(l.name)),
        b.getNamedAttr("kind", b.getStringAttr(l.kind)),
        b.getNamedAttr("format",
                       b.getStringAttr(l.keptFloat ? "f32" : l.format)),
        b.getNamedAttr("float_weight_bytes", b.getI64IntegerAttr(l.floatBytes))};
    if (l.keptFloat) {
      // Kept float: what quantizing it measured on the tuning inputs.
      fields.push_back(b.getNamedAttr("kept_float", b.getBoolAttr(true)));
      fields.push_back(b.getNamedAttr(
          "quantized_sqnr_db",
          b.getF64FloatAttr(sqnrOf(l.tuneSignal, l.tuneNoise))));
    } else {
      fields.push_back(b.getNamedAttr(
          "sqnr_db", b.getF64FloatAttr(sqnrOf(l.signal, l.noise))));
    }
    if (l.eqPair)
      fields.push_back(b.getNamedAttr("equalized", b.getBoolAttr(l.equalized)));
    if (l.smoothed)
      fields.push_back(b.getNamedAttr("smoothed", b.getBoolAttr(true)));
    if (l.eqSqnr) {
      // Measured on the tuning inputs, with and without equalization.
      fields.push_back(b.getNamedAttr("equalized_sqnr_db",
                                      b.getF64FloatAttr(*l.eqSqnr)));
      fields.push_back(b.getNamedAttr("unequalized_sqnr_db",
                                      b.getF64FloatAttr(*l.plainSqnr)));
    }
    if (l.aloneOutputSqnr)
      fields.push_back(b.getNamedAttr("alone_output_sqnr_db",
                                      b.getF64FloatAttr(*l.aloneOutputSqnr)));
    if (l.biasMeasured) {
      // Measured on the tuning inputs, before and after the correction.
      fields.push_back(
          b.getNamedAttr("bias_correction", b.getBoolAttr(l.biasApplied)));
      fields.push_back(b.getNamedAttr(
          "uncorrected_sqnr_db",
          b.getF64FloatAttr(sqnrOf(l.tuneSignal, l.tuneNoise))));
      fields.push_back(b.getNamedAttr(
          "corrected_sqnr_db",
          b.getF64FloatAttr(sqnrOf(l.tuneSignal, l.tuneNoiseCorrected))));
    }
    layerAttrs.push_back(b.getDictionaryAttr(fields));
  }
  int64_t quantized = 0;
  module.walk([&](Operation *op) {
    quantized += op->getName().getStringRef() == "loom.qmatmul" ||
                 op->getName().getStringRef() == "loom.qconv";
  });
  auto calibrated = module->getAttrOfType<IntegerAttr>("loom.calibration_sets");
  module->removeAttr("loom.calibration_sets");
  module->setAttr(
      "loom.quantization",
      b.getDictionaryAttr(
          {b.getNamedAttr("mode", b.getStringAttr(options.mode)),
           b.getNamedAttr("sparsity", b.getStringAttr(options.sparsity)),
           b.getNamedAttr("calibration_sets",
                          calibrated ? Attribute(calibrated)
                                     : b.getI64IntegerAttr(0)),
           b.getNamedAttr("inputs", b.getStringAttr(source)),
           b.getNamedAttr("input_sets", b.getI64IntegerAttr(int64_t(inputs.size()))),
           b.getNamedAttr("quantized_kernels", b.getI64IntegerAttr(quantized)),
           b.getNamedAttr("outputs", b.getArrayAttr(outputs)),
           b.getNamedAttr("layer_input_sets",
                          b.getI64IntegerAttr(int64_t(layerSets.size()))),
           b.getNamedAttr("tuning_inputs", b.getStringAttr(tuningSource)),
           b.getNamedAttr("keep_float_percent",
                          b.getF64FloatAttr(options.keepFloatPercent)),
           b.getNamedAttr("keep_float_by", b.getStringAttr(options.keepFloatBy)),
           b.getNamedAttr("equalize", b.getStringAttr(options.equalize)),
           b.getNamedAttr("equalizable_pairs",
                          b.getI64IntegerAttr(int64_t(pairs.size()))),
           b.getNamedAttr("equalized_pairs", b.getI64IntegerAttr(equalizedPairs)),
           b.getNamedAttr("smooth", b.getStringAttr(options.smooth)),
           b.getNamedAttr("smoothed_layers",
                          b.getI64IntegerAttr(int64_t(llvm::count_if(
                              layers, [](const Layer &l) {
                                return l.smoothed && !l.keptFloat;
                              })))),
           b.getNamedAttr("layers", b.getArrayAttr(layerAttrs))}));
  return success();
}
