/* isohybrid.c: an MBR (and a GPT) in the system area of an installer ISO, so that the image
 * boots from a USB stick too (see esximg/isohybrid.h for the layout).
 *
 * The layout follows syslinux's isohybrid (utils/isohybrid.c, `--uefi`) field for field, so
 * that the output can be compared with it; xorriso writes the same MBR.  libisofs can write
 * such an MBR too, but only as part of a session it writes: a grown image keeps the input's
 * system area (isowrite.c copies blocks 16.. of libisofs' overwrite buffer only) and
 * `esximg usb` writes no session at all, so the system area is made here, after the ISO,
 * from the image's own volume descriptor and El Torito catalog, which are read byte by byte.
 *
 * The MBR code is esximg's own (hybridmbr.S) unless a syslinux isohdpfx.bin is given.  Either
 * enters ISOLINUX.BIN by the hand-off of syslinux 3.81 and later (esxi-formats.md 8.3), so the
 * check is that ISOLINUX.BIN carries the hybrid signature and, when its banner names a
 * release, that the release is 3.81 or later; the exact release does not matter. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "esximg/io.h"
#include "esximg/isohybrid.h"
#include "esx_limits.h"
#include "esx_private.h"
#include "hybridmbr.h"

#define HY_BLOCK 2048u
#define HY_SECTOR 512u
#define HY_HEADS 64u
#define HY_TRACK 32u                            /* sectors per head */
#define HY_CYL_BYTES ((uint64_t)HY_HEADS * HY_TRACK * HY_SECTOR)  /* 1 MiB */
#define HY_MAX_CYL_CHS 1024u                    /* CHS fields stop here */
#define HY_VD_FIRST 16u
#define HY_MAX_VDS 32u                          /* volume descriptors searched for El Torito */
#define HY_SIG_OFF 0x40u                        /* isolinux.bin's hybrid entry signature */
#define HY_BIT_OFF 8u                           /* boot info table in ISOLINUX.BIN */
#define HY_GPT_ENTRIES 128u
#define HY_GPT_ENTRY_BYTES 128u
#define HY_GPT_TABLE_SECTORS (HY_GPT_ENTRIES * HY_GPT_ENTRY_BYTES / HY_SECTOR)   /* 32 */
#define HY_GPT_BYTES (HY_SECTOR + HY_GPT_ENTRIES * HY_GPT_ENTRY_BYTES)            /* 17408 */
#define HY_GPT_HEADER_BYTES 92u
#define HY_COPY_CHUNK ((size_t)64 << 20)
#define HY_RW_CHUNK ((size_t)1 << 20)
#define HY_HANDOFF_MAJOR 3u                     /* the hand-off of syslinux 3.81 and later */
#define HY_HANDOFF_MINOR 81u

static const uint8_t hy_signature[4] = {0xfb, 0xc0, 0x78, 0x70};
/* EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 (basic data), as stored: first three fields LE */
static const uint8_t hy_basic_data[16] = {0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                          0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7};

_Static_assert(ESX_HYBRID_MBR_BYTES == ESXIMG_HYBRID_MBR_CODE, "built-in MBR code size");

struct esximg_hybrid {
    uint8_t code[ESXIMG_HYBRID_MBR_CODE];
    bool no_gpt;
    struct esximg_hybrid_info info;     /* banners, built-in or template path */
};

/* What the image says, read from its bytes. */
struct hy_facts {
    uint64_t file_bytes;
    uint64_t volume_bytes;
    uint32_t bios_lba;
    char banner[ESXIMG_HYBRID_BANNER_MAX];
    bool efi;
    uint32_t efi_lba;
    uint32_t efi_sectors;       /* 512-byte sectors the EFI partition covers */
    uint8_t seed[32];           /* SHA-256 of the primary volume descriptor and the catalog */
};

/* ---- reading the image ---- */

static int hy_pread(int fd, uint64_t file_bytes, uint64_t off, void *buf, size_t n,
                    const char *what, struct esximg_err *err)
{
    if (off > file_bytes || n > file_bytes - off)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s (bytes %" PRIu64 "+%zu) lies past the "
                              "end of the image (%" PRIu64 " bytes)", what, off, n, file_bytes);
    size_t got = 0;
    int e = esx_pread_full(fd, buf, n, off, &got);
    if (e)
        return esximg_err_sys(err, e, "cannot read %s", what);
    if (got < n)
        return esximg_err_set(err, ESXIMG_EIO, "%s: the image ended while it was read", what);
    return 0;
}

static uint16_t hy_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int hy_read_pvd(int fd, struct hy_facts *f, uint8_t pvd[HY_BLOCK],
                       struct esximg_err *err)
{
    int rc = hy_pread(fd, f->file_bytes, (uint64_t)HY_VD_FIRST * HY_BLOCK, pvd, HY_BLOCK,
                      "the primary volume descriptor", err);
    if (rc)
        return rc;
    if (pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "block 16 holds no primary volume "
                              "descriptor: not an ISO 9660 image");
    uint32_t blocks = esx_le32(pvd + 80);
    uint16_t block_size = hy_le16(pvd + 128);
    if (block_size != HY_BLOCK)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "logical block size %u: only 2048 is "
                              "supported", block_size);
    f->volume_bytes = (uint64_t)blocks * HY_BLOCK;
    if (blocks <= HY_VD_FIRST + 1)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the volume claims only %" PRIu32
                              " blocks", blocks);
    if (f->volume_bytes > f->file_bytes)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the volume claims %" PRIu64 " bytes but "
                              "the image holds %" PRIu64 ": truncated", f->volume_bytes,
                              f->file_bytes);
    return 0;
}

/* The El Torito boot record among the volume descriptors after the primary one. */
static int hy_find_catalog(int fd, const struct hy_facts *f, uint32_t *cat_lba,
                           struct esximg_err *err)
{
    static const char id[32] = "EL TORITO SPECIFICATION";
    uint8_t vd[HY_BLOCK];
    for (uint32_t b = HY_VD_FIRST + 1; b < HY_VD_FIRST + HY_MAX_VDS; b++) {
        if ((uint64_t)(b + 1) * HY_BLOCK > f->file_bytes)
            break;
        int rc = hy_pread(fd, f->file_bytes, (uint64_t)b * HY_BLOCK, vd, HY_BLOCK,
                          "a volume descriptor", err);
        if (rc)
            return rc;
        if (memcmp(vd + 1, "CD001", 5) != 0 || vd[0] == 255)
            break;
        if (vd[0] == 0 && memcmp(vd + 7, id, sizeof id) == 0) {
            *cat_lba = esx_le32(vd + 71);
            return 0;
        }
    }
    return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "the image has no El Torito boot record: "
                          "it does not boot from a CD either");
}

/* The default entry must be what isohybrid accepts: bootable, no emulation, load segment 0
 * or 0x7c0, 4 sectors (ISOLINUX.BIN loads the rest itself). */
static int hy_check_default(const uint8_t *e, struct hy_facts *f, struct esximg_err *err)
{
    uint16_t seg = hy_le16(e + 2), count = hy_le16(e + 6);
    if (e[0] != 0x88 || e[1] != 0 || (seg != 0 && seg != 0x7c0) || count != 4)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "the default El Torito entry is not "
                              "a 4-sector no-emulation ISOLINUX entry (indicator 0x%02x, "
                              "media %u, segment 0x%x, %u sectors)", e[0], e[1], seg, count);
    f->bios_lba = esx_le32(e + 8);
    if (f->bios_lba == 0 || f->bios_lba > UINT32_MAX / 4)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the default El Torito entry points at "
                              "block %" PRIu32, f->bios_lba);
    return 0;
}

/* The first bootable entry of the first UEFI (platform 0xef) section, as firmware takes it.
 * *count is its recorded 512-byte sector count. */
static void hy_find_efi(const uint8_t *cat, struct hy_facts *f, uint16_t *count)
{
    size_t at = 64;                             /* after validation and default entries */
    while (at + 32 <= HY_BLOCK) {
        const uint8_t *h = cat + at;
        if (h[0] != 0x90 && h[0] != 0x91)
            return;
        uint16_t n = hy_le16(h + 2);
        at += 32;
        for (uint16_t i = 0; i < n && at + 32 <= HY_BLOCK; i++) {
            const uint8_t *e = cat + at;
            at += 32;
            while (at + 32 <= HY_BLOCK && cat[at] == 0x44)
                at += 32;                       /* extension entries of e */
            if (h[1] == 0xef && e[0] == 0x88 && !f->efi) {
                f->efi = true;
                f->efi_lba = esx_le32(e + 8);
                *count = hy_le16(e + 6);
            }
        }
        if (h[0] == 0x91 || f->efi)
            return;
    }
}

static int hy_read_catalog(int fd, struct hy_facts *f, uint8_t cat[HY_BLOCK], uint16_t *count,
                           struct esximg_err *err)
{
    uint32_t lba = 0;
    int rc = hy_find_catalog(fd, f, &lba, err);
    if (rc || (rc = hy_pread(fd, f->file_bytes, (uint64_t)lba * HY_BLOCK, cat, HY_BLOCK,
                             "the El Torito boot catalog", err)))
        return rc;
    uint16_t sum = 0;
    for (size_t i = 0; i < 32; i += 2)
        sum = (uint16_t)(sum + hy_le16(cat + i));
    if (cat[0] != 1 || cat[30] != 0x55 || cat[31] != 0xaa || sum != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the El Torito boot catalog at block %"
                              PRIu32 " has no valid validation entry", lba);
    if ((rc = hy_check_default(cat + 32, f, err)))
        return rc;
    hy_find_efi(cat, f, count);
    return 0;
}

/* "ISOLINUX 6.04 20200816": the banner ISOLINUX prints, up to its NUL or line end, trailing
 * spaces removed; "" when there is none. */
static void hy_banner(const uint8_t *p, size_t n, char out[ESXIMG_HYBRID_BANNER_MAX])
{
    static const char word[] = "ISOLINUX ";
    const size_t wl = sizeof word - 1;
    out[0] = '\0';
    for (size_t i = 0; i + wl < n; i++) {
        if (memcmp(p + i, word, wl) != 0 || p[i + wl] < '0' || p[i + wl] > '9')
            continue;
        size_t len = 0;
        while (i + len < n && len < ESXIMG_HYBRID_BANNER_MAX - 1 && p[i + len] >= 0x20 &&
               p[i + len] < 0x7f)
            len++;
        while (len > 0 && p[i + len - 1] == ' ')
            len--;
        memcpy(out, p + i, len);
        out[len] = '\0';
        return;
    }
}

/* The release a banner names: "ISOLINUX 3.86 2010-04-01" is 3 and 86 (digits up to the
 * first non-digit: "4.07-pre2" is 4.07).  False when there is none. */
static bool hy_release(const char *banner, unsigned *major, unsigned *minor)
{
    const char *v = strchr(banner, ' ');
    unsigned parts[2] = {0, 0};
    if (!v)
        return false;
    v++;
    for (size_t i = 0; i < 2; i++) {
        size_t digits = 0;
        for (; *v >= '0' && *v <= '9' && digits < 4; v++, digits++)
            parts[i] = parts[i] * 10 + (unsigned)(*v - '0');
        if (digits == 0 || digits == 4 || (i == 0 && *v++ != '.'))
            return false;
    }
    *major = parts[0];
    *minor = parts[1];
    return true;
}

/* ISOLINUX.BIN (what) of a release before 3.81 pops another hand-off than the MBR pushes;
 * an ISOLINUX.BIN without a readable release is judged by its signature alone. */
static int hy_check_release(const char *banner, const char *what, struct esximg_err *err)
{
    unsigned major = 0, minor = 0;
    if (!hy_release(banner, &major, &minor) || major > HY_HANDOFF_MAJOR ||
        (major == HY_HANDOFF_MAJOR && minor >= HY_HANDOFF_MINOR))
        return 0;
    return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "%s is '%s' (syslinux %u.%02u): its "
                          "isohybrid hand-off predates syslinux %u.%u, the oldest a USB boot "
                          "supports", what, banner, major, minor, HY_HANDOFF_MAJOR,
                          HY_HANDOFF_MINOR);
}

/* ISOLINUX.BIN: the version banner and the hybrid signature.  Its length comes from the boot
 * info table when that table names the file's own block, else the 4 sectors loaded. */
static int hy_read_isolinux(int fd, struct hy_facts *f, struct esximg_err *err)
{
    uint64_t off = (uint64_t)f->bios_lba * HY_BLOCK;
    uint8_t head[HY_SIG_OFF + 4];
    int rc = hy_pread(fd, f->file_bytes, off, head, sizeof head, "ISOLINUX.BIN", err);
    if (rc)
        return rc;
    uint64_t len = esx_le32(head + HY_BIT_OFF + 8);
    if (esx_le32(head + HY_BIT_OFF) != HY_VD_FIRST ||
        esx_le32(head + HY_BIT_OFF + 4) != f->bios_lba || len < sizeof head)
        len = 4 * HY_SECTOR;
    if (len > ESX_MAX_HYBRID_LOADER_BYTES)
        len = ESX_MAX_HYBRID_LOADER_BYTES;
    if (len > f->file_bytes - off)
        len = f->file_bytes - off;
    uint8_t *bin = malloc((size_t)len);
    if (!bin)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!(rc = hy_pread(fd, f->file_bytes, off, bin, (size_t)len, "ISOLINUX.BIN", err)))
        hy_banner(bin, (size_t)len, f->banner);
    free(bin);
    if (rc)
        return rc;
    if (memcmp(head + HY_SIG_OFF, hy_signature, sizeof hy_signature) != 0)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "the BIOS boot image at block %"
                              PRIu32 " (%s%s%s) has no isolinux.bin hybrid signature at "
                              "offset 0x40 (not ISOLINUX 3.81 or later, or isolinux-debug.bin): "
                              "it cannot boot from a disk", f->bios_lba,
                              f->banner[0] ? "'" : "", f->banner[0] ? f->banner : "no "
                              "ISOLINUX version banner", f->banner[0] ? "'" : "");
    return hy_check_release(f->banner, "the image's ISOLINUX.BIN", err);
}

/* The sectors of the EFI partition: the catalog's count, or the size of the FAT file system
 * of the boot image when it is larger (firmware mounts the FAT by its own boot sector). */
static int hy_efi_extent(int fd, struct hy_facts *f, uint16_t count, struct esximg_err *err)
{
    uint64_t sectors = count;
    uint8_t bs[HY_SECTOR];
    uint64_t off = (uint64_t)f->efi_lba * HY_BLOCK;
    if (f->efi_lba == 0 || f->efi_lba > UINT32_MAX / 4)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the UEFI El Torito entry points at block "
                              "%" PRIu32, f->efi_lba);
    int rc = hy_pread(fd, f->file_bytes, off, bs, sizeof bs, "the EFI boot image", err);
    if (rc)
        return rc;
    uint16_t bps = hy_le16(bs + 11);
    uint64_t total = hy_le16(bs + 19) ? hy_le16(bs + 19) : esx_le32(bs + 32);
    bool fat = bs[510] == 0x55 && bs[511] == 0xaa && (bps == 512 || bps == 1024 ||
                                                      bps == 2048 || bps == 4096);
    if (fat && total * bps / HY_SECTOR > sectors)
        sectors = total * bps / HY_SECTOR;
    uint64_t start = (uint64_t)f->efi_lba * 4;
    if (sectors == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the EFI boot image at block %" PRIu32
                              " has no size", f->efi_lba);
    if (sectors > f->file_bytes / HY_SECTOR || start > f->file_bytes / HY_SECTOR - sectors)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the EFI boot image (sectors %" PRIu64 "+%"
                              PRIu64 ") lies past the end of the image", start, sectors);
    f->efi_sectors = (uint32_t)sectors;
    return 0;
}

static int hy_hash(const void *data, size_t len, uint8_t out[32], struct esximg_err *err)
{
    char hex[65];
    int rc = esx_digest_hex(ESX_SHA256, data, len, hex, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < 32; i++)
        out[i] = (uint8_t)(esx_hex_value(hex[2 * i]) << 4 | esx_hex_value(hex[2 * i + 1]));
    return 0;
}

static int hy_read_facts(int fd, struct hy_facts *f, struct esximg_err *err)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    if (fstat(fd, &st) != 0)
        return esximg_err_sys(err, errno, "cannot read the image's size");
    f->file_bytes = (uint64_t)st.st_size;
    uint8_t both[2 * HY_BLOCK];
    uint16_t count = 0;
    int rc = hy_read_pvd(fd, f, both, err);
    if (rc || (rc = hy_read_catalog(fd, f, both + HY_BLOCK, &count, err)) ||
        (rc = hy_read_isolinux(fd, f, err)) ||
        (f->efi && (rc = hy_efi_extent(fd, f, count, err))))
        return rc;
    return hy_hash(both, sizeof both, f->seed, err);
}

/* ---- the template ---- */

static int hy_load_code(const char *path, uint8_t code[ESXIMG_HYBRID_MBR_CODE],
                        struct esximg_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esx_file_read(path, HY_SECTOR + 1, &data, &len, err);
    if (rc)
        return rc;
    if (len < ESXIMG_HYBRID_MBR_CODE || len > HY_SECTOR) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "MBR template is %zu bytes: an isohybrid "
                            "MBR (isohdpfx.bin) has %u to %u", len, ESXIMG_HYBRID_MBR_CODE,
                            HY_SECTOR);
        esximg_err_file(err, path);
    } else {
        memcpy(code, data, ESXIMG_HYBRID_MBR_CODE);
    }
    free(data);
    return rc;
}

/* The banner of the isolinux.bin in dir, or of the one in its parent directory. */
static void hy_dir_banner(const char *dir, char out[ESXIMG_HYBRID_BANNER_MAX])
{
    out[0] = '\0';
    char *parent = esx_strdup(dir);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    if (slash && slash != parent)
        *slash = '\0';
    const char *where[2] = {dir, slash && slash != parent ? parent : NULL};
    for (size_t i = 0; i < 2 && !out[0]; i++) {
        char *path = where[i] ? esx_path_join(where[i], "isolinux.bin") : NULL;
        uint8_t *data = NULL;
        size_t len = 0;
        if (path && esx_file_read(path, ESX_MAX_HYBRID_LOADER_BYTES, &data, &len, NULL) == 0 &&
            len >= HY_SIG_OFF + 4 && memcmp(data + HY_SIG_OFF, hy_signature, 4) == 0)
            hy_banner(data, len, out);
        free(data);
        free(path);
    }
    free(parent);
}

/* A syslinux isohdpfx.bin: its code, and the release of the isolinux.bin beside it (same
 * directory or its parent, as syslinux packages install them) when there is one. */
static int hy_use_template(struct esximg_hybrid *h, const char *path, struct esximg_err *err)
{
    snprintf(h->info.template_path, sizeof h->info.template_path, "%s", path);
    int rc = hy_load_code(path, h->code, err);
    if (rc)
        return rc;
    char *dir = esx_strdup(path);
    if (!dir)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    hy_dir_banner(slash ? dir : ".", h->info.template_banner);
    free(dir);
    if ((rc = hy_check_release(h->info.template_banner, "the isolinux.bin beside the MBR "
                               "template", err)))
        esximg_err_file(err, path);
    return rc;
}

int esximg_hybrid_prepare(const char *iso_path, const struct esximg_hybrid_opts *opts,
                          struct esximg_hybrid **out, struct esximg_err *err)
{
    if (!iso_path || !out)
        return esximg_err_set(err, ESXIMG_EINVAL, "no image given");
    struct esximg_hybrid *h = calloc(1, sizeof *h);
    if (!h)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    struct hy_facts f;
    int rc = 0;
    int fd = open(iso_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        rc = esximg_err_sys(err, errno, "cannot open");
    else
        rc = hy_read_facts(fd, &f, err);
    if (fd >= 0)
        close(fd);
    if (rc) {
        esximg_err_file(err, iso_path);
        goto out;
    }
    h->no_gpt = opts && opts->no_gpt;
    snprintf(h->info.image_banner, sizeof h->info.image_banner, "%s", f.banner);
    if (opts && opts->mbr_template)
        rc = hy_use_template(h, opts->mbr_template, err);
    else {
        memcpy(h->code, esx_hybrid_mbr, sizeof h->code);
        h->info.builtin_mbr = true;
    }
out:
    if (rc) {
        free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void esximg_hybrid_describe(const struct esximg_hybrid *h, struct esximg_hybrid_info *info)
{
    if (h && info)
        *info = h->info;
}

void esximg_hybrid_free(struct esximg_hybrid *h)
{
    free(h);
}

/* ---- the layout ---- */

/* Padding, cylinders and the GPT decision of isohybrid, on the facts read. */
static int hy_layout(const struct esximg_hybrid *h, const struct hy_facts *f,
                     struct esximg_hybrid_info *in, uint32_t *cylinders, struct esximg_err *err)
{
    uint64_t frac = f->file_bytes % HY_CYL_BYTES;
    uint64_t padding = frac ? HY_CYL_BYTES - frac : 0;
    uint64_t c = (f->file_bytes + padding) / HY_CYL_BYTES;
    if (c == 0 || c > UINT32_MAX / (HY_HEADS * HY_TRACK) - 1)
        return esximg_err_set(err, ESXIMG_ELIMIT, "an image of %" PRIu64 " bytes does not fit "
                              "an MBR partition (2 TiB at most)", f->file_bytes);
    in->gpt = f->efi && !h->no_gpt;
    /* the backup GPT must lie past the ISO volume: one more MiB when it would not */
    if (in->gpt && f->file_bytes - f->volume_bytes < HY_GPT_BYTES && padding < HY_GPT_BYTES)
        padding += HY_CYL_BYTES;
    *cylinders = (uint32_t)c;
    in->iso_bytes = f->file_bytes;
    in->disk_bytes = f->file_bytes + padding;
    in->isolinux_lba = f->bios_lba;
    in->part1_sectors = (uint32_t)c * HY_HEADS * HY_TRACK;
    in->efi = f->efi;
    in->efi_start = f->efi ? f->efi_lba * 4 : 0;
    in->efi_sectors = f->efi ? f->efi_sectors : 0;
    in->disk_id = esx_le32(f->seed);
    if (in->disk_id == 0)
        in->disk_id = 1;
    return 0;
}

static void hy_mbr(const struct esximg_hybrid *h, const struct esximg_hybrid_info *in,
                   uint32_t c, uint8_t mbr[HY_SECTOR])
{
    memset(mbr, 0, HY_SECTOR);
    memcpy(mbr, h->code, ESXIMG_HYBRID_MBR_CODE);
    esx_put_le32(mbr + 432, in->isolinux_lba * 4);
    esx_put_le32(mbr + 440, in->disk_id);
    uint32_t cc = c > HY_MAX_CYL_CHS ? HY_MAX_CYL_CHS : c;
    uint8_t *p = mbr + 446;
    p[0] = 0x80;                                /* bootable, CHS 0/0/1 */
    p[2] = 1;
    p[4] = in->efi ? 0x00 : 0x17;
    p[5] = HY_HEADS - 1;
    p[6] = (uint8_t)(HY_TRACK + (((cc - 1) & 0x300) >> 2));
    p[7] = (uint8_t)((cc - 1) & 0xff);
    esx_put_le32(p + 12, in->part1_sectors);
    if (in->efi) {
        static const uint8_t chs[8] = {0x00, 0xfe, 0xff, 0xff, 0xef, 0xfe, 0xff, 0xff};
        p = mbr + 446 + 16;
        memcpy(p, chs, sizeof chs);
        esx_put_le32(p + 8, in->efi_start);
        esx_put_le32(p + 12, in->efi_sectors);
    }
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
}

static int hy_guid(const struct hy_facts *f, const char *label, uint8_t out[16],
                   struct esximg_err *err)
{
    uint8_t buf[32 + 8] = {0}, md[32];
    memcpy(buf, f->seed, 32);
    memcpy(buf + 32, label, strnlen(label, 8));
    int rc = hy_hash(buf, sizeof buf, md, err);
    if (rc)
        return rc;
    memcpy(out, md, 16);
    out[7] = (uint8_t)((out[7] & 0x0f) | 0x40);   /* version 4 (time_hi stored LE) */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    return 0;
}

static void hy_put_le64(uint8_t *p, uint64_t v)
{
    esx_put_le32(p, (uint32_t)v);
    esx_put_le32(p + 4, (uint32_t)(v >> 32));
}

static void hy_gpt_entry(uint8_t *e, const uint8_t guid[16], uint64_t first, uint64_t last,
                         const char *name)
{
    memcpy(e, hy_basic_data, 16);
    memcpy(e + 16, guid, 16);
    hy_put_le64(e + 32, first);
    hy_put_le64(e + 40, last);
    for (size_t i = 0; name[i] && i < 36; i++)
        e[56 + 2 * i] = (uint8_t)name[i];        /* UTF-16LE */
}

/* The 128 entries and the header of one GPT copy (isohybrid's initialise_gpt): entries then
 * header for the backup, header then entries for the primary. */
static int hy_gpt(const struct hy_facts *f, const struct esximg_hybrid_info *in, bool primary,
                  uint8_t buf[HY_GPT_BYTES], struct esximg_err *err)
{
    memset(buf, 0, HY_GPT_BYTES);
    uint8_t *hdr = primary ? buf : buf + HY_GPT_BYTES - HY_SECTOR;
    uint8_t *ent = primary ? buf + HY_SECTOR : buf;
    uint8_t disk[16], iso[16], efi[16];
    int rc = hy_guid(f, "disk", disk, err);
    if (rc || (rc = hy_guid(f, "iso", iso, err)) || (rc = hy_guid(f, "efi", efi, err)))
        return rc;
    hy_gpt_entry(ent, iso, 0, f->volume_bytes / HY_SECTOR - 1, "ISOHybrid ISO");
    hy_gpt_entry(ent + HY_GPT_ENTRY_BYTES, efi, in->efi_start,
                 (uint64_t)in->efi_start + in->efi_sectors - 1, "ISOHybrid");
    uint64_t last = in->disk_bytes / HY_SECTOR - 1;
    uint64_t reserved = HY_GPT_TABLE_SECTORS + 2;
    memcpy(hdr, "EFI PART", 8);
    esx_put_le32(hdr + 8, 0x00010000);
    esx_put_le32(hdr + 12, HY_GPT_HEADER_BYTES);
    hy_put_le64(hdr + 24, primary ? 1 : last);
    hy_put_le64(hdr + 32, primary ? last : 1);
    hy_put_le64(hdr + 40, reserved);
    hy_put_le64(hdr + 48, in->disk_bytes / HY_SECTOR - reserved);
    memcpy(hdr + 56, disk, 16);
    hy_put_le64(hdr + 72, primary ? 2 : last - HY_GPT_TABLE_SECTORS);
    esx_put_le32(hdr + 80, HY_GPT_ENTRIES);
    esx_put_le32(hdr + 84, HY_GPT_ENTRY_BYTES);
    esx_put_le32(hdr + 88, (uint32_t)crc32(0, ent, HY_GPT_ENTRIES * HY_GPT_ENTRY_BYTES));
    esx_put_le32(hdr + 16, (uint32_t)crc32(0, hdr, HY_GPT_HEADER_BYTES));
    return 0;
}

/* ---- writing ---- */

static int hy_pwrite(int fd, const void *buf, size_t n, uint64_t off, struct esximg_err *err)
{
    int e = esx_pwrite_full(fd, buf, n, off);
    return e ? esximg_err_sys(err, e, "cannot write the output") : 0;
}

/* A GPT left in the system area by an earlier run would describe another size: gone. */
static int hy_clear_stale_gpt(int fd, const struct hy_facts *f, struct esximg_err *err)
{
    uint8_t sig[8];
    int rc = hy_pread(fd, f->file_bytes, HY_SECTOR, sig, sizeof sig, "the system area", err);
    if (rc || memcmp(sig, "EFI PART", 8) != 0)
        return rc;
    uint8_t *zeros = calloc(1, HY_GPT_BYTES);
    if (!zeros)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    rc = hy_pwrite(fd, zeros, HY_GPT_BYTES, HY_SECTOR, err);
    free(zeros);
    return rc;
}

int esximg_hybrid_apply(const struct esximg_hybrid *h, int fd, struct esximg_hybrid_info *info,
                        struct esximg_err *err)
{
    if (!h || fd < 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "no template or image");
    struct hy_facts f;
    struct esximg_hybrid_info in = h->info;
    uint32_t c = 0;
    uint8_t mbr[HY_SECTOR];
    uint8_t *gpt = NULL;
    int rc = hy_read_facts(fd, &f, err);
    if (rc || (rc = hy_layout(h, &f, &in, &c, err)))
        goto out;
    hy_mbr(h, &in, c, mbr);
    if ((rc = hy_pwrite(fd, mbr, sizeof mbr, 0, err)))
        goto out;
    if (!in.gpt) {
        if ((rc = hy_clear_stale_gpt(fd, &f, err)))
            goto out;
    } else if (!(gpt = malloc(HY_GPT_BYTES))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    } else if ((rc = hy_gpt(&f, &in, true, gpt, err)) ||
               (rc = hy_pwrite(fd, gpt, HY_GPT_BYTES, HY_SECTOR, err))) {
        goto out;
    }
    if (in.disk_bytes > f.file_bytes && ftruncate(fd, (off_t)in.disk_bytes) != 0) {
        rc = esximg_err_sys(err, errno, "cannot pad the output to %" PRIu64 " bytes",
                            in.disk_bytes);
        goto out;
    }
    if (in.gpt && ((rc = hy_gpt(&f, &in, false, gpt, err)) ||
                   (rc = hy_pwrite(fd, gpt, HY_GPT_BYTES, in.disk_bytes - HY_GPT_BYTES, err))))
        goto out;
    if (info)
        *info = in;
out:
    free(gpt);
    return rc;
}

/* ---- esximg usb: a hybrid copy ---- */

static int hy_copy(int in_fd, int out_fd, uint64_t size,
                   void (*progress)(uint64_t, uint64_t, void *), void *arg,
                   struct esximg_err *err)
{
    loff_t in_off = 0, out_off = 0;
    bool kernel = true;
    uint8_t *buf = NULL;
    int rc = 0;
    while ((uint64_t)in_off < size) {
        uint64_t left = size - (uint64_t)in_off;
        size_t want = left < HY_COPY_CHUNK ? (size_t)left : HY_COPY_CHUNK;
        ssize_t n;
        if (kernel) {
            n = copy_file_range(in_fd, &in_off, out_fd, &out_off, want, 0);
            if (n < 0 && errno != EINTR && errno != EIO && errno != ENOSPC) {
                kernel = false;                 /* not on these file systems: copy ourselves */
                continue;
            }
        } else {
            if (!buf && !(buf = malloc(HY_RW_CHUNK))) {
                rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
                break;
            }
            size_t got = 0;
            int e = esx_pread_full(in_fd, buf, want < HY_RW_CHUNK ? want : HY_RW_CHUNK,
                                   (uint64_t)in_off, &got);
            if (e) {
                rc = esximg_err_sys(err, e, "cannot copy the image");
                break;
            }
            if (got > 0 && (rc = hy_pwrite(out_fd, buf, got, (uint64_t)out_off, err)))
                break;
            n = (ssize_t)got;
            in_off += n;
            out_off += n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? esximg_err_sys(err, errno, "cannot copy the image") :
                 esximg_err_set(err, ESXIMG_EIO, "the image ended after %" PRIu64 " of %"
                                PRIu64 " bytes while it was copied", (uint64_t)in_off, size);
            break;
        }
        if (progress)
            progress((uint64_t)in_off, size, arg);
    }
    free(buf);
    return rc;
}

int esximg_hybrid_write(const char *in_path, const struct esximg_hybrid_opts *opts,
                        const char *out_path,
                        void (*progress)(uint64_t done, uint64_t total, void *arg),
                        void *progress_arg, struct esximg_hybrid_info *info,
                        struct esximg_err *err)
{
    struct esximg_err e = {0};
    struct esximg_hybrid *h = NULL;
    struct esximg_outfile *of = NULL;
    struct esximg_hybrid_info in;
    int fd = -1, rc = 0;
    struct stat st, ost;
    if (!in_path || !out_path) {
        rc = esximg_err_set(&e, ESXIMG_EINVAL, "no input or output");
        goto out;
    }
    if ((rc = esximg_hybrid_prepare(in_path, opts, &h, &e)))
        goto out;
    if ((fd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
        rc = esximg_err_sys(&e, errno, "cannot open");
        goto out;
    }
    if (stat(out_path, &ost) == 0 && ost.st_dev == st.st_dev && ost.st_ino == st.st_ino) {
        rc = esximg_err_set(&e, ESXIMG_EINVAL, "the output '%s' is the input", out_path);
        goto out;
    }
    if ((rc = esximg_outfile_open(out_path, 0644, &of, &e)))
        goto out;
    int out_fd = esximg_outfile_fd(of);
    if ((rc = hy_copy(fd, out_fd, (uint64_t)st.st_size, progress, progress_arg, &e)) ||
        (rc = esximg_hybrid_apply(h, out_fd, &in, &e))) {
        esximg_err_file(&e, out_path);
        goto out;
    }
    rc = esximg_outfile_commit(of, &e);
    of = NULL;
    if (!rc && info)
        *info = in;
out:
    if (rc && e.file[0] == '\0')
        esximg_err_file(&e, in_path);
    esximg_outfile_abort(of);
    if (fd >= 0)
        close(fd);
    esximg_hybrid_free(h);
    if (rc && err)
        *err = e;
    return rc;
}
