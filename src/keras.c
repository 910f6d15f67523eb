/* keras.c - the converter of gradcam.h (gc_converter_*): Keras Xception weights handed over one
 * tensor at a time, with their layer and weight names, in the source file's order, into a .gcw
 * v2 image. The tensors become a source (formats/formats.h) whose layers are runs of tensors of
 * one layer name; the head is inferred from the Dense layers' shapes (no config comes this way)
 * and the tensors are paired with the model's as for any imported file (formats/match.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

struct gc_converter {
  gc_source src;
  float **data; /* per source weight, copied */
  int cap;
};

static gc_status conv_read(gc_source *s, const gc_src_weight *w, float *out, char *err, size_t errlen) {
  (void)err, (void)errlen;
  const gc_converter *c = s->state;
  memcpy(out, c->data[w->ref], (size_t)w->count * sizeof *out);
  return GC_OK;
}

gc_status gc_converter_new(gc_converter **out) {
  if (!out) return GC_ERR_INVALID_ARGUMENT;
  gc_converter *c = calloc(1, sizeof *c);
  if (!c) return GC_ERR_OUT_OF_MEMORY;
  gc_source_init(&c->src);
  c->src.state = c;
  c->src.read = conv_read;
  snprintf(c->src.file, sizeof c->src.file, "the converter's tensors");
  *out = c;
  return GC_OK;
}

void gc_converter_free(gc_converter *c) {
  if (!c) return;
  for (int i = 0; i < c->src.nweights; i++) free(c->data[i]);
  free(c->data);
  gc_source_free(&c->src);
  free(c);
}

gc_status gc_converter_add(gc_converter *c, const char *layer, const char *weight, int ndim, const int64_t *shape,
                           const float *data) {
  if (!c || !layer || !weight || !shape || !data || ndim < 1 || ndim > GC_MAX_DIMS ||
      strlen(layer) >= GC_SRC_NAME_SIZE)
    return GC_ERR_INVALID_ARGUMENT;
  gc_source *s = &c->src;
  if (!s->nlayers || strcmp(s->layers[s->nlayers - 1].name, layer) != 0) {
    char label[GC_SRC_LABEL_SIZE];
    snprintf(label, sizeof label, "layer '%s'", layer);
    gc_status st = gc_source_add_layer(s, layer, label, GC_KIND_NONE);
    if (st != GC_OK) return st;
  }
  if (c->cap == s->nweights) {
    int cap = c->cap ? 2 * c->cap : 256;
    float **d = realloc(c->data, (size_t)cap * sizeof *d);
    if (!d) return GC_ERR_OUT_OF_MEMORY;
    c->data = d;
    c->cap = cap;
  }
  char label[GC_SRC_LABEL_SIZE];
  snprintf(label, sizeof label, "%s/%s", layer, weight);
  gc_src_weight *w;
  gc_status st = gc_source_add_weight(s, label, ndim, shape, &w, NULL, 0);
  if (st == GC_ERR_CONVERT) return GC_ERR_INVALID_ARGUMENT; /* a shape no tensor can have */
  if (st != GC_OK) return st;
  w->ref = (uint64_t)(s->nweights - 1);
  c->data[w->ref] = malloc((size_t)w->count * sizeof(float));
  if (!c->data[w->ref]) {
    s->nweights--;
    s->layers[s->nlayers - 1].count--;
    return GC_ERR_OUT_OF_MEMORY;
  }
  memcpy(c->data[w->ref], data, (size_t)w->count * sizeof(float));
  return GC_OK;
}

gc_status gc_converter_finish(gc_converter *c, gc_dtype dtype, void **bytes, size_t *size, char *err, size_t errlen) {
  if (!c || !bytes || !size || (dtype != GC_DTYPE_F32 && dtype != GC_DTYPE_F16)) return GC_ERR_INVALID_ARGUMENT;
  *bytes = NULL;
  *size = 0;
  gc_source_drop_empty(&c->src); /* a layer whose only tensor was refused */
  gc_source_guess_kinds(&c->src);
  gc_spec spec;
  gc_match m;
  gc_status st = gc_infer_head(&c->src, GC_POOL_NONE, NULL, &spec, err, errlen);
  if (st == GC_OK) st = gc_match_source(&spec, &c->src, &m, err, errlen);
  if (st != GC_OK) return st;
  float **data = calloc((size_t)m.count, sizeof *data);
  if (!data) st = GC_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < m.count && st == GC_OK; i++) st = gc_match_read(&m, &c->src, i, &data[i], err, errlen);
  if (st == GC_OK && dtype == GC_DTYPE_F16) st = gc_check_f16(m.specs, data, m.count, err, errlen);
  if (st == GC_OK)
    st = gc_weights_write_model(&spec, NULL, 0, m.specs, (const float *const *)data, m.count, dtype, bytes, size, err,
                                errlen);
  for (int i = 0; data && i < m.count; i++) free(data[i]);
  free(data);
  gc_match_free(&m);
  return st;
}
