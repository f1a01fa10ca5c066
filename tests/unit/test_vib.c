/* test_vib.c: the VIB ar container in its three dialects, member order, writing, verifying
 * and extracting, on archives built here byte by byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/vib.h"
#include "testutil.h"

#define DESC_HEAD "<vib version=\"5.0\"><type>bootbank</type><name>t</name>" \
                  "<version>1.0-1</version><vendor>ACME</vendor>"

/* An ar archive under construction. */
struct ar {
    struct esx_buf b;
};

static void ar_start(struct ar *a)
{
    esx_buf_init(&a->b, 0);
    assert_int_equal(esx_buf_append(&a->b, "!<arch>\n", 8, NULL), 0);
}

/* One member with every header field given as text (NULL size: the data length). */
static void ar_member_raw(struct ar *a, const char *name, const char *mtime, const char *mode,
                          const char *size, const void *data, size_t len, bool pad)
{
    char sizebuf[32];
    if (!size) {
        snprintf(sizebuf, sizeof sizebuf, "%zu", len);
        size = sizebuf;
    }
    assert_int_equal(esx_buf_printf(&a->b, NULL, "%-16.16s%-12.12s%-6.6s%-6.6s%-8.8s%-10.10s`\n",
                                    name, mtime, mtime[0] ? "0" : "", mtime[0] ? "0" : "", mode,
                                    size), 0);
    assert_int_equal(esx_buf_append(&a->b, data, len, NULL), 0);
    if (pad && (len & 1))
        assert_int_equal(esx_buf_append(&a->b, "\n", 1, NULL), 0);
}

static void ar_member(struct ar *a, const char *name, const char *data)
{
    ar_member_raw(a, name, "0", "0", NULL, data, strlen(data), true);
}

static const char desc_one[] = DESC_HEAD "<payloads><payload name=\"p1\" type=\"vgz\" size=\"5\">"
                               "</payload></payloads></vib>";

static int vib_try(const struct ar *a, struct esximg_vib **v, struct esximg_err *err)
{
    *v = NULL;
    return esximg_vib_read(a->b.data, a->b.len, v, err);
}

static void vib_expect_fail(struct ar *a, int code, const char *msg_part)
{
    struct esximg_vib *v;
    struct esximg_err err = {0};
    int rc = vib_try(a, &v, &err);
    if (rc != code)
        fail_msg("expected code %d, got %d (%s)", code, rc, err.msg);
    assert_null(v);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
    esx_buf_free(&a->b);
}

static struct esximg_vib *vib_expect_ok(struct ar *a)
{
    struct esximg_vib *v;
    struct esximg_err err = {0};
    if (vib_try(a, &v, &err))
        fail_msg("VIB refused: %s", err.msg);
    return v;
}

static void vib_reads_vmware_dialect(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "sig.pkcs7", "");
    ar_member(&a, "p1", "hello");
    struct esximg_vib *v = vib_expect_ok(&a);
    assert_int_equal(v->dialect, ESXIMG_AR_VMWARE);
    assert_int_equal(v->member_count, 3);
    assert_string_equal(v->members[2].name, "p1");
    assert_int_equal(v->descriptor_len, strlen(desc_one));
    assert_memory_equal(v->descriptor_bytes, desc_one, strlen(desc_one));
    assert_int_equal(v->sig_len, 0);
    size_t len;
    const uint8_t *p = esximg_vib_member_data(v, "p1", &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "hello", 5);
    assert_null(esximg_vib_member_data(v, "p2", &len));
    assert_string_equal(v->desc->name, "t");
    esximg_vib_free(v);
    esximg_vib_free(NULL);
    esx_buf_free(&a.b);
}

static void vib_reads_0o0_dialect(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member_raw(&a, "descriptor.xml", "0", "0o0", NULL, desc_one, strlen(desc_one), true);
    ar_member_raw(&a, "sig.pkcs7", "0", "0o0", NULL, "", 0, true);
    ar_member_raw(&a, "p1", "0", "0o0", NULL, "hello", 5, true);
    struct esximg_vib *v = vib_expect_ok(&a);
    assert_int_equal(v->dialect, ESXIMG_AR_VMWARE_0O0);
    esximg_vib_free(v);
    esx_buf_free(&a.b);
}

static void vib_reads_gnu_dialect(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member_raw(&a, "descriptor.xml/", "1430509195", "100644", NULL, desc_one,
                  strlen(desc_one), true);
    ar_member_raw(&a, "sig.pkcs7/", "1430509095", "644", NULL, "", 0, true);
    ar_member_raw(&a, "p1/", "1430506184", "100000", NULL, "hello", 5, true);
    struct esximg_vib *v = vib_expect_ok(&a);
    assert_int_equal(v->dialect, ESXIMG_AR_GNU);
    assert_string_equal(v->members[0].name, "descriptor.xml");
    assert_string_equal(v->members[2].name, "p1");
    esximg_vib_free(v);
    esx_buf_free(&a.b);
}

static void vib_reads_gnu_long_names(void **state)
{
    (void)state;
    static const char table[] = "descriptor.xml/\na-long-payload-name/\n";
    char desc[512];
    snprintf(desc, sizeof desc, DESC_HEAD "<payloads><payload name=\"a-long-payload-name\" "
             "type=\"tgz\"></payload></payloads></vib>");
    struct ar a;
    ar_start(&a);
    ar_member_raw(&a, "//", "", "", NULL, table, strlen(table), true);
    ar_member_raw(&a, "/0", "0", "644", NULL, desc, strlen(desc), true);
    ar_member_raw(&a, "sig.pkcs7/", "0", "644", NULL, "", 0, true);
    ar_member_raw(&a, "/16", "0", "644", NULL, "xyz", 3, true);
    struct esximg_vib *v = vib_expect_ok(&a);
    assert_int_equal(v->dialect, ESXIMG_AR_GNU);
    assert_int_equal(v->member_count, 3);
    assert_string_equal(v->members[2].name, "a-long-payload-name");
    esximg_vib_free(v);
    esx_buf_free(&a.b);

    /* a reference past the table, and one without a table */
    ar_start(&a);
    ar_member_raw(&a, "//", "", "", NULL, table, strlen(table), true);
    ar_member_raw(&a, "/999", "0", "644", NULL, desc, strlen(desc), true);
    vib_expect_fail(&a, ESXIMG_EFORMAT, "long name");
    ar_start(&a);
    ar_member_raw(&a, "/0", "0", "644", NULL, desc, strlen(desc), true);
    vib_expect_fail(&a, ESXIMG_EFORMAT, "no '//'");
}

static void vib_pads_odd_sizes(void **state)
{
    (void)state;
    /* odd descriptor and payload: the pad byte is skipped; the last pad may be missing */
    char desc[512];
    snprintf(desc, sizeof desc, "%s ", desc_one);
    if (strlen(desc) % 2 == 0)
        strcat(desc, " ");
    assert_int_equal(strlen(desc) % 2, 1);
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc);
    ar_member(&a, "sig.pkcs7", "");
    ar_member_raw(&a, "p1", "0", "0", NULL, "hello", 5, false);
    struct esximg_vib *v = vib_expect_ok(&a);
    assert_int_equal(v->members[0].size, strlen(desc));
    assert_int_equal(v->members[1].offset, 8 + 60 + strlen(desc) + 1 + 60);
    assert_int_equal(v->members[2].size, 5);
    esximg_vib_free(v);
    esx_buf_free(&a.b);
}

static void vib_refuses_truncated_global_header(void **state)
{
    (void)state;
    struct esximg_vib *v = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vib_read("!<ar", 4, &v, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "not an ar archive"));
    assert_int_equal(esximg_vib_read("", 0, &v, &err), ESXIMG_EFORMAT);
    assert_int_equal(esximg_vib_read("!<arch>\n", 8, &v, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "no members"));
    assert_null(v);
}

static void vib_refuses_truncated_member_header(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    a.b.len -= strlen(desc_one) + 20;     /* cut inside the header */
    vib_expect_fail(&a, ESXIMG_EFORMAT, "truncated");
}

static void vib_refuses_size_past_end(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "sig.pkcs7", "");
    ar_member_raw(&a, "p1", "0", "0", "6", "hello", 5, false);
    vib_expect_fail(&a, ESXIMG_EFORMAT, "past the end");
}

static void vib_refuses_bad_size_fields(void **state)
{
    (void)state;
    static const char *const sizes[] = { "12a", "-1", "9999999999", "", " 1 2", "0x10" };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct ar a;
        ar_start(&a);
        ar_member_raw(&a, "descriptor.xml", "0", "0", sizes[i], desc_one, strlen(desc_one),
                      true);
        vib_expect_fail(&a, ESXIMG_EFORMAT, NULL);
    }
}

static void vib_refuses_bad_other_fields(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member_raw(&a, "descriptor.xml", "1x", "0", NULL, desc_one, strlen(desc_one), true);
    vib_expect_fail(&a, ESXIMG_EFORMAT, "mtime");
    ar_start(&a);
    ar_member_raw(&a, "descriptor.xml", "0", "0o9", NULL, desc_one, strlen(desc_one), true);
    vib_expect_fail(&a, ESXIMG_EFORMAT, "mode");
    ar_start(&a);
    ar_member_raw(&a, "descriptor.xml", "0", "0", NULL, desc_one, strlen(desc_one), true);
    a.b.data[8 + 58] = 'x';     /* the "`\n" magic */
    vib_expect_fail(&a, ESXIMG_EFORMAT, "magic");
    ar_start(&a);
    ar_member_raw(&a, "descriptor.xml", "0", "0", NULL, desc_one, strlen(desc_one), true);
    a.b.data[8 + 3] = '\0';     /* a NUL in the name */
    vib_expect_fail(&a, ESXIMG_EFORMAT, "NUL");
    ar_start(&a);
    ar_member(&a, "                ", "x");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "empty name");
}

static void vib_refuses_missing_descriptor(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "sig.pkcs7", "");
    ar_member(&a, "p1", "hello");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "first member is 'sig.pkcs7'");
}

static void vib_refuses_wrong_order(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "p1", "hello");
    ar_member(&a, "sig.pkcs7", "");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "second member is 'p1'");
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    vib_expect_fail(&a, ESXIMG_EFORMAT, "no 'sig.pkcs7'");
}

static void vib_refuses_missing_payload_member(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "sig.pkcs7", "");
    ar_member(&a, "p2", "hello");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "payload 'p1' has no member");
}

static void vib_refusal_names_the_unexpected_member(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "sig.pkcs7", "");
    ar_member(&a, "payload1", "hello");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "payload 'p1' has no member in the archive (it has "
                    "member 'payload1', which is not a payload of the descriptor)");
}

/* keep_missing: the VIB reads, each disagreement a problem, payloads first */
static void vib_keep_missing_lists_problems(void **state)
{
    (void)state;
    static const char desc_two[] = DESC_HEAD "<payloads>"
        "<payload name=\"p1\" type=\"vgz\" size=\"5\"></payload>"
        "<payload name=\"p2\" type=\"vgz\" size=\"3\"></payload></payloads></vib>";
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_two);
    ar_member(&a, "sig.pkcs7", "");
    ar_member(&a, "extra", "x");
    ar_member(&a, "p2", "four");
    const struct esximg_vib_ropts keep = { .keep_missing = true };
    struct esximg_vib *v = NULL;
    struct esximg_err err = {0};
    if (esximg_vib_read_opts(a.b.data, a.b.len, &keep, &v, &err))
        fail_msg("refused: %s", err.msg);
    assert_int_equal(v->problem_count, 3);
    assert_int_equal(v->problems[0].kind, ESXIMG_VIB_PROBLEM_MISSING);
    assert_string_equal(v->problems[0].member, "p1");
    assert_string_equal(v->problems[0].msg, "payload 'p1' has no member in the archive");
    assert_int_equal(v->problems[1].kind, ESXIMG_VIB_PROBLEM_SIZE);
    assert_string_equal(v->problems[1].expected, "3");
    assert_string_equal(v->problems[1].actual, "4");
    assert_int_equal(v->problems[2].kind, ESXIMG_VIB_PROBLEM_UNEXPECTED);
    assert_string_equal(v->problems[2].member, "extra");
    assert_string_equal(esximg_vib_problem_name(v->problems[2].kind), "unexpected");
    /* verify: a failed member check for p1 and for extra (which, the one unnamed member,
     * is also checked as p1), and p2's size */
    struct esximg_vib_verify_result *r = NULL;
    assert_int_equal(esximg_vib_verify(v, NULL, &r, &err), 0);
    assert_false(r->all_ok);
    bool missing_seen = false, extra_seen = false;
    for (size_t i = 0; i < r->check_count; i++) {
        const struct esximg_vib_check *c = &r->checks[i];
        if (!strcmp(c->payload, "p1") && !strcmp(c->what, "member"))
            missing_seen = !c->ok && !c->expected;
        if (!strcmp(c->payload, "extra") && !strcmp(c->what, "member"))
            extra_seen = !c->ok;
    }
    assert_true(missing_seen);
    assert_true(extra_seen);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    /* the strict read refuses the same bytes */
    assert_int_equal(esximg_vib_read(a.b.data, a.b.len, &v, &err), ESXIMG_EFORMAT);
    esx_buf_free(&a.b);
}

static void vib_refuses_duplicate_member(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "sig.pkcs7", "");
    ar_member(&a, "p1", "hello");
    ar_member(&a, "p1", "again");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "twice");
}

static void vib_refuses_debian_binary(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "debian-binary", "2.0\n");
    ar_member(&a, "control.tar.gz", "x");
    vib_expect_fail(&a, ESXIMG_EUNSUPPORTED, "ESX 4.x");
}

static void vib_refuses_bad_descriptor(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", "<vib><name>x</name>");
    ar_member(&a, "sig.pkcs7", "");
    vib_expect_fail(&a, ESXIMG_EFORMAT, "descriptor.xml: ");
}

static void vib_refuses_too_many_members(void **state)
{
    (void)state;
    struct ar a;
    ar_start(&a);
    ar_member(&a, "descriptor.xml", desc_one);
    ar_member(&a, "sig.pkcs7", "");
    for (unsigned i = 0; i < ESX_MAX_AR_MEMBERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%u", i);
        ar_member(&a, name, "");
    }
    vib_expect_fail(&a, ESXIMG_ELIMIT, "more than");
}

/* A VIB from our writer with a gzip payload and real checksums. */
static void make_vib(uint8_t **vib, size_t *vib_len, bool odd_sig, const char *extra_sums)
{
    /* a vgz payload: the first block carries the vmtar magic, which the reader sniffs */
    char content[1024];
    memset(content, 0, sizeof content);
    snprintf(content, 100, "payload content, decompressed; payload content again");
    memcpy(content + 257, "visor  ", 8);
    for (size_t i = 512; i < sizeof content; i++)   /* data that does not compress away */
        content[i] = (char)((i * 2654435761u) >> 13);
    uint8_t *gz;
    size_t gz_len;
    assert_int_equal(esx_gzip((const uint8_t *)content, sizeof content, 9, &gz, &gz_len,
                              NULL), 0);
    char stored256[65], full256[65], full1[65];
    assert_int_equal(esx_digest_hex(ESX_SHA256, gz, gz_len, stored256, NULL), 0);
    assert_int_equal(esx_digest_hex(ESX_SHA256, content, sizeof content, full256, NULL), 0);
    assert_int_equal(esx_digest_hex(ESX_SHA1, content, sizeof content, full1, NULL), 0);
    char desc[2048];
    snprintf(desc, sizeof desc, DESC_HEAD "<payloads><payload name=\"pay\" type=\"vgz\" "
             "size=\"%zu\"><checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">%s"
             "</checksum><checksum checksum-type=\"sha-256\">%s</checksum>"
             "<checksum checksum-type=\"sha-1\" verify-process=\"gunzip\">%s</checksum>%s"
             "</payload></payloads></vib>", gz_len, full256, stored256, full1,
             extra_sums ? extra_sums : "");
    struct esximg_vib_wmember m = { "pay", gz, gz_len };
    assert_int_equal(esximg_vib_write(desc, strlen(desc), odd_sig ? "abc" : "", odd_sig ? 3 : 0,
                                      &m, 1, vib, vib_len, NULL), 0);
    free(gz);
}

static void vib_write_read_round_trip(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, true, NULL);
    assert_memory_equal(bytes, "!<arch>\ndescriptor.xml  0           0     0     0       ", 56);
    struct esximg_vib *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vib_read(bytes, len, &v, &err), 0);
    assert_int_equal(v->dialect, ESXIMG_AR_VMWARE);
    assert_int_equal(v->sig_len, 3);
    assert_memory_equal(v->sig, "abc", 3);
    /* re-write from the parsed members: the same bytes */
    size_t pay_len;
    const uint8_t *pay = esximg_vib_member_data(v, "pay", &pay_len);
    struct esximg_vib_wmember m = { "pay", pay, pay_len };
    uint8_t *again;
    size_t again_len;
    assert_int_equal(esximg_vib_write(v->descriptor_bytes, v->descriptor_len, v->sig,
                                      v->sig_len, &m, 1, &again, &again_len, &err), 0);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, bytes, len);
    free(again);
    esximg_vib_free(v);
    free(bytes);
}

static void vib_write_is_deterministic_and_strict(void **state)
{
    (void)state;
    uint8_t *a, *b;
    size_t alen, blen;
    make_vib(&a, &alen, false, NULL);
    make_vib(&b, &blen, false, NULL);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    struct esximg_err err = {0};
    uint8_t *out = NULL;
    size_t out_len;
    struct esximg_vib_wmember long_name = { "sixteen-chars-xx", "x", 1 };
    assert_int_equal(esximg_vib_write("d", 1, NULL, 0, &long_name, 1, &out, &out_len, &err),
                     ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "longer than 15"));
    struct esximg_vib_wmember slash = { "a/b", "x", 1 };
    assert_int_equal(esximg_vib_write("d", 1, NULL, 0, &slash, 1, &out, &out_len, &err),
                     ESXIMG_EINVAL);
    struct esximg_vib_wmember twice[2] = { { "a", "x", 1 }, { "a", "y", 1 } };
    assert_int_equal(esximg_vib_write("d", 1, NULL, 0, twice, 2, &out, &out_len, &err),
                     ESXIMG_EINVAL);
    struct esximg_vib_wmember reserved = { "sig.pkcs7", "x", 1 };
    assert_int_equal(esximg_vib_write("d", 1, NULL, 0, &reserved, 1, &out, &out_len, &err),
                     ESXIMG_EINVAL);
    struct esximg_vib_wmember fifteen = { "fifteen-chars-x", "x", 1 };
    assert_int_equal(esximg_vib_write("d", 1, NULL, 0, &fifteen, 1, &out, &out_len, &err), 0);
    assert_memory_equal(out + 8 + 60 + 2 + 60 + 0, "fifteen-chars-x 0 ", 18);
    free(out);
}

static struct esximg_vib_verify_result *verify_bytes(uint8_t *bytes, size_t len,
                                                     struct esximg_vib **vout)
{
    struct esximg_vib *v;
    struct esximg_err err = {0};
    if (esximg_vib_read(bytes, len, &v, &err))
        fail_msg("read: %s", err.msg);
    struct esximg_vib_verify_result *r;
    if (esximg_vib_verify(v, NULL, &r, &err))
        fail_msg("verify: %s", err.msg);
    *vout = v;
    return r;
}

static void vib_verify_good_payload(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, false, NULL);
    struct esximg_vib *v;
    struct esximg_vib_verify_result *r = verify_bytes(bytes, len, &v);
    assert_true(r->all_ok);
    assert_int_equal(r->check_count, 4);
    assert_string_equal(r->checks[0].what, "size");
    assert_string_equal(r->checks[1].what, "sha-256 (gunzip)");
    assert_string_equal(r->checks[2].what, "sha-256");
    assert_string_equal(r->checks[3].what, "sha-1 (gunzip)");
    for (size_t i = 0; i < r->check_count; i++)
        assert_true(r->checks[i].ok);
    assert_false(r->signed_vib);
    assert_null(r->signer);
    esximg_vib_verify_result_free(r);
    esximg_vib_verify_result_free(NULL);
    esximg_vib_free(v);
    free(bytes);
}

static void vib_verify_detects_flipped_byte(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, false, NULL);
    bytes[len - 12] ^= 0x40;    /* inside the deflate data of the last member */
    struct esximg_vib *v;
    struct esximg_vib_verify_result *r = verify_bytes(bytes, len, &v);
    assert_false(r->all_ok);
    assert_true(r->checks[0].ok);       /* size still matches */
    assert_false(r->checks[2].ok);      /* stored sha-256 */
    assert_false(r->checks[2].skipped);
    assert_false(r->checks[1].ok);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    free(bytes);
}

/* The payload re-packed under another name: its bytes are checked against the payload. */
static void vib_verify_checks_a_renamed_payload(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, false, NULL);
    /* "pay" -> "pa2": the same length, so the ar stays whole */
    uint8_t *name = memmem(bytes + 8 + 60, len - 8 - 60, "pay             0", 17);
    assert_non_null(name);
    name[2] = '2';
    const struct esximg_vib_ropts keep = { .keep_missing = true };
    struct esximg_vib *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vib_read_opts(bytes, len, &keep, &v, &err), 0);
    assert_int_equal(v->problem_count, 2);
    struct esximg_vib_verify_result *r;
    assert_int_equal(esximg_vib_verify(v, NULL, &r, &err), 0);
    /* pay: member; pay as member 'pa2': size and three sums; pa2: member */
    assert_int_equal(r->check_count, 6);
    assert_string_equal(r->checks[0].what, "member");
    assert_false(r->checks[0].ok);
    for (size_t i = 1; i < 5; i++) {
        assert_string_equal(r->checks[i].payload, "pay as member 'pa2'");
        assert_true(r->checks[i].ok);
    }
    assert_string_equal(r->checks[5].payload, "pa2");
    assert_false(r->checks[5].ok);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    free(bytes);
}

/* A vgz payload that is a gzip'd GNU tar: every sum matches, the format check fails. */
static void vib_verify_fails_a_tar_declared_vgz(void **state)
{
    (void)state;
    uint8_t block[1024];
    memset(block, 0, sizeof block);
    memcpy(block, "file", 4);
    memcpy(block + 257, "ustar  ", 8);
    uint8_t *gz;
    size_t gz_len;
    assert_int_equal(esx_gzip(block, sizeof block, 9, &gz, &gz_len, NULL), 0);
    char desc[512];
    snprintf(desc, sizeof desc, DESC_HEAD "<payloads><payload name=\"p\" type=\"vgz\" "
             "size=\"%zu\"></payload><payload name=\"q\" type=\"tgz\" size=\"%zu\">"
             "</payload></payloads></vib>", gz_len, gz_len);
    const struct esximg_vib_wmember m[2] = { { "p", gz, gz_len }, { "q", gz, gz_len } };
    uint8_t *vib;
    size_t len;
    assert_int_equal(esximg_vib_write(desc, strlen(desc), "", 0, m, 2, &vib, &len, NULL), 0);
    struct esximg_vib *v;
    struct esximg_vib_verify_result *r = verify_bytes(vib, len, &v);
    assert_int_equal(v->problem_count, 0);
    /* p: size, format; q (a tgz may be a GNU tar): size */
    assert_int_equal(r->check_count, 3);
    assert_string_equal(r->checks[1].what, "format");
    assert_false(r->checks[1].ok);
    assert_string_equal(r->checks[1].expected, "gzip'd vmtar");
    assert_string_equal(r->checks[1].actual, "gzip'd GNU tar");
    assert_string_equal(r->checks[2].payload, "q");
    assert_true(r->checks[2].ok);
    assert_false(r->all_ok);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    free(vib);
    free(gz);
}

static void vib_verify_reports_size_and_unknown_types(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, false, "<checksum checksum-type=\"md5\">00</checksum>"
             "<checksum checksum-type=\"sha-256\" verify-process=\"txt-mle\">00</checksum>");
    struct esximg_vib *v;
    struct esximg_vib_verify_result *r = verify_bytes(bytes, len, &v);
    assert_false(r->all_ok);
    assert_int_equal(r->check_count, 6);
    assert_true(r->checks[4].skipped);
    assert_true(r->checks[5].skipped);
    assert_true(r->checks[3].ok);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    free(bytes);

    /* a size attribute that does not match the member */
    char desc[] = DESC_HEAD "<payloads><payload name=\"p1\" type=\"vgz\" size=\"6\">"
                  "<checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">00</checksum>"
                  "</payload></payloads></vib>";
    struct esximg_vib_wmember m = { "p1", "hello", 5 };
    assert_int_equal(esximg_vib_write(desc, strlen(desc), NULL, 0, &m, 1, &bytes, &len, NULL), 0);
    r = verify_bytes(bytes, len, &v);
    assert_false(r->all_ok);
    assert_false(r->checks[0].ok);
    assert_string_equal(r->checks[0].expected, "6");
    assert_string_equal(r->checks[0].actual, "5");
    /* not gzip: a failed check with the reason, not an error */
    assert_false(r->checks[1].ok);
    assert_false(r->checks[1].skipped);
    assert_non_null(strstr(r->checks[1].actual, "not gzip"));
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    free(bytes);
}

static void vib_verify_reports_bad_signature(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, true, NULL);
    struct esximg_vib *v;
    struct esximg_vib_verify_result *r = verify_bytes(bytes, len, &v);
    assert_true(r->signed_vib);
    assert_null(r->signer);
    assert_non_null(r->signature_error);
    assert_false(r->signature_checked);
    char *signer = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vib_signer(v, &signer, &err), ESXIMG_EFORMAT);
    esximg_vib_verify_result_free(r);
    /* a CA file that cannot be read is an error of the call */
    struct esximg_vib_verify_opts o = { .ca_file = "/nonexistent/ca.pem" };
    r = NULL;
    assert_int_equal(esximg_vib_verify(v, &o, &r, &err), ESXIMG_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err.msg, "CA bundle"));
    esximg_vib_free(v);
    free(bytes);
}

static void vib_extract_writes_members(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    make_vib(&bytes, &len, false, NULL);
    struct esximg_vib *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vib_read(bytes, len, &v, &err), 0);
    char *dir = tu_mkdtemp();
    assert_int_equal(esximg_vib_extract(v, dir, false, &err), 0);
    char *path = esx_path_join(dir, "pay");
    uint8_t *data;
    size_t data_len;
    tu_read_file(path, &data, &data_len);
    size_t pay_len;
    const uint8_t *pay = esximg_vib_member_data(v, "pay", &pay_len);
    assert_int_equal(data_len, pay_len);
    assert_memory_equal(data, pay, pay_len);
    free(data);
    /* existing files: refused, then replaced with overwrite */
    assert_int_equal(esximg_vib_extract(v, dir, false, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.file, "descriptor.xml"));
    esximg_err_clear(&err);
    assert_int_equal(esximg_vib_extract(v, dir, true, &err), 0);
    free(path);
    tu_rmtree(dir);
    free(dir);
    esximg_vib_free(v);
    free(bytes);
}

static void vib_extract_refuses_escaping_names(void **state)
{
    (void)state;
    /* "/etc/x" only fits through a GNU long-name table */
    static const char *const bad[] = { "../x", "/0", "a/b", "..", "." };
    static const char table[] = "/etc/passwd/\n";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ar a;
        ar_start(&a);
        ar_member_raw(&a, "//", "", "", NULL, table, strlen(table), true);
        ar_member(&a, "descriptor.xml", desc_one);
        ar_member(&a, "sig.pkcs7", "");
        ar_member(&a, "p1", "hello");
        ar_member(&a, bad[i], "evil");
        struct esximg_vib *v = vib_expect_ok(&a);
        char *dir = tu_mkdtemp();
        struct esximg_err err = {0};
        assert_int_equal(esximg_vib_extract(v, dir, false, &err), ESXIMG_EUNSAFE);
        /* nothing was written, not even the good members */
        char *path = esx_path_join(dir, "descriptor.xml");
        struct stat st;
        assert_int_not_equal(lstat(path, &st), 0);
        free(path);
        tu_rmtree(dir);
        free(dir);
        esximg_vib_free(v);
        esx_buf_free(&a.b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vib_reads_vmware_dialect),
        cmocka_unit_test(vib_reads_0o0_dialect),
        cmocka_unit_test(vib_reads_gnu_dialect),
        cmocka_unit_test(vib_reads_gnu_long_names),
        cmocka_unit_test(vib_pads_odd_sizes),
        cmocka_unit_test(vib_refuses_truncated_global_header),
        cmocka_unit_test(vib_refuses_truncated_member_header),
        cmocka_unit_test(vib_refuses_size_past_end),
        cmocka_unit_test(vib_refuses_bad_size_fields),
        cmocka_unit_test(vib_refuses_bad_other_fields),
        cmocka_unit_test(vib_refuses_missing_descriptor),
        cmocka_unit_test(vib_refuses_wrong_order),
        cmocka_unit_test(vib_refuses_missing_payload_member),
        cmocka_unit_test(vib_refusal_names_the_unexpected_member),
        cmocka_unit_test(vib_keep_missing_lists_problems),
        cmocka_unit_test(vib_refuses_duplicate_member),
        cmocka_unit_test(vib_refuses_debian_binary),
        cmocka_unit_test(vib_refuses_bad_descriptor),
        cmocka_unit_test(vib_refuses_too_many_members),
        cmocka_unit_test(vib_write_read_round_trip),
        cmocka_unit_test(vib_write_is_deterministic_and_strict),
        cmocka_unit_test(vib_verify_good_payload),
        cmocka_unit_test(vib_verify_detects_flipped_byte),
        cmocka_unit_test(vib_verify_checks_a_renamed_payload),
        cmocka_unit_test(vib_verify_fails_a_tar_declared_vgz),
        cmocka_unit_test(vib_verify_reports_size_and_unknown_types),
        cmocka_unit_test(vib_verify_reports_bad_signature),
        cmocka_unit_test(vib_extract_writes_members),
        cmocka_unit_test(vib_extract_refuses_escaping_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
