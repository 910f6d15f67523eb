/* test_zip.c - the ZIP reader (src/io/zip.c) on archives built by hand: stored and deflated
 * entries read back (also through a ZIP64 end record and extra fields), and each damage the
 * issue names gives GC_ERR_ZIP with a message naming the entry: an entry that inflates past its
 * declared size (and a deflate bomb), paths outside the archive, duplicate names, a bad CRC; plus
 * declared sizes no stream could reach, overlapping entries, unknown methods and encryption.
 * Archives written by Python's zipfile are compared in tests/js/h5-reader.test.mjs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "io/zip.h"

static char err[GC_ERRBUF_SIZE];

typedef struct zspec {
  const char *name;
  const char *data;
  int method; /* 0 stored, 8 deflate (stored blocks), 80: deflate bomb of 300 matches */
} zspec;

typedef struct zbuilt {
  bytes t;
  size_t local[8], central[8]; /* offsets of each entry's headers */
} zbuilt;

/* local headers and data, the central directory, the end record (ZIP64 records with zip64) */
static void zip_build(zbuilt *z, const zspec *e, int count, int zip64) {
  memset(z, 0, sizeof *z);
  bytes *t = &z->t;
  uint32_t crc[8];
  uint64_t csize[8], usize[8];
  for (int i = 0; i < count; i++) {
    bytes data = {0};
    usize[i] = strlen(e[i].data);
    if (e[i].method == 8) deflate_stored(&data, (const uint8_t *)e[i].data, usize[i]);
    else if (e[i].method == 80) deflate_bomb(&data, 300);
    else put(&data, e[i].data, usize[i]);
    crc[i] = gc_zip_crc32(0, e[i].data, usize[i]);
    csize[i] = data.n;
    z->local[i] = put_str(t, "PK\3\4");
    put_le(t, 20, 2), put_le(t, 0, 2), put_le(t, e[i].method == 80 ? 8 : (uint64_t)e[i].method, 2);
    put_le(t, 0, 4), put_le(t, crc[i], 4), put_le(t, csize[i], 4), put_le(t, usize[i], 4);
    put_le(t, strlen(e[i].name), 2), put_le(t, 0, 2), put_str(t, e[i].name);
    put(t, data.b, data.n);
    free(data.b);
  }
  const size_t cd = t->n;
  for (int i = 0; i < count; i++) {
    z->central[i] = put_str(t, "PK\1\2");
    put_le(t, 20, 2), put_le(t, 20, 2), put_le(t, 0, 2), put_le(t, e[i].method == 80 ? 8 : (uint64_t)e[i].method, 2);
    put_le(t, 0, 4), put_le(t, crc[i], 4);
    put_le(t, zip64 ? 0xffffffff : csize[i], 4), put_le(t, zip64 ? 0xffffffff : usize[i], 4);
    put_le(t, strlen(e[i].name), 2), put_le(t, zip64 ? 28 : 0, 2), put_le(t, 0, 2);
    put_le(t, 0, 2), put_le(t, 0, 2), put_le(t, 0, 4), put_le(t, zip64 ? 0xffffffff : z->local[i], 4);
    put_str(t, e[i].name);
    if (zip64) { /* the extra field: uncompressed size, compressed size, local header offset */
      put_le(t, 1, 2), put_le(t, 24, 2);
      put_le(t, usize[i], 8), put_le(t, csize[i], 8), put_le(t, z->local[i], 8);
    }
  }
  const size_t cd_size = t->n - cd;
  if (zip64) {
    const size_t rec = put_str(t, "PK\6\6");
    put_le(t, 44, 8), put_le(t, 45, 2), put_le(t, 45, 2), put_le(t, 0, 4), put_le(t, 0, 4);
    put_le(t, (uint64_t)count, 8), put_le(t, (uint64_t)count, 8), put_le(t, cd_size, 8), put_le(t, cd, 8);
    put_str(t, "PK\6\7"), put_le(t, 0, 4), put_le(t, rec, 8), put_le(t, 1, 4);
  }
  put_str(t, "PK\5\6");
  put_le(t, 0, 4);
  put_le(t, zip64 ? 0xffff : (uint64_t)count, 2), put_le(t, zip64 ? 0xffff : (uint64_t)count, 2);
  put_le(t, zip64 ? 0xffffffff : cd_size, 4), put_le(t, zip64 ? 0xffffffff : cd, 4), put_le(t, 0, 2);
}

/* open, then extract every entry; the first failing status (err says why) */
static gc_status read_all(const zbuilt *z, const zspec *e, int count) {
  gc_zip *a;
  gc_status s = gc_zip_open(z->t.b, z->t.n, &a, err, sizeof err);
  if (s != GC_OK) return s;
  CHECK(gc_zip_count(a) == count, "count %d, want %d", gc_zip_count(a), count);
  for (int k = 0; k < count && s == GC_OK; k++) {
    const int i = gc_zip_find(a, e[k].name);
    CHECK(i >= 0 && !strcmp(gc_zip_name(a, i), e[k].name), "entry '%s' not found", e[k].name);
    uint8_t *data;
    size_t size;
    s = i < 0 ? GC_ERR_ZIP : gc_zip_extract(a, i, &data, &size, err, sizeof err);
    if (s != GC_OK) break;
    CHECK(size == strlen(e[k].data) && !memcmp(data, e[k].data, size), "entry '%s' differs", e[k].name);
    free(data);
  }
  gc_zip_close(a);
  return s;
}

#define EXPECT_ZIP_ERROR(z, e, count, ...) CHECK_FAILS(read_all(z, e, count), GC_ERR_ZIP, err, __VA_ARGS__)

static const zspec kValid[] = {
    {"metadata.json", "{\"keras_version\": \"3.3.3\"}", 0},
    {"config.json", "{\"class_name\": \"Functional\", \"config\": {\"layers\": []}}", 8},
    {"assets/", "", 0},
    {"model.weights.h5", "\x89HDF\r\n\x1a\n and more", 8},
};

static void test_valid(void) {
  for (int zip64 = 0; zip64 < 2; zip64++) {
    zbuilt z;
    zip_build(&z, kValid, 4, zip64);
    CHECK(gc_zip_is_zip(z.t.b, z.t.n), "is_zip");
    CHECK_STATUS(read_all(&z, kValid, 4), GC_OK);
    gc_zip *a;
    CHECK_STATUS(gc_zip_open(z.t.b, z.t.n, &a, err, sizeof err), GC_OK);
    CHECK(gc_zip_find(a, "nothing") == -1 && gc_zip_name(a, 4) == NULL && gc_zip_size(a, 1) == strlen(kValid[1].data),
          "find, name, size");
    gc_zip_close(a);
    free(z.t.b);
  }
  bytes empty = {0};
  put_str(&empty, "PK\5\6"), put(&empty, NULL, 18);
  gc_zip *a;
  CHECK(gc_zip_is_zip(empty.b, empty.n), "an empty archive is a ZIP");
  CHECK_STATUS(gc_zip_open(empty.b, empty.n, &a, err, sizeof err), GC_OK);
  CHECK(gc_zip_count(a) == 0, "empty");
  gc_zip_close(a);
  CHECK_STATUS(gc_zip_open(empty.b, 21, &a, err, sizeof err), GC_ERR_ZIP);
  CHECK(strstr(err, "no end-of-central-directory record") != NULL, "%s", err);
  free(empty.b);
  CHECK(gc_zip_crc32(0, "123456789", 9) == 0xcbf43926u, "CRC-32 check value");
}

static void test_larger_than_declared(void) {
  zspec e[2] = {kValid[0], {"weights", "0123456789abcdef0123456789abcdef", 8}};
  zbuilt z;
  zip_build(&z, e, 2, 0);
  set_le(&z.t, z.central[1] + 24, 20, 4); /* declared 20 bytes, the stream holds 32 */
  EXPECT_ZIP_ERROR(&z, e, 2, "entry 'weights'", "inflates past its declared size of 20 bytes");
  set_le(&z.t, z.central[1] + 24, 40, 4); /* and 40: the stream ends early */
  EXPECT_ZIP_ERROR(&z, e, 2, "entry 'weights'", "inflates to 32 bytes, not its declared 40");
  free(z.t.b);
  /* a deflate bomb: 77 KB from 490 bytes, declared 1000 */
  zspec b[1] = {{"bomb", "", 80}};
  zip_build(&z, b, 1, 0);
  set_le(&z.t, z.central[0] + 24, 1000, 4);
  EXPECT_ZIP_ERROR(&z, b, 1, "entry 'bomb'", "inflates past its declared size of 1000 bytes");
  /* declared sizes beyond deflate's reach are refused before inflating */
  set_le(&z.t, z.central[0] + 24, 1032u * 490 + 1000, 4);
  EXPECT_ZIP_ERROR(&z, b, 1, "entry 'bomb'", "declares more bytes than its compressed data could inflate to");
  free(z.t.b);
}

static void test_paths(void) {
  static const char *const bad[] = {"../x", "/etc/x", "a/../../x", "a/..", "C:/x", "a\\b", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    zspec e[2] = {kValid[0], {bad[i], "x", 0}};
    zbuilt z;
    zip_build(&z, e, 2, 0);
    EXPECT_ZIP_ERROR(&z, e, 2, "is refused: its name");
    char quoted[64];
    snprintf(quoted, sizeof quoted, "entry '%s'", bad[i]);
    CHECK(strstr(err, quoted) != NULL, "'%s' not named: %s", bad[i], err);
    free(z.t.b);
  }
  zspec ok[1] = {{"a/..b/c..", "x", 0}}; /* dots that are not a '..' component */
  zbuilt z;
  zip_build(&z, ok, 1, 0);
  CHECK_STATUS(read_all(&z, ok, 1), GC_OK);
  free(z.t.b);
}

static void test_duplicates_and_layout(void) {
  zspec e[3] = {kValid[0], {"model.weights.h5", "a", 0}, {"model.weights.h5", "b", 0}};
  zbuilt z;
  zip_build(&z, e, 3, 0);
  EXPECT_ZIP_ERROR(&z, e, 3, "entry 'model.weights.h5' appears twice");
  free(z.t.b);
  /* the second entry's header inside the first entry's data */
  zspec o[2] = {{"first", "0123456789012345678901234567890123456789", 0}, {"second", "x", 0}};
  zip_build(&z, o, 2, 0);
  set_le(&z.t, z.central[1] + 42, z.local[0] + 40, 4);
  EXPECT_ZIP_ERROR(&z, o, 2, "entry 'second' overlaps the entry before it");
  /* both at the first's header: the names differ */
  set_le(&z.t, z.central[1] + 42, z.local[0], 4);
  EXPECT_ZIP_ERROR(&z, o, 2, "entry 'second' overlaps the entry before it");
  set_le(&z.t, z.central[1] + 42, z.local[1], 4);
  CHECK_STATUS(read_all(&z, o, 2), GC_OK);
  z.t.b[z.local[1] + 30] = 'S'; /* the local header says "Second" */
  EXPECT_ZIP_ERROR(&z, o, 2, "entry 'second' has a local header that names another entry");
  free(z.t.b);
}

static void test_crc_method_encryption(void) {
  zbuilt z;
  zip_build(&z, kValid, 4, 0);
  set_le(&z.t, z.central[3] + 16, 0x12345678, 4);
  EXPECT_ZIP_ERROR(&z, kValid, 4, "entry 'model.weights.h5'", "fails its CRC-32 check (stored 12345678");
  set_le(&z.t, z.central[3] + 16, gc_zip_crc32(0, kValid[3].data, strlen(kValid[3].data)), 4);
  CHECK_STATUS(read_all(&z, kValid, 4), GC_OK);
  set_le(&z.t, z.central[1] + 10, 12, 2); /* bzip2 */
  EXPECT_ZIP_ERROR(&z, kValid, 4, "entry 'config.json'", "compression method 12");
  set_le(&z.t, z.central[1] + 10, 8, 2);
  set_le(&z.t, z.central[1] + 8, 1, 2);
  EXPECT_ZIP_ERROR(&z, kValid, 4, "entry 'config.json'", "encrypted");
  free(z.t.b);
  /* a ZIP64 end record pointing outside the archive */
  zip_build(&z, kValid, 4, 1);
  set_le(&z.t, z.t.n - 22 - 20 + 8, z.t.n * 2, 8);
  EXPECT_ZIP_ERROR(&z, kValid, 4, "ZIP64 end record");
  free(z.t.b);
}

int main(void) {
  test_valid();
  test_larger_than_declared();
  test_paths();
  test_duplicates_and_layout();
  test_crc_method_encryption();
  return check_report("test_zip");
}
