//===- QuantKernels.cpp - Linear quantization and integer kernels ---------===//
//
// Reference kernels for QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, QLinearConv, QLinearMatMul, MatMulInteger and
// ConvInteger. Integer products are accumulated in double, which is exact
// for every i8/u8 product sum that fits in i32.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "NNUtil.h"
#include "QuantizedUtil.h"

#include <limits>

namespace loom::rt {
namespace nn {
namespace {

/// The representable range of an integer dtype.
std::pair<double, double> intRange(DType t, const char *K) {
  switch (t) {
  case DType::U8: return {0, 255};
  case DType::I8: return {-128, 127};
  case DType::U16: return {0, 65535};
  case DType::I16: return {-32768, 32767};
  case DType::I32: return {-2147483648.0, 2147483647.0};
  case DType::U32: return {0, 4294967295.0};
  default: fail(K, std::string("unsupported quantized type ") + dtypeName(t));
  }
}

/// Rounds half to even and saturates to `t`.
double saturateRound(double v, DType t, const char *K) {
  auto [lo, hi] = intRange(t, K);
  if (std::isnan(v))
    return 0;
  return std::min(hi, std::max(lo, std::nearbyint(v)));
}

/// Per-element parameter lookup for per-tensor (1 value) or per-axis (one
/// value per index of `axis`) scales and zero points.
struct AxisParam {
  std::vector<double> values;
  int64_t dim = 1, inner = 1; ///< Size of the axis and the stride below it.

  AxisParam() = default;
  AxisParam(const TensorRef &p, const Shape &shape, int64_t axis, const char *K, const char *what)
      : values(toDoubles(p)) {
    if (values.size() == 1)
      return;
    if (axis < -int64_t(shape.size()) || axis >= int64_t(shape.size()))
      fail(K, "axis " + std::to_string(axis) + " out of range for rank " +
                  std::to_string(shape.size()));
    if (axis < 0)
      axis += int64_t(shape.size());
    if (p.rank() != 1 || p.shape[0] != shape[size_t(axis)])
      fail(K, std::string(what) + " must be a scalar or have one value per index of axis " +
                  std::to_string(axis));
    dim = shape[size_t(axis)];
    for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
      inner *= shape[d];
  }
  double at(int64_t flat) const {
    return values.size() == 1 ? values[0] : values[size_t((flat / inner) % dim)];
  }
};

void quantizeKernel(KernelArgs &a) {
  const char *K = "quantize_linear";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  // The axis is only checked when the parameters are per-axis.
  const int64_t axis = a.attrs.getInt("axis", 1);
  AxisParam scale(input(a, 1, K), x.shape, axis, K, "y_scale");
  AxisParam zp;
  zp.values = {0.0};
  if (const TensorRef *z = optInput(a, 2)) {
    if (z->dtype != y.dtype)
      fail(K, "y_zero_point and y must have the same type");
    zp = AxisParam(*z, x.shape, axis, K, "y_zero_point");
  }
  // ONNX divides in the input's precision: for f32 (and narrower) inputs the
  // quotient is rounded to float before rounding to an integer, which decides
  // ties such as 0.5 / (5 / 255) = 25.5 (25.4999... in double).
  const bool floatDivide = x.dtype != DType::F64;
  for (int64_t i = 0; i < x.numElements(); ++i) {
    // Round x / scale first, then add the zero point (the ONNX order).
    double quotient = floatDivide
                          ? double(float(loadD(x, i)) / float(scale.at(i)))
                          : loadD(x, i) / scale.at(i);
    double q = std::nearbyint(quotient) + zp.at(i);
    storeD(y, i, saturateRound(q, y.dtype, K));
  }
}

/// Whether quantize_linear call `a` has the form of its fast path: f32 x,
/// one f32 scale, at most one zero point of y's dtype, y u8 or i8 of x's
/// shape.
bool quantizeFastAccepts(const KernelArgs &a) {
  if (a.inputs.size() < 2 || a.inputs.size() > 3 || a.outputs.size() != 1)
    return false;
  const TensorRef &x = a.inputs[0], &s = a.inputs[1], &y = a.outputs[0];
  if (x.dtype != DType::F32 || s.dtype != DType::F32 || s.numElements() != 1 ||
      (y.dtype != DType::U8 && y.dtype != DType::I8) || y.shape != x.shape)
    return false;
  const TensorRef *z = optInput(a, 2);
  return !z || (z->dtype == y.dtype && z->numElements() == 1);
}

/// quantize_linear per tensor from f32 to u8 / i8 (the reference's
/// arithmetic: the quotient in f32, rounded half to even, saturated).
void quantizeFast(KernelArgs &a) {
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  const float scale = *a.inputs[1].as<float>();
  int32_t zp = 0;
  if (const TensorRef *z = optInput(a, 2))
    zp = y.dtype == DType::U8 ? int32_t(*z->as<uint8_t>()) : int32_t(*z->as<int8_t>());
  if (y.dtype == DType::U8)
    qnt::quantizeRun(x.as<float>(), x.numElements(), scale, zp, y.as<uint8_t>());
  else
    qnt::quantizeRun(x.as<float>(), x.numElements(), scale, zp, y.as<int8_t>());
}

/// dequantize_linear with `block_size` > 0 (ONNX opset 21 blocked
/// quantization): the scale and zero point have x's shape except along
/// `axis`, where their dimension is ceil(dim / block_size); element i along
/// the axis uses parameter index i / block_size.
void dequantizeBlocked(const char *K, const TensorRef &x, const TensorRef &y,
                       const TensorRef &scale, const TensorRef *zp, int64_t axisAttr,
                       int64_t block) {
  const int64_t rank = int64_t(x.rank());
  if (rank == 0)
    fail(K, "block_size needs an input of rank >= 1");
  const int64_t axis = normAxis(axisAttr, rank, K);
  Shape ps = x.shape;
  ps[size_t(axis)] = (x.shape[size_t(axis)] + block - 1) / block;
  if (scale.shape != ps)
    fail(K, "x_scale of shape " + kern::shapeStr(scale.shape) + " must have shape " +
                kern::shapeStr(ps) + " for block_size " + std::to_string(block) +
                " along axis " + std::to_string(axis));
  if (zp && zp->shape != ps)
    fail(K, "x_zero_point of shape " + kern::shapeStr(zp->shape) + " must have x_scale's shape " +
                kern::shapeStr(ps));
  const int64_t dim = x.shape[size_t(axis)], pdim = ps[size_t(axis)];
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[size_t(d)];
  for (int64_t i = 0; i < x.numElements(); ++i) {
    const int64_t r = i % inner, j = (i / inner) % dim, o = i / (inner * dim);
    const int64_t p = (o * pdim + j / block) * inner + r;
    storeD(y, i, (loadD(x, i) - (zp ? loadD(*zp, p) : 0.0)) * loadD(scale, p));
  }
}

void dequantizeKernel(KernelArgs &a) {
  const char *K = "dequantize_linear";
  TensorRef x = input(a, 0, K);
  const TensorRef &y = output(a, 0, K);
  // Packed input (w_bits = 4 or 2, or w_sparsity = "2:4"): a 1-D i8 buffer
  // holding w_shape's elements (docs/fused-ops.md); unpacked to i8 values of
  // shape w_shape.
  std::vector<int8_t> unpacked;
  if (a.attrs.getInt("w_bits", 8) != 8 || a.attrs.has("w_sparsity")) {
    qnt::LogicalWeights lw = qnt::logicalWeights(K, "x", x, a.attrs);
    unpacked = std::move(lw.values);
    x = TensorRef{DType::I8, lw.shape, unpacked.data(), true};
    if (y.shape != x.shape)
      fail(K, "y has shape " + kern::shapeStr(y.shape) + ", expected w_shape " +
                  kern::shapeStr(x.shape));
  }
  // The axis is only checked when the parameters are per-axis.
  const int64_t axis = a.attrs.getInt("axis", 1);
  if (const int64_t block = a.attrs.getInt("block_size", 0); block != 0) {
    if (block < 0)
      fail(K, "block_size must be >= 0, got " + std::to_string(block));
    dequantizeBlocked(K, x, y, input(a, 1, K), optInput(a, 2), axis, block);
    return;
  }
  AxisParam scale(input(a, 1, K), x.shape, axis, K, "x_scale");
  AxisParam zp;
  zp.values = {0.0};
  if (const TensorRef *z = optInput(a, 2))
    zp = AxisParam(*z, x.shape, axis, K, "x_zero_point");
  for (int64_t i = 0; i < x.numElements(); ++i)
    storeD(y, i, (loadD(x, i) - zp.at(i)) * scale.at(i));
}

/// DynamicQuantizeLinear: u8 quantization over [min(0, x), max(0, x)].
void dynamicQuantizeKernel(KernelArgs &a) {
  const char *K = "dynamic_quantize_linear";
  const TensorRef &x = input(a, 0, K);
  const TensorRef &y = output(a, 0, K), &ys = output(a, 1, K), &yz = output(a, 2, K);
  if (y.dtype != DType::U8 || yz.dtype != DType::U8)
    fail(K, "y and y_zero_point must be u8");
  std::vector<double> xd = toDoubles(x);
  double lo = 0, hi = 0;
  for (double v : xd) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // ONNX defines this computation in float32; divide in float to match.
  const float scale = float(hi - lo) / 255.0f;
  const double zero = scale == 0 ? 0 : saturateRound(double(float(-lo) / scale), DType::U8, K);
  storeD(ys, 0, scale);
  storeD(yz, 0, zero);
  for (size_t i = 0; i < xd.size(); ++i) {
    double q = scale == 0 ? 0 : std::nearbyint(double(float(xd[i]) / scale));
    storeD(y, int64_t(i), saturateRound(q + zero, DType::U8, K));
  }
}

//===----------------------------------------------------------------------===//
// Integer / quantized matrix multiplication
//===----------------------------------------------------------------------===//

/// numpy matmul of `a` (shape as) and `b` (shape bs) into `y` (shape ys),
/// in double, with broadcasting of the batch dimensions.
void batchedMatmul(const std::vector<double> &a, Shape as, const std::vector<double> &b,
                   Shape bs, std::vector<double> &y, const Shape &ys, const char *K) {
  if (as.empty() || bs.empty())
    fail(K, "matmul operands must have rank >= 1");
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  const int64_t M = as[as.size() - 2], Kd = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != Kd)
    fail(K, "inner dimensions do not match (" + std::to_string(Kd) + " vs " +
                std::to_string(bs[bs.size() - 2]) + ")");
  // Batch prefixes, left-padded with 1s to a common rank, and their element
  // strides (0 along broadcast dimensions).
  const size_t batchRank = std::max(as.size(), bs.size()) - 2;
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  ab.insert(ab.begin(), batchRank - ab.size(), 1);
  bb.insert(bb.begin(), batchRank - bb.size(), 1);
  Shape batch(batchRank), aStr(batchRank), bStr(batchRank);
  int64_t sa = M * Kd, sb = Kd * N;
  for (size_t i = batchRank; i-- > 0;) {
    if (ab[i] != bb[i] && ab[i] != 1 && bb[i] != 1)
      fail(K, "batch dimensions do not broadcast");
    batch[i] = std::max(ab[i], bb[i]);
    aStr[i] = ab[i] == 1 ? 0 : sa;
    bStr[i] = bb[i] == 1 ? 0 : sb;
    sa *= ab[i];
    sb *= bb[i];
  }
  const int64_t batches = numElements(batch);
  if (numElements(ys) != batches * M * N)
    fail(K, "output has the wrong number of elements");
  y.assign(size_t(batches * M * N), 0.0);
  int64_t bi = 0;
  forEachIndex(batch, [&](const std::vector<int64_t> &idx) {
    int64_t ao = 0, bo = 0;
    for (size_t i = 0; i < batchRank; ++i) {
      ao += idx[i] * aStr[i];
      bo += idx[i] * bStr[i];
    }
    double *yp = y.data() + bi++ * M * N;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < Kd; ++k) {
        double av = a[size_t(ao + m * Kd + k)];
        for (int64_t n = 0; n < N; ++n)
          yp[m * N + n] += av * b[size_t(bo + k * N + n)];
      }
  });
}

/// Subtracts a zero point from a matmul operand: scalar, or one per row of
/// A (`perRow`) / per column of B.
std::vector<double> minusZeroPoint(const TensorRef &t, const TensorRef *zp, bool perRow,
                                   const char *K) {
  std::vector<double> v = toDoubles(t);
  if (!zp)
    return v;
  std::vector<double> z = toDoubles(*zp);
  const int64_t cols = t.shape.back();
  const int64_t rows = t.rank() >= 2 ? t.shape[t.rank() - 2] : 1;
  const int64_t per = perRow ? rows : cols;
  if (z.size() != 1 && int64_t(z.size()) != per)
    fail(K, std::string("zero point must be a scalar or have one value per ") +
                (perRow ? "row of A" : "column of B"));
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t j = perRow ? (int64_t(i) / cols) % rows : int64_t(i) % cols;
    v[i] -= z.size() == 1 ? z[0] : z[size_t(j)];
  }
  return v;
}

void matmulIntegerKernel(KernelArgs &a) {
  const char *K = "matmul_integer";
  const TensorRef &A = input(a, 0, K), &B = input(a, 1, K), &y = output(a, 0, K);
  std::vector<double> ad = minusZeroPoint(A, optInput(a, 2), true, K);
  std::vector<double> bd = minusZeroPoint(B, optInput(a, 3), false, K);
  std::vector<double> yd;
  batchedMatmul(ad, A.shape, bd, B.shape, yd, y.shape, K);
  fromDoubles(y, yd);
}

void qlinearMatmulKernel(KernelArgs &a) {
  const char *K = "qlinear_matmul";
  const TensorRef &A = input(a, 0, K), &B = input(a, 3, K), &y = output(a, 0, K);
  std::vector<double> ad = minusZeroPoint(A, &input(a, 2, K), true, K);
  std::vector<double> bd = minusZeroPoint(B, &input(a, 5, K), false, K);
  std::vector<double> as = toDoubles(input(a, 1, K)), bs = toDoubles(input(a, 4, K));
  const double ys = scalarD(input(a, 6, K), K), yz = scalarD(input(a, 7, K), K);
  if (as.size() != 1 || bs.size() != 1)
    fail(K, "only per-tensor a_scale and b_scale are supported");
  std::vector<double> acc;
  batchedMatmul(ad, A.shape, bd, B.shape, acc, y.shape, K);
  const double mult = as[0] * bs[0] / ys;
  for (size_t i = 0; i < acc.size(); ++i)
    storeD(y, int64_t(i), saturateRound(std::nearbyint(acc[i] * mult) + yz, y.dtype, K));
}

//===----------------------------------------------------------------------===//
// Integer / quantized convolution
//===----------------------------------------------------------------------===//

/// Subtracts the per-tensor zero point of x and the per-tensor or
/// per-output-channel zero point of w, then convolves.
std::vector<double> integerConv(KernelArgs &a, const char *K, const TensorRef &x,
                                const TensorRef &w, const TensorRef *xzp, const TensorRef *wzp,
                                const TensorRef &y, const std::vector<double> *bias) {
  ConvGeometry g = convGeometry(a.attrs, x.shape, w.shape, y.shape, K);
  std::vector<double> xd = toDoubles(x), wd = toDoubles(w);
  if (xzp) {
    if (xzp->numElements() != 1)
      fail(K, "x_zero_point must be a scalar");
    double z = loadD(*xzp, 0);
    for (double &v : xd)
      v -= z;
  }
  if (wzp) {
    std::vector<double> z = toDoubles(*wzp);
    if (z.size() != 1 && int64_t(z.size()) != g.outChannels)
      fail(K, "w_zero_point must be a scalar or have one value per output channel");
    const int64_t per = g.outChannels ? w.numElements() / g.outChannels : 0;
    for (size_t i = 0; i < wd.size(); ++i)
      wd[i] -= z.size() == 1 ? z[0] : z[size_t(int64_t(i) / per)];
  }
  std::vector<double> out(static_cast<size_t>(y.numElements()));
  convForward(g, xd.data(), wd.data(), bias ? bias->data() : nullptr, out.data());
  return out;
}

void convIntegerKernel(KernelArgs &a) {
  const char *K = "conv_integer";
  const TensorRef &y = output(a, 0, K);
  fromDoubles(y, integerConv(a, K, input(a, 0, K), input(a, 1, K), optInput(a, 2),
                             optInput(a, 3), y, nullptr));
}

void qlinearConvKernel(KernelArgs &a) {
  const char *K = "qlinear_conv";
  const TensorRef &x = input(a, 0, K), &w = input(a, 3, K), &y = output(a, 0, K);
  const double xs = scalarD(input(a, 1, K), K), ys = scalarD(input(a, 6, K), K);
  const double yz = scalarD(input(a, 7, K), K);
  std::vector<double> ws = toDoubles(input(a, 4, K));
  const int64_t M = w.shape.empty() ? 0 : w.shape[0];
  if (ws.size() != 1 && int64_t(ws.size()) != M)
    fail(K, "w_scale must be a scalar or have one value per output channel");
  std::vector<double> bias;
  if (const TensorRef *b = optInput(a, 8)) {
    bias = toDoubles(*b);
    if (int64_t(bias.size()) != M)
      fail(K, "B must have one value per output channel");
  }
  std::vector<double> acc = integerConv(a, K, x, w, &input(a, 2, K), &input(a, 5, K), y,
                                        bias.empty() ? nullptr : &bias);
  const int64_t plane = y.rank() > 2 ? numElements(Shape(y.shape.begin() + 2, y.shape.end())) : 1;
  for (size_t i = 0; i < acc.size(); ++i) {
    int64_t m = (int64_t(i) / plane) % M;
    double mult = xs * (ws.size() == 1 ? ws[0] : ws[size_t(m)]) / ys;
    storeD(y, int64_t(i), saturateRound(std::nearbyint(acc[i] * mult) + yz, y.dtype, K));
  }
}

void add(KernelRegistry &r, const char *name, KernelFn fn) {
  r.add(KernelEntry{name, {}, KernelImpl::Reference, std::move(fn), nullptr});
}

} // namespace
} // namespace nn

/// Registers the quantization reference kernels.
void registerQuantKernels(KernelRegistry &r) {
  using namespace nn;
  add(r, "quantize_linear", quantizeKernel);
  r.add(KernelEntry{"quantize_linear", {}, KernelImpl::Fast, quantizeFast, quantizeFastAccepts});
  add(r, "dequantize_linear", dequantizeKernel);
  add(r, "dynamic_quantize_linear", dynamicQuantizeKernel);
  add(r, "matmul_integer", matmulIntegerKernel);
  add(r, "qlinear_matmul", qlinearMatmulKernel);
  add(r, "conv_integer", convIntegerKernel);
  add(r, "qlinear_conv", qlinearConvKernel);
}

} // namespace loom::rt
