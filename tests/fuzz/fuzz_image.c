/* fuzz_image.c - image bytes -> gc_decode_image (stb_image) -> gc_preprocess_image (bilinear
 * resize + x / 127.5 - 1) at 299x299 and at a size taken from the input's first bytes, from
 * RGBA and from an RGB copy with a padded stride. Every output value must be in [-1, 1]. */
#include <math.h>

#include "fuzz.h"

static void check_range(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) FUZZ_CHECK(x[i] >= -1.0f && x[i] <= 1.0f, "value %g at %zu", x[i], i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  /* the first two bytes choose a second output size; the image is the rest */
  const int ow = 1 + data[0] % 128, oh = 1 + data[1] % 128;
  data += 2;
  size -= 2;
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  uint8_t *rgba = NULL;
  int w = -1, h = -1;
  gc_status s = gc_decode_image(data, size, &rgba, &w, &h, err, sizeof err);
  FUZZ_STATUS_OK(s);
  FUZZ_ERRBUF_OK(err);
  if (s != GC_OK) {
    FUZZ_CHECK(rgba == NULL && w == 0 && h == 0, "failed decode left an image");
    /* OUT_OF_MEMORY: an image within the size limits whose buffers the allocator refused
     * (tools/test/fuzz.sh fails allocations over 1 GB) */
    FUZZ_CHECK(s == GC_ERR_IMAGE_DECODE || s == GC_ERR_IMAGE_SIZE || s == GC_ERR_OUT_OF_MEMORY, "decode status %s",
               gc_status_to_string(s));
    FUZZ_CHECK(err[0], "decode failed without a message");
    return 0;
  }
  FUZZ_CHECK(rgba && w >= 1 && h >= 1 && w <= GC_MAX_IMAGE_SIDE && h <= GC_MAX_IMAGE_SIDE &&
                 (int64_t)w * h <= GC_MAX_IMAGE_PIXELS,
             "decoded %dx%d", w, h);
  /* the whole buffer is there (ASan reports a short one) */
  volatile unsigned sum = 0;
  for (size_t i = 0; i < (size_t)w * h * 4; i += 4093) sum += rgba[i];
  sum += rgba[(size_t)w * h * 4 - 1];
  (void)sum;

  static float x[GC_INPUT_SIZE * GC_INPUT_SIZE * 3];
  s = gc_preprocess_image(rgba, w, h, w * 4, GC_PIXEL_RGBA8, GC_INPUT_SIZE, GC_INPUT_SIZE, x);
  FUZZ_CHECK(s == GC_OK, "preprocess: %s", gc_status_to_string(s));
  check_range(x, (size_t)GC_INPUT_SIZE * GC_INPUT_SIZE * 3);

  /* RGB with a padded stride, to the other size (small images only: it is a copy) */
  if ((int64_t)w * h <= 1 << 20) {
    const int stride = w * 3 + 5;
    uint8_t *rgb = malloc((size_t)stride * (h - 1) + (size_t)w * 3); /* the last row unpadded */
    float *y = malloc((size_t)ow * oh * 3 * sizeof *y);
    if (rgb && y) {
      for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) memcpy(rgb + (size_t)r * stride + (size_t)c * 3, rgba + ((size_t)r * w + c) * 4, 3);
      s = gc_preprocess_image(rgb, w, h, stride, GC_PIXEL_RGB8, ow, oh, y);
      FUZZ_CHECK(s == GC_OK, "preprocess rgb: %s", gc_status_to_string(s));
      check_range(y, (size_t)ow * oh * 3);
    }
    free(rgb);
    free(y);
  }
  gc_free(rgba);
  return 0;
}
