/* backward.c - gradient of one class score with respect to any named activation or the input.
 *
 * The backward pass walks the rows in reverse, from the classifier's outputs down to the
 * requested layer, and only through the rows that depend on it. No weight gradients are
 * needed, so each row's backward is its layer kind's (ops/): dense dx = W^T dy, global
 * average / max pooling, ReLU masks, transposed convolutions, max-pool routing, additions.
 * Fused ReLUs are undone first (mask by the stored output > 0). Backward operators are created
 * the first time a row is crossed (from the weights the model keeps) and reshaped only when
 * the input size changes; gradient buffers are allocated on first use.
 *
 * Class scores: the classifier's outputs (logits) for a multi-class head; for a Dense(1) head
 * (binary), class 1's score is +z and class 0's is -z. With GC_TARGET_PROB the score is the
 * class's probability under the classifier's activation (softmax, or the logistic function for
 * sigmoid and binary heads).
 *
 * Spatial sums for Grad-CAM: Grad-CAM needs only sum_p dS/dA[p][k] at its layer, not the
 * gradient map. Where the layer's consumer is a convolution whose kind can sum its input
 * gradient without the full transposed convolution (ops/: valid and 1x1 convolutions, "same"
 * 3x3 separable ones by border classes), the last step into the layer is summed directly. At
 * the base's output under an average pooling and a single Dense classifier, the sums are the
 * classifier's weights (Grad-CAM there is CAM: no backward pass at all).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#define SCRATCH 3

/* Three scratch buffers of the largest gradient size of the current shape. */
static gc_status ensure_scratch(gc_model *m) {
  size_t need = 0;
  for (int i = 0; i < m->nrows; i++) {
    const int c = m->rows[i].cin > m->rows[i].cout ? m->rows[i].cin : m->rows[i].cout;
    const size_t e = (size_t)m->nodes[i].h * m->nodes[i].w * c;
    if (e > need) need = e;
  }
  if (need <= m->bscratch_size) return GC_OK;
  for (int k = 0; k < SCRATCH; k++) {
    free(m->bscratch[k]);
    m->bscratch[k] = gc_alloc_buffer(need);
    if (!m->bscratch[k]) {
      m->bscratch_size = 0;
      return GC_ERR_OUT_OF_MEMORY;
    }
  }
  m->bscratch_size = need;
  return GC_OK;
}

/* d score_c / d (the classifier's outputs), into g (units of the logits row); with contrast,
 * minus those of score_contrast. */
static void seed1(const gc_model *m, int c, gc_target target, float *g);
static void seed(const gc_model *m, int c, int contrast, gc_target target, float *g) {
  seed1(m, c, target, g);
  if (contrast < 0) return;
  const int n = m->rows[m->net.logits_row].cout;
  float *h = m->bscratch[0]; /* free until the walk starts */
  seed1(m, contrast, target, h);
  for (int j = 0; j < n; j++) g[j] -= h[j];
}

static void seed1(const gc_model *m, int c, gc_target target, float *g) {
  const int binary = m->rows[m->net.logits_row].cout == 1;
  if (target == GC_TARGET_LOGIT) {
    if (binary) {
      g[0] = c == 1 ? 1.0f : -1.0f;
    } else {
      memset(g, 0, (size_t)m->nclasses * sizeof *g);
      g[c] = 1.0f;
    }
    return;
  }
  const float pc = m->probs[c];
  if (binary) { /* p_c = s(+-z): d p_c / dz = +-p_c (1 - p_c) */
    g[0] = (c == 1 ? 1.0f : -1.0f) * pc * (1.0f - pc);
  } else if (m->spec.dense[m->spec.ndense - 1].act == GC_ACT_SIGMOID) {
    memset(g, 0, (size_t)m->nclasses * sizeof *g);
    g[c] = pc * (1.0f - pc);
  } else { /* d p_c / d z_j = p_c (delta_cj - p_j) */
    for (int j = 0; j < m->nclasses; j++) g[j] = pc * ((j == c) - m->probs[j]);
  }
}

/* Grad-CAM at the base's output under avg_pool + one Dense: sum_p dS/dA[p][k] = W[c][k]. */
static int cam_shortcut(const gc_model *m, int t, gc_target target) {
  return t == m->net.feature_row && target == GC_TARGET_LOGIT && m->spec.pool == GC_POOL_AVG &&
         m->spec.ndense == 1;
}

static gc_status gradient(gc_model *m, int class_index, int contrast, const char *layer, gc_target target, int guided,
                         double *sum, const float **data, gc_shape *shape);

/* The scratch buffers and the pooled gradient buffers live for one call: between calls their
 * memory serves the forward and the batched passes (freeing and allocating them again per call
 * costs nothing measurable; keeping them across SmoothGrad's samples took 16 MB more heap). */
gc_status gc_gradient_ex(gc_model *m, int class_index, int contrast, const char *layer, gc_target target, int guided,
                         double *sum, const float **data, gc_shape *shape) {
  gc_status s = gradient(m, class_index, contrast, layer, target, guided, sum, data, shape);
  if (m) gc_grad_trim(m);
  for (int k = 0; m && k < SCRATCH; k++) {
    free(m->bscratch[k]);
    m->bscratch[k] = NULL;
  }
  if (m) m->bscratch_size = 0;
  return s;
}

static gc_status gradient(gc_model *m, int class_index, int contrast, const char *layer, gc_target target, int guided,
                         double *sum, const float **data, gc_shape *shape) {
  if (!m || (!sum && (!data || !shape)) || (target != GC_TARGET_LOGIT && target != GC_TARGET_PROB))
    return GC_ERR_INVALID_ARGUMENT;
  if (data) *data = NULL;
  m->error[0] = 0;
  if (!m->nclasses) {
    gc_set_error(m->error, sizeof m->error, "the model has no classifier, so it has no class score to explain");
    return GC_ERR_NO_HEAD;
  }
  if (class_index < 0 || class_index >= m->nclasses || contrast >= m->nclasses) {
    gc_set_error(m->error, sizeof m->error, "class %d is not in 0..%d", contrast >= m->nclasses ? contrast : class_index,
                 m->nclasses - 1);
    return GC_ERR_CLASS_OUT_OF_RANGE;
  }
  int pre;
  const int t = gc_model_find_layer(m, layer, &pre);
  if (t < 0) return GC_ERR_LAYER_UNKNOWN;
  if (!m->ran) {
    gc_set_error(m->error, sizeof m->error, "run a forward pass first");
    return GC_ERR_NOT_RUN;
  }
  if (sum && !pre && cam_shortcut(m, t, target)) {
    const float *k;
    gc_status s = gc_dense_kernel(m, m->net.logits_row, &k);
    if (s != GC_OK) return s;
    const int K = m->rows[t].cout, binary = m->rows[m->net.logits_row].cout == 1;
    const float *row = k + (size_t)(binary ? 0 : class_index) * K;
    for (int j = 0; j < K; j++) sum[j] = binary && class_index == 0 ? -(double)row[j] : (double)row[j];
    if (contrast >= 0) { /* minus the contrast class's weights */
      const float *r2 = k + (size_t)(binary ? 0 : contrast) * K;
      for (int j = 0; j < K; j++) sum[j] -= binary && contrast == 0 ? -(double)r2[j] : (double)r2[j];
    }
    return GC_OK;
  }
  gc_status s = ensure_scratch(m);
  if (s != GC_OK) return s;
  for (int i = 0; i < m->nrows; i++) m->nodes[i].has_grad = 0;

  const int last = m->net.logits_row;
  if ((s = gc_grad_ensure(m, last)) != GC_OK) return s;
  seed(m, class_index, contrast, target, m->nodes[last].grad);
  m->nodes[last].has_grad = 1;

  /* only the rows that depend on the target take part */
  unsigned char *desc = calloc((size_t)m->nrows, 1);
  if (!desc) return GC_ERR_OUT_OF_MEMORY;
  desc[t] = 1;
  for (int i = t + 1; i < m->nrows; i++) {
    const gc_layer *r = &m->rows[i];
    desc[i] = (r->in0 >= 0 && desc[r->in0]) || (r->in1 >= 0 && desc[r->in1]);
  }
  if (sum) memset(sum, 0, (size_t)m->rows[t].cout * sizeof *sum);
  for (int i = last; s == GC_OK && i > t; i--) {
    gc_node *n = &m->nodes[i];
    if (!desc[i] || !n->has_grad) continue;
    const gc_op_kind *k = gc_ops[m->rows[i].def->op];
    GC_PROFILE_START(t0);
    if (sum && !pre && k->sums && m->rows[i].in0 == t && m->rows[i].in1 < 0 && k->summable(m, i))
      s = k->sums(m, i, n->grad, sum);
    else
      s = k->backward(m, i, n->grad, guided);
    GC_PROFILE_ROW("backward", m->rows[i].def->name, m->rows[i].def->op, t0);
    gc_grad_release(m, i); /* passed on: the buffer serves the rows below */
  }
  free(desc);
  if (s != GC_OK) return s;
  gc_node *n = &m->nodes[t];
  const size_t elems = gc_row_elems(m, t);
  if (sum) { /* the contributions that were not summed directly */
    if (n->has_grad) {
      const float *gt = n->grad;
      if (pre) {
        gc_relu_backward(m, m->bscratch[0], 0, n->grad, n->out, elems, guided);
        gt = m->bscratch[0];
      }
      const size_t hw = (size_t)n->h * n->w, c = (size_t)m->rows[t].cout;
      for (size_t p = 0; p < hw; p++)
        for (size_t k = 0; k < c; k++) sum[k] += gt[p * c + k];
    }
    return GC_OK;
  }
  if (!n->has_grad) { /* nothing reached it (cannot happen for layers the output depends on) */
    if ((s = gc_grad_ensure(m, t)) != GC_OK) return s;
    memset(n->grad, 0, elems * sizeof *n->grad);
    n->has_grad = 1;
  }
  const gc_op op = m->rows[t].def->op;
  memset(shape, 0, sizeof *shape);
  if (op == GC_OP_GAP || op == GC_OP_GMP || op == GC_OP_DENSE) {
    shape->ndim = 2;
    shape->dims[0] = 1;
    shape->dims[1] = m->rows[t].cout;
  } else {
    shape->ndim = 4;
    shape->dims[0] = 1;
    shape->dims[1] = n->h;
    shape->dims[2] = n->w;
    shape->dims[3] = m->rows[t].cout;
  }
  if (pre) /* gradient at the pre-activation: through the fused ReLU, in place */
    gc_relu_backward(m, n->grad, 0, n->grad, n->out, elems, guided);
  *data = n->grad;
  return GC_OK;
}

gc_status gc_model_gradient(gc_model *m, int class_index, const char *layer, gc_target target, int guided,
                            const float **data, gc_shape *shape) {
  return gc_gradient_ex(m, class_index, -1, layer, target, guided, NULL, data, shape);
}

gc_status gc_gradient_sums(gc_model *m, int class_index, const char *layer, gc_target target, double *sum) {
  return sum ? gc_gradient_ex(m, class_index, -1, layer, target, 0, sum, NULL, NULL) : GC_ERR_INVALID_ARGUMENT;
}
