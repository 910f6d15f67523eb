"""h5walk.py - the oracle for the project's HDF5 and ZIP readers: walks a file through h5py (libhdf5)
and Python's zipfile and prints what build/native/h5walk prints through src/io (the format is
described in tests/tools/h5walk.h). tests/js/h5-reader.test.mjs demands identical output.

usage: /usr/bin/python3 tests/tools/h5walk.py FILE   (Debian's python3-h5py)

How h5py's values map onto the readers' answers: an attribute reads as strings when it is a
fixed- or variable-length string (scalar or 1-D, each value cut at its first NUL; a space-padded
value loses its trailing spaces), a scalar or 1-D array of 8-bit integers (one string), or has no
elements (of any type); otherwise it prints as an error. Float datasets print the CRC-32 of their
values as little-endian float32 (float64 rounded to nearest, as numpy's astype does)."""
import io
import sys
import zipfile
import zlib

import h5py
import numpy as np


def esc(b):
    out = ['"']
    for c in b:
        out.append(chr(c) if 0x20 <= c < 0x7f and c not in (0x22, 0x5c) else '\\x%02x' % c)
    return ''.join(out) + '"'


def cut(b, space_padded=False):
    b = bytes(b).split(b'\0', 1)[0]
    return b.rstrip(b' ') if space_padded else b


def as_bytes(v):
    return v.encode('utf-8') if isinstance(v, str) else bytes(v)


def attr_strings(obj, name):
    """the attribute's values as a list of bytes, or None where the reader reports an error"""
    aid = h5py.h5a.open(obj.id, name.encode('utf-8'))
    space, tid = aid.get_space(), aid.get_type()
    if space.get_simple_extent_type() == h5py.h5s.NULL or space.get_simple_extent_npoints() == 0:
        return []
    if space.get_simple_extent_ndims() > 1:
        return None
    value = obj.attrs[name]
    cls = tid.get_class()
    if cls == h5py.h5t.STRING:
        space_padded = not tid.is_variable_str() and tid.get_strpad() == h5py.h5t.STR_SPACEPAD
        items = [value] if np.ndim(value) == 0 else list(value)
        return [cut(as_bytes(v), space_padded) for v in items]
    if cls == h5py.h5t.INTEGER and tid.get_size() == 1:
        return [cut(np.asarray(value).astype(np.uint8).tobytes())]
    return None


def walk(f, prefix, out):
    def attrs(obj, path):
        for name in sorted(obj.attrs.keys(), key=lambda s: s.encode('utf-8')):
            v = attr_strings(obj, name)
            line = 'attr %s%s %s ' % (prefix, path, name)
            out.append(line + ('error' if v is None else
                               ' '.join(['strings %d' % len(v)] + [esc(s) for s in v])))

    def visit(obj, path):
        if isinstance(obj, h5py.Dataset):
            dt = obj.dtype
            kind = {'f': 'float', 'i': 'integer', 'u': 'integer', 'S': 'string'}.get(dt.kind)
            if kind is None and h5py.check_string_dtype(dt) is not None:
                kind = 'string'
            shape = obj.shape or ()
            count = 0 if obj.shape is None else int(np.prod(shape, dtype=np.int64))
            line = 'dataset %s%s %s' % (prefix, path, kind or 'other')
            if kind in ('float', 'integer'):
                line += ' %d' % dt.itemsize
            line += ' dims [%s] count %d' % (','.join(str(d) for d in shape), count)
            if kind == 'float':
                data = np.asarray(obj[()] if count else np.zeros(0), dtype='<f4')
                line += ' crc32 %08x' % (zlib.crc32(data.tobytes()) & 0xffffffff)
            out.append(line)
        else:
            out.append('group %s%s' % (prefix, path))
        attrs(obj, path)
        if isinstance(obj, h5py.Group):
            for name in sorted(obj.keys(), key=lambda s: s.encode('utf-8')):
                visit(obj[name], (path if path != '/' else '') + '/' + name)

    visit(f, '/')


def main(path):
    out = []
    with open(path, 'rb') as fh:
        data = fh.read()
    if data[:4] == b'PK\3\4' or data[:4] == b'PK\5\6':
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename.encode('utf-8')):
                entry = z.read(info)
                out.append('entry %s size %d crc32 %08x' % (info.filename, len(entry),
                                                          zlib.crc32(entry) & 0xffffffff))
                if entry[:8] == b'\x89HDF\r\n\x1a\n':
                    with h5py.File(io.BytesIO(entry), 'r') as f:
                        walk(f, info.filename + ':', out)
    else:
        with h5py.File(path, 'r') as f:
            walk(f, '', out)
    sys.stdout.write(''.join(line + '\n' for line in out))


if __name__ == '__main__':
    main(sys.argv[1])
