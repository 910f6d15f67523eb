/* match.c - pair a file's weighted layers with the tensors the model needs, as Keras' loaders do.
 *
 * The model's tensors come from gc_spec_weight_specs(spec): the Xception base's, then the
 * head's Dense layers. Grouped by their prefix they make the model's weighted layers, each of a
 * kind (Conv2D, SeparableConv2D, BatchNormalization, Dense) and, where Keras gives it a stable
 * name, that name: block1_conv1 ... block14_sepconv2_bn, and the head's Dense layers as the
 * spec names them. The four residual 1x1 convolutions and their batch norms have names Keras
 * generates (conv2d_1 or conv2d, batch_normalization_1 ...; convolution2d_1 in Keras 1), and
 * Keras 3 weight files name no layer at all (layers/conv2d_3/vars/0).
 *
 * 1. Every kind must be present as often as the model has it (6 Conv2D, 34 SeparableConv2D,
 *    40 BatchNormalization in the base, and the head's Dense layers): anything else is another
 *    model, and the message says what the file holds.
 * 2. A file layer whose name is a stable name pairs with that layer (TF.js exports may add a
 *    "_1" suffix, which is tolerated).
 * 3. The remaining layers pair by kind in the order of Keras' model.layers, which sorts layers
 *    by their longest distance to the output: so a residual batch norm (two steps before the
 *    block's addition) comes after the block's separable convolutions' batch norms (three and
 *    six steps), although it is created before them. Keras 3's layers/<class>_<k> numbering
 *    follows that order, and the file's layers are listed in it.
 * 4. Inside a layer, weights pair by their order in the file (weight_names, vars/0, 1, ...),
 *    not by their names, as Keras' legacy loader does; each shape is checked against the
 *    model's (in Keras' layout: conv kernels [kh][kw][in][out], depthwise [kh][kw][in][1],
 *    Dense kernels [in][out]).
 * Reading a tensor converts it to the project's layout once: conv kernels to [out][kh][kw][in],
 * depthwise kernels to [1][kh][kw][C] (same memory order), Dense kernels to [out][in].
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

static const char *const kKindNames[GC_KIND_COUNT] = {NULL, "Conv2D", "SeparableConv2D", "BatchNormalization",
                                                      "Dense"};

const char *gc_kind_name(gc_kind k) { return k > GC_KIND_NONE && k < GC_KIND_COUNT ? kKindNames[k] : NULL; }

/* Class names of each kind: Keras 2/3 names, Keras 1 names, Keras 3's snake_case paths. */
static const struct {
  const char *cls;
  gc_kind kind;
} kClasses[] = {
    {"Conv2D", GC_KIND_CONV},           {"Convolution2D", GC_KIND_CONV},
    {"conv2d", GC_KIND_CONV},           {"convolution2d", GC_KIND_CONV},
    {"SeparableConv2D", GC_KIND_SEPCONV}, {"SeparableConvolution2D", GC_KIND_SEPCONV},
    {"separable_conv2d", GC_KIND_SEPCONV}, {"separableconvolution2d", GC_KIND_SEPCONV},
    {"BatchNormalization", GC_KIND_BN}, {"batch_normalization", GC_KIND_BN},
    {"batchnormalization", GC_KIND_BN}, {"Dense", GC_KIND_DENSE},
    {"dense", GC_KIND_DENSE},
};

gc_kind gc_kind_of_class(const char *cls) {
  if (!cls) return GC_KIND_NONE;
  for (size_t i = 0; i < sizeof kClasses / sizeof kClasses[0]; i++)
    if (!strcmp(cls, kClasses[i].cls)) return kClasses[i].kind;
  return GC_KIND_NONE;
}

/* ---- the source -------------------------------------------------------------------------- */

void gc_source_init(gc_source *s) { memset(s, 0, sizeof *s); }

void gc_source_free(gc_source *s) {
  if (!s) return;
  if (s->release) s->release(s);
  free(s->layers);
  free(s->weights);
  memset(s, 0, sizeof *s);
}

gc_status gc_source_add_layer(gc_source *s, const char *name, const char *label, gc_kind kind) {
  if (s->nlayers == s->cap_layers) {
    int cap = s->cap_layers ? 2 * s->cap_layers : 64;
    gc_src_layer *l = realloc(s->layers, (size_t)cap * sizeof *l);
    if (!l) return GC_ERR_OUT_OF_MEMORY;
    s->layers = l;
    s->cap_layers = cap;
  }
  gc_src_layer *l = &s->layers[s->nlayers++];
  memset(l, 0, sizeof *l);
  snprintf(l->name, sizeof l->name, "%s", name ? name : "");
  snprintf(l->label, sizeof l->label, "%s", label);
  l->kind = kind;
  l->first = s->nweights;
  return GC_OK;
}

gc_status gc_source_add_weight(gc_source *s, const char *label, int ndim, const int64_t *dims, gc_src_weight **out,
                               char *err, size_t errlen) {
  if (out) *out = NULL;
  if (!s->nlayers) return GC_ERR_INVALID_ARGUMENT;
  /* at most 2^28 elements, checked before each product (four dims of 2^24 wrap 64 bits) */
  uint64_t n = 1;
  int ok = ndim >= 1 && ndim <= GC_MAX_DIMS;
  for (int d = 0; ok && d < ndim; d++) {
    ok = dims[d] > 0 && dims[d] <= (1 << 24) && n <= ((uint64_t)1 << 28) / (uint64_t)dims[d];
    if (ok) n *= (uint64_t)dims[d];
  }
  if (!ok) {
    char shape[96];
    size_t k = (size_t)snprintf(shape, sizeof shape, "[");
    for (int d = 0; d < ndim && d < 8 && k < sizeof shape; d++)
      k += (size_t)snprintf(shape + k, sizeof shape - k, d ? ",%lld" : "%lld", (long long)dims[d]);
    if (k < sizeof shape) snprintf(shape + k, sizeof shape - k, "]");
    gc_set_error(err, errlen, "weight '%s' has shape %s: not a weight of an Xception model (1 to 4 dimensions, "
                              "at most 2^28 elements)", label, shape);
    return GC_ERR_CONVERT;
  }
  if (s->nweights >= GC_SRC_MAX_WEIGHTS) {
    gc_set_error(err, errlen, "the file has more than %d weights (at '%s'): not an Xception model", GC_SRC_MAX_WEIGHTS,
                 label);
    return GC_ERR_CONVERT;
  }
  if (s->nweights == s->cap_weights) {
    int cap = s->cap_weights ? 2 * s->cap_weights : 256;
    gc_src_weight *w = realloc(s->weights, (size_t)cap * sizeof *w);
    if (!w) return GC_ERR_OUT_OF_MEMORY;
    s->weights = w;
    s->cap_weights = cap;
  }
  gc_src_weight *w = &s->weights[s->nweights++];
  memset(w, 0, sizeof *w);
  snprintf(w->label, sizeof w->label, "%s", label);
  w->ndim = ndim;
  for (int d = 0; d < ndim; d++) w->dims[d] = dims[d];
  w->count = n;
  s->layers[s->nlayers - 1].count++;
  if (out) *out = w;
  return GC_OK;
}

gc_status gc_source_add_grouped(gc_source *s, const gc_src_entry *e, int n, char *err, size_t errlen) {
  if (n > GC_SRC_MAX_WEIGHTS) { /* the grouping below is quadratic */
    gc_set_error(err, errlen, "the file has %d weights: not an Xception model (it has 236, and a head at most 16 more)",
                 n);
    return GC_ERR_CONVERT;
  }
  char *done = calloc((size_t)n + 1, 1);
  if (!done) return GC_ERR_OUT_OF_MEMORY;
  gc_status st = GC_OK;
  for (int i = 0; i < n && st == GC_OK; i++) {
    if (done[i]) continue;
    char label[GC_SRC_LABEL_SIZE];
    snprintf(label, sizeof label, "layer '%s'", e[i].layer);
    st = gc_source_add_layer(s, e[i].layer, label, GC_KIND_NONE);
    for (int j = i; j < n && st == GC_OK; j++) {
      if (done[j] || strcmp(e[j].layer, e[i].layer) != 0) continue;
      gc_src_weight *w;
      st = gc_source_add_weight(s, e[j].w.label, e[j].w.ndim, e[j].w.dims, &w, err, errlen);
      if (st == GC_OK) {
        w->ref = e[j].w.ref;
        w->part = e[j].w.part;
        w->dtype = e[j].w.dtype;
        w->q_scale = e[j].w.q_scale;
        w->q_min = e[j].w.q_min;
      }
      done[j] = 1;
    }
  }
  free(done);
  return st;
}

void gc_source_drop_empty(gc_source *s) {
  int n = 0;
  for (int i = 0; i < s->nlayers; i++)
    if (s->layers[i].count) s->layers[n++] = s->layers[i];
  s->nlayers = n;
}

/* "batchnormalization_3" is an auto-generated name of class batchnormalization */
static int auto_named(const char *name, const char *cls) {
  size_t n = strlen(cls);
  if (strncmp(name, cls, n) != 0) return 0;
  if (!name[n]) return 1;
  if (name[n] != '_' || !name[n + 1]) return 0;
  for (const char *p = name + n + 1; *p; p++)
    if (!isdigit((unsigned char)*p)) return 0;
  return 1;
}

void gc_source_guess_kinds(gc_source *s) {
  for (int i = 0; i < s->nlayers; i++) {
    gc_src_layer *l = &s->layers[i];
    if (l->kind != GC_KIND_NONE || !l->count) continue;
    const gc_src_weight *w = &s->weights[l->first];
    int vectors = 0;
    for (int k = 0; k < l->count; k++) vectors += w[k].ndim == 1 && w[k].dims[0] == w[0].dims[0];
    if (l->count == 1 && w[0].ndim == 4) l->kind = GC_KIND_CONV;
    else if (l->count == 2 && w[0].ndim == 4 && w[1].ndim == 4) l->kind = GC_KIND_SEPCONV;
    else if (l->count == 2 && w[0].ndim == 2 && w[1].ndim == 1) l->kind = GC_KIND_DENSE;
    else if ((l->count == 4 || l->count == 3) && vectors == l->count) l->kind = GC_KIND_BN;
    else
      for (size_t c = 0; c < sizeof kClasses / sizeof kClasses[0] && l->kind == GC_KIND_NONE; c++)
        if (auto_named(l->name, kClasses[c].cls)) l->kind = kClasses[c].kind;
  }
}

/* ---- the model's layers ----------------------------------------------------------------------- */

typedef struct target {
  char prefix[80];  /* the project's name: "block2_residual_bn", "head_dense1", "predictions" */
  char keras[GC_SPEC_NAME_SIZE]; /* the stable Keras name, "" where Keras generates it */
  gc_kind kind;
  int first, count; /* tensors in the match's spec list */
  int order;        /* position in Keras' model.layers order, within the kind */
  int src;          /* paired source layer, -1 */
} target;

static void shape_str(char *buf, size_t len, int ndim, const int64_t *dims) {
  size_t n = (size_t)snprintf(buf, len, "[");
  for (int d = 0; d < ndim && n < len; d++) n += (size_t)snprintf(buf + n, len - n, d ? ",%lld" : "%lld", (long long)dims[d]);
  if (n < len) snprintf(buf + n, len - n, "]");
}

/* The Keras-layout shape of a project tensor. */
static int keras_shape(const gc_tensor_spec *s, int64_t *dims) {
  const char *w = strrchr(s->name, '/');
  w = w ? w + 1 : s->name;
  if (s->ndim == 4 && !strcmp(w, "depthwise_kernel")) { /* [1][kh][kw][C] -> [kh][kw][C][1] */
    dims[0] = s->dims[1], dims[1] = s->dims[2], dims[2] = s->dims[3], dims[3] = 1;
  } else if (s->ndim == 4) { /* [O][kh][kw][I] -> [kh][kw][I][O] */
    dims[0] = s->dims[1], dims[1] = s->dims[2], dims[2] = s->dims[3], dims[3] = s->dims[0];
  } else if (s->ndim == 2) { /* [out][in] -> [in][out] */
    dims[0] = s->dims[1], dims[1] = s->dims[0];
  } else {
    for (int d = 0; d < s->ndim; d++) dims[d] = s->dims[d];
  }
  return s->ndim;
}

/* What a message calls a model layer: "block3_sepconv1 (SeparableConv2D)", "the residual
 * convolution of block 2 (Conv2D)", "the head's Dense 'dense_1' (Dense(10, softmax))". */
static void target_desc(const gc_spec *spec, const target *t, char *buf, size_t len) {
  const char *res = strstr(t->prefix, "_residual");
  if (res) {
    snprintf(buf, len, "the residual 1x1 convolution%s of %.*s (%s)", strstr(res, "_bn") ? "'s batch norm" : "",
             (int)(res - t->prefix), t->prefix, kKindNames[t->kind]);
  } else if (t->kind == GC_KIND_DENSE) {
    int k = !strcmp(t->prefix, "predictions") ? spec->ndense - 1 : atoi(t->prefix + strlen("head_dense")) - 1;
    if (k < 0 || k >= spec->ndense) k = spec->ndense - 1;
    static const char *const acts[] = {"linear", "relu", "softmax", "sigmoid"};
    snprintf(buf, len, "the head's Dense '%s' (Dense(%d, %s)%s)", spec->dense[k].name, spec->dense[k].units,
             acts[spec->dense[k].act], spec->head_inferred ? ", inferred from the weights" : " in the model config");
  } else {
    snprintf(buf, len, "%s (%s)", t->prefix, kKindNames[t->kind]);
  }
}

static gc_kind tensor_kind(const gc_tensor_spec *sp) {
  const char *w = strrchr(sp->name, '/') + 1;
  if (!strcmp(w, "depthwise_kernel")) return GC_KIND_SEPCONV;
  if (!strcmp(w, "gamma")) return GC_KIND_BN;
  if (!strcmp(w, "kernel")) return sp->ndim == 4 ? GC_KIND_CONV : GC_KIND_DENSE;
  return GC_KIND_NONE;
}

/* Group the spec's tensors into layers; *out is malloc'ed. */
static gc_status make_targets(const gc_spec *spec, const gc_tensor_spec *specs, int count, target **out, int *nout) {
  target *t = calloc((size_t)count, sizeof *t);
  if (!t) return GC_ERR_OUT_OF_MEMORY;
  int n = 0, hidden = 0;
  for (int i = 0; i < count; i++) {
    const char *slash = strchr(specs[i].name, '/');
    const int plen = (int)(slash - specs[i].name);
    if (n && (int)strlen(t[n - 1].prefix) == plen && !strncmp(t[n - 1].prefix, specs[i].name, (size_t)plen)) {
      t[n - 1].count++;
      continue;
    }
    target *g = &t[n++];
    snprintf(g->prefix, sizeof g->prefix, "%.*s", plen, specs[i].name);
    g->kind = tensor_kind(&specs[i]);
    g->first = i;
    g->count = 1;
    g->src = -1;
    if (g->kind == GC_KIND_DENSE) {
      const int k = !strcmp(g->prefix, "predictions") ? spec->ndense - 1 : hidden++;
      snprintf(g->keras, sizeof g->keras, "%s", k >= 0 && k < spec->ndense ? spec->dense[k].name : "");
    } else if (!strstr(g->prefix, "_residual")) {
      snprintf(g->keras, sizeof g->keras, "%.*s", (int)sizeof g->keras - 1, g->prefix);
    }
  }
  /* Keras' order: a residual batch norm after the last other layer of its block */
  for (int i = 0; i < n; i++) {
    t[i].order = 2 * i;
    if (t[i].kind != GC_KIND_BN || !strstr(t[i].prefix, "_residual")) continue;
    const size_t blen = (size_t)(strchr(t[i].prefix, '_') - t[i].prefix) + 1; /* "block2_" */
    for (int j = i + 1; j < n && !strncmp(t[j].prefix, t[i].prefix, blen); j++) t[i].order = 2 * j + 1;
  }
  *out = t;
  *nout = n;
  return GC_OK;
}

/* "predictions_1" -> "predictions" (some TF.js exports add such suffixes). */
static void strip_numeric_suffix(const char *in, char *out, size_t len) {
  snprintf(out, len, "%s", in);
  char *u = strrchr(out, '_');
  if (!u || !u[1]) return;
  for (char *p = u + 1; *p; p++)
    if (!isdigit((unsigned char)*p)) return;
  *u = 0;
}

/* The message for a file whose layer kinds are not the model's. */
static gc_status kinds_error(const gc_source *src, const int *have, const int *want, const target *t, int nt,
                             char *err, size_t errlen) {
  for (int i = 0; i < src->nlayers; i++) {
    const gc_src_layer *l = &src->layers[i];
    if (l->kind != GC_KIND_NONE) continue;
    char shape[64];
    const gc_src_weight *w = &src->weights[l->first];
    shape_str(shape, sizeof shape, w->ndim, w->dims);
    gc_set_error(err, errlen, "%s has %d weight%s ('%s' %s ...) of no layer kind an Xception model with a Dense head has "
                 "(Conv2D, SeparableConv2D, BatchNormalization, Dense): not a supported model", l->label, l->count,
                 l->count == 1 ? "" : "s", w->label, shape);
    return GC_ERR_CONVERT;
  }
  if (have[GC_KIND_CONV] != want[GC_KIND_CONV] || have[GC_KIND_SEPCONV] != want[GC_KIND_SEPCONV] ||
      have[GC_KIND_BN] != want[GC_KIND_BN]) {
    gc_set_error(err, errlen, "the weights are those of %d Conv2D, %d SeparableConv2D and %d BatchNormalization layers; "
                 "an Xception base has %d, %d and %d: this is not an Xception model",
                 have[GC_KIND_CONV], have[GC_KIND_SEPCONV], have[GC_KIND_BN], want[GC_KIND_CONV],
                 want[GC_KIND_SEPCONV], want[GC_KIND_BN]);
    return GC_ERR_CONVERT;
  }
  char names[160] = "";
  size_t k = 0;
  for (int i = 0; i < src->nlayers && k < sizeof names; i++)
    if (src->layers[i].kind == GC_KIND_DENSE)
      k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "", src->layers[i].label);
  char wanted[160] = "";
  size_t j = 0;
  for (int i = 0; i < nt && j < sizeof wanted; i++)
    if (t[i].kind == GC_KIND_DENSE) j += (size_t)snprintf(wanted + j, sizeof wanted - j, "%s'%s'", j ? ", " : "", t[i].keras);
  gc_set_error(err, errlen, "the file has %d Dense layer%s%s%s%s; the model's head has %d%s%s%s", have[GC_KIND_DENSE],
               have[GC_KIND_DENSE] == 1 ? "" : "s", k ? " (" : "", names, k ? ")" : "", want[GC_KIND_DENSE],
               j ? " (" : "", wanted, j ? ")" : "");
  return GC_ERR_CONVERT;
}

/* Weights of a paired layer: count and shapes, by order. */
static gc_status check_pair(const gc_spec *spec, const gc_source *src, const target *t, const gc_src_layer *l,
                            const gc_tensor_spec *specs, int *srcidx, char *err, size_t errlen) {
  char desc[192];
  if (l->count != t->count) {
    target_desc(spec, t, desc, sizeof desc);
    char list[160] = "";
    size_t k = 0;
    for (int w = 0; w < l->count && k < sizeof list; w++)
      k += (size_t)snprintf(list + k, sizeof list - k, "%s'%s'", w ? ", " : "", src->weights[l->first + w].label);
    static const char *const roles[GC_KIND_COUNT] = {
        "", "a kernel", "depthwise and pointwise kernels",
        ("gamma, beta, moving mean, moving variance (Keras 1: running_std)"), "kernel and bias"};
    /* what is missing first, the file's list last (a long message is cut at its end) */
    gc_set_error(err, errlen, "%s has %d weight%s, %s needs %d (%s); the file has %s", l->label, l->count,
                 l->count == 1 ? "" : "s", desc, t->count, roles[t->kind], list);
    return GC_ERR_CONVERT;
  }
  for (int w = 0; w < t->count; w++) {
    const gc_src_weight *sw = &src->weights[l->first + w];
    int64_t want[GC_MAX_DIMS];
    const int nd = keras_shape(&specs[t->first + w], want);
    int same = sw->ndim == nd;
    for (int d = 0; same && d < nd; d++) same = sw->dims[d] == want[d];
    if (!same) {
      char have_s[64], want_s[64];
      shape_str(have_s, sizeof have_s, sw->ndim, sw->dims);
      shape_str(want_s, sizeof want_s, nd, want);
      target_desc(spec, t, desc, sizeof desc);
      gc_set_error(err, errlen, "%s: weight %d ('%s') has shape %s, not %s as %s", l->label, w, sw->label, have_s,
                   want_s, desc);
      return GC_ERR_WEIGHTS_SHAPE;
    }
    srcidx[t->first + w] = l->first + w;
  }
  return GC_OK;
}

static int by_order(const void *a, const void *b) {
  const target *x = *(const target *const *)a, *y = *(const target *const *)b;
  return (x->order > y->order) - (x->order < y->order);
}

gc_status gc_match_source(const gc_spec *spec, const gc_source *src, gc_match *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  gc_status st = gc_spec_check(spec, err, errlen);
  if (st != GC_OK) return st;
  const int count = gc_spec_weight_specs(spec, NULL, 0);
  m->specs = calloc((size_t)count, sizeof *m->specs);
  m->src = malloc((size_t)count * sizeof *m->src);
  target *t = NULL, **sorted = NULL;
  int nt = 0;
  int *taken = calloc((size_t)src->nlayers + 1, sizeof *taken);
  st = count > 0 && m->specs && m->src && taken ? GC_OK : GC_ERR_OUT_OF_MEMORY;
  if (st == GC_OK) {
    m->count = count;
    gc_spec_weight_specs(spec, m->specs, count);
    for (int i = 0; i < count; i++) m->src[i] = -1;
    st = make_targets(spec, m->specs, count, &t, &nt);
  }
  if (st == GC_OK && !(sorted = malloc((size_t)nt * sizeof *sorted))) st = GC_ERR_OUT_OF_MEMORY;
  if (st != GC_OK) goto done;

  /* 1. the kinds */
  int have[GC_KIND_COUNT] = {0}, want[GC_KIND_COUNT] = {0};
  for (int i = 0; i < src->nlayers; i++) have[src->layers[i].kind]++;
  for (int i = 0; i < nt; i++) want[t[i].kind]++;
  if (memcmp(have, want, sizeof have) != 0) {
    st = kinds_error(src, have, want, t, nt, err, errlen);
    goto done;
  }
  /* 2. stable names */
  for (int i = 0; i < src->nlayers; i++) {
    const gc_src_layer *l = &src->layers[i];
    if (!l->name[0]) continue;
    char base[GC_SRC_NAME_SIZE];
    strip_numeric_suffix(l->name, base, sizeof base);
    target *hit = NULL;
    for (int pass = 0; pass < 2 && !hit; pass++)
      for (int j = 0; j < nt && !hit; j++)
        if (t[j].keras[0] && !strcmp(t[j].keras, pass ? base : l->name)) hit = &t[j];
    if (!hit) continue;
    char desc[192];
    target_desc(spec, hit, desc, sizeof desc);
    if (hit->src >= 0) {
      gc_set_error(err, errlen, "%s and %s are both %s", src->layers[hit->src].label, l->label, desc);
      st = GC_ERR_CONVERT;
      goto done;
    }
    if (hit->kind != l->kind) {
      gc_set_error(err, errlen, "%s is a %s layer in the file, but %s", l->label, kKindNames[l->kind], desc);
      st = GC_ERR_CONVERT;
      goto done;
    }
    hit->src = i;
    taken[i] = 1;
  }
  /* 3. the rest by kind, in Keras' order */
  for (int k = GC_KIND_CONV; k < GC_KIND_COUNT; k++) {
    int ns = 0;
    for (int j = 0; j < nt; j++)
      if (t[j].kind == (gc_kind)k && t[j].src < 0) sorted[ns++] = &t[j];
    qsort(sorted, (size_t)ns, sizeof *sorted, by_order);
    int next = 0;
    for (int i = 0; i < src->nlayers; i++)
      if (!taken[i] && src->layers[i].kind == (gc_kind)k) {
        sorted[next++]->src = i; /* the counts agree: step 1 */
        taken[i] = 1;
      }
  }
  /* 4. the weights of every pair */
  for (int j = 0; j < nt && st == GC_OK; j++)
    st = check_pair(spec, src, &t[j], &src->layers[t[j].src], m->specs, m->src, err, errlen);

done:
  free(sorted);
  free(taken);
  free(t);
  if (st != GC_OK) gc_match_free(m);
  return st;
}

void gc_match_free(gc_match *m) {
  if (!m) return;
  free(m->specs);
  free(m->src);
  memset(m, 0, sizeof *m);
}

gc_status gc_match_read(const gc_match *m, gc_source *src, int i, float **out, char *err, size_t errlen) {
  *out = NULL;
  if (i < 0 || i >= m->count || m->src[i] < 0) return GC_ERR_INVALID_ARGUMENT;
  const gc_tensor_spec *sp = &m->specs[i];
  const gc_src_weight *w = &src->weights[m->src[i]];
  const size_t n = gc_tensor_count(sp->ndim, sp->dims);
  float *raw = malloc(n * sizeof *raw);
  if (!raw) return GC_ERR_OUT_OF_MEMORY;
  gc_status st = src->read(src, w, raw, err, errlen);
  if (st != GC_OK) {
    free(raw);
    return st;
  }
  for (size_t e = 0; e < n; e++)
    if (!isfinite(raw[e])) {
      gc_set_error(err, errlen, "weight '%s' (%s) holds a non-finite value (%g) at element %zu", w->label, sp->name,
                   raw[e], e);
      free(raw);
      return GC_ERR_CONVERT;
    }
  const char *part = strrchr(sp->name, '/') + 1;
  if ((sp->ndim == 4 && strcmp(part, "depthwise_kernel") != 0) || sp->ndim == 2) {
    float *dst = malloc(n * sizeof *dst);
    if (!dst) {
      free(raw);
      return GC_ERR_OUT_OF_MEMORY;
    }
    if (sp->ndim == 4) { /* [kh][kw][I][O] -> [O][kh][kw][I] */
      const size_t O = (size_t)sp->dims[0], HWI = n / O;
      for (size_t o = 0; o < O; o++)
        for (size_t r = 0; r < HWI; r++) dst[o * HWI + r] = raw[r * O + o];
    } else { /* [I][O] -> [O][I] */
      const size_t O = (size_t)sp->dims[0], I = (size_t)sp->dims[1];
      for (size_t o = 0; o < O; o++)
        for (size_t c = 0; c < I; c++) dst[o * I + c] = raw[c * O + o];
    }
    free(raw);
    raw = dst;
  }
  *out = raw;
  return GC_OK;
}

gc_status gc_check_f16(const gc_tensor_spec *specs, float *const *data, int count, char *err, size_t errlen) {
  for (int i = 0; i < count; i++) {
    const size_t n = gc_tensor_count(specs[i].ndim, specs[i].dims);
    for (size_t e = 0; e < n; e++)
      if (data[i][e] > 65504.0f || data[i][e] < -65504.0f) {
        gc_set_error(err, errlen, "%s holds %g at element %zu, beyond float16's range (65504): convert to float32",
                     specs[i].name, data[i][e], e);
        return GC_ERR_CONVERT;
      }
  }
  return GC_OK;
}

/* ---- a head from the weights alone ---------------------------------------------------------- */

gc_status gc_infer_head(const gc_source *src, gc_pool pool, const char *pool_name, gc_spec *spec, char *err,
                        size_t errlen) {
  gc_spec_notop(spec);
  spec->head_inferred = 1;
  /* a file of another model is said to be one before its Dense layers are read as a head */
  const int n = gc_spec_weight_specs(spec, NULL, 0);
  gc_tensor_spec *specs = calloc((size_t)n + 1, sizeof *specs);
  target *t = NULL;
  int nt = 0;
  gc_status st = specs ? GC_OK : GC_ERR_OUT_OF_MEMORY;
  if (st == GC_OK) {
    gc_spec_weight_specs(spec, specs, n);
    st = make_targets(spec, specs, n, &t, &nt);
  }
  int have[GC_KIND_COUNT] = {0}, want[GC_KIND_COUNT] = {0};
  for (int i = 0; st == GC_OK && i < src->nlayers; i++) have[src->layers[i].kind]++;
  for (int i = 0; st == GC_OK && i < nt; i++) want[t[i].kind]++;
  have[GC_KIND_DENSE] = want[GC_KIND_DENSE] = 0; /* the head is what is inferred */
  if (st == GC_OK && memcmp(have, want, sizeof have) != 0) st = kinds_error(src, have, want, t, nt, err, errlen);
  free(t);
  free(specs);
  if (st != GC_OK) return st;
  int in = 2048; /* block14_sepconv2_act's channels, pooled */
  for (int i = 0; i < src->nlayers; i++) {
    const gc_src_layer *l = &src->layers[i];
    if (l->kind != GC_KIND_DENSE) continue;
    const gc_src_weight *k = &src->weights[l->first];
    if (l->count != 2 || k->ndim != 2) {
      gc_set_error(err, errlen, "%s: a Dense layer of a supported head has a 2-D kernel and a bias", l->label);
      return GC_ERR_CONVERT;
    }
    if (spec->ndense == GC_SPEC_MAX_DENSE) {
      gc_set_error(err, errlen, "%s: the head has more than %d Dense layers", l->label, GC_SPEC_MAX_DENSE);
      return GC_ERR_CONVERT;
    }
    if (k->dims[0] != in) {
      gc_set_error(err, errlen, "%s: its kernel '%s' takes %lld features, but %s gives %d", l->label, k->label,
                   (long long)k->dims[0], spec->ndense ? "the Dense layer before it" : "the pooled Xception base", in);
      return GC_ERR_CONVERT;
    }
    if (k->dims[1] > GC_SPEC_MAX_UNITS) {
      gc_set_error(err, errlen, "%s has %lld units; at most %d are supported", l->label, (long long)k->dims[1],
                   GC_SPEC_MAX_UNITS);
      return GC_ERR_CONVERT;
    }
    gc_dense_spec *d = &spec->dense[spec->ndense++];
    /* the name the file gives, else the last part of its label ("layers/dense_1" -> "dense_1") */
    const char *slash = strrchr(l->label, '/');
    snprintf(d->name, sizeof d->name, "%.*s", (int)sizeof d->name - 1, l->name[0] ? l->name : slash ? slash + 1 : l->label);
    d->units = (int)k->dims[1];
    d->act = GC_ACT_RELU;
    in = d->units;
  }
  if (spec->ndense) {
    gc_dense_spec *last = &spec->dense[spec->ndense - 1];
    last->act = last->units == 1 ? GC_ACT_SIGMOID : GC_ACT_SOFTMAX;
    if (pool == GC_POOL_NONE) pool = GC_POOL_AVG;
  }
  spec->pool = pool;
  if (pool != GC_POOL_NONE)
    snprintf(spec->pool_name, sizeof spec->pool_name, "%s",
             pool_name && *pool_name ? pool_name : pool == GC_POOL_AVG ? "avg_pool" : "max_pool");
  return GC_OK;
}
