/* hostcheck.c: the device check of `esximg hcl`, shared with `esximg upgrade-check`: a host's
 * PCI devices (its lspci, esxcli or vmkchdev output, or --pci), the modules it has disabled,
 * each device judged against an image (which driver claims it there, and what happens to the
 * driver the host uses now), counted and printed as text or as JSON members. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostcheck.h"

/* The library files a device without a class under OTHER; it is "unknown" here, because a
 * device the user named may well be the NIC the installer needs. */
static bool hcl_unknown_kind(const struct hcl_device *d)
{
    return !d->pci.has_class && !d->verdict.kind_from_name;
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

int hostcheck_add_device(struct hcl_run *run, const char *slot, const char *name,
                         const struct esximg_pci_device *pci,
                         const struct esximg_host_device *host)
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
    if (host) {
        d->host = *host;
    } else {
        d->host.pci = *pci;
        d->host.has_ids = true;
    }
    return 0;
}

static int hcl_keep_warning(struct hcl_run *run, const char *file, size_t line,
                            const char *msg)
{
    char **grown = realloc(run->warnings, (run->warning_count + 1) * sizeof *grown);
    if (!grown)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    run->warnings = grown;
    size_t n = strlen(file) + strlen(msg) + 32;
    char *text = malloc(n);
    if (!text)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    snprintf(text, n, "%s: line %zu: %s", file, line, msg);
    run->warnings[run->warning_count++] = text;
    return 0;
}

static int hcl_read_host(struct hcl_run *run, const char *path)
{
    struct esximg_err err = {0};
    const char *shown;
    uint8_t *data;
    size_t len;
    int rc = cli_read_input(path, &data, &len, &shown);
    if (rc)
        return rc;
    struct esximg_hostpci *h = NULL;
    rc = esximg_hostpci_read(data, len, NULL, &h, &err);
    free(data);
    if (rc) {
        esximg_err_file(&err, shown);
        return cli_fail(&err);
    }
    cli_note_read(shown, "%s output, %zu devices", esximg_hostpci_form_name(h->form),
                  h->device_count);
    for (size_t i = 0; i < h->warnings.count && !rc; i++)
        rc = hcl_keep_warning(run, shown, h->warnings.items[i].line, h->warnings.items[i].msg);
    if (!rc && !run->host) {
        run->host = h;
        return 0;
    }
    if (!rc && esximg_hostpci_merge(run->host, h, &err))
        rc = cli_fail(&err);
    esximg_hostpci_free(h);
    return rc;
}

static int hcl_read_modules(struct hcl_run *run, const char *path)
{
    struct esximg_err err = {0};
    const char *shown;
    uint8_t *data;
    size_t len;
    int rc = cli_read_input(path, &data, &len, &shown);
    if (rc)
        return rc;
    rc = esximg_modlist_read(data, len, &run->modules, &err);
    free(data);
    if (rc) {
        esximg_err_file(&err, shown);
        return cli_fail(&err);
    }
    for (size_t i = 0; i < run->modules->warnings.count && !rc; i++)
        rc = hcl_keep_warning(run, shown, run->modules->warnings.items[i].line,
                              run->modules->warnings.items[i].msg);
    for (size_t i = 0; i < run->modules->count && !rc; i++) {
        const struct esximg_module_state *m = &run->modules->modules[i];
        if (m->enabled)
            continue;
        rc = hostcheck_add_disabled(run, m->name);
    }
    return rc;
}

/* The merged host devices become devices to check; one without ids (ESXi's plain lspci) is
 * named in a warning: there is nothing to look up. */
static int hcl_take_host(struct hcl_run *run)
{
    for (size_t i = 0; i < run->host->device_count; i++) {
        const struct esximg_host_device *d = &run->host->devices[i];
        if (!d->has_ids) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s%s%s%s: no PCI ids in this output (ESXi's plain "
                     "lspci prints none): add lspci -n, lspci -p or esxcli hardware pci "
                     "list of the host (skipped)", d->slot ? d->slot : "a device",
                     d->vmkernel_name ? " (" : "", d->vmkernel_name ? d->vmkernel_name : "",
                     d->vmkernel_name ? ")" : "");
            if (hcl_keep_warning(run, "host", d->line, msg))
                return CLI_EXIT_FAIL;
            continue;
        }
        if (hostcheck_add_device(run, d->slot, d->name, &d->pci, d))
            return CLI_EXIT_FAIL;
        run->has_now |= d->driver_known;
    }
    for (size_t i = 0; run->count == 0 && i < run->warning_count; i++)
        cli_warn("%s", run->warnings[i]);       /* they say why nothing is left */
    if (run->count == 0)
        return cli_error(CLI_EXIT_FAIL, "no device with PCI ids in the host files: give "
                         "lspci -n, lspci -p, vmkchdev -l or esxcli hardware pci list output");
    return 0;
}

static void hcl_tally(struct hcl_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        const struct esximg_hcl_result *r = &run->devices[i].result;
        const struct esximg_device_verdict *v = &run->devices[i].verdict;
        /* a device passed through to a VM needs no driver of the image */
        bool driven = r->verdict == ESXIMG_HCL_DRIVEN ||
                      v->transition == ESXIMG_HCL_PASSTHROUGH;
        run->loses += v->loses_needed;
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
const char *hostcheck_headline(const struct hcl_run *run)
{
    if (run->nic_total && !run->nic_driven)
        return "no network adapter will be found: the installer stops without one";
    if (run->disk_total && !run->disk_driven)
        return "no storage controller will be driven: no disk to install to unless USB";
    if (run->loses)
        return "a network or storage controller the host drives now loses its driver";
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
    if (c->why_not == ESXIMG_HCL_NOLOAD_DISABLED) {
        printf("note: %s is claimed only by '%s', whose module is disabled on the host\n", slot,
               c->driver);
        return;
    }
    printf("note: %s is claimed only by the vmklinux driver '%s', which ESXi %s does not load "
           "(vmklinux was removed in 7.0)\n", slot, c->driver, run->img->version);
}

static const char *hcl_transition_name(enum esximg_hcl_transition t)
{
    switch (t) {
    case ESXIMG_HCL_KEEPS: return "keeps";
    case ESXIMG_HCL_CHANGES: return "changes";
    case ESXIMG_HCL_GAINS: return "gains";
    case ESXIMG_HCL_LOSES: return "loses";
    case ESXIMG_HCL_STAYS_WITHOUT: return "stays_without";
    case ESXIMG_HCL_PASSTHROUGH: return "passthrough";
    default: return "now_unknown";
    }
}

/* "e1000e (vmklinux)", "-" (none), "?" (not said) */
static void hcl_now_text(const struct hcl_device *d, char *out, size_t size)
{
    const struct esximg_device_verdict *v = &d->verdict;
    if (!d->host.driver_known)
        snprintf(out, size, "?");
    else if (!v->driver_now)
        snprintf(out, size, "-");
    else if (v->now_claim)
        snprintf(out, size, "%s (%s)", v->driver_now,
                 esximg_map_class_name(v->now_claim->map_class));
    else
        snprintf(out, size, "%s", v->driver_now);
}

/* The verdict column: the change when the driver now is known, else the image's verdict. */
static const char *hcl_verdict_text(const struct hcl_device *d)
{
    const struct esximg_hcl_result *r = &d->result;
    switch (d->verdict.transition) {
    case ESXIMG_HCL_KEEPS: return "keeps";
    case ESXIMG_HCL_CHANGES: return "changes driver";
    case ESXIMG_HCL_GAINS: return "gains one";
    case ESXIMG_HCL_LOSES: return "LOSES it";
    case ESXIMG_HCL_PASSTHROUGH: return "passthrough";
    default: break;
    }
    /* bridges, graphics and the like need no driver to install: no alarm for them */
    return r->verdict == ESXIMG_HCL_DRIVEN ? (r->inferred ? "ok (inferred)" : "ok")
           : r->verdict == ESXIMG_HCL_WONT_LOAD ? "will not load"
           : r->kind == ESXIMG_HCL_OTHER && !hcl_unknown_kind(d) ? "unclaimed"
                                                                 : "NO DRIVER";
}

/* Why a device the host drives now has no driver on the image. */
static void hcl_print_loses(const struct hcl_run *run, const struct hcl_device *d)
{
    const struct esximg_device_verdict *v = &d->verdict;
    const char *slot = d->slot ? d->slot : "a device";
    const char *vmk = d->host.vmkernel_name;
    char who[96];
    snprintf(who, sizeof who, "%s%s%s%s", slot, vmk ? " (" : "", vmk ? vmk : "", vmk ? ")" : "");
    /* the image's claim by the driver now, else its best claim, says why nothing loads */
    const struct esximg_hcl_claim *c = v->now_claim ? v->now_claim
                                       : d->result.claim_count ? &d->result.claims[0] : NULL;
    if (!c) {
        printf("note: %s loses its driver '%s': no driver of the image claims it\n", who,
               v->driver_now);
        return;
    }
    const char *why = c->why_not == ESXIMG_HCL_NOLOAD_VMKLINUX
                          ? "a vmklinux driver, which ESXi 7.0 and later do not load"
                      : c->why_not == ESXIMG_HCL_NOLOAD_DISABLED
                          ? "its module is disabled on the host"
                          : "built for another machine";
    printf("note: %s loses its driver '%s' on ESXi %s: the image's '%s' does not load (%s)\n",
           who, v->driver_now, run->img->version ? run->img->version : "?", c->driver, why);
}

static const char *hcl_why_not_name(enum esximg_hcl_noload why)
{
    return why == ESXIMG_HCL_NOLOAD_VMKLINUX   ? "vmklinux"
           : why == ESXIMG_HCL_NOLOAD_FOREIGN  ? "foreign_machine"
           : why == ESXIMG_HCL_NOLOAD_DISABLED ? "disabled"
                                               : NULL;
}

void hostcheck_print_text(const struct hcl_run *run)
{
    for (size_t i = 0; i < run->disabled.count; i++)
        printf("disabled on the host: %s\n", run->disabled.items[i]);
    if (run->has_now)
        printf("%-13s %-26s %-8s %-22s %-22s %-16s %s\n", "SLOT", "ID", "KIND", "NOW", "IMAGE",
               "VERDICT", "NAME");
    else
        printf("%-13s %-26s %-8s %-22s %-18s %s\n", "SLOT", "ID", "KIND", "DRIVER", "VERDICT",
               "NAME");
    for (size_t i = 0; i < run->count; i++) {
        const struct hcl_device *d = &run->devices[i];
        const struct esximg_hcl_result *r = &d->result;
        char id[40], driver[64], now[64], name[256];
        hcl_id_text(&d->pci, id);
        const struct esximg_hcl_claim *shown = r->winner ? r->winner
                                               : r->claim_count ? &r->claims[0] : NULL;
        if (shown)
            snprintf(driver, sizeof driver, "%s (%s)", shown->driver,
                     esximg_map_class_name(shown->map_class));
        else
            snprintf(driver, sizeof driver, "-");
        const char *n = hcl_name(d, name);
        if (run->has_now) {
            hcl_now_text(d, now, sizeof now);
            printf("%-13s %-26s %-8s %-22s %-22s %-16s %s\n", d->slot ? d->slot : "-", id,
                   hcl_kind_name(d), now, r->winner ? driver : "-", hcl_verdict_text(d),
                   n ? n : "");
        } else {
            printf("%-13s %-26s %-8s %-22s %-18s %s\n", d->slot ? d->slot : "-", id,
                   hcl_kind_name(d), driver, hcl_verdict_text(d), n ? n : "");
        }
    }
    printf("network: %zu of %zu driven; storage: %zu of %zu driven", run->nic_driven,
           run->nic_total, run->disk_driven, run->disk_total);
    if (run->unknown_total)
        printf("; unknown class: %zu of %zu driven", run->unknown_driven, run->unknown_total);
    if (run->loses)
        printf("; %zu lose their driver", run->loses);
    printf("\n");
    for (size_t i = 0; i < run->count; i++) {
        const struct hcl_device *d = &run->devices[i];
        if (d->verdict.transition == ESXIMG_HCL_LOSES)
            hcl_print_loses(run, d);
        else if (d->result.verdict == ESXIMG_HCL_WONT_LOAD &&
                 d->verdict.transition != ESXIMG_HCL_PASSTHROUGH)
            hcl_print_wont_load(run, d);
    }
    const char *headline = hostcheck_headline(run);
    if (headline)
        printf("%s\n", headline);
}

void hostcheck_print_json(const struct hcl_run *run, struct json *jp)
{
    struct json j = *jp;
    char machine[24];
    json_kv_string(&j, "machine", esximg_elf_machine_text(run->drivers->machine, machine,
                                                          sizeof machine));
    json_kv_bool(&j, "machine_from_kernel", run->drivers->machine_from_kernel);
    json_key(&j, "disabled");
    json_array_begin(&j);
    for (size_t i = 0; i < run->disabled.count; i++)
        json_string(&j, run->disabled.items[i]);
    json_array_end(&j);
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
        const struct esximg_device_verdict *v = &d->verdict;
        json_kv_string(&j, "vmkernel_name", d->host.vmkernel_name);
        json_kv_string(&j, "driver_now", v->driver_now);
        json_kv_bool(&j, "driver_now_known", d->host.driver_known);
        json_kv_string(&j, "driver_now_class", v->now_claim ? esximg_map_class_name(
                                                   v->now_claim->map_class) : NULL);
        json_kv_string(&j, "transition", hcl_transition_name(v->transition));
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
    json_kv_uint(&j, "loses", run->loses);
    json_object_end(&j);
    json_kv_string(&j, "headline", hostcheck_headline(run));
    json_key(&j, "warnings");
    json_array_begin(&j);
    for (size_t i = 0; i < run->warning_count; i++)
        json_string(&j, run->warnings[i]);
    for (size_t i = 0; i < run->drivers->problems.count; i++)
        json_string(&j, run->drivers->problems.items[i].msg);
    json_array_end(&j);
    *jp = j;
}

int hostcheck_judge(struct hcl_run *run, const char *file, const struct esximg_image *img,
                    bool quiet_warnings)
{
    struct esximg_err err = {0};
    run->file = file;
    run->img = img;
    if (esximg_image_drivers((struct esximg_image *)img, &run->drivers, &err)) {
        esximg_err_file(&err, file);
        return cli_fail(&err);
    }
    if (!quiet_warnings)
        cli_warn_all(NULL, &run->drivers->problems);
    for (size_t i = 0; !quiet_warnings && i < run->warning_count; i++)
        cli_warn("%s", run->warnings[i]);
    for (size_t i = 0; i < run->count; i++) {
        struct hcl_device *d = &run->devices[i];
        if (esximg_image_device_verdict(img, run->drivers, &d->host, run->disabled.items,
                                        run->disabled.count, &d->verdict, &err))
            return cli_fail(&err);
        /* the printers read d->result: it takes over the claims (winner and now_claim still
         * point into them) */
        d->result = d->verdict.image;
        d->verdict.image.claims = NULL;
    }
    hcl_tally(run);
    return CLI_EXIT_OK;
}

bool hostcheck_all_driven(const struct hcl_run *run)
{
    return run->nic_driven == run->nic_total && run->disk_driven == run->disk_total &&
           run->unknown_driven == run->unknown_total && run->loses == 0;
}

void hostcheck_free(struct hcl_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        esximg_hcl_result_clear(&run->devices[i].result);
        esximg_device_verdict_clear(&run->devices[i].verdict);
    }
    free(run->devices);
    for (size_t i = 0; i < run->warning_count; i++)
        free(run->warnings[i]);
    free(run->warnings);
    cli_list_free(&run->disabled);
    esximg_modlist_free(run->modules);
    esximg_hostpci_free(run->host);
    esximg_image_drivers_free(run->drivers);
    memset(run, 0, sizeof *run);
}

int hostcheck_add_disabled(struct hcl_run *run, const char *module)
{
    return cli_list_add(&run->disabled, module) ? cli_error(CLI_EXIT_FAIL, "out of memory") : 0;
}

int hostcheck_read_inputs(struct hcl_run *run, const struct cli_list *hosts, const char *modules)
{
    int rc = 0;
    for (size_t i = 0; i < hosts->count && !rc; i++)
        rc = hcl_read_host(run, hosts->items[i]);
    if (!rc && run->host)
        rc = hcl_take_host(run);
    if (!rc && modules)
        rc = hcl_read_modules(run, modules);
    return rc;
}

