/* cmd_info.c: `esximg info ISO`, what an installer image is and whether it holds together.
 *
 * `info --json` writes one object (keys in this order; absent text is null):
 *   file, volume_id, application_id
 *   version, build        ESXi version ("7.0.2") and build number, from esx-base
 *   profile               {name, creator, acceptance, description, file} or null
 *   base_image, addon     releaseID of the base image and add-on the database keeps (7.0+),
 *                         or null
 *   vib_count
 *   community_vibs        a VIB below partner: UEFI Secure Boot must be off to boot it
 *   secure_boot           {ready, blockers: [text]}: can it boot with UEFI Secure Boot on
 *   boot                  {bios, uefi, entries: [{platform, path, load_size, boot_info_table}]}
 *   kernel, kernelopt     from /BOOT.CFG
 *   modules               [module path] from /BOOT.CFG
 *   problems              [text]: consistency problems (see esximg/image.h)
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

static const char info_usage[] =
    "usage: esximg info ISO [--json] [--verify] [-q] [-v]\n"
    "\n"
    "Shows what an ESXi installer image is: version and build, image profile, acceptance\n"
    "level, VIB count, boot modes, kernel options, whether it can boot with UEFI Secure Boot\n"
    "on (and what prevents it), and the consistency problems found (a BOOT.CFG module\n"
    "missing from the ISO, a VIB payload without a module, the two BOOT.CFG copies\n"
    "differing, a module whose size disagrees with its VIB, a signed VIB that lost its\n"
    ".xml.orig or .xml.sig). Exits 3 when there are problems.\n"
    "\n"
    "options:\n"
    "  -V, --verify  also compare each module's sha-256 with its VIB (reads the whole image)\n"
    "                and check that each signed VIB's .xml.sig signs its .xml.orig\n"
    "  -j, --json    print JSON (keys in docs/json.md)\n"
    "  -q, --quiet   print nothing but errors and the report (no progress bar)\n"
    "  -v, --verbose say on stderr what is read\n"
    "  -h, --help    print this help\n";

static const struct option info_opts[] = {
    {"verify", no_argument, NULL, 'V'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A value of /BOOT.CFG, malloc'd, or NULL. */
static char *info_bootcfg(const struct esximg_image *img, const char *key)
{
    char *value = NULL;
    if (img->bootcfg && esximg_bootcfg_get(img->bootcfg, key, &value, NULL) != 0)
        value = NULL;
    return value;
}

static const char *info_platform(uint8_t id)
{
    return id == 0x00 ? "bios" : id == 0xEF ? "uefi" : "other";
}

/* The releaseID of the image's base image or add-on record (malloc'd), or NULL. */
static char *info_release(const struct esximg_image *img, const char *folder)
{
    return esximg_imgdb_release_id(esximg_imgdb_find_release(img->db, folder));
}

static void info_print_json(const char *file, const struct esximg_image *img)
{
    struct json j;
    const struct esximg_profile *p = img->db ? img->db->profile : NULL;
    char *kernel = info_bootcfg(img, "kernel"), *kernelopt = info_bootcfg(img, "kernelopt");
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", file);
    json_kv_string(&j, "volume_id", img->iso->volume_id);
    json_kv_string(&j, "application_id", img->iso->application_id);
    json_kv_string(&j, "version", img->version);
    json_kv_string(&j, "build", img->build);
    json_key(&j, "profile");
    if (p) {
        json_object_begin(&j);
        json_kv_string(&j, "name", p->name);
        json_kv_string(&j, "creator", p->creator);
        json_kv_string(&j, "acceptance", p->acceptance_level);
        json_kv_string(&j, "description", p->description);
        json_kv_string(&j, "file", img->db->profile_file);
        json_object_end(&j);
    } else {
        json_null(&j);
    }
    char *base = info_release(img, ESXIMG_IMGDB_BASE_IMAGES);
    char *addon = info_release(img, ESXIMG_IMGDB_ADDONS);
    json_kv_string(&j, "base_image", base);
    json_kv_string(&j, "addon", addon);
    free(base);
    free(addon);
    json_kv_uint(&j, "vib_count", img->vib_count);
    json_kv_bool(&j, "community_vibs", img->community_vibs);
    json_key(&j, "secure_boot");
    json_object_begin(&j);
    json_kv_bool(&j, "ready", img->secure_boot_ready);
    json_kv_warnings(&j, "blockers", &img->secure_boot_blockers);
    json_object_end(&j);
    json_key(&j, "boot");
    json_object_begin(&j);
    json_kv_bool(&j, "bios", img->bios_boot);
    json_kv_bool(&j, "uefi", img->uefi_boot);
    json_key(&j, "entries");
    json_array_begin(&j);
    for (size_t i = 0; i < img->iso->n_boots; i++) {
        const struct esximg_iso_boot *b = &img->iso->boots[i];
        json_object_begin(&j);
        json_kv_string(&j, "platform", info_platform(b->platform_id));
        json_kv_string(&j, "path", b->path);
        json_kv_uint(&j, "load_size", b->load_size);
        json_kv_bool(&j, "boot_info_table", b->boot_info_table);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_kv_string(&j, "kernel", kernel);
    json_kv_string(&j, "kernelopt", kernelopt);
    json_key(&j, "modules");
    json_array_begin(&j);
    struct esximg_bootcfg_modules *mods = NULL;
    if (img->bootcfg && esximg_bootcfg_modules_get(img->bootcfg, &mods, NULL) == 0)
        for (size_t i = 0; i < mods->count; i++)
            json_string(&j, mods->items[i].path);
    esximg_bootcfg_modules_free(mods);
    json_array_end(&j);
    json_kv_warnings(&j, "problems", &img->problems);
    json_object_end(&j);
    json_end(&j);
    free(kernel);
    free(kernelopt);
}

/* Whether the image boots with UEFI Secure Boot on, and what prevents it: the first few
 * reasons, then a count (an image of community drivers lists every one of them). */
static void info_print_secure_boot(const struct esximg_image *img)
{
    const struct esximg_warnings *w = &img->secure_boot_blockers;
    if (img->secure_boot_ready) {
        printf("secure boot:    ready (every VIB signed, none community-supported)\n");
        return;
    }
    size_t total = w->count + w->dropped, shown = total > 8 ? 6 : w->count;
    printf("secure boot:    not ready: UEFI Secure Boot must be off (%zu reason%s)\n", total,
           total == 1 ? "" : "s");
    for (size_t i = 0; i < shown; i++)
        printf("  %s\n", w->items[i].msg);
    if (shown < total)
        printf("  (%zu more; --json lists them)\n", total - shown);
}

static void info_print_text(const char *file, const struct esximg_image *img)
{
    const struct esximg_profile *p = img->db ? img->db->profile : NULL;
    char *kernel = info_bootcfg(img, "kernel"), *kernelopt = info_bootcfg(img, "kernelopt");
    struct esximg_bootcfg_modules *mods = NULL;
    if (img->bootcfg && esximg_bootcfg_modules_get(img->bootcfg, &mods, NULL) != 0)
        mods = NULL;
    printf("file:           %s\n", file);
    printf("volume id:      %s\n", img->iso->volume_id);
    if (img->version)
        printf("esxi version:   %s%s%s%s\n", img->version, img->build ? " (build " : "",
               img->build ? img->build : "", img->build ? ")" : "");
    else
        printf("esxi version:   unknown\n");
    printf("image profile:  %s\n", p && p->name ? p->name : "none");
    if (p && p->creator)
        printf("vendor:         %s\n", p->creator);
    char *base = info_release(img, ESXIMG_IMGDB_BASE_IMAGES);
    char *addon = info_release(img, ESXIMG_IMGDB_ADDONS);
    if (base)
        printf("base image:     %s\n", base);
    if (addon)
        printf("add-on:         %s\n", addon);
    free(base);
    free(addon);
    printf("acceptance:     %s\n", p && p->acceptance_level ? p->acceptance_level : "unknown");
    printf("vibs:           %zu\n", img->vib_count);
    printf("boot:           %s%s%s\n", img->bios_boot ? "bios" : "",
           img->bios_boot && img->uefi_boot ? " " : "", img->uefi_boot ? "uefi" : "");
    printf("kernel:         %s\n", kernel ? kernel : "none");
    printf("kernel options: %s\n", kernelopt ? kernelopt : "");
    printf("modules:        %zu\n", mods ? mods->count : 0);
    info_print_secure_boot(img);
    if (img->problems.count == 0) {
        printf("problems:       none\n");
    } else {
        printf("problems:       %zu\n", img->problems.count);
        for (size_t i = 0; i < img->problems.count; i++)
            printf("  %s\n", img->problems.items[i].msg);
        if (img->problems.dropped)
            printf("  (%zu more not listed)\n", img->problems.dropped);
    }
    esximg_bootcfg_modules_free(mods);
    free(kernel);
    free(kernelopt);
}

int cmd_info(int argc, char **argv)
{
    bool json = false;
    struct esximg_image_opts o = {0};
    for (int c; (c = cli_getopt(argc, argv, "Vjqvh", info_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, info_usage, CLI_EXIT_OK);
        else if (c == 'j')
            json = true;
        else if (c == 'V')
            o.verify_checksums = true;
        else
            return cli_usage(stderr, info_usage, CLI_EXIT_USAGE);
    }
    if (argc - optind != 1)
        return cli_usage(stderr, info_usage, CLI_EXIT_USAGE);
    const char *file = argv[optind];
    struct esximg_err err = {0};
    struct esximg_image *img;
    struct cli_progress bar = {.label = "verifying"};
    o.progress = cli_progress_cb;
    o.progress_arg = &bar;
    int rc = esximg_image_open(file, &o, &img, &err);
    cli_progress_end(&bar);
    if (rc)
        return cli_fail(&err);
    cli_note_image(file, img);
    if (json)
        info_print_json(file, img);
    else
        info_print_text(file, img);
    rc = img->problems.count ? CLI_EXIT_CHECK : CLI_EXIT_OK;
    esximg_image_free(img);
    return rc;
}
