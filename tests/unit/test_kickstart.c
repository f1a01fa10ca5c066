/* test_kickstart.c: the kickstart writer (every option, value checks), the password hash,
 * and the checker: each rule has a line that breaks it, and a file that passes. */
#include <stdlib.h>
#include <string.h>

#include "esximg/kickstart.h"
#include "esximg/vib.h"
#include "testutil.h"

/* The SHA-512 crypt hash of "esximg-Test1" with salt "abcdefghijklmnop" (as `openssl passwd
 * -6 -salt abcdefghijklmnop esximg-Test1` prints it). */
#define TEST_DIGEST "hrs847kHGtkH6iIVAZJYNy64ZLyEAOyl/0/JoW6ZZLgFlhE21K2FYhWTpB/HtGmCKa54U550aRlGs1vFMW1T6."
#define TEST_HASH "$6$abcdefghijklmnop$" TEST_DIGEST

static struct esximg_ks_report *check_env(const char *text, const struct esximg_ks_env *env)
{
    struct esximg_ks_report *r = NULL;
    struct esximg_err err = {0};
    if (esximg_ks_check(text, strlen(text), env, &r, &err) != 0)
        fail_msg("check failed: %s", err.msg);
    return r;
}

static struct esximg_ks_report *check(const char *text)
{
    return check_env(text, NULL);
}

/* The file has exactly one problem, on `line`, whose message holds `words`. */
static void expect_one_problem(const char *text, const struct esximg_ks_env *env, size_t line,
                               const char *words)
{
    struct esximg_ks_report *r = check_env(text, env);
    if (r->problems.count != 1)
        fail_msg("%zu problems, expected 1 (%s) in:\n%s%s%s", r->problems.count, words, text,
                 r->problems.count ? "first: " : "",
                 r->problems.count ? r->problems.items[0].msg : "");
    assert_int_equal(r->problems.items[0].line, line);
    if (!strstr(r->problems.items[0].msg, words))
        fail_msg("'%s' lacks '%s'", r->problems.items[0].msg, words);
    esximg_ks_report_free(r);
}

#define KS_HEAD "vmaccepteula\ninstall --firstdisk --overwritevmfs\nrootpw VMware1!\n"

static struct esximg_ks_env *make_env(unsigned major, const char *const *modules, size_t n)
{
    struct esximg_ks_env *e = NULL;
    assert_int_equal(esximg_ks_env_new(major, &e, NULL), 0);
    struct esximg_descriptor d = {0};
    char **files = calloc(n + 2, sizeof *files);
    assert_non_null(files);
    for (size_t i = 0; i < n; i++) {
        files[i] = malloc(strlen(modules[i]) + 32);
        assert_non_null(files[i]);
        strcpy(files[i], "usr/lib/vmware/vmkmod/");
        strcat(files[i], modules[i]);
    }
    files[n] = "etc/vmware/driver.map.d/not-a-module.map";
    d.files = files;
    d.file_count = n + 1;
    assert_int_equal(esximg_ks_env_add_vib(e, &d, NULL), 0);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return e;
}

static void kickstart_default_file_passes(void **state)
{
    (void)state;
    /* the installer's own /etc/vmware/weasel/ks.cfg, as VMware's documentation prints it */
    struct esximg_ks_report *r = check(
        "#\n# Sample scripted installation file\n#\n\n"
        "# Accept the VMware End User License Agreement\nvmaccepteula\n\n"
        "rootpw myp@ssw0rd\n\ninstall --firstdisk --overwritevmfs\n\n"
        "network --bootproto=dhcp --device=vmnic0\n\n"
        "%post --interpreter=python --ignorefailure=true\nimport time\n"
        "stampFile = open('/finished.stamp', mode='w')\nstampFile.write( time.asctime() )\n");
    assert_int_equal(r->problems.count, 0);
    assert_int_equal(r->notes.count, 0);
    assert_int_equal(r->line_count, 17);
    esximg_ks_report_free(r);
}

static void kickstart_reads_words_like_the_installer(void **state)
{
    (void)state;
    /* quotes, a trailing comment, CRLF, accepteula, options given as "--opt value" */
    struct esximg_ks_report *r = check(
        "accepteula\r\n"
        "install --disk \"mpx.vmhba1:C0:T0:L0\" --overwritevmfs # the boot disk\r\n"
        "rootpw 'pass word#1'\r\n"
        "network --bootproto=static --ip=192.168.1.10 --netmask=255.255.255.0 "
        "--gateway=192.168.1.1 --nameserver=192.168.1.1,192.168.1.2 --hostname=esx1.lab "
        "--vlanid=4095 --addvmportgroup=0 --device=00:50:56:aa:bb:cc\r\n"
        "keyboard 'US Default'\r\nreboot --noeject\r\n");
    assert_int_equal(r->problems.count, 0);
    esximg_ks_report_free(r);
}

static void kickstart_flags_commands_and_options(void **state)
{
    (void)state;
    expect_one_problem(KS_HEAD "autopart --firstdisk\n", NULL, 4, "unknown command 'autopart'");
    expect_one_problem(KS_HEAD "%packages\n", NULL, 4, "unknown command '%packages'");
    expect_one_problem("vmaccepteula\ninstall --firstdisk --wipe\nrootpw x\n", NULL, 2,
                       "unknown option '--wipe'");
    expect_one_problem("vmaccepteula\ninstall --firstdisk --overwritevmfs=yes\nrootpw x\n", NULL,
                       2, "takes no value");
    expect_one_problem("vmaccepteula\ninstall --disk=\nrootpw x\n", NULL, 2, "empty value");
    expect_one_problem("vmaccepteula\ninstall --disk\nrootpw x\n", NULL, 2, "needs a value");
    expect_one_problem("vmaccepteula\ninstall --firstdisk\nrootpw\n", NULL, 3,
                       "takes one word");
    expect_one_problem("vmaccepteula now\ninstall --firstdisk\nrootpw x\n", NULL, 1,
                       "takes no word 'now'");
    expect_one_problem(KS_HEAD "keyboard \"US Default\n", NULL, 4, "quote is not closed");
}

static void kickstart_flags_what_is_missing(void **state)
{
    (void)state;
    expect_one_problem("install --firstdisk\nrootpw x\n", NULL, 0, "no vmaccepteula");
    expect_one_problem("vmaccepteula\nrootpw x\n", NULL, 0, "no install, upgrade");
    expect_one_problem("vmaccepteula\ninstall --firstdisk\n", NULL, 0, "no rootpw");
    /* an upgrade keeps the host's password */
    struct esximg_ks_report *r = check("vmaccepteula\nupgrade --firstdisk\n");
    assert_int_equal(r->problems.count, 0);
    esximg_ks_report_free(r);
    /* with an %include they may come from the included file: notes, not problems */
    r = check("vmaccepteula\n%include /tmp/install.cmd\n");
    assert_int_equal(r->problems.count, 0);
    assert_true(r->has_include);
    assert_int_equal(r->notes.count, 2);
    assert_int_equal(r->notes.items[0].line, 2);
    esximg_ks_report_free(r);
    expect_one_problem("vmaccepteula\nupgrade --firstdisk\nclearpart --alldrives\n", NULL, 3,
                       "works only with 'install'");
}

static void kickstart_flags_values_that_cannot_work(void **state)
{
    (void)state;
    expect_one_problem("vmaccepteula\ninstall\nrootpw x\n", NULL, 2, "names no disk");
    expect_one_problem("vmaccepteula\ninstall --firstdisk --disk=x\nrootpw x\n", NULL, 2,
                       "more than once");
    expect_one_problem("vmaccepteula\ninstall --firstdisk --overwritevmfs --preservevmfs\n"
                       "rootpw x\n", NULL, 2, "contradict");
    expect_one_problem("vmaccepteula\ninstall --firstdisk\nupgrade --firstdisk\nrootpw x\n",
                       NULL, 3, "first on line 2");
    expect_one_problem(KS_HEAD "rootpw y\n", NULL, 4, "first on line 3");
    expect_one_problem(KS_HEAD "network --bootproto=manual\n", NULL, 4, "dhcp or static");
    expect_one_problem(KS_HEAD "network --bootproto=static\n", NULL, 4, "needs --ip=");
    expect_one_problem(KS_HEAD "network --bootproto=static --ip=<IP_ADDRESS>\n", NULL, 4,
                       "--ip is not an IP");
    expect_one_problem(KS_HEAD "network --ip=10.0.0.2 --netmask=255.255.255.256\n", NULL, 4,
                       "--netmask");
    expect_one_problem(KS_HEAD "network --nameserver=10.0.0.1,\n", NULL, 4, "--nameserver");
    expect_one_problem(KS_HEAD "network --hostname=esx_1\n", NULL, 4, "--hostname");
    expect_one_problem(KS_HEAD "network --vlanid=4096\n", NULL, 4, "--vlanid");
    expect_one_problem(KS_HEAD "network --addvmportgroup=2\n", NULL, 4, "--addvmportgroup");
    expect_one_problem(KS_HEAD "network --device=eth0\n", NULL, 4, "no vmnicN");
    expect_one_problem("vmaccepteula\ninstall --firstdisk\nrootpw --iscrypted VMware1!\n", NULL,
                       3, "crypt hash");
    expect_one_problem(KS_HEAD "clearpart --overwritevmfs\n", NULL, 4, "names no drives");
    expect_one_problem(KS_HEAD "part datastore2\n", NULL, 4, "names no disk");
    expect_one_problem(KS_HEAD "%firstboot --interpreter=perl\n", NULL, 4, "busybox or python");
    expect_one_problem(KS_HEAD "%post --timeout=ten\n", NULL, 4, "number of seconds");
    expect_one_problem(KS_HEAD "%pre --ignorefailure=yes\n", NULL, 4, "true or false");
    expect_one_problem(KS_HEAD "%firstboot --timeout=10\n", NULL, 4, "unknown option");
    expect_one_problem(KS_HEAD "%firstboot\nsleep 30\nrootpw other\n", NULL, 6,
                       "run by the shell");
    /* the same word in a python section is Python's business */
    struct esximg_ks_report *r = check(KS_HEAD "%post --interpreter=python\nnetwork = 1\n");
    assert_int_equal(r->problems.count, 0);
    esximg_ks_report_free(r);
}

static void kickstart_checks_against_an_image(void **state)
{
    (void)state;
    static const char *const mods70[] = {"ne1000", "vmkusb", "i40en"};
    static const char *const mods80[] = {"ne1000", "vmkusb_nic_fling"};
    struct esximg_ks_env *e70 = make_env(7, mods70, 3);
    struct esximg_ks_env *e80 = make_env(8, mods80, 2);
    assert_int_equal(e70->module_count, 3);
    assert_true(esximg_ks_env_has_module(e70, "i40en"));
    assert_false(esximg_ks_env_has_module(e70, "not-a-module.map"));
    assert_false(esximg_ks_env_has_usb_nic(e70));   /* vmkusb is the USB host driver */
    assert_true(esximg_ks_env_has_usb_nic(e80));

    const char *vusb = KS_HEAD "network --bootproto=dhcp --device=vusb0\n";
    expect_one_problem(vusb, e70, 4, "no USB NIC driver");
    struct esximg_ks_report *r = check_env(vusb, e80);
    assert_int_equal(r->problems.count, 0);
    esximg_ks_report_free(r);
    r = check(vusb);                                /* no image: a note */
    assert_int_equal(r->problems.count, 0);
    assert_int_equal(r->notes.count, 1);
    assert_non_null(strstr(r->notes.items[0].msg, "--image"));
    esximg_ks_report_free(r);

    const char *fb = KS_HEAD "%firstboot --interpreter=busybox\n"
                     "esxcli system module parameters set -m i40en -p 'LLDP=0,0,0,0'\n"
                     "localcli system module set --enabled=false --module=ne1000\n"
                     "/sbin/esxcli system module set -e false -m \"$MOD\"\n";
    r = check_env(fb, e70);
    assert_int_equal(r->problems.count, 0);
    esximg_ks_report_free(r);
    expect_one_problem(fb, e80, 5, "module 'i40en'");

    const char *dpu = "vmaccepteula\ninstall --firstdisk --dpupcislots=0000:3b:00.0\nrootpw x\n";
    expect_one_problem(dpu, e70, 2, "needs ESXi 8.0");
    r = check_env(dpu, e80);
    assert_int_equal(r->problems.count, 0);
    esximg_ks_report_free(r);
    esximg_ks_env_free(e70);
    esximg_ks_env_free(e80);
}

static void kickstart_refuses_what_is_no_text(void **state)
{
    (void)state;
    struct esximg_ks_report *r = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_ks_check("vmaccepteula\0", 13, NULL, &r, &err), ESXIMG_EFORMAT);
    assert_null(r);
    char *big = malloc((1u << 20) + 2);
    assert_non_null(big);
    memset(big, '#', (1u << 20) + 1);
    assert_int_equal(esximg_ks_check(big, (1u << 20) + 1, NULL, &r, &err), ESXIMG_ELIMIT);
    free(big);
}

static void kickstart_knows_crypt_hashes(void **state)
{
    (void)state;
    assert_true(esximg_ks_is_crypt_hash(TEST_HASH));
    assert_true(esximg_ks_is_crypt_hash("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"));
    assert_true(esximg_ks_is_crypt_hash("$6$rounds=5000$abc$" TEST_DIGEST));
    static const char *const bad[] = {
        "", "$", "$6$", "$6$salt$", "$2b$10$abcdefghijklmnopqrstuu", "$6$salt$short",
        "$y$j9T$salt$hash", "VMware1!", ("$6$sa lt$" TEST_DIGEST), "$6$rounds=$abc$x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (esximg_ks_is_crypt_hash(bad[i]))
            fail_msg("'%s' taken for a crypt hash", bad[i]);
}

static void kickstart_hashes_passwords(void **state)
{
    (void)state;
    uint8_t salt[16];
    for (size_t i = 0; i < 16; i++)
        salt[i] = (uint8_t)("abcdefghijklmnop"[i] - 'a' + 38);   /* alphabet index of a..p */
    char *h = NULL;
    assert_int_equal(esximg_ks_hash_password("esximg-Test1", salt, &h, NULL), 0);
    assert_string_equal(h, TEST_HASH);
    free(h);
    /* another salt, another hash of the same password */
    salt[0] ^= 1;
    assert_int_equal(esximg_ks_hash_password("esximg-Test1", salt, &h, NULL), 0);
    assert_true(esximg_ks_is_crypt_hash(h));
    assert_string_not_equal(h, TEST_HASH);
    free(h);
    struct esximg_err err = {0};
    assert_int_equal(esximg_ks_hash_password("", salt, &h, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_ks_hash_password("a\nb", salt, &h, &err), ESXIMG_EINVAL);
}

static char *write_ks(const struct esximg_ks_opts *o)
{
    char *out = NULL;
    size_t len = 0;
    struct esximg_err err = {0};
    if (esximg_ks_write(o, &out, &len, &err) != 0)
        fail_msg("write failed: %s", err.msg);
    assert_int_equal(strlen(out), len);
    return out;
}

static void kickstart_writes_the_smallest_file(void **state)
{
    (void)state;
    struct esximg_ks_opts o = {.rootpw_hash = TEST_HASH};
    char *ks = write_ks(&o);
    assert_string_equal(ks, "# ESXi installation script written by esximg ks\n"
                            "vmaccepteula\ninstall --firstdisk --overwritevmfs\nreboot\n"
                            "rootpw --iscrypted " TEST_HASH "\n");
    struct esximg_ks_report *r = check(ks);
    assert_int_equal(r->problems.count, 0);
    assert_int_equal(r->notes.count, 0);
    esximg_ks_report_free(r);
    free(ks);
}

static void kickstart_writes_every_option_in_order(void **state)
{
    (void)state;
    static const char *const params[] = {"i40en:LLDP=0,0,0,0", "ne1000:"};
    static const char *const disabled[] = {"vmw_ahci"};
    static const char *const kopts[] = {"systemMediaSize=min"};
    const char firstboot[] = "vim-cmd hostsvc/enable_ssh";
    struct esximg_ks_opts o = {
        .rootpw_hash = TEST_HASH, .disk = "mpx.vmhba1:C0:T0:L0",
        .ip = "10.0.0.5", .netmask = "255.255.255.0", .gateway = "10.0.0.1",
        .nameserver = "10.0.0.2", .hostname = "esx1.lab", .nic = "vusb0",
        .has_vlan = true, .vlan = 20,
        .module_params = params, .module_param_count = 2,
        .disabled_modules = disabled, .disabled_module_count = 1,
        .kernelopts = kopts, .kernelopt_count = 1,
        .firstboot = firstboot, .firstboot_len = sizeof firstboot - 1,
    };
    char *ks = write_ks(&o);
    assert_string_equal(ks,
        "# ESXi installation script written by esximg ks\n"
        "vmaccepteula\n"
        "install --disk=mpx.vmhba1:C0:T0:L0 --overwritevmfs\n"
        "network --bootproto=static --device=vusb0 --ip=10.0.0.5 --netmask=255.255.255.0 "
        "--gateway=10.0.0.1 --nameserver=10.0.0.2 --hostname=esx1.lab --vlanid=20\n"
        "reboot\n"
        "rootpw --iscrypted " TEST_HASH "\n"
        "\n%firstboot --interpreter=busybox\n"
        "esxcli system module parameters set -m i40en -p 'LLDP=0,0,0,0'\n"
        "esxcli system module parameters set -m ne1000 -p ''\n"
        "esxcli system module set --enabled=false -m vmw_ahci\n"
        "esxcli system settings kernel set -s systemMediaSize -v 'min'\n"
        "vim-cmd hostsvc/enable_ssh\n");
    static const char *const mods[] = {"i40en", "ne1000", "vmw_ahci", "vmkusb_nic_fling"};
    struct esximg_ks_env *env = make_env(8, mods, 4);
    struct esximg_ks_report *r = check_env(ks, env);
    assert_int_equal(r->problems.count, 0);
    assert_int_equal(r->notes.count, 0);
    esximg_ks_report_free(r);
    esximg_ks_env_free(env);
    /* the same options, the same bytes */
    char *again = write_ks(&o);
    assert_string_equal(again, ks);
    free(again);
    free(ks);
    /* DHCP with a NIC and a VLAN */
    struct esximg_ks_opts dhcp = {.rootpw_hash = TEST_HASH, .disk = "first", .nic = "vmnic1",
                                  .has_vlan = true, .vlan = 0};
    ks = write_ks(&dhcp);
    assert_non_null(strstr(ks, "\nnetwork --bootproto=dhcp --device=vmnic1 --vlanid=0\n"));
    assert_null(strstr(ks, "%firstboot"));
    free(ks);
    /* DHCP asked for alone */
    struct esximg_ks_opts plain = {.rootpw_hash = TEST_HASH, .network = true};
    ks = write_ks(&plain);
    assert_non_null(strstr(ks, "\nnetwork --bootproto=dhcp\nreboot\n"));
    free(ks);
}

static void kickstart_writer_refuses_bad_values(void **state)
{
    (void)state;
    static const char *const bad_param[] = {"i40en"};
    static const char *const bad_param2[] = {"i40en:x'; reboot; '"};
    static const char *const bad_module[] = {"ne1000;reboot"};
    static const char *const bad_kopt[] = {"systemMediaSize"};
    static const char *const bad_kopt2[] = {"a=b c"};
    struct esximg_ks_opts cases[] = {
        {.rootpw_hash = NULL},
        {.rootpw_hash = "VMware1!"},
        {.rootpw_hash = TEST_HASH, .disk = "disk one"},
        {.rootpw_hash = TEST_HASH, .disk = "x\ny"},
        {.rootpw_hash = TEST_HASH, .disk = ""},
        {.rootpw_hash = TEST_HASH, .ip = "10.0.0.256"},
        {.rootpw_hash = TEST_HASH, .gateway = "10.0.0.1"},
        {.rootpw_hash = TEST_HASH, .ip = "10.0.0.5", .netmask = "/24"},
        {.rootpw_hash = TEST_HASH, .ip = "10.0.0.5", .hostname = "a b"},
        {.rootpw_hash = TEST_HASH, .nic = "eth0"},
        {.rootpw_hash = TEST_HASH, .has_vlan = true, .vlan = 4096},
        {.rootpw_hash = TEST_HASH, .module_params = bad_param, .module_param_count = 1},
        {.rootpw_hash = TEST_HASH, .module_params = bad_param2, .module_param_count = 1},
        {.rootpw_hash = TEST_HASH, .disabled_modules = bad_module, .disabled_module_count = 1},
        {.rootpw_hash = TEST_HASH, .kernelopts = bad_kopt, .kernelopt_count = 1},
        {.rootpw_hash = TEST_HASH, .kernelopts = bad_kopt2, .kernelopt_count = 1},
        {.rootpw_hash = TEST_HASH, .firstboot = "a\0b", .firstboot_len = 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        size_t len = 0;
        struct esximg_err err = {0};
        if (esximg_ks_write(&cases[i], &out, &len, &err) != ESXIMG_EINVAL)
            fail_msg("case %zu was written", i);
        assert_null(out);
        assert_true(err.msg[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kickstart_default_file_passes),
        cmocka_unit_test(kickstart_reads_words_like_the_installer),
        cmocka_unit_test(kickstart_flags_commands_and_options),
        cmocka_unit_test(kickstart_flags_what_is_missing),
        cmocka_unit_test(kickstart_flags_values_that_cannot_work),
        cmocka_unit_test(kickstart_checks_against_an_image),
        cmocka_unit_test(kickstart_refuses_what_is_no_text),
        cmocka_unit_test(kickstart_knows_crypt_hashes),
        cmocka_unit_test(kickstart_hashes_passwords),
        cmocka_unit_test(kickstart_writes_the_smallest_file),
        cmocka_unit_test(kickstart_writes_every_option_in_order),
        cmocka_unit_test(kickstart_writer_refuses_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
