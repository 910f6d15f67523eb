// h5-reader.test.mjs - the project's own HDF5 and ZIP readers (src/io) against libhdf5 (h5py) and
// Python's zipfile. tests/tools/h5fixtures.py writes a matrix of files with h5py (superblocks 0-3,
// symbol-table / compact / dense groups, dense attributes, fixed and variable-length strings,
// contiguous / compact / chunked float16/32/64 datasets with gzip 1-9 and shuffle, every chunk
// index, ZIP archives stored, deflated and ZIP64); each must print the same under
// build/native/h5walk and tests/tools/h5walk.py: the same groups, attributes, strings, and float32
// tensors bit for bit (CRC-32 of the values). The WebAssembly build of the readers must print
// exactly what the native build prints.
//
// Other files: H5_READER_FILES=a.h5:b.keras node --test tests/js/h5-reader.test.mjs compares them
// too; other tests can import walkSame() from ./h5-walk.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dataDir, root, testWeights } from './helpers.mjs';
import { kerasFixture, presetFixture } from './fixtures.mjs';
import { assertSameWalk, h5walkWasmPath, python, walkOwn, walkSame, walkWasm } from './h5-walk.mjs';

const dir = `${dataDir}/h5-reader`;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const gen = spawnSync(python, [`${root}tests/tools/h5fixtures.py`, dir], { encoding: 'utf8' });
if (gen.status !== 0) throw new Error(`h5fixtures.py failed: ${gen.stderr}`);
const manifest = gen.stdout.trim().split('\n').map((line) => {
  const [name, ...rest] = line.split(' ');
  const error = rest[0] === 'error:' ? rest.slice(1).join(' ') : null;
  return { name, file: `${dir}/${name}`, error, signatures: error ? [] : rest };
});

test('the fixture matrix holds the structures it is meant to exercise', () => {
  assert.ok(manifest.length >= 12, `${manifest.length} fixtures`);
  for (const { name, file, signatures } of manifest) {
    const bytes = readFileSync(file);
    for (const sig of signatures) {
      const want = sig.startsWith('hex:') ? Buffer.from(sig.slice(4), 'hex') : Buffer.from(sig, 'latin1');
      assert.ok(bytes.includes(want), `${name} has no ${sig} structure`);
    }
    const sb = /^sb(\d)/.exec(name);
    if (sb) assert.equal(bytes[8], Number(sb[1]), `${name}: superblock version`);
  }
});

for (const { name, file, error } of manifest) {
  if (error) {
    test(`${name}: outside the subset, a named error (${error})`, () => {
      const r = walkOwn(file);
      assert.equal(r.signal, null);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stdout, /^error GC_ERR_H5: .*'[^']+': /m, 'the message names the object');
      assert.ok(r.stdout.includes(error), r.stdout);
    });
    continue;
  }
  test(`${name}: read as h5py reads it`, () => {
    const lines = walkSame(file);
    if (/^sb/.test(name)) { // the whole matrix came through, not an early stop
      const count = (re) => lines.filter((l) => re.test(l)).length;
      assert.ok(count(/^dataset .* float /) >= 80, 'float datasets');
      assert.ok(count(/^group /) >= 2000, 'groups');
      assert.ok(count(/^attr .* strings /) >= 60, 'string attributes');
      console.log(`  ${name}: ${lines.length} lines, ${count(/ crc32 /)} float tensors identical`);
    }
  });
}

test('the WebAssembly build reads every fixture as the native build does', () => {
  assert.ok(existsSync(h5walkWasmPath), `${h5walkWasmPath} is missing: run tools/build/build.sh wasm`);
  let lines = 0;
  for (const { name, file } of manifest) {
    const wasm = walkWasm(file);
    const own = walkOwn(file);
    assert.equal(wasm.signal, null, name);
    assert.equal(wasm.status, own.status, `${name}: ${wasm.stderr}`);
    assertSameWalk(name, wasm.stdout, own.stdout, 'wasm', 'native');
    lines += own.stdout.split('\n').length;
  }
  assert.ok(lines > 70000, `${lines} lines compared`);
});

test('the comparison sees the data: one changed byte changes the tensor on both sides', () => {
  const file = `${dir}/keras2.h5`;
  const changed = `${dir}/keras2-changed.h5`;
  copyFileSync(file, changed);
  const where = spawnSync(python, ['-c', `import h5py; f = h5py.File('${file}', 'r');
print(f['predictions/predictions/kernel:0'].id.get_offset())`], { encoding: 'utf8' });
  const offset = Number(where.stdout.trim());
  assert.ok(offset > 0, where.stderr);
  const bytes = readFileSync(changed);
  bytes[offset + 5] ^= 0x10;
  writeFileSync(changed, bytes);
  const before = walkSame(file);
  const after = walkSame(changed);
  const diff = after.filter((l, i) => l !== before[i]);
  assert.equal(diff.length, 1, diff.join('\n'));
  assert.match(diff[0], /^dataset \/predictions\/predictions\/kernel:0 .* crc32 /);
});

// the valid files among the fuzz regressions (written by libhdf5 through tests/fuzz/seeds.c)
for (const name of ['keras-one-layer.h5', 'latest-format.h5']) {
  test(`fuzz regression ${name}: read as h5py reads it`, () => {
    assert.ok(walkSame(`${root}tests/fuzz/regressions/fuzz_h5/${name}`).length > 5);
  });
}

// the model files users bring (the fixtures of the real-models tests) and the official layout
// (the synthetic test weights as Keras' own .h5, 88 MB of float32): the project's reader and
// libhdf5 give the same tensors, bit for bit
const MODEL_FILES = {
  'official layout (Keras 2 weights-only .h5, float32)': async () => testWeights(1).h5,
  'Keras 1 names': async () => (await kerasFixture({ layout: 'keras1', names: 'keras1' })).path,
  'Keras 3 .weights.h5 of the ImageNet model': async () => (await presetFixture('imagenet', { layout: 'keras3-weights' })).path,
  "keras.io's transfer model as .keras": async () => (await presetFixture('transfer')).path,
  'Dense(64, relu) + Dense(5, softmax) as .keras': async () => (await presetFixture('dense5', { layout: 'keras' })).path,
  'Keras 2 model.save() .h5 with the base nested': async () => (await presetFixture('dense5Nested', { layout: 'keras2-full' })).path,
};
for (const [what, file] of Object.entries(MODEL_FILES)) {
  test(`${what}: the project's reader and libhdf5 give the same tensors`, async () => {
    const lines = walkSame(await file());
    assert.ok(lines.filter((l) => l.startsWith('dataset ')).length >= 100, `${what}: every weight tensor walked`);
  });
}

const extra = (process.env.H5_READER_FILES || '').split(':').filter(Boolean);
for (const file of extra) test(`H5_READER_FILES: ${file}`, () => walkSame(file));
