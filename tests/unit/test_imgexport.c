/* test_imgexport.c: VIBs an image cannot give whole (no descriptor, not in the profile, a
 * payload of a non-module type without a file: left out; a boot-module payload without a
 * file: a broken image), and the content sniffing of esximg diff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/imgdiff.h"
#include "esximg/imgexport.h"
#include "testutil.h"

static const char xml_fmt[] =
    "<vib version=\"5.0\"><type>bootbank</type><name>x</name><version>1-1</version>"
    "<vendor>V</vendor><summary>s</summary><description>d</description>"
    "<release-date>2020-01-01T00:00:00</release-date><urls/><relationships><depends/>"
    "<conflicts/><replaces/><provides/><compatibleWith/></relationships><software-tags/>"
    "<system-requires><maintenance-mode>true</maintenance-mode></system-requires>"
    "<file-list/><acceptance-level>community</acceptance-level>"
    "<live-install-allowed>false</live-install-allowed>"
    "<live-remove-allowed>false</live-remove-allowed><cimom-restart>false</cimom-restart>"
    "<stateless-ready>true</stateless-ready><overlay>false</overlay><payloads>"
    "<payload name=\"p\" type=\"%s\" size=\"3\"><checksum checksum-type=\"sha-256\">"
    "00</checksum></payload></payloads></vib>";

/* An image model without an ISO: one VIB whose payload has type `type` and no file. */
struct fake {
    struct esximg_image img;
    struct esximg_image_vib vib;
    struct esximg_profile_vib entry;
};

static char vib_id[] = "V_bootbank_x_1-1", xml_name[] = "x.xml", other_name[] = "other.xml";

static void fake_init(struct fake *f, const char *type, bool in_profile)
{
    char xml[2048];
    int n = snprintf(xml, sizeof xml, xml_fmt, type);
    assert_true(n > 0 && (size_t)n < sizeof xml);
    memset(f, 0, sizeof *f);
    assert_int_equal(esximg_imgdb_new(&f->img.db, NULL), 0);
    assert_int_equal(esximg_imgdb_put_vib_xml(f->img.db, "x.xml", xml, (size_t)n, NULL), 0);
    assert_int_equal(esximg_descriptor_read(xml, (size_t)n, &f->vib.desc, NULL), 0);
    f->vib.vib_id = vib_id;
    f->vib.xml_file = xml_name;
    f->entry.vib_id = vib_id;
    f->entry.has_payloads = true;
    f->vib.entry = in_profile ? &f->entry : NULL;
    f->img.vib_count = 1;
    f->img.vibs = &f->vib;
}

static void fake_clear(struct fake *f)
{
    esximg_descriptor_free(f->vib.desc);
    esximg_imgdb_free(f->img.db);
}

static void export_other_type_missing_is_skipped(void **state)
{
    (void)state;
    static const char *const types[] = {"boot_loader_efi", "upgrade", "unknown"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct fake f;
        fake_init(&f, types[i], true);
        struct esximg_err err = {0};
        uint8_t *out = NULL;
        size_t len = 0;
        assert_int_equal(esximg_export_vib(&f.img, &f.vib, &out, &len, &err),
                         ESXIMG_ENOTFOUND);
        assert_non_null(strstr(err.msg, "'V_bootbank_x_1-1'"));
        assert_non_null(strstr(err.msg, "payload 'p'"));
        assert_null(out);
        /* the whole export: nothing left, with the VIB named */
        struct esximg_export_result *r = NULL;
        memset(&err, 0, sizeof err);
        assert_int_equal(esximg_image_export(&f.img, NULL, &r, &err), ESXIMG_ENOTFOUND);
        assert_null(r);
        assert_non_null(strstr(err.msg, "no VIB"));
        fake_clear(&f);
    }
}

static void export_module_type_missing_is_broken(void **state)
{
    (void)state;
    static const char *const types[] = {"vgz", "tgz", "installer_vgz", "boot", "vzstd"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct fake f;
        fake_init(&f, types[i], true);
        struct esximg_err err = {0};
        uint8_t *out = NULL;
        size_t len = 0;
        assert_int_equal(esximg_export_vib(&f.img, &f.vib, &out, &len, &err), ESXIMG_EFORMAT);
        assert_non_null(strstr(err.msg, "boot module payload 'p'"));
        struct esximg_export_result *r = NULL;
        assert_int_equal(esximg_image_export(&f.img, NULL, &r, NULL), ESXIMG_EFORMAT);
        assert_null(r);
        fake_clear(&f);
    }
}

static void export_without_descriptor_or_profile(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "vgz", false);
    struct esximg_err err = {0};
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(esximg_export_vib(&f.img, &f.vib, &out, &len, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "not in the profile"));
    f.vib.entry = &f.entry;
    f.vib.xml_file = other_name;   /* the database has no such file */
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_export_vib(&f.img, &f.vib, &out, &len, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "has no descriptor"));
    f.vib.xml_file = NULL;
    assert_int_equal(esximg_export_vib(&f.img, &f.vib, &out, &len, NULL), ESXIMG_ENOTFOUND);
    fake_clear(&f);
}

/* A VIB of one descriptor and no payload, exported from a database holding `xml` (and,
 * when given, .orig and .sig beside it); the rebuilt VIB or the error in err. */
static int export_one(const char *xml, size_t len, const void *orig, size_t orig_len,
                      const void *sig, size_t sig_len, uint8_t **bytes, size_t *n,
                      struct esximg_vib **out, struct esximg_err *err)
{
    struct fake f;
    memset(&f, 0, sizeof f);
    assert_int_equal(esximg_imgdb_new(&f.img.db, NULL), 0);
    assert_int_equal(esximg_imgdb_put_vib_xml(f.img.db, "x.xml", xml, len, NULL), 0);
    if (orig || sig)
        assert_int_equal(esximg_imgdb_put_vib_signature(f.img.db, "x.xml", orig, orig_len, sig,
                                                        sig_len, NULL), 0);
    assert_int_equal(esximg_descriptor_read(xml, len, &f.vib.desc, NULL), 0);
    char *id = esximg_descriptor_vib_id(f.vib.desc);
    assert_non_null(id);
    f.vib.vib_id = id;
    f.vib.xml_file = xml_name;
    f.vib.orig_xml = esximg_imgdb_find_vib_orig(f.img.db, "x.xml");
    f.vib.sig = esximg_imgdb_find_vib_sig(f.img.db, "x.xml");
    f.vib.is_signed = f.vib.sig != NULL;
    f.entry.vib_id = id;
    f.vib.entry = &f.entry;
    *bytes = NULL;
    int rc = esximg_export_vib(&f.img, &f.vib, bytes, n, err);
    if (!rc)   /* the VIB borrows the bytes: the caller frees both */
        assert_int_equal(esximg_vib_read(*bytes, *n, out, NULL), 0);
    free(id);
    fake_clear(&f);
    return rc;
}

/* An unsigned VIB: the database's descriptor verbatim (host-only elements too), an empty
 * sig.pkcs7. */
static void export_unsigned_verbatim(void **state)
{
    (void)state;
    char xml[2048];
    int n = snprintf(xml, sizeof xml, xml_fmt, "vgz");
    assert_true(n > 0 && (size_t)n < sizeof xml);
    char *pl = strstr(xml, "<payloads>");
    assert_non_null(pl);
    static const char tail[] = "<payloads/><installdate>2020-01-01</installdate></vib>";
    memcpy(pl, tail, sizeof tail);
    size_t len = strlen(xml);
    struct esximg_vib *v = NULL;
    struct esximg_err err = {0};
    uint8_t *bytes;
    size_t n_bytes;
    if (export_one(xml, len, NULL, 0, NULL, 0, &bytes, &n_bytes, &v, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(v->descriptor_len, len);
    assert_memory_equal(v->descriptor_bytes, xml, len);
    assert_int_equal(v->sig_len, 0);
    esximg_vib_free(v);
    free(bytes);
}

/* A .sig that does not sign the descriptor would make a VIB esxcli refuses: no VIB. */
static void export_refuses_a_signature_that_does_not_sign(void **state)
{
    (void)state;
    char xml[2048];
    int n = snprintf(xml, sizeof xml, xml_fmt, "vgz");
    assert_true(n > 0 && (size_t)n < sizeof xml);
    char *pl = strstr(xml, "<payloads>");
    memcpy(pl, "<payloads/></vib>", sizeof "<payloads/></vib>");
    struct esximg_vib *v = NULL;
    struct esximg_err err = {0};
    uint8_t *bytes;
    size_t n_bytes;
    assert_int_equal(export_one(xml, strlen(xml), xml, strlen(xml), "SIG", 3, &bytes, &n_bytes,
                                &v, &err), ESXIMG_EFORMAT);
    assert_null(v);
    assert_null(bytes);
    assert_non_null(strstr(err.msg, "vibs/x.xml.sig does not sign"));
}

static void sniff_write(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void diff_sniff_by_content(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[4096];
    snprintf(path, sizeof path, "%s/f", dir);
    size_t n = 32769 + 5;
    unsigned char *buf = calloc(1, n + 1);
    assert_non_null(buf);
    enum esximg_diff_source s;
    struct esximg_err err = {0};

    memcpy(buf + 32769, "CD001", 5);
    sniff_write(path, buf, n);
    assert_int_equal(esximg_diff_sniff(path, &s, NULL), 0);
    assert_int_equal(s, ESXIMG_DIFF_IMAGE);
    sniff_write(path, buf, n - 1);              /* truncated inside the magic */
    assert_int_equal(esximg_diff_sniff(path, &s, &err), ESXIMG_EFORMAT);
    assert_string_equal(err.file, path);
    memset(buf, 0, n);
    memcpy(buf + 32768, "CD001", 5);            /* one byte off */
    sniff_write(path, buf, n);
    assert_int_equal(esximg_diff_sniff(path, &s, NULL), ESXIMG_EFORMAT);
    sniff_write(path, "PK\3\4", 4);
    assert_int_equal(esximg_diff_sniff(path, &s, NULL), 0);
    assert_int_equal(s, ESXIMG_DIFF_BUNDLE);
    sniff_write(path, "PK\5\6", 4);             /* an empty zip holds no VIB: not a bundle */
    assert_int_equal(esximg_diff_sniff(path, &s, NULL), ESXIMG_EFORMAT);
    sniff_write(path, "", 0);
    assert_int_equal(esximg_diff_sniff(path, &s, NULL), ESXIMG_EFORMAT);
    snprintf(path, sizeof path, "%s/absent", dir);
    assert_int_equal(esximg_diff_sniff(path, &s, NULL), ESXIMG_EIO);

    struct esximg_diff *d = NULL;
    memset(&err, 0, sizeof err);
    assert_int_not_equal(esximg_diff_files(path, path, &d, &err), 0);
    assert_null(d);
    assert_string_equal(err.file, path);
    assert_string_equal(esximg_diff_kind_name(ESXIMG_DIFF_MODULE_REMOVED), "module_removed");
    assert_string_equal(esximg_diff_kind_name((enum esximg_diff_kind)99), "unknown");
    free(buf);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_other_type_missing_is_skipped),
        cmocka_unit_test(export_module_type_missing_is_broken),
        cmocka_unit_test(export_without_descriptor_or_profile),
        cmocka_unit_test(export_unsigned_verbatim),
        cmocka_unit_test(export_refuses_a_signature_that_does_not_sign),
        cmocka_unit_test(diff_sniff_by_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
