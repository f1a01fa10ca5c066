/* test_pciids.c: .ids files and their name lookups. */
#include <stdlib.h>
#include <string.h>

#include "esximg/pciids.h"
#include "testutil.h"

static struct esximg_pciids *read_ids(const char *text)
{
    struct esximg_pciids *ids = NULL;
    struct esximg_err err = {0};
    if (esximg_pciids_read(text, strlen(text), NULL, &ids, &err) != 0)
        fail_msg("read failed: %s", err.msg);
    return ids;
}

static void pciids_reads_and_looks_up(void **state)
{
    (void)state;
    struct esximg_pciids *ids = read_ids(
        "#\n# Vendors, devices and subsystems.\n#\n\n"
        "8086  Intel(R)\n"
        "\t105e  82571EB Gigabit Ethernet Controller\n"
        "\t\t8086 005e  PRO/1000 PT Dual Port Server Connection\n"
        "\t\t8086 115e  PRO/1000 PT Dual Port Server Adapter  \n"
        "\t10D3 82574L Gigabit Network Connection\r\n"    /* one space, upper case, CRLF */
        "14e4\tBroadcom\n"
        "\t1639  NetXtreme II BCM5709\n"
        "8086  Intel again\n"
        "\t1572  X710\n"
        "C 02  Network controller\n"
        "\t00  Ethernet controller\n"
        "\t\t00  none\n"
        "15ad  VMware\n"
        "\t07b0  VMXNET3");
    assert_int_equal(ids->warnings.count, 0);
    assert_int_equal(ids->vendor_count, 4);
    assert_int_equal(ids->vendors[0].device_count, 2);
    assert_int_equal(ids->vendors[0].devices[0].subsys_count, 2);
    assert_string_equal(esximg_pciids_vendor_name(ids, 0x8086), "Intel(R)");
    assert_string_equal(esximg_pciids_device_name(ids, 0x8086, 0x105e),
                        "82571EB Gigabit Ethernet Controller");
    assert_string_equal(esximg_pciids_device_name(ids, 0x8086, 0x10d3),
                        "82574L Gigabit Network Connection");
    assert_string_equal(esximg_pciids_subsys_name(ids, 0x8086, 0x105e, 0x8086, 0x115e),
                        "PRO/1000 PT Dual Port Server Adapter");
    assert_string_equal(esximg_pciids_vendor_name(ids, 0x14e4), "Broadcom");
    /* the second 8086 block is searched too */
    assert_string_equal(esximg_pciids_device_name(ids, 0x8086, 0x1572), "X710");
    /* the class section is skipped, the vendor after it read */
    assert_string_equal(esximg_pciids_device_name(ids, 0x15ad, 0x07b0), "VMXNET3");
    assert_null(esximg_pciids_vendor_name(ids, 0x1234));
    assert_null(esximg_pciids_device_name(ids, 0x8086, 0x0001));
    assert_null(esximg_pciids_subsys_name(ids, 0x8086, 0x105e, 0x8086, 0x0001));
    assert_null(esximg_pciids_subsys_name(ids, 0x14e4, 0x105e, 0x8086, 0x005e));
    esximg_pciids_free(ids);
}

static void pciids_skips_bad_lines(void **state)
{
    (void)state;
    static const char text[] =
        "\t1000  device before any vendor\n"      /* 1 */
        "808  short vendor\n"                     /* 2 */
        "8086x Intel\n"                           /* 3: no blank after the id */
        "8086  Intel\n"                           /* 4 */
        "\t10g3  bad hex\n"                       /* 5 */
        "\t\t8086 00  short subsystem\n"          /* 6 */
        "\t\t8086 005e  subsystem before device\n"  /* 7 */
        "\t105e  ok\n"                            /* 8 */
        "\t\t\t1 deeper\n"                        /* 9 */
        "  8086  leading spaces\n";               /* 10 */
    struct esximg_pciids *ids = read_ids(text);
    assert_int_equal(ids->vendor_count, 1);
    assert_int_equal(ids->vendors[0].device_count, 1);
    static const size_t lines[] = {1, 2, 3, 5, 6, 7, 9, 10};
    assert_int_equal(ids->warnings.count, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(ids->warnings.items[i].line, lines[i]);
    assert_non_null(strstr(ids->warnings.items[0].msg, "device before any vendor"));
    esximg_pciids_free(ids);
    struct esximg_pciids_ropts o = {.strict = true};
    struct esximg_err err = {0};
    assert_int_equal(esximg_pciids_read(text, sizeof text - 1, &o, &ids, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "line 1"));
}

static void pciids_edge_files(void **state)
{
    (void)state;
    struct esximg_pciids *ids = read_ids("");
    assert_int_equal(ids->vendor_count, 0);
    esximg_pciids_free(ids);
    ids = read_ids("# only a comment");
    assert_int_equal(ids->vendor_count, 0);
    esximg_pciids_free(ids);
    ids = read_ids("10ec  Realtek\n\t8168");   /* a device without a name, no final newline */
    assert_string_equal(esximg_pciids_device_name(ids, 0x10ec, 0x8168), "");
    esximg_pciids_free(ids);
    struct esximg_err err = {0};
    static const char nul[] = "8086  Int\0el\n";
    assert_int_equal(esximg_pciids_read(nul, sizeof nul - 1, NULL, &ids, &err), ESXIMG_EFORMAT);
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(big, 'a', n);
    assert_int_equal(esximg_pciids_read(big, n, NULL, &ids, &err), ESXIMG_ELIMIT);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pciids_reads_and_looks_up),
        cmocka_unit_test(pciids_skips_bad_lines),
        cmocka_unit_test(pciids_edge_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
