/* test_vibauthor.c: building VIBs from memory and temp folders (read back and verified),
 * descriptor checks, determinism, the sticky bit, stage folders, the OEM .tgz reader (valid
 * and hostile) and the map-only files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "esx_private.h"
#include "esximg/vibauthor.h"
#include "esximg/vmtar.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static struct esximg_descriptor *new_desc(const char *name, const char *version)
{
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_descriptor_new(&d, &err), 0);
    const struct esximg_vibauthor_fields f = { .name = name, .version = version,
                                               .vendor = "Test", .summary = "s" };
    assert_int_equal(esximg_vibauthor_apply(d, &f, &err), 0);
    return d;
}

static const struct esximg_vibauthor_entry sample_entries[] = {
    { .path = "opt/t/bin/run.sh", .mode = 0755, .data = "#!/bin/sh\n", .len = 10 },
    { .path = "etc/t/t.conf", .data = "a=1\n", .len = 4 },
    { .path = "tmp/shared", .kind = ESXIMG_VIBAUTHOR_DIR, .mode = 01777 },
    { .path = "opt/t/link", .kind = ESXIMG_VIBAUTHOR_SYMLINK, .link = "bin/run.sh" },
};

static uint8_t *build(struct esximg_descriptor *d, const char *type,
                      const struct esximg_vibauthor_entry *e, size_t n, int64_t mtime,
                      size_t *len, int expect)
{
    const struct esximg_vibauthor_payload p = { .name = "payload1", .type = type,
                                                .entries = e, .entry_count = n };
    const struct esximg_vibauthor_opts o = { .mtime = mtime };
    uint8_t *out = NULL;
    struct esximg_err err = { 0 };
    int rc = esximg_vibauthor_build(d, &p, 1, &o, &out, len, &err);
    if (rc != expect)
        print_error("build: %d %s\n", rc, err.msg);
    assert_int_equal(rc, expect);
    return out;
}

static void read_verify(const uint8_t *vib, size_t len, struct esximg_vib **out)
{
    struct esximg_err err = { 0 };
    struct esximg_vib *v = NULL;
    assert_int_equal(esximg_vib_read(vib, len, &v, &err), 0);
    struct esximg_vib_verify_result *r = NULL;
    assert_int_equal(esximg_vib_verify(v, NULL, &r, &err), 0);
    assert_true(r->all_ok);
    assert_int_equal(r->check_count, 4 * v->desc->payload_count);   /* size, 3 checksums */
    assert_false(r->signed_vib);
    esximg_vib_verify_result_free(r);
    *out = v;
}

/* ---------------------------------------------------------------- building */

static void vibauthor_builds_verifiable_vgz(void **state)
{
    (void)state;
    struct esximg_descriptor *d = new_desc("test-vib", "1.0.0-1");
    size_t len = 0;
    uint8_t *vib = build(d, NULL, sample_entries, 4, 1700000000, &len, 0);
    struct esximg_vib *v = NULL;
    read_verify(vib, len, &v);
    assert_int_equal(v->member_count, 3);
    assert_string_equal(v->members[0].name, "descriptor.xml");
    assert_string_equal(v->members[1].name, "sig.pkcs7");
    assert_int_equal(v->members[1].size, 0);
    assert_string_equal(v->members[2].name, "payload1");
    const struct esximg_descriptor *rd = v->desc;
    assert_string_equal(rd->name, "test-vib");
    assert_string_equal(rd->acceptance_level, "community");
    assert_string_equal(rd->type, "bootbank");
    assert_true(rd->stateless_ready);
    /* file-list: files and links, not folders, sorted */
    assert_int_equal(rd->file_count, 3);
    assert_string_equal(rd->files[0], "etc/t/t.conf");
    assert_string_equal(rd->files[1], "opt/t/bin/run.sh");
    assert_string_equal(rd->files[2], "opt/t/link");
    /* checksums in the 6.5+ order */
    const struct esximg_payload *p = &rd->payloads[0];
    assert_string_equal(p->type, "vgz");
    assert_int_equal(p->checksum_count, 3);
    assert_string_equal(p->checksums[0].type, "sha-256");
    assert_string_equal(p->checksums[0].verify_process, "gunzip");
    assert_string_equal(p->checksums[1].type, "sha-256");
    assert_null(p->checksums[1].verify_process);
    assert_string_equal(p->checksums[2].type, "sha-1");
    assert_int_equal(p->size, v->members[2].size);
    /* the payload is a 4096-aligned vmtar with the sticky bit, owner root, parents */
    size_t plen = 0;
    const uint8_t *pd = esximg_vib_member_data(v, "payload1", &plen);
    struct esximg_vmtar *t = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vmtar_read(pd, plen, &t, &err), 0);
    assert_true(t->gzipped);
    assert_int_equal(t->layout.alignment, 4096);
    const struct esximg_vmtar_entry *sticky = esximg_vmtar_find(t, "tmp/shared/");
    assert_non_null(sticky);
    assert_int_equal(sticky->mode & 07777, 01777);
    const struct esximg_vmtar_entry *opt = esximg_vmtar_find(t, "opt/");
    assert_non_null(opt);
    assert_int_equal(opt->typeflag, '5');
    const struct esximg_vmtar_entry *run = esximg_vmtar_find(t, "opt/t/bin/run.sh");
    assert_int_equal(run->mode & 07777, 0755);
    assert_int_equal(run->uid, 0);
    assert_int_equal(run->mtime, 1700000000);
    for (size_t i = 1; i < t->entry_count; i++)
        assert_true(strcmp(t->entries[i - 1].name, t->entries[i].name) < 0);
    esximg_vmtar_free(t);
    esximg_vib_free(v);
    free(vib);
    esximg_descriptor_free(d);
}

static void vibauthor_builds_tgz_as_gnu_tar(void **state)
{
    (void)state;
    struct esximg_descriptor *d = new_desc("tgz-vib", "2.0-1");
    size_t len = 0;
    uint8_t *vib = build(d, "tgz", sample_entries, 4, 0, &len, 0);
    struct esximg_vib *v = NULL;
    read_verify(vib, len, &v);
    assert_string_equal(v->desc->payloads[0].type, "tgz");
    size_t plen = 0;
    const uint8_t *pd = esximg_vib_member_data(v, "payload1", &plen);
    bool gz = false;
    assert_int_equal(esximg_vmtar_sniff_data(pd, plen, &gz), ESXIMG_TAR_GNU);
    assert_true(gz);
    /* libarchive reads it back, sticky bit and symlink included */
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_memory(a, pd, plen), ARCHIVE_OK);
    struct archive_entry *e;
    int seen = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(e);
        if (strcmp(n, "tmp/shared/") == 0) {
            assert_int_equal(archive_entry_perm(e), 01777);
            seen |= 1;
        }
        if (strcmp(n, "opt/t/link") == 0) {
            assert_string_equal(archive_entry_symlink(e), "bin/run.sh");
            seen |= 2;
        }
        assert_string_equal(archive_entry_uname(e), "root");
    }
    assert_int_equal(seen, 3);
    archive_read_free(a);
    esximg_vib_free(v);
    free(vib);
    esximg_descriptor_free(d);
}

static void vibauthor_is_deterministic(void **state)
{
    (void)state;
    struct esximg_descriptor *d1 = new_desc("det", "1.0-1");
    struct esximg_descriptor *d2 = new_desc("det", "1.0-1");
    size_t l1 = 0, l2 = 0, l3 = 0;
    uint8_t *a = build(d1, NULL, sample_entries, 4, 5, &l1, 0);
    uint8_t *b = build(d2, NULL, sample_entries, 4, 5, &l2, 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    /* entries in another order give the same bytes; another mtime does not */
    const struct esximg_vibauthor_entry rev[] = { sample_entries[3], sample_entries[2],
                                                  sample_entries[1], sample_entries[0] };
    uint8_t *c = build(d2, NULL, rev, 4, 5, &l3, 0);
    assert_int_equal(l1, l3);
    assert_memory_equal(a, c, l1);
    free(c);
    c = build(d2, NULL, rev, 4, 6, &l3, 0);
    assert_true(l1 != l3 || memcmp(a, c, l1) != 0);
    free(a);
    free(b);
    free(c);
    esximg_descriptor_free(d1);
    esximg_descriptor_free(d2);
}

static void vibauthor_refuses_bad_identity(void **state)
{
    (void)state;
    static const struct { const char *name, *version, *what; } bad[] = {
        { "bad name", "1.0-1", "name" },
        { "", "1.0-1", "name" },
        { "abcdefghijabcdefghijabcdefghijabcdef", "1.0-1", "name" },   /* 36 */
        { "ok", "1.0", "version" },
        { "ok", "1.0-", "version" },
        { "ok", "1..0-1", "version" },
        { "ok", "1.0-1-2", "version" },
        { "ok", "1.0-1a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "version" },   /* 37 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct esximg_descriptor *d = new_desc(bad[i].name, bad[i].version);
        const struct esximg_vibauthor_payload p = { .name = "p", .entries = sample_entries,
                                                    .entry_count = 1 };
        uint8_t *out = NULL;
        size_t len = 0;
        struct esximg_err err = { 0 };
        assert_int_equal(esximg_vibauthor_build(d, &p, 1, NULL, &out, &len, &err),
                         ESXIMG_EINVAL);
        assert_non_null(strstr(err.msg, bad[i].what));
        assert_null(out);
        esximg_descriptor_free(d);
    }
    /* acceptance, vendor, payload names and types */
    struct esximg_descriptor *d = new_desc("ok", "1.0-1");
    struct esximg_err err = { 0 };
    free(d->acceptance_level);
    d->acceptance_level = strdup("trusted");
    assert_int_equal(esximg_vibauthor_check(d, &err), ESXIMG_EINVAL);   /* no payload yet */
    const struct esximg_vibauthor_payload long_name = {
        .name = "sixteen-chars-xx", .entries = sample_entries, .entry_count = 1 };
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(esximg_vibauthor_build(d, &long_name, 1, NULL, &out, &len, &err),
                     ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "acceptance"));
    free(d->acceptance_level);
    d->acceptance_level = strdup("partner");
    assert_int_equal(esximg_vibauthor_build(d, &long_name, 1, NULL, &out, &len, &err),
                     ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "1-15"));
    esximg_descriptor_free(d);
    d = new_desc("ok", "1.0-1");
    const struct esximg_vibauthor_payload bad_type = {
        .name = "p", .type = "boot", .entries = sample_entries, .entry_count = 1 };
    assert_int_equal(esximg_vibauthor_build(d, &bad_type, 1, NULL, &out, &len, &err),
                     ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "not vgz or tgz"));
    esximg_descriptor_free(d);
}

static void vibauthor_refuses_bad_paths(void **state)
{
    (void)state;
    char longpath[120];
    memset(longpath, 'a', sizeof longpath);
    memcpy(longpath, "opt/", 4);
    longpath[100] = '\0';   /* 100 bytes */
    const struct { struct esximg_vibauthor_entry e; int code; } bad[] = {
        { { .path = longpath, .data = "x", .len = 1 }, ESXIMG_ELIMIT },
        { { .path = "../etc/passwd", .data = "x", .len = 1 }, ESXIMG_EUNSAFE },
        { { .path = "/etc/passwd", .data = "x", .len = 1 }, ESXIMG_EUNSAFE },
        { { .path = "a/./b", .data = "x", .len = 1 }, ESXIMG_EINVAL },
        { { .path = "a//b", .data = "x", .len = 1 }, ESXIMG_EINVAL },
        { { .path = "a/l", .kind = ESXIMG_VIBAUTHOR_SYMLINK, .link = "../../etc" },
          ESXIMG_EUNSAFE },
        { { .path = "a/l", .kind = ESXIMG_VIBAUTHOR_SYMLINK, .link = "/etc/passwd" },
          ESXIMG_EUNSAFE },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct esximg_descriptor *d = new_desc("p", "1.0-1");
        size_t len = 0;
        uint8_t *out = build(d, NULL, &bad[i].e, 1, 0, &len, bad[i].code);
        assert_null(out);
        esximg_descriptor_free(d);
    }
    /* 99 bytes is fine; a file under a file and a path given twice are not */
    longpath[99] = '\0';
    struct esximg_descriptor *d = new_desc("p", "1.0-1");
    size_t len = 0;
    const struct esximg_vibauthor_entry ok = { .path = longpath, .data = "x", .len = 1 };
    free(build(d, NULL, &ok, 1, 0, &len, 0));
    const struct esximg_vibauthor_entry under[] = {
        { .path = "a", .data = "x", .len = 1 }, { .path = "a/b", .data = "y", .len = 1 } };
    assert_null(build(d, NULL, under, 2, 0, &len, ESXIMG_EINVAL));
    const struct esximg_vibauthor_entry twice[] = {
        { .path = "a", .data = "x", .len = 1 }, { .path = "a", .data = "y", .len = 1 } };
    assert_null(build(d, NULL, twice, 2, 0, &len, ESXIMG_EINVAL));
    esximg_descriptor_free(d);
}

static void vibauthor_parses_constraints(void **state)
{
    (void)state;
    struct esximg_constraint c;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_parse_constraint("esx-version >= 7.0.0", false, &c,
                                                       &err), 0);
    assert_string_equal(c.name, "esx-version");
    assert_string_equal(c.relation, ">=");
    assert_string_equal(c.version, "7.0.0");
    free(c.name);
    free(c.relation);
    free(c.version);
    assert_int_equal(esximg_vibauthor_parse_constraint("vmkapi_2_3_0_0", false, &c, &err), 0);
    assert_null(c.relation);
    assert_null(c.version);
    free(c.name);
    assert_int_equal(esximg_vibauthor_parse_constraint("x<<2.0", false, &c, &err), 0);
    assert_string_equal(c.relation, "<<");
    free(c.name);
    free(c.relation);
    free(c.version);
    assert_int_equal(esximg_vibauthor_parse_constraint("p = 1.0", true, &c, &err), 0);
    assert_null(c.relation);
    assert_string_equal(c.version, "1.0");
    free(c.name);
    free(c.version);
    const char *bad[] = { "", "x >=", "x 1.0", "x => 1", "a b", "x >= 1 2", ">= 1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(esximg_vibauthor_parse_constraint(bad[i], false, &c, &err),
                         ESXIMG_EINVAL);
    assert_int_equal(esximg_vibauthor_parse_constraint("p >= 1", true, &c, &err),
                     ESXIMG_EINVAL);
    /* apply changes nothing when one constraint is bad */
    struct esximg_descriptor *d = new_desc("n", "1.0-1");
    const char *deps[] = { "good", "bad >=" };
    const struct esximg_vibauthor_fields f = { .name = "other", .depends = deps,
                                               .depends_count = 2 };
    assert_int_equal(esximg_vibauthor_apply(d, &f, &err), ESXIMG_EINVAL);
    assert_string_equal(d->name, "n");
    assert_int_equal(d->depends.count, 0);
    esximg_descriptor_free(d);
    char date[48];
    assert_int_equal(esximg_vibauthor_format_date(1609211047, date, sizeof date, &err), 0);
    assert_string_equal(date, "2020-12-29T03:04:07.000000+00:00");
    assert_int_equal(esximg_vibauthor_format_date(-1, date, sizeof date, &err), ESXIMG_EINVAL);
}

/* ---------------------------------------------------------------- folders and stages */

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static char *join(const char *a, const char *b)
{
    char *p = esx_path_join(a, b);
    assert_non_null(p);
    return p;
}

static void vibauthor_reads_stage_folder(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *desc = join(dir, "descriptor.xml"), *pl = join(dir, "payloads");
    write_file(desc, "<vib version=\"5.0\">\n  <type>bootbank</type>\n  <name>st</name>\n"
               "  <version>1.0-1</version>\n  <vendor>V</vendor>\n"
               "  <summary>s</summary>\n  <release-date>2001-01-01T00:00:00</release-date>\n"
               "  <payloads><payload name=\"first\" type=\"tgz\"></payload></payloads>\n"
               "</vib>\n", 0644);
    assert_int_equal(mkdir(pl, 0755), 0);
    char *first = join(pl, "first"), *second = join(pl, "second");
    assert_int_equal(mkdir(first, 0700), 0);
    assert_int_equal(mkdir(second, 0755), 0);
    char *f1 = join(first, "a.txt"), *sub = join(second, "tmp"), *f2 = NULL;
    write_file(f1, "one\n", 0600);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chmod(sub, 01777), 0);
    f2 = join(sub, "x.sh");
    write_file(f2, "#!/bin/sh\n", 0700);
    struct esximg_vibauthor_stage *s = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_stage_read(dir, &s, &err), 0);
    assert_int_equal(s->payload_count, 2);
    assert_string_equal(s->payloads[0].name, "first");
    assert_string_equal(s->payloads[0].type, "tgz");
    assert_null(s->payloads[1].type);
    uint8_t *vib = NULL;
    size_t len = 0;
    assert_int_equal(esximg_vibauthor_build(s->desc, s->payloads, s->payload_count, NULL,
                                            &vib, &len, &err), 0);
    struct esximg_vib *v = NULL;
    read_verify(vib, len, &v);
    assert_int_equal(v->desc->payload_count, 2);
    assert_string_equal(v->desc->payloads[1].name, "second");
    assert_string_equal(v->desc->payloads[1].type, "vgz");
    assert_string_equal(v->desc->release_date, "2001-01-01T00:00:00");
    assert_int_equal(v->desc->file_count, 2);
    assert_string_equal(v->desc->files[0], "a.txt");
    assert_string_equal(v->desc->files[1], "tmp/x.sh");
    /* modes normalised, sticky kept */
    size_t plen = 0;
    const uint8_t *pd = esximg_vib_member_data(v, "second", &plen);
    struct esximg_vmtar *t = NULL;
    assert_int_equal(esximg_vmtar_read(pd, plen, &t, &err), 0);
    assert_int_equal(esximg_vmtar_find(t, "tmp/")->mode & 07777, 01755);
    assert_int_equal(esximg_vmtar_find(t, "tmp/x.sh")->mode & 07777, 0755);
    esximg_vmtar_free(t);
    esximg_vib_free(v);
    free(vib);
    esximg_vibauthor_stage_free(s);

    /* an escaping symlink in a stage is refused, a FIFO is not supported */
    char *lnk = join(sub, "evil");
    assert_int_equal(symlink("../../../../etc/passwd", lnk), 0);
    assert_int_equal(esximg_vibauthor_stage_read(dir, &s, &err), 0);
    vib = NULL;
    assert_int_equal(esximg_vibauthor_build(s->desc, s->payloads, s->payload_count, NULL,
                                            &vib, &len, &err), ESXIMG_EUNSAFE);
    assert_null(vib);
    esximg_vibauthor_stage_free(s);
    unlink(lnk);
    assert_int_equal(mkfifo(lnk, 0644), 0);
    assert_int_equal(esximg_vibauthor_stage_read(dir, &s, &err), 0);
    assert_int_equal(esximg_vibauthor_build(s->desc, s->payloads, s->payload_count, NULL,
                                            &vib, &len, &err), ESXIMG_EUNSUPPORTED);
    esximg_vibauthor_stage_free(s);
    /* a listed payload without a folder */
    tu_rmtree(first);
    assert_int_equal(esximg_vibauthor_stage_read(dir, &s, &err), 0);
    assert_int_equal(esximg_vibauthor_build(s->desc, s->payloads, s->payload_count, NULL,
                                            &vib, &len, &err), ESXIMG_ENOTFOUND);
    esximg_vibauthor_stage_free(s);
    char *files[] = { desc, pl, first, second, f1, sub, f2, lnk };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        free(files[i]);
    tu_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------- OEM .tgz */

struct oem_member {
    const char *name;
    char type;          /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
    const char *data;
};

static uint8_t *oem_tgz(const struct oem_member *m, size_t n, size_t *len)
{
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_gnutar(a);
    archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    for (size_t i = 0; i < n; i++) {
        archive_entry_clear(e);
        archive_entry_copy_pathname(e, m[i].name);
        size_t dl = m[i].data ? strlen(m[i].data) : 0;
        if (m[i].type == 'd') {
            archive_entry_set_filetype(e, AE_IFDIR);
        } else if (m[i].type == 'l') {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_copy_symlink(e, m[i].data);
            dl = 0;
        } else if (m[i].type == 'h') {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_copy_hardlink(e, m[i].data);
            dl = 0;
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
        }
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)dl);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (dl)
            assert_int_equal(archive_write_data(a, m[i].data, dl), (la_ssize_t)dl);
    }
    archive_entry_free(e);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return buf;
}

#define OEM_MODULE { "usr/lib/vmware/vmkmod/r8168", 'f', "\177ELFmodule" }
#define OEM_MAP { "etc/vmware/driver.map.d/r8168.map", 'f', "regtype=linux\n" }
#define OEM_IDS { "usr/share/hwdata/driver.pciids.d/r8168.ids", 'f', "10ec  Realtek\n" }

static int oem_try(const struct oem_member *m, size_t n, struct esximg_vibauthor_oem **o,
                   struct esximg_err *err)
{
    size_t len = 0;
    uint8_t *tgz = oem_tgz(m, n, &len);
    int rc = esximg_vibauthor_oem_read(tgz, len, o, err);
    free(tgz);
    return rc;
}

static void vibauthor_reads_oem_tgz(void **state)
{
    (void)state;
    const struct oem_member ok[] = {
        { "./", 'd', NULL }, { "./usr/", 'd', NULL }, { "usr/lib/", 'd', NULL },
        { "etc/vmware/driver.map.d/", 'd', NULL }, OEM_MODULE, OEM_MAP, OEM_IDS,
    };
    struct esximg_vibauthor_oem *o = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(oem_try(ok, 7, &o, &err), 0);
    assert_string_equal(o->module, "r8168");
    assert_int_equal(o->file_count, 3);
    assert_string_equal(o->files[0].path, "usr/lib/vmware/vmkmod/r8168");
    assert_string_equal(o->files[1].path, "etc/vmware/driver.map.d/r8168.map");
    assert_string_equal(o->files[2].path, "usr/share/hwdata/driver.pciids.d/r8168.ids");
    assert_int_equal(o->files[0].len, 10);
    assert_memory_equal(o->files[0].data, "\177ELFmodule", 10);
    esximg_vibauthor_oem_free(o);
    /* ids are optional */
    const struct oem_member two[] = { OEM_MAP, OEM_MODULE };
    assert_int_equal(oem_try(two, 2, &o, &err), 0);
    assert_int_equal(o->file_count, 2);
    esximg_vibauthor_oem_free(o);
}

/* The OEM rule: name from the module (4.x ".o" dropped), the driver defaults, an 8-character
 * payload holding the archive's files as found. */
static void vibauthor_gives_oem_defaults(void **state)
{
    (void)state;
    const struct oem_member m[] = {
        { "usr/lib/vmware/vmkmod/e1000e_longname.o", 'f', "\177ELFmodule" }, OEM_MAP,
    };
    struct esximg_vibauthor_oem *o = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(oem_try(m, 2, &o, &err), 0);
    struct esximg_descriptor *d = NULL;
    assert_int_equal(esximg_vibauthor_oem_descriptor(o, &d, &err), 0);
    assert_string_equal(d->name, "e1000e_longname");
    assert_string_equal(d->version, "1.0-1");
    assert_string_equal(d->vendor, "custom");
    assert_string_equal(d->summary, "e1000e_longname driver");
    assert_string_equal(d->description, "e1000e_longname driver");
    assert_true(d->maintenance_mode);
    assert_int_equal(d->tag_count, 2);
    assert_string_equal(d->tags[0], "driver");
    assert_string_equal(d->tags[1], "module");
    assert_null(d->release_date);
    struct esximg_vibauthor_oem_payload p;
    esximg_vibauthor_oem_payload(o, d->name, &p);
    assert_string_equal(p.payload.name, "e1000e_l");
    assert_string_equal(p.payload.type, "vgz");
    assert_int_equal(p.payload.entry_count, 2);
    assert_ptr_equal(p.payload.entries, p.entries);
    assert_string_equal(p.entries[0].path, "usr/lib/vmware/vmkmod/e1000e_longname.o");
    assert_string_equal(p.entries[1].path, "etc/vmware/driver.map.d/r8168.map");
    assert_int_equal(p.entries[0].mode, 0644);
    assert_memory_equal(p.entries[0].data, "\177ELFmodule", 10);
    esximg_vibauthor_oem_payload(o, "r8", &p);
    assert_string_equal(p.payload.name, "r8");
    esximg_descriptor_free(d);
    esximg_vibauthor_oem_free(o);
}

/* The map-only rule: "<driver>-map", no tags, the map and ids under default.*.d/. */
static void vibauthor_gives_map_only_defaults(void **state)
{
    (void)state;
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_map_descriptor("ne1000", &d, &err), 0);
    assert_string_equal(d->name, "ne1000-map");
    assert_string_equal(d->version, "1.0-1");
    assert_string_equal(d->vendor, "custom");
    assert_string_equal(d->summary, "Maps more PCI devices to the ne1000 driver");
    assert_true(d->maintenance_mode);
    assert_int_equal(d->tag_count, 0);
    struct esximg_vibauthor_map_payload p;
    esximg_vibauthor_map_payload(d->name, "map", 3, "ids!", 4, &p);
    assert_string_equal(p.payload.name, "ne1000-m");
    assert_string_equal(p.payload.type, "vgz");
    assert_int_equal(p.payload.entry_count, 2);
    assert_string_equal(p.entries[0].path, "etc/vmware/default.map.d/ne1000-map.map");
    assert_string_equal(p.entries[1].path, "usr/share/hwdata/default.pciids.d/ne1000-map.ids");
    assert_int_equal(p.entries[1].len, 4);
    assert_memory_equal(p.entries[1].data, "ids!", 4);
    esximg_descriptor_free(d);
}

static void vibauthor_refuses_hostile_oem_tgz(void **state)
{
    (void)state;
    const struct {
        struct oem_member m[4];
        size_t n;
        int code;
        const char *msg;
    } bad[] = {
        { { OEM_MODULE, OEM_MAP, { "etc/passwd", 'f', "root" } }, 3, ESXIMG_EFORMAT,
          "not a driver file" },
        { { OEM_MODULE, OEM_MAP, { "../usr/lib/vmware/vmkmod/x", 'f', "x" } }, 3,
          ESXIMG_EUNSAFE, "'..'" },
        { { OEM_MODULE, OEM_MAP, { "/usr/lib/vmware/vmkmod/y", 'f', "x" } }, 3,
          ESXIMG_EUNSAFE, "absolute" },
        { { OEM_MODULE, OEM_MAP, { "usr/lib/vmware/vmkmod/l", 'l', "/etc/passwd" } }, 3,
          ESXIMG_EUNSAFE, "links" },
        { { OEM_MODULE, OEM_MAP, { "usr/lib/vmware/vmkmod/h", 'h',
                                   "usr/lib/vmware/vmkmod/r8168" } }, 3,
          ESXIMG_EUNSAFE, "links" },
        { { OEM_MAP, OEM_IDS }, 2, ESXIMG_EFORMAT, "no module" },
        { { OEM_MODULE }, 1, ESXIMG_EFORMAT, "no map" },
        { { OEM_MODULE, OEM_MAP, { "usr/lib/vmware/vmkmod/other", 'f', "x" } }, 3,
          ESXIMG_EFORMAT, "second module" },
        { { OEM_MODULE, OEM_MAP, { "usr/lib/vmware/vmkmod/sub/x", 'f', "x" } }, 3,
          ESXIMG_EFORMAT, "not a driver file" },
        { { OEM_MODULE, OEM_MAP, { "var/", 'd', NULL } }, 3, ESXIMG_EFORMAT,
          "not a driver file" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct esximg_vibauthor_oem *o = NULL;
        struct esximg_err err = { 0 };
        int rc = oem_try(bad[i].m, bad[i].n, &o, &err);
        if (rc != bad[i].code || !strstr(err.msg, bad[i].msg))
            print_error("case %zu: %d %s\n", i, rc, err.msg);
        assert_int_equal(rc, bad[i].code);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_null(o);
    }
    /* truncated: every prefix of a valid tgz is refused, none crashes */
    const struct oem_member ok[] = { OEM_MODULE, OEM_MAP };
    size_t len = 0;
    uint8_t *tgz = oem_tgz(ok, 2, &len);
    for (size_t cut = 0; cut < len - 1; cut += 7) {
        struct esximg_vibauthor_oem *o = NULL;
        struct esximg_err err = { 0 };
        assert_int_not_equal(esximg_vibauthor_oem_read(tgz, cut, &o, &err), 0);
        assert_null(o);
    }
    free(tgz);
    struct esximg_vibauthor_oem *o = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_oem_read("not a tar at all", 16, &o, &err),
                     ESXIMG_EFORMAT);
}

/* ---------------------------------------------------------------- map-only */

static void vibauthor_writes_map_and_ids(void **state)
{
    (void)state;
    struct esximg_vibauthor_pci_id ids[3];
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_pci_parse("8086:A102", &ids[0], &err), 0);
    assert_int_equal(esximg_vibauthor_pci_parse("1b4b:9215:1028:00fe", &ids[1], &err), 0);
    assert_int_equal(esximg_vibauthor_pci_parse("8086:a102", &ids[2], &err), 0);
    const char *bad[] = { "8086", "8086:a10", "8086:a1022", "8086:a102:1028", "xyzw:0000",
                          "8086:a102:1028:00fe:1", "8086-a102", "" };
    struct esximg_vibauthor_pci_id tmp;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(esximg_vibauthor_pci_parse(bad[i], &tmp, &err), ESXIMG_EINVAL);
    char *map = NULL;
    size_t len = 0;
    assert_int_equal(esximg_vibauthor_map_text("vmw_ahci", ids, 3, &map, &len, &err), 0);
    assert_string_equal(map,
                        "regtype=native,bus=pci,id=8086a102..............,driver=vmw_ahci\n"
                        "regtype=native,bus=pci,id=1b4b9215102800fe......,driver=vmw_ahci\n");
    assert_int_equal(len, strlen(map));
    free(map);
    assert_int_equal(esximg_vibauthor_map_text("bad,driver", ids, 1, &map, &len, &err),
                     ESXIMG_EINVAL);
    assert_int_equal(esximg_vibauthor_map_text("x", ids, 0, &map, &len, &err), ESXIMG_EINVAL);

    const struct esximg_vibauthor_pci_name names[] = {
        { "8086:a102", "Intel SATA AHCI" },
        { "1b4b:9215:1028:00fe", "Dell card" },
        { "1b4b", "Marvell" },
    };
    char *text = NULL;
    assert_int_equal(esximg_vibauthor_ids_text(ids, 2, names, 3, &text, &len, &err), 0);
    const char *body = strstr(text, "two tabs\n\n");
    assert_non_null(body);
    assert_string_equal(body + strlen("two tabs\n\n"),
                        "1b4b  Marvell\n"
                        "\t9215  Device 9215\n"
                        "\t\t1028 00fe  Dell card\n"
                        "8086  Vendor 8086\n"
                        "\ta102  Intel SATA AHCI\n");
    free(text);
    const struct esximg_vibauthor_pci_name unknown[] = { { "10de:1234", "not given" } };
    assert_int_equal(esximg_vibauthor_ids_text(ids, 2, unknown, 1, &text, &len, &err),
                     ESXIMG_EINVAL);
    const struct esximg_vibauthor_pci_name ctrl[] = { { "8086", "bad\nname" } };
    assert_int_equal(esximg_vibauthor_ids_text(ids, 2, ctrl, 1, &text, &len, &err),
                     ESXIMG_EINVAL);
    const struct esximg_vibauthor_pci_name twice[] = { { "8086", "a" }, { "8086", "b" } };
    assert_int_equal(esximg_vibauthor_ids_text(ids, 2, twice, 2, &text, &len, &err),
                     ESXIMG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vibauthor_builds_verifiable_vgz),
        cmocka_unit_test(vibauthor_builds_tgz_as_gnu_tar),
        cmocka_unit_test(vibauthor_is_deterministic),
        cmocka_unit_test(vibauthor_refuses_bad_identity),
        cmocka_unit_test(vibauthor_refuses_bad_paths),
        cmocka_unit_test(vibauthor_parses_constraints),
        cmocka_unit_test(vibauthor_reads_stage_folder),
        cmocka_unit_test(vibauthor_reads_oem_tgz),
        cmocka_unit_test(vibauthor_gives_oem_defaults),
        cmocka_unit_test(vibauthor_gives_map_only_defaults),
        cmocka_unit_test(vibauthor_refuses_hostile_oem_tgz),
        cmocka_unit_test(vibauthor_writes_map_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
