/* pciids.c: .ids files (pci.ids syntax) and the 22-character form of a PCI device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/pciids.h"

void esximg_pci_device_id22(const struct esximg_pci_device *dev, char out[23])
{
    char sub[9] = "........", cls[5] = "....", pif[3] = "..";
    if (dev->has_subsys)
        snprintf(sub, sizeof sub, "%04x%04x", dev->subvendor, dev->subdevice);
    if (dev->has_class)
        snprintf(cls, sizeof cls, "%04x", dev->class_code);
    if (dev->has_progif)
        snprintf(pif, sizeof pif, "%02x", dev->progif);
    snprintf(out, 23, "%04x%04x%s%s%s", dev->vendor, dev->device, sub, cls, pif);
}

/* ---------------------------------------------------------------- read */

struct pciids_rctx {
    struct esximg_pciids *ids;
    const struct esximg_pciids_ropts *o;
    size_t vendors_cap, devices_cap, subsys_cap;  /* of the array being appended to */
    bool in_class_section;                        /* after a `C xx` line of the full pci.ids */
};

/* `items` (holding count) with room for one more of `size` bytes, doubling *cap; NULL when
 * out of memory (items kept). */
static void *pciids_grow(void *items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap)
        return items;
    size_t want = *cap ? *cap * 2 : 8;
    void *grown = esx_realloc_array(items, want, size);
    if (grown)
        *cap = want;
    return grown;
}

static int pciids_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading an ids file");
}

/* A line that fits no form: a warning, or the error in strict mode. */
static int pciids_bad(struct pciids_rctx *c, const struct esx_line *l, const char *why,
                      struct esximg_err *err)
{
    char quoted[64];
    esx_text_quote(l->p, l->len, quoted, sizeof quoted);
    if (c->o && c->o->strict)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s in ids line %zu '%s'", why, l->number,
                              quoted);
    return esx_warn(&c->ids->warnings, l->number, err, "%s in line '%s' (skipped)", why, quoted);
}

/* `n` hex digits at s then blanks (or the end): the value and the name after the blanks. */
static bool pciids_field(const char *s, size_t len, size_t n, uint32_t *value, const char **rest,
                         size_t *rest_len)
{
    if (len < n || !esx_parse_hex(s, n, value) || (len > n && !esx_is_blank(s[n])))
        return false;
    *rest = s + n;
    *rest_len = len - n;
    esx_trim(rest, rest_len);
    return true;
}

static int pciids_vendor(struct pciids_rctx *c, const char *name, size_t name_len, uint32_t id,
                         struct esximg_err *err)
{
    struct esximg_pciids *ids = c->ids;
    void *grown = pciids_grow(ids->vendors, ids->vendor_count, &c->vendors_cap,
                              sizeof *ids->vendors);
    if (!grown)
        return pciids_nomem(err);
    ids->vendors = grown;
    struct esximg_pciids_vendor *v = &ids->vendors[ids->vendor_count];
    memset(v, 0, sizeof *v);
    v->id = (uint16_t)id;
    v->name = esx_strndup(name, name_len);
    if (!v->name)
        return pciids_nomem(err);
    ids->vendor_count++;
    c->devices_cap = 0;
    return 0;
}

static int pciids_device(struct pciids_rctx *c, const char *name, size_t name_len, uint32_t id,
                         struct esximg_err *err)
{
    struct esximg_pciids_vendor *v = &c->ids->vendors[c->ids->vendor_count - 1];
    void *grown = pciids_grow(v->devices, v->device_count, &c->devices_cap, sizeof *v->devices);
    if (!grown)
        return pciids_nomem(err);
    v->devices = grown;
    struct esximg_pciids_device *d = &v->devices[v->device_count];
    memset(d, 0, sizeof *d);
    d->id = (uint16_t)id;
    d->name = esx_strndup(name, name_len);
    if (!d->name)
        return pciids_nomem(err);
    v->device_count++;
    c->subsys_cap = 0;
    return 0;
}

static int pciids_subsys(struct pciids_rctx *c, const char *name, size_t name_len,
                         uint32_t subvendor, uint32_t subdevice, struct esximg_err *err)
{
    struct esximg_pciids_vendor *v = &c->ids->vendors[c->ids->vendor_count - 1];
    struct esximg_pciids_device *d = &v->devices[v->device_count - 1];
    void *grown = pciids_grow(d->subsys, d->subsys_count, &c->subsys_cap, sizeof *d->subsys);
    if (!grown)
        return pciids_nomem(err);
    d->subsys = grown;
    struct esximg_pciids_subsys *s = &d->subsys[d->subsys_count];
    s->subvendor = (uint16_t)subvendor;
    s->subdevice = (uint16_t)subdevice;
    s->name = esx_strndup(name, name_len);
    if (!s->name)
        return pciids_nomem(err);
    d->subsys_count++;
    return 0;
}

static int pciids_line(struct pciids_rctx *c, const struct esx_line *l, struct esximg_err *err)
{
    const char *p = l->p, *name;
    size_t n = l->len, name_len, depth = 0;
    uint32_t id, id2;
    while (n && esx_is_blank(p[n - 1]))
        n--;
    const char *first = p;
    size_t first_len = n;
    esx_trim(&first, &first_len);
    if (first_len == 0 || first[0] == '#')
        return 0;
    while (depth < n && p[depth] == '\t')
        depth++;
    p += depth;
    n -= depth;
    if (depth == 0 && n >= 2 && p[0] == 'C' && esx_is_blank(p[1])) {
        c->in_class_section = true;
        return 0;
    }
    if (depth > 0 && c->in_class_section)
        return 0;
    if (depth == 0) {
        if (!pciids_field(p, n, 4, &id, &name, &name_len))
            return pciids_bad(c, l, "bad vendor id", err);
        c->in_class_section = false;
        return pciids_vendor(c, name, name_len, id, err);
    }
    if (depth == 1) {
        if (c->ids->vendor_count == 0)
            return pciids_bad(c, l, "device before any vendor", err);
        if (!pciids_field(p, n, 4, &id, &name, &name_len))
            return pciids_bad(c, l, "bad device id", err);
        return pciids_device(c, name, name_len, id, err);
    }
    if (depth == 2) {
        const char *rest;
        size_t rest_len;
        if (c->ids->vendor_count == 0 ||
            c->ids->vendors[c->ids->vendor_count - 1].device_count == 0)
            return pciids_bad(c, l, "subsystem before any device", err);
        if (!pciids_field(p, n, 4, &id, &rest, &rest_len) ||
            !pciids_field(rest, rest_len, 4, &id2, &name, &name_len))
            return pciids_bad(c, l, "bad subsystem ids", err);
        return pciids_subsys(c, name, name_len, id, id2, err);
    }
    return pciids_bad(c, l, "indent deeper than two tabs", err);
}

int esximg_pciids_read(const void *data, size_t len, const struct esximg_pciids_ropts *o,
                       struct esximg_pciids **out, struct esximg_err *err)
{
    struct pciids_rctx c = {.o = o};
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "ids file", err);
    if (rc)
        goto out;
    c.ids = calloc(1, sizeof *c.ids);
    if (!c.ids) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading an ids file");
        goto out;
    }
    struct esx_line line = {0};
    size_t pos = 0;
    while (!rc && esx_text_next(data, len, &pos, &line))
        rc = pciids_line(&c, &line, err);
    if (rc)
        goto out;
    *out = c.ids;
    c.ids = NULL;
out:
    esximg_pciids_free(c.ids);
    return rc;
}

void esximg_pciids_free(struct esximg_pciids *ids)
{
    if (!ids)
        return;
    for (size_t i = 0; i < ids->vendor_count; i++) {
        struct esximg_pciids_vendor *v = &ids->vendors[i];
        for (size_t j = 0; j < v->device_count; j++) {
            struct esximg_pciids_device *d = &v->devices[j];
            for (size_t k = 0; k < d->subsys_count; k++)
                free(d->subsys[k].name);
            free(d->subsys);
            free(d->name);
        }
        free(v->devices);
        free(v->name);
    }
    free(ids->vendors);
    esx_warnings_free(&ids->warnings);
    free(ids);
}

/* ---------------------------------------------------------------- lookups */

static const struct esximg_pciids_device *pciids_find_device(const struct esximg_pciids *ids,
                                                             uint16_t vendor, uint16_t device)
{
    /* a vendor may be listed twice (merged files): look in each */
    for (size_t i = 0; i < ids->vendor_count; i++) {
        const struct esximg_pciids_vendor *v = &ids->vendors[i];
        if (v->id != vendor)
            continue;
        for (size_t j = 0; j < v->device_count; j++)
            if (v->devices[j].id == device)
                return &v->devices[j];
    }
    return NULL;
}

const char *esximg_pciids_vendor_name(const struct esximg_pciids *ids, uint16_t vendor)
{
    for (size_t i = 0; i < ids->vendor_count; i++)
        if (ids->vendors[i].id == vendor)
            return ids->vendors[i].name;
    return NULL;
}

const char *esximg_pciids_device_name(const struct esximg_pciids *ids, uint16_t vendor,
                                      uint16_t device)
{
    const struct esximg_pciids_device *d = pciids_find_device(ids, vendor, device);
    return d ? d->name : NULL;
}

const char *esximg_pciids_subsys_name(const struct esximg_pciids *ids, uint16_t vendor,
                                      uint16_t device, uint16_t subvendor, uint16_t subdevice)
{
    for (size_t i = 0; i < ids->vendor_count; i++) {
        const struct esximg_pciids_vendor *v = &ids->vendors[i];
        for (size_t j = 0; v->id == vendor && j < v->device_count; j++) {
            const struct esximg_pciids_device *d = &v->devices[j];
            for (size_t k = 0; d->id == device && k < d->subsys_count; k++)
                if (d->subsys[k].subvendor == subvendor && d->subsys[k].subdevice == subdevice)
                    return d->subsys[k].name;
        }
    }
    return NULL;
}
