/* test_bootcfg.c: BOOT.CFG reading, verbatim write-back and edits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/bootcfg.h"
#include "testutil.h"

/* A 7.0-style ISO copy, shortened. */
static const char cfg70[] =
    "bootstate=0\n"
    "title=Loading ESXi installer\n"
    "timeout=5\n"
    "prefix=\n"
    "kernel=/b.b00\n"
    "kernelopt=cdromBoot runweasel\n"
    "modules=/jumpstrt.gz --- /useropts.gz --- /k.b00 --- /s.v00 --- /tools.t00 --- /imgdb.tgz"
    " --- /basemisc.tgz --- /resvibs.tgz --- /imgpayld.tgz\n"
    "build=7.0.2-0.0.17630552\n"
    "updated=0\n";

static struct esximg_bootcfg *read_cfg(const char *text)
{
    struct esximg_bootcfg *c = NULL;
    struct esximg_err err = {0};
    if (esximg_bootcfg_read(text, strlen(text), NULL, &c, &err) != 0)
        fail_msg("read failed: %s", err.msg);
    return c;
}

/* Writes the model and compares with `want`. */
static void expect_text(const struct esximg_bootcfg *c, const char *want)
{
    char *data;
    size_t len;
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_write(c, &data, &len, &err), 0);
    assert_int_equal(len, strlen(want));
    assert_string_equal(data, want);
    free(data);
}

static void roundtrip(const char *bytes, size_t n)
{
    struct esximg_bootcfg *c = NULL;
    struct esximg_err err = {0};
    char *data;
    size_t len;
    assert_int_equal(esximg_bootcfg_read(bytes, n, NULL, &c, &err), 0);
    assert_int_equal(esximg_bootcfg_write(c, &data, &len, &err), 0);
    assert_int_equal(len, n);
    assert_memory_equal(data, bytes, n);
    free(data);
    esximg_bootcfg_free(c);
}

static void bootcfg_rewrite_is_identical(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "", "\n", "\n\n", "kernel=/b.b00", "kernel=/b.b00\n",
        "bootstate=0\r\ntitle=x\r\nkernel=/b.b00\r\n",
        "  # comment\n\n\tKERNEL = /b.b00  \r\nmodules=a  ---  b\t--- c   \njunk line\n=x\n",
        "title=no final newline\r",
        cfg70,
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        roundtrip(inputs[i], strlen(inputs[i]));
}

static void bootcfg_keeps_lines_and_spans(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("# c\n\n  Title =  Hello  World \r\nnot a pair\nkernel=\n");
    assert_int_equal(c->line_count, 5);
    assert_true(c->final_newline);
    assert_false(c->crlf);
    assert_int_equal(c->lines[0].kind, ESXIMG_BOOTCFG_COMMENT);
    assert_int_equal(c->lines[1].kind, ESXIMG_BOOTCFG_BLANK);
    const struct esximg_bootcfg_line *l = &c->lines[2];
    assert_int_equal(l->kind, ESXIMG_BOOTCFG_KEYVAL);
    assert_memory_equal(l->text + l->key_off, "Title", 5);
    assert_int_equal(l->key_len, 5);
    assert_int_equal(l->value_len, strlen("Hello  World"));
    assert_memory_equal(l->text + l->value_off, "Hello  World", l->value_len);
    assert_int_equal(l->text[l->len - 1], '\r');
    assert_int_equal(c->lines[3].kind, ESXIMG_BOOTCFG_OTHER);
    assert_int_equal(c->lines[4].value_len, 0);
    /* the line that is not key=value is the only warning */
    assert_int_equal(c->warnings.count, 1);
    assert_int_equal(c->warnings.items[0].line, 4);
    assert_non_null(strstr(c->warnings.items[0].msg, "not a pair"));
    char *v;
    assert_int_equal(esximg_bootcfg_get(c, "TITLE", &v, NULL), 0);
    assert_string_equal(v, "Hello  World");
    free(v);
    assert_int_equal(esximg_bootcfg_get(c, "kernel", &v, NULL), 0);
    assert_string_equal(v, "");
    free(v);
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_get(c, "modules", &v, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'modules'"));
    esximg_bootcfg_free(c);
}

static void bootcfg_warns_like_the_loader(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("kernel=/a\ntimeout=5s\nfoo=1\nkernel=/b\n"
                                        "errtimeout=-1\n");
    assert_int_equal(c->warnings.count, 3);
    assert_int_equal(c->warnings.items[0].line, 2);
    assert_non_null(strstr(c->warnings.items[0].msg, "decimal"));
    assert_int_equal(c->warnings.items[1].line, 3);
    assert_non_null(strstr(c->warnings.items[1].msg, "unknown key 'foo'"));
    assert_int_equal(c->warnings.items[2].line, 4);
    assert_non_null(strstr(c->warnings.items[2].msg, "repeated"));
    /* the last kernel= counts */
    char *v;
    assert_int_equal(esximg_bootcfg_get(c, "kernel", &v, NULL), 0);
    assert_string_equal(v, "/b");
    free(v);
    assert_int_equal(esximg_bootcfg_find(c, "Kernel"), 3);
    esximg_bootcfg_free(c);
}

static void bootcfg_refuses_nul_and_long_lines(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = NULL;
    struct esximg_err err = {0};
    static const char with_nul[] = "kernel=/b.b00\ntitle=a\0b\n";
    assert_int_equal(esximg_bootcfg_read(with_nul, sizeof with_nul - 1, NULL, &c, &err),
                     ESXIMG_EFORMAT);
    assert_null(c);
    assert_non_null(strstr(err.msg, "line 2"));
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(big, 'a', n);
    memcpy(big, "title=", 6);
    assert_int_equal(esximg_bootcfg_read(big, n, NULL, &c, &err), ESXIMG_ELIMIT);
    assert_null(c);
    /* many short lines are fine, one line at the limit too; past ESX_MAX_TEXT_LINES not */
    memset(big, '\n', n);
    assert_int_equal(esximg_bootcfg_read(big, 500000, NULL, &c, &err), 0);
    assert_int_equal(c->line_count, 500000);
    esximg_bootcfg_free(c);
    assert_int_equal(esximg_bootcfg_read(big, n, NULL, &c, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "too many lines"));
    memset(big, 'b', 65537);
    assert_int_equal(esximg_bootcfg_read(big, 65536, NULL, &c, &err), 0);
    esximg_bootcfg_free(c);
    assert_int_equal(esximg_bootcfg_read(big, 65537, NULL, &c, &err), ESXIMG_ELIMIT);
    free(big);
}

static void bootcfg_modules_split_like_mboot(void **state)
{
    (void)state;
    struct esximg_bootcfg *c =
        read_cfg("modules= /b.b00 ks=usb  opt2 --- /useropts.gz------ x.v00---y.v00 --- \r\n");
    struct esximg_bootcfg_modules *m;
    assert_int_equal(esximg_bootcfg_modules_get(c, &m, NULL), 0);
    assert_int_equal(m->count, 4);
    assert_string_equal(m->items[0].path, "/b.b00");
    assert_string_equal(m->items[0].args, "ks=usb  opt2");
    assert_string_equal(m->items[1].path, "/useropts.gz");
    assert_null(m->items[1].args);
    assert_string_equal(m->items[2].path, "x.v00");
    assert_string_equal(m->items[3].path, "y.v00");
    esximg_bootcfg_modules_free(m);
    esximg_bootcfg_free(c);
    /* no modules line: an empty list */
    c = read_cfg("kernel=/b.b00\n");
    assert_int_equal(esximg_bootcfg_modules_get(c, &m, NULL), 0);
    assert_int_equal(m->count, 0);
    esximg_bootcfg_modules_free(m);
    esximg_bootcfg_free(c);
}

static void bootcfg_insert_before_imgdb_keeps_the_rest(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg(cfg70);
    assert_int_equal(esximg_bootcfg_module_insert_before(c, "imgdb.tgz", "net_r816.v00", NULL,
                                                         NULL), 0);
    char *want = strdup(cfg70);
    char *at = strstr(want, "/imgdb.tgz");
    size_t n = strlen(cfg70) + strlen("/net_r816.v00 --- ") + 1;
    char *expected = malloc(n);
    snprintf(expected, n, "%.*s/net_r816.v00 --- %s", (int)(at - want), want, at);
    expect_text(c, expected);
    /* matched case-insensitively, with or without '/' */
    assert_int_equal(esximg_bootcfg_module_insert_before(c, "/IMGDB.TGZ", "/x.v00", "a=1", NULL),
                     0);
    struct esximg_bootcfg_modules *m;
    assert_int_equal(esximg_bootcfg_modules_get(c, &m, NULL), 0);
    assert_int_equal(m->count, 11);
    assert_string_equal(m->items[5].path, "/net_r816.v00");
    assert_string_equal(m->items[6].path, "/x.v00");
    assert_string_equal(m->items[6].args, "a=1");
    assert_string_equal(m->items[7].path, "/imgdb.tgz");
    esximg_bootcfg_modules_free(m);
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_module_insert_before(c, "nothere.v00", "y.v00", NULL, &err),
                     ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'nothere.v00'"));
    free(want);
    free(expected);
    esximg_bootcfg_free(c);
}

static void bootcfg_insert_follows_pxe_style(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("prefix=/esxi\r\nmodules=k.b00  ---  imgdb.tgz\r\n");
    assert_true(c->crlf);
    assert_int_equal(esximg_bootcfg_module_insert_before(c, "imgdb.tgz", "/bmks.tgz", NULL,
                                                         NULL), 0);
    assert_int_equal(esximg_bootcfg_module_append(c, "/last.tgz", NULL, NULL), 0);
    expect_text(c, "prefix=/esxi\r\n"
                   "modules=k.b00  ---  bmks.tgz  ---  imgdb.tgz  ---  last.tgz\r\n");
    esximg_bootcfg_free(c);
}

static void bootcfg_remove_module(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("modules=/a --- /b --- /c --- /B\nx=1");
    assert_int_equal(esximg_bootcfg_module_remove(c, "b", NULL), 0);
    expect_text(c, "modules=/a --- /c\nx=1");
    assert_int_equal(esximg_bootcfg_module_remove(c, "/a", NULL), 0);
    expect_text(c, "modules=/c\nx=1");
    assert_int_equal(esximg_bootcfg_module_remove(c, "a", NULL), ESXIMG_ENOTFOUND);
    assert_int_equal(esximg_bootcfg_module_remove(c, "c", NULL), 0);
    expect_text(c, "modules=\nx=1");
    esximg_bootcfg_free(c);
    c = read_cfg("modules=/a --- /b --- /c\n");
    assert_int_equal(esximg_bootcfg_module_remove(c, "c", NULL), 0);
    expect_text(c, "modules=/a --- /b\n");
    esximg_bootcfg_free(c);
}

static void bootcfg_modules_set_uses_the_file_style(void **state)
{
    (void)state;
    const struct esximg_bootcfg_module items[] = {
        {"/b.b00", "ks=usb"}, {"/useropts.gz", NULL}, {"k.b00", ""},
    };
    struct esximg_bootcfg *c = read_cfg("kernel=/b.b00\nmodules=/x---/y\n");
    assert_int_equal(esximg_bootcfg_modules_set(c, items, 3, NULL), 0);
    expect_text(c, "kernel=/b.b00\nmodules=/b.b00 ks=usb---/useropts.gz---k.b00\n");
    esximg_bootcfg_free(c);
    /* absent: added after kernelopt, with the default separator */
    c = read_cfg("title=t\nkernel=/b.b00\nkernelopt=runweasel\nbuild=\n");
    assert_int_equal(esximg_bootcfg_modules_set(c, items, 2, NULL), 0);
    expect_text(c, "title=t\nkernel=/b.b00\nkernelopt=runweasel\n"
                   "modules=/b.b00 ks=usb --- /useropts.gz\nbuild=\n");
    struct esximg_err err = {0};
    const struct esximg_bootcfg_module bad[] = {{"a b", NULL}};
    assert_int_equal(esximg_bootcfg_modules_set(c, bad, 1, &err), ESXIMG_EINVAL);
    const struct esximg_bootcfg_module bad2[] = {{"a---b", NULL}};
    assert_int_equal(esximg_bootcfg_modules_set(c, bad2, 1, &err), ESXIMG_EINVAL);
    const struct esximg_bootcfg_module bad3[] = {{"a", "x\ny"}};
    assert_int_equal(esximg_bootcfg_modules_set(c, bad3, 1, &err), ESXIMG_EINVAL);
    esximg_bootcfg_free(c);
}

static void bootcfg_set_keeps_key_spelling_and_place(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("TITLE =  old title \r\nkernel=/b.b00");
    assert_int_equal(esximg_bootcfg_set(c, "title", "My ESXi", NULL), 0);
    expect_text(c, "TITLE =  My ESXi \r\nkernel=/b.b00");
    /* an added key keeps the missing final newline and the first line's "\r\n" */
    assert_int_equal(esximg_bootcfg_set(c, "kernelopt", "runweasel", NULL), 0);
    assert_int_equal(esximg_bootcfg_set(c, "bootstate", "0", NULL), 0);
    assert_int_equal(esximg_bootcfg_set(c, "custom", "1", NULL), 0);
    expect_text(c, "bootstate=0\r\nTITLE =  My ESXi \r\nkernel=/b.b00\nkernelopt=runweasel\r\n"
                   "custom=1\r");
    assert_false(c->final_newline);
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_set(c, "a=b", "x", &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_bootcfg_set(c, "", "x", &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_bootcfg_set(c, "#x", "x", &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_bootcfg_set(c, "title", "a\nb", &err), ESXIMG_EINVAL);
    esximg_bootcfg_free(c);
    /* an empty value keeps the blanks and '\r' after '=' */
    c = read_cfg("prefix=  \r\n");
    assert_int_equal(esximg_bootcfg_set(c, "prefix", "/esxi", NULL), 0);
    expect_text(c, "prefix=/esxi  \r\n");
    esximg_bootcfg_free(c);
    /* an empty file gains a final newline */
    c = read_cfg("");
    assert_int_equal(esximg_bootcfg_set(c, "kernel", "/b.b00", NULL), 0);
    expect_text(c, "kernel=/b.b00\n");
    esximg_bootcfg_free(c);
}

static void bootcfg_kernelopt_edits(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("kernelopt=cdromBoot  runweasel ks=cdrom:/KS.CFG\n");
    struct esximg_bootcfg_options *o;
    assert_int_equal(esximg_bootcfg_kernelopt_get(c, &o, NULL), 0);
    assert_int_equal(o->count, 3);
    assert_string_equal(o->items[0].key, "cdromBoot");
    assert_null(o->items[0].value);
    assert_string_equal(o->items[2].key, "ks");
    assert_string_equal(o->items[2].value, "cdrom:/KS.CFG");
    esximg_bootcfg_options_free(o);
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "allowLegacyCPU", "true", NULL), 0);
    expect_text(c, "kernelopt=cdromBoot  runweasel ks=cdrom:/KS.CFG allowLegacyCPU=true\n");
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "KS", "usb", NULL), 0);
    expect_text(c, "kernelopt=cdromBoot  runweasel KS=usb allowLegacyCPU=true\n");
    assert_int_equal(esximg_bootcfg_kernelopt_remove(c, "runweasel", NULL), 0);
    expect_text(c, "kernelopt=cdromBoot KS=usb allowLegacyCPU=true\n");
    assert_int_equal(esximg_bootcfg_kernelopt_remove(c, "cdromboot", NULL), 0);
    expect_text(c, "kernelopt=KS=usb allowLegacyCPU=true\n");
    assert_int_equal(esximg_bootcfg_kernelopt_remove(c, "nothere", NULL), ESXIMG_ENOTFOUND);
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "text", NULL, NULL), 0);
    expect_text(c, "kernelopt=KS=usb allowLegacyCPU=true text\n");
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "a b", "1", &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "a", "1 2", &err), ESXIMG_EINVAL);
    esximg_bootcfg_free(c);
    /* duplicates: the first is replaced, the others go */
    c = read_cfg("kernelopt=ks=a x ks=b y ks=c\n");
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "ks", "z", NULL), 0);
    expect_text(c, "kernelopt=ks=z x y\n");
    esximg_bootcfg_free(c);
    /* absent kernelopt: added after kernel */
    c = read_cfg("kernel=/b.b00\nmodules=/a\n");
    assert_int_equal(esximg_bootcfg_kernelopt_set(c, "runweasel", NULL, NULL), 0);
    expect_text(c, "kernel=/b.b00\nkernelopt=runweasel\nmodules=/a\n");
    assert_int_equal(esximg_bootcfg_kernelopt_remove(c, "runweasel", NULL), 0);
    expect_text(c, "kernel=/b.b00\nkernelopt=\nmodules=/a\n");
    esximg_bootcfg_free(c);
}

static void bootcfg_edit_respects_the_line_limit(void **state)
{
    (void)state;
    struct esximg_bootcfg *c = read_cfg("modules=/a\n");
    char *path = malloc(70000);
    memset(path, 'x', 69999);
    path[69999] = '\0';
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_module_append(c, path, NULL, &err), ESXIMG_ELIMIT);
    expect_text(c, "modules=/a\n");
    free(path);
    esximg_bootcfg_free(c);
}

/* ---------------------------------------------------------------- the loader's rules */

static struct esximg_bootcfg_violations *loader_check(const char *text)
{
    struct esximg_bootcfg *c = read_cfg(text);
    struct esximg_bootcfg_violations *v = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_bootcfg_check_loader(c, &v, &err), 0);
    esximg_bootcfg_free(c);
    return v;
}

/* The one violation of `text`: its rule, line and a piece of its message. */
static void expect_one(const char *text, enum esximg_bootcfg_rule rule, size_t line,
                       const char *says)
{
    struct esximg_bootcfg_violations *v = loader_check(text);
    if (v->count != 1)
        fail_msg("%zu violations in '%s' (first: %s)", v->count, text,
                 v->count ? v->items[0].msg : "none");
    assert_int_equal(v->items[0].rule, rule);
    assert_int_equal(v->items[0].line, line);
    if (!strstr(v->items[0].msg, says))
        fail_msg("'%s' does not say '%s'", v->items[0].msg, says);
    esximg_bootcfg_violations_free(v);
}

static void expect_none(const char *text)
{
    struct esximg_bootcfg_violations *v = loader_check(text);
    if (v->count)
        fail_msg("'%s': %s", text, v->items[0].msg);
    esximg_bootcfg_violations_free(v);
}

/* "kernel=/b.b00\nkernelopt=" + options making the command line `total` characters. */
static char *cfg_with_cmdline(size_t total)
{
    const size_t kernel = strlen("/b.b00") + 1;
    char *text = malloc(total + 64);
    int n = sprintf(text, "kernel=/b.b00\nkernelopt=");
    memset(text + n, 'o', total - kernel);
    strcpy(text + n + total - kernel, "\n");
    return text;
}

static void bootcfg_loader_accepts_stock_files(void **state)
{
    (void)state;
    expect_none(cfg70);
    expect_none("KERNEL=/b.b00\nTimeOut=-\nerrtimeout=-1\ntimeout=\nkernelopt=a#b ks=x\n"
                "modules=/sb.v00 --- /s.v00 --- /esxupdt.v00 --- /s.v00.gz --- /ss.v00\n"
                "bootstate=x\n");
}

static void bootcfg_loader_kernel_cmdline_limit(void **state)
{
    (void)state;
    char *text = cfg_with_cmdline(4095);
    expect_none(text);
    free(text);
    text = cfg_with_cmdline(4096);
    struct esximg_bootcfg_violations *v = loader_check(text);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->items[0].rule, ESXIMG_BOOTCFG_RULE_KERNEL_LENGTH);
    assert_int_equal(v->items[0].limit, 4096);
    assert_int_equal(v->items[0].actual, 4096);
    assert_int_equal(v->items[0].line, 2);
    assert_non_null(strstr(v->items[0].msg, "4096 characters"));
    esximg_bootcfg_violations_free(v);
    free(text);
    /* blanks are merged as mboot merges them before measuring */
    expect_none("kernel=/b.b00\nkernelopt=a      b\n");
}

static void bootcfg_loader_module_string_limit(void **state)
{
    (void)state;
    char text[1024], opts[300];
    /* "/m.v00 " is 7 characters: options of 248 make 255, of 249 make 256 */
    memset(opts, 'x', 249);
    opts[248] = '\0';
    snprintf(text, sizeof text, "kernel=/b.b00\nmodules=/a.v00 --- /m.v00 %s --- /c.v00\n", opts);
    expect_none(text);
    opts[248] = 'x';
    opts[249] = '\0';
    snprintf(text, sizeof text, "kernel=/b.b00\nmodules=/a.v00 --- /m.v00 %s --- /c.v00\n", opts);
    struct esximg_bootcfg_violations *v = loader_check(text);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->items[0].rule, ESXIMG_BOOTCFG_RULE_MODULE_LENGTH);
    assert_int_equal(v->items[0].limit, 256);
    assert_int_equal(v->items[0].actual, 256);
    assert_non_null(strstr(v->items[0].msg, "'/m.v00' (item 2)"));
    esximg_bootcfg_violations_free(v);
    /* a relative path is measured under prefix=: "/p/" + 253 = 256 */
    memset(opts, 'y', 253);
    opts[253] = '\0';
    snprintf(text, sizeof text, "prefix=/p\nkernel=/b.b00\nmodules=%s\n", opts);
    expect_one(text, ESXIMG_BOOTCFG_RULE_MODULE_LENGTH, 3, "256 characters");
    snprintf(text, sizeof text, "kernel=/b.b00\nmodules=%s\n", opts);
    expect_none(text);
}

static void bootcfg_loader_keys_match_as_prefixes(void **state)
{
    (void)state;
    expect_one("kernel=/b.b00\nmod=/a.v00\n", ESXIMG_BOOTCFG_RULE_KEY_PREFIX, 2,
               "reads it as 'modules'");
    expect_one("kernel=/b.b00\nt=x\n", ESXIMG_BOOTCFG_RULE_KEY_PREFIX, 2, "as 'title'");
    expect_one("=/b.b00\n", ESXIMG_BOOTCFG_RULE_KEY_PREFIX, 1, "empty key is read by mboot as "
               "'kernel'");
    expect_one("kernel=/b.b00\nrun=1\n", ESXIMG_BOOTCFG_RULE_KEY_PREFIX, 2, "'runtimewd'");
    /* what mboot does not know is ignored by it, not a prefix */
    expect_none("kernel=/b.b00\nbuild=7.0\nupdated=1\nkernelopts=x\n");
    /* a blank before '=' hides a key from mboot */
    expect_one("kernel =/b.b00\n", ESXIMG_BOOTCFG_RULE_KEY_BLANK, 1, "meant for 'kernel'");
    expect_none("kernel= /b.b00\n");
}

static void bootcfg_loader_integer_values(void **state)
{
    (void)state;
    expect_one("kernel=/b.b00\ntimeout=5s\n", ESXIMG_BOOTCFG_RULE_NOT_INTEGER, 2,
               "'timeout' has the value '5s'");
    /* the prefix names the integer key */
    struct esximg_bootcfg_violations *v = loader_check("kernel=/b.b00\ntime=x\n");
    assert_int_equal(v->count, 2);
    assert_int_equal(v->items[0].rule, ESXIMG_BOOTCFG_RULE_KEY_PREFIX);
    assert_int_equal(v->items[1].rule, ESXIMG_BOOTCFG_RULE_NOT_INTEGER);
    esximg_bootcfg_violations_free(v);
    /* a comment after an integer is both */
    v = loader_check("kernel=/b.b00\nnobootif=1 # no BOOTIF\n");
    assert_int_equal(v->count, 2);
    assert_int_equal(v->items[0].rule, ESXIMG_BOOTCFG_RULE_NOT_INTEGER);
    assert_int_equal(v->items[1].rule, ESXIMG_BOOTCFG_RULE_INLINE_COMMENT);
    esximg_bootcfg_violations_free(v);
    expect_none("kernel=/b.b00\ntftpblksize=1468\nskip=0\nnorts=-7\n");
}

static void bootcfg_loader_inline_comments(void **state)
{
    (void)state;
    expect_one("kernel=/b.b00\nkernelopt=runweasel # text installer\n",
               ESXIMG_BOOTCFG_RULE_INLINE_COMMENT, 2, "at character 11");
    expect_one("kernel=/b.b00\ntitle=#1\n", ESXIMG_BOOTCFG_RULE_INLINE_COMMENT, 2,
               "'title'");
    expect_none("kernel=/b.b00\n# a comment line\n   # another\nkernelopt=ks=cdrom:/KS.CFG#x\n");
}

static void bootcfg_loader_secure_boot_names(void **state)
{
    (void)state;
    expect_one("kernel=/b.b00\nmodules=/S.V00 --- /k.b00\n", ESXIMG_BOOTCFG_RULE_SECURE_BOOT_NAME,
               2, "'/S.V00' is named 's' in another case");
    expect_one("kernel=/b.b00\nmodules=/s.v00 --- /EFI/s.v01\n",
               ESXIMG_BOOTCFG_RULE_SECURE_BOOT_NAME, 2, "'/EFI/s.v01' is a second module "
               "named 's'");
    expect_one("kernel=/Esxcore.b00\n", ESXIMG_BOOTCFG_RULE_SECURE_BOOT_NAME, 1, "'esxcore'");
    /* the last modules= line is the one mboot loads */
    expect_none("kernel=/b.b00\nmodules=/s.v00 --- /s.v01\nmodules=/s.v00\n");
}

static void bootcfg_check_edit_refuses_only_new_violations(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    char *long_cfg = cfg_with_cmdline(4100);
    struct esximg_bootcfg *after = read_cfg(long_cfg);
    const char *before = "kernel=/b.b00\nkernelopt=runweasel\n";
    assert_int_equal(esximg_bootcfg_check_edit(before, strlen(before), after, "/BOOT.CFG", &err),
                     ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "/BOOT.CFG line 2"));
    assert_non_null(strstr(err.msg, "4100 characters"));
    assert_non_null(strstr(err.msg, "limit is 4096"));
    esximg_bootcfg_free(after);
    /* a file that already broke a rule may be edited elsewhere */
    const char *odd = "kernel=/b.b00\nt=x\nkernelopt=a\n";
    after = read_cfg(odd);
    assert_int_equal(esximg_bootcfg_kernelopt_set(after, "ks", "cdrom:/KS.CFG", &err), 0);
    assert_int_equal(esximg_bootcfg_check_edit(odd, strlen(odd), after, "/BOOT.CFG", &err), 0);
    assert_int_equal(esximg_bootcfg_module_append(after, "/S.V01", NULL, &err), 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_bootcfg_check_edit(odd, strlen(odd), after, "/BOOT.CFG", &err),
                     ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "'/S.V01'"));
    esximg_bootcfg_free(after);
    free(long_cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bootcfg_rewrite_is_identical),
        cmocka_unit_test(bootcfg_keeps_lines_and_spans),
        cmocka_unit_test(bootcfg_warns_like_the_loader),
        cmocka_unit_test(bootcfg_refuses_nul_and_long_lines),
        cmocka_unit_test(bootcfg_modules_split_like_mboot),
        cmocka_unit_test(bootcfg_insert_before_imgdb_keeps_the_rest),
        cmocka_unit_test(bootcfg_insert_follows_pxe_style),
        cmocka_unit_test(bootcfg_remove_module),
        cmocka_unit_test(bootcfg_modules_set_uses_the_file_style),
        cmocka_unit_test(bootcfg_set_keeps_key_spelling_and_place),
        cmocka_unit_test(bootcfg_kernelopt_edits),
        cmocka_unit_test(bootcfg_edit_respects_the_line_limit),
        cmocka_unit_test(bootcfg_loader_accepts_stock_files),
        cmocka_unit_test(bootcfg_loader_kernel_cmdline_limit),
        cmocka_unit_test(bootcfg_loader_module_string_limit),
        cmocka_unit_test(bootcfg_loader_keys_match_as_prefixes),
        cmocka_unit_test(bootcfg_loader_integer_values),
        cmocka_unit_test(bootcfg_loader_inline_comments),
        cmocka_unit_test(bootcfg_loader_secure_boot_names),
        cmocka_unit_test(bootcfg_check_edit_refuses_only_new_violations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
