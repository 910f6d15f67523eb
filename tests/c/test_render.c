/* test_render.c - normalisation guards, colormaps, upsampling, the two overlay modes and the
 * percentile scale of the pixel-attribution maps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"

static int near(const uint8_t *px, int r, int g, int b) {
  return abs(px[0] - r) <= 1 && abs(px[1] - g) <= 1 && abs(px[2] - b) <= 1 && px[3] == 255;
}

static void test_normalize(void) {
  float out[4];
  float zeros[4] = {0, 0, 0, 0};
  gc_map m = {2, 2, 1, zeros};
  CHECK_STATUS(gc_normalize_map(&m, out), GC_OK);
  CHECK(out[0] == 0 && out[3] == 0, "all-zero map stays zero, no NaN");
  float bad[4] = {NAN, INFINITY, -INFINITY, 2};
  m.data = bad;
  CHECK_STATUS(gc_normalize_map(&m, out), GC_OK);
  CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 1, "non-finite values count as 0 (%g %g %g %g)",
        out[0], out[1], out[2], out[3]);
  float pos[4] = {1, 2, 3, 4};
  m.data = pos;
  gc_normalize_map(&m, out);
  CHECK(out[0] == 0.25f && out[3] == 1.0f, "non-negative maps: h / max (keras.io)");
  float sgn[4] = {-1, 0, 1, 3};
  m.data = sgn;
  gc_normalize_map(&m, out);
  CHECK(out[0] == 0.0f && out[1] == 0.25f && out[3] == 1.0f, "signed maps: min-max");
  float cst[4] = {-2, -2, -2, -2};
  m.data = cst;
  gc_normalize_map(&m, out);
  CHECK(out[0] == 0.0f && !isnan(out[0]), "constant map gives zeros");
  m.channels = 3;
  CHECK_STATUS(gc_normalize_map(&m, out), GC_ERR_INVALID_ARGUMENT);
}

static void test_colormaps(void) {
  float v[2] = {0, 1};
  gc_map m = {1, 2, 1, v};
  uint8_t heat[8], over[8];
  const uint8_t img[6] = {100, 100, 100, 200, 0, 50};
  CHECK_STATUS(gc_render(&m, img, 2, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.5f, GC_BLEND_ALPHA, heat, over), GC_OK);
  CHECK(near(heat, 0, 0, 128) && near(heat + 4, 128, 0, 0), "jet ends: dark blue and dark red (%d %d %d / %d %d %d)",
        heat[0], heat[1], heat[2], heat[4], heat[5], heat[6]);
  CHECK(near(over, 50, 50, 114) && near(over + 4, 164, 0, 25), "alpha blend (%d %d %d)", over[0], over[1], over[2]);
  float mid[1] = {1};
  gc_map one = {1, 1, 1, mid};
  float half[2] = {0.5f, 1.0f};
  gc_map mh = {1, 2, 1, half};
  CHECK_STATUS(gc_render(&mh, NULL, 2, 1, 0, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ADDITIVE, heat, NULL), GC_OK);
  CHECK(near(heat, 123, 255, 123), "jet(0.5) (%d %d %d)", heat[0], heat[1], heat[2]);
  CHECK_STATUS(gc_render(&m, NULL, 2, 1, 0, GC_PIXEL_RGB8, GC_COLORMAP_VIRIDIS, 0.4f, GC_BLEND_ADDITIVE, heat, NULL), GC_OK);
  CHECK(near(heat, 68, 1, 84) && near(heat + 4, 253, 231, 37), "viridis ends");
  CHECK_STATUS(gc_render(&m, NULL, 2, 1, 0, GC_PIXEL_RGB8, GC_COLORMAP_INFERNO, 0.4f, GC_BLEND_ADDITIVE, heat, NULL), GC_OK);
  CHECK(near(heat, 0, 0, 4) && near(heat + 4, 252, 255, 164), "inferno ends");
  CHECK_STATUS(gc_render(&m, NULL, 2, 1, 0, GC_PIXEL_RGB8, GC_COLORMAP_TURBO, 0.4f, GC_BLEND_ADDITIVE, heat, NULL), GC_OK);
  CHECK(near(heat, 35, 23, 27) && heat[4] > 100 && heat[6] < 10, "turbo ends (%d %d %d / %d %d %d)", heat[0], heat[1],
        heat[2], heat[4], heat[5], heat[6]);
  CHECK_STATUS(gc_render(&mh, NULL, 2, 1, 0, GC_PIXEL_RGB8, GC_COLORMAP_GRAY, 0.4f, GC_BLEND_ADDITIVE, heat, NULL), GC_OK);
  CHECK(near(heat, 128, 128, 128) && near(heat + 4, 255, 255, 255), "gray");
  /* additive (keras.io): image + 0.4 * 255 * jet, then the whole image rescaled to 0..255 */
  CHECK_STATUS(gc_render(&m, img, 2, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ADDITIVE, NULL, over), GC_OK);
  {
    const float jet0[3] = {0, 0, 0.5f}, jet1[3] = {0.5f, 0, 0};
    float sum[6], lo = 1e9f, hi = -1e9f;
    for (int c = 0; c < 3; c++) {
      sum[c] = img[c] + 0.4f * 255 * jet0[c];
      sum[3 + c] = img[3 + c] + 0.4f * 255 * jet1[c];
    }
    for (int i = 0; i < 6; i++) lo = fminf(lo, sum[i]), hi = fmaxf(hi, sum[i]);
    int bad = 0;
    for (int i = 0; i < 6; i++) bad += abs(over[(i / 3) * 4 + i % 3] - (int)lrintf((sum[i] - lo) / (hi - lo) * 255)) > 1;
    CHECK(bad == 0, "additive overlay as keras.io");
  }
  /* upsampling a 1x1 map fills the image; RGBA input with stride */
  uint8_t rgba[2 * 2 * 4 + 8] = {0};
  uint8_t big[16 * 4];
  CHECK_STATUS(gc_render(&one, rgba, 4, 4, 0, GC_PIXEL_RGBA8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ALPHA, big, NULL), GC_OK);
  CHECK(near(big, 128, 0, 0) && near(big + 60, 128, 0, 0), "1x1 map upsampled");
  /* 3-channel maps render as an image of the gradient */
  float g3[6] = {1, -1, 0, 0, 0, 0};
  gc_map m3 = {1, 2, 3, g3};
  CHECK_STATUS(gc_render(&m3, img, 2, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ALPHA, heat, over), GC_OK);
  CHECK(heat[0] > 128 && heat[1] < 128 && near(heat + 4, 128, 128, 128) && !memcmp(heat, over, 8), "gradient image");
  /* bad arguments */
  CHECK_STATUS(gc_render(&m, img, 2, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, 1.5f, GC_BLEND_ALPHA, heat, over),
               GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_render(&m, img, 2, 1, 6, GC_PIXEL_RGB8, (gc_colormap)17, 0.4f, GC_BLEND_ALPHA, heat, over),
               GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_render(&m, img, 0, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ALPHA, heat, over), GC_ERR_IMAGE_SIZE);
  CHECK_STATUS(gc_render(&m, img, 2, 1, 5, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ALPHA, heat, over), GC_ERR_IMAGE_INVALID);
  CHECK_STATUS(gc_render(NULL, img, 2, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ALPHA, heat, over), GC_ERR_INVALID_ARGUMENT);
  for (int i = 0; i < GC_COLORMAP_COUNT; i++) {
    gc_colormap c;
    CHECK(gc_colormap_from_name(gc_colormap_name((gc_colormap)i), &c) == GC_OK && c == (gc_colormap)i, "colormap %d", i);
  }
  gc_colormap c;
  CHECK_STATUS(gc_colormap_from_name("rainbow", &c), GC_ERR_INVALID_ARGUMENT);
}

static int cmp_float(const void *a, const void *b) {
  const float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* GC_SCALE_PERCENTILE: p = the 99th percentile of |v| (k = floor(0.99 (n - 1)) in sorted order,
 * found here with qsort); non-negative maps min(v / p, 1), signed and RGB 0.5 + 0.5 v / p. */
static void test_percentile_scale(void) {
  enum { N = 100 };
  static float v[N * N], sorted[N * N];
  static uint8_t heat[N * N * 4];
  for (int i = 0; i < N * N; i++) v[i] = (float)((i * 7919) % (N * N)); /* 0..9999, shuffled */
  v[5] = NAN; /* counts as 0 (and 0 stays in the data: 5 * 7919 % 10000 = 9595 is gone) */
  for (int i = 0; i < N * N; i++) sorted[i] = isfinite(v[i]) ? fabsf(v[i]) : 0.0f;
  qsort(sorted, N * N, sizeof *sorted, cmp_float);
  const float p = sorted[(int)(0.99 * (N * N - 1))];
  gc_map m = {N, N, 1, v};
  CHECK_STATUS(gc_render_scaled(&m, NULL, N, N, 0, GC_PIXEL_RGB8, GC_COLORMAP_GRAY, GC_SCALE_PERCENTILE, 0.4f,
                                GC_BLEND_ALPHA, heat, NULL), GC_OK);
  CHECK(p == 9899.0f, "by construction p99 is 9899 (9595 became a second 0), not %g", p);
  int bad = 0;
  for (int i = 0; i < N * N; i++) {
    const float x = isfinite(v[i]) ? v[i] : 0.0f;
    const float t = x / p > 1 ? 1 : x / p;
    bad += abs(heat[4 * i] - (int)(t * 255.0f + 0.5f)) > 0;
  }
  CHECK(bad == 0, "grey = min(v / p99, 1) at every pixel (%d differ, p %g)", bad, p);
  CHECK_STATUS(gc_render_scaled(&m, NULL, N, N, 0, GC_PIXEL_RGB8, GC_COLORMAP_GRAY, GC_SCALE_MAX, 0.4f,
                                GC_BLEND_ALPHA, heat, NULL), GC_OK);
  CHECK(heat[4 * 2] != (int)(v[2] / p * 255.0f + 0.5f), "the max scale differs (%d)", heat[4 * 2]);

  /* a signed map with the diverging colormap: -p blue, 0 near-white, +p red */
  float s3[3] = {-2, 0, 2};
  gc_map ms = {1, 3, 1, s3};
  uint8_t h3[12];
  CHECK_STATUS(gc_render_scaled(&ms, NULL, 3, 1, 0, GC_PIXEL_RGB8, GC_COLORMAP_DIVERGING, GC_SCALE_PERCENTILE, 0.4f,
                                GC_BLEND_ALPHA, h3, NULL), GC_OK);
  CHECK(near(h3, 5, 48, 97) && near(h3 + 4, 247, 247, 247) && near(h3 + 8, 103, 0, 31),
        "diverging: blue, white, red (%d %d %d / %d %d %d / %d %d %d)", h3[0], h3[1], h3[2], h3[4], h3[5], h3[6], h3[8],
        h3[9], h3[10]);

  /* an RGB map: zero is mid-grey, +-p saturates; the overlay is the same picture */
  float g3[6] = {1, -1, 0, 0, 0, 0};
  gc_map m3 = {1, 2, 3, g3};
  const uint8_t img[6] = {10, 20, 30, 40, 50, 60};
  uint8_t over[8];
  CHECK_STATUS(gc_render_scaled(&m3, img, 2, 1, 6, GC_PIXEL_RGB8, GC_COLORMAP_JET, GC_SCALE_PERCENTILE, 0.4f,
                                GC_BLEND_ALPHA, h3, over), GC_OK);
  CHECK(near(h3, 255, 0, 128) && near(h3 + 4, 128, 128, 128) && !memcmp(h3, over, 8),
        "RGB: 0.5 + 0.5 g / p (%d %d %d / %d %d %d)", h3[0], h3[1], h3[2], h3[4], h3[5], h3[6]);

  /* a map that is zero but for a few pixels (p99 = 0): scaled by its largest magnitude instead */
  static float sparse[N * N];
  sparse[17] = 4.0f;
  sparse[18] = 2.0f;
  gc_map msp = {N, N, 1, sparse};
  CHECK_STATUS(gc_render_scaled(&msp, NULL, N, N, 0, GC_PIXEL_RGB8, GC_COLORMAP_GRAY, GC_SCALE_PERCENTILE, 0.4f,
                                GC_BLEND_ALPHA, heat, NULL), GC_OK);
  CHECK(heat[4 * 17] == 255 && heat[4 * 18] == 128 && heat[0] == 0, "sparse map: v / max (%d %d)", heat[4 * 17],
        heat[4 * 18]);
  float zero[4] = {0, 0, 0, 0};
  gc_map mz = {2, 2, 1, zero};
  CHECK_STATUS(gc_render_scaled(&mz, NULL, 2, 2, 0, GC_PIXEL_RGB8, GC_COLORMAP_GRAY, GC_SCALE_PERCENTILE, 0.4f,
                                GC_BLEND_ALPHA, heat, NULL), GC_OK);
  CHECK(heat[0] == 0 && heat[12] == 0, "an all-zero map stays black, no NaN");
  CHECK_STATUS(gc_render_scaled(&mz, NULL, 2, 2, 0, GC_PIXEL_RGB8, GC_COLORMAP_GRAY, (gc_scale)7, 0.4f,
                                GC_BLEND_ALPHA, heat, NULL), GC_ERR_INVALID_ARGUMENT);
}

static void test_resize(void) {
  const float src[4] = {0, 1, 2, 3}; /* 2x2 */
  float dst[16];
  gc_resize_map(src, 2, 2, dst, 4, 4);
  CHECK(dst[0] == 0 && dst[3] == 1 && dst[12] == 2 && dst[15] == 3, "corners clamp");
  CHECK(fabsf(dst[1] - 0.25f) < 1e-6f && fabsf(dst[5] - 0.75f) < 1e-6f, "bilinear at pixel centres (%g %g)", dst[1], dst[5]);
}

int main(void) {
  test_normalize();
  test_colormaps();
  test_percentile_scale();
  test_resize();
  return check_report("test_render");
}
