//===- QuantizationEmitter.cpp - quantization.json -----------------------===//
//
// Writes the module's `loom.quantization` record (loom::quantizeModule: the
// outputs' SQNR against the float model, every quantized layer's own SQNR,
// the cures applied) as JSON, for scripts and dashboards
// (docs/quantization.md, "quantization.json").
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/PlanEmitter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace mlir;

namespace {

void write(llvm::json::OStream &j, Attribute a) {
  if (auto d = dyn_cast<DictionaryAttr>(a)) {
    j.objectBegin();
    // A dictionary attribute keeps its entries sorted by name: the keys come
    // out in a fixed order.
    for (NamedAttribute n : d) {
      j.attributeBegin(n.getName().getValue());
      write(j, n.getValue());
      j.attributeEnd();
    }
    j.objectEnd();
  } else if (auto arr = dyn_cast<ArrayAttr>(a)) {
    j.arrayBegin();
    for (Attribute e : arr)
      write(j, e);
    j.arrayEnd();
  } else if (auto s = dyn_cast<StringAttr>(a)) {
    j.value(s.getValue());
  } else if (auto b = dyn_cast<BoolAttr>(a)) {
    j.value(b.getValue());
  } else if (auto i = dyn_cast<IntegerAttr>(a)) {
    j.value(i.getInt());
  } else if (auto f = dyn_cast<FloatAttr>(a)) {
    double v = f.getValueAsDouble();
    // JSON has no infinities: an SQNR without error (or without signal) is
    // the string "inf" ("-inf").
    if (std::isfinite(v))
      j.value(v);
    else
      j.value(std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
  } else {
    j.value(nullptr);
  }
}

} // namespace

LogicalResult loom::emit::emitQuantization(ModuleOp module,
                                           llvm::raw_ostream &os) {
  auto q = module->getAttrOfType<DictionaryAttr>("loom.quantization");
  if (!q)
    return module.emitError("the module was not quantized: no "
                            "loom.quantization record to write");
  llvm::json::OStream j(os, 2);
  write(j, q);
  os << "\n";
  return success();
}
