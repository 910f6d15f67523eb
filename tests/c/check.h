/* check.h - a minimal test harness: CHECK records a failure and goes on; each test binary
 * ends with a "N passed, N failed" line and a non-zero exit status on any failure. */
#ifndef GRADCAM_TEST_CHECK_H
#define GRADCAM_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (cond) {                                                       \
      check_passed++;                                                 \
    } else {                                                          \
      check_failed++;                                                 \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
    }                                                                 \
  } while (0)

#define CHECK_STATUS(expr, want)                                                             \
  do {                                                                                       \
    gc_status got_ = (expr);                                                                 \
    CHECK(got_ == (want), "got %s, want %s", gc_status_to_string(got_), gc_status_to_string(want)); \
  } while (0)

/* expr fails with status `want`, and the message it left in errbuf holds each of the words */
#define CHECK_FAILS(expr, want, errbuf, ...)                                                  \
  do {                                                                                        \
    gc_status got_ = (expr);                                                                  \
    CHECK(got_ == (want), "got %s, want %s (%s)", gc_status_to_string(got_), gc_status_to_string(want), errbuf); \
    const char *words_[] = {__VA_ARGS__};                                                     \
    for (size_t w_ = 0; w_ < sizeof words_ / sizeof *words_; w_++)                            \
      CHECK(strstr(errbuf, words_[w_]) != NULL, "message '%s' lacks '%s'", errbuf, words_[w_]); \
  } while (0)

static int check_report(const char *name) {
  printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
