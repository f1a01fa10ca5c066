/* test_imgrebase.c: the rules that move an image to a newer depot: which VIBs are replaced,
 * kept, added or refused as downgrades, and the relationship check of the result, worded as
 * `esximg edit` words it, and that the depots' payloads are read from the depot file only while
 * the image is written.  The whole path (depots, ISO) is tests/e2e/t5300-edit-base.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/image.h"
#include "esximg/imgrebase.h"
#include "testutil.h"

static struct esximg_descriptor *vib(const char *name, const char *version, const char *rels)
{
    char xml[4096];
    int n = snprintf(xml, sizeof xml, "<vib version=\"5.0\"><type>bootbank</type><name>%s</name>"
                     "<version>%s</version><vendor>V</vendor><relationships>%s</relationships>"
                     "</vib>", name, version, rels);
    assert_true(n > 0 && (size_t)n < sizeof xml);
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = {0};
    if (esximg_descriptor_read(xml, (size_t)n, &d, &err) != 0)
        fail_msg("test descriptor: %s", err.msg);
    return d;
}

static void free_all(struct esximg_descriptor **d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        esximg_descriptor_free(d[i]);
}

/* The image: esx-base, a VMware driver, tools and a user's driver; the depot: a newer
 * esx-base and driver, the same tools, and a VIB new in the patch. */
static void rebase_select_update_same_keep_add(void **state)
{
    (void)state;
    struct esximg_descriptor *image[] = {
        vib("esx-base", "7.0.2-0.0.17630552", ""),
        vib("ne1000", "0.8.3-4vmw.702.0.0.17630552", ""),
        vib("tools-light", "11.0.0.7548558-8169922", ""),
        vib("net-r8168", "8.045a-1", ""),
    };
    struct esximg_descriptor *depot[] = {
        vib("tools-light", "11.0.0.7548558-8169922", ""),
        vib("esx-base", "7.0.2-0.5.17631552", ""),
        vib("crx", "7.0.2-0.5.17631552", ""),
        vib("ne1000", "0.8.3-4vmw.702.0.5.17631552", ""),
    };
    struct esximg_rebase_choice *c = NULL;
    size_t n = 0;
    struct esximg_warnings problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_rebase_select((const struct esximg_descriptor *const *)image, 4,
                                          (const struct esximg_descriptor *const *)depot, 4,
                                          false, &c, &n, &problems, &err), 0);
    assert_int_equal(problems.count, 0);
    assert_int_equal(n, 5);
    const struct esximg_rebase_choice want[] = {
        {ESXIMG_REBASE_UPDATE, 0, 1},
        {ESXIMG_REBASE_UPDATE, 1, 3},
        {ESXIMG_REBASE_SAME, 2, 0},
        {ESXIMG_REBASE_KEEP, 3, SIZE_MAX},
        {ESXIMG_REBASE_ADD, SIZE_MAX, 2},
    };
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c[i].action, want[i].action);
        assert_int_equal(c[i].image, want[i].image);
        assert_int_equal(c[i].depot, want[i].depot);
    }
    free(c);
    free_all(image, 4);
    free_all(depot, 4);
}

/* An older depot VIB is a problem naming it, unless downgrades are allowed; the choice is
 * there either way so that a dry run shows it. */
static void rebase_select_downgrade(void **state)
{
    (void)state;
    struct esximg_descriptor *image[] = {vib("esx-base", "7.0.2-0.5.17631552", ""),
                                         vib("nvme", "1.2.1.34-1vmw.702.0.5.17631552", "")};
    struct esximg_descriptor *depot[] = {vib("esx-base", "7.0.2-0.0.17630552", ""),
                                         vib("nvme", "1.2.1.34-1vmw.702.0.5.17631552", "")};
    for (int allow = 0; allow < 2; allow++) {
        struct esximg_rebase_choice *c = NULL;
        size_t n = 0;
        struct esximg_warnings problems = {0};
        struct esximg_err err = {0};
        assert_int_equal(esximg_rebase_select((const struct esximg_descriptor *const *)image, 2,
                                              (const struct esximg_descriptor *const *)depot, 2,
                                              allow, &c, &n, &problems, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(c[0].action, ESXIMG_REBASE_DOWNGRADE);
        assert_int_equal(c[1].action, ESXIMG_REBASE_SAME);
        assert_int_equal(problems.count, allow ? 0 : 1);
        if (!allow)
            assert_string_equal(problems.items[0].msg,
                                "'esx-base': the image has 7.0.2-0.5.17631552, the depot "
                                "7.0.2-0.0.17630552: taking it is a downgrade "
                                "(--allow-downgrade takes it)");
        esx_warnings_free(&problems);
        free(c);
    }
    free_all(image, 2);
    free_all(depot, 2);
}

/* Versions compare as esximage compares them, not as text: 10vmw is newer than 4vmw. */
static void rebase_select_versions_not_text(void **state)
{
    (void)state;
    struct esximg_descriptor *image[] = {vib("ne1000", "0.8.3-4vmw.702.0.0.17630552", "")};
    struct esximg_descriptor *depot[] = {vib("ne1000", "0.8.3-10vmw.702.0.0.17630552", "")};
    struct esximg_rebase_choice *c = NULL;
    size_t n = 0;
    struct esximg_warnings problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_rebase_select((const struct esximg_descriptor *const *)image, 1,
                                          (const struct esximg_descriptor *const *)depot, 1,
                                          false, &c, &n, &problems, &err), 0);
    assert_int_equal(c[0].action, ESXIMG_REBASE_UPDATE);
    assert_int_equal(problems.count, 0);
    free(c);
    free_all(image, 1);
    free_all(depot, 1);
}

/* A kept Fling pinned to the old esx-base: a new problem in edit's words; a failure the input
 * had already is only a warning. */
static void rebase_relations_new_and_old_failures(void **state)
{
    (void)state;
    const char *pinned = "<depends><constraint name=\"esx-base\" relation=\"&lt;&lt;\" "
                         "version=\"7.0.2-0.1\"/></depends>";
    const char *missing = "<depends><constraint name=\"esximg-nosuch\"/></depends>";
    struct esximg_descriptor *before[] = {vib("esx-base", "7.0.2-0.0.17630552", ""),
                                          vib("vmkusb-nic-fling", "1.0-1", pinned),
                                          vib("needy", "1.0-1", missing)};
    struct esximg_descriptor *after_base = vib("esx-base", "7.0.2-0.5.17631552", "");
    const struct esximg_descriptor *after[] = {after_base, before[1], before[2]};
    struct esximg_warnings warnings = {0}, problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_rebase_check_relations(
                         (const struct esximg_descriptor *const *)before, 3, after, 3,
                         &warnings, &problems, &err), 0);
    assert_int_equal(problems.count, 1);
    assert_non_null(strstr(problems.items[0].msg, "'vmkusb-nic-fling 1.0-1' depends on "
                                                  "'esx-base << 7.0.2-0.1'"));
    assert_non_null(strstr(problems.items[0].msg, "(--no-deps skips this check)"));
    assert_int_equal(warnings.count, 1);
    assert_non_null(strstr(warnings.items[0].msg, "'needy 1.0-1' depends on 'esximg-nosuch'"));
    assert_non_null(strstr(warnings.items[0].msg, "(already so in the input image)"));
    esx_warnings_free(&warnings);
    esx_warnings_free(&problems);
    /* the same set before and after: nothing new */
    assert_int_equal(esximg_rebase_check_relations(
                         (const struct esximg_descriptor *const *)before, 2,
                         (const struct esximg_descriptor *const *)before, 2, &warnings,
                         &problems, &err), 0);
    assert_int_equal(problems.count + warnings.count, 0);
    esximg_descriptor_free(after_base);
    free_all(before, 3);
}

/* A driver built for another update: edit's hint is given too. */
static void rebase_relations_incompat_hint(void **state)
{
    (void)state;
    const char *incompat = "<depends><constraint name=\"vmkapi_incompat_2_6_0_0\"/></depends>";
    struct esximg_descriptor *base_old = vib("esx-base", "7.0.0-1", "<provides><provide "
                                             "name=\"vmkapi_incompat_2_6_0_0\"/></provides>");
    struct esximg_descriptor *base_new = vib("esx-base", "7.0.2-1", "<provides><provide "
                                             "name=\"vmkapi_incompat_2_8_0_0\"/></provides>");
    struct esximg_descriptor *drv = vib("oldapi", "1.0-1", incompat);
    const struct esximg_descriptor *before[] = {base_old, drv}, *after[] = {base_new, drv};
    struct esximg_warnings warnings = {0}, problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_rebase_check_relations(before, 2, after, 2, &warnings, &problems,
                                                   &err), 0);
    assert_int_equal(problems.count, 1);
    assert_non_null(strstr(problems.items[0].msg, ": the VIB is built for another ESXi update "
                                                  "(--no-deps skips this check)"));
    esx_warnings_free(&problems);
    esximg_descriptor_free(base_old);
    esximg_descriptor_free(base_new);
    esximg_descriptor_free(drv);
}

/* The generator's patch depot with a 1 MiB pad VIB, which its zip stores (deflate cannot
 * shrink it): the plan keeps no copy of the pad's bytes, they are read from the depot file
 * when the image is written.  A byte of the pad changed in the depot between the plan and a
 * second write makes that write fail on the payload's sha-256; nothing is left of it, and
 * the work folder is empty once the plan is freed. */
static void rebase_reads_stored_payloads_from_the_depot_file(void **state)
{
    (void)state;
    if (!tu_have_image_tools())
        skip();
    char *dir = tu_mkdtemp();
    char *in = tu_path_join(dir, "in.iso"), *patched = tu_path_join(dir, "patched.iso");
    char *depot = tu_path_join(dir, "p1.zip"), *work = tu_path_join(dir, "work");
    char *out = tu_path_join(dir, "out.iso"), *again = tu_path_join(dir, "again.iso");
    char args[4200];
    snprintf(args, sizeof args, "--patch 1 --pad-mib 1 --depot '%s'", depot);
    if (!tu_make_esx_iso("7.0", "", in) || !tu_make_esx_iso("7.0", args, patched)) {
        tu_rmtree(dir);
        skip();
    }
    assert_int_equal(mkdir(work, 0755), 0);
    struct esximg_image *img = NULL;
    struct esximg_rebase_plan *plan = NULL;
    struct esximg_err err = {0};
    const char *depots[] = {depot};
    const struct esximg_rebase_opts o = {.depots = depots, .depot_count = 1, .work_dir = work,
                                         .mtime = TU_GEN_EPOCH};
    if (esximg_image_open(in, NULL, &img, &err) || esximg_rebase_plan(img, &o, &plan, &err))
        fail_msg("rebase: %s: %s", err.file, err.msg);
    assert_int_equal(plan->problems.count, 0);
    assert_int_equal(plan->added, 1);                   /* esximg-pad */
    if (esximg_rebase_write(plan, out, NULL, NULL, &err))
        fail_msg("write: %s: %s", err.file, err.msg);
    /* a byte in the middle of the stored pad .vib: inside its payload */
    tu_run("python3 -c 'import sys, zipfile\n"
           "z = zipfile.ZipFile(sys.argv[1])\n"
           "m = [i for i in z.infolist() if \"esximg-pad\" in i.filename][0]\n"
           "assert m.compress_type == zipfile.ZIP_STORED\n"
           "f = open(sys.argv[1], \"r+b\")\n"
           "f.seek(m.header_offset + 26)\n"
           "n, e = int.from_bytes(f.read(2), \"little\"), int.from_bytes(f.read(2), \"little\")\n"
           "at = m.header_offset + 30 + n + e + m.file_size // 2\n"
           "f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0xff]))' '%s'", depot);
    assert_int_equal(esximg_rebase_write(plan, again, NULL, NULL, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "sha-256"));
    assert_int_equal(access(again, F_OK), -1);
    esximg_rebase_plan_free(plan);
    esximg_image_free(img);
    assert_int_equal(tu_count_files(work), 0);
    /* in.iso, patched.iso and their .log, p1.zip, work, out.iso: nothing of again.iso */
    assert_int_equal(tu_count_files(dir), 7);
    tu_rmtree(dir);
    free(dir);
    free(in);
    free(patched);
    free(depot);
    free(work);
    free(out);
    free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rebase_select_update_same_keep_add),
        cmocka_unit_test(rebase_select_downgrade),
        cmocka_unit_test(rebase_select_versions_not_text),
        cmocka_unit_test(rebase_relations_new_and_old_failures),
        cmocka_unit_test(rebase_relations_incompat_hint),
        cmocka_unit_test(rebase_reads_stored_payloads_from_the_depot_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
