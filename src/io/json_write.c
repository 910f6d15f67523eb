/* json_write.c - the JSON writer of json.h: a growing text buffer, and values that put their
 * own commas inside the containers gc_jw_open starts (raw text goes in as it is). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

static int jw_reserve(gc_json_writer *w, size_t more) {
  if (w->failed) return -1;
  if (w->len + more + 1 <= w->cap) return 0;
  size_t cap = w->cap ? w->cap : 256;
  while (cap < w->len + more + 1) {
    if (cap > SIZE_MAX / 2) {
      w->failed = 1;
      return -1;
    }
    cap *= 2;
  }
  char *t = realloc(w->text, cap);
  if (!t) {
    w->failed = 1;
    return -1;
  }
  if (!w->text) t[0] = 0;
  w->text = t;
  w->cap = cap;
  return 0;
}

static void jw_append(gc_json_writer *w, const char *s, size_t n) {
  if (jw_reserve(w, n)) return;
  memcpy(w->text + w->len, s, n);
  w->len += n;
  w->text[w->len] = 0;
}

void gc_jw_raw(gc_json_writer *w, const char *s) {
  if (w && s) jw_append(w, s, strlen(s));
}

void gc_jw_rawf(gc_json_writer *w, const char *fmt, ...) {
  if (!w || w->failed) return;
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    w->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    jw_append(w, small, (size_t)n);
    return;
  }
  if (jw_reserve(w, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(w->text + w->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  w->len += (size_t)n;
}

/* Before a value: a comma after the container's previous value, none after a key. */
static void separate(gc_json_writer *w) {
  if (w->keyed) {
    w->keyed = 0;
    return;
  }
  if (w->depth > 0) {
    if (w->items[w->depth - 1]) jw_append(w, ",", 1);
    w->items[w->depth - 1] = 1;
  }
}

static void quoted(gc_json_writer *w, const char *s) {
  jw_append(w, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    jw_append(w, run, (size_t)(s - run));
    char esc[8];
    if (c == '"' || c == '\\') snprintf(esc, sizeof esc, "\\%c", c);
    else if (c == '\n') snprintf(esc, sizeof esc, "\\n");
    else if (c == '\t') snprintf(esc, sizeof esc, "\\t");
    else if (c == '\r') snprintf(esc, sizeof esc, "\\r");
    else snprintf(esc, sizeof esc, "\\u%04x", c);
    gc_jw_raw(w, esc);
    run = s + 1;
  }
  jw_append(w, run, (size_t)(s - run));
  jw_append(w, "\"", 1);
}

void gc_jw_str(gc_json_writer *w, const char *s) {
  if (!w) return;
  separate(w);
  if (s) quoted(w, s);
  else gc_jw_raw(w, "null");
}

void gc_jw_num(gc_json_writer *w, double v) { gc_jw_numf(w, "%.9g", v); }

void gc_jw_numf(gc_json_writer *w, const char *fmt, double v) {
  if (!w) return;
  separate(w);
  if (!isfinite(v)) gc_jw_raw(w, "null");
  else gc_jw_rawf(w, fmt, v);
}

void gc_jw_int(gc_json_writer *w, long long v) {
  if (!w) return;
  separate(w);
  gc_jw_rawf(w, "%lld", v);
}

void gc_jw_bool(gc_json_writer *w, int v) {
  if (!w) return;
  separate(w);
  gc_jw_raw(w, v ? "true" : "false");
}

void gc_jw_null(gc_json_writer *w) {
  if (!w) return;
  separate(w);
  gc_jw_raw(w, "null");
}

void gc_jw_floats(gc_json_writer *w, const float *v, size_t n) {
  gc_jw_open(w, '[');
  for (size_t i = 0; v && i < n; i++) gc_jw_num(w, v[i]);
  gc_jw_close(w);
}

void gc_jw_key(gc_json_writer *w, const char *key) {
  if (!w || !key) return;
  separate(w);
  quoted(w, key);
  jw_append(w, ":", 1);
  w->keyed = 1;
}

void gc_jw_open(gc_json_writer *w, char bracket) {
  if (!w) return;
  if (w->depth == GC_JW_MAX_DEPTH || (bracket != '{' && bracket != '[')) {
    w->failed = 1;
    return;
  }
  separate(w);
  jw_append(w, bracket == '{' ? "{" : "[", 1);
  w->close[w->depth] = bracket == '{' ? '}' : ']';
  w->items[w->depth++] = 0;
}

void gc_jw_close(gc_json_writer *w) {
  if (!w) return;
  if (w->depth == 0 || w->keyed) { /* nothing open, or a key without its value */
    w->failed = 1;
    return;
  }
  w->depth--;
  jw_append(w, &w->close[w->depth], 1);
}

void gc_jw_free(gc_json_writer *w) {
  if (!w) return;
  free(w->text);
  memset(w, 0, sizeof *w);
}
