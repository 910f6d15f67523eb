// demo-files.test.mjs - the demo page's files: the service worker's lists of the page's modules
// and the package's are the folders web/demo/parts/ and web/ (their one home is the folder; sw.js
// must name each file to keep it offline), every module the page imports exists, and no
// JavaScript file of web/ grows past 500 lines (the project's limit: split by job).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { root } from './helpers.mjs';

const demo = `${root}web/demo/`;

test('sw.js keeps every module of parts/ and nothing else', () => {
  const sw = readFileSync(`${demo}sw.js`, 'utf8');
  const m = /const PARTS = \[([^\]]*)\]/.exec(sw);
  assert.ok(m, 'sw.js has a PARTS list');
  const listed = [...m[1].matchAll(/'([^']+)'/g)].map((x) => `${x[1]}.js`).sort();
  const files = readdirSync(`${demo}parts`).filter((f) => f.endsWith('.js')).sort();
  assert.deepEqual(listed, files);
});

test('sw.js keeps every module of the package (web/*.js) and nothing else', () => {
  const sw = readFileSync(`${demo}sw.js`, 'utf8');
  const m = /const MODULES = \[([^\]]*)\]/.exec(sw);
  assert.ok(m, 'sw.js has a MODULES list');
  const listed = [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]).sort();
  assert.deepEqual(listed, readdirSync(`${root}web`).filter((f) => f.endsWith('.js')).sort());
});

test('every relative import of the demo resolves to a file', () => {
  const files = ['demo.js', ...readdirSync(`${demo}parts`).map((f) => `parts/${f}`)];
  for (const f of files) {
    const text = readFileSync(`${demo}${f}`, 'utf8');
    for (const [, spec] of text.matchAll(/from '(\.[^']+)'/g)) {
      const target = new URL(spec, `file://${demo}${f}`).pathname;
      assert.doesNotThrow(() => readFileSync(target), `${f} imports ${spec}`);
    }
  }
});

test('no JavaScript file of web/ is over 500 lines', () => {
  const long = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${dir}${e.name}/`);
      else if (e.name.endsWith('.js')) {
        const n = readFileSync(`${dir}${e.name}`, 'utf8').split('\n').length;
        if (n > 500) long.push(`${dir.slice(root.length)}${e.name}: ${n}`);
      }
    }
  };
  walk(`${root}web/`);
  assert.deepEqual(long, []);
});
