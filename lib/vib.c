/* vib.c: VIB packages: the ar container (read in three dialects, written in VMware's), the
 * member order rules, and the verification of payload sizes, checksums and sig.pkcs7. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "esx_private.h"
#include "esximg/io.h"
#include "esximg/vib.h"
#include "esximg/vmtar.h"

/* ---------------------------------------------------------------- ar layout */

#define AR_MAGIC        "!<arch>\n"
#define AR_MAGIC_LEN    8u
#define AR_HDR_LEN      60u
#define AR_NAME_OFF     0u
#define AR_NAME_LEN     16u
#define AR_MTIME_OFF    16u
#define AR_MTIME_LEN    12u
#define AR_UID_OFF      28u
#define AR_UID_LEN      6u
#define AR_GID_OFF      34u
#define AR_GID_LEN      6u
#define AR_MODE_OFF     40u
#define AR_MODE_LEN     8u
#define AR_SIZE_OFF     48u
#define AR_SIZE_LEN     10u
#define AR_FMAG_OFF     58u
#define AR_FMAG         "`\n"
/* the VMware writer's name limit: 16 bytes with at least one pad space */
#define AR_VMWARE_NAME_MAX 15u
/* largest size the 10-digit field holds */
#define AR_SIZE_MAX     9999999999ull

#define VIB_DESCRIPTOR  "descriptor.xml"
#define VIB_SIGNATURE   "sig.pkcs7"

/* ---------------------------------------------------------------- read: parse state */

struct vib_rctx {
    const uint8_t *bytes;
    size_t len;
    size_t cap;                         /* members allocated */
    struct esximg_vib *v;
    uint64_t names_off, names_len;      /* the GNU "//" long-name table, when present */
    bool have_names;
    bool gnu_seen;                      /* a GNU name or table */
    bool nonzero_seen;                  /* a real mtime, uid, gid or mode */
    bool mode_0o0_seen;
};

/* One 60-byte member header, decoded. */
struct vib_hdr {
    char field_name[AR_NAME_LEN + 1];   /* the name field, trailing spaces cut */
    uint64_t size;
    bool blank_fields;                  /* mtime..mode all spaces (GNU tables) */
};

static bool vib_all_spaces(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ')
            return false;
    return true;
}

/* A decimal field of the header: strict digits. */
static int vib_field_decimal(const char *h, size_t off, size_t n, const char *what,
                             uint64_t at, uint64_t *value, struct esximg_err *err)
{
    if (!esx_parse_decimal(h + off, n, value))
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": %s field '%.*s' is not a decimal number", at, what,
                              (int)n, h + off);
    return 0;
}

/* The mode: octal, or the "0o" form Python's oct() writes. */
static int vib_field_mode(struct vib_rctx *c, const char *h, uint64_t at, uint64_t *mode,
                          struct esximg_err *err)
{
    const char *f = h + AR_MODE_OFF;
    size_t skip = 0;
    if (f[0] == '0' && f[1] == 'o') {
        skip = 2;
        c->mode_0o0_seen = true;
    }
    if (!esx_parse_octal(f + skip, AR_MODE_LEN - skip, mode))
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": mode field '%.*s' is not an octal number", at,
                              (int)AR_MODE_LEN, f);
    return 0;
}

static int vib_parse_hdr(struct vib_rctx *c, uint64_t at, struct vib_hdr *out,
                         struct esximg_err *err)
{
    const char *h = (const char *)c->bytes + at;
    if (memcmp(h + AR_FMAG_OFF, AR_FMAG, 2) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": bad magic (not \"`\\n\")", at);
    if (esx_has_nul(h + AR_NAME_OFF, AR_NAME_LEN))
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": name holds a NUL", at);
    size_t name_len = AR_NAME_LEN;
    while (name_len > 0 && h[AR_NAME_OFF + name_len - 1] == ' ')
        name_len--;
    memcpy(out->field_name, h + AR_NAME_OFF, name_len);
    out->field_name[name_len] = '\0';
    if (name_len == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": empty name", at);
    int rc = vib_field_decimal(h, AR_SIZE_OFF, AR_SIZE_LEN, "size", at, &out->size, err);
    if (rc)
        return rc;
    /* GNU ar leaves mtime..mode blank on its "/" and "//" tables */
    out->blank_fields = vib_all_spaces(h + AR_MTIME_OFF, AR_SIZE_OFF - AR_MTIME_OFF);
    if (out->blank_fields && out->field_name[0] == '/')
        return 0;
    uint64_t mtime, uid, gid, mode;
    rc = vib_field_decimal(h, AR_MTIME_OFF, AR_MTIME_LEN, "mtime", at, &mtime, err);
    if (!rc)
        rc = vib_field_decimal(h, AR_UID_OFF, AR_UID_LEN, "uid", at, &uid, err);
    if (!rc)
        rc = vib_field_decimal(h, AR_GID_OFF, AR_GID_LEN, "gid", at, &gid, err);
    if (!rc)
        rc = vib_field_mode(c, h, at, &mode, err);
    if (rc)
        return rc;
    if (mtime || uid || gid || mode)
        c->nonzero_seen = true;
    return 0;
}

/* A name "/<offset>" looked up in the GNU long-name table. */
static int vib_long_name(struct vib_rctx *c, const char *ref, uint64_t at, char **name,
                         struct esximg_err *err)
{
    uint64_t off;
    size_t ref_len = strlen(ref);
    if (!c->have_names)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": long name '%s' but no '//' name table", at, ref);
    if (ref_len < 2 || !esx_parse_decimal(ref + 1, ref_len - 1, &off) || off >= c->names_len)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": bad long name reference '%s'", at, ref);
    const char *table = (const char *)c->bytes + c->names_off;
    size_t left = (size_t)(c->names_len - off);
    const char *start = table + off;
    const char *end = memchr(start, '\n', left);
    size_t n = end ? (size_t)(end - start) : left;
    if (n > 0 && start[n - 1] == '/')
        n--;
    if (n == 0 || n > ESX_MAX_PATH_BYTES || esx_has_nul(start, n))
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              ": long name '%s' is empty, too long or holds a NUL", at, ref);
    *name = esx_strndup(start, n);
    if (!*name)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    c->gnu_seen = true;
    return 0;
}

static int vib_add_member(struct vib_rctx *c, char *name, uint64_t data_off, uint64_t size,
                          struct esximg_err *err)
{
    struct esximg_vib *v = c->v;
    if (v->member_count >= ESX_MAX_AR_MEMBERS) {
        free(name);
        return esximg_err_set(err, ESXIMG_ELIMIT, "ar archive has more than %u members",
                              ESX_MAX_AR_MEMBERS);
    }
    if (v->member_count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct esximg_vib_member *grown = esx_realloc_array(v->members, cap, sizeof *grown);
        if (!grown) {
            free(name);
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        }
        v->members = grown;
        c->cap = cap;
    }
    for (size_t i = 0; i < v->member_count; i++) {
        if (strcmp(v->members[i].name, name) == 0) {
            int rc = esximg_err_set(err, ESXIMG_EFORMAT, "member '%s' appears twice", name);
            free(name);
            return rc;
        }
    }
    struct esximg_vib_member *m = &v->members[v->member_count++];
    m->name = name;
    m->offset = data_off;
    m->size = size;
    return 0;
}

/* One member at `at`: its header, name and data bounds. Sets *next past it (and its pad). */
static int vib_read_member(struct vib_rctx *c, uint64_t at, uint64_t *next,
                           struct esximg_err *err)
{
    struct vib_hdr h;
    if (c->len - at < AR_HDR_LEN)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                              " is truncated (%" PRIu64 " of %u bytes)", at,
                              (uint64_t)(c->len - at), AR_HDR_LEN);
    int rc = vib_parse_hdr(c, at, &h, err);
    if (rc)
        return rc;
    uint64_t data_off = at + AR_HDR_LEN;
    if (h.size > c->len - data_off)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member '%s' at offset %" PRIu64
                              ": size %" PRIu64 " runs past the end of the archive (%zu bytes)",
                              h.field_name, at, h.size, c->len);
    /* the pad byte after an odd size may be missing at the very end */
    *next = data_off + h.size;
    if ((h.size & 1) && *next < c->len)
        (*next)++;
    if (strcmp(h.field_name, "//") == 0) {
        if (c->have_names)
            return esximg_err_set(err, ESXIMG_EFORMAT, "ar archive has two '//' name tables");
        c->have_names = true;
        c->gnu_seen = true;
        c->names_off = data_off;
        c->names_len = h.size;
        return 0;
    }
    if (strcmp(h.field_name, "/") == 0 || strcmp(h.field_name, "/SYM64/") == 0)
        return 0;   /* a symbol table: not a member of a VIB */
    char *name;
    if (h.field_name[0] == '/') {
        rc = vib_long_name(c, h.field_name, at, &name, err);
        if (rc)
            return rc;
    } else {
        size_t n = strlen(h.field_name);
        if (h.field_name[n - 1] == '/') {
            n--;
            c->gnu_seen = true;
        }
        if (n == 0)
            return esximg_err_set(err, ESXIMG_EFORMAT, "member header at offset %" PRIu64
                                  ": empty name", at);
        name = esx_strndup(h.field_name, n);
        if (!name)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    return vib_add_member(c, name, data_off, h.size, err);
}

static int vib_read_members(struct vib_rctx *c, struct esximg_err *err)
{
    if (c->len < AR_MAGIC_LEN || memcmp(c->bytes, AR_MAGIC, AR_MAGIC_LEN) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "not an ar archive (no \"!<arch>\" header)");
    uint64_t at = AR_MAGIC_LEN;
    while (at < c->len) {
        uint64_t next = c->len;
        int rc = vib_read_member(c, at, &next, err);
        if (rc)
            return rc;
        at = next;
    }
    if (c->v->member_count == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "ar archive has no members");
    return 0;
}

static const struct esximg_vib_member *vib_find(const struct esximg_vib *v, const char *name,
                                                size_t *index)
{
    for (size_t i = 0; i < v->member_count; i++) {
        if (strcmp(v->members[i].name, name) == 0) {
            if (index)
                *index = i;
            return &v->members[i];
        }
    }
    return NULL;
}

/* descriptor.xml first, sig.pkcs7 second, and a member for every payload after them. */
static int vib_check_order(struct esximg_vib *v, struct esximg_err *err)
{
    const struct esximg_vib_member *m = v->members;
    if (strcmp(m[0].name, "debian-binary") == 0)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "an ESX 4.x VIB (first member "
                              "'debian-binary') is not supported: ESXi 5 and later need "
                              "'descriptor.xml' first");
    if (strcmp(m[0].name, VIB_DESCRIPTOR) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "first member is '%s', not '"
                              VIB_DESCRIPTOR "'", m[0].name);
    if (v->member_count < 2)
        return esximg_err_set(err, ESXIMG_EFORMAT, "no '" VIB_SIGNATURE "' member after '"
                              VIB_DESCRIPTOR "'");
    if (strcmp(m[1].name, VIB_SIGNATURE) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "second member is '%s', not '"
                              VIB_SIGNATURE "'", m[1].name);
    return 0;
}

/* ---------------------------------------------------------------- read: problems */

struct vib_pctx {
    struct esximg_vib *v;
    size_t cap;
};

static int vib_add_problem(struct vib_pctx *c, enum esximg_vib_problem_kind kind,
                           const char *member, const char *expected, const char *actual,
                           struct esximg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int vib_add_problem(struct vib_pctx *c, enum esximg_vib_problem_kind kind,
                           const char *member, const char *expected, const char *actual,
                           struct esximg_err *err, const char *fmt, ...)
{
    struct esximg_vib *v = c->v;
    if (v->problem_count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct esximg_vib_problem *grown = esx_realloc_array(v->problems, cap, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        v->problems = grown;
        c->cap = cap;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct esximg_vib_problem *p = &v->problems[v->problem_count++];
    *p = (struct esximg_vib_problem){
        .kind = kind, .member = esx_strdup(member), .msg = esx_strdup(msg),
        .expected = expected ? esx_strdup(expected) : NULL,
        .actual = actual ? esx_strdup(actual) : NULL,
    };
    if (!p->member || !p->msg || (expected && !p->expected) || (actual && !p->actual))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

/* What the payload's type promises, or NULL for types whose content is not sniffed (boot,
 * vzstd, ...). */
static const char *vib_type_promise(const char *type, bool *vmtar_only)
{
    if (!type)
        return NULL;
    *vmtar_only = strcmp(type, "vgz") == 0 || strcmp(type, "installer_vgz") == 0;
    if (*vmtar_only)
        return "gzip'd vmtar";
    /* a tgz may hold a vmtar (6.7's weaselin) as well as a ustar or GNU tar */
    return strcmp(type, "tgz") == 0 ? "gzip'd tar" : NULL;
}

/* A vgz payload must be a gzip'd vmtar, a tgz one a gzip'd tar of any kind: the boot loader
 * and the installer read them so.  Only the first header is inflated.  Returns what the type
 * promises when the bytes break the promise (*actual then says what they are), else NULL.
 * A check of verify, not of reading: the reader looks at names and sizes only. */
static const char *vib_format_broken(const struct esximg_payload *p, const uint8_t *data,
                                     size_t len, char actual[64])
{
    bool vmtar_only = false;
    const char *promise = vib_type_promise(p->type, &vmtar_only);
    if (!promise)
        return NULL;
    bool gzipped = false;
    int format = esximg_vmtar_sniff_data(data, len, &gzipped);
    if (gzipped && (format == ESXIMG_TAR_VMTAR || (!vmtar_only && format != ESXIMG_TAR_UNKNOWN)))
        return NULL;
    if (format == ESXIMG_TAR_UNKNOWN)
        snprintf(actual, 64, "%s", gzipped ? "gzip'd data that is no tar"
                                           : "data that is not gzip'd");
    else
        snprintf(actual, 64, "%s%s", gzipped ? "gzip'd " : "", esximg_tar_format_name(format));
    return promise;
}

static int vib_check_payload(struct vib_pctx *c, const struct esximg_payload *p,
                             struct esximg_err *err)
{
    size_t index;
    const struct esximg_vib_member *m = vib_find(c->v, p->name, &index);
    if (!m)
        return vib_add_problem(c, ESXIMG_VIB_PROBLEM_MISSING, p->name, NULL, NULL, err,
                               "payload '%s' has no member in the archive", p->name);
    if (index < 2)
        return esximg_err_set(err, ESXIMG_EFORMAT, "payload '%s' has the name of a "
                              "descriptor or signature member", p->name);
    if (p->has_size && p->size != m->size) {
        char expected[24], actual[24];
        snprintf(expected, sizeof expected, "%" PRIu64, p->size);
        snprintf(actual, sizeof actual, "%" PRIu64, m->size);
        return vib_add_problem(c, ESXIMG_VIB_PROBLEM_SIZE, p->name, expected, actual, err,
                               "payload '%s' is %s bytes, its descriptor says %s", p->name,
                               actual, expected);
    }
    return 0;
}

/* Every payload against its member, then the members that no payload names. */
static int vib_find_problems(struct esximg_vib *v, struct esximg_err *err)
{
    struct vib_pctx c = { .v = v, .cap = 0 };
    int rc = 0;
    for (size_t i = 0; !rc && i < v->desc->payload_count; i++)
        rc = vib_check_payload(&c, &v->desc->payloads[i], err);
    for (size_t i = 2; !rc && i < v->member_count; i++) {
        const char *name = v->members[i].name;
        if (!esximg_descriptor_payload(v->desc, name))
            rc = vib_add_problem(&c, ESXIMG_VIB_PROBLEM_UNEXPECTED, name, NULL, NULL, err,
                                 "member '%s' is not a payload of the descriptor", name);
    }
    return rc;
}

/* Without keep_missing, a payload without a member is an error, as it always was: naming
 * the unexpected members too, for the VIB re-packed with its payload renamed. */
static int vib_refuse_missing(const struct esximg_vib *v, struct esximg_err *err)
{
    const struct esximg_vib_problem *missing = NULL, *unexpected = NULL;
    for (size_t i = 0; i < v->problem_count; i++) {
        const struct esximg_vib_problem *p = &v->problems[i];
        if (p->kind == ESXIMG_VIB_PROBLEM_MISSING && !missing)
            missing = p;
        if (p->kind == ESXIMG_VIB_PROBLEM_UNEXPECTED && !unexpected)
            unexpected = p;
    }
    if (!missing)
        return 0;
    if (unexpected)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s (it has member '%.200s', which is not a "
                              "payload of the descriptor)", missing->msg, unexpected->member);
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s", missing->msg);
}

int esximg_vib_read(const void *data, size_t len, struct esximg_vib **out,
                    struct esximg_err *err)
{
    return esximg_vib_read_opts(data, len, NULL, out, err);
}

const char *esximg_vib_problem_name(enum esximg_vib_problem_kind k)
{
    static const char *const names[] = { "missing", "unexpected", "size" };
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

int esximg_vib_read_opts(const void *data, size_t len, const struct esximg_vib_ropts *o,
                         struct esximg_vib **out, struct esximg_err *err)
{
    struct vib_rctx c;
    memset(&c, 0, sizeof c);
    c.bytes = data;
    c.len = len;
    c.v = calloc(1, sizeof *c.v);
    if (!c.v)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    c.v->bytes = data;
    c.v->len = len;
    int rc = vib_read_members(&c, err);
    if (rc)
        goto out;
    struct esximg_vib *v = c.v;
    if (strcmp(v->members[0].name, VIB_DESCRIPTOR) == 0) {
        v->descriptor_bytes = v->bytes + v->members[0].offset;
        v->descriptor_len = (size_t)v->members[0].size;
    }
    if (v->member_count >= 2 && strcmp(v->members[1].name, VIB_SIGNATURE) == 0) {
        v->sig = v->bytes + v->members[1].offset;
        v->sig_len = (size_t)v->members[1].size;
    }
    if (!v->descriptor_bytes) {
        rc = vib_check_order(v, err);   /* says what is first instead */
        goto out;
    }
    rc = esximg_descriptor_read(v->descriptor_bytes, v->descriptor_len, &v->desc, err);
    if (rc) {
        esximg_err_prefix(err, VIB_DESCRIPTOR ": ");
        goto out;
    }
    rc = vib_check_order(v, err);
    if (!rc)
        rc = vib_find_problems(v, err);
    if (!rc && !(o && o->keep_missing))
        rc = vib_refuse_missing(v, err);
    if (rc)
        goto out;
    v->dialect = c.gnu_seen || c.nonzero_seen ? ESXIMG_AR_GNU
                 : c.mode_0o0_seen ? ESXIMG_AR_VMWARE_0O0 : ESXIMG_AR_VMWARE;
    *out = v;
    c.v = NULL;
out:
    esximg_vib_free(c.v);
    return rc;
}

void esximg_vib_free(struct esximg_vib *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->member_count; i++)
        free(v->members[i].name);
    free(v->members);
    for (size_t i = 0; i < v->problem_count; i++) {
        free(v->problems[i].member);
        free(v->problems[i].expected);
        free(v->problems[i].actual);
        free(v->problems[i].msg);
    }
    free(v->problems);
    esximg_descriptor_free(v->desc);
    free(v);
}

const uint8_t *esximg_vib_member_data(const struct esximg_vib *v, const char *name,
                                      size_t *len)
{
    if (!v || !name)
        return NULL;
    const struct esximg_vib_member *m = vib_find(v, name, NULL);
    if (!m)
        return NULL;
    if (len)
        *len = (size_t)m->size;
    return v->bytes + m->offset;
}

/* ---------------------------------------------------------------- verify */

/* Decompressed bytes hashed per stored byte before a payload counts as a bomb (the in-memory
 * ratio limit, applied to the whole member) */
#define VIB_HASH_CHUNK  65536u

/* Hashes of one payload, computed once each and shared by its checksums. */
struct vib_sums {
    const uint8_t *data;
    size_t len;
    const char *type;           /* payload type: "vzstd" needs a zstd pass for "gunzip" */
    char stored[2][65];         /* [ESX_SHA1], [ESX_SHA256] of the member */
    char full[2][65];           /* of the fully decompressed content */
    char once[65];              /* sha-256 after one gunzip */
    bool have_stored, have_full, have_once;
    char *full_error, *once_error;
    bool full_unsupported;
};

static uint64_t vib_inflate_cap(size_t stored)
{
    uint64_t cap;
    if (esx_mul_u64((uint64_t)stored, ESX_MAX_GUNZIP_RATIO, &cap) || cap > ESX_MAX_FILE_BYTES *
        (uint64_t)ESX_MAX_GUNZIP_RATIO)
        cap = ESX_MAX_FILE_BYTES * (uint64_t)ESX_MAX_GUNZIP_RATIO;
    return cap < ESX_GUNZIP_RATIO_FLOOR ? ESX_GUNZIP_RATIO_FLOOR : cap;
}

static int vib_digests_new(struct esx_digest *d[2], struct esximg_err *err)
{
    d[0] = d[1] = NULL;
    int rc = esx_digest_new(ESX_SHA1, &d[0], err);
    if (!rc)
        rc = esx_digest_new(ESX_SHA256, &d[1], err);
    return rc;
}

static int vib_digests_update(struct esx_digest *d[2], const void *p, size_t n,
                              struct esximg_err *err)
{
    int rc = esx_digest_update(d[0], p, n, err);
    return rc ? rc : esx_digest_update(d[1], p, n, err);
}

static int vib_digests_final(struct esx_digest *d[2], char out[2][65], struct esximg_err *err)
{
    int rc = esx_digest_final_hex(d[0], out[0], err);
    return rc ? rc : esx_digest_final_hex(d[1], out[1], err);
}

/* Streams one gunzip of the payload through both digests. A corrupt or oversized stream is
 * a failed check (its message in *why), not an error of the call. */
static int vib_hash_gunzip(const struct vib_sums *s, char out[2][65], char **why,
                           struct esximg_err *err)
{
    struct esx_digest *d[2];
    struct esx_gzstream *z = NULL;
    struct esximg_err zerr;
    esximg_err_clear(&zerr);
    uint8_t *chunk = malloc(VIB_HASH_CHUNK);
    int rc = chunk ? vib_digests_new(d, err) : esximg_err_set(err, ESXIMG_ENOMEM,
                                                              "out of memory");
    if (rc)
        goto out;
    uint64_t cap = vib_inflate_cap(s->len), total = 0;
    if (esx_gzstream_open(s->data, s->len, &z, &zerr))
        goto failed;
    for (;;) {
        size_t got;
        if (esx_gzstream_read(z, chunk, VIB_HASH_CHUNK, &got, &zerr))
            goto failed;
        if (got == 0)
            break;
        total += got;
        if (total > cap) {
            esximg_err_set(&zerr, ESXIMG_ELIMIT, "inflates to more than %" PRIu64 " bytes",
                           cap);
            goto failed;
        }
        rc = vib_digests_update(d, chunk, got, err);
        if (rc)
            goto out;
    }
    rc = vib_digests_final(d, out, err);
    goto out;
failed:
    *why = esx_strdup(zerr.msg);
    if (!*why)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
out:
    esx_gzstream_close(z);
    if (chunk) {
        esx_digest_free(d[0]);
        esx_digest_free(d[1]);
    }
    free(chunk);
    return rc;
}

/* vzstd payloads are zstd inside gzip: their "gunzip" sums are of the content under both */
static int vib_hash_gunzip_zstd(const struct vib_sums *s, char out[2][65], char **why,
                                bool *unsupported, struct esximg_err *err)
{
    struct esx_digest *d[2] = { NULL, NULL };
    struct archive *a = archive_read_new();
    struct archive_entry *entry;
    const char *problem = NULL;
    char problem_buf[256];
    uint8_t *chunk = malloc(VIB_HASH_CHUNK);
    int rc = 0;
    if (!a || !chunk) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    /* ARCHIVE_WARN means an external program would be run: not wanted */
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
        archive_read_support_format_raw(a) != ARCHIVE_OK) {
        *unsupported = true;
        goto out;
    }
    rc = vib_digests_new(d, err);
    if (rc)
        goto out;
    if (archive_read_open_memory(a, s->data, s->len) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK) {
        problem = archive_error_string(a);
        goto failed;
    }
    uint64_t cap = vib_inflate_cap(s->len), total = 0;
    for (;;) {
        la_ssize_t got = archive_read_data(a, chunk, VIB_HASH_CHUNK);
        if (got < 0) {
            problem = archive_error_string(a);
            goto failed;
        }
        if (got == 0)
            break;
        total += (uint64_t)got;
        if (total > cap) {
            snprintf(problem_buf, sizeof problem_buf, "inflates to more than %" PRIu64
                     " bytes", cap);
            problem = problem_buf;
            goto failed;
        }
        rc = vib_digests_update(d, chunk, (size_t)got, err);
        if (rc)
            goto out;
    }
    rc = vib_digests_final(d, out, err);
    goto out;
failed:
    *why = esx_strdup(problem ? problem : "cannot decompress");
    if (!*why)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
out:
    esx_digest_free(d[0]);
    esx_digest_free(d[1]);
    if (a)
        archive_read_free(a);
    free(chunk);
    return rc;
}

static int vib_sums_stored(struct vib_sums *s, struct esximg_err *err)
{
    if (s->have_stored)
        return 0;
    int rc = esx_digest_hex(ESX_SHA1, s->data, s->len, s->stored[ESX_SHA1], err);
    if (!rc)
        rc = esx_digest_hex(ESX_SHA256, s->data, s->len, s->stored[ESX_SHA256], err);
    s->have_stored = !rc;
    return rc;
}

static int vib_sums_once(struct vib_sums *s, struct esximg_err *err)
{
    if (s->have_once || s->once_error)
        return 0;
    char both[2][65];
    int rc = vib_hash_gunzip(s, both, &s->once_error, err);
    if (!rc && !s->once_error) {
        memcpy(s->once, both[ESX_SHA256], sizeof s->once);
        s->have_once = true;
        if (strcmp(s->type, "vzstd") != 0) {
            memcpy(s->full, both, sizeof s->full);
            s->have_full = true;
        }
    }
    return rc;
}

static int vib_sums_full(struct vib_sums *s, struct esximg_err *err)
{
    if (s->have_full || s->full_error || s->full_unsupported)
        return 0;
    if (strcmp(s->type, "vzstd") != 0) {
        int rc = vib_sums_once(s, err);
        if (!rc && s->once_error) {
            s->full_error = esx_strdup(s->once_error);
            if (!s->full_error)
                rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        }
        return rc;
    }
    int rc = vib_hash_gunzip_zstd(s, s->full, &s->full_error, &s->full_unsupported, err);
    s->have_full = !rc && !s->full_error && !s->full_unsupported;
    return rc;
}

struct vib_vctx {
    struct esximg_vib_verify_result *r;
    size_t cap;
};

static int vib_add_check(struct vib_vctx *c, const char *payload, const char *what,
                         const char *expected, const char *actual, bool ok, bool skipped,
                         struct esximg_err *err)
{
    struct esximg_vib_verify_result *r = c->r;
    if (r->check_count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct esximg_vib_check *grown = esx_realloc_array(r->checks, cap, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        r->checks = grown;
        c->cap = cap;
    }
    struct esximg_vib_check *k = &r->checks[r->check_count];
    memset(k, 0, sizeof *k);
    k->payload = esx_strdup(payload);
    k->what = esx_strdup(what);
    k->expected = expected ? esx_strdup(expected) : NULL;
    k->actual = actual ? esx_strdup(actual) : NULL;
    k->ok = ok;
    k->skipped = skipped;
    r->check_count++;
    if (!k->payload || !k->what || (expected && !k->expected) || (actual && !k->actual))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!ok)
        r->all_ok = false;
    return 0;
}

/* "(reason)" in place of a hash that could not be computed */
static int vib_add_failed(struct vib_vctx *c, const char *payload, const char *what,
                          const char *expected, const char *why, bool skipped,
                          struct esximg_err *err)
{
    char actual[300];
    snprintf(actual, sizeof actual, "(%s)", why);
    return vib_add_check(c, payload, what, expected, actual, false, skipped, err);
}

static int vib_check_sum(struct vib_vctx *c, struct vib_sums *s, const char *payload,
                         const struct esximg_checksum *sum, struct esximg_err *err)
{
    const char *type = sum->type, *process = sum->verify_process;
    const char *expected = sum->value ? sum->value : "";
    bool plain = !process || !process[0], gunzip = process && strcmp(process, "gunzip") == 0;
    enum esx_digest_kind kind = strcmp(type, "sha-1") == 0 ? ESX_SHA1 : ESX_SHA256;
    bool known_hash = strcmp(type, "sha-1") == 0 || strcmp(type, "sha-256") == 0;
    char what[96];
    int rc;
    if (strcmp(type, "sha-256-gunzip1") == 0 && plain) {
        rc = vib_sums_once(s, err);
        if (rc)
            return rc;
        if (s->once_error)
            return vib_add_failed(c, payload, type, expected, s->once_error, false, err);
        return vib_add_check(c, payload, type, expected, s->once,
                             strcasecmp(expected, s->once) == 0, false, err);
    }
    if (known_hash && plain) {
        rc = vib_sums_stored(s, err);
        if (rc)
            return rc;
        return vib_add_check(c, payload, type, expected, s->stored[kind],
                             strcasecmp(expected, s->stored[kind]) == 0, false, err);
    }
    snprintf(what, sizeof what, "%.40s (%.40s)", type, process ? process : "");
    if (!known_hash || !gunzip)
        return vib_add_failed(c, payload, what, expected, "unknown checksum type, skipped",
                              true, err);
    rc = vib_sums_full(s, err);
    if (rc)
        return rc;
    if (s->full_unsupported)
        return vib_add_failed(c, payload, what, expected, "no zstd decoder, skipped", true,
                              err);
    if (s->full_error)
        return vib_add_failed(c, payload, what, expected, s->full_error, false, err);
    return vib_add_check(c, payload, what, expected, s->full[kind],
                         strcasecmp(expected, s->full[kind]) == 0, false, err);
}

/* Size, checksums and format of one payload's bytes, the checks labelled `label`. */
static int vib_verify_data(struct vib_vctx *c, const struct esximg_payload *p,
                           const char *label, const uint8_t *data, size_t len,
                           struct esximg_err *err)
{
    struct vib_sums s;
    memset(&s, 0, sizeof s);
    s.data = data;
    s.len = len;
    s.type = p->type ? p->type : "";
    int rc = 0;
    if (p->has_size) {
        char expected[24], actual[24];
        snprintf(expected, sizeof expected, "%" PRIu64, p->size);
        snprintf(actual, sizeof actual, "%zu", s.len);
        rc = vib_add_check(c, label, "size", expected, actual, p->size == (uint64_t)s.len,
                           false, err);
    }
    for (size_t i = 0; !rc && i < p->checksum_count; i++)
        rc = vib_check_sum(c, &s, label, &p->checksums[i], err);
    char actual[64];
    const char *promise = rc ? NULL : vib_format_broken(p, data, len, actual);
    if (promise)   /* a line only when broken: the sums above already vouch for good ones */
        rc = vib_add_check(c, label, "format", promise, actual, false, false, err);
    free(s.full_error);
    free(s.once_error);
    return rc;
}

/* The one member no payload names, when exactly one payload has no member: most likely that
 * payload under another name (a VIB re-packed by hand), so its bytes are checked against the
 * payload's size and sums; otherwise NULL. */
static const struct esximg_vib_problem *vib_renamed(const struct esximg_vib *v)
{
    const struct esximg_vib_problem *unexpected = NULL;
    size_t missing = 0, unexpected_count = 0;
    for (size_t i = 0; i < v->problem_count; i++) {
        if (v->problems[i].kind == ESXIMG_VIB_PROBLEM_MISSING)
            missing++;
        if (v->problems[i].kind == ESXIMG_VIB_PROBLEM_UNEXPECTED) {
            unexpected = &v->problems[i];
            unexpected_count++;
        }
    }
    return missing == 1 && unexpected_count == 1 ? unexpected : NULL;
}

static int vib_verify_payload(struct vib_vctx *c, const struct esximg_vib *v,
                              const struct esximg_payload *p, struct esximg_err *err)
{
    size_t len;
    const uint8_t *data = esximg_vib_member_data(v, p->name, &len);
    if (data)
        return vib_verify_data(c, p, p->name, data, len, err);
    int rc = vib_add_check(c, p->name, "member", NULL, "no member in the archive", false, false,
                           err);
    const struct esximg_vib_problem *renamed = vib_renamed(v);
    if (rc || !renamed)
        return rc;
    char label[600];
    snprintf(label, sizeof label, "%.250s as member '%.250s'", p->name, renamed->member);
    data = esximg_vib_member_data(v, renamed->member, &len);
    return vib_verify_data(c, p, label, data, len, err);
}

/* The members no payload names: each a failed check. */
static int vib_verify_unexpected(struct vib_vctx *c, const struct esximg_vib *v,
                                 struct esximg_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < v->problem_count; i++)
        if (v->problems[i].kind == ESXIMG_VIB_PROBLEM_UNEXPECTED)
            rc = vib_add_check(c, v->problems[i].member, "member", NULL,
                               "not a payload of the descriptor", false, false, err);
    return rc;
}

static char *vib_name_line(X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *line = NULL;
    if (!bio)
        return NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p;
        long n = BIO_get_mem_data(bio, &p);
        if (n >= 0)
            line = esx_strndup(p, (size_t)n);
    }
    BIO_free(bio);
    return line;
}

/* A CA bundle as a store; an unreadable bundle is an error of the call. */
static int vib_load_store(const char *ca_file, X509_STORE **out, struct esximg_err *err)
{
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (X509_STORE_load_locations(store, ca_file, NULL) != 1) {
        ERR_clear_error();
        X509_STORE_free(store);
        return esximg_err_set(err, ESXIMG_EINVAL, "cannot load CA bundle '%s'", ca_file);
    }
    /* the signing certificates are checked for what they are, not for when: VMware's expire
     * long before the VIBs they signed, and the result must not depend on the clock */
    X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
    X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
    *out = store;
    return 0;
}

static int vib_sig_check(struct esximg_vib_verify_result *r, const struct esximg_vib *v,
                         PKCS7 *p7, X509_STORE *store, struct esximg_err *err)
{
    if (v->descriptor_len > INT_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "descriptor too large to check");
    BIO *content = BIO_new_mem_buf(v->descriptor_bytes, (int)v->descriptor_len);
    if (!content)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = 0;
    if (PKCS7_verify(p7, NULL, store, content, NULL, PKCS7_BINARY) == 1) {
        r->signature_ok = true;
    } else {
        r->signature_error = esx_ssl_error("signature does not verify");
        if (!r->signature_error)
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    ERR_clear_error();
    BIO_free(content);
    return rc;
}

static int vib_set_sig_error(struct esximg_vib_verify_result *r, const char *msg,
                             struct esximg_err *err)
{
    r->signature_error = esx_strdup(msg);
    return r->signature_error ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

/* The signer of sig.pkcs7 and, with a CA store, the check of the signature over the
 * descriptor's bytes. */
static int vib_verify_sig(struct esximg_vib_verify_result *r, const struct esximg_vib *v,
                          X509_STORE *store, struct esximg_err *err)
{
    r->signed_vib = v->sig_len > 0;
    r->signature_checked = store != NULL;
    if (!r->signed_vib)
        return store ? vib_set_sig_error(r, "the VIB is not signed", err) : 0;
    int rc = 0;
    STACK_OF(X509) *signers = NULL;
    ERR_clear_error();
    PKCS7 *p7 = esx_pkcs7_parse(v->sig, v->sig_len);
    if (!p7 || !PKCS7_type_is_signed(p7)) {
        r->signature_error = esx_ssl_error("sig.pkcs7 is not a PKCS#7 signature");
        if (!r->signature_error)
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    signers = PKCS7_get0_signers(p7, NULL, 0);
    if (signers && sk_X509_num(signers) > 0) {
        r->signer = vib_name_line(X509_get_subject_name(sk_X509_value(signers, 0)));
        if (!r->signer) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            goto out;
        }
    }
    ERR_clear_error();
    if (store)
        rc = vib_sig_check(r, v, p7, store, err);
    if (!rc && !r->signer && !r->signature_error)
        rc = vib_set_sig_error(r, "sig.pkcs7 holds no signer certificate", err);
out:
    ERR_clear_error();
    sk_X509_free(signers);
    PKCS7_free(p7);
    return rc;
}

int esximg_vib_signer(const struct esximg_vib *v, char **signer, struct esximg_err *err)
{
    struct esximg_vib_verify_result r;
    memset(&r, 0, sizeof r);
    if (!v)
        return esximg_err_set(err, ESXIMG_EINVAL, "no VIB");
    int rc = vib_verify_sig(&r, v, NULL, err);
    if (!rc && r.signature_error && !r.signer)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "%s", r.signature_error);
    if (!rc)
        *signer = r.signer;
    else
        free(r.signer);
    free(r.signature_error);
    return rc;
}

static int vib_extract_name_check(const char *name, struct esximg_err *err)
{
    int rc = esx_path_check(name, "member", err);
    if (rc)
        return rc;
    if (strchr(name, '/') || strcmp(name, ".") == 0)
        return esximg_err_set(err, ESXIMG_EUNSAFE, "member '%s': not a plain file name", name);
    return 0;
}

int esximg_vib_extract(const struct esximg_vib *v, const char *dir, bool overwrite,
                       struct esximg_err *err)
{
    if (!v || !dir)
        return esximg_err_set(err, ESXIMG_EINVAL, "no VIB or directory");
    int rc = 0;
    char *path = NULL;
    /* every name first: a refusal leaves the directory untouched */
    for (size_t i = 0; !rc && i < v->member_count; i++)
        rc = vib_extract_name_check(v->members[i].name, err);
    for (size_t i = 0; !rc && i < v->member_count && !overwrite; i++) {
        struct stat st;
        path = esx_path_join(dir, v->members[i].name);
        if (!path)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        if (lstat(path, &st) == 0) {
            rc = esximg_err_set(err, ESXIMG_EINVAL, "file exists, not overwritten");
            esximg_err_file(err, path);
        }
        free(path);
        path = NULL;
    }
    for (size_t i = 0; !rc && i < v->member_count; i++) {
        const struct esximg_vib_member *m = &v->members[i];
        path = esx_path_join(dir, m->name);
        if (!path)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        rc = esximg_file_write(path, v->bytes + m->offset, (size_t)m->size, 0644, err);
        if (rc)
            esximg_err_file(err, path);
        free(path);
        path = NULL;
    }
    return rc;
}

int esximg_vib_verify(const struct esximg_vib *v, const struct esximg_vib_verify_opts *o,
                      struct esximg_vib_verify_result **out, struct esximg_err *err)
{
    if (!v || !v->desc)
        return esximg_err_set(err, ESXIMG_EINVAL, "no VIB to verify");
    struct vib_vctx c = { .r = calloc(1, sizeof *c.r), .cap = 0 };
    if (!c.r)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    c.r->all_ok = true;
    X509_STORE *store = NULL;
    int rc = 0;
    if (o && o->ca_file)
        rc = vib_load_store(o->ca_file, &store, err);
    for (size_t i = 0; !rc && i < v->desc->payload_count; i++)
        rc = vib_verify_payload(&c, v, &v->desc->payloads[i], err);
    if (!rc)
        rc = vib_verify_unexpected(&c, v, err);
    if (!rc)
        rc = vib_verify_sig(c.r, v, store, err);
    X509_STORE_free(store);
    if (rc) {
        esximg_vib_verify_result_free(c.r);
        return rc;
    }
    *out = c.r;
    return 0;
}

void esximg_vib_verify_result_free(struct esximg_vib_verify_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->check_count; i++) {
        free(r->checks[i].payload);
        free(r->checks[i].what);
        free(r->checks[i].expected);
        free(r->checks[i].actual);
    }
    free(r->checks);
    free(r->signer);
    free(r->signature_error);
    free(r);
}

/* ---------------------------------------------------------------- write */

static int vib_check_wname(const char *name, struct esximg_err *err)
{
    size_t n = strnlen(name, AR_VMWARE_NAME_MAX + 1);
    if (n == 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "a member has an empty name");
    if (n > AR_VMWARE_NAME_MAX)
        return esximg_err_set(err, ESXIMG_EINVAL, "member '%s': name is longer than %u "
                              "characters", name, AR_VMWARE_NAME_MAX);
    if (strpbrk(name, "/ \t\n"))
        return esximg_err_set(err, ESXIMG_EINVAL, "member '%s': name holds '/' or white "
                              "space", name);
    return 0;
}

static int vib_write_member(struct esx_buf *b, const char *name, const void *data, size_t len,
                            struct esximg_err *err)
{
    int rc = vib_check_wname(name, err);
    if (rc)
        return rc;
    if ((uint64_t)len > AR_SIZE_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': %zu bytes do not fit the ar "
                              "size field", name, len);
    /* esximage's ArFile: '%-16.16s%-12.12s%-6.6s%-6.6s%-8.8s%-10.10s%-2.2s' */
    rc = esx_buf_printf(b, err, "%-16.16s%-12.12s%-6.6s%-6.6s%-8.8s%-10zu" AR_FMAG, name,
                        "0", "0", "0", "0", len);
    if (!rc && len)
        rc = esx_buf_append(b, data, len, err);
    if (!rc && (len & 1))
        rc = esx_buf_append(b, "\n", 1, err);
    return rc;
}

int esximg_vib_write(const void *descriptor, size_t descriptor_len, const void *sig,
                     size_t sig_len, const struct esximg_vib_wmember *payloads,
                     size_t payload_count, uint8_t **out, size_t *out_len,
                     struct esximg_err *err)
{
    struct esx_buf b;
    esx_buf_init(&b, (size_t)ESX_MAX_FILE_BYTES);
    if (!descriptor || (sig_len && !sig) || (payload_count && !payloads))
        return esximg_err_set(err, ESXIMG_EINVAL, "no descriptor, signature or payload bytes");
    int rc = esx_buf_append(&b, AR_MAGIC, AR_MAGIC_LEN, err);
    if (!rc)
        rc = vib_write_member(&b, VIB_DESCRIPTOR, descriptor, descriptor_len, err);
    if (!rc)
        rc = vib_write_member(&b, VIB_SIGNATURE, sig, sig_len, err);
    for (size_t i = 0; !rc && i < payload_count; i++) {
        if (!payloads[i].name || (payloads[i].len && !payloads[i].data))
            rc = esximg_err_set(err, ESXIMG_EINVAL, "payload %zu has no name or bytes", i);
        else if (strcmp(payloads[i].name, VIB_DESCRIPTOR) == 0 ||
                 strcmp(payloads[i].name, VIB_SIGNATURE) == 0)
            rc = esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': reserved member name",
                                payloads[i].name);
        else
            rc = vib_write_member(&b, payloads[i].name, payloads[i].data, payloads[i].len,
                                  err);
        for (size_t j = 0; !rc && j < i; j++)
            if (strcmp(payloads[i].name, payloads[j].name) == 0)
                rc = esximg_err_set(err, ESXIMG_EINVAL, "payload '%s' given twice",
                                    payloads[i].name);
    }
    if (!rc) {
        size_t n;
        *out = (uint8_t *)esx_buf_take(&b, &n);
        *out_len = n;
    }
    esx_buf_free(&b);
    return rc;
}
