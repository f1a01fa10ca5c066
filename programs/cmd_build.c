/* cmd_build.c: `esximg build -o OUT --depot ZIP ...`, an installer ISO, an offline bundle or a
 * PXE folder made from VMware depots (lib/imgbuild.c lays the image out; docs/build.md says
 * what it does). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

static const char build_usage[] =
    "usage: esximg build -o OUT --depot ZIP... (--profile NAME | --base-image VERSION\n"
    "                    [--addon NAME[:VERSION]] [--component NAME[:VERSION]]...)\n"
    "                    [--add PKG]... [--kernelopt OPT]... [--title TEXT] [--ks FILE]\n"
    "                    [--hybrid] [--format iso|bundle|pxe] [--pxe-prefix PREFIX] [--json]\n"
    "                    [-q] [-v]\n"
    "\n"
    "Builds an ESXi installer from offline bundles (depot zips), as VMware's Image Builder\n"
    "does: the VIBs selected by the depots' metadata (an image profile, or a base image\n"
    "with an add-on and components) become an ISO that boots with BIOS and UEFI\n"
    "(modules named and ordered as VMware's, BOOT.CFG, ISOLINUX.CFG, the image database), or\n"
    "an offline bundle of those VIBs, or a folder to boot them over PXE. Dates come from\n"
    "SOURCE_DATE_EPOCH (else 1980-01-01): the same inputs give the same bytes.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT         the ISO or bundle to write, or the PXE folder to make (it\n"
    "                           must not exist); written under a temporary name, renamed\n"
    "  -d, --depot ZIP          an offline bundle whose metadata and VIBs are read\n"
    "                           (repeatable; all are searched together)\n"
    "      --profile NAME       the image profile of the depots to build, whole\n"
    "      --base-image VERSION the base image to build (its version or releaseID, e.g.\n"
    "                           7.0.2-0.0.17630552); the image is named ESXi-VERSION-custom\n"
    "      --addon NAME[:VERSION]  a vendor add-on to apply on the base image (the newest\n"
    "                           without VERSION); the image is named NAME_VERSION\n"
    "  -c, --component NAME[:VERSION]  also take this component (the newest without VERSION;\n"
    "                           repeatable; with --base-image)\n"
    "  -a, --add PKG            add a .vib, bundle, component .zip or OEM .tgz as `esximg\n"
    "                           edit --add` does, with its checks (repeatable; ISO only)\n"
    "  -k, --kernelopt OPT      KEY=VALUE adds or replaces a kernel option, -KEY removes one\n"
    "                           (repeatable)\n"
    "      --title TEXT         the boot menu title (BOOT.CFG title=)\n"
    "      --ks FILE            put FILE on the image as /KS.CFG and boot with\n"
    "                           ks=cdrom:/KS.CFG, checked as `esximg edit --ks` checks it\n"
    "      --hybrid             also make the ISO boot when written raw to a USB stick\n"
    "      --format FORMAT      iso (the default), bundle or pxe\n"
    "      --pxe-prefix PREFIX  pxe: boot.cfg prefix= (default: the folder's name)\n"
    "      --json               print what was built as JSON\n"
    "  -q, --quiet              print nothing but errors\n"
    "  -v, --verbose            also say what is read and written\n"
    "  -h, --help               print this help\n"
    "\n"
    "Exits 1, writing nothing, when a depot cannot be read, the selection is not in the\n"
    "depots or the image would not hold together.\n";

enum {
    BUILD_OPT_PROFILE = 256,
    BUILD_OPT_BASE_IMAGE,
    BUILD_OPT_ADDON,
    BUILD_OPT_TITLE,
    BUILD_OPT_KS,
    BUILD_OPT_HYBRID,
    BUILD_OPT_FORMAT,
    BUILD_OPT_PXE_PREFIX,
    BUILD_OPT_JSON,
};

static const struct option build_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"depot", required_argument, NULL, 'd'},
    {"profile", required_argument, NULL, BUILD_OPT_PROFILE},
    {"base-image", required_argument, NULL, BUILD_OPT_BASE_IMAGE},
    {"addon", required_argument, NULL, BUILD_OPT_ADDON},
    {"component", required_argument, NULL, 'c'},
    {"add", required_argument, NULL, 'a'},
    {"kernelopt", required_argument, NULL, 'k'},
    {"title", required_argument, NULL, BUILD_OPT_TITLE},
    {"ks", required_argument, NULL, BUILD_OPT_KS},
    {"hybrid", no_argument, NULL, BUILD_OPT_HYBRID},
    {"format", required_argument, NULL, BUILD_OPT_FORMAT},
    {"pxe-prefix", required_argument, NULL, BUILD_OPT_PXE_PREFIX},
    {"json", no_argument, NULL, BUILD_OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

enum build_format { BUILD_ISO = 0, BUILD_BUNDLE, BUILD_PXE };

struct build_args {
    const char *output;
    struct cli_list depots, components, adds, kernelopts;
    const char *profile, *base_image, *addon, *title, *ks, *pxe_prefix;
    bool hybrid, json;
    enum build_format format;
    int64_t mtime;
};

/* The depots spooled to a work folder beside the output, and the VIBs taken from them. */
struct build_input {
    char *work;                             /* the folder, removed at the end */
    struct esximg_depot_set *depots;        /* spooled into `work` */
    const struct esximg_spool_vib **vibs;   /* the selection, borrowed from the depots */
    size_t n_vibs;
    struct esximg_depot_resolution *res;    /* borrows from the depots' models */
    struct cli_list picks;                  /* copies of the --addon and --component texts,
                                             * split at the ':' (owned) */
    char *profile_name;
};

static void build_args_free(struct build_args *a)
{
    cli_list_free(&a->depots);
    cli_list_free(&a->components);
    cli_list_free(&a->adds);
    cli_list_free(&a->kernelopts);
}

static void build_input_free(struct build_input *in)
{
    esximg_depot_resolution_free(in->res);
    for (size_t i = 0; i < in->picks.count; i++)
        free((char *)in->picks.items[i]);
    cli_list_free(&in->picks);
    esximg_depot_set_free(in->depots);
    cli_work_remove(in->work);
    free(in->vibs);
    free(in->profile_name);
}

static int build_check_args(const struct build_args *a)
{
    if (!a->output || !strcmp(a->output, "-"))
        return cli_error(CLI_EXIT_USAGE, "build: -o OUT is required (a file or folder)");
    if (!a->depots.count)
        return cli_error(CLI_EXIT_USAGE, "build: give at least one --depot ZIP");
    for (size_t i = 0; i < a->depots.count; i++)
        if (!strcmp(a->depots.items[i], "-"))
            return cli_error(CLI_EXIT_USAGE, "build: a depot is read as a file, not from "
                             "standard input");
    if (!!a->profile == !!a->base_image)
        return cli_error(CLI_EXIT_USAGE, "build: give --profile NAME or --base-image VERSION");
    if (a->addon && !a->base_image)
        return cli_error(CLI_EXIT_USAGE, "build: --addon needs --base-image");
    if (a->profile && a->components.count)
        return cli_error(CLI_EXIT_USAGE, "build: an image profile is taken whole: --component "
                         "needs --base-image (put packages on a profile's image with --add)");
    if (a->format != BUILD_ISO && (a->adds.count || a->hybrid))
        return cli_error(CLI_EXIT_USAGE, "build: --add and --hybrid make ISOs only");
    if (a->format == BUILD_BUNDLE && (a->ks || a->kernelopts.count || a->title))
        return cli_error(CLI_EXIT_USAGE, "build: a bundle has no boot options (--ks, "
                         "--kernelopt, --title)");
    if (a->pxe_prefix && a->format != BUILD_PXE)
        return cli_error(CLI_EXIT_USAGE, "build: --pxe-prefix needs --format pxe");
    return -1;
}

/* Returns -1 when the command should go on, else the exit code. */
static int build_parse(int argc, char **argv, struct build_args *a)
{
    memset(a, 0, sizeof *a);
    optind = 1;
    int rc = 0;
    for (int c; !rc && (c = cli_getopt(argc, argv, "o:d:c:a:k:qvh", build_opts)) != -1;) {
        switch (c) {
        case 'h': return cli_usage(stdout, build_usage, CLI_EXIT_OK);
        case 'o': a->output = optarg; break;
        case 'd': rc = cli_list_add(&a->depots, optarg); break;
        case 'c': rc = cli_list_add(&a->components, optarg); break;
        case 'a': rc = cli_list_add(&a->adds, optarg); break;
        case 'k': rc = cli_list_add(&a->kernelopts, optarg); break;
        case BUILD_OPT_PROFILE: a->profile = optarg; break;
        case BUILD_OPT_BASE_IMAGE: a->base_image = optarg; break;
        case BUILD_OPT_ADDON: a->addon = optarg; break;
        case BUILD_OPT_TITLE: a->title = optarg; break;
        case BUILD_OPT_KS: a->ks = optarg; break;
        case BUILD_OPT_HYBRID: a->hybrid = true; break;
        case BUILD_OPT_PXE_PREFIX: a->pxe_prefix = optarg; break;
        case BUILD_OPT_JSON: a->json = true; break;
        case BUILD_OPT_FORMAT:
            if (!strcmp(optarg, "iso"))
                a->format = BUILD_ISO;
            else if (!strcmp(optarg, "bundle"))
                a->format = BUILD_BUNDLE;
            else if (!strcmp(optarg, "pxe"))
                a->format = BUILD_PXE;
            else
                return cli_error(CLI_EXIT_USAGE, "build: format '%s' is not iso, bundle or "
                                 "pxe", optarg);
            break;
        default: return cli_usage(stderr, build_usage, CLI_EXIT_USAGE);
        }
    }
    if (rc)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    if (optind != argc)
        return cli_usage(stderr, build_usage, CLI_EXIT_USAGE);
    a->mtime = cli_source_date(315532800);  /* 1980-01-01, the first DOS date */
    return build_check_args(a);
}

/* Each depot spooled: its VIBs as files of the work folder, their payloads read from there
 * only while the image is written, so that memory does not grow with the depots. */
static int build_read_depots(const struct build_args *a, struct build_input *in)
{
    int rc = cli_work_make(a->output, "build", &in->work);
    if (rc)
        return rc;
    struct esximg_err err = {0};
    if (esximg_depot_set_new(in->work, &in->depots, &err))
        return cli_fail(&err);
    for (size_t i = 0; i < a->depots.count; i++) {
        const char *path = a->depots.items[i];
        if (esximg_depot_set_add(in->depots, path, &err))
            return cli_fail(&err);
        const struct esximg_depot_spool *spool = in->depots->spools[i];
        cli_warn_all(path, &spool->warnings);
        cli_note_read(path, "%zu VIBs, %zu components", spool->vib_count,
                      spool->component_count);
    }
    return 0;
}

/* NAME or NAME:VERSION, split into a copy owned by `keep` (freed with the input). */
static int build_pick(const char *spec, struct cli_list *keep, struct esximg_depot_pick *out)
{
    char *name = strdup(spec);
    if (!name || cli_list_add(keep, name)) {
        free(name);
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    }
    char *colon = strchr(name, ':');
    if (colon)
        *colon = '\0';
    if (!*name || (colon && !colon[1]))
        return cli_error(CLI_EXIT_USAGE, "build: '%s' is not NAME or NAME:VERSION", spec);
    *out = (struct esximg_depot_pick){name, colon ? colon + 1 : NULL};
    return 0;
}

/* The image's name: the profile's, else as Image Builder names a custom image of an add-on
 * (<add-on name>_<version>) or of a base image alone (ESXi-<version>-custom). */
static int build_name(const struct build_args *a, const struct esximg_depot_resolution *r,
                      struct build_input *in)
{
    int n;
    if (a->profile)
        n = (in->profile_name = strdup(r->profile_name ? r->profile_name : a->profile)) ? 0
                                                                                       : -1;
    else if (r->addon)
        n = asprintf(&in->profile_name, "%s_%s", r->addon->name, r->addon->version);
    else
        n = asprintf(&in->profile_name, "ESXi-%s-custom", r->base_image->version);
    if (n < 0) {
        in->profile_name = NULL;
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    }
    return 0;
}

/* The selection, resolved by esximg_depot_resolve over the metadata the spool collected
 * (docs/build.md, "the selection"): no depot is read into memory for it. */
static int build_select(const struct build_args *a, struct build_input *in)
{
    struct esximg_depot_pick addon = {0};
    struct esximg_depot_pick *picks = calloc(a->components.count + 1, sizeof *picks);
    int rc = picks ? 0 : cli_error(CLI_EXIT_FAIL, "out of memory");
    if (!rc && a->addon)
        rc = build_pick(a->addon, &in->picks, &addon);
    for (size_t i = 0; !rc && i < a->components.count; i++)
        rc = build_pick(a->components.items[i], &in->picks, &picks[i]);
    const struct esximg_depot_selection sel = {
        .profile = a->profile, .base_image = a->base_image, .addon = a->addon ? &addon : NULL,
        .component_count = a->components.count, .components = picks};
    struct esximg_err err = {0};
    if (!rc && esximg_depot_resolve(in->depots->models, in->depots->count, &sel, &in->res,
                                    &err))
        rc = cli_error(CLI_EXIT_FAIL, "build: %s", err.msg);
    free(picks);
    if (rc)
        return rc;
    for (size_t i = 0; i < in->res->warnings.count; i++)
        cli_warn("build: %s", in->res->warnings.items[i].msg);
    if (esximg_depot_set_pick(in->depots, in->res, &in->vibs, &err))
        return cli_error(CLI_EXIT_FAIL, "build: %s", err.msg);
    in->n_vibs = in->res->vib_count;
    if (!in->n_vibs)
        return cli_error(CLI_EXIT_FAIL, "build: the selection holds no VIB");
    return build_name(a, in->res, in);
}

/* ---- the ISO and PXE layouts ---- */

struct build_plan {
    struct esximg_imgbuild_vib *vibs;
    struct esximg_content *contents;
    struct esximg_imgbuild_component *comps;
    size_t n_comps;
    struct esximg_imgbuild_component *reserved;
    struct esximg_imgbuild *b;
};

static void build_plan_free(struct build_plan *p)
{
    esximg_imgbuild_free(p->b);
    free(p->vibs);
    free(p->contents);
    free(p->comps);
    free(p->reserved);
}

/* Each payload read from the spooled VIB, at its member's offset, while the image is
 * written. */
static int build_contents(const struct build_input *in, struct build_plan *p)
{
    size_t total = 0;
    for (size_t i = 0; i < in->n_vibs; i++)
        total += in->vibs[i]->vib->desc->payload_count;
    p->vibs = calloc(in->n_vibs + 1, sizeof *p->vibs);
    p->contents = calloc(total + 1, sizeof *p->contents);
    if (!p->vibs || !p->contents)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < in->n_vibs; i++) {
        struct esximg_err err = {0};
        if (esximg_depot_set_imgbuild_vib(in->vibs[i], p->contents + at, &p->vibs[i], &err))
            return cli_error(CLI_EXIT_FAIL, "build: %s", err.msg);
        at += p->vibs[i].payload_count;
    }
    return 0;
}

/* The components of the resolution, whose bulletins go into the image database as the
 * depot holds them. */
static int build_components(const struct build_input *in, struct build_plan *p)
{
    struct esximg_err err = {0};
    if (esximg_depot_set_imgbuild_components(in->res, 0, &p->comps, &p->reserved, &err))
        return cli_fail(&err);
    p->n_comps = in->res->component_count;
    return 0;
}

/* A profile's own acceptance level; else NULL, for the plan to take the lowest of the VIBs
 * (as the resolver does). */
static const char *build_acceptance(const struct esximg_depot_resolution *r)
{
    return r->profile ? r->profile->profile->acceptance_level : NULL;
}

static int build_plan(const struct build_args *a, const struct build_input *in,
                      const void *ks, size_t ks_len, struct build_plan *p)
{
    struct esximg_imgbuild_release base, addon;
    int rc = build_contents(in, p);
    if (!rc)
        rc = build_components(in, p);
    if (rc)
        return rc;
    const struct esximg_imgbuild_opts o = {
        .profile_name = in->profile_name, .creator = in->res->profile_vendor,
        .description = in->res->profile_description,
        .acceptance = build_acceptance(in->res),
        .kernelopts = a->kernelopts.items,
        .kernelopt_count = a->kernelopts.count, .title = a->title, .ks = ks, .ks_len = ks_len,
        .mtime = a->mtime,
        .base_image = esximg_depot_set_imgbuild_release(in->res->base_image, &base),
        .addon = esximg_depot_set_imgbuild_release(in->res->addon, &addon),
        .reserved = p->reserved, .reserved_count = in->res->reserved_count,
    };
    struct esximg_err err = {0};
    if (esximg_imgbuild_plan(p->vibs, in->n_vibs, p->comps, p->n_comps, &o, &p->b, &err))
        return cli_fail(&err);
    return 0;
}

static void build_progress(uint64_t done, uint64_t total, void *arg)
{
    struct cli_progress *bar = arg;
    if (!bar->label)
        cli_progress_start(bar, "writing", total);
    cli_progress_update(bar, done);
}


/* --add and --ks: the built image edited as `esximg edit` does, with its checks. */
static int build_edit(const struct build_args *a, const char *built,
                      const struct esximg_hybrid *hybrid)
{
    struct esximg_err err = {0};
    struct esximg_image *img = NULL;
    struct esximg_edit_plan *plan = NULL;
    struct esximg_edit_opts o = {.adds = a->adds.items, .add_count = a->adds.count,
                                 .ks_path = a->ks, .has_mtime = true, .mtime = a->mtime};
    struct cli_progress bar = {0};
    struct esximg_edit_wopts wo = {.progress = build_progress, .progress_arg = &bar,
                                   .hybrid = hybrid};
    int rc = CLI_EXIT_OK;
    if (esximg_image_open(built, NULL, &img, &err) || esximg_edit_plan(img, &o, &plan, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    for (size_t i = 0; i < plan->warnings.count; i++)
        cli_warn("%s", plan->warnings.items[i].msg);
    for (size_t i = 0; i < plan->problems.count; i++)
        cli_error(CLI_EXIT_FAIL, "%s", plan->problems.items[i].msg);
    if (plan->problems.count || plan->problems.dropped) {
        rc = cli_error(CLI_EXIT_FAIL, "build: the added packages are refused, nothing written");
        goto out;
    }
    if (cli_verbose)
        for (size_t i = 0; i < plan->line_count; i++)
            cli_note("%s", plan->lines[i]);
    if (esximg_edit_write(plan, a->output, &wo, &err))
        rc = cli_fail(&err);
    cli_progress_end(&bar);
out:
    esximg_edit_plan_free(plan);
    esximg_image_free(img);
    return rc;
}

static int build_write_iso(const struct build_args *a, const struct build_input *in,
                           const struct build_plan *p)
{
    struct cli_progress bar = {0};
    struct esximg_imgbuild_wopts wo = {.mtime = a->mtime, .progress = build_progress,
                                       .progress_arg = &bar};
    struct esximg_err err = {0};
    bool second_step = a->adds.count || a->ks || a->hybrid;
    char *temp = NULL;
    if (second_step && asprintf(&temp, "%s/built.iso", in->work) < 0)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    int rc = esximg_imgbuild_write(p->b, &wo, temp ? temp : a->output, &err);
    cli_progress_end(&bar);
    if (rc) {
        rc = cli_fail(&err);
    } else if (temp) {
        struct esximg_hybrid *hybrid = NULL;
        struct esximg_hybrid_opts ho = {0};
        if (a->hybrid && esximg_hybrid_prepare(temp, &ho, &hybrid, &err))
            rc = cli_fail(&err);
        else if (a->adds.count || a->ks)
            rc = build_edit(a, temp, hybrid);
        else if (esximg_hybrid_write(temp, &ho, a->output, NULL, NULL, NULL, &err))
            rc = cli_fail(&err);
        esximg_hybrid_free(hybrid);
    }
    if (temp && unlink(temp) != 0 && errno != ENOENT)
        cli_warn("%s: cannot remove: %s", temp, strerror(errno));
    free(temp);
    return rc;
}

static int build_write_pxe(const struct build_args *a, const struct build_plan *p)
{
    const struct esximg_imgbuild_wopts wo = {.mtime = a->mtime, .pxe_prefix = a->pxe_prefix};
    struct esximg_err err = {0};
    if (esximg_imgbuild_write_pxe(p->b, &wo, a->output, &err))
        return cli_fail(&err);
    return 0;
}

/* What a bundle of the result carries besides its VIBs, so that it is a depot of the image
 * (`build` of the same selection takes the same VIBs from it): the components of the
 * selection, an image profile of the image's name listing its VIBs, and the base image and
 * add-on chosen. */
static int build_bundle_profile(const struct build_input *in, struct esximg_depot_meta *m,
                                struct esximg_err *err)
{
    const struct esximg_depot_resolution *r = in->res;
    const char *acceptance = build_acceptance(r);
    struct esximg_profile *p = NULL;
    int rc = esximg_profile_new(in->profile_name, &p, err);
    if (!rc && r->profile_vendor)
        rc = esximg_profile_set_creator(p, r->profile_vendor, err);
    if (!rc && r->profile_description)
        rc = esximg_profile_set_description(p, r->profile_description, err);
    if (!rc)
        rc = esximg_profile_set_acceptance(p, acceptance ? acceptance
                                           : esximg_acceptance_name(r->acceptance), err);
    for (size_t i = 0; !rc && i < r->vib_count; i++)
        rc = esximg_profile_add_vib(p, r->vibs[i]->vib_id, NULL, 0, err);
    if (!rc)
        rc = esximg_depot_meta_add_profile(m, p, NULL, err);
    esximg_profile_free(p);
    return rc;
}

static int build_bundle_meta(const struct build_input *in, struct esximg_depot_meta *m,
                             struct esximg_err *err)
{
    const struct esximg_depot_resolution *r = in->res;
    int rc = 0;
    for (size_t i = 0; !rc && i < r->component_count; i++) {
        const struct esximg_depot_component *k = r->components[i].component;
        rc = esximg_depot_meta_add_component(m, k->id, k->xml, k->xml_len, err);
    }
    if (!rc)
        rc = build_bundle_profile(in, m, err);
    const struct esximg_depot_release *units[] = { r->base_image, r->addon };
    static const char *const folders[] = { "baseimages", "addons" };
    for (size_t i = 0; !rc && i < 2; i++)
        if (units[i])
            rc = esximg_depot_meta_add_release(m, folders[i], units[i]->release_id,
                                               units[i]->json, units[i]->json_len, err);
    return rc;
}

static int build_write_bundle(const struct build_args *a, const struct build_input *in)
{
    struct esximg_depot_input *vibs = calloc(in->n_vibs + 1, sizeof *vibs);
    if (!vibs)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    /* the spooled VIBs are mapped, but read and copied from their files: a .vib's pages
     * never come into memory whole */
    for (size_t i = 0; i < in->n_vibs; i++)
        vibs[i] = (struct esximg_depot_input){.data = in->vibs[i]->bytes,
                                              .len = in->vibs[i]->len,
                                              .path = in->vibs[i]->file,
                                              .offset = in->vibs[i]->offset};
    struct cli_progress bar = {.label = "compressing"};
    struct esximg_depot_meta meta = {0};
    struct esximg_err err = {0};
    int rc = build_bundle_meta(in, &meta, &err);
    struct esximg_depot_wopts o = {.mtime = a->mtime, .progress = cli_progress_cb,
                                   .progress_arg = &bar, .note = cli_note_cb};
    esximg_depot_meta_apply(&meta, &o);
    if (!rc)
        rc = esximg_depot_write_file(vibs, in->n_vibs, &o, a->output, 0644, &err);
    cli_progress_end(&bar);
    free(vibs);
    esximg_depot_meta_free(&meta);
    return rc ? cli_fail(&err) : 0;
}

static const char *const build_format_names[] = {"iso", "bundle", "pxe"};

/* The components of the resolution and the release units it came from, for --json. */
static void build_report_selection(struct json *j, const struct esximg_depot_resolution *r)
{
    json_key(j, "components");
    json_array_begin(j);
    for (size_t i = 0; i < r->component_count; i++) {
        const struct esximg_depot_component *c = r->components[i].component;
        json_object_begin(j);
        json_kv_string(j, "id", c->id);
        json_kv_string(j, "name", c->name);
        json_kv_string(j, "version", c->version);
        json_kv_string(j, "origin", r->components[i].origin);
        json_object_end(j);
    }
    json_array_end(j);
    json_kv_string(j, "base_image", r->base_image ? r->base_image->release_id : NULL);
    json_kv_string(j, "addon", r->addon ? r->addon->release_id : NULL);
}

static void build_report(const struct build_args *a, const struct build_input *in,
                         const struct build_plan *p)
{
    if (a->json) {
        struct json j;
        json_init(&j, stdout);
        json_object_begin(&j);
        json_kv_string(&j, "output", a->output);
        json_kv_string(&j, "format", build_format_names[a->format]);
        json_kv_string(&j, "profile", in->profile_name);
        json_kv_string(&j, "version", p->b ? p->b->version : NULL);
        json_key(&j, "vibs");
        json_array_begin(&j);
        for (size_t i = 0; i < in->n_vibs; i++)
            json_string(&j, in->vibs[i]->vib_id);
        json_array_end(&j);
        build_report_selection(&j, in->res);
        json_kv_uint(&j, "added_packages", a->adds.count);
        if (p->b) {
            json_kv_strings(&j, "modules", p->b->modules, p->b->module_count);
            json_kv_string(&j, "kernelopt", p->b->kernelopt);
        }
        json_object_end(&j);
        json_end(&j);
        return;
    }
    cli_note_wrote(a->output);
    if (!cli_quiet)
        printf("wrote %s: %s of %s, %zu VIBs\n", a->output, build_format_names[a->format],
               in->profile_name, in->n_vibs);
}

int cmd_build(int argc, char **argv)
{
    struct build_args a;
    struct build_input in = {0};
    struct build_plan p = {0};
    uint8_t *ks = NULL;
    size_t ks_len = 0;
    int rc = build_parse(argc, argv, &a);
    if (rc >= 0)
        goto out;
    if (a.format != BUILD_PXE && (rc = cli_check_output(a.output, a.format == BUILD_ISO ?
                                                        "custom.iso" : "bundle.zip")))
        goto out;
    if (a.format == BUILD_PXE && access(a.output, F_OK) == 0) {
        rc = cli_error(CLI_EXIT_FAIL, "%s: it exists already: a PXE folder is made anew",
                       a.output);
        goto out;
    }
    if ((rc = build_read_depots(&a, &in)) || (rc = build_select(&a, &in)))
        goto out;
    if (a.format == BUILD_BUNDLE) {
        if (!(rc = build_write_bundle(&a, &in)))
            build_report(&a, &in, &p);
        goto out;
    }
    /* the ISO's kickstart goes through the edit step, which checks it; PXE has none to check
       against, so it is put in as it is */
    if (a.ks && a.format == BUILD_PXE && (rc = cli_read_input(a.ks, &ks, &ks_len, NULL)))
        goto out;
    if ((rc = build_plan(&a, &in, ks, ks_len, &p)))
        goto out;
    if (!p.b->bios_boot)
        cli_warn("no VIB has a boot_iso_bios payload (isolinux.bin): the image has no El "
                 "Torito entry and boots neither from a CD with BIOS nor with UEFI");
    rc = a.format == BUILD_PXE ? build_write_pxe(&a, &p) : build_write_iso(&a, &in, &p);
    if (!rc)
        build_report(&a, &in, &p);
out:
    free(ks);
    build_plan_free(&p);
    build_input_free(&in);
    build_args_free(&a);
    return rc;
}
