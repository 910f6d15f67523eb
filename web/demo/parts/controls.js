// controls.js - the explain view's controls: the top-5 buttons and the class search, the method
// (with its own settings), the layer list (the 14 block outputs, or every activation on
// request) and the display choices (colours, scale, blend, strength, view), which are kept per
// kind of map: the CAM family over the photo, the pixel methods on their own.
import { $, el, pct, pretty } from './dom.js';
import { S } from './state.js';
import {
  blockOutputs, DISPLAY_DEFAULTS, familyOf, layerLabel, methodName, settingChoices, spatialLayers, STUDENT_TEXT,
} from './text.js';

export const DEFAULT_LAYER = 'block14_sepconv2_act';
const display = structuredClone(DISPLAY_DEFAULTS); // family -> {colormap, scale, view, blend, alpha}

export function currentMethod() {
  return S.methods.find((m) => m.name === $('method').value) || { name: 'gradcam', usesLayer: true, channels: 1 };
}
export const displayOf = (method = currentMethod().name) => display[familyOf(method)];

/** The rendering choices for the current method. */
export function renderOptions(method) {
  const d = displayOf(method);
  return { colormap: d.colormap, alpha: d.alpha, blend: d.blend, scale: d.scale };
}

/** The explain() options the page's controls say, for the current class. */
export function explainOptions(extra = {}) {
  const m = currentMethod();
  const o = { classIndex: S.classIndex, method: m.name, ...renderOptions(m.name) };
  if (m.usesLayer) o.layer = $('layer').value;
  const settings = S.settings[m.name];
  if (settings && Object.keys(settings).length) o.methodOptions = { ...settings };
  return { ...o, ...extra };
}

/** Fill a layer <select>: the block outputs, or every spatial activation grouped by flow. */
export function fillLayers(select, all, selected = select.value || DEFAULT_LAYER) {
  const layers = S.gc.layers();
  if (!all) {
    const list = blockOutputs(layers);
    select.replaceChildren(...list.map((l) => new Option(layerLabel(l, true), l.name)));
  } else {
    const flows = [['Entry flow', 1, 4], ['Middle flow', 5, 12], ['Exit flow', 13, 14]];
    const spatial = spatialLayers(layers);
    select.replaceChildren(...flows.map(([label, lo, hi]) => {
      const g = el('optgroup', { label });
      for (const l of spatial) {
        const b = Number(/^block(\d+)_/.exec(l.name)[1]);
        if (b >= lo && b <= hi) g.append(new Option(layerLabel(l, false), l.name));
      }
      return g;
    }));
  }
  const names = [...select.options].map((o) => o.value);
  select.value = names.includes(selected) ? selected : DEFAULT_LAYER;
}

/** Once the model is there: the methods, colormaps and layers it offers. */
export function setupModelControls() {
  S.methods = S.gc.methods();
  const method = $('method');
  const groups = [['Maps of a layer (coarse, about the guess)', true], ['Maps of the pixels (fine)', false]];
  for (const [label, uses] of groups) {
    const list = S.methods.filter((m) => !!m.usesLayer === uses);
    const g = el('optgroup', { label });
    for (const m of list) g.append(new Option(methodName(m.name), m.name, m.name === 'gradcam', m.name === 'gradcam'));
    if (list.length) method.append(g);
  }
  method.disabled = !S.methods.length;
  $('colormap').replaceChildren(...S.gc.colormaps().map((c) => new Option(c, c)));
  fillLayers($('layer'), false, DEFAULT_LAYER);
  describeMethod();
}

let settingHandler = () => {};
/** What a change of a method's own setting does (the explain view explains again). */
export function onSettingChange(fn) { settingHandler = fn; }

/** The method's sentence, its settings, and the display controls of its kind of map. */
export function describeMethod() {
  const m = currentMethod();
  $('method-description').textContent = `${STUDENT_TEXT[m.name] || m.description || ''}${m.reference ? ` (${m.reference})` : ''}`;
  $('layer').disabled = !S.methods.length || !m.usesLayer;
  $('all-layers').disabled = !m.usesLayer;
  $('layer-hint').textContent = m.usesLayer
    ? 'Late blocks (exit flow) give coarse maps about whole objects; early blocks sharper ones about parts and textures.'
    : 'This method works on the pixels: the layer is not used.';
  methodSettings(m);
  syncDisplay();
}

/** The method's own settings, from the registry's params (labels, ranges, defaults). */
function methodSettings(m) {
  const box = $('method-options');
  const fields = (m.params || []).map((q) => [q, settingChoices(q)]).filter(([, c]) => c.length);
  box.hidden = !fields.length;
  box.replaceChildren(...fields.map(([q, choices]) => {
    const id = `opt-${q.name}`;
    const sel = el('select', { id, dataset: { key: q.name } });
    const kept = S.settings[m.name]?.[q.name] ?? q.default;
    for (const c of choices) sel.append(new Option(String(c), String(c), c === q.default, c === kept));
    sel.addEventListener('change', () => {
      (S.settings[m.name] ||= {})[q.name] = sel.value === q.special ? q.special : Number(sel.value);
      settingHandler();
    });
    const label = q.label.charAt(0).toUpperCase() + q.label.slice(1);
    return el('div', { className: 'field' }, el('label', { htmlFor: id, textContent: label }), sel);
  }));
}

/** Show the current kind of map's display choices in the controls. */
export function syncDisplay() {
  const d = displayOf();
  $('colormap').value = d.colormap;
  $('scale').value = d.scale;
  $('blend').value = d.blend;
  $('alpha').value = String(d.alpha);
  $('alpha-value').textContent = d.alpha.toFixed(2);
  const rgb = familyOf(currentMethod().name) === 'rgb';
  $('colormap').disabled = rgb;
  for (const id of ['blend', 'alpha']) $(id).disabled = rgb;
  document.querySelector(`input[name="view"][value="${d.view}"]`).checked = true;
}

/** Read a display control into the current kind of map's choices. */
export function readDisplay() {
  const d = displayOf();
  d.colormap = $('colormap').value;
  d.scale = $('scale').value;
  d.blend = $('blend').value;
  d.alpha = Number($('alpha').value);
  d.view = document.querySelector('input[name="view"]:checked').value;
  $('alpha-value').textContent = d.alpha.toFixed(2);
}

// ---- the guesses ----------------------------------------------------------------------------
export function renderTop(onChoose) {
  const top = S.classes.slice(0, 5);
  $('top5-hint').hidden = top.length > 0;
  $('top5').replaceChildren(...top.map((t) => {
    const fill = el('span');
    fill.style.width = `${Math.max(0.5, t.prob * 100)}%`;
    const b = el('button', { type: 'button', className: 'class', disabled: !S.methods.length, dataset: { index: t.index } },
      el('span', { className: 'name', textContent: pretty(t.name) }),
      el('span', { className: 'prob', textContent: pct(t.prob) }),
      el('span', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, fill));
    b.setAttribute('aria-pressed', String(t.index === S.classIndex));
    b.addEventListener('click', () => onChoose(t.index));
    return el('li', { dataset: { index: t.index } }, b);
  }));
}

export function markClass() {
  for (const b of $('top5').querySelectorAll('button')) b.setAttribute('aria-pressed', String(Number(b.dataset.index) === S.classIndex));
}

export function searchClasses(onChoose) {
  const q = $('class-search').value.trim().toLowerCase();
  const out = $('class-results');
  if (!q || !S.classes) { out.replaceChildren(); return []; }
  const hits = S.classes.filter((c) => pretty(c.name).toLowerCase().includes(q)).slice(0, 8);
  out.replaceChildren(...hits.map((c) => {
    const b = el('button', { type: 'button', textContent: `${pretty(c.name)} — ${pct(c.prob)}`, disabled: !S.methods.length, dataset: { index: c.index } });
    b.addEventListener('click', () => onChoose(c.index));
    return el('li', {}, b);
  }));
  if (!hits.length) out.append(el('li', { className: 'hint', textContent: 'No class has that in its name.' }));
  return hits;
}
