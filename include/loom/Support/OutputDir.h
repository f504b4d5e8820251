//===- OutputDir.h - Output folders that never lose the user's files -*- C++
//-*-===//
//
// Every Loom tool that writes a folder (loomc -o, loomc --scenario -o,
// loom-run --output-dir) writes it through OutputDir: the folder may be a
// path that does not exist, an empty folder (or one of empty folders only),
// or a previous output of the same kind, recognised by its marker file
// `.loom-output` (first line: the kind, e.g. `loomc plan`) and holding only
// entries that kind writes.
// Anything else is refused with a message naming the path and the first
// entry in the way, and nothing is deleted. The output is written into a
// temporary sibling folder and moved into place at the end (atomically
// exchanged with a previous output), so a failed run leaves what was there.
// Plain C++17 (std::filesystem), no LLVM: the runtime-only tools use it.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SUPPORT_OUTPUTDIR_H
#define LOOM_SUPPORT_OUTPUTDIR_H

#include <optional>
#include <string>
#include <vector>

namespace loom::output {

/// What one tool writes into its output folder.
struct OutputKind {
  /// The tool, as messages name it (`loomc`, `loom-run --output-dir`).
  std::string tool;
  /// The first line of the marker file `.loom-output` (`loomc plan`).
  std::string marker;
  /// The names of the files and folders this kind writes (besides the
  /// marker); a name ending in `*` is a prefix (`output_*`).
  std::vector<std::string> entries;
  /// A folder written before the marker existed: this file, holding
  /// `"producer": "loomc` (empty: no such folders).
  std::string legacyFile;
};

/// `loomc -o`: plan.json, weights.bin, trace.json, report.html, model.mlir,
/// model.loom.mlir, runtime/.
const OutputKind &planOutput();
/// `loomc --scenario -o`: scenario.json, trace.json, report.html, models/.
const OutputKind &scenarioOutput();
/// A generation program (loomc --generate).
const OutputKind &generateOutput();
/// `loom-run --output-dir`: output_N.pb.
const OutputKind &runOutputs();

/// The marker file's name.
inline constexpr const char *kMarkerFile = ".loom-output";

/// Returns an empty string when `dir` may receive an output of `kind`, else
/// the reason, naming `dir` as given and what is in the way.
std::string checkOutputDir(const std::string &dir, const OutputKind &kind);

/// One output being written: a temporary folder next to the destination,
/// moved into place by commit() and removed otherwise.
class PendingOutput {
public:
  /// Checks `dir` (checkOutputDir) and creates the temporary sibling folder
  /// (and `dir`'s missing parents); on failure `error` says why.
  static std::optional<PendingOutput>
  begin(const std::string &dir, const OutputKind &kind, std::string &error);
  PendingOutput(PendingOutput &&other) noexcept;
  PendingOutput &operator=(PendingOutput &&) = delete;
  PendingOutput(const PendingOutput &) = delete;
  ~PendingOutput();

  /// The temporary folder to write into.
  const std::string &path() const { return tmp; }
  /// Writes the marker and moves the folder into place (exchanging it with
  /// a previous output, which is then removed); returns an empty string or
  /// the reason it failed (the destination is then unchanged).
  std::string commit();

private:
  PendingOutput(std::string dir, std::string tmp, const OutputKind *kind)
      : dir(std::move(dir)), tmp(std::move(tmp)), kind(kind) {}
  std::string dir, tmp;
  const OutputKind *kind;
};

} // namespace loom::output

#endif // LOOM_SUPPORT_OUTPUTDIR_H
