/* cmd_hcl.c: `esximg hcl ISO`, will this host's NICs and storage controllers be driven?
 *
 * `hcl --json` writes one object (keys in this order; absent text is null):
 *   file, version       the image and its ESXi version
 *   devices             [{slot, id ("8086:15b8[:8086:2070][/020000]"), vendor, device,
 *                        subvendor, subdevice (null when unknown), class ("0200" or null),
 *                        progif, kind: "network"|"storage"|"other"|"unknown", name,
 *                        verdict: "driven"|"will_not_load"|"no_driver",
 *                        driver, map_class, vib_id, module (of the winner, else null),
 *                        rule: "none"|"one_driver"|"class"|"specificity"|"driver_name",
 *                        inferred,
 *                        claims: [{driver, map_class, vib_id, loads}] best first}]
 *   summary             {network: {total, driven}, storage: {total, driven},
 *                        unknown: {total, driven}}
 *   headline            text or null ("no network adapter will be found")
 *   warnings            [text]: lines of the device list that were skipped, unreadable
 *                        driver payloads
 * Exit status: 0 when every network, storage and unknown device is driven, 3 otherwise.
 * A device given without its class (--pci VVVV:DDDD) is of unknown kind: whether the installer
 * needs it cannot be told, so it counts as if it did.  An ISO without a readable image
 * database is refused (exit 1): there is nothing to check the host against.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

static const char hcl_usage[] =
    "usage: esximg hcl ISO [--lspci FILE|-] [--pci ID]... [--json]\n"
    "\n"
    "Checks a host's PCI devices against an installer image: which driver of the image\n"
    "claims each one by ESXi's rules (OEM > IHV > native > vmklinux > fallback; vmklinux\n"
    "drivers never load on 7.0 and later; see docs/hcl-rules.md), and which network and\n"
    "storage controllers are left without a driver. Exits 0 when every network and storage\n"
    "device, and every device given without its class, is driven; 3 when one is not.\n"
    "\n"
    "options:\n"
    "  -l, --lspci FILE  devices from `lspci -n`, `-nn`, `-nnv`, `-mm` or `-vmmnn` output\n"
    "                    ('-' reads standard input)\n"
    "  -p, --pci ID      a device as VVVV:DDDD[:SSSS:ssss][/CCCC[PP]] (repeatable)\n"
    "  -j, --json        print JSON (keys in docs/json.md)\n"
    "  -q, --quiet       print nothing but errors and the report (no warnings)\n"
    "  -v, --verbose     say on stderr what is read\n"
    "  -h, --help        print this help\n";

static const struct option hcl_opts[] = {
    {"lspci", required_argument, NULL, 'l'},
    {"pci", required_argument, NULL, 'p'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One device to check: from lspci (with its slot and names) or from --pci. */
struct hcl_device {
    const char *slot;
    const char *host_name;          /* what lspci called it */
    struct esximg_pci_device pci;
    struct esximg_hcl_result result;
};

struct hcl_run {
    const char *file;
    struct esximg_image *img;
    struct esximg_image_drivers *drivers;
    struct esximg_lspci *lspci;
    size_t count;
    struct hcl_device *devices;
    size_t nic_total, nic_driven, disk_total, disk_driven, unknown_total, unknown_driven;
};

/* The library files a device without a class under OTHER; it is "unknown" here, because a
 * device the user named may well be the NIC the installer needs. */
static bool hcl_unknown_kind(const struct hcl_device *d)
{
    return !d->pci.has_class;
}

static const char *hcl_kind_name(const struct hcl_device *d)
{
    enum esximg_hcl_kind k = d->result.kind;
    if (hcl_unknown_kind(d))
        return "unknown";
    return k == ESXIMG_HCL_NETWORK ? "network" : k == ESXIMG_HCL_STORAGE ? "storage" : "other";
}

static const char *hcl_verdict_name(enum esximg_hcl_verdict v)
{
    return v == ESXIMG_HCL_DRIVEN ? "driven" : v == ESXIMG_HCL_WONT_LOAD ? "will_not_load"
                                                                        : "no_driver";
}

static const char *hcl_rule_name(enum esximg_map_rule r)
{
    switch (r) {
    case ESXIMG_MAP_RULE_ONE_DRIVER: return "one_driver";
    case ESXIMG_MAP_RULE_CLASS: return "class";
    case ESXIMG_MAP_RULE_SPECIFICITY: return "specificity";
    case ESXIMG_MAP_RULE_DRIVER_NAME: return "driver_name";
    default: return "none";
    }
}

/* "8086:15b8[:8086:2070][/0200[30]]" */
static void hcl_id_text(const struct esximg_pci_device *d, char out[40])
{
    int n = snprintf(out, 40, "%04x:%04x", d->vendor, d->device);
    if (d->has_subsys)
        n += snprintf(out + n, 40 - (size_t)n, ":%04x:%04x", d->subvendor, d->subdevice);
    if (d->has_class)
        n += snprintf(out + n, 40 - (size_t)n, "/%04x", d->class_code);
    if (d->has_class && d->has_progif)
        snprintf(out + n, 40 - (size_t)n, "%02x", d->progif);
}

/* The best name: the image's .ids, else what lspci printed. */
static const char *hcl_name(const struct hcl_device *d, char buf[256])
{
    const struct esximg_hcl_result *r = &d->result;
    if (r->vendor_name || r->device_name) {
        snprintf(buf, 256, "%s%s%s", r->vendor_name ? r->vendor_name : "",
                 r->vendor_name && r->device_name ? " " : "",
                 r->device_name ? r->device_name : "");
        return buf;
    }
    return d->host_name;
}

static int hcl_add_device(struct hcl_run *run, const char *slot, const char *name,
                          const struct esximg_pci_device *pci)
{
    struct hcl_device *grown = realloc(run->devices, (run->count + 1) * sizeof *grown);
    if (!grown)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    run->devices = grown;
    struct hcl_device *d = &run->devices[run->count++];
    memset(d, 0, sizeof *d);
    d->slot = slot;
    d->host_name = name;
    d->pci = *pci;
    return 0;
}

static int hcl_read_lspci(struct hcl_run *run, const char *path)
{
    struct esximg_err err = {0};
    uint8_t *data;
    size_t len;
    int rc = strcmp(path, "-") == 0 ? esximg_file_read("/dev/stdin", 0, &data, &len, &err)
                                    : esximg_file_read(path, 0, &data, &len, &err);
    if (rc) {
        if (!strcmp(path, "-"))
            snprintf(err.file, sizeof err.file, "standard input");
        return cli_fail(&err);
    }
    rc = esximg_lspci_read(data, len, NULL, &run->lspci, &err);
    free(data);
    if (rc) {
        esximg_err_file(&err, strcmp(path, "-") ? path : "standard input");
        return cli_fail(&err);
    }
    if (strcmp(path, "-"))
        cli_note_read(path, "lspci output, %zu devices", run->lspci->device_count);
    for (size_t i = 0; i < run->lspci->warnings.count; i++)
        cli_warn("%s: line %zu: %s", strcmp(path, "-") ? path : "standard input",
                 run->lspci->warnings.items[i].line,
                 run->lspci->warnings.items[i].msg);
    for (size_t i = 0; i < run->lspci->device_count; i++) {
        const struct esximg_lspci_device *d = &run->lspci->devices[i];
        const char *name = d->name ? d->name : d->device_name;
        if (hcl_add_device(run, d->slot, name, &d->pci))
            return CLI_EXIT_FAIL;
    }
    return 0;
}

static void hcl_tally(struct hcl_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        const struct esximg_hcl_result *r = &run->devices[i].result;
        bool driven = r->verdict == ESXIMG_HCL_DRIVEN;
        if (hcl_unknown_kind(&run->devices[i])) {
            run->unknown_total++;
            run->unknown_driven += driven;
        } else if (r->kind == ESXIMG_HCL_NETWORK) {
            run->nic_total++;
            run->nic_driven += driven;
        } else if (r->kind == ESXIMG_HCL_STORAGE) {
            run->disk_total++;
            run->disk_driven += driven;
        }
    }
}

/* The installer's own words for the case that stops it. */
static const char *hcl_headline(const struct hcl_run *run)
{
    if (run->nic_total && !run->nic_driven)
        return "no network adapter will be found: the installer stops without one";
    if (run->disk_total && !run->disk_driven)
        return "no storage controller will be driven: no disk to install to unless USB";
    return NULL;
}

/* Why a device is left without a driver although one claims it: the first claim's reason. */
static void hcl_print_wont_load(const struct hcl_run *run, const struct hcl_device *d)
{
    const struct esximg_hcl_claim *c = &d->result.claims[0];
    const char *slot = d->slot ? d->slot : "a device";
    if (c->why_not == ESXIMG_HCL_NOLOAD_FOREIGN) {
        char theirs[24], ours[24];
        printf("note: %s is claimed only by '%s', whose VIB '%s' holds '%s', built for %s: "
               "it does not load on this %s image\n", slot, c->driver, c->foreign->vib->vib_id,
               c->foreign->path, esximg_elf_machine_text(c->foreign->machine, theirs,
                                                          sizeof theirs),
               esximg_elf_machine_text(run->drivers->machine, ours, sizeof ours));
        return;
    }
    printf("note: %s is claimed only by the vmklinux driver '%s', which ESXi %s does not load "
           "(vmklinux was removed in 7.0)\n", slot, c->driver, run->img->version);
}

static const char *hcl_why_not_name(enum esximg_hcl_noload why)
{
    return why == ESXIMG_HCL_NOLOAD_VMKLINUX  ? "vmklinux"
           : why == ESXIMG_HCL_NOLOAD_FOREIGN ? "foreign_machine"
                                              : NULL;
}

static void hcl_print_text(const struct hcl_run *run)
{
    printf("image: %s (ESXi %s)\n", run->file, run->img->version ? run->img->version : "?");
    printf("%-13s %-26s %-8s %-22s %-18s %s\n", "SLOT", "ID", "KIND", "DRIVER", "VERDICT",
           "NAME");
    for (size_t i = 0; i < run->count; i++) {
        const struct hcl_device *d = &run->devices[i];
        const struct esximg_hcl_result *r = &d->result;
        char id[40], driver[64], name[256];
        hcl_id_text(&d->pci, id);
        const struct esximg_hcl_claim *shown = r->winner ? r->winner
                                               : r->claim_count ? &r->claims[0] : NULL;
        if (shown)
            snprintf(driver, sizeof driver, "%s (%s)", shown->driver,
                     esximg_map_class_name(shown->map_class));
        else
            snprintf(driver, sizeof driver, "-");
        /* bridges, graphics and the like need no driver to install: no alarm for them */
        const char *verdict = r->verdict == ESXIMG_HCL_DRIVEN
                                  ? (r->inferred ? "ok (inferred)" : "ok")
                              : r->verdict == ESXIMG_HCL_WONT_LOAD ? "will not load"
                              : r->kind == ESXIMG_HCL_OTHER && !hcl_unknown_kind(d)
                                  ? "unclaimed"
                                                                   : "NO DRIVER";
        const char *n = hcl_name(d, name);
        printf("%-13s %-26s %-8s %-22s %-18s %s\n", d->slot ? d->slot : "-", id,
               hcl_kind_name(d), driver, verdict, n ? n : "");
    }
    printf("network: %zu of %zu driven; storage: %zu of %zu driven", run->nic_driven,
           run->nic_total, run->disk_driven, run->disk_total);
    if (run->unknown_total)
        printf("; unknown class: %zu of %zu driven", run->unknown_driven, run->unknown_total);
    printf("\n");
    for (size_t i = 0; i < run->count; i++)
        if (run->devices[i].result.verdict == ESXIMG_HCL_WONT_LOAD)
            hcl_print_wont_load(run, &run->devices[i]);
    const char *headline = hcl_headline(run);
    if (headline)
        printf("%s\n", headline);
}

static void hcl_print_json(const struct hcl_run *run)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", run->file);
    json_kv_string(&j, "version", run->img->version);
    char machine[24];
    json_kv_string(&j, "machine", esximg_elf_machine_text(run->drivers->machine, machine,
                                                          sizeof machine));
    json_kv_bool(&j, "machine_from_kernel", run->drivers->machine_from_kernel);
    json_key(&j, "devices");
    json_array_begin(&j);
    for (size_t i = 0; i < run->count; i++) {
        const struct hcl_device *d = &run->devices[i];
        const struct esximg_hcl_result *r = &d->result;
        char id[40], buf[256];
        hcl_id_text(&d->pci, id);
        json_object_begin(&j);
        json_kv_string(&j, "slot", d->slot);
        json_kv_string(&j, "id", id);
        json_kv_uint(&j, "vendor", d->pci.vendor);
        json_kv_uint(&j, "device", d->pci.device);
        json_key(&j, "subvendor");
        d->pci.has_subsys ? json_uint(&j, d->pci.subvendor) : json_null(&j);
        json_key(&j, "subdevice");
        d->pci.has_subsys ? json_uint(&j, d->pci.subdevice) : json_null(&j);
        snprintf(buf, sizeof buf, "%04x", d->pci.class_code);
        json_kv_string(&j, "class", d->pci.has_class ? buf : NULL);
        json_key(&j, "progif");
        d->pci.has_progif ? json_uint(&j, d->pci.progif) : json_null(&j);
        json_kv_string(&j, "kind", hcl_kind_name(d));
        json_kv_string(&j, "name", hcl_name(d, buf));
        json_kv_string(&j, "verdict", hcl_verdict_name(r->verdict));
        const struct esximg_hcl_claim *w = r->winner;
        json_kv_string(&j, "driver", w ? w->driver : NULL);
        json_kv_string(&j, "map_class", w ? esximg_map_class_name(w->map_class) : NULL);
        json_kv_string(&j, "vib_id", w && w->map ? w->map->vib->vib_id : NULL);
        json_kv_string(&j, "module", w && w->map ? w->map->module : NULL);
        json_kv_string(&j, "rule", hcl_rule_name(r->rule));
        json_kv_bool(&j, "inferred", r->inferred);
        json_key(&j, "claims");
        json_array_begin(&j);
        for (size_t k = 0; k < r->claim_count; k++) {
            const struct esximg_hcl_claim *c = &r->claims[k];
            json_object_begin(&j);
            json_kv_string(&j, "driver", c->driver);
            json_kv_string(&j, "map_class", esximg_map_class_name(c->map_class));
            json_kv_string(&j, "vib_id", c->map ? c->map->vib->vib_id : NULL);
            json_kv_bool(&j, "loads", c->loads);
            json_kv_string(&j, "why_not", hcl_why_not_name(c->why_not));
            char theirs[24];
            json_kv_string(&j, "foreign_file", c->foreign ? c->foreign->path : NULL);
            json_kv_string(&j, "foreign_machine", c->foreign ? esximg_elf_machine_text(
                                   c->foreign->machine, theirs, sizeof theirs) : NULL);
            json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_key(&j, "summary");
    json_object_begin(&j);
    json_key(&j, "network");
    json_object_begin(&j);
    json_kv_uint(&j, "total", run->nic_total);
    json_kv_uint(&j, "driven", run->nic_driven);
    json_object_end(&j);
    json_key(&j, "storage");
    json_object_begin(&j);
    json_kv_uint(&j, "total", run->disk_total);
    json_kv_uint(&j, "driven", run->disk_driven);
    json_object_end(&j);
    json_key(&j, "unknown");
    json_object_begin(&j);
    json_kv_uint(&j, "total", run->unknown_total);
    json_kv_uint(&j, "driven", run->unknown_driven);
    json_object_end(&j);
    json_object_end(&j);
    json_kv_string(&j, "headline", hcl_headline(run));
    json_key(&j, "warnings");
    json_array_begin(&j);
    for (size_t i = 0; run->lspci && i < run->lspci->warnings.count; i++)
        json_string(&j, run->lspci->warnings.items[i].msg);
    for (size_t i = 0; i < run->drivers->problems.count; i++)
        json_string(&j, run->drivers->problems.items[i].msg);
    json_array_end(&j);
    json_object_end(&j);
    json_end(&j);
}

static int hcl_check(struct hcl_run *run, bool json)
{
    struct esximg_err err = {0};
    if (esximg_image_open(run->file, NULL, &run->img, &err))
        return cli_fail(&err);
    cli_note_image(run->file, run->img);
    if (cli_need_esxi(run->img, run->file))
        return CLI_EXIT_FAIL;
    if (esximg_image_drivers(run->img, &run->drivers, &err)) {
        esximg_err_file(&err, run->file);
        return cli_fail(&err);
    }
    if (!json)
        cli_warn_all(NULL, &run->drivers->problems);
    for (size_t i = 0; i < run->count; i++) {
        struct hcl_device *d = &run->devices[i];
        if (esximg_image_hcl(run->img, run->drivers, &d->pci, &d->result, &err))
            return cli_fail(&err);
    }
    hcl_tally(run);
    json ? hcl_print_json(run) : hcl_print_text(run);
    bool all = run->nic_driven == run->nic_total && run->disk_driven == run->disk_total &&
               run->unknown_driven == run->unknown_total;
    return all ? CLI_EXIT_OK : CLI_EXIT_CHECK;
}

static void hcl_free(struct hcl_run *run)
{
    for (size_t i = 0; i < run->count; i++)
        esximg_hcl_result_clear(&run->devices[i].result);
    free(run->devices);
    esximg_lspci_free(run->lspci);
    esximg_image_drivers_free(run->drivers);
    esximg_image_free(run->img);
}

int cmd_hcl(int argc, char **argv)
{
    struct hcl_run run = {0};
    const char *lspci = NULL;
    bool json = false;
    int rc = CLI_EXIT_OK;
    for (int c; (c = cli_getopt(argc, argv, "l:p:jqvh", hcl_opts)) != -1;) {
        if (c == 'h') {
            rc = cli_usage(stdout, hcl_usage, CLI_EXIT_OK);
            goto out;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'l') {
            lspci = optarg;
        } else if (c == 'p') {
            struct esximg_pci_device pci;
            struct esximg_err err = {0};
            if (esximg_pci_device_parse(optarg, &pci, &err)) {
                rc = cli_error(CLI_EXIT_USAGE, "--pci '%s': not VVVV:DDDD[:SSSS:ssss]"
                               "[/CCCC[PP]] in hex, e.g. 8086:10d3/0200 (see esximg hcl "
                               "--help)", optarg);
                goto out;
            }
            if (hcl_add_device(&run, NULL, NULL, &pci)) {
                rc = CLI_EXIT_FAIL;
                goto out;
            }
        } else {
            rc = cli_usage(stderr, hcl_usage, CLI_EXIT_USAGE);
            goto out;
        }
    }
    if (argc - optind != 1 || (!lspci && run.count == 0)) {
        rc = cli_usage(stderr, hcl_usage, CLI_EXIT_USAGE);
        goto out;
    }
    run.file = argv[optind];
    if (lspci && (rc = hcl_read_lspci(&run, lspci)) != 0)
        goto out;
    rc = hcl_check(&run, json);
out:
    hcl_free(&run);
    return rc;
}
