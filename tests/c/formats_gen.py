#!/usr/bin/python3
"""formats_gen.py OUTDIR - Keras Xception files of every layout the import reads, for
tests/c/test_import.c (run by ctest as a fixture; Debian's python3-h5py, no Keras).

The network is described here on its own, from Keras' applications/xception.py: the layers in
model.layers order (Keras sorts them by their longest distance to the output, so a block's
residual 1x1 convolution comes after its second separable convolution's batch norm and the
residual's batch norm after the block's max pool), their classes, weights (Keras layouts) and
the project's name for each weighted layer (weights/README.md). Every tensor holds
  value[i] = id + ((i % 251) + 1) / 512,   id = FNV-1a-32(project tensor name) % 1000
(exact in float32), so the test can tell which tensor landed where and in which layout.
Datasets are deflate-compressed in chunks (the values repeat), so the files stay small.

Files (OUTDIR/<name>), each with OUTDIR/<name>.expect (what the test expects, as JSON):
  k2-imagenet.h5     Keras 2 weights-only, the official layout (avg_pool, predictions)
  k2-notop.h5        the same without the head (..._notop.h5)
  k1-imagenet.h5     Keras 1.2 weights-only (block1_conv1_W:0, running_std, convolution2d_1)
  k2-model.h5        Keras 2 model.save(): Rescaling + RandomFlip, nested base, GAP, Dropout,
                     Dense(256, relu), Dense(5, softmax); base weights ordered trainable first
  k3-gmp-sigmoid.weights.h5   Keras 3 weights, nested base, GMP, Dense(1): head inferred
  k3-rescale.keras   Keras 3 archive: 224x224, Rescaling(1/255), nested base, GAP, Dense(10, softmax)
  k3-noconfig.keras  a .keras without config.json (head inferred)
  tfjs/model.json    TF.js layers model, flat, GAP + Dense(3, linear), two shards split inside a
                     tensor, the classifier's kernel quantized to uint8
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np


def fnv1a32(s):
    h = 0x811c9dc5
    for b in s.encode():
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def values(project_name, shape):
    n = int(np.prod(shape))
    ident = fnv1a32(project_name) % 1000
    i = np.arange(n, dtype=np.int64)
    return (ident + ((i % 251) + 1) / 512.0).astype(np.float32).reshape(shape)


BN = ['gamma', 'beta', 'moving_mean', 'moving_variance']


def xception():
    """[(name or None, class, [(weight, shape)], project prefix or None)] in model.layers order."""
    L = []

    def conv(name, k, cin, cout, proj):
        L.append((name, 'Conv2D', [('kernel', (k, k, cin, cout))], proj))

    def bn(name, c, proj):
        L.append((name, 'BatchNormalization', [(w, (c,)) for w in BN], proj))

    def sep(name, cin, cout):
        L.append((name, 'SeparableConv2D', [('depthwise_kernel', (3, 3, cin, 1)),
                                             ('pointwise_kernel', (1, 1, cin, cout))], name))

    def plain(name, cls):
        L.append((name, cls, [], None))

    plain('input_1', 'InputLayer')
    conv('block1_conv1', 3, 3, 32, 'block1_conv1')
    bn('block1_conv1_bn', 32, 'block1_conv1_bn')
    plain('block1_conv1_act', 'Activation')
    conv('block1_conv2', 3, 32, 64, 'block1_conv2')
    bn('block1_conv2_bn', 64, 'block1_conv2_bn')
    plain('block1_conv2_act', 'Activation')
    cin = 64
    for b, c1, c2 in ((2, 128, 128), (3, 256, 256), (4, 728, 728)):
        if b > 2:
            plain(f'block{b}_sepconv1_act', 'Activation')
        sep(f'block{b}_sepconv1', cin, c1)
        bn(f'block{b}_sepconv1_bn', c1, f'block{b}_sepconv1_bn')
        plain(f'block{b}_sepconv2_act', 'Activation')
        sep(f'block{b}_sepconv2', c1, c2)
        bn(f'block{b}_sepconv2_bn', c2, f'block{b}_sepconv2_bn')
        conv(None, 1, cin, c2, f'block{b}_residual')
        plain(f'block{b}_pool', 'MaxPooling2D')
        bn(None, c2, f'block{b}_residual_bn')
        plain(None, 'Add')
        cin = c2
    for b in range(5, 13):
        for k in (1, 2, 3):
            plain(f'block{b}_sepconv{k}_act', 'Activation')
            sep(f'block{b}_sepconv{k}', 728, 728)
            bn(f'block{b}_sepconv{k}_bn', 728, f'block{b}_sepconv{k}_bn')
        plain(None, 'Add')
    plain('block13_sepconv1_act', 'Activation')
    sep('block13_sepconv1', 728, 728)
    bn('block13_sepconv1_bn', 728, 'block13_sepconv1_bn')
    plain('block13_sepconv2_act', 'Activation')
    sep('block13_sepconv2', 728, 1024)
    bn('block13_sepconv2_bn', 1024, 'block13_sepconv2_bn')
    conv(None, 1, 728, 1024, 'block13_residual')
    plain('block13_pool', 'MaxPooling2D')
    bn(None, 1024, 'block13_residual_bn')
    plain(None, 'Add')
    sep('block14_sepconv1', 1024, 1536)
    bn('block14_sepconv1_bn', 1536, 'block14_sepconv1_bn')
    plain('block14_sepconv1_act', 'Activation')
    sep('block14_sepconv2', 1536, 2048)
    bn('block14_sepconv2_bn', 2048, 'block14_sepconv2_bn')
    plain('block14_sepconv2_act', 'Activation')
    return L


def head(L, pool, dense):
    """dense: [(keras name, units, activation, project prefix)]"""
    L = list(L)
    if pool:
        L.append(pool)
    cin = 2048
    for name, units, act, proj in dense:
        L.append((name, 'Dense', [('kernel', (cin, units)), ('bias', (units,))], proj, act))
        cin = units
    return L


def project_prefixes(dense_count):
    return ['predictions' if k == dense_count - 1 else f'head_dense{k + 1}' for k in range(dense_count)]


def auto_names(L, style):
    """Names Keras generates: tf.keras 'conv2d', 'conv2d_1' ...; Keras 1 'convolution2d_1' ..."""
    prefix = {'Conv2D': 'conv2d', 'BatchNormalization': 'batch_normalization', 'Add': 'add'}
    if style == 'keras1':
        prefix = {'Conv2D': 'convolution2d', 'BatchNormalization': 'batchnormalization', 'Add': 'merge'}
    count = {}
    out = []
    for layer in L:
        name = layer[0]
        if name is None:
            p = prefix[layer[1]]
            n = count.get(p, 0)
            count[p] = n + 1
            name = f'{p}_{n + 1}' if style == 'keras1' else (p if n == 0 else f'{p}_{n}')
        out.append((name,) + tuple(layer[1:]))
    return out


def tensors(layer):
    """[(weight, project name, array)] of a layer."""
    name, cls, weights, proj = layer[:4]
    return [(w, f'{proj}/{w}', values(f'{proj}/{w}', shape)) for w, shape in weights]


def dataset(group, path, array):
    group.create_dataset(path, data=array, compression='gzip', compression_opts=1,
                         chunks=array.shape if array.size < 65536 else True)


K1_SUFFIX = {'kernel': 'W', 'bias': 'b', 'moving_variance': 'running_std', 'moving_mean': 'running_mean'}


def weight_name(lname, w, style):
    if style == 'keras1':
        return f'{lname}_{K1_SUFFIX.get(w, w)}:0'
    return f'{lname}/{w}:0'


def write_layers(group, L, style, nested=None):
    """Keras 1/2 weights group: layer_names, per layer weight_names and datasets. nested: (name,
    [layers]) saved as one layer whose weight_names list trainable weights first."""
    names = [layer[0] for layer in L]
    group.attrs['layer_names'] = np.array([n.encode() for n in names])
    for layer in L:
        g = group.create_group(layer[0])
        wn = []
        if nested and layer[0] == nested[0]:
            inner = nested[1]
            trainable = [(sub, w, t) for sub in inner for (w, _, t) in tensors(sub) if w not in BN[2:]]
            stats = [(sub, w, t) for sub in inner for (w, _, t) in tensors(sub) if w in BN[2:]]
            for sub, w, t in trainable + stats:
                n = weight_name(sub[0], w, style)
                wn.append(n.encode())
                dataset(g, n, t)
        else:
            for w, _, t in tensors(layer):
                n = weight_name(layer[0], w, style)
                wn.append(n.encode())
                dataset(g, n, t)
        # Keras writes np.asarray(weight_names): fixed-length strings, and for a layer without
        # weights an empty float64 array
        g.attrs['weight_names'] = np.array(wn) if wn else np.array([])


def expect(path, **kw):
    with open(path + '.expect', 'w') as f:
        json.dump(kw, f)


def legacy_file(path, L, style, version):
    with h5py.File(path, 'w') as f:
        f.attrs['keras_version'] = version.encode()
        f.attrs['backend'] = b'tensorflow'
        write_layers(f, L, style)


# ---- Keras configs -------------------------------------------------------------------------

def layer_config(layer, style='keras2'):
    name, cls = layer[0], layer[1]
    cfg = {'name': name, 'trainable': True}
    if cls == 'Dense':
        cfg.update(units=layer[2][1][1][0], activation=layer[4], use_bias=True)
    if cls in ('Conv2D', 'SeparableConv2D'):
        cfg.update(data_format='channels_last', use_bias=False)
    return {'class_name': cls, 'config': cfg, 'name': name, 'inbound_nodes': []}


def model_config(name, layers, cls='Functional'):
    return {'class_name': cls, 'config': {'name': name, 'layers': layers}}


def input_layer(name, h, w, key='batch_input_shape'):
    return {'class_name': 'InputLayer', 'config': {'name': name, key: [None, h, w, 3]}, 'name': name}


def base_config(base, key='batch_input_shape', h=None, w=None):
    layers = [input_layer(base[0][0], h, w, key)] + [layer_config(layer) for layer in base[1:]]
    return {'class_name': 'Functional', 'config': {'name': 'xception', 'layers': layers}, 'name': 'xception'}


# ---- Keras 3 -------------------------------------------------------------------------------

def snake(cls):
    return {'Conv2D': 'conv2d', 'SeparableConv2D': 'separable_conv2d', 'BatchNormalization': 'batch_normalization',
            'Dense': 'dense', 'InputLayer': 'input_layer', 'Activation': 'activation', 'MaxPooling2D': 'max_pooling2d',
            'Add': 'add', 'GlobalAveragePooling2D': 'global_average_pooling2d',
            'GlobalMaxPooling2D': 'global_max_pooling2d', 'Dropout': 'dropout', 'Rescaling': 'rescaling',
            'RandomFlip': 'random_flip', 'Functional': 'functional'}[cls]


def k3_container(f, path, layers, eager):
    used = {}
    for layer in layers:
        s = snake(layer[1])
        used[s] = used.get(s, -1) + 1
        p = f'{path}/{s}' if used[s] == 0 else f'{path}/{s}_{used[s]}'
        if layer[1] == 'Functional':
            if eager:
                f.create_group(f'{p}/vars')
            k3_container(f, f'{p}/layers', layer[2], eager)
            continue
        ts = tensors(layer) if layer[2] else []
        if ts or eager:
            g = f.create_group(f'{p}/vars')
            for i, (_, _, t) in enumerate(ts):
                dataset(g, str(i), t)


def k3_weights(fileobj, outer, eager=True):
    with h5py.File(fileobj, 'w') as f:
        k3_container(f, 'layers', outer, eager)
        f.create_group('vars')
        opt = f.create_group('optimizer/vars')  # a compiled model's optimizer state: not read
        opt['0'] = np.array(40, dtype=np.int64)


def main(out):
    os.makedirs(out, exist_ok=True)
    base = xception()
    imagenet = head(base, ('avg_pool', 'GlobalAveragePooling2D', [], None),
                    [('predictions', 1000, 'softmax', 'predictions')])
    k2 = auto_names(imagenet, 'tf.keras')
    legacy_file(f'{out}/k2-imagenet.h5', k2, 'keras2', '2.1.5')
    expect(f'{out}/k2-imagenet.h5', format='keras2-h5', classes=1000, input=[299, 299], dense=[[1000, 'predictions']],
           pool='avg', inferred=True)
    legacy_file(f'{out}/k2-notop.h5', auto_names(base, 'tf.keras'), 'keras2', '2.2.4')
    expect(f'{out}/k2-notop.h5', format='keras2-h5', classes=0, input=[299, 299], dense=[], pool='none', inferred=True)
    legacy_file(f'{out}/k1-imagenet.h5', auto_names(imagenet, 'keras1'), 'keras1', '1.2.2')
    expect(f'{out}/k1-imagenet.h5', format='keras1-h5', classes=1000, input=[299, 299], dense=[[1000, 'predictions']],
           pool='avg', inferred=True)

    # Keras 2 model.save() of a fine-tuned model: the base nested as one layer
    nb = auto_names(base, 'tf.keras')
    top = head([], ('global_average_pooling2d', 'GlobalAveragePooling2D', [], None),
               [('dense', 256, 'relu', 'head_dense1'), ('dense_1', 5, 'softmax', 'predictions')])
    outer = [('input_2', 'InputLayer', [], None), ('rescaling', 'Rescaling', [], None),
             ('random_flip', 'RandomFlip', [], None), ('xception', 'Functional', [], None)] + \
        top[:1] + [('dropout', 'Dropout', [], None)] + top[1:]
    cfg_layers = [input_layer('input_2', 299, 299),
                  {'class_name': 'Rescaling', 'config': {'name': 'rescaling', 'scale': 0.00784313725490196,
                                                         'offset': -1.0}},
                  {'class_name': 'RandomFlip', 'config': {'name': 'random_flip', 'mode': 'horizontal'}},
                  base_config(nb), layer_config(top[0]), {'class_name': 'Dropout', 'config': {'name': 'dropout',
                                                                                            'rate': 0.2}},
                  layer_config(top[1]), layer_config(top[2])]
    with h5py.File(f'{out}/k2-model.h5', 'w') as f:
        f.attrs['keras_version'] = b'2.15.0'
        f.attrs['backend'] = b'tensorflow'
        f.attrs['model_config'] = json.dumps(model_config('model', cfg_layers)).encode()
        g = f.create_group('model_weights')
        write_layers(g, outer, 'keras2', nested=('xception', nb[1:]))
    expect(f'{out}/k2-model.h5', format='keras2-model-h5', classes=5, input=[299, 299],
           dense=[[256, 'head_dense1'], [5, 'predictions']], pool='avg', inferred=False,
           scale=0.00784313725490196, offset=-1.0)

    # Keras 3 .weights.h5: nested base, GMP, Dense(1) (head inferred: sigmoid)
    k3top = head([], ('global_max_pooling2d', 'GlobalMaxPooling2D', [], None),
                 [('dense', 1, 'sigmoid', 'predictions')])
    k3outer = [('input_layer', 'InputLayer', [], None), ('functional', 'Functional', base, None)] + k3top
    k3_weights(f'{out}/k3-gmp-sigmoid.weights.h5', k3outer, eager=True)
    expect(f'{out}/k3-gmp-sigmoid.weights.h5', format='keras3-weights-h5', classes=2, input=[299, 299],
           dense=[[1, 'predictions']], pool='max', inferred=True)

    # Keras 3 .keras: 224x224, Rescaling(1/255), nested base (lazy groups), GAP, Dense(10, softmax)
    k3top = head([], ('global_average_pooling2d', 'GlobalAveragePooling2D', [], None),
                 [('dense', 10, 'softmax', 'predictions')])
    k3outer = [('input_layer', 'InputLayer', [], None), ('rescaling', 'Rescaling', [], None),
               ('functional', 'Functional', base, None)] + k3top
    buf = io.BytesIO()
    k3_weights(buf, k3outer, eager=False)
    cfg = {'module': 'keras', 'class_name': 'Functional', 'config': {'name': 'functional', 'layers': [
        input_layer('input_layer', 224, 224, 'batch_shape'),
        {'class_name': 'Rescaling', 'config': {'name': 'rescaling', 'scale': 1 / 255.0, 'offset': 0.0}},
        base_config(auto_names(base, 'tf.keras'), 'batch_shape', 224, 224),
        layer_config(k3top[0]), layer_config(k3top[1])]}}
    with zipfile.ZipFile(f'{out}/k3-rescale.keras', 'w') as z:
        z.writestr('metadata.json', json.dumps({'keras_version': '3.8.0'}))
        z.writestr('config.json', json.dumps(cfg))
        z.writestr('model.weights.h5', buf.getvalue())
    expect(f'{out}/k3-rescale.keras', format='keras3-keras', classes=10, input=[224, 224],
           dense=[[10, 'predictions']], pool='avg', inferred=False, scale=1 / 255.0, offset=0.0)
    with zipfile.ZipFile(f'{out}/k3-noconfig.keras', 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('metadata.json', json.dumps({'keras_version': '3.8.0'}))
        z.writestr('model.weights.h5', buf.getvalue())
    expect(f'{out}/k3-noconfig.keras', format='keras3-keras', classes=10, input=[299, 299],
           dense=[[10, 'predictions']], pool='avg', inferred=True)

    # TF.js: flat model, GAP + Dense(3, linear); two shards; the classifier kernel as uint8
    tl = auto_names(head(base, ('avg_pool', 'GlobalAveragePooling2D', [], None),
                         [('predictions', 3, 'linear', 'predictions')]), 'tf.keras')
    os.makedirs(f'{out}/tfjs', exist_ok=True)
    blob = bytearray()
    manifest = []
    for layer in tl:
        for w, proj, t in tensors(layer):
            entry = {'name': f'{layer[0]}/{w}', 'shape': list(t.shape), 'dtype': 'float32'}
            if proj == 'predictions/kernel':
                ident = fnv1a32(proj) % 1000
                q = np.round((t - ident) * 512).astype(np.uint8)
                entry['quantization'] = {'dtype': 'uint8', 'scale': 1 / 512.0, 'min': float(ident)}
                blob += q.tobytes()
            else:
                blob += t.astype('<f4').tobytes()
            manifest.append(entry)
    cut = len(blob) // 2 + 2  # inside a tensor, not on a float boundary
    for i, part in enumerate((blob[:cut], blob[cut:])):
        with open(f'{out}/tfjs/group1-shard{i + 1}of2.bin', 'wb') as f:
            f.write(part)
    topo = model_config('model', [input_layer('input_1', 299, 299)] + [layer_config(x) for x in tl[1:]], 'Model')
    with open(f'{out}/tfjs/model.json', 'w') as f:
        json.dump({'format': 'layers-model', 'modelTopology': {'model_config': topo},
                   'weightsManifest': [{'paths': ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
                                        'weights': manifest}]}, f)
    expect(f'{out}/tfjs/model.json', format='tfjs-layers', classes=3, input=[299, 299], dense=[[3, 'predictions']],
           pool='avg', inferred=False)


def bad_files(out):
    """Small files each import must refuse (test_import.c names the message it expects)."""
    d = f'{out}/bad'
    os.makedirs(d, exist_ok=True)
    # Keras 3 weights whose Conv2D numbering skips conv2d_1
    with h5py.File(f'{d}/k3-gap.weights.h5', 'w') as f:
        for p in ('layers/conv2d/vars/0', 'layers/conv2d_2/vars/0'):
            f[p] = np.zeros((1, 1, 3, 4), np.float32)
    # a .keras archive without model.weights.h5
    with zipfile.ZipFile(f'{d}/noweights.keras', 'w') as z:
        z.writestr('metadata.json', '{"keras_version": "3.8.0"}')
        z.writestr('config.json', json.dumps(model_config('m', [input_layer('i', 299, 299)])))
    # a ResNet-like .keras: its config has no Xception layer
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        f['layers/conv2d/vars/0'] = np.zeros((7, 7, 3, 64), np.float32)
    names = ['input_layer', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool']
    cfg = model_config('resnet50', [{'class_name': 'InputLayer', 'config': {'name': names[0]}}] +
                       [{'class_name': 'Conv2D', 'config': {'name': n}} for n in names[1:]])
    with zipfile.ZipFile(f'{d}/resnet50.keras', 'w') as z:
        z.writestr('config.json', json.dumps(cfg))
        z.writestr('model.weights.h5', buf.getvalue())
    # Keras weights of another model (one Dense layer)
    with h5py.File(f'{d}/dense-model.h5', 'w') as f:
        f.attrs['layer_names'] = np.array([b'dense_1'])
        g = f.create_group('dense_1')
        g.attrs['weight_names'] = np.array([b'dense_1/kernel:0', b'dense_1/bias:0'])
        g['dense_1/kernel:0'] = np.full((4, 5), 0.5, np.float32)
        g['dense_1/bias:0'] = np.zeros(5, np.float32)
    # an HDF5 file that is no Keras model
    with h5py.File(f'{d}/other.h5', 'w') as f:
        f['data'] = np.zeros(4, np.float32)
        f.attrs['title'] = b'measurements'
    # TF.js: a layers model whose shard is not given, and a graph model
    with open(f'{d}/model.json', 'w') as f:
        json.dump({'format': 'layers-model', 'modelTopology': None, 'weightsManifest': [
            {'paths': ['group1-shard1of1.bin'], 'weights': [{'name': 'dense/kernel', 'shape': [2, 2],
                                                             'dtype': 'float32'}]}]}, f)
    with open(f'{d}/graph.json', 'w') as f:
        json.dump({'format': 'graph-model', 'modelTopology': {'node': []}, 'weightsManifest': []}, f)
    with open(f'{d}/picture.png', 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + bytes(32))


if __name__ == '__main__':
    # written once per version of this script: a stamp holds its hash
    import hashlib
    with open(__file__, 'rb') as me:
        digest = hashlib.sha256(me.read()).hexdigest()
    stamp = os.path.join(sys.argv[1], '.stamp')
    if os.path.exists(stamp) and open(stamp).read() == digest:
        sys.exit(0)
    main(sys.argv[1])
    bad_files(sys.argv[1])
    with open(stamp, 'w') as f:
        f.write(digest)
