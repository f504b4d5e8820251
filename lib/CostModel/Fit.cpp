//===- Fit.cpp - Fitting a device's cost model to measured kernels --------===//
//
// Non-negative least squares by enumeration: with at most seven terms, the
// optimum is the unconstrained least-squares solution on one of the 128
// subsets of terms that comes out non-negative, so every subset is solved
// and the feasible one with the smallest residual is kept. Columns are
// scaled to unit norm before solving (operations and bytes run to 1e9).
//
//===----------------------------------------------------------------------===//
#include "loom/CostModel/Fit.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace loom::cost;
using loom::target::FittedFamily;
using loom::target::FittedModel;

Sample loom::cost::makeSample(const KernelDesc &kernel, double us) {
  Work w = estimateWork(kernel);
  return Sample{fittedFamilyChain(kernel).front(),
                w.flops,
                w.bytes,
                us,
                w.transcendentals,
                w.coldBytes,
                w.coldCalls};
}

namespace {

/// Fixed, bytes, operations, spilled bytes, transcendentals, cold weight
/// bytes, cold calls. Subsets are tried
/// in mask order and a later one must be strictly better, so where two terms
/// explain the data equally (an elementwise kernel's operations and bytes
/// are proportional) the fit keeps the memory term.
constexpr int kTerms = 7;

/// Samples past the cache a family needs before its spill term is fitted.
constexpr int kMinSpillSamples = 3;

/// The spread of weight bytes (largest over smallest) a family's cold
/// samples need before a per-byte cold rate is fitted: over a narrower
/// range the per-call and per-byte cold costs cannot be told apart, and a
/// rate fitted from a few small constants prices large ones absurdly.
constexpr double kMinColdSpread = 4;

std::array<double, kTerms> features(const Sample &s, double cacheKB) {
  double spill = cacheKB > 0 ? std::max(0.0, s.bytes - cacheKB * 1024.0) : 0;
  return {1.0,         s.bytes,    s.flops, spill, s.transcendentals,
          s.coldBytes, s.coldCalls};
}

/// Solves the n x n system `a` x = `b` in place (partial pivoting); false
/// when it is singular.
bool solve(std::vector<std::vector<double>> &a, std::vector<double> &b) {
  size_t n = b.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[p][c]))
        p = r;
    if (std::fabs(a[p][c]) < 1e-10)
      return false;
    std::swap(a[p], a[c]);
    std::swap(b[p], b[c]);
    for (size_t r = 0; r < n; ++r) {
      if (r == c)
        continue;
      double f = a[r][c] / a[c][c];
      for (size_t k = c; k < n; ++k)
        a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (size_t c = 0; c < n; ++c)
    b[c] /= a[c][c];
  return true;
}

} // namespace

FittedFamily loom::cost::fitFamily(const std::vector<Sample> &samples,
                                   double dispatchUs, double cacheKB) {
  FittedFamily best;
  best.samples = int(samples.size());
  if (samples.empty())
    return best;
  // Rows scaled by 1 / measured: least squares on relative error.
  size_t m = samples.size();
  std::vector<std::array<double, kTerms>> rows(m);
  std::vector<double> rhs(m);
  std::array<double, kTerms> norm{};
  for (size_t i = 0; i < m; ++i) {
    double us = std::max(samples[i].us, 1e-6);
    rows[i] = features(samples[i], cacheKB);
    for (double &x : rows[i])
      x /= us;
    rhs[i] = (samples[i].us - dispatchUs) / us;
    for (int j = 0; j < kTerms; ++j)
      norm[j] += rows[i][j] * rows[i][j];
  }
  for (double &n : norm)
    n = std::sqrt(n);
  // The spill rate is only identifiable from several samples past the
  // cache: fitted from one or two barely past it, its rate can come out
  // tiny and price a large kernel seconds too slow.
  int spilled = 0;
  for (const Sample &s : samples)
    spilled += features(s, cacheKB)[3] > 0;
  if (spilled < kMinSpillSamples)
    norm[3] = 0;
  double coldMin = 0, coldMax = 0;
  for (const Sample &s : samples)
    if (s.coldBytes > 0) {
      coldMin = coldMin > 0 ? std::min(coldMin, s.coldBytes) : s.coldBytes;
      coldMax = std::max(coldMax, s.coldBytes);
    }
  if (coldMax < kMinColdSpread * coldMin || coldMin == 0)
    norm[5] = 0;
  double bestResidual = 0;
  std::array<double, kTerms> bestTheta{};
  // The empty subset: everything is dispatch.
  for (double r : rhs)
    bestResidual += r * r;
  for (unsigned mask = 1; mask < (1u << kTerms); ++mask) {
    llvm::SmallVector<int, kTerms> cols;
    for (int j = 0; j < kTerms; ++j)
      if ((mask >> j & 1) && norm[j] > 0)
        cols.push_back(j);
    if (cols.size() != size_t(llvm::popcount(mask)))
      continue;
    size_t n = cols.size();
    std::vector<std::vector<double>> ata(n, std::vector<double>(n, 0));
    std::vector<double> atb(n, 0);
    for (size_t i = 0; i < m; ++i)
      for (size_t a = 0; a < n; ++a) {
        double xa = rows[i][cols[a]] / norm[cols[a]];
        atb[a] += xa * rhs[i];
        for (size_t b = 0; b < n; ++b)
          ata[a][b] += xa * rows[i][cols[b]] / norm[cols[b]];
      }
    if (!solve(ata, atb))
      continue;
    std::array<double, kTerms> theta{};
    bool feasible = true;
    for (size_t a = 0; a < n; ++a) {
      theta[cols[a]] = atb[a] / norm[cols[a]];
      feasible &= theta[cols[a]] >= 0;
    }
    if (!feasible)
      continue;
    double residual = 0;
    for (size_t i = 0; i < m; ++i) {
      double pred = 0;
      for (int j = 0; j < kTerms; ++j)
        pred += rows[i][j] * theta[j];
      residual += (pred - rhs[i]) * (pred - rhs[i]);
    }
    if (residual < bestResidual * (1 - 1e-12)) {
      bestResidual = residual;
      bestTheta = theta;
    }
  }
  // θ is µs per unit; a rate in GOP/s (GB/s) is 1e-3 / θ.
  auto rate = [](double theta) { return theta > 0 ? 1e-3 / theta : 0.0; };
  best.fixedUs = bestTheta[0];
  best.gbs = rate(bestTheta[1]);
  best.gops = rate(bestTheta[2]);
  best.spillGbs = rate(bestTheta[3]);
  best.transcendentalGops = rate(bestTheta[4]);
  best.coldGbs = rate(bestTheta[5]);
  best.coldFixedUs = bestTheta[6];
  return best;
}

double loom::cost::predictSample(const Sample &s, const FittedFamily &f,
                                 double cacheKB, double dispatchUs) {
  Work w;
  w.flops = s.flops;
  w.bytes = s.bytes;
  w.transcendentals = s.transcendentals;
  w.coldBytes = s.coldBytes;
  w.coldCalls = s.coldCalls;
  return fittedTerms(w, f, cacheKB, dispatchUs).totalUs();
}

double loom::cost::medianAbsLogRatio(const std::vector<double> &a,
                                     const std::vector<double> &b) {
  std::vector<double> e;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    e.push_back(std::fabs(std::log(std::max(a[i], 1e-9) / std::max(b[i], 1e-9))));
  if (e.empty())
    return 0;
  std::sort(e.begin(), e.end());
  size_t n = e.size();
  return n % 2 ? e[n / 2] : (e[n / 2 - 1] + e[n / 2]) / 2;
}

std::optional<loom::target::OpClass>
loom::cost::familyClass(llvm::StringRef family) {
  if (family == "conv_depthwise" || family == "conv_1x1")
    return target::OpClass::Conv;
  if (family == "matmul_row" || family == "qmatmul_int8" ||
      family == "qmatmul_w4")
    return target::OpClass::MatMul;
  if (family == "qconv_int8")
    return target::OpClass::Conv;
  if (auto c = target::kernelClass(family))
    return c;
  return target::parseOpClass(family);
}

std::vector<bool> loom::cost::heldOutMask(const std::vector<Sample> &samples,
                                          int holdOutEvery) {
  std::map<std::string, std::vector<size_t>> byFamily;
  for (size_t i = 0; i < samples.size(); ++i)
    byFamily[samples[i].family].push_back(i);
  std::vector<bool> heldOut(samples.size(), false);
  size_t every = size_t(std::max(2, holdOutEvery));
  for (auto &[name, idx] : byFamily)
    for (size_t j = 0; j < idx.size(); ++j)
      heldOut[idx[j]] = idx.size() >= every && j % every == every - 1;
  return heldOut;
}

FittedModel loom::cost::deriveThreads(const FittedModel &one, int threads,
                                      double forkJoinUs) {
  FittedModel m = one;
  m.threads = threads;
  m.dispatchUs = one.dispatchUs.value_or(0) + forkJoinUs;
  for (auto &[name, f] : m.families) {
    f.gops *= threads;
    f.gbs *= threads;
    f.spillGbs *= threads;
    f.transcendentalGops *= threads;
    f.coldGbs *= threads;
  }
  return m;
}

double loom::cost::derivedThreadsError(const std::vector<Sample> &samples,
                                       const FittedModel &one, int threads,
                                       double *forkJoinUs,
                                       const FitOptions &options) {
  FittedModel rates = deriveThreads(one, threads, 0);
  auto predict = [&](const Sample &s) -> std::optional<double> {
    const target::FittedFamily *f = rates.find(s.family);
    if (!f)
      if (std::optional<target::OpClass> c = familyClass(s.family))
        f = rates.find(target::opClassName(*c));
    if (!f)
      return std::nullopt;
    return predictSample(s, *f, rates.cacheKB, *rates.dispatchUs);
  };
  // The fork and join cost: the median residual over the training samples.
  std::vector<bool> heldOut = heldOutMask(samples, options.holdOutEvery);
  std::vector<double> residuals;
  for (size_t i = 0; i < samples.size(); ++i)
    if (!heldOut[i])
      if (std::optional<double> p = predict(samples[i]))
        residuals.push_back(samples[i].us - *p);
  double c = 0;
  if (!residuals.empty()) {
    llvm::sort(residuals);
    size_t n = residuals.size();
    c = std::max(0.0, n % 2 ? residuals[n / 2]
                            : (residuals[n / 2 - 1] + residuals[n / 2]) / 2);
  }
  if (forkJoinUs)
    *forkJoinUs = c;
  std::vector<double> pred, meas;
  for (size_t i = 0; i < samples.size(); ++i)
    if (heldOut[i])
      if (std::optional<double> p = predict(samples[i])) {
        pred.push_back(*p + c);
        meas.push_back(samples[i].us);
      }
  return medianAbsLogRatio(pred, meas);
}

FittedModel loom::cost::fitModel(const std::vector<Sample> &samples,
                                 const target::DeviceDesc &device,
                                 const FitOptions &options, FitReport *report,
                                 const std::vector<double> &roofline) {
  // Samples per family, in order; which of them are held out.
  std::map<std::string, std::vector<size_t>> byFamily;
  for (size_t i = 0; i < samples.size(); ++i)
    byFamily[samples[i].family].push_back(i);
  std::vector<bool> heldOut = heldOutMask(samples, options.holdOutEvery);
  // Each op class with samples is fitted on all of them too, as the
  // fallback of kernels of the class no family covers (unless a family has
  // the class's name already).
  std::map<std::string, std::vector<size_t>> byClass;
  for (auto &[name, idx] : byFamily)
    if (std::optional<target::OpClass> c = familyClass(name)) {
      std::string cls = target::opClassName(*c).str();
      if (!byFamily.count(cls))
        byClass[cls].insert(byClass[cls].end(), idx.begin(), idx.end());
    }

  // Fits a group on its training samples; its held-out predictions.
  auto heldOutFit = [&](const std::vector<size_t> &idx, double cacheKB,
                        std::vector<double> &pred, std::vector<double> &meas) {
    std::vector<Sample> train;
    for (size_t i : idx)
      if (!heldOut[i])
        train.push_back(samples[i]);
    FittedFamily f = fitFamily(train, 0, cacheKB);
    for (size_t i : idx)
      if (heldOut[i]) {
        pred.push_back(predictSample(samples[i], f, cacheKB, 0));
        meas.push_back(samples[i].us);
      }
  };
  auto evaluate = [&](double cacheKB) {
    std::vector<double> pred, meas;
    for (auto &[name, idx] : byFamily)
      heldOutFit(idx, cacheKB, pred, meas);
    return medianAbsLogRatio(pred, meas);
  };

  std::vector<double> candidates = options.cacheKBCandidates;
  if (candidates.empty())
    candidates.push_back(0);
  size_t bestIndex = 0;
  std::vector<double> errors;
  for (size_t c = 0; c < candidates.size(); ++c) {
    errors.push_back(evaluate(candidates[c]));
    if (errors[c] < errors[bestIndex])
      bestIndex = c;
  }
  FittedModel model;
  model.cacheKB = candidates[bestIndex];
  model.error = errors[bestIndex];
  for (auto *groups : {&byFamily, &byClass})
    for (auto &[name, idx] : *groups) {
      std::vector<Sample> all;
      for (size_t i : idx)
        all.push_back(samples[i]);
      FittedFamily f = fitFamily(all, 0, model.cacheKB);
      std::vector<double> pred, meas;
      heldOutFit(idx, model.cacheKB, pred, meas);
      f.error = medianAbsLogRatio(pred, meas);
      model.families.push_back({name, f});
    }
  // The intercept every family shares is the model's dispatch; each
  // family keeps the rest as its fixed_us (predictions do not change).
  if (!model.families.empty()) {
    double dispatch = model.families[0].second.fixedUs;
    for (const auto &[name, f] : model.families)
      dispatch = std::min(dispatch, f.fixedUs);
    for (auto &[name, f] : model.families)
      f.fixedUs -= dispatch;
    model.dispatchUs = dispatch;
  }
  if (report) {
    report->candidateErrors = errors;
    report->heldOut = size_t(llvm::count(heldOut, true));
    std::vector<double> rp, rm;
    for (size_t i = 0; i < samples.size() && i < roofline.size(); ++i)
      if (heldOut[i]) {
        rp.push_back(roofline[i]);
        rm.push_back(samples[i].us);
      }
    report->rooflineError = medianAbsLogRatio(rp, rm);
  }
  return model;
}

namespace {
/// The keys of one fit, each line indented by `indent` spaces.
void writeFitBody(const FittedModel &m, llvm::raw_ostream &os,
                  unsigned indent) {
  std::string pad(indent, ' ');
  auto quoted = [](llvm::StringRef s) {
    std::string out = "\"";
    for (char c : s)
      out += (c == '"' || c == '\\') ? '_' : c;
    return out + "\"";
  };
  if (!m.machine.empty())
    os << pad << "machine: " << quoted(m.machine) << "\n";
  if (!m.date.empty())
    os << pad << "date: " << quoted(m.date) << "\n";
  os << pad << "threads: " << m.threads << "\n";
  if (m.dispatchUs)
    os << pad << "dispatch_us: " << llvm::format("%.6g", *m.dispatchUs) << "\n";
  os << pad << "cache_kb: " << llvm::format("%g", m.cacheKB) << "\n";
  if (m.llcKB > 0)
    os << pad << "llc_kb: " << llvm::format("%g", m.llcKB) << "\n";
  if (m.coldAboveKB > 0)
    os << pad << "cold_above_kb: " << llvm::format("%.0f", m.coldAboveKB)
       << "\n";
  if (m.coldRampKB > 0)
    os << pad << "cold_ramp_kb: " << llvm::format("%.0f", m.coldRampKB) << "\n";
  os << pad << "error: " << llvm::format("%.4f", m.error) << "\n";
  os << pad << "families:\n";
  std::vector<std::pair<std::string, FittedFamily>> sorted = m.families;
  llvm::sort(sorted, [](const auto &a, const auto &b) { return a.first < b.first; });
  for (const auto &[name, f] : sorted) {
    os << pad << "  " << name
       << ": {fixed_us: " << llvm::format("%.6g", f.fixedUs)
       << ", gops: " << llvm::format("%.6g", f.gops)
       << ", gbs: " << llvm::format("%.6g", f.gbs)
       << ", spill_gbs: " << llvm::format("%.6g", f.spillGbs);
    if (f.transcendentalGops > 0)
      os << ", transcendental_gops: "
         << llvm::format("%.6g", f.transcendentalGops);
    if (f.coldGbs > 0)
      os << ", cold_gbs: " << llvm::format("%.6g", f.coldGbs);
    if (f.coldFixedUs > 0)
      os << ", cold_fixed_us: " << llvm::format("%.6g", f.coldFixedUs);
    os << ", samples: " << f.samples
       << ", error: " << llvm::format("%.4f", f.error) << "}\n";
  }
}
} // namespace

void loom::cost::writeFittedYaml(const FittedModel &m, llvm::raw_ostream &os,
                                 unsigned indent) {
  writeFittedYaml(std::vector<FittedModel>{m}, os, indent);
}

void loom::cost::writeFittedYaml(const std::vector<FittedModel> &fits,
                                 llvm::raw_ostream &os, unsigned indent) {
  os << std::string(indent, ' ') << "fitted:\n";
  if (fits.size() == 1) {
    writeFitBody(fits[0], os, indent + 2);
    return;
  }
  // A list, by thread count; each item's first line starts with "- ".
  std::vector<const FittedModel *> sorted;
  for (const FittedModel &m : fits)
    sorted.push_back(&m);
  llvm::stable_sort(sorted, [](const FittedModel *a, const FittedModel *b) {
    return a->threads < b->threads;
  });
  for (const FittedModel *m : sorted) {
    std::string body;
    llvm::raw_string_ostream bs(body);
    writeFitBody(*m, bs, indent + 4);
    body.replace(indent + 2, 2, "- ");
    os << body;
  }
}

llvm::Expected<std::string>
loom::cost::withFittedModel(llvm::StringRef text, llvm::StringRef device,
                            const FittedModel &model) {
  return withFittedModels(text, device, {model});
}

std::vector<FittedModel>
loom::cost::mergeFits(const std::vector<FittedModel> &fits,
                      const FittedModel &model) {
  std::vector<FittedModel> out;
  for (const FittedModel &f : fits)
    if (f.threads != model.threads)
      out.push_back(f);
  out.push_back(model);
  llvm::stable_sort(out, [](const FittedModel &a, const FittedModel &b) {
    return a.threads < b.threads;
  });
  return out;
}

llvm::Expected<std::string>
loom::cost::withFittedModels(llvm::StringRef text, llvm::StringRef device,
                             const std::vector<FittedModel> &fits) {
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  auto indentOf = [](llvm::StringRef l) {
    return l.size() - l.ltrim(' ').size();
  };
  auto isContent = [](llvm::StringRef l) {
    llvm::StringRef t = l.trim();
    return !t.empty() && !t.starts_with("#");
  };
  // `- name: DEVICE` (a device entry): the device's keys sit 2 further in.
  size_t start = lines.size(), keyIndent = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef t = lines[i].ltrim(' ');
    if (!t.consume_front("- "))
      continue;
    t = t.ltrim(' ');
    if (!t.consume_front("name:"))
      continue;
    t = t.split('#').first.trim().trim('"').trim('\'');
    if (t == device) {
      start = i;
      keyIndent = indentOf(lines[i]) + 2;
      break;
    }
  }
  if (start == lines.size())
    return llvm::createStringError("no device '" + device.str() +
                                   "' (a `- name: " + device.str() +
                                   "` line) in the target file");
  size_t end = start + 1;
  while (end < lines.size() &&
         (!isContent(lines[end]) || indentOf(lines[end]) >= keyIndent))
    ++end;
  while (end > start + 1 && !isContent(lines[end - 1]))
    --end;
  std::string out;
  llvm::raw_string_ostream os(out);
  for (size_t i = 0; i < end; ++i) {
    if (i > start && indentOf(lines[i]) == keyIndent &&
        lines[i].ltrim(' ').starts_with("fitted:")) {
      // Drop the old mapping: its deeper lines follow.
      size_t j = i + 1;
      while (j < end &&
             (!isContent(lines[j]) || indentOf(lines[j]) > keyIndent))
        ++j;
      i = j - 1;
      continue;
    }
    os << lines[i] << "\n";
  }
  writeFittedYaml(fits, os, unsigned(keyIndent));
  for (size_t i = end; i < lines.size(); ++i)
    os << lines[i] << "\n";
  return out;
}
