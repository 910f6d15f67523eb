/* keras.c - convert Keras Xception weights (HDF5 or TF.js layers format, already read into
 * named float32 tensors by the caller) into the project weights format.
 *
 * Matching follows Keras' own loader: layers come in the source file's order and are
 * checked by shape. Layers with stable Keras names (block1_conv1, block5_sepconv2_bn,
 * predictions, ...) are matched by name, tolerating the "_1" suffixes TF.js exports add;
 * the four residual 1x1 convolutions and their batch norms, whose names Keras generates
 * (conv2d_1 or conv2d, batch_normalization_1 or batch_normalization, ...), are matched in
 * file order and checked against the expected shapes (all four differ).
 *
 * Layout changes (once, here): convolution kernels HWIO -> OHWI; depthwise [3][3][C][1] ->
 * [1][3][3][C] (same memory order); the dense kernel [in][out] -> [out][in].
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

typedef struct src_tensor {
  char layer[96];
  char weight[32];
  int ndim;
  int dims[GC_MAX_DIMS];
  float *data;
} src_tensor;

struct gc_converter {
  src_tensor *t;
  int count, cap;
};

gc_status gc_converter_new(gc_converter **out) {
  if (!out) return GC_ERR_INVALID_ARGUMENT;
  *out = calloc(1, sizeof **out);
  return *out ? GC_OK : GC_ERR_OUT_OF_MEMORY;
}

void gc_converter_free(gc_converter *c) {
  if (!c) return;
  for (int i = 0; i < c->count; i++) free(c->t[i].data);
  free(c->t);
  free(c);
}

/* "block1_conv1/kernel:0" -> "kernel"; "kernel" -> "kernel". */
static void short_weight_name(const char *w, char *out, size_t len) {
  const char *slash = strrchr(w, '/');
  const char *s = slash ? slash + 1 : w;
  size_t n = strcspn(s, ":");
  if (n >= len) n = len - 1;
  memcpy(out, s, n);
  out[n] = 0;
}

gc_status gc_converter_add(gc_converter *c, const char *layer, const char *weight, int ndim,
                           const int64_t *shape, const float *data) {
  if (!c || !layer || !weight || !shape || !data || ndim < 1 || ndim > GC_MAX_DIMS ||
      strlen(layer) >= sizeof c->t[0].layer)
    return GC_ERR_INVALID_ARGUMENT;
  /* at most 2^28 elements, checked before each product (four dims of 2^24 wrap 64 bits) */
  size_t n = 1;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] <= 0 || shape[d] > (1 << 24) || n > ((size_t)1 << 28) / (size_t)shape[d])
      return GC_ERR_INVALID_ARGUMENT;
    n *= (size_t)shape[d];
  }
  if (c->count == c->cap) {
    int cap = c->cap ? 2 * c->cap : 64;
    src_tensor *t = realloc(c->t, (size_t)cap * sizeof *t);
    if (!t) return GC_ERR_OUT_OF_MEMORY;
    c->t = t;
    c->cap = cap;
  }
  src_tensor *t = &c->t[c->count];
  memset(t, 0, sizeof *t);
  snprintf(t->layer, sizeof t->layer, "%s", layer);
  short_weight_name(weight, t->weight, sizeof t->weight);
  t->ndim = ndim;
  for (int d = 0; d < ndim; d++) t->dims[d] = (int)shape[d];
  t->data = malloc(n * sizeof(float));
  if (!t->data) return GC_ERR_OUT_OF_MEMORY;
  memcpy(t->data, data, n * sizeof(float));
  c->count++;
  return GC_OK;
}

/* A target: one tensor of the project file and where it comes from. */
typedef struct target {
  gc_tensor_spec spec; /* our name and layout */
  char src_layer[96];  /* Keras layer name, "" for auto-named residual layers */
  char src_weight[32];
  int residual_slot;   /* 0..3 for auto-named residual conv/BN tensors, -1 otherwise */
  int is_bn;
  const src_tensor *found;
} target;

static int is_bn_weight(const char *w) {
  return !strcmp(w, "gamma") || !strcmp(w, "beta") || !strcmp(w, "moving_mean") ||
         !strcmp(w, "moving_variance");
}

/* "predictions_1" -> "predictions" (TF.js exports sometimes add such suffixes). */
static void strip_numeric_suffix(const char *in, char *out, size_t len) {
  snprintf(out, len, "%s", in);
  char *u = strrchr(out, '_');
  if (!u || !u[1]) return;
  for (char *p = u + 1; *p; p++)
    if (!isdigit((unsigned char)*p)) return;
  *u = 0;
}

static int same_shape(const src_tensor *s, int ndim, const int *dims) {
  if (s->ndim != ndim) return 0;
  for (int d = 0; d < ndim; d++)
    if (s->dims[d] != dims[d]) return 0;
  return 1;
}

static void shape_str(char *buf, size_t len, int ndim, const int *dims) {
  size_t n = (size_t)snprintf(buf, len, "[");
  for (int d = 0; d < ndim && n < len; d++) n += (size_t)snprintf(buf + n, len - n, d ? ",%d" : "%d", dims[d]);
  if (n < len) snprintf(buf + n, len - n, "]");
}

/* Keras (source) shape of a target, from our spec. */
static void source_shape(const target *t, int *ndim, int *dims) {
  const gc_tensor_spec *s = &t->spec;
  *ndim = s->ndim;
  if (s->ndim == 4 && !strcmp(t->src_weight, "depthwise_kernel")) { /* [1][kh][kw][C] -> [kh][kw][C][1] */
    dims[0] = s->dims[1]; dims[1] = s->dims[2]; dims[2] = s->dims[3]; dims[3] = 1;
  } else if (s->ndim == 4) { /* OHWI -> HWIO */
    dims[0] = s->dims[1]; dims[1] = s->dims[2]; dims[2] = s->dims[3]; dims[3] = s->dims[0];
  } else if (s->ndim == 2) { /* [out][in] -> [in][out] */
    dims[0] = s->dims[1]; dims[1] = s->dims[0];
  } else {
    for (int d = 0; d < s->ndim; d++) dims[d] = s->dims[d];
  }
}

gc_status gc_converter_finish(gc_converter *c, gc_dtype dtype, void **bytes, size_t *size,
                              char *err, size_t errlen) {
  if (!c || !bytes || !size || (dtype != GC_DTYPE_F32 && dtype != GC_DTYPE_F16))
    return GC_ERR_INVALID_ARGUMENT;
  *bytes = NULL;
  *size = 0;
  gc_spec imagenet;
  gc_spec_imagenet(&imagenet);
  const int nt = gc_spec_weight_specs(&imagenet, NULL, 0);
  target *tg = calloc((size_t)nt, sizeof *tg);
  gc_tensor_spec *specs = calloc((size_t)nt, sizeof *specs);
  const float **data = calloc((size_t)nt, sizeof *data);
  float **owned = calloc((size_t)nt, sizeof *owned);
  gc_status st = GC_OK;
  if (!tg || !specs || !data || !owned) {
    st = GC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  gc_spec_weight_specs(&imagenet, specs, nt);
  for (int i = 0; i < nt; i++) {
    target *t = &tg[i];
    t->spec = specs[i];
    char prefix[80];
    const char *slash = strchr(specs[i].name, '/');
    snprintf(prefix, sizeof prefix, "%.*s", (int)(slash - specs[i].name), specs[i].name);
    snprintf(t->src_weight, sizeof t->src_weight, "%s", slash + 1);
    t->is_bn = is_bn_weight(t->src_weight);
    t->residual_slot = -1;
    if (strstr(prefix, "_residual")) {
      /* block2_residual(_bn) -> slot 0, block3 -> 1, block4 -> 2, block13 -> 3 */
      static const char *const blocks[4] = {"block2_", "block3_", "block4_", "block13_"};
      for (int s = 0; s < 4; s++)
        if (!strncmp(prefix, blocks[s], strlen(blocks[s]))) t->residual_slot = s;
    } else {
      snprintf(t->src_layer, sizeof t->src_layer, "%s", prefix);
    }
  }

  /* Walk the source layers in file order. Auto-named layers fill the residual slots in order:
   * the n-th auto-named convolution is residual n, the n-th auto-named BN its batch norm. */
  int next_conv_slot = 0, next_bn_slot = 0;
  char prev_layer[96] = "";
  int layer_slot = -1, layer_is_bn = 0;
  for (int k = 0; k < c->count; k++) {
    const src_tensor *s = &c->t[k];
    char base[96];
    strip_numeric_suffix(s->layer, base, sizeof base);
    target *hit = NULL;
    for (int i = 0; i < nt && !hit; i++)
      if (tg[i].residual_slot < 0 && !strcmp(tg[i].src_weight, s->weight) &&
          (!strcmp(tg[i].src_layer, s->layer) || !strcmp(tg[i].src_layer, base)))
        hit = &tg[i];
    if (!hit) {
      /* an auto-named residual layer: a new layer name starts a new slot */
      int bn = is_bn_weight(s->weight);
      if (strcmp(prev_layer, s->layer) != 0) {
        snprintf(prev_layer, sizeof prev_layer, "%s", s->layer);
        layer_is_bn = bn;
        layer_slot = bn ? next_bn_slot++ : (!strcmp(s->weight, "kernel") ? next_conv_slot++ : -1);
      }
      if (layer_slot < 0 || layer_slot > 3 || bn != layer_is_bn) {
        gc_set_error(err, errlen, "layer '%s' (weight '%s') is not part of Keras Xception", s->layer, s->weight);
        st = GC_ERR_CONVERT;
        goto done;
      }
      for (int i = 0; i < nt && !hit; i++)
        if (tg[i].residual_slot == layer_slot && tg[i].is_bn == bn && !strcmp(tg[i].src_weight, s->weight))
          hit = &tg[i];
      if (!hit) {
        gc_set_error(err, errlen, "layer '%s' has an unexpected weight '%s'", s->layer, s->weight);
        st = GC_ERR_CONVERT;
        goto done;
      }
    } else {
      prev_layer[0] = 0;
    }
    if (hit->found) {
      gc_set_error(err, errlen, "weight '%s/%s' appears twice", s->layer, s->weight);
      st = GC_ERR_CONVERT;
      goto done;
    }
    int nd, dims[GC_MAX_DIMS];
    source_shape(hit, &nd, dims);
    if (!same_shape(s, nd, dims)) {
      char have[64], want[64];
      shape_str(have, sizeof have, s->ndim, s->dims);
      shape_str(want, sizeof want, nd, dims);
      gc_set_error(err, errlen, "layer '%s' weight '%s' has shape %s, Keras Xception (%s) needs %s",
                   s->layer, s->weight, have, hit->spec.name, want);
      st = GC_ERR_CONVERT;
      goto done;
    }
    hit->found = s;
  }

  for (int i = 0; i < nt; i++) {
    const target *t = &tg[i];
    if (!t->found) {
      gc_set_error(err, errlen, "the source has no weight for %s", t->spec.name);
      st = GC_ERR_CONVERT;
      goto done;
    }
    const gc_tensor_spec *sp = &t->spec;
    const float *src = t->found->data;
    size_t n = gc_tensor_count(sp->ndim, sp->dims);
    for (size_t e = 0; e < n; e++) {
      if (!isfinite(src[e]) || (dtype == GC_DTYPE_F16 && fabsf(src[e]) > 65504.0f)) {
        gc_set_error(err, errlen, "%s holds a value (%g) that %s cannot store", sp->name, src[e],
                     dtype == GC_DTYPE_F16 ? "float16" : "the format");
        st = GC_ERR_CONVERT;
        goto done;
      }
    }
    if (sp->ndim == 4 && strcmp(t->src_weight, "depthwise_kernel") != 0) {
      /* HWIO -> OHWI */
      const int O = sp->dims[0], H = sp->dims[1], W = sp->dims[2], I = sp->dims[3];
      float *dst = malloc(n * sizeof *dst);
      if (!dst) { st = GC_ERR_OUT_OF_MEMORY; goto done; }
      for (int o = 0; o < O; o++)
        for (int y = 0; y < H; y++)
          for (int x = 0; x < W; x++)
            for (int ci = 0; ci < I; ci++)
              dst[(((size_t)o * H + y) * W + x) * I + ci] = src[(((size_t)y * W + x) * I + ci) * O + o];
      owned[i] = dst;
      data[i] = dst;
    } else if (sp->ndim == 2) {
      const int O = sp->dims[0], I = sp->dims[1];
      float *dst = malloc(n * sizeof *dst);
      if (!dst) { st = GC_ERR_OUT_OF_MEMORY; goto done; }
      for (int o = 0; o < O; o++)
        for (int ci = 0; ci < I; ci++) dst[(size_t)o * I + ci] = src[(size_t)ci * O + o];
      owned[i] = dst;
      data[i] = dst;
    } else {
      data[i] = src; /* depthwise and vectors: same memory order */
    }
  }
  st = gc_weights_write(specs, data, nt, dtype, bytes, size);

done:
  if (owned)
    for (int i = 0; i < nt; i++) free(owned[i]);
  free(owned);
  free(data);
  free(specs);
  free(tg);
  return st;
}
