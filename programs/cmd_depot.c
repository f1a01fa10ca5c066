/* cmd_depot.c: `esximg depot ls|extract`, offline bundles (depot zips).
 *
 * `depot ls --json` writes one object (keys in this order; absent text is null):
 *   file             the zip as named on the command line
 *   kind             "vmware" | "vfront" | "nested" | "plain"
 *   vendor_name      index.xml vendor name
 *   vendor_code      index.xml vendor code
 *   metadata_urls    [{product_id, version, url}] from vendor-index.xml
 *   vibs             [{
 *       path             member path; in a nested bundle "<inner.zip>/<path>"
 *       container        member path of the nested zip holding it, or null
 *       unsafe_path      true when the path is refused for extraction ('..', absolute)
 *       size             bytes of the .vib
 *       sha256           of the whole .vib
 *       vib_id, name, version, vendor, type, acceptance   from its descriptor.xml
 *       payload_count    payloads in the descriptor
 *       signed           sig.pkcs7 is not empty
 *       broken           its payloads and members disagree (see problems)
 *       problems         [{kind: "missing"|"unexpected"|"size", member, message}]
 *       metadata         {check: "none"|"ok"|"mismatch", path, packed_size (integer or null),
 *                         sha256, size_mismatch, checksum_mismatch}
 *       components       [bulletin id] whose vibList names this VIB
 *   }]
 *   components       [{id, vendor, name, name_ui, version, version_ui, release_date, summary,
 *                      vib_ids: [vib id]}]  (name/version: componentNameSpec/VersionSpec)
 *   profiles         [{source, name, creator, description, acceptance, vib_ids: [vib id]}]
 *   base_images, addons, manifests
 *                    [{source, release_id, release_type, schema_version, name, name_ui,
 *                      version, version_ui, vendor, summary, description, doc_url, acceptance,
 *                      release_date, components: [{name, version}], removed_components,
 *                      supported_base_image_versions}]
 *   not_understood   [{path, reason}] metadata members esximg does not read
 *   warnings         [text]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

static const char depot_usage[] =
    "usage: esximg depot ls FILE.zip [--json] [-v]\n"
    "       esximg depot ls FILE.zip --profiles|--base-images|--addons|--manifests|--components\n"
    "       esximg depot extract FILE.zip [-C DIR] [--select NAME]... [--force]\n"
    "       esximg depot create -o OUT.zip VIB... [--component NAME:VERSION]\n"
    "                           [--vendor-name NAME] [--vendor-code CODE] [--platform VER]\n"
    "                           [--mtime SECONDS]\n"
    "\n"
    "Lists the VIBs of an offline bundle (depot zip, component zip, V-Front bundle, or a zip\n"
    "holding one), or writes them out as <vib-id>.vib.\n"
    "\n"
    "  ls       one line per VIB: name version vendor acceptance component path\n"
    "           (component: <name>_<version> of its component, '-' when it has none, as in\n"
    "           6.x bundles, whose bulletins have no component name); with -v also size,\n"
    "           sha-256 and the metadata check (ok, mismatch, none) before the path, and a\n"
    "           summary that counts components as the table does.\n"
    "           A VIB whose payloads and members disagree (a payload without a member, ...)\n"
    "           is listed with ' [broken]' after its path, its problems on stderr.\n"
    "           Exits 3 when a VIB's size or sha-256 disagrees with the bundle's metadata,\n"
    "           or a VIB is broken.\n"
    "           A full depot's image profiles, base images, add-ons and manifests follow\n"
    "           the VIBs, a line each starting 'profile', 'base-image', 'addon',\n"
    "           'manifest', and each metadata member esximg does not read, 'not-understood'\n"
    "           (docs/depot-format.md). --profiles: NAME ACCEPTANCE VIBS CREATOR;\n"
    "           --base-images: VERSION RELEASE-ID ACCEPTANCE RELEASE-DATE VENDOR;\n"
    "           --addons, --manifests: NAME VERSION RELEASE-ID ACCEPTANCE RELEASE-DATE\n"
    "           VENDOR; --components: NAME VERSION ID VENDOR (one of them at a time, for the\n"
    "           text listing; --json always prints the whole depot).\n"
    "  extract  writes each VIB as DIR/<vib-id>.vib; nothing is written when a member path is\n"
    "           unsafe (exit 1), a VIB disagrees with the metadata or is broken (exit 3)\n"
    "  create   writes an offline bundle in VMware's layout (index.xml, vendor-index.xml,\n"
    "           metadata.zip, vib20/<name>/<vib-id>.vib), one component per VIB named and\n"
    "           versioned after it, or one component holding every VIB with --component\n"
    "\n"
    "options:\n"
    "  -C, --directory DIR  extract into DIR (created when missing; default: the current\n"
    "                       directory)\n"
    "  -s, --select NAME    extract only the VIB whose name or vib-id is NAME (repeatable)\n"
    "  -f, --force          overwrite existing files\n"
    "  -j, --json           (ls) print JSON\n"
    "      --profiles       (ls) list only the image profiles\n"
    "      --base-images    (ls) list only the base images\n"
    "      --addons         (ls) list only the add-ons\n"
    "      --manifests      (ls) list only the hardware support manifests\n"
    "      --components     (ls) list only the components\n"
    "  -v, --verbose        say what is read and written; (ls) add size, sha-256 and the\n"
    "                       metadata check\n"
    "  -q, --quiet          print nothing but errors and the listing (no progress bar or\n"
    "                       warnings)\n"
    "  -o, --output FILE    (create) the zip to write (replaced atomically)\n"
    "      --component NAME:VERSION  (create) one component of that name and version\n"
    "      --vendor-name NAME  (create) index.xml vendor name and bulletin vendor\n"
    "                       (default: the first VIB's vendor)\n"
    "      --vendor-code CODE  (create) index.xml vendor code (default: the same)\n"
    "      --platform VER   (create) vendor-index.xml and bulletin platform version\n"
    "                       (default: 5.*)\n"
    "      --mtime SECONDS  (create) zip member times and the metadata timestamp\n"
    "                       (default: SOURCE_DATE_EPOCH, else 1980-01-01)\n"
    "  -h, --help           print this help\n";

/* What `depot ls` lists: everything, or one kind (--profiles, ...). */
enum depot_list {
    DEPOT_LIST_ALL = 0, DEPOT_LIST_PROFILES = 300, DEPOT_LIST_BASE_IMAGES, DEPOT_LIST_ADDONS,
    DEPOT_LIST_MANIFESTS, DEPOT_LIST_COMPONENTS,
};

static const struct option depot_opts[] = {
    {"profiles", no_argument, NULL, DEPOT_LIST_PROFILES},
    {"base-images", no_argument, NULL, DEPOT_LIST_BASE_IMAGES},
    {"addons", no_argument, NULL, DEPOT_LIST_ADDONS},
    {"manifests", no_argument, NULL, DEPOT_LIST_MANIFESTS},
    {"components", no_argument, NULL, DEPOT_LIST_COMPONENTS},
    {"directory", required_argument, NULL, 'C'},
    {"select", required_argument, NULL, 's'},
    {"force", no_argument, NULL, 'f'},
    {"json", no_argument, NULL, 'j'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct depot_args {
    const char *file;
    const char *dir;
    bool force;
    bool json;
    enum depot_list list;
    size_t select_count;
    char **selects;      /* borrowed from argv */
};

/* Parses the options of a verb; returns -1 to go on, else the exit code. */
static int depot_parse(int argc, char **argv, struct depot_args *a)
{
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "C:s:fjvqh", depot_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, depot_usage, CLI_EXIT_OK);
        else if (c == 'C')
            a->dir = optarg;
        else if (c == 's')
            a->selects[a->select_count++] = optarg;
        else if (c == 'f')
            a->force = true;
        else if (c == 'j')
            a->json = true;
        else if (c >= DEPOT_LIST_PROFILES && c <= DEPOT_LIST_COMPONENTS && !a->list)
            a->list = (enum depot_list)c;
        else
            return cli_usage(stderr, depot_usage, CLI_EXIT_USAGE);
    }
    if (argc - optind != 1)
        return cli_usage(stderr, depot_usage, CLI_EXIT_USAGE);
    a->file = argv[optind];
    return -1;
}

/* A component as the listing shows one: a 7.0+ bulletin, with a name and a version.  Older
 * bulletins (6.x bundles) have neither, and the listing says '-' for their VIBs: counting
 * them as components too made the summary disagree with the table. */
static bool depot_is_named(const struct esximg_depot_component *c)
{
    return c->name && c->version;
}

static size_t depot_named_components(const struct esximg_depot *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->component_count; i++)
        n += depot_is_named(&d->components[i]);
    return n;
}

static int depot_load(const char *file, struct esximg_depot **out)
{
    struct esximg_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esximg_file_read(file, 0, &data, &len, &err);
    if (!rc)
        rc = esximg_depot_read(data, len, NULL, out, &err);
    free(data);
    if (rc) {
        esximg_err_file(&err, file);
        return cli_fail(&err);
    }
    size_t named = depot_named_components(*out);
    size_t older = (*out)->component_count - named;
    char bulletins[64] = "";
    if (older)
        snprintf(bulletins, sizeof bulletins, ", %zu bulletin(s) without a component name",
                 older);
    cli_note_read(file, "%s bundle, %zu vib(s), %zu component(s)%s",
                  esximg_depot_kind_name((*out)->kind), (*out)->vib_count, named, bulletins);
    cli_warn_all(file, &(*out)->warnings);
    return 0;
}

static const char *depot_or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* The first component of the VIB that has a 7.0+ name and version, or NULL. */
static const struct esximg_depot_component *depot_component_of(const struct esximg_depot *d,
                                                               const struct esximg_depot_vib *v)
{
    for (size_t i = 0; i < v->component_count; i++) {
        const struct esximg_depot_component *c = &d->components[v->components[i]];
        if (depot_is_named(c))
            return c;
    }
    return NULL;
}

/* Reports each metadata mismatch; returns how many VIBs had one. */
static size_t depot_report_mismatches(const char *file, const struct esximg_depot *d)
{
    size_t bad = 0;
    for (size_t i = 0; i < d->vib_count; i++) {
        const struct esximg_depot_vib *v = &d->vibs[i];
        if (v->check != ESXIMG_DEPOT_CHECK_MISMATCH)
            continue;
        bad++;
        if (v->size_mismatch)
            cli_error(CLI_EXIT_CHECK, "%s: member '%s': %zu bytes, the metadata says %llu", file,
                      v->path, v->len, (unsigned long long)v->meta_size);
        if (v->checksum_mismatch)
            cli_error(CLI_EXIT_CHECK, "%s: member '%s': sha-256 %s, the metadata says %s", file,
                      v->path, v->sha256, v->meta_checksum);
    }
    return bad;
}

/* Reports the problems of each VIB whose payloads and members disagree; returns how many
 * VIBs had some. */
static size_t depot_report_broken(const char *file, const struct esximg_depot *d,
                                  const bool *picked)
{
    size_t bad = 0;
    for (size_t i = 0; i < d->vib_count; i++) {
        const struct esximg_depot_vib *v = &d->vibs[i];
        if ((picked && !picked[i]) || !v->vib->problem_count)
            continue;
        bad++;
        for (size_t k = 0; k < v->vib->problem_count; k++)
            cli_error(CLI_EXIT_CHECK, "%s: member '%s': %s", file, v->path,
                      v->vib->problems[k].msg);
    }
    return bad;
}

static void depot_print_text(const struct esximg_depot *d)
{
    for (size_t i = 0; i < d->vib_count; i++) {
        const struct esximg_depot_vib *v = &d->vibs[i];
        const struct esximg_descriptor *desc = v->vib->desc;
        const struct esximg_depot_component *c = depot_component_of(d, v);
        printf("%s %s %s %s ", depot_or_dash(desc->name), depot_or_dash(desc->version),
               depot_or_dash(desc->vendor), esximg_acceptance_name(v->acceptance));
        if (c)
            printf("%s_%s ", c->name, c->version);
        else
            fputs("- ", stdout);
        if (cli_verbose)
            printf("%zu %s %s ", v->len, v->sha256, esximg_depot_check_name(v->check));
        printf("%s%s\n", v->path, v->vib->problem_count ? " [broken]" : "");
    }
}

static void depot_print_profile(const struct esximg_depot_profile *p, const char *prefix)
{
    const struct esximg_profile *prof = p->profile;
    printf("%s%s %s %zu %s\n", prefix, prof->name, depot_or_dash(prof->acceptance_level),
           prof->vib_count, depot_or_dash(prof->creator));
}

static void depot_print_release(const struct esximg_depot_release *r, const char *prefix)
{
    fputs(prefix, stdout);
    if (r->kind == ESXIMG_RELEASE_BASE_IMAGE)
        printf("%s %s ", r->version, r->release_id);
    else
        printf("%s %s %s ", r->name, r->version, r->release_id);
    printf("%s %s %s\n", depot_or_dash(r->acceptance), depot_or_dash(r->release_date),
           depot_or_dash(r->vendor));
}

static void depot_print_releases(const struct esximg_depot_release *list, size_t n,
                                 const char *prefix)
{
    for (size_t i = 0; i < n; i++)
        depot_print_release(&list[i], prefix);
}

/* The lines of a full depot after the VIBs; nothing for a driver bundle. */
static void depot_print_full(const struct esximg_depot *d)
{
    for (size_t i = 0; i < d->profile_count; i++)
        depot_print_profile(&d->profiles[i], "profile ");
    depot_print_releases(d->base_images, d->base_image_count, "base-image ");
    depot_print_releases(d->addons, d->addon_count, "addon ");
    depot_print_releases(d->manifests, d->manifest_count, "manifest ");
    for (size_t i = 0; i < d->unknown_count; i++)
        printf("not-understood %s: %s\n", d->unknowns[i].path, d->unknowns[i].reason);
}

static void depot_print_list(const struct esximg_depot *d, enum depot_list list)
{
    switch (list) {
    case DEPOT_LIST_ALL:
        depot_print_text(d);
        depot_print_full(d);
        break;
    case DEPOT_LIST_PROFILES:
        for (size_t i = 0; i < d->profile_count; i++)
            depot_print_profile(&d->profiles[i], "");
        break;
    case DEPOT_LIST_BASE_IMAGES:
        depot_print_releases(d->base_images, d->base_image_count, "");
        break;
    case DEPOT_LIST_ADDONS:
        depot_print_releases(d->addons, d->addon_count, "");
        break;
    case DEPOT_LIST_MANIFESTS:
        depot_print_releases(d->manifests, d->manifest_count, "");
        break;
    case DEPOT_LIST_COMPONENTS:
        for (size_t i = 0; i < d->component_count; i++) {
            const struct esximg_depot_component *c = &d->components[i];
            if (depot_is_named(c))
                printf("%s %s %s %s\n", c->name, c->version, c->id, depot_or_dash(c->vendor));
        }
        break;
    }
}

static void depot_json_vib(struct json *j, const struct esximg_depot *d,
                           const struct esximg_depot_vib *v)
{
    const struct esximg_descriptor *desc = v->vib->desc;
    json_object_begin(j);
    json_kv_string(j, "path", v->path);
    json_kv_string(j, "container", v->container);
    json_kv_bool(j, "unsafe_path", v->unsafe_path);
    json_kv_uint(j, "size", v->len);
    json_kv_string(j, "sha256", v->sha256);
    json_kv_string(j, "vib_id", v->vib_id);
    json_kv_string(j, "name", desc->name);
    json_kv_string(j, "version", desc->version);
    json_kv_string(j, "vendor", desc->vendor);
    json_kv_string(j, "type", desc->type);
    json_kv_string(j, "acceptance", esximg_acceptance_name(v->acceptance));
    json_kv_uint(j, "payload_count", desc->payload_count);
    json_kv_bool(j, "signed", v->vib->sig_len > 0);
    json_kv_bool(j, "broken", v->vib->problem_count > 0);
    json_key(j, "problems");
    json_array_begin(j);
    for (size_t i = 0; i < v->vib->problem_count; i++) {
        const struct esximg_vib_problem *p = &v->vib->problems[i];
        json_object_begin(j);
        json_kv_string(j, "kind", esximg_vib_problem_name(p->kind));
        json_kv_string(j, "member", p->member);
        json_kv_string(j, "message", p->msg);
        json_object_end(j);
    }
    json_array_end(j);
    json_key(j, "metadata");
    json_object_begin(j);
    json_kv_string(j, "check", esximg_depot_check_name(v->check));
    json_kv_string(j, "path", v->meta_path);
    json_key(j, "packed_size");
    if (v->has_meta_size)
        json_uint(j, v->meta_size);
    else
        json_null(j);
    json_kv_string(j, "sha256", v->meta_checksum);
    json_kv_bool(j, "size_mismatch", v->size_mismatch);
    json_kv_bool(j, "checksum_mismatch", v->checksum_mismatch);
    json_object_end(j);
    json_key(j, "components");
    json_array_begin(j);
    for (size_t i = 0; i < v->component_count; i++)
        json_string(j, d->components[v->components[i]].id);
    json_array_end(j);
    json_object_end(j);
}

static void depot_json_component(struct json *j, const struct esximg_depot_component *c)
{
    json_object_begin(j);
    json_kv_string(j, "id", c->id);
    json_kv_string(j, "vendor", c->vendor);
    json_kv_string(j, "name", c->name);
    json_kv_string(j, "name_ui", c->name_ui);
    json_kv_string(j, "version", c->version);
    json_kv_string(j, "version_ui", c->version_ui);
    json_kv_string(j, "release_date", c->release_date);
    json_kv_string(j, "summary", c->summary);
    json_kv_strings(j, "vib_ids", c->vib_ids, c->vib_id_count);
    json_object_end(j);
}

static void depot_json_profile(struct json *j, const struct esximg_depot_profile *p)
{
    const struct esximg_profile *prof = p->profile;
    json_object_begin(j);
    json_kv_string(j, "source", p->source);
    json_kv_string(j, "name", prof->name);
    json_kv_string(j, "creator", prof->creator);
    json_kv_string(j, "description", prof->description);
    json_kv_string(j, "acceptance", prof->acceptance_level);
    json_key(j, "vib_ids");
    json_array_begin(j);
    for (size_t i = 0; i < prof->vib_count; i++)
        json_string(j, prof->vibs[i].vib_id);
    json_array_end(j);
    json_object_end(j);
}

static void depot_json_release(struct json *j, const struct esximg_depot_release *r)
{
    json_object_begin(j);
    json_kv_string(j, "source", r->source);
    json_kv_string(j, "release_id", r->release_id);
    json_kv_string(j, "release_type", r->release_type);
    json_kv_string(j, "schema_version", r->schema_version);
    json_kv_string(j, "name", r->name);
    json_kv_string(j, "name_ui", r->name_ui);
    json_kv_string(j, "version", r->version);
    json_kv_string(j, "version_ui", r->version_ui);
    json_kv_string(j, "vendor", r->vendor);
    json_kv_string(j, "summary", r->summary);
    json_kv_string(j, "description", r->description);
    json_kv_string(j, "doc_url", r->doc_url);
    json_kv_string(j, "acceptance", r->acceptance);
    json_kv_string(j, "release_date", r->release_date);
    json_key(j, "components");
    json_array_begin(j);
    for (size_t i = 0; i < r->component_count; i++) {
        json_object_begin(j);
        json_kv_string(j, "name", r->components[i].name);
        json_kv_string(j, "version", r->components[i].version);
        json_object_end(j);
    }
    json_array_end(j);
    json_kv_strings(j, "removed_components", r->removed_components, r->removed_count);
    json_kv_strings(j, "supported_base_image_versions", r->supported_base_versions,
                    r->supported_count);
    json_object_end(j);
}

static void depot_json_releases(struct json *j, const char *key,
                                const struct esximg_depot_release *list, size_t n)
{
    json_key(j, key);
    json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        depot_json_release(j, &list[i]);
    json_array_end(j);
}

static void depot_json_full(struct json *j, const struct esximg_depot *d)
{
    json_key(j, "profiles");
    json_array_begin(j);
    for (size_t i = 0; i < d->profile_count; i++)
        depot_json_profile(j, &d->profiles[i]);
    json_array_end(j);
    depot_json_releases(j, "base_images", d->base_images, d->base_image_count);
    depot_json_releases(j, "addons", d->addons, d->addon_count);
    depot_json_releases(j, "manifests", d->manifests, d->manifest_count);
    json_key(j, "not_understood");
    json_array_begin(j);
    for (size_t i = 0; i < d->unknown_count; i++) {
        json_object_begin(j);
        json_kv_string(j, "path", d->unknowns[i].path);
        json_kv_string(j, "reason", d->unknowns[i].reason);
        json_object_end(j);
    }
    json_array_end(j);
}

static void depot_print_json(const char *file, const struct esximg_depot *d)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", file);
    json_kv_string(&j, "kind", esximg_depot_kind_name(d->kind));
    json_kv_string(&j, "vendor_name", d->vendor_name);
    json_kv_string(&j, "vendor_code", d->vendor_code);
    json_key(&j, "metadata_urls");
    json_array_begin(&j);
    for (size_t i = 0; i < d->meta_url_count; i++) {
        json_object_begin(&j);
        json_kv_string(&j, "product_id", d->meta_urls[i].product_id);
        json_kv_string(&j, "version", d->meta_urls[i].version);
        json_kv_string(&j, "url", d->meta_urls[i].url);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_key(&j, "vibs");
    json_array_begin(&j);
    for (size_t i = 0; i < d->vib_count; i++)
        depot_json_vib(&j, d, &d->vibs[i]);
    json_array_end(&j);
    json_key(&j, "components");
    json_array_begin(&j);
    for (size_t i = 0; i < d->component_count; i++)
        depot_json_component(&j, &d->components[i]);
    json_array_end(&j);
    depot_json_full(&j, d);
    json_kv_warnings(&j, "warnings", &d->warnings);
    json_object_end(&j);
    json_end(&j);
}

static int depot_ls(int argc, char **argv)
{
    struct depot_args a = {0};
    a.selects = calloc((size_t)argc + 1, sizeof *a.selects);
    if (!a.selects)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    struct esximg_depot *d = NULL;
    int code = depot_parse(argc, argv, &a);
    if (code >= 0)
        goto out;
    if (a.select_count || a.dir || a.force) {
        code = cli_usage(stderr, depot_usage, CLI_EXIT_USAGE);
        goto out;
    }
    if ((code = depot_load(a.file, &d)))
        goto out;
    if (a.json)
        depot_print_json(a.file, d);
    else
        depot_print_list(d, a.list);
    size_t mismatched = depot_report_mismatches(a.file, d);
    size_t broken = depot_report_broken(a.file, d, NULL);
    code = mismatched || broken ? CLI_EXIT_CHECK : CLI_EXIT_OK;
out:
    free(a.selects);
    esximg_depot_free(d);
    return code;
}

/* The VIBs to extract: all, or those named by --select (each must exist). */
static int depot_pick(const char *file, const struct esximg_depot *d, const struct depot_args *a,
                      bool *picked)
{
    if (a->select_count == 0) {
        for (size_t i = 0; i < d->vib_count; i++)
            picked[i] = true;
        return 0;
    }
    for (size_t s = 0; s < a->select_count; s++) {
        const struct esximg_depot_vib *v = esximg_depot_find(d, a->selects[s]);
        if (!v)
            return cli_error(CLI_EXIT_FAIL, "%s: no vib named '%s' in the bundle", file,
                             a->selects[s]);
        picked[v - d->vibs] = true;
    }
    return 0;
}

/* Everything that can be known before writing: nothing is written if one VIB fails. */
static int depot_precheck(const char *file, const struct esximg_depot *d, const bool *picked)
{
    for (size_t i = 0; i < d->vib_count; i++) {
        if (!picked[i])
            continue;
        struct esximg_err err = {0};
        char *name = NULL;
        if (esximg_depot_vib_filename(&d->vibs[i], &name, &err)) {
            esximg_err_file(&err, file);
            return cli_fail(&err);
        }
        free(name);
        if (d->vibs[i].check == ESXIMG_DEPOT_CHECK_MISMATCH) {
            depot_report_mismatches(file, d);
            return cli_error(CLI_EXIT_CHECK, "%s: nothing extracted", file);
        }
    }
    /* a broken VIB is not handed out as if it were whole: --select the others */
    if (depot_report_broken(file, d, picked))
        return cli_error(CLI_EXIT_CHECK, "%s: nothing extracted (--select the VIBs that are "
                         "whole)", file);
    return 0;
}

/* Writes the picked VIBs, with a progress bar over their bytes. */
static int depot_extract_picked(const struct depot_args *a, const struct esximg_depot *d,
                                const bool *picked)
{
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < d->vib_count; i++)
        total += picked[i] ? d->vibs[i].len : 0;
    if (a->dir && mkdir(a->dir, 0755) != 0 && errno != EEXIST) {
        struct esximg_err err = {0};
        esximg_err_sys(&err, errno, "cannot create the folder");
        esximg_err_file(&err, a->dir);
        return cli_fail(&err);
    }
    struct cli_progress bar;
    cli_progress_start(&bar, "extracting", total);
    for (size_t i = 0; i < d->vib_count; i++) {
        struct esximg_err err = {0};
        char *name = NULL;
        if (!picked[i])
            continue;
        if (esximg_depot_extract(&d->vibs[i], a->dir, a->force, &err)) {
            cli_progress_end(&bar);
            if (err.code == ESXIMG_EINVAL)
                esximg_err_prefix(&err, "%s", "use --force to replace: ");
            return cli_fail(&err);
        }
        done += d->vibs[i].len;
        cli_progress_update(&bar, done);
        if (cli_verbose && !esximg_depot_vib_filename(&d->vibs[i], &name, NULL))
            cli_note("wrote %s/%s (%zu bytes)", a->dir ? a->dir : ".", name, d->vibs[i].len);
        free(name);
    }
    cli_progress_end(&bar);
    return CLI_EXIT_OK;
}

static int depot_extract(int argc, char **argv)
{
    struct depot_args a = {0};
    a.selects = calloc((size_t)argc + 1, sizeof *a.selects);
    if (!a.selects)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    struct esximg_depot *d = NULL;
    bool *picked = NULL;
    int code = depot_parse(argc, argv, &a);
    if (code >= 0)
        goto out;
    if (a.json || a.list) {
        code = cli_usage(stderr, depot_usage, CLI_EXIT_USAGE);
        goto out;
    }
    if ((code = depot_load(a.file, &d)))
        goto out;
    picked = calloc(d->vib_count, sizeof *picked);
    if (!picked) {
        code = cli_error(CLI_EXIT_FAIL, "out of memory");
        goto out;
    }
    if ((code = depot_pick(a.file, d, &a, picked)) || (code = depot_precheck(a.file, d, picked)))
        goto out;
    code = depot_extract_picked(&a, d, picked);
out:
    free(picked);
    free(a.selects);
    esximg_depot_free(d);
    return code;
}

/* ---------------------------------------------------------------- create */

enum {
    DEPOT_OPT_COMPONENT = 256, DEPOT_OPT_VENDOR_NAME, DEPOT_OPT_VENDOR_CODE, DEPOT_OPT_PLATFORM,
    DEPOT_OPT_MTIME,
};

static const struct option depot_create_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"component", required_argument, NULL, DEPOT_OPT_COMPONENT},
    {"vendor-name", required_argument, NULL, DEPOT_OPT_VENDOR_NAME},
    {"vendor-code", required_argument, NULL, DEPOT_OPT_VENDOR_CODE},
    {"platform", required_argument, NULL, DEPOT_OPT_PLATFORM},
    {"mtime", required_argument, NULL, DEPOT_OPT_MTIME},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct depot_create_args {
    const char *output;
    char *component;         /* "NAME:VERSION" split in place (a copy) */
    struct esximg_depot_wopts o;
    bool has_mtime;
};

static int depot_create_option(struct depot_create_args *a, int c, const char *v)
{
    char *end;
    switch (c) {
    case 'o': a->output = v; break;
    case DEPOT_OPT_VENDOR_NAME: a->o.vendor_name = v; break;
    case DEPOT_OPT_VENDOR_CODE: a->o.vendor_code = v; break;
    case DEPOT_OPT_PLATFORM: a->o.platform_version = v; break;
    case DEPOT_OPT_COMPONENT: {
        free(a->component);
        a->component = strdup(v);
        char *colon = a->component ? strchr(a->component, ':') : NULL;
        if (!colon || colon == a->component || !colon[1])
            return cli_error(CLI_EXIT_USAGE, "--component '%s': not NAME:VERSION", v);
        *colon = '\0';
        a->o.component_name = a->component;
        a->o.component_version = colon + 1;
        break;
    }
    case DEPOT_OPT_MTIME:
        errno = 0;
        a->o.mtime = (int64_t)strtoll(v, &end, 10);
        if (errno || end == v || *end || a->o.mtime < 0)
            return cli_error(CLI_EXIT_USAGE, "--mtime '%s': not a number of seconds", v);
        a->has_mtime = true;
        break;
    default:
        return cli_usage(stderr, depot_usage, CLI_EXIT_USAGE);
    }
    return -1;
}

static int depot_create_write(const struct depot_create_args *a, char **files, size_t n)
{
    struct esximg_err err = {0};
    struct esximg_depot_input *in = calloc(n, sizeof *in);
    int code = CLI_EXIT_OK;
    if (!in) {
        code = cli_error(CLI_EXIT_FAIL, "out of memory");
        goto out;
    }
    if ((code = cli_check_output(a->output, "bundle.zip")))
        goto out;
    /* each VIB by name: the writer reads it in pieces, never whole */
    for (size_t i = 0; i < n; i++) {
        uint64_t size = 0;
        if (esximg_file_size(files[i], 0, &size, &err)) {
            code = cli_fail(&err);
            goto out;
        }
        cli_note_read(files[i], NULL);
        in[i] = (struct esximg_depot_input){.len = (size_t)size, .path = files[i]};
    }
    struct cli_progress bar = {.label = "compressing"};
    struct esximg_depot_wopts o = a->o;
    o.progress = cli_progress_cb;
    o.progress_arg = &bar;
    o.note = cli_note_cb;
    int rc = esximg_depot_write_file(in, n, &o, a->output, 0644, &err);
    cli_progress_end(&bar);
    if (rc) {
        /* "vib N: ..." names the file */
        unsigned long idx = 0;
        if (sscanf(err.msg, "vib %lu:", &idx) == 1 && idx >= 1 && idx <= n)
            esximg_err_file(&err, files[idx - 1]);
        code = cli_fail(&err);
        goto out;
    }
    cli_note_wrote(a->output);
out:
    free(in);
    return code;
}

static int depot_create(int argc, char **argv)
{
    struct depot_create_args a;
    memset(&a, 0, sizeof a);
    int code = -1;
    optind = 1;
    for (int c; code < 0 && (c = cli_getopt(argc, argv, "o:vqh", depot_create_opts)) != -1;)
        code = c == 'h' ? cli_usage(stdout, depot_usage, CLI_EXIT_OK)
                        : depot_create_option(&a, c, optarg);
    if (code < 0 && (!a.output || optind >= argc)) {
        fprintf(stderr, "esximg: depot create: give -o OUT.zip and at least one VIB\n");
        code = cli_usage(stderr, depot_usage, CLI_EXIT_USAGE);
    }
    if (code < 0) {
        if (!a.has_mtime)
            a.o.mtime = cli_source_date(315532800);   /* 1980-01-01, the first DOS date */
        code = depot_create_write(&a, argv + optind, (size_t)(argc - optind));
    }
    free(a.component);
    return code;
}

static const struct cli_verb depot_verbs[] = {
    {"ls", depot_ls},
    {"extract", depot_extract},
    {"create", depot_create},
    {NULL, NULL},
};

int cmd_depot(int argc, char **argv)
{
    return cli_run_verb(depot_verbs, argc, argv, depot_usage);
}
