//===- MathElementwise.cpp - Unary, binary and variadic elementwise math --===//
//
// Reference kernels for the elementwise ONNX ops: unary math, activations,
// numpy-broadcasting binary arithmetic/logic/comparison ops and the variadic
// Max/Min/Sum/Mean. Float ops compute in double (16-bit floats go through
// float); integer ops compute in the element type.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "KernelUtil.h"

#include <limits>

namespace loom::rt {
using namespace kern;

namespace {

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// y[i] = op(x[i]) for the dtypes in `Set`; y has x's shape and dtype.
template <unsigned Set, typename Op>
void mapUnary(std::string_view k, KernelArgs &a, Op op) {
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkShape(k, "output", y, x.shape);
  checkDType(k, "output", y, x.dtype);
  dispatch<Set>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *px = x.as<T>();
    T *py = y.as<T>();
    int64_t n = x.numElements();
    for (int64_t i = 0; i < n; ++i)
      py[i] = toT<T>(op(ComputeT<T>(px[i])));
  });
}

/// Registers a float-only unary op computed in double.
void addFloatUnary(KernelRegistry &r, const char *name, double (*op)(double)) {
  std::string k = name;
  addReference(r, k, [k, op](KernelArgs &a) { mapUnary<kFloats>(k, a, op); });
}

/// y[i] = pred(x[i]) with a bool output, for float inputs.
template <typename Pred>
void mapFloatPredicate(std::string_view k, KernelArgs &a, Pred pred) {
  checkArity(k, a, 1, 1, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  checkShape(k, "output", y, x.shape);
  checkDType(k, "output", y, DType::Bool);
  dispatch<kFloats>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *px = x.as<T>();
    bool *py = y.as<bool>();
    for (int64_t i = 0, n = x.numElements(); i < n; ++i)
      py[i] = pred(double(ComputeT<T>(px[i])));
  });
}

void registerUnary(KernelRegistry &r) {
  addFloatUnary(r, "acos", [](double x) { return std::acos(x); });
  addFloatUnary(r, "acosh", [](double x) { return std::acosh(x); });
  addFloatUnary(r, "asin", [](double x) { return std::asin(x); });
  addFloatUnary(r, "asinh", [](double x) { return std::asinh(x); });
  addFloatUnary(r, "atan", [](double x) { return std::atan(x); });
  addFloatUnary(r, "atanh", [](double x) { return std::atanh(x); });
  addFloatUnary(r, "ceil", [](double x) { return std::ceil(x); });
  addFloatUnary(r, "cos", [](double x) { return std::cos(x); });
  addFloatUnary(r, "cosh", [](double x) { return std::cosh(x); });
  addFloatUnary(r, "erf", [](double x) { return std::erf(x); });
  addFloatUnary(r, "exp", [](double x) { return std::exp(x); });
  addFloatUnary(r, "floor", [](double x) { return std::floor(x); });
  addFloatUnary(r, "log", [](double x) { return std::log(x); });
  addFloatUnary(r, "reciprocal", [](double x) { return 1.0 / x; });
  // nearbyint rounds half to even in the default rounding mode.
  addFloatUnary(r, "round", [](double x) { return std::nearbyint(x); });
  addFloatUnary(r, "sin", [](double x) { return std::sin(x); });
  addFloatUnary(r, "sinh", [](double x) { return std::sinh(x); });
  addFloatUnary(r, "sqrt", [](double x) { return std::sqrt(x); });
  addFloatUnary(r, "tan", [](double x) { return std::tan(x); });
  addFloatUnary(r, "tanh", [](double x) { return std::tanh(x); });
  addFloatUnary(r, "sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
  addFloatUnary(r, "softsign", [](double x) { return x / (1.0 + std::fabs(x)); });
  addFloatUnary(r, "softplus", [](double x) {
    // log(1 + e^x) without overflow for large x.
    return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  });
  addFloatUnary(r, "hard_swish", [](double x) {
    return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5));
  });

  addReference(r, "abs", [](KernelArgs &a) {
    mapUnary<kNumeric>("abs", a, [](auto x) {
      if constexpr (std::is_unsigned_v<decltype(x)>)
        return x;
      else
        return x < 0 ? decltype(x)(-x) : x;
    });
  });
  addReference(r, "neg", [](KernelArgs &a) {
    mapUnary<kFloats | kSignedInts>("neg", a,
                                    [](auto x) { return decltype(x)(-x); });
  });
  addReference(r, "sign", [](KernelArgs &a) {
    mapUnary<kNumeric>("sign", a, [](auto x) {
      using C = decltype(x);
      if constexpr (std::is_floating_point_v<C>)
        if (std::isnan(x))
          return x;
      return C(x > C(0) ? 1 : (x < C(0) ? -1 : 0));
    });
  });
  addReference(r, "not", [](KernelArgs &a) {
    mapUnary<kBool>("not", a, [](bool x) { return !x; });
  });
  addReference(r, "relu", [](KernelArgs &a) {
    mapUnary<kFloats | kSignedInts>("relu", a, [](auto x) {
      return x > decltype(x)(0) ? x : decltype(x)(0);
    });
  });
  addReference(r, "is_nan", [](KernelArgs &a) {
    mapFloatPredicate("is_nan", a, [](double x) { return std::isnan(x); });
  });
  addReference(r, "is_inf", [](KernelArgs &a) {
    bool neg = a.attrs.getInt("detect_negative", 1) != 0;
    bool pos = a.attrs.getInt("detect_positive", 1) != 0;
    mapFloatPredicate("is_inf", a, [&](double x) {
      return std::isinf(x) && ((x > 0 && pos) || (x < 0 && neg));
    });
  });

  // Activations with attributes.
  addReference(r, "leaky_relu", [](KernelArgs &a) {
    double alpha = a.attrs.getFloat("alpha", 0.01);
    mapUnary<kFloats>("leaky_relu", a,
                      [&](double x) { return x < 0 ? alpha * x : x; });
  });
  addReference(r, "elu", [](KernelArgs &a) {
    double alpha = a.attrs.getFloat("alpha", 1.0);
    mapUnary<kFloats>("elu", a, [&](double x) {
      return x < 0 ? alpha * (std::exp(x) - 1.0) : x;
    });
  });
  addReference(r, "selu", [](KernelArgs &a) {
    double alpha = a.attrs.getFloat("alpha", 1.67326319217681884765625);
    double gamma = a.attrs.getFloat("gamma", 1.05070102214813232421875);
    mapUnary<kFloats>("selu", a, [&](double x) {
      return gamma * (x > 0 ? x : alpha * (std::exp(x) - 1.0));
    });
  });
  addReference(r, "celu", [](KernelArgs &a) {
    double alpha = a.attrs.getFloat("alpha", 1.0);
    mapUnary<kFloats>("celu", a, [&](double x) {
      return std::max(0.0, x) +
             std::min(0.0, alpha * (std::exp(x / alpha) - 1.0));
    });
  });
  addReference(r, "hard_sigmoid", [](KernelArgs &a) {
    double alpha = a.attrs.getFloat("alpha", 0.2);
    double beta = a.attrs.getFloat("beta", 0.5);
    mapUnary<kFloats>("hard_sigmoid", a, [&](double x) {
      return std::max(0.0, std::min(1.0, alpha * x + beta));
    });
  });
  addReference(r, "shrink", [](KernelArgs &a) {
    double lambd = a.attrs.getFloat("lambd", 0.5);
    double bias = a.attrs.getFloat("bias", 0.0);
    mapUnary<kNumeric>("shrink", a, [&](auto x) {
      double v = double(x);
      return v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0);
    });
  });
  addReference(r, "thresholded_relu", [](KernelArgs &a) {
    double alpha = a.attrs.getFloat("alpha", 1.0);
    mapUnary<kFloats>("thresholded_relu", a,
                      [&](double x) { return x > alpha ? x : 0.0; });
  });
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

/// out = op(a, b) elementwise with numpy broadcasting; T is the input storage
/// type and R the output storage type. `out` may alias `a` when it has a's
/// shape (used by the variadic ops).
template <typename T, typename R, typename Op>
void binaryLoop(const TensorRef &a, const TensorRef &b, const TensorRef &out,
                Op op) {
  const T *pa = a.as<T>();
  const T *pb = b.as<T>();
  R *po = out.as<R>();
  std::array<std::vector<int64_t>, 2> strides = {
      broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape)};
  forEachBroadcast<2>(out.shape, strides, [&](int64_t o, const auto &off) {
    po[o] = toT<R>(op(ComputeT<T>(pa[off[0]]), ComputeT<T>(pb[off[1]])));
  });
}

/// Checks a binary op's operands and output; `outDType` empty = A's dtype.
void checkBinary(std::string_view k, const KernelArgs &a,
                 std::optional<DType> outDType = std::nullopt) {
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.inputs[1], &z = a.outputs[0];
  if (x.dtype != y.dtype)
    fail(k, std::string("operand dtypes differ: ") + dtypeName(x.dtype) +
                " and " + dtypeName(y.dtype));
  checkShape(k, "output", z, broadcastShapes(k, {x.shape, y.shape}));
  checkDType(k, "output", z, outDType.value_or(x.dtype));
}

/// A binary op whose output has the operands' dtype.
template <unsigned Set, typename Op>
void mapBinary(std::string_view k, KernelArgs &a, Op op) {
  checkBinary(k, a);
  dispatch<Set>(k, a.inputs[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binaryLoop<T, T>(a.inputs[0], a.inputs[1], a.outputs[0], op);
  });
}

/// A binary op with a bool output (comparisons).
template <unsigned Set, typename Op>
void mapCompare(std::string_view k, KernelArgs &a, Op op) {
  checkBinary(k, a, DType::Bool);
  dispatch<Set>(k, a.inputs[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binaryLoop<T, bool>(a.inputs[0], a.inputs[1], a.outputs[0], op);
  });
}

/// Python-style modulo (the result has the divisor's sign).
template <typename C> C floorMod(C x, C y) {
  if constexpr (std::is_floating_point_v<C>) {
    C r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0)))
      r += y;
    return r;
  } else if constexpr (std::is_unsigned_v<C>) {
    return x % y;
  } else {
    C r = C(x % y);
    if (r != 0 && ((r < 0) != (y < 0)))
      r = C(r + y);
    return r;
  }
}

/// max/min that propagate NaN like numpy.
template <typename C> C maxOf(C x, C y) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(y))
      return y;
  return x < y ? y : x;
}
template <typename C> C minOf(C x, C y) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(y))
      return y;
  return y < x ? y : x;
}

void pow(KernelArgs &a) {
  const char *k = "pow";
  checkArity(k, a, 2, 2, 1, 1);
  const TensorRef &x = a.inputs[0], &y = a.inputs[1], &z = a.outputs[0];
  checkShape(k, "output", z, broadcastShapes(k, {x.shape, y.shape}));
  checkDType(k, "output", z, x.dtype);
  // The exponent may have any numeric dtype: read it as double once.
  std::vector<double> expo(static_cast<size_t>(y.numElements()));
  for (size_t i = 0; i < expo.size(); ++i)
    expo[i] = loadDouble(y, int64_t(i));
  TensorRef ye{DType::F64, y.shape, expo.data(), true};
  dispatch<kNumeric>(k, x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *px = x.as<T>();
    T *pz = z.as<T>();
    std::array<std::vector<int64_t>, 2> strides = {
        broadcastStrides(x.shape, z.shape), broadcastStrides(ye.shape, z.shape)};
    forEachBroadcast<2>(z.shape, strides, [&](int64_t o, const auto &off) {
      double v = std::pow(double(ComputeT<T>(px[off[0]])), expo[off[1]]);
      pz[o] = toT<T>(ComputeT<T>(v));
    });
  });
}

void registerBinary(KernelRegistry &r) {
  addReference(r, "add", [](KernelArgs &a) {
    mapBinary<kNumeric>("add", a, [](auto x, auto y) { return x + y; });
  });
  addReference(r, "sub", [](KernelArgs &a) {
    mapBinary<kNumeric>("sub", a, [](auto x, auto y) { return x - y; });
  });
  addReference(r, "mul", [](KernelArgs &a) {
    mapBinary<kNumeric>("mul", a, [](auto x, auto y) { return x * y; });
  });
  addReference(r, "div", [](KernelArgs &a) {
    mapBinary<kNumeric>("div", a, [](auto x, auto y) {
      if constexpr (std::is_integral_v<decltype(y)>)
        if (y == 0)
          fail("div", "integer division by zero");
      return x / y; // integer division truncates toward zero
    });
  });
  addReference(r, "mod", [](KernelArgs &a) {
    bool useFmod = a.attrs.getInt("fmod", 0) != 0;
    mapBinary<kNumeric>("mod", a, [&](auto x, auto y) {
      using C = decltype(x);
      if constexpr (std::is_integral_v<C>)
        if (y == 0)
          fail("mod", "integer modulo by zero");
      if (!useFmod)
        return floorMod<C>(x, y);
      if constexpr (std::is_floating_point_v<C>)
        return C(std::fmod(x, y));
      else
        return C(x % y); // C++ % truncates like fmod
    });
  });
  addReference(r, "pow", pow);
  addReference(r, "prelu", [](KernelArgs &a) {
    // Slope broadcasts unidirectionally to X, so the output has X's shape.
    mapBinary<kFloats | kSignedInts | kUnsignedInts>(
        "prelu", a, [](auto x, auto slope) {
          return x < decltype(x)(0) ? decltype(x)(slope * x) : x;
        });
    if (a.outputs[0].shape != a.inputs[0].shape)
      fail("prelu", "slope must broadcast to the shape of X");
  });
  addReference(r, "and", [](KernelArgs &a) {
    mapBinary<kBool>("and", a, [](bool x, bool y) { return x && y; });
  });
  addReference(r, "or", [](KernelArgs &a) {
    mapBinary<kBool>("or", a, [](bool x, bool y) { return x || y; });
  });
  addReference(r, "xor", [](KernelArgs &a) {
    mapBinary<kBool>("xor", a, [](bool x, bool y) { return x != y; });
  });
  addReference(r, "bit_shift", [](KernelArgs &a) {
    std::string dir = a.attrs.getString("direction", "");
    if (dir != "LEFT" && dir != "RIGHT")
      fail("bit_shift", "direction must be LEFT or RIGHT, got '" + dir + "'");
    bool left = dir == "LEFT";
    mapBinary<kUnsignedInts>("bit_shift", a, [&](auto x, auto y) {
      using C = decltype(x);
      if (y >= C(sizeof(C) * 8))
        return C(0);
      return C(left ? x << y : x >> y);
    });
  });
  addReference(r, "equal", [](KernelArgs &a) {
    mapCompare<kAll>("equal", a, [](auto x, auto y) { return x == y; });
  });
  addReference(r, "greater", [](KernelArgs &a) {
    mapCompare<kNumeric>("greater", a, [](auto x, auto y) { return x > y; });
  });
  addReference(r, "greater_or_equal", [](KernelArgs &a) {
    mapCompare<kNumeric>("greater_or_equal", a,
                         [](auto x, auto y) { return x >= y; });
  });
  addReference(r, "less", [](KernelArgs &a) {
    mapCompare<kNumeric>("less", a, [](auto x, auto y) { return x < y; });
  });
  addReference(r, "less_or_equal", [](KernelArgs &a) {
    mapCompare<kNumeric>("less_or_equal", a,
                         [](auto x, auto y) { return x <= y; });
  });
}

//===----------------------------------------------------------------------===//
// Variadic
//===----------------------------------------------------------------------===//

/// out = fold(op, inputs) with numpy broadcasting across all inputs; for Mean
/// the result is divided by the input count.
template <unsigned Set, typename Op>
void mapVariadic(std::string_view k, KernelArgs &a, Op op, bool mean = false) {
  if (a.inputs.empty())
    fail(k, "expected at least one input");
  checkArity(k, a, a.inputs.size(), a.inputs.size(), 1, 1);
  std::vector<Shape> shapes;
  for (const TensorRef &in : a.inputs) {
    if (in.dtype != a.inputs[0].dtype)
      fail(k, "all inputs must have the same dtype");
    shapes.push_back(in.shape);
  }
  const TensorRef &out = a.outputs[0];
  checkShape(k, "output", out, broadcastShapes(k, shapes));
  checkDType(k, "output", out, a.inputs[0].dtype);
  dispatch<Set>(k, out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // out = broadcast(inputs[0]), then out = op(out, inputs[i]) in place.
    binaryLoop<T, T>(a.inputs[0], out, out,
                     [](auto x, auto) { return x; });
    for (size_t i = 1; i < a.inputs.size(); ++i)
      binaryLoop<T, T>(out, a.inputs[i], out, op);
    if (mean) {
      T *po = out.as<T>();
      auto n = ComputeT<T>(a.inputs.size());
      for (int64_t i = 0, e = out.numElements(); i < e; ++i)
        po[i] = toT<T>(ComputeT<T>(po[i]) / n);
    }
  });
}

void registerVariadic(KernelRegistry &r) {
  addReference(r, "max", [](KernelArgs &a) {
    mapVariadic<kNumeric>("max", a, [](auto x, auto y) { return maxOf(x, y); });
  });
  addReference(r, "min", [](KernelArgs &a) {
    mapVariadic<kNumeric>("min", a, [](auto x, auto y) { return minOf(x, y); });
  });
  addReference(r, "sum", [](KernelArgs &a) {
    mapVariadic<kFloats>("sum", a, [](auto x, auto y) { return x + y; });
  });
  addReference(r, "mean", [](KernelArgs &a) {
    mapVariadic<kFloats>("mean", a, [](auto x, auto y) { return x + y; },
                         /*mean=*/true);
  });
}

} // namespace

void registerMathElementwiseKernels(KernelRegistry &r) {
  registerUnary(r);
  registerBinary(r);
  registerVariadic(r);
}

} // namespace loom::rt
