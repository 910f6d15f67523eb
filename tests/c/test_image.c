/* test_image.c - resizing/preprocessing and decoding, including hostile and unusual files:
 * empty, random bytes, truncated PNG, grey, RGBA, 16-bit PNG, absurd dimensions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradcam.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>

static void test_preprocess(void) {
  /* same size: exactly x / 127.5 - 1 */
  uint8_t img[4 * 5 * 3];
  for (int i = 0; i < 60; i++) img[i] = (uint8_t)(i * 4);
  float out[4 * 5 * 3];
  CHECK_STATUS(gc_preprocess_image(img, 5, 4, 15, GC_PIXEL_RGB8, 5, 4, out), GC_OK);
  int bad = 0;
  for (int i = 0; i < 60; i++) bad += fabsf(out[i] - (img[i] / 127.5f - 1.0f)) > 1e-6f;
  CHECK(bad == 0, "identity resize");

  /* halving with pixel-centre sampling averages each 2x2 block */
  uint8_t big[8 * 8 * 4];
  for (int i = 0; i < 8 * 8 * 4; i++) big[i] = (uint8_t)((i * 37) % 251);
  float half[4 * 4 * 3];
  CHECK_STATUS(gc_preprocess_image(big, 8, 8, 32, GC_PIXEL_RGBA8, 4, 4, half), GC_OK);
  bad = 0;
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      for (int c = 0; c < 3; c++) {
        float avg = 0;
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++) avg += big[((2 * y + dy) * 8 + 2 * x + dx) * 4 + c];
        avg /= 4;
        bad += fabsf(half[(y * 4 + x) * 3 + c] - (avg / 127.5f - 1.0f)) > 1e-5f;
      }
  CHECK(bad == 0, "2x downscale is the 2x2 mean (%d off)", bad);

  /* upscaling a constant image stays constant; row stride padding is honoured */
  uint8_t padded[3 * 16];
  memset(padded, 0xEE, sizeof padded); /* padding bytes must be ignored */
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 3; x++) {
      padded[y * 16 + x * 4 + 0] = 10;
      padded[y * 16 + x * 4 + 1] = 20;
      padded[y * 16 + x * 4 + 2] = 30;
      padded[y * 16 + x * 4 + 3] = 0;
    }
  float up[9 * 7 * 3];
  CHECK_STATUS(gc_preprocess_image(padded, 3, 3, 16, GC_PIXEL_RGBA8, 7, 9, up), GC_OK);
  bad = 0;
  for (int i = 0; i < 9 * 7; i++)
    bad += fabsf(up[3 * i] - (10 / 127.5f - 1)) > 1e-6f || fabsf(up[3 * i + 2] - (30 / 127.5f - 1)) > 1e-6f;
  CHECK(bad == 0, "constant upscale with stride");

  /* bilinear between two pixels: 2x1 -> 4x1 samples at 1/4 and 3/4 */
  uint8_t two[6] = {0, 0, 0, 255, 255, 255};
  float four[12];
  CHECK_STATUS(gc_preprocess_image(two, 2, 1, 6, GC_PIXEL_RGB8, 4, 1, four), GC_OK);
  const float want[4] = {0, 63.75f, 191.25f, 255};
  bad = 0;
  for (int i = 0; i < 4; i++) bad += fabsf(four[3 * i] - (want[i] / 127.5f - 1)) > 1e-5f;
  CHECK(bad == 0, "bilinear weights (%f %f %f %f)", four[0], four[3], four[6], four[9]);

  CHECK_STATUS(gc_preprocess_image(img, 0, 4, 15, GC_PIXEL_RGB8, 5, 4, out), GC_ERR_IMAGE_SIZE);
  CHECK_STATUS(gc_preprocess_image(img, 5, 4, 14, GC_PIXEL_RGB8, 5, 4, out), GC_ERR_IMAGE_INVALID);
  CHECK_STATUS(gc_preprocess_image(img, 5, 4, 15, GC_PIXEL_RGB8, 0, 4, out), GC_ERR_INVALID_ARGUMENT);
}

typedef struct buf {
  unsigned char *p;
  size_t n;
} buf;

static void buf_write(void *ctx, void *data, int size) {
  buf *b = ctx;
  b->p = realloc(b->p, b->n + (size_t)size);
  memcpy(b->p + b->n, data, (size_t)size);
  b->n += (size_t)size;
}

static uint32_t crc32_png(const unsigned char *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}

static void be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static void chunk(buf *b, const char *type, const unsigned char *data, size_t n) {
  unsigned char *c = malloc(n + 12);
  be32(c, (uint32_t)n);
  memcpy(c + 4, type, 4);
  if (n) memcpy(c + 8, data, n);
  be32(c + 8 + n, crc32_png(c + 4, n + 4));
  buf_write(b, c, (int)(n + 12));
  free(c);
}

/* A 16-bit RGB PNG built by hand (stb_image_write only writes 8-bit); with `empty`, two
 * zero-length IDAT chunks and a tEXt chunk between them come before the image data. */
static buf png16e(int w, int h, uint16_t value, int empty) {
  buf b = {0};
  buf_write(&b, "\x89PNG\r\n\x1a\n", 8);
  unsigned char ihdr[13];
  be32(ihdr, (uint32_t)w);
  be32(ihdr + 4, (uint32_t)h);
  ihdr[8] = 16; /* bit depth */
  ihdr[9] = 2;  /* RGB */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  chunk(&b, "IHDR", ihdr, 13);
  size_t row = 1 + (size_t)w * 6, raw_n = row * h;
  unsigned char *raw = calloc(1, raw_n);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * 3; x++) {
      raw[y * row + 1 + 2 * x] = (unsigned char)(value >> 8);
      raw[y * row + 2 + 2 * x] = (unsigned char)value;
    }
  int zn = 0;
  unsigned char *z = stbi_zlib_compress(raw, (int)raw_n, &zn, 8);
  if (empty) {
    chunk(&b, "IDAT", NULL, 0);
    chunk(&b, "tEXt", (const unsigned char *)"a\0b", 3);
    chunk(&b, "IDAT", NULL, 0);
  }
  chunk(&b, "IDAT", z, (size_t)zn);
  chunk(&b, "IEND", NULL, 0);
  free(z);
  free(raw);
  return b;
}
static buf png16(int w, int h, uint16_t value) { return png16e(w, h, value, 0); }

static void test_decode(void) {
  char err[GC_ERRBUF_SIZE];
  uint8_t *px = NULL;
  int w = 0, h = 0;
  /* RGB, grey and grey+alpha PNGs, and a BMP, come back as RGBA */
  unsigned char rgb[3 * 4 * 3];
  for (int i = 0; i < 36; i++) rgb[i] = (unsigned char)(i * 7);
  buf b = {0};
  CHECK(stbi_write_png_to_func(buf_write, &b, 4, 3, 3, rgb, 12), "write png");
  CHECK_STATUS(gc_decode_image(b.p, b.n, &px, &w, &h, err, sizeof err), GC_OK);
  CHECK(w == 4 && h == 3, "png size %dx%d", w, h);
  int bad = 0;
  for (int i = 0; px && i < 12; i++)
    bad += px[4 * i] != rgb[3 * i] || px[4 * i + 2] != rgb[3 * i + 2] || px[4 * i + 3] != 255;
  CHECK(bad == 0, "png pixels");
  gc_free(px);

  /* truncated PNG, cut everywhere: a named error, or (cut inside the final IEND chunk only)
   * the correct pixels */
  int failed = 0;
  for (size_t cut = 0; cut < b.n; cut++) {
    px = NULL;
    gc_status s = gc_decode_image(b.p, cut, &px, &w, &h, err, sizeof err);
    if (s == GC_OK) {
      CHECK(cut >= b.n - 12 && px && !memcmp(px, (uint8_t[]){rgb[0], rgb[1], rgb[2], 255}, 4),
            "truncated at %zu of %zu decoded", cut, b.n);
      gc_free(px);
    } else {
      failed++;
      CHECK(s == GC_ERR_IMAGE_DECODE && px == NULL, "truncated at %zu: %s", cut, gc_status_to_string(s));
    }
  }
  CHECK(failed >= (int)b.n - 12, "%d of %zu truncations refused", failed, b.n);
  free(b.p);

  unsigned char grey[5 * 2] = {0, 50, 100, 150, 200, 250, 1, 2, 3, 4};
  b = (buf){0};
  CHECK(stbi_write_png_to_func(buf_write, &b, 5, 2, 1, grey, 5), "write grey png");
  CHECK_STATUS(gc_decode_image(b.p, b.n, &px, &w, &h, err, sizeof err), GC_OK);
  CHECK(px && px[4 * 3] == 150 && px[4 * 3 + 1] == 150 && px[4 * 3 + 2] == 150, "grey expands to RGB");
  gc_free(px);
  free(b.p);

  unsigned char rgba[2 * 2 * 4] = {1, 2, 3, 0, 4, 5, 6, 128, 7, 8, 9, 255, 10, 11, 12, 64};
  b = (buf){0};
  CHECK(stbi_write_bmp_to_func(buf_write, &b, 2, 2, 4, rgba), "write bmp");
  CHECK_STATUS(gc_decode_image(b.p, b.n, &px, &w, &h, err, sizeof err), GC_OK);
  CHECK(px && px[4] == 4 && px[6] == 6, "bmp pixels");
  gc_free(px);
  free(b.p);

  /* 16-bit PNG: 0xABCD becomes 0xAB */
  b = png16(3, 2, 0xABCD);
  CHECK_STATUS(gc_decode_image(b.p, b.n, &px, &w, &h, err, sizeof err), GC_OK);
  CHECK(px && w == 3 && h == 2 && px[0] == 0xAB && px[5] == 0xAB && px[3] == 255, "16-bit png to 8-bit");
  gc_free(px);
  free(b.p);

  /* zero-length IDAT chunks before the image data (stb_image computed NULL + 0 there): the same
   * pixels as without them */
  {
    buf e = png16e(3, 2, 0x1234, 1), plain = png16(3, 2, 0x1234);
    uint8_t *pe = NULL, *pp = NULL;
    int we = 0, he = 0, wp = 0, hp = 0;
    CHECK_STATUS(gc_decode_image(e.p, e.n, &pe, &we, &he, err, sizeof err), GC_OK);
    CHECK_STATUS(gc_decode_image(plain.p, plain.n, &pp, &wp, &hp, err, sizeof err), GC_OK);
    CHECK(pe && pp && we == 3 && he == 2 && wp == 3 && hp == 2 && !memcmp(pe, pp, 3 * 2 * 4) && pe[0] == 0x12,
          "empty IDAT chunks: the same image");
    gc_free(pe), gc_free(pp);
    free(e.p), free(plain.p);
  }
  /* a PNG header announcing 200000 x 1 pixels: refused before decoding */
  b = png16(200000, 1, 1);
  px = NULL;
  CHECK_STATUS(gc_decode_image(b.p, b.n, &px, &w, &h, err, sizeof err), GC_ERR_IMAGE_SIZE);
  CHECK(px == NULL, "nothing allocated");
  free(b.p);
  /* a 100000 x 1 image decodes */
  b = png16(100000, 1, 0x8000);
  CHECK_STATUS(gc_decode_image(b.p, b.n, &px, &w, &h, err, sizeof err), GC_OK);
  CHECK(w == 100000 && h == 1, "100000x1");
  gc_free(px);
  free(b.p);

  /* empty, random bytes, text */
  CHECK_STATUS(gc_decode_image("", 0, &px, &w, &h, err, sizeof err), GC_ERR_IMAGE_DECODE);
  CHECK_STATUS(gc_decode_image(NULL, 10, &px, &w, &h, err, sizeof err), GC_ERR_IMAGE_DECODE);
  unsigned char noise[4096];
  uint32_t s = 99;
  for (size_t i = 0; i < sizeof noise; i++) {
    s = s * 1664525u + 1013904223u;
    noise[i] = (unsigned char)(s >> 24);
  }
  CHECK_STATUS(gc_decode_image(noise, sizeof noise, &px, &w, &h, err, sizeof err), GC_ERR_IMAGE_DECODE);
  const char *text = "this is not an image, it is a sentence.";
  CHECK_STATUS(gc_decode_image(text, strlen(text), &px, &w, &h, err, sizeof err), GC_ERR_IMAGE_DECODE);
  CHECK(strlen(err) > 0, "a reason is given");
  CHECK_STATUS(gc_decode_image(text, strlen(text), NULL, &w, &h, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
}

int main(void) {
  test_preprocess();
  test_decode();
  return check_report("test_image");
}
