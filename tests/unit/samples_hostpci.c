/* samples_hostpci.c: the real outputs of ESXi's lspci, vmkchdev -l and esxcli hardware pci
 * list in the samples folder (esxi-host-outputs/, SOURCES.tsv says where each comes from). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/hostpci.h"
#include "testutil.h"

#define HOST_DIR "esxi-host-outputs/"

static struct esximg_hostpci *read_sample(const char *rel)
{
    char *path = tu_sample_path(rel);
    uint8_t *bytes;
    size_t len;
    struct esximg_hostpci *h = NULL;
    struct esximg_err err = {0};
    tu_read_file(path, &bytes, &len);
    if (esximg_hostpci_read(bytes, len, NULL, &h, &err) != 0)
        fail_msg("%s: %s", rel, err.msg);
    if (h->warnings.count)
        fail_msg("%s: line %zu: %s", rel, h->warnings.items[0].line, h->warnings.items[0].msg);
    free(bytes);
    free(path);
    return h;
}

/* Every device output of the samples reads without a warning, in the form of its folder. */
static void samples_hostpci_every_output_reads(void **state)
{
    (void)state;
    static const struct {
        const char *dir;
        enum esximg_hostpci_form form;
    } dirs[] = {
        {"lspci", ESXIMG_HOSTPCI_ESXI_LSPCI},     {"lspci-n", ESXIMG_HOSTPCI_ESXI_LSPCI},
        {"lspci-v", ESXIMG_HOSTPCI_ESXI_LSPCI},   {"lspci-p", ESXIMG_HOSTPCI_ESXI_LSPCI_P},
        {"vmkchdev-l", ESXIMG_HOSTPCI_VMKCHDEV},
        {"esxcli-hardware-pci-list", ESXIMG_HOSTPCI_ESXCLI},
    };
    size_t files = 0;
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, HOST_DIR "%s", dirs[k].dir);
        char *dir = tu_sample_path(rel), **paths;
        size_t n = tu_find_files(dir, ".txt", &paths);
        for (size_t i = 0; i < n; i++) {
            const char *name = paths[i] + strlen(tu_samples_dir()) + 1;
            struct esximg_hostpci *h = read_sample(name);
            assert_int_equal(h->form, dirs[k].form);
            for (size_t d = 0; d < h->device_count; d++)
                if (h->devices[d].has_ids && h->devices[d].pci.vendor == 0)
                    fail_msg("%s: device %zu has vendor 0", name, d);
            printf("%s: %zu devices, %s\n", name, h->device_count,
                   esximg_hostpci_form_name(h->form));
            esximg_hostpci_free(h);
            files++;
        }
        tu_free_list(paths, n);
        free(dir);
    }
    assert_true(files >= 18);
}

/* ESXi 5.0's decimal addresses: bus 014 is 0x0e, device 31 is 0x1f. */
static void samples_hostpci_decimal_slots(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_sample(HOST_DIR "lspci/elatov-esxi500-grep-vmhba.txt");
    assert_int_equal(h->device_count, 4);
    assert_string_equal(h->devices[0].slot, "0000:00:1f.2");
    assert_string_equal(h->devices[2].slot, "0000:0e:00.0");
    assert_string_equal(h->devices[2].vmkernel_name, "vmhba2");
    assert_false(h->devices[2].has_ids);
    esximg_hostpci_free(h);
    h = read_sample(HOST_DIR "vmkchdev-l/elatov-esxi5x-grep-vmnic7.txt");
    assert_string_equal(h->devices[0].slot, "0000:02:00.0");
    assert_int_equal(h->devices[0].pci.device, 0x10f8);
    esximg_hostpci_free(h);
}

/* The drivers the hosts use now: lspci -p's Module column, esxcli's Module Name. */
static void samples_hostpci_drivers_now(void **state)
{
    (void)state;
    struct esximg_hostpci *h = read_sample(HOST_DIR "lspci-p/skyao-learning-esxi-aqn108-grep-"
                                           "vmnic.txt");
    assert_int_equal(h->device_count, 3);
    assert_string_equal(h->devices[0].driver, "igbn");
    assert_true(h->devices[2].driver_known);
    assert_null(h->devices[2].driver);          /* the AQC108 no driver took */
    assert_string_equal(h->devices[2].vmkernel_name, "vmnic2");
    esximg_hostpci_free(h);
    h = read_sample(HOST_DIR "lspci-p/intel-mfd-network-adapter-testfixture.txt");
    assert_int_equal(h->device_count, 16);
    assert_string_equal(h->devices[8].driver, "bnxtnet");
    assert_string_equal(h->devices[8].vmkernel_name, "vmnic14");
    esximg_hostpci_free(h);
    h = read_sample(HOST_DIR "esxcli-hardware-pci-list/asbuiltreport-pr75-x722-module-none.txt");
    assert_int_equal(h->device_count, 1);
    assert_true(h->devices[0].driver_known);
    assert_null(h->devices[0].driver);
    assert_int_equal(h->devices[0].pci.device, 0x37cc);
    assert_int_equal(h->devices[0].pci.class_code, 0x0200);
    esximg_hostpci_free(h);
    h = read_sample(HOST_DIR "esxcli-hardware-pci-list/407474568-my-doc.txt");
    assert_int_equal(h->device_count, 2);
    assert_string_equal(h->devices[0].driver, "ixgbe");
    assert_string_equal(h->devices[1].driver, ESXIMG_HOSTPCI_PASSTHRU);
    assert_int_equal(h->devices[1].pci.class_code, 0x0107);
    esximg_hostpci_free(h);
    h = read_sample(HOST_DIR "esxcli-hardware-pci-list/pensando-esxi-drivers-guide-"
                    "flattened.txt");
    assert_string_equal(h->devices[0].driver, "ionic_en");
    assert_string_equal(h->devices[0].slot, "0000:03:00.0");
    esximg_hostpci_free(h);
}

int main(void)
{
    int skip = tu_require_samples("samples_hostpci");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_hostpci_every_output_reads),
        cmocka_unit_test(samples_hostpci_decimal_slots),
        cmocka_unit_test(samples_hostpci_drivers_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
