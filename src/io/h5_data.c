/* h5_data.c - datasets: datatypes, dataspaces, data layouts (compact, contiguous, chunked), the
 * filter pipeline (deflate through stb's inflate, shuffle), fill values, and reading a
 * floating-point dataset as float32.
 *
 * Bounds: a dataset may not claim more bytes than H5_MAX_RATIO x the file (what deflate could
 * expand the whole file to), so a caller can allocate what gc_h5_dataset_info_of reports. A
 * contiguous float32 dataset is a bounds check and a copy. Each chunk is decoded into a buffer of
 * exactly one chunk: a stream that inflates past it stops there (a deflate bomb), one that
 * inflates to less is damaged. Chunks must sit on the chunk grid inside the dataset and appear
 * once, and all of a dataset's chunks together may decode to no more than H5_MAX_RATIO x the file
 * (chunks whose index entries share one stored stream would otherwise multiply the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/h5_priv.h"
#include "io/inflate.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the HDF5 reader copies little-endian float32 data as it is stored"
#endif

#define MAX_FILTERS 32 /* a chunk's filter mask has 32 bits */

/* ---- datatypes and dataspaces ------------------------------------------------------------ */

gc_status h5_type_parse(gc_h5 *f, const uint8_t *p, size_t n, h5_type *t) {
  memset(t, 0, sizeof *t);
  if (n < 8) return h5_fail(f, GC_ERR_H5, "a datatype message is truncated");
  t->cls = p[0] & 15;
  const int b0 = p[1], b1 = p[2];
  t->size = (uint32_t)h5_le(p + 4, 4);
  t->little = !(b0 & 1);
  if (t->size == 0) return h5_fail(f, GC_ERR_H5, "a datatype has size 0");
  if (t->cls == 1) {
    if (n < 20) return h5_fail(f, GC_ERR_H5, "a floating-point datatype message is truncated");
    /* the IEEE layouts: exponent position and size, mantissa size, bias */
    static const unsigned ieee[3][5] = {{2, 10, 5, 10, 15}, {4, 23, 8, 23, 127}, {8, 52, 11, 52, 1023}};
    for (int i = 0; i < 3; i++)
      if (t->size == ieee[i][0] && h5_le(p + 8, 2) == 0 && h5_le(p + 10, 2) == 8 * t->size && p[12] == ieee[i][1] &&
          p[13] == ieee[i][2] && p[14] == 0 && p[15] == ieee[i][3] && h5_le(p + 16, 4) == ieee[i][4] &&
          (unsigned)b1 == 8 * t->size - 1 && ((b0 >> 4) & 3) == 2 && !(b0 & 0x4e))
        t->float_ok = t->little;
  } else if (t->cls == 3) {
    t->pad = b0 & 15;
  } else if (t->cls == 9) {
    t->vlen_string = (b0 & 15) == 1;
    t->pad = (b0 >> 4) & 15;
  }
  return GC_OK;
}

gc_h5_class h5_class_of(const h5_type *t) {
  if (t->cls == 1) return GC_H5_FLOAT;
  if (t->cls == 0) return GC_H5_INTEGER;
  if (t->cls == 3 || (t->cls == 9 && t->vlen_string)) return GC_H5_STRING;
  return GC_H5_OTHER_TYPE;
}

gc_status h5_space_parse(gc_h5 *f, const uint8_t *p, size_t n, h5_space *s) {
  memset(s, 0, sizeof *s);
  h5_cur c = h5_cursor(p, n);
  const int version = (int)h5_u(&c, 1), rank = (int)h5_u(&c, 1), flags = (int)h5_u(&c, 1);
  int type = rank ? 1 : 0;
  if (version == 1) h5_u(&c, 5);
  else if (version == 2) type = (int)h5_u(&c, 1);
  else return h5_fail(f, GC_ERR_H5, "dataspace message version %d (1 and 2 are read here)", version);
  if (type == 2) {
    s->ndim = -1;
    return GC_OK;
  }
  if (type != 0 && type != 1) return h5_fail(f, GC_ERR_H5, "dataspace of unknown type %d", type);
  if (type == 0 || rank == 0) {
    s->count = 1;
    return c.bad ? h5_fail(f, GC_ERR_H5, "a dataspace message is truncated") : GC_OK;
  }
  if (rank > GC_H5_MAX_DIMS)
    return h5_fail(f, GC_ERR_H5, "a dataspace of %d dimensions (at most %d are read here)", rank, GC_H5_MAX_DIMS);
  s->ndim = rank;
  s->count = 1;
  for (int d = 0; d < rank; d++) s->dims[d] = h5_u(&c, f->lsz);
  for (int d = 0; d < rank; d++) {
    s->max[d] = (flags & 1) ? h5_u(&c, f->lsz) : s->dims[d];
    if (f->lsz < 8 && s->max[d] == ((uint64_t)1 << (8 * f->lsz)) - 1) s->max[d] = H5_UNDEF;
  }
  if (c.bad) return h5_fail(f, GC_ERR_H5, "a dataspace message is truncated");
  for (int d = 0; d < rank; d++) {
    if (s->dims[d] && s->count > UINT64_MAX / s->dims[d])
      return h5_fail(f, GC_ERR_H5, "a dataspace's element count overflows 64 bits");
    s->count *= s->dims[d];
  }
  for (int d = 0; d < rank; d++)
    if (s->dims[d] > (uint64_t)INT64_MAX || (s->max[d] != H5_UNDEF && s->max[d] < s->dims[d]))
      return h5_fail(f, GC_ERR_H5, "dimension %d of a dataspace is %llu (at most %llu)", d,
                     (unsigned long long)s->dims[d], (unsigned long long)s->max[d]);
  return GC_OK;
}

/* ---- the dataset's messages -------------------------------------------------------------- */

typedef struct dataset {
  h5_type type;
  h5_space space;
  int layout; /* 0 compact, 1 contiguous, 2 chunked */
  const uint8_t *compact;
  uint64_t compact_size;
  uint64_t addr, size; /* contiguous */
  h5_chunked ch;
  int nfilters;
  struct {
    int id;
    uint32_t cd0; /* first client value (shuffle: the element size) */
    int ncd;
  } filter[MAX_FILTERS];
  const uint8_t *fill; /* one element, or NULL for zeros */
} dataset;

static gc_status read_layout(gc_h5 *f, const h5_msg *m, dataset *d) {
  h5_cur c = h5_cursor(m->p, m->size);
  const int version = (int)h5_u(&c, 1);
  d->layout = (int)h5_u(&c, 1);
  if (!c.bad && (version < 3 || version > 4))
    return h5_fail(f, GC_ERR_H5, "data layout message version %d (3 and 4 are read here)", version);
  h5_chunked *ch = &d->ch;
  if (d->layout == 0) {
    d->compact_size = h5_u(&c, 2);
    d->compact = h5_take(&c, d->compact_size);
  } else if (d->layout == 1) {
    d->addr = h5_addr(f, &c);
    d->size = h5_u(&c, f->lsz);
  } else if (d->layout == 2) {
    ch->version = version;
    if (version == 4) ch->flags = (int)h5_u(&c, 1);
    const int rank = (int)h5_u(&c, 1);
    if (version == 3) ch->addr = h5_addr(f, &c);
    const int enc = version == 3 ? 4 : (int)h5_u(&c, 1);
    if (!c.bad && (rank != d->space.ndim + 1 || rank < 2 || enc < 1 || enc > 8))
      return h5_fail(f, GC_ERR_H5, "its chunks have %d dimensions for a dataset of %d", rank - 1, d->space.ndim);
    ch->ndims = rank - 1;
    ch->chunk_bytes = 1;
    for (int i = 0; i < rank && !c.bad; i++) {
      uint64_t v = h5_u(&c, enc);
      if (i < ch->ndims) ch->chunk[i] = v;
      else if (v != d->type.size)
        return h5_fail(f, GC_ERR_H5, "its chunks hold elements of %llu bytes, its datatype %u", (unsigned long long)v,
                       d->type.size);
      if (v == 0 || v > UINT32_MAX || ch->chunk_bytes * v > UINT32_MAX) /* libhdf5's limit: 4 GB a chunk */
        return h5_fail(f, GC_ERR_H5, "its chunks are empty or larger than 4 GB");
      ch->chunk_bytes *= v;
    }
    if (version == 4) {
      ch->index = (int)h5_u(&c, 1);
      static const int params[6] = {0, 0, 0, 1, 5, 6}; /* bytes of each index type's parameters */
      if (ch->index < 1 || ch->index > 5)
        return h5_fail(f, GC_ERR_H5, "chunk index type %d is not read here", ch->index);
      if (ch->index == 1 && (ch->flags & 2)) {
        ch->single_size = h5_u(&c, f->lsz);
        ch->single_mask = (uint32_t)h5_u(&c, 4);
      }
      const uint8_t *pp = h5_take(&c, (uint64_t)params[ch->index]);
      if (pp) memcpy(ch->params, pp, (size_t)params[ch->index]);
      ch->addr = h5_addr(f, &c);
    }
    for (int i = 0; i < ch->ndims; i++) ch->dims[i] = d->space.dims[i], ch->max[i] = d->space.max[i];
  } else if (!c.bad) {
    return h5_fail(f, GC_ERR_H5, "data layout class %d (%s) is not read here", d->layout,
                   d->layout == 3 ? "virtual" : "unknown");
  }
  if (c.bad) return h5_fail(f, GC_ERR_H5, "its data layout message is truncated");
  return GC_OK;
}

static gc_status read_filters(gc_h5 *f, const h5_msg *m, dataset *d) {
  h5_cur c = h5_cursor(m->p, m->size);
  const int version = (int)h5_u(&c, 1), n = (int)h5_u(&c, 1);
  if (version == 1) h5_u(&c, 6);
  else if (version != 2) return h5_fail(f, GC_ERR_H5, "filter pipeline message version %d", version);
  if (n > MAX_FILTERS) return h5_fail(f, GC_ERR_H5, "its filter pipeline has %d filters", n);
  for (int i = 0; i < n && !c.bad; i++) {
    const int id = (int)h5_u(&c, 2);
    const uint64_t name = version == 1 || id >= 256 ? h5_u(&c, 2) : 0;
    h5_u(&c, 2); /* flags */
    const int ncd = (int)h5_u(&c, 2);
    h5_take(&c, version == 1 ? (name + 7) / 8 * 8 : name);
    d->filter[i].id = id;
    d->filter[i].ncd = ncd;
    d->filter[i].cd0 = ncd ? (uint32_t)h5_u(&c, 4) : 0;
    h5_take(&c, 4 * (uint64_t)(ncd ? ncd - 1 : 0) + (version == 1 && (ncd & 1) ? 4 : 0));
  }
  d->nfilters = n;
  d->ch.filtered = n > 0;
  return c.bad ? h5_fail(f, GC_ERR_H5, "its filter pipeline message is truncated") : GC_OK;
}

static gc_status read_fill(gc_h5 *f, const h5_ohdr *h, dataset *d) {
  const h5_msg *m = h5_ohdr_find(h, H5M_FILL);
  uint64_t size = 0;
  h5_cur c;
  if (m) {
    c = h5_cursor(m->p, m->size);
    const int version = (int)h5_u(&c, 1);
    if (version == 1 || version == 2) {
      h5_u(&c, 2);
      const int defined = (int)h5_u(&c, 1);
      if (version == 1 || defined) size = h5_u(&c, 4);
    } else if (version == 3) {
      if (h5_u(&c, 1) & 0x20) size = h5_u(&c, 4);
    } else {
      return h5_fail(f, GC_ERR_H5, "fill value message version %d", version);
    }
  } else if ((m = h5_ohdr_find(h, H5M_FILL_OLD))) {
    c = h5_cursor(m->p, m->size);
    size = h5_u(&c, 4);
  }
  if (!m || size == 0) return GC_OK;
  d->fill = h5_take(&c, size);
  if (c.bad) return h5_fail(f, GC_ERR_H5, "its fill value message is truncated");
  if (size != d->type.size)
    return h5_fail(f, GC_ERR_H5, "its fill value has %llu bytes, its elements %u", (unsigned long long)size,
                   d->type.size);
  return GC_OK;
}

/* type and space (all = 0), or everything needed to read the data */
static gc_status open_dataset(gc_h5 *f, const h5_ohdr *h, dataset *d, int all) {
  memset(d, 0, sizeof *d);
  const h5_msg *t = h5_ohdr_find(h, H5M_DATATYPE), *s = h5_ohdr_find(h, H5M_DATASPACE);
  const h5_msg *l = h5_ohdr_find(h, H5M_LAYOUT), *p = h5_ohdr_find(h, H5M_FILTERS);
  if (!l) return h5_fail(f, GC_ERR_H5, "is not a dataset");
  if (!t || !s) return h5_fail(f, GC_ERR_H5, "its %s message is missing", t ? "dataspace" : "datatype");
  gc_status st = h5_not_shared(f, t, "datatype");
  if (st == GC_OK) st = h5_not_shared(f, s, "dataspace");
  if (st == GC_OK) st = h5_type_parse(f, t->p, t->size, &d->type);
  if (st == GC_OK) st = h5_space_parse(f, s->p, s->size, &d->space);
  if (st != GC_OK) return st;
  if (d->space.count && d->type.size > (uint64_t)H5_MAX_RATIO * f->n / d->space.count)
    return h5_fail(f, GC_ERR_H5, "%llu elements of %u bytes cannot come from a file of %llu bytes",
                   (unsigned long long)d->space.count, d->type.size, (unsigned long long)f->n);
  if (!all) return GC_OK;
  st = read_layout(f, l, d);
  if (st == GC_OK && p) st = read_filters(f, p, d);
  if (st == GC_OK) st = read_fill(f, h, d);
  return st;
}

/* the start of a public call on a dataset */
static gc_status enter_dataset(gc_h5 *f, gc_h5_obj ds, char *err, size_t errlen, dataset *d, int all) {
  h5_ohdr h;
  gc_status s = h5_enter(f, ds, err, errlen, &h);
  if (s != GC_OK) return s;
  s = open_dataset(f, &h, d, all); /* d points into the file image, not into h */
  h5_ohdr_free(&h);
  return s;
}

gc_status gc_h5_dataset_info_of(gc_h5 *f, gc_h5_obj ds, gc_h5_dataset_info *info, char *err, size_t errlen) {
  if (!f || !info) return GC_ERR_INVALID_ARGUMENT;
  memset(info, 0, sizeof *info);
  dataset d;
  gc_status s = enter_dataset(f, ds, err, errlen, &d, 0);
  if (s != GC_OK) return s;
  info->type_class = h5_class_of(&d.type);
  info->type_size = (int)(d.type.size > 0x7fffffff ? 0x7fffffff : d.type.size);
  info->ndim = d.space.ndim > 0 ? d.space.ndim : 0;
  for (int i = 0; i < info->ndim; i++) info->dims[i] = (int64_t)d.space.dims[i];
  info->count = d.space.count;
  return GC_OK;
}

/* ---- reading ----------------------------------------------------------------------------- */

static void to_f32(const uint8_t *src, float *dst, uint64_t n, uint32_t size) {
  if (size == 4) {
    memcpy(dst, src, (size_t)n * 4);
  } else if (size == 2) {
    for (uint64_t i = 0; i < n; i++) dst[i] = gc_half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
  } else {
    for (uint64_t i = 0; i < n; i++) {
      double v;
      memcpy(&v, src + 8 * i, 8);
      dst[i] = (float)v;
    }
  }
}

typedef struct chunk_reader {
  gc_h5 *f;
  const dataset *d;
  float *out;
  uint8_t *buf[2];  /* decoding buffers of one chunk each (filtered data only) */
  uint8_t *seen;    /* one bit per chunk of the grid */
  uint64_t grid[GC_H5_MAX_DIMS];
  uint64_t budget;  /* chunk bytes that may still be decoded or copied */
} chunk_reader;

static void unshuffle(const uint8_t *src, uint8_t *dst, uint64_t n, uint32_t es) {
  const uint64_t count = es ? n / es : 0;
  if (count <= 1) { /* as libhdf5: nothing was shuffled (the loop below would run es times for nothing) */
    memcpy(dst, src, (size_t)n);
    return;
  }
  for (uint32_t b = 0; b < es; b++)
    for (uint64_t i = 0; i < count; i++) dst[i * es + b] = src[b * count + i];
  memcpy(dst + count * es, src + count * es, (size_t)(n - count * es)); /* a tail shorter than an element */
}

/* the filters, last first, skipping those the chunk's mask says were not applied */
static gc_status unfilter(chunk_reader *r, const char *name, const uint8_t *in, uint64_t size, uint32_t mask,
                          const uint8_t **out) {
  gc_h5 *f = r->f;
  const uint64_t want = r->d->ch.chunk_bytes;
  for (int i = r->d->nfilters - 1; i >= 0; i--) {
    if (mask & (1u << i)) continue;
    uint8_t *dst = in == r->buf[0] ? r->buf[1] : r->buf[0];
    const int id = r->d->filter[i].id;
    if (id == 1) {
      size_t got;
      const char *why;
      gc_inflate_result z = gc_inflate(in, (size_t)size, dst, (size_t)want, 1, &got, &why);
      if (z == GC_INFLATE_TOO_LONG)
        return h5_fail(f, GC_ERR_H5, "chunk %s inflates past its size of %llu bytes (a deflate bomb or damage)", name,
                       (unsigned long long)want);
      if (z != GC_INFLATE_OK)
        return h5_fail(f, GC_ERR_H5, "chunk %s does not inflate (%s)", name, z == GC_INFLATE_CORRUPT ? why : "too large");
      if (got != want)
        return h5_fail(f, GC_ERR_H5, "chunk %s inflates to %zu bytes, not %llu", name, got, (unsigned long long)want);
    } else if (id == 2) {
      if (size != want)
        return h5_fail(f, GC_ERR_H5, "chunk %s has %llu bytes to unshuffle, not %llu", name, (unsigned long long)size,
                       (unsigned long long)want);
      unshuffle(in, dst, size, r->d->filter[i].ncd ? r->d->filter[i].cd0 : r->d->type.size);
    } else {
      return h5_fail(f, GC_ERR_H5, "uses filter %d, which is not read here (deflate and shuffle are)", id);
    }
    in = dst;
    size = want;
  }
  if (size != want)
    return h5_fail(f, GC_ERR_H5, "chunk %s has %llu bytes, not %llu", name, (unsigned long long)size,
                   (unsigned long long)want);
  *out = in;
  return GC_OK;
}

/* copies the part of a decoded chunk that lies inside the dataset, row by row */
static void place_chunk(const dataset *d, const uint64_t *off, const uint8_t *src, float *out) {
  const h5_chunked *c = &d->ch;
  const int r = c->ndims;
  uint64_t ext[GC_H5_MAX_DIMS], cstride[GC_H5_MAX_DIMS], dstride[GC_H5_MAX_DIMS], idx[GC_H5_MAX_DIMS] = {0};
  for (int k = r - 1; k >= 0; k--) {
    ext[k] = c->dims[k] - off[k] < c->chunk[k] ? c->dims[k] - off[k] : c->chunk[k];
    cstride[k] = k == r - 1 ? 1 : cstride[k + 1] * c->chunk[k + 1];
    dstride[k] = k == r - 1 ? 1 : dstride[k + 1] * c->dims[k + 1];
  }
  for (;;) {
    uint64_t s = 0, o = 0;
    for (int k = 0; k < r; k++) s += idx[k] * cstride[k], o += (off[k] + idx[k]) * dstride[k];
    to_f32(src + s * d->type.size, out + o, ext[r - 1], d->type.size);
    int k = r - 2;
    while (k >= 0 && ++idx[k] == ext[k]) idx[k--] = 0;
    if (k < 0) break;
  }
}

static gc_status on_chunk(void *ctx, const uint64_t *off, uint64_t addr, uint64_t size, uint32_t mask) {
  chunk_reader *r = ctx;
  const dataset *d = r->d;
  const h5_chunked *c = &d->ch;
  char name[8 * 24 + 4] = "(";
  uint64_t cell = 0;
  int edge = 0, bad = 0;
  for (int k = 0; k < c->ndims; k++) {
    size_t at = strlen(name);
    snprintf(name + at, sizeof name - at, "%s%llu", k ? "," : "", (unsigned long long)(off[k] / c->chunk[k]));
    bad |= off[k] % c->chunk[k] != 0 || off[k] >= c->dims[k];
    edge |= c->chunk[k] > c->dims[k] - off[k];
    cell = cell * r->grid[k] + off[k] / c->chunk[k];
  }
  strcat(name, ")");
  if (bad)
    return h5_fail(r->f, GC_ERR_H5, "chunk %s (element offsets off its grid or outside the dataset) is in its index",
                   name);
  if (r->seen[cell / 8] & (1u << (cell % 8)))
    return h5_fail(r->f, GC_ERR_H5, "chunk %s is in its index twice", name);
  r->seen[cell / 8] |= (uint8_t)(1u << (cell % 8));
  if (addr == H5_UNDEF) return GC_OK; /* never written: the fill value stays */
  /* chunks that share their stored bytes could make a small file decode without end; stored
   * apart, a file's chunks decode to at most H5_MAX_RATIO x its size */
  if (c->chunk_bytes > r->budget)
    return h5_fail(r->f, GC_ERR_H5, "its chunks decode to more than %u x the file's size (chunks sharing data?)",
                   H5_MAX_RATIO);
  r->budget -= c->chunk_bytes;
  const int filtered = d->nfilters > 0 && !(edge && (c->flags & 1)); /* flag 1: edge chunks unfiltered */
  if (!filtered) size = c->chunk_bytes;
  if (size > r->f->n || addr > r->f->n - size)
    return h5_fail(r->f, GC_ERR_H5, "chunk %s at 0x%llx (%llu bytes) points past the end of the file (%llu bytes)", name,
                   (unsigned long long)addr, (unsigned long long)size, (unsigned long long)r->f->n);
  const uint8_t *src = r->f->b + addr;
  if (filtered) {
    gc_status s = unfilter(r, name, src, size, mask, &src);
    if (s != GC_OK) return s;
  }
  place_chunk(d, off, src, r->out);
  return GC_OK;
}

static gc_status read_chunked(gc_h5 *f, const dataset *d, float *out) {
  const h5_chunked *c = &d->ch;
  chunk_reader r = {f, d, out, {NULL, NULL}, NULL, {0}, (uint64_t)H5_MAX_RATIO * f->n};
  uint64_t cells = 1;
  for (int k = 0; k < c->ndims; k++) {
    r.grid[k] = c->dims[k] / c->chunk[k] + (c->dims[k] % c->chunk[k] != 0);
    cells *= r.grid[k]; /* at most the element count: no overflow */
  }
  if (d->nfilters && c->chunk_bytes > (uint64_t)H5_MAX_RATIO * f->n)
    return h5_fail(f, GC_ERR_H5, "its chunks of %llu bytes cannot come from a file of %llu bytes",
                   (unsigned long long)c->chunk_bytes, (unsigned long long)f->n);
  if (cells / 8 >= SIZE_MAX || c->chunk_bytes >= SIZE_MAX) /* 32-bit size_t (WebAssembly) */
    return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "its %llu chunks of %llu bytes do not fit this platform's memory",
                   (unsigned long long)cells, (unsigned long long)c->chunk_bytes);
  r.seen = calloc((size_t)(cells / 8 + 1), 1);
  if (d->nfilters && r.seen) {
    r.buf[0] = malloc((size_t)c->chunk_bytes);
    r.buf[1] = malloc((size_t)c->chunk_bytes);
  }
  gc_status s = GC_OK;
  if (!r.seen || (d->nfilters && (!r.buf[0] || !r.buf[1])))
    s = h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory for chunks of %llu bytes", (unsigned long long)c->chunk_bytes);
  if (s == GC_OK) s = h5_chunks_each(f, c, on_chunk, &r);
  free(r.seen);
  free(r.buf[0]);
  free(r.buf[1]);
  return s;
}

gc_status gc_h5_read_f32(gc_h5 *f, gc_h5_obj ds, float *out, uint64_t count, char *err, size_t errlen) {
  if (!f || (!out && count)) return GC_ERR_INVALID_ARGUMENT;
  dataset d;
  gc_status s = enter_dataset(f, ds, err, errlen, &d, 1);
  if (s != GC_OK) return s;
  if (d.type.cls != 1) return h5_fail(f, GC_ERR_H5, "is not a floating-point dataset (datatype class %d)", d.type.cls);
  if (!d.type.float_ok)
    return h5_fail(f, GC_ERR_H5, "holds %u-byte floats that are not IEEE little-endian", d.type.size);
  if (count != d.space.count)
    return h5_fail(f, GC_ERR_INVALID_ARGUMENT, "asked for %llu elements, it has %llu", (unsigned long long)count,
                   (unsigned long long)d.space.count);
  if (count == 0) return GC_OK;
  if (count > SIZE_MAX / sizeof *out) /* 32-bit size_t (WebAssembly): no caller could hold it */
    return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "its %llu elements do not fit this platform's memory",
                   (unsigned long long)count);
  const uint64_t bytes = count * d.type.size; /* bounded by open_dataset */
  float fill = 0.0f;
  if (d.fill) to_f32(d.fill, &fill, 1, d.type.size);
  if (d.layout == 0) {
    if (d.compact_size < bytes)
      return h5_fail(f, GC_ERR_H5, "its compact data holds %llu bytes, its elements need %llu",
                     (unsigned long long)d.compact_size, (unsigned long long)bytes);
    to_f32(d.compact, out, count, d.type.size);
    return GC_OK;
  }
  if (d.layout == 1 && d.addr != H5_UNDEF) {
    if (d.size < bytes)
      return h5_fail(f, GC_ERR_H5, "its contiguous storage holds %llu bytes, its elements need %llu",
                     (unsigned long long)d.size, (unsigned long long)bytes);
    const uint8_t *p = h5_at(f, d.addr, bytes, "dataset's data");
    if (!p) return GC_ERR_H5;
    to_f32(p, out, count, d.type.size);
    return GC_OK;
  }
  /* not written yet (contiguous), or chunked: the fill value where no chunk is stored */
  uint32_t fill_bits;
  memcpy(&fill_bits, &fill, sizeof fill_bits);
  if (fill_bits == 0) memset(out, 0, (size_t)count * sizeof *out);
  else for (uint64_t i = 0; i < count; i++) out[i] = fill;
  return d.layout == 2 ? read_chunked(f, &d, out) : GC_OK;
}
