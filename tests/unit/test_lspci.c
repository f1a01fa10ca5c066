/* test_lspci.c: lspci output in its -n, -nn, -v, -mm and -vmm forms, and --pci arguments. */
#include <stdlib.h>
#include <string.h>

#include "esximg/lspci.h"
#include "testutil.h"

static struct esximg_lspci *read_lspci(const char *text)
{
    struct esximg_lspci *l = NULL;
    struct esximg_err err = {0};
    if (esximg_lspci_read(text, strlen(text), NULL, &l, &err) != 0)
        fail_msg("read failed: %s", err.msg);
    return l;
}

static void lspci_reads_dash_n(void **state)
{
    (void)state;
    struct esximg_lspci *l = read_lspci("00:00.0 0600: 8086:3e30 (rev 0d)\n"
                                        "0000:00:19.0 0200: 8086:15B8 (rev 31)\r\n"
                                        "01:00.0 0108: 144d:a808\n"
                                        "00:14.0 Class 0c03: 8086:a36d (rev 10) (prog-if 30)\n"
                                        "\tSubsystem: 1028:0869\n"
                                        "\tFlags: bus master, medium devsel, IRQ 125\n");
    assert_int_equal(l->warnings.count, 0);
    assert_int_equal(l->device_count, 4);
    const struct esximg_lspci_device *d = l->devices;
    assert_string_equal(d[0].slot, "00:00.0");
    assert_int_equal(d[0].pci.vendor, 0x8086);
    assert_int_equal(d[0].pci.device, 0x3e30);
    assert_int_equal(d[0].pci.class_code, 0x0600);
    assert_true(d[0].pci.has_class);
    assert_false(d[0].pci.has_subsys);
    assert_false(d[0].pci.has_progif);
    assert_true(d[0].has_revision);
    assert_int_equal(d[0].revision, 0x0d);
    assert_null(d[0].name);
    assert_null(d[0].class_name);
    assert_string_equal(d[1].slot, "0000:00:19.0");
    assert_int_equal(d[1].pci.device, 0x15b8);
    assert_int_equal(d[1].line, 2);
    assert_false(d[2].has_revision);
    assert_int_equal(d[2].pci.class_code, 0x0108);
    assert_int_equal(d[3].pci.class_code, 0x0c03);
    assert_true(d[3].pci.has_progif);
    assert_int_equal(d[3].pci.progif, 0x30);
    assert_true(d[3].pci.has_subsys);
    assert_int_equal(d[3].pci.subvendor, 0x1028);
    assert_int_equal(d[3].pci.subdevice, 0x0869);
    esximg_lspci_free(l);
}

static void lspci_reads_dash_nn_and_v(void **state)
{
    (void)state;
    struct esximg_lspci *l = read_lspci(
        "00:19.0 Ethernet controller [0200]: Intel Corporation Ethernet Connection (2) I219-V "
        "[8086:15b8] (rev 31)\n"
        "00:14.0 USB controller [0c03]: Intel Corporation Cannon Lake PCH USB 3.1 xHCI Host "
        "Controller [8086:a36d] (rev 10) (prog-if 30 [XHCI])\n"
        "\tSubsystem: Dell Device [1028:0869]\n"
        "\tMemory at 92f00000 (64-bit, non-prefetchable) [size=64K]\n"
        "\tKernel driver in use: xhci_hcd\n"
        "\tKernel modules: xhci_pci\n"
        "\n");
    assert_int_equal(l->warnings.count, 0);
    assert_int_equal(l->device_count, 2);
    const struct esximg_lspci_device *d = l->devices;
    assert_string_equal(d[0].class_name, "Ethernet controller");
    assert_string_equal(d[0].name, "Intel Corporation Ethernet Connection (2) I219-V");
    assert_int_equal(d[0].pci.vendor, 0x8086);
    assert_int_equal(d[0].pci.device, 0x15b8);
    assert_int_equal(d[0].revision, 0x31);
    assert_string_equal(d[1].class_name, "USB controller");
    assert_int_equal(d[1].pci.progif, 0x30);
    assert_true(d[1].pci.has_progif);
    assert_true(d[1].pci.has_subsys);
    assert_int_equal(d[1].pci.subdevice, 0x0869);
    assert_string_equal(d[1].subdevice_name, "Dell Device");
    esximg_lspci_free(l);
}

static void lspci_reads_vmm_blocks(void **state)
{
    (void)state;
    struct esximg_lspci *l = read_lspci(
        "Slot:\t00:19.0\n"
        "Class:\tEthernet controller [0200]\n"
        "Vendor:\tIntel Corporation [8086]\n"
        "Device:\tEthernet Connection (2) I219-V [15b8]\n"
        "SVendor:\tIntel Corporation [8086]\n"
        "SDevice:\tDevice [2070]\n"
        "Rev:\t31\n"
        "NUMANode:\t0\n"
        "\n"
        "Slot:\t00:17.0\n"
        "Class:\t0106\n"
        "Vendor:\t8086\n"
        "Device:\ta352\n"
        "Rev:\t10\n"
        "ProgIf:\t01\n"
        "\n"
        "Slot:\t00:1f.0\n"
        "Class:\tISA bridge [0601]\n"
        "Device:\tno vendor [a305]\n"
        "\n"
        "Slot:\t00:02.0\n"
        "Class:\t0300\n"
        "Vendor:\t8086\n"
        "Device:\t3e9\n");
    assert_int_equal(l->device_count, 2);
    const struct esximg_lspci_device *d = l->devices;
    assert_string_equal(d[0].slot, "00:19.0");
    assert_string_equal(d[0].class_name, "Ethernet controller");
    assert_string_equal(d[0].vendor_name, "Intel Corporation");
    assert_string_equal(d[0].device_name, "Ethernet Connection (2) I219-V");
    assert_string_equal(d[0].subdevice_name, "Device");
    assert_true(d[0].pci.has_subsys);
    assert_int_equal(d[0].pci.subdevice, 0x2070);
    assert_false(d[0].pci.has_progif);
    assert_int_equal(d[1].pci.class_code, 0x0106);
    assert_int_equal(d[1].pci.device, 0xa352);
    assert_true(d[1].pci.has_progif);
    assert_int_equal(d[1].pci.progif, 0x01);
    assert_false(d[1].pci.has_subsys);
    assert_null(d[1].vendor_name);
    assert_int_equal(d[1].line, 10);
    /* the block without a vendor and the one with a 3-digit device are skipped */
    assert_int_equal(l->warnings.count, 3);
    assert_int_equal(l->warnings.items[0].line, 17);
    assert_non_null(strstr(l->warnings.items[0].msg, "vendor or device"));
    assert_int_equal(l->warnings.items[1].line, 24);
    assert_non_null(strstr(l->warnings.items[1].msg, "bad id"));
    assert_int_equal(l->warnings.items[2].line, 21);
    esximg_lspci_free(l);
}

static void lspci_reads_mm_lines(void **state)
{
    (void)state;
    struct esximg_lspci *l = read_lspci(
        "00:14.0 \"0c03\" \"8086\" \"a36d\" -r10 -p30 \"1028\" \"0869\"\n"
        "00:00.0 \"0600\" \"8086\" \"3e30\" -r0d \"\" \"\"\n"
        "00:19.0 \"Ethernet controller [0200]\" \"Intel Corporation [8086]\" "
        "\"Ethernet Connection (2) I219-V [15b8]\" -r31 \"Intel Corporation [8086]\" "
        "\"Device [2070]\"\n"
        "00:1f.0 \"0601\" \"8086\"\n");
    assert_int_equal(l->device_count, 3);
    const struct esximg_lspci_device *d = l->devices;
    assert_int_equal(d[0].pci.progif, 0x30);
    assert_int_equal(d[0].revision, 0x10);
    assert_true(d[0].pci.has_subsys);
    assert_int_equal(d[0].pci.subvendor, 0x1028);
    assert_false(d[1].pci.has_subsys);
    assert_int_equal(d[1].pci.device, 0x3e30);
    assert_string_equal(d[2].vendor_name, "Intel Corporation");
    assert_string_equal(d[2].device_name, "Ethernet Connection (2) I219-V");
    assert_int_equal(d[2].pci.subdevice, 0x2070);
    assert_int_equal(l->warnings.count, 1);
    assert_int_equal(l->warnings.items[0].line, 4);
    esximg_lspci_free(l);
}

static void lspci_warns_and_refuses(void **state)
{
    (void)state;
    struct esximg_lspci *l = read_lspci("garbage\n"
                                        "00:19.0 0200: 8086:15bg (rev 31)\n"
                                        "00:19.0 0200: 8086:15b8 (rev 3)\n"
                                        "00:19.0 0200 8086:15b8\n"
                                        "00:19.8 0200: 8086:15b8\n"
                                        "00:1.0 0200: 8086:15b8\n"
                                        "00:19.0 020: 8086:15b8\n"
                                        "00:19.0 Ethernet [0200]: Intel [8086:15b8\n"
                                        "\tSubsystem: 1028:869\n"
                                        "01:00.0 0200: 8086:15b8\n");
    assert_int_equal(l->device_count, 1);
    assert_int_equal(l->devices[0].line, 10);
    assert_int_equal(l->warnings.count, 9);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(l->warnings.items[i].line, i + 1);
    esximg_lspci_free(l);
    struct esximg_err err = {0};
    assert_int_equal(esximg_lspci_read("", 0, NULL, &l, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "no device"));
    assert_int_equal(esximg_lspci_read("junk\n\n", 6, NULL, &l, &err), ESXIMG_EFORMAT);
    static const char nul[] = "00:19.0 0200: 8086:15b8\0\n";
    assert_int_equal(esximg_lspci_read(nul, sizeof nul - 1, NULL, &l, &err), ESXIMG_EFORMAT);
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(big, 'a', n);
    assert_int_equal(esximg_lspci_read(big, n, NULL, &l, &err), ESXIMG_ELIMIT);
    free(big);
}

static void lspci_parses_pci_arguments(void **state)
{
    (void)state;
    struct esximg_pci_device d;
    struct esximg_err err = {0};
    assert_int_equal(esximg_pci_device_parse("8086:15b8", &d, &err), 0);
    assert_int_equal(d.vendor, 0x8086);
    assert_int_equal(d.device, 0x15b8);
    assert_false(d.has_subsys || d.has_class || d.has_progif);
    assert_int_equal(esximg_pci_device_parse("8086:15B8:8086:2070", &d, &err), 0);
    assert_true(d.has_subsys);
    assert_int_equal(d.subvendor, 0x8086);
    assert_int_equal(d.subdevice, 0x2070);
    assert_int_equal(esximg_pci_device_parse("1b21:0612/0106", &d, &err), 0);
    assert_true(d.has_class);
    assert_false(d.has_progif);
    assert_int_equal(d.class_code, 0x0106);
    assert_int_equal(esximg_pci_device_parse("1b21:0612:1b21:1060/010601", &d, &err), 0);
    assert_true(d.has_progif);
    assert_int_equal(d.class_code, 0x0106);
    assert_int_equal(d.progif, 0x01);
    static const char *const bad[] = {
        "", "8086", "8086:15b", "8086:15b80", "g086:15b8", "8086-15b8", "8086:15b8:8086",
        "8086:15b8:8086:207", "8086:15b8/", "8086:15b8/02", "8086:15b8/02000", "8086:15b8/0200000",
        "8086:15b8 ", "8086:15b8/0200/01", "8086:15b8:8086:2070:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d.vendor = 0x1111;
        assert_int_equal(esximg_pci_device_parse(bad[i], &d, &err), ESXIMG_EINVAL);
        assert_int_equal(d.vendor, 0x1111);   /* untouched on failure */
    }
    assert_non_null(strstr(err.msg, "VVVV:DDDD"));
    assert_int_equal(esximg_pci_device_parse(NULL, &d, &err), ESXIMG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lspci_reads_dash_n),
        cmocka_unit_test(lspci_reads_dash_nn_and_v),
        cmocka_unit_test(lspci_reads_vmm_blocks),
        cmocka_unit_test(lspci_reads_mm_lines),
        cmocka_unit_test(lspci_warns_and_refuses),
        cmocka_unit_test(lspci_parses_pci_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
