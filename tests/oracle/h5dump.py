#!/usr/bin/python3
"""The oracle's HDF5 reader: dumps a Keras weights file (layer_names, per layer weight_names and
the datasets they name) to OUT/index.json + OUT/data.f32, with libhdf5 through Debian's
python3-h5py, independently of the project's own HDF5 reader.

  h5dump.py FILE.h5 OUTDIR
"""
import json
import os
import sys

import h5py
import numpy as np


def strings(v):
    return [s.decode('utf8') if isinstance(s, bytes) else str(s) for s in np.atleast_1d(v)] if v is not None else []


def main(path, out):
    os.makedirs(out, exist_ok=True)
    with h5py.File(path, 'r') as f:
        g = f['model_weights'] if 'layer_names' not in f.attrs and 'model_weights' in f else f
        if 'layer_names' not in g.attrs:
            sys.exit(f'{path}: no root attribute layer_names (not a Keras weights file?)')
        layers, chunks, off = [], [], 0
        for ln in strings(g.attrs['layer_names']):
            lg = g[ln]
            wn = lg.attrs.get('weight_names')
            names = strings(wn) if wn is not None and np.asarray(wn).dtype.kind in 'SOU' else []
            ws = []
            for w in names:
                a = np.asarray(lg[w], dtype='<f4')
                ws.append({'name': w, 'shape': list(a.shape), 'offset': off, 'count': int(a.size)})
                chunks.append(a.ravel())
                off += a.size
            layers.append({'name': ln, 'weights': ws})
        meta = {k: strings(g.attrs[k])[0] for k in ('backend', 'keras_version') if k in g.attrs}
    np.concatenate(chunks).astype('<f4').tofile(os.path.join(out, 'data.f32'))
    with open(os.path.join(out, 'index.json'), 'w') as fo:
        json.dump(dict(meta, layers=layers), fo)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
