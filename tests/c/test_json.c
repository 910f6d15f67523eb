/* test_json.c - the JSON parser and writer (src/io/json.c): values and accessors, escapes and
 * UTF-8, Python's NaN / Infinity, every kind of malformed text (status, line and column), the
 * nesting limit, and the writer's escaping and number format read back by the parser. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/json.h"

static gc_json *parse(const char *text, gc_status want, const char *want_err) {
  gc_json *doc = NULL;
  char err[GC_ERRBUF_SIZE] = "";
  gc_status s = gc_json_parse(text, strlen(text), &doc, err, sizeof err);
  CHECK(s == want, "'%s': got %s (%s), want %s", text, gc_status_to_string(s), err, gc_status_to_string(want));
  CHECK((s == GC_OK) == (doc != NULL), "'%s': document agrees with the status", text);
  if (want_err) CHECK(strstr(err, want_err) != NULL, "'%s': message '%s' lacks '%s'", text, err, want_err);
  if (s != GC_OK) CHECK(err[0] != 0, "'%s': a failure has a message", text);
  return doc;
}

static void test_values(void) {
  gc_json *doc = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {\"c\": \"d\"}, \"a\": 7}\n", GC_OK, NULL);
  const gc_json_value *r = gc_json_root(doc);
  CHECK(gc_json_type_of(r) == GC_JSON_OBJECT, "root is an object");
  CHECK(gc_json_len(r) == 3, "3 members (duplicates kept), got %zu", gc_json_len(r));
  const gc_json_value *a = gc_json_get(r, "a");
  CHECK(gc_json_type_of(a) == GC_JSON_ARRAY && gc_json_len(a) == 6, "a is the first member, a list of 6");
  CHECK(gc_json_num(gc_json_at(a, 0), 0) == 1.0, "1");
  CHECK(gc_json_num(gc_json_at(a, 1), 0) == -2500.0, "-2.5e3");
  CHECK(gc_json_bool(gc_json_at(a, 2), -1) == 1 && gc_json_bool(gc_json_at(a, 3), -1) == 0, "true, false");
  CHECK(gc_json_type_of(gc_json_at(a, 4)) == GC_JSON_NULL, "null");
  CHECK(gc_json_str(gc_json_at(a, 5)) && !strcmp(gc_json_str(gc_json_at(a, 5)), "x"), "\"x\"");
  CHECK(gc_json_at(a, 6) == NULL, "out of range is NULL");
  CHECK(!strcmp(gc_json_str(gc_json_get(gc_json_get(r, "b"), "c")), "d"), "chained lookup");
  CHECK(gc_json_get(gc_json_get(r, "zz"), "c") == NULL, "lookups through NULL stay NULL");
  CHECK(gc_json_num(gc_json_get(r, "b"), 42) == 42, "fallback for a non-number");
  CHECK(gc_json_bool(gc_json_at(a, 0), -1) == -1, "fallback for a non-bool");
  CHECK(gc_json_key_at(r, 2) && !strcmp(gc_json_key_at(r, 2), "a"), "key of member 2");
  CHECK(gc_json_key_at(a, 0) == NULL, "arrays have no keys");
  CHECK(gc_json_str(a) == NULL && gc_json_len(gc_json_at(a, 0)) == 0, "type-safe accessors");
  gc_json_free(doc);

  doc = parse("[NaN, Infinity, -Infinity, 0, -0, 1E+2, 0.5]", GC_OK, NULL);
  r = gc_json_root(doc);
  CHECK(isnan(gc_json_num(gc_json_at(r, 0), 0)), "NaN");
  CHECK(isinf(gc_json_num(gc_json_at(r, 1), 0)) && gc_json_num(gc_json_at(r, 1), 0) > 0, "Infinity");
  CHECK(isinf(gc_json_num(gc_json_at(r, 2), 0)) && gc_json_num(gc_json_at(r, 2), 0) < 0, "-Infinity");
  CHECK(gc_json_num(gc_json_at(r, 5), 0) == 100.0 && gc_json_num(gc_json_at(r, 6), 0) == 0.5, "1E+2, 0.5");
  gc_json_free(doc);

  doc = parse("\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"", GC_OK, NULL);
  CHECK(!strcmp(gc_json_str(gc_json_root(doc)), "\xc3\xa9\xf0\x9f\x98\x80\n\t\"\\/"), "escapes and a surrogate pair");
  gc_json_free(doc);
  doc = parse("\xef\xbb\xbf[\"caf\xc3\xa9\"]", GC_OK, NULL); /* a BOM, raw UTF-8 */
  CHECK(!strcmp(gc_json_str(gc_json_at(gc_json_root(doc), 0)), "caf\xc3\xa9"), "raw UTF-8 kept");
  gc_json_free(doc);
  doc = parse("{}", GC_OK, NULL);
  CHECK(gc_json_len(gc_json_root(doc)) == 0, "empty object");
  gc_json_free(doc);
}

static void test_errors(void) {
  struct {
    const char *text, *msg;
  } bad[] = {
      {"", "line 1, column 1: expected a value but the text ends"},
      {"{\"a\": 1,}", "line 1, column 9: expected a member name"},
      {"[1 2]", "line 1, column 4: expected ',' or ']'"},
      {"[1,\n  tru]", "line 2, column 3: expected a value but found 't'"},
      {"{\"a\" 1}", "expected ':' after the member name \"a\""},
      {"\"abc", "a string is not terminated"},
      {"\"a\\qb\"", "unknown escape"},
      {"\"\\u12\"", "4 hexadecimal digits"},
      {"\"\\ud800x\"", "high surrogate without its low half"},
      {"\"\\udc00\"", "lone low surrogate"},
      {"\"a\\u0000b\"", "NUL"},
      {"\"a\tb\"", "control character (0x09)"},
      {"\"\xc3\x28\"", "not UTF-8"},
      {"\"\xed\xa0\x80\"", "not UTF-8"}, /* a surrogate encoded in UTF-8 */
      {"\"\xc0\xaf\"", "not UTF-8"},     /* overlong */
      {"01", "unexpected text after the JSON value"},
      {"-", "a digit after '-'"},
      {"1.", "a digit after its '.'"},
      {"1e+", "a digit in its exponent"},
      {"Inf", "expected a value but found 'I'"},
      {"[1] x", "unexpected text after the JSON value"},
      {"nul", "expected a value but found 'n'"},
      {"\x01", "the byte 0x01"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) gc_json_free(parse(bad[i].text, GC_ERR_JSON, bad[i].msg));

  /* the nesting limit: GC_JSON_MAX_DEPTH levels parse, one more does not */
  char *deep = malloc(2 * GC_JSON_MAX_DEPTH + 8);
  for (int extra = 0; extra < 2; extra++) {
    const int n = GC_JSON_MAX_DEPTH + extra;
    for (int i = 0; i < n; i++) deep[i] = '[', deep[2 * n - 1 - i] = ']';
    deep[2 * n] = 0;
    gc_json_free(parse(deep, extra ? GC_ERR_JSON : GC_OK, extra ? "nesting deeper than 256" : NULL));
  }
  free(deep);

  /* a text that is not NUL-terminated: only len bytes are read */
  gc_json *doc = NULL;
  CHECK_STATUS(gc_json_parse("[1]garbage", 3, &doc, NULL, 0), GC_OK);
  CHECK(gc_json_len(gc_json_root(doc)) == 1, "the length bounds the text");
  gc_json_free(doc);
  CHECK_STATUS(gc_json_parse(NULL, 1, &doc, NULL, 0), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_json_parse("1", 1, NULL, NULL, 0), GC_ERR_INVALID_ARGUMENT);
  CHECK(gc_json_root(NULL) == NULL && gc_json_type_of(NULL) == GC_JSON_NULL, "NULL document");
}

static void test_writer(void) {
  gc_json_writer w = {0};
  gc_jw_raw(&w, "{\"s\":");
  gc_jw_str(&w, "a\"b\\c\n\x01\xc3\xa9");
  gc_jw_raw(&w, ",\"n\":[");
  gc_jw_num(&w, 0.1f);
  gc_jw_raw(&w, ",");
  gc_jw_num(&w, NAN);
  gc_jw_raw(&w, ",");
  gc_jw_num(&w, 299);
  gc_jw_rawf(&w, ",%d]", 7);
  gc_jw_raw(&w, ",\"z\":");
  gc_jw_str(&w, NULL);
  gc_jw_raw(&w, "}");
  CHECK(!w.failed && w.text, "writer succeeded");
  CHECK(!strcmp(w.text, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\",\"n\":[0.100000001,null,299,7],\"z\":null}"),
        "writer output: %s", w.text);
  gc_json *doc = parse(w.text, GC_OK, NULL);
  const gc_json_value *r = gc_json_root(doc);
  CHECK(!strcmp(gc_json_str(gc_json_get(r, "s")), "a\"b\\c\n\x01\xc3\xa9"), "string reads back");
  CHECK((float)gc_json_num(gc_json_at(gc_json_get(r, "n"), 0), 0) == 0.1f, "%%.9g reads back to the same float");
  gc_json_free(doc);
  gc_jw_free(&w);
  /* a long printf-style piece takes the second path of gc_jw_rawf */
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  gc_jw_rawf(&w, "%s", big);
  CHECK(w.len == sizeof big - 1 && strlen(w.text) == w.len, "long rawf: %zu bytes", w.len);
  gc_jw_free(&w);
}

/* Containers put their own commas; keys take their values without one; misuse fails. */
static void test_structured_writer(void) {
  gc_json_writer w = {0};
  gc_jw_open(&w, '{');
  gc_jw_key(&w, "top");
  gc_jw_open(&w, '[');
  for (int i = 0; i < 2; i++) {
    gc_jw_open(&w, '{');
    gc_jw_key(&w, "index");
    gc_jw_int(&w, 281 + i);
    gc_jw_key(&w, "na\"me");
    gc_jw_str(&w, i ? NULL : "tab\tby");
    gc_jw_close(&w);
  }
  gc_jw_close(&w);
  gc_jw_key(&w, "empty");
  gc_jw_open(&w, '[');
  gc_jw_close(&w);
  gc_jw_key(&w, "ms");
  gc_jw_numf(&w, "%.3f", 2.0 / 3.0);
  gc_jw_key(&w, "flags");
  gc_jw_open(&w, '[');
  gc_jw_bool(&w, 1);
  gc_jw_bool(&w, 0);
  gc_jw_null(&w);
  gc_jw_num(&w, INFINITY);
  gc_jw_close(&w);
  const float f[3] = {0.1f, -2.0f, NAN};
  gc_jw_key(&w, "f");
  gc_jw_floats(&w, f, 3);
  gc_jw_close(&w);
  CHECK(!w.failed && w.depth == 0, "balanced");
  const char *want = "{\"top\":[{\"index\":281,\"na\\\"me\":\"tab\\tby\"},{\"index\":282,\"na\\\"me\":null}],"
                     "\"empty\":[],\"ms\":0.667,\"flags\":[true,false,null,null],\"f\":[0.100000001,-2,null]}";
  CHECK(w.text && !strcmp(w.text, want), "structured output: %s", w.text);
  gc_json *doc = parse(w.text, GC_OK, NULL);
  CHECK(gc_json_len(gc_json_get(gc_json_root(doc), "top")) == 2, "reads back");
  gc_json_free(doc);
  gc_jw_free(&w);

  /* misuse: a close with nothing open, a close right after a key, nesting too deep */
  gc_jw_close(&w);
  CHECK(w.failed, "close with nothing open fails");
  gc_jw_free(&w);
  gc_jw_open(&w, '{');
  gc_jw_key(&w, "k");
  gc_jw_close(&w);
  CHECK(w.failed, "a key without its value fails");
  gc_jw_free(&w);
  for (int i = 0; i <= GC_JW_MAX_DEPTH; i++) gc_jw_open(&w, '[');
  CHECK(w.failed && w.depth == GC_JW_MAX_DEPTH, "nesting past GC_JW_MAX_DEPTH fails (depth %d)", w.depth);
  gc_jw_free(&w);
  gc_jw_open(&w, '(');
  CHECK(w.failed, "only { and [ open containers");
  gc_jw_free(&w);
  /* a failed writer stays failed and its text stays what it was */
  gc_jw_open(&w, '[');
  gc_jw_close(&w);
  gc_jw_close(&w);
  gc_jw_int(&w, 5);
  CHECK(w.failed && !strcmp(w.text, "[]"), "no-op after failure: %s", w.text);
  gc_jw_free(&w);
}

int main(void) {
  test_values();
  test_errors();
  test_writer();
  test_structured_writer();
  return check_report("test_json");
}
