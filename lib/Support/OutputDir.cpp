//===- OutputDir.cpp - Output folders that never lose the user's files ----===//
//
// See include/loom/Support/OutputDir.h and docs/tools.md ("Output folders").
//
//===----------------------------------------------------------------------===//
#include "loom/Support/OutputDir.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace loom::output;

const OutputKind &loom::output::planOutput() {
  static const OutputKind kind{"loomc",
                               "loomc plan",
                               {"plan.json", "weights.bin", "trace.json",
                                "report.html", "model.mlir", "model.loom.mlir",
                                "quantization.json", "runtime"},
                               "plan.json"};
  return kind;
}

const OutputKind &loom::output::generateOutput() {
  static const OutputKind kind{"loomc --generate",
                               "loomc generate",
                               {"generate.json", "weights.bin", "prefill*",
                                "decode*"},
                               ""};
  return kind;
}

const OutputKind &loom::output::scenarioOutput() {
  static const OutputKind kind{
      "loomc --scenario",
      "loomc scenario",
      {"scenario.json", "trace.json", "report.html", "models"},
      "scenario.json"};
  return kind;
}

const OutputKind &loom::output::runOutputs() {
  static const OutputKind kind{
      "loom-run --output-dir", "loom-run outputs", {"output_*"}, ""};
  return kind;
}

namespace {

/// `dir` as an absolute path without `.`, `..`, a trailing separator or
/// symbolic links (a link to a folder stands for that folder).
fs::path resolve(const std::string &dir) {
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(dir), ec).lexically_normal();
  while (!p.has_filename() && p != p.root_path())
    p = p.parent_path();
  fs::path real = fs::weakly_canonical(p, ec);
  return ec ? p : real;
}

bool isKindEntry(const OutputKind &kind, const std::string &name) {
  if (name == kMarkerFile)
    return true;
  return std::any_of(
      kind.entries.begin(), kind.entries.end(), [&](const std::string &e) {
        if (!e.empty() && e.back() == '*')
          return name.compare(0, e.size() - 1, e, 0, e.size() - 1) == 0;
        return name == e;
      });
}

/// The first `n` bytes of `file` (empty when it cannot be read).
std::string readHead(const fs::path &file, size_t n) {
  std::ifstream in(file, std::ios::binary);
  std::string text(n, '\0');
  in.read(text.data(), std::streamsize(n));
  text.resize(size_t(in.gcount()));
  return text;
}

/// The kind named by `dir`'s marker, or `legacy` for a folder written
/// before markers by the tool of `kind`, or empty.
std::string markerOf(const fs::path &dir, const OutputKind &kind) {
  std::error_code ec;
  if (fs::is_regular_file(dir / kMarkerFile, ec)) {
    std::string head = readHead(dir / kMarkerFile, 256);
    return head.substr(0, head.find('\n'));
  }
  if (!kind.legacyFile.empty() &&
      fs::is_regular_file(dir / kind.legacyFile, ec) &&
      readHead(dir / kind.legacyFile, 4096).find("\"producer\": \"loomc") !=
          std::string::npos)
    return kind.marker;
  return "";
}

/// The names in `dir`, sorted (messages name the first one).
std::vector<std::string> entriesOf(const fs::path &dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// Whether `dir` holds nothing but (nested) empty folders, as a build system
/// creates for the outputs it expects: nothing there can be lost.
bool holdsNoFiles(const fs::path &dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec))
    if (!it->is_directory(ec) || it->is_symlink(ec))
      return false;
  return !ec;
}

/// Whether the current folder is `dir` or inside it (moving `dir` away
/// would leave the user's shell in a removed folder).
bool holdsCurrentFolder(const fs::path &dir) {
  std::error_code ec;
  fs::path cwd = fs::canonical(fs::current_path(ec), ec);
  if (ec)
    return true;
  auto [d, c] = std::mismatch(dir.begin(), dir.end(), cwd.begin(), cwd.end());
  return d == dir.end();
}

/// Replaces the entries of `dir` (a previous output or empty) by those of
/// `tmp`, one rename each, the marker first; removes `tmp`.
std::string moveEntries(const fs::path &tmp, const fs::path &dir) {
  std::error_code ec;
  for (const std::string &name : entriesOf(dir))
    fs::remove_all(dir / name, ec);
  std::vector<std::string> names = entriesOf(tmp);
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string &n) { return n == kMarkerFile; });
  for (const std::string &name : names) {
    fs::rename(tmp / name, dir / name, ec);
    if (ec)
      return "cannot move '" + (tmp / name).string() + "' to '" +
             (dir / name).string() + "': " + ec.message();
  }
  fs::remove(tmp, ec);
  return "";
}

} // namespace

std::string loom::output::checkOutputDir(const std::string &dir,
                                         const OutputKind &kind) {
  const std::string rule =
      " (" + kind.tool +
      " writes only into a new folder, an empty folder or a previous " +
      kind.tool + " output; nothing was changed)";
  if (dir.empty())
    return "no output folder given";
  fs::path real = resolve(dir);
  std::error_code ec;
  fs::file_status st = fs::status(real, ec);
  if (!fs::exists(st))
    return "";
  std::string what = "cannot write to '" + dir + "': ";
  if (!fs::is_directory(st))
    return what +
           (fs::is_regular_file(st) ? "it is a file" : "it is not a folder") +
           rule;
  std::vector<std::string> names = entriesOf(real);
  if (names.empty() || holdsNoFiles(real))
    return "";
  std::string marker = markerOf(real, kind);
  if (marker.empty())
    return what + "it holds '" + names.front() + "', which " + kind.tool +
           " did not write" + rule;
  if (marker != kind.marker)
    return what + "it holds a '" + marker + "' output, not a " + kind.tool +
           " output" + rule;
  for (const std::string &name : names)
    if (!isKindEntry(kind, name))
      return what + "it holds a previous " + kind.tool + " output and '" +
             name + "', which " + kind.tool + " did not write" + rule;
  return "";
}

std::optional<PendingOutput> PendingOutput::begin(const std::string &dir,
                                                  const OutputKind &kind,
                                                  std::string &error) {
  error = checkOutputDir(dir, kind);
  if (!error.empty())
    return std::nullopt;
  fs::path real = resolve(dir);
  std::error_code ec;
  fs::create_directories(real.parent_path(), ec);
  if (ec) {
    error =
        "cannot create '" + real.parent_path().string() + "': " + ec.message();
    return std::nullopt;
  }
  std::string pattern = (real.parent_path() /
                         ("." + real.filename().string() + ".loom-tmp-XXXXXX"))
                            .string();
  if (!::mkdtemp(pattern.data())) {
    error = "cannot create a temporary folder next to '" + dir +
            "': " + std::strerror(errno);
    return std::nullopt;
  }
  // mkdtemp makes the folder private (0700); give it the permissions of a
  // folder made by mkdir.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(pattern.c_str(), 0777 & ~mask);
  return PendingOutput(real.string(), pattern, &kind);
}

PendingOutput::PendingOutput(PendingOutput &&other) noexcept
    : dir(std::move(other.dir)), tmp(std::move(other.tmp)), kind(other.kind) {
  other.tmp.clear();
}

PendingOutput::~PendingOutput() {
  if (tmp.empty())
    return;
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

std::string PendingOutput::commit() {
  {
    std::ofstream marker(fs::path(tmp) / kMarkerFile, std::ios::binary);
    marker << kind->marker << "\n";
    if (!marker)
      return "cannot write '" + (fs::path(tmp) / kMarkerFile).string() + "'";
  }
  // Again: the destination may have changed while the tool was working.
  if (std::string why = checkOutputDir(dir, *kind); !why.empty())
    return why;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::rename(tmp, dir, ec);
    if (ec)
      return "cannot move the output to '" + dir + "': " + ec.message();
    tmp.clear();
    return "";
  }
  // An empty folder or a previous output: swap the two folders in one step,
  // then remove the old one (now at `tmp`).
  if (!holdsCurrentFolder(dir) &&
      ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(),
                  RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp, ec);
    tmp.clear();
    return "";
  }
  // The current folder (or a file system without exchange): entry by entry.
  std::string why = moveEntries(tmp, dir);
  if (why.empty())
    tmp.clear();
  return why;
}
