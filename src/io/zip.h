/* zip.h - a reader for ZIP archives (.keras files) on an image in memory. Not public.
 *
 * Supported: the end-of-central-directory record (and its ZIP64 form), the central directory,
 * local headers, methods 0 (stored) and 8 (deflate, decoded by stb_image's inflate), CRC-32
 * checked. Not supported: encryption, multi-disk archives, other methods (each a named error).
 *
 * Safety contract (the bytes are untrusted): every offset and size is checked against the
 * archive before use; an entry inflates into a buffer of exactly its declared size and inflating
 * more (or less) is an error, as is a declared size over 1032 x its compressed size; names with
 * an absolute path, a drive letter, a backslash or a '..' component are refused at open time (an
 * archive may not point outside itself); duplicate names are refused. Failures return GC_ERR_ZIP
 * with a message naming the entry, GC_ERR_OUT_OF_MEMORY, or GC_ERR_INVALID_ARGUMENT.
 */
#ifndef GRADCAM_IO_ZIP_H
#define GRADCAM_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "gradcam.h"

typedef struct gc_zip gc_zip; /* borrows the bytes, which must outlive it */

/* 1 if the bytes start with a local file header signature ("PK\3\4") or are an empty archive. */
int gc_zip_is_zip(const void *bytes, size_t size);
gc_status gc_zip_open(const void *bytes, size_t size, gc_zip **out, char *err, size_t errlen);
void gc_zip_close(gc_zip *z);
int gc_zip_count(const gc_zip *z);
/* Name of entry i (0 <= i < count), NULL out of range. Directory entries end with '/'. */
const char *gc_zip_name(const gc_zip *z, int i);
uint64_t gc_zip_size(const gc_zip *z, int i); /* declared uncompressed size */
/* Index of the entry with exactly this name, -1 if none. */
int gc_zip_find(const gc_zip *z, const char *name);
/* The uncompressed bytes of entry i, malloc'ed (free with free()), size checked and CRC-32
 * verified. */
gc_status gc_zip_extract(gc_zip *z, int i, uint8_t **data, size_t *size, char *err, size_t errlen);
/* The CRC-32 of ZIP (and zlib), continued from crc (0 to start). */
uint32_t gc_zip_crc32(uint32_t crc, const void *data, size_t size);

#endif
