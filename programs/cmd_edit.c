/* cmd_edit.c: `esximg edit IN.iso -o OUT.iso [options]`, every edit of an installer image in
 * one pass and one write (lib/imgedit.c does the work; docs/edit.md says what it does). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"

static const char edit_usage[] =
    "usage: esximg edit IN.iso -o OUT.iso [options]\n"
    "\n"
    "Adds, replaces and removes VIBs and changes boot options of an ESXi installer image,\n"
    "all in one pass, and writes a new image that boots. VMware's modules and the boot\n"
    "images are copied byte for byte; the input is never modified.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE      the image to write (not needed with --dry-run)\n"
    "  -a, --add PKG          add a .vib, an offline bundle or component .zip, an OEM driver\n"
    "                         .tgz, or a folder of them (repeatable); a VIB whose name is in\n"
    "                         the image replaces it\n"
    "  -s, --select NAME      take only this VIB (name or vib-id) from the bundles (repeatable)\n"
    "  -r, --remove NAME      remove a VIB (name or vib-id), its modules and BOOT.CFG entries\n"
    "                         (repeatable)\n"
    "      --no-deps          do not check depends, conflicts and replaces\n"
    "      --acceptance LEVEL set the profile's acceptance level (certified, accepted,\n"
    "                         partner, community); refused when a VIB is below it\n"
    "      --strict           refuse a VIB below the profile's acceptance level instead of\n"
    "                         lowering the level\n"
    "  -k, --kernelopt OPT    KEY=VALUE adds or replaces a kernel option, -KEY removes one\n"
    "                         (repeatable)\n"
    "      --ks FILE          put FILE on the image as /KS.CFG and boot with ks=cdrom:/KS.CFG;\n"
    "                         FILE is checked as esximg ks --check does, against the edited\n"
    "                         image, and refused when it has problems\n"
    "      --force-ks         put the kickstart on the image despite its problems\n"
    "      --title TEXT       the boot menu title (BOOT.CFG title=)\n"
    "      --profile-name NAME  rename the image profile\n"
    "      --base DEPOT       move the image to the VMware VIBs of this patch or update\n"
    "                         depot (repeatable): newer ones replace the image's, new ones\n"
    "                         are added, VIBs the depot lacks (added drivers) are kept and\n"
    "                         checked against the new base; only with --profile-name,\n"
    "                         --no-deps, --allow-downgrade, -n, -q, -v\n"
    "      --allow-downgrade  with --base: take a depot VIB older than the image's\n"
    "      --hybrid           also make the image boot when written raw to a USB stick\n"
    "                         (isohybrid MBR and GPT, as `esximg usb` writes them)\n"
    "      --mbr-template FILE  with --hybrid: the MBR code of this isohdpfx.bin, not\n"
    "                         the built-in one (see esximg usb)\n"
    "  -n, --dry-run          print what would change and write nothing\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -v, --verbose          also say what is read and written, and print the plan\n"
    "  -h, --help             print this help\n"
    "\n"
    "Dates: SOURCE_DATE_EPOCH when set, else the latest date found in the inputs (the\n"
    "profile's modification time, the added VIBs' release dates), so the same inputs give\n"
    "the same image. Exits 1, writing nothing, when a package cannot be used, a dependency\n"
    "is not met or the acceptance level is refused.\n";

enum {
    EDIT_OPT_NO_DEPS = 256,
    EDIT_OPT_ACCEPTANCE,
    EDIT_OPT_STRICT,
    EDIT_OPT_KS,
    EDIT_OPT_FORCE_KS,
    EDIT_OPT_TITLE,
    EDIT_OPT_PROFILE_NAME,
    EDIT_OPT_HYBRID,
    EDIT_OPT_MBR_TEMPLATE,
    EDIT_OPT_BASE,
    EDIT_OPT_ALLOW_DOWNGRADE,
};

static const struct option edit_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"add", required_argument, NULL, 'a'},
    {"select", required_argument, NULL, 's'},
    {"remove", required_argument, NULL, 'r'},
    {"no-deps", no_argument, NULL, EDIT_OPT_NO_DEPS},
    {"acceptance", required_argument, NULL, EDIT_OPT_ACCEPTANCE},
    {"strict", no_argument, NULL, EDIT_OPT_STRICT},
    {"kernelopt", required_argument, NULL, 'k'},
    {"ks", required_argument, NULL, EDIT_OPT_KS},
    {"force-ks", no_argument, NULL, EDIT_OPT_FORCE_KS},
    {"title", required_argument, NULL, EDIT_OPT_TITLE},
    {"profile-name", required_argument, NULL, EDIT_OPT_PROFILE_NAME},
    {"hybrid", no_argument, NULL, EDIT_OPT_HYBRID},
    {"mbr-template", required_argument, NULL, EDIT_OPT_MBR_TEMPLATE},
    {"base", required_argument, NULL, EDIT_OPT_BASE},
    {"allow-downgrade", no_argument, NULL, EDIT_OPT_ALLOW_DOWNGRADE},
    {"dry-run", no_argument, NULL, 'n'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct edit_args {
    const char *input, *output;
    struct cli_list adds, selects, removes, kernelopts, bases;
    bool dry_run, allow_downgrade;
    struct esximg_edit_opts o;
    bool hybrid;
    struct esximg_hybrid_opts hybrid_opts;
};

static void edit_args_free(struct edit_args *a)
{
    cli_list_free(&a->adds);
    cli_list_free(&a->selects);
    cli_list_free(&a->removes);
    cli_list_free(&a->kernelopts);
    cli_list_free(&a->bases);
}

/* --base rebuilds the whole image from the depot (lib/imgrebase.c), where the other edits
 * change an image in place (lib/imgedit.c): rather than chain the two, the edits that would
 * need the second pass are refused with --base (run a second `esximg edit` for them). */
static int edit_check_base_args(const struct edit_args *a)
{
    if (a->allow_downgrade && !a->bases.count)
        return cli_error(CLI_EXIT_USAGE, "edit: --allow-downgrade needs --base DEPOT");
    if (!a->bases.count)
        return -1;
    if (a->adds.count || a->removes.count || a->kernelopts.count || a->o.ks_path ||
        a->o.title || a->o.acceptance || a->o.strict || a->hybrid)
        return cli_error(CLI_EXIT_USAGE, "edit: --base takes only --profile-name, --no-deps, "
                         "--allow-downgrade, --dry-run, -q and -v; make other changes with a "
                         "second 'esximg edit' of the rebased image");
    for (size_t i = 0; i < a->bases.count; i++)
        if (!strcmp(a->bases.items[i], "-"))
            return cli_error(CLI_EXIT_USAGE, "edit: a depot is read as a file, not from "
                             "standard input");
    return -1;
}

/* Returns -1 when the command should go on, else the exit code. */
static int edit_parse(int argc, char **argv, struct edit_args *a)
{
    memset(a, 0, sizeof *a);
    optind = 1;
    int rc = 0;
    for (int c; !rc && (c = cli_getopt(argc, argv, "o:a:s:r:k:nqvh", edit_opts)) != -1;) {
        switch (c) {
        case 'h': return cli_usage(stdout, edit_usage, CLI_EXIT_OK);
        case 'o': a->output = optarg; break;
        case 'a': rc = cli_list_add(&a->adds, optarg); break;
        case 's': rc = cli_list_add(&a->selects, optarg); break;
        case 'r': rc = cli_list_add(&a->removes, optarg); break;
        case 'k': rc = cli_list_add(&a->kernelopts, optarg); break;
        case EDIT_OPT_NO_DEPS: a->o.no_deps = true; break;
        case EDIT_OPT_ACCEPTANCE: a->o.acceptance = optarg; break;
        case EDIT_OPT_STRICT: a->o.strict = true; break;
        case EDIT_OPT_KS: a->o.ks_path = optarg; break;
        case EDIT_OPT_FORCE_KS: a->o.force_ks = true; break;
        case EDIT_OPT_TITLE: a->o.title = optarg; break;
        case EDIT_OPT_PROFILE_NAME: a->o.profile_name = optarg; break;
        case EDIT_OPT_HYBRID: a->hybrid = true; break;
        case EDIT_OPT_MBR_TEMPLATE: a->hybrid_opts.mbr_template = optarg; break;
        case EDIT_OPT_BASE: rc = cli_list_add(&a->bases, optarg); break;
        case EDIT_OPT_ALLOW_DOWNGRADE: a->allow_downgrade = true; break;
        case 'n': a->dry_run = true; break;
        default: return cli_usage(stderr, edit_usage, CLI_EXIT_USAGE);
        }
    }
    if (rc)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    if (argc - optind != 1)
        return cli_usage(stderr, edit_usage, CLI_EXIT_USAGE);
    a->input = argv[optind];
    if (!a->output && !a->dry_run)
        return cli_error(CLI_EXIT_USAGE, "edit: -o/--output is required (or --dry-run)");
    if (a->output && !strcmp(a->output, "-"))
        return cli_error(CLI_EXIT_USAGE, "edit: the image cannot be written to stdout");
    if (a->hybrid_opts.mbr_template && !a->hybrid)
        return cli_error(CLI_EXIT_USAGE, "edit: --mbr-template needs --hybrid");
    if (a->o.force_ks && !a->o.ks_path)
        return cli_error(CLI_EXIT_USAGE, "edit: --force-ks needs --ks FILE");
    if (a->selects.count && !a->adds.count)
        return cli_error(CLI_EXIT_USAGE, "edit: --select needs a bundle given with --add");
    if ((rc = edit_check_base_args(a)) >= 0)
        return rc;
    if (a->o.acceptance && !esximg_acceptance_parse(a->o.acceptance))
        return cli_error(CLI_EXIT_USAGE, "edit: acceptance level '%s' is not certified, "
                         "accepted, partner or community", a->o.acceptance);
    a->o.adds = a->adds.items;
    a->o.add_count = a->adds.count;
    a->o.selects = a->selects.items;
    a->o.select_count = a->selects.count;
    a->o.removes = a->removes.items;
    a->o.remove_count = a->removes.count;
    a->o.kernelopts = a->kernelopts.items;
    a->o.kernelopt_count = a->kernelopts.count;
    int64_t t = cli_source_date(-1);
    a->o.has_mtime = t >= 0;
    a->o.mtime = t >= 0 ? t : 0;
    return -1;
}

static void edit_progress(uint64_t done, uint64_t total, void *arg)
{
    struct cli_progress *p = arg;
    if (!p->label)
        cli_progress_start(p, "writing", total);
    cli_progress_update(p, done);
}

/* Each warning once, in order. */
static void edit_print_warnings(const struct esximg_warnings *w)
{
    for (size_t i = 0; i < w->count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(w->items[j].msg, w->items[i].msg);
        if (!seen)
            cli_warn("%s", w->items[i].msg);
    }
    if (w->dropped)
        cli_warn("%zu more warnings not shown", w->dropped);
}

/* A plan that failed; a VIB to remove that the image lacks gets the way to list them. */
static int edit_fail(const struct edit_args *a, const struct esximg_image *img,
                     const struct esximg_err *err)
{
    for (size_t i = 0; err->code == ESXIMG_ENOTFOUND && i < a->removes.count; i++)
        if (!esximg_image_find_vib(img, a->removes.items[i]))
            return cli_error(CLI_EXIT_FAIL, "%s: %s: 'esximg ls %s' lists its VIBs", err->file,
                             err->msg, a->input);
    return cli_fail(err);
}

static void edit_print_plan(FILE *to, const struct esximg_edit_plan *p)
{
    for (size_t i = 0; i < p->line_count; i++)
        fprintf(to, "%s\n", p->lines[i]);
}

/* The work folder --base spools the depots to: beside the output, or for a dry run without
 * one, in $TMPDIR. */
static int edit_rebase_work(const struct edit_args *a, char **work)
{
    if (a->output)
        return cli_work_make(a->output, "rebase", work);
    const char *tmp = getenv("TMPDIR");
    char *beside = NULL;
    if (asprintf(&beside, "%s/esximg", tmp && *tmp ? tmp : "/tmp") < 0)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    int rc = cli_work_make(beside, "rebase", work);
    free(beside);
    return rc;
}

/* The planned rebase printed, and written unless it has problems or is a dry run. */
static int edit_rebase_finish(const struct edit_args *a, const struct esximg_rebase_plan *plan)
{
    edit_print_warnings(&plan->warnings);
    if (a->dry_run || cli_verbose)
        for (size_t i = 0; i < plan->line_count; i++)
            fprintf(a->dry_run ? stdout : stderr, "%s\n", plan->lines[i]);
    for (size_t i = 0; i < plan->problems.count; i++)
        cli_error(CLI_EXIT_FAIL, "%s: %s", a->input, plan->problems.items[i].msg);
    if (plan->problems.count || plan->problems.dropped)
        return cli_error(CLI_EXIT_FAIL, "%s: the move to the new base is refused, nothing %s",
                         a->input, a->dry_run ? "would be written" : "written");
    if (a->dry_run)
        return CLI_EXIT_OK;
    struct esximg_err err = {0};
    struct cli_progress progress = {0};
    int rc = esximg_rebase_write(plan, a->output, edit_progress, &progress, &err);
    cli_progress_end(&progress);
    if (rc)
        return cli_fail(&err);
    cli_note_wrote(a->output);
    if (!cli_quiet)
        printf("wrote %s: esx-base %s -> %s, %zu VIBs updated, %zu added, %zu kept\n",
               a->output, plan->old_version ? plan->old_version : "none",
               plan->new_version ? plan->new_version : "none", plan->updated, plan->added,
               plan->kept);
    return CLI_EXIT_OK;
}

/* --base: the rebased image (lib/imgrebase.c), its depots spooled to a work folder that is
 * removed whatever happens. */
static int edit_rebase(const struct edit_args *a, const struct esximg_image *img)
{
    char *work = NULL;
    int rc = edit_rebase_work(a, &work);
    if (rc)
        return rc;
    int64_t t = cli_source_date(315532800);     /* 1980-01-01, as esximg build dates */
    const struct esximg_rebase_opts ro = {
        .depots = a->bases.items, .depot_count = a->bases.count, .work_dir = work,
        .allow_downgrade = a->allow_downgrade, .no_deps = a->o.no_deps,
        .profile_name = a->o.profile_name, .mtime = t};
    struct esximg_err err = {0};
    struct esximg_rebase_plan *plan = NULL;
    if (esximg_rebase_plan(img, &ro, &plan, &err))
        rc = cli_fail(&err);
    else
        rc = edit_rebase_finish(a, plan);
    esximg_rebase_plan_free(plan);
    cli_work_remove(work);
    return rc;
}

int cmd_edit(int argc, char **argv)
{
    struct edit_args a;
    int rc = edit_parse(argc, argv, &a);
    if (rc >= 0) {
        edit_args_free(&a);
        return rc;
    }
    struct cli_progress progress = {0};
    struct esximg_edit_wopts wo = {.progress = edit_progress, .progress_arg = &progress};
    struct esximg_err err = {0};
    struct esximg_image *img = NULL;
    struct esximg_edit_plan *plan = NULL;
    struct esximg_hybrid *hybrid = NULL;
    if (a.output && (rc = cli_check_output(a.output, "custom.iso")))
        goto out;
    if (a.hybrid && esximg_hybrid_prepare(a.input, &a.hybrid_opts, &hybrid, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    wo.hybrid = hybrid;
    if (hybrid) {
        struct esximg_hybrid_info hinfo;
        esximg_hybrid_describe(hybrid, &hinfo);
        cli_note("USB boot: %s, MBR code %s", hinfo.image_banner[0] ? hinfo.image_banner :
                 "ISOLINUX", hinfo.builtin_mbr ? "built in" : hinfo.template_path);
    }
    if (esximg_image_open(a.input, NULL, &img, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    cli_note_image(a.input, img);
    if ((rc = cli_need_esxi(img, a.input)))
        goto out;
    if (a.bases.count) {
        rc = edit_rebase(&a, img);
        goto out;
    }
    if (esximg_edit_plan(img, &a.o, &plan, &err)) {
        esximg_err_file(&err, a.input);
        rc = edit_fail(&a, img, &err);
        goto out;
    }
    for (size_t i = 0; i < img->problems.count; i++)
        cli_warn("%s: the input image: %s", a.input, img->problems.items[i].msg);
    edit_print_warnings(&plan->warnings);
    if (a.dry_run || cli_verbose)
        edit_print_plan(a.dry_run ? stdout : stderr, plan);
    for (size_t i = 0; i < plan->problems.count; i++)
        cli_error(CLI_EXIT_FAIL, "%s: %s", a.input, plan->problems.items[i].msg);
    if (plan->problems.count || plan->problems.dropped) {
        rc = cli_error(CLI_EXIT_FAIL, "%s: the edit is refused, nothing %s", a.input,
                       a.dry_run ? "would be written" : "written");
        goto out;
    }
    if (a.dry_run) {
        rc = CLI_EXIT_OK;
        goto out;
    }
    rc = esximg_edit_write(plan, a.output, &wo, &err);
    cli_progress_end(&progress);
    if (rc) {
        rc = cli_fail(&err);
        goto out;
    }
    cli_note_wrote(a.output);
    if (!cli_quiet)
        printf("wrote %s: %zu VIB%s added, %zu replaced, %zu removed\n", a.output,
               plan->vibs_added, plan->vibs_added == 1 ? "" : "s", plan->vibs_replaced,
               plan->vibs_removed);
    rc = CLI_EXIT_OK;
out:
    esximg_hybrid_free(hybrid);
    esximg_edit_plan_free(plan);
    esximg_image_free(img);
    edit_args_free(&a);
    return rc;
}
