/* cmd_export.c: `esximg export ISO -o OUT.zip`, an image's VIBs as an offline bundle.
 *
 * Each VIB is rebuilt from the image (descriptor and signature from the image database,
 * payloads from the ISO modules) and verified before it goes in; a VIB whose payloads are not
 * all on the image is left out with a warning naming it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"

static const char export_usage[] =
    "usage: esximg export ISO -o OUT.zip [--vendor-name NAME] [--vendor-code CODE]\n"
    "                     [--platform VER] [-q] [-v]\n"
    "\n"
    "Writes the VIBs of an installer image as an offline bundle (VMware's layout: index.xml,\n"
    "vendor-index.xml, metadata.zip, vib20/<name>/<vib-id>.vib) that esxcli and vLCM take.\n"
    "Each VIB is rebuilt from the image: its descriptor and signature as the image database\n"
    "holds them, its payloads from the ISO modules; every rebuilt VIB is verified (sizes and\n"
    "checksums). A VIB whose payloads are not all on the image is left out with a warning.\n"
    "Zip times come from SOURCE_DATE_EPOCH (else 1980-01-01): the same image gives the\n"
    "same bytes.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT.zip     the bundle to write (atomically)\n"
    "      --vendor-name NAME   index.xml vendor name (default: the first VIB's vendor)\n"
    "      --vendor-code CODE   index.xml vendor code (default: the first VIB's vendor)\n"
    "      --platform VER       vendor-index.xml and bulletin platform version (default:\n"
    "                           the image's update line, e.g. 7.0.* for 7.0.3)\n"
    "  -q, --quiet              print nothing but errors (no progress, warnings, summary)\n"
    "  -v, --verbose            also say what is read and written: each VIB rebuilt and\n"
    "                           each bundle member\n"
    "  -h, --help               print this help\n";

enum { EXPORT_OPT_VENDOR_NAME = 256, EXPORT_OPT_VENDOR_CODE, EXPORT_OPT_PLATFORM };

static const struct option export_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"vendor-name", required_argument, NULL, EXPORT_OPT_VENDOR_NAME},
    {"vendor-code", required_argument, NULL, EXPORT_OPT_VENDOR_CODE},
    {"platform", required_argument, NULL, EXPORT_OPT_PLATFORM},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int export_run(const char *iso, const char *output, struct esximg_export_opts *o)
{
    struct esximg_err err = {0};
    struct esximg_image *img = NULL;
    struct esximg_export_result *r = NULL;
    char *work = NULL;
    struct cli_progress bar = {.label = "exporting"};
    o->progress = cli_progress_cb;
    o->progress_arg = &bar;
    o->note = cli_note_cb;
    int code = cli_check_output(output, "bundle.zip");
    if (code)
        return code;
    esximg_err_file(&err, iso);
    if (esximg_image_open(iso, NULL, &img, &err)) {
        code = cli_fail(&err);
        goto out;
    }
    cli_note_image(iso, img);
    if ((code = cli_need_esxi(img, iso)))
        goto out;
    /* each rebuilt VIB waits in a file of the work folder, the bundle goes to its file */
    if ((code = cli_work_make(output, "export", &work)))
        goto out;
    code = esximg_image_export_file(img, o, output, work, &r, &err);
    cli_progress_end(&bar);
    if (code) {
        code = cli_fail(&err);
        goto out;
    }
    cli_warn_all(iso, &r->warnings);
    cli_note_wrote(output);
    if (!cli_quiet)
        printf("wrote %s: %zu VIBs, %zu left out\n", output, r->vib_count, r->skipped_count);
out:
    cli_work_remove(work);
    esximg_export_result_free(r);
    esximg_image_free(img);
    return code;
}

int cmd_export(int argc, char **argv)
{
    struct esximg_export_opts o = {0};
    const char *output = NULL;
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "o:qvh", export_opts)) != -1;) {
        switch (c) {
        case 'o': output = optarg; break;
        case EXPORT_OPT_VENDOR_NAME: o.vendor_name = optarg; break;
        case EXPORT_OPT_VENDOR_CODE: o.vendor_code = optarg; break;
        case EXPORT_OPT_PLATFORM: o.platform_version = optarg; break;
        case 'h': return cli_usage(stdout, export_usage, CLI_EXIT_OK);
        default: return cli_usage(stderr, export_usage, CLI_EXIT_USAGE);
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "esximg: export: give one ISO (the image to export)\n");
        return cli_usage(stderr, export_usage, CLI_EXIT_USAGE);
    }
    if (!output || !strcmp(output, "-")) {
        fprintf(stderr, "esximg: export: -o OUT.zip is required (a file)\n");
        return cli_usage(stderr, export_usage, CLI_EXIT_USAGE);
    }
    o.mtime = cli_source_date(315532800);   /* 1980-01-01, the first DOS date */
    return export_run(argv[optind], output, &o);
}
