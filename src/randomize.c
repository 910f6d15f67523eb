/* randomize.c - the model parameter randomisation test (Adebayo et al. 2018, "Sanity checks for
 * saliency maps"): a copy of a weights file whose layers from one layer to the output carry
 * fresh random weights, cascading from the top as the paper does. A map that barely changes
 * when the weights it explains are random does not show what the model learned. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static uint32_t next(uint32_t *s) { /* xorshift32 */
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* Fresh values for one tensor: kernels uniform with variance 1 / fan-in (so activations keep
 * their scale), batch norms the identity (gamma 1, beta 0, mean 0, variance 1), biases 0. */
static void fresh(const gc_tensor_spec *t, float *d, uint32_t *s) {
  const size_t n = gc_tensor_count(t->ndim, t->dims);
  const char *part = strrchr(t->name, '/') + 1;
  if (!strcmp(part, "kernel") || !strcmp(part, "pointwise_kernel") || !strcmp(part, "depthwise_kernel")) {
    const size_t fan_in = !strcmp(part, "depthwise_kernel") ? (size_t)t->dims[1] * t->dims[2] : n / (size_t)t->dims[0];
    const float a = sqrtf(3.0f / (float)fan_in);
    for (size_t i = 0; i < n; i++) d[i] = a * ((float)(next(s) >> 8) / 8388608.0f - 1.0f);
  } else {
    const float v = !strcmp(part, "gamma") || !strcmp(part, "moving_variance") ? 1.0f : 0.0f;
    for (size_t i = 0; i < n; i++) d[i] = v;
  }
}

gc_status gc_weights_randomized(const void *gcw, size_t size, const char *from_layer, uint32_t seed, void **out,
                                size_t *out_size, char *err, size_t errlen) {
  if (!gcw || !from_layer || !out || !out_size) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  *out_size = 0;
  gc_weights w;
  gc_status s = gc_weights_parse(gcw, size, &w, err, errlen);
  if (s != GC_OK) return s;
  gc_spec spec;
  char **names = NULL;
  int nnames = 0, count = 0, from = -1;
  gc_net net = {0};
  gc_tensor_spec *specs = NULL;
  float **data = NULL;
  if ((s = gc_weights_model(&w, &spec, &names, &nnames, err, errlen)) != GC_OK) goto done;
  if ((s = gc_net_build(&spec, &net, err, errlen)) != GC_OK) goto done;
  from = gc_net_find(&net, from_layer);
  if (from < 0) from = gc_net_find_preact(&net, from_layer);
  if (from < 0) {
    gc_set_error(err, errlen, "no layer named '%s'", from_layer);
    s = GC_ERR_LAYER_UNKNOWN;
    goto done;
  }
  count = gc_spec_weight_specs(&spec, NULL, 0);
  specs = calloc((size_t)count, sizeof *specs);
  data = calloc((size_t)count, sizeof *data);
  if (!specs || !data) {
    s = GC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  gc_spec_weight_specs(&spec, specs, count);
  /* the rows from `from` on own these weight prefixes */
  uint32_t st = seed ? seed : 1;
  for (int i = 0; i < count && s == GC_OK; i++) {
    s = gc_weights_get(&w, specs[i].name, specs[i].ndim, specs[i].dims, &data[i], err, errlen);
    const char *slash = strchr(specs[i].name, '/');
    const size_t plen = slash ? (size_t)(slash - specs[i].name) : 0;
    int later = 0;
    for (int r = from; r < net.nrows && !later; r++) {
      const gc_layer_def *d = net.rows[r].def;
      later = (d->weights && strlen(d->weights) == plen && !strncmp(d->weights, specs[i].name, plen)) ||
              (d->bn && strlen(d->bn) == plen && !strncmp(d->bn, specs[i].name, plen));
    }
    if (s == GC_OK && later) fresh(&specs[i], data[i], &st);
  }
  const gc_dtype dtype = w.count ? (gc_dtype)w.entries[0].dtype : GC_DTYPE_F32;
  if (s == GC_OK)
    s = gc_weights_write_model(&spec, (const char *const *)names, nnames, specs, (const float *const *)data, count,
                               dtype, out, out_size, err, errlen);
done:
  for (int i = 0; data && i < count; i++) free(data[i]);
  free(data);
  free(specs);
  gc_net_free(&net);
  gc_names_free(names, nnames);
  gc_weights_release(&w);
  return s;
}

gc_status gc_model_randomized(const gc_model *m, const char *from_layer, uint32_t seed, void **out, size_t *out_size,
                              char *err, size_t errlen) {
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  if (out) *out = NULL;
  uint8_t *file = NULL;
  gc_status s = gc_model_weights_file(m, &file, err, errlen);
  if (s == GC_OK) s = gc_weights_randomized(file, m->wbytes_size, from_layer, seed, out, out_size, err, errlen);
  if (file != m->wbytes) free(file);
  return s;
}
