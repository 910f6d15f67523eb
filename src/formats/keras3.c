/* keras3.c - Keras 3 files: .weights.h5 (model.save_weights) and .keras archives
 * (model.save: a ZIP of config.json, model.weights.h5 and metadata.json).
 *
 * A Keras 3 weights file names no layer. The model's layers are listed under layers/, each as
 * <class>[_<k>] with the class in snake_case and k counting that class in model order (conv2d,
 * conv2d_1, ...; weightless layers too), and its variables as vars/0, vars/1, ... in the order
 * the layer created them (BatchNormalization: gamma, beta, moving mean, moving variance). A
 * nested model is a layer with its own layers/ (layers/functional/layers/conv2d ...). So a
 * layer's kind comes from its class and its place among its kind from k; match.c pairs them in
 * Keras' order. The head comes from config.json when there is one; a .weights.h5 has none, so
 * the head is inferred from the Dense layers' shapes, its pooling from which global pooling
 * layer is listed, and the description says so.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "io/zip.h"

typedef struct walk {
  gc_h5 *f;
  const char *file;
  gc_source *src;
  int strict;     /* no config: every weightless layer must be one a supported model has */
  int avg, max;   /* global pooling layers seen */
  int rescaling;  /* a Rescaling layer seen (its factors are only in a config) */
  char *err;
  size_t errlen;
} walk;

typedef struct item {
  char cls[GC_SRC_NAME_SIZE];
  long rank;
  const char *name;
  int container; /* a nested model (it has layers/) */
  gc_h5_obj obj;
} item;

/* "batch_normalization_12" -> "batch_normalization", 12; "conv2d" -> "conv2d", 0 */
static void split_name(const char *n, item *it) {
  const char *u = strrchr(n, '_');
  int digits = u && u[1] && strlen(u + 1) <= 6;
  for (const char *p = u ? u + 1 : n; digits && *p; p++) digits = isdigit((unsigned char)*p);
  if (digits) {
    snprintf(it->cls, sizeof it->cls, "%.*s", (int)(u - n), n);
    it->rank = atol(u + 1);
  } else {
    snprintf(it->cls, sizeof it->cls, "%s", n);
    it->rank = 0;
  }
  it->name = n;
}

static int by_class_rank(const void *a, const void *b) {
  const item *x = a, *y = b;
  if (x->container != y->container) return y->container - x->container; /* nested models first */
  int c = strcmp(x->cls, y->cls);
  return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

/* Weightless layers a supported model has (no config to say what they do otherwise). */
static int known_weightless(const char *cls) {
  static const char *const k[] = {"input_layer", "activation", "add", "max_pooling2d", "global_average_pooling2d",
                                  "global_max_pooling2d", "dropout", "spatial_dropout2d", "gaussian_noise",
                                  "gaussian_dropout", "alpha_dropout", "flatten", "rescaling", "softmax", "re_lu",
                                  NULL};
  for (int i = 0; k[i]; i++)
    if (!strcmp(cls, k[i])) return 1;
  return !strncmp(cls, "random_", 7);
}

static int by_number(const void *a, const void *b) {
  const long x = atol(*(char *const *)a), y = atol(*(char *const *)b);
  return (x > y) - (x < y);
}

/* One layer's variables: vars/0 .. vars/n-1. */
static gc_status layer_vars(walk *w, gc_h5_obj layer, const char *label, const item *it) {
  char msg[GC_ERRBUF_SIZE] = "";
  const int has = gc_h5_exists(w->f, layer, "vars", msg, sizeof msg);
  gc_h5_strings vars = {0};
  gc_status st = has < 0 ? (gc_status)-has : GC_OK;
  gc_h5_obj g = {0};
  if (st == GC_OK && has) st = gc_h5_open_path(w->f, layer, "vars", &g, msg, sizeof msg);
  if (st == GC_OK && has) st = gc_h5_children(w->f, g, &vars, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(w->err, w->errlen, "%s: %s: %s", w->file, label, msg);
    return st;
  }
  for (size_t i = 0; i < vars.count && st == GC_OK; i++) {
    const char *v = vars.items[i];
    size_t k = 0;
    while (isdigit((unsigned char)v[k])) k++;
    if (!k || v[k] || k > 6) {
      gc_set_error(w->err, w->errlen, "%s: %s/vars/%s is not a numbered variable (vars/0, vars/1, ...)", w->file, label, v);
      st = GC_ERR_CONVERT;
    }
  }
  if (st == GC_OK && vars.count) qsort(vars.items, vars.count, sizeof *vars.items, by_number);
  for (size_t i = 0; i < vars.count && st == GC_OK; i++)
    if (atol(vars.items[i]) != (long)i) {
      gc_set_error(w->err, w->errlen, "%s: %s/vars/%zu is missing (the file has vars/%s): the file is damaged", w->file,
                   label, i, vars.items[i]);
      st = GC_ERR_CONVERT;
    }
  if (st == GC_OK && vars.count) {
    const gc_kind kind = gc_kind_of_class(it->cls);
    /* a class of no known kind keeps its name: match.c names it in its message */
    st = gc_source_add_layer(w->src, kind == GC_KIND_NONE ? it->name : "", label, kind);
  } else if (st == GC_OK) {
    if (!strcmp(it->cls, "global_average_pooling2d")) w->avg = 1;
    if (!strcmp(it->cls, "global_max_pooling2d")) w->max = 1;
    if (!strcmp(it->cls, "rescaling")) w->rescaling = 1;
    if (w->strict && !known_weightless(it->cls)) {
      gc_set_error(w->err, w->errlen, "%s: %s is a layer of class '%s', which a supported model does not have (the "
                   "Xception base, Rescaling, augmentation, global pooling, Dropout and Dense layers)", w->file, label,
                   it->cls);
      st = GC_ERR_CONVERT;
    }
  }
  for (size_t i = 0; i < vars.count && st == GC_OK; i++) {
    char path[GC_SRC_LABEL_SIZE];
    snprintf(path, sizeof path, "%s/vars/%s", label, vars.items[i]);
    gc_src_weight tmp, *dst;
    st = gc_h5_weight(w->f, g, vars.items[i], path, &tmp, msg, sizeof msg);
    if (st != GC_OK) gc_set_error(w->err, w->errlen, "%s: %s", w->file, msg);
    if (st == GC_OK) st = gc_source_add_weight(w->src, path, tmp.ndim, tmp.dims, &dst, w->err, w->errlen);
    if (st == GC_OK) dst->ref = tmp.ref;
  }
  gc_h5_strings_free(&vars);
  return st;
}

static gc_status walk_layers(walk *w, gc_h5_obj group, const char *label, int depth) {
  char msg[GC_ERRBUF_SIZE] = "";
  if (depth > 8) {
    gc_set_error(w->err, w->errlen, "%s: %s: models nested more than 8 deep", w->file, label);
    return GC_ERR_CONVERT;
  }
  gc_h5_strings kids = {0};
  gc_status st = gc_h5_children(w->f, group, &kids, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(w->err, w->errlen, "%s: %s: %s", w->file, label, msg);
    return st;
  }
  item *items = calloc(kids.count + 1, sizeof *items);
  if (!items) st = GC_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < kids.count && st == GC_OK; i++) {
    split_name(kids.items[i], &items[i]);
    st = gc_h5_open_path(w->f, group, kids.items[i], &items[i].obj, msg, sizeof msg);
    const int nested = st == GC_OK ? gc_h5_exists(w->f, items[i].obj, "layers", msg, sizeof msg) : 0;
    if (nested < 0) st = (gc_status)-nested;
    if (st != GC_OK) gc_set_error(w->err, w->errlen, "%s: %s/%s: %s", w->file, label, kids.items[i], msg);
    items[i].container = nested > 0;
  }
  if (st == GC_OK) qsort(items, kids.count, sizeof *items, by_class_rank);
  /* each class counted 0, 1, 2, ... without a gap */
  for (size_t i = 0; st == GC_OK && i < kids.count; i++) {
    const item *it = &items[i], *prev = i ? &items[i - 1] : NULL;
    const long want = prev && !strcmp(prev->cls, it->cls) && prev->container == it->container ? prev->rank + 1 : 0;
    if (it->rank == want) continue;
    char missing[GC_SRC_NAME_SIZE + 24];
    if (want) snprintf(missing, sizeof missing, "%s_%ld", it->cls, want);
    else snprintf(missing, sizeof missing, "%s", it->cls);
    gc_set_error(w->err, w->errlen, "%s: %s/%s is missing although %s/%s exists: Keras numbers the layers of a class "
                 "without gaps, so the file is damaged or was edited", w->file, label, missing, label, it->name);
    st = GC_ERR_CONVERT;
  }
  for (size_t i = 0; st == GC_OK && i < kids.count; i++) {
    const item *it = &items[i];
    char sub[GC_SRC_LABEL_SIZE];
    if ((size_t)snprintf(sub, sizeof sub, "%s/%s", label, it->name) >= sizeof sub) {
      gc_set_error(w->err, w->errlen, "%s: %s/%.40s...: a path longer than %d bytes", w->file, label, it->name,
                   GC_SRC_LABEL_SIZE);
      st = GC_ERR_CONVERT;
      break;
    }
    if (!it->container) {
      st = layer_vars(w, it->obj, sub, it);
      continue;
    }
    gc_h5_obj inner;
    st = gc_h5_open_path(w->f, it->obj, "layers", &inner, msg, sizeof msg);
    if (st != GC_OK) {
      gc_set_error(w->err, w->errlen, "%s: %s/layers: %s", w->file, sub, msg);
    } else {
      char inner_label[GC_SRC_LABEL_SIZE];
      snprintf(inner_label, sizeof inner_label, "%.*s/layers", (int)sizeof inner_label - 8, sub);
      st = walk_layers(w, inner, inner_label, depth + 1);
    }
  }
  free(items);
  gc_h5_strings_free(&kids);
  return st;
}

gc_status gc_keras3_read(gc_h5 *f, const char *name, const gc_json_value *config, const char *config_what,
                         gc_reader_out *out, char *err, size_t errlen) {
  walk w = {f, name, &out->source, config == NULL, 0, 0, 0, err, errlen};
  gc_h5_obj layers;
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_h5_open_path(f, gc_h5_root(f), "layers", &layers, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(err, errlen, "%s: the group 'layers' cannot be opened: %s", name, msg);
    return st;
  }
  out->format = "keras3-weights-h5";
  st = walk_layers(&w, layers, "layers", 0);
  if (st != GC_OK) return st;
  gc_source_guess_kinds(&out->source);
  if (config) return gc_kconfig_spec(config, config_what, &out->spec, err, errlen);
  st = gc_infer_head(&out->source, w.max ? GC_POOL_MAX : w.avg ? GC_POOL_AVG : GC_POOL_NONE, NULL, &out->spec, err,
                     errlen);
  if (st == GC_OK && w.rescaling)
    snprintf(out->note, sizeof out->note, "the model has a Rescaling layer whose factors only a config holds: "
             "x / 127.5 - 1 assumed");
  return st;
}

static gc_status extract(gc_zip *z, const char *archive, const char *entry, uint8_t **data, size_t *size, char *err,
                         size_t errlen) {
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_zip_extract(z, gc_zip_find(z, entry), data, size, msg, sizeof msg);
  if (st != GC_OK) gc_set_error(err, errlen, "%s: %s: %s", archive, entry, msg);
  return st;
}

gc_status gc_read_keras_zip(const char *name, const void *bytes, size_t size, gc_reader_out *out, char *err,
                            size_t errlen) {
  gc_zip *z = NULL;
  char msg[GC_ERRBUF_SIZE] = "";
  snprintf(out->source.file, sizeof out->source.file, "%s/model.weights.h5", name);
  gc_status st = gc_zip_open(bytes, size, &z, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(err, errlen, "%s: %s", name, msg);
    return st;
  }
  if (gc_zip_find(z, "model.weights.h5") < 0) {
    char list[160] = "";
    size_t n = 0;
    for (int i = 0; i < gc_zip_count(z) && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", gc_zip_name(z, i));
    gc_set_error(err, errlen, "%s is a ZIP archive without model.weights.h5, so not a Keras 3 .keras model with "
                 "weights%s (it holds: %s)", name,
                 gc_zip_find(z, "model.weights.npz") >= 0 ? " in HDF5 (weights saved as .npz are not read)" : "",
                 n ? list : "nothing");
    gc_zip_close(z);
    return GC_ERR_CONVERT;
  }
  uint8_t *h5 = NULL, *cfg = NULL;
  size_t h5_size = 0, cfg_size = 0;
  gc_json *doc = NULL;
  st = extract(z, name, "model.weights.h5", &h5, &h5_size, err, errlen);
  if (st == GC_OK && gc_zip_find(z, "config.json") >= 0) {
    st = extract(z, name, "config.json", &cfg, &cfg_size, err, errlen);
    if (st == GC_OK && (st = gc_json_parse((const char *)cfg, cfg_size, &doc, msg, sizeof msg)) != GC_OK)
      gc_set_error(err, errlen, "%s: config.json: %s", name, msg);
  }
  gc_zip_close(z);
  gc_h5 *f = NULL;
  if (st == GC_OK && (st = gc_h5_open(h5, h5_size, &f, msg, sizeof msg)) != GC_OK)
    gc_set_error(err, errlen, "%s: %s", out->source.file, msg);
  if (st == GC_OK && (st = gc_source_use_h5(&out->source, f, h5)) != GC_OK) gc_h5_close(f);
  if (st != GC_OK) free(h5); /* else the source owns it */
  if (st == GC_OK) {
    char what[GC_SRC_NAME_SIZE + 16];
    snprintf(what, sizeof what, "%s: config.json", name);
    st = gc_keras3_read(f, out->source.file, gc_json_root(doc), what, out, err, errlen);
    if (st == GC_OK && !doc)
      snprintf(out->note + strlen(out->note), sizeof out->note - strlen(out->note),
               "%sthe archive has no config.json: the head was inferred from the weights", out->note[0] ? "; " : "");
  }
  out->format = "keras3-keras";
  gc_json_free(doc);
  free(cfg);
  return st;
}
