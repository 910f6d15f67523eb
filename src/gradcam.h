/*
 * gradcam.h - the one public header of the Xception Grad-CAM core.
 *
 * Overview
 * --------
 * The core runs Keras Xception classifiers on XNNPACK operators, natively and in WebAssembly:
 * the ImageNet model (299x299x3 -> 1000 classes) and any model built on the Xception base with a
 * head of global pooling and Dense layers (a fine-tuned classifier), as its weights file says
 * (gc_import_* reads Keras' files; the .gcw format carries the model's definition). It is plain C11; everything lives in an
 * opaque gc_model handle, except the choice of arithmetic (gc_set_arithmetic), which is
 * process-wide because XNNPACK picks its kernels once per process. Every function that can
 * fail returns a gc_status; gc_status_to_string() names it, and gc_model_last_error() (or the errbuf of
 * the loaders) gives a human-readable detail. Bad input never exits or aborts.
 *
 * Usage
 * -----
 *     gc_params p = gc_default_params();
 *     p.threads = 2;
 *     gc_model *m = NULL;
 *     char err[256];
 *     gc_status s = gc_model_load_file("weights/xception.gcw", &p, &m, err, sizeof err);
 *     if (s != GC_OK) { fprintf(stderr, "%s: %s\n", gc_status_to_string(s), err); return 1; }
 *     s = gc_model_forward_image(m, rgba, width, height, width * 4, GC_PIXEL_RGBA8);
 *     gc_class_score top[5];
 *     gc_model_top_k(m, 5, top);          // top[0].index, gc_class_name(top[0].index), .prob
 *     gc_model_free(m);
 *
 * Ownership: pointers returned by gc_model_* accessors point into the model and stay
 * valid until the next forward call, gc_model_set_threads() or gc_model_free().
 *
 * Memory: after a forward pass the model keeps the activations its backward pass reads; the
 * others (stand-alone ReLUs, pools, residual convolutions, ...) are recomputed from their
 * inputs when gc_model_activation asks for them.
 *
 * Layers: every intermediate activation is addressable by its Keras layer name
 * (block1_conv1_act ... block14_sepconv2_act, block2_pool, ...). The residual
 * additions, which Keras names add/add_1/..., are called block2_add ... block13_add here;
 * the four residual 1x1 convolutions (+BN) are block2_residual, block3_residual,
 * block4_residual and block13_residual. gc_layer_count()/gc_layer_name() list them all.
 */
#ifndef GRADCAM_H
#define GRADCAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GC_VERSION_STRING "0.1.0"
#define GC_NUM_CLASSES 1000
#define GC_INPUT_SIZE 299 /* the size images are resized to */
#define GC_MIN_INPUT_SIZE 71 /* smallest tensor the network accepts */
#define GC_MAX_INPUT_SIZE 1024 /* largest tensor side gc_model_forward_tensor accepts */
#define GC_MAX_IMAGE_SIDE 131072 /* largest image side accepted by the image entry points */
#define GC_MAX_IMAGE_PIXELS (64 * 1024 * 1024) /* largest width * height accepted */
#define GC_MAX_DIMS 4
#define GC_ERRBUF_SIZE 256

typedef enum gc_status {
  GC_OK = 0,
  GC_ERR_INVALID_ARGUMENT,    /* NULL pointer, negative size, bad option */
  GC_ERR_OUT_OF_MEMORY,
  GC_ERR_IO,                  /* file could not be opened or read */
  GC_ERR_WEIGHTS_TRUNCATED,   /* file shorter than its header/table says */
  GC_ERR_WEIGHTS_MAGIC,       /* not a weights file of this project */
  GC_ERR_WEIGHTS_VERSION,     /* format version this build does not read */
  GC_ERR_WEIGHTS_MODEL,       /* weights of another model (not Xception) */
  GC_ERR_WEIGHTS_CHECKSUM,    /* data does not match its checksum */
  GC_ERR_WEIGHTS_SHAPE,       /* a tensor has the wrong shape */
  GC_ERR_WEIGHTS_MISSING,     /* a tensor the model needs is absent */
  GC_ERR_WEIGHTS_CORRUPT,     /* malformed table (bad offsets, dtype, names) */
  GC_ERR_IMAGE_INVALID,       /* bad pixel buffer, stride or format */
  GC_ERR_IMAGE_SIZE,          /* image or tensor too small or too large */
  GC_ERR_IMAGE_DECODE,        /* bytes are not a decodable image */
  GC_ERR_LAYER_UNKNOWN,       /* no layer by that name */
  GC_ERR_CLASS_OUT_OF_RANGE,  /* class index not in 0..999 */
  GC_ERR_NOT_RUN,             /* result asked for before a forward pass */
  GC_ERR_CONVERT,             /* the source weights do not describe Keras Xception */
  GC_ERR_BACKEND,             /* XNNPACK or the thread pool failed */
  GC_ERR_H5,                  /* an HDF5 file is damaged or uses a feature not read here */
  GC_ERR_ZIP,                 /* a ZIP archive (.keras) is damaged or unsupported */
  GC_ERR_JSON,                /* a JSON text (model config, model.json, labels) is malformed */
  GC_ERR_LABELS,              /* a class names file is unusable or does not match the model */
  GC_ERR_NO_HEAD,             /* the model has no classifier (a notop file) */
  GC_ERR_CANCELLED,           /* the caller cancelled the call (gc_model_cancel) */
  GC_STATUS_COUNT
} gc_status;

/* Static English name and short description of a status ("GC_ERR_WEIGHTS_CHECKSUM: ..."). */
const char *gc_status_to_string(gc_status status);

typedef enum gc_pixel_format {
  GC_PIXEL_RGB8 = 3,  /* 3 bytes per pixel, R G B */
  GC_PIXEL_RGBA8 = 4  /* 4 bytes per pixel, R G B A (alpha ignored, not premultiplied) */
} gc_pixel_format;

typedef enum gc_dtype { GC_DTYPE_F32 = 0, GC_DTYPE_F16 = 1 } gc_dtype;

/* Names of enum values, both ways (src/names.c holds the tables): gc_X_name gives NULL for an
 * unknown value, so a loop over i = 0, 1, ... until NULL lists the choices; gc_X_from_name gives
 * GC_ERR_INVALID_ARGUMENT for an unknown name. dtype: "f32", "f16" ("float32" and "float16" read
 * too). */
const char *gc_dtype_name(gc_dtype dtype);
gc_status gc_dtype_from_name(const char *name, gc_dtype *dtype);

typedef struct gc_params {
  int threads; /* worker threads for XNNPACK's pool; 0 = one per core (default 1) */
} gc_params;

gc_params gc_default_params(void);

/* ---- arithmetic (process-wide) ---------------------------------------------------------
 * Which XNNPACK kernels do the arithmetic. GC_ARITH_PORTABLE (the default where available)
 * takes the kernels that multiply and add separately and sum in the same order as the
 * WebAssembly build, so on x86-64 every output (logits, gradients, maps) is bit-identical to
 * the WebAssembly build's on the same weights and input; measured no slower on the
 * development machine. GC_ARITH_FMA lets XNNPACK use the CPU's fused multiply-add kernels
 * (FMA3, AVX2, AVX-512): results then differ in the last bits, and a max pool's gradient can
 * go to the other cell of a window whose two largest values are equal to about 6 digits.
 * Other native CPUs (ARM) always use their own fused kernels: there, GC_ARITH_FMA is the
 * default and GC_ARITH_PORTABLE is refused. The WebAssembly SIMD builds have no fused kernels
 * and accept either (both mean portable). The WebAssembly relaxed SIMD build computes with
 * f32x4.relaxed_madd, which the engine fuses where the CPU can: GC_ARITH_FMA, and
 * GC_ARITH_PORTABLE is refused, as on ARM. */
typedef enum gc_arithmetic {
  GC_ARITH_PORTABLE = 0,
  GC_ARITH_FMA = 1
} gc_arithmetic;

/* Choose before the first model is loaded: GC_ERR_INVALID_ARGUMENT for an unknown value, for
 * GC_ARITH_PORTABLE where it is not available, or for a different choice once a model has
 * been loaded in this process (choosing the current one again is fine). Not thread-safe
 * against a concurrent first load. */
gc_status gc_set_arithmetic(gc_arithmetic arithmetic);
/* The arithmetic models use (or will use once the first one is loaded). */
gc_arithmetic gc_get_arithmetic(void);
/* "portable" / "fma"; NULL for an unknown value. */
const char *gc_arithmetic_name(gc_arithmetic arithmetic);
gc_status gc_arithmetic_from_name(const char *name, gc_arithmetic *arithmetic);

typedef struct gc_model gc_model;

typedef struct gc_shape {
  int ndim;               /* 4 for feature maps (N,H,W,C), 2 for logits (N,C) */
  int dims[GC_MAX_DIMS];
} gc_shape;

typedef struct gc_class_score {
  int index;   /* 0..classes-1, Keras class order */
  float prob;  /* softmax probability */
  float logit; /* pre-softmax score */
} gc_class_score;

/* ---- loading ------------------------------------------------------------------------ */

/* Load weights in the project format (weights/README.md) from memory. The bytes are
 * copied/unpacked; the caller may free them afterwards. On failure *out is NULL and, when
 * errbuf is not NULL, a detail message (at most errlen bytes, NUL-terminated) is written. */
gc_status gc_model_load_memory(const void *data, size_t size, const gc_params *params,
                               gc_model **out, char *errbuf, size_t errlen);
/* The same without the copy: takes `data` (allocated with malloc) and frees it, also when
 * loading fails. Where memory is tight (WebAssembly), this saves holding the file twice. */
gc_status gc_model_load_owned(void *data, size_t size, const gc_params *params, gc_model **out,
                              char *errbuf, size_t errlen);
/* The same from a file path. */
gc_status gc_model_load_file(const char *path, const gc_params *params, gc_model **out,
                             char *errbuf, size_t errlen);
void gc_model_free(gc_model *model);

/* The model keeps a copy of its weights file to create backward operators (and the rarer
 * pre-activation ones) the first time a call needs them. Where memory is tight (WebAssembly,
 * whose memory never shrinks), give it a way to read the file again instead: the model frees
 * its copy now and later reads only the tensors it needs, read(user, offset, dst, size) copying
 * bytes [offset, offset + size) of the file into dst and returning 0 (anything else: the call
 * that needed them fails with GC_ERR_IO). Every read is checked against a hash of the tensor
 * taken before the copy was freed: a changed file gives GC_ERR_WEIGHTS_CHECKSUM, never other
 * weights. A model loaded from a Keras file holds the converted .gcw: read must give that. */
typedef int (*gc_weights_read)(void *user, uint64_t offset, void *dst, size_t size);
gc_status gc_model_set_weights_reader(gc_model *model, gc_weights_read read, void *user);
/* Bytes of the weights file the model holds in memory (0 once it reads them back instead). */
size_t gc_model_weights_held(const gc_model *model);

/* Detail message of the last failure on this model ("" if none). */
const char *gc_model_last_error(const gc_model *model);

gc_status gc_model_set_threads(gc_model *model, int threads);
int gc_model_threads(const gc_model *model);
/* Number of parameters in the loaded file (22,910,480 for the ImageNet Xception). */
size_t gc_model_param_count(const gc_model *model);

/* ---- what the model is ---------------------------------------------------------------------- */

/* Classes the model tells apart: its classifier's units, 2 for a Dense(1) (binary: class 1 is
 * explained through +logit, class 0 through -logit), 0 for a model without a classifier (a
 * notop file: only activations and eigencam work; everything else gives GC_ERR_NO_HEAD). */
int gc_model_num_classes(const gc_model *model);
/* The input size images are resized to by default (the model's: 299x299 for ImageNet). */
void gc_model_input_size(const gc_model *model, int *height, int *width);
/* Name of class `index`: the file's or gc_model_set_class_names' names, the ImageNet names for
 * the ImageNet head, else NULL (say "class <index>"). */
const char *gc_model_class_name(const gc_model *model, int index);
/* Replace the class names (copied; n must equal gc_model_num_classes, else GC_ERR_LABELS);
 * n == 0 goes back to the defaults. */
gc_status gc_model_set_class_names(gc_model *model, const char *const *names, int n);
/* The head as text ("GlobalAveragePooling2D -> Dense(1000, softmax)"). */
gc_status gc_model_head(const gc_model *model, char *buf, size_t len);
/* What the weights came from ("Keras 3 .keras archive", ...). */
const char *gc_model_source(const gc_model *model);
/* 1 if the head was inferred from the weights' shapes (a Keras 3 .weights.h5 has no config). */
int gc_model_head_inferred(const gc_model *model);
/* The model's addressable layers (the base's, then its head's). */
int gc_model_layer_count(const gc_model *model);
const char *gc_model_layer_name(const gc_model *model, int i);
/* Shape of a layer for an input of height x width (0, 0: the model's input size). */
gc_status gc_model_layer_shape(const gc_model *model, const char *layer, int height, int width, gc_shape *shape);

/* ---- progress and cancelling ------------------------------------------------------------------
 * Long calls (Score-CAM, SmoothGrad, Integrated Gradients, metrics) call the model's progress
 * callback before each pass with the passes done and the total; a non-zero return cancels the
 * call: it returns GC_ERR_CANCELLED, frees what it took, and the model needs a new forward pass
 * before the next explanation. */
typedef int (*gc_progress_callback)(void *user, int done, int total);
void gc_model_set_progress(gc_model *model, gc_progress_callback fn, void *user);

/* ---- forward ------------------------------------------------------------------------ */

/* Resize an 8-bit RGB/RGBA image of any size to the model's input size (bilinear, see
 * gc_preprocess_image), preprocess it as the model does (x / 127.5 - 1, or its Rescaling layer)
 * and run the network. stride is in bytes between rows (>= width * channels). */
gc_status gc_model_forward_image(gc_model *model, const uint8_t *pixels, int width, int height,
                                 int stride, gc_pixel_format format);
/* The same at another input size (out_h, out_w in 71..GC_MAX_INPUT_SIZE, else GC_ERR_IMAGE_SIZE;
 * 0: the model's). */
gc_status gc_model_forward_image_size(gc_model *model, const uint8_t *pixels, int width, int height, int stride,
                                      gc_pixel_format format, int out_h, int out_w);

/* Decode image bytes (any format gc_decode_image reads), then gc_model_forward_image_size: the
 * one call from a file's bytes to a forward pass. On failure gc_model_last_error says why (the
 * decoder's reason, or the forward pass's). info (may be NULL) receives the image's size and the
 * time each step took; rgba (may be NULL) the decoded RGBA pixels, width * 4 bytes a row
 * (gc_free), for drawing the map over them. */
typedef struct gc_decoded {
  int width, height;             /* the image's size */
  double decode_ms, forward_ms;  /* decoding; resizing, preprocessing and the forward pass */
} gc_decoded;
gc_status gc_model_forward_encoded(gc_model *model, const void *bytes, size_t size, int out_h, int out_w,
                                   gc_decoded *info, uint8_t **rgba);

/* Run the network on an already preprocessed NHWC float tensor (1 x height x width x 3,
 * values usually in [-1, 1]). height and width in [71, GC_MAX_INPUT_SIZE]. */
gc_status gc_model_forward_tensor(gc_model *model, const float *input, int height, int width);

/* Results of the last forward pass (NULL before the first, and without a classifier). */
const float *gc_model_logits(const gc_model *model); /* class scores: the classifier's pre-activation
                                                        outputs; binary: -z, +z */
const float *gc_model_probs(const gc_model *model);  /* probabilities: softmax, or the logistic
                                                        function for sigmoid and binary heads */

/* The k best classes, best first (k in 1..classes); ties broken by lower index. */
gc_status gc_model_top_k(const gc_model *model, int k, gc_class_score *out);

/* Activation of a named layer from the last forward pass: *data points into the model
 * (NHWC, batch 1). Layers whose value is fused away (the *_bn output feeding a fused ReLU)
 * report GC_ERR_LAYER_UNKNOWN with a message saying so. */
gc_status gc_model_activation(const gc_model *model, const char *layer, const float **data,
                              gc_shape *shape);

/* Input tensor of the last forward pass (1 x H x W x 3, after preprocessing). */
gc_status gc_model_input(const gc_model *model, const float **data, gc_shape *shape);

/* ---- layers and classes --------------------------------------------------------------- */

int gc_layer_count(void);
/* Name of layer i in forward order (0 <= i < gc_layer_count()), NULL if out of range. */
const char *gc_layer_name(int i);
/* Shape of a named layer for a given input size (default 299x299 when height/width 0). */
gc_status gc_layer_shape(const char *layer, int height, int width, gc_shape *shape);

/* Keras class name of index 0..999 ("tench", ..., "toilet_tissue"); NULL out of range. */
const char *gc_class_name(int index);
/* WordNet id ("n01440764"); NULL out of range. */
const char *gc_class_wnid(int index);

/* ---- preprocessing ---------------------------------------------------------------------- */

/* Bilinear resize of an 8-bit image to out_w x out_h followed by x / 127.5 - 1, written to
 * out (out_h * out_w * 3 floats, NHWC). Sampling uses pixel centres (src = (dst + 0.5) *
 * in / out - 0.5, clamped to the edge) and plain 2x2 bilinear weights with no prefilter,
 * which is what a browser canvas drawImage does with imageSmoothingQuality "low" (the
 * default). Alpha is ignored. */
gc_status gc_preprocess_image(const uint8_t *pixels, int width, int height, int stride,
                              gc_pixel_format format, int out_w, int out_h, float *out);

/* Decode PNG, JPEG, BMP, GIF (first frame), TGA, PSD, PIC or PNM bytes with stb_image into
 * 8-bit RGBA (grey, grey+alpha and 16-bit images are converted); *rgba is released with
 * gc_free. Images larger than GC_MAX_IMAGE_SIDE / GC_MAX_IMAGE_PIXELS give GC_ERR_IMAGE_SIZE;
 * anything undecodable GC_ERR_IMAGE_DECODE with a reason in errbuf. */
gc_status gc_decode_image(const void *bytes, size_t size, uint8_t **rgba, int *width, int *height,
                          char *errbuf, size_t errlen);

/* ---- importing Keras files --------------------------------------------------------------
 * Any supported Keras Xception file (weights/README.md lists them: Keras 1/2 .h5 weights, Keras 2
 * full-model .h5, Keras 3 .weights.h5 and .keras, TF.js model.json + shards, the project's
 * .gcw), recognised by content, becomes a .gcw v2 file image carrying the weights, the model
 * definition (input size, preprocessing, head) and the class names. Step by step, so that a
 * caller can report progress per tensor and stop between tensors:
 *
 *     gc_import *im; gc_import_new(&im);
 *     gc_import_add_file(im, "model.keras", bytes, size);   // the main file first; for TF.js
 *     ...                                                    // model.json, then each shard
 *     int total; gc_import_start(im, &total, err, sizeof err);
 *     for (int done = 0; !done;) gc_import_step(im, &done, err, sizeof err);
 *     gc_import_finish(im, GC_DTYPE_F16, &gcw, &gcw_size, err, sizeof err);
 *     gc_import_free(im);
 */
typedef struct gc_import gc_import;

gc_status gc_import_new(gc_import **out);
/* Add a file by its name (a path's last component is enough for TF.js shards). The bytes are
 * borrowed: they must stay valid until gc_import_free. */
gc_status gc_import_add_file(gc_import *im, const char *name, const void *bytes, size_t size);
/* Class names (labels/README: one per line, a JSON list, {index: name}, or Keras'
 * imagenet_class_index.json); optional. Copied. */
gc_status gc_import_set_labels(gc_import *im, const void *bytes, size_t size, char *err, size_t errlen);
/* Recognise the format, read the model definition and list the tensors: *total is the number
 * of gc_import_step calls that follow. */
gc_status gc_import_start(gc_import *im, int *total, char *err, size_t errlen);
/* Read and check the next tensor; *done becomes 1 after the last. */
gc_status gc_import_step(gc_import *im, int *done, char *err, size_t errlen);
/* Match the tensors to the model, check every shape and value, and write the .gcw v2 image;
 * *bytes is malloc'ed (gc_free). */
gc_status gc_import_finish(gc_import *im, gc_dtype dtype, void **bytes, size_t *size, char *err, size_t errlen);
/* After gc_import_start: what was recognised, as JSON
 * {"format": "...", "source": "...", "inputSize": [h, w], "classes": N,
 *  "preprocessing": {"mode": "tf" | "rescale", "scale": s, "offset": o}, "head": "...",
 *  "inferred": bool, "tensors": n, "labels": bool, "note": "..." (only when there is one)};
 * format is an id of src/formats/detect.c's table; owned by the import. */
const char *gc_import_describe(const gc_import *im);
void gc_import_free(gc_import *im);

/* A copy of a .gcw weights file whose layers from `from_layer` (any layer name) to the output
 * carry fresh random weights (Adebayo et al. 2018's cascading randomisation: kernels uniform
 * with variance 1 / fan-in, batch norms the identity, biases 0; the same seed gives the same
 * file). *out is malloc'ed (gc_free). */
gc_status gc_weights_randomized(const void *gcw, size_t size, const char *from_layer, uint32_t seed, void **out,
                                size_t *out_size, char *err, size_t errlen);

/* The same from the weights a model was loaded from: its copy, or, after
 * gc_model_set_weights_reader, the whole file read back into memory for the call (and checked
 * against the checksum it was loaded with). */
gc_status gc_model_randomized(const gc_model *model, const char *from_layer, uint32_t seed, void **out,
                              size_t *out_size, char *err, size_t errlen);

/* One call for one file held in memory (gc_import_* with progress ignored). */
gc_status gc_import_memory(const void *bytes, size_t size, const void *labels, size_t labels_size, gc_dtype dtype,
                           void **gcw, size_t *gcw_size, char *err, size_t errlen);

/* ---- weights conversion ----------------------------------------------------------------- */

/* A converter takes the weight tensors of a Keras Xception model in the order of the source
 * file's layers (HDF5 or TF.js layers format; layer/weight names as in the source) and
 * produces a weights file in the project format. Layers are matched the way Keras' loader
 * does: by order and shape, so auto-generated names (conv2d_1 vs conv2d) do not matter. */
typedef struct gc_converter gc_converter;

gc_status gc_converter_new(gc_converter **out);
/* Add one tensor. layer: the source layer name ("block1_conv1", "conv2d_1");
 * weight: the weight's short name ("kernel", "depthwise_kernel", "gamma", "bias", ...;
 * "block1_conv1/kernel:0" style names are accepted too); shape in the source (Keras HWIO)
 * layout; data is float32 and is copied. */
gc_status gc_converter_add(gc_converter *conv, const char *layer, const char *weight, int ndim,
                           const int64_t *shape, const float *data);
/* Produce the file; *bytes is malloc'ed (free with gc_free). Detail message on failure. */
gc_status gc_converter_finish(gc_converter *conv, gc_dtype dtype, void **bytes, size_t *size,
                              char *errbuf, size_t errlen);
void gc_converter_free(gc_converter *conv);

/* ---- gradients (backward.c) ------------------------------------------------------------- */

typedef enum gc_target {
  GC_TARGET_LOGIT = 0, /* the class score before softmax (Grad-CAM's y^c) */
  GC_TARGET_PROB = 1   /* the softmax probability of the class */
} gc_target;
const char *gc_target_name(gc_target target); /* "logit", "prob" */
gc_status gc_target_from_name(const char *name, gc_target *target);

/* Gradient of the class score of the last forward pass with respect to a named activation
 * (any name of gc_layer_name(), including fused *_bn pre-activations) or, for layer NULL or
 * "input", the preprocessed input tensor. guided != 0 gives guided backpropagation (ReLUs
 * pass only positive gradients where their input was positive). *data points into the model
 * and stays valid until the next call on it. Only the layers between the output and the
 * requested one are crossed. */
gc_status gc_model_gradient(gc_model *model, int class_index, const char *layer, gc_target target, int guided,
                            const float **data, gc_shape *shape);

/* ---- explanation methods (methods.c) ----------------------------------------------------- */

/* Methods, in the registry's order (src/methods/registry.c holds each one's name, label,
 * formula, reference and parameters: gc_method_info). */
typedef enum gc_method {
  GC_METHOD_GRADCAM = 0,        /* "gradcam" */
  GC_METHOD_GRADCAM_PP,         /* "gradcam++" */
  GC_METHOD_HIRESCAM,           /* "hirescam" */
  GC_METHOD_XGRADCAM,           /* "xgradcam" */
  GC_METHOD_LAYERCAM,           /* "layercam" */
  GC_METHOD_EIGENCAM,           /* "eigencam" (no gradient, no class) */
  GC_METHOD_SCORECAM,           /* "scorecam" */
  GC_METHOD_SALIENCY,           /* "saliency" (input space) */
  GC_METHOD_GUIDED_BACKPROP,    /* "guided-backprop" (input space, 3 channels) */
  GC_METHOD_GUIDED_GRADCAM,     /* "guided-gradcam" (input space, 3 channels) */
  GC_METHOD_SMOOTHGRAD,         /* "smoothgrad" (input space) */
  GC_METHOD_INTEGRATED_GRADIENTS, /* "integrated-gradients" (input space) */
  GC_METHOD_EIGENGRADCAM,       /* "eigengradcam" */
  GC_METHOD_ABLATIONCAM,        /* "ablationcam" */
  GC_METHOD_GRADIENT_INPUT,     /* "gradient-input" (input space) */
  GC_METHOD_COUNT
} gc_method;

/* A method's parameter: its name is the JavaScript methodOptions key and the CLI option. */
typedef struct gc_method_param {
  const char *name;        /* "samples" */
  const char *cli;         /* the CLI's option without its dashes ("samples"; "ig-steps") */
  const char *label;       /* "noisy samples" */
  double min, max, def;    /* range and default */
  int integer;             /* 1: whole numbers only */
  const char *special;     /* a word meaning `min` (Score-CAM's channels: "all" = 0), or NULL */
} gc_method_param;

#define GC_METHOD_MAX_PARAMS 4

typedef struct gc_method_info {
  const char *name;        /* "gradcam" */
  const char *label;       /* "Grad-CAM" */
  const char *summary;     /* one sentence, for pickers and tooltips */
  const char *formula;     /* the exact definition computed here */
  const char *reference;   /* "Selvaraju et al. 2017" */
  int uses_layer;          /* 1: computed at a layer (the CAM family, Guided Grad-CAM's factor) */
  int channels;            /* 1, or 3 for RGB maps */
  int needs_class;         /* 0: the same map for every class (Eigen-CAM) */
  int multi_pass;          /* 1: runs extra forward passes (slow; reports progress) */
  int nparams;
  gc_method_param params[GC_METHOD_MAX_PARAMS];
} gc_method_info;

/* NULL when out of range. */
const gc_method_info *gc_method_info_of(gc_method method);
const char *gc_method_name(gc_method method); /* NULL when out of range */
/* GC_ERR_INVALID_ARGUMENT for an unknown name */
gc_status gc_method_from_name(const char *name, gc_method *method);
/* 1 if the method uses a layer (the CAM family and Guided Grad-CAM), 0 if purely in input space. */
int gc_method_uses_layer(gc_method method);

typedef struct gc_explain_params {
  gc_method method;        /* default GC_METHOD_GRADCAM */
  int class_index;         /* -1 (default): the top-1 class of the forward pass */
  int contrast_class;      /* -1 (default): none; else the score explained is y^class - y^contrast
                              ("why this class rather than that one") */
  const char *layer;       /* CAM methods; default "block14_sepconv2_act" */
  gc_target target;        /* default GC_TARGET_LOGIT */
  int scorecam_channels;   /* Score-CAM: the N channels with the highest mean activation (32);
                              0: every channel (the paper's and pytorch-grad-cam's definition) */
  int smoothgrad_samples;  /* SmoothGrad: noisy samples (8) */
  float smoothgrad_sigma;  /* SmoothGrad: noise std as a fraction of the input range (0.15) */
  uint32_t seed;           /* SmoothGrad noise seed (1) */
  int ig_steps;            /* Integrated Gradients: steps from the black baseline (16) */
} gc_explain_params;

/* Set a parameter by its registry name (gc_method_param.name) for `method`, checking its range:
 * GC_ERR_INVALID_ARGUMENT with a message naming the range when it is not a parameter of the
 * method or out of range. */
gc_status gc_explain_params_set(gc_explain_params *p, gc_method method, const char *name, double value, char *err,
                                size_t errlen);

gc_explain_params gc_default_explain_params(void);

/* A map: height x width x channels floats, row-major (channels 1, or 3 for guided-backprop
 * and guided-gradcam). CAM methods give the layer's resolution, input-space methods the
 * input tensor's (299x299 for gc_model_forward_image). */
typedef struct gc_map {
  int height, width, channels;
  const float *data; /* owned by the model: valid until its next explain / forward call */
} gc_map;

/* Explain the last forward pass (gc_model_forward_image or _tensor). The raw, un-normalised
 * map comes back in *map (ReLU applied where the method defines it). *class_out (may be NULL)
 * receives the class explained. Methods that run extra forward passes (Score-CAM) restore
 * the model's results for the original input before returning. */
gc_status gc_model_explain(gc_model *model, const gc_explain_params *params, gc_map *map, int *class_out);

/* What the last explanation weighed, for methods that weigh the layer's channels (Grad-CAM,
 * Grad-CAM++, XGrad-CAM, Score-CAM, Ablation-CAM): the K channel weights and the map before its
 * ReLU (sum_k w_k A^k, at the layer's size); weights NULL for the other methods. Valid until
 * the next explain or forward call. */
typedef struct gc_explain_detail {
  int channels;           /* K */
  const float *weights;   /* K channel weights, or NULL */
  const float *pre_relu;  /* height x width, or NULL */
  int height, width;
} gc_explain_detail;
gc_status gc_model_explain_detail(const gc_model *model, gc_explain_detail *detail);

/* ---- heatmaps and overlays (render.c) ------------------------------------------------------ */

typedef enum gc_colormap {
  GC_COLORMAP_JET = 0, /* matplotlib "jet", as in keras.io's Grad-CAM example */
  GC_COLORMAP_VIRIDIS,
  GC_COLORMAP_INFERNO,
  GC_COLORMAP_TURBO,
  GC_COLORMAP_GRAY,
  GC_COLORMAP_DIVERGING, /* blue - near-white - red (ColorBrewer RdBu), for signed maps scaled around 0.5 */
  GC_COLORMAP_COUNT
} gc_colormap;

const char *gc_colormap_name(gc_colormap cmap); /* "jet", ...; from_name reads "grey" too */
gc_status gc_colormap_from_name(const char *name, gc_colormap *cmap);

typedef enum gc_blend {
  GC_BLEND_ADDITIVE = 0, /* keras.io: image + alpha * heatmap, rescaled to 0..255 */
  GC_BLEND_ALPHA = 1     /* (1 - alpha) * image + alpha * heatmap */
} gc_blend;
const char *gc_blend_name(gc_blend blend); /* "additive", "alpha" */
gc_status gc_blend_from_name(const char *name, gc_blend *blend);

/* How the values of a map become colours. */
typedef enum gc_scale {
  /* keras.io: a non-negative map divided by its maximum, a signed one min-max scaled; RGB maps
   * (guided methods) as (g - mean) / sd * 0.1 + 0.5 (pytorch-grad-cam) */
  GC_SCALE_MAX = 0,
  /* as the pixel-attribution papers show their maps (Smilkov et al. 2017): p is the 99th
   * percentile of |v|; a non-negative map becomes min(v / p, 1), a signed or RGB map
   * 0.5 + 0.5 v / p clipped to [0, 1] (zero is mid-grey, or white with "diverging") */
  GC_SCALE_PERCENTILE = 1
} gc_scale;

/* Normalise a 1-channel map to [0, 1] in place semantics into out (same size): non-finite
 * values count as 0; a non-negative map is divided by its maximum (keras.io), a signed one is
 * min-max scaled; an all-zero or constant map gives zeros, never NaN. */
gc_status gc_normalize_map(const gc_map *map, float *out);

/* Render a map for an image of width x height: normalise, upsample bilinearly to the image
 * size, colourise and overlay. heatmap and overlay (either may be NULL) receive
 * width * height * 4 bytes of RGBA. 3-channel maps (guided methods) are shown as an RGB image
 * (gradient scaled around mid-grey) in both outputs. alpha in [0, 1]. */
gc_status gc_render(const gc_map *map, const uint8_t *image, int width, int height, int stride,
                    gc_pixel_format format, gc_colormap cmap, float alpha, gc_blend blend, uint8_t *heatmap,
                    uint8_t *overlay);

/* gc_render with a choice of scale (gc_render is GC_SCALE_MAX). */
gc_status gc_render_scaled(const gc_map *map, const uint8_t *image, int width, int height, int stride,
                           gc_pixel_format format, gc_colormap cmap, gc_scale scale, float alpha, gc_blend blend,
                           uint8_t *heatmap, uint8_t *overlay);

/* ---- faithfulness metrics (metrics.c) ------------------------------------------------------ */

typedef enum gc_baseline { GC_BASELINE_BLUR = 0, GC_BASELINE_MEAN = 1 } gc_baseline;
const char *gc_baseline_name(gc_baseline baseline); /* "blur", "mean" */
gc_status gc_baseline_from_name(const char *name, gc_baseline *baseline);

#define GC_MAX_METRIC_STEPS 64

typedef struct gc_metrics {
  int steps;                                 /* k: points are 0, 1/k, ..., 1 of the pixels */
  float deletion[GC_MAX_METRIC_STEPS + 1];   /* class probability as pixels are removed */
  float insertion[GC_MAX_METRIC_STEPS + 1];  /* class probability as pixels are inserted */
  float deletion_auc, insertion_auc;         /* trapezoid areas over [0, 1] */
  float average_drop;                        /* max(0, p - p_masked) / p, in [0, 1] */
  int increase_in_confidence;                /* 1 if p_masked > p */
} gc_metrics;

/* Faithfulness of a 1-channel map (from gc_model_explain, any resolution) for a class, on the
 * input of the last forward pass: pixels ordered by the map's importance are deleted from
 * (replaced by the baseline) or inserted into (starting from the baseline) the input in
 * `steps` equal steps (1..GC_MAX_METRIC_STEPS), with batched forward passes; average drop /
 * increase in confidence compare the probability of the input multiplied by the normalised map
 * (Chattopadhay et al. 2018). The model's results for the input are restored afterwards. */
gc_status gc_model_metrics(gc_model *model, const gc_map *map, int class_index, int steps, gc_baseline baseline,
                           gc_metrics *out);

void gc_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* GRADCAM_H */
