//===- FromLoom.cpp - loom graph -> plan (trivial placement) --------------===//
//
// Every region-free loom op becomes a task on queue 0 of the target's first
// CPU, in program order; constants become weights, tensors buffers in that
// CPU's arena. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "Plan/Transforms/Passes.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"
#include "loom/Quant/Quant.h"
#include "loom/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <limits>

namespace loom::plan {
#define GEN_PASS_DEF_PLANFROMLOOM
#include "Plan/Transforms/Passes.h.inc"
} // namespace loom::plan

using namespace mlir;
using namespace loom::plan;

namespace {

/// The ONNX node names a location carries (NameLocs, also inside fused
/// locations after CSE), in order, without duplicates.
SmallVector<StringRef> nodeNames(Location loc) {
  llvm::SetVector<StringRef> names;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l))
      names.insert(n.getName().getValue());
    return WalkResult::advance();
  });
  return SmallVector<StringRef>(names.begin(), names.end());
}

/// The op's attributes as the kernel sees them (no segment sizes).
DictionaryAttr kernelAttrs(Operation &op) {
  SmallVector<NamedAttribute> attrs;
  for (NamedAttribute a : op.getAttrDictionary())
    if (a.getName() != "operandSegmentSizes" &&
        a.getName() != "resultSegmentSizes")
      attrs.push_back(a);
  return DictionaryAttr::get(op.getContext(), attrs);
}

/// The program of a loom.fused_elementwise body as the kernel's attributes
/// (docs/fused-ops.md, "Elementwise regions"): values 0..n-1 are the inputs,
/// n + i the result of instruction i.
FailureOr<DictionaryAttr> elementwiseProgram(loom::FusedElementwiseOp op) {
  Builder b(op.getContext());
  Block &body = op.getBody().front();
  DenseMap<Value, int64_t> number;
  for (auto [i, arg] : llvm::enumerate(body.getArguments()))
    number[arg] = int64_t(i);
  SmallVector<Attribute> names;
  SmallVector<int64_t> argc, args, paramc, results;
  SmallVector<double> params;
  int64_t next = int64_t(body.getNumArguments());
  // A scalar constant operand of the op (Clip's bounds): the fused op's input
  // bound to that block argument.
  auto constantOf = [&](Value v) -> std::optional<double> {
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg)
      return std::nullopt;
    auto attr = dyn_cast_or_null<DenseElementsAttr>(
        loom::toDense(loom::getConstantAttr(op.getInputs()[arg.getArgNumber()])));
    if (!attr || attr.getNumElements() != 1 ||
        !attr.getElementType().isF32())
      return std::nullopt;
    return double(*attr.getValues<float>().begin());
  };
  for (Operation &inner : body) {
    if (auto yield = dyn_cast<loom::FusedYieldOp>(inner)) {
      for (Value v : yield.getResults())
        results.push_back(number.lookup(v));
      continue;
    }
    if (isa<loom::NoneOp>(inner))
      continue;
    StringRef name = inner.getName().stripDialect();
    SmallVector<double> p;
    SmallVector<Value> operands(inner.getOperands());
    if (auto g = dyn_cast<loom::GeluOp>(inner)) {
      name = g.getApproximate() == "tanh" ? "gelu_tanh" : "gelu";
    } else if (auto c = dyn_cast<loom::ClipOp>(inner)) {
      std::optional<double> lo = -std::numeric_limits<double>::infinity();
      std::optional<double> hi = std::numeric_limits<double>::infinity();
      if (!loom::isNone(c.getMin()))
        lo = constantOf(c.getMin());
      if (!loom::isNone(c.getMax()))
        hi = constantOf(c.getMax());
      if (!lo || !hi)
        return inner.emitError("clip bounds in a fused_elementwise body must "
                               "be scalar f32 constants");
      p = {*lo, *hi};
      operands = {c.getInput()};
    } else if (auto l = dyn_cast<loom::LeakyReluOp>(inner)) {
      p = {l.getAlpha().convertToDouble()};
    } else if (auto h = dyn_cast<loom::HardSigmoidOp>(inner)) {
      p = {h.getAlpha().convertToDouble(), h.getBeta().convertToDouble()};
    } else if (auto e = dyn_cast<loom::EluOp>(inner)) {
      p = {e.getAlpha().convertToDouble()};
    }
    names.push_back(b.getStringAttr(name));
    argc.push_back(int64_t(operands.size()));
    for (Value v : operands) {
      auto it = number.find(v);
      if (it == number.end())
        return inner.emitError("operand of a fused_elementwise body op is "
                               "not an input or an earlier op");
      args.push_back(it->second);
    }
    paramc.push_back(int64_t(p.size()));
    params.append(p.begin(), p.end());
    for (Value r : inner.getResults())
      number[r] = next;
    ++next;
  }
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("body_ops", b.getArrayAttr(names)),
      b.getNamedAttr("body_argc", b.getDenseI64ArrayAttr(argc)),
      b.getNamedAttr("body_args", b.getDenseI64ArrayAttr(args)),
      b.getNamedAttr("body_paramc", b.getDenseI64ArrayAttr(paramc)),
      b.getNamedAttr("body_params", b.getDenseF64ArrayAttr(params)),
      b.getNamedAttr("body_results", b.getDenseI64ArrayAttr(results))};
  return b.getDictionaryAttr(attrs);
}

/// The element type a tensor is stored with: a quantized type's storage
/// integer (i8 for signed, ui8 for unsigned), else the element type itself.
Type storedElementType(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return IntegerType::get(t.getContext(), 8,
                            q.isSigned() ? IntegerType::Signless
                                         : IntegerType::Unsigned);
  return t;
}

MemRefType bufferType(RankedTensorType t) {
  return MemRefType::get(t.getShape(), storedElementType(t.getElementType()));
}

/// The quantization parameters of a tensor type as the runtime kernels take
/// them (docs/fused-ops.md, "Quantized kernels"): `scale` (f32) and
/// `zeroPoint` (the stored dtype). With `asWeight`, both have the tensor's
/// rank and each dim divides the tensor's (per tensor: all ones; per axis:
/// the axis' size; sub-channel: shape / block sizes); otherwise (the ONNX
/// QuantizeLinear / DequantizeLinear form) a per-tensor scale is a scalar, a
/// per-axis one 1-D along `axis`, and a sub-channel one is blocked along
/// the one axis with a block size > 1 (`blockSize`).
struct KernelQuantParams {
  DenseElementsAttr scale, zeroPoint;
  int64_t axis = 0, blockSize = 0;
};

FailureOr<KernelQuantParams> kernelQuantParams(Operation *op,
                                               RankedTensorType type,
                                               bool asWeight) {
  auto q = cast<quant::QuantizedType>(type.getElementType());
  MLIRContext *ctx = op->getContext();
  Type zpType = storedElementType(q);
  auto zpValue = [&](int64_t zp) {
    return APInt(8, uint64_t(zp), /*isSigned=*/q.isSigned());
  };
  int64_t rank = type.getRank();
  KernelQuantParams p;
  if (auto u = dyn_cast<quant::UniformQuantizedType>(q)) {
    SmallVector<int64_t> shape(asWeight ? rank : 0, 1);
    p.scale = DenseElementsAttr::get(RankedTensorType::get(shape, Float32Type::get(ctx)),
                                     float(u.getScale()));
    p.zeroPoint = DenseElementsAttr::get(RankedTensorType::get(shape, zpType),
                                         zpValue(u.getZeroPoint()));
    return p;
  }
  if (auto a = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    int64_t axis = a.getQuantizedDimension();
    SmallVector<int64_t> shape = {int64_t(a.getScales().size())};
    if (asWeight) {
      shape.assign(rank, 1);
      shape[axis] = int64_t(a.getScales().size());
    }
    SmallVector<float> scales;
    for (double v : a.getScales())
      scales.push_back(float(v));
    SmallVector<APInt> zps;
    for (int64_t z : a.getZeroPoints())
      zps.push_back(zpValue(z));
    p.scale = DenseElementsAttr::get(
        RankedTensorType::get(shape, Float32Type::get(ctx)), ArrayRef(scales));
    p.zeroPoint =
        DenseElementsAttr::get(RankedTensorType::get(shape, zpType), zps);
    p.axis = axis;
    return p;
  }
  auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(q);
  if (!sub)
    return op->emitError("unsupported quantized type ") << q;
  DenseElementsAttr scales = sub.getScales(), zps = sub.getZeroPoints();
  SmallVector<float> scaleValues;
  for (APFloat v : scales.getValues<APFloat>())
    scaleValues.push_back(float(v.convertToDouble()));
  SmallVector<APInt> zpValues;
  for (APInt v : zps.getValues<APInt>())
    zpValues.push_back(zpValue(v.getSExtValue()));
  SmallVector<int64_t> shape(scales.getType().getShape());
  if (!asWeight) {
    // The ONNX form blocks one axis: the one with the largest blocks; the
    // scales (and zero points) of any other blocked axis are repeated to
    // one per element along it (a conv weight blocked along its input
    // channels and, whole, along its kernel window).
    p.blockSize = 1;
    for (auto [d, n] : llvm::enumerate(shape))
      if (n != type.getDimSize(int64_t(d)) &&
          type.getDimSize(int64_t(d)) / n > p.blockSize) {
        p.axis = int64_t(d);
        p.blockSize = type.getDimSize(int64_t(d)) / n;
      }
    if (p.blockSize == 1)
      p.blockSize = 0;
    for (int64_t d = 0; d < rank; ++d) {
      if (shape[d] == type.getDimSize(d) || (p.blockSize && d == p.axis))
        continue;
      // Repeat along d: each value block = dim / shape[d] times.
      const int64_t block = type.getDimSize(d) / shape[d];
      int64_t outer = 1, inner = 1;
      for (int64_t k = 0; k < d; ++k)
        outer *= shape[k];
      for (int64_t k = d + 1; k < rank; ++k)
        inner *= shape[k];
      SmallVector<float> s2;
      SmallVector<APInt> z2;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < shape[d]; ++i)
          for (int64_t r = 0; r < block; ++r)
            for (int64_t k = 0; k < inner; ++k) {
              s2.push_back(scaleValues[size_t((o * shape[d] + i) * inner + k)]);
              z2.push_back(zpValues[size_t((o * shape[d] + i) * inner + k)]);
            }
      scaleValues = std::move(s2);
      zpValues = std::move(z2);
      shape[d] = type.getDimSize(d);
    }
  }
  p.scale = DenseElementsAttr::get(
      RankedTensorType::get(shape, Float32Type::get(ctx)), ArrayRef(scaleValues));
  p.zeroPoint =
      DenseElementsAttr::get(RankedTensorType::get(shape, zpType), zpValues);
  return p;
}

/// The stored integers of a quantized constant as weights.bin holds them
/// (docs/fused-ops.md, "Quantized kernels"): dense 8-bit storage as is (the
/// attribute itself when its element type is the stored one: no copy of a
/// large blob); 4-bit and 2-bit storage packed two / four per byte, and 2:4
/// sparse weights as their kept values and positions, as a 1-D i8 tensor.
FailureOr<ElementsAttr> storedWeight(loom::QConstantOp c) {
  ElementsAttr value = c.getValue();
  mlir::quant::QuantizedType q = loom::quantElementType(c.getType());
  auto type = cast<RankedTensorType>(c.getType());
  Type stored = storedElementType(q);
  const unsigned width = q.getStorageTypeIntegralWidth();
  const bool sparse = c.getSparsity().has_value();
  if (width == 8 && !sparse) {
    if (value.getElementType() == stored)
      return value;
    auto dense = dyn_cast_or_null<DenseElementsAttr>(loom::toDense(value));
    if (!dense)
      return c.emitError("cannot read the qconstant's values");
    return cast<ElementsAttr>(DenseElementsAttr::get(
        RankedTensorType::get(type.getShape(), stored),
        llvm::to_vector(dense.getValues<APInt>())));
  }
  if (width != 8 && width != 4 && width != 2)
    return c.emitError("unsupported storage width ") << width;
  if (sparse && q.isSigned() == false)
    return c.emitError("2:4 sparse weights must have signed storage");
  // The stored values, one byte each.
  SmallVector<int8_t> values;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || int64_t(blob->getData().size()) != type.getNumElements())
      return c.emitError("cannot read the qconstant's blob");
    values.assign(blob->getData().begin(), blob->getData().end());
  } else if (auto d = dyn_cast<DenseElementsAttr>(value)) {
    for (APInt v : d.getValues<APInt>())
      values.push_back(int8_t(v.getSExtValue()));
  } else {
    return c.emitError("cannot read the qconstant's values");
  }
  const int lo = width == 2 ? -2 : width == 4 ? -8 : -128,
            hi = width == 2 ? 1 : width == 4 ? 7 : 127;
  for (int8_t x : values)
    if (x < lo || x > hi)
      return c.emitError("int") << width << " value " << int(x) << " out of ["
                                << lo << ", " << hi << "]";
  std::vector<uint8_t> packed;
  if (sparse) {
    try {
      packed = loom::quant::packSparse24(values.data(), type.getDimSize(0),
                                         type.getDimSize(1), int(width));
    } catch (const std::invalid_argument &e) {
      return c.emitError("2:4 sparse weight: ") << e.what();
    }
  } else {
    packed = width == 4 ? loom::quant::packInt4(values.data(), values.size())
                        : loom::quant::packInt2(values.data(), values.size());
  }
  SmallVector<int8_t> bytes(packed.begin(), packed.end());
  return cast<ElementsAttr>(DenseElementsAttr::get(
      RankedTensorType::get({int64_t(bytes.size())},
                            IntegerType::get(c.getContext(), 8)),
      ArrayRef(bytes)));
}

struct PlanFromLoomPass
    : public loom::plan::impl::PlanFromLoomBase<PlanFromLoomPass> {
  using PlanFromLoomBase::PlanFromLoomBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>("main");
    if (!func || func.isExternal()) {
      module.emitError("plan-from-loom: the module has no func.func @main "
                       "with a body");
      return signalPassFailure();
    }
    // A built-in name or a YAML file (docs/targets.md).
    llvm::Expected<loom::target::TargetDesc> desc =
        loom::target::loadTarget(target);
    if (!desc) {
      module.emitError(llvm::toString(desc.takeError()));
      return signalPassFailure();
    }
    const loom::target::DeviceDesc *cpu = desc->firstCpu();
    if (!cpu) {
      module.emitError("target '") << target << "' has no CPU device";
      return signalPassFailure();
    }
    if (failed(convert(module, func, *desc, *cpu)))
      return signalPassFailure();
  }

  // Conversion state (one module at a time).
  FlatSymbolRefAttr device, arena;
  Block *scheduleBody = nullptr;
  Type eventType;
  DenseMap<Value, Value> buffers;  // loom value -> plan buffer
  DenseMap<Value, Value> producer; // plan buffer -> event of its writer
  Value none;

  Value getNone(OpBuilder &b, Location loc) {
    if (!none) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(scheduleBody);
      none = NoneOp::create(b, loc, b.getType<NoneType>());
    }
    return none;
  }

  /// A buffer for result `i` of `op` (named after the task, with the result
  /// number when there are several); an error unless its type is static.
  FailureOr<Value> allocResult(OpBuilder &ab, Operation &op, unsigned i,
                               StringRef taskName) {
    Value result = op.getResult(i);
    auto type = dyn_cast<RankedTensorType>(result.getType());
    if (!type || !type.hasStaticShape())
      return op.emitError("result ") << i << " has type " << result.getType()
                                     << "; plans need static shapes";
    std::string bufName = op.getNumResults() == 1
                              ? taskName.str()
                              : (taskName + ":" + Twine(i)).str();
    Value buf = AllocOp::create(ab, op.getLoc(), bufferType(type), arena,
                                ab.getStringAttr(bufName), nullptr);
    buffers[result] = buf;
    return buf;
  }

  /// Appends the buffer of `op`'s operand `v` (a loom value) to `ins`, and,
  /// outside a control task's body, the event of its writer to `deps`.
  LogicalResult addOperand(Operation &op, Value v, SmallVectorImpl<Value> &ins,
                           llvm::SetVector<Value> &deps, bool inBody) {
    Value buf = buffers.lookup(v);
    if (!buf)
      return op.emitError("operand defined outside the graph body");
    ins.push_back(buf);
    if (Value e = producer.lookup(buf); e && !inBody)
      deps.insert(e);
    return success();
  }

  /// The ONNX node names a task covers (its own name when it has none).
  static ArrayAttr opNamesAttr(OpBuilder &b, ArrayRef<StringRef> names,
                               StringRef taskName) {
    SmallVector<Attribute> opNames;
    for (StringRef n : names)
      opNames.push_back(b.getStringAttr(n));
    if (opNames.empty())
      opNames.push_back(b.getStringAttr(taskName));
    return b.getArrayAttr(opNames);
  }

  /// Converts one loom op. `ab` creates buffers and weights (in the
  /// schedule's body), `b` the task (in the schedule's body, or in a control
  /// task's body when `inBody`: then without dependencies, since a body runs
  /// in order).
  LogicalResult convertOp(Operation &op, int64_t index, OpBuilder &ab,
                          OpBuilder &b, bool inBody) {
    if (isa<loom::NoneOp>(op)) {
      buffers[op.getResult(0)] = getNone(ab, op.getLoc());
      return success();
    }
    SmallVector<StringRef> names = nodeNames(op.getLoc());
    if (auto c = dyn_cast<loom::ConstantOp>(op)) {
      if (c->use_empty())
        return success();
      auto type = cast<RankedTensorType>(c.getType());
      StringAttr name = names.empty() ? StringAttr() : b.getStringAttr(names[0]);
      buffers[c.getResult()] =
          WeightOp::create(ab, c.getLoc(), bufferType(type), c.getValue(),
                           name, /*offset=*/nullptr);
      ++numWeights;
      return success();
    }
    if (auto qc = dyn_cast<loom::QConstantOp>(op)) {
      if (qc->use_empty())
        return success();
      FailureOr<ElementsAttr> stored = storedWeight(qc);
      if (failed(stored))
        return failure();
      StringAttr name = names.empty() ? StringAttr() : b.getStringAttr(names[0]);
      auto type = cast<ShapedType>(stored->getType());
      buffers[qc.getResult()] = WeightOp::create(
          ab, qc.getLoc(), MemRefType::get(type.getShape(), type.getElementType()),
          *stored, name, /*offset=*/nullptr);
      ++numWeights;
      return success();
    }
    DictionaryAttr attrs;
    StringRef kernel = op.getName().stripDialect();
    std::string taskName = names.empty()
                               ? (op.getName().stripDialect() + "#" +
                                  std::to_string(index)).str()
                               : names[0].str();
    // Quantized ops: the quantization parameters of their types become
    // weights, passed to the kernel as operands (docs/fused-ops.md).
    std::optional<SmallVector<Value>> quantIns;
    if (isa<loom::QuantizeOp, loom::DequantizeOp, loom::QMatMulOp,
            loom::QConvOp>(op)) {
      NamedAttrList extra(kernelAttrs(op));
      SmallVector<Value> list;
      // asWeight: W's contract; else the ONNX op form, whose per-tensor
      // scale is a scalar (a kernel's activation parameters: setAxis off).
      auto addParams = [&](Value v, bool asWeight, StringRef what,
                           bool setAxis = true) -> LogicalResult {
        auto type = cast<RankedTensorType>(v.getType());
        FailureOr<KernelQuantParams> p =
            kernelQuantParams(&op, type, asWeight);
        if (failed(p))
          return failure();
        for (auto [attr, suffix] :
             {std::pair{p->scale, "_scale"}, {p->zeroPoint, "_zero_point"}}) {
          auto t = cast<ShapedType>(attr.getType());
          list.push_back(WeightOp::create(
              ab, op.getLoc(), MemRefType::get(t.getShape(), t.getElementType()),
              attr, b.getStringAttr(taskName + ":" + what.str() + suffix),
              /*offset=*/nullptr));
          numWeights++;
        }
        if (!asWeight && setAxis) {
          extra.set("axis", b.getI64IntegerAttr(p->axis));
          if (p->blockSize)
            extra.set("block_size", b.getI64IntegerAttr(p->blockSize));
        }
        return success();
      };
      // A packed (4- or 2-bit, or 2:4 sparse) weight: its bits, its
      // logical shape and its sparsity for the kernel.
      auto notePacked = [&](Value w) {
        quant::QuantizedType q = loom::quantElementType(w.getType());
        auto qc = w.getDefiningOp<loom::QConstantOp>();
        bool sparse = qc && qc.getSparsity();
        if (q && (q.getStorageTypeIntegralWidth() < 8 || sparse)) {
          extra.set("w_bits",
                    b.getI64IntegerAttr(q.getStorageTypeIntegralWidth()));
          extra.set("w_shape", b.getDenseI64ArrayAttr(
                                   cast<ShapedType>(w.getType()).getShape()));
        }
        if (sparse)
          extra.set("w_sparsity", qc.getSparsityAttr());
      };
      auto isQuant = [](Value v) {
        return bool(loom::quantElementType(v.getType()));
      };
      auto producer3 = [&](Value x, Value w, Value bias, Value y,
                           StringRef xName) -> LogicalResult {
        list.push_back(x);
        if (isQuant(x)) {
          if (failed(addParams(x, /*asWeight=*/false, xName, false)))
            return failure();
        } else {
          list.push_back(Value());
          list.push_back(Value());
        }
        list.push_back(w);
        if (failed(addParams(w, /*asWeight=*/true, "w")))
          return failure();
        notePacked(w);
        list.push_back(bias);
        if (isQuant(y))
          return addParams(y, /*asWeight=*/false, "y", false);
        return success();
      };
      LogicalResult ok = success();
      if (auto qz = dyn_cast<loom::QuantizeOp>(op)) {
        kernel = "quantize_linear";
        list.push_back(qz.getInput());
        ok = addParams(qz.getOutput(), /*asWeight=*/false, "y");
      } else if (auto dq = dyn_cast<loom::DequantizeOp>(op)) {
        kernel = "dequantize_linear";
        list.push_back(dq.getInput());
        ok = addParams(dq.getInput(), /*asWeight=*/false, "x");
        notePacked(dq.getInput());
      } else if (auto mm = dyn_cast<loom::QMatMulOp>(op)) {
        ok = producer3(mm.getA(), mm.getW(), mm.getBias(), mm.getY(), "a");
      } else if (auto cv = dyn_cast<loom::QConvOp>(op)) {
        ok = producer3(cv.getX(), cv.getW(), cv.getBias(), cv.getY(), "x");
      }
      if (failed(ok))
        return failure();
      // A quantized result is stored per tensor; int4 only as a weight.
      for (Value r : op.getResults())
        if (quant::QuantizedType q = loom::quantElementType(r.getType());
            q && q.getStorageTypeIntegralWidth() != 8)
          return op.emitError("cannot plan a ")
                 << q.getStorageTypeIntegralWidth()
                 << "-bit quantized activation; only weights may be int4";
      quantIns = std::move(list);
      attrs = extra.getDictionary(op.getContext());
    }
    if (auto fe = dyn_cast<loom::FusedElementwiseOp>(op)) {
      FailureOr<DictionaryAttr> program = elementwiseProgram(fe);
      if (failed(program))
        return failure();
      attrs = *program;
    } else if (isa<loom::IfOp, loom::LoopOp>(op)) {
      return convertControl(op, taskName, names, ab, b, inBody);
    } else if (op.getNumRegions() != 0)
      return op.emitError("cannot plan '")
             << op.getName()
             << "': control flow must be folded or unrolled first (bind "
                "the inputs it depends on with --const-input)";
    if (op.getDialect() == nullptr ||
        op.getDialect()->getNamespace() != loom::LoomDialect::getDialectNamespace())
      return op.emitError("cannot plan '") << op.getName()
                                           << "': not a loom op";

    SmallVector<Value> ins, outs;
    llvm::SetVector<Value> deps;
    SmallVector<Value> operandList =
        quantIns ? *quantIns : llvm::to_vector(op.getOperands());
    for (Value operand : operandList) {
      if (!operand) { // an absent quantization parameter
        ins.push_back(getNone(ab, op.getLoc()));
        continue;
      }
      if (operand.getDefiningOp<WeightOp>()) { // one made above
        ins.push_back(operand);
        continue;
      }
      if (failed(addOperand(op, operand, ins, deps, inBody)))
        return failure();
    }
    for (auto [i, result] : llvm::enumerate(op.getResults())) {
      if (isa<NoneType>(result.getType())) { // absent optional result
        outs.push_back(getNone(ab, op.getLoc()));
        continue;
      }
      if (result.use_empty() && isa<RankedTensorType>(result.getType()) &&
          cast<RankedTensorType>(result.getType()).hasStaticShape()) {
        outs.push_back(getNone(ab, op.getLoc()));
        continue;
      }
      FailureOr<Value> buf = allocResult(ab, op, i, taskName);
      if (failed(buf))
        return failure();
      outs.push_back(*buf);
    }
    auto task = TaskOp::create(
        b, op.getLoc(), eventType, b.getStringAttr(kernel), device, b.getI64IntegerAttr(0),
        ins, outs, deps.takeVector(), b.getStringAttr(taskName),
        attrs ? attrs : kernelAttrs(op), opNamesAttr(b, names, taskName),
        /*cost_us=*/nullptr, /*start_us=*/nullptr, /*end_us=*/nullptr,
        /*bodiesCount=*/0);
    for (Value out : outs)
      if (isa<MemRefType>(out.getType()))
        producer[out] = task.getDone();
    ++numTasks;
    return success();
  }

  /// An If or Loop left for run time becomes a control task whose bodies
  /// are its regions' ops, as tasks on the control task's queue
  /// (docs/plan-format.md, "Control tasks"). Its inputs are its operands
  /// and the outer buffers the bodies read; every value a body computes
  /// gets a buffer of its own, which no task outside touches.
  LogicalResult convertControl(Operation &op, StringRef taskName,
                               ArrayRef<StringRef> names, OpBuilder &ab,
                               OpBuilder &b, bool inBody) {
    auto loop = dyn_cast<loom::LoopOp>(op);
    auto loc = op.getLoc();
    SmallVector<Value> ins, outs;
    llvm::SetVector<Value> deps;
    auto addInput = [&](Value v) {
      return addOperand(op, v, ins, deps, inBody);
    };
    for (Value v : op.getOperands())
      if (failed(addInput(v)))
        return failure();
    // Captures: outer values the bodies read (weights need no listing).
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op.getRegions(), captured);
    for (Value v : captured) {
      Value buf = buffers.lookup(v);
      if (loom::isNone(v) || (buf && buf.getDefiningOp<WeightOp>()) ||
          llvm::is_contained(op.getOperands(), v))
        continue;
      if (failed(addInput(v)))
        return failure();
    }
    int64_t maxTrip = 0, numCarried = 0;
    NamedAttrList attrs;
    if (loop) {
      numCarried = int64_t(loop.getVInitial().size());
      if (op.getNumResults() != size_t(numCarried))
        return op.emitError("a loop whose trip count is known only at run "
                            "time cannot have scan outputs (their length "
                            "would depend on the run)");
      auto bound = op.getAttrOfType<IntegerAttr>("loom.max_trip_count");
      if (!bound)
        return op.emitError("loop has no bound on its trip count "
                            "(loom-check-static-shapes sets "
                            "loom.max_trip_count)");
      maxTrip = bound.getInt();
      attrs.set("max_trip_count", b.getI64IntegerAttr(maxTrip));
      attrs.set("num_carried", b.getI64IntegerAttr(numCarried));
    }
    for (unsigned i = 0; i < op.getNumResults(); ++i) {
      FailureOr<Value> buf = allocResult(ab, op, i, taskName);
      if (failed(buf))
        return failure();
      outs.push_back(*buf);
    }
    StringRef kernel = loop ? "loop" : "if";
    auto task = TaskOp::create(
        b, loc, eventType, b.getStringAttr(kernel), device,
        b.getI64IntegerAttr(0), ins, outs, deps.takeVector(),
        b.getStringAttr(taskName), attrs.getDictionary(op.getContext()),
        opNamesAttr(b, names, taskName), /*cost_us=*/nullptr,
        /*start_us=*/nullptr, /*end_us=*/nullptr, op.getNumRegions());
    ++numTasks;
    for (Value out : outs)
      producer[out] = task.getDone();

    // Buffers and weights of the bodies go before the (outermost) control
    // task, in the schedule's body.
    OpBuilder::InsertionGuard guard(ab);
    if (!inBody)
      ab.setInsertionPoint(task);
    for (auto [r, region] : llvm::enumerate(op.getRegions())) {
      Block *dst = new Block();
      task.getBodies()[r].push_back(dst);
      OpBuilder tb = OpBuilder::atBlockEnd(dst);
      Block &src = region.front();
      std::string bodyName =
          loop ? "body" : (r == 0 ? "then_branch" : "else_branch");
      // A loop body's arguments (iteration number, condition, carried
      // values) are buffers the control task writes before each run.
      SmallVector<Value> params;
      for (BlockArgument arg : src.getArguments()) {
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        if (!type || !type.hasStaticShape())
          return op.emitError("body argument ")
                 << arg.getArgNumber() << " has type " << arg.getType()
                 << "; plans need static shapes";
        Value buf = AllocOp::create(
            ab, loc, bufferType(type), arena,
            ab.getStringAttr((taskName + ":" + bodyName + ":arg" +
                              Twine(arg.getArgNumber()))
                                 .str()),
            nullptr);
        buffers[arg] = buf;
        params.push_back(buf);
      }
      int64_t index = 0;
      Operation *terminator = src.getTerminator();
      for (Operation &inner : src.without_terminator())
        if (failed(convertOp(inner, ++index, ab, tb, /*inBody=*/true)))
          return failure();
      // Results: a loop's must be written by its body (the control task
      // copies them into the params for the next run), so a value the body
      // passes through unchanged is copied by an identity task.
      DenseSet<Value> written;
      for (auto t : dst->getOps<TaskOp>())
        for (Value o : t.getOutputs())
          written.insert(o);
      SmallVector<Value> results;
      for (auto [k, v] : llvm::enumerate(terminator->getOperands())) {
        Value buf = buffers.lookup(v);
        if (!buf)
          return terminator->emitError("result ")
                 << k << " of the body has no buffer";
        if (loop && !written.contains(buf)) {
          std::string name =
              (taskName + ":" + bodyName + ":result" + Twine(k)).str();
          Value copy = AllocOp::create(ab, loc, buf.getType(), arena,
                                       ab.getStringAttr(name), nullptr);
          TaskOp::create(tb, loc, eventType, tb.getStringAttr("identity"),
                         device, tb.getI64IntegerAttr(0), ValueRange{buf},
                         ValueRange{copy}, ValueRange{},
                         tb.getStringAttr("copy of " + name),
                         tb.getDictionaryAttr({}),
                         tb.getStrArrayAttr({"copy of " + name}), nullptr,
                         nullptr, nullptr, /*bodiesCount=*/0);
          ++numTasks;
          written.insert(copy);
          buf = copy;
        }
        results.push_back(buf);
      }
      YieldOp::create(tb, loc, tb.getStringAttr(bodyName), params, results);
    }
    return success();
  }

  LogicalResult convert(ModuleOp module, func::FuncOp func,
                        const loom::target::TargetDesc &desc,
                        const loom::target::DeviceDesc &cpu) {
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    b.setInsertionPoint(func);
    // The name or path as given: later passes load the target again.
    module->setAttr("plan.target", b.getStringAttr(target));
    for (const auto &d : desc.devices) {
      DeviceOp::create(b, func.getLoc(), d.name, d.kind, uint64_t(d.queues));
      // The target's memory_mb (MiB), if any, bounds the arena.
      IntegerAttr capacity;
      if (d.memoryMB)
        capacity = b.getI64IntegerAttr(int64_t(*d.memoryMB * 1024 * 1024));
      ArenaOp::create(b, func.getLoc(), b.getStringAttr(d.name + "_mem"),
                      FlatSymbolRefAttr::get(ctx, d.name),
                      b.getI64IntegerAttr(64), /*peak_bytes=*/nullptr,
                      capacity);
    }
    auto schedule = ScheduleOp::create(b, func.getLoc(), "main",
                                       /*makespan_us=*/nullptr);
    Block *body = new Block();
    schedule.getBody().push_back(body);
    b.setInsertionPointToEnd(body);

    device = FlatSymbolRefAttr::get(ctx, cpu.name);
    arena = FlatSymbolRefAttr::get(ctx, cpu.name + "_mem");
    scheduleBody = body;
    eventType = b.getType<EventType>();

    // Graph inputs, in ONNX order: the function's arguments interleaved with
    // the inputs folded at import.
    SmallVector<DictionaryAttr> folded;
    if (auto list = module->getAttrOfType<ArrayAttr>("loom.folded_inputs"))
      for (Attribute a : list)
        if (auto d = dyn_cast<DictionaryAttr>(a))
          folded.push_back(d);
    unsigned nextArg = 0, nextFolded = 0;
    unsigned numInputs = func.getNumArguments() + folded.size();
    for (unsigned pos = 0; pos < numInputs; ++pos) {
      if (nextFolded < folded.size()) {
        DictionaryAttr f = folded[nextFolded];
        auto index = f.getAs<IntegerAttr>("index");
        auto name = f.getAs<StringAttr>("name");
        auto value = f.getAs<ElementsAttr>("value");
        if (!index || !name || !value)
          return module.emitError("malformed loom.folded_inputs entry ") << f;
        if (index.getInt() == int64_t(pos) || nextArg >= func.getNumArguments()) {
          auto type = cast<RankedTensorType>(value.getType());
          Value w = WeightOp::create(b, func.getLoc(), bufferType(type), value,
                                     name, /*offset=*/nullptr);
          InputOp::create(b, func.getLoc(), name, w, /*folded=*/true);
          ++nextFolded;
          continue;
        }
      }
      BlockArgument arg = func.getArgument(nextArg);
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      auto name = func.getArgAttrOfType<StringAttr>(nextArg, "loom.name");
      if (!name)
        name = b.getStringAttr("input" + std::to_string(nextArg));
      if (!type || !type.hasStaticShape())
        return func.emitError("input '")
               << name.getValue() << "' has type " << arg.getType()
               << "; plans need static shapes (bind them with --input-shape "
                  "or --dim)";
      Value buf = AllocOp::create(b, func.getLoc(), bufferType(type), arena,
                                  name, /*offset=*/nullptr);
      InputOp::create(b, func.getLoc(), name, buf, /*folded=*/false);
      buffers[arg] = buf;
      ++nextArg;
    }

    // One task per op, in program order.
    func::ReturnOp ret;
    int64_t index = 0;
    for (Operation &op : func.getBody().front()) {
      ++index;
      if (auto r = dyn_cast<func::ReturnOp>(op)) {
        ret = r;
        continue;
      }
      if (failed(convertOp(op, index, b, b, /*inBody=*/false)))
        return failure();
    }
    if (!ret)
      return func.emitError("@main has no return");

    // Graph outputs: each gets its own task-written buffer.
    DenseSet<Value> claimed;
    for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
      auto name = func.getResultAttrOfType<StringAttr>(i, "loom.name");
      if (!name)
        name = b.getStringAttr("output" + std::to_string(i));
      Value buf = buffers.lookup(value);
      if (!buf || !isa<MemRefType>(buf.getType()))
        return ret.emitError("output '") << name.getValue()
                                         << "' has no buffer";
      bool own = producer.count(buf) && !claimed.count(buf);
      if (!own) {
        // An input, a constant or an output already claimed: copy.
        Value copy = AllocOp::create(b, ret.getLoc(), buf.getType(), arena,
                                     name, nullptr);
        SmallVector<Value> deps;
        if (Value e = producer.lookup(buf))
          deps.push_back(e);
        std::string taskName = ("copy of output " + name.getValue()).str();
        auto task = TaskOp::create(
            b, ret.getLoc(), eventType, b.getStringAttr("identity"), device,
            b.getI64IntegerAttr(0), ValueRange{buf}, ValueRange{copy}, deps,
            b.getStringAttr(taskName), b.getDictionaryAttr({}),
            b.getStrArrayAttr({taskName}), nullptr, nullptr, nullptr,
            /*bodiesCount=*/0);
        producer[copy] = task.getDone();
        ++numTasks;
        buf = copy;
      } else {
        buf.getDefiningOp<AllocOp>().setNameAttr(name);
      }
      claimed.insert(buf);
      OutputOp::create(b, ret.getLoc(), name, buf);
    }
    func.erase();
    return success();
  }
};

} // namespace
