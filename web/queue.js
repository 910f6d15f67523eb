// queue.js - the page side's queue of calls to the worker (protocol.js): one call at a time, in
// call order; an aborted call leaves the queue, or is told to stop when it runs (and its worker
// is replaced by a fresh one after restartOnAbort ms); a dead worker fails every call.
import { aborted, ErrorCode, GradCamError } from './errors.js';
import * as P from './protocol.js';

export const disposed = () => new GradCamError(ErrorCode.DISPOSED, 'this GradCam instance was disposed');

export class WorkerCalls {
  /** @param {Worker} worker @param {{restartOnAbort, boot, flag, dtype}} defaults */
  constructor(worker, defaults) {
    this._defaults = defaults;
    this._weightsSource = null; // what the last successful loadWeights() loaded, for a restarted worker
    this._attach(worker);
    this._queue = []; // calls not yet sent: {id, op, args, prepare, resolve, reject, signal, onProgress}
    this._current = null; // the call the worker is running
    this._nextId = 1;
    this._disposed = false;
  }

  _attach(worker) {
    this._worker = worker;
    worker.onmessage = (ev) => this._onMessage(ev.data);
    worker.onerror = (ev) => {
      if (ev.preventDefault) ev.preventDefault();
      this._fail(new GradCamError(ErrorCode.WORKER_FAILED, `the worker failed: ${ev.message || 'it could not be started (check that worker.js is served as JavaScript)'}`));
    };
    worker.onmessageerror = () => this._fail(new GradCamError(ErrorCode.WORKER_FAILED, 'a message from the worker could not be read'));
  }


  /** Free the module and end the worker (and its thread workers). Pending calls reject with DISPOSED. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    const err = disposed();
    for (const c of this._queue.splice(0)) c.reject(err);
    if (this._current) { this._current.reject(err); this._current = null; }
    this._worker.onmessage = null;
    this._worker.onerror = null;
    this._worker.terminate();
  }

  get disposed() { return this._disposed; }

  // ---- the queue ------------------------------------------------------------------------
  _alive() { if (this._disposed) throw disposed(); }

  _call(op, args, { signal, onProgress, prepare, front = false } = {}) {
    if (this._disposed) return Promise.reject(disposed());
    if (signal && signal.aborted) return Promise.reject(aborted());
    return new Promise((resolve, reject) => {
      const call = { id: this._nextId++, op, args, onProgress, signal, settled: false };
      // start preparing the input now (decoding an element into a bitmap can take a while);
      // it is sent in queue order all the same
      call.prepared = prepare ? Promise.resolve().then(prepare) : Promise.resolve({ args, transfer: [] });
      call.prepared.catch(() => {}); // reported when the call's turn comes
      const cleanup = () => { if (signal) signal.removeEventListener('abort', onAbort); };
      call.resolve = (v) => { if (!call.settled) { call.settled = true; cleanup(); resolve(v); } };
      call.reject = (e) => { if (!call.settled) { call.settled = true; cleanup(); reject(e); } };
      const onAbort = () => {
        const i = this._queue.indexOf(call);
        if (i >= 0) this._queue.splice(i, 1);
        else if (this._current === call) {
          P.cancel(this._defaults.flag, call.id); // the core stops before its next pass
          this._worker.postMessage(P.abort(call.id));
          this._restartIfStuck(call);
        }
        call.reject(aborted());
      };
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      if (front) this._queue.unshift(call);
      else this._queue.push(call);
      this._pump();
    });
  }

  async _pump() {
    if (this._current || this._disposed || this._pumping) return;
    this._pumping = true;
    try {
      while (!this._current && this._queue.length && !this._disposed) {
        const call = this._queue[0];
        let prepared;
        try {
          prepared = await call.prepared;
        } catch (e) {
          if (this._queue[0] === call) this._queue.shift();
          call.reject(e instanceof GradCamError ? e : new GradCamError(ErrorCode.INVALID_ARGUMENT, e.message || String(e)));
          continue;
        }
        if (this._disposed) return;
        if (this._queue[0] !== call) continue; // aborted while preparing
        this._queue.shift();
        this._current = call;
        try {
          this._worker.postMessage(P.call(call.id, call.op, prepared.args), prepared.transfer);
        } catch (e) {
          this._current = null;
          call.reject(new GradCamError(ErrorCode.INVALID_ARGUMENT, `the input cannot be sent to the worker: ${e.message || e}`));
        }
      }
    } finally {
      this._pumping = false;
    }
  }

  // ---- restart on abort ----------------------------------------------------------------
  /** After an abort of the running call: if the worker has not answered within
   *  restartOnAbort ms, replace it (without the shared flag the core cannot stop inside a
   *  multi-pass stage). */
  _restartIfStuck(call) {
    const ms = this._defaults.restartOnAbort;
    if (ms === false || !this._defaults.boot.wasmModule) return;
    clearTimeout(this._stuckTimer);
    this._stuckTimer = setTimeout(() => {
      if (this._current === call && !this._disposed) this._restart();
    }, ms);
  }

  _restart() {
    const { boot } = this._defaults;
    this._worker.onmessage = null;
    this._worker.onerror = null;
    this._worker.terminate();
    this._current = null;
    this._keptKey = null;
    this.restarts = (this.restarts || 0) + 1;
    let worker;
    try {
      worker = startWorker(boot.workerUrl);
    } catch (e) {
      this._fail(e);
      return;
    }
    this._attach(worker);
    // the fresh worker's init and weights go before every waiting call
    const failed = (e) => this._fail(new GradCamError(ErrorCode.WORKER_FAILED, `the worker could not be restarted: ${e.message || e}`));
    const weights = this._weightsSource;
    if (weights) this._call('weights', { ...weights, dtype: this._defaults.dtype }, { front: true }).catch(failed);
    this._call('init', { ...boot.init, wasmModule: boot.wasmModule }, { front: true }).catch(failed);
  }

  _onMessage(msg) {
    const call = this._current;
    if (!call || msg.id !== call.id) return; // a late answer to a call that was disposed of
    if (msg.type === 'progress') {
      if (call.onProgress && !call.settled) {
        try { call.onProgress(msg.progress); } catch (e) { console.error(e); }
      }
      return;
    }
    this._current = null;
    clearTimeout(this._stuckTimer);
    if (msg.type === 'result') call.resolve(msg.value);
    else call.reject(GradCamError.from(msg.error));
    this._pump();
  }

  _fail(err) {
    if (this._disposed) return;
    if (this._current) { this._current.reject(err); this._current = null; }
    for (const c of this._queue.splice(0)) c.reject(err);
    this._disposed = true;
    this._worker.terminate();
  }
}

export function startWorker(workerUrl) {
  try {
    return workerUrl
      ? new Worker(workerUrl, { type: 'module', name: 'xception-gradcam' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'xception-gradcam' });
  } catch (e) {
    throw new GradCamError(ErrorCode.WORKER_FAILED, `could not start the worker: ${e.message || e}`);
  }
}
