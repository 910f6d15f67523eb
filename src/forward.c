/* forward.c - the model handle and the forward pass on XNNPACK operators.
 *
 * One XNNPACK operator (two for a separable convolution) per table row, created once at load
 * time with the batch norm folded into the convolution's weights and the following ReLU fused
 * where the table says so. When the input size changes every operator is reshaped and the
 * activation buffers are reallocated; otherwise a forward pass only runs the operators.
 * Every row's output is kept, so each activation stays addressable by its Keras name.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "state.h"

#define BN_EPSILON 1e-3f

void *gc_alloc_buffer(size_t floats) {
  /* XNNPACK may read XNN_EXTRA_BYTES past the end of its inputs */
  size_t bytes = floats * sizeof(float) + XNN_EXTRA_BYTES;
  void *p = NULL;
  if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0) return NULL;
  return p;
}

gc_status gc_backend_error(gc_model *m, const char *what, const char *layer, enum xnn_status s) {
  gc_set_error(m->error, sizeof m->error, "XNNPACK %s failed for %s (status %d)", what, layer, (int)s);
  return s == xnn_status_out_of_memory ? GC_ERR_OUT_OF_MEMORY : GC_ERR_BACKEND;
}

/* ---- loading ---------------------------------------------------------------------------- */

static gc_status get(gc_model *m, const char *prefix, const char *part, int ndim, int d0, int d1, int d2,
                     int d3, float **out, char *err, size_t errlen) {
  char name[96];
  snprintf(name, sizeof name, "%s/%s", prefix, part);
  const int dims[4] = {d0, d1, d2, d3};
  return gc_weights_get(&m->w, name, ndim, dims, out, err, errlen);
}

/* Fold y = gamma * (x - mean) / sqrt(var + eps) + beta into the kernel rows and a bias. */
static gc_status fold_bn(gc_model *m, const char *bn, int c, float *kernel, size_t per_out, float *bias,
                         char *err, size_t errlen) {
  static const char *const parts[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
  float *v[4] = {NULL, NULL, NULL, NULL};
  gc_status s = GC_OK;
  for (int p = 0; p < 4 && s == GC_OK; p++) s = get(m, bn, parts[p], 1, c, 0, 0, 0, &v[p], err, errlen);
  for (int o = 0; s == GC_OK && o < c; o++) {
    if (!(v[3][o] >= 0.0f)) {
      gc_set_error(err, errlen, "%s/moving_variance[%d] is negative", bn, o);
      s = GC_ERR_WEIGHTS_CORRUPT;
      break;
    }
    const float scale = v[0][o] / sqrtf(v[3][o] + BN_EPSILON);
    for (size_t k = 0; k < per_out; k++) kernel[(size_t)o * per_out + k] *= scale;
    bias[o] = v[1][o] - v[2][o] * scale;
  }
  for (int p = 0; p < 4; p++) free(v[p]);
  return s;
}

gc_status gc_row_weights(gc_model *m, int i, float **kernel, float **dw, float **bias, char *err, size_t errlen) {
  const gc_layer *r = &m->rows[i];
  const gc_layer_def *d = r->def;
  *kernel = *dw = *bias = NULL;
  gc_status s = GC_OK;
  if (d->op == GC_OP_CONV) {
    s = get(m, d->weights, "kernel", 4, r->cout, d->kernel, d->kernel, r->cin, kernel, err, errlen);
  } else if (d->op == GC_OP_SEPCONV) {
    s = get(m, d->weights, "depthwise_kernel", 4, 1, 3, 3, r->cin, dw, err, errlen);
    if (s == GC_OK) s = get(m, d->weights, "pointwise_kernel", 4, r->cout, 1, 1, r->cin, kernel, err, errlen);
  } else if (d->op == GC_OP_DENSE) {
    s = get(m, d->weights, "kernel", 2, r->cout, r->cin, 0, 0, kernel, err, errlen);
    if (s == GC_OK) s = get(m, d->weights, "bias", 1, r->cout, 0, 0, 0, bias, err, errlen);
    if (s != GC_OK) goto fail;
    return GC_OK;
  } else {
    return GC_ERR_INVALID_ARGUMENT;
  }
  if (s == GC_OK && !(*bias = malloc((size_t)r->cout * sizeof **bias))) s = GC_ERR_OUT_OF_MEMORY;
  if (s == GC_OK) {
    const size_t per_out = d->op == GC_OP_CONV ? (size_t)d->kernel * d->kernel * r->cin : (size_t)r->cin;
    s = fold_bn(m, d->bn, r->cout, *kernel, per_out, *bias, err, errlen);
  }
  if (s == GC_OK) return GC_OK;
fail:
  free(*kernel);
  free(*dw);
  free(*bias);
  *kernel = *dw = *bias = NULL;
  return s;
}

static gc_status create_row(gc_model *m, int i, char *err, size_t errlen) {
  const gc_layer *r = &m->rows[i];
  const gc_layer_def *d = r->def;
  gc_node *n = &m->nodes[i];
  const float out_min = d->relu ? 0.0f : -INFINITY;
  enum xnn_status xs = xnn_status_success;
  float *k = NULL, *dw = NULL, *bias = NULL;
  gc_status s = GC_OK;
  switch (d->op) {
    case GC_OP_CONV:
      s = gc_row_weights(m, i, &k, &dw, &bias, err, errlen);
      if (s != GC_OK) break;
      xs = xnn_create_convolution2d_nhwc_f32(
          0, 0, 0, 0, d->kernel, d->kernel, d->stride, d->stride, 1, 1, 1, r->cin, r->cout, r->cin,
          r->cout, k, bias, out_min, INFINITY, d->same ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0,
          NULL, NULL, &n->op);
      break;
    case GC_OP_SEPCONV:
      s = gc_row_weights(m, i, &k, &dw, &bias, err, errlen);
      if (s != GC_OK) break;
      xs = xnn_create_convolution2d_nhwc_f32(
          1, 1, 1, 1, 3, 3, 1, 1, 1, 1, r->cin, 1, 1, r->cin, r->cin, dw, NULL, -INFINITY, INFINITY,
          XNN_FLAG_DEPTHWISE_CONVOLUTION, NULL, NULL, &n->op);
      if (xs == xnn_status_success)
        xs = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, r->cin, r->cout, r->cin,
                                               r->cout, k, bias, out_min, INFINITY, 0, NULL, NULL, &n->op2);
      break;
    case GC_OP_RELU: {
      union xnn_unary_params p;
      p.clamp.min = 0.0f;
      p.clamp.max = INFINITY;
      xs = xnn_create_unary_elementwise_nc(xnn_unary_clamp, xnn_datatype_fp32, xnn_datatype_fp32, &p,
                                           NULL, NULL, 0, &n->op);
      break;
    }
    case GC_OP_MAXPOOL:
      xs = xnn_create_max_pooling2d_nhwc_f32(0, 0, 0, 0, 3, 3, d->stride, d->stride, 1, 1, -INFINITY,
                                             INFINITY, XNN_FLAG_TENSORFLOW_SAME_PADDING, &n->op);
      break;
    case GC_OP_ADD:
      xs = xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_fp32, NULL, NULL, NULL, 0, &n->op);
      break;
    case GC_OP_DENSE:
      s = gc_row_weights(m, i, &k, &dw, &bias, err, errlen);
      if (s != GC_OK) break;
      xs = xnn_create_fully_connected_nc_f32(r->cin, r->cout, r->cin, r->cout, k, bias, -INFINITY,
                                             INFINITY, 0, NULL, NULL, &n->op);
      break;
    case GC_OP_INPUT:
    case GC_OP_GAP:
      break;
  }
  if (s == GC_OK && k) { /* count the parameters the file holds for this row */
    m->param_count += d->op == GC_OP_DENSE ? (size_t)r->cout * r->cin + r->cout
                      : d->op == GC_OP_CONV ? (size_t)r->cout * d->kernel * d->kernel * r->cin + 4u * r->cout
                                            : (size_t)9 * r->cin + (size_t)r->cout * r->cin + 4u * r->cout;
  }
  free(k);
  free(dw);
  free(bias);
  if (s == GC_OK && xs != xnn_status_success) {
    s = gc_backend_error(m, "create", d->name, xs);
    gc_set_error(err, errlen, "%s", m->error);
  }
  return s;
}

static gc_status make_pool(gc_model *m, int threads) {
  if (threads < 0) return GC_ERR_INVALID_ARGUMENT;
  if (m->pool) pthreadpool_destroy(m->pool);
  /* pthreadpool_create(0) means one thread per core; 1 means run on the caller only */
  m->pool = pthreadpool_create((size_t)threads);
  /* the single-thread build's pool shim only accepts 0 or 1 threads: run on the caller */
  if (!m->pool && threads != 1) m->pool = pthreadpool_create(1);
  if (!m->pool) return GC_ERR_OUT_OF_MEMORY;
  m->threads = (int)pthreadpool_get_threads_count(m->pool);
  m->in_h = m->in_w = m->batch = 0; /* operators must be reshaped for the new pool */
  for (int i = 0; m->nodes && i < m->nrows; i++) m->nodes[i].bshape_h = m->nodes[i].bshape_w = 0;
  return GC_OK;
}

/* Takes ownership of bytes (malloc'ed) in every case. */
static gc_status load_owned(uint8_t *bytes, size_t size, const gc_params *params, gc_model **out, char *err,
                            size_t errlen) {
  gc_params p = params ? *params : gc_default_params();
  if (p.threads < 0 || p.threads > 256) {
    gc_set_error(err, errlen, "threads must be 0..256, got %d", p.threads);
    free(bytes);
    return GC_ERR_INVALID_ARGUMENT;
  }
  gc_weights w;
  gc_status s = gc_weights_parse(bytes, size, &w, err, errlen);
  if (s != GC_OK) {
    free(bytes);
    return s;
  }
  enum xnn_status xs = gc_xnn_start();
  if (xs != xnn_status_success) {
    gc_weights_release(&w);
    free(bytes);
    gc_set_error(err, errlen, "XNNPACK could not initialise (status %d): unsupported CPU?", (int)xs);
    return GC_ERR_BACKEND;
  }
  gc_model *m = calloc(1, sizeof *m);
  if (!m) {
    gc_weights_release(&w);
    free(bytes);
    return GC_ERR_OUT_OF_MEMORY;
  }
  m->wbytes = bytes;
  m->w = w;
  m->nrows = gc_table_size();
  m->rows = calloc((size_t)m->nrows, sizeof *m->rows);
  m->nodes = calloc((size_t)m->nrows, sizeof *m->nodes);
  if (!m->rows || !m->nodes) {
    s = GC_ERR_OUT_OF_MEMORY;
  } else {
    gc_table_resolve(m->rows);
    s = make_pool(m, p.threads);
  }
  for (int i = 0; s == GC_OK && i < m->nrows; i++) s = create_row(m, i, err, errlen);
  if (s != GC_OK) {
    if (s == GC_ERR_OUT_OF_MEMORY && err && !err[0]) gc_set_error(err, errlen, "out of memory while loading");
    gc_model_free(m);
    return s;
  }
  *out = m;
  return GC_OK;
}

gc_status gc_model_load_memory(const void *data, size_t size, const gc_params *params,
                               gc_model **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!data && size) return GC_ERR_INVALID_ARGUMENT;
  /* the model keeps its own copy: backward operators are created from it on first use */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) {
    gc_set_error(err, errlen, "out of memory for a %zu-byte weights file", size);
    return GC_ERR_OUT_OF_MEMORY;
  }
  if (size) memcpy(copy, data, size);
  return load_owned(copy, size, params, out, err, errlen);
}

gc_status gc_model_load_file(const char *path, const gc_params *params, gc_model **out, char *err,
                             size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!path || !out) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    gc_set_error(err, errlen, "cannot open '%s'", path);
    return GC_ERR_IO;
  }
  gc_status s = GC_OK;
  uint8_t *buf = NULL;
  long len = -1;
  struct stat st;
  /* a directory opens and "seeks" to LONG_MAX on Linux: only regular files are read */
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && fseek(f, 0, SEEK_END) == 0) len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
    gc_set_error(err, errlen, "cannot determine the size of '%s' (not a regular file?)", path);
    s = GC_ERR_IO;
  } else if (!(buf = malloc(len ? (size_t)len : 1))) {
    s = GC_ERR_OUT_OF_MEMORY;
  } else if (len && fread(buf, 1, (size_t)len, f) != (size_t)len) {
    gc_set_error(err, errlen, "cannot read '%s'", path);
    s = GC_ERR_IO;
  }
  fclose(f);
  if (s != GC_OK) {
    free(buf);
    return s;
  }
  return load_owned(buf, (size_t)len, params, out, err, errlen);
}

void gc_model_free(gc_model *m) {
  if (!m) return;
  gc_backward_release(m);
  if (m->nodes) {
    for (int i = 0; i < m->nrows; i++) {
      if (m->nodes[i].op) xnn_delete_operator(m->nodes[i].op);
      if (m->nodes[i].op2) xnn_delete_operator(m->nodes[i].op2);
      if (m->nodes[i].pre_op) xnn_delete_operator(m->nodes[i].pre_op);
      if (!m->rows[i].transient) free(m->nodes[i].out);
      free(m->nodes[i].val);
      free(m->nodes[i].pre);
    }
  }
  free(m->nodes);
  free(m->rows);
  free(m->scratch);
  for (int k = 0; k < 3; k++) free(m->slot[k]);
  free(m->workspace);
  free(m->image_input);
  free(m->mapbuf); /* explanation results and working memory (methods.c, metrics.c) */
  for (int k = 0; k < 3; k++) free(m->work[k]);
  if (m->pool) pthreadpool_destroy(m->pool);
  gc_weights_release(&m->w);
  free(m->wbytes);
  free(m);
  xnn_deinitialize();
}

const char *gc_model_last_error(const gc_model *m) { return m ? m->error : ""; }

gc_status gc_model_set_threads(gc_model *m, int threads) {
  if (!m || threads < 0 || threads > 256) return GC_ERR_INVALID_ARGUMENT;
  m->ran = 0;
  return make_pool(m, threads);
}

int gc_model_threads(const gc_model *m) { return m ? m->threads : 0; }

size_t gc_model_param_count(const gc_model *m) { return m ? m->param_count : 0; }

/* ---- reshape: only when the input size changes -------------------------------------------- */

/* Slot of a transient row: the residual slot, or one of two short-lived slots alternating by
 * row so that a transient row read by the next transient row never shares its slot. */
static int transient_slot(const gc_model *m, int i) { return m->rows[i].transient == 2 ? 2 : i % 2; }

/* Point the transient rows at their slots (before a forward pass). */
static void attach_slots(gc_model *m) {
  for (int i = 0; i < m->nrows; i++)
    if (m->rows[i].transient) m->nodes[i].out = m->slot[transient_slot(m, i)];
}

static gc_status reshape(gc_model *m, int batch, int h, int w) {
  const int n = m->nrows;
  int *oh = malloc((size_t)n * sizeof *oh), *ow = malloc((size_t)n * sizeof *ow);
  if (!oh || !ow) {
    free(oh);
    free(ow);
    return GC_ERR_OUT_OF_MEMORY;
  }
  gc_table_spatial(m->rows, h, w, oh, ow);
  m->in_h = m->in_w = m->batch = 0;
  m->ran = 0;
  const size_t B = (size_t)batch;
  gc_status s = GC_OK;
  size_t ws_max = 0, scratch_max = 0, slot_size[3] = {0, 0, 0};
  for (int i = 0; i < n && s == GC_OK; i++) {
    const gc_layer *r = &m->rows[i];
    gc_node *nd = &m->nodes[i];
    const int ih = r->in0 >= 0 ? oh[r->in0] : h, iw = r->in0 >= 0 ? ow[r->in0] : w;
    size_t ws = 0, wa = 0, rh = 0, rw = 0;
    enum xnn_status xs = xnn_status_success;
    switch (r->def->op) {
      case GC_OP_CONV:
        xs = xnn_reshape_convolution2d_nhwc_f32(nd->op, B, ih, iw, &ws, &wa, &rh, &rw, m->pool);
        break;
      case GC_OP_SEPCONV:
        xs = xnn_reshape_convolution2d_nhwc_f32(nd->op, B, ih, iw, &ws, &wa, &rh, &rw, m->pool);
        if (ws > ws_max) ws_max = ws;
        ws = 0;
        if (xs == xnn_status_success)
          xs = xnn_reshape_convolution2d_nhwc_f32(nd->op2, B, ih, iw, &ws, &wa, &rh, &rw, m->pool);
        if (B * ih * iw * r->cin > scratch_max) scratch_max = B * ih * iw * r->cin;
        break;
      case GC_OP_RELU:
        xs = xnn_reshape_unary_elementwise_nc(nd->op, B * ih * iw, r->cin, r->cin, r->cin, m->pool);
        rh = ih, rw = iw;
        break;
      case GC_OP_MAXPOOL:
        xs = xnn_reshape_max_pooling2d_nhwc_f32(nd->op, B, ih, iw, r->cin, r->cin, r->cin, &rh, &rw, m->pool);
        break;
      case GC_OP_ADD: {
        const size_t shape[4] = {B, (size_t)ih, (size_t)iw, (size_t)r->cin};
        xs = xnn_reshape_binary_elementwise_nd(nd->op, 4, shape, 4, shape, m->pool);
        rh = ih, rw = iw;
        break;
      }
      case GC_OP_DENSE:
        xs = xnn_reshape_fully_connected_nc_f32(nd->op, B, m->pool);
        rh = rw = 1;
        break;
      case GC_OP_INPUT:
        rh = h, rw = w;
        break;
      case GC_OP_GAP:
        rh = rw = 1;
        break;
    }
    if (xs != xnn_status_success) {
      s = gc_backend_error(m, "reshape", r->def->name, xs);
      break;
    }
    if ((int)rh != oh[i] || (int)rw != ow[i]) {
      gc_set_error(m->error, sizeof m->error, "internal shape mismatch at %s: %zux%zu vs %dx%d",
                   r->def->name, rh, rw, oh[i], ow[i]);
      s = GC_ERR_BACKEND;
      break;
    }
    if (ws > ws_max) ws_max = ws;
    nd->h = oh[i];
    nd->w = ow[i];
    if (!r->transient) free(nd->out);
    nd->out = NULL;
    const size_t elems = B * oh[i] * ow[i] * r->cout;
    if (r->transient) {
      const int k = transient_slot(m, i);
      if (elems > slot_size[k]) slot_size[k] = elems;
    } else {
      nd->out = gc_alloc_buffer(elems);
      if (!nd->out) s = GC_ERR_OUT_OF_MEMORY;
    }
    free(nd->val);
    nd->val = NULL;
    free(nd->pre); /* pre-activations and gradients follow the new size */
    nd->pre = NULL;
    nd->pre_valid = 0;
    free(nd->grad);
    nd->grad = NULL;
    nd->has_grad = 0;
  }
  free(oh);
  free(ow);
  for (int k = 0; s == GC_OK && k < 3; k++) {
    free(m->slot[k]);
    m->slot[k] = gc_alloc_buffer(slot_size[k]);
    if (!m->slot[k]) s = GC_ERR_OUT_OF_MEMORY;
  }
  if (s == GC_OK) {
    free(m->scratch);
    free(m->workspace);
    m->workspace = NULL;
    m->scratch = gc_alloc_buffer(scratch_max);
    m->workspace_size = ws_max;
    if (ws_max && posix_memalign(&m->workspace, 64, (ws_max + 63) / 64 * 64) != 0) m->workspace = NULL;
    if (!m->scratch || (ws_max && !m->workspace)) s = GC_ERR_OUT_OF_MEMORY;
  }
  if (s == GC_OK) {
    m->in_h = h;
    m->in_w = w;
    m->batch = batch;
  } else if (s == GC_ERR_OUT_OF_MEMORY) {
    gc_set_error(m->error, sizeof m->error, "out of memory for %dx%d activations", h, w);
  }
  return s;
}

/* ---- the forward pass --------------------------------------------------------------------- */

static gc_status run_row(gc_model *m, int i, const float *input) {
  const size_t B = (size_t)m->batch;
  const gc_layer *r = &m->rows[i];
  gc_node *nd = &m->nodes[i];
  const float *in0 = r->in0 >= 0 ? m->nodes[r->in0].out : input;
  enum xnn_status xs = xnn_status_success;
  switch (r->def->op) {
    case GC_OP_INPUT:
      memcpy(nd->out, input, B * nd->h * nd->w * 3 * sizeof(float));
      return GC_OK;
    case GC_OP_CONV:
      xs = xnn_setup_convolution2d_nhwc_f32(nd->op, m->workspace, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_SEPCONV:
      xs = xnn_setup_convolution2d_nhwc_f32(nd->op, m->workspace, in0, m->scratch);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(nd->op2, m->workspace, m->scratch, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op2, m->pool);
      break;
    case GC_OP_RELU:
      xs = xnn_setup_unary_elementwise_nc(nd->op, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_MAXPOOL:
      xs = xnn_setup_max_pooling2d_nhwc_f32(nd->op, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_ADD:
      xs = xnn_setup_binary_elementwise_nd(nd->op, in0, m->nodes[r->in1].out, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_GAP: {
      const gc_node *src = &m->nodes[r->in0];
      const size_t hw = (size_t)src->h * src->w, C = (size_t)r->cout;
      for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++) {
          double acc = 0.0;
          for (size_t p = 0; p < hw; p++) acc += in0[(b * hw + p) * C + c];
          nd->out[b * C + c] = (float)(acc / (double)hw);
        }
      return GC_OK;
    }
    case GC_OP_DENSE:
      xs = xnn_setup_fully_connected_nc_f32(nd->op, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
  }
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run", r->def->name, xs);
}

void gc_softmax(const float *logits, float *probs, int n) {
  float mx = logits[0];
  for (int i = 1; i < n; i++)
    if (logits[i] > mx) mx = logits[i];
  double sum = 0.0;
  for (int i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
  for (int i = 0; i < n; i++) probs[i] = (float)(exp((double)logits[i] - mx) / sum);
}

static gc_status check_size(gc_model *m, int h, int w) {
  if (h < GC_MIN_INPUT_SIZE || w < GC_MIN_INPUT_SIZE || h > GC_MAX_INPUT_SIZE || w > GC_MAX_INPUT_SIZE) {
    gc_set_error(m->error, sizeof m->error, "input %dx%d outside %d..%d", w, h, GC_MIN_INPUT_SIZE,
                 GC_MAX_INPUT_SIZE);
    return GC_ERR_IMAGE_SIZE;
  }
  return GC_OK;
}

gc_status gc_forward_batch(gc_model *m, const float *input, int batch, int h, int w) {
  gc_status s = check_size(m, h, w);
  if (s != GC_OK) return s;
  if (h != m->in_h || w != m->in_w || batch != m->batch) s = reshape(m, batch, h, w);
  m->ran = 0;
  if (s == GC_OK) attach_slots(m);
  for (int i = 0; s == GC_OK && i < m->nrows; i++) {
    GC_PROFILE_START(t0);
    s = run_row(m, i, input);
    GC_PROFILE_ROW("forward", m->rows[i].def->name, m->rows[i].def->op, t0);
  }
  for (int i = 0; i < m->nrows; i++) m->nodes[i].has_grad = 0;
  return s;
}

static gc_status materialize(gc_model *m, int i);

gc_status gc_forward_from(gc_model *m, int row) {
  if (!m->ran || m->batch != 1 || row < 0 || row >= m->nrows) return GC_ERR_NOT_RUN;
  gc_status s = GC_OK;
  /* transient values from before `row` that rows after it read must exist again */
  for (int i = row + 1; s == GC_OK && i < m->nrows; i++) {
    const gc_layer *r = &m->rows[i];
    if (r->in0 >= 0 && r->in0 < row) s = materialize(m, r->in0);
    if (s == GC_OK && r->in1 >= 0 && r->in1 < row) s = materialize(m, r->in1);
  }
  for (int i = row + 1; s == GC_OK && i < m->nrows; i++) s = run_row(m, i, m->nodes[0].out);
  for (int i = 0; i < m->nrows; i++) m->nodes[i].pre_valid = m->nodes[i].has_grad = 0;
  if (s == GC_OK) {
    memcpy(m->logits, gc_batch_logits(m, 0), sizeof m->logits);
    gc_softmax(m->logits, m->probs, GC_NUM_CLASSES);
  }
  return s;
}

const float *gc_batch_logits(const gc_model *m, int b) {
  return m->nodes[m->nrows - 1].out + (size_t)b * GC_NUM_CLASSES;
}

gc_status gc_model_forward_tensor(gc_model *m, const float *input, int h, int w) {
  if (!m || !input) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  gc_status s = gc_forward_batch(m, input, 1, h, w);
  if (s != GC_OK) return s;
  memcpy(m->logits, gc_batch_logits(m, 0), sizeof m->logits);
  for (int i = 0; i < GC_NUM_CLASSES; i++) {
    if (!isfinite(m->logits[i])) {
      gc_set_error(m->error, sizeof m->error, "logit %d is not finite (non-finite input?)", i);
      return GC_ERR_IMAGE_INVALID;
    }
  }
  gc_softmax(m->logits, m->probs, GC_NUM_CLASSES);
  m->ran = 1;
  return GC_OK;
}

gc_status gc_model_forward_image(gc_model *m, const uint8_t *pixels, int width, int height, int stride,
                                 gc_pixel_format format) {
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!m->image_input && !(m->image_input = gc_alloc_buffer((size_t)GC_INPUT_SIZE * GC_INPUT_SIZE * 3)))
    return GC_ERR_OUT_OF_MEMORY;
  gc_status s = gc_preprocess_image(pixels, width, height, stride, format, GC_INPUT_SIZE, GC_INPUT_SIZE,
                                    m->image_input);
  if (s == GC_ERR_IMAGE_SIZE) {
    gc_set_error(m->error, sizeof m->error, "image is %dx%d; the limit is %d pixels a side and %d pixels", width,
                 height, GC_MAX_IMAGE_SIDE, GC_MAX_IMAGE_PIXELS);
    return s;
  }
  if (s != GC_OK) {
    gc_set_error(m->error, sizeof m->error, "image %dx%d (stride %d, %d channels) rejected", width, height,
                 stride, (int)format);
    return s;
  }
  return gc_model_forward_tensor(m, m->image_input, GC_INPUT_SIZE, GC_INPUT_SIZE);
}

const float *gc_model_logits(const gc_model *m) { return m && m->ran ? m->logits : NULL; }
const float *gc_model_probs(const gc_model *m) { return m && m->ran ? m->probs : NULL; }

gc_status gc_model_top_k(const gc_model *m, int k, gc_class_score *out) {
  if (!m || !out || k < 1 || k > GC_NUM_CLASSES) return GC_ERR_INVALID_ARGUMENT;
  if (!m->ran) return GC_ERR_NOT_RUN;
  /* selection of the k best; ties keep the lower index first */
  for (int j = 0; j < k; j++) {
    int best = -1;
    for (int i = 0; i < GC_NUM_CLASSES; i++) {
      int taken = 0;
      for (int t = 0; t < j && !taken; t++) taken = out[t].index == i;
      if (taken) continue;
      if (best < 0 || m->logits[i] > m->logits[best]) best = i;
    }
    out[j].index = best;
    out[j].logit = m->logits[best];
    out[j].prob = m->probs[best];
  }
  return GC_OK;
}

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
static gc_status materialize(gc_model *m, int i) {
  const gc_layer *r = &m->rows[i];
  gc_node *nd = &m->nodes[i];
  if (!r->transient || (nd->val && nd->out == nd->val)) return GC_OK;
  for (int k = 0; k < 2; k++) {
    const int j = k ? r->in1 : r->in0;
    if (j >= 0) {
      gc_status s = materialize(m, j);
      if (s != GC_OK) return s;
    }
  }
  if (!nd->val) nd->val = gc_alloc_buffer((size_t)nd->h * nd->w * r->cout);
  if (!nd->val) return GC_ERR_OUT_OF_MEMORY;
  nd->out = nd->val;
  return run_row(m, i, m->nodes[0].out);
}

/* The pre-activation of a row whose ReLU is fused: rerun its last convolution without the
 * clamp (that operator is created on first use) on the stored input. */
static gc_status compute_preact(gc_model *m, int i) {
  const gc_layer *r = &m->rows[i];
  gc_node *nd = &m->nodes[i];
  if (nd->pre_valid) return GC_OK;
  enum xnn_status xs = xnn_status_success;
  if (!nd->pre_op) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
    if (s != GC_OK) return s;
    const gc_layer_def *d = r->def;
    if (d->op == GC_OP_CONV)
      xs = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, d->kernel, d->kernel, d->stride, d->stride, 1, 1, 1, r->cin,
                                             r->cout, r->cin, r->cout, k, bias, -INFINITY, INFINITY,
                                             d->same ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0, NULL, NULL, &nd->pre_op);
    else
      xs = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, r->cin, r->cout, r->cin, r->cout, k,
                                             bias, -INFINITY, INFINITY, 0, NULL, NULL, &nd->pre_op);
    free(k);
    free(dw);
    free(bias);
    if (xs != xnn_status_success) return gc_backend_error(m, "create", r->def->preact, xs);
  }
  gc_status ms = materialize(m, r->in0);
  if (ms != GC_OK) return ms;
  const gc_node *src = &m->nodes[r->in0];
  const int ih = src->h, iw = src->w;
  size_t ws = 0, wa = 0, oh = 0, ow = 0;
  xs = xnn_reshape_convolution2d_nhwc_f32(nd->pre_op, 1, ih, iw, &ws, &wa, &oh, &ow, m->pool);
  if (xs != xnn_status_success) return gc_backend_error(m, "reshape", r->def->preact, xs);
  if (ws > m->workspace_size) { /* the shared workspace is sized for the forward operators */
    void *nw = NULL;
    if (posix_memalign(&nw, 64, (ws + 63) / 64 * 64) != 0) return GC_ERR_OUT_OF_MEMORY;
    free(m->workspace);
    m->workspace = nw;
    m->workspace_size = ws;
  }
  if (!nd->pre) nd->pre = gc_alloc_buffer((size_t)nd->h * nd->w * r->cout);
  if (!nd->pre) return GC_ERR_OUT_OF_MEMORY;
  const float *x = src->out;
  if (r->def->op == GC_OP_SEPCONV) { /* depthwise first, with the forward operator */
    xs = xnn_setup_convolution2d_nhwc_f32(nd->op, m->workspace, x, m->scratch);
    if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
    x = m->scratch;
  }
  if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(nd->pre_op, m->workspace, x, nd->pre);
  if (xs == xnn_status_success) xs = xnn_run_operator(nd->pre_op, m->pool);
  if (xs != xnn_status_success) return gc_backend_error(m, "run", r->def->preact, xs);
  nd->pre_valid = 1;
  return GC_OK;
}

gc_status gc_model_activation(const gc_model *m_, const char *layer, const float **data, gc_shape *shape) {
  gc_model *m = (gc_model *)m_; /* pre-activations are computed (and cached) on demand */
  if (!m || !layer || !data || !shape) return GC_ERR_INVALID_ARGUMENT;
  *data = NULL;
  int i = gc_table_find(layer);
  const int pre = i < 0 ? gc_table_find_preact(layer) : -1;
  if (i < 0 && pre < 0) {
    gc_set_error(m->error, sizeof m->error, "no layer named '%s'", layer);
    return GC_ERR_LAYER_UNKNOWN;
  }
  if (!m->ran) {
    gc_set_error(m->error, sizeof m->error, "run a forward pass first");
    return GC_ERR_NOT_RUN;
  }
  if (pre >= 0) {
    gc_status s = compute_preact(m, pre);
    if (s != GC_OK) return s;
    fill_shape(shape, &m->nodes[pre], m->rows[pre].cout, 0);
    *data = m->nodes[pre].pre;
    return GC_OK;
  }
  gc_status s = materialize(m, i);
  if (s != GC_OK) return s;
  const gc_op op = m->rows[i].def->op;
  fill_shape(shape, &m->nodes[i], m->rows[i].cout, op == GC_OP_GAP || op == GC_OP_DENSE);
  *data = m->nodes[i].out;
  return GC_OK;
}

gc_status gc_model_input(const gc_model *m, const float **data, gc_shape *shape) {
  return gc_model_activation(m, "input", data, shape);
}
