// camera.js - the camera: a photo from it, or Live, which explains frame after frame at the
// rate the machine sustains and shows that rate.
import { $ } from './dom.js';
import { running } from './jobs.js';
import { S, setState } from './state.js';
import { showError, status } from './status.js';
import { explainOptions, renderTop } from './controls.js';
import { drawResult, explainClass, useImage } from './explain-view.js';

let liveCtl = null;

async function openCamera() {
  showError(null);
  if (!navigator.mediaDevices?.getUserMedia) {
    showError(new Error('This browser gives this page no camera (it needs a secure address such as http://127.0.0.1).'));
    return;
  }
  try {
    S.camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'environment' }, audio: false });
  } catch (e) {
    showError(new Error(`The camera could not be opened: ${e.message || e.name}`));
    return;
  }
  const video = $('camera');
  video.srcObject = S.camera;
  await video.play().catch(() => {});
  $('camera-box').hidden = false;
  $('camera-open').disabled = true;
  document.body.dataset.camera = 'on';
  $('camera-snap').focus();
}

function closeCamera() {
  stopLive();
  if (S.camera) for (const t of S.camera.getTracks()) t.stop();
  S.camera = null;
  $('camera').srcObject = null;
  $('camera-box').hidden = true;
  $('camera-open').disabled = false;
  document.body.dataset.camera = 'off';
}

function grabFrame() {
  const video = $('camera');
  if (!video.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = video.videoWidth;
  c.height = video.videoHeight;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(video, 0, 0);
  return g.getImageData(0, 0, c.width, c.height);
}

async function snapshot() {
  const frame = grabFrame();
  if (!frame) { showError(new Error('The camera has no picture yet: wait a moment and try again.')); return; }
  stopLive();
  await useImage(frame, 'camera photo');
}

async function toggleLive() {
  if (S.live) { stopLive({ again: true }); return; }
  if (!S.weights.loaded || !S.methods.length) { showError(new Error('Live needs the network\'s weights first.')); return; }
  running()?.abort();
  S.live = true;
  liveCtl = new AbortController();
  const { signal } = liveCtl;
  $('camera-live').setAttribute('aria-pressed', 'true');
  $('camera-live').textContent = 'Stop';
  document.body.dataset.live = 'on';
  setState('live');
  status('Live: explaining the camera\'s pictures…');
  $('class-search').disabled = true;
  let fps = 0;
  let last = performance.now();
  let frames = 0;
  while (S.live && !signal.aborted) {
    const frame = grabFrame();
    if (!frame) { await new Promise((r) => setTimeout(r, 50)); continue; }
    const opts = explainOptions();
    delete opts.classIndex; // the best guess of each frame
    let r;
    try {
      r = await S.gc.explain(frame, { ...opts, signal });
    } catch (e) {
      if (e.code !== 'ABORTED' && S.live) { showError(e); stopLive(); setState('error'); }
      break;
    }
    if (!S.live) break;
    S.image = { source: frame, name: 'camera', id: -1 };
    S.classIndex = r.classIndex;
    S.classes = r.classes;
    renderTop(explainClass);
    putFrame(frame);
    S.result = r;
    await drawResult(r);
    const now = performance.now();
    const dt = now - last;
    last = now;
    fps = frames++ ? 0.7 * fps + 0.3 * (1000 / dt) : 1000 / dt;
    $('fps').textContent = `${fps.toFixed(1)} pictures per second`;
    $('caption').textContent = `Live: ${$('caption').textContent} · ${fps.toFixed(1)} per second`;
    document.body.dataset.liveFrames = String(frames);
  }
}

function putFrame(frame) {
  const c = $('original-canvas');
  c.width = frame.width;
  c.height = frame.height;
  c.getContext('2d').putImageData(frame, 0, 0);
}

/** End Live; `again` (the Stop button) explains the last frame in full. */
export function stopLive({ again = false } = {}) {
  if (!S.live) return;
  S.live = false;
  liveCtl?.abort();
  $('camera-live').setAttribute('aria-pressed', 'false');
  $('camera-live').textContent = 'Live';
  document.body.dataset.live = 'off';
  const frame = S.image?.source;
  if (again && frame instanceof ImageData) useImage(frame, 'camera picture');
}

export function setupCamera() {
  $('camera-open').addEventListener('click', openCamera);
  $('camera-close').addEventListener('click', closeCamera);
  $('camera-snap').addEventListener('click', snapshot);
  $('camera-live').addEventListener('click', toggleLive);
}
