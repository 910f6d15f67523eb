/* forward.c - the forward pass: walk the rows, each run by its layer kind (ops/).
 *
 * When the input size (or batch) changes every operator is reshaped and the activation
 * buffers are reallocated; otherwise a forward pass only runs the operators. Rows whose value
 * the backward pass never reads share slot buffers (gc_layer.transient) and are recomputed
 * when asked for by name; every other row's output is kept, so each activation stays
 * addressable by its Keras name.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

/* ---- reshape: only when the input size changes -------------------------------------------- */

/* Slot of a transient row: the residual slot, or one of two short-lived slots alternating by
 * row so that a transient row read by the next transient row never shares its slot. */
static int transient_slot(const gc_model *m, int i) { return m->rows[i].transient == 2 ? 2 : i % 2; }

/* Allocate the slots and point the transient rows at them (before a kept pass). */
static gc_status attach_slots(gc_model *m) {
  for (int k = 0; k < 3; k++)
    if (!m->slot[k] && !(m->slot[k] = gc_alloc_buffer(m->slot_size[k]))) return GC_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < m->nrows; i++)
    if (m->rows[i].transient) m->nodes[i].out = m->slot[transient_slot(m, i)];
  return GC_OK;
}

/* After a kept pass: the slots' values are garbage from here on (asked for by name, a transient
 * value is recomputed into its own buffer), so their memory goes back for the backward pass. */
static void detach_slots(gc_model *m) {
  for (int i = 0; i < m->nrows; i++)
    if (m->rows[i].transient && m->nodes[i].out != m->nodes[i].val) m->nodes[i].out = NULL;
  for (int k = 0; k < 3; k++) {
    free(m->slot[k]);
    m->slot[k] = NULL;
  }
  free(m->scratch);
  m->scratch = NULL;
}

/* The operators, for a batch of `batch` inputs of h x w: each row's output size, and what the
 * rows need of the shared workspace and depthwise scratch (per batch). Kept buffers are not
 * touched: a batch-only change (batch.c's passes) leaves the kept pass valid. */
gc_status gc_reshape_ops(gc_model *m, int batch, int h, int w, gc_reshape_need *need) {
  return gc_reshape_rows(m, 0, batch, h, w, need);
}

gc_status gc_reshape_rows(gc_model *m, int first, int batch, int h, int w, gc_reshape_need *need) {
  const int n = m->nrows;
  int *oh = malloc((size_t)n * 2 * sizeof *oh);
  if (!oh) return GC_ERR_OUT_OF_MEMORY;
  int *ow = oh + n;
  gc_net_spatial(&m->net, h, w, oh, ow);
  const int spatial = h != m->in_h || w != m->in_w || (first && (h != m->kept_h || w != m->kept_w));
  m->in_h = m->in_w = m->batch = 0;
  if (spatial) m->shape_gen++; /* backward operators and buffers follow (ops/, grad.c) */
  gc_status s = GC_OK;
  need->workspace = need->scratch = 0;
  for (int i = 0; i < n && s == GC_OK; i++) {
    const gc_layer *r = &m->rows[i];
    gc_node *nd = &m->nodes[i];
    const int ih = r->in0 >= 0 ? oh[r->in0] : h, iw = r->in0 >= 0 ? ow[r->in0] : w;
    nd->h = oh[i];
    nd->w = ow[i];
    if (i >= first) s = gc_ops[r->def->op]->reshape(m, i, (size_t)batch, ih, iw, need);
  }
  free(oh);
  if (s == GC_OK) s = gc_model_workspace(m, need->workspace);
  if (s == GC_OK) {
    m->in_h = h;
    m->in_w = w;
    m->batch = batch;
    m->ops_partial = first > 0; /* rows reshaped apart: the next kept pass reshapes them all */
  }
  return s;
}

/* The kept pass's buffers for h x w (batch 1): kept rows' outputs, the transient slots, the
 * depthwise scratch; pre-activations and recomputed values of another size are dropped. */
static gc_status alloc_kept(gc_model *m, const gc_reshape_need *need) {
  gc_status s = GC_OK;
  size_t slot_size[3] = {0, 0, 0};
  m->kept_h = m->kept_w = 0;
  for (int i = 0; i < m->nrows && s == GC_OK; i++) {
    const gc_layer *r = &m->rows[i];
    gc_node *nd = &m->nodes[i];
    if (!r->transient) free(nd->out);
    nd->out = NULL;
    const size_t elems = gc_row_elems(m, i);
    if (r->transient) {
      const int k = transient_slot(m, i);
      if (elems > slot_size[k]) slot_size[k] = elems;
    } else if (!(nd->out = gc_alloc_buffer(elems))) {
      s = GC_ERR_OUT_OF_MEMORY;
    }
    free(nd->val);
    nd->val = NULL;
    free(nd->pre);
    nd->pre = NULL;
    nd->pre_valid = 0;
    nd->has_grad = 0;
  }
  for (int k = 0; k < 3; k++) {
    free(m->slot[k]);
    m->slot[k] = NULL;
    m->slot_size[k] = slot_size[k];
  }
  free(m->scratch);
  m->scratch = NULL;
  m->scratch_size = need->scratch;
  if (s == GC_OK) m->kept_h = m->in_h, m->kept_w = m->in_w;
  return s;
}

static gc_status reshape(gc_model *m, int h, int w) {
  m->ran = 0;
  gc_reshape_need need;
  gc_status s = gc_reshape_ops(m, 1, h, w, &need);
  if (s == GC_OK && (m->kept_h != h || m->kept_w != w)) s = alloc_kept(m, &need);
  if (s == GC_ERR_OUT_OF_MEMORY) gc_set_error(m->error, sizeof m->error, "out of memory for %dx%d activations", h, w);
  return s;
}

gc_status gc_ops_batch1(gc_model *m) {
  if (m->batch == 1 && !m->ops_partial) return GC_OK;
  gc_reshape_need need;
  return gc_reshape_ops(m, 1, m->kept_h, m->kept_w, &need);
}

/* ---- the forward pass --------------------------------------------------------------------- */

static gc_status run_row(gc_model *m, int i, const float *input) {
  const gc_layer *r = &m->rows[i];
  const float *in0 = r->in0 >= 0 ? m->nodes[r->in0].out : input;
  const float *in1 = r->in1 >= 0 ? m->nodes[r->in1].out : NULL;
  return gc_ops[r->def->op]->run(m, i, in0, in1, m->nodes[i].out);
}

void gc_softmax(const float *logits, float *probs, int n) {
  float mx = logits[0];
  for (int i = 1; i < n; i++)
    if (logits[i] > mx) mx = logits[i];
  double sum = 0.0;
  for (int i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
  for (int i = 0; i < n; i++) probs[i] = (float)(exp((double)logits[i] - mx) / sum);
}

void gc_logits_to_scores(const gc_model *m, const float *z, float *out) {
  if (m->net.logits_row < 0) return;
  const gc_layer *r = &m->rows[m->net.logits_row];
  if (r->cout == 1) { /* binary: class 1 is +z, class 0 is -z */
    out[0] = -z[0];
    out[1] = z[0];
  } else {
    memcpy(out, z, (size_t)r->cout * sizeof *out);
  }
}

void gc_scores_to_probs(const gc_model *m, const float *scores, float *probs) {
  const int n = m->nclasses;
  const int binary = m->rows[m->net.logits_row].cout == 1;
  if (binary || m->spec.dense[m->spec.ndense - 1].act == GC_ACT_SIGMOID) {
    for (int i = 0; i < n; i++) probs[i] = (float)(1.0 / (1.0 + exp(-(double)scores[i])));
  } else {
    gc_softmax(scores, probs, n);
  }
}

static gc_status check_size(gc_model *m, int h, int w) {
  if (h < GC_MIN_INPUT_SIZE || w < GC_MIN_INPUT_SIZE || h > GC_MAX_INPUT_SIZE || w > GC_MAX_INPUT_SIZE) {
    gc_set_error(m->error, sizeof m->error, "input %dx%d outside %d..%d", w, h, GC_MIN_INPUT_SIZE,
                 GC_MAX_INPUT_SIZE);
    return GC_ERR_IMAGE_SIZE;
  }
  return GC_OK;
}

/* The kept pass: batch 1, every activation the backward pass reads kept. */
static gc_status kept_pass(gc_model *m, const float *input, int h, int w) {
  gc_status s = check_size(m, h, w);
  if (s != GC_OK) return s;
  if (h != m->kept_h || w != m->kept_w || h != m->in_h || w != m->in_w || m->batch != 1 || m->ops_partial)
    s = reshape(m, h, w);
  m->ran = 0;
  m->detail_valid = 0;
  if (s == GC_OK) s = attach_slots(m);
  for (int i = 0; s == GC_OK && i < m->nrows; i++) {
    GC_PROFILE_START(t0);
    s = run_row(m, i, input);
    GC_PROFILE_ROW("forward", m->rows[i].def->name, m->rows[i].def->op, t0);
  }
  detach_slots(m);
  for (int i = 0; i < m->nrows; i++) m->nodes[i].has_grad = m->nodes[i].pre_valid = 0;
  return s;
}

/* After a batch-1 pass: the scores and probabilities, checked for finiteness. */
static gc_status finish_pass(gc_model *m) {
  if (m->nclasses) {
    gc_logits_to_scores(m, m->nodes[m->net.logits_row].out, m->scores);
    for (int i = 0; i < m->nclasses; i++)
      if (!isfinite(m->scores[i])) {
        gc_set_error(m->error, sizeof m->error, "logit %d is not finite (non-finite input?)", i);
        return GC_ERR_IMAGE_INVALID;
      }
    gc_scores_to_probs(m, m->scores, m->probs);
  }
  m->ran = 1;
  return GC_OK;
}

gc_status gc_forward_from(gc_model *m, int row) {
  if (!m->ran || row < 0 || row >= m->nrows) return GC_ERR_NOT_RUN;
  gc_status s = gc_ops_batch1(m);
  if (s == GC_OK) s = attach_slots(m);
  /* transient values from before `row` that rows after it read must exist again */
  for (int i = row + 1; s == GC_OK && i < m->nrows; i++) {
    const gc_layer *r = &m->rows[i];
    if (r->in0 >= 0 && r->in0 < row) s = gc_materialize(m, r->in0);
    if (s == GC_OK && r->in1 >= 0 && r->in1 < row) s = gc_materialize(m, r->in1);
  }
  for (int i = row + 1; s == GC_OK && i < m->nrows; i++) s = run_row(m, i, m->nodes[0].out);
  detach_slots(m);
  for (int i = 0; i < m->nrows; i++) m->nodes[i].pre_valid = m->nodes[i].has_grad = 0;
  if (s == GC_OK && m->nclasses) {
    gc_logits_to_scores(m, m->nodes[m->net.logits_row].out, m->scores);
    gc_scores_to_probs(m, m->scores, m->probs);
  }
  return s;
}

gc_status gc_model_forward_tensor(gc_model *m, const float *input, int h, int w) {
  if (!m || !input) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  gc_status s = kept_pass(m, input, h, w);
  return s == GC_OK ? finish_pass(m) : s;
}

gc_status gc_restore_forward(gc_model *m, const float *input, int h, int w) {
  return gc_model_forward_tensor(m, input, h, w);
}

float gc_model_black(const gc_model *m) {
  return m->spec.pre == GC_PRE_RESCALE ? 0.0f * m->spec.pre_scale + m->spec.pre_offset : 0.0f / 127.5f - 1.0f;
}

gc_status gc_model_forward_image_size(gc_model *m, const uint8_t *pixels, int width, int height, int stride,
                                      gc_pixel_format format, int out_h, int out_w) {
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (out_h == 0) out_h = m->spec.input_h;
  if (out_w == 0) out_w = m->spec.input_w;
  if (out_h < GC_MIN_INPUT_SIZE || out_w < GC_MIN_INPUT_SIZE || out_h > GC_MAX_INPUT_SIZE ||
      out_w > GC_MAX_INPUT_SIZE) {
    gc_set_error(m->error, sizeof m->error, "input size %dx%d outside %d..%d", out_w, out_h, GC_MIN_INPUT_SIZE,
                 GC_MAX_INPUT_SIZE);
    return GC_ERR_IMAGE_SIZE; /* as gc_model_forward_tensor says of such a tensor */
  }
  float *x = gc_alloc_buffer((size_t)out_h * out_w * 3);
  if (!x) return GC_ERR_OUT_OF_MEMORY;
  const gc_spec *sp = &m->spec;
  gc_status s = gc_preprocess_image_as(pixels, width, height, stride, format, out_w, out_h,
                                       sp->pre == GC_PRE_RESCALE, sp->pre_scale, sp->pre_offset, x);
  if (s == GC_ERR_IMAGE_SIZE) {
    gc_set_error(m->error, sizeof m->error, "image is %dx%d; the limit is %d pixels a side and %d pixels", width,
                 height, GC_MAX_IMAGE_SIDE, GC_MAX_IMAGE_PIXELS);
  } else if (s != GC_OK) {
    gc_set_error(m->error, sizeof m->error, "image %dx%d (stride %d, %d channels) rejected", width, height, stride,
                 (int)format);
  } else {
    s = gc_model_forward_tensor(m, x, out_h, out_w);
  }
  free(x);
  return s;
}

gc_status gc_model_forward_image(gc_model *m, const uint8_t *pixels, int width, int height, int stride,
                                 gc_pixel_format format) {
  return gc_model_forward_image_size(m, pixels, width, height, stride, format, 0, 0);
}

gc_status gc_model_forward_encoded(gc_model *m, const void *bytes, size_t size, int out_h, int out_w,
                                   gc_decoded *info, uint8_t **rgba) {
  if (rgba) *rgba = NULL;
  if (info) memset(info, 0, sizeof *info);
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  uint8_t *px = NULL;
  int w = 0, h = 0;
  const double t0 = gc_now_ms();
  gc_status s = gc_decode_image(bytes, size, &px, &w, &h, m->error, sizeof m->error);
  const double t1 = gc_now_ms();
  if (s == GC_OK) s = gc_model_forward_image_size(m, px, w, h, w * 4, GC_PIXEL_RGBA8, out_h, out_w);
  if (info) {
    info->width = w;
    info->height = h;
    info->decode_ms = t1 - t0;
    info->forward_ms = s == GC_OK ? gc_now_ms() - t1 : 0;
  }
  if (s == GC_OK && rgba) *rgba = px;
  else free(px);
  return s;
}

const float *gc_model_logits(const gc_model *m) { return m && m->ran && m->nclasses ? m->scores : NULL; }
const float *gc_model_probs(const gc_model *m) { return m && m->ran && m->nclasses ? m->probs : NULL; }

gc_status gc_model_top_k(const gc_model *m, int k, gc_class_score *out) {
  if (!m || !out || k < 1) return GC_ERR_INVALID_ARGUMENT;
  if (!m->nclasses) return GC_ERR_NO_HEAD;
  if (k > m->nclasses) return GC_ERR_INVALID_ARGUMENT;
  if (!m->ran) return GC_ERR_NOT_RUN;
  /* selection of the k best; ties keep the lower index first */
  for (int j = 0; j < k; j++) {
    int best = -1;
    for (int i = 0; i < m->nclasses; i++) {
      int taken = 0;
      for (int t = 0; t < j && !taken; t++) taken = out[t].index == i;
      if (taken) continue;
      if (best < 0 || m->scores[i] > m->scores[best]) best = i;
    }
    out[j].index = best;
    out[j].logit = m->scores[best];
    out[j].prob = m->probs[best];
  }
  return GC_OK;
}

/* ---- activations by name ---------------------------------------------------------------- */

static void fill_shape(gc_shape *shape, const gc_node *nd, int channels, int flat) {
  memset(shape, 0, sizeof *shape);
  if (flat) {
    shape->ndim = 2;
    shape->dims[0] = 1;
    shape->dims[1] = channels;
  } else {
    shape->ndim = 4;
    shape->dims[0] = 1;
    shape->dims[1] = nd->h;
    shape->dims[2] = nd->w;
    shape->dims[3] = channels;
  }
}

/* The value of a transient row after the forward pass: recomputed from its inputs (themselves
 * recomputed first if transient) into the row's own buffer, which its output then points to. */
gc_status gc_materialize(gc_model *m, int i) {
  const gc_layer *r = &m->rows[i];
  gc_node *nd = &m->nodes[i];
  if (!r->transient || (nd->val && nd->out == nd->val)) return GC_OK;
  gc_status st = gc_ops_batch1(m);
  if (st != GC_OK) return st;
  for (int k = 0; k < 2; k++) {
    const int j = k ? r->in1 : r->in0;
    if (j >= 0) {
      gc_status s = gc_materialize(m, j);
      if (s != GC_OK) return s;
    }
  }
  if (!nd->val) nd->val = gc_alloc_buffer((size_t)nd->h * nd->w * r->cout);
  if (!nd->val) return GC_ERR_OUT_OF_MEMORY;
  nd->out = nd->val;
  return run_row(m, i, m->nodes[0].out);
}

/* The pre-activation of a row whose ReLU is fused, computed by its layer kind on demand. */
static gc_status compute_preact(gc_model *m, int i) {
  gc_node *nd = &m->nodes[i];
  if (nd->pre_valid) return GC_OK;
  gc_status s = gc_ops_batch1(m);
  if (s == GC_OK) s = gc_materialize(m, m->rows[i].in0);
  if (s != GC_OK) return s;
  if (!nd->pre) nd->pre = gc_alloc_buffer((size_t)nd->h * nd->w * m->rows[i].cout);
  if (!nd->pre) return GC_ERR_OUT_OF_MEMORY;
  s = gc_ops[m->rows[i].def->op]->preact(m, i, m->nodes[m->rows[i].in0].out, nd->pre);
  nd->pre_valid = s == GC_OK;
  return s;
}

int gc_model_find_layer(gc_model *m, const char *layer, int *preact) {
  if (!layer) layer = "input";
  int i = gc_net_find(&m->net, layer);
  *preact = 0;
  if (i < 0 && (i = gc_net_find_preact(&m->net, layer)) >= 0) *preact = 1;
  if (i < 0) gc_set_error(m->error, sizeof m->error, "no layer named '%s'", layer);
  return i;
}

gc_status gc_model_activation(const gc_model *m_, const char *layer, const float **data, gc_shape *shape) {
  gc_model *m = (gc_model *)m_; /* pre-activations are computed (and cached) on demand */
  if (!m || !layer || !data || !shape) return GC_ERR_INVALID_ARGUMENT;
  *data = NULL;
  int pre;
  const int i = gc_model_find_layer(m, layer, &pre);
  if (i < 0) return GC_ERR_LAYER_UNKNOWN;
  if (!m->ran) {
    gc_set_error(m->error, sizeof m->error, "run a forward pass first");
    return GC_ERR_NOT_RUN;
  }
  if (pre) {
    gc_status s = compute_preact(m, i);
    if (s != GC_OK) return s;
    fill_shape(shape, &m->nodes[i], m->rows[i].cout, 0);
    *data = m->nodes[i].pre;
    return GC_OK;
  }
  gc_status s = gc_materialize(m, i);
  if (s != GC_OK) return s;
  const gc_op op = m->rows[i].def->op;
  fill_shape(shape, &m->nodes[i], m->rows[i].cout, op == GC_OP_GAP || op == GC_OP_GMP || op == GC_OP_DENSE);
  *data = m->nodes[i].out;
  return GC_OK;
}

gc_status gc_model_input(const gc_model *m, const float **data, gc_shape *shape) {
  return gc_model_activation(m, "input", data, shape);
}

