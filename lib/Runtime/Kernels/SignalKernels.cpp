//===- SignalKernels.cpp - DFT, STFT, windows, MelWeightMatrix ------------===//
//
// Reference kernels for the ONNX opset-17 signal operators. The transforms
// are direct O(n^2) DFTs in double: simple and exact enough for reference
// use. Complex tensors carry a trailing dimension of 2 (real, imaginary).
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "NNUtil.h"

#include <complex>

namespace loom::rt {
namespace nn {
namespace {

using Complex = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

/// Direct DFT of `in` (length n) into `out` (length `bins` <= n).
void dft(const std::vector<Complex> &in, std::vector<Complex> &out, size_t bins, bool inverse) {
  const size_t n = in.size();
  out.assign(bins, Complex(0, 0));
  const double sign = inverse ? 1.0 : -1.0;
  for (size_t k = 0; k < bins; ++k) {
    Complex acc(0, 0);
    for (size_t t = 0; t < n; ++t) {
      // Reduce k*t modulo n first so the angle stays accurate.
      double ang = sign * 2 * kPi * double((k * t) % n) / double(n);
      acc += in[t] * Complex(std::cos(ang), std::sin(ang));
    }
    out[k] = inverse ? acc / double(n) : acc;
  }
}

/// DFT (opset 17) along `axis` of a [..., 1|2] real or complex input.
void dftKernel(KernelArgs &a) {
  const char *K = "dft";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  if (x.rank() < 2 || (x.shape.back() != 1 && x.shape.back() != 2))
    fail(K, "input must end in a dimension of 1 (real) or 2 (complex)");
  if (y.rank() != x.rank() || y.shape.back() != 2)
    fail(K, "output must have the input's rank and end in a dimension of 2");
  const int64_t sigRank = int64_t(x.rank()) - 1;
  const int64_t axis = normAxis(a.attrs.getInt("axis", 1), sigRank, K);
  const bool inverse = a.attrs.getInt("inverse", 0) != 0;
  const bool onesided = a.attrs.getInt("onesided", 0) != 0;
  if (inverse && onesided)
    fail(K, "inverse with onesided is not supported");
  const int64_t inLen = x.shape[size_t(axis)];
  int64_t n = inLen;
  if (const TensorRef *len = optInput(a, 1)) {
    n = loadI(*len, 0);
    if (n < 1)
      fail(K, "dft_length must be positive");
  }
  const int64_t bins = onesided ? n / 2 + 1 : n;
  if (y.shape[size_t(axis)] != bins)
    fail(K, "output length along the axis must be " + std::to_string(bins));
  const bool complexIn = x.shape.back() == 2;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[size_t(d)];
  for (int64_t d = axis + 1; d < sigRank; ++d)
    inner *= x.shape[size_t(d)];
  const int64_t comps = complexIn ? 2 : 1;
  std::vector<double> xd = toDoubles(x);
  std::vector<Complex> sig(static_cast<size_t>(n)), spec;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t t = 0; t < n; ++t) {
        if (t >= inLen) {
          sig[size_t(t)] = 0;
          continue;
        }
        const double *p = xd.data() + ((o * inLen + t) * inner + i) * comps;
        sig[size_t(t)] = Complex(p[0], complexIn ? p[1] : 0.0);
      }
      dft(sig, spec, size_t(bins), inverse);
      for (int64_t k = 0; k < bins; ++k) {
        int64_t j = ((o * bins + k) * inner + i) * 2;
        storeD(y, j, spec[size_t(k)].real());
        storeD(y, j + 1, spec[size_t(k)].imag());
      }
    }
}

/// STFT (opset 17): [batch, length, 1|2] -> [batch, frames, bins, 2].
void stftKernel(KernelArgs &a) {
  const char *K = "stft";
  const TensorRef &x = input(a, 0, K), &y = output(a, 0, K);
  if (x.rank() != 3 || (x.shape[2] != 1 && x.shape[2] != 2))
    fail(K, "signal must be [batch, length, 1|2]");
  const int64_t step = loadI(input(a, 1, K), 0);
  if (step < 1)
    fail(K, "frame_step must be positive");
  const TensorRef *win = optInput(a, 2), *flen = optInput(a, 3);
  int64_t frameLen = 0;
  if (flen)
    frameLen = loadI(*flen, 0);
  else if (win)
    frameLen = win->numElements();
  else
    fail(K, "one of window and frame_length must be given");
  if (win && win->numElements() != frameLen)
    fail(K, "window length does not match frame_length");
  const bool complexIn = x.shape[2] == 2;
  const bool onesided = a.attrs.getInt("onesided", 1) != 0;
  if (onesided && complexIn)
    fail(K, "onesided output needs a real signal");
  const int64_t B = x.shape[0], L = x.shape[1];
  if (frameLen < 1 || frameLen > L)
    fail(K, "frame_length must be in [1, signal length]");
  const int64_t frames = (L - frameLen) / step + 1;
  const int64_t bins = onesided ? frameLen / 2 + 1 : frameLen;
  if (y.rank() != 4 || y.shape[0] != B || y.shape[1] != frames || y.shape[2] != bins ||
      y.shape[3] != 2)
    fail(K, "output must be [batch, " + std::to_string(frames) + ", " +
                std::to_string(bins) + ", 2]");
  std::vector<double> xd = toDoubles(x);
  std::vector<double> w = win ? toDoubles(*win) : std::vector<double>(size_t(frameLen), 1.0);
  const int64_t comps = complexIn ? 2 : 1;
  std::vector<Complex> frame(static_cast<size_t>(frameLen)), spec;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t t = 0; t < frameLen; ++t) {
        const double *p = xd.data() + (b * L + f * step + t) * comps;
        frame[size_t(t)] = Complex(p[0], complexIn ? p[1] : 0.0) * w[size_t(t)];
      }
      dft(frame, spec, size_t(bins), false);
      for (int64_t k = 0; k < bins; ++k) {
        int64_t j = ((b * frames + f) * bins + k) * 2;
        storeD(y, j, spec[size_t(k)].real());
        storeD(y, j + 1, spec[size_t(k)].imag());
      }
    }
}

/// Hann, Hamming and Blackman windows: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi
/// n / N) with N = size (periodic) or size - 1 (symmetric).
void windowKernel(KernelArgs &a, const char *K, double a0, double a1, double a2) {
  const TensorRef &y = output(a, 0, K);
  const int64_t size = loadI(input(a, 0, K), 0);
  if (y.numElements() != size)
    fail(K, "output must have `size` elements");
  const bool periodic = a.attrs.getInt("periodic", 1) != 0;
  const double N = double(periodic ? size : size - 1);
  for (int64_t i = 0; i < size; ++i) {
    double v = a0;
    if (N > 0)
      v += -a1 * std::cos(2 * kPi * double(i) / N) + a2 * std::cos(4 * kPi * double(i) / N);
    storeD(y, i, v);
  }
}

/// MelWeightMatrix (opset 17): [dft_length / 2 + 1, num_mel_bins] triangular
/// filters on the integer frequency bins, as the ONNX definition computes.
void melKernel(KernelArgs &a) {
  const char *K = "mel_weight_matrix";
  const TensorRef &y = output(a, 0, K);
  const int64_t bins = loadI(input(a, 0, K), 0), dftLen = loadI(input(a, 1, K), 0);
  const int64_t rate = loadI(input(a, 2, K), 0);
  const double lo = loadD(input(a, 3, K), 0), hi = loadD(input(a, 4, K), 0);
  const int64_t specBins = dftLen / 2 + 1;
  if (bins < 1 || dftLen < 1 || rate < 1)
    fail(K, "num_mel_bins, dft_length and sample_rate must be positive");
  if (y.numElements() != specBins * bins)
    fail(K, "output must be [dft_length / 2 + 1, num_mel_bins]");
  auto toMel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
  const double loMel = toMel(lo), hiMel = toMel(hi);
  const double step = (hiMel - loMel) / double(bins + 2);
  std::vector<int64_t> edge(size_t(bins + 2));
  for (int64_t i = 0; i < bins + 2; ++i) {
    double hz = 700 * (std::pow(10.0, (double(i) * step + loMel) / 2595) - 1);
    edge[size_t(i)] = int64_t(std::floor(double(dftLen + 1) * hz / double(rate)));
  }
  std::vector<double> out(size_t(specBins * bins), 0.0);
  auto set = [&](int64_t j, int64_t i, double v) {
    if (j >= 0 && j < specBins)
      out[size_t(j * bins + i)] = v;
  };
  for (int64_t i = 0; i < bins; ++i) {
    const int64_t l = edge[size_t(i)], c = edge[size_t(i + 1)], h = edge[size_t(i + 2)];
    if (c == l)
      set(c, i, 1.0);
    else
      for (int64_t j = l; j <= c; ++j)
        set(j, i, double(j - l) / double(c - l));
    if (h > c)
      for (int64_t j = c; j < h; ++j)
        set(j, i, double(h - j) / double(h - c));
  }
  fromDoubles(y, out);
}

void add(KernelRegistry &r, const char *name, KernelFn fn) {
  r.add(KernelEntry{name, {}, KernelImpl::Reference, std::move(fn), nullptr});
}

} // namespace
} // namespace nn

/// Registers the signal reference kernels.
void registerSignalKernels(KernelRegistry &r) {
  using namespace nn;
  add(r, "dft", dftKernel);
  add(r, "stft", stftKernel);
  add(r, "hann_window",
      [](KernelArgs &a) { windowKernel(a, "hann_window", 0.5, 0.5, 0.0); });
  add(r, "hamming_window",
      [](KernelArgs &a) { windowKernel(a, "hamming_window", 25.0 / 46, 21.0 / 46, 0.0); });
  add(r, "blackman_window",
      [](KernelArgs &a) { windowKernel(a, "blackman_window", 0.42, 0.5, 0.08); });
  add(r, "mel_weight_matrix", melKernel);
}

} // namespace loom::rt
