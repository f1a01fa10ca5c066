/* descriptor.c: a VIB's descriptor.xml (and its database/metadata copies) over libxml2, and
 * the acceptance levels.
 *
 * Reading never substitutes entities, never touches the network and refuses any document with
 * a DTD, so entity expansion attacks and external entities cannot happen.  Elements the model
 * does not know, and comments, are kept serialised with the known element they followed, so
 * writing puts them back in place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "esx_private.h"
#include "xml_private.h"
#include "esximg/vib.h"

/* ---------------------------------------------------------------- read: parse state */

struct desc_rctx {
    struct esximg_descriptor *d;
    xmlDocPtr doc;
    const char *last;       /* the last known top-level element seen (static string) */
};

static bool desc_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The text of an element into *out (freeing what was there); stripped unless `raw`
 * (free text such as a description keeps its line breaks). */
static int desc_text_as(const xmlNode *n, bool raw, char **out, struct esximg_err *err)
{
    char *copy;
    int rc = esx_xml_content(n, !raw, &copy, err);
    if (rc)
        return rc;
    free(*out);
    *out = copy;
    return 0;
}

static int desc_text(const xmlNode *n, char **out, struct esximg_err *err)
{
    return desc_text_as(n, false, out, err);
}

static int desc_bool(const xmlNode *n, bool *out, struct esximg_err *err)
{
    char *text = NULL;
    int rc = desc_text(n, &text, err);
    if (rc)
        return rc;
    if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *out = true;
    else if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *out = false;
    else
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "element '%s': '%.40s' is not true or false",
                            (const char *)n->name, text);
    free(text);
    return rc;
}

static int desc_u64(const xmlNode *n, const char *what, const char *text, uint64_t *out,
                    struct esximg_err *err)
{
    (void)n;
    size_t len = strlen(text);
    if (len == 0 || !esx_parse_decimal(text, len, out))
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s: '%.40s' is not a decimal number",
                              what, text);
    return 0;
}

static size_t desc_count_elements(const xmlNode *parent)
{
    size_t count = 0;
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            count++;
    return count;
}

/* ---------------------------------------------------------------- read: elements */

/* Every child element's text as a list (file-list, software-tags). */
static int desc_read_strings(const xmlNode *n, const char *child, char ***items, size_t *count,
                             struct esximg_err *err)
{
    size_t max = desc_count_elements(n);
    char **list = esx_malloc_array(max ? max : 1, sizeof *list);
    if (!list)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t used = 0;
    int rc = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!desc_is(c, child))
            continue;
        list[used] = NULL;
        rc = desc_text(c, &list[used], err);
        if (rc)
            goto out;
        used++;
    }
    *items = list;
    *count = used;
    list = NULL;
out:
    if (list) {
        for (size_t i = 0; i < used; i++)
            free(list[i]);
        free(list);
    }
    return rc;
}

static int desc_read_urls(struct desc_rctx *c, const xmlNode *n, struct esximg_err *err)
{
    struct esximg_descriptor *d = c->d;
    size_t max = desc_count_elements(n);
    d->urls = esx_malloc_array(max ? max : 1, sizeof *d->urls);
    if (!d->urls)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (const xmlNode *u = n->children; u; u = u->next) {
        if (!desc_is(u, "url"))
            continue;
        struct esximg_url *url = &d->urls[d->url_count++];
        int rc = esx_xml_attr(u, "key", false, &url->key, err);
        if (!rc)
            rc = desc_text_as(u, true, &url->url, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int desc_read_constraints(const xmlNode *n, struct esximg_constraint_list *list,
                                 struct esximg_err *err)
{
    size_t max = desc_count_elements(n);
    list->items = esx_malloc_array(max ? max : 1, sizeof *list->items);
    if (!list->items)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        struct esximg_constraint *item = &list->items[list->count++];
        int rc = esx_xml_attr(k, "name", false, &item->name, err);
        if (!rc)
            rc = esx_xml_attr(k, "relation", false, &item->relation, err);
        if (!rc)
            rc = esx_xml_attr(k, "version", false, &item->version, err);
        if (rc)
            return rc;
        if (!item->name)
            return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' in '%s' has no 'name'",
                                  (const char *)k->name, (const char *)n->name);
    }
    return 0;
}

static int desc_read_relationships(struct desc_rctx *c, const xmlNode *n,
                                   struct esximg_err *err)
{
    static const char *const names[] = {
        "depends", "conflicts", "replaces", "provides", "compatibleWith",
    };
    struct esximg_descriptor *d = c->d;
    struct esximg_constraint_list *lists[] = {
        &d->depends, &d->conflicts, &d->replaces, &d->provides, &d->compatible_with,
    };
    for (const xmlNode *k = n->children; k; k = k->next) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (!desc_is(k, names[i]))
                continue;
            if (lists[i]->items)
                return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' appears twice in "
                                      "'relationships'", names[i]);
            int rc = desc_read_constraints(k, lists[i], err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int desc_read_system_requires(struct desc_rctx *c, const xmlNode *n,
                                     struct esximg_err *err)
{
    struct esximg_descriptor *d = c->d;
    struct esx_buf extra;
    esx_buf_init(&extra, 0);
    int rc = 0;
    for (xmlNode *k = n->children; k; k = k->next) {
        if (desc_is(k, "maintenance-mode")) {
            rc = desc_bool(k, &d->maintenance_mode, err);
        } else if (k->type == XML_ELEMENT_NODE) {
            char *xml = NULL;
            rc = esx_xml_dump(c->doc, k, &xml, err);
            if (!rc)
                rc = esx_buf_puts(&extra, xml, err);
            free(xml);
        }
        if (rc)
            goto out;
    }
    if (extra.len)
        d->system_requires_extra_xml = esx_buf_take(&extra, NULL);
out:
    esx_buf_free(&extra);
    return rc;
}

static int desc_read_checksums(const xmlNode *n, struct esximg_payload *p,
                               struct esximg_err *err)
{
    size_t max = desc_count_elements(n);
    p->checksums = esx_malloc_array(max ? max : 1, sizeof *p->checksums);
    if (!p->checksums)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (!desc_is(k, "checksum"))
            continue;
        struct esximg_checksum *sum = &p->checksums[p->checksum_count++];
        int rc = esx_xml_attr(k, "checksum-type", false, &sum->type, err);
        if (!rc)
            rc = esx_xml_attr(k, "verify-process", false, &sum->verify_process, err);
        if (!rc)
            rc = desc_text(k, &sum->value, err);
        if (rc)
            return rc;
        if (!sum->type)
            return esximg_err_set(err, ESXIMG_EFORMAT,
                                  "payload '%s': a checksum has no 'checksum-type'", p->name);
    }
    return 0;
}

static int desc_read_payload(const xmlNode *n, struct esximg_payload *p, struct esximg_err *err)
{
    char *size = NULL;
    int rc = esx_xml_attr(n, "name", false, &p->name, err);
    if (!rc)
        rc = esx_xml_attr(n, "type", false, &p->type, err);
    if (!rc)
        rc = esx_xml_attr(n, "size", false, &size, err);
    if (!rc)
        rc = esx_xml_attr(n, "boot-order", false, &p->boot_order, err);
    if (!rc)
        rc = esx_xml_attr(n, "vfat-name", false, &p->vfat_name, err);
    if (!rc)
        rc = esx_xml_attr(n, "uncompressed-size", false, &p->uncompressed_size, err);
    if (!rc)
        rc = esx_xml_attr(n, "compression-option", false, &p->compression_option, err);
    if (rc)
        goto out;
    if (!p->name || !p->name[0]) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "a payload has no 'name'");
        goto out;
    }
    if (!p->type || !p->type[0]) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "payload '%s' has no 'type'", p->name);
        goto out;
    }
    if (size) {
        rc = desc_u64(n, "payload size", size, &p->size, err);
        if (rc) {
            esximg_err_prefix(err, "payload '%s': ", p->name);
            goto out;
        }
        p->has_size = true;
    }
    rc = desc_read_checksums(n, p, err);
out:
    free(size);
    return rc;
}

static int desc_read_payloads(struct desc_rctx *c, const xmlNode *n, struct esximg_err *err)
{
    struct esximg_descriptor *d = c->d;
    size_t max = desc_count_elements(n);
    d->payloads = esx_malloc_array(max ? max : 1, sizeof *d->payloads);
    if (!d->payloads)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (!desc_is(k, "payload"))
            continue;
        struct esximg_payload *p = &d->payloads[d->payload_count++];
        int rc = desc_read_payload(k, p, err);
        if (rc)
            return rc;
        for (size_t i = 0; i + 1 < d->payload_count; i++)
            if (strcmp(d->payloads[i].name, p->name) == 0)
                return esximg_err_set(err, ESXIMG_EFORMAT, "payload '%s' appears twice",
                                      p->name);
    }
    return 0;
}

/* Handlers of the known top-level elements, in the order they are written. */
enum desc_kind { DESC_TEXT, DESC_RAW_TEXT, DESC_BOOL, DESC_OTHER };

struct desc_elem {
    const char *name;
    enum desc_kind kind;
    size_t field;           /* offsetof the char * or bool, for DESC_TEXT / DESC_BOOL */
    int (*read)(struct desc_rctx *c, const xmlNode *n, struct esximg_err *err);
};

static int desc_read_tags(struct desc_rctx *c, const xmlNode *n, struct esximg_err *err)
{
    return desc_read_strings(n, "tag", &c->d->tags, &c->d->tag_count, err);
}

static int desc_read_files(struct desc_rctx *c, const xmlNode *n, struct esximg_err *err)
{
    return desc_read_strings(n, "file", &c->d->files, &c->d->file_count, err);
}

static int desc_read_packed_size(struct desc_rctx *c, const xmlNode *n, struct esximg_err *err)
{
    char *text = NULL;
    int rc = desc_text(n, &text, err);
    if (!rc)
        rc = desc_u64(n, "packed-size", text, &c->d->packed_size, err);
    free(text);
    return rc;
}

#define DESC_TEXT_FIELD(n, f) { n, DESC_TEXT, offsetof(struct esximg_descriptor, f), NULL }
#define DESC_RAW_FIELD(n, f) { n, DESC_RAW_TEXT, offsetof(struct esximg_descriptor, f), NULL }
#define DESC_BOOL_FIELD(n, f) { n, DESC_BOOL, offsetof(struct esximg_descriptor, f), NULL }
#define DESC_OTHER_FIELD(n, fn) { n, DESC_OTHER, 0, fn }

static const struct desc_elem desc_elems[] = {
    DESC_TEXT_FIELD("type", type),
    DESC_TEXT_FIELD("name", name),
    DESC_TEXT_FIELD("version", version),
    DESC_TEXT_FIELD("vendor", vendor),
    DESC_RAW_FIELD("summary", summary),
    DESC_RAW_FIELD("description", description),
    DESC_TEXT_FIELD("release-date", release_date),
    DESC_OTHER_FIELD("urls", desc_read_urls),
    DESC_OTHER_FIELD("relationships", desc_read_relationships),
    DESC_OTHER_FIELD("software-tags", desc_read_tags),
    DESC_TEXT_FIELD("relative-path", relative_path),
    DESC_OTHER_FIELD("packed-size", desc_read_packed_size),
    DESC_TEXT_FIELD("checksum", vib_checksum),
    DESC_TEXT_FIELD("installdate", installdate),
    DESC_OTHER_FIELD("system-requires", desc_read_system_requires),
    DESC_OTHER_FIELD("file-list", desc_read_files),
    DESC_TEXT_FIELD("acceptance-level", acceptance_level),
    DESC_BOOL_FIELD("live-install-allowed", live_install_allowed),
    DESC_BOOL_FIELD("live-remove-allowed", live_remove_allowed),
    DESC_BOOL_FIELD("cimom-restart", cimom_restart),
    DESC_BOOL_FIELD("stateless-ready", stateless_ready),
    DESC_BOOL_FIELD("overlay", overlay),
    DESC_OTHER_FIELD("payloads", desc_read_payloads),
};
#define DESC_ELEM_COUNT (sizeof desc_elems / sizeof desc_elems[0])

static int desc_add_extra(struct desc_rctx *c, xmlNodePtr n, struct esximg_err *err)
{
    struct esximg_descriptor *d = c->d;
    struct esximg_descriptor_extra *grown =
        esx_realloc_array(d->extras, d->extra_count + 1, sizeof *d->extras);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    d->extras = grown;
    struct esximg_descriptor_extra *e = &d->extras[d->extra_count];
    e->after = c->last ? esx_strdup(c->last) : NULL;
    if (c->last && !e->after)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = esx_xml_dump(c->doc, n, &e->xml, err);
    if (rc) {
        free(e->after);
        return rc;
    }
    d->extra_count++;
    return 0;
}

static int desc_read_elem(struct desc_rctx *c, const struct desc_elem *e, const xmlNode *n,
                          struct esximg_err *err)
{
    char *base = (char *)c->d;
    switch (e->kind) {
    case DESC_TEXT:
    case DESC_RAW_TEXT:
        return desc_text_as(n, e->kind == DESC_RAW_TEXT, (char **)(void *)(base + e->field),
                            err);
    case DESC_BOOL:
        return desc_bool(n, (bool *)(void *)(base + e->field), err);
    case DESC_OTHER:
        return e->read(c, n, err);
    }
    return 0;
}

static int desc_read_root(struct desc_rctx *c, xmlNodePtr root, struct esximg_err *err)
{
    bool seen[DESC_ELEM_COUNT] = { false };
    if (!desc_is(root, "vib"))
        return esximg_err_set(err, ESXIMG_EFORMAT, "root element is '%.64s', not 'vib'",
                              (const char *)root->name);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE) {
            int rc = desc_add_extra(c, n, err);
            if (rc)
                return rc;
            continue;
        }
        if (n->type != XML_ELEMENT_NODE)
            continue;   /* white space between elements */
        size_t i = 0;
        while (i < DESC_ELEM_COUNT && strcmp(desc_elems[i].name, (const char *)n->name) != 0)
            i++;
        int rc;
        if (i == DESC_ELEM_COUNT) {
            rc = desc_add_extra(c, n, err);
        } else if (seen[i]) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "element '%s' appears twice",
                                desc_elems[i].name);
        } else {
            seen[i] = true;
            rc = desc_read_elem(c, &desc_elems[i], n, err);
            c->last = desc_elems[i].name;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* The parts of a VIB's identity must be there and non-empty. */
static int desc_check_required(const struct esximg_descriptor *d, struct esximg_err *err)
{
    const struct {
        const char *name;
        const char *value;
    } required[] = {
        { "type", d->type }, { "name", d->name }, { "version", d->version },
        { "vendor", d->vendor },
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!required[i].value || !required[i].value[0])
            return esximg_err_set(err, ESXIMG_EFORMAT, "descriptor has no '%s'",
                                  required[i].name);
    return 0;
}

int esximg_descriptor_read(const void *xml, size_t len, struct esximg_descriptor **out,
                           struct esximg_err *err)
{
    struct desc_rctx c = { .d = NULL, .doc = NULL, .last = NULL };
    int rc = esx_xml_read(xml, len, "descriptor", &c.doc, err);
    if (rc)
        return rc;
    c.d = calloc(1, sizeof *c.d);
    if (!c.d) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    rc = desc_read_root(&c, xmlDocGetRootElement(c.doc), err);
    if (!rc)
        rc = desc_check_required(c.d, err);
    if (rc)
        goto out;
    *out = c.d;
    c.d = NULL;
out:
    esximg_descriptor_free(c.d);
    xmlFreeDoc(c.doc);
    return rc;
}

/* ---------------------------------------------------------------- write */

struct desc_wctx {
    const struct esximg_descriptor *d;
    struct esx_buf b;
    bool *extra_done;
    struct esximg_err *err;
    int rc;
};

static void desc_put(struct desc_wctx *w, const char *s)
{
    if (!w->rc)
        w->rc = esx_buf_puts(&w->b, s, w->err);
}

/* esximage writes descriptors with ElementTree */
static const struct esx_xml_flavour *const desc_xml = &esx_xml_etree;

static void desc_put_text(struct desc_wctx *w, const char *s)
{
    if (!w->rc)
        w->rc = esx_xml_put_text(&w->b, desc_xml, s, w->err);
}

static void desc_put_attr(struct desc_wctx *w, const char *name, const char *value)
{
    if (!w->rc)
        w->rc = esx_xml_put_attr(&w->b, desc_xml, name, value, w->err);
}

static void desc_put_text_elem(struct desc_wctx *w, const char *name, const char *text)
{
    if (!w->rc)
        w->rc = esx_xml_put_elem(&w->b, desc_xml, name, text, w->err);
}

static void desc_put_bool_elem(struct desc_wctx *w, const char *name, bool v)
{
    desc_put_text_elem(w, name, v ? "true" : "false");
}

/* "<name/>" for an empty list, else "<name>" (closed by the caller). */
static bool desc_open_list(struct desc_wctx *w, const char *name, size_t count)
{
    desc_put(w, "<");
    desc_put(w, name);
    desc_put(w, count ? ">" : "/>");
    return count != 0;
}

static void desc_close(struct desc_wctx *w, const char *name)
{
    desc_put(w, "</");
    desc_put(w, name);
    desc_put(w, ">");
}

static void desc_write_strings(struct desc_wctx *w, const char *list, const char *item,
                               char *const *items, size_t count)
{
    if (!desc_open_list(w, list, count))
        return;
    for (size_t i = 0; i < count; i++)
        desc_put_text_elem(w, item, items[i] ? items[i] : "");
    desc_close(w, list);
}

static void desc_write_urls(struct desc_wctx *w)
{
    const struct esximg_descriptor *d = w->d;
    if (!desc_open_list(w, "urls", d->url_count))
        return;
    for (size_t i = 0; i < d->url_count; i++) {
        desc_put(w, "<url");
        desc_put_attr(w, "key", d->urls[i].key);
        desc_put(w, ">");
        desc_put_text(w, d->urls[i].url ? d->urls[i].url : "");
        desc_put(w, "</url>");
    }
    desc_close(w, "urls");
}

static void desc_write_constraints(struct desc_wctx *w, const char *name, const char *item,
                                   const struct esximg_constraint_list *l)
{
    if (!desc_open_list(w, name, l->count))
        return;
    for (size_t i = 0; i < l->count; i++) {
        desc_put(w, "<");
        desc_put(w, item);
        desc_put_attr(w, "name", l->items[i].name);
        desc_put_attr(w, "relation", l->items[i].relation);
        desc_put_attr(w, "version", l->items[i].version);
        desc_put(w, "/>");
    }
    desc_close(w, name);
}

static void desc_write_relationships(struct desc_wctx *w)
{
    const struct esximg_descriptor *d = w->d;
    desc_put(w, "<relationships>");
    desc_write_constraints(w, "depends", "constraint", &d->depends);
    desc_write_constraints(w, "conflicts", "constraint", &d->conflicts);
    desc_write_constraints(w, "replaces", "constraint", &d->replaces);
    desc_write_constraints(w, "provides", "provide", &d->provides);
    desc_write_constraints(w, "compatibleWith", "constraint", &d->compatible_with);
    desc_put(w, "</relationships>");
}

static void desc_write_system_requires(struct desc_wctx *w)
{
    desc_put(w, "<system-requires>");
    desc_put_bool_elem(w, "maintenance-mode", w->d->maintenance_mode);
    if (w->d->system_requires_extra_xml)
        desc_put(w, w->d->system_requires_extra_xml);
    desc_put(w, "</system-requires>");
}

static void desc_write_payload(struct desc_wctx *w, const struct esximg_payload *p)
{
    char size[24];
    desc_put(w, "<payload");
    desc_put_attr(w, "name", p->name);
    desc_put_attr(w, "type", p->type);
    desc_put_attr(w, "boot-order", p->boot_order);
    desc_put_attr(w, "vfat-name", p->vfat_name);
    if (p->has_size) {
        snprintf(size, sizeof size, "%llu", (unsigned long long)p->size);
        desc_put_attr(w, "size", size);
    }
    desc_put_attr(w, "uncompressed-size", p->uncompressed_size);
    desc_put_attr(w, "compression-option", p->compression_option);
    desc_put(w, ">");
    for (size_t i = 0; i < p->checksum_count; i++) {
        const struct esximg_checksum *sum = &p->checksums[i];
        desc_put(w, "<checksum");
        desc_put_attr(w, "checksum-type", sum->type);
        desc_put_attr(w, "verify-process", sum->verify_process);
        desc_put(w, ">");
        desc_put_text(w, sum->value ? sum->value : "");
        desc_put(w, "</checksum>");
    }
    desc_put(w, "</payload>");
}

static void desc_write_payloads(struct desc_wctx *w)
{
    const struct esximg_descriptor *d = w->d;
    if (!desc_open_list(w, "payloads", d->payload_count))
        return;
    for (size_t i = 0; i < d->payload_count; i++)
        desc_write_payload(w, &d->payloads[i]);
    desc_close(w, "payloads");
}

/* The extras that followed `after` (NULL: the start) and were not written yet. */
static void desc_write_extras(struct desc_wctx *w, const char *after)
{
    const struct esximg_descriptor *d = w->d;
    for (size_t i = 0; i < d->extra_count; i++) {
        const struct esximg_descriptor_extra *e = &d->extras[i];
        if (w->extra_done[i] || !e->xml)
            continue;
        bool match = after ? (e->after && strcmp(e->after, after) == 0) : !e->after;
        if (!match)
            continue;
        desc_put(w, e->xml);
        w->extra_done[i] = true;
    }
}

/* Writes a known element when the model has it; true when written. */
static bool desc_write_elem(struct desc_wctx *w, const struct desc_elem *e)
{
    const struct esximg_descriptor *d = w->d;
    const char *base = (const char *)d;
    if (e->kind == DESC_TEXT || e->kind == DESC_RAW_TEXT) {
        const char *text = *(char *const *)(const void *)(base + e->field);
        if (!text)
            return false;
        desc_put_text_elem(w, e->name, text);
    } else if (e->kind == DESC_BOOL) {
        desc_put_bool_elem(w, e->name, *(const bool *)(const void *)(base + e->field));
    } else if (e->read == desc_read_urls) {
        desc_write_urls(w);
    } else if (e->read == desc_read_relationships) {
        desc_write_relationships(w);
    } else if (e->read == desc_read_tags) {
        desc_write_strings(w, "software-tags", "tag", d->tags, d->tag_count);
    } else if (e->read == desc_read_packed_size) {
        if (!d->packed_size)
            return false;
        char num[24];
        snprintf(num, sizeof num, "%llu", (unsigned long long)d->packed_size);
        desc_put_text_elem(w, e->name, num);
    } else if (e->read == desc_read_system_requires) {
        desc_write_system_requires(w);
    } else if (e->read == desc_read_files) {
        /* esximage leaves an empty file-list out (cpu-microcode in the 6.7 database) */
        if (!d->file_count)
            return false;
        desc_write_strings(w, "file-list", "file", d->files, d->file_count);
    } else if (e->read == desc_read_payloads) {
        desc_write_payloads(w);
    }
    return true;
}

int esximg_descriptor_write(const struct esximg_descriptor *d, char **xml, size_t *len,
                            struct esximg_err *err)
{
    struct desc_wctx w = { .d = d, .err = err, .rc = 0, .extra_done = NULL };
    esx_buf_init(&w.b, 0);
    if (!d || !d->name || !d->version || !d->vendor || !d->type)
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "descriptor lacks one of 'type', 'name', 'version', 'vendor'");
    w.extra_done = esx_malloc_array(d->extra_count ? d->extra_count : 1, sizeof(bool));
    if (!w.extra_done)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    desc_put(&w, "<vib version=\"5.0\">");
    desc_write_extras(&w, NULL);
    for (size_t i = 0; i < DESC_ELEM_COUNT; i++)
        if (desc_write_elem(&w, &desc_elems[i]))
            desc_write_extras(&w, desc_elems[i].name);
    /* extras that followed an element the model no longer has go last */
    for (size_t i = 0; i < d->extra_count; i++)
        if (!w.extra_done[i] && d->extras[i].xml)
            desc_put(&w, d->extras[i].xml);
    desc_put(&w, "</vib>");
    int rc = w.rc;
    if (!rc) {
        size_t n;
        *xml = esx_buf_take(&w.b, &n);
        if (len)
            *len = n;
    }
    free(w.extra_done);
    esx_buf_free(&w.b);
    return rc;
}

/* ---------------------------------------------------------------- helpers and free */

char *esximg_descriptor_vib_id(const struct esximg_descriptor *d)
{
    if (!d || !d->vendor || !d->type || !d->name || !d->version)
        return NULL;
    struct esx_buf b;
    esx_buf_init(&b, 0);
    if (esx_buf_printf(&b, NULL, "%s_%s_%s_%s", d->vendor, d->type, d->name, d->version)) {
        esx_buf_free(&b);
        return NULL;
    }
    return esx_buf_take(&b, NULL);
}

bool esximg_descriptor_is_vmklinux(const struct esximg_descriptor *d)
{
    for (size_t i = 0; d && i < d->depends.count; i++) {
        const char *n = d->depends.items[i].name;
        if (n && (!strcmp(n, "vmklinux_9") || !strncmp(n, "com.vmware.driverAPI-", 21)))
            return true;
    }
    for (size_t i = 0; d && i < d->file_count; i++) {
        const char *f = d->files[i];
        while (*f == '/')
            f++;
        if (!strncmp(f, "etc/vmware/driver.map.d/", 24))
            return true;
    }
    return false;
}

const struct esximg_payload *esximg_descriptor_payload(const struct esximg_descriptor *d,
                                                       const char *name)
{
    if (!d || !name)
        return NULL;
    for (size_t i = 0; i < d->payload_count; i++)
        if (d->payloads[i].name && strcmp(d->payloads[i].name, name) == 0)
            return &d->payloads[i];
    return NULL;
}

static const struct {
    enum esximg_acceptance level;
    const char *name;
    const char *long_name;      /* as image profiles and esxcli spell it */
} acceptance_names[] = {
    { ESXIMG_ACCEPT_COMMUNITY, "community", "CommunitySupported" },
    { ESXIMG_ACCEPT_PARTNER, "partner", "PartnerSupported" },
    { ESXIMG_ACCEPT_ACCEPTED, "accepted", "VMwareAccepted" },
    { ESXIMG_ACCEPT_CERTIFIED, "certified", "VMwareCertified" },
};

enum esximg_acceptance esximg_acceptance_parse(const char *s)
{
    if (!s)
        return ESXIMG_ACCEPT_UNKNOWN;
    for (size_t i = 0; i < sizeof acceptance_names / sizeof acceptance_names[0]; i++)
        if (strcasecmp(s, acceptance_names[i].name) == 0 ||
            strcasecmp(s, acceptance_names[i].long_name) == 0)
            return acceptance_names[i].level;
    return ESXIMG_ACCEPT_UNKNOWN;
}

const char *esximg_acceptance_name(enum esximg_acceptance a)
{
    for (size_t i = 0; i < sizeof acceptance_names / sizeof acceptance_names[0]; i++)
        if (acceptance_names[i].level == a)
            return acceptance_names[i].name;
    return "unknown";
}

static void desc_free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static void desc_free_constraints(struct esximg_constraint_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].relation);
        free(l->items[i].version);
    }
    free(l->items);
}

static void desc_free_payload(struct esximg_payload *p)
{
    free(p->name);
    free(p->type);
    free(p->boot_order);
    free(p->vfat_name);
    free(p->uncompressed_size);
    free(p->compression_option);
    for (size_t i = 0; i < p->checksum_count; i++) {
        free(p->checksums[i].type);
        free(p->checksums[i].verify_process);
        free(p->checksums[i].value);
    }
    free(p->checksums);
}

void esximg_descriptor_free(struct esximg_descriptor *d)
{
    if (!d)
        return;
    char *texts[] = {
        d->type, d->name, d->version, d->vendor, d->summary, d->description, d->release_date,
        d->installdate, d->system_requires_extra_xml, d->acceptance_level, d->relative_path,
        d->vib_checksum,
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        free(texts[i]);
    for (size_t i = 0; i < d->url_count; i++) {
        free(d->urls[i].key);
        free(d->urls[i].url);
    }
    free(d->urls);
    desc_free_constraints(&d->depends);
    desc_free_constraints(&d->conflicts);
    desc_free_constraints(&d->replaces);
    desc_free_constraints(&d->provides);
    desc_free_constraints(&d->compatible_with);
    desc_free_strings(d->tags, d->tag_count);
    desc_free_strings(d->files, d->file_count);
    for (size_t i = 0; i < d->payload_count; i++)
        desc_free_payload(&d->payloads[i]);
    free(d->payloads);
    for (size_t i = 0; i < d->extra_count; i++) {
        free(d->extras[i].after);
        free(d->extras[i].xml);
    }
    free(d->extras);
    free(d);
}
