/* render.c - from a raw map to canvas-ready RGBA: normalise, upsample, colourise, overlay.
 * Shared by the CLI and the browser so both draw exactly the same pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* piecewise-linear channel through (x, y) knots */
static float knots(const float (*k)[2], int n, float x) {
  if (x <= k[0][0]) return k[0][1];
  for (int i = 1; i < n; i++)
    if (x <= k[i][0]) return k[i - 1][1] + (k[i][1] - k[i - 1][1]) * (x - k[i - 1][0]) / (k[i][0] - k[i - 1][0]);
  return k[n - 1][1];
}

/* matplotlib's "jet" (its segment data) */
static void jet(float x, float *rgb) {
  static const float r[][2] = {{0, 0}, {0.35f, 0}, {0.66f, 1}, {0.89f, 1}, {1, 0.5f}};
  static const float g[][2] = {{0, 0}, {0.125f, 0}, {0.375f, 1}, {0.64f, 1}, {0.91f, 0}, {1, 0}};
  static const float b[][2] = {{0, 0.5f}, {0.11f, 1}, {0.34f, 1}, {0.65f, 0}, {1, 0}};
  rgb[0] = knots(r, 5, x);
  rgb[1] = knots(g, 6, x);
  rgb[2] = knots(b, 5, x);
}

/* 10 evenly spaced samples of a perceptual colormap, linearly interpolated */
static void stops(const unsigned char (*s)[3], float x, float *rgb) {
  const float t = x * 9.0f;
  int i = (int)t;
  if (i > 8) i = 8;
  const float f = t - i;
  for (int c = 0; c < 3; c++) rgb[c] = (s[i][c] + (s[i + 1][c] - s[i][c]) * f) / 255.0f;
}

static void viridis(float x, float *rgb) {
  static const unsigned char s[10][3] = {{68, 1, 84},    {72, 40, 120},  {62, 74, 137},  {49, 104, 142},
                                         {38, 130, 142}, {31, 158, 137}, {53, 183, 121}, {109, 205, 89},
                                         {180, 222, 44}, {253, 231, 37}};
  stops(s, x, rgb);
}

static void inferno(float x, float *rgb) {
  static const unsigned char s[10][3] = {{0, 0, 4},      {27, 12, 66},   {75, 12, 107},  {120, 28, 109},
                                         {165, 44, 96},  {207, 68, 70},  {237, 105, 37}, {251, 154, 6},
                                         {247, 208, 60}, {252, 255, 164}};
  stops(s, x, rgb);
}

/* Google's Turbo, its published degree-5 polynomial approximation */
static void turbo(float x, float *rgb) {
  const double t = x;
  const double r = 0.13572138 + t * (4.61539260 + t * (-42.66032258 + t * (132.13108234 + t * (-152.94239396 + t * 59.28637943))));
  const double g = 0.09140261 + t * (2.19418839 + t * (4.84296658 + t * (-14.18503333 + t * (4.27729857 + t * 2.82956604))));
  const double b = 0.10667330 + t * (12.64194608 + t * (-60.58204836 + t * (110.36276771 + t * (-89.90310912 + t * 27.34824973))));
  rgb[0] = (float)(r < 0 ? 0 : r > 1 ? 1 : r);
  rgb[1] = (float)(g < 0 ? 0 : g > 1 ? 1 : g);
  rgb[2] = (float)(b < 0 ? 0 : b > 1 ? 1 : b);
}

/* ColorBrewer's RdBu, reversed: negative blue, zero near-white, positive red */
static void diverging(float x, float *rgb) {
  static const float r[][2] = {{0, 5 / 255.f}, {0.25f, 67 / 255.f}, {0.5f, 247 / 255.f}, {0.75f, 214 / 255.f}, {1, 103 / 255.f}};
  static const float g[][2] = {{0, 48 / 255.f}, {0.25f, 147 / 255.f}, {0.5f, 247 / 255.f}, {0.75f, 96 / 255.f}, {1, 0}};
  static const float b[][2] = {{0, 97 / 255.f}, {0.25f, 195 / 255.f}, {0.5f, 247 / 255.f}, {0.75f, 77 / 255.f}, {1, 31 / 255.f}};
  rgb[0] = knots(r, 5, x);
  rgb[1] = knots(g, 5, x);
  rgb[2] = knots(b, 5, x);
}

static void colorize(gc_colormap c, float x, float *rgb) {
  x = x < 0 ? 0 : x > 1 ? 1 : x;
  switch (c) {
    case GC_COLORMAP_VIRIDIS: viridis(x, rgb); break;
    case GC_COLORMAP_INFERNO: inferno(x, rgb); break;
    case GC_COLORMAP_TURBO: turbo(x, rgb); break;
    case GC_COLORMAP_GRAY: rgb[0] = rgb[1] = rgb[2] = x; break;
    case GC_COLORMAP_DIVERGING: diverging(x, rgb); break;
    default: jet(x, rgb); break;
  }
}

void gc_resize_map(const float *src, int sh, int sw, float *dst, int dh, int dw) {
  for (int y = 0; y < dh; y++) {
    double fy = ((double)y + 0.5) * sh / dh - 0.5;
    if (fy < 0) fy = 0;
    if (fy > sh - 1) fy = sh - 1;
    const int y0 = (int)fy, y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
    const float wy = (float)(fy - y0);
    for (int x = 0; x < dw; x++) {
      double fx = ((double)x + 0.5) * sw / dw - 0.5;
      if (fx < 0) fx = 0;
      if (fx > sw - 1) fx = sw - 1;
      const int x0 = (int)fx, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
      const float wx = (float)(fx - x0);
      const float top = src[y0 * sw + x0] + (src[y0 * sw + x1] - src[y0 * sw + x0]) * wx;
      const float bot = src[y1 * sw + x0] + (src[y1 * sw + x1] - src[y1 * sw + x0]) * wx;
      dst[(size_t)y * dw + x] = top + (bot - top) * wy;
    }
  }
}

static int valid_map(const gc_map *m) {
  return m && m->data && m->height > 0 && m->width > 0 && m->height <= 65536 && m->width <= 65536 &&
         (m->channels == 1 || m->channels == 3);
}

gc_status gc_normalize_map(const gc_map *map, float *out) {
  if (!valid_map(map) || map->channels != 1 || !out) return GC_ERR_INVALID_ARGUMENT;
  const size_t n = (size_t)map->height * map->width;
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    const float v = isfinite(map->data[i]) ? map->data[i] : 0.0f;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (lo >= 0.0f) lo = 0.0f; /* non-negative maps: h / max(h), as keras.io */
  const float range = hi - lo;
  for (size_t i = 0; i < n; i++) {
    const float v = isfinite(map->data[i]) ? map->data[i] : 0.0f;
    out[i] = range > 0.0f && isfinite(range) ? (v - lo) / range : 0.0f;
  }
  return GC_OK;
}

/* The 99th percentile of |v| over n values (non-finite ones count as 0), exact: the k-th
 * smallest of the magnitudes found from their bit patterns (non-negative floats order like
 * their bits) with two 16-bit histograms. Returns -1 when the histogram cannot be allocated. */
static float percentile99(const float *v, size_t n) {
  uint32_t *hist = calloc(65536, sizeof *hist);
  if (!hist) return -1.0f;
  const size_t k = (size_t)(0.99 * (double)(n - 1));
  uint32_t bits[2] = {0, 0};
  size_t rank = k;
  for (int pass = 0; pass < 2; pass++) {
    memset(hist, 0, 65536 * sizeof *hist);
    for (size_t i = 0; i < n; i++) {
      float a = isfinite(v[i]) ? fabsf(v[i]) : 0.0f;
      uint32_t u;
      memcpy(&u, &a, sizeof u);
      if (pass == 1 && (u >> 16) != bits[0]) continue;
      hist[pass == 0 ? u >> 16 : u & 0xffff]++;
    }
    uint32_t b = 0;
    while (rank >= hist[b]) rank -= hist[b++];
    bits[pass] = b;
  }
  free(hist);
  const uint32_t u = bits[0] << 16 | bits[1];
  float p;
  memcpy(&p, &u, sizeof p);
  return p;
}

/* The map's values scaled to [0, 1] as GC_SCALE_PERCENTILE says, channel by channel into
 * out (mn values per channel, planar). */
static gc_status scale_percentile(const gc_map *map, float *out) {
  const size_t mn = (size_t)map->height * map->width, e = mn * map->channels;
  float p = percentile99(map->data, e);
  if (p < 0) return GC_ERR_OUT_OF_MEMORY;
  int signed_map = map->channels == 3;
  for (size_t i = 0; i < e && !signed_map; i++) signed_map = isfinite(map->data[i]) && map->data[i] < 0;
  if (!(p > 0) || !isfinite(p)) { /* a sparse map: fall back to the largest magnitude */
    p = 0;
    for (size_t i = 0; i < e; i++)
      if (isfinite(map->data[i]) && fabsf(map->data[i]) > p) p = fabsf(map->data[i]);
  }
  for (int c = 0; c < map->channels; c++)
    for (size_t i = 0; i < mn; i++) {
      const float v = map->data[i * map->channels + c];
      const float r = p > 0 && isfinite(v) ? v / p : 0.0f;
      const float t = signed_map ? 0.5f + 0.5f * r : r;
      out[c * mn + i] = t < 0 ? 0 : t > 1 ? 1 : t;
    }
  return GC_OK;
}

static uint8_t to_byte(float v) {
  v = v * 255.0f + 0.5f;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

gc_status gc_render(const gc_map *map, const uint8_t *image, int width, int height, int stride,
                    gc_pixel_format format, gc_colormap cmap, float alpha, gc_blend blend, uint8_t *heatmap,
                    uint8_t *overlay) {
  return gc_render_scaled(map, image, width, height, stride, format, cmap, GC_SCALE_MAX, alpha, blend, heatmap,
                          overlay);
}

gc_status gc_render_scaled(const gc_map *map, const uint8_t *image, int width, int height, int stride,
                           gc_pixel_format format, gc_colormap cmap, gc_scale scale, float alpha, gc_blend blend,
                           uint8_t *heatmap, uint8_t *overlay) {
  if (!valid_map(map) || cmap < 0 || cmap >= GC_COLORMAP_COUNT || !(alpha >= 0.0f && alpha <= 1.0f) ||
      (blend != GC_BLEND_ADDITIVE && blend != GC_BLEND_ALPHA) || (scale != GC_SCALE_MAX && scale != GC_SCALE_PERCENTILE))
    return GC_ERR_INVALID_ARGUMENT;
  if (width < 1 || height < 1 || width > GC_MAX_IMAGE_SIDE || height > GC_MAX_IMAGE_SIDE ||
      (int64_t)width * height > GC_MAX_IMAGE_PIXELS)
    return GC_ERR_IMAGE_SIZE;
  if (overlay && (!image || (format != GC_PIXEL_RGB8 && format != GC_PIXEL_RGBA8) || stride < width * (int)format))
    return GC_ERR_IMAGE_INVALID;
  const size_t n = (size_t)width * height, mn = (size_t)map->height * map->width;
  float *rgb = malloc(n * 3 * sizeof *rgb); /* the heatmap as floats in [0, 1] */
  float *lowres = malloc(mn * map->channels * sizeof *lowres), *up = malloc(n * sizeof *up);
  if (!rgb || !lowres || !up) {
    free(rgb), free(lowres), free(up);
    return GC_ERR_OUT_OF_MEMORY;
  }
  if (scale == GC_SCALE_PERCENTILE) {
    gc_status s = scale_percentile(map, lowres);
    if (s != GC_OK) {
      free(rgb), free(lowres), free(up);
      return s;
    }
    for (int c = 0; c < map->channels; c++) {
      gc_resize_map(lowres + c * mn, map->height, map->width, up, height, width);
      if (map->channels == 1)
        for (size_t i = 0; i < n; i++) colorize(cmap, up[i], rgb + 3 * i);
      else
        for (size_t i = 0; i < n; i++) rgb[3 * i + c] = up[i];
    }
  } else if (map->channels == 1) {
    gc_normalize_map(map, lowres);
    gc_resize_map(lowres, map->height, map->width, up, height, width);
    for (size_t i = 0; i < n; i++) colorize(cmap, up[i], rgb + 3 * i);
  } else {
    /* gradients as an image: (g - mean) / std * 0.1 + 0.5, clipped (as pytorch-grad-cam) */
    double mean = 0.0, var = 0.0;
    const size_t e = mn * 3;
    for (size_t i = 0; i < e; i++) mean += isfinite(map->data[i]) ? map->data[i] : 0.0f;
    mean /= (double)e;
    for (size_t i = 0; i < e; i++) {
      const double d = (isfinite(map->data[i]) ? map->data[i] : 0.0f) - mean;
      var += d * d;
    }
    const double sd = sqrt(var / (double)e) + 1e-5;
    for (int c = 0; c < 3; c++) {
      for (size_t i = 0; i < mn; i++) {
        const float v = isfinite(map->data[i * 3 + c]) ? map->data[i * 3 + c] : 0.0f;
        const double t = (v - mean) / sd * 0.1 + 0.5;
        lowres[i] = (float)(t < 0 ? 0 : t > 1 ? 1 : t);
      }
      gc_resize_map(lowres, map->height, map->width, up, height, width);
      for (size_t i = 0; i < n; i++) rgb[3 * i + c] = up[i];
    }
  }
  if (heatmap)
    for (size_t i = 0; i < n; i++) {
      for (int c = 0; c < 3; c++) heatmap[4 * i + c] = to_byte(rgb[3 * i + c]);
      heatmap[4 * i + 3] = 255;
    }
  if (overlay) {
    const int ch = (int)format;
    if (map->channels == 3) { /* nothing to blend a gradient image with */
      for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) overlay[4 * i + c] = to_byte(rgb[3 * i + c]);
        overlay[4 * i + 3] = 255;
      }
    } else if (blend == GC_BLEND_ALPHA) {
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
          const uint8_t *px = image + (size_t)y * stride + (size_t)x * ch;
          const size_t i = (size_t)y * width + x;
          for (int c = 0; c < 3; c++)
            overlay[4 * i + c] = to_byte((1.0f - alpha) * px[c] / 255.0f + alpha * rgb[3 * i + c]);
          overlay[4 * i + 3] = 255;
        }
    } else {
      /* keras.io: image + alpha * 255 * jet, then array_to_img's rescale of the whole image
       * to 0..255 (x - min) / (max - min) */
      float lo = INFINITY, hi = -INFINITY;
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
          const uint8_t *px = image + (size_t)y * stride + (size_t)x * ch;
          const size_t i = (size_t)y * width + x;
          for (int c = 0; c < 3; c++) {
            const float v = px[c] + alpha * 255.0f * rgb[3 * i + c];
            rgb[3 * i + c] = v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
          }
        }
      const float range = hi > lo ? hi - lo : 1.0f;
      for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) overlay[4 * i + c] = to_byte((rgb[3 * i + c] - lo) / range);
        overlay[4 * i + 3] = 255;
      }
    }
  }
  free(rgb), free(lowres), free(up);
  return GC_OK;
}
