//===- ShapeHelpers.cpp - One shape helper per loom op --------------------===//
//
// The single source of truth for result shapes. Each helper computes what it
// can from operand types, constant operands and attributes; unknown dimensions
// stay dynamic. `loom-propagate-shapes` calls them after import (when folding
// has turned shape subgraphs into constants) and the plan lowering relies on
// the static shapes they leave behind.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace loom;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {
RankedTensorType ranked(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}
/// A ranked tensor type of `shape` with the element type of `result`.
Type tensorLike(Value result, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, getElementTypeOrSelf(result.getType()));
}
/// Leaves every result's type as it is (nothing more is known).
LogicalResult keep(Operation *op, SmallVectorImpl<Type> &types) {
  for (Value r : op->getResults())
    types.push_back(r.getType());
  return success();
}
int64_t mulDims(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d))
      return kDyn;
    n *= d;
  }
  return n;
}
/// Spatial window parameters shared by Conv and the pools.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, pads;
};
Window getWindow(int64_t spatial, std::optional<ArrayRef<int64_t>> kernel,
                 std::optional<ArrayRef<int64_t>> strides,
                 std::optional<ArrayRef<int64_t>> dilations,
                 std::optional<ArrayRef<int64_t>> pads) {
  Window w;
  w.kernel = kernel ? SmallVector<int64_t>(*kernel)
                    : SmallVector<int64_t>(spatial, kDyn);
  w.strides = strides ? SmallVector<int64_t>(*strides)
                      : SmallVector<int64_t>(spatial, 1);
  w.dilations = dilations ? SmallVector<int64_t>(*dilations)
                          : SmallVector<int64_t>(spatial, 1);
  w.pads = pads ? SmallVector<int64_t>(*pads)
                : SmallVector<int64_t>(2 * spatial, 0);
  return w;
}
/// Output extent of one spatial dimension of a convolution or pool.
int64_t windowOut(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
                  int64_t pe, StringRef autoPad, bool ceilMode) {
  if (ShapedType::isDynamic(in))
    return kDyn;
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
    return llvm::divideCeil(in, s);
  if (ShapedType::isDynamic(k))
    return kDyn;
  int64_t effective = (k - 1) * d + 1;
  if (autoPad == "VALID")
    return llvm::divideCeil(in - effective + 1, s);
  int64_t span = in + pb + pe - effective;
  if (span < 0)
    return kDyn;
  int64_t out = (ceilMode ? llvm::divideCeil(span, s) : span / s) + 1;
  // With ceil_mode the last window must start inside the (left-padded) input.
  if (ceilMode && (out - 1) * s >= in + pb)
    --out;
  return out;
}
/// Result type of a windowed op whose input is N x C x spatial...
Type windowResult(Value x, Value result, int64_t channels,
                  ArrayRef<int64_t> kernelFromWeight,
                  std::optional<ArrayRef<int64_t>> kernel,
                  std::optional<ArrayRef<int64_t>> strides,
                  std::optional<ArrayRef<int64_t>> dilations,
                  std::optional<ArrayRef<int64_t>> pads, StringRef autoPad,
                  bool ceilMode) {
  auto xt = ranked(x);
  if (!xt || xt.getRank() < 3)
    return result.getType();
  int64_t spatial = xt.getRank() - 2;
  Window w = getWindow(spatial, kernel, strides, dilations, pads);
  if (!kernel && int64_t(kernelFromWeight.size()) == spatial)
    w.kernel.assign(kernelFromWeight.begin(), kernelFromWeight.end());
  SmallVector<int64_t> shape{xt.getDimSize(0), channels};
  for (int64_t i = 0; i < spatial; ++i)
    shape.push_back(windowOut(xt.getDimSize(i + 2), w.kernel[i], w.strides[i],
                              w.dilations[i], w.pads[i], w.pads[i + spatial],
                              autoPad, ceilMode));
  return tensorLike(result, shape);
}
/// Result of a reduction over `axes` (empty = all, unless `noopEmpty`).
Type reduceResult(Value data, Value result, std::optional<SmallVector<int64_t>> axes,
                  bool keepdims, bool noopEmpty) {
  auto t = ranked(data);
  if (!t || !axes)
    return result.getType();
  int64_t rank = t.getRank();
  if (axes->empty() && noopEmpty)
    return tensorLike(result, t.getShape());
  SmallVector<bool> reduced(rank, axes->empty());
  for (int64_t a : *axes) {
    a = normalizeAxis(a, rank);
    if (a < 0 || a >= rank)
      return result.getType();
    reduced[a] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      shape.push_back(t.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  }
  return tensorLike(result, shape);
}
template <typename ReduceOp>
LogicalResult inferAttrReduce(ReduceOp op, SmallVectorImpl<Type> &types) {
  std::optional<SmallVector<int64_t>> axes = SmallVector<int64_t>();
  if (auto a = op.getAxes())
    axes = SmallVector<int64_t>(*a);
  types.push_back(reduceResult(op.getData(), op->getResult(0), axes,
                               op.getKeepdims() != 0, false));
  return success();
}
} // namespace

LogicalResult
loom::detail::inferElementwiseResultTypes(Operation *op,
                                          SmallVectorImpl<Type> &types) {
  if (op->hasTrait<OpTrait::BroadcastingElementwise>()) {
    SmallVector<int64_t> shape;
    for (Value v : op->getOperands()) {
      if (isNone(v))
        continue;
      auto t = ranked(v);
      if (!t)
        return keep(op, types);
      auto b = broadcastShapes(shape, t.getShape());
      if (failed(b))
        return op->emitOpError() << "operand shapes " << v.getType()
                                 << " cannot broadcast with the others";
      shape = *b;
    }
    types.push_back(tensorLike(op->getResult(0), shape));
    for (Value r : op->getResults().drop_front())
      types.push_back(r.getType());
    return success();
  }
  auto first = ranked(op->getOperand(0));
  types.push_back(first ? tensorLike(op->getResult(0), first.getShape())
                        : op->getResult(0).getType());
  for (Value r : op->getResults().drop_front())
    types.push_back(r.getType());
  return success();
}

#define SAME_AS_INPUT(OP, INPUT)                                               \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) {           \
    auto t = ranked(INPUT());                                                  \
    for (Value r : getOperation()->getResults())                               \
      types.push_back(t && !isNone(r) ? tensorLike(r, t.getShape())           \
                                      : r.getType());                         \
    return success();                                                          \
  }
SAME_AS_INPUT(IdentityOp, getInput)
SAME_AS_INPUT(DropoutOp, getData)
SAME_AS_INPUT(CastOp, getInput)
SAME_AS_INPUT(CastLikeOp, getInput)
SAME_AS_INPUT(EyeLikeOp, getInput)
#undef SAME_AS_INPUT

LogicalResult ShapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getData());
  if (!t)
    return keep(*this, types);
  int64_t rank = t.getRank();
  auto clamp = [&](int64_t v) {
    v = normalizeAxis(v, rank);
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clamp(int64_t(getStart()));
  int64_t end = getEnd() ? clamp(int64_t(*getEnd())) : rank;
  types.push_back(tensorLike(getShape(), {std::max<int64_t>(end - start, 0)}));
  return success();
}

LogicalResult SizeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(tensorLike(getSize(), {}));
  return success();
}

LogicalResult ConcatOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  int64_t axis = 0;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto t = ranked(v);
    if (!t)
      return keep(*this, types);
    if (i == 0) {
      shape.assign(t.getShape().begin(), t.getShape().end());
      axis = normalizeAxis(int64_t(getAxis()), t.getRank());
      continue;
    }
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (d == axis)
        shape[d] = ShapedType::isDynamic(shape[d]) ||
                           ShapedType::isDynamic(t.getDimSize(d))
                       ? kDyn
                       : shape[d] + t.getDimSize(d);
      else if (ShapedType::isDynamic(shape[d]))
        shape[d] = t.getDimSize(d);
    }
  }
  types.push_back(tensorLike(getConcatResult(), shape));
  return success();
}

LogicalResult ReshapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto target = getConstantInts(getShape());
  auto in = ranked(getData());
  if (!target)
    return keep(*this, types);
  SmallVector<int64_t> shape;
  int64_t inferred = -1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !getAllowzero()) {
      shape.push_back(in && int64_t(i) < in.getRank() ? in.getDimSize(i)
                                                      : kDyn);
    } else if (d == -1) {
      if (inferred != -1)
        return emitOpError("shape has more than one -1");
      inferred = i;
      shape.push_back(kDyn);
    } else if (d < -1) {
      return emitOpError() << "shape has an invalid dimension " << d;
    } else {
      shape.push_back(d);
    }
  }
  if (inferred != -1 && in && in.hasStaticShape()) {
    int64_t known = 1;
    for (auto [i, d] : llvm::enumerate(shape))
      if (int64_t(i) != inferred) {
        if (ShapedType::isDynamic(d)) {
          known = -1;
          break;
        }
        known *= d;
      }
    if (known > 0 && in.getNumElements() % known == 0)
      shape[inferred] = in.getNumElements() / known;
    else if (known > 0)
      return emitOpError() << "cannot reshape " << in << " to the target shape";
  }
  if (in && in.hasStaticShape() && llvm::none_of(shape, ShapedType::isDynamic) &&
      mulDims(shape) != in.getNumElements())
    return emitOpError() << "cannot reshape " << in.getNumElements()
                         << " elements into " << mulDims(shape);
  types.push_back(tensorLike(getReshaped(), shape));
  return success();
}

LogicalResult GatherOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto data = ranked(getData()), idx = ranked(getIndices());
  if (!data || !idx)
    return keep(*this, types);
  int64_t axis = normalizeAxis(int64_t(getAxis()), data.getRank());
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, idx.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

LogicalResult UnsqueezeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getData());
  auto axes = getConstantInts(getAxes());
  if (!t || !axes)
    return keep(*this, types);
  int64_t rank = t.getRank() + int64_t(axes->size());
  SmallVector<bool> inserted(rank, false);
  for (int64_t a : *axes) {
    a = normalizeAxis(a, rank);
    if (a < 0 || a >= rank || inserted[a])
      return emitOpError() << "invalid or repeated axis in axes";
    inserted[a] = true;
  }
  SmallVector<int64_t> shape;
  auto it = t.getShape().begin();
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(inserted[d] ? 1 : *it++);
  types.push_back(tensorLike(getExpanded(), shape));
  return success();
}

LogicalResult SqueezeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getData());
  if (!t)
    return keep(*this, types);
  SmallVector<bool> removed(t.getRank(), false);
  if (isNone(getAxes())) {
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (ShapedType::isDynamic(t.getDimSize(d)))
        return keep(*this, types);
      removed[d] = t.getDimSize(d) == 1;
    }
  } else {
    auto axes = getConstantInts(getAxes());
    if (!axes)
      return keep(*this, types);
    for (int64_t a : *axes) {
      a = normalizeAxis(a, t.getRank());
      if (a < 0 || a >= t.getRank())
        return emitOpError() << "axis out of range";
      if (!ShapedType::isDynamic(t.getDimSize(a)) && t.getDimSize(a) != 1)
        return emitOpError() << "cannot squeeze dimension " << a << " of size "
                             << t.getDimSize(a);
      removed[a] = true;
    }
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < t.getRank(); ++d)
    if (!removed[d])
      shape.push_back(t.getDimSize(d));
  types.push_back(tensorLike(getSqueezed(), shape));
  return success();
}

/// Normalized [start, end) and step of one sliced axis, ONNX clamping rules.
static int64_t sliceExtent(int64_t dim, int64_t start, int64_t end,
                           int64_t step) {
  auto clampIdx = [&](int64_t v) {
    if (v < 0)
      v += dim;
    if (step > 0)
      return std::clamp<int64_t>(v, 0, dim);
    return std::clamp<int64_t>(v, -1, dim - 1);
  };
  int64_t s = clampIdx(start), e = clampIdx(end);
  if (step > 0)
    return std::max<int64_t>(0, llvm::divideCeil(e - s, step));
  return std::max<int64_t>(0, llvm::divideCeil(s - e, -step));
}

LogicalResult SliceOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getData());
  auto starts = getConstantInts(getStarts()), ends = getConstantInts(getEnds());
  if (!t || !starts || !ends || starts->size() != ends->size())
    return keep(*this, types);
  int64_t rank = t.getRank();
  SmallVector<int64_t> axes, steps(starts->size(), 1);
  if (isNone(getAxes())) {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  } else if (auto a = getConstantInts(getAxes())) {
    axes = *a;
  } else {
    return keep(*this, types);
  }
  if (!isNone(getSteps())) {
    auto s = getConstantInts(getSteps());
    if (!s)
      return keep(*this, types);
    steps = *s;
  }
  if (axes.size() != starts->size() || steps.size() != starts->size())
    return emitOpError("starts, ends, axes and steps must have one length");
  SmallVector<int64_t> shape(t.getShape());
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normalizeAxis(axes[i], rank);
    if (a < 0 || a >= rank)
      return emitOpError() << "axis " << axes[i] << " out of range";
    if (steps[i] == 0)
      return emitOpError("steps must not be 0");
    shape[a] = ShapedType::isDynamic(shape[a])
                   ? kDyn
                   : sliceExtent(shape[a], (*starts)[i], (*ends)[i], steps[i]);
  }
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

LogicalResult RangeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto scalar = [](Value v) -> std::optional<double> {
    DenseElementsAttr d = toDense(getConstantAttr(v));
    if (!d || d.getNumElements() != 1)
      return std::nullopt;
    if (isa<FloatType>(d.getElementType()))
      return (*d.getValues<APFloat>().begin()).convertToDouble();
    return double((*d.getValues<APInt>().begin()).getSExtValue());
  };
  auto start = scalar(getStart()), limit = scalar(getLimit()),
       delta = scalar(getDelta());
  if (!start || !limit || !delta) {
    types.push_back(tensorLike(getOutput(), {kDyn}));
    return success();
  }
  if (*delta == 0)
    return emitOpError("delta must not be 0");
  int64_t n = std::max<int64_t>(
      0, int64_t(std::ceil((*limit - *start) / *delta)));
  types.push_back(tensorLike(getOutput(), {n}));
  return success();
}

LogicalResult ConstantOfShapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto shape = getConstantInts(getInput());
  if (!shape) {
    if (auto t = ranked(getInput()); t && t.hasStaticShape())
      types.push_back(tensorLike(getOutput(),
                                 SmallVector<int64_t>(t.getDimSize(0), kDyn)));
    else
      types.push_back(getOutput().getType());
    return success();
  }
  if (llvm::any_of(*shape, [](int64_t d) { return d < 0; }))
    return emitOpError("shape must not have negative dimensions");
  types.push_back(tensorLike(getOutput(), *shape));
  return success();
}

LogicalResult ExpandOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getInput());
  auto shape = getConstantInts(getShape());
  if (!t || !shape)
    return keep(*this, types);
  auto b = broadcastShapes(t.getShape(), *shape);
  if (failed(b))
    return emitOpError() << "cannot expand " << t << " to the target shape";
  types.push_back(tensorLike(getOutput(), *b));
  return success();
}

LogicalResult TileOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getInput());
  auto reps = getConstantInts(getRepeats());
  if (!t || !reps || int64_t(reps->size()) != t.getRank())
    return keep(*this, types);
  SmallVector<int64_t> shape;
  for (auto [d, r] : llvm::zip(t.getShape(), *reps))
    shape.push_back(ShapedType::isDynamic(d) ? kDyn : d * r);
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

LogicalResult TransposeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getData());
  if (!t)
    return keep(*this, types);
  SmallVector<int64_t> shape;
  if (auto perm = getPerm()) {
    for (int64_t p : *perm)
      shape.push_back(t.getDimSize(p));
  } else {
    shape.assign(t.getShape().rbegin(), t.getShape().rend());
  }
  types.push_back(tensorLike(getTransposed(), shape));
  return success();
}

LogicalResult FlattenOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getInput());
  if (!t)
    return keep(*this, types);
  int64_t axis = normalizeAxis(int64_t(getAxis()), t.getRank());
  types.push_back(tensorLike(getOutput(),
                             {mulDims(t.getShape().take_front(axis)),
                              mulDims(t.getShape().drop_front(axis))}));
  return success();
}

LogicalResult MatMulOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto a = ranked(getA()), b = ranked(getB());
  if (!a || !b)
    return keep(*this, types);
  SmallVector<int64_t> as(a.getShape()), bs(b.getShape());
  bool vecA = as.size() == 1, vecB = bs.size() == 1;
  if (vecA)
    as.insert(as.begin(), 1);
  if (vecB)
    bs.push_back(1);
  auto batch = broadcastShapes(ArrayRef<int64_t>(as).drop_back(2),
                               ArrayRef<int64_t>(bs).drop_back(2));
  if (failed(batch))
    return emitOpError("batch dimensions cannot broadcast");
  SmallVector<int64_t> shape = *batch;
  if (!vecA)
    shape.push_back(as[as.size() - 2]);
  if (!vecB)
    shape.push_back(bs.back());
  types.push_back(tensorLike(getY(), shape));
  return success();
}

LogicalResult GemmOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto a = ranked(getA()), b = ranked(getB());
  if (!a || !b || a.getRank() != 2 || b.getRank() != 2)
    return keep(*this, types);
  types.push_back(tensorLike(getY(), {a.getDimSize(getTransA() ? 1 : 0),
                                      b.getDimSize(getTransB() ? 0 : 1)}));
  return success();
}

LogicalResult ConvOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto w = ranked(getW());
  if (!w)
    return keep(*this, types);
  types.push_back(windowResult(getX(), getY(), w.getDimSize(0),
                               w.getShape().drop_front(2), getKernelShape(),
                               getStrides(), getDilations(), getPads(),
                               getAutoPad(), false));
  return success();
}

LogicalResult ConvTransposeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = ranked(getX()), w = ranked(getW());
  if (!x || !w || x.getRank() < 3)
    return keep(*this, types);
  int64_t spatial = x.getRank() - 2;
  int64_t group = getGroup();
  SmallVector<int64_t> shape{x.getDimSize(0),
                             ShapedType::isDynamic(w.getDimSize(1))
                                 ? kDyn
                                 : w.getDimSize(1) * group};
  if (auto outShape = getOutputShape()) {
    ArrayRef<int64_t> os = *outShape;
    llvm::append_range(shape, os.take_back(spatial));
    types.push_back(tensorLike(getY(), shape));
    return success();
  }
  Window win = getWindow(spatial, getKernelShape(), getStrides(),
                         getDilations(), getPads());
  if (!getKernelShape())
    win.kernel.assign(w.getShape().begin() + 2, w.getShape().end());
  SmallVector<int64_t> outPad(spatial, 0);
  if (auto p = getOutputPadding())
    outPad.assign(p->begin(), p->end());
  StringRef autoPad = getAutoPad();
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = x.getDimSize(i + 2), k = win.kernel[i];
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k)) {
      shape.push_back(kDyn);
      continue;
    }
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      shape.push_back(in * win.strides[i]);
      continue;
    }
    int64_t pads = autoPad == "VALID" ? 0 : win.pads[i] + win.pads[i + spatial];
    shape.push_back(win.strides[i] * (in - 1) + outPad[i] +
                    (k - 1) * win.dilations[i] + 1 - pads);
  }
  types.push_back(tensorLike(getY(), shape));
  return success();
}

LogicalResult AveragePoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = ranked(getX());
  types.push_back(windowResult(getX(), getY(), x && x.getRank() >= 2 ? x.getDimSize(1) : kDyn, {},
                               getKernelShape(), getStrides(), std::nullopt,
                               getPads(), getAutoPad(), getCeilMode() != 0));
  return success();
}

LogicalResult MaxPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = ranked(getX());
  Type y = windowResult(getX(), getY(), x && x.getRank() >= 2 ? x.getDimSize(1) : kDyn, {},
                        getKernelShape(), getStrides(), getDilations(),
                        getPads(), getAutoPad(), getCeilMode() != 0);
  types.push_back(y);
  Value indices = getIndices();
  auto yt = dyn_cast<RankedTensorType>(y);
  types.push_back(isNone(indices) || !yt ? indices.getType()
                                         : tensorLike(indices, yt.getShape()));
  return success();
}

template <typename GlobalPool>
static LogicalResult inferGlobalPool(GlobalPool op,
                                     SmallVectorImpl<Type> &types) {
  auto x = ranked(op.getX());
  if (!x || x.getRank() < 2)
    return keep(op, types);
  SmallVector<int64_t> shape(x.getShape().take_front(2));
  shape.append(x.getRank() - 2, 1);
  types.push_back(tensorLike(op.getY(), shape));
  return success();
}
LogicalResult GlobalAveragePoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(*this, types);
}
LogicalResult GlobalMaxPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(*this, types);
}

LogicalResult SplitOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getInput());
  if (!t)
    return keep(*this, types);
  int64_t axis = normalizeAxis(int64_t(getAxis()), t.getRank());
  int64_t dim = t.getDimSize(axis);
  size_t n = getNumResults();
  SmallVector<int64_t> sizes;
  if (!isNone(getSplit())) {
    auto s = getConstantInts(getSplit());
    if (!s)
      return keep(*this, types);
    if (s->size() != n)
      return emitOpError() << "split has " << s->size() << " sizes but the op has "
                           << n << " results";
    sizes = *s;
    if (!ShapedType::isDynamic(dim) &&
        std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != dim)
      return emitOpError() << "split sizes do not add up to dimension " << dim;
  } else if (ShapedType::isDynamic(dim)) {
    sizes.assign(n, kDyn);
  } else {
    // Equal parts; the last one is smaller when the dimension does not divide.
    int64_t part = llvm::divideCeil(dim, int64_t(n));
    for (size_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(part, dim - part * int64_t(i))));
  }
  for (auto [r, size] : llvm::zip(getResults(), sizes)) {
    SmallVector<int64_t> shape(t.getShape());
    shape[axis] = size;
    types.push_back(tensorLike(r, shape));
  }
  return success();
}

LogicalResult WhereOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  for (Value v : getOperands()) {
    auto t = ranked(v);
    if (!t)
      return keep(*this, types);
    auto b = broadcastShapes(shape, t.getShape());
    if (failed(b))
      return emitOpError("operand shapes cannot broadcast");
    shape = *b;
  }
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

#define ATTR_REDUCE(OP)                                                        \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) {           \
    return inferAttrReduce(*this, types);                                      \
  }
ATTR_REDUCE(ReduceL1Op)
ATTR_REDUCE(ReduceL2Op)
ATTR_REDUCE(ReduceLogSumOp)
ATTR_REDUCE(ReduceLogSumExpOp)
ATTR_REDUCE(ReduceMaxOp)
ATTR_REDUCE(ReduceMeanOp)
ATTR_REDUCE(ReduceMinOp)
ATTR_REDUCE(ReduceProdOp)
ATTR_REDUCE(ReduceSumSquareOp)
#undef ATTR_REDUCE

LogicalResult ReduceSumOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  std::optional<SmallVector<int64_t>> axes = SmallVector<int64_t>();
  if (!isNone(getAxes()))
    axes = getConstantInts(getAxes());
  types.push_back(reduceResult(getData(), getReduced(), axes,
                               getKeepdims() != 0,
                               getNoopWithEmptyAxes() != 0));
  return success();
}

template <typename ArgOp>
static LogicalResult inferArg(ArgOp op, SmallVectorImpl<Type> &types) {
  types.push_back(reduceResult(op.getData(), op.getReduced(),
                               SmallVector<int64_t>{int64_t(op.getAxis())},
                               op.getKeepdims() != 0, false));
  return success();
}
LogicalResult ArgMaxOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferArg(*this, types);
}
LogicalResult ArgMinOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferArg(*this, types);
}

LogicalResult PadOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getData());
  auto pads = getConstantInts(getPads());
  if (!t || !pads)
    return keep(*this, types);
  int64_t rank = t.getRank();
  // Opset 17 pads every axis: [begin_0, ..., begin_n, end_0, ..., end_n].
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < rank; ++i)
    axes.push_back(i);
  if (pads->size() != 2 * axes.size())
    return emitOpError() << "pads has " << pads->size() << " values but "
                         << 2 * axes.size() << " are needed";
  SmallVector<int64_t> shape(t.getShape());
  for (auto [i, a] : llvm::enumerate(axes)) {
    a = normalizeAxis(a, rank);
    if (!ShapedType::isDynamic(shape[a]))
      shape[a] += (*pads)[i] + (*pads)[i + axes.size()];
  }
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

LogicalResult IfOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto thenYield = cast<YieldOp>(getThenBranch().front().getTerminator());
  auto elseYield = cast<YieldOp>(getElseBranch().front().getTerminator());
  // A constant condition: the types of the branch taken.
  if (std::optional<double> cond = getScalarConstant(getCond())) {
    llvm::append_range(types, (*cond != 0 ? thenYield : elseYield).getOperandTypes());
    return success();
  }
  for (auto [r, a, b] : llvm::zip(getResults(), thenYield.getOperandTypes(),
                                  elseYield.getOperandTypes()))
    types.push_back(a == b ? a : r.getType());
  return success();
}

LogicalResult LoopOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  // A carried value whose type one iteration keeps has that type after any
  // number of iterations, none included; scan outputs keep their types.
  Operation *yield = getBody().front().getTerminator();
  size_t numCarried = getVInitial().size();
  for (auto [i, r] : llvm::enumerate(getResults())) {
    Type init = i < numCarried ? getVInitial()[i].getType() : Type();
    Type next = init && yield->getNumOperands() > 1 + i
                    ? yield->getOperand(1 + i).getType()
                    : Type();
    types.push_back(init && init == next ? init : r.getType());
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Ops whose shapes exporter graphs compute at run time (Resize sizes from a
// Shape chain, Einsum in attention and RoPE, scatters in shifted-window
// masks): once those values fold to constants the result is static.
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = ranked(getX());
  if (!x)
    return keep(*this, types);
  int64_t rank = x.getRank();
  if (!isNone(getSizes())) {
    auto sizes = getConstantInts(getSizes());
    if (!sizes)
      return keep(*this, types);
    if (int64_t(sizes->size()) != rank)
      return emitOpError() << "sizes has " << sizes->size() << " values for a rank-" << rank
                           << " input";
    types.push_back(tensorLike(getY(), *sizes));
    return success();
  }
  auto scales = toDense(getConstantAttr(getScales()));
  if (!scales || getCoordinateTransformationMode() == "tf_crop_and_resize")
    return keep(*this, types);
  if (scales.getNumElements() != rank)
    return emitOpError() << "scales has " << scales.getNumElements()
                         << " values for a rank-" << rank << " input";
  // ONNX: output dimension = floor(input dimension * scale).
  SmallVector<int64_t> shape;
  for (auto [d, s] : llvm::zip(x.getShape(), scales.getValues<APFloat>()))
    shape.push_back(ShapedType::isDynamic(d)
                        ? kDyn
                        : int64_t(std::floor(double(d) * s.convertToDouble())));
  types.push_back(tensorLike(getY(), shape));
  return success();
}

LogicalResult EinsumOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  // "ab,bc->ac" (explicit) or "ab,bc" (implicit: the letters that appear
  // once, in alphabetical order); "..." stands for broadcast dimensions.
  std::string eq;
  for (char c : getEquation().str())
    if (c != ' ')
      eq += c;
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  SmallVector<std::string> terms;
  SmallVector<StringRef> parts;
  StringRef(lhs).split(parts, ',');
  for (StringRef t : parts)
    terms.push_back(t.str());
  if (terms.size() != getInputs().size())
    return keep(*this, types);
  std::map<char, int64_t> dims;
  std::map<char, int> count;
  SmallVector<int64_t> ellipsis;
  bool anyEllipsis = false;
  for (auto [term, v] : llvm::zip(terms, getInputs())) {
    auto t = ranked(v);
    if (!t)
      return keep(*this, types);
    size_t dots = term.find("...");
    std::string letters = term;
    int64_t ellipsisRank = 0;
    if (dots != std::string::npos) {
      letters.erase(dots, 3);
      ellipsisRank = t.getRank() - int64_t(letters.size());
      if (ellipsisRank < 0)
        return keep(*this, types);
      anyEllipsis = true;
      auto e = broadcastShapes(ellipsis, t.getShape().slice(dots, ellipsisRank));
      if (failed(e))
        return emitOpError("the '...' dimensions do not broadcast");
      ellipsis = *e;
    } else if (int64_t(letters.size()) != t.getRank()) {
      return emitOpError() << "term '" << term << "' has " << letters.size()
                           << " letters for a rank-" << t.getRank() << " input";
    }
    for (size_t i = 0, d = 0; i < letters.size(); ++i, ++d) {
      if (dots != std::string::npos && i == dots)
        d += size_t(ellipsisRank);
      char c = letters[i];
      ++count[c];
      int64_t size = t.getDimSize(int64_t(d));
      auto it = dims.find(c);
      if (it == dims.end() || ShapedType::isDynamic(it->second) || it->second == 1)
        dims[c] = size;
    }
  }
  std::string out;
  if (arrow != std::string::npos) {
    out = eq.substr(arrow + 2);
  } else {
    if (anyEllipsis)
      out = "...";
    for (auto [c, n] : count)
      if (n == 1)
        out += c;
  }
  SmallVector<int64_t> shape;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 3, "...") == 0) {
      shape.append(ellipsis.begin(), ellipsis.end());
      i += 2;
      continue;
    }
    auto it = dims.find(out[i]);
    if (it == dims.end())
      return emitOpError() << "output letter '" << out[i] << "' is in no input";
    shape.push_back(it->second);
  }
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

/// The result of a scatter has the shape of its data.
template <typename Scatter>
static LogicalResult inferScatter(Scatter op, SmallVectorImpl<Type> &types) {
  auto t = ranked(op.getData());
  if (!t)
    return keep(op, types);
  types.push_back(tensorLike(op.getOutput(), t.getShape()));
  return success();
}
LogicalResult ScatterNDOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferScatter(*this, types);
}
LogicalResult ScatterElementsOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferScatter(*this, types);
}

LogicalResult GatherElementsOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto i = ranked(getIndices());
  if (!i)
    return keep(*this, types);
  types.push_back(tensorLike(getOutput(), i.getShape()));
  return success();
}

LogicalResult GatherNDOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto d = ranked(getData()), i = ranked(getIndices());
  if (!d || !i || i.getRank() < 1 || ShapedType::isDynamic(i.getShape().back()))
    return keep(*this, types);
  int64_t b = int64_t(getBatchDims()), last = i.getShape().back();
  if (b + last > d.getRank())
    return emitOpError("indices address more dimensions than data has");
  SmallVector<int64_t> shape(i.getShape().drop_back());
  shape.append(d.getShape().begin() + b + last, d.getShape().end());
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

static int64_t scaleDim(int64_t d, int64_t num, int64_t den) {
  return ShapedType::isDynamic(d) || d * num % den ? kDyn : d * num / den;
}
LogicalResult DepthToSpaceOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getInput());
  int64_t b = int64_t(getBlocksize());
  if (!t || t.getRank() != 4 || b <= 0)
    return keep(*this, types);
  auto s = t.getShape();
  types.push_back(tensorLike(getOutput(), {s[0], scaleDim(s[1], 1, b * b), scaleDim(s[2], b, 1),
                                           scaleDim(s[3], b, 1)}));
  return success();
}
LogicalResult SpaceToDepthOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getInput());
  int64_t b = int64_t(getBlocksize());
  if (!t || t.getRank() != 4 || b <= 0)
    return keep(*this, types);
  auto s = t.getShape();
  types.push_back(tensorLike(getOutput(), {s[0], scaleDim(s[1], b * b, 1), scaleDim(s[2], 1, b),
                                           scaleDim(s[3], 1, b)}));
  return success();
}

LogicalResult TopKOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getX());
  auto k = getConstantInts(getK());
  if (!t || !k || k->size() != 1)
    return keep(*this, types);
  SmallVector<int64_t> shape(t.getShape());
  shape[normalizeAxis(int64_t(getAxis()), t.getRank())] = (*k)[0];
  types.push_back(tensorLike(getValues(), shape));
  types.push_back(tensorLike(getIndices(), shape));
  return success();
}

LogicalResult OneHotOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = ranked(getIndices());
  auto depth = getScalarConstant(getDepth());
  if (!t || !depth)
    return keep(*this, types);
  SmallVector<int64_t> shape(t.getShape());
  int64_t axis = normalizeAxis(int64_t(getAxis()), t.getRank() + 1);
  shape.insert(shape.begin() + axis, int64_t(*depth));
  types.push_back(tensorLike(getOutput(), shape));
  return success();
}

LogicalResult GridSampleOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = ranked(getX()), g = ranked(getGrid());
  if (!x || !g || x.getRank() != 4 || g.getRank() != 4)
    return keep(*this, types);
  types.push_back(tensorLike(getY(), {x.getDimSize(0), x.getDimSize(1), g.getDimSize(1),
                                      g.getDimSize(2)}));
  return success();
}

LogicalResult RoiAlignOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = ranked(getX()), r = ranked(getRois());
  if (!x || !r || x.getRank() != 4 || r.getRank() != 2)
    return keep(*this, types);
  types.push_back(tensorLike(getY(), {r.getDimSize(0), x.getDimSize(1),
                                      int64_t(getOutputHeight()), int64_t(getOutputWidth())}));
  return success();
}

/// LSTM / GRU / RNN: Y [seq, dirs, batch, hidden] and Y_h (Y_c) [dirs,
/// batch, hidden], batch first with layout = 1; hidden from the attribute or
/// from W [dirs, gates * hidden, input].
template <typename Recurrent>
static LogicalResult inferRecurrent(Recurrent op, int64_t gates, SmallVectorImpl<Type> &types) {
  auto x = ranked(op.getX()), w = ranked(op.getW());
  if (!x || x.getRank() != 3)
    return keep(op, types);
  const bool batchFirst = op.getLayout() != 0;
  const int64_t seq = x.getDimSize(batchFirst ? 1 : 0), batch = x.getDimSize(batchFirst ? 0 : 1);
  const int64_t dirs = op.getDirection() == "bidirectional" ? 2 : 1;
  int64_t hidden = kDyn;
  if (auto h = op.getHiddenSize())
    hidden = int64_t(*h);
  else if (w && w.getRank() == 3 && !ShapedType::isDynamic(w.getDimSize(1)))
    hidden = w.getDimSize(1) / gates;
  for (Value r : op->getResults()) {
    if (isa<NoneType>(r.getType())) {
      types.push_back(r.getType());
      continue;
    }
    if (r == op->getResult(0))
      types.push_back(tensorLike(r, batchFirst ? SmallVector<int64_t>{batch, seq, dirs, hidden}
                                               : SmallVector<int64_t>{seq, dirs, batch, hidden}));
    else
      types.push_back(tensorLike(r, batchFirst ? SmallVector<int64_t>{batch, dirs, hidden}
                                               : SmallVector<int64_t>{dirs, batch, hidden}));
  }
  return success();
}
LogicalResult LSTMOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferRecurrent(*this, 4, types);
}
LogicalResult GRUOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferRecurrent(*this, 3, types);
}
LogicalResult RNNOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferRecurrent(*this, 1, types);
}
