/* imgbuild.c: the layout of a whole installer made from VIBs (esximg/imgbuild.h), and its
 * writing as an ISO or a PXE folder.
 *
 * The rules come from esxi-formats.md: module names §5.4 (modname.c), BOOT.CFG order §4.4,
 * where the other payloads go §5.3, ISOLINUX.CFG §4.6, the database §3.  What the image
 * needs beyond IMGDB.TGZ is decided in docs/build.md: one IMGPAYLD.TGZ of every payload that
 * is not a boot module (esximage's PayloadTar, §3.6), no BASEMISC.TGZ or RESVIBS.TGZ (their
 * 7.0 U2 split is not documented; the installer reads the payloads from IMGPAYLD.TGZ alone on
 * the releases before it). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "esximg/bootcfg.h"
#include "esximg/imgbuild.h"
#include "esximg/imgdb.h"
#include "esximg/io.h"
#include "esximg/isocreate.h"
#include "esximg/modname.h"
#include "esximg/vib.h"
#include "esximg/vibauthor.h"
#include "esx_private.h"

#define IB_BOOT_ORDER_VGZ_BASE 100      /* esximage BOOT_ORDER_VGZ_BASE (§4.4) */
#define IB_MAX_SMALL_PAYLOAD ((uint64_t)256 << 20)  /* read whole into IMGPAYLD.TGZ */
/* zlib's default: level 9 took a third of a build's CPU time to save 0.7% of
 * IMGPAYLD.TGZ (bench/build.sh), whose payloads are mostly gzip'd already */
#define IB_PAYLOAD_TAR_GZIP_LEVEL 6
#define IB_COPY_CHUNK ((size_t)1 << 20)
#define IB_VOLUME_ID_MAX 32u
#define IB_DEFAULT_TITLE "Loading ESXi installer"

struct ib_vib {
    const struct esximg_imgbuild_vib *in;
    struct esximg_descriptor *d;
    char *vib_id;
    char **files;               /* the 8.3 name of each payload (profile and modules) */
    char *xml_file;             /* vibs/<name>.xml */
};

struct ib_file {                /* one file of the image, and what put it there */
    char *path;
    char *origin;
    struct esximg_content content;
};

struct esximg_imgbuild_state {
    struct ib_vib *vibs;        /* sorted by vib-id */
    size_t n;
    struct ib_file *files;
    size_t n_files;
    size_t cap_files;
    uint8_t *owned[6];          /* generated contents: BOOT.CFG, ISOLINUX.CFG, IMGDB.TGZ, ... */
    size_t n_owned;
    unsigned minor;
    const struct esximg_imgbuild_opts *o;
};

static int ib_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

/* ---- contents ---- */

struct ib_reader {
    const struct esximg_content *c;
    uint64_t pos;
    int fd;
    bool opened;
};

static int ib_reader_open(struct ib_reader *r, const struct esximg_content *c,
                          struct esximg_err *err)
{
    *r = (struct ib_reader){.c = c, .fd = -1};
    if (c->kind == ESXIMG_CONTENT_RANGE) {
        if ((r->fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0) {
            int rc = esximg_err_sys(err, errno, "cannot open");
            esximg_err_file(err, c->path);
            return rc;
        }
    } else if (c->kind == ESXIMG_CONTENT_STREAM) {
        int rc = c->ops->open(c->arg, err);
        if (rc)
            return rc;
        r->opened = true;
    }
    return 0;
}

static uint64_t ib_content_size(const struct esximg_content *c)
{
    return c->kind == ESXIMG_CONTENT_MEMORY ? (uint64_t)c->len : c->size;
}

static int ib_reader_read(struct ib_reader *r, void *buf, size_t n, size_t *got,
                          struct esximg_err *err)
{
    uint64_t left = ib_content_size(r->c) - r->pos;
    if (n > left)
        n = (size_t)left;
    *got = 0;
    if (n == 0)
        return 0;
    int rc = 0;
    if (r->c->kind == ESXIMG_CONTENT_MEMORY) {
        memcpy(buf, (const uint8_t *)r->c->data + r->pos, n);
        *got = n;
    } else if (r->c->kind == ESXIMG_CONTENT_RANGE) {
        int e = esx_pread_full(r->fd, buf, n, r->c->offset + r->pos, got);
        if (e || *got == 0) {
            rc = e ? esximg_err_sys(err, e, "cannot read") :
                     esximg_err_set(err, ESXIMG_EIO, "file ended early");
            esximg_err_file(err, r->c->path);
        }
    } else if ((rc = r->c->ops->read(r->c->arg, buf, n, got, err)) == 0 && (*got == 0 ||
                                                                            *got > n)) {
        rc = esximg_err_set(err, ESXIMG_EIO, "stream ended before its announced size");
    }
    r->pos += *got;
    return rc;
}

static void ib_reader_close(struct ib_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    if (r->opened && r->c->ops->close)
        r->c->ops->close(r->c->arg);
    r->fd = -1;
    r->opened = false;
}

/* A small content whole in memory (the caller frees *out). */
static int ib_read_whole(const struct esximg_content *c, uint8_t **out, size_t *len,
                         struct esximg_err *err)
{
    uint64_t size = ib_content_size(c);
    if (size > IB_MAX_SMALL_PAYLOAD)
        return esximg_err_set(err, ESXIMG_ELIMIT, "%" PRIu64 " bytes, more than %" PRIu64,
                              size, IB_MAX_SMALL_PAYLOAD);
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    if (!buf)
        return ib_nomem(err);
    struct ib_reader r;
    int rc = ib_reader_open(&r, c, err);
    size_t done = 0;
    while (!rc && done < size) {
        size_t got = 0;
        rc = ib_reader_read(&r, buf + done, (size_t)size - done, &got, err);
        done += got;
    }
    ib_reader_close(&r);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = (size_t)size;
    return 0;
}

/* ---- the VIBs ---- */

static bool ib_safe_payload_name(const char *name)
{
    return name && name[0] && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\');
}

static int ib_read_vib(struct ib_vib *v, const struct esximg_imgbuild_vib *in, size_t index,
                       struct esximg_err *err)
{
    v->in = in;
    int rc = esximg_descriptor_read(in->descriptor, in->descriptor_len, &v->d, err);
    if (rc) {
        esximg_err_prefix(err, "VIB %zu: ", index + 1);
        return rc;
    }
    if (!(v->vib_id = esximg_descriptor_vib_id(v->d)))
        return esximg_err_set(err, ESXIMG_EFORMAT, "VIB %zu: its descriptor lacks a vendor, "
                              "type, name or version", index + 1);
    if (in->payload_count != v->d->payload_count || (in->payload_count && !in->payloads))
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s': %zu payload contents for %zu "
                              "payloads", v->vib_id, in->payload_count, v->d->payload_count);
    for (size_t i = 0; i < v->d->payload_count; i++) {
        const struct esximg_payload *p = &v->d->payloads[i];
        if (!ib_safe_payload_name(p->name) || !p->type)
            return esximg_err_set(err, ESXIMG_EUNSAFE, "'%s': payload '%s' has an unsafe name "
                                  "or no type", v->vib_id, p->name ? p->name : "");
        if (p->has_size && p->size != ib_content_size(&in->payloads[i]))
            return esximg_err_set(err, ESXIMG_EINVAL, "'%s': payload '%s' is %" PRIu64
                                  " bytes, its descriptor says %" PRIu64, v->vib_id, p->name,
                                  ib_content_size(&in->payloads[i]), p->size);
    }
    return 0;
}

static int ib_cmp_vib(const void *a, const void *b)
{
    return strcmp(((const struct ib_vib *)a)->vib_id, ((const struct ib_vib *)b)->vib_id);
}

static int ib_read_vibs(struct esximg_imgbuild_state *s, const struct esximg_imgbuild_vib *vibs,
                        size_t n, struct esximg_err *err)
{
    if (!n || !vibs)
        return esximg_err_set(err, ESXIMG_EINVAL, "no VIB to build an image of");
    if (!(s->vibs = calloc(n, sizeof *s->vibs)))
        return ib_nomem(err);
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        int rc = ib_read_vib(&s->vibs[i], &vibs[i], i, err);
        if (rc) {
            if (vibs[i].source)
                esximg_err_file(err, vibs[i].source);
            return rc;
        }
    }
    qsort(s->vibs, n, sizeof *s->vibs, ib_cmp_vib);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(s->vibs[i].d->name, s->vibs[j].d->name) == 0)
                return esximg_err_set(err, ESXIMG_EINVAL, "'%s' and '%s' are two VIBs of the "
                                      "name '%s': an image profile holds one",
                                      s->vibs[i].vib_id, s->vibs[j].vib_id, s->vibs[i].d->name);
    return 0;
}

/* esx-base's version: the image's release */
static int ib_release(struct esximg_imgbuild *b, struct esximg_err *err)
{
    const struct esximg_imgbuild_state *s = b->state;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->vibs[i].d->name, "esx-base") != 0)
            continue;
        if (!(b->version = esx_strdup(s->vibs[i].d->version)))
            return ib_nomem(err);
        unsigned major = 0, minor = 0;
        if (sscanf(b->version, "%u.%u", &major, &minor) == 2) {
            b->major = major;
            b->state->minor = minor;
        }
        return 0;
    }
    return 0;   /* no esx-base: a test or a partial image; BOOT.CFG gets no build= */
}

static int ib_assign_names(struct esximg_imgbuild_state *s, struct esximg_err *err)
{
    struct esximg_modname_vib *mv = calloc(s->n, sizeof *mv);
    if (!mv)
        return ib_nomem(err);
    int rc = 0;
    for (size_t i = 0; i < s->n && !rc; i++) {
        const struct esximg_descriptor *d = s->vibs[i].d;
        mv[i].vib_id = s->vibs[i].vib_id;
        mv[i].payload_count = d->payload_count;
        if (d->payload_count && !(mv[i].payloads = calloc(d->payload_count,
                                                           sizeof *mv[i].payloads)))
            rc = ib_nomem(err);
        for (size_t j = 0; !rc && j < d->payload_count; j++)
            mv[i].payloads[j] = (struct esximg_modname_payload){
                .name = d->payloads[j].name, .type = d->payloads[j].type,
                .vfat_name = d->payloads[j].vfat_name};
    }
    /* the 5.0 '-' rule concerns 5.0 images only: no depot of this tool's releases is one */
    if (!rc)
        rc = esximg_modname_assign(mv, s->n, NULL, err);
    for (size_t i = 0; i < s->n; i++) {
        if (!rc && !(s->vibs[i].files = calloc(mv[i].payload_count + 1, sizeof(char *))))
            rc = ib_nomem(err);
        for (size_t j = 0; j < mv[i].payload_count; j++) {
            if (!rc)
                s->vibs[i].files[j] = mv[i].payloads[j].file;
            else
                free(mv[i].payloads[j].file);
        }
        free(mv[i].payloads);
    }
    free(mv);
    return rc;
}

/* ---- the files ---- */

static int ib_add_file(struct esximg_imgbuild_state *s, char *path, char *origin,
                       const struct esximg_content *c, struct esximg_err *err)
{
    if (!path || !origin) {
        free(path);
        free(origin);
        return ib_nomem(err);
    }
    if (s->n_files == s->cap_files) {
        size_t cap = s->cap_files ? s->cap_files * 2 : 64;
        struct ib_file *grown = esx_realloc_array(s->files, cap, sizeof *grown);
        if (!grown) {
            free(path);
            free(origin);
            return ib_nomem(err);
        }
        s->files = grown;
        s->cap_files = cap;
    }
    s->files[s->n_files++] = (struct ib_file){.path = path, .origin = origin, .content = *c};
    return 0;
}

static int ib_add_generated(struct esximg_imgbuild_state *s, const char *path, uint8_t *data,
                            size_t len, struct esximg_err *err)
{
    if (s->n_owned == sizeof s->owned / sizeof *s->owned) {
        free(data);
        return esximg_err_set(err, ESXIMG_EINVAL, "too many generated files");
    }
    s->owned[s->n_owned++] = data;
    struct esximg_content c = {.kind = ESXIMG_CONTENT_MEMORY, .data = data, .len = len};
    return ib_add_file(s, esx_strdup(path), esx_strdup("the image builder"), &c, err);
}

/* `name` upper-cased when that is an 8.3 name of d-characters, else NULL. */
static char *ib_upper_83(const char *name)
{
    size_t len = strlen(name);
    char *up = malloc(len + 1);
    if (!up)
        return NULL;
    for (size_t i = 0; i <= len; i++)
        up[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 'a' + 'A') : name[i];
    if (esx_iso_level1_name(up, len, false))
        return up;
    free(up);
    return NULL;
}

/* Where a payload that is not a boot module goes (esxi-formats.md §5.3): the folder and
 * whether its own name is kept; NULL folder: it has no place of its own. */
static const char *ib_place_of(const char *type, const char **fixed)
{
    *fixed = NULL;
    if (strcmp(type, "boot_iso_bios") == 0) {
        *fixed = "/ISOLINUX.BIN";
        return "";
    }
    if (strcmp(type, "eltorito_image_efi") == 0) {
        *fixed = "/EFIBOOT.IMG";
        return "";
    }
    if (strcmp(type, "boot_com32_bios") == 0 || strcmp(type, "text") == 0)
        return "";
    if (strcmp(type, "boot_loader_efi") == 0)
        return "/EFI/BOOT";
    if (strcmp(type, "upgrade") == 0)
        return "/UPGRADE";
    return NULL;
}

/* The payloads that belong to disks, not to the ISO: only IMGPAYLD.TGZ holds them. */
static bool ib_disk_only_named(const char *type, const char *name)
{
    return strcmp(type, "boot_com32_bios") == 0 && strcmp(name, "fatBootSector") == 0;
}

static bool ib_disk_only(const struct esximg_payload *p)
{
    return ib_disk_only_named(p->type, p->name);
}

int esximg_imgbuild_payload_path(const char *type, const char *name, char **out,
                                 struct esximg_err *err)
{
    *out = NULL;
    if (!type || !name || esx_payload_is_module(type) || ib_disk_only_named(type, name))
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "payload '%s' has no place of its own "
                              "on an installer image", name ? name : "");
    const char *fixed = NULL;
    const char *dir = ib_place_of(type, &fixed);
    if (!dir)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "payload '%s' has the type '%s', which "
                              "has no place in an installer image", name, type);
    if (fixed) {
        *out = esx_strdup(fixed);
        return *out ? 0 : ib_nomem(err);
    }
    char *up = ib_upper_83(name);
    if (!up)
        return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s' (%s) goes on the ISO under its "
                              "own name, which is not an 8.3 name", name, type);
    int rc = asprintf(out, "%s/%s", dir, up) < 0 ? ib_nomem(err) : 0;
    if (rc)
        *out = NULL;
    free(up);
    return rc;
}

/* The payload's sha-256 as its descriptor gives it (of the bytes as stored), or NULL. */
static const char *ib_payload_sha256(const struct esximg_payload *p)
{
    for (size_t i = 0; i < p->checksum_count; i++) {
        const struct esximg_checksum *c = &p->checksums[i];
        if (c->type && strcmp(c->type, "sha-256") == 0 && !c->verify_process && c->value &&
            strlen(c->value) == 64)
            return c->value;
    }
    return NULL;
}

/* The payload's content, checked against its sha-256 while the image is written: a payload
 * read in place of its bundle has had no zip CRC checked. */
static int ib_add_payload(struct esximg_imgbuild_state *s, const struct ib_vib *v, size_t j,
                          char *path, char *origin, struct esximg_err *err)
{
    struct esximg_content c = v->in->payloads[j];
    c.sha256 = ib_payload_sha256(&v->d->payloads[j]);
    c.label = origin;
    return ib_add_file(s, path, origin, &c, err);
}

static int ib_place_payload(struct esximg_imgbuild_state *s, const struct ib_vib *v, size_t j,
                            struct esximg_err *err)
{
    const struct esximg_payload *p = &v->d->payloads[j];
    char *path = NULL, *origin = NULL;
    if (asprintf(&origin, "payload '%s' of '%s'", p->name, v->vib_id) < 0)
        return ib_nomem(err);
    if (esx_payload_is_module(p->type)) {
        char *up = ib_upper_83(v->files[j]);
        if (!up || asprintf(&path, "/%s", up) < 0)
            path = NULL;
        free(up);
        if (!path) {
            free(origin);
            return esximg_err_set(err, ESXIMG_EINVAL, "module name '%s' of payload '%s' of "
                                  "'%s' is not an 8.3 name", v->files[j], p->name, v->vib_id);
        }
        return ib_add_payload(s, v, j, path, origin, err);
    }
    if (ib_disk_only(p)) {
        free(origin);
        return 0;
    }
    const char *fixed = NULL;
    const char *dir = ib_place_of(p->type, &fixed);
    if (!dir) {
        free(origin);
        return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s' of '%s' has the type '%s', "
                              "which has no place in an installer image", p->name, v->vib_id,
                              p->type);
    }
    if (fixed) {
        path = esx_strdup(fixed);
    } else {
        char *up = ib_upper_83(p->name);
        if (!up) {
            free(origin);
            return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s' of '%s' (%s) goes on the "
                                  "ISO under its own name, which is not an 8.3 name", p->name,
                                  v->vib_id, p->type);
        }
        if (asprintf(&path, "%s/%s", dir, up) < 0)
            path = NULL;
        free(up);
    }
    return ib_add_payload(s, v, j, path, origin, err);
}

static int ib_place_payloads(struct esximg_imgbuild_state *s, struct esximg_err *err)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->vibs[i].d->payload_count; j++) {
            int rc = ib_place_payload(s, &s->vibs[i], j, err);
            if (rc)
                return rc;
        }
    return 0;
}

/* ---- BOOT.CFG ---- */

struct ib_module {
    const struct ib_vib *v;
    size_t payload;
    long boot_order;
    size_t seq;                 /* vib-id order, then descriptor order: ties keep it */
};

static long ib_boot_order(const struct esximg_payload *p)
{
    uint64_t v = 0;
    if (p->boot_order && esx_parse_decimal(p->boot_order, strlen(p->boot_order), &v) &&
        v <= LONG_MAX)
        return (long)v;
    return LONG_MAX;            /* none: after every numbered one */
}

static int ib_cmp_boot(const void *a, const void *b)
{
    const struct ib_module *ma = a, *mb = b;
    if (ma->boot_order != mb->boot_order)
        return ma->boot_order < mb->boot_order ? -1 : 1;
    return ma->seq < mb->seq ? -1 : ma->seq > mb->seq;
}

static int ib_push_module(struct esximg_imgbuild *b, const char *file, struct esximg_err *err)
{
    char *path = NULL;
    if (asprintf(&path, "/%s", file) < 0)
        return ib_nomem(err);
    b->modules[b->module_count++] = path;
    return 0;
}

/* The order of §4.4: boot payloads by boot-order; the other modules of non-overlay VIBs in
 * vib-id order, each boot-order 100 one inserted at the front of that group; overlay VIBs;
 * then the database and the payload archive. */
static int ib_order_modules(struct esximg_imgbuild *b, struct esximg_err *err)
{
    const struct esximg_imgbuild_state *s = b->state;
    size_t total = 2;
    for (size_t i = 0; i < s->n; i++)
        total += s->vibs[i].d->payload_count;
    struct ib_module *boot = esx_malloc_array(total, sizeof *boot);
    struct ib_module *rest = esx_malloc_array(total, sizeof *rest);
    b->modules = esx_malloc_array(total, sizeof *b->modules);
    if (!boot || !rest || !b->modules) {
        free(boot);
        free(rest);
        return ib_nomem(err);
    }
    size_t n_boot = 0, n_rest = 0, seq = 0;
    for (int overlay = 0; overlay < 2; overlay++)
        for (size_t i = 0; i < s->n; i++) {
            const struct ib_vib *v = &s->vibs[i];
            for (size_t j = 0; j < v->d->payload_count; j++) {
                const struct esximg_payload *p = &v->d->payloads[j];
                struct ib_module m = {v, j, ib_boot_order(p), seq++};
                if (!esx_payload_is_module(p->type) || v->d->overlay != (overlay == 1))
                    continue;
                if (strcmp(p->type, "boot") == 0)
                    boot[n_boot++] = m;
                else if (!overlay && m.boot_order == IB_BOOT_ORDER_VGZ_BASE) {
                    memmove(rest + 1, rest, n_rest * sizeof *rest);
                    rest[0] = m;
                    n_rest++;
                } else {
                    rest[n_rest++] = m;
                }
            }
        }
    int rc = 0;
    qsort(boot, n_boot, sizeof *boot, ib_cmp_boot);
    if (!n_boot)
        rc = esximg_err_set(err, ESXIMG_EINVAL, "no VIB has a boot payload: the image would "
                            "have no kernel");
    for (size_t i = 0; !rc && i < n_boot; i++)
        rc = ib_push_module(b, boot[i].v->files[boot[i].payload], err);
    for (size_t i = 0; !rc && i < n_rest; i++)
        rc = ib_push_module(b, rest[i].v->files[rest[i].payload], err);
    if (!rc)
        rc = ib_push_module(b, "imgdb.tgz", err);
    if (!rc)
        rc = ib_push_module(b, "imgpayld.tgz", err);
    free(boot);
    free(rest);
    return rc;
}

static int ib_apply_kernelopt(struct esximg_bootcfg *cfg, const char *opt,
                              struct esximg_err *err)
{
    if (opt[0] == '-') {
        int rc = esximg_bootcfg_kernelopt_remove(cfg, opt + 1, err);
        return rc == ESXIMG_ENOTFOUND ? 0 : rc;
    }
    const char *eq = strchr(opt, '=');
    if (!eq)
        return esximg_bootcfg_kernelopt_set(cfg, opt, NULL, err);
    char *key = strndup(opt, (size_t)(eq - opt));
    if (!key)
        return ib_nomem(err);
    int rc = esximg_bootcfg_kernelopt_set(cfg, key, eq + 1, err);
    free(key);
    return rc;
}

static bool ib_one_line(const char *s)
{
    return !strpbrk(s, "\r\n");
}

/* The installer's options as VMware's ISOs of that release have them (esxi-formats.md §4.3):
 * 8.0 "runweasel cdromBoot", 6.7 to 7.0 "cdromBoot runweasel", before 6.7 "runweasel". */
static const char *ib_stock_kernelopt(const struct esximg_imgbuild *b)
{
    if (b->major >= 8)
        return "runweasel cdromBoot";
    if (b->major == 7 || !b->major || (b->major == 6 && b->state->minor >= 7))
        return "cdromBoot runweasel";
    return "runweasel";
}

/* The stock text, then the caller's kernel options applied with bootcfg.c. */
static int ib_bootcfg_text(const struct esximg_imgbuild *b, struct esx_buf *t,
                           struct esximg_err *err)
{
    const struct esximg_imgbuild_opts *o = b->state->o;
    const char *title = o->title ? o->title : IB_DEFAULT_TITLE;
    if (!ib_one_line(title))
        return esximg_err_set(err, ESXIMG_EINVAL, "the title holds a line break");
    int rc = esx_buf_printf(t, err, "bootstate=0\ntitle=%s\ntimeout=5\nprefix=\nkernel=%s\n"
                            "kernelopt=%s\nmodules=", title, b->modules[0], ib_stock_kernelopt(b));
    for (size_t i = 1; !rc && i < b->module_count; i++)
        rc = esx_buf_printf(t, err, "%s%s", i > 1 ? " --- " : "", b->modules[i]);
    if (!rc && b->version)
        rc = esx_buf_printf(t, err, "\nbuild=%s", b->version);
    if (!rc)
        rc = esx_buf_puts(t, "\nupdated=0\n", err);
    return rc;
}

static int ib_check_loader(const struct esximg_bootcfg *cfg, struct esximg_err *err)
{
    struct esximg_bootcfg_violations *v = NULL;
    int rc = esximg_bootcfg_check_loader(cfg, &v, err);
    if (!rc && v->count)
        rc = esximg_err_set(err, v->items[0].rule <= ESXIMG_BOOTCFG_RULE_KERNEL_LENGTH ?
                            ESXIMG_ELIMIT : ESXIMG_EINVAL, "BOOT.CFG line %zu: %s",
                            v->items[0].line, v->items[0].msg);
    esximg_bootcfg_violations_free(v);
    return rc;
}

static int ib_bootcfg(struct esximg_imgbuild *b, struct esximg_err *err)
{
    const struct esximg_imgbuild_opts *o = b->state->o;
    struct esx_buf t;
    esx_buf_init(&t, ESX_MAX_BOOTCFG_BYTES);
    struct esximg_bootcfg *cfg = NULL;
    int rc = ib_bootcfg_text(b, &t, err);
    if (!rc)
        rc = esximg_bootcfg_read(t.data, t.len, NULL, &cfg, err);
    for (size_t i = 0; !rc && i < o->kernelopt_count; i++)
        if ((rc = ib_apply_kernelopt(cfg, o->kernelopts[i], err)))
            esximg_err_prefix(err, "kernel option '%s': ", o->kernelopts[i]);
    if (!rc && o->ks && (rc = esximg_bootcfg_kernelopt_set(cfg, "ks", "cdrom:/KS.CFG", err)))
        esximg_err_prefix(err, "kickstart: ");
    if (!rc)
        rc = ib_check_loader(cfg, err);
    if (!rc)
        rc = esximg_bootcfg_write(cfg, &b->bootcfg, &b->bootcfg_len, err);
    if (!rc && esximg_bootcfg_get(cfg, "kernelopt", &b->kernelopt, NULL) != 0 &&
        !(b->kernelopt = esx_strdup("")))
        rc = ib_nomem(err);
    esximg_bootcfg_free(cfg);
    esx_buf_free(&t);
    if (rc)
        return rc;
    /* both copies are the same bytes; the plan keeps b->bootcfg, the files their own */
    for (int copy = 0; copy < 2 && !rc; copy++) {
        uint8_t *data = malloc(b->bootcfg_len + 1);
        if (!data)
            return ib_nomem(err);
        memcpy(data, b->bootcfg, b->bootcfg_len + 1);
        rc = ib_add_generated(b->state, copy ? "/EFI/BOOT/BOOT.CFG" : "/BOOT.CFG", data,
                              b->bootcfg_len, err);
    }
    return rc;
}

/* ISOLINUX.CFG in the form of esxi-formats.md §4.6 */
static int ib_isolinux_cfg(struct esximg_imgbuild *b, struct esximg_err *err)
{
    const char *name = b->state->o->profile_name;
    struct esx_buf t;
    esx_buf_init(&t, ESX_MAX_BOOTCFG_BYTES);
    int rc = esx_buf_printf(&t, err, "DEFAULT menu.c32\nMENU TITLE %s Boot Menu\nNOHALT 1\n"
                            "PROMPT 0\nTIMEOUT 80\nLABEL install\n  KERNEL mboot.c32\n"
                            "  APPEND -c boot.cfg\n  MENU LABEL %s ^Installer\nLABEL hddboot\n"
                            "  LOCALBOOT 0x80\n  MENU LABEL ^Boot from local disk\n", name,
                            name);
    size_t len = 0;
    char *data = rc ? NULL : esx_buf_take(&t, &len);
    esx_buf_free(&t);
    return rc ? rc : ib_add_generated(b->state, "/ISOLINUX.CFG", (uint8_t *)data, len, err);
}

/* ---- IMGDB.TGZ ---- */

static int ib_profile(const struct esximg_imgbuild *b, struct esximg_profile **out,
                      struct esximg_err *err)
{
    const struct esximg_imgbuild_state *s = b->state;
    const struct esximg_imgbuild_opts *o = s->o;
    enum esximg_acceptance lowest = ESXIMG_ACCEPT_CERTIFIED;
    const char *creator = o->creator;
    for (size_t i = 0; i < s->n; i++) {
        enum esximg_acceptance a = esximg_acceptance_parse(s->vibs[i].d->acceptance_level);
        if (a != ESXIMG_ACCEPT_UNKNOWN && a < lowest)
            lowest = a;
        if (!creator && strcmp(s->vibs[i].d->name, "esx-base") == 0)
            creator = s->vibs[i].d->vendor;
    }
    struct esximg_profile *p = NULL;
    int rc = esximg_profile_new(o->profile_name, &p, err);
    if (!rc && creator)
        rc = esximg_profile_set_creator(p, creator, err);
    if (!rc && o->description)
        rc = esximg_profile_set_description(p, o->description, err);
    if (!rc)
        rc = esximg_profile_set_acceptance(p, o->acceptance ? o->acceptance :
                                           esximg_acceptance_name(lowest), err);
    for (size_t i = 0; !rc && i < s->n; i++) {
        const struct ib_vib *v = &s->vibs[i];
        struct esximg_profile_payload *pl = esx_malloc_array(v->d->payload_count + 1,
                                                             sizeof *pl);
        if (!pl) {
            rc = ib_nomem(err);
            break;
        }
        for (size_t j = 0; j < v->d->payload_count; j++)
            pl[j] = (struct esximg_profile_payload){v->d->payloads[j].name, v->files[j]};
        rc = esximg_profile_add_vib(p, v->vib_id, pl, v->d->payload_count, err);
        free(pl);
    }
    if (rc) {
        esximg_profile_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int ib_vib_xmls(const struct esximg_imgbuild *b, struct esximg_imgdb *db,
                       struct esximg_err *err)
{
    struct esximg_imgbuild_state *s = b->state;
    const char **used = esx_malloc_array(s->n + 1, sizeof *used);
    if (!used)
        return ib_nomem(err);
    int rc = 0;
    for (size_t i = 0; !rc && i < s->n; i++) {
        struct ib_vib *v = &s->vibs[i];
        const struct esximg_imgbuild_vib *in = v->in;
        rc = b->major >= 7 ? esximg_modname_vib_xml64(v->d->name, v->vib_id, used, i,
                                                      &v->xml_file, err)
                           : esximg_modname_vib_xml(v->d->name, v->vib_id, &v->xml_file, err);
        if (!rc && esximg_imgdb_find_vib_xml(db, v->xml_file))
            rc = esximg_err_set(err, ESXIMG_EINVAL, "vibs/%s of '%s' is taken twice",
                                v->xml_file, v->vib_id);
        if (!rc)
            rc = esximg_imgdb_put_vib_xml(db, v->xml_file, in->descriptor, in->descriptor_len,
                                          err);
        /* as a host keeps a signed VIB: the descriptor as signed and the signature beside it */
        if (!rc && !esx_sig_is_empty(in->sig, in->sig_len))
            rc = esximg_imgdb_put_vib_signature(db, v->xml_file, in->descriptor,
                                                in->descriptor_len, in->sig, in->sig_len, err);
        used[i] = v->xml_file;
    }
    free(used);
    return rc;
}

static const struct ib_vib *ib_find_vib(const struct esximg_imgbuild_state *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->vibs[i].vib_id, id) == 0)
            return &s->vibs[i];
    return NULL;
}

/* bulletins/<id>.xml, or reservedComponents/<id>.xml for a component the image does not
 * hold. */
static int ib_put_bulletin(struct esximg_imgdb *db, const char *id, bool reserved,
                           const void *xml, size_t len, struct esximg_err *err)
{
    if (strchr(id, '/') || id[0] == '.')
        return esximg_err_set(err, ESXIMG_EUNSAFE, "bulletin id '%s' is no file name", id);
    char *file = NULL;
    if (asprintf(&file, "%s.xml", id) < 0)
        return ib_nomem(err);
    int rc = reserved ? esximg_imgdb_put_reserved(db, file, xml, len, err)
                      : esximg_imgdb_put_bulletin(db, file, xml, len, err);
    free(file);
    return rc;
}

/* The components whose VIBs are all in the image; *covered[i] for the VIBs they name. */
static int ib_given_bulletins(const struct esximg_imgbuild *b,
                              const struct esximg_imgbuild_component *comps, size_t nc,
                              struct esximg_imgdb *db, bool *covered, struct esximg_err *err)
{
    const struct esximg_imgbuild_state *s = b->state;
    for (size_t k = 0; k < nc; k++) {
        struct esximg_bulletin *bl = NULL;
        int rc = esximg_bulletin_read(comps[k].xml, comps[k].len, &bl, err);
        if (rc) {
            esximg_err_prefix(err, "component %zu: ", k + 1);
            return rc;
        }
        bool all = bl->vib_count > 0;
        for (size_t j = 0; all && j < bl->vib_count; j++)
            all = ib_find_vib(s, bl->vib_ids[j]) != NULL;
        if (all)
            rc = ib_put_bulletin(db, bl->id, false, comps[k].xml, comps[k].len, err);
        for (size_t j = 0; all && !rc && j < bl->vib_count; j++)
            covered[ib_find_vib(s, bl->vib_ids[j]) - s->vibs] = true;
        esximg_bulletin_free(bl);
        if (rc)
            return rc;
    }
    return 0;
}

/* A VIB that no given component names: a component of its own, as `edit` makes one. */
static int ib_own_bulletin(const struct esximg_imgbuild *b, const struct ib_vib *v,
                           struct esximg_imgdb *db, struct esximg_err *err)
{
    const struct esximg_descriptor *d = v->d;
    char date[40], platform[32];
    const char *release = d->release_date;
    int rc = 0;
    if (!release) {
        rc = esximg_vibauthor_format_date(b->state->o->mtime, date, sizeof date, err);
        release = date;
    }
    snprintf(platform, sizeof platform, "%u.%u.0", b->major, b->state->minor);
    const struct esximg_bulletin_spec spec = {
        .component_name = d->name, .version = d->version, .vendor = d->vendor,
        .summary = d->summary, .description = d->description, .release_date = release,
        .platform_version = platform, .vib_id = v->vib_id,
    };
    struct esximg_bulletin *bl = NULL;
    char *xml = NULL;
    size_t len = 0;
    if (!rc)
        rc = esximg_bulletin_new(&spec, &bl, err);
    if (!rc)
        rc = esximg_bulletin_write(bl, &xml, &len, err);
    if (!rc)
        rc = ib_put_bulletin(db, bl->id, false, xml, len, err);
    esximg_bulletin_free(bl);
    free(xml);
    return rc;
}

/* The base image's components an add-on replaced or removed, byte for byte. */
static int ib_reserved(const struct esximg_imgbuild_opts *o, struct esximg_imgdb *db,
                       struct esximg_err *err)
{
    for (size_t k = 0; k < o->reserved_count; k++) {
        struct esximg_bulletin *bl = NULL;
        int rc = esximg_bulletin_read(o->reserved[k].xml, o->reserved[k].len, &bl, err);
        if (rc) {
            esximg_err_prefix(err, "reserved component %zu: ", k + 1);
            return rc;
        }
        rc = ib_put_bulletin(db, bl->id, true, o->reserved[k].xml, o->reserved[k].len, err);
        esximg_bulletin_free(bl);
        if (rc)
            return rc;
    }
    return 0;
}

/* The base image and add-on the image was made of, as the depot holds them. */
static int ib_releases(const struct esximg_imgbuild_opts *o, struct esximg_imgdb *db,
                       struct esximg_err *err)
{
    const struct { const char *folder; const struct esximg_imgbuild_release *r; } units[] = {
        { ESXIMG_IMGDB_BASE_IMAGES, o->base_image }, { ESXIMG_IMGDB_ADDONS, o->addon },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        const struct esximg_imgbuild_release *r = units[i].r;
        int rc = r ? esximg_imgdb_put_release(db, units[i].folder, r->release_id, r->json,
                                              r->len, err) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

static int ib_imgdb(struct esximg_imgbuild *b, const struct esximg_imgbuild_component *comps,
                    size_t nc, struct esximg_err *err)
{
    struct esximg_imgbuild_state *s = b->state;
    struct esximg_imgdb *db = NULL;
    struct esximg_profile *p = NULL;
    bool *covered = calloc(s->n, sizeof *covered);
    int rc = covered ? esximg_imgdb_new(&db, err) : ib_nomem(err);
    if (!rc && !(rc = ib_profile(b, &p, err)))
        rc = esximg_imgdb_set_profile_take(db, p, NULL, err);
    if (!rc)
        rc = ib_vib_xmls(b, db, err);
    if (!rc && b->major >= 7)
        rc = ib_given_bulletins(b, comps, nc, db, covered, err);
    for (size_t i = 0; !rc && b->major >= 7 && i < s->n; i++)
        if (!covered[i])
            rc = ib_own_bulletin(b, &s->vibs[i], db, err);
    if (!rc && b->major >= 7)
        rc = ib_releases(s->o, db, err);
    if (!rc && b->major >= 7)
        rc = ib_reserved(s->o, db, err);
    uint8_t *data = NULL;
    size_t len = 0;
    const struct esximg_imgdb_wopts wo = {.mtime = s->o->mtime, .gzip_level = 9};
    if (!rc)
        rc = esximg_imgdb_write(db, &wo, &data, &len, err);
    esximg_imgdb_free(db);
    free(covered);
    if (rc) {
        esximg_err_prefix(err, "image database: ");
        return rc;
    }
    return ib_add_generated(s, "/IMGDB.TGZ", data, len, err);
}

/* ---- IMGPAYLD.TGZ ---- */

struct ib_tar_entry {
    char *path;
    uint8_t *data;
    size_t len;
    bool dir;
};

static int ib_cmp_tar(const void *a, const void *b)
{
    return strcmp(((const struct ib_tar_entry *)a)->path, ((const struct ib_tar_entry *)b)->path);
}

static int ib_tar_push(struct ib_tar_entry *t, size_t *n, char *path, bool dir,
                       struct esximg_err *err)
{
    if (!path)
        return ib_nomem(err);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(t[i].path, path) == 0) {
            free(path);
            return dir ? 0 : esximg_err_set(err, ESXIMG_EINVAL, "two payloads are '%s' in "
                                            "IMGPAYLD.TGZ", t[i].path);
        }
    t[(*n)++] = (struct ib_tar_entry){.path = path, .dir = dir};
    return 0;
}

static int ib_payload_tar_entries(const struct esximg_imgbuild_state *s,
                                  struct ib_tar_entry *t, size_t *n, struct esximg_err *err)
{
    static const char *const top[] = {"var", "var/db", "var/db/payloads"};
    int rc = 0;
    for (size_t i = 0; !rc && i < 3; i++)
        rc = ib_tar_push(t, n, esx_strdup(top[i]), true, err);
    for (size_t i = 0; !rc && i < s->n; i++) {
        const struct ib_vib *v = &s->vibs[i];
        for (size_t j = 0; !rc && j < v->d->payload_count; j++) {
            const struct esximg_payload *p = &v->d->payloads[j];
            if (esx_payload_is_module(p->type))
                continue;
            char *dir = NULL, *file = NULL;
            if (asprintf(&dir, "var/db/payloads/%s", p->type) < 0)
                dir = NULL;
            if ((rc = ib_tar_push(t, n, dir, true, err)))
                break;
            if (asprintf(&file, "var/db/payloads/%s/%s", p->type, p->name) < 0)
                file = NULL;
            if ((rc = ib_tar_push(t, n, file, false, err)))
                break;
            rc = ib_read_whole(&v->in->payloads[j], &t[*n - 1].data, &t[*n - 1].len, err);
            if (rc)
                esximg_err_prefix(err, "payload '%s' of '%s': ", p->name, v->vib_id);
        }
    }
    return rc;
}

static int ib_imgpayld(struct esximg_imgbuild_state *s, struct esximg_err *err)
{
    size_t cap = 3;
    for (size_t i = 0; i < s->n; i++)
        cap += 2 * s->vibs[i].d->payload_count;
    struct ib_tar_entry *t = calloc(cap, sizeof *t);
    struct esx_tar_member *m = esx_malloc_array(cap, sizeof *m);
    size_t n = 0;
    int rc = t && m ? ib_payload_tar_entries(s, t, &n, err) : ib_nomem(err);
    struct esx_buf tar;
    esx_buf_init(&tar, 0);
    if (!rc) {
        qsort(t, n, sizeof *t, ib_cmp_tar);
        for (size_t i = 0; i < n; i++)
            m[i] = (struct esx_tar_member){.path = t[i].path, .type = t[i].dir ? ESX_TAR_DIR :
                                           ESX_TAR_FILE, .mode = t[i].dir ? 0755 : 0644,
                                           .data = t[i].data, .len = t[i].len};
        rc = esx_gnutar_write(m, n, s->o->mtime, &tar, err);
    }
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].path);
        free(t[i].data);
    }
    free(t);
    free(m);
    uint8_t *gz = NULL;
    size_t gz_len = 0;
    if (!rc)
        rc = esx_gzip((const uint8_t *)tar.data, tar.len, IB_PAYLOAD_TAR_GZIP_LEVEL, &gz, &gz_len,
                      err);
    esx_buf_free(&tar);
    if (rc) {
        esximg_err_prefix(err, "IMGPAYLD.TGZ: ");
        return rc;
    }
    return ib_add_generated(s, "/IMGPAYLD.TGZ", gz, gz_len, err);
}

/* ---- the plan ---- */

static int ib_cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct ib_file *)a)->path, ((const struct ib_file *)b)->path);
}

static int ib_finish_files(struct esximg_imgbuild *b, struct esximg_err *err)
{
    struct esximg_imgbuild_state *s = b->state;
    qsort(s->files, s->n_files, sizeof *s->files, ib_cmp_file);
    for (size_t i = 1; i < s->n_files; i++)
        if (strcmp(s->files[i - 1].path, s->files[i].path) == 0)
            return esximg_err_set(err, ESXIMG_EINVAL, "%s and %s both go to '%s'",
                                  s->files[i - 1].origin, s->files[i].origin, s->files[i].path);
    if (!(b->files = calloc(s->n_files + 1, sizeof *b->files)))
        return ib_nomem(err);
    b->file_count = s->n_files;
    for (size_t i = 0; i < s->n_files; i++) {
        b->files[i] = (struct esximg_isoc_file){s->files[i].path, s->files[i].content};
        if (strcmp(s->files[i].path, "/ISOLINUX.BIN") == 0)
            b->bios_boot = s->files[i].path;
        if (strcmp(s->files[i].path, "/EFIBOOT.IMG") == 0)
            b->efi_boot = s->files[i].path;
    }
    if (b->efi_boot && !b->bios_boot)
        return esximg_err_set(err, ESXIMG_EINVAL, "an El Torito UEFI image without the BIOS "
                              "one (no boot_iso_bios payload)");
    return 0;
}

static int ib_volume_id(struct esximg_imgbuild *b, struct esximg_err *err)
{
    const char *name = b->state->o->profile_name;
    size_t len = strlen(name);
    if (len > IB_VOLUME_ID_MAX)
        len = IB_VOLUME_ID_MAX;
    if (!(b->volume_id = malloc(len + 1)))
        return ib_nomem(err);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        c = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
        b->volume_id[i] = (c > 0x20 && c < 0x7f) ? c : '_';
    }
    b->volume_id[len] = '\0';
    return 0;
}

int esximg_imgbuild_plan(const struct esximg_imgbuild_vib *vibs, size_t n,
                         const struct esximg_imgbuild_component *components, size_t nc,
                         const struct esximg_imgbuild_opts *opts, struct esximg_imgbuild **out,
                         struct esximg_err *err)
{
    *out = NULL;
    if (!opts || !opts->profile_name || !opts->profile_name[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "no image profile name");
    if (nc && !components)
        return esximg_err_set(err, ESXIMG_EINVAL, "components without their bulletins");
    struct esximg_imgbuild *b = calloc(1, sizeof *b);
    if (!b || !(b->state = calloc(1, sizeof *b->state))) {
        free(b);
        return ib_nomem(err);
    }
    b->state->o = opts;
    int rc;
    if ((rc = ib_read_vibs(b->state, vibs, n, err)) || (rc = ib_release(b, err)) ||
        (rc = ib_assign_names(b->state, err)) || (rc = ib_place_payloads(b->state, err)) ||
        (rc = ib_order_modules(b, err)) || (rc = ib_bootcfg(b, err)) ||
        (rc = ib_isolinux_cfg(b, err)) || (rc = ib_imgdb(b, components, nc, err)) ||
        (rc = ib_imgpayld(b->state, err)) || (rc = ib_volume_id(b, err)))
        goto fail;
    if (opts->ks) {
        uint8_t *ks = malloc(opts->ks_len + 1);
        if (!ks) {
            rc = ib_nomem(err);
            goto fail;
        }
        memcpy(ks, opts->ks, opts->ks_len);
        if ((rc = ib_add_generated(b->state, "/KS.CFG", ks, opts->ks_len, err)))
            goto fail;
    }
    if ((rc = ib_finish_files(b, err)))
        goto fail;
    b->state->o = NULL;     /* borrowed for the call only */
    *out = b;
    return 0;
fail:
    esximg_imgbuild_free(b);
    return rc;
}

void esximg_imgbuild_free(struct esximg_imgbuild *b)
{
    if (!b)
        return;
    struct esximg_imgbuild_state *s = b->state;
    if (s) {
        for (size_t i = 0; s->vibs && i < s->n; i++) {
            for (size_t j = 0; s->vibs[i].files && s->vibs[i].d &&
                               j < s->vibs[i].d->payload_count; j++)
                free(s->vibs[i].files[j]);
            free(s->vibs[i].files);
            esximg_descriptor_free(s->vibs[i].d);
            free(s->vibs[i].vib_id);
            free(s->vibs[i].xml_file);
        }
        free(s->vibs);
        for (size_t i = 0; i < s->n_files; i++) {
            free(s->files[i].path);
            free(s->files[i].origin);
        }
        free(s->files);
        for (size_t i = 0; i < s->n_owned; i++)
            free(s->owned[i]);
        free(s);
    }
    for (size_t i = 0; i < b->module_count; i++)
        free(b->modules[i]);
    free(b->modules);
    free(b->files);
    free(b->volume_id);
    free(b->version);
    free(b->kernelopt);
    free(b->bootcfg);
    free(b);
}

/* ---- writing ---- */

int esximg_imgbuild_write(const struct esximg_imgbuild *b, const struct esximg_imgbuild_wopts *o,
                          const char *out_path, struct esximg_err *err)
{
    const struct esximg_imgbuild_wopts none = {0};
    if (!o)
        o = &none;
    const struct esximg_isoc_opts io = {
        .volume_id = b->volume_id, .application_id = "ESXIMAGE", .system_id = "",
        .bios_boot = b->bios_boot, .efi_boot = b->efi_boot,
        .boot_catalog = b->bios_boot ? "/BOOT.CAT" : NULL, .mtime = o->mtime, .mode = o->mode,
        .progress = o->progress, .progress_arg = o->progress_arg, .hybrid = o->hybrid,
    };
    return esximg_iso_create(b->files, b->file_count, &io, out_path, err);
}

/* ---- PXE ---- */

/* Files a PXE folder does without: El Torito's, the CD menu, the second BOOT.CFG (boot.cfg is
 * written anew), and the upgrade tools, which only an ISO's upgrade path reads. */
static bool ib_pxe_skips(const char *path)
{
    static const char *const skip[] = {"/ISOLINUX.BIN", "/ISOLINUX.CFG", "/EFIBOOT.IMG",
                                       "/BOOT.CFG", "/EFI/BOOT/BOOT.CFG", "/KS.CFG"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcmp(path, skip[i]) == 0)
            return true;
    return strncmp(path, "/UPGRADE/", 9) == 0;
}

static char *ib_lower_base(const char *path)
{
    char *s = esx_strdup(esx_path_base(path));
    for (char *p = s; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

struct ib_pxe {
    char *tmp;
    char **written;             /* names made in tmp, to remove on failure */
    size_t n_written;
    const struct esximg_imgbuild_wopts *o;
};

/* Every file and the folder dated o->mtime, so that two builds give the same folder. */
static int ib_set_time(const char *path, int64_t mtime, struct esximg_err *err)
{
    const struct timespec t[2] = {{.tv_sec = (time_t)mtime}, {.tv_sec = (time_t)mtime}};
    if (utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) != 0)
        return esximg_err_sys(err, errno, "cannot set the date of '%s'", path);
    return 0;
}

static int ib_pxe_write(struct ib_pxe *x, const char *name, const struct esximg_content *c,
                        struct esximg_err *err)
{
    for (size_t i = 0; i < x->n_written; i++)
        if (strcmp(x->written[i], name) == 0)
            return esximg_err_set(err, ESXIMG_EINVAL, "two files of the image are '%s' in a "
                                  "PXE folder", name);
    char *path = NULL;
    if (asprintf(&path, "%s/%s", x->tmp, name) < 0)
        return ib_nomem(err);
    struct esximg_outfile *of = NULL;
    uint8_t *buf = malloc(IB_COPY_CHUNK);
    struct ib_reader r = {.fd = -1};
    int rc = buf ? esximg_outfile_open(path, x->o->mode ? x->o->mode : 0644, &of, err)
                 : ib_nomem(err);
    bool opened = false;
    if (!rc && !(rc = ib_reader_open(&r, c, err)))
        opened = true;
    for (uint64_t done = 0; !rc && done < ib_content_size(c); ) {
        size_t got = 0;
        if (!(rc = ib_reader_read(&r, buf, IB_COPY_CHUNK, &got, err)))
            rc = esximg_outfile_write(of, buf, got, err);
        done += got;
    }
    if (opened)
        ib_reader_close(&r);
    if (!rc) {
        rc = esximg_outfile_commit(of, err);
        of = NULL;
    }
    if (!rc)
        rc = ib_set_time(path, x->o->mtime, err);
    esximg_outfile_abort(of);
    free(buf);
    if (!rc && !(x->written[x->n_written] = esx_strdup(name)))
        rc = ib_nomem(err);
    if (!rc)
        x->n_written++;
    if (rc)
        esximg_err_prefix(err, "'%s': ", name);
    free(path);
    return rc;
}

static bool ib_is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* boot.cfg: prefix=, and the kernel and modules relative to it.  A kickstart is fetched from
 * the prefix when that is a URL; a TFTP prefix cannot serve it (mboot reads ks= in the
 * installer, over the network), so the option then goes and ks.cfg stays beside. */
static int ib_pxe_bootcfg(const struct esximg_imgbuild *b, const char *prefix, bool ks,
                          char **out, size_t *out_len, struct esximg_err *err)
{
    struct esximg_bootcfg *cfg = NULL;
    struct esx_buf mods;
    esx_buf_init(&mods, ESX_MAX_BOOTCFG_BYTES);
    int rc = esximg_bootcfg_read(b->bootcfg, b->bootcfg_len, NULL, &cfg, err);
    if (!rc)
        rc = esximg_bootcfg_set(cfg, "prefix", prefix, err);
    if (!rc)
        rc = esximg_bootcfg_set(cfg, "kernel", b->modules[0] + 1, err);
    for (size_t i = 1; !rc && i < b->module_count; i++)
        rc = esx_buf_printf(&mods, err, "%s%s", i > 1 ? " --- " : "", b->modules[i] + 1);
    if (!rc)
        rc = esximg_bootcfg_set(cfg, "modules", mods.data ? mods.data : "", err);
    if (!rc && ks && ib_is_url(prefix)) {
        char *url = NULL;
        if (asprintf(&url, "%s%sks.cfg", prefix, prefix[strlen(prefix) - 1] == '/' ? "" : "/")
            < 0)
            rc = ib_nomem(err);
        else
            rc = esximg_bootcfg_kernelopt_set(cfg, "ks", url, err);
        free(url);
    } else if (!rc && ks) {
        rc = esximg_bootcfg_kernelopt_remove(cfg, "ks", err);
    }
    if (!rc)
        rc = ib_check_loader(cfg, err);
    if (!rc)
        rc = esximg_bootcfg_write(cfg, out, out_len, err);
    esximg_bootcfg_free(cfg);
    esx_buf_free(&mods);
    return rc;
}

static int ib_pxe_files(const struct esximg_imgbuild *b, struct ib_pxe *x, const char *prefix,
                        struct esximg_err *err)
{
    int rc = 0;
    const struct esximg_isoc_file *ks = NULL;
    for (size_t i = 0; !rc && i < b->file_count; i++) {
        const struct esximg_isoc_file *f = &b->files[i];
        if (strcmp(f->iso_path, "/KS.CFG") == 0)
            ks = f;
        if (ib_pxe_skips(f->iso_path))
            continue;
        char *name = ib_lower_base(f->iso_path);
        rc = name ? ib_pxe_write(x, name, &f->content, err) : ib_nomem(err);
        /* VMware's PXE guide boots UEFI clients with the loader named mboot.efi */
        if (!rc && strcmp(f->iso_path, "/EFI/BOOT/BOOTX64.EFI") == 0)
            rc = ib_pxe_write(x, "mboot.efi", &f->content, err);
        free(name);
    }
    if (!rc && ks)
        rc = ib_pxe_write(x, "ks.cfg", &ks->content, err);
    char *cfg = NULL;
    size_t len = 0;
    if (!rc)
        rc = ib_pxe_bootcfg(b, prefix, ks != NULL, &cfg, &len, err);
    if (!rc) {
        const struct esximg_content c = {.kind = ESXIMG_CONTENT_MEMORY, .data = cfg, .len = len};
        rc = ib_pxe_write(x, "boot.cfg", &c, err);
    }
    free(cfg);
    return rc;
}

int esximg_imgbuild_write_pxe(const struct esximg_imgbuild *b,
                              const struct esximg_imgbuild_wopts *o, const char *out_dir,
                              struct esximg_err *err)
{
    const struct esximg_imgbuild_wopts none = {0};
    struct stat st;
    if (!o)
        o = &none;
    if (lstat(out_dir, &st) == 0) {
        int rc = esximg_err_set(err, ESXIMG_EINVAL, "it exists already");
        esximg_err_file(err, out_dir);
        return rc;
    }
    struct ib_pxe x = {.o = o};
    const char *prefix = o->pxe_prefix ? o->pxe_prefix : esx_path_base(out_dir);
    int rc = 0;
    if (!prefix[0]) {
        rc = esximg_err_set(err, ESXIMG_EINVAL, "no prefix for boot.cfg");
    } else if (asprintf(&x.tmp, "%s.tmpXXXXXX", out_dir) < 0 ||
               !(x.written = calloc(b->file_count + 3, sizeof *x.written))) {
        x.tmp = NULL;
        rc = ib_nomem(err);
    } else if (!mkdtemp(x.tmp)) {
        rc = esximg_err_sys(err, errno, "cannot make a folder beside it");
        free(x.tmp);
        x.tmp = NULL;
    }
    if (!rc)
        rc = ib_pxe_files(b, &x, prefix, err);
    if (!rc && chmod(x.tmp, 0755) != 0)
        rc = esximg_err_sys(err, errno, "cannot set the folder's mode");
    if (!rc)
        rc = ib_set_time(x.tmp, o->mtime, err);
    if (!rc && rename(x.tmp, out_dir) != 0)
        rc = esximg_err_sys(err, errno, "cannot rename the folder into place");
    for (size_t i = 0; i < x.n_written; i++) {
        if (rc) {
            char *p = NULL;
            if (asprintf(&p, "%s/%s", x.tmp, x.written[i]) >= 0)
                unlink(p);
            free(p);
        }
        free(x.written[i]);
    }
    if (rc && x.tmp)
        rmdir(x.tmp);
    if (rc && err && !err->file[0])
        esximg_err_file(err, out_dir);
    free(x.written);
    free(x.tmp);
    return rc;
}
