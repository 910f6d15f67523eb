/* weights.c - the project weights format: read, verify, write, float16 <-> float32.
 *
 * File layout (all integers little-endian; full description in weights/README.md):
 *
 *   header, 64 bytes
 *     0  char[8]  magic "GCAMWTS\0"
 *     8  u32      format version (1 or 2)
 *    12  u32      header size (64)
 *    16  char[16] model name, NUL padded ("xception")
 *    32  u32      tensor count
 *    36  u32      table entry size (128)
 *    40  u64      data offset (multiple of 64, just after the table)
 *    48  u64      data size in bytes
 *    56  u64      FNV-1a 64-bit hash of everything after the header (table and data)
 *   tensor table, count x 128 bytes
 *     0  char[80] name, NUL terminated ("block2_sepconv1/pointwise_kernel")
 *    80  u32      dtype (0 = float32, 1 = float16; version 2: 2 = bytes, a 1-D blob)
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
 *
 * Version 2 adds two blobs to the table: "__model__" (the model definition, layout below) and,
 * when the file carries class names, "__classes__" (the names, each NUL-terminated, in class
 * order). A version 1 file is the ImageNet model.
 *
 *   __model__, little-endian
 *     0  u32      layout version (1)
 *     4  u32      input height     8  u32  input width
 *    12  u32      preprocessing (0 = x / 127.5 - 1, 1 = x * scale + offset)
 *    16  f32      scale           20  f32  offset
 *    24  u32      pooling (0 none, 1 average, 2 max)
 *    28  u32      Dense layers n (0..8; the last is the classifier)
 *    32  u32      1 if the head was inferred from the weights' shapes
 *    36  char[64] pooling layer name
 *   100  char[96] what the source file was
 *   196  n x {u32 units, u32 activation (0 linear, 1 relu, 2 softmax, 3 sigmoid), char[64] name}
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

#define DTYPE_BYTES 2u /* version 2: a blob */
#define MODEL_BLOB "__model__"
#define CLASSES_BLOB "__classes__"
#define MODEL_LAYOUT 1u
#define MODEL_FIXED 196u
#define MODEL_DENSE 72u

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

uint64_t gc_hash_words(const void *data, size_t size) {
  const uint8_t *p = data;
  uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)size;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) { /* each step a bijection of h and of the word: one changed word always shows */
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < size; i++) h = (h ^ p[i]) * 0x100000001b3ull;
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
  if (version < 1 || version > GC_WEIGHTS_VERSION) {
    gc_set_error(err, errlen, "format version %u; this build reads versions 1 and %d", version,
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
    const int blob = version >= 2 && e[i].dtype == DTYPE_BYTES;
    int bad = memchr(e[i].name, 0, GC_WEIGHTS_NAME_SIZE) == NULL || e[i].name[0] == 0 ||
              (e[i].dtype > GC_DTYPE_F16 && !blob) || e[i].ndim < 1 || e[i].ndim > GC_MAX_DIMS ||
              (blob && e[i].ndim != 1) ||
              e[i].offset % GC_WEIGHTS_ALIGN != 0 || e[i].offset > data_size ||
              e[i].nbytes > data_size - e[i].offset;
    /* elems stays <= data_size: four dims of up to 2^24 would overflow 64 bits and wrap */
    for (uint32_t d = 0; !bad && d < e[i].ndim; d++) {
      if (e[i].dims[d] == 0 || e[i].dims[d] > (1u << 24) || elems > data_size / e[i].dims[d]) bad = 1;
      else elems *= e[i].dims[d];
    }
    if (!bad && elems * (blob ? 1 : e[i].dtype == GC_DTYPE_F16 ? 2 : 4) != e[i].nbytes) bad = 1;
    if (bad) {
      gc_set_error(err, errlen,
                   "tensor table entry %u ('%.40s') is malformed: dtype %u, %u dimensions, offset %llu, %llu bytes", i,
                   e[i].name, e[i].dtype, e[i].ndim, (unsigned long long)e[i].offset,
                   (unsigned long long)e[i].nbytes);
      free(e);
      return GC_ERR_WEIGHTS_CORRUPT;
    }
  }
  out->version = version;
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

const gc_weights_entry *gc_weights_find(const gc_weights *w, const char *name, int ndim, const int *dims,
                                        gc_status *status, char *err, size_t errlen) {
  const gc_weights_entry *e = NULL;
  for (uint32_t i = 0; i < w->count; i++)
    if (strcmp(w->entries[i].name, name) == 0) {
      e = &w->entries[i];
      break;
    }
  if (!e || e->dtype == DTYPE_BYTES) {
    gc_set_error(err, errlen, "tensor '%s' is missing", name);
    *status = GC_ERR_WEIGHTS_MISSING;
    return NULL;
  }
  int same = (int)e->ndim == ndim;
  for (int d = 0; same && d < ndim; d++) same = (int)e->dims[d] == dims[d];
  if (!same) {
    char have[64], want[64];
    format_dims(have, sizeof have, (int)e->ndim, e->dims, NULL);
    format_dims(want, sizeof want, ndim, NULL, dims);
    gc_set_error(err, errlen, "tensor '%s' has shape %s, expected %s", name, have, want);
    *status = GC_ERR_WEIGHTS_SHAPE;
    return NULL;
  }
  *status = GC_OK;
  return e;
}

gc_status gc_weights_convert(const gc_weights_entry *e, const uint8_t *src, float **out, char *err, size_t errlen) {
  *out = NULL;
  size_t n = 1;
  for (uint32_t d = 0; d < e->ndim; d++) n *= e->dims[d];
  float *f = malloc(n * sizeof *f + 64);
  if (!f) return GC_ERR_OUT_OF_MEMORY;
  if (e->dtype == GC_DTYPE_F32) {
    memcpy(f, src, n * sizeof *f);
  } else {
    for (size_t i = 0; i < n; i++) f[i] = gc_half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
  }
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(f[i])) {
      gc_set_error(err, errlen, "tensor '%s' holds a non-finite value at element %zu", e->name, i);
      free(f);
      return GC_ERR_WEIGHTS_CORRUPT;
    }
  }
  *out = f;
  return GC_OK;
}

gc_status gc_weights_get(const gc_weights *w, const char *name, int ndim, const int *dims,
                         float **out, char *err, size_t errlen) {
  *out = NULL;
  gc_status s;
  const gc_weights_entry *e = gc_weights_find(w, name, ndim, dims, &s, err, errlen);
  return e ? gc_weights_convert(e, w->data + e->offset, out, err, errlen) : s;
}

void gc_weights_release(gc_weights *w) {
  free(w->entries);
  memset(w, 0, sizeof *w);
}

/* A blob of the table (version 2). */
typedef struct blob {
  const char *name;
  const uint8_t *data;
  size_t size;
} blob;

static gc_status write_file(uint32_t version, const gc_tensor_spec *specs, const float *const *data, int count,
                            gc_dtype dtype, const blob *blobs, int nblobs, void **bytes, size_t *size) {
  *bytes = NULL;
  *size = 0;
  if (count <= 0 || (dtype != GC_DTYPE_F32 && dtype != GC_DTYPE_F16)) return GC_ERR_INVALID_ARGUMENT;
  const size_t esize = dtype == GC_DTYPE_F16 ? 2 : 4;
  const int total = count + nblobs;
  uint64_t data_offset = GC_WEIGHTS_HEADER_SIZE + (uint64_t)total * GC_WEIGHTS_ENTRY_SIZE;
  data_offset = (data_offset + GC_WEIGHTS_ALIGN - 1) / GC_WEIGHTS_ALIGN * GC_WEIGHTS_ALIGN;
  uint64_t data_size = 0;
  for (int i = 0; i < total; i++) {
    data_size += i < count ? gc_tensor_count(specs[i].ndim, specs[i].dims) * esize : blobs[i - count].size;
    if (i + 1 < total) data_size = (data_size + GC_WEIGHTS_ALIGN - 1) / GC_WEIGHTS_ALIGN * GC_WEIGHTS_ALIGN;
  }
  uint8_t *b = calloc(1, (size_t)(data_offset + data_size));
  if (!b) return GC_ERR_OUT_OF_MEMORY;
  memcpy(b, GC_WEIGHTS_MAGIC, 8);
  wr32(b + 8, version);
  wr32(b + 12, GC_WEIGHTS_HEADER_SIZE);
  memcpy(b + 16, GC_WEIGHTS_MODEL, strlen(GC_WEIGHTS_MODEL));
  wr32(b + 32, (uint32_t)total);
  wr32(b + 36, GC_WEIGHTS_ENTRY_SIZE);
  wr64(b + 40, data_offset);
  wr64(b + 48, data_size);
  uint64_t off = 0;
  for (int i = 0; i < total; i++) {
    uint8_t *t = b + GC_WEIGHTS_HEADER_SIZE + (size_t)i * GC_WEIGHTS_ENTRY_SIZE;
    uint8_t *dst = b + data_offset + off;
    size_t nbytes;
    if (i >= count) {
      const blob *bl = &blobs[i - count];
      snprintf((char *)t, GC_WEIGHTS_NAME_SIZE, "%s", bl->name);
      wr32(t + 80, DTYPE_BYTES);
      wr32(t + 84, 1);
      wr32(t + 88, (uint32_t)bl->size);
      nbytes = bl->size;
      if (nbytes) memcpy(dst, bl->data, nbytes);
    } else {
      size_t n = gc_tensor_count(specs[i].ndim, specs[i].dims);
      snprintf((char *)t, GC_WEIGHTS_NAME_SIZE, "%s", specs[i].name);
      wr32(t + 80, (uint32_t)dtype);
      wr32(t + 84, (uint32_t)specs[i].ndim);
      for (int d = 0; d < specs[i].ndim; d++) wr32(t + 88 + 4 * d, (uint32_t)specs[i].dims[d]);
      nbytes = n * esize;
      if (dtype == GC_DTYPE_F32) {
        memcpy(dst, data[i], n * 4);
      } else {
        for (size_t k = 0; k < n; k++) {
          uint16_t h = gc_float_to_half(data[i][k]);
          dst[2 * k] = (uint8_t)h;
          dst[2 * k + 1] = (uint8_t)(h >> 8);
        }
      }
    }
    wr64(t + 104, off);
    wr64(t + 112, nbytes);
    off += nbytes;
    off = (off + GC_WEIGHTS_ALIGN - 1) / GC_WEIGHTS_ALIGN * GC_WEIGHTS_ALIGN;
  }
  wr64(b + 56, gc_fnv1a64(b + GC_WEIGHTS_HEADER_SIZE, (size_t)(data_offset + data_size) - GC_WEIGHTS_HEADER_SIZE));
  *bytes = b;
  *size = (size_t)(data_offset + data_size);
  return GC_OK;
}

gc_status gc_weights_write(const gc_tensor_spec *specs, const float *const *data, int count, gc_dtype dtype,
                           void **bytes, size_t *size) {
  return write_file(1, specs, data, count, dtype, NULL, 0, bytes, size);
}

static void put_name(uint8_t *p, size_t len, const char *s) { snprintf((char *)p, len, "%s", s ? s : ""); }

gc_status gc_weights_write_model(const gc_spec *spec, const char *const *names, int nnames,
                                 const gc_tensor_spec *specs, const float *const *data, int count, gc_dtype dtype,
                                 void **bytes, size_t *size, char *err, size_t errlen) {
  if (!spec || !bytes || !size || nnames < 0 || (nnames && !names)) return GC_ERR_INVALID_ARGUMENT;
  *bytes = NULL;
  *size = 0;
  gc_status s = gc_spec_check(spec, err, errlen);
  if (s != GC_OK) return s;
  const int classes = gc_spec_classes(spec);
  if (nnames && nnames != classes) {
    gc_set_error(err, errlen, "%d class names for a model with %d classes", nnames, classes);
    return GC_ERR_LABELS;
  }
  uint8_t model[MODEL_FIXED + GC_SPEC_MAX_DENSE * MODEL_DENSE];
  memset(model, 0, sizeof model);
  float f[2] = {spec->pre_scale, spec->pre_offset};
  uint32_t fb[2];
  memcpy(fb, f, sizeof fb);
  wr32(model, MODEL_LAYOUT);
  wr32(model + 4, (uint32_t)spec->input_h);
  wr32(model + 8, (uint32_t)spec->input_w);
  wr32(model + 12, (uint32_t)spec->pre);
  wr32(model + 16, fb[0]);
  wr32(model + 20, fb[1]);
  wr32(model + 24, (uint32_t)spec->pool);
  wr32(model + 28, (uint32_t)spec->ndense);
  wr32(model + 32, (uint32_t)(spec->head_inferred != 0));
  put_name(model + 36, 64, spec->pool_name);
  put_name(model + 100, 96, spec->source);
  for (int i = 0; i < spec->ndense; i++) {
    uint8_t *d = model + MODEL_FIXED + (size_t)i * MODEL_DENSE;
    wr32(d, (uint32_t)spec->dense[i].units);
    wr32(d + 4, (uint32_t)spec->dense[i].act);
    put_name(d + 8, 64, spec->dense[i].name);
  }
  size_t nlen = 0;
  for (int i = 0; i < nnames; i++) {
    if (!names[i] || !names[i][0] || strlen(names[i]) > 4096) {
      gc_set_error(err, errlen, "class name %d is empty or longer than 4096 bytes", i);
      return GC_ERR_LABELS;
    }
    nlen += strlen(names[i]) + 1;
  }
  uint8_t *nb = nlen ? malloc(nlen) : NULL;
  if (nlen && !nb) return GC_ERR_OUT_OF_MEMORY;
  for (int i = 0, at = 0; i < nnames; i++) {
    const size_t l = strlen(names[i]) + 1;
    memcpy(nb + at, names[i], l);
    at += (int)l;
  }
  const blob blobs[2] = {{MODEL_BLOB, model, MODEL_FIXED + (size_t)spec->ndense * MODEL_DENSE},
                         {CLASSES_BLOB, nb, nlen}};
  s = write_file(GC_WEIGHTS_VERSION, specs, data, count, dtype, blobs, nnames ? 2 : 1, bytes, size);
  free(nb);
  return s;
}

void gc_names_free(char **names, int n) {
  if (!names) return;
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

static const gc_weights_entry *find_blob(const gc_weights *w, const char *name) {
  for (uint32_t i = 0; i < w->count; i++)
    if (w->entries[i].dtype == DTYPE_BYTES && !strcmp(w->entries[i].name, name)) return &w->entries[i];
  return NULL;
}

gc_status gc_weights_model(const gc_weights *w, gc_spec *spec, char ***names, int *nnames, char *err,
                           size_t errlen) {
  if (!w || !spec || !names || !nnames) return GC_ERR_INVALID_ARGUMENT;
  *names = NULL;
  *nnames = 0;
  if (w->version < 2) {
    gc_spec_imagenet(spec);
    snprintf(spec->source, sizeof spec->source, "gradcam weights, version 1 (Keras Xception, ImageNet)");
    return GC_OK;
  }
  const gc_weights_entry *e = find_blob(w, MODEL_BLOB);
  if (!e) {
    gc_set_error(err, errlen, "the file has no model definition (%s)", MODEL_BLOB);
    return GC_ERR_WEIGHTS_MISSING;
  }
  const uint8_t *p = w->data + e->offset;
  const uint32_t nd = e->nbytes >= MODEL_FIXED ? rd32(p + 28) : 0;
  if (e->nbytes < MODEL_FIXED || rd32(p) != MODEL_LAYOUT || nd > GC_SPEC_MAX_DENSE ||
      e->nbytes != MODEL_FIXED + (uint64_t)nd * MODEL_DENSE || p[36 + 63] || p[100 + 95]) {
    gc_set_error(err, errlen, "the model definition (%s, %llu bytes) is malformed", MODEL_BLOB,
                 (unsigned long long)e->nbytes);
    return GC_ERR_WEIGHTS_CORRUPT;
  }
  memset(spec, 0, sizeof *spec);
  uint32_t fb[2] = {rd32(p + 16), rd32(p + 20)};
  float f[2];
  memcpy(f, fb, sizeof f);
  spec->input_h = (int)rd32(p + 4);
  spec->input_w = (int)rd32(p + 8);
  spec->pre = (gc_preprocess)rd32(p + 12);
  spec->pre_scale = f[0];
  spec->pre_offset = f[1];
  spec->pool = (gc_pool)rd32(p + 24);
  spec->ndense = (int)nd;
  spec->head_inferred = rd32(p + 32) != 0;
  memcpy(spec->pool_name, p + 36, 64);
  memcpy(spec->source, p + 100, 96);
  for (uint32_t i = 0; i < nd; i++) {
    const uint8_t *d = p + MODEL_FIXED + (size_t)i * MODEL_DENSE;
    if (d[8 + 63]) {
      gc_set_error(err, errlen, "the model definition's Dense layer %u has an unterminated name", i + 1);
      return GC_ERR_WEIGHTS_CORRUPT;
    }
    spec->dense[i].units = (int)rd32(d);
    spec->dense[i].act = (gc_act)rd32(d + 4);
    memcpy(spec->dense[i].name, d + 8, 64);
  }
  char msg[GC_ERRBUF_SIZE] = "";
  if (gc_spec_check(spec, msg, sizeof msg) != GC_OK) {
    gc_set_error(err, errlen, "the model definition is not usable: %s", msg);
    return GC_ERR_WEIGHTS_CORRUPT;
  }
  const gc_weights_entry *c = find_blob(w, CLASSES_BLOB);
  if (!c) return GC_OK;
  const int classes = gc_spec_classes(spec);
  const char *q = (const char *)(w->data + c->offset), *end = q + c->nbytes;
  int n = 0;
  for (const char *r = q; r < end; r++) n += *r == 0;
  if (classes == 0 || n != classes || (c->nbytes && end[-1] != 0)) {
    gc_set_error(err, errlen, "the file's class names (%d) do not match its %d classes", n, classes);
    return GC_ERR_WEIGHTS_CORRUPT;
  }
  char **list = calloc((size_t)n, sizeof *list);
  if (!list) return GC_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < n; i++) {
    const size_t l = strlen(q);
    if (!l || !(list[i] = malloc(l + 1))) {
      gc_names_free(list, n);
      if (!l) gc_set_error(err, errlen, "the file's class name %d is empty", i);
      return l ? GC_ERR_OUT_OF_MEMORY : GC_ERR_WEIGHTS_CORRUPT;
    }
    memcpy(list[i], q, l + 1);
    q += l + 1;
  }
  *names = list;
  *nnames = n;
  return GC_OK;
}
