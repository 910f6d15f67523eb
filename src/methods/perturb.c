/* perturb.c - the gradient-free CAMs that weigh a layer's channels by perturbing the network:
 * Score-CAM masks the input with each channel, Ablation-CAM zeroes each channel. Both run their
 * extra passes in batches (batch.c: forward only, in buffers of their own, so the model's pass
 * over the input stays as it is), report progress before each batch and stop when asked. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

/* Bilinear upsampling with aligned corners (PyTorch's UpsamplingBilinear2d, as pytorch-grad-cam's
 * Score-CAM uses it): output pixel o samples the input at o (in - 1) / (out - 1). */
static void upsample_aligned(const float *src, int sh, int sw, float *dst, int dh, int dw) {
  for (int y = 0; y < dh; y++) {
    const double fy = dh > 1 ? (double)y * (sh - 1) / (dh - 1) : 0.0;
    const int y0 = (int)fy, y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
    const float ty = (float)(fy - y0);
    for (int x = 0; x < dw; x++) {
      const double fx = dw > 1 ? (double)x * (sw - 1) / (dw - 1) : 0.0;
      const int x0 = (int)fx, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
      const float tx = (float)(fx - x0);
      const float top = src[y0 * sw + x0] + (src[y0 * sw + x1] - src[y0 * sw + x0]) * tx;
      const float bot = src[y1 * sw + x0] + (src[y1 * sw + x1] - src[y1 * sw + x0]) * tx;
      dst[(size_t)y * dw + x] = top + (bot - top) * ty;
    }
  }
}

/* The N channels with the largest mean activation (ties to the lower index); N = K: all, in order. */
static void top_channels(const float *A, size_t hw, int K, int N, int *ch) {
  if (N == K) {
    for (int k = 0; k < K; k++) ch[k] = k;
    return;
  }
  double *mean = calloc((size_t)K, sizeof *mean);
  if (!mean) { /* fall back to the first N: only reached when memory is gone anyway */
    for (int j = 0; j < N; j++) ch[j] = j;
    return;
  }
  for (size_t q = 0; q < hw; q++)
    for (int k = 0; k < K; k++) mean[k] += A[q * K + k];
  char *taken = calloc((size_t)K, 1);
  for (int j = 0; j < N; j++) {
    int best = -1;
    for (int k = 0; k < K; k++)
      if (!(taken && taken[k]) && (best < 0 || mean[k] > mean[best])) best = k;
    ch[j] = best;
    if (taken) taken[best] = 1;
  }
  free(taken);
  free(mean);
}

typedef struct masks {
  gc_method_ctx *c;
  const int *ch;     /* the channels, in order */
  float *chan, *up;  /* H x W and xh x xw scratch */
  double *score;     /* one per channel */
  float *sc;         /* 2 x classes of scratch */
} masks;

/* Version j: the input times channel ch[j], upsampled with aligned corners and min-max
 * normalised (+1e-8). */
static void fill_masked(void *user, int j, float *dst) {
  const masks *s = user;
  const gc_method_ctx *c = s->c;
  const size_t hw = (size_t)c->H * c->W, xn = (size_t)c->xh * c->xw;
  for (size_t q = 0; q < hw; q++) s->chan[q] = c->A[q * c->K + s->ch[j]];
  upsample_aligned(s->chan, c->H, c->W, s->up, c->xh, c->xw);
  float lo = INFINITY, hi = -INFINITY;
  for (size_t q = 0; q < xn; q++) lo = s->up[q] < lo ? s->up[q] : lo, hi = s->up[q] > hi ? s->up[q] : hi;
  const float range = hi - lo + 1e-8f;
  for (size_t q = 0; q < xn; q++) {
    const float mv = (s->up[q] - lo) / range;
    for (int cc = 0; cc < 3; cc++) dst[q * 3 + cc] = c->x[q * 3 + cc] * mv;
  }
}

static void score_masked(void *user, int first, int count) {
  masks *s = user;
  gc_model *m = s->c->m;
  for (int b = 0; b < count; b++) {
    gc_batch_scores(m, b, s->sc);
    s->score[first + b] = gc_target_score(m, s->sc, s->sc + m->nclasses, s->c->cls, s->c->contrast, s->c->p->target);
  }
}

/* Score-CAM (Wang et al. 2020), as pytorch-grad-cam computes it: each channel upsampled to the
 * input with aligned corners, min-max normalised (+1e-8), multiplies the input; the channel's
 * weight is the softmax over channels of the explained score of that masked input. */
gc_status gc_cam_scorecam(gc_method_ctx *c) {
  gc_model *m = c->m;
  const int K = c->K;
  const size_t hw = (size_t)c->H * c->W;
  const int N = c->p->scorecam_channels == 0 || c->p->scorecam_channels > K ? K : c->p->scorecam_channels;
  int *ch = malloc((size_t)N * sizeof *ch);
  masks s = {c, ch, malloc(hw * sizeof(float)), malloc((size_t)c->xh * c->xw * sizeof(float)),
             calloc((size_t)N, sizeof(double)), malloc((size_t)m->nclasses * 2 * sizeof(float))};
  gc_status st = ch && s.chan && s.up && s.score && s.sc ? GC_OK : GC_ERR_OUT_OF_MEMORY;
  if (st == GC_OK) {
    top_channels(c->A, hw, K, N, ch);
    st = gc_forward_versions(m, 0, N, fill_masked, score_masked, &s);
  }
  if (st == GC_OK) {
    double mx = -INFINITY, sum = 0.0;
    for (int j = 0; j < N; j++) mx = s.score[j] > mx ? s.score[j] : mx;
    for (int j = 0; j < N; j++) sum += exp(s.score[j] - mx);
    for (int k = 0; k < K; k++) c->w[k] = 0.0;
    for (int j = 0; j < N; j++) c->w[ch[j]] = exp(s.score[j] - mx) / sum;
  }
  free(ch), free(s.chan), free(s.up), free(s.score), free(s.sc);
  return st;
}

typedef struct ablation {
  gc_method_ctx *c;
  const float *A; /* the layer's value, H x W x K */
  size_t hw;
  float value;    /* what an ablated channel is set to */
  double y;       /* the explained score without ablation */
  float *sc;      /* 2 x classes of scratch */
} ablation;

static void fill_ablated(void *user, int k, float *dst) {
  const ablation *a = user;
  const int K = a->c->K;
  memcpy(dst, a->A, a->hw * (size_t)K * sizeof *dst);
  for (size_t q = 0; q < a->hw; q++) dst[q * K + k] = a->value;
}

static void score_ablated(void *user, int first, int count) {
  ablation *a = user;
  gc_model *m = a->c->m;
  for (int b = 0; b < count; b++) {
    gc_batch_scores(m, b, a->sc);
    const double yk = gc_target_score(m, a->sc, a->sc + m->nclasses, a->c->cls, a->c->contrast, a->c->p->target);
    a->c->w[first + b] = (a->y - yk) / a->y;
  }
}

/* Ablation-CAM (Desai & Ramaswamy 2020), as pytorch-grad-cam computes it: w_k = (y - y_k) / y,
 * y_k the explained score with channel k of the layer set to 0 (to min(A) - 1e7 when the layer's
 * minimum is not 0); only the rows after the layer run again, in batches of channels. A
 * pre-activation (*_bn) layer is ablated in its ReLU's output, which its zeroed channel becomes. */
gc_status gc_cam_ablationcam(gc_method_ctx *c) {
  gc_model *m = c->m;
  const size_t hw = (size_t)c->H * c->W;
  const int K = c->K;
  int pre;
  const int row = gc_model_find_layer(m, c->layer, &pre);
  float *A = malloc(hw * (size_t)K * sizeof *A), *sc = malloc((size_t)m->nclasses * 2 * sizeof *sc);
  gc_status s = row < 0 ? GC_ERR_LAYER_UNKNOWN : GC_OK;
  if (s == GC_OK && (!A || !sc)) s = GC_ERR_OUT_OF_MEMORY;
  if (s == GC_OK) {
    const float *v = c->A;
    gc_shape sh;
    if (pre) s = gc_model_activation(m, m->rows[row].def->name, &v, &sh); /* the ReLU's output */
    if (s == GC_OK) memcpy(A, v, hw * (size_t)K * sizeof *A);
  }
  if (s == GC_OK) {
    float lo = INFINITY;
    for (size_t i = 0; i < hw * (size_t)K; i++) lo = A[i] < lo ? A[i] : lo;
    ablation ab = {c, A, hw, pre || lo == 0.0f ? 0.0f : lo - 1e7f, 0.0, sc};
    ab.y = gc_target_score(m, m->scores, sc + m->nclasses, c->cls, c->contrast, c->p->target);
    s = gc_forward_versions(m, row, K, fill_ablated, score_ablated, &ab);
  }
  free(A), free(sc);
  return s;
}
