/* depotspool.c: an offline bundle's VIBs spooled to files (esximg/depotspool.h).
 *
 * libarchive reads the zip file by its central directory and inflates one member at a time
 * into a 64 KiB buffer; a VIB goes to a file of the caller's folder, which is then mapped and
 * parsed, so that memory use stays that of the headers and descriptors whatever the size of
 * the payloads.  The limits are those of depot.c (ESX_MAX_ZIP_ENTRIES members per zip,
 * ESX_MAX_DEPOT_BYTES inflated in all, ESX_MAX_GUNZIP_RATIO times each zip's size past
 * ESX_GUNZIP_RATIO_FLOOR), checked on the size a member claims before it is read and on the
 * bytes really inflated. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "depotmeta_private.h"
#include "esximg/depotspool.h"
#include "esx_private.h"

#define SPOOL_CHUNK ((size_t)64 << 10)
#define SPOOL_MAX_METADATA ((uint64_t)64 << 20)    /* a metadata zip, read whole */

struct spool_ctx {
    const char *dir;
    struct esximg_depot_spool *s;
    uint64_t max_bytes;
    uint64_t inflated;
};

struct spool_zip {
    struct archive *a;
    const char *prefix;         /* path of a nested zip in the top one, or NULL */
    uint64_t budget;            /* most bytes it may inflate to */
    uint64_t inflated;
    unsigned depth;
};

static int spool_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static bool spool_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool spool_is_metadata(const char *name)
{
    const char *base = esx_path_base(name);
    return strcasecmp(base, "metadata.zip") == 0 || spool_ends_with(base, "-metadata.zip");
}

static uint64_t spool_budget(uint64_t zip_len)
{
    uint64_t budget;
    if (esx_mul_u64(zip_len, ESX_MAX_GUNZIP_RATIO, &budget))
        return UINT64_MAX;
    return budget < ESX_GUNZIP_RATIO_FLOOR ? ESX_GUNZIP_RATIO_FLOOR : budget;
}

static char *spool_member_path(const struct spool_zip *z, const char *name)
{
    return z->prefix ? esx_path_join(z->prefix, name) : esx_strdup(name);
}

static int spool_archive_error(struct archive *a, const char *what, struct esximg_err *err)
{
    const char *why = archive_error_string(a);
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s: %s", what, why ? why : "unknown reason");
}

/* ---- zips ---- */

static int spool_zip_open_file(struct spool_zip *z, const char *path, struct esximg_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return esximg_err_sys(err, errno, "cannot open");
    z->budget = spool_budget((uint64_t)st.st_size);
    if (!(z->a = archive_read_new()))
        return spool_nomem(err);
    if (archive_read_support_format_zip_seekable(z->a) != ARCHIVE_OK ||
        archive_read_open_filename(z->a, path, SPOOL_CHUNK) != ARCHIVE_OK)
        return spool_archive_error(z->a, "not a readable zip", err);
    return 0;
}

static int spool_zip_open_memory(struct spool_zip *z, const void *data, size_t len,
                                 struct esximg_err *err)
{
    z->budget = spool_budget(len);
    if (!(z->a = archive_read_new()))
        return spool_nomem(err);
    if (archive_read_support_format_zip_seekable(z->a) != ARCHIVE_OK ||
        archive_read_open_memory(z->a, data, len) != ARCHIVE_OK)
        return spool_archive_error(z->a, "not a readable zip", err);
    return 0;
}

/* The next regular member, or *name NULL at the end. */
static int spool_zip_next(struct spool_ctx *x, struct spool_zip *z, size_t *entries,
                          const char **name, struct archive_entry **entry,
                          struct esximg_err *err)
{
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(z->a, &e);
        if (ar == ARCHIVE_EOF) {
            *name = NULL;
            return 0;
        }
        if (ar < ARCHIVE_WARN)
            return spool_archive_error(z->a, "broken zip", err);
        if (++*entries > ESX_MAX_ZIP_ENTRIES)
            return esximg_err_set(err, ESXIMG_ELIMIT, "zip has more than %u members",
                                  ESX_MAX_ZIP_ENTRIES);
        const char *n = archive_entry_pathname(e);
        if (!n)
            n = archive_entry_pathname_utf8(e);
        if (!n || !*n) {
            esx_warn(&x->s->warnings, 0, NULL, "a member without a readable name was skipped");
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        *name = n;
        *entry = e;
        return 0;
    }
}

/* Most bytes the member may inflate to: `max`, the zip's ratio budget, the bundle's budget. */
static uint64_t spool_limit(const struct spool_ctx *x, const struct spool_zip *z, uint64_t max)
{
    uint64_t zip_left = z->budget - z->inflated, bundle_left = x->max_bytes - x->inflated;
    if (zip_left < max)
        max = zip_left;
    return bundle_left < max ? bundle_left : max;
}

/* Inflates the current member to fd (or into *mem when fd < 0), hashing it when `digest`. */
static int spool_data(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                      uint64_t max, int fd, struct esx_buf *mem, struct esx_digest *digest,
                      uint64_t *written, struct esximg_err *err)
{
    uint64_t limit = spool_limit(x, z, max);
    if (archive_entry_is_encrypted(e))
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "encrypted");
    if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
        (uint64_t)archive_entry_size(e) > limit)
        return esximg_err_set(err, ESXIMG_ELIMIT, "inflates past the limit of %" PRIu64
                              " bytes (the member, its zip's ratio or the bundle's)", limit);
    uint8_t *chunk = malloc(SPOOL_CHUNK);
    if (!chunk)
        return spool_nomem(err);
    int rc = 0;
    uint64_t done = 0;
    for (;;) {
        la_ssize_t got = archive_read_data(z->a, chunk, SPOOL_CHUNK);
        if (got < 0) {
            rc = spool_archive_error(z->a, "cannot inflate", err);
            break;
        }
        if (got == 0)
            break;
        if ((uint64_t)got > limit - done) {
            rc = esximg_err_set(err, ESXIMG_ELIMIT, "inflates past the limit of %" PRIu64
                                " bytes", limit);
            break;
        }
        if (fd >= 0) {
            int e2 = esx_pwrite_full(fd, chunk, (size_t)got, done);
            if (e2)
                rc = esximg_err_sys(err, e2, "cannot write its copy");
        } else {
            rc = esx_buf_append(mem, chunk, (size_t)got, err);
        }
        if (!rc && digest)
            rc = esx_digest_update(digest, chunk, (size_t)got, err);
        if (rc)
            break;
        done += (uint64_t)got;
    }
    free(chunk);
    z->inflated += done;
    x->inflated += done;
    *written = done;
    return rc;
}

/* The member into a new file of the folder: *path (to free). */
static int spool_to_file(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                         const char *ext, char **path, char sha256[65], uint64_t *len,
                         struct esximg_err *err)
{
    /* a unique name: several bundles may be spooled into one folder */
    char name[32];
    snprintf(name, sizeof name, "spool-XXXXXX.%s", ext);
    if (!(*path = esx_path_join(x->dir, name)))
        return spool_nomem(err);
    int fd = mkostemps(*path, (int)strlen(ext) + 1, O_CLOEXEC);
    if (fd < 0) {
        int rc = esximg_err_sys(err, errno, "cannot make a file in '%s'", x->dir);
        free(*path);
        *path = NULL;
        return rc;
    }
    struct esx_digest *d = NULL;
    int rc = sha256 ? esx_digest_new(ESX_SHA256, &d, err) : 0;
    if (!rc)
        rc = spool_data(x, z, e, UINT64_MAX, fd, NULL, d, len, err);
    if (!rc && sha256)
        rc = esx_digest_final_hex(d, sha256, err);
    esx_digest_free(d);
    if (close(fd) != 0 && !rc)
        rc = esximg_err_sys(err, errno, "cannot write its copy");
    if (rc) {
        unlink(*path);
        free(*path);
        *path = NULL;
    }
    return rc;
}

/* ---- VIBs ---- */

static void spool_vib_clear(struct esximg_spool_vib *v)
{
    esximg_vib_free(v->vib);
    if (v->bytes)
        munmap((void *)v->bytes, v->len);
    if (v->file)
        unlink(v->file);
    free(v->file);
    free(v->member);
    free(v->vib_id);
    memset(v, 0, sizeof *v);
}

static int spool_map(struct esximg_spool_vib *v, uint64_t len, struct esximg_err *err)
{
    if (len > SIZE_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "%" PRIu64 " bytes cannot be mapped", len);
    v->len = (size_t)len;
    if (!len)
        return esximg_err_set(err, ESXIMG_EFORMAT, "an empty file is no VIB");
    int fd = open(v->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esximg_err_sys(err, errno, "cannot open its copy");
    void *map = mmap(NULL, v->len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return esximg_err_sys(err, e, "cannot map its copy");
    v->bytes = map;
    return 0;
}

/* The same id as an earlier VIB: dropped when the bytes are the same, else refused. */
static int spool_check_duplicate(struct spool_ctx *x, struct esximg_spool_vib *v, bool *dup,
                                 struct esximg_err *err)
{
    *dup = false;
    for (size_t i = 0; i < x->s->vib_count; i++) {
        const struct esximg_spool_vib *o = &x->s->vibs[i];
        if (strcmp(o->vib_id, v->vib_id) != 0)
            continue;
        if (strcmp(o->sha256, v->sha256) != 0)
            return esximg_err_set(err, ESXIMG_EFORMAT, "VIB '%s' is also '%s', with other "
                                  "bytes", v->vib_id, o->member);
        esx_warn(&x->s->warnings, 0, NULL, "member '%s': the same VIB as '%s', skipped",
                 v->member, o->member);
        *dup = true;
    }
    return 0;
}

static int spool_vib(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                     const char *name, struct esximg_err *err)
{
    struct esximg_spool_vib v = {0};
    uint64_t len = 0;
    bool dup = false;
    int rc = (v.member = spool_member_path(z, name)) ? 0 : spool_nomem(err);
    if (!rc)
        rc = spool_to_file(x, z, e, "vib", &v.file, v.sha256, &len, err);
    if (!rc)
        rc = spool_map(&v, len, err);
    if (!rc)
        rc = esximg_vib_read(v.bytes, v.len, &v.vib, err);
    if (!rc && !(v.vib_id = esximg_descriptor_vib_id(v.vib->desc)))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "its descriptor lacks a vendor, type, name "
                            "or version");
    if (!rc)
        rc = spool_check_duplicate(x, &v, &dup, err);
    if (!rc && !dup) {
        struct esximg_spool_vib *grown = esx_realloc_array(x->s->vibs, x->s->vib_count + 1,
                                                           sizeof *grown);
        if (!grown) {
            rc = spool_nomem(err);
        } else {
            x->s->vibs = grown;
            x->s->vibs[x->s->vib_count++] = v;
            return 0;
        }
    }
    if (rc)
        esximg_err_prefix(err, "member '%s': ", v.member ? v.member : name);
    spool_vib_clear(&v);
    return rc;
}

/* ---- metadata: the components ---- */

static int spool_add_component(struct spool_ctx *x, char *member, struct esx_buf *xml)
{
    struct esximg_err e = {0};
    struct esximg_spool_component c = {.member = member};
    c.xml = (uint8_t *)esx_buf_take(xml, &c.len);
    if (!c.xml || esximg_bulletin_read(c.xml, c.len, &c.bulletin, &e)) {
        esx_warn(&x->s->warnings, 0, NULL, "member '%s' is skipped: %s", member,
                 c.xml ? e.msg : "out of memory");
        free(c.xml);
        free(member);
        return 0;
    }
    struct esximg_spool_component *grown = esx_realloc_array(x->s->components,
                                                             x->s->component_count + 1,
                                                             sizeof *grown);
    if (!grown) {
        esximg_bulletin_free(c.bulletin);
        free(c.xml);
        free(member);
        return ESXIMG_ENOMEM;
    }
    x->s->components = grown;
    x->s->components[x->s->component_count++] = c;
    return 0;
}

static bool spool_is_bulletin(const char *name)
{
    return strncmp(name, "bulletins/", 10) == 0 && spool_ends_with(name, ".xml") &&
           !strchr(name + 10, '/');
}

/* ---- metadata: the image documents (depotmeta.c) ---- */

static bool spool_fatal(int rc)
{
    return rc == ESXIMG_ENOMEM || rc == ESXIMG_ELIMIT;
}

/* A profiles/, baseimages/, addons/ or manifests/ member, or one not understood, into the
 * depot model.  As in depot.c, only a limit or out-of-memory stops the bundle; a document that
 * does not read is a warning and an entry of `unknowns`, for a build that needs it to fail by
 * its name ("... is in no depot") rather than build something else. */
static int spool_image_member(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                              const char *prefix, const char *name, struct esximg_err *err)
{
    struct esximg_err local = {0};
    char *source = NULL;
    /* not esx_path_join: the name is shown as found, '..' and all */
    if (asprintf(&source, "%s/%s", prefix, name) < 0)
        return spool_nomem(err);
    int rc = esx_path_check(name, "member", &local);
    if (!rc && esx_depotmeta_classify(name) == ESX_DEPOTMETA_UNKNOWN) {
        const char *slash = strchr(name, '/');
        if (slash)
            rc = esximg_err_set(&local, ESXIMG_EUNSUPPORTED, "unknown folder '%.*s'",
                                (int)(slash - name), name);
        else
            rc = esximg_err_set(&local, ESXIMG_EUNSUPPORTED, "unknown file");
    }
    struct esx_buf data;
    esx_buf_init(&data, 0);
    uint64_t got = 0;
    if (!rc)
        rc = spool_data(x, z, e, ESX_MAX_JSON_BYTES, -1, &data, NULL, &got, &local);
    if (!rc)
        rc = esx_depotmeta_read(x->s->depot, source, name,
                                (const uint8_t *)(data.data ? data.data : ""), data.len,
                                &local);
    esx_buf_free(&data);
    if (rc && spool_fatal(rc)) {
        rc = esximg_err_set(err, local.code, "metadata '%s': %s", source, local.msg);
    } else if (rc) {
        esx_warn(&x->s->warnings, 0, NULL, "metadata '%s': %s", source, local.msg);
        rc = esx_depotmeta_unknown(x->s->depot, source, local.msg, err);
    }
    free(source);
    return rc;
}

/* Metadata that cannot be read only adds a warning, as in depot.c: the VIBs are the truth. */
static int spool_metadata(struct spool_ctx *x, struct spool_zip *top, struct archive_entry *e,
                          const char *name, struct esximg_err *err)
{
    struct esx_buf data;
    esx_buf_init(&data, 0);
    uint64_t len = 0;
    int rc = spool_data(x, top, e, SPOOL_MAX_METADATA, -1, &data, NULL, &len, err);
    char *prefix = spool_member_path(top, name);
    struct spool_zip z = {.prefix = prefix, .depth = top->depth + 1};
    struct esximg_err me = {0};
    size_t entries = 0;
    if (!rc && prefix && !spool_zip_open_memory(&z, data.data, data.len, &me)) {
        for (;;) {
            const char *n = NULL;
            struct archive_entry *me_e = NULL;
            if (spool_zip_next(x, &z, &entries, &n, &me_e, &me) || !n)
                break;
            if (!spool_is_bulletin(n)) {
                if (esx_depotmeta_classify(n) == ESX_DEPOTMETA_SKIP)
                    continue;
                if ((rc = spool_image_member(x, &z, me_e, prefix, n, err)))
                    break;
                continue;
            }
            struct esx_buf xml;
            esx_buf_init(&xml, 0);
            uint64_t got = 0;
            char *member = esx_path_join(prefix, n);
            if (!member || spool_data(x, &z, me_e, ESX_MAX_XML_BYTES, -1, &xml, NULL, &got,
                                      &me)) {
                free(member);
                esx_buf_free(&xml);
                break;
            }
            rc = spool_add_component(x, member, &xml);
            esx_buf_free(&xml);
            if (rc) {
                rc = spool_nomem(err);
                break;
            }
        }
    }
    if (!rc && me.code)
        esx_warn(&x->s->warnings, 0, NULL, "metadata '%s' is not read whole: %s",
                 prefix ? prefix : name, me.msg);
    if (z.a)
        archive_read_free(z.a);
    free(prefix);
    esx_buf_free(&data);
    return rc;
}

/* ---- the walk ---- */

static int spool_zip_walk(struct spool_ctx *x, struct spool_zip *z, struct esximg_err *err);

static int spool_nested(struct spool_ctx *x, struct spool_zip *top, struct archive_entry *e,
                        const char *name, struct esximg_err *err)
{
    char *prefix = spool_member_path(top, name);
    if (!prefix)
        return spool_nomem(err);
    if (top->depth + 1 > ESX_MAX_ZIP_DEPTH) {
        int rc = esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': a zip nested deeper than "
                                "%u levels", prefix, ESX_MAX_ZIP_DEPTH);
        free(prefix);
        return rc;
    }
    char *path = NULL;
    uint64_t len = 0;
    int rc = spool_to_file(x, top, e, "zip", &path, NULL, &len, err);
    struct spool_zip z = {.prefix = prefix, .depth = top->depth + 1};
    if (!rc && (rc = spool_zip_open_file(&z, path, err)))
        esximg_err_prefix(err, "member '%s': ", prefix);
    if (!rc)
        rc = spool_zip_walk(x, &z, err);
    if (z.a)
        archive_read_free(z.a);
    if (path)
        unlink(path);
    free(path);
    free(prefix);
    return rc;
}

static int spool_zip_walk(struct spool_ctx *x, struct spool_zip *z, struct esximg_err *err)
{
    size_t entries = 0;
    for (;;) {
        const char *name = NULL;
        struct archive_entry *e = NULL;
        int rc = spool_zip_next(x, z, &entries, &name, &e, err);
        if (rc || !name)
            return rc;
        if (spool_ends_with(name, ".vib"))
            rc = spool_vib(x, z, e, name, err);
        else if (spool_is_metadata(name))
            rc = spool_metadata(x, z, e, name, err);
        else if (spool_ends_with(name, ".zip"))
            rc = spool_nested(x, z, e, name, err);
        if (rc)
            return rc;
    }
}

/* ---- the depot model for the resolver ---- */

static int spool_model_vibs(struct esximg_depot_spool *s, struct esximg_err *err)
{
    struct esximg_depot *d = s->depot;
    if (!(d->vibs = calloc(s->vib_count + 1, sizeof *d->vibs)))
        return spool_nomem(err);
    for (size_t i = 0; i < s->vib_count; i++, d->vib_count++) {
        const struct esximg_spool_vib *v = &s->vibs[i];
        struct esximg_depot_vib *m = &d->vibs[i];
        const char *level = v->vib->desc->acceptance_level;
        m->acceptance = level ? esximg_acceptance_parse(level) : ESXIMG_ACCEPT_UNKNOWN;
        memcpy(m->sha256, v->sha256, sizeof m->sha256);
        m->len = v->len;
        if (!(m->path = esx_strdup(v->member)) || !(m->vib_id = esx_strdup(v->vib_id)))
            return spool_nomem(err);
    }
    return 0;
}

static char *spool_dup_or_null(const char *s)
{
    return s ? esx_strdup(s) : NULL;
}

/* The bulletin as a depot component; a second bulletin of one id is left out, as depot.c
 * keeps the first. */
static int spool_model_component(struct esximg_depot *d, const struct esximg_spool_component *c,
                                 struct esximg_err *err)
{
    const struct esximg_bulletin *b = c->bulletin;
    for (size_t i = 0; i < d->component_count; i++)
        if (strcmp(d->components[i].id, b->id) == 0)
            return 0;
    struct esximg_depot_component *k = &d->components[d->component_count++];
    k->id = esx_strdup(b->id);
    k->vendor = spool_dup_or_null(b->vendor);
    k->summary = spool_dup_or_null(b->summary);
    k->release_date = spool_dup_or_null(b->release_date);
    k->name = spool_dup_or_null(b->component_name);
    k->name_ui = spool_dup_or_null(b->component_ui_name);
    k->version = spool_dup_or_null(b->component_version);
    k->version_ui = spool_dup_or_null(b->component_ui_version);
    k->xml = malloc(c->len + 1);
    k->vib_ids = calloc(b->vib_count + 1, sizeof *k->vib_ids);
    if (!k->id || !k->xml || !k->vib_ids)
        return spool_nomem(err);
    memcpy(k->xml, c->xml, c->len);
    k->xml[c->len] = '\0';
    k->xml_len = c->len;
    for (size_t i = 0; i < b->vib_count; i++, k->vib_id_count++)
        if (!(k->vib_ids[i] = esx_strdup(b->vib_ids[i])))
            return spool_nomem(err);
    return 0;
}

/* After the walk: the VIBs and components into the model, then depotmeta.c's checks (two
 * base images of one version, profiles naming VIBs the bundle lacks), whose warnings join the
 * spool's. */
static int spool_model(struct esximg_depot_spool *s, struct esximg_err *err)
{
    struct esximg_depot *d = s->depot;
    int rc = spool_model_vibs(s, err);
    if (!rc && !(d->components = calloc(s->component_count + 1, sizeof *d->components)))
        rc = spool_nomem(err);
    for (size_t i = 0; i < s->component_count && !rc; i++)
        rc = spool_model_component(d, &s->components[i], err);
    d->kind = s->component_count || d->profile_count || d->base_image_count ||
                      d->addon_count || d->unknown_count
                  ? ESXIMG_DEPOT_VMWARE
                  : ESXIMG_DEPOT_PLAIN;
    if (!rc)
        rc = esx_depotmeta_finish(d, err);
    for (size_t i = 0; i < d->warnings.count; i++)
        esx_warn(&s->warnings, 0, NULL, "%s", d->warnings.items[i].msg);
    return rc;
}

int esximg_depot_spool(const char *zip_path, const char *dir, const struct esximg_spool_opts *o,
                       struct esximg_depot_spool **out, struct esximg_err *err)
{
    *out = NULL;
    struct esximg_err e = {0};
    struct spool_ctx x = {.dir = dir, .max_bytes = o && o->max_bytes ? o->max_bytes
                                                                   : ESX_MAX_DEPOT_BYTES};
    struct spool_zip z = {0};
    int rc = (x.s = calloc(1, sizeof *x.s)) && (x.s->depot = calloc(1, sizeof *x.s->depot))
                 ? 0
                 : spool_nomem(&e);
    if (!rc && !(rc = spool_zip_open_file(&z, zip_path, &e)))
        rc = spool_zip_walk(&x, &z, &e);
    if (z.a)
        archive_read_free(z.a);
    if (!rc && !x.s->vib_count)
        rc = esximg_err_set(&e, ESXIMG_ENOTFOUND, "no VIB in the bundle");
    if (!rc)
        rc = spool_model(x.s, &e);
    if (rc) {
        esximg_depot_spool_free(x.s);
        esximg_err_file(&e, zip_path);
        if (err)
            *err = e;
        return rc;
    }
    *out = x.s;
    return 0;
}

void esximg_depot_spool_free(struct esximg_depot_spool *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->vib_count; i++)
        spool_vib_clear(&s->vibs[i]);
    free(s->vibs);
    for (size_t i = 0; i < s->component_count; i++) {
        free(s->components[i].member);
        free(s->components[i].xml);
        esximg_bulletin_free(s->components[i].bulletin);
    }
    free(s->components);
    esximg_depot_free(s->depot);
    esx_warnings_free(&s->warnings);
    free(s);
}
