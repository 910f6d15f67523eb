/* h5_priv.h - what the parts of the HDF5 reader share (h5.c: file, superblock, object headers,
 * paths; h5_index.c: B-trees, heaps; h5_chunk.c: chunk indexes; h5_data.c: types, layouts,
 * filters, datasets; h5_attr.c: attributes). Not public.
 *
 * Conventions: every structure is read straight from the file image through h5_at(), which
 * checks the span first; a parse of a message or block goes through an h5_cur, whose reads past
 * its end set a sticky flag instead of reading; functions return a gc_status and write the
 * message with h5_fail(), which prefixes the name of the object being read (f->label). */
#ifndef GRADCAM_IO_H5_PRIV_H
#define GRADCAM_IO_H5_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "gradcam.h"
#include "io/h5.h"

#define H5_UNDEF UINT64_MAX /* an address field of all ones: "not allocated" */
/* deflate's largest expansion: the most bytes a stored byte can stand for */
#define H5_MAX_RATIO 1032u

/* ---- message types used here (the format specification's numbers) */
enum {
  H5M_NIL = 0x00, H5M_DATASPACE = 0x01, H5M_LINK_INFO = 0x02, H5M_DATATYPE = 0x03,
  H5M_FILL_OLD = 0x04, H5M_FILL = 0x05, H5M_LINK = 0x06, H5M_LAYOUT = 0x08, H5M_FILTERS = 0x0b,
  H5M_ATTRIBUTE = 0x0c, H5M_CONTINUATION = 0x10, H5M_SYMBOL_TABLE = 0x11, H5M_ATTR_INFO = 0x15
};

typedef struct h5_msg {
  uint16_t type;
  uint8_t flags;
  const uint8_t *p; /* into the file image */
  size_t size;
} h5_msg;

typedef struct h5_ohdr {
  uint64_t addr;
  int version;
  h5_msg *m;
  size_t count;
} h5_ohdr;

typedef struct h5_link {
  char *name;    /* into the group's name pool */
  uint64_t addr; /* H5_UNDEF for soft and external links */
  int kind;      /* 0 hard, 1 soft, 64 external, other: user-defined */
} h5_link;

/* the sorted links of one group, kept while the file is open (see h5_links) */
typedef struct h5_group {
  uint64_t addr;
  h5_link *links;
  size_t count;
  char *pool;
  unsigned long last_use;
} h5_group;

#define H5_GROUP_CACHE 16
#define H5_NAME_RING 64
#define H5_LABEL 200

struct gc_h5 {
  const uint8_t *b;
  uint64_t n;
  int sb_version;
  int osz, lsz; /* sizes of addresses and lengths, bytes */
  uint64_t root;
  int checksums; /* 1: verify the Jenkins checksums of v2 structures */
  uint64_t budget; /* bytes of structure a call may still walk (h5_spend) */
  char *err;
  size_t errlen;
  char label[H5_LABEL]; /* the object being read, for messages */
  h5_group groups[H5_GROUP_CACHE];
  unsigned long clock;
  struct { uint64_t addr; char *path; } names[H5_NAME_RING]; /* objects reached by path */
  int name_next;
};

/* a bounded reader over one message or block; reads past the end set `bad` and give 0 */
typedef struct h5_cur {
  const uint8_t *p, *end;
  int bad;
} h5_cur;

static inline h5_cur h5_cursor(const uint8_t *p, size_t n) {
  h5_cur c = {p, p + n, 0};
  return c;
}
static inline uint64_t h5_le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static inline uint64_t h5_u(h5_cur *c, int n) {
  if (n < 0 || c->end - c->p < n) {
    c->bad = 1;
    c->p = c->end;
    return 0;
  }
  uint64_t v = h5_le(c->p, n);
  c->p += n;
  return v;
}
static inline const uint8_t *h5_take(h5_cur *c, uint64_t n) {
  if ((uint64_t)(c->end - c->p) < n) {
    c->bad = 1;
    c->p = c->end;
    return NULL;
  }
  const uint8_t *p = c->p;
  c->p += n;
  return p;
}
static inline size_t h5_left(const h5_cur *c) { return (size_t)(c->end - c->p); }
/* an address of f->osz bytes; all ones reads as H5_UNDEF */
uint64_t h5_addr(const gc_h5 *f, h5_cur *c);

/* ---- h5.c */
gc_status h5_fail(gc_h5 *f, gc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* the bytes [addr, addr+len) of the file, or NULL (with a message naming `what`) */
const uint8_t *h5_at(gc_h5 *f, uint64_t addr, uint64_t len, const char *what);
/* charge `bytes` of structure walked to the call's budget; fails once it is spent */
gc_status h5_spend(gc_h5 *f, uint64_t bytes);
/* checks the Jenkins lookup3 checksum stored after the `len` bytes at p */
gc_status h5_check_sum(gc_h5 *f, const uint8_t *p, size_t len, const char *what, uint64_t addr);
uint32_t h5_lookup3(const uint8_t *p, size_t len, uint32_t init);
gc_status h5_ohdr_read(gc_h5 *f, uint64_t addr, h5_ohdr *h);
void h5_ohdr_free(h5_ohdr *h);
const h5_msg *h5_ohdr_find(const h5_ohdr *h, int type);
/* whether a message is stored as a reference to a shared one (not read here) */
gc_status h5_not_shared(gc_h5 *f, const h5_msg *m, const char *what);
/* reads an object header at the start of a public call: sets the label and the budget */
gc_status h5_enter(gc_h5 *f, gc_h5_obj obj, char *err, size_t errlen, h5_ohdr *h);
/* gc_h5_open, with the checksums of v2 structures verified or not (the fuzz targets turn them off
 * to reach the structures behind them) */
gc_status h5_open_opts(const void *bytes, size_t size, int checksums, gc_h5 **out, char *err, size_t errlen);
/* the path an object was reached by (NULL if unknown), and recording one */
const char *h5_path_of(const gc_h5 *f, uint64_t addr);
void h5_remember(gc_h5 *f, uint64_t addr, const char *path);

/* ---- h5_group.c */
int h5_is_group(const h5_ohdr *h);
gc_status h5_strings_push(gc_h5 *f, gc_h5_strings *s, const char *p, size_t len);
/* h5_enter for the calls that answer a list: checks the arguments, empties the list */
gc_status h5_enter_list(gc_h5 *f, gc_h5_obj obj, gc_h5_strings *out, char *err, size_t errlen, h5_ohdr *h);

/* ---- h5_index.c */
typedef gc_status (*h5_name_fn)(void *ctx, const char *name, size_t len, uint64_t addr, int kind);
/* the entries of a symbol-table group (v1 B-tree of symbol nodes + local heap) */
gc_status h5_symtab_walk(gc_h5 *f, uint64_t btree, uint64_t heap, h5_name_fn fn, void *ctx);
/* a v1 B-tree of raw-data chunks: fn gets each key (ndims offsets, chunk size, filter mask) */
typedef gc_status (*h5_chunk_fn)(void *ctx, const uint64_t *offset, uint64_t addr, uint64_t size,
                                 uint32_t mask);
gc_status h5_btree1_chunks(gc_h5 *f, uint64_t addr, int ndims, h5_chunk_fn fn, void *ctx);
/* every record of a v2 B-tree of the given type, in order */
typedef gc_status (*h5_rec_fn)(void *ctx, const uint8_t *rec, size_t size);
gc_status h5_btree2_walk(gc_h5 *f, uint64_t addr, int type, h5_rec_fn fn, void *ctx);
/* a fractal heap and the bytes of one of its objects by heap ID */
typedef struct h5_fheap {
  uint64_t addr;
  int id_len, off_size, len_size;
  uint32_t max_man;
  int flags;
  int width;
  uint64_t start_block, max_direct, root;
  int max_heap_bits, root_rows, max_direct_rows, first_row_bits;
  uint64_t huge_btree;
  int huge_direct, huge_id_size;
} h5_fheap;
gc_status h5_fheap_open(gc_h5 *f, uint64_t addr, h5_fheap *h);
gc_status h5_fheap_get(gc_h5 *f, const h5_fheap *h, const uint8_t *id, const uint8_t **obj, size_t *len);
/* a global heap object (variable-length data): see h5_attr.c for the batched reader */
typedef struct h5_gobj {
  uint16_t index;
  const uint8_t *p;
  uint64_t size;
} h5_gobj;
/* the objects of one global heap collection, sorted by index (malloc'ed) */
gc_status h5_gcol_read(gc_h5 *f, uint64_t addr, h5_gobj **objs, size_t *count);

/* ---- h5_data.c: datatypes, dataspaces */
typedef struct h5_type {
  int cls; /* the format's class number: 0 integer, 1 float, 3 string, 9 variable-length, ... */
  uint32_t size;
  int float_ok; /* an IEEE little-endian float of 2, 4 or 8 bytes */
  int little;   /* byte order little-endian (integers and floats) */
  int pad;      /* strings: 0 NUL-terminated, 1 NUL-padded, 2 space-padded */
  int vlen_string; /* class 9 of type string */
} h5_type;
gc_status h5_type_parse(gc_h5 *f, const uint8_t *p, size_t n, h5_type *t);
typedef struct h5_space {
  int ndim; /* -1: null dataspace (no elements) */
  uint64_t dims[GC_H5_MAX_DIMS];
  uint64_t max[GC_H5_MAX_DIMS]; /* maximum dimensions (H5_UNDEF: unlimited); dims if not given */
  uint64_t count;
} h5_space;
gc_status h5_space_parse(gc_h5 *f, const uint8_t *p, size_t n, h5_space *s);
gc_h5_class h5_class_of(const h5_type *t);

/* ---- h5_chunk.c: chunk indexes of layout messages v3 and v4 */
typedef struct h5_chunked {
  int ndims;                        /* dataset rank */
  uint64_t dims[GC_H5_MAX_DIMS];    /* dataset dimensions */
  uint64_t max[GC_H5_MAX_DIMS];     /* maximum dimensions (H5_UNDEF: unlimited) */
  uint64_t chunk[GC_H5_MAX_DIMS];   /* chunk dimensions */
  uint64_t chunk_bytes;
  int version;                      /* layout message version */
  int index;                        /* v4 index type (v3: 0 = v1 B-tree) */
  int flags;                        /* v4 flags */
  uint64_t addr;
  uint8_t params[8];                /* index parameters of the layout message */
  uint64_t single_size;             /* single chunk, filtered: its stored size and mask */
  uint32_t single_mask;
  int filtered;
} h5_chunked;
/* calls fn for every stored chunk (offset in elements, address, stored size, filter mask) */
gc_status h5_chunks_each(gc_h5 *f, const h5_chunked *c, h5_chunk_fn fn, void *ctx);

#endif
