/* test_vmtar_stream.c: the streaming vmtar writer (esximg_vmtar_write_file over entries built by
 * reference) and extractor (esximg_vmtar_extract_file), each against the in-memory path on the
 * same trees and archives, and the hostile and changing-input cases. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/vmtar.h"
#include "testutil.h"

#define BLK 512u

static void ts_put(const char *dir, const char *name, const uint8_t *data, size_t n,
                   mode_t mode)
{
    char *p = esx_path_join(dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    assert_int_equal(chmod(p, mode), 0);
    free(p);
}

static void ts_mkdir(const char *dir, const char *name, mode_t mode)
{
    char *p = esx_path_join(dir, name);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(chmod(p, mode), 0);
    free(p);
}

/* A tree with what the writer must get right: empty files, sizes around the block and the
 * 1 MiB chunk, compressible and random data, a sticky directory, setuid, symlinks. */
static char *ts_tree(void)
{
    char *src = tu_mkdtemp();
    size_t big = (3u << 20) + 777;
    uint8_t *data = malloc(big);
    assert_non_null(data);
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        /* first half text-like (compresses), second half noise */
        data[i] = i < big / 2 ? (uint8_t)("abcdefgh \n"[(x >> 16) % 10]) : (uint8_t)(x >> 24);
    }
    ts_mkdir(src, "etc", 0755);
    ts_mkdir(src, "etc/sticky", 01777);
    ts_mkdir(src, "etc/empty-dir", 0700);
    ts_put(src, "etc/empty", data, 0, 0644);
    ts_put(src, "etc/one", data, 1, 0600);
    ts_put(src, "etc/sticky/b511", data, 511, 01644);
    ts_put(src, "etc/b512", data, 512, 0644);
    ts_put(src, "etc/b4097", data + 100, 4097, 04755);
    ts_put(src, "etc/sticky/big", data, big, 0644);
    ts_put(src, "etc/chunk", data + 1000, 1u << 20, 0640);
    char *l = esx_path_join(src, "etc/l");
    assert_int_equal(symlink("sticky/big", l), 0);
    free(l);
    l = esx_path_join(src, "etc/sticky/up");
    assert_int_equal(symlink("../one", l), 0);
    free(l);
    free(data);
    return src;
}

static struct esximg_vmtar *ts_list(const char *src, bool by_reference)
{
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    struct esximg_vmtar_topts to = {.mtime = 1700000000, .by_reference = by_reference};
    const char *paths[] = {"etc"};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    if (esximg_vmtar_add_tree(v, src, paths, 1, &to, &err))
        fail_msg("add_tree: %s", err.msg);
    return v;
}

struct ts_progress {
    uint64_t done, total;
    size_t calls;
};

static void ts_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct ts_progress *p = ctx;
    assert_true(done >= p->done);
    p->done = done;
    p->total = total;
    p->calls++;
}

static size_t ts_count(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *de; (de = readdir(d));)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

/* write_file on the model built by reference gives esximg_vmtar_write's bytes on the model
 * holding the contents, for each combination of options. */
static void stream_write_matches_memory(void **state)
{
    (void)state;
    char *src = ts_tree(), *out = tu_mkdtemp();
    char *path = esx_path_join(out, "a.v00");
    struct esximg_vmtar *mem = ts_list(src, false), *ref = ts_list(src, true);
    struct esximg_err err = {0};
    assert_int_equal(mem->entry_count, ref->entry_count);
    size_t files = 0;
    for (size_t i = 0; i < ref->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &ref->entries[i];
        assert_null(e->content);
        if (e->size) {
            assert_non_null(e->source);
            files++;
        } else {
            assert_null(mem->entries[i].source);
        }
    }
    assert_true(files >= 6);
    /* the in-memory writer has no contents for entries built by reference */
    uint8_t *buf;
    size_t len;
    assert_int_equal(esximg_vmtar_write(ref, NULL, &buf, &len, &err), ESXIMG_EINVAL);
    for (int combo = 0; combo < 32; combo++) {
        struct ts_progress pr = {0};
        struct esximg_vmtar_wopts o = {
            .alignment = combo & 1 ? 512 : 4096,
            .gzip = combo & 2,
            .signed_checksums = combo & 4,
            .pad_to_512 = combo & 8,
            .gzip_level = combo & 16 ? 6 : 0,
            .progress = ts_progress,
            .progress_ctx = &pr,
        };
        if (esximg_vmtar_write(mem, &o, &buf, &len, &err))
            fail_msg("write: %s", err.msg);
        for (int which = 0; which < 2; which++) {
            pr = (struct ts_progress){0};
            if (esximg_vmtar_write_file(which ? mem : ref, &o, path, &err))
                fail_msg("write_file %d/%d: %s", combo, which, err.msg);
            uint8_t *got;
            size_t got_len;
            tu_read_file(path, &got, &got_len);
            assert_int_equal(got_len, len);
            assert_memory_equal(got, buf, len);
            free(got);
        }
        assert_true(pr.calls > 0);
        assert_int_equal(pr.done, pr.total);
        free(buf);
    }
    assert_int_equal(ts_count(out), 1);            /* no temporary file left */
    esximg_vmtar_free(mem);
    esximg_vmtar_free(ref);
    tu_rmtree(src);
    tu_rmtree(out);
    free(src);
    free(out);
    free(path);
}

/* A model read back keeps its trailer and layout through the streaming writer too. */
static void stream_write_keeps_read_layouts(void **state)
{
    (void)state;
    char *src = ts_tree(), *out = tu_mkdtemp();
    char *path = esx_path_join(out, "t.v00");
    struct esximg_vmtar *mem = ts_list(src, false);
    struct esximg_err err = {0};
    struct esximg_vmtar_wopts o = {.alignment = 512, .signed_checksums = true};
    uint8_t *buf;
    size_t len;
    assert_int_equal(esximg_vmtar_write(mem, &o, &buf, &len, &err), 0);
    uint8_t *tail = malloc(len + 100);
    assert_non_null(tail);
    memcpy(tail, buf, len);
    memcpy(tail + len, "TRAILER-BYTES-NOT-ZERO", 22);
    struct esximg_vmtar *back;
    assert_int_equal(esximg_vmtar_read(tail, len + 22, &back, &err), 0);
    assert_int_equal(back->trailer_len, 22);
    struct esximg_vmtar_wopts lo;
    esximg_vmtar_layout_wopts(back, &lo);
    for (int gz = 0; gz < 2; gz++) {
        lo.gzip = gz;
        uint8_t *want, *got;
        size_t want_len, got_len;
        assert_int_equal(esximg_vmtar_write(back, &lo, &want, &want_len, &err), 0);
        assert_int_equal(esximg_vmtar_write_file(back, &lo, path, &err), 0);
        tu_read_file(path, &got, &got_len);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        if (!gz) {
            assert_int_equal(got_len, len + 22);
            assert_memory_equal(got, tail, got_len);
        }
        free(want);
        free(got);
    }
    /* an empty archive */
    struct esximg_vmtar *none;
    assert_int_equal(esximg_vmtar_new(&none, &err), 0);
    uint8_t *want, *got;
    size_t want_len, got_len;
    assert_int_equal(esximg_vmtar_write(none, NULL, &want, &want_len, &err), 0);
    assert_int_equal(esximg_vmtar_write_file(none, NULL, path, &err), 0);
    tu_read_file(path, &got, &got_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
    free(got);
    esximg_vmtar_free(none);
    esximg_vmtar_free(back);
    esximg_vmtar_free(mem);
    free(tail);
    free(buf);
    tu_rmtree(src);
    tu_rmtree(out);
    free(src);
    free(out);
    free(path);
}

/* Writes `ref` expecting a refusal naming `entry`, with the old output kept and no temporary
 * file left. */
static void ts_write_refused(const struct esximg_vmtar *ref, const char *out,
                             const char *entry, const char *why)
{
    char *path = esx_path_join(out, "o.v00");
    ts_put(out, "o.v00", (const uint8_t *)"old", 3, 0644);
    struct esximg_err err = {0};
    struct esximg_vmtar_wopts o = {.gzip = true};
    int rc = esximg_vmtar_write_file(ref, &o, path, &err);
    assert_int_not_equal(rc, 0);
    if (!strstr(err.msg, entry) || !strstr(err.msg, why))
        fail_msg("unexpected error: %s", err.msg);
    uint8_t *d;
    size_t n;
    tu_read_file(path, &d, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "old", 3);
    free(d);
    assert_int_equal(ts_count(out), 1);
    free(path);
}

static void stream_write_refuses_changed_files(void **state)
{
    (void)state;
    char *src = ts_tree(), *out = tu_mkdtemp();
    struct esximg_vmtar *ref = ts_list(src, true);
    /* grown by one byte: the write would have to lie in the header */
    char *p = esx_path_join(src, "etc/sticky/big");
    FILE *f = fopen(p, "ab");
    assert_non_null(f);
    fputc('x', f);
    fclose(f);
    ts_write_refused(ref, out, "'etc/sticky/big'", "changed");
    /* shrunk, by truncation to less than the listed size */
    assert_int_equal(truncate(p, 1000), 0);
    ts_write_refused(ref, out, "'etc/sticky/big'", "changed");
    /* grown past a chunk after listing the 1 MiB file */
    esximg_vmtar_free(ref);
    ts_mkdir(src, "new", 0755);
    ref = ts_list(src, true);
    char *c = esx_path_join(src, "etc/chunk");
    f = fopen(c, "ab");
    assert_non_null(f);
    fputs("more", f);
    fclose(f);
    ts_write_refused(ref, out, "'etc/chunk'", "changed");
    /* replaced by a symlink: not followed */
    assert_int_equal(unlink(c), 0);
    assert_int_equal(symlink("one", c), 0);
    ts_write_refused(ref, out, "'etc/chunk'", "open");
    /* removed */
    assert_int_equal(unlink(c), 0);
    ts_write_refused(ref, out, "'etc/chunk'", "open");
    esximg_vmtar_free(ref);
    tu_rmtree(src);
    tu_rmtree(out);
    free(src);
    free(out);
    free(p);
    free(c);
}

/* ------------------------------------------------------------------------------ extracting */

/* The same tree below a and b: types, modes, mtimes, contents and link targets.  Without
 * dir_times the directories' mtimes are not compared: a parent of the entries a paths filter
 * selects is made at extraction time, by both paths alike. */
static void ts_same_tree(const char *a, const char *b, bool dir_times)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        n++;
        char *pa = esx_path_join(a, de->d_name), *pb = esx_path_join(b, de->d_name);
        struct stat sa, sb;
        assert_int_equal(lstat(pa, &sa), 0);
        if (lstat(pb, &sb) != 0)
            fail_msg("missing in the streamed tree: %s", pb);
        assert_int_equal(sa.st_mode, sb.st_mode);
        if (S_ISREG(sa.st_mode)) {
            uint8_t *da, *db;
            size_t la, lb;
            tu_read_file(pa, &da, &la);
            tu_read_file(pb, &db, &lb);
            assert_int_equal(la, lb);
            if (la)
                assert_memory_equal(da, db, la);
            free(da);
            free(db);
            assert_int_equal(sa.st_mtime, sb.st_mtime);
        } else if (S_ISLNK(sa.st_mode)) {
            char ta[256], tb[256];
            ssize_t na = readlink(pa, ta, sizeof ta), nb = readlink(pb, tb, sizeof tb);
            assert_true(na > 0);
            assert_int_equal(na, nb);
            assert_memory_equal(ta, tb, (size_t)na);
        } else {
            assert_true(S_ISDIR(sa.st_mode));
            ts_same_tree(pa, pb, dir_times);
            if (dir_times)
                assert_int_equal(sa.st_mtime, sb.st_mtime);
        }
        free(pa);
        free(pb);
    }
    closedir(d);
    assert_int_equal(ts_count(b), n);
}

static char *ts_archive(const char *dir, const char *name, const struct esximg_vmtar *v,
                        const struct esximg_vmtar_wopts *o)
{
    char *path = esx_path_join(dir, name);
    struct esximg_err err = {0};
    if (esximg_vmtar_write_file(v, o, path, &err))
        fail_msg("write_file: %s", err.msg);
    return path;
}

static struct esximg_vmtar *ts_read(const char *path)
{
    uint8_t *d;
    size_t n;
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    tu_read_file(path, &d, &n);
    if (esximg_vmtar_read(d, n, &v, &err))
        fail_msg("read: %s", err.msg);
    free(d);
    return v;
}

static void stream_extract_matches_memory(void **state)
{
    (void)state;
    char *src = ts_tree(), *work = tu_mkdtemp();
    struct esximg_vmtar *ref = ts_list(src, true);
    struct esximg_err err = {0};
    for (int gz = 0; gz < 2; gz++) {
        struct esximg_vmtar_wopts o = {.gzip = gz, .alignment = gz ? 4096 : 512};
        char *arch = ts_archive(work, gz ? "a.vgz" : "a.vtar", ref, &o);
        struct esximg_vmtar *v = ts_read(arch);
        char *m = esx_path_join(work, "m"), *s = esx_path_join(work, "s");
        struct ts_progress pr = {0};
        struct esximg_vmtar_xopts xo = {.progress = ts_progress, .progress_ctx = &pr};
        assert_int_equal(esximg_vmtar_extract(v, m, NULL, &err), 0);
        if (esximg_vmtar_extract_file(arch, s, &xo, &err))
            fail_msg("extract_file: %s", err.msg);
        ts_same_tree(m, s, true);
        assert_true(pr.calls > 0);
        assert_int_equal(pr.done, pr.total);
        tu_rmtree(m);
        tu_rmtree(s);
        /* only some paths */
        pr = (struct ts_progress){0};
        xo.paths = (const char *[]){"etc/sticky", "./etc/one"};
        xo.path_count = 2;
        assert_int_equal(esximg_vmtar_extract(v, m, &xo, &err), 0);
        pr = (struct ts_progress){0};
        assert_int_equal(esximg_vmtar_extract_file(arch, s, &xo, &err), 0);
        assert_int_equal(pr.done, 3147017);          /* one, sticky/b511, sticky/big */
        ts_same_tree(m, s, false);
        char *etc = esx_path_join(s, "etc");
        assert_int_equal(ts_count(etc), 2);
        free(etc);
        tu_rmtree(m);
        tu_rmtree(s);
        /* a path matching nothing: ENOTFOUND, the directory not even made */
        xo.paths = (const char *[]){"etc/one", "etc/nothere"};
        assert_int_equal(esximg_vmtar_extract_file(arch, s, &xo, &err), ESXIMG_ENOTFOUND);
        assert_non_null(strstr(err.msg, "'etc/nothere'"));
        assert_int_equal(access(s, F_OK), -1);
        esximg_vmtar_free(v);
        free(arch);
        free(m);
        free(s);
    }
    esximg_vmtar_free(ref);
    tu_rmtree(src);
    tu_rmtree(work);
    free(src);
    free(work);
}

/* A raw archive's bytes from a model. */
static uint8_t *ts_bytes(const struct esximg_vmtar *v, size_t *len)
{
    uint8_t *buf;
    struct esximg_err err = {0};
    struct esximg_vmtar_wopts o = {.alignment = 512};
    assert_int_equal(esximg_vmtar_write(v, &o, &buf, len, &err), 0);
    return buf;
}

static void ts_fix_sum(uint8_t *h)
{
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < BLK; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

/* Extracts bytes through a file, expecting `code` with `words` and nothing written. */
static void ts_extract_refused(const uint8_t *data, size_t len, int code, const char *words)
{
    char *work = tu_mkdtemp();
    char *arch = esx_path_join(work, "h.v00"), *dst = esx_path_join(work, "dst");
    ts_put(work, "h.v00", data, len, 0644);
    struct esximg_err err = {0};
    int rc = esximg_vmtar_extract_file(arch, dst, NULL, &err);
    if (rc != code || !strstr(err.msg, words))
        fail_msg("expected %d '%s', got %d '%s'", code, words, rc, err.msg);
    assert_int_equal(ts_count(dst), 0);
    assert_int_equal(ts_count(work), 1);
    tu_rmtree(work);
    free(work);
    free(arch);
    free(dst);
}

static uint8_t *ts_gzip(const uint8_t *d, size_t n, size_t *out_len)
{
    uint8_t *gz;
    struct esximg_err err = {0};
    assert_int_equal(esx_gzip(d, n, 6, &gz, out_len, &err), 0);
    return gz;
}

static void stream_extract_refuses_hostile(void **state)
{
    (void)state;
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "aaaa/ok", NULL, "ok\n", 3, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "bbbbbbbbb", NULL, "evil\n", 5, &err), 0);
    size_t len, gz_len;
    uint8_t *a = ts_bytes(v, &len);
    esximg_vmtar_free(v);
    /* "../evil" and "/tmp/evil", raw and gzip'd */
    static const char *const names[] = {"../evil", "/tmp/evil", "a/../../x"};
    static const char *const why[] = {"'..' in path", "absolute path", "'..' in path"};
    for (size_t i = 0; i < 3; i++) {
        uint8_t *h = malloc(len);
        assert_non_null(h);
        memcpy(h, a, len);
        memset(h + BLK, 0, 100);
        memcpy(h + BLK, names[i], strlen(names[i]));
        ts_fix_sum(h + BLK);
        ts_extract_refused(h, len, ESXIMG_EUNSAFE, why[i]);
        uint8_t *gz = ts_gzip(h, len, &gz_len);
        ts_extract_refused(gz, gz_len, ESXIMG_EUNSAFE, why[i]);
        free(gz);
        free(h);
    }
    /* a link leaving the tree, after a good file: nothing at all written */
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "a/ok", NULL, "x", 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_symlink(v, "a/l", "../../etc", NULL, &err), 0);
    size_t b_len;
    uint8_t *b = ts_bytes(v, &b_len);
    esximg_vmtar_free(v);
    ts_extract_refused(b, b_len, ESXIMG_EUNSAFE, "entry 'a/l': link target '../../etc' leaves");
    free(b);
    /* truncated and corrupt gzip data: refused before anything is written */
    uint8_t *gz = ts_gzip(a, len, &gz_len);
    ts_extract_refused(gz, gz_len - 1, ESXIMG_EFORMAT, "truncated");
    ts_extract_refused(gz, gz_len - 8, ESXIMG_EFORMAT, "truncated");
    gz[gz_len - 6] ^= 0x55;                          /* the CRC */
    ts_extract_refused(gz, gz_len, ESXIMG_EFORMAT, "corrupt");
    gz[gz_len - 6] ^= 0x55;
    uint8_t *more = malloc(gz_len + 3);
    assert_non_null(more);
    memcpy(more, gz, gz_len);
    memcpy(more + gz_len, "xyz", 3);
    ts_extract_refused(more, gz_len + 3, ESXIMG_EFORMAT, "follow the gzip member");
    free(more);
    free(gz);
    /* a raw archive cut in the second content */
    ts_extract_refused(a, len - 1, ESXIMG_EFORMAT, "entry 'bbbbbbbbb': content");
    /* a GNU tar and garbage */
    uint8_t tar[1024] = {0};
    memcpy(tar, "x", 1);
    memcpy(tar + 257, "ustar  \0", 8);
    ts_extract_refused(tar, sizeof tar, ESXIMG_EFORMAT, "is a GNU tar, not a vmtar");
    uint8_t junk[1024];
    memset(junk, 'j', sizeof junk);
    junk[0] = 0;
    ts_extract_refused(junk, sizeof junk, ESXIMG_EFORMAT, "not a vmtar");
    free(a);
}

/* Symlinks in the target or made by the archive are never followed by the stream either. */
static void stream_extract_never_follows_symlinks(void **state)
{
    (void)state;
    char *work = tu_mkdtemp();
    char *outside = esx_path_join(work, "outside"), *dst = esx_path_join(work, "dst");
    assert_int_equal(mkdir(outside, 0755), 0);
    assert_int_equal(mkdir(dst, 0755), 0);
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "a/ok", NULL, "x", 1, &err), 0);
    char *arch = ts_archive(work, "a.v00", v, NULL);
    esximg_vmtar_free(v);
    /* a symlink already at a directory's place */
    char *a = esx_path_join(dst, "a");
    assert_int_equal(symlink("../outside", a), 0);
    assert_int_equal(esximg_vmtar_extract_file(arch, dst, NULL, &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "'a' is a symlink or not a directory"));
    assert_int_equal(ts_count(outside), 0);
    /* a symlink at a file's place is replaced, not written through */
    assert_int_equal(unlink(a), 0);
    assert_int_equal(mkdir(a, 0755), 0);
    ts_put(outside, "victim", (const uint8_t *)"keep", 4, 0644);
    char *ok = esx_path_join(a, "ok");
    assert_int_equal(symlink("../../outside/victim", ok), 0);
    assert_int_equal(esximg_vmtar_extract_file(arch, dst, NULL, &err), 0);
    struct stat st;
    assert_int_equal(lstat(ok, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    uint8_t *d;
    size_t n;
    char *victim = esx_path_join(outside, "victim");
    tu_read_file(victim, &d, &n);
    assert_int_equal(n, 4);
    assert_memory_equal(d, "keep", 4);
    free(d);
    free(arch);
    /* a symlink made by the archive, then a file through it */
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_symlink(v, "l", "sub", NULL, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "l/x", NULL, "x", 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "sub/y", NULL, "y", 1, &err), 0);
    arch = ts_archive(work, "l.v00", v, NULL);
    struct esximg_vmtar *back = ts_read(arch);
    esximg_vmtar_free(v);
    char *d1 = esx_path_join(work, "d1"), *d2 = esx_path_join(work, "d2");
    assert_int_equal(esximg_vmtar_extract(back, d1, NULL, &err), ESXIMG_EUNSAFE);
    assert_int_equal(esximg_vmtar_extract_file(arch, d2, NULL, &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "entry 'l/x': 'l' is a symlink"));
    char *x = esx_path_join(d2, "sub/x");
    assert_int_equal(access(x, F_OK), -1);
    esximg_vmtar_free(back);
    tu_rmtree(work);
    free(work);
    free(outside);
    free(dst);
    free(a);
    free(ok);
    free(victim);
    free(arch);
    free(d1);
    free(d2);
    free(x);
}

/* Contents out of the headers' order are extracted too (read whole, as the model path). */
static void stream_extract_takes_unordered_contents(void **state)
{
    (void)state;
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "a", NULL, "first\n", 6, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "b", NULL, "second\n", 7, &err), 0);
    size_t len;
    uint8_t *raw = ts_bytes(v, &len);
    esximg_vmtar_free(v);
    uint8_t h[BLK];
    memcpy(h, raw, BLK);                             /* swap the two headers */
    memcpy(raw, raw + BLK, BLK);
    memcpy(raw + BLK, h, BLK);
    char *work = tu_mkdtemp();
    char *arch = esx_path_join(work, "u.v00"), *dst = esx_path_join(work, "dst");
    ts_put(work, "u.v00", raw, len, 0644);
    struct esximg_vmtar *back = ts_read(arch);
    assert_string_equal(back->entries[0].name, "b");
    assert_true(back->entries[0].offset > back->entries[1].offset);
    if (esximg_vmtar_extract_file(arch, dst, NULL, &err))
        fail_msg("extract_file: %s", err.msg);
    uint8_t *d;
    size_t n;
    char *b = esx_path_join(dst, "b");
    tu_read_file(b, &d, &n);
    assert_int_equal(n, 7);
    assert_memory_equal(d, "second\n", 7);
    free(d);
    esximg_vmtar_free(back);
    tu_rmtree(work);
    free(raw);
    free(work);
    free(arch);
    free(dst);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_write_matches_memory),
        cmocka_unit_test(stream_write_keeps_read_layouts),
        cmocka_unit_test(stream_write_refuses_changed_files),
        cmocka_unit_test(stream_extract_matches_memory),
        cmocka_unit_test(stream_extract_refuses_hostile),
        cmocka_unit_test(stream_extract_never_follows_symlinks),
        cmocka_unit_test(stream_extract_takes_unordered_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
