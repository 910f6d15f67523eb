// element.js - `import 'xception-gradcam/element'` defines <xception-gradcam>: a picture with
// its explanation overlaid and the network's best classes as buttons choosing the class
// explained. Attributes (each also a property): src, weights, labels, method, layer,
// class-index (property classIndex), colormap, alpha. Events: ready, result, error
// (detail {code, message}, the package's GradCamError codes). Property `gradcam`: the GradCam
// instance, shared (refcounted) by every element of the page with the same weights and labels.
//
// What a change costs: colormap/alpha re-colour the kept explanation (gc.render(), no network
// pass); method/layer/class-index explain again (the worker's kept forward pass is reused);
// src classifies and explains again; weights/labels take another instance. A change that makes
// the running call useless aborts it (its AbortSignal; the instance restarts a stuck worker,
// restartOnAbort), so the latest request never waits for a superseded one.
import { ErrorCode, GradCam, GradCamError } from './index.js';

const RESTART_MS = 1500;
const TOP_K = 5;

/** Shared instances: key (weights and labels URLs) -> {refs, promise, gc}. */
const shared = new Map();

function acquire(weights, labels) {
  const key = JSON.stringify([weights, labels]);
  let entry = shared.get(key);
  if (!entry) {
    entry = { key, refs: 0, gc: null };
    entry.promise = GradCam.load({ weights, labels: labels ?? undefined, restartOnAbort: RESTART_MS })
      .then((gc) => {
        entry.gc = gc;
        if (entry.refs === 0) release(entry, true);
        return gc;
      }, (e) => {
        if (shared.get(key) === entry) shared.delete(key); // a later element tries again
        throw e;
      });
    entry.promise.catch(() => {}); // each element reports it; none left: nothing is unhandled
    shared.set(key, entry);
  }
  entry.refs++;
  return entry;
}

function release(entry, now = false) {
  if (!now) entry.refs--;
  if (entry.refs > 0) return;
  if (shared.get(entry.key) === entry) shared.delete(entry.key);
  if (entry.gc) entry.gc.dispose(); // (still loading: disposed when the load ends, above)
}

const asError = (e) => (e instanceof GradCamError ? e
  : new GradCamError(ErrorCode.INVALID_ARGUMENT, (e && e.message) || String(e)));

const STYLE = `
:host { display: inline-block; font: inherit; color: inherit; max-width: 100%; }
:host([hidden]) { display: none; }
figure { margin: 0; }
canvas { display: block; max-width: 100%; height: auto; }
canvas[hidden] { display: none; }
ol { list-style: none; margin: .5em 0 0; padding: 0; display: flex; flex-direction: column; gap: .25em; }
button { font: inherit; text-align: start; width: 100%; padding: .3em .5em; border: 1px solid currentColor;
  border-radius: .3em; background: transparent; color: inherit; cursor: pointer; display: flex; gap: .5em; }
button[aria-pressed="true"] { font-weight: bold; background: rgba(127, 127, 127, .2); }
button:focus-visible { outline: 3px solid Highlight; outline: 3px solid -webkit-focus-ring-color; outline-offset: 2px; }
.name { flex: 1; }
.status:empty { display: none; }
.status { margin: .25em 0 0; }
`;

const ATTRS = ['src', 'weights', 'labels', 'method', 'layer', 'class-index', 'colormap', 'alpha'];
const PROPS = { src: 'src', weights: 'weights', labels: 'labels', method: 'method', layer: 'layer', classIndex: 'class-index', colormap: 'colormap', alpha: 'alpha' };

// (importable where there is no DOM, e.g. a server-side render: nothing is defined there)
const Base = globalThis.HTMLElement || class {};

export class XceptionGradcamElement extends Base {
  static get observedAttributes() { return ATTRS; }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><figure><canvas part="overlay" role="img" hidden></canvas>
<figcaption><p class="status" part="status" role="status" aria-live="polite"></p>
<ol part="classes" aria-label="The network's best guesses: choose the class to explain"></ol></figcaption></figure>`;
    this._canvas = root.querySelector('canvas');
    this._status = root.querySelector('.status');
    this._list = root.querySelector('ol');
    this._list.addEventListener('click', (ev) => {
      const b = ev.target.closest && ev.target.closest('button');
      if (b) this.classIndex = Number(b.dataset.index);
    });
    this._entry = null;     // shared instance in use
    this._gc = null;
    this._ctl = null;       // AbortController of the running step
    this._running = false;
    this._again = false;
    this._image = null;     // decoded <img> of src
    this._top = null;       // classify()'s top classes of src
    this._explanation = null;
    this._shown = null;     // {colormap, alpha} of the overlay on the canvas
  }

  /** The GradCam instance (shared with the page's other elements of the same weights), null until `ready`. */
  get gradcam() { return this._gc; }

  connectedCallback() {
    // a property set before the element was defined shadows the accessor: pass it on
    for (const prop of Object.keys(PROPS)) {
      if (Object.prototype.hasOwnProperty.call(this, prop)) { const v = this[prop]; delete this[prop]; this[prop] = v; }
    }
    this._kick();
  }

  disconnectedCallback() {
    // a move (removed then inserted in the same task) keeps the instance
    queueMicrotask(() => {
      if (this.isConnected) return;
      this._abort();
      this._drop();
    });
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.isConnected) return;
    this._invalidate(name);
  }

  _drop() {
    if (this._entry) release(this._entry);
    this._entry = null;
    this._gc = null;
    this._explanation = null;
    this._top = null;
  }

  _abort() {
    if (this._ctl) this._ctl.abort();
  }

  /** Forget what a change makes stale, abort the running step if it is stale, and run again. */
  _invalidate(name) {
    if (name === 'colormap' || name === 'alpha') {
      this._kick(); // the running step stays useful: the overlay is re-coloured after it
      return;
    }
    if (name === 'weights' || name === 'labels') {
      if (this._entry) this._drop();
    }
    if (name === 'src') { this._top = null; this._image = null; }
    this._explanation = null;
    this._abort();
    this._kick();
  }

  _kick() {
    if (this._running) { this._again = true; return; }
    this._running = true;
    queueMicrotask(async () => {
      try {
        do {
          this._again = false;
          await this._step();
        } while (this._again && this.isConnected);
      } finally {
        this._running = false;
      }
    });
  }

  _options() {
    const num = (name) => { const v = this.getAttribute(name); return v === null || v.trim() === '' ? undefined : Number(v); };
    const str = (name) => this.getAttribute(name) || undefined;
    return { method: str('method'), layer: str('layer'), classIndex: num('class-index'), colormap: str('colormap'), alpha: num('alpha') };
  }

  async _step() {
    const ctl = this._ctl = new AbortController();
    const { signal } = ctl;
    const stale = () => signal.aborted || !this.isConnected;
    try {
      if (!this.isConnected) return;
      if (!this._gc) {
        const weights = this.getAttribute('weights');
        if (!weights) { this._say(''); return; }
        if (!this._entry) {
          this._entry = acquire(new URL(weights, document.baseURI).href,
            this.hasAttribute('labels') ? new URL(this.getAttribute('labels'), document.baseURI).href : null);
        }
        const entry = this._entry;
        this._say('Loading the model…');
        const gc = await entry.promise;
        if (entry !== this._entry) return;
        this._gc = gc;
        this._emit('ready', { info: gc.info() });
        if (stale()) return;
      }
      const gc = this._gc;
      const src = this.getAttribute('src');
      if (!src) { this._say(''); this._canvas.hidden = true; this._list.replaceChildren(); return; }
      const o = this._options();
      if (!this._top) {
        this._say('Classifying…');
        const image = await loadImage(src);
        if (stale()) return;
        const c = await gc.classify(image, { topK: TOP_K, signal });
        if (stale()) return;
        this._image = image;
        this._top = c.top;
        this._showList();
      }
      if (!this._explanation) {
        this._say('Explaining…');
        const ex = await gc.explain(this._image, { classIndex: o.classIndex, method: o.method, layer: o.layer, colormap: o.colormap, alpha: o.alpha, signal });
        if (stale()) return;
        this._explanation = ex;
        this._draw(ex.overlay, o, ex.timings, 'explain');
        return;
      }
      if (!this._shown || this._shown.colormap !== o.colormap || this._shown.alpha !== o.alpha) {
        const r = await gc.render(this._explanation, { colormap: o.colormap, alpha: o.alpha, signal });
        if (stale()) return;
        this._draw(r.overlay, o, r.timings, 'render');
      }
    } catch (e) {
      if (!this.isConnected) { if (this._entry && !this._gc) this._drop(); return; } // removed: nothing to report
      if (stale() && e && e.code === ErrorCode.ABORTED) return; // superseded: the next step runs
      if (this._entry && !this._gc) this._drop();
      const err = asError(e);
      this._say(`Error: ${err.message}`);
      this._emit('error', { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) });
    }
  }

  _draw(overlay, o, timings, kind) {
    const c = this._canvas;
    c.width = overlay.width;
    c.height = overlay.height;
    c.getContext('2d').putImageData(overlay, 0, 0);
    c.hidden = false;
    this._shown = { colormap: o.colormap, alpha: o.alpha };
    const ex = this._explanation;
    const method = this._gc.methods().find((m) => m.name === ex.method);
    const label = method ? method.label : ex.method;
    const what = ex.className != null ? `the class “${ex.className}”` : 'the image';
    c.setAttribute('aria-label', `${label} explanation of ${what} at layer ${ex.layer}, coloured with ${o.colormap || 'the default colour scale'} over the picture: the warm colours mark the areas that most raised the network's score.`);
    for (const b of this._list.querySelectorAll('button')) b.setAttribute('aria-pressed', String(Number(b.dataset.index) === ex.classIndex));
    this._say('');
    this._emit('result', {
      top: this._top.map((t) => ({ ...t })), classIndex: ex.classIndex, className: ex.className, prob: ex.prob,
      method: ex.method, layer: ex.layer, colormap: o.colormap, alpha: o.alpha, kind, timings,
    });
  }

  _showList() {
    const items = this._top.map((t) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.part = 'class';
      b.dataset.index = String(t.index);
      b.setAttribute('aria-pressed', 'false');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = t.name;
      const p = document.createElement('span');
      p.textContent = `${(t.prob * 100).toFixed(1)}%`;
      b.append(name, p);
      b.setAttribute('aria-label', `Explain ${t.name}, ${(t.prob * 100).toFixed(1)} percent`);
      li.append(b);
      return li;
    });
    this._list.replaceChildren(...items);
  }

  _say(text) { this._status.textContent = text; }

  _emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}

/** An <img> of `src`, decoded (a failed one is given as it is: the package answers IMAGE_INVALID). */
async function loadImage(src) {
  const img = new Image();
  img.crossOrigin = 'anonymous';
  img.src = src;
  await img.decode().catch(() => {});
  return img;
}

for (const [prop, attr] of Object.entries(PROPS)) {
  Object.defineProperty(XceptionGradcamElement.prototype, prop, {
    configurable: true,
    enumerable: true,
    get() {
      const v = this.getAttribute(attr);
      if (prop === 'classIndex' || prop === 'alpha') return v === null || v.trim() === '' ? null : Number(v);
      return v;
    },
    set(v) {
      if (v === null || v === undefined) this.removeAttribute(attr);
      else this.setAttribute(attr, String(v));
    },
  });
}

if (globalThis.customElements && !customElements.get('xception-gradcam')) {
  customElements.define('xception-gradcam', XceptionGradcamElement);
}
