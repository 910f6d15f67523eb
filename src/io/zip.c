/* zip.c - the ZIP reader (.keras archives): see zip.h for what is read and the safety contract.
 *
 * gc_zip_open reads the end record (ZIP64 too), the central directory and every local header,
 * and refuses an archive whose entries point outside it or into each other (entries must lie one
 * after another before the central directory: overlapping entries would let a small archive
 * inflate the same bytes many times over), whose names leave the archive or repeat, or whose
 * declared sizes no deflate stream could reach. gc_zip_extract then inflates into a buffer of
 * exactly the declared size and checks the CRC-32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/inflate.h"
#include "io/printable.h"
#include "io/zip.h"

#define MAX_RATIO 1032u /* deflate's largest expansion */

typedef struct zip_entry {
  char *name;
  uint64_t csize, usize, local, data;
  uint32_t crc;
  int method, flags;
} zip_entry;

struct gc_zip {
  const uint8_t *b;
  uint64_t n;
  int count;
  zip_entry *e;
  zip_entry **sorted; /* by name, for gc_zip_find */
  char *names;
};

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

uint32_t gc_zip_crc32(uint32_t crc, const void *data, size_t size) {
  static const uint32_t nibble[16] = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
                                      0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                                      0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < size; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ nibble[crc & 15];
    crc = (crc >> 4) ^ nibble[crc & 15];
  }
  return ~crc;
}

int gc_zip_is_zip(const void *bytes, size_t size) {
  return bytes && size >= 4 && (!memcmp(bytes, "PK\3\4", 4) || (size >= 22 && !memcmp(bytes, "PK\5\6", 4)));
}

/* names that could leave the archive when extracted, or that C strings cannot hold */
static const char *bad_name(const uint8_t *p, size_t n) {
  if (n == 0) return "is empty";
  if (memchr(p, 0, n)) return "holds a NUL byte";
  if (p[0] == '/') return "is an absolute path";
  if (memchr(p, '\\', n)) return "holds a backslash";
  if (n >= 2 && p[1] == ':') return "starts with a drive letter";
  for (size_t i = 0; i < n;) { /* a ".." component */
    size_t j = i;
    while (j < n && p[j] != '/') j++;
    if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') return "has a '..' component (a path outside the archive)";
    i = j + 1;
  }
  return NULL;
}

/* the ZIP64 extra field: the 64-bit values of the fields whose 32-bit form is all ones */
static int zip64_extra(const uint8_t *x, size_t n, zip_entry *e, int need_u, int need_c, int need_off) {
  for (size_t i = 0; i + 4 <= n;) {
    const size_t id = (size_t)le(x + i, 2), len = (size_t)le(x + i + 2, 2);
    if (len > n - i - 4) return 0;
    if (id == 1) {
      const uint8_t *p = x + i + 4;
      size_t at = 0;
      if (need_u) at += 8, e->usize = at <= len ? le(p + at - 8, 8) : 0;
      if (need_c) at += 8, e->csize = at <= len ? le(p + at - 8, 8) : 0;
      if (need_off) at += 8, e->local = at <= len ? le(p + at - 8, 8) : 0;
      return at <= len;
    }
    i += 4 + len;
  }
  return !(need_u || need_c || need_off);
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(const zip_entry *const *)a)->name, (*(const zip_entry *const *)b)->name);
}
static int by_offset(const void *a, const void *b) { /* ties in directory order: messages are stable */
  const zip_entry *x = *(const zip_entry *const *)a, *y = *(const zip_entry *const *)b;
  if (x->local != y->local) return x->local > y->local ? 1 : -1;
  return (x > y) - (x < y);
}

/* the central directory's place and size, from the end record (or its ZIP64 form) */
static gc_status find_directory(const uint8_t *b, uint64_t n, uint64_t *cd, uint64_t *cd_size, uint64_t *count,
                                char *err, size_t errlen) {
  uint64_t at = UINT64_MAX;
  for (uint64_t i = n >= 22 ? n - 22 : 0; n >= 22; i--) {
    if (!memcmp(b + i, "PK\5\6", 4) && 22 + le(b + i + 20, 2) <= n - i) {
      at = i;
      break;
    }
    if (i == 0 || n - i >= 22 + 65535) break;
  }
  if (at == UINT64_MAX) {
    gc_set_error(err, errlen, "no end-of-central-directory record: not a ZIP archive, or truncated");
    return GC_ERR_ZIP;
  }
  const uint8_t *e = b + at;
  if (le(e + 4, 2) || le(e + 6, 2) || le(e + 8, 2) != le(e + 10, 2)) {
    gc_set_error(err, errlen, "a multi-disk archive, not read here");
    return GC_ERR_ZIP;
  }
  *count = le(e + 10, 2), *cd_size = le(e + 12, 4), *cd = le(e + 16, 4);
  if (*count == 0xffff || *cd_size == 0xffffffff || *cd == 0xffffffff) {
    const uint8_t *loc = at >= 20 ? b + at - 20 : NULL;
    const uint64_t z = loc ? le(loc + 8, 8) : 0;
    if (!loc || memcmp(loc, "PK\6\7", 4) || z > n || n - z < 56 || memcmp(b + z, "PK\6\6", 4)) {
      gc_set_error(err, errlen, "the ZIP64 end record is missing or points outside the archive");
      return GC_ERR_ZIP;
    }
    if (le(loc + 4, 4) || le(loc + 16, 4) > 1 || le(b + z + 16, 4) || le(b + z + 20, 4) ||
        le(b + z + 24, 8) != le(b + z + 32, 8)) {
      gc_set_error(err, errlen, "a multi-disk archive, not read here");
      return GC_ERR_ZIP;
    }
    *count = le(b + z + 32, 8), *cd_size = le(b + z + 40, 8), *cd = le(b + z + 48, 8);
    at = z;
  }
  if (*cd > at || *cd_size > at - *cd || *count > *cd_size / 46) {
    gc_set_error(err, errlen, "the central directory (%llu entries, %llu bytes at %llu) does not fit the archive",
                 (unsigned long long)*count, (unsigned long long)*cd_size, (unsigned long long)*cd);
    return GC_ERR_ZIP;
  }
  return GC_OK;
}

static gc_status read_entries(gc_zip *z, uint64_t cd, uint64_t cd_size, char *err, size_t errlen) {
  const uint8_t *p = z->b + cd, *end = p + cd_size;
  size_t used = 0;
  for (int i = 0; i < z->count; i++) {
    zip_entry *e = &z->e[i];
    if (end - p < 46 || memcmp(p, "PK\1\2", 4)) {
      gc_set_error(err, errlen, "central directory entry %d is damaged or truncated", i);
      return GC_ERR_ZIP;
    }
    const size_t nlen = (size_t)le(p + 28, 2), xlen = (size_t)le(p + 30, 2), clen = (size_t)le(p + 32, 2);
    if ((size_t)(end - p) - 46 < nlen + xlen + clen) {
      gc_set_error(err, errlen, "central directory entry %d runs past the directory", i);
      return GC_ERR_ZIP;
    }
    e->flags = (int)le(p + 8, 2), e->method = (int)le(p + 10, 2), e->crc = (uint32_t)le(p + 16, 4);
    e->csize = le(p + 20, 4), e->usize = le(p + 24, 4), e->local = le(p + 42, 4);
    const char *why = bad_name(p + 46, nlen);
    if (why) {
      gc_set_error(err, errlen, "entry '%.*s' is refused: its name %s", (int)(nlen > 100 ? 100 : nlen), p + 46, why);
      return GC_ERR_ZIP;
    }
    e->name = z->names + used;
    memcpy(e->name, p + 46, nlen);
    e->name[nlen] = 0;
    used += nlen + 1;
    if (!zip64_extra(p + 46 + nlen, xlen, e, e->usize == 0xffffffff, e->csize == 0xffffffff, e->local == 0xffffffff) ||
        le(p + 34, 2) != 0) {
      gc_set_error(err, errlen, "entry '%s': its ZIP64 sizes are missing or it is on another disk", e->name);
      return GC_ERR_ZIP;
    }
    p += 46 + nlen + xlen + clen;
  }
  return GC_OK;
}

/* each local header matches its entry, and entries follow one another before the directory */
static gc_status check_layout(gc_zip *z, uint64_t cd, char *err, size_t errlen) {
  zip_entry **order = malloc((size_t)(z->count ? z->count : 1) * sizeof *order);
  if (!order) return GC_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < z->count; i++) order[i] = z->sorted[i] = &z->e[i];
  gc_status s = GC_OK;
  qsort(z->sorted, (size_t)z->count, sizeof *order, by_name);
  for (int i = 1; i < z->count && s == GC_OK; i++)
    if (!strcmp(z->sorted[i - 1]->name, z->sorted[i]->name)) {
      gc_set_error(err, errlen, "entry '%s' appears twice in the archive", z->sorted[i]->name);
      s = GC_ERR_ZIP;
    }
  qsort(order, (size_t)z->count, sizeof *order, by_offset);
  uint64_t free_from = 0;
  for (int i = 0; i < z->count && s == GC_OK; i++) {
    zip_entry *e = order[i];
    const uint8_t *l = z->b + (e->local <= cd ? e->local : 0);
    const size_t nlen = strlen(e->name);
    const char *why = NULL;
    if (e->local < free_from) why = "overlaps the entry before it";
    else if (e->local > cd || cd - e->local < 30 || memcmp(l, "PK\3\4", 4)) why = "has no local header";
    else if (le(l + 26, 2) != nlen || cd - e->local - 30 < nlen + le(l + 28, 2) || memcmp(l + 30, e->name, nlen))
      why = "has a local header that names another entry";
    else if ((e->data = e->local + 30 + nlen + le(l + 28, 2)) > cd || e->csize > cd - e->data)
      why = "has data that runs past the start of the central directory";
    else if (e->method == 0 && e->csize != e->usize) why = "is stored with different compressed and declared sizes";
    else if (e->method == 8 && e->usize > (uint64_t)MAX_RATIO * e->csize + 16)
      why = "declares more bytes than its compressed data could inflate to";
    if (why) {
      gc_set_error(err, errlen, "entry '%s' %s", e->name, why);
      s = GC_ERR_ZIP;
    }
    free_from = e->data + e->csize;
  }
  free(order);
  return s;
}

gc_status gc_zip_open(const void *bytes, size_t size, gc_zip **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out || (!bytes && size)) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  uint64_t cd, cd_size, count;
  gc_status s = find_directory(bytes, size, &cd, &cd_size, &count, err, errlen);
  if (s != GC_OK) return s;
  if (count > 0x7fffffff) return GC_ERR_OUT_OF_MEMORY;
  gc_zip *z = calloc(1, sizeof *z);
  if (!z) return GC_ERR_OUT_OF_MEMORY;
  z->b = bytes;
  z->n = size;
  z->count = (int)count; /* count <= cd_size / 46, within an image in memory */
  z->e = calloc((size_t)count + 1, sizeof *z->e);
  z->sorted = malloc(((size_t)count + 1) * sizeof *z->sorted);
  z->names = malloc((size_t)cd_size + 1); /* the names come from the directory */
  if (!z->e || !z->sorted || !z->names) s = GC_ERR_OUT_OF_MEMORY;
  if (s == GC_OK) s = read_entries(z, cd, cd_size, err, errlen);
  if (s == GC_OK) s = check_layout(z, cd, err, errlen);
  if (s != GC_OK) {
    if (s == GC_ERR_OUT_OF_MEMORY) gc_set_error(err, errlen, "out of memory reading the ZIP directory");
    if (err && errlen) gc_io_printable(err);
    gc_zip_close(z);
    return s;
  }
  *out = z;
  return GC_OK;
}

void gc_zip_close(gc_zip *z) {
  if (!z) return;
  free(z->e);
  free(z->sorted);
  free(z->names);
  free(z);
}

int gc_zip_count(const gc_zip *z) { return z ? z->count : 0; }
const char *gc_zip_name(const gc_zip *z, int i) { return z && i >= 0 && i < z->count ? z->e[i].name : NULL; }
uint64_t gc_zip_size(const gc_zip *z, int i) { return z && i >= 0 && i < z->count ? z->e[i].usize : 0; }

int gc_zip_find(const gc_zip *z, const char *name) {
  if (!z || !name) return -1;
  int lo = 0, hi = z->count;
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2, c = strcmp(z->sorted[mid]->name, name);
    if (c == 0) return (int)(z->sorted[mid] - z->e);
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static gc_status extract(gc_zip *z, int i, uint8_t **data, size_t *size, char *err, size_t errlen);

gc_status gc_zip_extract(gc_zip *z, int i, uint8_t **data, size_t *size, char *err, size_t errlen) {
  gc_status s = extract(z, i, data, size, err, errlen);
  if (s != GC_OK && err && errlen) gc_io_printable(err);
  return s;
}

static gc_status extract(gc_zip *z, int i, uint8_t **data, size_t *size, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!z || !data || !size || i < 0 || i >= z->count) return GC_ERR_INVALID_ARGUMENT;
  *data = NULL;
  *size = 0;
  const zip_entry *e = &z->e[i];
  if (e->flags & 1) {
    gc_set_error(err, errlen, "entry '%s' is encrypted, which is not read here", e->name);
    return GC_ERR_ZIP;
  }
  if (e->method != 0 && e->method != 8) {
    gc_set_error(err, errlen, "entry '%s' uses compression method %d (stored and deflate are read)", e->name, e->method);
    return GC_ERR_ZIP;
  }
  uint8_t *out = e->usize < SIZE_MAX ? malloc((size_t)e->usize + 1) : NULL; /* 32-bit size_t: wasm */
  if (!out) {
    gc_set_error(err, errlen, "out of memory for entry '%s' (%llu bytes)", e->name, (unsigned long long)e->usize);
    return GC_ERR_OUT_OF_MEMORY;
  }
  const uint8_t *src = z->b + e->data;
  if (e->method == 0) {
    memcpy(out, src, (size_t)e->usize);
  } else {
    size_t got;
    const char *why;
    gc_inflate_result r = gc_inflate(src, (size_t)e->csize, out, (size_t)e->usize, 0, &got, &why);
    if (r != GC_INFLATE_OK || got != e->usize) {
      if (r == GC_INFLATE_TOO_LONG)
        gc_set_error(err, errlen, "entry '%s' inflates past its declared size of %llu bytes", e->name,
                     (unsigned long long)e->usize);
      else if (r == GC_INFLATE_OK)
        gc_set_error(err, errlen, "entry '%s' inflates to %zu bytes, not its declared %llu", e->name, got,
                     (unsigned long long)e->usize);
      else
        gc_set_error(err, errlen, "entry '%s' does not inflate (%s)", e->name, r == GC_INFLATE_CORRUPT ? why : "over 2 GB");
      free(out);
      return GC_ERR_ZIP;
    }
  }
  const uint32_t crc = gc_zip_crc32(0, out, (size_t)e->usize);
  if (crc != e->crc) {
    gc_set_error(err, errlen, "entry '%s' fails its CRC-32 check (stored %08x, computed %08x)", e->name,
                 (unsigned)e->crc, (unsigned)crc);
    free(out);
    return GC_ERR_ZIP;
  }
  *data = out;
  *size = (size_t)e->usize;
  return GC_OK;
}
