/* cmd_hcl.c: `esximg hcl ISO`, will this host's NICs and storage controllers be driven?
 *
 * `hcl --json` writes one object (keys in this order; absent text is null):
 *   file, version       the image and its ESXi version
 *   machine, machine_from_kernel
 *   disabled            [module]: --disable and the host's disabled modules
 *   devices             [{slot, id ("8086:15b8[:8086:2070][/020000]"), vendor, device,
 *                        subvendor, subdevice (null when unknown), class ("0200" or null),
 *                        progif, kind: "network"|"storage"|"other"|"unknown", name,
 *                        verdict: "driven"|"will_not_load"|"no_driver",
 *                        driver, map_class, vib_id, module (of the winner, else null),
 *                        rule: "none"|"one_driver"|"class"|"specificity"|"driver_name",
 *                        inferred,
 *                        claims: [{driver, map_class, vib_id, loads, why_not, ...}],
 *                        vmkernel_name, driver_now, driver_now_known, driver_now_class,
 *                        transition: "now_unknown"|"keeps"|"changes"|"gains"|"loses"|
 *                        "stays_without"|"passthrough"}]
 *   summary             {network: {total, driven}, storage: {total, driven},
 *                        unknown: {total, driven}, loses}
 *   headline            text or null ("no network adapter will be found")
 *   warnings            [text]: lines of the device list that were skipped, unreadable
 *                        driver payloads
 * Exit status: 0 when every network, storage and unknown device is driven and no network or
 * storage controller the host drives now loses its driver, 3 otherwise.
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
#include "hostcheck.h"
#include "json.h"

static const char hcl_usage[] =
    "usage: esximg hcl ISO [--host FILE|-]... [--pci ID]... [--disable MODULE]...\n"
    "                      [--host-modules FILE] [--json]\n"
    "\n"
    "Checks a host's PCI devices against an installer image: which driver of the image\n"
    "claims each one by ESXi's rules (OEM > IHV > native > vmklinux > fallback; vmklinux\n"
    "drivers never load on 7.0 and later; see docs/hcl-rules.md), and which network and\n"
    "storage controllers are left without a driver. Exits 0 when every network and storage\n"
    "device, and every device given without its class, is driven; 3 when one is not, or\n"
    "when a NIC or storage controller the host drives now would lose its driver.\n"
    "\n"
    "options:\n"
    "  -H, --host FILE   the host's devices (repeatable; files of one host are merged by\n"
    "                    slot; '-' reads standard input): Linux `lspci -n`, `-nn`, `-nnv`,\n"
    "                    `-mm`, `-vmmnn`; on ESXi `lspci`, `lspci -v`, `lspci -n`,\n"
    "                    `lspci -p`, `vmkchdev -l` or `esxcli hardware pci list`; with the\n"
    "                    driver the host uses now (lspci -p, esxcli), each device shows\n"
    "                    now -> on the image: keeps, changes, gains or LOSES its driver\n"
    "  -l, --lspci FILE  the same as --host\n"
    "  -p, --pci ID      a device as VVVV:DDDD[:SSSS:ssss][/CCCC[PP]] (repeatable)\n"
    "  -d, --disable MODULE  judge the image as on a host where `esxcli system module set\n"
    "                    --enabled=false -m MODULE` was run: MODULE claims nothing\n"
    "                    (repeatable)\n"
    "  -m, --host-modules FILE  `esxcli system module list` of the host: its disabled\n"
    "                    modules, as --disable\n"
    "  -j, --json        print JSON (keys in docs/json.md)\n"
    "  -q, --quiet       print nothing but errors and the report (no warnings)\n"
    "  -v, --verbose     say on stderr what is read\n"
    "  -h, --help        print this help\n";

static const struct option hcl_opts[] = {
    {"host", required_argument, NULL, 'H'},
    {"lspci", required_argument, NULL, 'l'},
    {"disable", required_argument, NULL, 'd'},
    {"host-modules", required_argument, NULL, 'm'},
    {"pci", required_argument, NULL, 'p'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void hcl_print(const struct hcl_run *run, bool json)
{
    if (!json) {
        printf("image: %s (ESXi %s)\n", run->file, run->img->version ? run->img->version : "?");
        hostcheck_print_text(run);
        return;
    }
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", run->file);
    json_kv_string(&j, "version", run->img->version);
    hostcheck_print_json(run, &j);
    json_object_end(&j);
    json_end(&j);
}

static int hcl_check(struct hcl_run *run, const char *file, bool json)
{
    struct esximg_err err = {0};
    struct esximg_image *img = NULL;
    if (esximg_image_open(file, NULL, &img, &err))
        return cli_fail(&err);
    cli_note_image(file, img);
    int rc = cli_need_esxi(img, file) ? CLI_EXIT_FAIL : hostcheck_judge(run, file, img, json);
    if (!rc) {
        hcl_print(run, json);
        rc = hostcheck_all_driven(run) ? CLI_EXIT_OK : CLI_EXIT_CHECK;
    }
    hostcheck_free(run);        /* before the image its verdicts point into */
    esximg_image_free(img);
    return rc;
}

int cmd_hcl(int argc, char **argv)
{
    struct hcl_run run = {0};
    struct cli_list hosts = {0};
    const char *modules = NULL;
    bool json = false;
    int rc = CLI_EXIT_OK;
    for (int c; !rc && (c = cli_getopt(argc, argv, "H:l:p:d:m:jqvh", hcl_opts)) != -1;) {
        if (c == 'h') {
            rc = cli_usage(stdout, hcl_usage, CLI_EXIT_OK);
            goto out;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'l' || c == 'H') {
            if (cli_list_add(&hosts, optarg))
                rc = cli_error(CLI_EXIT_FAIL, "out of memory");
        } else if (c == 'd') {
            rc = hostcheck_add_disabled(&run, optarg);
        } else if (c == 'm') {
            modules = optarg;
        } else if (c == 'p') {
            struct esximg_pci_device pci;
            struct esximg_err err = {0};
            if (esximg_pci_device_parse(optarg, &pci, &err)) {
                rc = cli_error(CLI_EXIT_USAGE, "--pci '%s': not VVVV:DDDD[:SSSS:ssss]"
                               "[/CCCC[PP]] in hex, e.g. 8086:10d3/0200 (see esximg hcl "
                               "--help)", optarg);
                goto out;
            }
            if (hostcheck_add_device(&run, NULL, NULL, &pci, NULL)) {
                rc = CLI_EXIT_FAIL;
                goto out;
            }
        } else {
            rc = cli_usage(stderr, hcl_usage, CLI_EXIT_USAGE);
            goto out;
        }
    }
    if (rc)
        goto out;
    if (argc - optind != 1 || (hosts.count == 0 && run.count == 0)) {
        rc = cli_usage(stderr, hcl_usage, CLI_EXIT_USAGE);
        goto out;
    }
    if ((rc = hostcheck_read_inputs(&run, &hosts, modules)) != 0)
        goto out;
    rc = hcl_check(&run, argv[optind], json);
out:
    cli_list_free(&hosts);
    hostcheck_free(&run);
    return rc;
}
