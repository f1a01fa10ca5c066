/* test_image.c: the drivers model and the host check of lib/image.c (esximg_image_drivers,
 * esximg_image_hcl, esximg_image_hcl_opts, esximg_image_device_verdict) on images that
 * tests/gen/mkesxiso.py builds at test time.  The expectations are the generator's test host
 * (its HOST_EXPECT): 8086:100e only vmklinux e1000 claims, 8086:10d3 native ne1000 and
 * vmklinux e1000e, the NVMe controller nvme by class, the AHCI controller vmw_ahci, the Realtek
 * NIC nothing (or, with --foreign-driver, an AArch64 module that never loads on x86).
 * Without the generator's tools every test skips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/hostpci.h"
#include "esximg/image.h"
#include "testutil.h"

#define EM_X86_64_ID 62
#define EM_AARCH64_ID 183

/* One generated image, opened, with its drivers read. */
struct gen_image {
    struct esximg_image *img;
    struct esximg_image_drivers *drivers;
};

struct fixture {
    char *dir;
    struct gen_image esx67;         /* 6.7: vmklinux drivers load */
    struct gen_image esx70;         /* 7.0: no vmklinux VIB */
    struct gen_image esx70_odd;     /* 7.0 --vmklinux --foreign-driver: drivers that never load */
};

static bool open_generated(const char *dir, const char *name, const char *version,
                           const char *extra, struct gen_image *g)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!tu_make_esx_iso(version, extra, path))
        return false;
    struct esximg_err err = {0};
    if (esximg_image_open(path, NULL, &g->img, &err) != 0)
        fail_msg("cannot open %s: %s", path, err.msg);
    if (esximg_image_drivers(g->img, &g->drivers, &err) != 0)
        fail_msg("cannot read the drivers of %s: %s", path, err.msg);
    return true;
}

static void close_generated(struct gen_image *g)
{
    esximg_image_drivers_free(g->drivers);
    esximg_image_free(g->img);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (!fx)
        return 0;
    close_generated(&fx->esx67);
    close_generated(&fx->esx70);
    close_generated(&fx->esx70_odd);
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    *state = NULL;
    return 0;
}

static int setup(void **state)
{
    *state = NULL;
    if (!tu_have_image_tools())
        return 0;   /* each test skips */
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_mkdtemp();
    bool ok = open_generated(fx->dir, "67.iso", "6.7", "", &fx->esx67) &&
              open_generated(fx->dir, "70.iso", "7.0", "", &fx->esx70) &&
              open_generated(fx->dir, "odd.iso", "7.0", "--vmklinux --foreign-driver",
                             &fx->esx70_odd);
    *state = fx;
    if (!ok)        /* isolinux or mtools missing: skip */
        teardown(state);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static struct esximg_pci_device pci(uint16_t vendor, uint16_t device, int class_code, int progif)
{
    struct esximg_pci_device d = {.vendor = vendor, .device = device};
    if (class_code >= 0) {
        d.class_code = (uint16_t)class_code;
        d.has_class = true;
    }
    if (progif >= 0) {
        d.progif = (uint8_t)progif;
        d.has_progif = true;
    }
    return d;
}

/* esximg_image_hcl_opts on one device, which must succeed */
static void check(const struct gen_image *g, struct esximg_pci_device dev,
                  const char *const *disabled, size_t disabled_count,
                  struct esximg_hcl_result *r)
{
    const struct esximg_hcl_opts o = {.disabled = disabled, .disabled_count = disabled_count};
    struct esximg_err err = {0};
    if (esximg_image_hcl_opts(g->img, g->drivers, &dev, &o, r, &err) != 0)
        fail_msg("hcl %04x:%04x: %s", dev.vendor, dev.device, err.msg);
}

/* The claim of that driver in the result, which must be there. */
static const struct esximg_hcl_claim *claim_of(const struct esximg_hcl_result *r,
                                               const char *driver)
{
    for (size_t i = 0; i < r->claim_count; i++)
        if (strcmp(r->claims[i].driver, driver) == 0)
            return &r->claims[i];
    fail_msg("no claim by '%s' among %zu", driver, r->claim_count);
    return NULL;
}

static void assert_driven_by(const struct esximg_hcl_result *r, const char *driver,
                             enum esximg_map_class map_class)
{
    assert_int_equal(r->verdict, ESXIMG_HCL_DRIVEN);
    assert_non_null(r->winner);
    assert_string_equal(r->winner->driver, driver);
    assert_int_equal(r->winner->map_class, map_class);
    assert_true(r->winner->loads);
    assert_int_equal(r->winner->why_not, ESXIMG_HCL_LOADS);
}

/* ---------------------------------------------------------------- the drivers model */

/* Maps are read from the payload modules of the VIBs whose file-list names one: the driver
 * VIBs, and esx-base, whose `s` payload holds an empty map (as a real one names maps); its
 * boot payloads (the kernel b.b00, k.b00) are not read. */
static void image_drivers_come_from_payloads_that_name_maps(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct esximg_image_drivers *d = fx->esx70.drivers;
    assert_int_equal(d->problems.count, 0);
    assert_int_equal(d->foreign_count, 0);
    assert_true(d->map_count >= 5);     /* ne1000, vmw_ahci (pci, acpi), nvme, atlantic, base */
    bool ne1000 = false, ahci = false, base = false;
    for (size_t i = 0; i < d->map_count; i++) {
        const struct esximg_image_map *m = &d->maps[i];
        assert_non_null(m->vib);
        assert_non_null(m->vib->desc);
        assert_non_null(esximg_iso_find(fx->esx70.img->iso, m->module));
        assert_string_not_equal(m->module, "/B.B00");
        assert_string_not_equal(m->module, "/K.B00");
        ne1000 |= strcmp(m->vib->desc->name, "ne1000") == 0 &&
                  m->map->map_class == ESXIMG_MAP_NATIVE && m->map->entry_count > 0;
        ahci |= strcmp(m->vib->desc->name, "vmw-ahci") == 0;
        if (strcmp(m->vib->desc->name, "esx-base") == 0) {
            assert_string_equal(m->module, "/S.V00");
            assert_int_equal(m->map->entry_count, 0);
            base = true;
        }
    }
    assert_true(ne1000);
    assert_true(ahci);
    assert_true(base);
    assert_true(d->ids_count >= 1);
}

/* The generator's kernel is no ELF: x86-64 is assumed, and said to be. */
static void image_drivers_machine_is_assumed_x86_64(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    assert_int_equal(fx->esx70.drivers->machine, EM_X86_64_ID);
    assert_false(fx->esx70.drivers->machine_from_kernel);
}

static void image_drivers_names_come_from_ids_files(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct esximg_image_drivers *d = fx->esx70.drivers;
    const char *vendor = esximg_image_vendor_name(d, 0x8086);
    assert_non_null(vendor);
    assert_non_null(strstr(vendor, "Intel"));
    const char *device = esximg_image_device_name(d, 0x8086, 0x10d3);
    assert_non_null(device);
    assert_non_null(strstr(device, "82574L"));
    assert_null(esximg_image_device_name(d, 0x8086, 0xfffe));
    assert_null(esximg_image_vendor_name(d, 0xfffe));
}

/* The ESXi-Arm driver is listed once, with its AArch64 machine. */
static void image_drivers_list_a_foreign_module(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct esximg_image_drivers *d = fx->esx70_odd.drivers;
    assert_int_equal(d->foreign_count, 1);
    assert_int_equal(d->foreign[0].machine, EM_AARCH64_ID);
    assert_string_equal(d->foreign[0].vib->desc->name, "rp1gem");
    assert_non_null(strstr(d->foreign[0].path, "rp1gem_mmio"));
}

/* ---------------------------------------------------------------- esximg_image_hcl */

static void image_hcl_on_67_vmklinux_drives_what_only_it_claims(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_hcl_result r;
    check(&fx->esx67, pci(0x8086, 0x100e, 0x0200, -1), NULL, 0, &r);
    assert_driven_by(&r, "e1000", ESXIMG_MAP_VMKLINUX);
    assert_int_equal(r.kind, ESXIMG_HCL_NETWORK);
    assert_int_equal(r.claim_count, 1);
    esximg_hcl_result_clear(&r);
}

/* native ne1000 over vmklinux e1000e, by map class, the loser still listed */
static void image_hcl_native_wins_over_vmklinux(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_hcl_result r;
    check(&fx->esx67, pci(0x8086, 0x10d3, 0x0200, -1), NULL, 0, &r);
    assert_driven_by(&r, "ne1000", ESXIMG_MAP_NATIVE);
    assert_int_equal(r.rule, ESXIMG_MAP_RULE_CLASS);
    assert_ptr_equal(r.winner, &r.claims[0]);
    const struct esximg_hcl_claim *e1000e = claim_of(&r, "e1000e");
    assert_int_equal(e1000e->map_class, ESXIMG_MAP_VMKLINUX);
    assert_true(e1000e->loads);
    assert_non_null(r.device_name);
    esximg_hcl_result_clear(&r);
}

/* storage controllers claimed through a class-only line (nvme) or by id and class (ahci) */
static void image_hcl_storage_by_class(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_hcl_result r;
    check(&fx->esx70, pci(0x1b36, 0x0010, 0x0108, 0x02), NULL, 0, &r);
    assert_driven_by(&r, "nvme", ESXIMG_MAP_NATIVE);
    assert_int_equal(r.kind, ESXIMG_HCL_STORAGE);
    esximg_hcl_result_clear(&r);
    check(&fx->esx70, pci(0x8086, 0x2922, 0x0106, 0x01), NULL, 0, &r);
    assert_driven_by(&r, "vmw_ahci", ESXIMG_MAP_NATIVE);
    assert_int_equal(r.kind, ESXIMG_HCL_STORAGE);
    esximg_hcl_result_clear(&r);
}

static void image_hcl_unclaimed_devices(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_hcl_result r;
    check(&fx->esx70, pci(0x10ec, 0x8168, 0x0200, -1), NULL, 0, &r);
    assert_int_equal(r.verdict, ESXIMG_HCL_NO_DRIVER);
    assert_int_equal(r.kind, ESXIMG_HCL_NETWORK);
    assert_int_equal(r.claim_count, 0);
    assert_null(r.winner);
    assert_int_equal(r.rule, ESXIMG_MAP_RULE_NONE);
    esximg_hcl_result_clear(&r);
    /* a host bridge: neither network nor storage */
    check(&fx->esx70, pci(0x8086, 0x29c0, 0x0600, -1), NULL, 0, &r);
    assert_int_equal(r.verdict, ESXIMG_HCL_NO_DRIVER);
    assert_int_equal(r.kind, ESXIMG_HCL_OTHER);
    esximg_hcl_result_clear(&r);
    /* a plain 7.0 image has no vmklinux e1000: nothing claims 8086:100e */
    check(&fx->esx70, pci(0x8086, 0x100e, 0x0200, -1), NULL, 0, &r);
    assert_int_equal(r.verdict, ESXIMG_HCL_NO_DRIVER);
    esximg_hcl_result_clear(&r);
}

/* a vmklinux driver carried into 7.0 claims its device but does not load there */
static void image_hcl_on_70_vmklinux_will_not_load(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_hcl_result r;
    check(&fx->esx70_odd, pci(0x8086, 0x100e, 0x0200, -1), NULL, 0, &r);
    assert_int_equal(r.verdict, ESXIMG_HCL_WONT_LOAD);
    assert_null(r.winner);
    const struct esximg_hcl_claim *c = claim_of(&r, "e1000");
    assert_false(c->loads);
    assert_int_equal(c->why_not, ESXIMG_HCL_NOLOAD_VMKLINUX);
    esximg_hcl_result_clear(&r);
    /* where a native driver claims it too, the native one is driven */
    check(&fx->esx70_odd, pci(0x8086, 0x10d3, 0x0200, -1), NULL, 0, &r);
    assert_driven_by(&r, "ne1000", ESXIMG_MAP_NATIVE);
    assert_int_equal(claim_of(&r, "e1000e")->why_not, ESXIMG_HCL_NOLOAD_VMKLINUX);
    esximg_hcl_result_clear(&r);
}

static void image_hcl_foreign_module_will_not_load(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_hcl_result r;
    check(&fx->esx70_odd, pci(0x10ec, 0x8168, 0x0200, -1), NULL, 0, &r);
    assert_int_equal(r.verdict, ESXIMG_HCL_WONT_LOAD);
    assert_null(r.winner);
    const struct esximg_hcl_claim *c = claim_of(&r, "rp1gem");
    assert_false(c->loads);
    assert_int_equal(c->why_not, ESXIMG_HCL_NOLOAD_FOREIGN);
    assert_ptr_equal(c->foreign, &fx->esx70_odd.drivers->foreign[0]);
    esximg_hcl_result_clear(&r);
}

/* A disabled ne1000 hands 8086:10d3 to vmklinux e1000e on 6.7, and to nothing on 7.0. */
static void image_hcl_opts_disabled_module_claims_nothing(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const char *const off[] = {"ne1000"};
    struct esximg_hcl_result r;
    check(&fx->esx67, pci(0x8086, 0x10d3, 0x0200, -1), off, 1, &r);
    assert_driven_by(&r, "e1000e", ESXIMG_MAP_VMKLINUX);
    const struct esximg_hcl_claim *ne1000 = claim_of(&r, "ne1000");
    assert_false(ne1000->loads);
    assert_int_equal(ne1000->why_not, ESXIMG_HCL_NOLOAD_DISABLED);
    esximg_hcl_result_clear(&r);
    check(&fx->esx70_odd, pci(0x8086, 0x10d3, 0x0200, -1), off, 1, &r);
    assert_int_equal(r.verdict, ESXIMG_HCL_WONT_LOAD);
    assert_null(r.winner);
    esximg_hcl_result_clear(&r);
    /* another module disabled changes nothing */
    const char *const other[] = {"vmw_ahci"};
    check(&fx->esx67, pci(0x8086, 0x10d3, 0x0200, -1), other, 1, &r);
    assert_driven_by(&r, "ne1000", ESXIMG_MAP_NATIVE);
    esximg_hcl_result_clear(&r);
}

/* ---------------------------------------------------------------- esximg_image_device_verdict */

/* A running host's device as ESXi's lspci -p gives it: ids without a class, the driver now. */
static struct esximg_host_device host_dev(uint16_t vendor, uint16_t device, const char *vmk_name,
                                          const char *driver_now, bool driver_known)
{
    struct esximg_host_device h = {.slot = "0000:00:03.0", .has_ids = true,
                                   .vmkernel_name = (char *)vmk_name,
                                   .driver = (char *)driver_now, .driver_known = driver_known};
    h.pci = pci(vendor, device, -1, -1);
    return h;
}

static void verdict(const struct gen_image *g, const struct esximg_host_device *h,
                    const char *const *disabled, size_t disabled_count,
                    struct esximg_device_verdict *v)
{
    struct esximg_err err = {0};
    if (esximg_image_device_verdict(g->img, g->drivers, h, disabled, disabled_count, v, &err))
        fail_msg("device verdict %s: %s", h->slot, err.msg);
}

/* e1000e (vmklinux) now, native ne1000 on 7.0; the kind from the name vmnic1 */
static void image_verdict_changes_driver(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_host_device h = host_dev(0x8086, 0x10d3, "vmnic1", "e1000e", true);
    struct esximg_device_verdict v;
    verdict(&fx->esx70_odd, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_CHANGES);
    assert_string_equal(v.driver_now, "e1000e");
    assert_string_equal(v.driver_then, "ne1000");
    assert_true(v.kind_from_name);
    assert_int_equal(v.image.kind, ESXIMG_HCL_NETWORK);
    assert_non_null(v.now_claim);
    assert_string_equal(v.now_claim->driver, "e1000e");
    assert_int_equal(v.now_claim->why_not, ESXIMG_HCL_NOLOAD_VMKLINUX);
    assert_false(v.loses_needed);
    esximg_device_verdict_clear(&v);
    /* the plain 7.0 image does not list e1000e at all */
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_CHANGES);
    assert_null(v.now_claim);
    esximg_device_verdict_clear(&v);
}

static void image_verdict_keeps_and_loses(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_device_verdict v;
    struct esximg_host_device h = host_dev(0x8086, 0x10d3, "vmnic1", "ne1000", true);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_KEEPS);
    assert_ptr_equal(v.now_claim, v.image.winner);
    esximg_device_verdict_clear(&v);
    /* the same host with ne1000 disabled loses its NIC's driver on 7.0 */
    const char *const off[] = {"ne1000"};
    verdict(&fx->esx70, &h, off, 1, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_LOSES);
    assert_null(v.driver_then);
    assert_true(v.loses_needed);
    esximg_device_verdict_clear(&v);
    /* r8168 now, nothing on the image: a storage or network controller lost */
    h = host_dev(0x10ec, 0x8168, "vmnic2", "r8168", true);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_LOSES);
    assert_true(v.loses_needed);
    esximg_device_verdict_clear(&v);
    /* a device that is neither loses its driver without it being needed */
    h = host_dev(0x8086, 0x100e, NULL, "e1000", true);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_LOSES);
    assert_false(v.kind_from_name);
    assert_int_equal(v.image.kind, ESXIMG_HCL_OTHER);
    assert_false(v.loses_needed);
    esximg_device_verdict_clear(&v);
}

static void image_verdict_gains_stays_unknown_passthrough(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_device_verdict v;
    struct esximg_host_device h = host_dev(0x8086, 0x2922, "vmhba0", NULL, true);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_GAINS);
    assert_int_equal(v.image.kind, ESXIMG_HCL_STORAGE);
    esximg_device_verdict_clear(&v);
    h = host_dev(0x10ec, 0x8168, "vmnic2", NULL, true);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_STAYS_WITHOUT);
    assert_false(v.loses_needed);
    esximg_device_verdict_clear(&v);
    h = host_dev(0x10ec, 0x8168, "vmnic2", "r8168", false);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_NOW_UNKNOWN);
    assert_null(v.driver_now);
    esximg_device_verdict_clear(&v);
    h = host_dev(0x10ec, 0x8168, NULL, ESXIMG_HOSTPCI_PASSTHRU, true);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.transition, ESXIMG_HCL_PASSTHROUGH);
    assert_false(v.loses_needed);
    esximg_device_verdict_clear(&v);
}

/* the class, when the host gives one, counts over the name */
static void image_verdict_kind_from_class_first(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_device_verdict v;
    struct esximg_host_device h = host_dev(0x8086, 0x2922, "vmnic9", "vmw_ahci", true);
    h.pci = pci(0x8086, 0x2922, 0x0106, 0x01);
    verdict(&fx->esx70, &h, NULL, 0, &v);
    assert_int_equal(v.image.kind, ESXIMG_HCL_STORAGE);
    assert_false(v.kind_from_name);
    assert_int_equal(v.transition, ESXIMG_HCL_KEEPS);
    esximg_device_verdict_clear(&v);
}

static void image_verdict_needs_ids(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_device_verdict v;
    struct esximg_host_device h = host_dev(0, 0, "vmnic0", "ne1000", true);
    h.has_ids = false;
    struct esximg_err err = {0};
    assert_int_equal(esximg_image_device_verdict(fx->esx70.img, fx->esx70.drivers, &h, NULL, 0,
                                                 &v, &err),
                     ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "0000:00:03.0"));
    esximg_device_verdict_clear(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(image_drivers_come_from_payloads_that_name_maps),
        cmocka_unit_test(image_drivers_machine_is_assumed_x86_64),
        cmocka_unit_test(image_drivers_names_come_from_ids_files),
        cmocka_unit_test(image_drivers_list_a_foreign_module),
        cmocka_unit_test(image_hcl_on_67_vmklinux_drives_what_only_it_claims),
        cmocka_unit_test(image_hcl_native_wins_over_vmklinux),
        cmocka_unit_test(image_hcl_storage_by_class),
        cmocka_unit_test(image_hcl_unclaimed_devices),
        cmocka_unit_test(image_hcl_on_70_vmklinux_will_not_load),
        cmocka_unit_test(image_hcl_foreign_module_will_not_load),
        cmocka_unit_test(image_hcl_opts_disabled_module_claims_nothing),
        cmocka_unit_test(image_verdict_changes_driver),
        cmocka_unit_test(image_verdict_keeps_and_loses),
        cmocka_unit_test(image_verdict_gains_stays_unknown_passthrough),
        cmocka_unit_test(image_verdict_kind_from_class_first),
        cmocka_unit_test(image_verdict_needs_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
