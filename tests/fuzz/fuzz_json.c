/* fuzz_json.c - the JSON parser (src/io/json.c) on arbitrary bytes.
 *
 * Besides the sanitizers' checks: a failure has a status and a message; a success gives a tree
 * whose every string is NUL-terminated at its length and valid UTF-8; and the tree written back
 * with the JSON writer parses again into the same tree (non-finite numbers become null, as the
 * writer documents). */
#include <math.h>

#include "fuzz.h"
#include "io/json.h"

static void write_value(gc_json_writer *w, const gc_json_value *v) {
  switch (gc_json_type_of(v)) {
    case GC_JSON_NULL: gc_jw_raw(w, "null"); break;
    case GC_JSON_TRUE: gc_jw_raw(w, "true"); break;
    case GC_JSON_FALSE: gc_jw_raw(w, "false"); break;
    case GC_JSON_NUMBER: /* exact, unlike gc_jw_num's %.9g (float32 precision) */
      if (isfinite(gc_json_num(v, 0))) gc_jw_rawf(w, "%.17g", gc_json_num(v, 0));
      else gc_jw_raw(w, "null");
      break;
    case GC_JSON_STRING: gc_jw_str(w, gc_json_str(v)); break;
    case GC_JSON_ARRAY:
    case GC_JSON_OBJECT: {
      const int obj = gc_json_type_of(v) == GC_JSON_OBJECT;
      gc_jw_raw(w, obj ? "{" : "[");
      for (size_t i = 0; i < gc_json_len(v); i++) {
        if (i) gc_jw_raw(w, ",");
        if (obj) {
          gc_jw_str(w, gc_json_key_at(v, i));
          gc_jw_raw(w, ":");
        }
        write_value(w, gc_json_at(v, i));
      }
      gc_jw_raw(w, obj ? "}" : "]");
      break;
    }
  }
}

/* a and b the same tree (a non-finite number in a is null in b) */
static int same(const gc_json_value *a, const gc_json_value *b) {
  const gc_json_type ta = gc_json_type_of(a), tb = gc_json_type_of(b);
  if (ta == GC_JSON_NUMBER && !isfinite(gc_json_num(a, 0))) return tb == GC_JSON_NULL;
  if (ta != tb) return 0;
  if (ta == GC_JSON_NUMBER) return gc_json_num(a, 0) == gc_json_num(b, 1);
  if (ta == GC_JSON_STRING) return !strcmp(gc_json_str(a), gc_json_str(b));
  if (ta != GC_JSON_ARRAY && ta != GC_JSON_OBJECT) return 1;
  if (gc_json_len(a) != gc_json_len(b)) return 0;
  for (size_t i = 0; i < gc_json_len(a); i++) {
    if (ta == GC_JSON_OBJECT && strcmp(gc_json_key_at(a, i), gc_json_key_at(b, i))) return 0;
    if (!same(gc_json_at(a, i), gc_json_at(b, i))) return 0;
  }
  return 1;
}

static void check_strings(const gc_json_value *v) {
  const char *s = gc_json_str(v);
  if (s) {
    const size_t n = strlen(s);
    for (size_t i = 0; i < n;) { /* valid UTF-8: lead byte, then continuation bytes */
      const unsigned c = (unsigned char)s[i];
      const int k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
      FUZZ_CHECK(k && i + (size_t)k <= n, "string byte %zu (0x%02x) is not UTF-8", i, c);
      for (int j = 1; j < k; j++) FUZZ_CHECK(((unsigned char)s[i + j] & 0xc0) == 0x80, "bad continuation");
      i += (size_t)k;
    }
  }
  for (size_t i = 0; i < gc_json_len(v); i++) {
    if (gc_json_type_of(v) == GC_JSON_OBJECT) FUZZ_CHECK(gc_json_key_at(v, i) != NULL, "member %zu has no name", i);
    check_strings(gc_json_at(v, i));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gc_json *doc = NULL;
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  gc_status s = gc_json_parse((const char *)data, size, &doc, err, sizeof err);
  FUZZ_STATUS_OK(s);
  FUZZ_ERRBUF_OK(err);
  FUZZ_CHECK((s == GC_OK) == (doc != NULL), "status %d, document %p", (int)s, (void *)doc);
  if (s != GC_OK) {
    FUZZ_CHECK(s == GC_ERR_JSON || s == GC_ERR_OUT_OF_MEMORY, "status %s", gc_status_to_string(s));
    FUZZ_CHECK(err[0], "failure %d without a message", (int)s);
    return 0;
  }
  const gc_json_value *root = gc_json_root(doc);
  check_strings(root);
  gc_json_writer w = {0};
  write_value(&w, root);
  if (!w.failed) {
    gc_json *again = NULL;
    s = gc_json_parse(w.text, w.len, &again, err, sizeof err);
    FUZZ_CHECK(s == GC_OK, "the tree written back does not parse: %s", err);
    FUZZ_CHECK(same(root, gc_json_root(again)), "the tree written back parses differently: %.200s", w.text);
    gc_json_free(again);
  }
  gc_jw_free(&w);
  gc_json_free(doc);
  return 0;
}
