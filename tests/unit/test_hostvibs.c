/* test_hostvibs.c: esxcli software vib list / vib get / component list readers on small
 * inputs built here: column widths, the 8.0 Platforms column, headerless (grep'd) rows,
 * relation lists, and hostile input (NUL, no entry, rows that do not fit, long lines). */
#include <stdlib.h>
#include <string.h>

#include "esximg/hostvibs.h"
#include "testutil.h"

static struct esximg_hostvibs *read_ok(const char *text)
{
    struct esximg_hostvibs *h = NULL;
    struct esximg_err err = {0};
    if (esximg_hostvibs_read(text, strlen(text), &h, &err) != 0)
        fail_msg("read failed: %s", err.msg);
    return h;
}

static void hostvibs_list_cut_on_dash_line(void **state)
{
    (void)state;
    /* a Vendor wider than its header, an empty Install Date */
    const char *text =
        "Name         Version       Vendor           Acceptance Level    Install Date\n"
        "-----------  ------------  ---------------  ------------------  ------------\n"
        "net55-r8168  8.045a-napi   Realtek Co. Ltd  CommunitySupported  2019-12-27\n"
        "ne1000       0.8.4-2vmw    VMW              VMwareCertified\n";
    struct esximg_hostvibs *h = read_ok(text);
    assert_int_equal(h->form, ESXIMG_HOSTVIBS_VIB_LIST);
    assert_int_equal(h->count, 2);
    assert_string_equal(h->vibs[0].desc->name, "net55-r8168");
    assert_string_equal(h->vibs[0].desc->version, "8.045a-napi");
    assert_string_equal(h->vibs[0].desc->vendor, "Realtek Co. Ltd");
    assert_int_equal(h->vibs[0].acceptance, ESXIMG_ACCEPT_COMMUNITY);
    assert_string_equal(h->vibs[0].desc->acceptance_level, "community");
    assert_string_equal(h->vibs[0].date, "2019-12-27");
    assert_int_equal(h->vibs[0].line, 3);
    assert_null(h->vibs[1].date);
    assert_false(h->vibs[1].has_relations);
    assert_int_equal(h->warnings.count, 0);
    esximg_hostvibs_free(h);
}

static void hostvibs_list_platforms_and_headerless(void **state)
{
    (void)state;
    const char *with_header =
        "Name      Version                Vendor  Acceptance Level  Install Date  Platforms\n"
        "esx-base  8.0.2-0.40.23825572    VMware  VMwareCertified   2024-05-24    host\n";
    struct esximg_hostvibs *h = read_ok(with_header);
    assert_int_equal(h->count, 1);
    assert_string_equal(h->vibs[0].platforms, "host");
    assert_string_equal(h->vibs[0].desc->version, "8.0.2-0.40.23825572");
    esximg_hostvibs_free(h);
    const char *grepped = "atlantic   1.0.3.0-12vmw.802.0.0.22380479   VMW   VMwareCertified"
                          "   2024-06-09    host\n";
    h = read_ok(grepped);
    assert_int_equal(h->form, ESXIMG_HOSTVIBS_VIB_LIST);
    assert_string_equal(h->vibs[0].desc->name, "atlantic");
    assert_string_equal(h->vibs[0].platforms, "host");
    esximg_hostvibs_free(h);
}

static void hostvibs_component_list(void **state)
{
    (void)state;
    const char *text =
        "Name          Display Name             Version          Display Version  Vendor"
        "  Release Date  Acceptance Level  Platforms\n"
        "------------  -----------------------  ---------------  ---------------  ------"
        "  ------------  ----------------  ---------\n"
        "Intel-ne1000  Intel NE1000 Driver      0.9.0-1vmw.703   0.9.0-1          VMware"
        "  11-11-2022    VMwareCertified   host\n";
    struct esximg_hostvibs *h = read_ok(text);
    assert_int_equal(h->form, ESXIMG_HOSTVIBS_COMPONENT_LIST);
    assert_string_equal(h->vibs[0].desc->name, "Intel-ne1000");
    assert_string_equal(h->vibs[0].display_name, "Intel NE1000 Driver");
    assert_string_equal(h->vibs[0].desc->version, "0.9.0-1vmw.703");
    assert_string_equal(h->vibs[0].display_version, "0.9.0-1");
    assert_string_equal(h->vibs[0].date, "11-11-2022");
    esximg_hostvibs_free(h);
}

static void hostvibs_get_relations(void **state)
{
    (void)state;
    const char *text =
        "VMW_bootbank_a_1.0-1\n"
        "   Name: a\n"
        "   Version: 1.0-1\n"
        "   Type: bootbank\n"
        "   Vendor: VMW\n"
        "   Acceptance Level: PartnerSupported\n"
        "   Depends: vmkapi_2_2_0_0, esx-version >= 7.0.0, esx-version << 7.1.0\n"
        "   Conflicts: \n"
        "   Replaces: old-a << 1.0\n"
        "   Provides: a-api = 1.0\n"
        "\n"
        "VMW_bootbank_b_2.0-1\n"
        "   Name: b\n"
        "   Version: 2.0-1\n"
        "   Depends: a\n";
    struct esximg_hostvibs *h = read_ok(text);
    assert_int_equal(h->form, ESXIMG_HOSTVIBS_VIB_GET);
    assert_int_equal(h->count, 2);
    const struct esximg_descriptor *a = h->vibs[0].desc;
    assert_string_equal(h->vibs[0].id, "VMW_bootbank_a_1.0-1");
    assert_string_equal(a->type, "bootbank");
    assert_true(h->vibs[0].has_relations);
    assert_int_equal(a->depends.count, 3);
    assert_string_equal(a->depends.items[1].name, "esx-version");
    assert_string_equal(a->depends.items[1].relation, ">=");
    assert_string_equal(a->depends.items[1].version, "7.0.0");
    assert_null(a->depends.items[0].relation);
    assert_int_equal(a->conflicts.count, 0);
    assert_string_equal(a->replaces.items[0].relation, "<<");
    assert_string_equal(a->provides.items[0].name, "a-api");
    assert_string_equal(a->provides.items[0].version, "1.0");
    assert_int_equal(h->vibs[0].acceptance, ESXIMG_ACCEPT_PARTNER);
    assert_string_equal(h->vibs[1].desc->depends.items[0].name, "a");
    assert_int_equal(h->vibs[1].line, 12);
    esximg_hostvibs_free(h);
}

static void hostvibs_warns_unreadable_lines(void **state)
{
    (void)state;
    const char *text =
        "Name    Version  Vendor  Acceptance Level  Install Date\n"
        "------  -------  ------  ----------------  ------------\n"
        "good    1.0-1    VMW     VMwareCertified   2020-01-01\n"
        "toolongname1.0-1 VMW     VMwareCertified   2020-01-01\n"
        "bad     1.0-1    VMW     SomeLevel         2020-01-01\n"
        " [DependencyError]\n";
    struct esximg_hostvibs *h = read_ok(text);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->warnings.count, 3);
    assert_int_equal(h->warnings.items[0].line, 4);
    assert_non_null(strstr(h->warnings.items[0].msg, "does not fit"));
    assert_int_equal(h->warnings.items[1].line, 5);
    assert_non_null(strstr(h->warnings.items[1].msg, "unknown acceptance level"));
    assert_int_equal(h->warnings.items[2].line, 6);
    esximg_hostvibs_free(h);
}

static void hostvibs_get_warns_bad_records(void **state)
{
    (void)state;
    const char *text =
        "   Name: orphan\n"
        "X_bootbank_x_1\n"
        "   Name: x\n"
        "   no colon here\n"
        "Y_bootbank_y_1\n"
        "   Name: y\n"
        "   Version: 1\n"
        "   Depends: a b c d e\n";
    struct esximg_hostvibs *h = read_ok(text);
    assert_int_equal(h->count, 1);
    assert_string_equal(h->vibs[0].desc->name, "y");
    assert_int_equal(h->warnings.count, 4);
    assert_int_equal(h->warnings.items[0].line, 1);   /* field outside a record */
    assert_int_equal(h->warnings.items[1].line, 4);   /* no colon */
    assert_int_equal(h->warnings.items[2].line, 2);   /* x: no Version */
    assert_int_equal(h->warnings.items[3].line, 8);   /* relation that does not read */
    esximg_hostvibs_free(h);
}

static void hostvibs_rejects_hostile(void **state)
{
    (void)state;
    struct esximg_hostvibs *h = NULL;
    struct esximg_err err = {0};
    const char nul[] = "Name  Version\nx  1\0 VMW\n";
    assert_int_equal(esximg_hostvibs_read(nul, sizeof nul - 1, &h, &err), ESXIMG_EFORMAT);
    assert_null(h);
    assert_int_equal(esximg_hostvibs_read("hello world\n", 12, &h, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "no VIB or component found"));
    assert_int_equal(esximg_hostvibs_read("", 0, &h, &err), ESXIMG_EFORMAT);
    size_t big = 70000;
    char *line = malloc(big + 1);
    assert_non_null(line);
    memset(line, 'a', big);
    line[big] = '\n';
    assert_int_equal(esximg_hostvibs_read(line, big + 1, &h, &err), ESXIMG_ELIMIT);
    free(line);
    /* a dash line without its header, 20 columns */
    const char *cols = "- - - - - - - - - - - - - - - - - - - -\n";
    assert_int_equal(esximg_hostvibs_read(cols, strlen(cols), &h, &err), ESXIMG_EFORMAT);
    assert_null(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostvibs_list_cut_on_dash_line),
        cmocka_unit_test(hostvibs_list_platforms_and_headerless),
        cmocka_unit_test(hostvibs_component_list),
        cmocka_unit_test(hostvibs_get_relations),
        cmocka_unit_test(hostvibs_warns_unreadable_lines),
        cmocka_unit_test(hostvibs_get_warns_bad_records),
        cmocka_unit_test(hostvibs_rejects_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
