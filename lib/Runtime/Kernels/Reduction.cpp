//===- Reduction.cpp - Reduce* and ArgMax/ArgMin ---------------------------===//
//
// Opset-17 forms: every Reduce* takes `axes` as an attribute except ReduceSum,
// which takes it as an optional second input. Floats accumulate in double,
// integers in their own type.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "KernelUtil.h"

#include <limits>

namespace loom::rt {
using namespace kern;

namespace {

enum class Reduce { L1, L2, LogSum, LogSumExp, Max, Mean, Min, Prod, Sum, SumSquare };

/// The reduced axes of a Reduce* call as a per-dimension mask, or nullopt for
/// "copy the input" (empty axes with noop_with_empty_axes).
std::optional<std::vector<bool>> reducedAxes(std::string_view k,
                                             const KernelArgs &a,
                                             bool axesInput, int64_t rank) {
  std::vector<int64_t> axes;
  if (axesInput) {
    if (hasInput(a, 1))
      axes = loadInts(k, a.inputs[1]);
  } else {
    axes = a.attrs.getInts("axes");
  }
  std::vector<bool> mask(size_t(rank), axes.empty());
  if (axes.empty() && a.attrs.getInt("noop_with_empty_axes", 0) != 0)
    return std::nullopt;
  for (int64_t ax : axes) {
    int64_t d = normalizeAxis(k, ax, rank);
    if (mask[d])
      fail(k, "axis " + std::to_string(ax) + " listed twice");
    mask[d] = true;
  }
  return mask;
}

void reduce(std::string_view k, KernelArgs &a, Reduce kind, bool axesInput) {
  checkArity(k, a, 1, axesInput ? 2 : 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkDType(k, "output", y, x.dtype);
  int64_t rank = int64_t(x.rank());
  auto mask = reducedAxes(k, a, axesInput, rank);
  if (!mask) {
    checkShape(k, "output", y, x.shape);
    std::memcpy(y.data, x.data, x.byteSize());
    return;
  }
  bool keepdims = a.attrs.getInt("keepdims", 1) != 0;
  Shape kept, want;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    kept.push_back((*mask)[d] ? 1 : x.shape[d]);
    if ((*mask)[d])
      count *= x.shape[d];
    if (!(*mask)[d] || keepdims)
      want.push_back(kept.back());
  }
  checkShape(k, "output", y, want);
  // Output offset of each input element: strides of `kept` with 0 along the
  // reduced dimensions.
  std::array<std::vector<int64_t>, 1> strides = {broadcastStrides(kept, x.shape)};
  for (int64_t d = 0; d < rank; ++d)
    if ((*mask)[d])
      strides[0][d] = 0;

  dispatch<kNumeric>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = std::conditional_t<isFloatT<T>, double, T>;
    Acc init = Acc(0);
    if (kind == Reduce::Prod)
      init = Acc(1);
    else if (kind == Reduce::Max)
      init = isFloatT<T> ? Acc(-std::numeric_limits<double>::infinity())
                         : std::numeric_limits<Acc>::lowest();
    else if (kind == Reduce::Min)
      init = isFloatT<T> ? Acc(std::numeric_limits<double>::infinity())
                         : std::numeric_limits<Acc>::max();
    std::vector<Acc> acc(static_cast<size_t>(y.numElements()), init);
    const T *px = x.as<T>();
    forEachBroadcast<1>(x.shape, strides, [&](int64_t i, const auto &off) {
      Acc v = Acc(ComputeT<T>(px[i]));
      Acc &s = acc[off[0]];
      switch (kind) {
      case Reduce::L1: s += absOf(v); break;
      case Reduce::L2:
      case Reduce::SumSquare: s += v * v; break;
      case Reduce::LogSumExp: s += Acc(std::exp(double(v))); break;
      case Reduce::Max: s = (v > s || isNaN(v)) ? v : s; break;
      case Reduce::Min: s = (v < s || isNaN(v)) ? v : s; break;
      case Reduce::Prod: s *= v; break;
      case Reduce::LogSum:
      case Reduce::Mean:
      case Reduce::Sum: s += v; break;
      }
    });
    T *py = y.as<T>();
    for (size_t o = 0; o < acc.size(); ++o) {
      Acc s = acc[o];
      switch (kind) {
      case Reduce::L2: s = Acc(std::sqrt(double(s))); break;
      case Reduce::LogSum:
      case Reduce::LogSumExp: s = Acc(std::log(double(s))); break;
      case Reduce::Mean: s = Acc(double(s) / double(count)); break;
      default: break;
      }
      py[o] = toT<T>(ComputeT<T>(s));
    }
  });
}

/// ArgMax (isMax) / ArgMin over one axis; the first (or, with
/// select_last_index, the last) extreme wins. Output is int64.
void argExtreme(std::string_view k, KernelArgs &a, bool isMax) {
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkDType(k, "output", y, DType::I64);
  int64_t rank = int64_t(x.rank());
  int64_t axis = normalizeAxis(k, a.attrs.getInt("axis", 0), rank);
  bool keepdims = a.attrs.getInt("keepdims", 1) != 0;
  bool last = a.attrs.getInt("select_last_index", 0) != 0;
  Shape want;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      want.push_back(x.shape[d]);
    else if (keepdims)
      want.push_back(1);
  checkShape(k, "output", y, want);
  int64_t outer = 1, len = x.shape[axis], inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  if (len == 0 && outer * inner > 0)
    fail(k, "cannot take the arg extreme of an empty axis");
  dispatch<kNumeric>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T *px = x.as<T>();
    int64_t *py = y.as<int64_t>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        int64_t best = 0;
        C bestV = C(px[o * len * inner + in]);
        for (int64_t j = 1; j < len; ++j) {
          C v = C(px[(o * len + j) * inner + in]);
          bool better = isMax ? (v > bestV || (last && v == bestV))
                              : (v < bestV || (last && v == bestV));
          if (better) {
            best = j;
            bestV = v;
          }
        }
        py[o * inner + in] = best;
      }
  });
}

} // namespace

void registerReductionKernels(KernelRegistry &r) {
  struct Entry {
    const char *name;
    Reduce kind;
  };
  static const Entry entries[] = {
      {"reduce_l1", Reduce::L1},         {"reduce_l2", Reduce::L2},
      {"reduce_log_sum", Reduce::LogSum}, {"reduce_log_sum_exp", Reduce::LogSumExp},
      {"reduce_max", Reduce::Max},       {"reduce_mean", Reduce::Mean},
      {"reduce_min", Reduce::Min},       {"reduce_prod", Reduce::Prod},
      {"reduce_sum", Reduce::Sum},       {"reduce_sum_square", Reduce::SumSquare}};
  for (const Entry &e : entries) {
    std::string name = e.name;
    Reduce kind = e.kind;
    bool axesInput = kind == Reduce::Sum; // ReduceSum-13 takes axes as input
    addReference(r, name, [name, kind, axesInput](KernelArgs &a) {
      reduce(name, a, kind, axesInput);
    });
  }
  addReference(r, "arg_max",
               [](KernelArgs &a) { argExtreme("arg_max", a, /*isMax=*/true); });
  addReference(r, "arg_min",
               [](KernelArgs &a) { argExtreme("arg_min", a, /*isMax=*/false); });
}

} // namespace loom::rt
