#!/usr/bin/env node
// gen-methods.mjs - the explanation methods in the docs and types, written from the core's
// registry (src/methods/registry.c, read through the WebAssembly build): the method-name union
// and the methodOptions interface of web/index.d.ts, and the methods tables of README.md (CLI
// options) and web/README.md (methodOptions), each between marker comments. `npm run package`
// runs it; tests/js/registry.test.mjs runs it with --check (exit 1 when a file differs).
// readBlock / replaceBlock are also how package.mjs (sizes) and bench.mjs (figures) write theirs.
//
//   node tools/release/gen-methods.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNodeCore } from '../test/node-core.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

const range = (q) => `${q.min}..${q.max}${q.special ? ` or '${q.special}'` : ''}${q.integer ? '' : ' (any number)'}`;

function dtsUnion(methods) {
  return `export type Method =\n${methods.map((m) => `  | '${m.name}'`).join('\n')};`;
}

function dtsOptions(methods) {
  const lines = ['export interface MethodOptions {'];
  const seen = new Set();
  for (const m of methods) {
    for (const q of m.params) {
      if (seen.has(q.name)) continue;
      seen.add(q.name);
      const users = methods.filter((x) => x.params.some((p) => p.name === q.name)).map((x) => x.label).join(', ');
      const type = q.special ? `number | '${q.special}'` : 'number';
      lines.push(`  /** ${users}: ${q.label} [${q.default}], ${range(q)}. */`, `  ${q.name}?: ${type};`);
    }
  }
  lines.push('  /** Every method: the score explained, the class logit (pre-softmax) or its probability [\'logit\']. */',
    "  target?: 'logit' | 'prob';", '}');
  return lines.join('\n');
}

const cell = (s) => String(s).replace(/\|/g, '\\|');

function table(methods, { cli }) {
  const head = '| name | method | definition | reference | kind | settings |\n|---|---|---|---|---|---|';
  const rows = methods.map((m) => {
    const kind = [m.usesLayer ? 'layer' : 'input', m.channels === 3 ? 'RGB' : '', m.needsClass ? '' : 'no class', m.multiPass ? 'extra passes' : '']
      .filter(Boolean).join(', ');
    const settings = m.params.map((q) => `${cli ? `\`--${q.cli}\`` : `\`${q.name}\``} ${range(q)}, default ${q.default}: ${q.label}`).join('; ') || '—';
    return `| \`${m.name}\` | ${cell(m.label)} | ${cell(m.formula)} | ${cell(m.reference)} | ${kind} | ${cell(settings)} |`;
  });
  return [head, ...rows].join('\n');
}

/** [file, marker name, text] for every generated block. */
export function blocks(methods) {
  return [
    ['web/index.d.ts', 'methods', dtsUnion(methods)],
    ['web/index.d.ts', 'method options', dtsOptions(methods)],
    ['README.md', 'methods table', table(methods, { cli: true })],
    ['web/README.md', 'methods table', table(methods, { cli: false })],
  ];
}

const REGISTRY = "generated from the core's registry by tools/release/gen-methods.mjs";
const markers = (file, name, by) => (file.endsWith('.md')
  ? [`<!-- ${name}: ${by} -->`, `<!-- ${name}: end -->`]
  : [`// ${name}: ${by}`, `// ${name}: end`]);

/** The text between a block's markers (without its newlines); throws when the markers are missing. */
export function readBlock(text, file, name, by = REGISTRY) {
  const { a, i, j } = findBlock(text, file, name, by);
  return text.slice(i + a.length + 1, j - 1);
}

/** Where the block's markers are: {a: the opening marker, i: its index, j: the closing one's}. */
function findBlock(text, file, name, by) {
  const [a, b] = markers(file, name, by);
  const i = text.indexOf(a);
  const j = text.indexOf(b);
  if (i < 0 || j < i) throw new Error(`${file}: the markers of '${name}' are missing`);
  return { a, i, j };
}

/** The file's text with the block replaced; throws when the markers are missing. Every marked
 *  block of the docs is written through this (by: who writes it, in its opening marker). */
export function replaceBlock(text, file, name, body, by = REGISTRY) {
  const { a, i, j } = findBlock(text, file, name, by);
  return `${text.slice(0, i + a.length)}\n${body}\n${text.slice(j)}`;
}

/** Replace the block in the file `file` (relative to the project's root) on disk; true when
 *  its text changed. */
export function writeBlock(file, name, body, by = REGISTRY) {
  const path = `${root}${file}`;
  const text = readFileSync(path, 'utf8');
  const next = replaceBlock(text, file, name, body, by);
  if (next !== text) writeFileSync(path, next);
  return next !== text;
}

/** Write (or, with check, compare) every block; returns the files that differ. */
export async function generate({ check = false } = {}) {
  const core = await loadNodeCore('st');
  const methods = core.methods();
  const texts = new Map();
  for (const [file, name, body] of blocks(methods)) {
    const text = texts.get(file) ?? readFileSync(`${root}${file}`, 'utf8');
    texts.set(file, replaceBlock(text, file, name, body));
  }
  const differ = [];
  for (const [file, text] of texts) {
    if (readFileSync(`${root}${file}`, 'utf8') === text) continue;
    differ.push(file);
    if (!check) writeFileSync(`${root}${file}`, text);
  }
  return differ;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let differ;
  try {
    differ = await generate({ check });
  } catch (e) {
    console.error(`gen-methods: ${e.message}`);
    process.exit(1);
  }
  if (check && differ.length) {
    console.error(`gen-methods: ${differ.join(', ')} disagree with the core's method registry: run node tools/release/gen-methods.mjs`);
    process.exit(1);
  }
  console.log(differ.length ? `gen-methods: wrote ${differ.join(', ')}` : 'gen-methods: every block agrees with the registry');
}
