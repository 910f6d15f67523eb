// node-stub.mjs - the node: modules the oracle module imports (node:fs, node:path, node:os,
// node:child_process, node:url), for the benchmark page (import map): only its file readers use
// them, which the page never calls.
const fail = (k) => () => { throw new Error(`node module function ${String(k)} used in the browser`); };
export default new Proxy({}, { get: (_, k) => fail(k) });
export const spawnSync = fail('spawnSync');
export const fileURLToPath = fail('fileURLToPath');
