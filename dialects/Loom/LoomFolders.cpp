//===- LoomFolders.cpp - Constant folding and identity folds --------------===//
//
// Folders for the ops that shape-computing subgraphs use (Shape, Gather,
// Concat, Slice, Unsqueeze, Cast, Range, small integer arithmetic, ...), so
// that exporter-style Shape -> Gather -> Concat -> Reshape chains collapse to
// constants, and identity folds (Identity, no-op Reshape/Transpose/Cast/
// Expand). A folder only fires when its result type is static and the result
// has at most kMaxFoldElements elements.
//
//===----------------------------------------------------------------------===//
#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace loom;

namespace {
/// The static result type of a single-result op, when foldable in size.
RankedTensorType foldableType(Value result) {
  auto t = dyn_cast<RankedTensorType>(result.getType());
  if (!t || !t.hasStaticShape() || t.getNumElements() > kMaxFoldElements)
    return {};
  return t;
}

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// Builds a tensor of type `out` whose element i is element `src(i)` of `in`.
DenseElementsAttr gatherElements(DenseElementsAttr in, RankedTensorType out,
                                 llvm::function_ref<int64_t(int64_t)> src) {
  if (in.isSplat())
    return DenseElementsAttr::get(out, in.getSplatValue<Attribute>());
  auto values = llvm::to_vector(in.getValues<Attribute>());
  SmallVector<Attribute> result;
  result.reserve(out.getNumElements());
  for (int64_t i = 0, e = out.getNumElements(); i < e; ++i)
    result.push_back(values[src(i)]);
  return DenseElementsAttr::get(out, result);
}

/// Maps an index of the broadcast result to the index into an operand.
struct BroadcastMap {
  SmallVector<int64_t> outShape, inStrides;
  BroadcastMap(ArrayRef<int64_t> in, ArrayRef<int64_t> out) : outShape(out) {
    SmallVector<int64_t> strides = stridesOf(in);
    inStrides.assign(out.size(), 0);
    size_t off = out.size() - in.size();
    for (size_t i = 0; i < in.size(); ++i)
      inStrides[i + off] = in[i] == 1 ? 0 : strides[i];
  }
  int64_t operator()(int64_t linear) const {
    int64_t idx = 0;
    for (int64_t d = int64_t(outShape.size()) - 1; d >= 0; --d) {
      idx += (linear % outShape[d]) * inStrides[d];
      linear /= outShape[d];
    }
    return idx;
  }
};

/// Numbers of a constant, read as int64 (integers, bools) or double (floats).
struct Numbers {
  bool isFloat = false;
  SmallVector<int64_t> ints;
  SmallVector<double> floats;
  double get(int64_t i) const { return isFloat ? floats[i] : double(ints[i]); }
};
std::optional<Numbers> readNumbers(DenseElementsAttr d) {
  if (!d)
    return std::nullopt;
  Numbers n;
  Type et = d.getElementType();
  if (isa<FloatType>(et)) {
    n.isFloat = true;
    for (const APFloat &v : d.getValues<APFloat>())
      n.floats.push_back(v.convertToDouble());
  } else if (auto it = dyn_cast<IntegerType>(et)) {
    for (const APInt &v : d.getValues<APInt>())
      n.ints.push_back(it.isUnsigned() || it.getWidth() == 1
                           ? int64_t(v.getZExtValue())
                           : v.getSExtValue());
  } else {
    return std::nullopt;
  }
  return n;
}

/// A tensor of type `t` from int64 or double values converted to its element
/// type (floats round to the element's precision, integers wrap).
DenseElementsAttr makeNumbers(RankedTensorType t, ArrayRef<int64_t> ints,
                              ArrayRef<double> floats, bool fromFloat) {
  Type et = t.getElementType();
  int64_t n = t.getNumElements();
  if (auto ft = dyn_cast<FloatType>(et)) {
    SmallVector<APFloat> out;
    for (int64_t i = 0; i < n; ++i) {
      APFloat v(fromFloat ? floats[i] : double(ints[i]));
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      out.push_back(v);
    }
    return DenseElementsAttr::get(t, out);
  }
  auto it = cast<IntegerType>(et);
  SmallVector<APInt> out;
  for (int64_t i = 0; i < n; ++i) {
    int64_t v;
    if (fromFloat) {
      double f = floats[i];
      if (!std::isfinite(f))
        return {};
      v = int64_t(f); // truncation toward zero, as ONNX Cast does
    } else {
      v = ints[i];
    }
    if (it.getWidth() == 1)
      v = v != 0;
    out.push_back(APInt(it.getWidth(), uint64_t(v), /*isSigned=*/true,
                        /*implicitTrunc=*/true));
  }
  return DenseElementsAttr::get(t, out);
}

/// Folds a broadcasting binary op on two constants. `intFn` may decline
/// (return nullopt), e.g. for division by zero.
OpFoldResult
foldBinary(Value result, Attribute lhsAttr, Attribute rhsAttr,
           llvm::function_ref<std::optional<int64_t>(int64_t, int64_t)> intFn,
           llvm::function_ref<double(double, double)> floatFn) {
  RankedTensorType t = foldableType(result);
  DenseElementsAttr l = toDense(lhsAttr), r = toDense(rhsAttr);
  if (!t || !l || !r)
    return {};
  auto ln = readNumbers(l), rn = readNumbers(r);
  if (!ln || !rn || ln->isFloat != rn->isFloat)
    return {};
  BroadcastMap lm(l.getType().getShape(), t.getShape()),
      rm(r.getType().getShape(), t.getShape());
  auto lv = [&](int64_t i) { return l.isSplat() ? 0 : lm(i); };
  auto rv = [&](int64_t i) { return r.isSplat() ? 0 : rm(i); };
  int64_t n = t.getNumElements();
  bool floatResult = isa<FloatType>(t.getElementType());
  if (ln->isFloat) {
    if (!floatFn)
      return {};
    SmallVector<double> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(floatFn(ln->floats[lv(i)], rn->floats[rv(i)]));
    if (floatResult)
      return makeNumbers(t, {}, out, true);
    SmallVector<int64_t> bools(out.begin(), out.end());
    return makeNumbers(t, bools, {}, false);
  }
  if (!intFn)
    return {};
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    auto v = intFn(ln->ints[lv(i)], rn->ints[rv(i)]);
    if (!v)
      return {};
    out.push_back(*v);
  }
  return makeNumbers(t, out, {}, false);
}

OpFoldResult foldUnary(Value result, Attribute in,
                       llvm::function_ref<std::optional<int64_t>(int64_t)> intFn,
                       llvm::function_ref<double(double)> floatFn) {
  RankedTensorType t = foldableType(result);
  DenseElementsAttr d = toDense(in);
  if (!t || !d)
    return {};
  auto n = readNumbers(d);
  if (!n)
    return {};
  int64_t count = t.getNumElements();
  auto idx = [&](int64_t i) { return d.isSplat() ? 0 : i; };
  if (n->isFloat) {
    if (!floatFn)
      return {};
    SmallVector<double> out;
    for (int64_t i = 0; i < count; ++i)
      out.push_back(floatFn(n->floats[idx(i)]));
    return makeNumbers(t, {}, out, true);
  }
  if (!intFn)
    return {};
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < count; ++i) {
    auto v = intFn(n->ints[idx(i)]);
    if (!v)
      return {};
    out.push_back(*v);
  }
  return makeNumbers(t, out, {}, false);
}

/// Returns `input` when the op does not change it (same static type).
OpFoldResult identityIfSameType(Value input, Value result) {
  auto t = dyn_cast<RankedTensorType>(result.getType());
  if (t && t.hasStaticShape() && input.getType() == result.getType())
    return input;
  return {};
}

/// Reinterprets a constant with a new static shape (same elements).
OpFoldResult reshapeConstant(Attribute in, Value result) {
  RankedTensorType t = foldableType(result);
  DenseElementsAttr d = toDense(in);
  if (!t || !d || d.getType().getNumElements() != t.getNumElements() ||
      d.getElementType() != t.getElementType())
    return {};
  return d.reshape(t);
}
} // namespace

//===----------------------------------------------------------------------===//
// Identities and element movement
//===----------------------------------------------------------------------===//

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = identityIfSameType(getData(), getReshaped()))
    return r;
  return reshapeConstant(adaptor.getData(), getReshaped());
}

OpFoldResult FlattenOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = identityIfSameType(getInput(), getOutput()))
    return r;
  return reshapeConstant(adaptor.getInput(), getOutput());
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  return reshapeConstant(adaptor.getData(), getExpanded());
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = identityIfSameType(getData(), getSqueezed()))
    return r;
  return reshapeConstant(adaptor.getData(), getSqueezed());
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  if (!in)
    return {};
  SmallVector<int64_t> perm;
  if (auto p = getPerm())
    perm.assign(p->begin(), p->end());
  else
    for (int64_t i = in.getRank() - 1; i >= 0; --i)
      perm.push_back(i);
  bool identity = llvm::all_of(llvm::enumerate(perm), [](auto it) {
    return int64_t(it.index()) == it.value();
  });
  if (identity)
    return identityIfSameType(getData(), getTransposed());
  RankedTensorType t = foldableType(getTransposed());
  DenseElementsAttr d = toDense(adaptor.getData());
  if (!t || !d)
    return {};
  SmallVector<int64_t> inStrides = stridesOf(in.getShape());
  ArrayRef<int64_t> outShape = t.getShape();
  return gatherElements(d, t, [&](int64_t linear) {
    int64_t idx = 0;
    for (int64_t od = int64_t(outShape.size()) - 1; od >= 0; --od) {
      idx += (linear % outShape[od]) * inStrides[perm[od]];
      linear /= outShape[od];
    }
    return idx;
  });
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = identityIfSameType(getInput(), getOutput()))
    return r;
  RankedTensorType t = foldableType(getOutput());
  DenseElementsAttr d = toDense(adaptor.getInput());
  if (!t || !d)
    return {};
  BroadcastMap map(d.getType().getShape(), t.getShape());
  return gatherElements(d, t, map);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return identityIfSameType(getInputs()[0], getConcatResult());
  RankedTensorType t = foldableType(getConcatResult());
  if (!t)
    return {};
  int64_t axis = normalizeAxis(int64_t(getAxis()), t.getRank());
  SmallVector<Attribute> values;
  // Row-major: for each outer index, append each input's slab along `axis`.
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= t.getDimSize(d);
  SmallVector<SmallVector<Attribute>> inputs;
  SmallVector<int64_t> slab;
  for (Attribute a : adaptor.getInputs()) {
    DenseElementsAttr d = toDense(a);
    if (!d)
      return {};
    inputs.push_back(llvm::to_vector(d.getValues<Attribute>()));
    slab.push_back(outer ? d.getNumElements() / std::max<int64_t>(outer, 1) : 0);
  }
  for (int64_t o = 0; o < outer; ++o)
    for (auto [vals, n] : llvm::zip(inputs, slab))
      values.append(vals.begin() + o * n, vals.begin() + (o + 1) * n);
  return DenseElementsAttr::get(t, values);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  RankedTensorType t = foldableType(getOutput());
  DenseElementsAttr data = toDense(adaptor.getData());
  auto indices = getInts(adaptor.getIndices());
  if (!t || !data || !indices)
    return {};
  ArrayRef<int64_t> ds = data.getType().getShape();
  int64_t axis = normalizeAxis(int64_t(getAxis()), int64_t(ds.size()));
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < int64_t(ds.size()); ++d)
    inner *= ds[d];
  int64_t n = int64_t(indices->size()), axisDim = ds[axis];
  for (int64_t &i : *indices) {
    if (i < 0)
      i += axisDim;
    if (i < 0 || i >= axisDim)
      return {};
  }
  // Output index = (outer o, index k, inner j).
  return gatherElements(data, t, [&](int64_t linear) {
    int64_t j = linear % inner;
    int64_t k = (linear / inner) % n;
    int64_t o = linear / (inner * n);
    return (o * axisDim + (*indices)[k]) * inner + j;
  });
}

namespace {
/// A Trilu of a splat (a splat constant, or a ConstantOfShape however
/// large): exporters build causal masks as `Trilu(ConstantOfShape([t, t]))`
/// and slice the rows they need. Described here so that a Slice folds
/// without the t x t tensor, which is beyond the fold limit at long
/// contexts and would otherwise be computed on every run.
struct SplatTriangle {
  Attribute value, zero;
  bool upper = true;
  int64_t k = 0;
  SmallVector<int64_t> shape;
};

std::optional<SplatTriangle> splatTriangle(Value v) {
  auto trilu = v.getDefiningOp<TriluOp>();
  if (!trilu)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(trilu.getOutput().getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 2)
    return std::nullopt;
  SplatTriangle tri;
  tri.upper = trilu.getUpper() != 0;
  if (!isNone(trilu.getK())) {
    auto k = getConstantInts(trilu.getK());
    if (!k || k->size() != 1)
      return std::nullopt;
    tri.k = (*k)[0];
  }
  Type elem = type.getElementType();
  Value input = trilu.getInput();
  if (auto fill = input.getDefiningOp<ConstantOfShapeOp>()) {
    if (auto value = fill.getValue()) {
      DenseElementsAttr d = toDense(*value);
      if (!d || d.getNumElements() != 1 || d.getElementType() != elem)
        return std::nullopt;
      tri.value = *d.getValues<Attribute>().begin();
    } else if (isa<FloatType>(elem)) {
      tri.value = FloatAttr::get(elem, 0.0); // ONNX's default: f32 zeros
    } else {
      return std::nullopt;
    }
  } else {
    DenseElementsAttr d;
    if (!matchPattern(input, m_Constant(&d)) || !d.isSplat())
      return std::nullopt;
    tri.value = d.getSplatValue<Attribute>();
  }
  if (auto f = dyn_cast<FloatType>(elem))
    tri.zero = FloatAttr::get(f, 0.0);
  else if (auto i = dyn_cast<IntegerType>(elem))
    tri.zero = IntegerAttr::get(i, 0);
  else
    return std::nullopt;
  tri.shape.assign(type.getShape().begin(), type.getShape().end());
  return tri;
}
} // namespace

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  RankedTensorType t = foldableType(getOutput());
  DenseElementsAttr data = toDense(adaptor.getData());
  auto starts = getInts(adaptor.getStarts());
  std::optional<SplatTriangle> tri;
  if (!data && t && starts)
    tri = splatTriangle(getData());
  if (!t || !starts || (!data && !tri))
    return {};
  ArrayRef<int64_t> in = data ? data.getType().getShape() : ArrayRef(tri->shape);
  int64_t rank = int64_t(in.size());
  SmallVector<int64_t> axes, steps(starts->size(), 1);
  if (isNone(getAxes()))
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  else if (auto a = getInts(adaptor.getAxes()))
    axes = *a;
  else
    return {};
  if (!isNone(getSteps())) {
    auto s = getInts(adaptor.getSteps());
    if (!s)
      return {};
    steps = *s;
  }
  // Per dimension: first index and step (the extent comes from the result).
  SmallVector<int64_t> first(rank, 0), step(rank, 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normalizeAxis(axes[i], rank);
    int64_t s = (*starts)[i], dim = in[a];
    if (s < 0)
      s += dim;
    s = steps[i] > 0 ? std::clamp<int64_t>(s, 0, dim)
                     : std::clamp<int64_t>(s, -1, dim - 1);
    first[a] = s;
    step[a] = steps[i];
  }
  ArrayRef<int64_t> outShape = t.getShape();
  if (tri) {
    // Element (.., r, c) of the triangle: kept where c - r >= k (upper) or
    // c - r <= k (lower), zero elsewhere.
    SmallVector<Attribute> values;
    values.reserve(t.getNumElements());
    for (int64_t i = 0, e = t.getNumElements(); i < e; ++i) {
      int64_t linear = i, r = 0, c = 0;
      for (int64_t d = rank - 1; d >= rank - 2; --d) {
        int64_t at = first[d] + (linear % outShape[d]) * step[d];
        (d == rank - 1 ? c : r) = at;
        linear /= outShape[d];
      }
      bool keep = tri->upper ? c - r >= tri->k : c - r <= tri->k;
      values.push_back(keep ? tri->value : tri->zero);
    }
    return DenseElementsAttr::get(t, values);
  }
  SmallVector<int64_t> inStrides = stridesOf(in);
  return gatherElements(data, t, [&](int64_t linear) {
    int64_t idx = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      idx += (first[d] + (linear % outShape[d]) * step[d]) * inStrides[d];
      linear /= outShape[d];
    }
    return idx;
  });
}

//===----------------------------------------------------------------------===//
// Shape queries and generators
//===----------------------------------------------------------------------===//

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  RankedTensorType t = foldableType(getShape());
  if (!in || !t)
    return {};
  int64_t rank = in.getRank();
  auto clamp = [&](int64_t v) {
    return std::clamp<int64_t>(normalizeAxis(v, rank), 0, rank);
  };
  int64_t start = clamp(int64_t(getStart()));
  int64_t end = getEnd() ? clamp(int64_t(*getEnd())) : rank;
  SmallVector<int64_t> dims(in.getShape().begin() + start,
                            in.getShape().begin() + std::max(start, end));
  if (llvm::any_of(dims, ShapedType::isDynamic) ||
      int64_t(dims.size()) != t.getNumElements())
    return {};
  return DenseElementsAttr::get(t, ArrayRef<int64_t>(dims));
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  RankedTensorType t = foldableType(getSize());
  if (!in || !in.hasStaticShape() || !t)
    return {};
  return DenseElementsAttr::get(t, ArrayRef<int64_t>{in.getNumElements()});
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  RankedTensorType t = foldableType(getOutput());
  if (!t)
    return {};
  if (auto value = getValue()) {
    DenseElementsAttr d = toDense(*value);
    if (!d || d.getNumElements() != 1 || d.getElementType() != t.getElementType())
      return {};
    return DenseElementsAttr::get(t, *d.getValues<Attribute>().begin());
  }
  return DenseElementsAttr::get(t, FloatAttr::get(t.getElementType(), 0.0));
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  RankedTensorType t = foldableType(getOutput());
  auto s = readNumbers(toDense(adaptor.getStart()));
  auto d = readNumbers(toDense(adaptor.getDelta()));
  if (!t || !s || !d || !adaptor.getLimit())
    return {};
  int64_t n = t.getNumElements();
  if (s->isFloat) {
    SmallVector<double> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(s->floats[0] + double(i) * d->floats[0]);
    return makeNumbers(t, {}, out, true);
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back(s->ints[0] + i * d->ints[0]);
  return makeNumbers(t, out, {}, false);
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  RankedTensorType t = foldableType(getOutput());
  DenseElementsAttr d = toDense(adaptor.getInput());
  if (!t || !d)
    return {};
  auto n = readNumbers(d);
  if (!n)
    return {};
  if (d.isSplat()) {
    n->ints.resize(n->isFloat ? 0 : 1);
    n->floats.resize(n->isFloat ? 1 : 0);
    SmallVector<int64_t> ints(t.getNumElements(), n->isFloat ? 0 : n->ints[0]);
    SmallVector<double> floats(t.getNumElements(), n->isFloat ? n->floats[0] : 0);
    return makeNumbers(t, ints, floats, n->isFloat);
  }
  if (n->isFloat && !isa<FloatType>(t.getElementType()) &&
      t.getElementType().isInteger(1)) {
    SmallVector<int64_t> bools;
    for (double f : n->floats)
      bools.push_back(f != 0.0);
    return makeNumbers(t, bools, {}, false);
  }
  return makeNumbers(t, n->ints, n->floats, n->isFloat);
}

//===----------------------------------------------------------------------===//
// Arithmetic and logic on constants
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldBinary(getC(), a.getA(), a.getB(),
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x + y; },
                    [](double x, double y) { return x + y; });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldBinary(getC(), a.getA(), a.getB(),
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x - y; },
                    [](double x, double y) { return x - y; });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldBinary(getC(), a.getA(), a.getB(),
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x * y; },
                    [](double x, double y) { return x * y; });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldBinary(
      getC(), a.getA(), a.getB(),
      [](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0)
          return std::nullopt;
        return x / y; // ONNX integer Div truncates
      },
      [](double x, double y) { return x / y; });
}
OpFoldResult ModOp::fold(FoldAdaptor a) {
  if (getFmod())
    return {};
  return foldBinary(
      getC(), a.getA(), a.getB(),
      [](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0)
          return std::nullopt;
        int64_t r = x % y; // the sign follows the divisor
        return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
      },
      nullptr);
}
OpFoldResult MaxOp::fold(FoldAdaptor a) {
  if (a.getData_0().size() != 2)
    return {};
  return foldBinary(getMax(), a.getData_0()[0], a.getData_0()[1],
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return std::max(x, y); },
                    [](double x, double y) { return std::max(x, y); });
}
OpFoldResult MinOp::fold(FoldAdaptor a) {
  if (a.getData_0().size() != 2)
    return {};
  return foldBinary(getMin(), a.getData_0()[0], a.getData_0()[1],
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return std::min(x, y); },
                    [](double x, double y) { return std::min(x, y); });
}
OpFoldResult EqualOp::fold(FoldAdaptor a) {
  return foldBinary(getC(), a.getA(), a.getB(),
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x == y; },
                    [](double x, double y) { return double(x == y); });
}
OpFoldResult LessOp::fold(FoldAdaptor a) {
  return foldBinary(getC(), a.getA(), a.getB(),
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x < y; },
                    [](double x, double y) { return double(x < y); });
}
OpFoldResult GreaterOp::fold(FoldAdaptor a) {
  return foldBinary(getC(), a.getA(), a.getB(),
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x > y; },
                    [](double x, double y) { return double(x > y); });
}
OpFoldResult NotOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(),
                   [](int64_t x) -> std::optional<int64_t> { return x == 0; },
                   nullptr);
}
OpFoldResult NegOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(),
                   [](int64_t x) -> std::optional<int64_t> { return -x; },
                   [](double x) { return -x; });
}
OpFoldResult AbsOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(),
                   [](int64_t x) -> std::optional<int64_t> { return x < 0 ? -x : x; },
                   [](double x) { return std::fabs(x); });
}
OpFoldResult ReluOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(),
                   [](int64_t x) -> std::optional<int64_t> { return x < 0 ? 0 : x; },
                   [](double x) { return x < 0 ? 0.0 : x; });
}
OpFoldResult FloorOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(), nullptr,
                   [](double x) { return std::floor(x); });
}
OpFoldResult CeilOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(), nullptr,
                   [](double x) { return std::ceil(x); });
}

OpFoldResult WhereOp::fold(FoldAdaptor a) {
  RankedTensorType t = foldableType(getOutput());
  DenseElementsAttr c = toDense(a.getCondition()), x = toDense(a.getX()),
                    y = toDense(a.getY());
  if (!t || !c || !x || !y)
    return {};
  auto cond = llvm::to_vector(c.getValues<bool>());
  auto xv = llvm::to_vector(x.getValues<Attribute>());
  auto yv = llvm::to_vector(y.getValues<Attribute>());
  BroadcastMap cm(c.getType().getShape(), t.getShape()),
      xm(x.getType().getShape(), t.getShape()),
      ym(y.getType().getShape(), t.getShape());
  SmallVector<Attribute> out;
  for (int64_t i = 0, e = t.getNumElements(); i < e; ++i) {
    bool pick = cond[c.isSplat() ? 0 : cm(i)];
    out.push_back(pick ? xv[x.isSplat() ? 0 : xm(i)] : yv[y.isSplat() ? 0 : ym(i)]);
  }
  return DenseElementsAttr::get(t, out);
}

//===----------------------------------------------------------------------===//
// Reductions of constants (exporters compute sizes with ReduceMax over a list
// of image sizes, e.g. torchvision's GeneralizedRCNNTransform)
//===----------------------------------------------------------------------===//

namespace {
enum class ReduceKind { Max, Min, Sum, Prod };

/// Folds a reduction of a constant over `axes` (all axes when empty); the
/// result type must already be static (loom-propagate-shapes sets it).
OpFoldResult foldReduce(Value result, Attribute in, ArrayRef<int64_t> axes, ReduceKind kind) {
  RankedTensorType t = foldableType(result);
  DenseElementsAttr d = toDense(in);
  if (!t || !d)
    return {};
  auto n = readNumbers(d);
  if (!n)
    return {};
  ArrayRef<int64_t> shape = d.getType().getShape();
  const int64_t rank = int64_t(shape.size());
  SmallVector<bool> reduced(size_t(rank), axes.empty());
  for (int64_t a : axes) {
    a = normalizeAxis(a, rank);
    if (a < 0 || a >= rank)
      return {};
    reduced[size_t(a)] = true;
  }
  // The output index of an input element: its index with reduced axes dropped.
  SmallVector<int64_t> outShape;
  for (int64_t i = 0; i < rank; ++i)
    if (!reduced[size_t(i)])
      outShape.push_back(shape[size_t(i)]);
  int64_t outCount = 1;
  for (int64_t s : outShape)
    outCount *= s;
  if (outCount != t.getNumElements())
    return {};
  const double init = kind == ReduceKind::Max   ? -std::numeric_limits<double>::infinity()
                      : kind == ReduceKind::Min ? std::numeric_limits<double>::infinity()
                      : kind == ReduceKind::Sum ? 0.0
                                                : 1.0;
  SmallVector<double> acc(size_t(outCount), init);
  SmallVector<int64_t> accI(size_t(outCount), kind == ReduceKind::Prod ? 1 : 0);
  SmallVector<bool> seen(size_t(outCount), false);
  const int64_t count = d.getType().getNumElements();
  if (count == 0)
    return {};
  SmallVector<int64_t> idx(size_t(rank), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t o = 0;
    for (int64_t a = 0; a < rank; ++a)
      if (!reduced[size_t(a)])
        o = o * shape[size_t(a)] + idx[size_t(a)];
    const int64_t src = d.isSplat() ? 0 : i;
    if (n->isFloat) {
      double v = n->floats[size_t(src)];
      double &r = acc[size_t(o)];
      r = kind == ReduceKind::Max ? std::max(r, v)
          : kind == ReduceKind::Min ? std::min(r, v)
          : kind == ReduceKind::Sum ? r + v
                                    : r * v;
    } else {
      int64_t v = n->ints[size_t(src)];
      int64_t &r = accI[size_t(o)];
      r = !seen[size_t(o)] && (kind == ReduceKind::Max || kind == ReduceKind::Min) ? v
          : kind == ReduceKind::Max                                               ? std::max(r, v)
          : kind == ReduceKind::Min                                               ? std::min(r, v)
          : kind == ReduceKind::Sum                                               ? r + v
                                                                                  : r * v;
    }
    seen[size_t(o)] = true;
    for (int64_t a = rank - 1; a >= 0; --a) {
      if (++idx[size_t(a)] < shape[size_t(a)])
        break;
      idx[size_t(a)] = 0;
    }
  }
  if (n->isFloat)
    return makeNumbers(t, {}, acc, true);
  return makeNumbers(t, accI, {}, false);
}
} // namespace

OpFoldResult ReduceMaxOp::fold(FoldAdaptor a) {
  return foldReduce(getReduced(), a.getData(), getAxes().value_or(ArrayRef<int64_t>()),
                    ReduceKind::Max);
}
OpFoldResult ReduceMinOp::fold(FoldAdaptor a) {
  return foldReduce(getReduced(), a.getData(), getAxes().value_or(ArrayRef<int64_t>()),
                    ReduceKind::Min);
}
OpFoldResult ReduceProdOp::fold(FoldAdaptor a) {
  return foldReduce(getReduced(), a.getData(), getAxes().value_or(ArrayRef<int64_t>()),
                    ReduceKind::Prod);
}
OpFoldResult ReduceSumOp::fold(FoldAdaptor a) {
  SmallVector<int64_t> axes;
  if (!isNone(getAxes())) {
    auto c = getConstantInts(getAxes());
    if (!c)
      return {};
    axes = *c;
  }
  if (axes.empty() && getNoopWithEmptyAxes() != 0)
    return {};
  return foldReduce(getReduced(), a.getData(), axes, ReduceKind::Sum);
}

// Float math of size computations (a scale factor as 1 / size, a side as
// sqrt(area)): each result rounded to the element type, as the f32
// operations of a runtime round it.
OpFoldResult ReciprocalOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(), nullptr, [](double x) { return 1.0 / x; });
}
OpFoldResult SqrtOp::fold(FoldAdaptor a) {
  return foldUnary(getY(), a.getX(), nullptr, [](double x) { return std::sqrt(x); });
}
