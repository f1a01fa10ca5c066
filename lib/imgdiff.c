/* imgdiff.c: two images or bundles compared by VIB name, and two images by their profile
 * acceptance and BOOT.CFG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esx_private.h"
#include "esximg/bootcfg.h"
#include "esximg/depot.h"
#include "esximg/image.h"
#include "esximg/imgdiff.h"
#include "esximg/io.h"
#include "esximg/vibrel.h"

/* One VIB as the comparison sees it (strings owned). */
struct diff_vib {
    char *name, *version, *vendor, *vib_id;
    enum esximg_acceptance acceptance;
};

struct diff_side {
    enum esximg_diff_source source;
    struct esximg_image *img;
    size_t n;
    struct diff_vib *vibs;      /* sorted by name, one per name (the highest version) */
};

/* ISO 9660 puts the first volume descriptor at sector 16: its "CD001" is at 16 * 2048 + 1. */
#define DIFF_ISO_MAGIC_OFF 32769u

int esximg_diff_sniff(const char *path, enum esximg_diff_source *out, struct esximg_err *err)
{
    unsigned char buf[DIFF_ISO_MAGIC_OFF + 5];
    FILE *f = fopen(path, "rb");
    if (!f) {
        esximg_err_file(err, path);
        return esximg_err_sys(err, errno, "cannot open");
    }
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (got >= 4 && !memcmp(buf, "PK\3\4", 4)) {
        *out = ESXIMG_DIFF_BUNDLE;
        return 0;
    }
    if (got == sizeof buf && !memcmp(buf + DIFF_ISO_MAGIC_OFF, "CD001", 5)) {
        *out = ESXIMG_DIFF_IMAGE;
        return 0;
    }
    esximg_err_file(err, path);
    return esximg_err_set(err, ESXIMG_EFORMAT, "not an ISO image or an offline bundle (zip)");
}

static void diff_vib_clear(struct diff_vib *v)
{
    free(v->name);
    free(v->version);
    free(v->vendor);
    free(v->vib_id);
}

static void diff_side_clear(struct diff_side *s)
{
    for (size_t i = 0; i < s->n; i++)
        diff_vib_clear(&s->vibs[i]);
    free(s->vibs);
    esximg_image_free(s->img);
    memset(s, 0, sizeof *s);
}

/* Adds a VIB from its id (always) and its descriptor (when known). */
static int diff_add_vib(struct diff_side *s, const char *vib_id,
                        const struct esximg_descriptor *d, enum esximg_acceptance acc,
                        struct esximg_err *err)
{
    struct diff_vib *v = &s->vibs[s->n];
    struct esximg_vib_id_parts parts = {0};
    const char *name = d ? d->name : NULL, *version = d ? d->version : NULL;
    const char *vendor = d ? d->vendor : NULL;
    if ((!name || !version || !vendor) && esximg_vib_id_split(vib_id, &parts, NULL) == 0) {
        name = name ? name : parts.name;
        version = version ? version : parts.version;
        vendor = vendor ? vendor : parts.vendor;
    }
    *v = (struct diff_vib){.name = esx_strdup(name ? name : vib_id),
                           .version = version ? esx_strdup(version) : NULL,
                           .vendor = vendor ? esx_strdup(vendor) : NULL,
                           .vib_id = esx_strdup(vib_id), .acceptance = acc};
    esximg_vib_id_parts_clear(&parts);
    if (!v->name || !v->vib_id || (version && !v->version) || (vendor && !v->vendor)) {
        diff_vib_clear(v);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    s->n++;
    return 0;
}

static int diff_vib_order(const void *pa, const void *pb)
{
    const struct diff_vib *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    c = esximg_version_cmp(a->version ? a->version : "", b->version ? b->version : "");
    return c ? c : strcmp(a->vib_id, b->vib_id);
}

/* Sorts by name and keeps the highest version of each name. */
static void diff_side_settle(struct diff_side *s)
{
    if (s->n)
        qsort(s->vibs, s->n, sizeof *s->vibs, diff_vib_order);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (i + 1 < s->n && !strcmp(s->vibs[i].name, s->vibs[i + 1].name)) {
            diff_vib_clear(&s->vibs[i]);
            continue;
        }
        s->vibs[w++] = s->vibs[i];
    }
    s->n = w;
}

static int diff_open_image(const char *path, struct diff_side *s, struct esximg_err *err)
{
    int rc = esximg_image_open(path, NULL, &s->img, err);
    if (rc)
        return rc;
    s->vibs = esx_malloc_array(s->img->vib_count ? s->img->vib_count : 1, sizeof *s->vibs);
    if (!s->vibs)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->img->vib_count && !rc; i++) {
        const struct esximg_image_vib *v = &s->img->vibs[i];
        rc = diff_add_vib(s, v->vib_id, v->desc, v->acceptance, err);
    }
    return rc;
}

static int diff_open_bundle(const char *path, struct diff_side *s, struct esximg_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_depot *d = NULL;
    int rc = esximg_file_read(path, ESX_MAX_DEPOT_BYTES, &data, &len, err);
    if (!rc)
        rc = esximg_depot_read(data, len, NULL, &d, err);
    free(data);
    if (rc)
        return rc;
    s->vibs = esx_malloc_array(d->vib_count ? d->vib_count : 1, sizeof *s->vibs);
    if (!s->vibs)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->vib_count && !rc; i++)
        rc = diff_add_vib(s, d->vibs[i].vib_id, d->vibs[i].vib->desc, d->vibs[i].acceptance,
                          err);
    esximg_depot_free(d);
    return rc;
}

static int diff_open(const char *path, struct diff_side *s, struct esximg_err *err)
{
    int rc = esximg_diff_sniff(path, &s->source, err);
    if (!rc)
        rc = s->source == ESXIMG_DIFF_IMAGE ? diff_open_image(path, s, err)
                                            : diff_open_bundle(path, s, err);
    if (rc)
        esximg_err_file(err, path);
    else
        diff_side_settle(s);
    return rc;
}

/* ---------------------------------------------------------------- the result */

static int diff_push(struct esximg_diff *d, enum esximg_diff_kind kind, const char *name,
                     const char *old_value, const char *new_value, struct esximg_err *err)
{
    struct esximg_diff_item *items = realloc(d->items, (d->count + 1) * sizeof *items);
    if (!items)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    d->items = items;
    struct esximg_diff_item *it = &items[d->count];
    *it = (struct esximg_diff_item){.kind = kind,
                                    .name = name ? esx_strdup(name) : NULL,
                                    .old_value = old_value ? esx_strdup(old_value) : NULL,
                                    .new_value = new_value ? esx_strdup(new_value) : NULL};
    d->count++;
    if ((name && !it->name) || (old_value && !it->old_value) || (new_value && !it->new_value))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static const char *diff_acc_name(enum esximg_acceptance a)
{
    return esximg_acceptance_name(a);
}

/* Names both VIBs on the item just pushed. */
static int diff_pair_ids(struct esximg_diff *d, const struct diff_vib *a,
                         const struct diff_vib *b, struct esximg_err *err)
{
    struct esximg_diff_item *it = &d->items[d->count - 1];
    it->vib_id_old = esx_strdup(a->vib_id);
    it->vib_id_new = esx_strdup(b->vib_id);
    if (!it->vib_id_old || !it->vib_id_new)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

/* Items for one name present on both sides. */
static int diff_vib_pair(struct esximg_diff *d, const struct diff_vib *a,
                         const struct diff_vib *b, struct esximg_err *err)
{
    int rc = 0;
    const char *va = a->version ? a->version : "", *vb = b->version ? b->version : "";
    if (strcmp(va, vb)) {
        rc = diff_push(d, ESXIMG_DIFF_VIB_VERSION, a->name, va, vb, err);
        if (rc)
            return rc;
        struct esximg_diff_item *it = &d->items[d->count - 1];
        int c = esximg_version_cmp(va, vb);
        it->order = c < 0 ? 1 : c > 0 ? -1 : 0;
        it->vib_id_old = esx_strdup(a->vib_id);
        it->vib_id_new = esx_strdup(b->vib_id);
        if (!it->vib_id_old || !it->vib_id_new)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    if (a->acceptance != b->acceptance) {
        rc = diff_push(d, ESXIMG_DIFF_VIB_ACCEPTANCE, a->name, diff_acc_name(a->acceptance),
                       diff_acc_name(b->acceptance), err);
        if (!rc)
            rc = diff_pair_ids(d, a, b, err);
        if (rc)
            return rc;
    }
    /* the same name from another vendor is another driver (a community rebuild in place of
     * the vendor's own, say), whatever the versions say */
    const char *ea = a->vendor ? a->vendor : "", *eb = b->vendor ? b->vendor : "";
    if (strcmp(ea, eb)) {
        rc = diff_push(d, ESXIMG_DIFF_VIB_VENDOR, a->name, a->vendor, b->vendor, err);
        if (!rc)
            rc = diff_pair_ids(d, a, b, err);
    }
    return rc;
}

static int diff_vib_one(struct esximg_diff *d, const struct diff_vib *v, bool added,
                        struct esximg_err *err)
{
    int rc = diff_push(d, added ? ESXIMG_DIFF_VIB_ADDED : ESXIMG_DIFF_VIB_REMOVED, v->name,
                       added ? NULL : v->version, added ? v->version : NULL, err);
    if (rc)
        return rc;
    struct esximg_diff_item *it = &d->items[d->count - 1];
    char **id = added ? &it->vib_id_new : &it->vib_id_old;
    *id = esx_strdup(v->vib_id);
    return *id ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static int diff_vibs(struct esximg_diff *d, const struct diff_side *a,
                     const struct diff_side *b, struct esximg_err *err)
{
    size_t i = 0, j = 0;
    int rc = 0;
    while (!rc && (i < a->n || j < b->n)) {
        int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->vibs[i].name, b->vibs[j].name);
        if (c < 0)
            rc = diff_vib_one(d, &a->vibs[i++], false, err);
        else if (c > 0)
            rc = diff_vib_one(d, &b->vibs[j++], true, err);
        else
            rc = diff_vib_pair(d, &a->vibs[i++], &b->vibs[j++], err);
    }
    return rc;
}

static int diff_text(struct esximg_diff *d, enum esximg_diff_kind kind, const char *a,
                     const char *b, struct esximg_err *err)
{
    if ((!a && !b) || (a && b && !strcmp(a, b)))
        return 0;
    return diff_push(d, kind, NULL, a, b, err);
}

static char *diff_title(const struct esximg_image *img)
{
    char *t = NULL;
    if (!img->bootcfg || esximg_bootcfg_get(img->bootcfg, "title", &t, NULL))
        return NULL;
    return t;
}

/* A sorted list of strings (owned). */
struct diff_list {
    size_t n;
    char **items;       /* comparison keys */
    char **shown;       /* as written */
};

static void diff_list_clear(struct diff_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i]);
        free(l->shown[i]);
    }
    free(l->items);
    free(l->shown);
    memset(l, 0, sizeof *l);
}

static int diff_list_alloc(struct diff_list *l, size_t n, struct esximg_err *err)
{
    l->items = calloc(n ? n : 1, sizeof *l->items);
    l->shown = calloc(n ? n : 1, sizeof *l->shown);
    if (!l->items || !l->shown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static int diff_str_order(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* Sorts keys and the shown strings with them (insertion sort: lists are short). */
static void diff_list_sort(struct diff_list *l)
{
    for (size_t i = 1; i < l->n; i++)
        for (size_t k = i; k > 0 && diff_str_order(&l->items[k - 1], &l->items[k]) > 0; k--) {
            char *t = l->items[k];
            l->items[k] = l->items[k - 1];
            l->items[k - 1] = t;
            t = l->shown[k];
            l->shown[k] = l->shown[k - 1];
            l->shown[k - 1] = t;
        }
}

static int diff_kernelopt(const struct esximg_image *img, struct diff_list *l,
                          struct esximg_err *err)
{
    struct esximg_bootcfg_options *o = NULL;
    int rc = 0;
    if (img->bootcfg && esximg_bootcfg_kernelopt_get(img->bootcfg, &o, NULL) != 0)
        o = NULL;
    size_t n = o ? o->count : 0;
    rc = diff_list_alloc(l, n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const struct esximg_bootcfg_option *t = &o->items[i];
        size_t len = strlen(t->key) + (t->value ? strlen(t->value) + 1 : 0) + 1;
        char *s = malloc(len);
        if (!s) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        snprintf(s, len, "%s%s%s", t->key, t->value ? "=" : "", t->value ? t->value : "");
        l->items[l->n] = s;
        l->shown[l->n] = esx_strdup(s);
        l->n++;
        if (!l->shown[l->n - 1])
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    esximg_bootcfg_options_free(o);
    if (!rc)
        diff_list_sort(l);
    return rc;
}

static int diff_modules(const struct esximg_image *img, struct diff_list *l,
                        struct esximg_err *err)
{
    struct esximg_bootcfg_modules *m = NULL;
    int rc = 0;
    if (img->bootcfg && esximg_bootcfg_modules_get(img->bootcfg, &m, NULL) != 0)
        m = NULL;
    size_t n = m ? m->count : 0;
    rc = diff_list_alloc(l, n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *p = m->items[i].path;
        const char *base = strrchr(p, '/');
        char *key = esx_strdup(base ? base + 1 : p);
        l->items[l->n] = key;
        l->shown[l->n] = esx_strdup(p);
        l->n++;
        if (!key || !l->shown[l->n - 1]) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        for (char *c = key; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    esximg_bootcfg_modules_free(m);
    if (!rc)
        diff_list_sort(l);
    return rc;
}

static int diff_lists(struct esximg_diff *d, const struct diff_list *a,
                      const struct diff_list *b, enum esximg_diff_kind added,
                      enum esximg_diff_kind removed, struct esximg_err *err)
{
    size_t i = 0, j = 0;
    int rc = 0;
    while (!rc && (i < a->n || j < b->n)) {
        int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->items[i], b->items[j]);
        if (c < 0) {
            rc = diff_push(d, removed, a->shown[i++], NULL, NULL, err);
        } else if (c > 0) {
            rc = diff_push(d, added, b->shown[j++], NULL, NULL, err);
        } else {
            i++;
            j++;
        }
    }
    return rc;
}

/* The base image or add-on records of two images, by releaseID. */
static int diff_release(struct esximg_diff *d, enum esximg_diff_kind kind, const char *folder,
                        const struct esximg_image *a, const struct esximg_image *b,
                        struct esximg_err *err)
{
    const struct esximg_imgdb_file *fa = esximg_imgdb_find_release(a->db, folder);
    const struct esximg_imgdb_file *fb = esximg_imgdb_find_release(b->db, folder);
    char *ia = fa ? esximg_imgdb_release_id(fa) : NULL;
    char *ib = fb ? esximg_imgdb_release_id(fb) : NULL;
    int rc = (fa && !ia) || (fb && !ib) ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory")
                                        : diff_text(d, kind, ia, ib, err);
    free(ia);
    free(ib);
    return rc;
}

static int diff_images(struct esximg_diff *d, const struct esximg_image *a,
                       const struct esximg_image *b, struct esximg_err *err)
{
    const struct esximg_profile *pa = a->db ? a->db->profile : NULL;
    const struct esximg_profile *pb = b->db ? b->db->profile : NULL;
    char *ta = diff_title(a), *tb = diff_title(b);
    struct diff_list la = {0}, lb = {0};
    int rc = diff_text(d, ESXIMG_DIFF_PROFILE_ACCEPTANCE, pa ? pa->acceptance_level : NULL,
                       pb ? pb->acceptance_level : NULL, err);
    if (!rc)
        rc = diff_release(d, ESXIMG_DIFF_BASE_IMAGE, ESXIMG_IMGDB_BASE_IMAGES, a, b, err);
    if (!rc)
        rc = diff_release(d, ESXIMG_DIFF_ADDON, ESXIMG_IMGDB_ADDONS, a, b, err);
    if (!rc)
        rc = diff_text(d, ESXIMG_DIFF_TITLE, ta, tb, err);
    if (!rc)
        rc = diff_kernelopt(a, &la, err);
    if (!rc)
        rc = diff_kernelopt(b, &lb, err);
    if (!rc)
        rc = diff_lists(d, &la, &lb, ESXIMG_DIFF_KERNELOPT_ADDED, ESXIMG_DIFF_KERNELOPT_REMOVED,
                        err);
    diff_list_clear(&la);
    diff_list_clear(&lb);
    if (!rc)
        rc = diff_modules(a, &la, err);
    if (!rc)
        rc = diff_modules(b, &lb, err);
    if (!rc)
        rc = diff_lists(d, &la, &lb, ESXIMG_DIFF_MODULE_ADDED, ESXIMG_DIFF_MODULE_REMOVED, err);
    diff_list_clear(&la);
    diff_list_clear(&lb);
    free(ta);
    free(tb);
    return rc;
}

int esximg_diff_files(const char *a, const char *b, struct esximg_diff **out,
                      struct esximg_err *err)
{
    struct diff_side sa = {0}, sb = {0};
    struct esximg_diff *d = calloc(1, sizeof *d);
    int rc = d ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc)
        rc = diff_open(a, &sa, err);
    if (!rc)
        rc = diff_open(b, &sb, err);
    if (rc)
        goto out;
    d->a_source = sa.source;
    d->b_source = sb.source;
    d->a_vib_count = sa.n;
    d->b_vib_count = sb.n;
    rc = diff_vibs(d, &sa, &sb, err);
    if (!rc && sa.img && sb.img)
        rc = diff_images(d, sa.img, sb.img, err);
    if (rc)
        goto out;
    *out = d;
    d = NULL;
out:
    diff_side_clear(&sa);
    diff_side_clear(&sb);
    esximg_diff_free(d);
    return rc;
}

void esximg_diff_free(struct esximg_diff *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].name);
        free(d->items[i].old_value);
        free(d->items[i].new_value);
        free(d->items[i].vib_id_old);
        free(d->items[i].vib_id_new);
    }
    free(d->items);
    free(d);
}

const char *esximg_diff_kind_name(enum esximg_diff_kind k)
{
    static const char *const names[] = {
        "vib_added", "vib_removed", "vib_version", "vib_acceptance", "profile_acceptance",
        "title", "kernelopt_added", "kernelopt_removed", "module_added", "module_removed",
        "vib_vendor", "base_image", "addon",
    };
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

const char *esximg_diff_source_name(enum esximg_diff_source s)
{
    return s == ESXIMG_DIFF_BUNDLE ? "bundle" : "image";
}
