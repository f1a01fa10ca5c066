/* test_descriptor.c: descriptor.xml reading, writing, and the acceptance levels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/vib.h"
#include "testutil.h"

/* VMware's one-line form with every element the model knows */
static const char full_xml[] =
    "<vib version=\"5.0\"><type>bootbank</type><name>net55-r8168</name>"
    "<version>8.045a-napi</version><vendor>Realtek</vendor>"
    "<summary>Driver for Realtek 8111/8168</summary><description>Recent driver &amp; more"
    "</description><release-date>2018-04-16T09:22:27.000000+00:00</release-date>"
    "<urls><url key=\"kb\">https://example.org/r8168</url></urls><relationships><depends>"
    "<constraint name=\"esx-version\" relation=\"&gt;=\" version=\"7.0.0\"/>"
    "<constraint name=\"esx-version\" relation=\"&lt;&lt;\" version=\"7.1.0\"/>"
    "<constraint name=\"vmkapi_2_2_0_0\"/></depends><conflicts>"
    "<constraint name=\"net51-drivers\"/></conflicts><replaces><constraint name=\"net-r8168\"/>"
    "</replaces><provides><provide name=\"com.example.r8168\" version=\"1.0\"/></provides>"
    "<compatibleWith/></relationships><software-tags><tag>driver</tag><tag>module</tag>"
    "<tag>PCIID 10ec8168</tag></software-tags><system-requires><maintenance-mode>true"
    "</maintenance-mode><hwplatform vendor=\"HPE\" model=\"ProLiant\"/></system-requires>"
    "<file-list><file>etc/vmware/driver.map.d/r8168.map</file>"
    "<file>usr/lib/vmware/vmkmod/r8168</file></file-list>"
    "<acceptance-level>community</acceptance-level>"
    "<live-install-allowed>false</live-install-allowed>"
    "<live-remove-allowed>true</live-remove-allowed><cimom-restart>false</cimom-restart>"
    "<stateless-ready>true</stateless-ready><overlay>false</overlay><payloads>"
    "<payload name=\"net55-r8\" type=\"tgz\" boot-order=\"2\" vfat-name=\"R8168.T00\" "
    "size=\"1140814\"><checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">aa"
    "</checksum><checksum checksum-type=\"sha-256\">bb</checksum>"
    "<checksum checksum-type=\"sha-1\" verify-process=\"gunzip\">cc</checksum></payload>"
    "</payloads><!-- This package was created with TGZ2VIB5 v2.3 --></vib>";

static struct esximg_descriptor *read_ok(const char *xml)
{
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = {0};
    int rc = esximg_descriptor_read(xml, strlen(xml), &d, &err);
    if (rc)
        fail_msg("descriptor refused: %s", err.msg);
    return d;
}

static int read_fails(const char *xml, const char *msg_part)
{
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = {0};
    int rc = esximg_descriptor_read(xml, strlen(xml), &d, &err);
    assert_int_not_equal(rc, 0);
    assert_null(d);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
    return rc;
}

static char *write_ok(const struct esximg_descriptor *d, size_t *len)
{
    char *xml = NULL;
    struct esximg_err err = {0};
    if (esximg_descriptor_write(d, &xml, len, &err))
        fail_msg("write failed: %s", err.msg);
    return xml;
}

static void descriptor_reads_minimal(void **state)
{
    (void)state;
    struct esximg_descriptor *d = read_ok("<vib version=\"5.0\"><type>bootbank</type>"
                                          "<name>x</name><version>1.0-1</version>"
                                          "<vendor>ACME</vendor></vib>");
    assert_string_equal(d->name, "x");
    assert_null(d->summary);
    assert_int_equal(d->payload_count, 0);
    assert_int_equal(d->depends.count, 0);
    char *id = esximg_descriptor_vib_id(d);
    assert_string_equal(id, "ACME_bootbank_x_1.0-1");
    free(id);
    esximg_descriptor_free(d);
}

static void descriptor_reads_all_fields(void **state)
{
    (void)state;
    struct esximg_descriptor *d = read_ok(full_xml);
    assert_string_equal(d->type, "bootbank");
    assert_string_equal(d->vendor, "Realtek");
    assert_string_equal(d->description, "Recent driver & more");
    assert_int_equal(d->url_count, 1);
    assert_string_equal(d->urls[0].key, "kb");
    assert_int_equal(d->depends.count, 3);
    assert_string_equal(d->depends.items[0].relation, ">=");
    assert_string_equal(d->depends.items[1].relation, "<<");
    assert_string_equal(d->depends.items[1].version, "7.1.0");
    assert_null(d->depends.items[2].relation);
    assert_int_equal(d->conflicts.count, 1);
    assert_string_equal(d->replaces.items[0].name, "net-r8168");
    assert_string_equal(d->provides.items[0].version, "1.0");
    assert_int_equal(d->compatible_with.count, 0);
    assert_int_equal(d->tag_count, 3);
    assert_string_equal(d->tags[2], "PCIID 10ec8168");
    assert_true(d->maintenance_mode);
    assert_non_null(strstr(d->system_requires_extra_xml, "hwplatform"));
    assert_int_equal(d->file_count, 2);
    assert_string_equal(d->acceptance_level, "community");
    assert_false(d->live_install_allowed);
    assert_true(d->live_remove_allowed);
    assert_true(d->stateless_ready);
    assert_int_equal(d->payload_count, 1);
    const struct esximg_payload *p = esximg_descriptor_payload(d, "net55-r8");
    assert_non_null(p);
    assert_null(esximg_descriptor_payload(d, "nope"));
    assert_true(p->has_size);
    assert_int_equal(p->size, 1140814);
    assert_string_equal(p->boot_order, "2");
    assert_string_equal(p->vfat_name, "R8168.T00");
    assert_int_equal(p->checksum_count, 3);
    assert_string_equal(p->checksums[0].verify_process, "gunzip");
    assert_null(p->checksums[1].verify_process);
    assert_string_equal(p->checksums[2].type, "sha-1");
    assert_int_equal(d->extra_count, 1);
    assert_string_equal(d->extras[0].after, "payloads");
    assert_non_null(strstr(d->extras[0].xml, "TGZ2VIB5"));
    esximg_descriptor_free(d);
}

static void descriptor_rewrite_is_identical(void **state)
{
    (void)state;
    struct esximg_descriptor *d = read_ok(full_xml);
    size_t len;
    char *xml = write_ok(d, &len);
    assert_int_equal(len, strlen(full_xml));
    assert_string_equal(xml, full_xml);
    /* deterministic */
    char *again = write_ok(d, &len);
    assert_string_equal(again, xml);
    free(again);
    free(xml);
    esximg_descriptor_free(d);
}

static void descriptor_keeps_unknown_elements_in_place(void **state)
{
    (void)state;
    struct esximg_descriptor *d = read_ok(
        "<vib version=\"5.0\">\n  <!-- first -->\n  <type>bootbank</type>\n"
        "  <name>x</name><version>1-1</version><vendor>V</vendor>\n"
        "  <stateless-ready>true</stateless-ready>\n"
        "  <resources><sched-group-path>/a</sched-group-path></resources>\n"
        "  <overlay>false</overlay><future a=\"1\">t</future></vib>\n");
    assert_int_equal(d->extra_count, 3);
    assert_null(d->extras[0].after);
    assert_string_equal(d->extras[0].xml, "<!-- first -->");
    assert_string_equal(d->extras[1].after, "stateless-ready");
    assert_string_equal(d->extras[1].xml,
                        "<resources><sched-group-path>/a</sched-group-path></resources>");
    assert_string_equal(d->extras[2].after, "overlay");
    size_t len;
    char *xml = write_ok(d, &len);
    const char *first = strstr(xml, "<!-- first -->");
    const char *type = strstr(xml, "<type>");
    const char *stateless = strstr(xml, "<stateless-ready>");
    const char *resources = strstr(xml, "<resources>");
    const char *overlay = strstr(xml, "<overlay>");
    const char *future = strstr(xml, "<future a=\"1\">t</future>");
    assert_true(first && type && stateless && resources && overlay && future);
    assert_true(first < type && stateless < resources && resources < overlay &&
                overlay < future);
    /* read back: the same extras */
    struct esximg_descriptor *d2 = read_ok(xml);
    assert_int_equal(d2->extra_count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(d2->extras[i].xml, d->extras[i].xml);
    esximg_descriptor_free(d2);
    free(xml);
    esximg_descriptor_free(d);
}

static void descriptor_pretty_authoring_form_reads(void **state)
{
    (void)state;
    struct esximg_descriptor *d = read_ok(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vib version=\"5.0\">\n"
        "  <type> bootbank </type>\n  <name>ghettoVCB</name>\n  <version>6.0.0-0.0.3"
        "</version>\n  <vendor>Ateb</vendor>\n  <relationships>\n    <depends>\n"
        "    </depends>\n    <conflicts/>\n  </relationships>\n  <software-tags>\n"
        "  </software-tags>\n  <payloads>\n    <payload name=\"payload1\" type=\"vgz\">"
        "</payload>\n  </payloads>\n</vib>\n");
    assert_string_equal(d->type, "bootbank");
    assert_int_equal(d->depends.count, 0);
    assert_int_equal(d->tag_count, 0);
    assert_false(d->payloads[0].has_size);
    assert_int_equal(d->payloads[0].checksum_count, 0);
    esximg_descriptor_free(d);
}

static void descriptor_refuses_billion_laughs(void **state)
{
    (void)state;
    int rc = read_fails(
        "<?xml version=\"1.0\"?><!DOCTYPE vib [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]><vib version=\"5.0\"><type>bootbank"
        "</type><name>&d;</name><version>1-1</version><vendor>V</vendor></vib>", "DTD");
    assert_int_equal(rc, ESXIMG_EUNSAFE);
}

static void descriptor_refuses_external_entity(void **state)
{
    (void)state;
    read_fails("<!DOCTYPE vib [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
               "<vib><type>bootbank</type><name>&x;</name><version>1-1</version>"
               "<vendor>V</vendor></vib>", "DTD");
    read_fails("<!DOCTYPE vib SYSTEM \"http://example.org/vib.dtd\"><vib><type>b</type>"
               "<name>n</name><version>1-1</version><vendor>V</vendor></vib>", "DTD");
}

static void descriptor_refuses_plain_dtd(void **state)
{
    (void)state;
    read_fails("<!DOCTYPE vib><vib><type>b</type><name>n</name><version>1-1</version>"
               "<vendor>V</vendor></vib>", "DTD");
}

static void descriptor_refuses_undeclared_entity(void **state)
{
    (void)state;
    read_fails("<vib><type>b</type><name>&x;</name><version>1-1</version>"
               "<vendor>V</vendor></vib>", "well-formed");
}

static void descriptor_refuses_non_xml(void **state)
{
    (void)state;
    read_fails("!<arch>\ndescriptor.xml  0 0 0", "well-formed");
    read_fails("", "empty");
    read_fails("<?xml version=\"1.0\"?>", NULL);
    read_fails("<bulletin><id>x</id></bulletin>", "not 'vib'");
    /* not UTF-8: refused as malformed (libxml2 would otherwise convert, noisily) */
    static const char utf16[] = "\xff\xfe<\0v\0i\0b\0>\0<\0/\0v\0i\0b\0>\0";
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_descriptor_read(utf16, sizeof utf16 - 1, &d, &err), ESXIMG_EFORMAT);
    read_fails("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><vib><type>b</type>"
               "<name>caf\xe9</name><version>1-1</version><vendor>V</vendor></vib>",
               "well-formed");
}

static void descriptor_refuses_truncated(void **state)
{
    (void)state;
    char *cut = strdup(full_xml);
    cut[strlen(cut) / 2] = '\0';
    read_fails(cut, "well-formed");
    free(cut);
}

static void descriptor_refuses_missing_identity(void **state)
{
    (void)state;
    read_fails("<vib><type>bootbank</type><version>1-1</version><vendor>V</vendor></vib>",
               "no 'name'");
    read_fails("<vib><type>bootbank</type><name> </name><version>1-1</version>"
               "<vendor>V</vendor></vib>", "no 'name'");
    read_fails("<vib><type>bootbank</type><name>n</name><vendor>V</vendor></vib>",
               "no 'version'");
    read_fails("<vib><type>bootbank</type><name>n</name><version>1-1</version></vib>",
               "no 'vendor'");
    read_fails("<vib><name>n</name><version>1-1</version><vendor>V</vendor></vib>",
               "no 'type'");
}

static void descriptor_refuses_bad_values(void **state)
{
    (void)state;
    const char *head = "<vib><type>b</type><name>n</name><version>1-1</version>"
                       "<vendor>V</vendor>";
    char buf[512];
    snprintf(buf, sizeof buf, "%s<overlay>maybe</overlay></vib>", head);
    read_fails(buf, "not true or false");
    snprintf(buf, sizeof buf, "%s<payloads><payload name=\"p\" type=\"vgz\" size=\"-1\"/>"
             "</payloads></vib>", head);
    read_fails(buf, "payload 'p'");
    snprintf(buf, sizeof buf, "%s<payloads><payload name=\"p\" type=\"vgz\" "
             "size=\"99999999999999999999999\"/></payloads></vib>", head);
    read_fails(buf, "not a decimal");
    snprintf(buf, sizeof buf, "%s<payloads><payload type=\"vgz\"/></payloads></vib>", head);
    read_fails(buf, "no 'name'");
    snprintf(buf, sizeof buf, "%s<payloads><payload name=\"p\" type=\"vgz\"/>"
             "<payload name=\"p\" type=\"vgz\"/></payloads></vib>", head);
    read_fails(buf, "twice");
    snprintf(buf, sizeof buf, "%s<name>again</name></vib>", head);
    read_fails(buf, "twice");
    snprintf(buf, sizeof buf, "%s<relationships><depends><constraint relation=\"=\"/>"
             "</depends></relationships></vib>", head);
    read_fails(buf, "no 'name'");
    snprintf(buf, sizeof buf, "%s<payloads><payload name=\"p\" type=\"vgz\"><checksum>ab"
             "</checksum></payload></payloads></vib>", head);
    read_fails(buf, "checksum-type");
}

static void descriptor_round_trip_model(void **state)
{
    (void)state;
    /* a pretty, out-of-order descriptor: written in schema order, read back the same */
    struct esximg_descriptor *d = read_ok(
        "<vib version=\"5.0\">\n <payloads><payload type=\"vgz\" size=\"3\" name=\"a\">"
        "<checksum checksum-type=\"sha-256\">00</checksum></payload></payloads>\n"
        " <name>n &lt;x&gt;</name><type>bootbank</type><version>1-1</version>"
        "<vendor>V</vendor><summary>a \"quoted\" &amp; 'single'</summary>"
        "<description>line one\nline two\n</description><installdate>2020</installdate>"
        "<relative-path>vib20/n/x.vib</relative-path><packed-size>42</packed-size>"
        "<checksum>ff</checksum><file-list><file>a</file></file-list></vib>");
    size_t len, len2;
    char *xml = write_ok(d, &len);
    struct esximg_descriptor *d2 = read_ok(xml);
    char *xml2 = write_ok(d2, &len2);
    assert_string_equal(xml, xml2);
    assert_string_equal(d2->name, "n <x>");
    assert_string_equal(d2->description, "line one\nline two\n");
    assert_string_equal(d2->installdate, "2020");
    assert_string_equal(d2->relative_path, "vib20/n/x.vib");
    assert_int_equal(d2->packed_size, 42);
    assert_string_equal(d2->vib_checksum, "ff");
    assert_int_equal(d2->payloads[0].size, 3);
    assert_non_null(strstr(xml, "<payload name=\"a\" type=\"vgz\" size=\"3\">"));
    assert_non_null(strstr(xml, "<conflicts/>"));
    assert_non_null(strstr(xml, "<urls/>"));
    free(xml);
    free(xml2);
    esximg_descriptor_free(d);
    esximg_descriptor_free(d2);
}

static void descriptor_refuses_oversize(void **state)
{
    (void)state;
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = {0};
    size_t big = (16u << 20) + 1;
    char *xml = malloc(big);
    assert_non_null(xml);
    memset(xml, ' ', big);
    assert_int_equal(esximg_descriptor_read(xml, big, &d, &err), ESXIMG_ELIMIT);
    free(xml);
}

static void descriptor_write_refuses_incomplete_model(void **state)
{
    (void)state;
    struct esximg_descriptor d;
    memset(&d, 0, sizeof d);
    char *xml = NULL;
    size_t len;
    struct esximg_err err = {0};
    assert_int_equal(esximg_descriptor_write(&d, &xml, &len, &err), ESXIMG_EINVAL);
    assert_null(xml);
    esximg_descriptor_free(NULL);
    assert_null(esximg_descriptor_vib_id(&d));
}

static void descriptor_acceptance_parse_and_order(void **state)
{
    (void)state;
    assert_int_equal(esximg_acceptance_parse("certified"), ESXIMG_ACCEPT_CERTIFIED);
    assert_int_equal(esximg_acceptance_parse("VMwareAccepted"), ESXIMG_ACCEPT_ACCEPTED);
    assert_int_equal(esximg_acceptance_parse("PartnerSupported"), ESXIMG_ACCEPT_PARTNER);
    assert_int_equal(esximg_acceptance_parse("Community"), ESXIMG_ACCEPT_COMMUNITY);
    assert_int_equal(esximg_acceptance_parse("gold"), ESXIMG_ACCEPT_UNKNOWN);
    assert_int_equal(esximg_acceptance_parse(NULL), ESXIMG_ACCEPT_UNKNOWN);
    assert_true(ESXIMG_ACCEPT_CERTIFIED > ESXIMG_ACCEPT_ACCEPTED);
    assert_true(ESXIMG_ACCEPT_ACCEPTED > ESXIMG_ACCEPT_PARTNER);
    assert_true(ESXIMG_ACCEPT_PARTNER > ESXIMG_ACCEPT_COMMUNITY);
    assert_string_equal(esximg_acceptance_name(ESXIMG_ACCEPT_PARTNER), "partner");
    assert_string_equal(esximg_acceptance_name(ESXIMG_ACCEPT_UNKNOWN), "unknown");
    for (int a = ESXIMG_ACCEPT_COMMUNITY; a <= ESXIMG_ACCEPT_CERTIFIED; a++)
        assert_int_equal(esximg_acceptance_parse(esximg_acceptance_name(a)), a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(descriptor_reads_minimal),
        cmocka_unit_test(descriptor_reads_all_fields),
        cmocka_unit_test(descriptor_rewrite_is_identical),
        cmocka_unit_test(descriptor_keeps_unknown_elements_in_place),
        cmocka_unit_test(descriptor_pretty_authoring_form_reads),
        cmocka_unit_test(descriptor_refuses_billion_laughs),
        cmocka_unit_test(descriptor_refuses_external_entity),
        cmocka_unit_test(descriptor_refuses_plain_dtd),
        cmocka_unit_test(descriptor_refuses_undeclared_entity),
        cmocka_unit_test(descriptor_refuses_non_xml),
        cmocka_unit_test(descriptor_refuses_truncated),
        cmocka_unit_test(descriptor_refuses_missing_identity),
        cmocka_unit_test(descriptor_refuses_bad_values),
        cmocka_unit_test(descriptor_round_trip_model),
        cmocka_unit_test(descriptor_refuses_oversize),
        cmocka_unit_test(descriptor_write_refuses_incomplete_model),
        cmocka_unit_test(descriptor_acceptance_parse_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
