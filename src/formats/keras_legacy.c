/* keras_legacy.c - Keras 1 and 2 HDF5 files: weights-only (save_weights, the official
 * xception_weights_tf_dim_ordering_tf_kernels.h5 and its _notop) and full models (model.save()),
 * and the dispatch of every HDF5 file to its reader (detect.c lists the rules).
 *
 * The weights group (the root, or model_weights in a full model) has the attribute layer_names:
 * every layer in model order. Each layer is a group with the attribute weight_names (empty for
 * layers without weights), and weight w of layer L is the dataset L/w: block1_conv1/kernel:0 in
 * Keras 2, block1_conv1_W:0 in Keras 1 (BatchNormalization: _gamma, _beta, _running_mean,
 * _running_std, which holds the variance). A nested model (the fine-tuning recipe's Xception
 * base inside an outer model) is one layer whose weight_names list all its layers' weights
 * (xception/block1_conv1/kernel:0 ...): they are split by the part of the name before the
 * weight's own, in the order those names first appear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "io/h5.h"
#include "io/json.h"

typedef struct h5_state {
  gc_h5 *f;
  void *owned; /* a file image this source owns (model.weights.h5 out of a .keras), or NULL */
} h5_state;

static gc_status h5_read(gc_source *s, const gc_src_weight *w, float *out, char *err, size_t errlen) {
  h5_state *st = s->state;
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status r = gc_h5_read_f32(st->f, (gc_h5_obj){w->ref}, out, w->count, msg, sizeof msg);
  if (r != GC_OK) gc_set_error(err, errlen, "%s: '%s': %s", s->file, w->label, msg);
  return r;
}

static void h5_release(gc_source *s) {
  h5_state *st = s->state;
  if (!st) return;
  gc_h5_close(st->f);
  free(st->owned);
  free(st);
  s->state = NULL;
}

gc_status gc_source_use_h5(gc_source *s, gc_h5 *f, void *owned) {
  h5_state *st = calloc(1, sizeof *st);
  if (!st) return GC_ERR_OUT_OF_MEMORY;
  st->f = f;
  st->owned = owned;
  s->state = st;
  s->read = h5_read;
  s->release = h5_release;
  return GC_OK;
}

/* A float dataset at path (relative to group) as a source weight: shape checked, ref set. */
gc_status gc_h5_weight(gc_h5 *f, gc_h5_obj group, const char *path, const char *label, gc_src_weight *w, char *err,
                       size_t errlen) {
  memset(w, 0, sizeof *w);
  snprintf(w->label, sizeof w->label, "%s", label);
  gc_h5_obj ds;
  gc_h5_dataset_info info;
  gc_status st = gc_h5_open_path(f, group, path, &ds, err, errlen);
  if (st == GC_OK) st = gc_h5_dataset_info_of(f, ds, &info, err, errlen);
  if (st != GC_OK) return st;
  if (info.type_class != GC_H5_FLOAT || info.ndim < 1 || info.ndim > GC_MAX_DIMS) {
    gc_set_error(err, errlen, "weight '%s' is %s with %d dimensions, not a float tensor of 1 to 4 dimensions", label,
                 info.type_class == GC_H5_INTEGER ? "an integer array" : info.type_class == GC_H5_STRING ? "text" : "data",
                 info.ndim);
    return GC_ERR_CONVERT;
  }
  w->ndim = info.ndim;
  for (int d = 0; d < info.ndim; d++) w->dims[d] = info.dims[d];
  w->ref = ds.addr;
  return GC_OK;
}

/* "xception/block1_conv1/kernel:0" -> "block1_conv1"; "kernel:0" or "block1_conv1_W:0" -> "" */
static void layer_part(const char *wname, char *out, size_t len) {
  const char *last = strrchr(wname, '/');
  out[0] = 0;
  if (!last) return;
  const char *start = last;
  while (start > wname && start[-1] != '/') start--;
  snprintf(out, len, "%.*s", (int)(last - start), start);
}

/* The pooling a weightless layer's name says, for heads inferred without a config. */
static gc_pool pool_of_name(const char *name) {
  if (!strcmp(name, "avg_pool") || !strncmp(name, "global_average_pooling2d", 24) ||
      !strncmp(name, "globalaveragepooling2d", 22))
    return GC_POOL_AVG;
  if (!strcmp(name, "max_pool") || !strncmp(name, "global_max_pooling2d", 20) ||
      !strncmp(name, "globalmaxpooling2d", 18))
    return GC_POOL_MAX;
  return GC_POOL_NONE;
}

static int keras1_names(const gc_h5_strings *wn) {
  for (size_t i = 0; i < wn->count; i++) {
    const char *w = wn->items[i];
    size_t n = strcspn(w, ":");
    if ((n >= 2 && !strncmp(w + n - 2, "_W", 2)) || strstr(w, "running_std")) return 1;
  }
  return 0;
}

/* The layers of a weights group into the source; the pooling its names say into *pool. */
static gc_status read_group(gc_h5 *f, gc_h5_obj group, const char *file, gc_source *src, gc_pool *pool,
                            char *pool_name, size_t pool_len, int *keras1, char *err, size_t errlen) {
  gc_h5_strings layers = {0};
  gc_src_entry *e = NULL;
  int ne = 0, cap = 0;
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_h5_attr_strings(f, group, "layer_names", &layers, msg, sizeof msg);
  if (st != GC_OK) gc_set_error(err, errlen, "%s: the attribute layer_names cannot be read: %s", file, msg);
  for (size_t i = 0; st == GC_OK && i < layers.count; i++) {
    const char *L = layers.items[i];
    gc_h5_obj g;
    gc_h5_strings wn = {0};
    st = gc_h5_open_path(f, group, L, &g, msg, sizeof msg);
    if (st != GC_OK) {
      gc_set_error(err, errlen, "%s: layer_names lists '%s', but its group cannot be opened: %s", file, L, msg);
      break;
    }
    const int has = gc_h5_has_attr(f, g, "weight_names", msg, sizeof msg);
    if (has < 0) st = (gc_status)-has;
    else if (has) st = gc_h5_attr_strings(f, g, "weight_names", &wn, msg, sizeof msg);
    if (st != GC_OK) {
      gc_set_error(err, errlen, "%s: layer '%s': the attribute weight_names cannot be read: %s", file, L, msg);
      break;
    }
    if (!wn.count && *pool == GC_POOL_NONE && (*pool = pool_of_name(L)) != GC_POOL_NONE)
      snprintf(pool_name, pool_len, "%s", L);
    *keras1 |= keras1_names(&wn);
    /* one layer, or (several layer parts in the names) a nested model */
    char first[GC_SRC_NAME_SIZE] = "", part[GC_SRC_NAME_SIZE];
    int nested = 0;
    for (size_t k = 0; k < wn.count; k++) {
      layer_part(wn.items[k], part, sizeof part);
      if (!k) snprintf(first, sizeof first, "%s", part);
      else if (strcmp(part, first)) nested = 1;
    }
    for (size_t k = 0; k < wn.count && st == GC_OK; k++) {
      if (ne == cap) {
        cap = cap ? 2 * cap : 256;
        gc_src_entry *ee = cap <= GC_SRC_MAX_WEIGHTS + 256 ? realloc(e, (size_t)cap * sizeof *e) : NULL;
        if (!ee) {
          st = cap > GC_SRC_MAX_WEIGHTS + 256 ? GC_ERR_CONVERT : GC_ERR_OUT_OF_MEMORY;
          if (st == GC_ERR_CONVERT)
            gc_set_error(err, errlen, "%s has more than %d weights: not an Xception model", file, GC_SRC_MAX_WEIGHTS);
          break;
        }
        e = ee;
      }
      gc_src_entry *en = &e[ne];
      memset(en, 0, sizeof *en);
      layer_part(wn.items[k], part, sizeof part);
      snprintf(en->layer, sizeof en->layer, "%s", nested && part[0] ? part : L);
      st = gc_h5_weight(f, g, wn.items[k], wn.items[k], &en->w, msg, sizeof msg);
      if (st != GC_OK) gc_set_error(err, errlen, "%s: layer '%s': %s", file, L, msg);
      else ne++;
    }
    gc_h5_strings_free(&wn);
  }
  if (st == GC_OK) st = gc_source_add_grouped(src, e, ne, err, errlen);
  free(e);
  gc_h5_strings_free(&layers);
  return st;
}

/* A string attribute as one text ("" when absent), malloc'ed. */
static gc_status attr_text(gc_h5 *f, gc_h5_obj obj, const char *name, char **out, char *err, size_t errlen) {
  *out = NULL;
  const int has = gc_h5_has_attr(f, obj, name, err, errlen);
  if (has <= 0) return has < 0 ? (gc_status)-has : GC_OK;
  gc_h5_strings s = {0};
  gc_status st = gc_h5_attr_strings(f, obj, name, &s, err, errlen);
  if (st == GC_OK && s.count) *out = strdup(s.items[0]);
  gc_h5_strings_free(&s);
  return st != GC_OK ? st : (s.count && !*out) ? GC_ERR_OUT_OF_MEMORY : GC_OK;
}

static gc_status read_legacy(gc_h5 *f, const char *name, int full, gc_reader_out *out, char *err, size_t errlen) {
  gc_h5_obj root = gc_h5_root(f), group = root;
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status st = GC_OK;
  if (full && (st = gc_h5_open_path(f, root, "model_weights", &group, msg, sizeof msg)) != GC_OK) {
    gc_set_error(err, errlen, "%s: the group model_weights cannot be opened: %s", name, msg);
    return st;
  }
  char *version = NULL, *config = NULL;
  st = attr_text(f, full ? root : group, "keras_version", &version, msg, sizeof msg);
  if (st == GC_OK && full) st = attr_text(f, root, "model_config", &config, msg, sizeof msg);
  if (st != GC_OK) gc_set_error(err, errlen, "%s: %s", name, msg);
  gc_pool pool = GC_POOL_NONE;
  char pool_name[GC_SPEC_NAME_SIZE] = "";
  int keras1 = version && version[0] == '1';
  if (st == GC_OK)
    st = read_group(f, group, name, &out->source, &pool, pool_name, sizeof pool_name, &keras1, err, errlen);
  if (st == GC_OK) {
    gc_source_drop_empty(&out->source);
    gc_source_guess_kinds(&out->source);
    out->format = full ? "keras2-model-h5" : keras1 ? "keras1-h5" : "keras2-h5";
  }
  if (st == GC_OK && config) {
    gc_json *doc = NULL;
    st = gc_json_parse(config, strlen(config), &doc, msg, sizeof msg);
    if (st != GC_OK) gc_set_error(err, errlen, "%s: the model_config attribute: %s", name, msg);
    else {
      char what[GC_SRC_NAME_SIZE + 32];
      snprintf(what, sizeof what, "%s: the model_config attribute", name);
      st = gc_kconfig_spec(gc_json_root(doc), what, &out->spec, err, errlen);
    }
    gc_json_free(doc);
  } else if (st == GC_OK) {
    st = gc_infer_head(&out->source, pool, pool_name, &out->spec, err, errlen);
  }
  free(version);
  free(config);
  return st;
}

gc_status gc_read_h5(const char *name, const void *bytes, size_t size, gc_reader_out *out, char *err, size_t errlen) {
  gc_h5 *f = NULL;
  char msg[GC_ERRBUF_SIZE] = "";
  snprintf(out->source.file, sizeof out->source.file, "%s", name);
  gc_status st = gc_h5_open(bytes, size, &f, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(err, errlen, "%s: %s", name, msg);
    return st;
  }
  if ((st = gc_source_use_h5(&out->source, f, NULL)) != GC_OK) {
    gc_h5_close(f);
    return st;
  }
  const gc_h5_obj root = gc_h5_root(f);
  int legacy = gc_h5_has_attr(f, root, "layer_names", msg, sizeof msg);
  int full = legacy == 0 ? gc_h5_exists(f, root, "model_weights", msg, sizeof msg) : 0;
  int k3 = legacy == 0 && full == 0 ? gc_h5_exists(f, root, "layers", msg, sizeof msg) : 0;
  if (legacy < 0 || full < 0 || k3 < 0) {
    gc_set_error(err, errlen, "%s: %s", name, msg);
    return (gc_status) - (legacy < 0 ? legacy : full < 0 ? full : k3);
  }
  if (legacy || full) return read_legacy(f, name, full, out, err, errlen);
  if (k3) return gc_keras3_read(f, name, NULL, NULL, out, err, errlen);
  /* say what is there instead */
  gc_h5_strings kids = {0}, attrs = {0};
  char list[160] = "";
  size_t n = 0;
  if (gc_h5_children(f, root, &kids, msg, sizeof msg) == GC_OK)
    for (size_t i = 0; i < kids.count && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s'%s'", n ? ", " : "", kids.items[i]);
  if (gc_h5_attr_names(f, root, &attrs, msg, sizeof msg) == GC_OK)
    for (size_t i = 0; i < attrs.count && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%sattribute '%s'", n ? ", " : "", attrs.items[i]);
  gc_set_error(err, errlen, "%s is an HDF5 file but not a Keras model: its root has no layer_names attribute and no "
               "model_weights or layers group (it has %s)", name, n ? list : "nothing");
  gc_h5_strings_free(&kids);
  gc_h5_strings_free(&attrs);
  return GC_ERR_CONVERT;
}
