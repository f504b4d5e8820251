//===- KernelUtil.h - Shared helpers of the reference kernels ---*- C++ -*-===//
//
// Dtype dispatch (a switch calling a generic functor with the C++ element
// type), index/stride arithmetic, numpy broadcasting, and argument checks that
// throw KernelError messages naming the kernel.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_KERNELUTIL_H
#define LOOM_RUNTIME_KERNELS_KERNELUTIL_H

#include "loom/Runtime/Float16.h"
#include "loom/Runtime/Kernel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace loom::rt::kern {

//===----------------------------------------------------------------------===//
// Errors and checks
//===----------------------------------------------------------------------===//

/// Throws KernelError "<kernel>: <message>".
[[noreturn]] inline void fail(std::string_view kernel, const std::string &msg) {
  throw KernelError{std::string(kernel) + ": " + msg};
}

/// "[2, 3, 4]" for error messages.
inline std::string shapeStr(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

/// Checks the number of inputs (present or not) and outputs.
inline void checkArity(std::string_view kernel, const KernelArgs &args,
                       size_t minIn, size_t maxIn, size_t minOut,
                       size_t maxOut) {
  size_t ni = args.inputs.size(), no = args.outputs.size();
  if (ni < minIn || ni > maxIn)
    fail(kernel, "expected " + std::to_string(minIn) +
                     (maxIn != minIn ? ".." + std::to_string(maxIn) : "") +
                     " inputs, got " + std::to_string(ni));
  if (no < minOut || no > maxOut)
    fail(kernel, "expected " + std::to_string(minOut) +
                     (maxOut != minOut ? ".." + std::to_string(maxOut) : "") +
                     " outputs, got " + std::to_string(no));
  for (size_t i = 0; i < minIn; ++i)
    if (!args.inputs[i].present)
      fail(kernel, "required input " + std::to_string(i) + " is absent");
  for (size_t i = 0; i < minOut; ++i)
    if (!args.outputs[i].present)
      fail(kernel, "required output " + std::to_string(i) + " is absent");
}

/// Whether optional input `i` was given.
inline bool hasInput(const KernelArgs &args, size_t i) {
  return i < args.inputs.size() && args.inputs[i].present;
}

/// Whether optional output `i` is wanted.
inline bool hasOutput(const KernelArgs &args, size_t i) {
  return i < args.outputs.size() && args.outputs[i].present;
}

/// Checks that `t` (described as `what`) has shape `want`.
inline void checkShape(std::string_view kernel, const char *what,
                       const TensorRef &t, const Shape &want) {
  if (t.shape != want)
    fail(kernel, std::string(what) + " has shape " + shapeStr(t.shape) +
                     ", expected " + shapeStr(want));
}

/// Checks that `t` (described as `what`) has dtype `want`.
inline void checkDType(std::string_view kernel, const char *what,
                       const TensorRef &t, DType want) {
  if (t.dtype != want)
    fail(kernel, std::string(what) + " has dtype " + dtypeName(t.dtype) +
                     ", expected " + dtypeName(want));
}

/// Maps a possibly negative axis into [0, rank); throws when out of range.
inline int64_t normalizeAxis(std::string_view kernel, int64_t axis,
                             int64_t rank) {
  if (axis < -rank || axis >= rank)
    fail(kernel, "axis " + std::to_string(axis) + " out of range for rank " +
                     std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Dtype dispatch
//===----------------------------------------------------------------------===//

/// Carries an element type into a generic lambda: `[&](auto tag) { using T =
/// typename decltype(tag)::type; ... }`.
template <typename T> struct Tag {
  using type = T;
};

/// The C++ storage type of each dtype.
template <DType D> struct CTypeOf;
template <> struct CTypeOf<DType::F32> { using type = float; };
template <> struct CTypeOf<DType::F64> { using type = double; };
template <> struct CTypeOf<DType::F16> { using type = Half; };
template <> struct CTypeOf<DType::BF16> { using type = BFloat16; };
template <> struct CTypeOf<DType::I8> { using type = int8_t; };
template <> struct CTypeOf<DType::I16> { using type = int16_t; };
template <> struct CTypeOf<DType::I32> { using type = int32_t; };
template <> struct CTypeOf<DType::I64> { using type = int64_t; };
template <> struct CTypeOf<DType::U8> { using type = uint8_t; };
template <> struct CTypeOf<DType::U16> { using type = uint16_t; };
template <> struct CTypeOf<DType::U32> { using type = uint32_t; };
template <> struct CTypeOf<DType::U64> { using type = uint64_t; };
template <> struct CTypeOf<DType::Bool> { using type = bool; };

/// The type arithmetic on T is done in: float for the 16-bit floats.
template <typename T> struct ComputeOf { using type = T; };
template <> struct ComputeOf<Half> { using type = float; };
template <> struct ComputeOf<BFloat16> { using type = float; };
template <typename T> using ComputeT = typename ComputeOf<T>::type;

template <typename T>
constexpr bool isFloatT = std::is_floating_point_v<T> ||
                          std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

/// NaN test that is false for integer types.
template <typename C> inline bool isNaN(C v) {
  if constexpr (std::is_floating_point_v<C>)
    return std::isnan(v);
  else
    return false;
}

/// |v| that is the identity for unsigned types.
template <typename C> inline C absOf(C v) {
  if constexpr (std::is_unsigned_v<C> || std::is_same_v<C, bool>)
    return v;
  else
    return v < C(0) ? C(-v) : v;
}

/// Converts a compute value back to storage type T.
template <typename T, typename C> inline T toT(C v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    return T(float(v));
  else
    return static_cast<T>(v);
}

/// Dispatch sets. Each calls `f(Tag<T>{})` for the element type of `t`, or
/// throws naming `kernel` when `t` is not in the set.
enum DTypeSet : unsigned {
  kFloats = 1u << 0,   ///< f32 f64 f16 bf16
  kSignedInts = 1u << 1, ///< i8 i16 i32 i64
  kUnsignedInts = 1u << 2, ///< u8 u16 u32 u64
  kBool = 1u << 3,
  kInts = kSignedInts | kUnsignedInts,
  kNumeric = kFloats | kInts,
  kAll = kNumeric | kBool,
};

template <unsigned Set, typename F>
decltype(auto) dispatch(std::string_view kernel, DType t, F &&f) {
#define LOOM_CASE(D, S)                                                        \
  case DType::D:                                                               \
    if constexpr ((Set & (S)) != 0)                                            \
      return f(Tag<typename CTypeOf<DType::D>::type>{});                       \
    break;
  switch (t) {
    LOOM_CASE(F32, kFloats)
    LOOM_CASE(F64, kFloats)
    LOOM_CASE(F16, kFloats)
    LOOM_CASE(BF16, kFloats)
    LOOM_CASE(I8, kSignedInts)
    LOOM_CASE(I16, kSignedInts)
    LOOM_CASE(I32, kSignedInts)
    LOOM_CASE(I64, kSignedInts)
    LOOM_CASE(U8, kUnsignedInts)
    LOOM_CASE(U16, kUnsignedInts)
    LOOM_CASE(U32, kUnsignedInts)
    LOOM_CASE(U64, kUnsignedInts)
    LOOM_CASE(Bool, kBool)
  }
#undef LOOM_CASE
  fail(kernel, std::string("unsupported element type ") + dtypeName(t));
}

/// Reads element `i` of a numeric/bool tensor as double.
inline double loadDouble(const TensorRef &t, int64_t i) {
  return dispatch<kAll>("load", t.dtype, [&](auto tag) -> double {
    using T = typename decltype(tag)::type;
    return double(ComputeT<T>(t.as<T>()[i]));
  });
}

/// Reads element `i` of an integer tensor as int64.
inline int64_t loadInt(const TensorRef &t, int64_t i) {
  return dispatch<kInts | kBool>("load", t.dtype, [&](auto tag) -> int64_t {
    using T = typename decltype(tag)::type;
    return int64_t(t.as<T>()[i]);
  });
}

/// Reads a whole integer tensor (axes, shapes, indices) as int64 values.
inline std::vector<int64_t> loadInts(std::string_view kernel,
                                     const TensorRef &t) {
  if (isFloat(t.dtype))
    fail(kernel, std::string("expected an integer tensor, got ") +
                     dtypeName(t.dtype));
  std::vector<int64_t> out(size_t(t.numElements()));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = loadInt(t, int64_t(i));
  return out;
}

/// Writes `v` into element `i` of a numeric/bool tensor.
inline void storeDouble(const TensorRef &t, int64_t i, double v) {
  dispatch<kAll>("store", t.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    t.as<T>()[i] = toT<T>(ComputeT<T>(v));
  });
}

//===----------------------------------------------------------------------===//
// Indices, strides and broadcasting
//===----------------------------------------------------------------------===//

/// Row-major strides (in elements) of `shape`.
inline std::vector<int64_t> stridesOf(const Shape &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    s[i - 1] = s[i] * shape[i];
  return s;
}

/// Advances the row-major multi-index `idx` over `shape`; false after the
/// last index.
inline bool nextIndex(std::vector<int64_t> &idx, const Shape &shape) {
  for (size_t i = shape.size(); i-- > 0;) {
    if (++idx[i] < shape[i])
      return true;
    idx[i] = 0;
  }
  return false;
}

/// The numpy multidirectional broadcast of `shapes`; throws naming `kernel`
/// when they are incompatible.
inline Shape broadcastShapes(std::string_view kernel,
                             const std::vector<Shape> &shapes) {
  size_t rank = 0;
  for (const Shape &s : shapes)
    rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape &s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &o = out[off + i];
      if (s[i] == o || s[i] == 1)
        continue;
      if (o == 1) {
        o = s[i];
        continue;
      }
      std::string msg = "shapes cannot be broadcast:";
      for (const Shape &x : shapes)
        msg += " " + shapeStr(x);
      fail(kernel, msg);
    }
  }
  return out;
}

/// Strides of `in` viewed as broadcast to `out` (0 along broadcast dims).
inline std::vector<int64_t> broadcastStrides(const Shape &in,
                                             const Shape &out) {
  std::vector<int64_t> s(out.size(), 0);
  std::vector<int64_t> inStrides = stridesOf(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    s[off + i] = in[i] == 1 ? 0 : inStrides[i];
  return s;
}

/// Iterates over every element of `outShape` in row-major order, keeping the
/// matching offsets of N broadcast operands; calls `fn(outIndex, offsets)`.
template <size_t N, typename F>
void forEachBroadcast(const Shape &outShape,
                      const std::array<std::vector<int64_t>, N> &strides,
                      F &&fn) {
  int64_t total = numElements(outShape);
  if (total == 0)
    return;
  size_t rank = outShape.size();
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, N> off{};
  for (int64_t o = 0; o < total; ++o) {
    fn(o, off);
    // Increment the multi-index and the operand offsets incrementally.
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < outShape[d]) {
        for (size_t k = 0; k < N; ++k)
          off[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k)
        off[k] -= strides[k][d] * (outShape[d] - 1);
      idx[d] = 0;
    }
  }
}

/// Registers a reference kernel that accepts any dtype.
inline void addReference(KernelRegistry &r, std::string name, KernelFn fn) {
  KernelEntry e;
  e.name = std::move(name);
  e.impl = KernelImpl::Reference;
  e.fn = std::move(fn);
  r.add(std::move(e));
}

} // namespace loom::rt::kern

#endif // LOOM_RUNTIME_KERNELS_KERNELUTIL_H
