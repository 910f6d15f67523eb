// errors.js - the one error class of the public API and the mapping from the C core's
// statuses to its codes. Shared by the page side (index.js) and the worker (worker.js).

/** Every code a GradCamError can carry (also exported as `ErrorCode`). */
export const ErrorCode = Object.freeze({
  WEIGHTS_INVALID: 'WEIGHTS_INVALID', // bytes are not usable Xception weights (see `detail`)
  WEIGHTS_FETCH_FAILED: 'WEIGHTS_FETCH_FAILED', // the weights URL could not be fetched (network, HTTP status)
  H5WASM_UNAVAILABLE: 'H5WASM_UNAVAILABLE', // a Keras .h5 file was given but h5wasm could not be imported
  WASM_LOAD_FAILED: 'WASM_LOAD_FAILED', // the .wasm / .mjs files could not be fetched, compiled or started
  IMAGE_INVALID: 'IMAGE_INVALID', // not a decodable image, zero-size, not loaded yet, too large
  LAYER_UNKNOWN: 'LAYER_UNKNOWN', // no layer by that name
  CLASS_OUT_OF_RANGE: 'CLASS_OUT_OF_RANGE', // class index not an integer in 0..999
  METHOD_UNKNOWN: 'METHOD_UNKNOWN', // explanation method not offered by this build
  INVALID_ARGUMENT: 'INVALID_ARGUMENT', // an option has the wrong type or value
  NOT_LOADED: 'NOT_LOADED', // no weights are loaded yet
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED', // the operation is declared but this build cannot do it yet
  ABORTED: 'ABORTED', // the call's AbortSignal fired
  DISPOSED: 'DISPOSED', // the instance was disposed
  OUT_OF_MEMORY: 'OUT_OF_MEMORY', // the WebAssembly heap could not grow (2 GB maximum)
  UNSUPPORTED_BROWSER: 'UNSUPPORTED_BROWSER', // no WebAssembly SIMD, module workers or OffscreenCanvas
  WORKER_FAILED: 'WORKER_FAILED', // the Web Worker could not start or died
  INTERNAL: 'INTERNAL', // a bug: please report it with the message
});

/** The error of every rejected call: `code` is one of ErrorCode, `message` is for people,
 *  `detail` (optional) the C core's own status name, e.g. "WEIGHTS_CHECKSUM". */
export class GradCamError extends Error {
  constructor(code, message, detail) {
    super(message);
    this.name = 'GradCamError';
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }

  toJSON() { return { name: this.name, code: this.code, message: this.message, detail: this.detail }; }

  /** Rebuild an error that crossed postMessage as {code, message, detail}. */
  static from(plain) {
    if (plain instanceof GradCamError) return plain;
    return new GradCamError(plain && plain.code in ErrorCode ? plain.code : ErrorCode.INTERNAL,
      (plain && plain.message) || String(plain), plain && plain.detail);
  }
}

// C core status name (CoreError.code) -> public code
const FROM_CORE = {
  OUT_OF_MEMORY: ErrorCode.OUT_OF_MEMORY,
  IMAGE_INVALID: ErrorCode.IMAGE_INVALID,
  IMAGE_SIZE: ErrorCode.IMAGE_INVALID,
  IMAGE_DECODE: ErrorCode.IMAGE_INVALID,
  LAYER_UNKNOWN: ErrorCode.LAYER_UNKNOWN,
  CLASS_OUT_OF_RANGE: ErrorCode.CLASS_OUT_OF_RANGE,
  NOT_LOADED: ErrorCode.NOT_LOADED,
  INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
  CONVERT: ErrorCode.WEIGHTS_INVALID,
};

/** Turn anything thrown in the worker (CoreError, wasm RangeError, ...) into a GradCamError. */
export function toGradCamError(e) {
  if (e instanceof GradCamError) return e;
  if (e && e.name === 'CoreError') {
    const code = FROM_CORE[e.code] || (e.code.startsWith('WEIGHTS_') ? ErrorCode.WEIGHTS_INVALID : ErrorCode.INTERNAL);
    return new GradCamError(code, e.message, e.code);
  }
  if (e && e.name === 'AbortError') return new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');
  const text = e && e.message ? e.message : String(e);
  // a failed WebAssembly.Memory allocation or grow (RangeError), or a trap after one
  if ((e instanceof RangeError && /memory/i.test(text)) || /out of memory/i.test(text)) {
    return new GradCamError(ErrorCode.OUT_OF_MEMORY, `out of memory: ${text}`);
  }
  return new GradCamError(ErrorCode.INTERNAL, `internal error: ${text}`);
}
