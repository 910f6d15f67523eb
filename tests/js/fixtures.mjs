// fixtures.mjs - Keras model files for the tests, in every layout the core reads, generated at test
// time from the synthetic weights (tools/fixtures/model.mjs) by the project's writer
// (tools/fixtures/write.py, Debian's python3-h5py) and cached in build/test-data/fixtures, keyed
// by the options and the generator's own source. Layouts and their Keras sources:
// tests/fixtures/README.md.
//
//   const f = await kerasFixture({ layout: 'keras', input: [150, 150], nested: true, augment: true,
//     rescaling: { scale: 1 / 127.5, offset: -1 }, dropout: 0.2, head: [{ units: 1 }] });
//   f.path   the file (a directory for 'tfjs': f.path/model.json)
//   f.raw    the raw form the file was written from (model.json + weights.f32), what the oracle reads
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWriter, writeRaw, PYTHON, WRITER } from '../../tools/fixtures/gen-test-weights.mjs';
import { DEFAULTS, normalizeOptions } from '../../tools/fixtures/model.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const fixturesDir = `${root}build/test-data/fixtures`;
const toolsDir = `${root}tools/fixtures`;

/** Every layout of the writer, with the file name each is written under. */
export const LAYOUTS = Object.freeze({
  keras1: 'model.h5', keras2: 'model.h5', 'keras2-full': 'model.h5', 'keras3-weights': 'model.weights.h5',
  keras: 'model.keras', tfjs: 'tfjs',
});

// The writer's options (beyond the model's): command-line flags of tools/fixtures/write.py.
const WRITER_OPTIONS = {
  names: (v) => ['--names', v], kerasVersion: (v) => ['--keras-version', v], strings: (v) => ['--strings', v],
  groups: (v) => ['--groups', v], compiled: (v) => (v ? ['--compiled'] : []), frozenBase: (v) => (v ? ['--frozen-base'] : []),
  flavour: (v) => ['--flavour', v], suffix: (v) => (v ? ['--suffix'] : []),
};

/** The fixtures the issue names, by name (options for kerasFixture, layout left to the caller where absent). */
export const PRESETS = Object.freeze({
  imagenet: {},
  notop: { notop: true },
  // keras.io's transfer-learning guide: Xception base (include_top=False) called with
  // training=False inside a model with augmentation, Rescaling, GAP, Dropout(0.2), Dense(1)
  transfer: {
    layout: 'keras', input: [150, 150], nested: true, augment: true, rescaling: { scale: 1 / 127.5, offset: -1 },
    dropout: 0.2, head: [{ units: 1, activation: 'linear' }], compiled: true,
  },
  dense5: { input: [150, 150], head: [{ units: 64, activation: 'relu' }, { units: 5, activation: 'softmax' }] },
  dense5Nested: { input: [150, 150], nested: true, dropout: 0.2, head: [{ units: 64, activation: 'relu' }, { units: 5, activation: 'softmax' }] },
});

let stamp;
/** A hash of the generator's and writer's sources: a change to them regenerates every fixture. */
function sourceStamp() {
  if (!stamp) {
    const h = createHash('sha256');
    for (const f of readdirSync(toolsDir).sort()) if (/\.(py|mjs)$/.test(f)) h.update(f).update(readFileSync(join(toolsDir, f)));
    h.update(readFileSync(`${root}tools/fixtures/gen-test-weights.mjs`));
    stamp = h.digest('hex').slice(0, 12);
  }
  return stamp;
}

const key = (o) => createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 16);

function modelOptions(o) {
  const m = {};
  for (const k of Object.keys(DEFAULTS)) if (o[k] !== undefined) m[k] = o[k];
  return normalizeOptions(m);
}

/** The raw form of a model (cached): {dir, model: parsed model.json}. */
export function rawModel(seed = 1, options = {}) {
  const opts = modelOptions(options);
  const dir = `${fixturesDir}/raw-${key({ seed, opts, stamp: sourceStamp() })}`;
  if (!existsSync(`${dir}/model.json`)) {
    const tmp = `${dir}.tmp${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    writeRaw(tmp, seed, opts);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return { dir, model: JSON.parse(readFileSync(`${dir}/model.json`, 'utf8')) };
}

/**
 * A model file in one layout (cached). Options: layout (required, a key of LAYOUTS), seed (1),
 * the model's (input [h, w] 71..1024, notop, pooling 'avg'|'max', dropout rate|null,
 * head [{units, activation}], rescaling {scale, offset}|null, augment, nested) and the writer's
 * (names keras1|keras2.1|tf.keras|keras3, kerasVersion, strings h5py2|h5py3, groups eager|lazy,
 * compiled, frozenBase, flavour converter|tfjs-layers, suffix).
 * Or {layout, other: 'resnet-like'}: a small model that is not Xception.
 * Returns {path, raw, layout, options}.
 */
export async function kerasFixture({ layout, seed = 1, other, ...rest } = {}) {
  if (!LAYOUTS[layout]) throw new Error(`unknown layout ${layout}; one of ${Object.keys(LAYOUTS).join(', ')}`);
  const args = [];
  for (const [k, v] of Object.entries(rest)) {
    if (WRITER_OPTIONS[k]) { if (v !== undefined) args.push(...WRITER_OPTIONS[k](v)); } else if (!(k in DEFAULTS)) throw new Error(`unknown fixture option ${k}`);
  }
  const opts = other ? null : modelOptions(rest);
  const dir = `${fixturesDir}/${layout}-${key({ seed, opts, other, args, stamp: sourceStamp() })}`;
  const path = `${dir}/${LAYOUTS[layout]}`;
  const raw = other ? null : rawModel(seed, opts).dir;
  if (!existsSync(`${dir}/.done`)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    if (other) {
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(PYTHON, [WRITER, '--other', other, layout, path, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`write.py --other ${other} failed: ${r.stderr || r.error}`);
    } else {
      runWriter(raw, layout, path, args);
    }
    (await import('node:fs')).writeFileSync(`${dir}/.done`, '');
  }
  return { path, raw, layout, options: opts };
}

/** One fixture from PRESETS, in the given layout where the preset leaves it open. */
export function presetFixture(name, overrides = {}) {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset ${name}`);
  return kerasFixture({ ...p, ...overrides });
}
