/* depot.c: offline bundles (depot zips): find the VIBs, read the metadata, check one against
 * the other.  The zip reading is libarchive's (seekable zip reader over memory, so the central
 * directory is the authority); XML is libxml2's, without network, entities or DTD. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zlib.h>

#include "depotmeta_private.h"
#include "esx_private.h"
#include "xml_private.h"
#include "esximg/depot.h"
#include "esximg/imgdb.h"
#include "esximg/io.h"
#include "esximg/modname.h"
#include "esximg/vibauthor.h"

/* Warnings kept on the model; past this one more says how many were dropped. */
#define DEPOT_CHUNK          65536u

enum depot_member {
    DEPOT_SKIP,
    DEPOT_VIB,
    DEPOT_BUNDLE,         /* a nested *.zip */
    DEPOT_METADATA,       /* metadata.zip, *-metadata.zip */
    DEPOT_INDEX,          /* index.xml at the root of a zip */
    DEPOT_VENDOR_INDEX,   /* vendor-index.xml at the root of a zip */
};

/* One vibs/<name>.xml record of a metadata zip. */
struct depot_meta_vib {
    unsigned level;       /* the zip the metadata zip sat in */
    char *source;         /* "<metadata zip>/vibs/x.xml", for messages */
    char *vib_id;
    char *path;           /* relative-path */
    bool has_size;
    uint64_t size;
    char *checksum;       /* sha-256 only */
    bool matched;
};

struct depot_rctx {
    struct esximg_depot *d;
    uint64_t max_bytes;        /* whole-bundle inflate budget */
    uint64_t inflated;
    unsigned next_level;
    size_t vib_cap, comp_cap, url_cap, meta_cap;
    unsigned *vib_levels;      /* parallel to d->vibs */
    struct depot_meta_vib *metas;
    size_t meta_count;
    bool saw_vmware_meta, saw_vfront_meta;
};

/* A zip being walked: the bundle itself, a nested bundle or a metadata zip. */
struct depot_zip {
    const uint8_t *data;
    size_t len;
    const char *prefix;        /* member path of this zip in its parent, NULL at the top */
    unsigned depth;
    unsigned level;
    uint64_t budget;           /* ratio cap of this zip */
    uint64_t inflated;
};

/* ---------------------------------------------------------------- small helpers */

static int depot_grow(void **items, size_t *cap, size_t count, size_t size,
                      struct esximg_err *err)
{
    if (count < *cap)
        return 0;
    size_t want = *cap ? *cap * 2 : 8;
    if (want <= count)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    void *grown = esx_realloc_array(*items, want, size);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    memset((char *)grown + count * size, 0, (want - count) * size);
    *items = grown;
    *cap = want;
    return 0;
}

static void depot_warn(struct depot_rctx *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Warnings are best effort: one that cannot be stored is counted as dropped. */
static void depot_warn(struct depot_rctx *r, const char *fmt, ...)
{
    struct esximg_warnings *w = &r->d->warnings;
    va_list ap;
    va_start(ap, fmt);
    if (esx_vwarn(w, 0, NULL, fmt, ap))
        w->dropped++;
    va_end(ap);
}

static bool depot_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static enum depot_member depot_classify(const char *name)
{
    const char *base = esx_path_base(name);
    if (depot_ends_with(name, ".vib"))
        return DEPOT_VIB;
    if (strcasecmp(base, "metadata.zip") == 0 || depot_ends_with(base, "-metadata.zip"))
        return DEPOT_METADATA;
    if (depot_ends_with(name, ".zip"))
        return DEPOT_BUNDLE;
    if (strcmp(name, "index.xml") == 0)
        return DEPOT_INDEX;
    if (strcmp(name, "vendor-index.xml") == 0)
        return DEPOT_VENDOR_INDEX;
    return DEPOT_SKIP;
}

static char *depot_join(const char *prefix, const char *name)
{
    return prefix ? esx_path_join(prefix, name) : esx_strdup(name);
}

static uint64_t depot_ratio_budget(size_t len)
{
    uint64_t budget;
    if (esx_mul_u64((uint64_t)len, ESX_MAX_GUNZIP_RATIO, &budget))
        return UINT64_MAX;
    return budget < ESX_GUNZIP_RATIO_FLOOR ? ESX_GUNZIP_RATIO_FLOOR : budget;
}

/* ---------------------------------------------------------------- zip access */

static int depot_zip_open(const struct depot_zip *z, struct archive **out,
                          struct esximg_err *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, z->data, z->len) != ARCHIVE_OK) {
        int rc = esximg_err_set(err, ESXIMG_EFORMAT, "not a readable zip: %s",
                                archive_error_string(a) ? archive_error_string(a)
                                                        : "unknown reason");
        archive_read_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* The next regular member, or *name NULL at the end.  Refuses more than ESX_MAX_ZIP_ENTRIES
 * members; skips directories, links and names libarchive cannot give. */
static int depot_zip_next(struct depot_rctx *r, struct archive *a, size_t *entries,
                          const char **name, struct archive_entry **entry,
                          struct esximg_err *err)
{
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(a, &e);
        if (ar == ARCHIVE_EOF) {
            *name = NULL;
            return 0;
        }
        if (ar < ARCHIVE_WARN)
            return esximg_err_set(err, ESXIMG_EFORMAT, "broken zip: %s",
                                  archive_error_string(a) ? archive_error_string(a)
                                                          : "unknown reason");
        if (++*entries > ESX_MAX_ZIP_ENTRIES)
            return esximg_err_set(err, ESXIMG_ELIMIT, "zip has more than %u members",
                                  ESX_MAX_ZIP_ENTRIES);
        const char *n = archive_entry_pathname(e);
        if (!n)
            n = archive_entry_pathname_utf8(e);
        if (!n || !*n) {
            depot_warn(r, "a member without a readable name was skipped");
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG) {
            if (archive_entry_filetype(e) != AE_IFDIR && depot_classify(n) != DEPOT_SKIP)
                depot_warn(r, "member '%s': not a regular file, skipped", n);
            continue;
        }
        *name = n;
        *entry = e;
        return 0;
    }
}

/* Puts "member '<path>': " in front of the message, with the path from the top zip. */
static void depot_prefix_member(struct esximg_err *err, const struct depot_zip *z,
                                const char *name)
{
    if (z->prefix)
        esximg_err_prefix(err, "member '%s/%s': ", z->prefix, name);
    else
        esximg_err_prefix(err, "member '%s': ", name);
}

enum depot_cap { DEPOT_CAP_MEMBER, DEPOT_CAP_RATIO, DEPOT_CAP_BUNDLE };

static int depot_over(enum depot_cap cap, uint64_t limit, uint64_t bundle_max,
                      struct esximg_err *err)
{
    if (cap == DEPOT_CAP_RATIO)
        return esximg_err_set(err, ESXIMG_ELIMIT, "inflates past %u times the size of its zip "
                              "(%" PRIu64 " bytes)", ESX_MAX_GUNZIP_RATIO, limit);
    if (cap == DEPOT_CAP_BUNDLE)
        return esximg_err_set(err, ESXIMG_ELIMIT, "takes the bundle past %" PRIu64
                              " inflated bytes", bundle_max);
    return esximg_err_set(err, ESXIMG_ELIMIT, "is larger than %" PRIu64 " bytes", limit);
}

/* Inflates the current member, at most `max` bytes, within the zip's ratio budget and the
 * bundle's budget; the size the zip claims is checked first so a bomb is refused unread, and
 * the bytes really inflated are counted so a lying size is refused at the limit. */
static int depot_zip_data(struct depot_rctx *r, struct depot_zip *z, struct archive *a,
                          struct archive_entry *e, const char *name, uint64_t max,
                          uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    int rc = 0;
    struct esx_buf b;
    esx_buf_init(&b, 0);
    uint64_t zip_left = z->budget - z->inflated, bundle_left = r->max_bytes - r->inflated;
    uint64_t limit = max;
    enum depot_cap cap = DEPOT_CAP_MEMBER;
    if (zip_left < limit) {
        limit = zip_left;
        cap = DEPOT_CAP_RATIO;
    }
    if (bundle_left < limit) {
        limit = bundle_left;
        cap = DEPOT_CAP_BUNDLE;
    }
    if (archive_entry_is_encrypted(e)) {
        rc = esximg_err_set(err, ESXIMG_EUNSUPPORTED, "encrypted");
        goto out;
    }
    if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
        (uint64_t)archive_entry_size(e) > limit) {
        rc = depot_over(cap, cap == DEPOT_CAP_RATIO ? z->budget : limit, r->max_bytes, err);
        goto out;
    }
    uint8_t chunk[DEPOT_CHUNK];
    for (;;) {
        la_ssize_t got = archive_read_data(a, chunk, sizeof chunk);
        if (got < 0) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "cannot inflate: %s",
                                archive_error_string(a) ? archive_error_string(a)
                                                        : "unknown reason");
            goto out;
        }
        if (got == 0)
            break;
        if ((uint64_t)got > limit - b.len) {
            rc = depot_over(cap, cap == DEPOT_CAP_RATIO ? z->budget : limit, r->max_bytes,
                            err);
            goto out;
        }
        rc = esx_buf_append(&b, chunk, (size_t)got, err);
        if (rc)
            goto out;
    }
    z->inflated += b.len;
    r->inflated += b.len;
    *out = (uint8_t *)esx_buf_take(&b, out_len);
    if (!*out)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
out:
    if (rc)
        depot_prefix_member(err, z, name);
    esx_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- XML */

/* Parses a small XML document whose root is `root` (see esx_xml_read for the safety). */
static int depot_xml_parse(const uint8_t *data, size_t len, const char *root, xmlDoc **out,
                           struct esximg_err *err)
{
    xmlDoc *doc = NULL;
    int rc = esx_xml_read(data, len, "xml", &doc, err);
    if (rc)
        return rc;
    xmlNode *top = xmlDocGetRootElement(doc);
    if (strcmp((const char *)top->name, root) != 0) {
        xmlFreeDoc(doc);
        return esximg_err_set(err, ESXIMG_EFORMAT, "xml root is not <%s>", root);
    }
    *out = doc;
    return 0;
}

static xmlNode *depot_xml_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The depot's readers trim every text, and find an attribute whatever its prefix
 * (esx_xml_attr's any_ns), as they always have: a bundle's metadata uses no namespace. */
static int depot_xml_child_text(const xmlNode *parent, const char *name, char **out,
                                struct esximg_err *err)
{
    return esx_xml_content(depot_xml_child(parent, name), true, out, err);
}

/* ---------------------------------------------------------------- index.xml, vendor-index.xml */

static int depot_parse_index(struct depot_rctx *r, const uint8_t *data, size_t len,
                             struct esximg_err *err)
{
    xmlDoc *doc = NULL;
    int rc = depot_xml_parse(data, len, "vendorList", &doc, err);
    if (rc)
        return rc;
    const xmlNode *vendor = depot_xml_child(xmlDocGetRootElement(doc), "vendor");
    char *name = NULL, *code = NULL;
    rc = depot_xml_child_text(vendor, "name", &name, err);
    if (!rc)
        rc = depot_xml_child_text(vendor, "code", &code, err);
    if (!rc && !r->d->vendor_name && !r->d->vendor_code) {
        r->d->vendor_name = name;
        r->d->vendor_code = code;
        name = code = NULL;
    }
    free(name);
    free(code);
    xmlFreeDoc(doc);
    return rc;
}

static int depot_parse_vendor_index(struct depot_rctx *r, const uint8_t *data, size_t len,
                                    struct esximg_err *err)
{
    struct esximg_depot *d = r->d;
    xmlDoc *doc = NULL;
    int rc = depot_xml_parse(data, len, "metaList", &doc, err);
    if (rc)
        return rc;
    if (d->meta_url_count > 0)        /* a nested bundle's copy: the first one read wins */
        goto out;
    for (xmlNode *m = xmlDocGetRootElement(doc)->children; m && !rc; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || strcmp((const char *)m->name, "metadata") != 0)
            continue;
        rc = depot_grow((void **)&d->meta_urls, &r->url_cap, d->meta_url_count,
                        sizeof *d->meta_urls, err);
        if (rc)
            break;
        struct esximg_depot_meta_url *u = &d->meta_urls[d->meta_url_count++];
        rc = depot_xml_child_text(m, "productId", &u->product_id, err);
        if (!rc)
            rc = depot_xml_child_text(m, "version", &u->version, err);
        if (!rc)
            rc = depot_xml_child_text(m, "url", &u->url, err);
    }
out:
    xmlFreeDoc(doc);
    return rc;
}

/* ---------------------------------------------------------------- metadata zips */

static void depot_meta_vib_clear(struct depot_meta_vib *m)
{
    free(m->source);
    free(m->vib_id);
    free(m->path);
    free(m->checksum);
    memset(m, 0, sizeof *m);
}

/* vibs/<name>-<n>.xml: the descriptor plus relative-path, packed-size and checksum. Only the
 * fields that identify the VIB and the three about the .vib file are read. */
static int depot_parse_meta_vib(struct depot_rctx *r, unsigned level, const char *source,
                                const uint8_t *data, size_t len, struct esximg_err *err)
{
    xmlDoc *doc = NULL;
    int rc = depot_xml_parse(data, len, "vib", &doc, err);
    if (rc)
        return rc;
    const xmlNode *root = xmlDocGetRootElement(doc);
    struct depot_meta_vib m = { .level = level };
    char *type = NULL, *name = NULL, *version = NULL, *vendor = NULL, *size = NULL;
    if ((rc = depot_xml_child_text(root, "type", &type, err)) ||
        (rc = depot_xml_child_text(root, "name", &name, err)) ||
        (rc = depot_xml_child_text(root, "version", &version, err)) ||
        (rc = depot_xml_child_text(root, "vendor", &vendor, err)) ||
        (rc = depot_xml_child_text(root, "relative-path", &m.path, err)) ||
        (rc = depot_xml_child_text(root, "packed-size", &size, err)))
        goto out;
    if (!type || !name || !version || !vendor || !*type || !*name || !*version || !*vendor) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no vendor, type, name or version");
        goto out;
    }
    struct esx_buf id;
    esx_buf_init(&id, ESX_MAX_PATH_BYTES);
    rc = esx_buf_printf(&id, err, "%s_%s_%s_%s", vendor, type, name, version);
    m.vib_id = esx_buf_take(&id, NULL);
    if (rc || !m.vib_id) {
        rc = rc ? rc : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    if (size) {
        m.has_size = esx_parse_decimal(size, strlen(size), &m.size);
        if (!m.has_size)
            depot_warn(r, "metadata '%s': packed-size '%s' is not a number", source, size);
    }
    const xmlNode *sum = depot_xml_child(root, "checksum");
    char *sum_type = NULL;
    if ((rc = esx_xml_attr(sum, "checksum-type", true, &sum_type, err)))
        goto out;
    if (sum_type && strcmp(sum_type, "sha-256") == 0)
        rc = esx_xml_content(sum, true, &m.checksum, err);
    else if (sum)
        depot_warn(r, "metadata '%s': checksum type '%s' not checked", source,
                   sum_type ? sum_type : "");
    free(sum_type);
    if (rc)
        goto out;
    if (!(m.source = esx_strdup(source))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    rc = depot_grow((void **)&r->metas, &r->meta_cap, r->meta_count, sizeof m, err);
    if (!rc) {
        r->metas[r->meta_count++] = m;
        memset(&m, 0, sizeof m);
    }
out:
    depot_meta_vib_clear(&m);
    free(type);
    free(name);
    free(version);
    free(vendor);
    free(size);
    xmlFreeDoc(doc);
    return rc;
}

static void depot_component_clear(struct esximg_depot_component *c)
{
    free(c->id);
    free(c->vendor);
    free(c->summary);
    free(c->release_date);
    free(c->name);
    free(c->name_ui);
    free(c->version);
    free(c->version_ui);
    for (size_t i = 0; i < c->vib_id_count; i++)
        free(c->vib_ids[i]);
    free(c->vib_ids);
    free(c->xml);
    memset(c, 0, sizeof *c);
}

/* <vibList> holds <vibID> (bulletins/<id>.xml) or <vib><vibID> (vmware.xml). */
static int depot_parse_vib_list(const xmlNode *list, struct esximg_depot_component *c,
                                struct esximg_err *err)
{
    size_t cap = 0;
    int rc = 0;
    for (const xmlNode *v = list ? list->children : NULL; v && !rc; v = v->next) {
        if (v->type != XML_ELEMENT_NODE)
            continue;
        const xmlNode *id = v;
        if (strcmp((const char *)v->name, "vib") == 0)
            id = depot_xml_child(v, "vibID");
        else if (strcmp((const char *)v->name, "vibID") != 0)
            id = NULL;
        if (!id)
            continue;
        char *text;
        if ((rc = esx_xml_content(id, true, &text, err)))
            break;
        if (!*text) {
            free(text);
            continue;
        }
        rc = depot_grow((void **)&c->vib_ids, &cap, c->vib_id_count, sizeof(char *), err);
        if (rc)
            free(text);
        else
            c->vib_ids[c->vib_id_count++] = text;
    }
    return rc;
}

static int depot_parse_bulletin(struct depot_rctx *r, const char *source, const uint8_t *data,
                                size_t len, struct esximg_err *err)
{
    struct esximg_depot *d = r->d;
    xmlDoc *doc = NULL;
    int rc = depot_xml_parse(data, len, "bulletin", &doc, err);
    if (rc)
        return rc;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *name_spec = depot_xml_child(root, "componentNameSpec");
    const xmlNode *version_spec = depot_xml_child(root, "componentVersionSpec");
    struct esximg_depot_component c = {0};
    if ((rc = depot_xml_child_text(root, "id", &c.id, err)) ||
        (rc = depot_xml_child_text(root, "vendor", &c.vendor, err)) ||
        (rc = depot_xml_child_text(root, "summary", &c.summary, err)) ||
        (rc = depot_xml_child_text(root, "releaseDate", &c.release_date, err)) ||
        (rc = esx_xml_attr(name_spec, "name", true, &c.name, err)) ||
        (rc = esx_xml_attr(name_spec, "uiString", true, &c.name_ui, err)) ||
        (rc = esx_xml_attr(version_spec, "version", true, &c.version, err)) ||
        (rc = esx_xml_attr(version_spec, "uiString", true, &c.version_ui, err)) ||
        (rc = depot_parse_vib_list(depot_xml_child(root, "vibList"), &c, err)))
        goto out;
    if (!c.id || !*c.id) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "bulletin without an id");
        goto out;
    }
    /* kept whole, so that an image it goes into gets the component's own bulletin */
    if (!(c.xml = esx_strndup((const char *)data, len))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    c.xml_len = len;
    for (size_t i = 0; i < d->component_count; i++) {
        if (strcmp(d->components[i].id, c.id) == 0) {
            depot_warn(r, "metadata '%s': bulletin '%s' appears twice, the first is kept",
                       source, c.id);
            goto out;
        }
    }
    rc = depot_grow((void **)&d->components, &r->comp_cap, d->component_count, sizeof c, err);
    if (!rc) {
        d->components[d->component_count++] = c;
        memset(&c, 0, sizeof c);
    }
out:
    depot_component_clear(&c);
    xmlFreeDoc(doc);
    return rc;
}

/* Only an out-of-memory or a limit stops the bundle: other metadata trouble is a warning. */
static bool depot_fatal(int rc)
{
    return rc == ESXIMG_ENOMEM || rc == ESXIMG_ELIMIT;
}

/* A profile, a release unit or a member not understood (depotmeta.c).  One that does not read
 * is recorded as not understood, with a warning: the VIBs stay usable, and a build that needs
 * the document refuses it by name. */
static int depot_full_member(struct depot_rctx *r, struct depot_zip *z, struct archive *a,
                             struct archive_entry *e, const char *source, const char *name,
                             struct esximg_err *err)
{
    struct esximg_err local = {0};
    enum esx_depotmeta_member kind = esx_depotmeta_classify(name);
    int rc = esx_path_check(name, "member", &local);
    if (!rc && kind == ESX_DEPOTMETA_UNKNOWN) {
        const char *slash = strchr(name, '/');
        if (slash)
            esximg_err_set(&local, ESXIMG_EUNSUPPORTED, "unknown folder '%.*s'",
                           (int)(slash - name), name);
        else
            esximg_err_set(&local, ESXIMG_EUNSUPPORTED, "unknown file");
        rc = ESXIMG_EUNSUPPORTED;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (!rc)
        rc = depot_zip_data(r, z, a, e, name, ESX_MAX_JSON_BYTES, &data, &len, &local);
    if (!rc)
        rc = esx_depotmeta_read(r->d, source, name, data, len, &local);
    free(data);
    if (rc && depot_fatal(rc))
        return esximg_err_set(err, local.code, "%s", local.msg);
    if (rc) {
        depot_warn(r, "metadata '%s': %s", source, local.msg);
        return esx_depotmeta_unknown(r->d, source, local.msg, err);
    }
    return 0;
}

static int depot_walk_metadata(struct depot_rctx *r, const struct depot_zip *parent,
                               const char *path, const uint8_t *data, size_t len,
                               struct esximg_err *err)
{
    struct depot_zip z = {
        .data = data, .len = len, .prefix = path, .depth = parent->depth + 1,
        .level = parent->level, .budget = depot_ratio_budget(len),
    };
    struct archive *a = NULL;
    size_t entries = 0;
    int rc = depot_zip_open(&z, &a, err);
    while (!rc) {
        const char *name;
        struct archive_entry *e;
        if ((rc = depot_zip_next(r, a, &entries, &name, &e, err)) || !name)
            break;
        bool is_vib = strncmp(name, "vibs/", 5) == 0 && depot_ends_with(name, ".xml");
        bool is_bulletin = strncmp(name, "bulletins/", 10) == 0 && depot_ends_with(name, ".xml");
        enum esx_depotmeta_member full = esx_depotmeta_classify(name);
        if (!is_vib && !is_bulletin && full == ESX_DEPOTMETA_SKIP)
            continue;
        uint8_t *xml = NULL;
        size_t xml_len = 0;
        char *source = depot_join(path, name);
        if (!source)
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        if (!rc && !is_vib && !is_bulletin) {
            rc = depot_full_member(r, &z, a, e, source, name, err);
            free(source);
            continue;
        }
        bool parsing = false;
        if (!rc)
            rc = depot_zip_data(r, &z, a, e, name, ESX_MAX_XML_BYTES, &xml, &xml_len, err);
        if (!rc) {
            parsing = true;
            rc = is_vib ? depot_parse_meta_vib(r, parent->level, source, xml, xml_len, err)
                        : depot_parse_bulletin(r, source, xml, xml_len, err);
        }
        if (rc && !depot_fatal(rc)) {
            if (parsing)
                depot_warn(r, "metadata '%s': %s", source, err ? err->msg : "unreadable");
            else
                depot_warn(r, "%s", err ? err->msg : "unreadable metadata");
            rc = 0;
        }
        free(source);
        free(xml);
    }
    archive_read_free(a);
    return rc;
}

/* ---------------------------------------------------------------- VIBs */

static void depot_vib_clear(struct esximg_depot_vib *v)
{
    free(v->path);
    free(v->container);
    esximg_vib_free(v->vib);
    free(v->bytes);
    free(v->vib_id);
    free(v->meta_path);
    free(v->meta_checksum);
    free(v->components);
    memset(v, 0, sizeof *v);
}

/* Same id seen before: the same bytes are dropped (true), other bytes refused. */
static int depot_duplicate(struct depot_rctx *r, const struct esximg_depot_vib *v, bool *drop,
                           struct esximg_err *err)
{
    *drop = false;
    for (size_t i = 0; i < r->d->vib_count; i++) {
        const struct esximg_depot_vib *old = &r->d->vibs[i];
        if (strcmp(old->vib_id, v->vib_id) != 0)
            continue;
        if (strcmp(old->sha256, v->sha256) != 0)
            return esximg_err_set(err, ESXIMG_EFORMAT,
                                  "vib '%s' is also '%s' with other content", v->vib_id,
                                  old->path);
        depot_warn(r, "member '%s': same vib as '%s', skipped", v->path, old->path);
        *drop = true;
        return 0;
    }
    return 0;
}

/* Takes `bytes` (freed on failure too). */
static int depot_add_vib(struct depot_rctx *r, const struct depot_zip *z, const char *name,
                         uint8_t *bytes, size_t len, struct esximg_err *err)
{
    struct esximg_depot *d = r->d;
    struct esximg_depot_vib v = { .bytes = bytes, .len = len };
    struct esximg_err path_err = {0};
    bool drop = false;
    int rc = 0;
    if (!(v.path = depot_join(z->prefix, name)) ||
        (z->prefix && !(v.container = esx_strdup(z->prefix)))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    if (esx_path_check(v.path, "member", &path_err)) {
        v.unsafe_path = true;
        depot_warn(r, "%s: it will not be extracted", path_err.msg);
    }
    if ((rc = esx_digest_hex(ESX_SHA256, bytes, len, v.sha256, err)))
        goto out;
    /* a VIB whose payloads disagree with its members is listed with its problems, so that
     * the rest of the bundle still reads; whoever installs it reads it strictly again */
    const struct esximg_vib_ropts ropts = { .keep_missing = true };
    if ((rc = esximg_vib_read_opts(v.bytes, v.len, &ropts, &v.vib, err)))
        goto out;
    v.vib_id = esximg_descriptor_vib_id(v.vib->desc);
    if (!v.vib_id) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT,
                            "descriptor lacks a vendor, type, name or version");
        goto out;
    }
    v.acceptance = v.vib->desc->acceptance_level
                       ? esximg_acceptance_parse(v.vib->desc->acceptance_level)
                       : ESXIMG_ACCEPT_UNKNOWN;
    if ((rc = depot_duplicate(r, &v, &drop, err)) || drop)
        goto out;
    if ((rc = depot_grow((void **)&d->vibs, &r->vib_cap, d->vib_count, sizeof v, err)))
        goto out;
    size_t level_cap = r->vib_cap;
    unsigned *levels = esx_realloc_array(r->vib_levels, level_cap, sizeof *levels);
    if (!levels) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    r->vib_levels = levels;
    levels[d->vib_count] = z->level;
    d->vibs[d->vib_count++] = v;
    memset(&v, 0, sizeof v);
out:
    if (rc)
        esximg_err_prefix(err, "member '%s': ", v.path ? v.path : name);
    depot_vib_clear(&v);
    return rc;
}

/* ---------------------------------------------------------------- walking a bundle zip */

static int depot_walk_zip(struct depot_rctx *r, struct depot_zip *z, struct esximg_err *err);

static int depot_member(struct depot_rctx *r, struct depot_zip *z, struct archive *a,
                        struct archive_entry *e, const char *name, struct esximg_err *err)
{
    enum depot_member kind = depot_classify(name);
    uint64_t max = kind == DEPOT_INDEX || kind == DEPOT_VENDOR_INDEX ? ESX_MAX_XML_BYTES
                                                                     : ESX_MAX_FILE_BYTES;
    if (kind == DEPOT_SKIP)
        return 0;
    if (kind == DEPOT_BUNDLE && z->depth + 1 > ESX_MAX_ZIP_DEPTH) {
        esximg_err_set(err, ESXIMG_ELIMIT, "zip nested deeper than %u levels",
                       ESX_MAX_ZIP_DEPTH);
        depot_prefix_member(err, z, name);
        return ESXIMG_ELIMIT;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = depot_zip_data(r, z, a, e, name, max, &data, &len, err);
    if (rc)
        return rc;
    char *path = NULL;
    switch (kind) {
    case DEPOT_VIB:
        return depot_add_vib(r, z, name, data, len, err);
    case DEPOT_BUNDLE:
        if (!(path = depot_join(z->prefix, name))) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        struct depot_zip inner = {
            .data = data, .len = len, .prefix = path, .depth = z->depth + 1,
            .level = ++r->next_level, .budget = depot_ratio_budget(len),
        };
        rc = depot_walk_zip(r, &inner, err);
        break;
    case DEPOT_METADATA:
        if (!(path = depot_join(z->prefix, name))) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        if (depot_ends_with(name, "-metadata.zip"))
            r->saw_vfront_meta = true;
        else
            r->saw_vmware_meta = true;
        rc = depot_walk_metadata(r, z, path, data, len, err);
        if (rc && !depot_fatal(rc)) {
            depot_warn(r, "metadata '%s': %s", path, err ? err->msg : "unreadable");
            rc = 0;
        }
        break;
    case DEPOT_INDEX:
    case DEPOT_VENDOR_INDEX:
        rc = kind == DEPOT_INDEX ? depot_parse_index(r, data, len, err)
                                 : depot_parse_vendor_index(r, data, len, err);
        if (rc && !depot_fatal(rc)) {
            depot_warn(r, "member '%s': %s", name, err ? err->msg : "unreadable");
            rc = 0;
        }
        break;
    case DEPOT_SKIP:
        break;
    }
    free(path);
    free(data);
    return rc;
}

static int depot_walk_zip(struct depot_rctx *r, struct depot_zip *z, struct esximg_err *err)
{
    struct archive *a = NULL;
    size_t entries = 0;
    int rc = depot_zip_open(z, &a, err);
    if (rc && z->prefix) {
        /* a nested zip that is no zip is just a file in the bundle */
        depot_warn(r, "member '%s': %s, skipped", z->prefix, err ? err->msg : "not a zip");
        return 0;
    }
    while (!rc) {
        const char *name;
        struct archive_entry *e;
        if ((rc = depot_zip_next(r, a, &entries, &name, &e, err))) {
            if (z->prefix)        /* member errors already name the member */
                esximg_err_prefix(err, "member '%s': ", z->prefix);
            break;
        }
        if (!name)
            break;
        rc = depot_member(r, z, a, e, name, err);
    }
    archive_read_free(a);
    return rc;
}

/* ---------------------------------------------------------------- after the walk */

/* The metadata record for a VIB: one at the VIB's level first, any level next. */
static struct depot_meta_vib *depot_meta_for(struct depot_rctx *r, size_t vib)
{
    const char *id = r->d->vibs[vib].vib_id;
    struct depot_meta_vib *any = NULL;
    for (size_t i = 0; i < r->meta_count; i++) {
        if (strcmp(r->metas[i].vib_id, id) != 0)
            continue;
        if (r->metas[i].level == r->vib_levels[vib])
            return &r->metas[i];
        if (!any)
            any = &r->metas[i];
    }
    return any;
}

static int depot_check_meta(struct depot_rctx *r, size_t vib, struct esximg_err *err)
{
    struct esximg_depot_vib *v = &r->d->vibs[vib];
    struct depot_meta_vib *m = depot_meta_for(r, vib);
    if (!m)
        return 0;
    m->matched = true;
    const char *local = v->container ? v->path + strlen(v->container) + 1 : v->path;
    if (m->path && strcmp(m->path, local) != 0)
        depot_warn(r, "metadata '%s': vib '%s' is at '%s', not at '%s'", m->source, v->vib_id,
                   local, m->path);
    if ((m->path && !(v->meta_path = esx_strdup(m->path))) ||
        (m->checksum && !(v->meta_checksum = esx_strdup(m->checksum))))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    v->has_meta_size = m->has_size;
    v->meta_size = m->size;
    v->size_mismatch = m->has_size && m->size != (uint64_t)v->len;
    v->checksum_mismatch = m->checksum && strcasecmp(m->checksum, v->sha256) != 0;
    if (v->size_mismatch || v->checksum_mismatch)
        v->check = ESXIMG_DEPOT_CHECK_MISMATCH;
    else if (m->has_size || m->checksum)
        v->check = ESXIMG_DEPOT_CHECK_OK;
    return 0;
}

static int depot_link_components(struct depot_rctx *r, struct esximg_err *err)
{
    struct esximg_depot *d = r->d;
    for (size_t c = 0; c < d->component_count; c++) {
        const struct esximg_depot_component *comp = &d->components[c];
        for (size_t i = 0; i < comp->vib_id_count; i++) {
            bool found = false;
            for (size_t v = 0; v < d->vib_count; v++) {
                struct esximg_depot_vib *vib = &d->vibs[v];
                if (strcmp(vib->vib_id, comp->vib_ids[i]) != 0)
                    continue;
                found = true;
                if (vib->component_count && vib->components[vib->component_count - 1] == c)
                    continue;      /* listed twice in one bulletin */
                size_t *grown = esx_realloc_array(vib->components, vib->component_count + 1,
                                                  sizeof *grown);
                if (!grown)
                    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
                vib->components = grown;
                grown[vib->component_count++] = c;
            }
            if (!found)
                depot_warn(r, "bulletin '%s' lists vib '%s', which is not in the bundle",
                           comp->id, comp->vib_ids[i]);
        }
    }
    return 0;
}

static int depot_finish(struct depot_rctx *r, struct esximg_err *err)
{
    struct esximg_depot *d = r->d;
    int rc = 0;
    if (d->vib_count == 0)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "no '.vib' member in the bundle");
    for (size_t i = 0; i < d->vib_count && !rc; i++)
        rc = depot_check_meta(r, i, err);
    for (size_t i = 0; i < r->meta_count && !rc; i++)
        if (!r->metas[i].matched)
            depot_warn(r, "metadata '%s': vib '%s' is not in the bundle", r->metas[i].source,
                       r->metas[i].vib_id);
    if (!rc)
        rc = depot_link_components(r, err);
    if (!rc)
        rc = esx_depotmeta_finish(d, err);
    d->kind = r->saw_vmware_meta ? ESXIMG_DEPOT_VMWARE : ESXIMG_DEPOT_PLAIN;
    if (r->saw_vfront_meta)
        d->kind = ESXIMG_DEPOT_VFRONT;
    for (size_t i = 0; i < d->vib_count; i++)
        if (d->vibs[i].container)
            d->kind = ESXIMG_DEPOT_NESTED;
    return rc;
}

/* ---------------------------------------------------------------- public */

int esximg_depot_read(const void *data, size_t len, const struct esximg_depot_opts *opts,
                      struct esximg_depot **out, struct esximg_err *err)
{
    struct esximg_err local = {0};
    struct depot_rctx r = {
        .max_bytes = opts && opts->max_bytes ? opts->max_bytes : ESX_MAX_DEPOT_BYTES,
    };
    int rc = 0;
    if (!data && len) {
        rc = esximg_err_set(&local, ESXIMG_EINVAL, "no bundle bytes");
        goto out;
    }
    if (!(r.d = calloc(1, sizeof *r.d))) {
        rc = esximg_err_set(&local, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    struct depot_zip top = {
        .data = data, .len = len, .budget = depot_ratio_budget(len),
    };
    rc = depot_walk_zip(&r, &top, &local);
    if (!rc)
        rc = depot_finish(&r, &local);
    if (!rc) {
        *out = r.d;
        r.d = NULL;
    }
out:
    for (size_t i = 0; i < r.meta_count; i++)
        depot_meta_vib_clear(&r.metas[i]);
    free(r.metas);
    free(r.vib_levels);
    esximg_depot_free(r.d);
    if (rc && err) {
        err->code = local.code;
        err->sys_errno = local.sys_errno;
        memcpy(err->msg, local.msg, sizeof err->msg);
    }
    return rc;
}

void esximg_depot_free(struct esximg_depot *d)
{
    if (!d)
        return;
    free(d->vendor_name);
    free(d->vendor_code);
    for (size_t i = 0; i < d->meta_url_count; i++) {
        free(d->meta_urls[i].product_id);
        free(d->meta_urls[i].version);
        free(d->meta_urls[i].url);
    }
    free(d->meta_urls);
    for (size_t i = 0; i < d->vib_count; i++)
        depot_vib_clear(&d->vibs[i]);
    free(d->vibs);
    for (size_t i = 0; i < d->component_count; i++)
        depot_component_clear(&d->components[i]);
    free(d->components);
    esx_depotmeta_free(d);
    esx_warnings_free(&d->warnings);
    free(d);
}

const char *esximg_depot_kind_name(enum esximg_depot_kind k)
{
    switch (k) {
    case ESXIMG_DEPOT_PLAIN: return "plain";
    case ESXIMG_DEPOT_VMWARE: return "vmware";
    case ESXIMG_DEPOT_VFRONT: return "vfront";
    case ESXIMG_DEPOT_NESTED: return "nested";
    }
    return "unknown";
}

const char *esximg_depot_check_name(enum esximg_depot_check c)
{
    switch (c) {
    case ESXIMG_DEPOT_CHECK_NONE: return "none";
    case ESXIMG_DEPOT_CHECK_OK: return "ok";
    case ESXIMG_DEPOT_CHECK_MISMATCH: return "mismatch";
    }
    return "unknown";
}

const struct esximg_depot_vib *esximg_depot_find(const struct esximg_depot *d, const char *key)
{
    for (size_t i = 0; d && key && i < d->vib_count; i++)
        if (strcmp(d->vibs[i].vib_id, key) == 0)
            return &d->vibs[i];
    for (size_t i = 0; d && key && i < d->vib_count; i++) {
        const char *name = d->vibs[i].vib->desc->name;
        if (name && strcmp(name, key) == 0)
            return &d->vibs[i];
    }
    return NULL;
}

int esximg_depot_vib_filename(const struct esximg_depot_vib *v, char **out,
                              struct esximg_err *err)
{
    int rc = esx_path_check(v->path, "member", err);
    if (rc)
        return rc;
    if (!v->vib_id || !*v->vib_id || v->vib_id[0] == '.' || strchr(v->vib_id, '/') ||
        strchr(v->vib_id, '\\'))
        return esximg_err_set(err, ESXIMG_EUNSAFE, "vib id '%s' is not a safe file name",
                              v->vib_id ? v->vib_id : "");
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_PATH_BYTES);
    rc = esx_buf_printf(&b, err, "%s.vib", v->vib_id);
    if (rc) {
        esx_buf_free(&b);
        return rc == ESXIMG_ELIMIT
                   ? esximg_err_set(err, ESXIMG_EUNSAFE, "vib id is longer than %u bytes",
                                    ESX_MAX_PATH_BYTES)
                   : rc;
    }
    *out = esx_buf_take(&b, NULL);
    return *out ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

int esximg_depot_extract(const struct esximg_depot_vib *v, const char *dir, bool overwrite,
                         struct esximg_err *err)
{
    char *name = NULL, *path = NULL;
    int rc = esximg_depot_vib_filename(v, &name, err);
    if (rc)
        goto out;
    if (!(path = esx_path_join(dir && *dir ? dir : ".", name))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    struct stat st;
    if (!overwrite && lstat(path, &st) == 0) {
        rc = esximg_err_set(err, ESXIMG_EINVAL, "output exists");
        esximg_err_file(err, path);
        goto out;
    }
    rc = esximg_file_write(path, v->bytes, v->len, 0644, err);
out:
    free(name);
    free(path);
    return rc;
}

/* ================================================================ writing */

#define DEPOT_ZIP_MAX ((uint64_t)UINT32_MAX)   /* no zip64 */
#define DEPOT_DEFAULT_PLATFORM "5.*"

#define DEPOT_ZIP_MIN_GAIN 100u   /* deflate when it saves at least 1/100 of a member */
#define DEPOT_WCHUNK ((size_t)1 << 20)   /* a .vib is read, deflated and written by these */

/* Where the zip goes: a buffer (esximg_depot_write) or a file (esximg_depot_write_file). */
struct depot_sink {
    struct esx_buf *buf;    /* NULL: the file */
    int fd;
    const char *file;       /* the output, for messages */
    uint64_t len;           /* bytes written */
};

static int depot_sink_put(struct depot_sink *s, const void *data, size_t n,
                          struct esximg_err *err)
{
    if (n == 0)
        return 0;
    if (s->buf) {
        int rc = esx_buf_append(s->buf, data, n, err);
        if (!rc)
            s->len += n;
        return rc;
    }
    int rc = esx_pwrite_output(s->fd, s->file, data, n, s->len, err);
    if (!rc)
        s->len += n;
    return rc;
}

/* A .vib's bytes, read a chunk at a time: from memory, or from a file by pread (reading a
 * mapping through would count each of its pages in the resident size). */
struct depot_src {
    const uint8_t *mem;     /* NULL: from `path` */
    const char *path;
    uint64_t offset, len;
};

static int depot_src_open(const struct depot_src *s, int *fd, struct esximg_err *err)
{
    *fd = -1;
    if (s->mem)
        return 0;
    *fd = open(s->path, O_RDONLY | O_CLOEXEC);
    return *fd < 0 ? esximg_err_sys(err, errno, "cannot open '%s'", s->path) : 0;
}

/* How much of the source the next step takes: all of it from memory (zlib then sees the
 * input in one piece, as the writer always gave it), a chunk from a file. */
static size_t depot_src_step(const struct depot_src *s, uint64_t done)
{
    uint64_t left = s->len - done, most = s->mem ? UINT32_MAX / 2 : DEPOT_WCHUNK;
    return (size_t)(left < most ? left : most);
}

/* `n` bytes at `done`: in memory, else read into `chunk`. */
static int depot_src_read(const struct depot_src *s, int fd, uint64_t done, size_t n,
                          uint8_t *chunk, const uint8_t **out, struct esximg_err *err)
{
    if (s->mem) {
        *out = s->mem + done;
        return 0;
    }
    size_t got = 0;
    int e = esx_pread_full(fd, chunk, n, s->offset + done, &got);
    if (e)
        return esximg_err_sys(err, e, "cannot read '%s'", s->path);
    if (got != n)
        return esximg_err_set(err, ESXIMG_EIO, "'%s' ends before the %" PRIu64 " bytes of "
                              "its VIB at %" PRIu64, s->path, s->len, s->offset);
    *out = chunk;
    return 0;
}

/* Raw deflate at level 9, the zip's own. */
static int depot_deflate_start(z_stream *s, struct esximg_err *err)
{
    memset(s, 0, sizeof *s);
    if (deflateInit2(s, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return esximg_err_set(err, ESXIMG_ENOMEM, "cannot start zlib");
    return 0;
}

/* Gives `n` bytes to the stream (`last`: and ends it); what comes out goes through `out`
 * (DEPOT_WCHUNK bytes) to `sink`, or is only counted (s->total_out) when sink is NULL. */
static int depot_deflate_feed(z_stream *s, const uint8_t *in, size_t n, bool last,
                              uint8_t *out, struct depot_sink *sink, struct esximg_err *err)
{
    s->next_in = (Bytef *)(uintptr_t)in;
    s->avail_in = (uInt)n;
    for (;;) {
        s->next_out = out;
        s->avail_out = (uInt)DEPOT_WCHUNK;
        int zr = deflate(s, last ? Z_FINISH : Z_NO_FLUSH);
        if (zr == Z_STREAM_ERROR)
            return esximg_err_set(err, ESXIMG_EINVAL, "zlib could not compress the data");
        int rc = sink ? depot_sink_put(sink, out, DEPOT_WCHUNK - s->avail_out, err) : 0;
        if (rc)
            return rc;
        if (last ? zr == Z_STREAM_END : s->avail_out != 0)
            return 0;
    }
}

static int depot_deflate(const void *data, size_t len, uint8_t **out, size_t *out_len,
                         struct esximg_err *err)
{
    z_stream s;
    int rc = depot_deflate_start(&s, err);
    if (rc)
        return rc;
    uLong bound = deflateBound(&s, (uLong)len);
    uint8_t *buf = malloc(bound ? bound : 1);
    if (!buf) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    s.next_in = (Bytef *)(uintptr_t)data;
    s.avail_in = (uInt)len;
    s.next_out = buf;
    s.avail_out = (uInt)bound;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END) {
        rc = esximg_err_set(err, ESXIMG_EINVAL, "zlib could not compress the data");
        goto out;
    }
    *out = buf;
    *out_len = s.total_out;
    buf = NULL;
out:
    free(buf);
    deflateEnd(&s);
    return rc;
}

static uint32_t depot_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    for (size_t done = 0; done < len;) {
        uInt n = (uInt)(len - done > UINT32_MAX / 2 ? UINT32_MAX / 2 : len - done);
        crc = (uint32_t)crc32(crc, data + done, n);
        done += n;
    }
    return crc;
}

/* What the bundle needs of a .vib before its member is written: the sha-256 metadata.zip
 * gives, and the CRC-32 and deflated size its local header gives. */
struct depot_sum {
    char sha256[65];
    uint32_t crc;
    uint64_t packed_len;
};

/* Progress over a whole write: each .vib read once to sum it, then the zip written. */
struct depot_progress {
    const struct esximg_depot_wopts *o;
    uint64_t vib_bytes;     /* of all the .vib files */
    uint64_t summed;        /* of them read by depot_sum_src */
};

/* One pass over the source through deflate, whose output goes to `sink` or, sink NULL, is
 * only counted (s->total_out); `d` (may be NULL) and *crc take the bytes as well, and `p`
 * (may be NULL) hears of them. */
static int depot_deflate_pass(const struct depot_src *src, int fd, uint8_t *chunk, z_stream *s,
                              uint8_t *out, struct depot_sink *sink, struct esx_digest *d,
                              uint32_t *crc, struct depot_progress *p, struct esximg_err *err)
{
    int rc = 0;
    for (uint64_t done = 0; !rc;) {
        size_t n = depot_src_step(src, done);
        const uint8_t *bytes = NULL;
        bool last = done + n == src->len;
        rc = depot_src_read(src, fd, done, n, chunk, &bytes, err);
        if (!rc && d)
            rc = esx_digest_update(d, bytes, n, err);
        if (!rc && crc)
            *crc = depot_crc32(*crc, bytes, n);
        if (!rc)
            rc = depot_deflate_feed(s, bytes, n, last, out, sink, err);
        done += n;
        if (p && p->o && p->o->progress && (p->summed += n, true))
            p->o->progress(p->summed, 2 * p->vib_bytes, p->o->progress_arg);
        if (last)
            break;
    }
    return rc;
}

/* The first pass over a .vib: sha-256, CRC-32 and the deflated size (deflated into a scratch
 * buffer and counted: the zip stores a .vib unless deflating saves 1%). */
static int depot_sum_src(const struct depot_src *src, struct depot_progress *p,
                         struct depot_sum *sum, struct esximg_err *err)
{
    int fd = -1;
    struct esx_digest *d = NULL;
    z_stream s;
    bool zlib = false;
    uint8_t *chunk = src->mem ? NULL : malloc(DEPOT_WCHUNK), *out = malloc(DEPOT_WCHUNK);
    int rc = !out || (!src->mem && !chunk) ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory")
             : depot_src_open(src, &fd, err);
    if (!rc)
        rc = esx_digest_new(ESX_SHA256, &d, err);
    if (!rc && !(rc = depot_deflate_start(&s, err)))
        zlib = true;
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    if (!rc)
        rc = depot_deflate_pass(src, fd, chunk, &s, out, NULL, d, &crc, p, err);
    if (!rc)
        rc = esx_digest_final_hex(d, sum->sha256, err);
    if (!rc) {
        sum->crc = crc;
        sum->packed_len = s.total_out;
    }
    if (zlib)
        deflateEnd(&s);
    esx_digest_free(d);
    if (fd >= 0)
        close(fd);
    free(chunk);
    free(out);
    return rc;
}

/* ---- a deterministic zip: deflate (or store, when deflating saves less than 1%: a .vib
 * holds gzip'd payloads), DOS times from UTC, no extra fields */

struct depot_zipw {
    struct depot_sink *out;
    struct esx_buf central;
    size_t count;
    uint16_t dos_time, dos_date;
};

static void depot_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void depot_zipw_init(struct depot_zipw *z, struct depot_sink *out, int64_t mtime)
{
    z->out = out;
    esx_buf_init(&z->central, 0);
    z->count = 0;
    struct tm tm;
    time_t t = (time_t)mtime;
    /* DOS dates run from 1980 to 2107; times are even seconds */
    if (mtime < 315532800 || (int64_t)t != mtime || !gmtime_r(&t, &tm) || tm.tm_year > 207) {
        bool late = mtime >= 315532800;
        tm = (struct tm){ .tm_year = late ? 207 : 80, .tm_mon = late ? 11 : 0,
                          .tm_mday = late ? 31 : 1, .tm_hour = late ? 23 : 0,
                          .tm_min = late ? 59 : 0, .tm_sec = late ? 58 : 0 };
    }
    z->dos_time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    z->dos_date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

static void depot_zipw_free(struct depot_zipw *z)
{
    esx_buf_free(&z->central);
}

/* The 26 bytes shared by a local header (after its signature) and a central entry (after
 * its signature and version made by). */
static void depot_zip_common(uint8_t *p, const struct depot_zipw *z, uint16_t flags,
                             uint16_t method, uint32_t crc, uint64_t csize, uint64_t usize,
                             size_t name_len)
{
    depot_put16(p, method == 0 ? 10 : 20);  /* the version needed: 1.0 stores, 2.0 deflates */
    depot_put16(p + 2, flags);
    depot_put16(p + 4, method);
    depot_put16(p + 6, z->dos_time);
    depot_put16(p + 8, z->dos_date);
    esx_put_le32(p + 10, crc);
    esx_put_le32(p + 14, (uint32_t)csize);
    esx_put_le32(p + 18, (uint32_t)usize);
    depot_put16(p + 22, (uint16_t)name_len);
    depot_put16(p + 24, 0);
}

/* method 0 (stored) when deflating gains little, as zip does when it gains nothing: a .vib's
 * payloads are gzip'd already and only its descriptor and ar headers shrink, by far less
 * than 1%.  Stored, the bytes lie in the zip as they are, where a reader may take them by
 * offset (depotspool.c) */
static uint16_t depot_zip_method(uint64_t len, uint64_t packed_len)
{
    return packed_len < len - len / DEPOT_ZIP_MIN_GAIN ? 8 : 0;
}

/* A member's local header and name (to the sink) and central entry; its data follows.
 * ELIMIT, before anything is written, when the member would end past 4 GiB (no zip64). */
static int depot_zipw_entry(struct depot_zipw *z, const char *name, uint16_t method,
                            uint32_t crc, uint64_t csize, uint64_t usize,
                            struct esximg_err *err)
{
    size_t name_len = strlen(name);
    uint64_t end = z->out->len + 30 + name_len + csize;
    if (usize > DEPOT_ZIP_MAX || csize > DEPOT_ZIP_MAX || z->count >= 65535 ||
        name_len > 65535)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': the zip would need zip64",
                              name);
    if (end > DEPOT_ZIP_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "the zip would need zip64");
    uint16_t flags = 0;
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char)name[i] >= 0x80)
            flags = 0x0800;   /* UTF-8 name */
    uint8_t local[30], central[46];
    esx_put_le32(local, 0x04034b50);
    depot_zip_common(local + 4, z, flags, method, crc, csize, usize, name_len);
    esx_put_le32(central, 0x02014b50);
    depot_put16(central + 4, (3 << 8) | 20);            /* made on Unix, zip 2.0 */
    depot_zip_common(central + 6, z, flags, method, crc, csize, usize, name_len);
    memset(central + 32, 0, 6);                          /* comment, disk, internal attrs */
    esx_put_le32(central + 38, (uint32_t)0100644 << 16); /* -rw-r--r-- */
    esx_put_le32(central + 42, (uint32_t)z->out->len);
    int rc = depot_sink_put(z->out, local, sizeof local, err);
    if (!rc)
        rc = depot_sink_put(z->out, name, name_len, err);
    if (!rc)
        rc = esx_buf_append(&z->central, central, sizeof central, err);
    if (!rc)
        rc = esx_buf_append(&z->central, name, name_len, err);
    return rc;
}

/* A member held in memory (the metadata): deflated whole, or stored. */
static int depot_zipw_add(struct depot_zipw *z, const char *name, const void *data, size_t len,
                          struct esximg_err *err)
{
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    int rc = len > DEPOT_ZIP_MAX ? esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': the zip "
                                                  "would need zip64", name)
                                 : depot_deflate(data, len, &packed, &packed_len, err);
    if (rc)
        return rc;
    uint16_t method = depot_zip_method(len, packed_len);
    const void *stored = method == 8 ? (const void *)packed : data;
    size_t stored_len = method == 8 ? packed_len : len;
    uint32_t crc = depot_crc32((uint32_t)crc32(0L, Z_NULL, 0), data, len);
    rc = depot_zipw_entry(z, name, method, crc, stored_len, len, err);
    if (!rc)
        rc = depot_sink_put(z->out, stored, stored_len, err);
    free(packed);
    if (!rc)
        z->count++;
    return rc;
}

/* The source's bytes as they are: by the kernel from file to file (esx_copy_range), else
 * a chunk at a time. */
static int depot_copy_src(struct depot_sink *sink, const struct depot_src *src, int fd,
                          uint8_t *chunk, struct esximg_err *err)
{
    if (!src->mem && !sink->buf) {
        uint64_t got = 0;
        bool reading = false;
        int e = esx_copy_range(fd, src->offset, sink->fd, sink->len, src->len, &got, &reading);
        if (e && reading)
            return esximg_err_sys(err, e, "cannot read '%s'", src->path);
        if (e) {
            int rc = esximg_err_sys(err, e, "cannot write the output");
            esximg_err_file(err, sink->file);
            return rc;
        }
        sink->len += got;
        return 0;   /* a short copy: the caller finds the member short */
    }
    int rc = 0;
    for (uint64_t done = 0; !rc && done < src->len;) {
        size_t n = depot_src_step(src, done);
        const uint8_t *bytes = NULL;
        rc = depot_src_read(src, fd, done, n, chunk, &bytes, err);
        if (!rc)
            rc = depot_sink_put(sink, bytes, n, err);
        done += n;
    }
    return rc;
}

/* The source deflated again, now to the sink. */
static int depot_deflate_src(struct depot_sink *sink, const struct depot_src *src, int fd,
                             uint8_t *chunk, struct esximg_err *err)
{
    z_stream s;
    uint8_t *out = malloc(DEPOT_WCHUNK);
    int rc = out ? depot_deflate_start(&s, err)
                 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc) {
        rc = depot_deflate_pass(src, fd, chunk, &s, out, sink, NULL, NULL, NULL, err);
        deflateEnd(&s);
    }
    free(out);
    return rc;
}

/* A .vib member, summed before (depot_sum_src): its header, then its bytes copied or
 * deflated again from the source, never held whole. */
static int depot_zipw_add_src(struct depot_zipw *z, const char *name,
                              const struct depot_src *src, const struct depot_sum *sum,
                              struct esximg_err *err)
{
    uint16_t method = depot_zip_method(src->len, sum->packed_len);
    uint64_t csize = method == 8 ? sum->packed_len : src->len;
    int fd = -1;
    uint8_t *chunk = src->mem ? NULL : malloc(DEPOT_WCHUNK);
    int rc = !src->mem && !chunk ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory")
                                 : depot_zipw_entry(z, name, method, sum->crc, csize,
                                                    src->len, err);
    uint64_t start = z->out->len;
    if (!rc)
        rc = depot_src_open(src, &fd, err);
    if (!rc)
        rc = method == 8 ? depot_deflate_src(z->out, src, fd, chunk, err)
                         : depot_copy_src(z->out, src, fd, chunk, err);
    /* the header is written: what follows must be what it says */
    if (!rc && z->out->len - start != csize)
        rc = esximg_err_set(err, ESXIMG_EIO, "member '%s': %" PRIu64 " bytes written, not "
                            "%" PRIu64 ": did '%s' change while the bundle was written?", name,
                            z->out->len - start, csize, src->path ? src->path : "the VIB");
    if (fd >= 0)
        close(fd);
    free(chunk);
    if (!rc)
        z->count++;
    return rc;
}

/* The central directory and its end, after the members. */
static int depot_zipw_finish(struct depot_zipw *z, struct esximg_err *err)
{
    uint8_t end[22];
    if (z->out->len + z->central.len > DEPOT_ZIP_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "the zip would need zip64");
    esx_put_le32(end, 0x06054b50);
    depot_put16(end + 4, 0);
    depot_put16(end + 6, 0);
    depot_put16(end + 8, (uint16_t)z->count);
    depot_put16(end + 10, (uint16_t)z->count);
    esx_put_le32(end + 12, (uint32_t)z->central.len);
    esx_put_le32(end + 16, (uint32_t)z->out->len);
    depot_put16(end + 20, 0);
    int rc = depot_sink_put(z->out, z->central.data ? z->central.data : "", z->central.len,
                            err);
    if (!rc)
        rc = depot_sink_put(z->out, end, sizeof end, err);
    return rc;
}

/* ---- the members, collected then written sorted */

struct depot_wmember {
    char *name;
    uint8_t *data;        /* owned, or NULL when `borrowed` */
    const void *borrowed;
    size_t len;
    const struct depot_src *src;    /* a .vib, read from here (with its sum): else data */
    const struct depot_sum *sum;
};

struct depot_wlist {
    struct depot_wmember *m;
    size_t count, cap;
};

static void depot_wlist_free(struct depot_wlist *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->m[i].name);
        free(l->m[i].data);
    }
    free(l->m);
}

/* Adds a member; takes `name` and `data` (freed on failure too). */
static int depot_wlist_take(struct depot_wlist *l, char *name, uint8_t *data,
                            const void *borrowed, size_t len, struct esximg_err *err)
{
    int rc = name ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc)
        rc = depot_grow((void **)&l->m, &l->cap, l->count, sizeof *l->m, err);
    if (rc) {
        free(name);
        free(data);
        return rc;
    }
    l->m[l->count++] = (struct depot_wmember){ name, data, borrowed, len, NULL, NULL };
    return 0;
}

static int depot_wmember_cmp(const void *a, const void *b)
{
    return strcmp(((const struct depot_wmember *)a)->name,
                  ((const struct depot_wmember *)b)->name);
}

/* Reports a member written to the callbacks of `o` (NULL: none). */
static void depot_wreport(const struct esximg_depot_wopts *o, const struct depot_wmember *m,
                          uint64_t done, uint64_t total)
{
    if (!o)
        return;
    if (o->note) {
        char msg[1200];
        snprintf(msg, sizeof msg, "member '%s' written (%zu bytes)", m->name, m->len);
        o->note(msg, o->note_arg);
    }
    if (o->progress)
        o->progress(done, total, o->progress_arg);
}

/* The zip of the members, to `sink`; the callbacks of `p` (NULL: none) hear of each. */
static int depot_wlist_zip(struct depot_wlist *l, int64_t mtime, const struct depot_progress *p,
                           struct depot_sink *sink, struct esximg_err *err)
{
    const struct esximg_depot_wopts *report = p ? p->o : NULL;
    struct depot_zipw z;
    depot_zipw_init(&z, sink, mtime);
    if (l->count)
        qsort(l->m, l->count, sizeof *l->m, depot_wmember_cmp);
    /* the .vib files were read once to sum them: that was the first half */
    uint64_t total = p ? p->vib_bytes : 0, done = total;
    for (size_t i = 0; i < l->count; i++)
        total += l->m[i].len;   /* sizes of buffers and files: no overflow */
    if (report && report->progress)
        report->progress(done, total, report->progress_arg);
    int rc = 0;
    for (size_t i = 0; i < l->count && !rc; i++) {
        const struct depot_wmember *m = &l->m[i];
        if (i > 0 && strcmp(l->m[i - 1].name, m->name) == 0)
            rc = esximg_err_set(err, ESXIMG_EINVAL, "member '%s' twice", m->name);
        else if (m->src)
            rc = depot_zipw_add_src(&z, m->name, m->src, m->sum, err);
        else
            rc = depot_zipw_add(&z, m->name, m->data ? (const void *)m->data : m->borrowed,
                                m->len, err);
        done += m->len;
        if (!rc)
            depot_wreport(report, m, done, total);
    }
    if (!rc)
        rc = depot_zipw_finish(&z, err);
    depot_zipw_free(&z);
    return rc;
}

/* ---- XML */

/* our own metadata: '"' escaped in text too, white space kept */
static const struct esx_xml_flavour *const depot_xml = &esx_xml_depot;

/* "<indent><tag>text</tag>\n" */
static int depot_put_elem(struct esx_buf *b, int indent, const char *tag, const char *text,
                          struct esximg_err *err)
{
    int rc = esx_buf_printf(b, err, "%*s<%s>", indent, "", tag);
    if (!rc)
        rc = esx_xml_put_text(b, depot_xml, text, err);
    if (!rc)
        rc = esx_buf_printf(b, err, "</%s>\n", tag);
    return rc;
}

static int depot_index_xml(const char *name, const char *code, struct esx_buf *b,
                           struct esximg_err *err)
{
    int rc = esx_buf_puts(b, "<vendorList>\n  <vendor>\n", err);
    if (!rc)
        rc = depot_put_elem(b, 4, "name", name, err);
    if (!rc)
        rc = depot_put_elem(b, 4, "code", code, err);
    if (!rc)
        rc = esx_buf_puts(b, "    <indexfile>vendor-index.xml</indexfile>\n"
                          "    <patchUrl></patchUrl>\n"
                          "    <relativePath></relativePath>\n"
                          "    <content>\n"
                          "      <name>VMware ESX</name>\n"
                          "      <type>http://www.vmware.com/depotmanagement/esx</type>\n"
                          "    </content>\n"
                          "  </vendor>\n"
                          "</vendorList>\n", err);
    return rc;
}

static int depot_vendor_index_xml(const char *platform, struct esx_buf *b,
                                  struct esximg_err *err)
{
    int rc = esx_buf_puts(b, "<metaList>\n  <metadata>\n"
                          "    <productId>embeddedEsx</productId>\n", err);
    if (!rc)
        rc = depot_put_elem(b, 4, "version", platform, err);
    if (!rc)
        rc = esx_buf_puts(b, "    <locale></locale>\n"
                          "    <url>metadata.zip</url>\n"
                          "    <channelName>default</channelName>\n"
                          "  </metadata>\n"
                          "</metaList>\n", err);
    return rc;
}

/* ---- one VIB of the bundle */

struct depot_wvib {
    struct esximg_vib *vib;     /* parsed from `bytes` */
    const uint8_t *bytes;       /* given, or `map` */
    size_t len;
    void *map;                  /* our own read-only mapping of a file's range, else NULL */
    size_t map_len;
    struct depot_src src;       /* where its bytes are read to sum, copy and deflate */
    struct depot_sum sum;
    char *vib_id;
    char *path;             /* vib20/<name>/<vib-id>.vib */
    char *meta_name;        /* vibs/<name>-<n>.xml */
};

static void depot_wvibs_free(struct depot_wvib *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        esximg_vib_free(v[i].vib);
        if (v[i].map)
            munmap(v[i].map, v[i].map_len);
        free(v[i].vib_id);
        free(v[i].path);
        free(v[i].meta_name);
    }
    free(v);
}

static bool depot_safe_part(const char *s)
{
    return s && *s && s[0] != '.' && !strchr(s, '/') && !strchr(s, '\\');
}

/* The range of a file an input names: checked to lie in it, and mapped read-only when the
 * caller gave no bytes (esximg_vib_read then touches the pages of the ar headers and the
 * descriptor only). */
static int depot_wvib_map(struct depot_wvib *w, const struct esximg_depot_input *in,
                          struct esximg_err *err)
{
    struct stat st;
    int fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esximg_err_sys(err, errno, "cannot open '%s'", in->path);
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = esximg_err_sys(err, errno, "cannot stat '%s'", in->path);
    else if (!S_ISREG(st.st_mode) || in->offset > (uint64_t)st.st_size ||
             in->len > (uint64_t)st.st_size - in->offset)
        rc = esximg_err_set(err, ESXIMG_EINVAL, "'%s' holds no %zu bytes at %" PRIu64,
                            in->path, in->len, in->offset);
    else if (in->len == 0)
        w->bytes = (const uint8_t *)"";
    else if (in->data)
        w->bytes = in->data;
    else {
        size_t page = (size_t)sysconf(_SC_PAGESIZE), slack = (size_t)(in->offset % page);
        if (in->len > SIZE_MAX - slack)
            rc = esximg_err_set(err, ESXIMG_ELIMIT, "%zu bytes cannot be mapped", in->len);
        void *map = rc ? MAP_FAILED : mmap(NULL, in->len + slack, PROT_READ, MAP_PRIVATE, fd,
                                           (off_t)(in->offset - slack));
        if (!rc && map == MAP_FAILED)
            rc = esximg_err_sys(err, errno, "cannot map '%s'", in->path);
        if (!rc) {
            w->map = map;
            w->map_len = in->len + slack;
            w->bytes = (const uint8_t *)map + slack;
        }
    }
    close(fd);
    return rc;
}

static int depot_wvib_open(struct depot_wvib *w, const struct esximg_depot_input *in,
                           struct depot_progress *p, struct esximg_err *err)
{
    w->len = in->len;
    w->bytes = in->data;
    w->src = (struct depot_src){ .mem = in->path ? NULL : in->data, .path = in->path,
                                 .offset = in->offset, .len = in->len };
    int rc = in->path ? depot_wvib_map(w, in, err) : 0;
    if (!rc)
        rc = esximg_vib_read(w->bytes, w->len, &w->vib, err);
    if (rc)
        return rc;
    const struct esximg_descriptor *d = w->vib->desc;
    if (!(w->vib_id = esximg_descriptor_vib_id(d)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!depot_safe_part(d->name) || !depot_safe_part(w->vib_id))
        return esximg_err_set(err, ESXIMG_EUNSAFE, "vib id '%s' is not a safe file name",
                              w->vib_id);
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_PATH_BYTES);
    rc = esx_buf_printf(&b, err, "vib20/%s/%s.vib", d->name, w->vib_id);
    w->path = esx_buf_take(&b, NULL);
    if (rc || !w->path)
        return rc ? rc : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return depot_sum_src(&w->src, p, &w->sum, err);
}

/* vibs/<name>-<n>.xml: the descriptor's bytes with the three depot elements before </vib> */
static int depot_meta_vib_xml(const struct depot_wvib *w, uint8_t **out, size_t *out_len,
                              struct esximg_err *err)
{
    const char *xml = (const char *)w->vib->descriptor_bytes;
    size_t len = w->vib->descriptor_len, close = len;
    static const char tail[] = "</vib>";
    const size_t tail_len = sizeof tail - 1;
    while (close >= tail_len && memcmp(xml + close - tail_len, tail, tail_len) != 0)
        close--;
    if (close < tail_len)
        return esximg_err_set(err, ESXIMG_EFORMAT, "descriptor has no '</vib>'");
    close -= tail_len;
    struct esx_buf b;
    esx_buf_init(&b, 0);
    int rc = esx_buf_append(&b, xml, close, err);
    if (!rc)
        rc = esx_buf_puts(&b, "<relative-path>", err);
    if (!rc)
        rc = esx_xml_put_text(&b, depot_xml, w->path, err);
    if (!rc)
        rc = esx_buf_printf(&b, err, "</relative-path><packed-size>%zu</packed-size>"
                            "<checksum checksum-type=\"sha-256\">%s</checksum>", w->len,
                            w->sum.sha256);
    if (!rc)
        rc = esx_buf_append(&b, xml + close, len - close, err);
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    *out = (uint8_t *)esx_buf_take(&b, out_len);
    return *out ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

/* ---- bulletins */

/* One component of the bundle: its bulletin, the VIBs it lists (indexes into the context's
 * VIBs, in its order) and, for one given whole, the bytes to write as bulletins/<id>.xml. */
struct depot_wbulletin {
    struct esximg_bulletin *b;
    size_t *vibs;
    size_t vib_count;
    const void *xml;        /* NULL: written from b */
    size_t xml_len;
};

struct depot_wctx {
    const struct esximg_depot_wopts *o;
    struct depot_wvib *vibs;
    size_t vib_count;
    char date[48];          /* the mtime as a date */
    struct depot_wbulletin *bulletins;
    size_t bulletin_count;
    struct depot_progress progress;
};

/* A component made for VIBs (indexes `vibs`): named after the first, or as the options say. */
static int depot_bulletin(struct depot_wctx *c, const size_t *vibs, size_t count,
                          struct esximg_bulletin **out, struct esximg_err *err)
{
    const struct esximg_descriptor *d = c->vibs[vibs[0]].vib->desc;
    const struct esximg_depot_wopts *o = c->o;
    struct esximg_bulletin_spec spec = {
        .component_name = o->component_name ? o->component_name : d->name,
        .version = o->component_name ? o->component_version : d->version,
        .vendor = o->vendor_name ? o->vendor_name : d->vendor,
        .summary = d->summary,
        .description = d->description,
        .release_date = o->release_date ? o->release_date
                        : d->release_date ? d->release_date : c->date,
        .platform_version = o->platform_version ? o->platform_version
                            : DEPOT_DEFAULT_PLATFORM,
        .vib_id = c->vibs[vibs[0]].vib_id,
    };
    struct esximg_bulletin *b = NULL;
    int rc = esximg_bulletin_new(&spec, &b, err);
    for (size_t i = 1; i < count && !rc; i++) {
        char **grown = esx_realloc_array(b->vib_ids, b->vib_count + 1, sizeof *grown);
        if (!grown || !(grown[b->vib_count] = esx_strdup(c->vibs[vibs[i]].vib_id))) {
            if (grown)
                b->vib_ids = grown;
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        b->vib_ids = grown;
        b->vib_count++;
    }
    if (rc) {
        esximg_bulletin_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static int depot_put_constraints(struct esx_buf *b, const char *name, const char *item,
                                 const struct esximg_constraint_list *l, struct esximg_err *err)
{
    if (l->count == 0)
        return esx_buf_printf(b, err, "          <%s/>\n", name);
    int rc = esx_buf_printf(b, err, "          <%s>\n", name);
    for (size_t i = 0; i < l->count && !rc; i++) {
        rc = esx_buf_printf(b, err, "            <%s name=\"", item);
        if (!rc)
            rc = esx_xml_put_attr_value(b, depot_xml, l->items[i].name, err);
        if (!rc && l->items[i].relation) {
            rc = esx_buf_puts(b, "\" relation=\"", err);
            if (!rc)
                rc = esx_xml_put_attr_value(b, depot_xml, l->items[i].relation, err);
        }
        if (!rc && l->items[i].version) {
            rc = esx_buf_puts(b, "\" version=\"", err);
            if (!rc)
                rc = esx_xml_put_attr_value(b, depot_xml, l->items[i].version, err);
        }
        if (!rc)
            rc = esx_buf_puts(b, "\"/>\n", err);
    }
    if (!rc)
        rc = esx_buf_printf(b, err, "          </%s>\n", name);
    return rc;
}

/* One <vib> of a vmware.xml bulletin's vibList, in the layout of VMware's own. */
static int depot_put_vmware_vib(struct esx_buf *b, const struct depot_wvib *w,
                                const char *platform, struct esximg_err *err)
{
    const struct esximg_descriptor *d = w->vib->desc;
    int rc = esx_buf_puts(b, "      <vib>\n", err);
    const struct { const char *tag, *text; } items[] = {
        { "vibID", w->vib_id }, { "name", d->name }, { "version", d->version },
        { "vendor", d->vendor }, { "vibType", d->type }, { "summary", d->summary },
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0] && !rc; i++)
        rc = depot_put_elem(b, 8, items[i].tag, items[i].text ? items[i].text : "", err);
    if (!rc)
        rc = esx_buf_printf(b, err, "        <systemReqs>\n          <maintenanceMode>%s"
                            "</maintenanceMode>\n          <swPlatform locale=\"\" version=\"",
                            d->maintenance_mode ? "true" : "false");
    if (!rc)
        rc = esx_xml_put_attr_value(b, depot_xml, platform, err);
    if (!rc)
        rc = esx_buf_puts(b, "\" productLineID=\"embeddedEsx\"/>\n        </systemReqs>\n"
                          "        <relationships>\n", err);
    const struct esximg_constraint_list *lists[] = { &d->depends, &d->conflicts, &d->replaces,
                                                     &d->provides, &d->compatible_with };
    static const char *const names[] = { "depends", "conflicts", "replaces", "provides",
                                         "compatibleWith" };
    for (size_t i = 0; i < 5 && !rc; i++)
        rc = depot_put_constraints(b, names[i], i == 3 ? "provide" : "constraint", lists[i],
                                   err);
    if (!rc)
        rc = esx_buf_printf(b, err, "        </relationships>\n        <postInstall>\n"
                            "          <rebootRequired>%s</rebootRequired>\n"
                            "          <hostdRestart>false</hostdRestart>\n"
                            "        </postInstall>\n        <softwareTags>\n",
                            d->live_install_allowed ? "false" : "true");
    for (size_t i = 0; i < d->tag_count && !rc; i++)
        rc = depot_put_elem(b, 10, "tag", d->tags[i], err);
    if (!rc)
        rc = esx_buf_puts(b, "        </softwareTags>\n        <vibFile>\n"
                          "          <sourceUrl></sourceUrl>\n", err);
    if (!rc)
        rc = depot_put_elem(b, 10, "relativePath", w->path, err);
    if (!rc)
        rc = esx_buf_printf(b, err, "          <packedSize>%zu</packedSize>\n"
                            "          <checksum>\n"
                            "            <checksumType>sha-256</checksumType>\n"
                            "            <checksum>%s</checksum>\n"
                            "          </checksum>\n        </vibFile>\n      </vib>\n",
                            w->len, w->sum.sha256);
    return rc;
}

static int depot_put_vmware_bulletin(struct esx_buf *b, const struct depot_wctx *c,
                                     const struct depot_wbulletin *wb, struct esximg_err *err)
{
    const struct esximg_bulletin *bl = wb->b;
    const struct { const char *tag, *text; } head[] = {
        { "id", bl->id }, { "vendor", bl->vendor }, { "summary", bl->summary },
        { "severity", bl->severity }, { "category", bl->category },
        { "urgency", bl->urgency }, { "releaseType", bl->release_type },
        { "description", bl->description },
    };
    int rc = esx_buf_puts(b, "  <bulletin>\n", err);
    for (size_t i = 0; i < sizeof head / sizeof head[0] && !rc; i++)
        if (head[i].text)
            rc = depot_put_elem(b, 4, head[i].tag, head[i].text, err);
    /* a component given whole keeps its own platform, as its bulletins/ copy does */
    const char *platform = wb->xml && bl->platform_count && bl->platforms[0].version
                           ? bl->platforms[0].version
                           : c->o->platform_version ? c->o->platform_version
                                                    : DEPOT_DEFAULT_PLATFORM;
    if (!rc && bl->has_name_spec) {
        rc = esx_buf_puts(b, "    <componentNameSpec name=\"", err);
        if (!rc)
            rc = esx_xml_put_attr_value(b, depot_xml, bl->component_name, err);
        if (!rc)
            rc = esx_buf_puts(b, "\" uiString=\"", err);
        if (!rc)
            rc = esx_xml_put_attr_value(b, depot_xml, bl->component_ui_name, err);
        if (!rc)
            rc = esx_buf_puts(b, "\"/>\n    <componentVersionSpec version=\"", err);
        if (!rc)
            rc = esx_xml_put_attr_value(b, depot_xml, bl->component_version, err);
        if (!rc)
            rc = esx_buf_puts(b, "\" uiString=\"", err);
        if (!rc)
            rc = esx_xml_put_attr_value(b, depot_xml, bl->component_ui_version, err);
        if (!rc)
            rc = esx_buf_puts(b, "\"/>\n", err);
    }
    if (!rc)
        rc = depot_put_elem(b, 4, "releaseDate", bl->release_date, err);
    if (!rc)
        rc = esx_buf_puts(b, "    <platforms>\n      <softwarePlatform locale=\"\" version=\"",
                          err);
    if (!rc)
        rc = esx_xml_put_attr_value(b, depot_xml, platform, err);
    if (!rc)
        rc = esx_buf_puts(b, "\" productLineID=\"embeddedEsx\"/>\n    </platforms>\n"
                          "    <vibList>\n", err);
    for (size_t i = 0; i < wb->vib_count && !rc; i++)
        rc = depot_put_vmware_vib(b, &c->vibs[wb->vibs[i]], platform, err);
    if (!rc)
        rc = esx_buf_puts(b, "    </vibList>\n  </bulletin>\n", err);
    return rc;
}

/* ---- the metadata zip */

static int depot_metadata(struct depot_wctx *c, const uint8_t *vendor_index,
                          size_t vendor_index_len, uint8_t **out, size_t *out_len,
                          struct esximg_err *err)
{
    struct depot_wlist l = { NULL, 0, 0 };
    struct esx_buf vm;
    esx_buf_init(&vm, 0);
    char stamp[48];
    int rc = esximg_vibauthor_format_date(c->o->mtime, stamp, sizeof stamp, err);
    if (!rc) {
        stamp[26] = '\0';   /* VMware's timestamp has no zone */
        rc = esx_buf_printf(&vm, err, "<metadataResponse>\n  <version>3.0</version>\n"
                            "  <timestamp>%s</timestamp>\n", stamp);
    }
    for (size_t i = 0; i < c->bulletin_count && !rc; i++) {
        const struct depot_wbulletin *wb = &c->bulletins[i];
        rc = depot_put_vmware_bulletin(&vm, c, wb, err);
        char *xml = NULL, *name = NULL;
        size_t xml_len = 0;
        if (!rc && !wb->xml)
            rc = esximg_bulletin_write(wb->b, &xml, &xml_len, err);
        if (!rc) {
            struct esx_buf nb;
            esx_buf_init(&nb, ESX_MAX_PATH_BYTES);
            rc = esx_buf_printf(&nb, err, "bulletins/%s.xml", wb->b->id);
            name = esx_buf_take(&nb, NULL);
            if (rc) {
                free(name);
                free(xml);
            } else if (wb->xml) {
                rc = depot_wlist_take(&l, name, NULL, wb->xml, wb->xml_len, err);
            } else {
                rc = depot_wlist_take(&l, name, (uint8_t *)xml, NULL, xml_len, err);
            }
        }
    }
    for (size_t i = 0; i < c->o->metadata_count && !rc; i++) {
        const struct esximg_depot_member *m = &c->o->metadata[i];
        rc = depot_wlist_take(&l, esx_strdup(m->name), NULL, m->data, m->len, err);
    }
    for (size_t i = 0; i < c->vib_count && !rc; i++) {
        uint8_t *xml = NULL;
        size_t xml_len = 0;
        rc = depot_meta_vib_xml(&c->vibs[i], &xml, &xml_len, err);
        if (!rc)
            rc = depot_wlist_take(&l, depot_join("vibs", c->vibs[i].meta_name), xml, NULL,
                                  xml_len, err);
    }
    if (!rc)
        rc = esx_buf_puts(&vm, "</metadataResponse>\n", err);
    if (!rc) {
        size_t vm_len = 0;
        char *vm_data = esx_buf_take(&vm, &vm_len);
        rc = depot_wlist_take(&l, esx_strdup("vmware.xml"), (uint8_t *)vm_data, NULL, vm_len,
                              err);
    }
    if (!rc)
        rc = depot_wlist_take(&l, esx_strdup("vendor-index.xml"), NULL, vendor_index,
                              vendor_index_len, err);
    struct esx_buf zip;
    esx_buf_init(&zip, 0);
    struct depot_sink sink = { .buf = &zip };
    if (!rc)
        rc = depot_wlist_zip(&l, c->o->mtime, NULL, &sink, err);
    if (!rc && !(*out = (uint8_t *)esx_buf_take(&zip, out_len)))
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    esx_buf_free(&zip);
    esx_buf_free(&vm);
    depot_wlist_free(&l);
    return rc;
}

/* ---- putting it together */

static int depot_wopen_all(struct depot_wctx *c, const struct esximg_depot_input *vibs,
                           struct esximg_err *err)
{
    const char **used = esx_malloc_array(c->vib_count, sizeof *used);
    if (!used)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < c->vib_count && !rc; i++) {
        struct depot_wvib *w = &c->vibs[i];
        rc = depot_wvib_open(w, &vibs[i], &c->progress, err);
        if (rc) {
            esximg_err_prefix(err, "vib %zu: ", i + 1);
            break;
        }
        for (size_t k = 0; k < i && !rc; k++)
            if (strcmp(c->vibs[k].vib_id, w->vib_id) == 0)
                rc = esximg_err_set(err, ESXIMG_EINVAL, "vib '%s' is given twice", w->vib_id);
        if (!rc)
            rc = esximg_modname_vib_xml64(w->vib->desc->name, w->vib_id, used, i,
                                          &w->meta_name, err);
        used[i] = w->meta_name;
    }
    free(used);
    return rc;
}

/* Appends a component; takes b and vibs (freed on failure too). */
static int depot_wbulletin_take(struct depot_wctx *c, struct esximg_bulletin *b, size_t *vibs,
                                size_t count, const void *xml, size_t xml_len,
                                struct esximg_err *err)
{
    struct depot_wbulletin *grown = esx_realloc_array(c->bulletins, c->bulletin_count + 1,
                                                      sizeof *grown);
    if (!grown) {
        esximg_bulletin_free(b);
        free(vibs);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    c->bulletins = grown;
    grown[c->bulletin_count++] = (struct depot_wbulletin){b, vibs, count, xml, xml_len};
    return 0;
}

static bool depot_vib_index(const struct depot_wctx *c, const char *vib_id, size_t *at)
{
    for (size_t i = 0; i < c->vib_count; i++)
        if (strcmp(c->vibs[i].vib_id, vib_id) == 0) {
            *at = i;
            return true;
        }
    return false;
}

/* The components given whole whose VIBs are all in the bundle; covered[i] for their VIBs. */
static int depot_given_bulletins(struct depot_wctx *c, bool *covered, struct esximg_err *err)
{
    for (size_t k = 0; k < c->o->component_doc_count; k++) {
        const struct esximg_depot_member *doc = &c->o->component_docs[k];
        struct esximg_bulletin *b = NULL;
        int rc = esximg_bulletin_read(doc->data, doc->len, &b, err);
        if (rc) {
            esximg_err_prefix(err, "component '%s': ", doc->name ? doc->name : "?");
            return rc;
        }
        size_t *vibs = esx_malloc_array(b->vib_count ? b->vib_count : 1, sizeof *vibs);
        bool all = vibs && b->vib_count > 0;
        for (size_t j = 0; all && j < b->vib_count; j++)
            all = depot_vib_index(c, b->vib_ids[j], &vibs[j]);
        if (!all) {
            esximg_bulletin_free(b);
            free(vibs);
            if (!vibs)
                return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            continue;
        }
        for (size_t j = 0; j < b->vib_count; j++)
            covered[vibs[j]] = true;
        if ((rc = depot_wbulletin_take(c, b, vibs, b->vib_count, doc->data, doc->len, err)))
            return rc;
    }
    return 0;
}

/* The components of the bundle: those given whole, then for the VIBs none of them lists one
 * component (component_name) or one each. */
static int depot_wbulletins(struct depot_wctx *c, struct esximg_err *err)
{
    bool *covered = calloc(c->vib_count, sizeof *covered);
    size_t *rest = esx_malloc_array(c->vib_count, sizeof *rest);
    size_t rest_count = 0;
    int rc = covered && rest ? depot_given_bulletins(c, covered, err)
                             : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < c->vib_count; i++)
        if (!covered[i])
            rest[rest_count++] = i;
    bool one = c->o->component_name != NULL;
    for (size_t i = 0; !rc && i < rest_count; i += one ? rest_count : 1) {
        size_t n = one ? rest_count : 1;
        size_t *vibs = esx_malloc_array(n, sizeof *vibs);
        struct esximg_bulletin *b = NULL;
        if (!vibs) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        memcpy(vibs, rest + i, n * sizeof *vibs);
        rc = depot_bulletin(c, vibs, n, &b, err);
        if (rc)
            free(vibs);
        else
            rc = depot_wbulletin_take(c, b, vibs, n, NULL, 0, err);
    }
    free(covered);
    free(rest);
    for (size_t i = 0; i < c->bulletin_count && !rc; i++)
        for (size_t k = 0; k < i && !rc; k++)
            if (strcmp(c->bulletins[i].b->id, c->bulletins[k].b->id) == 0)
                rc = esximg_err_set(err, ESXIMG_EINVAL, "component '%s' twice: give "
                                    "--component or VIBs of different names",
                                    c->bulletins[i].b->id);
    return rc;
}

static int depot_wassemble(struct depot_wctx *c, struct depot_sink *sink,
                           struct esximg_err *err)
{
    const struct esximg_descriptor *d0 = c->vibs[0].vib->desc;
    const char *vname = c->o->vendor_name ? c->o->vendor_name : d0->vendor;
    const char *vcode = c->o->vendor_code ? c->o->vendor_code : d0->vendor;
    struct esx_buf index, vindex;
    esx_buf_init(&index, 0);
    esx_buf_init(&vindex, 0);
    struct depot_wlist l = { NULL, 0, 0 };
    uint8_t *meta = NULL;
    size_t meta_len = 0;
    int rc = depot_index_xml(vname, vcode, &index, err);
    if (!rc)
        rc = depot_vendor_index_xml(c->o->platform_version ? c->o->platform_version
                                    : DEPOT_DEFAULT_PLATFORM, &vindex, err);
    if (!rc)
        rc = depot_metadata(c, (const uint8_t *)vindex.data, vindex.len, &meta, &meta_len,
                            err);
    if (!rc)
        rc = depot_wlist_take(&l, esx_strdup("metadata.zip"), meta, NULL, meta_len, err);
    if (!rc)
        rc = depot_wlist_take(&l, esx_strdup("index.xml"), NULL, index.data, index.len, err);
    if (!rc)
        rc = depot_wlist_take(&l, esx_strdup("vendor-index.xml"), NULL, vindex.data,
                              vindex.len, err);
    for (size_t i = 0; i < c->vib_count && !rc; i++) {
        rc = depot_wlist_take(&l, esx_strdup(c->vibs[i].path), NULL, NULL, c->vibs[i].len,
                              err);
        if (!rc) {
            l.m[l.count - 1].src = &c->vibs[i].src;
            l.m[l.count - 1].sum = &c->vibs[i].sum;
        }
    }
    if (!rc)
        rc = depot_wlist_zip(&l, c->o->mtime, &c->progress, sink, err);
    depot_wlist_free(&l);
    esx_buf_free(&index);
    esx_buf_free(&vindex);
    return rc;
}

/* A metadata member the writer takes as given: one safe file in a folder of metadata the
 * reader understands (depotmeta.c). */
static bool depot_metadata_name_ok(const char *name)
{
    static const char *const folders[] = { "profiles/", "baseimages/", "addons/",
                                           "manifests/" };
    for (size_t i = 0; name && i < sizeof folders / sizeof folders[0]; i++) {
        size_t n = strlen(folders[i]);
        if (strncmp(name, folders[i], n) == 0)
            return depot_safe_part(name + n) && strlen(name) < ESX_MAX_PATH_BYTES;
    }
    return false;
}

static void depot_wctx_free(struct depot_wctx *c)
{
    for (size_t i = 0; i < c->bulletin_count; i++) {
        esximg_bulletin_free(c->bulletins[i].b);
        free(c->bulletins[i].vibs);
    }
    free(c->bulletins);
    depot_wvibs_free(c->vibs, c->vib_count);
}

/* Everything but the zip: the options checked, each VIB read and summed, the components
 * made.  The caller frees c (depot_wctx_free), even on failure. */
static int depot_wprepare(struct depot_wctx *c, const struct esximg_depot_input *vibs,
                          size_t vib_count, const struct esximg_depot_wopts *opts,
                          struct esximg_err *err)
{
    static const struct esximg_depot_wopts defaults = { 0 };
    *c = (struct depot_wctx){ .o = opts ? opts : &defaults };
    c->progress.o = c->o;
    if (!vibs || vib_count == 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "no VIB to put in the bundle");
    if ((c->o->component_name == NULL) != (c->o->component_version == NULL))
        return esximg_err_set(err, ESXIMG_EINVAL, "a component needs a name and a version");
    for (size_t i = 0; i < c->o->metadata_count; i++)
        if (!depot_metadata_name_ok(c->o->metadata[i].name))
            return esximg_err_set(err, ESXIMG_EINVAL, "metadata member '%s' is not "
                                  "profiles/, baseimages/, addons/ or manifests/<file>",
                                  c->o->metadata[i].name ? c->o->metadata[i].name : "");
    int rc = esximg_vibauthor_format_date(c->o->mtime, c->date, sizeof c->date, err);
    if (rc)
        return rc;
    if (!(c->vibs = esx_malloc_array(vib_count, sizeof *c->vibs)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    c->vib_count = vib_count;
    for (size_t i = 0; i < vib_count; i++)
        c->progress.vib_bytes += vibs[i].len;
    rc = depot_wopen_all(c, vibs, err);
    if (!rc)
        rc = depot_wbulletins(c, err);
    return rc;
}

int esximg_depot_write(const struct esximg_depot_input *vibs, size_t vib_count,
                       const struct esximg_depot_wopts *opts, uint8_t **out, size_t *out_len,
                       struct esximg_err *err)
{
    struct depot_wctx c;
    struct esx_buf zip;
    esx_buf_init(&zip, 0);
    struct depot_sink sink = { .buf = &zip };
    int rc = depot_wprepare(&c, vibs, vib_count, opts, err);
    if (!rc)
        rc = depot_wassemble(&c, &sink, err);
    if (!rc && !(*out = (uint8_t *)esx_buf_take(&zip, out_len)))
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    esx_buf_free(&zip);
    depot_wctx_free(&c);
    return rc;
}

int esximg_depot_write_file(const struct esximg_depot_input *vibs, size_t vib_count,
                            const struct esximg_depot_wopts *opts, const char *path,
                            unsigned mode, struct esximg_err *err)
{
    struct depot_wctx c;
    struct esximg_outfile *of = NULL;
    int rc = depot_wprepare(&c, vibs, vib_count, opts, err);
    /* opened once the VIBs have read: a bad one leaves not even a temporary file */
    if (!rc)
        rc = esximg_outfile_open(path, mode, &of, err);
    if (!rc) {
        struct depot_sink sink = { .fd = esximg_outfile_fd(of), .file = path };
        rc = depot_wassemble(&c, &sink, err);
    }
    if (!rc)
        rc = esximg_outfile_commit(of, err);
    else
        esximg_outfile_abort(of);
    depot_wctx_free(&c);
    return rc;
}

/* ---- the metadata of a depot of one image */

int esximg_depot_meta_add_component(struct esximg_depot_meta *m, const char *name,
                                    const void *xml, size_t len, struct esximg_err *err)
{
    struct esximg_depot_member *grown = esx_realloc_array(m->components, m->component_count + 1,
                                                          sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    m->components = grown;
    grown[m->component_count++] = (struct esximg_depot_member){name, xml, len};
    return 0;
}

/* Takes `name` (freed on failure) and, when `own` is set, `data` too. */
static int depot_meta_take(struct esximg_depot_meta *m, char *name, void *data, bool own,
                           size_t len, struct esximg_err *err)
{
    size_t cap = sizeof m->metadata / sizeof m->metadata[0];
    int rc = !name ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory")
             : m->metadata_count >= cap
             ? esximg_err_set(err, ESXIMG_ELIMIT, "more than %zu metadata members", cap) : 0;
    if (rc) {
        free(name);
        if (own)
            free(data);
        return rc;
    }
    m->names[m->metadata_count] = name;
    m->datas[m->metadata_count] = own ? data : NULL;
    m->metadata[m->metadata_count++] = (struct esximg_depot_member){name, data, len};
    return 0;
}

int esximg_depot_meta_add_profile(struct esximg_depot_meta *m, const struct esximg_profile *p,
                                  const char *file_name, struct esximg_err *err)
{
    char *file = NULL, *name = NULL, *xml = NULL;
    size_t len = 0;
    int rc = file_name ? 0 : esximg_profile_file_name(p->name, p->creator, &file, err);
    if (!rc && asprintf(&name, "profiles/%s", file_name ? file_name : file) < 0)
        name = NULL;
    if (!rc)
        rc = esximg_profile_write(p, &xml, &len, err);
    if (rc)
        free(name);
    else
        rc = depot_meta_take(m, name, xml, true, len, err);
    free(file);
    return rc;
}

int esximg_depot_meta_add_release(struct esximg_depot_meta *m, const char *folder,
                                  const char *release_id, const void *json, size_t len,
                                  struct esximg_err *err)
{
    char *name = NULL;
    if (asprintf(&name, "%s/%s.json", folder, release_id) < 0)
        name = NULL;
    return depot_meta_take(m, name, (void *)json, false, len, err);
}

void esximg_depot_meta_apply(const struct esximg_depot_meta *m, struct esximg_depot_wopts *o)
{
    o->component_docs = m->components;
    o->component_doc_count = m->component_count;
    o->metadata = m->metadata;
    o->metadata_count = m->metadata_count;
}

void esximg_depot_meta_free(struct esximg_depot_meta *m)
{
    free(m->components);
    for (size_t i = 0; i < m->metadata_count; i++) {
        free(m->names[i]);
        free(m->datas[i]);
    }
    memset(m, 0, sizeof *m);
}
