// bad-models.mjs - the model and class names files of the bad-input table's `m-` and `l-` rows
// (tests/BAD-INPUTS.md), made at test time: damaged HDF5 and ZIP files and edited Keras files by
// tests/tools/damage.py from the fixtures of fixtures.mjs, class names files here. Cached in
// build/test-data/bad-models/ (keyed by damage.py's source and the source file). The same files
// run on the CLI, the Node engine (bad-inputs-table.test.mjs) and Chromium (hardening.test.mjs).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kerasFixture, presetFixture } from './fixtures.mjs';
import { testWeights } from '../../tools/fixtures/test-weights.mjs';
import { PYTHON } from '../../tools/fixtures/gen-test-weights.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const badModelsDir = `${root}build/test-data/bad-models`;
const DAMAGE = `${root}tests/tools/damage.py`;

// the source each kind edits (null: made from nothing)
const SOURCES = {
  imagenetH5: () => testWeights(1).h5,
  transfer: async () => (await presetFixture('transfer')).path,
  keras3: async () => (await kerasFixture({ layout: 'keras3-weights' })).path,
  keras1: async () => (await kerasFixture({ layout: 'keras1' })).path,
  notXception: async () => (await kerasFixture({ layout: 'keras', other: 'resnet-like' })).path,
};

/** Row id -> {kind (damage.py) or copy (a fixture as it is), source, ext, labels?}. */
export const MODEL_ROWS = {
  'm-not-xception': { copy: 'notXception', ext: 'keras' },
  'm-keras-no-weights': { kind: 'keras-no-weights', source: 'transfer', ext: 'keras' },
  'm-config-missing-layer': { kind: 'keras-missing-layer', source: 'transfer', ext: 'keras' },
  'm-head-mismatch': { kind: 'keras-head-mismatch', source: 'transfer', ext: 'keras' },
  'm-keras3-counter-gap': { kind: 'keras3-counter-gap', source: 'keras3', ext: 'weights.h5' },
  'm-keras1-missing-bn': { kind: 'keras1-missing-bn', source: 'keras1', ext: 'h5' },
  'm-input-size': { kind: 'keras-input-size', source: 'transfer', ext: 'keras' },
  'm-lstm-head': { kind: 'keras-lstm-head', source: 'transfer', ext: 'keras' },
  'm-h5-truncated-superblock': { kind: 'h5-truncated-superblock', source: 'imagenetH5', ext: 'h5' },
  'm-h5-ohdr-loop': { kind: 'h5-ohdr-loop', ext: 'h5' },
  'm-h5-btree-cycle': { kind: 'h5-btree-cycle', ext: 'h5' },
  'm-h5-chunk-past-end': { kind: 'h5-chunk-past-end', source: 'imagenetH5', ext: 'h5' },
  'm-h5-deflate-bomb': { kind: 'h5-deflate-bomb', source: 'imagenetH5', ext: 'h5' },
  'm-zip-entry-larger': { kind: 'zip-entry-larger', ext: 'keras' },
  'm-zip-path-outside': { kind: 'zip-path-outside', ext: 'keras' },
  'm-tfjs-missing-shards': { kind: 'tfjs-missing-shards', ext: 'json' },
  'm-h5-other-model': { kind: 'h5-other-model', ext: 'h5' },
  // class names with the ImageNet test weights (.gcw)
  'l-count': { labels: 'cat\ndog\nbird\n', ext: 'gcw' },
  'l-not-text': { labels: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), ext: 'gcw' },
};

let stamp;
const stampOf = () => (stamp ??= createHash('sha256').update(readFileSync(DAMAGE)).digest('hex').slice(0, 12));

/**
 * The files of a row: {model: path (named model.<ext>), labels?: path}. Made once, then cached.
 */
export async function badModel(id) {
  const row = MODEL_ROWS[id];
  if (!row) throw new Error(`no bad model ${id}`);
  const source = row.copy ? await SOURCES[row.copy]() : row.source ? await SOURCES[row.source]() : null;
  const key = createHash('sha256').update(JSON.stringify({ id, row: { ...row, labels: row.labels && String(row.labels) }, source, stamp: stampOf(),
    mtime: source ? statSync(source).mtimeMs : 0 })).digest('hex').slice(0, 12);
  const dir = `${badModelsDir}/${id}-${key}`;
  const model = `${dir}/model.${row.ext}`;
  const out = { model };
  if (row.labels) {
    out.model = testWeights(1).f16;
    out.labels = `${dir}/labels.txt`;
    if (!existsSync(out.labels)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(out.labels, row.labels);
    }
    return out;
  }
  if (!existsSync(model)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${dir}/tmp-${process.pid}.${row.ext}`;
    if (row.copy) writeFileSync(tmp, readFileSync(source));
    else {
      const r = spawnSync(PYTHON, [DAMAGE, row.kind, tmp, ...(source ? [source] : [])], { encoding: 'utf8', maxBuffer: 16 << 20 });
      if (r.status !== 0) throw new Error(`damage.py ${row.kind} failed: ${r.stderr}`);
    }
    renameSync(tmp, model);
  }
  return out;
}
