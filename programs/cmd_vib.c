/* cmd_vib.c: `esximg vib info|extract|verify`: look into, unpack and check one VIB. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "esximg/io.h"
#include "esximg/vib.h"
#include "esximg/vibauthor.h"

static const char vib_usage[] =
    "usage: esximg vib info FILE.vib [--json] [-v]\n"
    "       esximg vib extract FILE.vib [-C DIR] [--force]\n"
    "       esximg vib verify FILE.vib [--ca FILE] [--json]\n"
    "       esximg vib create -o OUT.vib [-s DIR] [--payload NAME=DIR[:TYPE]]... [FIELDS]\n"
    "       esximg vib from-oem DRIVER.tgz -o OUT.vib [FIELDS]\n"
    "       esximg vib map-only --driver NAME --pci ID... -o OUT.vib [--name ID=TEXT]...\n"
    "                           [FIELDS]\n"
    "\n"
    "  info      print the descriptor: identity, relationships, tags, payloads, signer\n"
    "  extract   write descriptor.xml, sig.pkcs7 and every payload member as files\n"
    "  verify    check every payload's size and checksums, and the signature with --ca\n"
    "  create    build an unsigned VIB from a VIB Author stage folder (DIR/descriptor.xml,\n"
    "            DIR/payloads/<payload>/...) and/or the options below\n"
    "  from-oem  build a driver VIB from an ESXi-Customizer OEM .tgz (the module under\n"
    "            usr/lib/vmware/vmkmod/, a map under etc/vmware/*.map.d/, optionally ids\n"
    "            under usr/share/hwdata/*.pciids.d/); defaults: name from the module,\n"
    "            version 1.0-1, vendor custom, tags driver and module, maintenance mode\n"
    "  map-only  build a VIB mapping PCI ids (VVVV:DDDD or VVVV:DDDD:SSSS:ssss) to an\n"
    "            existing native driver; defaults: name <driver>-map, version 1.0-1\n"
    "\n"
    "  -C, --directory DIR  extract into DIR (default: the current directory)\n"
    "  -f, --force          overwrite existing files when extracting\n"
    "      --ca FILE        PEM CA bundle to verify sig.pkcs7 against\n"
    "      --json           print JSON instead of text\n"
    "  -v, --verbose        say what is read and written; info: also list the files the\n"
    "                       VIB installs\n"
    "  -q, --quiet          print nothing but errors and the requested output (no\n"
    "                       progress bar or warnings)\n"
    "  -h, --help           print this help\n"
    "\n"
    "create, from-oem and map-only:\n"
    "  -o, --output FILE        the VIB to write (replaced atomically)\n"
    "  -s, --stage DIR          (create) a VIB Author stage folder\n"
    "      --payload NAME=DIR[:TYPE]  (create) a payload from the files under DIR;\n"
    "                           TYPE vgz (vmtar, default) or tgz (GNU tar)\n"
    "      --driver NAME        (map-only) the driver the ids are mapped to\n"
    "      --pci ID             (map-only) a PCI id to map, repeatable\n"
    "      --mtime SECONDS      archive member times (default: SOURCE_DATE_EPOCH, else 0)\n"
    "FIELDS (they override the stage's values; a list option replaces that list):\n"
    "      --name NAME          the VIB name; (map-only) --name ID=TEXT names a PCI id in\n"
    "                           the .ids file (ID: VVVV, VVVV:DDDD or VVVV:DDDD:SSSS:ssss)\n"
    "      --version VER        <version>-<release>, e.g. 1.0.0-1\n"
    "      --vendor VENDOR      --summary TEXT      --description TEXT\n"
    "      --acceptance LEVEL   community (default), partner, accepted, certified\n"
    "      --type TYPE          bootbank (default) or locker\n"
    "      --depends C          --conflicts C   --replaces C   --provides C   (repeatable)\n"
    "                           C is \"name\" or \"name REL version\" (REL << <= = >= >>),\n"
    "                           e.g. \"esx-version >= 7.0.0\"\n"
    "      --tag TAG            a software tag, repeatable\n"
    "      --live-install       live install and remove allowed (--no-live-install: not)\n"
    "      --maintenance-mode   needs maintenance mode (--no-maintenance-mode: does not)\n"
    "      --release-date DATE  default: SOURCE_DATE_EPOCH as a date, else the stage's,\n"
    "                           else the --mtime date\n"
    "\n"
    "A VIB whose members disagree with its descriptor (a payload without a member, a member\n"
    "no payload names, a member of another size) is still read: info prints it all with a\n"
    "'problem:' line each, verify fails those checks, extract writes the members that are\n"
    "there and lists the problems on stdout; each then exits 3.\n"
    "verify exits 0 when every check passed, 3 when a size, checksum, format (a vgz payload\n"
    "that is no gzip'd vmtar, a tgz one that is no gzip'd tar), member or signature check\n"
    "failed, 1 when the VIB cannot be read.\n";

enum { VIB_OPT_CA = 256, VIB_OPT_JSON };

static const struct option vib_opts[] = {
    { "directory", required_argument, NULL, 'C' },
    { "force", no_argument, NULL, 'f' },
    { "ca", required_argument, NULL, VIB_OPT_CA },
    { "json", no_argument, NULL, VIB_OPT_JSON },
    { "verbose", no_argument, NULL, 'v' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct vib_args {
    const char *file;
    const char *dir;
    const char *ca;
    bool force;
    bool json;
};

/* A VIB read from a file: the bytes are kept for as long as the model points into them. */
struct vib_input {
    uint8_t *bytes;
    size_t len;
    struct esximg_vib *vib;
};

static int vib_parse_args(int argc, char **argv, struct vib_args *a)
{
    memset(a, 0, sizeof *a);
    a->dir = ".";
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "C:fqvh", vib_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, vib_usage, CLI_EXIT_OK);
        else if (c == 'C')
            a->dir = optarg;
        else if (c == 'f')
            a->force = true;
        else if (c == VIB_OPT_CA)
            a->ca = optarg;
        else if (c == VIB_OPT_JSON)
            a->json = true;
        else
            return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    }
    if (argc - optind != 1) {
        fprintf(stderr, "esximg: vib %s needs exactly one VIB file\n", argv[0]);
        return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    }
    a->file = argv[optind];
    return -1;
}

static int vib_open(const char *file, struct vib_input *in)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    memset(in, 0, sizeof *in);
    if (esximg_file_read(file, 0, &in->bytes, &in->len, &err))
        return cli_fail(&err);
    /* a VIB whose payloads lack members still reads: each verb reports its problems */
    const struct esximg_vib_ropts ropts = { .keep_missing = true };
    if (esximg_vib_read_opts(in->bytes, in->len, &ropts, &in->vib, &err)) {
        esximg_err_file(&err, file);
        free(in->bytes);
        in->bytes = NULL;
        return cli_fail(&err);
    }
    const struct esximg_descriptor *d = in->vib->desc;
    cli_note_read(file, "VIB '%s' version '%s', %zu payloads", d->name ? d->name : "?",
                  d->version ? d->version : "?", d->payload_count);
    return CLI_EXIT_OK;
}

static void vib_close(struct vib_input *in)
{
    esximg_vib_free(in->vib);
    free(in->bytes);
}

static const char *vib_dialect_name(enum esximg_ar_dialect d)
{
    switch (d) {
    case ESXIMG_AR_VMWARE: return "vmware";
    case ESXIMG_AR_VMWARE_0O0: return "vmware-0o0";
    case ESXIMG_AR_GNU: return "gnu";
    }
    return "unknown";
}

static const char *vib_or(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

/* ---------------------------------------------------------------- info */

static const char *const vib_rel_names[] = {
    "depends", "conflicts", "replaces", "provides", "compatible_with",
};

static const struct esximg_constraint_list *vib_rel(const struct esximg_descriptor *d,
                                                    size_t i)
{
    const struct esximg_constraint_list *lists[] = {
        &d->depends, &d->conflicts, &d->replaces, &d->provides, &d->compatible_with,
    };
    return lists[i];
}

/* "problems": [{kind, member, expected, actual, message}] */
static void vib_json_problems(struct json *j, const struct esximg_vib *v)
{
    json_key(j, "problems");
    json_array_begin(j);
    for (size_t i = 0; i < v->problem_count; i++) {
        const struct esximg_vib_problem *p = &v->problems[i];
        json_object_begin(j);
        json_kv_string(j, "kind", esximg_vib_problem_name(p->kind));
        json_kv_string(j, "member", p->member);
        json_kv_string(j, "expected", p->expected);
        json_kv_string(j, "actual", p->actual);
        json_kv_string(j, "message", p->msg);
        json_object_end(j);
    }
    json_array_end(j);
}

static void vib_info_json(const char *file, const struct esximg_vib *v, const char *vib_id,
                          const char *signer)
{
    const struct esximg_descriptor *d = v->desc;
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", file);
    json_kv_string(&j, "name", d->name);
    json_kv_string(&j, "version", d->version);
    json_kv_string(&j, "vendor", d->vendor);
    json_kv_string(&j, "vib_id", vib_id);
    json_kv_string(&j, "type", d->type);
    json_kv_string(&j, "acceptance_level", d->acceptance_level);
    json_kv_string(&j, "summary", d->summary);
    json_kv_string(&j, "description", d->description);
    json_kv_string(&j, "release_date", d->release_date);
    json_key(&j, "relationships");
    json_object_begin(&j);
    for (size_t r = 0; r < sizeof vib_rel_names / sizeof vib_rel_names[0]; r++) {
        const struct esximg_constraint_list *l = vib_rel(d, r);
        json_key(&j, vib_rel_names[r]);
        json_array_begin(&j);
        for (size_t i = 0; i < l->count; i++) {
            json_object_begin(&j);
            json_kv_string(&j, "name", l->items[i].name);
            json_kv_string(&j, "relation", l->items[i].relation);
            json_kv_string(&j, "version", l->items[i].version);
            json_object_end(&j);
        }
        json_array_end(&j);
    }
    json_object_end(&j);
    json_kv_strings(&j, "tags", d->tags, d->tag_count);
    json_kv_bool(&j, "maintenance_mode", d->maintenance_mode);
    json_kv_bool(&j, "live_install_allowed", d->live_install_allowed);
    json_kv_bool(&j, "live_remove_allowed", d->live_remove_allowed);
    json_kv_bool(&j, "stateless_ready", d->stateless_ready);
    json_kv_bool(&j, "overlay", d->overlay);
    json_kv_uint(&j, "file_count", d->file_count);
    json_kv_strings(&j, "files", d->files, d->file_count);
    json_key(&j, "payloads");
    json_array_begin(&j);
    for (size_t i = 0; i < d->payload_count; i++) {
        const struct esximg_payload *p = &d->payloads[i];
        size_t member_len = 0;
        esximg_vib_member_data(v, p->name, &member_len);
        json_object_begin(&j);
        json_kv_string(&j, "name", p->name);
        json_kv_string(&j, "type", p->type);
        json_key(&j, "size");
        if (p->has_size)
            json_uint(&j, p->size);
        else
            json_null(&j);
        json_kv_uint(&j, "member_size", member_len);
        json_kv_string(&j, "boot_order", p->boot_order);
        json_kv_string(&j, "vfat_name", p->vfat_name);
        json_key(&j, "checksums");
        json_array_begin(&j);
        for (size_t k = 0; k < p->checksum_count; k++) {
            json_object_begin(&j);
            json_kv_string(&j, "type", p->checksums[k].type);
            json_kv_string(&j, "verify_process", p->checksums[k].verify_process);
            json_kv_string(&j, "value", p->checksums[k].value);
            json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_kv_bool(&j, "signed", v->sig_len > 0);
    json_kv_string(&j, "signer", signer);
    json_kv_string(&j, "dialect", vib_dialect_name(v->dialect));
    vib_json_problems(&j, v);
    json_object_end(&j);
    json_end(&j);
}

static void vib_info_text(const struct esximg_vib *v, const char *vib_id, const char *signer)
{
    const struct esximg_descriptor *d = v->desc;
    printf("name:             %s\n", d->name);
    printf("version:          %s\n", d->version);
    printf("vendor:           %s\n", d->vendor);
    printf("vib-id:           %s\n", vib_or(vib_id, "-"));
    printf("type:             %s\n", vib_or(d->type, "-"));
    printf("acceptance-level: %s\n", vib_or(d->acceptance_level, "-"));
    printf("summary:          %s\n", vib_or(d->summary, "-"));
    printf("release-date:     %s\n", vib_or(d->release_date, "-"));
    for (size_t r = 0; r < sizeof vib_rel_names / sizeof vib_rel_names[0]; r++) {
        const struct esximg_constraint_list *l = vib_rel(d, r);
        for (size_t i = 0; i < l->count; i++) {
            printf("%-17s %s", (i == 0 ? vib_rel_names[r] : ""), l->items[i].name);
            if (l->items[i].relation || l->items[i].version)
                printf(" %s %s", vib_or(l->items[i].relation, "="),
                       vib_or(l->items[i].version, ""));
            printf("\n");
        }
    }
    printf("tags:             %s", d->tag_count ? "" : "-");
    for (size_t i = 0; i < d->tag_count; i++)
        printf("%s%s", d->tags[i], i + 1 < d->tag_count ? ", " : "");
    printf("\n");
    printf("files:            %zu\n", d->file_count);
    if (cli_verbose)
        for (size_t i = 0; i < d->file_count; i++)
            printf("  %s\n", d->files[i]);
    for (size_t i = 0; i < d->payload_count; i++) {
        const struct esximg_payload *p = &d->payloads[i];
        size_t member_len = 0;
        if (esximg_vib_member_data(v, p->name, &member_len))
            printf("payload:          %s type %s size %zu\n", p->name, vib_or(p->type, "-"),
                   member_len);
        else
            printf("payload:          %s type %s (no member)\n", p->name, vib_or(p->type, "-"));
        for (size_t k = 0; k < p->checksum_count; k++) {
            const struct esximg_checksum *c = &p->checksums[k];
            printf("  %s%s%s: %s\n", c->type, c->verify_process ? " " : "",
                   c->verify_process ? c->verify_process : "", vib_or(c->value, ""));
        }
    }
    printf("signed:           %s\n", v->sig_len ? "yes" : "no");
    if (v->sig_len)
        printf("signer:           %s\n", vib_or(signer, "(unknown)"));
    printf("dialect:          %s\n", vib_dialect_name(v->dialect));
    for (size_t i = 0; i < v->problem_count; i++)
        printf("problem:          %s\n", v->problems[i].msg);
}

static int vib_info(int argc, char **argv)
{
    struct vib_args a;
    int rc = vib_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct vib_input in;
    rc = vib_open(a.file, &in);
    if (rc)
        return rc;
    char *vib_id = esximg_descriptor_vib_id(in.vib->desc);
    char *signer = NULL;
    struct esximg_err err;
    esximg_err_clear(&err);
    if (esximg_vib_signer(in.vib, &signer, &err))
        cli_warn("%s: %s", a.file, err.msg);
    if (a.json)
        vib_info_json(a.file, in.vib, vib_id, signer);
    else
        vib_info_text(in.vib, vib_id, signer);
    free(signer);
    free(vib_id);
    /* everything is printed; the problems make it a failed check, as for `esximg info` */
    rc = in.vib->problem_count ? CLI_EXIT_CHECK : CLI_EXIT_OK;
    vib_close(&in);
    return rc;
}

/* ---------------------------------------------------------------- extract */

static int vib_extract(int argc, char **argv)
{
    struct vib_args a;
    int rc = vib_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.ca || a.json)
        return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    struct vib_input in;
    rc = vib_open(a.file, &in);
    if (rc)
        return rc;
    struct esximg_err err;
    esximg_err_clear(&err);
    if (mkdir(a.dir, 0755) != 0 && errno != EEXIST) {
        esximg_err_sys(&err, errno, "cannot create the directory");
        esximg_err_file(&err, a.dir);
        vib_close(&in);
        return cli_fail(&err);
    }
    if (esximg_vib_extract(in.vib, a.dir, a.force, &err)) {
        if (err.code == ESXIMG_EUNSAFE)
            esximg_err_file(&err, a.file);
        else if (err.code == ESXIMG_EINVAL)
            esximg_err_prefix(&err, "%s", "use --force to replace: ");
        vib_close(&in);
        return cli_fail(&err);
    }
    for (size_t i = 0; i < in.vib->member_count; i++)
        cli_note("wrote %s/%s", a.dir, in.vib->members[i].name);
    /* what is there is written; what is not, or is wrong, is the report (stdout, exit 3) */
    for (size_t i = 0; i < in.vib->problem_count; i++) {
        const struct esximg_vib_problem *p = &in.vib->problems[i];
        printf("%s: %s%s\n", a.file, p->msg,
               p->kind == ESXIMG_VIB_PROBLEM_MISSING ? ": not extracted" : "");
    }
    rc = in.vib->problem_count ? CLI_EXIT_CHECK : CLI_EXIT_OK;
    vib_close(&in);
    return rc;
}

/* ---------------------------------------------------------------- verify */

static bool vib_failed(const struct esximg_vib_verify_result *r)
{
    for (size_t i = 0; i < r->check_count; i++)
        if (!r->checks[i].ok && !r->checks[i].skipped)
            return true;
    return r->signature_checked && !r->signature_ok;
}

static void vib_verify_json(const char *file, const struct esximg_vib_verify_result *r)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_kv_string(&j, "file", file);
    json_kv_bool(&j, "ok", !vib_failed(r));
    json_kv_bool(&j, "all_ok", r->all_ok);
    json_key(&j, "checks");
    json_array_begin(&j);
    for (size_t i = 0; i < r->check_count; i++) {
        const struct esximg_vib_check *c = &r->checks[i];
        json_object_begin(&j);
        json_kv_string(&j, "payload", c->payload);
        json_kv_string(&j, "check", c->what);
        json_kv_string(&j, "expected", c->expected);
        json_kv_string(&j, "actual", c->actual);
        json_kv_bool(&j, "ok", c->ok);
        json_kv_bool(&j, "skipped", c->skipped);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_kv_bool(&j, "signed", r->signed_vib);
    json_kv_string(&j, "signer", r->signer);
    json_kv_bool(&j, "signature_checked", r->signature_checked);
    json_kv_bool(&j, "signature_ok", r->signature_ok);
    json_kv_string(&j, "signature_error", r->signature_error);
    json_object_end(&j);
    json_end(&j);
}

static void vib_verify_text(const char *file, const struct esximg_vib_verify_result *r)
{
    for (size_t i = 0; i < r->check_count; i++) {
        const struct esximg_vib_check *c = &r->checks[i];
        if (c->ok)
            printf("%s: %s: ok\n", c->payload, c->what);
        else if (c->skipped)
            printf("%s: %s: skipped %s\n", c->payload, c->what, vib_or(c->actual, ""));
        else if (!c->expected)
            printf("%s: %s: FAILED (%s)\n", c->payload, c->what, vib_or(c->actual, "-"));
        else
            printf("%s: %s: FAILED (expected %s, got %s)\n", c->payload, c->what,
                   c->expected, vib_or(c->actual, "-"));
    }
    if (r->signature_checked)
        printf("signature: %s%s%s\n", r->signature_ok ? "ok" : "FAILED",
               r->signature_error ? ": " : "", vib_or(r->signature_error, ""));
    else if (!r->signed_vib)
        printf("signature: none (unsigned)\n");
    else
        printf("signature: present, not checked (no --ca)%s%s\n",
               r->signature_error ? ": " : "", vib_or(r->signature_error, ""));
    if (r->signer)
        printf("signer: %s\n", r->signer);
    printf("%s: %s\n", file, vib_failed(r) ? "FAILED" : "ok");
}

static int vib_verify(int argc, char **argv)
{
    struct vib_args a;
    int rc = vib_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct vib_input in;
    rc = vib_open(a.file, &in);
    if (rc)
        return rc;
    struct esximg_err err;
    esximg_err_clear(&err);
    struct esximg_vib_verify_opts opts = { .ca_file = a.ca };
    struct esximg_vib_verify_result *r;
    if (esximg_vib_verify(in.vib, &opts, &r, &err)) {
        esximg_err_file(&err, a.ca && err.code == ESXIMG_EINVAL ? a.ca : a.file);
        vib_close(&in);
        return cli_fail(&err);
    }
    if (a.json)
        vib_verify_json(a.file, r);
    else
        vib_verify_text(a.file, r);
    rc = vib_failed(r) ? CLI_EXIT_CHECK : CLI_EXIT_OK;
    esximg_vib_verify_result_free(r);
    vib_close(&in);
    return rc;
}

/* ---------------------------------------------------------------- create, from-oem, map-only */

enum {
    AUTH_OPT_PAYLOAD = 300, AUTH_OPT_DRIVER, AUTH_OPT_PCI, AUTH_OPT_MTIME, AUTH_OPT_NAME,
    AUTH_OPT_VERSION, AUTH_OPT_VENDOR, AUTH_OPT_SUMMARY, AUTH_OPT_DESCRIPTION,
    AUTH_OPT_ACCEPTANCE, AUTH_OPT_TYPE, AUTH_OPT_DEPENDS, AUTH_OPT_CONFLICTS, AUTH_OPT_REPLACES,
    AUTH_OPT_PROVIDES, AUTH_OPT_TAG, AUTH_OPT_LIVE, AUTH_OPT_NO_LIVE, AUTH_OPT_MAINT,
    AUTH_OPT_NO_MAINT, AUTH_OPT_RELEASE_DATE,
};

static const struct option auth_opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "stage", required_argument, NULL, 's' },
    { "payload", required_argument, NULL, AUTH_OPT_PAYLOAD },
    { "driver", required_argument, NULL, AUTH_OPT_DRIVER },
    { "pci", required_argument, NULL, AUTH_OPT_PCI },
    { "mtime", required_argument, NULL, AUTH_OPT_MTIME },
    { "name", required_argument, NULL, AUTH_OPT_NAME },
    { "version", required_argument, NULL, AUTH_OPT_VERSION },
    { "vendor", required_argument, NULL, AUTH_OPT_VENDOR },
    { "summary", required_argument, NULL, AUTH_OPT_SUMMARY },
    { "description", required_argument, NULL, AUTH_OPT_DESCRIPTION },
    { "acceptance", required_argument, NULL, AUTH_OPT_ACCEPTANCE },
    { "type", required_argument, NULL, AUTH_OPT_TYPE },
    { "depends", required_argument, NULL, AUTH_OPT_DEPENDS },
    { "conflicts", required_argument, NULL, AUTH_OPT_CONFLICTS },
    { "replaces", required_argument, NULL, AUTH_OPT_REPLACES },
    { "provides", required_argument, NULL, AUTH_OPT_PROVIDES },
    { "tag", required_argument, NULL, AUTH_OPT_TAG },
    { "live-install", no_argument, NULL, AUTH_OPT_LIVE },
    { "no-live-install", no_argument, NULL, AUTH_OPT_NO_LIVE },
    { "maintenance-mode", no_argument, NULL, AUTH_OPT_MAINT },
    { "no-maintenance-mode", no_argument, NULL, AUTH_OPT_NO_MAINT },
    { "release-date", required_argument, NULL, AUTH_OPT_RELEASE_DATE },
    { "verbose", no_argument, NULL, 'v' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct auth_args {
    const char *verb;
    const char *output;
    const char *stage;
    const char *driver;
    const char *input;          /* from-oem: the .tgz */
    bool has_mtime;
    int64_t mtime;
    struct esximg_vibauthor_fields f;
    struct cli_list payloads, pcis, id_names, depends, conflicts, replaces, provides, tags;
};

static void auth_args_free(struct auth_args *a)
{
    struct cli_list *lists[] = { &a->payloads, &a->pcis, &a->id_names, &a->depends,
                                  &a->conflicts, &a->replaces, &a->provides, &a->tags };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        cli_list_free(lists[i]);
}

static bool auth_parse_mtime(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = (int64_t)v;
    return true;
}

/* A --name value "ID=TEXT" names a PCI id (a VIB name cannot hold '='). */
static bool auth_is_id_name(const char *verb, const char *v)
{
    return strcmp(verb, "map-only") == 0 && strchr(v, '=') != NULL;
}

static int auth_option(struct auth_args *a, int c, const char *v)
{
    struct cli_list *list = NULL;
    switch (c) {
    case 'o': a->output = v; break;
    case 's': a->stage = v; break;
    case AUTH_OPT_PAYLOAD: list = &a->payloads; break;
    case AUTH_OPT_DRIVER: a->driver = v; break;
    case AUTH_OPT_PCI: list = &a->pcis; break;
    case AUTH_OPT_MTIME:
        if (!auth_parse_mtime(v, &a->mtime))
            return cli_error(CLI_EXIT_USAGE, "--mtime '%s': not a number of seconds", v);
        a->has_mtime = true;
        break;
    case AUTH_OPT_NAME:
        if (auth_is_id_name(a->verb, v))
            list = &a->id_names;
        else
            a->f.name = v;
        break;
    case AUTH_OPT_VERSION: a->f.version = v; break;
    case AUTH_OPT_VENDOR: a->f.vendor = v; break;
    case AUTH_OPT_SUMMARY: a->f.summary = v; break;
    case AUTH_OPT_DESCRIPTION: a->f.description = v; break;
    case AUTH_OPT_ACCEPTANCE: a->f.acceptance = v; break;
    case AUTH_OPT_TYPE: a->f.type = v; break;
    case AUTH_OPT_DEPENDS: list = &a->depends; break;
    case AUTH_OPT_CONFLICTS: list = &a->conflicts; break;
    case AUTH_OPT_REPLACES: list = &a->replaces; break;
    case AUTH_OPT_PROVIDES: list = &a->provides; break;
    case AUTH_OPT_TAG: list = &a->tags; break;
    case AUTH_OPT_LIVE: a->f.live_install = ESXIMG_VIBAUTHOR_YES; break;
    case AUTH_OPT_NO_LIVE: a->f.live_install = ESXIMG_VIBAUTHOR_NO; break;
    case AUTH_OPT_MAINT: a->f.maintenance_mode = ESXIMG_VIBAUTHOR_YES; break;
    case AUTH_OPT_NO_MAINT: a->f.maintenance_mode = ESXIMG_VIBAUTHOR_NO; break;
    case AUTH_OPT_RELEASE_DATE: a->f.release_date = v; break;
    default: return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    }
    if (list && cli_list_add(list, v))
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    return -1;
}

static int auth_parse(int argc, char **argv, struct auth_args *a)
{
    memset(a, 0, sizeof *a);
    a->verb = argv[0];
    optind = 1;
    for (int c; (c = cli_getopt(argc, argv, "o:s:vqh", auth_opts)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, vib_usage, CLI_EXIT_OK);
        int rc = auth_option(a, c, optarg);
        if (rc >= 0)
            return rc;
    }
    bool oem = strcmp(a->verb, "from-oem") == 0;
    if (argc - optind != (oem ? 1 : 0)) {
        fprintf(stderr, "esximg: vib %s: %s\n", a->verb,
                oem ? "needs exactly one OEM .tgz" : "takes no file arguments");
        return cli_usage(stderr, vib_usage, CLI_EXIT_USAGE);
    }
    if (oem)
        a->input = argv[optind];
    if (!a->output)
        return cli_error(CLI_EXIT_USAGE, "vib %s: give the output with -o FILE", a->verb);
    if (cli_check_output(a->output, "driver.vib"))
        return CLI_EXIT_FAIL;
    a->f.depends = a->depends.items;
    a->f.depends_count = a->depends.count;
    a->f.conflicts = a->conflicts.items;
    a->f.conflicts_count = a->conflicts.count;
    a->f.replaces = a->replaces.items;
    a->f.replaces_count = a->replaces.count;
    a->f.provides = a->provides.items;
    a->f.provides_count = a->provides.count;
    a->f.tags = a->tags.items;
    a->f.tag_count = a->tags.count;
    if (!a->has_mtime)
        a->mtime = cli_source_date(0);
    return -1;
}

static void auth_warn(void *ctx, const char *msg)
{
    (void)ctx;
    cli_warn("%s", msg);
}

/* The release date when no option gave one: SOURCE_DATE_EPOCH, else the descriptor's own,
 * else the member time. */
static int auth_release_date(const struct auth_args *a, const struct esximg_descriptor *d,
                             char *buf, size_t size, const char **out)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    *out = a->f.release_date;
    if (*out)
        return 0;
    int64_t epoch = cli_source_date(-1);
    if (epoch < 0 && d->release_date)
        return 0;
    if (esximg_vibauthor_format_date(epoch >= 0 ? epoch : a->mtime, buf, size, &err))
        return cli_fail(&err);
    *out = buf;
    return 0;
}

/* Applies the options, builds, writes the output. Takes `d`. */
static int auth_build_write(const struct auth_args *a, struct esximg_descriptor *d,
                            const struct esximg_vibauthor_payload *payloads, size_t count)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    char date[48];
    struct esximg_vibauthor_fields f = a->f;
    uint8_t *vib = NULL;
    size_t len = 0;
    int rc = auth_release_date(a, d, date, sizeof date, &f.release_date);
    if (rc)
        goto out;
    struct cli_progress bar = {.label = "building"};
    const struct esximg_vibauthor_opts o = {
        .mtime = a->mtime, .warn = auth_warn, .progress = cli_progress_cb, .progress_arg = &bar,
    };
    if (!esximg_vibauthor_apply(d, &f, &err))
        rc = esximg_vibauthor_build(d, payloads, count, &o, &vib, &len, &err);
    else
        rc = err.code;
    cli_progress_end(&bar);
    if (rc || esximg_file_write(a->output, vib, len, 0644, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    char *id = esximg_descriptor_vib_id(d);
    cli_note("wrote %s (%s, %zu bytes)", a->output, id ? id : "?", len);
    free(id);
out:
    free(vib);
    esximg_descriptor_free(d);
    return rc;
}

/* --payload NAME=DIR[:TYPE] */
static int auth_payload_arg(const char *arg, struct esximg_vibauthor_payload *p, char **buf)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return cli_error(CLI_EXIT_USAGE, "--payload '%s': not NAME=DIR[:TYPE]", arg);
    char *copy = strdup(arg);
    if (!copy)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    char *dir = copy + (eq - arg);
    *dir++ = '\0';
    char *colon = strrchr(dir, ':');
    *p = (struct esximg_vibauthor_payload){0};   /* a folder only: no in-memory entries */
    if (colon && (strcmp(colon, ":vgz") == 0 || strcmp(colon, ":tgz") == 0)) {
        *colon = '\0';
        p->type = colon + 1;
    }
    p->name = copy;
    p->dir = dir;
    *buf = copy;
    return -1;
}

static int vib_create(int argc, char **argv)
{
    struct auth_args a;
    int rc = auth_parse(argc, argv, &a);
    if (rc >= 0) {
        auth_args_free(&a);
        return rc;
    }
    struct esximg_err err;
    esximg_err_clear(&err);
    struct esximg_vibauthor_stage *stage = NULL;
    struct esximg_descriptor *d = NULL;
    size_t cap = a.payloads.count + 1;
    struct esximg_vibauthor_payload *p = NULL;
    char **bufs = calloc(cap, sizeof *bufs);
    size_t n = 0;
    if (a.driver || a.pcis.count) {
        rc = cli_error(CLI_EXIT_USAGE, "vib create: --driver and --pci are for map-only");
        goto out;
    }
    if (a.stage && esximg_vibauthor_stage_read(a.stage, &stage, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (stage)
        cap += stage->payload_count;
    if (!bufs || !(p = calloc(cap, sizeof *p))) {
        rc = cli_error(CLI_EXIT_FAIL, "out of memory");
        goto out;
    }
    for (size_t i = 0; stage && i < stage->payload_count; i++)
        p[n++] = stage->payloads[i];
    for (size_t i = 0; i < a.payloads.count; i++) {
        struct esximg_vibauthor_payload given = {0};
        if ((rc = auth_payload_arg(a.payloads.items[i], &given, &bufs[i])) >= 0)
            goto out;
        size_t k = 0;
        while (k < n && strcmp(p[k].name, given.name) != 0)
            k++;
        p[k] = given;   /* an option replaces the stage's folder of that name */
        if (k == n)
            n++;
    }
    if (stage) {
        d = stage->desc;
        stage->desc = NULL;
    } else if (esximg_vibauthor_descriptor_new(&d, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    rc = auth_build_write(&a, d, p, n);
out:
    for (size_t i = 0; bufs && i < a.payloads.count; i++)
        free(bufs[i]);
    free(bufs);
    free(p);
    esximg_vibauthor_stage_free(stage);
    auth_args_free(&a);
    return rc;
}

static int vib_from_oem(int argc, char **argv)
{
    struct auth_args a;
    int rc = auth_parse(argc, argv, &a);
    if (rc >= 0) {
        auth_args_free(&a);
        return rc;
    }
    struct esximg_err err;
    esximg_err_clear(&err);
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_vibauthor_oem *oem = NULL;
    struct esximg_descriptor *d = NULL;
    if (a.stage || a.payloads.count || a.driver || a.pcis.count) {
        rc = cli_error(CLI_EXIT_USAGE, "vib from-oem: --stage, --payload, --driver and --pci "
                       "do not apply");
        goto out;
    }
    if (esximg_file_read(a.input, 0, &data, &len, &err) ||
        esximg_vibauthor_oem_read(data, len, &oem, &err)) {
        esximg_err_file(&err, a.input);
        rc = cli_fail(&err);
        goto out;
    }
    cli_note_read(a.input, "OEM driver archive, module '%s'", oem->module);
    if (esximg_vibauthor_oem_descriptor(oem, &d, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    struct esximg_vibauthor_oem_payload p;
    esximg_vibauthor_oem_payload(oem, a.f.name ? a.f.name : d->name, &p);
    rc = auth_build_write(&a, d, &p.payload, 1);
out:
    esximg_vibauthor_oem_free(oem);
    free(data);
    auth_args_free(&a);
    return rc;
}

struct auth_map_files {
    struct esximg_vibauthor_pci_id *ids;
    struct esximg_vibauthor_pci_name *names;
    char **id_strs;             /* the ID parts of --name ID=TEXT */
    size_t id_str_count;
    char *map, *ids_text;
    size_t map_len, ids_len;
};

static int auth_map_build(const struct auth_args *a, struct auth_map_files *m)
{
    struct esximg_err err;
    esximg_err_clear(&err);
    m->ids = calloc(a->pcis.count + 1, sizeof *m->ids);
    m->names = calloc(a->id_names.count + 1, sizeof *m->names);
    m->id_strs = calloc(a->id_names.count + 1, sizeof *m->id_strs);
    if (!m->ids || !m->names || !m->id_strs)
        return cli_error(CLI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < a->pcis.count; i++)
        if (esximg_vibauthor_pci_parse(a->pcis.items[i], &m->ids[i], &err))
            return cli_fail(&err);
    for (size_t i = 0; i < a->id_names.count; i++) {
        const char *eq = strchr(a->id_names.items[i], '=');
        char *id = strndup(a->id_names.items[i], (size_t)(eq - a->id_names.items[i]));
        if (!id)
            return cli_error(CLI_EXIT_FAIL, "out of memory");
        m->id_strs[m->id_str_count++] = id;
        m->names[i] = (struct esximg_vibauthor_pci_name){ id, eq + 1 };
    }
    if (esximg_vibauthor_map_text(a->driver, m->ids, a->pcis.count, &m->map, &m->map_len,
                                  &err) ||
        esximg_vibauthor_ids_text(m->ids, a->pcis.count, m->names, a->id_names.count,
                                  &m->ids_text, &m->ids_len, &err))
        return cli_fail(&err);
    return 0;
}

static int vib_map_only(int argc, char **argv)
{
    struct auth_args a;
    int rc = auth_parse(argc, argv, &a);
    if (rc >= 0) {
        auth_args_free(&a);
        return rc;
    }
    struct auth_map_files m = { 0 };
    struct esximg_descriptor *d = NULL;
    if (a.stage || a.payloads.count) {
        rc = cli_error(CLI_EXIT_USAGE, "vib map-only: --stage and --payload do not apply");
        goto out;
    }
    if (!a.driver || a.pcis.count == 0) {
        rc = cli_error(CLI_EXIT_USAGE, "vib map-only: give --driver and at least one --pci");
        goto out;
    }
    struct esximg_err err;
    esximg_err_clear(&err);
    if ((rc = auth_map_build(&a, &m)))
        goto out;
    if (esximg_vibauthor_map_descriptor(a.driver, &d, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    struct esximg_vibauthor_map_payload p;
    esximg_vibauthor_map_payload(a.f.name ? a.f.name : d->name, m.map, m.map_len, m.ids_text,
                                 m.ids_len, &p);
    rc = auth_build_write(&a, d, &p.payload, 1);
out:
    free(m.ids);
    free(m.names);
    for (size_t i = 0; i < m.id_str_count; i++)
        free(m.id_strs[i]);
    free(m.id_strs);
    free(m.map);
    free(m.ids_text);
    auth_args_free(&a);
    return rc;
}

int cmd_vib(int argc, char **argv)
{
    static const struct cli_verb verbs[] = {
        { "info", vib_info },
        { "extract", vib_extract },
        { "verify", vib_verify },
        { "create", vib_create },
        { "from-oem", vib_from_oem },
        { "map-only", vib_map_only },
        { NULL, NULL },
    };
    return cli_run_verb(verbs, argc, argv, vib_usage);
}
