#!/usr/bin/env node
// Loads MODEL.onnx in ONNX Runtime (CPU execution provider) with the given
// graph optimization level and writes the optimized graph to OUT.onnx.
// Prints {"session_ms": N} (session creation time, which includes the
// optimization) on stdout.
//
//   node optimize.js MODEL.onnx OUT.onnx [--level extended|all|basic|disabled|layout]
//                                        [--threads N]
'use strict';

const path = require('path');
const ort = require('onnxruntime-node');

function usage(msg) {
  if (msg) console.error('optimize.js: ' + msg);
  console.error('usage: node optimize.js MODEL.onnx OUT.onnx [--level extended|all|basic|disabled] [--threads N]');
  process.exit(2);
}

const LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'];
const positional = [];
let level = 'extended';
let threads = 0; // 0: ONNX Runtime's default
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const eq = a.indexOf('=');
    if (eq >= 0) return a.slice(eq + 1);
    if (i + 1 >= args.length) usage('missing value for ' + a);
    return args[++i];
  };
  if (a === '--help' || a === '-h') usage();
  else if (a === '--level' || a.startsWith('--level=')) level = value();
  else if (a === '--threads' || a.startsWith('--threads=')) threads = Number(value());
  else if (a.startsWith('--')) usage('unknown option ' + a);
  else positional.push(a);
}
if (positional.length !== 2) usage();
if (!LEVELS.includes(level)) usage('unknown level ' + level);
if (!Number.isInteger(threads) || threads < 0) usage('bad --threads');

async function main() {
  const [model, out] = positional.map((p) => path.resolve(p));
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level,
    optimizedModelFilePath: out,
  };
  if (threads > 0) options.intraOpNumThreads = threads;
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, options);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await session.release();
  console.log(JSON.stringify({ session_ms: Math.round(ms * 1000) / 1000 }));
}

main().catch((e) => {
  console.error('optimize.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
