//===- NNKernels.cpp - Convolution, pooling and normalization -------------===//
//
// Reference kernels for the ONNX neural-network operators: Conv,
// ConvTranspose, AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool,
// MaxUnpool, BatchNormalization, InstanceNormalization, LayerNormalization,
// LRN and MeanVarianceNormalization. All arithmetic happens in double; f16
// and bf16 are converted on load and store.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "NNUtil.h"
#include "VecEpilogue.h"

#include <array>
#include <cstring>
#include <limits>
#include <optional>

namespace loom::rt {
namespace nn {

namespace {

/// Spatial part of a shape (everything after N and C).
std::vector<int64_t> spatialOf(const Shape &s) {
  return std::vector<int64_t>(s.begin() + 2, s.end());
}

/// Checks the rank of an NC... tensor: 1 to 3 spatial dimensions.
void checkSpatialRank(const TensorRef &t, const char *kernel) {
  if (t.rank() < 3 || t.rank() > 5)
    fail(kernel, "expected an N x C x D1 [x D2 [x D3]] tensor, got rank " +
                     std::to_string(t.rank()));
}

/// Copies `v` (n entries) right-aligned into a 3-array filled with `fill`.
std::array<int64_t, 3> pad3(const std::vector<int64_t> &v, int64_t fill) {
  std::array<int64_t, 3> a{fill, fill, fill};
  size_t off = 3 - v.size();
  for (size_t i = 0; i < v.size(); ++i)
    a[off + i] = v[i];
  return a;
}

} // namespace

ConvGeometry convGeometry(const Attrs &at, const Shape &x, const Shape &w,
                          const Shape &y, const char *kernel) {
  if (x.size() < 3 || x.size() > 5 || w.size() != x.size() || y.size() != x.size())
    fail(kernel, "X, W and Y must all be N x C x D1 [x D2 [x D3]] tensors");
  size_t n = x.size() - 2;
  Window win = readWindow(at, n, kernel, spatialOf(w));
  applyAutoPad(win, at, spatialOf(x), kernel);
  ConvGeometry g;
  g.batch = x[0];
  g.inChannels = x[1];
  g.outChannels = w[0];
  g.group = at.getInt("group", 1);
  if (g.group < 1 || g.inChannels % g.group || g.outChannels % g.group ||
      w[1] * g.group != g.inChannels)
    fail(kernel, "channel counts do not match group " + std::to_string(g.group) +
                     " (X has " + std::to_string(x[1]) + ", W is " +
                     std::to_string(w[0]) + " x " + std::to_string(w[1]) + ")");
  if (y[0] != x[0] || y[1] != w[0])
    fail(kernel, "output batch/channel dimensions do not match X and W");
  for (size_t i = 0; i < n; ++i)
    if (win.kernel[i] != w[2 + i])
      fail(kernel, "kernel_shape does not match W");
  g.in = pad3(spatialOf(x), 1);
  g.out = pad3(spatialOf(y), 1);
  g.kernel = pad3(win.kernel, 1);
  g.strides = pad3(win.strides, 1);
  g.dilations = pad3(win.dilations, 1);
  g.padBegin = pad3(std::vector<int64_t>(win.pads.begin(), win.pads.begin() + n), 0);
  return g;
}

void convForward(const ConvGeometry &g, const double *x, const double *w,
                 const double *bias, double *y) {
  const int64_t cPerG = g.inChannels / g.group, mPerG = g.outChannels / g.group;
  const int64_t inSize = g.in[0] * g.in[1] * g.in[2];
  const int64_t outSize = g.out[0] * g.out[1] * g.out[2];
  const int64_t kSize = g.kernel[0] * g.kernel[1] * g.kernel[2];
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.outChannels; ++m) {
      const int64_t grp = m / mPerG;
      double *yp = y + (n * g.outChannels + m) * outSize;
      const double *wm = w + m * cPerG * kSize;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            double acc = bias ? bias[m] : 0.0;
            const int64_t b0 = o0 * g.strides[0] - g.padBegin[0];
            const int64_t b1 = o1 * g.strides[1] - g.padBegin[1];
            const int64_t b2 = o2 * g.strides[2] - g.padBegin[2];
            for (int64_t c = 0; c < cPerG; ++c) {
              const double *xc = x + (n * g.inChannels + grp * cPerG + c) * inSize;
              const double *wc = wm + c * kSize;
              for (int64_t k0 = 0; k0 < g.kernel[0]; ++k0) {
                int64_t i0 = b0 + k0 * g.dilations[0];
                if (i0 < 0 || i0 >= g.in[0])
                  continue;
                for (int64_t k1 = 0; k1 < g.kernel[1]; ++k1) {
                  int64_t i1 = b1 + k1 * g.dilations[1];
                  if (i1 < 0 || i1 >= g.in[1])
                    continue;
                  const double *xr = xc + (i0 * g.in[1] + i1) * g.in[2];
                  const double *wr = wc + (k0 * g.kernel[1] + k1) * g.kernel[2];
                  for (int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                    int64_t i2 = b2 + k2 * g.dilations[2];
                    if (i2 >= 0 && i2 < g.in[2])
                      acc += xr[i2] * wr[k2];
                  }
                }
              }
            }
            yp[(o0 * g.out[1] + o1) * g.out[2] + o2] = acc;
          }
    }
}

namespace {

//===----------------------------------------------------------------------===//
// Conv / ConvTranspose
//===----------------------------------------------------------------------===//

/// Conv: Y = conv(X, W) + B.
void convKernel(KernelArgs &a) {
  const char *K = "conv";
  const TensorRef &x = input(a, 0, K), &w = input(a, 1, K), &y = output(a, 0, K);
  ConvGeometry g = convGeometry(a.attrs, x.shape, w.shape, y.shape, K);
  std::vector<double> bias;
  if (const TensorRef *b = optInput(a, 2)) {
    if (b->numElements() != g.outChannels)
      fail(K, "B must have one value per output channel");
    bias = toDoubles(*b);
  }
  std::vector<double> xd = toDoubles(x), wd = toDoubles(w);
  std::vector<double> yd(static_cast<size_t>(y.numElements()));
  convForward(g, xd.data(), wd.data(), bias.empty() ? nullptr : bias.data(), yd.data());
  fromDoubles(y, yd);
}

/// ConvTranspose: scatters every input element times the kernel into the
/// output. Only the leading pads matter once the output shape is known; they
/// come from output_shape, auto_pad or pads as the ONNX spec defines.
void convTransposeKernel(KernelArgs &a) {
  const char *K = "conv_transpose";
  const TensorRef &x = input(a, 0, K), &w = input(a, 1, K), &y = output(a, 0, K);
  checkSpatialRank(x, K);
  if (w.rank() != x.rank() || y.rank() != x.rank())
    fail(K, "X, W and Y must have the same rank");
  const size_t n = x.rank() - 2;
  const Attrs &at = a.attrs;
  Window win = readWindow(at, n, K, spatialOf(w.shape));
  const int64_t group = at.getInt("group", 1);
  const int64_t C = x.shape[1], N = x.shape[0];
  if (group < 1 || C % group || w.shape[0] != C)
    fail(K, "W must be C x M/group x k..., with C divisible by group");
  const int64_t mPerG = w.shape[1], M = mPerG * group;
  if (y.shape[0] != N || y.shape[1] != M)
    fail(K, "output batch/channel dimensions do not match X and W");
  std::vector<int64_t> outPad = at.getInts("output_padding", std::vector<int64_t>(n, 0));
  if (outPad.size() != n)
    fail(K, "output_padding must have one entry per spatial dimension");
  std::string autoPad = at.getString("auto_pad", "NOTSET");
  std::vector<int64_t> outShapeAttr = at.getInts("output_shape");
  std::vector<int64_t> begin(n, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t ext = (win.kernel[i] - 1) * win.dilations[i] + 1;
    int64_t full = win.strides[i] * (x.shape[2 + i] - 1) + outPad[i] + ext;
    if (!outShapeAttr.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t target = !outShapeAttr.empty()
                           ? outShapeAttr[outShapeAttr.size() - n + i]
                           : x.shape[2 + i] * win.strides[i];
      int64_t total = std::max<int64_t>(0, full - target);
      begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (autoPad == "VALID") {
      begin[i] = 0;
    } else if (autoPad == "NOTSET" || autoPad.empty()) {
      begin[i] = win.pads[i];
    } else {
      fail(K, "unknown auto_pad '" + autoPad + "'");
    }
  }
  std::array<int64_t, 3> in = pad3(spatialOf(x.shape), 1), out = pad3(spatialOf(y.shape), 1),
                         k = pad3(win.kernel, 1), s = pad3(win.strides, 1),
                         d = pad3(win.dilations, 1), p = pad3(begin, 0);
  const int64_t inSize = in[0] * in[1] * in[2], outSize = out[0] * out[1] * out[2];
  const int64_t kSize = k[0] * k[1] * k[2], cPerG = C / group;

  std::vector<double> xd = toDoubles(x), wd = toDoubles(w);
  std::vector<double> yd(static_cast<size_t>(y.numElements()), 0.0);
  if (const TensorRef *b = optInput(a, 2)) {
    if (b->numElements() != M)
      fail(K, "B must have one value per output channel");
    for (int64_t nn = 0; nn < N; ++nn)
      for (int64_t m = 0; m < M; ++m)
        std::fill_n(yd.begin() + (nn * M + m) * outSize, outSize, loadD(*b, m));
  }
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t grp = c / cPerG;
      const double *xc = xd.data() + (nn * C + c) * inSize;
      for (int64_t mm = 0; mm < mPerG; ++mm) {
        const int64_t m = grp * mPerG + mm;
        double *ym = yd.data() + (nn * M + m) * outSize;
        const double *wk = wd.data() + (c * mPerG + mm) * kSize;
        for (int64_t i0 = 0; i0 < in[0]; ++i0)
          for (int64_t i1 = 0; i1 < in[1]; ++i1)
            for (int64_t i2 = 0; i2 < in[2]; ++i2) {
              double xv = xc[(i0 * in[1] + i1) * in[2] + i2];
              for (int64_t k0 = 0; k0 < k[0]; ++k0) {
                int64_t o0 = i0 * s[0] + k0 * d[0] - p[0];
                if (o0 < 0 || o0 >= out[0])
                  continue;
                for (int64_t k1 = 0; k1 < k[1]; ++k1) {
                  int64_t o1 = i1 * s[1] + k1 * d[1] - p[1];
                  if (o1 < 0 || o1 >= out[1])
                    continue;
                  for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                    int64_t o2 = i2 * s[2] + k2 * d[2] - p[2];
                    if (o2 < 0 || o2 >= out[2])
                      continue;
                    ym[(o0 * out[1] + o1) * out[2] + o2] +=
                        xv * wk[(k0 * k[1] + k1) * k[2] + k2];
                  }
                }
              }
            }
      }
    }
  fromDoubles(y, yd);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// One pooling window along one spatial dimension for output index `o`:
/// the taps (k) that land inside the input, and how many land inside the
/// input plus its padding (for count_include_pad).
struct Taps {
  std::vector<int64_t> pos; ///< Input positions of the in-bounds taps.
  int64_t padded = 0;       ///< Taps inside [-padBegin, in + padEnd).
};

Taps tapsFor(int64_t o, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
             int64_t pe) {
  Taps t;
  int64_t start = o * s - pb;
  for (int64_t j = 0; j < k; ++j) {
    int64_t i = start + j * d;
    if (i < in + pe)
      ++t.padded;
    if (i >= 0 && i < in)
      t.pos.push_back(i);
  }
  return t;
}

/// Shared driver for AveragePool and MaxPool.
void poolKernel(KernelArgs &a, bool isMax) {
  const char *K = isMax ? "max_pool" : "average_pool";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  checkSpatialRank(x, K);
  if (y.rank() != x.rank() || y.shape[0] != x.shape[0] || y.shape[1] != x.shape[1])
    fail(K, "Y must have the batch and channel dimensions of X");
  const size_t n = x.rank() - 2;
  if (!a.attrs.has("kernel_shape"))
    fail(K, "missing required attribute kernel_shape");
  Window win = readWindow(a.attrs, n, K);
  applyAutoPad(win, a.attrs, spatialOf(x.shape), K);
  const bool includePad = a.attrs.getInt("count_include_pad", 0) != 0;
  const bool colMajor = a.attrs.getInt("storage_order", 0) != 0;
  const TensorRef *indices = isMax ? optOutput(a, 1) : nullptr;
  if (indices && indices->dtype != DType::I64)
    fail(K, "Indices must be i64");

  std::array<int64_t, 3> in = pad3(spatialOf(x.shape), 1), out = pad3(spatialOf(y.shape), 1);
  std::array<int64_t, 3> k = pad3(win.kernel, 1), s = pad3(win.strides, 1),
                         d = pad3(win.dilations, 1);
  std::array<int64_t, 3> pb = pad3({win.pads.begin(), win.pads.begin() + n}, 0),
                         pe = pad3({win.pads.begin() + n, win.pads.end()}, 0);
  // Per-dimension taps for every output index.
  std::array<std::vector<Taps>, 3> taps;
  for (int dim = 0; dim < 3; ++dim)
    for (int64_t o = 0; o < out[dim]; ++o)
      taps[dim].push_back(tapsFor(o, in[dim], k[dim], s[dim], d[dim], pb[dim], pe[dim]));

  const int64_t inSize = in[0] * in[1] * in[2], outSize = out[0] * out[1] * out[2];
  const int64_t planes = x.shape[0] * x.shape[1];
  std::vector<double> xd = toDoubles(x);
  for (int64_t pl = 0; pl < planes; ++pl) {
    const double *xp = xd.data() + pl * inSize;
    for (int64_t o0 = 0; o0 < out[0]; ++o0)
      for (int64_t o1 = 0; o1 < out[1]; ++o1)
        for (int64_t o2 = 0; o2 < out[2]; ++o2) {
          const Taps &t0 = taps[0][o0], &t1 = taps[1][o1], &t2 = taps[2][o2];
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t bestIdx = -1, count = 0;
          for (int64_t i0 : t0.pos)
            for (int64_t i1 : t1.pos)
              for (int64_t i2 : t2.pos) {
                double v = xp[(i0 * in[1] + i1) * in[2] + i2];
                sum += v;
                ++count;
                if (v > best || bestIdx < 0) {
                  best = v;
                  bestIdx = colMajor ? i0 + i1 * in[0] + i2 * in[0] * in[1]
                                     : (i0 * in[1] + i1) * in[2] + i2;
                }
              }
          int64_t oi = pl * outSize + (o0 * out[1] + o1) * out[2] + o2;
          if (isMax) {
            storeD(y, oi, count ? best : 0.0);
            if (indices)
              indices->as<int64_t>()[oi] = pl * inSize + std::max<int64_t>(bestIdx, 0);
          } else {
            int64_t div = includePad ? t0.padded * t1.padded * t2.padded : count;
            storeD(y, oi, div ? sum / double(div) : 0.0);
          }
        }
  }
}

/// GlobalAveragePool / GlobalMaxPool: reduce every N x C plane.
void globalPoolKernel(KernelArgs &a, bool isMax) {
  const char *K = isMax ? "global_max_pool" : "global_average_pool";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  if (x.rank() < 2)
    fail(K, "X must have rank >= 2");
  const int64_t planes = x.shape[0] * x.shape[1];
  if (y.numElements() != planes)
    fail(K, "Y must have N x C elements");
  const int64_t size = planes ? x.numElements() / planes : 0;
  for (int64_t p = 0; p < planes; ++p) {
    double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < size; ++i) {
      double v = loadD(x, p * size + i);
      acc = isMax ? std::max(acc, v) : acc + v;
    }
    storeD(y, p, isMax ? acc : acc / double(size));
  }
}

/// MaxUnpool: scatters X into a zero output. The indices in I are flat
/// positions in the tensor MaxPool saw, whose spatial size follows from
/// kernel_shape/strides/pads; when output_shape asks for a larger output the
/// positions keep their coordinates.
void maxUnpoolKernel(KernelArgs &a) {
  const char *K = "max_unpool";
  const TensorRef &x = input(a, 0, K), &idx = input(a, 1, K), &y = output(a, 0, K);
  checkSpatialRank(x, K);
  if (idx.numElements() != x.numElements())
    fail(K, "I must have the shape of X");
  if (y.rank() != x.rank())
    fail(K, "output must have the rank of X");
  const size_t n = x.rank() - 2;
  if (!a.attrs.has("kernel_shape"))
    fail(K, "missing required attribute kernel_shape");
  Window win = readWindow(a.attrs, n, K);
  Shape pooled = {x.shape[0], x.shape[1]};
  for (size_t i = 0; i < n; ++i)
    pooled.push_back((x.shape[2 + i] - 1) * win.strides[i] + win.kernel[i] -
                     win.pads[i] - win.pads[i + n]);
  const std::vector<int64_t> pooledStrides = stridesOf(pooled), outStrides = stridesOf(y.shape);
  const int64_t pooledTotal = numElements(pooled);
  std::memset(y.data, 0, y.byteSize());
  for (int64_t i = 0; i < x.numElements(); ++i) {
    int64_t j = loadI(idx, i);
    if (j < 0 || j >= pooledTotal)
      fail(K, "index " + std::to_string(j) + " is outside the unpooled tensor");
    int64_t dst = 0;
    for (size_t d = 0; d < pooled.size(); ++d) {
      int64_t c = j / pooledStrides[d];
      j %= pooledStrides[d];
      if (c >= y.shape[d])
        fail(K, "output_shape is smaller than the unpooled tensor");
      dst += c * outStrides[d];
    }
    storeD(y, dst, loadD(x, i));
  }
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// BatchNormalization. Inference form normalises with input_mean/input_var;
/// training_mode=1 uses the batch statistics and writes the running ones.
void batchNormKernel(KernelArgs &a) {
  const char *K = "batch_normalization";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  if (x.rank() < 2)
    fail(K, "X must have rank >= 2");
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t inner = N * C != 0 ? x.numElements() / (N * C) : 0;
  std::vector<double> scale = toDoubles(input(a, 1, K)), bias = toDoubles(input(a, 2, K)),
                      mean = toDoubles(input(a, 3, K)), var = toDoubles(input(a, 4, K));
  if (int64_t(scale.size()) != C || int64_t(bias.size()) != C ||
      int64_t(mean.size()) != C || int64_t(var.size()) != C)
    fail(K, "scale, B, input_mean and input_var must have C elements");
  const double eps = a.attrs.getFloat("epsilon", 1e-5);
  const bool training = a.attrs.getInt("training_mode", 0) != 0;
  std::vector<double> xd = toDoubles(x);
  std::vector<double> useMean = mean, useVar = var;
  if (training) {
    const double momentum = a.attrs.getFloat("momentum", 0.9);
    const double cnt = double(N * inner);
    for (int64_t c = 0; c < C; ++c) {
      double s = 0, sq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i)
          s += xd[(n * C + c) * inner + i];
      double m = s / cnt;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) {
          double dv = xd[(n * C + c) * inner + i] - m;
          sq += dv * dv;
        }
      useMean[c] = m;
      useVar[c] = sq / cnt;
    }
    if (const TensorRef *rm = optOutput(a, 1))
      for (int64_t c = 0; c < C; ++c)
        storeD(*rm, c, mean[c] * momentum + useMean[c] * (1 - momentum));
    if (const TensorRef *rv = optOutput(a, 2))
      for (int64_t c = 0; c < C; ++c)
        storeD(*rv, c, var[c] * momentum + useVar[c] * (1 - momentum));
  } else if (optOutput(a, 1) || optOutput(a, 2)) {
    fail(K, "running_mean/running_var outputs require training_mode=1");
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double mul = scale[c] / std::sqrt(useVar[c] + eps);
      double add = bias[c] - useMean[c] * mul;
      for (int64_t i = 0; i < inner; ++i) {
        int64_t j = (n * C + c) * inner + i;
        storeD(y, j, xd[j] * mul + add);
      }
    }
}

/// InstanceNormalization: per (n, c) plane statistics.
void instanceNormKernel(KernelArgs &a) {
  const char *K = "instance_normalization";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  if (x.rank() < 3)
    fail(K, "input must have rank >= 3");
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t inner = N * C != 0 ? x.numElements() / (N * C) : 0;
  std::vector<double> scale = toDoubles(input(a, 1, K)), bias = toDoubles(input(a, 2, K));
  if (int64_t(scale.size()) != C || int64_t(bias.size()) != C)
    fail(K, "scale and B must have C elements");
  const double eps = a.attrs.getFloat("epsilon", 1e-5);
  std::vector<double> xd = toDoubles(x);
  for (int64_t p = 0; p < N * C; ++p) {
    const double *xp = xd.data() + p * inner;
    double m = 0, v = 0;
    for (int64_t i = 0; i < inner; ++i)
      m += xp[i];
    m /= double(inner);
    for (int64_t i = 0; i < inner; ++i)
      v += (xp[i] - m) * (xp[i] - m);
    v /= double(inner);
    double mul = scale[p % C] / std::sqrt(v + eps);
    for (int64_t i = 0; i < inner; ++i)
      storeD(y, p * inner + i, (xp[i] - m) * mul + bias[p % C]);
  }
}

/// LayerNormalization over dimensions [axis, rank).
void layerNormKernel(KernelArgs &a) {
  const char *K = "layer_normalization";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  const int64_t rank = int64_t(x.rank());
  const int64_t axis = normAxis(a.attrs.getInt("axis", -1), rank, K);
  Shape innerShape(x.shape.begin() + axis, x.shape.end());
  const int64_t inner = numElements(innerShape);
  const int64_t outer = inner ? x.numElements() / inner : 0;
  std::vector<double> scale = broadcastTo(input(a, 1, K), innerShape, K);
  std::vector<double> bias(size_t(inner), 0.0);
  if (const TensorRef *b = optInput(a, 2))
    bias = broadcastTo(*b, innerShape, K);
  const double eps = a.attrs.getFloat("epsilon", 1e-5);
  const TensorRef *meanOut = optOutput(a, 1), *invOut = optOutput(a, 2);
  if ((meanOut && meanOut->numElements() != outer) ||
      (invOut && invOut->numElements() != outer))
    fail(K, "Mean and InvStdDev must have one element per normalised row");
  std::vector<double> xd = toDoubles(x);
  for (int64_t r = 0; r < outer; ++r) {
    const double *xr = xd.data() + r * inner;
    double m = 0, v = 0;
    for (int64_t i = 0; i < inner; ++i)
      m += xr[i];
    m /= double(inner);
    for (int64_t i = 0; i < inner; ++i)
      v += (xr[i] - m) * (xr[i] - m);
    v /= double(inner);
    double inv = 1.0 / std::sqrt(v + eps);
    for (int64_t i = 0; i < inner; ++i)
      storeD(y, r * inner + i, (xr[i] - m) * inv * scale[size_t(i)] + bias[size_t(i)]);
    if (meanOut)
      storeD(*meanOut, r, m);
    if (invOut)
      storeD(*invOut, r, inv);
  }
}

/// LRN across channels.
void lrnKernel(KernelArgs &a) {
  const char *K = "lrn";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  if (x.rank() < 2)
    fail(K, "X must have rank >= 2");
  if (!a.attrs.has("size"))
    fail(K, "missing required attribute size");
  const int64_t size = a.attrs.getInt("size", 1);
  const double alpha = a.attrs.getFloat("alpha", 1e-4), beta = a.attrs.getFloat("beta", 0.75),
               bias = a.attrs.getFloat("bias", 1.0);
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t inner = N * C != 0 ? x.numElements() / (N * C) : 0;
  const int64_t lo = (size - 1) / 2, hi = size / 2; // floor and ceil of (size-1)/2
  std::vector<double> xd = toDoubles(x);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t cc = std::max<int64_t>(0, c - lo); cc <= std::min(C - 1, c + hi); ++cc) {
          double v = xd[(n * C + cc) * inner + i];
          sq += v * v;
        }
        int64_t j = (n * C + c) * inner + i;
        storeD(y, j, xd[j] / std::pow(bias + alpha / double(size) * sq, beta));
      }
}

/// MeanVarianceNormalization over `axes` (default N, H, W).
void mvnKernel(KernelArgs &a) {
  const char *K = "mean_variance_normalization";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  const int64_t rank = int64_t(x.rank());
  std::vector<int64_t> axes = a.attrs.getInts("axes", {0, 2, 3});
  std::vector<bool> reduced(size_t(rank), false);
  for (int64_t ax : axes)
    reduced[size_t(normAxis(ax, rank, K))] = true;
  // Map every element to its group (the index over the kept dimensions).
  std::vector<int64_t> keptShape;
  for (int64_t d = 0; d < rank; ++d)
    keptShape.push_back(reduced[size_t(d)] ? 1 : x.shape[size_t(d)]);
  std::vector<int64_t> keptStrides = stridesOf(keptShape);
  const int64_t groups = numElements(keptShape), total = x.numElements();
  std::vector<int64_t> groupOf(static_cast<size_t>(total));
  int64_t e = 0;
  forEachIndex(x.shape, [&](const std::vector<int64_t> &idx) {
    int64_t g = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[size_t(d)])
        g += idx[size_t(d)] * keptStrides[size_t(d)];
    groupOf[size_t(e++)] = g;
  });
  std::vector<double> xd = toDoubles(x), sum(size_t(groups), 0.0), sq(size_t(groups), 0.0);
  std::vector<int64_t> cnt(size_t(groups), 0);
  for (int64_t i = 0; i < total; ++i) {
    sum[size_t(groupOf[size_t(i)])] += xd[size_t(i)];
    sq[size_t(groupOf[size_t(i)])] += xd[size_t(i)] * xd[size_t(i)];
    ++cnt[size_t(groupOf[size_t(i)])];
  }
  for (int64_t i = 0; i < total; ++i) {
    size_t g = size_t(groupOf[size_t(i)]);
    double m = sum[g] / double(cnt[g]);
    double sd = std::sqrt(std::max(0.0, sq[g] / double(cnt[g]) - m * m));
    storeD(y, i, (xd[size_t(i)] - m) / (sd + 1e-9));
  }
}

//===----------------------------------------------------------------------===//
// Fast paths (no oneDNN needed): transpose, global_average_pool
//===----------------------------------------------------------------------===//

/// A transpose reduced to its essentials: output dims (row-major) and the
/// input stride of each, with adjacent dims that stay adjacent merged.
struct TransposeGeom {
  std::vector<int64_t> dims, src;
  size_t elem = 0;
};

std::optional<TransposeGeom> transposeGeom(const KernelArgs &a) {
  if (a.inputs.size() != 1 || a.outputs.size() != 1 || !a.inputs[0].present ||
      !a.outputs[0].present)
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.dtype != y.dtype)
    return std::nullopt;
  const size_t es = dtypeSize(x.dtype);
  if (es != 1 && es != 2 && es != 4 && es != 8)
    return std::nullopt;
  const int64_t rank = int64_t(x.rank());
  std::vector<int64_t> perm = a.attrs.getInts("perm");
  if (perm.empty())
    for (int64_t d = rank; d-- > 0;)
      perm.push_back(d);
  if (int64_t(perm.size()) != rank)
    return std::nullopt;
  std::vector<bool> seen(size_t(rank), false);
  const std::vector<int64_t> st = stridesOf(x.shape);
  TransposeGeom g;
  g.elem = es;
  Shape want;
  for (int64_t p : perm) {
    const int64_t d = p < 0 ? p + rank : p;
    if (d < 0 || d >= rank || seen[size_t(d)])
      return std::nullopt;
    seen[size_t(d)] = true;
    want.push_back(x.shape[size_t(d)]);
    if (x.shape[size_t(d)] == 1)
      continue; // size-1 dims do not move anything
    if (!g.dims.empty() && g.src.back() == st[size_t(d)] * x.shape[size_t(d)]) {
      g.dims.back() *= x.shape[size_t(d)];
      g.src.back() = st[size_t(d)];
    } else {
      g.dims.push_back(x.shape[size_t(d)]);
      g.src.push_back(st[size_t(d)]);
    }
  }
  if (y.shape != want || y.numElements() == 0)
    return std::nullopt;
  if (g.dims.empty()) {
    g.dims.push_back(1);
    g.src.push_back(1);
  }
  return g;
}

/// Advances the position `idx` over the first `count` dims of `g` (the
/// last one fastest), keeping `off` the source offset of the position.
void advance(const TransposeGeom &g, size_t count, std::vector<int64_t> &idx,
             int64_t &off) {
  for (size_t d = count; d-- > 0;) {
    off += g.src[d];
    if (++idx[d] < g.dims[d])
      return;
    off -= g.src[d] * g.dims[d];
    idx[d] = 0;
  }
}

template <typename T>
void transposeCopy(const TransposeGeom &g, const T *x, T *y) {
  const size_t r = g.dims.size();
  const int64_t n = g.dims[r - 1], sn = g.src[r - 1];
  if (sn == 1) {
    // Rows stay contiguous: copy them.
    std::vector<int64_t> idx(r, 0);
    const int64_t rows = numElements(Shape(g.dims.begin(), g.dims.end() - 1));
    int64_t off = 0;
    for (int64_t row = 0; row < rows; ++row) {
      std::memcpy(y + row * n, x + off, size_t(n) * sizeof(T));
      advance(g, r - 1, idx, off);
    }
    return;
  }
  // The input's contiguous dim j (stride 1) is swapped with the output's
  // last dim: transpose [dims[j], n] tiles so that both sides are read and
  // written in cache lines.
  size_t j = r;
  for (size_t d = 0; d + 1 < r; ++d)
    if (g.src[d] == 1)
      j = d;
  const std::vector<int64_t> ys = stridesOf(Shape(g.dims.begin(), g.dims.end()));
  if (j == r) {
    // No stride-1 dim (cannot happen for a dense input); gather.
    const int64_t total = numElements(Shape(g.dims.begin(), g.dims.end()));
    std::vector<int64_t> idx(r, 0);
    int64_t off = 0;
    for (int64_t i = 0; i < total; ++i) {
      y[i] = x[off];
      advance(g, r, idx, off);
    }
    return;
  }
  const int64_t m = g.dims[j], ym = ys[j];
  // Outer loop over every dim but j and r-1.
  std::vector<size_t> outer;
  for (size_t d = 0; d + 1 < r; ++d)
    if (d != j)
      outer.push_back(d);
  std::vector<int64_t> idx(outer.size(), 0);
  int64_t outerCount = 1;
  for (size_t d : outer)
    outerCount *= g.dims[d];
  constexpr int64_t T0 = 16;
  int64_t xo = 0, yo = 0;
  for (int64_t o = 0; o < outerCount; ++o) {
    for (int64_t i0 = 0; i0 < m; i0 += T0)
      for (int64_t k0 = 0; k0 < n; k0 += T0) {
        const int64_t i1 = std::min(m, i0 + T0), k1 = std::min(n, k0 + T0);
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t k = k0; k < k1; ++k)
            y[yo + i * ym + k] = x[xo + i + k * sn];
      }
    for (size_t q = outer.size(); q-- > 0;) {
      const size_t d = outer[q];
      xo += g.src[d];
      yo += ys[d];
      if (++idx[q] < g.dims[d])
        break;
      xo -= g.src[d] * g.dims[d];
      yo -= ys[d] * g.dims[d];
      idx[q] = 0;
    }
  }
}

void transposeFast(KernelArgs &a) {
  std::optional<TransposeGeom> g = transposeGeom(a);
  if (!g)
    fail("transpose", "fast path called for a call it does not accept");
  const void *x = a.inputs[0].data;
  void *y = a.outputs[0].data;
  switch (g->elem) {
  case 1:
    return transposeCopy(*g, static_cast<const uint8_t *>(x), static_cast<uint8_t *>(y));
  case 2:
    return transposeCopy(*g, static_cast<const uint16_t *>(x), static_cast<uint16_t *>(y));
  case 4:
    return transposeCopy(*g, static_cast<const uint32_t *>(x), static_cast<uint32_t *>(y));
  default:
    return transposeCopy(*g, static_cast<const uint64_t *>(x), static_cast<uint64_t *>(y));
  }
}

/// global_average_pool over f32 [N, C, spatial...]: one mean per (n, c),
/// summed in double like the reference.
bool globalAvgAccepts(const KernelArgs &a) {
  if (a.inputs.size() != 1 || a.outputs.size() != 1)
    return false;
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  if (x.dtype != DType::F32 || y.dtype != DType::F32 || x.rank() < 3 || y.rank() != x.rank() ||
      y.shape[0] != x.shape[0] || y.shape[1] != x.shape[1])
    return false;
  for (size_t d = 2; d < y.rank(); ++d)
    if (y.shape[d] != 1)
      return false;
  return numElements(Shape(x.shape.begin() + 2, x.shape.end())) > 0;
}

void globalAvgFast(KernelArgs &a) {
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  const int64_t rows = x.shape[0] * x.shape[1];
  const int64_t n = numElements(Shape(x.shape.begin() + 2, x.shape.end()));
  const float *px = x.as<float>();
  float *py = y.as<float>();
  const bool avx2 = vec::hasAvx2Fma();
  for (int64_t r = 0; r < rows; ++r) {
    const float *p = px + r * n;
    double s = 0;
    if (avx2) {
      s = vec::sumAvx2(p, n);
    } else {
      for (int64_t i = 0; i < n; ++i)
        s += p[i];
    }
    py[r] = float(s / double(n));
  }
}

/// f32 add/sub/mul/div where one operand has the output's shape and the
/// other broadcasts as "one value per block": it varies over one contiguous
/// run of the output's dims only (a scalar, a per-channel [1, C, 1, 1]
/// scale, a bias over the last dim, the same shape). Same float arithmetic
/// as the reference (one IEEE operation per element), so bit-identical.
struct BinaryGeom {
  bool fullIsA = true;
  int64_t n = 0, inner = 1, period = 1; ///< other[(i / inner) % period]
};

std::optional<BinaryGeom> binaryGeom(const KernelArgs &a) {
  if (a.inputs.size() != 2 || a.outputs.size() != 1)
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &z = a.inputs[1], &y = a.outputs[0];
  for (const TensorRef *t : {&x, &z, &y})
    if (!t->present || t->dtype != DType::F32)
      return std::nullopt;
  BinaryGeom g;
  g.n = y.numElements();
  if (g.n == 0)
    return std::nullopt;
  const TensorRef *other;
  if (x.shape == y.shape) {
    g.fullIsA = true;
    other = &z;
  } else if (z.shape == y.shape) {
    g.fullIsA = false;
    other = &x;
  } else {
    return std::nullopt;
  }
  if (other->rank() > y.rank())
    return std::nullopt;
  Shape os(y.rank() - other->rank(), 1);
  os.insert(os.end(), other->shape.begin(), other->shape.end());
  // The dims where `other` is not broadcast must form one contiguous run.
  int64_t first = -1, last = -1;
  for (size_t d = 0; d < os.size(); ++d) {
    if (os[d] == y.shape[d] && y.shape[d] != 1) {
      if (first < 0)
        first = int64_t(d);
      else if (last != int64_t(d) - 1)
        return std::nullopt;
      last = int64_t(d);
    } else if (os[d] != 1) {
      return std::nullopt;
    }
  }
  if (first >= 0) {
    g.period = numElements(Shape(y.shape.begin() + first, y.shape.begin() + last + 1));
    g.inner = numElements(Shape(y.shape.begin() + last + 1, y.shape.end()));
  } else {
    g.inner = g.n; // one value for the whole output (a scalar): one run
  }
  return g;
}

enum class BinOp { Add, Sub, Mul, Div };

template <BinOp K>
__attribute__((target("avx2,fma"), always_inline)) inline __m256 binVec(__m256 a, __m256 b) {
  if constexpr (K == BinOp::Add)
    return _mm256_add_ps(a, b);
  else if constexpr (K == BinOp::Sub)
    return _mm256_sub_ps(a, b);
  else if constexpr (K == BinOp::Mul)
    return _mm256_mul_ps(a, b);
  else
    return _mm256_div_ps(a, b);
}

/// y[i] = full[i] op other[i] (or other op full when !fullIsA) for i in
/// [0, n); `other` null: the scalar `o` instead. Eight at a time with AVX2,
/// the rest with `op`; one IEEE operation per element either way.
template <BinOp K, typename Op>
__attribute__((target("avx2,fma"))) void binaryRowAvx2(const float *full, const float *other,
                                                       float o, float *y, int64_t n,
                                                       bool fullIsA, Op op) {
  const __m256 ov = _mm256_set1_ps(o);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 f = _mm256_loadu_ps(full + i), t = other ? _mm256_loadu_ps(other + i) : ov;
    _mm256_storeu_ps(y + i, fullIsA ? binVec<K>(f, t) : binVec<K>(t, f));
  }
  for (; i < n; ++i) {
    const float t = other ? other[i] : o;
    y[i] = fullIsA ? op(full[i], t) : op(t, full[i]);
  }
}

template <BinOp K, typename Op>
void binaryRun(const BinaryGeom &g, const float *full, const float *other, float *y, Op op) {
  const auto apply = [&](float f, float o) { return g.fullIsA ? op(f, o) : op(o, f); };
  const bool avx2 = vec::hasAvx2Fma();
  if (g.period == g.n) {
    if (avx2)
      return binaryRowAvx2<K>(full, other, 0.0f, y, g.n, g.fullIsA, op);
    for (int64_t i = 0; i < g.n; ++i)
      y[i] = apply(full[i], other[i]);
  } else if (g.inner == 1) {
    for (int64_t r = 0; r < g.n; r += g.period) {
      if (avx2) {
        binaryRowAvx2<K>(full + r, other, 0.0f, y + r, g.period, g.fullIsA, op);
        continue;
      }
      for (int64_t j = 0; j < g.period; ++j)
        y[r + j] = apply(full[r + j], other[j]);
    }
  } else {
    const int64_t blocks = g.n / g.inner;
    for (int64_t b = 0; b < blocks; ++b) {
      const float o = other[b % g.period];
      const float *f = full + b * g.inner;
      float *yb = y + b * g.inner;
      if (avx2) {
        binaryRowAvx2<K>(f, nullptr, o, yb, g.inner, g.fullIsA, op);
        continue;
      }
      for (int64_t k = 0; k < g.inner; ++k)
        yb[k] = apply(f[k], o);
    }
  }
}

template <BinOp K, typename Op> KernelFn binaryFast(Op op) {
  return [op](KernelArgs &a) {
    std::optional<BinaryGeom> g = binaryGeom(a);
    if (!g)
      fail("binary", "fast path called for a call it does not accept");
    const float *full = (g->fullIsA ? a.inputs[0] : a.inputs[1]).as<float>();
    const float *other = (g->fullIsA ? a.inputs[1] : a.inputs[0]).as<float>();
    binaryRun<K>(*g, full, other, a.outputs[0].as<float>(), op);
  };
}

/// relu of an f32 tensor, eight at a time: max(x, 0) returns its second
/// operand for a NaN and for -0, as the reference's `x > 0 ? x : 0` does.
__attribute__((target("avx2"))) void reluAvx2(const float *x, float *y, int64_t n) {
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_max_ps(_mm256_loadu_ps(x + i), zero));
  for (; i < n; ++i)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

bool reluAccepts(const KernelArgs &a) {
  return a.inputs.size() == 1 && a.outputs.size() == 1 && a.inputs[0].present &&
         a.inputs[0].dtype == DType::F32 && a.outputs[0].dtype == DType::F32 &&
         a.inputs[0].shape == a.outputs[0].shape;
}

void reluFast(KernelArgs &a) {
  const float *x = a.inputs[0].as<float>();
  float *y = a.outputs[0].as<float>();
  const int64_t n = a.outputs[0].numElements();
  if (vec::hasAvx2Fma())
    return reluAvx2(x, y, n);
  for (int64_t i = 0; i < n; ++i)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/// where(cond, x, y) over 4-byte elements (f32, i32) with any broadcast:
/// adjacent output dims whose operands broadcast alike are merged, then
/// each row of the last merged dim is one loop with per-operand strides 0
/// or 1. A selection, so identical to the reference.
struct WhereGeom {
  Shape shape;                          ///< merged output dims
  std::array<std::vector<int64_t>, 3> strides; ///< per operand, per dim
};

std::optional<WhereGeom> whereGeom(const KernelArgs &a) {
  if (a.inputs.size() != 3 || a.outputs.size() != 1)
    return std::nullopt;
  const TensorRef &y = a.outputs[0];
  if (!a.inputs[0].present || a.inputs[0].dtype != DType::Bool ||
      (y.dtype != DType::F32 && y.dtype != DType::I32) || y.numElements() == 0)
    return std::nullopt;
  const int64_t rank = int64_t(y.rank());
  WhereGeom g;
  // Per operand, per output dim: the element stride (0: broadcast).
  std::array<std::vector<int64_t>, 3> full;
  for (size_t k = 0; k < 3; ++k) {
    const TensorRef &t = a.inputs[k];
    if (!t.present || (k > 0 && t.dtype != y.dtype) || int64_t(t.rank()) > rank)
      return std::nullopt;
    full[k].assign(size_t(rank), 0);
    int64_t stride = 1;
    for (int64_t d = rank - 1, td = int64_t(t.rank()) - 1; td >= 0; --d, --td) {
      const int64_t dim = t.shape[size_t(td)];
      if (dim != y.shape[size_t(d)] && dim != 1)
        return std::nullopt;
      full[k][size_t(d)] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
  }
  // The output must be the operands' broadcast (else the reference reports
  // it): of their rank, and no dim > 1 that every operand broadcasts.
  size_t maxRank = 0;
  for (size_t k = 0; k < 3; ++k)
    maxRank = std::max(maxRank, a.inputs[k].rank());
  if (int64_t(maxRank) != rank)
    return std::nullopt;
  for (int64_t d = 0; d < rank; ++d)
    if (y.shape[size_t(d)] != 1 && !full[0][size_t(d)] && !full[1][size_t(d)] &&
        !full[2][size_t(d)])
      return std::nullopt;
  // Merge dim d into the run after it where every operand continues it.
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t dim = y.shape[size_t(d)];
    if (dim == 1)
      continue;
    bool merge = !g.shape.empty();
    for (size_t k = 0; k < 3 && merge; ++k) {
      const int64_t prev = g.strides[k].back(), cur = full[k][size_t(d)];
      merge = prev == 0 ? cur == 0 : cur != 0 && prev == cur * dim;
    }
    if (merge) {
      g.shape.back() *= dim;
      for (size_t k = 0; k < 3; ++k)
        g.strides[k].back() = full[k][size_t(d)];
    } else {
      g.shape.push_back(dim);
      for (size_t k = 0; k < 3; ++k)
        g.strides[k].push_back(full[k][size_t(d)]);
    }
  }
  if (g.shape.empty()) { // one element
    g.shape.push_back(1);
    for (size_t k = 0; k < 3; ++k)
      g.strides[k].push_back(0);
  }
  return g;
}

template <typename T>
void whereRun(const WhereGeom &g, const uint8_t *c, const T *x, const T *z, T *y) {
  const size_t rank = g.shape.size();
  const int64_t len = g.shape.back();
  const int64_t sc = g.strides[0].back(), sx = g.strides[1].back(), sz = g.strides[2].back();
  std::vector<int64_t> idx(rank, 0);
  int64_t oc = 0, ox = 0, oz = 0;
  const int64_t rows = numElements(g.shape) / len;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t *cr = c + oc;
    const T *xr = x + ox, *zr = z + oz;
    T *yr = y + r * len;
    if (sc && sx && sz)
      for (int64_t i = 0; i < len; ++i)
        yr[i] = cr[i] ? xr[i] : zr[i];
    else
      for (int64_t i = 0; i < len; ++i)
        yr[i] = cr[i * sc] ? xr[i * sx] : zr[i * sz];
    // Next row: an odometer over the outer dims.
    for (int64_t d = int64_t(rank) - 2; d >= 0; --d) {
      oc += g.strides[0][size_t(d)];
      ox += g.strides[1][size_t(d)];
      oz += g.strides[2][size_t(d)];
      if (++idx[size_t(d)] < g.shape[size_t(d)])
        break;
      oc -= g.strides[0][size_t(d)] * g.shape[size_t(d)];
      ox -= g.strides[1][size_t(d)] * g.shape[size_t(d)];
      oz -= g.strides[2][size_t(d)] * g.shape[size_t(d)];
      idx[size_t(d)] = 0;
    }
  }
}

void whereFast(KernelArgs &a) {
  std::optional<WhereGeom> g = whereGeom(a);
  if (!g)
    fail("where", "fast path called for a call it does not accept");
  const auto *c = static_cast<const uint8_t *>(a.inputs[0].data);
  if (a.outputs[0].dtype == DType::F32)
    whereRun(*g, c, a.inputs[1].as<float>(), a.inputs[2].as<float>(), a.outputs[0].as<float>());
  else
    whereRun(*g, c, a.inputs[1].as<int32_t>(), a.inputs[2].as<int32_t>(),
             a.outputs[0].as<int32_t>());
}

void add(KernelRegistry &r, const char *name, KernelFn fn) {
  r.add(KernelEntry{name, {}, KernelImpl::Reference, std::move(fn), nullptr});
}

} // namespace
} // namespace nn

/// Registers the NN reference kernels.
void registerNNKernels(KernelRegistry &r) {
  using namespace nn;
  add(r, "conv", convKernel);
  add(r, "conv_transpose", convTransposeKernel);
  add(r, "average_pool", [](KernelArgs &a) { poolKernel(a, false); });
  add(r, "max_pool", [](KernelArgs &a) { poolKernel(a, true); });
  add(r, "global_average_pool", [](KernelArgs &a) { globalPoolKernel(a, false); });
  add(r, "global_max_pool", [](KernelArgs &a) { globalPoolKernel(a, true); });
  add(r, "max_unpool", maxUnpoolKernel);
  add(r, "batch_normalization", batchNormKernel);
  add(r, "instance_normalization", instanceNormKernel);
  add(r, "layer_normalization", layerNormKernel);
  add(r, "lrn", lrnKernel);
  add(r, "mean_variance_normalization", mvnKernel);
  r.add(KernelEntry{"transpose", {}, KernelImpl::Fast, transposeFast,
                    [](const KernelArgs &a) { return transposeGeom(a).has_value(); }});
  r.add(KernelEntry{"global_average_pool", {}, KernelImpl::Fast, globalAvgFast,
                    globalAvgAccepts});
  auto binAccepts = [](const KernelArgs &a) { return binaryGeom(a).has_value(); };
  r.add(KernelEntry{"add", {}, KernelImpl::Fast,
                    binaryFast<BinOp::Add>([](float x, float z) { return x + z; }), binAccepts});
  r.add(KernelEntry{"sub", {}, KernelImpl::Fast,
                    binaryFast<BinOp::Sub>([](float x, float z) { return x - z; }), binAccepts});
  r.add(KernelEntry{"mul", {}, KernelImpl::Fast,
                    binaryFast<BinOp::Mul>([](float x, float z) { return x * z; }), binAccepts});
  r.add(KernelEntry{"div", {}, KernelImpl::Fast,
                    binaryFast<BinOp::Div>([](float x, float z) { return x / z; }), binAccepts});
  r.add(KernelEntry{"relu", {}, KernelImpl::Fast, reluFast, reluAccepts});
  r.add(KernelEntry{"where", {}, KernelImpl::Fast, whereFast,
                    [](const KernelArgs &a) { return whereGeom(a).has_value(); }});
}

} // namespace loom::rt
