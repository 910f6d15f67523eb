// explain.js - the engine's long calls, stage by stage: explain (forward pass, then for each
// class its map, rendering, metrics and detail) and the sanity check (the maps of a model whose
// top layers are randomised, step by step). Progress goes to onProgress before each stage and
// for every pass the core reports inside a stage; an abort is honoured between stages (signal)
// and, through `cancelled()` polled by the core before each pass, inside multi-pass stages.
import { checkAbort, checkSanityOptions, ErrorCode, GradCamError, noHead } from './errors.js';
import { imageKey } from './kept.js';

export const now = () => (globalThis.performance ? performance.now() : Date.now());

/** Let queued messages (an abort) in, then honour them. */
export async function pause(signal, cancelled) {
  await new Promise((resolve) => { setTimeout(resolve, 0); });
  checkAbort(signal, cancelled);
}

/** RGBA bytes as an ImageData where there is one (browsers, workers), else {data, width, height}. */
export function imageOf(u8, width, height) {
  const data = new Uint8ClampedArray(u8.buffer, u8.byteOffset, u8.length);
  return typeof ImageData === 'function' ? new ImageData(data, width, height) : { data, width, height, colorSpace: 'srgb' };
}

/** The core's progress callback (Core.explain's onProgress): report(done, total) when the count
 *  moved (the core also asks between the forward and the backward half of a pass, to cancel
 *  sooner), and whether to stop. */
function passCallback(report, cancelled) {
  let last = null;
  return (d, n) => {
    if (!last || last[0] !== d || last[1] !== n) {
      last = [d, n];
      report(d, n);
    }
    return !!(cancelled && cancelled());
  };
}

/** onProgress({phase: 'explain', done, total, stage, ...}) before each stage and at the end;
 *  inside a multi-pass stage once per pass with passes: {done, total} (the core's count). */
function stepReporter(onProgress, total) {
  let done = 0;
  const send = (p) => { try { onProgress(p); } catch { /* the caller's bug must not stop the call */ } };
  return {
    stage(stage, extra = {}) {
      if (!onProgress) return;
      send({ phase: 'explain', done: stage === 'done' ? total : done++, total, stage, ...extra });
    },
    /** the core's progress callback for the current stage: reports, and says whether to stop */
    passes(stage, extra, cancelled) {
      return passCallback((d, n) => {
        if (onProgress) send({ phase: 'explain', done: Math.max(0, done - 1), total, stage, ...extra, passes: { done: d, total: n } });
      }, cancelled);
    },
  };
}

/** The whole of engine.explain() once the options are checked. */
export async function explainSteps(engine, pixels, width, height, o, { signal, onProgress, cancelled } = {}) {
  const core = engine.core;
  if (!core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights before explaining');
  checkAbort(signal, cancelled);
  const m = engine.methods().find((x) => x.name === o.method);
  const nclasses = engine.classCount();
  if (!nclasses && m.needsClass) throw noHead();
  const key = imageKey(pixels, width, height, o.inputSize);
  const reused = !!engine._kept && engine._kept.key === key;
  const perClass = 1 + (o.metrics ? 1 : 0);
  const nExplained = nclasses ? o.topK ?? 1 : 1;
  const step = stepReporter(onProgress, (reused ? 0 : 1) + nExplained * perClass);
  if (!reused) step.stage('forward');
  const { forward } = engine._forwardKept(pixels, width, height, o.inputSize, key);
  const classes = nclasses ? engine._run(() => core.topK(Math.min(nclasses, Math.max(5, o.topK ?? 1)))) : [];
  const probs = nclasses ? core.probs() : null;
  const logits = nclasses ? core.logits() : null;
  const explained = !nclasses ? [null] : o.topK !== undefined ? classes.slice(0, o.topK).map((c) => c.index) : [o.classIndex ?? classes[0].index];
  const results = [];
  for (const classIndex of explained) {
    await pause(signal, cancelled);
    const extra = { classIndex, method: o.method };
    step.stage('map', extra);
    const t1 = now();
    const map = engine._run(() => core.explain({
      method: o.method, classIndex: classIndex ?? -1, contrastClass: o.contrastClass ?? -1, layer: o.layer, ...o.methodOptions,
      onProgress: step.passes('map', extra, cancelled),
    }));
    const detail = o.detail ? engine._run(() => core.explainDetail()) : undefined;
    const t2 = now();
    const { heatmap, overlay } = engine._run(() => core.render(map, pixels, width, height,
      { colormap: o.colormap, alpha: o.alpha, blend: o.blend, scale: o.scale, channels: 4 }));
    const timings = { forward, explain: t2 - t1, render: now() - t2 };
    const r = {
      classes, classIndex, className: classIndex === null ? null : core.className(classIndex),
      prob: classIndex === null ? null : probs[classIndex], logit: classIndex === null ? null : logits[classIndex],
      layer: m.usesLayer ? o.layer : 'input', method: o.method, imageKey: key, reusedForward: reused,
      cam: { width: map.width, height: map.height, channels: map.channels, data: map.data },
      heatmap: imageOf(heatmap, width, height), overlay: imageOf(overlay, width, height),
      timings,
    };
    if (o.contrastClass !== undefined) {
      r.contrastClass = o.contrastClass;
      r.contrastName = core.className(o.contrastClass);
    }
    if (detail !== undefined) r.detail = detail;
    if (o.metrics) {
      await pause(signal, cancelled);
      const mx = { classIndex, passes: 2 * o.metrics.steps + 3 };
      step.stage('metrics', mx);
      const t3 = now();
      const onPass = step.passes('metrics', { classIndex }, cancelled);
      r.metrics = { ...engine._run(() => core.metrics(map, classIndex, { ...o.metrics, onProgress: onPass })), baseline: o.metrics.baseline };
      timings.metrics = now() - t3;
    }
    results.push(r);
  }
  step.stage('done');
  return o.topK !== undefined ? results : results[0];
}

/** Spearman's rank correlation of two maps of the same size (Adebayo et al.'s similarity of a
 *  map to the original's), over the values' absolute values; null for a size mismatch. */
export function rankCorrelation(a, b) {
  if (a.length !== b.length || a.length < 2) return null;
  const ranks = (v) => {
    const idx = Array.from(v.keys()).sort((i, j) => Math.abs(v[i]) - Math.abs(v[j]));
    const r = new Float64Array(v.length);
    for (let k = 0; k < idx.length;) { // ties share their mean rank
      let e = k;
      while (e + 1 < idx.length && Math.abs(v[idx[e + 1]]) === Math.abs(v[idx[k]])) e++;
      for (let q = k; q <= e; q++) r[idx[q]] = (k + e) / 2;
      k = e + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const mean = (n - 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i] - mean, y = rb[i] - mean;
    sab += x * y; saa += x * x; sbb += y * y;
  }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * The sanity check (Adebayo et al. 2018): step 0 is the model itself; step k explains with a
 * copy whose layers from `from[k-1]` to the output carry random weights (cascading: list the
 * layers from the top down). Every step explains the same class (the model's best, or
 * classIndex) with each method; each map gets its rank correlation with step 0's.
 */
export async function sanityCheck(engine, pixels, width, height, options, { signal, onProgress, cancelled } = {}) {
  const core = engine.core;
  if (!core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights first');
  const o = checkSanityOptions(options, engine.known());
  if (!engine.classCount() && o.methods.some((n) => engine.methods().find((m) => m.name === n).needsClass)) throw noHead();
  const steps = [null, ...o.from];
  const total = steps.length * o.methods.length;
  let done = 0;
  const report = (extra) => { if (onProgress) { try { onProgress({ phase: 'sanity', done, total, ...extra }); } catch { /* caller's bug */ } } };
  engine._forwardKept(pixels, width, height, o.inputSize);
  const classIndex = engine.classCount() ? o.classIndex ?? engine._run(() => core.topK(1))[0].index : null;
  const out = { classIndex, className: classIndex === null ? null : core.className(classIndex), seed: o.seed, steps: [] };
  for (const from of steps) {
    await pause(signal, cancelled);
    let model = core;
    if (from !== null) {
      report({ stage: 'randomize', from });
      model = engine._run(() => core.randomized(from, o.seed, { threads: engine.threadCount }));
    }
    try {
      if (from !== null) engine._run(() => model.forwardImage(pixels, width, height, 4, width * 4, o.inputSize));
      const maps = [];
      for (const method of o.methods) {
        if (maps.length) await pause(signal, cancelled);
        report({ stage: 'map', from, method });
        const onPass = passCallback((d, n) => report({ stage: 'map', from, method, passes: { done: d, total: n } }), cancelled);
        const map = engine._run(() => model.explain({ method, classIndex: classIndex ?? -1, layer: o.layer, ...(o.methodOptions[method] || {}), onProgress: onPass }));
        const { heatmap } = engine._run(() => model.render(map, pixels, width, height, { ...o.render, channels: 4 }));
        const first = out.steps[0]?.maps.find((x) => x.method === method);
        maps.push({
          method, cam: { width: map.width, height: map.height, channels: map.channels, data: map.data },
          heatmap: imageOf(heatmap, width, height), similarity: first ? rankCorrelation(first.cam.data, map.data) : 1,
        });
        done++;
      }
      out.steps.push({ from, maps });
    } finally {
      if (model !== core) model.free();
    }
  }
  report({ stage: 'done' });
  return out;
}
