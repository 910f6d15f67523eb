"""h5fixtures.py - writes the matrix of HDF5 and ZIP files on which tests/js/h5-reader.test.mjs
compares the project's readers (build/native/h5walk) with h5py (tests/tools/h5walk.py).

usage: /usr/bin/python3 tests/tools/h5fixtures.py OUTDIR
Prints one line per file: its name, then the signatures of the structures it must contain (text,
or hex:... for bytes; the test checks they are there, so that a file meant to exercise, say, dense
link storage does not silently fall back to another storage), or "error: WORDS" for a file using a
feature outside the readers' subset, on which they must fail with a message holding WORDS.

The matrix: superblock versions 0 (h5py's default), 1 (a non-default chunk B-tree K), 2
(libver ('v108', 'latest')) and 3 ('latest'); in each, groups with few and many links (symbol
tables, compact and dense storage, a dense group deep enough for an internal v2 B-tree level),
many and large attributes (dense attribute storage, huge heap objects), fixed- and
variable-length strings (scalar and arrays, bytes and str, empty arrays, empty strings, UTF-8),
numeric attributes, contiguous, compact and chunked float16/32/64 datasets of 0 to 4 dimensions,
gzip levels 1 to 9 with and without shuffle, chunks that do not divide the dataset, fill values
and unwritten chunks, integer and string datasets, every chunk index of layout version 4, and
ZIP archives written by Python's zipfile."""
import ctypes
import os
import sys
import zipfile

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)
manifest = []


def floats(shape, dtype):
    """values with every kind of float: normal, subnormal, zero signs, infinities, NaN"""
    v = rng.standard_normal(shape).astype(dtype)
    flat = v.reshape(-1)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, np.finfo(dtype).tiny / 4, np.finfo(dtype).max]
    flat[:min(len(specials), flat.size)] = np.array(specials, dtype=dtype)[:flat.size]
    return v


def open_file(name, libver):
    path = os.path.join(OUT, name)
    if libver in ('v1', 'small'):
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        if libver == 'v1':  # superblock 1: a non-default K of chunk B-trees (not in h5py's API)
            libhdf5 = ctypes.CDLL('libhdf5_serial.so.103')
            if libhdf5.H5Pset_istore_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(64)) < 0:
                raise RuntimeError('H5Pset_istore_k failed')
        else:  # 4-byte addresses and lengths
            fcpl.set_sizes(4, 4)
        return h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl))
    return h5py.File(path, 'w', libver=libver)


def compact_dataset(group, name, data):
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple(data.shape)
    tid = h5py.h5t.py_create(data.dtype)
    ds = h5py.h5d.create(group.id, name.encode(), tid, space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(data))


def implicit_dataset(group, name, data, chunks):
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(chunks)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    space = h5py.h5s.create_simple(data.shape)
    ds = h5py.h5d.create(group.id, name.encode(), h5py.h5t.py_create(data.dtype), space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(data))


def space_padded_attr(obj, name, values):
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(8)
    tid.set_strpad(h5py.h5t.STR_SPACEPAD)
    space = h5py.h5s.create_simple((len(values),))
    aid = h5py.h5a.create(obj.id, name.encode(), tid, space)
    aid.write(np.array([v.ljust(8) for v in values], dtype='S8'), mtype=tid)


def strings(f, latest):
    g = f.create_group('strings')
    g.attrs['fixed_scalar'] = np.bytes_(b'block1_conv1')
    g.attrs['fixed_array'] = np.array([b'conv1', b'bn', b'', b'predictions'])
    g.attrs['vlen_scalar'] = 'kernel:0'
    g.attrs['vlen_array'] = ['dense/kernel:0', 'dense/bias:0', '', 'caf\u00e9/\u00fc']
    g.attrs.create('vlen_bytes', [b'a', b'bc'], dtype=h5py.string_dtype('ascii'))
    g.attrs['empty_fixed'] = np.array([], dtype='S1')
    g.attrs['empty_list'] = []  # what Keras writes for a layer without weights: float64, shape (0,)
    g.attrs['empty_vlen'] = np.array([], dtype=h5py.string_dtype())
    g.attrs['null'] = h5py.Empty('f4')
    g.attrs['int8_bytes'] = np.frombuffer(b'layer\0junk', dtype=np.int8)
    g.attrs['number'] = 3.5
    g.attrs['numbers'] = np.arange(4, dtype='i4')
    g.attrs['matrix'] = np.array([[b'a', b'b'], [b'c', b'd']])
    space_padded_attr(g, 'space_padded', [b'ab', b'c', b''])
    many = ['layer_%04d' % i for i in range(3000)]  # a long vlen array across global heap collections
    g.attrs['vlen_many'] = many
    g.create_dataset('string_data', data=np.array([b'x', b'yz']))


def groups(f, latest):
    few = f.create_group('few')
    for i in range(3):
        few.create_group('g%d' % i).attrs['i'] = np.bytes_(str(i).encode())
    many = f.create_group('many')
    for i in range(150):
        many.create_dataset('d%03d' % i, data=np.full((2,), i, dtype='f4'))
    deep = f.create_group('deep')  # dense: enough links for internal v2 B-tree nodes
    for i in range(2000):
        deep.create_group('n%04d' % (i * 7919 % 2000))
    f.create_group('empty')
    nested = f.create_group('a/b/c/d')
    nested.create_dataset('leaf', data=floats((3,), 'f4'))
    attrs = f.create_group('attrs')
    for i in range(40):
        attrs.attrs['attr_%02d' % i] = np.bytes_(('value %d' % i).encode())
    if latest:  # attributes over 64 KB exist only in dense storage (huge heap objects)
        attrs.attrs['big'] = ['name_%06d' % i for i in range(9000)]
        attrs.attrs['big_fixed'] = np.array([b'%08d' % i for i in range(12000)])


def datasets(f, latest):
    g = f.create_group('data')
    for dt in ('f2', 'f4', 'f8'):
        g.create_dataset('scalar_' + dt, data=floats((), dt))
        for nd, shape in enumerate([(7,), (3, 5), (2, 3, 4), (3, 1, 2, 5)], start=1):
            g.create_dataset('contig_%s_%dd' % (dt, nd), data=floats(shape, dt))
        g.create_dataset('empty_' + dt, shape=(0, 3), dtype=dt)
        g.create_dataset('unwritten_' + dt, shape=(4, 2), dtype=dt)
        compact_dataset(g, 'compact_' + dt, floats((3, 4), dt))
    c = f.create_group('chunked')
    for level in range(1, 10):
        for shuffle in (False, True):
            c.create_dataset('gzip%d%s' % (level, '_shuffle' if shuffle else ''), data=floats((37, 23), 'f4'),
                             chunks=(8, 5), compression='gzip', compression_opts=level, shuffle=shuffle)
    c.create_dataset('f2_edges', data=floats((10, 7, 3), 'f2'), chunks=(4, 3, 2), compression='gzip')
    c.create_dataset('f8_edges', data=floats((9, 11), 'f8'), chunks=(4, 4), shuffle=True)
    c.create_dataset('plain_edges', data=floats((5, 6, 7, 3), 'f4'), chunks=(2, 4, 3, 2))
    c.create_dataset('chunk_larger', data=floats((3,), 'f4'), chunks=(3,), compression='gzip')
    part = c.create_dataset('partial_fill', shape=(10, 10), dtype='f4', chunks=(4, 4), fillvalue=2.5)
    part[0:4, 0:4] = floats((4, 4), 'f4')
    part[8:10, 4:8] = 1.0
    c.create_dataset('single', data=floats((6, 4), 'f4'), chunks=(6, 4))
    c.create_dataset('single_gzip', data=floats((6, 4), 'f4'), chunks=(6, 4), compression='gzip')
    c.create_dataset('many_chunks', data=floats((3000,), 'f4'), chunks=(2,))  # paged fixed array
    c.create_dataset('many_chunks_gzip', data=floats((2100,), 'f4'), chunks=(2,), compression='gzip')
    one = c.create_dataset('unlimited1', shape=(5, 4), maxshape=(None, 4), dtype='f4', chunks=(2, 3))
    one[...] = floats((5, 4), 'f4')
    one2 = c.create_dataset('unlimited1_second', shape=(5, 9), maxshape=(5, None), dtype='f4', chunks=(2, 2),
                            compression='gzip')
    one2[...] = floats((5, 9), 'f4')
    long = c.create_dataset('unlimited1_long', shape=(700,), maxshape=(None,), dtype='f8', chunks=(1,))
    long[...] = floats((700,), 'f8')  # an extensible array with super blocks
    paged = c.create_dataset('unlimited1_paged', shape=(20000,), maxshape=(None,), dtype='f4', chunks=(1,))
    paged[:12000] = floats((12000,), 'f4')  # data blocks past 1024 entries: paged, some pages unwritten
    two = c.create_dataset('unlimited2', shape=(5, 6), maxshape=(None, None), dtype='f4', chunks=(2, 4),
                           compression='gzip', shuffle=True)
    two[...] = floats((5, 6), 'f4')
    c.create_dataset('unlimited2_plain', data=floats((300, 3), 'f4'), maxshape=(None, None), chunks=(1, 2))
    if latest:
        implicit_dataset(c, 'implicit', floats((9, 10), 'f4'), (4, 3))
    ints = f.create_group('ints')
    for dt in ('i1', 'u1', 'i2', 'u4', 'i8'):
        ints.create_dataset(dt, data=np.arange(6, dtype=dt).reshape(2, 3))


def headers(f):
    """object headers that grow through continuation blocks, track creation order or times"""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_attr_phase_change(200, 150)  # 40 attributes stay in the header
    g = h5py.Group(h5py.h5g.create(f.id, b'compact_attrs', gcpl=gcpl))
    fillers = f.create_group('fillers')
    for i in range(40):
        g.attrs['a%02d' % i] = np.bytes_(b'%03d' % i * 100)
        fillers.create_dataset('f%02d' % i, data=np.zeros(64, 'f4'))  # the header cannot grow in place
    ordered = f.create_group('ordered', track_order=True)
    for i in range(20):
        ordered.create_group('z%02d' % (19 - i))
        ordered.attrs['b%02d' % (19 - i)] = np.bytes_(b'v%d' % i)
    f.create_dataset('timed', data=floats((4,), 'f4'), track_times=True)


def write(name, libver, signatures):
    latest = libver not in ('earliest', 'v1', 'small')
    with open_file(name, libver) as f:
        f.attrs['layer_names'] = np.array([b'strings', b'few', b'many'])
        strings(f, latest)
        groups(f, latest)
        datasets(f, latest)
        headers(f)
    manifest.append(name + ' ' + ' '.join(signatures))


write('sb0.h5', 'earliest', ['TREE', 'SNOD', 'HEAP', 'GCOL'])
write('sb1.h5', 'v1', ['TREE', 'SNOD', 'HEAP'])
write('sb0-4byte.h5', 'small', ['TREE', 'SNOD', 'HEAP', 'GCOL'])
write('sb2.h5', ('v108', 'latest'), ['OHDR', 'OCHK', 'FRHP', 'FHDB', 'BTHD', 'BTIN', 'BTLF', 'TREE'])
write('sb3.h5', 'latest', ['OHDR', 'OCHK', 'FRHP', 'FHDB', 'BTHD', 'BTIN', 'BTLF', 'FAHD', 'FADB', 'EAHD', 'EAIB',
                           'EASB', 'EADB', 'GCOL'])

# features outside the subset: each must give a named error (the manifest line says which words)
with h5py.File(os.path.join(OUT, 'soft-link.h5'), 'w') as f:
    f.create_dataset('target', data=floats((3,), 'f4'))
    f['alias'] = h5py.SoftLink('/target')
manifest.append('soft-link.h5 error: is a soft link')
with h5py.File(os.path.join(OUT, 'fletcher32.h5'), 'w') as f:
    f.create_dataset('checked', data=floats((40,), 'f4'), chunks=(8,), fletcher32=True)
manifest.append('fletcher32.h5 error: uses filter 3')

# a Keras 2 style weights file, and .keras-like archives around it
with h5py.File(os.path.join(OUT, 'keras2.h5'), 'w') as f:
    names = [b'input_1', b'block1_conv1', b'predictions']
    f.attrs['layer_names'] = np.array(names)
    f.attrs['backend'] = b'tensorflow'
    f.attrs['keras_version'] = b'2.15.0'
    for n in names:
        g = f.create_group(n.decode())
        if n == b'input_1':
            g.attrs['weight_names'] = []
            continue
        shapes = {'kernel:0': (3, 3, 3, 4) if n == b'block1_conv1' else (4, 10), 'bias:0': (4,) if n == b'block1_conv1' else (10,)}
        g.attrs['weight_names'] = np.array([('%s/%s' % (n.decode(), k)).encode() for k in shapes])
        for k, shape in shapes.items():
            g.create_dataset('%s/%s' % (n.decode(), k), data=floats(shape, 'f4'))
manifest.append('keras2.h5 SNOD HEAP')
with open(os.path.join(OUT, 'keras2.h5'), 'rb') as fh:
    weights = fh.read()
for method, name in ((zipfile.ZIP_STORED, 'stored.keras'), (zipfile.ZIP_DEFLATED, 'deflated.keras')):
    with zipfile.ZipFile(os.path.join(OUT, name), 'w', compression=method) as z:
        z.writestr('metadata.json', '{"keras_version": "3.3.3"}')
        z.writestr('config.json', '{"class_name": "Functional", "config": {}}' * 50)
        z.writestr('assets/', '')
        z.writestr('model.weights.h5', weights)
    manifest.append(name + ' PK')
class Unseekable:
    """a stream zipfile cannot seek back in: it writes data descriptors after each entry"""
    def __init__(self, fh):
        self.fh = fh

    def write(self, b):
        return self.fh.write(b)

    def flush(self):
        self.fh.flush()


with open(os.path.join(OUT, 'streamed.keras'), 'wb') as fh:
    with zipfile.ZipFile(Unseekable(fh), 'w', compression=zipfile.ZIP_DEFLATED) as z:
        with z.open('model.weights.h5', 'w') as w:  # Keras 3 streams its weights in like this
            w.write(weights)
        z.writestr('config.json', '{}')
manifest.append('streamed.keras hex:504b0708')
with zipfile.ZipFile(os.path.join(OUT, 'empty.zip'), 'w') as z:
    pass
manifest.append('empty.zip PK')
with zipfile.ZipFile(os.path.join(OUT, 'zip64.zip'), 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for i in range(0x10010):  # more entries than the 16-bit count holds: a ZIP64 end record
        z.writestr('e/%05x' % i, b'%d' % i)
    z.writestr('model.weights.h5', weights)
manifest.append('zip64.zip hex:504b0606 hex:504b0607')
sys.stdout.write(''.join(line + '\n' for line in manifest))
