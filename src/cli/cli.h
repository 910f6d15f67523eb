/* cli.h - what the command-line tool's files share: the commands, the options of a run (filled
 * by options.c from its one table), and small helpers (common.c). */
#ifndef GRADCAM_CLI_H
#define GRADCAM_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "gradcam.h"
#include "io/json.h"

/* The commands, as bits: the option table says which of them take each option. */
enum {
  CLI_PREDICT = 1 << 0,
  CLI_EXPLAIN = 1 << 1,
  CLI_LAYERS = 1 << 2,
  CLI_CONVERT = 1 << 3,
  CLI_BENCH = 1 << 4,
};

#define CLI_MAX_CLASSES 65536 /* a Dense head's most units (spec.h's GC_SPEC_MAX_UNITS) */
#define CLI_MAX_OPTIONS 64    /* rows of the option table */
#define CLI_MAX_PARAMS 16     /* method parameters given on one command line */

/* A method parameter given as an option (its row in the method registry, and the value). */
typedef struct cli_param {
  gc_method method; /* the first method of the registry that has it */
  const gc_method_param *param;
  double value;
} cli_param;

/* The options of a run: the table's defaults, then the command line. */
typedef struct cli_opts {
  unsigned command; /* CLI_* */
  const char *weights, *labels, *image, *tensor, *dump_dir, *dump_layers, *save_input, *in, *out;
  const char *layer, *out_heatmap, *out_overlay, *save_grad;
  int top, class_index, contrast, threads, runs, warmup, steps, json, metrics, detail;
  int size[2]; /* --input-size / --size: height, width (0: the model's) */
  int method, colormap, blend, baseline, target, arithmetic, dtype; /* the library's enums */
  double alpha;
  int nparams;
  cli_param params[CLI_MAX_PARAMS];
  unsigned char given[CLI_MAX_OPTIONS]; /* by table row */
} cli_opts;

/* options.c: parse argv[first..argc-1] for `command` (one CLI_* bit). 0 on success, 1 when help
 * was asked for, -1 after printing what is wrong (exit status 2). */
int cli_parse(unsigned command, int argc, char **argv, int first, cli_opts *o);
/* 1 if the option (its name without dashes) was on the command line. */
int cli_given(const cli_opts *o, const char *name);
/* The usage (command 0: every command and option; else one command's options with their
 * defaults). */
void cli_usage(FILE *f, unsigned command);
/* The method parameters given, set on an explanation's parameters for its method (each through
 * gc_explain_params_set, for the method that has it). */
gc_status cli_apply_params(const cli_opts *o, gc_explain_params *ep, char *err, size_t errlen);

/* The commands (one file each). Each returns the process's exit status. */
int cli_predict(const cli_opts *o);
int cli_explain(const cli_opts *o);
int cli_layers(const cli_opts *o);
int cli_convert(const cli_opts *o);
int cli_bench(const cli_opts *o);

/* common.c */
double cli_now_ms(void);
/* "gradcam: WHAT: STATUS: detail" on stderr; returns 1 (the exit status of a failure). */
int cli_fail(const char *what, gc_status s, const char *detail);
int cli_write_file(const char *path, const void *data, size_t size); /* 0, or -1 with errno */
/* The model of --weights (and --labels), or a message and NULL. */
gc_model *cli_load(const cli_opts *o, int threads);
/* Read --image, decode it and run the forward pass (at --input-size, else the model's). rgba
 * (may be NULL) keeps the pixels (gc_free). 0, or the exit status after a message. */
int cli_forward_image(gc_model *m, const cli_opts *o, gc_decoded *info, uint8_t **rgba);
/* An explanation's parameters from the options (method, layer, target, contrast, the method
 * parameters). 0, or 2 after a message. */
int cli_explain_params(const cli_opts *o, gc_explain_params *ep);
/* --class and --top against the model's classes; *top: --top cut to them. 0, or -1 after a
 * message. */
int cli_check_classes(const gc_model *m, const cli_opts *o, int *top);
/* A class's name: the model's, or "class <i>". */
const char *cli_class_label(const gc_model *m, int i, char *buf, size_t len);
/* "model": {source, head, inferred, inputSize, classes} as an object member. */
void cli_json_model(gc_json_writer *w, const gc_model *m);
/* Print the writer's text and a newline on stdout and free it; 0, or 1 when it ran out of
 * memory. */
int cli_json_print(gc_json_writer *w);

#endif
