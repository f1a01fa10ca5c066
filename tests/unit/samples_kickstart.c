/* samples_kickstart.c: the real kickstarts of the samples folder, checked: the installer's own
 * default and the working scripts have no problem; the templates left with placeholders
 * (<IP_ADDRESS>, a "generate with ..." password) have them, on their lines. */
#include <stdlib.h>
#include <string.h>

#include "esximg/kickstart.h"
#include "testutil.h"

static struct esximg_ks_report *check_sample(const char *rel)
{
    char *path = tu_sample_path(rel);
    uint8_t *bytes;
    size_t len;
    tu_read_file(path, &bytes, &len);
    struct esximg_ks_report *r = NULL;
    struct esximg_err err = {0};
    if (esximg_ks_check(bytes, len, NULL, &r, &err) != 0)
        fail_msg("%s: %s", rel, err.msg);
    free(bytes);
    free(path);
    return r;
}

static void samples_kickstarts_that_work(void **state)
{
    (void)state;
    static const struct {
        const char *rel;
        bool include;           /* commands come from an %include */
    } good[] = {
        {"ljvblfz__ESXi/etc/vmware/weasel/ks.cfg", false},
        {"daunce__ESXiScriptedInstall/FromCDROM/KS1.cfg", false},
        {"daunce__ESXiScriptedInstall/FromHTTP/KS1.cfg", false},
        {"apnex__docker-esx/html/ks.cfg", true},
        {"lamw__usb-to-sddc/KS.CFG", true},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct esximg_ks_report *r = check_sample(good[i].rel);
        if (r->problems.count)
            fail_msg("%s:%zu: %s", good[i].rel, r->problems.items[0].line,
                     r->problems.items[0].msg);
        assert_int_equal(r->has_include, good[i].include);
        esximg_ks_report_free(r);
    }
}

static void samples_kickstart_templates(void **state)
{
    (void)state;
    /* a static network line whose values are all placeholders, on a USB NIC */
    struct esximg_ks_report *r = check_sample("tekore__Hypervisor-Automation/VSphere/ks.cfg");
    assert_int_equal(r->problems.count, 5);
    for (size_t i = 0; i < r->problems.count; i++)
        assert_int_equal(r->problems.items[i].line, 13);
    assert_non_null(strstr(r->problems.items[0].msg, "--ip is not an IP address"));
    assert_int_equal(r->notes.count, 1);
    assert_non_null(strstr(r->notes.items[0].msg, "--device=vusb0"));
    esximg_ks_report_free(r);
    /* rootpw --iscrypted followed by instructions instead of a hash */
    r = check_sample("sagbash__vmware_autoinstaller_rhel9/ks.cfg");
    assert_int_equal(r->problems.count, 1);
    assert_int_equal(r->problems.items[0].line, 9);
    assert_non_null(strstr(r->problems.items[0].msg, "'rootpw' takes one word"));
    assert_true(r->has_include);
    esximg_ks_report_free(r);
}

int main(void)
{
    int skip = tu_require_samples("samples_kickstart");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_kickstarts_that_work),
        cmocka_unit_test(samples_kickstart_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
