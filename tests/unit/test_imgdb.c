/* test_imgdb.c: the image database container, the image profile and bulletins, on inputs
 * built here (a small ustar writer independent of libarchive, python3 tarfile and GNU tar). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "esx_private.h"
#include "esximg/imgdb.h"
#include "testutil.h"

/* ================================================================ a tiny tar writer */

struct tb {
    struct esx_buf b;
};

static void tb_init(struct tb *t)
{
    esx_buf_init(&t->b, 0);
}

/* one ustar member; type '0' file, '5' dir, '1' hard link, '2' symlink, '6' fifo */
static void tb_add(struct tb *t, const char *name, char type, const char *data, size_t len,
                   const char *link)
{
    unsigned char h[512] = {0};
    size_t nl = strlen(name);
    if (nl > 100) {                 /* ustar prefix + name */
        const char *slash = strchr(name + nl - 100, '/');
        assert_non_null(slash);
        memcpy(h + 345, name, (size_t)(slash - name));
        memcpy(h, slash + 1, strlen(slash + 1));
    } else {
        memcpy(h, name, nl);
    }
    snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)len);
    snprintf((char *)h + 136, 12, "%011o", 1234567890u);
    h[156] = (unsigned char)type;
    if (link)
        memcpy(h + 157, link, strlen(link));
    memcpy(h + 257, "ustar\0" "00", 8);
    memcpy(h + 265, "root", 4);
    memcpy(h + 297, "root", 4);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    assert_int_equal(esx_buf_append(&t->b, h, 512, NULL), 0);
    if (len) {
        assert_int_equal(esx_buf_append(&t->b, data, len, NULL), 0);
        assert_int_equal(esx_buf_zeros(&t->b, (512 - len % 512) % 512, NULL), 0);
    }
}

static void tb_file(struct tb *t, const char *name, const char *text)
{
    tb_add(t, name, '0', text, strlen(text), NULL);
}

/* ends the archive and gzips it; the caller frees *out */
static void tb_finish(struct tb *t, uint8_t **out, size_t *len)
{
    assert_int_equal(esx_buf_zeros(&t->b, 1024, NULL), 0);
    assert_int_equal(esx_gzip((const uint8_t *)t->b.data, t->b.len, 6, out, len, NULL), 0);
    esx_buf_free(&t->b);
}

static const char small_profile[] =
    "<imageprofile><name>Test &amp; Co</name><creator>me</creator>"
    "<serialno>2</serialno><readonly>false</readonly><viblist>"
    "<vib><vib-id>V_bootbank_a_1.0-1</vib-id><payloads><payload payload-name=\"a\">a.v00"
    "</payload></payloads></vib></viblist><acceptancelevel>community</acceptancelevel>"
    "</imageprofile>";

/* reads tgz bytes expecting `code`, and a message holding `what` */
static void expect_read(const uint8_t *tgz, size_t len, int code, const char *what)
{
    struct esximg_err err = {0};
    struct esximg_imgdb *db = NULL;
    int rc = esximg_imgdb_read(tgz, len, &db, &err);
    if (rc != code)
        fail_msg("expected %d, got %d: %s", code, rc, err.msg);
    if (what && !strstr(err.msg, what))
        fail_msg("message '%s' lacks '%s'", err.msg, what);
    if (!code)
        esximg_imgdb_free(db);
    else
        assert_null(db);
}

static void expect_one_member(const char *name, char type, const char *link, int code,
                              const char *what)
{
    struct tb t;
    tb_init(&t);
    tb_file(&t, "var/db/esximg/vibs/ok-1.xml", "<vib/>");
    tb_add(&t, name, type, type == '0' ? "x" : NULL, type == '0' ? 1 : 0, link);
    uint8_t *tgz;
    size_t len;
    tb_finish(&t, &tgz, &len);
    expect_read(tgz, len, code, what);
    free(tgz);
}

/* ================================================================ container */

static void imgdb_reads_a_hand_made_ustar(void **state)
{
    (void)state;
    struct tb t;
    tb_init(&t);
    tb_add(&t, "./", '5', NULL, 0, NULL);
    tb_add(&t, "./var/", '5', NULL, 0, NULL);
    tb_add(&t, "./var/db/esximg/", '5', NULL, 0, NULL);
    tb_add(&t, "./var/db/esximg/vibs/", '5', NULL, 0, NULL);
    tb_file(&t, "./var/db/esximg/vibs/a-1.xml", "<vib>a</vib>");
    tb_file(&t, "./var/db/esximg/vibs/a-1.xml.orig", "<vib>orig</vib>");
    tb_file(&t, "./var/db/esximg/vibs/a-1.xml.sig", "sig");
    tb_file(&t, "var/db/esximg/profiles/Test%20%26%20Co1", small_profile);
    tb_file(&t, "var/db/esximg/bulletins/B_1.xml", "<bulletin/>");
    tb_file(&t, "var/db/esximg/reservedComponents/R_1.xml", "<bulletin/>");
    tb_file(&t, "var/db/esximg/baseimages/x", "");
    tb_add(&t, "var/db/esximg/empty/", '5', NULL, 0, NULL);
    uint8_t *tgz;
    size_t len;
    tb_finish(&t, &tgz, &len);
    struct esximg_err err = {0};
    struct esximg_imgdb *db;
    if (esximg_imgdb_read(tgz, len, &db, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(db->profile_file, "Test%20%26%20Co1");
    assert_string_equal(db->profile->name, "Test & Co");
    assert_int_equal(db->vib_count, 1);
    assert_string_equal(db->vibs[0].path, "var/db/esximg/vibs/a-1.xml");
    assert_int_equal(db->vibs[0].len, 12);
    assert_memory_equal(db->vibs[0].data, "<vib>a</vib>", 12);
    assert_int_equal(db->bulletin_count, 1);
    assert_int_equal(db->reserved_count, 1);
    /* .orig, .sig, baseimages/x, and the empty folder; vibs/ is implied by its files */
    assert_int_equal(db->other_count, 4);
    assert_string_equal(db->others[3].path, "var/db/esximg/empty");
    assert_true(db->others[3].is_dir);
    const struct esximg_imgdb_file *f = esximg_imgdb_find_vib_xml(db, "a-1.xml");
    assert_non_null(f);
    assert_null(esximg_imgdb_find_vib_xml(db, "a-1.xml.orig"));
    esximg_imgdb_free(db);
    free(tgz);
}

static void imgdb_reads_without_a_profile(void **state)
{
    (void)state;
    struct tb t;
    tb_init(&t);
    tb_file(&t, "var/db/esximg/vibs/a-1.xml", "<vib/>");
    uint8_t *tgz;
    size_t len;
    tb_finish(&t, &tgz, &len);
    struct esximg_imgdb *db;
    assert_int_equal(esximg_imgdb_read(tgz, len, &db, NULL), 0);
    assert_null(db->profile);
    assert_null(db->profile_file);
    esximg_imgdb_free(db);
    free(tgz);
}

static void imgdb_refuses_unsafe_members(void **state)
{
    (void)state;
    expect_one_member("../etc/passwd", '0', NULL, ESXIMG_EUNSAFE, "'..'");
    expect_one_member("var/db/esximg/../../../x", '0', NULL, ESXIMG_EUNSAFE, "'..'");
    expect_one_member("/var/db/esximg/vibs/b.xml", '0', NULL, ESXIMG_EUNSAFE, "absolute");
    expect_one_member("var/db/esximg/vibs/l.xml", '2', "/etc/shadow", ESXIMG_EUNSAFE,
                      "symbolic link");
    expect_one_member("var/db/esximg/vibs/h.xml", '1', "var/db/esximg/vibs/ok-1.xml",
                      ESXIMG_EUNSAFE, "hard link");
    expect_one_member("var/db/esximg/fifo", '6', NULL, ESXIMG_EUNSUPPORTED, "not a file");
    expect_one_member("etc/rc.local", '0', NULL, ESXIMG_EFORMAT, "outside");
    expect_one_member("var/db/other", '0', NULL, ESXIMG_EFORMAT, "outside");
    expect_one_member("var/db/esximg", '0', NULL, ESXIMG_EFORMAT, "outside");
    expect_one_member("var/db/esximg//vibs/x.xml", '0', NULL, ESXIMG_EFORMAT, "canonical");
    expect_one_member("var/db/esximg/vibs/ok-1.xml", '0', NULL, ESXIMG_EFORMAT, "twice");
    expect_one_member("var/db/esximg/vibs/ok-1.xml/x", '0', NULL, ESXIMG_EFORMAT,
                      "file and a folder");
    /* 112 bytes through the ustar prefix field: above VISOR_PATH_LIMIT */
    char longname[200];
    snprintf(longname, sizeof longname, "var/db/esximg/vibs/%s.xml",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect_one_member(longname, '0', NULL, ESXIMG_ELIMIT, "longer than 99");
}

static void imgdb_refuses_two_profiles_and_a_bad_one(void **state)
{
    (void)state;
    struct tb t;
    tb_init(&t);
    tb_file(&t, "var/db/esximg/profiles/one", small_profile);
    tb_file(&t, "var/db/esximg/profiles/two", small_profile);
    uint8_t *tgz;
    size_t len;
    tb_finish(&t, &tgz, &len);
    expect_read(tgz, len, ESXIMG_EFORMAT, "more than one image profile ('one' and 'two')");
    free(tgz);
    tb_init(&t);
    tb_file(&t, "var/db/esximg/profiles/bad", "<imageprofile><creator/></imageprofile>");
    tb_finish(&t, &tgz, &len);
    expect_read(tgz, len, ESXIMG_EFORMAT, "profile 'bad': image profile has no name");
    free(tgz);
}

static void imgdb_refuses_broken_archives(void **state)
{
    (void)state;
    struct tb t;
    tb_init(&t);
    tb_file(&t, "var/db/esximg/vibs/a-1.xml", "<vib>some text to make it longer</vib>");
    uint8_t *tgz;
    size_t len;
    tb_finish(&t, &tgz, &len);
    expect_read(tgz, len - 9, ESXIMG_EFORMAT, "truncated");       /* gzip cut short */
    expect_read(tgz, 5, ESXIMG_EFORMAT, NULL);
    uint8_t *more = malloc(len + 4);
    memcpy(more, tgz, len);
    memcpy(more + len, "junk", 4);
    expect_read(more, len + 4, ESXIMG_EFORMAT, "follow the gzip member");
    free(more);
    free(tgz);
    /* a bad header checksum, uncompressed: on the first member nothing looks like tar, on
     * the second the header is refused */
    tb_init(&t);
    tb_file(&t, "var/db/esximg/vibs/a-1.xml", "<vib/>");
    tb_file(&t, "var/db/esximg/vibs/b-1.xml", "<vib/>");
    assert_int_equal(esx_buf_zeros(&t.b, 1024, NULL), 0);
    t.b.data[1024 + 148] ^= 1;
    expect_read((const uint8_t *)t.b.data, t.b.len, ESXIMG_EFORMAT, "bad tar header");
    t.b.data[1024 + 148] ^= 1;
    t.b.data[148] ^= 1;
    expect_read((const uint8_t *)t.b.data, t.b.len, ESXIMG_EFORMAT, "not a tar archive");
    t.b.data[148] ^= 1;
    /* data cut inside the member */
    expect_read((const uint8_t *)t.b.data, 520, ESXIMG_EFORMAT, NULL);
    esx_buf_free(&t.b);
    expect_read((const uint8_t *)"", 0, ESXIMG_EFORMAT, "empty");
    expect_read((const uint8_t *)"hello world, not a tar", 22, ESXIMG_EFORMAT, NULL);
}

/* a database built through the edit calls */
static struct esximg_imgdb *build_db(void)
{
    struct esximg_err err = {0};
    struct esximg_imgdb *db;
    assert_int_equal(esximg_imgdb_new(&db, &err), 0);
    struct esximg_profile *p;
    assert_int_equal(esximg_profile_read(small_profile, sizeof small_profile - 1, &p, &err), 0);
    assert_int_equal(esximg_imgdb_set_profile_take(db, p, NULL, &err), 0);
    assert_int_equal(esximg_imgdb_put_vib_xml(db, "b-2.xml", "<vib>b</vib>", 12, &err), 0);
    assert_int_equal(esximg_imgdb_put_vib_xml(db, "a-1.xml", "<vib>a</vib>", 12, &err), 0);
    assert_int_equal(esximg_imgdb_add_file(db, "var/db/esximg/vibs/a-1.xml.orig", "o", 1,
                                           &err), 0);
    assert_int_equal(esximg_imgdb_put_bulletin(db, "C_1.xml", "<bulletin/>", 11, &err), 0);
    return db;
}

static void imgdb_writes_gnu_tar_deterministically(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_imgdb *db = build_db();
    struct esximg_imgdb_wopts o = { .mtime = 1600000000 };
    uint8_t *a, *b, *tar;
    size_t alen, blen, tar_len;
    assert_int_equal(esximg_imgdb_write(db, &o, &a, &alen, &err), 0);
    assert_int_equal(esximg_imgdb_write(db, &o, &b, &blen, &err), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    assert_int_equal(esx_gunzip(a, alen, 0, false, &tar, &tar_len, &err), 0);
    assert_int_equal(tar_len % 10240, 0);
    /* first member: "var/" directory, GNU magic, root/root, 0755, the given mtime */
    assert_string_equal((const char *)tar, "var/");
    assert_memory_equal(tar + 257, "ustar  \0", 8);
    assert_string_equal((const char *)tar + 265, "root");
    assert_string_equal((const char *)tar + 297, "root");
    uint64_t v;
    assert_true(esx_parse_octal((const char *)tar + 100, 8, &v));
    assert_int_equal(v, 0755);
    assert_true(esx_parse_octal((const char *)tar + 136, 12, &v));
    assert_int_equal(v, 1600000000);
    assert_int_equal(tar[156], '5');
    /* the members, in order */
    const char *order[] = {
        "var/", "var/db/", "var/db/esximg/", "var/db/esximg/bulletins/",
        "var/db/esximg/bulletins/C_1.xml", "var/db/esximg/profiles/",
        "var/db/esximg/profiles/Test%20%26%20Co617004270", "var/db/esximg/vibs/",
        "var/db/esximg/vibs/a-1.xml", "var/db/esximg/vibs/a-1.xml.orig",
        "var/db/esximg/vibs/b-2.xml",
    };
    size_t off = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_true(off + 512 <= tar_len);
        assert_string_equal((const char *)tar + off, order[i]);
        assert_memory_equal(tar + off + 257, "ustar  \0", 8);
        assert_true(esx_parse_octal((const char *)tar + off + 124, 12, &v));
        assert_true(esx_parse_octal((const char *)tar + off + 100, 8, &v) &&
                    v == (order[i][strlen(order[i]) - 1] == '/' ? 0755u : 0644u));
        assert_true(esx_parse_octal((const char *)tar + off + 124, 12, &v));
        off += 512 + (v + 511) / 512 * 512;
    }
    assert_int_equal(tar[off], 0);                  /* then the end blocks */
    free(tar);
    free(a);
    free(b);
    o.mtime = -1;
    assert_int_equal(esximg_imgdb_write(db, &o, &a, &alen, &err), ESXIMG_EINVAL);
    o.mtime = 0;
    o.gzip_level = 10;
    assert_int_equal(esximg_imgdb_write(db, &o, &a, &alen, &err), ESXIMG_EINVAL);
    esximg_imgdb_free(db);
}

static void imgdb_read_write_read_keeps_everything(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_imgdb *db = build_db();
    uint8_t *a, *b;
    size_t alen, blen;
    assert_int_equal(esximg_imgdb_write(db, NULL, &a, &alen, &err), 0);
    struct esximg_imgdb *back;
    assert_int_equal(esximg_imgdb_read(a, alen, &back, &err), 0);
    assert_int_equal(back->vib_count, 2);
    assert_int_equal(back->bulletin_count, 1);
    assert_int_equal(back->other_count, 1);
    assert_string_equal(back->others[0].path, "var/db/esximg/vibs/a-1.xml.orig");
    assert_string_equal(back->profile->name, "Test & Co");
    assert_int_equal(back->profile->vib_count, 1);
    assert_int_equal(esximg_imgdb_write(back, NULL, &b, &blen, &err), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    esximg_imgdb_free(back);
    esximg_imgdb_free(db);
}

static void imgdb_edits_vib_files_and_profile(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_imgdb *db = build_db();
    assert_int_equal(esximg_imgdb_put_vib_xml(db, "a-1.xml", "<vib>A2</vib>", 13, &err), 0);
    assert_int_equal(db->vib_count, 2);
    assert_int_equal(esximg_imgdb_find_vib_xml(db, "a-1.xml")->len, 13);
    assert_int_equal(esximg_imgdb_put_vib_xml(db, "../x.xml", "<v/>", 4, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_put_vib_xml(db, "x.txt", "<v/>", 4, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_add_file(db, "var/db/esximg/vibs/b-2.xml", "<v/>", 4, &err),
                     ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_add_file(db, "var/db/esximg/vibs/b-2.xml/x", "<v/>", 4,
                                           &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_add_file(db, "var/db/esximg/profiles/second", small_profile,
                                           sizeof small_profile - 1, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_add_file(db, "etc/passwd", "x", 1, &err), ESXIMG_EFORMAT);
    assert_int_equal(esximg_imgdb_remove_vib_xml(db, "a-1.xml", &err), 0);
    assert_int_equal(db->vib_count, 1);
    assert_int_equal(db->other_count, 0);           /* its .orig went too */
    assert_int_equal(esximg_imgdb_remove_vib_xml(db, "a-1.xml", &err), ESXIMG_ENOTFOUND);
    /* profile renamed after its name changed */
    assert_int_equal(esximg_profile_set_name(db->profile, "ESXi-6.7.0-8169922-standard", &err),
                     0);
    assert_int_equal(esximg_profile_set_creator(db->profile, "VMware, Inc.", &err), 0);
    assert_int_equal(esximg_imgdb_rename_profile(db, &err), 0);
    assert_string_equal(db->profile_file, "ESXi-6.7.0-8169922-standard452839153");
    /* a name over 99 bytes is refused by the writer */
    char name[100];
    memset(name, 'n', 90);
    strcpy(name + 90, ".xml");
    assert_int_equal(esximg_imgdb_put_vib_xml(db, name, "<v/>", 4, &err), ESXIMG_ELIMIT);
    esximg_imgdb_free(db);
}

static int run_ok(const char *cmd)
{
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void imgdb_python_tarfile_reads_the_output(void **state)
{
    (void)state;
    if (run_ok("python3 -c 'import tarfile' 2>/dev/null") != 0) {
        print_message("python3 missing: skipped\n");
        return;
    }
    struct esximg_imgdb *db = build_db();
    uint8_t *a;
    size_t alen;
    struct esximg_imgdb_wopts o = { .mtime = 1234 };
    assert_int_equal(esximg_imgdb_write(db, &o, &a, &alen, NULL), 0);
    char *dir = tu_mkdtemp();
    char path[4200], cmd[9000];
    snprintf(path, sizeof path, "%s/imgdb.tgz", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(a, 1, alen, f), alen);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 -c \"import tarfile,sys\n"
             "t = tarfile.open('%s', 'r:gz')\n"
             "m = t.getmembers()\n"
             "ok = [x.name for x in m][:3] == ['var', 'var/db', 'var/db/esximg']\n"
             "ok = ok and all(x.uname == 'root' and x.uid == 0 and x.mtime == 1234 for x in m)\n"
             "ok = ok and t.extractfile('var/db/esximg/vibs/b-2.xml').read() == b'<vib>b</vib>'\n"
             "sys.exit(0 if ok and len(m) == 11 else 1)\"", path);
    assert_int_equal(run_ok(cmd), 0);
    /* python3 writes a pax archive of the same tree: we read it */
    snprintf(cmd, sizeof cmd, "cd %s && mkdir -p var/db/esximg/vibs var/db/esximg/profiles && "
             "printf '<vib>py</vib>' > var/db/esximg/vibs/py-1.xml && "
             "printf '%%s' '%s' > var/db/esximg/profiles/p && "
             "python3 -c \"import tarfile\n"
             "t = tarfile.open('pax.tgz', 'w:gz', format=tarfile.PAX_FORMAT)\n"
             "t.add('var')\nt.close()\"", dir, small_profile);
    assert_int_equal(run_ok(cmd), 0);
    snprintf(path, sizeof path, "%s/pax.tgz", dir);
    uint8_t *pax;
    size_t pax_len;
    tu_read_file(path, &pax, &pax_len);
    struct esximg_imgdb *back;
    struct esximg_err err = {0};
    if (esximg_imgdb_read(pax, pax_len, &back, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(back->vib_count, 1);
    assert_int_equal(back->vibs[0].len, 13);
    assert_string_equal(back->profile_file, "p");
    esximg_imgdb_free(back);
    free(pax);
    /* and GNU tar, when present */
    snprintf(cmd, sizeof cmd, "cd %s && tar --format=gnu --owner=0 --group=0 -czf gnu.tgz var"
             " 2>/dev/null", dir);
    if (run_ok(cmd) == 0) {
        snprintf(path, sizeof path, "%s/gnu.tgz", dir);
        uint8_t *gnu;
        size_t gnu_len;
        tu_read_file(path, &gnu, &gnu_len);
        assert_int_equal(esximg_imgdb_read(gnu, gnu_len, &back, &err), 0);
        assert_int_equal(back->vib_count, 1);
        assert_non_null(back->profile);
        esximg_imgdb_free(back);
        free(gnu);
    }
    tu_rmtree(dir);
    free(dir);
    free(a);
    esximg_imgdb_free(db);
}

/* ================================================================ profile */

static struct esximg_profile *profile_ok(const char *xml)
{
    struct esximg_err err = {0};
    struct esximg_profile *p = NULL;
    if (esximg_profile_read(xml, strlen(xml), &p, &err))
        fail_msg("%s", err.msg);
    return p;
}

static void profile_expect(const char *xml, size_t len, int code, const char *what)
{
    struct esximg_err err = {0};
    struct esximg_profile *p = NULL;
    int rc = esximg_profile_read(xml, len, &p, &err);
    if (rc != code)
        fail_msg("expected %d, got %d (%s) for %s", code, rc, err.msg, xml);
    if (what && !strstr(err.msg, what))
        fail_msg("message '%s' lacks '%s'", err.msg, what);
    assert_null(p);
}

#define PROFILE_EXPECT(xml, code, what) profile_expect(xml, sizeof(xml) - 1, code, what)

static void assert_writes(const struct esximg_profile *p, const char *expected)
{
    char *xml;
    size_t len;
    assert_int_equal(esximg_profile_write(p, &xml, &len, NULL), 0);
    assert_string_equal(xml, expected);
    assert_int_equal(len, strlen(expected));
    free(xml);
}

static void profile_keeps_unknown_elements_in_place(void **state)
{
    (void)state;
    const char *xml =
        "<imageprofile version=\"2.0\"><!--c--><name>n</name><baseimage><id a=\"1\">7.0</id>"
        "</baseimage><creator>c &lt;x&gt; &amp; \"q\"</creator><description/><viblist>"
        "<vib><vib-id>A_b_c_1</vib-id><flag/><payloads><payload payload-name=\"p&quot;\">"
        "p.v00</payload></payloads><x>1</x></vib><vib><vib-id>A_b_d_1</vib-id></vib>"
        "</viblist><acceptancelevel>partner</acceptancelevel><addon>y</addon></imageprofile>";
    struct esximg_profile *p = profile_ok(xml);
    assert_string_equal(p->root_attrs, " version=\"2.0\"");
    assert_string_equal(p->creator, "c <x> & \"q\"");
    assert_string_equal(p->description, "");
    assert_int_equal(p->extra_count, 3);
    assert_string_equal(p->extras[1].after, "name");
    assert_string_equal(p->extras[1].xml, "<baseimage><id a=\"1\">7.0</id></baseimage>");
    assert_int_equal(p->vib_count, 2);
    assert_string_equal(p->vibs[0].payloads[0].payload_name, "p\"");
    assert_false(p->vibs[1].has_payloads);
    assert_writes(p, xml);
    esximg_profile_free(p);
}

static void profile_refuses_dtd_entities_and_network(void **state)
{
    (void)state;
    PROFILE_EXPECT("<!DOCTYPE imageprofile [<!ENTITY a \"aaaa\">]><imageprofile><name>&a;"
                   "</name></imageprofile>", ESXIMG_EUNSAFE, "document type definition");
    PROFILE_EXPECT("<!DOCTYPE imageprofile SYSTEM \"http://example.com/x.dtd\"><imageprofile>"
                   "<name>n</name></imageprofile>", ESXIMG_EUNSAFE, NULL);
    PROFILE_EXPECT("<imageprofile><name>&xxe;</name></imageprofile>", ESXIMG_EFORMAT, NULL);
    PROFILE_EXPECT("<imageprofile xmlns:x=\"urn:x\"><name>n</name><x:y/></imageprofile>",
                   ESXIMG_EUNSUPPORTED, "namespaces");
    PROFILE_EXPECT("<imageprofile xmlns=\"urn:x\"><name>n</name></imageprofile>",
                   ESXIMG_EUNSUPPORTED, "namespaces");
}

static void profile_refuses_malformed_documents(void **state)
{
    (void)state;
    PROFILE_EXPECT("", ESXIMG_EFORMAT, "empty");
    PROFILE_EXPECT("<imageprofile><name>n</name>", ESXIMG_EFORMAT, "not well-formed");
    PROFILE_EXPECT("<vib><name>n</name></vib>", ESXIMG_EFORMAT, "root element");
    PROFILE_EXPECT("<imageprofile><creator>c</creator></imageprofile>", ESXIMG_EFORMAT,
                   "no name");
    PROFILE_EXPECT("<imageprofile><name></name></imageprofile>", ESXIMG_EFORMAT, "no name");
    PROFILE_EXPECT("<imageprofile><name>a</name><name>b</name></imageprofile>", ESXIMG_EFORMAT,
                   "twice");
    PROFILE_EXPECT("<imageprofile><name>n</name><viblist><vib><payloads/></vib></viblist>"
                   "</imageprofile>", ESXIMG_EFORMAT, "no vib-id");
    PROFILE_EXPECT("<imageprofile><name>n</name><viblist><vib><vib-id>a</vib-id></vib><vib>"
                   "<vib-id>a</vib-id></vib></viblist></imageprofile>", ESXIMG_EFORMAT,
                   "'a' is listed twice");
    PROFILE_EXPECT("<imageprofile><name>n</name><viblist><vib><vib-id>a</vib-id><payloads>"
                   "<payload payload-name=\"p\">x</payload><payload payload-name=\"p\">y"
                   "</payload></payloads></vib></viblist></imageprofile>", ESXIMG_EFORMAT,
                   "'p' is listed twice");
    PROFILE_EXPECT("<imageprofile><name>n</name><viblist><vib><vib-id>a</vib-id><payloads>"
                   "<payload>x</payload></payloads></vib></viblist></imageprofile>",
                   ESXIMG_EFORMAT, "payload-name");
    PROFILE_EXPECT("<imageprofile><name>n</name><viblist><junk/></viblist></imageprofile>",
                   ESXIMG_EFORMAT, "viblist");
    PROFILE_EXPECT("<imageprofile><name>n</name><serialno>99999999999999999999999</serialno>"
                   "</imageprofile>", ESXIMG_EFORMAT, "serialno");
    PROFILE_EXPECT("<imageprofile><name>n</name><serialno>-1</serialno></imageprofile>",
                   ESXIMG_EFORMAT, "serialno");
    PROFILE_EXPECT("<imageprofile><name>n</name><serialno> 1</serialno></imageprofile>",
                   ESXIMG_EFORMAT, "serialno");
    PROFILE_EXPECT("<imageprofile><name>n</name><readonly>yes</readonly></imageprofile>",
                   ESXIMG_EFORMAT, "readonly");
    PROFILE_EXPECT("<imageprofile><name>n</name>loose</imageprofile>", ESXIMG_EFORMAT,
                   "loose text");
    PROFILE_EXPECT("<imageprofile><name>n<b/></name></imageprofile>", ESXIMG_EFORMAT,
                   "more than text");
    PROFILE_EXPECT("<imageprofile><name>\xff\xfe</name></imageprofile>", ESXIMG_EFORMAT,
                   "not well-formed");
    profile_expect("<imageprofile><name>a\0b</name></imageprofile>", 43, ESXIMG_EFORMAT, NULL);
    /* the largest serialno is fine */
    struct esximg_profile *p = profile_ok("<imageprofile><name>n</name><serialno>"
                                          "18446744073709551615</serialno></imageprofile>");
    assert_true(p->serialno == UINT64_MAX);
    esximg_profile_free(p);
}

static void profile_refuses_oversized_input(void **state)
{
    (void)state;
    size_t len = (size_t)ESX_MAX_XML_BYTES + 1;
    char *big = malloc(len);
    memset(big, ' ', len);
    memcpy(big, "<imageprofile>", 14);
    struct esximg_profile *p = NULL;
    assert_int_equal(esximg_profile_read(big, len, &p, NULL), ESXIMG_ELIMIT);
    free(big);
}

static void profile_edits_like_a_customizer(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_profile *p = profile_ok(small_profile);
    struct esximg_profile_payload pl[] = { { "net55-r8", "net55_r8.v00" } };
    assert_int_equal(esximg_profile_add_vib(p, "Realtek_bootbank_net55-r8168_8.045a-napi", pl,
                                            1, &err), 0);
    assert_int_equal(esximg_profile_add_vib(p, "Realtek_bootbank_net55-r8168_8.045a-napi", pl,
                                            1, &err), ESXIMG_EINVAL);
    struct esximg_profile_payload twice[] = { { "x", "x.v00" }, { "x", "x.v01" } };
    assert_int_equal(esximg_profile_add_vib(p, "A_b_c_1", twice, 2, &err), ESXIMG_EINVAL);
    struct esximg_profile_payload empty[] = { { "x", "" } };
    assert_int_equal(esximg_profile_add_vib(p, "A_b_c_1", empty, 1, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_profile_add_vib(p, "", NULL, 0, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_profile_set_acceptance(p, "community", &err), 0);
    assert_int_equal(esximg_profile_set_modified_time(p, "2024-01-02T03:04:05.000000+00:00",
                                                      &err), 0);
    assert_int_equal(esximg_profile_set_description(p, "custom <build>", &err), 0);
    assert_int_equal(esximg_profile_set_creator(p, "bad\x01", &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_profile_set_creator(p, "bad\xc3", &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_profile_set_name(p, NULL, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_profile_set_creator(p, NULL, &err), 0);
    assert_writes(p, "<imageprofile><name>Test &amp; Co</name>"
                  "<modifiedtime>2024-01-02T03:04:05.000000+00:00</modifiedtime>"
                  "<serialno>2</serialno><description>custom &lt;build&gt;</description>"
                  "<readonly>false</readonly><viblist>"
                  "<vib><vib-id>V_bootbank_a_1.0-1</vib-id><payloads><payload payload-name=\"a\">"
                  "a.v00</payload></payloads></vib>"
                  "<vib><vib-id>Realtek_bootbank_net55-r8168_8.045a-napi</vib-id><payloads>"
                  "<payload payload-name=\"net55-r8\">net55_r8.v00</payload></payloads></vib>"
                  "</viblist><acceptancelevel>community</acceptancelevel></imageprofile>");
    assert_non_null(esximg_profile_find(p, "V_bootbank_a_1.0-1"));
    size_t removed = 0;
    assert_int_equal(esximg_profile_remove_by_name(p, "net55-r8168", &removed, &err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(esximg_profile_remove_by_name(p, "net55-r8168", &removed, &err),
                     ESXIMG_ENOTFOUND);
    assert_int_equal(esximg_profile_remove_vib(p, "V_bootbank_a_1.0-1", &err), 0);
    assert_int_equal(esximg_profile_remove_vib(p, "V_bootbank_a_1.0-1", &err),
                     ESXIMG_ENOTFOUND);
    assert_int_equal(p->vib_count, 0);
    assert_writes(p, "<imageprofile><name>Test &amp; Co</name>"
                  "<modifiedtime>2024-01-02T03:04:05.000000+00:00</modifiedtime>"
                  "<serialno>2</serialno><description>custom &lt;build&gt;</description>"
                  "<readonly>false</readonly><viblist/>"
                  "<acceptancelevel>community</acceptancelevel></imageprofile>");
    esximg_profile_free(p);
    assert_int_equal(esximg_profile_new("fresh", &p, &err), 0);
    assert_writes(p, "<imageprofile><name>fresh</name><readonly>false</readonly><viblist/>"
                  "</imageprofile>");
    esximg_profile_free(p);
}

static void profile_file_name_quotes_and_cuts(void **state)
{
    (void)state;
    char *f;
    assert_int_equal(esximg_profile_file_name("ESXi-6.7.0-8169922-standard", "VMware, Inc.", &f,
                                              NULL), 0);
    assert_string_equal(f, "ESXi-6.7.0-8169922-standard452839153");
    free(f);
    /* quoted to 60 bytes, cut at 50 (inside an escape, as Python does) */
    assert_int_equal(esximg_profile_file_name("0123456789012345678901234567890123456789012345 x/y",
                                              NULL, &f, NULL), 0);
    assert_int_equal(strncmp(f, "0123456789012345678901234567890123456789012345%20x", 50), 0);
    assert_true(strlen(f) > 50);
    free(f);
    assert_int_equal(esximg_profile_file_name("", "c", &f, NULL), ESXIMG_EINVAL);
}

static void profile_vib_id_split_rule(void **state)
{
    (void)state;
    struct esximg_vib_id_parts parts;
    assert_int_equal(esximg_vib_id_split("VMW_bootbank_ne1000_0.8.3-4vmw.670.0.0.8169922",
                                         &parts, NULL), 0);
    assert_string_equal(parts.vendor, "VMW");
    assert_string_equal(parts.type, "bootbank");
    assert_string_equal(parts.name, "ne1000");
    assert_string_equal(parts.version, "0.8.3-4vmw.670.0.0.8169922");
    esximg_vib_id_parts_clear(&parts);
    assert_int_equal(esximg_vib_id_split("V_locker_my_tool_1.0-1", &parts, NULL), 0);
    assert_string_equal(parts.name, "my_tool");
    assert_string_equal(parts.version, "1.0-1");
    esximg_vib_id_parts_clear(&parts);
    const char *bad[] = { "V_t_n", "_t_n_1", "V__n_1", "V_t__1", "V_t_n_", "nothing" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(esximg_vib_id_split(bad[i], &parts, NULL), ESXIMG_EFORMAT);
}

/* ================================================================ bulletins */

/* esxi-formats.md §3.5 (reservedComponents of a 7.0 host) and §6.2 (a component's metadata) */
static const char mrvl_bulletin[] =
    "<bulletin><id>MRVL-QLogic-FC_4.0.1.0-3vmw.700.1.0.15843807</id><vendor>VMware</vendor>"
    "<summary>Qlogic Native FC driver</summary><severity>general</severity><category>"
    "enhancement</category><urgency>important</urgency><releaseType>extension</releaseType>"
    "<description>QLogic Native FC driver for vmkernel</description><kbUrl>"
    "http://kb.vmware.com/kb/example.html</kbUrl><contact>support@vmware.com</contact>"
    "<componentNameSpec name=\"MRVL-QLogic-FC\" uiString=\"QLogic Fibre Channel HBA Driver\"/>"
    "<componentVersionSpec uiString=\"4.0.1.0-3vmw\" version=\"4.0.1.0-3vmw.700.1.0.15843807\"/>"
    "<releaseDate>2020-03-16T10:42:04.145412+00:00</releaseDate><platforms><softwarePlatform "
    "locale=\"\" productLineID=\"embeddedEsx\" version=\"7.0\"/></platforms><vibList><vibID>"
    "VMware_bootbank_qlnativefc_4.0.1.0-3vmw.700.1.0.15843807</vibID></vibList></bulletin>";

static const char netcomm_bulletin[] =
    "<bulletin><id>Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807</id><vendor>VMware"
    "</vendor><summary>net-community: Community Network Drivers</summary><severity>general"
    "</severity><category>enhancement</category><urgency>important</urgency><releaseType>"
    "extension</releaseType><description>Community Network Drivers for ESXi</description>"
    "<kbUrl>http://kb.vmware.com</kbUrl><contact>support@vmware.com</contact>"
    "<componentNameSpec uiString=\"Community Network Devices Driver\" name=\"Net-Community-"
    "Driver\"/><componentVersionSpec uiString=\"1.2.7.0\" version=\"1.2.7.0-1vmw.700.1.0."
    "15843807\"/><releaseDate>2022-03-11T06:25:01.386000+00:00</releaseDate><platforms>"
    "<softwarePlatform locale=\"\" version=\"7.0.0\" productLineID=\"embeddedEsx\"/>"
    "</platforms><vibList><vibID>VMW_bootbank_net-community_1.2.7.0-1vmw.700.1.0.15843807"
    "</vibID></vibList></bulletin>";

static void assert_same_text(const char *a, const char *b)
{
    if (!a || !b)
        assert_true(a == b);
    else
        assert_string_equal(a, b);
}

static void assert_same_bulletin(const struct esximg_bulletin *a,
                                 const struct esximg_bulletin *b)
{
    assert_same_text(a->id, b->id);
    assert_same_text(a->vendor, b->vendor);
    assert_same_text(a->summary, b->summary);
    assert_same_text(a->release_type, b->release_type);
    assert_same_text(a->kb_url, b->kb_url);
    assert_same_text(a->component_name, b->component_name);
    assert_same_text(a->component_ui_name, b->component_ui_name);
    assert_same_text(a->component_version, b->component_version);
    assert_same_text(a->component_ui_version, b->component_ui_version);
    assert_same_text(a->release_date, b->release_date);
    assert_int_equal(a->platform_count, b->platform_count);
    for (size_t i = 0; i < a->platform_count; i++) {
        assert_same_text(a->platforms[i].version, b->platforms[i].version);
        assert_same_text(a->platforms[i].locale, b->platforms[i].locale);
        assert_same_text(a->platforms[i].product_line_id, b->platforms[i].product_line_id);
    }
    assert_int_equal(a->vib_count, b->vib_count);
    for (size_t i = 0; i < a->vib_count; i++)
        assert_same_text(a->vib_ids[i], b->vib_ids[i]);
    assert_int_equal(a->extra_count, b->extra_count);
}

static void bulletin_reads_real_component_bulletins(void **state)
{
    (void)state;
    const char *texts[] = { mrvl_bulletin, netcomm_bulletin };
    for (size_t i = 0; i < 2; i++) {
        struct esximg_err err = {0};
        struct esximg_bulletin *b, *back;
        if (esximg_bulletin_read(texts[i], strlen(texts[i]), &b, &err))
            fail_msg("%s", err.msg);
        char *xml;
        size_t len;
        assert_int_equal(esximg_bulletin_write(b, &xml, &len, &err), 0);
        assert_int_equal(len, strlen(texts[i]));     /* only attributes move */
        assert_int_equal(esximg_bulletin_read(xml, len, &back, &err), 0);
        assert_same_bulletin(b, back);
        free(xml);
        esximg_bulletin_free(back);
        if (i == 0) {
            assert_string_equal(b->component_name, "MRVL-QLogic-FC");
            assert_string_equal(b->component_ui_version, "4.0.1.0-3vmw");
            assert_string_equal(b->platforms[0].version, "7.0");
            assert_string_equal(b->vib_ids[0],
                                "VMware_bootbank_qlnativefc_4.0.1.0-3vmw.700.1.0.15843807");
        } else {
            assert_string_equal(b->component_name, "Net-Community-Driver");
            assert_string_equal(b->platforms[0].version, "7.0.0");
        }
        esximg_bulletin_free(b);
    }
}

static void bulletin_keeps_unknown_and_refuses_bad(void **state)
{
    (void)state;
    const char xml[] = "<bulletin><id>X_1</id><hardwarePlatform/><vibList/><extra>1</extra>"
                       "</bulletin>";
    struct esximg_bulletin *b;
    assert_int_equal(esximg_bulletin_read(xml, sizeof xml - 1, &b, NULL), 0);
    char *out;
    size_t len;
    assert_int_equal(esximg_bulletin_write(b, &out, &len, NULL), 0);
    assert_string_equal(out, xml);
    free(out);
    esximg_bulletin_free(b);
    struct esximg_err err = {0};
    const char noid[] = "<bulletin><vendor>v</vendor></bulletin>";
    assert_int_equal(esximg_bulletin_read(noid, sizeof noid - 1, &b, &err), ESXIMG_EFORMAT);
    const char badlist[] = "<bulletin><id>x</id><vibList><vib/></vibList></bulletin>";
    assert_int_equal(esximg_bulletin_read(badlist, sizeof badlist - 1, &b, &err),
                     ESXIMG_EFORMAT);
    const char dtd[] = "<!DOCTYPE bulletin><bulletin><id>x</id></bulletin>";
    assert_int_equal(esximg_bulletin_read(dtd, sizeof dtd - 1, &b, &err), ESXIMG_EUNSAFE);
}

static void bulletin_new_for_a_standalone_vib(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_bulletin_spec s = {
        .component_name = "net55-r8168", .version = "8.045a-napi", .vendor = "Realtek",
        .release_date = "2024-01-02T03:04:05.000000+00:00", .platform_version = "7.0.0",
        .vib_id = "Realtek_bootbank_net55-r8168_8.045a-napi",
    };
    struct esximg_bulletin *b;
    assert_int_equal(esximg_bulletin_new(&s, &b, &err), 0);
    char *xml;
    size_t len;
    assert_int_equal(esximg_bulletin_write(b, &xml, &len, &err), 0);
    assert_string_equal(xml,
        "<bulletin><id>net55-r8168_8.045a-napi</id><vendor>Realtek</vendor>"
        "<summary>net55-r8168</summary><severity>general</severity><category>enhancement"
        "</category><urgency>important</urgency><releaseType>extension</releaseType>"
        "<description>net55-r8168</description><componentNameSpec name=\"net55-r8168\" "
        "uiString=\"net55-r8168\"/><componentVersionSpec version=\"8.045a-napi\" uiString="
        "\"8.045a-napi\"/><releaseDate>2024-01-02T03:04:05.000000+00:00</releaseDate>"
        "<platforms><softwarePlatform locale=\"\" productLineID=\"embeddedEsx\" version="
        "\"7.0.0\"/></platforms><vibList><vibID>Realtek_bootbank_net55-r8168_8.045a-napi"
        "</vibID></vibList></bulletin>");
    struct esximg_bulletin *back;
    assert_int_equal(esximg_bulletin_read(xml, len, &back, &err), 0);
    assert_same_bulletin(b, back);
    esximg_bulletin_free(back);
    free(xml);
    esximg_bulletin_free(b);
    s.vib_id = NULL;
    assert_int_equal(esximg_bulletin_new(&s, &b, &err), ESXIMG_EINVAL);
    s.vib_id = "x";
    s.vendor = "bad\x02";
    assert_int_equal(esximg_bulletin_new(&s, &b, &err), ESXIMG_EINVAL);
}

/* A signed VIB's .orig and .sig: added beside its xml, replaced, written and read back, and
 * removed with it. */
static void imgdb_vib_signature_files(void **state)
{
    (void)state;
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_new(&db, NULL), 0);
    assert_int_equal(esximg_imgdb_put_vib_xml(db, "a-1.xml", "<vib/>", 6, NULL), 0);
    assert_null(esximg_imgdb_find_vib_orig(db, "a-1.xml"));
    assert_null(esximg_imgdb_find_vib_sig(db, "a-1.xml"));
    struct esximg_err err = {0};
    assert_int_equal(esximg_imgdb_put_vib_signature(db, "a/1.xml", "o", 1, "s", 1, &err),
                     ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_put_vib_signature(db, "a-1.xml", "<vib/>", 6, "S1", 2, NULL),
                     0);
    assert_int_equal(esximg_imgdb_put_vib_signature(db, "a-1.xml", "<vib/>", 6, "S2", 2, NULL),
                     0);
    const struct esximg_imgdb_file *sig = esximg_imgdb_find_vib_sig(db, "a-1.xml");
    assert_non_null(sig);
    assert_string_equal(sig->path, ESXIMG_IMGDB_PREFIX "vibs/a-1.xml.sig");
    assert_int_equal(sig->len, 2);
    assert_memory_equal(sig->data, "S2", 2);
    assert_null(esximg_imgdb_find_vib_sig(db, "a-1.xm"));
    assert_null(esximg_imgdb_find_vib_sig(db, "a-1"));
    uint8_t *tgz = NULL;
    size_t len = 0;
    assert_int_equal(esximg_imgdb_write(db, NULL, &tgz, &len, NULL), 0);
    struct esximg_imgdb *back = NULL;
    assert_int_equal(esximg_imgdb_read(tgz, len, &back, NULL), 0);
    const struct esximg_imgdb_file *orig = esximg_imgdb_find_vib_orig(back, "a-1.xml");
    assert_non_null(orig);
    assert_int_equal(orig->len, 6);
    assert_memory_equal(orig->data, "<vib/>", 6);
    assert_int_equal(esximg_imgdb_remove_vib_xml(back, "a-1.xml", NULL), 0);
    assert_null(esximg_imgdb_find_vib_orig(back, "a-1.xml"));
    assert_null(esximg_imgdb_find_vib_sig(back, "a-1.xml"));
    free(tgz);
    esximg_imgdb_free(back);
    esximg_imgdb_free(db);
}

/* Base image and add-on records: one per folder, replaced as a whole, kept through a write
 * and a read, unsafe ids refused. */
static void imgdb_release_records(void **state)
{
    (void)state;
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_new(&db, NULL), 0);
    assert_null(esximg_imgdb_find_release(db, ESXIMG_IMGDB_BASE_IMAGES));
    struct esximg_err err = {0};
    assert_int_equal(esximg_imgdb_put_release(db, ESXIMG_IMGDB_BASE_IMAGES, "../x", "{}", 2,
                                              &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_put_release(db, ESXIMG_IMGDB_BASE_IMAGES, ".hidden", "{}", 2,
                                              &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_imgdb_put_release(db, ESXIMG_IMGDB_BASE_IMAGES, "ESXi_7.0.2-0.0.1",
                                              "{\"a\": 1}", 8, NULL), 0);
    assert_int_equal(esximg_imgdb_put_release(db, ESXIMG_IMGDB_BASE_IMAGES, "ESXi_7.0.2-0.5.2",
                                              "{\"b\": 2}", 8, NULL), 0);
    assert_int_equal(esximg_imgdb_put_release(db, ESXIMG_IMGDB_ADDONS, "OEM_1.0", "{}", 2, NULL),
                     0);
    uint8_t *tgz = NULL;
    size_t len = 0;
    assert_int_equal(esximg_imgdb_write(db, NULL, &tgz, &len, NULL), 0);
    struct esximg_imgdb *back = NULL;
    assert_int_equal(esximg_imgdb_read(tgz, len, &back, NULL), 0);
    const struct esximg_imgdb_file *base = esximg_imgdb_find_release(back,
                                                                     ESXIMG_IMGDB_BASE_IMAGES);
    assert_non_null(base);
    assert_string_equal(base->path, ESXIMG_IMGDB_PREFIX "baseimages/ESXi_7.0.2-0.5.2.json");
    assert_int_equal(base->len, 8);
    assert_memory_equal(base->data, "{\"b\": 2}", 8);
    char *id = esximg_imgdb_release_id(base);
    assert_string_equal(id, "ESXi_7.0.2-0.5.2");
    free(id);
    size_t files = 0;
    for (size_t i = 0; i < back->other_count; i++)
        files += !back->others[i].is_dir &&
                 strstr(back->others[i].path, "/baseimages/") != NULL;
    assert_int_equal(files, 1);  /* the first one was replaced */
    id = esximg_imgdb_release_id(esximg_imgdb_find_release(back, ESXIMG_IMGDB_ADDONS));
    assert_string_equal(id, "OEM_1.0");
    free(id);
    size_t removed = 0;
    esximg_imgdb_remove_releases(back, ESXIMG_IMGDB_ADDONS, &removed);
    assert_int_equal(removed, 1);
    assert_null(esximg_imgdb_find_release(back, ESXIMG_IMGDB_ADDONS));
    assert_non_null(esximg_imgdb_find_release(back, ESXIMG_IMGDB_BASE_IMAGES));
    free(tgz);
    esximg_imgdb_free(back);
    esximg_imgdb_free(db);
}

/* The real 6.7 host database: every one of its 136 VIBs has its .orig and .sig found. */
static void imgdb_host_database_signatures(void **state)
{
    (void)state;
    if (tu_require_samples("imgdb_host_database_signatures"))
        return;
    char *dir = tu_sample_path("ljvblfz__ESXi/var/db/esximg/vibs");
    char **paths = NULL;
    size_t n = tu_find_files(dir, "", &paths);
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_new(&db, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t *data;
        size_t len;
        tu_read_file(paths[i], &data, &len);
        char *member = NULL;
        assert_true(asprintf(&member, ESXIMG_IMGDB_PREFIX "vibs/%s",
                             strrchr(paths[i], '/') + 1) > 0);
        assert_int_equal(esximg_imgdb_add_file(db, member, data, len, NULL), 0);
        free(member);
        free(data);
    }
    assert_int_equal(db->vib_count, 136);
    for (size_t i = 0; i < db->vib_count; i++) {
        const char *file = strrchr(db->vibs[i].path, '/') + 1;
        assert_non_null(esximg_imgdb_find_vib_orig(db, file));
        const struct esximg_imgdb_file *sig = esximg_imgdb_find_vib_sig(db, file);
        assert_non_null(sig);
        assert_true(sig->len > 0 && memcmp(sig->data, "-----BEGIN PKCS7-----", 21) == 0);
    }
    esximg_imgdb_free(db);
    tu_free_list(paths, n);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imgdb_reads_a_hand_made_ustar),
        cmocka_unit_test(imgdb_reads_without_a_profile),
        cmocka_unit_test(imgdb_refuses_unsafe_members),
        cmocka_unit_test(imgdb_refuses_two_profiles_and_a_bad_one),
        cmocka_unit_test(imgdb_refuses_broken_archives),
        cmocka_unit_test(imgdb_writes_gnu_tar_deterministically),
        cmocka_unit_test(imgdb_read_write_read_keeps_everything),
        cmocka_unit_test(imgdb_edits_vib_files_and_profile),
        cmocka_unit_test(imgdb_python_tarfile_reads_the_output),
        cmocka_unit_test(profile_keeps_unknown_elements_in_place),
        cmocka_unit_test(profile_refuses_dtd_entities_and_network),
        cmocka_unit_test(profile_refuses_malformed_documents),
        cmocka_unit_test(profile_refuses_oversized_input),
        cmocka_unit_test(profile_edits_like_a_customizer),
        cmocka_unit_test(profile_file_name_quotes_and_cuts),
        cmocka_unit_test(profile_vib_id_split_rule),
        cmocka_unit_test(bulletin_reads_real_component_bulletins),
        cmocka_unit_test(bulletin_keeps_unknown_and_refuses_bad),
        cmocka_unit_test(bulletin_new_for_a_standalone_vib),
        cmocka_unit_test(imgdb_vib_signature_files),
        cmocka_unit_test(imgdb_release_records),
        cmocka_unit_test(imgdb_host_database_signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
