#!/usr/bin/env node
// Deterministic synthetic Keras Xception models for the tests: the values (tools/fixtures/model.mjs)
// in a neutral raw form, and through tools/fixtures/write.py (Python, h5py) in any Keras layout.
//
//   node tools/gen-test-weights.mjs --raw DIR [--seed N] [--model JSON]
//       DIR/model.json (the graph, tensor offsets) + DIR/weights.f32; --model takes the options of
//       tools/fixtures/model.mjs (input, notop, pooling, dropout, head, rescaling, augment, nested)
//   node tools/gen-test-weights.mjs --out FILE.h5 [--seed N] [--old-names]
//       the ImageNet model in the layout of Keras' official xception_weights_tf_dim_ordering_tf_kernels.h5
//   node tools/gen-test-weights.mjs --out DIR --format tfjs [--seed N] [--no-suffix]
//       a TF.js layers-format directory as TF.js saves it (model order, predictions_1/...)
//   node tools/gen-test-weights.mjs --out OUT --layout LAYOUT [--seed N] [--model JSON] [-- WRITER ARGS]
//       any layout of tools/fixtures/write.py
//   add --debug [--debug-size N] to run the TF.js oracle on an ImageNet model and print the
//   per-block activation std and the logit spread.
//
// The same seed always gives the same values: every tensor has its own mulberry32 stream, and
// normal deviates are Irwin-Hall sums (only +, *, sqrt: exactly reproducible). The values do not
// depend on the layout or the naming.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, plantedClasses, XCEPTION_PARAMS } from './fixtures/model.mjs';

export const PYTHON = '/usr/bin/python3';
export const WRITER = fileURLToPath(new URL('./fixtures/write.py', import.meta.url));

/** Writes the raw form of a model into dir; returns {params, tensors, graph}. */
export function writeRaw(dir, seed, opts = {}) {
  const { graph, tensors } = generate(seed, opts);
  fs.mkdirSync(dir, { recursive: true });
  let off = 0;
  const list = tensors.map((t) => {
    const e = { part: t.part, layer: t.layer, weight: t.wname, shape: t.shape, offset: off, count: t.data.length };
    off += t.data.length;
    return e;
  });
  const all = new Float32Array(off);
  tensors.forEach((t, i) => all.set(t.data, list[i].offset));
  const strip = (layers) => layers && layers.map(({ kind, name, args, inbound, weights, index }) => ({ kind, name, args, inbound, weights, index }));
  const spec = {
    format: 'xception-gradcam synthetic model', version: 1, seed, options: graph.options, imagenet: graph.imagenet,
    parts: { base: strip(graph.base), top: strip(graph.top) }, tensors: list, data: 'weights.f32',
  };
  // little-endian on every platform Node runs on here; write through a Buffer view
  fs.writeFileSync(path.join(dir, 'weights.f32'), Buffer.from(all.buffer));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(spec) + '\n');
  return { params: off, tensors: list.length, graph };
}

/** Runs the Python writer: write.py RAW LAYOUT OUT ...args. */
export function runWriter(raw, layout, out, args = []) {
  const r = spawnSync(PYTHON, [WRITER, raw, layout, out, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`${PYTHON} could not run (Debian's python3-h5py is needed): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tools/fixtures/write.py ${layout} failed: ${r.stderr}`);
}

function usage(msg) {
  if (msg) console.error(`gen-test-weights: ${msg}`);
  console.error('usage: node tools/gen-test-weights.mjs (--raw DIR | --out FILE|DIR [--format h5|tfjs | --layout L]) [--seed N] [--model JSON] [--old-names] [--no-suffix] [--debug [--debug-size N]] [--quiet] [-- WRITER ARGS]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { seed: 1, format: 'h5', oldNames: false, suffix: true, debug: false, debugSize: 96, quiet: false, model: {}, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--') { o.extra = argv.slice(i + 1); break; }
    if (a === '--out') o.out = val();
    else if (a === '--raw') o.raw = val();
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--format') o.format = val();
    else if (a === '--layout') o.layout = val();
    else if (a === '--model') o.model = JSON.parse(val());
    else if (a === '--old-names') o.oldNames = true;
    else if (a === '--no-suffix') o.suffix = false;
    else if (a === '--debug') o.debug = true;
    else if (a === '--debug-size') o.debugSize = Number(val());
    else if (a === '--quiet') o.quiet = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!o.out && !o.raw) usage('--out or --raw is required');
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) usage('--seed must be an integer in 0..2^32-1');
  if (o.format !== 'h5' && o.format !== 'tfjs') usage('--format must be h5 or tfjs');
  return o;
}

async function debugReport(o) {
  const oracle = await import('../tests/oracle/xception.mjs');
  await oracle.initBackend();
  const s = o.debugSize;
  const model = oracle.buildXception(s, s);
  await oracle.loadKerasH5(model, o.out);
  const names = oracle.blockOutputNames(model);
  for (const inSeed of [1, 2, 3]) {
    const x = oracle.randomInput(inSeed, s, s);
    const r = oracle.run(model, x, s, s, names);
    names.forEach((n, b) => {
      const st = oracle.stats(r.acts[n]);
      console.log(`  block${String(b + 1).padEnd(2)} ${n.padEnd(22)} mean ${st.mean.toFixed(3).padStart(7)} std ${st.std.toFixed(3).padStart(7)} max ${st.max.toFixed(2)}`);
    });
    const ls = oracle.stats(r.logits);
    console.log(`  input ${inSeed}: logits mean ${ls.mean.toFixed(3)} std ${ls.std.toFixed(3)}; top5 ${oracle.topK(r.logits, 5).map(([c, v]) => `${c}:${v.toFixed(2)}`).join(' ')}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const log = o.quiet ? () => {} : (...a) => console.log(...a);
  const t0 = Date.now();
  if (o.raw) {
    const r = writeRaw(o.raw, o.seed, o.model);
    log(`gen-test-weights: seed ${o.seed}: ${r.tensors} tensors, ${r.params.toLocaleString('en-US')} parameters -> ${o.raw} (${Date.now() - t0} ms)`);
    return;
  }
  const raw = fs.mkdtempSync(path.join(os.tmpdir(), 'gradcam-raw-'));
  try {
    const r = writeRaw(raw, o.seed, o.model);
    if (!o.layout && r.params !== XCEPTION_PARAMS) throw new Error(`parameter count ${r.params} != ${XCEPTION_PARAMS}`);
    const t1 = Date.now();
    if (o.layout) runWriter(raw, o.layout, o.out, o.extra);
    else if (o.format === 'h5') runWriter(raw, 'keras2', o.out, ['--names', o.oldNames ? 'keras2.1' : 'tf.keras']);
    else runWriter(raw, 'tfjs', o.out, ['--flavour', 'tfjs-layers', ...(o.suffix ? ['--suffix'] : [])]);
    log(`gen-test-weights: seed ${o.seed}, ${o.layout || o.format}${o.oldNames ? ', old names' : ''}: ${r.tensors} tensors, ` +
      `${r.params.toLocaleString('en-US')} parameters -> ${o.out} (generate ${t1 - t0} ms, write ${Date.now() - t1} ms); ` +
      `planted top-5 classes ${plantedClasses(o.seed).join(' ')}`);
  } finally {
    fs.rmSync(raw, { recursive: true, force: true });
  }
  if (o.debug) await debugReport(o);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch((e) => { console.error(`gen-test-weights: ${e.stack || e}`); process.exit(1); });
}
