//===- ImageKernels.cpp - Resize, GridSample, RoiAlign, NMS ---------------===//
//
// Reference kernels for the ONNX image operators. Arithmetic is in double.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "NNUtil.h"

#include <limits>
#include <numeric>
#include <optional>

namespace loom::rt {
namespace nn {
namespace {

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

/// The taps that produce one output position along one axis: input indices
/// (already clamped to the edge) and weights, or `extrapolate` when
/// tf_crop_and_resize maps the position outside the input.
struct AxisTaps {
  std::vector<int64_t> index;
  std::vector<double> weight;
  bool extrapolate = false;
};

/// Resize settings shared by all axes.
struct ResizeMode {
  std::string mode, coord, nearest;
  double cubicA = -0.75;
  bool excludeOutside = false;
};

/// Interpolation coefficients for the fractional position `ratio` in (0, 1]
/// (1 means "exactly on the right-hand neighbour").
std::vector<double> coefficients(const ResizeMode &m, double ratio, const char *K) {
  if (m.mode == "nearest") {
    if (ratio == 1.0)
      return {0, 1};
    bool right;
    if (m.nearest == "round_prefer_floor")
      right = ratio > 0.5;
    else if (m.nearest == "round_prefer_ceil")
      right = ratio >= 0.5;
    else if (m.nearest == "floor")
      right = false;
    else if (m.nearest == "ceil")
      right = true;
    else
      fail(K, "unknown nearest_mode '" + m.nearest + "'");
    return {right ? 0.0 : 1.0, right ? 1.0 : 0.0};
  }
  if (m.mode == "linear")
    return {1 - ratio, ratio};
  if (m.mode == "cubic") {
    const double A = m.cubicA;
    auto near = [A](double t) { return ((A + 2) * t - (A + 3)) * t * t + 1; };
    auto far = [A](double t) { return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A; };
    return {far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)};
  }
  fail(K, "unknown mode '" + m.mode + "'");
}

/// Taps for output index `o` of an axis of input length `in`, with scale
/// factor `scale` and region of interest [roiStart, roiEnd] (normalised).
AxisTaps axisTaps(const ResizeMode &m, int64_t o, int64_t in, double scale,
                  double roiStart, double roiEnd, const char *K) {
  const double x = double(o);
  const double outLen = scale * double(in);
  double src;
  const std::string &c = m.coord;
  if (c == "half_pixel") {
    src = (x + 0.5) / scale - 0.5;
  } else if (c == "pytorch_half_pixel") {
    src = outLen > 1 ? (x + 0.5) / scale - 0.5 : -0.5;
  } else if (c == "align_corners") {
    src = outLen == 1 ? 0.0 : x * double(in - 1) / (outLen - 1);
  } else if (c == "asymmetric") {
    src = x / scale;
  } else if (c == "tf_half_pixel_for_nn") {
    src = (x + 0.5) / scale;
  } else if (c == "tf_crop_and_resize") {
    src = outLen == 1 ? (roiEnd - roiStart) * double(in - 1) / 2
                      : x * (roiEnd - roiStart) * double(in - 1) / (outLen - 1);
    src += roiStart * double(in - 1);
    if (src < 0 || src > double(in - 1)) {
      AxisTaps t;
      t.extrapolate = true;
      return t;
    }
  } else {
    fail(K, "unknown coordinate_transformation_mode '" + c + "'");
  }
  // The left neighbour; an exact integer position counts as "ratio 1" from
  // the index below it.
  double fl = std::floor(src);
  int64_t left = int64_t(fl);
  double ratio = src - fl;
  if (ratio == 0) {
    left -= 1;
    ratio = 1;
  }
  std::vector<double> w = coefficients(m, ratio, K);
  const int64_t n = int64_t(w.size());
  const int64_t first = left - (n / 2 - 1);
  AxisTaps t;
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = first + k;
    if (m.excludeOutside && (i < 0 || i >= in))
      w[size_t(k)] = 0;
    sum += w[size_t(k)];
  }
  for (int64_t k = 0; k < n; ++k) {
    double wk = m.excludeOutside && sum != 0 ? w[size_t(k)] / sum : w[size_t(k)];
    if (wk == 0)
      continue;
    t.index.push_back(std::min(std::max<int64_t>(first + k, 0), in - 1));
    t.weight.push_back(wk);
  }
  return t;
}

/// The attributes and scale/roi inputs of a resize call, checked.
struct ResizeCall {
  ResizeMode m;
  double extrapolation = 0;
  std::vector<double> scales, roi;
};

ResizeCall resizeCall(const KernelArgs &a, const char *K) {
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  const size_t rank = x.rank();
  if (y.rank() != rank)
    fail(K, "Y must have the rank of X");
  ResizeCall c;
  ResizeMode &m = c.m;
  m.mode = a.attrs.getString("mode", "nearest");
  m.coord = a.attrs.getString("coordinate_transformation_mode", "half_pixel");
  m.nearest = a.attrs.getString("nearest_mode", "round_prefer_floor");
  m.cubicA = a.attrs.getFloat("cubic_coeff_a", -0.75);
  m.excludeOutside = a.attrs.getInt("exclude_outside", 0) != 0;
  c.extrapolation = a.attrs.getFloat("extrapolation_value", 0.0);

  std::vector<double> &scales = c.scales;
  scales.resize(rank);
  const TensorRef *sc = optInput(a, 2), *sz = optInput(a, 3);
  if (sc && sc->numElements() == 0)
    sc = nullptr;
  if (sz && sz->numElements() == 0)
    sz = nullptr;
  if (sc) {
    if (size_t(sc->numElements()) != rank)
      fail(K, "scales must have one entry per input dimension");
    scales = toDoubles(*sc);
  } else if (sz) {
    if (size_t(sz->numElements()) != rank)
      fail(K, "sizes must have one entry per input dimension");
    for (size_t d = 0; d < rank; ++d)
      scales[d] = double(loadI(*sz, int64_t(d))) / double(x.shape[d]);
  } else {
    fail(K, "one of scales and sizes must be given");
  }
  for (size_t d = 0; d < rank; ++d)
    if (!(scales[d] > 0))
      fail(K, "scales must be positive");
  c.roi.assign(2 * rank, 0.0);
  for (size_t d = 0; d < rank; ++d)
    c.roi[rank + d] = 1.0;
  if (m.coord == "tf_crop_and_resize") {
    const TensorRef *r = optInput(a, 1);
    if (!r || size_t(r->numElements()) != 2 * rank)
      fail(K, "tf_crop_and_resize needs a roi with 2 * rank entries");
    c.roi = toDoubles(*r);
  }
  return c;
}

/// Resize (opset 13): separable interpolation, one axis at a time.
void resizeKernel(KernelArgs &a) {
  const char *K = "resize";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  const size_t rank = x.rank();
  const ResizeCall call = resizeCall(a, K);
  const ResizeMode &m = call.m;
  const std::vector<double> &scales = call.scales, &roi = call.roi;
  const double extrapolation = call.extrapolation;

  // Resize axis by axis: `cur` has shape `curShape`; after axis d it has the
  // output length along d.
  std::vector<double> cur = toDoubles(x);
  Shape curShape = x.shape;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t in = curShape[d], out = y.shape[d];
    std::vector<AxisTaps> taps;
    bool identity = in == out;
    for (int64_t o = 0; o < out; ++o) {
      taps.push_back(axisTaps(m, o, in, scales[d], roi[d], roi[rank + d], K));
      const AxisTaps &t = taps.back();
      identity = identity && !t.extrapolate && t.index.size() == 1 &&
                 t.index[0] == o && t.weight[0] == 1.0;
    }
    if (identity)
      continue;
    const int64_t outer = numElements(Shape(curShape.begin(), curShape.begin() + d));
    const int64_t inner = numElements(Shape(curShape.begin() + d + 1, curShape.end()));
    std::vector<double> next(size_t(outer * out * inner), 0.0);
    for (int64_t p = 0; p < outer; ++p)
      for (int64_t o = 0; o < out; ++o) {
        const AxisTaps &t = taps[size_t(o)];
        double *dst = next.data() + (p * out + o) * inner;
        if (t.extrapolate) {
          std::fill_n(dst, inner, extrapolation);
          continue;
        }
        for (size_t k = 0; k < t.index.size(); ++k) {
          const double *src = cur.data() + (p * in + t.index[k]) * inner;
          for (int64_t i = 0; i < inner; ++i)
            dst[i] += t.weight[k] * src[i];
        }
      }
    cur.swap(next);
    curShape[d] = out;
  }
  if (isFloat(y.dtype)) {
    fromDoubles(y, cur);
  } else {
    for (size_t i = 0; i < cur.size(); ++i)
      storeD(y, int64_t(i), std::nearbyint(cur[i]));
  }
}

/// For a nearest-mode f32 resize whose every output position reads one
/// input element (no extrapolation): per axis, the input index of each
/// output index, from the reference's own taps. Nullopt otherwise.
std::optional<std::vector<std::vector<int64_t>>> nearestTables(const KernelArgs &a) {
  const char *K = "resize";
  if (a.inputs.empty() || a.outputs.size() != 1 || !a.inputs[0].present ||
      !a.outputs[0].present || a.inputs[0].dtype != DType::F32 ||
      a.outputs[0].dtype != DType::F32 || a.inputs[0].rank() < 1)
    return std::nullopt;
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  std::vector<std::vector<int64_t>> tables;
  try {
    const ResizeCall c = resizeCall(a, K);
    if (c.m.mode != "nearest")
      return std::nullopt;
    const size_t rank = x.rank();
    for (size_t d = 0; d < rank; ++d) {
      std::vector<int64_t> index;
      for (int64_t o = 0; o < y.shape[d]; ++o) {
        const AxisTaps t = axisTaps(c.m, o, x.shape[d], c.scales[d], c.roi[d], c.roi[rank + d], K);
        if (t.extrapolate || t.index.size() != 1 || t.weight[0] != 1.0)
          return std::nullopt;
        index.push_back(t.index[0]);
      }
      tables.push_back(std::move(index));
    }
  } catch (const KernelError &) {
    return std::nullopt;
  }
  return tables;
}

/// Nearest-mode resize as a gather through the per-axis index tables:
/// the reference's values exactly (one element copied per output).
void resizeNearestFast(KernelArgs &a) {
  std::optional<std::vector<std::vector<int64_t>>> tables = nearestTables(a);
  if (!tables)
    fail("resize", "fast path called for a call it does not accept");
  const TensorRef &x = a.inputs[0], &y = a.outputs[0];
  const size_t rank = x.rank();
  const std::vector<int64_t> strides = stridesOf(x.shape);
  const std::vector<int64_t> &last = tables->back();
  const float *px = x.as<float>();
  float *py = y.as<float>();
  const int64_t inner = y.shape[rank - 1], outer = y.numElements() / std::max<int64_t>(inner, 1);
  std::vector<int64_t> pos(rank, 0); // output position of the current row
  for (int64_t r = 0; r < outer; ++r) {
    int64_t base = 0;
    for (size_t d = 0; d + 1 < rank; ++d)
      base += (*tables)[d][size_t(pos[d])] * strides[d];
    const float *src = px + base;
    float *dst = py + r * inner;
    for (int64_t i = 0; i < inner; ++i)
      dst[i] = src[last[size_t(i)]];
    for (size_t d = rank - 1; d-- > 0;) {
      if (++pos[d] < y.shape[d])
        break;
      pos[d] = 0;
    }
  }
}

//===----------------------------------------------------------------------===//
// GridSample (opset 16)
//===----------------------------------------------------------------------===//

/// Reflects `v` into [lo, hi] (given doubled, as in the usual definition).
double reflect(double v, double twiceLo, double twiceHi) {
  if (twiceLo == twiceHi)
    return 0;
  const double lo = twiceLo / 2, span = (twiceHi - twiceLo) / 2;
  v = std::fabs(v - lo);
  const double extra = std::fmod(v, span);
  const int64_t flips = int64_t(std::floor(v / span));
  return flips % 2 == 0 ? extra + lo : span - extra + lo;
}

struct GridSampler {
  std::string mode, padding;
  bool alignCorners = false;

  /// Normalised [-1, 1] coordinate to pixel coordinate along an axis.
  double unnormalize(double c, int64_t size) const {
    return alignCorners ? (c + 1) / 2 * double(size - 1) : ((c + 1) * double(size) - 1) / 2;
  }
  /// Applies border/reflection padding to a pixel coordinate.
  double pad(double v, int64_t size) const {
    if (padding == "border")
      return std::min(std::max(v, 0.0), double(size - 1));
    if (padding == "reflection") {
      v = alignCorners ? reflect(v, 0, 2.0 * double(size - 1))
                       : reflect(v, -1, 2.0 * double(size) - 1);
      return std::min(std::max(v, 0.0), double(size - 1));
    }
    return v;
  }
  /// Pixel (yy, xx) of plane `p`, 0 outside.
  static double at(const double *p, int64_t H, int64_t W, int64_t yy, int64_t xx) {
    return yy >= 0 && yy < H && xx >= 0 && xx < W ? p[yy * W + xx] : 0.0;
  }

  double sample(const double *p, int64_t H, int64_t W, double gx, double gy) const {
    double x = unnormalize(gx, W), y = unnormalize(gy, H);
    if (mode == "bicubic") {
      // Taps are padded one by one.
      const double x0 = std::floor(x), y0 = std::floor(y);
      auto coeffs = [](double t) {
        const double A = -0.75;
        auto near = [A](double s) { return ((A + 2) * s - (A + 3)) * s * s + 1; };
        auto far = [A](double s) { return ((A * s - 5 * A) * s + 8 * A) * s - 4 * A; };
        return std::array<double, 4>{far(t + 1), near(t), near(1 - t), far(2 - t)};
      };
      std::array<double, 4> wx = coeffs(x - x0), wy = coeffs(y - y0);
      double acc = 0;
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          double ty = pad(y0 - 1 + i, H), tx = pad(x0 - 1 + j, W);
          acc += wy[size_t(i)] * wx[size_t(j)] * at(p, H, W, int64_t(ty), int64_t(tx));
        }
      return acc;
    }
    x = pad(x, W);
    y = pad(y, H);
    if (mode == "nearest")
      return at(p, H, W, int64_t(std::nearbyint(y)), int64_t(std::nearbyint(x)));
    const double x0 = std::floor(x), y0 = std::floor(y);
    const double fx = x - x0, fy = y - y0;
    const int64_t ix = int64_t(x0), iy = int64_t(y0);
    return (1 - fy) * ((1 - fx) * at(p, H, W, iy, ix) + fx * at(p, H, W, iy, ix + 1)) +
           fy * ((1 - fx) * at(p, H, W, iy + 1, ix) + fx * at(p, H, W, iy + 1, ix + 1));
  }
};

void gridSampleKernel(KernelArgs &a) {
  const char *K = "grid_sample";
  const TensorRef &x = input(a, 0, K), &grid = input(a, 1, K), &y = output(a, 0, K);
  if (x.rank() != 4 || grid.rank() != 4 || grid.shape[3] != 2 || grid.shape[0] != x.shape[0])
    fail(K, "expected X [N, C, H, W] and grid [N, H_out, W_out, 2]");
  GridSampler s;
  s.mode = a.attrs.getString("mode", "bilinear");
  s.padding = a.attrs.getString("padding_mode", "zeros");
  s.alignCorners = a.attrs.getInt("align_corners", 0) != 0;
  if (s.mode != "bilinear" && s.mode != "nearest" && s.mode != "bicubic")
    fail(K, "unknown mode '" + s.mode + "'");
  if (s.padding != "zeros" && s.padding != "border" && s.padding != "reflection")
    fail(K, "unknown padding_mode '" + s.padding + "'");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Ho = grid.shape[1], Wo = grid.shape[2];
  if (y.numElements() != N * C * Ho * Wo)
    fail(K, "Y must have shape [N, C, H_out, W_out]");
  std::vector<double> xd = toDoubles(x), g = toDoubles(grid);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const double *plane = xd.data() + (n * C + c) * H * W;
      for (int64_t i = 0; i < Ho * Wo; ++i) {
        const double *gp = g.data() + (n * Ho * Wo + i) * 2;
        storeD(y, (n * C + c) * Ho * Wo + i, s.sample(plane, H, W, gp[0], gp[1]));
      }
    }
}

//===----------------------------------------------------------------------===//
// RoiAlign (opset 16)
//===----------------------------------------------------------------------===//

void roiAlignKernel(KernelArgs &a) {
  const char *K = "roi_align";
  const TensorRef &x = input(a, 0, K), &rois = input(a, 1, K), &bidx = input(a, 2, K);
  const TensorRef &y = output(a, 0, K);
  if (x.rank() != 4 || rois.rank() != 2 || rois.shape[1] != 4)
    fail(K, "expected X [N, C, H, W] and rois [num_rois, 4]");
  const int64_t numRois = rois.shape[0];
  if (bidx.numElements() != numRois)
    fail(K, "batch_indices must have num_rois elements");
  const int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t oh = a.attrs.getInt("output_height", 1), ow = a.attrs.getInt("output_width", 1);
  if (y.numElements() != numRois * C * oh * ow)
    fail(K, "Y must have shape [num_rois, C, output_height, output_width]");
  const int64_t ratio = a.attrs.getInt("sampling_ratio", 0);
  const double scale = a.attrs.getFloat("spatial_scale", 1.0);
  const std::string mode = a.attrs.getString("mode", "avg");
  const std::string ctm = a.attrs.getString("coordinate_transformation_mode", "half_pixel");
  if (mode != "avg" && mode != "max")
    fail(K, "unknown mode '" + mode + "'");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    fail(K, "unknown coordinate_transformation_mode '" + ctm + "'");
  const bool halfPixel = ctm == "half_pixel";
  const double offset = halfPixel ? 0.5 : 0.0;
  std::vector<double> xd = toDoubles(x), rd = toDoubles(rois);

  for (int64_t r = 0; r < numRois; ++r) {
    const int64_t b = loadI(bidx, r);
    if (b < 0 || b >= x.shape[0])
      fail(K, "batch index " + std::to_string(b) + " out of range");
    const double *box = rd.data() + r * 4;
    const double x1 = box[0] * scale - offset, y1 = box[1] * scale - offset;
    double rw = box[2] * scale - offset - x1, rh = box[3] * scale - offset - y1;
    if (!halfPixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double binH = rh / double(oh), binW = rw / double(ow);
    const int64_t gh = ratio > 0 ? ratio : int64_t(std::ceil(rh / double(oh)));
    const int64_t gw = ratio > 0 ? ratio : int64_t(std::ceil(rw / double(ow)));
    const double count = double(std::max<int64_t>(gh * gw, 1));
    for (int64_t c = 0; c < C; ++c) {
      const double *plane = xd.data() + (b * C + c) * H * W;
      for (int64_t ph = 0; ph < oh; ++ph)
        for (int64_t pw = 0; pw < ow; ++pw) {
          double acc = 0, best = -std::numeric_limits<double>::infinity();
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              double yy = y1 + double(ph) * binH + (double(iy) + 0.5) * binH / double(gh);
              double xx = x1 + double(pw) * binW + (double(ix) + 0.5) * binW / double(gw);
              // Bilinear weights of the four neighbours; samples more than one
              // pixel outside contribute 0.
              double w[4] = {0, 0, 0, 0};
              int64_t pos[4] = {0, 0, 0, 0};
              if (!(yy < -1.0 || yy > double(H) || xx < -1.0 || xx > double(W))) {
                yy = std::max(yy, 0.0);
                xx = std::max(xx, 0.0);
                int64_t yl = int64_t(yy), xl = int64_t(xx), yh, xh;
                if (yl >= H - 1) {
                  yh = yl = H - 1;
                  yy = double(yl);
                } else {
                  yh = yl + 1;
                }
                if (xl >= W - 1) {
                  xh = xl = W - 1;
                  xx = double(xl);
                } else {
                  xh = xl + 1;
                }
                double ly = yy - double(yl), lx = xx - double(xl);
                double hy = 1 - ly, hx = 1 - lx;
                w[0] = hy * hx, w[1] = hy * lx, w[2] = ly * hx, w[3] = ly * lx;
                pos[0] = yl * W + xl, pos[1] = yl * W + xh, pos[2] = yh * W + xl,
                pos[3] = yh * W + xh;
              }
              double v = 0, m = -std::numeric_limits<double>::infinity();
              for (int k = 0; k < 4; ++k) {
                v += w[k] * plane[pos[k]];
                m = std::max(m, w[k] * plane[pos[k]]);
              }
              acc += v;
              best = std::max(best, m);
            }
          double out = mode == "avg" ? acc / count : (gh * gw > 0 ? best : 0.0);
          storeD(y, ((r * C + c) * oh + ph) * ow + pw, out);
        }
    }
  }
}

//===----------------------------------------------------------------------===//
// NonMaxSuppression
//===----------------------------------------------------------------------===//

/// NonMaxSuppression. The output's first dimension is data-dependent: the
/// kernel writes the selected triples up to the preallocated row count and
/// fills any remaining rows with -1.
void nmsKernel(KernelArgs &a) {
  const char *K = "non_max_suppression";
  const TensorRef &boxes = input(a, 0, K), &scores = input(a, 1, K), &out = output(a, 0, K);
  if (boxes.rank() != 3 || boxes.shape[2] != 4 || scores.rank() != 3 ||
      scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1])
    fail(K, "expected boxes [B, N, 4] and scores [B, classes, N]");
  if (out.rank() != 2 || out.shape[1] != 3 || out.dtype != DType::I64)
    fail(K, "selected_indices must be i64 [num_selected, 3]");
  int64_t maxPerClass = 0;
  if (const TensorRef *t = optInput(a, 2); t && t->numElements() > 0)
    maxPerClass = loadI(*t, 0);
  double iouThreshold = 0;
  if (const TensorRef *t = optInput(a, 3); t && t->numElements() > 0)
    iouThreshold = loadD(*t, 0);
  const TensorRef *st = optInput(a, 4);
  const bool hasScoreThreshold = st && st->numElements() > 0;
  const double scoreThreshold = hasScoreThreshold ? loadD(*st, 0) : 0.0;
  const bool center = a.attrs.getInt("center_point_box", 0) != 0;

  const int64_t B = boxes.shape[0], N = boxes.shape[1], classes = scores.shape[1];
  std::vector<double> bx = toDoubles(boxes), sc = toDoubles(scores);
  // Corners as (ymin, xmin, ymax, xmax).
  auto corners = [&](int64_t b, int64_t i) {
    const double *p = bx.data() + (b * N + i) * 4;
    if (center)
      return std::array<double, 4>{p[1] - p[3] / 2, p[0] - p[2] / 2, p[1] + p[3] / 2,
                                   p[0] + p[2] / 2};
    return std::array<double, 4>{std::min(p[0], p[2]), std::min(p[1], p[3]),
                                 std::max(p[0], p[2]), std::max(p[1], p[3])};
  };
  auto suppresses = [&](const std::array<double, 4> &p, const std::array<double, 4> &q) {
    double areaP = (p[2] - p[0]) * (p[3] - p[1]), areaQ = (q[2] - q[0]) * (q[3] - q[1]);
    if (areaP <= 0 || areaQ <= 0)
      return false;
    double ih = std::min(p[2], q[2]) - std::max(p[0], q[0]);
    double iw = std::min(p[3], q[3]) - std::max(p[1], q[1]);
    if (ih <= 0 || iw <= 0)
      return false;
    double inter = ih * iw;
    return inter / (areaP + areaQ - inter) > iouThreshold;
  };

  std::vector<std::array<int64_t, 3>> selected;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < classes; ++c) {
      const double *s = sc.data() + (b * classes + c) * N;
      std::vector<int64_t> order;
      for (int64_t i = 0; i < N; ++i)
        if (!hasScoreThreshold || s[i] > scoreThreshold)
          order.push_back(i);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t p, int64_t q) { return s[p] > s[q]; });
      std::vector<int64_t> kept;
      for (int64_t i : order) {
        if (int64_t(kept.size()) >= maxPerClass)
          break;
        bool ok = true;
        for (int64_t k : kept)
          if (suppresses(corners(b, k), corners(b, i))) {
            ok = false;
            break;
          }
        if (ok)
          kept.push_back(i);
      }
      for (int64_t i : kept)
        selected.push_back({b, c, i});
    }
  int64_t *o = out.as<int64_t>();
  const int64_t rows = out.shape[0];
  for (int64_t r = 0; r < rows; ++r)
    for (int k = 0; k < 3; ++k)
      o[r * 3 + k] = r < int64_t(selected.size()) ? selected[size_t(r)][size_t(k)] : -1;
}

void add(KernelRegistry &r, const char *name, KernelFn fn) {
  r.add(KernelEntry{name, {}, KernelImpl::Reference, std::move(fn), nullptr});
}

} // namespace
} // namespace nn

/// Registers the image reference kernels.
void registerImageKernels(KernelRegistry &r) {
  using namespace nn;
  add(r, "resize", resizeKernel);
  r.add(KernelEntry{"resize", {}, KernelImpl::Fast, resizeNearestFast,
                    [](const KernelArgs &a) { return nearestTables(a).has_value(); }});
  add(r, "grid_sample", gridSampleKernel);
  add(r, "roi_align", roiAlignKernel);
  add(r, "non_max_suppression", nmsKernel);
}

} // namespace loom::rt
