// cli-h5-crash.test.mjs - a .h5 file on which Debian's libhdf5 crashed (found by the fuzz_h5
// fuzzer, when the CLI still read HDF5 with libhdf5) must not crash the CLI: its own reader
// (src/io/h5.c) reports the damaged file (GC_ERR_H5 naming it, exit status 1).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { cli, dataDir, imagesDir, root } from './helpers.mjs';

const damaged = `${root}tests/data/damaged-h5/libhdf5-segv.h5`;

test('a .h5 file that crashed libhdf5: convert and predict exit 1 with a readable message, no signal', () => {
  const out = `${dataDir}/damaged-h5-out.gcw`;
  rmSync(out, { force: true });
  for (const args of [['convert', '--in', damaged, '--out', out],
    ['predict', '--weights', damaged, '--image', `${imagesDir}/skimage_chelsea.png`]]) {
    const r = cli(args);
    assert.equal(r.signal, null, `${args[0]}: killed by ${r.signal}`);
    assert.equal(r.status, 1, `${args[0]}: exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /GC_ERR_H5: .*libhdf5-segv\.h5: /, args[0]);
    console.log(`  ${args[0]}: ${r.stderr.trim().split('\n').pop()}`);
  }
  assert.equal(existsSync(out), false, 'nothing written');
});
