/* metrics.c - faithfulness of an explanation map: deletion / insertion curves and their AUC
 * (Petsiuk et al. 2018, RISE), average drop and increase in confidence (Chattopadhay et al.
 * 2018, Grad-CAM++). All the perturbed inputs run as batched forward-only passes (batch.c), which
 * leave the model's pass over the input as it is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

typedef struct ranked {
  float v;
  int i;
} ranked;

static int by_importance(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? 1 : -1; /* descending */
  return (x->i > y->i) - (x->i < y->i);           /* ties: lower index first */
}

/* Separable Gaussian blur (sigma 5 px, radius 10, edges clamped) of an NHWC 3-channel image. */
static void blur(const float *x, int h, int w, float *out, float *tmp) {
  float k[21];
  float sum = 0.0f;
  for (int i = -10; i <= 10; i++) sum += k[i + 10] = expf(-(float)(i * i) / (2.0f * 25.0f));
  for (int i = 0; i < 21; i++) k[i] /= sum;
  for (int y = 0; y < h; y++)
    for (int xx = 0; xx < w; xx++)
      for (int c = 0; c < 3; c++) {
        float acc = 0.0f;
        for (int i = -10; i <= 10; i++) {
          int sx = xx + i < 0 ? 0 : xx + i >= w ? w - 1 : xx + i;
          acc += k[i + 10] * x[((size_t)y * w + sx) * 3 + c];
        }
        tmp[((size_t)y * w + xx) * 3 + c] = acc;
      }
  for (int y = 0; y < h; y++)
    for (int xx = 0; xx < w; xx++)
      for (int c = 0; c < 3; c++) {
        float acc = 0.0f;
        for (int i = -10; i <= 10; i++) {
          int sy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
          acc += k[i + 10] * tmp[((size_t)sy * w + xx) * 3 + c];
        }
        out[((size_t)y * w + xx) * 3 + c] = acc;
      }
}

typedef struct run {
  gc_model *m;
  const float *x, *base, *imp;
  const ranked *order;
  size_t n;
  int steps, total, c;
  float *probs, *sc;
} run;

/* Image v of the 2 * steps images that run: deletion steps 1..steps (the last is the baseline),
 * insertion steps 1..steps-1, the last: x * map. The others repeat one of these or the input
 * itself, whose probability the model's pass already has: deletion 0 and insertion `steps` are
 * the input, insertion 0 is deletion `steps`. */
static void fill_image(void *user, int v, float *dst) {
  const run *r = user;
  const size_t n = r->n;
  if (v == r->total - 1) {
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) dst[i * 3 + k] = r->x[i * 3 + k] * r->imp[i];
    return;
  }
  const int del = v < r->steps;
  const int step = del ? v + 1 : v - r->steps + 1;
  const size_t cut = (size_t)((double)step * n / r->steps + 0.5);
  memcpy(dst, del ? r->x : r->base, n * 3 * sizeof *dst);
  const float *src = del ? r->base : r->x;
  for (size_t q = 0; q < cut; q++) {
    const size_t i = (size_t)r->order[q].i;
    for (int k = 0; k < 3; k++) dst[i * 3 + k] = src[i * 3 + k];
  }
}

static void read_probs(void *user, int first, int count) {
  run *r = user;
  float *pr = r->sc + r->m->nclasses;
  for (int b = 0; b < count; b++) {
    gc_batch_scores(r->m, b, r->sc);
    gc_scores_to_probs(r->m, r->sc, pr);
    r->probs[first + b] = pr[r->c];
  }
}

gc_status gc_model_metrics(gc_model *m, const gc_map *map, int c, int steps, gc_baseline baseline, gc_metrics *out) {
  if (!m || !map || !out || !map->data || map->channels != 1 || map->height < 1 || map->width < 1 || steps < 1 ||
      steps > GC_MAX_METRIC_STEPS || (baseline != GC_BASELINE_BLUR && baseline != GC_BASELINE_MEAN))
    return GC_ERR_INVALID_ARGUMENT;
  if (!m->nclasses) return GC_ERR_NO_HEAD;
  if (c < 0 || c >= m->nclasses) return GC_ERR_CLASS_OUT_OF_RANGE;
  if (!m->ran) return GC_ERR_NOT_RUN;
  memset(out, 0, sizeof *out);
  const int h = m->nodes[0].h, w = m->nodes[0].w;
  const size_t n = (size_t)h * w;
  const int total = 2 * steps; /* the images that run (fill_image) */
  float *x = malloc(n * 3 * sizeof *x), *base = malloc(n * 3 * sizeof *base), *tmp = malloc(n * 3 * sizeof *tmp);
  float *low = malloc((size_t)map->height * map->width * sizeof *low), *imp = malloc(n * sizeof *imp);
  ranked *order = malloc(n * sizeof *order);
  float *probs = malloc((size_t)total * sizeof *probs);
  float *sc = malloc((size_t)m->nclasses * 2 * sizeof *sc);
  gc_status s = GC_OK;
  if (!x || !base || !tmp || !low || !imp || !order || !probs || !sc) {
    s = GC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  memcpy(x, m->nodes[0].out, n * 3 * sizeof *x);
  const float p0 = m->probs[c];
  gc_normalize_map(map, low);
  gc_resize_map(low, map->height, map->width, imp, h, w);
  for (size_t i = 0; i < n; i++) order[i] = (ranked){imp[i], (int)i};
  qsort(order, n, sizeof *order, by_importance);
  if (baseline == GC_BASELINE_BLUR) {
    blur(x, h, w, base, tmp);
  } else {
    double mean[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) mean[k] += x[i * 3 + k];
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) base[i * 3 + k] = (float)(mean[k] / (double)n);
  }
  run r = {m, x, base, imp, order, n, steps, total, c, probs, sc};
  s = gc_forward_versions(m, 0, total, fill_image, read_probs, &r);
  if (s == GC_OK) {
    out->steps = steps;
    out->deletion[0] = out->insertion[steps] = p0;
    for (int j = 1; j <= steps; j++) out->deletion[j] = probs[j - 1];
    out->insertion[0] = out->deletion[steps];
    for (int j = 1; j < steps; j++) out->insertion[j] = probs[steps + j - 1];
    double d = 0, in = 0;
    for (int j = 0; j < steps; j++) {
      d += 0.5 * (out->deletion[j] + out->deletion[j + 1]) / steps;
      in += 0.5 * (out->insertion[j] + out->insertion[j + 1]) / steps;
    }
    out->deletion_auc = (float)d;
    out->insertion_auc = (float)in;
    const float pm = probs[total - 1];
    out->average_drop = p0 > 0 ? (p0 - pm > 0 ? (p0 - pm) / p0 : 0.0f) : 0.0f;
    out->increase_in_confidence = pm > p0;
  }
done:
  free(x), free(base), free(tmp), free(low), free(imp), free(order), free(probs), free(sc);
  if (s == GC_ERR_CANCELLED) gc_set_error(m->error, sizeof m->error, "the metrics were cancelled");
  return s;
}
