/* h5build.h - builds a small HDF5 file by hand for test_h5.c, the way libhdf5 lays out its
 * earliest format: superblock 0, a root group as a symbol table (v1 B-tree, symbol node, local
 * heap) holding one dataset "data" of n float32 values 0.5 * i - 3, chunked (v1 B-tree index,
 * layout message 3) and optionally deflated. The offsets of its parts are kept so that a test can
 * damage exactly one of them and check the reader names it. 8-byte addresses and lengths. */
#ifndef GRADCAM_TEST_H5BUILD_H
#define GRADCAM_TEST_H5BUILD_H

#include "bytes.h"

#define H5B_UNDEF UINT64_MAX
#define H5B_MAX_CHUNKS 4096

typedef struct h5b_opts {
  int n;       /* elements of the dataset */
  int chunk;   /* elements per chunk */
  int deflate; /* chunks as zlib streams (stored blocks) */
  int cont;    /* the dataset's header continues in a second block */
  int width;   /* > 0: the dataset is n x 1, its chunks chunk x width (mostly outside it) */
  int shared;  /* every chunk's index entry points at the first chunk's data */
} h5b_opts;

typedef struct h5b_file {
  bytes t;
  size_t sb_root, sb_eof;               /* superblock fields */
  size_t root, gbtree, snod, heap, ds;  /* object headers and the group's structures */
  size_t ds_cont;                       /* the continuation message's address field (cont) */
  size_t cont_block;                    /* the second header block (cont) */
  size_t cbtree;                        /* the chunk B-tree */
  size_t chunk_key[H5B_MAX_CHUNKS];     /* each chunk's key in it (size, mask, offsets) */
  size_t chunk_child[H5B_MAX_CHUNKS];   /* each chunk's address field in it */
  size_t chunk_data[H5B_MAX_CHUNKS];
  int nchunks;
} h5b_file;

static inline float h5b_value(int i) { return 0.5f * (float)i - 3.0f; }

/* a v1 object header: messages of (type, bytes) pairs; returns the header's address */
typedef struct h5b_msg {
  int type;
  bytes body;
} h5b_msg;

static inline size_t h5b_header(bytes *t, h5b_msg *m, int count) {
  align8(t);
  size_t size = 0;
  for (int i = 0; i < count; i++) size += 8 + (m[i].body.n + 7) / 8 * 8;
  const size_t at = put_le(t, 1, 1); /* version 1 */
  put_le(t, 0, 1);
  put_le(t, (uint64_t)count, 2);
  put_le(t, 1, 4); /* reference count */
  put_le(t, size, 4);
  put_le(t, 0, 4); /* to 8-byte alignment */
  for (int i = 0; i < count; i++) {
    put_le(t, (uint64_t)m[i].type, 2);
    put_le(t, (m[i].body.n + 7) / 8 * 8, 2);
    put_le(t, 0, 4); /* flags, reserved */
    put(t, m[i].body.b, m[i].body.n);
    align8(t);
    free(m[i].body.b);
  }
  return at;
}

static inline void h5b_make(h5b_file *f, const h5b_opts *o) {
  memset(f, 0, sizeof *f);
  bytes *t = &f->t;
  /* superblock 0 */
  put(t, "\x89HDF\r\n\x1a\n", 8);
  put_le(t, 0, 4);              /* versions: superblock, free space, root entry, reserved */
  put_le(t, 0, 1);              /* shared header version */
  put_le(t, 8, 1), put_le(t, 8, 1), put_le(t, 0, 1); /* address and length sizes */
  put_le(t, 4, 2), put_le(t, 16, 2); /* group K */
  put_le(t, 0, 4);              /* consistency flags */
  put_le(t, 0, 8);              /* base address */
  put_le(t, H5B_UNDEF, 8);      /* free space */
  f->sb_eof = put_le(t, 0, 8);
  put_le(t, H5B_UNDEF, 8);      /* driver information */
  put_le(t, 0, 8);              /* root entry: name offset */
  f->sb_root = put_le(t, 0, 8);
  put(t, NULL, 24);             /* cache type, reserved, scratch pad */
  /* the local heap: "" at 0, "data" at 8 */
  align8(t);
  f->heap = put_str(t, "HEAP");
  put_le(t, 0, 4);
  put_le(t, 16, 8);
  put_le(t, H5B_UNDEF, 8);
  size_t heap_data = put_le(t, 0, 8);
  set_le(t, heap_data, t->n, 8);
  put(t, "\0\0\0\0\0\0\0\0data\0\0\0\0", 16);
  /* the symbol node with one entry; the group's B-tree of one leaf */
  f->snod = put_str(t, "SNOD");
  put_le(t, 1, 1), put_le(t, 0, 1), put_le(t, 1, 2);
  put_le(t, 8, 8);              /* name offset */
  size_t snod_obj = put_le(t, 0, 8);
  put(t, NULL, 24);
  f->gbtree = put_str(t, "TREE");
  put_le(t, 0, 1), put_le(t, 0, 1), put_le(t, 1, 2);
  put_le(t, H5B_UNDEF, 8), put_le(t, H5B_UNDEF, 8);
  put_le(t, 0, 8);              /* key 0 */
  put_le(t, f->snod, 8);        /* child 0 */
  put_le(t, 8, 8);              /* key 1 */
  /* the root group's header: a symbol table message */
  h5b_msg root[1] = {{0x11, {0}}};
  put_le(&root[0].body, f->gbtree, 8);
  put_le(&root[0].body, f->heap, 8);
  f->root = h5b_header(t, root, 1);
  set_le(t, f->sb_root, f->root, 8);
  /* chunks: data, then the chunk B-tree pointing at them */
  f->nchunks = (o->n + o->chunk - 1) / o->chunk;
  uint64_t stored[H5B_MAX_CHUNKS];
  const int w = o->width > 0 ? o->width : 1;
  float *v = calloc((size_t)o->chunk * (size_t)w, sizeof *v);
  for (int c = 0; c < f->nchunks; c++) {
    for (int i = 0; i < o->chunk; i++) v[i * w] = h5b_value(c * o->chunk + i);
    f->chunk_data[c] = t->n;
    stored[c] = 0;
    if (o->shared && c > 0) f->chunk_data[c] = f->chunk_data[0], stored[c] = stored[0];
    else if (o->deflate) zlib_stored(t, (const uint8_t *)v, (size_t)o->chunk * (size_t)w * 4);
    else put(t, v, (size_t)o->chunk * (size_t)w * 4);
    if (!stored[c]) stored[c] = t->n - f->chunk_data[c];
  }
  free(v);
  align8(t);
  f->cbtree = put_str(t, "TREE");
  put_le(t, 1, 1), put_le(t, 0, 1), put_le(t, (uint64_t)f->nchunks, 2);
  put_le(t, H5B_UNDEF, 8), put_le(t, H5B_UNDEF, 8);
  for (int c = 0; c <= f->nchunks; c++) {
    f->chunk_key[c] = put_le(t, c < f->nchunks ? stored[c] : 0, 4);
    put_le(t, 0, 4);                                      /* filter mask */
    put_le(t, (uint64_t)(c < f->nchunks ? c * o->chunk : o->n), 8);
    if (o->width > 0) put_le(t, 0, 8);                    /* the second dimension */
    put_le(t, 0, 8);                                      /* the element dimension */
    if (c < f->nchunks) f->chunk_child[c] = put_le(t, f->chunk_data[c], 8);
  }
  /* the dataset's header */
  h5b_msg m[5];
  int nm = 0;
  m[nm++] = (h5b_msg){0x01, {0}}; /* dataspace v1: rank 1, or 2 (n x 1) */
  put_le(&m[0].body, 1, 1), put_le(&m[0].body, o->width > 0 ? 2 : 1, 1), put_le(&m[0].body, 0, 6);
  put_le(&m[0].body, (uint64_t)o->n, 8);
  if (o->width > 0) put_le(&m[0].body, 1, 8);
  m[nm++] = (h5b_msg){0x03, {0}}; /* IEEE float32, little-endian */
  bytes *d = &m[1].body;
  put_le(d, 0x11, 1), put_le(d, 0x20, 1), put_le(d, 31, 1), put_le(d, 0, 1), put_le(d, 4, 4);
  put_le(d, 0, 2), put_le(d, 32, 2), put_le(d, 23, 1), put_le(d, 8, 1), put_le(d, 0, 1), put_le(d, 23, 1);
  put_le(d, 127, 4);
  m[nm++] = (h5b_msg){0x08, {0}}; /* layout v3: chunked, v1 B-tree */
  d = &m[2].body;
  put_le(d, 3, 1), put_le(d, 2, 1), put_le(d, o->width > 0 ? 3 : 2, 1), put_le(d, f->cbtree, 8);
  put_le(d, (uint64_t)o->chunk, 4);
  if (o->width > 0) put_le(d, (uint64_t)o->width, 4);
  put_le(d, 4, 4);
  if (o->deflate) { /* filter pipeline v1: deflate, level 6 */
    m[nm] = (h5b_msg){0x0b, {0}};
    d = &m[nm++].body;
    put_le(d, 1, 1), put_le(d, 1, 1), put_le(d, 0, 6);
    put_le(d, 1, 2), put_le(d, 0, 2), put_le(d, 0, 2), put_le(d, 1, 2), put_le(d, 6, 4), put_le(d, 0, 4);
  }
  size_t cont_field = 0;
  if (o->cont) { /* a continuation message; the rest of the header in a second block */
    m[nm] = (h5b_msg){0x10, {0}};
    d = &m[nm++].body;
    put_le(d, 0, 8), put_le(d, 24, 8);
  }
  f->ds = h5b_header(t, m, nm);
  if (o->cont) {
    cont_field = f->ds + 16;
    for (int i = 0; i < nm - 1; i++) cont_field += 8 + get_le(t, cont_field + 2, 2);
    f->ds_cont = cont_field + 8;
    f->cont_block = t->n;
    put_le(t, 0, 2), put_le(t, 16, 2), put_le(t, 0, 4), put(t, NULL, 16); /* a NIL message */
    set_le(t, f->ds_cont, f->cont_block, 8);
  }
  set_le(t, snod_obj, f->ds, 8);
  set_le(t, f->sb_eof, t->n, 8);
}

#endif
