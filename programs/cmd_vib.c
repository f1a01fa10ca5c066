/* cmd_vib.c: `esximg vib info|extract|verify`: look into, unpack and check one VIB; the verb
 * table and the usage of every vib verb.  The authoring verbs are in vibauthor_cli.c. */
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
#include "vibauthor_cli.h"
#include "esximg/io.h"
#include "esximg/vib.h"

const char vib_usage[] =
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
