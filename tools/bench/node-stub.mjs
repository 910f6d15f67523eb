// node-stub.mjs - 'node:fs' and 'node:path' for the benchmark page (import map): the oracle
// module imports them for its file readers, which the page never calls.
export default new Proxy({}, { get: (_, k) => () => { throw new Error(`node module function ${String(k)} used in the browser`); } });
