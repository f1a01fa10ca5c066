/* cli.c: messages, usage, verbs and progress for the esximg commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool cli_quiet;
bool cli_verbose;

int cli_usage(FILE *to, const char *usage, int code)
{
    fputs(usage, to);
    return code;
}

int cli_fail(const struct esximg_err *err)
{
    const char *msg = err->msg[0] ? err->msg : esximg_strerror(err->code);
    if (err->file[0])
        fprintf(stderr, "esximg: %s: %s\n", err->file, msg);
    else
        fprintf(stderr, "esximg: %s\n", msg);
    return CLI_EXIT_FAIL;
}

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("esximg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

void cli_warn(const char *fmt, ...)
{
    if (cli_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("esximg: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn_all(const char *prefix, const struct esximg_warnings *w)
{
    const char *sep = prefix ? ": " : "";
    prefix = prefix ? prefix : "";
    for (size_t i = 0; i < w->count; i++)
        cli_warn("%s%s%s", prefix, sep, w->items[i].msg);
    if (w->dropped)
        cli_warn("%s%s%zu more warnings not shown", prefix, sep, w->dropped);
}

void cli_note(const char *fmt, ...)
{
    if (!cli_verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("esximg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_run_verb(const struct cli_verb *verbs, int argc, char **argv, const char *usage)
{
    if (argc < 2)
        return cli_usage(stderr, usage, CLI_EXIT_USAGE);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return cli_usage(stdout, usage, CLI_EXIT_OK);
    for (const struct cli_verb *v = verbs; v->name; v++)
        if (!strcmp(argv[1], v->name))
            return v->fn(argc - 1, argv + 1);
    fprintf(stderr, "esximg: unknown verb '%s'\n", argv[1]);
    return cli_usage(stderr, usage, CLI_EXIT_USAGE);
}

int cli_list_add(struct cli_list *l, const char *s)
{
    const char **grown = realloc(l->items, (l->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    grown[l->count++] = s;
    l->items = grown;
    return 0;
}

void cli_list_free(struct cli_list *l)
{
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void cli_progress_start(struct cli_progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total;
    p->last_permille = -1;
    p->active = !cli_quiet && isatty(STDERR_FILENO) && total > 0;
    cli_progress_update(p, 0);
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
    if (!p->active)
        return;
    int permille = (int)(done >= p->total ? 1000 : done * 1000 / p->total);
    if (permille == p->last_permille)
        return;
    p->last_permille = permille;
    int filled = permille * 30 / 1000;
    fprintf(stderr, "\r%-12.12s [", p->label);
    for (int i = 0; i < 30; i++)
        fputc(i < filled ? '#' : ' ', stderr);
    fprintf(stderr, "] %3d%%", permille / 10);
    fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
    if (!p->active)
        return;
    cli_progress_update(p, p->total);
    fputc('\n', stderr);
    p->active = false;
}

int64_t cli_source_date(int64_t fallback)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    if (!s || !*s)
        return fallback;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return fallback;
    return (int64_t)v;
}

const char *cli_human_size(uint64_t bytes, char buf[32])
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, 32, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}
