/* imgdb.c: the image database (IMGDB.TGZ), its image profile and its bulletins.
 *
 * XML is read with libxml2 (no network, no DTD, no entities but the predefined ones, no
 * namespaces) and written by hand in VMware's one-line form, so that reading VMware's profile
 * and writing it back gives the same bytes. The tar is read and written with libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>

#include "esx_private.h"
#include "xml_private.h"
#include "esximg/imgdb.h"
#include "esximg/modname.h"

#define IMGDB_NAME_MAX 99u                   /* VISOR_PATH_LIMIT, and < 100 for the tar field */
#define IMGDB_QUOTED_NAME_MAX 50u            /* urllib.quote(name)[:50] */

/* ================================================================ XML helpers */

static bool xml_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static bool xml_blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* no namespace anywhere: a dumped unknown element must stand on its own */
static int xml_check_no_ns(const xmlNode *n, unsigned depth, struct esximg_err *err)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->ns || n->nsDef)
            return esximg_err_set(err, ESXIMG_EUNSUPPORTED,
                                  "element '%s': xml namespaces are not supported", n->name);
        for (const xmlAttr *a = n->properties; a; a = a->next)
            if (a->ns)
                return esximg_err_set(err, ESXIMG_EUNSUPPORTED,
                                      "attribute '%s': xml namespaces are not supported",
                                      a->name);
        /* libxml2 itself stops at 256 levels without XML_PARSE_HUGE */
        if (depth < 1024) {
            int rc = xml_check_no_ns(n->children, depth + 1, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Parses `xml` safely; the root element must be `root`, and no namespace is used. */
static int xml_parse(const void *xml, size_t len, const char *root, xmlDoc **out,
                     struct esximg_err *err)
{
    char what[64];
    snprintf(what, sizeof what, "'%s' xml", root);
    xmlDoc *doc;
    int rc = esx_xml_read(xml, len, what, &doc, err);
    if (rc)
        return rc;
    const xmlNode *top = xmlDocGetRootElement(doc);
    if (!xml_is(top, root))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "root element is '%s', not '%s'", top->name,
                            root);
    else
        rc = xml_check_no_ns(top, 0, err);
    if (rc) {
        xmlFreeDoc(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

static void xml_extras_free(struct esximg_xml_extra *extras, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(extras[i].after);
        free(extras[i].xml);
    }
    free(extras);
}

static int xml_extra_add(struct esximg_xml_extra **extras, size_t *count, const char *after,
                         char *xml_take, struct esximg_err *err)
{
    struct esximg_xml_extra *grown = esx_realloc_array(*extras, *count + 1, sizeof *grown);
    char *after_copy = after ? esx_strdup(after) : NULL;
    if (!grown || (after && !after_copy)) {
        if (grown)
            *extras = grown;
        free(after_copy);
        free(xml_take);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    *extras = grown;
    grown[*count].after = after_copy;
    grown[*count].xml = xml_take;
    (*count)++;
    return 0;
}

/* Called for each known child element, with its index in the table. */
typedef int (*xml_elem_fn)(void *model, size_t idx, xmlNode *n, struct esximg_err *err);

/* Walks the children of `parent`: known elements (each at most once) go to fn, unknown
 * elements, comments and processing instructions are kept as extras, blank text is skipped,
 * other text is refused. */
static int xml_walk(xmlDoc *doc, xmlNode *parent, const char *const *names, size_t name_count,
                    xml_elem_fn fn, void *model, struct esximg_xml_extra **extras,
                    size_t *extra_count, struct esximg_err *err)
{
    uint64_t seen = 0;
    const char *last = NULL;
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (!xml_blank(c->content))
                return esximg_err_set(err, ESXIMG_EFORMAT, "element '%s' holds loose text",
                                      parent->name);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE && c->type != XML_COMMENT_NODE &&
            c->type != XML_PI_NODE)
            return esximg_err_set(err, ESXIMG_EFORMAT, "element '%s' holds an unexpected node",
                                  parent->name);
        size_t idx = name_count;
        for (size_t i = 0; c->type == XML_ELEMENT_NODE && i < name_count; i++)
            if (xml_is(c, names[i]))
                idx = i;
        if (idx == name_count) {
            char *dumped = NULL;   /* gcc -O1 sees a path where it is unset */
            int rc = esx_xml_dump(doc, c, &dumped, err);
            if (!rc)
                rc = xml_extra_add(extras, extra_count, last, dumped, err);
            if (rc)
                return rc;
            continue;
        }
        if (seen & ((uint64_t)1 << idx))
            return esximg_err_set(err, ESXIMG_EFORMAT, "element '%s' appears twice in '%s'",
                                  names[idx], parent->name);
        seen |= (uint64_t)1 << idx;
        last = names[idx];
        int rc = fn(model, idx, c, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- writing */

/* VMware writes its profiles and bulletins with lxml: libxml2's escaping */
static const struct esx_xml_flavour *const imgdb_xml = &esx_xml_lxml;

/* the extras kept after `after` (NULL: at the start) */
static int xml_put_extras(struct esx_buf *b, const struct esximg_xml_extra *extras,
                          size_t count, const char *after, struct esximg_err *err)
{
    for (size_t i = 0; i < count; i++) {
        bool here = after ? extras[i].after && strcmp(extras[i].after, after) == 0
                          : !extras[i].after;
        if (here && extras[i].xml) {
            int rc = esx_buf_puts(b, extras[i].xml, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* extras whose `after` names no known element go at the end */
static int xml_put_orphans(struct esx_buf *b, const struct esximg_xml_extra *extras,
                           size_t count, const char *const *names, size_t name_count,
                           struct esximg_err *err)
{
    for (size_t i = 0; i < count; i++) {
        if (!extras[i].after || !extras[i].xml)
            continue;
        bool known = false;
        for (size_t k = 0; k < name_count && !known; k++)
            known = strcmp(extras[i].after, names[k]) == 0;
        if (!known) {
            int rc = esx_buf_puts(b, extras[i].xml, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Text a caller sets: UTF-8, and no control character XML cannot carry. */
static int xml_check_text(const char *what, const char *s, struct esximg_err *err)
{
    if (!xmlCheckUTF8((const unsigned char *)s))
        return esximg_err_set(err, ESXIMG_EINVAL, "%s is not valid utf-8", what);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return esximg_err_set(err, ESXIMG_EINVAL, "%s holds control character 0x%02x",
                                  what, *p);
    return 0;
}

/* Replaces *slot with a copy of value (NULL clears it). */
static int xml_set(char **slot, const char *what, const char *value, struct esximg_err *err)
{
    char *copy = NULL;
    if (value) {
        int rc = xml_check_text(what, value, err);
        if (rc)
            return rc;
        copy = esx_strdup(value);
        if (!copy)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* ================================================================ image profile */

static const char *const profile_names[] = {
    "name", "creator", "profileID", "creationtime", "modifiedtime", "serialno",
    "description", "readonly", "viblist", "acceptancelevel",
};
enum {
    PROFILE_NAME, PROFILE_CREATOR, PROFILE_ID, PROFILE_CTIME, PROFILE_MTIME, PROFILE_SERIALNO,
    PROFILE_DESCRIPTION, PROFILE_READONLY, PROFILE_VIBLIST, PROFILE_ACCEPTANCE,
    PROFILE_NAME_COUNT
};
static const char *const profile_vib_names[] = { "vib-id", "payloads" };

static void profile_vib_clear(struct esximg_profile_vib *v)
{
    free(v->vib_id);
    for (size_t i = 0; i < v->payload_count; i++) {
        free(v->payloads[i].payload_name);
        free(v->payloads[i].file);
    }
    free(v->payloads);
    xml_extras_free(v->extras, v->extra_count);
    memset(v, 0, sizeof *v);
}

void esximg_profile_free(struct esximg_profile *p)
{
    if (!p)
        return;
    free(p->root_attrs);
    free(p->name);
    free(p->creator);
    free(p->profile_id);
    free(p->creation_time);
    free(p->modified_time);
    free(p->description);
    for (size_t i = 0; i < p->vib_count; i++)
        profile_vib_clear(&p->vibs[i]);
    free(p->vibs);
    free(p->acceptance_level);
    xml_extras_free(p->extras, p->extra_count);
    free(p);
}

static int profile_read_payloads(struct esximg_profile_vib *v, const xmlNode *n,
                                 struct esximg_err *err)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE ||
            ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
             xml_blank(c->content)))
            continue;
        if (!xml_is(c, "payload"))
            return esximg_err_set(err, ESXIMG_EFORMAT, "vib '%s': unexpected node in payloads",
                                  v->vib_id ? v->vib_id : "");
        struct esximg_profile_payload *grown =
            esx_realloc_array(v->payloads, v->payload_count + 1, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        v->payloads = grown;
        struct esximg_profile_payload *p = &grown[v->payload_count];
        memset(p, 0, sizeof *p);
        v->payload_count++;
        int rc = esx_xml_attr(c, "payload-name", false, &p->payload_name, err);
        if (!rc)
            rc = esx_xml_text_only(c, &p->file, err);
        if (rc)
            return rc;
        if (!p->payload_name || !p->payload_name[0])
            return esximg_err_set(err, ESXIMG_EFORMAT, "payload without payload-name");
        if (!p->file[0])
            return esximg_err_set(err, ESXIMG_EFORMAT, "payload '%s' names no file",
                                  p->payload_name);
        for (size_t i = 0; i + 1 < v->payload_count; i++)
            if (strcmp(v->payloads[i].payload_name, p->payload_name) == 0)
                return esximg_err_set(err, ESXIMG_EFORMAT, "payload '%s' is listed twice",
                                      p->payload_name);
    }
    return 0;
}

static int profile_vib_elem(void *model, size_t idx, xmlNode *n, struct esximg_err *err)
{
    struct esximg_profile_vib *v = model;
    if (idx == 0)
        return esx_xml_text_only(n, &v->vib_id, err);
    v->has_payloads = true;
    return profile_read_payloads(v, n, err);
}

static int profile_read_vib(struct esximg_profile *p, xmlDoc *doc, xmlNode *n,
                            struct esximg_err *err)
{
    struct esximg_profile_vib *grown = esx_realloc_array(p->vibs, p->vib_count + 1,
                                                         sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    p->vibs = grown;
    struct esximg_profile_vib *v = &grown[p->vib_count];
    memset(v, 0, sizeof *v);
    p->vib_count++;
    int rc = xml_walk(doc, n, profile_vib_names, 2, profile_vib_elem, v, &v->extras,
                      &v->extra_count, err);
    if (rc)
        return rc;
    if (!v->vib_id || !v->vib_id[0])
        return esximg_err_set(err, ESXIMG_EFORMAT, "vib %zu of the viblist has no vib-id",
                              p->vib_count);
    for (size_t i = 0; i + 1 < p->vib_count; i++)
        if (strcmp(p->vibs[i].vib_id, v->vib_id) == 0)
            return esximg_err_set(err, ESXIMG_EFORMAT, "vib '%s' is listed twice", v->vib_id);
    return 0;
}

/* the doc is needed to dump unknown children of <vib> */
struct profile_rctx {
    struct esximg_profile *p;
    xmlDoc *doc;
};

static int profile_read_viblist(struct profile_rctx *c, const xmlNode *n,
                                struct esximg_err *err)
{
    c->p->has_viblist = true;
    for (xmlNode *v = n->children; v; v = v->next) {
        if (v->type == XML_COMMENT_NODE ||
            ((v->type == XML_TEXT_NODE || v->type == XML_CDATA_SECTION_NODE) &&
             xml_blank(v->content)))
            continue;
        if (!xml_is(v, "vib"))
            return esximg_err_set(err, ESXIMG_EFORMAT, "unexpected node in viblist");
        int rc = profile_read_vib(c->p, c->doc, v, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int profile_read_scalar(struct esximg_profile *p, size_t idx, const xmlNode *n,
                               struct esximg_err *err)
{
    char *text;
    int rc = esx_xml_text_only(n, &text, err);
    if (rc)
        return rc;
    size_t len = strlen(text);
    if (idx == PROFILE_SERIALNO) {
        if (len == 0 || text[0] < '0' || text[0] > '9' ||
            !esx_parse_decimal(text, len, &p->serialno))
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "serialno '%.40s' is not a number", text);
        p->has_serialno = true;
    } else if (idx == PROFILE_READONLY) {
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "readonly '%.40s' is not true or false",
                                text);
        p->readonly = strcmp(text, "true") == 0;
        p->has_readonly = true;
    }
    free(text);
    return rc;
}

static int profile_elem(void *model, size_t idx, xmlNode *n, struct esximg_err *err)
{
    struct profile_rctx *c = model;
    struct esximg_profile *p = c->p;
    char **slot = NULL;
    switch (idx) {
    case PROFILE_NAME: slot = &p->name; break;
    case PROFILE_CREATOR: slot = &p->creator; break;
    case PROFILE_ID: slot = &p->profile_id; break;
    case PROFILE_CTIME: slot = &p->creation_time; break;
    case PROFILE_MTIME: slot = &p->modified_time; break;
    case PROFILE_DESCRIPTION: slot = &p->description; break;
    case PROFILE_ACCEPTANCE: slot = &p->acceptance_level; break;
    case PROFILE_VIBLIST: return profile_read_viblist(c, n, err);
    default: return profile_read_scalar(p, idx, n, err);
    }
    return esx_xml_text_only(n, slot, err);
}

static int profile_read_root_attrs(struct esximg_profile *p, const xmlNode *root,
                                   struct esximg_err *err)
{
    if (!root->properties)
        return 0;
    struct esx_buf b;
    esx_buf_init(&b, 0);
    int rc = 0;
    for (const xmlAttr *a = root->properties; a && !rc; a = a->next) {
        xmlChar *v = xmlGetNoNsProp(root, a->name);
        rc = esx_xml_put_attr(&b, imgdb_xml, (const char *)a->name, v ? (const char *)v : "", err);
        xmlFree(v);
    }
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    p->root_attrs = esx_buf_take(&b, NULL);
    return p->root_attrs ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

int esximg_profile_read(const void *xml, size_t len, struct esximg_profile **out,
                        struct esximg_err *err)
{
    xmlDoc *doc = NULL;
    int rc = xml_parse(xml, len, "imageprofile", &doc, err);
    if (rc)
        return rc;
    struct esximg_profile *p = calloc(1, sizeof *p);
    if (!p) {
        xmlFreeDoc(doc);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    struct profile_rctx c = { p, doc };
    rc = profile_read_root_attrs(p, root, err);
    if (!rc)
        rc = xml_walk(doc, root, profile_names, PROFILE_NAME_COUNT, profile_elem, &c,
                      &p->extras, &p->extra_count, err);
    if (!rc && (!p->name || !p->name[0]))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "image profile has no name");
    if (rc) {
        esximg_profile_free(p);
        p = NULL;
    }
    xmlFreeDoc(doc);
    if (p)
        *out = p;
    return rc;
}

static int profile_put_vib(struct esx_buf *b, const struct esximg_profile_vib *v,
                           struct esximg_err *err)
{
    int rc = esx_buf_puts(b, "<vib>", err);
    if (!rc)
        rc = xml_put_extras(b, v->extras, v->extra_count, NULL, err);
    if (!rc)
        rc = esx_xml_put_elem(b, imgdb_xml, "vib-id", v->vib_id, err);
    if (!rc)
        rc = xml_put_extras(b, v->extras, v->extra_count, "vib-id", err);
    if (!rc && (v->has_payloads || v->payload_count))
        rc = esx_buf_puts(b, v->payload_count ? "<payloads>" : "<payloads/>", err);
    for (size_t i = 0; !rc && i < v->payload_count; i++) {
        const struct esximg_profile_payload *p = &v->payloads[i];
        rc = esx_buf_puts(b, "<payload", err);
        if (!rc)
            rc = esx_xml_put_attr(b, imgdb_xml, "payload-name", p->payload_name, err);
        if (!rc)
            rc = esx_buf_puts(b, ">", err);
        if (!rc && p->file)
            rc = esx_xml_put_text(b, imgdb_xml, p->file, err);
        if (!rc)
            rc = esx_buf_puts(b, "</payload>", err);
    }
    if (!rc && v->payload_count)
        rc = esx_buf_puts(b, "</payloads>", err);
    if (!rc)
        rc = xml_put_extras(b, v->extras, v->extra_count, "payloads", err);
    if (!rc)
        rc = xml_put_orphans(b, v->extras, v->extra_count, profile_vib_names, 2, err);
    if (!rc)
        rc = esx_buf_puts(b, "</vib>", err);
    return rc;
}

static int profile_put_slot(struct esx_buf *b, const struct esximg_profile *p, size_t idx,
                            struct esximg_err *err)
{
    const char *tag = profile_names[idx];
    switch (idx) {
    case PROFILE_NAME: return esx_xml_put_elem(b, imgdb_xml, tag, p->name, err);
    case PROFILE_CREATOR: return esx_xml_put_elem(b, imgdb_xml, tag, p->creator, err);
    case PROFILE_ID: return esx_xml_put_elem(b, imgdb_xml, tag, p->profile_id, err);
    case PROFILE_CTIME: return esx_xml_put_elem(b, imgdb_xml, tag, p->creation_time, err);
    case PROFILE_MTIME: return esx_xml_put_elem(b, imgdb_xml, tag, p->modified_time, err);
    case PROFILE_DESCRIPTION: return esx_xml_put_elem(b, imgdb_xml, tag, p->description, err);
    case PROFILE_ACCEPTANCE: return esx_xml_put_elem(b, imgdb_xml, tag, p->acceptance_level, err);
    case PROFILE_SERIALNO:
        if (!p->has_serialno)
            return 0;
        return esx_buf_printf(b, err, "<serialno>%" PRIu64 "</serialno>", p->serialno);
    case PROFILE_READONLY:
        if (!p->has_readonly)
            return 0;
        return esx_xml_put_elem(b, imgdb_xml, tag, p->readonly ? "true" : "false", err);
    default:
        break;
    }
    if (!p->has_viblist && !p->vib_count)
        return 0;
    if (!p->vib_count)
        return esx_buf_puts(b, "<viblist/>", err);
    int rc = esx_buf_puts(b, "<viblist>", err);
    for (size_t i = 0; !rc && i < p->vib_count; i++)
        rc = profile_put_vib(b, &p->vibs[i], err);
    if (!rc)
        rc = esx_buf_puts(b, "</viblist>", err);
    return rc;
}

int esximg_profile_write(const struct esximg_profile *p, char **xml, size_t *len,
                         struct esximg_err *err)
{
    if (!p || !p->name)
        return esximg_err_set(err, ESXIMG_EINVAL, "image profile has no name");
    struct esx_buf b;
    esx_buf_init(&b, (size_t)ESX_MAX_XML_BYTES);
    int rc = esx_buf_puts(&b, "<imageprofile", err);
    if (!rc && p->root_attrs)
        rc = esx_buf_puts(&b, p->root_attrs, err);
    if (!rc)
        rc = esx_buf_puts(&b, ">", err);
    if (!rc)
        rc = xml_put_extras(&b, p->extras, p->extra_count, NULL, err);
    for (size_t i = 0; !rc && i < PROFILE_NAME_COUNT; i++) {
        rc = profile_put_slot(&b, p, i, err);
        if (!rc)
            rc = xml_put_extras(&b, p->extras, p->extra_count, profile_names[i], err);
    }
    if (!rc)
        rc = xml_put_orphans(&b, p->extras, p->extra_count, profile_names, PROFILE_NAME_COUNT,
                             err);
    if (!rc)
        rc = esx_buf_puts(&b, "</imageprofile>", err);
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    *xml = esx_buf_take(&b, len);
    return *xml ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

int esximg_profile_new(const char *name, struct esximg_profile **out, struct esximg_err *err)
{
    if (!name || !name[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "image profile needs a name");
    struct esximg_profile *p = calloc(1, sizeof *p);
    if (!p)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = xml_set(&p->name, "profile name", name, err);
    if (rc) {
        esximg_profile_free(p);
        return rc;
    }
    p->has_readonly = true;
    p->readonly = false;
    p->has_viblist = true;
    *out = p;
    return 0;
}

int esximg_profile_set_name(struct esximg_profile *p, const char *name, struct esximg_err *err)
{
    if (!name || !name[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "image profile needs a name");
    return xml_set(&p->name, "profile name", name, err);
}

int esximg_profile_set_creator(struct esximg_profile *p, const char *creator,
                               struct esximg_err *err)
{
    return xml_set(&p->creator, "creator", creator, err);
}

int esximg_profile_set_description(struct esximg_profile *p, const char *description,
                                   struct esximg_err *err)
{
    return xml_set(&p->description, "description", description, err);
}

int esximg_profile_set_modified_time(struct esximg_profile *p, const char *time,
                                     struct esximg_err *err)
{
    return xml_set(&p->modified_time, "modifiedtime", time, err);
}

int esximg_profile_set_acceptance(struct esximg_profile *p, const char *level,
                                  struct esximg_err *err)
{
    return xml_set(&p->acceptance_level, "acceptancelevel", level, err);
}

const struct esximg_profile_vib *esximg_profile_find(const struct esximg_profile *p,
                                                     const char *vib_id)
{
    for (size_t i = 0; p && vib_id && i < p->vib_count; i++)
        if (strcmp(p->vibs[i].vib_id, vib_id) == 0)
            return &p->vibs[i];
    return NULL;
}

static int profile_check_payloads(const char *vib_id,
                                  const struct esximg_profile_payload *payloads, size_t count,
                                  struct esximg_err *err)
{
    if (count && !payloads)
        return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s': no payloads given", vib_id);
    for (size_t i = 0; i < count; i++) {
        const struct esximg_profile_payload *q = &payloads[i];
        if (!q->payload_name || !q->payload_name[0] || !q->file || !q->file[0])
            return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s': payload %zu without name or "
                                  "file", vib_id, i);
        int rc = xml_check_text("payload name", q->payload_name, err);
        if (!rc)
            rc = xml_check_text("payload file", q->file, err);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(payloads[j].payload_name, q->payload_name) == 0)
                return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s': payload '%s' given twice",
                                      vib_id, q->payload_name);
    }
    return 0;
}

int esximg_profile_add_vib(struct esximg_profile *p, const char *vib_id,
                           const struct esximg_profile_payload *payloads, size_t payload_count,
                           struct esximg_err *err)
{
    if (!vib_id || !vib_id[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "vib without vib-id");
    int rc = xml_check_text("vib-id", vib_id, err);
    if (!rc)
        rc = profile_check_payloads(vib_id, payloads, payload_count, err);
    if (rc)
        return rc;
    if (esximg_profile_find(p, vib_id))
        return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s' is already in the profile",
                              vib_id);
    struct esximg_profile_vib v = { .has_payloads = true };
    v.vib_id = esx_strdup(vib_id);
    v.payloads = esx_malloc_array(payload_count ? payload_count : 1, sizeof *v.payloads);
    if (!v.vib_id || !v.payloads)
        goto nomem;
    for (size_t i = 0; i < payload_count; i++) {
        v.payloads[i].payload_name = esx_strdup(payloads[i].payload_name);
        v.payloads[i].file = esx_strdup(payloads[i].file);
        v.payload_count++;
        if (!v.payloads[i].payload_name || !v.payloads[i].file)
            goto nomem;
    }
    struct esximg_profile_vib *grown = esx_realloc_array(p->vibs, p->vib_count + 1,
                                                         sizeof *grown);
    if (!grown)
        goto nomem;
    p->vibs = grown;
    grown[p->vib_count++] = v;
    p->has_viblist = true;
    return 0;
nomem:
    profile_vib_clear(&v);
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static void profile_drop(struct esximg_profile *p, size_t i)
{
    profile_vib_clear(&p->vibs[i]);
    memmove(&p->vibs[i], &p->vibs[i + 1], (p->vib_count - i - 1) * sizeof *p->vibs);
    p->vib_count--;
}

int esximg_profile_remove_vib(struct esximg_profile *p, const char *vib_id,
                              struct esximg_err *err)
{
    for (size_t i = 0; vib_id && i < p->vib_count; i++)
        if (strcmp(p->vibs[i].vib_id, vib_id) == 0) {
            profile_drop(p, i);
            return 0;
        }
    return esximg_err_set(err, ESXIMG_ENOTFOUND, "vib '%s' is not in the profile",
                          vib_id ? vib_id : "");
}

int esximg_profile_remove_by_name(struct esximg_profile *p, const char *name, size_t *removed,
                                  struct esximg_err *err)
{
    size_t count = 0;
    for (size_t i = 0; name && i < p->vib_count;) {
        struct esximg_vib_id_parts parts;
        if (esximg_vib_id_split(p->vibs[i].vib_id, &parts, NULL) == 0) {
            bool match = strcmp(parts.name, name) == 0;
            esximg_vib_id_parts_clear(&parts);
            if (match) {
                profile_drop(p, i);
                count++;
                continue;
            }
        }
        i++;
    }
    if (!count)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "no vib named '%s' in the profile",
                              name ? name : "");
    if (removed)
        *removed = count;
    return 0;
}

int esximg_profile_file_name(const char *name, const char *creator, char **out,
                             struct esximg_err *err)
{
    if (!name || !name[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "image profile needs a name");
    if (!creator)
        creator = "";
    char *quoted;
    size_t name_len = strlen(name);
    int rc = esximg_modname_url_quote(name, name_len, &quoted, err);
    if (rc)
        return rc;
    if (strlen(quoted) > IMGDB_QUOTED_NAME_MAX)
        quoted[IMGDB_QUOTED_NAME_MAX] = '\0';
    int32_t h = esximg_modname_py2_hash_pair(name, name_len, creator, strlen(creator));
    char *file;
    if (asprintf(&file, "%s%" PRId32, quoted, h) < 0)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    else
        *out = file;
    free(quoted);
    return rc;
}

/* ================================================================ vib-ids */

void esximg_vib_id_parts_clear(struct esximg_vib_id_parts *parts)
{
    if (!parts)
        return;
    free(parts->vendor);
    free(parts->type);
    free(parts->name);
    free(parts->version);
    memset(parts, 0, sizeof *parts);
}

int esximg_vib_id_split(const char *vib_id, struct esximg_vib_id_parts *out,
                        struct esximg_err *err)
{
    const char *first = vib_id ? strchr(vib_id, '_') : NULL;
    const char *second = first ? strchr(first + 1, '_') : NULL;
    const char *last = vib_id ? strrchr(vib_id, '_') : NULL;
    if (!second || last <= second || first == vib_id || second == first + 1 ||
        last == second + 1 || !last[1])
        return esximg_err_set(err, ESXIMG_EFORMAT,
                              "vib-id '%s' is not vendor_type_name_version",
                              vib_id ? vib_id : "");
    struct esximg_vib_id_parts parts = {
        esx_strndup(vib_id, (size_t)(first - vib_id)),
        esx_strndup(first + 1, (size_t)(second - first - 1)),
        esx_strndup(second + 1, (size_t)(last - second - 1)),
        esx_strdup(last + 1),
    };
    if (!parts.vendor || !parts.type || !parts.name || !parts.version) {
        esximg_vib_id_parts_clear(&parts);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    *out = parts;
    return 0;
}

/* ================================================================ bulletins */

static const char *const bulletin_names[] = {
    "id", "vendor", "summary", "severity", "category", "urgency", "releaseType", "description",
    "kbUrl", "contact", "componentNameSpec", "componentVersionSpec", "releaseDate",
    "platforms", "vibList",
};
enum {
    BULLETIN_ID, BULLETIN_VENDOR, BULLETIN_SUMMARY, BULLETIN_SEVERITY, BULLETIN_CATEGORY,
    BULLETIN_URGENCY, BULLETIN_RELEASE_TYPE, BULLETIN_DESCRIPTION, BULLETIN_KB_URL,
    BULLETIN_CONTACT, BULLETIN_NAME_SPEC, BULLETIN_VERSION_SPEC, BULLETIN_RELEASE_DATE,
    BULLETIN_PLATFORMS, BULLETIN_VIB_LIST, BULLETIN_NAME_COUNT
};

void esximg_bulletin_free(struct esximg_bulletin *b)
{
    if (!b)
        return;
    char **texts[] = {
        &b->id, &b->vendor, &b->summary, &b->severity, &b->category, &b->urgency,
        &b->release_type, &b->description, &b->kb_url, &b->contact, &b->component_name,
        &b->component_ui_name, &b->component_version, &b->component_ui_version,
        &b->release_date,
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        free(*texts[i]);
    for (size_t i = 0; i < b->platform_count; i++) {
        free(b->platforms[i].version);
        free(b->platforms[i].locale);
        free(b->platforms[i].product_line_id);
    }
    free(b->platforms);
    for (size_t i = 0; i < b->vib_count; i++)
        free(b->vib_ids[i]);
    free(b->vib_ids);
    xml_extras_free(b->extras, b->extra_count);
    free(b);
}

static char **bulletin_text_slot(struct esximg_bulletin *b, size_t idx)
{
    switch (idx) {
    case BULLETIN_ID: return &b->id;
    case BULLETIN_VENDOR: return &b->vendor;
    case BULLETIN_SUMMARY: return &b->summary;
    case BULLETIN_SEVERITY: return &b->severity;
    case BULLETIN_CATEGORY: return &b->category;
    case BULLETIN_URGENCY: return &b->urgency;
    case BULLETIN_RELEASE_TYPE: return &b->release_type;
    case BULLETIN_DESCRIPTION: return &b->description;
    case BULLETIN_KB_URL: return &b->kb_url;
    case BULLETIN_CONTACT: return &b->contact;
    case BULLETIN_RELEASE_DATE: return &b->release_date;
    default: return NULL;
    }
}

/* the element children of a list element, each named `item` */
static int bulletin_list_items(const xmlNode *n, const char *item, struct esximg_err *err)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE ||
            ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
             xml_blank(c->content)))
            continue;
        if (!xml_is(c, item))
            return esximg_err_set(err, ESXIMG_EFORMAT, "unexpected node in '%s'", n->name);
    }
    return 0;
}

static int bulletin_read_platforms(struct esximg_bulletin *b, const xmlNode *n,
                                   struct esximg_err *err)
{
    b->has_platforms = true;
    int rc = bulletin_list_items(n, "softwarePlatform", err);
    for (const xmlNode *c = n->children; !rc && c; c = c->next) {
        if (!xml_is(c, "softwarePlatform"))
            continue;
        struct esximg_bulletin_platform *grown =
            esx_realloc_array(b->platforms, b->platform_count + 1, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        b->platforms = grown;
        struct esximg_bulletin_platform *p = &grown[b->platform_count++];
        memset(p, 0, sizeof *p);
        rc = esx_xml_attr(c, "version", false, &p->version, err);
        if (!rc)
            rc = esx_xml_attr(c, "locale", false, &p->locale, err);
        if (!rc)
            rc = esx_xml_attr(c, "productLineID", false, &p->product_line_id, err);
    }
    return rc;
}

static int bulletin_read_vibs(struct esximg_bulletin *b, const xmlNode *n,
                              struct esximg_err *err)
{
    b->has_vib_list = true;
    int rc = bulletin_list_items(n, "vibID", err);
    for (const xmlNode *c = n->children; !rc && c; c = c->next) {
        if (!xml_is(c, "vibID"))
            continue;
        char **grown = esx_realloc_array(b->vib_ids, b->vib_count + 1, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        b->vib_ids = grown;
        grown[b->vib_count] = NULL;
        rc = esx_xml_text_only(c, &grown[b->vib_count], err);
        if (!rc)
            b->vib_count++;
    }
    return rc;
}

static int bulletin_elem(void *model, size_t idx, xmlNode *n, struct esximg_err *err)
{
    struct esximg_bulletin *b = model;
    char **slot = bulletin_text_slot(b, idx);
    if (slot)
        return esx_xml_text_only(n, slot, err);
    if (idx == BULLETIN_NAME_SPEC) {
        b->has_name_spec = true;
        int rc = esx_xml_attr(n, "name", false, &b->component_name, err);
        return rc ? rc : esx_xml_attr(n, "uiString", false, &b->component_ui_name, err);
    }
    if (idx == BULLETIN_VERSION_SPEC) {
        b->has_version_spec = true;
        int rc = esx_xml_attr(n, "version", false, &b->component_version, err);
        return rc ? rc : esx_xml_attr(n, "uiString", false, &b->component_ui_version, err);
    }
    if (idx == BULLETIN_PLATFORMS)
        return bulletin_read_platforms(b, n, err);
    return bulletin_read_vibs(b, n, err);
}

int esximg_bulletin_read(const void *xml, size_t len, struct esximg_bulletin **out,
                         struct esximg_err *err)
{
    xmlDoc *doc = NULL;
    int rc = xml_parse(xml, len, "bulletin", &doc, err);
    if (rc)
        return rc;
    struct esximg_bulletin *b = calloc(1, sizeof *b);
    if (!b) {
        xmlFreeDoc(doc);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    rc = xml_walk(doc, xmlDocGetRootElement(doc), bulletin_names, BULLETIN_NAME_COUNT,
                  bulletin_elem, b, &b->extras, &b->extra_count, err);
    if (!rc && (!b->id || !b->id[0]))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "bulletin has no id");
    xmlFreeDoc(doc);
    if (rc) {
        esximg_bulletin_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static int bulletin_put_slot(struct esx_buf *o, const struct esximg_bulletin *b, size_t idx,
                             struct esximg_err *err)
{
    char **slot = bulletin_text_slot((struct esximg_bulletin *)(uintptr_t)b, idx);
    if (slot)
        return esx_xml_put_elem(o, imgdb_xml, bulletin_names[idx], *slot, err);
    int rc = 0;
    if (idx == BULLETIN_NAME_SPEC && b->has_name_spec) {
        rc = esx_buf_puts(o, "<componentNameSpec", err);
        if (!rc)
            rc = esx_xml_put_attr(o, imgdb_xml, "name", b->component_name, err);
        if (!rc)
            rc = esx_xml_put_attr(o, imgdb_xml, "uiString", b->component_ui_name, err);
        return rc ? rc : esx_buf_puts(o, "/>", err);
    }
    if (idx == BULLETIN_VERSION_SPEC && b->has_version_spec) {
        rc = esx_buf_puts(o, "<componentVersionSpec", err);
        if (!rc)
            rc = esx_xml_put_attr(o, imgdb_xml, "version", b->component_version, err);
        if (!rc)
            rc = esx_xml_put_attr(o, imgdb_xml, "uiString", b->component_ui_version, err);
        return rc ? rc : esx_buf_puts(o, "/>", err);
    }
    if (idx == BULLETIN_PLATFORMS && (b->has_platforms || b->platform_count)) {
        rc = esx_buf_puts(o, b->platform_count ? "<platforms>" : "<platforms/>", err);
        for (size_t i = 0; !rc && i < b->platform_count; i++) {
            const struct esximg_bulletin_platform *p = &b->platforms[i];
            rc = esx_buf_puts(o, "<softwarePlatform", err);
            if (!rc)
                rc = esx_xml_put_attr(o, imgdb_xml, "locale", p->locale, err);
            if (!rc)
                rc = esx_xml_put_attr(o, imgdb_xml, "productLineID", p->product_line_id, err);
            if (!rc)
                rc = esx_xml_put_attr(o, imgdb_xml, "version", p->version, err);
            if (!rc)
                rc = esx_buf_puts(o, "/>", err);
        }
        return rc || !b->platform_count ? rc : esx_buf_puts(o, "</platforms>", err);
    }
    if (idx == BULLETIN_VIB_LIST && (b->has_vib_list || b->vib_count)) {
        rc = esx_buf_puts(o, b->vib_count ? "<vibList>" : "<vibList/>", err);
        for (size_t i = 0; !rc && i < b->vib_count; i++)
            rc = esx_xml_put_elem(o, imgdb_xml, "vibID", b->vib_ids[i], err);
        return rc || !b->vib_count ? rc : esx_buf_puts(o, "</vibList>", err);
    }
    return 0;
}

int esximg_bulletin_write(const struct esximg_bulletin *b, char **xml, size_t *len,
                          struct esximg_err *err)
{
    if (!b || !b->id)
        return esximg_err_set(err, ESXIMG_EINVAL, "bulletin has no id");
    struct esx_buf o;
    esx_buf_init(&o, (size_t)ESX_MAX_XML_BYTES);
    int rc = esx_buf_puts(&o, "<bulletin>", err);
    if (!rc)
        rc = xml_put_extras(&o, b->extras, b->extra_count, NULL, err);
    for (size_t i = 0; !rc && i < BULLETIN_NAME_COUNT; i++) {
        rc = bulletin_put_slot(&o, b, i, err);
        if (!rc)
            rc = xml_put_extras(&o, b->extras, b->extra_count, bulletin_names[i], err);
    }
    if (!rc)
        rc = xml_put_orphans(&o, b->extras, b->extra_count, bulletin_names,
                             BULLETIN_NAME_COUNT, err);
    if (!rc)
        rc = esx_buf_puts(&o, "</bulletin>", err);
    if (rc) {
        esx_buf_free(&o);
        return rc;
    }
    *xml = esx_buf_take(&o, len);
    return *xml ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static int bulletin_fill(struct esximg_bulletin *b, const struct esximg_bulletin_spec *s,
                         struct esximg_err *err)
{
    const char *ui_name = s->ui_name ? s->ui_name : s->component_name;
    char *id;
    if (asprintf(&id, "%s_%s", s->component_name, s->version) < 0)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = xml_set(&b->id, "component id", id, err);
    free(id);
    struct { char **slot; const char *what; const char *value; } sets[] = {
        { &b->vendor, "vendor", s->vendor },
        { &b->summary, "summary", s->summary ? s->summary : ui_name },
        { &b->severity, "severity", "general" },
        { &b->category, "category", "enhancement" },
        { &b->urgency, "urgency", "important" },
        { &b->release_type, "release type", "extension" },
        { &b->description, "description", s->description ? s->description : ui_name },
        { &b->kb_url, "kb url", s->kb_url },
        { &b->contact, "contact", s->contact },
        { &b->component_name, "component name", s->component_name },
        { &b->component_ui_name, "component ui name", ui_name },
        { &b->component_version, "version", s->version },
        { &b->component_ui_version, "ui version", s->ui_version ? s->ui_version : s->version },
        { &b->release_date, "release date", s->release_date },
    };
    for (size_t i = 0; !rc && i < sizeof sets / sizeof sets[0]; i++)
        rc = xml_set(sets[i].slot, sets[i].what, sets[i].value, err);
    b->has_name_spec = b->has_version_spec = b->has_vib_list = true;
    b->vib_ids = calloc(1, sizeof *b->vib_ids);
    if (!rc && !b->vib_ids)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc && (rc = xml_set(&b->vib_ids[0], "vib-id", s->vib_id, err)) == 0)
        b->vib_count = 1;
    if (rc || !s->platform_version)
        return rc;
    b->has_platforms = true;
    b->platforms = calloc(1, sizeof *b->platforms);
    if (!b->platforms)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    b->platform_count = 1;
    rc = xml_set(&b->platforms[0].version, "platform version", s->platform_version, err);
    if (!rc)
        rc = xml_set(&b->platforms[0].locale, "locale", "", err);
    if (!rc)
        rc = xml_set(&b->platforms[0].product_line_id, "product line", "embeddedEsx", err);
    return rc;
}

int esximg_bulletin_new(const struct esximg_bulletin_spec *spec, struct esximg_bulletin **out,
                        struct esximg_err *err)
{
    if (!spec || !spec->component_name || !spec->component_name[0] || !spec->version ||
        !spec->version[0] || !spec->vendor || !spec->release_date || !spec->vib_id ||
        !spec->vib_id[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "a bulletin needs a component name, "
                              "version, vendor, release date and vib-id");
    struct esximg_bulletin *b = calloc(1, sizeof *b);
    if (!b)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = bulletin_fill(b, spec, err);
    if (rc) {
        esximg_bulletin_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* ================================================================ the container */

enum imgdb_class { IMGDB_OTHER, IMGDB_PROFILE, IMGDB_VIB, IMGDB_BULLETIN, IMGDB_RESERVED };

static void imgdb_files_free(struct esximg_imgdb_file *files, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(files[i].path);
        free(files[i].data);
    }
    free(files);
}

void esximg_imgdb_free(struct esximg_imgdb *db)
{
    if (!db)
        return;
    free(db->profile_file);
    esximg_profile_free(db->profile);
    imgdb_files_free(db->vibs, db->vib_count);
    imgdb_files_free(db->bulletins, db->bulletin_count);
    imgdb_files_free(db->reserved, db->reserved_count);
    imgdb_files_free(db->others, db->other_count);
    free(db);
}

int esximg_imgdb_new(struct esximg_imgdb **out, struct esximg_err *err)
{
    struct esximg_imgdb *db = calloc(1, sizeof *db);
    if (!db)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    *out = db;
    return 0;
}

/* "<dir>/<file>.xml" directly in var/db/esximg/<dir>/ */
static bool imgdb_is_xml_in(const char *rel, const char *dir)
{
    size_t dl = strlen(dir), rl = strlen(rel);
    return rl > dl + 1 + 4 && strncmp(rel, dir, dl) == 0 && rel[dl] == '/' &&
           !strchr(rel + dl + 1, '/') && strcmp(rel + rl - 4, ".xml") == 0;
}

static enum imgdb_class imgdb_classify(const char *path, bool is_dir)
{
    const char *rel = path + strlen(ESXIMG_IMGDB_PREFIX);
    if (is_dir)
        return IMGDB_OTHER;
    if (strncmp(rel, "profiles/", 9) == 0 && rel[9] && !strchr(rel + 9, '/'))
        return IMGDB_PROFILE;
    if (imgdb_is_xml_in(rel, "vibs"))
        return IMGDB_VIB;
    if (imgdb_is_xml_in(rel, "bulletins"))
        return IMGDB_BULLETIN;
    if (imgdb_is_xml_in(rel, "reservedComponents"))
        return IMGDB_RESERVED;
    return IMGDB_OTHER;
}

/* Checks a member name and gives its canonical form (no "./" in front, no '/' at the end):
 * *canon NULL means "skip it" (".", and the directories var, var/db, var/db/esximg, which
 * the writer always adds). */
static int imgdb_canon_path(const char *name, bool is_dir, char **canon,
                            struct esximg_err *err)
{
    int rc = esx_path_check(name, "member", err);
    if (rc)
        return rc;
    const char *p = name;
    while (p[0] == '.' && p[1] == '/')
        p++, p += strspn(p, "/");
    size_t len = strlen(p);
    while (is_dir && len > 0 && p[len - 1] == '/')
        len--;
    *canon = NULL;
    if (len == 0 || (len == 1 && p[0] == '.'))
        return 0;
    char *c = esx_strndup(p, len);
    if (!c)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (strstr(c, "//") || strstr(c, "/./") || c[len - 1] == '/' ||
        (len >= 2 && strcmp(c + len - 2, "/.") == 0)) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "member '%s': name is not canonical", name);
        goto out;
    }
    if (is_dir && (strcmp(c, "var") == 0 || strcmp(c, "var/db") == 0 ||
                   strcmp(c, "var/db/esximg") == 0))
        goto out;  /* c freed, *canon stays NULL */
    if (strncmp(c, ESXIMG_IMGDB_PREFIX, strlen(ESXIMG_IMGDB_PREFIX)) != 0) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "member '%s': outside " ESXIMG_IMGDB_PREFIX,
                            name);
        goto out;
    }
    if (len + (is_dir ? 1 : 0) > IMGDB_NAME_MAX) {
        rc = esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': name longer than %u bytes",
                            name, IMGDB_NAME_MAX);
        goto out;
    }
    *canon = c;
    c = NULL;
out:
    free(c);
    return rc;
}

static int imgdb_push(struct esximg_imgdb_file **files, size_t *count,
                      const struct esximg_imgdb_file *f, struct esximg_err *err)
{
    struct esximg_imgdb_file *grown = esx_realloc_array(*files, *count + 1, sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    *files = grown;
    grown[(*count)++] = *f;
    return 0;
}

/* Files the member (path canonical, data taken over). The profile is parsed. */
static int imgdb_store(struct esximg_imgdb *db, struct esximg_imgdb_file *f,
                       struct esximg_err *err)
{
    switch (imgdb_classify(f->path, f->is_dir)) {
    case IMGDB_VIB: return imgdb_push(&db->vibs, &db->vib_count, f, err);
    case IMGDB_BULLETIN: return imgdb_push(&db->bulletins, &db->bulletin_count, f, err);
    case IMGDB_RESERVED: return imgdb_push(&db->reserved, &db->reserved_count, f, err);
    case IMGDB_OTHER: return imgdb_push(&db->others, &db->other_count, f, err);
    case IMGDB_PROFILE: break;
    }
    const char *file = esx_path_base(f->path);
    if (db->profile)
        return esximg_err_set(err, ESXIMG_EFORMAT, "more than one image profile ('%s' and "
                              "'%s')", db->profile_file, file);
    struct esximg_profile *p;
    int rc = esximg_profile_read(f->data, f->len, &p, err);
    if (rc) {
        esximg_err_prefix(err, "profile '%s': ", file);
        return rc;
    }
    char *name = esx_strdup(file);
    if (!name) {
        esximg_profile_free(p);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    db->profile = p;
    db->profile_file = name;
    free(f->data);
    free(f->path);
    return 0;
}

/* Every member of the database as (path, is_dir), borrowed, for the conflict checks and
 * the writer. The profile has no data here. */
struct imgdb_member {
    const char *path;
    bool is_dir;
    const uint8_t *data;
    size_t len;
    char *owned_path;   /* set when the path was made here */
};

static int imgdb_member_cmp(const void *a, const void *b)
{
    const struct imgdb_member *ma = a, *mb = b;
    return strcmp(ma->path, mb->path);
}

static void imgdb_members_free(struct imgdb_member *m, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(m[i].owned_path);
    free(m);
}

/* "var/db/esximg/profiles/<file>", the file named by the formula when the model has none */
static int imgdb_profile_path(const struct esximg_imgdb *db, char **out, struct esximg_err *err)
{
    char *computed = NULL;
    const char *file = db->profile_file;
    if (!file) {
        int rc = esximg_profile_file_name(db->profile->name, db->profile->creator, &computed,
                                          err);
        if (rc)
            return rc;
        file = computed;
    }
    *out = esx_path_join(ESXIMG_IMGDB_PREFIX "profiles", file);
    free(computed);
    return *out ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

/* Every member (the profile without its bytes first, when there is one), paths borrowed
 * but for the profile's. */
static int imgdb_members(const struct esximg_imgdb *db, struct imgdb_member **out,
                         size_t *count, struct esximg_err *err)
{
    const struct { const struct esximg_imgdb_file *files; size_t count; } lists[] = {
        { db->vibs, db->vib_count }, { db->bulletins, db->bulletin_count },
        { db->reserved, db->reserved_count }, { db->others, db->other_count },
    };
    size_t total = 1;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (esx_add_size(total, lists[i].count, &total))
            return esximg_err_set(err, ESXIMG_ELIMIT, "too many members");
    struct imgdb_member *m = esx_malloc_array(total, sizeof *m);
    if (!m)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t n = 0;
    if (db->profile) {
        char *path;
        int rc = imgdb_profile_path(db, &path, err);
        if (rc) {
            free(m);
            return rc;
        }
        m[n++] = (struct imgdb_member){ path, false, NULL, 0, path };
    }
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        for (size_t j = 0; j < lists[i].count; j++) {
            const struct esximg_imgdb_file *f = &lists[i].files[j];
            m[n++] = (struct imgdb_member){ f->path, f->is_dir, f->data, f->len, NULL };
        }
    *out = m;
    *count = n;
    return 0;
}

/* In sorted members: whether one lies under `path` (the first path >= "<path>/" starts with
 * it; a plain neighbour test would miss "a/b" behind "a-b"). */
static bool imgdb_has_child(const struct imgdb_member *m, size_t count, const char *path)
{
    size_t len = strlen(path);
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(m[mid].path, path, len);
        if (c < 0 || (c == 0 && (unsigned char)m[mid].path[len] < '/'))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && strncmp(m[lo].path, path, len) == 0 && m[lo].path[len] == '/';
}

/* In sorted members: a path listed twice, or a file that would need to be a directory. */
static int imgdb_check_sorted(const struct imgdb_member *m, size_t count, bool dirs_may_repeat,
                              struct esximg_err *err)
{
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(m[i - 1].path, m[i].path) == 0 &&
            !(dirs_may_repeat && m[i - 1].is_dir && m[i].is_dir))
            return esximg_err_set(err, ESXIMG_EFORMAT, "member '%s' is listed twice",
                                  m[i].path);
        if (!m[i].is_dir && imgdb_has_child(m, count, m[i].path))
            return esximg_err_set(err, ESXIMG_EFORMAT, "member '%s' is a file and a folder",
                                  m[i].path);
    }
    return 0;
}

/* Checks the whole database once read, and drops the folders that hold something: the
 * writer makes them again, so only empty folders are worth keeping in the model. */
static int imgdb_check_all(struct esximg_imgdb *db, struct esximg_err *err)
{
    struct imgdb_member *m;
    size_t count;
    int rc = imgdb_members(db, &m, &count, err);
    if (rc)
        return rc;
    qsort(m, count, sizeof *m, imgdb_member_cmp);
    rc = imgdb_check_sorted(m, count, false, err);
    /* m borrows the paths: mark first, free once m is gone */
    bool *implied = rc ? NULL : esx_malloc_array(db->other_count + 1, sizeof *implied);
    if (!rc && !implied)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < db->other_count; i++)
        implied[i] = db->others[i].is_dir && imgdb_has_child(m, count, db->others[i].path);
    imgdb_members_free(m, count);
    size_t kept = 0;
    for (size_t i = 0; !rc && i < db->other_count; i++) {
        if (implied[i]) {
            free(db->others[i].path);
            free(db->others[i].data);
        } else {
            db->others[kept++] = db->others[i];
        }
    }
    if (!rc)
        db->other_count = kept;
    free(implied);
    return rc;
}

/* adds one member; the caller checks conflicts */
static int imgdb_add(struct esximg_imgdb *db, const char *name, bool is_dir, unsigned mode,
                     uint8_t *data_take, size_t len, struct esximg_err *err)
{
    char *path = NULL;
    int rc = imgdb_canon_path(name, is_dir, &path, err);
    if (rc || !path) {
        free(data_take);
        return rc;
    }
    struct esximg_imgdb_file f = { path, is_dir, mode & 07777u, data_take, len };
    rc = imgdb_store(db, &f, err);
    if (rc) {
        free(path);
        free(data_take);
    }
    return rc;
}

static int imgdb_read_data(struct archive *a, const char *name, int64_t size,
                           uint8_t **data, struct esximg_err *err)
{
    *data = NULL;
    if (size == 0)
        return 0;
    uint8_t *buf = malloc((size_t)size);
    if (!buf)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading member '%s'", name);
    size_t got = 0;
    while (got < (size_t)size) {
        la_ssize_t n = archive_read_data(a, buf + got, (size_t)size - got);
        if (n <= 0) {
            free(buf);
            return esximg_err_set(err, ESXIMG_EFORMAT, "member '%s': data is truncated%s%s",
                                  name, n < 0 ? ": " : "",
                                  n < 0 && archive_error_string(a) ? archive_error_string(a)
                                                                   : "");
        }
        got += (size_t)n;
    }
    *data = buf;
    return 0;
}

static int imgdb_read_entry(struct esximg_imgdb *db, struct archive *a,
                            struct archive_entry *e, uint64_t *total, struct esximg_err *err)
{
    const char *name = archive_entry_pathname(e);
    if (!name)
        return esximg_err_set(err, ESXIMG_EFORMAT, "member without a readable name");
    if (archive_entry_hardlink(e))
        return esximg_err_set(err, ESXIMG_EUNSAFE, "member '%s': hard link", name);
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFLNK)
        return esximg_err_set(err, ESXIMG_EUNSAFE, "member '%s': symbolic link", name);
    if (type != AE_IFREG && type != AE_IFDIR)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "member '%s': not a file or folder",
                              name);
    int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (type == AE_IFDIR)
        size = 0;
    if (size < 0 || esx_add_u64(*total, (uint64_t)size, total) ||
        *total > ESX_MAX_IMGDB_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': the database holds more "
                              "than %llu bytes", name, (unsigned long long)ESX_MAX_IMGDB_BYTES);
    uint8_t *data;
    int rc = imgdb_read_data(a, name, size, &data, err);
    if (rc)
        return rc;
    return imgdb_add(db, name, type == AE_IFDIR, (unsigned)archive_entry_perm(e), data,
                     (size_t)size, err);
}

static int imgdb_read_tar(struct esximg_imgdb *db, const uint8_t *tar, size_t len,
                          struct esximg_err *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = 0;
    if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, tar, len) != ARCHIVE_OK) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "not a tar archive: %s",
                            archive_error_string(a) ? archive_error_string(a) : "unknown");
        goto out;
    }
    uint64_t total = 0;
    for (size_t entries = 0; !rc; entries++) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "bad tar header after %zu members: %s",
                                entries, archive_error_string(a) ? archive_error_string(a)
                                                                 : "unknown");
            break;
        }
        if (entries >= ESX_MAX_ARCHIVE_ENTRIES) {
            rc = esximg_err_set(err, ESXIMG_ELIMIT, "more than %u members",
                                ESX_MAX_ARCHIVE_ENTRIES);
            break;
        }
        rc = imgdb_read_entry(db, a, e, &total, err);
    }
out:
    archive_read_free(a);
    return rc;
}

int esximg_imgdb_read(const void *data, size_t len, struct esximg_imgdb **out,
                      struct esximg_err *err)
{
    uint8_t *tar = NULL;
    size_t tar_len = len;
    const uint8_t *bytes = data;
    int rc = 0;
    if (esx_is_gzip(bytes, len)) {
        rc = esx_gunzip(bytes, len, ESX_MAX_IMGDB_BYTES, false, &tar, &tar_len, err);
        if (rc)
            return rc;
        bytes = tar;
    }
    if (tar_len == 0) {
        free(tar);
        return esximg_err_set(err, ESXIMG_EFORMAT, "empty tar archive");
    }
    struct esximg_imgdb *db = calloc(1, sizeof *db);
    if (!db) {
        free(tar);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    rc = imgdb_read_tar(db, bytes, tar_len, err);
    if (!rc)
        rc = imgdb_check_all(db, err);
    free(tar);
    if (rc) {
        esximg_imgdb_free(db);
        return rc;
    }
    *out = db;
    return 0;
}

/* ---- edits */

/* the linear form of imgdb_check_sorted, for one new member */
static int imgdb_check_new(const struct esximg_imgdb *db, const char *path, bool is_dir,
                           struct esximg_err *err)
{
    struct imgdb_member *m;
    size_t count;
    int rc = imgdb_members(db, &m, &count, err);
    if (rc)
        return rc;
    size_t len = strlen(path);
    for (size_t i = 0; i < count && !rc; i++) {
        size_t ml = strlen(m[i].path);
        if (strcmp(m[i].path, path) == 0)
            rc = esximg_err_set(err, ESXIMG_EINVAL, "member '%s' is already there", path);
        else if ((!m[i].is_dir && len > ml && strncmp(path, m[i].path, ml) == 0 &&
                  path[ml] == '/') ||
                 (!is_dir && ml > len && strncmp(m[i].path, path, len) == 0 &&
                  m[i].path[len] == '/'))
            rc = esximg_err_set(err, ESXIMG_EINVAL, "member '%s' is a file and a folder",
                                len < ml ? path : m[i].path);
    }
    imgdb_members_free(m, count);
    return rc;
}

static int imgdb_add_copy(struct esximg_imgdb *db, const char *path, const void *data,
                          size_t len, struct esximg_err *err)
{
    char *canon = NULL;
    int rc = imgdb_canon_path(path, false, &canon, err);
    if (rc)
        return rc;
    if (!canon)
        return esximg_err_set(err, ESXIMG_EINVAL, "member '%s': not a file name", path);
    rc = imgdb_check_new(db, canon, false, err);
    if (!rc && imgdb_classify(canon, false) == IMGDB_PROFILE && db->profile)
        rc = esximg_err_set(err, ESXIMG_EINVAL, "more than one image profile ('%s' and "
                            "'%s')", db->profile_file, esx_path_base(canon));
    free(canon);
    if (rc)
        return rc;
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        memcpy(copy, data, len);
    }
    return imgdb_add(db, path, false, 0644, copy, len, err);
}

int esximg_imgdb_add_file(struct esximg_imgdb *db, const char *path, const void *data,
                          size_t len, struct esximg_err *err)
{
    if (!db || !path || (len && !data))
        return esximg_err_set(err, ESXIMG_EINVAL, "no database, path or data");
    if (len > ESX_MAX_IMGDB_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s' is larger than %llu bytes",
                              path, (unsigned long long)ESX_MAX_IMGDB_BYTES);
    return imgdb_add_copy(db, path, data, len, err);
}

static struct esximg_imgdb_file *imgdb_find(struct esximg_imgdb_file *files, size_t count,
                                            const char *dir, const char *file_name)
{
    size_t dl = strlen(dir);
    for (size_t i = 0; file_name && i < count; i++) {
        const char *p = files[i].path + strlen(ESXIMG_IMGDB_PREFIX);
        if (strncmp(p, dir, dl) == 0 && p[dl] == '/' && strcmp(p + dl + 1, file_name) == 0)
            return &files[i];
    }
    return NULL;
}

const struct esximg_imgdb_file *esximg_imgdb_find_vib_xml(const struct esximg_imgdb *db,
                                                          const char *file_name)
{
    return db ? imgdb_find(db->vibs, db->vib_count, "vibs", file_name) : NULL;
}

static int imgdb_check_file_name(const char *file_name, struct esximg_err *err)
{
    size_t len = file_name ? strlen(file_name) : 0;
    if (len <= 4 || strchr(file_name, '/') || strcmp(file_name + len - 4, ".xml") != 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "file name '%s' is not <name>.xml",
                              file_name ? file_name : "");
    return 0;
}

/* Replaces the bytes of f, or adds a copy at `path` when f is NULL. */
static int imgdb_put_file(struct esximg_imgdb *db, struct esximg_imgdb_file *f, const char *path,
                          const void *data, size_t len, struct esximg_err *err)
{
    if (!f)
        return imgdb_add_copy(db, path, data, len, err);
    uint8_t *copy = NULL;
    if (len && !(copy = malloc(len)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (len)
        memcpy(copy, data, len);
    free(f->data);
    f->data = copy;
    f->len = len;
    return 0;
}

static int imgdb_put(struct esximg_imgdb *db, struct esximg_imgdb_file *files, size_t count,
                     const char *dir, const char *file_name, const void *xml, size_t len,
                     struct esximg_err *err)
{
    int rc = imgdb_check_file_name(file_name, err);
    if (rc)
        return rc;
    if (len > ESX_MAX_XML_BYTES || (len && !xml))
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s': no data or larger than %llu bytes",
                              file_name, (unsigned long long)ESX_MAX_XML_BYTES);
    char *path;
    if (asprintf(&path, ESXIMG_IMGDB_PREFIX "%s/%s", dir, file_name) < 0)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    rc = imgdb_put_file(db, imgdb_find(files, count, dir, file_name), path, xml, len, err);
    free(path);
    return rc;
}

int esximg_imgdb_put_vib_xml(struct esximg_imgdb *db, const char *file_name, const void *xml,
                             size_t len, struct esximg_err *err)
{
    return imgdb_put(db, db->vibs, db->vib_count, "vibs", file_name, xml, len, err);
}

int esximg_imgdb_put_bulletin(struct esximg_imgdb *db, const char *file_name, const void *xml,
                              size_t len, struct esximg_err *err)
{
    return imgdb_put(db, db->bulletins, db->bulletin_count, "bulletins", file_name, xml, len,
                     err);
}

int esximg_imgdb_put_reserved(struct esximg_imgdb *db, const char *file_name, const void *xml,
                              size_t len, struct esximg_err *err)
{
    return imgdb_put(db, db->reserved, db->reserved_count, "reservedComponents", file_name, xml,
                     len, err);
}

/* vibs/<file_name><suffix> among the other files (".orig", ".sig"), or NULL. */
static struct esximg_imgdb_file *imgdb_find_vib_extra(const struct esximg_imgdb *db,
                                                      const char *file_name, const char *suffix)
{
    static const char dir[] = ESXIMG_IMGDB_PREFIX "vibs/";
    size_t fl = file_name ? strlen(file_name) : 0;
    for (size_t i = 0; db && fl && i < db->other_count; i++) {
        const char *p = db->others[i].path;
        if (!db->others[i].is_dir && strncmp(p, dir, sizeof dir - 1) == 0 &&
            strncmp(p + sizeof dir - 1, file_name, fl) == 0 &&
            strcmp(p + sizeof dir - 1 + fl, suffix) == 0)
            return &db->others[i];
    }
    return NULL;
}

const struct esximg_imgdb_file *esximg_imgdb_find_vib_orig(const struct esximg_imgdb *db,
                                                           const char *file_name)
{
    return imgdb_find_vib_extra(db, file_name, ".orig");
}

const struct esximg_imgdb_file *esximg_imgdb_find_vib_sig(const struct esximg_imgdb *db,
                                                          const char *file_name)
{
    return imgdb_find_vib_extra(db, file_name, ".sig");
}

/* Adds vibs/<file_name><suffix> to the other files, or replaces its bytes. */
static int imgdb_put_vib_extra(struct esximg_imgdb *db, const char *file_name, const char *suffix,
                               const void *data, size_t len, struct esximg_err *err)
{
    if (len > ESX_MAX_XML_BYTES || (len && !data))
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s%s': no data or larger than %llu bytes",
                              file_name, suffix, (unsigned long long)ESX_MAX_XML_BYTES);
    char *path;
    if (asprintf(&path, ESXIMG_IMGDB_PREFIX "vibs/%s%s", file_name, suffix) < 0)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = imgdb_put_file(db, imgdb_find_vib_extra(db, file_name, suffix), path, data, len,
                            err);
    free(path);
    return rc;
}

int esximg_imgdb_put_vib_signature(struct esximg_imgdb *db, const char *file_name,
                                   const void *orig, size_t orig_len, const void *sig,
                                   size_t sig_len, struct esximg_err *err)
{
    if (!db)
        return esximg_err_set(err, ESXIMG_EINVAL, "no database");
    int rc = imgdb_check_file_name(file_name, err);
    if (!rc)
        rc = imgdb_put_vib_extra(db, file_name, ".orig", orig, orig_len, err);
    if (!rc)
        rc = imgdb_put_vib_extra(db, file_name, ".sig", sig, sig_len, err);
    return rc;
}

static void imgdb_drop(struct esximg_imgdb_file *files, size_t *count, size_t i)
{
    free(files[i].path);
    free(files[i].data);
    memmove(&files[i], &files[i + 1], (*count - i - 1) * sizeof *files);
    (*count)--;
}

int esximg_imgdb_remove_vib_xml(struct esximg_imgdb *db, const char *file_name,
                                struct esximg_err *err)
{
    struct esximg_imgdb_file *f = db ? imgdb_find(db->vibs, db->vib_count, "vibs", file_name)
                                     : NULL;
    if (!f)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "'vibs/%s' is not in the database",
                              file_name ? file_name : "");
    size_t plen = strlen(f->path);
    for (size_t i = 0; i < db->other_count;) {
        const char *o = db->others[i].path;
        if (!db->others[i].is_dir && strncmp(o, f->path, plen) == 0 &&
            (strcmp(o + plen, ".orig") == 0 || strcmp(o + plen, ".sig") == 0))
            imgdb_drop(db->others, &db->other_count, i);
        else
            i++;
    }
    imgdb_drop(db->vibs, &db->vib_count, (size_t)(f - db->vibs));
    return 0;
}

int esximg_imgdb_set_profile_take(struct esximg_imgdb *db, struct esximg_profile *p,
                                  const char *file_name, struct esximg_err *err)
{
    char *name = NULL;
    int rc = 0;
    if (!db || !p) {
        rc = esximg_err_set(err, ESXIMG_EINVAL, "no database or profile");
        goto out;
    }
    if (file_name)
        name = esx_strdup(file_name);
    else
        rc = esximg_profile_file_name(p->name, p->creator, &name, err);
    if (!rc && !name)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc && (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
                strcmp(name, "..") == 0 ||
                strlen(ESXIMG_IMGDB_PREFIX "profiles/") + strlen(name) > IMGDB_NAME_MAX))
        rc = esximg_err_set(err, ESXIMG_EINVAL, "profile file name '%s' is not usable", name);
    if (rc)
        goto out;
    esximg_profile_free(db->profile);
    free(db->profile_file);
    db->profile = p;
    db->profile_file = name;
    return 0;
out:
    free(name);
    esximg_profile_free(p);
    return rc;
}

int esximg_imgdb_rename_profile(struct esximg_imgdb *db, struct esximg_err *err)
{
    if (!db || !db->profile)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "the database has no image profile");
    char *name;
    int rc = esximg_profile_file_name(db->profile->name, db->profile->creator, &name, err);
    if (rc)
        return rc;
    if (strlen(ESXIMG_IMGDB_PREFIX "profiles/") + strlen(name) > IMGDB_NAME_MAX) {
        free(name);
        return esximg_err_set(err, ESXIMG_ELIMIT, "profile file name is too long");
    }
    free(db->profile_file);
    db->profile_file = name;
    return 0;
}

/* ---- writing */

struct imgdb_wlist {
    struct imgdb_member *m;
    size_t count;
    size_t cap;
};

static int imgdb_wlist_add(struct imgdb_wlist *l, const struct imgdb_member *item,
                           struct esximg_err *err)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct imgdb_member *grown = esx_realloc_array(l->m, cap, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        l->m = grown;
        l->cap = cap;
    }
    l->m[l->count++] = *item;
    return 0;
}

/* every parent folder of `path` as its own directory member */
static int imgdb_wlist_parents(struct imgdb_wlist *l, const char *path, struct esximg_err *err)
{
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        char *dir = esx_strndup(path, (size_t)(s - path));
        if (!dir)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        struct imgdb_member d = { dir, true, NULL, 0, dir };
        int rc = imgdb_wlist_add(l, &d, err);
        if (rc) {
            free(dir);
            return rc;
        }
    }
    return 0;
}

/* The members to write, sorted, with the profile serialised and every parent folder. */
static int imgdb_wlist_build(const struct esximg_imgdb *db, struct imgdb_wlist *l,
                             char **profile_xml, struct esximg_err *err)
{
    struct imgdb_member *m;
    size_t count;
    int rc = imgdb_members(db, &m, &count, err);
    if (rc)
        return rc;
    if (db->profile) {
        /* imgdb_members puts the profile first */
        rc = esximg_profile_write(db->profile, profile_xml, &m[0].len, err);
        m[0].data = (const uint8_t *)*profile_xml;
    }
    for (size_t i = 0; i < count && !rc; i++) {
        rc = imgdb_wlist_add(l, &m[i], err);
        if (!rc)
            m[i].owned_path = NULL;
    }
    imgdb_members_free(m, count);
    size_t files = l->count;
    for (size_t i = 0; i < files && !rc; i++)
        rc = imgdb_wlist_parents(l, l->m[i].path, err);
    if (!rc)
        rc = imgdb_wlist_parents(l, ESXIMG_IMGDB_PREFIX "x", err);
    if (rc)
        return rc;
    qsort(l->m, l->count, sizeof *l->m, imgdb_member_cmp);
    return imgdb_check_sorted(l->m, l->count, true, err);
}

/* The sorted list as tar members, a folder listed twice written once. */
static int imgdb_write_tar(const struct imgdb_wlist *l, int64_t mtime, struct esx_buf *tar,
                           struct esximg_err *err)
{
    struct esx_tar_member *t = esx_malloc_array(l->count ? l->count : 1, sizeof *t);
    if (!t)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (i > 0 && strcmp(l->m[i - 1].path, l->m[i].path) == 0)
            continue;  /* a folder listed twice */
        const struct imgdb_member *m = &l->m[i];
        t[n++] = (struct esx_tar_member){
            .path = m->path,
            .type = m->is_dir ? ESX_TAR_DIR : ESX_TAR_FILE,
            .mode = m->is_dir ? 0755 : 0644,
            .data = m->data,
            .len = m->is_dir ? 0 : m->len,
        };
    }
    int rc = esx_gnutar_write(t, n, mtime, tar, err);
    free(t);
    return rc;
}

int esximg_imgdb_write(const struct esximg_imgdb *db, const struct esximg_imgdb_wopts *opts,
                       uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    const struct esximg_imgdb_wopts defaults = { 0, 0 };
    if (!opts)
        opts = &defaults;
    if (!db)
        return esximg_err_set(err, ESXIMG_EINVAL, "no database");
    if (opts->mtime < 0 || opts->mtime > ESX_TAR_MTIME_MAX)
        return esximg_err_set(err, ESXIMG_EINVAL, "mtime %" PRId64 " does not fit a tar header",
                              opts->mtime);
    if (opts->gzip_level < 0 || opts->gzip_level > 9)
        return esximg_err_set(err, ESXIMG_EINVAL, "gzip level %d is not 1-9",
                              opts->gzip_level);
    struct imgdb_wlist l = { NULL, 0, 0 };
    struct esx_buf tar;
    esx_buf_init(&tar, 0);
    char *profile_xml = NULL;
    int rc = imgdb_wlist_build(db, &l, &profile_xml, err);
    if (!rc)
        rc = imgdb_write_tar(&l, opts->mtime, &tar, err);
    if (!rc)
        rc = esx_gzip((const uint8_t *)tar.data, tar.len,
                      opts->gzip_level ? opts->gzip_level : 9, out, out_len, err);
    imgdb_members_free(l.m, l.count);
    esx_buf_free(&tar);
    free(profile_xml);
    return rc;
}

/* ---- release units (7.0+): baseimages/<id>.json, addons/<id>.json */

/* Whether `path` is var/db/esximg/<folder>/<file> (one level). */
static const char *imgdb_in_folder(const char *path, const char *folder)
{
    const char *rel = path + strlen(ESXIMG_IMGDB_PREFIX);
    size_t fl = strlen(folder);
    if (strncmp(rel, folder, fl) != 0 || rel[fl] != '/' || !rel[fl + 1] ||
        strchr(rel + fl + 1, '/'))
        return NULL;
    return rel + fl + 1;
}

const struct esximg_imgdb_file *esximg_imgdb_find_release(const struct esximg_imgdb *db,
                                                          const char *folder)
{
    for (size_t i = 0; db && folder && i < db->other_count; i++) {
        const char *name = db->others[i].is_dir ? NULL
                                                : imgdb_in_folder(db->others[i].path, folder);
        size_t nl = name ? strlen(name) : 0;
        if (nl > 5 && strcmp(name + nl - 5, ".json") == 0)
            return &db->others[i];
    }
    return NULL;
}

char *esximg_imgdb_release_id(const struct esximg_imgdb_file *f)
{
    const char *slash = f ? strrchr(f->path, '/') : NULL;
    size_t len = slash ? strlen(slash + 1) : 0;
    if (len <= 5 || strcmp(slash + 1 + len - 5, ".json") != 0)
        return NULL;
    return esx_strndup(slash + 1, len - 5);
}

void esximg_imgdb_remove_releases(struct esximg_imgdb *db, const char *folder, size_t *removed)
{
    size_t n = 0;
    for (size_t i = 0; db && folder && i < db->other_count;) {
        if (!db->others[i].is_dir && imgdb_in_folder(db->others[i].path, folder)) {
            imgdb_drop(db->others, &db->other_count, i);
            n++;
        } else {
            i++;
        }
    }
    if (removed)
        *removed = n;
}

int esximg_imgdb_put_release(struct esximg_imgdb *db, const char *folder,
                             const char *release_id, const void *json, size_t len,
                             struct esximg_err *err)
{
    if (!db || !folder || !release_id)
        return esximg_err_set(err, ESXIMG_EINVAL, "no database, folder or release id");
    size_t il = strlen(release_id);
    /* the id names a file: one safe path component, as a depot member name is checked */
    if (il == 0 || il > 200 || strchr(release_id, '/') || strchr(release_id, '\\') ||
        release_id[0] == '.')
        return esximg_err_set(err, ESXIMG_EINVAL, "release id '%s' is no file name",
                              release_id);
    if (len > ESX_MAX_JSON_BYTES || (len && !json))
        return esximg_err_set(err, ESXIMG_EINVAL, "release '%s': no data or larger than %llu "
                              "bytes", release_id, (unsigned long long)ESX_MAX_JSON_BYTES);
    char *path;
    if (asprintf(&path, ESXIMG_IMGDB_PREFIX "%s/%s.json", folder, release_id) < 0)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    esximg_imgdb_remove_releases(db, folder, NULL);
    int rc = imgdb_add_copy(db, path, json, len, err);
    free(path);
    return rc;
}
