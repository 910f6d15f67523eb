#!/usr/bin/env node
// npm run bench:explain - time of each explanation after a forward pass, native and
// WebAssembly (threaded build under Node), 2 threads, 299x299, as (forward + explain) / forward.
// Targets: Grad-CAM at block14 <= 1.05, at any layer <= 2.0, input gradient <= 2.5.
// Median of --runs (default 5) after 1 warm-up run (which also creates the backward operators).
// --native-only / --wasm-only, --case TEXT (only cases whose label contains TEXT).
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNodeCore, shutdownCore } from '../test/node-core.mjs';
import { testWeights } from '../fixtures/test-weights.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 5;
// --case TEXT: only the cases whose label contains TEXT (repeatable)
const caseFilter = process.argv.flatMap((a, i) => (a === '--case' ? [process.argv[i + 1]] : []));
const only = process.argv.includes('--native-only') ? 'native' : process.argv.includes('--wasm-only') ? 'wasm' : null;

if (!existsSync(`${root}build/native/gradcam`) || !existsSync(`${root}build/wasm-mt/gradcam.mjs`)) {
  const r = spawnSync('bash', [`${root}tools/build/build.sh`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const real = `${root}weights/xception.gcw`;
const weights = existsSync(real) ? real : testWeights(1).f16;

const CASES = [
  { label: 'Grad-CAM block14 (fast path)', method: 'gradcam', layer: 'block14_sepconv2_act', target: 1.05 },
  { label: 'Grad-CAM block8', method: 'gradcam', layer: 'block8_sepconv3_act', target: 2.0 },
  { label: 'Grad-CAM block3', method: 'gradcam', layer: 'block3_sepconv2_act', target: 2.0 },
  // the earliest selectable layer: the backward pass crosses every convolution but the first
  { label: 'Grad-CAM block1_conv1', method: 'gradcam', layer: 'block1_conv1_act', target: 2.0 },
  { label: 'input gradient (saliency)', method: 'saliency', target: 2.5 },
  { label: 'Guided Grad-CAM (block14)', method: 'guided-gradcam', layer: 'block14_sepconv2_act' },
  { label: 'SmoothGrad n=8', method: 'smoothgrad', samples: 8 },
  { label: 'Score-CAM N=32 (block14)', method: 'scorecam', layer: 'block14_sepconv2_act', channels: 32 },
].filter((c) => !caseFilter.length || caseFilter.some((f) => c.label.includes(f)));
if (!CASES.length) {
  console.error(`bench-explain: no case label contains ${caseFilter.map((f) => `'${f}'`).join(' or ')}`);
  process.exit(2);
}

const median = (a) => {
  const t = [...a].sort((x, y) => x - y);
  return t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
};
const line = (who, c, fwd, ex) => {
  const ratio = (fwd + ex) / fwd;
  const verdict = c.target ? (ratio <= c.target ? `  (target <= ${c.target}: met)` : `  (target <= ${c.target}: MISSED)`) : '';
  console.log(`${who.padEnd(7)} ${c.label.padEnd(30)} forward ${fwd.toFixed(0).padStart(5)} ms  explain ${ex.toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(2)}${verdict}`);
};

console.log(`weights: ${weights}; 299x299; 2 threads; median of ${runs} runs after 1 warm-up\n`);
if (only !== 'wasm') {
  for (const c of CASES) {
    const args = ['bench', '--weights', weights, '--threads', '2', '--runs', String(runs), '--warmup', '1', '--json',
      '--method', c.method];
    if (c.layer) args.push('--layer', c.layer);
    if (c.samples) args.push('--samples', String(c.samples));
    if (c.channels) args.push('--channels', String(c.channels));
    const r = spawnSync(`${root}build/native/gradcam`, args, { encoding: 'utf8' });
    if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
    const j = JSON.parse(r.stdout);
    line('native', c, j.median_ms, j.explain_ms);
  }
}
if (only !== 'native') {
  const core = await loadNodeCore('mt');
  core.load(readFileSync(weights), { threads: 2 });
  const x = new Float32Array(299 * 299 * 3).map((_, i) => Math.sin(i * 0.37));
  for (const c of CASES) {
    const f = [];
    const e = [];
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      core.forwardTensor(x, 299, 299);
      const t1 = performance.now();
      core.explain({ method: c.method, layer: c.layer, ...(c.samples ? { samples: c.samples } : {}), ...(c.channels ? { channels: c.channels } : {}) });
      if (i > 0) { f.push(t1 - t0); e.push(performance.now() - t1); }
    }
    line('wasm', c, median(f), median(e));
  }
  shutdownCore(core);
}
