#!/usr/bin/env node
// npm run bench - this project against TF.js and the machine's ceiling, in one headless
// Chromium (Debian's /usr/bin/chromium through playwright-core, fresh profile), on a page served
// from 127.0.0.1 with COOP/COEP (threads), 299x299 input, 2 threads for everyone:
//   - the peak of wasm SIMD arithmetic (independent f32x4 multiply + add chains, no memory
//     traffic; tools/bench/peak.mjs), swept over the number of chains, per thread and 2 at once
//   - this project's threaded wasm core (forward; Grad-CAM at block14 and block8; saliency;
//     Guided Grad-CAM)
//   - TF.js 4.22 on its wasm backend (threaded SIMD build from node_modules, 2 threads set with
//     tf.wasm.setThreadsCount) running Keras Xception built with tf.layers
//     (tests/oracle/xception.mjs) with the same weights (forward; Grad-CAM at block14 by tf.grad;
//     the input gradient, or the cpu backend when the wasm backend lacks a gradient kernel)
//   - the native CLI of this project (gradcam bench), same weights, same input values
//   - time to the first explanation from a cold page (the npm package's worker API)
// The forward passes of the two wasm contenders alternate run by run, so that background load
// hits both alike. Prints a table and writes test-output/bench/bench-<time>.json (and
// latest.json). Same synthetic weights for everyone (tools/fixtures/test-weights.mjs, seed 1; speed does
// not depend on the values).
//
//   node tools/bench/bench.mjs [--runs N (7)] [--warmup N (2)] [--threads N (2)] [--no-native]
//                        [--no-tfjs] [--no-cpu-fallback] [--no-cold] [--cold-runs N (5)] [--quick]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS } from '../test/chromium.mjs';
import { DEFAULT_MOUNTS, startServer } from '../release/serve.mjs';
import { testWeights } from '../fixtures/test-weights.mjs';
import { benchImageRGBA } from './input.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const GFLOP = 16.7; // per 299x299 forward pass
const outDir = `${root}test-output/bench`;

// ---- options ----------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const quick = argv.includes('--quick');
const RUNS = opt('--runs', quick ? 3 : 7);
const WARMUP = opt('--warmup', quick ? 1 : 2);
const THREADS = opt('--threads', 2);
const withNative = !argv.includes('--no-native');
const withTf = !argv.includes('--no-tfjs');
const withCpuFallback = withTf && !argv.includes('--no-cpu-fallback');
const withCold = !argv.includes('--no-cold');
const COLD_RUNS = opt('--cold-runs', quick ? 1 : 5);
if (!(RUNS >= 1 && WARMUP >= 0 && THREADS >= 1)) {
  console.error('usage: node tools/bench/bench.mjs [--runs N] [--warmup N] [--threads N] [--no-native] [--no-tfjs] [--no-cpu-fallback] [--no-cold] [--cold-runs N] [--quick]');
  process.exit(2);
}

const log = (s) => process.stderr.write(`[bench] ${s}\n`);
const stats = (a) => {
  const t = [...a].sort((x, y) => x - y);
  const med = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
  return { median: med, min: t[0], max: t[t.length - 1], n: t.length, runs: a };
};

// ---- build, weights -----------------------------------------------------------------------------
const NEEDED = ['build/native/gradcam', 'build/wasm-mt/gradcam.mjs', 'build/wasm-mt/gradcam.wasm', 'build/wasm-st/gradcam.wasm'];
if (NEEDED.some((f) => !existsSync(root + f))) {
  log('building (tools/build/build.sh)');
  const r = spawnSync('bash', [`${root}tools/build/build.sh`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
if (withTf && !existsSync(`${root}node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm`)) {
  console.error('node_modules/@tensorflow/tfjs-backend-wasm is missing: run npm ci (it is a dev dependency)');
  process.exit(1);
}
const tw = testWeights(1);
const weights = tw.f32; // float32 file: the very values TF.js gets
mkdirSync(`${outDir}/data`, { recursive: true });

/** TF.js: the same .h5 assigned by the oracle (Keras' order rules), saved in model.weights order. */
async function tfjsWeights() {
  const base = `${outDir}/data/tfjs-seed1`;
  if (existsSync(`${base}.bin`) && existsSync(`${base}.json`) && statSync(`${base}.bin`).mtimeMs >= statSync(tw.h5).mtimeMs) return base;
  log('writing the TF.js copy of the weights (oracle loader, model.weights order)');
  const { buildXception, initBackend, loadKerasH5 } = await import('../../tests/oracle/xception.mjs');
  await initBackend();
  const model = buildXception(299, 299);
  await loadKerasH5(model, tw.h5);
  const manifest = [];
  const parts = [];
  for (const w of model.weights) {
    const v = w.read();
    parts.push(Buffer.from(v.dataSync().buffer.slice(0)));
    manifest.push({ name: w.name, shape: v.shape });
  }
  writeFileSync(`${base}.bin`, Buffer.concat(parts));
  writeFileSync(`${base}.json`, JSON.stringify(manifest));
  return base;
}

// ---- native CLI ---------------------------------------------------------------------------------
const CASES = [
  { key: 'gradcam_block14', label: 'Grad-CAM block14', method: 'gradcam', layer: 'block14_sepconv2_act', target: 1.05 },
  { key: 'gradcam_block8', label: 'Grad-CAM block8', method: 'gradcam', layer: 'block8_sepconv3_act', target: 2.0 },
  { key: 'saliency', label: 'input gradient (saliency)', method: 'saliency', target: 2.5 },
  { key: 'guided_gradcam', label: 'Guided Grad-CAM (block14)', method: 'guided-gradcam', layer: 'block14_sepconv2_act' },
];

function nativeBench(extra = []) {
  const r = spawnSync(`${root}build/native/gradcam`, ['bench', '--weights', weights, '--threads', String(THREADS),
    '--runs', String(RUNS), '--warmup', String(Math.max(1, WARMUP)), '--json', ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gradcam bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---- sizes ----------------------------------------------------------------------------------------
function sizeOf(rel) {
  const f = root + rel;
  if (!existsSync(f)) return null;
  const b = readFileSync(f);
  return { file: rel, bytes: b.length, gzip_bytes: gzipSync(b, { level: 9 }).length };
}

// ---- the run ----------------------------------------------------------------------------------------
const result = {
  date: new Date().toISOString(), runs: RUNS, warmup: WARMUP, threads: THREADS, input: '299x299x3, LCG seed 12345 (as gradcam bench)',
  weights: weights.replace(root, ''), gflop_per_forward: GFLOP, host: {},
};

const tfBase = withTf ? await tfjsWeights() : null;

if (withNative) {
  log(`native CLI: forward and explanations (${THREADS} threads, ${RUNS} runs)`);
  const f = nativeBench();
  result.native = { forward: { median: f.median_ms, min: f.min_ms, max: f.max_ms, n: f.runs }, threads: f.threads,
    arithmetic: f.arithmetic, explain: {} };
  for (const c of CASES) {
    const j = nativeBench(['--method', c.method, ...(c.layer ? ['--layer', c.layer] : [])]);
    result.native.explain[c.key] = { forward_ms: j.median_ms, explain_ms: j.explain_ms, ratio: j.ratio };
  }
}

const server = await startServer({
  port: 0, isolation: true,
  mounts: { ...DEFAULT_MOUNTS, '/tools/bench/': 'tools/bench', '/tests/oracle/': 'tests/oracle',
    '/node_modules/@tensorflow/': 'node_modules/@tensorflow', '/bench-data/': 'test-output/bench/data',
    '/test-data/': 'build/test-data' },
});
const profile = mkdtempSync(join(tmpdir(), 'gradcam-bench-chromium-'));
let context;
const foreign = [];
try {
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  result.host.chromium = context.browser()?.version() ?? null;
  const origin = new URL(server.url).origin;
  await blockForeign(context, origin, foreign);
  const errors = [];
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  };

  // 1. cold start first: nothing has been fetched or compiled in this fresh profile yet. One
  // sample is noisy, so COLD_RUNS more come from browsers with their own fresh profiles (no
  // HTTP or compiled-code cache); the median of all is reported, with min and max.
  if (withCold) {
    log(`cold start: GradCam.load + loadWeights + first explain on a fresh page (${COLD_RUNS} fresh browsers)`);
    const coldArgs = { weightsUrl: `/test-data/${weights.split('/').pop()}`, input: Array.from(benchImageRGBA()), threads: THREADS };
    const coldOnce = async (ctx) => {
      const page = ctx.pages()[0] || await ctx.newPage();
      watch(page);
      await page.goto(`${server.url}/tools/bench/cold.html`);
      await page.waitForFunction(() => document.body.dataset.ready);
      const r = await page.evaluate((a) => window.coldStart(a), coldArgs);
      await page.close();
      return r;
    };
    const samples = [await coldOnce(context)];
    for (let i = 1; i < COLD_RUNS; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'gradcam-bench-cold-'));
      const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      try {
        await blockForeign(ctx, origin, foreign);
        samples.push(await coldOnce(ctx));
      } finally {
        await ctx.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    samples.sort((a, b) => a.total_ms - b.total_ms);
    result.cold = { ...samples[(samples.length - 1) >> 1], runs: samples.length,
      min_ms: samples[0].total_ms, max_ms: samples[samples.length - 1].total_ms, samples };
  }

  // 2. the benchmark page
  const page = await context.newPage();
  watch(page);
  page.setDefaultTimeout(0);
  await page.goto(`${server.url}/tools/bench/page.html`);
  await page.waitForFunction(() => document.body.dataset.ready);
  const loadError = await page.evaluate(() => window.loadError);
  if (loadError) throw new Error(`benchmark page: ${loadError}`);
  const ev = (fn, arg) => page.evaluate(([f, a]) => window.bench[f](a), [fn, arg]);
  result.host.hardware_concurrency = await page.evaluate(() => navigator.hardwareConcurrency);
  result.host.cross_origin_isolated = await page.evaluate(() => crossOriginIsolated);

  log('peak: f32x4 multiply + add chains (1 worker thread, then 2 at once)');
  result.peak = await ev('peak', { counts: [1, 2, 4, 6, 8, 10, 11, 12, 13, 14, 16], unroll: 4, reps: 7, ms: 50, threads: THREADS });

  log('this project: instantiate and load the weights');
  result.ours = { init: await ev('oursInit', { weightsUrl: `/test-data/${weights.split('/').pop()}`, threads: THREADS }) };
  if (withTf) {
    log('TF.js: wasm backend, model, weights');
    result.tfjs = { init: await ev('tfInit', { weightsUrl: `/bench-data/${tfBase.split('/').pop()}`, threads: THREADS }) };
  }

  log(`forward passes, alternating (${WARMUP} warm-up + ${RUNS} runs each)`);
  const fo = [], ft = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const a = await ev('oursForward');
    const b = withTf ? await ev('tfForward') : null;
    if (i >= WARMUP) { fo.push(a); if (withTf) ft.push(b); }
  }
  result.ours.forward = stats(fo);
  result.ours.top1 = await ev('oursTop1');
  result.ours.heap_bytes_after_forward = await ev('oursHeapBytes');
  if (withTf) {
    result.tfjs.forward = stats(ft);
    result.tfjs.top1 = await ev('tfTop1');
  }

  log('explanations (ours): forward then explain, 1 warm-up');
  result.ours.explain = {};
  for (const c of CASES) {
    const f = [], e = [];
    for (let i = 0; i < 1 + RUNS; i++) {
      const [a, b] = await ev('oursExplain', { method: c.method, layer: c.layer });
      if (i > 0) { f.push(a); e.push(b); }
    }
    const fs = stats(f), es = stats(e);
    result.ours.explain[c.key] = { forward: fs, explain: es, ratio: (fs.median + es.median) / fs.median };
  }
  result.ours.heap_bytes = await ev('oursHeapBytes');

  if (withTf) {
    log('TF.js: Grad-CAM at block14 by tf.grad');
    const g = [];
    for (let i = 0; i < 1 + RUNS; i++) {
      const r = await ev('tfTry', 'tfGradcam14');
      if (!r.ok) { result.tfjs.gradcam_block14 = { error: r.error }; break; }
      if (i > 0) g.push(r.ms);
    }
    if (!result.tfjs.gradcam_block14) result.tfjs.gradcam_block14 = stats(g);
    result.tfjs.memory = await ev('tfHeapBytes'); // before the input gradient (which may fail mid-way)
    log('TF.js: input gradient on the wasm backend');
    const timeSaliency = async () => {
      const t = [];
      for (let i = 0; i < 1 + Math.min(RUNS, 5); i++) {
        const r = await ev('tfTry', 'tfSaliency');
        if (!r.ok) return { error: r.error };
        if (i > 0) t.push(r.ms);
      }
      return stats(t);
    };
    const plain = await timeSaliency();
    if (!plain.error) {
      result.tfjs.saliency = { backend: 'wasm', ...plain };
    } else {
      result.tfjs.saliency = { backend: 'wasm', unsupported: true, error: plain.error };
      if (withCpuFallback) {
        log('TF.js: input gradient on the cpu backend (the fallback; slow, one run)');
        result.tfjs.saliency.cpu_fallback = stats(await ev('tfCpuSaliency'));
      }
      log('TF.js: input gradient on the wasm backend with the gradient workaround');
      await ev('tfInstallGradShims');
      const shim = await timeSaliency();
      result.tfjs.saliency.wasm_workaround = { ...shim, max_rel_diff_vs_cpu: shim.error ? null : await ev('tfCheckSaliency') };
    }
  }
  result.browser_errors = errors;
} finally {
  await context?.close().catch(() => {});
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
result.foreign_requests = foreign;

result.sizes = {
  ours: ['build/wasm-mt/gradcam.wasm', 'build/wasm-st/gradcam.wasm', 'build/wasm-mt/gradcam.mjs', 'build/wasm-mt/gradcam.worker.js'].map(sizeOf).filter(Boolean),
  tfjs: ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
    'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'].map(sizeOf).filter(Boolean),
};

// ---- derived figures ------------------------------------------------------------------------------
const ours = result.ours.forward.median;
const gflops = (ms) => GFLOP / (ms / 1000);
const d = result.derived = {
  ours_gflops: gflops(ours),
  peak_per_thread_gflops: result.peak.per_thread_gflops,
  peak_x_threads_gflops: result.peak.per_thread_gflops * THREADS,
  ours_fraction_of_peak: gflops(ours) / (result.peak.per_thread_gflops * THREADS),
  // the ceiling measured with all threads at once, at that moment (other load on the machine shows here)
  ours_fraction_of_concurrent_peak: gflops(ours) / result.peak.concurrent_total_gflops,
};
if (result.tfjs) {
  d.tfjs_gflops = gflops(result.tfjs.forward.median);
  d.tfjs_fraction_of_peak = d.tfjs_gflops / d.peak_x_threads_gflops;
  d.tfjs_fraction_of_concurrent_peak = d.tfjs_gflops / result.peak.concurrent_total_gflops;
  d.ours_over_tfjs = ours / result.tfjs.forward.median;
  d.same_top1 = result.ours.top1.index === result.tfjs.top1.index;
  if (result.tfjs.gradcam_block14.median) d.tfjs_gradcam14_over_forward = result.tfjs.gradcam_block14.median / result.tfjs.forward.median;
}
if (result.native) {
  d.native_gflops = gflops(result.native.forward.median);
  d.ours_over_native = ours / result.native.forward.median;
}
d.targets = {
  forward_vs_tfjs: result.tfjs ? { target: 0.7, value: d.ours_over_tfjs, met: d.ours_over_tfjs <= 0.7 } : null,
  ...Object.fromEntries(CASES.filter((c) => c.target).map((c) => {
    const v = result.ours.explain[c.key].ratio;
    return [c.key, { target: c.target, value: v, met: v <= c.target }];
  })),
};

// ---- table ----------------------------------------------------------------------------------------
const f1 = (x) => (x == null ? '-' : x.toFixed(1));
const f2 = (x) => (x == null ? '-' : x.toFixed(2));
const lines = [];
const out = (s = '') => lines.push(s);
const row = (name, s, note = '') => out(`${name.padEnd(44)} ${f1(s.median).padStart(8)} ${f1(s.min).padStart(8)} ${f1(s.max).padStart(8)}   ${note}`);
out(`xception-gradcam benchmark, ${result.date}`);
out(`Chromium ${result.host.chromium} headless, cross-origin isolated: ${result.host.cross_origin_isolated}, `
  + `hardwareConcurrency ${result.host.hardware_concurrency}; ${THREADS} threads everywhere; 299x299; `
  + `median of ${RUNS} after ${WARMUP} warm-up (explanations: 1 warm-up)`);
out(`weights: ${result.weights} (synthetic, seed 1; TF.js gets the same values from the .h5)`);
out();
out(`${'forward pass'.padEnd(44)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}   (ms)`);
row(`ours, wasm SIMD+threads (${result.ours.init.threads} thr)`, result.ours.forward,
  `${f1(d.ours_gflops)} GFLOP/s = ${(100 * d.ours_fraction_of_peak).toFixed(0)}% of peak x ${THREADS} (${(100 * d.ours_fraction_of_concurrent_peak).toFixed(0)}% of the ${THREADS}-thread peak measured at once)`);
if (result.tfjs) {
  const i = result.tfjs.init;
  row(`TF.js ${i.version} ${i.backend} (${i.threads} thr, simd ${i.simd}, mt ${i.multithread})`, result.tfjs.forward,
    `${f1(d.tfjs_gflops)} GFLOP/s = ${(100 * d.tfjs_fraction_of_peak).toFixed(0)}% of peak x ${THREADS} (${(100 * d.tfjs_fraction_of_concurrent_peak).toFixed(0)}%)`);
}
if (result.native) row(`native CLI (gcc, ${result.native.threads} thr, ${result.native.arithmetic})`, result.native.forward, `${f1(d.native_gflops)} GFLOP/s`);
out(`(ours: instantiate ${f1(result.ours.init.instantiate_ms)} ms, load + pack weights ${f1(result.ours.init.load_ms)} ms`
  + `${result.tfjs ? `; TF.js: backend start ${f1(result.tfjs.init.init_ms)} ms, build + set weights ${f1(result.tfjs.init.build_ms)} ms; threads: ${result.tfjs.init.threads_how}` : ''})`);
out();
if (result.tfjs) out(`ours / TF.js forward      ${f2(d.ours_over_tfjs)}   (target <= 0.70: ${d.ours_over_tfjs <= 0.7 ? 'met' : 'MISSED'}; same top-1 class: ${d.same_top1 ? 'yes' : 'NO'} (${result.ours.top1.index} / ${result.tfjs.top1.index}))`);
if (result.native) out(`ours / native forward     ${f2(d.ours_over_native)}`);
out(`peak wasm SIMD           ${f1(d.peak_per_thread_gflops)} GFLOP/s per thread (best at ${result.peak.best_chains} chains; `
  + `sweep ${result.peak.sweep.map((s) => `${s.chains}:${s.gflops.toFixed(1)}`).join(' ')}); `
  + `${THREADS} threads at once: ${result.peak.concurrent.map(f1).join(' + ')} = ${f1(result.peak.concurrent_total_gflops)}`);
out();
out(`${'explanation (forward + explain)'.padEnd(44)} ${'explain'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}   ratio to forward`);
for (const c of CASES) {
  const e = result.ours.explain[c.key];
  const nat = result.native?.explain[c.key];
  out(`${`ours ${c.label}`.padEnd(44)} ${f1(e.explain.median).padStart(8)} ${f1(e.explain.min).padStart(8)} ${f1(e.explain.max).padStart(8)}   `
    + `${f2(e.ratio)}${c.target ? ` (target <= ${c.target}: ${e.ratio <= c.target ? 'met' : 'MISSED'})` : ''}`
    + `${nat ? `   native ${f2(nat.ratio)}` : ''}`);
}
if (result.tfjs) {
  const g = result.tfjs.gradcam_block14;
  if (g.error) out(`${'TF.js Grad-CAM block14 (tf.grad)'.padEnd(44)} error: ${g.error}`);
  else out(`${'TF.js Grad-CAM block14 (tf.grad), total'.padEnd(44)} ${f1(g.median).padStart(8)} ${f1(g.min).padStart(8)} ${f1(g.max).padStart(8)}   ${f2(d.tfjs_gradcam14_over_forward)}   ours / TF.js ${f2((result.ours.forward.median * result.ours.explain.gradcam_block14.ratio) / g.median)}`);
  const s = result.tfjs.saliency;
  const sal = (label, t) => out(`${label.padEnd(44)} ${f1(t.median).padStart(8)} ${f1(t.min).padStart(8)} ${f1(t.max).padStart(8)}   `
    + `${f2(t.median / result.tfjs.forward.median)}   ours / TF.js ${f2((result.ours.forward.median * result.ours.explain.saliency.ratio) / t.median)}`);
  if (s.unsupported) {
    out(`${'TF.js input gradient, wasm backend'.padEnd(44)} unsupported: ${s.error}`);
    if (s.cpu_fallback) out(`${'TF.js input gradient, cpu backend fallback'.padEnd(44)} ${f1(s.cpu_fallback.median).padStart(8)}   (1 run)           ${f2(s.cpu_fallback.median / result.tfjs.forward.median)}`);
    const w = s.wasm_workaround;
    if (w && w.error) out(`${'TF.js input gradient, wasm + workaround'.padEnd(44)} error: ${w.error}`);
    else if (w) {
      sal('TF.js input gradient, wasm + workaround (*)', w);
      out(`  (*) depthwise input gradient = depthwise conv with the rotated kernel; Conv2DBackpropFilter (asked for eagerly by tf.fused.conv2d, unused) returns zeros`
        + `${w.max_rel_diff_vs_cpu != null ? `; map vs cpu backend: max diff ${w.max_rel_diff_vs_cpu.toExponential(1)} of its max`
          + `${w.max_rel_diff_vs_cpu > 1e-2 ? ' (DISAGREES: the time is indicative only)' : ''}` : ''}`);
    }
  } else {
    sal('TF.js input gradient (tf.grad), total', s);
  }
}
out();
if (result.cold) {
  const c = result.cold;
  out(`time to first explanation, cold page (download excluded), median of ${c.runs} fresh browsers: ${f1(c.total_ms)} ms`
    + ` (min ${f1(c.min_ms)}, max ${f1(c.max_ms)}) = worker + compile ${f1(c.start_compile_ms)}`
    + ` + weights load/pack ${f1(c.weights_ms)} + first Grad-CAM ${f1(c.first_explain_ms)} (${c.mode}, ${c.threads} threads)`);
  // target: at most two forward passes (warm, this run) plus the weight decode (load/pack)
  const limit = 2 * result.ours.forward.median + c.weights_ms;
  c.limit_ms = limit;
  out(`  target <= 2 x forward + weights load/pack = ${f1(limit)} ms: ${c.total_ms <= limit ? 'met' : 'MISSED'}`
    + ` (ratio ${f2(c.total_ms / limit)}; the first Grad-CAM takes ${f2(c.first_explain_ms / result.ours.forward.median)} x a warm forward)`);
}
out(`wasm files: ${result.sizes.ours.filter((s) => s.file.endsWith('.wasm')).map((s) => `${s.file.replace('build/', '')} ${(s.bytes / 1024).toFixed(0)} KB (gzip ${(s.gzip_bytes / 1024).toFixed(0)} KB)`).join(', ')}`
  + `; TF.js ${result.sizes.tfjs.map((s) => `${s.file.split('/').pop()} ${(s.bytes / 1024).toFixed(0)} KB (gzip ${(s.gzip_bytes / 1024).toFixed(0)} KB)`).join(', ')}`);
out(`peak wasm heap: ours ${(result.ours.heap_bytes_after_forward / 2 ** 20).toFixed(0)} MB after forward passes, ${(result.ours.heap_bytes / 2 ** 20).toFixed(0)} MB after all explanations`
  + `${result.tfjs?.memory?.heap_bytes ? `; TF.js ${(result.tfjs.memory.heap_bytes / 2 ** 20).toFixed(0)} MB (tensors live at the end: ${(result.tfjs.memory.tensors_bytes / 2 ** 20).toFixed(0)} MB)` : ''}`);
if (result.foreign_requests.length) out(`WARNING: requests not for 127.0.0.1 were refused: ${result.foreign_requests.join(', ')}`);
if (result.browser_errors?.length) out(`browser errors: ${result.browser_errors.slice(0, 5).join(' | ')}`);

const text = lines.join('\n');
console.log(text);
result.table = text;
const stamp = result.date.replace(/[:.]/g, '-');
writeFileSync(`${outDir}/bench-${stamp}.json`, `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(`${outDir}/latest.json`, `${JSON.stringify(result, null, 1)}\n`);
console.log(`\nJSON: test-output/bench/bench-${stamp}.json (and latest.json)`);
