// report.mjs - the benchmark's table (tools/bench/bench.mjs), from its result object: forward passes
// of every contender with their ratios and targets, the peaks, explanations, cold start,
// sizes and heap. Returns the text; the caller prints it and stores it in the JSON. benchBlock:
// README.md's block of the latest figures, from a result (bench.mjs writes it after a full run).

/**
 * @param {object} result what tools/bench/bench.mjs measured (with result.derived)
 * @param {{THREADS: number, RUNS: number, WARMUP: number, CASES: object[]}} o
 */
export function benchTable(result, { THREADS, RUNS, WARMUP, CASES }) {
  const d = result.derived;
  const f1 = (x) => (x == null ? '-' : x.toFixed(1));
  const f2 = (x) => (x == null ? '-' : x.toFixed(2));
  // a ratio that rounds to its target gets a third decimal (2.004 is a miss that 2.00 hides)
  const near = (x, t) => (t != null && x != null && f2(x) === f2(t) ? x.toFixed(3) : f2(x));
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
  const relaxed = result.ours.init.build === 'relaxed';
  row(`ours, wasm ${relaxed ? 'relaxed SIMD' : 'SIMD'}+threads (${result.ours.init.threads} thr)`, result.ours.forward,
    `${f1(d.ours_gflops)} GFLOP/s = ${(100 * d.ours_fraction_of_peak).toFixed(0)}% of the mul+add peak x ${THREADS} (${(100 * d.ours_fraction_of_concurrent_peak).toFixed(0)}% of the ${THREADS}-thread peak measured at once)`
    + `${relaxed && result.peak_fma ? `, ${(100 * d.ours_fraction_of_build_peak).toFixed(0)}% of the relaxed_madd peak x ${THREADS}` : ''}`);
  if (result.tfjs) {
    const i = result.tfjs.init;
    row(`TF.js ${i.version} ${i.backend} (${i.threads} thr, simd ${i.simd}, mt ${i.multithread})`, result.tfjs.forward,
      `${f1(d.tfjs_gflops)} GFLOP/s = ${(100 * d.tfjs_fraction_of_peak).toFixed(0)}% of peak x ${THREADS} (${(100 * d.tfjs_fraction_of_concurrent_peak).toFixed(0)}%)`);
  }
  if (result.ours_simd) {
    const g = d.ours_simd_gflops;
    row(`ours, wasm SIMD+threads (${result.ours_simd.init.threads} thr, for comparison)`, result.ours_simd.forward,
      `${f1(g)} GFLOP/s = ${(100 * g / d.peak_x_threads_gflops).toFixed(0)}% of the mul+add peak x ${THREADS}; relaxed / SIMD ${f2(result.ours.forward.median / result.ours_simd.forward.median)}`);
  }
  if (result.ort) {
    const i = result.ort.init;
    row(`ONNX Runtime Web ${i.version} wasm (${i.threads} thr)`, result.ort.forward,
      `${f1(d.ort_gflops)} GFLOP/s = ${(100 * d.ort_gflops / d.peak_x_threads_gflops).toFixed(0)}% of the mul+add peak x ${THREADS}`);
  }
  if (result.native) row(`native CLI (gcc, ${result.native.threads} thr, ${result.native.arithmetic})`, result.native.forward, `${f1(d.native_gflops)} GFLOP/s`);
  out(`(ours: instantiate ${f1(result.ours.init.instantiate_ms)} ms, load + pack weights ${f1(result.ours.init.load_ms)} ms`
    + `${result.tfjs ? `; TF.js: backend start ${f1(result.tfjs.init.init_ms)} ms, build + set weights ${f1(result.tfjs.init.build_ms)} ms; threads: ${result.tfjs.init.threads_how}` : ''}`
    + `${result.ort ? `; ONNX Runtime: session ${f1(result.ort.init.session_ms)} ms (${(result.ort.init.model_bytes / 2 ** 20).toFixed(0)} MB model)` : ''})`);
  out(`(ours: build ${result.ours.init.dir} (${result.ours.init.arithmetic} arithmetic; relaxed SIMD ${result.ours.build_choice?.relaxedSimd ? 'validates' : 'does not validate'} here))`);
  out();
  const met = (t) => `target <= ${f2(t.target)}: ${t.met ? 'met' : 'MISSED'}`;
  // what a missed forward target asks for: the time, and its share of the best peak measured here
  const needs = (t, peerMs) => {
    if (t.met || !d.floor_peak_gflops) return '';
    const ms = t.target * peerMs;
    return `; it needs ${f1(ms)} ms = ${(100 * result.gflop_per_forward / (ms / 1000) / d.floor_peak_gflops).toFixed(0)}% of the`
      + ` ${THREADS}-thread ${result.peak_fma ? 'relaxed_madd' : 'mul+add'} peak, ours runs at ${(100 * d.ours_gflops / d.floor_peak_gflops).toFixed(0)}%`;
  };
  if (result.tfjs) out(`ours / TF.js forward      ${f2(d.ours_over_tfjs)}   (${met(d.targets.forward_vs_tfjs)}${needs(d.targets.forward_vs_tfjs, result.tfjs.forward.median)}; same top-1 class: ${d.same_top1 ? 'yes' : 'NO'} (${result.ours.top1.index} / ${result.tfjs.top1.index}))`);
  if (result.ort) out(`ours / ONNX Runtime fwd   ${f2(d.ours_over_ort)}   (${met(d.targets.forward_vs_ort)}${needs(d.targets.forward_vs_ort, result.ort.forward.median)}; logits rel L2 vs ours ${result.ort.logits_rel_l2.toExponential(1)}, checked <= 1e-4 before timing)`);
  if (result.native) out(`ours / native forward     ${f2(d.ours_over_native)}`);
  out(`peak wasm SIMD           ${f1(d.peak_per_thread_gflops)} GFLOP/s per thread (best at ${result.peak.best_chains} chains; `
    + `sweep ${result.peak.sweep.map((s) => `${s.chains}:${s.gflops.toFixed(1)}`).join(' ')}); `
    + `${THREADS} threads at once: ${result.peak.concurrent.map(f1).join(' + ')} = ${f1(result.peak.concurrent_total_gflops)}`);
  if (result.peak_fma) {
    const p = result.peak_fma;
    out(`peak relaxed_madd        ${f1(p.per_thread_gflops)} GFLOP/s per thread (best at ${p.best_chains} chains; `
      + `sweep ${p.sweep.map((s) => `${s.chains}:${s.gflops.toFixed(1)}`).join(' ')}); `
      + `${THREADS} threads at once: ${p.concurrent.map(f1).join(' + ')} = ${f1(p.concurrent_total_gflops)}`);
  }
  out();
  out(`${'explanation (forward + explain)'.padEnd(44)} ${'explain'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}   ratio to forward`);
  for (const c of CASES) {
    const e = result.ours.explain[c.key];
    if (!e) continue; // left out (--quick)
    const nat = result.native?.explain[c.key];
    out(`${`ours ${c.label}`.padEnd(44)} ${f1(e.explain.median).padStart(8)} ${f1(e.explain.min).padStart(8)} ${f1(e.explain.max).padStart(8)}   `
      + `${near(e.ratio, c.target)}${c.target ? ` (target <= ${c.target}: ${e.ratio <= c.target ? 'met' : 'MISSED'})` : ''}`
      + `${nat ? `   native ${f2(nat.ratio)}` : ''}   heap ${e.heap_mb.toFixed(0)} MB`
      + `${d.floors?.[c.key] != null ? `   floor ${f2(d.floors[c.key])} (${c.passes} passes, ${c.passes - 1} at the peak)` : ''}`);
  }
  if (d.floors && Object.keys(d.floors).length) {
    out(`  floor: the ratio if the case's fewest passes after its forward (forward passes or input gradients, equal multiply-adds)`);
    out(`  ran at the ${THREADS}-thread peak measured above (${f1(d.floor_peak_gflops)} GFLOP/s); a target below its floor cannot be met at this precision`);
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
      + ` + weights load/pack ${f1(c.weights_ms)} + first Grad-CAM ${f1(c.first_explain_ms)} (${c.mode}, build ${c.build}, ${c.threads} threads)`);
    // target: at most two forward passes (warm, this run) plus the weight decode (load/pack)
    const limit = 2 * result.ours.forward.median + c.weights_ms;
    c.limit_ms = limit;
    out(`  target <= 2 x forward + weights load/pack = ${f1(limit)} ms: ${c.total_ms <= limit ? 'met' : 'MISSED'}`
      + ` (ratio ${f2(c.total_ms / limit)}; the first Grad-CAM takes ${f2(c.first_explain_ms / result.ours.forward.median)} x a warm forward)`);
  }
  out(`wasm files: ${result.sizes.ours.filter((s) => s.file.endsWith('.wasm')).map((s) => `${s.file.replace('build/', '')} ${(s.bytes / 1024).toFixed(0)} KB (gzip ${(s.gzip_bytes / 1024).toFixed(0)} KB)`).join(', ')}`
    + `${result.sizes.ort.length ? `; ONNX Runtime ${result.sizes.ort.map((s) => `${s.file.split('/').pop()} ${(s.bytes / 1024).toFixed(0)} KB (gzip ${(s.gzip_bytes / 1024).toFixed(0)} KB)`).join(', ')}` : ''}`
    + `; TF.js ${result.sizes.tfjs.map((s) => `${s.file.split('/').pop()} ${(s.bytes / 1024).toFixed(0)} KB (gzip ${(s.gzip_bytes / 1024).toFixed(0)} KB)`).join(', ')}`);
  out(`peak wasm heap: ours ${(result.ours.heap_bytes_after_forward / 2 ** 20).toFixed(0)} MB after forward passes, ${(result.ours.heap_bytes / 2 ** 20).toFixed(0)} MB after all explanations`
    + ` (target <= 400 MB: ${result.ours.heap_bytes / 2 ** 20 <= 400 ? 'met' : 'MISSED'})`
    + `${result.tfjs?.memory?.heap_bytes ? `; TF.js ${(result.tfjs.memory.heap_bytes / 2 ** 20).toFixed(0)} MB (tensors live at the end: ${(result.tfjs.memory.tensors_bytes / 2 ** 20).toFixed(0)} MB)` : ''}`);
  if (result.foreign_requests.length) out(`WARNING: requests not for 127.0.0.1 were refused: ${result.foreign_requests.join(', ')}`);
  if (result.browser_errors?.length) out(`browser errors: ${result.browser_errors.slice(0, 5).join(' | ')}`);
  return lines.join('\n');
}

export const BENCH_BY = 'written by npm run bench (tools/bench/bench.mjs)';

/** README.md's bench block: when and how the run was made, and its table (result.table). */
export function benchBlock(result) {
  const how = result.args ? `\`node tools/bench/bench.mjs${result.args.length ? ` ${result.args.join(' ')}` : ''}\`` : 'arguments not recorded';
  const load = result.load ? `, load average ${result.load.map((x) => x.toFixed(1)).join(' / ')} (1 / 5 / 15 min) at the start` : '';
  return [`Run ${result.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${how}), ${result.host.hardware_concurrency} cores${load}:`, '',
    '```text', result.table, '```'].join('\n');
}
