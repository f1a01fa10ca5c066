/* test_isohybrid.c: the hybrid MBR and GPT (lib/isohybrid.c) on small ISO images built here
 * byte by byte (volume descriptors, El Torito catalog, an ISOLINUX.BIN stand-in with the
 * hybrid signature and a version banner, a FAT boot sector for the EFI image), with the
 * built-in MBR code (lib/hybridmbr.c) and with MBR templates made here (432 bytes of a
 * pattern, not syslinux's code). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "esx_private.h"
#include "esximg/isohybrid.h"
#include "hybridmbr.h"
#include "testutil.h"

#define BLK 2048u
#define MIB (1024u * 1024u)
#define CAT_LBA 19u
#define BIOS_LBA 20u
#define EFI_LBA 24u
#define VOL_BLOCKS 56u          /* EFI image: blocks 24..55 */
#define BANNER_604 "ISOLINUX 6.04 20200816"

struct spec {
    const char *banner;         /* put into ISOLINUX.BIN */
    bool no_sig;
    bool efi;
    uint16_t efi_count;
    uint16_t fat_sectors;       /* FAT boot sector's total sectors; 0: no FAT */
    uint32_t efi_lba;
    uint32_t cat_lba;
    uint32_t bios_lba;
    uint16_t bios_count;
    uint32_t volume_blocks;
    uint16_t block_size;
    uint64_t file_bytes;        /* 0: the volume; larger: sparse zeros after it */
    bool no_boot_record;
    bool bad_checksum;
    char volume_id[8];
};

static struct spec spec_default(void)
{
    struct spec s = {.banner = BANNER_604, .efi = true, .efi_count = 4, .fat_sectors = 128,
                     .efi_lba = EFI_LBA, .cat_lba = CAT_LBA, .bios_lba = BIOS_LBA,
                     .bios_count = 4, .volume_blocks = VOL_BLOCKS, .block_size = BLK,
                     .volume_id = "ESXI"};
    return s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* The first VOL_BLOCKS blocks of an image as s describes it. */
static uint8_t *build(const struct spec *s)
{
    uint8_t *d = calloc(VOL_BLOCKS, BLK);
    assert_non_null(d);
    uint8_t *pvd = d + 16 * BLK;
    pvd[0] = 1;
    memcpy(pvd + 1, "CD001", 5);
    pvd[6] = 1;
    memcpy(pvd + 40, s->volume_id, strlen(s->volume_id));
    esx_put_le32(pvd + 80, s->volume_blocks);
    put16(pvd + 128, s->block_size);
    uint8_t *br = d + 17 * BLK;
    memcpy(br + 1, "CD001", 5);
    br[6] = 1;
    if (!s->no_boot_record)
        memcpy(br + 7, "EL TORITO SPECIFICATION", 23);
    esx_put_le32(br + 71, s->cat_lba);
    uint8_t *term = d + 18 * BLK;
    term[0] = 255;
    memcpy(term + 1, "CD001", 5);
    uint8_t *cat = d + CAT_LBA * BLK;
    cat[0] = 1;
    memcpy(cat + 4, "esximg test", 11);
    cat[30] = 0x55;
    cat[31] = 0xaa;
    uint16_t sum = 0;
    for (size_t i = 0; i < 32; i += 2)
        sum = (uint16_t)(sum + (cat[i] | cat[i + 1] << 8));
    put16(cat + 28, (uint16_t)(0x10000 - sum + (s->bad_checksum ? 1 : 0)));
    cat[32] = 0x88;
    put16(cat + 38, s->bios_count);
    esx_put_le32(cat + 40, s->bios_lba);
    if (s->efi) {
        cat[64] = 0x91;
        cat[65] = 0xef;
        put16(cat + 66, 1);
        cat[96] = 0x88;
        put16(cat + 102, s->efi_count);
        esx_put_le32(cat + 104, s->efi_lba);
    }
    uint8_t *bin = d + BIOS_LBA * BLK;
    bin[0] = 0xfa;
    esx_put_le32(bin + 8, 16);
    esx_put_le32(bin + 12, BIOS_LBA);
    esx_put_le32(bin + 16, 4 * BLK);
    if (!s->no_sig)
        memcpy(bin + 0x40, "\xfb\xc0\x78\x70", 4);
    if (s->banner)
        memcpy(bin + 0x200, s->banner, strlen(s->banner) + 1);
    uint8_t *fat = d + EFI_LBA * BLK;
    if (s->fat_sectors) {
        put16(fat + 11, 512);
        put16(fat + 19, s->fat_sectors);
        fat[510] = 0x55;
        fat[511] = 0xaa;
    }
    return d;
}

struct fx {
    char *dir;
    char *tpl;                  /* isohdpfx.bin (0xc3 pattern) + isolinux.bin 6.04 */
    char *tpl_old;              /* the same for 3.86 */
    char *tpl_380;              /* the same for 3.80: too old */
    char *empty;
    char path[1200];
};

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *make_tpl(const char *dir, const char *name, const char *banner, uint8_t fill)
{
    char *d = esx_path_join(dir, name);
    assert_non_null(d);
    assert_int_equal(mkdir(d, 0755), 0);
    uint8_t code[ESXIMG_HYBRID_MBR_CODE];
    for (size_t i = 0; i < sizeof code; i++)
        code[i] = (uint8_t)(fill + i);
    char p[1200];
    snprintf(p, sizeof p, "%s/isohdpfx.bin", d);
    write_file(p, code, sizeof code);
    uint8_t bin[4096] = {0};
    memcpy(bin + 0x40, "\xfb\xc0\x78\x70", 4);
    memcpy(bin + 1340, banner, strlen(banner) + 1);
    snprintf(p, sizeof p, "%s/isolinux.bin", d);
    write_file(p, bin, sizeof bin);
    return d;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    f->tpl = make_tpl(f->dir, "tpl", BANNER_604, 0xc3);
    f->tpl_old = make_tpl(f->dir, "old", "ISOLINUX 3.86 2010-04-01", 0x11);
    f->tpl_380 = make_tpl(f->dir, "older", "ISOLINUX 3.80 2009-06-04", 0x22);
    f->empty = esx_path_join(f->dir, "empty");
    assert_int_equal(mkdir(f->empty, 0755), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->tpl);
    free(f->tpl_old);
    free(f->tpl_380);
    free(f->empty);
    free(f);
    return 0;
}

/* Writes the image of s as <dir>/name and returns its path (in f->path). */
static const char *image(struct fx *f, const char *name, const struct spec *s)
{
    uint8_t *d = build(s);
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    write_file(f->path, d, VOL_BLOCKS * BLK);
    free(d);
    if (s->file_bytes)
        assert_int_equal(truncate(f->path, (off_t)s->file_bytes), 0);
    return f->path;
}

/* tpl_dir: the template directory whose isohdpfx.bin to use; NULL: the built-in code. */
static int prepare(struct fx *f, const char *path, const char *tpl_dir, bool no_gpt,
                   struct esximg_hybrid **h, struct esximg_err *err)
{
    char tpl[1200];
    snprintf(tpl, sizeof tpl, "%s/isohdpfx.bin", tpl_dir ? tpl_dir : "");
    struct esximg_hybrid_opts o = {.no_gpt = no_gpt, .mbr_template = tpl_dir ? tpl : NULL};
    (void)f;
    return esximg_hybrid_prepare(path, &o, h, err);
}

/* Prepares and applies in place; returns the whole result. */
static uint8_t *hybridize(struct fx *f, const char *name, const struct spec *s, bool no_gpt,
                          struct esximg_hybrid_info *info, size_t *len)
{
    const char *path = image(f, name, s);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    int rc = prepare(f, path, NULL, no_gpt, &h, &err);
    if (rc)
        fail_msg("prepare: %s", err.msg);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    rc = esximg_hybrid_apply(h, fd, info, &err);
    if (rc)
        fail_msg("apply: %s", err.msg);
    close(fd);
    esximg_hybrid_free(h);
    uint8_t *d = NULL;
    tu_read_file(path, &d, len);
    return d;
}

static uint64_t le64(const uint8_t *p)
{
    return esx_le32(p) | (uint64_t)esx_le32(p + 4) << 32;
}

static void isohybrid_mbr_fields(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    struct esximg_hybrid_info in;
    size_t len = 0;
    uint8_t *d = hybridize(f, "a.iso", &s, false, &in, &len);
    assert_int_equal(len, MIB);
    assert_memory_equal(d, esx_hybrid_mbr, ESXIMG_HYBRID_MBR_CODE);
    assert_int_equal(esx_le32(d + 432), BIOS_LBA * 4);
    assert_int_equal(esx_le32(d + 436), 0);
    assert_int_equal(esx_le32(d + 440), in.disk_id);
    assert_true(in.disk_id != 0);
    assert_int_equal(d[444] | d[445], 0);
    static const uint8_t p1[16] = {0x80, 0, 1, 0, 0x00, 63, 32, 0, 0, 0, 0, 0, 0, 8, 0, 0};
    assert_memory_equal(d + 446, p1, 16);
    static const uint8_t p2[16] = {0, 0xfe, 0xff, 0xff, 0xef, 0xfe, 0xff, 0xff,
                                   EFI_LBA * 4, 0, 0, 0, 128, 0, 0, 0};
    assert_memory_equal(d + 462, p2, 16);
    for (size_t i = 478; i < 510; i++)
        assert_int_equal(d[i], 0);
    assert_int_equal(d[510], 0x55);
    assert_int_equal(d[511], 0xaa);
    assert_string_equal(in.image_banner, BANNER_604);
    assert_true(in.builtin_mbr);
    assert_string_equal(in.template_banner, "");
    assert_string_equal(in.template_path, "");
    assert_true(in.efi && in.gpt);
    assert_int_equal(in.efi_start, EFI_LBA * 4);
    assert_int_equal(in.efi_sectors, 128);
    assert_int_equal(in.part1_sectors, 2048);
    assert_int_equal(in.iso_bytes, VOL_BLOCKS * BLK);
    assert_int_equal(in.disk_bytes, MIB);
    /* the ISO part is untouched */
    uint8_t *orig = build(&s);
    assert_memory_equal(d + 16 * BLK, orig + 16 * BLK, (VOL_BLOCKS - 16) * BLK);
    free(orig);
    free(d);
}

static void check_gpt(const uint8_t *d, size_t len, uint64_t hdr, uint64_t ents, uint64_t alt)
{
    const uint8_t *h = d + hdr * 512;
    uint64_t n = len / 512;
    assert_memory_equal(h, "EFI PART", 8);
    assert_int_equal(esx_le32(h + 8), 0x10000);
    assert_int_equal(esx_le32(h + 12), 92);
    uint8_t copy[92];
    memcpy(copy, h, 92);
    memset(copy + 16, 0, 4);
    assert_int_equal(esx_le32(h + 16), (uint32_t)crc32(0, copy, 92));
    assert_int_equal(le64(h + 24), hdr);
    assert_int_equal(le64(h + 32), alt);
    assert_int_equal(le64(h + 40), 34);
    assert_int_equal(le64(h + 48), n - 34);
    assert_int_equal(le64(h + 72), ents);
    assert_int_equal(esx_le32(h + 80), 128);
    assert_int_equal(esx_le32(h + 84), 128);
    const uint8_t *e = d + ents * 512;
    assert_int_equal(esx_le32(h + 88), (uint32_t)crc32(0, e, 128 * 128));
    assert_int_equal(h[56 + 7] >> 4, 4);                /* version 4 GUID */
    assert_int_equal(h[56 + 8] >> 6, 2);
    static const uint8_t basic[16] = {0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                      0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7};
    assert_memory_equal(e, basic, 16);
    assert_int_equal(le64(e + 32), 0);
    assert_int_equal(le64(e + 40), VOL_BLOCKS * 4 - 1);
    assert_memory_equal(e + 56, "I\0S\0O\0H\0y\0b\0r\0i\0d\0 \0I\0S\0O\0\0", 28);
    assert_memory_equal(e + 128, basic, 16);
    assert_int_equal(le64(e + 128 + 32), EFI_LBA * 4);
    assert_int_equal(le64(e + 128 + 40), EFI_LBA * 4 + 127);
    assert_memory_equal(e + 128 + 56, "I\0S\0O\0H\0y\0b\0r\0i\0d\0\0", 20);
    assert_memory_not_equal(e + 16, e + 128 + 16, 16);
    for (size_t i = 256; i < 128 * 128; i++)
        assert_int_equal(e[i], 0);
}

static void isohybrid_gpt_primary_and_backup(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    size_t len = 0;
    uint8_t *d = hybridize(f, "g.iso", &s, false, NULL, &len);
    uint64_t n = len / 512;
    check_gpt(d, len, 1, 2, n - 1);
    check_gpt(d, len, n - 1, n - 33, 1);
    assert_memory_equal(d + 512 + 56, d + (n - 1) * 512 + 56, 16);     /* same disk GUID */
    free(d);
}

static void isohybrid_is_deterministic(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    size_t l1 = 0, l2 = 0, l3 = 0;
    struct esximg_hybrid_info i1, i3;
    uint8_t *a = hybridize(f, "d1.iso", &s, false, &i1, &l1);
    uint8_t *b = hybridize(f, "d2.iso", &s, false, NULL, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    snprintf(s.volume_id, sizeof s.volume_id, "OTHER");
    uint8_t *c = hybridize(f, "d3.iso", &s, false, &i3, &l3);
    assert_int_not_equal(i1.disk_id, i3.disk_id);
    assert_memory_not_equal(a + 512 + 56, c + 512 + 56, 16);
    free(a);
    free(b);
    free(c);
}

static void isohybrid_without_efi_is_type_0x17_mbr_only(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    s.efi = false;
    struct esximg_hybrid_info in;
    size_t len = 0;
    uint8_t *d = hybridize(f, "b.iso", &s, false, &in, &len);
    assert_false(in.efi);
    assert_false(in.gpt);
    assert_int_equal(d[446 + 4], 0x17);
    assert_int_equal(d[446], 0x80);
    for (size_t i = 462; i < 510; i++)
        assert_int_equal(d[i], 0);
    assert_memory_not_equal(d + 512, "EFI PART", 8);
    assert_int_equal(len, MIB);
    free(d);
}

static void isohybrid_no_gpt_keeps_efi_partition_and_clears_stale_gpt(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    struct esximg_hybrid_info in;
    size_t len = 0;
    uint8_t *d = hybridize(f, "n.iso", &s, false, &in, &len);
    /* the hybrid image again, MBR only: its old GPT must not survive */
    snprintf(f->path, sizeof f->path, "%s/n2.iso", f->dir);
    write_file(f->path, d, len);
    free(d);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    assert_int_equal(prepare(f, f->path, NULL, true, &h, &err), 0);
    int fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(esximg_hybrid_apply(h, fd, &in, &err), 0);
    close(fd);
    esximg_hybrid_free(h);
    tu_read_file(f->path, &d, &len);
    assert_true(in.efi);
    assert_false(in.gpt);
    assert_int_equal(d[462 + 4], 0xef);
    assert_int_equal(d[446 + 4], 0x00);
    for (size_t i = 512; i < 512 + 17408; i++)
        assert_int_equal(d[i], 0);
    free(d);
}

/* More than 1024 cylinders: CHS saturates, LBA fields do not; the volume filling the file
 * exactly leaves no room for the backup GPT, so one MiB more is added (as isohybrid does),
 * which partition 1 does not cover. */
static void isohybrid_lba_math_past_1024_cylinders(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    s.volume_blocks = 1100u * 512u;
    s.file_bytes = 1100ull * MIB;
    const char *path = image(f, "big.iso", &s);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    assert_int_equal(prepare(f, path, NULL, false, &h, &err), 0);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct esximg_hybrid_info in;
    assert_int_equal(esximg_hybrid_apply(h, fd, &in, &err), 0);
    uint8_t mbr[512], hdr[512];
    assert_int_equal(pread(fd, mbr, 512, 0), 512);
    assert_int_equal(pread(fd, hdr, 512, (off_t)(in.disk_bytes - 512)), 512);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    esximg_hybrid_free(h);
    assert_int_equal(in.disk_bytes, 1101ull * MIB);
    assert_int_equal((uint64_t)st.st_size, 1101ull * MIB);
    assert_int_equal(mbr[446 + 5], 63);
    assert_int_equal(mbr[446 + 6], 32 + 0xc0);          /* cylinder 1023: bits 8-9 */
    assert_int_equal(mbr[446 + 7], 0xff);
    assert_int_equal(esx_le32(mbr + 446 + 12), 1100u * 2048u);
    assert_memory_equal(hdr, "EFI PART", 8);
    assert_int_equal(le64(hdr + 24), 1101ull * 2048 - 1);
    assert_int_equal(le64(hdr + 48), 1101ull * 2048 - 34);
}

static void isohybrid_efi_size_from_fat_or_count(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    struct esximg_hybrid_info in;
    size_t len = 0;
    s.efi_count = 1;                /* as VMware's writer records it */
    uint8_t *d = hybridize(f, "e1.iso", &s, false, &in, &len);
    assert_int_equal(in.efi_sectors, 128);
    free(d);
    s.efi_count = 100;
    s.fat_sectors = 0;              /* no FAT: the count */
    d = hybridize(f, "e2.iso", &s, false, &in, &len);
    assert_int_equal(in.efi_sectors, 100);
    assert_int_equal(esx_le32(d + 462 + 12), 100);
    free(d);
}

static void expect_refused(struct fx *f, const struct spec *s, const char *tpl_dir, int code,
                           const char *needle)
{
    const char *path = image(f, "bad.iso", s);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    int rc = prepare(f, path, tpl_dir, false, &h, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("got %d '%s', wanted %d '%s'", rc, err.msg, code, needle);
    assert_null(h);
    assert_true(err.file[0] != '\0');
}

/* The built-in code: a real-mode program that fits the 432 bytes, checks isolinux's hybrid
 * signature and enters ISOLINUX.BIN at 0000:7C44 (the assembler source is checked against
 * these bytes by tests/e2e/t7301-usb-mbr-source.sh). */
static void isohybrid_builtin_mbr_code(void **state)
{
    (void)state;
    assert_true(esx_hybrid_mbr_used > 64 && esx_hybrid_mbr_used <= ESXIMG_HYBRID_MBR_CODE);
    for (size_t i = esx_hybrid_mbr_used; i < ESXIMG_HYBRID_MBR_CODE; i++)
        assert_int_equal(esx_hybrid_mbr[i], 0);
    assert_int_equal(esx_hybrid_mbr[0], 0xfa);                  /* cli */
    static const uint8_t sig[4] = {0xfb, 0xc0, 0x78, 0x70};
    static const uint8_t enter[5] = {0xea, 0x44, 0x7c, 0x00, 0x00};     /* jmp 0000:7c44 */
    assert_non_null(memmem(esx_hybrid_mbr, esx_hybrid_mbr_used, sig, sizeof sig));
    assert_non_null(memmem(esx_hybrid_mbr, esx_hybrid_mbr_used, enter, sizeof enter));
    assert_non_null(memmem(esx_hybrid_mbr, esx_hybrid_mbr_used, "esximg MBR: ", 12));
}

static void expect_accepted(struct fx *f, const char *banner, const char *tpl_dir)
{
    struct spec s = spec_default();
    s.banner = banner;
    const char *path = image(f, "ok.iso", &s);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    if (prepare(f, path, tpl_dir, false, &h, &err))
        fail_msg("'%s' refused: %s", banner ? banner : "(none)", err.msg);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct esximg_hybrid_info in;
    assert_int_equal(esximg_hybrid_apply(h, fd, &in, &err), 0);
    uint8_t mbr[512];
    assert_int_equal(pread(fd, mbr, sizeof mbr, 0), (ssize_t)sizeof mbr);
    close(fd);
    assert_string_equal(in.image_banner, banner ? banner : "");
    assert_int_equal(in.builtin_mbr, tpl_dir == NULL);
    if (tpl_dir)
        assert_int_not_equal(mbr[0], esx_hybrid_mbr[0]);
    else
        assert_memory_equal(mbr, esx_hybrid_mbr, ESXIMG_HYBRID_MBR_CODE);
    esximg_hybrid_free(h);
}

/* One hand-off from syslinux 3.81 on: any such ISOLINUX.BIN with any such MBR code. */
static void isohybrid_accepts_381_and_later(void **state)
{
    struct fx *f = *state;
    const char *good[] = {"ISOLINUX 3.86 2010-04-01", "ISOLINUX 3.81 2009-06-04",
                          "ISOLINUX 4.07 2013-07-25", "ISOLINUX 6.04-pre1 20161003",
                          BANNER_604, "ISOLINUX 10.00 20300101", NULL};
    for (size_t i = 0; good[i]; i++) {
        expect_accepted(f, good[i], NULL);
        expect_accepted(f, good[i], f->tpl);
        expect_accepted(f, good[i], f->tpl_old);
    }
    expect_accepted(f, NULL, NULL);         /* no banner: the signature decides */
    /* a template without isolinux.bin beside it is taken as it is */
    char bare[1200];
    snprintf(bare, sizeof bare, "%s/isohdpfx.bin", f->empty);
    uint8_t code[ESXIMG_HYBRID_MBR_CODE] = {0x90};
    write_file(bare, code, sizeof code);
    expect_accepted(f, "ISOLINUX 3.86 2010-04-01", f->empty);
}

static void isohybrid_refuses_before_381_naming_the_release(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    s.banner = "ISOLINUX 3.80 2009-06-04";
    expect_refused(f, &s, NULL, ESXIMG_EUNSUPPORTED, "ISOLINUX.BIN is 'ISOLINUX 3.80 "
                   "2009-06-04' (syslinux 3.80): its isohybrid hand-off predates syslinux 3.81");
    s.banner = "ISOLINUX 3.73 2009-01-25";
    expect_refused(f, &s, f->tpl, ESXIMG_EUNSUPPORTED, "(syslinux 3.73)");
    s.banner = "ISOLINUX 2.13 2005-01-06";
    expect_refused(f, &s, NULL, ESXIMG_EUNSUPPORTED, "(syslinux 2.13)");
    /* no signature: refused whatever the release, naming it */
    s = spec_default();
    s.no_sig = true;
    s.banner = "ISOLINUX 3.86 2010-04-01";
    expect_refused(f, &s, NULL, ESXIMG_EUNSUPPORTED, "('ISOLINUX 3.86 2010-04-01') has no "
                   "isolinux.bin hybrid signature at offset 0x40");
    s.banner = NULL;
    expect_refused(f, &s, f->tpl, ESXIMG_EUNSUPPORTED, "(no ISOLINUX version banner) has no");
    /* a template whose isolinux.bin is too old */
    s = spec_default();
    expect_refused(f, &s, f->tpl_380, ESXIMG_EUNSUPPORTED, "the isolinux.bin beside the MBR "
                   "template is 'ISOLINUX 3.80 2009-06-04' (syslinux 3.80)");
    /* prepared on a good image, applied to an old one: refused, nothing written */
    const char *path = image(f, "new.iso", &s);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    assert_int_equal(prepare(f, path, NULL, false, &h, &err), 0);
    s.banner = "ISOLINUX 3.80 2009-06-04";
    path = image(f, "old.iso", &s);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(esximg_hybrid_apply(h, fd, NULL, &err), ESXIMG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "(syslinux 3.80)"));
    uint8_t first[512];
    assert_int_equal(pread(fd, first, 512, 0), 512);
    for (size_t i = 0; i < 512; i++)
        assert_int_equal(first[i], 0);
    close(fd);
    esximg_hybrid_free(h);
}

static void isohybrid_template_replaces_builtin_code(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    s.banner = "ISOLINUX 3.86 2010-04-01";
    const char *path = image(f, "t.iso", &s);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    assert_int_equal(prepare(f, path, f->tpl, false, &h, &err), 0);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct esximg_hybrid_info in;
    assert_int_equal(esximg_hybrid_apply(h, fd, &in, &err), 0);
    uint8_t mbr[512];
    assert_int_equal(pread(fd, mbr, sizeof mbr, 0), (ssize_t)sizeof mbr);
    close(fd);
    esximg_hybrid_free(h);
    for (size_t i = 0; i < ESXIMG_HYBRID_MBR_CODE; i++)
        assert_int_equal(mbr[i], (uint8_t)(0xc3 + i));
    assert_false(in.builtin_mbr);
    assert_string_equal(in.template_banner, BANNER_604);
    assert_non_null(strstr(in.template_path, "/tpl/isohdpfx.bin"));
    char shortp[1200];
    snprintf(shortp, sizeof shortp, "%s/short", f->dir);
    assert_int_equal(mkdir(shortp, 0755), 0);
    snprintf(shortp, sizeof shortp, "%s/short/isohdpfx.bin", f->dir);
    write_file(shortp, "abc", 3);
    snprintf(shortp, sizeof shortp, "%s/short", f->dir);
    expect_refused(f, &s, shortp, ESXIMG_EFORMAT, "MBR template is 3 bytes");
    snprintf(shortp, sizeof shortp, "%s/none", f->dir);
    expect_refused(f, &s, shortp, ESXIMG_EIO, "");
}

static void isohybrid_refuses_hostile_images(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    s.cat_lba = 100000;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "boot catalog (bytes");
    s = spec_default();
    s.cat_lba = 0xffffffffu;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "lies past the end of the image");
    s = spec_default();
    s.bios_lba = 0xfffffff0u;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "default El Torito entry points");
    s.bios_lba = 5000;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "ISOLINUX.BIN (bytes");
    s = spec_default();
    s.efi_lba = 5000;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "the EFI boot image (bytes");
    s.efi_lba = 0xffffffffu;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "UEFI El Torito entry points");
    s = spec_default();
    s.fat_sectors = 60000;          /* a FAT larger than the image */
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "lies past the end of the image");
    s = spec_default();
    s.efi_count = 0;
    s.fat_sectors = 0;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "has no size");
    s = spec_default();
    s.bad_checksum = true;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "no valid validation entry");
    s = spec_default();
    s.bios_count = 8;
    expect_refused(f, &s, NULL, ESXIMG_EUNSUPPORTED, "4-sector no-emulation");
    s = spec_default();
    s.no_boot_record = true;
    expect_refused(f, &s, NULL, ESXIMG_EUNSUPPORTED, "no El Torito boot record");
    s = spec_default();
    s.volume_blocks = VOL_BLOCKS + 1;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "truncated");
    s.volume_blocks = 3;
    expect_refused(f, &s, NULL, ESXIMG_EFORMAT, "claims only 3 blocks");
    s = spec_default();
    s.block_size = 512;
    expect_refused(f, &s, NULL, ESXIMG_EUNSUPPORTED, "logical block size 512");
    /* not an ISO at all, and a file too short to hold block 16 */
    snprintf(f->path, sizeof f->path, "%s/zero.iso", f->dir);
    uint8_t *zeros = calloc(VOL_BLOCKS, BLK);
    assert_non_null(zeros);
    write_file(f->path, zeros, VOL_BLOCKS * BLK);
    struct esximg_hybrid *h = NULL;
    struct esximg_err err = {0};
    assert_int_equal(prepare(f, f->path, NULL, false, &h, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "not an ISO 9660 image"));
    write_file(f->path, zeros, 100);
    assert_int_equal(prepare(f, f->path, NULL, false, &h, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "past the end"));
    free(zeros);
    assert_null(h);
}

static size_t count_entries(const char *dir)
{
    char **paths = NULL;
    size_t n = tu_find_files(dir, "", &paths);
    tu_free_list(paths, n);
    return n;
}

static void isohybrid_write_copies_and_leaves_nothing_on_failure(void **state)
{
    struct fx *f = *state;
    struct spec s = spec_default();
    char in[1200], out[1300], outdir[1200];
    snprintf(outdir, sizeof outdir, "%s/out", f->dir);
    assert_int_equal(mkdir(outdir, 0755), 0);
    snprintf(in, sizeof in, "%s", image(f, "w.iso", &s));
    snprintf(out, sizeof out, "%s/w.img", outdir);
    struct esximg_hybrid_opts o = {0};
    struct esximg_hybrid_info info;
    struct esximg_err err = {0};
    assert_int_equal(esximg_hybrid_write(in, &o, out, NULL, NULL, &info, &err), 0);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(in, &a, &la);
    tu_read_file(out, &b, &lb);
    assert_int_equal(la, VOL_BLOCKS * BLK);     /* input unchanged */
    uint8_t *orig = build(&s);
    assert_memory_equal(a, orig, la);
    assert_int_equal(lb, MIB);
    assert_memory_equal(b + 32768, a + 32768, la - 32768);
    assert_int_equal(b[510], 0x55);
    free(a);
    free(b);
    free(orig);
    assert_int_equal(esximg_hybrid_write(in, &o, in, NULL, NULL, NULL, &err), ESXIMG_EINVAL);
    /* refused: nothing new in the output directory */
    s.banner = "ISOLINUX 3.80 2009-06-04";
    snprintf(in, sizeof in, "%s", image(f, "w2.iso", &s));
    snprintf(out, sizeof out, "%s/w2.img", outdir);
    assert_int_equal(esximg_hybrid_write(in, &o, out, NULL, NULL, NULL, &err),
                     ESXIMG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "syslinux 3.80"));
    assert_int_equal(count_entries(outdir), 1);
    assert_int_equal(access(out, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(isohybrid_mbr_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_gpt_primary_and_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_is_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_without_efi_is_type_0x17_mbr_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(isohybrid_no_gpt_keeps_efi_partition_and_clears_stale_gpt,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_lba_math_past_1024_cylinders, setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_efi_size_from_fat_or_count, setup, teardown),
        cmocka_unit_test(isohybrid_builtin_mbr_code),
        cmocka_unit_test_setup_teardown(isohybrid_accepts_381_and_later, setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_refuses_before_381_naming_the_release, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(isohybrid_template_replaces_builtin_code, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(isohybrid_refuses_hostile_images, setup, teardown),
        cmocka_unit_test_setup_teardown(isohybrid_write_copies_and_leaves_nothing_on_failure,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
