/* test_imgexport.c: VIBs an image cannot give whole (no descriptor, not in the profile, a
 * payload of a non-module type without a file: left out; a boot-module payload without a
 * file: a broken image), and the content sniffing of esximg diff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "esximg/image.h"
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

/* An image exported to a file, its VIBs waiting in a work folder: the bytes of the bundle
 * built in memory, the work folder left empty. */
static void export_file_is_the_same(void **state)
{
    (void)state;
    if (!tu_have_image_tools())
        skip();
    char *dir = tu_mkdtemp(), *iso = tu_path_join(dir, "e.iso"), *zip = tu_path_join(dir, "x.zip");
    char *work = tu_path_join(dir, "work");
    if (!tu_make_esx_iso("7.0", "", iso)) {
        tu_rmtree(dir);
        skip();
    }
    assert_int_equal(mkdir(work, 0700), 0);
    struct esximg_image *img = NULL;
    struct esximg_export_result *mem = NULL, *file = NULL;
    struct esximg_err err = {0};
    const struct esximg_export_opts o = {.mtime = TU_GEN_EPOCH};
    assert_int_equal(esximg_image_open(iso, NULL, &img, &err), 0);
    assert_int_equal(esximg_image_export(img, &o, &mem, &err), 0);
    assert_int_equal(esximg_image_export_file(img, &o, zip, work, &file, &err), 0);
    assert_null(file->zip);
    assert_int_equal(file->vib_count, mem->vib_count);
    assert_true(mem->vib_count > 1);
    uint8_t *written = NULL;
    size_t written_len = 0;
    tu_read_file(zip, &written, &written_len);
    assert_int_equal(written_len, mem->zip_len);
    assert_memory_equal(written, mem->zip, written_len);
    assert_int_equal(tu_count_files(work), 0);
    free(written);
    esximg_export_result_free(mem);
    esximg_export_result_free(file);
    esximg_image_free(img);
    tu_rmtree(dir);
    free(dir);
    free(iso);
    free(zip);
    free(work);
}

static void export_other_type_missing_is_skipped(void **state)
{
    (void)state;
    static const char *const types[] = {"boot_loader_efi", "upgrade", "unknown",
                                        "boot_iso_bios"};
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

/* ---- the BIOS boot image (boot_iso_bios) of an ISO written with -boot-info-table ---- */

#define BIOS_LEN 6144u
#define DEBIAN_ISOLINUX "/usr/lib/ISOLINUX/isolinux.bin"

static const char bios_xml_fmt[] =
    "<vib version=\"5.0\"><type>bootbank</type><name>x</name><version>1-1</version>"
    "<vendor>V</vendor><summary>s</summary><description>d</description>"
    "<release-date>2020-01-01T00:00:00</release-date><urls/><relationships><depends/>"
    "<conflicts/><replaces/><provides/><compatibleWith/></relationships><software-tags/>"
    "<system-requires><maintenance-mode>true</maintenance-mode></system-requires>"
    "<file-list/><acceptance-level>community</acceptance-level>"
    "<live-install-allowed>false</live-install-allowed>"
    "<live-remove-allowed>false</live-remove-allowed><cimom-restart>false</cimom-restart>"
    "<stateless-ready>true</stateless-ready><overlay>false</overlay><payloads>"
    "<payload name=\"isolinux.bin\" type=\"boot_iso_bios\" size=\"%zu\">"
    "<checksum checksum-type=\"sha-256\">%s</checksum></payload></payloads></vib>";

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The 32-bit sum of bytes 64.. taken a byte at a time (not the library's word loop). */
static uint32_t bytewise_sum(const uint8_t *b, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 64; i < len; i++)
        sum += (uint32_t)b[i] << (8 * ((i - 64) % 4));
    return sum;
}

enum bios_form { FORM_ASM, FORM_CHECKSUMISO, FORM_UNKNOWN };

/* A boot image whose bytes 8-63 are written here by hand in a form: isolinux.asm's
 * (16, 0, 0xdeadbeef x 12), checksumiso.pl's (length and checksum filled), or one no build
 * is known to leave (all filled, reserved zero: what an ISO's copy at block 0 would hold). */
static uint8_t *bios_image(enum bios_form form)
{
    uint8_t *b = malloc(BIOS_LEN);
    assert_non_null(b);
    for (size_t i = 0; i < BIOS_LEN; i++)
        b[i] = (uint8_t)(i * 13 + 5 + (i >> 9));
    put_le32(b + 8, 16);
    put_le32(b + 12, 0);
    for (size_t off = 16; off < 64; off += 4)
        put_le32(b + off, form == FORM_UNKNOWN ? 0 : 0xdeadbeefu);
    if (form != FORM_ASM) {
        put_le32(b + 16, BIOS_LEN);
        put_le32(b + 20, bytewise_sum(b, BIOS_LEN));
    }
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* sha256sum's word on a file, so that the expected value does not come from the library. */
static void sha256_of_file(const char *path, char hex[65])
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(hex, 65, p));
    assert_int_equal(strlen(hex), 64);
    pclose(p);
}

struct bios_case {
    char *dir;
    struct fake f;
    uint8_t *original;          /* what the descriptor describes */
    size_t len;
};

/* An ISO holding `original` as its El Torito BIOS image (patched when `table`), opened as the
 * image of a one-VIB fake whose descriptor gives the original's size (plus `size_delta`) and
 * sha-256. */
static void bios_case_init(struct bios_case *c, const uint8_t *original, size_t len,
                           const uint8_t *described, bool table, size_t size_delta)
{
    memset(c, 0, sizeof *c);
    c->dir = tu_mkdtemp();
    c->len = len;
    c->original = malloc(len);
    assert_non_null(c->original);
    memcpy(c->original, original, len);
    char *tree = tu_path_join(c->dir, "tree");
    tu_run("mkdir '%s' && printf filler >'%s/OTHER.DAT'", tree, tree);
    char *bin = tu_path_join(tree, "ISOLINUX.BIN");
    write_file(bin, original, len);
    char *desc_bin = tu_path_join(c->dir, "described.bin");
    write_file(desc_bin, described, len);
    char hex[65];
    sha256_of_file(desc_bin, hex);
    char *iso = tu_path_join(c->dir, "a.iso");
    tu_run("xorriso -as mkisofs --norock -iso-level 1 -quiet -o '%s' -b ISOLINUX.BIN "
           "-c BOOT.CAT -no-emul-boot -boot-load-size 4 %s '%s' >/dev/null 2>&1", iso,
           table ? "-boot-info-table" : "", tree);
    char xml[4096];
    int n = snprintf(xml, sizeof xml, bios_xml_fmt, len + size_delta, hex);
    assert_true(n > 0 && (size_t)n < sizeof xml);
    memset(&c->f, 0, sizeof c->f);
    assert_int_equal(esximg_imgdb_new(&c->f.img.db, NULL), 0);
    assert_int_equal(esximg_imgdb_put_vib_xml(c->f.img.db, "x.xml", xml, (size_t)n, NULL), 0);
    assert_int_equal(esximg_descriptor_read(xml, (size_t)n, &c->f.vib.desc, NULL), 0);
    struct esximg_err err = {0};
    if (esximg_iso_open(iso, NULL, &c->f.img.iso, &err))
        fail_msg("%s: %s", iso, err.msg);
    c->f.vib.vib_id = vib_id;
    c->f.vib.xml_file = xml_name;
    c->f.entry.vib_id = vib_id;
    c->f.entry.has_payloads = true;   /* the profile maps isolinux.bin to no file */
    c->f.vib.entry = &c->f.entry;
    c->f.img.vib_count = 1;
    c->f.img.vibs = &c->f.vib;
    free(iso);
    free(desc_bin);
    free(bin);
    free(tree);
}

static void bios_case_clear(struct bios_case *c)
{
    esximg_iso_close(c->f.img.iso);
    fake_clear(&c->f);
    free(c->original);
    tu_rmtree(c->dir);
    free(c->dir);
}

/* Exports the fake's VIB and checks that its isolinux.bin member is `want`, byte for byte. */
static void bios_expect_member(struct bios_case *c, const uint8_t *want)
{
    uint8_t *out = NULL;
    size_t len = 0;
    struct esximg_err err = {0};
    if (esximg_export_vib(&c->f.img, &c->f.vib, &out, &len, &err))
        fail_msg("%s", err.msg);
    struct esximg_vib *v = NULL;
    assert_int_equal(esximg_vib_read(out, len, &v, NULL), 0);
    bool seen = false;
    for (size_t i = 0; i < v->member_count; i++) {
        const struct esximg_vib_member *m = &v->members[i];
        if (strcmp(m->name, "isolinux.bin"))
            continue;
        seen = true;
        assert_int_equal(m->size, c->len);
        assert_memory_equal(out + m->offset, want, c->len);
    }
    assert_true(seen);
    esximg_vib_free(v);
    free(out);
}

static bool have_xorriso(void)
{
    return system("command -v xorriso >/dev/null 2>&1") == 0;
}

/* The ISO's copy is patched (so it differs from the original) and export gives back the
 * original for each known form: isolinux.asm's and checksumiso.pl's, and Debian's 6.04
 * isolinux.bin as the real binary of the second. */
static void export_recovers_each_known_bios_form(void **state)
{
    (void)state;
    if (!have_xorriso())
        skip();
    uint8_t *forms[3] = {bios_image(FORM_ASM), bios_image(FORM_CHECKSUMISO), NULL};
    size_t lens[3] = {BIOS_LEN, BIOS_LEN, 0};
    FILE *deb = fopen(DEBIAN_ISOLINUX, "rb");
    if (deb) {
        fclose(deb);
        tu_read_file(DEBIAN_ISOLINUX, &forms[2], &lens[2]);
    }
    for (size_t k = 0; k < 3 && forms[k]; k++) {
        struct bios_case c;
        bios_case_init(&c, forms[k], lens[k], forms[k], true, 0);
        const struct esximg_iso_entry *e = esximg_iso_find(c.f.img.iso, "/ISOLINUX.BIN");
        assert_non_null(e);
        uint8_t *on_iso = NULL;
        size_t n = 0;
        assert_int_equal(esximg_iso_read_file(c.f.img.iso, e->path, 1 << 20, &on_iso, &n,
                                              NULL), 0);
        assert_int_equal(n, lens[k]);
        assert_memory_not_equal(on_iso, forms[k], 64);   /* xorriso patched it */
        assert_int_equal(on_iso[24], 0);
        free(on_iso);
        bios_expect_member(&c, forms[k]);
        bios_case_clear(&c);
        free(forms[k]);
    }
}

/* An ISO written without -boot-info-table holds the original as it is: taken unchanged. */
static void export_takes_an_unpatched_bios_image_as_it_is(void **state)
{
    (void)state;
    if (!have_xorriso())
        skip();
    uint8_t *original = bios_image(FORM_UNKNOWN);   /* no form needed when nothing changed */
    struct bios_case c;
    bios_case_init(&c, original, BIOS_LEN, original, false, 0);
    bios_expect_member(&c, original);
    bios_case_clear(&c);
    free(original);
}

/* An original in a form no build is known to leave cannot be recovered: ENOTFOUND naming
 * the VIB, the payload and the file, and the whole export leaves the VIB out. */
static void export_refuses_an_unrecoverable_bios_image(void **state)
{
    (void)state;
    if (!have_xorriso())
        skip();
    uint8_t *original = bios_image(FORM_UNKNOWN);
    struct bios_case c;
    bios_case_init(&c, original, BIOS_LEN, original, true, 0);
    struct esximg_err err = {0};
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(esximg_export_vib(&c.f.img, &c.f.vib, &out, &len, &err), ESXIMG_ENOTFOUND);
    assert_null(out);
    assert_non_null(strstr(err.msg, "VIB 'V_bootbank_x_1-1': payload 'isolinux.bin' "
                                    "(boot_iso_bios) cannot be recovered from '/ISOLINUX.BIN'"));
    assert_non_null(strstr(err.msg, "holds a boot info table"));
    assert_non_null(strstr(err.msg, "syslinux-asm"));
    struct esximg_export_result *r = NULL;
    assert_int_equal(esximg_image_export(&c.f.img, NULL, &r, &err), ESXIMG_ENOTFOUND);
    assert_null(r);
    bios_case_clear(&c);
    /* a descriptor whose sha-256 is of other content, on an unpatched copy holding no table */
    uint8_t *asm_form = bios_image(FORM_ASM), *other = bios_image(FORM_ASM);
    other[BIOS_LEN - 1] ^= 0x40;
    bios_case_init(&c, asm_form, BIOS_LEN, other, false, 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_export_vib(&c.f.img, &c.f.vib, &out, &len, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "holds no boot info table"));
    bios_case_clear(&c);
    /* a size that differs: no table explains that */
    bios_case_init(&c, other, BIOS_LEN, other, true, 4);
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_export_vib(&c.f.img, &c.f.vib, &out, &len, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "has 6144 bytes, the descriptor says 6148"));
    bios_case_clear(&c);
    /* a copy too short for a table: the reason says so */
    bios_case_init(&c, asm_form, 40, original, false, 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_export_vib(&c.f.img, &c.f.vib, &out, &len, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "cannot be recovered from '/ISOLINUX.BIN': boot image of "
                                    "40 bytes is shorter"));
    bios_case_clear(&c);
    free(asm_form);
    free(other);
    free(original);
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
        cmocka_unit_test(export_file_is_the_same),
        cmocka_unit_test(export_other_type_missing_is_skipped),
        cmocka_unit_test(export_module_type_missing_is_broken),
        cmocka_unit_test(export_without_descriptor_or_profile),
        cmocka_unit_test(export_unsigned_verbatim),
        cmocka_unit_test(export_refuses_a_signature_that_does_not_sign),
        cmocka_unit_test(export_recovers_each_known_bios_form),
        cmocka_unit_test(export_takes_an_unpatched_bios_image_as_it_is),
        cmocka_unit_test(export_refuses_an_unrecoverable_bios_image),
        cmocka_unit_test(diff_sniff_by_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
