/* samples_vibrel.c: the 136 descriptors of a real ESXi 6.7.0 GA host hold together (no
 * problem at all), and adding each community VIB of the sample bundles to them gives exactly
 * the problems its relationships call for (worked out by hand from the descriptors: 6.7 GA
 * provides vmkapi_2_2..2_5, driverAPI 9.2.x, esx-version 6.7.0-0.0.8169922, nicmgmt 0.1, and
 * no vmkapi_incompat_2_4_0_0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "esximg/vibrel.h"
#include "testutil.h"

#define HOST_VIBS "ljvblfz__ESXi/var/db/esximg/vibs"
#define HOST_VIB_COUNT 136
#define ITI "itiligent__ESXi-Custom-ISO/"
#define MNY "money114__ESXI-Customized-Drives/"

/* A set of descriptors, with room for extra ones. */
struct vib_set {
    size_t count;
    struct esximg_descriptor *d[HOST_VIB_COUNT + 16];
};

static struct esximg_descriptor *read_descriptor(const char *path)
{
    uint8_t *data;
    size_t len;
    tu_read_file(path, &data, &len);
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = {0};
    if (esximg_descriptor_read(data, len, &d, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    free(data);
    return d;
}

/* Reads every file of the host database whose name ends with `suffix`. */
static void read_host_set(const char *suffix, struct vib_set *s)
{
    char *dir = tu_sample_path(HOST_VIBS);
    char **paths;
    size_t n = tu_find_files(dir, suffix, &paths);
    assert_int_equal(n, HOST_VIB_COUNT);
    s->count = 0;
    for (size_t i = 0; i < n; i++)
        s->d[s->count++] = read_descriptor(paths[i]);
    tu_free_list(paths, n);
    free(dir);
}

static void free_set(struct vib_set *s, size_t from)
{
    for (size_t i = from; i < s->count; i++)
        esximg_descriptor_free(s->d[i]);
    s->count = from;
}

/* Runs the check; the problems must be `want` (NULL-terminated), in order. */
static void expect_problems(const struct vib_set *s, const char *const *want, const char *what)
{
    struct esximg_warnings problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_vibrel_check((const struct esximg_descriptor *const *)s->d, s->count,
                                         &problems, &err), 0);
    size_t count = 0;
    while (want[count])
        count++;
    for (size_t i = 0; i < problems.count; i++)
        if (i >= count || strcmp(problems.items[i].msg, want[i]) != 0)
            fail_msg("%s: problem %zu is '%s', want '%s'", what, i, problems.items[i].msg,
                     i < count ? want[i] : "(none)");
    if (problems.count != count)
        fail_msg("%s: %zu problems, want %zu", what, problems.count, count);
    esx_warnings_free(&problems);
}

static size_t find_vib(const struct vib_set *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->d[i]->name, name) == 0)
            return i;
    fail_msg("no VIB '%s' in the set", name);
    return 0;
}

static const char *const none[] = {NULL};

static void samples_vibrel_host_67_holds_together(void **state)
{
    (void)state;
    struct vib_set s;
    read_host_set(".xml", &s);
    expect_problems(&s, none, "6.7 host database");
    /* an installed image: no VIB replaces another one of it */
    for (size_t i = 0; i < s.count; i++)
        for (size_t j = 0; j < s.count; j++)
            if (i != j && esximg_vib_replaces(s.d[i], s.d[j]))
                fail_msg("'%s' replaces '%s'", s.d[i]->name, s.d[j]->name);
    /* the constraints that need rule 4 (a constraint without a release) are there */
    const struct esximg_descriptor *micro = s.d[find_vib(&s, "cpu-microcode")];
    const struct esximg_descriptor *base = s.d[find_vib(&s, "esx-base")];
    bool seen = false;
    for (size_t i = 0; i < micro->depends.count; i++) {
        const struct esximg_constraint *c = &micro->depends.items[i];
        if (strcmp(c->name, "esx-version") == 0 && c->relation &&
            strcmp(c->relation, "<=") == 0) {
            assert_string_equal(c->version, "6.7.0");
            assert_true(esximg_vib_satisfies(base, c));
            seen = true;
        }
    }
    assert_true(seen);
    free_set(&s, 0);
}

static void samples_vibrel_signed_originals_hold_together(void **state)
{
    (void)state;
    struct vib_set s;
    read_host_set(".xml.orig", &s);
    expect_problems(&s, none, "6.7 signed descriptors");
    free_set(&s, 0);
}

static void samples_vibrel_host_without_base_or_ahci(void **state)
{
    (void)state;
    struct vib_set s;
    read_host_set(".xml", &s);
    /* without esx-base: 145 depends lose their provider (77 on vmkapi_2_3_0_0, 46 on
     * vmkapi_2_5_0_0, ...) */
    size_t at = find_vib(&s, "esx-base");
    struct esximg_descriptor *base = s.d[at];
    s.d[at] = s.d[--s.count];
    struct esximg_warnings problems = {0};
    assert_int_equal(esximg_vibrel_check((const struct esximg_descriptor *const *)s.d, s.count,
                                         &problems, NULL), 0);
    assert_int_equal(problems.count, 145);
    size_t vmkapi23 = 0;
    bool vsan = false;
    for (size_t i = 0; i < problems.count; i++) {
        if (strstr(problems.items[i].msg, "depends on 'vmkapi_2_3_0_0', which no VIB provides"))
            vmkapi23++;
        if (strcmp(problems.items[i].msg, "'vsan 6.7.0-0.0.8169922' depends on "
                   "'esx-base << 6.7.0-0.1', which no VIB provides") == 0)
            vsan = true;
    }
    assert_int_equal(vmkapi23, 77);
    assert_true(vsan);
    esx_warnings_free(&problems);
    s.d[s.count++] = base;

    /* sata-xahci only adds mappings for sata-ahci */
    struct esximg_descriptor *xahci = NULL;
    char *path = tu_sample_path(MNY "6.7u3/sata-xahci-1.42-1-offline_bundle.zip");
    uint8_t *data;
    size_t len;
    tu_read_file(path, &data, &len);
    struct esximg_depot *dp = NULL;
    assert_int_equal(esximg_depot_read(data, len, NULL, &dp, NULL), 0);
    xahci = dp->vibs[0].vib->desc;
    at = find_vib(&s, "sata-ahci");
    struct esximg_descriptor *ahci = s.d[at];
    s.d[at] = xahci;
    const char *const want[] = {
        "'sata-xahci 1.42-1' depends on 'sata-ahci', which no VIB provides", NULL,
    };
    expect_problems(&s, want, "6.7 without sata-ahci, with sata-xahci");
    s.d[at] = ahci;
    esximg_depot_free(dp);
    free(data);
    free(path);
    free_set(&s, 0);
}

/* One sample VIB (in a bundle, or a .vib) and what adding it to 6.7 GA gives. */
struct sample_add {
    const char *rel;
    const char *name;
    const char *problems[8];
};

static const struct sample_add adds[] = {
    {ITI "6-updates/ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip", "vmkusb-nic-fling",
     {"'vmkusb-nic-fling 2.1-6vmw.650.2.50.39176435' depends on 'vmkapi_incompat_2_4_0_0', "
      "which no VIB provides"}},
    {ITI "6-updates/net51-r8169-6.011.00-2vft.510.0.0.799733-offline_bundle.zip", "net51-r8169",
     {"'net51-r8169 6.011.00-2vft.510.0.0.799733' depends on 'vmkapi_2_1_0_0', which no VIB "
      "provides"}},
    /* vmkapi_2_2_0_0 and driverAPI-9.2.2.0 are still provided by 6.7's esx-base */
    {ITI "6-updates/net55-r8168-8.045a-napi-offline_bundle.zip", "net55-r8168", {NULL}},
    {ITI "6-updates/nvme-community-driver_1.0.1.0-1vmw.670.0.0.8169922-offline_bundle-"
     "17658145.zip", "nvme-community", {NULL}},
    {ITI "7-updates/Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807_19480755.zip",
     "net-community",
     {"'net-community 1.2.7.0-1vmw.700.1.0.15843807' depends on 'vmkapi_2_6_0_0', which no VIB "
      "provides"}},
    {ITI "8-updates/ESXi80U3-VMKUSB-NIC-FLING-75399077-component-24052746.zip",
     "vmkusb-nic-fling",
     {"'vmkusb-nic-fling 1.14-1vmw.803.0.0.75399077' depends on 'vmkapi_2_13_0_0', which no VIB "
      "provides",
      "'vmkusb-nic-fling 1.14-1vmw.803.0.0.75399077' depends on 'vmkapi_incompat_2_13_0_0', "
      "which no VIB provides"}},
    {ITI "8-updates/VMware-Re-Driver_1.101.01-5vmw.800.1.0.20613240.zip", "if-re",
     {"'if-re 1.101.01-5vmw.800.1.0.20613240' depends on 'vmkapi_2_10_0_0', which no VIB "
      "provides"}},
    {ITI "9-updates/ESXi90-VMKUSB-NIC-FLING-84947163_24739691-component.zip", "vmkusb-nic-fling",
     {"'vmkusb-nic-fling 1.15-1vmw.900.0.84947163' depends on 'vmkapi_3_0_0_0', which no VIB "
      "provides",
      "'vmkusb-nic-fling 1.15-1vmw.900.0.84947163' depends on 'vmkapi_incompat_3_0_0_0', which "
      "no VIB provides",
      "'vmkusb-nic-fling 1.15-1vmw.900.0.84947163' depends on 'zstd-compression = 1.0', which no "
      "VIB provides"}},
    {"lamw__ghettoVCB/vghetto-ghettoVCB-offline-bundle.zip", "ghettoVCB", {NULL}},
    {MNY "6.7u3/net-forcedeth-1-1.0.0-1-offline_bundle.zip", "net-forcedeth-1", {NULL}},
    {MNY "6.7u3/sata-xahci-1.42-1-offline_bundle.zip", "sata-xahci", {NULL}},
    /* uwglibc64-2.12.2-1 is met; nicmgmt is there at 0.1 */
    {MNY "8.0u3/Intel-esx-nvmupdaten64e_1.43.28.0-800.20613240.zip", "nvmupdaten64e",
     {"'nvmupdaten64e 1.43.28.0-1OEM.800.1.0.20613240' depends on 'vmkapi_2_10_0_0', which no "
      "VIB provides",
      "'nvmupdaten64e 1.43.28.0-1OEM.800.1.0.20613240' depends on 'libvmkuser-8.0.0-1', which "
      "no VIB provides",
      "'nvmupdaten64e 1.43.28.0-1OEM.800.1.0.20613240' depends on 'uwvmkcall-8.0.0-1', which no "
      "VIB provides",
      "'nvmupdaten64e 1.43.28.0-1OEM.800.1.0.20613240' depends on 'nicmgmt = 0.3', which no VIB "
      "provides (found 'nicmgmt 0.1' from 'esx-base 6.7.0-0.0.8169922')",
      "'nvmupdaten64e 1.43.28.0-1OEM.800.1.0.20613240' depends on 'iscsimgmt = 0.0', which no "
      "VIB provides",
      "'nvmupdaten64e 1.43.28.0-1OEM.800.1.0.20613240' depends on 'srest = 0.2', which no VIB "
      "provides"}},
    {MNY "8.0u3/vghetto-ghettoVCB-offline-bundle-8x.zip", "ghettoVCB", {NULL}},
    {ITI "6-updates/net-r8125-9.011.00-10.vib", "net-r8125", {NULL}},
    {"lamw__ghettoVCB/vghetto-ghettoVCB.vib", "ghettoVCB", {NULL}},
};
#define ADD_COUNT (sizeof adds / sizeof adds[0])

/* The descriptor of the sample's only VIB, as a copy the caller frees. */
static struct esximg_descriptor *read_sample_vib(const char *rel)
{
    char *path = tu_sample_path(rel);
    uint8_t *data;
    size_t len;
    tu_read_file(path, &data, &len);
    struct esximg_err err = {0};
    const uint8_t *desc;
    size_t desc_len;
    struct esximg_depot *dp = NULL;
    struct esximg_vib *v = NULL;
    size_t rl = strlen(rel);
    if (rl > 4 && strcmp(rel + rl - 4, ".vib") == 0) {
        if (esximg_vib_read(data, len, &v, &err) != 0)
            fail_msg("%s: %s", rel, err.msg);
        desc = v->descriptor_bytes;
        desc_len = v->descriptor_len;
    } else {
        if (esximg_depot_read(data, len, NULL, &dp, &err) != 0)
            fail_msg("%s: %s", rel, err.msg);
        assert_int_equal(dp->vib_count, 1);
        desc = dp->vibs[0].vib->descriptor_bytes;
        desc_len = dp->vibs[0].vib->descriptor_len;
    }
    struct esximg_descriptor *d = NULL;
    if (esximg_descriptor_read(desc, desc_len, &d, &err) != 0)
        fail_msg("%s: descriptor: %s", rel, err.msg);
    esximg_vib_free(v);
    esximg_depot_free(dp);
    free(data);
    free(path);
    return d;
}

static void samples_vibrel_each_community_vib_on_67(void **state)
{
    (void)state;
    struct vib_set s;
    read_host_set(".xml", &s);
    for (size_t i = 0; i < ADD_COUNT; i++) {
        struct esximg_descriptor *d = read_sample_vib(adds[i].rel);
        assert_string_equal(d->name, adds[i].name);
        /* none of them replaces or is replaced by a 6.7 GA VIB */
        for (size_t j = 0; j < s.count; j++) {
            assert_false(esximg_vib_replaces(d, s.d[j]));
            assert_false(esximg_vib_replaces(s.d[j], d));
        }
        s.d[s.count++] = d;
        expect_problems(&s, adds[i].problems, adds[i].rel);
        free_set(&s, HOST_VIB_COUNT);
    }
    free_set(&s, 0);
}

static void samples_vibrel_several_together(void **state)
{
    (void)state;
    struct vib_set s;
    read_host_set(".xml", &s);
    /* a typical 6.7 home-lab image: r8168, xahci, forcedeth mapping, nvme, ghettoVCB twice
     * (same name: one replaces the other), and the 7.0 net-community by mistake */
    const size_t pick[] = {2, 10, 9, 3, 4, 8, 14};
    for (size_t i = 0; i < sizeof pick / sizeof pick[0]; i++)
        s.d[s.count++] = read_sample_vib(adds[pick[i]].rel);
    const char *const want[] = {
        "'net-community 1.2.7.0-1vmw.700.1.0.15843807' depends on 'vmkapi_2_6_0_0', which no VIB "
        "provides",
        NULL,
    };
    expect_problems(&s, want, "6.7 with community VIBs");
    const struct esximg_descriptor *g1 = s.d[s.count - 2], *g2 = s.d[s.count - 1];
    assert_true(esximg_vib_replaces(g1, g2));
    assert_true(esximg_vib_replaces(g2, g1));
    assert_int_equal(esximg_version_cmp(g1->version, g2->version), 0);
    /* the Fling for 6.5 and the one for 8.0 U3 share a name: either replaces the other, and
     * the version order tells which is newer */
    struct esximg_descriptor *f65 = read_sample_vib(adds[0].rel);
    struct esximg_descriptor *f80 = read_sample_vib(adds[5].rel);
    struct esximg_descriptor *f90 = read_sample_vib(adds[7].rel);
    assert_true(esximg_vib_replaces(f80, f65));
    assert_true(esximg_version_cmp(f65->version, f80->version) > 0);   /* 2.1 > 1.14 */
    assert_true(esximg_version_cmp(f80->version, f90->version) < 0);   /* 1.14 < 1.15 */
    esximg_descriptor_free(f65);
    esximg_descriptor_free(f80);
    esximg_descriptor_free(f90);
    free_set(&s, 0);
}

int main(void)
{
    int skip = tu_require_samples("samples_vibrel");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_vibrel_host_67_holds_together),
        cmocka_unit_test(samples_vibrel_signed_originals_hold_together),
        cmocka_unit_test(samples_vibrel_host_without_base_or_ahci),
        cmocka_unit_test(samples_vibrel_each_community_vib_on_67),
        cmocka_unit_test(samples_vibrel_several_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
