/* model.c - Keras Xception as data: one row per layer output, in forward order.
 *
 * Each row names its output with the Keras layer name and its inputs by name. Batch
 * normalisation is folded into the convolution before it (at load time), so a row
 * "CONV block1_conv1 + block1_conv1_bn" produces the BN output; when the row also fuses the
 * ReLU that follows, its output is the Keras *_act layer and `preact` names the BN output
 * that is no longer materialised. The forward pass (forward.c) walks this table; weight
 * tensor names and shapes are derived from it too (gc_table_weight_specs).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

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
  {GC_OP_GAP, "avg_pool", NULL, "block14_sepconv2_act", NULL, NULL, NULL, 0, 0, 0, 0, 0},
  {GC_OP_DENSE, "predictions", NULL, "avg_pool", NULL, "predictions", NULL, 0, 0, 0, GC_NUM_CLASSES, 0},
};

#define TABLE_SIZE ((int)(sizeof kXception / sizeof kXception[0]))

/* The resolved table is a pure function of kXception; it is computed on every call rather
 * than cached so the library keeps no global state (it is tiny: ~100 rows). Callers that
 * need it repeatedly keep their own copy (the model does). */
static void resolve(gc_layer *rows) {
  for (int i = 0; i < TABLE_SIZE; i++) {
    const gc_layer_def *d = &kXception[i];
    gc_layer *r = &rows[i];
    r->def = d;
    r->in0 = r->in1 = -1;
    for (int j = 0; j < i; j++) {
      if (d->in0 && strcmp(kXception[j].name, d->in0) == 0) r->in0 = j;
      if (d->in1 && strcmp(kXception[j].name, d->in1) == 0) r->in1 = j;
    }
    r->cin = r->in0 >= 0 ? rows[r->in0].cout : 3;
    r->cout = d->channels ? d->channels : r->cin;
  }
  /* What the backward pass reads: the outputs of fused-ReLU rows (masks), the inputs of max
   * pools (arg-max) and stand-alone ReLUs (masks), the input and the logits. */
  for (int i = 0; i < TABLE_SIZE; i++) {
    const gc_layer_def *d = rows[i].def;
    int needed = d->op == GC_OP_INPUT || d->op == GC_OP_DENSE || d->relu;
    for (int j = i + 1; j < TABLE_SIZE && !needed; j++)
      if (rows[j].in0 == i || rows[j].in1 == i) {
        const gc_op op = rows[j].def->op;
        /* max pool / ReLU backward read this value; any other consumer but an addition or the
         * next row would outlive a short slot */
        if (op == GC_OP_MAXPOOL || op == GC_OP_RELU) needed = 1;
        else if (op != GC_OP_ADD && j != i + 1) needed = 1;
      }
    if (needed) {
      rows[i].transient = 0;
    } else if (d->op == GC_OP_CONV) {
      rows[i].transient = 2; /* residual: read by the addition a few rows later */
    } else {
      /* consumed only by the next row, or by the addition right after it */
      rows[i].transient = 1;
      for (int j = i + 1; j < TABLE_SIZE; j++)
        if ((rows[j].in0 == i || rows[j].in1 == i) && j != i + 1) rows[i].transient = 0;
    }
  }
}

int gc_table_size(void) { return TABLE_SIZE; }

void gc_table_resolve(gc_layer *rows) { resolve(rows); }

int gc_table_find(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < TABLE_SIZE; i++)
    if (strcmp(kXception[i].name, name) == 0) return i;
  return -1;
}

int gc_table_find_preact(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < TABLE_SIZE; i++)
    if (kXception[i].preact && strcmp(kXception[i].preact, name) == 0) return i;
  return -1;
}

void gc_table_spatial(const gc_layer *rows, int h, int w, int *oh, int *ow) {
  for (int i = 0; i < TABLE_SIZE; i++) {
    const gc_layer_def *d = rows[i].def;
    int ih = rows[i].in0 >= 0 ? oh[rows[i].in0] : h;
    int iw = rows[i].in0 >= 0 ? ow[rows[i].in0] : w;
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

static void spec(gc_tensor_spec *s, const char *prefix, const char *suffix, int ndim, int d0,
                 int d1, int d2, int d3) {
  snprintf(s->name, sizeof s->name, "%s/%s", prefix, suffix);
  s->ndim = ndim;
  s->dims[0] = d0;
  s->dims[1] = d1;
  s->dims[2] = d2;
  s->dims[3] = d3;
}

int gc_table_weight_specs(gc_tensor_spec *specs, int cap) {
  gc_layer rows[TABLE_SIZE];
  resolve(rows);
  static const char *const bn_parts[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
  gc_tensor_spec tmp[8];
  int n = 0;
  for (int i = 0; i < TABLE_SIZE; i++) {
    const gc_layer_def *d = rows[i].def;
    int k = 0;
    if (d->op == GC_OP_CONV) {
      /* OHWI, as XNNPACK's convolution wants it */
      spec(&tmp[k++], d->weights, "kernel", 4, rows[i].cout, d->kernel, d->kernel, rows[i].cin);
    } else if (d->op == GC_OP_SEPCONV) {
      /* [1][kh][kw][C] depthwise and [O][1][1][I] pointwise */
      spec(&tmp[k++], d->weights, "depthwise_kernel", 4, 1, 3, 3, rows[i].cin);
      spec(&tmp[k++], d->weights, "pointwise_kernel", 4, rows[i].cout, 1, 1, rows[i].cin);
    } else if (d->op == GC_OP_DENSE) {
      spec(&tmp[k++], d->weights, "kernel", 2, rows[i].cout, rows[i].cin, 0, 0); /* [out][in] */
      spec(&tmp[k++], d->weights, "bias", 1, rows[i].cout, 0, 0, 0);
    }
    if (d->bn)
      for (int p = 0; p < 4; p++) spec(&tmp[k++], d->bn, bn_parts[p], 1, rows[i].cout, 0, 0, 0);
    for (int j = 0; j < k; j++, n++)
      if (specs && n < cap) specs[n] = tmp[j];
  }
  return n;
}

/* The addressable layers: every row's output, preceded by its fused pre-activation if any. */
int gc_layer_count(void) {
  int n = 0;
  for (int i = 0; i < TABLE_SIZE; i++) n += kXception[i].preact ? 2 : 1;
  return n;
}

const char *gc_layer_name(int i) {
  for (int r = 0; r < TABLE_SIZE && i >= 0; r++) {
    if (kXception[r].preact && i-- == 0) return kXception[r].preact;
    if (i-- == 0) return kXception[r].name;
  }
  return NULL;
}

gc_status gc_layer_shape(const char *layer, int height, int width, gc_shape *shape) {
  if (!layer || !shape || height < 0 || width < 0) return GC_ERR_INVALID_ARGUMENT;
  if (height == 0) height = GC_INPUT_SIZE;
  if (width == 0) width = GC_INPUT_SIZE;
  if (height < GC_MIN_INPUT_SIZE || width < GC_MIN_INPUT_SIZE || height > GC_MAX_INPUT_SIZE ||
      width > GC_MAX_INPUT_SIZE)
    return GC_ERR_IMAGE_SIZE;
  int i = gc_table_find(layer);
  if (i < 0) i = gc_table_find_preact(layer);
  if (i < 0) return GC_ERR_LAYER_UNKNOWN;
  gc_layer rows[TABLE_SIZE];
  int oh[TABLE_SIZE], ow[TABLE_SIZE];
  resolve(rows);
  gc_table_spatial(rows, height, width, oh, ow);
  const gc_op op = rows[i].def->op;
  if (op == GC_OP_GAP || op == GC_OP_DENSE) {
    shape->ndim = 2;
    shape->dims[0] = 1;
    shape->dims[1] = rows[i].cout;
    shape->dims[2] = shape->dims[3] = 0;
  } else {
    shape->ndim = 4;
    shape->dims[0] = 1;
    shape->dims[1] = oh[i];
    shape->dims[2] = ow[i];
    shape->dims[3] = rows[i].cout;
  }
  return GC_OK;
}
