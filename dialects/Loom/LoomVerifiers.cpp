//===- LoomVerifiers.cpp - ONNX constraints local to one op ---------------===//
//
// The hand-written part of the verifiers: the constraints the ONNX operator
// documents that can be checked on the op alone (ranks, attribute values,
// dimensions that must agree when both are static). Each one has a negative
// test in test/Dialect/Loom/invalid.mlir.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace loom;

namespace {
/// The ranked tensor type of `v`, or null (unranked or `none`).
RankedTensorType ranked(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}
bool isAbsent(Value v) { return !v || isa<NoneType>(v.getType()); }
bool bothStatic(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b);
}
/// Checks `axis` lies in [-rank, rank) (or [-rank, rank] when `inclusive`).
LogicalResult checkAxis(Operation *op, int64_t axis, int64_t rank,
                        StringRef what = "axis", bool inclusive = false) {
  int64_t hi = inclusive ? rank : rank - 1;
  if (axis < -rank || axis > hi)
    return op->emitOpError() << what << " " << axis << " is out of range for rank "
                             << rank;
  return success();
}
LogicalResult checkOneOf(Operation *op, StringRef attr, StringRef value,
                         ArrayRef<StringRef> allowed) {
  if (llvm::is_contained(allowed, value))
    return success();
  auto diag = op->emitOpError() << attr << " must be one of";
  for (StringRef a : allowed)
    diag << " '" << a << "'";
  return diag << ", got '" << value << "'";
}
/// Checks the spatial attributes shared by Conv, ConvTranspose and the pools.
LogicalResult checkWindowAttrs(Operation *op, int64_t spatial,
                               std::optional<ArrayRef<int64_t>> kernel,
                               std::optional<ArrayRef<int64_t>> strides,
                               std::optional<ArrayRef<int64_t>> dilations,
                               std::optional<ArrayRef<int64_t>> pads,
                               StringRef autoPad) {
  if (failed(checkOneOf(op, "auto_pad", autoPad,
                        {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})))
    return failure();
  auto checkLen = [&](std::optional<ArrayRef<int64_t>> a, StringRef name,
                      int64_t want) -> LogicalResult {
    if (a && int64_t(a->size()) != want)
      return op->emitOpError() << name << " must have " << want
                               << " values, got " << a->size();
    return success();
  };
  if (failed(checkLen(kernel, "kernel_shape", spatial)) ||
      failed(checkLen(strides, "strides", spatial)) ||
      failed(checkLen(dilations, "dilations", spatial)) ||
      failed(checkLen(pads, "pads", 2 * spatial)))
    return failure();
  if (strides && llvm::any_of(*strides, [](int64_t s) { return s <= 0; }))
    return op->emitOpError("strides must be positive");
  if (dilations && llvm::any_of(*dilations, [](int64_t s) { return s <= 0; }))
    return op->emitOpError("dilations must be positive");
  if (pads && llvm::any_of(*pads, [](int64_t s) { return s < 0; }))
    return op->emitOpError("pads must not be negative");
  return success();
}
LogicalResult checkSoftmaxLike(Operation *op, Value input, int64_t axis) {
  if (auto t = ranked(input))
    return checkAxis(op, axis, t.getRank());
  return success();
}
LogicalResult checkRank1(Operation *op, Value v, StringRef name) {
  if (auto t = ranked(v); t && t.getRank() != 1)
    return op->emitOpError() << name << " must be a 1-D tensor, got rank "
                             << t.getRank();
  return success();
}
LogicalResult checkScalarLike(Operation *op, Value v, StringRef name) {
  if (auto t = ranked(v); t && t.hasStaticShape() && t.getNumElements() != 1)
    return op->emitOpError() << name << " must hold exactly one element";
  return success();
}
} // namespace

LogicalResult loom::verifyArgMaxOp(ArgMaxOp op) {
  if (auto t = ranked(op.getData()))
    return checkAxis(op, int64_t(op.getAxis()), t.getRank());
  return success();
}
LogicalResult loom::verifyArgMinOp(ArgMinOp op) {
  if (auto t = ranked(op.getData()))
    return checkAxis(op, int64_t(op.getAxis()), t.getRank());
  return success();
}

LogicalResult loom::verifyAveragePoolOp(AveragePoolOp op) {
  auto x = ranked(op.getX());
  if (!x)
    return success();
  if (x.getRank() < 3)
    return op.emitOpError("input must have rank 3 or more (N, C, spatial...)");
  return checkWindowAttrs(op, x.getRank() - 2, op.getKernelShape(),
                          op.getStrides(), std::nullopt, op.getPads(),
                          op.getAutoPad());
}
LogicalResult loom::verifyMaxPoolOp(MaxPoolOp op) {
  auto x = ranked(op.getX());
  if (!x)
    return success();
  if (x.getRank() < 3)
    return op.emitOpError("input must have rank 3 or more (N, C, spatial...)");
  if (op.getStorageOrder() != 0 && op.getStorageOrder() != 1)
    return op.emitOpError("storage_order must be 0 or 1");
  return checkWindowAttrs(op, x.getRank() - 2, op.getKernelShape(),
                          op.getStrides(), op.getDilations(), op.getPads(),
                          op.getAutoPad());
}

LogicalResult loom::verifyBatchNormalizationOp(BatchNormalizationOp op) {
  auto x = ranked(op.getX());
  if (!x)
    return success();
  if (x.getRank() < 2)
    return op.emitOpError("input must have rank 2 or more (N, C, ...)");
  int64_t c = x.getDimSize(1);
  for (auto [v, name] : {std::pair{op.getScale(), "scale"},
                         {op.getB(), "B"},
                         {op.getInputMean(), "input_mean"},
                         {op.getInputVar(), "input_var"}}) {
    auto t = ranked(v);
    if (!t)
      continue;
    if (t.getRank() != 1)
      return op.emitOpError() << name << " must be 1-D";
    if (bothStatic(t.getDimSize(0), c) && t.getDimSize(0) != c)
      return op.emitOpError() << name << " has " << t.getDimSize(0)
                              << " elements but the input has " << c
                              << " channels";
  }
  return success();
}

LogicalResult loom::verifyCastOp(CastOp op) {
  Type result = getElementTypeOrSelf(op.getOutput().getType());
  if (op.getTo() != result)
    return op.emitOpError() << "'to' is " << op.getTo()
                            << " but the result element type is " << result;
  return success();
}

LogicalResult loom::verifyConcatOp(ConcatOp op) {
  if (op.getInputs().empty())
    return op.emitOpError("needs at least one input");
  RankedTensorType first;
  for (Value v : op.getInputs()) {
    auto t = ranked(v);
    if (!t)
      continue;
    if (!first) {
      first = t;
      if (failed(checkAxis(op, int64_t(op.getAxis()), t.getRank())))
        return failure();
      continue;
    }
    if (t.getRank() != first.getRank())
      return op.emitOpError() << "inputs must have one rank, got "
                              << first.getRank() << " and " << t.getRank();
    int64_t axis = int64_t(op.getAxis());
    if (axis < 0)
      axis += t.getRank();
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != axis && bothStatic(t.getDimSize(d), first.getDimSize(d)) &&
          t.getDimSize(d) != first.getDimSize(d))
        return op.emitOpError() << "inputs differ in dimension " << d << " ("
                                << first.getDimSize(d) << " vs "
                                << t.getDimSize(d) << ")";
  }
  return success();
}

LogicalResult loom::verifyConvOp(ConvOp op) {
  auto x = ranked(op.getX()), w = ranked(op.getW());
  if (op.getGroup() < 1)
    return op.emitOpError("group must be at least 1");
  if (!x || !w)
    return success();
  if (x.getRank() < 3)
    return op.emitOpError("input must have rank 3 or more (N, C, spatial...)");
  if (w.getRank() != x.getRank())
    return op.emitOpError() << "weight rank " << w.getRank()
                            << " differs from input rank " << x.getRank();
  int64_t group = op.getGroup();
  if (bothStatic(x.getDimSize(1), w.getDimSize(1)) &&
      x.getDimSize(1) != w.getDimSize(1) * group)
    return op.emitOpError() << "input has " << x.getDimSize(1)
                            << " channels but weight expects "
                            << w.getDimSize(1) << " x group " << group;
  if (!ShapedType::isDynamic(w.getDimSize(0)) && w.getDimSize(0) % group != 0)
    return op.emitOpError("output channels must be divisible by group");
  if (auto b = ranked(op.getB())) {
    if (b.getRank() != 1 || (bothStatic(b.getDimSize(0), w.getDimSize(0)) &&
                             b.getDimSize(0) != w.getDimSize(0)))
      return op.emitOpError("bias must be 1-D with one value per output channel");
  }
  if (auto k = op.getKernelShape())
    for (auto [i, v] : llvm::enumerate(*k))
      if (bothStatic(v, w.getDimSize(i + 2)) && v != w.getDimSize(i + 2))
        return op.emitOpError("kernel_shape disagrees with the weight shape");
  return checkWindowAttrs(op, x.getRank() - 2, op.getKernelShape(),
                          op.getStrides(), op.getDilations(), op.getPads(),
                          op.getAutoPad());
}

LogicalResult loom::verifyConvTransposeOp(ConvTransposeOp op) {
  auto x = ranked(op.getX()), w = ranked(op.getW());
  if (op.getGroup() < 1)
    return op.emitOpError("group must be at least 1");
  if (!x || !w)
    return success();
  if (x.getRank() < 3)
    return op.emitOpError("input must have rank 3 or more (N, C, spatial...)");
  if (w.getRank() != x.getRank())
    return op.emitOpError() << "weight rank " << w.getRank()
                            << " differs from input rank " << x.getRank();
  if (bothStatic(x.getDimSize(1), w.getDimSize(0)) &&
      x.getDimSize(1) != w.getDimSize(0))
    return op.emitOpError() << "input has " << x.getDimSize(1)
                            << " channels but weight expects "
                            << w.getDimSize(0);
  int64_t spatial = x.getRank() - 2;
  if (auto op_ = op.getOutputPadding(); op_ && int64_t(op_->size()) != spatial)
    return op.emitOpError() << "output_padding must have " << spatial
                            << " values";
  return checkWindowAttrs(op, spatial, op.getKernelShape(), op.getStrides(),
                          op.getDilations(), op.getPads(), op.getAutoPad());
}

LogicalResult loom::verifyCumSumOp(CumSumOp op) {
  return checkScalarLike(op, op.getAxis(), "axis");
}

LogicalResult loom::verifyDepthToSpaceOp(DepthToSpaceOp op) {
  if (op.getBlocksize() <= 0)
    return op.emitOpError("blocksize must be positive");
  if (failed(checkOneOf(op, "mode", op.getMode(), {"DCR", "CRD"})))
    return failure();
  auto t = ranked(op.getInput());
  if (!t)
    return success();
  if (t.getRank() != 4)
    return op.emitOpError("input must have rank 4");
  int64_t b = op.getBlocksize();
  if (!ShapedType::isDynamic(t.getDimSize(1)) && t.getDimSize(1) % (b * b))
    return op.emitOpError("channels must be divisible by blocksize squared");
  return success();
}
LogicalResult loom::verifySpaceToDepthOp(SpaceToDepthOp op) {
  if (op.getBlocksize() <= 0)
    return op.emitOpError("blocksize must be positive");
  auto t = ranked(op.getInput());
  if (!t)
    return success();
  if (t.getRank() != 4)
    return op.emitOpError("input must have rank 4");
  int64_t b = op.getBlocksize();
  for (int d : {2, 3})
    if (!ShapedType::isDynamic(t.getDimSize(d)) && t.getDimSize(d) % b)
      return op.emitOpError("height and width must be divisible by blocksize");
  return success();
}

LogicalResult loom::verifyEinsumOp(EinsumOp op) {
  StringRef eq = op.getEquation();
  StringRef lhs = eq.split("->").first;
  size_t terms = lhs.count(',') + 1;
  if (terms != op.getInputs().size())
    return op.emitOpError() << "equation '" << eq << "' names " << terms
                            << " operands but the op has "
                            << op.getInputs().size();
  for (char c : eq)
    if (!(llvm::isAlpha(c) || c == ',' || c == '-' || c == '>' || c == '.' ||
          c == ' '))
      return op.emitOpError() << "equation '" << eq
                              << "' has an invalid character '" << c << "'";
  return success();
}

LogicalResult loom::verifyExpandOp(ExpandOp op) {
  return checkRank1(op, op.getShape(), "shape");
}

LogicalResult loom::verifyFlattenOp(FlattenOp op) {
  if (auto t = ranked(op.getInput()))
    return checkAxis(op, int64_t(op.getAxis()), t.getRank(), "axis",
                     /*inclusive=*/true);
  return success();
}

LogicalResult loom::verifyGatherOp(GatherOp op) {
  if (auto t = ranked(op.getData())) {
    if (t.getRank() < 1)
      return op.emitOpError("data must have rank 1 or more");
    return checkAxis(op, int64_t(op.getAxis()), t.getRank());
  }
  return success();
}

LogicalResult loom::verifyGemmOp(GemmOp op) {
  auto a = ranked(op.getA()), b = ranked(op.getB());
  if ((a && a.getRank() != 2) || (b && b.getRank() != 2))
    return op.emitOpError("A and B must be 2-D");
  if (!a || !b)
    return success();
  int64_t k1 = a.getDimSize(op.getTransA() ? 0 : 1);
  int64_t k2 = b.getDimSize(op.getTransB() ? 1 : 0);
  if (bothStatic(k1, k2) && k1 != k2)
    return op.emitOpError() << "inner dimensions differ: " << k1 << " vs "
                            << k2;
  return success();
}

LogicalResult loom::verifyHardmaxOp(HardmaxOp op) {
  return checkSoftmaxLike(op, op.getInput(), int64_t(op.getAxis()));
}
LogicalResult loom::verifySoftmaxOp(SoftmaxOp op) {
  return checkSoftmaxLike(op, op.getInput(), int64_t(op.getAxis()));
}
LogicalResult loom::verifyLogSoftmaxOp(LogSoftmaxOp op) {
  return checkSoftmaxLike(op, op.getInput(), int64_t(op.getAxis()));
}
LogicalResult loom::verifyLayerNormalizationOp(LayerNormalizationOp op) {
  return checkSoftmaxLike(op, op.getX(), int64_t(op.getAxis()));
}

/// Checks that a region ends in a loom.yield with `n` values.
static LogicalResult checkYield(Operation *op, Region &region, StringRef name,
                                size_t n) {
  auto yield = dyn_cast<YieldOp>(region.front().getTerminator());
  if (!yield)
    return op->emitOpError() << name << " must end with loom.yield";
  if (yield.getNumOperands() != n)
    return op->emitOpError() << name << " yields " << yield.getNumOperands()
                             << " values but " << n << " are expected";
  return success();
}

LogicalResult loom::verifyIfOp(IfOp op) {
  if (failed(checkScalarLike(op, op.getCond(), "cond")))
    return failure();
  size_t n = op.getNumResults();
  if (failed(checkYield(op, op.getThenBranch(), "then_branch", n)) ||
      failed(checkYield(op, op.getElseBranch(), "else_branch", n)))
    return failure();
  if (op.getThenBranch().getNumArguments() ||
      op.getElseBranch().getNumArguments())
    return op.emitOpError("branches take no arguments");
  return success();
}

LogicalResult loom::verifyLoopOp(LoopOp op) {
  size_t carried = op.getVInitial().size();
  Block &body = op.getBody().front();
  if (body.getNumArguments() != carried + 2)
    return op.emitOpError() << "body takes " << body.getNumArguments()
                            << " arguments but needs 2 + " << carried
                            << " (iteration number, condition, carried values)";
  if (op.getNumResults() < carried)
    return op.emitOpError("has fewer results than loop-carried values");
  return checkYield(op, op.getBody(), "body", 1 + op.getNumResults());
}

LogicalResult loom::verifyScanOp(ScanOp op) {
  int64_t numScan = op.getNumScanInputs();
  if (numScan < 1 || numScan > int64_t(op.getInitialStateAndScanInputs().size()))
    return op.emitOpError("num_scan_inputs must be between 1 and the number of inputs");
  int64_t numState = int64_t(op.getInitialStateAndScanInputs().size()) - numScan;
  Block &body = op.getBody().front();
  if (int64_t(body.getNumArguments()) != numState + numScan)
    return op.emitOpError() << "body takes " << body.getNumArguments()
                            << " arguments but the op has "
                            << numState + numScan << " inputs";
  return checkYield(op, op.getBody(), "body", op.getNumResults());
}

LogicalResult loom::verifyMatMulOp(MatMulOp op) {
  auto a = ranked(op.getA()), b = ranked(op.getB());
  if ((a && a.getRank() < 1) || (b && b.getRank() < 1))
    return op.emitOpError("operands must have rank 1 or more");
  if (!a || !b)
    return success();
  int64_t k1 = a.getDimSize(a.getRank() - 1);
  int64_t k2 = b.getDimSize(b.getRank() == 1 ? 0 : b.getRank() - 2);
  if (bothStatic(k1, k2) && k1 != k2)
    return op.emitOpError() << "inner dimensions differ: " << k1 << " vs "
                            << k2;
  return success();
}

LogicalResult loom::verifyOneHotOp(OneHotOp op) {
  if (failed(checkScalarLike(op, op.getDepth(), "depth")))
    return failure();
  if (auto t = ranked(op.getValues());
      t && t.hasStaticShape() && t.getNumElements() != 2)
    return op.emitOpError("values must hold two elements [off, on]");
  if (auto t = ranked(op.getIndices()))
    return checkAxis(op, int64_t(op.getAxis()), t.getRank() + 1);
  return success();
}

LogicalResult loom::verifyPadOp(PadOp op) {
  if (failed(checkOneOf(op, "mode", op.getMode(),
                        {"constant", "reflect", "edge"})))
    return failure();
  return checkRank1(op, op.getPads(), "pads");
}

LogicalResult loom::verifyRangeOp(RangeOp op) {
  for (auto [v, name] : {std::pair{op.getStart(), "start"},
                         {op.getLimit(), "limit"},
                         {op.getDelta(), "delta"}})
    if (auto t = ranked(v); t && t.getRank() != 0)
      return op.emitOpError() << name << " must be a scalar";
  return success();
}

LogicalResult loom::verifyReshapeOp(ReshapeOp op) {
  return checkRank1(op, op.getShape(), "shape");
}

LogicalResult loom::verifyResizeOp(ResizeOp op) {
  if (failed(checkOneOf(op, "mode", op.getMode(),
                        {"nearest", "linear", "cubic"})) ||
      failed(checkOneOf(op, "coordinate_transformation_mode",
                        op.getCoordinateTransformationMode(),
                        {"half_pixel", "pytorch_half_pixel", "align_corners",
                         "asymmetric", "tf_crop_and_resize",
                         "tf_half_pixel_for_nn"})) ||
      failed(checkOneOf(op, "nearest_mode", op.getNearestMode(),
                        {"round_prefer_floor", "round_prefer_ceil", "floor",
                         "ceil"})))
    return failure();
  auto scales = ranked(op.getScales()), sizes = ranked(op.getSizes());
  bool hasScales = scales && !(scales.hasStaticShape() && scales.getNumElements() == 0);
  bool hasSizes = sizes && !(sizes.hasStaticShape() && sizes.getNumElements() == 0);
  if (hasScales && hasSizes)
    return op.emitOpError("takes scales or sizes, not both");
  return success();
}

LogicalResult loom::verifySliceOp(SliceOp op) {
  auto s = ranked(op.getStarts()), e = ranked(op.getEnds());
  if (s && e && s.getRank() == 1 && e.getRank() == 1 &&
      bothStatic(s.getDimSize(0), e.getDimSize(0)) &&
      s.getDimSize(0) != e.getDimSize(0))
    return op.emitOpError("starts and ends must have one length");
  if (failed(checkRank1(op, op.getStarts(), "starts")) ||
      failed(checkRank1(op, op.getEnds(), "ends")))
    return failure();
  return success();
}

LogicalResult loom::verifySplitOp(SplitOp op) {
  if (auto t = ranked(op.getInput()))
    return checkAxis(op, int64_t(op.getAxis()), t.getRank());
  return success();
}

LogicalResult loom::verifySqueezeOp(SqueezeOp op) {
  if (isAbsent(op.getAxes()))
    return success();
  return checkRank1(op, op.getAxes(), "axes");
}
LogicalResult loom::verifyUnsqueezeOp(UnsqueezeOp op) {
  return checkRank1(op, op.getAxes(), "axes");
}

LogicalResult loom::verifyTileOp(TileOp op) {
  if (failed(checkRank1(op, op.getRepeats(), "repeats")))
    return failure();
  auto in = ranked(op.getInput()), r = ranked(op.getRepeats());
  if (in && r && !ShapedType::isDynamic(r.getDimSize(0)) &&
      r.getDimSize(0) != in.getRank())
    return op.emitOpError() << "repeats has " << r.getDimSize(0)
                            << " values but the input has rank "
                            << in.getRank();
  return success();
}

LogicalResult loom::verifyTopKOp(TopKOp op) {
  if (failed(checkScalarLike(op, op.getK(), "K")))
    return failure();
  if (auto t = ranked(op.getX()))
    return checkAxis(op, int64_t(op.getAxis()), t.getRank());
  return success();
}

LogicalResult loom::verifyTransposeOp(TransposeOp op) {
  auto perm = op.getPerm();
  if (!perm)
    return success();
  auto t = ranked(op.getData());
  if (t && int64_t(perm->size()) != t.getRank())
    return op.emitOpError() << "perm has " << perm->size()
                            << " entries but the input has rank "
                            << t.getRank();
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t p : *perm)
    if (p < 0 || p >= int64_t(perm->size()) || !seen.insert(p).second)
      return op.emitOpError("perm must be a permutation of the input dimensions");
  return success();
}

LogicalResult loom::verifyTriluOp(TriluOp op) {
  if (auto t = ranked(op.getInput()); t && t.getRank() < 2)
    return op.emitOpError("input must have rank 2 or more");
  return checkScalarLike(op, op.getK(), "k");
}


