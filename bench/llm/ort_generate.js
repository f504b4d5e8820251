#!/usr/bin/env node
// Greedy token-by-token generation with ONNX Runtime (CPU execution
// provider) over an exported decoder with a KV cache: the reference side of
// Loom's generation checks.
//
//   node bench/llm/ort_generate.js MODEL.onnx (--prompt-ids 1,2,3 | --prompt-len L [--seed S])
//        [--max-new-tokens N] [--threads N] [--level L] [--kv-heads H] [--head-dim D]
//        [--warmup N] [--repeat N] [--json FILE] [--verify-recompute]
//
// Step 0 feeds the whole prompt with an empty cache (past length 0); every
// later step feeds the argmax token of the last position's logits, with the
// present.* outputs fed back as the past_key_values.* inputs. Prints the
// generated ids, comma-separated, on stdout. See bench/llm/README.md.
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE =
  'usage: node bench/llm/ort_generate.js MODEL.onnx (--prompt-ids 1,2,3 | --prompt-len L [--seed S])\n' +
  '         [--max-new-tokens N] [--threads N] [--level all|extended|basic|disabled]\n' +
  '         [--kv-heads H] [--head-dim D] [--warmup N] [--repeat N] [--json FILE] [--verify-recompute]\n' +
  '\n' +
  '  --prompt-ids IDS      the prompt, comma-separated token ids\n' +
  '  --prompt-len L        a prompt of L ids from a seeded generator (mulberry32(seed) % vocab)\n' +
  '  --seed S              the generator\'s seed (default 1)\n' +
  '  --max-new-tokens N    tokens to generate (default 16)\n' +
  '  --threads N           ONNX Runtime intra-op threads (default 1)\n' +
  '  --level L             graph optimization level (default all)\n' +
  '  --kv-heads H          heads of the KV cache, when the model leaves them symbolic\n' +
  '  --head-dim D          head size of the KV cache, when the model leaves it symbolic\n' +
  '  --warmup N            untimed generations of the same prompt before the timed one (default 1)\n' +
  '  --repeat N            timed generations (default 1): TTFT is the median of their first\n' +
  '                        steps, the decode time the median of all their later steps\n' +
  '  --json FILE           write tokens, timings and the settings as JSON\n' +
  '  --verify-recompute    check every generated id against a run without the cache\n' +
  '                        (prompt + ids so far, empty past, argmax of the last position)\n' +
  '\n' +
  'KV inputs/outputs are recognised by name: past_key_values.N.key|value <-> present.N.key|value,\n' +
  'and past_key_N / past_value_N <-> present_key_N / present_value_N. attention_mask (all ones),\n' +
  'position_ids (past..past+seq-1) and use_cache_branch (past > 0) are fed when the model declares them.';

function usage(msg) {
  if (msg) console.error('ort_generate.js: ' + msg);
  console.error(USAGE);
  process.exit(2);
}

function fail(msg) {
  console.error('ort_generate.js: ' + msg);
  process.exit(1);
}

// ---------------------------------------------------------------- flags
const opts = {
  promptIds: null, promptLen: null, seed: 1, maxNew: 16, threads: 1, level: 'all',
  kvHeads: null, headDim: null, warmup: 1, repeat: 1, json: null, verify: false,
};
const positional = [];
const args = process.argv.slice(2);
const intFlag = (name, v, min) => {
  if (!/^\d+$/.test(v) || Number(v) < min) usage(name + ' wants an integer >= ' + min + ', got \'' + v + '\'');
  return Number(v);
};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const eq = a.indexOf('=');
  const flag = a.startsWith('--') && eq >= 0 ? a.slice(0, eq) : a;
  const value = () => {
    if (a.startsWith('--') && eq >= 0) return a.slice(eq + 1);
    if (i + 1 >= args.length) usage('missing value for ' + a);
    return args[++i];
  };
  if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (flag === '--prompt-ids') {
    const v = value();
    if (!/^\d+(,\d+)*$/.test(v)) usage('--prompt-ids wants comma-separated non-negative integers, got \'' + v + '\'');
    opts.promptIds = v.split(',').map(Number);
  } else if (flag === '--prompt-len') opts.promptLen = intFlag(flag, value(), 1);
  else if (flag === '--seed') opts.seed = intFlag(flag, value(), 0);
  else if (flag === '--max-new-tokens') opts.maxNew = intFlag(flag, value(), 1);
  else if (flag === '--threads') opts.threads = intFlag(flag, value(), 1);
  else if (flag === '--level') {
    opts.level = value();
    if (!['all', 'extended', 'basic', 'disabled'].includes(opts.level)) usage('unknown --level ' + opts.level);
  } else if (flag === '--kv-heads') opts.kvHeads = intFlag(flag, value(), 1);
  else if (flag === '--head-dim') opts.headDim = intFlag(flag, value(), 1);
  else if (flag === '--warmup') opts.warmup = intFlag(flag, value(), 0);
  else if (flag === '--repeat') opts.repeat = intFlag(flag, value(), 1);
  else if (flag === '--json') opts.json = value();
  else if (flag === '--verify-recompute') opts.verify = true;
  else if (a.startsWith('-')) usage('unknown option ' + a);
  else positional.push(a);
}
if (positional.length !== 1) usage(positional.length ? 'one model, got ' + positional.length : 'no model given');
if ((opts.promptIds === null) === (opts.promptLen === null)) usage('give exactly one of --prompt-ids, --prompt-len');

const modelPath = positional[0];
if (!fs.existsSync(modelPath)) fail(modelPath + ': no such file');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  fail('onnxruntime-node not found: run bench/ort/setup.sh and set ' +
       'NODE_PATH=<checkout>/bench/ort/node_modules (' + e.message.split('\n')[0] + ')');
}

// ---------------------------------------------------------------- helpers
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x) => Math.round(x * 1000) / 1000;
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const i64 = (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);

/// The decoder's interface: which inputs it declares, how its KV inputs pair
/// with its outputs, and the cache's shape.
function describe(session) {
  const meta = {};
  session.inputMetadata.forEach((m, i) => { meta[session.inputNames[i]] = m; });
  const outs = new Set(session.outputNames);
  const where = modelPath + ': ';
  if (!meta.input_ids) {
    fail(where + 'the model has no input \'input_ids\' (its inputs: ' + session.inputNames.join(', ') + ')');
  }
  const kv = [];   // {input, output, dims: [1, heads, 0, headDim]}
  const other = [];
  for (const name of session.inputNames) {
    if (name === 'input_ids') continue;
    let m = /^past_key_values\.(\d+)\.(key|value)$/.exec(name);
    let out = m && 'present.' + m[1] + '.' + m[2];
    if (!m) {
      m = /^past_(key|value)_(\d+)$/.exec(name);
      out = m && 'present_' + m[1] + '_' + m[2];
    }
    if (!m) {
      if (!['attention_mask', 'position_ids', 'use_cache_branch'].includes(name)) {
        fail(where + 'input \'' + name + '\' is neither input_ids, attention_mask, position_ids, ' +
             'use_cache_branch nor a KV cache input (past_key_values.N.key|value, past_key_N, past_value_N)');
      }
      other.push(name);
      continue;
    }
    if (!outs.has(out)) fail(where + 'KV input \'' + name + '\' has no matching output \'' + out + '\'');
    const md = meta[name];
    if (md.type !== 'float32') fail(where + 'KV input \'' + name + '\' is ' + md.type + ', only float32 is supported');
    const shape = md.shape || [];
    if (shape.length !== 4) fail(where + 'KV input \'' + name + '\' has rank ' + shape.length + ', expected 4 [batch, heads, past, head_dim]');
    const heads = typeof shape[1] === 'number' ? shape[1] : opts.kvHeads;
    const hd = typeof shape[3] === 'number' ? shape[3] : opts.headDim;
    if (heads === null || hd === null) {
      fail(where + 'KV input \'' + name + '\' has symbolic ' + (heads === null ? 'heads' : 'head_dim') +
           ' (shape [' + shape.join(', ') + ']): give --kv-heads and --head-dim');
    }
    if (opts.kvHeads !== null && typeof shape[1] === 'number' && shape[1] !== opts.kvHeads) {
      fail(where + 'KV input \'' + name + '\' has ' + shape[1] + ' heads, --kv-heads says ' + opts.kvHeads);
    }
    if (opts.headDim !== null && typeof shape[3] === 'number' && shape[3] !== opts.headDim) {
      fail(where + 'KV input \'' + name + '\' has head_dim ' + shape[3] + ', --head-dim says ' + opts.headDim);
    }
    kv.push({ input: name, output: out, heads, headDim: hd });
  }
  if (!kv.length) fail(where + 'the model has no KV cache inputs (past_key_values.N.key|value or past_key_N/past_value_N)');
  const logits = outs.has('logits') ? 'logits' : null;
  if (!logits) fail(where + 'the model has no output \'logits\' (its outputs: ' + session.outputNames.join(', ') + ')');
  const lm = session.outputMetadata[session.outputNames.indexOf('logits')];
  const vocab = lm && lm.shape && typeof lm.shape[2] === 'number' ? lm.shape[2] : null;
  return { kv, other, logits, vocab };
}

/// One run: `ids` after a cache of `past` tokens (`cache` maps KV input
/// names to tensors; null for an empty cache). Returns the last position's
/// logits (a copy), the argmax and the present tensors keyed by KV input.
async function step(session, model, ids, past, cache) {
  const seq = ids.length;
  const feeds = { input_ids: i64(ids, [1, seq]) };
  for (const name of model.other) {
    if (name === 'attention_mask') feeds[name] = i64(new Array(past + seq).fill(1), [1, past + seq]);
    else if (name === 'position_ids') feeds[name] = i64(Array.from({ length: seq }, (_, j) => past + j), [1, seq]);
    else if (name === 'use_cache_branch') feeds[name] = new ort.Tensor('bool', Uint8Array.from([past > 0 ? 1 : 0]), [1]);
  }
  for (const c of model.kv) {
    feeds[c.input] = cache ? cache[c.input]
      : new ort.Tensor('float32', new Float32Array(0), [1, c.heads, 0, c.headDim]);
  }
  const out = await session.run(feeds);
  const lg = out[model.logits];
  const vocab = lg.dims[lg.dims.length - 1];
  if (lg.dims.length !== 3 || lg.dims[1] !== seq) {
    throw new Error('logits have shape [' + lg.dims.join(', ') + '], expected [1, ' + seq + ', vocab]');
  }
  const last = lg.data.slice((seq - 1) * vocab, seq * vocab);
  let arg = 0;
  for (let v = 1; v < vocab; v++) if (last[v] > last[arg]) arg = v;
  const present = {};
  for (const c of model.kv) {
    const t = out[c.output];
    if (t.dims[2] !== past + seq) {
      throw new Error('\'' + c.output + '\' has length ' + t.dims[2] + ' on axis 2, expected past + seq = ' + (past + seq));
    }
    present[c.input] = t;
  }
  return { last, arg, present };
}

/// The KV-cached greedy loop: step 0 feeds the prompt with an empty cache,
/// every later step the previous argmax with the presents as the past.
async function generate(session, model, prompt) {
  const tokens = [];
  const lastLogits = [];
  const times = [];
  let cache = null;
  let past = 0;
  let ids = prompt;
  for (let n = 0; n < opts.maxNew; n++) {
    const t0 = process.hrtime.bigint();
    let r;
    try {
      r = await step(session, model, ids, past, cache);
    } catch (e) {
      fail(modelPath + ': step ' + n + ' (past ' + past + ', ' + ids.length + ' new tokens) failed: ' +
           (e && e.message ? e.message : e));
    }
    times.push(ms(t0));
    tokens.push(r.arg);
    lastLogits.push(r.last);
    past += ids.length;
    cache = r.present;
    ids = [r.arg];
  }
  return { tokens, lastLogits, times };
}

// ---------------------------------------------------------------- main
async function main() {
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: opts.level,
                    intraOpNumThreads: opts.threads, interOpNumThreads: 1 };
  let session;
  try {
    session = await ort.InferenceSession.create(path.resolve(modelPath), options);
  } catch (e) {
    fail(modelPath + ': ONNX Runtime cannot load it: ' + (e && e.message ? e.message : e));
  }
  const model = describe(session);
  const vocab = model.vocab;

  let prompt = opts.promptIds;
  if (prompt === null) {
    if (vocab === null) fail(modelPath + ': the vocabulary size (logits axis 2) is symbolic: give --prompt-ids');
    const rnd = mulberry32(opts.seed);
    prompt = Array.from({ length: opts.promptLen }, () => rnd() % vocab);
  }
  if (vocab !== null) {
    const bad = prompt.find((t) => t >= vocab);
    if (bad !== undefined) usage('prompt id ' + bad + ' is outside the vocabulary of ' + vocab);
  }

  // Untimed warm-up generations, then the timed ones.
  for (let w = 0; w < opts.warmup; w++) await generate(session, model, prompt);
  const { tokens, lastLogits, times } = await generate(session, model, prompt);
  const ttfts = [times[0]];
  const decodes = times.slice(1);
  for (let r = 1; r < opts.repeat; r++) {
    const g = await generate(session, model, prompt);
    if (g.tokens.join(',') !== tokens.join(',')) fail(modelPath + ': timed generation ' + r + ' produced other ids than the first');
    ttfts.push(g.times[0]);
    decodes.push(...g.times.slice(1));
  }

  const result = {
    model: modelPath,
    prompt_len: prompt.length,
    new_tokens: tokens.length,
    threads: opts.threads,
    level: opts.level,
    warmup: opts.warmup,
    repeat: opts.repeat,
    tokens,
    ttft_ms: round(median(ttfts)),
    ttft_ms_min: round(Math.min(...ttfts)),
    decode_ms_median: decodes.length ? round(median(decodes)) : null,
    tokens_per_s: decodes.length ? round(1000 / median(decodes)) : null,
  };
  if (opts.promptIds === null) result.prompt_seed = opts.seed;

  // Full recompute: prompt + the ids so far, empty cache, argmax of the last position.
  if (opts.verify) {
    let firstDiff = null;
    let maxDiff = 0;
    for (let n = 0; n < tokens.length; n++) {
      const r = await step(session, model, prompt.concat(tokens.slice(0, n)), 0, null);
      for (let v = 0; v < r.last.length; v++) maxDiff = Math.max(maxDiff, Math.abs(r.last[v] - lastLogits[n][v]));
      if (r.arg !== tokens[n] && firstDiff === null) firstDiff = { step: n, cached: tokens[n], recompute: r.arg };
    }
    result.recompute_equal = firstDiff === null;
    result.recompute_max_abs_logit_diff = maxDiff;
    if (firstDiff) result.recompute_first_difference = firstDiff;
  }
  await session.release();

  console.log(tokens.join(','));
  if (opts.verify) {
    console.error('recompute check: ' + (result.recompute_equal ? 'ids equal' : 'ids differ at step ' +
                  result.recompute_first_difference.step) + ', max |logit difference| ' +
                  result.recompute_max_abs_logit_diff.toExponential(2));
  }
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(result) + '\n');
  if (opts.verify && !result.recompute_equal) process.exit(1);
}

main().catch((e) => fail(modelPath + ': ' + (e && e.stack ? e.stack : e)));
