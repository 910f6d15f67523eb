/* detect.c - what a file is, by its content, never by its name; and the table of formats.
 *
 * The first bytes tell the container:
 *   "GCAMWTS\0"                      the project's .gcw (a shorter prefix of it too: truncated)
 *   "\x89HDF\r\n\x1a\n"             HDF5 (superblock at offset 0, as h5py writes it)
 *   "PK\x03\x04" or "PK\x05\x06"     a ZIP archive (a .keras file)
 *   '{' after white space or a BOM   JSON (a TF.js model.json)
 * Inside an HDF5 file the layout tells the Keras format (keras_legacy.c, keras3.c):
 *   a root attribute layer_names             Keras 1/2 weights-only (save_weights), Keras 1 when
 *                                            keras_version starts with "1" or the weights have
 *                                            Keras 1 names (block1_conv1_W:0, running_std)
 *   a group model_weights                    Keras 2 full model (model.save()), its config in
 *                                            the root attribute model_config
 *   a group layers                           Keras 3 .weights.h5 (layers/<class>_<k>/vars/<i>)
 * Inside a ZIP: model.weights.h5 (a Keras 3 weights file) and config.json. In JSON: a
 * weightsManifest and a modelTopology (TF.js layers format).
 */
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

static const gc_format_info kFormats[] = {
    {"gcw", "the project's weights file (.gcw)"},
    {"keras1-h5", "Keras 1 weights-only HDF5 (.h5)"},
    {"keras2-h5", "Keras 2 weights-only HDF5 (.h5, save_weights)"},
    {"keras2-model-h5", "Keras 2 full-model HDF5 (.h5, model.save)"},
    {"keras3-weights-h5", "Keras 3 weights (.weights.h5)"},
    {"keras3-keras", "Keras 3 model archive (.keras)"},
    {"tfjs-layers", "TF.js layers model (model.json + weight shards)"},
};

int gc_format_count(void) { return (int)(sizeof kFormats / sizeof kFormats[0]); }

const gc_format_info *gc_format_at(int i) { return i >= 0 && i < gc_format_count() ? &kFormats[i] : NULL; }

const gc_format_info *gc_format_find(const char *id) {
  for (int i = 0; id && i < gc_format_count(); i++)
    if (!strcmp(kFormats[i].id, id)) return &kFormats[i];
  return NULL;
}

static int starts(const unsigned char *b, size_t size, const char *sig, size_t n) {
  return size >= n && !memcmp(b, sig, n);
}

gc_container gc_detect_container(const void *bytes, size_t size, char *what, size_t whatlen) {
  const unsigned char *b = bytes;
  if (what && whatlen) what[0] = 0;
  if (!b) size = 0;
  if (size && size < 8 && !memcmp(b, GC_WEIGHTS_MAGIC, size)) return GC_CONTAINER_GCW;
  if (starts(b, size, GC_WEIGHTS_MAGIC, 8)) return GC_CONTAINER_GCW;
  if (starts(b, size, "\x89HDF\r\n\x1a\n", 8)) return GC_CONTAINER_HDF5;
  if (starts(b, size, "PK\x03\x04", 4) || starts(b, size, "PK\x05\x06", 4)) return GC_CONTAINER_ZIP;
  size_t i = starts(b, size, "\xef\xbb\xbf", 3) ? 3 : 0;
  while (i < size && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
  if (i < size && b[i] == '{') return GC_CONTAINER_JSON;
  if (!what || !whatlen) return GC_CONTAINER_UNKNOWN;
  /* a name for what it is instead, for the message */
  static const struct {
    const char *sig;
    size_t n;
    const char *name;
  } known[] = {
      {"\x89PNG", 4, "a PNG image"},        {"\xff\xd8\xff", 3, "a JPEG image"},  {"GIF8", 4, "a GIF image"},
      {"\x1f\x8b", 2, "gzip-compressed data (unpack it first)"}, {"%PDF", 4, "a PDF document"},
      {"\x89HDF", 4, "a damaged HDF5 file (its signature is cut short)"},
      {"PK", 2, "a damaged ZIP archive"},   {"BM", 2, "a BMP image"},
      {"\x08\x01\x12", 3, "a protocol buffer (a TensorFlow SavedModel's saved_model.pb?)"},
  };
  if (size == 0) {
    snprintf(what, whatlen, "an empty file");
    return GC_CONTAINER_UNKNOWN;
  }
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (starts(b, size, known[k].sig, known[k].n)) {
      snprintf(what, whatlen, "%s", known[k].name);
      return GC_CONTAINER_UNKNOWN;
    }
  if (i < size && b[i] == '[') {
    snprintf(what, whatlen, "a JSON list (a labels file? give it as the class names)");
    return GC_CONTAINER_UNKNOWN;
  }
  int text = 1;
  for (size_t k = 0; k < size && k < 512 && text; k++) text = b[k] >= 0x20 || b[k] == '\n' || b[k] == '\r' || b[k] == '\t';
  if (text) {
    snprintf(what, whatlen, "text that is not JSON");
    return GC_CONTAINER_UNKNOWN;
  }
  snprintf(what, whatlen, "binary data starting with %02x %02x %02x %02x (a TF.js weight shard? give model.json first)",
           b[0], size > 1 ? b[1] : 0, size > 2 ? b[2] : 0, size > 3 ? b[3] : 0);
  return GC_CONTAINER_UNKNOWN;
}
