/* options.c - the command line's options: one table (name, the commands that take it, type,
 * range, default, where the value goes), read by the parser, the usage text and `gradcam help`.
 * The explanation methods' parameters (--channels, --samples, --sigma, --seed, --ig-steps, ...)
 * are not in it: they, their ranges and defaults come from the method registry (gc_method_info),
 * as the names of methods, colormaps, targets, blends, baselines, arithmetics and dtypes come
 * from the library's name tables (gc_X_name / gc_X_from_name). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef enum opt_type {
  OPT_FLAG,   /* no value: int 1 */
  OPT_STR,    /* const char * */
  OPT_INT,    /* int in min..max */
  OPT_NUM,    /* double in min..max */
  OPT_SIZE,   /* "HxW" or "S" (S x S): int[2], sides in min..max */
  OPT_CHOICE, /* a name of one of the library's enums: int */
} opt_type;

/* A choice: the library's name of value i (NULL past the last), and its parser. */
typedef struct choice {
  const char *noun;
  const char *(*name)(int i);
  int (*parse)(const char *s, int *value);
} choice;

#define CHOICE(prefix, type)                                                        \
  static const char *prefix##_name(int i) { return gc_##prefix##_name((type)i); }   \
  static int prefix##_parse(const char *s, int *v) {                                \
    type t;                                                                         \
    if (gc_##prefix##_from_name(s, &t) != GC_OK) return -1;                         \
    *v = (int)t;                                                                    \
    return 0;                                                                       \
  }                                                                                 \
  static const choice prefix##_choice = {#prefix, prefix##_name, prefix##_parse};
CHOICE(method, gc_method)
CHOICE(colormap, gc_colormap)
CHOICE(target, gc_target)
CHOICE(blend, gc_blend)
CHOICE(baseline, gc_baseline)
CHOICE(arithmetic, gc_arithmetic)
CHOICE(dtype, gc_dtype)

typedef struct option {
  const char *name;     /* without the dashes */
  unsigned commands;    /* CLI_* bits */
  opt_type type;
  double min, max;      /* OPT_INT, OPT_NUM, OPT_SIZE */
  const choice *names;  /* OPT_CHOICE */
  size_t at;            /* offsetof(cli_opts, ...) */
  const char *def;      /* default, parsed like a value (NULL: none) */
  const char *arg;      /* the value's placeholder in the usage */
  const char *help;
} option;

#define P CLI_PREDICT
#define E CLI_EXPLAIN
#define L CLI_LAYERS
#define C CLI_CONVERT
#define B CLI_BENCH
#define AT(field) offsetof(cli_opts, field)
#define NO_RANGE 0, 0, NULL

static const option kOptions[] = {
    {"weights", P | E | L | B, OPT_STR, NO_RANGE, AT(weights), NULL, "FILE", "the model: .gcw, Keras .h5, .weights.h5, .keras or TF.js model.json"},
    {"labels", P | E | L | B | C, OPT_STR, NO_RANGE, AT(labels), NULL, "FILE", "class names: one per line, a JSON list or object"},
    {"image", P | E, OPT_STR, NO_RANGE, AT(image), NULL, "IMG", "PNG, JPEG, BMP, GIF, TGA, PSD or PNM, any size"},
    {"input-size", P | E | L | B, OPT_SIZE, 1, 65536, NULL, AT(size), NULL, "HxW", "network input size (default: the model's, 299x299)"},
    {"size", P | E | L | B, OPT_SIZE, 1, 65536, NULL, AT(size), NULL, "HxW", "the same as --input-size"},
    {"input-tensor", P, OPT_STR, NO_RANGE, AT(tensor), NULL, "X.f32", "a preprocessed NHWC float32 tensor instead of --image (needs --input-size)"},
    {"dump-dir", P, OPT_STR, NO_RANGE, AT(dump_dir), NULL, "DIR", "where --dump-layers writes NAME.f32"},
    {"dump-layers", P, OPT_STR, NO_RANGE, AT(dump_layers), NULL, "A,B,..", "layers whose activations to write"},
    {"save-input", P, OPT_STR, NO_RANGE, AT(save_input), NULL, "X.f32", "write the preprocessed input tensor"},
    {"top", P | E, OPT_INT, 1, CLI_MAX_CLASSES, NULL, AT(top), "5", "K", "the K best classes (explain: each explained, default 1)"},
    {"class", E, OPT_INT, 0, CLI_MAX_CLASSES - 1, NULL, AT(class_index), NULL, "C", "the class to explain (default: the top-1)"},
    {"contrast", E, OPT_INT, 0, CLI_MAX_CLASSES - 1, NULL, AT(contrast), NULL, "C", "explain y^class - y^C: why the class rather than C"},
    {"layer", E | B, OPT_STR, NO_RANGE, AT(layer), NULL, "NAME", "the layer of CAM methods (gradcam layers lists them; default block14_sepconv2_act)"},
    {"method", E | B, OPT_CHOICE, 0, 0, &method_choice, AT(method), "gradcam", "NAME", "the explanation method"},
    {"target", E, OPT_CHOICE, 0, 0, &target_choice, AT(target), "logit", "NAME", "the score explained: the class logit or its probability"},
    {"colormap", E, OPT_CHOICE, 0, 0, &colormap_choice, AT(colormap), "jet", "NAME", "the heatmap's colours"},
    {"alpha", E, OPT_NUM, 0, 1, NULL, AT(alpha), "0.4", "A", "the heatmap's weight in the overlay"},
    {"blend", E, OPT_CHOICE, 0, 0, &blend_choice, AT(blend), "additive", "NAME", "additive (keras.io) or a plain alpha blend"},
    {"out-heatmap", E, OPT_STR, NO_RANGE, AT(out_heatmap), NULL, "PNG", "write the heatmap (several classes: PNG-<class>)"},
    {"out-overlay", E, OPT_STR, NO_RANGE, AT(out_overlay), NULL, "PNG", "write the heatmap over the image"},
    {"metrics", E, OPT_FLAG, NO_RANGE, AT(metrics), NULL, NULL, "deletion / insertion curves, average drop, increase in confidence"},
    {"steps", E, OPT_INT, 1, GC_MAX_METRIC_STEPS, NULL, AT(steps), "16", "K", "--metrics: steps of the curves"},
    {"baseline", E, OPT_CHOICE, 0, 0, &baseline_choice, AT(baseline), "blur", "NAME", "--metrics: what removed pixels become"},
    {"detail", E, OPT_FLAG, NO_RANGE, AT(detail), NULL, NULL, "the channel weights, for methods that weigh channels"},
    {"save-grad", E, OPT_STR, NO_RANGE, AT(save_grad), NULL, "F.f32", "write the raw gradient the method used"},
    {"in", C, OPT_STR, NO_RANGE, AT(in), NULL, "MODEL", "the model file to convert (any format --weights reads)"},
    {"out", C, OPT_STR, NO_RANGE, AT(out), NULL, "FILE.gcw", "the converted weights"},
    {"dtype", C, OPT_CHOICE, 0, 0, &dtype_choice, AT(dtype), "f16", "NAME", "the weights' storage type"},
    {"threads", P | E | B, OPT_INT, 0, 256, NULL, AT(threads), "1", "N", "worker threads (0: one per core)"},
    {"runs", B, OPT_INT, 1, 1000, NULL, AT(runs), "7", "N", "timed runs (the median is reported)"},
    {"warmup", B, OPT_INT, 0, 1000, NULL, AT(warmup), "2", "N", "untimed runs first"},
    {"arithmetic", P | E | B, OPT_CHOICE, 0, 0, &arithmetic_choice, AT(arithmetic), NULL, "NAME",
     "portable: exactly the WebAssembly build's numbers (the default on x86-64); fma: the CPU's fused multiply-add"},
    {"json", P | E | B, OPT_FLAG, NO_RANGE, AT(json), NULL, NULL, "print one JSON value"},
};
#define NOPTIONS ((int)(sizeof kOptions / sizeof kOptions[0]))
_Static_assert(sizeof kOptions / sizeof kOptions[0] <= CLI_MAX_OPTIONS, "cli_opts.given has a flag per row");

static const struct {
  unsigned bit;
  const char *name;
} kCommandNames[] = {{P, "predict"}, {E, "explain"}, {L, "layers"}, {C, "convert"}, {B, "bench"}};
#define NCOMMANDS ((int)(sizeof kCommandNames / sizeof kCommandNames[0]))

static const char *command_name(unsigned bit) {
  for (int i = 0; i < NCOMMANDS; i++)
    if (kCommandNames[i].bit == bit) return kCommandNames[i].name;
  return "?";
}

/* ---- method parameters, from the registry --------------------------------------------------- */

/* The registry's parameter whose option is --`name` (the first method that has it). */
static const gc_method_param *find_param(const char *name, gc_method *owner) {
  for (int m = 0; m < GC_METHOD_COUNT; m++) {
    const gc_method_info *mi = gc_method_info_of((gc_method)m);
    for (int i = 0; i < mi->nparams; i++)
      if (!strcmp(mi->params[i].cli, name)) {
        *owner = (gc_method)m;
        return &mi->params[i];
      }
  }
  return NULL;
}
#define PARAM_COMMANDS (E | B)

/* ---- values ----------------------------------------------------------------------------------- */

static int parse_long(const char *s, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s) return -1;
  *out = v;
  return 0;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || end == s) return -1;
  *out = v;
  return 0;
}

/* "a, b or c" of a choice's names */
static void list_names(const choice *c, char *buf, size_t len) {
  size_t n = 0;
  buf[0] = 0;
  for (int i = 0; c->name(i) && n < len; i++)
    n += (size_t)snprintf(buf + n, len - n, "%s%s", i == 0 ? "" : c->name(i + 1) ? ", " : " or ", c->name(i));
}

static int bad_value(const char *name, const char *what) {
  fprintf(stderr, "gradcam: --%s wants %s\n", name, what);
  return -1;
}

/* Store value `v` of option `op` into o (v: the command line's, or the table's default). */
static int set_value(const option *op, const char *v, cli_opts *o) {
  void *dst = (char *)o + op->at;
  char what[160];
  long long i;
  double d;
  switch (op->type) {
    case OPT_FLAG: *(int *)dst = 1; return 0;
    case OPT_STR: *(const char **)dst = v; return 0;
    case OPT_INT:
      if (parse_long(v, &i) || i < op->min || i > op->max) {
        snprintf(what, sizeof what, "an integer in %.0f..%.0f", op->min, op->max);
        return bad_value(op->name, what);
      }
      *(int *)dst = (int)i;
      return 0;
    case OPT_NUM:
      if (parse_double(v, &d) || !(d >= op->min && d <= op->max)) {
        snprintf(what, sizeof what, "a number in %g..%g", op->min, op->max);
        return bad_value(op->name, what);
      }
      *(double *)dst = d;
      return 0;
    case OPT_SIZE: {
      int *hw = dst, h = 0, w = 0;
      char x;
      int n = sscanf(v, "%dx%d%c", &h, &w, &x);
      if (n != 2 && sscanf(v, "%d%c", &h, &x) == 1) n = 2, w = h;
      if (n != 2 || h < op->min || w < op->min || h > op->max || w > op->max) {
        snprintf(what, sizeof what, "HxW, e.g. 299x299 (or S for SxS), sides in %.0f..%.0f", op->min, op->max);
        return bad_value(op->name, what);
      }
      hw[0] = h, hw[1] = w;
      return 0;
    }
    case OPT_CHOICE:
      if (op->names->parse(v, dst)) {
        char names[512];
        list_names(op->names, names, sizeof names);
        fprintf(stderr, "gradcam: unknown %s '%s': --%s is %s\n", op->names->noun, v, op->name, names);
        return -1;
      }
      return 0;
  }
  return -1;
}

static int set_param(const char *name, const char *v, cli_param *out) {
  gc_method owner;
  const gc_method_param *q = find_param(name, &owner);
  double d = 0;
  long long i;
  int ok;
  if (q->special && !strcmp(v, q->special)) ok = 1, d = q->min;
  else if (q->integer) ok = !parse_long(v, &i), d = (double)i;
  else ok = !parse_double(v, &d);
  if (!ok || !(d >= q->min && d <= q->max)) {
    char what[200];
    snprintf(what, sizeof what, "%s in %.10g..%.10g%s%s%s (%s)", q->integer ? "an integer" : "a number", q->min, q->max,
             q->special ? " or '" : "", q->special ? q->special : "", q->special ? "'" : "", q->label);
    return bad_value(name, what);
  }
  out->method = owner;
  out->param = q;
  out->value = d;
  return 0;
}

/* ---- the parser ------------------------------------------------------------------------------- */

static const option *find_option(const char *name) {
  for (int i = 0; i < NOPTIONS; i++)
    if (!strcmp(kOptions[i].name, name)) return &kOptions[i];
  return NULL;
}

static void defaults(cli_opts *o, unsigned command) {
  memset(o, 0, sizeof *o);
  o->command = command;
  o->arithmetic = (int)gc_get_arithmetic();
  o->class_index = o->contrast = -1; /* none */
  for (int i = 0; i < NOPTIONS; i++)
    if (kOptions[i].def && set_value(&kOptions[i], kOptions[i].def, o)) abort(); /* a bad table */
}

/* The commands an option belongs to, for the message when it is given to another one. */
static void command_list(unsigned bits, char *buf, size_t len) {
  size_t n = 0;
  int left = 0;
  buf[0] = 0;
  for (int i = 0; i < NCOMMANDS; i++) left += (bits & kCommandNames[i].bit) != 0;
  for (int i = 0; i < NCOMMANDS && n < len; i++)
    if (bits & kCommandNames[i].bit)
      n += (size_t)snprintf(buf + n, len - n, "%s%s", n == 0 ? "" : --left == 1 ? " and " : ", ", kCommandNames[i].name);
}

int cli_parse(unsigned command, int argc, char **argv, int first, cli_opts *o) {
  defaults(o, command);
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
    const char *name = a[0] == '-' && a[1] == '-' ? a + 2 : NULL;
    const option *op = name ? find_option(name) : NULL;
    gc_method owner;
    const int is_param = name && !op && find_param(name, &owner);
    if (!op && !is_param) {
      fprintf(stderr, "gradcam: unknown option '%s' (gradcam help %s lists them)\n", a, command_name(command));
      return -1;
    }
    const unsigned takes = op ? op->commands : PARAM_COMMANDS;
    if (!(takes & command)) {
      char cmds[96];
      command_list(takes, cmds, sizeof cmds);
      fprintf(stderr, "gradcam %s: %s is an option of %s\n", command_name(command), a, cmds);
      return -1;
    }
    const char *v = NULL;
    if (!op || op->type != OPT_FLAG) {
      if (i + 1 >= argc) {
        fprintf(stderr, "gradcam: %s needs a value\n", a);
        return -1;
      }
      v = argv[++i];
    }
    if (op) {
      if (set_value(op, v, o)) return -1;
      o->given[op - kOptions] = 1;
      continue;
    }
    cli_param p;
    if (set_param(name, v, &p)) return -1;
    int k = 0;
    while (k < o->nparams && o->params[k].param != p.param) k++; /* given again: the last wins */
    if (k == CLI_MAX_PARAMS) return bad_value(name, "fewer method parameters");
    o->params[k] = p;
    if (k == o->nparams) o->nparams++;
  }
  return 0;
}

int cli_given(const cli_opts *o, const char *name) {
  const option *op = find_option(name);
  return op && o->given[op - kOptions];
}

gc_status cli_apply_params(const cli_opts *o, gc_explain_params *ep, char *err, size_t errlen) {
  const gc_method_info *chosen = gc_method_info_of(ep->method);
  for (int k = 0; k < o->nparams; k++) {
    const cli_param *p = &o->params[k];
    /* the chosen method's own parameter of that option if it has one, else its first owner's
     * (a parameter of another method changes nothing the chosen one computes) */
    gc_method m = p->method;
    for (int i = 0; chosen && i < chosen->nparams; i++)
      if (!strcmp(chosen->params[i].cli, p->param->cli)) m = ep->method;
    const gc_method_info *mi = gc_method_info_of(m);
    const char *name = p->param->name;
    for (int i = 0; i < mi->nparams; i++)
      if (!strcmp(mi->params[i].cli, p->param->cli)) name = mi->params[i].name;
    gc_status s = gc_explain_params_set(ep, m, name, p->value, err, errlen);
    if (s != GC_OK) return s;
  }
  return GC_OK;
}

/* ---- usage ------------------------------------------------------------------------------------ */

static const struct {
  unsigned bit;
  const char *synopsis, *what;
} kSynopses[] = {
    {P, "--weights FILE (--image IMG | --input-tensor X.f32 --input-size HxW)", "the classes of an image"},
    {E, "--weights FILE --image IMG", "a map of what the class score rests on, as PNGs or JSON"},
    {L, "[--weights FILE]", "every layer the model names, with its shape"},
    {C, "--in MODEL --out FILE.gcw", "any model file read here to a .gcw"},
    {B, "--weights FILE", "forward passes (and with --method an explanation) timed"},
};

static void option_line(FILE *f, const char *name, const char *arg, const char *help, const char *def, unsigned commands,
                        int all) {
  char left[48], cmds[96] = "";
  snprintf(left, sizeof left, "--%s%s%s", name, arg ? " " : "", arg ? arg : "");
  if (all) command_list(commands, cmds, sizeof cmds);
  fprintf(f, "  %-22s %s%s%s%s%s%s\n", left, help, def ? " [" : "", def ? def : "", def ? "]" : "",
          all ? "; " : "", cmds);
}

void cli_usage(FILE *f, unsigned command) {
  const int all = command == 0;
  fprintf(f, "usage:\n");
  for (int i = 0; i < NCOMMANDS; i++)
    if (all || command == kSynopses[i].bit)
      fprintf(f, "  gradcam %-8s %s [options]\n  %17s %s\n", command_name(kSynopses[i].bit),
              kSynopses[i].synopsis, "", kSynopses[i].what);
  fprintf(f, "options%s:\n", all ? " (the commands that take them; gradcam help COMMAND: one command's)" : "");
  for (int i = 0; i < NOPTIONS; i++) {
    const option *op = &kOptions[i];
    if (!all && !(op->commands & command)) continue;
    option_line(f, op->name, op->arg, op->help, all ? NULL : op->def, op->commands, all);
    if (op->type == OPT_CHOICE) {
      char names[512];
      list_names(op->names, names, sizeof names);
      fprintf(f, "  %-22s   %s\n", "", names);
    }
  }
  if (all || (command & PARAM_COMMANDS)) { /* the methods' parameters, from the registry */
    for (int m = 0; m < GC_METHOD_COUNT; m++) {
      const gc_method_info *mi = gc_method_info_of((gc_method)m);
      for (int i = 0; i < mi->nparams; i++) {
        const gc_method_param *q = &mi->params[i];
        gc_method owner;
        if (find_param(q->cli, &owner) != q) continue; /* listed with its first method */
        char help[200], def[32], arg[32];
        snprintf(help, sizeof help, "%s: %s, %.10g..%.10g", mi->label, q->label, q->min, q->max);
        snprintf(def, sizeof def, "%.10g", q->def);
        snprintf(arg, sizeof arg, "%s%s%s", q->integer ? "N" : "X", q->special ? "|" : "", q->special ? q->special : "");
        option_line(f, q->cli, arg, help, all ? NULL : def, PARAM_COMMANDS, all);
      }
    }
  }
  fprintf(f,
          "FILE and MODEL are recognised by content: a .gcw, a Keras .h5 (Keras 1/2 weights or model.save),\n"
          ".weights.h5 or .keras file, or a TF.js model.json with its shards beside it; anything but a .gcw is\n"
          "converted in memory first. Errors go to stderr with a non-zero exit status.\n");
}
