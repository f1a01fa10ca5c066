/* cmd_vmtar.c: `esximg vmtar t|x|c`: list, extract and create vmtar archives. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "esximg/io.h"
#include "esximg/vmtar.h"
#include "json.h"

static const char vmtar_usage[] =
    "usage: esximg vmtar t FILE [-v] [--json]\n"
    "       esximg vmtar x FILE [-C DIR] [-q] [-v] [PATH...]\n"
    "       esximg vmtar c -o OUT [-C DIR] [--align N] [--signed-checksum] [--pad]\n"
    "                      [--no-gzip] [--mtime EPOCH] [-q] [-v] PATH...\n"
    "\n"
    "List (t), extract (x) or create (c) a vmtar archive: the content of vgz payloads and of\n"
    ".v00 boot modules. FILE may be gzip'd or raw. A POSIX or GNU tar is refused.\n"
    "\n"
    "Options:\n"
    "  -v, --verbose         say what is read and written; t: also list mode, owner,\n"
    "                        size, mtime (UTC), offset and type\n"
    "      --json            t: print the archive layout and entries as JSON\n"
    "  -C, --directory DIR   x: extract into DIR (created when missing; default .)\n"
    "                        c: take the PATHs relative to DIR\n"
    "  -o, --output OUT      c: the archive to write (replaced atomically)\n"
    "      --align N         c: content alignment, 512, 1024, 2048 or 4096 (default 4096)\n"
    "      --signed-checksum c: header checksums summed as signed chars, as VMware's vmtar\n"
    "      --pad             c: zero-pad the archive to a multiple of 512 bytes\n"
    "      --no-gzip         c: write a raw vmtar (default: one deterministic gzip member)\n"
    "      --mtime EPOCH     c: time of every entry (default SOURCE_DATE_EPOCH, else 0)\n"
    "  -q, --quiet           print nothing but errors and the listing (no progress bar)\n"
    "  -h, --help            this text\n"
    "\n"
    "x never follows a symlink in DIR, refuses entries and links that would leave DIR, and\n"
    "applies each entry's mode without setuid and setgid. c stores regular files,\n"
    "directories and symlinks, sorted by name, owned by root (0/0), modes kept.\n";

enum {
    OPT_JSON = 256,
    OPT_ALIGN,
    OPT_SIGNED,
    OPT_PAD,
    OPT_NO_GZIP,
    OPT_MTIME,
};

static const struct option vmtar_opts[] = {
    {"verbose", no_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"directory", required_argument, NULL, 'C'},
    {"output", required_argument, NULL, 'o'},
    {"align", required_argument, NULL, OPT_ALIGN},
    {"signed-checksum", no_argument, NULL, OPT_SIGNED},
    {"pad", no_argument, NULL, OPT_PAD},
    {"no-gzip", no_argument, NULL, OPT_NO_GZIP},
    {"mtime", required_argument, NULL, OPT_MTIME},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct vmtar_args {
    char verb;
    bool json;
    const char *dir;
    const char *output;
    struct esximg_vmtar_wopts wopts;
    bool have_mtime;
    uint64_t mtime;
    int argc;            /* the operands */
    char **argv;
};

static bool vmtar_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Parses the options of every verb; those that do not apply to the verb are misuse.
 * Returns -1 to go on, else the exit code. */
static int vmtar_parse_args(int argc, char **argv, struct vmtar_args *a)
{
    const char *only_c = NULL, *only_t = NULL;
    for (int c; (c = cli_getopt(argc, argv, "hvqC:o:", vmtar_opts)) != -1;) {
        uint64_t n;
        if (c == 'h') {
            return cli_usage(stdout, vmtar_usage, CLI_EXIT_OK);
        } else if (c == OPT_JSON) {
            a->json = true;
            only_t = "--json";
        } else if (c == 'C') {
            a->dir = optarg;
        } else if (c == 'o') {
            a->output = optarg;
            only_c = "-o";
        } else if (c == OPT_ALIGN) {
            if (!vmtar_parse_u64(optarg, &n) || (n != 512 && n != 1024 && n != 2048 &&
                                                 n != 4096))
                return cli_error(CLI_EXIT_USAGE, "--align wants 512, 1024, 2048 or 4096, "
                                 "not '%s'", optarg);
            a->wopts.alignment = (uint32_t)n;
            only_c = "--align";
        } else if (c == OPT_SIGNED) {
            a->wopts.signed_checksums = true;
            only_c = "--signed-checksum";
        } else if (c == OPT_PAD) {
            a->wopts.pad_to_512 = true;
            only_c = "--pad";
        } else if (c == OPT_NO_GZIP) {
            a->wopts.gzip = false;
            only_c = "--no-gzip";
        } else if (c == OPT_MTIME) {
            if (!vmtar_parse_u64(optarg, &a->mtime))
                return cli_error(CLI_EXIT_USAGE, "--mtime wants seconds since the epoch, "
                                 "not '%s'", optarg);
            a->have_mtime = true;
            only_c = "--mtime";
        } else {
            return cli_usage(stderr, vmtar_usage, CLI_EXIT_USAGE);
        }
    }
    if (only_c && a->verb != 'c')
        return cli_error(CLI_EXIT_USAGE, "%s is an option of 'vmtar c'", only_c);
    if (only_t && a->verb != 't')
        return cli_error(CLI_EXIT_USAGE, "%s is an option of 'vmtar t'", only_t);
    a->argc = argc - optind;
    a->argv = argv + optind;
    return -1;
}

/* ------------------------------------------------------------------------------- reading */

static int vmtar_read_file(const char *path, struct esximg_vmtar **v)
{
    struct esximg_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esximg_file_read(path, 0, &data, &len, &err);
    if (!rc)
        rc = esximg_vmtar_read(data, len, v, &err);
    free(data);
    if (rc) {
        esximg_err_file(&err, path);
        return cli_fail(&err);
    }
    cli_note_read(path, "%svmtar, %zu entries", (*v)->gzipped ? "gzip'd " : "",
                  (*v)->entry_count);
    return 0;
}

static const char *vmtar_type_name(char t)
{
    switch (t) {
    case ESXIMG_VMTAR_DIR: return "dir";
    case ESXIMG_VMTAR_SYMLINK: return "symlink";
    case ESXIMG_VMTAR_SHARED: return "shared";
    default: return "file";
    }
}

/* "drwxr-xr-x", with s/S and t/T for the special bits */
static void vmtar_mode_string(const struct esximg_vmtar_entry *e, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    uint32_t m = e->mode;
    out[0] = e->typeflag == ESXIMG_VMTAR_DIR ? 'd' : e->typeflag == ESXIMG_VMTAR_SYMLINK ? 'l'
                                                                                       : '-';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & 04000)
        out[3] = out[3] == 'x' ? 's' : 'S';
    if (m & 02000)
        out[6] = out[6] == 'x' ? 's' : 'S';
    if (m & 01000)
        out[9] = out[9] == 'x' ? 't' : 'T';
    out[10] = '\0';
}

/* a name as text: bytes that could move the terminal's cursor shown as \ooo */
static void vmtar_print_name(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            printf("\\%03o", *p);
        else
            putchar(*p);
    }
}

static void vmtar_print_long(const struct esximg_vmtar_entry *e)
{
    char mode[11], owner[80], when[32];
    vmtar_mode_string(e, mode);
    if (e->uname[0] && e->gname[0])
        snprintf(owner, sizeof owner, "%s/%s", e->uname, e->gname);
    else
        snprintf(owner, sizeof owner, "%" PRIu32 "/%" PRIu32, e->uid, e->gid);
    time_t t = (time_t)e->mtime;
    struct tm tm;
    if (e->mtime > (uint64_t)INT64_MAX || !gmtime_r(&t, &tm) ||
        !strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(when, sizeof when, "@%" PRIu64, e->mtime);
    printf("%s %-12s %10" PRIu64 " %s @0x%08" PRIx32 " %-7s ", mode, owner, e->size, when,
           e->offset, vmtar_type_name(e->typeflag));
    vmtar_print_name(e->name);
    if (e->typeflag == ESXIMG_VMTAR_SYMLINK) {
        fputs(" -> ", stdout);
        vmtar_print_name(e->linkname);
    }
    putchar('\n');
}

static void vmtar_json_layout(struct json *j, const struct esximg_vmtar *v)
{
    const struct esximg_vmtar_layout *l = &v->layout;
    json_key(j, "layout");
    json_object_begin(j);
    json_kv_uint(j, "alignment", l->alignment);
    json_kv_bool(j, "signed_checksums", l->signed_checksums);
    json_kv_bool(j, "mixed_checksums", l->mixed_checksums);
    json_kv_uint(j, "headers_end", l->headers_end);
    json_kv_uint(j, "data_start", l->data_start);
    json_kv_uint(j, "data_end", l->data_end);
    json_kv_uint(j, "padding", l->padding);
    json_kv_bool(j, "padded_to_512", l->padded_to_512);
    json_kv_uint(j, "trailer_bytes", v->trailer_len);
    json_kv_bool(j, "signature_trailer", l->signature_trailer);
    json_kv_bool(j, "exact", l->exact);
    json_kv_string(j, "inexact_reason", l->inexact_why);
    json_object_end(j);
}

static void vmtar_json_entry(struct json *j, const struct esximg_vmtar_entry *e)
{
    char mode[16], type[2] = {e->typeflag, '\0'};
    snprintf(mode, sizeof mode, "%04" PRIo32, e->mode);
    json_object_begin(j);
    json_kv_string(j, "name", e->name);
    json_kv_string(j, "type", vmtar_type_name(e->typeflag));
    json_kv_string(j, "typeflag", type);
    json_kv_string(j, "mode", mode);
    json_kv_uint(j, "uid", e->uid);
    json_kv_uint(j, "gid", e->gid);
    json_kv_string(j, "uname", e->uname);
    json_kv_string(j, "gname", e->gname);
    json_kv_uint(j, "size", e->size);
    json_kv_uint(j, "mtime", e->mtime);
    json_kv_uint(j, "offset", e->offset);
    json_kv_string(j, "linkname", e->linkname);
    json_kv_uint(j, "text_offset", e->text_offset);
    json_kv_uint(j, "text_pages", e->text_pages);
    json_kv_uint(j, "fixup_pages", e->fixup_pages);
    json_kv_bool(j, "signed_checksum", e->signed_checksum);
    json_object_end(j);
}

static void vmtar_json(const char *path, const struct esximg_vmtar *v)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", path);
    json_kv_string(&j, "format", "vmtar");
    json_kv_bool(&j, "gzip", v->gzipped);
    json_kv_uint(&j, "entry_count", v->entry_count);
    vmtar_json_layout(&j, v);
    json_key(&j, "entries");
    json_array_begin(&j);
    for (size_t i = 0; i < v->entry_count; i++)
        vmtar_json_entry(&j, &v->entries[i]);
    json_array_end(&j);
    json_object_end(&j);
    json_end(&j);
}

static int vmtar_list(const struct vmtar_args *a)
{
    if (a->argc != 1)
        return cli_usage(stderr, vmtar_usage, CLI_EXIT_USAGE);
    struct esximg_vmtar *v = NULL;
    int rc = vmtar_read_file(a->argv[0], &v);
    if (rc)
        return rc;
    if (a->json)
        vmtar_json(a->argv[0], v);
    else
        for (size_t i = 0; i < v->entry_count; i++) {
            if (cli_verbose)
                vmtar_print_long(&v->entries[i]);
            else {
                vmtar_print_name(v->entries[i].name);
                putchar('\n');
            }
        }
    esximg_vmtar_free(v);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------------------- extracting */

/* A bar started on the first report, once the total is known; small jobs get none. */
struct vmtar_bar {
    struct cli_progress p;
    const char *label;
    bool started;
};

static void vmtar_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct vmtar_bar *b = ctx;
    if (!b->started) {
        b->started = true;
        cli_progress_start(&b->p, b->label, total > (16u << 20) ? total : 0);
    }
    cli_progress_update(&b->p, done);
}

static void vmtar_progress_end(struct vmtar_bar *b)
{
    if (b->started)
        cli_progress_end(&b->p);
}

static int vmtar_extract(const struct vmtar_args *a)
{
    if (a->argc < 1)
        return cli_usage(stderr, vmtar_usage, CLI_EXIT_USAGE);
    struct vmtar_bar bar = {.label = "extracting"};
    struct esximg_vmtar_xopts xo = {
        .paths = (const char *const *)(a->argv + 1),
        .path_count = (size_t)(a->argc - 1),
        .progress = vmtar_progress,
        .progress_ctx = &bar,
    };
    struct esximg_err err = {0};
    /* streamed in bounded memory, whatever the size of the archive */
    int rc = esximg_vmtar_extract_file(a->argv[0], a->dir ? a->dir : ".", &xo, &err);
    vmtar_progress_end(&bar);
    if (rc) {
        esximg_err_file(&err, a->argv[0]);
        return cli_fail(&err);
    }
    cli_note("wrote %s into %s", a->argc > 1 ? "the entries named" : "every entry",
             a->dir ? a->dir : ".");
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------ creating */

static int vmtar_create(struct vmtar_args *a)
{
    if (!a->output || a->argc < 1)
        return cli_error(CLI_EXIT_USAGE, "vmtar c wants -o OUT and at least one PATH");
    struct esximg_err err = {0};
    struct esximg_vmtar *v = NULL;
    struct vmtar_bar bar = {.label = "writing"};
    if (cli_check_output(a->output, "payload.vgz"))
        return CLI_EXIT_FAIL;
    int64_t epoch = cli_source_date(0);
    /* the files are listed, not read: write_file streams each content from its file */
    struct esximg_vmtar_topts to = {
        .mtime = a->have_mtime ? a->mtime : (uint64_t)epoch,
        .by_reference = true,
    };
    a->wopts.progress = vmtar_progress;
    a->wopts.progress_ctx = &bar;
    int rc = esximg_vmtar_new(&v, &err);
    if (!rc)
        rc = esximg_vmtar_add_tree(v, a->dir ? a->dir : ".", (const char *const *)a->argv,
                                   (size_t)a->argc, &to, &err);
    if (!rc)
        rc = esximg_vmtar_write_file(v, &a->wopts, a->output, &err);
    vmtar_progress_end(&bar);
    esximg_vmtar_free(v);
    if (rc)
        return cli_fail(&err);
    cli_note_wrote(a->output);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------- verbs */

static int vmtar_verb(char verb, int argc, char **argv)
{
    struct vmtar_args a = {.verb = verb, .wopts = {.gzip = true, .gzip_level = 6}};
    int rc = vmtar_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (verb == 't')
        return vmtar_list(&a);
    if (verb == 'x')
        return vmtar_extract(&a);
    return vmtar_create(&a);
}

static int vmtar_t(int argc, char **argv)
{
    return vmtar_verb('t', argc, argv);
}

static int vmtar_x(int argc, char **argv)
{
    return vmtar_verb('x', argc, argv);
}

static int vmtar_c(int argc, char **argv)
{
    return vmtar_verb('c', argc, argv);
}

int cmd_vmtar(int argc, char **argv)
{
    static const struct cli_verb verbs[] = {
        {"t", vmtar_t},
        {"x", vmtar_x},
        {"c", vmtar_c},
        {NULL, NULL},
    };
    return cli_run_verb(verbs, argc, argv, vmtar_usage);
}
