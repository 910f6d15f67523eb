/* explain.c - the entry point of the explanation methods: check the request, prepare what the
 * method's registry row asks for (the layer's activations, the gradient or its spatial sums
 * there, the input), run the method, finish weighted maps (ReLU(sum_k w_k A^k)) and keep the
 * weights for gc_model_explain_detail. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

void gc_relu_inplace(float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(x[i] > 0.0f)) x[i] = 0.0f;
}

/* cam = sum_k w_k A_k */
void gc_weighted_sum(const float *A, const double *w, size_t hw, int K, float *cam) {
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0;
    for (int k = 0; k < K; k++) acc += w[k] * A[p * K + k];
    cam[p] = (float)acc;
  }
}

double gc_target_score(const gc_model *m, const float *scores, float *probs, int c, int contrast, gc_target target) {
  if (target == GC_TARGET_PROB) {
    gc_scores_to_probs(m, scores, probs);
    return contrast >= 0 ? (double)probs[c] - probs[contrast] : probs[c];
  }
  return contrast >= 0 ? (double)scores[c] - scores[contrast] : scores[c];
}

gc_status gc_method_gradient(gc_method_ctx *c, const char *layer, int guided, const float **g) {
  gc_shape sh;
  return gc_gradient_ex(c->m, c->cls, c->contrast, layer ? layer : "input", c->p->target, guided, NULL, g, &sh);
}

gc_status gc_method_keep_detail(gc_method_ctx *c, const float *pre_relu, int h, int w) {
  gc_model *m = c->m;
  float *wt = gc_model_buffer(&m->detail_weights, &m->detail_weights_cap, (size_t)c->K);
  float *mp = gc_model_buffer(&m->detail_map, &m->detail_map_cap, (size_t)h * w);
  if (!wt || !mp) return GC_ERR_OUT_OF_MEMORY;
  for (int k = 0; k < c->K; k++) wt[k] = (float)c->w[k];
  memcpy(mp, pre_relu, (size_t)h * w * sizeof *mp);
  m->detail_k = c->K, m->detail_h = h, m->detail_w = w;
  m->detail_valid = 1;
  return GC_OK;
}

gc_status gc_model_explain_detail(const gc_model *m, gc_explain_detail *d) {
  if (!m || !d) return GC_ERR_INVALID_ARGUMENT;
  memset(d, 0, sizeof *d);
  if (!m->detail_valid) return GC_OK;
  d->channels = m->detail_k;
  d->weights = m->detail_weights;
  d->pre_relu = m->detail_map;
  d->height = m->detail_h;
  d->width = m->detail_w;
  return GC_OK;
}

/* The request: method, parameters, target, class and contrast class. */
static gc_status check(gc_model *m, const gc_explain_params *p, int *cls) {
  const gc_method_row *row = p->method >= 0 && p->method < GC_METHOD_COUNT ? &gc_method_rows[p->method] : NULL;
  if (!row || (p->target != GC_TARGET_LOGIT && p->target != GC_TARGET_PROB)) {
    gc_set_error(m->error, sizeof m->error, "invalid explanation parameters (method %d, target %d)", (int)p->method,
                 (int)p->target);
    return GC_ERR_INVALID_ARGUMENT;
  }
  for (int i = 0; i < row->info.nparams; i++) { /* each parameter within its registry range */
    gc_explain_params probe = *p;
    const char *name = row->info.params[i].name;
    gc_status s = gc_explain_params_set(&probe, p->method, name, gc_explain_params_get(p, name), m->error,
                                        sizeof m->error);
    if (s != GC_OK) return s;
  }
  if (!m->ran) {
    gc_set_error(m->error, sizeof m->error, "run a forward pass on the image first");
    return GC_ERR_NOT_RUN;
  }
  const int needs_class = row->info.needs_class;
  if (needs_class && !m->nclasses) {
    gc_set_error(m->error, sizeof m->error, "the model has no classifier: only methods without a class (%s) explain it",
                 gc_method_rows[GC_METHOD_EIGENCAM].info.name);
    return GC_ERR_NO_HEAD;
  }
  int c = p->class_index;
  if (c < 0 && m->nclasses) {
    gc_class_score top;
    gc_model_top_k(m, 1, &top);
    c = top.index;
  }
  if (!m->nclasses) c = -1; /* a headless model: no class to name */
  if (c >= m->nclasses && m->nclasses) { /* checked for class-free methods too: the result names it */
    gc_set_error(m->error, sizeof m->error, "class %d is not in 0..%d", c, m->nclasses - 1);
    return GC_ERR_CLASS_OUT_OF_RANGE;
  }
  if (p->contrast_class >= 0 && (!needs_class || p->contrast_class >= m->nclasses || p->contrast_class == c)) {
    gc_set_error(m->error, sizeof m->error, "contrast class %d: needs a class method and another class in 0..%d",
                 p->contrast_class, m->nclasses - 1);
    return needs_class && p->contrast_class != c ? GC_ERR_CLASS_OUT_OF_RANGE : GC_ERR_INVALID_ARGUMENT;
  }
  *cls = c;
  return GC_OK;
}

static gc_status explain(gc_model *m, const gc_explain_params *pp, gc_map *map, int *class_out) {
  if (!m || !map) return GC_ERR_INVALID_ARGUMENT;
  memset(map, 0, sizeof *map);
  m->error[0] = 0;
  m->detail_valid = 0;
  const gc_explain_params p = pp ? *pp : gc_default_explain_params();
  int cls = -1;
  gc_status s = check(m, &p, &cls);
  if (s != GC_OK) return s;
  if (class_out) *class_out = cls;
  const gc_method_row *row = &gc_method_rows[p.method];
  gc_method_ctx c;
  memset(&c, 0, sizeof c);
  c.m = m, c.p = &p, c.cls = cls, c.contrast = p.contrast_class;
  c.layer = p.layer ? p.layer : "block14_sepconv2_act";

  /* the input of the forward pass being explained (kept for methods that run more passes) */
  const gc_node *in = &m->nodes[0];
  c.xh = in->h, c.xw = in->w;
  const size_t xn = (size_t)c.xh * c.xw;
  float *x = gc_model_buffer(&m->work[0], &m->work_cap[0], xn * 3);
  if (!x) return GC_ERR_OUT_OF_MEMORY;
  memcpy(x, in->out, xn * 3 * sizeof *x);
  c.x = x;

  if (row->info.uses_layer) {
    gc_shape sa;
    if ((s = gc_model_activation(m, c.layer, &c.A, &sa)) != GC_OK) return s;
    if (sa.ndim != 4) {
      gc_set_error(m->error, sizeof m->error, "'%s' is not a feature map; pick a convolutional layer", c.layer);
      return GC_ERR_LAYER_UNKNOWN;
    }
    c.H = sa.dims[1], c.W = sa.dims[2], c.K = sa.dims[3];
  }
  c.out_c = row->info.channels;
  const int at_layer = row->info.uses_layer && row->info.channels == 1;
  c.out_h = at_layer ? c.H : c.xh;
  c.out_w = at_layer ? c.W : c.xw;
  const size_t hw = (size_t)c.H * c.W;
  c.out = gc_model_buffer(&m->mapbuf, &m->mapbuf_cap, (size_t)c.out_h * c.out_w * c.out_c);
  double *w = c.K ? malloc((size_t)c.K * sizeof *w) : NULL;
  if (!c.out || (c.K && !w)) {
    free(w);
    return GC_ERR_OUT_OF_MEMORY;
  }
  c.w = w;
  if (row->needs == GC_NEEDS_SUMS) {
    s = gc_gradient_ex(m, cls, c.contrast, c.layer, p.target, 0, w, NULL, NULL);
  } else if (row->needs == GC_NEEDS_GRADIENT) {
    gc_shape sg;
    s = gc_gradient_ex(m, cls, c.contrast, c.layer, p.target, 0, NULL, &c.G, &sg);
    /* the activations may have been recomputed into another buffer on the way */
    if (s == GC_OK) s = gc_model_activation(m, c.layer, &c.A, &sg);
  }
  if (s == GC_OK) s = row->fn(&c);
  if (s == GC_OK && row->weighted) { /* ReLU(sum_k w_k A^k), the pre-ReLU sum kept */
    gc_weighted_sum(c.A, w, hw, c.K, c.out);
    s = gc_method_keep_detail(&c, c.out, c.H, c.W);
    gc_relu_inplace(c.out, hw);
  }
  free(w);
  if (s != GC_OK) return s;
  map->height = c.out_h, map->width = c.out_w, map->channels = c.out_c;
  map->data = c.out;
  return GC_OK;
}

gc_status gc_model_explain(gc_model *m, const gc_explain_params *pp, gc_map *map, int *class_out) {
  gc_status s = explain(m, pp, map, class_out);
  if (s == GC_ERR_CANCELLED) { /* the model holds a pass of another input now: not a result */
    m->ran = 0;
    m->detail_valid = 0;
    gc_set_error(m->error, sizeof m->error, "the explanation was cancelled; run a forward pass again");
  }
  return s;
}
