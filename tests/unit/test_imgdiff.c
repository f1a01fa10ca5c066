/* test_imgdiff.c: esximg_diff_files (lib/imgdiff.c) between images that tests/gen/mkesxiso.py
 * builds at test time: 6.7, 7.0 and 8.0, a 7.0 with another title and one with the vmklinux
 * drivers added.  What differs between them is what the generator's options change, so each
 * diff is known without reading the images.  Without the generator's tools those tests skip.
 * Offline bundles are built here, by esximg_vibauthor_build and esximg_depot_write.
 * (esximg_diff_sniff is tested in test_imgexport.c.) */
#include <stdlib.h>
#include <string.h>

#include "esximg/depot.h"
#include "esximg/image.h"
#include "esximg/imgdiff.h"
#include "esximg/io.h"
#include "esximg/vib.h"
#include "esximg/vibauthor.h"
#include "testutil.h"

#define OTHER_TITLE "esximg diff test"

struct fixture {
    char *dir;
    char *esx67, *esx70, *esx80;
    char *titled;       /* 7.0 with OTHER_TITLE */
    char *vmklinux;     /* 7.0 with net-e1000 and net-e1000e added */
};

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (!fx)
        return 0;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->esx67);
    free(fx->esx70);
    free(fx->esx80);
    free(fx->titled);
    free(fx->vmklinux);
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
    fx->esx67 = tu_path_join(fx->dir, "67.iso");
    fx->esx70 = tu_path_join(fx->dir, "70.iso");
    fx->esx80 = tu_path_join(fx->dir, "80.iso");
    fx->titled = tu_path_join(fx->dir, "titled.iso");
    fx->vmklinux = tu_path_join(fx->dir, "vmklinux.iso");
    *state = fx;
    bool ok = tu_make_esx_iso("6.7", "", fx->esx67) && tu_make_esx_iso("7.0", "", fx->esx70) &&
              tu_make_esx_iso("8.0", "", fx->esx80) &&
              tu_make_esx_iso("7.0", "--title '" OTHER_TITLE "'", fx->titled) &&
              tu_make_esx_iso("7.0", "--vmklinux", fx->vmklinux);
    if (!ok)        /* isolinux or mtools missing: skip */
        teardown(state);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static struct esximg_diff *diff(const char *a, const char *b)
{
    struct esximg_diff *d = NULL;
    struct esximg_err err = {0};
    if (esximg_diff_files(a, b, &d, &err) != 0)
        fail_msg("diff %s %s: %s: %s", a, b, err.file, err.msg);
    assert_non_null(d);
    return d;
}

static size_t count_kind(const struct esximg_diff *d, enum esximg_diff_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        n += d->items[i].kind == kind;
    return n;
}

/* The item of that kind and name (NULL: the one of that kind), which must be there. */
static const struct esximg_diff_item *item(const struct esximg_diff *d,
                                           enum esximg_diff_kind kind, const char *name)
{
    for (size_t i = 0; i < d->count; i++) {
        const struct esximg_diff_item *it = &d->items[i];
        if (it->kind == kind && (!name || (it->name && strcmp(it->name, name) == 0)))
            return it;
    }
    fail_msg("no %s item '%s' among %zu", esximg_diff_kind_name(kind), name ? name : "",
             d->count);
    return NULL;
}

static bool is_vib_kind(enum esximg_diff_kind k)
{
    return k == ESXIMG_DIFF_VIB_ADDED || k == ESXIMG_DIFF_VIB_REMOVED ||
           k == ESXIMG_DIFF_VIB_VERSION || k == ESXIMG_DIFF_VIB_ACCEPTANCE ||
           k == ESXIMG_DIFF_VIB_VENDOR;
}

/* the documented order: VIBs by name first, then the image's own items */
static void assert_vibs_first_by_name(const struct esximg_diff *d)
{
    const char *last = NULL;
    bool past_vibs = false;
    for (size_t i = 0; i < d->count; i++) {
        const struct esximg_diff_item *it = &d->items[i];
        if (!is_vib_kind(it->kind)) {
            past_vibs = true;
            continue;
        }
        assert_false(past_vibs);
        assert_non_null(it->name);
        if (last)
            assert_true(strcmp(last, it->name) <= 0);
        last = it->name;
    }
}

/* ---------------------------------------------------------------- bundles */

/* What a bundle's VIB looks like. */
struct vib_spec {
    const char *name, *version, *vendor, *acceptance;
};

/* A VIB with one small payload; *out malloc'd. */
static void build_vib(const struct vib_spec *s, uint8_t **out, size_t *out_len)
{
    struct esximg_err err = {0};
    struct esximg_descriptor *d = NULL;
    const struct esximg_vibauthor_fields f = {
        .name = s->name, .version = s->version, .vendor = s->vendor,
        .acceptance = s->acceptance, .summary = "test driver",
        .release_date = "2021-01-02T03:04:05.000000+00:00",
    };
    const struct esximg_vibauthor_entry file = {
        .path = "usr/lib/vmware/vmkmod/testdrv", .kind = ESXIMG_VIBAUTHOR_FILE,
        .data = s->name, .len = strlen(s->name)};
    const struct esximg_vibauthor_payload p = {.name = "testdrv", .type = "vgz",
                                               .entries = &file, .entry_count = 1};
    const struct esximg_vibauthor_opts o = {.mtime = TU_GEN_EPOCH};
    if (esximg_vibauthor_descriptor_new(&d, &err) || esximg_vibauthor_apply(d, &f, &err) ||
        esximg_vibauthor_build(d, &p, 1, &o, out, out_len, &err))
        fail_msg("building '%s': %s", s->name, err.msg);
    esximg_descriptor_free(d);
}

/* An offline bundle of those VIBs at dir/file; returns its path (malloc'd). */
static char *bundle(const char *dir, const char *file, const struct vib_spec *specs, size_t n)
{
    struct esximg_depot_input in[4] = {{0}};
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t *data = NULL;
        build_vib(&specs[i], &data, &in[i].len);
        in[i].data = data;
    }
    const struct esximg_depot_wopts o = {.mtime = TU_GEN_EPOCH};
    struct esximg_err err = {0};
    uint8_t *zip = NULL;
    size_t zip_len = 0;
    if (esximg_depot_write(in, n, &o, &zip, &zip_len, &err))
        fail_msg("writing the bundle %s: %s", file, err.msg);
    char *path = tu_path_join(dir, file);
    if (esximg_file_write(path, zip, zip_len, 0644, &err))
        fail_msg("writing %s: %s", path, err.msg);
    free(zip);
    for (size_t i = 0; i < n; i++)
        free((void *)in[i].data);
    return path;
}

static const struct vib_spec OLD_BUNDLE[] = {
    {"net-r8168", "8.045a-1", "custom", "community"},
    {"net-tg3", "3.137l.v60.1-1", "custom", "community"},
};
/* net-r8168 twice (the higher version stands for the name), net-tg3 from another vendor at
 * another acceptance level */
static const struct vib_spec NEW_BUNDLE[] = {
    {"net-r8168", "8.045a-10", "custom", "community"},
    {"net-r8168", "8.045a-1", "custom", "community"},
    {"net-tg3", "3.137l.v60.1-1", "other", "partner"},
};

static void imgdiff_bundles_highest_version_stands(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *a = bundle(dir, "old.zip", OLD_BUNDLE, 2);
    char *b = bundle(dir, "new.zip", NEW_BUNDLE, 3);
    struct esximg_diff *d = diff(a, b);
    assert_int_equal(d->a_source, ESXIMG_DIFF_BUNDLE);
    assert_int_equal(d->b_source, ESXIMG_DIFF_BUNDLE);
    assert_int_equal(d->a_vib_count, 2);
    assert_int_equal(d->b_vib_count, 2);
    assert_int_equal(d->count, 3);
    const struct esximg_diff_item *v = item(d, ESXIMG_DIFF_VIB_VERSION, "net-r8168");
    assert_string_equal(v->old_value, "8.045a-1");
    assert_string_equal(v->new_value, "8.045a-10");
    assert_int_equal(v->order, 1);
    assert_string_equal(v->vib_id_new, "custom_bootbank_net-r8168_8.045a-10");
    const struct esximg_diff_item *acc = item(d, ESXIMG_DIFF_VIB_ACCEPTANCE, "net-tg3");
    assert_string_equal(acc->old_value, "community");
    assert_string_equal(acc->new_value, "partner");
    const struct esximg_diff_item *ven = item(d, ESXIMG_DIFF_VIB_VENDOR, "net-tg3");
    assert_string_equal(ven->old_value, "custom");
    assert_string_equal(ven->new_value, "other");
    assert_string_equal(ven->vib_id_old, "custom_bootbank_net-tg3_3.137l.v60.1-1");
    assert_string_equal(ven->vib_id_new, "other_bootbank_net-tg3_3.137l.v60.1-1");
    assert_vibs_first_by_name(d);
    esximg_diff_free(d);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}

/* an image against a bundle: VIBs only, no title, kernel options or modules */
static void imgdiff_image_against_bundle_compares_vibs_only(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *b = bundle(fx->dir, "old.zip", OLD_BUNDLE, 2);
    struct esximg_diff *d = diff(fx->titled, b);
    assert_int_equal(d->a_source, ESXIMG_DIFF_IMAGE);
    assert_int_equal(d->b_source, ESXIMG_DIFF_BUNDLE);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_ADDED), 2);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_REMOVED), d->a_vib_count);
    assert_int_equal(d->count, d->a_vib_count + 2);
    esximg_diff_free(d);
    free(b);
}

/* ---------------------------------------------------------------- tests */

static void imgdiff_image_with_itself_is_empty(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_image *img = NULL;
    assert_int_equal(esximg_image_open(fx->esx70, NULL, &img, NULL), 0);
    struct esximg_diff *d = diff(fx->esx70, fx->esx70);
    assert_int_equal(d->count, 0);
    assert_int_equal(d->a_source, ESXIMG_DIFF_IMAGE);
    assert_int_equal(d->b_source, ESXIMG_DIFF_IMAGE);
    assert_int_equal(d->a_vib_count, img->vib_count);
    assert_int_equal(d->b_vib_count, img->vib_count);
    assert_true(img->vib_count >= 5);
    esximg_diff_free(d);
    esximg_image_free(img);
}

/* only the BOOT.CFG title differs: one item, both titles */
static void imgdiff_title_only(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_diff *d = diff(fx->esx70, fx->titled);
    assert_int_equal(d->count, 1);
    const struct esximg_diff_item *t = item(d, ESXIMG_DIFF_TITLE, NULL);
    assert_null(t->name);
    assert_string_equal(t->old_value, "Loading ESXi installer");
    assert_string_equal(t->new_value, OTHER_TITLE);
    esximg_diff_free(d);
}

/* two VIBs added, each with its version and id, and their modules in BOOT.CFG; the other
 * way round, removed */
static void imgdiff_added_and_removed_vibs(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_diff *d = diff(fx->esx70, fx->vmklinux);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_ADDED), 2);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_REMOVED), 0);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_VERSION), 0);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_MODULE_REMOVED), 0);
    assert_true(count_kind(d, ESXIMG_DIFF_MODULE_ADDED) >= 1);
    assert_int_equal(d->b_vib_count, d->a_vib_count + 2);
    const char *names[] = {"net-e1000", "net-e1000e"};
    for (size_t i = 0; i < 2; i++) {
        const struct esximg_diff_item *it = item(d, ESXIMG_DIFF_VIB_ADDED, names[i]);
        assert_null(it->old_value);
        assert_non_null(it->new_value);
        assert_null(it->vib_id_old);
        assert_non_null(it->vib_id_new);
        assert_non_null(strstr(it->vib_id_new, names[i]));
    }
    assert_vibs_first_by_name(d);
    esximg_diff_free(d);

    d = diff(fx->vmklinux, fx->esx70);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_REMOVED), 2);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_VIB_ADDED), 0);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_MODULE_ADDED), 0);
    assert_true(count_kind(d, ESXIMG_DIFF_MODULE_REMOVED) >= 1);
    const struct esximg_diff_item *it = item(d, ESXIMG_DIFF_VIB_REMOVED, "net-e1000e");
    assert_non_null(it->old_value);
    assert_null(it->new_value);
    assert_non_null(it->vib_id_old);
    assert_null(it->vib_id_new);
    esximg_diff_free(d);
}

/* 6.7 -> 7.0: esx-base upgraded, the vmklinux drivers gone, cdromBoot added to kernelopt;
 * 7.0 -> 6.7: the same as a downgrade */
static void imgdiff_versions_in_both_directions(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_diff *d = diff(fx->esx67, fx->esx70);
    const struct esximg_diff_item *base = item(d, ESXIMG_DIFF_VIB_VERSION, "esx-base");
    assert_int_equal(base->order, 1);
    assert_non_null(strstr(base->old_value, "6.7.0"));
    assert_non_null(strstr(base->new_value, "7.0."));
    assert_non_null(base->vib_id_old);
    assert_non_null(base->vib_id_new);
    item(d, ESXIMG_DIFF_VIB_REMOVED, "net-e1000");
    assert_string_equal(item(d, ESXIMG_DIFF_KERNELOPT_ADDED, NULL)->name, "cdromBoot");
    assert_int_equal(count_kind(d, ESXIMG_DIFF_KERNELOPT_ADDED), 1);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_KERNELOPT_REMOVED), 0);
    assert_vibs_first_by_name(d);
    esximg_diff_free(d);

    d = diff(fx->esx70, fx->esx67);
    assert_int_equal(item(d, ESXIMG_DIFF_VIB_VERSION, "esx-base")->order, -1);
    item(d, ESXIMG_DIFF_VIB_ADDED, "net-e1000");
    assert_string_equal(item(d, ESXIMG_DIFF_KERNELOPT_REMOVED, NULL)->name, "cdromBoot");
    esximg_diff_free(d);
}

/* 7.0's "cdromBoot runweasel" and 8.0's "runweasel cdromBoot" are the same options */
static void imgdiff_kernelopt_order_does_not_count(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_diff *d = diff(fx->esx70, fx->esx80);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_KERNELOPT_ADDED), 0);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_KERNELOPT_REMOVED), 0);
    assert_int_equal(item(d, ESXIMG_DIFF_VIB_VERSION, "esx-base")->order, 1);
    esximg_diff_free(d);
}

/* a failure names the file that failed, the second as well as the first */
static void imgdiff_names_the_file_that_fails(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *absent = tu_path_join(fx->dir, "absent.iso");
    struct esximg_diff *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_diff_files(fx->esx70, absent, &d, &err), ESXIMG_EIO);
    assert_null(d);
    assert_string_equal(err.file, absent);
    free(absent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imgdiff_image_with_itself_is_empty),
        cmocka_unit_test(imgdiff_title_only),
        cmocka_unit_test(imgdiff_added_and_removed_vibs),
        cmocka_unit_test(imgdiff_versions_in_both_directions),
        cmocka_unit_test(imgdiff_kernelopt_order_does_not_count),
        cmocka_unit_test(imgdiff_names_the_file_that_fails),
        cmocka_unit_test(imgdiff_bundles_highest_version_stands),
        cmocka_unit_test(imgdiff_image_against_bundle_compares_vibs_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
