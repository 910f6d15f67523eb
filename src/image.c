/* image.c - decode (stb_image), resize and preprocess images for the network. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/inflate.h"

#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_ASSERT(x) ((void)0) /* never abort on hostile input */
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
/* stb declares a few static functions it does not define in this configuration */
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* stb's zlib decoder for src/io (inflate.h). A fixed output buffer: stb reports "output buffer
 * limit" when the stream would write past it, which is how a deflate bomb shows. */
gc_inflate_result gc_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, int zlib,
                             size_t *produced, const char **why) {
  *produced = 0;
  *why = NULL;
  if (in_len > INT_MAX || out_len > INT_MAX) return GC_INFLATE_TOO_LARGE;
  char dummy; /* stb forms out + out_len: never from a null pointer */
  char *o = out ? (char *)out : &dummy;
  const char *i = in ? (const char *)in : &dummy;
  stbi__g_failure_reason = NULL; /* a few of stb's zlib failures set no reason */
  int n = zlib ? stbi_zlib_decode_buffer(o, (int)out_len, i, (int)in_len)
               : stbi_zlib_decode_noheader_buffer(o, (int)out_len, i, (int)in_len);
  if (n >= 0) {
    *produced = (size_t)n;
    return GC_INFLATE_OK;
  }
  const char *reason = stbi_failure_reason();
  *why = reason ? reason : "corrupt stream";
  return reason && !strcmp(reason, "output buffer limit") ? GC_INFLATE_TOO_LONG : GC_INFLATE_CORRUPT;
}

gc_status gc_preprocess_image(const uint8_t *pixels, int width, int height, int stride,
                              gc_pixel_format format, int out_w, int out_h, float *out) {
  return gc_preprocess_image_as(pixels, width, height, stride, format, out_w, out_h, 0, 0.0f, 0.0f, out);
}

gc_status gc_preprocess_image_as(const uint8_t *pixels, int width, int height, int stride, gc_pixel_format format,
                                 int out_w, int out_h, int rescale, float scale, float offset, float *out) {
  if (!pixels || !out || (format != GC_PIXEL_RGB8 && format != GC_PIXEL_RGBA8))
    return GC_ERR_IMAGE_INVALID;
  if (width < 1 || height < 1 || width > GC_MAX_IMAGE_SIDE || height > GC_MAX_IMAGE_SIDE ||
      (int64_t)width * height > GC_MAX_IMAGE_PIXELS)
    return GC_ERR_IMAGE_SIZE;
  const int ch = (int)format;
  if (stride < width * ch) return GC_ERR_IMAGE_INVALID;
  if (out_w < 1 || out_h < 1 || out_w > GC_MAX_INPUT_SIZE || out_h > GC_MAX_INPUT_SIZE)
    return GC_ERR_INVALID_ARGUMENT;

  /* per-column source positions (pixel-centre aligned, clamped to the edges) */
  int x0[GC_MAX_INPUT_SIZE], x1[GC_MAX_INPUT_SIZE];
  float fx[GC_MAX_INPUT_SIZE];
  for (int x = 0; x < out_w; x++) {
    double sx = ((double)x + 0.5) * width / out_w - 0.5;
    if (sx < 0) sx = 0;
    if (sx > width - 1) sx = width - 1;
    x0[x] = (int)sx;
    x1[x] = x0[x] + 1 < width ? x0[x] + 1 : width - 1;
    fx[x] = (float)(sx - x0[x]);
  }
  for (int y = 0; y < out_h; y++) {
    double sy = ((double)y + 0.5) * height / out_h - 0.5;
    if (sy < 0) sy = 0;
    if (sy > height - 1) sy = height - 1;
    const int y0 = (int)sy, y1 = y0 + 1 < height ? y0 + 1 : height - 1;
    const float fy = (float)(sy - y0);
    const uint8_t *r0 = pixels + (size_t)y0 * (size_t)stride;
    const uint8_t *r1 = pixels + (size_t)y1 * (size_t)stride;
    float *o = out + (size_t)y * out_w * 3;
    for (int x = 0; x < out_w; x++) {
      const uint8_t *a = r0 + (size_t)x0[x] * ch, *b = r0 + (size_t)x1[x] * ch;
      const uint8_t *c = r1 + (size_t)x0[x] * ch, *d = r1 + (size_t)x1[x] * ch;
      for (int k = 0; k < 3; k++) {
        const float top = a[k] + (b[k] - a[k]) * fx[x];
        const float bot = c[k] + (d[k] - c[k]) * fx[x];
        const float v = top + (bot - top) * fy;
        /* as Keras computes them: preprocess_input divides, a Rescaling layer multiplies */
        o[3 * x + k] = rescale ? v * scale + offset : v / 127.5f - 1.0f;
      }
    }
  }
  return GC_OK;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* stb_image computes `NULL + 0` (undefined behaviour) on a zero-length IDAT chunk that comes
 * before any image data. Such chunks carry nothing: a PNG with them gets a copy without them
 * (malloc'ed, *copy; the caller frees it), the same image. 0, or -1 when out of memory. */
static int png_without_empty_idat(const uint8_t *b, size_t size, uint8_t **copy, size_t *copy_size) {
  *copy = NULL;
  size_t drop = 0, at = 8;
  for (int pass = 0; pass < 2; pass++) { /* 0: count the bytes to drop; 1: copy the rest */
    size_t o = 8;
    for (at = 8; at + 12 <= size;) { /* chunks: length, type, data, CRC */
      const uint32_t len = be32(b + at);
      const int idat = memcmp(b + at + 4, "IDAT", 4) == 0;
      if ((idat && len) || len > size - at - 12) break; /* the image data, or a damaged chunk */
      if (idat && !pass) drop += 12;
      if (!idat && pass) memcpy(*copy + o, b + at, 12 + (size_t)len), o += 12 + (size_t)len;
      at += 12 + (size_t)len;
    }
    if (!pass) {
      if (!drop) return 0;
      if (!(*copy = malloc(size - drop))) return -1;
      memcpy(*copy, b, 8);
    } else {
      memcpy(*copy + o, b + at, size - at);
      *copy_size = o + (size - at);
    }
  }
  return 0;
}

static gc_status decode(const void *bytes, size_t size, uint8_t **rgba, int *width, int *height, char *err,
                        size_t errlen);
gc_status gc_decode_image(const void *bytes, size_t size, uint8_t **rgba, int *width, int *height,
                          char *err, size_t errlen) {
  uint8_t *copy = NULL;
  size_t copy_size = 0;
  if (bytes && size >= 8 && memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0 &&
      png_without_empty_idat(bytes, size, &copy, &copy_size) != 0) {
    if (rgba) *rgba = NULL;
    if (width) *width = 0;
    if (height) *height = 0;
    gc_set_error(err, errlen, "no memory for a copy of the %zu-byte PNG", size);
    return GC_ERR_OUT_OF_MEMORY;
  }
  gc_status s = copy ? decode(copy, copy_size, rgba, width, height, err, errlen)
                     : decode(bytes, size, rgba, width, height, err, errlen);
  free(copy);
  return s;
}

static gc_status decode(const void *bytes, size_t size, uint8_t **rgba, int *width, int *height, char *err,
                        size_t errlen) {
  if (!rgba || !width || !height) return GC_ERR_INVALID_ARGUMENT;
  *rgba = NULL;
  *width = *height = 0;
  if (!bytes || size == 0 || size > (size_t)INT32_MAX) {
    gc_set_error(err, errlen, size ? "the file is larger than 2 GB" : "the file is empty");
    return GC_ERR_IMAGE_DECODE;
  }
  int w = 0, h = 0, comp = 0;
  const uint8_t *b = bytes;
  if (size >= 24 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0) {
    /* stb_image calls a PNG of 0 or more than 2^24 pixels a side an "unknown image type":
     * say what its header claims instead */
    const uint32_t pw = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    const uint32_t ph = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    if (pw == 0 || ph == 0 || pw > GC_MAX_IMAGE_SIDE || ph > GC_MAX_IMAGE_SIDE ||
        (uint64_t)pw * ph > GC_MAX_IMAGE_PIXELS) {
      gc_set_error(err, errlen, "the PNG header says %ux%u; the limit is 1 to %d pixels a side and %d pixels", pw,
                   ph, GC_MAX_IMAGE_SIDE, GC_MAX_IMAGE_PIXELS);
      return GC_ERR_IMAGE_SIZE;
    }
  }
  if (!stbi_info_from_memory(bytes, (int)size, &w, &h, &comp)) {
    const char *why = stbi_failure_reason();
    const char *kind = size >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0   ? "JPEG"
                       : size >= 4 && memcmp(b, "\x89PNG", 4) == 0     ? "PNG"
                       : size >= 4 && memcmp(b, "GIF8", 4) == 0         ? "GIF"
                       : size >= 2 && memcmp(b, "BM", 2) == 0           ? "BMP"
                                                                        : NULL;
    if (kind)
      gc_set_error(err, errlen, "the %s header is truncated or damaged (stb_image: %s)", kind, why ? why : "?");
    else if (why && strcmp(why, "unknown image type") == 0)
      gc_set_error(err, errlen, "not a PNG, JPEG, BMP, GIF, TGA, PSD or PNM image (SVG and text are not images here)");
    else
      gc_set_error(err, errlen, "the image header is damaged (stb_image: %s)", why ? why : "?");
    return GC_ERR_IMAGE_DECODE;
  }
  if (w < 1 || h < 1 || w > GC_MAX_IMAGE_SIDE || h > GC_MAX_IMAGE_SIDE ||
      (int64_t)w * h > GC_MAX_IMAGE_PIXELS) {
    gc_set_error(err, errlen, "image is %dx%d; the limit is %d pixels a side and %d pixels", w, h,
                 GC_MAX_IMAGE_SIDE, GC_MAX_IMAGE_PIXELS);
    return GC_ERR_IMAGE_SIZE;
  }
  /* always 8-bit RGBA: grey, grey+alpha, RGB and 16-bit images are converted */
  uint8_t *px = stbi_load_from_memory(bytes, (int)size, &w, &h, &comp, 4);
  if (!px) {
    const char *why = stbi_failure_reason();
    if (why && strcmp(why, "outofmem") == 0) {
      gc_set_error(err, errlen, "no memory for the %dx%d pixels", w, h);
      return GC_ERR_OUT_OF_MEMORY;
    }
    gc_set_error(err, errlen, "the image data is truncated or damaged (stb_image: %s)", why ? why : "?");
    return GC_ERR_IMAGE_DECODE;
  }
  /* stb_image allocates with malloc, so callers release it with gc_free */
  *rgba = px;
  *width = w;
  *height = h;
  return GC_OK;
}
