// cli.test.mjs - the native CLI's option table against the method registry, read through the
// WebAssembly build (gcw_method_* exports, core.methods()): every method name runs through
// --method; every parameter option has the registry's range, default and special word, and
// changes what its method computes; --contrast explains y^c - y^d; --detail gives the channel
// weights; an option given to a command that does not take it is refused; help.
import test from 'node:test';
import assert from 'node:assert/strict';
import { cli, imagesDir, testWeights } from './helpers.mjs';
import { loadNodeCore, shutdownCore } from '../../tools/test/node-core.mjs';

const weights = testWeights(1);
const IMAGE = `${imagesDir}/skimage_chelsea.png`;
const base = ['explain', '--weights', weights.f16, '--image', IMAGE, '--input-size', '71', '--json'];

const core = await loadNodeCore('st');
const methods = core.methods();
shutdownCore(core);
const params = new Map(); // cli option -> [method, param] (its first method, as the CLI lists it)
for (const m of methods) for (const q of m.params) if (!params.has(q.cli)) params.set(q.cli, [m, q]);

function run(args) {
  const r = cli(args, { json: true });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.json;
}

test('--method takes every method of the registry', () => {
  assert.ok(methods.length >= 15, `${methods.length} methods`);
  const small = { scorecam: ['--channels', '2'], smoothgrad: ['--samples', '1'], 'integrated-gradients': ['--ig-steps', '2'] };
  for (const m of methods) {
    const j = run([...base, '--method', m.name, ...(small[m.name] ?? [])]);
    assert.equal(j.method, m.name);
    assert.equal(j.channels, m.channels, `${m.name}: channels`);
    assert.equal(j.layer, m.usesLayer ? 'block14_sepconv2_act' : 'input', `${m.name}: layer`);
    assert.equal(j.cam.length, j.h * j.w * j.channels);
  }
  const r = cli([...base, '--method', 'gradcam3']);
  assert.equal(r.status, 2);
  for (const m of methods) assert.ok(r.stderr.includes(m.name), `the message lists ${m.name}: ${r.stderr}`);
});

test('method parameter options: the registry\'s names, ranges, defaults and special words', () => {
  assert.deepEqual([...params.keys()].sort(), ['channels', 'ig-steps', 'samples', 'seed', 'sigma']);
  const help = cli(['help', 'explain']);
  assert.equal(help.status, 0);
  for (const [opt, [m, q]] of params) {
    const kind = q.integer ? 'an integer' : 'a number';
    for (const bad of [q.max + 1, q.min - 1, ...(q.integer ? [q.min + 0.5] : []), 'x']) {
      const r = cli([...base, `--${opt}`, String(bad)]);
      assert.equal(r.status, 2, `--${opt} ${bad}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`--${opt} wants ${kind} in ${q.min}..${q.max}`), `--${opt} ${bad}: ${r.stderr}`);
    }
    // the edges are accepted (as a parameter of another method: Grad-CAM ignores them)
    for (const ok of [q.min, q.max, ...(q.special ? [q.special] : [])]) run([...base, `--${opt}`, String(ok)]);
    assert.match(help.stdout, new RegExp(`^  --${opt} \\S+ +${m.label}: .*\\[${q.default}\\]$`, 'm'), `help lists --${opt}`);
  }
});

test('method parameters change what their method computes', () => {
  const sg = (...extra) => run([...base, '--method', 'smoothgrad', '--samples', '1', ...extra]).cam;
  assert.deepEqual(sg('--seed', '3'), sg('--seed', '3'), 'same seed, same map');
  assert.notDeepEqual(sg('--seed', '3'), sg('--seed', '4'), 'another seed');
  assert.notDeepEqual(sg('--seed', '3', '--sigma', '0'), sg('--seed', '3'), 'sigma 0: no noise');
  assert.deepEqual(sg('--seed', '3', '--sigma', '0'), sg('--seed', '4', '--sigma', '0'), 'no noise: the seed does not matter');
  const ig = (n) => run([...base, '--method', 'integrated-gradients', '--ig-steps', n]).cam;
  assert.notDeepEqual(ig('1'), ig('3'));
  const sc = (n) => run([...base, '--method', 'scorecam', '--channels', n]).cam;
  assert.notDeepEqual(sc('1'), sc('3'));
});

test('--contrast explains y^c - y^d; --detail gives the channel weights', () => {
  const top = run(['predict', '--weights', weights.f16, '--image', IMAGE, '--input-size', '71', '--json', '--top', '2']).top;
  const [c, d] = top.map((t) => t.index);
  const gc = (...extra) => run([...base, '--detail', ...extra]);
  const a = gc('--class', String(c));
  const b = gc('--class', String(d));
  const ab = gc('--class', String(c), '--contrast', String(d));
  assert.equal(ab.contrast, d);
  assert.equal(a.contrast, undefined);
  assert.equal(a.detail.channels, 2048);
  assert.equal(a.detail.weights.length, 2048);
  // Grad-CAM's weights are mean gradients, linear in the score: w(y^c - y^d) = w(y^c) - w(y^d)
  const scale = Math.max(...a.detail.weights.map(Math.abs), ...b.detail.weights.map(Math.abs));
  let worst = 0;
  for (let k = 0; k < 2048; k++) worst = Math.max(worst, Math.abs(ab.detail.weights[k] - (a.detail.weights[k] - b.detail.weights[k])));
  assert.ok(worst <= 1e-5 * scale, `contrast weights off by ${worst} (scale ${scale})`);
  assert.notDeepEqual(ab.cam, a.cam);
  assert.equal(gc('--method', 'saliency').detail, null, 'saliency weighs no channels');
  // a contrast class the model lacks, the class itself, or one with --save-grad: refused
  let r = cli([...base, '--contrast', '1000']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--contrast 1000: the model has 1000 classes/);
  r = cli([...base, '--class', String(c), '--contrast', String(c)]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /GC_ERR_INVALID_ARGUMENT: .*contrast class/);
  r = cli([...base, '--contrast', String(d), '--save-grad', '/dev/null']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--save-grad .* not with --contrast/);
});

test('options belong to their commands; help', () => {
  let r = cli(['predict', '--weights', weights.f16, '--image', IMAGE, '--method', 'gradcam']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'gradcam predict: --method is an option of explain and bench\n');
  r = cli(['convert', '--in', weights.h5, '--out', '/dev/null', '--threads', '2']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--threads is an option of predict, explain and bench/);
  r = cli(['layers', '--samples', '3']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--samples is an option of explain and bench/);
  r = cli(['explain', '--nonsense']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--nonsense'/);
  for (const args of [['help'], ['--help'], ['explain', '--help'], ['help', 'bench']]) {
    r = cli(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^usage:/);
  }
  r = cli(['help']);
  for (const cmd of ['predict', 'explain', 'layers', 'convert', 'bench']) assert.match(r.stdout, new RegExp(`gradcam ${cmd} `));
  r = cli([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^usage:/);
});
