//===- loom-opt.cpp - Run Loom passes on MLIR files ------------------------===//
#include "loom/Pipelines/InitAll.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "loom-opt (Loom) " LOOM_VERSION "\n"
       << "built with LLVM " LLVM_VERSION_STRING "\n";
  });
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  loom::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Loom optimizer driver\n", registry));
}
