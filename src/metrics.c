/* metrics.c - faithfulness of an explanation map: deletion / insertion curves and their AUC
 * (Petsiuk et al. 2018, RISE), average drop and increase in confidence (Chattopadhay et al.
 * 2018, Grad-CAM++). All the perturbed inputs run as batched forward passes. */
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
  const int total = 2 * (steps + 1) + 1; /* deletion, insertion, masked input */
  const int B = gc_batch_budget(m, h, w, total);
  float *x = malloc(n * 3 * sizeof *x), *base = malloc(n * 3 * sizeof *base);
  float *low = malloc((size_t)map->height * map->width * sizeof *low), *imp = malloc(n * sizeof *imp);
  float *batch = gc_alloc_buffer((size_t)B * n * 3);
  ranked *order = malloc(n * sizeof *order);
  float *probs = malloc((size_t)total * sizeof *probs);
  float *sc = malloc((size_t)m->nclasses * 2 * sizeof *sc), *pr = sc ? sc + m->nclasses : NULL;
  gc_status s = GC_OK;
  if (!x || !base || !low || !imp || !batch || !order || !probs || !sc) {
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
    blur(x, h, w, base, batch); /* batch doubles as scratch here */
  } else {
    double mean[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) mean[k] += x[i * 3 + k];
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) base[i * 3 + k] = (float)(mean[k] / (double)n);
  }
  /* image j of the run: 0..steps deletion, steps+1..2 steps+1 insertion, last: x * map */
  for (int j0 = 0; j0 < total && s == GC_OK; j0 += B) {
    const int nb = total - j0 < B ? total - j0 : B;
    for (int b = 0; b < B; b++) {
      float *dst = batch + (size_t)b * n * 3;
      const int j = j0 + (b < nb ? b : 0);
      if (j == total - 1) {
        for (size_t i = 0; i < n; i++)
          for (int k = 0; k < 3; k++) dst[i * 3 + k] = x[i * 3 + k] * imp[i];
        continue;
      }
      const int del = j <= steps;
      const int step = del ? j : j - steps - 1;
      const size_t cut = (size_t)((double)step * n / steps + 0.5);
      memcpy(dst, del ? x : base, n * 3 * sizeof *dst);
      const float *src = del ? base : x;
      for (size_t r = 0; r < cut; r++) {
        const size_t i = (size_t)order[r].i;
        for (int k = 0; k < 3; k++) dst[i * 3 + k] = src[i * 3 + k];
      }
    }
    if (gc_model_cancelled(m, j0, total)) {
      s = GC_ERR_CANCELLED;
      break;
    }
    s = gc_forward_batch(m, batch, B, h, w);
    for (int b = 0; s == GC_OK && b < nb; b++) {
      gc_batch_scores(m, b, sc);
      gc_scores_to_probs(m, sc, pr);
      probs[j0 + b] = pr[c];
    }
  }
  if (s == GC_OK) {
    out->steps = steps;
    for (int j = 0; j <= steps; j++) {
      out->deletion[j] = probs[j];
      out->insertion[j] = probs[steps + 1 + j];
    }
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
    s = gc_restore_forward(m, x, h, w);
  }
done:
  free(x), free(base), free(low), free(imp), free(batch), free(order), free(probs), free(sc);
  if (s == GC_ERR_CANCELLED) gc_set_error(m->error, sizeof m->error, "the metrics were cancelled; run a forward pass again");
  return s;
}
