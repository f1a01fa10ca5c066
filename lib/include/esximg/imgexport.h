/* esximg/imgexport.h: an installer image's VIBs rebuilt as .vib files and written as an
 * offline bundle (VMware's layout, esximg_depot_write), so that an image customised by esximg
 * can be given to esxcli or vLCM.
 *
 * Each VIB is rebuilt from what the image holds: the descriptor is the database's
 * vibs/<file>.xml bytes verbatim, sig.pkcs7 the database's vibs/<file>.xml.sig bytes (empty
 * when there is none), and the payloads the ISO files the profile maps them to, in descriptor
 * order (the BIOS boot image with its boot info table undone, see esximg_export_vib).  Every rebuilt VIB is read back and verified (sizes and checksums). */
#ifndef ESXIMG_IMGEXPORT_H
#define ESXIMG_IMGEXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rebuilds one VIB of the image as .vib bytes (the caller frees *out).
 * ENOTFOUND (message naming the VIB and the payload) when the VIB cannot be rebuilt whole: no
 * descriptor, not in the profile, or a payload of a non-module type (boot_loader_efi, upgrade,
 * ...) the profile maps to no file on the ISO; the caller may skip it.  EFORMAT when a
 * boot-module payload (vgz, tgz, installer_vgz, vzstd, boot) has no file (a broken image) or
 * when the rebuilt VIB does not verify (a size or checksum differs from its descriptor).
 * A boot_iso_bios payload (isolinux.bin) the profile maps to no ISO file comes from the El
 * Torito BIOS no-emulation image; when the ISO's copy does not have the descriptor's
 * sha-256 (a boot info table was written into it), each known original form of its bytes
 * 8-63 is tried (esximg_bootinfo_forms) and the one with that sha-256 kept; none: ENOTFOUND,
 * "payload '...' (boot_iso_bios) cannot be recovered from '<ISO path>': <why>". */
int esximg_export_vib(struct esximg_image *img, const struct esximg_image_vib *v,
                      uint8_t **out, size_t *out_len, struct esximg_err *err);

struct esximg_export_opts {
    const char *vendor_name;    /* index.xml vendor; NULL: the first VIB's vendor */
    const char *vendor_code;    /* index.xml code; NULL: the first VIB's vendor */
    int64_t mtime;              /* zip member times and the metadata timestamp */
    const char *platform_version;   /* vendor-index.xml and bulletin platform; NULL: the
                                     * image's "<major>.<minor>.*" (e.g. "7.0.*"), or the
                                     * depot default when the image has no version */
    /* Called as the VIBs are rebuilt, then as the bundle is compressed: done out of total
     * in units of its own (may be NULL). */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
    /* Called with each step, for people: "vib '<vib-id>' rebuilt (<n> bytes)", then each
     * bundle member written (see esximg_depot_wopts); may be NULL. */
    void (*note)(const char *msg, void *arg);
    void *note_arg;
};

struct esximg_export_result {
    uint8_t *zip;               /* the bundle (esximg_image_export only) */
    size_t zip_len;
    size_t vib_count;           /* VIBs in the bundle */
    size_t skipped_count;       /* VIBs left out (see warnings) */
    struct esximg_warnings warnings;   /* one per VIB left out, naming it (line 0) */
};

/* Rebuilds every VIB of the image (esximg_export_vib; ENOTFOUND ones are left out with a
 * warning) and writes them as one bundle: the database's components (bulletins/) byte for
 * byte, one component of its own for a VIB none of them lists, and, when no VIB was left out,
 * its image profile and base image and add-on records (else a warning says they are not
 * written), so that `esximg build` can take the same image from it.  ENOTFOUND when no VIB is
 * left.  `o` may be NULL. */
int esximg_image_export(struct esximg_image *img, const struct esximg_export_opts *o,
                        struct esximg_export_result **out, struct esximg_err *err);
/* The same bundle, byte for byte, written to `path` (esximg_depot_write_file: through a
 * temporary file beside it, nothing left on failure) rather than returned (r->zip stays
 * NULL).  Each VIB, once rebuilt and verified, waits in a file of `work_dir` (an existing
 * folder the caller owns and removes; the files are removed before the return), so that
 * memory holds the VIB being rebuilt rather than every VIB and the zip. */
int esximg_image_export_file(struct esximg_image *img, const struct esximg_export_opts *o,
                             const char *path, const char *work_dir,
                             struct esximg_export_result **out, struct esximg_err *err);
void esximg_export_result_free(struct esximg_export_result *r);

#ifdef __cplusplus
}
#endif
#endif
