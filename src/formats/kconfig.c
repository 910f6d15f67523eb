/* kconfig.c - a Keras model config (JSON) into a gc_spec.
 *
 * The same config structure comes from three places: the model_config attribute of a Keras 2
 * model.save() HDF5 file, config.json in a Keras 3 .keras archive, and modelTopology in a TF.js
 * model.json. A model is {"class_name": "Functional" | "Model" | "Sequential", "config":
 * {"name", "layers": [...]}} (Keras 2.0 Sequential: "config" is the list itself); a layer is
 * {"class_name", "config": {"name", ...}}, and a layer that holds "layers" is a nested model
 * (the fine-tuning recipe puts the whole Xception base in one layer). The layers are flattened
 * in their listed order, nested ones in place, which is Keras' model.layers order; then:
 *   - the Xception base must be there: every weighted layer by its stable name and class;
 *   - before it (block1_conv1) only InputLayer (the input size), Rescaling (scale, offset:
 *     several compose), the TFOpLambda layers of tf.keras' preprocess_input (x / 127.5, x - 1;
 *     any division, multiplication, subtraction or addition by a number) and augmentation
 *     layers (Random*: identity at inference, except RandomCrop, which resizes to its size) may
 *     come;
 *   - after it (block14_sepconv2_act) the head: one GlobalAveragePooling2D or
 *     GlobalMaxPooling2D, then Dense layers (hidden relu or linear, the last softmax, sigmoid
 *     or linear; an Activation, Softmax or ReLU layer after a linear Dense sets its activation),
 *     with Dropout-like and Flatten layers (identity there) anywhere; or nothing (notop).
 * Anything else is refused with the layer's name and class.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "io/json.h"

typedef struct entry {
  const char *cls, *name;
  const gc_json_value *cfg, *layer;
} entry;

typedef struct flat {
  entry *e;
  int n, cap;
  const char *model_name;
} flat;

static const gc_json_value *layers_of(const gc_json_value *cfg) {
  if (gc_json_type_of(cfg) == GC_JSON_ARRAY) return cfg; /* Keras 2.0 Sequential */
  const gc_json_value *l = gc_json_get(cfg, "layers");
  return gc_json_type_of(l) == GC_JSON_ARRAY ? l : NULL;
}

static gc_status flatten(flat *f, const gc_json_value *layers, int depth, const char *what, char *err, size_t errlen) {
  if (depth > 8) {
    gc_set_error(err, errlen, "%s: models nested more than 8 deep", what);
    return GC_ERR_CONVERT;
  }
  for (size_t i = 0; i < gc_json_len(layers); i++) {
    const gc_json_value *l = gc_json_at(layers, i);
    const gc_json_value *cfg = gc_json_get(l, "config");
    const char *cls = gc_json_str(gc_json_get(l, "class_name"));
    const char *name = gc_json_str(gc_json_get(cfg, "name"));
    if (!name) name = gc_json_str(gc_json_get(l, "name"));
    if (!cls || !name) {
      gc_set_error(err, errlen, "%s: layer %zu of %s has no class_name or name: not a Keras model config", what, i,
                   f->model_name ? f->model_name : "the model");
      return GC_ERR_CONVERT;
    }
    const gc_json_value *inner = layers_of(cfg);
    if (inner) { /* a nested model: its layers in place */
      gc_status st = flatten(f, inner, depth + 1, what, err, errlen);
      if (st != GC_OK) return st;
      continue;
    }
    if (f->n == f->cap) {
      int cap = f->cap ? 2 * f->cap : 256;
      entry *e = realloc(f->e, (size_t)cap * sizeof *e);
      if (!e) return GC_ERR_OUT_OF_MEMORY;
      f->e = e;
      f->cap = cap;
    }
    f->e[f->n++] = (entry){cls, name, cfg, l};
  }
  return GC_OK;
}

static int find(const flat *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->e[i].name, name)) return i;
  return -1;
}

static int is_one_of(const char *cls, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(cls, *list)) return 1;
  return 0;
}

/* Identity at inference time. */
static const char *const kIdentity[] = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
                                        "GaussianDropout", "AlphaDropout", "ActivityRegularization", NULL};

static int is_augmentation(const char *cls) { return !strncmp(cls, "Random", 6); }

static int act_of(const char *s, gc_act *out) {
  static const struct {
    const char *name;
    gc_act act;
  } k[] = {{"linear", GC_ACT_LINEAR}, {"relu", GC_ACT_RELU}, {"softmax", GC_ACT_SOFTMAX}, {"sigmoid", GC_ACT_SIGMOID}};
  for (size_t i = 0; s && i < sizeof k / sizeof k[0]; i++)
    if (!strcmp(s, k[i].name)) {
      *out = k[i].act;
      return 0;
    }
  return -1;
}

/* A layer's activation: a name, or (some Keras 3 configs) {"class_name": "function", "config": name}. */
static const char *activation(const gc_json_value *cfg) {
  const gc_json_value *a = gc_json_get(cfg, "activation");
  return gc_json_type_of(a) == GC_JSON_OBJECT ? gc_json_str(gc_json_get(a, "config")) : gc_json_str(a);
}

/* [null, H, W, C] from an InputLayer or a first layer (Keras 2: batch_input_shape, Keras 3:
 * batch_shape, TF.js: batchInputShape). 0 when absent; -1 when malformed. */
static int input_shape(const gc_json_value *cfg, int *h, int *w, int *c) {
  const gc_json_value *s = gc_json_get(cfg, "batch_shape");
  if (!s) s = gc_json_get(cfg, "batch_input_shape");
  if (!s) s = gc_json_get(cfg, "batchInputShape");
  if (!s) return 0;
  if (gc_json_len(s) != 4) return -1;
  int v[3];
  for (int k = 0; k < 3; k++) {
    const gc_json_value *d = gc_json_at(s, (size_t)k + 1);
    const double x = gc_json_num(d, -1);
    if (gc_json_type_of(d) == GC_JSON_NULL) v[k] = 0;
    else if (x >= 1 && x <= 1e6 && x == floor(x)) v[k] = (int)x;
    else return -1;
  }
  *h = v[0], *w = v[1], *c = v[2];
  return 1;
}

/* The number a TFOpLambda layer applies: its call's "y", somewhere in inbound_nodes (Keras 2:
 * [["input_1", 0, 0, {"y": 127.5, "name": null}]]). 0 when there is none. */
static int lambda_operand(const gc_json_value *v, int depth, double *y) {
  const gc_json_value *k = gc_json_get(v, "y");
  if (gc_json_type_of(k) == GC_JSON_NUMBER) {
    *y = gc_json_num(k, 0);
    return 1;
  }
  for (size_t i = 0; depth < 6 && i < gc_json_len(v); i++)
    if (lambda_operand(gc_json_at(v, i), depth + 1, y)) return 1;
  return 0;
}

/* x * s + o for a TFOpLambda of tf.math's arithmetic with a number; -1 for anything else. */
static int lambda_affine(const entry *e, double *s, double *o) {
  const char *fn = gc_json_str(gc_json_get(e->cfg, "function"));
  double y;
  if (!fn || !lambda_operand(gc_json_get(e->layer, "inbound_nodes"), 0, &y)) return -1;
  *s = 1, *o = 0;
  if ((!strcmp(fn, "math.truediv") || !strcmp(fn, "math.divide")) && y != 0) *s = 1 / y;
  else if (!strcmp(fn, "math.multiply")) *s = y;
  else if (!strcmp(fn, "math.subtract")) *o = -y;
  else if (!strcmp(fn, "math.add") || !strcmp(fn, "__operators__.add")) *o = y;
  else return -1;
  return 0;
}

/* The weighted base layers must all be there with the right class. */
static gc_status check_base(const flat *f, const char *what, char *err, size_t errlen) {
  gc_spec notop;
  gc_spec_notop(&notop);
  const int n = gc_spec_weight_specs(&notop, NULL, 0);
  gc_tensor_spec *specs = calloc((size_t)n, sizeof *specs);
  if (!specs) return GC_ERR_OUT_OF_MEMORY;
  gc_spec_weight_specs(&notop, specs, n);
  gc_status st = GC_OK;
  for (int i = 0; i < n && st == GC_OK; i++) {
    char layer[80];
    const char *slash = strchr(specs[i].name, '/');
    snprintf(layer, sizeof layer, "%.*s", (int)(slash - specs[i].name), specs[i].name);
    if (strstr(layer, "_residual") || (i && !strncmp(specs[i - 1].name, layer, strlen(layer)) &&
                                       specs[i - 1].name[strlen(layer)] == '/'))
      continue; /* auto-named, or a layer already seen */
    const int k = find(f, layer);
    const int bn = strstr(layer, "_bn") != NULL, sep = strstr(layer, "sepconv") != NULL;
    const gc_kind want = bn ? GC_KIND_BN : sep ? GC_KIND_SEPCONV : GC_KIND_CONV;
    if (k < 0) {
      char first[160] = "";
      size_t len = 0;
      for (int j = 0; j < f->n && j < 4 && len < sizeof first; j++)
        len += (size_t)snprintf(first + len, sizeof first - len, "%s%s", j ? ", " : "", f->e[j].name);
      gc_set_error(err, errlen, "%s describes a model%s%s%s of %d layers (%s%s) with no layer '%s': not an Xception "
                   "model", what, f->model_name ? " '" : "", f->model_name ? f->model_name : "",
                   f->model_name ? "'" : "", f->n, first, f->n > 4 ? ", ..." : "", layer);
      st = GC_ERR_CONVERT;
    } else if (gc_kind_of_class(f->e[k].cls) != want) {
      gc_set_error(err, errlen, "%s: layer '%s' is a %s; in Xception it is a %s", what, layer, f->e[k].cls,
                   gc_kind_name(want));
      st = GC_ERR_CONVERT;
    } else {
      const char *fmt = gc_json_str(gc_json_get(f->e[k].cfg, "data_format"));
      const char *order = gc_json_str(gc_json_get(f->e[k].cfg, "dim_ordering")); /* Keras 1 */
      if ((fmt && strcmp(fmt, "channels_last")) || (order && strcmp(order, "tf"))) {
        gc_set_error(err, errlen, "%s: layer '%s' uses %s ordering; only channels_last (TensorFlow's) is supported",
                     what, layer, fmt ? fmt : order);
        st = GC_ERR_CONVERT;
      }
    }
  }
  free(specs);
  return st;
}

/* The layers before the base (block1_conv1 is f->e[first]): the input size, the preprocessing. */
static gc_status before_base(const flat *f, int first, const char *what, gc_spec *s, char *err, size_t errlen) {
  int h = 0, w = 0, steps = 0, tf_mode = 0;
  double scale = 1.0, offset = 0.0;
  for (int i = 0; i < first; i++) {
    const entry *e = &f->e[i];
    int ih = 0, iw = 0, ic = 0;
    const int has = input_shape(e->cfg, &ih, &iw, &ic);
    if (has < 0 || (has && ic && ic != 3)) {
      gc_set_error(err, errlen, "%s: layer '%s' gives an input shape that is not [batch, height, width, 3]", what,
                   e->name);
      return GC_ERR_CONVERT;
    }
    if (has && !h && ih && iw) h = ih, w = iw;
    if (!strcmp(e->cls, "InputLayer") || is_one_of(e->cls, kIdentity)) continue;
    if (!strcmp(e->cls, "RandomCrop")) { /* at inference: resized to its size */
      const double ch = gc_json_num(gc_json_get(e->cfg, "height"), 0), cw = gc_json_num(gc_json_get(e->cfg, "width"), 0);
      if (ch >= 1 && cw >= 1 && ch <= 1e6 && cw <= 1e6) h = (int)ch, w = (int)cw;
      continue;
    }
    if (is_augmentation(e->cls)) continue;
    const int lambda = !strcmp(e->cls, "TFOpLambda");
    if (!lambda && strcmp(e->cls, "Rescaling") != 0) {
      gc_set_error(err, errlen, "%s: layer '%s' (%s) before the Xception base is not supported; before it a model may "
                   "only have Rescaling, preprocess_input's arithmetic and augmentation (Random*) layers", what,
                   e->name, e->cls);
      return GC_ERR_CONVERT;
    }
    const gc_json_value *sc = gc_json_get(e->cfg, "scale"), *of = gc_json_get(e->cfg, "offset");
    double s2 = gc_json_num(sc, 1), o2 = gc_json_num(of, 0);
    if (lambda ? lambda_affine(e, &s2, &o2) != 0
               : gc_json_type_of(sc) != GC_JSON_NUMBER || (of && gc_json_type_of(of) != GC_JSON_NUMBER)) {
      const char *fn = gc_json_str(gc_json_get(e->cfg, "function"));
      if (lambda)
        gc_set_error(err, errlen, "%s: layer '%s' (TFOpLambda %s) before the Xception base is not supported; of "
                     "tf.math only division, multiplication, subtraction and addition by a number are", what, e->name,
                     fn ? fn : "?");
      else
        gc_set_error(err, errlen, "%s: Rescaling layer '%s' has a scale or offset that is not one number "
                     "(per-channel rescaling is not supported)", what, e->name);
      return GC_ERR_CONVERT;
    }
    /* preprocess_input's x / 127.5 then x - 1 is Keras' "tf" mode, which the model computes as
     * Keras does (a division); anything else is x * scale + offset */
    if (lambda && steps == 0 && s2 == 1 / 127.5 && o2 == 0 && strstr(gc_json_str(gc_json_get(e->cfg, "function")), "div"))
      tf_mode = 1;
    else if (!(lambda && steps == 1 && tf_mode && s2 == 1 && o2 == -1))
      tf_mode = 0;
    steps++;
    scale *= s2; /* x * s2 + o2 after x * s1 + o1 */
    offset = offset * s2 + o2;
  }
  if (!h) h = w = GC_INPUT_SIZE; /* a variable-size input: the size Xception was trained at */
  if (h < GC_MIN_INPUT_SIZE || w < GC_MIN_INPUT_SIZE || h > GC_MAX_INPUT_SIZE || w > GC_MAX_INPUT_SIZE) {
    gc_set_error(err, errlen, "%s: the model's input is %dx%d; supported sizes are %d to %d on each side", what, h, w,
                 GC_MIN_INPUT_SIZE, GC_MAX_INPUT_SIZE);
    return GC_ERR_CONVERT;
  }
  s->input_h = h;
  s->input_w = w;
  if (!steps || (steps == 2 && tf_mode)) return GC_OK; /* gc_spec_notop's x / 127.5 - 1 */
  if (!isfinite(scale) || !isfinite(offset) || scale == 0 || fabs(scale) > 1e6 || fabs(offset) > 1e6) {
    gc_set_error(err, errlen, "%s: the model's preprocessing (x * %g + %g) is not usable", what, scale, offset);
    return GC_ERR_CONVERT;
  }
  s->pre = GC_PRE_RESCALE;
  s->pre_scale = (float)scale;
  s->pre_offset = (float)offset;
  return GC_OK;
}

static const char kHeadHelp[] = "a supported head is GlobalAveragePooling2D or GlobalMaxPooling2D, Dense layers "
                                "(relu or linear) and a last Dense (softmax, sigmoid or linear), with Dropout anywhere";

static gc_status parse_head(const flat *f, int from, const char *what, gc_spec *s, char *err, size_t errlen) {
  for (int i = from; i < f->n; i++) {
    const entry *e = &f->e[i];
    const char *cls = e->cls;
    if (is_one_of(cls, kIdentity) || is_augmentation(cls)) continue;
    if (!strcmp(cls, "GlobalAveragePooling2D") || !strcmp(cls, "GlobalMaxPooling2D")) {
      if (s->pool != GC_POOL_NONE || s->ndense) {
        gc_set_error(err, errlen, "%s: layer '%s' (%s) pools again after '%s'; %s", what, e->name, cls,
                     s->ndense ? s->dense[s->ndense - 1].name : s->pool_name, kHeadHelp);
        return GC_ERR_CONVERT;
      }
      s->pool = cls[6] == 'A' ? GC_POOL_AVG : GC_POOL_MAX;
      snprintf(s->pool_name, sizeof s->pool_name, "%s", e->name);
    } else if (!strcmp(cls, "Flatten") && s->pool != GC_POOL_NONE) {
      continue; /* a pooled vector is already flat */
    } else if (!strcmp(cls, "Dense") && s->pool != GC_POOL_NONE) {
      if (s->ndense == GC_SPEC_MAX_DENSE) {
        gc_set_error(err, errlen, "%s: layer '%s': a head of more than %d Dense layers is not supported", what, e->name,
                     GC_SPEC_MAX_DENSE);
        return GC_ERR_CONVERT;
      }
      double units = gc_json_num(gc_json_get(e->cfg, "units"), gc_json_num(gc_json_get(e->cfg, "output_dim"), -1));
      const char *act = activation(e->cfg);
      gc_dense_spec *d = &s->dense[s->ndense];
      if (!(units >= 1 && units <= GC_SPEC_MAX_UNITS && units == floor(units))) {
        gc_set_error(err, errlen, "%s: Dense layer '%s' has %g units; 1 to %d are supported", what, e->name, units,
                     GC_SPEC_MAX_UNITS);
        return GC_ERR_CONVERT;
      }
      if (act_of(act ? act : "linear", &d->act)) {
        gc_set_error(err, errlen, "%s: Dense layer '%s' has activation '%s'; supported: relu and linear (hidden), "
                     "softmax, sigmoid and linear (last)", what, e->name, act ? act : "(not a name)");
        return GC_ERR_CONVERT;
      }
      if (!gc_json_bool(gc_json_get(e->cfg, "use_bias"), gc_json_bool(gc_json_get(e->cfg, "bias"), 1))) {
        gc_set_error(err, errlen, "%s: Dense layer '%s' has no bias (use_bias false), which is not supported", what,
                     e->name);
        return GC_ERR_CONVERT;
      }
      snprintf(d->name, sizeof d->name, "%s", e->name);
      d->units = (int)units;
      s->ndense++;
    } else if ((!strcmp(cls, "Activation") || !strcmp(cls, "Softmax") || !strcmp(cls, "ReLU")) && s->ndense &&
               s->dense[s->ndense - 1].act == GC_ACT_LINEAR) {
      const char *act = !strcmp(cls, "Activation") ? activation(e->cfg)
                        : cls[0] == 'S'             ? "softmax"
                                                    : "relu";
      if (act_of(act, &s->dense[s->ndense - 1].act)) {
        gc_set_error(err, errlen, "%s: layer '%s' applies activation '%s'; %s", what, e->name, act ? act : "?",
                     kHeadHelp);
        return GC_ERR_CONVERT;
      }
    } else {
      gc_set_error(err, errlen, "%s: layer '%s' (%s) after the Xception base is not supported%s; %s", what, e->name,
                   cls, s->pool == GC_POOL_NONE ? " before a global pooling" : "", kHeadHelp);
      return GC_ERR_CONVERT;
    }
  }
  for (int k = 0; k < s->ndense; k++) {
    const gc_act a = s->dense[k].act;
    const int last = k == s->ndense - 1;
    if ((!last && a != GC_ACT_RELU && a != GC_ACT_LINEAR) || (last && a == GC_ACT_RELU)) {
      gc_set_error(err, errlen, "%s: Dense layer '%s' has activation %s %s; %s", what, s->dense[k].name,
                   a == GC_ACT_RELU ? "relu" : a == GC_ACT_SOFTMAX ? "softmax" : "sigmoid",
                   last ? "as the classifier" : "in a hidden layer", kHeadHelp);
      return GC_ERR_CONVERT;
    }
  }
  return GC_OK;
}

gc_status gc_kconfig_spec(const gc_json_value *model, const char *what, gc_spec *s, char *err, size_t errlen) {
  gc_spec_notop(s);
  s->head_inferred = 0;
  flat f = {0};
  f.model_name = gc_json_str(gc_json_get(gc_json_get(model, "config"), "name"));
  const gc_json_value *layers = layers_of(gc_json_get(model, "config"));
  if (!gc_json_str(gc_json_get(model, "class_name")) || !layers) {
    gc_set_error(err, errlen, "%s is not a Keras model config: it needs \"class_name\" and \"config\" with \"layers\"",
                 what);
    return GC_ERR_CONVERT;
  }
  gc_status st = flatten(&f, layers, 0, what, err, errlen);
  if (st == GC_OK) st = check_base(&f, what, err, errlen);
  const int first = find(&f, "block1_conv1"), last = find(&f, "block14_sepconv2_act");
  if (st == GC_OK && (last < 0 || last < first)) {
    gc_set_error(err, errlen, "%s: the Xception base has no layer 'block14_sepconv2_act' after 'block1_conv1'", what);
    st = GC_ERR_CONVERT;
  }
  if (st == GC_OK) st = before_base(&f, first, what, s, err, errlen);
  if (st == GC_OK) st = parse_head(&f, last + 1, what, s, err, errlen);
  if (st == GC_OK) st = gc_spec_check(s, err, errlen);
  free(f.e);
  return st;
}
