/* test_iso.c: the ISO reader (lib/iso.c) on images that xorriso builds at test time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/iso.h"
#include "testutil.h"

struct fixture {
    char *dir;      /* temporary directory */
    char *plain;    /* plain ISO 9660, level 1, El Torito BIOS + UEFI */
    char *rrj;      /* Rock Ridge + Joliet */
};

static const char BOOTCFG[] = "bootstate=0\ntitle=Loading ESXi installer\nkernel=/b.b00\n"
                              "modules=/jumpstrt.gz --- /imgdb.tgz\n";

static void write_file(const char *dir, const char *rel, const void *data, size_t len)
{
    char *path = esx_path_join(dir, rel);
    assert_non_null(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(path);
}

/* 200000 bytes whose value depends on the position, so an offset error shows */
static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
    return p;
}

#define BIG_SIZE 200000u

static int setup(void **state)
{
    if (system("command -v xorriso >/dev/null 2>&1") != 0)
        return 0;   /* each test skips */
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_mkdtemp();
    char *tree = esx_path_join(fx->dir, "tree");
    assert_int_equal(mkdir(tree, 0755), 0);
    write_file(tree, "BOOT.CFG", BOOTCFG, sizeof BOOTCFG - 1);
    uint8_t *big = pattern(BIG_SIZE);
    write_file(tree, "BIG.V00", big, BIG_SIZE);
    free(big);
    write_file(tree, "EMPTY.TXT", "", 0);
    uint8_t boot[4096];
    memset(boot, 0x90, sizeof boot);
    write_file(tree, "ISOLINUX.BIN", boot, sizeof boot);
    uint8_t efi[32768] = {0};
    write_file(tree, "EFIBOOT.IMG", efi, sizeof efi);
    char *sub = esx_path_join(tree, "EFI");
    assert_int_equal(mkdir(sub, 0755), 0);
    char *sub2 = esx_path_join(sub, "BOOT");
    assert_int_equal(mkdir(sub2, 0755), 0);
    write_file(sub2, "BOOT.CFG", BOOTCFG, sizeof BOOTCFG - 1);
    free(sub);
    free(sub2);

    fx->plain = esx_path_join(fx->dir, "plain.iso");
    tu_run("xorriso -as mkisofs --norock -iso-level 1 -quiet -V ESXI-7.0.0-TEST -A ESXIMAGE "
        "-sysid '' -b ISOLINUX.BIN -c BOOT.CAT -no-emul-boot -boot-load-size 4 "
        "-boot-info-table -eltorito-alt-boot -e EFIBOOT.IMG -no-emul-boot -o '%s' '%s' "
        ">/dev/null 2>&1", fx->plain, tree);

    /* Rock Ridge + Joliet, with two names that differ only in case */
    char *tree2 = esx_path_join(fx->dir, "tree2");
    assert_int_equal(mkdir(tree2, 0755), 0);
    write_file(tree2, "a.txt", "lower", 5);
    write_file(tree2, "A.TXT", "upper", 5);
    write_file(tree2, "Mixed-Case-Long-Name.cfg", "x", 1);
    fx->rrj = esx_path_join(fx->dir, "rrj.iso");
    tu_run("xorriso -as mkisofs -R -J -quiet -V RRJ -o '%s' '%s' >/dev/null 2>&1", fx->rrj,
        tree2);
    free(tree);
    free(tree2);
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
    free(fx->plain);
    free(fx->rrj);
    free(fx);
    return 0;
}

static const struct esximg_iso_entry *must_find(const struct esximg_iso *iso, const char *p)
{
    const struct esximg_iso_entry *e = esximg_iso_find(iso, p);
    if (!e)
        fail_msg("'%s' not found", p);
    return e;
}

static void iso_reads_identifiers_and_features(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open(fx->plain, NULL, &iso, &err), 0);
    assert_string_equal(iso->volume_id, "ESXI-7.0.0-TEST");
    assert_string_equal(iso->application_id, "ESXIMAGE");
    assert_string_equal(iso->system_id, "");
    assert_false(iso->rockridge);
    assert_false(iso->joliet);
    assert_true(iso->eltorito);
    assert_int_equal(iso->iso_level, 1);
    assert_true(iso->volume_blocks > 16);
    assert_int_equal((uint64_t)iso->volume_blocks * ESXIMG_ISO_BLOCK, iso->image_bytes);
    esximg_iso_close(iso);

    assert_int_equal(esximg_iso_open(fx->rrj, NULL, &iso, &err), 0);
    assert_true(iso->rockridge);
    assert_true(iso->joliet);
    assert_int_equal(iso->iso_level, 0);
    assert_false(iso->eltorito);
    assert_int_equal(iso->n_boots, 0);
    assert_null(iso->bootcat_path);
    assert_non_null(esximg_iso_find(iso, "/Mixed-Case-Long-Name.cfg"));
    esximg_iso_close(iso);
}

static void iso_lists_the_tree(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(fx->plain, NULL, &iso, NULL), 0);
    static const char *const want[] = {"/BIG.V00", "/BOOT.CAT", "/BOOT.CFG", "/EFI",
                                       "/EFI/BOOT", "/EFI/BOOT/BOOT.CFG", "/EFIBOOT.IMG",
                                       "/EMPTY.TXT", "/ISOLINUX.BIN"};
    assert_int_equal(iso->n_entries, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < iso->n_entries; i++)
        assert_string_equal(iso->entries[i].path, want[i]);
    const struct esximg_iso_entry *e = must_find(iso, "/EFI/BOOT");
    assert_int_equal(e->type, ESXIMG_ISO_DIR);
    assert_int_equal(e->depth, 2);
    e = must_find(iso, "/EFI/BOOT/BOOT.CFG");
    assert_int_equal(e->type, ESXIMG_ISO_FILE);
    assert_int_equal(e->depth, 3);
    assert_int_equal(e->size, sizeof BOOTCFG - 1);
    assert_int_equal(e->extents, 1);
    e = must_find(iso, "/BOOT.CAT");
    assert_int_equal(e->type, ESXIMG_ISO_BOOTCAT);
    assert_int_equal(e->lba, iso->bootcat_lba);
    e = must_find(iso, "/EMPTY.TXT");
    assert_int_equal(e->size, 0);
    esximg_iso_close(iso);
}

static void iso_find_ignores_case_but_prefers_exact(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(fx->plain, NULL, &iso, NULL), 0);
    const struct esximg_iso_entry *e = must_find(iso, "/BOOT.CFG");
    assert_ptr_equal(esximg_iso_find(iso, "/boot.cfg"), e);
    assert_ptr_equal(esximg_iso_find(iso, "boot.cfg"), e);
    assert_ptr_equal(esximg_iso_find(iso, "efi/boot/boot.cfg"),
                     must_find(iso, "/EFI/BOOT/BOOT.CFG"));
    assert_null(esximg_iso_find(iso, "/boot.cf"));
    assert_null(esximg_iso_find(iso, "/BOOT.CFG;1"));
    assert_null(esximg_iso_find(iso, "/nothing"));
    assert_null(esximg_iso_find(iso, ""));
    esximg_iso_close(iso);

    assert_int_equal(esximg_iso_open(fx->rrj, NULL, &iso, NULL), 0);
    assert_string_equal(must_find(iso, "/a.txt")->path, "/a.txt");
    assert_string_equal(must_find(iso, "/A.TXT")->path, "/A.TXT");
    assert_non_null(esximg_iso_find(iso, "/A.txt"));
    esximg_iso_close(iso);
}

static void iso_reads_contents_whole_and_streamed(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open(fx->plain, NULL, &iso, &err), 0);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(esximg_iso_read_file(iso, "/boot.cfg", 4096, &data, &len, &err), 0);
    assert_int_equal(len, sizeof BOOTCFG - 1);
    assert_memory_equal(data, BOOTCFG, len);
    assert_int_equal(data[len], 0);
    free(data);
    assert_int_equal(esximg_iso_read_file(iso, "/EMPTY.TXT", 10, &data, &len, &err), 0);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(esximg_iso_read_file(iso, "/BIG.V00", 1000, &data, &len, &err),
                     ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "'/BIG.V00'"));
    assert_int_equal(esximg_iso_read_file(iso, "/nope", 1000, &data, &len, &err),
                     ESXIMG_ENOTFOUND);
    assert_int_equal(esximg_iso_read_file(iso, "/EFI", 1000, &data, &len, &err),
                     ESXIMG_EINVAL);

    /* streamed in odd chunk sizes; equal to the pattern and to the raw bytes at the LBA */
    uint8_t *want = pattern(BIG_SIZE);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    tu_read_file(fx->plain, &raw, &raw_len);
    const struct esximg_iso_entry *e = must_find(iso, "/BIG.V00");
    assert_true((uint64_t)e->lba * ESXIMG_ISO_BLOCK + BIG_SIZE <= raw_len);
    assert_memory_equal(raw + (size_t)e->lba * ESXIMG_ISO_BLOCK, want, BIG_SIZE);
    struct esximg_iso_reader *r = NULL;
    assert_int_equal(esximg_iso_reader_open(iso, "big.v00", &r, &err), 0);
    assert_ptr_equal(esximg_iso_reader_entry(r), e);
    size_t done = 0, got = 0;
    uint8_t chunk[3001];
    do {
        assert_int_equal(esximg_iso_reader_read(r, chunk, sizeof chunk, &got, &err), 0);
        assert_true(done + got <= BIG_SIZE);
        assert_memory_equal(chunk, want + done, got);
        done += got;
    } while (got > 0);
    assert_int_equal(done, BIG_SIZE);
    esximg_iso_reader_close(r);
    /* a partial read, then close: the next reader starts again at 0 */
    assert_int_equal(esximg_iso_reader_open(iso, "/BIG.V00", &r, &err), 0);
    assert_int_equal(esximg_iso_reader_read(r, chunk, 10, &got, &err), 0);
    esximg_iso_reader_close(r);
    assert_int_equal(esximg_iso_reader_open(iso, "/BIG.V00", &r, &err), 0);
    assert_int_equal(esximg_iso_reader_read(r, chunk, 100, &got, &err), 0);
    assert_memory_equal(chunk, want, got);
    esximg_iso_reader_close(r);
    esximg_iso_reader_close(NULL);
    free(want);
    free(raw);
    esximg_iso_close(iso);
}

static void iso_reports_el_torito_entries(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso *iso = NULL;
    assert_int_equal(esximg_iso_open(fx->plain, NULL, &iso, NULL), 0);
    assert_string_equal(iso->bootcat_path, "/BOOT.CAT");
    assert_int_equal(iso->n_boots, 2);
    const struct esximg_iso_boot *bios = &iso->boots[0], *uefi = &iso->boots[1];
    assert_int_equal(bios->platform_id, 0);
    assert_int_equal(bios->emulation, ESXIMG_ISO_NO_EMUL);
    assert_true(bios->bootable);
    assert_true(bios->boot_info_table);
    assert_int_equal(bios->load_size, 4);
    assert_string_equal(bios->path, "/ISOLINUX.BIN");
    assert_int_equal(bios->lba, must_find(iso, "/ISOLINUX.BIN")->lba);
    assert_int_equal(uefi->platform_id, 0xEF);
    assert_int_equal(uefi->emulation, ESXIMG_ISO_NO_EMUL);
    assert_false(uefi->boot_info_table);
    assert_string_equal(uefi->path, "/EFIBOOT.IMG");
    assert_int_equal(uefi->lba, must_find(iso, "/EFIBOOT.IMG")->lba);
    esximg_iso_close(iso);
}

static void iso_open_memory_matches_file(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    uint8_t *raw = NULL;
    size_t len = 0;
    tu_read_file(fx->plain, &raw, &len);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open_memory(raw, len, NULL, &iso, &err), 0);
    assert_string_equal(iso->volume_id, "ESXI-7.0.0-TEST");
    assert_int_equal(iso->n_boots, 2);
    uint8_t *data = NULL;
    size_t n = 0;
    assert_int_equal(esximg_iso_read_file(iso, "/EFI/BOOT/BOOT.CFG", 4096, &data, &n, &err), 0);
    assert_memory_equal(data, BOOTCFG, n);
    free(data);
    esximg_iso_close(iso);
    free(raw);
}

/* The volume descriptors as ESXi's UEFI driver reads them: the last primary one counts. */
static void iso_reads_volume_descriptors_as_esxi_does(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    uint8_t *raw = NULL;
    size_t len = 0;
    tu_read_file(fx->plain, &raw, &len);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open_memory(raw, len, NULL, &iso, &err), 0);
    assert_int_equal(iso->pvd_count, 1);
    assert_int_equal(iso->first_pvd_block, 16);
    assert_int_equal(iso->last_pvd_block, 16);
    assert_false(iso->last_pvd_differs);
    /* the highest directory record lies in a listing of the tree, inside the image */
    assert_true(iso->last_dir_record > 16 * 2048 && iso->last_dir_record < len);
    uint32_t root = raw[16 * 2048 + 158] | (uint32_t)raw[16 * 2048 + 159] << 8;
    assert_true(iso->last_dir_record >= (uint64_t)root * 2048);
    assert_non_null(iso->last_dir_record_dir);
    esximg_iso_close(iso);

    /* the terminator after the boot record becomes a copy of the primary descriptor: the
       same tree, then another volume size; whatever follows does not start "CD".  Without a
       terminator libisofs reads on until a block starting with 255 (past this image's end):
       give it one after the image, where ESXi's driver never looks. */
    raw = realloc(raw, len + 2048);
    assert_non_null(raw);
    memset(raw + len, 0, 2048);
    raw[len] = 255;
    len += 2048;
    size_t term = 17;
    while (term < 32 && raw[term * 2048] != 255)
        term++;
    assert_true(term < 32);
    assert_memory_not_equal(raw + (term + 1) * 2048 + 1, "CD", 2);
    memcpy(raw + term * 2048, raw + 16 * 2048, 2048);
    if (esximg_iso_open_memory(raw, len, NULL, &iso, &err) != 0)
        fail_msg("two primary descriptors: %s", err.msg);
    assert_int_equal(iso->pvd_count, 2);
    assert_int_equal(iso->last_pvd_block, term);
    assert_false(iso->last_pvd_differs);
    esximg_iso_close(iso);
    raw[term * 2048 + 80] ^= 1;
    assert_int_equal(esximg_iso_open_memory(raw, len, NULL, &iso, &err), 0);
    assert_true(iso->last_pvd_differs);
    assert_string_equal(iso->volume_id, "ESXI-7.0.0-TEST");   /* libisofs: the first */
    esximg_iso_close(iso);
    free(raw);
}

static void iso_refuses_truncated_images(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    uint8_t *raw = NULL;
    size_t len = 0;
    tu_read_file(fx->plain, &raw, &len);
    const size_t cuts[] = {0, 1, 100, 16 * 2048, 16 * 2048 + 100, 17 * 2048, 20 * 2048,
                           len / 2, len - 2048, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        struct esximg_iso *iso = NULL;
        struct esximg_err err = {0};
        int rc = esximg_iso_open_memory(raw, cuts[i], NULL, &iso, &err);
        if (rc != ESXIMG_EFORMAT)
            fail_msg("cut at %zu: rc %d (%s)", cuts[i], rc, err.msg);
        assert_null(iso);
        assert_true(err.msg[0] != '\0');
    }
    /* the same through a file: err.file names it */
    char *cut = esx_path_join(fx->dir, "cut.iso");
    write_file(fx->dir, "cut.iso", raw, len / 2);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open(cut, NULL, &iso, &err), ESXIMG_EFORMAT);
    assert_string_equal(err.file, cut);
    assert_non_null(strstr(err.msg, "truncated"));
    free(cut);
    free(raw);
}

/* A volume that claims fewer blocks than a file's data needs opens, and reading that file
 * fails cleanly instead of returning short or stale data. */
static void iso_reading_past_the_end_fails(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    uint8_t *raw = NULL;
    size_t len = 0;
    tu_read_file(fx->plain, &raw, &len);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open_memory(raw, len, NULL, &iso, &err), 0);
    uint64_t big_lba = must_find(iso, "/BIG.V00")->lba;
    esximg_iso_close(iso);
    size_t keep = (size_t)big_lba * ESXIMG_ISO_BLOCK + 10 * ESXIMG_ISO_BLOCK;
    assert_true(keep < len);
    uint32_t blocks = (uint32_t)(keep / ESXIMG_ISO_BLOCK);
    uint8_t *pvd = raw + 16 * ESXIMG_ISO_BLOCK;
    esx_put_le32(pvd + 80, blocks);
    pvd[84] = (uint8_t)(blocks >> 24);
    pvd[85] = (uint8_t)(blocks >> 16);
    pvd[86] = (uint8_t)(blocks >> 8);
    pvd[87] = (uint8_t)blocks;
    if (esximg_iso_open_memory(raw, keep, NULL, &iso, &err) != 0)
        fail_msg("open: %s", err.msg);
    uint8_t *data = NULL;
    size_t n = 0;
    int rc = esximg_iso_read_file(iso, "/BIG.V00", BIG_SIZE, &data, &n, &err);
    assert_true(rc == ESXIMG_EFORMAT || rc == ESXIMG_EIO);
    assert_non_null(strstr(err.msg, "'/BIG.V00'"));
    assert_null(data);
    assert_non_null(strstr(err.msg, "truncated"));
    /* a file before the cut still reads */
    assert_true(must_find(iso, "/ISOLINUX.BIN")->lba < big_lba);
    assert_int_equal(esximg_iso_read_file(iso, "/ISOLINUX.BIN", 4096, &data, &n, &err), 0);
    free(data);
    esximg_iso_close(iso);
    free(raw);
}

static void iso_refuses_garbage(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    size_t len = 64 * 1024;
    uint8_t *junk = malloc(len);
    assert_non_null(junk);
    for (size_t i = 0; i < len; i++)
        junk[i] = (uint8_t)(i * 2654435761u >> 13);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_iso_open_memory(junk, len, NULL, &iso, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "cannot load the ISO 9660 image: "));
    /* a valid PVD signature over zeros elsewhere is still refused */
    memset(junk, 0, len);
    memcpy(junk + 16 * 2048, "\001CD001\001", 7);
    assert_int_equal(esximg_iso_open_memory(junk, len, NULL, &iso, &err), ESXIMG_EFORMAT);
    assert_int_equal(esximg_iso_open_memory(NULL, 0, NULL, &iso, &err), ESXIMG_EFORMAT);
    free(junk);

    char *missing = esx_path_join(fx->dir, "missing.iso");
    assert_int_equal(esximg_iso_open(missing, NULL, &iso, &err), ESXIMG_EIO);
    assert_string_equal(err.file, missing);
    free(missing);
    esximg_err_clear(&err);
    assert_int_equal(esximg_iso_open(fx->dir, NULL, &iso, &err), ESXIMG_EINVAL);
    assert_string_equal(err.file, fx->dir);
    esximg_iso_close(NULL);
}

static void iso_enforces_entry_and_depth_limits(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    struct esximg_iso *iso = NULL;
    struct esximg_err err = {0};
    struct esximg_iso_ropts few = {.max_entries = 3};
    assert_int_equal(esximg_iso_open(fx->plain, &few, &iso, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "more than 3 entries"));
    struct esximg_iso_ropts shallow = {.max_depth = 1};
    esximg_err_clear(&err);
    assert_int_equal(esximg_iso_open(fx->plain, &shallow, &iso, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "'/EFI'"));
    struct esximg_iso_ropts enough = {.max_entries = 9, .max_depth = 3};
    assert_int_equal(esximg_iso_open(fx->plain, &enough, &iso, &err), 0);
    esximg_iso_close(iso);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iso_reads_identifiers_and_features),
        cmocka_unit_test(iso_lists_the_tree),
        cmocka_unit_test(iso_find_ignores_case_but_prefers_exact),
        cmocka_unit_test(iso_reads_contents_whole_and_streamed),
        cmocka_unit_test(iso_reports_el_torito_entries),
        cmocka_unit_test(iso_open_memory_matches_file),
        cmocka_unit_test(iso_reads_volume_descriptors_as_esxi_does),
        cmocka_unit_test(iso_refuses_truncated_images),
        cmocka_unit_test(iso_reading_past_the_end_fails),
        cmocka_unit_test(iso_refuses_garbage),
        cmocka_unit_test(iso_enforces_entry_and_depth_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
