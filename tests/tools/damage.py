#!/usr/bin/python3
"""damage.py KIND OUT [SRC] - the damaged and odd model files of the bad-input table
(tests/BAD-INPUTS.md), written with Debian's python3-h5py and zipfile at test time, each damage
placed by reading the file's own structures (h5py gives chunk and object addresses; the HDF5 and
ZIP fields are patched by their documented layouts). SRC is a real Keras file of
tests/js/fixtures.mjs where the kind needs one (a Xception model the import reads up to the damage).

HDF5 (the project's reader, src/io):
  h5-truncated-superblock   the first 40 bytes of SRC (inside the superblock)
  h5-ohdr-loop              a small Keras-like file whose root object header's continuation message
                            points back at the header's own messages
  h5-btree-cycle            a small Keras-like file whose root group B-tree (two levels) has every
                            child of its root node pointing at the root node
  h5-chunk-past-end         SRC with block1_conv1's kernel chunked, its first chunk's address moved
                            past the end of the file
  h5-deflate-bomb           SRC with block1_conv1's kernel chunked and deflated, its first chunk
                            replaced by a stream that inflates to 64 MiB
ZIP (.keras):
  zip-entry-larger          config.json deflated, its declared size 16 bytes (it inflates to more)
  zip-path-outside          an archive with an entry '../model.weights.h5'
Keras:
  keras-no-weights          a .keras with config.json and metadata.json, no model.weights.h5
  keras-missing-layer       SRC (.keras): config.json with an extra Dense layer the weights lack
  keras-head-mismatch       SRC (.keras): config.json's last Dense with one unit more than its kernel
  keras-input-size          SRC (.keras): config.json's input shape 64x64
  keras-lstm-head           SRC (.keras): config.json's Dropout layer an LSTM
  keras3-counter-gap        SRC (.weights.h5): layers/conv2d_1 renamed layers/conv2d_2
  keras1-missing-bn         SRC (Keras 1 .h5): block1_conv1_bn's running_std removed (dataset and name)
Others:
  h5-other-model            Keras 2 weights of another model (one Dense layer)
  tfjs-missing-shards       a TF.js model.json listing two shard files (not written)
"""
import io
import json
import shutil
import struct
import sys
import zipfile
import zlib

import h5py
import numpy as np


def u64(b, o):
    return struct.unpack_from('<Q', b, o)[0]


def put64(b, o, v):
    struct.pack_into('<Q', b, o, v)


def keras_like(path, groups=1, attrs=0):
    """A small HDF5 in the Keras 2 weights layout (layer_names, one Dense layer), made bigger."""
    with h5py.File(path, 'w', libver='earliest') as f:
        names = ['dense_1'] + [f'layer_{i:03d}' for i in range(groups - 1)]
        f.attrs['layer_names'] = np.array([n.encode() for n in names])
        for n in names:
            g = f.create_group(n)
            g.attrs['weight_names'] = np.array([], dtype='S1') if n != 'dense_1' else np.array([b'dense_1/kernel:0'])
        f['dense_1'].create_dataset('dense_1/kernel:0', data=np.ones((4, 5), np.float32))
        for i in range(attrs):  # added after creation: the header grows by continuation blocks
            f.attrs[f'note_{i:03d}'] = np.frombuffer(bytes(range(64)) * 2, np.uint8)


def ohdr_loop(out):
    keras_like(out, attrs=40)
    b = bytearray(open(out, 'rb').read())
    with h5py.File(out, 'r') as f:
        addr = h5py.h5o.get_info(f.id).addr
    # version 1 object header: version, reserved, message count (2), refcount (4), header size (4),
    # 4 bytes of padding, then messages of type (2), size (2), flags (1), 3 reserved, data
    assert b[addr] == 1, 'a version 1 object header'
    size = struct.unpack_from('<I', b, addr + 8)[0]
    o, end = addr + 16, addr + 16 + size
    while o < end:
        mtype, msize = struct.unpack_from('<HH', b, o)
        if mtype == 0x10:  # continuation: offset (8), length (8) -> the header's own messages
            put64(b, o + 8, addr + 16)
            put64(b, o + 16, size)
            open(out, 'wb').write(b)
            return
        o += 8 + msize
    raise SystemExit('no continuation message in the root object header')


def btree_cycle(out):
    keras_like(out, groups=300)
    b = bytearray(open(out, 'rb').read())
    # the root node of the root group's B-tree: the "TREE" node of the highest level
    nodes = []
    o = b.find(b'TREE')
    while o >= 0:
        if b[o + 4] == 0:  # group nodes
            nodes.append((b[o + 5], o))
        o = b.find(b'TREE', o + 4)
    level, root = max(nodes)
    assert level >= 1, 'a two-level B-tree'
    used = struct.unpack_from('<H', b, root + 6)[0]
    # header: signature, type, level, entries used, left and right siblings; then key, child, ...
    p = root + 8 + 16
    for _ in range(used):
        p += 8  # key: a heap offset
        put64(b, p, root)
        p += 8
    open(out, 'wb').write(b)


def chunked_kernel(src, out, compression=None):
    """SRC with block1_conv1's kernel rewritten as a chunked dataset; its first chunk's (offset, size)."""
    shutil.copyfile(src, out)
    with h5py.File(out, 'r+') as f:
        found = []
        f.visit(lambda n: found.append(n) if n.endswith('kernel:0') and n.split('/')[-1].startswith('block1_conv1') or n.endswith('block1_conv1/kernel:0') else None)
        path = found[0]
        data = f[path][()]
        del f[path]
        ds = f.create_dataset(path, data=data, chunks=(1,) + data.shape[1:], compression=compression)
        info = ds.id.get_chunk_info(0)
        return info.byte_offset, info.size


def chunk_past_end(src, out):
    at, _ = chunked_kernel(src, out)
    b = bytearray(open(out, 'rb').read())
    key = struct.pack('<Q', at)
    o = b.find(key)
    hits = [o]
    while (o := b.find(key, o + 1)) >= 0:
        hits.append(o)
    tree = [h for h in hits if b.rfind(b'TREE', 0, h) >= 0 and h - b.rfind(b'TREE', 0, h) < 4096]
    assert tree, 'the chunk address in its B-tree node'
    put64(b, tree[0], len(b) + (1 << 20))
    open(out, 'wb').write(b)


def deflate_bomb(src, out):
    at, size = chunked_kernel(src, out, compression='gzip')
    bomb = zlib.compress(bytes(64 << 20), 9)
    b = bytearray(open(out, 'rb').read())
    assert len(bomb) > size, 'the stream is longer than the chunk: appended, its address and size patched'
    key = struct.pack('<Q', at)
    o = b.find(key)
    node = b.rfind(b'TREE', 0, o)
    assert 0 <= node and o - node < 4096
    # the chunk key before the address: chunk size (4), filter mask (4), offsets (8 each)
    rank = 4
    key_at = o - 8 - 8 * (rank + 1)
    struct.pack_into('<I', b, key_at, len(bomb))
    put64(b, o, len(b))
    b += bomb
    open(out, 'wb').write(b)


def zip_entry_larger(out):
    weights = io.BytesIO()
    with h5py.File(weights, 'w') as f:
        f['layers/conv2d/vars/0'] = np.zeros((3, 3, 3, 32), np.float32)
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('metadata.json', '{"keras_version": "3.8.0"}')
        z.writestr('config.json', json.dumps({'class_name': 'Functional', 'config': {'layers': [{'class_name': 'InputLayer', 'config': {'name': 'i' * 200}}]}}))
        z.writestr('model.weights.h5', weights.getvalue())
    b = bytearray(open(out, 'rb').read())
    for sig, field in ((b'PK\x03\x04', 22), (b'PK\x01\x02', 24)):  # local header, central directory
        o = b.find(sig)
        while o >= 0:
            n = struct.unpack_from('<H', b, o + (26 if sig == b'PK\x03\x04' else 28))[0]
            name_at = o + (30 if sig == b'PK\x03\x04' else 46)
            if bytes(b[name_at:name_at + n]) in (b'config.json', b'model.weights.h5'):
                struct.pack_into('<I', b, o + field, 16)
            o = b.find(sig, o + 4)
    open(out, 'wb').write(b)


def zip_path_outside(out):
    with zipfile.ZipFile(out, 'w') as z:
        z.writestr('metadata.json', '{"keras_version": "3.8.0"}')
        z.writestr(zipfile.ZipInfo('../model.weights.h5'), b'\x89HDF\r\n\x1a\n' + bytes(64))


def keras_edit(src, out, edit):
    """SRC (.keras) with its config.json changed by edit(config)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, 'w') as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == 'config.json':
                cfg = json.loads(data)
                edit(cfg)
                data = json.dumps(cfg).encode()
            zout.writestr(item, data)


def layers_of(cfg):
    return cfg['config']['layers']


def extra_dense(cfg):
    L = layers_of(cfg)
    last = L[-1]
    extra = json.loads(json.dumps(last))
    extra['config']['name'] = 'dense_extra'
    extra['inbound_nodes'] = json.loads(json.dumps(last['inbound_nodes']).replace(json.dumps(L[-2]['config']['name']), json.dumps(last['config']['name'])))
    L.append(extra)
    cfg['config']['output_layers'] = [['dense_extra', 0, 0]] if isinstance(cfg['config'].get('output_layers'), list) else cfg['config'].get('output_layers')


def head_mismatch(cfg):
    dense = [l for l in layers_of(cfg) if l['class_name'] == 'Dense']
    dense[-1]['config']['units'] += 1


def input_size(cfg):
    for l in layers_of(cfg):
        if l['class_name'] == 'InputLayer':
            key = 'batch_shape' if 'batch_shape' in l['config'] else 'batch_input_shape'
            l['config'][key] = [None, 64, 64, 3]


def lstm_head(cfg):
    for l in layers_of(cfg):
        if l['class_name'] == 'Dropout':
            l['class_name'] = 'LSTM'
            return
    raise SystemExit('no Dropout layer to replace')


def counter_gap(src, out):
    shutil.copyfile(src, out)
    with h5py.File(out, 'r+') as f:
        def find(g):
            if 'conv2d_1' in g:  # conv2d, conv2d_2, ...: Keras never skips a number
                n = max(int(k[7:] or 0) for k in g if k.startswith('conv2d_') and k[7:].isdigit())
                g.move('conv2d_1', f'conv2d_{n + 1}')
                return True
            return any(find(g[k]) for k in g if isinstance(g[k], h5py.Group) and k in ('layers', 'functional', 'xception'))
        assert find(f['layers']) or find(f), 'a layers/conv2d_1 group'


def missing_bn(src, out):
    shutil.copyfile(src, out)
    with h5py.File(out, 'r+') as f:
        g = f['block1_conv1_bn']
        names = [n for n in g.attrs['weight_names']]
        gone = [n for n in names if b'running_std' in n][0]
        del g[gone.decode()]
        g.attrs['weight_names'] = np.array([n for n in names if n != gone])


def main(kind, out, src=None):
    if kind == 'h5-truncated-superblock':
        open(out, 'wb').write(open(src, 'rb').read(40))
    elif kind == 'h5-ohdr-loop':
        ohdr_loop(out)
    elif kind == 'h5-btree-cycle':
        btree_cycle(out)
    elif kind == 'h5-chunk-past-end':
        chunk_past_end(src, out)
    elif kind == 'h5-deflate-bomb':
        deflate_bomb(src, out)
    elif kind == 'zip-entry-larger':
        zip_entry_larger(out)
    elif kind == 'zip-path-outside':
        zip_path_outside(out)
    elif kind == 'keras-no-weights':
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, 'w') as zout:
            for item in zin.infolist():
                if item.filename != 'model.weights.h5':
                    zout.writestr(item, zin.read(item.filename))
    elif kind == 'keras-missing-layer':
        keras_edit(src, out, extra_dense)
    elif kind == 'keras-head-mismatch':
        keras_edit(src, out, head_mismatch)
    elif kind == 'keras-input-size':
        keras_edit(src, out, input_size)
    elif kind == 'keras-lstm-head':
        keras_edit(src, out, lstm_head)
    elif kind == 'keras3-counter-gap':
        counter_gap(src, out)
    elif kind == 'keras1-missing-bn':
        missing_bn(src, out)
    elif kind == 'h5-other-model':
        with h5py.File(out, 'w') as f:
            f.attrs['layer_names'] = np.array([b'dense_1'])
            g = f.create_group('dense_1')
            g.attrs['weight_names'] = np.array([b'dense_1/kernel:0', b'dense_1/bias:0'])
            g['dense_1/kernel:0'] = np.full((4, 5), 0.5, np.float32)
            g['dense_1/bias:0'] = np.zeros(5, np.float32)
    elif kind == 'tfjs-missing-shards':
        with open(out, 'w') as f:
            json.dump({'format': 'layers-model', 'modelTopology': None, 'weightsManifest': [
                {'paths': ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
                 'weights': [{'name': 'block1_conv1/kernel', 'shape': [3, 3, 3, 32], 'dtype': 'float32'}]}]}, f)
    else:
        raise SystemExit(f'unknown kind {kind}')


if __name__ == '__main__':
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
