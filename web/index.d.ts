// Type declarations of the public API of xception-gradcam (web/index.js).

/** Every code a GradCamError can carry. */
export declare const ErrorCode: Readonly<{
  /** The bytes are not a usable Xception model (`detail` names the core's reason: WEIGHTS_CHECKSUM,
   *  CONVERT (not a model read here, or not Xception), H5 / ZIP / JSON (a damaged file), ...). */
  WEIGHTS_INVALID: 'WEIGHTS_INVALID';
  /** The weights URL could not be fetched (network error, HTTP status) or the file not read. */
  WEIGHTS_FETCH_FAILED: 'WEIGHTS_FETCH_FAILED';
  /** The .wasm / .mjs files could not be fetched, compiled or started (see LoadOptions.wasmBase). */
  WASM_LOAD_FAILED: 'WASM_LOAD_FAILED';
  /** Not a decodable image, zero-size, not loaded yet (img/video), or too large. */
  IMAGE_INVALID: 'IMAGE_INVALID';
  /** No layer by that name (see layers()). */
  LAYER_UNKNOWN: 'LAYER_UNKNOWN';
  /** A class index that is not an integer in 0..classes-1 of the loaded model. */
  CLASS_OUT_OF_RANGE: 'CLASS_OUT_OF_RANGE';
  /** Class names that cannot be read, are not text, or are not one per class of the model. */
  LABELS_INVALID: 'LABELS_INVALID';
  /** The model has no classifier (a notop file): classify and the class methods are refused;
   *  activation() and eigencam work. */
  NO_HEAD: 'NO_HEAD';
  /** An explanation method this build does not offer (see methods()). */
  METHOD_UNKNOWN: 'METHOD_UNKNOWN';
  /** An option of the wrong type or value (e.g. topK 0, an unknown colormap or methodOptions key,
   *  metrics for an RGB method). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT';
  /** No weights are loaded (none given to load(), or the last loadWeights() failed). */
  NOT_LOADED: 'NOT_LOADED';
  /** The call's AbortSignal fired (or the core stopped between its passes when told to). */
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
  /** compile: the .wasm download and compilation; download: the weights (URL or Blob, every file);
   *  convert: Keras tensors read by the core's import; pack: the network prepared from the weights. */
  phase: 'compile' | 'download' | 'convert' | 'pack';
  /** bytes (compile, download), tensors (convert), or 0/1 (pack) */
  loaded: number;
  /** 0 when unknown (e.g. a compressed response) */
  total: number;
};

/** A model: a URL (relative to the page; a TF.js model.json's shards are fetched next to it), or
 *  the bytes of a .gcw or of any Keras Xception file (Keras 1/2 .h5, a full-model .h5, Keras 3
 *  .weights.h5 or .keras), recognised by content and converted in the worker; or an array of
 *  files: a TF.js model.json and its shards, in any order. */
export type WeightsSource = string | URL | ArrayBuffer | ArrayBufferView | Blob | Array<ArrayBuffer | ArrayBufferView | Blob>;

/** Class names: a URL or the bytes of a labels file (one name per line, a JSON list, a JSON
 *  object {index: name}, or Keras' imagenet_class_index.json), or the names themselves. As many
 *  as the model has classes, else LABELS_INVALID. */
export type LabelsSource = string | URL | ArrayBuffer | ArrayBufferView | Blob | string[];

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
  /** The model to load now; without it the instance starts empty (loadWeights() later). */
  weights?: WeightsSource;
  /** Class names for it (default: the file's, ImageNet's for the ImageNet head, else "class i"). */
  labels?: LabelsSource;
  /** Folder holding wasm-st/, wasm-mt/ and wasm-relaxed/. Default: the files next to the
   *  package's modules, or where a bundler (Vite, webpack 5) emitted them: each is named by a
   *  static new URL('./wasm-…/…', import.meta.url) in builds.js. A relative value is resolved
   *  against the page. */
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
  /** Precision of weights converted from Keras files. Default 'f16' (half the memory; the
   *  network still computes in float32). */
  dtype?: 'f16' | 'f32';
  /** URL of worker.js, when a bundler moved it. Default new URL('./worker.js', import.meta.url). */
  workerUrl?: string | URL;
  /** Milliseconds after an abort of the running call at which a worker that has not answered
   *  is replaced by a fresh one (same compiled module and weights). Default false: wait. */
  restartOnAbort?: number | false;
}

export interface ClassScore {
  /** class index 0..classes-1 of the model (Keras order) */
  index: number;
  /** the model's class name (for ImageNet as Keras' decode_predictions gives it, e.g. "tabby";
   *  "class i" when the model has no names) */
  name: string;
  prob: number;
  logit: number;
}

export interface ClassifyOptions {
  /** How many classes in `top`, best first: 1..classes. Default 5 (or the classes when fewer). */
  topK?: number;
  /** Input side (71..1024); default the model's. */
  inputSize?: number;
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

/** Explanation methods of the core's registry (methods() lists them with their definitions). */
// methods: generated from the core's registry by tools/release/gen-methods.mjs
export type Method =
  | 'gradcam'
  | 'gradcam++'
  | 'hirescam'
  | 'xgradcam'
  | 'layercam'
  | 'eigencam'
  | 'scorecam'
  | 'saliency'
  | 'guided-backprop'
  | 'guided-gradcam'
  | 'smoothgrad'
  | 'integrated-gradients'
  | 'eigengradcam'
  | 'ablationcam'
  | 'gradient-input';
// methods: end
export type Colormap = 'jet' | 'viridis' | 'inferno' | 'turbo' | 'gray' | 'diverging';
/** 'max': keras.io's scale (divide by the maximum; signed maps min-max); 'percentile': the
 *  pixel-attribution papers' (clipped at the 99th percentile of |v|; signed and RGB maps around 0.5). */
export type Scale = 'max' | 'percentile';

/** A method's setting, from the core's registry. */
export interface MethodParam {
  /** the methodOptions key, e.g. 'samples' */
  name: string;
  /** the CLI's option without its dashes, e.g. 'ig-steps' */
  cli: string;
  label: string;
  min: number;
  max: number;
  default: number;
  /** whole numbers only */
  integer: boolean;
  /** a word that means `min` (Score-CAM's channels: 'all' = every channel), or null */
  special: string | null;
}

/** A method of the core's registry (src/methods/registry.c). */
export interface MethodInfo {
  name: Method;
  /** display name, e.g. 'Grad-CAM' */
  label: string;
  /** One sentence, for pickers and tooltips. */
  description: string;
  /** the exact definition computed */
  formula: string;
  /** the paper, e.g. 'Selvaraju et al. 2017' */
  reference: string;
  /** Whether the `layer` option changes the result (the CAM family and guided-gradcam). */
  usesLayer: boolean;
  /** 3 for RGB maps (no metrics for them), else 1. */
  channels: 1 | 3;
  /** false: the same map for every class (eigencam), which works without a classifier */
  needsClass: boolean;
  /** runs extra forward passes (slow; reports each pass) */
  multiPass: boolean;
  params: MethodParam[];
}

/** Settings of particular methods, from the core's registry: each is optional (the default in
 *  brackets) and checked against the chosen method's settings (others are INVALID_ARGUMENT). */
// method options: generated from the core's registry by tools/release/gen-methods.mjs
export interface MethodOptions {
  /** Score-CAM: channels used as masks (all: every channel) [32], 0..4096 or 'all'. */
  channels?: number | 'all';
  /** SmoothGrad: noisy samples [8], 1..256. */
  samples?: number;
  /** SmoothGrad: noise as a fraction of the input range [0.15], 0..10 (any number). */
  sigma?: number;
  /** SmoothGrad: noise seed [1], 0..2147483647. */
  seed?: number;
  /** Integrated Gradients: steps from the black image [16], 1..512. */
  steps?: number;
  /** Every method: the score explained, the class logit (pre-softmax) or its probability ['logit']. */
  target?: 'logit' | 'prob';
}
// method options: end

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
  /** Called before each stage (forward unless the kept pass is reused, map per class, metrics),
   *  for every pass of a multi-pass stage, and at the end (done === total). */
  onProgress?: (p: ExplainProgress) => void;
  /** Explain y^class - y^contrastClass ("why this class rather than that one"): 0..classes-1. */
  contrastClass?: number;
  /** Also return what a channel-weighted method weighed (result.detail). Default false. */
  detail?: boolean;
  /** Settings of the chosen method. */
  methodOptions?: MethodOptions;
  /** Also compute faithfulness metrics (true: steps 16, baseline 'blur'); 1-channel methods only,
   *  else INVALID_ARGUMENT. They run 2 * steps + 3 batched forward passes. Default false. */
  metrics?: boolean | MetricsOptions;
  /** Side of the square the image is resized to for the network: 71..1024, default the model's
   *  (299 for ImageNet Xception). Smaller is faster and coarser, e.g. 71 for quick previews. */
  inputSize?: number;
  /** Rejects with ABORTED; a running explain stops after its current stage (forward pass, one
   *  class's map, metrics), and on a cross-origin isolated page before the core's next pass. */
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
  /** metrics: its forward passes (2 * steps + 3); inside a multi-pass stage, the core's count
   *  of its passes: {done, total} */
  passes?: number | { done: number; total: number };
}

export interface ExplainOptions extends ExplainOptionsBase {
  /** The class to explain (0..classes-1). Default (also for null): the best class. */
  classIndex?: number | null;
  topK?: undefined;
}

export interface ExplainTopKOptions extends ExplainOptionsBase {
  /** Explain each of the k best classes (1..classes): the result is an array, best class first. */
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
  /** The classification: the top 5 (topK when larger), as classify() gives it; [] without a classifier. */
  classes: ClassScore[];
  /** The class explained, with its name, probability and logit (null without a classifier). */
  classIndex: number | null;
  className: string | null;
  prob: number | null;
  logit: number | null;
  /** With contrastClass: the class subtracted, and its name. */
  contrastClass?: number;
  contrastName?: string;
  /** With detail: what the method weighed (channel-weighted methods: gradcam, gradcam++,
   *  xgradcam, scorecam, ablationcam), null for the others. */
  detail?: ExplainDetail | null;
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

export interface ExplainDetail {
  /** the K channel weights w_k of the layer */
  weights: Float32Array;
  /** sum_k w_k A^k before the ReLU, at the layer's resolution */
  preRelu: { width: number; height: number; data: Float32Array };
}

export interface SanityCheckOptions {
  /** Methods to check. Default ['gradcam']. */
  methods?: Method[];
  /** Layers from which the model is randomised to its output, top down (cascading), e.g.
   *  ['predictions', 'block14_sepconv1_bn', 'block13_residual']: one step each. */
  from: string[];
  /** Seed of the random weights. Default 1. */
  seed?: number;
  /** The class explained at every step. Default: the model's best. */
  classIndex?: number;
  layer?: string;
  inputSize?: number;
  /** Per method: its settings. */
  methodOptions?: { [method: string]: MethodOptions };
  colormap?: Colormap;
  scale?: Scale;
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'sanity'; done: number; total: number; stage: string; from?: string | null; method?: Method }) => void;
}

export interface SanityCheckResult {
  classIndex: number | null;
  className: string | null;
  seed: number;
  /** Step 0 is the model itself (from: null), then one per layer of `from`. */
  steps: {
    from: string | null;
    maps: {
      method: Method;
      cam: { width: number; height: number; channels: 1 | 3; data: Float32Array };
      heatmap: ImageData;
      /** Spearman rank correlation of |map| with step 0's (1 at step 0). */
      similarity: number | null;
    }[];
  }[];
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
  /** activation shape [1, H, W, C] at the model's input size (the head's layers: [1, N]) */
  shape: number[];
}

/** What the loaded model is. */
export interface ModelInfo {
  base: 'xception';
  /** the input size images are resized to by default: [height, width] */
  inputSize: [number, number];
  /** its classifier's classes: 2 for a Dense(1) head (class 1 is +logit), 0 without a classifier */
  classes: number;
  /** the head in words, e.g. 'GlobalAveragePooling2D -> Dense(1000, softmax)' */
  head: string;
  /** what the file was, e.g. 'Keras 3 model archive (.keras)' */
  source: string;
  /** true when the head was inferred from the weights' shapes (a Keras 3 .weights.h5) */
  inferred: boolean;
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
  /** the loaded model, or null */
  model: ModelInfo | null;
}

export interface LoadResult {
  /** what the file was: 'gcw', 'keras1-h5', 'keras2-h5', 'keras2-model-h5', 'keras3-weights-h5',
   *  'keras3-keras', 'tfjs-layers' */
  format: string;
  /** bytes of the .gcw loaded */
  bytes: number;
  params: number;
  model: ModelInfo;
  /** with keepConverted and a Keras input: the converted .gcw (class names included) */
  converted?: ArrayBuffer;
}

export declare class GradCam {
  /** Start a worker, load the WebAssembly core (threaded or single-thread) and the weights. */
  static load(options?: LoadOptions): Promise<GradCam>;
  private constructor();
  /** Load (or replace) the model; after a failed load none is loaded. With `keepConverted: true`,
   *  a Keras input also gives back the converted .gcw (`converted`) to store and load next time. */
  loadWeights(weights: WeightsSource, options?: { signal?: AbortSignal; onProgress?: (p: Progress) => void; dtype?: 'f16' | 'f32'; labels?: LabelsSource; keepConverted?: boolean }):
    Promise<LoadResult>;
  classify(image: ImageInput, options?: ClassifyOptions): Promise<ClassifyResult>;
  /** Explain a class (default: the best): forward pass, map, heatmap and overlay at the image's
   *  size, metrics if asked. Options are checked before the call is queued. */
  explain(image: ImageInput, options?: ExplainOptions): Promise<ExplainResult>;
  /** Explain each of the `topK` best classes after one forward pass: one result per class, best first. */
  explain(image: ImageInput, options: ExplainTopKOptions): Promise<ExplainResult[]>;
  /** Adebayo et al.'s sanity check: the maps of the model and of copies with randomised top layers. */
  sanityCheck(image: ImageInput, options: SanityCheckOptions): Promise<SanityCheckResult>;
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
