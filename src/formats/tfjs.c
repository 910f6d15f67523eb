/* tfjs.c - TF.js layers models: model.json plus its weight shards.
 *
 * model.json holds modelTopology (the Keras model config, as is or under "model_config") and
 * weightsManifest: groups of {paths: [shard files], weights: [{name, shape, dtype,
 * quantization?}]}. A group's shards, concatenated in order, hold its weights back to back:
 * float32, or quantized (float16, or uint8 / uint16 with value = q * scale + min). A weight's
 * name is "<layer>/<weight>" (some exports put the model's name in front), so its layer is the
 * part before the last '/'. Shards are found among the files given by their name (a path's last
 * component is enough).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

enum { Q_F32 = 0, Q_F16, Q_U8, Q_U16 };
static const int kQSize[] = {4, 2, 1, 2};

typedef struct tgroup {
  int nparts;
  const uint8_t **part;
  size_t *size;
  uint64_t total;
} tgroup;

typedef struct tstate {
  int ngroups;
  tgroup *g;
} tstate;

static void tfjs_release(gc_source *s) {
  tstate *t = s->state;
  if (!t) return;
  for (int i = 0; i < t->ngroups; i++) {
    free(t->g[i].part);
    free(t->g[i].size);
  }
  free(t->g);
  free(t);
  s->state = NULL;
}

static gc_status tfjs_read(gc_source *s, const gc_src_weight *w, float *out, char *err, size_t errlen) {
  const tstate *t = s->state;
  const tgroup *g = &t->g[w->part];
  const size_t es = (size_t)kQSize[w->dtype], n = (size_t)w->count;
  uint8_t *buf = malloc(n * es);
  if (!buf) return GC_ERR_OUT_OF_MEMORY;
  /* the weight's bytes, which may cross shard boundaries (checked at start: they are there) */
  uint64_t off = w->ref, at = 0;
  size_t got = 0;
  for (int p = 0; p < g->nparts && got < n * es; p++) {
    const uint64_t end = at + g->size[p];
    if (off < end) {
      size_t take = (size_t)(end - off) < n * es - got ? (size_t)(end - off) : n * es - got;
      memcpy(buf + got, g->part[p] + (off - at), take);
      got += take;
      off += take;
    }
    at = end;
  }
  if (got != n * es) {
    free(buf);
    gc_set_error(err, errlen, "%s: weight '%s': the shards end early", s->file, w->label);
    return GC_ERR_CONVERT;
  }
  for (size_t i = 0; i < n; i++) {
    const uint8_t *b = buf + i * es;
    switch (w->dtype) {
      case Q_F32: memcpy(&out[i], b, 4); break; /* little-endian, as every target of this project */
      case Q_F16: out[i] = gc_half_to_float((uint16_t)(b[0] | b[1] << 8)); break;
      case Q_U8: out[i] = b[0] * w->q_scale + w->q_min; break;
      default: out[i] = (uint16_t)(b[0] | b[1] << 8) * w->q_scale + w->q_min; break;
    }
  }
  free(buf);
  return GC_OK;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* The file given for a shard path: by its exact name, else by its last component. */
static int find_file(const gc_import_files *files, const char *path) {
  for (int i = 1; i < files->count; i++)
    if (!strcmp(files->names[i], path)) return i;
  for (int i = 1; i < files->count; i++)
    if (!strcmp(base_name(files->names[i]), base_name(path))) return i;
  return -1;
}

static gc_status read_manifest(const gc_json_value *manifest, const gc_import_files *files, tstate *t,
                               gc_src_entry **out, int *nout, char *err, size_t errlen) {
  const char *mj = files->names[0];
  const size_t ng = gc_json_len(manifest);
  if (gc_json_type_of(manifest) != GC_JSON_ARRAY || ng == 0 || ng > 10000) {
    gc_set_error(err, errlen, "%s: weightsManifest is not a list of weight groups", mj);
    return GC_ERR_CONVERT;
  }
  t->g = calloc(ng, sizeof *t->g);
  if (!t->g) return GC_ERR_OUT_OF_MEMORY;
  t->ngroups = (int)ng;
  gc_src_entry *e = NULL;
  int ne = 0;
  gc_status st = GC_OK;
  for (size_t gi = 0; gi < ng && st == GC_OK; gi++) {
    const gc_json_value *grp = gc_json_at(manifest, gi), *paths = gc_json_get(grp, "paths");
    const gc_json_value *ws = gc_json_get(grp, "weights");
    tgroup *g = &t->g[gi];
    const size_t np = gc_json_len(paths);
    if (gc_json_type_of(paths) != GC_JSON_ARRAY || gc_json_type_of(ws) != GC_JSON_ARRAY || np > 100000) {
      gc_set_error(err, errlen, "%s: weight group %zu has no list of paths and weights", mj, gi + 1);
      return GC_ERR_CONVERT;
    }
    g->part = calloc(np + 1, sizeof *g->part);
    g->size = calloc(np + 1, sizeof *g->size);
    if (!g->part || !g->size) return GC_ERR_OUT_OF_MEMORY;
    g->nparts = (int)np;
    for (size_t p = 0; p < np; p++) {
      const char *path = gc_json_str(gc_json_at(paths, p));
      const int k = path ? find_file(files, path) : -1;
      if (k < 0) {
        gc_set_error(err, errlen, "%s lists the weight shard '%s', which was not given (give model.json first, then "
                     "every shard file it lists)", mj, path ? path : "(not a string)");
        free(e);
        return GC_ERR_CONVERT;
      }
      g->part[p] = files->bytes[k];
      g->size[p] = files->sizes[k];
      g->total += files->sizes[k];
    }
    uint64_t off = 0;
    const size_t nw = gc_json_len(ws);
    if (ne + nw > GC_SRC_MAX_WEIGHTS) {
      gc_set_error(err, errlen, "%s lists more than %d weights: not an Xception model", mj, GC_SRC_MAX_WEIGHTS);
      free(e);
      return GC_ERR_CONVERT;
    }
    gc_src_entry *ee = realloc(e, (ne + nw + 1) * sizeof *e);
    if (!ee) {
      free(e);
      return GC_ERR_OUT_OF_MEMORY;
    }
    e = ee;
    for (size_t wi = 0; wi < nw && st == GC_OK; wi++) {
      const gc_json_value *w = gc_json_at(ws, wi), *shape = gc_json_get(w, "shape"), *q = gc_json_get(w, "quantization");
      const char *name = gc_json_str(gc_json_get(w, "name")), *dtype = gc_json_str(gc_json_get(w, "dtype"));
      const char *qd = gc_json_str(gc_json_get(q, "dtype"));
      gc_src_entry *en = &e[ne];
      memset(en, 0, sizeof *en);
      int code = -1;
      if (dtype && !strcmp(dtype, "float32"))
        code = !q ? Q_F32 : !qd ? -1 : !strcmp(qd, "float16") ? Q_F16 : !strcmp(qd, "uint8") ? Q_U8
                                                                : !strcmp(qd, "uint16") ? Q_U16 : -1;
      const size_t nd = gc_json_len(shape);
      if (!name || code < 0 || gc_json_type_of(shape) != GC_JSON_ARRAY || nd < 1 || nd > GC_MAX_DIMS) {
        gc_set_error(err, errlen, "%s: weight %zu of group %zu ('%s') is not a float32 tensor (plain or quantized to "
                     "float16, uint8 or uint16) of 1 to 4 dimensions (dtype %s%s%s)", mj, wi, gi + 1,
                     name ? name : "?", dtype ? dtype : "?", qd ? ", quantized to " : "", qd ? qd : "");
        st = GC_ERR_CONVERT;
        break;
      }
      int64_t dims[GC_MAX_DIMS];
      uint64_t count = 1;
      for (size_t d = 0; d < nd && st == GC_OK; d++) {
        const double v = gc_json_num(gc_json_at(shape, d), -1);
        dims[d] = (int64_t)v;
        if (!(v >= 1 && v <= (1 << 24) && v == (double)dims[d]) || count > ((uint64_t)1 << 28)) {
          gc_set_error(err, errlen, "%s: weight '%s' has a shape that is not a list of 1 to 4 sizes of at most 2^24 "
                       "(dimension %zu)", mj, name, d);
          st = GC_ERR_CONVERT;
        }
        count *= (uint64_t)dims[d];
      }
      if (st != GC_OK) break;
      snprintf(en->w.label, sizeof en->w.label, "%s", name);
      en->w.ndim = (int)nd;
      memcpy(en->w.dims, dims, nd * sizeof *dims);
      en->w.ref = off;
      en->w.part = (int)gi;
      en->w.dtype = code;
      en->w.q_scale = (float)gc_json_num(gc_json_get(q, "scale"), 1);
      en->w.q_min = (float)gc_json_num(gc_json_get(q, "min"), 0);
      /* the layer: the name's part before the weight's own */
      const char *last = strrchr(name, '/');
      const char *start = last;
      while (start && start > name && start[-1] != '/') start--;
      snprintf(en->layer, sizeof en->layer, "%.*s", last ? (int)(last - start) : (int)strlen(name), last ? start : name);
      off += count * (uint64_t)kQSize[code]; /* at most 2^52 per weight, 4096 weights: no wrap */
      ne++;
    }
    if (st == GC_OK && off > g->total) {
      gc_set_error(err, errlen, "%s: the shards of weight group %zu ('%s'%s) hold %llu bytes, but its weights need "
                   "%llu", mj, gi + 1, np ? gc_json_str(gc_json_at(paths, 0)) : "", np > 1 ? ", ..." : "",
                   (unsigned long long)g->total, (unsigned long long)off);
      st = GC_ERR_CONVERT;
    }
  }
  if (st != GC_OK) {
    free(e);
    return st;
  }
  *out = e;
  *nout = ne;
  return GC_OK;
}

gc_status gc_read_tfjs(const gc_import_files *files, gc_reader_out *out, char *err, size_t errlen) {
  const char *mj = files->names[0];
  snprintf(out->source.file, sizeof out->source.file, "%s", mj);
  out->format = "tfjs-layers";
  gc_json *doc = NULL;
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_json_parse(files->bytes[0], files->sizes[0], &doc, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(err, errlen, "%s: %s", mj, msg);
    return st;
  }
  const gc_json_value *root = gc_json_root(doc), *topo = gc_json_get(root, "modelTopology");
  const gc_json_value *manifest = gc_json_get(root, "weightsManifest");
  const char *format = gc_json_str(gc_json_get(root, "format"));
  if (format && !strcmp(format, "graph-model")) {
    gc_set_error(err, errlen, "%s is a TF.js graph model (converted from a SavedModel), which keeps no Keras layers; "
                 "only the layers format is read (convert the Keras model with --input_format keras)", mj);
    st = GC_ERR_CONVERT;
  } else if (!manifest) {
    gc_set_error(err, errlen, "%s is JSON but not a TF.js layers model: it has no weightsManifest%s", mj,
                 gc_json_get(root, "class_name") ? " (it looks like a Keras model config alone, without weights)" : "");
    st = GC_ERR_CONVERT;
  }
  tstate *t = st == GC_OK ? calloc(1, sizeof *t) : NULL;
  if (st == GC_OK && !t) st = GC_ERR_OUT_OF_MEMORY;
  if (t) {
    out->source.state = t;
    out->source.read = tfjs_read;
    out->source.release = tfjs_release;
  }
  gc_src_entry *e = NULL;
  int ne = 0;
  if (st == GC_OK) st = read_manifest(manifest, files, t, &e, &ne, err, errlen);
  if (st == GC_OK) st = gc_source_add_grouped(&out->source, e, ne, err, errlen);
  free(e);
  if (st == GC_OK) gc_source_guess_kinds(&out->source);
  if (st == GC_OK && gc_json_get(topo, "model_config")) topo = gc_json_get(topo, "model_config");
  if (st == GC_OK && gc_json_type_of(topo) == GC_JSON_OBJECT) {
    st = gc_kconfig_spec(topo, mj, &out->spec, err, errlen);
  } else if (st == GC_OK) {
    st = gc_infer_head(&out->source, GC_POOL_NONE, NULL, &out->spec, err, errlen);
    snprintf(out->note, sizeof out->note, "model.json has no modelTopology: the head was inferred from the weights");
  }
  gc_json_free(doc);
  return st;
}
