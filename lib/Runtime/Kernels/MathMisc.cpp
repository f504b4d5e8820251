//===- MathMisc.cpp - Cast, Clip, Where, Softmax, CumSum, Trilu, Det ------===//
#include "Families.h"
#include "KernelUtil.h"

#include <limits>

namespace loom::rt {
using namespace kern;

namespace {

//===----------------------------------------------------------------------===//
// Cast / CastLike
//===----------------------------------------------------------------------===//

/// Converts one value: floats to integers truncate toward zero, anything to
/// bool is `!= 0`, 16-bit floats round to nearest even.
template <typename To, typename From> To castValue(From v) {
  auto c = ComputeT<From>(v);
  if constexpr (std::is_same_v<To, bool>)
    return c != ComputeT<From>(0);
  else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>)
    return To(float(c));
  else
    return static_cast<To>(c);
}

/// Casts `in` into `out`, whose dtype is the target type.
void castInto(std::string_view k, const TensorRef &in, const TensorRef &out) {
  checkShape(k, "output", out, in.shape);
  dispatch<kAll>(k, in.dtype, [&](auto fromTag) {
    using From = typename decltype(fromTag)::type;
    dispatch<kAll>(k, out.dtype, [&](auto toTag) {
      using To = typename decltype(toTag)::type;
      const From *src = in.as<From>();
      To *dst = out.as<To>();
      for (int64_t i = 0, n = in.numElements(); i < n; ++i)
        dst[i] = castValue<To>(src[i]);
    });
  });
}

void cast(KernelArgs &a) {
  checkArity("cast", a, 1, 1, 1, 1);
  if (auto to = a.attrs.getDType("to"); to && *to != a.outputs[0].dtype)
    fail("cast", std::string("output dtype ") + dtypeName(a.outputs[0].dtype) +
                     " differs from attribute 'to' (" + dtypeName(*to) + ")");
  castInto("cast", a.inputs[0], a.outputs[0]);
}

void castLike(KernelArgs &a) {
  checkArity("cast_like", a, 2, 2, 1, 1);
  checkDType("cast_like", "output", a.outputs[0], a.inputs[1].dtype);
  castInto("cast_like", a.inputs[0], a.outputs[0]);
}

//===----------------------------------------------------------------------===//
// Clip / Where
//===----------------------------------------------------------------------===//

void clip(KernelArgs &a) {
  const char *k = "clip";
  checkArity(k, a, 1, 3, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkShape(k, "output", y, x.shape);
  checkDType(k, "output", y, x.dtype);
  auto bound = [&](size_t i) -> const TensorRef * {
    if (!hasInput(a, i) || a.inputs[i].numElements() == 0)
      return nullptr;
    if (a.inputs[i].numElements() != 1)
      fail(k, "min/max must be scalars");
    if (a.inputs[i].dtype != x.dtype)
      fail(k, "min/max must have the input's dtype");
    return &a.inputs[i];
  };
  const TensorRef *lo = bound(1), *hi = bound(2);
  dispatch<kNumeric>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    C vmin = lo ? C(lo->as<T>()[0]) : std::numeric_limits<C>::lowest();
    C vmax = hi ? C(hi->as<T>()[0]) : std::numeric_limits<C>::max();
    const T *px = x.as<T>();
    T *py = y.as<T>();
    for (int64_t i = 0, n = x.numElements(); i < n; ++i) {
      C v = C(px[i]);
      v = v < vmin ? vmin : v;
      v = v > vmax ? vmax : v;
      py[i] = toT<T>(v);
    }
  });
}

void where(KernelArgs &a) {
  const char *k = "where";
  checkArity(k, a, 3, 3, 1, 1);
  const TensorRef &c = a.inputs[0], &x = a.inputs[1], &y = a.inputs[2];
  const TensorRef &out = a.outputs[0];
  checkDType(k, "condition", c, DType::Bool);
  if (x.dtype != y.dtype)
    fail(k, "X and Y must have the same dtype");
  checkDType(k, "output", out, x.dtype);
  checkShape(k, "output", out, broadcastShapes(k, {c.shape, x.shape, y.shape}));
  size_t es = dtypeSize(x.dtype);
  const bool *pc = c.as<bool>();
  const char *px = x.as<char>(), *py = y.as<char>();
  char *po = out.as<char>();
  std::array<std::vector<int64_t>, 3> strides = {
      broadcastStrides(c.shape, out.shape), broadcastStrides(x.shape, out.shape),
      broadcastStrides(y.shape, out.shape)};
  forEachBroadcast<3>(out.shape, strides, [&](int64_t o, const auto &off) {
    const char *src = pc[off[0]] ? px + off[1] * es : py + off[2] * es;
    std::memcpy(po + o * es, src, es);
  });
}

//===----------------------------------------------------------------------===//
// Softmax / LogSoftmax / Hardmax (opset 13: one axis)
//===----------------------------------------------------------------------===//

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

void softmaxLike(std::string_view k, KernelArgs &a, SoftmaxKind kind) {
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkShape(k, "output", y, x.shape);
  checkDType(k, "output", y, x.dtype);
  int64_t rank = int64_t(x.rank());
  if (rank == 0)
    fail(k, "input must have rank >= 1");
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", -1), rank);
  int64_t outer = 1, len = x.shape[axis], inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  dispatch<kFloats>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *px = x.as<T>();
    T *py = y.as<T>();
    std::vector<double> row(static_cast<size_t>(len));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        int64_t base = o * len * inner + in;
        double mx = -std::numeric_limits<double>::infinity();
        int64_t argmax = 0;
        for (int64_t j = 0; j < len; ++j) {
          row[j] = double(ComputeT<T>(px[base + j * inner]));
          if (row[j] > mx) {
            mx = row[j];
            argmax = j;
          }
        }
        if (kind == SoftmaxKind::Hardmax) {
          for (int64_t j = 0; j < len; ++j)
            py[base + j * inner] = toT<T>(ComputeT<T>(j == argmax ? 1 : 0));
          continue;
        }
        double sum = 0;
        for (int64_t j = 0; j < len; ++j)
          sum += std::exp(row[j] - mx);
        for (int64_t j = 0; j < len; ++j) {
          double v = kind == SoftmaxKind::Softmax
                         ? std::exp(row[j] - mx) / sum
                         : row[j] - mx - std::log(sum);
          py[base + j * inner] = toT<T>(ComputeT<T>(v));
        }
      }
  });
}

//===----------------------------------------------------------------------===//
// CumSum / Trilu / Det
//===----------------------------------------------------------------------===//

void cumSum(KernelArgs &a) {
  const char *k = "cum_sum";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkShape(k, "output", y, x.shape);
  checkDType(k, "output", y, x.dtype);
  if (a.inputs[1].numElements() != 1)
    fail(k, "axis must be a scalar");
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, loadInts(k, a.inputs[1])[0], rank);
  bool exclusive = a.attrs.getInt("exclusive", 0) != 0;
  bool reverse = a.attrs.getInt("reverse", 0) != 0;
  int64_t outer = 1, len = x.shape[axis], inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  dispatch<kNumeric>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T *px = x.as<T>();
    T *py = y.as<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        C acc = C(0);
        for (int64_t s = 0; s < len; ++s) {
          int64_t j = reverse ? len - 1 - s : s;
          int64_t idx = (o * len + j) * inner + in;
          C v = C(px[idx]);
          if (exclusive) {
            py[idx] = toT<T>(acc);
            acc = C(acc + v);
          } else {
            acc = C(acc + v);
            py[idx] = toT<T>(acc);
          }
        }
      }
  });
}

void trilu(KernelArgs &a) {
  const char *k = "trilu";
  checkArity(k, a, 1, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkShape(k, "output", y, x.shape);
  checkDType(k, "output", y, x.dtype);
  if (x.rank() < 2)
    fail(k, "input must have rank >= 2");
  bool upper = a.attrs.getInt("upper", 1) != 0;
  int64_t diag = 0;
  if (hasInput(a, 1)) {
    if (a.inputs[1].numElements() != 1)
      fail(k, "k must be a scalar");
    diag = loadInts(k, a.inputs[1])[0];
  }
  int64_t rows = x.shape[x.rank() - 2], cols = x.shape[x.rank() - 1];
  int64_t batch = rows * cols == 0 ? 0 : x.numElements() / (rows * cols);
  size_t es = dtypeSize(x.dtype);
  const char *px = x.as<char>();
  char *py = y.as<char>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        size_t off = size_t((b * rows + i) * cols + j) * es;
        bool keep = upper ? j - i >= diag : j - i <= diag;
        if (keep)
          std::memcpy(py + off, px + off, es);
        else
          std::memset(py + off, 0, es); // zero in every dtype
      }
}

/// Determinant of an n x n row-major matrix by LU with partial pivoting.
double determinant(std::vector<double> m, int64_t n) {
  double det = 1;
  for (int64_t c = 0; c < n; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::fabs(m[r * n + c]) > std::fabs(m[piv * n + c]))
        piv = r;
    if (m[piv * n + c] == 0)
      return 0;
    if (piv != c) {
      for (int64_t j = 0; j < n; ++j)
        std::swap(m[c * n + j], m[piv * n + j]);
      det = -det;
    }
    det *= m[c * n + c];
    for (int64_t r = c + 1; r < n; ++r) {
      double f = m[r * n + c] / m[c * n + c];
      for (int64_t j = c; j < n; ++j)
        m[r * n + j] -= f * m[c * n + j];
    }
  }
  return det;
}

void det(KernelArgs &a) {
  const char *k = "det";
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  size_t rank = x.rank();
  if (rank < 2 || x.shape[rank - 1] != x.shape[rank - 2])
    fail(k, "input must be [*, M, M], got " + shapeStr(x.shape));
  checkShape(k, "output", y, Shape(x.shape.begin(), x.shape.end() - 2));
  checkDType(k, "output", y, x.dtype);
  int64_t n = x.shape[rank - 1];
  int64_t batch = y.numElements();
  dispatch<kFloats>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *px = x.as<T>();
    T *py = y.as<T>();
    std::vector<double> m(size_t(n * n));
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < n * n; ++i)
        m[i] = double(ComputeT<T>(px[b * n * n + i]));
      py[b] = toT<T>(ComputeT<T>(determinant(m, n)));
    }
  });
}

} // namespace

void registerMathKernels(KernelRegistry &r) {
  registerMathElementwiseKernels(r);
  addReference(r, "cast", cast);
  addReference(r, "cast_like", castLike);
  addReference(r, "clip", clip);
  addReference(r, "where", where);
  addReference(r, "softmax", [](KernelArgs &a) {
    softmaxLike("softmax", a, SoftmaxKind::Softmax);
  });
  addReference(r, "log_softmax", [](KernelArgs &a) {
    softmaxLike("log_softmax", a, SoftmaxKind::LogSoftmax);
  });
  addReference(r, "hardmax", [](KernelArgs &a) {
    softmaxLike("hardmax", a, SoftmaxKind::Hardmax);
  });
  addReference(r, "cum_sum", cumSum);
  addReference(r, "trilu", trilu);
  addReference(r, "det", det);
}

} // namespace loom::rt
