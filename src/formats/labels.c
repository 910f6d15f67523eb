/* labels.c - class names files (gc_labels_parse, spec.h).
 *
 * Four shapes are read, told apart by the first character that is not white space:
 *   '['  a JSON list of strings: ["cat", "dog"];
 *   '{'  a JSON object with every index 0..n-1 once: {"0": "cat", "1": "dog"}, whose values
 *        may also be [id, name] pairs, as in Keras' imagenet_class_index.json
 *        ({"0": ["n01440764", "tench"], ...}), of which the name is taken;
 *   else one name per line (LF or CRLF; spaces around a name dropped; blank lines at the end
 *        ignored, a blank line before a name refused, since it would shift every later index).
 * The bytes must be UTF-8 text: a NUL byte or an invalid sequence is refused with its offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "io/json.h"

#define MAX_NAME 4096

/* Offset of the first byte that makes the text not UTF-8 (or a NUL), size if none. */
static size_t not_text_at(const unsigned char *b, size_t size, int *nul) {
  *nul = 0;
  for (size_t i = 0; i < size;) {
    unsigned c = b[i];
    if (c == 0) {
      *nul = 1;
      return i;
    }
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || size - i < (size_t)n) return i;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int k = 1; k < n; k++) {
      if ((b[i + k] & 0xc0) != 0x80) return i;
      cp = cp << 6 | (b[i + k] & 0x3f);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += (size_t)n;
  }
  return size;
}

static char *dup_name(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

static gc_status from_lines(const char *t, size_t size, char ***names, int *n, char *err, size_t errlen) {
  /* lines, without the blank ones at the end */
  size_t end = size;
  while (end > 0 && (t[end - 1] == '\n' || t[end - 1] == '\r' || t[end - 1] == ' ' || t[end - 1] == '\t')) end--;
  int count = 0;
  for (size_t i = 0; i < end; i++) count += t[i] == '\n';
  count++;
  if (end == 0) {
    gc_set_error(err, errlen, "the labels file holds no class names");
    return GC_ERR_LABELS;
  }
  if (count > GC_SPEC_MAX_UNITS) {
    gc_set_error(err, errlen, "the labels file has %d lines; at most %d classes are supported", count,
                 GC_SPEC_MAX_UNITS);
    return GC_ERR_LABELS;
  }
  char **out = calloc((size_t)count, sizeof *out);
  if (!out) return GC_ERR_OUT_OF_MEMORY;
  size_t at = 0;
  for (int k = 0; k < count; k++) {
    const char *line = t + at;
    const char *nl = memchr(line, '\n', end - at);
    size_t len = nl ? (size_t)(nl - line) : end - at;
    at += len + 1;
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
    while (len && (*line == ' ' || *line == '\t')) line++, len--;
    if (!len || len > MAX_NAME) {
      if (len)
        gc_set_error(err, errlen, "line %d of the labels file is longer than %d bytes", k + 1, MAX_NAME);
      else
        gc_set_error(err, errlen, "line %d of the labels file is blank; it needs one class name per line (a blank "
                     "line would shift every later class)", k + 1);
      gc_names_free(out, count);
      return GC_ERR_LABELS;
    }
    if (!(out[k] = dup_name(line, len))) {
      gc_names_free(out, count);
      return GC_ERR_OUT_OF_MEMORY;
    }
  }
  *names = out;
  *n = count;
  return GC_OK;
}

/* A JSON item: a string, or an [id, name] pair (the name). */
static const char *item_name(const gc_json_value *v) {
  if (gc_json_type_of(v) == GC_JSON_ARRAY && gc_json_len(v) == 2) return gc_json_str(gc_json_at(v, 1));
  return gc_json_str(v);
}

static gc_status from_json(const gc_json_value *root, char ***names, int *n, char *err, size_t errlen) {
  const int obj = gc_json_type_of(root) == GC_JSON_OBJECT;
  const size_t count = gc_json_len(root);
  if (count == 0) {
    gc_set_error(err, errlen, "the labels file is an empty JSON %s", obj ? "object" : "list");
    return GC_ERR_LABELS;
  }
  if (count > GC_SPEC_MAX_UNITS) {
    gc_set_error(err, errlen, "the labels file has %zu names; at most %d classes are supported", count,
                 GC_SPEC_MAX_UNITS);
    return GC_ERR_LABELS;
  }
  char **out = calloc(count, sizeof *out);
  if (!out) return GC_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < count; i++) {
    size_t idx = i;
    const char *key = gc_json_key_at(root, i);
    if (obj) {
      char *end;
      long v = strtol(key, &end, 10);
      if (!*key || *end || v < 0 || (size_t)v >= count || (key[0] == '0' && key[1])) {
        gc_set_error(err, errlen, "the labels object's key \"%.40s\" is not a class index 0..%zu", key, count - 1);
        gc_names_free(out, (int)count);
        return GC_ERR_LABELS;
      }
      idx = (size_t)v;
      if (out[idx]) {
        gc_set_error(err, errlen, "the labels object names class %zu twice", idx);
        gc_names_free(out, (int)count);
        return GC_ERR_LABELS;
      }
    }
    const char *name = item_name(gc_json_at(root, i));
    if (!name || !*name || strlen(name) > MAX_NAME) {
      if (obj)
        gc_set_error(err, errlen, "the labels object's value for \"%s\" is not a class name (a non-empty string or an "
                     "[id, name] pair)", key);
      else
        gc_set_error(err, errlen, "item %zu of the labels list is not a class name (a non-empty string)", i);
      gc_names_free(out, (int)count);
      return GC_ERR_LABELS;
    }
    if (!(out[idx] = dup_name(name, strlen(name)))) {
      gc_names_free(out, (int)count);
      return GC_ERR_OUT_OF_MEMORY;
    }
  }
  /* count distinct keys in 0..count-1 filled every slot */
  *names = out;
  *n = (int)count;
  return GC_OK;
}

gc_status gc_labels_parse(const void *bytes, size_t size, int expected, char ***names, int *nnames, char *err,
                          size_t errlen) {
  if (!names || !nnames || (!bytes && size)) return GC_ERR_INVALID_ARGUMENT;
  *names = NULL;
  *nnames = 0;
  const unsigned char *b = bytes;
  int nul;
  const size_t bad = not_text_at(b, size, &nul);
  if (bad < size) {
    if (nul) gc_set_error(err, errlen, "the labels file holds a NUL byte at offset %zu: it is not text", bad);
    else gc_set_error(err, errlen, "the labels file is not UTF-8 text (byte 0x%02x at offset %zu)", b[bad], bad);
    return GC_ERR_LABELS;
  }
  const char *t = bytes;
  if (size >= 3 && !memcmp(t, "\xef\xbb\xbf", 3)) t += 3, size -= 3; /* byte order mark */
  size_t i = 0;
  while (i < size && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n')) i++;
  gc_status st;
  if (i < size && (t[i] == '[' || t[i] == '{')) {
    gc_json *doc = NULL;
    char jerr[GC_ERRBUF_SIZE] = "";
    st = gc_json_parse(t, size, &doc, jerr, sizeof jerr);
    if (st == GC_ERR_JSON) gc_set_error(err, errlen, "the labels file starts like JSON but is not: %s", jerr);
    if (st == GC_OK) st = from_json(gc_json_root(doc), names, nnames, err, errlen);
    gc_json_free(doc);
  } else {
    st = from_lines(t, size, names, nnames, err, errlen);
  }
  if (st == GC_OK && expected > 0 && *nnames != expected) {
    gc_set_error(err, errlen, "the labels file has %d class names; the model has %d classes", *nnames, expected);
    gc_names_free(*names, *nnames);
    *names = NULL;
    *nnames = 0;
    st = GC_ERR_LABELS;
  }
  return st;
}
