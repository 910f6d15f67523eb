// Type declarations of the public API of xception-gradcam (web/index.js).

/** Every code a GradCamError can carry. */
export declare const ErrorCode: Readonly<{
  /** The bytes are not usable Xception weights (`detail` names the core's reason, e.g. WEIGHTS_CHECKSUM). */
  WEIGHTS_INVALID: 'WEIGHTS_INVALID';
  /** The weights URL could not be fetched (network error, HTTP status) or the file not read. */
  WEIGHTS_FETCH_FAILED: 'WEIGHTS_FETCH_FAILED';
  /** Keras .h5 weights were given but h5wasm could not be imported (see LoadOptions.h5wasmUrl). */
  H5WASM_UNAVAILABLE: 'H5WASM_UNAVAILABLE';
  /** The .wasm / .mjs files could not be fetched, compiled or started (see LoadOptions.wasmBase). */
  WASM_LOAD_FAILED: 'WASM_LOAD_FAILED';
  /** Not a decodable image, zero-size, not loaded yet (img/video), or too large. */
  IMAGE_INVALID: 'IMAGE_INVALID';
  /** No layer by that name (see layers()). */
  LAYER_UNKNOWN: 'LAYER_UNKNOWN';
  /** A class index that is not an integer in 0..999. */
  CLASS_OUT_OF_RANGE: 'CLASS_OUT_OF_RANGE';
  /** An explanation method this build does not offer (see methods()). */
  METHOD_UNKNOWN: 'METHOD_UNKNOWN';
  /** An option of the wrong type or value. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT';
  /** No weights are loaded (none given to load(), or the last loadWeights() failed). */
  NOT_LOADED: 'NOT_LOADED';
  /** Declared but not available in this build (explain(), until the core has its backward pass). */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED';
  /** The call's AbortSignal fired. */
  ABORTED: 'ABORTED';
  /** The instance was disposed. */
  DISPOSED: 'DISPOSED';
  /** The WebAssembly heap could not grow (2 GB at most). */
  OUT_OF_MEMORY: 'OUT_OF_MEMORY';
  /** No WebAssembly SIMD, module Web Workers or OffscreenCanvas. */
  UNSUPPORTED_BROWSER: 'UNSUPPORTED_BROWSER';
  /** The Web Worker could not start or died. */
  WORKER_FAILED: 'WORKER_FAILED';
  /** A bug: please report it with the message. */
  INTERNAL: 'INTERNAL';
}>;
export type ErrorCodeName = keyof typeof ErrorCode;

/** The error every rejected call rejects with. */
export declare class GradCamError extends Error {
  constructor(code: ErrorCodeName, message: string, detail?: string);
  readonly name: 'GradCamError';
  readonly code: ErrorCodeName;
  /** The C core's own status name when it reported the error, e.g. "WEIGHTS_CHECKSUM". */
  readonly detail?: string;
}

/** Largest number of threads used (the threaded build's preallocated thread pool). */
export declare const MAX_THREADS: 4;

export interface Features {
  wasm: boolean;
  simd: boolean;
  /** SharedArrayBuffer available and the page cross-origin isolated. */
  threads: boolean;
  worker: boolean;
  offscreen: boolean;
}
/** What this browser offers (GradCam.load() needs wasm, simd, worker, offscreen). */
export declare function detectFeatures(): Features;

export type Progress = {
  /** compile: the .wasm download and compilation; download: the weights (URL or Blob);
   *  convert: Keras .h5 tensors converted; pack: the network prepared from the weights. */
  phase: 'compile' | 'download' | 'convert' | 'pack';
  /** bytes (compile, download), tensors (convert), or 0/1 (pack) */
  loaded: number;
  /** 0 when unknown (e.g. a compressed response) */
  total: number;
};

/** Weights: a URL (relative to the page), or the bytes of a .gcw file (project format) or of
 *  the official Keras xception_weights_tf_dim_ordering_tf_kernels.h5 (converted in the worker). */
export type WeightsSource = string | URL | ArrayBuffer | ArrayBufferView | Blob;

/** Anything with pixels. An HTMLImageElement is awaited until decoded; an HTMLVideoElement
 *  gives its current frame; a Blob/File is decoded in the worker. Plain {data, width, height}
 *  RGBA objects work like ImageData. */
export type ImageInput =
  | ImageData
  | HTMLImageElement
  | SVGImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | HTMLVideoElement
  | VideoFrame
  | Blob
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

export interface LoadOptions {
  /** Weights to load now; without them the instance starts empty (loadWeights() later). */
  weights?: WeightsSource;
  /** Folder holding wasm-st/ and wasm-mt/. Default: the folder of this module (import.meta.url).
   *  A relative value is resolved against the page. */
  wasmBase?: string | URL;
  /** Threads for the forward pass. Default min(navigator.hardwareConcurrency, 4). More than 1
   *  needs a cross-origin isolated page (else the single-thread build is used, with a console
   *  warning); 1 always chooses the single-thread build. */
  threads?: number;
  /** Called for download, compile, conversion and packing progress. */
  onProgress?: (p: Progress) => void;
  /** Aborts the load (rejects with ABORTED, the worker is ended). */
  signal?: AbortSignal;
  /** Precision of weights converted from Keras .h5. Default 'f16' (half the memory; the
   *  network still computes in float32). */
  dtype?: 'f16' | 'f32';
  /** ES module URL of h5wasm (dist/esm/hdf5_hl.js), for .h5 weights when the default lookup
   *  (the bare name 'h5wasm', then node_modules next to this package) does not find it. */
  h5wasmUrl?: string;
  /** URL of worker.js, when a bundler moved it. Default new URL('./worker.js', import.meta.url). */
  workerUrl?: string | URL;
}

export interface ClassScore {
  /** ImageNet class index 0..999 (Keras order) */
  index: number;
  /** class name as Keras' decode_predictions gives it, e.g. "tabby" */
  name: string;
  prob: number;
  logit: number;
}

export interface ClassifyOptions {
  /** How many classes in `top`, best first. Default 5. */
  topK?: number;
  signal?: AbortSignal;
}

export interface ClassifyResult {
  top: ClassScore[];
  logits: Float32Array;
  probs: Float32Array;
  /** milliseconds: decode (pixels in the worker), forward (the network), total (call to answer) */
  timings: { decode: number; forward: number; total: number };
}

/** Explanation methods of the core (see methods() for what this build offers). */
export type Method =
  | 'gradcam' | 'gradcam++' | 'hirescam' | 'xgradcam' | 'layercam' | 'eigencam' | 'scorecam'
  | 'saliency' | 'guided-backprop' | 'guided-gradcam' | 'smoothgrad' | 'integrated-gradients';
export type Colormap = 'jet' | 'viridis' | 'inferno' | 'turbo' | 'gray';

export interface ExplainOptions {
  /** The class to explain (0..999). Default: the best class. */
  classIndex?: number;
  /** Explain each of the k best classes instead (results in `classes`). */
  topK?: number;
  /** Layer for the CAM methods. Default 'block14_sepconv2_act'. */
  layer?: string;
  /** Default 'gradcam'. */
  method?: Method | string;
  /** Default 'jet'. */
  colormap?: Colormap;
  /** Heatmap opacity in the overlay, 0..1. Default 0.4. */
  alpha?: number;
  /** Method-specific options (e.g. samples and noise for smoothgrad, steps for integrated-gradients). */
  methodOptions?: Record<string, number | string | boolean>;
  /** Also compute faithfulness metrics (deletion / insertion curves and their AUC). */
  metrics?: boolean;
  signal?: AbortSignal;
}

export interface ExplainResult {
  classes: ClassScore[];
  classIndex: number;
  layer: string;
  method: string;
  /** the raw map at the layer's (or the input's) resolution */
  cam: { width: number; height: number; data: Float32Array };
  /** colormapped map and the map blended over the image, at the image's size */
  heatmap: ImageData;
  overlay: ImageData;
  metrics?: { deletion: Float32Array; insertion: Float32Array; deletionAuc: number; insertionAuc: number };
  timings: Record<string, number>;
}

export interface LayerInfo {
  /** Keras layer name, e.g. 'block14_sepconv2_act' */
  name: string;
  /** activation shape [1, H, W, C] for a 299x299 input */
  shape: number[];
}

export interface Info {
  mode: 'threaded' | 'single';
  threads: number;
  simd: boolean;
  /** version of the C core */
  version: string;
  /** whether weights are loaded */
  loaded: boolean;
}

export declare class GradCam {
  /** Start a worker, load the WebAssembly core (threaded or single-thread) and the weights. */
  static load(options?: LoadOptions): Promise<GradCam>;
  private constructor();
  /** Load or replace the weights. After a failed load no weights are loaded. */
  loadWeights(weights: WeightsSource, options?: { signal?: AbortSignal; onProgress?: (p: Progress) => void; dtype?: 'f16' | 'f32'; h5wasmUrl?: string }):
    Promise<{ format: 'gcw' | 'h5'; bytes: number; params: number }>;
  classify(image: ImageInput, options?: ClassifyOptions): Promise<ClassifyResult>;
  /** Not available in this build yet: rejects with NOT_IMPLEMENTED (after checking its arguments). */
  explain(image: ImageInput, options?: ExplainOptions): Promise<ExplainResult>;
  /** Change the thread count (threaded build; at most 4). Resolves to the count used. */
  setThreads(threads: number, options?: { signal?: AbortSignal }): Promise<number>;
  layers(): LayerInfo[];
  methods(): string[];
  info(): Info;
  /** Frees the module and ends the worker and its thread workers; pending calls reject with DISPOSED. */
  dispose(): void;
  readonly disposed: boolean;
}
