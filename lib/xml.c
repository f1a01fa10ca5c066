/* xml.c: the XML toolkit (xml_private.h).
 *
 * Reading is libxml2 with the safety every XML reader of libesximg needs.  Descriptors, image
 * profiles, bulletins and bundle metadata come from downloaded files: no DTD (so no entity is
 * ever declared, hence none expanded: no billion laughs, no external entity), no network, no
 * output on stderr, a size cap, UTF-8 only.
 *
 * Writing is by hand, byte for byte as the tool each serializer imitates, in one of the
 * flavours below. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xml_private.h"

/* Set by the SAX hooks: the document declared a DTD or an entity. */
struct xml_guard {
    bool dtd_seen;
};

static void xml_stop(void *ctx)
{
    xmlParserCtxtPtr pctx = ctx;
    struct xml_guard *g = pctx->_private;
    g->dtd_seen = true;
    xmlStopParser(pctx);
}

static void xml_sax_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                           const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    xml_stop(ctx);
}

static void xml_sax_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    xml_stop(ctx);
}

static int xml_parse_error(xmlParserCtxtPtr pctx, const char *what, struct esximg_err *err)
{
    const xmlError *e = xmlCtxtGetLastError(pctx);
    if (!e || !e->message)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s is not well-formed XML", what);
    size_t n = strcspn(e->message, "\n");
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s is not well-formed XML: line %d: %.*s",
                          what, e->line, (int)(n > 200 ? 200 : n), e->message);
}

int esx_xml_read(const void *data, size_t len, const char *what, struct _xmlDoc **out,
                 struct esximg_err *err)
{
    if (len > ESX_MAX_XML_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "%s is larger than the XML limit of %llu "
                              "bytes", what, (unsigned long long)ESX_MAX_XML_BYTES);
    if (len == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s is empty", what);
    xmlInitParser();
    xmlParserCtxtPtr pctx = xmlNewParserCtxt();
    if (!pctx)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    struct xml_guard guard = {.dtd_seen = false};
    pctx->_private = &guard;
    pctx->sax->internalSubset = xml_sax_subset;
    pctx->sax->entityDecl = xml_sax_entity;
    /* UTF-8 whatever the document declares: every real file is, and libxml2 reports failed
     * conversions from other encodings on stderr */
    xmlDocPtr doc = xmlCtxtReadMemory(pctx, data, (int)len, NULL, "UTF-8",
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                                      XML_PARSE_IGNORE_ENC);
    int rc = 0;
    if (guard.dtd_seen || (doc && (doc->intSubset || doc->extSubset)))
        rc = esximg_err_set(err, ESXIMG_EUNSAFE, "%s has a document type definition: DTDs "
                            "and entity declarations are refused", what);
    else if (!doc || !pctx->wellFormed)
        rc = xml_parse_error(pctx, what, err);
    else if (!xmlDocGetRootElement(doc))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "%s has no root element", what);
    if (rc) {
        xmlFreeDoc(doc);
    } else {
        *out = doc;
    }
    xmlFreeParserCtxt(pctx);
    return rc;
}

/* ---------------------------------------------------------------- reading: values */

static int xml_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static bool xml_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int esx_xml_content(const struct _xmlNode *n, bool trim, char **out, struct esximg_err *err)
{
    *out = NULL;
    if (!n)
        return 0;
    xmlChar *content = xmlNodeGetContent(n);
    if (!content)
        return xml_nomem(err);
    const char *s = (const char *)content;
    size_t len = strlen(s);
    while (trim && len && xml_is_space(s[len - 1]))
        len--;
    while (trim && len && xml_is_space(*s)) {
        s++;
        len--;
    }
    *out = esx_strndup(s, len);
    xmlFree(content);
    return *out ? 0 : xml_nomem(err);
}

int esx_xml_text_only(const struct _xmlNode *n, char **out, struct esximg_err *err)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE &&
            c->type != XML_COMMENT_NODE)
            return esximg_err_set(err, ESXIMG_EFORMAT, "element '%s' holds more than text",
                                  n->name);
    struct esx_buf b;
    esx_buf_init(&b, 0);
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE || !c->content)
            continue;
        int rc = esx_buf_puts(&b, (const char *)c->content, err);
        if (rc) {
            esx_buf_free(&b);
            return rc;
        }
    }
    *out = esx_buf_take(&b, NULL);
    return *out ? 0 : xml_nomem(err);
}

int esx_xml_attr(const struct _xmlNode *n, const char *name, bool any_ns, char **out,
                 struct esximg_err *err)
{
    *out = NULL;
    xmlChar *v;
    if (!n)
        return 0;
    if (any_ns) {
        if (!xmlHasProp(n, (const xmlChar *)name))
            return 0;
        if (!(v = xmlGetProp(n, (const xmlChar *)name)))
            return xml_nomem(err);
    } else if (!(v = xmlGetNoNsProp(n, (const xmlChar *)name))) {
        return 0;
    }
    *out = esx_strdup((const char *)v);
    xmlFree(v);
    return *out ? 0 : xml_nomem(err);
}

int esx_xml_dump(struct _xmlDoc *doc, struct _xmlNode *n, char **out, struct esximg_err *err)
{
    xmlBuffer *buf = xmlBufferCreate();
    if (!buf)
        return xml_nomem(err);
    int rc = 0;
    if (xmlNodeDump(buf, doc, n, 0, 0) < 0)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "element '%s' cannot be serialised",
                            n->name ? (const char *)n->name : "");
    else if (!(*out = esx_strndup((const char *)xmlBufferContent(buf),
                                  (size_t)xmlBufferLength(buf))))
        rc = xml_nomem(err);
    xmlBufferFree(buf);
    return rc;
}

/* ---------------------------------------------------------------- writing */

/* libxml2's xmlEscapeEntities/xmlAttrSerializeTxtContent, as lxml writes VMware's profiles */
const struct esx_xml_flavour esx_xml_lxml = {
    .name = "lxml",
    .quote_in_text = false,
    .cr = "&#13;",
    .attr_newline = "&#10;",
    .attr_tab = "&#9;",
    .short_empty = true,
};

/* ElementTree's _escape_cdata/_escape_attrib, as esximage writes descriptors */
const struct esx_xml_flavour esx_xml_etree = {
    .name = "etree",
    .quote_in_text = false,
    .cr = "&#13;",
    .attr_newline = "&#10;",
    .attr_tab = "&#09;",
    .short_empty = false,
};

const struct esx_xml_flavour esx_xml_depot = {
    .name = "depot",
    .quote_in_text = true,
    .cr = NULL,
    .attr_newline = NULL,
    .attr_tab = NULL,
    .short_empty = false,
};

/* The reference that replaces c, or NULL to keep it. */
static const char *xml_reference(const struct esx_xml_flavour *f, char c, bool attr)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return attr || f->quote_in_text ? "&quot;" : NULL;
    case '\r': return f->cr;
    case '\n': return attr ? f->attr_newline : NULL;
    case '\t': return attr ? f->attr_tab : NULL;
    default: return NULL;
    }
}

/* Copies s in runs between the characters the flavour replaces. */
static int xml_put_escaped(struct esx_buf *b, const struct esx_xml_flavour *f, const char *s,
                           bool attr, struct esximg_err *err)
{
    if (!s)
        return 0;
    const char *run = s;
    for (; *s; s++) {
        const char *ref = xml_reference(f, *s, attr);
        if (!ref)
            continue;
        int rc = esx_buf_append(b, run, (size_t)(s - run), err);
        if (!rc)
            rc = esx_buf_puts(b, ref, err);
        if (rc)
            return rc;
        run = s + 1;
    }
    return esx_buf_append(b, run, (size_t)(s - run), err);
}

int esx_xml_put_text(struct esx_buf *b, const struct esx_xml_flavour *f, const char *s,
                     struct esximg_err *err)
{
    return xml_put_escaped(b, f, s, false, err);
}

int esx_xml_put_attr_value(struct esx_buf *b, const struct esx_xml_flavour *f, const char *s,
                           struct esximg_err *err)
{
    return xml_put_escaped(b, f, s, true, err);
}

int esx_xml_put_attr(struct esx_buf *b, const struct esx_xml_flavour *f, const char *name,
                     const char *value, struct esximg_err *err)
{
    if (!value)
        return 0;
    int rc = esx_buf_printf(b, err, " %s=\"", name);
    if (!rc)
        rc = esx_xml_put_attr_value(b, f, value, err);
    if (!rc)
        rc = esx_buf_puts(b, "\"", err);
    return rc;
}

int esx_xml_put_elem(struct esx_buf *b, const struct esx_xml_flavour *f, const char *tag,
                     const char *text, struct esximg_err *err)
{
    if (!text)
        return 0;
    if (!text[0] && f->short_empty)
        return esx_buf_printf(b, err, "<%s/>", tag);
    int rc = esx_buf_printf(b, err, "<%s>", tag);
    if (!rc)
        rc = esx_xml_put_text(b, f, text, err);
    if (!rc)
        rc = esx_buf_printf(b, err, "</%s>", tag);
    return rc;
}
