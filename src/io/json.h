/* json.h - a JSON parser (RFC 8259, plus the NaN, Infinity and -Infinity that Python's json
 * module writes) building a read-only tree. Not public; used for Keras model configs
 * (config.json, model_config, TF.js model.json) and labels files.
 *
 * Safety contract: nesting deeper than GC_JSON_MAX_DEPTH, invalid UTF-8 escapes, unterminated
 * strings, trailing garbage and numbers that do not parse are errors (GC_ERR_JSON with the line
 * and column); memory is O(input length); strings are returned NUL-terminated and UTF-8 (\u
 * escapes decoded, surrogate pairs joined; a NUL in a string is refused).
 */
#ifndef GRADCAM_IO_JSON_H
#define GRADCAM_IO_JSON_H

#include <stddef.h>

#include "gradcam.h"

#define GC_JSON_MAX_DEPTH 256

typedef enum gc_json_type {
  GC_JSON_NULL = 0,
  GC_JSON_FALSE,
  GC_JSON_TRUE,
  GC_JSON_NUMBER,
  GC_JSON_STRING,
  GC_JSON_ARRAY,
  GC_JSON_OBJECT
} gc_json_type;

typedef struct gc_json gc_json;             /* a parsed document (owns every value) */
typedef struct gc_json_value gc_json_value; /* a value inside it */

gc_status gc_json_parse(const char *text, size_t len, gc_json **out, char *err, size_t errlen);
void gc_json_free(gc_json *doc);
const gc_json_value *gc_json_root(const gc_json *doc);

/* Every accessor accepts NULL and then returns NULL / 0 / GC_JSON_NULL, so lookups chain:
 * gc_json_str(gc_json_get(gc_json_get(root, "config"), "name")). */
gc_json_type gc_json_type_of(const gc_json_value *v);
size_t gc_json_len(const gc_json_value *v);                       /* array items / object members */
const gc_json_value *gc_json_at(const gc_json_value *arr, size_t i); /* array item or member value */
const char *gc_json_key_at(const gc_json_value *obj, size_t i);    /* member name, NULL if not an object */
const gc_json_value *gc_json_get(const gc_json_value *obj, const char *key); /* first member of that name */
const char *gc_json_str(const gc_json_value *v);                   /* NULL unless a string */
/* The number, or `fallback` unless v is a number. */
double gc_json_num(const gc_json_value *v, double fallback);
/* 1 for true, 0 for false, fallback otherwise. */
int gc_json_bool(const gc_json_value *v, int fallback);

/* Writing JSON (json_write.c): a growing text buffer for the CLI's output and the import's
 * description. Values written inside containers opened with gc_jw_open put their own commas, and
 * a value after gc_jw_key follows its key:
 *
 *     gc_json_writer w = {0};
 *     gc_jw_open(&w, '{');
 *     gc_jw_key(&w, "top"); gc_jw_open(&w, '['); gc_jw_int(&w, 281); gc_jw_int(&w, 285); gc_jw_close(&w);
 *     gc_jw_key(&w, "name"); gc_jw_str(&w, "tabby");
 *     gc_jw_close(&w);                        // {"top":[281,285],"name":"tabby"}
 *
 * gc_jw_raw / gc_jw_rawf add text as it is (the caller's commas). After an allocation failure,
 * an unbalanced gc_jw_close or nesting deeper than GC_JW_MAX_DEPTH every call is a no-op and
 * `failed` is set; the text stays NUL-terminated. */
#define GC_JW_MAX_DEPTH 32

typedef struct gc_json_writer {
  char *text; /* malloc'ed, NUL-terminated; the caller frees it (gc_jw_free) */
  size_t len, cap;
  int failed;
  int depth;                           /* containers open */
  char close[GC_JW_MAX_DEPTH];         /* their closing brackets */
  unsigned char items[GC_JW_MAX_DEPTH]; /* 1 once a container holds a value */
  int keyed;                           /* a key was written: its value comes next, no comma */
} gc_json_writer;

void gc_jw_raw(gc_json_writer *w, const char *s);              /* as is */
void gc_jw_rawf(gc_json_writer *w, const char *fmt, ...)        /* printf-style, as is */
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void gc_jw_open(gc_json_writer *w, char bracket);              /* '{' or '[' */
void gc_jw_close(gc_json_writer *w);                           /* the innermost open container */
void gc_jw_key(gc_json_writer *w, const char *key);            /* an object member's name */
void gc_jw_str(gc_json_writer *w, const char *s);              /* quoted and escaped; NULL -> null */
void gc_jw_num(gc_json_writer *w, double v);                   /* "%.9g" (a float32 reads back
                                                                  exactly); non-finite -> null */
void gc_jw_numf(gc_json_writer *w, const char *fmt, double v); /* a printf format of one double
                                                                  ("%.3f"); non-finite -> null */
void gc_jw_int(gc_json_writer *w, long long v);
void gc_jw_bool(gc_json_writer *w, int v);
void gc_jw_null(gc_json_writer *w);
void gc_jw_floats(gc_json_writer *w, const float *v, size_t n); /* an array of gc_jw_num */
void gc_jw_free(gc_json_writer *w);

#endif
