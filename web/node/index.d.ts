// Types of 'xception-gradcam/node' (node/index.js): the browser package's calls and results
// (index.d.ts), in this process, with paths and file bytes as images and weights.
import type {
  ActivationResult, ClassifyOptions, ClassifyResult, Colormap, ExplainOptions, ExplainResult, ExplainTopKOptions, Info,
  LayerInfo, LoadResult, MethodInfo, Progress, RenderOptions, SanityCheckOptions, SanityCheckResult,
} from '../index.js';

export { ErrorCode, ErrorCodeName, GradCamError, MAX_THREADS } from '../index.js';

/** A path, a file URL, or a file's bytes (.gcw or any Keras file); an array: a TF.js model.json and its shards. */
export type NodeWeightsSource = string | URL | ArrayBuffer | ArrayBufferView | Array<string | URL | ArrayBuffer | ArrayBufferView>;
/** A class names file (path or bytes), or the names. */
export type NodeLabelsSource = string | URL | ArrayBuffer | ArrayBufferView | string[];
/** An image file's path, file URL or bytes (PNG, JPEG, BMP, GIF, TGA, PSD, PNM: decoded by the core, as the native CLI
 *  decodes them), or RGBA pixels. */
export type NodeImageInput = string | URL | ArrayBuffer | ArrayBufferView | { data: ArrayBufferView; width: number; height: number };
/** RGBA pixels at the image's size (ImageData's fields). */
export interface Pixels { data: Uint8ClampedArray; width: number; height: number }
export type NodeExplainResult = Omit<ExplainResult, 'heatmap' | 'overlay'> & { heatmap: Pixels; overlay: Pixels };

export interface NodeLoadOptions {
  weights?: NodeWeightsSource;
  labels?: NodeLabelsSource;
  /** Threads of the forward pass (default: the cores, at most 4); above 1 runs wasm-mt/ on worker_threads, 1 wasm-st/. */
  threads?: number;
  /** Threaded only: take wasm-relaxed/ (fused multiply-add: the native CLI's --arithmetic fma numbers) where this Node
   *  validates relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd). Default false: the portable arithmetic, the
   *  native CLI's default numbers bit for bit. */
  relaxedSimd?: boolean;
  /** Folder holding wasm-st/, wasm-mt/ and wasm-relaxed/ (default: the package's dist/). */
  wasmBase?: string | URL;
  dtype?: 'f16' | 'f32';
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export declare class GradCam {
  static load(options?: NodeLoadOptions): Promise<GradCam>;
  loadWeights(weights: NodeWeightsSource, options?: { signal?: AbortSignal; onProgress?: (p: Progress) => void; dtype?: 'f16' | 'f32'; labels?: NodeLabelsSource; keepConverted?: boolean }):
    Promise<LoadResult>;
  classify(image: NodeImageInput, options?: Omit<ClassifyOptions, 'signal'>): Promise<ClassifyResult>;
  explain(image: NodeImageInput, options?: ExplainOptions): Promise<NodeExplainResult>;
  explain(image: NodeImageInput, options: ExplainTopKOptions): Promise<NodeExplainResult[]>;
  sanityCheck(image: NodeImageInput, options: SanityCheckOptions): Promise<SanityCheckResult>;
  /** Colour a map again over options.image (default: the kept pass's image when the explanation is of it). */
  render(explanation: Pick<ExplainResult, 'cam'> & Partial<Pick<ExplainResult, 'imageKey'>>, options?: Omit<RenderOptions, 'image' | 'signal'> & { image?: NodeImageInput }):
    Promise<{ heatmap: Pixels; overlay: Pixels; timings: { render: number } }>;
  activation(image: NodeImageInput, layer: string, options?: { inputSize?: number }): Promise<ActivationResult>;
  forget(): void;
  setThreads(threads: number): Promise<number>;
  memory(): { wasmHeap: number };
  layers(): LayerInfo[];
  methods(): MethodInfo[];
  colormaps(): Colormap[];
  /** index.d.ts' Info, and the build folder that runs. */
  info(): Info & { dir: 'wasm-st' | 'wasm-mt' | 'wasm-relaxed' };
  /** Free the module and end its threads (a threaded instance keeps Node running until then). */
  dispose(): void;
}
