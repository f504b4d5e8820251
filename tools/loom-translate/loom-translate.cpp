//===- loom-translate.cpp - Translations into and out of Loom IR ----------===//
//
// --import-onnx: an ONNX model (binary, or ONNX text format from a file named
// *.onnxtext or with --onnx-text) to the loom dialect. No binding flags: use
// loomc for --input-shape/--dim/--const-input.
// --plan-to-json: a plan module (after plan-allocate-memory) to plan.json;
// the weights are checked but not written (loomc writes weights.bin).
// --plan-to-trace: a scheduled plan module to its predicted Chrome trace.
// --plan-to-report: a scheduled plan module to report.html.
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/PlanEmitter.h"
#include "loom/Import/OnnxImporter.h"
#include "loom/Pipelines/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

static llvm::cl::opt<bool> onnxText(
    "onnx-text", llvm::cl::desc("Read the input as ONNX text format"),
    llvm::cl::init(false));

int main(int argc, char **argv) {
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "loom-translate (Loom) " LOOM_VERSION "\n"
       << "built with LLVM " LLVM_VERSION_STRING "\n";
  });
  mlir::TranslateToMLIRRegistration importOnnx(
      "import-onnx", "Import an ONNX model into the loom dialect",
      [](llvm::SourceMgr &sourceMgr,
         mlir::MLIRContext *context) -> mlir::OwningOpRef<mlir::Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        llvm::StringRef name = buffer->getBufferIdentifier();
        bool text = onnxText || name.ends_with(".onnxtext");
        auto module = loom::importOnnxBuffer(*context, buffer->getBuffer(),
                                             name, text, {});
        return mlir::OwningOpRef<mlir::Operation *>(module.release());
      },
      [](mlir::DialectRegistry &registry) {
        loom::registerAllDialects(registry);
      });
  mlir::TranslateFromMLIRRegistration planToJson(
      "plan-to-json", "Write a plan module as plan.json (docs/plan-format.md)",
      [](mlir::Operation *op, llvm::raw_ostream &os) -> mlir::LogicalResult {
        auto module = llvm::dyn_cast<mlir::ModuleOp>(op);
        if (!module)
          return op->emitError("plan-to-json expects a module");
        llvm::raw_null_ostream weights;
        loom::emit::PlanEmitOptions options;
        options.producer = "loom-translate";
        return loom::emit::emitPlan(module, os, weights, options);
      },
      [](mlir::DialectRegistry &registry) {
        loom::registerAllDialects(registry);
      });
  mlir::TranslateFromMLIRRegistration planToTrace(
      "plan-to-trace",
      "Write a scheduled plan module's predicted schedule as a Chrome trace",
      [](mlir::Operation *op, llvm::raw_ostream &os) -> mlir::LogicalResult {
        auto module = llvm::dyn_cast<mlir::ModuleOp>(op);
        if (!module)
          return op->emitError("plan-to-trace expects a module");
        return loom::emit::emitTrace(module, os);
      },
      [](mlir::DialectRegistry &registry) {
        loom::registerAllDialects(registry);
      });
  mlir::TranslateFromMLIRRegistration planToReport(
      "plan-to-report", "Write a scheduled plan module as report.html",
      [](mlir::Operation *op, llvm::raw_ostream &os) -> mlir::LogicalResult {
        auto module = llvm::dyn_cast<mlir::ModuleOp>(op);
        if (!module)
          return op->emitError("plan-to-report expects a module");
        return loom::emit::emitReport(module, os);
      },
      [](mlir::DialectRegistry &registry) {
        loom::registerAllDialects(registry);
      });
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "Loom translation driver\n"));
}
