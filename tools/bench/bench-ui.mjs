#!/usr/bin/env node
// npm run bench:ui - what the demo's controls cost, in headless Chromium (threaded build, 2
// threads, COOP/COEP), on three 299x299 photos with the synthetic test weights, through the
// package's API (tools/bench/ui.mjs): re-rendering the map on screen (gc.render), another
// class at block14 and another layer (explain on the worker's kept forward pass), and Cancel
// of a long method. Prints each target with its median and met / not met, and writes
// test-output/bench/ui-latest.json (rerender_ms, class_switch_block14_ms,
// layer_switch_overhead_ms, cancel_ms, and the details).
//
// Cancel is measured without restartOnAbort: the core stops before its next pass, told by the
// flag the page shares with the worker (cross-origin isolated page).
//
//   node tools/bench/bench-ui.mjs [--runs N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS } from '../test/chromium.mjs';
import { DEFAULT_MOUNTS, startServer } from '../release/serve.mjs';
import { testWeights } from '../fixtures/test-weights.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 7;
if (!Number.isInteger(runs) || runs < 1) { console.error('bench:ui: --runs needs a positive integer'); process.exit(2); }

const weights = testWeights(1).f16;
const server = await startServer({
  port: 0, isolation: true,
  mounts: { ...DEFAULT_MOUNTS, '/tools/bench/': 'tools/bench', '/test-data/': 'build/test-data' },
});
const profile = mkdtempSync(join(tmpdir(), 'gradcam-bench-ui-'));
const foreign = [];
let context;
const log = (s) => console.log(`[bench:ui] ${s}`);
try {
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  await blockForeign(context, new URL(server.url).origin, foreign);
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(0);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/tools/bench/ui.html`);
  await page.waitForFunction(() => document.body.dataset.ready);
  const loadError = await page.evaluate(() => window.loadError);
  if (loadError) throw new Error(loadError);
  const photoUrls = ['cat', 'coffee', 'eagle'].map((s) => `/web/demo/samples/${s}.jpg`);
  const setup = await page.evaluate((a) => window.ui.setup(a), { weightsUrl: `/test-data/${weights.split('/').pop()}`, photoUrls, threads: 2 });
  const load0 = loadavg()[0];
  log(`${setup.info.mode}, ${setup.info.threads} threads, ${setup.photos} photos at 299x299, ${runs} runs each; load average ${load0.toFixed(1)}`);
  const forward = await page.evaluate((n) => window.ui.forward(n), runs);
  log(`forward pass ${forward.toFixed(1)} ms`);
  const rerender = await page.evaluate((n) => window.ui.rerender(n), runs);
  const cls = await page.evaluate((n) => window.ui.classSwitch(n), runs);
  const layers = await page.evaluate((n) => window.ui.layerSwitch(n, ['block13_add', 'block8_add', 'block3_add']), runs);
  // the abort lands inside Integrated Gradients' own passes (after two forward passes' time,
  // spread over the next four), where the core stops before its next pass
  const cancel = await page.evaluate(([n, after, spread]) => window.ui.cancel(n, after, spread),
    [Math.max(5, runs), Math.round(2 * forward + 300), Math.round(4 * forward)]);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  if (foreign.length) throw new Error(`requests left the machine: ${foreign.join(', ')}`);

  const overhead = Math.max(...layers.map((l) => l.overhead));
  const rows = [
    ['re-render (colours, alpha, blend)', rerender.median, 30, '<= 30 ms'],
    ['class switch at block14', cls.median, 50, '<= 50 ms'],
    ['layer switch: total - backward (worst layer)', overhead, 30, '<= backward + 30 ms'],
    ['Cancel -> idle (Integrated Gradients)', cancel.median, forward, `<= one forward pass (${forward.toFixed(0)} ms)`],
    ['Cancel -> idle, worst', Math.max(...cancel.samples), 1.5 * forward, `<= 1.5 forward passes (${(1.5 * forward).toFixed(0)} ms)`],
  ];
  console.log('\ntarget                                          median (ms)   limit                     verdict');
  for (const [name, v, limit, text] of rows) {
    console.log(`${name.padEnd(48)}${v.toFixed(1).padStart(10)}   ${text.padEnd(26)}${v <= limit ? 'met' : 'not met'}`);
  }
  console.log('\nlayer switch, per layer (ms): ' + layers.map((l) => `${l.layer} total ${l.total.toFixed(1)} = backward ${l.backward.toFixed(1)} + ${l.overhead.toFixed(1)}`).join('; '));
  console.log(`machine load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (2 cores: above 2, every figure is slowed)`);
  console.log(`class switch: ${cls.reused} of ${cls.samples} reused the kept forward pass; cancel samples ${cancel.samples.map((x) => x.toFixed(0)).join(', ')} ms`
    + ` (after ${cancel.passes.join(', ')} of 16 passes), worker restarts ${cancel.restarts}, wasm heap ${cancel.heap.map((h) => (h / 2 ** 20).toFixed(0)).join(' -> ')} MB`);
  const out = {
    time: new Date().toISOString(), chromium: context.browser()?.version() ?? null, mode: setup.info.mode, threads: setup.info.threads, runs,
    load_average: [load0, loadavg()[0]], // other work on the machine slows every figure alike
    forward_ms: forward,
    rerender_ms: rerender.median,
    class_switch_block14_ms: cls.median,
    layer_switch_overhead_ms: overhead,
    cancel_ms: cancel.median,
    cancel_worst_ms: Math.max(...cancel.samples),
    cancel_over_forward: cancel.median / forward,
    met: Object.fromEntries(rows.map(([name, v, limit]) => [name, v <= limit])),
    details: { rerender, class_switch: cls, layers, cancel },
  };
  mkdirSync(`${root}test-output/bench`, { recursive: true });
  writeFileSync(`${root}test-output/bench/ui-latest.json`, `${JSON.stringify(out, null, 2)}\n`);
  console.log('\nJSON: test-output/bench/ui-latest.json');
} finally {
  await context?.close().catch(() => {});
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
