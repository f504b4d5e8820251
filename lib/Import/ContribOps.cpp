//===- ContribOps.cpp - The ONNX Runtime contrib ops Loom imports ---------===//
//
// MatMulNBits (ONNX Runtime's contrib op, what onnxruntime-genai's model
// builder writes for int4 LLMs): the schema ONNX's registry lacks, the checks
// of its attributes against its constant operands, and its lowering to a
// quantized constant (or, where quant types cannot hold the format, the
// dequantized f32 weight) feeding a loom.matmul. Also the lowering of ONNX's
// blocked / 4-bit DequantizeLinear-21 (which the version adapters rewrite
// into BlockedDequantizeLinear, registered here) to the same quantized
// constants. See ContribOps.h.
//
//===----------------------------------------------------------------------===//
#include "ContribOps.h"

#include "ImportSupport.h"

#include "Loom/LoomOps.h"
#include "Loom/LoomUtils.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"

#include <cstring>
#include <mutex>

using namespace mlir;

namespace loom::import {

namespace {

/// An INT attribute of `node`, or `fallback` when absent.
int64_t intAttr(const onnx::NodeProto &node, const char *name,
                std::optional<int64_t> fallback = std::nullopt) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return a.i();
  return fallback.value_or(-1);
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The parameters of a MatMulNBits node.
struct NBits {
  int64_t K, N, bits, blockSize, kBlocks, blob;
  explicit NBits(const onnx::NodeProto &node)
      : K(intAttr(node, "K")), N(intAttr(node, "N")),
        bits(intAttr(node, "bits", 4)), blockSize(intAttr(node, "block_size")),
        kBlocks(K > 0 && blockSize > 0 ? ceilDiv(K, blockSize) : 0),
        blob(blockSize > 0 ? blockSize * bits / 8 : 0) {}
};

/// `bits` bits at bit offset `bit` of the little-endian bit stream `data`.
uint32_t readBits(const uint8_t *data, int64_t bit, int64_t bits) {
  uint32_t v = 0;
  for (int64_t i = 0; i < bits; ++i, ++bit)
    v |= uint32_t((data[bit / 8] >> (bit % 8)) & 1) << i;
  return v;
}

void registerMatMulNBits() {
  onnx::OpSchema s;
  s.SetName("MatMulNBits")
      .SetDomain(kMicrosoftDomain)
      .SinceVersion(1)
      .SetDoc("ONNX Runtime's MatMulNBits: Y = A @ dequant(B)^T + bias")
      .Attr("K", "the reduction size", onnx::AttributeProto::INT)
      .Attr("N", "the output columns", onnx::AttributeProto::INT)
      .Attr("bits", "bits per weight", onnx::AttributeProto::INT, int64_t(4))
      .Attr("block_size", "weights per scale along K",
            onnx::AttributeProto::INT)
      .Attr("accuracy_level", "the minimum accuracy of A's arithmetic",
            onnx::AttributeProto::INT, int64_t(0))
      .Input(0, "A", "the activation [..., K]", "T1")
      .Input(1, "B", "the packed codes [N, k_blocks, blob_size]", "T2")
      .Input(2, "scales", "one per block [N * k_blocks]", "T1")
      .Input(3, "zero_points", "packed codes or values per block", "T3",
             onnx::OpSchema::Optional)
      .Input(4, "g_idx", "the block of each k", "T4", onnx::OpSchema::Optional)
      .Input(5, "bias", "[N]", "T1", onnx::OpSchema::Optional)
      .Output(0, "Y", "[..., N]", "T1")
      .TypeConstraint("T1", {"tensor(float)", "tensor(float16)"},
                      "activation and scales")
      .TypeConstraint("T2", {"tensor(uint8)", "tensor(int32)"}, "codes")
      .TypeConstraint("T3",
                      {"tensor(uint8)", "tensor(int32)", "tensor(float16)",
                       "tensor(float)"},
                      "zero points")
      .TypeConstraint("T4", {"tensor(int32)"}, "block indices")
      .TypeAndShapeInferenceFunction([](onnx::InferenceContext &ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        if (!onnx::hasInputShape(ctx, 0))
          return;
        const onnx::TensorShapeProto &a = onnx::getInputShape(ctx, 0);
        if (a.dim_size() < 1)
          fail_shape_inference("MatMulNBits: A must have rank 1 or more");
        const onnx::AttributeProto *n = ctx.getAttribute("N");
        if (!n)
          fail_shape_inference("MatMulNBits: attribute N is required");
        onnx::TensorShapeProto y;
        for (int i = 0; i + 1 < a.dim_size(); ++i)
          *y.add_dim() = a.dim(i);
        y.add_dim()->set_dim_value(n->i());
        onnx::updateOutputShape(ctx, 0, y);
      });
  onnx::OpSchemaRegistry::OpSchemaRegisterOnce once(s);
}

/// The form the version adapters give ONNX's blocked / 4-bit
/// DequantizeLinear-21 (VersionAdapters.cpp): ONNX 1.12's registry has no
/// DequantizeLinear with block_size, nor the 4-bit types.
void registerBlockedDequantize() {
  onnx::OpSchema s;
  s.SetName("BlockedDequantizeLinear")
      .SetDomain(kLoomImportDomain)
      .SinceVersion(1)
      .SetDoc("ONNX's DequantizeLinear-21 in blocks: y = (x - x_zero_point) * "
              "x_scale, the scale of each element's block")
      .Attr("blocks", "the block size along each axis of x",
            onnx::AttributeProto::INTS)
      .Attr("bits", "the bits of the codes (4 or 8)", onnx::AttributeProto::INT)
      .Attr("signed", "whether the codes are signed", onnx::AttributeProto::INT)
      .Input(0, "x", "the codes, widened to 8 bits", "T1")
      .Input(1, "x_scale", "one per block, x's rank", "T2")
      .Input(2, "x_zero_point", "one per block", "T1", onnx::OpSchema::Optional)
      .Output(0, "y", "x's shape", "T2")
      .TypeConstraint("T1", {"tensor(int8)", "tensor(uint8)"}, "codes")
      .TypeConstraint("T2", {"tensor(float)"}, "scales and result")
      .TypeAndShapeInferenceFunction([](onnx::InferenceContext &ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 1, 0);
        if (onnx::hasInputShape(ctx, 0))
          onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
      });
  onnx::OpSchemaRegistry::OpSchemaRegisterOnce once(s);
}

/// The INTS attribute `name` of `node`.
SmallVector<int64_t> intsAttr(const onnx::NodeProto &node, const char *name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return SmallVector<int64_t>(a.ints().begin(), a.ints().end());
  return {};
}

} // namespace

void registerContribSchemas() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    auto &ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance();
    if (!ranges.Map().count(kMicrosoftDomain))
      ranges.AddDomainToVersion(kMicrosoftDomain, 1, 1);
    registerMatMulNBits();
    if (!ranges.Map().count(kLoomImportDomain))
      ranges.AddDomainToVersion(kLoomImportDomain, 1, 1);
    registerBlockedDequantize();
  });
}

bool isSupportedContribOp(const onnx::NodeProto &node) {
  return node.domain() == kMicrosoftDomain && node.op_type() == "MatMulNBits";
}

std::string supportedContribOps() { return "com.microsoft MatMulNBits"; }

void checkContribNode(
    const onnx::NodeProto &node, const std::string &where,
    const std::function<const onnx::TensorProto *(const std::string &)>
        &constant) {
  const NBits p(node);
  const std::string &op = where;
  if (p.K < 1 || p.N < 1)
    fail(op + ": attributes K and N must be at least 1 (K " +
         std::to_string(p.K) + ", N " + std::to_string(p.N) + ")");
  if (p.bits < 2 || p.bits > 8)
    fail(op + ": attribute 'bits' is " + std::to_string(p.bits) +
         "; expected 2 to 8");
  if (p.blockSize < 16 || (p.blockSize & (p.blockSize - 1)))
    fail(op + ": attribute 'block_size' is " + std::to_string(p.blockSize) +
         "; expected a power of two, at least 16");
  auto input = [&](int i) -> const onnx::TensorProto * {
    if (i >= node.input_size() || node.input(i).empty())
      return nullptr;
    const onnx::TensorProto *t = constant(node.input(i));
    if (!t)
      fail(op + ": input " + std::to_string(i) + " ('" + node.input(i) +
           "') must be a constant (an initializer): Loom packs the weights at "
           "compile time");
    return t;
  };
  auto numel = [](const onnx::TensorProto &t) {
    int64_t n = 1;
    for (int64_t d : t.dims())
      n *= d;
    return n;
  };
  auto dims = [](const onnx::TensorProto &t) {
    std::string s = "[";
    for (int i = 0; i < t.dims_size(); ++i)
      s += (i ? ", " : "") + std::to_string(t.dims(i));
    return s + "]";
  };
  const onnx::TensorProto *b = input(1), *scales = input(2),
                          *zp = input(3), *gIdx = input(4);
  if (!b || !scales)
    fail(op + ": inputs B and scales are required");
  if (b->data_type() != onnx::TensorProto::UINT8 || b->dims_size() != 3 ||
      b->dims(0) != p.N || b->dims(1) != p.kBlocks || b->dims(2) != p.blob)
    fail(op + ": B ('" + node.input(1) + "') is " +
         dataTypeName(b->data_type()) + " " + dims(*b) +
         "; expected UINT8 [N, ceil(K / block_size), block_size * bits / 8] = [" +
         std::to_string(p.N) + ", " + std::to_string(p.kBlocks) + ", " +
         std::to_string(p.blob) + "]");
  if (scales->data_type() != onnx::TensorProto::FLOAT)
    fail(op + ": scales ('" + node.input(2) + "') are " +
         dataTypeName(scales->data_type()) +
         "; Loom imports MatMulNBits with float activations and scales");
  if (numel(*scales) != p.N * p.kBlocks)
    fail(op + ": scales ('" + node.input(2) + "') " + dims(*scales) +
         " hold " + std::to_string(numel(*scales)) +
         " values; expected N * ceil(K / block_size) = " +
         std::to_string(p.N * p.kBlocks));
  if (zp) {
    int64_t want = zp->data_type() == onnx::TensorProto::UINT8
                       ? p.N * ceilDiv(p.kBlocks * p.bits, 8)
                       : p.N * p.kBlocks;
    if (zp->data_type() != onnx::TensorProto::UINT8 &&
        zp->data_type() != onnx::TensorProto::FLOAT)
      fail(op + ": zero_points ('" + node.input(3) + "') are " +
           dataTypeName(zp->data_type()) + "; expected UINT8 (packed) or FLOAT");
    if (numel(*zp) != want)
      fail(op + ": zero_points ('" + node.input(3) + "') " + dims(*zp) +
           " hold " + std::to_string(numel(*zp)) + " values; expected " +
           std::to_string(want));
  }
  if (gIdx && (gIdx->data_type() != onnx::TensorProto::INT32 ||
               numel(*gIdx) != p.K))
    fail(op + ": g_idx ('" + node.input(4) + "') must be INT32 with K = " +
         std::to_string(p.K) + " values");
}

Value lowerMatMulNBits(OpBuilder &b, Location loc, const onnx::NodeProto &node,
                       const MatMulNBitsOperands &in,
                       RankedTensorType resultType) {
  const NBits p(node);
  MLIRContext *ctx = b.getContext();
  const auto *codes = reinterpret_cast<const uint8_t *>(in.b.data());
  std::vector<float> scales(size_t(p.N * p.kBlocks));
  std::memcpy(scales.data(), in.scales.data(), scales.size() * sizeof(float));
  const int64_t half = int64_t(1) << (p.bits - 1);
  const bool floatZp = in.zeroPointType == onnx::TensorProto::FLOAT;
  const int64_t zpRow = ceilDiv(p.kBlocks * p.bits, 8);
  // The zero point of block `blk` of row n (an integer, or a float one).
  auto zeroPoint = [&](int64_t n, int64_t blk) -> double {
    if (in.zeroPointType == 0)
      return double(half);
    if (floatZp) {
      float z;
      std::memcpy(&z, in.zeroPoints.data() + size_t(n * p.kBlocks + blk) * 4, 4);
      return z;
    }
    return readBits(reinterpret_cast<const uint8_t *>(in.zeroPoints.data()) +
                        n * zpRow,
                    blk * p.bits, p.bits);
  };
  auto code = [&](int64_t n, int64_t k) {
    return int64_t(readBits(codes + (n * p.kBlocks + k / p.blockSize) * p.blob,
                            (k % p.blockSize) * p.bits, p.bits));
  };
  std::vector<int64_t> group(size_t(p.K));
  for (int64_t k = 0; k < p.K; ++k) {
    int64_t g = k / p.blockSize;
    if (in.hasGIdx) {
      std::memcpy(&g, in.gIdx.data() + size_t(k) * 4, 4);
      g = int64_t(int32_t(g));
      if (g < 0 || g >= p.kBlocks)
        fail(node.name() + ": MatMulNBits: g_idx[" + std::to_string(k) +
             "] is " + std::to_string(g) + ", outside [0, " +
             std::to_string(p.kBlocks) + ")");
    }
    group[size_t(k)] = g;
  }

  SmallVector<int64_t> wShape = {p.K, p.N};
  auto f32 = b.getF32Type();
  auto wType = RankedTensorType::get(wShape, f32);
  Value w;
  // Quant types hold 4- and 8-bit codes with integer zero points in blocks
  // that divide K (stored signed: code - 2^(bits-1)).
  if ((p.bits == 4 || p.bits == 8) && p.K % p.blockSize == 0 && !in.hasGIdx &&
      !floatZp) {
    std::vector<int8_t> stored(size_t(p.K * p.N));
    for (int64_t n = 0; n < p.N; ++n)
      for (int64_t k = 0; k < p.K; ++k)
        stored[size_t(k * p.N + n)] = int8_t(code(n, k) - half);
    Type storage = IntegerType::get(ctx, unsigned(p.bits));
    const int64_t qmin = -half, qmax = half - 1;
    unsigned flags = quant::QuantizationFlags::Signed;
    quant::QuantizedType qType;
    if (p.kBlocks == 1) {
      // One block per column: per output channel.
      SmallVector<double> s;
      SmallVector<int64_t> z;
      for (int64_t n = 0; n < p.N; ++n) {
        s.push_back(scales[size_t(n)]);
        z.push_back(int64_t(zeroPoint(n, 0)) - half);
      }
      qType = quant::UniformQuantizedPerAxisType::get(flags, storage, f32, s, z,
                                                      1, qmin, qmax);
    } else {
      std::vector<float> s(size_t(p.kBlocks * p.N));
      SmallVector<APInt> z;
      for (int64_t blk = 0; blk < p.kBlocks; ++blk)
        for (int64_t n = 0; n < p.N; ++n) {
          s[size_t(blk * p.N + n)] = scales[size_t(n * p.kBlocks + blk)];
          z.push_back(APInt(unsigned(p.bits),
                            uint64_t(int64_t(zeroPoint(n, blk)) - half),
                            /*isSigned=*/true));
        }
      SmallVector<int64_t> sShape = {p.kBlocks, p.N};
      auto sAttr =
          DenseElementsAttr::get(RankedTensorType::get(sShape, f32),
                                 ArrayRef<float>(s));
      auto zAttr = DenseElementsAttr::get(
          RankedTensorType::get(sShape, storage), z);
      qType = quant::UniformQuantizedSubChannelType::get(
          flags, storage, f32, sAttr, zAttr, {0}, {p.blockSize}, qmin, qmax);
    }
    Value c = QConstantOp::create(b, loc, RankedTensorType::get(wShape, qType),
                                  loom::storedIntegers(ctx, wShape, stored));
    w = DequantizeOp::create(b, loc, wType, c);
  } else {
    // The dequantized weight, computed as ONNX Runtime does in f32:
    // (code - zero_point) * scale.
    std::vector<float> values(size_t(p.K * p.N));
    for (int64_t n = 0; n < p.N; ++n)
      for (int64_t k = 0; k < p.K; ++k) {
        int64_t g = group[size_t(k)];
        values[size_t(k * p.N + n)] =
            (float(code(n, k)) - float(zeroPoint(n, g))) *
            scales[size_t(n * p.kBlocks + g)];
      }
    w = ConstantOp::create(b, loc, wType,
                           loom::f32Resource(wType, values, "nbits_weight"));
  }
  Value y = MatMulOp::create(b, loc, resultType, in.a, w);
  if (in.bias)
    y = AddOp::create(b, loc, resultType, y, in.bias);
  return y;
}

Value lowerBlockedDequantize(OpBuilder &b, Location loc,
                             const onnx::NodeProto &node,
                             const BlockedDequantizeOperands &in,
                             RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  const int rank = int(shape.size());
  const SmallVector<int64_t> blocks = intsAttr(node, "blocks");
  const int64_t bits = intAttr(node, "bits", 8);
  const bool isSigned = intAttr(node, "signed", 1) != 0;
  if (int(blocks.size()) != rank || (bits != 4 && bits != 8))
    fail(node.name() + ": BlockedDequantizeLinear: malformed attributes");
  int64_t count = 1;
  SmallVector<int64_t> sDims(static_cast<size_t>(rank)),
      sStrides(static_cast<size_t>(rank), 1);
  for (int d = 0; d < rank; ++d) {
    count *= shape[size_t(d)];
    sDims[size_t(d)] = ceilDiv(shape[size_t(d)], blocks[size_t(d)]);
  }
  for (int d = rank - 2; d >= 0; --d)
    sStrides[size_t(d)] = sStrides[size_t(d + 1)] * sDims[size_t(d + 1)];
  int64_t sCount = rank ? sStrides[0] * sDims[0] : 1;
  if (int64_t(in.x.size()) != count ||
      int64_t(in.scales.size()) != 4 * sCount ||
      (in.hasZeroPoint && int64_t(in.zeroPoints.size()) != sCount))
    fail(node.name() + ": BlockedDequantizeLinear: operand sizes disagree");
  std::vector<float> scales(static_cast<size_t>(sCount));
  std::memcpy(scales.data(), in.scales.data(), scales.size() * sizeof(float));
  auto code = [&](const std::string &bytes, int64_t i) -> int64_t {
    return isSigned ? int64_t(int8_t(bytes[size_t(i)]))
                    : int64_t(uint8_t(bytes[size_t(i)]));
  };
  auto zeroPoint = [&](int64_t s) -> int64_t {
    return in.hasZeroPoint ? code(in.zeroPoints, s) : 0;
  };
  auto f32 = b.getF32Type();
  // Quant types hold a [K, N] weight whose scales vary along N per column
  // (or not at all) and along K in blocks that divide K: the MatMul weight
  // form of MatMulNBits. Unsigned codes are stored signed (code -
  // 2^(bits-1), the zero point likewise).
  if (rank == 2 && (blocks[1] == 1 || blocks[1] == shape[1]) &&
      shape[0] % blocks[0] == 0) {
    const int64_t K = shape[0], N = shape[1], B = blocks[0], kBlocks = K / B;
    const int64_t half = isSigned ? 0 : int64_t(1) << (bits - 1);
    auto scaleIndex = [&](int64_t blk, int64_t n) {
      return blk * sStrides[0] + (blocks[1] == 1 ? n : 0);
    };
    std::vector<int8_t> stored(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      stored[size_t(i)] = int8_t(code(in.x, i) - half);
    Type storage = IntegerType::get(ctx, unsigned(bits));
    const int64_t qmin = -(int64_t(1) << (bits - 1)), qmax = -qmin - 1;
    unsigned flags = quant::QuantizationFlags::Signed;
    quant::QuantizedType qType;
    if (kBlocks == 1) {
      SmallVector<double> s;
      SmallVector<int64_t> z;
      for (int64_t n = 0; n < N; ++n) {
        s.push_back(scales[size_t(scaleIndex(0, n))]);
        z.push_back(zeroPoint(scaleIndex(0, n)) - half);
      }
      qType = quant::UniformQuantizedPerAxisType::get(flags, storage, f32, s, z,
                                                      1, qmin, qmax);
    } else {
      std::vector<float> s(size_t(kBlocks * N));
      SmallVector<APInt> z;
      for (int64_t blk = 0; blk < kBlocks; ++blk)
        for (int64_t n = 0; n < N; ++n) {
          s[size_t(blk * N + n)] = scales[size_t(scaleIndex(blk, n))];
          z.push_back(APInt(unsigned(bits),
                            uint64_t(zeroPoint(scaleIndex(blk, n)) - half),
                            /*isSigned=*/true));
        }
      SmallVector<int64_t> sShape = {kBlocks, N};
      auto sAttr = DenseElementsAttr::get(RankedTensorType::get(sShape, f32),
                                          ArrayRef<float>(s));
      auto zAttr =
          DenseElementsAttr::get(RankedTensorType::get(sShape, storage), z);
      qType = quant::UniformQuantizedSubChannelType::get(
          flags, storage, f32, sAttr, zAttr, {0}, {B}, qmin, qmax);
    }
    SmallVector<int64_t> wShape(shape.begin(), shape.end());
    Value c = QConstantOp::create(b, loc, RankedTensorType::get(wShape, qType),
                                  loom::storedIntegers(ctx, wShape, stored));
    return DequantizeOp::create(b, loc, resultType, c);
  }
  // Any other layout: the dequantized f32 constant, as ONNX defines it.
  std::vector<float> values(static_cast<size_t>(count));
  SmallVector<int64_t> index(static_cast<size_t>(rank), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t s = 0;
    for (int d = 0; d < rank; ++d)
      s += index[size_t(d)] / blocks[size_t(d)] * sStrides[size_t(d)];
    values[size_t(i)] =
        float(code(in.x, i) - zeroPoint(s)) * scales[size_t(s)];
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[size_t(d)] < shape[size_t(d)])
        break;
      index[size_t(d)] = 0;
    }
  }
  return ConstantOp::create(
      b, loc, resultType,
      loom::f32Resource(resultType, values, "dequantized_weight"));
}

} // namespace loom::import
