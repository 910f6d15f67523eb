// peak-worker.mjs - runs the peak kernel (peak.mjs) in a Web Worker, so that several threads
// can be measured at the same time: message {chains, unroll, reps, ms} -> {chains, gflops}.
import { measurePeak } from './peak.mjs';

self.onmessage = (e) => {
  try {
    self.postMessage(measurePeak(e.data.chains, e.data));
  } catch (err) {
    self.postMessage({ error: String(err && err.message || err) });
  }
};
