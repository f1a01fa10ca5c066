/* cli.h: what the subcommands of esximg share: exit codes, messages, usage, progress. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "esximg/err.h"

/* Exit codes of every esximg command (listed in `esximg --help` and docs/esximg.1.md). */
enum cli_exit {
    CLI_EXIT_OK = 0,      /* done */
    CLI_EXIT_FAIL = 1,    /* failed: the message says which file and why */
    CLI_EXIT_USAGE = 2,   /* the command line is wrong */
    CLI_EXIT_CHECK = 3,   /* a check found problems (bad checksum, device without a driver) */
};

/* -q/--quiet and -v/--verbose, before the command (`esximg -v edit ...`) or among its options
 * (every command takes both; cli_getopt handles them); the later one wins.  Quiet: errors
 * and the requested output only (no progress bar, warnings or summaries).  Verbose: also what
 * is read and written, on stderr. */
extern bool cli_quiet;
extern bool cli_verbose;
void cli_set_quiet(bool quiet);
void cli_set_verbose(bool verbose);

/* The command (and verb) being run, for messages: "edit", "vmtar x". */
void cli_set_command(const char *name);

/* getopt_long that handles -q/--quiet and -v/--verbose itself (list 'q' and 'v' in `shorts`
 * and "quiet"/"verbose" in `longs`; they are not returned) and reports a misused option as
 * `esximg: <command>: unknown option '--x'` or `... option '--output' needs a value`,
 * returning '?'. */
struct option;
int cli_getopt(int argc, char **argv, const char *shorts, const struct option *longs);

/* Prints usage to `to` and returns `code`.  To stderr (misuse) only the synopsis (the lines
 * before the first empty one) and where the full help is. */
int cli_usage(FILE *to, const char *usage, int code);
/* Prints `esximg: <file>: <msg>` (or without file) once and returns CLI_EXIT_FAIL. */
int cli_fail(const struct esximg_err *err);
/* Prints `esximg: <fmt>` to stderr and returns `code`. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints `esximg: warning: <fmt>` to stderr unless quiet. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints each warning of a list (after "prefix: " when prefix is not NULL), then how many were
 * dropped, unless quiet. */
struct esximg_warnings;
void cli_warn_all(const char *prefix, const struct esximg_warnings *w);
/* Prints to stderr only with --verbose. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An esximg library note callback (`arg` unused): cli_note("%s", msg). */
void cli_note_cb(const char *msg, void *arg);
/* With --verbose: `esximg: read <path> (<size>): <what>` (what may be NULL). */
void cli_note_read(const char *path, const char *what_fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct esximg_image;
/* With --verbose: cli_note_read of an opened image: its version and VIB count. */
void cli_note_image(const char *path, const struct esximg_image *img);
/* With --verbose: `esximg: wrote <path> (<size>)`, the size from the file. */
void cli_note_wrote(const char *path);

/* Checks, before any long work, that `path` can be written as an output file: not a folder,
 * in a folder that exists.  Returns 0, else prints why and what to do and returns
 * CLI_EXIT_FAIL.  `example` is a file name for the hint ("custom.iso"). */
int cli_check_output(const char *path, const char *example);

/* A work folder `<beside>.<what>-XXXXXX` (beside the output: the same file system, so that
 * spooled VIBs and a temporary image cost no copy across devices): *work (to free with
 * cli_work_remove).  Returns 0, else prints why and returns CLI_EXIT_FAIL. */
int cli_work_make(const char *beside, const char *what, char **work);
/* Removes the work folder, which must be empty by then (a failure is a warning), and frees
 * the name.  NULL does nothing. */
void cli_work_remove(char *work);

/* Returns 0 when the image has an image database (an ESXi installer image); else prints
 * that `file` is not one and how to see what it holds, and returns CLI_EXIT_FAIL. */
int cli_need_esxi(const struct esximg_image *img, const char *file);

/* A verb table for commands with verbs (`vmtar t|x|c`, `vib info|extract|verify`). */
struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
};
/* Runs the verb named by argv[1]; usage when missing or unknown. argv[0] of the verb is its
 * name. */
int cli_run_verb(const struct cli_verb *verbs, int argc, char **argv, const char *usage);

/* Reads a whole input file, or standard input for "-"; *shown is how messages name it
 * ("standard input" for "-", else path; shown may be NULL). Prints why it failed; CLI exit
 * status. */
int cli_read_input(const char *path, uint8_t **data, size_t *len, const char **shown);

/* A repeatable option's values, borrowed from argv. */
struct cli_list {
    const char **items;
    size_t count;
};
/* Appends s; -1 when out of memory. */
int cli_list_add(struct cli_list *l, const char *s);
void cli_list_free(struct cli_list *l);

/* A progress bar on stderr when it is a terminal and not quiet; silent otherwise.  A message
 * printed while a bar is drawn goes on a line of its own (the bar is drawn again after it);
 * cli_progress_end ends the bar's line. */
struct cli_progress {
    const char *label;
    uint64_t total;
    int last_permille;
    bool active;
    bool started;
};
void cli_progress_start(struct cli_progress *p, const char *label, uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);
/* An esximg library progress callback: `arg` is a struct cli_progress initialised with only
 * its label ({.label = "reading"}); the bar starts on the first call, with its total.
 * cli_progress_end ends it (nothing when no call came). */
void cli_progress_cb(uint64_t done, uint64_t total, void *arg);


/* SOURCE_DATE_EPOCH when set and valid, else `fallback`. */
int64_t cli_source_date(int64_t fallback);

/* Human sizes: "1.2 MiB". Returns buf. */
const char *cli_human_size(uint64_t bytes, char buf[32]);

#endif
