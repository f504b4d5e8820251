//===- ImportFuzzer.cpp - libFuzzer harness: model bytes -> loom dialect --===//
//
// Feeds each input to the importer loomc uses (importOnnxBuffer: binary
// protobuf, or ONNX text format when built with LOOM_FUZZ_TEXT=1), then runs
// the graph pipeline at -O0 up to the static-shape check, in process. An
// input may be refused with a diagnostic; it must never crash, hang or touch
// memory it does not own.
//
// Besides libFuzzer's own flags, the arguments after `-ignore_remaining_args=1`
// may bind the model as loomc's flags do:
//   loom-fuzz-import CORPUS -ignore_remaining_args=1 --const-input=cond=1
// (--const-input, --dim, --input-shape). With LOOM_FUZZ_VERBOSE=1 in the
// environment, each input's diagnostics are printed to stderr.
//
//===----------------------------------------------------------------------===//
#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#ifndef LOOM_FUZZ_TEXT
#define LOOM_FUZZ_TEXT 0
#endif

namespace {

loom::ImportOptions options;
bool verbose = false;

/// A model path in a folder that does not exist: external data locations
/// resolve against it and are never found, so no input reads a real file.
constexpr const char *kModelPath =
    LOOM_FUZZ_TEXT ? "/nonexistent-loom-fuzz/model.onnxtext" : "/nonexistent-loom-fuzz/model.onnx";

[[noreturn]] void usage(const std::string &message) {
  llvm::errs() << "loom-fuzz-import: " << message << "\n";
  std::exit(2);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  verbose = std::getenv("LOOM_FUZZ_VERBOSE") != nullptr;
  bool ours = false;
  for (int i = 1; i < *argc; ++i) {
    llvm::StringRef arg((*argv)[i]);
    if (arg == "-ignore_remaining_args=1") {
      ours = true;
      continue;
    }
    if (!ours)
      continue;
    if (arg.consume_front("--const-input=")) {
      auto parsed = loom::parseConstInputFlag(arg);
      if (!parsed)
        usage(llvm::toString(parsed.takeError()));
      options.constInputs[parsed->first] = parsed->second;
    } else if (arg.consume_front("--dim=")) {
      auto parsed = loom::parseDimFlag(arg);
      if (!parsed)
        usage(llvm::toString(parsed.takeError()));
      options.dims[parsed->first] = parsed->second;
    } else if (arg.consume_front("--input-shape=")) {
      auto parsed = loom::parseInputShapeFlag(arg);
      if (!parsed)
        usage(llvm::toString(parsed.takeError()));
      options.inputShapes[parsed->first] = parsed->second;
    } else {
      usage("unknown argument '" + arg.str() +
            "' (expected --const-input=, --dim= or --input-shape=)");
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const mlir::DialectRegistry &registry = *[] {
    auto *r = new mlir::DialectRegistry;
    loom::registerImportDialects(*r);
    return r;
  }();
  // A fresh context per input (nothing carries over from one to the next);
  // no thread pool, which would be started and stopped for every input.
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  context.getDiagEngine().registerHandler([](mlir::Diagnostic &diag) {
    if (verbose)
      llvm::errs() << diag << "\n";
    return mlir::success();
  });
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loom::importOnnxBuffer(context, bytes, kModelPath, LOOM_FUZZ_TEXT, options);
  if (!module)
    return 0;
  mlir::PassManager pm(&context);
  loom::GraphPipelineOptions graph;
  graph.optLevel = loom::OptLevel::O0;
  graph.requireStaticShapes = true;
  loom::addGraphPipeline(pm, graph);
  if (mlir::failed(pm.run(*module)))
    return 0;
  if (verbose)
    llvm::errs() << "loom-fuzz-import: imported and checked\n";
  return 0;
}
