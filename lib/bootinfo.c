/* bootinfo.c: the El Torito boot info table (esximg/bootinfo.h): its checksum, writing one
 * into a boot image, telling whether an image holds one, and putting back what a known build
 * left in its place.
 *
 * Nothing here is parsed beyond fixed offsets 8..63 of a buffer the caller holds; every entry
 * point checks the length before touching them. */
#include <string.h>

#include "esx_private.h"
#include "esximg/bootinfo.h"

#define BI_PVD_OFF 8u
#define BI_FILE_OFF 12u
#define BI_LENGTH_OFF 16u
#define BI_CSUM_OFF 20u
#define BI_RESERVED_OFF 24u
#define BI_RESERVED_WORDS 10u

/* ISOLINUX's reserved pattern, as isolinux.asm assembles it */
#define BI_DEADBEEF 0xdeadbeefu

/* Each form is what a build of the boot image leaves at offset 8, before an ISO writer.
 * The two syslinux forms come from the same isolinux.asm table (bi_pvd dd 16, bi_file dd 0,
 * bi_length, bi_csum and ten reserved words all dd 0xdeadbeef, in syslinux 3.8x to 6.04):
 * syslinux's Makefile runs checksumiso.pl on isolinux.bin (already in the 3.0x Makefile, and
 * in 6.x core/), which writes the file's length and checksum over bi_length and bi_csum;
 * Debian's syslinux 6.04 isolinux.bin (38912 bytes) holds exactly that.  An isolinux.bin
 * assembled without that step keeps the source's words. */
static const struct esximg_bootinfo_form bootinfo_known_forms[] = {
    {
        .name = "syslinux-checksumiso",
        .source = "syslinux isolinux.asm table with length and checksum written by "
                  "core/checksumiso.pl (syslinux Makefile; Debian syslinux 6.04 isolinux.bin)",
        .pvd_block = ESXIMG_BOOTINFO_PVD_BLOCK, .image_block = 0,
        .fill_length = true, .fill_checksum = true, .reserved = BI_DEADBEEF,
    },
    {
        .name = "syslinux-asm",
        .source = "syslinux isolinux.asm table as assembled (bi_pvd 16, bi_file 0, then "
                  "0xdeadbeef twelve times)",
        .pvd_block = ESXIMG_BOOTINFO_PVD_BLOCK, .image_block = 0,
        .length = BI_DEADBEEF, .checksum = BI_DEADBEEF, .reserved = BI_DEADBEEF,
    },
};

const struct esximg_bootinfo_form *esximg_bootinfo_forms(size_t *count)
{
    *count = sizeof bootinfo_known_forms / sizeof bootinfo_known_forms[0];
    return bootinfo_known_forms;
}

/* The table lies inside the image and its length fits the 32-bit field. */
static int bootinfo_check_len(size_t len, struct esximg_err *err)
{
    if (len < ESXIMG_BOOTINFO_END)
        return esximg_err_set(err, ESXIMG_EFORMAT, "boot image of %zu bytes is shorter than "
                              "its %u-byte boot info table area", len, ESXIMG_BOOTINFO_END);
    if ((uint64_t)len > ESX_MAX_BOOT_INFO_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "boot image of %zu bytes is over the "
                              "boot info table limit (%llu bytes)", len,
                              (unsigned long long)ESX_MAX_BOOT_INFO_BYTES);
    return 0;
}

int esximg_bootinfo_checksum(const uint8_t *image, size_t len, uint32_t *out,
                             struct esximg_err *err)
{
    int rc = bootinfo_check_len(len, err);
    if (rc)
        return rc;
    uint32_t sum = 0;
    size_t off = ESXIMG_BOOTINFO_END;
    for (; len - off >= 4; off += 4)
        sum += esx_le32(image + off);
    if (off < len) {            /* a last partial word counts as padded with zeros */
        uint8_t last[4] = {0};
        memcpy(last, image + off, len - off);
        sum += esx_le32(last);
    }
    *out = sum;
    return 0;
}

int esximg_bootinfo_read(const uint8_t *image, size_t len, struct esximg_bootinfo *out,
                         struct esximg_err *err)
{
    int rc = bootinfo_check_len(len, err);
    if (rc)
        return rc;
    *out = (struct esximg_bootinfo){
        .pvd_block = esx_le32(image + BI_PVD_OFF),
        .image_block = esx_le32(image + BI_FILE_OFF),
        .length = esx_le32(image + BI_LENGTH_OFF),
        .checksum = esx_le32(image + BI_CSUM_OFF),
    };
    return 0;
}

/* Writes the four words and ten copies of the reserved word. */
static void bootinfo_put(uint8_t *image, uint32_t pvd, uint32_t file, uint32_t length,
                         uint32_t checksum, uint32_t reserved)
{
    esx_put_le32(image + BI_PVD_OFF, pvd);
    esx_put_le32(image + BI_FILE_OFF, file);
    esx_put_le32(image + BI_LENGTH_OFF, length);
    esx_put_le32(image + BI_CSUM_OFF, checksum);
    for (unsigned i = 0; i < BI_RESERVED_WORDS; i++)
        esx_put_le32(image + BI_RESERVED_OFF + 4 * i, reserved);
}

int esximg_bootinfo_patch(uint8_t *image, size_t len, uint32_t pvd_block, uint32_t image_block,
                          struct esximg_err *err)
{
    uint32_t sum = 0;
    int rc = esximg_bootinfo_checksum(image, len, &sum, err);
    if (rc)
        return rc;
    bootinfo_put(image, pvd_block, image_block, (uint32_t)len, sum, 0);
    return 0;
}

bool esximg_bootinfo_matches(const uint8_t *image, size_t len)
{
    struct esximg_bootinfo t;
    uint32_t sum = 0;
    if (esximg_bootinfo_read(image, len, &t, NULL) || esximg_bootinfo_checksum(image, len, &sum,
                                                                                NULL))
        return false;
    return t.length == len && t.checksum == sum;
}

int esximg_bootinfo_unpatch(uint8_t *image, size_t len, const struct esximg_bootinfo_form *form,
                            struct esximg_err *err)
{
    uint32_t sum = 0;
    int rc = esximg_bootinfo_checksum(image, len, &sum, err);
    if (rc)
        return rc;
    bootinfo_put(image, form->pvd_block, form->image_block,
                 form->fill_length ? (uint32_t)len : form->length,
                 form->fill_checksum ? sum : form->checksum, form->reserved);
    return 0;
}
