#!/usr/bin/env node
// Runs ort_generate.js with --verify-recompute over the corpus's decoders and
// prompt lengths and prints a markdown table (see bench/llm/README.md).
//
//   node bench/llm/run_ort_checks.js [--models-dir DIR] [--models a,b] [--prompt-lens 1,7,128,300]
//        [--max-new-tokens N] [--threads N] [--seed S] [--repeat N] [--out DIR]
//
// --models-dir: the built corpus (default bench/models/real/out); --repeat:
// timed generations per row (default 5); --out: where each run's JSON goes
// (default: a temporary folder). Exits 1 when a run fails or its ids differ
// from the recompute check.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const USAGE = 'usage: node bench/llm/run_ort_checks.js [--models-dir DIR] [--models a,b] ' +
              '[--prompt-lens 1,7,128,300] [--max-new-tokens N] [--threads N] [--seed S] [--repeat N] [--out DIR]';
const root = path.resolve(__dirname, '..', '..');
const opts = {
  modelsDir: path.join(root, 'bench/models/real/out'), models: ['gpt2_hf_op17', 'llama_hf_op17'],
  lens: [1, 7, 128, 300], maxNew: 64, threads: 1, seed: 1, repeat: 5, out: null,
};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    if (i + 1 >= args.length) { console.error(USAGE); process.exit(2); }
    return args[++i];
  };
  if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
  else if (a === '--models-dir') opts.modelsDir = value();
  else if (a === '--models') opts.models = value().split(',');
  else if (a === '--prompt-lens') opts.lens = value().split(',').map(Number);
  else if (a === '--max-new-tokens') opts.maxNew = Number(value());
  else if (a === '--threads') opts.threads = Number(value());
  else if (a === '--seed') opts.seed = Number(value());
  else if (a === '--repeat') opts.repeat = Number(value());
  else if (a === '--out') opts.out = value();
  else { console.error('run_ort_checks.js: unknown argument ' + a + '\n' + USAGE); process.exit(2); }
}
const out = opts.out || fs.mkdtempSync(path.join(os.tmpdir(), 'ort-gen-'));
fs.mkdirSync(out, { recursive: true });

let failed = false;
const rows = [];
for (const m of opts.models) {
  for (const len of opts.lens) {
    const json = path.join(out, m + '.p' + len + '.json');
    const r = spawnSync(process.execPath, [
      path.join(__dirname, 'ort_generate.js'), path.join(opts.modelsDir, m, 'model.onnx'),
      '--prompt-len', String(len), '--seed', String(opts.seed), '--max-new-tokens', String(opts.maxNew),
      '--threads', String(opts.threads), '--repeat', String(opts.repeat), '--verify-recompute', '--json', json], { encoding: 'utf8' });
    process.stderr.write(m + ' prompt ' + len + ': ' + (r.stderr || '').trim() + '\n');
    if (r.status !== 0 && !fs.existsSync(json)) {
      failed = true;
      rows.push(`| ${m} | ${len} | ${opts.maxNew} | failed (exit ${r.status}) | | | | | |`);
      continue;
    }
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    if (!j.recompute_equal) failed = true;
    const distinct = new Set(j.tokens).size;
    rows.push(`| ${m} | ${j.prompt_len} | ${j.new_tokens} | ${j.recompute_equal ? 'yes' : 'no'} | ` +
              `${j.recompute_max_abs_logit_diff.toExponential(1)} | ${distinct} | ${j.ttft_ms.toFixed(2)} | ${j.ttft_ms_min.toFixed(2)} | ` +
              `${j.decode_ms_median.toFixed(3)} | ${Math.round(j.tokens_per_s)} |`);
  }
}
console.log('| model | prompt | new tokens | ids = recompute | max abs logit diff | distinct ids | TTFT ms (median) | TTFT ms (min) | decode ms (median) | tokens/s |');
console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
console.log('\n' + opts.threads + ' intra-op thread(s), 1 warm-up + ' + opts.repeat + ' timed generations per row; JSON per run in ' + out);
process.exit(failed ? 1 : 0);
