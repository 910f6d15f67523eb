// registry.test.mjs - the explanation methods have one home, the core's registry
// (src/methods/registry.c): the package's methods() is it (description = its summary); the
// method-name union and methodOptions of index.d.ts and the methods tables of README.md and
// web/README.md are generated from it and must be up to date (tools/release/gen-methods.mjs --check);
// the native CLI knows the same methods and options; the demo has a sentence for each method
// and offers settings inside their ranges. Also the limits the JavaScript side repeats
// (protocol.js) against gradcam.h and CMakeLists.txt.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cli, createSingleEngine, imagesDir, node, root, testWeights } from './helpers.mjs';
import { INPUT_SIZE, MAX_THREADS, METRIC_STEPS_MAX } from '../../web/protocol.js';
import { S } from '../../web/demo/parts/state.js';
import { passesOf, settingChoices, STUDENT_TEXT } from '../../web/demo/parts/text.js';

const engine = await createSingleEngine();
const methods = engine.methods();
const registry = engine.core.methods();
engine.dispose();

test('methods() is the core\'s registry: every field, description = summary', () => {
  assert.equal(methods.length, registry.length);
  methods.forEach((m, i) => {
    const { summary, ...rest } = registry[i];
    assert.deepEqual(m, { ...rest, description: summary });
    assert.ok(m.label && m.formula && m.reference && m.description, m.name);
  });
  assert.equal(new Set(methods.map((m) => m.name)).size, methods.length, 'unique names');
});

test('index.d.ts and both READMEs agree with the registry (tools/release/gen-methods.mjs --check)', () => {
  const r = node(`${root}tools/release/gen-methods.mjs`, ['--check']);
  assert.equal(r.status, 0, r.stderr);
  // and the check can fail: a README whose table lost a method differs
  const dts = readFileSync(`${root}web/index.d.ts`, 'utf8');
  for (const m of methods) assert.ok(dts.includes(`| '${m.name}'`), `${m.name} in index.d.ts`);
  for (const f of ['README.md', 'web/README.md']) {
    const text = readFileSync(`${root}${f}`, 'utf8');
    for (const m of methods) assert.ok(text.includes(`| \`${m.name}\` | ${m.label} |`), `${m.name} in ${f}`);
  }
});

test('the native CLI knows the same methods, and an option for every setting', () => {
  const w = testWeights(1).f16;
  const r = cli(['explain', '--weights', w, '--image', `${imagesDir}/skimage_coffee.png`, '--method', 'no-such-method']);
  assert.equal(r.status, 2, 'a usage error');
  const listed = /--method is (.*)$/m.exec(r.stderr);
  assert.ok(listed, r.stderr);
  assert.deepEqual(listed[1].trim().split(/, | or /), methods.map((m) => m.name));
  const usage = cli([]).stderr + cli(['--help']).stdout;
  for (const m of methods) for (const q of m.params) assert.ok(usage.includes(`--${q.cli} `), `--${q.cli} (${m.name}.${q.name}) in the CLI's usage`);
});

test('the demo: a sentence for every method, settings within the registry\'s ranges', () => {
  assert.deepEqual(Object.keys(STUDENT_TEXT).sort(), methods.map((m) => m.name).sort());
  S.methods = methods;
  for (const m of methods) {
    for (const q of m.params) {
      const choices = settingChoices(q);
      if (q.name === 'seed') { assert.deepEqual(choices, [], 'no seed picker'); continue; }
      assert.ok(choices.includes(q.default), `${m.name}.${q.name}: the default ${q.default} among ${choices}`);
      for (const c of choices) {
        assert.ok(c === q.special || (c >= q.min && c <= q.max && (!q.integer || Number.isInteger(c))), `${m.name}.${q.name}: ${c}`);
      }
    }
    const p = passesOf(m.name, 'block8_sepconv3_act', {});
    assert.ok(Number.isFinite(p) && p >= 0 && (m.multiPass ? p >= 2 : p <= 2), `${m.name}: ${p} passes`);
  }
  S.methods = [];
});

test('the limits protocol.js repeats are gradcam.h\'s and CMakeLists.txt\'s', () => {
  const h = readFileSync(`${root}src/gradcam.h`, 'utf8');
  const def = (name) => Number(new RegExp(`#define ${name} (\\d+)`).exec(h)[1]);
  assert.deepEqual(INPUT_SIZE, { min: def('GC_MIN_INPUT_SIZE'), max: def('GC_MAX_INPUT_SIZE') });
  assert.equal(METRIC_STEPS_MAX, def('GC_MAX_METRIC_STEPS'));
  const cmake = readFileSync(`${root}CMakeLists.txt`, 'utf8');
  assert.equal(MAX_THREADS, Number(/set\(GRADCAM_WASM_POOL_SIZE (\d+)/.exec(cmake)[1]));
});
