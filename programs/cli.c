/* cli.c: messages, usage, verbs and progress for the esximg commands. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "esximg/image.h"
#include "esximg/io.h"

bool cli_quiet;
bool cli_verbose;

static char cli_command[64] = "esximg";

/* The bar drawn last, while its line is open: a message first ends that line (only compared,
 * never dereferenced: the bar may be gone). */
static const struct cli_progress *cli_bar;

/* Warnings already printed: each is printed once. */
static struct {
    char **items;
    size_t count;
} cli_warned;

static void cli_break_bar(void)
{
    if (!cli_bar)
        return;
    fputc('\n', stderr);
    cli_bar = NULL;   /* the bar is drawn again on its next update */
}

void cli_set_quiet(bool quiet)
{
    cli_quiet = quiet;
    if (quiet)
        cli_verbose = false;
}

void cli_set_verbose(bool verbose)
{
    cli_verbose = verbose;
    if (verbose)
        cli_quiet = false;
}

void cli_set_command(const char *name)
{
    snprintf(cli_command, sizeof cli_command, "%s", name);
}

/* The option of a misused short option or long option value, as text. */
static void cli_option_name(int opt, const char *shorts, const struct option *longs,
                            char *out, size_t size, bool *needs_value)
{
    const char *s = opt > 0 && opt != ':' ? strchr(shorts, opt) : NULL;
    *needs_value = s && s[1] == ':';
    const struct option *l = longs;
    while (l && l->name && !(l->val == opt && !l->flag))
        l++;
    if (l && l->name && l->has_arg == required_argument)
        *needs_value = true;
    if (s && l && l->name)
        snprintf(out, size, "-%c/--%s", opt, l->name);
    else if (l && l->name)
        snprintf(out, size, "--%s", l->name);
    else
        snprintf(out, size, "-%c", opt);
}

int cli_getopt(int argc, char **argv, const char *shorts, const struct option *longs)
{
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, longs, NULL);
        if (c == 'q' || c == 'v') {
            (c == 'q' ? cli_set_quiet : cli_set_verbose)(true);
            continue;
        }
        if (c != '?' && c != ':')
            return c;
        char name[80];
        bool needs_value = false;
        if (optopt == 0) {
            const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            size_t n = strcspn(bad, "=");
            cli_error(CLI_EXIT_USAGE, "%s: unknown option '%.*s'", cli_command, (int)n, bad);
            return '?';
        }
        cli_option_name(optopt, shorts, longs, name, sizeof name, &needs_value);
        if (needs_value)
            cli_error(CLI_EXIT_USAGE, "%s: option '%s' needs a value", cli_command, name);
        else
            cli_error(CLI_EXIT_USAGE, "%s: unknown option '%s'", cli_command, name);
        return '?';
    }
}

int cli_usage(FILE *to, const char *usage, int code)
{
    if (to != stderr) {
        fputs(usage, to);
        return code;
    }
    const char *end = strstr(usage, "\n\n");
    fwrite(usage, 1, end ? (size_t)(end - usage) + 1 : strlen(usage), to);
    const char *cmd = strncmp(usage, "usage: esximg ", 14) ? NULL : usage + 14;
    if (cmd)
        fprintf(to, "Run 'esximg %.*s --help' for every option.\n", (int)strcspn(cmd, " \n"),
                cmd);
    return code;
}

int cli_fail(const struct esximg_err *err)
{
    cli_break_bar();
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
    cli_break_bar();
    fputs("esximg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* True when msg was printed before; else remembers it (a full list: print anyway). */
static bool cli_warned_before(const char *msg)
{
    for (size_t i = 0; i < cli_warned.count; i++)
        if (!strcmp(cli_warned.items[i], msg))
            return true;
    char **grown = realloc(cli_warned.items, (cli_warned.count + 1) * sizeof *grown);
    char *copy = strdup(msg);
    if (grown)
        cli_warned.items = grown;
    if (!grown || !copy) {
        free(copy);
        return false;
    }
    grown[cli_warned.count++] = copy;
    return false;
}

void cli_warn(const char *fmt, ...)
{
    if (cli_quiet)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cli_warned_before(msg))
        return;
    cli_break_bar();
    fprintf(stderr, "esximg: warning: %s\n", msg);
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
    cli_break_bar();
    fputs("esximg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_note_cb(const char *msg, void *arg)
{
    (void)arg;
    cli_note("%s", msg);
}

static const char *cli_file_size(const char *path, char buf[32])
{
    struct stat st;
    if (stat(path, &st) != 0)
        return "size unknown";
    return cli_human_size((uint64_t)st.st_size, buf);
}

void cli_note_read(const char *path, const char *what_fmt, ...)
{
    if (!cli_verbose)
        return;
    char what[512] = "", size[32];
    if (what_fmt) {
        va_list ap;
        va_start(ap, what_fmt);
        vsnprintf(what, sizeof what, what_fmt, ap);
        va_end(ap);
    }
    cli_note("read %s (%s)%s%s", path, cli_file_size(path, size), what[0] ? ": " : "", what);
}

void cli_note_image(const char *path, const struct esximg_image *img)
{
    if (img->db)
        cli_note_read(path, "ESXi %s installer image, %zu VIBs, %zu problems",
                      img->version ? img->version : "(version unknown)", img->vib_count,
                      img->problems.count);
    else
        cli_note_read(path, "ISO 9660 image without an image database (not ESXi)");
}

void cli_note_wrote(const char *path)
{
    char size[32];
    if (cli_verbose)
        cli_note("wrote %s (%s)", path, cli_file_size(path, size));
}

int cli_check_output(const char *path, const char *example)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_error(CLI_EXIT_FAIL, "%s: is a folder: give the file to write, e.g. "
                         "%s%s%s", path, path, path[strlen(path) - 1] == '/' ? "" : "/",
                         example);
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_error(CLI_EXIT_FAIL, "%s: the folder '%s' does not exist: create it or "
                         "write elsewhere", path, dir);
    return 0;
}

int cli_work_make(const char *beside, const char *what, char **work)
{
    char *name = NULL;
    if (asprintf(&name, "%s.%s-XXXXXX", beside, what) < 0)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    if (!mkdtemp(name)) {
        int rc = cli_error(CLI_EXIT_FAIL, "%s: cannot make a work folder beside it: %s",
                           beside, strerror(errno));
        free(name);
        return rc;
    }
    *work = name;
    return 0;
}

void cli_work_remove(char *work)
{
    if (work && rmdir(work) != 0)
        cli_warn("%s: cannot remove the work folder: %s", work, strerror(errno));
    free(work);
}

int cli_need_esxi(const struct esximg_image *img, const char *file)
{
    if (img->db)
        return 0;
    return cli_error(CLI_EXIT_FAIL, "%s: not an ESXi installer image (no readable image "
                     "database IMGDB.TGZ): 'esximg info %s' shows what it holds", file, file);
}

int cli_run_verb(const struct cli_verb *verbs, int argc, char **argv, const char *usage)
{
    if (argc < 2)
        return cli_usage(stderr, usage, CLI_EXIT_USAGE);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return cli_usage(stdout, usage, CLI_EXIT_OK);
    for (const struct cli_verb *v = verbs; v->name; v++)
        if (!strcmp(argv[1], v->name)) {
            char name[sizeof cli_command];
            if (snprintf(name, sizeof name, "%.31s %.31s", cli_command, v->name) > 0)
                cli_set_command(name);
            return v->fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "esximg: %s: unknown verb '%s'\n", cli_command, argv[1]);
    return cli_usage(stderr, usage, CLI_EXIT_USAGE);
}

int cli_read_input(const char *path, uint8_t **data, size_t *len, const char **shown)
{
    struct esximg_err err = {0};
    bool is_stdin = strcmp(path, "-") == 0;
    if (shown)
        *shown = is_stdin ? "standard input" : path;
    if (esximg_file_read(is_stdin ? "/dev/stdin" : path, 0, data, len, &err) == 0)
        return 0;
    if (is_stdin)
        snprintf(err.file, sizeof err.file, "standard input");
    return cli_fail(&err);
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
    p->started = true;
    cli_progress_update(p, 0);
}

void cli_progress_cb(uint64_t done, uint64_t total, void *arg)
{
    struct cli_progress *p = arg;
    if (!p->started)
        cli_progress_start(p, p->label ? p->label : "working", total);
    cli_progress_update(p, done);
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
    if (!p->active)
        return;
    int permille = (int)(done >= p->total ? 1000 : done * 1000 / p->total);
    if (permille == p->last_permille && cli_bar == p)
        return;
    p->last_permille = permille;
    if (cli_bar != p)
        cli_break_bar();
    cli_bar = p;
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
    if (cli_bar == p) {
        fputc('\n', stderr);
        cli_bar = NULL;
    }
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
