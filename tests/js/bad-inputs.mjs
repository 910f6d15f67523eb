// bad-inputs.mjs - reads the reviewed table of bad inputs (tests/BAD-INPUTS.md), which the
// tests check row by row against the real behaviour (tests/js/bad-inputs-table.test.mjs for the
// CLI and the Node engine, tests/browser/hardening.test.mjs for Chromium), and README.md's copy
// of it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const TABLE_FILE = `${root}tests/BAD-INPUTS.md`;
const START = '<!-- bad-inputs table: start -->';
const END = '<!-- bad-inputs table: end -->';

/** The paths a row can name: `engine, chromium` is one input giving the same result through the
 *  Node engine and the API in Chromium (the same worker code). */
export const PATHS = ['cli', 'engine', 'chromium', 'engine, chromium'];

/** The Chromium-only rows' ids (their runners are in tests/browser/hardening.test.mjs). */
export const CHROMIUM_IDS = ['c-text', 'c-svg', 'c-truncated-png', 'c-png16', 'c-cmyk-jpeg', 'c-animated-gif',
  'c-huge-header', 'c-abort-queued', 'c-disposed', 'c-oom'];

/** The table's lines (between the markers) of a Markdown file. */
export function tableText(path) {
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${path}: the table markers are missing`);
  return text.slice(a + START.length, b).trim();
}

/** The rows: {id, input, path, result, message}; `result` is `accepted`, `exit 1 GC_ERR_X`
 *  (CLI) or `CODE` / `CODE (DETAIL)` (JS). Cells are backquoted or plain; `\|` is a pipe. */
export function readRows(path = TABLE_FILE) {
  const lines = tableText(path).split('\n').filter((l) => l.startsWith('|'));
  const header = cells(lines[0]);
  if (header.join(',') !== 'id,input,path,result,message or outcome') throw new Error(`unexpected header ${header}`);
  return lines.slice(2).map((l) => {
    const c = cells(l);
    if (c.length !== 5) throw new Error(`row with ${c.length} cells: ${l}`);
    return { id: c[0], input: c[1], path: c[2], result: c[3], message: c[4] };
  });
}

function cells(line) {
  return line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|').replace(/^`(.*)`$/, '$1'));
}

/** `CODE (DETAIL)` for a GradCamError, `exit N GC_ERR_X` for a CLI run. */
export function jsResult(e) { return e.detail && e.detail !== e.code ? `${e.code} (${e.detail})` : e.code; }
