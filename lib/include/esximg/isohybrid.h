/* esximg/isohybrid.h: making an installer ISO boot from a USB stick as well as from a CD.
 *
 * An isohybrid image is an ISO 9660 image whose system area (its first 32 KiB, unused by ISO
 * 9660) holds a disk partition table, so that the same bytes boot when written raw to a disk.
 * The layout is that of syslinux's `isohybrid --uefi` (and of xorriso's `-isohybrid-mbr ...
 * -isohybrid-gpt-basdat`, which gives the same MBR):
 * - MBR (bytes 0..511): bytes 0..431 are the MBR boot code: esximg's own (lib/hybridmbr.S)
 *   unless a syslinux isohdpfx.bin is given as a template; 432..435 the 512-byte sector of
 *   ISOLINUX.BIN (its El Torito block * 4), 436..439 zero (the high half of that sector
 *   number), 440..443 the disk signature, 444..445 zero;
 *   partition 1: bootable, from sector 0 over the whole image padded to whole cylinders of
 *   64 heads * 32 sectors (1 MiB), type 0x17 without an EFI boot image, 0x00 with one (UEFI
 *   firmware skips type 0 entries, so the EFI partition inside it is not an overlap);
 *   partition 2 (when the El Torito catalog has a UEFI entry): type 0xEF over the EFI boot
 *   image, CHS fe ff ff; 0x55 0xAA.
 * - GPT (when there is an EFI boot image, unless no_gpt): header at sector 1, 128 entries at
 *   sectors 2..33, "ISOHybrid ISO" over the ISO volume from sector 0 and "ISOHybrid" over the
 *   EFI boot image (both basic data), and the backup entries and header in the last 33
 *   sectors; no protective 0xEE entry in the MBR, as isohybrid writes it.
 * - The image is padded with zeros to whole cylinders (one more MiB when the backup GPT would
 *   not fit behind the ISO volume).
 * The disk signature and the GUIDs are derived from the image's volume descriptor and boot
 * catalog (SHA-256), never from a clock or randomness: the same image gives the same bytes.
 * The EFI partition covers the catalog's sector count, or the FAT file system of the boot
 * image when that is larger (VMware's ISO writer records a count of 1).
 *
 * The MBR code loads the first 2048 bytes of ISOLINUX.BIN and enters it at its hybrid entry
 * point (just after the signature fb c0 78 70 at offset 0x40) by the hand-off that syslinux
 * has used from 3.81 to today (6.04): any ISOLINUX.BIN of 3.81 or later with the signature
 * boots, whatever its exact release, with the built-in code or with any isohdpfx.bin of 3.81
 * or later.  ISOLINUX.BIN without the signature, or whose banner names a release before 3.81
 * ("ISOLINUX 3.80 ..."), is refused, and so is a template whose isolinux.bin beside it names
 * one; then nothing is written. */
#ifndef ESXIMG_ISOHYBRID_H
#define ESXIMG_ISOHYBRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESXIMG_HYBRID_MBR_CODE 432u     /* bytes of MBR code taken from the template */
#define ESXIMG_HYBRID_BANNER_MAX 64u    /* a version banner, NUL included */

struct esximg_hybrid_opts {
    /* A syslinux isohdpfx.bin whose first 432 bytes replace the built-in MBR code (432 to 512
     * bytes long); refused when an isolinux.bin beside it (same directory or its parent)
     * names a release before 3.81.  NULL: the built-in code. */
    const char *mbr_template;
    /* Write the MBR only, even with an EFI boot image. */
    bool no_gpt;
};

/* What was (or will be) written, for people and tests. */
struct esximg_hybrid_info {
    char image_banner[ESXIMG_HYBRID_BANNER_MAX];    /* "" when the image has none */
    bool builtin_mbr;           /* the MBR code is esximg's own, not a template's */
    char template_banner[ESXIMG_HYBRID_BANNER_MAX]; /* of the isolinux.bin beside it, or "" */
    char template_path[1024];   /* "" with the built-in code */
    uint32_t disk_id;           /* MBR disk signature */
    uint64_t iso_bytes;         /* the image before: file size */
    uint64_t disk_bytes;        /* the image after padding */
    uint32_t isolinux_lba;      /* ISOLINUX.BIN, 2048-byte block */
    uint32_t part1_sectors;     /* MBR partition 1, from sector 0: whole cylinders */
    bool efi;                   /* partition 2 and, unless no_gpt, the GPT were written */
    uint32_t efi_start;         /* 512-byte sectors */
    uint32_t efi_sectors;
    bool gpt;
};

struct esximg_hybrid;           /* private: the template and what the image must match */

/* Checks that the ISO at iso_path can be made hybrid and loads the MBR code: an El Torito
 * catalog whose default entry is a 4-sector no-emulation ISOLINUX.BIN of 3.81 or later with
 * the hybrid signature (EUNSUPPORTED, naming its banner, otherwise), and the template when
 * one is given.  err->file names the image or the template. */
int esximg_hybrid_prepare(const char *iso_path, const struct esximg_hybrid_opts *opts,
                          struct esximg_hybrid **out, struct esximg_err *err);

/* Makes the ISO image open read-write at fd (the whole file) hybrid in place: MBR, GPT,
 * padding, backup GPT.  The image's ISOLINUX.BIN is checked again as prepare checked it (its
 * blocks may have moved).  info may be NULL.  On failure the file may be half written:
 * call it on a temporary output (esximg_outfile) only. */
int esximg_hybrid_apply(const struct esximg_hybrid *h, int fd, struct esximg_hybrid_info *info,
                        struct esximg_err *err);

/* The info of a prepared MBR before any image is written (banners, built-in or path). */
void esximg_hybrid_describe(const struct esximg_hybrid *h, struct esximg_hybrid_info *info);

void esximg_hybrid_free(struct esximg_hybrid *h);

/* `esximg usb`: copies in_path to out_path (temporary file and rename; nothing left on
 * failure; the input only read) and makes the copy hybrid.  progress may be NULL. */
int esximg_hybrid_write(const char *in_path, const struct esximg_hybrid_opts *opts,
                        const char *out_path,
                        void (*progress)(uint64_t done, uint64_t total, void *arg),
                        void *progress_arg, struct esximg_hybrid_info *info,
                        struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
