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
  /** An option of the wrong type or value (e.g. topK 0, an unknown colormap or methodOptions key,
   *  metrics for an RGB method). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT';
  /** No weights are loaded (none given to load(), or the last loadWeights() failed). */
  NOT_LOADED: 'NOT_LOADED';
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
  /** WebAssembly relaxed SIMD validates (a module with f32x4.relaxed_madd). */
  relaxedSimd: boolean;
  /** SharedArrayBuffer available and the page cross-origin isolated. */
  threads: boolean;
  worker: boolean;
  offscreen: boolean;
}
/** What this browser offers (GradCam.load() needs wasm, simd, worker, offscreen). */
export declare function detectFeatures(): Features;
/** The build GradCam.load() takes: the relaxed SIMD build (threaded, fused multiply-add) where
 *  relaxed SIMD validates and `relaxedSimd` is not false, else wasm-mt/ (threaded) or wasm-st/. */
export declare function chooseBuild(features: Pick<Features, 'relaxedSimd'>, choice: { threaded: boolean; relaxedSimd?: boolean }):
  { dir: 'wasm-st' | 'wasm-mt' | 'wasm-relaxed'; mode: 'threaded' | 'single'; build: 'relaxed' | 'simd' };

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
  /** Folder holding wasm-st/, wasm-mt/ and wasm-relaxed/. Default: the folder of this module
   *  (import.meta.url). A relative value is resolved against the page. */
  wasmBase?: string | URL;
  /** Threaded only: use the relaxed SIMD build (wasm-relaxed/) where the browser supports
   *  relaxed SIMD. Default true; false takes wasm-mt/, whose numbers equal the native CLI's
   *  default (portable) arithmetic bit for bit. When wasm-relaxed/ cannot be loaded, wasm-mt/ is. */
  relaxedSimd?: boolean;
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
  /** Milliseconds after an abort of the running call at which a worker that has not answered
   *  is replaced by a fresh one (same compiled module and weights). Default false: wait. */
  restartOnAbort?: number | false;
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
  imageKey: string;
  reusedForward: boolean;
  logits: Float32Array;
  probs: Float32Array;
  /** milliseconds: decode (pixels in the worker), forward (the network), total (call to answer) */
  timings: { decode: number; forward: number; total: number };
}

/** Explanation methods of the core (methods() lists them with descriptions). */
export type Method =
  | 'gradcam' | 'gradcam++' | 'hirescam' | 'xgradcam' | 'layercam' | 'eigencam' | 'scorecam'
  | 'saliency' | 'guided-backprop' | 'guided-gradcam' | 'smoothgrad' | 'integrated-gradients';
export type Colormap = 'jet' | 'viridis' | 'inferno' | 'turbo' | 'gray' | 'diverging';
/** 'max': keras.io's scale (divide by the maximum; signed maps min-max); 'percentile': the
 *  pixel-attribution papers' (clipped at the 99th percentile of |v|; signed and RGB maps around 0.5). */
export type Scale = 'max' | 'percentile';

export interface MethodInfo {
  name: Method;
  /** Whether the `layer` option changes the result: the CAM family (gradcam ... scorecam) and
   *  guided-gradcam (its Grad-CAM factor). The others work on the input pixels. */
  usesLayer: boolean;
  /** 3 for the RGB maps of guided-backprop and guided-gradcam (no metrics for them), else 1. */
  channels: 1 | 3;
  /** One sentence, with the paper. */
  description: string;
}

/** Settings of particular methods; each is optional (the defaults in brackets) and checked:
 *  an unknown key is INVALID_ARGUMENT. */
export interface MethodOptions {
  /** Score-CAM: the N channels with the highest mean activation used as masks [32], 1..2048. */
  channels?: number;
  /** SmoothGrad: noisy copies of the input [8], 1..256. */
  samples?: number;
  /** SmoothGrad: noise standard deviation as a fraction of the input's range [0.15], 0..10. */
  sigma?: number;
  /** SmoothGrad: noise seed [1], 0..2147483647. */
  seed?: number;
  /** Integrated Gradients: steps from the black image [16], 1..512. */
  steps?: number;
  /** The score explained: the class logit (pre-softmax) or its softmax probability ['logit']. */
  target?: 'logit' | 'prob';
}

export interface MetricsOptions {
  /** Points of the deletion / insertion curves are 0, 1/steps, ..., 1 of the pixels [16], 1..64. */
  steps?: number;
  /** What deleted pixels become: a blurred copy of the image, or its mean colour ['blur']. */
  baseline?: 'blur' | 'mean';
}

interface ExplainOptionsBase {
  /** Layer for the CAM methods and guided-gradcam (any name of layers()). Default 'block14_sepconv2_act'. */
  layer?: string;
  /** Default 'gradcam'. */
  method?: Method;
  /** Colormap of the heatmap. Default 'jet' (matplotlib's, as keras.io). */
  colormap?: Colormap;
  /** Heatmap weight in the overlay, 0..1. Default 0.4. */
  alpha?: number;
  /** 'additive' (default, keras.io: image + alpha * heatmap, rescaled to 0..255) or 'alpha'
   *  ((1 - alpha) * image + alpha * heatmap). */
  blend?: 'additive' | 'alpha';
  /** How the map's values become colours. Default 'max'. */
  scale?: Scale;
  /** Called before each stage (forward unless the kept pass is reused, map per class, metrics)
   *  and at the end (done === total). */
  onProgress?: (p: ExplainProgress) => void;
  /** Settings of the chosen method. */
  methodOptions?: MethodOptions;
  /** Also compute faithfulness metrics (true: steps 16, baseline 'blur'); 1-channel methods only,
   *  else INVALID_ARGUMENT. They run 2 * steps + 3 batched forward passes. Default false. */
  metrics?: boolean | MetricsOptions;
  /** Side of the square the image is resized to for the network: 71..1024, default 299 (what
   *  Xception was trained at). Smaller is faster and coarser, e.g. 71 for quick previews. */
  inputSize?: number;
  /** Rejects with ABORTED; a running explain stops after its current step (forward pass,
   *  one class's map, metrics). */
  signal?: AbortSignal;
}

export interface ExplainProgress {
  phase: 'explain';
  /** stages finished, of total */
  done: number;
  total: number;
  stage: 'forward' | 'map' | 'metrics' | 'done';
  /** map and metrics: the class of that stage */
  classIndex?: number;
  /** map: the method */
  method?: Method;
  /** metrics: its forward passes (2 * steps + 3) */
  passes?: number;
}

export interface ExplainOptions extends ExplainOptionsBase {
  /** The class to explain (0..999). Default (also for null): the best class. */
  classIndex?: number | null;
  topK?: undefined;
}

export interface ExplainTopKOptions extends ExplainOptionsBase {
  /** Explain each of the k best classes (1..1000): the result is an array, best class first. */
  topK: number;
  classIndex?: undefined | null;
}

export interface ExplainMetrics {
  steps: number;
  baseline: 'blur' | 'mean';
  /** Class probability as the most important pixels are deleted: steps + 1 points. */
  deletion: Float32Array;
  /** Class probability as the most important pixels are inserted into the baseline: steps + 1 points. */
  insertion: Float32Array;
  /** Areas under the curves, over [0, 1] (lower deletion / higher insertion: a more faithful map). */
  deletionAuc: number;
  insertionAuc: number;
  /** max(0, p - p') / p, p' the probability of the image multiplied by the normalised map. */
  averageDrop: number;
  /** p' > p */
  increaseInConfidence: boolean;
}

export interface ExplainResult {
  /** The classification: the top 5 (topK when larger), as classify() gives it. */
  classes: ClassScore[];
  /** The class explained, with its name, probability and logit. */
  classIndex: number;
  className: string;
  prob: number;
  logit: number;
  /** The layer used, or 'input' for the methods that do not use one. */
  layer: string;
  method: Method;
  /** The raw map, not normalised: the layer's resolution (10x10 at block14_sepconv2_act) for
   *  the CAM methods, the input tensor's (299x299) for the others; height * width * channels
   *  values, row-major, channels interleaved. */
  cam: { width: number; height: number; channels: 1 | 3; data: Float32Array };
  /** The coloured map, normalised and upsampled to the image's size (RGB methods: the gradient
   *  around mid-grey). */
  heatmap: ImageData;
  /** The heatmap blended over the image, at the image's size. */
  overlay: ImageData;
  /** When `metrics` was asked for. */
  metrics?: ExplainMetrics;
  /** The key of the image in the worker's kept-pass cache (render() uses it). */
  imageKey: string;
  /** True when the worker reused its kept forward pass (then timings.forward is 0). */
  reusedForward: boolean;
  /** Milliseconds: decode (pixels in the worker), forward (the one forward pass, shared by topK
   *  results), explain (this class's map), render, metrics, total (call to answer). */
  timings: { decode: number; forward: number; explain: number; render: number; metrics?: number; total: number };
}

export interface RenderOptions {
  colormap?: Colormap;
  alpha?: number;
  blend?: 'additive' | 'alpha';
  scale?: Scale;
  /** The image to draw on when the worker no longer keeps the explanation's (default: the one
   *  the explanation was computed from). */
  image?: ImageInput;
  signal?: AbortSignal;
}

export interface RenderResult {
  heatmap: ImageData;
  overlay: ImageData;
  /** ms: render (in the worker), total (call to answer) */
  timings: { render: number; total: number };
}

export interface ActivationResult {
  layer: string;
  /** [1, H, W, C] */
  shape: number[];
  /** NHWC */
  data: Float32Array;
  imageKey: string;
  reusedForward: boolean;
  timings: { forward: number };
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
  /** 'relaxed': the relaxed SIMD build (wasm-relaxed/); 'simd': wasm-mt/ or wasm-st/ */
  build: 'relaxed' | 'simd';
  /** 'fma' (relaxed build: f32x4.relaxed_madd, fused where the CPU can) or 'portable' */
  arithmetic: 'fma' | 'portable';
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
  /** Load (or replace) the weights. With `keepConverted: true`, a Keras .h5 input also gives
   *  back the converted project-format file (`converted`) to store and load next time. */
  loadWeights(weights: WeightsSource, options?: { signal?: AbortSignal; onProgress?: (p: Progress) => void; dtype?: 'f16' | 'f32'; h5wasmUrl?: string; keepConverted?: boolean }):
    Promise<{ format: 'gcw' | 'h5'; bytes: number; params: number; converted?: ArrayBuffer }>;
  classify(image: ImageInput, options?: ClassifyOptions): Promise<ClassifyResult>;
  /** Explain a class (default: the best): forward pass, map, heatmap and overlay at the image's
   *  size, metrics if asked. Options are checked before the call is queued. */
  explain(image: ImageInput, options?: ExplainOptions): Promise<ExplainResult>;
  /** Explain each of the `topK` best classes after one forward pass: one result per class, best first. */
  explain(image: ImageInput, options: ExplainTopKOptions): Promise<ExplainResult[]>;
  /** Colour an explanation's map again (no network pass): in the worker's core, on the image it
   *  keeps, or the explanation's image sent again. Also takes a bare `{cam}` with `image`. */
  render(explanation: Pick<ExplainResult, 'cam'> & Partial<Pick<ExplainResult, 'imageKey'>>, options?: RenderOptions): Promise<RenderResult>;
  /** A layer's activation for an image (the kept forward pass when it is that image's). */
  activation(image: ImageInput, layer: string, options?: { inputSize?: number; signal?: AbortSignal }): Promise<ActivationResult>;
  /** Drop the worker's kept forward pass. */
  forget(options?: { signal?: AbortSignal }): Promise<boolean>;
  /** How many times restartOnAbort replaced the worker. */
  readonly restarts?: number;
  /** Change the thread count (threaded build; at most 4). Resolves to the count used. */
  setThreads(threads: number, options?: { signal?: AbortSignal }): Promise<number>;
  /** Memory in use: bytes of the worker's WebAssembly memory (grows on demand up to 2 GB, never shrinks). */
  memory(options?: { signal?: AbortSignal }): Promise<{ wasmHeap: number }>;
  layers(): LayerInfo[];
  /** The explanation methods, in the core's order. */
  methods(): MethodInfo[];
  /** The colormaps: ['jet', 'viridis', 'inferno', 'turbo', 'gray', 'diverging']. */
  colormaps(): Colormap[];
  info(): Info;
  /** Frees the module and ends the worker and its thread workers; pending calls reject with DISPOSED. */
  dispose(): void;
  readonly disposed: boolean;
}
