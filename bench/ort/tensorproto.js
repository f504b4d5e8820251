// Minimal ONNX TensorProto reader/writer (the fields numpy_helper and the
// ONNX test data sets use: dims, data_type, name, raw_data and the typed
// *_data fields), so ONNX Runtime's Node.js binding can read test_data_set_N
// inputs and write outputs that onnx.numpy_helper reads back.
'use strict';

const fs = require('fs');

// onnx.TensorProto.DataType -> [ort tensor type, TypedArray, element bytes]
const DTYPES = {
  1: ['float32', Float32Array, 4],
  2: ['uint8', Uint8Array, 1],
  3: ['int8', Int8Array, 1],
  4: ['uint16', Uint16Array, 2],
  5: ['int16', Int16Array, 2],
  6: ['int32', Int32Array, 4],
  7: ['int64', BigInt64Array, 8],
  9: ['bool', Uint8Array, 1],
  10: ['float16', Uint16Array, 2],
  11: ['float64', Float64Array, 8],
  12: ['uint32', Uint32Array, 4],
  13: ['uint64', BigUint64Array, 8],
};
const BY_ORT_TYPE = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v[0], Number(k)]));

function readVarint(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7n;
  }
}

function decode(buf) {
  const t = { name: '', dims: [], dataType: 0, raw: null, floats: [], ints: [], int64s: [], doubles: [] };
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let v;
    if (wire === 0) {
      [v, pos] = readVarint(buf, pos);
      if (field === 1) t.dims.push(Number(BigInt.asIntN(64, v)));
      else if (field === 2) t.dataType = Number(v);
      else if (field === 5) t.ints.push(Number(BigInt.asIntN(32, v)));
      else if (field === 7) t.int64s.push(BigInt.asIntN(64, v));
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      const end = pos + Number(len);
      const body = buf.subarray(pos, end);
      if (field === 8) t.name = body.toString('utf8');
      else if (field === 9) t.raw = body;
      else if (field === 1 || field === 5 || field === 7) {
        let p = 0;
        while (p < body.length) {
          [v, p] = readVarint(body, p);
          if (field === 1) t.dims.push(Number(BigInt.asIntN(64, v)));
          else if (field === 5) t.ints.push(Number(BigInt.asIntN(32, v)));
          else t.int64s.push(BigInt.asIntN(64, v));
        }
      } else if (field === 4) {
        for (let p = 0; p < body.length; p += 4) t.floats.push(body.readFloatLE(p));
      } else if (field === 10) {
        for (let p = 0; p < body.length; p += 8) t.doubles.push(body.readDoubleLE(p));
      }
      pos = end;
    } else if (wire === 5) {
      if (field === 4) t.floats.push(buf.readFloatLE(pos));
      pos += 4;
    } else if (wire === 1) {
      if (field === 10) t.doubles.push(buf.readDoubleLE(pos));
      pos += 8;
    } else {
      throw new Error('unsupported protobuf wire type ' + wire);
    }
  }
  return t;
}

// Reads a TensorProto file: {name, type (ort type name), dims, data (TypedArray)}.
function readTensor(file) {
  const t = decode(fs.readFileSync(file));
  const d = DTYPES[t.dataType];
  if (!d) throw new Error(file + ': unsupported TensorProto data_type ' + t.dataType);
  const [type, Arr, size] = d;
  const count = t.dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.raw) {
    const copy = Buffer.from(t.raw); // aligned copy
    data = new Arr(copy.buffer, copy.byteOffset, copy.length / size);
  } else if (t.dataType === 1) data = Float32Array.from(t.floats);
  else if (t.dataType === 11) data = Float64Array.from(t.doubles);
  else if (t.dataType === 7) data = BigInt64Array.from(t.int64s);
  else data = Arr.from(t.ints);
  if (data.length !== count) throw new Error(file + ': ' + data.length + ' elements for dims [' + t.dims + ']');
  return { name: t.name, type, dims: t.dims, data };
}

function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

function lenField(field, body) {
  return Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);
}

// Writes a TensorProto (dims, data_type, name, raw_data) for an ort.Tensor.
function writeTensor(file, name, tensor) {
  const dataType = BY_ORT_TYPE[tensor.type];
  if (!dataType) throw new Error('cannot write tensor type ' + tensor.type);
  const data = tensor.data;
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const parts = [];
  if (tensor.dims.length) parts.push(lenField(1, Buffer.concat(tensor.dims.map(varint))));
  parts.push(varint(2 << 3), varint(dataType));
  parts.push(lenField(8, Buffer.from(name, 'utf8')));
  parts.push(lenField(9, raw));
  fs.writeFileSync(file, Buffer.concat(parts));
}

module.exports = { readTensor, writeTensor };
