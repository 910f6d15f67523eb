/* h5.c - the HDF5 reader's file level: the superblock, object headers and their messages,
 * groups (their links, in any of the three storages), paths and the names that error messages
 * give objects. The subset and the safety contract are stated in h5.h.
 *
 * Object names: a message names the object it was reading by its path when the object was
 * reached through gc_h5_open_path (a ring of the last H5_NAME_RING paths), else by its object
 * header address. Work: each public call may walk at most 4 x the file size plus 1 MB of
 * structure bytes (h5_spend), which stops loops and blocks shared many times over; groups'
 * sorted link tables are cached (H5_GROUP_CACHE), so looking up every child of a group is not
 * quadratic in its size. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/h5_priv.h"
#include "io/printable.h"

static const uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
#define MAX_HEADER_CHUNKS 1024 /* continuation blocks of one object header */

/* ---- errors, bounds, budget, checksums ---------------------------------------------------- */

gc_status h5_fail(gc_h5 *f, gc_status s, const char *fmt, ...) {
  if (!f->err || !f->errlen) return s;
  char msg[GC_ERRBUF_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gc_set_error(f->err, f->errlen, "%s: %s", f->label, msg);
  gc_io_printable(f->err);
  return s;
}

uint64_t h5_addr(const gc_h5 *f, h5_cur *c) {
  const uint8_t *p = h5_take(c, (uint64_t)f->osz);
  if (!p) return H5_UNDEF;
  for (int i = 0; i < f->osz; i++)
    if (p[i] != 0xff) return h5_le(p, f->osz);
  return H5_UNDEF;
}

const uint8_t *h5_at(gc_h5 *f, uint64_t addr, uint64_t len, const char *what) {
  if (addr == H5_UNDEF) {
    h5_fail(f, GC_ERR_H5, "the %s has no address (never written)", what);
    return NULL;
  }
  if (addr > f->n || len > f->n - addr) {
    h5_fail(f, GC_ERR_H5, "the %s at 0x%llx (%llu bytes) lies past the end of the file (%llu bytes)", what,
            (unsigned long long)addr, (unsigned long long)len, (unsigned long long)f->n);
    return NULL;
  }
  return f->b + addr;
}

gc_status h5_spend(gc_h5 *f, uint64_t bytes) {
  if (bytes < 16) bytes = 16;
  if (bytes > f->budget)
    return h5_fail(f, GC_ERR_H5, "its structures take more reading than the file's size allows "
                                 "(blocks that loop or are shared many times over)");
  f->budget -= bytes;
  return GC_OK;
}

#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

/* Bob Jenkins' lookup3 hashlittle(), which HDF5 uses for the checksums of its v2 structures;
 * the last 1..12 bytes are added as a zero-padded block, which is what its switch does */
uint32_t h5_lookup3(const uint8_t *k, size_t len, uint32_t init) {
  uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + (uint32_t)len + init;
  uint8_t tail[12];
  while (len > 0) {
    const uint8_t *q = k;
    size_t step = len > 12 ? 12 : len;
    if (step < 12) {
      memset(tail, 0, sizeof tail);
      memcpy(tail, k, step);
      q = tail;
    }
    a += (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    b += (uint32_t)q[4] | (uint32_t)q[5] << 8 | (uint32_t)q[6] << 16 | (uint32_t)q[7] << 24;
    c += (uint32_t)q[8] | (uint32_t)q[9] << 8 | (uint32_t)q[10] << 16 | (uint32_t)q[11] << 24;
    if (len <= 12) break; /* the last block goes to the final mix */
    a -= c, a ^= ROT(c, 4), c += b;
    b -= a, b ^= ROT(a, 6), a += c;
    c -= b, c ^= ROT(b, 8), b += a;
    a -= c, a ^= ROT(c, 16), c += b;
    b -= a, b ^= ROT(a, 19), a += c;
    c -= b, c ^= ROT(b, 4), b += a;
    len -= 12;
    k += 12;
  }
  if (len == 0) return c;
  c ^= b, c -= ROT(b, 14);
  a ^= c, a -= ROT(c, 11);
  b ^= a, b -= ROT(a, 25);
  c ^= b, c -= ROT(b, 16);
  a ^= c, a -= ROT(c, 4);
  b ^= a, b -= ROT(a, 14);
  c ^= b, c -= ROT(b, 24);
  return c;
}

gc_status h5_check_sum(gc_h5 *f, const uint8_t *p, size_t len, const char *what, uint64_t addr) {
  if (!f->checksums) return GC_OK;
  uint32_t want = (uint32_t)h5_le(p + len, 4), got = h5_lookup3(p, len, 0);
  if (want == got) return GC_OK;
  return h5_fail(f, GC_ERR_H5, "the %s at 0x%llx fails its checksum (stored %08x, computed %08x)", what,
                 (unsigned long long)addr, (unsigned)want, (unsigned)got);
}

/* ---- object names ------------------------------------------------------------------------ */

static const char *known_path(const gc_h5 *f, uint64_t addr) {
  for (int i = 0; i < H5_NAME_RING; i++)
    if (f->names[i].path && f->names[i].addr == addr) return f->names[i].path;
  return NULL;
}

static void remember(gc_h5 *f, uint64_t addr, const char *path) {
  const char *old = known_path(f, addr);
  if (old && !strcmp(old, path)) return;
  char *copy = malloc(strlen(path) + 1);
  if (!copy) return; /* only the messages lose the name */
  strcpy(copy, path);
  free(f->names[f->name_next].path);
  f->names[f->name_next].addr = addr;
  f->names[f->name_next].path = copy;
  f->name_next = (f->name_next + 1) % H5_NAME_RING;
}

static void set_label(gc_h5 *f, uint64_t addr) {
  const char *p = known_path(f, addr);
  if (p) snprintf(f->label, sizeof f->label, "'%s'", p);
  else snprintf(f->label, sizeof f->label, "object at 0x%llx", (unsigned long long)addr);
}

/* ---- object headers ---------------------------------------------------------------------- */

static gc_status add_msg(gc_h5 *f, h5_ohdr *h, int type, int flags, const uint8_t *p, size_t size) {
  if ((h->count & (h->count - 1)) == 0 && h->count >= 8) { /* grow at 8, 16, 32, ... */
    h5_msg *m = realloc(h->m, 2 * h->count * sizeof *m);
    if (!m) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading the object header");
    h->m = m;
  } else if (!h->m) {
    h->m = malloc(8 * sizeof *h->m);
    if (!h->m) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading the object header");
  }
  h->m[h->count].type = (uint16_t)type;
  h->m[h->count].flags = (uint8_t)flags;
  h->m[h->count].p = p;
  h->m[h->count].size = size;
  h->count++;
  return GC_OK;
}

typedef struct chunk_span {
  uint64_t addr, len;
} chunk_span;

/* the messages of one header chunk; continuation messages add chunks to `todo` */
static gc_status read_chunk(gc_h5 *f, h5_ohdr *h, const uint8_t *p, size_t n, int crt_order, chunk_span *todo,
                            int *ntodo) {
  h5_cur c = h5_cursor(p, n);
  const size_t mh = h->version == 1 ? 8 : (crt_order ? 6 : 4);
  while (h5_left(&c) >= mh) {
    int type, flags;
    uint64_t size;
    if (h->version == 1) {
      type = (int)h5_u(&c, 2), size = h5_u(&c, 2), flags = (int)h5_u(&c, 1);
      h5_u(&c, 3);
    } else {
      type = (int)h5_u(&c, 1), size = h5_u(&c, 2), flags = (int)h5_u(&c, 1);
      if (crt_order) h5_u(&c, 2);
    }
    const uint8_t *data = h5_take(&c, size);
    if (!data)
      return h5_fail(f, GC_ERR_H5, "object header at 0x%llx: message of type %d (%llu bytes) runs past its block",
                     (unsigned long long)h->addr, type, (unsigned long long)size);
    if (h->version == 1 && (size & 7)) h5_take(&c, 8 - (size & 7)); /* v1 messages are 8-byte aligned */
    if ((flags & 0x80) && type > 0x18)
      return h5_fail(f, GC_ERR_H5, "uses message type %d, which no HDF5 version read here defines", type);
    gc_status s = add_msg(f, h, type, flags, data, (size_t)size);
    if (s != GC_OK) return s;
    if (type == H5M_CONTINUATION) {
      h5_cur m = h5_cursor(data, (size_t)size);
      uint64_t a = h5_addr(f, &m), l = h5_u(&m, f->lsz);
      if (m.bad) return h5_fail(f, GC_ERR_H5, "object header at 0x%llx: truncated continuation message",
                                (unsigned long long)h->addr);
      if (*ntodo >= MAX_HEADER_CHUNKS)
        return h5_fail(f, GC_ERR_H5, "object header at 0x%llx has more than %d continuation blocks",
                       (unsigned long long)h->addr, MAX_HEADER_CHUNKS);
      todo[(*ntodo)++] = (chunk_span){a, l};
    }
  }
  return GC_OK;
}

gc_status h5_ohdr_read(gc_h5 *f, uint64_t addr, h5_ohdr *h) {
  memset(h, 0, sizeof *h);
  h->addr = addr;
  const uint8_t *p = h5_at(f, addr, 4, "object header"); /* a v2 header may be shorter than 16 */
  if (!p) return GC_ERR_H5;
  if (memcmp(p, "OHDR", 4) && !(p = h5_at(f, addr, 16, "object header"))) return GC_ERR_H5;
  chunk_span *spans = malloc((MAX_HEADER_CHUNKS + 1) * sizeof *spans);
  if (!spans) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading an object header");
  int nspans = 1, crt_order = 0;
  gc_status s = GC_OK;
  const uint8_t *first;
  uint64_t first_len;
  if (!memcmp(p, "OHDR", 4)) {
    const uint8_t *q = h5_at(f, addr, 6, "object header");
    if (!q) goto fail_h5;
    h->version = q[4];
    const int flags = q[5];
    uint64_t off = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    const int w = 1 << (flags & 3);
    if (!(q = h5_at(f, addr, off + (uint64_t)w, "object header"))) goto fail_h5;
    first_len = h5_le(q + off, w);
    off += (uint64_t)w;
    if (h->version != 2) {
      s = h5_fail(f, GC_ERR_H5, "object header at 0x%llx has version %d (2 is read here)", (unsigned long long)addr,
                  h->version);
      goto out;
    }
    if (first_len > f->n) {
      s = h5_fail(f, GC_ERR_H5, "object header at 0x%llx claims a first block of %llu bytes, more than the file",
                  (unsigned long long)addr, (unsigned long long)first_len);
      goto out;
    }
    if (!(q = h5_at(f, addr, off + first_len + 4, "object header"))) goto fail_h5;
    if ((s = h5_check_sum(f, q, (size_t)(off + first_len), "object header", addr)) != GC_OK) goto out;
    crt_order = (flags & 0x04) != 0;
    first = q + off;
    spans[0] = (chunk_span){addr, off + first_len + 4};
  } else if (p[0] == 1) {
    h->version = 1;
    first_len = h5_le(p + 8, 4);
    if (!(first = h5_at(f, addr + 16, first_len, "object header"))) goto fail_h5;
    spans[0] = (chunk_span){addr, 16 + first_len};
  } else {
    s = h5_fail(f, GC_ERR_H5, "no object header at 0x%llx (version byte %d)", (unsigned long long)addr, p[0]);
    goto out;
  }
  if ((s = h5_spend(f, spans[0].len)) != GC_OK) goto out;
  chunk_span *todo = spans + 1;
  int ntodo = 0, done = 0;
  if ((s = read_chunk(f, h, first, (size_t)first_len, crt_order, todo, &ntodo)) != GC_OK) goto out;
  while (done < ntodo) {
    chunk_span cs = todo[done++];
    const uint8_t *q = h5_at(f, cs.addr, cs.len, "object header continuation block");
    if (!q) goto fail_h5;
    /* a block that overlaps one already read is a loop (or damage): refuse it */
    for (int i = 0; i < nspans; i++)
      if (cs.addr < spans[i].addr + spans[i].len && spans[i].addr < cs.addr + cs.len) {
        s = h5_fail(f, GC_ERR_H5, "object header at 0x%llx: continuation block at 0x%llx overlaps a block "
                                  "already read (a continuation loop)",
                    (unsigned long long)addr, (unsigned long long)cs.addr);
        goto out;
      }
    nspans++;
    if ((s = h5_spend(f, cs.len)) != GC_OK) goto out;
    if (h->version == 1) {
      s = read_chunk(f, h, q, (size_t)cs.len, 0, todo, &ntodo);
    } else {
      if (cs.len < 8 || memcmp(q, "OCHK", 4)) {
        s = h5_fail(f, GC_ERR_H5, "object header at 0x%llx: no continuation block at 0x%llx",
                    (unsigned long long)addr, (unsigned long long)cs.addr);
        goto out;
      }
      if ((s = h5_check_sum(f, q, (size_t)cs.len - 4, "object header continuation block", cs.addr)) != GC_OK)
        goto out;
      s = read_chunk(f, h, q + 4, (size_t)cs.len - 8, crt_order, todo, &ntodo);
    }
    if (s != GC_OK) goto out;
  }
  free(spans);
  return GC_OK;
fail_h5:
  s = GC_ERR_H5;
out:
  free(spans);
  h5_ohdr_free(h);
  return s;
}

void h5_ohdr_free(h5_ohdr *h) {
  free(h->m);
  h->m = NULL;
  h->count = 0;
}

const h5_msg *h5_ohdr_find(const h5_ohdr *h, int type) {
  for (size_t i = 0; i < h->count; i++)
    if (h->m[i].type == type) return &h->m[i];
  return NULL;
}

gc_status h5_not_shared(gc_h5 *f, const h5_msg *m, const char *what) {
  if (m->flags & 0x02) return h5_fail(f, GC_ERR_H5, "its %s is a shared message, not read here", what);
  return GC_OK;
}

gc_status h5_enter(gc_h5 *f, gc_h5_obj obj, char *err, size_t errlen, h5_ohdr *h) {
  f->err = err;
  f->errlen = errlen;
  if (err && errlen) err[0] = 0;
  f->budget = 4 * f->n + (1u << 20);
  set_label(f, obj.addr);
  return h ? h5_ohdr_read(f, obj.addr, h) : GC_OK;
}

/* ---- the file ---------------------------------------------------------------------------- */

int gc_h5_is_hdf5(const void *bytes, size_t size) {
  return bytes && size >= sizeof kSignature && !memcmp(bytes, kSignature, sizeof kSignature);
}

static int size_ok(int s) { return s == 2 || s == 4 || s == 8; }

static gc_status read_superblock(gc_h5 *f) {
  const uint8_t *b = f->b;
  const int v = f->n > 8 ? b[8] : -1;
  uint64_t need = 9, base, eof, root;
  if (v == 0 || v == 1) {
    need = v == 1 ? 28 : 24;
    if (f->n >= need) f->osz = b[13], f->lsz = b[14];
  } else if (v == 2 || v == 3) {
    need = 12;
    if (f->n >= need) f->osz = b[9], f->lsz = b[10];
  } else if (v > 3) {
    return h5_fail(f, GC_ERR_H5, "superblock version %d is not read here (0 to 3 are)", v);
  }
  if (f->n >= need && (!size_ok(f->osz) || !size_ok(f->lsz)))
    return h5_fail(f, GC_ERR_H5, "sizes of addresses (%d) and lengths (%d) must be 2, 4 or 8 bytes", f->osz,
                   f->lsz);
  if (f->n >= need) need += 4u * (unsigned)f->osz + (v <= 1 ? 2u * (unsigned)f->osz + 24 : 4);
  if (f->n < need)
    return h5_fail(f, GC_ERR_H5, "truncated: the file has %llu bytes, the superblock needs %llu",
                   (unsigned long long)f->n, (unsigned long long)need);
  const size_t at = v <= 1 ? (v == 1 ? 28 : 24) : 12;
  h5_cur c = h5_cursor(b + at, (size_t)need - at);
  base = h5_addr(f, &c);
  h5_addr(f, &c); /* free-space info (v0/1) or superblock extension (v2/3): not needed to read */
  eof = h5_addr(f, &c);
  root = h5_addr(f, &c); /* v0/1: the driver information block; the root entry follows */
  if (v <= 1) {
    h5_addr(f, &c); /* the root entry's link name offset */
    root = h5_addr(f, &c);
  } else {
    gc_status s = h5_check_sum(f, b, 12 + 4 * (size_t)f->osz, "superblock", 0);
    if (s != GC_OK) return s;
  }
  if (base != 0)
    return h5_fail(f, GC_ERR_H5, "base address 0x%llx: files with a user block are not read here",
                   (unsigned long long)base);
  if (eof == H5_UNDEF || eof > f->n)
    return h5_fail(f, GC_ERR_H5, "the file is truncated: its superblock gives it %llu bytes, there are %llu",
                   (unsigned long long)eof, (unsigned long long)f->n);
  if (root == H5_UNDEF || root >= f->n)
    return h5_fail(f, GC_ERR_H5, "the root group's address 0x%llx is outside the file", (unsigned long long)root);
  f->sb_version = v;
  f->root = root;
  return GC_OK;
}

gc_status h5_open_opts(const void *bytes, size_t size, int checksums, gc_h5 **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out || (!bytes && size)) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!gc_h5_is_hdf5(bytes, size)) {
    gc_set_error(err, errlen, "not an HDF5 file (no HDF5 signature at its start)");
    return GC_ERR_H5;
  }
  gc_h5 *f = calloc(1, sizeof *f);
  if (!f) return GC_ERR_OUT_OF_MEMORY;
  f->b = bytes;
  f->n = size;
  f->checksums = checksums;
  f->err = err;
  f->errlen = errlen;
  f->budget = 4 * f->n + (1u << 20);
  snprintf(f->label, sizeof f->label, "the superblock");
  gc_status s = read_superblock(f);
  if (s == GC_OK) {
    remember(f, f->root, "/");
    set_label(f, f->root);
    h5_ohdr h;
    s = h5_ohdr_read(f, f->root, &h); /* a root group that does not read fails here, not later */
    h5_ohdr_free(&h);
  }
  if (s != GC_OK) {
    gc_h5_close(f);
    return s;
  }
  *out = f;
  return GC_OK;
}

gc_status gc_h5_open(const void *bytes, size_t size, gc_h5 **out, char *err, size_t errlen) {
  return h5_open_opts(bytes, size, 1, out, err, errlen);
}

void gc_h5_close(gc_h5 *f) {
  if (!f) return;
  for (int i = 0; i < H5_GROUP_CACHE; i++) {
    free(f->groups[i].links);
    free(f->groups[i].pool);
  }
  for (int i = 0; i < H5_NAME_RING; i++) free(f->names[i].path);
  free(f);
}

gc_h5_obj gc_h5_root(const gc_h5 *f) {
  gc_h5_obj o = {f ? f->root : H5_UNDEF};
  return o;
}

void h5_remember(gc_h5 *f, uint64_t addr, const char *path) { remember(f, addr, path); }
const char *h5_path_of(const gc_h5 *f, uint64_t addr) { return known_path(f, addr); }
