// cli-h5-crash.test.mjs - a .h5 file on which Debian's libhdf5 crashes (found by the fuzz_h5
// fuzzer) must not crash the CLI: it reads .h5 files in a child process and reports a damaged
// file (GC_ERR_CONVERT, exit status 1). Before that, `gradcam predict` / `convert` on this file
// died with SIGSEGV (exit status 139).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { cli, dataDir, imagesDir, root } from './helpers.mjs';

const damaged = `${root}tests/data/damaged-h5/libhdf5-segv.h5`;

test('a .h5 file that crashes libhdf5: convert and predict exit 1 with a readable message, no signal', () => {
  const out = `${dataDir}/damaged-h5-out.gcw`;
  rmSync(out, { force: true });
  for (const args of [['convert', '--in', damaged, '--out', out],
    ['predict', '--weights', damaged, '--image', `${imagesDir}/skimage_chelsea.png`]]) {
    const r = cli(args);
    assert.equal(r.signal, null, `${args[0]}: killed by ${r.signal}`);
    assert.equal(r.status, 1, `${args[0]}: exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /GC_ERR_CONVERT: .*libhdf5-segv\.h5/, args[0]);
    console.log(`  ${args[0]}: ${r.stderr.trim().split('\n').pop()}`);
  }
  assert.equal(existsSync(out), false, 'nothing written');
});
