/* runtime/cli/cli.h — the edgegen CLI's subcommands, one file each (runtime/cli/cli_<name>.c), and the helpers they
 * share (runtime/cli/cli.c). Commands use the public API (runtime/edgegen.h) and the text front end only.
 * Each returns the process exit status: 0 ok, 1 runtime failure, 2 usage error. */
#ifndef EG_CLI_H
#define EG_CLI_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

#ifndef EG_DATADIR
#define EG_DATADIR "/usr/local/share/edgegen"   /* the install data dir; models in EG_DATADIR/models */
#endif

struct eg_cli_cmd {
    const char *name;
    const char *summary;                 /* one line for `edgegen --help` */
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
};

#if defined(__GNUC__)
#define EG_CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EG_CLI_PRINTF(a, b)
#endif

/* One error line on stderr, as the library's default log sink writes it: "edgegen: error: ...". */
void eg_cli_error(const char *fmt, ...) EG_CLI_PRINTF(1, 2);

/* Whole-string parsers for option values: 1 when s is a number in range (written to *out), else 0.
 * eg_cli_parse_double: [lo, hi], or (lo, hi] with lo_open. eg_cli_parse_u64: decimal digits only. */
int eg_cli_parse_int(const char *s, long lo, long hi, int *out);
int eg_cli_parse_u64(const char *s, uint64_t *out);
int eg_cli_parse_double(const char *s, double lo, double hi, int lo_open, double *out);

/* Monotonic clock in nanoseconds, for the timings -v prints. */
uint64_t eg_cli_time_ns(void);

/* Find a default model file: for each directory in order — $EDGEGEN_MODEL_DIR, <binary's dir>/../models, the
 * install data dir (EG_DATADIR/models) — try every name in `names` (NULL-terminated, preferred first) as
 * dir/name and dir/sub/name (sub may be NULL). Writes the path to out and returns 1, or 0 when none exists. */
int eg_cli_default_model(const char *sub, const char *const *names, char *out, size_t len);
/* The directories eg_cli_default_model searches, for messages: "$EDGEGEN_MODEL_DIR, <binary>/../models, DATADIR/models". */
const char *eg_cli_model_dirs(void);

/* The espeak-ng front end as the library's phonemiser (runtime/cli/cli_phonemize.c): user = struct eg_cli_phon. */
#include <stdio.h>
#include "runtime/edgegen.h"
struct eg_phonemizer;
struct eg_cli_phon { struct eg_phonemizer *ph; eg_phonemes_fn emit; void *sink; };
enum eg_status eg_cli_phonemiser(void *user, const char *utf8, int max_phonemes, eg_phonemes_fn emit, void *sink);
/* `edgegen phonemize` / `tts --dry-run`: print the front end's sentences to out; m (may be NULL) checks the
 * inventory. Returns the exit status (0, or 1 after one error line). */
int eg_cli_dry_run(const char *text, const struct eg_text_params *tp, struct eg_phonemizer *ph,
                   const struct eg_model *m, FILE *out);
/* The command's text: its words joined with spaces, or stdin when there are none (or "-"). NULL after one line. */
char *eg_cli_read_text(const char *const *words, int n_words);

#endif
