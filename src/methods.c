/* methods.c - the explanation methods, one function each, from a layer's activations A
 * (H x W x K) and the gradient G = dy^c/dA of the class score y^c (or from input gradients).
 * Adding a method: its name in gradcam.h and kMethods below, one function here, one test.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static const char *const kMethods[GC_METHOD_COUNT] = {
    "gradcam", "gradcam++", "hirescam", "xgradcam", "layercam", "eigencam", "scorecam",
    "saliency", "guided-backprop", "guided-gradcam", "smoothgrad", "integrated-gradients",
};

#define EPS 1e-7

const char *gc_method_name(gc_method m) { return m >= 0 && m < GC_METHOD_COUNT ? kMethods[m] : NULL; }

gc_status gc_method_from_name(const char *name, gc_method *out) {
  if (!name || !out) return GC_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < GC_METHOD_COUNT; i++)
    if (!strcmp(name, kMethods[i])) {
      *out = (gc_method)i;
      return GC_OK;
    }
  return GC_ERR_INVALID_ARGUMENT;
}

/* the CAM family, and Guided Grad-CAM whose Grad-CAM factor is computed at the layer */
int gc_method_uses_layer(gc_method m) { return m <= GC_METHOD_SCORECAM || m == GC_METHOD_GUIDED_GRADCAM; }

gc_explain_params gc_default_explain_params(void) {
  gc_explain_params p;
  memset(&p, 0, sizeof p);
  p.method = GC_METHOD_GRADCAM;
  p.class_index = -1;
  p.layer = "block14_sepconv2_act";
  p.target = GC_TARGET_LOGIT;
  p.scorecam_channels = 32;
  p.smoothgrad_samples = 8;
  p.smoothgrad_sigma = 0.15f;
  p.seed = 1;
  p.ig_steps = 16;
  return p;
}

static void relu_inplace(float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(x[i] > 0.0f)) x[i] = 0.0f;
}

/* cam = sum_k w_k A_k */
static void weighted_sum(const float *A, const double *w, size_t hw, int K, float *cam) {
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0;
    for (int k = 0; k < K; k++) acc += w[k] * A[p * K + k];
    cam[p] = (float)acc;
  }
}

/* Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij G_ij^k, L = ReLU(sum_k w_k A^k). Takes the
 * spatial sums of G (gc_gradient_sums computes them without the full map where it can). */
static void gradcam(const float *A, double *w, size_t hw, int K, float *cam) {
  for (int k = 0; k < K; k++) w[k] /= (double)hw;
  weighted_sum(A, w, hw, K, cam);
  relu_inplace(cam, hw);
}

/* Grad-CAM++ (Chattopadhay et al. 2018): a = G^2 / (2 G^2 + sum_ab A_ab * G^3), 0 where G = 0;
 * w_k = sum_ij a_ij ReLU(G_ij); L = ReLU(sum_k w_k A^k). */
static void gradcam_pp(const float *A, const float *G, size_t hw, int K, double *w, float *cam) {
  for (int k = 0; k < K; k++) {
    double sa = 0.0;
    for (size_t p = 0; p < hw; p++) sa += A[p * K + k];
    double acc = 0.0;
    for (size_t p = 0; p < hw; p++) {
      const double g = G[p * K + k];
      if (g == 0.0) continue;
      const double a = g * g / (2.0 * g * g + sa * g * g * g + EPS);
      acc += a * (g > 0 ? g : 0.0);
    }
    w[k] = acc;
  }
  weighted_sum(A, w, hw, K, cam);
  relu_inplace(cam, hw);
}

/* HiResCAM (Draelos & Carin 2020): L = ReLU(sum_k G^k * A^k), elementwise. */
static void hirescam(const float *A, const float *G, size_t hw, int K, float *cam) {
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0;
    for (int k = 0; k < K; k++) acc += (double)G[p * K + k] * A[p * K + k];
    cam[p] = (float)acc;
  }
  relu_inplace(cam, hw);
}

/* XGrad-CAM (Fu et al. 2020): w_k = sum_ij (A_ij^k / sum_ab A_ab^k) G_ij^k; L = ReLU(sum_k w_k A^k). */
static void xgradcam(const float *A, const float *G, size_t hw, int K, double *w, float *cam) {
  for (int k = 0; k < K; k++) {
    double sa = 0.0, acc = 0.0;
    for (size_t p = 0; p < hw; p++) {
      sa += A[p * K + k];
      acc += (double)A[p * K + k] * G[p * K + k];
    }
    w[k] = acc / (sa + EPS);
  }
  weighted_sum(A, w, hw, K, cam);
  relu_inplace(cam, hw);
}

/* LayerCAM (Jiang et al. 2021): L = ReLU(sum_k ReLU(G^k) * A^k), elementwise. */
static void layercam(const float *A, const float *G, size_t hw, int K, float *cam) {
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0;
    for (int k = 0; k < K; k++) {
      const float g = G[p * K + k];
      if (g > 0) acc += (double)g * A[p * K + k];
    }
    cam[p] = (float)acc;
  }
  relu_inplace(cam, hw);
}

/* Eigen-CAM (Muhammad & Yeasin 2020): L = ReLU(projection of the mean-centred (HW x K)
 * activations on their first principal component), the component's sign chosen so the map
 * correlates positively with the channel mean of A. Power iteration on X^T X. */
static gc_status eigencam(gc_model *m, const float *A, size_t hw, int K, float *cam) {
  float *X = gc_model_buffer(&m->work[1], &m->work_cap[1], hw * (size_t)K);
  double *mean = calloc((size_t)K, sizeof *mean), *v = calloc((size_t)K, sizeof *v), *u = calloc(hw, sizeof *u);
  double *nv = calloc((size_t)K, sizeof *nv);
  if (!X || !mean || !v || !u || !nv) {
    free(mean), free(v), free(u), free(nv);
    return GC_ERR_OUT_OF_MEMORY;
  }
  for (size_t p = 0; p < hw; p++)
    for (int k = 0; k < K; k++) mean[k] += A[p * K + k];
  for (int k = 0; k < K; k++) mean[k] /= (double)hw;
  for (size_t p = 0; p < hw; p++)
    for (int k = 0; k < K; k++) X[p * K + k] = (float)(A[p * K + k] - mean[k]);
  /* start from the direction of the largest-variance channel mix: all ones */
  for (int k = 0; k < K; k++) v[k] = 1.0 / sqrt((double)K);
  for (int it = 0; it < 200; it++) {
    for (size_t p = 0; p < hw; p++) {
      double acc = 0.0;
      for (int k = 0; k < K; k++) acc += X[p * K + k] * v[k];
      u[p] = acc;
    }
    memset(nv, 0, (size_t)K * sizeof *nv);
    for (size_t p = 0; p < hw; p++)
      for (int k = 0; k < K; k++) nv[k] += X[p * K + k] * u[p];
    double norm = 0.0, diff = 0.0;
    for (int k = 0; k < K; k++) norm += nv[k] * nv[k];
    norm = sqrt(norm);
    if (!(norm > 0.0)) break;
    for (int k = 0; k < K; k++) {
      nv[k] /= norm;
      diff += fabs(nv[k] - v[k]);
      v[k] = nv[k];
    }
    if (diff < 1e-10) break;
  }
  double corr = 0.0, mu = 0.0;
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0, am = 0.0;
    for (int k = 0; k < K; k++) {
      acc += X[p * K + k] * v[k];
      am += A[p * K + k];
    }
    u[p] = acc;
    nv[0] = am / K; /* reuse: channel mean at p */
    mu += nv[0];
    cam[p] = (float)(am / K); /* temporarily the channel mean */
  }
  mu /= (double)hw;
  for (size_t p = 0; p < hw; p++) corr += u[p] * (cam[p] - mu);
  const double sign = corr < 0 ? -1.0 : 1.0;
  for (size_t p = 0; p < hw; p++) cam[p] = (float)(sign * u[p]);
  relu_inplace(cam, hw);
  free(mean), free(v), free(u), free(nv);
  return GC_OK;
}

/* ---- helpers that run more passes ---------------------------------------------------------- */

/* Score-CAM (Wang et al. 2020): s_k = y^c(X * norm(up(A^k))) over the N channels with the
 * largest mean activation; w = softmax(s); L = ReLU(sum_k w_k A^k). */
static gc_status scorecam(gc_model *m, const gc_explain_params *p, int c, const float *A, int H, int W, int K,
                          const float *x, int xh, int xw, float *cam) {
  const size_t hw = (size_t)H * W, xn = (size_t)xh * xw;
  int N = p->scorecam_channels < K ? p->scorecam_channels : K;
  int *ch = malloc((size_t)N * sizeof *ch);
  double *mean = calloc((size_t)K, sizeof *mean), *score = calloc((size_t)N, sizeof *score);
  float *Acopy = malloc(hw * (size_t)K * sizeof *Acopy);
  const int B = gc_batch_budget(m, xh, xw, N);
  float *batch = gc_alloc_buffer((size_t)B * xn * 3), *mask = gc_alloc_buffer(xn);
  float *sc = malloc((size_t)m->nclasses * 2 * sizeof *sc), *pr = sc ? sc + m->nclasses : NULL;
  gc_status s = GC_OK;
  if (!ch || !mean || !score || !Acopy || !batch || !mask || !sc) {
    s = GC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  memcpy(Acopy, A, hw * (size_t)K * sizeof *Acopy);
  for (size_t q = 0; q < hw; q++)
    for (int k = 0; k < K; k++) mean[k] += Acopy[q * K + k];
  for (int j = 0; j < N; j++) { /* top-N channels by mean activation, ties to the lower index */
    int best = -1;
    for (int k = 0; k < K; k++) {
      int taken = 0;
      for (int t = 0; t < j && !taken; t++) taken = ch[t] == k;
      if (!taken && (best < 0 || mean[k] > mean[best])) best = k;
    }
    ch[j] = best;
  }
  float *chan = malloc(hw * sizeof *chan);
  if (!chan) {
    s = GC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  for (int j0 = 0; j0 < N && s == GC_OK; j0 += B) {
    const int nb = N - j0 < B ? N - j0 : B;
    for (int b = 0; b < B; b++) {
      float *dst = batch + (size_t)b * xn * 3;
      if (b >= nb) { /* pad a short last batch with copies (their scores are ignored) */
        memcpy(dst, batch, xn * 3 * sizeof *dst);
        continue;
      }
      const int k = ch[j0 + b];
      float lo = INFINITY, hi = -INFINITY;
      for (size_t q = 0; q < hw; q++) {
        chan[q] = Acopy[q * K + k];
        lo = chan[q] < lo ? chan[q] : lo;
        hi = chan[q] > hi ? chan[q] : hi;
      }
      gc_resize_map(chan, H, W, mask, xh, xw);
      const float range = hi - lo;
      for (size_t q = 0; q < xn; q++) {
        const float mv = range > 0 ? (mask[q] - lo) / range : 0.0f;
        for (int cc = 0; cc < 3; cc++) dst[q * 3 + cc] = x[q * 3 + cc] * mv;
      }
    }
    if (gc_model_cancelled(m, j0, N)) {
      s = GC_ERR_CANCELLED;
      break;
    }
    s = gc_forward_batch(m, batch, B, xh, xw);
    for (int b = 0; s == GC_OK && b < nb; b++) {
      gc_batch_scores(m, b, sc);
      if (p->target == GC_TARGET_PROB) gc_scores_to_probs(m, sc, pr);
      score[j0 + b] = p->target == GC_TARGET_PROB ? pr[c] : sc[c];
    }
  }
  free(chan);
  if (s == GC_OK) {
    double mx = -INFINITY, sum = 0.0;
    for (int j = 0; j < N; j++) mx = score[j] > mx ? score[j] : mx;
    double *w = calloc((size_t)K, sizeof *w);
    if (!w) {
      s = GC_ERR_OUT_OF_MEMORY;
      goto done;
    }
    for (int j = 0; j < N; j++) sum += exp(score[j] - mx);
    for (int j = 0; j < N; j++) w[ch[j]] = exp(score[j] - mx) / sum;
    weighted_sum(Acopy, w, hw, K, cam);
    relu_inplace(cam, hw);
    free(w);
  }
done:
  free(ch), free(mean), free(score), free(Acopy), free(batch), free(mask), free(sc);
  return s;
}

/* Gradient of the score w.r.t. the input for the tensor x (runs its own forward pass). */
static gc_status input_gradient(gc_model *m, const float *x, int h, int w, int c, gc_target target, int guided,
                                const float **g) {
  gc_status s = gc_model_forward_tensor(m, x, h, w);
  gc_shape sh;
  if (s == GC_OK) s = gc_model_gradient(m, c, "input", target, guided, g, &sh);
  return s;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* standard normal (Box-Muller) */
static double gaussian(uint64_t *s) {
  const double u1 = ((splitmix(s) >> 11) + 1.0) / 9007199254740993.0;
  const double u2 = (splitmix(s) >> 11) / 9007199254740992.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* The noise SmoothGrad adds to sample `i` (exposed for tests: the same noise reproduces it). */
void gc_smoothgrad_noise(uint32_t seed, int sample, float sigma_abs, float *noise, size_t n) {
  uint64_t s = ((uint64_t)seed << 32) ^ (uint64_t)(sample + 1) * 0x632be59bd9b4e019ull;
  for (size_t i = 0; i < n; i++) noise[i] = (float)(sigma_abs * gaussian(&s));
}

/* ---- the entry point ------------------------------------------------------------------- */

static gc_status explain(gc_model *m, const gc_explain_params *pp, gc_map *map, int *class_out);

gc_status gc_model_explain(gc_model *m, const gc_explain_params *pp, gc_map *map, int *class_out) {
  gc_status s = explain(m, pp, map, class_out);
  if (s == GC_ERR_CANCELLED) { /* the model holds a pass of another input now: not a result */
    m->ran = 0;
    gc_set_error(m->error, sizeof m->error, "the explanation was cancelled; run a forward pass again");
  }
  return s;
}

static gc_status explain(gc_model *m, const gc_explain_params *pp, gc_map *map, int *class_out) {
  if (!m || !map) return GC_ERR_INVALID_ARGUMENT;
  memset(map, 0, sizeof *map);
  m->error[0] = 0;
  const gc_explain_params p = pp ? *pp : gc_default_explain_params();
  if (p.method < 0 || p.method >= GC_METHOD_COUNT || p.scorecam_channels < 1 || p.smoothgrad_samples < 1 ||
      p.smoothgrad_samples > 256 || !(p.smoothgrad_sigma >= 0.0f && p.smoothgrad_sigma <= 10.0f) ||
      p.ig_steps < 1 || p.ig_steps > 512 || (p.target != GC_TARGET_LOGIT && p.target != GC_TARGET_PROB)) {
    gc_set_error(m->error, sizeof m->error, "invalid explanation parameters");
    return GC_ERR_INVALID_ARGUMENT;
  }
  if (!m->ran) {
    gc_set_error(m->error, sizeof m->error, "run a forward pass on the image first");
    return GC_ERR_NOT_RUN;
  }
  const int needs_class = p.method != GC_METHOD_EIGENCAM;
  if (needs_class && !m->nclasses) {
    gc_set_error(m->error, sizeof m->error, "the model has no classifier: only eigencam explains it (no class)");
    return GC_ERR_NO_HEAD;
  }
  int c = p.class_index;
  if (c < 0 && m->nclasses) {
    gc_class_score top;
    gc_model_top_k(m, 1, &top);
    c = top.index;
  }
  if (c >= m->nclasses && needs_class) {
    gc_set_error(m->error, sizeof m->error, "class %d is not in 0..%d", c, m->nclasses - 1);
    return GC_ERR_CLASS_OUT_OF_RANGE;
  }
  if (class_out) *class_out = c;
  const char *layer = p.layer ? p.layer : "block14_sepconv2_act";

  /* the input of the forward pass being explained (kept for methods that run more passes) */
  const gc_node *in = &m->nodes[0];
  const int xh = in->h, xw = in->w;
  const size_t xn = (size_t)xh * xw;
  float *x = gc_model_buffer(&m->work[0], &m->work_cap[0], xn * 3);
  if (!x) return GC_ERR_OUT_OF_MEMORY;
  memcpy(x, in->out, xn * 3 * sizeof *x);

  gc_status s = GC_OK;
  const gc_method meth = p.method;
  if (gc_method_uses_layer(meth)) {
    const float *A, *G = NULL;
    gc_shape sa, sg;
    s = gc_model_activation(m, layer, &A, &sa);
    if (s != GC_OK) return s;
    if (sa.ndim != 4) {
      gc_set_error(m->error, sizeof m->error, "'%s' is not a feature map; pick a convolutional layer", layer);
      return GC_ERR_LAYER_UNKNOWN;
    }
    const int H = sa.dims[1], W = sa.dims[2], K = sa.dims[3];
    const size_t hw = (size_t)H * W;
    float *cam = gc_model_buffer(&m->mapbuf, &m->mapbuf_cap, meth == GC_METHOD_GUIDED_GRADCAM ? xn * 3 : hw);
    double *w = malloc((size_t)K * sizeof *w);
    if (!cam || !w) {
      free(w);
      return GC_ERR_OUT_OF_MEMORY;
    }
    const int needs_grad = meth != GC_METHOD_EIGENCAM && meth != GC_METHOD_SCORECAM;
    const int sums = meth == GC_METHOD_GRADCAM || meth == GC_METHOD_GUIDED_GRADCAM;
    if (sums)
      s = gc_gradient_sums(m, c, layer, p.target, w);
    else if (needs_grad)
      s = gc_model_gradient(m, c, layer, p.target, 0, &G, &sg);
    if (s == GC_OK) {
      float *lowres = meth == GC_METHOD_GUIDED_GRADCAM ? gc_model_buffer(&m->work[2], &m->work_cap[2], hw) : cam;
      switch (meth) {
        case GC_METHOD_GRADCAM:
        case GC_METHOD_GUIDED_GRADCAM:
          gradcam(A, w, hw, K, lowres);
          break;
        case GC_METHOD_GRADCAM_PP: gradcam_pp(A, G, hw, K, w, cam); break;
        case GC_METHOD_HIRESCAM: hirescam(A, G, hw, K, cam); break;
        case GC_METHOD_XGRADCAM: xgradcam(A, G, hw, K, w, cam); break;
        case GC_METHOD_LAYERCAM: layercam(A, G, hw, K, cam); break;
        case GC_METHOD_EIGENCAM: s = eigencam(m, A, hw, K, cam); break;
        case GC_METHOD_SCORECAM:
          s = scorecam(m, &p, c, A, H, W, K, x, xh, xw, cam);
          if (s == GC_OK) s = gc_restore_forward(m, x, xh, xw);
          break;
        default: break;
      }
      if (s == GC_OK && meth == GC_METHOD_GUIDED_GRADCAM) {
        /* Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation * upsampled,
         * normalised Grad-CAM, at input resolution */
        float *up = gc_model_buffer(&m->work[1], &m->work_cap[1], xn);
        float mx = 0.0f;
        for (size_t q = 0; q < hw; q++) mx = lowres[q] > mx ? lowres[q] : mx;
        const float *gb;
        gc_shape sgb;
        if (!up) s = GC_ERR_OUT_OF_MEMORY;
        if (s == GC_OK) s = gc_model_gradient(m, c, "input", p.target, 1, &gb, &sgb);
        if (s == GC_OK) {
          gc_resize_map(lowres, H, W, up, xh, xw);
          for (size_t q = 0; q < xn; q++)
            for (int cc = 0; cc < 3; cc++) cam[q * 3 + cc] = gb[q * 3 + cc] * (mx > 0 ? up[q] / mx : 0.0f);
        }
        map->height = xh, map->width = xw, map->channels = 3;
      } else {
        map->height = H, map->width = W, map->channels = 1;
      }
    }
    free(w);
    map->data = cam;
    return s;
  }

  /* input-space methods */
  float *out = gc_model_buffer(&m->mapbuf, &m->mapbuf_cap, xn * 3);
  if (!out) return GC_ERR_OUT_OF_MEMORY;
  const float *g;
  gc_shape sg;
  map->height = xh, map->width = xw, map->channels = 1;
  map->data = out;
  switch (meth) {
    case GC_METHOD_SALIENCY: /* Simonyan et al. 2014: M_ij = max_c |dy/dx_ijc| */
      s = gc_model_gradient(m, c, "input", p.target, 0, &g, &sg);
      for (size_t q = 0; s == GC_OK && q < xn; q++) {
        float v = 0.0f;
        for (int cc = 0; cc < 3; cc++) v = fabsf(g[q * 3 + cc]) > v ? fabsf(g[q * 3 + cc]) : v;
        out[q] = v;
      }
      return s;
    case GC_METHOD_GUIDED_BACKPROP: /* Springenberg et al. 2015: ReLU passes dy > 0 where x > 0 */
      s = gc_model_gradient(m, c, "input", p.target, 1, &g, &sg);
      if (s == GC_OK) memcpy(out, g, xn * 3 * sizeof *out);
      map->channels = 3;
      return s;
    case GC_METHOD_SMOOTHGRAD: { /* Smilkov et al. 2017: M = max_c |mean_n dy/dx(x + N(0, sigma^2))| */
      float *acc = gc_model_buffer(&m->work[1], &m->work_cap[1], xn * 3);
      float *xs = gc_model_buffer(&m->work[2], &m->work_cap[2], xn * 3);
      if (!acc || !xs) return GC_ERR_OUT_OF_MEMORY;
      float lo = INFINITY, hi = -INFINITY;
      for (size_t q = 0; q < xn * 3; q++) {
        lo = x[q] < lo ? x[q] : lo;
        hi = x[q] > hi ? x[q] : hi;
      }
      const float sigma = p.smoothgrad_sigma * (hi - lo);
      memset(acc, 0, xn * 3 * sizeof *acc);
      for (int i = 0; s == GC_OK && i < p.smoothgrad_samples; i++) {
        if (gc_model_cancelled(m, i, p.smoothgrad_samples)) {
          s = GC_ERR_CANCELLED;
          break;
        }
        gc_smoothgrad_noise(p.seed, i, sigma, xs, xn * 3);
        for (size_t q = 0; q < xn * 3; q++) xs[q] += x[q];
        s = input_gradient(m, xs, xh, xw, c, p.target, 0, &g);
        for (size_t q = 0; s == GC_OK && q < xn * 3; q++) acc[q] += g[q];
      }
      for (size_t q = 0; s == GC_OK && q < xn; q++) {
        float v = 0.0f;
        for (int cc = 0; cc < 3; cc++) v = fabsf(acc[q * 3 + cc]) > v ? fabsf(acc[q * 3 + cc]) : v;
        out[q] = v / (float)p.smoothgrad_samples;
      }
      if (s == GC_OK) s = gc_restore_forward(m, x, xh, xw);
      return s;
    }
    case GC_METHOD_INTEGRATED_GRADIENTS: { /* Sundararajan et al. 2017: IG = (x - x') * mean_k dy/dx(x' + k/m (x - x')), x' black */
      float *acc = gc_model_buffer(&m->work[1], &m->work_cap[1], xn * 3);
      float *xs = gc_model_buffer(&m->work[2], &m->work_cap[2], xn * 3);
      if (!acc || !xs) return GC_ERR_OUT_OF_MEMORY;
      memset(acc, 0, xn * 3 * sizeof *acc);
      const float base = gc_model_black(m); /* a black pixel after preprocessing */
      for (int k = 1; s == GC_OK && k <= p.ig_steps; k++) {
        if (gc_model_cancelled(m, k - 1, p.ig_steps)) {
          s = GC_ERR_CANCELLED;
          break;
        }
        const float a = (float)k / (float)p.ig_steps;
        for (size_t q = 0; q < xn * 3; q++) xs[q] = base + a * (x[q] - base);
        s = input_gradient(m, xs, xh, xw, c, p.target, 0, &g);
        for (size_t q = 0; s == GC_OK && q < xn * 3; q++) acc[q] += g[q];
      }
      /* per-pixel attribution: |sum over channels of IG| */
      for (size_t q = 0; s == GC_OK && q < xn; q++) {
        double v = 0.0;
        for (int cc = 0; cc < 3; cc++) v += (double)(x[q * 3 + cc] - base) * acc[q * 3 + cc] / p.ig_steps;
        out[q] = (float)fabs(v);
      }
      if (s == GC_OK) s = gc_restore_forward(m, x, xh, xw);
      return s;
    }
    default:
      return GC_ERR_INVALID_ARGUMENT;
  }
}
