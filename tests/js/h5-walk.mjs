// h5-walk.mjs - the project's HDF5/ZIP readers (src/io, through build/native/h5walk) and h5py
// (tests/tools/h5walk.py, Debian's python3-h5py on libhdf5) walking the same file. Other tests
// import walkSame() to demand that any file (a Keras .h5, .weights.h5 or .keras fixture) reads
// identically: the same groups, attributes and strings, and the same float32 tensors bit for bit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { root } from './helpers.mjs';

export const h5walkPath = `${root}build/native/h5walk`;
// Debian's interpreter: a python3 earlier on PATH (pyenv) may have no h5py
export const python = '/usr/bin/python3';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The project's readers on a file: {status, stdout, stderr}. */
export const walkOwn = (file) => run(h5walkPath, [file]);

// the same readers compiled to WebAssembly (tools/build/build.sh wasm), run under Node
export const h5walkWasmPath = `${root}build/wasm-st/h5walk.js`;
export const walkWasm = (file) => run(process.execPath, ['--no-experimental-fetch', h5walkWasmPath, file]);

/** h5py's reading of a file (throws if h5py fails). */
export function walkH5py(file) {
  const r = run(python, [`${root}tests/tools/h5walk.py`, file]);
  assert.equal(r.status, 0, `h5walk.py ${file}: ${r.stderr}`);
  return r.stdout;
}

/** Fails, showing the first line that differs, unless the two walks printed the same. */
export function assertSameWalk(file, got, want, gotName, wantName) {
  if (got === want) return;
  const a = got.split('\n');
  const b = want.split('\n');
  const i = Math.max(0, a.findIndex((line, k) => line !== b[k]));
  assert.fail(`${file}: ${gotName} differs from ${wantName} at line ${i + 1}:\n  ${gotName}: ${a[i]?.slice(0, 300)}\n` +
    `  ${wantName}: ${b[i]?.slice(0, 300)}`);
}

/** Both readers print the same for `file`; returns the output's lines. */
export function walkSame(file) {
  const own = walkOwn(file);
  assert.equal(own.signal, null, `h5walk ${file}: killed by ${own.signal}`);
  assertSameWalk(file, own.stdout, walkH5py(file), 'own', 'h5py');
  assert.equal(own.status, 0, `h5walk ${file}: exit ${own.status}: ${own.stderr}`);
  return own.stdout.split('\n').filter(Boolean);
}
