/* samples_depot.c: every real bundle of the samples reads, with the VIB counts found by
 * `unzip -l` (the nested Fling counted inside its inner zip), spot-checked identities, and
 * every metadata packed-size and sha-256 matching the VIB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "testutil.h"

struct sample_bundle {
    const char *rel;
    size_t vib_count;
    enum esximg_depot_kind kind;
    const char *vib_id;              /* of the first VIB */
    const char *component;           /* "<name> <version>" of its 7.0+ component, or NULL */
};

#define ITI "itiligent__ESXi-Custom-ISO/"
#define MNY "money114__ESXI-Customized-Drives/"

static const struct sample_bundle bundles[] = {
    {ITI "6-updates/ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip", 1, ESXIMG_DEPOT_NESTED,
     "VMW_bootbank_vmkusb-nic-fling_2.1-6vmw.650.2.50.39176435", NULL},
    {ITI "6-updates/net51-r8169-6.011.00-2vft.510.0.0.799733-offline_bundle.zip", 1,
     ESXIMG_DEPOT_VFRONT, "VFrontDe_bootbank_net51-r8169_6.011.00-2vft.510.0.0.799733", NULL},
    {ITI "6-updates/net55-r8168-8.045a-napi-offline_bundle.zip", 1, ESXIMG_DEPOT_VFRONT,
     "Realtek_bootbank_net55-r8168_8.045a-napi", NULL},
    {ITI "6-updates/nvme-community-driver_1.0.1.0-1vmw.670.0.0.8169922-offline_bundle-17658145.zip",
     1, ESXIMG_DEPOT_VMWARE, "VMW_bootbank_nvme-community_1.0.1.0-1vmw.670.0.0.8169922",
     "nvme-community-driver 1.0.1.0-1vmw.670.0.0.8169922"},
    {ITI "7-updates/Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807_19480755.zip", 1,
     ESXIMG_DEPOT_VMWARE, "VMW_bootbank_net-community_1.2.7.0-1vmw.700.1.0.15843807",
     "Net-Community-Driver 1.2.7.0-1vmw.700.1.0.15843807"},
    {ITI "8-updates/ESXi80U3-VMKUSB-NIC-FLING-75399077-component-24052746.zip", 1,
     ESXIMG_DEPOT_VMWARE, "VMW_bootbank_vmkusb-nic-fling_1.14-1vmw.803.0.0.75399077",
     "VMware-vmkusb-nic-fling 1.14-1vmw.803.0.0.75399077"},
    {ITI "8-updates/VMware-Re-Driver_1.101.01-5vmw.800.1.0.20613240.zip", 1,
     ESXIMG_DEPOT_VMWARE, "vmw_bootbank_if-re_1.101.01-5vmw.800.1.0.20613240",
     "VMware-Re-Driver 1.101.01-5vmw.800.1.0.20613240"},
    {ITI "9-updates/ESXi90-VMKUSB-NIC-FLING-84947163_24739691-component.zip", 1,
     ESXIMG_DEPOT_VMWARE, "VMW_bootbank_vmkusb-nic-fling_1.15-1vmw.900.0.84947163",
     "VMware-vmkusb-nic-fling 1.15-1vmw.900.0.84947163"},
    {"lamw__ghettoVCB/vghetto-ghettoVCB-offline-bundle.zip", 1, ESXIMG_DEPOT_VMWARE,
     "virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0", NULL},
    {MNY "6.7u3/net-forcedeth-1-1.0.0-1-offline_bundle.zip", 1, ESXIMG_DEPOT_VFRONT,
     "VFrontDe_bootbank_net-forcedeth-1_1.0.0-1", NULL},
    {MNY "6.7u3/sata-xahci-1.42-1-offline_bundle.zip", 1, ESXIMG_DEPOT_VFRONT,
     "VFrontDe_bootbank_sata-xahci_1.42-1", NULL},
    {MNY "8.0u3/Intel-esx-nvmupdaten64e_1.43.28.0-800.20613240.zip", 1, ESXIMG_DEPOT_VMWARE,
     "INT_bootbank_nvmupdaten64e_1.43.28.0-1OEM.800.1.0.20613240",
     "Intel-esx-nvmupdaten64e 1.43.28.0-800.20613240"},
    {MNY "8.0u3/vghetto-ghettoVCB-offline-bundle-8x.zip", 1, ESXIMG_DEPOT_VMWARE,
     "virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0", NULL},
};
#define BUNDLE_COUNT (sizeof bundles / sizeof bundles[0])

static struct esximg_depot *read_sample(const char *rel)
{
    char *path = tu_sample_path(rel);
    uint8_t *data;
    size_t len;
    tu_read_file(path, &data, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_read(data, len, NULL, &d, &err) != 0)
        fail_msg("%s: %s", rel, err.msg);
    free(data);
    free(path);
    return d;
}

static void samples_depot_every_zip_is_listed(void **state)
{
    (void)state;
    char **paths;
    size_t n = tu_find_files(tu_samples_dir(), ".zip", &paths);
    assert_int_equal(n, BUNDLE_COUNT);
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (size_t b = 0; b < BUNDLE_COUNT; b++)
            known |= strstr(paths[i], bundles[b].rel) != NULL;
        if (!known)
            fail_msg("a sample zip the test does not know: %s", paths[i]);
    }
    tu_free_list(paths, n);
}

static void samples_depot_every_bundle_reads_and_checks(void **state)
{
    (void)state;
    for (size_t b = 0; b < BUNDLE_COUNT; b++) {
        struct esximg_depot *d = read_sample(bundles[b].rel);
        if (d->vib_count != bundles[b].vib_count)
            fail_msg("%s: %zu vibs, expected %zu", bundles[b].rel, d->vib_count,
                     bundles[b].vib_count);
        assert_int_equal(d->kind, bundles[b].kind);
        assert_string_equal(d->vibs[0].vib_id, bundles[b].vib_id);
        assert_int_equal(d->warnings.count, 0);
        assert_true(d->component_count >= 1);
        for (size_t i = 0; i < d->vib_count; i++) {
            const struct esximg_depot_vib *v = &d->vibs[i];
            if (v->check != ESXIMG_DEPOT_CHECK_OK)
                fail_msg("%s: '%s': metadata check %s", bundles[b].rel, v->path,
                         esximg_depot_check_name(v->check));
            assert_int_equal(v->meta_size, v->len);
            assert_string_equal(v->meta_checksum, v->sha256);
            assert_false(v->unsafe_path);
            assert_non_null(v->vib->desc);
            assert_true(v->vib->desc->payload_count >= 1);
            assert_int_equal(v->component_count, 1);
            char sum[65];
            assert_int_equal(esx_digest_hex(ESX_SHA256, v->bytes, v->len, sum, NULL), 0);
            assert_string_equal(sum, v->sha256);
        }
        const struct esximg_depot_component *c = &d->components[d->vibs[0].components[0]];
        if (bundles[b].component) {
            char want[256];
            snprintf(want, sizeof want, "%s %s", c->name ? c->name : "-",
                     c->version ? c->version : "-");
            assert_string_equal(want, bundles[b].component);
        } else {
            assert_null(c->name);        /* before 7.0 a bulletin is no component */
        }
        esximg_depot_free(d);
    }
}

static void samples_depot_spot_checks(void **state)
{
    (void)state;
    struct esximg_depot *d = read_sample(bundles[2].rel);      /* net55-r8168, V-Front */
    const struct esximg_depot_vib *v = &d->vibs[0];
    assert_string_equal(v->path, "net55-r8168-8.045a-napi.x86_64.vib");
    assert_string_equal(v->vib->desc->name, "net55-r8168");
    assert_string_equal(v->vib->desc->version, "8.045a-napi");
    assert_string_equal(v->vib->desc->vendor, "Realtek");
    assert_int_equal(v->acceptance, ESXIMG_ACCEPT_COMMUNITY);
    assert_int_equal(v->len, 1142562);
    assert_string_equal(v->sha256,
                        "b50ce94b24dc1760d231a72a6f4a0d2fbcfbeb4e6c8bf5cd35767b9a937c57a7");
    assert_string_equal(d->vendor_code, "RTL");
    assert_int_equal(d->meta_url_count, 3);
    assert_string_equal(d->meta_urls[2].version, "6.5.0");
    assert_string_equal(d->meta_urls[2].url, "Realtek-net55-r8168-8.045a-napi-metadata.zip");
    esximg_depot_free(d);

    d = read_sample(bundles[0].rel);                           /* the nested 6.5 Fling */
    v = &d->vibs[0];
    assert_string_equal(v->container,
                        "ESXi650-VMKUSB-NIC-FLING-39176435-offline_bundle-16775917.zip");
    assert_string_equal(v->vib->desc->name, "vmkusb-nic-fling");
    assert_string_equal(v->vib->desc->version, "2.1-6vmw.650.2.50.39176435");
    assert_int_equal(v->acceptance, ESXIMG_ACCEPT_ACCEPTED);
    assert_int_equal(v->len, 453556);
    assert_string_equal(v->meta_path, "vib20/vmkusb-nic-fling/"
                        "VMW_bootbank_vmkusb-nic-fling_2.1-6vmw.650.2.50.39176435.vib");
    assert_string_equal(d->components[0].id, "ESXi650-VMKUSB-NIC-FLING-39176435");
    esximg_depot_free(d);

    d = read_sample(bundles[4].rel);                           /* a 7.0 component */
    const struct esximg_depot_component *c = &d->components[0];
    assert_string_equal(c->name_ui, "Community Network Devices Driver");
    assert_string_equal(c->version_ui, "1.2.7.0");
    assert_string_equal(c->vendor, "VMware");
    assert_string_equal(c->release_date, "2022-03-11T06:25:01.386000+00:00");
    assert_int_equal(d->vibs[0].acceptance, ESXIMG_ACCEPT_CERTIFIED);
    assert_true(d->vibs[0].vib->sig_len > 0);
    esximg_depot_free(d);

    d = read_sample(bundles[7].rel);                           /* ESXi 9.0: vzstd payload */
    assert_string_equal(d->vibs[0].vib->desc->payloads[0].type, "vzstd");
    esximg_depot_free(d);
}

int main(void)
{
    int skip = tu_require_samples("samples_depot");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_depot_every_zip_is_listed),
        cmocka_unit_test(samples_depot_every_bundle_reads_and_checks),
        cmocka_unit_test(samples_depot_spot_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
