#!/usr/bin/env node
// npm run profile -- [--method M] [--layer L] [--threads N] [--runs N] [--top N]
// Where an explanation's time goes, row by row. Builds the native CLI with per-row timers
// (cmake -DGRADCAM_PROFILE=ON, in build/profile; shipped builds have none), runs
// `gradcam bench` with the method and layer, and prints for each layer the median time of its
// forward row and of its backward row, the sums per operation type, and the rows that take
// longest. Generated test weights (speed does not depend on the values).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testWeights } from './test-weights.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
};
const method = arg('method', 'gradcam');
const layer = arg('layer', 'block3_sepconv2_act');
const threads = arg('threads', '2');
const runs = arg('runs', '5');
const top = Number(arg('top', '15'));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) {
    process.stderr.write(r.stdout || '');
    process.stderr.write(r.stderr || '');
    console.error(`profile: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
  return r;
}

// the dependency prefix the regular native build uses (tools/build.sh prints it)
if (!existsSync(`${root}build/native/CMakeCache.txt`)) run('bash', [`${root}tools/build.sh`, 'native'], { stdio: 'inherit' });
const cache = run('cmake', ['-L', '-N', `${root}build/native`]).stdout;
const deps = (cache.match(/^GRADCAM_DEPS:PATH=(.*)$/m) || [])[1];
if (!deps) { console.error('profile: no GRADCAM_DEPS in build/native'); process.exit(1); }
const dir = `${root}build/profile`;
run('cmake', ['-S', root, '-B', dir, '-G', 'Ninja', `-DGRADCAM_DEPS=${deps}`, '-DGRADCAM_PROFILE=ON']);
run('ninja', ['-C', dir, '-j2', 'gradcam']);

const weights = testWeights(1).f32;
const r = run(`${dir}/gradcam`, ['bench', '--weights', weights, '--threads', threads, '--runs', runs,
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
console.log(`\nmedian per row, ${threads} thread(s), ${method} at ${layer}: forward rows ${fwd.toFixed(1)} ms, backward rows ${bwd.toFixed(1)} ms`);
console.log('\nop        forward ms  backward ms');
for (const [op, t] of Object.entries(byOp)) {
  console.log(`${op.padEnd(9)} ${t.forward.toFixed(2).padStart(10)} ${t.backward.toFixed(2).padStart(12)}`);
}
console.log(`\nlongest rows (forward or backward)\nlayer                      op        forward ms  backward ms`);
rows.sort((a, b) => Math.max(b.f, b.b) - Math.max(a.f, a.b));
for (const x of rows.slice(0, top)) {
  console.log(`${x.name.padEnd(26)} ${x.op.padEnd(9)} ${x.f.toFixed(2).padStart(10)} ${x.b.toFixed(2).padStart(12)}`);
}
