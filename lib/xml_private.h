/* xml_private.h: xml.c, the XML toolkit of libesximg (not installed): the one safe libxml2
 * reader, the helpers that read an element's text, an attribute or a whole node, and the
 * escaping and element writers of the hand-written serializers.
 *
 * Each serializer copies the bytes of the tool whose files it must reproduce, and those tools
 * escape differently; a flavour names one such way, so that a difference between two writers
 * is a field of a table here rather than a detail of a copied loop. */
#ifndef ESX_XML_PRIVATE_H
#define ESX_XML_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "esx_private.h"

struct _xmlDoc;
struct _xmlNode;

/* ---- reading */

/* Parses an XML document: at most ESX_MAX_XML_BYTES (ELIMIT), not empty, UTF-8, CDATA merged
 * into text; a DTD or entity declaration stops the parse (EUNSAFE), so no entity is expanded
 * and nothing external is loaded; no network; libxml2 prints nothing. `what` names the
 * document in messages ("descriptor", "'imageprofile' xml"). The caller frees *out with
 * xmlFreeDoc and checks the root element. */
int esx_xml_read(const void *data, size_t len, const char *what, struct _xmlDoc **out,
                 struct esximg_err *err);

/* The text of an element (of every descendant, as xmlNodeGetContent), without surrounding
 * white space when `trim`, into *out (to free); *out NULL when n is NULL. */
int esx_xml_content(const struct _xmlNode *n, bool trim, char **out, struct esximg_err *err);
/* The text of an element that holds only text, comments left out and nothing trimmed;
 * EFORMAT when it holds an element or anything else. */
int esx_xml_text_only(const struct _xmlNode *n, char **out, struct esximg_err *err);
/* An attribute's value into *out (to free); *out NULL when n or the attribute is absent.
 * Only an attribute without a namespace counts (xmlGetNoNsProp) unless `any_ns`, where a
 * prefixed one (x:name) does too (xmlGetProp). */
int esx_xml_attr(const struct _xmlNode *n, const char *name, bool any_ns, char **out,
                 struct esximg_err *err);
/* An element, comment or processing instruction serialised as libxml2 writes it, without
 * indentation, into *out (to free): how unknown XML is kept to be written back. */
int esx_xml_dump(struct _xmlDoc *doc, struct _xmlNode *n, char **out, struct esximg_err *err);

/* ---- writing: the flavours */

/* What a serializer escapes beyond what every one does ('&', '<', '>' everywhere, '"' in
 * attribute values). A NULL reference keeps the character as it is. */
struct esx_xml_flavour {
    const char *name;
    bool quote_in_text;         /* '"' as "&quot;" in element text too */
    const char *cr;             /* '\r' in text and attributes */
    const char *attr_newline;   /* '\n' in attribute values */
    const char *attr_tab;       /* '\t' in attribute values: "&#9;" or "&#09;" */
    bool short_empty;           /* an element with empty text as "<tag/>", not "<tag></tag>" */
};

/* imgdb.c (image profile, bulletins): as libxml2, which VMware's lxml serialises with. */
extern const struct esx_xml_flavour esx_xml_lxml;
/* descriptor.c (descriptor.xml): as Python's ElementTree, "&#09;" for a tab in an attribute,
 * and every element with its end tag. */
extern const struct esx_xml_flavour esx_xml_etree;
/* depot.c (index.xml, vendor-index.xml, vmware.xml): our own, '"' escaped everywhere and
 * white space kept, as the bundle's metadata readers need no more. */
extern const struct esx_xml_flavour esx_xml_depot;

/* ---- writing: the helpers (each appends to b; NULL text or value appends nothing) */

/* Element text, escaped as the flavour does. */
int esx_xml_put_text(struct esx_buf *b, const struct esx_xml_flavour *f, const char *s,
                     struct esximg_err *err);
/* An attribute value (without its quotes), escaped as the flavour does. */
int esx_xml_put_attr_value(struct esx_buf *b, const struct esx_xml_flavour *f, const char *s,
                           struct esximg_err *err);
/* ` name="value"`. */
int esx_xml_put_attr(struct esx_buf *b, const struct esx_xml_flavour *f, const char *name,
                     const char *value, struct esximg_err *err);
/* "<tag>text</tag>"; "<tag/>" for empty text where the flavour writes it so. */
int esx_xml_put_elem(struct esx_buf *b, const struct esx_xml_flavour *f, const char *tag,
                     const char *text, struct esximg_err *err);

#endif
