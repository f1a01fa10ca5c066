/* vibauthor_cli.c: `esximg vib create|from-oem|map-only`: build an unsigned VIB from a stage
 * folder, an ESXi-Customizer OEM .tgz or a list of PCI ids.  What the VIBs hold by default is
 * the library's rule (esximg/vibauthor.h); this file parses the options and writes the file. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vibauthor_cli.h"
#include "esximg/io.h"
#include "esximg/vib.h"
#include "esximg/vibauthor.h"

enum {
    AUTH_OPT_PAYLOAD = 300, AUTH_OPT_DRIVER, AUTH_OPT_PCI, AUTH_OPT_MTIME, AUTH_OPT_NAME,
    AUTH_OPT_VERSION, AUTH_OPT_VENDOR, AUTH_OPT_SUMMARY, AUTH_OPT_DESCRIPTION,
    AUTH_OPT_ACCEPTANCE, AUTH_OPT_TYPE, AUTH_OPT_DEPENDS, AUTH_OPT_CONFLICTS, AUTH_OPT_REPLACES,
    AUTH_OPT_PROVIDES, AUTH_OPT_TAG, AUTH_OPT_LIVE, AUTH_OPT_NO_LIVE, AUTH_OPT_MAINT,
    AUTH_OPT_NO_MAINT, AUTH_OPT_RELEASE_DATE,
};

static const struct option auth_opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "stage", required_argument, NULL, 's' },
    { "payload", required_argument, NULL, AUTH_OPT_PAYLOAD },
    { "driver", required_argument, NULL, AUTH_OPT_DRIVER },
    { "pci", required_argument, NULL, AUTH_OPT_PCI },
    { "mtime", required_argument, NULL, AUTH_OPT_MTIME },
    { "name", required_argument, NULL, AUTH_OPT_NAME },
    { "version", required_argument, NULL, AUTH_OPT_VERSION },
    { "vendor", required_argument, NULL, AUTH_OPT_VENDOR },
    { "summary", required_argument, NULL, AUTH_OPT_SUMMARY },
    { "description", required_argument, NULL, AUTH_OPT_DESCRIPTION },
    { "acceptance", required_argument, NULL, AUTH_OPT_ACCEPTANCE },
    { "type", required_argument, NULL, AUTH_OPT_TYPE },
    { "depends", required_argument, NULL, AUTH_OPT_DEPENDS },
    { "conflicts", required_argument, NULL, AUTH_OPT_CONFLICTS },
    { "replaces", required_argument, NULL, AUTH_OPT_REPLACES },
    { "provides", required_argument, NULL, AUTH_OPT_PROVIDES },
    { "tag", required_argument, NULL, AUTH_OPT_TAG },
    { "live-install", no_argument, NULL, AUTH_OPT_LIVE },
    { "no-live-install", no_argument, NULL, AUTH_OPT_NO_LIVE },
    { "maintenance-mode", no_argument, NULL, AUTH_OPT_MAINT },
    { "no-maintenance-mode", no_argument, NULL, AUTH_OPT_NO_MAINT },
    { "release-date", required_argument, NULL, AUTH_OPT_RELEASE_DATE },
    { "verbose", no_argument, NULL, 'v' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct auth_args {
    const char *verb;
    const char *output;
    const char *stage;
    const char *driver;
    const char *input;          /* from-oem: the .tgz */
    bool has_mtime;
    int64_t mtime;
    struct esximg_vibauthor_fields f;
    struct cli_list payloads, pcis, id_names, depends, conflicts, replaces, provides, tags;
};

static void auth_args_free(struct auth_args *a)
{
    struct cli_list *lists[] = { &a->payloads, &a->pcis, &a->id_names, &a->depends,
                                  &a->conflicts, &a->replaces, &a->provides, &a->tags };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        cli_list_free(lists[i]);
}

static bool auth_parse_mtime(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = (int64_t)v;
    return true;
}

/* A --name value "ID=TEXT" names a PCI id (a VIB name cannot hold '='). */
static bool auth_is_id_name(const char *verb, const char *v)
{
    return strcmp(verb, "map-only") == 0 && strchr(v, '=') != NULL;
}

static int auth_option(struct auth_args *a, int c, const char *v)
{
    struct cli_list *list = NULL;
    switch (c) {
    case 'o': a->output = v; break;
    case 's': a->stage = v; break;
    case AUTH_OPT_PAYLOAD: list = &a->payloads; break;
    case AUTH_OPT_DRIVER: a->driver = v; break;
    case AUTH_OPT_PCI: list = &a->pcis; break;
    case AUTH_OPT_MTIME:
        if (!auth_parse_mtime(v, &a->mtime))
            return cli_error(CLI_EXIT_USAGE, "--mtime '%s': not a number of seconds", v);
        a->has_mtime = true;
        break;
    case AUTH_OPT_NAME:
        if (auth_is_id_name(a->verb, v))
            list = &a->id_names;
        else
            a->f.name = v;
        break;
    case AUTH_OPT_VERSION: a->f.version = v; break;
    case AUTH_OPT_VENDOR: a->f.vendor = v; break;
    case AUTH_OPT_SUMMARY: a->f.summary = v; break;
    case AUTH_OPT_DESCRIPTION: a->f.description = v; break;
    case AUTH_OPT_ACCEPTANCE: a->f.acceptance = v; break;
    case AUTH_OPT_TYPE: a->f.type = v; break;
    case AUTH_OPT_DEPENDS: list = &a->depends; break;
    case AUTH_OPT_CONFLICTS: list = &a->conflicts; break;
    case AUTH_OPT_REPLACES: list = &a->replaces; break;
    case AUTH_OPT_PROVIDES: list = &a->provides; break;
    case AUTH_OPT_TAG: list = &a->tags; break;
    case AUTH_OPT_LIVE: a->f.live_install = ESXIMG_VIBAUTHOR_YES; break;
    case AUTH_OPT_NO_LIVE: a->f.live_install = ESXIMG_VIBAUTHOR_NO; break;
    case AUTH_OPT_MAINT: a->f.maintenance_mode = ESXIMG_VIBAUTHOR_YES; break;
    case AUTH_OPT_NO_MAINT: a->f.maintenance_mode = ESXIMG_VIBAUTHOR_NO; break;
    case AUTH_OPT_RELEASE_DATE: a->f.release_date = v; break;
    default: return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    }
    if (list && cli_list_add(list, v))
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    return -1;
}

static int auth_parse(int argc, char **argv, struct auth_args *a)
{
    memset(a, 0, sizeof *a);
    a->verb = argv[0];
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "o:s:vqh", auth_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, vib_usage, CLI_EXIT_OK);
        int rc = auth_option(a, c, optarg);
        if (rc >= 0)
            return rc;
    }
    bool oem = strcmp(a->verb, "from-oem") == 0;
    if (argc - optind != (oem ? 1 : 0)) {
        fprintf(stderr, "esximg: vib %s: %s\n", a->verb,
                oem ? "needs exactly one OEM .tgz" : "takes no file arguments");
        return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    }
    if (oem)
        a->input = argv[optind];
    if (!a->output)
        return cli_error(CLI_EXIT_USAGE, "vib %s: give the output with -o FILE", a->verb);
    if (cli_check_output(a->output, "driver.vib"))
        return CLI_EXIT_FAIL;
    a->f.depends = a->depends.items;
    a->f.depends_count = a->depends.count;
    a->f.conflicts = a->conflicts.items;
    a->f.conflicts_count = a->conflicts.count;
    a->f.replaces = a->replaces.items;
    a->f.replaces_count = a->replaces.count;
    a->f.provides = a->provides.items;
    a->f.provides_count = a->provides.count;
    a->f.tags = a->tags.items;
    a->f.tag_count = a->tags.count;
    if (!a->has_mtime)
        a->mtime = cli_source_date(0);
    return -1;
}

static void auth_warn(void *ctx, const char *msg)
{
    (void)ctx;
    cli_warn("%s", msg);
}

/* The release date when no option gave one: SOURCE_DATE_EPOCH, else the descriptor's own,
 * else the member time. */
static int auth_release_date(const struct auth_args *a, const struct esximg_descriptor *d,
                             char *buf, size_t size, const char **out)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    *out = a->f.release_date;
    if (*out)
        return 0;
    int64_t epoch = cli_source_date(-1);
    if (epoch < 0 && d->release_date)
        return 0;
    if (esximg_vibauthor_format_date(epoch >= 0 ? epoch : a->mtime, buf, size, &err))
        return cli_fail(&err);
    *out = buf;
    return 0;
}

/* Applies the options, builds, writes the output. Takes `d`. */
static int auth_build_write(const struct auth_args *a, struct esximg_descriptor *d,
                            const struct esximg_vibauthor_payload *payloads, size_t count)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    char date[48];
    struct esximg_vibauthor_fields f = a->f;
    uint8_t *vib = NULL;
    size_t len = 0;
    int rc = auth_release_date(a, d, date, sizeof date, &f.release_date);
    if (rc)
        goto out;
    struct cli_progress bar = {.label = "building"};
    const struct esximg_vibauthor_opts o = {
        .mtime = a->mtime, .warn = auth_warn, .progress = cli_progress_cb, .progress_arg = &bar,
    };
    if (!esximg_vibauthor_apply(d, &f, &err))
        rc = esximg_vibauthor_build(d, payloads, count, &o, &vib, &len, &err);
    else
        rc = err.code;
    cli_progress_end(&bar);
    if (rc || esximg_file_write(a->output, vib, len, 0644, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    char *id = esximg_descriptor_vib_id(d);
    cli_note("wrote %s (%s, %zu bytes)", a->output, id ? id : "?", len);
    free(id);
out:
    free(vib);
    esximg_descriptor_free(d);
    return rc;
}

/* --payload NAME=DIR[:TYPE] */
static int auth_payload_arg(const char *arg, struct esximg_vibauthor_payload *p, char **buf)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return cli_error(CLI_EXIT_USAGE, "--payload '%s': not NAME=DIR[:TYPE]", arg);
    char *copy = strdup(arg);
    if (!copy)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    char *dir = copy + (eq - arg);
    *dir++ = '\0';
    char *colon = strrchr(dir, ':');
    *p = (struct esximg_vibauthor_payload){0};   /* a folder only: no in-memory entries */
    if (colon && (strcmp(colon, ":vgz") == 0 || strcmp(colon, ":tgz") == 0)) {
        *colon = '\0';
        p->type = colon + 1;
    }
    p->name = copy;
    p->dir = dir;
    *buf = copy;
    return -1;
}

int vib_create(int argc, char **argv)
{
    struct auth_args a;
    int rc = auth_parse(argc, argv, &a);
    if (rc >= 0) {
        auth_args_free(&a);
        return rc;
    }
    struct esximg_err err;
    esximg_err_clear(&err);
    struct esximg_vibauthor_stage *stage = NULL;
    struct esximg_descriptor *d = NULL;
    size_t cap = a.payloads.count + 1;
    struct esximg_vibauthor_payload *p = NULL;
    char **bufs = calloc(cap, sizeof *bufs);
    size_t n = 0;
    if (a.driver || a.pcis.count) {
        rc = cli_error(CLI_EXIT_USAGE, "vib create: --driver and --pci are for map-only");
        goto out;
    }
    if (a.stage && esximg_vibauthor_stage_read(a.stage, &stage, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (stage)
        cap += stage->payload_count;
    if (!bufs || !(p = calloc(cap, sizeof *p))) {
        rc = cli_error(CLI_EXIT_FAIL, "out of memory");
        goto out;
    }
    for (size_t i = 0; stage && i < stage->payload_count; i++)
        p[n++] = stage->payloads[i];
    for (size_t i = 0; i < a.payloads.count; i++) {
        struct esximg_vibauthor_payload given = {0};
        if ((rc = auth_payload_arg(a.payloads.items[i], &given, &bufs[i])) >= 0)
            goto out;
        size_t k = 0;
        while (k < n && strcmp(p[k].name, given.name) != 0)
            k++;
        p[k] = given;   /* an option replaces the stage's folder of that name */
        if (k == n)
            n++;
    }
    if (stage) {
        d = stage->desc;
        stage->desc = NULL;
    } else if (esximg_vibauthor_descriptor_new(&d, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    rc = auth_build_write(&a, d, p, n);
out:
    for (size_t i = 0; bufs && i < a.payloads.count; i++)
        free(bufs[i]);
    free(bufs);
    free(p);
    esximg_vibauthor_stage_free(stage);
    auth_args_free(&a);
    return rc;
}

int vib_from_oem(int argc, char **argv)
{
    struct auth_args a;
    int rc = auth_parse(argc, argv, &a);
    if (rc >= 0) {
        auth_args_free(&a);
        return rc;
    }
    struct esximg_err err;
    esximg_err_clear(&err);
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_vibauthor_oem *oem = NULL;
    struct esximg_descriptor *d = NULL;
    if (a.stage || a.payloads.count || a.driver || a.pcis.count) {
        rc = cli_error(CLI_EXIT_USAGE, "vib from-oem: --stage, --payload, --driver and --pci "
                       "do not apply");
        goto out;
    }
    if (esximg_file_read(a.input, 0, &data, &len, &err) ||
        esximg_vibauthor_oem_read(data, len, &oem, &err)) {
        esximg_err_file(&err, a.input);
        rc = cli_fail(&err);
        goto out;
    }
    cli_note_read(a.input, "OEM driver archive, module '%s'", oem->module);
    if (esximg_vibauthor_oem_descriptor(oem, &d, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    struct esximg_vibauthor_oem_payload p;
    esximg_vibauthor_oem_payload(oem, a.f.name ? a.f.name : d->name, &p);
    rc = auth_build_write(&a, d, &p.payload, 1);
out:
    esximg_vibauthor_oem_free(oem);
    free(data);
    auth_args_free(&a);
    return rc;
}

struct auth_map_files {
    struct esximg_vibauthor_pci_id *ids;
    struct esximg_vibauthor_pci_name *names;
    char **id_strs;             /* the ID parts of --name ID=TEXT */
    size_t id_str_count;
    char *map, *ids_text;
    size_t map_len, ids_len;
};

static int auth_map_build(const struct auth_args *a, struct auth_map_files *m)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    m->ids = calloc(a->pcis.count + 1, sizeof *m->ids);
    m->names = calloc(a->id_names.count + 1, sizeof *m->names);
    m->id_strs = calloc(a->id_names.count + 1, sizeof *m->id_strs);
    if (!m->ids || !m->names || !m->id_strs)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < a->pcis.count; i++)
        if (esximg_vibauthor_pci_parse(a->pcis.items[i], &m->ids[i], &err))
            return cli_fail(&err);
    for (size_t i = 0; i < a->id_names.count; i++) {
        const char *eq = strchr(a->id_names.items[i], '=');
        char *id = strndup(a->id_names.items[i], (size_t)(eq - a->id_names.items[i]));
        if (!id)
            return cli_error(CLI_EXIT_FAIL, "out of memory");
        m->id_strs[m->id_str_count++] = id;
        m->names[i] = (struct esximg_vibauthor_pci_name){ id, eq + 1 };
    }
    if (esximg_vibauthor_map_text(a->driver, m->ids, a->pcis.count, &m->map, &m->map_len,
                                  &err) ||
        esximg_vibauthor_ids_text(m->ids, a->pcis.count, m->names, a->id_names.count,
                                  &m->ids_text, &m->ids_len, &err))
        return cli_fail(&err);
    return 0;
}

int vib_map_only(int argc, char **argv)
{
    struct auth_args a;
    int rc = auth_parse(argc, argv, &a);
    if (rc >= 0) {
        auth_args_free(&a);
        return rc;
    }
    struct auth_map_files m = { 0 };
    struct esximg_descriptor *d = NULL;
    if (a.stage || a.payloads.count) {
        rc = cli_error(CLI_EXIT_USAGE, "vib map-only: --stage and --payload do not apply");
        goto out;
    }
    if (!a.driver || a.pcis.count == 0) {
        rc = cli_error(CLI_EXIT_USAGE, "vib map-only: give --driver and at least one --pci");
        goto out;
    }
    struct esximg_err err;
    esximg_err_clear(&err);
    if ((rc = auth_map_build(&a, &m)))
        goto out;
    if (esximg_vibauthor_map_descriptor(a.driver, &d, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    struct esximg_vibauthor_map_payload p;
    esximg_vibauthor_map_payload(a.f.name ? a.f.name : d->name, m.map, m.map_len, m.ids_text,
                                 m.ids_len, &p);
    rc = auth_build_write(&a, d, &p.payload, 1);
out:
    free(m.ids);
    free(m.names);
    for (size_t i = 0; i < m.id_str_count; i++)
        free(m.id_strs[i]);
    free(m.id_strs);
    free(m.map);
    free(m.ids_text);
    auth_args_free(&a);
    return rc;
}
