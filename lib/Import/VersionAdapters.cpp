//===- VersionAdapters.cpp - ONNX op versions 6-21 to the opset-17 form ---===//
//
// The loom dialect keeps one form per operator: its form at opset 17. A
// model of any other opset is rewritten node by node into that form here,
// from one table of every (op, version) Loom reads (adapters() below), instead
// of ONNX's version converter, which aborts on graphs whose shapes are not
// known yet and trusts its input. An op version is found with ONNX's schema
// registry for opsets up to 17; versions 18 to 21, which ONNX 1.12's
// registry does not know, are the table's entries past 17, taken from the
// ONNX operator changelog.
//
// An adapter either leaves the node as it is (`compatible`: the newer
// version only adds types, or attributes whose defaults keep the old
// meaning), or rewrites it: attributes that became inputs become Constant
// nodes, the coerce-to-2D Softmax of opset < 13 becomes Flatten + Softmax +
// Reshape, Upsample becomes Resize, and so on. New nodes are inserted next
// to the node they serve, so the graph stays topologically sorted.
//
//===----------------------------------------------------------------------===//
#include "ImportSupport.h"

#include "onnx/defs/schema.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <unordered_set>

namespace loom::import {
namespace {

constexpr int kTargetOpset = 17;
constexpr int kNewestOpset = 21;

//===----------------------------------------------------------------------===//
// Attribute and node helpers
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *findAttr(const onnx::NodeProto &n, const std::string &name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

void eraseAttr(onnx::NodeProto &n, const std::string &name) {
  auto *attrs = n.mutable_attribute();
  for (int i = 0; i < attrs->size(); ++i)
    if (attrs->Get(i).name() == name) {
      attrs->DeleteSubrange(i, 1);
      return;
    }
}

int64_t intAttr(const onnx::NodeProto &n, const std::string &name, int64_t dflt) {
  const auto *a = findAttr(n, name);
  return a ? a->i() : dflt;
}

std::string strAttr(const onnx::NodeProto &n, const std::string &name,
                    const std::string &dflt) {
  const auto *a = findAttr(n, name);
  return a ? a->s() : dflt;
}

void setStrAttr(onnx::NodeProto &n, const std::string &name, const std::string &v) {
  eraseAttr(n, name);
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

void setIntAttr(onnx::NodeProto &n, const std::string &name, int64_t v) {
  eraseAttr(n, name);
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void setIntsAttr(onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &v) {
  eraseAttr(n, name);
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v)
    a->add_ints(x);
}

/// Sets input `index`, filling skipped optional inputs with "".
void setInput(onnx::NodeProto &n, int index, const std::string &name) {
  while (n.input_size() <= index)
    n.add_input("");
  n.set_input(index, name);
}

//===----------------------------------------------------------------------===//
// The rewriting context of one node
//===----------------------------------------------------------------------===//

/// Names and constants shared by every graph of one model.
struct ModelNames {
  std::unordered_set<std::string> taken;
  /// Every name some node (of any graph) reads, or a graph outputs.
  std::unordered_set<std::string> read;
  int64_t counter = 0;
  /// Whether an adapter wrote a node of kLoomImportDomain.
  bool usesLoomImport = false;

  std::string fresh(const std::string &hint) {
    std::string name;
    do
      name = hint + "__loom_adapted_" + std::to_string(counter++);
    while (taken.count(name));
    taken.insert(name);
    return name;
  }

  void collect(const onnx::GraphProto &g) {
    for (const auto &i : g.input())
      taken.insert(i.name());
    for (const auto &t : g.initializer())
      taken.insert(t.name());
    for (const auto &o : g.output())
      read.insert(o.name());
    for (const auto &n : g.node()) {
      for (const auto &o : n.output())
        taken.insert(o);
      for (const auto &i : n.input())
        read.insert(i);
      for (const auto &a : n.attribute()) {
        if (a.has_g())
          collect(a.g());
        for (const auto &sg : a.graphs())
          collect(sg);
      }
    }
  }
};

/// What an adapter sees: the node (rewritten in place), the nodes to insert
/// before and after it, the graph it is in and the model's names.
struct Rewrite {
  onnx::NodeProto &node;
  std::string where; // "node 'x' (Op) at version 11"
  onnx::GraphProto &graph;
  ModelNames &names;
  std::vector<onnx::NodeProto> before, after;

  [[noreturn]] void unsupported(const std::string &why) const {
    fail(where + ": " + why);
  }

  onnx::NodeProto &emit(std::vector<onnx::NodeProto> &into, const std::string &op,
                        std::vector<std::string> inputs, const std::string &outHint) {
    onnx::NodeProto &n = into.emplace_back();
    n.set_op_type(op);
    if (!node.name().empty())
      n.set_name(node.name() + "/" + op);
    for (const std::string &i : inputs)
      n.add_input(i);
    n.add_output(names.fresh(outHint));
    return n;
  }
  std::string emitBefore(const std::string &op, std::vector<std::string> inputs,
                         const std::string &hint) {
    return emit(before, op, std::move(inputs), hint).output(0);
  }

  /// A Constant node before this one holding an int64 vector.
  std::string constInts(const std::vector<int64_t> &v, const std::string &hint) {
    onnx::NodeProto &n = emit(before, "Constant", {}, hint);
    auto *a = n.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto *t = a->mutable_t();
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(v.size()));
    for (int64_t x : v)
      t->add_int64_data(x);
    return n.output(0);
  }
  /// A Constant f32 vector.
  std::string constFloats(const std::vector<float> &v, const std::string &hint) {
    onnx::NodeProto &n = emit(before, "Constant", {}, hint);
    auto *a = n.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto *t = a->mutable_t();
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(int64_t(v.size()));
    for (float x : v)
      t->add_float_data(x);
    return n.output(0);
  }
  /// A scalar of `like`'s element type holding `value` (CastLike of an f32
  /// Constant), for attributes that became inputs of the data's type.
  std::string scalarLike(float value, const std::string &like, const std::string &hint) {
    onnx::NodeProto &c = emit(before, "Constant", {}, hint);
    auto *a = c.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    a->mutable_t()->add_float_data(value);
    return emitBefore("CastLike", {c.output(0), like}, hint);
  }

  /// The int64 values of `name` when a Constant node or an initializer of
  /// this graph defines it.
  bool constantInts(const std::string &name, std::vector<int64_t> &out) const {
    auto read = [&](const onnx::TensorProto &t) {
      if (t.data_type() != onnx::TensorProto::INT64)
        return false;
      out.clear();
      if (t.has_raw_data()) {
        const std::string &raw = t.raw_data();
        if (raw.size() % 8)
          return false;
        out.resize(raw.size() / 8);
        std::memcpy(out.data(), raw.data(), raw.size());
      } else {
        out.assign(t.int64_data().begin(), t.int64_data().end());
      }
      return true;
    };
    for (const auto &t : graph.initializer())
      if (t.name() == name)
        return read(t);
    for (const auto &n : graph.node())
      if (n.op_type() == "Constant" && n.output_size() == 1 && n.output(0) == name) {
        const auto *v = findAttr(n, "value");
        if (v && v->has_t())
          return read(v->t());
        if (const auto *vs = findAttr(n, "value_ints")) {
          out.assign(vs->ints().begin(), vs->ints().end());
          return true;
        }
      }
    return false;
  }

  /// The rank of `name` when the graph declares its shape.
  int rankOf(const std::string &name) const {
    auto rank = [](const onnx::ValueInfoProto &v) {
      return v.type().tensor_type().has_shape() ? v.type().tensor_type().shape().dim_size() : -1;
    };
    for (const auto &v : graph.input())
      if (v.name() == name)
        return rank(v);
    for (const auto &v : graph.value_info())
      if (v.name() == name)
        return rank(v);
    for (const auto &t : graph.initializer())
      if (t.name() == name)
        return t.dims_size();
    return -1;
  }
};

using Adapter = std::function<void(Rewrite &)>;

//===----------------------------------------------------------------------===//
// The adapters
//===----------------------------------------------------------------------===//

/// Softmax, LogSoftmax, Hardmax before 13: the input is flattened to 2-D at
/// `axis` (default 1) and the op runs over the second dimension.
void coerceTo2D(Rewrite &r) {
  const int64_t axis = intAttr(r.node, "axis", 1);
  if (axis == -1)
    return; // the same as the opset-13 op on the last axis
  const std::string x = r.node.input(0), y = r.node.output(0);
  const std::string shape = r.emitBefore("Shape", {x}, x + "_shape");
  onnx::NodeProto &flat = r.emit(r.before, "Flatten", {x}, x + "_2d");
  setIntAttr(flat, "axis", axis);
  const std::string result = r.names.fresh(y + "_2d");
  r.node.set_input(0, flat.output(0));
  r.node.set_output(0, result);
  setIntAttr(r.node, "axis", 1);
  onnx::NodeProto &back = r.after.emplace_back();
  back.set_op_type("Reshape");
  if (!r.node.name().empty())
    back.set_name(r.node.name() + "/Reshape");
  back.add_input(result);
  back.add_input(shape);
  back.add_output(y);
}

/// An `attr` attribute (INTS) that became input `index`.
Adapter intsAttrToInput(std::string attr, int index) {
  return [attr, index](Rewrite &r) {
    const auto *a = findAttr(r.node, attr);
    if (!a)
      return;
    std::vector<int64_t> v(a->ints().begin(), a->ints().end());
    setInput(r.node, index, r.constInts(v, r.node.output(0) + "_" + attr));
    eraseAttr(r.node, attr);
  };
}

/// Slice-1: starts, ends and axes attributes as inputs 1-3.
void sliceAttrsToInputs(Rewrite &r) {
  intsAttrToInput("starts", 1)(r);
  intsAttrToInput("ends", 2)(r);
  intsAttrToInput("axes", 3)(r);
}

/// TopK-1: k as input 1.
void topkAttrToInput(Rewrite &r) {
  const auto *k = findAttr(r.node, "k");
  if (!k)
    r.unsupported("TopK needs its 'k' attribute");
  setInput(r.node, 1, r.constInts({k->i()}, r.node.output(0) + "_k"));
  eraseAttr(r.node, "k");
}

/// Pad-2: pads and value attributes as inputs.
void padAttrsToInputs(Rewrite &r) {
  const auto *pads = findAttr(r.node, "pads");
  if (!pads)
    r.unsupported("Pad needs its 'pads' attribute");
  std::vector<int64_t> p(pads->ints().begin(), pads->ints().end());
  setInput(r.node, 1, r.constInts(p, r.node.output(0) + "_pads"));
  const auto *value = findAttr(r.node, "value");
  if (value && value->f() != 0.0f)
    setInput(r.node, 2, r.scalarLike(value->f(), r.node.input(0), r.node.output(0) + "_value"));
  eraseAttr(r.node, "pads");
  eraseAttr(r.node, "value");
}

/// Clip-6: min and max attributes as inputs of the data's type.
void clipAttrsToInputs(Rewrite &r) {
  const auto *lo = findAttr(r.node, "min");
  const auto *hi = findAttr(r.node, "max");
  if (lo)
    setInput(r.node, 1, r.scalarLike(lo->f(), r.node.input(0), r.node.output(0) + "_min"));
  if (hi)
    setInput(r.node, 2, r.scalarLike(hi->f(), r.node.input(0), r.node.output(0) + "_max"));
  eraseAttr(r.node, "min");
  eraseAttr(r.node, "max");
}

/// Outputs past the first that no node reads and no graph outputs are
/// dropped (training statistics); a used one is an error.
void dropUnusedExtraOutputs(Rewrite &r, const char *what) {
  for (int i = 1; i < r.node.output_size(); ++i)
    if (!r.node.output(i).empty() && r.names.read.count(r.node.output(i)))
      r.unsupported(std::string("output '") + r.node.output(i) + "' (" + what +
                    ") is used; Loom runs inference only");
  while (r.node.output_size() > 1)
    r.node.mutable_output()->RemoveLast();
}

/// Dropout before 12: inference is the identity; ratio and is_test go.
void dropoutInference(Rewrite &r) {
  eraseAttr(r.node, "ratio");
  eraseAttr(r.node, "is_test");
}

/// BatchNormalization before 15: spatial = 1 only, inference only.
void batchNormInference(Rewrite &r) {
  if (intAttr(r.node, "spatial", 1) != 1)
    r.unsupported("spatial = 0 (per-element statistics) is not supported");
  if (intAttr(r.node, "training_mode", 0) != 0)
    r.unsupported("training_mode = 1 is not supported; Loom runs inference only");
  eraseAttr(r.node, "spatial");
  eraseAttr(r.node, "is_test");
  eraseAttr(r.node, "training_mode");
  dropUnusedExtraOutputs(r, "a training statistic");
}

/// Resize-10 and Upsample: the asymmetric coordinate transform and, for
/// nearest, rounding down (ONNX's own Resize 10 -> 11 adapter).
void setLegacyResizeModes(onnx::NodeProto &n) {
  std::string mode = strAttr(n, "mode", "nearest");
  if (mode == "bilinear")
    mode = "linear";
  setStrAttr(n, "mode", mode);
  setStrAttr(n, "coordinate_transformation_mode", "asymmetric");
  if (mode == "nearest")
    setStrAttr(n, "nearest_mode", "floor");
}

void resize10(Rewrite &r) {
  if (r.node.input_size() < 2)
    r.unsupported("Resize-10 needs its scales input");
  const std::string scales = r.node.input(1);
  r.node.set_input(1, "");
  setInput(r.node, 2, scales);
  setLegacyResizeModes(r.node);
}

void upsampleToResize(Rewrite &r) {
  std::string scales;
  if (const auto *a = findAttr(r.node, "scales")) {
    scales = r.constFloats(std::vector<float>(a->floats().begin(), a->floats().end()),
                           r.node.output(0) + "_scales");
    eraseAttr(r.node, "scales");
  } else if (r.node.input_size() >= 2) {
    scales = r.node.input(1);
  } else {
    r.unsupported("Upsample needs scales");
  }
  eraseAttr(r.node, "height_scale");
  eraseAttr(r.node, "width_scale");
  r.node.set_op_type("Resize");
  const std::string x = r.node.input(0);
  r.node.clear_input();
  r.node.add_input(x);
  r.node.add_input("");
  r.node.add_input(scales);
  setLegacyResizeModes(r.node);
}

void scatterToElements(Rewrite &r) { r.node.set_op_type("ScatterElements"); }

void roiAlign10(Rewrite &r) {
  if (!findAttr(r.node, "coordinate_transformation_mode"))
    setStrAttr(r.node, "coordinate_transformation_mode", "output_half_pixel");
}

/// Binary ops before 7: `broadcast` = 1 with an `axis` aligns B's dimensions
/// with A's from that axis on; opset 7 aligns them from the right, so B gets
/// trailing unit dimensions (which needs both ranks declared).
void legacyBroadcast(Rewrite &r) {
  if (intAttr(r.node, "broadcast", 0) == 1 && findAttr(r.node, "axis") &&
      r.node.input_size() == 2) {
    const int rankA = r.rankOf(r.node.input(0)), rankB = r.rankOf(r.node.input(1));
    if (rankA < 0 || rankB < 0)
      r.unsupported("legacy broadcasting with an 'axis' attribute needs the ranks of both "
                    "inputs declared");
    int64_t axis = intAttr(r.node, "axis", 0);
    if (axis < 0)
      axis += rankA;
    const int64_t trailing = rankA - axis - rankB;
    if (axis < 0 || trailing < 0)
      r.unsupported("broadcast axis " + std::to_string(axis) + " does not fit ranks " +
                    std::to_string(rankA) + " and " + std::to_string(rankB));
    if (trailing > 0) {
      std::vector<int64_t> axes;
      for (int64_t k = 0; k < trailing; ++k)
        axes.push_back(rankB + k);
      const std::string b = r.node.input(1);
      r.node.set_input(1, r.emitBefore("Unsqueeze", {b, r.constInts(axes, b + "_axes")},
                                       b + "_aligned"));
    }
  }
  eraseAttr(r.node, "broadcast");
  eraseAttr(r.node, "axis");
  eraseAttr(r.node, "consumed_inputs");
}

void gemm6(Rewrite &r) { eraseAttr(r.node, "broadcast"); }

/// PRelu-6: a slope of C values applies per channel (axis 1), which opset 7's
/// unidirectional broadcast would align with the last axis.
void prelu6(Rewrite &r) {
  eraseAttr(r.node, "consumed_inputs");
  const std::string slope = r.node.input(1);
  const int slopeRank = r.rankOf(slope), xRank = r.rankOf(r.node.input(0));
  if (slopeRank != 1 || xRank <= 2)
    return;
  if (xRank < 0)
    r.unsupported("the rank of X is not declared, so the per-channel slope cannot be placed");
  std::vector<int64_t> shape(size_t(xRank - 1), 1);
  shape[0] = -1;
  const std::string s = r.constInts(shape, slope + "_shape");
  r.node.set_input(1, r.emitBefore("Reshape", {slope, s}, slope + "_per_channel"));
}

void scan8(Rewrite &r) {
  r.unsupported("Scan-8 (batch axis and sequence_lens) is not supported; export at opset 9 "
                "or newer");
}

//--- opsets 18 to 21 ---------------------------------------------------------

/// Reduce ops of opset 18 (ReduceMax/Min again at 20): axes as an input, as
/// ReduceSum has since 13; back to the attribute of opset 17.
void reduceAxesToAttr(Rewrite &r) {
  const bool noop = intAttr(r.node, "noop_with_empty_axes", 0) != 0;
  eraseAttr(r.node, "noop_with_empty_axes");
  std::vector<int64_t> axes;
  if (r.node.input_size() >= 2 && !r.node.input(1).empty()) {
    if (!r.constantInts(r.node.input(1), axes))
      r.unsupported("the axes input '" + r.node.input(1) + "' is not a constant");
    r.node.mutable_input()->RemoveLast();
  }
  if (axes.empty() && noop) {
    r.node.set_op_type("Identity");
    r.node.clear_attribute();
    return;
  }
  if (!axes.empty())
    setIntsAttr(r.node, "axes", axes);
}

/// Split-18: `num_outputs` equal chunks, the split of opset 13 without sizes.
void splitNumOutputs(Rewrite &r) {
  const auto *n = findAttr(r.node, "num_outputs");
  if (n && n->i() != r.node.output_size())
    r.unsupported("num_outputs = " + std::to_string(n->i()) + " but the node has " +
                  std::to_string(r.node.output_size()) + " outputs");
  eraseAttr(r.node, "num_outputs");
}

void pad18(Rewrite &r) {
  if (r.node.input_size() >= 4 && !r.node.input(3).empty())
    r.unsupported("the 'axes' input of Pad-18 is not supported");
  if (strAttr(r.node, "mode", "constant") == "wrap")
    r.unsupported("mode 'wrap' is not supported");
}

void resize18(Rewrite &r) {
  if (intAttr(r.node, "antialias", 0) != 0)
    r.unsupported("antialias = 1 is not supported");
  if (strAttr(r.node, "keep_aspect_ratio_policy", "stretch") != "stretch")
    r.unsupported("keep_aspect_ratio_policy other than 'stretch' is not supported");
  if (findAttr(r.node, "axes"))
    r.unsupported("the 'axes' attribute is not supported");
  if (strAttr(r.node, "coordinate_transformation_mode", "") == "half_pixel_symmetric")
    r.unsupported("coordinate_transformation_mode 'half_pixel_symmetric' is not supported");
  eraseAttr(r.node, "antialias");
  eraseAttr(r.node, "keep_aspect_ratio_policy");
}

void lpPool18(Rewrite &r) {
  if (intAttr(r.node, "ceil_mode", 0) != 0)
    r.unsupported("ceil_mode = 1 is not supported");
  eraseAttr(r.node, "ceil_mode");
}

void averagePool19(Rewrite &r) {
  if (const auto *d = findAttr(r.node, "dilations"))
    for (int64_t v : d->ints())
      if (v != 1)
        r.unsupported("dilations other than 1 are not supported");
  eraseAttr(r.node, "dilations");
}

void dropSaturate(Rewrite &r) { eraseAttr(r.node, "saturate"); }

void quantize19(Rewrite &r) {
  if (findAttr(r.node, "output_dtype"))
    r.unsupported("the 'output_dtype' attribute is not supported");
  if (intAttr(r.node, "block_size", 0) != 0)
    r.unsupported("blocked quantization (block_size) is not supported");
  eraseAttr(r.node, "saturate");
  eraseAttr(r.node, "block_size");
}

/// The int8 values of a 4-bit tensor (INT4 sign-extended, UINT4 as is),
/// from its raw_data or its int32_data (one packed byte per value), two
/// values per byte with the first in the low nibble. Sizes are checked by
/// validateModel.
std::string unpack4(const onnx::TensorProto &t) {
  int64_t count = 1;
  for (int64_t d : t.dims())
    count *= d;
  std::string out(size_t(count), '\0');
  for (int64_t i = 0; i < count; ++i) {
    const size_t byte = size_t(i / 2);
    const uint8_t packed = t.has_raw_data() ? uint8_t(t.raw_data()[byte])
                                            : uint8_t(t.int32_data(int(byte)) & 0xFF);
    int v = (packed >> (4 * (i % 2))) & 0xF;
    if (t.data_type() == kInt4)
      v = (v ^ 8) - 8;
    out[size_t(i)] = char(int8_t(v));
  }
  return out;
}

std::string dimsText(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// DequantizeLinear-21 with `block_size` (blocked quantization), or of
/// 4-bit codes: forms DequantizeLinear-13 cannot hold and ONNX 1.12 cannot
/// type (INT4 / UINT4). With constant codes, scales and zero points it
/// becomes kLoomImportDomain's BlockedDequantizeLinear(x, x_scale,
/// x_zero_point?) with attributes `blocks` (the block size along each axis
/// of x: x_scale has x's rank, ceil(dim / block) along each), `bits` and
/// `signed`; 4-bit codes are widened to INT8 / UINT8 in place (the same
/// values). The importer makes it a quantized constant where quant types
/// hold it (ContribOps.h). Anything else is an error naming the field.
void blockedDequantize(Rewrite &r, int64_t block) {
  onnx::NodeProto &n = r.node;
  auto init = [&](int i, const char *field) -> onnx::TensorProto * {
    if (i >= n.input_size() || n.input(i).empty())
      return nullptr;
    for (auto &t : *r.graph.mutable_initializer())
      if (t.name() == n.input(i))
        return &t;
    r.unsupported("input " + std::to_string(i) + " (" + field + ", '" + n.input(i) +
                  "') must be a constant (an initializer): Loom imports blocked and 4-bit "
                  "DequantizeLinear as a quantized weight");
  };
  onnx::TensorProto *x = init(0, "x"), *scale = init(1, "x_scale"),
                    *zp = init(2, "x_zero_point");
  if (!x || !scale)
    r.unsupported("inputs x and x_scale are required");
  const int dt = x->data_type();
  const bool fourBit = dt == kInt4 || dt == kUInt4;
  if (dt != onnx::TensorProto::INT8 && dt != onnx::TensorProto::UINT8 && !fourBit)
    r.unsupported("x ('" + x->name() + "') is " + dataTypeName(dt) +
                  "; Loom imports blocked and 4-bit DequantizeLinear of INT8, UINT8, INT4 "
                  "and UINT4 codes");
  if (scale->data_type() != onnx::TensorProto::FLOAT)
    r.unsupported("x_scale ('" + scale->name() + "') is " + dataTypeName(scale->data_type()) +
                  "; Loom imports blocked and 4-bit DequantizeLinear with FLOAT scales");
  if (zp && zp->data_type() != dt)
    r.unsupported("x_zero_point ('" + zp->name() + "') is " + dataTypeName(zp->data_type()) +
                  "; expected the type of x (" + dataTypeName(dt) + ")");
  const std::vector<int64_t> dims(x->dims().begin(), x->dims().end());
  const int rank = int(dims.size());
  const std::vector<int64_t> sGiven(scale->dims().begin(), scale->dims().end());
  int64_t sCount = 1;
  for (int64_t d : sGiven)
    sCount *= d;
  // One scale: per tensor, `axis` unused.
  const bool perTensor = block == 0 && sGiven.size() <= 1 && sCount == 1;
  int64_t axis = perTensor ? 0 : intAttr(n, "axis", 1);
  if (!perTensor && (axis < -rank || axis >= rank))
    r.unsupported("attribute 'axis' is " + std::to_string(axis) + ", outside [" +
                  std::to_string(-rank) + ", " + std::to_string(rank) + ") for x " +
                  dimsText(dims));
  if (axis < 0)
    axis += rank;
  if (block < 0)
    r.unsupported("attribute 'block_size' is " + std::to_string(block) + "; expected 0 or more");
  // Per axis of x: the block size, and the scale's extent.
  std::vector<int64_t> blocks(size_t(rank), 1), sDims(size_t(rank), 1);
  if (block > 0) {
    sDims = dims;
    sDims[size_t(axis)] = (dims[size_t(axis)] + block - 1) / block;
    blocks[size_t(axis)] = block;
    if (sGiven != sDims)
      r.unsupported("x_scale ('" + scale->name() + "') is " + dimsText(sGiven) + "; expected " +
                    dimsText(sDims) + " (x " + dimsText(dims) + " in blocks of " +
                    std::to_string(block) + " along axis " + std::to_string(axis) + ")");
  } else if (perTensor) {
    for (int d = 0; d < rank; ++d)
      blocks[size_t(d)] = std::max<int64_t>(dims[size_t(d)], 1); // per tensor
  } else if (sGiven.size() == 1 && rank > 0 && sGiven[0] == dims[size_t(axis)]) {
    for (int d = 0; d < rank; ++d)
      blocks[size_t(d)] = d == axis ? 1 : std::max<int64_t>(dims[size_t(d)], 1);
    sDims[size_t(axis)] = dims[size_t(axis)]; // per axis
  } else {
    r.unsupported("x_scale ('" + scale->name() + "') is " + dimsText(sGiven) +
                  "; expected one value or " + std::to_string(rank ? dims[size_t(axis)] : 1) +
                  " (axis " + std::to_string(axis) + " of x " + dimsText(dims) + ")");
  }
  if (zp) {
    const std::vector<int64_t> zGiven(zp->dims().begin(), zp->dims().end());
    if (zGiven != sGiven)
      r.unsupported("x_zero_point ('" + zp->name() + "') is " + dimsText(zGiven) +
                    "; expected the shape of x_scale " + dimsText(sGiven));
  }
  // 4-bit codes widened in place: every reader of them must be a
  // DequantizeLinear (which this adapter turns into the same form).
  auto widen = [&](onnx::TensorProto &t) {
    if (t.data_type() != kInt4 && t.data_type() != kUInt4)
      return;
    for (const auto &other : r.graph.node())
      for (const auto &in : other.input())
        if (in == t.name() && other.op_type() != "DequantizeLinear" &&
            other.op_type() != "BlockedDequantizeLinear")
          r.unsupported("the " + dataTypeName(t.data_type()) + " tensor '" + t.name() +
                        "' is also read by node '" + other.name() + "' (" + other.op_type() +
                        "); Loom reads 4-bit tensors only as the codes of a DequantizeLinear");
    std::string values = unpack4(t);
    t.set_data_type(t.data_type() == kInt4 ? onnx::TensorProto::INT8
                                           : onnx::TensorProto::UINT8);
    t.clear_int32_data();
    t.set_raw_data(values);
  };
  widen(*x);
  if (zp)
    widen(*zp);
  // The scale (and zero point) reshaped to x's rank, as new constants (the
  // given ones may serve other nodes).
  auto reshaped = [&](const onnx::TensorProto &t, const char *hint) {
    onnx::TensorProto *c = r.graph.add_initializer();
    *c = t;
    c->set_name(r.names.fresh(n.output(0) + hint));
    c->clear_dims();
    for (int64_t d : sDims)
      c->add_dims(d);
    widen(*c);
    return c->name();
  };
  const std::string sName = reshaped(*scale, "_scale");
  const std::string zName = zp ? reshaped(*zp, "_zero_point") : std::string();
  n.clear_input();
  n.add_input(x->name());
  n.add_input(sName);
  if (!zName.empty())
    n.add_input(zName);
  n.set_op_type("BlockedDequantizeLinear");
  n.set_domain(kLoomImportDomain);
  eraseAttr(n, "axis");
  eraseAttr(n, "block_size");
  setIntsAttr(n, "blocks", blocks);
  setIntAttr(n, "bits", fourBit ? 4 : 8);
  setIntAttr(n, "signed", dt == onnx::TensorProto::INT8 || dt == kInt4 ? 1 : 0);
  r.names.usesLoomImport = true;
}

void dequantize21(Rewrite &r) {
  const int64_t block = intAttr(r.node, "block_size", 0);
  bool fourBit = false;
  for (const auto &t : r.graph.initializer())
    if (t.name() == r.node.input(0))
      fourBit = t.data_type() == kInt4 || t.data_type() == kUInt4;
  if (block != 0 || fourBit)
    return blockedDequantize(r, block);
  eraseAttr(r.node, "block_size");
}

void gridSample20(Rewrite &r) {
  const std::string mode = strAttr(r.node, "mode", "linear");
  setStrAttr(r.node, "mode", mode == "linear" ? "bilinear" : mode == "cubic" ? "bicubic" : mode);
}

/// Gelu-20 as its definition; Loom's fusion recomposes it into one kernel.
void geluDecompose(Rewrite &r) {
  const std::string x = r.node.input(0), y = r.node.output(0);
  const std::string approx = strAttr(r.node, "approximate", "none");
  auto c = [&](float v, const char *hint) { return r.scalarLike(v, x, y + hint); };
  std::string inner;
  if (approx == "tanh") {
    const std::string x3 = r.emitBefore("Mul", {x, r.emitBefore("Mul", {x, x}, y + "_x2")}, y + "_x3");
    const std::string sum =
        r.emitBefore("Add", {x, r.emitBefore("Mul", {x3, c(0.044715f, "_k")}, y + "_kx3")}, y + "_s");
    inner = r.emitBefore(
        "Tanh", {r.emitBefore("Mul", {sum, c(float(std::sqrt(2.0 / M_PI)), "_c")}, y + "_t")},
        y + "_tanh");
  } else if (approx == "none") {
    inner = r.emitBefore(
        "Erf", {r.emitBefore("Div", {x, c(float(std::sqrt(2.0)), "_sqrt2")}, y + "_d")},
        y + "_erf");
  } else {
    r.unsupported("approximate = '" + approx + "' is not 'none' or 'tanh'");
  }
  const std::string onePlus = r.emitBefore("Add", {inner, c(1.0f, "_one")}, y + "_1p");
  const std::string half = r.emitBefore("Mul", {x, c(0.5f, "_half")}, y + "_hx");
  r.node.set_op_type("Mul");
  r.node.clear_attribute();
  r.node.clear_input();
  r.node.add_input(half);
  r.node.add_input(onePlus);
}

/// Mish-18: x * tanh(softplus(x)).
void mishDecompose(Rewrite &r) {
  const std::string x = r.node.input(0), y = r.node.output(0);
  const std::string t =
      r.emitBefore("Tanh", {r.emitBefore("Softplus", {x}, y + "_sp")}, y + "_tanh");
  r.node.set_op_type("Mul");
  r.node.clear_input();
  r.node.add_input(x);
  r.node.add_input(t);
}

void dft20(Rewrite &r) {
  r.unsupported("DFT-20 (dft_length and axis as inputs) is not supported");
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

/// (op, version) -> adapter; an empty adapter means compatible.
const std::map<std::pair<std::string, int>, Adapter> &adapters() {
  static const std::map<std::pair<std::string, int>, Adapter> table = [] {
    std::map<std::pair<std::string, int>, Adapter> t;
    auto compatible = [&](const std::string &op, std::initializer_list<int> versions) {
      for (int v : versions)
        t[{op, v}] = nullptr;
    };
    auto with = [&](const std::string &op, std::initializer_list<int> versions, Adapter a) {
      for (int v : versions)
        t[{op, v}] = a;
    };
    // Older versions that only lack types, or attributes whose defaults
    // keep the old meaning.
    compatible("Abs", {6});
    compatible("Add", {7, 13});
    compatible("And", {7});
    compatible("ArgMax", {1, 11, 12});
    compatible("ArgMin", {1, 11, 12});
    compatible("AveragePool", {1, 7, 10});
    compatible("Cast", {6, 9});
    compatible("Ceil", {6});
    compatible("Clip", {11, 12});
    compatible("Compress", {9});
    compatible("Concat", {4, 11});
    compatible("Constant", {1, 9, 11, 12});
    compatible("Conv", {1});
    compatible("ConvTranspose", {1});
    compatible("CumSum", {11});
    compatible("DepthToSpace", {1, 11});
    compatible("DequantizeLinear", {10});
    compatible("Div", {7, 13});
    compatible("Dropout", {12});
    compatible("Equal", {7, 11});
    compatible("Erf", {9});
    compatible("Exp", {6});
    compatible("Expand", {8});
    compatible("Flatten", {1, 9, 11});
    compatible("Floor", {6});
    compatible("GRU", {7});
    compatible("Gather", {1, 11});
    compatible("GatherElements", {11});
    compatible("GatherND", {11, 12});
    compatible("Gemm", {7, 9, 11});
    compatible("Greater", {7, 9});
    compatible("GreaterOrEqual", {12});
    compatible("Identity", {1, 13, 14});
    compatible("If", {1, 11, 13});
    compatible("IsNaN", {9});
    compatible("LRN", {1});
    compatible("LSTM", {7});
    compatible("LeakyRelu", {6});
    compatible("Less", {7, 9});
    compatible("LessOrEqual", {12});
    compatible("Log", {6});
    compatible("Loop", {1, 11, 13});
    compatible("LpPool", {2});
    compatible("MatMul", {1, 9});
    compatible("Max", {6, 8, 12});
    compatible("MaxPool", {1, 8, 10, 11});
    compatible("MaxUnpool", {9});
    compatible("Mean", {6, 8});
    compatible("MeanVarianceNormalization", {9});
    compatible("Min", {6, 8, 12});
    compatible("Mod", {10});
    compatible("Mul", {7, 13});
    compatible("Neg", {6});
    compatible("NegativeLogLikelihoodLoss", {12});
    compatible("NonMaxSuppression", {10});
    compatible("NonZero", {9});
    compatible("OneHot", {9});
    compatible("Or", {7});
    compatible("PRelu", {7, 9});
    compatible("Pad", {11});
    compatible("Pow", {7, 12, 13});
    compatible("QuantizeLinear", {10});
    compatible("RNN", {7});
    compatible("Reciprocal", {6});
    for (const char *op : {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                           "ReduceMean", "ReduceProd", "ReduceSumSquare"})
      compatible(op, {1, 11});
    compatible("ReduceMax", {1, 11, 12});
    compatible("ReduceMin", {1, 11, 12});
    compatible("Relu", {6, 13});
    compatible("Reshape", {5, 13});
    compatible("Resize", {11});
    compatible("Scan", {9, 11});
    compatible("ScatterElements", {11, 13});
    compatible("ScatterND", {11, 13});
    compatible("Shape", {1, 13});
    compatible("Sigmoid", {6});
    compatible("Sign", {9});
    compatible("Size", {1});
    compatible("Slice", {10, 11});
    compatible("SoftmaxCrossEntropyLoss", {12});
    compatible("SpaceToDepth", {1});
    compatible("Sqrt", {6});
    compatible("Sub", {7, 13});
    compatible("Sum", {6, 8});
    compatible("Tanh", {6});
    compatible("Tile", {6});
    compatible("TopK", {10});
    compatible("Transpose", {1});
    compatible("Where", {9});
    compatible("Xor", {7});

    // Forms that changed up to opset 17.
    with("Softmax", {1, 11}, coerceTo2D);
    with("LogSoftmax", {1, 11}, coerceTo2D);
    with("Hardmax", {1, 11}, coerceTo2D);
    with("Squeeze", {1, 11}, intsAttrToInput("axes", 1));
    with("Unsqueeze", {1, 11}, intsAttrToInput("axes", 1));
    with("ReduceSum", {1, 11}, intsAttrToInput("axes", 1));
    with("Split", {2, 11}, intsAttrToInput("split", 1));
    with("Slice", {1}, sliceAttrsToInputs);
    with("TopK", {1}, topkAttrToInput);
    with("Pad", {2}, padAttrsToInputs);
    with("Clip", {6}, clipAttrsToInputs);
    with("Dropout", {6, 7, 10}, dropoutInference);
    with("BatchNormalization", {6, 7, 9, 14}, batchNormInference);
    with("Resize", {10}, resize10);
    with("Upsample", {7, 9}, upsampleToResize);
    with("Scatter", {9, 11}, scatterToElements);
    with("RoiAlign", {10}, roiAlign10);
    with("Scan", {8}, scan8);
    // Opset 6 and older forms that map cleanly.
    for (const char *op : {"Add", "Sub", "Mul", "Div"})
      with(op, {6}, legacyBroadcast);
    for (const char *op : {"And", "Or", "Xor", "Equal", "Greater", "Less", "Pow"})
      with(op, {1}, legacyBroadcast);
    with("Gemm", {6}, gemm6);
    with("PRelu", {6}, prelu6);

    // Opsets 18 to 21 (the versions newerVersions() lists), back to the
    // opset-17 form.
    for (const char *op : {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                           "ReduceMean", "ReduceProd", "ReduceSumSquare"})
      with(op, {18}, reduceAxesToAttr);
    with("ReduceMax", {18, 20}, reduceAxesToAttr);
    with("ReduceMin", {18, 20}, reduceAxesToAttr);
    with("Split", {18}, splitNumOutputs);
    with("Pad", {18, 19, 21}, pad18);
    with("Resize", {18, 19}, resize18);
    with("LpPool", {18}, lpPool18);
    compatible("ScatterElements", {18});
    compatible("ScatterND", {18});
    with("AveragePool", {19}, averagePool19);
    with("Cast", {19, 21}, dropSaturate);
    with("CastLike", {19, 21}, dropSaturate);
    with("QuantizeLinear", {19, 21}, quantize19);
    compatible("DequantizeLinear", {19});
    with("DequantizeLinear", {21}, dequantize21);
    for (const char *op : {"Constant", "Identity", "If", "Loop", "Reshape", "Scan", "Shape",
                           "Size"})
      compatible(op, {19, 21});
    compatible("Equal", {19});
    compatible("ConstantOfShape", {20, 21});
    compatible("IsInf", {20});
    compatible("IsNaN", {20});
    for (const char *op : {"Flatten", "Squeeze", "Transpose", "Unsqueeze", "QLinearMatMul"})
      compatible(op, {21});
    with("GridSample", {20}, gridSample20);
    with("Gelu", {20}, geluDecompose);
    with("Mish", {18}, mishDecompose);
    with("DFT", {20}, dft20);
    return t;
  }();
  return table;
}

/// The op versions of opsets 18-21, which ONNX 1.12's schema registry does
/// not know: the entries of the table above past 17 (every such version has
/// one, from ONNX's operator changelog), in increasing order per op.
const std::map<std::string, std::vector<int>> &newerVersions() {
  static const std::map<std::string, std::vector<int>> v = [] {
    std::map<std::string, std::vector<int>> m;
    for (const auto &[key, adapter] : adapters())
      if (key.second > kTargetOpset)
        m[key.first].push_back(key.second); // the map is ordered by (op, version)
    return m;
  }();
  return v;
}

/// The version of `op` in effect at `opset`, or 0 when the op does not
/// exist there (left to the importer's op table to report).
int versionAt(const std::string &op, int opset) {
  if (opset > kTargetOpset) {
    auto it = newerVersions().find(op);
    if (it != newerVersions().end())
      for (auto v = it->second.rbegin(); v != it->second.rend(); ++v)
        if (*v <= opset)
          return *v;
  }
  const auto *schema =
      onnx::OpSchemaRegistry::Schema(op, std::min(opset, kTargetOpset), "");
  return schema ? schema->SinceVersion() : 0;
}

void adaptGraph(onnx::GraphProto &graph, int opset, ModelNames &names) {
  google::protobuf::RepeatedPtrField<onnx::NodeProto> out;
  for (int i = 0; i < graph.node_size(); ++i) {
    onnx::NodeProto &node = *graph.mutable_node(i);
    for (auto &a : *node.mutable_attribute()) {
      if (a.has_g())
        adaptGraph(*a.mutable_g(), opset, names);
      for (auto &sg : *a.mutable_graphs())
        adaptGraph(sg, opset, names);
    }
    const bool defaultDomain = isDefaultDomain(node.domain());
    const int version = defaultDomain ? versionAt(node.op_type(), opset) : 0;
    const int target = defaultDomain ? versionAt(node.op_type(), kTargetOpset) : 0;
    if (version == 0 || version == target) {
      *out.Add() = std::move(node);
      continue;
    }
    auto it = adapters().find({node.op_type(), version});
    const std::string where =
        describeNode(node, i) + " at version " + std::to_string(version) + " (opset " +
        std::to_string(opset) + ")";
    if (it == adapters().end())
      fail(where + ": Loom has no adapter from " + node.op_type() + "-" +
           std::to_string(version) + " to its opset-17 form");
    Rewrite r{node, where, graph, names, {}, {}};
    if (it->second)
      it->second(r);
    for (auto &n : r.before)
      *out.Add() = std::move(n);
    *out.Add() = std::move(node);
    for (auto &n : r.after)
      *out.Add() = std::move(n);
  }
  graph.mutable_node()->Swap(&out);
}

} // namespace

void adaptToOpset17(onnx::ModelProto &model) {
  onnx::OperatorSetIdProto *defaultImport = nullptr;
  for (auto &o : *model.mutable_opset_import())
    if (isDefaultDomain(o.domain()))
      defaultImport = &o;
  if (!defaultImport)
    return;
  const int opset = int(defaultImport->version());
  if (opset == kTargetOpset)
    return;
  if (opset > kNewestOpset)
    fail("the model uses opset " + std::to_string(opset) + " of the default domain; Loom "
         "reads opsets up to " + std::to_string(kNewestOpset));
  if (opset < 1)
    fail("the model imports opset " + std::to_string(opset) + " of the default domain");
  ModelNames names;
  names.collect(model.graph());
  adaptGraph(*model.mutable_graph(), opset, names);
  defaultImport->set_version(kTargetOpset);
  if (names.usesLoomImport) {
    auto *o = model.add_opset_import();
    o->set_domain(kLoomImportDomain);
    o->set_version(1);
  }
}

} // namespace loom::import
