/* cmd_ks.c: `esximg ks -o KS.CFG [options]` writes an ESXi kickstart; `esximg ks --check FILE
 * [--image ISO]` says which lines ESXi's installer would reject or cannot work
 * (lib/kickstart.c; the rules and their sources are in docs/kickstart-rules.md).
 *
 * `ks --check --json` writes one object:
 *   file       the kickstart checked
 *   image      the image it was checked against, or null
 *   lines      its number of lines
 *   problems   [{line, message}]: line is null for what the file lacks
 *   notes      [{line, message}]: what was not checked, and why
 *   ok         true when there is no problem
 */
#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esximg/esximg.h"
#include "json.h"

#define KS_MAX_PASSWORD_FILE 4096u
#define KS_MAX_FIRSTBOOT     ((uint64_t)512 << 10)

static const char ks_usage[] =
    "usage: esximg ks -o KS.CFG (--rootpw-hash HASH | --rootpw-file FILE) [options]\n"
    "       esximg ks --check FILE [--image ISO] [--json]\n"
    "\n"
    "Writes an ESXi kickstart (installation script) that installs a host unattended, or\n"
    "checks one: each line ESXi's installer would reject or that cannot work, with its\n"
    "number. With --image, also what the image must hold: the USB NIC driver a\n"
    "--device=vusbN needs, the modules %firstboot configures. A written file is checked\n"
    "the same way before it is written. esximg edit --ks puts it on an image.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        the kickstart to write ('-': standard output)\n"
    "      --rootpw-hash HASH   the root password as a crypt hash ($6$..., as\n"
    "                           `openssl passwd -6` prints it)\n"
    "      --rootpw-file FILE   read the root password from the first line of FILE and\n"
    "                           hash it with SHA-512 crypt and a fresh random salt\n"
    "      --disk DISK          'first' (install --firstdisk, the default) or a disk name\n"
    "                           (install --disk=DISK); VMFS on it is overwritten\n"
    "      --network dhcp       DHCP (the default when --ip is not given)\n"
    "      --ip ADDRESS         a static address, with:\n"
    "      --netmask MASK       its netmask\n"
    "      --gateway ADDRESS    the default gateway\n"
    "      --nameserver LIST    DNS servers, separated by commas\n"
    "      --hostname NAME      the host name\n"
    "      --vlan ID            the management VLAN (0..4095)\n"
    "      --nic NIC            the management NIC: vmnicN, vusbN (USB NIC driver) or a MAC\n"
    "                           address\n"
    "      --module-param MODULE:PARAMS  set a module's parameters at first boot\n"
    "                           (repeatable; e.g. i40en:LLDP=0,0,0,0)\n"
    "      --disable-module MODULE  disable a module at first boot (repeatable)\n"
    "      --kernelopt KEY=VALUE  set a kernel option of the installed host at first boot\n"
    "                           (repeatable)\n"
    "      --systemmedia SIZE   systemMediaSize: min, small, default or max\n"
    "      --firstboot FILE     append FILE's lines to the %firstboot script\n"
    "  -c, --check FILE         check FILE instead of writing one\n"
    "  -i, --image ISO          check against this installer image\n"
    "  -j, --json               with --check: print JSON (keys in docs/json.md)\n"
    "  -q, --quiet              print nothing but errors and problems\n"
    "  -v, --verbose            also say what is read and written\n"
    "  -h, --help               print this help\n"
    "\n"
    "Exits 3 when the file checked, or the one to write, has problems (nothing is\n"
    "written then). With --rootpw-hash the same options write the same bytes; with\n"
    "--rootpw-file each run draws a new salt, so the file differs from run to run.\n";

enum {
    KS_OPT_ROOTPW_HASH = 256,
    KS_OPT_ROOTPW_FILE,
    KS_OPT_DISK,
    KS_OPT_NETWORK,
    KS_OPT_IP,
    KS_OPT_NETMASK,
    KS_OPT_GATEWAY,
    KS_OPT_NAMESERVER,
    KS_OPT_HOSTNAME,
    KS_OPT_VLAN,
    KS_OPT_NIC,
    KS_OPT_MODULE_PARAM,
    KS_OPT_DISABLE_MODULE,
    KS_OPT_KERNELOPT,
    KS_OPT_SYSTEMMEDIA,
    KS_OPT_FIRSTBOOT,
};

static const struct option ks_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"rootpw-hash", required_argument, NULL, KS_OPT_ROOTPW_HASH},
    {"rootpw-file", required_argument, NULL, KS_OPT_ROOTPW_FILE},
    {"disk", required_argument, NULL, KS_OPT_DISK},
    {"network", required_argument, NULL, KS_OPT_NETWORK},
    {"ip", required_argument, NULL, KS_OPT_IP},
    {"netmask", required_argument, NULL, KS_OPT_NETMASK},
    {"gateway", required_argument, NULL, KS_OPT_GATEWAY},
    {"nameserver", required_argument, NULL, KS_OPT_NAMESERVER},
    {"hostname", required_argument, NULL, KS_OPT_HOSTNAME},
    {"vlan", required_argument, NULL, KS_OPT_VLAN},
    {"nic", required_argument, NULL, KS_OPT_NIC},
    {"module-param", required_argument, NULL, KS_OPT_MODULE_PARAM},
    {"disable-module", required_argument, NULL, KS_OPT_DISABLE_MODULE},
    {"kernelopt", required_argument, NULL, KS_OPT_KERNELOPT},
    {"systemmedia", required_argument, NULL, KS_OPT_SYSTEMMEDIA},
    {"firstboot", required_argument, NULL, KS_OPT_FIRSTBOOT},
    {"check", required_argument, NULL, 'c'},
    {"image", required_argument, NULL, 'i'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct ks_args {
    const char *output, *check, *image, *rootpw_file, *network, *vlan, *systemmedia;
    const char *firstboot_path;
    bool json;
    struct cli_list module_params, disabled_modules, kernelopts;
    char *systemmedia_opt;          /* "systemMediaSize=VALUE", owned */
    struct esximg_ks_opts o;
};

static void ks_args_free(struct ks_args *a)
{
    cli_list_free(&a->module_params);
    cli_list_free(&a->disabled_modules);
    cli_list_free(&a->kernelopts);
    free(a->systemmedia_opt);
}

static int ks_parse_option(struct ks_args *a, int c)
{
    switch (c) {
    case 'o': a->output = optarg; return 0;
    case 'c': a->check = optarg; return 0;
    case 'i': a->image = optarg; return 0;
    case 'j': a->json = true; return 0;
    case KS_OPT_ROOTPW_HASH: a->o.rootpw_hash = optarg; return 0;
    case KS_OPT_ROOTPW_FILE: a->rootpw_file = optarg; return 0;
    case KS_OPT_DISK: a->o.disk = optarg; return 0;
    case KS_OPT_NETWORK: a->network = optarg; return 0;
    case KS_OPT_IP: a->o.ip = optarg; return 0;
    case KS_OPT_NETMASK: a->o.netmask = optarg; return 0;
    case KS_OPT_GATEWAY: a->o.gateway = optarg; return 0;
    case KS_OPT_NAMESERVER: a->o.nameserver = optarg; return 0;
    case KS_OPT_HOSTNAME: a->o.hostname = optarg; return 0;
    case KS_OPT_VLAN: a->vlan = optarg; return 0;
    case KS_OPT_NIC: a->o.nic = optarg; return 0;
    case KS_OPT_MODULE_PARAM: return cli_list_add(&a->module_params, optarg);
    case KS_OPT_DISABLE_MODULE: return cli_list_add(&a->disabled_modules, optarg);
    case KS_OPT_KERNELOPT: return cli_list_add(&a->kernelopts, optarg);
    case KS_OPT_SYSTEMMEDIA: a->systemmedia = optarg; return 0;
    case KS_OPT_FIRSTBOOT: a->firstboot_path = optarg; return 0;
    default: return 1;
    }
}

/* Whether any option of the writer was given (they make no sense with --check). */
static bool ks_has_write_options(const struct ks_args *a)
{
    const struct esximg_ks_opts *o = &a->o;
    return a->output || o->rootpw_hash || a->rootpw_file || o->disk || a->network || o->ip ||
           o->netmask || o->gateway || o->nameserver || o->hostname || a->vlan || o->nic ||
           a->module_params.count || a->disabled_modules.count || a->kernelopts.count ||
           a->systemmedia || a->firstboot_path;
}

static int ks_parse_vlan(struct ks_args *a)
{
    const char *v = a->vlan;
    size_t n = strspn(v, "0123456789");
    if (n == 0 || n > 4 || v[n] != '\0' || atoi(v) > 4095)
        return cli_error(CLI_EXIT_USAGE, "ks: --vlan '%s' is not a number from 0 to 4095", v);
    a->o.has_vlan = true;
    a->o.vlan = (unsigned)atoi(v);
    return -1;
}

/* The write mode's rules; -1 when the command goes on. */
static int ks_parse_write(struct ks_args *a)
{
    if (!a->output)
        return cli_error(CLI_EXIT_USAGE, "ks: -o/--output is required (or --check FILE)");
    if (a->json)
        return cli_error(CLI_EXIT_USAGE, "ks: --json goes with --check");
    if (!!a->o.rootpw_hash + !!a->rootpw_file != 1)
        return cli_error(CLI_EXIT_USAGE, "ks: give the root password with --rootpw-hash or "
                         "--rootpw-file (one of them)");
    if (a->network && strcmp(a->network, "dhcp"))
        return cli_error(CLI_EXIT_USAGE, "ks: --network takes 'dhcp'; a static address is "
                         "given with --ip");
    if (a->network && a->o.ip)
        return cli_error(CLI_EXIT_USAGE, "ks: --network dhcp and --ip contradict each other");
    if (!a->o.ip && (a->o.netmask || a->o.gateway || a->o.nameserver || a->o.hostname))
        return cli_error(CLI_EXIT_USAGE, "ks: --netmask, --gateway, --nameserver and "
                         "--hostname go with --ip");
    if (a->vlan && ks_parse_vlan(a) >= 0)
        return CLI_EXIT_USAGE;
    static const char *const sizes[] = {"min", "small", "default", "max"};
    bool size_ok = !a->systemmedia;
    for (size_t i = 0; !size_ok && i < 4; i++)
        size_ok = !strcmp(a->systemmedia, sizes[i]);
    if (!size_ok)
        return cli_error(CLI_EXIT_USAGE, "ks: --systemmedia takes min, small, default or max");
    if (a->systemmedia) {
        if (asprintf(&a->systemmedia_opt, "systemMediaSize=%s", a->systemmedia) < 0 ||
            cli_list_add(&a->kernelopts, a->systemmedia_opt))
            return cli_error(CLI_EXIT_FAIL, "out of memory");
    }
    a->o.network = a->network != NULL;
    a->o.module_params = a->module_params.items;
    a->o.module_param_count = a->module_params.count;
    a->o.disabled_modules = a->disabled_modules.items;
    a->o.disabled_module_count = a->disabled_modules.count;
    a->o.kernelopts = a->kernelopts.items;
    a->o.kernelopt_count = a->kernelopts.count;
    return -1;
}

/* Returns -1 when the command should go on, else the exit code. */
static int ks_parse(int argc, char **argv, struct ks_args *a)
{
    memset(a, 0, sizeof *a);
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "o:c:i:jqvh", ks_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, ks_usage, CLI_EXIT_OK);
        int rc = ks_parse_option(a, c);
        if (rc < 0)
            return cli_error(CLI_EXIT_FAIL, "out of memory");
        if (rc)
            return cli_usage(stderr, ks_usage, CLI_EXIT_USAGE);
    }
    if (optind != argc)
        return cli_usage(stderr, ks_usage, CLI_EXIT_USAGE);
    if (a->check) {
        if (ks_has_write_options(a))
            return cli_error(CLI_EXIT_USAGE, "ks: --check FILE takes only --image and --json");
        return -1;
    }
    if (a->image && !a->output)
        return cli_error(CLI_EXIT_USAGE, "ks: --image goes with --check or -o");
    return ks_parse_write(a);
}

/* ---------------------------------------------------------------- the image */

static int ks_load_env(const char *image, struct esximg_ks_env **env)
{
    *env = NULL;
    if (!image)
        return 0;
    struct esximg_err err = {0};
    struct esximg_image *img = NULL;
    if (esximg_image_open(image, NULL, &img, &err))
        return cli_fail(&err);
    cli_note_image(image, img);
    int rc = cli_need_esxi(img, image);
    if (!rc && esximg_ks_env_from_image(img, env, &err)) {
        esximg_err_file(&err, image);
        rc = cli_fail(&err);
    }
    if (!rc)
        cli_note("%s: %zu kernel modules, USB NIC driver: %s", image, (*env)->module_count,
                 esximg_ks_env_has_usb_nic(*env) ? "yes" : "no");
    esximg_image_free(img);
    return rc;
}

/* ---------------------------------------------------------------- printing a check */

static void ks_print_list(FILE *to, const char *file, const struct esximg_warnings *w,
                          const char *kind)
{
    for (size_t i = 0; i < w->count; i++) {
        if (w->items[i].line)
            fprintf(to, "%s:%zu: %s%s\n", file, w->items[i].line, kind, w->items[i].msg);
        else
            fprintf(to, "%s: %s%s\n", file, kind, w->items[i].msg);
    }
    if (w->dropped)
        fprintf(to, "%s: %zu more not shown\n", file, w->dropped);
}

static void ks_json_list(struct json *j, const char *key, const struct esximg_warnings *w)
{
    json_key(j, key);
    json_array_begin(j);
    for (size_t i = 0; i < w->count; i++) {
        json_object_begin(j);
        json_key(j, "line");
        if (w->items[i].line)
            json_uint(j, w->items[i].line);
        else
            json_null(j);
        json_kv_string(j, "message", w->items[i].msg);
        json_object_end(j);
    }
    json_array_end(j);
}

static void ks_print_json(const char *file, const char *image,
                          const struct esximg_ks_report *r)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", file);
    json_kv_string(&j, "image", image);
    json_kv_uint(&j, "lines", r->line_count);
    ks_json_list(&j, "problems", &r->problems);
    ks_json_list(&j, "notes", &r->notes);
    json_kv_bool(&j, "ok", r->problems.count == 0 && r->problems.dropped == 0);
    json_object_end(&j);
    json_end(&j);
}

static bool ks_report_ok(const struct esximg_ks_report *r)
{
    return r->problems.count == 0 && r->problems.dropped == 0;
}

static int ks_run_check(const struct ks_args *a)
{
    struct esximg_ks_env *env = NULL;
    int rc = ks_load_env(a->image, &env);
    if (rc)
        return rc;
    struct esximg_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_ks_report *r = NULL;
    if (esximg_file_read(a->check, ESXIMG_KS_MAX_BYTES, &data, &len, &err) ||
        esximg_ks_check(data, len, env, &r, &err)) {
        esximg_err_file(&err, a->check);
        rc = cli_fail(&err);
        goto out;
    }
    cli_note_read(a->check, "kickstart, %zu lines", r->line_count);
    if (a->json) {
        ks_print_json(a->check, a->image, r);
    } else {
        ks_print_list(stdout, a->check, &r->problems, "");
        if (!cli_quiet)
            ks_print_list(stdout, a->check, &r->notes, "note: ");
        if (!cli_quiet && ks_report_ok(r))
            printf("%s: no problems%s%s\n", a->check, a->image ? " against " : "",
                   a->image ? a->image : "");
        else if (!cli_quiet)
            printf("%s: %zu problem%s\n", a->check, r->problems.count + r->problems.dropped,
                   r->problems.count + r->problems.dropped == 1 ? "" : "s");
    }
    rc = ks_report_ok(r) ? CLI_EXIT_OK : CLI_EXIT_CHECK;
out:
    esximg_ks_report_free(r);
    free(data);
    esximg_ks_env_free(env);
    return rc;
}

/* ---------------------------------------------------------------- writing */

/* The first line of the password file, hashed with a fresh salt. */
static int ks_hash_password_file(const char *path, char **hash)
{
    struct esximg_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    if (esximg_file_read(path, KS_MAX_PASSWORD_FILE, &data, &len, &err)) {
        esximg_err_file(&err, path);
        return cli_fail(&err);
    }
    char *password = malloc(len + 1);
    int rc = password ? 0 : cli_error(CLI_EXIT_FAIL, "out of memory");
    if (!rc) {
        size_t n = 0;
        while (n < len && data[n] != '\n')
            n++;
        if (n && data[n - 1] == '\r')
            n--;
        memcpy(password, data, n);
        password[n] = '\0';
        uint8_t salt[16];
        if (RAND_bytes(salt, sizeof salt) != 1)
            rc = cli_error(CLI_EXIT_FAIL, "%s: no random bytes for the salt", path);
        else if (memchr(password, '\0', n) ||
                 esximg_ks_hash_password(password, salt, hash, &err)) {
            if (!err.msg[0])
                esximg_err_set(&err, ESXIMG_EINVAL, "the password holds a NUL byte");
            esximg_err_file(&err, path);
            rc = cli_fail(&err);
        }
        explicit_bzero(password, n);
    }
    explicit_bzero(data, len);
    free(password);
    free(data);
    return rc;
}

static int ks_write_out(const char *output, const char *ks, size_t len)
{
    struct esximg_err err = {0};
    if (!strcmp(output, "-")) {
        if (fwrite(ks, 1, len, stdout) != len || fflush(stdout))
            return cli_error(CLI_EXIT_FAIL, "standard output: write failed");
        return CLI_EXIT_OK;
    }
    if (esximg_file_write(output, ks, len, 0644, &err)) {
        esximg_err_file(&err, output);
        return cli_fail(&err);
    }
    cli_note_wrote(output);
    return CLI_EXIT_OK;
}

static int ks_run_write(struct ks_args *a)
{
    if (strcmp(a->output, "-") && cli_check_output(a->output, "ks.cfg"))
        return CLI_EXIT_FAIL;
    struct esximg_ks_env *env = NULL;
    int rc = ks_load_env(a->image, &env);
    char *hash = NULL, *ks = NULL;
    uint8_t *firstboot = NULL;
    size_t len = 0, firstboot_len = 0;
    struct esximg_ks_report *r = NULL;
    struct esximg_err err = {0};
    if (!rc && a->rootpw_file && !(rc = ks_hash_password_file(a->rootpw_file, &hash)))
        a->o.rootpw_hash = hash;
    if (!rc && a->firstboot_path &&
        esximg_file_read(a->firstboot_path, KS_MAX_FIRSTBOOT, &firstboot, &firstboot_len,
                         &err)) {
        esximg_err_file(&err, a->firstboot_path);
        rc = cli_fail(&err);
    }
    a->o.firstboot = (const char *)firstboot;
    a->o.firstboot_len = firstboot_len;
    if (!rc && esximg_ks_write(&a->o, &ks, &len, &err))
        rc = cli_error(CLI_EXIT_USAGE, "ks: %s", err.msg);
    /* what is written must pass the check: a --firstboot file or the image may spoil it */
    if (!rc && esximg_ks_check(ks, len, env, &r, &err)) {
        rc = cli_fail(&err);
    } else if (!rc && !ks_report_ok(r)) {
        ks_print_list(stderr, a->output, &r->problems, "");
        rc = cli_error(CLI_EXIT_CHECK, "%s: not written: the kickstart would have problems",
                       a->output);
    }
    if (!rc)
        rc = ks_write_out(a->output, ks, len);
    if (!rc && a->systemmedia && !cli_quiet)
        cli_warn("systemMediaSize sizes the system partitions when the installer runs: boot "
                 "the installer with it too (esximg edit IN.iso -o OUT.iso --ks %s -k "
                 "systemMediaSize=%s)", a->output, a->systemmedia);
    esximg_ks_report_free(r);
    free(ks);
    free(firstboot);
    free(hash);
    esximg_ks_env_free(env);
    return rc;
}

int cmd_ks(int argc, char **argv)
{
    struct ks_args a;
    int rc = ks_parse(argc, argv, &a);
    if (rc < 0)
        rc = a.check ? ks_run_check(&a) : ks_run_write(&a);
    ks_args_free(&a);
    return rc;
}
