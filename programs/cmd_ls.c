/* cmd_ls.c: `esximg ls ISO [--vibs | --files | --drivers]`, the contents of an installer image.
 *
 * `ls --json` writes one object (keys in this order; absent text is null):
 *   file
 *   vibs      (--vibs, the default) [{vib_id, name, version, vendor, acceptance, type,
 *             summary, in_profile, payloads: [{name, type, size, module, module_size}]}]
 *   files     (--files) [{path, type: "file"|"dir"|"bootcat"|"other", size, lba}]
 *   drivers   (--drivers) [{driver, map_class, id, bus, vendor_name, device_name, vib_id,
 *             module, map, line, foreign_machine}], one per map entry, in map order
 *             (foreign_machine: the ELF machine of its VIB's module when that is not the
 *             image's, else null)
 *   problems  (--drivers) [text]: driver payloads that could not be read
 * --vibs and --drivers fail (exit 1) on an ISO without a readable image database; --files
 * lists any ISO.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

static const char ls_usage[] =
    "usage: esximg ls ISO [--vibs | --files | --drivers] [--json] [-q] [-v]\n"
    "\n"
    "Lists an ESXi installer image's VIBs (name, version, vendor, acceptance, payload\n"
    "modules and sizes), its files (path, size, first block), or its drivers (every driver\n"
    "map entry: driver, map class oem/ihv/native/vmklinux/fallback, the PCI id it claims,\n"
    "the device name from the image's .ids files, and the VIB and module that ship it).\n"
    "\n"
    "options:\n"
    "  -b, --vibs     list the VIBs (the default)\n"
    "  -f, --files    list the files of the ISO\n"
    "  -d, --drivers  list the driver map entries\n"
    "  -j, --json     print JSON (keys in docs/json.md)\n"
    "  -q, --quiet    print nothing but errors and the list (no warnings)\n"
    "  -v, --verbose  say on stderr what is read\n"
    "  -h, --help     print this help\n";

static const struct option ls_opts[] = {
    {"vibs", no_argument, NULL, 'b'},
    {"files", no_argument, NULL, 'f'},
    {"drivers", no_argument, NULL, 'd'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

enum ls_what { LS_VIBS, LS_FILES, LS_DRIVERS };

static const char *ls_text(const char *s)
{
    return s ? s : "-";
}

/* ------------------------------------------------------------------ vibs */

static void ls_vibs_json(struct json *j, const struct esximg_image *img)
{
    json_key(j, "vibs");
    json_array_begin(j);
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        const struct esximg_descriptor *d = v->desc;
        json_object_begin(j);
        json_kv_string(j, "vib_id", v->vib_id);
        json_kv_string(j, "name", d ? d->name : NULL);
        json_kv_string(j, "version", d ? d->version : NULL);
        json_kv_string(j, "vendor", d ? d->vendor : NULL);
        json_kv_string(j, "acceptance", d ? d->acceptance_level : NULL);
        json_kv_string(j, "type", d ? d->type : NULL);
        json_kv_string(j, "summary", d ? d->summary : NULL);
        json_kv_bool(j, "in_profile", v->entry != NULL);
        json_key(j, "payloads");
        json_array_begin(j);
        for (size_t k = 0; d && k < d->payload_count; k++) {
            const struct esximg_payload *p = &d->payloads[k];
            const struct esximg_iso_entry *e = esximg_image_payload_entry(img, v, p->name);
            json_object_begin(j);
            json_kv_string(j, "name", p->name);
            json_kv_string(j, "type", p->type);
            json_key(j, "size");
            if (p->has_size)
                json_uint(j, p->size);
            else
                json_null(j);
            json_kv_string(j, "module", e ? e->path : NULL);
            json_key(j, "module_size");
            if (e)
                json_uint(j, e->size);
            else
                json_null(j);
            json_object_end(j);
        }
        json_array_end(j);
        json_object_end(j);
    }
    json_array_end(j);
}

static void ls_vibs_text(const struct esximg_image *img)
{
    printf("%-36s %-40s %-16s %-10s %9s  %s\n", "NAME", "VERSION", "VENDOR", "ACCEPTANCE",
           "SIZE", "MODULES");
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        const struct esximg_descriptor *d = v->desc;
        uint64_t size = 0;
        char modules[512] = "";
        for (size_t k = 0; d && k < d->payload_count; k++) {
            const struct esximg_iso_entry *e =
                esximg_image_payload_entry(img, v, d->payloads[k].name);
            size += d->payloads[k].has_size ? d->payloads[k].size : 0;
            size_t used = strlen(modules);
            if (e && used + 2 < sizeof modules)
                snprintf(modules + used, sizeof modules - used, "%s%s", used ? "," : "",
                         e->path + (e->path[0] == '/'));
        }
        char human[32];
        printf("%-36s %-40s %-16s %-10s %9s  %s\n", d ? ls_text(d->name) : v->vib_id,
               d ? ls_text(d->version) : "-", d ? ls_text(d->vendor) : "-",
               d ? ls_text(d->acceptance_level) : "-", cli_human_size(size, human),
               modules[0] ? modules : "-");
    }
}

/* ------------------------------------------------------------------ files */

static const char *ls_file_type(enum esximg_iso_type t)
{
    switch (t) {
    case ESXIMG_ISO_FILE: return "file";
    case ESXIMG_ISO_DIR: return "dir";
    case ESXIMG_ISO_BOOTCAT: return "bootcat";
    default: return "other";
    }
}

static void ls_files_json(struct json *j, const struct esximg_image *img)
{
    json_key(j, "files");
    json_array_begin(j);
    for (size_t i = 0; i < img->iso->n_entries; i++) {
        const struct esximg_iso_entry *e = &img->iso->entries[i];
        json_object_begin(j);
        json_kv_string(j, "path", e->path);
        json_kv_string(j, "type", ls_file_type(e->type));
        json_kv_uint(j, "size", e->size);
        json_kv_uint(j, "lba", e->lba);
        json_object_end(j);
    }
    json_array_end(j);
}

static void ls_files_text(const struct esximg_image *img)
{
    printf("%12s %10s  %s\n", "SIZE", "LBA", "PATH");
    for (size_t i = 0; i < img->iso->n_entries; i++) {
        const struct esximg_iso_entry *e = &img->iso->entries[i];
        printf("%12llu %10lu  %s%s\n", (unsigned long long)e->size, (unsigned long)e->lba,
               e->path, e->type == ESXIMG_ISO_DIR ? "/" : "");
    }
}

/* ------------------------------------------------------------------ drivers */

/* The name of a claimed id from the image's .ids files: device, else vendor. */
static void ls_entry_names(const struct esximg_image_drivers *d,
                           const struct esximg_map_entry *e, const char **vendor,
                           const char **device)
{
    *vendor = *device = NULL;
    unsigned v, dev;
    if (e->pci_pattern[0] == '\0' || sscanf(e->pci_pattern, "%4x%4x", &v, &dev) != 2 ||
        strchr(e->pci_pattern, '.') == e->pci_pattern)
        return;
    *vendor = esximg_image_vendor_name(d, (uint16_t)v);
    if (e->pci_pattern[4] != '.')
        *device = esximg_image_device_name(d, (uint16_t)v, (uint16_t)dev);
}

/* The foreign ELF file of the VIB that ships a map, or NULL. */
static const struct esximg_image_foreign *ls_foreign(const struct esximg_image_drivers *d,
                                                     const struct esximg_image_map *m)
{
    for (size_t i = 0; i < d->foreign_count; i++)
        if (d->foreign[i].vib == m->vib)
            return &d->foreign[i];
    return NULL;
}

static void ls_drivers_json(struct json *j, const struct esximg_image_drivers *d)
{
    json_key(j, "drivers");
    json_array_begin(j);
    for (size_t i = 0; i < d->map_count; i++) {
        const struct esximg_image_map *m = &d->maps[i];
        for (size_t k = 0; k < m->map->entry_count; k++) {
            const struct esximg_map_entry *e = &m->map->entries[k];
            char id[64];
            const char *vendor, *device;
            esximg_map_entry_id_text(e, id, sizeof id);
            ls_entry_names(d, e, &vendor, &device);
            json_object_begin(j);
            json_kv_string(j, "driver", e->driver);
            json_kv_string(j, "map_class", esximg_map_class_name(m->map->map_class));
            json_kv_string(j, "id", id);
            json_kv_string(j, "bus", e->bus);
            json_kv_string(j, "vendor_name", vendor);
            json_kv_string(j, "device_name", device);
            json_kv_string(j, "vib_id", m->vib->vib_id);
            json_kv_string(j, "module", m->module);
            json_kv_string(j, "map", m->path);
            json_kv_uint(j, "line", e->line);
            const struct esximg_image_foreign *f = ls_foreign(d, m);
            char machine[24];
            json_kv_string(j, "foreign_machine", f ? esximg_elf_machine_text(
                               f->machine, machine, sizeof machine) : NULL);
            json_object_end(j);
        }
    }
    json_array_end(j);
    json_kv_warnings(j, "problems", &d->problems);
}

static void ls_drivers_text(const struct esximg_image_drivers *d)
{
    printf("%-20s %-9s %-32s %-14s %s\n", "DRIVER", "CLASS", "ID", "MODULE", "NAME");
    for (size_t i = 0; i < d->map_count; i++) {
        const struct esximg_image_map *m = &d->maps[i];
        for (size_t k = 0; k < m->map->entry_count; k++) {
            const struct esximg_map_entry *e = &m->map->entries[k];
            char id[64];
            const char *vendor, *device;
            esximg_map_entry_id_text(e, id, sizeof id);
            ls_entry_names(d, e, &vendor, &device);
            printf("%-20s %-9s %-32s %-14s %s%s%s\n", e->driver,
                   esximg_map_class_name(m->map->map_class), id,
                   m->module + (m->module[0] == '/'), vendor ? vendor : "",
                   vendor && device ? " " : "", device ? device : "");
        }
    }
    cli_warn_all(NULL, &d->problems);   /* each names its VIB and module */
    for (size_t i = 0; i < d->foreign_count; i++) {
        const struct esximg_image_foreign *f = &d->foreign[i];
        char theirs[24], ours[24];
        cli_warn("VIB '%s' holds '%s' (in %s), built for %s: its drivers do not load on this "
                 "%s image", f->vib->vib_id, f->path, f->module,
                 esximg_elf_machine_text(f->machine, theirs, sizeof theirs),
                 esximg_elf_machine_text(d->machine, ours, sizeof ours));
    }
}

static int ls_run(const char *file, enum ls_what what, bool json)
{
    struct esximg_err err = {0};
    struct esximg_image *img;
    struct esximg_image_drivers *drivers = NULL;
    if (esximg_image_open(file, NULL, &img, &err))
        return cli_fail(&err);
    cli_note_image(file, img);
    /* an empty VIB or driver list would read as "an ESXi image without any": refuse instead */
    if (what != LS_FILES && cli_need_esxi(img, file)) {
        esximg_image_free(img);
        return CLI_EXIT_FAIL;
    }
    if (what == LS_DRIVERS && esximg_image_drivers(img, &drivers, &err)) {
        esximg_err_file(&err, file);
        esximg_image_free(img);
        return cli_fail(&err);
    }
    struct json j;
    if (json) {
        json_init(&j, stdout);
        json_object_begin(&j);
        json_kv_string(&j, "file", file);
    }
    if (what == LS_VIBS)
        json ? ls_vibs_json(&j, img) : ls_vibs_text(img);
    else if (what == LS_FILES)
        json ? ls_files_json(&j, img) : ls_files_text(img);
    else
        json ? ls_drivers_json(&j, drivers) : ls_drivers_text(drivers);
    if (json) {
        json_object_end(&j);
        json_end(&j);
    }
    esximg_image_drivers_free(drivers);
    esximg_image_free(img);
    return CLI_EXIT_OK;
}

int cmd_ls(int argc, char **argv)
{
    enum ls_what what = LS_VIBS;
    int picked = 0;
    bool json = false;
    for (int c; (c = cli_getopt(argc, argv, "bfdjqvh", ls_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, ls_usage, CLI_EXIT_OK);
        else if (c == 'j')
            json = true;
        else if (c == 'b' || c == 'f' || c == 'd') {
            what = c == 'b' ? LS_VIBS : c == 'f' ? LS_FILES : LS_DRIVERS;
            picked++;
        } else
            return cli_usage(stderr, ls_usage, CLI_EXIT_USAGE);
    }
    if (argc - optind != 1 || picked > 1)
        return cli_usage(stderr, ls_usage, CLI_EXIT_USAGE);
    return ls_run(argv[optind], what, json);
}
