//===- LoomUtils.cpp - Helpers shared by folders and shape helpers --------===//
#include "Loom/LoomUtils.h"
#include "Loom/LoomOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <cmath>

using namespace mlir;

DenseElementsAttr loom::toDense(Attribute attr) {
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(attr))
    return dense;
  auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(attr);
  if (!resource)
    return {};
  ShapedType type = resource.getType();
  if (!type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return {};
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return {};
  ArrayRef<char> data = blob->getData();
  Type element = type.getElementType();
  if (element.isInteger(1)) {
    // Booleans are stored one byte per element.
    if (int64_t(data.size()) != type.getNumElements())
      return {};
    SmallVector<bool> bools(data.begin(), data.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(bools));
  }
  int64_t bytes = type.getNumElements() *
                  int64_t(llvm::divideCeil(element.getIntOrFloatBitWidth(), 8));
  if (int64_t(data.size()) != bytes)
    return {};
  bool detectedSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, data, detectedSplat))
    return {};
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

std::optional<SmallVector<int64_t>> loom::getInts(Attribute attr) {
  DenseElementsAttr dense = toDense(attr);
  if (!dense || !isa<IntegerType>(dense.getElementType()))
    return std::nullopt;
  bool isUnsigned = dense.getElementType().isUnsignedInteger();
  SmallVector<int64_t> out;
  for (const APInt &v : dense.getValues<APInt>())
    out.push_back(isUnsigned ? int64_t(v.getZExtValue()) : v.getSExtValue());
  return out;
}

Attribute loom::getConstantAttr(Value v) {
  Attribute attr;
  if (v && matchPattern(v, m_Constant(&attr)))
    return attr;
  return {};
}

std::optional<SmallVector<int64_t>> loom::getConstantInts(Value v) {
  if (Attribute attr = getConstantAttr(v))
    return getInts(attr);
  return std::nullopt;
}

FailureOr<SmallVector<int64_t>> loom::broadcastShapes(ArrayRef<int64_t> a,
                                                      ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == 1)
      out[i] = y;
    else if (y == 1)
      out[i] = x;
    else if (ShapedType::isDynamic(x))
      out[i] = y;
    else if (ShapedType::isDynamic(y) || x == y)
      out[i] = x;
    else
      return failure();
  }
  return out;
}

std::optional<double> loom::getScalarConstant(Value v) {
  DenseElementsAttr dense = toDense(getConstantAttr(v));
  if (!dense || dense.getNumElements() != 1)
    return std::nullopt;
  Type element = dense.getElementType();
  if (isa<FloatType>(element))
    return (*dense.getValues<APFloat>().begin()).convertToDouble();
  if (auto it = dyn_cast<IntegerType>(element))
    return it.isUnsigned()
               ? double((*dense.getValues<APInt>().begin()).getZExtValue())
               : double((*dense.getValues<APInt>().begin()).getSExtValue());
  return std::nullopt;
}

bool loom::isScalarConstant(Value v, double want) {
  std::optional<double> got = getScalarConstant(v);
  if (!got)
    return false;
  if (want == 0.0)
    return std::fabs(*got) <= 1e-6;
  return std::fabs(*got - want) <= 1e-4 * std::fabs(want);
}

/// The graph inputs (their loom.name) that `v`'s value is computed from, in
/// argument order; a worklist, not recursion (graphs may be deep).
SmallVector<std::string> loom::inputsFeeding(func::FuncOp func, Value v) {
  llvm::SmallPtrSet<Operation *, 32> seen;
  llvm::SmallSetVector<unsigned, 4> args;
  SmallVector<Value> work{v};
  while (!work.empty()) {
    Value x = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(x)) {
      if (arg.getOwner()->getParentOp() == func.getOperation())
        args.insert(arg.getArgNumber());
      continue;
    }
    Operation *def = x.getDefiningOp();
    if (!def || !seen.insert(def).second)
      continue;
    for (Value o : def->getOperands())
      work.push_back(o);
  }
  SmallVector<unsigned> sorted(args.begin(), args.end());
  llvm::sort(sorted);
  SmallVector<std::string> names;
  for (unsigned i : sorted) {
    auto name = func.getArgAttrOfType<StringAttr>(i, "loom.name");
    names.push_back(name ? name.str() : "#" + std::to_string(i));
  }
  return names;
}

void loom::explainRunTimeBranch(func::FuncOp func, Operation *op) {
  for (Operation *child = op, *parent = op->getParentOp(); parent;
       child = parent, parent = parent->getParentOp()) {
    auto ifOp = dyn_cast<IfOp>(parent);
    if (!ifOp || getScalarConstant(ifOp.getCond()))
      continue;
    bool inThen = ifOp.getThenBranch().isAncestor(child->getParentRegion());
    SmallVector<std::string> from = inputsFeeding(func, ifOp.getCond());
    auto diag = ifOp.emitError()
                << "the " << (inThen ? "then" : "else")
                << " branch of this If does not hold for these shapes (above); "
                   "its condition is known only at run time, so both branches "
                   "are compiled";
    if (from.empty()) {
      diag << "; make the condition a constant for these inputs";
    } else {
      diag << "; if only one branch serves these inputs, bind ";
      for (size_t i = 0; i < from.size(); ++i)
        diag << (i ? ", " : "") << "--const-input " << from[i] << "=VALUE";
    }
    return;
  }
}

Operation *loom::firstInvalidOp(Operation *root) {
  Operation *culprit = nullptr;
  ScopedDiagnosticHandler quiet(root->getContext(),
                                [](Diagnostic &) { return success(); });
  root->walk([&](Operation *op) {
    if (failed(verify(op, /*verifyRecursively=*/false))) {
      culprit = op;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return culprit;
}

bool loom::constantBytes(ElementsAttr attr, std::string &out) {
  auto type = cast<ShapedType>(attr.getType());
  int64_t n = type.getNumElements();
  Type elt = type.getElementType();
  int64_t eltBytes =
      elt.isInteger(1) ? 1 : int64_t((elt.getIntOrFloatBitWidth() + 7) / 8);
  out.clear();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return false;
    ArrayRef<char> data = blob->getData();
    if (int64_t(data.size()) != n * eltBytes)
      return false;
    out.assign(data.begin(), data.end());
    return true;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return false;
  if (elt.isInteger(1)) {
    for (bool v : dense.getValues<bool>())
      out.push_back(v ? 1 : 0);
    return true;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (int64_t i = 0; i < n; ++i)
      out.append(raw.begin(), raw.begin() + eltBytes);
    return true;
  }
  if (int64_t(raw.size()) != n * eltBytes)
    return false;
  out.assign(raw.begin(), raw.end());
  return true;
}

ElementsAttr loom::f32Resource(RankedTensorType type, ArrayRef<float> values,
                               StringRef name) {
  auto &manager = DenseResourceElementsHandle::getManagerInterface(type.getContext());
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(float));
  return DenseResourceElementsAttr::get(
      type, manager.insert(name, HeapAsmResourceBlob::allocateAndCopyWithAlign(
                                     bytes, alignof(uint64_t))));
}

ElementsAttr loom::storedIntegers(MLIRContext *ctx, ArrayRef<int64_t> shape,
                                  ArrayRef<int8_t> values) {
  auto type = RankedTensorType::get(shape, IntegerType::get(ctx, 8));
  if (values.size() <= 64)
    return DenseElementsAttr::get(type, values);
  auto &manager = DenseResourceElementsHandle::getManagerInterface(ctx);
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size());
  return DenseResourceElementsAttr::get(
      type, manager.insert("qweight", HeapAsmResourceBlob::allocateAndCopyWithAlign(
                                          bytes, alignof(uint64_t))));
}
