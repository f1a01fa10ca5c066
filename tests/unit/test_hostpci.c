/* test_hostpci.c: host PCI device lists in ESXi's forms (lspci, -v, -n, -p, vmkchdev -l,
 * esxcli hardware pci list), pciutils lspci through the same reader, merging, slots. */
#include <stdlib.h>
#include <string.h>

#include "esximg/hostpci.h"
#include "testutil.h"

static struct esximg_hostpci *read_host(const char *text)
{
    struct esximg_hostpci *h = NULL;
    struct esximg_err err = {0};
    if (esximg_hostpci_read(text, strlen(text), NULL, &h, &err) != 0)
        fail_msg("read failed: %s", err.msg);
    return h;
}

static void hostpci_normalises_slots(void **state)
{
    (void)state;
    char out[20];
    assert_true(esximg_hostpci_slot("00:19.0", 7, out));
    assert_string_equal(out, "0000:00:19.0");
    assert_true(esximg_hostpci_slot("0000:4B:00.3", 12, out));
    assert_string_equal(out, "0000:4b:00.3");
    /* ESXi 5.x: decimal, 3-digit bus; device 31 is 0x1f */
    assert_true(esximg_hostpci_slot("000:000:31.2", 12, out));
    assert_string_equal(out, "0000:00:1f.2");
    assert_true(esximg_hostpci_slot("000:014:00.0", 12, out));
    assert_string_equal(out, "0000:0e:00.0");
    assert_true(esximg_hostpci_slot("0000:001:00.0", 13, out));
    assert_string_equal(out, "0000:01:00.0");
    assert_false(esximg_hostpci_slot("000:256:00.0", 12, out));     /* bus over 255 */
    assert_false(esximg_hostpci_slot("00:20.0", 7, out));           /* device over 0x1f */
    assert_false(esximg_hostpci_slot("000:000:32.0", 12, out));
    assert_false(esximg_hostpci_slot("00:19.8", 7, out));
    assert_false(esximg_hostpci_slot("0:0:00:19.0", 11, out));
    assert_false(esximg_hostpci_slot("00:19", 5, out));
}

static void hostpci_reads_esxi_lspci_v(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_host(
        "0000:01:00.0 Network controller Ethernet controller: Intel Corporation I350 [vmnic0]\n"
        "         Class 0200: 8086:1521\n"
        "--\n"
        "0000:03:00.0 Network controller Ethernet controller: Realtek Onboard Ethernet\n"
        "Class 0200: 10ec:8168\n"
        "000:000:31.2 Mass storage controller: Intel Corporation ICH10 [vmhba0]\n");
    assert_int_equal(h->form, ESXIMG_HOSTPCI_ESXI_LSPCI);
    assert_int_equal(h->device_count, 3);
    assert_int_equal(h->warnings.count, 0);
    const struct esximg_host_device *d = h->devices;
    assert_string_equal(d[0].slot, "0000:01:00.0");
    assert_true(d[0].has_ids);
    assert_int_equal(d[0].pci.vendor, 0x8086);
    assert_int_equal(d[0].pci.device, 0x1521);
    assert_int_equal(d[0].pci.class_code, 0x0200);
    assert_string_equal(d[0].vmkernel_name, "vmnic0");
    assert_string_equal(d[0].name, "Intel Corporation I350");
    assert_false(d[0].driver_known);
    assert_null(d[1].vmkernel_name);                    /* no [vmnicN]: not claimed */
    assert_int_equal(d[1].pci.vendor, 0x10ec);
    assert_false(d[2].has_ids);                         /* plain lspci prints no ids */
    assert_string_equal(d[2].slot, "0000:00:1f.2");
    assert_string_equal(d[2].vmkernel_name, "vmhba0");
    esximg_hostpci_free(h);
}

static void hostpci_reads_esxi_lspci_n(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_host("0000:31:00.0 Class 0200: 8086:1521 [vmnic4]\n"
                                         "0000:ca:02.0 Class 0200: 8086:154c [PF_0.202.0_VF_0]\n"
                                         "0000:00:17.0 Class 0106: 8086:9d03\n");
    assert_int_equal(h->device_count, 3);
    assert_int_equal(h->warnings.count, 0);
    assert_string_equal(h->devices[0].vmkernel_name, "vmnic4");
    assert_string_equal(h->devices[1].vmkernel_name, "PF_0.202.0_VF_0");
    assert_int_equal(h->devices[2].pci.class_code, 0x0106);
    assert_null(h->devices[2].vmkernel_name);
    esximg_hostpci_free(h);
}

static void hostpci_reads_lspci_p(void **state)
{
    (void)state;
    /* with the header: columns; the third device has no module */
    struct esximg_hostpci *h = read_host(
        "Segm:Bu:De.F Vend:Dvid Subv:Subd ISA/irq/Vect P M Module       Name    \n"
        "0000:04:00.0 8086:1533 1043:8557 255/   /     A V igbn         vmnic0\n"
        "0000:06:00.0 1d6a:d108 1d6a:0001 255/   /     A V              vmnic2\n"
        "0000:00:14.0 8086:a36d 1028:0869  11/ 11/0x33 A V vmkusb\n");
    assert_int_equal(h->form, ESXIMG_HOSTPCI_ESXI_LSPCI_P);
    assert_int_equal(h->device_count, 3);
    assert_int_equal(h->warnings.count, 0);
    const struct esximg_host_device *d = h->devices;
    assert_true(d[0].driver_known);
    assert_string_equal(d[0].driver, "igbn");
    assert_string_equal(d[0].vmkernel_name, "vmnic0");
    assert_true(d[0].pci.has_subsys);
    assert_int_equal(d[0].pci.subdevice, 0x8557);
    assert_false(d[0].pci.has_class);
    assert_true(d[1].driver_known);
    assert_null(d[1].driver);
    assert_string_equal(d[1].vmkernel_name, "vmnic2");
    assert_string_equal(d[2].driver, "vmkusb");
    assert_null(d[2].vmkernel_name);
    esximg_hostpci_free(h);
    /* without the header: tokens; a lone vmkernel name is no module */
    h = read_host("0000:31:00.0 8086:1521 103c:8157 255/   /     D V igbn         vmnic4\n"
                  "0000:06:00.0 1d6a:d108 1d6a:0001 255/   /     A V              vmnic2\n");
    assert_string_equal(h->devices[0].driver, "igbn");
    assert_null(h->devices[1].driver);
    assert_true(h->devices[1].driver_known);
    assert_string_equal(h->devices[1].vmkernel_name, "vmnic2");
    esximg_hostpci_free(h);
}

static void hostpci_reads_vmkchdev(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_host("000:002:00.0 8086:10f8 8086:000c vmkernel vmnic7\n"
                                         "0000:00:1f.2  8086:3b22 103c:3118  vmkernel vmhba0\n"
                                         "0000:04:00.0 1000:0087 1000:3020 passthru\n");
    assert_int_equal(h->form, ESXIMG_HOSTPCI_VMKCHDEV);
    assert_int_equal(h->device_count, 3);
    assert_int_equal(h->warnings.count, 0);
    assert_string_equal(h->devices[0].slot, "0000:02:00.0");
    assert_string_equal(h->devices[0].owner, "vmkernel");
    assert_false(h->devices[0].driver_known);          /* the owner is not the driver */
    assert_string_equal(h->devices[1].vmkernel_name, "vmhba0");
    assert_true(h->devices[2].driver_known);
    assert_string_equal(h->devices[2].driver, ESXIMG_HOSTPCI_PASSTHRU);
    esximg_hostpci_free(h);
}

static void hostpci_reads_esxcli(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_host(
        "0000:02:00.1\n"
        "   Address: 0000:02:00.1\n"
        "   VMkernel Name: vmnic5\n"
        "   Vendor Name: Intel Corporation\n"
        "   Device Name: Ethernet Controller 10 Gigabit X540-AT2\n"
        "   Current Owner: VMkernel\n"
        "   Vendor ID: 0x8086\n"
        "   Device ID: 0x1528\n"
        "   SubVendor ID: 0x103c\n"
        "   SubDevice ID: 0x192d\n"
        "   Device Class: 0x0200\n"
        "   Device Class Name: Ethernet controller\n"
        "   Programming Interface: 0x00\n"
        "   Module ID: 4133\n"
        "   Module Name: ixgbe\n"
        "   Slot Description: CPU1 SLOT2 PCI-E 3.0 X4 (IN X8 SLOT)\n"
        "\n"
        "   VMkernel Name: **vmnic0**\n"            /* grep -A23, pasted in markdown */
        "   Vendor ID: 0x8086\n"
        "   Device ID: 0x37cc\n"
        "   Device Class: 0x0200\n"
        "   Module ID: -1\n"
        "   Module Name: **None**\n"
        "Vendor ID: 0x14e4\n"                       /* a second block without a blank line */
        "Device ID: 0x165f\n"
        "Device Class:\n");
    assert_int_equal(h->form, ESXIMG_HOSTPCI_ESXCLI);
    assert_int_equal(h->device_count, 3);
    assert_int_equal(h->warnings.count, 0);
    const struct esximg_host_device *d = h->devices;
    assert_string_equal(d[0].slot, "0000:02:00.1");
    assert_string_equal(d[0].driver, "ixgbe");
    assert_true(d[0].driver_known);
    assert_string_equal(d[0].name, "Ethernet Controller 10 Gigabit X540-AT2");
    assert_int_equal(d[0].pci.subvendor, 0x103c);
    assert_true(d[0].pci.has_progif);
    assert_null(d[1].slot);
    assert_string_equal(d[1].vmkernel_name, "vmnic0");
    assert_true(d[1].driver_known);
    assert_null(d[1].driver);                           /* Module Name: None */
    assert_int_equal(d[2].pci.vendor, 0x14e4);
    assert_false(d[2].pci.has_class);
    assert_false(d[2].driver_known);
    esximg_hostpci_free(h);
}

static void hostpci_reads_linux_lspci(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_host("00:19.0 0200: 8086:15b8 (rev 31)\n"
                                         "01:00.0 Non-Volatile memory controller [0108]: "
                                         "Samsung [144d:a808]\n");
    assert_int_equal(h->form, ESXIMG_HOSTPCI_LINUX);
    assert_int_equal(h->device_count, 2);
    assert_int_equal(h->warnings.count, 0);
    assert_string_equal(h->devices[0].slot, "00:19.0");     /* as printed */
    assert_true(h->devices[0].has_ids);
    assert_string_equal(h->devices[1].name, "Samsung");
    esximg_hostpci_free(h);
}

static void hostpci_warns_on_unreadable_lines(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_host("0000:31:00.0 Class 0200: 8086:1521 [vmnic4]\n"
                                         "garbage here\n"
                                         "0000:31:00.1 8086:15zz 103c:8157 vmkernel vmnic5\n"
                                         "   Vendor ID: 0xZZZZ\n"
                                         "    Class 0200: 8086:1521\n");
    assert_int_equal(h->device_count, 1);
    assert_int_equal(h->warnings.count, 5);
    assert_int_equal(h->warnings.items[0].line, 2);
    assert_non_null(strstr(h->warnings.items[0].msg, "garbage here"));
    assert_int_equal(h->warnings.items[1].line, 3);
    /* the bad id line opened a block that never got its ids */
    assert_int_equal(h->warnings.items[2].line, 4);
    assert_int_equal(h->warnings.items[3].line, 4);
    assert_int_equal(h->warnings.items[4].line, 5);     /* a class line under no device */
    assert_non_null(strstr(h->warnings.items[4].msg, "without its device line"));
    esximg_hostpci_free(h);
}

static void hostpci_refuses_nothing_recognisable(void **state)
{
    (void)state;
    static const char *const inputs[] = {"", "\n\n", "hello world\n", "Vendor ID: 0x8086\n",
                                         "0000:31:00.0\n", "-- \n", "Class 0200: 8086:1521\n"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct esximg_hostpci *h = NULL;
        struct esximg_err err = {0};
        assert_int_equal(esximg_hostpci_read(inputs[i], strlen(inputs[i]), NULL, &h, &err),
                         ESXIMG_EFORMAT);
        assert_null(h);
    }
    struct esximg_err err = {0};
    struct esximg_hostpci *h = NULL;
    assert_int_equal(esximg_hostpci_read("00:19.0\0 0200", 13, NULL, &h, &err), ESXIMG_EFORMAT);
    /* a line over the limit, truncated input */
    size_t big = 70000;
    char *line = malloc(big);
    memset(line, 'a', big);
    assert_int_equal(esximg_hostpci_read(line, big, NULL, &h, &err), ESXIMG_ELIMIT);
    free(line);
    const char *cut = "0000:31:00.0 8086:1521 103c:81";
    assert_int_equal(esximg_hostpci_read(cut, strlen(cut), NULL, &h, &err), ESXIMG_EFORMAT);
}

static void hostpci_merges_by_slot(void **state)
{
    (void)state;
    struct esximg_hostpci *p = read_host(
        "0000:31:00.0 8086:1521 103c:8157 255/   /     D V igbn         vmnic4\n");
    struct esximg_hostpci *n = read_host("0000:31:00.0 Class 0200: 8086:1521 [vmnic4]\n"
                                         "0000:31:00.1 Class 0200: 8086:1521 [vmnic5]\n");
    struct esximg_hostpci *v = read_host("0000:31:00.0 Network controller: Intel I350 [vmnic4]\n"
                                         "0000:31:00.1 Class 0200: 8086:1599\n");
    assert_int_equal(esximg_hostpci_merge(p, n, NULL), 0);
    assert_int_equal(esximg_hostpci_merge(p, v, NULL), 0);
    assert_int_equal(p->device_count, 2);
    assert_true(p->devices[0].pci.has_class);           /* from lspci -n */
    assert_string_equal(p->devices[0].driver, "igbn");  /* from lspci -p */
    assert_string_equal(p->devices[0].name, "Intel I350");
    assert_int_equal(p->devices[1].pci.device, 0x1521); /* the first file's ids are kept */
    assert_int_equal(p->warnings.count, 1);
    assert_non_null(strstr(p->warnings.items[0].msg, "0000:31:00.1"));
    esximg_hostpci_free(p);
    esximg_hostpci_free(n);
    esximg_hostpci_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostpci_normalises_slots),
        cmocka_unit_test(hostpci_reads_esxi_lspci_v),
        cmocka_unit_test(hostpci_reads_esxi_lspci_n),
        cmocka_unit_test(hostpci_reads_lspci_p),
        cmocka_unit_test(hostpci_reads_vmkchdev),
        cmocka_unit_test(hostpci_reads_esxcli),
        cmocka_unit_test(hostpci_reads_linux_lspci),
        cmocka_unit_test(hostpci_warns_on_unreadable_lines),
        cmocka_unit_test(hostpci_refuses_nothing_recognisable),
        cmocka_unit_test(hostpci_merges_by_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
