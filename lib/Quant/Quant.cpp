//===- Quant.cpp - Quantization parameters, calibration, AWQ --------------===//
//
// See include/loom/Quant/Quant.h for the contracts.
//
//===----------------------------------------------------------------------===//
#include "loom/Quant/Quant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace loom::quant {

int32_t qmin(Storage s) {
  switch (s) {
  case Storage::U8: return 0;
  case Storage::I8: return -128;
  case Storage::I4: return -8;
  }
  return 0;
}

int32_t qmax(Storage s) {
  switch (s) {
  case Storage::U8: return 255;
  case Storage::I8: return 127;
  case Storage::I4: return 7;
  }
  return 0;
}

namespace {
int32_t roundClamp(double v, int32_t lo, int32_t hi) {
  if (std::isnan(v))
    return lo;
  const double r = std::nearbyint(v);
  return int32_t(std::min<double>(hi, std::max<double>(lo, r)));
}
} // namespace

QParams chooseAsymmetric(float min, float max, Storage s) {
  const float lo = std::min(min, 0.0f), hi = std::max(max, 0.0f);
  const int32_t qlo = qmin(s), qhi = qmax(s);
  QParams p;
  p.scale = (hi - lo) / float(qhi - qlo);
  if (!(p.scale > 0) || !std::isfinite(p.scale))
    p.scale = 1.0f;
  p.zeroPoint = roundClamp(double(qlo) - double(lo / p.scale), qlo, qhi);
  return p;
}

QParams chooseSymmetric(float absMax, Storage s) {
  QParams p;
  const int32_t q = s == Storage::U8 ? 127 : qmax(s);
  p.scale = absMax > 0 ? absMax / float(q) : 1.0f;
  if (!std::isfinite(p.scale) || p.scale <= 0)
    p.scale = 1.0f;
  p.zeroPoint = s == Storage::U8 ? 128 : 0;
  return p;
}

//===----------------------------------------------------------------------===//
// RangeObserver
//===----------------------------------------------------------------------===//

RangeObserver::RangeObserver() : hist_(size_t(2 * kBins), 0) {}

void RangeObserver::grow(double absMax) {
  if (absMax <= range_)
    return;
  if (range_ == 0) {
    range_ = absMax; // zeros seen so far are in bin kBins, valid for any R
    return;
  }
  while (absMax > range_) {
    std::vector<uint64_t> h(hist_.size(), 0);
    for (int j = 0; j < kBins; ++j) {
      h[size_t(kBins + j / 2)] += hist_[size_t(kBins + j)];         // positive side
      h[size_t(kBins - 1 - j / 2)] += hist_[size_t(kBins - 1 - j)]; // negative side
    }
    hist_.swap(h);
    range_ *= 2;
  }
}

void RangeObserver::observe(const float *data, size_t n) {
  double absMax = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (std::isnan(v))
      continue;
    if (!any_) {
      min_ = max_ = v;
      any_ = true;
    }
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    if (std::isfinite(v))
      absMax = std::max(absMax, std::fabs(double(v)));
  }
  grow(absMax);
  const double w = range_ / kBins;
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v))
      continue;
    ++count_;
    if (v == 0 || w == 0) {
      ++hist_[size_t(kBins)];
      continue;
    }
    const int64_t j = std::min<int64_t>(kBins - 1, int64_t(std::fabs(double(v)) / w));
    ++hist_[size_t(v > 0 ? kBins + j : kBins - 1 - j)];
  }
}

double RangeObserver::signedQuantile(double frac) const {
  const double w = range_ / kBins, target = frac * double(count_);
  double cum = 0;
  for (int b = 0; b < 2 * kBins; ++b) {
    const double c = double(hist_[size_t(b)]);
    if (c > 0 && cum + c >= target) {
      const double lo = -range_ + b * w;
      return lo + std::max(0.0, target - cum) / c * w;
    }
    cum += c;
  }
  return range_;
}

float RangeObserver::absPercentile(double percentile) const {
  if (count_ == 0 || range_ == 0)
    return 0;
  const double w = range_ / kBins, target = percentile / 100.0 * double(count_);
  double cum = 0;
  for (int j = 0; j < kBins; ++j) {
    const double c = double(hist_[size_t(kBins + j)] + hist_[size_t(kBins - 1 - j)]);
    if (c > 0 && cum + c >= target)
      return float(j * w + std::max(0.0, target - cum) / c * w);
    cum += c;
  }
  return float(range_);
}

float RangeObserver::entropyThreshold() const {
  if (count_ == 0 || range_ == 0)
    return 0;
  constexpr int kLevels = 128; // int8: |q| in [0, 127]
  std::vector<double> h(static_cast<size_t>(kBins));
  for (int j = 0; j < kBins; ++j)
    h[size_t(j)] = double(hist_[size_t(kBins + j)] + hist_[size_t(kBins - 1 - j)]);
  // Suffix sums: the outliers clipped into the last bin of a candidate.
  std::vector<double> tail(size_t(kBins + 1), 0.0);
  for (int j = kBins; j-- > 0;)
    tail[size_t(j)] = tail[size_t(j + 1)] + h[size_t(j)];
  const double eps = 1e-4;
  double bestKl = std::numeric_limits<double>::infinity();
  int best = kBins;
  std::vector<double> P(static_cast<size_t>(kBins)), Q(static_cast<size_t>(kBins));
  // Adds eps to zero bins and takes it from the non-zero ones (MXNet's
  // _smooth_distribution); false when every bin is zero.
  auto smooth = [&](std::vector<double> &d, int n) {
    int zeros = 0;
    for (int k = 0; k < n; ++k)
      zeros += d[size_t(k)] == 0;
    if (zeros == n)
      return false;
    const double eps1 = eps * zeros / double(n - zeros);
    for (int k = 0; k < n; ++k)
      d[size_t(k)] = d[size_t(k)] == 0 ? eps : std::max(d[size_t(k)] - eps1, eps * 1e-3);
    return true;
  };
  for (int i = kLevels; i <= kBins; ++i) {
    // P: the first i bins with the outliers folded into the last one.
    for (int k = 0; k < i; ++k)
      P[size_t(k)] = h[size_t(k)];
    P[size_t(i - 1)] += tail[size_t(i)];
    // Q: the first i bins (without outliers) merged into kLevels levels,
    // each level spread evenly over its non-zero bins.
    const int merged = i / kLevels;
    std::fill(Q.begin(), Q.begin() + i, 0.0);
    for (int l = 0; l < kLevels; ++l) {
      const int start = l * merged, stop = l == kLevels - 1 ? i : start + merged;
      double sum = 0;
      int nonzero = 0;
      for (int k = start; k < stop; ++k) {
        sum += h[size_t(k)];
        nonzero += P[size_t(k)] != 0;
      }
      if (nonzero == 0)
        continue;
      for (int k = start; k < stop; ++k)
        if (P[size_t(k)] != 0)
          Q[size_t(k)] = sum / nonzero;
    }
    if (!smooth(P, i) || !smooth(Q, i))
      continue;
    double sp = 0, sq = 0;
    for (int k = 0; k < i; ++k) {
      sp += P[size_t(k)];
      sq += Q[size_t(k)];
    }
    double kl = 0;
    for (int k = 0; k < i; ++k) {
      const double p = P[size_t(k)] / sp, q = Q[size_t(k)] / sq;
      if (p > 0)
        kl += p * std::log(p / q);
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return float(best * (range_ / kBins));
}

std::pair<float, float> RangeObserver::range(Method m, double percentile) const {
  if (!any_)
    return {0.0f, 0.0f};
  switch (m) {
  case Method::MinMax:
    return {min_, max_};
  case Method::Percentile: {
    if (count_ == 0 || range_ == 0)
      return {std::max(min_, 0.0f), std::min(max_, 0.0f)};
    const double p = std::min(100.0, std::max(0.0, percentile)) / 100.0;
    const double lo = signedQuantile(1.0 - p), hi = signedQuantile(p);
    return {float(std::max<double>(min_, lo)), float(std::min<double>(max_, hi))};
  }
  case Method::Entropy: {
    const float t = entropyThreshold();
    return {std::max(min_, -t), std::min(max_, t)};
  }
  }
  return {min_, max_};
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

QuantizedWeights quantizeWeights(const float *w, const std::vector<int64_t> &shape,
                                 const std::vector<int64_t> &blockShape, int bits,
                                 bool searchClip) {
  if (bits != 2 && bits != 4 && bits != 8)
    throw std::invalid_argument("quantizeWeights: bits must be 2 (ternary), 4 or 8");
  if (blockShape.size() != shape.size())
    throw std::invalid_argument("quantizeWeights: blockShape must have the rank of shape");
  QuantizedWeights q;
  const size_t rank = shape.size();
  int64_t n = 1, ns = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (blockShape[d] <= 0 || shape[d] % blockShape[d] != 0)
      throw std::invalid_argument("quantizeWeights: block dimension " + std::to_string(d) +
                                  " does not divide the shape");
    q.scaleShape.push_back(shape[d] / blockShape[d]);
    n *= shape[d];
    ns *= q.scaleShape.back();
  }
  const int32_t hi = bits == 2 ? 1 : bits == 4 ? 7 : 127,
                lo = bits == 2 ? -1 : bits == 4 ? -8 : -128;
  // The block of each element.
  std::vector<int64_t> blockOf(static_cast<size_t>(n));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t p = 0;
    for (size_t d = 0; d < rank; ++d)
      p = p * q.scaleShape[d] + idx[d] / blockShape[d];
    blockOf[size_t(i)] = p;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  std::vector<float> amax(size_t(ns), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    amax[size_t(blockOf[size_t(i)])] =
        std::max(amax[size_t(blockOf[size_t(i)])], std::fabs(w[i]));
  q.scales.resize(size_t(ns));
  for (int64_t b = 0; b < ns; ++b)
    q.scales[size_t(b)] = amax[size_t(b)] > 0 ? amax[size_t(b)] / float(hi) : 1.0f;
  if (bits == 2) {
    // BitNet b1.58's absmean: the scale is the block's mean |w| (summed in
    // double, in element order).
    std::vector<double> sum(size_t(ns), 0.0);
    std::vector<int64_t> count(size_t(ns), 0);
    for (int64_t i = 0; i < n; ++i) {
      sum[size_t(blockOf[size_t(i)])] += std::fabs(double(w[i]));
      ++count[size_t(blockOf[size_t(i)])];
    }
    for (int64_t b = 0; b < ns; ++b)
      q.scales[size_t(b)] =
          sum[size_t(b)] > 0 ? float(sum[size_t(b)] / double(count[size_t(b)])) : 1.0f;
  } else if (searchClip) {
    // Per block, the clip ratio r of the scale r * amax / hi with the least
    // squared rounding + clipping error, r over kClipGrid steps in [0.5, 1].
    constexpr int kClipGrid = 21;
    auto ratio = [](int g) { return 1.0 - 0.5 * double(g) / (kClipGrid - 1); };
    std::vector<double> err(size_t(ns) * kClipGrid, 0.0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t b = blockOf[size_t(i)];
      if (amax[size_t(b)] <= 0)
        continue;
      for (int g = 0; g < kClipGrid; ++g) {
        double scale = ratio(g) * double(amax[size_t(b)]) / hi;
        double e = double(w[i]) - roundClamp(double(w[i]) / scale, lo, hi) * scale;
        err[size_t(b) * kClipGrid + g] += e * e;
      }
    }
    for (int64_t b = 0; b < ns; ++b) {
      if (amax[size_t(b)] <= 0)
        continue;
      int best = 0;
      for (int g = 1; g < kClipGrid; ++g)
        if (err[size_t(b) * kClipGrid + g] < err[size_t(b) * kClipGrid + best])
          best = g;
      q.scales[size_t(b)] = float(ratio(best) * double(amax[size_t(b)]) / hi);
    }
  }
  q.values.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i)
    q.values[size_t(i)] =
        int8_t(roundClamp(double(w[i] / q.scales[size_t(blockOf[size_t(i)])]), lo, hi));
  return q;
}

std::vector<float> dequantizeWeights(const QuantizedWeights &q, const std::vector<int64_t> &shape) {
  const size_t rank = shape.size();
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<float> out(static_cast<size_t>(n));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t p = 0;
    for (size_t d = 0; d < rank; ++d)
      p = p * q.scaleShape[d] + idx[d] / (shape[d] / q.scaleShape[d]);
    out[size_t(i)] = float(q.values[size_t(i)]) * q.scales[size_t(p)];
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

std::vector<uint8_t> packInt4(const int8_t *values, size_t n) {
  std::vector<uint8_t> out((n + 1) / 2, 0);
  for (size_t i = 0; i < n; ++i)
    out[i / 2] |= uint8_t((uint8_t(values[i]) & 0x0F) << ((i & 1) * 4));
  return out;
}

std::vector<int8_t> unpackInt4(const uint8_t *packed, size_t n) {
  std::vector<int8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int nib = (i & 1) ? packed[i / 2] >> 4 : packed[i / 2] & 0x0F;
    out[i] = int8_t(nib >= 8 ? nib - 16 : nib);
  }
  return out;
}

std::vector<uint8_t> packInt2(const int8_t *values, size_t n) {
  std::vector<uint8_t> out((n + 3) / 4, 0);
  for (size_t i = 0; i < n; ++i)
    out[i / 4] |= uint8_t((uint8_t(values[i]) & 0x03) << ((i & 3) * 2));
  return out;
}

std::vector<int8_t> unpackInt2(const uint8_t *packed, size_t n) {
  std::vector<int8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int code = (packed[i / 4] >> ((i & 3) * 2)) & 0x03;
    out[i] = int8_t(code >= 2 ? code - 4 : code);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// 2:4 sparsity
//===----------------------------------------------------------------------===//

void prune24(float *w, int64_t K, int64_t N) {
  if (K % 4 != 0)
    throw std::invalid_argument("prune24: K (" + std::to_string(K) +
                                ") must be a multiple of 4");
  for (int64_t g = 0; g < K / 4; ++g)
    for (int64_t n = 0; n < N; ++n) {
      // Keep the two largest |w| of rows 4g..4g+3 (the lower row on ties).
      int keep[2] = {-1, -1};
      for (int t = 0; t < 4; ++t) {
        const float m = std::fabs(w[(4 * g + t) * N + n]);
        if (keep[0] < 0 || m > std::fabs(w[(4 * g + keep[0]) * N + n])) {
          keep[1] = keep[0];
          keep[0] = t;
        } else if (keep[1] < 0 || m > std::fabs(w[(4 * g + keep[1]) * N + n])) {
          keep[1] = t;
        }
      }
      for (int t = 0; t < 4; ++t)
        if (t != keep[0] && t != keep[1])
          w[(4 * g + t) * N + n] = 0.0f;
    }
}

size_t sparse24Bytes(int64_t K, int64_t N, int bits) {
  const size_t kept = size_t(K / 2) * size_t(N), groups = size_t(K / 4) * size_t(N);
  const size_t valueBytes = bits == 8 ? kept : bits == 4 ? (kept + 1) / 2 : (kept + 3) / 4;
  return valueBytes + (groups + 1) / 2;
}

std::vector<uint8_t> packSparse24(const int8_t *values, int64_t K, int64_t N, int bits) {
  if (K % 4 != 0)
    throw std::invalid_argument("packSparse24: K (" + std::to_string(K) +
                                ") must be a multiple of 4");
  if (bits != 2 && bits != 4 && bits != 8)
    throw std::invalid_argument("packSparse24: bits must be 2, 4 or 8");
  std::vector<int8_t> kept(size_t(K / 2) * size_t(N));
  std::vector<uint8_t> index(size_t(K / 4) * size_t(N));
  for (int64_t g = 0; g < K / 4; ++g)
    for (int64_t n = 0; n < N; ++n) {
      int pos[2], found = 0;
      for (int t = 0; t < 4; ++t)
        if (values[(4 * g + t) * N + n] != 0) {
          if (found == 2)
            throw std::invalid_argument(
                "packSparse24: more than two non-zero values among rows " +
                std::to_string(4 * g) + ".." + std::to_string(4 * g + 3) + " of column " +
                std::to_string(n));
          pos[found++] = t;
        }
      // Fewer than two non-zeros: the first unused rows hold zeros.
      for (int t = 0; found < 2 && t < 4; ++t)
        if (!(found == 1 && pos[0] == t))
          pos[found++] = t;
      if (pos[0] > pos[1])
        std::swap(pos[0], pos[1]);
      for (int j = 0; j < 2; ++j)
        kept[size_t((2 * g + j) * N + n)] = values[(4 * g + pos[j]) * N + n];
      index[size_t(g * N + n)] = uint8_t(pos[0] | (pos[1] << 2));
    }
  std::vector<uint8_t> out;
  if (bits == 8)
    out.assign(reinterpret_cast<const uint8_t *>(kept.data()),
               reinterpret_cast<const uint8_t *>(kept.data()) + kept.size());
  else
    out = bits == 4 ? packInt4(kept.data(), kept.size()) : packInt2(kept.data(), kept.size());
  const size_t valueBytes = out.size();
  out.resize(valueBytes + (index.size() + 1) / 2, 0);
  for (size_t i = 0; i < index.size(); ++i)
    out[valueBytes + i / 2] |= uint8_t(index[i] << ((i & 1) * 4));
  return out;
}

std::vector<int8_t> unpackSparse24(const uint8_t *packed, int64_t K, int64_t N, int bits) {
  const size_t kept = size_t(K / 2) * size_t(N);
  std::vector<int8_t> values;
  if (bits == 8)
    values.assign(reinterpret_cast<const int8_t *>(packed),
                  reinterpret_cast<const int8_t *>(packed) + kept);
  else
    values = bits == 4 ? unpackInt4(packed, kept) : unpackInt2(packed, kept);
  const uint8_t *index = packed + (sparse24Bytes(K, N, bits) - (size_t(K / 4) * N + 1) / 2);
  std::vector<int8_t> out(size_t(K) * size_t(N), 0);
  for (int64_t g = 0; g < K / 4; ++g)
    for (int64_t n = 0; n < N; ++n) {
      const size_t i = size_t(g * N + n);
      const int nib = (index[i / 2] >> ((i & 1) * 4)) & 0x0F;
      out[size_t((4 * g + (nib & 3)) * N + n)] = values[size_t((2 * g) * N + n)];
      out[size_t((4 * g + (nib >> 2)) * N + n)] = values[size_t((2 * g + 1) * N + n)];
    }
  return out;
}

//===----------------------------------------------------------------------===//
// AWQ
//===----------------------------------------------------------------------===//

namespace {

/// Σ (Yref − (X / s)·deq(Q(diag(s)·W)))² with Yref = X·W precomputed.
double awqErrorWithRef(const float *w, int64_t K, int64_t N, const float *x, int64_t T,
                       const float *s, int64_t groupSize, int bits,
                       const std::vector<double> &yref) {
  std::vector<float> ws(static_cast<size_t>(K * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      ws[size_t(k * N + n)] = w[k * N + n] * (s ? s[k] : 1.0f);
  QuantizedWeights q = quantizeWeights(ws.data(), {K, N}, {groupSize, 1}, bits);
  std::vector<float> wd = dequantizeWeights(q, {K, N});
  // Fold 1/s into the dequantized weights: (X / s)·Wd = X·(Wd / s).
  if (s)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        wd[size_t(k * N + n)] /= s[k];
  double err = 0;
  std::vector<double> row(static_cast<size_t>(N));
  for (int64_t t = 0; t < T; ++t) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int64_t k = 0; k < K; ++k) {
      const double xv = x[t * K + k];
      const float *wr = wd.data() + k * N;
      for (int64_t n = 0; n < N; ++n)
        row[size_t(n)] += xv * wr[n];
    }
    for (int64_t n = 0; n < N; ++n) {
      const double e = yref[size_t(t * N + n)] - row[size_t(n)];
      err += e * e;
    }
  }
  return err;
}

std::vector<double> matmulRef(const float *w, int64_t K, int64_t N, const float *x, int64_t T) {
  std::vector<double> y(size_t(T * N), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < K; ++k) {
      const double xv = x[t * K + k];
      for (int64_t n = 0; n < N; ++n)
        y[size_t(t * N + n)] += xv * double(w[k * N + n]);
    }
  return y;
}

void checkAwqArgs(int64_t K, int64_t N, int64_t T, int64_t groupSize, int bits) {
  if (K <= 0 || N <= 0 || T <= 0)
    throw std::invalid_argument("awq: K, N and T must be positive");
  if (groupSize <= 0 || K % groupSize != 0)
    throw std::invalid_argument("awq: groupSize must divide K");
  if (bits != 4 && bits != 8)
    throw std::invalid_argument("awq: bits must be 4 or 8");
}

} // namespace

double awqError(const float *w, int64_t K, int64_t N, const float *x, int64_t T,
                const float *s, int64_t groupSize, int bits) {
  checkAwqArgs(K, N, T, groupSize, bits);
  return awqErrorWithRef(w, K, N, x, T, s, groupSize, bits, matmulRef(w, K, N, x, T));
}

std::vector<float> awqScales(const float *w, int64_t K, int64_t N, const float *x, int64_t T,
                             int64_t groupSize, int bits, int gridPoints) {
  checkAwqArgs(K, N, T, groupSize, bits);
  gridPoints = std::max(gridPoints, 2);
  const std::vector<double> yref = matmulRef(w, K, N, x, T);
  std::vector<double> meanAbs(static_cast<size_t>(K), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < K; ++k)
      meanAbs[size_t(k)] += std::fabs(double(x[t * K + k]));
  for (double &m : meanAbs)
    m = std::max(m / double(T), 1e-8);
  std::vector<float> best(size_t(K), 1.0f), s(static_cast<size_t>(K));
  double bestErr = std::numeric_limits<double>::infinity();
  for (int i = 0; i < gridPoints; ++i) {
    const double alpha = double(i) / double(gridPoints - 1);
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    std::vector<double> sd(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
      sd[size_t(k)] = std::pow(meanAbs[size_t(k)], alpha);
      lo = std::min(lo, sd[size_t(k)]);
      hi = std::max(hi, sd[size_t(k)]);
    }
    const double norm = std::sqrt(lo * hi);
    for (int64_t k = 0; k < K; ++k)
      s[size_t(k)] = float(sd[size_t(k)] / norm);
    const double err = awqErrorWithRef(w, K, N, x, T, s.data(), groupSize, bits, yref);
    if (err < bestErr) {
      bestErr = err;
      best = s;
    }
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Accuracy
//===----------------------------------------------------------------------===//

double sqnrDb(const float *ref, const float *test, size_t n) {
  double sig = 0, noise = 0;
  for (size_t i = 0; i < n; ++i) {
    const double r = ref[i], e = double(ref[i]) - double(test[i]);
    sig += r * r;
    noise += e * e;
  }
  if (noise == 0)
    return std::numeric_limits<double>::infinity();
  if (sig == 0)
    return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sig / noise);
}

double maxAbsError(const float *ref, const float *test, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i)
    m = std::max(m, std::fabs(double(ref[i]) - double(test[i])));
  return m;
}

} // namespace loom::quant
