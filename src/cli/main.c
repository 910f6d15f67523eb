/* main.c - the native command-line tool: `gradcam COMMAND [options]`, one file per command
 * (predict.c, explain.c, layers.c, convert.c, bench.c), the options in one table (options.c).
 * `gradcam help` lists the commands and options, `gradcam help COMMAND` one command's.
 * Exit status: 0 done, 1 a failure (the message names the file and the library's status), 2 a
 * usage error. Errors go to stderr, one line each.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  unsigned bit;
  int (*run)(const cli_opts *o);
} kCommands[] = {
    {"predict", CLI_PREDICT, cli_predict}, {"explain", CLI_EXPLAIN, cli_explain}, {"layers", CLI_LAYERS, cli_layers},
    {"convert", CLI_CONVERT, cli_convert}, {"bench", CLI_BENCH, cli_bench},
};
#define NCOMMANDS ((int)(sizeof kCommands / sizeof kCommands[0]))

static int find_command(const char *name) {
  for (int i = 0; name && i < NCOMMANDS; i++)
    if (!strcmp(kCommands[i].name, name)) return i;
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    cli_usage(stderr, 0);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    const int c = argc > 2 ? find_command(argv[2]) : -1;
    cli_usage(stdout, c >= 0 ? kCommands[c].bit : 0);
    return 0;
  }
  const int c = find_command(cmd);
  if (c < 0) {
    fprintf(stderr, "gradcam: unknown command '%s' (gradcam help lists them)\n", cmd);
    return 2;
  }
  cli_opts o;
  const int p = cli_parse(kCommands[c].bit, argc, argv, 2, &o);
  if (p) {
    if (p > 0) cli_usage(stdout, kCommands[c].bit);
    return p > 0 ? 0 : 2;
  }
  if (cli_given(&o, "arithmetic") && gc_set_arithmetic((gc_arithmetic)o.arithmetic) != GC_OK) {
    fprintf(stderr, "gradcam: --arithmetic %s is not available in this build (CPU architecture)\n",
            gc_arithmetic_name((gc_arithmetic)o.arithmetic));
    return 2;
  }
  return kCommands[c].run(&o);
}
