// Type declarations of xception-gradcam/element (web/element.js): importing it defines
// <xception-gradcam>.
import type { ClassScore, Colormap, ErrorCodeName, GradCam, Method } from './index.js';

/** detail of the `result` event: an explanation drawn (`kind: 'explain'`) or re-coloured
 *  without a network pass (`kind: 'render'`). */
export interface XceptionGradcamResultDetail {
  top: ClassScore[];
  classIndex: number | null;
  className: string | null;
  prob: number | null;
  method: Method;
  layer: string;
  colormap?: Colormap;
  alpha?: number;
  kind: 'explain' | 'render';
  timings: Record<string, number>;
}

/** detail of the `error` event: a GradCamError's code and message (and the core's detail). */
export interface XceptionGradcamErrorDetail {
  code: ErrorCodeName;
  message: string;
  detail?: string;
}

export declare class XceptionGradcamElement extends HTMLElement {
  /** The GradCam instance, shared by the page's elements with the same weights and labels; null until `ready`. */
  readonly gradcam: GradCam | null;
  src: string | null;
  weights: string | null;
  labels: string | null;
  method: string | null;
  layer: string | null;
  /** The class explained (attribute `class-index`); null: the best class. */
  classIndex: number | null;
  colormap: string | null;
  alpha: number | null;
}

export interface XceptionGradcamEventMap extends HTMLElementEventMap {
  ready: CustomEvent<{ info: ReturnType<GradCam['info']> }>;
  result: CustomEvent<XceptionGradcamResultDetail>;
  error: CustomEvent<XceptionGradcamErrorDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'xception-gradcam': XceptionGradcamElement;
  }
}
