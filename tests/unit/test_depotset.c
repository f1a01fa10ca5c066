/* test_depotset.c: depots spooled together into one work folder (lib/depotset.c): the VIBs a
 * resolution names found in their spools, their payloads given to the image writer as ranges
 * of the depot file (a stored .vib) or of the spooled copy (a deflated one), never as bytes in
 * memory, and the spooled files gone after the free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esximg/depotset.h"
#include "esximg/io.h"
#include "testutil.h"

struct fixture {
    char *top;
    char *work;         /* the work folder */
    char *stored;       /* a bundle whose .vib member is stored */
    char *deflated;     /* a bundle whose .vib member is deflated */
};

static const char alpha_text[] = "alpha's payload, read where it lies in the bundle";
static const char beta_text[] = "beta's payload, inflated into the work folder first";

static void write_bundle(const char *path, const char *name, const char *text, bool store)
{
    size_t vib_len = 0, zip_len = 0;
    uint8_t *vib = tu_tiny_vib(name, "1.0-1", "Test", text, &vib_len);
    char member[64];
    snprintf(member, sizeof member, "vib20/%s/Test_bootbank_%s_1.0-1.vib", name, name);
    const struct tu_zip_member m = {member, vib, vib_len};
    uint8_t *zip = tu_zip(&m, 1, store, &zip_len);
    assert_int_equal(esximg_file_write(path, zip, zip_len, 0644, NULL), 0);
    free(zip);
    free(vib);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->top = tu_mkdtemp();
    fx->work = tu_path_join(fx->top, "work");
    fx->stored = tu_path_join(fx->top, "stored.zip");
    fx->deflated = tu_path_join(fx->top, "deflated.zip");
    tu_run("mkdir '%s'", fx->work);
    write_bundle(fx->stored, "alpha", alpha_text, true);
    write_bundle(fx->deflated, "beta", beta_text, false);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    tu_rmtree(fx->top);
    free(fx->top);
    free(fx->work);
    free(fx->stored);
    free(fx->deflated);
    free(fx);
    return 0;
}

static struct esximg_depot_set *open_both(const struct fixture *fx)
{
    struct esximg_depot_set *s = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_set_new(fx->work, &s, &err) || esximg_depot_set_add(s, fx->stored, &err) ||
        esximg_depot_set_add(s, fx->deflated, &err))
        fail_msg("depot set: %s: %s", err.file, err.msg);
    assert_int_equal(s->count, 2);
    for (size_t i = 0; i < 2; i++)
        assert_ptr_equal(s->models[i], s->spools[i]->depot);
    return s;
}

/* The bytes [offset, offset + size) of the file at path. */
static char *read_range(const struct esximg_content *c)
{
    char *buf = calloc(1, (size_t)c->size + 1);
    assert_non_null(buf);
    FILE *f = fopen(c->path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)c->offset, SEEK_SET), 0);
    assert_int_equal(fread(buf, 1, (size_t)c->size, f), (size_t)c->size);
    fclose(f);
    return buf;
}

/* One VIB of each bundle, picked in the resolution's order; each payload is a RANGE of a file:
 * the bundle itself for the stored .vib, a file of the work folder for the deflated one. */
static void depotset_gives_payloads_as_ranges_of_files(void **state)
{
    struct fixture *fx = *state;
    struct esximg_depot_set *s = open_both(fx);
    const struct esximg_depot_vib *chosen[] = {&s->models[1]->vibs[0], &s->models[0]->vibs[0]};
    const struct esximg_depot_resolution res = {.vib_count = 2, .vibs = chosen};
    const struct esximg_spool_vib **picked = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_set_pick(s, &res, &picked, &err), 0);
    assert_ptr_equal(picked[0], &s->spools[1]->vibs[0]);
    assert_ptr_equal(picked[1], &s->spools[0]->vibs[0]);
    assert_true(picked[1]->in_place);
    assert_false(picked[0]->in_place);
    const char *const texts[] = {beta_text, alpha_text};
    const char *const names[] = {"<name>beta</name>", "<name>alpha</name>"};
    for (size_t i = 0; i < 2; i++) {
        struct esximg_content contents[1];
        struct esximg_imgbuild_vib v;
        assert_int_equal(esximg_depot_set_imgbuild_vib(picked[i], contents, &v, &err), 0);
        assert_int_equal(v.payload_count, 1);
        assert_ptr_equal(v.payloads, contents);
        assert_string_equal(v.source, picked[i]->member);
        assert_non_null(strstr((const char *)v.descriptor, names[i]));
        assert_int_equal(contents[0].kind, ESXIMG_CONTENT_RANGE);
        assert_null(contents[0].data);
        assert_int_equal(contents[0].size, strlen(texts[i]));
        char *bytes = read_range(&contents[0]);
        assert_string_equal(bytes, texts[i]);
        free(bytes);
    }
    struct esximg_content c[1];
    struct esximg_imgbuild_vib v;
    assert_int_equal(esximg_depot_set_imgbuild_vib(picked[1], c, &v, &err), 0);
    assert_string_equal(c[0].path, fx->stored);         /* read in place */
    assert_int_equal(esximg_depot_set_imgbuild_vib(picked[0], c, &v, &err), 0);
    assert_int_equal(strncmp(c[0].path, fx->work, strlen(fx->work)), 0);
    assert_int_equal(c[0].path[strlen(fx->work)], '/');
    free(picked);
    esximg_depot_set_free(s);
}

/* A resolution made from other depots: refused, naming the VIB. */
static void depotset_pick_refuses_a_vib_of_no_depot(void **state)
{
    struct fixture *fx = *state;
    struct esximg_depot_set *s = open_both(fx);
    const struct esximg_depot_vib stranger = {.vib_id = "Other_bootbank_gamma_1.0-1"};
    const struct esximg_depot_vib *chosen[] = {&s->models[0]->vibs[0], &stranger};
    const struct esximg_depot_resolution res = {.vib_count = 2, .vibs = chosen};
    const struct esximg_spool_vib **picked = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_set_pick(s, &res, &picked, &err), ESXIMG_EINVAL);
    assert_null(picked);
    assert_string_equal(err.msg, "VIB 'Other_bootbank_gamma_1.0-1' of the selection is in no "
                                 "depot");
    esximg_depot_set_free(s);
}

/* The free removes what was spooled, never the bundles or the folder; a bundle that does not
 * read is named and leaves the set as it was. */
static void depotset_free_removes_only_the_spooled_files(void **state)
{
    struct fixture *fx = *state;
    struct esximg_depot_set *s = open_both(fx);
    assert_int_equal(tu_count_files(fx->work), 1);         /* beta's .vib */
    char *missing = tu_path_join(fx->top, "nothere.zip");
    struct esximg_err err = {0};
    assert_int_not_equal(esximg_depot_set_add(s, missing, &err), 0);
    assert_string_equal(err.file, missing);
    assert_int_equal(s->count, 2);
    esximg_depot_set_free(s);
    esximg_depot_set_free(NULL);
    assert_int_equal(tu_count_files(fx->work), 0);
    assert_int_equal(access(fx->work, F_OK), 0);
    assert_int_equal(access(fx->stored, F_OK), 0);
    assert_int_equal(access(fx->deflated, F_OK), 0);
    free(missing);
}

/* A resolution's components, with room for the caller's, and its reserved ones, as the
 * image writer takes them: the depot's bulletin bytes; a release unit likewise. */
static void depotset_components_and_releases_for_the_writer(void **state)
{
    (void)state;
    struct esximg_depot_component a = { .xml = (char *)"<bulletin>a</bulletin>", .xml_len = 22 };
    struct esximg_depot_component b = { .xml = (char *)"<bulletin>b</bulletin>", .xml_len = 22 };
    struct esximg_depot_chosen chosen[] = { { &a, "base image" } };
    const struct esximg_depot_component *reserved[] = { &b };
    struct esximg_depot_resolution res = { .component_count = 1, .components = chosen,
                                           .reserved_count = 1, .reserved = reserved };
    struct esximg_imgbuild_component *comps = NULL, *kept = NULL;
    assert_int_equal(esximg_depot_set_imgbuild_components(&res, 2, &comps, &kept, NULL), 0);
    assert_ptr_equal(comps[0].xml, a.xml);
    assert_int_equal(comps[0].len, 22);
    assert_null(comps[1].xml);      /* the caller's room, zeroed */
    assert_null(comps[2].xml);
    assert_ptr_equal(kept[0].xml, b.xml);
    free(comps);
    free(kept);
    assert_int_equal(esximg_depot_set_imgbuild_components(&res, 0, &comps, NULL, NULL), 0);
    assert_ptr_equal(comps[0].xml, a.xml);
    free(comps);

    struct esximg_depot_release base = { .release_id = (char *)"B_1", .json = (char *)"{}",
                                         .json_len = 2 };
    struct esximg_imgbuild_release out;
    assert_null(esximg_depot_set_imgbuild_release(NULL, &out));
    assert_ptr_equal(esximg_depot_set_imgbuild_release(&base, &out), &out);
    assert_string_equal(out.release_id, "B_1");
    assert_ptr_equal(out.json, base.json);
    assert_int_equal(out.len, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(depotset_gives_payloads_as_ranges_of_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(depotset_pick_refuses_a_vib_of_no_depot, setup,
                                        teardown),
        cmocka_unit_test(depotset_components_and_releases_for_the_writer),
        cmocka_unit_test_setup_teardown(depotset_free_removes_only_the_spooled_files, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
