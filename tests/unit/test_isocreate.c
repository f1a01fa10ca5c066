/* test_isocreate.c: a new ISO from a list of files (lib/isocreate.c), read back through
 * lib/iso.c: contents from memory, a file range and a stream, El Torito entries, level 1
 * names, reproducible bytes, and nothing left behind on failure; large ranges copied by the
 * kernel give the bytes libisofs would have written, and are checked as carefully. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/isocreate.h"
#include "esximg/isohybrid.h"
#include "esx_private.h"
#include "testutil.h"

#define EPOCH 1600000000
#define BIG_SIZE (300u * 1024u + 17u)   /* not a multiple of a block */
#define ISOLINUX_SIZE 4096u
#define EFIBOOT_SIZE (64u * 1024u)

/* A stream of `size` bytes, byte i being (i * 7 + seed) & 0xff; fails after fail_at bytes
 * when fail_at is not 0. */
struct pattern {
    uint64_t size;
    uint64_t pos;
    uint64_t fail_at;
    unsigned seed;
    unsigned opens;
    unsigned closes;
};

static int pattern_open(void *arg, struct esximg_err *err)
{
    (void)err;
    struct pattern *p = arg;
    p->pos = 0;
    p->opens++;
    return 0;
}

static int pattern_read(void *arg, void *buf, size_t n, size_t *got, struct esximg_err *err)
{
    struct pattern *p = arg;
    if (p->fail_at && p->pos >= p->fail_at)
        return esximg_err_set(err, ESXIMG_EIO, "pattern broke at %llu",
                              (unsigned long long)p->pos);
    uint64_t left = p->size - p->pos;
    size_t k = n < left ? n : (size_t)left;
    for (size_t i = 0; i < k; i++)
        ((uint8_t *)buf)[i] = (uint8_t)((p->pos + i) * 7u + p->seed);
    p->pos += k;
    *got = k;
    return 0;
}

static void pattern_close(void *arg)
{
    ((struct pattern *)arg)->closes++;
}

static const struct esximg_content_ops pattern_ops = {pattern_open, pattern_read, pattern_close};

/* A stream of 1 byte whose open does `action` to `path` (while libisofs writes the image,
 * after the contents were opened and checked). */
struct meddler {
    const char *path;
    enum { MEDDLE_TRUNCATE, MEDDLE_REWRITE } action;
    off_t keep;                 /* TRUNCATE: the new size */
};

static int meddler_open(void *arg, struct esximg_err *err)
{
    const struct meddler *m = arg;
    (void)err;
    if (m->action == MEDDLE_TRUNCATE) {
        assert_int_equal(truncate(m->path, m->keep), 0);
        return 0;
    }
    /* the same bytes again: only the file's dates change */
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(m->path, &data, &len);
    int fd = open(m->path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
    close(fd);
    free(data);
    return 0;
}

static int meddler_read(void *arg, void *buf, size_t n, size_t *got, struct esximg_err *err)
{
    (void)arg;
    (void)err;
    (void)n;
    *(uint8_t *)buf = 'M';
    *got = 1;
    return 0;
}

static const struct esximg_content_ops meddler_ops = {meddler_open, meddler_read, NULL};

struct fixture {
    char *dir;
    char *range_file;       /* "HEAD" + BIG_SIZE pattern bytes + "TAIL" */
    uint8_t *isolinux;
    uint8_t *efiboot;
    struct pattern stream;
};

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7u + seed);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_mkdtemp();
    fx->range_file = tu_path_join(fx->dir, "range.bin");
    uint8_t *b = malloc(BIG_SIZE + 8);
    assert_non_null(b);
    memcpy(b, "HEAD", 4);
    fill(b + 4, BIG_SIZE, 3);
    memcpy(b + 4 + BIG_SIZE, "TAIL", 4);
    assert_int_equal(esximg_file_write(fx->range_file, b, BIG_SIZE + 8, 0644, NULL), 0);
    free(b);
    fx->isolinux = calloc(1, ISOLINUX_SIZE);
    fx->efiboot = malloc(EFIBOOT_SIZE);
    assert_non_null(fx->isolinux);
    assert_non_null(fx->efiboot);
    fill(fx->isolinux + 64, ISOLINUX_SIZE - 64, 1);
    fill(fx->efiboot, EFIBOOT_SIZE, 5);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->range_file);
    free(fx->isolinux);
    free(fx->efiboot);
    free(fx);
    return 0;
}

#define N_FILES 6

static void make_files(struct fixture *fx, struct esximg_isoc_file *f)
{
    static const char cfg[] = "bootstate=0\nkernel=/b.b00\n";
    memset(&fx->stream, 0, sizeof fx->stream);
    fx->stream.size = BIG_SIZE;
    fx->stream.seed = 9;
    memset(f, 0, N_FILES * sizeof *f);
    f[0] = (struct esximg_isoc_file){"/BOOT.CFG", {.kind = ESXIMG_CONTENT_MEMORY, .data = cfg,
                                                   .len = sizeof cfg - 1}};
    f[1] = (struct esximg_isoc_file){"/ISOLINUX.BIN", {.kind = ESXIMG_CONTENT_MEMORY,
                                                       .data = fx->isolinux,
                                                       .len = ISOLINUX_SIZE}};
    f[2] = (struct esximg_isoc_file){"/EFIBOOT.IMG", {.kind = ESXIMG_CONTENT_MEMORY,
                                                      .data = fx->efiboot,
                                                      .len = EFIBOOT_SIZE}};
    f[3] = (struct esximg_isoc_file){"/S.V00", {.kind = ESXIMG_CONTENT_RANGE,
                                                .path = fx->range_file, .offset = 4,
                                                .size = BIG_SIZE}};
    f[4] = (struct esximg_isoc_file){"/EFI/BOOT/BOOTX64.EFI", {.kind = ESXIMG_CONTENT_STREAM,
                                                               .size = BIG_SIZE,
                                                               .ops = &pattern_ops,
                                                               .arg = &fx->stream}};
    f[5] = (struct esximg_isoc_file){"/EMPTY", {.kind = ESXIMG_CONTENT_MEMORY}};
}

static struct esximg_isoc_opts boot_opts(void)
{
    struct esximg_isoc_opts o = {
        .volume_id = "ESXI-7.0U2A-TEST", .application_id = "ESXIMAGE", .system_id = "",
        .bios_boot = "/ISOLINUX.BIN", .efi_boot = "/EFIBOOT.IMG", .boot_catalog = "/BOOT.CAT",
        .mtime = EPOCH,
    };
    return o;
}

static size_t count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void expect_file(struct esximg_iso *iso, const char *path, const void *want, size_t len)
{
    uint8_t *data = NULL;
    size_t got = 0;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_read_file(iso, path, 1u << 30, &data, &got, &err), 0);
    assert_int_equal(got, len);
    assert_memory_equal(data, want, len);
    free(data);
}

struct progress {
    uint64_t done, total;
    unsigned calls;
    bool backwards;
};

static void on_progress(uint64_t done, uint64_t total, void *arg)
{
    struct progress *p = arg;
    p->backwards = p->backwards || done < p->done || done > total;
    p->done = done;
    p->total = total;
    p->calls++;
}

static void isocreate_writes_every_kind_of_content(void **state)
{
    struct fixture *fx = *state;
    struct esximg_isoc_file f[N_FILES];
    make_files(fx, f);
    struct esximg_isoc_opts o = boot_opts();
    struct progress pr = {0};
    o.progress = on_progress;
    o.progress_arg = &pr;
    char *out = tu_path_join(fx->dir, "a.iso");
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, out, &err), 0);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_true(pr.calls >= 1);
    assert_false(pr.backwards);
    assert_int_equal(pr.done, (uint64_t)st.st_size);
    assert_int_equal(pr.total, (uint64_t)st.st_size);
    assert_true(fx->stream.opens >= 1);
    assert_int_equal(fx->stream.opens, fx->stream.closes);

    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(out, NULL, &iso, &err), 0);
    assert_string_equal(iso->volume_id, "ESXI-7.0U2A-TEST");
    assert_string_equal(iso->application_id, "ESXIMAGE");
    assert_string_equal(iso->system_id, "");
    assert_false(iso->rockridge);
    assert_false(iso->joliet);
    assert_int_equal(iso->iso_level, 1);
    uint8_t *want = malloc(BIG_SIZE);
    assert_non_null(want);
    fill(want, BIG_SIZE, 3);
    expect_file(iso, "/S.V00", want, BIG_SIZE);
    fill(want, BIG_SIZE, 9);
    expect_file(iso, "/EFI/BOOT/BOOTX64.EFI", want, BIG_SIZE);
    expect_file(iso, "/BOOT.CFG", f[0].content.data, f[0].content.len);
    expect_file(iso, "/EFIBOOT.IMG", fx->efiboot, EFIBOOT_SIZE);
    expect_file(iso, "/EMPTY", "", 0);
    free(want);
    const struct esximg_iso_entry *dir = esximg_iso_find(iso, "/EFI/BOOT");
    assert_non_null(dir);
    assert_int_equal(dir->type, ESXIMG_ISO_DIR);
    esximg_iso_close(iso);
    free(out);
}

static void isocreate_sets_both_boot_entries(void **state)
{
    struct fixture *fx = *state;
    struct esximg_isoc_file f[N_FILES];
    make_files(fx, f);
    struct esximg_isoc_opts o = boot_opts();
    char *out = tu_path_join(fx->dir, "b.iso");
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, out, NULL), 0);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(out, NULL, &iso, NULL), 0);
    assert_true(iso->eltorito);
    assert_string_equal(iso->bootcat_path, "/BOOT.CAT");
    assert_int_equal(iso->n_boots, 2);
    assert_int_equal(iso->boots[0].platform_id, 0);
    assert_int_equal(iso->boots[0].emulation, ESXIMG_ISO_NO_EMUL);
    assert_int_equal(iso->boots[0].load_size, 4);
    assert_true(iso->boots[0].boot_info_table);
    assert_string_equal(iso->boots[0].path, "/ISOLINUX.BIN");
    assert_int_equal(iso->boots[1].platform_id, 0xEF);
    assert_int_equal(iso->boots[1].emulation, ESXIMG_ISO_NO_EMUL);
    assert_string_equal(iso->boots[1].path, "/EFIBOOT.IMG");
    /* the boot info table names block 16, the image's own block and its length */
    uint8_t *bin = NULL;
    size_t len = 0;
    assert_int_equal(esximg_iso_read_file(iso, "/ISOLINUX.BIN", 1 << 20, &bin, &len, NULL), 0);
    assert_int_equal(bin[8], 16);
    uint32_t lba = (uint32_t)bin[12] | (uint32_t)bin[13] << 8 | (uint32_t)bin[14] << 16 |
                   (uint32_t)bin[15] << 24;
    assert_int_equal(lba, iso->boots[0].lba);
    assert_int_equal(bin[16] | bin[17] << 8, ISOLINUX_SIZE);
    free(bin);
    esximg_iso_close(iso);
    free(out);
}

static void isocreate_is_reproducible(void **state)
{
    struct fixture *fx = *state;
    struct esximg_isoc_file f[N_FILES];
    struct esximg_isoc_opts o = boot_opts();
    char *a = tu_path_join(fx->dir, "r1.iso"), *b = tu_path_join(fx->dir, "r2.iso");
    make_files(fx, f);
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, a, NULL), 0);
    make_files(fx, f);
    /* another order of the same files gives the same image */
    struct esximg_isoc_file t = f[0];
    f[0] = f[4];
    f[4] = t;
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, b, NULL), 0);
    uint8_t *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(a, &da, &la);
    tu_read_file(b, &db, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    free(da);
    free(db);
    /* another date gives other bytes */
    o.mtime = EPOCH + 86400;
    make_files(fx, f);
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, b, NULL), 0);
    tu_read_file(b, &db, &lb);
    tu_read_file(a, &da, &la);
    assert_int_equal(la, lb);
    assert_true(memcmp(da, db, la) != 0);
    free(da);
    free(db);
    free(a);
    free(b);
}

/* Each call fails and leaves the folder as it was. */
static void expect_refused(struct fixture *fx, struct esximg_isoc_file *f, size_t n,
                           const struct esximg_isoc_opts *o, int code, const char *words)
{
    char *sub = tu_path_join(fx->dir, "refused");
    mkdir(sub, 0755);
    char *out = tu_path_join(sub, "out.iso");
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_create(f, n, o, out, &err), code);
    if (!strstr(err.msg, words))
        fail_msg("message '%s' lacks '%s'", err.msg, words);
    assert_int_equal(count_dir(sub), 0);
    free(out);
    free(sub);
}

static void isocreate_refuses_bad_names(void **state)
{
    struct fixture *fx = *state;
    struct esximg_isoc_file f[N_FILES];
    struct esximg_isoc_opts o = boot_opts();
    static const char *const bad[] = {"/boot.cfg", "/TOOLONGNAME.CFG", "/A.TOOL",
                                      "/LONGDIRNAME/A.B", "relative", "/A..B", "/A-B.C"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        make_files(fx, f);
        f[0].iso_path = bad[i];
        expect_refused(fx, f, N_FILES, &o, ESXIMG_EINVAL, bad[i][0] == '/' ? "level 1" :
                       "not absolute");
    }
    make_files(fx, f);
    f[0].iso_path = "/S.V00";
    expect_refused(fx, f, N_FILES, &o, ESXIMG_EINVAL, "given twice");
    make_files(fx, f);
    f[0].iso_path = "/EFI";
    expect_refused(fx, f, N_FILES, &o, ESXIMG_EINVAL, "a file and the directory");
    make_files(fx, f);
    o.volume_id = "A VOLUME ID LONGER THAN THIRTY-TWO";
    expect_refused(fx, f, N_FILES, &o, ESXIMG_EINVAL, "volume id");
    o = boot_opts();
    o.efi_boot = "/NONE.IMG";
    expect_refused(fx, f, N_FILES, &o, ESXIMG_ENOTFOUND, "UEFI boot image");
    o = boot_opts();
    f[3].content.size = BIG_SIZE + 5;   /* past the end of range.bin */
    expect_refused(fx, f, N_FILES, &o, ESXIMG_EINVAL, "beyond the end");
}

static void isocreate_leaves_nothing_when_a_stream_fails(void **state)
{
    struct fixture *fx = *state;
    struct esximg_isoc_file f[N_FILES];
    struct esximg_isoc_opts o = boot_opts();
    make_files(fx, f);
    fx->stream.fail_at = 100000;
    expect_refused(fx, f, N_FILES, &o, ESXIMG_EIO, "pattern broke");
    assert_int_equal(fx->stream.opens, fx->stream.closes);
    make_files(fx, f);
    fx->stream.size = BIG_SIZE - 1;     /* ends before the size announced */
    f[4].content.size = BIG_SIZE;
    expect_refused(fx, f, N_FILES, &o, ESXIMG_EIO, "ended before");
}

static void isocreate_keeps_the_directory_limit(void **state)
{
    struct fixture *fx = *state;
    struct esximg_isoc_file f[N_FILES];
    struct esximg_isoc_opts o = boot_opts();
    make_files(fx, f);
    o.max_dir_record_offset = 2048u * 17u;  /* below the root directory's block */
    expect_refused(fx, f, N_FILES, &o, ESXIMG_ELIMIT, "32 bits");
}

/* ---- large ranges, copied in by the kernel ---- */

#define COPY_SIZE ((3u << 20) + 5u)     /* above the default threshold, not whole blocks */
#define COPY_SKEW 3u                    /* the range starts off any block boundary */

/* Files with two large ranges (one with its sha-256), the BIOS image as a range too (its
 * boot info table is patched: never copied) and the six of make_files. */
#define N_COPY_FILES (N_FILES + 3)

struct copy_files {
    struct esximg_isoc_file f[N_COPY_FILES];
    char *big_path;             /* COPY_SKEW bytes, then the two ranges' bytes */
    char *bin_path;             /* ISOLINUX.BIN */
    char sha[65];
};

static void make_copy_files(struct fixture *fx, struct copy_files *c)
{
    c->big_path = tu_path_join(fx->dir, "big.bin");
    c->bin_path = tu_path_join(fx->dir, "isolinux.bin");
    size_t len = COPY_SKEW + 2 * (size_t)COPY_SIZE;
    uint8_t *b = malloc(len);
    assert_non_null(b);
    fill(b, len, 11);
    assert_int_equal(esximg_file_write(c->big_path, b, len, 0644, NULL), 0);
    assert_int_equal(esx_digest_hex(ESX_SHA256, b + COPY_SKEW, COPY_SIZE, c->sha, NULL), 0);
    free(b);
    assert_int_equal(esximg_file_write(c->bin_path, fx->isolinux, ISOLINUX_SIZE, 0644, NULL), 0);
    make_files(fx, c->f);
    c->f[1].content = (struct esximg_content){.kind = ESXIMG_CONTENT_RANGE,
                                              .path = c->bin_path, .size = ISOLINUX_SIZE};
    c->f[N_FILES] = (struct esximg_isoc_file){"/P1.V00", {.kind = ESXIMG_CONTENT_RANGE,
                                                          .path = c->big_path,
                                                          .offset = COPY_SKEW,
                                                          .size = COPY_SIZE, .sha256 = c->sha,
                                                          .label = "payload 'p1'"}};
    c->f[N_FILES + 1] = (struct esximg_isoc_file){"/PKG/P2.V00", {.kind = ESXIMG_CONTENT_RANGE,
                                                                  .path = c->big_path,
                                                                  .offset = COPY_SKEW +
                                                                            COPY_SIZE,
                                                                  .size = COPY_SIZE}};
    c->f[N_FILES + 2] = (struct esximg_isoc_file){"/P3.V00", {.kind = ESXIMG_CONTENT_RANGE,
                                                              .path = c->big_path,
                                                              .offset = COPY_SKEW,
                                                              .size = 1u << 20}};
}

static void free_copy_files(struct copy_files *c)
{
    free(c->big_path);
    free(c->bin_path);
}

static void isocreate_copies_ranges_to_the_same_bytes(void **state)
{
    struct fixture *fx = *state;
    struct copy_files c;
    make_copy_files(fx, &c);
    struct esximg_isoc_opts o = boot_opts();
    char *plain = tu_path_join(fx->dir, "through.iso"), *copied = tu_path_join(fx->dir, "c.iso");
    struct esximg_err err = {0};
    o.range_copy_min = UINT64_MAX;      /* everything through libisofs */
    if (esximg_iso_create(c.f, N_COPY_FILES, &o, plain, &err))
        fail_msg("%s", err.msg);
    uint8_t *want = NULL, *got = NULL;
    size_t want_len = 0, got_len = 0;
    tu_read_file(plain, &want, &want_len);
    static const uint64_t mins[] = {0, 1, 2u << 20};    /* default, all ranges, some */
    for (size_t i = 0; i < sizeof mins / sizeof *mins; i++) {
        struct progress pr = {0};
        o.range_copy_min = mins[i];
        o.progress = on_progress;
        o.progress_arg = &pr;
        free_copy_files(&c);
        make_copy_files(fx, &c);        /* a fresh stream */
        if (esximg_iso_create(c.f, N_COPY_FILES, &o, copied, &err))
            fail_msg("min %llu: %s", (unsigned long long)mins[i], err.msg);
        tu_read_file(copied, &got, &got_len);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        free(got);
        assert_false(pr.backwards);
        assert_int_equal(pr.done, want_len);
        assert_int_equal(pr.total, want_len);
    }
    free(want);
    /* and the bytes are the ranges' */
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(copied, NULL, &iso, NULL), 0);
    uint8_t *b = malloc(COPY_SKEW + 2 * (size_t)COPY_SIZE);
    assert_non_null(b);
    fill(b, COPY_SKEW + 2 * (size_t)COPY_SIZE, 11);
    expect_file(iso, "/P1.V00", b + COPY_SKEW, COPY_SIZE);
    expect_file(iso, "/PKG/P2.V00", b + COPY_SKEW + COPY_SIZE, COPY_SIZE);
    expect_file(iso, "/P3.V00", b + COPY_SKEW, 1u << 20);
    assert_true(iso->boots[0].boot_info_table);
    esximg_iso_close(iso);
    free(b);
    free_copy_files(&c);
    free(plain);
    free(copied);
}

static void isocreate_names_a_copied_range_with_another_sha256(void **state)
{
    struct fixture *fx = *state;
    struct copy_files c;
    make_copy_files(fx, &c);
    struct esximg_isoc_opts o = boot_opts();
    c.sha[10] = c.sha[10] == '0' ? '1' : '0';
    expect_refused(fx, c.f, N_COPY_FILES, &o, ESXIMG_EFORMAT, "payload 'p1': its bytes have "
                   "the sha-256");
    /* the same content read through libisofs fails the same way */
    o.range_copy_min = UINT64_MAX;
    free_copy_files(&c);
    make_copy_files(fx, &c);
    c.sha[10] = c.sha[10] == '0' ? '1' : '0';
    expect_refused(fx, c.f, N_COPY_FILES, &o, ESXIMG_EFORMAT, "payload 'p1': its bytes have "
                   "the sha-256");
    free_copy_files(&c);
}

static void isocreate_refuses_a_copied_range_that_shrinks_or_changes(void **state)
{
    struct fixture *fx = *state;
    struct copy_files c;
    struct esximg_isoc_opts o = boot_opts();
    /* shorter than its range from the start */
    make_copy_files(fx, &c);
    c.f[N_FILES + 1].content.size = COPY_SIZE + 1;
    expect_refused(fx, c.f, N_COPY_FILES, &o, ESXIMG_EINVAL, "beyond the end");
    free_copy_files(&c);
    /* cut while the image is written: the stream at /EFI/BOOT/BOOTX64.EFI cuts it when opened */
    make_copy_files(fx, &c);
    struct meddler m = {.path = c.big_path, .action = MEDDLE_TRUNCATE,
                        .keep = COPY_SKEW + COPY_SIZE + 1000};
    c.f[4].content = (struct esximg_content){.kind = ESXIMG_CONTENT_STREAM, .size = 1,
                                             .ops = &meddler_ops, .arg = &m};
    expect_refused(fx, c.f, N_COPY_FILES, &o, ESXIMG_EIO, "'/PKG/P2.V00' shrank while it was "
                   "written");
    free_copy_files(&c);
    /* rewritten with the same bytes: its hash passes, its dates give it away */
    make_copy_files(fx, &c);
    const struct timespec old[2] = {{.tv_sec = EPOCH}, {.tv_sec = EPOCH}};
    assert_int_equal(utimensat(AT_FDCWD, c.big_path, old, 0), 0);
    m = (struct meddler){.path = c.big_path, .action = MEDDLE_REWRITE};
    c.f[4].content = (struct esximg_content){.kind = ESXIMG_CONTENT_STREAM, .size = 1,
                                             .ops = &meddler_ops, .arg = &m};
    expect_refused(fx, c.f, N_COPY_FILES, &o, ESXIMG_EIO, "changed while it was written");
    /* through libisofs, the same rewrite is harmless: the bytes hashed are those written */
    free_copy_files(&c);
    make_copy_files(fx, &c);
    m.path = c.big_path;
    c.f[4].content = (struct esximg_content){.kind = ESXIMG_CONTENT_STREAM, .size = 1,
                                             .ops = &meddler_ops, .arg = &m};
    o.range_copy_min = UINT64_MAX;
    char *out = tu_path_join(fx->dir, "rewritten.iso");
    struct esximg_err err = {0};
    if (esximg_iso_create(c.f, N_COPY_FILES, &o, out, &err))
        fail_msg("%s", err.msg);
    free(out);
    free_copy_files(&c);
}

/* With a real ISOLINUX.BIN, the hybrid option makes the checked image boot from a disk too:
 * an MBR in the system area, the image padded to whole MiB. */
static void isocreate_makes_a_hybrid_image(void **state)
{
    struct fixture *fx = *state;
    static const char *const isolinux[] = {"/usr/lib/ISOLINUX/isolinux.bin",
                                           "/usr/share/syslinux/isolinux.bin"};
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    for (size_t i = 0; !bin && i < sizeof isolinux / sizeof *isolinux; i++)
        if (esximg_file_read(isolinux[i], 1 << 20, &bin, &bin_len, NULL) != 0)
            bin = NULL;
    if (!bin)
        skip();     /* syslinux's isolinux is not installed */
    struct esximg_isoc_file f[N_FILES];
    make_files(fx, f);
    f[1].content.data = bin;
    f[1].content.len = bin_len;
    struct esximg_isoc_opts o = boot_opts();
    char *plain = tu_path_join(fx->dir, "plain.iso"), *hyb = tu_path_join(fx->dir, "hyb.iso");
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, plain, &err), 0);
    struct esximg_hybrid *h = NULL;
    if (esximg_hybrid_prepare(plain, NULL, &h, &err))
        fail_msg("prepare: %s", err.msg);
    make_files(fx, f);
    f[1].content.data = bin;
    f[1].content.len = bin_len;
    o.hybrid = h;
    assert_int_equal(esximg_iso_create(f, N_FILES, &o, hyb, &err), 0);
    esximg_hybrid_free(h);
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(hyb, &data, &len);
    assert_int_equal(data[510], 0x55);
    assert_int_equal(data[511], 0xAA);
    assert_int_equal(len % (1u << 20), 0);
    free(data);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(hyb, NULL, &iso, NULL), 0);
    assert_int_equal(iso->n_boots, 2);
    assert_true(iso->boots[0].boot_info_table);
    esximg_iso_close(iso);
    free(bin);
    free(plain);
    free(hyb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isocreate_writes_every_kind_of_content),
        cmocka_unit_test(isocreate_sets_both_boot_entries),
        cmocka_unit_test(isocreate_is_reproducible),
        cmocka_unit_test(isocreate_refuses_bad_names),
        cmocka_unit_test(isocreate_leaves_nothing_when_a_stream_fails),
        cmocka_unit_test(isocreate_keeps_the_directory_limit),
        cmocka_unit_test(isocreate_makes_a_hybrid_image),
        cmocka_unit_test(isocreate_copies_ranges_to_the_same_bytes),
        cmocka_unit_test(isocreate_names_a_copied_range_with_another_sha256),
        cmocka_unit_test(isocreate_refuses_a_copied_range_that_shrinks_or_changes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
