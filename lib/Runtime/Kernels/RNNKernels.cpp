//===- RNNKernels.cpp - RNN, GRU and LSTM ---------------------------------===//
//
// Reference kernels for the ONNX recurrent operators. One driver handles the
// shared parts (layouts, directions, sequence_lens, initial states, the
// activation list and clip); each operator contributes its cell update.
// Arithmetic is in double.
//
//===----------------------------------------------------------------------===//
#include "Families.h"
#include "NNUtil.h"

#include <cctype>

namespace loom::rt {
namespace nn {
namespace {

enum class CellKind { RNN, GRU, LSTM };

/// A parsed activation function with its alpha/beta.
struct Activation {
  std::string name; // lower case
  double alpha = 0, beta = 0;

  double operator()(double x) const {
    if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
    if (name == "tanh") return std::tanh(x);
    if (name == "relu") return x > 0 ? x : 0.0;
    if (name == "affine") return alpha * x + beta;
    if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
    if (name == "thresholdedrelu") return x > alpha ? x : 0.0;
    if (name == "scaledtanh") return alpha * std::tanh(beta * x);
    if (name == "hardsigmoid") return std::max(0.0, std::min(1.0, alpha * x + beta));
    if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
    if (name == "softsign") return x / (1 + std::fabs(x));
    if (name == "softplus") return std::log1p(std::exp(x));
    return x; // Unreachable: names are validated in parseActivations.
  }
};

/// Parses `activations` with `activation_alpha`/`activation_beta`, which are
/// consumed in order by the functions that take them. `perDir` functions are
/// needed per direction; a list for one direction serves both.
std::vector<Activation> parseActivations(const Attrs &at, size_t perDir, size_t dirs,
                                         const std::vector<std::string> &dflt,
                                         const char *K) {
  std::vector<std::string> names =
      at.has("activations") ? at.getStrings("activations") : std::vector<std::string>{};
  if (names.empty())
    for (size_t d = 0; d < dirs; ++d)
      names.insert(names.end(), dflt.begin(), dflt.end());
  if (names.size() == perDir && dirs == 2)
    names.insert(names.end(), names.begin(), names.end());
  if (names.size() != perDir * dirs)
    fail(K, "expected " + std::to_string(perDir * dirs) + " activations, got " +
                std::to_string(names.size()));
  std::vector<double> alphas = at.getFloats("activation_alpha"),
                      betas = at.getFloats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<Activation> acts;
  for (std::string n : names) {
    for (char &c : n)
      c = char(std::tolower(static_cast<unsigned char>(c)));
    Activation f{n};
    auto takeAlpha = [&](double d) { f.alpha = ai < alphas.size() ? alphas[ai++] : d; };
    auto takeBeta = [&](double d) { f.beta = bi < betas.size() ? betas[bi++] : d; };
    if (n == "affine" || n == "scaledtanh") {
      takeAlpha(1.0);
      takeBeta(n == "affine" ? 0.0 : 1.0);
    } else if (n == "hardsigmoid") {
      takeAlpha(0.2);
      takeBeta(0.5);
    } else if (n == "leakyrelu") {
      takeAlpha(0.01);
    } else if (n == "thresholdedrelu" || n == "elu") {
      takeAlpha(1.0);
    } else if (n != "sigmoid" && n != "tanh" && n != "relu" && n != "softsign" &&
               n != "softplus") {
      fail(K, "unsupported activation '" + n + "'");
    }
    acts.push_back(f);
  }
  return acts;
}

/// Shared driver for RNN, GRU and LSTM.
void recurrentKernel(KernelArgs &a, CellKind kind) {
  const char *K = kind == CellKind::RNN ? "rnn" : kind == CellKind::GRU ? "gru" : "lstm";
  const Attrs &at = a.attrs;
  const TensorRef &x = input(a, 0, K), &w = input(a, 1, K), &r = input(a, 2, K);
  const int gates = kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 3 : 4;
  const size_t actsPerDir = kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 2 : 3;
  if (x.rank() != 3 || w.rank() != 3 || r.rank() != 3)
    fail(K, "X, W and R must have rank 3");
  const bool batchMajor = at.getInt("layout", 0) != 0;
  const int64_t S = batchMajor ? x.shape[1] : x.shape[0];
  const int64_t B = batchMajor ? x.shape[0] : x.shape[1];
  const int64_t I = x.shape[2];
  const int64_t H = at.getInt("hidden_size", r.shape[2]);
  const int64_t D = w.shape[0];
  const std::string direction = at.getString("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    fail(K, "unknown direction '" + direction + "'");
  if (D != (direction == "bidirectional" ? 2 : 1))
    fail(K, "W's first dimension does not match direction '" + direction + "'");
  if (w.shape[1] != gates * H || w.shape[2] != I || r.shape[0] != D ||
      r.shape[1] != gates * H || r.shape[2] != H)
    fail(K, "W or R shape does not match hidden_size " + std::to_string(H) +
                " and input size " + std::to_string(I));

  std::vector<double> X = toDoubles(x), W = toDoubles(w), R = toDoubles(r);
  std::vector<double> Bias(size_t(D * 2 * gates * H), 0.0);
  if (const TensorRef *b = optInput(a, 3)) {
    if (b->numElements() != D * 2 * gates * H)
      fail(K, "B must have shape [num_directions, " + std::to_string(2 * gates) +
                  "*hidden_size]");
    Bias = toDoubles(*b);
  }
  std::vector<int64_t> lens(size_t(B), S);
  if (const TensorRef *sl = optInput(a, 4)) {
    if (sl->numElements() != B)
      fail(K, "sequence_lens must have batch_size elements");
    lens = toInts(*sl);
    for (int64_t l : lens)
      if (l < 0 || l > S)
        fail(K, "sequence_lens entry " + std::to_string(l) + " is out of range");
  }
  // States are indexed [d][b][h] internally; layout 1 stores [b][d][h].
  auto stateIdx = [&](int64_t d, int64_t b, int64_t h) {
    return batchMajor ? (b * D + d) * H + h : (d * B + b) * H + h;
  };
  auto loadState = [&](size_t slot) {
    std::vector<double> s(size_t(D * B * H), 0.0);
    if (const TensorRef *t = optInput(a, slot)) {
      if (t->numElements() != D * B * H)
        fail(K, "initial state must have num_directions*batch_size*hidden_size elements");
      for (int64_t d = 0; d < D; ++d)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h)
            s[size_t((d * B + b) * H + h)] = loadD(*t, stateIdx(d, b, h));
    }
    return s;
  };
  std::vector<double> H0 = loadState(5);
  std::vector<double> C0 = kind == CellKind::LSTM ? loadState(6) : std::vector<double>{};
  std::vector<double> P(size_t(D * 3 * H), 0.0);
  if (kind == CellKind::LSTM)
    if (const TensorRef *p = optInput(a, 7)) {
      if (p->numElements() != D * 3 * H)
        fail(K, "P must have shape [num_directions, 3*hidden_size]");
      P = toDoubles(*p);
    }

  std::vector<std::string> dflt;
  if (kind == CellKind::RNN)
    dflt = {"Tanh"};
  else if (kind == CellKind::GRU)
    dflt = {"Sigmoid", "Tanh"};
  else
    dflt = {"Sigmoid", "Tanh", "Tanh"};
  std::vector<Activation> acts = parseActivations(at, actsPerDir, size_t(D), dflt, K);
  const bool hasClip = at.has("clip");
  const double clip = at.getFloat("clip", 0.0);
  auto clipped = [&](double v) { return hasClip ? std::max(-clip, std::min(clip, v)) : v; };
  const bool linearBeforeReset = at.getInt("linear_before_reset", 0) != 0;
  const bool inputForget = at.getInt("input_forget", 0) != 0;

  const TensorRef *yOut = optOutput(a, 0), *yhOut = optOutput(a, 1),
                  *ycOut = kind == CellKind::LSTM ? optOutput(a, 2) : nullptr;
  if (yOut && yOut->numElements() != S * D * B * H)
    fail(K, "Y must have seq_length*num_directions*batch_size*hidden_size elements");
  if (yOut)
    for (int64_t i = 0; i < yOut->numElements(); ++i)
      storeD(*yOut, i, 0.0);

  const int64_t G = gates * H;
  const size_t gs = static_cast<size_t>(G), hs = static_cast<size_t>(H);
  std::vector<double> xw(gs), rh(gs), hNew(hs), reset(hs);
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const double *Wd = W.data() + d * G * I, *Rd = R.data() + d * G * H;
    const double *Wb = Bias.data() + d * 2 * G, *Rb = Wb + G;
    const double *Pd = P.data() + d * 3 * H;
    const Activation &f = acts[size_t(d) * actsPerDir];
    const Activation &g = acts[size_t(d) * actsPerDir + (actsPerDir > 1 ? 1 : 0)];
    const Activation &hAct = acts[size_t(d) * actsPerDir + (actsPerDir > 2 ? 2 : 0)];
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(H0.begin() + (d * B + b) * H, H0.begin() + (d * B + b + 1) * H);
      std::vector<double> c;
      if (kind == CellKind::LSTM)
        c.assign(C0.begin() + (d * B + b) * H, C0.begin() + (d * B + b + 1) * H);
      const int64_t len = lens[size_t(b)];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        const double *xt = X.data() + (batchMajor ? (b * S + t) : (t * B + b)) * I;
        for (int64_t j = 0; j < G; ++j) {
          double sx = Wb[j], sr = Rb[j];
          for (int64_t i = 0; i < I; ++i)
            sx += Wd[j * I + i] * xt[i];
          for (int64_t i = 0; i < H; ++i)
            sr += Rd[j * H + i] * h[size_t(i)];
          xw[size_t(j)] = sx;
          rh[size_t(j)] = sr;
        }
        if (kind == CellKind::RNN) {
          for (int64_t j = 0; j < H; ++j)
            hNew[size_t(j)] = f(clipped(xw[size_t(j)] + rh[size_t(j)]));
        } else if (kind == CellKind::GRU) {
          // Gate order z, r, h. The reset gate applies to h before the
          // recurrence product, or after it with linear_before_reset.
          for (int64_t j = 0; j < H; ++j)
            reset[size_t(j)] = f(clipped(xw[size_t(H + j)] + rh[size_t(H + j)]));
          for (int64_t j = 0; j < H; ++j) {
            double z = f(clipped(xw[size_t(j)] + rh[size_t(j)]));
            double pre = xw[size_t(2 * H + j)];
            if (linearBeforeReset) {
              pre += reset[size_t(j)] * rh[size_t(2 * H + j)];
            } else {
              double s = Rb[2 * H + j];
              for (int64_t i = 0; i < H; ++i)
                s += Rd[(2 * H + j) * H + i] * reset[size_t(i)] * h[size_t(i)];
              pre += s;
            }
            hNew[size_t(j)] = (1 - z) * g(clipped(pre)) + z * h[size_t(j)];
          }
        } else {
          // Gate order i, o, f, c; peepholes P = [Pi, Po, Pf].
          for (int64_t j = 0; j < H; ++j) {
            size_t J = size_t(j);
            double cPrev = c[J];
            double ig = f(clipped(xw[J] + rh[J] + Pd[j] * cPrev));
            double fg = inputForget
                            ? 1 - ig
                            : f(clipped(xw[J + 2 * H] + rh[J + 2 * H] + Pd[2 * H + j] * cPrev));
            double cg = g(clipped(xw[J + 3 * H] + rh[J + 3 * H]));
            double cNew = fg * cPrev + ig * cg;
            double og = f(clipped(xw[J + H] + rh[J + H] + Pd[H + j] * cNew));
            c[J] = cNew;
            hNew[J] = og * hAct(cNew);
          }
        }
        h = hNew;
        if (yOut)
          for (int64_t j = 0; j < H; ++j) {
            int64_t yi = batchMajor ? ((b * S + t) * D + d) * H + j : ((t * D + d) * B + b) * H + j;
            storeD(*yOut, yi, h[size_t(j)]);
          }
      }
      for (int64_t j = 0; j < H; ++j) {
        if (yhOut)
          storeD(*yhOut, stateIdx(d, b, j), h[size_t(j)]);
        if (ycOut)
          storeD(*ycOut, stateIdx(d, b, j), c[size_t(j)]);
      }
    }
  }
}

void add(KernelRegistry &r, const char *name, KernelFn fn) {
  r.add(KernelEntry{name, {}, KernelImpl::Reference, std::move(fn), nullptr});
}

} // namespace
} // namespace nn

/// Registers the recurrent reference kernels.
void registerRNNKernels(KernelRegistry &r) {
  using namespace nn;
  add(r, "rnn", [](KernelArgs &a) { recurrentKernel(a, CellKind::RNN); });
  add(r, "gru", [](KernelArgs &a) { recurrentKernel(a, CellKind::GRU); });
  add(r, "lstm", [](KernelArgs &a) { recurrentKernel(a, CellKind::LSTM); });
}

} // namespace loom::rt
