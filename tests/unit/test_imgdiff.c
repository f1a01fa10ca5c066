/* test_imgdiff.c: esximg_diff_files (lib/imgdiff.c) between images that tests/gen/mkesxiso.py
 * builds at test time: 6.7, 7.0 and 8.0, a 7.0 with another title and one with the vmklinux
 * drivers added.  What differs between them is what the generator's options change, so each
 * diff is known without reading the images.  Without the generator's tools every test skips.
 * (esximg_diff_sniff is tested in test_imgexport.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/image.h"
#include "esximg/imgdiff.h"
#include "testutil.h"

#define OTHER_TITLE "esximg diff test"

struct fixture {
    char *dir;
    char *esx67, *esx70, *esx80;
    char *titled;       /* 7.0 with OTHER_TITLE */
    char *vmklinux;     /* 7.0 with net-e1000 and net-e1000e added */
};

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

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
    fx->esx67 = path_in(fx->dir, "67.iso");
    fx->esx70 = path_in(fx->dir, "70.iso");
    fx->esx80 = path_in(fx->dir, "80.iso");
    fx->titled = path_in(fx->dir, "titled.iso");
    fx->vmklinux = path_in(fx->dir, "vmklinux.iso");
    *state = fx;
    bool ok = tu_make_esx_iso("6.7", "", fx->esx67) && tu_make_esx_iso("7.0", "", fx->esx70) &&
              tu_make_esx_iso("8.0", "", fx->esx80) &&
              tu_make_esx_iso("7.0", "--title '" OTHER_TITLE "'", fx->titled) &&
              tu_make_esx_iso("7.0", "--vmklinux", fx->vmklinux);
    if (!ok)        /* isolinux or mtools missing: skip */
        teardown(state);
    return 0;
}

static struct fixture *need(void **state)
{
    if (!*state)
        skip();
    return *state;
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

/* ---------------------------------------------------------------- tests */

static void imgdiff_image_with_itself_is_empty(void **state)
{
    struct fixture *fx = need(state);
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
    struct fixture *fx = need(state);
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
    struct fixture *fx = need(state);
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
    struct fixture *fx = need(state);
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
    struct fixture *fx = need(state);
    struct esximg_diff *d = diff(fx->esx70, fx->esx80);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_KERNELOPT_ADDED), 0);
    assert_int_equal(count_kind(d, ESXIMG_DIFF_KERNELOPT_REMOVED), 0);
    assert_int_equal(item(d, ESXIMG_DIFF_VIB_VERSION, "esx-base")->order, 1);
    esximg_diff_free(d);
}

/* a failure names the file that failed, the second as well as the first */
static void imgdiff_names_the_file_that_fails(void **state)
{
    struct fixture *fx = need(state);
    char *absent = path_in(fx->dir, "absent.iso");
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
