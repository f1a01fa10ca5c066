/* test_modlist.c: `esxcli system module list` output. */
#include <stdlib.h>
#include <string.h>

#include "esximg/modlist.h"
#include "testutil.h"

static void modlist_reads_rows(void **state)
{
    (void)state;
    const char *text = "Name                   Is Loaded  Is Enabled\n"
                       "---------------------  ---------  ----------\n"
                       "vmkernel               true       true\n"
                       "ne1000                 false      false\r\n"
                       "this is not a row\n"
                       "vmw_ahci               true       maybe\n"
                       "e1000e true true";
    struct esximg_modlist *m = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_modlist_read(text, strlen(text), &m, &err), 0);
    assert_int_equal(m->count, 3);
    assert_string_equal(m->modules[1].name, "ne1000");
    assert_false(m->modules[1].loaded);
    assert_false(m->modules[1].enabled);
    assert_int_equal(m->modules[1].line, 4);
    assert_true(m->modules[2].enabled);
    assert_string_equal(m->modules[2].name, "e1000e");
    assert_int_equal(m->warnings.count, 2);
    assert_int_equal(m->warnings.items[0].line, 5);
    assert_int_equal(m->warnings.items[1].line, 6);
    esximg_modlist_free(m);
}

static void modlist_refuses_no_rows(void **state)
{
    (void)state;
    static const char *const inputs[] = {"", "Name  Is Loaded  Is Enabled\n----  ---  ---\n",
                                         "ne1000 true\n", "a b c d\n"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct esximg_modlist *m = NULL;
        assert_int_equal(esximg_modlist_read(inputs[i], strlen(inputs[i]), &m, NULL),
                         ESXIMG_EFORMAT);
        assert_null(m);
    }
    struct esximg_modlist *m = NULL;
    assert_int_equal(esximg_modlist_read("ne1000\0 true true\n", 18, &m, NULL), ESXIMG_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modlist_reads_rows),
        cmocka_unit_test(modlist_refuses_no_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
