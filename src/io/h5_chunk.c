/* h5_chunk.c - the chunk indexes of chunked datasets: the v1 B-tree (layout message v3), and
 * those of layout message v4 (libver 'latest'): single chunk, implicit, fixed array,
 * extensible array and v2 B-tree. Each calls the visitor once per stored chunk with the chunk's
 * offset in elements; checking the chunk against the dataset is the visitor's job (h5_data.c).
 *
 * Fixed arrays, extensible arrays and implicit indexes number chunks in row-major order over
 * the grid of the maximum dimensions; an extensible array moves its unlimited dimension first
 * ("swizzled") when it is not already. */
#include <string.h>

#include "io/h5_priv.h"

typedef struct chunk_index {
  gc_h5 *f;
  const h5_chunked *c;
  h5_chunk_fn fn;
  void *ctx;
  int esize, size_len; /* entries of arrays and records of B-trees: their size, chunk size width */
  uint64_t grid[GC_H5_MAX_DIMS]; /* chunks per dimension over the maximum dimensions */
  int order[GC_H5_MAX_DIMS];     /* dimension order of the linear index (slowest first) */
} chunk_index;

/* the chunk numbered idx (row-major over grid in `order`) */
static gc_status visit(chunk_index *x, uint64_t idx, uint64_t addr, uint64_t size, uint32_t mask) {
  const h5_chunked *c = x->c;
  uint64_t off[GC_H5_MAX_DIMS];
  for (int k = c->ndims - 1; k >= 0; k--) {
    const int d = x->order[k];
    const uint64_t cells = k ? x->grid[d] : UINT64_MAX; /* the slowest dimension may be unlimited */
    const uint64_t cell = idx % cells;
    idx /= cells;
    if (cell >= (c->dims[d] + c->chunk[d] - 1) / c->chunk[d]) return GC_OK; /* beyond the current size */
    off[d] = cell * c->chunk[d];
  }
  return x->fn(x->ctx, off, addr, size, mask);
}

/* one entry of a fixed or extensible array: address [, filtered size, filter mask] */
static gc_status entry(chunk_index *x, const uint8_t *p, uint64_t idx) {
  h5_cur e = h5_cursor(p, (size_t)x->esize);
  const uint64_t addr = h5_addr(x->f, &e);
  uint64_t size = x->c->chunk_bytes;
  uint32_t mask = 0;
  if (x->c->filtered) size = h5_u(&e, x->size_len), mask = (uint32_t)h5_u(&e, 4);
  return addr == H5_UNDEF ? GC_OK : visit(x, idx, addr, size, mask);
}

static gc_status entry_size(chunk_index *x, int esize, const char *what) {
  x->esize = esize;
  x->size_len = esize - x->f->osz - 4;
  if (x->c->filtered ? x->size_len < 1 || x->size_len > 8 : esize != x->f->osz)
    return h5_fail(x->f, GC_ERR_H5, "its %s has entries of %d bytes", what, esize);
  return GC_OK;
}

/* a block (or header) of `head` bytes, n entries, `extra` bytes and a checksum at addr, with its
 * signature, version 0 and the array's client (filtered chunks or not): its entries */
static const uint8_t *array_block(chunk_index *x, uint64_t addr, uint64_t head, uint64_t n, uint64_t extra,
                                  const char *sig, const char *what) {
  gc_h5 *f = x->f;
  const uint64_t bytes = head + n * (uint64_t)x->esize + extra;
  const uint8_t *p = h5_at(f, addr, bytes + 4, what);
  if (!p) return NULL;
  if (memcmp(p, sig, 4) || p[4] != 0 || p[5] != x->c->filtered) {
    h5_fail(f, GC_ERR_H5, "no %s at 0x%llx", what, (unsigned long long)addr);
    return NULL;
  }
  if (h5_spend(f, bytes) != GC_OK || h5_check_sum(f, p, (size_t)bytes, what, addr) != GC_OK) return NULL;
  return p + head;
}

/* the pages of a paged array data block: they follow the block at `at`, each of `page` entries
 * (the last maybe fewer) and its checksum; page p exists if bit bit0 + p of `init` is set (most
 * significant bit first). Entry i of the block is chunk number first + i. */
static gc_status pages_of(chunk_index *x, uint64_t at, uint64_t n, uint64_t page, const uint8_t *init, uint64_t bit0,
                          uint64_t first) {
  gc_h5 *f = x->f;
  gc_status s = GC_OK;
  for (uint64_t pg = 0; pg * page < n && s == GC_OK; pg++) {
    const uint64_t count = n - pg * page < page ? n - pg * page : page, bit = bit0 + pg;
    if (init[bit / 8] & (0x80u >> (bit % 8))) {
      const uint8_t *q = h5_at(f, at, count * (uint64_t)x->esize + 4, "chunk index page");
      if (!q) return GC_ERR_H5;
      s = h5_spend(f, count * (uint64_t)x->esize);
      if (s == GC_OK) s = h5_check_sum(f, q, (size_t)count * (size_t)x->esize, "chunk index page", at);
      for (uint64_t i = 0; i < count && s == GC_OK; i++) s = entry(x, q + i * (uint64_t)x->esize, first + pg * page + i);
    }
    at += page * (uint64_t)x->esize + 4;
  }
  return s;
}

static gc_status fixed_array(chunk_index *x) {
  gc_h5 *f = x->f;
  const uint64_t size = 8 + (uint64_t)f->lsz + (uint64_t)f->osz;
  const uint8_t *p = array_block(x, x->c->addr, size, 0, 0, "FAHD", "fixed array header");
  if (!p) return GC_ERR_H5;
  p -= size;
  gc_status s = entry_size(x, p[6], "fixed array");
  if (s != GC_OK) return s;
  const int page_bits = p[7];
  h5_cur c = h5_cursor(p + 8, (size_t)(size - 8));
  const uint64_t n = h5_u(&c, f->lsz), data = h5_addr(f, &c);
  if (page_bits > 32 || n > f->n)
    return h5_fail(f, GC_ERR_H5, "its fixed array claims %llu entries in pages of 2^%d", (unsigned long long)n, page_bits);
  const uint64_t page = (uint64_t)1 << page_bits, pages = n > page ? (n + page - 1) / page : 0;
  const uint64_t head = 6 + (uint64_t)f->osz, bitmap = (pages + 7) / 8;
  const uint8_t *e = array_block(x, data, head + bitmap, pages ? 0 : n, 0, "FADB", "fixed array data block");
  if (!e) return GC_ERR_H5;
  if (!pages) {
    for (uint64_t i = 0; i < n && s == GC_OK; i++) s = entry(x, e + i * (uint64_t)x->esize, i);
    return s;
  }
  return pages_of(x, data + head + bitmap + 4, n, page, e - bitmap, 0, 0);
}

/* ---- extensible arrays ------------------------------------------------------------------- */

/* a data block of n entries; paged when n > page, its pages' bits in a super block's `init` */
static gc_status data_block(chunk_index *x, uint64_t addr, uint64_t first, uint64_t n, int off_size, uint64_t page,
                            const uint8_t *init, uint64_t bit0) {
  if (addr == H5_UNDEF) return GC_OK;
  const uint64_t head = 6 + (uint64_t)x->f->osz + (uint64_t)off_size;
  if (n > page && !init) /* index block data blocks are this small with libhdf5's parameters */
    return h5_fail(x->f, GC_ERR_H5, "its extensible array index block has paged data blocks, not read here");
  const uint8_t *e = array_block(x, addr, head, n > page ? 0 : n, 0, "EADB", "extensible array data block");
  if (!e) return GC_ERR_H5;
  if (n > page) return pages_of(x, addr + head + 4, n, page, init, bit0, first);
  gc_status s = GC_OK;
  for (uint64_t i = 0; i < n && s == GC_OK; i++) s = entry(x, e + i * (uint64_t)x->esize, first + i);
  return s;
}

static gc_status extensible_array(chunk_index *x) {
  gc_h5 *f = x->f;
  const uint64_t size = 12 + 6 * (uint64_t)f->lsz + (uint64_t)f->osz;
  const uint8_t *p = array_block(x, x->c->addr, size, 0, 0, "EAHD", "extensible array header");
  if (!p) return GC_ERR_H5;
  p -= size;
  gc_status s = entry_size(x, p[6], "extensible array");
  if (s != GC_OK) return s;
  const int max_bits = p[7], iblock_n = p[8], dmin = p[9], smin = p[10], page_bits = p[11];
  h5_cur c = h5_cursor(p + 12 + 4 * (uint64_t)f->lsz, (size_t)(2 * (uint64_t)f->lsz + (uint64_t)f->osz));
  const uint64_t max_set = h5_u(&c, f->lsz);
  h5_u(&c, f->lsz);
  const uint64_t iblock = h5_addr(f, &c);
  int dbits = 0, sbits = 0;
  while (dbits < 8 && (1 << dbits) < dmin) dbits++;
  while (sbits < 8 && (1 << sbits) < smin) sbits++;
  if (max_bits < dbits || max_bits > 48 || dmin < 1 || (1 << dbits) != dmin || smin < 1 || (1 << sbits) != smin ||
      page_bits > 32 || max_set > f->n)
    return h5_fail(f, GC_ERR_H5, "its extensible array has impossible parameters (%d bits, blocks of %d, %d pointers, "
                                 "%llu entries)", max_bits, dmin, smin, (unsigned long long)max_set);
  if (iblock == H5_UNDEF) return GC_OK;
  const int nsblks = 1 + max_bits - dbits, in_iblock = 2 * sbits, off_size = (max_bits + 7) / 8;
  const uint64_t ndblk = 2 * ((uint64_t)smin - 1), nsblk = nsblks > in_iblock ? (uint64_t)(nsblks - in_iblock) : 0;
  const uint64_t page = (uint64_t)1 << page_bits;
  /* the index block: its own entries, then data block and super block addresses */
  const int saved = x->esize;
  const uint8_t *e = array_block(x, iblock, 6 + (uint64_t)f->osz, iblock_n, (ndblk + nsblk) * f->osz, "EAIB",
                                 "extensible array index block");
  if (!e) return GC_ERR_H5;
  for (uint64_t i = 0; i < (uint64_t)iblock_n && i < max_set && s == GC_OK; i++) s = entry(x, e + i * (uint64_t)saved, i);
  x->esize = f->osz; /* the addresses after the entries, inside the block array_block checked */
  const uint8_t *addrs = e + (uint64_t)iblock_n * (uint64_t)saved;
  uint64_t first = (uint64_t)iblock_n, dblk = 0;
  for (int u = 0; u < nsblks && first < max_set && s == GC_OK; u++) {
    const uint64_t nd = (uint64_t)1 << (u / 2), ne = ((uint64_t)1 << ((u + 1) / 2)) * (uint64_t)dmin;
    const uint64_t npages = ne > page ? ne / page : 0, init_size = (npages + 7) / 8;
    const uint8_t *sb = NULL;
    if (u >= in_iblock) { /* a super block: page bits of its data blocks, then their addresses */
      h5_cur a = h5_cursor(addrs + (ndblk + (uint64_t)(u - in_iblock)) * f->osz, (size_t)f->osz);
      const uint64_t sba = h5_addr(f, &a);
      if (sba == H5_UNDEF) {
        first += nd * ne;
        continue;
      }
      if (!(sb = array_block(x, sba, 6 + (uint64_t)f->osz + (uint64_t)off_size + nd * init_size, nd, 0, "EASB",
                             "extensible array super block")))
        return GC_ERR_H5;
    }
    for (uint64_t j = 0; j < nd && first < max_set && s == GC_OK; j++, dblk++, first += ne) {
      h5_cur a = sb ? h5_cursor(sb + j * f->osz, (size_t)f->osz) : h5_cursor(addrs + dblk * f->osz, (size_t)f->osz);
      const uint64_t da = dblk < ndblk || sb ? h5_addr(f, &a) : H5_UNDEF;
      x->esize = saved;
      s = data_block(x, da, first, ne, off_size, page, sb ? sb - nd * init_size : NULL, j * npages);
      x->esize = f->osz;
    }
  }
  x->esize = saved;
  return s;
}

/* ---- v2 B-tree and the rest -------------------------------------------------------------- */

static gc_status btree2_record(void *ctx, const uint8_t *rec, size_t size) {
  chunk_index *x = ctx;
  const h5_chunked *c = x->c;
  h5_cur r = h5_cursor(rec, size);
  const uint64_t addr = h5_addr(x->f, &r);
  uint64_t bytes = c->chunk_bytes, off[GC_H5_MAX_DIMS];
  uint32_t mask = 0;
  if (c->filtered) bytes = h5_u(&r, (int)(size - (size_t)x->f->osz - 4 - 8 * (size_t)c->ndims)), mask = (uint32_t)h5_u(&r, 4);
  for (int k = 0; k < c->ndims; k++) {
    const uint64_t scaled = h5_u(&r, 8);
    if (scaled > c->dims[k] / c->chunk[k])
      return h5_fail(x->f, GC_ERR_H5, "a chunk in its v2 B-tree lies outside the dataset (dimension %d, chunk %llu)", k,
                     (unsigned long long)scaled);
    off[k] = scaled * c->chunk[k];
  }
  if (r.bad) return h5_fail(x->f, GC_ERR_H5, "its chunk B-tree has records of %zu bytes", size);
  return addr == H5_UNDEF ? GC_OK : x->fn(x->ctx, off, addr, bytes, mask);
}

gc_status h5_chunks_each(gc_h5 *f, const h5_chunked *c, h5_chunk_fn fn, void *ctx) {
  chunk_index x = {f, c, fn, ctx, 0, 0, {0}, {0}};
  uint64_t total = 1; /* chunks over the maximum dimensions (fixed and implicit indexes) */
  int unlimited = -1;
  for (int k = 0; k < c->ndims; k++) {
    x.order[k] = k;
    const uint64_t m = c->max[k] == H5_UNDEF ? c->dims[k] : c->max[k];
    if (c->max[k] == H5_UNDEF && unlimited < 0) unlimited = k;
    x.grid[k] = m / c->chunk[k] + (m % c->chunk[k] != 0);
    total = x.grid[k] && total > UINT64_MAX / x.grid[k] ? UINT64_MAX : total * x.grid[k];
  }
  if (c->addr == H5_UNDEF) return GC_OK; /* no chunk written */
  switch (c->version == 3 ? 0 : c->index) {
    case 0: return h5_btree1_chunks(f, c->addr, c->ndims, fn, ctx);
    case 1: {
      const uint64_t zero[GC_H5_MAX_DIMS] = {0};
      return fn(ctx, zero, c->addr, c->filtered ? c->single_size : c->chunk_bytes, c->filtered ? c->single_mask : 0);
    }
    case 2:
      if (c->filtered) return h5_fail(f, GC_ERR_H5, "has filters and an implicit chunk index");
      if (total > f->n / c->chunk_bytes)
        return h5_fail(f, GC_ERR_H5, "its %llu implicitly indexed chunks cannot fit in the file", (unsigned long long)total);
      for (uint64_t i = 0; i < total; i++) {
        gc_status s = visit(&x, i, c->addr + i * c->chunk_bytes, c->chunk_bytes, 0);
        if (s != GC_OK) return s;
      }
      return GC_OK;
    case 3: return fixed_array(&x);
    case 4:
      if (unlimited > 0) { /* the unlimited dimension goes first, the others keep their order */
        for (int k = unlimited; k > 0; k--) x.order[k] = x.order[k - 1];
        x.order[0] = unlimited;
      }
      return extensible_array(&x);
    default: return h5_btree2_walk(f, c->addr, c->filtered ? 11 : 10, btree2_record, &x);
  }
}
