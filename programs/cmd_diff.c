/* cmd_diff.c: `esximg diff A B`, two installer images or offline bundles compared by VIB and,
 * for two images, by profile acceptance, base image and add-on records and BOOT.CFG.
 *
 * `diff --json` writes one object:
 *   a, b          {file, kind ("image" or "bundle"), vib_count}
 *   identical     true when there is no difference
 *   differences   [{what, name, old, new, old_vib_id, new_vib_id, change}]: what is
 *                 esximg_diff_kind_name() (vib_vendor: old and new are the vendors);
 *                 absent text is null; change is "upgrade",
 *                 "downgrade" or "same" for vib_version, null otherwise
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

static const char diff_usage[] =
    "usage: esximg diff A B [--json] [-q] [-v]\n"
    "\n"
    "Compares two installer images (ISO) or offline bundles (zip), each recognised by its\n"
    "content. VIBs are compared by name: added (+), removed (-), version, acceptance level or\n"
    "vendor changed (~, a version change says upgrade or downgrade). For two images also the\n"
    "profile acceptance level, the base image and add-on (7.0+), the BOOT.CFG title,\n"
    "kernelopt tokens and boot modules. One\n"
    "line per difference; exits 0 when there is none, 3 when they differ, 1 on error.\n"
    "\n"
    "options:\n"
    "  -j, --json    print JSON (keys in docs/json.md)\n"
    "  -q, --quiet   print nothing but errors and the differences\n"
    "  -v, --verbose say on stderr what is read\n"
    "  -h, --help    print this help\n";

static const struct option diff_opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *diff_change(const struct esximg_diff_item *it)
{
    if (it->kind != ESXIMG_DIFF_VIB_VERSION)
        return NULL;
    return it->order > 0 ? "upgrade" : it->order < 0 ? "downgrade" : "same";
}

static const char *diff_or(const char *s, const char *none)
{
    return s ? s : none;
}

static void diff_print_item(const struct esximg_diff_item *it)
{
    const char *n = diff_or(it->name, ""), *o = diff_or(it->old_value, "none");
    const char *w = diff_or(it->new_value, "none");
    switch (it->kind) {
    case ESXIMG_DIFF_VIB_ADDED: printf("+ vib %s %s\n", n, diff_or(it->new_value, "")); break;
    case ESXIMG_DIFF_VIB_REMOVED: printf("- vib %s %s\n", n, diff_or(it->old_value, "")); break;
    case ESXIMG_DIFF_VIB_VERSION:
        printf("~ vib %s version %s -> %s (%s)\n", n, o, w, diff_change(it));
        break;
    case ESXIMG_DIFF_VIB_ACCEPTANCE: printf("~ vib %s acceptance %s -> %s\n", n, o, w); break;
    case ESXIMG_DIFF_VIB_VENDOR: printf("~ vib %s vendor %s -> %s\n", n, o, w); break;
    case ESXIMG_DIFF_PROFILE_ACCEPTANCE: printf("~ profile acceptance %s -> %s\n", o, w); break;
    case ESXIMG_DIFF_BASE_IMAGE: printf("~ base image %s -> %s\n", o, w); break;
    case ESXIMG_DIFF_ADDON: printf("~ add-on %s -> %s\n", o, w); break;
    case ESXIMG_DIFF_TITLE: printf("~ title '%s' -> '%s'\n", o, w); break;
    case ESXIMG_DIFF_KERNELOPT_ADDED: printf("+ kernelopt %s\n", n); break;
    case ESXIMG_DIFF_KERNELOPT_REMOVED: printf("- kernelopt %s\n", n); break;
    case ESXIMG_DIFF_MODULE_ADDED: printf("+ module %s\n", n); break;
    case ESXIMG_DIFF_MODULE_REMOVED: printf("- module %s\n", n); break;
    }
}

static void diff_json_side(struct json *j, const char *key, const char *file,
                           enum esximg_diff_source s, size_t vibs)
{
    json_key(j, key);
    json_object_begin(j);
    json_kv_string(j, "file", file);
    json_kv_string(j, "kind", esximg_diff_source_name(s));
    json_kv_uint(j, "vib_count", vibs);
    json_object_end(j);
}

static void diff_print_json(const char *a, const char *b, const struct esximg_diff *d)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    diff_json_side(&j, "a", a, d->a_source, d->a_vib_count);
    diff_json_side(&j, "b", b, d->b_source, d->b_vib_count);
    json_kv_bool(&j, "identical", d->count == 0);
    json_key(&j, "differences");
    json_array_begin(&j);
    for (size_t i = 0; i < d->count; i++) {
        const struct esximg_diff_item *it = &d->items[i];
        json_object_begin(&j);
        json_kv_string(&j, "what", esximg_diff_kind_name(it->kind));
        json_kv_string(&j, "name", it->name);
        json_kv_string(&j, "old", it->old_value);
        json_kv_string(&j, "new", it->new_value);
        json_kv_string(&j, "old_vib_id", it->vib_id_old);
        json_kv_string(&j, "new_vib_id", it->vib_id_new);
        json_kv_string(&j, "change", diff_change(it));
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_end(&j);
}

int cmd_diff(int argc, char **argv)
{
    bool as_json = false;
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "jqvh", diff_opts)) != -1;) {
        switch (c) {
        case 'j': as_json = true; break;
        case 'h': return cli_usage(stdout, diff_usage, CLI_EXIT_OK);
        default: return cli_usage(stderr, diff_usage, CLI_EXIT_USAGE);
        }
    }
    if (optind + 2 != argc) {
        fprintf(stderr, "esximg: diff: give two files\n");
        return cli_usage(stderr, diff_usage, CLI_EXIT_USAGE);
    }
    struct esximg_err err = {0};
    struct esximg_diff *d = NULL;
    if (esximg_diff_files(argv[optind], argv[optind + 1], &d, &err))
        return cli_fail(&err);
    cli_note_read(argv[optind], "%s, %zu VIBs", esximg_diff_source_name(d->a_source),
                  d->a_vib_count);
    cli_note_read(argv[optind + 1], "%s, %zu VIBs", esximg_diff_source_name(d->b_source),
                  d->b_vib_count);
    if (as_json)
        diff_print_json(argv[optind], argv[optind + 1], d);
    else
        for (size_t i = 0; i < d->count; i++)
            diff_print_item(&d->items[i]);
    int code = d->count ? CLI_EXIT_CHECK : CLI_EXIT_OK;
    esximg_diff_free(d);
    return code;
}
