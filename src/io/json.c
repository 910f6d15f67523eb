/* json.c - the JSON parser of json.h (the writer: json_write.c).
 *
 * The parser is recursive descent over the bytes, with the depth bounded by GC_JSON_MAX_DEPTH.
 * Every value, string and child list lives in one arena owned by the document: nodes and
 * strings are carved from blocks, so freeing a document is freeing its blocks. A container's
 * children are gathered on a shared stack while it is parsed and copied into the arena when it
 * closes, so each child list is allocated once at its final size. All of it is O(input length):
 * every value takes at least one input byte, and no string grows when it is decoded.
 */
#include "io/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct gc_json_value {
  gc_json_type type;
  size_t len; /* array items, object members, string bytes */
  double num;
  char *str;
  const gc_json_value **items; /* array items or member values */
  char **keys;                 /* member names (objects) */
};

typedef struct block {
  struct block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} block;

struct gc_json {
  block *blocks;
  const gc_json_value *root;
};

typedef struct parser {
  const unsigned char *p, *end, *start;
  gc_json *doc;
  /* children of the open containers, innermost last */
  const gc_json_value **stack;
  char **kstack;
  size_t nstack, capstack;
  gc_status st;
  char *err;
  size_t errlen;
} parser;

static void *arena_alloc(gc_json *doc, size_t size) {
  size = (size + 15) & ~(size_t)15;
  block *b = doc->blocks;
  if (!b || b->cap - b->used < size) {
    size_t cap = size > 65536 ? size : 65536;
    block *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->next = doc->blocks;
    nb->used = 0;
    nb->cap = cap;
    doc->blocks = nb;
    b = nb;
  }
  void *r = b->data + b->used;
  b->used += size;
  return r;
}

/* Line and column (1-based, columns in bytes) of the parser's position, for messages. */
static void position(const parser *ps, const unsigned char *at, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (const unsigned char *q = ps->start; q < at; q++) {
    if (*q == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static int fail_at(parser *ps, const unsigned char *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail_at(parser *ps, const unsigned char *at, const char *fmt, ...) {
  if (ps->st != GC_OK) return -1;
  ps->st = GC_ERR_JSON;
  if (ps->err && ps->errlen) {
    int line, col;
    position(ps, at, &line, &col);
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    gc_set_error(ps->err, ps->errlen, "JSON line %d, column %d: %s", line, col, what);
  }
  return -1;
}

static int oom(parser *ps) {
  if (ps->st == GC_OK) {
    ps->st = GC_ERR_OUT_OF_MEMORY;
    gc_set_error(ps->err, ps->errlen, "out of memory while parsing JSON (%zu bytes)",
                 (size_t)(ps->end - ps->start));
  }
  return -1;
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

/* What the next byte is, for "expected ... but found ..." messages. */
static const char *found(const parser *ps, char *buf, size_t len) {
  if (ps->p >= ps->end) snprintf(buf, len, "the end of the text");
  else if (*ps->p < 0x20 || *ps->p >= 0x7f) snprintf(buf, len, "the byte 0x%02x", *ps->p);
  else snprintf(buf, len, "'%c'", *ps->p);
  return buf;
}

static int push(parser *ps, const gc_json_value *v, char *key) {
  if (ps->nstack == ps->capstack) {
    size_t cap = ps->capstack ? 2 * ps->capstack : 64;
    const gc_json_value **s = realloc(ps->stack, cap * sizeof *s);
    if (!s) return oom(ps);
    ps->stack = s;
    char **k = realloc(ps->kstack, cap * sizeof *k);
    if (!k) return oom(ps);
    ps->kstack = k;
    ps->capstack = cap;
  }
  ps->stack[ps->nstack] = v;
  ps->kstack[ps->nstack] = key;
  ps->nstack++;
  return 0;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v << 4 | d;
  }
  *out = v;
  return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 if it is not valid (overlong forms,
 * surrogates and code points above U+10FFFF are not). */
static int utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  int n;
  unsigned min, cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) n = 2, min = 0x80, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0) n = 3, min = 0x800, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0) n = 4, min = 0x10000, cp = c & 0x07;
  else return 0;
  if (end - p < n) return 0;
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xc0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xe0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (unsigned char)(0xf0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (unsigned char)(0x80 | (cp & 0x3f));
  return 4;
}

/* A string starting at the opening quote: decoded into the arena (never longer than its
 * source: every escape is at least as long as the bytes it stands for). */
static char *parse_string(parser *ps, size_t *len_out) {
  const unsigned char *open = ps->p++;
  const unsigned char *q = ps->p;
  while (q < ps->end && *q != '"') q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
  if (q >= ps->end) {
    fail_at(ps, open, "a string is not terminated");
    return NULL;
  }
  unsigned char *out = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
  if (!out) {
    oom(ps);
    return NULL;
  }
  size_t n = 0;
  while (*ps->p != '"') {
    const unsigned char *at = ps->p;
    unsigned c = *ps->p;
    if (c < 0x20) {
      fail_at(ps, at, "a control character (0x%02x) inside a string must be escaped", c);
      return NULL;
    }
    if (c != '\\') {
      int k = utf8_len(ps->p, ps->end);
      if (!k) {
        fail_at(ps, at, "a string holds bytes that are not UTF-8 (0x%02x)", c);
        return NULL;
      }
      memcpy(out + n, ps->p, (size_t)k);
      n += (size_t)k;
      ps->p += k;
      continue;
    }
    c = ps->p[1];
    ps->p += 2;
    switch (c) {
      case '"': out[n++] = '"'; break;
      case '\\': out[n++] = '\\'; break;
      case '/': out[n++] = '/'; break;
      case 'b': out[n++] = '\b'; break;
      case 'f': out[n++] = '\f'; break;
      case 'n': out[n++] = '\n'; break;
      case 'r': out[n++] = '\r'; break;
      case 't': out[n++] = '\t'; break;
      case 'u': {
        unsigned cp, lo;
        if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) {
          fail_at(ps, at, "\\u must be followed by 4 hexadecimal digits");
          return NULL;
        }
        ps->p += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
          fail_at(ps, at, "\\u%04x is a lone low surrogate", cp);
          return NULL;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) || lo < 0xdc00 ||
              lo > 0xdfff) {
            fail_at(ps, at, "\\u%04x is a high surrogate without its low half", cp);
            return NULL;
          }
          ps->p += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) {
          fail_at(ps, at, "\\u0000 (a NUL character) is not accepted in a string");
          return NULL;
        }
        n += put_utf8(out + n, cp);
        break;
      }
      default:
        fail_at(ps, at, "unknown escape in a string");
        return NULL;
    }
  }
  ps->p++; /* the closing quote */
  out[n] = 0;
  *len_out = n;
  return (char *)out;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
  ps->p += n;
  return 1;
}

static int parse_number(parser *ps, double *out) {
  const unsigned char *s = ps->p, *q = ps->p;
  if (q < ps->end && *q == '-') q++;
  if (ps->end - q >= 8 && !memcmp(q, "Infinity", 8)) {
    ps->p = q + 8;
    *out = *s == '-' ? -INFINITY : INFINITY;
    return 0;
  }
  if (q >= ps->end || *q < '0' || *q > '9') {
    char what[32];
    if (q == s) return fail_at(ps, s, "expected a value but found %s", found(ps, what, sizeof what));
    return fail_at(ps, s, "a number needs a digit after '-'");
  }
  if (*q == '0') {
    q++;
  } else {
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < ps->end && *q == '.') {
    q++;
    if (q >= ps->end || *q < '0' || *q > '9') return fail_at(ps, q, "a number needs a digit after its '.'");
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < ps->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < ps->end && (*q == '+' || *q == '-')) q++;
    if (q >= ps->end || *q < '0' || *q > '9') return fail_at(ps, q, "a number needs a digit in its exponent");
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  }
  /* strtod wants a terminated string; the grammar above is checked, so it reads it all */
  char small[64], *buf = small;
  size_t n = (size_t)(q - s);
  if (n >= sizeof small && !(buf = malloc(n + 1))) return oom(ps);
  memcpy(buf, s, n);
  buf[n] = 0;
  *out = strtod(buf, NULL);
  if (buf != small) free(buf);
  ps->p = q;
  return 0;
}

static const gc_json_value *parse_value(parser *ps, int depth);

static gc_json_value *new_value(parser *ps, gc_json_type t) {
  gc_json_value *v = arena_alloc(ps->doc, sizeof *v);
  if (!v) {
    oom(ps);
    return NULL;
  }
  memset(v, 0, sizeof *v);
  v->type = t;
  return v;
}

/* Arrays and objects: children gathered on the stack, then moved into the arena. */
static const gc_json_value *parse_container(parser *ps, int depth) {
  const unsigned char *open = ps->p;
  const int is_obj = *ps->p == '{';
  const char close = is_obj ? '}' : ']';
  if (depth >= GC_JSON_MAX_DEPTH) {
    fail_at(ps, open, "nesting deeper than %d levels", GC_JSON_MAX_DEPTH);
    return NULL;
  }
  gc_json_value *v = new_value(ps, is_obj ? GC_JSON_OBJECT : GC_JSON_ARRAY);
  if (!v) return NULL;
  const size_t base = ps->nstack;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    return v;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(ps);
    if (is_obj) {
      size_t klen;
      if (ps->p >= ps->end || *ps->p != '"') {
        char what[32];
        fail_at(ps, ps->p, "expected a member name in quotes but found %s", found(ps, what, sizeof what));
        return NULL;
      }
      if (!(key = parse_string(ps, &klen))) return NULL;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        fail_at(ps, ps->p, "expected ':' after the member name \"%.40s\"", key);
        return NULL;
      }
      ps->p++;
    }
    const gc_json_value *child = parse_value(ps, depth + 1);
    if (!child || push(ps, child, key)) return NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      break;
    }
    char what[32];
    fail_at(ps, ps->p, "expected ',' or '%c' after %s but found %s", close, is_obj ? "an object member" : "an array item",
            found(ps, what, sizeof what));
    return NULL;
  }
  const size_t n = ps->nstack - base;
  v->len = n;
  v->items = arena_alloc(ps->doc, n * sizeof *v->items);
  if (!v->items) {
    oom(ps);
    return NULL;
  }
  memcpy(v->items, ps->stack + base, n * sizeof *v->items);
  if (is_obj) {
    v->keys = arena_alloc(ps->doc, n * sizeof *v->keys);
    if (!v->keys) {
      oom(ps);
      return NULL;
    }
    memcpy(v->keys, ps->kstack + base, n * sizeof *v->keys);
  }
  ps->nstack = base;
  return v;
}

static const gc_json_value *parse_value(parser *ps, int depth) {
  skip_ws(ps);
  if (ps->p >= ps->end) {
    fail_at(ps, ps->p, "expected a value but the text ends");
    return NULL;
  }
  const unsigned char c = *ps->p;
  if (c == '{' || c == '[') return parse_container(ps, depth);
  gc_json_value *v = NULL;
  if (c == '"') {
    size_t len;
    char *s = parse_string(ps, &len);
    if (!s || !(v = new_value(ps, GC_JSON_STRING))) return NULL;
    v->str = s;
    v->len = len;
    return v;
  }
  if (literal(ps, "true")) return new_value(ps, GC_JSON_TRUE);
  if (literal(ps, "false")) return new_value(ps, GC_JSON_FALSE);
  if (literal(ps, "null")) return new_value(ps, GC_JSON_NULL);
  if (literal(ps, "NaN")) {
    if ((v = new_value(ps, GC_JSON_NUMBER))) v->num = NAN;
    return v;
  }
  if (c == '-' || c == 'I' || (c >= '0' && c <= '9')) {
    double d = 0;
    if (parse_number(ps, &d) || !(v = new_value(ps, GC_JSON_NUMBER))) return NULL;
    v->num = d;
    return v;
  }
  char what[32];
  fail_at(ps, ps->p, "expected a value but found %s", found(ps, what, sizeof what));
  return NULL;
}

gc_status gc_json_parse(const char *text, size_t len, gc_json **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out || (!text && len)) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  gc_json *doc = calloc(1, sizeof *doc);
  if (!doc) return GC_ERR_OUT_OF_MEMORY;
  parser ps = {.p = (const unsigned char *)text, .end = (const unsigned char *)text + len,
               .start = (const unsigned char *)text, .doc = doc, .st = GC_OK, .err = err, .errlen = errlen};
  if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) ps.p += 3; /* a UTF-8 byte order mark */
  const gc_json_value *root = parse_value(&ps, 0);
  if (root) {
    skip_ws(&ps);
    if (ps.p < ps.end) {
      fail_at(&ps, ps.p, "unexpected text after the JSON value");
      root = NULL;
    }
  }
  free(ps.stack);
  free(ps.kstack);
  if (!root) {
    gc_json_free(doc);
    return ps.st != GC_OK ? ps.st : GC_ERR_JSON;
  }
  doc->root = root;
  *out = doc;
  return GC_OK;
}

void gc_json_free(gc_json *doc) {
  if (!doc) return;
  for (block *b = doc->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(doc);
}

const gc_json_value *gc_json_root(const gc_json *doc) { return doc ? doc->root : NULL; }

gc_json_type gc_json_type_of(const gc_json_value *v) { return v ? v->type : GC_JSON_NULL; }

size_t gc_json_len(const gc_json_value *v) {
  return v && (v->type == GC_JSON_ARRAY || v->type == GC_JSON_OBJECT) ? v->len : 0;
}

const gc_json_value *gc_json_at(const gc_json_value *arr, size_t i) {
  return i < gc_json_len(arr) ? arr->items[i] : NULL;
}

const char *gc_json_key_at(const gc_json_value *obj, size_t i) {
  return obj && obj->type == GC_JSON_OBJECT && i < obj->len ? obj->keys[i] : NULL;
}

const gc_json_value *gc_json_get(const gc_json_value *obj, const char *key) {
  if (!obj || obj->type != GC_JSON_OBJECT || !key) return NULL;
  for (size_t i = 0; i < obj->len; i++)
    if (!strcmp(obj->keys[i], key)) return obj->items[i];
  return NULL;
}

const char *gc_json_str(const gc_json_value *v) { return v && v->type == GC_JSON_STRING ? v->str : NULL; }

double gc_json_num(const gc_json_value *v, double fallback) {
  return v && v->type == GC_JSON_NUMBER ? v->num : fallback;
}

int gc_json_bool(const gc_json_value *v, int fallback) {
  if (v && v->type == GC_JSON_TRUE) return 1;
  if (v && v->type == GC_JSON_FALSE) return 0;
  return fallback;
}
