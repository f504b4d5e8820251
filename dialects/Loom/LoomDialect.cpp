//===- LoomDialect.cpp - The loom dialect ---------------------------------===//
#include "Loom/LoomDialect.h"
#include "Loom/LoomOps.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace loom;

#include "Loom/LoomAllDialect.cpp.inc"
#include "Loom/LoomInterfaces.cpp.inc"

void LoomDialect::initialize() {
  registerLoomDialectOperations(this);
  addOperations<
#define GET_OP_LIST
#include "Loom/LoomFusedOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Loom/LoomQuantOps.cpp.inc"
      >();
}

Operation *LoomDialect::materializeConstant(OpBuilder &builder,
                                            Attribute value, Type type,
                                            Location loc) {
  if (isa<NoneType>(type))
    return NoneOp::create(builder, loc);
  if (auto elements = dyn_cast<ElementsAttr>(value))
    if (elements.getType() == type)
      return ConstantOp::create(builder, loc, elements);
  return nullptr;
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult NoneOp::fold(FoldAdaptor) { return UnitAttr::get(getContext()); }

LogicalResult loom::detail::verifyTypeVariable(Operation *op,
                                               StringRef typeVar,
                                               ArrayRef<Value> values) {
  Type first;
  for (Value v : values) {
    if (!v || isa<NoneType>(v.getType()))
      continue;
    Type element = getElementTypeOrSelf(v.getType());
    if (!first) {
      first = element;
      continue;
    }
    if (element != first)
      return op->emitOpError() << "values bound to type variable '" << typeVar
                               << "' must have one element type, got "
                               << first << " and " << element;
  }
  return success();
}
