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

/** h5py's reading of a file (throws if h5py fails). */
export function walkH5py(file) {
  const r = run(python, [`${root}tests/tools/h5walk.py`, file]);
  assert.equal(r.status, 0, `h5walk.py ${file}: ${r.stderr}`);
  return r.stdout;
}

/** Both readers print the same for `file`; returns the output's lines. */
export function walkSame(file) {
  const own = walkOwn(file);
  assert.equal(own.signal, null, `h5walk ${file}: killed by ${own.signal}`);
  const oracle = walkH5py(file);
  if (own.stdout !== oracle) {
    const a = own.stdout.split('\n');
    const b = oracle.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`${file}: the readers differ from h5py at line ${i + 1}:\n  own:  ${a[i]?.slice(0, 300)}\n` +
      `  h5py: ${b[i]?.slice(0, 300)}`);
  }
  assert.equal(own.status, 0, `h5walk ${file}: exit ${own.status}: ${own.stderr}`);
  return own.stdout.split('\n').filter(Boolean);
}
