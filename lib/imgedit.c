/* imgedit.c: one-pass edits of an installer image (see esximg/imgedit.h and docs/edit.md).
 *
 * The plan works on its own copies of the image database (read again from IMGDB.TGZ) and of
 * the BOOT.CFG models, so the caller's image model is only read.  Every new byte is made
 * while planning; writing is one esximg_iso_write() call. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "esximg/elf.h"
#include "esximg/imgedit.h"
#include "esximg/io.h"
#include "esximg/isowrite.h"
#include "esximg/kickstart.h"
#include "esximg/modname.h"
#include "esximg/vibauthor.h"
#include "esximg/vibrel.h"

/* ---------------------------------------------------------------- models */

/* A bundle's component (bulletin), copied from the depot model. */
struct edit_comp {
    char *id, *name, *ui_name, *version, *ui_version, *vendor, *summary, *release_date;
    char *xml;                          /* the bundle's bulletin, or NULL */
    size_t xml_len;
};

/* One VIB to add. */
struct edit_vib {
    char *source;                       /* the package it came from */
    uint8_t *bytes;                     /* the .vib */
    size_t len;
    struct esximg_vib *vib;             /* borrows bytes; NULL until an OEM VIB is built */
    struct esximg_vibauthor_oem *oem;   /* an OEM .tgz until it is built */
    char *vib_id;
    enum esximg_acceptance acceptance;
    struct edit_comp *comp;             /* the bundle's component holding it, or NULL */
    char **files;                       /* module file per payload, lower case */
    size_t file_count;
    char *xml_file;                     /* its vibs/ file */
    bool dropped;                       /* a duplicate of an earlier package */
};

struct esximg_edit_state {
    const struct esximg_image *img;     /* borrowed: the write reads its path and its ISO */
    size_t count, cap;
    struct esximg_iso_change *changes;
    char **paths;                       /* owned iso_path of each change */
    uint8_t **owned;                    /* owned content of each change, or NULL */
    size_t vib_count;
    struct edit_vib *vibs;              /* module changes borrow their payload bytes */
};

struct edit_ctx {
    struct esximg_image *img;
    const struct esximg_edit_opts *o;
    struct esximg_edit_plan *plan;
    struct esximg_edit_state *st;
    struct esximg_imgdb *db;
    size_t ncfg;
    struct esximg_bootcfg *cfg[2];
    char *cfg_path[2];                  /* ISO paths as recorded */
    char *cfg_before[2];
    size_t cfg_before_len[2];
    bool *removed;                      /* per img->vibs */
    const struct edit_vib **replaced_by; /* per img->vibs */
    bool v7;                            /* 7.0 or later: 64-bit xml names, bulletins */
    bool lower_names;                   /* the ISO records module names in lower case */
    int64_t mtime;
    const char **used;                  /* module names taken (borrowed or in `files`) */
    size_t used_count, used_cap;
    bool *select_hit;
    const char *level;                  /* the profile's new acceptance level */
    /* acceptance warnings: shown only when the edit goes on (a refusal is shown alone) */
    struct esximg_warnings deferred;
};

/* ---------------------------------------------------------------- small helpers */

static int edit_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

__attribute__((format(printf, 3, 4)))
static int edit_line(struct edit_ctx *c, struct esximg_err *err, const char *fmt, ...)
{
    struct esximg_edit_plan *p = c->plan;
    char **grown = esx_realloc_array(p->lines, p->line_count + 1, sizeof *p->lines);
    if (!grown)
        return edit_nomem(err);
    p->lines = grown;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&p->lines[p->line_count], fmt, ap);
    va_end(ap);
    if (n < 0)
        return edit_nomem(err);
    p->line_count++;
    return 0;
}

__attribute__((format(printf, 3, 4)))
static int edit_warn(struct edit_ctx *c, struct esximg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(&c->plan->warnings, 0, err, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 3, 4)))
static int edit_problem(struct edit_ctx *c, struct esximg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(&c->plan->problems, 0, err, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *edit_text(const char *s)
{
    return s ? s : "";
}

static bool edit_has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* ---------------------------------------------------------------- changes */

static int edit_change(struct edit_ctx *c, enum esximg_iso_change_kind kind, const char *path,
                       uint8_t *owned, const void *data, size_t len, struct esximg_err *err)
{
    struct esximg_edit_state *st = c->st;
    if (st->count == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct esximg_iso_change *ch = esx_realloc_array(st->changes, cap, sizeof *ch);
        if (ch)
            st->changes = ch;
        char **paths = ch ? esx_realloc_array(st->paths, cap, sizeof *paths) : NULL;
        if (paths)
            st->paths = paths;
        uint8_t **own = paths ? esx_realloc_array(st->owned, cap, sizeof *own) : NULL;
        if (!own) {
            free(owned);
            return edit_nomem(err);
        }
        st->owned = own;
        st->cap = cap;
    }
    char *p = esx_strdup(path);
    if (!p) {
        free(owned);
        return edit_nomem(err);
    }
    st->paths[st->count] = p;
    st->owned[st->count] = owned;
    st->changes[st->count] = (struct esximg_iso_change){
        .kind = kind, .iso_path = p, .data = owned ? owned : data, .len = len,
    };
    st->count++;
    return 0;
}

/* ---------------------------------------------------------------- packages */

static void edit_comp_free(struct edit_comp *k)
{
    if (!k)
        return;
    free(k->id);
    free(k->name);
    free(k->ui_name);
    free(k->version);
    free(k->ui_version);
    free(k->vendor);
    free(k->summary);
    free(k->release_date);
    free(k->xml);
    free(k);
}

static void edit_vib_clear(struct edit_vib *v)
{
    free(v->source);
    esximg_vib_free(v->vib);
    free(v->bytes);
    esximg_vibauthor_oem_free(v->oem);
    free(v->vib_id);
    edit_comp_free(v->comp);
    for (size_t i = 0; v->files && i < v->file_count; i++)
        free(v->files[i]);
    free(v->files);
    free(v->xml_file);
}

static int edit_dup(const char *s, char **out)
{
    *out = NULL;
    if (s && !(*out = esx_strdup(s)))
        return ESXIMG_ENOMEM;
    return 0;
}

static int edit_comp_copy(const struct esximg_depot_component *k, struct edit_comp **out,
                          struct esximg_err *err)
{
    struct edit_comp *n = calloc(1, sizeof *n);
    if (!n || edit_dup(k->id, &n->id) || edit_dup(k->name, &n->name) ||
        edit_dup(k->name_ui, &n->ui_name) || edit_dup(k->version, &n->version) ||
        edit_dup(k->version_ui, &n->ui_version) || edit_dup(k->vendor, &n->vendor) ||
        edit_dup(k->summary, &n->summary) || edit_dup(k->release_date, &n->release_date) ||
        (k->xml && !(n->xml = esx_strndup(k->xml, k->xml_len)))) {
        edit_comp_free(n);
        return edit_nomem(err);
    }
    n->xml_len = k->xml_len;
    *out = n;
    return 0;
}

/* A new slot in the list of VIBs to add, zeroed, with its source. */
static int edit_vib_new(struct edit_ctx *c, const char *source, struct edit_vib **out,
                        struct esximg_err *err)
{
    struct esximg_edit_state *st = c->st;
    struct edit_vib *grown = esx_realloc_array(st->vibs, st->vib_count + 1, sizeof *grown);
    if (!grown)
        return edit_nomem(err);
    st->vibs = grown;
    struct edit_vib *v = &st->vibs[st->vib_count];
    memset(v, 0, sizeof *v);
    if (!(v->source = esx_strdup(source)))
        return edit_nomem(err);
    st->vib_count++;
    *out = v;
    return 0;
}

/* Parses the VIB bytes the slot owns. */
static int edit_vib_parse(struct edit_vib *v, struct esximg_err *err)
{
    int rc = esximg_vib_read(v->bytes, v->len, &v->vib, err);
    if (rc)
        return rc;
    const struct esximg_descriptor *d = v->vib->desc;
    v->vib_id = esximg_descriptor_vib_id(d);
    if (!v->vib_id)
        return esximg_err_set(err, ESXIMG_EFORMAT, "descriptor has no vendor, type, name or "
                              "version");
    v->acceptance = esximg_acceptance_parse(d->acceptance_level);
    return 0;
}

static int edit_add_vib_bytes(struct edit_ctx *c, const char *source, uint8_t *bytes,
                              size_t len, struct esximg_err *err)
{
    struct edit_vib *v;
    int rc = edit_vib_new(c, source, &v, err);
    if (rc) {
        free(bytes);
        return rc;
    }
    v->bytes = bytes;
    v->len = len;
    return edit_vib_parse(v, err);
}

static bool edit_selected(struct edit_ctx *c, const struct esximg_depot_vib *dv)
{
    if (!c->o->select_count)
        return true;
    bool hit = false;
    const char *name = dv->vib->desc->name;
    for (size_t i = 0; i < c->o->select_count; i++)
        if (!strcmp(c->o->selects[i], dv->vib_id) ||
            (name && !strcmp(c->o->selects[i], name))) {
            c->select_hit[i] = true;
            hit = true;
        }
    return hit;
}

static int edit_add_depot(struct edit_ctx *c, const char *source, const uint8_t *data,
                          size_t len, struct esximg_err *err)
{
    struct esximg_depot *d;
    int rc = esximg_depot_read(data, len, NULL, &d, err);
    if (rc)
        return rc;
    for (size_t i = 0; !rc && i < d->warnings.count; i++)
        rc = edit_warn(c, err, "%s: %s", source, d->warnings.items[i].msg);
    size_t taken = 0;
    for (size_t i = 0; !rc && i < d->vib_count; i++) {
        const struct esximg_depot_vib *dv = &d->vibs[i];
        if (!edit_selected(c, dv))
            continue;
        if (dv->size_mismatch || dv->checksum_mismatch)
            rc = edit_warn(c, err, "%s: '%s' differs from the bundle's metadata", source,
                           dv->vib_id);
        uint8_t *copy = rc ? NULL : malloc(dv->len ? dv->len : 1);
        if (!rc && !copy)
            rc = edit_nomem(err);
        if (rc)
            break;
        memcpy(copy, dv->bytes, dv->len);
        rc = edit_add_vib_bytes(c, source, copy, dv->len, err);
        if (!rc && dv->component_count)
            rc = edit_comp_copy(&d->components[dv->components[0]],
                                &c->st->vibs[c->st->vib_count - 1].comp, err);
        if (rc)
            esximg_err_prefix(err, "'%s': ", dv->path);
        taken++;
    }
    if (!rc && !taken)
        rc = edit_warn(c, err, "%s: no VIB of the bundle is selected", source);
    esximg_depot_free(d);
    return rc;
}

static int edit_add_oem(struct edit_ctx *c, const char *source, const uint8_t *data, size_t len,
                        struct esximg_err *err)
{
    struct esximg_vibauthor_oem *oem;
    int rc = esximg_vibauthor_oem_read(data, len, &oem, err);
    if (rc)
        return rc;
    struct edit_vib *v;
    rc = edit_vib_new(c, source, &v, err);
    if (rc) {
        esximg_vibauthor_oem_free(oem);
        return rc;
    }
    v->oem = oem;
    return 0;
}

static bool edit_is_tar(const uint8_t *p, size_t n)
{
    return n >= 263 && memcmp(p + 257, "ustar", 5) == 0;
}

/* One package file: the kind comes from its first bytes. */
static int edit_add_file(struct edit_ctx *c, const char *path, struct esximg_err *err)
{
    uint8_t *data;
    size_t len;
    int rc = esximg_file_read(path, 0, &data, &len, err);
    if (rc)
        return rc;
    if (len >= 8 && memcmp(data, "!<arch>\n", 8) == 0)
        return edit_add_vib_bytes(c, path, data, len, err);
    if (len >= 4 && memcmp(data, "PK\003\004", 4) == 0)
        rc = edit_add_depot(c, path, data, len, err);
    else if (esx_is_gzip(data, len) || edit_is_tar(data, len))
        rc = edit_add_oem(c, path, data, len, err);
    else
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "not a VIB, a bundle .zip or an OEM .tgz");
    free(data);
    return rc;
}

static int edit_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .vib, .zip and .tgz files of a folder, sorted bytewise. */
static int edit_list_folder(const char *dir, char ***out, size_t *count, struct esximg_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return esximg_err_sys(err, errno, "cannot open folder");
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.' || !(edit_has_suffix_ci(e->d_name, ".vib") ||
                                     edit_has_suffix_ci(e->d_name, ".zip") ||
                                     edit_has_suffix_ci(e->d_name, ".tgz")))
            continue;
        char *full = esx_path_join(dir, e->d_name);
        struct stat sb;
        if (!full) {
            rc = edit_nomem(err);
        } else if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(full);
        } else {
            char **grown = esx_realloc_array(names, n + 1, sizeof *names);
            if (!grown) {
                free(full);
                rc = edit_nomem(err);
            } else {
                names = grown;
                names[n++] = full;
            }
        }
    }
    closedir(d);
    if (!rc && !n)
        rc = esximg_err_set(err, ESXIMG_ENOTFOUND, "folder holds no .vib, .zip or .tgz file");
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    qsort(names, n, sizeof *names, edit_name_cmp);
    *out = names;
    *count = n;
    return 0;
}

static int edit_add_package(struct edit_ctx *c, const char *path, struct esximg_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int rc = esximg_err_sys(err, errno, "cannot read package");
        esximg_err_file(err, path);
        return rc;
    }
    if (!S_ISDIR(sb.st_mode)) {
        int rc = edit_add_file(c, path, err);
        if (rc)
            esximg_err_file(err, path);
        return rc;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = edit_list_folder(path, &names, &n, err);
    if (rc)
        esximg_err_file(err, path);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = edit_add_file(c, names[i], err);
        if (rc)
            esximg_err_file(err, names[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* An OEM .tgz as the community VIB esximg_vibauthor_oem_descriptor describes (as `esximg vib
 * from-oem` builds it), dated at the edit time. */
static int edit_build_oem(struct edit_ctx *c, struct edit_vib *v, struct esximg_err *err)
{
    const struct esximg_vibauthor_oem *oem = v->oem;
    char date[40];
    int rc = esximg_vibauthor_format_date(c->mtime, date, sizeof date, err);
    if (rc)
        return rc;
    const struct esximg_vibauthor_fields f = {.release_date = date};
    const struct esximg_vibauthor_opts bo = {.mtime = c->mtime};
    struct esximg_descriptor *d = NULL;
    rc = esximg_vibauthor_oem_descriptor(oem, &d, err);
    if (!rc)
        rc = esximg_vibauthor_apply(d, &f, err);
    if (!rc) {
        struct esximg_vibauthor_oem_payload p;
        esximg_vibauthor_oem_payload(oem, d->name, &p);
        rc = esximg_vibauthor_build(d, &p.payload, 1, &bo, &v->bytes, &v->len, err);
    }
    esximg_descriptor_free(d);
    if (!rc)
        rc = edit_vib_parse(v, err);
    if (rc) {
        esximg_err_file(err, v->source);
        esximg_err_prefix(err, "OEM driver '%s': ", oem->module);
        return rc;
    }
    esximg_vibauthor_oem_free(v->oem);
    v->oem = NULL;
    return 0;
}

/* ---------------------------------------------------------------- the edit time */

static void edit_latest(const char *s, int64_t *latest)
{
    int64_t t;
    if (s && esximg_edit_parse_time(s, &t, NULL) == 0 && t > *latest && t <= ESX_TAR_MTIME_MAX)
        *latest = t;
}

static int edit_pick_mtime(struct edit_ctx *c, struct esximg_err *err)
{
    if (c->o->has_mtime) {
        if (c->o->mtime < 0 || c->o->mtime > ESX_TAR_MTIME_MAX)
            return esximg_err_set(err, ESXIMG_EINVAL, "edit time %" PRId64 " is out of range",
                                  c->o->mtime);
        c->mtime = c->o->mtime;
        return 0;
    }
    int64_t t = 0;
    edit_latest(c->db->profile->modified_time, &t);
    edit_latest(c->db->profile->creation_time, &t);
    for (size_t i = 0; i < c->st->vib_count; i++)
        if (c->st->vibs[i].vib)
            edit_latest(c->st->vibs[i].vib->desc->release_date, &t);
    c->mtime = t;
    return 0;
}

/* ---------------------------------------------------------------- loading the image */

static int edit_load_cfg(struct edit_ctx *c, const struct esximg_bootcfg *cfg, const char *path,
                         struct esximg_err *err)
{
    const struct esximg_iso_entry *e = esximg_iso_find(c->img->iso, path);
    size_t i = c->ncfg;
    int rc = e ? 0 : esximg_err_set(err, ESXIMG_ENOTFOUND, "'%s' is not on the image", path);
    if (!rc)
        rc = esximg_bootcfg_write(cfg, &c->cfg_before[i], &c->cfg_before_len[i], err);
    if (!rc)
        rc = esximg_bootcfg_read(c->cfg_before[i], c->cfg_before_len[i], NULL, &c->cfg[i], err);
    if (!rc && !(c->cfg_path[i] = esx_strdup(e->path)))
        rc = edit_nomem(err);
    c->ncfg++;
    return rc;
}

/* Why the image has no parsed /BOOT.CFG: the model kept that as a problem, the edit needs it
 * as the reason it fails. */
static int edit_bootcfg_why(struct esximg_image *img, struct esximg_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_bootcfg *cfg = NULL;
    int rc = esximg_iso_read_file(img->iso, "/BOOT.CFG", ESX_MAX_BOOTCFG_BYTES, &data, &len, err);
    if (!rc)
        rc = esximg_bootcfg_read(data, len, NULL, &cfg, err);
    free(data);
    esximg_bootcfg_free(cfg);
    if (rc) {
        esximg_err_prefix(err, "'/BOOT.CFG': ");
        return rc;
    }
    return esximg_err_set(err, ESXIMG_EFORMAT, "the image has no readable /BOOT.CFG");
}

static int edit_load(struct edit_ctx *c, struct esximg_err *err)
{
    struct esximg_image *img = c->img;
    if (!img->bootcfg)
        return edit_bootcfg_why(img, err);
    if (!img->db || !img->db->profile || !img->imgdb_module)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the image has no readable image database "
                              "with a profile");
    uint8_t *data;
    size_t len;
    int rc = esximg_iso_read_file(img->iso, img->imgdb_module, ESX_MAX_IMGDB_BYTES, &data,
                                  &len, err);
    if (rc)
        return rc;
    rc = esximg_imgdb_read(data, len, &c->db, err);
    free(data);
    if (!rc)
        rc = edit_load_cfg(c, img->bootcfg, "/BOOT.CFG", err);
    if (!rc && img->efi_bootcfg)
        rc = edit_load_cfg(c, img->efi_bootcfg, "/EFI/BOOT/BOOT.CFG", err);
    if (rc)
        return rc;
    if (c->ncfg == 2 && (c->cfg_before_len[0] != c->cfg_before_len[1] ||
                         memcmp(c->cfg_before[0], c->cfg_before[1], c->cfg_before_len[0])))
        rc = edit_warn(c, err, "/BOOT.CFG and /EFI/BOOT/BOOT.CFG differ on the input: the "
                       "same edits are made to both");
    c->v7 = img->major >= 7 || (img->major == 0 && c->db->bulletin_count > 0);
    const char *base = esx_path_base(img->imgdb_module);
    c->lower_names = img->iso->iso_level == 0 && strcmp(base, "imgdb.tgz") == 0;
    c->removed = calloc(img->vib_count + 1, sizeof *c->removed);
    c->replaced_by = calloc(img->vib_count + 1, sizeof *c->replaced_by);
    if (!rc && (!c->removed || !c->replaced_by))
        rc = edit_nomem(err);
    return rc;
}

/* ---------------------------------------------------------------- deciding */

static bool edit_module_type(const char *type);

static int edit_check_duplicates(struct edit_ctx *c, struct esximg_err *err)
{
    struct esximg_edit_state *st = c->st;
    for (size_t i = 0; i < st->vib_count; i++) {
        struct edit_vib *a = &st->vibs[i];
        for (size_t j = 0; j < i && !a->dropped; j++) {
            const struct edit_vib *b = &st->vibs[j];
            if (b->dropped || strcmp(a->vib->desc->name, b->vib->desc->name))
                continue;
            if (strcmp(a->vib_id, b->vib_id) || a->len != b->len ||
                memcmp(a->bytes, b->bytes, a->len))
                return esximg_err_set(err, ESXIMG_EINVAL, "VIB '%s' is given twice ('%s' from "
                                      "'%s' and '%s' from '%s')", a->vib->desc->name,
                                      b->vib_id, b->source, a->vib_id, a->source);
            a->dropped = true;
            int rc = edit_warn(c, err, "'%s' is given twice: the copy from '%s' is ignored",
                               a->vib_id, a->source);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int edit_mark_removes(struct edit_ctx *c, struct esximg_err *err)
{
    for (size_t i = 0; i < c->o->remove_count; i++) {
        const char *key = c->o->removes[i];
        const struct esximg_image_vib *v = key ? esximg_image_find_vib(c->img, key) : NULL;
        if (!v)
            return esximg_err_set(err, ESXIMG_ENOTFOUND, "VIB '%s' is not in the image",
                                  edit_text(key));
        c->removed[v - c->img->vibs] = true;
    }
    return 0;
}

static int edit_mark_replaced(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_image *img = c->img;
    for (size_t i = 0; i < c->st->vib_count; i++) {
        const struct edit_vib *a = &c->st->vibs[i];
        if (a->dropped)
            continue;
        for (size_t k = 0; k < img->vib_count; k++) {
            const struct esximg_descriptor *old = img->vibs[k].desc;
            if (!old || c->replaced_by[k] || !esximg_vib_replaces(a->vib->desc, old))
                continue;
            c->replaced_by[k] = a;
            c->removed[k] = true;
            if (!strcmp(img->vibs[k].vib_id, a->vib_id)) {
                int rc = edit_warn(c, err, "'%s' is already in the image: the copy from '%s' "
                                   "replaces it", a->vib_id, a->source);
                if (rc)
                    return rc;
            }
            if (old->version && a->vib->desc->version && old->name && a->vib->desc->name &&
                !strcmp(old->name, a->vib->desc->name) &&
                esximg_version_cmp(a->vib->desc->version, old->version) < 0) {
                int rc = edit_warn(c, err, "'%s' goes back from version %s to %s", old->name,
                                   old->version, a->vib->desc->version);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

/* The descriptors of the image as it is (result false) or as it will be (true). */
static int edit_descs(const struct edit_ctx *c, bool result,
                      const struct esximg_descriptor ***out, size_t *count,
                      struct esximg_err *err)
{
    const struct esximg_descriptor **d =
        esx_malloc_array(c->img->vib_count + c->st->vib_count + 1, sizeof *d);
    if (!d)
        return edit_nomem(err);
    size_t n = 0;
    for (size_t i = 0; i < c->img->vib_count; i++)
        if (c->img->vibs[i].desc && (!result || !c->removed[i]))
            d[n++] = c->img->vibs[i].desc;
    for (size_t i = 0; result && i < c->st->vib_count; i++)
        if (!c->st->vibs[i].dropped)
            d[n++] = c->st->vibs[i].vib->desc;
    *out = d;
    *count = n;
    return 0;
}

static bool edit_warning_in(const struct esximg_warnings *w, const char *msg)
{
    for (size_t i = 0; i < w->count; i++)
        if (!strcmp(w->items[i].msg, msg))
            return true;
    return false;
}

static int edit_check_replaced_added(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_image *img = c->img;
    for (size_t k = 0; k < img->vib_count; k++) {
        const struct esximg_descriptor *kept = img->vibs[k].desc;
        if (!kept || c->removed[k])
            continue;
        for (size_t i = 0; i < c->st->vib_count; i++) {
            const struct esximg_descriptor *a = c->st->vibs[i].vib->desc;
            if (c->st->vibs[i].dropped || !esximg_vib_replaces(kept, a))
                continue;
            int rc = edit_problem(c, err, "'%s %s' is replaced by '%s %s', which stays in the "
                                  "image", a->name, a->version, kept->name,
                                  edit_text(kept->version));
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* What a failed relationship means, when its constraint says more than its name.  esx-base
 * provides one vmkapi_incompat_X per update (vmkapi_incompat_2_8_0_0 on 7.0 U2): a driver that
 * depends on another was built against another update's API and is refused by the installer. */
static const char *edit_relation_hint(const char *msg)
{
    if (strstr(msg, "depends on 'vmkapi_incompat_"))
        return ": the VIB is built for another ESXi update";
    return "";
}

/* Relationships: failures the input already had are warnings, new ones problems. */
static int edit_check_relations(struct edit_ctx *c, struct esximg_err *err)
{
    if (c->o->no_deps)
        return 0;
    const struct esximg_descriptor **before = NULL, **after = NULL;
    size_t nb = 0, na = 0;
    struct esximg_warnings wb = {0}, wa = {0};
    int rc = edit_descs(c, false, &before, &nb, err);
    if (!rc)
        rc = edit_descs(c, true, &after, &na, err);
    if (!rc)
        rc = esximg_vibrel_check(before, nb, &wb, err);
    if (!rc)
        rc = esximg_vibrel_check(after, na, &wa, err);
    for (size_t i = 0; !rc && i < wa.count; i++) {
        const char *msg = wa.items[i].msg;
        if (edit_warning_in(&wb, msg))
            rc = edit_warn(c, err, "%s (already so in the input image)", msg);
        else
            rc = edit_problem(c, err, "%s%s (--no-deps skips this check)", msg,
                              edit_relation_hint(msg));
    }
    if (!rc && wa.dropped)
        rc = edit_problem(c, err, "%zu more relationship failures (--no-deps skips this check)",
                          wa.dropped);
    if (!rc)
        rc = edit_check_replaced_added(c, err);
    esx_warnings_free(&wb);
    esx_warnings_free(&wa);
    free(before);
    free(after);
    return rc;
}

static int edit_check_vmklinux(struct edit_ctx *c, struct esximg_err *err)
{
    for (size_t i = 0; c->v7 && i < c->st->vib_count; i++) {
        const struct edit_vib *v = &c->st->vibs[i];
        if (v->dropped || !esximg_descriptor_is_vmklinux(v->vib->desc))
            continue;
        /* what info reports as a problem of the image is refused, unless checks are off */
        int rc = c->o->no_deps
                     ? edit_warn(c, err, "'%s' is a vmklinux driver: ESXi %u.%u has no vmklinux, "
                                 "it will never load", v->vib_id, c->img->major, c->img->minor)
                     : edit_problem(c, err, "'%s' is a vmklinux driver: ESXi %u.%u has no "
                                    "vmklinux, it would never load (--no-deps takes it anyway)",
                                    v->vib_id, c->img->major, c->img->minor);
        if (rc)
            return rc;
    }
    return 0;
}

/* An added VIB whose ELF files (kernel modules) are built for another machine than the image's
 * kernel never loads there: an ESXi-Arm driver (AArch64) on an x86 image is the real case. */
static int edit_check_machines(struct edit_ctx *c, struct esximg_err *err)
{
    uint16_t machine;
    bool from_kernel;
    int rc = esximg_image_machine(c->img, &machine, &from_kernel, err);
    for (size_t i = 0; !rc && i < c->st->vib_count; i++) {
        const struct edit_vib *v = &c->st->vibs[i];
        const struct esximg_descriptor *d = v->vib->desc;
        for (size_t j = 0; !rc && !v->dropped && j < d->payload_count; j++) {
            size_t len;
            const uint8_t *data = esximg_vib_member_data(v->vib, d->payloads[j].name, &len);
            char *path = NULL;
            uint16_t found = 0;
            if (!data || !edit_module_type(d->payloads[j].type))
                continue;   /* refused, with its reason, when the modules are made */
            rc = esx_payload_foreign_elf(data, len, d->payloads[j].type, machine, &path, &found,
                                         err);
            char theirs[24], ours[24];
            if (!rc && path)
                rc = edit_problem(c, err, "'%s' holds '%s', built for %s: the image runs %s "
                                  "(%s), where it cannot load", v->vib_id, path,
                                  esximg_elf_machine_text(found, theirs, sizeof theirs),
                                  esximg_elf_machine_text(machine, ours, sizeof ours),
                                  from_kernel ? "read from its kernel"
                                              : "assumed: its kernel is no ELF");
            free(path);
        }
    }
    return rc;
}

static enum esximg_acceptance edit_vib_level(enum esximg_acceptance a)
{
    return a == ESXIMG_ACCEPT_UNKNOWN ? ESXIMG_ACCEPT_COMMUNITY : a;
}

__attribute__((format(printf, 3, 4)))
static int edit_warn_later(struct edit_ctx *c, struct esximg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(&c->deferred, 0, err, fmt, ap);
    va_end(ap);
    return rc;
}

/* The deferred warnings, after the others, when nothing refuses the edit. */
static int edit_flush_later(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_edit_plan *p = c->plan;
    if (p->problems.count || p->problems.dropped)
        return 0;
    for (size_t i = 0; i < c->deferred.count; i++) {
        int rc = edit_warn(c, err, "%s", c->deferred.items[i].msg);
        if (rc)
            return rc;
    }
    return 0;
}

/* The level of the image before the added VIBs count: the profile's, unless VIBs this edit
 * removes were what held it down (one of them is at or below it, no kept VIB is): then it goes
 * back up to the lowest kept VIB, at most partner.  The image does not record what it was before
 * it was lowered, and VMware's own profiles are partner: so a lowered image never ends above the
 * level it had.  A profile below every VIB of the image was set so on purpose and stays. */
static enum esximg_acceptance edit_base_level(const struct edit_ctx *c,
                                              enum esximg_acceptance cur)
{
    if (cur == ESXIMG_ACCEPT_UNKNOWN)
        return ESXIMG_ACCEPT_CERTIFIED;
    enum esximg_acceptance kept = ESXIMG_ACCEPT_CERTIFIED;
    bool held_down = false;
    for (size_t k = 0; k < c->img->vib_count; k++) {
        const struct esximg_image_vib *v = &c->img->vibs[k];
        enum esximg_acceptance a = edit_vib_level(v->acceptance);
        if (!v->desc)
            continue;
        if (c->removed[k])
            held_down = held_down || a <= cur;
        else if (a < kept)
            kept = a;
    }
    if (!held_down || kept <= cur)
        return cur;
    enum esximg_acceptance raised = kept < ESXIMG_ACCEPT_PARTNER ? kept : ESXIMG_ACCEPT_PARTNER;
    return raised > cur ? raised : cur;
}

/* Acceptance: explicit, else lowered to the lowest VIB of the result (refused if strict). */
static int edit_acceptance(struct edit_ctx *c, struct esximg_err *err)
{
    struct esximg_profile *p = c->db->profile;
    enum esximg_acceptance want = edit_base_level(c, esximg_acceptance_parse(
                                                         p->acceptance_level));
    if (c->o->acceptance) {
        want = esximg_acceptance_parse(c->o->acceptance);
        if (want == ESXIMG_ACCEPT_UNKNOWN)
            return esximg_err_set(err, ESXIMG_EINVAL, "acceptance level '%s' is not "
                                  "certified, accepted, partner or community",
                                  c->o->acceptance);
    }
    int rc = 0;
    enum esximg_acceptance lowest = want;
    for (size_t i = 0; !rc && i < c->st->vib_count; i++) {
        const struct edit_vib *v = &c->st->vibs[i];
        enum esximg_acceptance a = edit_vib_level(v->acceptance);
        if (v->dropped)
            continue;
        if (v->acceptance == ESXIMG_ACCEPT_UNKNOWN)
            rc = edit_warn_later(c, err, "'%s' has no acceptance level: taken as community",
                                 v->vib_id);
        if (rc || a >= want)
            continue;
        if (c->o->acceptance)
            rc = edit_problem(c, err, "'%s' is %s, below the acceptance level %s asked for",
                              v->vib_id, esximg_acceptance_name(a), c->o->acceptance);
        else if (c->o->strict)
            rc = edit_problem(c, err, "'%s' is %s, below the profile's acceptance level %s",
                              v->vib_id, esximg_acceptance_name(a),
                              esximg_acceptance_name(want));
        else
            rc = edit_warn_later(c, err, "'%s' is %s: the profile's acceptance level goes down "
                                 "from %s to %s", v->vib_id, esximg_acceptance_name(a),
                                 esximg_acceptance_name(want), esximg_acceptance_name(a));
        if (a < lowest)
            lowest = a;
    }
    for (size_t k = 0; !rc && c->o->acceptance && k < c->img->vib_count; k++) {
        const struct esximg_image_vib *v = &c->img->vibs[k];
        if (v->desc && !c->removed[k] && edit_vib_level(v->acceptance) < want)
            rc = edit_problem(c, err, "'%s' is %s, below the acceptance level %s asked for",
                              v->vib_id, esximg_acceptance_name(edit_vib_level(v->acceptance)),
                              c->o->acceptance);
    }
    if (rc)
        return rc;
    enum esximg_acceptance level = c->o->acceptance || c->o->strict ? want : lowest;
    c->level = esximg_acceptance_name(level);
    return 0;
}

/* ---------------------------------------------------------------- module names */

static int edit_use(struct edit_ctx *c, const char *name, struct esximg_err *err)
{
    if (c->used_count == c->used_cap) {
        size_t cap = c->used_cap ? c->used_cap * 2 : 64;
        const char **grown = esx_realloc_array(c->used, cap, sizeof *grown);
        if (!grown)
            return edit_nomem(err);
        c->used = grown;
        c->used_cap = cap;
    }
    c->used[c->used_count++] = name;
    return 0;
}

/* Names no new module may take: the input ISO's root files and every profile payload file. */
static int edit_seed_used(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_iso *iso = c->img->iso;
    int rc = 0;
    for (size_t i = 0; !rc && i < iso->n_entries; i++)
        if (iso->entries[i].depth == 1)
            rc = edit_use(c, iso->entries[i].path + 1, err);
    const struct esximg_profile *p = c->db->profile;
    for (size_t i = 0; !rc && i < p->vib_count; i++)
        for (size_t j = 0; !rc && j < p->vibs[i].payload_count; j++)
            rc = edit_use(c, p->vibs[i].payloads[j].file, err);
    return rc;
}

/* The module types an edit can add: narrower than esx_payload_is_module because an added
 * payload is checked whole before it is written (one gzip member, size, sha-256, no ELF file
 * built for another machine inside), which needs an archive esximg reads: vgz, tgz and
 * installer_vgz.  `boot` payloads (kernel and loader files, no archive) and 9.0's `vzstd` (a
 * zstd frame, out of scope) are taken only when the image already holds them byte-identical. */
static bool edit_module_type(const char *type)
{
    return esx_payload_is_module(type) && strcmp(type, "boot") && strcmp(type, "vzstd");
}

/* One gzip member with nothing after it: the boot loader takes the size and CRC from the
 * file's last 8 bytes. */
static int edit_check_gzip(const uint8_t *data, size_t len, struct esximg_err *err)
{
    struct esx_gzstream *s;
    int rc = esx_gzstream_open(data, len, &s, err);
    if (rc)
        return rc;
    uint8_t *buf = malloc(1 << 16);
    if (!buf)
        rc = edit_nomem(err);
    uint64_t total = 0;
    for (size_t got = 1; !rc && got;) {
        rc = esx_gzstream_read(s, buf, 1 << 16, &got, err);
        total += got;
        if (!rc && total > ESX_MAX_GUNZIP_BYTES)
            rc = esximg_err_set(err, ESXIMG_ELIMIT, "inflates past %llu bytes",
                                (unsigned long long)ESX_MAX_GUNZIP_BYTES);
    }
    uint64_t used = esx_gzstream_consumed(s);
    if (!rc && used != len)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "%llu bytes follow its gzip member (the boot "
                            "loader needs exactly one member)",
                            (unsigned long long)(len - used));
    free(buf);
    esx_gzstream_close(s);
    return rc;
}

/* The payload as stored must be the module: one gzip member of the size and sha-256 the
 * descriptor gives. */
static int edit_check_payload(const struct edit_vib *v, const struct esximg_payload *pl,
                              const uint8_t *data, size_t len, bool gzip,
                              struct esximg_err *err)
{
    int rc = gzip ? edit_check_gzip(data, len, err) : 0;
    if (!rc && pl->has_size && pl->size != len)
        rc = esximg_err_set(err, ESXIMG_ECHECKSUM, "is %zu bytes, its descriptor says %" PRIu64,
                            len, pl->size);
    for (size_t i = 0; !rc && i < pl->checksum_count; i++) {
        const struct esximg_checksum *k = &pl->checksums[i];
        char hex[65];
        if (strcmp(k->type, "sha-256") || k->verify_process)
            continue;
        rc = esx_digest_hex(ESX_SHA256, data, len, hex, err);
        if (!rc && strcasecmp(hex, k->value))
            rc = esximg_err_set(err, ESXIMG_ECHECKSUM, "sha-256 %s, its descriptor says %s",
                                hex, k->value);
    }
    if (rc && rc != ESXIMG_ENOMEM)
        esximg_err_prefix(err, "payload '%s' of '%s': ", pl->name, v->vib_id);
    return rc;
}

/* "/NAME.V00" (or lower case when the ISO records module names so) */
static int edit_iso_path(const struct edit_ctx *c, const char *file, char **out,
                         struct esximg_err *err)
{
    size_t n = strlen(file);
    char *p = malloc(n + 2);
    if (!p)
        return edit_nomem(err);
    p[0] = '/';
    for (size_t i = 0; i <= n; i++) {
        char ch = file[i];
        p[i + 1] = !c->lower_names && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
    }
    *out = p;
    return 0;
}

static int edit_vib_order(const void *a, const void *b)
{
    const struct edit_vib *const *x = a, *const *y = b;
    return strcmp((*x)->vib_id, (*y)->vib_id);
}

/* True when a profile VIB of the input image names `file` as a payload (kept, replaced or
 * removed alike). */
static bool edit_file_owned(const struct edit_ctx *c, const char *file)
{
    const struct esximg_image *img = c->img;
    for (size_t k = 0; k < img->vib_count; k++) {
        const struct esximg_profile_vib *e = img->vibs[k].entry;
        for (size_t j = 0; e && j < e->payload_count; j++)
            if (!strcasecmp(e->payloads[j].file, file))
                return true;
    }
    return false;
}

/* True when an earlier payload of this edit already took `file`. */
static bool edit_file_adopted(const struct edit_ctx *c, const char *file)
{
    const struct esximg_edit_state *st = c->st;
    for (size_t i = 0; i < st->vib_count; i++)
        for (size_t j = 0; st->vibs[i].files && j < st->vibs[i].file_count; j++)
            if (st->vibs[i].files[j] && !strcasecmp(st->vibs[i].files[j], file))
                return true;
    return false;
}

/* "jumpstrt.gz" is payload "jumpstrt"'s own name. */
static bool edit_name_is_payload(const char *file, const char *payload)
{
    size_t n = strlen(payload);
    return !strncasecmp(file, payload, n) && (file[n] == '.' || file[n] == '\0');
}

/* A root file of the ISO that no VIB of the image owns and holds exactly `data`: the payload's
 * module when a VIB comes back to an image that lost it from its database (an export added to
 * an image with an empty profile).  Such a file is taken as it is rather than added a second
 * time; boot payloads (the kernel, jumpstrt, ...) can only come back this way.  Among equal
 * files the one named after the payload wins.  *out is its name in lower case, or NULL. */
static int edit_adopt(struct edit_ctx *c, const struct esximg_payload *pl, const uint8_t *data,
                      size_t len, char **out, struct esximg_err *err)
{
    const struct esximg_iso *iso = c->img->iso;
    const struct esximg_iso_entry *best = NULL;
    *out = NULL;
    for (size_t i = 0; i < iso->n_entries; i++) {
        const struct esximg_iso_entry *e = &iso->entries[i];
        const char *name = e->path + 1;
        if (e->depth != 1 || e->type != ESXIMG_ISO_FILE || e->size != len ||
            edit_file_owned(c, name) || edit_file_adopted(c, name))
            continue;
        if (best && !edit_name_is_payload(name, pl->name))
            continue;
        uint8_t *bytes = NULL;
        size_t got = 0;
        int rc = esximg_iso_read_file(c->img->iso, e->path, len, &bytes, &got, err);
        if (rc)
            return rc;
        bool same = got == len && (len == 0 || !memcmp(bytes, data, len));
        free(bytes);
        if (same)
            best = e;
        if (same && edit_name_is_payload(name, pl->name))
            break;
    }
    if (!best)
        return 0;
    size_t n = strlen(best->path + 1);
    char *lower = malloc(n + 1);
    if (!lower)
        return edit_nomem(err);
    for (size_t i = 0; i <= n; i++) {
        char ch = best->path[i + 1];
        lower[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    *out = lower;
    return 0;
}

/* Names the modules of one VIB and adds them to the ISO. */
static int edit_vib_modules(struct edit_ctx *c, struct edit_vib *v, struct esximg_err *err)
{
    const struct esximg_descriptor *d = v->vib->desc;
    v->files = calloc(d->payload_count + 1, sizeof *v->files);
    if (!v->files)
        return edit_nomem(err);
    v->file_count = d->payload_count;
    for (size_t i = 0; i < d->payload_count; i++) {
        const struct esximg_payload *pl = &d->payloads[i];
        size_t len;
        const uint8_t *data = esximg_vib_member_data(v->vib, pl->name, &len);
        if (!data)
            return esximg_err_set(err, ESXIMG_EFORMAT, "payload '%s' of '%s' has no member",
                                  pl->name, v->vib_id);
        int rc = edit_adopt(c, pl, data, len, &v->files[i], err);
        if (!rc && v->files[i]) {
            rc = edit_check_payload(v, pl, data, len, false, err);
            if (!rc)
                rc = edit_line(c, err, "keep module /%s (payload '%s' of %s: the same bytes "
                               "are already on the image)", v->files[i], pl->name, d->name);
            if (rc) {
                esximg_err_file(err, v->source);
                return rc;
            }
            continue;
        }
        if (!rc && !edit_module_type(pl->type))
            rc = esximg_err_set(err, ESXIMG_EUNSUPPORTED, "payload '%s' of '%s' has type "
                                "'%s': only vgz, tgz and installer_vgz payloads can be added "
                                "(other payloads only when the image already holds them, "
                                "byte-identical)", pl->name, v->vib_id, edit_text(pl->type));
        if (!rc)
            rc = edit_check_payload(v, pl, data, len, true, err);
        if (!rc) {
            /* s, sb, esxupdt and esxcore name the base system's modules: VMware's own VIBs
             * (esx-base added back to an image) may take them, nobody else */
            const struct esximg_modname_opts names = {
                .allow_reserved = d->vendor && !strcasecmp(d->vendor, "VMware"),
            };
            rc = esximg_modname_next(pl->name, pl->type, c->used, c->used_count, &names,
                                     &v->files[i], err);
            if (rc && rc != ESXIMG_ENOMEM)
                esximg_err_prefix(err, "'%s': ", v->vib_id);
        }
        if (rc) {
            esximg_err_file(err, v->source);
            return rc;
        }
        char *path = NULL;
        rc = edit_use(c, v->files[i], err);
        if (!rc)
            rc = edit_iso_path(c, v->files[i], &path, err);
        if (!rc)
            rc = edit_change(c, ESXIMG_ISO_ADD, path, NULL, data, len, err);
        if (!rc)
            rc = edit_line(c, err, "add module %s (payload '%s' of %s, %zu bytes)", path,
                           pl->name, d->name, len);
        free(path);
        for (size_t k = 0; !rc && k < c->ncfg; k++) {
            rc = esximg_bootcfg_module_insert_before(c->cfg[k], "imgdb.tgz", v->files[i], NULL,
                                                     err);
            if (rc == ESXIMG_ENOTFOUND) {
                rc = esximg_bootcfg_module_append(c->cfg[k], v->files[i], NULL, err);
                if (!rc && k == 0)
                    rc = edit_warn(c, err, "no imgdb.tgz in modules= of %s: '%s' goes at the "
                                   "end", c->cfg_path[k], v->files[i]);
            }
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- removing */

static bool edit_list_has(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ids[i], id))
            return true;
    return false;
}

/* Takes the removed VIB ids out of every bulletin's vibList; a bulletin left empty goes. */
static int edit_fix_bulletins(struct edit_ctx *c, char *const *ids, size_t n,
                              struct esximg_err *err)
{
    struct esximg_imgdb *db = c->db;
    for (size_t i = 0; n && i < db->bulletin_count;) {
        struct esximg_imgdb_file *f = &db->bulletins[i];
        struct esximg_bulletin *b = NULL;
        if (esximg_bulletin_read(f->data, f->len, &b, NULL)) {
            i++;        /* not ours to judge: kept as it is */
            continue;
        }
        size_t kept = 0;
        for (size_t k = 0; k < b->vib_count; k++) {
            if (edit_list_has(ids, n, b->vib_ids[k]))
                free(b->vib_ids[k]);
            else
                b->vib_ids[kept++] = b->vib_ids[k];
        }
        bool changed = kept != b->vib_count;
        b->vib_count = kept;
        const char *file = esx_path_base(f->path);
        int rc = 0;
        if (changed && kept == 0) {
            rc = edit_line(c, err, "database: remove bulletins/%s", file);
            free(f->path);
            free(f->data);
            memmove(f, f + 1, (db->bulletin_count - i - 1) * sizeof *f);
            db->bulletin_count--;
        } else if (changed) {
            char *xml = NULL;
            size_t len = 0;
            rc = esximg_bulletin_write(b, &xml, &len, err);
            if (!rc) {
                free(f->data);
                f->data = (uint8_t *)xml;
                f->len = len;
                rc = edit_line(c, err, "database: change bulletins/%s", file);
            }
            i++;
        } else {
            i++;
        }
        esximg_bulletin_free(b);
        if (rc)
            return rc;
    }
    return 0;
}

static bool edit_file_in_use(const struct edit_ctx *c, size_t self, const char *file)
{
    const struct esximg_image *img = c->img;
    for (size_t k = 0; k < img->vib_count; k++) {
        const struct esximg_profile_vib *e = img->vibs[k].entry;
        if (k == self || c->removed[k] || !e)
            continue;
        for (size_t j = 0; j < e->payload_count; j++)
            if (!strcasecmp(e->payloads[j].file, file))
                return true;
    }
    return false;
}

static int edit_remove_modules(struct edit_ctx *c, size_t k, const char *kernel,
                               struct esximg_err *err)
{
    const struct esximg_image_vib *v = &c->img->vibs[k];
    for (size_t j = 0; v->entry && j < v->entry->payload_count; j++) {
        const char *file = v->entry->payloads[j].file;
        if (kernel && esximg_bootcfg_module_is(kernel, file))
            return esximg_err_set(err, ESXIMG_EINVAL, "VIB '%s' holds the kernel '%s': it "
                                  "cannot be removed", v->vib_id, kernel);
        if (edit_file_in_use(c, k, file))
            continue;
        const struct esximg_iso_entry *e = esximg_iso_find(c->img->iso, file);
        int rc = 0;
        if (e && e->depth == 1 && e->type == ESXIMG_ISO_FILE) {
            rc = edit_change(c, ESXIMG_ISO_REMOVE, e->path, NULL, NULL, 0, err);
            if (!rc)
                rc = edit_line(c, err, "remove module %s", e->path);
        }
        for (size_t i = 0; !rc && i < c->ncfg; i++) {
            rc = esximg_bootcfg_module_remove(c->cfg[i], file, err);
            if (rc == ESXIMG_ENOTFOUND)
                rc = 0;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int edit_remove_one(struct edit_ctx *c, size_t k, const char *kernel,
                           struct esximg_err *err)
{
    const struct esximg_image_vib *v = &c->img->vibs[k];
    const struct edit_vib *by = c->replaced_by[k];
    int rc = by ? edit_line(c, err, "replace VIB %s with %s", v->vib_id, by->vib_id)
                : edit_line(c, err, "remove VIB %s", v->vib_id);
    if (by)
        c->plan->vibs_replaced++;
    else
        c->plan->vibs_removed++;
    if (!rc)
        rc = edit_remove_modules(c, k, kernel, err);
    if (!rc && v->entry)
        rc = esximg_profile_remove_vib(c->db->profile, v->vib_id, err);
    if (!rc && v->xml_file) {
        rc = esximg_imgdb_remove_vib_xml(c->db, v->xml_file, err);
        if (!rc)
            rc = edit_line(c, err, "database: remove vibs/%s", v->xml_file);
    }
    return rc;
}

static int edit_removals(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_image *img = c->img;
    char *kernel = NULL;
    if (esximg_bootcfg_get(c->cfg[0], "kernel", &kernel, NULL) != 0)
        kernel = NULL;
    char **ids = esx_malloc_array(img->vib_count + 1, sizeof *ids);
    size_t n = 0;
    int rc = ids ? 0 : edit_nomem(err);
    for (size_t k = 0; !rc && k < img->vib_count; k++) {
        if (!c->removed[k])
            continue;
        rc = edit_remove_one(c, k, kernel, err);
        ids[n++] = img->vibs[k].vib_id;
    }
    if (!rc)
        rc = edit_fix_bulletins(c, ids, n, err);
    free(ids);
    free(kernel);
    return rc;
}

/* ---------------------------------------------------------------- adding */

static int edit_xml_name(struct edit_ctx *c, struct edit_vib *v, struct esximg_err *err)
{
    const char *name = v->vib->desc->name;
    if (!c->v7) {
        int rc = esximg_modname_vib_xml(name, v->vib_id, &v->xml_file, err);
        if (!rc && esximg_imgdb_find_vib_xml(c->db, v->xml_file))
            rc = esximg_err_set(err, ESXIMG_EINVAL, "vibs/%s of '%s' is already taken",
                                v->xml_file, v->vib_id);
        if (rc)
            esximg_err_file(err, v->source);
        return rc;
    }
    const struct esximg_imgdb *db = c->db;
    const char **used = esx_malloc_array(db->vib_count + 1, sizeof *used);
    if (!used)
        return edit_nomem(err);
    for (size_t i = 0; i < db->vib_count; i++)
        used[i] = esx_path_base(db->vibs[i].path);
    int rc = esximg_modname_vib_xml64(name, v->vib_id, used, db->vib_count, &v->xml_file, err);
    free(used);
    if (rc)
        esximg_err_file(err, v->source);    /* the package is at fault, not the image */
    return rc;
}

static int edit_add_profile(struct edit_ctx *c, struct edit_vib *v, struct esximg_err *err)
{
    const struct esximg_descriptor *d = v->vib->desc;
    struct esximg_profile_payload *pl = esx_malloc_array(d->payload_count + 1, sizeof *pl);
    if (!pl)
        return edit_nomem(err);
    for (size_t i = 0; i < d->payload_count; i++)
        pl[i] = (struct esximg_profile_payload){.payload_name = d->payloads[i].name,
                                                .file = v->files[i]};
    int rc = esximg_profile_add_vib(c->db->profile, v->vib_id, pl, d->payload_count, err);
    free(pl);
    if (!rc)
        rc = edit_xml_name(c, v, err);
    if (!rc)
        rc = esximg_imgdb_put_vib_xml(c->db, v->xml_file, v->vib->descriptor_bytes,
                                      v->vib->descriptor_len, err);
    if (!rc)
        rc = edit_line(c, err, "database: add vibs/%s", v->xml_file);
    /* as a host keeps a signed VIB: the descriptor as signed and the signature beside it */
    if (!rc && !esx_sig_is_empty(v->vib->sig, v->vib->sig_len))
        rc = esximg_imgdb_put_vib_signature(c->db, v->xml_file, v->vib->descriptor_bytes,
                                            v->vib->descriptor_len, v->vib->sig,
                                            v->vib->sig_len, err);
    if (!rc && !esx_sig_is_empty(v->vib->sig, v->vib->sig_len))
        rc = edit_line(c, err, "database: add vibs/%s.orig and vibs/%s.sig", v->xml_file,
                       v->xml_file);
    return rc;
}

/* The ids of the added VIBs of component k (all of them when k is NULL: just order[i]). */
static int edit_bulletin_vibs(struct edit_vib **order, size_t n, size_t i,
                              const struct edit_comp *k, struct esximg_bulletin *b,
                              struct esximg_err *err)
{
    for (size_t j = 0; j < b->vib_count; j++)
        free(b->vib_ids[j]);
    b->vib_count = 0;
    b->has_vib_list = true;
    for (size_t j = 0; j < n; j++) {
        bool same = j == i || (k && k->id && order[j]->comp && order[j]->comp->id &&
                               !strcmp(order[j]->comp->id, k->id));
        if (!same)
            continue;
        char **grown = esx_realloc_array(b->vib_ids, b->vib_count + 1, sizeof *grown);
        if (!grown)
            return edit_nomem(err);
        b->vib_ids = grown;
        if (!(b->vib_ids[b->vib_count] = esx_strdup(order[j]->vib_id)))
            return edit_nomem(err);
        b->vib_count++;
    }
    return 0;
}

/* The bulletin of an added VIB: its bundle's own component bulletin, listing the added VIBs
 * of that component; else a new component named and versioned after the VIB, for the
 * image's release. */
static int edit_bulletin_of(struct edit_ctx *c, struct edit_vib **order, size_t n, size_t i,
                            struct esximg_bulletin **out, struct esximg_err *err)
{
    const struct edit_vib *v = order[i];
    const struct esximg_descriptor *d = v->vib->desc;
    const struct edit_comp *k = v->comp && v->comp->name && v->comp->version ? v->comp : NULL;
    struct esximg_bulletin *b = NULL;
    int rc = 0;
    if (k && k->xml && esximg_bulletin_read(k->xml, k->xml_len, &b, NULL) == 0) {
        rc = edit_bulletin_vibs(order, n, i, k, b, err);
    } else {
        char date[40], platform[32];
        const char *release = k && k->release_date ? k->release_date : d->release_date;
        if (!release) {
            rc = esximg_vibauthor_format_date(c->mtime, date, sizeof date, err);
            release = date;
        }
        snprintf(platform, sizeof platform, "%u.%u.0", c->img->major, c->img->minor);
        const struct esximg_bulletin_spec spec = {
            .component_name = k ? k->name : d->name,
            .ui_name = k ? k->ui_name : NULL,
            .version = k ? k->version : d->version,
            .ui_version = k ? k->ui_version : NULL,
            .vendor = k && k->vendor ? k->vendor : d->vendor,
            .summary = k && k->summary ? k->summary : d->summary,
            .description = d->description,
            .release_date = release,
            .platform_version = c->img->major ? platform : NULL,
            .vib_id = v->vib_id,
        };
        if (!rc)
            rc = esximg_bulletin_new(&spec, &b, err);
        if (!rc)
            rc = edit_bulletin_vibs(order, n, i, k, b, err);
        if (!rc && k && k->id && strcmp(k->id, b->id)) {
            char *id = esx_strdup(k->id);
            if (!id)
                rc = edit_nomem(err);
            else {
                free(b->id);
                b->id = id;
            }
        }
    }
    if (rc) {
        esximg_bulletin_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static int edit_add_bulletins(struct edit_ctx *c, struct edit_vib **order, size_t n,
                              struct esximg_err *err)
{
    for (size_t i = 0; c->v7 && i < n; i++) {
        const struct edit_comp *k = order[i]->comp;
        bool done = false;   /* a VIB of the same component came first */
        for (size_t j = 0; k && k->id && j < i; j++)
            done = done || (order[j]->comp && order[j]->comp->id &&
                            !strcmp(order[j]->comp->id, k->id));
        if (done)
            continue;
        struct esximg_bulletin *b = NULL;
        int rc = edit_bulletin_of(c, order, n, i, &b, err);
        char *xml = NULL, *file = NULL;
        size_t len = 0;
        if (!rc)
            rc = esximg_bulletin_write(b, &xml, &len, err);
        if (!rc && asprintf(&file, "%s.xml", b->id) < 0) {
            file = NULL;
            rc = edit_nomem(err);
        }
        if (!rc)
            rc = esximg_imgdb_put_bulletin(c->db, file, xml, len, err);
        if (!rc)
            rc = edit_line(c, err, "database: add bulletins/%s", file);
        esximg_bulletin_free(b);
        free(xml);
        free(file);
        if (rc)
            return rc;
    }
    return 0;
}

static bool edit_replaces_any(const struct edit_ctx *c, const struct edit_vib *v)
{
    for (size_t k = 0; k < c->img->vib_count; k++)
        if (c->replaced_by[k] == v)
            return true;
    return false;
}

static int edit_additions(struct edit_ctx *c, struct esximg_err *err)
{
    struct esximg_edit_state *st = c->st;
    struct edit_vib **order = esx_malloc_array(st->vib_count + 1, sizeof *order);
    if (!order)
        return edit_nomem(err);
    size_t n = 0;
    for (size_t i = 0; i < st->vib_count; i++)
        if (!st->vibs[i].dropped)
            order[n++] = &st->vibs[i];
    /* esximage names modules over the VIBs in vib-id order */
    qsort(order, n, sizeof *order, edit_vib_order);
    int rc = edit_seed_used(c, err);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = edit_line(c, err, "add VIB %s (%s) from %s", order[i]->vib_id,
                       esximg_acceptance_name(edit_vib_level(order[i]->acceptance)),
                       order[i]->source);
        if (!edit_replaces_any(c, order[i]))
            c->plan->vibs_added++;  /* a replacement is counted once, as replaced */
    }
    for (size_t i = 0; !rc && i < n; i++)
        rc = edit_vib_modules(c, order[i], err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = edit_add_profile(c, order[i], err);
    if (!rc)
        rc = edit_add_bulletins(c, order, n, err);
    free(order);
    return rc;
}

/* ---------------------------------------------------------------- boot options */

static int edit_kernelopt(struct edit_ctx *c, const char *opt, struct esximg_err *err)
{
    int rc = 0;
    if (opt[0] == '-') {
        bool missing = false;
        for (size_t i = 0; !rc && i < c->ncfg; i++) {
            rc = esximg_bootcfg_kernelopt_remove(c->cfg[i], opt + 1, err);
            if (rc == ESXIMG_ENOTFOUND) {
                missing = true;
                rc = 0;
            }
        }
        if (!rc && missing)
            rc = edit_warn(c, err, "kernel option '%s' is not set", opt + 1);
        return rc;
    }
    const char *eq = strchr(opt, '=');
    char *key = eq ? esx_strndup(opt, (size_t)(eq - opt)) : esx_strdup(opt);
    if (!key)
        return edit_nomem(err);
    for (size_t i = 0; !rc && i < c->ncfg; i++)
        rc = esximg_bootcfg_kernelopt_set(c->cfg[i], key, eq ? eq + 1 : NULL, err);
    if (rc && rc != ESXIMG_ENOMEM)
        esximg_err_prefix(err, "kernel option '%s': ", opt);
    free(key);
    return rc;
}

static bool edit_key_is(const char *opt, const char *key)
{
    if (opt[0] == '-')
        opt++;
    size_t n = strcspn(opt, "=");
    return n == strlen(key) && strncasecmp(opt, key, n) == 0;
}

/* The kickstart checked as `esximg ks --check` does, against the image as edited: its
 * problems stop the edit, or are warnings under force_ks. */
static int edit_check_ks(struct edit_ctx *c, const uint8_t *ks, size_t len,
                         struct esximg_err *err)
{
    struct esximg_ks_env *env = NULL;
    struct esximg_ks_report *r = NULL;
    int rc = esximg_ks_env_new(c->img->major, &env, err);
    for (size_t i = 0; !rc && i < c->img->vib_count; i++)
        if (!c->removed[i] && !c->replaced_by[i])
            rc = esximg_ks_env_add_vib(env, c->img->vibs[i].desc, err);
    for (size_t i = 0; !rc && i < c->st->vib_count; i++)
        if (!c->st->vibs[i].dropped && c->st->vibs[i].vib)
            rc = esximg_ks_env_add_vib(env, c->st->vibs[i].vib->desc, err);
    if (!rc)
        rc = esximg_ks_check(ks, len, env, &r, err);
    if (rc)
        esximg_err_file(err, c->o->ks_path);
    struct esximg_warnings *to = c->o->force_ks ? &c->plan->warnings : &c->plan->problems;
    for (size_t i = 0; !rc && r && i < r->problems.count; i++) {
        const struct esximg_warning *w = &r->problems.items[i];
        char where[32] = "";
        if (w->line)
            snprintf(where, sizeof where, ":%zu", w->line);
        rc = esx_warn(to, 0, err, "kickstart %s%s: %s", c->o->ks_path, where, w->msg);
    }
    if (!rc && r && r->problems.count && !c->o->force_ks)
        rc = edit_problem(c, err, "kickstart %s has problems: fix them (esximg ks --check) or "
                          "give --force-ks", c->o->ks_path);
    esximg_ks_report_free(r);
    esximg_ks_env_free(env);
    return rc;
}

static int edit_boot_options(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_edit_opts *o = c->o;
    int rc = 0;
    for (size_t i = 0; !rc && i < o->kernelopt_count; i++) {
        const char *opt = o->kernelopts[i];
        if (!opt || !opt[0] || !strcmp(opt, "-"))
            return esximg_err_set(err, ESXIMG_EINVAL, "kernel option '%s' is empty",
                                  edit_text(opt));
        if (o->ks_path && edit_key_is(opt, "ks"))
            return esximg_err_set(err, ESXIMG_EINVAL, "a kickstart file and the kernel option "
                                  "'%s' are both given", opt);
        rc = edit_kernelopt(c, opt, err);
    }
    if (!rc && o->ks_path) {
        uint8_t *ks;
        size_t len;
        rc = esximg_file_read(o->ks_path, ESX_MAX_KS_BYTES, &ks, &len, err);
        if (!rc && (rc = edit_check_ks(c, ks, len, err)))
            free(ks);
        const struct esximg_iso_entry *e = rc ? NULL : esximg_iso_find(c->img->iso, "/KS.CFG");
        if (!rc)
            rc = edit_change(c, e ? ESXIMG_ISO_REPLACE : ESXIMG_ISO_ADD, e ? e->path : "/KS.CFG",
                             ks, NULL, len, err);
        if (!rc)
            rc = edit_line(c, err, "%s file %s (kickstart, %zu bytes)", e ? "replace" : "add",
                           e ? e->path : "/KS.CFG", len);
        for (size_t i = 0; !rc && i < c->ncfg; i++)
            rc = esximg_bootcfg_kernelopt_set(c->cfg[i], "ks", "cdrom:/KS.CFG", err);
    }
    for (size_t i = 0; !rc && o->title && i < c->ncfg; i++)
        rc = esximg_bootcfg_set(c->cfg[i], "title", o->title, err);
    return rc;
}

/* ---------------------------------------------------------------- BOOT.CFG diff */

/* One removed ("-") or added ("+") line of a BOOT.CFG diff, in the plan's lines. */
static int edit_diff_line(void *ctx, char sign, const char *text, size_t len,
                          struct esximg_err *err)
{
    return edit_line(ctx, err, "  %c%.*s", sign, (int)len, text);
}

static bool edit_same(const char *a, size_t alen, const char *b, size_t blen)
{
    return a && b && alen == blen && memcmp(a, b, alen) == 0;
}

/* New BOOT.CFG bytes for each copy that changed. */
static int edit_write_cfgs(struct edit_ctx *c, struct esximg_err *err)
{
    const char *first = NULL;   /* the first copy's new bytes, to say "the same" */
    size_t first_len = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < c->ncfg; i++) {
        char *data = NULL;
        size_t len = 0;
        rc = esximg_bootcfg_write(c->cfg[i], &data, &len, err);
        if (!rc)    /* never a BOOT.CFG that ESXi's boot loader stops on */
            rc = esximg_bootcfg_check_edit(c->cfg_before[i], c->cfg_before_len[i], c->cfg[i],
                                           c->cfg_path[i], err);
        if (rc) {
            free(data);
            break;
        }
        if (edit_same(data, len, c->cfg_before[i], c->cfg_before_len[i])) {
            free(data);
            continue;
        }
        if (i == 1 && edit_same(c->cfg_before[0], c->cfg_before_len[0], c->cfg_before[1],
                                c->cfg_before_len[1]) && edit_same(first, first_len, data, len))
            rc = edit_line(c, err, "change %s: the same lines", c->cfg_path[i]);
        else if (!(rc = edit_line(c, err, "change %s:", c->cfg_path[i])))
            rc = esx_text_diff(c->cfg_before[i], c->cfg_before_len[i], data, len,
                               edit_diff_line, c, err);
        if (i == 0) {
            first = data;
            first_len = len;
        }
        if (!rc)
            rc = edit_change(c, ESXIMG_ISO_REPLACE, c->cfg_path[i], (uint8_t *)data, NULL, len,
                             err);
        else
            free(data);
    }
    return rc;
}

/* ---------------------------------------------------------------- the profile and database */

static int edit_profile(struct edit_ctx *c, struct esximg_err *err)
{
    struct esximg_profile *p = c->db->profile;
    int rc = 0;
    if (c->o->profile_name && strcmp(c->o->profile_name, p->name)) {
        char *old_name = esx_strdup(p->name), *old_file = esx_strdup(c->db->profile_file);
        if (!old_name || !old_file)
            rc = edit_nomem(err);
        if (!rc)
            rc = esximg_profile_set_name(p, c->o->profile_name, err);
        if (!rc)
            rc = esximg_imgdb_rename_profile(c->db, err);
        if (!rc)
            rc = edit_line(c, err, "profile name: %s -> %s", old_name, p->name);
        if (!rc && strcmp(old_file, c->db->profile_file))
            rc = edit_line(c, err, "database: rename profiles/%s -> profiles/%s", old_file,
                           c->db->profile_file);
        free(old_name);
        free(old_file);
    }
    if (!rc && c->level && (!p->acceptance_level || strcmp(p->acceptance_level, c->level))) {
        rc = edit_line(c, err, "profile acceptance: %s -> %s",
                       p->acceptance_level ? p->acceptance_level : "(none)", c->level);
        if (!rc)
            rc = esximg_profile_set_acceptance(p, c->level, err);
    }
    char date[40];
    if (!rc)
        rc = esximg_vibauthor_format_date(c->mtime, date, sizeof date, err);
    if (!rc)
        rc = edit_line(c, err, "profile modifiedtime: %s -> %s",
                       p->modified_time ? p->modified_time : "(none)", date);
    if (!rc)
        rc = esximg_profile_set_modified_time(p, date, err);
    return rc;
}

static int edit_write_db(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_imgdb_wopts wo = {.mtime = c->mtime};
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esximg_imgdb_write(c->db, &wo, &data, &len, err);
    if (rc)
        return rc;
    const struct esximg_iso_entry *e = esximg_iso_find(c->img->iso, c->img->imgdb_module);
    rc = edit_line(c, err, "replace file %s (image database, %zu bytes)", e->path, len);
    if (rc) {
        free(data);
        return rc;
    }
    return edit_change(c, ESXIMG_ISO_REPLACE, e->path, data, NULL, len, err);
}

/* ---------------------------------------------------------------- the plan */

static int edit_read_packages(struct edit_ctx *c, struct esximg_err *err)
{
    const struct esximg_edit_opts *o = c->o;
    c->select_hit = calloc(o->select_count + 1, sizeof *c->select_hit);
    if (!c->select_hit)
        return edit_nomem(err);
    for (size_t i = 0; i < o->add_count; i++) {
        if (!o->adds[i])
            return esximg_err_set(err, ESXIMG_EINVAL, "package %zu has no path", i + 1);
        int rc = edit_add_package(c, o->adds[i], err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < o->select_count; i++)
        if (!c->select_hit[i])
            return esximg_err_set(err, ESXIMG_ENOTFOUND, "selected VIB '%s' is in none of the "
                                  "bundles given", edit_text(o->selects[i]));
    return 0;
}

/* ---------------------------------------------------------------- Secure Boot */

/* One warning when an image that could boot with UEFI Secure Boot on no longer can: the added
 * VIBs that prevent it (removing VIBs never does). */
static int edit_secure_boot(struct edit_ctx *c, struct esximg_err *err)
{
    if (!c->img->secure_boot_ready)
        return 0;
    struct esx_buf why;
    esx_buf_init(&why, 4096);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < c->st->vib_count; i++) {
        const struct edit_vib *v = &c->st->vibs[i];
        bool is_signed = v->vib && !esx_sig_is_empty(v->vib->sig, v->vib->sig_len);
        const char *blocker = esximg_secure_boot_vib_blocker(edit_vib_level(v->acceptance),
                                                             is_signed);
        if (v->dropped || !blocker)
            continue;
        if (n++ < 4)
            rc = esx_buf_printf(&why, err, "%s'%s' %s", n > 1 ? "; " : "", v->vib_id, blocker);
    }
    if (!rc && n > 4)
        rc = esx_buf_printf(&why, err, "; %zu more", n - 4);
    if (!rc && n)
        rc = edit_warn_later(c, err, "the image could boot with UEFI Secure Boot on; after this "
                             "edit it cannot, Secure Boot must be off: %.*s", (int)why.len,
                             why.data);
    esx_buf_free(&why);
    return rc;
}

static int edit_run(struct edit_ctx *c, struct esximg_err *err)
{
    int rc = edit_load(c, err);
    if (!rc)
        rc = edit_read_packages(c, err);
    if (!rc)
        rc = edit_pick_mtime(c, err);
    for (size_t i = 0; !rc && i < c->st->vib_count; i++)
        if (c->st->vibs[i].oem)
            rc = edit_build_oem(c, &c->st->vibs[i], err);
    if (!rc)
        rc = edit_check_duplicates(c, err);
    if (!rc)
        rc = edit_mark_removes(c, err);
    if (!rc)
        rc = edit_mark_replaced(c, err);
    if (!rc)
        rc = edit_check_relations(c, err);
    if (!rc)
        rc = edit_check_vmklinux(c, err);
    if (!rc)
        rc = edit_check_machines(c, err);
    if (!rc)
        rc = edit_acceptance(c, err);
    if (!rc)
        rc = edit_secure_boot(c, err);
    if (!rc)
        rc = edit_removals(c, err);
    if (!rc)
        rc = edit_additions(c, err);
    if (!rc)
        rc = edit_boot_options(c, err);
    if (!rc)
        rc = edit_profile(c, err);
    if (!rc)
        rc = edit_write_cfgs(c, err);
    if (!rc)
        rc = edit_write_db(c, err);
    if (!rc)
        rc = edit_flush_later(c, err);
    return rc;
}

static void edit_state_free(struct esximg_edit_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->paths[i]);
        free(st->owned[i]);
    }
    free(st->paths);
    free(st->owned);
    free(st->changes);
    for (size_t i = 0; i < st->vib_count; i++)
        edit_vib_clear(&st->vibs[i]);
    free(st->vibs);
    free(st);
}

static void edit_ctx_clear(struct edit_ctx *c)
{
    esximg_imgdb_free(c->db);
    for (size_t i = 0; i < 2; i++) {
        esximg_bootcfg_free(c->cfg[i]);
        free(c->cfg_path[i]);
        free(c->cfg_before[i]);
    }
    free(c->removed);
    free(c->replaced_by);
    free(c->used);
    free(c->select_hit);
    esx_warnings_free(&c->deferred);
}

int esximg_edit_plan(struct esximg_image *img, const struct esximg_edit_opts *o,
                     struct esximg_edit_plan **out, struct esximg_err *err)
{
    if (!img || !img->path || !o || !out)
        return esximg_err_set(err, ESXIMG_EINVAL, "no image, image path or options");
    struct esximg_edit_plan *p = calloc(1, sizeof *p);
    struct esximg_edit_state *st = p ? calloc(1, sizeof *st) : NULL;
    if (!st) {
        free(p);
        return edit_nomem(err);
    }
    p->state = st;
    st->img = img;
    struct edit_ctx c = {.img = img, .o = o, .plan = p, .st = st};
    int rc = edit_run(&c, err);
    p->mtime = c.mtime;
    edit_ctx_clear(&c);
    if (rc) {
        esximg_edit_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int esximg_edit_write(const struct esximg_edit_plan *p, const char *out_path,
                      const struct esximg_edit_wopts *wo, struct esximg_err *err)
{
    if (!p || !p->state || !out_path)
        return esximg_err_set(err, ESXIMG_EINVAL, "no plan or output");
    if (p->problems.count || p->problems.dropped)
        return esximg_err_set(err, ESXIMG_EINVAL, "the edit has %zu problem%s, the first: %s",
                              p->problems.count + p->problems.dropped,
                              p->problems.count + p->problems.dropped == 1 ? "" : "s",
                              p->problems.count ? p->problems.items[0].msg : "?");
    const struct esximg_edit_state *st = p->state;
    const struct esximg_edit_wopts none = {0};
    if (!wo)
        wo = &none;
    const struct esximg_iso_wopts iwo = {
        .mtime = p->mtime, .progress = wo->progress, .progress_arg = wo->progress_arg,
        .hybrid = wo->hybrid, .input = st->img->iso,
    };
    return esximg_iso_write(st->img->path, st->changes, st->count, &iwo, out_path, err);
}

void esximg_edit_plan_free(struct esximg_edit_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->line_count; i++)
        free(p->lines[i]);
    free(p->lines);
    esx_warnings_free(&p->warnings);
    esx_warnings_free(&p->problems);
    edit_state_free(p->state);
    free(p);
}
