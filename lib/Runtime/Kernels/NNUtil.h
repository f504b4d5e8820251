//===- NNUtil.h - Helpers shared by the NN-style kernel families -*- C++ -*-===//
//
// Small helpers for the NN, RNN, Image, Signal, Quant and Loss reference
// kernels: element conversion to and from double (so one code path serves
// f32/f64/f16/bf16), argument access, error reporting and the convolution /
// pooling window geometry that ONNX defines once for several operators.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_NNUTIL_H
#define LOOM_RUNTIME_KERNELS_NNUTIL_H

#include "loom/Runtime/Float16.h"
#include "loom/Runtime/Kernel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace loom::rt::nn {

/// Throws KernelError{"<kernel>: <what>"}.
[[noreturn]] inline void fail(const std::string &kernel, const std::string &what) {
  throw KernelError{kernel + ": " + what};
}

//===----------------------------------------------------------------------===//
// Element access through double.
//===----------------------------------------------------------------------===//

/// Reads element `i` of `t` as a double (any dtype).
inline double loadD(const TensorRef &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32: return t.as<float>()[i];
  case DType::F64: return t.as<double>()[i];
  case DType::F16: return halfBitsToFloat(t.as<uint16_t>()[i]);
  case DType::BF16: return bf16BitsToFloat(t.as<uint16_t>()[i]);
  case DType::I8: return t.as<int8_t>()[i];
  case DType::I16: return t.as<int16_t>()[i];
  case DType::I32: return t.as<int32_t>()[i];
  case DType::I64: return double(t.as<int64_t>()[i]);
  case DType::U8: return t.as<uint8_t>()[i];
  case DType::U16: return t.as<uint16_t>()[i];
  case DType::U32: return t.as<uint32_t>()[i];
  case DType::U64: return double(t.as<uint64_t>()[i]);
  case DType::Bool: return t.as<uint8_t>()[i] ? 1.0 : 0.0;
  }
  return 0;
}

/// Writes `v` to element `i` of `t`; integer dtypes truncate toward zero.
inline void storeD(const TensorRef &t, int64_t i, double v) {
  switch (t.dtype) {
  case DType::F32: t.as<float>()[i] = float(v); return;
  case DType::F64: t.as<double>()[i] = v; return;
  case DType::F16: t.as<uint16_t>()[i] = floatToHalfBits(float(v)); return;
  case DType::BF16: t.as<uint16_t>()[i] = floatToBf16Bits(float(v)); return;
  case DType::I8: t.as<int8_t>()[i] = int8_t(v); return;
  case DType::I16: t.as<int16_t>()[i] = int16_t(v); return;
  case DType::I32: t.as<int32_t>()[i] = int32_t(v); return;
  case DType::I64: t.as<int64_t>()[i] = int64_t(v); return;
  case DType::U8: t.as<uint8_t>()[i] = uint8_t(v); return;
  case DType::U16: t.as<uint16_t>()[i] = uint16_t(v); return;
  case DType::U32: t.as<uint32_t>()[i] = uint32_t(v); return;
  case DType::U64: t.as<uint64_t>()[i] = uint64_t(v); return;
  case DType::Bool: t.as<uint8_t>()[i] = v != 0; return;
  }
}

/// Reads element `i` of an integer tensor exactly (i64 beyond 2^53 too).
inline int64_t loadI(const TensorRef &t, int64_t i) {
  switch (t.dtype) {
  case DType::I64: return t.as<int64_t>()[i];
  case DType::U64: return int64_t(t.as<uint64_t>()[i]);
  case DType::I32: return t.as<int32_t>()[i];
  default: return int64_t(loadD(t, i));
  }
}

/// The whole tensor as doubles.
inline std::vector<double> toDoubles(const TensorRef &t) {
  std::vector<double> v(size_t(t.numElements()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = loadD(t, int64_t(i));
  return v;
}

/// Writes `v` (one value per element) into `t`.
inline void fromDoubles(const TensorRef &t, const std::vector<double> &v) {
  for (size_t i = 0; i < v.size(); ++i)
    storeD(t, int64_t(i), v[i]);
}

/// The whole integer tensor as int64.
inline std::vector<int64_t> toInts(const TensorRef &t) {
  std::vector<int64_t> v(size_t(t.numElements()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = loadI(t, int64_t(i));
  return v;
}

//===----------------------------------------------------------------------===//
// Arguments.
//===----------------------------------------------------------------------===//

/// Input `i`, or null when it is absent (not passed or present == false).
inline const TensorRef *optInput(const KernelArgs &a, size_t i) {
  if (i >= a.inputs.size() || !a.inputs[i].present || !a.inputs[i].data)
    return nullptr;
  return &a.inputs[i];
}

/// Output `i`, or null when it is absent.
inline const TensorRef *optOutput(const KernelArgs &a, size_t i) {
  if (i >= a.outputs.size() || !a.outputs[i].present || !a.outputs[i].data)
    return nullptr;
  return &a.outputs[i];
}

/// Input `i`, which must be present.
inline const TensorRef &input(const KernelArgs &a, size_t i, const char *kernel) {
  if (const TensorRef *t = optInput(a, i))
    return *t;
  fail(kernel, "missing required input " + std::to_string(i));
}

/// Output `i`, which must be present.
inline const TensorRef &output(const KernelArgs &a, size_t i, const char *kernel) {
  if (const TensorRef *t = optOutput(a, i))
    return *t;
  fail(kernel, "missing required output " + std::to_string(i));
}

/// Row-major strides of `shape`.
inline std::vector<int64_t> stridesOf(const Shape &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    s[i - 1] = s[i] * shape[i];
  return s;
}

/// Normalises a possibly negative axis against `rank`.
inline int64_t normAxis(int64_t axis, int64_t rank, const char *kernel) {
  if (axis < -rank || axis >= rank)
    fail(kernel, "axis " + std::to_string(axis) + " out of range for rank " +
                     std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

/// The scalar value of a one-element tensor as a double.
inline double scalarD(const TensorRef &t, const char *kernel) {
  if (t.numElements() < 1)
    fail(kernel, "expected a scalar tensor, got an empty one");
  return loadD(t, 0);
}

/// `t` broadcast (numpy rules, right-aligned) to `target`, as doubles in
/// row-major order of `target`.
inline std::vector<double> broadcastTo(const TensorRef &t, const Shape &target,
                                       const char *kernel) {
  if (t.rank() > target.size())
    fail(kernel, "cannot broadcast a rank-" + std::to_string(t.rank()) +
                     " tensor to rank " + std::to_string(target.size()));
  size_t off = target.size() - t.rank();
  std::vector<int64_t> srcStrides = stridesOf(t.shape), bstr(target.size(), 0);
  for (size_t i = 0; i < t.rank(); ++i) {
    if (t.shape[i] != 1 && t.shape[i] != target[off + i])
      fail(kernel, "cannot broadcast dimension " + std::to_string(t.shape[i]) +
                       " to " + std::to_string(target[off + i]));
    bstr[off + i] = t.shape[i] == 1 ? 0 : srcStrides[i];
  }
  std::vector<double> out;
  out.reserve(size_t(numElements(target)));
  std::vector<int64_t> idx(target.size(), 0);
  int64_t n = numElements(target);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      src += idx[d] * bstr[d];
    out.push_back(loadD(t, src));
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < target[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Convolution / pooling window geometry.
//===----------------------------------------------------------------------===//

/// The spatial window parameters shared by Conv, ConvTranspose and the pools,
/// with ONNX defaults applied. `pads` holds begins then ends.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;
  size_t rank() const { return kernel.size(); }
};

/// Reads kernel_shape/strides/dilations/pads for `spatial` dimensions. When
/// `kernelFromW` is non-empty it gives the kernel shape if the attribute is
/// absent. auto_pad is not applied here (see `applyAutoPad`).
inline Window readWindow(const Attrs &at, size_t spatial, const char *kernel,
                         const std::vector<int64_t> &kernelFromW = {}) {
  Window w;
  w.kernel = at.getInts("kernel_shape", kernelFromW);
  if (w.kernel.size() != spatial)
    fail(kernel, "kernel_shape has " + std::to_string(w.kernel.size()) +
                     " entries, expected " + std::to_string(spatial));
  w.strides = at.getInts("strides", std::vector<int64_t>(spatial, 1));
  w.dilations = at.getInts("dilations", std::vector<int64_t>(spatial, 1));
  w.pads = at.getInts("pads", std::vector<int64_t>(2 * spatial, 0));
  if (w.strides.size() != spatial || w.dilations.size() != spatial ||
      w.pads.size() != 2 * spatial)
    fail(kernel, "strides/dilations/pads do not match the spatial rank " +
                     std::to_string(spatial));
  for (size_t i = 0; i < spatial; ++i)
    if (w.strides[i] < 1 || w.dilations[i] < 1 || w.kernel[i] < 1)
      fail(kernel, "kernel_shape, strides and dilations must be positive");
  return w;
}

/// Applies auto_pad (SAME_UPPER / SAME_LOWER / VALID / NOTSET) to the pads of
/// a forward window over the input spatial sizes `in`.
inline void applyAutoPad(Window &w, const Attrs &at, const std::vector<int64_t> &in,
                         const char *kernel) {
  std::string mode = at.getString("auto_pad", "NOTSET");
  size_t n = w.rank();
  if (mode == "NOTSET" || mode.empty())
    return;
  if (mode == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
    return;
  }
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER")
    fail(kernel, "unknown auto_pad '" + mode + "'");
  for (size_t i = 0; i < n; ++i) {
    int64_t out = (in[i] + w.strides[i] - 1) / w.strides[i];
    int64_t ext = (w.kernel[i] - 1) * w.dilations[i] + 1;
    int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + ext - in[i]);
    int64_t small = total / 2, big = total - small;
    w.pads[i] = mode == "SAME_UPPER" ? small : big;
    w.pads[i + n] = mode == "SAME_UPPER" ? big : small;
  }
}

/// Iterates over all multi-indices of `shape` (row-major), calling f(idx).
template <typename F> void forEachIndex(const std::vector<int64_t> &shape, F f) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t s : shape)
    if (s <= 0)
      return;
  while (true) {
    f(idx);
    size_t d = shape.size();
    while (d > 0) {
      if (++idx[d - 1] < shape[d - 1])
        break;
      idx[d - 1] = 0;
      --d;
    }
    if (d == 0)
      return;
  }
}

//===----------------------------------------------------------------------===//
// Shared convolution core (defined in NNKernels.cpp; used by Quant too).
//===----------------------------------------------------------------------===//

/// A forward convolution with up to 3 spatial dimensions; fewer are padded
/// with leading size-1 dimensions (kernel 1, stride 1, dilation 1, pad 0).
struct ConvGeometry {
  int64_t batch = 1, inChannels = 1, outChannels = 1, group = 1;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1},
      strides{1, 1, 1}, dilations{1, 1, 1}, padBegin{0, 0, 0};
};

/// Geometry of Conv-like operators (Conv, ConvInteger, QLinearConv) from the
/// shapes of X [N, C, ...], W [M, C/group, ...], Y [N, M, ...] and the
/// attributes (ONNX defaults and auto_pad applied).
ConvGeometry convGeometry(const Attrs &at, const Shape &x, const Shape &w,
                          const Shape &y, const char *kernel);

/// y = conv(x, w) + bias in double. `bias` may be null; x, w, y are dense
/// row-major NC... buffers matching `g`. Padding reads as 0.
void convForward(const ConvGeometry &g, const double *x, const double *w,
                 const double *bias, double *y);

} // namespace loom::rt::nn

#endif // LOOM_RUNTIME_KERNELS_NNUTIL_H
