/* cmd_upgrade_check.c: `esximg upgrade-check ISO --vibs FILE`, what upgrading a running host
 * to this image does with the VIBs it has installed, and whether ESXi's installer would
 * refuse it (lib/upgrade.c; the rules in docs/upgrade-rules.md).
 *
 * The report is built from parts, each a text printer and a JSON member: the VIB part (key
 * "vibs") and, with --host, the device part of `hcl` (key "devices", programs/hostcheck.c);
 * the verdict at the end gathers what each part found blocking and how to fix it.  `--json`
 * writes one object (keys in this order; absent text is null):
 *   file, vibs_file, version      the image, the host list, the image's ESXi version
 *   vibs                          {form, entries: [...], counts: {...}, problems: [...],
 *                                  unchecked: [name], acceptance: {...}}
 *   devices                       with --host: {machine, machine_from_kernel, disabled,
 *                                  devices, summary, headline, warnings} as `hcl --json`;
 *                                  else null
 *   fails                         bool: the upgrade would fail, or a NIC or storage
 *                                  controller would lose its driver
 *   verdict                       the last line of the text report
 *   warnings                      [text]: lines of the host list that were skipped
 * Exit status: 0 when the upgrade would go through, 3 when it would fail. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "hostcheck.h"
#include "json.h"

static const char upgrade_usage[] =
    "usage: esximg upgrade-check ISO --vibs FILE|- [--host FILE]... [--disable MODULE]...\n"
    "                            [--host-modules FILE] [--json]\n"
    "\n"
    "Tells, before the installer does, what upgrading a running ESXi host to this image does\n"
    "with the VIBs the host has installed: each is updated (the image has a newer version),\n"
    "the same, downgraded (the image's is older), replaced by another image VIB, or kept (not\n"
    "in the image: it stays on the host). The kept VIBs' dependencies and conflicts are\n"
    "checked against the image's VIBs and the other kept VIBs, and each unmet one is worded as\n"
    "ESXi's DependencyError words it; then the acceptance level the upgraded host needs, and\n"
    "a last line with the verdict and what to remove or add. With --host, each PCI device of\n"
    "the host as `esximg hcl --host` judges it: its driver now -> on the image. Exits 0 when\n"
    "the upgrade would go through, 3 when it would fail or a network or storage controller\n"
    "would lose its driver (see docs/upgrade-rules.md).\n"
    "\n"
    "options:\n"
    "  -V, --vibs FILE  the host's `esxcli software vib get` output (checks relations),\n"
    "                   `esxcli software vib list` or `esxcli software component list`\n"
    "                   ('-' reads standard input)\n"
    "  -H, --host FILE  the host's devices, as for `esximg hcl --host` (repeatable):\n"
    "                   `lspci -p` or `esxcli hardware pci list` name the driver used now\n"
    "  -d, --disable MODULE  judge the image as with that module disabled (repeatable)\n"
    "  -m, --host-modules FILE  `esxcli system module list`: its disabled modules\n"
    "  -j, --json       print JSON (keys in docs/json.md)\n"
    "  -q, --quiet      print nothing but errors and the report (no warnings)\n"
    "  -v, --verbose    say on stderr what is read\n"
    "  -h, --help       print this help\n";

static const struct option upgrade_opts[] = {
    {"vibs", required_argument, NULL, 'V'},
    {"host", required_argument, NULL, 'H'},
    {"disable", required_argument, NULL, 'd'},
    {"host-modules", required_argument, NULL, 'm'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct upgrade_run {
    const char *file;                       /* the ISO */
    const char *vibs_file;                  /* as named; "standard input" for '-' */
    struct esximg_image *img;
    struct esximg_hostvibs *host;
    struct esximg_upgrade_report *report;
    bool with_devices;                      /* --host given */
    struct hcl_run devices;                 /* the device part */
    char *verdict;                          /* the last line */
};

/* ---------------------------------------------------------------- reading */

static int upgrade_read_vibs(struct upgrade_run *run, const char *path)
{
    struct esximg_err err = {0};
    uint8_t *data;
    size_t len;
    int rc = cli_read_input(path, &data, &len, &run->vibs_file);
    if (rc)
        return rc;
    rc = esximg_hostvibs_read(data, len, &run->host, &err);
    free(data);
    if (rc) {
        esximg_err_file(&err, run->vibs_file);
        return cli_fail(&err);
    }
    cli_note_read(run->vibs_file, "esxcli software %s, %zu entries",
                  esximg_hostvibs_form_name(run->host->form), run->host->count);
    for (size_t i = 0; i < run->host->warnings.count; i++)
        cli_warn("%s: line %zu: %s", run->vibs_file, run->host->warnings.items[i].line,
                 run->host->warnings.items[i].msg);
    return 0;
}

/* ---------------------------------------------------------------- the verdict */

static const char *upgrade_name(const struct esximg_upgrade_vib *v)
{
    return v->host->desc->name;
}

/* The device part blocks when a NIC or storage controller the host drives now loses its
 * driver, or when none of them is driven on the image (hcl's headline). */
static bool upgrade_devices_fail(const struct upgrade_run *run)
{
    return run->with_devices && hostcheck_headline(&run->devices) != NULL;
}

static bool upgrade_fails(const struct upgrade_run *run)
{
    return run->report->fails || upgrade_devices_fail(run);
}

/* The last line: the verdict, then what to remove or add for each blocker. */
static char *upgrade_verdict(const struct upgrade_run *run)
{
    const struct esximg_upgrade_report *r = run->report;
    const char *version = run->img->version ? run->img->version : "this image";
    size_t size = 4096, used = 0;
    char *line = malloc(size);
    if (!line)
        return NULL;
#define UPGRADE_PUT(...)                                                                 \
    do {                                                                                 \
        int n_ = snprintf(line + used, size - used, __VA_ARGS__);                        \
        if (n_ > 0)                                                                      \
            used = used + (size_t)n_ < size ? used + (size_t)n_ : size - 1;              \
    } while (0)
    if (!upgrade_fails(run)) {
        UPGRADE_PUT("verdict: the upgrade to ESXi %s would go through: %zu VIBs updated, %zu "
                    "the same, %zu downgraded, %zu replaced, %zu kept", version,
                    r->fate_count[ESXIMG_UPGRADE_UPDATED], r->fate_count[ESXIMG_UPGRADE_SAME],
                    r->fate_count[ESXIMG_UPGRADE_DOWNGRADED],
                    r->fate_count[ESXIMG_UPGRADE_REPLACED], r->fate_count[ESXIMG_UPGRADE_KEPT]);
        if (r->unchecked)
            UPGRADE_PUT(" (%zu kept not checked: give `esxcli software vib get` output)",
                        r->unchecked);
        return line;
    }
    UPGRADE_PUT("verdict: the upgrade to ESXi %s would FAIL:", version);
    const char *sep = " ";
    for (size_t i = 0; i < r->vib_count; i++) {
        const struct esximg_upgrade_vib *v = &r->vibs[i];
        if (!v->problem_count)
            continue;
        if (v->vmklinux)
            UPGRADE_PUT("%sremove %s from the host first (`esxcli software vib remove -n %s`;"
                        " a vmklinux driver, no 7.0 or later image can meet its %zu "
                        "problem%s)", sep, upgrade_name(v), upgrade_name(v), v->problem_count,
                        v->problem_count == 1 ? "" : "s");
        else
            UPGRADE_PUT("%sremove %s from the host first (`esxcli software vib remove -n %s`)"
                        " or add what it needs to the image (`esximg edit %s -o NEW.iso --add "
                        "PKG`)", sep, upgrade_name(v), upgrade_name(v), run->file);
        sep = "; ";
    }
    for (size_t i = 0; run->with_devices && i < run->devices.count; i++) {
        const struct hcl_device *d = &run->devices.devices[i];
        if (!d->verdict.loses_needed)
            continue;
        UPGRADE_PUT("%s%s (%s, driver %s now) loses its driver: add one that loads on ESXi %s "
                    "to the image (`esximg edit %s -o NEW.iso --add PKG`)", sep,
                    d->slot ? d->slot : "a device",
                    d->host.vmkernel_name ? d->host.vmkernel_name : "no vmkernel name",
                    d->verdict.driver_now ? d->verdict.driver_now : "?", version, run->file);
        sep = "; ";
    }
    if (upgrade_devices_fail(run) && !run->devices.loses)
        UPGRADE_PUT("%s%s", sep, hostcheck_headline(&run->devices));
#undef UPGRADE_PUT
    return line;
}

/* ---------------------------------------------------------------- text */

static const char *upgrade_level(enum esximg_acceptance a)
{
    static const char *const long_names[] = {
        "unknown", "CommunitySupported", "PartnerSupported", "VMwareAccepted", "VMwareCertified",
    };
    return (unsigned)a < sizeof long_names / sizeof long_names[0] ? long_names[a] : "unknown";
}

static void upgrade_print_entry(const struct esximg_upgrade_vib *v)
{
    const struct esximg_descriptor *d = v->host->desc;
    printf("  %-30s %-38s ", d->name, d->version);
    switch (v->fate) {
    case ESXIMG_UPGRADE_UPDATED:
        printf("updated to %s\n", v->image_version);
        break;
    case ESXIMG_UPGRADE_SAME:
        printf("same\n");
        break;
    case ESXIMG_UPGRADE_DOWNGRADED:
        printf("DOWNGRADED to %s\n", v->image_version);
        break;
    case ESXIMG_UPGRADE_REPLACED:
        printf("replaced by %s\n", v->image_id);
        break;
    case ESXIMG_UPGRADE_KEPT:
        printf("kept (not in the image%s%s)\n", v->vmklinux ? ", vmklinux" : "",
               v->checked ? "" : ", not checked");
        break;
    }
}

/* The VIB part of the text report. */
static void upgrade_print_vibs_text(const struct upgrade_run *run)
{
    const struct esximg_upgrade_report *r = run->report;
    printf("host %ss: %zu (%s)\n",
           r->form == ESXIMG_HOSTVIBS_COMPONENT_LIST ? "component" : "VIB", r->vib_count,
           run->vibs_file);
    for (size_t i = 0; i < r->vib_count; i++)
        upgrade_print_entry(&r->vibs[i]);
    printf("problems: %s\n", r->problem_count ? "" : "none");
    for (size_t i = 0; i < r->problem_count; i++)
        printf("  %s\n", r->problems[i].msg);
    if (r->unchecked) {
        printf("not checked: %zu kept %s without relations in %s:", r->unchecked,
               r->unchecked == 1 ? "entry" : "entries", run->vibs_file);
        for (size_t i = 0; i < r->vib_count; i++)
            if (r->vibs[i].fate == ESXIMG_UPGRADE_KEPT && !r->vibs[i].checked)
                printf(" %s", upgrade_name(&r->vibs[i]));
        printf("\n  to check them, run `esxcli software vib get > vibs.txt` on the host and "
               "pass --vibs vibs.txt\n");
    }
    printf("acceptance: the image is %s; the upgraded host needs %s",
           upgrade_level(r->image_acceptance), upgrade_level(r->host_acceptance));
    if (r->below_acceptance) {
        printf(" (kept below the image's:");
        for (size_t i = 0; i < r->vib_count; i++)
            if (r->vibs[i].below_acceptance)
                printf(" %s %s", upgrade_name(&r->vibs[i]),
                       upgrade_level(r->vibs[i].host->acceptance));
        printf(")");
    }
    printf("\n");
}

static void upgrade_print_text(const struct upgrade_run *run)
{
    printf("image: %s (ESXi %s)\n", run->file, run->img->version ? run->img->version : "unknown");
    upgrade_print_vibs_text(run);
    if (run->with_devices) {
        printf("host devices:\n");
        hostcheck_print_text(&run->devices);
    }
    printf("%s\n", run->verdict);
}

/* ---------------------------------------------------------------- JSON */

static void upgrade_json_entry(struct json *j, const struct esximg_upgrade_vib *v)
{
    const struct esximg_hostvib *h = v->host;
    json_object_begin(j);
    json_kv_string(j, "name", h->desc->name);
    json_kv_string(j, "version", h->desc->version);
    json_kv_string(j, "vendor", h->desc->vendor);
    json_kv_string(j, "id", h->id);
    json_kv_string(j, "acceptance", h->acceptance == ESXIMG_ACCEPT_UNKNOWN ? NULL
                                    : esximg_acceptance_name(h->acceptance));
    json_kv_uint(j, "line", h->line);
    json_kv_string(j, "fate", esximg_upgrade_fate_name(v->fate));
    json_kv_string(j, "image_id", v->image_id);
    json_kv_string(j, "image_version", v->image_version);
    json_kv_bool(j, "checked", v->checked);
    json_kv_bool(j, "vmklinux", v->vmklinux);
    json_kv_bool(j, "below_acceptance", v->below_acceptance);
    json_kv_uint(j, "problems", v->problem_count);
    json_object_end(j);
}

static void upgrade_json_acceptance(struct json *j, enum esximg_acceptance a)
{
    if (a == ESXIMG_ACCEPT_UNKNOWN)
        json_null(j);
    else
        json_string(j, esximg_acceptance_name(a));
}

/* The VIB part: the value of the "vibs" key. */
static void upgrade_json_vibs(struct json *j, const struct esximg_upgrade_report *r)
{
    json_object_begin(j);
    json_kv_string(j, "form", esximg_hostvibs_form_name(r->form));
    json_key(j, "entries");
    json_array_begin(j);
    for (size_t i = 0; i < r->vib_count; i++)
        upgrade_json_entry(j, &r->vibs[i]);
    json_array_end(j);
    json_key(j, "counts");
    json_object_begin(j);
    for (int f = 0; f < ESXIMG_UPGRADE_FATES; f++)
        json_kv_uint(j, esximg_upgrade_fate_name((enum esximg_upgrade_fate)f), r->fate_count[f]);
    json_kv_uint(j, "unchecked", r->unchecked);
    json_object_end(j);
    json_key(j, "problems");
    json_array_begin(j);
    for (size_t i = 0; i < r->problem_count; i++) {
        const struct esximg_upgrade_problem *p = &r->problems[i];
        json_object_begin(j);
        json_kv_string(j, "vib", r->vibs[p->vib].host->desc->name);
        json_kv_string(j, "kind", esximg_upgrade_problem_name(p->kind));
        json_kv_string(j, "constraint", p->constraint);
        json_kv_string(j, "other", p->other);
        json_kv_string(j, "message", p->msg);
        json_object_end(j);
    }
    json_array_end(j);
    json_key(j, "acceptance");
    json_object_begin(j);
    json_key(j, "image");
    upgrade_json_acceptance(j, r->image_acceptance);
    json_key(j, "upgraded_host");
    upgrade_json_acceptance(j, r->host_acceptance);
    json_object_end(j);
    json_object_end(j);
}

static void upgrade_print_json(const struct upgrade_run *run)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", run->file);
    json_kv_string(&j, "vibs_file", run->vibs_file);
    json_kv_string(&j, "version", run->img->version);
    json_key(&j, "vibs");
    upgrade_json_vibs(&j, run->report);
    json_key(&j, "devices");
    if (run->with_devices) {
        json_object_begin(&j);
        hostcheck_print_json(&run->devices, &j);
        json_object_end(&j);
    } else {
        json_null(&j);
    }
    json_kv_bool(&j, "fails", upgrade_fails(run));
    json_kv_string(&j, "verdict", run->verdict);
    json_kv_warnings(&j, "warnings", &run->host->warnings);
    json_object_end(&j);
    json_end(&j);
}

/* ---------------------------------------------------------------- the command */

static int upgrade_check(struct upgrade_run *run, bool json)
{
    struct esximg_err err = {0};
    if (esximg_image_open(run->file, NULL, &run->img, &err))
        return cli_fail(&err);
    cli_note_image(run->file, run->img);
    if (cli_need_esxi(run->img, run->file))
        return CLI_EXIT_FAIL;
    if (esximg_upgrade_check(run->img, run->host, &run->report, &err))
        return cli_fail(&err);
    int rc = run->with_devices ? hostcheck_judge(&run->devices, run->file, run->img, json)
                               : CLI_EXIT_OK;
    if (rc)
        return rc;
    if (!(run->verdict = upgrade_verdict(run)))
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    json ? upgrade_print_json(run) : upgrade_print_text(run);
    return upgrade_fails(run) ? CLI_EXIT_CHECK : CLI_EXIT_OK;
}

int cmd_upgrade_check(int argc, char **argv)
{
    struct upgrade_run run = {0};
    const char *vibs = NULL, *modules = NULL;
    struct cli_list hosts = {0};
    bool json = false;
    bool help = false;
    int rc = CLI_EXIT_OK;
    for (int c; !rc && !help &&
                (c = cli_getopt(argc, argv, "V:H:d:m:jqvh", upgrade_opts)) != -1;) {
        if (c == 'h')
            help = true;
        else if (c == 'j')
            json = true;
        else if (c == 'V')
            vibs = optarg;
        else if (c == 'H')
            rc = cli_list_add(&hosts, optarg) ? cli_error(CLI_EXIT_FAIL, "out of memory") : 0;
        else if (c == 'd')
            rc = hostcheck_add_disabled(&run.devices, optarg);
        else if (c == 'm')
            modules = optarg;
        else
            rc = cli_usage(stderr, upgrade_usage, CLI_EXIT_USAGE);
    }
    if (help)
        rc = cli_usage(stdout, upgrade_usage, CLI_EXIT_OK);
    else if (!rc && (argc - optind != 1 || !vibs ||
                (!hosts.count && (modules || run.devices.disabled.count))))
        rc = cli_usage(stderr, upgrade_usage, CLI_EXIT_USAGE);
    if (!rc && !help) {
        run.file = argv[optind];
        run.with_devices = hosts.count > 0;
        rc = upgrade_read_vibs(&run, vibs);
    }
    if (!rc && !help && run.with_devices)
        rc = hostcheck_read_inputs(&run.devices, &hosts, modules);
    if (!rc && !help)
        rc = upgrade_check(&run, json);
    cli_list_free(&hosts);
    free(run.verdict);
    hostcheck_free(&run.devices);   /* before the image its verdicts point into */
    esximg_upgrade_report_free(run.report);
    esximg_hostvibs_free(run.host);
    esximg_image_free(run.img);
    return rc;
}
