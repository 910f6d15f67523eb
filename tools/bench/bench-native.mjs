#!/usr/bin/env node
// npm run bench:native - forward-pass time of one 299x299 image: the native CLI with 1 and 2
// threads, in its default portable arithmetic and with --arithmetic fma, and the WebAssembly
// builds under Node (single-thread build; threaded build with 1 and 2 threads). Median of --runs (default 7) after 2 warm-up runs, plus min and max and
// the achieved GFLOP/s (16.7 GFLOP per forward). Uses the real weights if weights/xception.gcw
// exists, otherwise generated test weights (speed does not depend on the values).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { loadNodeCore, shutdownCore } from '../test/node-core.mjs';
import { testWeights } from '../fixtures/test-weights.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 7;
const warmup = 2;
const GFLOP = 16.7;

if (!existsSync(`${root}build/native/gradcam`) || !existsSync(`${root}build/wasm-mt/gradcam.mjs`)) {
  const r = spawnSync('bash', [`${root}tools/build/build.sh`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const real = `${root}weights/xception.gcw`;
const weights = existsSync(real) ? real : testWeights(1).f16;
console.log(`weights: ${weights}\n${runs} runs after ${warmup} warm-up, 299x299 input\n`);

const rows = [];
function row(name, times) {
  const t = [...times].sort((a, b) => a - b);
  const med = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
  rows.push({ name, med, min: t[0], max: t[t.length - 1] });
  console.log(`${name.padEnd(34)} median ${med.toFixed(1).padStart(7)} ms  (min ${t[0].toFixed(1)}, max ${t[t.length - 1].toFixed(1)})  ${(GFLOP / (med / 1000)).toFixed(1).padStart(5)} GFLOP/s`);
}

// the native CLI with its default portable arithmetic (the WebAssembly build's floats) and with
// XNNPACK's fused multiply-add kernels (--arithmetic fma), interleaved so both see the same load
for (const threads of [1, 2]) {
  for (const arith of ['portable', 'fma']) {
    const r = spawnSync(`${root}build/native/gradcam`, ['bench', '--weights', weights, '--threads', String(threads),
      '--runs', String(runs), '--warmup', String(warmup), '--arithmetic', arith, '--json'], { encoding: 'utf8' });
    if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
    const j = JSON.parse(r.stdout);
    const name = `native ${arith}, ${threads} thread(s)`;
    rows.push({ name, med: j.median_ms, min: j.min_ms, max: j.max_ms });
    console.log(`${name.padEnd(34)} median ${j.median_ms.toFixed(1).padStart(7)} ms  (min ${j.min_ms.toFixed(1)}, max ${j.max_ms.toFixed(1)})  ${j.gflops.toFixed(1).padStart(5)} GFLOP/s`);
  }
}

const bytes = readFileSync(weights);
const x = new Float32Array(299 * 299 * 3).map((_, i) => Math.sin(i * 0.37));
for (const [flavour, threads] of [['st', 1], ['mt', 1], ['mt', 2]]) {
  const core = await loadNodeCore(flavour);
  core.load(bytes, { threads });
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    core.forwardTensor(x, 299, 299);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  row(`wasm-${flavour} (Node), ${core.threads()} thread(s)`, times);
  shutdownCore(core);
}
const med = (name) => rows.find((r) => r.name === name).med;
const n1 = med('native portable, 1 thread(s)');
console.log(`\nnative portable / fma arithmetic: ${(n1 / med('native fma, 1 thread(s)')).toFixed(2)}x (1 thread), `
  + `${(med('native portable, 2 thread(s)') / med('native fma, 2 thread(s)')).toFixed(2)}x (2 threads)`);
console.log(`wasm-st / native portable (1 thread): ${(med('wasm-st (Node), 1 thread(s)') / n1).toFixed(2)}x;  `
  + `native 2 threads speed-up: ${(n1 / med('native portable, 2 thread(s)')).toFixed(2)}x;  `
  + `wasm-mt 2 threads speed-up over wasm-st: ${(med('wasm-st (Node), 1 thread(s)') / med('wasm-mt (Node), 2 thread(s)')).toFixed(2)}x`);
