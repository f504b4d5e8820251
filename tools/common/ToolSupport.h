//===- ToolSupport.h - Shared pieces of the runtime tools ------*- C++ -*-===//
//
// Argument parsing and input binding shared by loom-run and loom-profile,
// which link only the runtime (no LLVM): errors as ToolError, integer flags,
// TensorProto input files bound by name, seeded random inputs.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TOOLS_TOOLSUPPORT_H
#define LOOM_TOOLS_TOOLSUPPORT_H

#include "loom/Runtime/Float16.h"
#include "loom/Runtime/Session.h"
#include "loom/Runtime/TensorProtoIO.h"

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loom::tools {

/// A usage or load error: the tool prints it and exits with code 2.
struct ToolError {
  std::string message;
};

/// One command-line flag: `--flag=value` gives the value inline; `--flag`
/// alone leaves it to the next argument.
struct FlagArg {
  std::string flag, value;
  bool inlineValue = false;
};

inline FlagArg splitFlag(const std::string &arg) {
  FlagArg f{arg, "", false};
  if (size_t eq = arg.find('='); eq != std::string::npos) {
    f.flag = arg.substr(0, eq);
    f.value = arg.substr(eq + 1);
    f.inlineValue = true;
  }
  return f;
}

/// Whether `--help` or `-h` is anywhere on the command line (a mode's help
/// may come before or after the mode's flag).
inline bool hasHelpFlag(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0)
      return true;
  return false;
}

/// Walks the arguments of a loom-run mode (`mode`: "--generate",
/// "--scenario"): a flag in `switches` takes no value (any `=VALUE` is
/// ignored) and goes to
/// `onSwitch(flag)`; one in `valued` takes its `=VALUE` or the next argument
/// and goes to `onValue(flag, value)`; an argument that is not a flag goes to
/// `onPositional(arg)`; anything else is an error naming the mode. --help is
/// the caller's to look for first (hasHelpFlag).
template <typename OnSwitch, typename OnValue, typename OnPositional>
void forEachModeArg(int argc, char **argv, const std::string &mode,
                    std::initializer_list<const char *> switches,
                    std::initializer_list<const char *> valued,
                    OnSwitch onSwitch, OnValue onValue,
                    OnPositional onPositional) {
  auto isIn = [](std::initializer_list<const char *> set, const std::string &f) {
    for (const char *k : set)
      if (f == k)
        return true;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto [flag, value, inlineValue] = splitFlag(arg);
    if (isIn(switches, flag)) {
      onSwitch(flag);
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      onPositional(arg);
      continue;
    }
    if (!isIn(valued, flag))
      throw ToolError{mode + ": unknown option '" + arg + "' (see loom-run " +
                      mode + " --help)"};
    if (!inlineValue) {
      if (i + 1 >= argc)
        throw ToolError{flag + " expects a value"};
      value = argv[++i];
    }
    onValue(flag, value);
  }
}

/// Parses `text` as an integer in [min, max] for `flag`.
inline long parseCount(const std::string &flag, const std::string &text,
                       long min, long max) {
  char *end = nullptr;
  errno = 0;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < min || v > max)
    throw ToolError{flag + " expects an integer in [" + std::to_string(min) +
                    ", " + std::to_string(max) + "], got '" + text + "'"};
  return v;
}

inline std::string formatDouble(double v, const char *format = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// Reads a TensorProto file (an input or an expected output); the ONNX test
/// data stores bfloat16 as uint16,
/// so a u16 tensor is retagged bf16 when `declared` says bf16.
inline rt::Tensor readTensorAs(const std::string &path, rt::DType declared) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw ToolError{path + ": no such file"};
  rt::Tensor t;
  try {
    t = rt::readTensorFile(path);
  } catch (const rt::KernelError &e) {
    throw ToolError{path + ": " + e.message};
  }
  if (declared == rt::DType::BF16 && t.dtype == rt::DType::U16)
    t.dtype = rt::DType::BF16;
  return t;
}

/// Places `--input NAME=FILE` pairs at their input's index in `files`
/// (one slot per input of `session`); an unknown name is an error listing
/// the plan's inputs.
inline void
placeNamedInputs(const rt::Session &session,
                 const std::vector<std::pair<std::string, std::string>> &inputs,
                 std::vector<std::optional<std::string>> &files) {
  const std::vector<rt::TensorInfo> &infos = session.inputs();
  for (const auto &[name, file] : inputs) {
    std::optional<size_t> index = session.findInput(name);
    if (!index) {
      std::string known;
      for (const rt::TensorInfo &info : infos)
        known += (known.empty() ? "'" : ", '") + info.name + "'";
      throw ToolError{"--input " + name + "=" + file +
                      ": the plan has no input '" + name +
                      "' (inputs: " + (known.empty() ? "none" : known) + ")"};
    }
    files[*index] = file;
  }
}

/// Reads `file` and binds it to input `index`; errors name the file.
inline void bindInputFile(rt::Session &session, size_t index,
                          const std::string &file) {
  rt::Tensor value = readTensorAs(file, session.inputs()[index].dtype);
  try {
    session.setInput(index, value);
  } catch (const rt::SessionError &e) {
    throw ToolError{file + ": " + e.what()};
  }
}

/// A deterministic pseudo-random tensor: floats in [-1, 1], integers in
/// [0, 3] (valid indices into any axis of at least 4 elements), bools 0/1;
/// splitmix64 seeded by `seed` (loom-profile: the input's position;
/// loom-run --random-inputs=S: S * 65536 + the position).
inline rt::Tensor randomTensor(rt::DType dtype, const rt::Shape &shape,
                               uint64_t seed) {
  using rt::DType;
  rt::Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  int64_t n = rt::numElements(shape);
  size_t size = rt::dtypeSize(dtype);
  t.bytes.assign(size_t(n) * size, 0);
  uint64_t state = 0x9E3779B97F4A7C15ull * (seed + 1);
  auto next = [&]() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int64_t i = 0; i < n; ++i) {
    uint64_t r = next();
    float f = float(double(r >> 11) / double(1ull << 53) * 2.0 - 1.0);
    uint64_t small = r % 4;
    uint8_t *p = t.bytes.data() + size_t(i) * size;
    switch (dtype) {
    case DType::F32:
      std::memcpy(p, &f, 4);
      break;
    case DType::F64: {
      double d = f;
      std::memcpy(p, &d, 8);
      break;
    }
    case DType::F16: {
      uint16_t h = rt::floatToHalfBits(f);
      std::memcpy(p, &h, 2);
      break;
    }
    case DType::BF16: {
      uint16_t h = rt::floatToBf16Bits(f);
      std::memcpy(p, &h, 2);
      break;
    }
    case DType::Bool:
      *p = uint8_t(r & 1);
      break;
    default: // Integers, little-endian: small non-negative values.
      std::memcpy(p, &small, size);
      break;
    }
  }
  return t;
}

} // namespace loom::tools

#endif // LOOM_TOOLS_TOOLSUPPORT_H
