// convert.js - read Keras Xception weights from their published file formats into the
// tensor list Core.convert() turns into the project format. Both readers work in Node and
// in browsers; neither interprets the network (the C core matches layers by order and shape).
//
//  - Keras HDF5 (xception_weights_tf_dim_ordering_tf_kernels.h5): root attribute layer_names,
//    per layer attribute weight_names, datasets <layer>/<weight>. Read with h5wasm, a
//    maintained build of the HDF5 library (the caller passes an opened h5wasm File).
//  - TF.js layers model: model.json with a weightsManifest plus binary shards holding the
//    weights back to back, in manifest order.

function strings(v) {
  if (v == null) return [];
  if (typeof v === 'string') return [v];
  return Array.from(v, (s) => (typeof s === 'string' ? s : new TextDecoder().decode(s)));
}

/** Tensors of a Keras HDF5 weights file opened with h5wasm (`new h5wasm.File(path, 'r')`). */
export function* kerasH5Tensors(file) {
  let attr;
  try {
    attr = file.attrs && file.attrs.layer_names;
  } catch (e) {
    throw new Error(`the HDF5 file's root attributes cannot be read, so it holds no Keras weights (h5wasm: ${e.message || e})`);
  }
  if (!attr) throw new Error('not a Keras weights file: the root attribute layer_names is missing');
  for (const layer of strings(attr.value)) {
    const group = file.get(layer);
    if (!group) throw new Error(`layer group '${layer}' is missing`);
    const wn = group.attrs && group.attrs.weight_names ? strings(group.attrs.weight_names.value) : [];
    for (const weight of wn) {
      const ds = group.get(weight);
      if (!ds || !ds.shape) throw new Error(`dataset '${layer}/${weight}' is missing`);
      const v = ds.value;
      const data = v instanceof Float32Array ? v : Float32Array.from(v);
      yield { layer, weight, shape: ds.shape.map(Number), data };
    }
  }
}

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Tensors of a TF.js layers model.
 * @param {object} modelJson parsed model.json
 * @param {(path: string) => ArrayBuffer|Uint8Array} shard returns the bytes of one shard file
 */
export function* tfjsTensors(modelJson, shard) {
  const groups = modelJson && modelJson.weightsManifest;
  if (!Array.isArray(groups)) throw new Error('not a TF.js layers model: weightsManifest is missing');
  for (const group of groups) {
    const parts = group.paths.map((p) => {
      let b;
      try {
        b = shard(p);
      } catch (e) {
        throw new Error(`weight shard '${p}' listed in model.json cannot be read: ${e.message || e}`);
      }
      return b instanceof Uint8Array ? b : new Uint8Array(b);
    });
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const p of parts) { bytes.set(p, o); o += p.length; }
    const view = new DataView(bytes.buffer);
    let off = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const dtype = q ? q.dtype : w.dtype;
      const size = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1 }[dtype];
      if (!size || (w.dtype !== 'float32' && !q)) throw new Error(`weight ${w.name}: unsupported dtype ${dtype}`);
      if (off + n * size > total) throw new Error(`weight ${w.name}: the shards end early (${total} bytes)`);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const at = off + i * size;
        if (dtype === 'float32') data[i] = view.getFloat32(at, true);
        else if (dtype === 'float16') data[i] = halfToFloat(view.getUint16(at, true));
        else if (dtype === 'uint16') data[i] = view.getUint16(at, true) * q.scale + q.min;
        else if (dtype === 'uint8') data[i] = view.getUint8(at) * q.scale + q.min;
        else data[i] = view.getInt32(at, true);
      }
      off += n * size;
      const slash = w.name.lastIndexOf('/');
      yield { layer: w.name.slice(0, slash), weight: w.name.slice(slash + 1), shape: w.shape, data };
    }
  }
}
