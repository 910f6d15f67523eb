// state.js - what the page knows, in one object, and the signals for people and tests:
// body[data-state] (starting, loading, no-weights, ready, classifying, classified, explaining,
// explained, error, failed, live) and counters body[data-classified], [data-explained],
// [data-rendered], [data-metrics], [data-compared], [data-layered], [data-features], [data-batched].
export const S = {
  gc: null,
  methods: [], // [{name, usesLayer, channels, description}]
  image: null, // {source: Blob|ImageData, name, id}
  classes: null, // every class of the model, best first
  classIndex: null,
  result: null, // the explanation on screen
  forwardMs: 0, // the last measured forward pass, for estimates
  camera: null,
  live: false,
  weights: { loaded: false, pending: false },
  model: null, // info().model of the loaded weights: {inputSize, classes, head, source, inferred}
  labels: null, // a class names file the user picked (a File), given to the weights loaded next
  settings: {}, // method -> the methodOptions chosen
  view: 'explain',
};
if (typeof window !== 'undefined') window.demo = S; // for the console and the tests

export function setState(s) { document.body.dataset.state = s; }
export function bump(counter) { document.body.dataset[counter] = String(Number(document.body.dataset[counter] || 0) + 1); }

const listeners = new Map();
/** A tiny event bus between the views: on('image', fn), emit('image', image). */
export function on(name, fn) { (listeners.get(name) || listeners.set(name, []).get(name)).push(fn); }
export function emit(name, value) { for (const fn of listeners.get(name) || []) fn(value); }
