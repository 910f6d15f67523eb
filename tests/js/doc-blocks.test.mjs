// doc-blocks.test.mjs - the README's measured figures live in marked blocks written by the
// scripts that measure them (gen-methods' readBlock / replaceBlock): the benchmark block is what
// report.mjs benchBlock makes of one run (its header and its table from the same run), and
// writing a block then reading it gives the block back. (The sizes block is checked against a
// fresh pack by tests/browser/package.test.mjs.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { root } from './helpers.mjs';
import { readBlock, replaceBlock } from '../../tools/release/gen-methods.mjs';
import { BENCH_BY, benchBlock } from '../../tools/bench/report.mjs';
import { SIZES_BY } from '../../tools/release/package.mjs';

test('README.md\'s benchmark block is one run\'s, as npm run bench writes it', () => {
  const block = readBlock(readFileSync(`${root}README.md`, 'utf8'), 'README.md', 'bench', BENCH_BY);
  const head = /^Run (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC \((.*)\), (\d+) cores/.exec(block);
  assert.ok(head, `the block starts with its run: ${block.slice(0, 120)}`);
  assert.doesNotMatch(head[3], /--quick|--no-readme/, 'a full run (bench.mjs writes no block after --quick or --no-readme)');
  const table = /```text\n([^]*)\n```$/.exec(block);
  assert.ok(table, 'then the table, fenced');
  assert.ok(table[1].startsWith(`xception-gradcam benchmark, ${head[1]}T${head[2]}`), 'the table is of the run the header names');
  assert.match(table[1], /\nforward pass +median +min +max/);
  // what benchBlock makes of that run's figures is what the block says
  const date = /^xception-gradcam benchmark, (\S+)/.exec(table[1])[1];
  const load = /, load average ([\d.]+) \/ ([\d.]+) \/ ([\d.]+) \(1 \/ 5 \/ 15 min\) at the start:$/.exec(block.split('\n')[0]);
  const again = benchBlock({
    date, table: table[1],
    host: { hardware_concurrency: Number(head[4]) }, args: [], load: load ? load.slice(1).map(Number) : undefined,
  });
  // the same header but for how the run was started (the arguments, in the first parentheses)
  const how = (line) => line.replace(/ UTC \(.*?\), (\d+) cores/, ' UTC (…), $1 cores');
  assert.equal(how(again.split('\n')[0]), how(block.split('\n')[0]));
  assert.equal(again, block.replace(/^[^\n]*/, again.split('\n')[0]), 'the rest of the block is the table as written');
});

test('a block written is the block read back; missing markers are an error', () => {
  const text = `intro\n<!-- sizes: ${SIZES_BY} -->\nold\n<!-- sizes: end -->\nafter\n`;
  const next = replaceBlock(text, 'X.md', 'sizes', '| a | b |\n|---|---|', SIZES_BY);
  assert.equal(readBlock(next, 'X.md', 'sizes', SIZES_BY), '| a | b |\n|---|---|');
  assert.ok(next.startsWith('intro\n') && next.endsWith('\nafter\n'));
  assert.throws(() => readBlock('no markers', 'X.md', 'sizes', SIZES_BY), /markers of 'sizes' are missing/);
  assert.throws(() => replaceBlock(text, 'X.md', 'sizes', 'x', 'written by someone else'), /markers of 'sizes' are missing/);
});
