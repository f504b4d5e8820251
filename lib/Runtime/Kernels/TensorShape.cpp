//===- TensorShape.cpp - Data movement and shape kernels ------------------===//
//
// Identity, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split,
// Slice, Expand, Tile, Pad, Shape, Size, ConstantOfShape, Range, EyeLike,
// DepthToSpace, SpaceToDepth, Dropout. These move elements without looking at
// them, so most work on raw bytes of any dtype.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "KernelUtil.h"

namespace loom::rt {
using namespace kern;

namespace {

/// Copies one element of `es` bytes.
inline void copyElem(char *dst, const char *src, size_t es) {
  switch (es) {
  case 1: *dst = *src; break;
  case 2: std::memcpy(dst, src, 2); break;
  case 4: std::memcpy(dst, src, 4); break;
  case 8: std::memcpy(dst, src, 8); break;
  default: std::memcpy(dst, src, es); break;
  }
}

/// Checks that the output has the input's dtype and `want` shape, then copies
/// the bytes (for ops that only change the shape).
void copyReshaped(std::string_view k, const TensorRef &in, const TensorRef &out,
                  const Shape &want) {
  checkDType(k, "output", out, in.dtype);
  checkShape(k, "output", out, want);
  if (in.byteSize() != out.byteSize())
    fail(k, "element count changes from " + std::to_string(in.numElements()) +
                " to " + std::to_string(out.numElements()));
  if (out.byteSize())
    std::memmove(out.data, in.data, in.byteSize());
}

/// Copies `in` into `out` where out[idx] = in[sum(idx[d] * srcStrides[d])]
/// (+ `base`), the workhorse of Transpose, Expand, Slice and friends.
void gatherStrided(const TensorRef &in, const TensorRef &out,
                   const std::vector<int64_t> &srcStrides, int64_t base = 0) {
  // Signed arithmetic throughout: strides are negative for negative steps.
  const size_t es = dtypeSize(in.dtype);
  const int64_t ses = int64_t(es);
  const char *src = in.as<char>() + base * ses;
  char *dst = out.as<char>();
  forEachBroadcast<1>(out.shape, std::array<std::vector<int64_t>, 1>{srcStrides},
                      [&](int64_t o, const auto &off) {
                        copyElem(dst + o * ses, src + off[0] * ses, es);
                      });
}

void identity(KernelArgs &a) {
  checkArity("identity", a, 1, 1, 1, 1);
  copyReshaped("identity", a.inputs[0], a.outputs[0], a.inputs[0].shape);
}

void reshape(KernelArgs &a) {
  const char *k = "reshape";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0];
  std::vector<int64_t> spec = loadInts(k, a.inputs[1]);
  bool allowZero = a.attrs.getInt("allowzero", 0) != 0;
  Shape want(spec.size());
  int64_t known = 1, inferAt = -1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowZero) {
      if (i >= x.rank())
        fail(k, "shape entry 0 at " + std::to_string(i) + " has no input dim");
      d = x.shape[i];
    }
    if (d == -1) {
      if (inferAt >= 0)
        fail(k, "more than one -1 in the shape");
      inferAt = int64_t(i);
      continue;
    }
    if (d < 0)
      fail(k, "invalid shape entry " + std::to_string(d));
    want[i] = d;
    known *= d;
  }
  if (inferAt >= 0) {
    if (known == 0 || x.numElements() % known)
      fail(k, "cannot infer the -1 dimension of " + shapeStr(spec) +
                  " for input " + shapeStr(x.shape));
    want[inferAt] = x.numElements() / known;
  }
  copyReshaped(k, x, a.outputs[0], want);
}

void flatten(KernelArgs &a) {
  const char *k = "flatten";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0];
  int64_t rank = int64_t(x.rank());
  int64_t axis = a.attrs.getInt("axis", 1);
  if (axis < -rank || axis > rank)
    fail(k, "axis " + std::to_string(axis) + " out of range");
  if (axis < 0)
    axis += rank;
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  int64_t inner = outer ? x.numElements() / outer : 0;
  if (outer == 0) {
    inner = 1;
    for (int64_t d = axis; d < rank; ++d)
      inner *= x.shape[d];
  }
  copyReshaped(k, x, a.outputs[0], {outer, inner});
}

void squeeze(KernelArgs &a) {
  const char *k = "squeeze";
  checkArity(k, a, 1, 2, 1, 1);
  const TensorRef &x = a.inputs[0];
  int64_t rank = int64_t(x.rank());
  std::vector<bool> drop(size_t(rank), false);
  if (hasInput(a, 1)) {
    for (int64_t ax : loadInts(k, a.inputs[1])) {
      int64_t d = normalizeAxis(k, ax, rank);
      if (x.shape[d] != 1)
        fail(k, "cannot squeeze axis " + std::to_string(ax) + " of size " +
                    std::to_string(x.shape[d]));
      drop[d] = true;
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      drop[d] = x.shape[d] == 1;
  }
  Shape want;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d])
      want.push_back(x.shape[d]);
  copyReshaped(k, x, a.outputs[0], want);
}

void unsqueeze(KernelArgs &a) {
  const char *k = "unsqueeze";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0];
  std::vector<int64_t> axes = loadInts(k, a.inputs[1]);
  int64_t rank = int64_t(x.rank() + axes.size());
  std::vector<bool> inserted(size_t(rank), false);
  for (int64_t ax : axes) {
    int64_t d = normalizeAxis(k, ax, rank);
    if (inserted[d])
      fail(k, "axis " + std::to_string(ax) + " listed twice");
    inserted[d] = true;
  }
  Shape want;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    want.push_back(inserted[d] ? 1 : x.shape[next++]);
  copyReshaped(k, x, a.outputs[0], want);
}

void transpose(KernelArgs &a) {
  const char *k = "transpose";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  std::vector<int64_t> perm = a.attrs.getInts("perm");
  if (perm.empty())
    for (int64_t d = rank; d-- > 0;)
      perm.push_back(d);
  if (int64_t(perm.size()) != rank)
    fail(k, "perm has " + std::to_string(perm.size()) + " entries for rank " +
                std::to_string(rank));
  std::vector<bool> seen(size_t(rank), false);
  Shape want;
  std::vector<int64_t> inStrides = stridesOf(x.shape), src;
  for (int64_t p : perm) {
    int64_t d = normalizeAxis(k, p, rank);
    if (seen[d])
      fail(k, "perm is not a permutation");
    seen[d] = true;
    want.push_back(x.shape[d]);
    src.push_back(inStrides[d]);
  }
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  gatherStrided(x, y, src);
}

void concat(KernelArgs &a) {
  const char *k = "concat";
  if (a.inputs.empty())
    fail(k, "expected at least one input");
  checkArity(k, a, a.inputs.size(), a.inputs.size(), 1, 1);
  const TensorRef &first = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(first.rank());
  int64_t axis = normalizeAxis(k, a.attrs.requireInt("axis"), rank);
  Shape want = first.shape;
  want[axis] = 0;
  for (const TensorRef &in : a.inputs) {
    if (in.dtype != first.dtype || int64_t(in.rank()) != rank)
      fail(k, "inputs differ in dtype or rank");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && in.shape[d] != first.shape[d])
        fail(k, "input shapes " + shapeStr(first.shape) + " and " +
                    shapeStr(in.shape) + " differ outside the axis");
    want[axis] += in.shape[axis];
  }
  checkDType(k, "output", y, first.dtype);
  checkShape(k, "output", y, want);
  // Each input contributes, per outer index, one contiguous block.
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= want[d];
  size_t es = dtypeSize(first.dtype);
  size_t outRow = size_t(y.numElements() / std::max<int64_t>(outer, 1)) * es;
  size_t offset = 0;
  for (const TensorRef &in : a.inputs) {
    size_t block = size_t(in.numElements() / std::max<int64_t>(outer, 1)) * es;
    for (int64_t o = 0; o < outer && block; ++o)
      std::memcpy(y.as<char>() + o * outRow + offset,
                  in.as<char>() + o * block, block);
    offset += block;
  }
}

/// Writes input 0 into the state buffer (output 0) at `offset` along
/// `axis`, leaving the rest of the state as it was: the in-place form of a
/// KV cache's Concat(past, new) (plan-bind-state, docs/plan-format.md).
void stateWrite(KernelArgs &a) {
  const char *k = "state_write";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(y.rank());
  if (int64_t(x.rank()) != rank || x.dtype != y.dtype)
    fail(k, "the update " + shapeStr(x.shape) + " and the state " +
                shapeStr(y.shape) + " differ in rank or dtype");
  int64_t axis = normalizeAxis(k, a.attrs.requireInt("axis"), rank);
  int64_t offset = a.attrs.requireInt("offset");
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && x.shape[d] != y.shape[d])
      fail(k, "the update " + shapeStr(x.shape) + " and the state " +
                  shapeStr(y.shape) + " differ outside the axis");
  if (offset < 0 || x.shape[axis] > y.shape[axis] - offset)
    fail(k, "the update's " + std::to_string(x.shape[axis]) +
                " entries at offset " + std::to_string(offset) +
                " do not fit the state's " + std::to_string(y.shape[axis]));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= y.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= y.shape[d];
  size_t es = dtypeSize(y.dtype);
  size_t block = size_t(x.shape[axis] * inner) * es;
  size_t row = size_t(y.shape[axis] * inner) * es;
  size_t at = size_t(offset * inner) * es;
  for (int64_t o = 0; o < outer && block; ++o)
    std::memcpy(y.as<char>() + size_t(o) * row + at,
                x.as<char>() + size_t(o) * block, block);
}

void split(KernelArgs &a) {
  const char *k = "split";
  checkArity(k, a, 1, 2, 1, size_t(-1));
  const TensorRef &x = a.inputs[0];
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", 0), rank);
  int64_t n = int64_t(a.outputs.size()), dim = x.shape[axis];
  std::vector<int64_t> sizes;
  if (hasInput(a, 1) && a.inputs[1].numElements() > 0) {
    sizes = loadInts(k, a.inputs[1]);
    if (int64_t(sizes.size()) != n)
      fail(k, "split has " + std::to_string(sizes.size()) + " entries for " +
                  std::to_string(n) + " outputs");
  } else {
    // Equal parts; the last one is smaller when the axis does not divide.
    int64_t part = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(part, dim - i * part)));
  }
  int64_t total = 0;
  for (int64_t s : sizes)
    total += s;
  if (total != dim)
    fail(k, "split sizes sum to " + std::to_string(total) + ", axis has " +
                std::to_string(dim));
  int64_t start = 0;
  std::vector<int64_t> strides = stridesOf(x.shape);
  for (int64_t i = 0; i < n; ++i) {
    const TensorRef &y = a.outputs[i];
    Shape want = x.shape;
    want[axis] = sizes[i];
    checkDType(k, "output", y, x.dtype);
    checkShape(k, "output", y, want);
    gatherStrided(x, y, strides, start * strides[axis]);
    start += sizes[i];
  }
}

void slice(KernelArgs &a) {
  const char *k = "slice";
  checkArity(k, a, 3, 5, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  std::vector<int64_t> starts = loadInts(k, a.inputs[1]);
  std::vector<int64_t> ends = loadInts(k, a.inputs[2]);
  std::vector<int64_t> axes, steps;
  if (hasInput(a, 3))
    axes = loadInts(k, a.inputs[3]);
  else
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(int64_t(i));
  if (hasInput(a, 4))
    steps = loadInts(k, a.inputs[4]);
  else
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    fail(k, "starts, ends, axes and steps must have the same length");
  Shape want = x.shape;
  std::vector<int64_t> inStrides = stridesOf(x.shape), src = inStrides;
  int64_t base = 0;
  std::vector<bool> seen(size_t(rank), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t d = normalizeAxis(k, axes[i], rank);
    if (seen[d])
      fail(k, "axis " + std::to_string(axes[i]) + " sliced twice");
    seen[d] = true;
    int64_t dim = x.shape[d], step = steps[i];
    if (step == 0)
      fail(k, "step must not be 0");
    int64_t s = starts[i], e = ends[i];
    s = s < 0 ? s + dim : s;
    e = e < 0 ? e + dim : e;
    int64_t count;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + step - 1) / step : 0;
    } else if (dim == 0) {
      count = 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    want[d] = count;
    if (count > 0)
      base += s * inStrides[d];
    src[d] = inStrides[d] * step;
  }
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  gatherStrided(x, y, src, base);
}

void expand(KernelArgs &a) {
  const char *k = "expand";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  Shape want = broadcastShapes(k, {x.shape, loadInts(k, a.inputs[1])});
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  gatherStrided(x, y, broadcastStrides(x.shape, want));
}

void tile(KernelArgs &a) {
  const char *k = "tile";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  std::vector<int64_t> reps = loadInts(k, a.inputs[1]);
  if (reps.size() != x.rank())
    fail(k, "repeats has " + std::to_string(reps.size()) +
                " entries for rank " + std::to_string(x.rank()));
  Shape want = x.shape;
  for (size_t d = 0; d < want.size(); ++d)
    want[d] *= reps[d];
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  size_t es = dtypeSize(x.dtype);
  std::vector<int64_t> inStrides = stridesOf(x.shape), idx(want.size(), 0);
  if (y.numElements() == 0)
    return;
  int64_t o = 0;
  do {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      off += (idx[d] % x.shape[d]) * inStrides[d];
    copyElem(y.as<char>() + o++ * es, x.as<char>() + off * es, es);
  } while (nextIndex(idx, want));
}

void pad(KernelArgs &a) {
  const char *k = "pad";
  checkArity(k, a, 2, 4, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  std::string mode = a.attrs.getString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    fail(k, "unsupported mode '" + mode + "'");
  std::vector<int64_t> pads = loadInts(k, a.inputs[1]);
  std::vector<int64_t> axes;
  if (hasInput(a, 3))
    axes = loadInts(k, a.inputs[3]);
  else
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  if (pads.size() != 2 * axes.size())
    fail(k, "pads has " + std::to_string(pads.size()) + " entries for " +
                std::to_string(axes.size()) + " axes");
  std::vector<int64_t> before(size_t(rank), 0), after(size_t(rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t d = normalizeAxis(k, axes[i], rank);
    before[d] = pads[i];
    after[d] = pads[i + axes.size()];
  }
  Shape want = x.shape;
  for (int64_t d = 0; d < rank; ++d)
    want[d] += before[d] + after[d];
  checkDType(k, "output", y, x.dtype);
  checkShape(k, "output", y, want);
  size_t es = dtypeSize(x.dtype);
  // The fill value in the output's dtype (constant mode).
  std::vector<char> fill(es, 0);
  if (mode == "constant" && hasInput(a, 2) && a.inputs[2].numElements() > 0) {
    checkDType(k, "constant_value", a.inputs[2], x.dtype);
    std::memcpy(fill.data(), a.inputs[2].data, es);
  }
  if (y.numElements() == 0)
    return;
  if (x.numElements() == 0 && mode != "constant")
    fail(k, "cannot " + mode + "-pad an empty tensor");
  std::vector<int64_t> inStrides = stridesOf(x.shape), idx(size_t(rank), 0);
  int64_t o = 0;
  do {
    int64_t off = 0;
    bool inside = true;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t i = idx[d] - before[d], n = x.shape[d];
      if (i < 0 || i >= n) {
        if (mode == "constant") {
          inside = false;
          break;
        }
        if (mode == "edge") {
          i = i < 0 ? 0 : n - 1;
        } else if (n == 1) {
          i = 0;
        } else { // reflect without repeating the edge
          int64_t period = 2 * (n - 1);
          i = ((i % period) + period) % period;
          if (i >= n)
            i = period - i;
        }
      }
      off += i * inStrides[d];
    }
    copyElem(y.as<char>() + o++ * es,
             inside ? x.as<char>() + off * es : fill.data(), es);
  } while (nextIndex(idx, want));
}

void shape(KernelArgs &a) {
  const char *k = "shape";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  int64_t rank = int64_t(x.rank());
  int64_t start = a.attrs.getInt("start", 0);
  int64_t end = a.attrs.getInt("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  int64_t n = std::max<int64_t>(end - start, 0);
  checkDType(k, "output", y, DType::I64);
  checkShape(k, "output", y, {n});
  for (int64_t i = 0; i < n; ++i)
    y.as<int64_t>()[i] = x.shape[start + i];
}

void size(KernelArgs &a) {
  checkArity("size", a, 1, 1, 1, 1);
  checkDType("size", "output", a.outputs[0], DType::I64);
  checkShape("size", "output", a.outputs[0], {});
  a.outputs[0].as<int64_t>()[0] = a.inputs[0].numElements();
}

void constantOfShape(KernelArgs &a) {
  const char *k = "constant_of_shape";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &y = a.outputs[0];
  checkShape(k, "output", y, loadInts(k, a.inputs[0]));
  const Tensor *value = a.attrs.getTensor("value");
  size_t es = dtypeSize(y.dtype);
  std::vector<char> fill(es, 0); // default: 0 (f32)
  if (value) {
    if (value->numElements() != 1)
      fail(k, "value must have exactly one element");
    if (value->dtype != y.dtype)
      fail(k, std::string("value has dtype ") + dtypeName(value->dtype) +
                  ", output has " + dtypeName(y.dtype));
    std::memcpy(fill.data(), value->bytes.data(), es);
  } else {
    checkDType(k, "output", y, DType::F32);
  }
  for (int64_t i = 0, n = y.numElements(); i < n; ++i)
    copyElem(y.as<char>() + i * es, fill.data(), es);
}

void range(KernelArgs &a) {
  const char *k = "range";
  checkArity(k, a, 3, 3, 1, 1);
  const TensorRef &y = a.outputs[0];
  for (const TensorRef &in : a.inputs) {
    if (in.numElements() != 1)
      fail(k, "start, limit and delta must be scalars");
    checkDType(k, "start/limit/delta", in, y.dtype);
  }
  dispatch<kFloats | kSignedInts>(k, y.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    C start = C(a.inputs[0].as<T>()[0]);
    C limit = C(a.inputs[1].as<T>()[0]);
    C delta = C(a.inputs[2].as<T>()[0]);
    if (delta == C(0))
      fail(k, "delta must not be 0");
    int64_t n = std::max<int64_t>(
        int64_t(std::ceil((double(limit) - double(start)) / double(delta))), 0);
    checkShape(k, "output", y, {n});
    T *py = y.as<T>();
    // Accumulate like the ONNX reference (start, start + delta, ...).
    C v = start;
    for (int64_t i = 0; i < n; ++i) {
      py[i] = toT<T>(v);
      v = C(v + delta);
    }
  });
}

void eyeLike(KernelArgs &a) {
  const char *k = "eye_like";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.rank() != 2)
    fail(k, "input must be 2-D, got " + shapeStr(x.shape));
  checkShape(k, "output", y, x.shape);
  if (auto dt = a.attrs.getDType("dtype"))
    checkDType(k, "output", y, *dt);
  int64_t diag = a.attrs.getInt("k", 0);
  std::memset(y.data, 0, y.byteSize());
  for (int64_t i = 0; i < x.shape[0]; ++i) {
    int64_t j = i + diag;
    if (j >= 0 && j < x.shape[1])
      storeDouble(y, i * x.shape[1] + j, 1.0);
  }
}

/// DepthToSpace (toSpace) and SpaceToDepth on NCHW tensors.
void depthSpace(std::string_view k, KernelArgs &a, bool toSpace) {
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.rank() != 4)
    fail(k, "input must be 4-D (NCHW), got " + shapeStr(x.shape));
  int64_t b = a.attrs.requireInt("blocksize");
  if (b <= 0)
    fail(k, "blocksize must be positive");
  bool crd = a.attrs.getString("mode", "DCR") == "CRD";
  int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  // Work in the space-side coordinates: (N, C', H', W') with C' = channels of
  // the space tensor, and map each space element to its depth element.
  int64_t cs, hs, ws;
  if (toSpace) {
    if (c % (b * b))
      fail(k, "channels must be divisible by blocksize^2");
    cs = c / (b * b), hs = h * b, ws = w * b;
    checkShape(k, "output", y, {n, cs, hs, ws});
  } else {
    if (h % b || w % b)
      fail(k, "height and width must be divisible by blocksize");
    cs = c, hs = h, ws = w;
    checkShape(k, "output", y, {n, c * b * b, h / b, w / b});
  }
  checkDType(k, "output", y, x.dtype);
  int64_t hd = hs / b, wd = ws / b, cd = cs * b * b;
  size_t es = dtypeSize(x.dtype);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < cs; ++ic)
      for (int64_t ih = 0; ih < hs; ++ih)
        for (int64_t iw = 0; iw < ws; ++iw) {
          int64_t bi = ih % b, bj = iw % b;
          int64_t dc = crd ? (ic * b + bi) * b + bj : (bi * b + bj) * cs + ic;
          int64_t space = ((in * cs + ic) * hs + ih) * ws + iw;
          int64_t depth = ((in * cd + dc) * hd + ih / b) * wd + iw / b;
          if (toSpace)
            copyElem(y.as<char>() + space * es, x.as<char>() + depth * es, es);
          else
            copyElem(y.as<char>() + depth * es, x.as<char>() + space * es, es);
        }
}

void dropout(KernelArgs &a) {
  const char *k = "dropout";
  checkArity(k, a, 1, 3, 1, 2);
  bool training = hasInput(a, 2) && a.inputs[2].numElements() > 0 &&
                  loadInt(a.inputs[2], 0) != 0;
  double ratio = hasInput(a, 1) && a.inputs[1].numElements() > 0
                     ? loadDouble(a.inputs[1], 0)
                     : 0.5;
  if (training && ratio != 0)
    fail(k, "training mode with a non-zero ratio is not supported");
  copyReshaped(k, a.inputs[0], a.outputs[0], a.inputs[0].shape);
  if (hasOutput(a, 1)) {
    const TensorRef &mask = a.outputs[1];
    checkDType(k, "mask", mask, DType::Bool);
    checkShape(k, "mask", mask, a.inputs[0].shape);
    std::memset(mask.data, 1, mask.byteSize());
  }
}

} // namespace

void registerTensorShapeKernels(KernelRegistry &r) {
  addReference(r, "identity", identity);
  addReference(r, "reshape", reshape);
  addReference(r, "flatten", flatten);
  addReference(r, "squeeze", squeeze);
  addReference(r, "unsqueeze", unsqueeze);
  addReference(r, "transpose", transpose);
  addReference(r, "concat", concat);
  addReference(r, "state_write", stateWrite);
  addReference(r, "split", split);
  addReference(r, "slice", slice);
  addReference(r, "expand", expand);
  addReference(r, "tile", tile);
  addReference(r, "pad", pad);
  addReference(r, "shape", shape);
  addReference(r, "size", size);
  addReference(r, "constant_of_shape", constantOfShape);
  addReference(r, "range", range);
  addReference(r, "eye_like", eyeLike);
  addReference(r, "depth_to_space", [](KernelArgs &a) {
    depthSpace("depth_to_space", a, /*toSpace=*/true);
  });
  addReference(r, "space_to_depth", [](KernelArgs &a) {
    depthSpace("space_to_depth", a, /*toSpace=*/false);
  });
  addReference(r, "dropout", dropout);
}

} // namespace loom::rt
