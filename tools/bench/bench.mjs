#!/usr/bin/env node
// npm run bench - this project against TF.js, ONNX Runtime Web and the machine's ceiling, in one headless
// Chromium (Debian's /usr/bin/chromium through playwright-core, fresh profile), on a page served
// from 127.0.0.1 with COOP/COEP (threads), 299x299 input, 2 threads for everyone:
//   - the peak of wasm SIMD arithmetic (independent f32x4 multiply + add chains, no memory
//     traffic; tools/bench/peak.mjs), swept over the number of chains, per thread and 2 at once;
//     where relaxed SIMD validates, also of f32x4.relaxed_madd chains (fused multiply-add)
//   - this project's threaded wasm core, the build the package takes in this browser (relaxed
//     SIMD where it validates, else SIMD): forward; Grad-CAM at block14 and block8; saliency;
//     Guided Grad-CAM
//   - TF.js 4.22 on its wasm backend (threaded SIMD build from node_modules, 2 threads set with
//     tf.wasm.setThreadsCount) running Keras Xception built with tf.layers
//     (tests/oracle/xception.mjs) with the same weights (forward; Grad-CAM at block14 by tf.grad;
//     the input gradient, or the cpu backend when the wasm backend lacks a gradient kernel)
//   - ONNX Runtime Web (wasm execution provider, threaded SIMD, 2 threads, files served from
//     node_modules) on the same network written as an ONNX file from the same weights
//     (tools/bench/onnx.mjs); its logits must match ours to 1e-4 (rel L2) before it is timed
//   - the native CLI of this project (gradcam bench), same weights, same input values
//   - time to the first explanation from a cold page (the npm package's worker API)
// The forward passes of the wasm contenders alternate run by run, so that background load hits
// them alike. Prints a table and writes test-output/bench/bench-<time>.json (and latest.json). Same synthetic weights for everyone (tools/fixtures/test-weights.mjs, seed 1; speed does
// not depend on the values).
//
//   node tools/bench/bench.mjs [--runs N (7)] [--warmup N (2)] [--threads N (2)] [--no-native]
//                        [--no-tfjs] [--no-ort] [--no-cpu-fallback] [--no-cold] [--cold-runs N (5)] [--quick]
//                        [--no-readme]
//   node tools/bench/bench.mjs --readme-from FILE.json   (README.md's block from a saved result, nothing measured)
// A run without --quick or --no-readme writes its table into README.md's bench block (the one
// home of the latest figures; report.mjs benchBlock, gen-methods' writeBlock).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS } from '../test/chromium.mjs';
import { DEFAULT_MOUNTS, startServer } from '../release/serve.mjs';
import { testWeights } from '../fixtures/test-weights.mjs';
import { benchImageRGBA } from './input.mjs';
import { BENCH_BY, benchBlock, benchTable } from './report.mjs';
import { writeBlock } from '../release/gen-methods.mjs';

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
/** README.md's bench block from a result (the one writer of those figures). */
function writeReadme(result) {
  writeBlock('README.md', 'bench', benchBlock(result), BENCH_BY);
  console.log('README.md: its bench block now shows this run');
}
if (argv.includes('--readme-from')) {
  writeReadme(JSON.parse(readFileSync(argv[argv.indexOf('--readme-from') + 1], 'utf8')));
  process.exit(0);
}
const RUNS = opt('--runs', quick ? 3 : 7);
const WARMUP = opt('--warmup', quick ? 1 : 2);
const THREADS = opt('--threads', 2);
const withNative = !argv.includes('--no-native');
const withTf = !argv.includes('--no-tfjs');
const withOrt = !argv.includes('--no-ort');
const withCpuFallback = withTf && !argv.includes('--no-cpu-fallback');
const withCold = !argv.includes('--no-cold');
const COLD_RUNS = opt('--cold-runs', quick ? 1 : 5);
if (!(RUNS >= 1 && WARMUP >= 0 && THREADS >= 1)) {
  console.error('usage: node tools/bench/bench.mjs [--runs N] [--warmup N] [--threads N] [--no-native] [--no-tfjs] [--no-ort] [--no-cpu-fallback] [--no-cold] [--cold-runs N] [--quick] [--no-readme] | --readme-from FILE.json');
  process.exit(2);
}

const log = (s) => process.stderr.write(`[bench] ${s}\n`);
const stats = (a) => {
  const t = [...a].sort((x, y) => x - y);
  const med = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
  return { median: med, min: t[0], max: t[t.length - 1], n: t.length, runs: a };
};

// ---- build, weights -----------------------------------------------------------------------------
const NEEDED = ['build/native/gradcam', 'build/wasm-mt/gradcam.mjs', 'build/wasm-mt/gradcam.wasm', 'build/wasm-st/gradcam.wasm',
  'build/wasm-relaxed/gradcam.mjs', 'build/wasm-relaxed/gradcam.wasm'];
if (NEEDED.some((f) => !existsSync(root + f))) {
  log('building (tools/build/build.sh)');
  const r = spawnSync('bash', [`${root}tools/build/build.sh`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
if (withTf && !existsSync(`${root}node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm`)) {
  console.error('node_modules/@tensorflow/tfjs-backend-wasm is missing: run npm ci (it is a dev dependency)');
  process.exit(1);
}
const ORT_DIST = 'node_modules/onnxruntime-web/dist';
if (withOrt && !existsSync(`${root}${ORT_DIST}/ort.wasm.min.mjs`)) {
  console.error('node_modules/onnxruntime-web is missing: run npm ci (it is a dev dependency)');
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

/** ONNX Runtime Web: the network as an ONNX file, written from the same float32 weights. */
async function onnxModel() {
  const file = `${outDir}/data/xception-seed1.onnx`;
  if (existsSync(file) && statSync(file).mtimeMs >= statSync(weights).mtimeMs
    && statSync(file).mtimeMs >= statSync(`${root}tools/bench/onnx.mjs`).mtimeMs) return file;
  log('writing the ONNX copy of the network (tools/bench/onnx.mjs)');
  const { xceptionOnnx } = await import('./onnx.mjs');
  writeFileSync(file, xceptionOnnx(weights).bytes);
  return file;
}

// ---- native CLI ---------------------------------------------------------------------------------
// the explanations timed, each as (forward + explain) / forward; `runs` overrides RUNS for the
// slow multi-pass ones, `params` are the method's (registry names), `metrics` adds the metrics.
// `passes`: the fewest network passes the case can do, counted in forward passes (an input
// gradient costs as many multiply-adds as a forward pass: every convolution runs transposed),
// with the clean forward pass: the floor of its ratio is what it would take if every pass but the
// clean one (timed as the case's forward) ran at the measured peak (d.floors, report.mjs).
const CASES = [
  { key: 'gradcam_block14', label: 'Grad-CAM block14', method: 'gradcam', layer: 'block14_sepconv2_act', target: 1.05 },
  { key: 'gradcam_block8', label: 'Grad-CAM block8', method: 'gradcam', layer: 'block8_sepconv3_act', target: 2.0, anyLayer: true },
  { key: 'gradcam_block3', label: 'Grad-CAM block3', method: 'gradcam', layer: 'block3_sepconv2_act', target: 2.0, anyLayer: true },
  { key: 'gradcam_block1', label: 'Grad-CAM block1_conv1 (earliest)', method: 'gradcam', layer: 'block1_conv1_act', target: 2.0, anyLayer: true },
  { key: 'saliency', label: 'input gradient (saliency)', method: 'saliency', target: 2.5 },
  { key: 'guided_gradcam', label: 'Guided Grad-CAM (block14)', method: 'guided-gradcam', layer: 'block14_sepconv2_act' },
  { key: 'smoothgrad8', label: 'SmoothGrad n=8', method: 'smoothgrad', params: { samples: 8 }, target: 8, runs: 3, passes: 1 + 2 * 8 },
  { key: 'ig16', label: 'Integrated Gradients m=16', method: 'integrated-gradients', params: { steps: 16 }, target: 14, runs: 3, passes: 1 + 2 * 16 - 1 /* its last step is the clean input */ },
  { key: 'scorecam32', label: 'Score-CAM N=32 (block14)', method: 'scorecam', layer: 'block14_sepconv2_act', params: { channels: 32 }, target: 12, runs: 3, passes: 1 + 32 },
  { key: 'metrics16', label: 'Grad-CAM + deletion/insertion metrics, 16 steps', method: 'gradcam', layer: 'block14_sepconv2_act', metrics: 16, target: 8, runs: 3, passes: 1 + 16 + 15 + 1 },
];
// --quick (the tests' smoke) leaves out the slow multi-pass cases
const QUICK_SKIP = (c) => quick && c.runs !== undefined;
const cliParams = (c) => Object.entries(c.params || {}).flatMap(([k, v]) => [`--${k === 'steps' ? 'ig-steps' : k}`, String(v)]);

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
  weights: weights.replace(root, ''), gflop_per_forward: GFLOP, host: {}, args: argv, load: loadavg(),
};

const tfBase = withTf ? await tfjsWeights() : null;
const onnxFile = withOrt ? await onnxModel() : null;

if (withNative) {
  log(`native CLI: forward and explanations (${THREADS} threads, ${RUNS} runs)`);
  const f = nativeBench();
  result.native = { forward: { median: f.median_ms, min: f.min_ms, max: f.max_ms, n: f.runs }, threads: f.threads,
    arithmetic: f.arithmetic, explain: {} };
  for (const c of CASES.filter((x) => !x.metrics && !QUICK_SKIP(x))) {
    const j = nativeBench(['--method', c.method, ...(c.layer ? ['--layer', c.layer] : []), ...cliParams(c)]);
    result.native.explain[c.key] = { forward_ms: j.median_ms, explain_ms: j.explain_ms, ratio: j.ratio };
  }
}

const server = await startServer({
  port: 0, isolation: true,
  mounts: { ...DEFAULT_MOUNTS, '/tools/bench/': 'tools/bench', '/tests/oracle/': 'tests/oracle',
    '/node_modules/@tensorflow/': 'node_modules/@tensorflow', '/node_modules/onnxruntime-web/': 'node_modules/onnxruntime-web',
    '/bench-data/': 'test-output/bench/data',
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

  const peakArgs = { counts: [1, 2, 4, 6, 8, 10, 11, 12, 13, 14, 16], unroll: 4, reps: 7, ms: 50, threads: THREADS };
  log('peak: f32x4 multiply + add chains (1 worker thread, then 2 at once)');
  result.peak = await ev('peak', peakArgs);
  const oursBuild = await ev('oursBuild');
  if (oursBuild.relaxedSimd) {
    log('peak: f32x4.relaxed_madd chains (fused multiply-add)');
    result.peak_fma = await ev('peak', { ...peakArgs, op: 'fma' });
  }

  log('this project: instantiate and load the weights');
  result.ours = { init: await ev('oursInit', { weightsUrl: `/test-data/${weights.split('/').pop()}`, threads: THREADS }) };
  result.ours.build_choice = oursBuild;
  if (oursBuild.build === 'relaxed') { // the SIMD build beside it: what relaxed SIMD brings, in this run
    log('this project, SIMD build (wasm-mt) for comparison');
    result.ours_simd = { init: await ev('oursInit', { weightsUrl: `/test-data/${weights.split('/').pop()}`, threads: THREADS, folder: 'wasm-mt' }) };
  }
  if (withTf) {
    log('TF.js: wasm backend, model, weights');
    result.tfjs = { init: await ev('tfInit', { weightsUrl: `/bench-data/${tfBase.split('/').pop()}`, threads: THREADS }) };
  }
  if (withOrt) {
    log('ONNX Runtime Web: wasm execution provider, session, logits against ours');
    result.ort = { init: await ev('ortInit', { modelUrl: `/bench-data/${onnxFile.split('/').pop()}`, threads: THREADS }) };
    const a = await ev('ortLogits'), b = await ev('oursLogits');
    let num = 0, den = 0;
    for (let i = 0; i < b.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
    result.ort.logits_rel_l2 = Math.sqrt(num / den);
    if (!(result.ort.logits_rel_l2 <= 1e-4)) throw new Error(`ONNX Runtime Web's logits differ from ours by ${result.ort.logits_rel_l2} (rel L2 > 1e-4): the ONNX model is wrong`);
  }

  log(`forward passes, alternating (${WARMUP} warm-up + ${RUNS} runs each)`);
  const fo = [], ft = [], fr = [], fs = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const a = await ev('oursForward');
    const b = withTf ? await ev('tfForward') : null;
    const c = withOrt ? await ev('ortForward') : null;
    const e = result.ours_simd ? await ev('oursForward', 'wasm-mt') : null;
    if (i >= WARMUP) { fo.push(a); if (withTf) ft.push(b); if (withOrt) fr.push(c); if (e != null) fs.push(e); }
  }
  if (withOrt) result.ort.forward = stats(fr);
  if (result.ours_simd) result.ours_simd.forward = stats(fs);
  result.ours.forward = stats(fo);
  result.ours.top1 = await ev('oursTop1');
  result.ours.heap_bytes_after_forward = await ev('oursHeapBytes');
  if (withTf) {
    result.tfjs.forward = stats(ft);
    result.tfjs.top1 = await ev('tfTop1');
  }

  log('explanations (ours): forward then explain, 1 warm-up');
  result.ours.explain = {};
  for (const c of CASES.filter((x) => !QUICK_SKIP(x))) {
    log(`ours: ${c.label}`);
    const f = [], e = [];
    for (let i = 0; i < 1 + Math.min(RUNS, c.runs ?? RUNS); i++) {
      const [a, b] = await ev('oursExplain', { method: c.method, layer: c.layer, params: c.params, metrics: c.metrics });
      if (i > 0) { f.push(a); e.push(b); }
    }
    const fs = stats(f), es = stats(e);
    const heap = await ev('oursHeapBytes'); // the heap never shrinks: the peak so far
    result.ours.explain[c.key] = { forward: fs, explain: es, ratio: (fs.median + es.median) / fs.median, heap_mb: heap / 1048576 };
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
  ours: ['build/wasm-relaxed/gradcam.wasm', 'build/wasm-mt/gradcam.wasm', 'build/wasm-st/gradcam.wasm', 'build/wasm-relaxed/gradcam.mjs',
    'build/wasm-mt/gradcam.mjs', 'build/wasm-mt/gradcam.worker.js'].map(sizeOf).filter(Boolean),
  ort: [`${ORT_DIST}/ort-wasm-simd-threaded.wasm`].map(sizeOf).filter(Boolean),
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
if (result.ours_simd) d.ours_simd_gflops = gflops(result.ours_simd.forward.median);
if (result.ort) {
  d.ort_gflops = gflops(result.ort.forward.median);
  d.ours_over_ort = ours / result.ort.forward.median;
}
// the ceiling of the arithmetic our build computes with: relaxed_madd chains for the relaxed
// SIMD build, multiply + add chains for the SIMD build
const buildPeak = result.ours.init.build === 'relaxed' && result.peak_fma ? result.peak_fma : result.peak;
d.ours_fraction_of_build_peak = gflops(ours) / (buildPeak.per_thread_gflops * THREADS);
// each multi-pass case's floor, as a ratio to its forward pass: that pass as measured, then its
// other passes at the measured peak of the best arithmetic here (the threads measured at once)
const bestPeak = result.peak_fma ?? result.peak;
d.floor_peak_gflops = bestPeak.concurrent_total_gflops;
d.floors = Object.fromEntries(CASES.filter((c) => c.passes && result.ours.explain[c.key]).map((c) => {
  const fwdMs = result.ours.explain[c.key].forward.median;
  return [c.key, 1 + (c.passes - 1) * (GFLOP / d.floor_peak_gflops) * 1000 / fwdMs];
}));
// the summary keys
result.forward = {
  ours_ms: ours, tfjs_ms: result.tfjs?.forward.median ?? null, ort_ms: result.ort?.forward.median ?? null,
  build: result.ours.init.build, peak_fraction: d.ours_fraction_of_build_peak, peak_op: buildPeak.op,
};
result.logits_match_ort = result.ort?.logits_rel_l2 ?? null;
const ratioOf = (key) => result.ours.explain[key]?.ratio ?? null;
const anyLayer = CASES.filter((c) => c.anyLayer).map((c) => ratioOf(c.key)).filter((v) => v != null);
result.ratios = {
  block14: ratioOf('gradcam_block14'), any_layer_max: anyLayer.length ? Math.max(...anyLayer) : null,
  saliency: ratioOf('saliency'), smoothgrad8: ratioOf('smoothgrad8'), ig16: ratioOf('ig16'),
  scorecam32: ratioOf('scorecam32'), metrics16: ratioOf('metrics16'),
};
result.heap_peak_mb = result.ours.heap_bytes / 1048576;
const target = (value, limit) => (value == null ? null : { target: limit, value, met: value <= limit });
d.targets = {
  forward_vs_tfjs: target(d.ours_over_tfjs, 0.45),
  forward_vs_ort: target(d.ours_over_ort, 0.8),
  heap_peak_mb: target(result.heap_peak_mb, 400),
  ...Object.fromEntries(CASES.filter((c) => c.target && result.ours.explain[c.key]).map((c) => { // --quick skips some
    const v = result.ours.explain[c.key].ratio;
    return [c.key, { target: c.target, value: v, met: v <= c.target, ...(c.passes ? { floor: d.floors[c.key] } : {}) }];
  })),
};

// ---- table (tools/bench/report.mjs) ----------------------------------------------------------
const text = benchTable(result, { THREADS, RUNS, WARMUP, CASES });

console.log(text);
result.table = text;
const stamp = result.date.replace(/[:.]/g, '-');
writeFileSync(`${outDir}/bench-${stamp}.json`, `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(`${outDir}/latest.json`, `${JSON.stringify(result, null, 1)}\n`);
console.log(`\nJSON: test-output/bench/bench-${stamp}.json (and latest.json)`);
if (!quick && !argv.includes('--no-readme')) writeReadme(result);
