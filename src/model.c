/* model.c - the model handle: loading (weights file -> spec -> rows -> XNNPACK operators),
 * the retained weights, buffers, threads, class names, and freeing it all.
 *
 * The weights file (weights.c) says what the model is (spec.h; version 1 files are the
 * ImageNet model); net.c turns that into rows; each row's layer kind (ops/) creates its
 * operators from the weights, with the batch norms folded into the convolutions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/h5.h"
#include "io/zip.h"
#include "ops/ops.h"

#define BN_EPSILON 1e-3f

void *gc_alloc_buffer(size_t floats) {
  /* XNNPACK may read XNN_EXTRA_BYTES past the end of its inputs */
  size_t bytes = floats * sizeof(float) + XNN_EXTRA_BYTES;
  void *p = NULL;
  if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0) return NULL;
  return p;
}

float *gc_model_buffer(float **buf, size_t *cap, size_t n) {
  if (n > *cap) {
    free(*buf);
    *buf = gc_alloc_buffer(n);
    *cap = *buf ? n : 0;
  }
  return *buf;
}

float *gc_model_scratch(gc_model *m) {
  if (!m->scratch) m->scratch = gc_alloc_buffer(m->scratch_size);
  return m->scratch;
}

gc_status gc_model_workspace(gc_model *m, size_t ws) {
  if (ws <= m->workspace_size && (m->workspace || !ws)) return GC_OK;
  void *nw = NULL;
  if (posix_memalign(&nw, 64, (ws + 63) / 64 * 64) != 0) return GC_ERR_OUT_OF_MEMORY;
  free(m->workspace);
  m->workspace = nw;
  m->workspace_size = ws;
  return GC_OK;
}

gc_status gc_backend_error(gc_model *m, const char *what, const char *layer, enum xnn_status s) {
  gc_set_error(m->error, sizeof m->error, "XNNPACK %s failed for %s (status %d)", what, layer, (int)s);
  return s == xnn_status_out_of_memory ? GC_ERR_OUT_OF_MEMORY : GC_ERR_BACKEND;
}

int gc_model_cancelled(gc_model *m, int done, int total) {
  return m->progress && m->progress(m->progress_user, done, total) != 0;
}

void gc_model_set_progress(gc_model *m, gc_progress_callback fn, void *user) {
  if (!m) return;
  m->progress = fn;
  m->progress_user = user;
}

/* ---- weights ------------------------------------------------------------------------------- */

static gc_status get_tensor(gc_model *m, const char *name, int ndim, const int *dims, float **out, char *err,
                            size_t errlen);
static gc_status get(gc_model *m, const char *prefix, const char *part, int ndim, int d0, int d1, int d2,
                     int d3, float **out, char *err, size_t errlen) {
  char name[96];
  snprintf(name, sizeof name, "%s/%s", prefix, part);
  const int dims[4] = {d0, d1, d2, d3};
  return get_tensor(m, name, ndim, dims, out, err, errlen);
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

gc_status gc_model_set_weights_reader(gc_model *m, gc_weights_read read, void *user) {
  if (!m || !read) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (m->wbytes) { /* what each tensor's bytes hash to, to check every later read */
    uint64_t *sums = malloc((m->w.count ? m->w.count : 1) * sizeof *sums);
    if (!sums) return GC_ERR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < m->w.count; i++) sums[i] = gc_hash_words(m->w.data + m->w.entries[i].offset, m->w.entries[i].nbytes);
    free(m->wsums);
    m->wsums = sums;
    m->wdata_offset = (uint64_t)(m->w.data - m->wbytes);
    free(m->wbytes);
    m->wbytes = NULL;
    m->w.data = NULL;
  }
  m->read = read;
  m->read_user = user;
  return GC_OK;
}

size_t gc_model_weights_held(const gc_model *m) { return m && m->wbytes ? m->wbytes_size : 0; }

gc_status gc_model_weights_file(const gc_model *m, uint8_t **bytes, char *err, size_t errlen) {
  *bytes = NULL;
  if (m->wbytes) {
    *bytes = m->wbytes;
    return GC_OK;
  }
  uint8_t *b = malloc(m->wbytes_size ? m->wbytes_size : 1);
  if (!b) return GC_ERR_OUT_OF_MEMORY;
  if (m->read(m->read_user, 0, b, m->wbytes_size) != 0) {
    gc_set_error(err, errlen, "the weights file could not be read again (%zu bytes)", m->wbytes_size);
    free(b);
    return GC_ERR_IO;
  }
  gc_weights w;
  gc_status s = gc_weights_parse(b, m->wbytes_size, &w, err, errlen); /* its checksum */
  gc_weights_release(&w);
  if (s == GC_OK && memcmp(b + 56, m->wsum, 8) != 0) {
    gc_set_error(err, errlen, "the weights file read again is not the one loaded (another checksum)");
    s = GC_ERR_WEIGHTS_CHECKSUM;
  }
  if (s != GC_OK) {
    free(b);
    return s;
  }
  *bytes = b;
  return GC_OK;
}

/* A tensor of the weights file as float32: from the kept copy, or read back and checked. */
static gc_status get_tensor(gc_model *m, const char *name, int ndim, const int *dims, float **out, char *err,
                            size_t errlen) {
  if (m->wbytes) return gc_weights_get(&m->w, name, ndim, dims, out, err, errlen);
  *out = NULL;
  gc_status s;
  const gc_weights_entry *e = gc_weights_find(&m->w, name, ndim, dims, &s, err, errlen);
  if (!e) return s;
  uint8_t *b = malloc(e->nbytes ? e->nbytes : 1);
  if (!b) return GC_ERR_OUT_OF_MEMORY;
  if (m->read(m->read_user, m->wdata_offset + e->offset, b, e->nbytes) != 0) {
    gc_set_error(err, errlen, "tensor '%s' could not be read again from the weights file", name);
    s = GC_ERR_IO;
  } else if (gc_hash_words(b, e->nbytes) != m->wsums[e - m->w.entries]) {
    gc_set_error(err, errlen, "tensor '%s' read again differs from the one loaded: the weights file changed", name);
    s = GC_ERR_WEIGHTS_CHECKSUM;
  } else {
    s = gc_weights_convert(e, b, out, err, errlen);
  }
  free(b);
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
    s = get(m, d->weights, "depthwise_kernel", 4, 1, d->kernel, d->kernel, r->cin, dw, err, errlen);
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

/* ---- threads -------------------------------------------------------------------------------- */

static gc_status make_pool(gc_model *m, int threads) {
  if (threads < 0) return GC_ERR_INVALID_ARGUMENT;
  if (m->pool) pthreadpool_destroy(m->pool);
  /* pthreadpool_create(0) means one thread per core; 1 means run on the caller only */
  m->pool = pthreadpool_create((size_t)threads);
  /* the single-thread build's pool shim only accepts 0 or 1 threads: run on the caller */
  if (!m->pool && threads != 1) m->pool = pthreadpool_create(1);
  if (!m->pool) return GC_ERR_OUT_OF_MEMORY;
  m->threads = (int)pthreadpool_get_threads_count(m->pool);
  m->in_h = m->in_w = m->batch = 0; /* every operator must be reshaped for the new pool */
  m->kept_h = m->kept_w = 0;
  m->shape_gen++;
  return GC_OK;
}

gc_status gc_model_set_threads(gc_model *m, int threads) {
  if (!m || threads < 0 || threads > 256) return GC_ERR_INVALID_ARGUMENT;
  m->ran = 0;
  return make_pool(m, threads);
}

int gc_model_threads(const gc_model *m) { return m ? m->threads : 0; }

size_t gc_model_param_count(const gc_model *m) { return m ? m->param_count : 0; }

const char *gc_model_last_error(const gc_model *m) { return m ? m->error : ""; }

/* ---- loading -------------------------------------------------------------------------------- */

/* A Keras file (HDF5, ZIP or a TF.js model.json without shards) rather than a .gcw: imported
 * in memory first (the import API recognises the format and says what is wrong). */
static int keras_file(const uint8_t *b, size_t size) {
  size_t i = 0;
  while (i < size && i < 64 && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) i++;
  return gc_h5_is_hdf5(b, size) || gc_zip_is_zip(b, size) || (i < size && b[i] == '{');
}

/* Takes ownership of bytes (malloc'ed) in every case. */
static gc_status load_owned(uint8_t *bytes, size_t size, const gc_params *params, gc_model **out, char *err,
                            size_t errlen) {
  if (keras_file(bytes, size)) {
    void *gcw = NULL;
    size_t n = 0;
    gc_status s = gc_import_memory(bytes, size, NULL, 0, GC_DTYPE_F16, &gcw, &n, err, errlen);
    free(bytes);
    if (s != GC_OK) return s;
    bytes = gcw;
    size = n;
  }
  gc_params p = params ? *params : gc_default_params();
  if (p.threads < 0 || p.threads > 256) {
    gc_set_error(err, errlen, "threads must be 0..256, got %d", p.threads);
    free(bytes);
    return GC_ERR_INVALID_ARGUMENT;
  }
  gc_model *m = calloc(1, sizeof *m);
  if (!m) {
    free(bytes);
    return GC_ERR_OUT_OF_MEMORY;
  }
  m->wbytes = bytes;
  m->wbytes_size = size;
  if (size >= GC_WEIGHTS_HEADER_SIZE) memcpy(m->wsum, bytes + 56, 8);
  gc_status s = gc_weights_parse(bytes, size, &m->w, err, errlen);
  if (s == GC_OK) s = gc_weights_model(&m->w, &m->spec, &m->names, &m->nclasses, err, errlen);
  if (s == GC_OK) {
    m->nclasses = gc_spec_classes(&m->spec);
    s = gc_net_build(&m->spec, &m->net, err, errlen);
  }
  if (s == GC_OK) {
    enum xnn_status xs = gc_xnn_start();
    if (xs != xnn_status_success) {
      gc_set_error(err, errlen, "XNNPACK could not initialise (status %d): unsupported CPU?", (int)xs);
      s = GC_ERR_BACKEND;
    }
  }
  if (s == GC_OK) {
    m->rows = m->net.rows;
    m->nrows = m->net.nrows;
    m->nodes = calloc((size_t)m->nrows, sizeof *m->nodes);
    const size_t nc = m->nclasses ? (size_t)m->nclasses : 1;
    m->scores = calloc(nc, sizeof *m->scores);
    m->probs = calloc(nc, sizeof *m->probs);
    if (!m->nodes || !m->scores || !m->probs) s = GC_ERR_OUT_OF_MEMORY;
  }
  if (s == GC_OK) s = make_pool(m, p.threads);
  for (int i = 0; s == GC_OK && i < m->nrows; i++) {
    const gc_op_kind *k = gc_ops[m->rows[i].def->op];
    if (k->create) s = k->create(m, i, err, errlen);
    if (s != GC_OK && err && !err[0]) gc_set_error(err, errlen, "%s", m->error);
    m->param_count += k->params(&m->rows[i]);
  }
  if (s != GC_OK) {
    if (s == GC_ERR_OUT_OF_MEMORY && err && !err[0]) gc_set_error(err, errlen, "out of memory while loading");
    gc_model_free(m);
    return s;
  }
  *out = m;
  return GC_OK;
}

gc_status gc_model_load_memory(const void *data, size_t size, const gc_params *params, gc_model **out, char *err,
                               size_t errlen) {
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

gc_status gc_model_load_owned(void *data, size_t size, const gc_params *params, gc_model **out, char *err,
                              size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out || (!data && size)) {
    free(data);
    if (out) *out = NULL;
    return GC_ERR_INVALID_ARGUMENT;
  }
  *out = NULL;
  if (!data && !(data = malloc(1))) return GC_ERR_OUT_OF_MEMORY;
  return load_owned(data, size, params, out, err, errlen);
}

gc_status gc_model_load_file(const char *path, const gc_params *params, gc_model **out, char *err, size_t errlen) {
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
  if (m->nodes) {
    for (int i = 0; i < m->nrows; i++) {
      gc_node *n = &m->nodes[i];
      xnn_operator_t ops[5] = {n->op, n->op2, n->pre_op, n->bop, n->bop2};
      for (int k = 0; k < 5; k++)
        if (ops[k]) xnn_delete_operator(ops[k]);
      if (!m->rows[i].transient) free(n->out);
      free(n->val);
      free(n->pre);
      free(n->grad);
      free(n->bweights);
    }
  }
  free(m->nodes);
  for (int k = 0; k < m->arena_n; k++) free(m->arena[k]);
  free(m->arena), free(m->arena_cap), free(m->batch_out);
  for (int k = 0; k < m->gpool_n; k++) free(m->gpool[k]);
  free(m->gpool), free(m->gpool_cap);
  gc_net_free(&m->net);
  free(m->scratch);
  for (int k = 0; k < 3; k++) free(m->slot[k]), free(m->bscratch[k]), free(m->work[k]);
  free(m->workspace);
  free(m->mapbuf);
  free(m->detail_weights);
  free(m->detail_map);
  free(m->scores);
  free(m->probs);
  gc_names_free(m->names, m->names ? m->nclasses : 0);
  if (m->pool) pthreadpool_destroy(m->pool);
  gc_weights_release(&m->w);
  free(m->wbytes);
  free(m->wsums);
  const int started = m->nodes != NULL;
  free(m);
  if (started) xnn_deinitialize();
}

/* ---- what the model is ----------------------------------------------------------------------- */

int gc_model_num_classes(const gc_model *m) { return m ? m->nclasses : 0; }

void gc_model_input_size(const gc_model *m, int *height, int *width) {
  if (height) *height = m ? m->spec.input_h : 0;
  if (width) *width = m ? m->spec.input_w : 0;
}

const char *gc_model_class_name(const gc_model *m, int index) {
  if (!m || index < 0 || index >= m->nclasses) return NULL;
  if (m->names) return m->names[index];
  if (gc_spec_is_imagenet(&m->spec)) return gc_class_name(index);
  return NULL; /* the caller says "class <index>" */
}

gc_status gc_model_set_class_names(gc_model *m, const char *const *names, int n) {
  if (!m || n < 0 || (n && !names)) return GC_ERR_INVALID_ARGUMENT;
  if (n && n != m->nclasses) {
    gc_set_error(m->error, sizeof m->error, "%d class names for a model with %d classes", n, m->nclasses);
    return GC_ERR_LABELS;
  }
  char **copy = n ? calloc((size_t)n, sizeof *copy) : NULL;
  if (n && !copy) return GC_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < n; i++) {
    if (!names[i] || !names[i][0]) {
      gc_names_free(copy, n);
      gc_set_error(m->error, sizeof m->error, "class name %d is empty", i);
      return GC_ERR_LABELS;
    }
    if (!(copy[i] = strdup(names[i]))) {
      gc_names_free(copy, n);
      return GC_ERR_OUT_OF_MEMORY;
    }
  }
  gc_names_free(m->names, m->names ? m->nclasses : 0);
  m->names = copy;
  return GC_OK;
}

int gc_model_layer_count(const gc_model *m) { return m ? gc_net_layer_count(&m->net) : 0; }

const char *gc_model_layer_name(const gc_model *m, int i) { return m ? gc_net_layer_name(&m->net, i) : NULL; }

gc_status gc_model_layer_shape(const gc_model *m, const char *layer, int height, int width, gc_shape *shape) {
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  return gc_net_layer_shape(&m->net, layer, height ? height : m->spec.input_h, width ? width : m->spec.input_w,
                            shape);
}

static const char *act_name(gc_act a) {
  switch (a) {
    case GC_ACT_LINEAR: return "linear";
    case GC_ACT_RELU: return "relu";
    case GC_ACT_SOFTMAX: return "softmax";
    case GC_ACT_SIGMOID: return "sigmoid";
  }
  return "?";
}

gc_status gc_model_head(const gc_model *m, char *buf, size_t len) {
  if (!m || !buf || !len) return GC_ERR_INVALID_ARGUMENT;
  const gc_spec *s = &m->spec;
  size_t n = (size_t)snprintf(buf, len, "%s", s->pool == GC_POOL_AVG   ? "GlobalAveragePooling2D"
                                              : s->pool == GC_POOL_MAX ? "GlobalMaxPooling2D"
                                                                       : "none (no top)");
  for (int i = 0; i < s->ndense && n < len; i++)
    n += (size_t)snprintf(buf + n, len - n, " -> Dense(%d, %s)", s->dense[i].units, act_name(s->dense[i].act));
  return n < len ? GC_OK : GC_ERR_INVALID_ARGUMENT;
}

const char *gc_model_source(const gc_model *m) { return m ? m->spec.source : NULL; }

int gc_model_head_inferred(const gc_model *m) { return m ? m->spec.head_inferred : 0; }
