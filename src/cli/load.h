/* load.h - the CLI's file and model loading (load.c). */
#ifndef GRADCAM_CLI_LOAD_H
#define GRADCAM_CLI_LOAD_H

#include <stddef.h>

#include "gradcam.h"

#define CLI_MAX_FILES 1025 /* model.json and up to 1024 shards */

/* A whole file, malloc'ed; NULL (errno set) on failure. */
unsigned char *cli_read_file(const char *path, size_t *size);

/* Any supported model file (with its TF.js shards) and optional class names into a .gcw v2
 * image (*gcw: gc_free); *desc (may be NULL; free()) receives gc_import_describe's JSON. */
gc_status cli_import(const char *path, const char *labels, gc_dtype dtype, void **gcw, size_t *gcw_size, char **desc,
                     char *err, size_t errlen);

/* A model from any supported file (a .gcw without labels loads directly). */
gc_status cli_load_model(const char *path, const char *labels, int threads, gc_model **m, char *err, size_t errlen);

#endif
