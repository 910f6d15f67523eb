/* test_import.c - whole files of every layout through the import API (gc_import_*), against
 * what tests/c/formats_gen.py wrote (ctest runs it first, into $GRADCAM_TEST_DATA/formats):
 * the description (format, input size, classes, head, inferred or not, preprocessing), and every
 * element of every tensor of the .gcw written, in the project's layout, against the value the
 * generator put at the matching Keras position (value = id(name) + ((i % 251) + 1) / 512).
 * Also the step API (total, done, progress) and labels given to an import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/json.h"
#include "spec.h"
#include "synth.h"

static char g_dir[4096];

static unsigned char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return b;
}

static uint32_t fnv1a32(const char *s) {
  uint32_t h = 0x811c9dc5u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x01000193u;
  return h;
}

/* The Keras-layout flat index of element e of a project tensor. */
static size_t keras_index(const gc_tensor_spec *sp, size_t e) {
  const char *w = strrchr(sp->name, '/') + 1;
  if (sp->ndim == 4 && strcmp(w, "depthwise_kernel") != 0) { /* [O][H][W][I] from [H][W][I][O] */
    const size_t O = (size_t)sp->dims[0], HWI = gc_tensor_count(sp->ndim, sp->dims) / O;
    return (e % HWI) * O + e / HWI;
  }
  if (sp->ndim == 2) { /* [O][I] from [I][O] */
    const size_t O = (size_t)sp->dims[0], I = (size_t)sp->dims[1];
    return (e % I) * O + e / I;
  }
  return e;
}

/* Every tensor of the written file holds the generator's values at the right places. */
static void check_values(const char *what, const void *gcw, size_t size, const gc_spec *spec) {
  gc_weights w;
  char err[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_weights_parse(gcw, size, &w, err, sizeof err);
  CHECK(st == GC_OK, "%s: the .gcw written parses: %s", what, err);
  if (st != GC_OK) return;
  /* the model it carries */
  gc_spec got;
  char **names = NULL;
  int nnames = 0;
  st = gc_weights_model(&w, &got, &names, &nnames, err, sizeof err);
  CHECK(st == GC_OK && w.version == 2, "%s: a .gcw v2 with its model (version %u): %s", what, w.version, err);
  CHECK(got.input_h == spec->input_h && got.input_w == spec->input_w && got.pool == spec->pool &&
            got.ndense == spec->ndense && gc_spec_classes(&got) == gc_spec_classes(spec) &&
            got.head_inferred == spec->head_inferred && got.pre == spec->pre,
        "%s: the stored model: %dx%d, pool %d, %d Dense, %d classes, inferred %d, preprocessing %d", what, got.input_h,
        got.input_w, (int)got.pool, got.ndense, gc_spec_classes(&got), got.head_inferred, (int)got.pre);
  for (int k = 0; k < got.ndense && k < spec->ndense; k++)
    CHECK(got.dense[k].units == spec->dense[k].units, "%s: Dense %d has %d units", what, k, got.dense[k].units);
  if (spec->pre == GC_PRE_RESCALE)
    CHECK(got.pre_scale == spec->pre_scale && got.pre_offset == spec->pre_offset, "%s: rescaling %g %g", what,
          got.pre_scale, got.pre_offset);
  CHECK(got.source[0] != 0, "%s: the source is named", what);
  gc_names_free(names, nnames);
  const int n = gc_spec_weight_specs(spec, NULL, 0);
  gc_tensor_spec *specs = calloc((size_t)n, sizeof *specs);
  gc_spec_weight_specs(spec, specs, n);
  int floats = 0; /* the tensors (the model and class names are entries of another dtype) */
  for (uint32_t i = 0; i < w.count; i++) floats += w.entries[i].dtype == GC_DTYPE_F32 || w.entries[i].dtype == GC_DTYPE_F16;
  CHECK(floats == n, "%s: %d tensors, the model needs %d", what, floats, n);
  int bad_tensors = 0;
  for (int i = 0; i < n; i++) {
    float *d = NULL;
    st = gc_weights_get(&w, specs[i].name, specs[i].ndim, specs[i].dims, &d, err, sizeof err);
    CHECK(st == GC_OK, "%s: %s: %s", what, specs[i].name, err);
    if (st != GC_OK) continue;
    const float id = (float)(fnv1a32(specs[i].name) % 1000);
    const size_t count = gc_tensor_count(specs[i].ndim, specs[i].dims);
    size_t bad = 0, first = 0;
    for (size_t e = 0; e < count; e++) {
      const float want = id + (float)((keras_index(&specs[i], e) % 251) + 1) / 512.0f;
      if (d[e] != want && !bad++) first = e;
    }
    if (bad && bad_tensors++ < 5)
      CHECK(0, "%s: %s: %zu of %zu elements differ (first at %zu: %g, want %g)", what, specs[i].name, bad, count,
            first, d[first], id + (float)((keras_index(&specs[i], first) % 251) + 1) / 512.0f);
    free(d);
  }
  CHECK(bad_tensors == 0, "%s: %d tensors with wrong values", what, bad_tensors);
  free(specs);
  gc_weights_release(&w);
}

/* The description against the .expect file; the spec it implies into *spec. */
static void check_description(const char *what, const char *desc, const gc_json_value *want, gc_spec *spec) {
  gc_json *doc = NULL;
  gc_status st = gc_json_parse(desc, strlen(desc), &doc, NULL, 0);
  CHECK(st == GC_OK, "%s: the description is JSON: %s", what, desc);
  const gc_json_value *d = gc_json_root(doc);
  CHECK(!strcmp(gc_json_str(gc_json_get(d, "format")), gc_json_str(gc_json_get(want, "format"))),
        "%s: format %s", what, desc);
  const gc_json_value *in = gc_json_get(d, "inputSize"), *win = gc_json_get(want, "input");
  CHECK(gc_json_num(gc_json_at(in, 0), 0) == gc_json_num(gc_json_at(win, 0), 1) &&
            gc_json_num(gc_json_at(in, 1), 0) == gc_json_num(gc_json_at(win, 1), 1),
        "%s: input size %s", what, desc);
  CHECK(gc_json_num(gc_json_get(d, "classes"), -1) == gc_json_num(gc_json_get(want, "classes"), -2),
        "%s: classes %s", what, desc);
  CHECK(gc_json_bool(gc_json_get(d, "inferred"), -1) == gc_json_bool(gc_json_get(want, "inferred"), -2),
        "%s: inferred %s", what, desc);
  const char *head = gc_json_str(gc_json_get(d, "head"));
  const char *pool = gc_json_str(gc_json_get(want, "pool"));
  CHECK(head && (!strcmp(pool, "none") ? strstr(head, "none") != NULL
                 : strstr(head, !strcmp(pool, "avg") ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D") != NULL),
        "%s: pooling %s in %s", what, pool, head ? head : "(none)");
  const gc_json_value *dense = gc_json_get(want, "dense");
  for (size_t k = 0; k < gc_json_len(dense); k++) {
    char unit[32];
    snprintf(unit, sizeof unit, "(Dense %d,", (int)gc_json_num(gc_json_at(gc_json_at(dense, k), 0), 0));
    CHECK(head && strstr(head, unit), "%s: %s in %s", what, unit, head ? head : "");
  }
  spec->pre = GC_PRE_TF;
  if (gc_json_get(want, "scale")) {
    spec->pre = GC_PRE_RESCALE;
    spec->pre_scale = (float)gc_json_num(gc_json_get(want, "scale"), 0);
    spec->pre_offset = (float)gc_json_num(gc_json_get(want, "offset"), 0);
    const gc_json_value *pre = gc_json_get(d, "preprocessing");
    CHECK((float)gc_json_num(gc_json_get(pre, "scale"), 0) == (float)gc_json_num(gc_json_get(want, "scale"), 1) &&
              (float)gc_json_num(gc_json_get(pre, "offset"), 9) == (float)gc_json_num(gc_json_get(want, "offset"), 8),
          "%s: preprocessing %s", what, desc);
  }
  /* the spec this describes, for the tensor names and shapes */
  const gc_preprocess pre = spec->pre;
  const float pre_scale = spec->pre_scale, pre_offset = spec->pre_offset;
  gc_spec_notop(spec);
  spec->pre = pre, spec->pre_scale = pre_scale, spec->pre_offset = pre_offset;
  spec->head_inferred = gc_json_bool(gc_json_get(want, "inferred"), 0);
  spec->input_h = (int)gc_json_num(gc_json_at(win, 0), 299);
  spec->input_w = (int)gc_json_num(gc_json_at(win, 1), 299);
  spec->pool = !strcmp(pool, "none") ? GC_POOL_NONE : !strcmp(pool, "avg") ? GC_POOL_AVG : GC_POOL_MAX;
  snprintf(spec->pool_name, sizeof spec->pool_name, "pool");
  spec->ndense = (int)gc_json_len(dense);
  for (int k = 0; k < spec->ndense; k++) {
    snprintf(spec->dense[k].name, sizeof spec->dense[k].name, "dense%d", k);
    spec->dense[k].units = (int)gc_json_num(gc_json_at(gc_json_at(dense, (size_t)k), 0), 0);
    spec->dense[k].act = k == spec->ndense - 1 ? GC_ACT_SOFTMAX : GC_ACT_RELU;
  }
  gc_json_free(doc);
}

/* One generated file (and, for TF.js, its shards) through the step API. */
static void import_file(const char *rel, const char *const *extra, int nextra) {
  char path[4400], epath[4416];
  snprintf(path, sizeof path, "%s/%s", g_dir, rel);
  snprintf(epath, sizeof epath, "%s.expect", path);
  size_t size = 0, esize = 0;
  unsigned char *bytes = slurp(path, &size), *ebytes = slurp(epath, &esize);
  CHECK(bytes && ebytes, "%s and its .expect exist (written by formats_gen.py)", path);
  if (!bytes || !ebytes) {
    free(bytes), free(ebytes);
    return;
  }
  gc_json *expect = NULL;
  gc_json_parse((const char *)ebytes, esize, &expect, NULL, 0);
  unsigned char *shard[4] = {0};
  gc_import *im = NULL;
  char err[GC_ERRBUF_SIZE] = "";
  CHECK_STATUS(gc_import_new(&im), GC_OK);
  CHECK_STATUS(gc_import_add_file(im, rel, bytes, size), GC_OK);
  for (int i = 0; i < nextra; i++) {
    char sp[4400];
    size_t ss = 0;
    snprintf(sp, sizeof sp, "%s/%s", g_dir, extra[i]);
    shard[i] = slurp(sp, &ss);
    CHECK(shard[i] != NULL, "%s exists", sp);
    CHECK_STATUS(gc_import_add_file(im, strrchr(extra[i], '/') + 1, shard[i], ss), GC_OK);
  }
  int total = 0, done = 0, steps = 0;
  gc_status st = gc_import_start(im, &total, err, sizeof err);
  CHECK(st == GC_OK, "%s: start: %s: %s", rel, gc_status_to_string(st), err);
  gc_spec spec;
  if (st == GC_OK) {
    check_description(rel, gc_import_describe(im), gc_json_root(expect), &spec);
    CHECK(total == gc_spec_weight_specs(&spec, NULL, 0), "%s: %d steps for %d tensors", rel, total,
          gc_spec_weight_specs(&spec, NULL, 0));
    while (!done && st == GC_OK && steps <= total) {
      st = gc_import_step(im, &done, err, sizeof err);
      steps++;
    }
    CHECK(st == GC_OK && done && steps == total, "%s: %d steps of %d, done %d: %s", rel, steps, total, done, err);
    void *gcw = NULL;
    size_t gsize = 0;
    st = gc_import_finish(im, GC_DTYPE_F32, &gcw, &gsize, err, sizeof err);
    CHECK(st == GC_OK, "%s: finish: %s", rel, err);
    if (st == GC_OK) check_values(rel, gcw, gsize, &spec);
    gc_free(gcw);
  }
  gc_import_free(im);
  gc_json_free(expect);
  for (int i = 0; i < nextra; i++) free(shard[i]);
  free(bytes);
  free(ebytes);
}

/* Labels with the import: counted against the model's classes. */
static void import_labels(void) {
  char path[4400];
  snprintf(path, sizeof path, "%s/k3-gmp-sigmoid.weights.h5", g_dir);
  size_t size = 0;
  unsigned char *bytes = slurp(path, &size);
  if (!bytes) return;
  char err[GC_ERRBUF_SIZE] = "";
  void *gcw = NULL;
  size_t gsize = 0;
  /* Dense(1): two classes */
  CHECK_STATUS(gc_import_memory(bytes, size, "cat\ndog\n", 8, GC_DTYPE_F16, &gcw, &gsize, err, sizeof err), GC_OK);
  gc_free(gcw);
  CHECK_STATUS(gc_import_memory(bytes, size, "cat\ndog\nbird\n", 13, GC_DTYPE_F16, &gcw, &gsize, err, sizeof err),
               GC_ERR_LABELS);
  CHECK(strstr(err, "3 class names; the model has 2 classes") != NULL, "count message: %s", err);
  CHECK(gcw == NULL && gsize == 0, "nothing written on failure");
  free(bytes);
  /* a notop model takes no labels */
  snprintf(path, sizeof path, "%s/k2-notop.h5", g_dir);
  bytes = slurp(path, &size);
  if (!bytes) return;
  CHECK_STATUS(gc_import_memory(bytes, size, "[\"a\"]", 5, GC_DTYPE_F16, &gcw, &gsize, err, sizeof err), GC_ERR_LABELS);
  CHECK(strstr(err, "no classifier") != NULL, "notop message: %s", err);
  free(bytes);
}

/* .gcw files: a v1 (the ImageNet model) becomes a v2 with the same tensors; a v2 keeps its model
 * and class names, and labels given replace the names. */
static void import_gcw(void) {
  char err[GC_ERRBUF_SIZE] = "";
  synth w;
  void *v1 = NULL, *out = NULL;
  size_t v1_size = 0, out_size = 0;
  CHECK(synth_make(&w, 3) == 0 && synth_write(&w, GC_DTYPE_F32, &v1, &v1_size) == GC_OK, "a v1 file");
  CHECK_STATUS(gc_import_memory(v1, v1_size, NULL, 0, GC_DTYPE_F32, &out, &out_size, err, sizeof err), GC_OK);
  gc_weights g;
  gc_spec spec;
  char **names = NULL;
  int nnames = 0, same = 1;
  CHECK(out && gc_weights_parse(out, out_size, &g, err, sizeof err) == GC_OK, "the v2 parses: %s", err);
  if (out) {
    CHECK(g.version == 2 && gc_weights_model(&g, &spec, &names, &nnames, err, sizeof err) == GC_OK &&
              gc_spec_is_imagenet(&spec) && nnames == 0,
          "v1 -> v2 of the ImageNet model without names");
    for (int i = 0; i < w.count && same; i++) {
      float *d = NULL;
      same = gc_weights_get(&g, w.specs[i].name, w.specs[i].ndim, w.specs[i].dims, &d, err, sizeof err) == GC_OK &&
             !memcmp(d, w.data[i], gc_tensor_count(w.specs[i].ndim, w.specs[i].dims) * sizeof(float));
      free(d);
    }
    CHECK(same, "every tensor of the v1 file is in the v2 file unchanged");
    gc_weights_release(&g);
  }
  gc_free(out);
  gc_free(v1);
  synth_free(&w);

  /* a v2 with a head of its own and class names */
  gc_spec_notop(&spec);
  spec.pool = GC_POOL_MAX;
  snprintf(spec.pool_name, sizeof spec.pool_name, "gmp");
  spec.ndense = 1;
  snprintf(spec.dense[0].name, sizeof spec.dense[0].name, "out");
  spec.dense[0].units = 3;
  spec.dense[0].act = GC_ACT_SOFTMAX;
  const char *const own[3] = {"ant", "bee", "cow"};
  void *v2 = NULL;
  size_t v2_size = 0;
  CHECK(synth_make_spec(&w, 5, &spec) == 0, "synthetic head");
  CHECK_STATUS(gc_weights_write_model(&spec, own, 3, w.specs, (const float *const *)w.data, w.count, GC_DTYPE_F16,
                                      &v2, &v2_size, err, sizeof err),
               GC_OK);
  for (int labels = 0; labels < 2; labels++) {
    const char *text = "[\"x\", \"y\", \"z\"]";
    CHECK_STATUS(gc_import_memory(v2, v2_size, labels ? text : NULL, labels ? strlen(text) : 0, GC_DTYPE_F16, &out,
                                  &out_size, err, sizeof err),
                 GC_OK);
    gc_spec got;
    if (out && gc_weights_parse(out, out_size, &g, err, sizeof err) == GC_OK) {
      CHECK(gc_weights_model(&g, &got, &names, &nnames, err, sizeof err) == GC_OK && got.pool == GC_POOL_MAX &&
                got.dense[0].units == 3 && nnames == 3 && !strcmp(names[1], labels ? "y" : "bee"),
            "a v2 keeps its model; names %s", labels ? "replaced by the labels" : "kept");
      gc_names_free(names, nnames);
      gc_weights_release(&g);
    }
    gc_free(out);
  }
  gc_free(v2);
  synth_free(&w);
}

/* A file the import must refuse, with its status and the words of its message. */
static void import_error(const char *rel, gc_status want, const char *words) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", g_dir, rel);
  size_t size = 0;
  unsigned char *bytes = slurp(path, &size);
  CHECK(bytes != NULL, "%s exists", path);
  char err[GC_ERRBUF_SIZE] = "";
  void *gcw = NULL;
  size_t gsize = 0;
  gc_import *im = NULL;
  int total = -1;
  gc_import_new(&im);
  gc_import_add_file(im, rel, bytes, size);
  gc_status st = gc_import_start(im, &total, err, sizeof err);
  if (st == GC_OK) st = gc_import_finish(im, GC_DTYPE_F16, &gcw, &gsize, err, sizeof err);
  CHECK(st == want, "%s: got %s, want %s (%s)", rel, gc_status_to_string(st), gc_status_to_string(want), err);
  CHECK(strstr(err, words) != NULL, "%s: message '%s' lacks '%s'", rel, err, words);
  CHECK(strstr(err, strrchr(rel, '/') + 1) != NULL, "%s: the message names the file: %s", rel, err);
  CHECK(gcw == NULL && gc_import_describe(im) == NULL, "%s: nothing described or written", rel);
  gc_import_free(im);
  free(bytes);
}

int main(void) {
  const char *data = getenv("GRADCAM_TEST_DATA");
  snprintf(g_dir, sizeof g_dir, "%s/formats", data ? data : "build/native/test-data");
  import_file("k2-imagenet.h5", NULL, 0);
  import_file("k2-notop.h5", NULL, 0);
  import_file("k1-imagenet.h5", NULL, 0);
  import_file("k2-model.h5", NULL, 0);
  import_file("k3-gmp-sigmoid.weights.h5", NULL, 0);
  import_file("k3-rescale.keras", NULL, 0);
  import_file("k3-noconfig.keras", NULL, 0);
  const char *shards[] = {"tfjs/group1-shard1of2.bin", "tfjs/group1-shard2of2.bin"};
  import_file("tfjs/model.json", shards, 2);
  import_labels();
  import_gcw();
  import_error("bad/k3-gap.weights.h5", GC_ERR_CONVERT,
               "layers/conv2d_1 is missing although layers/conv2d_2 exists: Keras numbers the layers of a class "
               "without gaps");
  import_error("bad/dense-model.h5", GC_ERR_CONVERT,
               "the weights are those of 0 Conv2D, 0 SeparableConv2D and 0 BatchNormalization layers; an Xception "
               "base has 6, 34 and 40: this is not an Xception model");
  import_error("bad/noweights.keras", GC_ERR_CONVERT, "is a ZIP archive without model.weights.h5");
  import_error("bad/resnet50.keras", GC_ERR_CONVERT,
               "config.json describes a model 'resnet50' of 7 layers (input_layer, conv1_pad, conv1_conv, conv1_bn, "
               "...) with no layer 'block1_conv1': not an Xception model");
  import_error("bad/other.h5", GC_ERR_CONVERT,
               "is an HDF5 file but not a Keras model: its root has no layer_names attribute and no model_weights or "
               "layers group (it has 'data', attribute 'title')");
  import_error("bad/model.json", GC_ERR_CONVERT, "lists the weight shard 'group1-shard1of1.bin', which was not given");
  import_error("bad/graph.json", GC_ERR_CONVERT, "is a TF.js graph model");
  import_error("bad/picture.png", GC_ERR_CONVERT, "is a PNG image, not a model file read here");
  return check_report("test_import");
}
