/* test_vibrel.c: version order, constraint relations, provides, replaces and the check of a
 * set of VIBs (unmet depends, wrong versions, conflicts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/vibrel.h"
#include "testutil.h"

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* ---------------------------------------------------------------- version order */

/* Strictly increasing. */
static const char *const ascending[] = {
    "",
    "-",                            /* empty version, empty release: after no release */
    "!",                            /* a byte below '0' sorts before every number */
    "0",
    "0.8.3-4vmw.670.0.0.8169922",
    "0.8.3-10vmw.670.0.0.8169922",  /* 10vmw > 4vmw: leading digits by value */
    "0.8.4-1vmw.670.0.0.8169922",
    "1",
    "1.0",
    "1.0-1",
    "1.0-1.0",
    "1.0-1a",
    "1.0-2",
    "1.0-10",
    "1.0-napi",                     /* a letter after every digit */
    "1.0.",                         /* an empty third part: more parts */
    "1.0.1",
    "1.1",
    "1.1a",
    "1.2",
    "6.7.0",
    "6.7.0-0.0",
    "6.7.0-0.0.8169922",
    "6.7.0-0.1",
    "7.0.0",
    "8.9",
    "8.045a-1",
    "8.045a-napi",
    "8.045b",
    "8.046-1",
    "9",
    "10",
    "10.!",
    "10.0",
    "10.a",
    "99999999999999999999999",      /* longer than any machine integer */
    "100000000000000000000000",
    "a",
    "b.1",
};

static void vibrel_versions_sort_in_order(void **state)
{
    (void)state;
    size_t n = sizeof ascending / sizeof ascending[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = i < j ? -1 : i > j;
            int got = sign(esximg_version_cmp(ascending[i], ascending[j]));
            if (got != want)
                fail_msg("cmp('%s', '%s') = %d, want %d", ascending[i], ascending[j], got,
                         want);
        }
    }
}

static void vibrel_equal_versions(void **state)
{
    (void)state;
    assert_int_equal(esximg_version_cmp("", ""), 0);
    assert_int_equal(esximg_version_cmp(NULL, ""), 0);
    assert_int_equal(esximg_version_cmp(NULL, NULL), 0);
    assert_true(esximg_version_cmp(NULL, "0") < 0);
    assert_int_equal(esximg_version_cmp("0.8.3-4vmw.670.0.0.8169922",
                                        "0.8.3-4vmw.670.0.0.8169922"), 0);
    /* numbers by value: leading zeros do not count */
    assert_int_equal(esximg_version_cmp("8.045a-napi", "8.45a-napi"), 0);
    assert_int_equal(esximg_version_cmp("1.0-01", "1.0-1"), 0);
    assert_int_equal(esximg_version_cmp("007", "7"), 0);
    assert_int_equal(esximg_version_cmp("0", "000"), 0);
    /* only the first '-' splits: the release keeps the second one as text */
    assert_true(esximg_version_cmp("1-2-3", "1-2") > 0);
    assert_true(esximg_version_cmp("1-2-3", "1-2.0") > 0);   /* part "2-3" is after "2" */
}

static void vibrel_numbers_compare_as_numbers(void **state)
{
    (void)state;
    assert_true(esximg_version_cmp("10", "9") > 0);
    assert_true(esximg_version_cmp("9", "10") < 0);
    assert_true(esximg_version_cmp("1.10", "1.9") > 0);
    assert_true(esximg_version_cmp("1.3.1-18vmw.670.0.0.8169922",
                                   "1.3.1-2vmw.670.0.0.8169922") > 0);
    /* release parts are compared one by one too */
    assert_true(esximg_version_cmp("6.7.0-0.0.8169922", "6.7.0-0.0.10302608") < 0);
    assert_true(esximg_version_cmp("6.7.0-2.48.13006603", "6.7.0-1.28.10302608") > 0);
    /* the version decides before the release */
    assert_true(esximg_version_cmp("1.1-1", "1.0-99") > 0);
    /* text rests compare byte by byte */
    assert_true(esximg_version_cmp("2.2.4f.v60.10-2vmw", "2.2.4e.v60.10-2vmw") > 0);
    assert_true(esximg_version_cmp("3.131d.v60.4-2vmw", "3.131d.v60.4-2vmx") < 0);
}

/* ---------------------------------------------------------------- constraints */

struct relation_case {
    const char *relation, *want, *have;
    bool ok;
};

static const struct relation_case relation_cases[] = {
    {"<<", "2.0", "1.0", true},
    {"<<", "1.0", "1.0", false},
    {"<<", "1.0", "2.0", false},
    {"<=", "1.0", "1.0", true},
    {"<=", "1.0", "0.9", true},
    {"<=", "1.0", "1.0.1", false},
    {"=", "1.0-1", "1.0-1", true},
    {"=", "1.0-1", "1.0-2", false},
    {"=", "1.0-1", "1.0", false},
    {">=", "1.0", "1.0", true},
    {">=", "1.0", "0.9-99", false},
    {">>", "1.0", "1.0.0", true},
    {">>", "1.0", "1.0", false},
    /* a constraint without a release compares the version part only (6.7's esx-version) */
    {"<=", "6.7.0", "6.7.0-0.0.8169922", true},
    {"=", "6.7.0", "6.7.0-0.0.8169922", true},
    {">=", "6.7.0", "6.7.0-0.0.8169922", true},
    {"<<", "6.7.0", "6.7.0-0.0.8169922", false},
    {">>", "6.7.0", "6.7.0-0.0.8169922", false},
    {">=", "7.0.0", "6.7.0-0.0.8169922", false},
    {"<<", "7.0.0", "6.7.0-0.0.8169922", true},
    /* one with a release compares everything */
    {">=", "6.7.0-0.0", "6.7.0-0.0.8169922", true},
    {"<<", "6.7.0-0.1", "6.7.0-0.0.8169922", true},
    {"<<", "6.7.0-0.0", "6.7.0-0.0.8169922", false},
    {">=", "6.7.0-0.0", "6.7.0", false},
    /* unknown relations are never met */
    {"<", "2.0", "1.0", false},
    {"==", "1.0", "1.0", false},
    {"=>", "1.0", "1.0", false},
    {"", "1.0", "1.0", false},
    {"= ", "1.0", "1.0", false},
    {">=", NULL, "1.0", false},        /* a relation without a version */
    {">=", "1.0", NULL, false},        /* nothing to compare with */
    {NULL, NULL, NULL, true},          /* no relation: any version, even none */
    {NULL, "9.9", "1.0", true},
};

static void vibrel_constraint_relations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof relation_cases / sizeof relation_cases[0]; i++) {
        const struct relation_case *t = &relation_cases[i];
        struct esximg_constraint c = {
            .name = (char *)"x", .relation = (char *)t->relation, .version = (char *)t->want,
        };
        if (esximg_constraint_version_ok(&c, t->have) != t->ok)
            fail_msg("'%s %s' against '%s': want %s", t->relation ? t->relation : "(none)",
                     t->want ? t->want : "(none)", t->have ? t->have : "(none)",
                     t->ok ? "met" : "unmet");
    }
    assert_false(esximg_constraint_version_ok(NULL, "1.0"));
}

/* ---------------------------------------------------------------- descriptors */

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

static struct esximg_constraint con(const char *name, const char *relation, const char *version)
{
    return (struct esximg_constraint){(char *)name, (char *)relation, (char *)version};
}

static void vibrel_satisfies_by_name_and_provides(void **state)
{
    (void)state;
    struct esximg_descriptor *base = vib("esx-base", "6.7.0-0.0.8169922",
        "<provides><provide name=\"vmkapi_2_3_0_0\"/>"
        "<provide name=\"esx-version\" version=\"6.7.0-0.0.8169922\"/>"
        "<provide name=\"nicmgmt\" version=\"0.1\"/></provides>");
    struct esximg_constraint c;
    /* by its own name and version */
    c = con("esx-base", NULL, NULL);
    assert_true(esximg_vib_satisfies(base, &c));
    c = con("esx-base", ">=", "6.7.0-0.0");
    assert_true(esximg_vib_satisfies(base, &c));
    c = con("esx-base", "<<", "6.7.0-0.1");
    assert_true(esximg_vib_satisfies(base, &c));
    c = con("esx-base", ">=", "7.0.0");
    assert_false(esximg_vib_satisfies(base, &c));
    c = con("esx-bas", NULL, NULL);
    assert_false(esximg_vib_satisfies(base, &c));
    c = con("ESX-BASE", NULL, NULL);                  /* names are case-sensitive */
    assert_false(esximg_vib_satisfies(base, &c));
    /* by a provide without a version: only constraints without a relation */
    c = con("vmkapi_2_3_0_0", NULL, NULL);
    assert_true(esximg_vib_satisfies(base, &c));
    c = con("vmkapi_2_3_0_0", ">=", "1");
    assert_false(esximg_vib_satisfies(base, &c));
    c = con("vmkapi_2_6_0_0", NULL, NULL);
    assert_false(esximg_vib_satisfies(base, &c));
    /* by a provide with a version */
    c = con("esx-version", ">=", "6.0.0");
    assert_true(esximg_vib_satisfies(base, &c));
    c = con("esx-version", "=", "6.7.0");
    assert_true(esximg_vib_satisfies(base, &c));
    c = con("esx-version", ">=", "7.0.0");
    assert_false(esximg_vib_satisfies(base, &c));
    c = con("nicmgmt", "=", "0.3");
    assert_false(esximg_vib_satisfies(base, &c));
    c = con("nicmgmt", "=", "0.1");
    assert_true(esximg_vib_satisfies(base, &c));
    /* hostile arguments */
    assert_false(esximg_vib_satisfies(NULL, &c));
    assert_false(esximg_vib_satisfies(base, NULL));
    c = con(NULL, NULL, NULL);
    assert_false(esximg_vib_satisfies(base, &c));
    esximg_descriptor_free(base);
}

static void vibrel_replaces_by_constraint_and_name(void **state)
{
    (void)state;
    struct esximg_descriptor *r8168 = vib("net55-r8168", "8.045a-napi",
        "<replaces><constraint name=\"net-r8168\"/></replaces>");
    struct esximg_descriptor *old = vib("net-r8168", "8.013.00-3vmw.510.0.0.799733", "");
    struct esximg_descriptor *other = vib("net-r8169", "1-1", "");
    struct esximg_descriptor *elx = vib("elxnet", "11.4.1094.0-5vmw.670.0.0.8169922",
        "<replaces><constraint name=\"emulex-esx-elxnetcli\" relation=\"&lt;&lt;\" "
        "version=\"11.1.28.1\"/></replaces>");
    struct esximg_descriptor *cli_old = vib("emulex-esx-elxnetcli", "10.2.309.6v-1", "");
    struct esximg_descriptor *cli_new = vib("emulex-esx-elxnetcli", "11.1.28.1-1", "");
    struct esximg_descriptor *r8168_v1 = vib("net55-r8168", "8.039.01-napi", "");
    struct esximg_descriptor *prov = vib("bundle", "1-1",
        "<provides><provide name=\"net-r8168\"/></provides>");

    assert_true(esximg_vib_replaces(r8168, old));
    assert_false(esximg_vib_replaces(old, r8168));
    assert_false(esximg_vib_replaces(r8168, other));
    /* with a version relation: only older ones */
    assert_true(esximg_vib_replaces(elx, cli_old));
    assert_false(esximg_vib_replaces(elx, cli_new));
    /* the same name, whatever the versions */
    assert_true(esximg_vib_replaces(r8168, r8168_v1));
    assert_true(esximg_vib_replaces(r8168_v1, r8168));
    assert_true(esximg_vib_replaces(r8168, r8168));
    /* a VIB providing the replaced name meets the constraint too */
    assert_true(esximg_vib_replaces(r8168, prov));
    assert_false(esximg_vib_replaces(NULL, old));
    assert_false(esximg_vib_replaces(r8168, NULL));

    esximg_descriptor_free(r8168);
    esximg_descriptor_free(old);
    esximg_descriptor_free(other);
    esximg_descriptor_free(elx);
    esximg_descriptor_free(cli_old);
    esximg_descriptor_free(cli_new);
    esximg_descriptor_free(r8168_v1);
    esximg_descriptor_free(prov);
}

/* ---------------------------------------------------------------- the check */

static const char base_provides[] =
    "<provides><provide name=\"vmkapi_2_3_0_0\"/><provide name=\"com.vmware.driverAPI-9.2.3.0\"/>"
    "<provide name=\"esx-version\" version=\"6.7.0-0.0.8169922\"/></provides>";

/* Runs the check and compares the problems with `want` (NULL-terminated). */
static void check_set(struct esximg_descriptor **vibs, size_t n, const char *const *want)
{
    struct esximg_warnings problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_vibrel_check((const struct esximg_descriptor *const *)vibs, n,
                                         &problems, &err), 0);
    size_t count = 0;
    while (want[count])
        count++;
    for (size_t i = 0; i < problems.count; i++)
        if (i >= count || strcmp(problems.items[i].msg, want[i]) != 0)
            fail_msg("problem %zu: '%s', want '%s'", i, problems.items[i].msg,
                     i < count ? want[i] : "(none)");
    assert_int_equal(problems.count, count);
    for (size_t i = 0; i < problems.count; i++)
        assert_int_equal(problems.items[i].line, 0);
    esx_warnings_free(&problems);
}

static void free_set(struct esximg_descriptor **vibs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        esximg_descriptor_free(vibs[i]);
}

static void vibrel_check_met_and_unmet_depends(void **state)
{
    (void)state;
    struct esximg_descriptor *v[] = {
        vib("esx-base", "6.7.0-0.0.8169922", base_provides),
        vib("i40en", "1.3.1-18vmw.670.0.0.8169922",
            "<depends><constraint name=\"vmkapi_2_3_0_0\"/>"
            "<constraint name=\"esx-version\" relation=\"&gt;=\" version=\"6.0.0\"/></depends>"),
        vib("net-foo", "1.0-1", "<depends><constraint name=\"vmkapi_2_6_0_0\"/></depends>"),
        vib("sata-xahci", "1.42-1", "<depends><constraint name=\"sata-ahci\"/></depends>"),
        vib("sata-ahci", "3.0-26vmw.670.0.0.8169922", ""),
        vib("cpu-microcode", "6.7.0-0.0.8169922",
            "<depends><constraint name=\"esx-version\" relation=\"&lt;=\" version=\"6.7.0\"/>"
            "<constraint name=\"esx-base\" relation=\"&gt;=\" version=\"6.7.0-0.0\"/>"
            "<constraint name=\"esx-base\" relation=\"&lt;&lt;\" version=\"6.7.0-0.1\"/>"
            "</depends>"),
    };
    const char *const want[] = {
        "'net-foo 1.0-1' depends on 'vmkapi_2_6_0_0', which no VIB provides",
        NULL,
    };
    check_set(v, sizeof v / sizeof v[0], want);
    /* without sata-ahci, sata-xahci is unmet (a VIB named so meets it, a provide too) */
    const char *const want2[] = {
        "'net-foo 1.0-1' depends on 'vmkapi_2_6_0_0', which no VIB provides",
        "'sata-xahci 1.42-1' depends on 'sata-ahci', which no VIB provides",
        NULL,
    };
    check_set(v, 4, want2);
    free_set(v, sizeof v / sizeof v[0]);
}

static void vibrel_check_version_relation_fails(void **state)
{
    (void)state;
    struct esximg_descriptor *v[] = {
        vib("esx-base", "6.7.0-0.0.8169922", base_provides),
        vib("net-community", "1.2.7.0-1vmw.700.1.0.15843807",
            "<depends><constraint name=\"esx-version\" relation=\"&gt;=\" version=\"7.0.0\"/>"
            "<constraint name=\"esx-base\" relation=\"&gt;=\" version=\"7.0.0-1.0\"/>"
            "<constraint name=\"esx-version\" relation=\"&lt;&lt;\" version=\"7.1.0\"/>"
            "</depends>"),
    };
    const char *const want[] = {
        "'net-community 1.2.7.0-1vmw.700.1.0.15843807' depends on 'esx-version >= 7.0.0', which "
        "no VIB provides (found 'esx-version 6.7.0-0.0.8169922' from 'esx-base "
        "6.7.0-0.0.8169922')",
        "'net-community 1.2.7.0-1vmw.700.1.0.15843807' depends on 'esx-base >= 7.0.0-1.0', which "
        "no VIB provides (found 'esx-base 6.7.0-0.0.8169922')",
        NULL,
    };
    check_set(v, sizeof v / sizeof v[0], want);
    free_set(v, sizeof v / sizeof v[0]);
}

static void vibrel_check_conflicts(void **state)
{
    (void)state;
    struct esximg_descriptor *v[] = {
        vib("a", "1-1", "<conflicts><constraint name=\"b\" relation=\"&lt;&lt;\" version=\"3\"/>"
            "<constraint name=\"c\"/><constraint name=\"old-api\"/>"
            "<constraint name=\"a\"/></conflicts><provides><provide name=\"old-api\"/>"
            "</provides>"),
        vib("b", "2-1", ""),
        vib("c", "9-9", "<conflicts><constraint name=\"a\" relation=\"&gt;=\" version=\"1\"/>"
            "<constraint name=\"a\" relation=\"&gt;&gt;\" version=\"1\"/></conflicts>"),
        vib("d", "1-1", "<provides><provide name=\"old-api\"/></provides>"),
    };
    const char *const want[] = {
        "'a 1-1' conflicts with 'b 2-1' ('b << 3')",
        "'a 1-1' conflicts with 'c 9-9' ('c')",
        "'a 1-1' conflicts with 'd 1-1' ('old-api')",   /* through a provide, never itself */
        "'c 9-9' conflicts with 'a 1-1' ('a >= 1')",   /* 'a >> 1': "1-1" is "1" to it */
        NULL,
    };
    check_set(v, sizeof v / sizeof v[0], want);
    free_set(v, sizeof v / sizeof v[0]);
}

static void vibrel_check_self_is_no_provider_nor_conflict(void **state)
{
    (void)state;
    /* a VIB providing what it depends on still needs another VIB; naming itself among its
     * conflicts (as a 'replace older me') is no conflict */
    struct esximg_descriptor *v[] = {
        vib("loner", "1-1", "<depends><constraint name=\"loner-api\"/></depends>"
            "<conflicts><constraint name=\"loner\"/><constraint name=\"loner-api\"/></conflicts>"
            "<provides><provide name=\"loner-api\"/></provides>"),
    };
    const char *const want[] = {
        "'loner 1-1' depends on 'loner-api', which no VIB provides",
        NULL,
    };
    check_set(v, 1, want);
    /* the same pointer twice is still one VIB (each entry reports its own depends) */
    struct esximg_descriptor *twice[] = {v[0], v[0]};
    const char *const want_twice[] = {want[0], want[0], NULL};
    check_set(twice, 2, want_twice);
    free_set(v, 1);
}

static void vibrel_check_hostile_text_is_quoted(void **state)
{
    (void)state;
    struct esximg_descriptor *d = vib("x", "1-1", "<depends><constraint name=\"a&#9;b\" "
        "relation=\"&gt;=\" version=\"0123456789012345678901234567890123456789"
        "0123456789\"/></depends>");
    struct esximg_descriptor *v[] = {d};
    const char *const want[] = {
        "'x 1-1' depends on 'a?b >= 012345678901234567890123456789012345678901234...', which "
        "no VIB provides",
        NULL,
    };
    check_set(v, 1, want);
    free_set(v, 1);
}

static void vibrel_check_arguments(void **state)
{
    (void)state;
    struct esximg_warnings problems = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_vibrel_check(NULL, 0, &problems, &err), 0);
    assert_int_equal(problems.count, 0);
    assert_int_equal(esximg_vibrel_check(NULL, 1, &problems, &err), ESXIMG_EINVAL);
    const struct esximg_descriptor *none[] = {NULL, NULL};
    assert_int_equal(esximg_vibrel_check(none, 2, &problems, NULL), 0);
    assert_int_equal(problems.count, 0);
    assert_int_equal(esximg_vibrel_check(none, 2, NULL, NULL), ESXIMG_EINVAL);
}

static void vibrel_check_caps_problems(void **state)
{
    (void)state;
    /* more unmet depends than ESX_MAX_WARNINGS: the rest are counted, not kept */
    size_t n = ESX_MAX_WARNINGS + 5;
    struct esximg_descriptor *d = calloc(1, sizeof *d);
    struct esximg_constraint *items = calloc(n, sizeof *items);
    assert_non_null(d);
    assert_non_null(items);
    d->name = (char *)"many";
    d->version = (char *)"1-1";
    for (size_t i = 0; i < n; i++)
        items[i].name = (char *)"missing";
    d->depends.items = items;
    d->depends.count = n;
    const struct esximg_descriptor *v[] = {d};
    struct esximg_warnings problems = {0};
    assert_int_equal(esximg_vibrel_check(v, 1, &problems, NULL), 0);
    assert_int_equal(problems.count, ESX_MAX_WARNINGS);
    assert_int_equal(problems.dropped, 5);
    esx_warnings_free(&problems);
    free(items);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vibrel_versions_sort_in_order),
        cmocka_unit_test(vibrel_equal_versions),
        cmocka_unit_test(vibrel_numbers_compare_as_numbers),
        cmocka_unit_test(vibrel_constraint_relations),
        cmocka_unit_test(vibrel_satisfies_by_name_and_provides),
        cmocka_unit_test(vibrel_replaces_by_constraint_and_name),
        cmocka_unit_test(vibrel_check_met_and_unmet_depends),
        cmocka_unit_test(vibrel_check_version_relation_fails),
        cmocka_unit_test(vibrel_check_conflicts),
        cmocka_unit_test(vibrel_check_self_is_no_provider_nor_conflict),
        cmocka_unit_test(vibrel_check_hostile_text_is_quoted),
        cmocka_unit_test(vibrel_check_arguments),
        cmocka_unit_test(vibrel_check_caps_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
