/* esximg/bootinfo.h: the El Torito boot info table of a no-emulation boot image
 * (mkisofs/xorriso -boot-info-table), as ISOLINUX.BIN carries it.
 *
 * At offset 8 of the boot image, 56 bytes: u32 LE block of the primary volume descriptor
 * (16), u32 LE block of the boot image itself, u32 LE length of the image in bytes, u32 LE
 * checksum (the 32-bit sum of the LE u32 words from offset 64 to the end, a last partial word
 * read as if padded with zeros), then 40 reserved bytes, which the ISO writers zero
 * (genisoimage, and xorriso 1.5.4 as measured).  esxi-formats.md 5.1.
 *
 * An ISO made with -boot-info-table therefore never holds the boot image as it was given:
 * bytes 8-63 are rewritten.  The original is recovered by putting back what a known build
 * left there (esximg_bootinfo_forms); which form a given original had is told only by its
 * checksum, so the caller tries each form against the size and sha-256 it expects. */
#ifndef ESXIMG_BOOTINFO_H
#define ESXIMG_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESXIMG_BOOTINFO_OFFSET 8u     /* first byte of the table */
#define ESXIMG_BOOTINFO_END 64u       /* first byte after it: the checksum starts here */
#define ESXIMG_BOOTINFO_PVD_BLOCK 16u /* where every ISO 9660 volume puts its PVD */

/* The four words of a table as read from an image. */
struct esximg_bootinfo {
    uint32_t pvd_block;
    uint32_t image_block;
    uint32_t length;
    uint32_t checksum;
};

/* The checksum a table over these image bytes holds.  EFORMAT when the image is shorter than
 * 64 bytes, ELIMIT above ESX_MAX_BOOT_INFO_BYTES (4 MiB; the length field is 32 bits and an
 * El Torito image ISOLINUX loads is far smaller). */
int esximg_bootinfo_checksum(const uint8_t *image, size_t len, uint32_t *out,
                             struct esximg_err *err);

/* The table words at offset 8 (no check of their meaning); errors as above. */
int esximg_bootinfo_read(const uint8_t *image, size_t len, struct esximg_bootinfo *out,
                         struct esximg_err *err);

/* Writes the table an ISO writer puts into an image stored at image_block of a volume whose
 * PVD is at pvd_block: the four words and 40 zero bytes, in place (the caller's copy).
 * Errors as above. */
int esximg_bootinfo_patch(uint8_t *image, size_t len, uint32_t pvd_block, uint32_t image_block,
                          struct esximg_err *err);

/* Whether bytes 8-63 hold a table for this content: a length equal to len and the checksum
 * of bytes 64.., whatever blocks it names.  False for an image the functions above refuse. */
bool esximg_bootinfo_matches(const uint8_t *image, size_t len);

/* A form in which a boot image leaves its build, before any ISO writer patched it.
 * The words are written as they are, except that fill_length / fill_checksum put the image's
 * own length / checksum in place of `length` / `checksum`. */
struct esximg_bootinfo_form {
    const char *name;       /* short, stable: "syslinux-checksumiso", "syslinux-asm" */
    const char *source;     /* where the form is known from */
    uint32_t pvd_block;
    uint32_t image_block;
    uint32_t length;
    uint32_t checksum;
    bool fill_length;
    bool fill_checksum;
    uint32_t reserved;      /* each of the ten reserved words */
};

/* The known forms, most common first (one static table); *count receives their number. */
const struct esximg_bootinfo_form *esximg_bootinfo_forms(size_t *count);

/* Rewrites bytes 8-63 of an image, in place, as `form` says its build left them.
 * Errors as esximg_bootinfo_checksum. */
int esximg_bootinfo_unpatch(uint8_t *image, size_t len, const struct esximg_bootinfo_form *form,
                            struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
