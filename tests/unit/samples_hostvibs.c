/* samples_hostvibs.c: every real `esxcli software vib list`, `vib get` and `component list`
 * output of the samples reads without a warning, each row or record becoming one entry with
 * the fields esxcli printed; and the real Dell R340 host, 7.0U2a before and 7.0U3g after its
 * upgrade, judged with the "after" VIBs standing for the image: the four VIBs the upgrade took
 * away are kept (not in the image, not checked), dell-shared-perc8 and tools-light are the
 * same, every other VIB is updated and none downgraded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/hostvibs.h"
#include "esximg/upgrade.h"
#include "testutil.h"

#define OUTPUTS "esxi-host-outputs/"
#define DELL_BEFORE OUTPUTS "esxcli-software-vib-list/manelrodero-dell-r340-esxi702a-before.txt"
#define DELL_AFTER OUTPUTS "esxcli-software-vib-list/manelrodero-dell-r340-esxi703g-after.txt"

static struct esximg_hostvibs *read_sample_path(const char *path)
{
    uint8_t *data;
    size_t len;
    tu_read_file(path, &data, &len);
    struct esximg_hostvibs *h = NULL;
    struct esximg_err err = {0};
    if (esximg_hostvibs_read(data, len, &h, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    free(data);
    return h;
}

static struct esximg_hostvibs *read_sample(const char *rel)
{
    char *path = tu_sample_path(rel);
    struct esximg_hostvibs *h = read_sample_path(path);
    free(path);
    return h;
}

/* Entries the file holds, counted apart from the reader: table rows are the lines that are
 * neither blank, a header ("Name ") nor a dash line; vib get records are unindented lines. */
static size_t expected_entries(const char *path, bool get)
{
    uint8_t *data;
    size_t len, n = 0;
    tu_read_file(path, &data, &len);
    const char *p = (const char *)data, *end = p + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
        bool blank = l == 0 || p[0] == '\r';
        if (get ? !blank && p[0] != ' ' && p[0] != '\t'
                : !blank && p[0] != '-' && !(l > 5 && memcmp(p, "Name ", 5) == 0))
            n++;
        p += l + 1;
    }
    free(data);
    return n;
}

static void check_dir(const char *rel, enum esximg_hostvibs_form form)
{
    char *dir = tu_sample_path(rel);
    char **paths;
    size_t n = tu_find_files(dir, ".txt", &paths);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        struct esximg_hostvibs *h = read_sample_path(paths[i]);
        if (h->form != form)
            fail_msg("%s: read as %s", paths[i], esximg_hostvibs_form_name(h->form));
        if (h->warnings.count)
            fail_msg("%s: line %zu: %s", paths[i], h->warnings.items[0].line,
                     h->warnings.items[0].msg);
        size_t want = expected_entries(paths[i], form == ESXIMG_HOSTVIBS_VIB_GET);
        if (h->count != want)
            fail_msg("%s: %zu entries, expected %zu", paths[i], h->count, want);
        for (size_t j = 0; j < h->count; j++) {
            const struct esximg_hostvib *v = &h->vibs[j];
            if (v->acceptance == ESXIMG_ACCEPT_UNKNOWN || !v->desc->vendor)
                fail_msg("%s: line %zu: no acceptance or vendor", paths[i], v->line);
        }
        esximg_hostvibs_free(h);
    }
    tu_free_list(paths, n);
    free(dir);
}

static void hostvibs_reads_every_vib_list(void **state)
{
    (void)state;
    check_dir(OUTPUTS "esxcli-software-vib-list", ESXIMG_HOSTVIBS_VIB_LIST);
}

static void hostvibs_reads_every_component_list(void **state)
{
    (void)state;
    check_dir(OUTPUTS "esxcli-software-component-list", ESXIMG_HOSTVIBS_COMPONENT_LIST);
    struct esximg_hostvibs *h =
        read_sample(OUTPUTS "esxcli-software-component-list/frankdenneman-esxi80-grep-nvd.txt");
    assert_string_equal(h->vibs[0].desc->name, "NVD-AIE-800");
    assert_string_equal(h->vibs[0].display_name,
                        "NVIDIA AI Enterprise vGPU driver for VMWare ESX-8.0.0");
    assert_string_equal(h->vibs[0].desc->version, "525.105.14-1OEM.800.1.0.20613240");
    assert_string_equal(h->vibs[0].display_version, "525.105.14");
    assert_string_equal(h->vibs[0].desc->vendor, "NVIDIA");
    assert_int_equal(h->vibs[0].acceptance, ESXIMG_ACCEPT_ACCEPTED);
    assert_string_equal(h->vibs[0].platforms, "host");
    esximg_hostvibs_free(h);
}

static void hostvibs_reads_every_vib_get(void **state)
{
    (void)state;
    check_dir(OUTPUTS "esxcli-software-vib-get", ESXIMG_HOSTVIBS_VIB_GET);
    struct esximg_hostvibs *h =
        read_sample(OUTPUTS "esxcli-software-vib-get/yuangezhizao-www-net55-r8168.txt");
    const struct esximg_descriptor *d = h->vibs[0].desc;
    assert_string_equal(h->vibs[0].id, "Realtek_bootbank_net55-r8168_8.045a-napi");
    assert_string_equal(d->name, "net55-r8168");
    assert_string_equal(d->version, "8.045a-napi");
    assert_int_equal(d->depends.count, 2);
    assert_string_equal(d->depends.items[0].name, "vmkapi_2_2_0_0");
    assert_string_equal(d->depends.items[1].name, "com.vmware.driverAPI-9.2.2.0");
    assert_string_equal(d->conflicts.items[0].name, "net51-drivers");
    assert_string_equal(d->replaces.items[0].name, "net-r8168");
    assert_int_equal(d->provides.count, 0);
    assert_true(esximg_descriptor_is_vmklinux(d));
    assert_int_equal(h->vibs[0].acceptance, ESXIMG_ACCEPT_COMMUNITY);
    esximg_hostvibs_free(h);
}

static void hostvibs_reads_the_widths_of_each_release(void **state)
{
    (void)state;
    /* 6.7U3: Acceptance Level 18 wide ("CommunitySupported"); 7.0: 16 */
    struct esximg_hostvibs *h = read_sample(OUTPUTS "esxcli-software-vib-list/"
                                            "yuangezhizao-www-esxi670u3-with-net55-r8168.txt");
    assert_string_equal(h->vibs[0].desc->name, "net55-r8168");
    assert_string_equal(h->vibs[0].desc->vendor, "Realtek");
    assert_int_equal(h->vibs[0].acceptance, ESXIMG_ACCEPT_COMMUNITY);
    assert_string_equal(h->vibs[h->count - 1].desc->name, "tools-light");
    assert_string_equal(h->vibs[h->count - 1].desc->version, "11.0.1.14773994-15160134");
    esximg_hostvibs_free(h);
    h = read_sample(DELL_BEFORE);
    bool marvell = false;
    for (size_t i = 0; i < h->count; i++)
        marvell = marvell || (strcmp(h->vibs[i].desc->name, "qlnativefc") == 0 &&
                              strcmp(h->vibs[i].desc->vendor, "Marvell") == 0);
    assert_true(marvell);
    esximg_hostvibs_free(h);
}

static const char *const dell_gone[] = {
    "brcmnvmefc", "clusterstore", "dellemc-osname-idrac", "i40en-ens",
};
static const char *const dell_same[] = {"dell-shared-perc8", "tools-light"};

static bool listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static void upgrade_dell_before_after(void **state)
{
    (void)state;
    struct esximg_hostvibs *before = read_sample(DELL_BEFORE);
    struct esximg_hostvibs *after = read_sample(DELL_AFTER);
    /* an image model holding the VIBs of the upgraded host */
    struct esximg_image img = {0};
    img.vib_count = after->count;
    img.vibs = calloc(after->count, sizeof *img.vibs);
    assert_non_null(img.vibs);
    for (size_t i = 0; i < after->count; i++) {
        img.vibs[i].desc = after->vibs[i].desc;
        img.vibs[i].vib_id = after->vibs[i].desc->name;
    }
    struct esximg_upgrade_report *r = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_upgrade_check(&img, before, &r, &err), 0);
    assert_int_equal(r->vib_count, before->count);
    for (size_t i = 0; i < r->vib_count; i++) {
        const char *name = r->vibs[i].host->desc->name;
        enum esximg_upgrade_fate want =
            listed(name, dell_gone, 4) ? ESXIMG_UPGRADE_KEPT
            : listed(name, dell_same, 2) ? ESXIMG_UPGRADE_SAME : ESXIMG_UPGRADE_UPDATED;
        if (r->vibs[i].fate != want)
            fail_msg("%s: %s, expected %s", name, esximg_upgrade_fate_name(r->vibs[i].fate),
                     esximg_upgrade_fate_name(want));
    }
    assert_int_equal(r->fate_count[ESXIMG_UPGRADE_KEPT], 4);
    assert_int_equal(r->fate_count[ESXIMG_UPGRADE_SAME], 2);
    assert_int_equal(r->fate_count[ESXIMG_UPGRADE_UPDATED], before->count - 6);
    assert_int_equal(r->unchecked, 4);
    assert_false(r->fails);
    /* the kept are partner (dellemc-osname-idrac) and certified: the host level is partner */
    assert_int_equal(r->host_acceptance, ESXIMG_ACCEPT_PARTNER);
    esximg_upgrade_report_free(r);
    free(img.vibs);
    esximg_hostvibs_free(before);
    esximg_hostvibs_free(after);
}

int main(void)
{
    int skip = tu_require_samples("samples_hostvibs");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostvibs_reads_every_vib_list),
        cmocka_unit_test(hostvibs_reads_every_component_list),
        cmocka_unit_test(hostvibs_reads_every_vib_get),
        cmocka_unit_test(hostvibs_reads_the_widths_of_each_release),
        cmocka_unit_test(upgrade_dell_before_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
