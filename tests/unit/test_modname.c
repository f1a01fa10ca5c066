/* test_modname.c: Python 2 hashes, urllib.quote, vibs/ file names and payload module names.
 * Expected hash values were computed with the CPython 2 algorithm on 32-bit longs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/modname.h"
#include "testutil.h"

static void modname_py2_hash_matches_python2(void **state)
{
    (void)state;
    assert_int_equal(esximg_modname_py2_hash("", 0), 0);
    assert_int_equal(esximg_modname_py2_hash("a", 1), -468864544);
    assert_int_equal(esximg_modname_py2_hash("abc", 3), -1600925533);
    const char *i40en = "INT_bootbank_i40en_1.3.1-1OEM.600.0.0.2768847";
    assert_int_equal(esximg_modname_py2_hash(i40en, strlen(i40en)), 151275975);
    const char *ixgbe = "Intel_bootbank_net-ixgbe_3.7.13-1OEM.500.0.0.472560";
    assert_int_equal(esximg_modname_py2_hash(ixgbe, strlen(ixgbe)), -1940891547);
}

static void modname_py2_tuple_hash_matches_python2(void **state)
{
    (void)state;
    const char *n = "ESXi-6.7.0-8169922-standard", *c = "VMware, Inc.";
    assert_int_equal(esximg_modname_py2_hash_pair(n, strlen(n), c, strlen(c)), 452839153);
    assert_int_equal(esximg_modname_py2_hash_pair("", 0, "", 0), 1105545667);
    assert_int_equal(esximg_modname_py2_hash_pair("x", 1, "y", 1), -1284684630);
}

static void modname_url_quote_is_python2_quote(void **state)
{
    (void)state;
    char *q;
    const char in[] = "a b/c~\xc3\xbc_.-Z9";
    assert_int_equal(esximg_modname_url_quote(in, sizeof in - 1, &q, NULL), 0);
    assert_string_equal(q, "a%20b%2Fc%7E%C3%BC_.-Z9");  /* py2 quotes '~' too */
    free(q);
    assert_int_equal(esximg_modname_url_quote("a\0b", 3, &q, NULL), 0);
    assert_string_equal(q, "a%00b");
    free(q);
    assert_int_equal(esximg_modname_url_quote("", 0, &q, NULL), 0);
    assert_string_equal(q, "");
    free(q);
}

static void modname_vib_xml_names(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    char *name;
    assert_int_equal(esximg_modname_vib_xml("i40en", "INT_bootbank_i40en_1.3.1-1OEM.600.0.0."
                                            "2768847", &name, &err), 0);
    assert_string_equal(name, "i40en-151275975.xml");
    free(name);
    assert_int_equal(esximg_modname_vib_xml("net-ixgbe", "Intel_bootbank_net-ixgbe_3.7.13-1OEM."
                                            "500.0.0.472560", &name, &err), 0);
    assert_string_equal(name, "net-ixgbe--1940891547.xml");
    free(name);
    assert_int_equal(esximg_modname_vib_xml("a/b", "x", &name, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_vib_xml("..", "x", &name, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_vib_xml("", "x", &name, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_vib_xml("a", "", &name, &err), ESXIMG_EINVAL);
}

static void modname_vib_xml64_is_deterministic_and_avoids_clashes(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    const char *id = "INT_bootbank_i40en_1.3.1-1OEM.600.0.0.2768847";
    char *a, *b, *c;
    assert_int_equal(esximg_modname_vib_xml64("i40en", id, NULL, 0, &a, &err), 0);
    /* first 8 bytes of sha-256(id), big-endian, signed */
    assert_string_equal(a, "i40en-1758526616369598165.xml");
    assert_int_equal(esximg_modname_vib_xml64("i40en", id, NULL, 0, &b, &err), 0);
    assert_string_equal(a, b);
    const char *used[] = { "x.xml", a, "i40en-1758526616369598166.xml" };
    assert_int_equal(esximg_modname_vib_xml64("i40en", id, used, 3, &c, &err), 0);
    assert_string_equal(c, "i40en-1758526616369598167.xml");
    free(a);
    free(b);
    free(c);
}

static void modname_assign_follows_generate_vfat_names(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    /* given out of order: names are assigned in sorted vib-id order */
    struct esximg_modname_payload p_b[] = { { "lsu-lsi-", "vgz", NULL, NULL } };
    struct esximg_modname_payload p_a[] = { { "lsu-lsi-", "vgz", NULL, NULL },
                                            { "LSU-LSI-X", "tgz", NULL, NULL } };
    struct esximg_modname_payload p_c[] = { { "features", "vgz", "features.gz", NULL },
                                            { "BOOTx64.EFI", "boot_loader_efi", NULL, NULL } };
    struct esximg_modname_vib vibs[] = {
        { "VMware_bootbank_lsu-lsi-b_1.0-1", 1, p_b },
        { "VMware_bootbank_lsu-lsi-a_1.0-1", 2, p_a },
        { "VMware_bootbank_esx-base_6.7.0-0", 2, p_c },
    };
    assert_int_equal(esximg_modname_assign(vibs, 3, NULL, &err), 0);
    assert_string_equal(p_a[0].file, "lsu_lsi_.v00");
    assert_string_equal(p_a[1].file, "lsu_lsi_.t01");   /* counter shared across types */
    assert_string_equal(p_b[0].file, "lsu_lsi_.v02");
    assert_string_equal(p_c[0].file, "features.gz");    /* vfat-name kept */
    assert_string_equal(p_c[1].file, "bootx64..b00");   /* dots kept, as VMware does */
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < vibs[i].payload_count; j++) {
            free(vibs[i].payloads[j].file);
            vibs[i].payloads[j].file = NULL;
        }
    struct esximg_modname_opts keep = { .keep_dash = true };
    assert_int_equal(esximg_modname_assign(vibs, 1, &keep, &err), 0);
    assert_string_equal(p_b[0].file, "lsu-lsi-.v00");
    free(p_b[0].file);
}

static void modname_assign_counts_in_hex_and_stops_at_256(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_modname_payload p[257];
    struct esximg_modname_vib v = { "V_bootbank_many_1-1", 257, p };
    for (size_t i = 0; i < 257; i++)
        p[i] = (struct esximg_modname_payload){ "many", "vgz", NULL, NULL };
    assert_int_equal(esximg_modname_assign(&v, 1, NULL, &err), ESXIMG_ELIMIT);
    assert_null(p[0].file);                             /* nothing set on failure */
    v.payload_count = 256;
    assert_int_equal(esximg_modname_assign(&v, 1, NULL, &err), 0);
    assert_string_equal(p[10].file, "many.v0a");
    assert_string_equal(p[255].file, "many.vff");
    for (size_t i = 0; i < 256; i++)
        free(p[i].file);
}

static void modname_assign_refuses_bad_lists(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_modname_payload p1[] = { { "a", "vgz", "x.gz", NULL } };
    struct esximg_modname_payload p2[] = { { "b", "vgz", "X.GZ", NULL } };
    struct esximg_modname_vib twice[] = { { "V_t_a_1", 1, p1 }, { "V_t_a_1", 1, p2 } };
    assert_int_equal(esximg_modname_assign(twice, 2, NULL, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
    struct esximg_modname_vib vfat[] = { { "V_t_a_1", 1, p1 }, { "V_t_b_1", 1, p2 } };
    assert_int_equal(esximg_modname_assign(vfat, 2, NULL, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "vfat-name"));
    struct esximg_modname_payload p3[] = { { "c", NULL, NULL, NULL } };
    struct esximg_modname_vib notype = { "V_t_c_1", 1, p3 };
    assert_int_equal(esximg_modname_assign(&notype, 1, NULL, &err), ESXIMG_EINVAL);
    assert_null(p1[0].file);
}

static void modname_next_takes_the_first_free_counter(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    char *name;
    /* ISO names are upper case; any type letter takes the counter */
    const char *used[] = { "NET_E100.V00", "net_e100.t01", "other.v02", "README.TXT" };
    assert_int_equal(esximg_modname_next("net-e1000e", "vgz", used, 4, NULL, &name, &err), 0);
    assert_string_equal(name, "net_e100.v02");
    free(name);
    assert_int_equal(esximg_modname_next("Fresh", "tgz", used, 4, NULL, &name, &err), 0);
    assert_string_equal(name, "fresh.t00");
    free(name);
    assert_int_equal(esximg_modname_next("readme", "text", used, 4, NULL, &name, &err), 0);
    assert_string_equal(name, "readme.t00");  /* "README.TXT" is no counter */
    free(name);
    struct esximg_modname_opts keep = { .keep_dash = true };
    assert_int_equal(esximg_modname_next("ata-pata", "vgz", NULL, 0, &keep, &name, &err), 0);
    assert_string_equal(name, "ata-pata.v00");
    free(name);
}

static void modname_next_refuses_reserved_and_invalid_names(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    char *name = NULL;
    const char *reserved[] = { "s", "sb", "esxcore", "esxupdt", "ESXUPDT" };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(esximg_modname_next(reserved[i], "vgz", NULL, 0, NULL, &name, &err),
                         ESXIMG_EINVAL);
        assert_non_null(strstr(err.msg, "reserved"));
    }
    struct esximg_modname_opts allow = { .allow_reserved = true };
    assert_int_equal(esximg_modname_next("s", "vgz", NULL, 0, &allow, &name, &err), 0);
    assert_string_equal(name, "s.v00");
    free(name);
    name = NULL;
    assert_int_equal(esximg_modname_next("BOOTx64.EFI", "boot_loader_efi", NULL, 0, NULL, &name,
                                         &err), ESXIMG_EINVAL);     /* "bootx64." */
    assert_int_equal(esximg_modname_next("", "vgz", NULL, 0, NULL, &name, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_next("a b", "vgz", NULL, 0, NULL, &name, &err),
                     ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_next("ok", "Vgz", NULL, 0, NULL, &name, &err),
                     ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_next("ok", "", NULL, 0, NULL, &name, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_modname_next("a-b", "vgz", NULL, 0, NULL, &name, &err), 0);
    assert_string_equal(name, "a_b.v00");
    free(name);
}

static void modname_next_runs_out_after_256(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    char *names[256];
    for (unsigned i = 0; i < 256; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "full.v%02x", i);
    }
    char *name = NULL;
    assert_int_equal(esximg_modname_next("full", "vgz", (const char *const *)names, 256, NULL,
                                         &name, &err), ESXIMG_ELIMIT);
    assert_null(name);
    free(names[0xab]);
    names[0xab] = strdup("FULL.T" "AB");
    assert_int_equal(esximg_modname_next("full", "vgz", (const char *const *)names, 256, NULL,
                                         &name, &err), ESXIMG_ELIMIT);  /* any type letter */
    free(names[0xab]);
    names[0xab] = strdup("unrelated");
    assert_int_equal(esximg_modname_next("full", "vgz", (const char *const *)names, 256, NULL,
                                         &name, &err), 0);
    assert_string_equal(name, "full.vab");
    free(name);
    for (unsigned i = 0; i < 256; i++)
        free(names[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modname_py2_hash_matches_python2),
        cmocka_unit_test(modname_py2_tuple_hash_matches_python2),
        cmocka_unit_test(modname_url_quote_is_python2_quote),
        cmocka_unit_test(modname_vib_xml_names),
        cmocka_unit_test(modname_vib_xml64_is_deterministic_and_avoids_clashes),
        cmocka_unit_test(modname_assign_follows_generate_vfat_names),
        cmocka_unit_test(modname_assign_counts_in_hex_and_stops_at_256),
        cmocka_unit_test(modname_assign_refuses_bad_lists),
        cmocka_unit_test(modname_next_takes_the_first_free_counter),
        cmocka_unit_test(modname_next_refuses_reserved_and_invalid_names),
        cmocka_unit_test(modname_next_runs_out_after_256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
