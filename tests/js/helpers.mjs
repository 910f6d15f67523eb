// helpers.mjs - shared by the Node tests: paths, the native CLI, generated test weights,
// and comparison metrics.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

export { testWeights } from '../../tools/fixtures/test-weights.mjs';
import { createNodeEngine } from '../../tools/test/node-core.mjs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const dataDir = `${root}build/test-data`;
export const imagesDir = `${root}tests/data/images`;
export const cliPath = `${root}build/native/gradcam`;

mkdirSync(dataDir, { recursive: true });

/** Run the native CLI; returns {status, stdout, stderr, json?}. */
export function cli(args, { json = false } = {}) {
  const r = spawnSync(cliPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  if (json && r.status === 0) out.json = JSON.parse(r.stdout);
  return out;
}

/** Run a Node script of the project; returns {status, stdout, stderr}. */
export function node(script, args = [], env = {}) {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function readF32(path) {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

/** Relative L2 error ||a - b|| / ||b||, b being the reference. */
export function relL2(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return Math.sqrt(num / (den || 1e-30));
}

/** {n: values that differ, max: largest difference} of two arrays of the same length (pixels). */
export function pixelDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let n = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) { n++; if (d > max) max = d; }
  }
  return { n, max };
}

export function maxAbs(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function topK(logits, k = 5) {
  return Array.from(logits.keys()).sort((x, y) => logits[y] - logits[x] || x - y).slice(0, k);
}

/** Deterministic input in [-1, 1] (xorshift32), NHWC. */
export function randomTensor(seed, h, w) {
  let s = seed >>> 0 || 1;
  const x = new Float32Array(h * w * 3);
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    x[i] = (s / 4294967296) * 2 - 1;
  }
  return x;
}

/** The npm package's engine (web/engine.js) on the single-thread wasm build, as its worker runs it. */
export { createNodeEngine } from '../../tools/test/node-core.mjs';
export const createSingleEngine = () => createNodeEngine('st');
