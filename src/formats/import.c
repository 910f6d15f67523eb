/* import.c - the import API of gradcam.h (gc_import_*): any supported file to a .gcw v2 image.
 *
 * start: recognise the first file's container by its bytes (detect.c), let its reader fill the
 * spec and the source (keras_legacy.c, keras3.c, tfjs.c; a .gcw is read here), parse the class
 * names against the model's class count, and pair the source with the model's tensors
 * (match.c), so that every shape and structure error comes before any weight is read.
 * step: read one tensor into the project's layout. finish: the float16 range check (for f16
 * output) and the .gcw v2 image, written by gc_weights_write_model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

enum { IM_NEW = 0, IM_STARTED, IM_FAILED };

struct gc_import {
  int nfiles, cap;
  char **names;
  const void **bytes;
  size_t *sizes;
  char *labels;
  size_t labels_size;
  int has_labels;
  int state;
  gc_reader_out r;
  gc_match m;
  gc_weights gcw; /* a .gcw source: read by name */
  int is_gcw;
  float **data;
  int next;
  char **class_names;
  int nclass_names;
  char *desc;
};

gc_status gc_import_new(gc_import **out) {
  if (!out) return GC_ERR_INVALID_ARGUMENT;
  *out = calloc(1, sizeof **out);
  return *out ? GC_OK : GC_ERR_OUT_OF_MEMORY;
}

void gc_import_free(gc_import *im) {
  if (!im) return;
  for (int i = 0; i < im->nfiles; i++) free(im->names[i]);
  free(im->names);
  free(im->bytes);
  free(im->sizes);
  free(im->labels);
  gc_source_free(&im->r.source);
  gc_names_free(im->r.names, im->r.nnames);
  if (im->data)
    for (int i = 0; i < im->m.count; i++) free(im->data[i]);
  free(im->data);
  gc_match_free(&im->m);
  gc_weights_release(&im->gcw);
  gc_names_free(im->class_names, im->nclass_names);
  free(im->desc);
  free(im);
}

gc_status gc_import_add_file(gc_import *im, const char *name, const void *bytes, size_t size) {
  if (!im || !name || (!bytes && size) || im->state != IM_NEW) return GC_ERR_INVALID_ARGUMENT;
  if (im->nfiles == im->cap) {
    int cap = im->cap ? 2 * im->cap : 8;
    char **n = realloc(im->names, (size_t)cap * sizeof *n);
    if (n) im->names = n;
    const void **b = realloc(im->bytes, (size_t)cap * sizeof *b);
    if (b) im->bytes = b;
    size_t *s = realloc(im->sizes, (size_t)cap * sizeof *s);
    if (s) im->sizes = s;
    if (!n || !b || !s) return GC_ERR_OUT_OF_MEMORY;
    im->cap = cap;
  }
  if (!(im->names[im->nfiles] = strdup(name))) return GC_ERR_OUT_OF_MEMORY;
  im->bytes[im->nfiles] = bytes ? bytes : "";
  im->sizes[im->nfiles] = size;
  im->nfiles++;
  return GC_OK;
}

gc_status gc_import_set_labels(gc_import *im, const void *bytes, size_t size, char *err, size_t errlen) {
  if (!im || (!bytes && size) || im->state != IM_NEW) return GC_ERR_INVALID_ARGUMENT;
  /* checked now as text (the count only once the model is known) */
  char **names = NULL;
  int n = 0;
  gc_status st = gc_labels_parse(bytes, size, 0, &names, &n, err, errlen);
  gc_names_free(names, n);
  if (st != GC_OK) return st;
  free(im->labels);
  im->labels = malloc(size ? size : 1);
  if (!im->labels) return GC_ERR_OUT_OF_MEMORY;
  if (size) memcpy(im->labels, bytes, size);
  im->labels_size = size;
  im->has_labels = 1;
  return GC_OK;
}

static const char *const kActs[] = {"linear", "relu", "softmax", "sigmoid"};

static void describe(gc_import *im) {
  const gc_spec *s = &im->r.spec;
  gc_json_writer w = {0};
  const gc_format_info *f = gc_format_find(im->r.format);
  gc_jw_raw(&w, "{\"format\":");
  gc_jw_str(&w, im->r.format);
  gc_jw_raw(&w, ",\"source\":");
  gc_jw_str(&w, f ? f->source : "");
  gc_jw_rawf(&w, ",\"inputSize\":[%d,%d],\"classes\":%d,\"preprocessing\":", s->input_h, s->input_w,
             gc_spec_classes(s));
  if (s->pre == GC_PRE_TF) { /* Keras' preprocess_input: x / 127.5 - 1 */
    gc_jw_raw(&w, "{\"mode\":\"tf\",\"scale\":");
    gc_jw_num(&w, 1 / 127.5);
    gc_jw_raw(&w, ",\"offset\":-1");
  } else {
    gc_jw_raw(&w, "{\"mode\":\"rescale\",\"scale\":");
    gc_jw_num(&w, s->pre_scale);
    gc_jw_raw(&w, ",\"offset\":");
    gc_jw_num(&w, s->pre_offset);
  }
  /* the head in words: "avg_pool (GlobalAveragePooling2D) -> dense (Dense 256, relu) -> ..." */
  char head[512];
  size_t n = 0;
  if (s->pool == GC_POOL_NONE && !s->ndense)
    n = (size_t)snprintf(head, sizeof head, "none (the Xception base alone)");
  else if (s->pool != GC_POOL_NONE)
    n = (size_t)snprintf(head, sizeof head, "%s (%s)", s->pool_name,
                         s->pool == GC_POOL_AVG ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D");
  for (int i = 0; i < s->ndense && n < sizeof head; i++)
    n += (size_t)snprintf(head + n, sizeof head - n, " -> %s (Dense %d, %s)", s->dense[i].name, s->dense[i].units,
                          kActs[s->dense[i].act]);
  if (s->pool != GC_POOL_NONE && !s->ndense && n < sizeof head)
    snprintf(head + n, sizeof head - n, ", no classifier");
  gc_jw_raw(&w, "},\"head\":");
  gc_jw_str(&w, head);
  gc_jw_rawf(&w, ",\"inferred\":%s,\"tensors\":%d,\"labels\":%s", s->head_inferred ? "true" : "false", im->m.count,
             im->nclass_names ? "true" : "false");
  if (im->r.note[0]) {
    gc_jw_raw(&w, ",\"note\":");
    gc_jw_str(&w, im->r.note);
  }
  gc_jw_raw(&w, "}");
  if (!w.failed) im->desc = w.text;
  else gc_jw_free(&w);
}

/* A .gcw: its spec and names from the file, its tensors by their names. */
static gc_status start_gcw(gc_import *im, char *err, size_t errlen) {
  char msg[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_weights_parse(im->bytes[0], im->sizes[0], &im->gcw, msg, sizeof msg);
  if (st == GC_OK) st = gc_weights_model(&im->gcw, &im->r.spec, &im->r.names, &im->r.nnames, msg, sizeof msg);
  if (st != GC_OK) {
    gc_set_error(err, errlen, "%s: %s", im->names[0], msg);
    return st;
  }
  im->is_gcw = 1;
  im->r.format = "gcw";
  const int count = gc_spec_weight_specs(&im->r.spec, NULL, 0);
  im->m.specs = calloc((size_t)count, sizeof *im->m.specs);
  if (!im->m.specs) return GC_ERR_OUT_OF_MEMORY;
  im->m.count = count;
  gc_spec_weight_specs(&im->r.spec, im->m.specs, count);
  return GC_OK;
}

static gc_status start(gc_import *im, int *total, char *err, size_t errlen) {
  if (!im->nfiles) {
    gc_set_error(err, errlen, "no file was given");
    return GC_ERR_INVALID_ARGUMENT;
  }
  char what[160];
  const char *name = im->names[0];
  gc_status st;
  switch (gc_detect_container(im->bytes[0], im->sizes[0], what, sizeof what)) {
    case GC_CONTAINER_GCW: st = start_gcw(im, err, errlen); break;
    case GC_CONTAINER_HDF5: st = gc_read_h5(name, im->bytes[0], im->sizes[0], &im->r, err, errlen); break;
    case GC_CONTAINER_ZIP: st = gc_read_keras_zip(name, im->bytes[0], im->sizes[0], &im->r, err, errlen); break;
    case GC_CONTAINER_JSON: {
      const gc_import_files files = {im->nfiles, (const char *const *)im->names, im->bytes, im->sizes};
      st = gc_read_tfjs(&files, &im->r, err, errlen);
      break;
    }
    default:
      gc_set_error(err, errlen, "%s is %s, not a model file read here (Keras .h5, .weights.h5 or .keras, a TF.js "
                   "model.json, or a .gcw)", name, what);
      return GC_ERR_CONVERT;
  }
  if (st == GC_OK && im->nfiles > 1 && strcmp(im->r.format, "tfjs-layers") != 0) {
    gc_set_error(err, errlen, "%s is a single-file format; the other files given (%s ...) are not used", name,
                 im->names[1]);
    st = GC_ERR_INVALID_ARGUMENT;
  }
  if (st == GC_OK && !im->is_gcw) { /* what the file was, kept in the .gcw for the model's info */
    const gc_format_info *f = gc_format_find(im->r.format);
    snprintf(im->r.spec.source, sizeof im->r.spec.source, "%s", f ? f->source : im->r.format);
  }
  if (st == GC_OK) {
    char msg[GC_ERRBUF_SIZE] = "";
    if ((st = gc_spec_check(&im->r.spec, msg, sizeof msg)) != GC_OK) gc_set_error(err, errlen, "%s: %s", name, msg);
  }
  const int classes = gc_spec_classes(&im->r.spec);
  if (st == GC_OK && im->has_labels) {
    if (!classes) {
      gc_set_error(err, errlen, "class names were given, but the model in %s has no classifier (a notop file)", name);
      st = GC_ERR_LABELS;
    } else {
      st = gc_labels_parse(im->labels, im->labels_size, classes, &im->class_names, &im->nclass_names, err, errlen);
    }
  } else if (st == GC_OK && im->r.nnames) { /* the names a .gcw v2 carries */
    im->class_names = im->r.names;
    im->nclass_names = im->r.nnames;
    im->r.names = NULL;
    im->r.nnames = 0;
  }
  if (st == GC_OK && !im->is_gcw) st = gc_match_source(&im->r.spec, &im->r.source, &im->m, err, errlen);
  if (st == GC_OK && !(im->data = calloc((size_t)im->m.count, sizeof *im->data))) st = GC_ERR_OUT_OF_MEMORY;
  if (st != GC_OK) return st;
  describe(im);
  *total = im->m.count;
  return GC_OK;
}

/* Every message names the file: the main file's name in front of one that does not already. */
static gc_status named(const gc_import *im, gc_status st, char *err, size_t errlen) {
  if (st == GC_OK || !err || !errlen || !im->nfiles || strstr(err, im->names[0])) return st;
  char msg[GC_ERRBUF_SIZE];
  snprintf(msg, sizeof msg, "%s", err);
  gc_set_error(err, errlen, "%s: %s", im->names[0], msg);
  return st;
}

gc_status gc_import_start(gc_import *im, int *total, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!im || !total || im->state != IM_NEW) return GC_ERR_INVALID_ARGUMENT;
  *total = 0;
  gc_status st = named(im, start(im, total, err, errlen), err, errlen);
  im->state = st == GC_OK ? IM_STARTED : IM_FAILED;
  return st;
}

gc_status gc_import_step(gc_import *im, int *done, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!im || !done || im->state != IM_STARTED) return GC_ERR_INVALID_ARGUMENT;
  *done = im->next >= im->m.count;
  if (*done) return GC_OK;
  const int i = im->next;
  gc_status st;
  if (im->is_gcw) {
    char msg[GC_ERRBUF_SIZE] = "";
    st = gc_weights_get(&im->gcw, im->m.specs[i].name, im->m.specs[i].ndim, im->m.specs[i].dims, &im->data[i], msg,
                        sizeof msg);
    if (st != GC_OK) gc_set_error(err, errlen, "%s: %s", im->names[0], msg);
  } else {
    st = gc_match_read(&im->m, &im->r.source, i, &im->data[i], err, errlen);
  }
  if (st != GC_OK) {
    im->state = IM_FAILED;
    return named(im, st, err, errlen);
  }
  im->next++;
  *done = im->next >= im->m.count;
  return GC_OK;
}

gc_status gc_import_finish(gc_import *im, gc_dtype dtype, void **bytes, size_t *size, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!im || !bytes || !size || (dtype != GC_DTYPE_F32 && dtype != GC_DTYPE_F16) || im->state != IM_STARTED)
    return GC_ERR_INVALID_ARGUMENT;
  *bytes = NULL;
  *size = 0;
  for (int done = im->next >= im->m.count; !done;) { /* the steps the caller left */
    gc_status st = gc_import_step(im, &done, err, errlen);
    if (st != GC_OK) return st;
  }
  if (dtype == GC_DTYPE_F16) {
    gc_status st = gc_check_f16(im->m.specs, im->data, im->m.count, err, errlen);
    if (st != GC_OK) return named(im, st, err, errlen);
  }
  return named(im,
               gc_weights_write_model(&im->r.spec, (const char *const *)im->class_names, im->nclass_names, im->m.specs,
                                      (const float *const *)im->data, im->m.count, dtype, bytes, size, err, errlen),
               err, errlen);
}

const char *gc_import_describe(const gc_import *im) { return im && im->desc ? im->desc : NULL; }

gc_status gc_import_memory(const void *bytes, size_t size, const void *labels, size_t labels_size, gc_dtype dtype,
                           void **gcw, size_t *gcw_size, char *err, size_t errlen) {
  if (gcw) *gcw = NULL;
  if (gcw_size) *gcw_size = 0;
  gc_import *im = NULL;
  int total;
  gc_status st = gc_import_new(&im);
  if (st == GC_OK) st = gc_import_add_file(im, "the file", bytes, size);
  if (st == GC_OK && labels) st = gc_import_set_labels(im, labels, labels_size, err, errlen);
  if (st == GC_OK) st = gc_import_start(im, &total, err, errlen);
  if (st == GC_OK) st = gc_import_finish(im, dtype, gcw, gcw_size, err, errlen);
  gc_import_free(im);
  return st;
}
