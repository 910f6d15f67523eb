/* test_h5.c - the HDF5 reader (src/io/h5*.c) on files built by hand (h5build.h): the undamaged
 * file reads back exactly, and each damage the issue names gives GC_ERR_H5 with a message naming
 * the damaged object: a truncated superblock, an object header continuation loop, a B-tree cycle,
 * a chunk index pointing past the end of the file, a deflate bomb; then the damaged files of the
 * old fuzz_h5 corpus (each of which crashed, hung or leaked in libhdf5). Files written by h5py are
 * compared with h5py in tests/js/h5-reader.test.mjs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "h5build.h"
#include "io/h5.h"
#include "io/h5_priv.h"
#include "../tools/h5walk.h"

static char err[GC_ERRBUF_SIZE];

/* opens the image, finds "data", reads it; returns the first failing status (err says why) */
static gc_status read_data(const bytes *t, int n, float *out) {
  gc_h5 *f;
  gc_status s = gc_h5_open(t->b, t->n, &f, err, sizeof err);
  if (s != GC_OK) return s;
  gc_h5_obj ds;
  gc_h5_dataset_info info;
  s = gc_h5_open_path(f, gc_h5_root(f), "data", &ds, err, sizeof err);
  if (s == GC_OK) s = gc_h5_dataset_info_of(f, ds, &info, err, sizeof err);
  if (s == GC_OK && info.count != (uint64_t)n) s = GC_ERR_INVALID_ARGUMENT;
  if (s == GC_OK) s = gc_h5_read_f32(f, ds, out, (uint64_t)n, err, sizeof err);
  gc_h5_close(f);
  return s;
}

#define EXPECT_H5_ERROR(t, n, out, ...) CHECK_FAILS(read_data(t, n, out), GC_ERR_H5, err, __VA_ARGS__)

static void test_valid(void) {
  for (int deflate = 0; deflate < 2; deflate++) {
    h5b_file f;
    h5b_make(&f, &(h5b_opts){10, 4, deflate, deflate, 0, 0});
    float v[10];
    CHECK_STATUS(read_data(&f.t, 10, v), GC_OK);
    int same = 1;
    for (int i = 0; i < 10; i++) same &= v[i] == h5b_value(i);
    CHECK(same, "deflate %d: values differ (v[9] = %g)", deflate, v[9]);
    free(f.t.b);
  }
}

static void test_superblock(void) {
  h5b_file f;
  h5b_make(&f, &(h5b_opts){10, 4, 0, 0, 0, 0});
  float v[10];
  const size_t full = f.t.n;
  for (size_t cut = 9; cut < 96; cut += 29) { /* truncated superblocks */
    f.t.n = cut;
    EXPECT_H5_ERROR(&f.t, 10, v, "the superblock", "truncated");
  }
  f.t.n = 8;
  EXPECT_H5_ERROR(&f.t, 10, v, "the superblock", "truncated");
  f.t.n = 7;
  EXPECT_H5_ERROR(&f.t, 10, v, "not an HDF5 file");
  f.t.n = full - 1; /* the end address says one byte more */
  EXPECT_H5_ERROR(&f.t, 10, v, "the superblock", "truncated");
  f.t.n = full;
  f.t.b[8] = 4;
  EXPECT_H5_ERROR(&f.t, 10, v, "superblock version 4");
  f.t.b[8] = 0;
  f.t.b[13] = 3; /* 3-byte addresses */
  EXPECT_H5_ERROR(&f.t, 10, v, "sizes of addresses");
  free(f.t.b);
}

static void test_continuation_loop(void) {
  h5b_file f;
  h5b_make(&f, &(h5b_opts){10, 4, 0, 1, 0, 0});
  float v[10];
  CHECK_STATUS(read_data(&f.t, 10, v), GC_OK);
  /* the second block continues into the first: a NIL message made a continuation back */
  set_le(&f.t, f.cont_block, 0x10, 2);
  set_le(&f.t, f.cont_block + 8, f.ds + 16, 8);
  set_le(&f.t, f.cont_block + 16, 8, 8);
  EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "continuation loop");
  /* a header that continues into itself */
  set_le(&f.t, f.cont_block, 0, 2);
  set_le(&f.t, f.ds_cont, f.ds + 16, 8);
  EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "continuation loop");
  free(f.t.b);
}

static void test_btree_cycle(void) {
  h5b_file f;
  h5b_make(&f, &(h5b_opts){10, 4, 0, 0, 0, 0});
  float v[10];
  /* the group's B-tree root claims level 1 and names itself as its child */
  f.t.b[f.gbtree + 5] = 1;
  set_le(&f.t, f.gbtree + 8 + 16 + 8, f.gbtree, 8);
  EXPECT_H5_ERROR(&f.t, 10, v, "'/'", "B-tree cycle");
  free(f.t.b);
  /* the chunk B-tree: two levels, the child of the root is the root again */
  h5b_make(&f, &(h5b_opts){10, 4, 0, 0, 0, 0});
  f.t.b[f.cbtree + 5] = 2;
  set_le(&f.t, f.chunk_child[0], f.cbtree, 8);
  EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "B-tree cycle");
  free(f.t.b);
}

static void test_chunk_past_end(void) {
  h5b_file f;
  for (int deflate = 0; deflate < 2; deflate++) {
    h5b_make(&f, &(h5b_opts){10, 4, deflate, 0, 0, 0});
    float v[10];
    set_le(&f.t, f.chunk_child[1], f.t.n + 4096, 8);
    EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "chunk (1)", "past the end of the file");
    set_le(&f.t, f.chunk_child[1], f.chunk_data[1], 8);
    set_le(&f.t, f.chunk_key[2] + 8, 0, 8); /* the last chunk's offset: 0, like the first's */
    EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "chunk (0)", "twice");
    free(f.t.b);
  }
}

static void test_deflate_bomb(void) {
  h5b_file f;
  h5b_make(&f, &(h5b_opts){10, 4, 1, 0, 0, 0});
  float v[10];
  /* chunk 2 becomes a stream of 300 matches: 77 KB from 490 bytes, for a chunk of 16 bytes */
  bytes bomb = {0};
  zlib_bomb(&bomb, 300);
  f.chunk_data[2] = put(&f.t, bomb.b, bomb.n);
  set_le(&f.t, f.chunk_child[2], f.chunk_data[2], 8);
  set_le(&f.t, f.chunk_key[2], bomb.n, 4);
  set_le(&f.t, f.sb_eof, f.t.n, 8);
  EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "chunk (2)", "inflates past its size of 16 bytes");
  /* a stream that ends early: 8 of the chunk's 16 bytes */
  bytes shorter = {0};
  const float half[2] = {1, 2};
  zlib_stored(&shorter, (const uint8_t *)half, sizeof half);
  memcpy(f.t.b + f.chunk_data[2], shorter.b, shorter.n);
  set_le(&f.t, f.chunk_key[2], shorter.n, 4);
  EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "chunk (2)", "inflates to 8 bytes, not 16");
  /* damaged compressed data */
  f.t.b[f.chunk_data[2] + 2] = 0x07; /* block type 3 does not exist */
  EXPECT_H5_ERROR(&f.t, 10, v, "'data'", "chunk (2)", "does not inflate");
  free(bomb.b);
  free(shorter.b);
  free(f.t.b);
}

/* chunk index entries that all point at one stored chunk: the file is small, the work is not */
static void test_shared_chunks(void) {
  h5b_file f;
  const int n = 2100; /* 2100 chunks of 1 x 25000 floats (100 KB, 99.996% outside the n x 1 dataset) */
  float *v = malloc(n * sizeof *v);
  h5b_make(&f, &(h5b_opts){n, 1, 1, 0, 25000, 0});
  CHECK_STATUS(read_data(&f.t, n, v), GC_OK);
  CHECK(v[0] == h5b_value(0) && v[n - 1] == h5b_value(n - 1), "edge chunks read back");
  free(f.t.b);
  h5b_make(&f, &(h5b_opts){n, 1, 1, 0, 25000, 1});
  printf("  %d chunks of 100 KB sharing one stream, file of %zu bytes\n", n, f.t.n);
  EXPECT_H5_ERROR(&f.t, n, v, "'data'", "decode to more than 1032 x the file's size");
  free(f.t.b);
  free(v);
}

static void test_api(void) {
  h5b_file f;
  h5b_make(&f, &(h5b_opts){10, 4, 0, 0, 0, 0});
  gc_h5 *h;
  CHECK_STATUS(gc_h5_open(f.t.b, f.t.n, &h, err, sizeof err), GC_OK);
  gc_h5_obj root = gc_h5_root(h), ds;
  CHECK(gc_h5_exists(h, root, "data", err, sizeof err) == 1, "exists data");
  CHECK(gc_h5_exists(h, root, "/./data", err, sizeof err) == 1, "exists /./data");
  CHECK(gc_h5_exists(h, root, "nothing", err, sizeof err) == 0, "exists nothing");
  CHECK(gc_h5_exists(h, root, "data/below", err, sizeof err) == 0, "a path through a dataset");
  CHECK_STATUS(gc_h5_open_path(h, root, "nothing/x", &ds, err, sizeof err), GC_ERR_H5);
  CHECK(strstr(err, "no object 'nothing/x'") != NULL, "%s", err);
  CHECK_STATUS(gc_h5_open_path(h, root, "data", &ds, err, sizeof err), GC_OK);
  gc_h5_kind kind;
  CHECK_STATUS(gc_h5_kind_of(h, ds, &kind, err, sizeof err), GC_OK);
  CHECK(kind == GC_H5_DATASET, "kind %d", kind);
  CHECK_STATUS(gc_h5_kind_of(h, root, &kind, err, sizeof err), GC_OK);
  CHECK(kind == GC_H5_GROUP, "kind %d", kind);
  gc_h5_strings kids;
  CHECK_STATUS(gc_h5_children(h, root, &kids, err, sizeof err), GC_OK);
  CHECK(kids.count == 1 && !strcmp(kids.items[0], "data"), "children");
  gc_h5_strings_free(&kids);
  CHECK_STATUS(gc_h5_children(h, ds, &kids, err, sizeof err), GC_ERR_H5);
  CHECK(strstr(err, "'data': is not a group") != NULL, "%s", err);
  float v[10];
  CHECK_STATUS(gc_h5_read_f32(h, ds, v, 9, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_h5_read_f32(h, root, v, 10, err, sizeof err), GC_ERR_H5);
  CHECK(strstr(err, "'/': is not a dataset") != NULL, "%s", err);
  CHECK(gc_h5_has_attr(h, ds, "x", err, sizeof err) == 0, "no attributes");
  CHECK_STATUS(gc_h5_attr_strings(h, ds, "x", &kids, err, sizeof err), GC_ERR_H5);
  CHECK_STATUS(gc_h5_open_path(NULL, root, "data", &ds, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_h5_open(NULL, 10, &h, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
  gc_h5_close(h);
  /* a dataset bigger than any file this size could hold */
  set_le(&f.t, f.ds + 16 + 8 + 8, (uint64_t)1 << 40, 8);
  CHECK_STATUS(read_data(&f.t, 10, v), GC_ERR_H5);
  CHECK(strstr(err, "'data'") && strstr(err, "cannot come from a file of"), "%s", err);
  free(f.t.b);
  /* Jenkins' lookup3 test vectors (hashlittle) */
  CHECK(h5_lookup3((const uint8_t *)"", 0, 0) == 0xdeadbeefu, "lookup3 of nothing");
  CHECK(h5_lookup3((const uint8_t *)"Four score and seven years ago", 30, 0) == 0x17770551u, "lookup3, 0");
  CHECK(h5_lookup3((const uint8_t *)"Four score and seven years ago", 30, 1) == 0xcd628161u, "lookup3, 1");
}

/* a superblock 2 whose checksum no longer matches */
static void test_checksum(void) {
  bytes t = {0};
  put(&t, "\x89HDF\r\n\x1a\n", 8);
  put_le(&t, 2, 1), put_le(&t, 8, 1), put_le(&t, 8, 1), put_le(&t, 0, 1);
  put_le(&t, 0, 8), put_le(&t, H5B_UNDEF, 8), put_le(&t, 200, 8), put_le(&t, 48, 8);
  put_le(&t, h5_lookup3(t.b, t.n, 0), 4);
  put(&t, NULL, 200 - t.n);
  gc_h5 *h;
  CHECK_STATUS(gc_h5_open(t.b, t.n, &h, err, sizeof err), GC_ERR_H5); /* the root is zeros */
  CHECK(strstr(err, "no object header at 0x30") != NULL, "%s", err);
  t.b[20] ^= 1;
  CHECK_STATUS(gc_h5_open(t.b, t.n, &h, err, sizeof err), GC_ERR_H5);
  CHECK(strstr(err, "the superblock at 0x0 fails its checksum") != NULL, "%s", err);
  free(t.b);
}

/* the damaged files of the old fuzz_h5 corpus, and the one that crashed libhdf5 */
static void test_old_regressions(void) {
  static const char *const files[] = {
      "tests/fuzz/regressions/fuzz_h5/libhdf5-4gib-conversion-buffer.h5",
      "tests/fuzz/regressions/fuzz_h5/libhdf5-global-heap-hang.h5",
      "tests/fuzz/regressions/fuzz_h5/libhdf5-open-failure-leak.h5",
      "tests/data/damaged-h5/libhdf5-segv.h5",
  };
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", GRADCAM_SOURCE_DIR, files[i]);
    bytes t = {0};
    const int read = put_file(&t, path);
    CHECK(read && t.n > 0, "cannot read %s", path);
    if (!read || !t.n) continue;
    h5walk_opts o = {NULL, 1, 0, 0, 0, NULL, NULL};
    gc_status s = h5walk_bytes(t.b, t.n, &o, err, sizeof err);
    CHECK(s == GC_ERR_H5, "%s: %s (%s)", files[i], gc_status_to_string(s), err);
    CHECK(err[0] == '\'' || !strncmp(err, "object at 0x", 12), "%s: the message names no object: %s", files[i], err);
    printf("  %s: %s\n", strrchr(files[i], '/') + 1, err);
    free(t.b);
  }
}

int main(void) {
  test_valid();
  test_superblock();
  test_continuation_loop();
  test_btree_cycle();
  test_chunk_past_end();
  test_deflate_bomb();
  test_shared_chunks();
  test_api();
  test_checksum();
  test_old_regressions();
  return check_report("test_h5");
}
