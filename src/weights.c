/* weights.c - the project weights format: read, verify, write, float16 <-> float32.
 *
 * File layout (all integers little-endian; full description in weights/README.md):
 *
 *   header, 64 bytes
 *     0  char[8]  magic "GCAMWTS\0"
 *     8  u32      format version (1)
 *    12  u32      header size (64)
 *    16  char[16] model name, NUL padded ("xception")
 *    32  u32      tensor count
 *    36  u32      table entry size (128)
 *    40  u64      data offset (multiple of 64, just after the table)
 *    48  u64      data size in bytes
 *    56  u64      FNV-1a 64-bit hash of everything after the header (table and data)
 *   tensor table, count x 128 bytes
 *     0  char[80] name, NUL terminated ("block2_sepconv1/pointwise_kernel")
 *    80  u32      dtype (0 = float32, 1 = float16)
 *    84  u32      number of dimensions (1..4)
 *    88  u32[4]   dimensions (unused ones 0)
 *   104  u64      offset of the tensor within the data section (multiple of 64)
 *   112  u64      size in bytes
 *   120  u64      reserved, 0
 *   data section: the tensors, each 64-byte aligned; the file ends with it.
 *
 * Tensors are stored in the layouts XNNPACK consumes (transposed once by the converter):
 * convolution kernels [out][kh][kw][in], depthwise kernels [1][kh][kw][channels], the dense
 * kernel [out][in]. Batch-norm statistics are stored unfolded and folded at load time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

uint64_t gc_fnv1a64(const void *data, size_t size) {
  const uint8_t *p = data;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

float gc_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: renormalise */
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        exp--;
      }
      man &= 0x3ff;
      bits = sign | exp << 23 | man << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t gc_float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0); /* inf/nan */
  if (absx >= 0x477ff000u) return sign | 0x7c00; /* rounds to >= 65520: overflow to inf */
  if (absx < 0x38800000u) {                      /* below the smallest normal half */
    if (absx < 0x33000000u) return sign;         /* rounds to zero */
    uint32_t e = absx >> 23;
    uint32_t m = (absx & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e; /* 14..24 */
    uint32_t half = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return sign | (uint16_t)half;
  }
  uint32_t r = absx + 0xfff + ((absx >> 13) & 1); /* round to nearest even */
  return sign | (uint16_t)(((r >> 13) - ((127 - 15) << 10)) & 0x7fff);
}

gc_status gc_weights_parse(const void *bytes, size_t size, gc_weights *out, char *err,
                           size_t errlen) {
  memset(out, 0, sizeof *out);
  const uint8_t *b = bytes;
  if (!bytes && size) return GC_ERR_INVALID_ARGUMENT;
  if (size < 8 || memcmp(b, GC_WEIGHTS_MAGIC, 8) != 0) {
    if (size >= 4 && memcmp(b, "\x89HDF", 4) == 0) {
      gc_set_error(err, errlen, "this is an HDF5 file (Keras weights?); convert it first");
      return GC_ERR_WEIGHTS_MAGIC;
    }
    if (size < 8 && (size == 0 || memcmp(b, GC_WEIGHTS_MAGIC, size) == 0)) {
      gc_set_error(err, errlen, "file is %zu bytes, shorter than the 64-byte header", size);
      return GC_ERR_WEIGHTS_TRUNCATED;
    }
    gc_set_error(err, errlen, "the file does not start with the bytes GCAMWTS");
    return GC_ERR_WEIGHTS_MAGIC;
  }
  if (size < GC_WEIGHTS_HEADER_SIZE) {
    gc_set_error(err, errlen, "file is %zu bytes, shorter than the 64-byte header", size);
    return GC_ERR_WEIGHTS_TRUNCATED;
  }
  uint32_t version = rd32(b + 8);
  if (version != GC_WEIGHTS_VERSION) {
    gc_set_error(err, errlen, "format version %u; this build reads version %d", version,
                 GC_WEIGHTS_VERSION);
    return GC_ERR_WEIGHTS_VERSION;
  }
  char model[17];
  memcpy(model, b + 16, 16);
  model[16] = 0;
  if (strcmp(model, GC_WEIGHTS_MODEL) != 0) {
    gc_set_error(err, errlen, "weights are for model '%.16s', not '%s'", model, GC_WEIGHTS_MODEL);
    return GC_ERR_WEIGHTS_MODEL;
  }
  uint32_t header_size = rd32(b + 12), count = rd32(b + 32), entry_size = rd32(b + 36);
  uint64_t data_offset = rd64(b + 40), data_size = rd64(b + 48), checksum = rd64(b + 56);
  if (header_size != GC_WEIGHTS_HEADER_SIZE || entry_size != GC_WEIGHTS_ENTRY_SIZE ||
      count == 0 || count > 100000 || data_offset % GC_WEIGHTS_ALIGN != 0 ||
      data_offset < GC_WEIGHTS_HEADER_SIZE + (uint64_t)count * GC_WEIGHTS_ENTRY_SIZE) {
    gc_set_error(err, errlen, "malformed header (count %u, data offset %llu)", count,
                 (unsigned long long)data_offset);
    return GC_ERR_WEIGHTS_CORRUPT;
  }
  if (data_offset > size || data_size > size - data_offset) {
    gc_set_error(err, errlen, "file is %zu bytes but its header describes %llu", size,
                 (unsigned long long)(data_offset + data_size));
    return GC_ERR_WEIGHTS_TRUNCATED;
  }
  if (data_offset + data_size != size) {
    gc_set_error(err, errlen, "%llu unexpected bytes after the data section",
                 (unsigned long long)(size - data_offset - data_size));
    return GC_ERR_WEIGHTS_CORRUPT;
  }
  const uint8_t *data = b + data_offset;
  uint64_t actual = gc_fnv1a64(b + GC_WEIGHTS_HEADER_SIZE, size - GC_WEIGHTS_HEADER_SIZE);
  if (actual != checksum) {
    gc_set_error(err, errlen, "stored %016llx, computed %016llx: the file is damaged or incomplete (get it again)",
                 (unsigned long long)checksum, (unsigned long long)actual);
    return GC_ERR_WEIGHTS_CHECKSUM;
  }
  gc_weights_entry *e = calloc(count, sizeof *e);
  if (!e) return GC_ERR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *t = b + GC_WEIGHTS_HEADER_SIZE + (size_t)i * GC_WEIGHTS_ENTRY_SIZE;
    memcpy(e[i].name, t, GC_WEIGHTS_NAME_SIZE);
    e[i].dtype = rd32(t + 80);
    e[i].ndim = rd32(t + 84);
    for (int d = 0; d < GC_MAX_DIMS; d++) e[i].dims[d] = rd32(t + 88 + 4 * d);
    e[i].offset = rd64(t + 104);
    e[i].nbytes = rd64(t + 112);
    uint64_t elems = 1;
    int bad = memchr(e[i].name, 0, GC_WEIGHTS_NAME_SIZE) == NULL || e[i].name[0] == 0 ||
              e[i].dtype > GC_DTYPE_F16 || e[i].ndim < 1 || e[i].ndim > GC_MAX_DIMS ||
              e[i].offset % GC_WEIGHTS_ALIGN != 0 || e[i].offset > data_size ||
              e[i].nbytes > data_size - e[i].offset;
    /* elems stays <= data_size: four dims of up to 2^24 would overflow 64 bits and wrap */
    for (uint32_t d = 0; !bad && d < e[i].ndim; d++) {
      if (e[i].dims[d] == 0 || e[i].dims[d] > (1u << 24) || elems > data_size / e[i].dims[d]) bad = 1;
      else elems *= e[i].dims[d];
    }
    if (!bad && elems * (e[i].dtype == GC_DTYPE_F16 ? 2 : 4) != e[i].nbytes) bad = 1;
    if (bad) {
      gc_set_error(err, errlen,
                   "tensor table entry %u ('%.40s') is malformed: dtype %u, %u dimensions, offset %llu, %llu bytes", i,
                   e[i].name, e[i].dtype, e[i].ndim, (unsigned long long)e[i].offset,
                   (unsigned long long)e[i].nbytes);
      free(e);
      return GC_ERR_WEIGHTS_CORRUPT;
    }
  }
  out->data = data;
  out->data_size = data_size;
  out->count = count;
  out->entries = e;
  return GC_OK;
}

static void format_dims(char *buf, size_t len, int ndim, const uint32_t *udims, const int *idims) {
  size_t n = 0;
  buf[0] = 0;
  n += (size_t)snprintf(buf + n, len - n, "[");
  for (int d = 0; d < ndim && n < len; d++)
    n += (size_t)snprintf(buf + n, len - n, d ? ",%ld" : "%ld",
                          udims ? (long)udims[d] : (long)idims[d]);
  if (n < len) snprintf(buf + n, len - n, "]");
}

gc_status gc_weights_get(const gc_weights *w, const char *name, int ndim, const int *dims,
                         float **out, char *err, size_t errlen) {
  *out = NULL;
  const gc_weights_entry *e = NULL;
  for (uint32_t i = 0; i < w->count; i++)
    if (strcmp(w->entries[i].name, name) == 0) {
      e = &w->entries[i];
      break;
    }
  if (!e) {
    gc_set_error(err, errlen, "tensor '%s' is missing", name);
    return GC_ERR_WEIGHTS_MISSING;
  }
  int same = (int)e->ndim == ndim;
  for (int d = 0; same && d < ndim; d++) same = (int)e->dims[d] == dims[d];
  if (!same) {
    char have[64], want[64];
    format_dims(have, sizeof have, (int)e->ndim, e->dims, NULL);
    format_dims(want, sizeof want, ndim, NULL, dims);
    gc_set_error(err, errlen, "tensor '%s' has shape %s, expected %s", name, have, want);
    return GC_ERR_WEIGHTS_SHAPE;
  }
  size_t n = gc_tensor_count(ndim, dims);
  float *f = malloc(n * sizeof *f + 64);
  if (!f) return GC_ERR_OUT_OF_MEMORY;
  const uint8_t *src = w->data + e->offset;
  if (e->dtype == GC_DTYPE_F32) {
    memcpy(f, src, n * sizeof *f);
  } else {
    for (size_t i = 0; i < n; i++) f[i] = gc_half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
  }
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(f[i])) {
      gc_set_error(err, errlen, "tensor '%s' holds a non-finite value at element %zu", name, i);
      free(f);
      return GC_ERR_WEIGHTS_CORRUPT;
    }
  }
  *out = f;
  return GC_OK;
}

void gc_weights_release(gc_weights *w) {
  free(w->entries);
  memset(w, 0, sizeof *w);
}

gc_status gc_weights_write(const gc_tensor_spec *specs, const float *const *data, int count,
                           gc_dtype dtype, void **bytes, size_t *size) {
  *bytes = NULL;
  *size = 0;
  if (count <= 0 || (dtype != GC_DTYPE_F32 && dtype != GC_DTYPE_F16)) return GC_ERR_INVALID_ARGUMENT;
  const size_t esize = dtype == GC_DTYPE_F16 ? 2 : 4;
  uint64_t data_offset = GC_WEIGHTS_HEADER_SIZE + (uint64_t)count * GC_WEIGHTS_ENTRY_SIZE;
  data_offset = (data_offset + GC_WEIGHTS_ALIGN - 1) / GC_WEIGHTS_ALIGN * GC_WEIGHTS_ALIGN;
  uint64_t data_size = 0;
  for (int i = 0; i < count; i++) {
    data_size += gc_tensor_count(specs[i].ndim, specs[i].dims) * esize;
    if (i + 1 < count) data_size = (data_size + GC_WEIGHTS_ALIGN - 1) / GC_WEIGHTS_ALIGN * GC_WEIGHTS_ALIGN;
  }
  uint8_t *b = calloc(1, (size_t)(data_offset + data_size));
  if (!b) return GC_ERR_OUT_OF_MEMORY;
  memcpy(b, GC_WEIGHTS_MAGIC, 8);
  wr32(b + 8, GC_WEIGHTS_VERSION);
  wr32(b + 12, GC_WEIGHTS_HEADER_SIZE);
  memcpy(b + 16, GC_WEIGHTS_MODEL, strlen(GC_WEIGHTS_MODEL));
  wr32(b + 32, (uint32_t)count);
  wr32(b + 36, GC_WEIGHTS_ENTRY_SIZE);
  wr64(b + 40, data_offset);
  wr64(b + 48, data_size);
  uint64_t off = 0;
  for (int i = 0; i < count; i++) {
    uint8_t *t = b + GC_WEIGHTS_HEADER_SIZE + (size_t)i * GC_WEIGHTS_ENTRY_SIZE;
    size_t n = gc_tensor_count(specs[i].ndim, specs[i].dims);
    snprintf((char *)t, GC_WEIGHTS_NAME_SIZE, "%s", specs[i].name);
    wr32(t + 80, (uint32_t)dtype);
    wr32(t + 84, (uint32_t)specs[i].ndim);
    for (int d = 0; d < specs[i].ndim; d++) wr32(t + 88 + 4 * d, (uint32_t)specs[i].dims[d]);
    wr64(t + 104, off);
    wr64(t + 112, n * esize);
    uint8_t *dst = b + data_offset + off;
    if (dtype == GC_DTYPE_F32) {
      memcpy(dst, data[i], n * 4);
    } else {
      for (size_t k = 0; k < n; k++) {
        uint16_t h = gc_float_to_half(data[i][k]);
        dst[2 * k] = (uint8_t)h;
        dst[2 * k + 1] = (uint8_t)(h >> 8);
      }
    }
    off += n * esize;
    off = (off + GC_WEIGHTS_ALIGN - 1) / GC_WEIGHTS_ALIGN * GC_WEIGHTS_ALIGN;
  }
  wr64(b + 56, gc_fnv1a64(b + GC_WEIGHTS_HEADER_SIZE, (size_t)(data_offset + data_size) - GC_WEIGHTS_HEADER_SIZE));
  *bytes = b;
  *size = (size_t)(data_offset + data_size);
  return GC_OK;
}
