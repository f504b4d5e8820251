//===- SplitTasks.cpp - Splitting a heavy task into row ranges ------------===//
//
// A MatMul/Gemm/Conv task can run as two tasks on two devices (GPU + NPU
// co-execution) when each computes a contiguous range of rows of the output:
// the parts write `plan.view`s of the one output buffer, so no concat is
// needed, and read views of the inputs that follow the split rows.
//
// Rows are contiguous when every dimension before the split axis has size 1,
// so the split axis is the output's first dimension of size > 1:
//  - matmul / fused_matmul, Y [..., M, N]: a batch dimension or M (never N,
//    whose columns are strided). A and B are sliced along the matching
//    dimension (right-aligned, as MatMul broadcasts) where theirs has size >
//    1; B's own second-to-last dimension is K, so B is read whole when M is
//    split. `trans_a` = 1 (M along A's last dimension) is not split.
//  - gemm / fused_gemm, Y [M, N]: M, with A's rows when transA = 0; C is
//    sliced when it has M rows.
//  - conv / fused_conv, Y [N, C_out, ...]: the batch when N > 1 (X sliced),
//    else the output channels when group = 1 (W and B sliced).
//
// The choice of which tasks to split and where is the partitioner's
// (Partition.cpp); this file only knows how.
//
//===----------------------------------------------------------------------===//
#include "Plan/Transforms/Passes.h"

#include "loom/CostModel/CostModel.h"
#include "loom/Target/Target.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace loom::plan;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<MemRefType>(v.getType()).getShape();
}

bool isBuffer(Value v) { return isa<MemRefType>(v.getType()); }

/// -1 when `v` (of rank r, right-aligned against an output of rank `outRank`)
/// is read whole, else the dimension of `v` matching output axis `axis`.
int broadcastAxis(Value v, unsigned outRank, unsigned axis) {
  if (!isBuffer(v))
    return -1;
  ArrayRef<int64_t> s = shapeOf(v);
  int dim = int(axis) - int(outRank) + int(s.size());
  if (dim < 0 || s[dim] == 1)
    return -1;
  return dim;
}

int64_t intAttr(TaskOp task, StringRef name, int64_t dflt) {
  if (auto a = task.getKernelAttrs().getAs<IntegerAttr>(name))
    return a.getInt();
  return dflt;
}

/// Bytes of one row along `axis` of a buffer of type `type`.
int64_t rowBytes(MemRefType type, unsigned axis) {
  int64_t n = elementBytes(type.getElementType());
  for (int64_t d : type.getShape().drop_front(axis + 1))
    n *= d;
  return n;
}

/// The rows [begin, end) along `axis` of `buffer`, as a view created before
/// `before`.
Value sliceRows(OpBuilder &b, Location loc, Value buffer, unsigned axis,
                int64_t begin, int64_t end) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = end - begin;
  auto partType = MemRefType::get(shape, type.getElementType());
  // A view of a view is a view of its source.
  int64_t offset = offsetInRoot(buffer) + begin * rowBytes(type, axis);
  return ViewOp::create(b, loc, partType, rootBuffer(buffer),
                        b.getI64IntegerAttr(offset));
}

} // namespace

std::optional<SplitGeometry> loom::plan::splitGeometry(TaskOp task) {
  StringRef kernel = task.getKernel();
  if (task.getOutputs().empty() || !isBuffer(task.getOutputs()[0]) ||
      task.getOutputs().size() != 1)
    return std::nullopt;
  ArrayRef<int64_t> y = shapeOf(task.getOutputs()[0]);
  unsigned rank = unsigned(y.size());
  auto first = llvm::find_if(y, [](int64_t d) { return d > 1; });
  if (first == y.end())
    return std::nullopt;
  SplitGeometry g;
  g.outputAxis = unsigned(first - y.begin());
  g.extent = *first;
  ValueRange ins = task.getInputs();
  g.inputAxis.assign(ins.size(), -1);
  if (llvm::any_of(ins.take_front(2), [](Value v) { return !isBuffer(v); }))
    return std::nullopt;

  if (kernel == "matmul" || kernel == "fused_matmul") {
    if (ins.size() < 2 || rank < 2 || shapeOf(ins[0]).size() < 2 ||
        shapeOf(ins[1]).size() < 2 || g.outputAxis >= rank - 1)
      return std::nullopt;
    bool splitM = g.outputAxis == rank - 2;
    if (splitM && intAttr(task, "trans_a", 0) != 0)
      return std::nullopt;
    g.inputAxis[0] = broadcastAxis(ins[0], rank, g.outputAxis);
    g.inputAxis[1] = splitM ? -1 : broadcastAxis(ins[1], rank, g.outputAxis);
    if (ins.size() > 2)
      g.inputAxis[2] = broadcastAxis(ins[2], rank, g.outputAxis);
    return g;
  }
  if (kernel == "gemm" || kernel == "fused_gemm") {
    if (ins.size() < 2 || rank != 2 || g.outputAxis != 0 ||
        intAttr(task, "transA", 0) != 0)
      return std::nullopt;
    g.inputAxis[0] = 0;
    if (ins.size() > 2)
      g.inputAxis[2] = broadcastAxis(ins[2], rank, 0);
    return g;
  }
  if (kernel == "conv" || kernel == "fused_conv") {
    if (ins.size() < 2 || rank < 3)
      return std::nullopt;
    if (g.outputAxis == 0) {
      g.inputAxis[0] = 0; // the batch
      return g;
    }
    if (g.outputAxis != 1 || intAttr(task, "group", 1) != 1)
      return std::nullopt;
    g.inputAxis[1] = 0; // W's output channels
    if (ins.size() > 2 && isBuffer(ins[2]))
      g.inputAxis[2] = 0; // B
    return g;
  }
  return std::nullopt;
}

SmallVector<TaskOp> loom::plan::splitTask(TaskOp task,
                                          const SplitGeometry &geometry,
                                          ArrayRef<int64_t> bounds,
                                          const loom::target::TargetDesc &target) {
  OpBuilder b(task);
  Location loc = task.getLoc();
  size_t parts = bounds.size() - 1;
  loom::cost::KernelDesc whole;
  describeKernel(task, whole);
  DictionaryAttr wholeCosts = task.getCostUsAttr();

  SmallVector<TaskOp> result;
  for (size_t p = 0; p < parts; ++p) {
    int64_t begin = bounds[p], end = bounds[p + 1];
    SmallVector<Value> ins, outs;
    for (auto [i, in] : llvm::enumerate(task.getInputs()))
      ins.push_back(geometry.inputAxis[i] < 0
                        ? in
                        : sliceRows(b, loc, in, unsigned(geometry.inputAxis[i]),
                                    begin, end));
    outs.push_back(sliceRows(b, loc, task.getOutputs()[0], geometry.outputAxis,
                             begin, end));
    std::string name = (task.getName() + " [part " + Twine(p + 1) + "/" +
                        Twine(parts) + "]")
                           .str();
    auto part = TaskOp::create(
        b, loc, b.getType<EventType>(), task.getKernelAttr(),
        task.getDeviceAttr(), task.getQueueAttr(), ins, outs, task.getDeps(),
        b.getStringAttr(name), task.getKernelAttrs(), task.getOpsAttr(),
        nullptr, nullptr, nullptr, /*bodiesCount=*/0);
    if (Attribute r = task->getAttr("reduced_precision"))
      part->setAttr("reduced_precision", r);
    part->setAttr("split", b.getStringAttr(
                               ("rows " + Twine(begin) + ".." + Twine(end) +
                                " of " + Twine(geometry.extent) + " along axis " +
                                Twine(geometry.outputAxis))
                                   .str()));
    // Costs: the whole task's, scaled by the roofline ratio part / whole.
    if (wholeCosts) {
      loom::cost::KernelDesc k;
      describeKernel(part, k);
      SmallVector<NamedAttribute> costs;
      for (NamedAttribute c : wholeCosts) {
        auto f = dyn_cast<FloatAttr>(c.getValue());
        const loom::target::DeviceDesc *dev =
            target.findDevice(c.getName().str());
        std::optional<loom::cost::Roofline> rp, rw;
        if (dev) {
          std::optional<loom::target::DType> r =
              reducedPrecisionOn(task, c.getName());
          rp = loom::cost::estimateRoofline(k, *dev, r);
          rw = loom::cost::estimateRoofline(whole, *dev, r);
        }
        if (!f || !rp || !rw || rw->totalUs() <= 0) {
          costs.push_back(b.getNamedAttr(c.getName(), b.getUnitAttr()));
          continue;
        }
        costs.push_back(b.getNamedAttr(
            c.getName(), b.getF64FloatAttr(f.getValueAsDouble() *
                                           rp->totalUs() / rw->totalUs())));
      }
      part.setCostUsAttr(b.getDictionaryAttr(costs));
    }
    result.push_back(part);
  }
  // Waiters on the task wait on every part.
  Value done = task.getDone();
  for (OpOperand &use : llvm::make_early_inc_range(done.getUses())) {
    Operation *user = use.getOwner();
    use.set(result.front().getDone());
    auto append = [&](MutableOperandRange deps) {
      for (TaskOp part : ArrayRef<TaskOp>(result).drop_front())
        deps.append(part.getDone());
    };
    if (auto t = dyn_cast<TaskOp>(user))
      append(t.getDepsMutable());
    else if (auto t = dyn_cast<TransferOp>(user))
      append(t.getDepsMutable());
  }
  task.erase();
  return result;
}
