/* input.c - the maps at the input's resolution, from gradients of the explained score with
 * respect to the input; their exact definitions are in the registry (registry.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

/* max over the colour channels of |g| at each pixel, divided by div */
static void channel_max_abs(const float *g, size_t n, float div, float *out) {
  for (size_t q = 0; q < n; q++) {
    float v = 0.0f;
    for (int cc = 0; cc < 3; cc++) v = fabsf(g[q * 3 + cc]) > v ? fabsf(g[q * 3 + cc]) : v;
    out[q] = v / div;
  }
}

/* Saliency (Simonyan et al. 2014). */
gc_status gc_in_saliency(gc_method_ctx *c) {
  const float *g;
  gc_status s = gc_method_gradient(c, NULL, 0, &g);
  if (s == GC_OK) channel_max_abs(g, (size_t)c->xh * c->xw, 1.0f, c->out);
  return s;
}

/* Guided backpropagation (Springenberg et al. 2015): ReLUs pass only positive gradients where
 * their input was positive; the RGB gradient. */
gc_status gc_in_guided_backprop(gc_method_ctx *c) {
  const float *g;
  gc_status s = gc_method_gradient(c, NULL, 1, &g);
  if (s == GC_OK) memcpy(c->out, g, (size_t)c->xh * c->xw * 3 * sizeof *c->out);
  return s;
}

/* Gradient x Input (Shrikumar et al. 2016): |sum_c x_c dy/dx_c|. */
gc_status gc_in_gradient_input(gc_method_ctx *c) {
  const float *g;
  gc_status s = gc_method_gradient(c, NULL, 0, &g);
  for (size_t q = 0; s == GC_OK && q < (size_t)c->xh * c->xw; q++) {
    double v = 0.0;
    for (int cc = 0; cc < 3; cc++) v += (double)c->x[q * 3 + cc] * g[q * 3 + cc];
    c->out[q] = (float)fabs(v);
  }
  return s;
}

/* Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation * the upsampled Grad-CAM of
 * the layer, divided by its maximum; Grad-CAM's weights come from the sums explain.c computed. */
gc_status gc_in_guided_gradcam(gc_method_ctx *c) {
  gc_model *m = c->m;
  const size_t hw = (size_t)c->H * c->W, xn = (size_t)c->xh * c->xw;
  float *lowres = gc_model_buffer(&m->work[2], &m->work_cap[2], hw);
  float *up = gc_model_buffer(&m->work[1], &m->work_cap[1], xn);
  if (!lowres || !up) return GC_ERR_OUT_OF_MEMORY;
  gc_status s = gc_cam_gradcam(c);
  if (s != GC_OK) return s;
  gc_weighted_sum(c->A, c->w, hw, c->K, lowres);
  if ((s = gc_method_keep_detail(c, lowres, c->H, c->W)) != GC_OK) return s;
  gc_relu_inplace(lowres, hw);
  float mx = 0.0f;
  for (size_t q = 0; q < hw; q++) mx = lowres[q] > mx ? lowres[q] : mx;
  const float *gb;
  if ((s = gc_method_gradient(c, NULL, 1, &gb)) != GC_OK) return s;
  gc_resize_map(lowres, c->H, c->W, up, c->xh, c->xw);
  for (size_t q = 0; q < xn; q++)
    for (int cc = 0; cc < 3; cc++) c->out[q * 3 + cc] = gb[q * 3 + cc] * (mx > 0 ? up[q] / mx : 0.0f);
  return GC_OK;
}

/* The gradient of the explained score at the input for the tensor xs (its own forward pass),
 * step `done` of `total`: the caller may cancel between the forward and the backward pass too
 * (each is about half of a step). */
static gc_status input_gradient(gc_method_ctx *c, const float *xs, int done, int total, const float **g) {
  gc_status s = gc_model_forward_tensor(c->m, xs, c->xh, c->xw);
  if (s == GC_OK && gc_model_cancelled(c->m, done, total)) return GC_ERR_CANCELLED;
  return s == GC_OK ? gc_method_gradient(c, NULL, 0, g) : s;
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

/* SmoothGrad (Smilkov et al. 2017). */
gc_status gc_in_smoothgrad(gc_method_ctx *c) {
  gc_model *m = c->m;
  const gc_explain_params *p = c->p;
  const size_t n3 = (size_t)c->xh * c->xw * 3;
  float *acc = gc_model_buffer(&m->work[1], &m->work_cap[1], n3);
  float *xs = gc_model_buffer(&m->work[2], &m->work_cap[2], n3);
  if (!acc || !xs) return GC_ERR_OUT_OF_MEMORY;
  float lo = INFINITY, hi = -INFINITY;
  for (size_t q = 0; q < n3; q++) lo = c->x[q] < lo ? c->x[q] : lo, hi = c->x[q] > hi ? c->x[q] : hi;
  const float sigma = p->smoothgrad_sigma * (hi - lo);
  memset(acc, 0, n3 * sizeof *acc);
  gc_status s = GC_OK;
  for (int i = 0; s == GC_OK && i < p->smoothgrad_samples; i++) {
    if (gc_model_cancelled(m, i, p->smoothgrad_samples)) return GC_ERR_CANCELLED;
    gc_smoothgrad_noise(p->seed, i, sigma, xs, n3);
    for (size_t q = 0; q < n3; q++) xs[q] += c->x[q];
    const float *g;
    s = input_gradient(c, xs, i, p->smoothgrad_samples, &g);
    for (size_t q = 0; s == GC_OK && q < n3; q++) acc[q] += g[q];
  }
  if (s == GC_OK) channel_max_abs(acc, n3 / 3, (float)p->smoothgrad_samples, c->out);
  return s == GC_OK ? gc_restore_forward(m, c->x, c->xh, c->xw) : s;
}

/* Integrated Gradients (Sundararajan et al. 2017), from the black image (a black pixel after
 * the model's preprocessing). */
gc_status gc_in_integrated_gradients(gc_method_ctx *c) {
  gc_model *m = c->m;
  const int steps = c->p->ig_steps;
  const size_t n3 = (size_t)c->xh * c->xw * 3;
  float *acc = gc_model_buffer(&m->work[1], &m->work_cap[1], n3);
  float *xs = gc_model_buffer(&m->work[2], &m->work_cap[2], n3);
  if (!acc || !xs) return GC_ERR_OUT_OF_MEMORY;
  memset(acc, 0, n3 * sizeof *acc);
  const float base = gc_model_black(m);
  gc_status s = GC_OK;
  for (int k = 1; s == GC_OK && k <= steps; k++) {
    if (gc_model_cancelled(m, k - 1, steps)) return GC_ERR_CANCELLED;
    const float a = (float)k / (float)steps;
    /* the last step is the input itself: its pass leaves the model as the explanation found it */
    if (k == steps) memcpy(xs, c->x, n3 * sizeof *xs);
    else
      for (size_t q = 0; q < n3; q++) xs[q] = base + a * (c->x[q] - base);
    const float *g;
    s = input_gradient(c, xs, k - 1, steps, &g);
    for (size_t q = 0; s == GC_OK && q < n3; q++) acc[q] += g[q];
  }
  /* per-pixel attribution: |sum over channels of IG| */
  for (size_t q = 0; s == GC_OK && q < n3 / 3; q++) {
    double v = 0.0;
    for (int cc = 0; cc < 3; cc++) v += (double)(c->x[q * 3 + cc] - base) * acc[q * 3 + cc] / steps;
    c->out[q] = (float)fabs(v);
  }
  return s;
}
