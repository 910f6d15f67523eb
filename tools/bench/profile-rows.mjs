#!/usr/bin/env node
// npm run profile -- [--wasm] [--method M] [--layer L] [--threads N] [--runs N] [--top N]
// Where an explanation's time goes, row by row. Builds the core with per-row timers
// (cmake -DGRADCAM_PROFILE=ON; shipped builds have none): the native CLI in build/profile, or
// with --wasm the threaded WebAssembly build in build/profile-wasm-mt, run under Node. Runs a
// forward pass and the explanation --runs times and prints for each layer the median time of
// its forward row and of its backward row, the sums per operation type, and the rows that take
// longest. Generated test weights (speed does not depend on the values).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testWeights } from '../fixtures/test-weights.mjs';
import { loadNodeCore, shutdownCore } from '../test/node-core.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
};
const method = arg('method', 'gradcam');
const layer = arg('layer', 'block3_sepconv2_act');
const threads = arg('threads', '2');
const runs = arg('runs', '5');
const top = Number(arg('top', '15'));
for (const [name, v] of [['threads', threads], ['runs', runs], ['top', String(top)]]) {
  if (!/^[0-9]+$/.test(v) || (name !== 'top' && Number(v) < 1)) {
    console.error(`profile: --${name} must be a ${name === 'top' ? 'non-negative' : 'positive'} integer, not '${v}'`);
    process.exit(2);
  }
}
const wasm = process.argv.includes('--wasm');

// child mode (--wasm): run the profiling WebAssembly build; timers go to stderr
if (process.argv.includes('--child')) {
  const core = await loadNodeCore('mt', arg('child'));
  core.load((await import('node:fs')).readFileSync(testWeights(1).f32), { threads: Number(threads) });
  const x = new Float32Array(299 * 299 * 3).map((_, i) => Math.sin(i * 0.37));
  const f = [], e = [];
  for (let i = 0; i < Number(runs) + 1; i++) {
    const t0 = performance.now();
    core.forwardTensor(x, 299, 299);
    const t1 = performance.now();
    try {
      core.explain({ method, layer });
    } catch (e) {
      console.error(`gradcam (wasm): explain: ${e.code || ''} ${e.message}`);
      process.exit(1);
    }
    if (i > 0) f.push(t1 - t0), e.push(performance.now() - t1);
  }
  const med = (v) => [...v].sort((a, b) => a - b)[(v.length - 1) >> 1];
  console.log(`wasm-mt (Node), ${core.threads()} thread(s): forward ${med(f).toFixed(1)} ms; ${method} at ${layer}: explain ${med(e).toFixed(1)} ms; (forward + explain) / forward = ${((med(f) + med(e)) / med(f)).toFixed(2)}`);
  shutdownCore(core);
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) {
    process.stderr.write(r.stdout || '');
    // the error, without the timer lines of the rows that ran before it
    process.stderr.write((r.stderr || '').split('\n').filter((l) => !l.startsWith('profile ')).join('\n'));
    console.error(`profile: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
  return r;
}

// the dependency prefix the regular build of that flavour uses
const flavour = wasm ? 'wasm-mt' : 'native';
if (!existsSync(`${root}build/${flavour}/CMakeCache.txt`)) run('bash', [`${root}tools/build/build.sh`, wasm ? 'wasm' : 'native'], { stdio: 'inherit' });
const cache = run('cmake', ['-L', '-N', `${root}build/${flavour}`]).stdout;
const deps = (cache.match(/^GRADCAM_DEPS:PATH=(.*)$/m) || [])[1];
if (!deps) { console.error(`profile: no GRADCAM_DEPS in build/${flavour}`); process.exit(1); }
const dir = `${root}build/${wasm ? 'profile-wasm-mt' : 'profile'}`;
const configure = ['cmake', '-S', root, '-B', dir, '-G', 'Ninja', `-DGRADCAM_DEPS=${deps}`, '-DGRADCAM_PROFILE=ON'];
if (wasm) run('emcmake', [...configure, '-DGRADCAM_THREADS=ON']);
else run(configure[0], configure.slice(1));
// emcc 3.1.6 needs Debian's acorn (as in tools/build/build.sh)
const env = { ...process.env, NODE_PATH: ['/usr/share/nodejs', process.env.NODE_PATH].filter(Boolean).join(':') };
run('ninja', ['-C', dir, '-j2', wasm ? 'gradcam_wasm' : 'gradcam'], { env });

const weights = testWeights(1).f32;
const r = wasm
  ? run(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, '--method', method, '--layer', layer,
    '--threads', threads, '--runs', runs])
  : run(`${dir}/gradcam`, ['bench', '--weights', weights, '--threads', threads, '--runs', runs,
    '--method', method, '--layer', layer]);
process.stdout.write(r.stdout);

// "profile <phase> <layer> <op> <ms>" lines: medians per (phase, layer)
const times = new Map();
const ops = new Map();
for (const line of r.stderr.split('\n')) {
  const [tag, phase, name, op, ms] = line.split(' ');
  if (tag !== 'profile') continue;
  const key = `${phase} ${name}`;
  if (!times.has(key)) times.set(key, []);
  times.get(key).push(Number(ms));
  ops.set(name, op);
}
const median = (v) => {
  const t = [...v].sort((a, b) => a - b);
  return t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
};
const med = (phase, name) => (times.has(`${phase} ${name}`) ? median(times.get(`${phase} ${name}`)) : 0);
const byOp = {};
let fwd = 0, bwd = 0;
const rows = [];
for (const [name, op] of ops) {
  const f = med('forward', name), b = med('backward', name);
  fwd += f, bwd += b;
  byOp[op] ??= { forward: 0, backward: 0 };
  byOp[op].forward += f;
  byOp[op].backward += b;
  rows.push({ name, op, f, b });
}
let masks = 0;
for (const name of ops.keys()) masks += med('mask', name);
console.log(`\nmedian per row, ${threads} thread(s), ${method} at ${layer}: forward rows ${fwd.toFixed(1)} ms, backward rows ${bwd.toFixed(1)} ms (of which ${masks.toFixed(1)} ms undo fused ReLUs)`);
console.log('\nop        forward ms  backward ms');
for (const [op, t] of Object.entries(byOp)) {
  console.log(`${op.padEnd(9)} ${t.forward.toFixed(2).padStart(10)} ${t.backward.toFixed(2).padStart(12)}`);
}
console.log(`\nlongest rows (forward or backward)\nlayer                      op        forward ms  backward ms`);
rows.sort((a, b) => Math.max(b.f, b.b) - Math.max(a.f, a.b));
for (const x of rows.slice(0, top)) {
  console.log(`${x.name.padEnd(26)} ${x.op.padEnd(9)} ${x.f.toFixed(2).padStart(10)} ${x.b.toFixed(2).padStart(12)}`);
}
