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

/* Set from -q/--quiet and -v/--verbose by the commands that take them. */
extern bool cli_quiet;
extern bool cli_verbose;

/* Prints usage to `to` and returns `code`. */
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

/* A verb table for commands with verbs (`vmtar t|x|c`, `vib info|extract|verify`). */
struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
};
/* Runs the verb named by argv[1]; usage when missing or unknown. argv[0] of the verb is its
 * name. */
int cli_run_verb(const struct cli_verb *verbs, int argc, char **argv, const char *usage);

/* A repeatable option's values, borrowed from argv. */
struct cli_list {
    const char **items;
    size_t count;
};
/* Appends s; -1 when out of memory. */
int cli_list_add(struct cli_list *l, const char *s);
void cli_list_free(struct cli_list *l);

/* A progress bar on stderr when it is a terminal and not quiet; silent otherwise. */
struct cli_progress {
    const char *label;
    uint64_t total;
    int last_permille;
    bool active;
};
void cli_progress_start(struct cli_progress *p, const char *label, uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);

/* SOURCE_DATE_EPOCH when set and valid, else `fallback`. */
int64_t cli_source_date(int64_t fallback);

/* Human sizes: "1.2 MiB". Returns buf. */
const char *cli_human_size(uint64_t bytes, char buf[32]);

#endif
