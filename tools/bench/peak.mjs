// peak.mjs - the machine's ceiling for wasm SIMD arithmetic: a WebAssembly module, assembled
// here byte by byte, whose only work is `chains` independent dependency chains of
//   acc_i = f32x4.add(f32x4.mul(acc_i, m), a)            (op 'muladd': the SIMD builds' kernels)
//   acc_i = f32x4.relaxed_madd(acc_i, m, a)               (op 'fma': the relaxed SIMD build's)
// kept in locals (registers): no memory traffic at all. Each chain step is 8 floating-point
// operations (4 lanes x multiply + add), one instruction or two. With one chain the loop runs at the latency of a
// multiply plus an add; with enough chains it runs at the throughput of the SIMD units, which
// is the peak. Used by the benchmark page (tools/bench/page.mjs) and its peak worker.

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n) => { // signed LEB128 (i32.const)
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const section = (id, body) => [id, ...leb(body.length), ...body];
const vec = (items) => [...leb(items.length), ...items.flat()];
const f32x4const = (v) => {
  const b = new Uint8Array(new Float32Array([v, v * 1.01, v * 1.02, v * 1.03]).buffer);
  return [0xfd, 0x0c, ...b];
};
const SIMD = {
  mul: [0xfd, ...leb(0xe6)], add: [0xfd, ...leb(0xe4)], madd: [0xfd, ...leb(0x105)], extract0: [0xfd, ...leb(0x1f), 0],
};

/**
 * Bytes of a module exporting run(iters: i32) -> f32, doing iters x unroll x chains chain steps
 * (8 flop each). Locals: 0 = iters, 1..chains = accumulators, chains+1 = m, chains+2 = a.
 * op 'fma' needs relaxed SIMD (the module does not validate elsewhere).
 */
export function peakModuleBytes(chains, unroll = 4, op = 'muladd') {
  const M = chains + 1, A = chains + 2;
  const body = [];
  body.push(...vec([[...leb(chains + 2), 0x7b]])); // (chains + 2) v128 locals
  for (let i = 1; i <= chains; i++) body.push(...f32x4const(0.5 + i / 64), 0x21, ...leb(i));
  body.push(...f32x4const(0.9999), 0x21, ...leb(M));
  body.push(...f32x4const(0.0001), 0x21, ...leb(A));
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  for (let u = 0; u < unroll; u++) {
    for (let i = 1; i <= chains; i++) {
      if (op === 'fma') body.push(0x20, ...leb(i), 0x20, ...leb(M), 0x20, ...leb(A), ...SIMD.madd, 0x21, ...leb(i));
      else body.push(0x20, ...leb(i), 0x20, ...leb(M), ...SIMD.mul, 0x20, ...leb(A), ...SIMD.add, 0x21, ...leb(i));
    }
  }
  // iters -= 1; br_if loop
  body.push(0x20, 0, 0x41, ...sleb(1), 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x0b);
  body.push(0x20, 1);
  for (let i = 2; i <= chains; i++) body.push(0x20, ...leb(i), ...SIMD.add);
  body.push(...SIMD.extract0, 0x0b);
  const code = [...leb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 1, 0x7f, 1, 0x7d]])), // type 0: (i32) -> f32
    ...section(3, vec([[0]])), // one function of type 0
    ...section(7, vec([[...leb(3), 0x72, 0x75, 0x6e, 0x00, 0]])), // export "run" = func 0
    ...section(10, vec([code])),
  ]);
}

/**
 * GFLOP/s of one chain count on this thread: best of `reps` timed calls, each sized to take
 * about `ms` milliseconds (calibrated on the first calls). Returns {chains, op, gflops, checksum}.
 */
export function measurePeak(chains, { unroll = 4, reps = 5, ms = 80, op = 'muladd' } = {}) {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(peakModuleBytes(chains, unroll, op)));
  const run = inst.exports.run;
  const flopPerIter = 8 * chains * unroll;
  let iters = 1000;
  let checksum = 0;
  for (;;) { // calibrate (this also warms the code up to the optimising tier)
    const t0 = performance.now();
    checksum += run(iters);
    const dt = performance.now() - t0;
    if (dt > ms / 4) { iters = Math.max(1, Math.round(iters * ms / dt)); break; }
    iters *= 4;
  }
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    checksum += run(iters);
    const dt = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * flopPerIter) / dt / 1e9);
  }
  if (!Number.isFinite(checksum)) throw new Error('peak kernel produced a non-finite value');
  return { chains, op, gflops: best, checksum };
}

export const CHAIN_COUNTS = [1, 2, 3, 4, 6, 8, 10, 12, 14];
