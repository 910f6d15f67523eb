/* fuzz_import.c - the import path (gradcam.h gc_import_*, src/formats/) on untrusted bytes. The
 * input's first 4 bytes choose the mode:
 *   "CONF" JSON          a Keras model config into a spec (gc_kconfig_spec, as config.json,
 *                        model_config and a TF.js modelTopology are read);
 *   "LABL" u8 n, bytes   a class names file (gc_labels_parse) expecting n names (0: any count);
 *   "MULT" records       several files, each u8 name length, the name, u32 size, the bytes; the
 *                        first is the main one (a TF.js model.json and its shards);
 *   anything else        one file, recognised by content (HDF5, ZIP, JSON, .gcw).
 * Contract checked besides the sanitizers': a status of the enum with a message on failure;
 * a config's spec passes gc_spec_check; labels come back with the count asked for, each a
 * non-empty string; an import that starts describes itself as JSON, takes exactly `total`
 * steps, and writes a .gcw that gc_weights_parse accepts with as many tensors as the spec
 * needs; a .gcw read back imports again. */
#include "formats/formats.h"
#include "fuzz.h"

static void check_failure(gc_status s, const char *err) {
  FUZZ_STATUS_OK(s);
  if (s != GC_OK) FUZZ_CHECK(err[0], "failure %s without a message", gc_status_to_string(s));
}

static void mode_config(const uint8_t *data, size_t size) {
  gc_json *doc = NULL;
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  if (gc_json_parse((const char *)data, size, &doc, err, sizeof err) != GC_OK) return;
  gc_spec spec;
  gc_status s = gc_kconfig_spec(gc_json_root(doc), "config.json", &spec, err, sizeof err);
  FUZZ_ERRBUF_OK(err);
  check_failure(s, err);
  if (s == GC_OK) {
    FUZZ_CHECK(gc_spec_check(&spec, err, sizeof err) == GC_OK, "the config's spec is out of range: %s", err);
    FUZZ_CHECK(gc_spec_weight_specs(&spec, NULL, 0) > 0, "no tensors");
  }
  gc_json_free(doc);
}

static void mode_labels(const uint8_t *data, size_t size) {
  fuzz_reader r = {data, size};
  const int expected = fuzz_u8(&r);
  char **names = NULL;
  int n = -1;
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  gc_status s = gc_labels_parse(r.p, r.n, expected, &names, &n, err, sizeof err);
  FUZZ_ERRBUF_OK(err);
  check_failure(s, err);
  FUZZ_CHECK((s == GC_OK) == (names != NULL), "names %p with status %d", (void *)names, (int)s);
  if (s == GC_OK) {
    FUZZ_CHECK(n > 0 && (!expected || n == expected), "%d names, %d expected", n, expected);
    for (int i = 0; i < n; i++) FUZZ_CHECK(names[i] && names[i][0], "name %d is empty", i);
  }
  gc_names_free(names, n > 0 ? n : 0);
}

/* Import the files; on success check the output and, once, import it again as a .gcw. */
static void import(int count, const char *const *names, const void *const *bytes, const size_t *sizes, int again) {
  gc_import *im = NULL;
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  FUZZ_CHECK(gc_import_new(&im) == GC_OK, "gc_import_new");
  for (int i = 0; i < count; i++) FUZZ_CHECK(gc_import_add_file(im, names[i], bytes[i], sizes[i]) == GC_OK, "add");
  int total = -1;
  gc_status s = gc_import_start(im, &total, err, sizeof err);
  FUZZ_ERRBUF_OK(err);
  check_failure(s, err);
  void *gcw = NULL;
  size_t gsize = 0;
  if (s == GC_OK) {
    const char *desc = gc_import_describe(im);
    gc_json *doc = NULL;
    FUZZ_CHECK(desc && gc_json_parse(desc, strlen(desc), &doc, NULL, 0) == GC_OK, "description: %s", desc);
    gc_json_free(doc);
    int done = 0, steps = 0;
    while (!done && s == GC_OK) {
      s = gc_import_step(im, &done, err, sizeof err);
      steps += s == GC_OK;
      FUZZ_CHECK(steps <= total, "more than %d steps", total);
    }
    check_failure(s, err);
    if (s == GC_OK) {
      FUZZ_CHECK(steps == total, "%d steps of %d", steps, total);
      s = gc_import_finish(im, GC_DTYPE_F16, &gcw, &gsize, err, sizeof err);
      check_failure(s, err);
    }
  }
  FUZZ_CHECK((s == GC_OK) == (gcw != NULL), "output %p with status %d", gcw, (int)s);
  if (s == GC_OK) {
    gc_weights w;
    FUZZ_CHECK(gc_weights_parse(gcw, gsize, &w, err, sizeof err) == GC_OK, "the output does not parse: %s", err);
    FUZZ_CHECK(fuzz_tensor_count(&w) == total, "%d tensors written, %d imported", fuzz_tensor_count(&w), total);
    gc_weights_release(&w);
    if (again) {
      const char *n = "again.gcw";
      const void *b = gcw;
      import(1, &n, &b, &gsize, 0);
    }
  }
  gc_free(gcw);
  gc_import_free(im);
}

static void mode_multi(const uint8_t *data, size_t size) {
  fuzz_reader r = {data, size};
  char store[8][64];
  const char *names[8];
  const void *bytes[8];
  size_t sizes[8];
  int n = 0;
  while (r.n && n < 8) {
    fuzz_str(&r, store[n], sizeof store[n]);
    size_t len = fuzz_u32(&r);
    if (len > r.n) len = r.n;
    names[n] = store[n];
    bytes[n] = r.p;
    sizes[n] = len;
    r.p += len, r.n -= len;
    n++;
  }
  if (n) import(n, names, bytes, sizes, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 4 && !memcmp(data, "CONF", 4)) mode_config(data + 4, size - 4);
  else if (size >= 4 && !memcmp(data, "LABL", 4)) mode_labels(data + 4, size - 4);
  else if (size >= 4 && !memcmp(data, "MULT", 4)) mode_multi(data + 4, size - 4);
  else {
    const char *name = "model";
    const void *b = data;
    import(1, &name, &b, &size, 1);
  }
  return 0;
}
