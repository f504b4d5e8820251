#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (CPU execution provider): the peer of
// loom-run.
//
//   node run.js MODEL.onnx [--test-data DIR] [--input NAME=FILE.pb]...
//                          [--output-dir DIR] [--level extended|all|basic|disabled]
//                          [--threads N] [--repeat N]
//
// --test-data DIR binds DIR/input_<i>.pb to the model's inputs in order;
// --input binds one input by name (overrides). --output-dir writes output i
// as DIR/output_<i>.pb (TensorProto). --repeat N times N runs after a
// warm-up run. Prints JSON: {"session_ms", "first_run_ms", and with
// --repeat "median_ms", "min_ms", "max_ms"}.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { readTensor, writeTensor } = require('./tensorproto');

function usage(msg) {
  if (msg) console.error('run.js: ' + msg);
  console.error('usage: node run.js MODEL.onnx [--test-data DIR] [--input NAME=FILE.pb]... ' +
                '[--output-dir DIR] [--level L] [--threads N] [--repeat N]');
  process.exit(2);
}

const opts = { level: 'extended', threads: 0, repeat: 0, inputs: [], testData: null, outputDir: null };
const positional = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq >= 0) return a.slice(eq + 1);
    if (i + 1 >= args.length) usage('missing value for ' + a);
    return args[++i];
  };
  const flag = a.split('=')[0];
  if (a === '--help' || a === '-h') usage();
  else if (flag === '--level') opts.level = value();
  else if (flag === '--threads') opts.threads = Number(value());
  else if (flag === '--repeat') opts.repeat = Number(value());
  else if (flag === '--test-data') opts.testData = value();
  else if (flag === '--output-dir') opts.outputDir = value();
  else if (flag === '--input') opts.inputs.push(value());
  else if (a.startsWith('--')) usage('unknown option ' + a);
  else positional.push(a);
}
if (positional.length !== 1) usage();

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x) => Math.round(x * 1000) / 1000;

async function main() {
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: opts.level };
  if (opts.threads > 0) options.intraOpNumThreads = opts.threads;
  let t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(path.resolve(positional[0]), options);
  const result = { session_ms: round(ms(t0)) };

  const files = {};
  if (opts.testData) {
    session.inputNames.forEach((n, i) => {
      const f = path.join(opts.testData, 'input_' + i + '.pb');
      if (fs.existsSync(f)) files[n] = f;
    });
  }
  for (const spec of opts.inputs) {
    const eq = spec.indexOf('=');
    if (eq < 0) usage('--input wants NAME=FILE.pb');
    files[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  const feeds = {};
  for (const n of session.inputNames) {
    if (!files[n]) throw new Error('no value for input ' + n);
    const t = readTensor(files[n]);
    feeds[n] = new ort.Tensor(t.type, t.data, t.dims);
  }

  t0 = process.hrtime.bigint();
  const outputs = await session.run(feeds);
  result.first_run_ms = round(ms(t0));
  if (opts.repeat > 0) {
    const times = [];
    for (let r = 0; r < opts.repeat; r++) {
      t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(ms(t0));
    }
    times.sort((a, b) => a - b);
    result.median_ms = round(times[Math.floor(times.length / 2)]);
    result.min_ms = round(times[0]);
    result.max_ms = round(times[times.length - 1]);
  }
  if (opts.outputDir) {
    fs.mkdirSync(opts.outputDir, { recursive: true });
    session.outputNames.forEach((n, i) =>
      writeTensor(path.join(opts.outputDir, 'output_' + i + '.pb'), n, outputs[n]));
  }
  await session.release();
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error('run.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
