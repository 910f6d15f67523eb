/* net.c - the network as a value: the Keras Xception base as data, and the head a model's
 * spec (spec.h) puts after it, as one array of rows in forward order.
 *
 * Each row names its output with the Keras layer name and its inputs by name. Batch
 * normalisation is folded into the convolution before it (at load time), so a row
 * "CONV block1_conv1 + block1_conv1_bn" produces the BN output; when the row also fuses the
 * ReLU that follows, its output is the Keras *_act layer and `preact` names the BN output
 * that is no longer materialised. The forward and backward passes walk the rows; the weight
 * tensors' names and shapes are derived from them too (gc_spec_weight_specs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

#define CONV(name_, pre_, in_, w_, bn_, k_, s_, same_, c_, relu_) \
  {GC_OP_CONV, name_, pre_, in_, NULL, w_, bn_, k_, s_, same_, c_, relu_}
#define SEP(name_, pre_, in_, w_, c_, relu_) \
  {GC_OP_SEPCONV, name_, pre_, in_, NULL, w_, w_ "_bn", 3, 1, 1, c_, relu_}
#define RELU(name_, in_) {GC_OP_RELU, name_, NULL, in_, NULL, NULL, NULL, 0, 0, 0, 0, 0}
#define POOL(name_, in_) {GC_OP_MAXPOOL, name_, NULL, in_, NULL, NULL, NULL, 3, 2, 1, 0, 0}
#define ADD(name_, a_, b_) {GC_OP_ADD, name_, NULL, a_, b_, NULL, NULL, 0, 0, 0, 0, 0}

/* Entry-flow block with a strided residual: blocks 2, 3, 4 and 13. Block 2 has no ReLU
 * before its first separable convolution. */
#define ENTRY_BLOCK(b, prev, c1, c2)                                                     \
  CONV(b "_residual", NULL, prev, b "_residual", b "_residual_bn", 1, 2, 1, c2, 0),      \
  RELU(b "_sepconv1_act", prev),                                                         \
  SEP(b "_sepconv2_act", b "_sepconv1_bn", b "_sepconv1_act", b "_sepconv1", c1, 1),   \
  SEP(b "_sepconv2_bn", NULL, b "_sepconv2_act", b "_sepconv2", c2, 0),                \
  POOL(b "_pool", b "_sepconv2_bn"),                                                     \
  ADD(b "_add", b "_pool", b "_residual")

/* Middle-flow block 5..12: three (ReLU, separable conv 728, BN) and an identity residual. */
#define MIDDLE_BLOCK(b, prev)                                                            \
  RELU(b "_sepconv1_act", prev),                                                         \
  SEP(b "_sepconv2_act", b "_sepconv1_bn", b "_sepconv1_act", b "_sepconv1", 728, 1),  \
  SEP(b "_sepconv3_act", b "_sepconv2_bn", b "_sepconv2_act", b "_sepconv2", 728, 1),  \
  SEP(b "_sepconv3_bn", NULL, b "_sepconv3_act", b "_sepconv3", 728, 0),               \
  ADD(b "_add", b "_sepconv3_bn", prev)

/* The base: keras.applications.Xception(include_top=False) up to block14_sepconv2_act. */
static const gc_layer_def kXception[] = {
  {GC_OP_INPUT, "input", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 3, 0},
  /* stem: 299 -> 149 -> 147 */
  CONV("block1_conv1_act", "block1_conv1_bn", "input", "block1_conv1", "block1_conv1_bn", 3, 2, 0, 32, 1),
  CONV("block1_conv2_act", "block1_conv2_bn", "block1_conv1_act", "block1_conv2", "block1_conv2_bn", 3, 1, 0, 64, 1),
  /* block 2: no ReLU before the first separable convolution; 147 -> 74 */
  CONV("block2_residual", NULL, "block1_conv2_act", "block2_residual", "block2_residual_bn", 1, 2, 1, 128, 0),
  SEP("block2_sepconv2_act", "block2_sepconv1_bn", "block1_conv2_act", "block2_sepconv1", 128, 1),
  SEP("block2_sepconv2_bn", NULL, "block2_sepconv2_act", "block2_sepconv2", 128, 0),
  POOL("block2_pool", "block2_sepconv2_bn"),
  ADD("block2_add", "block2_pool", "block2_residual"),
  /* entry flow: 74 -> 37 -> 19 */
  ENTRY_BLOCK("block3", "block2_add", 256, 256),
  ENTRY_BLOCK("block4", "block3_add", 728, 728),
  /* middle flow: 19x19x728 */
  MIDDLE_BLOCK("block5", "block4_add"),
  MIDDLE_BLOCK("block6", "block5_add"),
  MIDDLE_BLOCK("block7", "block6_add"),
  MIDDLE_BLOCK("block8", "block7_add"),
  MIDDLE_BLOCK("block9", "block8_add"),
  MIDDLE_BLOCK("block10", "block9_add"),
  MIDDLE_BLOCK("block11", "block10_add"),
  MIDDLE_BLOCK("block12", "block11_add"),
  /* exit flow: 19 -> 10 */
  ENTRY_BLOCK("block13", "block12_add", 728, 1024),
  SEP("block14_sepconv1_act", "block14_sepconv1_bn", "block13_add", "block14_sepconv1", 1536, 1),
  SEP("block14_sepconv2_act", "block14_sepconv2_bn", "block14_sepconv1_act", "block14_sepconv2", 2048, 1),
};

#define BASE_ROWS ((int)(sizeof kXception / sizeof kXception[0]))
#define FEATURES "block14_sepconv2_act"

/* ---- specs ------------------------------------------------------------------------------- */

void gc_spec_notop(gc_spec *s) {
  memset(s, 0, sizeof *s);
  s->input_h = s->input_w = GC_INPUT_SIZE;
  s->pre = GC_PRE_TF;
  s->pre_scale = 1.0f / 127.5f;
  s->pre_offset = -1.0f;
  s->pool = GC_POOL_NONE;
  snprintf(s->source, sizeof s->source, "Keras Xception, no top");
}

void gc_spec_imagenet(gc_spec *s) {
  gc_spec_notop(s);
  s->pool = GC_POOL_AVG;
  snprintf(s->pool_name, sizeof s->pool_name, "avg_pool");
  s->ndense = 1;
  snprintf(s->dense[0].name, sizeof s->dense[0].name, "predictions");
  s->dense[0].units = 1000;
  s->dense[0].act = GC_ACT_SOFTMAX;
  snprintf(s->source, sizeof s->source, "Keras Xception, ImageNet");
}

static int valid_name(const char *n) {
  size_t len = strnlen(n, GC_SPEC_NAME_SIZE);
  if (len == 0 || len == GC_SPEC_NAME_SIZE) return 0;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)n[i] < 0x20 || n[i] == '/') return 0;
  return 1;
}

gc_status gc_spec_check(const gc_spec *s, char *err, size_t errlen) {
  if (!s) return GC_ERR_INVALID_ARGUMENT;
  if (s->input_h < GC_MIN_INPUT_SIZE || s->input_h > GC_MAX_INPUT_SIZE || s->input_w < GC_MIN_INPUT_SIZE ||
      s->input_w > GC_MAX_INPUT_SIZE) {
    gc_set_error(err, errlen, "input size %dx%d is outside %d..%d", s->input_w, s->input_h, GC_MIN_INPUT_SIZE,
                 GC_MAX_INPUT_SIZE);
    return GC_ERR_CONVERT;
  }
  if (s->pre != GC_PRE_TF && s->pre != GC_PRE_RESCALE) {
    gc_set_error(err, errlen, "unknown preprocessing %d", (int)s->pre);
    return GC_ERR_CONVERT;
  }
  if (s->pre == GC_PRE_RESCALE && !(s->pre_scale > -1e30f && s->pre_scale < 1e30f && s->pre_scale != 0.0f &&
                                    s->pre_offset > -1e30f && s->pre_offset < 1e30f)) {
    gc_set_error(err, errlen, "rescaling scale %g / offset %g is not usable", s->pre_scale, s->pre_offset);
    return GC_ERR_CONVERT;
  }
  if (s->pool != GC_POOL_NONE && s->pool != GC_POOL_AVG && s->pool != GC_POOL_MAX) {
    gc_set_error(err, errlen, "unknown pooling %d", (int)s->pool);
    return GC_ERR_CONVERT;
  }
  if (s->ndense < 0 || s->ndense > GC_SPEC_MAX_DENSE || (s->ndense > 0 && s->pool == GC_POOL_NONE)) {
    gc_set_error(err, errlen, "%d Dense layers%s: the head has a global pooling and at most %d Dense layers",
                 s->ndense, s->pool == GC_POOL_NONE ? " without a pooling" : "", GC_SPEC_MAX_DENSE);
    return GC_ERR_CONVERT;
  }
  if (s->pool != GC_POOL_NONE && !valid_name(s->pool_name)) {
    gc_set_error(err, errlen, "the pooling layer's name is empty or not printable");
    return GC_ERR_CONVERT;
  }
  for (int i = 0; i < s->ndense; i++) {
    const gc_dense_spec *d = &s->dense[i];
    const int last = i == s->ndense - 1;
    if (!valid_name(d->name)) {
      gc_set_error(err, errlen, "Dense layer %d has an empty or unprintable name", i + 1);
      return GC_ERR_CONVERT;
    }
    if (d->units < 1 || d->units > GC_SPEC_MAX_UNITS) {
      gc_set_error(err, errlen, "Dense layer '%s' has %d units (1..%d)", d->name, d->units, GC_SPEC_MAX_UNITS);
      return GC_ERR_CONVERT;
    }
    const int ok = last ? d->act == GC_ACT_SOFTMAX || d->act == GC_ACT_SIGMOID || d->act == GC_ACT_LINEAR
                        : d->act == GC_ACT_RELU || d->act == GC_ACT_LINEAR;
    if (!ok) {
      gc_set_error(err, errlen, "Dense layer '%s' has activation %d; %s", d->name, (int)d->act,
                   last ? "the classifier takes softmax, sigmoid or linear" : "hidden layers take relu or linear");
      return GC_ERR_CONVERT;
    }
  }
  return GC_OK;
}

int gc_spec_classes(const gc_spec *s) {
  if (!s || s->ndense < 1) return 0;
  const int n = s->dense[s->ndense - 1].units;
  return n == 1 ? 2 : n;
}

int gc_spec_is_imagenet(const gc_spec *s) {
  return s && s->pool == GC_POOL_AVG && s->ndense == 1 && s->dense[0].units == 1000 &&
         s->dense[0].act == GC_ACT_SOFTMAX;
}

/* Weight prefix of head Dense i: "head_dense<k>" for hidden layer k = i + 1, "predictions" for
 * the classifier. */
static void dense_prefix(const gc_spec *s, int i, char *buf, size_t len) {
  if (i == s->ndense - 1) snprintf(buf, len, "predictions");
  else snprintf(buf, len, "head_dense%d", i + 1);
}

/* ---- building the rows ------------------------------------------------------------------- */

static void resolve(gc_net *net) {
  const int n = net->nrows;
  gc_layer *rows = net->rows;
  for (int i = 0; i < n; i++) {
    const gc_layer_def *d = &net->defs[i];
    gc_layer *r = &rows[i];
    r->def = d;
    r->in0 = r->in1 = -1;
    for (int j = 0; j < i; j++) {
      if (d->in0 && strcmp(net->defs[j].name, d->in0) == 0) r->in0 = j;
      if (d->in1 && strcmp(net->defs[j].name, d->in1) == 0) r->in1 = j;
    }
    r->cin = r->in0 >= 0 ? rows[r->in0].cout : 3;
    r->cout = d->channels ? d->channels : r->cin;
  }
  /* What the backward pass reads: the outputs of fused-ReLU rows (masks), the inputs of max
   * pools (arg-max), stand-alone ReLUs (masks) and global max pools (arg-max), the input and
   * every head row (tiny). */
  for (int i = 0; i < n; i++) {
    const gc_layer_def *d = rows[i].def;
    int needed = d->op == GC_OP_INPUT || d->op == GC_OP_DENSE || d->op == GC_OP_GAP || d->op == GC_OP_GMP ||
                 d->relu;
    for (int j = i + 1; j < n && !needed; j++)
      if (rows[j].in0 == i || rows[j].in1 == i) {
        const gc_op op = rows[j].def->op;
        /* max pool / ReLU backward read this value; any other consumer but an addition or the
         * next row would outlive a short slot */
        if (op == GC_OP_MAXPOOL || op == GC_OP_RELU || op == GC_OP_GMP) needed = 1;
        else if (op != GC_OP_ADD && j != i + 1) needed = 1;
      }
    if (needed) {
      rows[i].transient = 0;
    } else if (d->op == GC_OP_CONV) {
      rows[i].transient = 2; /* residual: read by the addition a few rows later */
    } else {
      /* consumed only by the next row, or by the addition right after it */
      rows[i].transient = 1;
      for (int j = i + 1; j < n; j++)
        if ((rows[j].in0 == i || rows[j].in1 == i) && j != i + 1) rows[i].transient = 0;
    }
  }
}

void gc_net_free(gc_net *net) {
  if (!net) return;
  free(net->defs);
  free(net->rows);
  free(net->names);
  memset(net, 0, sizeof *net);
}

gc_status gc_net_build(const gc_spec *spec, gc_net *net, char *err, size_t errlen) {
  memset(net, 0, sizeof *net);
  gc_status s = gc_spec_check(spec, err, errlen);
  if (s != GC_OK) return s;
  const int head = (spec->pool != GC_POOL_NONE) + spec->ndense;
  net->nrows = BASE_ROWS + head;
  net->defs = calloc((size_t)net->nrows, sizeof *net->defs);
  net->rows = calloc((size_t)net->nrows, sizeof *net->rows);
  net->names = calloc((size_t)(2 * head + 1), sizeof *net->names);
  if (!net->defs || !net->rows || !net->names) {
    gc_net_free(net);
    return GC_ERR_OUT_OF_MEMORY;
  }
  memcpy(net->defs, kXception, sizeof kXception);
  net->feature_row = BASE_ROWS - 1;
  net->logits_row = -1;
  int r = BASE_ROWS, k = 0;
  const char *prev = FEATURES;
  if (spec->pool != GC_POOL_NONE) {
    snprintf(net->names[k], sizeof net->names[k], "%s", spec->pool_name);
    net->defs[r] = (gc_layer_def){spec->pool == GC_POOL_AVG ? GC_OP_GAP : GC_OP_GMP, net->names[k], NULL, prev,
                                  NULL, NULL, NULL, 0, 0, 0, 0, 0};
    prev = net->names[k++];
    r++;
  }
  for (int i = 0; i < spec->ndense; i++, r++) {
    const gc_dense_spec *d = &spec->dense[i];
    snprintf(net->names[k], sizeof net->names[k], "%s", d->name);
    dense_prefix(spec, i, net->names[k + 1], sizeof net->names[k + 1]);
    net->defs[r] = (gc_layer_def){GC_OP_DENSE, net->names[k], NULL, prev, NULL, net->names[k + 1], NULL, 0, 0, 0,
                                  d->units, d->act == GC_ACT_RELU};
    prev = net->names[k];
    k += 2;
  }
  if (spec->ndense > 0) net->logits_row = net->nrows - 1;
  /* head names must not collide with the base's or each other's */
  for (int i = BASE_ROWS; i < net->nrows; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(net->defs[i].name, net->defs[j].name) ||
          (net->defs[j].preact && !strcmp(net->defs[i].name, net->defs[j].preact))) {
        gc_set_error(err, errlen, "the head's layer name '%s' is used twice", net->defs[i].name);
        gc_net_free(net);
        return GC_ERR_CONVERT;
      }
  resolve(net);
  return GC_OK;
}

int gc_net_find(const gc_net *net, const char *name) {
  if (!name) return -1;
  for (int i = 0; i < net->nrows; i++)
    if (strcmp(net->defs[i].name, name) == 0) return i;
  return -1;
}

int gc_net_find_preact(const gc_net *net, const char *name) {
  if (!name) return -1;
  for (int i = 0; i < net->nrows; i++)
    if (net->defs[i].preact && strcmp(net->defs[i].preact, name) == 0) return i;
  return -1;
}

void gc_net_spatial(const gc_net *net, int h, int w, int *oh, int *ow) {
  for (int i = 0; i < net->nrows; i++) {
    const gc_layer *r = &net->rows[i];
    const gc_layer_def *d = r->def;
    const int ih = r->in0 >= 0 ? oh[r->in0] : h, iw = r->in0 >= 0 ? ow[r->in0] : w;
    switch (d->op) {
      case GC_OP_CONV:
        if (d->same) {
          oh[i] = (ih + d->stride - 1) / d->stride;
          ow[i] = (iw + d->stride - 1) / d->stride;
        } else {
          oh[i] = (ih - d->kernel) / d->stride + 1;
          ow[i] = (iw - d->kernel) / d->stride + 1;
        }
        break;
      case GC_OP_MAXPOOL:
        oh[i] = (ih + d->stride - 1) / d->stride;
        ow[i] = (iw + d->stride - 1) / d->stride;
        break;
      case GC_OP_GAP:
      case GC_OP_GMP:
      case GC_OP_DENSE:
        oh[i] = ow[i] = 1;
        break;
      default: /* INPUT, SEPCONV (stride 1 same), RELU, ADD keep the size */
        oh[i] = ih;
        ow[i] = iw;
        break;
    }
  }
}

int gc_net_layer_count(const gc_net *net) {
  int n = 0;
  for (int i = 0; i < net->nrows; i++) n += net->defs[i].preact ? 2 : 1;
  return n;
}

const char *gc_net_layer_name(const gc_net *net, int i) {
  for (int r = 0; r < net->nrows && i >= 0; r++) {
    if (net->defs[r].preact && i-- == 0) return net->defs[r].preact;
    if (i-- == 0) return net->defs[r].name;
  }
  return NULL;
}

gc_status gc_net_layer_shape(const gc_net *net, const char *layer, int height, int width, gc_shape *shape) {
  if (!layer || !shape || height < 0 || width < 0) return GC_ERR_INVALID_ARGUMENT;
  if (height < GC_MIN_INPUT_SIZE || width < GC_MIN_INPUT_SIZE || height > GC_MAX_INPUT_SIZE ||
      width > GC_MAX_INPUT_SIZE)
    return GC_ERR_IMAGE_SIZE;
  int i = gc_net_find(net, layer);
  if (i < 0) i = gc_net_find_preact(net, layer);
  if (i < 0) return GC_ERR_LAYER_UNKNOWN;
  int *oh = malloc((size_t)net->nrows * 2 * sizeof *oh);
  if (!oh) return GC_ERR_OUT_OF_MEMORY;
  gc_net_spatial(net, height, width, oh, oh + net->nrows);
  memset(shape, 0, sizeof *shape);
  const gc_op op = net->rows[i].def->op;
  if (op == GC_OP_GAP || op == GC_OP_GMP || op == GC_OP_DENSE) {
    shape->ndim = 2;
    shape->dims[0] = 1;
    shape->dims[1] = net->rows[i].cout;
  } else {
    shape->ndim = 4;
    shape->dims[0] = 1;
    shape->dims[1] = oh[i];
    shape->dims[2] = oh[net->nrows + i];
    shape->dims[3] = net->rows[i].cout;
  }
  free(oh);
  return GC_OK;
}

static void tspec(gc_tensor_spec *s, const char *prefix, const char *suffix, int ndim, int d0, int d1, int d2,
                  int d3) {
  snprintf(s->name, sizeof s->name, "%s/%s", prefix, suffix);
  s->ndim = ndim;
  s->dims[0] = d0;
  s->dims[1] = d1;
  s->dims[2] = d2;
  s->dims[3] = d3;
}

int gc_spec_weight_specs(const gc_spec *spec, gc_tensor_spec *specs, int cap) {
  gc_net net;
  if (gc_net_build(spec, &net, NULL, 0) != GC_OK) return 0;
  static const char *const bn_parts[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
  gc_tensor_spec tmp[8];
  int n = 0;
  for (int i = 0; i < net.nrows; i++) {
    const gc_layer *r = &net.rows[i];
    const gc_layer_def *d = r->def;
    int k = 0;
    if (d->op == GC_OP_CONV) {
      /* OHWI, as XNNPACK's convolution wants it */
      tspec(&tmp[k++], d->weights, "kernel", 4, r->cout, d->kernel, d->kernel, r->cin);
    } else if (d->op == GC_OP_SEPCONV) {
      /* [1][kh][kw][C] depthwise and [O][1][1][I] pointwise */
      tspec(&tmp[k++], d->weights, "depthwise_kernel", 4, 1, d->kernel, d->kernel, r->cin);
      tspec(&tmp[k++], d->weights, "pointwise_kernel", 4, r->cout, 1, 1, r->cin);
    } else if (d->op == GC_OP_DENSE) {
      tspec(&tmp[k++], d->weights, "kernel", 2, r->cout, r->cin, 0, 0); /* [out][in] */
      tspec(&tmp[k++], d->weights, "bias", 1, r->cout, 0, 0, 0);
    }
    if (d->bn)
      for (int p = 0; p < 4; p++) tspec(&tmp[k++], d->bn, bn_parts[p], 1, r->cout, 0, 0, 0);
    for (int j = 0; j < k; j++, n++)
      if (specs && n < cap) specs[n] = tmp[j];
  }
  gc_net_free(&net);
  return n;
}

/* ---- the ImageNet model's layers (no weights needed) --------------------------------------- */

static int imagenet_net(gc_net *net) {
  gc_spec s;
  gc_spec_imagenet(&s);
  return gc_net_build(&s, net, NULL, 0) == GC_OK;
}

int gc_layer_count(void) {
  gc_net net;
  if (!imagenet_net(&net)) return 0;
  const int n = gc_net_layer_count(&net);
  gc_net_free(&net);
  return n;
}

const char *gc_layer_name(int i) {
  gc_net net;
  if (!imagenet_net(&net)) return NULL;
  static const char *const head[2] = {"avg_pool", "predictions"};
  const char *name = gc_net_layer_name(&net, i);
  for (int k = 0; name && k < 2; k++)
    if (!strcmp(name, head[k])) name = head[k]; /* a literal: the net's own copy is freed below */
  gc_net_free(&net);
  return name;
}

gc_status gc_layer_shape(const char *layer, int height, int width, gc_shape *shape) {
  if (!layer || !shape || height < 0 || width < 0) return GC_ERR_INVALID_ARGUMENT;
  gc_net net;
  if (!imagenet_net(&net)) return GC_ERR_OUT_OF_MEMORY;
  gc_status s = gc_net_layer_shape(&net, layer, height ? height : GC_INPUT_SIZE, width ? width : GC_INPUT_SIZE, shape);
  gc_net_free(&net);
  return s;
}
