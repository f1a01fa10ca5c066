/* test_isowrite.c: the ISO writer (lib/isowrite.c) on ESXi-like images that
 * tests/gen/mkesxiso.py builds at test time, read back through lib/iso.c.
 *
 * With ESXIMG_KEEP_ISO=PATH set, the edited 7.0 image of isowrite_grows_the_image is also
 * copied to PATH, for tests/e2e/t7200-isowrite-boot.sh to boot. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/isowrite.h"
#include "testutil.h"

/* the edited BOOT.CFG title t7200 looks for on the serial console */
#define EDIT_TITLE "title=esximg isowrite edit"
#define NEW_SIZE (200u * 1024u)
#define EPOCH TU_GEN_EPOCH

struct fixture {
    char *dir;
    char *in;           /* a generated 7.0 image */
    char *outdir;       /* where outputs go; checked for leftovers */
    char *efi_cfg;      /* a file holding the new EFI/BOOT/BOOT.CFG */
    uint8_t *newmod;    /* NEW_SIZE bytes for /NEW.V00 */
    char *bootcfg;      /* the edited BOOT.CFG */
    size_t bootcfg_len;
};

/* The input's BOOT.CFG with its title line replaced. */
static void make_bootcfg(struct fixture *fx)
{
    struct esximg_iso *iso = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(esximg_iso_open(fx->in, NULL, &iso, NULL), 0);
    assert_int_equal(esximg_iso_read_file(iso, "/BOOT.CFG", 65536, &data, &len, NULL), 0);
    esximg_iso_close(iso);
    const char *t = strstr((char *)data, "\ntitle=");
    assert_non_null(t);
    const char *end = strchr(t + 1, '\n');
    assert_non_null(end);
    size_t head = (size_t)(t + 1 - (char *)data);
    size_t tail = len - (size_t)(end - (char *)data);
    size_t n = head + strlen(EDIT_TITLE) + tail;
    fx->bootcfg = malloc(n + 1);
    assert_non_null(fx->bootcfg);
    memcpy(fx->bootcfg, data, head);
    memcpy(fx->bootcfg + head, EDIT_TITLE, strlen(EDIT_TITLE));
    memcpy(fx->bootcfg + head + strlen(EDIT_TITLE), end, tail);
    fx->bootcfg[n] = '\0';
    fx->bootcfg_len = n;
    free(data);
}

static int setup(void **state)
{
    if (!tu_have_image_tools())
        return 0;   /* each test skips */
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_mkdtemp();
    fx->in = tu_path_join(fx->dir, "esx70.iso");
    /* the generator's tree is kept in gen/, for isowrite_grows_a_genisoimage_image */
    char extra[4200];
    snprintf(extra, sizeof extra, "--workdir '%s/gen'", fx->dir);
    if (!tu_make_esx_iso("7.0", extra, fx->in)) {   /* isolinux or mtools missing: skip */
        tu_rmtree(fx->dir);
        free(fx->dir);
        free(fx->in);
        free(fx);
        return 0;
    }
    fx->outdir = tu_path_join(fx->dir, "out");
    assert_int_equal(mkdir(fx->outdir, 0755), 0);
    fx->newmod = malloc(NEW_SIZE);
    assert_non_null(fx->newmod);
    for (size_t i = 0; i < NEW_SIZE; i++)
        fx->newmod[i] = (uint8_t)(i * 13 + i / 509);
    make_bootcfg(fx);
    fx->efi_cfg = tu_path_join(fx->dir, "efi.cfg");
    FILE *f = fopen(fx->efi_cfg, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(fx->bootcfg, 1, fx->bootcfg_len, f), fx->bootcfg_len);
    assert_int_equal(fclose(f), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (!fx)
        return 0;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->in);
    free(fx->outdir);
    free(fx->efi_cfg);
    free(fx->newmod);
    free(fx->bootcfg);
    free(fx);
    return 0;
}

/* the four changes `esximg edit` makes most: a new module, both BOOT.CFG, and a
 * removed module */
static size_t std_changes(const struct fixture *fx, struct esximg_iso_change *c)
{
    memset(c, 0, 4 * sizeof *c);
    c[0] = (struct esximg_iso_change){.kind = ESXIMG_ISO_ADD, .iso_path = "/NEW.V00",
                                      .data = fx->newmod, .len = NEW_SIZE};
    c[1] = (struct esximg_iso_change){.kind = ESXIMG_ISO_REPLACE, .iso_path = "/boot.cfg",
                                      .data = fx->bootcfg, .len = fx->bootcfg_len};
    c[2] = (struct esximg_iso_change){.kind = ESXIMG_ISO_REPLACE,
                                      .iso_path = "/EFI/BOOT/BOOT.CFG",
                                      .src_path = fx->efi_cfg};
    c[3] = (struct esximg_iso_change){.kind = ESXIMG_ISO_REMOVE, .iso_path = "/NVME.V00"};
    return 4;
}

static void sha256_file(const char *path, char out[65])
{
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(path, &data, &len);
    assert_int_equal(esx_digest_hex(ESX_SHA256, data, len, out, NULL), 0);
    free(data);
}

static void read_iso_file(struct esximg_iso *iso, const char *path, uint8_t **data, size_t *len)
{
    struct esximg_err err = {0};
    if (esximg_iso_read_file(iso, path, (uint64_t)64 << 20, data, len, &err) != 0)
        fail_msg("cannot read '%s': %s", path, err.msg);
}

static void assert_file_is(struct esximg_iso *iso, const char *path, const void *want,
                           size_t want_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    read_iso_file(iso, path, &data, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(data, want, want_len);
    free(data);
}

static size_t count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void write_ok(const char *in, const struct esximg_iso_change *c, size_t n,
                     const struct esximg_iso_wopts *o, const char *out)
{
    struct esximg_err err = {0};
    if (esximg_iso_write(in, c, n, o, out, &err) != 0)
        fail_msg("esximg_iso_write: %s: %s", err.file, err.msg);
}

static bool is_changed(const char *path)
{
    return strcmp(path, "/BOOT.CFG") == 0 || strcmp(path, "/EFI/BOOT/BOOT.CFG") == 0 ||
           strcmp(path, "/NVME.V00") == 0;
}

/* Every file the changes do not name: same block, same size, same bytes. */
static void assert_kept(struct esximg_iso *in, struct esximg_iso *out, bool same_lba)
{
    size_t files = 0;
    for (size_t i = 0; i < in->n_entries; i++) {
        const struct esximg_iso_entry *a = &in->entries[i];
        if (is_changed(a->path))
            continue;
        const struct esximg_iso_entry *b = esximg_iso_find(out, a->path);
        if (!b)
            fail_msg("'%s' missing from the output", a->path);
        assert_string_equal(a->path, b->path);
        assert_int_equal(a->type, b->type);
        if (a->type != ESXIMG_ISO_FILE)
            continue;
        files++;
        assert_int_equal(a->size, b->size);
        if (same_lba && a->size)
            assert_int_equal(a->lba, b->lba);
        uint8_t *da = NULL, *db = NULL;
        size_t la = 0, lb = 0;
        read_iso_file(in, a->path, &da, &la);
        read_iso_file(out, b->path, &db, &lb);
        assert_int_equal(la, lb);
        if (!same_lba && strcmp(a->path, "/ISOLINUX.BIN") == 0) {
            /* moved, so its boot info table (bytes 8 to 63) was patched: block 16 stays, its
               own block changes */
            assert_true(la > 64);
            assert_memory_equal(da, db, 8);
            assert_memory_equal(da + 8, db + 8, 4);
            assert_memory_not_equal(da + 12, db + 12, 4);
            assert_memory_equal(da + 64, db + 64, la - 64);
        } else {
            assert_memory_equal(da, db, la);
        }
        free(da);
        free(db);
    }
    assert_true(files >= 20);   /* a generated 7.0 image: 27 files, a few of them changed */
}

static void assert_boot_kept(const struct esximg_iso *in, const struct esximg_iso *out,
                             bool same_lba)
{
    assert_true(out->eltorito);
    assert_int_equal(in->n_boots, 2);
    assert_int_equal(out->n_boots, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(out->boots[i].platform_id, in->boots[i].platform_id);
        assert_int_equal(out->boots[i].emulation, ESXIMG_ISO_NO_EMUL);
        assert_true(out->boots[i].bootable);
        assert_int_equal(out->boots[i].load_size, in->boots[i].load_size);
        assert_int_equal(out->boots[i].load_seg, in->boots[i].load_seg);
        assert_string_equal(out->boots[i].path, in->boots[i].path);
        if (same_lba)
            assert_int_equal(out->boots[i].lba, in->boots[i].lba);
    }
    assert_int_equal(out->boots[0].platform_id, 0x00);
    assert_int_equal(out->boots[1].platform_id, 0xEF);
    assert_int_equal(out->boots[0].load_size, 4);
    assert_string_equal(out->boots[0].path, "/ISOLINUX.BIN");
    assert_string_equal(out->boots[1].path, "/EFIBOOT.IMG");
    assert_true(in->boots[0].boot_info_table);
    assert_true(out->boots[0].boot_info_table);     /* recomputed by iso.c from the bytes */
    assert_non_null(out->bootcat_path);
    assert_string_equal(out->bootcat_path, "/BOOT.CAT");
}

static void assert_flavour(const struct esximg_iso *in, const struct esximg_iso *out)
{
    assert_string_equal(out->volume_id, "ESXI-7.0.2-17630552-STANDARD");
    assert_string_equal(out->volume_id, in->volume_id);
    assert_string_equal(out->system_id, in->system_id);
    assert_string_equal(out->application_id, "ESXIMAGE");
    assert_string_equal(out->publisher_id, in->publisher_id);
    assert_string_equal(out->data_preparer_id, in->data_preparer_id);
    assert_string_equal(out->volset_id, in->volset_id);
    assert_false(out->rockridge);
    assert_false(out->joliet);
    assert_false(out->iso1999);
    assert_int_equal(out->iso_level, 1);
    assert_int_equal((uint64_t)out->volume_blocks * ESXIMG_ISO_BLOCK, out->image_bytes);
}

/* The raw directory record of the output names files "NAME.EXT;1" in upper case. */
static void assert_raw_names(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(path, &data, &len);
    assert_non_null(memmem(data, len, "NEW.V00;1", 9));
    assert_non_null(memmem(data, len, "BOOT.CFG;1", 10));
    assert_null(memmem(data, len, "new.v00", 7));
    free(data);
}

struct progress {
    uint64_t last;
    uint64_t total;
    size_t calls;
    bool backwards;
};

static void on_progress(uint64_t done, uint64_t total, void *arg)
{
    struct progress *p = arg;
    if (done < p->last || (p->total && total != p->total))
        p->backwards = true;
    p->last = done;
    p->total = total;
    p->calls++;
}

static void keep_for_e2e(const char *out)
{
    const char *keep = getenv("ESXIMG_KEEP_ISO");
    if (!keep || !*keep)
        return;
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(out, &data, &len);
    assert_int_equal(esximg_file_write(keep, data, len, 0644, NULL), 0);
    free(data);
}

static void isowrite_grows_the_image(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char before[65], after[65];
    sha256_file(fx->in, before);
    struct esximg_iso_change c[4];
    size_t n = std_changes(fx, c);
    struct progress pr = {0};
    struct esximg_iso_wopts o = {.mtime = EPOCH, .progress = on_progress, .progress_arg = &pr};
    char *out = tu_path_join(fx->outdir, "grown.iso");
    write_ok(fx->in, c, n, &o, out);
    sha256_file(fx->in, after);
    assert_string_equal(before, after);     /* the input is never written */

    struct esximg_iso *in = NULL, *res = NULL;
    assert_int_equal(esximg_iso_open(fx->in, NULL, &in, NULL), 0);
    assert_int_equal(esximg_iso_open(out, NULL, &res, NULL), 0);
    assert_file_is(res, "/NEW.V00", fx->newmod, NEW_SIZE);
    assert_file_is(res, "/BOOT.CFG", fx->bootcfg, fx->bootcfg_len);
    assert_file_is(res, "/EFI/BOOT/BOOT.CFG", fx->bootcfg, fx->bootcfg_len);
    assert_null(esximg_iso_find(res, "/NVME.V00"));
    assert_string_equal(esximg_iso_find(res, "/new.v00")->path, "/NEW.V00");
    assert_int_equal(res->n_entries, in->n_entries);   /* one added, one removed */
    /* the new data lies after the old: a session appended to the copy */
    assert_true(esximg_iso_find(res, "/NEW.V00")->lba >= in->volume_blocks);
    assert_true(esximg_iso_find(res, "/BOOT.CFG")->lba >= in->volume_blocks);
    assert_kept(in, res, true);
    assert_boot_kept(in, res, true);
    assert_flavour(in, res);
    assert_true(res->image_bytes > in->image_bytes + NEW_SIZE);
    assert_true(res->image_bytes < in->image_bytes + NEW_SIZE + (256u << 10));
    assert_raw_names(out);
    /* progress ends at the output's size */
    assert_true(pr.calls >= 2);
    assert_false(pr.backwards);
    assert_int_equal(pr.last, res->image_bytes);
    assert_int_equal(pr.total, res->image_bytes);

    /* the system area (blocks 0-15) and all data before block 16 are the input's */
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(fx->in, &a, &la);
    tu_read_file(out, &b, &lb);
    assert_memory_equal(a, b, 16 * ESXIMG_ISO_BLOCK);
    /* volume dates: the given time, in GMT */
    assert_memory_equal(b + 16 * 2048 + 813, "2020091312264000", 16);
    assert_int_equal(b[16 * 2048 + 813 + 16], 0);
    free(a);
    free(b);
    esximg_iso_close(in);
    esximg_iso_close(res);
    keep_for_e2e(out);
    free(out);
}

/* An input the caller already parsed gives the same bytes as one read by the write; one
 * parsed from another file is refused, since its size is not the input's. */
static void isowrite_reuses_parsed_input(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso_change c[4];
    size_t n = std_changes(fx, c);
    char *read = tu_path_join(fx->outdir, "read.iso");
    char *reused = tu_path_join(fx->outdir, "reused.iso");
    struct esximg_iso_wopts o = {.mtime = EPOCH};
    write_ok(fx->in, c, n, &o, read);
    struct esximg_err err = {0};
    struct esximg_iso *in = NULL;
    assert_int_equal(esximg_iso_open(fx->in, NULL, &in, &err), 0);
    o.input = in;
    write_ok(fx->in, c, n, &o, reused);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(read, &a, &la);
    tu_read_file(reused, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    esximg_iso_close(in);
    struct esximg_iso *other = NULL;
    assert_int_equal(esximg_iso_open(read, NULL, &other, &err), 0);
    o.input = other;
    char *refused = tu_path_join(fx->outdir, "refused.iso");
    assert_int_equal(esximg_iso_write(fx->in, c, n, &o, refused, &err), ESXIMG_EIO);
    assert_non_null(strstr(err.msg, "input changed"));
    assert_int_equal(access(refused, F_OK), -1);
    esximg_iso_close(other);
    free(a);
    free(b);
    free(read);
    free(reused);
    free(refused);
}

static void isowrite_is_deterministic(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso_change c[4];
    size_t n = std_changes(fx, c);
    struct esximg_iso_wopts o = {.mtime = EPOCH};
    char *one = tu_path_join(fx->outdir, "one.iso"), *two = tu_path_join(fx->outdir, "two.iso");
    write_ok(fx->in, c, n, &o, one);
    sleep(1);   /* a clock read anywhere would now show */
    const char *tz = getenv("TZ");
    char *old_tz = tz ? esx_strdup(tz) : NULL;
    setenv("TZ", "Pacific/Kiritimati", 1);
    tzset();
    mode_t mask = umask(077);
    write_ok(fx->in, c, n, &o, two);
    umask(mask);
    if (old_tz)
        setenv("TZ", old_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old_tz);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(one, &a, &la);
    tu_read_file(two, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(b);
    /* another time gives other bytes: the dates do come from the options */
    o.mtime = EPOCH + 86400;
    write_ok(fx->in, c, n, &o, two);
    tu_read_file(two, &b, &lb);
    assert_int_equal(la, lb);
    assert_true(memcmp(a, b, la) != 0);
    free(a);
    free(b);
    free(one);
    free(two);
}

static void isowrite_keeps_volume_dates_when_asked(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso_change add = {.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00",
                                     .data = "x", .len = 1};
    struct esximg_iso_wopts o = {.mtime = 1234567890, .keep_volume_dates = true};
    char *out = tu_path_join(fx->outdir, "dates.iso");
    write_ok(fx->in, &add, 1, &o, out);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(fx->in, &a, &la);
    tu_read_file(out, &b, &lb);
    assert_memory_equal(a + 16 * 2048 + 813, b + 16 * 2048 + 813, 68);
    /* the new session's own copy of the descriptor too */
    size_t session = (la + 2047) / 2048 + 16;
    assert_int_equal(b[session * 2048], 1);
    assert_memory_equal(b + session * 2048 + 1, "CD001", 5);
    assert_memory_equal(a + 16 * 2048 + 813, b + session * 2048 + 813, 68);
    free(a);
    free(b);
    free(out);
}

static void isowrite_full_rewrite_is_compact_and_boots(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso_change c[4];
    size_t n = std_changes(fx, c);
    struct esximg_iso_wopts o = {.mtime = EPOCH, .full_rewrite = true};
    char *out = tu_path_join(fx->outdir, "full.iso");
    write_ok(fx->in, c, n, &o, out);
    struct esximg_iso *in = NULL, *res = NULL;
    assert_int_equal(esximg_iso_open(fx->in, NULL, &in, NULL), 0);
    assert_int_equal(esximg_iso_open(out, NULL, &res, NULL), 0);
    assert_file_is(res, "/NEW.V00", fx->newmod, NEW_SIZE);
    assert_file_is(res, "/BOOT.CFG", fx->bootcfg, fx->bootcfg_len);
    assert_null(esximg_iso_find(res, "/NVME.V00"));
    assert_kept(in, res, false);
    assert_boot_kept(in, res, false);   /* boot info table patched for the new block */
    assert_flavour(in, res);
    /* no unused space: smaller than the input plus the new module */
    assert_true(res->image_bytes < in->image_bytes + NEW_SIZE);
    esximg_iso_close(in);
    esximg_iso_close(res);
    free(out);
}

static void isowrite_edits_an_edited_image(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso_change c[4];
    size_t n = std_changes(fx, c);
    struct esximg_iso_wopts o = {.mtime = EPOCH};
    char *first = tu_path_join(fx->outdir, "first.iso");
    char *second = tu_path_join(fx->outdir, "second.iso");
    write_ok(fx->in, c, n, &o, first);
    static const char more[] = "second edit";
    struct esximg_iso_change c2[2] = {
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/NEWDIR/SUB/MORE.TXT", .data = more,
         .len = sizeof more - 1},
        {.kind = ESXIMG_ISO_REMOVE, .iso_path = "/NEW.V00"},
    };
    write_ok(first, c2, 2, &o, second);
    struct esximg_iso *a = NULL, *b = NULL;
    assert_int_equal(esximg_iso_open(first, NULL, &a, NULL), 0);
    assert_int_equal(esximg_iso_open(second, NULL, &b, NULL), 0);
    assert_file_is(b, "/NEWDIR/SUB/MORE.TXT", more, sizeof more - 1);
    assert_int_equal(esximg_iso_find(b, "/NEWDIR")->type, ESXIMG_ISO_DIR);
    assert_int_equal(esximg_iso_find(b, "/NEWDIR/SUB")->type, ESXIMG_ISO_DIR);
    assert_null(esximg_iso_find(b, "/NEW.V00"));
    assert_file_is(b, "/BOOT.CFG", fx->bootcfg, fx->bootcfg_len);
    assert_int_equal(esximg_iso_find(b, "/BOOT.CFG")->lba, esximg_iso_find(a, "/BOOT.CFG")->lba);
    assert_int_equal(b->n_entries, a->n_entries + 2);
    assert_int_equal(b->n_boots, 2);
    assert_int_equal(b->boots[0].lba, a->boots[0].lba);
    assert_true(b->boots[0].boot_info_table);
    esximg_iso_close(a);
    esximg_iso_close(b);
    free(first);
    free(second);
}

static void isowrite_keeps_a_system_area(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(fx->in, &data, &len);
    for (size_t i = 0; i < 16 * ESXIMG_ISO_BLOCK; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    char *in = tu_path_join(fx->dir, "sysarea.iso");
    char *out = tu_path_join(fx->outdir, "sysarea-out.iso");
    assert_int_equal(esximg_file_write(in, data, len, 0644, NULL), 0);
    struct esximg_iso_change add = {.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00",
                                     .data = "x", .len = 1};
    struct esximg_iso_wopts o = {.mtime = EPOCH};
    write_ok(in, &add, 1, &o, out);
    uint8_t *res = NULL;
    size_t rlen = 0;
    tu_read_file(out, &res, &rlen);
    assert_memory_equal(res, data, 16 * ESXIMG_ISO_BLOCK);
    free(res);
    free(data);
    free(in);
    free(out);
}

static void isowrite_without_changes_copies(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *out = tu_path_join(fx->outdir, "same.iso");
    write_ok(fx->in, NULL, 0, NULL, out);
    struct esximg_iso *in = NULL, *res = NULL;
    assert_int_equal(esximg_iso_open(fx->in, NULL, &in, NULL), 0);
    assert_int_equal(esximg_iso_open(out, NULL, &res, NULL), 0);
    assert_int_equal(res->n_entries, in->n_entries);
    assert_boot_kept(in, res, true);
    esximg_iso_close(in);
    esximg_iso_close(res);
    free(out);
}

static void isowrite_keeps_rock_ridge_and_joliet(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *tree = tu_path_join(fx->dir, "rrtree");
    char *in = tu_path_join(fx->dir, "rrj.iso"), *out = tu_path_join(fx->outdir, "rrj-out.iso");
    tu_run("mkdir -p '%s/sub' && printf lower > '%s/a.txt' "
           "&& printf keep > '%s/sub/Long Name.cfg' "
           "&& xorriso -as mkisofs -R -J -quiet -V RRJ -o '%s' '%s' >/dev/null 2>&1",
           tree, tree, tree, in, tree);
    static const char text[] = "a new mixed-case file";
    struct esximg_iso_change c[2] = {
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/sub/New File.txt", .data = text,
         .len = sizeof text - 1},
        {.kind = ESXIMG_ISO_REPLACE, .iso_path = "/a.txt", .data = "UPPER", .len = 5},
    };
    struct esximg_iso_wopts o = {.mtime = EPOCH};
    write_ok(in, c, 2, &o, out);
    struct esximg_iso *res = NULL;
    assert_int_equal(esximg_iso_open(out, NULL, &res, NULL), 0);
    assert_true(res->rockridge);
    assert_true(res->joliet);
    assert_false(res->eltorito);
    assert_string_equal(res->volume_id, "RRJ");
    assert_file_is(res, "/sub/New File.txt", text, sizeof text - 1);
    assert_file_is(res, "/sub/Long Name.cfg", "keep", 4);
    assert_file_is(res, "/a.txt", "UPPER", 5);
    esximg_iso_close(res);
    free(tree);
    free(in);
    free(out);
}

/* Real installer ISOs come from mkisofs/genisoimage, whose file data starts right after the
 * path tables and directories, a few blocks past the volume descriptors. */
static void isowrite_grows_a_genisoimage_image(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    if (system("command -v genisoimage >/dev/null 2>&1") != 0)
        skip();
    char *in = tu_path_join(fx->dir, "geniso.iso");
    char *out = tu_path_join(fx->outdir, "geniso-out.iso");
    tu_run("genisoimage -quiet -o '%s' -V ESXI-7.0.2-17630552-STANDARD -A ESXIMAGE "
           "-b ISOLINUX.BIN -c BOOT.CAT -no-emul-boot -boot-load-size 4 -boot-info-table "
           "-eltorito-alt-boot -e EFIBOOT.IMG -no-emul-boot '%s/gen/tree' >/dev/null 2>&1",
           in, fx->dir);
    struct esximg_iso_change c[4];
    size_t n = std_changes(fx, c);
    struct esximg_iso_wopts o = {.mtime = EPOCH};
    write_ok(in, c, n, &o, out);
    struct esximg_iso *a = NULL, *b = NULL;
    assert_int_equal(esximg_iso_open(in, NULL, &a, NULL), 0);
    assert_int_equal(esximg_iso_open(out, NULL, &b, NULL), 0);
    assert_true(a->bootcat_lba < 40);   /* data close behind the descriptors */
    assert_file_is(b, "/NEW.V00", fx->newmod, NEW_SIZE);
    assert_file_is(b, "/BOOT.CFG", fx->bootcfg, fx->bootcfg_len);
    assert_kept(a, b, true);
    assert_boot_kept(a, b, true);
    assert_flavour(a, b);
    esximg_iso_close(a);
    esximg_iso_close(b);
    free(in);
    free(out);
}

/* An input whose size is not a whole number of blocks: the session starts at the next one. */
static void isowrite_pads_an_odd_sized_input(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(fx->in, &data, &len);
    uint8_t *odd = malloc(len + 100);
    assert_non_null(odd);
    memcpy(odd, data, len);
    memset(odd + len, 0xA5, 100);
    char *in = tu_path_join(fx->dir, "odd.iso"), *out = tu_path_join(fx->outdir, "odd-out.iso");
    assert_int_equal(esximg_file_write(in, odd, len + 100, 0644, NULL), 0);
    struct esximg_iso_change add = {.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00",
                                     .data = "x", .len = 1};
    write_ok(in, &add, 1, NULL, out);
    uint8_t *res = NULL;
    size_t rlen = 0;
    tu_read_file(out, &res, &rlen);
    assert_int_equal(rlen % ESXIMG_ISO_BLOCK, 0);
    /* the tail is kept, then zeros up to the block */
    assert_memory_equal(res + 16 * 2048 + 2048 * 3, odd + 16 * 2048 + 2048 * 3,
                        len + 100 - 19 * 2048);
    for (size_t i = len + 100; i < len + 2048; i++)
        assert_int_equal(res[i], 0);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(out, NULL, &iso, NULL), 0);
    assert_true(esximg_iso_find(iso, "/X.V00")->lba >= len / 2048 + 1);
    assert_int_equal((uint64_t)iso->volume_blocks * ESXIMG_ISO_BLOCK, rlen);
    esximg_iso_close(iso);
    free(res);
    free(odd);
    free(data);
    free(in);
    free(out);
}

/* A change that cannot apply fails with `code` and leaves nothing in the output directory. */
static void expect_refused_with(struct fixture *fx, const char *in,
                                const struct esximg_iso_change *c, size_t n,
                                const struct esximg_iso_wopts *opts, int code,
                                const char *msg_part)
{
    struct esximg_err err = {0};
    struct esximg_iso_wopts o = *opts;
    char *out = tu_path_join(fx->outdir, "refused.iso");
    size_t before = count_dir(fx->outdir);
    int rc = esximg_iso_write(in, c, n, &o, out, &err);
    if (rc != code)
        fail_msg("expected code %d, got %d: %s", code, rc, err.msg);
    assert_int_equal(err.code, code);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message '%s' does not say '%s'", err.msg, msg_part);
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(count_dir(fx->outdir), before);
    /* without an error record the code still comes back */
    assert_int_equal(esximg_iso_write(in, c, n, &o, out, NULL), code);
    assert_int_equal(count_dir(fx->outdir), before);
    free(out);
}

static void expect_refused(struct fixture *fx, const char *in,
                           const struct esximg_iso_change *c, size_t n, int code,
                           const char *msg_part)
{
    const struct esximg_iso_wopts o = {.mtime = EPOCH};
    expect_refused_with(fx, in, c, n, &o, code, msg_part);
}

/* ESXi's UEFI loader: no file of two extents, no directory record at or beyond 4 GiB.  The
 * 4 GiB file is sparse, and the directory limit is lowered through the options. */
static void isowrite_refuses_what_esxi_cannot_read(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *big = tu_path_join(fx->dir, "big.v00");
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)((uint64_t)1 << 32)), 0);
    close(fd);
    struct esximg_iso_change add_big = {.kind = ESXIMG_ISO_ADD, .iso_path = "/BIG.V00",
                                         .src_path = big};
    expect_refused(fx, fx->in, &add_big, 1, ESXIMG_ELIMIT, "'/BIG.V00' is 4294967296 bytes: "
                   "a file of 4 GiB or more needs two extents");
    unlink(big);

    struct stat st;
    assert_int_equal(stat(fx->in, &st), 0);
    uint64_t start = ((uint64_t)st.st_size + 2047) / 2048 * 2048;
    struct esximg_iso_change add = {.kind = ESXIMG_ISO_ADD, .iso_path = "/NEW.V00",
                                     .data = fx->newmod, .len = NEW_SIZE};
    /* growing: the new tree would start where the input ends, at the limit */
    struct esximg_iso_wopts o = {.mtime = EPOCH, .max_dir_record_offset = start};
    expect_refused_with(fx, fx->in, &add, 1, &o, ESXIMG_ELIMIT, "the new directory tree would "
                        "start at byte");
    /* the session starts below the limit, its directory records (after 16 blocks of system
       area and the descriptors) lie beyond it: refused once written, nothing left */
    o.max_dir_record_offset = start + 16 * 2048;
    expect_refused_with(fx, fx->in, &add, 1, &o, ESXIMG_ELIMIT, "has a record at byte");
    /* a full rewrite puts the tree first, well below */
    o.max_dir_record_offset = start / 2;
    o.full_rewrite = true;
    char *out = tu_path_join(fx->outdir, "rewritten.iso");
    struct esximg_err err = {0};
    if (esximg_iso_write(fx->in, &add, 1, &o, out, &err) != 0)
        fail_msg("full rewrite: %s", err.msg);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(out, NULL, &iso, &err), 0);
    assert_true(iso->last_dir_record < start / 2);
    assert_true(iso->last_dir_record > 16 * 2048);
    assert_int_equal(iso->pvd_count, 1);
    assert_false(iso->last_pvd_differs);
    esximg_iso_close(iso);
    unlink(out);
    free(out);
    free(big);
}

static void isowrite_refuses_bad_changes(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct {
        struct esximg_iso_change c;
        int code;
        const char *msg;
    } cases[] = {
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/BOOT.CFG", .data = "x", .len = 1},
         ESXIMG_EINVAL, "already in the image"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/b.b00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "already in the image"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/new.v00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "upper-case 8.3"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/TOOLONGNAME.V00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "level 1"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V000", .data = "x", .len = 1},
         ESXIMG_EINVAL, "level 1"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/NEW-1.V00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "level 1"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/DIR.X/A.V00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "level 1"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "NEW.V00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "not absolute"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/EFI/../X.V00", .data = "x", .len = 1},
         ESXIMG_EUNSAFE, "'..'"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/EFI//X.V00", .data = "x", .len = 1},
         ESXIMG_EUNSAFE, "empty"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/", .data = "x", .len = 1},
         ESXIMG_EUNSAFE, "empty"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/BOOT.CFG/X.V00", .data = "x", .len = 1},
         ESXIMG_EINVAL, "not a directory"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00", .data = NULL, .len = 5},
         ESXIMG_EINVAL, "no content"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00", .src_path = "/nonexistent/x"},
         ESXIMG_EIO, "cannot open"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00", .src_path = "/"},
         ESXIMG_EINVAL, "not a regular file"},
        {{.kind = ESXIMG_ISO_REPLACE, .iso_path = "/NOPE.V00", .data = "x", .len = 1},
         ESXIMG_ENOTFOUND, "not in the image"},
        {{.kind = ESXIMG_ISO_REMOVE, .iso_path = "/NOPE.V00"}, ESXIMG_ENOTFOUND, NULL},
        {{.kind = ESXIMG_ISO_REMOVE, .iso_path = "/EFI"}, ESXIMG_EINVAL, "not a regular file"},
        {{.kind = ESXIMG_ISO_REMOVE, .iso_path = "/ISOLINUX.BIN"}, ESXIMG_EUNSUPPORTED,
         "El Torito"},
        {{.kind = ESXIMG_ISO_REPLACE, .iso_path = "/efiboot.img", .data = "x", .len = 1},
         ESXIMG_EUNSUPPORTED, "El Torito"},
        {{.kind = ESXIMG_ISO_REMOVE, .iso_path = "/BOOT.CAT"}, ESXIMG_EUNSUPPORTED,
         "El Torito"},
        {{.kind = (enum esximg_iso_change_kind)42, .iso_path = "/X.V00"}, ESXIMG_EINVAL,
         "unknown kind"},
        {{.kind = ESXIMG_ISO_ADD, .iso_path = NULL}, ESXIMG_EINVAL, "no path"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(fx, fx->in, &cases[i].c, 1, cases[i].code, cases[i].msg);

    /* the same file twice, in two spellings */
    struct esximg_iso_change twice[2] = {
        {.kind = ESXIMG_ISO_REPLACE, .iso_path = "/BOOT.CFG", .data = "x", .len = 1},
        {.kind = ESXIMG_ISO_REMOVE, .iso_path = "/boot.cfg"},
    };
    expect_refused(fx, fx->in, twice, 2, ESXIMG_EINVAL, "changed twice");
    struct esximg_iso_change add_twice[2] = {
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/NEW.V00", .data = "x", .len = 1},
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/NEW.V00", .data = "y", .len = 1},
    };
    expect_refused(fx, fx->in, add_twice, 2, ESXIMG_EINVAL, "changed twice");
    /* a new file where another change makes a directory */
    struct esximg_iso_change clash[2] = {
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/NEWDIR", .data = "x", .len = 1},
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/NEWDIR/A.V00", .data = "y", .len = 1},
    };
    expect_refused(fx, fx->in, clash, 2, ESXIMG_EINVAL, "not a directory");
}

static void isowrite_refuses_bad_inputs_and_outputs(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso_change add = {.kind = ESXIMG_ISO_ADD, .iso_path = "/X.V00",
                                     .data = "x", .len = 1};
    /* missing input */
    char *missing = tu_path_join(fx->dir, "missing.iso");
    expect_refused(fx, missing, &add, 1, ESXIMG_EIO, NULL);
    /* not an ISO: zeros */
    uint8_t *zeros = calloc(1, 64 * 2048);
    assert_non_null(zeros);
    char *junk = tu_path_join(fx->dir, "zeros.iso");
    assert_int_equal(esximg_file_write(junk, zeros, 64 * 2048, 0644, NULL), 0);
    expect_refused(fx, junk, &add, 1, ESXIMG_EFORMAT, NULL);
    free(zeros);
    /* truncated: the volume claims more blocks than the file holds */
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(fx->in, &data, &len);
    char *cut = tu_path_join(fx->dir, "cut.iso");
    assert_int_equal(esximg_file_write(cut, data, len / 2, 0644, NULL), 0);
    expect_refused(fx, cut, &add, 1, ESXIMG_EFORMAT, "truncated");
    /* a primary volume descriptor that is not one */
    data[16 * 2048] = 2;
    char *bad = tu_path_join(fx->dir, "badpvd.iso");
    assert_int_equal(esximg_file_write(bad, data, len, 0644, NULL), 0);
    struct esximg_err err = {0};
    char *out = tu_path_join(fx->outdir, "x.iso");
    assert_int_not_equal(esximg_iso_write(bad, &add, 1, NULL, out, &err), 0);
    assert_int_equal(access(out, F_OK), -1);
    free(data);

    /* the output may not be the input, which stays as it was */
    char before[65], after[65];
    sha256_file(fx->in, before);
    assert_int_equal(esximg_iso_write(fx->in, &add, 1, NULL, fx->in, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "is the input"));
    sha256_file(fx->in, after);
    assert_string_equal(before, after);
    /* an output directory that does not exist, or that may not be written */
    char *nodir = tu_path_join(fx->dir, "nodir/out.iso");
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_iso_write(fx->in, &add, 1, NULL, nodir, &err), ESXIMG_EIO);
    assert_string_equal(err.file, nodir);
    if (geteuid() != 0) {
        char *ro = tu_path_join(fx->dir, "ro");
        assert_int_equal(mkdir(ro, 0555), 0);
        char *ro_out = tu_path_join(ro, "out.iso");
        assert_int_equal(esximg_iso_write(fx->in, &add, 1, NULL, ro_out, &err), ESXIMG_EIO);
        assert_int_equal(count_dir(ro), 0);
        free(ro_out);
        free(ro);
    }
    /* arguments */
    assert_int_equal(esximg_iso_write(NULL, &add, 1, NULL, out, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_iso_write(fx->in, &add, 1, NULL, NULL, &err), ESXIMG_EINVAL);
    assert_int_equal(esximg_iso_write(fx->in, NULL, 1, NULL, out, &err), ESXIMG_EINVAL);
    assert_int_equal(access(out, F_OK), -1);
    free(nodir);
    free(out);
    free(missing);
    free(junk);
    free(cut);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isowrite_grows_the_image),
        cmocka_unit_test(isowrite_is_deterministic),
        cmocka_unit_test(isowrite_reuses_parsed_input),
        cmocka_unit_test(isowrite_keeps_volume_dates_when_asked),
        cmocka_unit_test(isowrite_full_rewrite_is_compact_and_boots),
        cmocka_unit_test(isowrite_edits_an_edited_image),
        cmocka_unit_test(isowrite_keeps_a_system_area),
        cmocka_unit_test(isowrite_grows_a_genisoimage_image),
        cmocka_unit_test(isowrite_pads_an_odd_sized_input),
        cmocka_unit_test(isowrite_without_changes_copies),
        cmocka_unit_test(isowrite_keeps_rock_ridge_and_joliet),
        cmocka_unit_test(isowrite_refuses_bad_changes),
        cmocka_unit_test(isowrite_refuses_bad_inputs_and_outputs),
        cmocka_unit_test(isowrite_refuses_what_esxi_cannot_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
