/* h5_index.c - the HDF5 reader's indexes and heaps: v1 B-trees (group symbol tables and raw
 * data chunks), symbol table nodes and local heaps, v2 B-trees, fractal heaps (managed, tiny
 * and huge objects) and global heap collections.
 *
 * Checksums: the fractal heap's indirect and direct blocks are not hashed: every object lookup
 * passes through them, and hashing a whole block per lookup would make reading a large dense
 * group quadratic; their signatures and heap offsets are checked instead.
 *
 * Loops: a v1 B-tree child must have its parent's level minus one and a v2 B-tree node is read
 * at the depth its parent gives, so a node cannot be its own ancestor; a fractal heap's child
 * blocks are strictly smaller than their parent. Nodes shared many times over (a DAG) are
 * stopped by the call's budget (h5_spend). */
#include <stdlib.h>
#include <string.h>

#include "io/h5_priv.h"

/* ---- v1 B-trees -------------------------------------------------------------------------- */

typedef struct btree1 {
  int type; /* 0 group nodes, 1 raw data chunks */
  int ndims; /* chunks: the dataset's rank */
  size_t key;
  /* group nodes: the local heap's data and the visitor */
  const uint8_t *heap;
  uint64_t heap_size;
  h5_name_fn name_fn;
  h5_chunk_fn chunk_fn;
  void *ctx;
} btree1;

/* a symbol table node: entries of (name offset in the local heap, object header address) */
static gc_status symbol_node(gc_h5 *f, const btree1 *t, uint64_t addr) {
  const uint8_t *p = h5_at(f, addr, 8, "symbol table node");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "SNOD", 4) || p[4] != 1)
    return h5_fail(f, GC_ERR_H5, "no symbol table node at 0x%llx", (unsigned long long)addr);
  const uint64_t n = h5_le(p + 6, 2), entry = 2 * (uint64_t)f->osz + 24;
  if (!(p = h5_at(f, addr + 8, n * entry, "symbol table node"))) return GC_ERR_H5;
  gc_status s = h5_spend(f, 8 + n * entry);
  for (uint64_t i = 0; i < n && s == GC_OK; i++) {
    h5_cur c = h5_cursor(p + i * entry, (size_t)entry);
    uint64_t name = h5_u(&c, f->osz), obj = h5_addr(f, &c);
    const int soft = h5_u(&c, 4) == 2; /* cache type 2: a soft link, its value in the scratch pad */
    const uint8_t *end = name < t->heap_size ? memchr(t->heap + name, 0, (size_t)(t->heap_size - name)) : NULL;
    if (!end)
      return h5_fail(f, GC_ERR_H5, "symbol %llu of the node at 0x%llx has no name in the local heap",
                     (unsigned long long)i, (unsigned long long)addr);
    s = t->name_fn(t->ctx, (const char *)t->heap + name, (size_t)(end - (t->heap + name)), soft ? H5_UNDEF : obj,
                   soft);
  }
  return s;
}

static gc_status btree1_node(gc_h5 *f, const btree1 *t, uint64_t addr, int want_level) {
  const uint64_t head = 8 + 2 * (uint64_t)f->osz;
  const uint8_t *p = h5_at(f, addr, head, "v1 B-tree node");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "TREE", 4) || p[4] != t->type)
    return h5_fail(f, GC_ERR_H5, "no v1 B-tree node of type %d at 0x%llx", t->type, (unsigned long long)addr);
  const int level = p[5];
  const uint64_t n = h5_le(p + 6, 2), step = t->key + (uint64_t)f->osz;
  if (want_level >= 0 && level != want_level)
    return h5_fail(f, GC_ERR_H5, "v1 B-tree node at 0x%llx has level %d under a node of level %d (a B-tree cycle)",
                   (unsigned long long)addr, level, want_level + 1);
  if (!(p = h5_at(f, addr, head + n * step + t->key, "v1 B-tree node"))) return GC_ERR_H5;
  gc_status s = h5_spend(f, head + n * step + t->key);
  for (uint64_t i = 0; i < n && s == GC_OK; i++) {
    const uint8_t *k = p + head + i * step;
    h5_cur c = h5_cursor(k + t->key, (size_t)f->osz);
    const uint64_t child = h5_addr(f, &c);
    if (level > 0) {
      s = btree1_node(f, t, child, level - 1);
    } else if (t->type == 0) {
      s = symbol_node(f, t, child);
    } else {
      uint64_t off[GC_H5_MAX_DIMS + 1];
      for (int d = 0; d <= t->ndims; d++) off[d] = h5_le(k + 8 + 8 * d, 8);
      s = t->chunk_fn(t->ctx, off, child, h5_le(k, 4), (uint32_t)h5_le(k + 4, 4));
    }
  }
  return s;
}

gc_status h5_symtab_walk(gc_h5 *f, uint64_t btree, uint64_t heap, h5_name_fn fn, void *ctx) {
  const uint64_t head = 8 + 2 * (uint64_t)f->lsz + (uint64_t)f->osz;
  const uint8_t *p = h5_at(f, heap, head, "local heap");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "HEAP", 4) || p[4] != 0)
    return h5_fail(f, GC_ERR_H5, "no local heap at 0x%llx", (unsigned long long)heap);
  h5_cur c = h5_cursor(p + 8, (size_t)(head - 8));
  const uint64_t size = h5_u(&c, f->lsz);
  h5_u(&c, f->lsz);
  const uint64_t data = h5_addr(f, &c);
  btree1 t = {0, 0, (size_t)f->lsz, NULL, size, fn, NULL, ctx};
  if (!(t.heap = h5_at(f, data, size, "local heap's data"))) return GC_ERR_H5;
  return btree1_node(f, &t, btree, -1);
}

gc_status h5_btree1_chunks(gc_h5 *f, uint64_t addr, int ndims, h5_chunk_fn fn, void *ctx) {
  btree1 t = {1, ndims, 8 + 8 * ((size_t)ndims + 1), NULL, 0, NULL, fn, ctx};
  if (addr == H5_UNDEF) return GC_OK; /* no chunk written yet */
  return btree1_node(f, &t, addr, -1);
}

/* ---- v2 B-trees -------------------------------------------------------------------------- */

/* bytes that hold the number n (libhdf5's "limit encoding size": floor(log2 n) / 8 + 1) */
static int enc_size(uint64_t n) {
  int bits = 0;
  while (n >>= 1) bits++;
  return bits / 8 + 1;
}

#define BT2_MAX_DEPTH 16
typedef struct btree2 {
  int type;
  uint32_t node_size, rec;
  uint64_t max_nrec[BT2_MAX_DEPTH + 1];
  int cum_size[BT2_MAX_DEPTH + 1], nrec_size;
  h5_rec_fn fn;
  void *ctx;
} btree2;

static gc_status btree2_node(gc_h5 *f, const btree2 *t, uint64_t addr, uint64_t nrec, int depth) {
  const char *what = depth ? "v2 B-tree internal node" : "v2 B-tree leaf";
  if (nrec > t->max_nrec[depth])
    return h5_fail(f, GC_ERR_H5, "the %s at 0x%llx claims %llu records, more than fit in it", what,
                   (unsigned long long)addr, (unsigned long long)nrec);
  const uint64_t ptr = depth ? (uint64_t)f->osz + (uint64_t)t->nrec_size + (uint64_t)t->cum_size[depth - 1] : 0;
  const uint64_t used = 6 + nrec * t->rec + (depth ? (nrec + 1) * ptr : 0);
  const uint8_t *p = h5_at(f, addr, used + 4, what);
  if (!p) return GC_ERR_H5;
  if (memcmp(p, depth ? "BTIN" : "BTLF", 4) || p[4] != 0 || p[5] != t->type)
    return h5_fail(f, GC_ERR_H5, "no %s of type %d at 0x%llx", what, t->type, (unsigned long long)addr);
  gc_status s = h5_spend(f, used + 4);
  if (s == GC_OK) s = h5_check_sum(f, p, (size_t)used, what, addr);
  const uint8_t *ptrs = p + 6 + nrec * t->rec;
  for (uint64_t i = 0; i <= nrec && s == GC_OK; i++) {
    if (depth) { /* child i, then record i: records come out in order */
      h5_cur c = h5_cursor(ptrs + i * ptr, (size_t)ptr);
      uint64_t child = h5_addr(f, &c), child_nrec = h5_u(&c, t->nrec_size);
      s = btree2_node(f, t, child, child_nrec, depth - 1);
    }
    if (i < nrec && s == GC_OK) s = t->fn(t->ctx, p + 6 + i * t->rec, t->rec);
  }
  return s;
}

gc_status h5_btree2_walk(gc_h5 *f, uint64_t addr, int type, h5_rec_fn fn, void *ctx) {
  const uint64_t size = 22 + (uint64_t)f->osz + (uint64_t)f->lsz; /* with its checksum */
  const uint8_t *p = h5_at(f, addr, size, "v2 B-tree header");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "BTHD", 4) || p[4] != 0 || p[5] != type)
    return h5_fail(f, GC_ERR_H5, "no v2 B-tree header of type %d at 0x%llx", type, (unsigned long long)addr);
  gc_status s = h5_check_sum(f, p, (size_t)size - 4, "v2 B-tree header", addr);
  if (s != GC_OK) return s;
  btree2 t = {type, (uint32_t)h5_le(p + 6, 4), (uint32_t)h5_le(p + 10, 2), {0}, {0}, 0, fn, ctx};
  const int depth = (int)h5_le(p + 12, 2);
  h5_cur c = h5_cursor(p + 16, (size_t)f->osz + 2);
  const uint64_t root = h5_addr(f, &c), root_nrec = h5_u(&c, 2);
  if (t.rec == 0 || t.node_size < 10 + t.rec || t.node_size > f->n || depth > BT2_MAX_DEPTH)
    return h5_fail(f, GC_ERR_H5, "the v2 B-tree at 0x%llx has nodes of %u bytes, records of %u and depth %d",
                   (unsigned long long)addr, t.node_size, t.rec, depth);
  /* how many records a node of each depth holds, and the widths of the counts in pointers */
  t.max_nrec[0] = (t.node_size - 10) / t.rec;
  t.nrec_size = enc_size(t.max_nrec[0]);
  uint64_t cum = t.max_nrec[0];
  for (int d = 1; d <= depth; d++) {
    const uint64_t ptr = (uint64_t)f->osz + (uint64_t)t.nrec_size + (uint64_t)t.cum_size[d - 1];
    t.max_nrec[d] = t.node_size > 10 + ptr ? (t.node_size - 10 - ptr) / (t.rec + ptr) : 0;
    if (t.max_nrec[d] == 0)
      return h5_fail(f, GC_ERR_H5, "the v2 B-tree at 0x%llx is deeper (%d) than its nodes allow",
                     (unsigned long long)addr, depth);
    cum = cum > UINT64_MAX / (t.max_nrec[d] + 2) ? UINT64_MAX : (t.max_nrec[d] + 1) * cum + t.max_nrec[d];
    t.cum_size[d] = enc_size(cum);
  }
  if (root == H5_UNDEF) return GC_OK; /* empty */
  return btree2_node(f, &t, root, root_nrec, depth);
}

/* ---- fractal heaps ----------------------------------------------------------------------- */

static int log2_floor(uint64_t n) {
  int b = -1;
  while (n) n >>= 1, b++;
  return b;
}

gc_status h5_fheap_open(gc_h5 *f, uint64_t addr, h5_fheap *h) {
  const uint64_t size = 4 + 1 + 2 + 2 + 1 + 4 + 12 * (uint64_t)f->lsz + 3 * (uint64_t)f->osz + 2 + 2 + 2 + 2 + 4;
  const uint8_t *p = h5_at(f, addr, size, "fractal heap header");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "FRHP", 4) || p[4] != 0)
    return h5_fail(f, GC_ERR_H5, "no fractal heap header at 0x%llx", (unsigned long long)addr);
  memset(h, 0, sizeof *h);
  h->addr = addr;
  h5_cur c = h5_cursor(p + 5, (size_t)size - 5);
  h->id_len = (int)h5_u(&c, 2);
  const int filters = (int)h5_u(&c, 2);
  h->flags = (int)h5_u(&c, 1);
  h->max_man = (uint32_t)h5_u(&c, 4);
  h5_u(&c, f->lsz);              /* next huge object ID */
  h->huge_btree = h5_addr(f, &c);
  h5_u(&c, f->lsz), h5_addr(f, &c); /* free space and its manager */
  for (int i = 0; i < 8; i++) h5_u(&c, f->lsz); /* managed, huge and tiny space and counts */
  h->width = (int)h5_u(&c, 2);
  h->start_block = h5_u(&c, f->lsz);
  h->max_direct = h5_u(&c, f->lsz);
  h->max_heap_bits = (int)h5_u(&c, 2);
  h5_u(&c, 2); /* starting rows of the root indirect block */
  h->root = h5_addr(f, &c);
  h->root_rows = (int)h5_u(&c, 2);
  if (filters)
    return h5_fail(f, GC_ERR_H5, "the fractal heap at 0x%llx has I/O filters, not read here", (unsigned long long)addr);
  gc_status s = h5_check_sum(f, p, (size_t)size - 4, "fractal heap header", addr);
  if (s != GC_OK) return s;
  const int wbits = log2_floor((uint64_t)h->width), sbits = log2_floor(h->start_block);
  const int dbits = log2_floor(h->max_direct);
  h->first_row_bits = sbits + wbits;
  h->max_direct_rows = dbits - sbits + 2;
  if (h->width < 1 || (h->width & (h->width - 1)) || h->start_block < 1 || (h->start_block & (h->start_block - 1)) ||
      (h->max_direct & (h->max_direct - 1)) || dbits < sbits || h->max_heap_bits > 56 ||
      h->max_heap_bits < h->first_row_bits || dbits >= 40 || h->root_rows > h->max_heap_bits - h->first_row_bits + 1)
    return h5_fail(f, GC_ERR_H5, "the fractal heap at 0x%llx has an impossible doubling table (width %d, blocks "
                                 "%llu to %llu, %d bits, %d root rows)",
                   (unsigned long long)addr, h->width, (unsigned long long)h->start_block,
                   (unsigned long long)h->max_direct, h->max_heap_bits, h->root_rows);
  h->off_size = (h->max_heap_bits + 7) / 8;
  h->len_size = (dbits + 7) / 8;
  if (enc_size(h->max_man) < h->len_size) h->len_size = enc_size(h->max_man);
  if (h->id_len < 1 + h->off_size + h->len_size || h->id_len > 4096)
    return h5_fail(f, GC_ERR_H5, "the fractal heap at 0x%llx has heap IDs of %d bytes", (unsigned long long)addr,
                   h->id_len);
  h->huge_direct = h->id_len - 1 >= f->osz + f->lsz;
  h->huge_id_size = h->id_len - 1 < 8 ? h->id_len - 1 : 8;
  return GC_OK;
}

/* block sizes and offsets of the doubling table's rows */
static uint64_t row_size(const h5_fheap *h, int row) { return row == 0 ? h->start_block : h->start_block << (row - 1); }
static uint64_t row_off(const h5_fheap *h, int row) {
  return row == 0 ? 0 : ((uint64_t)1 << h->first_row_bits) << (row - 1);
}

static gc_status managed(gc_h5 *f, const h5_fheap *h, uint64_t off, uint64_t len, const uint8_t **obj) {
  uint64_t block = h->root, base = 0, size = h->start_block;
  int rows = h->root_rows;
  const uint64_t entry_head = 5 + (uint64_t)f->osz + (uint64_t)h->off_size;
  while (rows > 0) { /* down the indirect blocks: each child covers a strictly smaller span */
    const uint64_t bytes = entry_head + (uint64_t)rows * (uint64_t)h->width * (uint64_t)f->osz;
    const uint8_t *p = h5_at(f, block, bytes + 4, "fractal heap indirect block");
    if (!p) return GC_ERR_H5;
    if (memcmp(p, "FHIB", 4) || p[4] != 0 || h5_le(p + 5 + f->osz, h->off_size) != base)
      return h5_fail(f, GC_ERR_H5, "no fractal heap indirect block for heap offset %llu at 0x%llx",
                     (unsigned long long)base, (unsigned long long)block);
    gc_status s = h5_spend(f, entry_head + (uint64_t)f->osz); /* one entry read, not the block */
    if (s != GC_OK) return s;
    const uint64_t rel = off - base;
    int row;
    uint64_t col;
    if (rel < ((uint64_t)1 << h->first_row_bits)) {
      row = 0, col = rel / h->start_block;
    } else {
      const int hb = log2_floor(rel);
      row = hb - h->first_row_bits + 1;
      col = row < rows ? (rel - ((uint64_t)1 << hb)) / row_size(h, row) : 0;
    }
    if (row >= rows)
      return h5_fail(f, GC_ERR_H5, "heap offset %llu lies beyond the fractal heap's indirect block at 0x%llx",
                     (unsigned long long)off, (unsigned long long)block);
    h5_cur c = h5_cursor(p + entry_head + ((uint64_t)row * (uint64_t)h->width + col) * (uint64_t)f->osz, (size_t)f->osz);
    block = h5_addr(f, &c);
    base += row_off(h, row) + col * row_size(h, row);
    size = row_size(h, row);
    rows = row < h->max_direct_rows ? 0 : log2_floor(size) - h->first_row_bits + 1;
  }
  const uint64_t head = entry_head + ((h->flags & 2) ? 4 : 0);
  const uint8_t *p = h5_at(f, block, head, "fractal heap direct block");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "FHDB", 4) || p[4] != 0 || h5_le(p + 5 + f->osz, h->off_size) != base)
    return h5_fail(f, GC_ERR_H5, "no fractal heap direct block for heap offset %llu at 0x%llx",
                   (unsigned long long)base, (unsigned long long)block);
  if (off - base < head || len > size || off - base > size - len || !h5_at(f, block, size, "fractal heap direct block"))
    return h5_fail(f, GC_ERR_H5, "a fractal heap object (offset %llu, %llu bytes) lies outside its direct block at 0x%llx",
                   (unsigned long long)off, (unsigned long long)len, (unsigned long long)block);
  *obj = p + (off - base);
  return h5_spend(f, head + len);
}

typedef struct huge_find {
  gc_h5 *f;
  uint64_t id;
  const uint8_t *obj;
  uint64_t len;
} huge_find;

static gc_status huge_record(void *ctx, const uint8_t *rec, size_t size) {
  huge_find *q = ctx;
  h5_cur c = h5_cursor(rec, size);
  uint64_t addr = h5_addr(q->f, &c), len = h5_u(&c, q->f->lsz), id = h5_u(&c, q->f->lsz);
  if (!c.bad && id == q->id && !q->obj) {
    if (!(q->obj = h5_at(q->f, addr, len, "huge fractal heap object"))) return GC_ERR_H5;
    q->len = len;
  }
  return GC_OK;
}

gc_status h5_fheap_get(gc_h5 *f, const h5_fheap *h, const uint8_t *id, const uint8_t **obj, size_t *len) {
  const int type = (id[0] >> 4) & 3;
  if (id[0] >> 6)
    return h5_fail(f, GC_ERR_H5, "a heap ID of version %d in the fractal heap at 0x%llx", id[0] >> 6,
                   (unsigned long long)h->addr);
  if (type == 0) {
    const uint64_t off = h5_le(id + 1, h->off_size), n = h5_le(id + 1 + h->off_size, h->len_size);
    *len = (size_t)n;
    return managed(f, h, off, n, obj);
  }
  if (type == 2) { /* tiny: the object is in the ID itself */
    const int ext = h->id_len - 1 > 16;
    const size_t n = (ext ? ((size_t)(id[0] & 15) << 8 | id[1]) : (size_t)(id[0] & 15)) + 1;
    if (n > (size_t)h->id_len - 1 - (size_t)ext)
      return h5_fail(f, GC_ERR_H5, "a tiny heap object of %zu bytes does not fit its %d-byte ID", n, h->id_len);
    *obj = id + 1 + ext;
    *len = n;
    return GC_OK;
  }
  if (type == 1) {
    huge_find q = {f, 0, NULL, 0};
    if (h->huge_direct) {
      h5_cur c = h5_cursor(id + 1, (size_t)h->id_len - 1);
      uint64_t addr = h5_addr(f, &c), n = h5_u(&c, f->lsz);
      if (!(q.obj = h5_at(f, addr, n, "huge fractal heap object"))) return GC_ERR_H5;
      q.len = n;
    } else {
      q.id = h5_le(id + 1, h->huge_id_size);
      gc_status s = h5_btree2_walk(f, h->huge_btree, 1, huge_record, &q);
      if (s != GC_OK) return s;
      if (!q.obj)
        return h5_fail(f, GC_ERR_H5, "no huge object %llu in the fractal heap at 0x%llx", (unsigned long long)q.id,
                       (unsigned long long)h->addr);
    }
    *obj = q.obj;
    *len = (size_t)q.len;
    return GC_OK;
  }
  return h5_fail(f, GC_ERR_H5, "a heap ID of unknown type %d in the fractal heap at 0x%llx", type,
                 (unsigned long long)h->addr);
}

/* ---- global heap collections ------------------------------------------------------------- */

static int cmp_gobj(const void *a, const void *b) {
  const h5_gobj *x = a, *y = b;
  return (x->index > y->index) - (x->index < y->index);
}

gc_status h5_gcol_read(gc_h5 *f, uint64_t addr, h5_gobj **objs, size_t *count) {
  *objs = NULL;
  *count = 0;
  const uint8_t *p = h5_at(f, addr, 8 + (uint64_t)f->lsz, "global heap collection");
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "GCOL", 4) || p[4] != 1)
    return h5_fail(f, GC_ERR_H5, "no global heap collection at 0x%llx", (unsigned long long)addr);
  /* the collection's header and each object's are padded to 8 bytes (with 4-byte lengths) */
  const uint64_t size = h5_le(p + 8, f->lsz), head = (8 + (uint64_t)f->lsz + 7) & ~(uint64_t)7;
  if (!(p = h5_at(f, addr, size, "global heap collection"))) return GC_ERR_H5;
  gc_status s = h5_spend(f, size);
  if (s != GC_OK) return s;
  h5_gobj *o = malloc((size_t)(size / head + 1) * sizeof *o); /* each object takes a header at least */
  if (!o) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading a global heap collection");
  size_t n = 0;
  h5_cur c = size >= head ? h5_cursor(p + head, (size_t)(size - head)) : h5_cursor(p, 0);
  while (h5_left(&c) >= head) {
    const uint16_t index = (uint16_t)h5_u(&c, 2);
    h5_u(&c, 6); /* reference count, reserved */
    const uint64_t len = h5_u(&c, f->lsz);
    h5_u(&c, (int)(head - 8 - (uint64_t)f->lsz));
    if (index == 0) break; /* free space: the rest of the collection */
    const uint8_t *data = h5_take(&c, len);
    if (!data) {
      free(o);
      return h5_fail(f, GC_ERR_H5, "object %u of the global heap collection at 0x%llx runs past its end", index,
                     (unsigned long long)addr);
    }
    h5_take(&c, (8 - (len & 7)) & 7); /* data is padded to 8 bytes (the collection's end may cut it) */
    c.bad = 0;
    o[n++] = (h5_gobj){index, data, len};
  }
  qsort(o, n, sizeof *o, cmp_gobj);
  for (size_t i = 1; i < n; i++)
    if (o[i].index == o[i - 1].index) {
      const unsigned index = o[i].index;
      free(o);
      return h5_fail(f, GC_ERR_H5, "the global heap collection at 0x%llx holds object %u twice",
                     (unsigned long long)addr, index);
    }
  *objs = o;
  *count = n;
  return GC_OK;
}
