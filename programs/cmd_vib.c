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

static const char vib_usage[] =
    "usage: esximg vib info FILE.vib [--json] [-v]\n"
    "       esximg vib extract FILE.vib [-C DIR] [--force]\n"
    "       esximg vib verify FILE.vib [--ca FILE] [--json]\n"
    "\n"
    "  info      print the descriptor: identity, relationships, tags, payloads, signer\n"
    "  extract   write descriptor.xml, sig.pkcs7 and every payload member as files\n"
    "  verify    check every payload's size and checksums, and the signature with --ca\n"
    "\n"
    "  -C, --directory DIR  extract into DIR (default: the current directory)\n"
    "  -f, --force          overwrite existing files when extracting\n"
    "      --ca FILE        PEM CA bundle to verify sig.pkcs7 against\n"
    "      --json           print JSON instead of text\n"
    "  -v, --verbose        also list the files the VIB installs\n"
    "  -h, --help           print this help\n"
    "\n"
    "verify exits 0 when every check passed, 3 when a size, checksum or signature check\n"
    "failed, 1 when the VIB cannot be read.\n";

enum { VIB_OPT_CA = 256, VIB_OPT_JSON };

static const struct option vib_opts[] = {
    { "directory", required_argument, NULL, 'C' },
    { "force", no_argument, NULL, 'f' },
    { "ca", required_argument, NULL, VIB_OPT_CA },
    { "json", no_argument, NULL, VIB_OPT_JSON },
    { "verbose", no_argument, NULL, 'v' },
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
    for (int c; (c = getopt_long(argc, argv, "C:fvh", vib_opts, NULL)) != -1;) {
        if (c == 'h')
            return cli_usage(stdout, vib_usage, CLI_EXIT_OK);
        else if (c == 'C')
            a->dir = optarg;
        else if (c == 'f')
            a->force = true;
        else if (c == 'v')
            cli_verbose = true;
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
    if (esximg_vib_read(in->bytes, in->len, &in->vib, &err)) {
        esximg_err_file(&err, file);
        free(in->bytes);
        in->bytes = NULL;
        return cli_fail(&err);
    }
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
    json_key(&j, "tags");
    json_array_begin(&j);
    for (size_t i = 0; i < d->tag_count; i++)
        json_string(&j, d->tags[i]);
    json_array_end(&j);
    json_kv_bool(&j, "maintenance_mode", d->maintenance_mode);
    json_kv_bool(&j, "live_install_allowed", d->live_install_allowed);
    json_kv_bool(&j, "live_remove_allowed", d->live_remove_allowed);
    json_kv_bool(&j, "stateless_ready", d->stateless_ready);
    json_kv_bool(&j, "overlay", d->overlay);
    json_kv_uint(&j, "file_count", d->file_count);
    json_key(&j, "files");
    json_array_begin(&j);
    for (size_t i = 0; i < d->file_count; i++)
        json_string(&j, d->files[i]);
    json_array_end(&j);
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
        esximg_vib_member_data(v, p->name, &member_len);
        printf("payload:          %s type %s size %zu\n", p->name, p->type, member_len);
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
    vib_close(&in);
    return CLI_EXIT_OK;
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
        cli_note("%s/%s", a.dir, in.vib->members[i].name);
    vib_close(&in);
    return CLI_EXIT_OK;
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
        else
            printf("%s: %s: FAILED (expected %s, got %s)\n", c->payload, c->what,
                   vib_or(c->expected, "-"), vib_or(c->actual, "-"));
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
        { NULL, NULL },
    };
    return cli_run_verb(verbs, argc, argv, vib_usage);
}
