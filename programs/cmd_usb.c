/* cmd_usb.c: `esximg usb IN.iso -o OUT.img`, a copy of an installer image that also boots
 * when written raw to a USB stick (lib/isohybrid.c does the work; docs/usb.md says how). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"

static const char usb_usage[] =
    "usage: esximg usb IN.iso -o OUT.img [--mbr-template FILE] [--no-gpt] [-q] [-v]\n"
    "\n"
    "Writes a copy of an installer image that boots from a CD and, written raw to a USB\n"
    "stick (dd), from a disk under BIOS and UEFI: an isohybrid MBR in the system area, a\n"
    "partition over the EFI boot image and a GPT, padded to whole MiB. The ISO itself is\n"
    "copied byte for byte; the input is never modified.\n"
    "\n"
    "The MBR code is esximg's own: it loads ISOLINUX.BIN and enters it by the isohybrid\n"
    "hand-off of syslinux 3.81 and later, so any ISOLINUX.BIN of 3.81 or later with the\n"
    "hybrid signature boots (ESXi's is 3.86); no syslinux package is needed.\n"
    "--mbr-template uses syslinux's isohdpfx.bin (3.81 or later) instead.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        the image to write (atomically)\n"
    "      --mbr-template FILE  the MBR code of this isohdpfx.bin, not the built-in one\n"
    "      --no-gpt             write the MBR only, no GPT\n"
    "  -q, --quiet              print nothing but errors\n"
    "  -v, --verbose            also print the partition layout\n"
    "  -h, --help               print this help\n"
    "\n"
    "Exits 0 when written, 1 when the image cannot be made hybrid (no ISOLINUX.BIN with the\n"
    "hybrid signature, or one older than 3.81) or cannot be written, 2 on a wrong command\n"
    "line. The same input gives the same bytes.\n";

enum { USB_OPT_MBR_TEMPLATE = 256, USB_OPT_NO_GPT };

static const struct option usb_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"mbr-template", required_argument, NULL, USB_OPT_MBR_TEMPLATE},
    {"no-gpt", no_argument, NULL, USB_OPT_NO_GPT},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usb_progress(uint64_t done, uint64_t total, void *arg)
{
    struct cli_progress *p = arg;
    if (!p->label)
        cli_progress_start(p, "copying", total);
    cli_progress_update(p, done);
}

static void usb_print(const char *output, const struct esximg_hybrid_info *in)
{
    if (!cli_quiet)
        printf("wrote %s: %s, %s%s, %s%s\n", output,
               in->image_banner[0] ? in->image_banner : "ISOLINUX",
               in->builtin_mbr ? "built-in MBR" : "MBR template ",
               in->builtin_mbr ? "" : in->template_path,
               in->efi ? "BIOS and UEFI" : "BIOS only (no UEFI boot image)",
               in->gpt ? ", GPT" : "");
    if (in->builtin_mbr)
        cli_note("MBR code: esximg's own (isohybrid hand-off of syslinux 3.81 and later)");
    else
        cli_note("MBR code: the first 432 bytes of %s%s%s%s", in->template_path,
                 in->template_banner[0] ? " (beside " : "", in->template_banner,
                 in->template_banner[0] ? ")" : "");
    cli_note("disk signature 0x%08" PRIx32 ", %" PRIu64 " bytes (%" PRIu64 " of padding)",
             in->disk_id, in->disk_bytes, in->disk_bytes - in->iso_bytes);
    cli_note("partition 1: sectors 0+%" PRIu32 ", bootable, ISOLINUX.BIN at sector %" PRIu32,
             in->part1_sectors, in->isolinux_lba * 4);
    if (in->efi)
        cli_note("partition 2: sectors %" PRIu32 "+%" PRIu32 ", type 0xef (EFI boot image)",
                 in->efi_start, in->efi_sectors);
}

int cmd_usb(int argc, char **argv)
{
    struct esximg_hybrid_opts o = {0};
    const char *output = NULL;
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "o:qvh", usb_opts)) != -1;) {
        switch (c) {
        case 'h': return cli_usage(stdout, usb_usage, CLI_EXIT_OK);
        case 'o': output = optarg; break;
        case USB_OPT_MBR_TEMPLATE: o.mbr_template = optarg; break;
        case USB_OPT_NO_GPT: o.no_gpt = true; break;
        default: return cli_usage(stderr, usb_usage, CLI_EXIT_USAGE);
        }
    }
    if (argc - optind != 1)
        return cli_usage(stderr, usb_usage, CLI_EXIT_USAGE);
    if (!output)
        return cli_error(CLI_EXIT_USAGE, "usb: -o/--output is required");
    if (!strcmp(output, "-"))
        return cli_error(CLI_EXIT_USAGE, "usb: the image cannot be written to stdout");
    int checked = cli_check_output(output, "stick.img");
    if (checked)
        return checked;
    struct cli_progress progress = {0};
    struct esximg_hybrid_info info;
    struct esximg_err err = {0};
    int rc = esximg_hybrid_write(argv[optind], &o, output, usb_progress, &progress, &info,
                                 &err);
    cli_progress_end(&progress);
    if (rc)
        return cli_fail(&err);
    cli_note_wrote(output);
    usb_print(output, &info);
    return CLI_EXIT_OK;
}
