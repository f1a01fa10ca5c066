/* test_xml.c: the XML toolkit: its readers of text, attributes and unknown nodes, its writers
 * byte for byte in each flavour, and the lxml flavour against libxml2's own serialiser, which it
 * stands for. */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "esx_private.h"
#include "xml_private.h"
#include "testutil.h"

/* every character some flavour replaces, between plain letters */
static const char every_special[] = "a&b<c>d\"e\rf\ng\th";

enum put_kind { PUT_TEXT, PUT_ATTR_VALUE };

/* What the flavour makes of s, as a NUL-terminated string to free. */
static char *put(const struct esx_xml_flavour *f, enum put_kind kind, const char *s)
{
    struct esx_buf b;
    esx_buf_init(&b, 0);
    struct esximg_err err = {0};
    int rc = kind == PUT_TEXT ? esx_xml_put_text(&b, f, s, &err)
                              : esx_xml_put_attr_value(&b, f, s, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(esx_buf_puts(&b, "", &err), 0);   /* an empty result still allocates */
    return esx_buf_take(&b, NULL);
}

static void assert_put(const struct esx_xml_flavour *f, enum put_kind kind, const char *s,
                       const char *want)
{
    char *got = put(f, kind, s);
    assert_string_equal(got, want);
    free(got);
}

static void xml_lxml_flavour_escapes_as_libxml2(void **state)
{
    (void)state;
    assert_put(&esx_xml_lxml, PUT_TEXT, every_special,
               "a&amp;b&lt;c&gt;d\"e&#13;f\ng\th");
    assert_put(&esx_xml_lxml, PUT_ATTR_VALUE, every_special,
               "a&amp;b&lt;c&gt;d&quot;e&#13;f&#10;g&#9;h");
}

static void xml_etree_flavour_escapes_as_elementtree(void **state)
{
    (void)state;
    assert_put(&esx_xml_etree, PUT_TEXT, every_special,
               "a&amp;b&lt;c&gt;d\"e&#13;f\ng\th");
    assert_put(&esx_xml_etree, PUT_ATTR_VALUE, every_special,
               "a&amp;b&lt;c&gt;d&quot;e&#13;f&#10;g&#09;h");
}

static void xml_depot_flavour_escapes_quotes_and_keeps_white_space(void **state)
{
    (void)state;
    assert_put(&esx_xml_depot, PUT_TEXT, every_special,
               "a&amp;b&lt;c&gt;d&quot;e\rf\ng\th");
    assert_put(&esx_xml_depot, PUT_ATTR_VALUE, every_special,
               "a&amp;b&lt;c&gt;d&quot;e\rf\ng\th");
}

static void xml_plain_text_and_utf8_pass_unchanged(void **state)
{
    (void)state;
    const struct esx_xml_flavour *all[] = { &esx_xml_lxml, &esx_xml_etree, &esx_xml_depot };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_put(all[i], PUT_TEXT, "", "");
        assert_put(all[i], PUT_TEXT, NULL, "");
        assert_put(all[i], PUT_ATTR_VALUE, "caf\xc3\xa9 'x' 1.0-1", "caf\xc3\xa9 'x' 1.0-1");
        assert_put(all[i], PUT_TEXT, "&&", "&amp;&amp;");
    }
}

/* esx_xml_put_elem or esx_xml_put_attr into a fresh buffer */
static char *put_elem(const struct esx_xml_flavour *f, const char *tag, const char *text)
{
    struct esx_buf b;
    esx_buf_init(&b, 0);
    struct esximg_err err = {0};
    assert_int_equal(esx_xml_put_elem(&b, f, tag, text, &err), 0);
    assert_int_equal(esx_xml_put_attr(&b, f, "k", text, &err), 0);
    assert_int_equal(esx_buf_puts(&b, "", &err), 0);
    return esx_buf_take(&b, NULL);
}

static void xml_elements_and_attributes(void **state)
{
    (void)state;
    char *s = put_elem(&esx_xml_lxml, "name", "a<b");
    assert_string_equal(s, "<name>a&lt;b</name> k=\"a&lt;b\"");
    free(s);
    s = put_elem(&esx_xml_lxml, "name", "");
    assert_string_equal(s, "<name/> k=\"\"");            /* libxml2's empty element */
    free(s);
    s = put_elem(&esx_xml_etree, "name", "");
    assert_string_equal(s, "<name></name> k=\"\"");      /* the descriptor keeps its end tag */
    free(s);
    s = put_elem(&esx_xml_depot, "name", "\t\"");
    assert_string_equal(s, "<name>\t&quot;</name> k=\"\t&quot;\"");
    free(s);
    s = put_elem(&esx_xml_etree, "name", NULL);          /* absent: nothing at all */
    assert_string_equal(s, "");
    free(s);
}

/* libxml2's own bytes for <e k="value">text</e> */
static char *libxml2_dump(const char *value)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr e = xmlNewDocNode(doc, NULL, (const xmlChar *)"e", NULL);
    assert_non_null(e);
    xmlDocSetRootElement(doc, e);
    xmlSetProp(e, (const xmlChar *)"k", (const xmlChar *)value);
    xmlAddChild(e, xmlNewDocText(doc, (const xmlChar *)value));
    xmlBufferPtr b = xmlBufferCreate();
    assert_true(xmlNodeDump(b, doc, e, 0, 0) >= 0);
    char *copy = strdup((const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    xmlFreeDoc(doc);
    return copy;
}

static void xml_lxml_flavour_matches_libxml2_itself(void **state)
{
    (void)state;
    char *want = libxml2_dump(every_special);
    struct esx_buf b;
    esx_buf_init(&b, 0);
    struct esximg_err err = {0};
    assert_int_equal(esx_buf_puts(&b, "<e", &err), 0);
    assert_int_equal(esx_xml_put_attr(&b, &esx_xml_lxml, "k", every_special, &err), 0);
    assert_int_equal(esx_buf_puts(&b, ">", &err), 0);
    assert_int_equal(esx_xml_put_text(&b, &esx_xml_lxml, every_special, &err), 0);
    assert_int_equal(esx_buf_puts(&b, "</e>", &err), 0);
    char *got = esx_buf_take(&b, NULL);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

static void xml_put_reports_a_full_buffer(void **state)
{
    (void)state;
    struct esx_buf b;
    esx_buf_init(&b, 8);
    struct esximg_err err = {0};
    assert_int_not_equal(esx_xml_put_text(&b, &esx_xml_lxml, "&&&", &err), 0);
    esx_buf_free(&b);
}

/* ---- reading */

static const char sample_doc[] =
    "<r xmlns:x=\"urn:x\">"
    "<t> \t padded &amp; &lt;kept&gt; \r\n</t>"
    "<m>one<!-- note --><![CDATA[ two]]></m>"
    "<mixed>a<b>c</b></mixed>"
    "<a k=\"plain\" x:p=\"prefixed\"/>"
    "<u  z = 'q&quot;' ><!-- c --><w/></u>"
    "</r>";

static xmlDocPtr read_sample(void)
{
    xmlDocPtr doc = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esx_xml_read(sample_doc, sizeof sample_doc - 1, "sample", &doc, &err), 0);
    return doc;
}

static xmlNodePtr child(xmlDocPtr doc, const char *name)
{
    for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    fail_msg("no <%s>", name);
    return NULL;
}

static void xml_content_trims_only_when_asked(void **state)
{
    (void)state;
    xmlDocPtr doc = read_sample();
    struct esximg_err err = {0};
    char *s = NULL;
    assert_int_equal(esx_xml_content(child(doc, "t"), true, &s, &err), 0);
    assert_string_equal(s, "padded & <kept>");
    free(s);
    assert_int_equal(esx_xml_content(child(doc, "t"), false, &s, &err), 0);
    assert_string_equal(s, " \t padded & <kept> \n");       /* libxml2 folds \r\n to \n */
    free(s);
    assert_int_equal(esx_xml_content(child(doc, "mixed"), false, &s, &err), 0);
    assert_string_equal(s, "ac");                            /* every descendant's text */
    free(s);
    s = (char *)"not cleared";
    assert_int_equal(esx_xml_content(NULL, true, &s, &err), 0);
    assert_null(s);
    xmlFreeDoc(doc);
}

static void xml_text_only_refuses_child_elements(void **state)
{
    (void)state;
    xmlDocPtr doc = read_sample();
    struct esximg_err err = {0};
    char *s = NULL;
    assert_int_equal(esx_xml_text_only(child(doc, "m"), &s, &err), 0);
    assert_string_equal(s, "one two");                       /* comment left out, CDATA kept */
    free(s);
    assert_int_equal(esx_xml_text_only(child(doc, "mixed"), &s, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "'mixed' holds more than text"));
    xmlFreeDoc(doc);
}

static void xml_attr_with_and_without_namespaces(void **state)
{
    (void)state;
    xmlDocPtr doc = read_sample();
    struct esximg_err err = {0};
    xmlNodePtr a = child(doc, "a");
    char *s = NULL;
    assert_int_equal(esx_xml_attr(a, "k", false, &s, &err), 0);
    assert_string_equal(s, "plain");
    free(s);
    assert_int_equal(esx_xml_attr(a, "p", false, &s, &err), 0);
    assert_null(s);                                          /* x:p is not p */
    assert_int_equal(esx_xml_attr(a, "p", true, &s, &err), 0);
    assert_string_equal(s, "prefixed");
    free(s);
    assert_int_equal(esx_xml_attr(a, "absent", true, &s, &err), 0);
    assert_null(s);
    assert_int_equal(esx_xml_attr(NULL, "k", false, &s, &err), 0);
    assert_null(s);
    xmlFreeDoc(doc);
}

static void xml_dump_writes_a_node_as_libxml2(void **state)
{
    (void)state;
    xmlDocPtr doc = read_sample();
    struct esximg_err err = {0};
    char *s = NULL;
    assert_int_equal(esx_xml_dump(doc, child(doc, "u"), &s, &err), 0);
    assert_string_equal(s, "<u z=\"q&quot;\"><!-- c --><w/></u>");
    free(s);
    xmlFreeDoc(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_lxml_flavour_escapes_as_libxml2),
        cmocka_unit_test(xml_etree_flavour_escapes_as_elementtree),
        cmocka_unit_test(xml_depot_flavour_escapes_quotes_and_keeps_white_space),
        cmocka_unit_test(xml_plain_text_and_utf8_pass_unchanged),
        cmocka_unit_test(xml_elements_and_attributes),
        cmocka_unit_test(xml_lxml_flavour_matches_libxml2_itself),
        cmocka_unit_test(xml_put_reports_a_full_buffer),
        cmocka_unit_test(xml_content_trims_only_when_asked),
        cmocka_unit_test(xml_text_only_refuses_child_elements),
        cmocka_unit_test(xml_attr_with_and_without_namespaces),
        cmocka_unit_test(xml_dump_writes_a_node_as_libxml2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
