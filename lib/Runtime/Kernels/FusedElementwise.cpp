//===- FusedElementwise.cpp - The fused_elementwise interpreter -----------===//
//
// fused_elementwise(I0, ..., In-1) -> (R0, ..., Rm-1) runs the small body
// program plan-from-loom encodes in the task attributes (docs/fused-ops.md,
// "Elementwise regions"): values 0..n-1 are the inputs, n + i the result of
// instruction i.
//
// The program is checked once per call, then evaluated in blocks of output
// elements: for each block every input's (numpy-broadcast) values are
// gathered into a small scratch row (inputs of the output's shape are read in
// place), the instructions run over the block in order, each into its own
// scratch row, and the result rows are copied to the outputs. Values are f32;
// transcendental ops compute in double and round, like the unfused reference
// kernels.
//
//===----------------------------------------------------------------------===//
#include "FusedUtil.h"
#include "KernelUtil.h"

#include <cstring>

namespace loom::rt {
namespace {
using namespace fused;
using kern::fail;
using kern::shapeStr;

constexpr const char *kName = "fused_elementwise";
/// Output elements per block.
constexpr int64_t kBlock = 1024;

enum class Op {
  // Unary.
  Abs, Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Sin, Cos, Erf, Softplus,
  Identity,
  // Unary through the shared activation function (with parameters or not).
  Activation,
  // Binary.
  Add, Sub, Mul, Div, Pow, Max, Min,
};

/// One body op: its name, operand count, the activation it maps to (for
/// Op::Activation) and the defaults of its parameters (their count is the
/// most the op takes).
struct OpInfo {
  const char *name;
  Op op;
  int argc;
  Act act;
  std::vector<double> paramDefaults;
};

const std::vector<OpInfo> &opTable() {
  const double inf = std::numeric_limits<double>::infinity();
  static const std::vector<OpInfo> table = {
      {"abs", Op::Abs, 1, Act::None, {}},
      {"neg", Op::Neg, 1, Act::None, {}},
      {"exp", Op::Exp, 1, Act::None, {}},
      {"log", Op::Log, 1, Act::None, {}},
      {"sqrt", Op::Sqrt, 1, Act::None, {}},
      {"reciprocal", Op::Reciprocal, 1, Act::None, {}},
      {"relu", Op::Activation, 1, Act::Relu, {}},
      {"sigmoid", Op::Activation, 1, Act::Sigmoid, {}},
      {"tanh", Op::Activation, 1, Act::Tanh, {}},
      {"erf", Op::Erf, 1, Act::None, {}},
      {"floor", Op::Floor, 1, Act::None, {}},
      {"ceil", Op::Ceil, 1, Act::None, {}},
      {"sin", Op::Sin, 1, Act::None, {}},
      {"cos", Op::Cos, 1, Act::None, {}},
      {"softplus", Op::Softplus, 1, Act::None, {}},
      {"hard_swish", Op::Activation, 1, Act::HardSwish, {}},
      {"gelu", Op::Activation, 1, Act::Gelu, {}},
      {"gelu_tanh", Op::Activation, 1, Act::GeluTanh, {}},
      {"silu", Op::Activation, 1, Act::Silu, {}},
      {"identity", Op::Identity, 1, Act::None, {}},
      {"add", Op::Add, 2, Act::None, {}},
      {"sub", Op::Sub, 2, Act::None, {}},
      {"mul", Op::Mul, 2, Act::None, {}},
      {"div", Op::Div, 2, Act::None, {}},
      {"pow", Op::Pow, 2, Act::None, {}},
      {"max", Op::Max, 2, Act::None, {}},
      {"min", Op::Min, 2, Act::None, {}},
      {"leaky_relu", Op::Activation, 1, Act::LeakyRelu, {0.01}},
      {"clip", Op::Activation, 1, Act::Clip, {-inf, inf}},
      {"hard_sigmoid", Op::Activation, 1, Act::HardSigmoid, {0.2, 0.5}},
      {"elu", Op::Activation, 1, Act::Elu, {1.0}},
  };
  return table;
}

struct Instr {
  Op op;
  int64_t lhs = 0, rhs = 0; ///< Operand value numbers (rhs for binary ops).
  Activation act;           ///< For Op::Activation.
};

struct Program {
  std::vector<Instr> code;
  std::vector<int64_t> results;
};

/// A string-list attribute; an empty list stored with another element type
/// (plan.json cannot tell) reads as empty.
std::vector<std::string> stringList(const Attrs &at, const char *name) {
  const AttrValue *v = at.find(name);
  if (!v)
    return {};
  if (auto *ints = std::get_if<std::vector<int64_t>>(v); ints && ints->empty())
    return {};
  if (auto *fs = std::get_if<std::vector<double>>(v); fs && fs->empty())
    return {};
  return at.getStrings(name);
}

/// Decodes and checks the body program of a call with `numInputs` inputs
/// and `numOutputs` outputs.
Program compile(const Attrs &at, int64_t numInputs, size_t numOutputs) {
  for (const char *req : {"body_ops", "body_results"})
    if (!at.has(req))
      fail(kName, std::string("missing required attribute ") + req);
  const std::vector<std::string> ops = stringList(at, "body_ops");
  const size_t n = ops.size();
  std::vector<int64_t> argc = at.getInts("body_argc");
  const std::vector<int64_t> args = at.getInts("body_args");
  std::vector<int64_t> paramc = at.getInts("body_paramc");
  const std::vector<double> params = at.getFloats("body_params");
  Program p;
  p.results = at.getInts("body_results");
  if (!at.has("body_paramc"))
    paramc.assign(n, 0);
  if (argc.size() != n || paramc.size() != n)
    fail(kName, "body_ops, body_argc and body_paramc have " + std::to_string(n) +
                    ", " + std::to_string(argc.size()) + " and " +
                    std::to_string(paramc.size()) + " entries; expected one per instruction");
  size_t nextArg = 0, nextParam = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string where = "instruction " + std::to_string(i) + " ('" + ops[i] + "')";
    const OpInfo *info = nullptr;
    for (const OpInfo &o : opTable())
      if (ops[i] == o.name)
        info = &o;
    if (!info)
      fail(kName, "unknown body op '" + ops[i] + "' in instruction " + std::to_string(i));
    if (argc[i] != info->argc)
      fail(kName, where + " has " + std::to_string(argc[i]) + " operands, expected " +
                      std::to_string(info->argc));
    if (paramc[i] < 0 || size_t(paramc[i]) > info->paramDefaults.size())
      fail(kName, where + " has " + std::to_string(paramc[i]) +
                      " parameters, expected at most " +
                      std::to_string(info->paramDefaults.size()));
    if (nextArg + size_t(argc[i]) > args.size())
      fail(kName, "body_args has " + std::to_string(args.size()) +
                      " entries, fewer than body_argc asks for");
    if (nextParam + size_t(paramc[i]) > params.size())
      fail(kName, "body_params has " + std::to_string(params.size()) +
                      " entries, fewer than body_paramc asks for");
    Instr ins;
    ins.op = info->op;
    const int64_t defined = numInputs + int64_t(i);
    for (int64_t j = 0; j < argc[i]; ++j) {
      const int64_t v = args[nextArg++];
      if (v < 0 || v >= defined)
        fail(kName, "body_args: operand " + std::to_string(j) + " of " + where +
                        " refers to value " + std::to_string(v) +
                        ", but only values 0.." + std::to_string(defined - 1) +
                        " are defined there");
      (j == 0 ? ins.lhs : ins.rhs) = v;
    }
    std::vector<double> pv = info->paramDefaults;
    for (int64_t j = 0; j < paramc[i]; ++j)
      pv[size_t(j)] = params[nextParam++];
    ins.act.kind = info->act;
    ins.act.alpha = pv.size() > 0 ? pv[0] : 0.0;
    ins.act.beta = pv.size() > 1 ? pv[1] : 0.0;
    p.code.push_back(ins);
  }
  if (nextArg != args.size())
    fail(kName, "body_args has " + std::to_string(args.size()) + " entries, body_argc asks for " +
                    std::to_string(nextArg));
  if (nextParam != params.size())
    fail(kName, "body_params has " + std::to_string(params.size()) +
                    " entries, body_paramc asks for " + std::to_string(nextParam));
  if (p.results.size() != numOutputs)
    fail(kName, "body_results has " + std::to_string(p.results.size()) +
                    " entries for " + std::to_string(numOutputs) + " outputs");
  const int64_t numValues = numInputs + int64_t(n);
  for (int64_t r : p.results)
    if (r < 0 || r >= numValues)
      fail(kName, "body_results refers to value " + std::to_string(r) +
                      ", but only values 0.." + std::to_string(numValues - 1) +
                      " are defined");
  return p;
}

/// Gathers `cnt` values of a tensor broadcast to `out` (strides `bstr`),
/// starting at output element `start`, into `dst`.
void gather(const float *src, const Shape &out, const std::vector<int64_t> &bstr,
            int64_t start, int64_t cnt, float *dst) {
  const size_t r = out.size();
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  std::vector<int64_t> idx(r);
  int64_t rem = start, off = 0;
  for (size_t d = r; d-- > 0;) {
    idx[d] = rem % out[d];
    rem /= out[d];
    off += idx[d] * bstr[d];
  }
  const int64_t last = out[r - 1], s = bstr[r - 1];
  for (int64_t done = 0; done < cnt;) {
    const int64_t run = std::min(cnt - done, last - idx[r - 1]);
    if (s == 0)
      std::fill_n(dst + done, run, src[off]);
    else if (s == 1)
      std::memcpy(dst + done, src + off, size_t(run) * sizeof(float));
    else
      for (int64_t j = 0; j < run; ++j)
        dst[done + j] = src[off + j * s];
    done += run;
    off += run * s;
    idx[r - 1] += run;
    if (idx[r - 1] < last)
      continue;
    // Carry into the outer dimensions.
    off -= last * s;
    idx[r - 1] = 0;
    for (size_t d = r - 1; d-- > 0;) {
      off += bstr[d];
      if (++idx[d] < out[d])
        break;
      off -= bstr[d] * out[d];
      idx[d] = 0;
    }
  }
}

/// dst[i] = f(x[i]) in double, rounded to f32.
template <typename F> void unaryD(const float *x, float *dst, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = float(f(double(x[i])));
}

/// dst[i] = f(x[i]) in f32 (ops that f32 computes exactly rounded).
template <typename F> void unaryF(const float *x, float *dst, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = f(x[i]);
}

template <typename F>
void binaryF(const float *x, const float *y, float *dst, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = f(x[i], y[i]);
}

/// Runs one instruction over `n` elements.
void exec(const Instr &ins, const float *x, const float *y, float *dst, int64_t n) {
  switch (ins.op) {
  case Op::Abs: return unaryF(x, dst, n, [](float v) { return std::fabs(v); });
  case Op::Neg: return unaryF(x, dst, n, [](float v) { return -v; });
  case Op::Exp: return unaryD(x, dst, n, [](double v) { return std::exp(v); });
  case Op::Log: return unaryD(x, dst, n, [](double v) { return std::log(v); });
  case Op::Sqrt: return unaryF(x, dst, n, [](float v) { return std::sqrt(v); });
  case Op::Reciprocal: return unaryF(x, dst, n, [](float v) { return 1.0f / v; });
  case Op::Floor: return unaryF(x, dst, n, [](float v) { return std::floor(v); });
  case Op::Ceil: return unaryF(x, dst, n, [](float v) { return std::ceil(v); });
  case Op::Sin: return unaryD(x, dst, n, [](double v) { return std::sin(v); });
  case Op::Cos: return unaryD(x, dst, n, [](double v) { return std::cos(v); });
  case Op::Erf: return unaryD(x, dst, n, [](double v) { return std::erf(v); });
  case Op::Softplus:
    // log(1 + e^x) without overflow for large x.
    return unaryD(x, dst, n, [](double v) {
      return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
    });
  case Op::Identity:
    if (dst != x)
      std::memcpy(dst, x, size_t(n) * sizeof(float));
    return;
  case Op::Activation: {
    const Activation act = ins.act;
    if (act.kind == Act::Relu)
      return unaryF(x, dst, n, [](float v) { return v > 0.0f ? v : 0.0f; });
    return unaryD(x, dst, n, [act](double v) { return activate(act, v); });
  }
  case Op::Add: return binaryF(x, y, dst, n, [](float a, float b) { return a + b; });
  case Op::Sub: return binaryF(x, y, dst, n, [](float a, float b) { return a - b; });
  case Op::Mul: return binaryF(x, y, dst, n, [](float a, float b) { return a * b; });
  case Op::Div: return binaryF(x, y, dst, n, [](float a, float b) { return a / b; });
  case Op::Pow:
    return binaryF(x, y, dst, n,
                   [](float a, float b) { return float(std::pow(double(a), double(b))); });
  // Max/Min propagate NaN like the unfused kernels.
  case Op::Max:
    return binaryF(x, y, dst, n, [](float a, float b) {
      return std::isnan(b) ? b : (a < b ? b : a);
    });
  case Op::Min:
    return binaryF(x, y, dst, n, [](float a, float b) {
      return std::isnan(b) ? b : (b < a ? b : a);
    });
  }
}

/// Whether two byte ranges overlap.
bool overlaps(const void *a, size_t na, const void *b, size_t nb) {
  auto pa = static_cast<const char *>(a), pb = static_cast<const char *>(b);
  return na && nb && pa < pb + nb && pb < pa + na;
}

void fusedElementwise(KernelArgs &a) {
  if (a.outputs.empty())
    fail(kName, "expected at least one output");
  const int64_t numIn = int64_t(a.inputs.size());
  std::vector<Shape> shapes;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const TensorRef &t = a.inputs[i];
    if (!t.present)
      fail(kName, "input " + std::to_string(i) + " is absent");
    if (t.dtype != DType::F32)
      fail(kName, "input " + std::to_string(i) + " has dtype " + dtypeName(t.dtype) +
                      ", expected f32");
    shapes.push_back(t.shape);
  }
  const Shape out = kern::broadcastShapes(kName, shapes);
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    const TensorRef &t = a.outputs[i];
    if (!t.present)
      continue;
    if (t.dtype != DType::F32)
      fail(kName, "output " + std::to_string(i) + " has dtype " + dtypeName(t.dtype) +
                      ", expected f32");
    if (t.shape != out)
      fail(kName, "output " + std::to_string(i) + " has shape " + shapeStr(t.shape) +
                      ", expected the inputs' broadcast shape " + shapeStr(out));
  }
  const Program p = compile(a.attrs, numIn, a.outputs.size());
  const int64_t total = numElements(out);
  if (total == 0)
    return;

  // How each input is read: in place (its shape is the output's, and no
  // output overwrites it), or gathered through broadcast strides.
  std::vector<bool> inPlace(static_cast<size_t>(numIn));
  std::vector<std::vector<int64_t>> bstr(static_cast<size_t>(numIn));
  for (int64_t k = 0; k < numIn; ++k) {
    const TensorRef &t = a.inputs[size_t(k)];
    bool direct = t.shape == out;
    for (const TensorRef &o : a.outputs)
      if (direct && o.present && overlaps(t.data, t.byteSize(), o.data, o.byteSize()))
        direct = false;
    inPlace[size_t(k)] = direct;
    bstr[size_t(k)] = kern::broadcastStrides(t.shape, out);
  }
  const size_t numValues = size_t(numIn) + p.code.size();
  std::vector<float> scratch(numValues * size_t(kBlock));
  std::vector<const float *> val(numValues);
  for (int64_t start = 0; start < total; start += kBlock) {
    const int64_t cnt = std::min(kBlock, total - start);
    for (int64_t k = 0; k < numIn; ++k) {
      const TensorRef &t = a.inputs[size_t(k)];
      float *row = scratch.data() + size_t(k) * size_t(kBlock);
      if (inPlace[size_t(k)])
        val[size_t(k)] = t.as<float>() + start;
      else if (t.numElements() == 1)
        std::fill_n(row, cnt, t.as<float>()[0]), val[size_t(k)] = row;
      else
        gather(t.as<float>(), out, bstr[size_t(k)], start, cnt, row), val[size_t(k)] = row;
    }
    for (size_t i = 0; i < p.code.size(); ++i) {
      const Instr &ins = p.code[i];
      float *row = scratch.data() + (size_t(numIn) + i) * size_t(kBlock);
      exec(ins, val[size_t(ins.lhs)], val[size_t(ins.rhs)], row, cnt);
      val[size_t(numIn) + i] = row;
    }
    for (size_t r = 0; r < p.results.size(); ++r) {
      const TensorRef &o = a.outputs[r];
      if (o.present)
        std::memmove(o.as<float>() + start, val[size_t(p.results[r])],
                     size_t(cnt) * sizeof(float));
    }
  }
}

} // namespace

void registerFusedElementwiseKernels(KernelRegistry &r) {
  kern::addReference(r, "fused_elementwise", fusedElementwise);
}

} // namespace loom::rt
